//! `cargo bench --bench purge -- [--rows N] [--backend B] [--layout L] [--walks
//! auto,index,table] [--out FILE] [--trace]`: retentiond against the bulk statement
//! an operator would otherwise schedule, on SQLite, PostgreSQL and MariaDB.
//!
//! For each backend and layout (timestamps following the primary key, or spread
//! over it) one table of N rows (half expired, an index on the timestamp) is
//! generated once and copied for every measured side. Three tasks (`delete`,
//! anonymise with `null`, anonymise with `truncate_ip`), each twice: with an
//! application writer inserting a row every 2 ms beside it (its latencies show
//! whether the application stalls), and with no other writer. Each time the bulk
//! statement, then `retentiond purge` as a process with each walk (`auto`, `index`,
//! `table`) and its default, adaptive batch sizes, and on MariaDB Percona's
//! pt-archiver (delete only). On SQLite the bulk side also runs the `VACUUM` that
//! retentiond runs, so that both leave no purged value in the file; both ratios are
//! shown. Then the scale (the same expired rows in a table ten times larger) and, on
//! PostgreSQL, partitions. Prints the figures side by side, checks them against the
//! targets, and writes a JSON file. `--trace` instead prints round trips and server
//! time per batch from the servers' statement logs.

#[path = "../../tests/it/servers.rs"]
#[allow(dead_code)]
mod servers;

#[path = "../common/rss.rs"]
mod rss;

mod cases;
mod measure;
mod setup;
mod targets;
mod trace;

use serde_json::json;

use cases::{Task, policy};
use measure::Side;
use setup::{Backend, Db, Layout};

/// The same expired rows in a table of N/10 and of N rows.
pub struct Scale {
    pub backend: Backend,
    pub expired: u64,
    pub small: Side,
    pub large: Side,
    pub plan_large: f64,
}

impl Scale {
    pub fn ratio(&self) -> f64 {
        self.large.seconds / self.small.seconds
    }
}

const WALKS: [&str; 3] = ["auto", "index", "table"];

struct Args {
    rows: u64,
    out: std::path::PathBuf,
    only: Option<Backend>,
    layouts: Vec<Layout>,
    walks: Vec<&'static str>,
    trace: bool,
}

fn args() -> Args {
    let mut a = Args {
        rows: 10_000_000,
        out: "target/bench-purge.json".into(),
        only: None,
        layouts: Layout::ALL.to_vec(),
        walks: WALKS.to_vec(),
        trace: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--rows" => {
                a.rows = it
                    .next()
                    .and_then(|v| v.replace('_', "").parse().ok())
                    .expect("--rows N")
            }
            "--out" => a.out = it.next().expect("--out FILE").into(),
            "--trace" => a.trace = true,
            "--layout" => {
                let name = it.next();
                a.layouts = Layout::ALL
                    .into_iter()
                    .filter(|l| Some(l.name()) == name.as_deref())
                    .collect();
                assert!(
                    !a.layouts.is_empty(),
                    "--layout correlated|random, not {name:?}"
                );
            }
            "--walks" => {
                let list = it.next().expect("--walks auto,index,table");
                a.walks = WALKS
                    .into_iter()
                    .filter(|w| list.split(',').any(|l| l == *w))
                    .collect();
                assert!(!a.walks.is_empty(), "--walks: a list of auto, index, table");
            }
            "--backend" => {
                let name = it.next();
                a.only = Some(
                    Backend::ALL
                        .into_iter()
                        .find(|b| Some(b.name()) == name.as_deref())
                        .unwrap_or_else(|| {
                            panic!("--backend sqlite|postgres|mariadb, not {name:?}")
                        }),
                );
            }
            _ => {} // cargo bench passes --bench
        }
    }
    a
}

fn main() {
    let args = args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        if args.trace {
            for backend in [Backend::Postgres, Backend::MariaDb] {
                setup::configure_server(backend).await;
            }
            trace::run().await;
            return;
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        println!(
            "retentiond vs the bulk statement: {} rows per table, half expired; {cores} cores, {} MiB",
            args.rows,
            memory_kib() / 1024
        );
        let (mut cases, mut scales, mut versions) = (Vec::new(), Vec::new(), Vec::new());
        let mut partitions = serde_json::Value::Null;
        for backend in Backend::ALL {
            if args.only.is_some_and(|b| b != backend) {
                continue;
            }
            setup::configure_server(backend).await;
            let mut version = String::new();
            for &layout in &args.layouts {
                let template = Db::new(backend).await;
                template.table(args.rows, args.rows / 2, layout).await;
                version = template.version().await;
                targets::print_header();
                for task in Task::ALL {
                    for writer in [true, false] {
                        let case =
                            cases::compare(&template, layout, task, writer, &args.walks).await;
                        targets::print_case(&version, &case);
                        cases.push(case);
                    }
                }
                template.drop_database().await;
            }
            let scale = scale(backend, args.rows).await;
            targets::print_scale(&version, &scale);
            scales.push(scale);
            if backend == Backend::Postgres {
                partitions = partitioned(args.rows).await;
            }
            versions.push((backend, version));
        }
        targets::print_summary(&versions, &cases, &scales);
        let doc = json!({
            "rows": args.rows, "cores": cores, "memory_kib": memory_kib(),
            "versions": versions.iter().map(|(b, v)| json!({"backend": b.name(), "version": v})).collect::<Vec<_>>(),
            "results": cases.iter().map(targets::case_json).collect::<Vec<_>>(),
            "scale": scales.iter().map(targets::scale_json).collect::<Vec<_>>(),
            "partitions": partitions,
        });
        if let Some(parent) = args.out.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        std::fs::write(&args.out, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
        println!("\nJSON: {}", args.out.display());
    });
}

/// Scale: the same expired rows in a table ten times larger. Without VACUUM, which
/// rebuilds the whole SQLite file and so grows with the table by design.
async fn scale(backend: Backend, rows: u64) -> Scale {
    let expired = rows / 20;
    let policy = policy(None, "vacuum = false\nwalk = \"auto\"\n");
    let small = Db::new(backend).await;
    small.table(rows / 10, expired, Layout::Correlated).await;
    let small_side = measure::retentiond(&small, &policy, false).await;
    small.drop_database().await;
    let large = Db::new(backend).await;
    large.table(rows, expired, Layout::Correlated).await;
    let plan_large = measure::plan_seconds(&large, &policy);
    let large_side = measure::retentiond(&large, &policy, false).await;
    large.drop_database().await;
    assert_eq!((small_side.rows, large_side.rows), (expired, expired));
    Scale {
        backend,
        expired,
        small: small_side,
        large: large_side,
        plan_large,
    }
}

/// PostgreSQL: dropping two expired monthly partitions against deleting their rows.
async fn partitioned(rows: u64) -> serde_json::Value {
    let per = (rows / 10).clamp(1_000, 1_000_000);
    let months = 2;
    let db = Db::new(Backend::Postgres).await;
    db.partitioned("part_bulk", months, per).await;
    db.partitioned("part_rd", months, per).await;
    let a = measure::bulk(
        &db,
        "DELETE FROM part_bulk WHERE at < '2020-01-01'",
        true,
        false,
    )
    .await;
    let policy = "[[policy]]\nname = \"part_rd\"\ntable = \"part_rd\"\ntimestamp = \"at\"\nkeep = \"1 year\"\n\
                  action = \"delete\"\nkey = [\"at\", \"id\"]\npartitions = \"drop\"\n";
    let b = measure::retentiond(&db, policy, true).await;
    db.drop_database().await;
    assert_eq!(a.rows, b.rows, "both purge the same rows");
    let max = |s: &Side| s.writer.map_or(0.0, |w| w.max);
    println!(
        "\npostgres partitions: {months} expired months of {per} rows: bulk DELETE {:.2} s, retentiond (drop) {:.2} s ({:.2} s per partition); writer max {:.1} / {:.1} ms",
        a.seconds,
        b.seconds,
        b.seconds / f64::from(months),
        max(&a),
        max(&b)
    );
    json!({
        "rows_per_partition": per, "expired_partitions": months,
        "bulk_delete": {"seconds": a.seconds, "writer_max_ms": max(&a)},
        "retentiond_drop": {"seconds": b.seconds, "seconds_per_partition": b.seconds / f64::from(months), "writer_max_ms": max(&b)},
    })
}

fn memory_kib() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
