//! `cargo bench --bench requests -- [--rows N] [--ledger N] [--backend B]`: what
//! privacy requests cost.
//!
//! Export: the peak memory of an access export (`retentiond export --subject`) of one
//! subject with N rows (200,000 by default: 190,000 orders and 10,000 cascade items),
//! as JSON and as CSV, beside the baseline: the same export of a subject with 100
//! rows. Memory that stays flat shows as the same peak RSS for both. Target: ≤ 64 MiB.
//!
//! Re-apply: `retentiond erase --reapply` with an erasure ledger of N entries
//! (100,000 by default) against three erasing policies on tables of 300,000 rows,
//! beside the baseline of an empty ledger: when nothing is back, and when one
//! subject's rows are back (a restore).

#[path = "common/rss.rs"]
mod rss;

#[path = "requests/reapply.rs"]
mod reapply;

#[path = "../tests/it/servers.rs"]
#[allow(dead_code)]
mod servers;

use std::process::Command;
use std::time::{Duration, Instant};

use sqlx::{AnyConnection, AssertSqlSafe, Connection};

const TARGET_KIB: u64 = 64 * 1024;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
    MariaDb,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::MariaDb => "mariadb",
        }
    }
}

struct Shop {
    url: String,
    dir: tempfile::TempDir,
}

/// A new, empty database; on SQLite a file in a directory of its own.
async fn database_url(backend: Backend) -> String {
    sqlx::any::install_default_drivers();
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap().keep();
            format!("sqlite://{}", dir.join("shop.db").display())
        }
        Backend::Postgres => servers::new_postgres_database(servers::postgres().port).await,
        Backend::MariaDb => servers::new_mariadb_database().await,
    }
}

async fn shop(backend: Backend, rows: u64) -> Shop {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(backend).await;
    let open = if backend == Backend::Sqlite {
        format!("{url}?mode=rwc")
    } else {
        url.clone()
    };
    let mut c = AnyConnection::connect(&open).await.unwrap();
    // Subject 1 has `orders` orders and one item per ten; subject 2 the baseline's 100.
    let orders = rows * 19 / 20;
    let items = rows - orders;
    let mut sql = vec![
        "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id INTEGER NOT NULL, placed_at VARCHAR(40) NOT NULL, total NUMERIC(10,2), address VARCHAR(200))".to_string(),
        "CREATE INDEX orders_customer ON orders (customer_id)".into(),
        "CREATE TABLE order_items (id BIGINT PRIMARY KEY, order_id BIGINT NOT NULL, sku VARCHAR(40), qty INTEGER)".into(),
        "CREATE INDEX items_order ON order_items (order_id)".into(),
    ];
    if backend == Backend::MariaDb {
        sql.push("SET SESSION max_recursive_iterations = 100000000".into());
    }
    let series = |n: u64| {
        format!("WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {n})")
    };
    sql.push(format!(
        "INSERT INTO orders (id, customer_id, placed_at, total, address) {} SELECT n, CASE WHEN n <= {orders} THEN 1 ELSE 2 END, '2024-03-01T10:00:00Z', 19.99, 'Bahnhofstrasse 1, 8001 Zurich, Switzerland, second floor, ring twice' FROM s",
        series(orders + 95)
    ));
    sql.push(format!(
        "INSERT INTO order_items (id, order_id, sku, qty) {} SELECT n, CASE WHEN n <= {items} THEN n * 10 ELSE {orders} + n - {items} END, 'SKU-0001-XL', 2 FROM s",
        series(items + 5)
    ));
    for s in sql {
        sqlx::raw_sql(AssertSqlSafe(s))
            .execute(&mut c)
            .await
            .unwrap();
    }
    c.close().await.unwrap();
    let config = format!(
        "[database]\nurl = \"{url}\"\n\n[[policy]]\nname = \"orders\"\ntable = \"orders\"\ntimestamp = \"placed_at\"\nkeep = \"10 years\"\nbasis = \"legal_obligation\"\nsubject = \"customer_id\"\naction = \"delete\"\ncascade = [{{ table = \"order_items\", foreign_key = \"order_id\" }}]\n"
    );
    std::fs::write(dir.path().join("retention.toml"), config).unwrap();
    Shop { url, dir }
}

struct Run {
    rows: u64,
    seconds: f64,
    peak_kib: u64,
    bytes: u64,
}

fn export(shop: &Shop, subject: &str, csv: bool, tag: &str) -> Run {
    let out = shop.dir.path().join(format!("export-{tag}"));
    let config = shop.dir.path().join("retention.toml");
    let mut args = vec![
        "-c",
        config.to_str().unwrap(),
        "export",
        "--subject",
        subject,
    ];
    if csv {
        args.extend(["--format", "csv"]);
    }
    args.extend(["-o", out.to_str().unwrap()]);
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_retentiond"))
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    while child.try_wait().unwrap().is_none() {
        peak = peak.max(rss::peak_rss(&status).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(10));
    }
    let seconds = started.elapsed().as_secs_f64();
    let done = child.wait_with_output().unwrap();
    assert!(done.status.success(), "export failed on {}", shop.url);
    let text = String::from_utf8_lossy(&done.stdout);
    let rows = text
        .split("answered: ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Run {
        rows,
        seconds,
        peak_kib: peak,
        bytes: size(&out),
    }
}

fn size(path: &std::path::Path) -> u64 {
    if path.is_dir() {
        std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .sum()
    } else {
        std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
    }
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main]
async fn main() {
    let rows: u64 = arg("--rows")
        .and_then(|r| r.parse().ok())
        .unwrap_or(200_000);
    let backends: Vec<Backend> = [Backend::Sqlite, Backend::Postgres, Backend::MariaDb]
        .into_iter()
        .filter(|b| arg("--backend").is_none_or(|want| want == b.name()))
        .collect();
    println!(
        "| backend | format | rows (baseline / export) | seconds | rows/s | file MiB | peak RSS MiB (baseline / export) | ≤ 64 MiB |"
    );
    println!("| --- | --- | --- | ---: | ---: | ---: | --- | --- |");
    let mut all_met = true;
    for backend in backends {
        let shop = shop(backend, rows).await;
        for csv in [false, true] {
            let format = if csv { "csv" } else { "json" };
            let base = export(&shop, "2", csv, &format!("base-{format}"));
            let big = export(&shop, "1", csv, &format!("big-{format}"));
            let met = big.peak_kib <= TARGET_KIB;
            all_met &= met;
            println!(
                "| {} | {format} | {} / {} | {:.2} | {:.0} | {:.1} | {:.1} / {:.1} | {} |",
                backend.name(),
                base.rows,
                big.rows,
                big.seconds,
                big.rows as f64 / big.seconds,
                big.bytes as f64 / 1_048_576.0,
                base.peak_kib as f64 / 1024.0,
                big.peak_kib as f64 / 1024.0,
                if met { "met" } else { "MISSED" }
            );
        }
    }
    let entries: u64 = arg("--ledger")
        .and_then(|r| r.parse().ok())
        .unwrap_or(100_000);
    reapply::print_header();
    for backend in [Backend::Sqlite, Backend::Postgres, Backend::MariaDb]
        .into_iter()
        .filter(|b| arg("--backend").is_none_or(|want| want == b.name()))
    {
        let url = database_url(backend).await;
        reapply::measure(backend.name(), &url, entries).await;
    }
    if !all_met {
        std::process::exit(1);
    }
}
