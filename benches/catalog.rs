//! `cargo bench --bench catalog -- [--baseline REV] [--runs N]`: how long `init`
//! and `check` take on big catalogs, beside the same commands of retentiond as it
//! was before the catalog was read in bulk (`--baseline`, a git revision, built
//! once into target/bench-baseline/).
//!
//! Schemas: on MariaDB, Bagisto's and Sylius's together (214 real tables, foreign
//! keys and all); on both servers, 210 tables generated in PrestaShop's manner
//! (`ps_` prefix, `id_<table>` keys, no foreign keys), 40 rows each. Target: ≤ 2 s
//! for each command on a 200-table schema.

#[path = "../tests/it/servers.rs"]
#[allow(dead_code)]
mod servers;

#[path = "../tests/it/shop_schemas/load.rs"]
#[allow(dead_code, unused_imports)]
mod load;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use sqlx::{AnyConnection, AssertSqlSafe, Connection};

/// The last commit that read the catalog table by table, with sqlx 0.9.0.
const BASELINE: &str = "0a93cb5554f21bb83b5c6e168bef6a65109c61e7";

/// A schema: its name, its backend, and its statements.
type Case = (&'static str, Backend, fn(Backend) -> Vec<String>);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Backend {
    Postgres,
    MariaDb,
}

struct Args {
    baseline: String,
    runs: usize,
}

fn args() -> Args {
    let mut a = Args {
        baseline: BASELINE.into(),
        runs: 3,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--baseline" => a.baseline = it.next().expect("--baseline REV"),
            "--runs" => a.runs = it.next().expect("--runs N").parse().expect("a number"),
            // cargo bench passes --bench.
            _ => {}
        }
    }
    a
}

/// The baseline's binary, built once from `rev` (git archive into target/).
fn baseline_binary(rev: &str) -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root
        .join("target/bench-baseline")
        .join(&rev[..12.min(rev.len())]);
    let bin = dir.join("target/release/retentiond");
    if bin.exists() {
        return Some(bin);
    }
    std::fs::create_dir_all(&dir).ok()?;
    let archive = Command::new("git")
        .current_dir(root)
        .args(["archive", "--format=tar", rev])
        .output()
        .ok()?;
    if !archive.status.success() {
        eprintln!("baseline {rev}: git archive failed; only today's figures follow");
        return None;
    }
    let mut tar = Command::new("tar")
        .current_dir(&dir)
        .args(["-x", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    std::io::Write::write_all(tar.stdin.as_mut()?, &archive.stdout).ok()?;
    tar.wait().ok()?;
    eprintln!("building the baseline {rev} (once)...");
    let built = Command::new(env!("CARGO"))
        .current_dir(&dir)
        .args(["build", "--release", "--quiet", "--bin", "retentiond"])
        .status()
        .ok()?;
    (built.success() && bin.exists()).then_some(bin)
}

async fn new_database(backend: Backend) -> String {
    sqlx::any::install_default_drivers();
    match backend {
        Backend::Postgres => servers::new_postgres_database(servers::postgres().port).await,
        Backend::MariaDb => servers::new_mariadb_database().await,
    }
}

async fn run(url: &str, statements: &[String]) {
    let mut c = AnyConnection::connect(url).await.unwrap();
    for s in statements {
        sqlx::raw_sql(AssertSqlSafe(s.clone()))
            .execute(&mut c)
            .await
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }
    c.close().await.unwrap();
}

/// 210 tables named and keyed as PrestaShop's are, with customers, orders and
/// their details, each with an index and 40 rows.
fn prestashop_like(backend: Backend) -> Vec<String> {
    let (ts, text) = match backend {
        Backend::MariaDb => ("DATETIME", "VARCHAR(255)"),
        Backend::Postgres => ("TIMESTAMP", "VARCHAR(255)"),
    };
    let mut out = Vec::new();
    for i in 0..210 {
        let name = match i {
            0 => "customer".to_string(),
            1 => "orders".to_string(),
            2 => "order_detail".to_string(),
            _ => format!("entity_{i:03}"),
        };
        let key = match i {
            1 => "id_order".to_string(),
            _ => format!("id_{name}"),
        };
        // Every table refers to a customer and an order, but those two to each
        // other only.
        let links: Vec<&str> = ["id_customer", "id_order"]
            .into_iter()
            .filter(|l| *l != key)
            .collect();
        let link_defs: String = links.iter().map(|l| format!("{l} INTEGER, ")).collect();
        out.push(format!(
            "CREATE TABLE ps_{name} ({key} INTEGER PRIMARY KEY, {link_defs}\
             email {text}, firstname {text}, note {text}, active SMALLINT, amount DECIMAL(20,6), date_add {ts}, date_upd {ts})"
        ));
        out.push(format!(
            "CREATE INDEX ps_{name}_date ON ps_{name} (date_add)"
        ));
        let rows: Vec<String> = (1..=40)
            .map(|n| {
                let link_values: String = links.iter().map(|_| format!("{n}, ")).collect();
                format!(
                    "({n}, {link_values}'user{n}@example.com', 'Ann', 'note {n}', 1, 19.99, '{}-03-01 10:00:00', '2026-03-01 10:00:00')",
                    2014 + n % 12
                )
            })
            .collect();
        let link_cols: String = links.iter().map(|l| format!("{l}, ")).collect();
        let cols =
            format!("{key}, {link_cols}email, firstname, note, active, amount, date_add, date_upd");
        out.push(format!(
            "INSERT INTO ps_{name} ({cols}) VALUES {}",
            rows.join(", ")
        ));
    }
    out
}

fn real_mariadb() -> Vec<String> {
    let dir = load::schemas_dir();
    let bagisto = std::fs::read_to_string(dir.join("bagisto/bagisto.sql")).unwrap();
    let mut out: Vec<String> = load::sql_dump(&bagisto);
    out.extend(load::doctrine_migrations(&dir.join("sylius/mysql")));
    out
}

/// Median seconds of `runs` runs of `init`, then of `check` on what it drafted.
fn time(bin: &Path, url: &str, dir: &Path, runs: usize) -> Option<(f64, f64)> {
    let draft = dir.join(format!("draft-{}.toml", bin.to_string_lossy().len()));
    let mut init = Vec::new();
    let mut check = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let out = Command::new(bin)
            .args(["init", "--url", url, "-o"])
            .arg(&draft)
            .arg("--force")
            .output()
            .ok()?;
        init.push(started.elapsed().as_secs_f64());
        if !out.status.success() {
            eprintln!(
                "{}: init: {}",
                bin.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            return None;
        }
        let started = Instant::now();
        let out = Command::new(bin)
            .arg("-c")
            .arg(&draft)
            .arg("check")
            .output()
            .ok()?;
        check.push(started.elapsed().as_secs_f64());
        if out.status.code() == Some(1) {
            eprintln!(
                "{}: check: {}",
                bin.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            return None;
        }
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    Some((median(init), median(check)))
}

#[tokio::main]
async fn main() {
    let a = args();
    let today = PathBuf::from(env!("CARGO_BIN_EXE_retentiond"));
    let baseline = baseline_binary(&a.baseline);
    let dir = tempfile::tempdir().unwrap();
    let cases: [Case; 3] = [
        ("Bagisto + Sylius, 214 tables", Backend::MariaDb, |_| {
            real_mariadb()
        }),
        (
            "PrestaShop-like, 210 tables",
            Backend::MariaDb,
            prestashop_like,
        ),
        (
            "PrestaShop-like, 210 tables",
            Backend::Postgres,
            prestashop_like,
        ),
    ];
    println!(
        "{:<30} {:<9} {:>14} {:>14} {:>14} {:>14}",
        "schema", "backend", "init before s", "init today s", "check before s", "check today s"
    );
    for (name, backend, schema) in cases {
        let url = new_database(backend).await;
        run(&url, &schema(backend)).await;
        let before = baseline
            .as_deref()
            .and_then(|b| time(b, &url, dir.path(), a.runs));
        let now = time(&today, &url, dir.path(), a.runs).expect("today's init and check run");
        let show = |v: Option<f64>| v.map_or("-".to_string(), |s| format!("{s:.2}"));
        println!(
            "{:<30} {:<9} {:>14} {:>14.2} {:>14} {:>14.2}",
            name,
            if backend == Backend::MariaDb {
                "mariadb"
            } else {
                "postgres"
            },
            show(before.map(|b| b.0)),
            now.0,
            show(before.map(|b| b.1)),
            now.1
        );
    }
    println!(
        "target: init and check <= 2 s each on a 200-table schema (medians of {} runs)",
        a.runs
    );
}
