//! `cargo bench --bench purge -- [--rows N] [--backend B] [--out FILE] [--trace]`:
//! retentiond against the bulk statement an operator would otherwise schedule, on
//! SQLite, PostgreSQL and MariaDB.
//!
//! For each backend one table of N rows (half expired, an index on the timestamp)
//! is generated once and copied for every measured side. Three tasks (`delete`,
//! anonymise with `null`, anonymise with `truncate_ip`), each twice: with an
//! application writer inserting a row every 2 ms beside it (its latencies show
//! whether the application stalls), and with no other writer. Each time (a) the
//! bulk statement, (b) `retentiond purge` as a process with its default, adaptive
//! batch sizes. On SQLite the bulk side also runs the `VACUUM` that retentiond runs,
//! so that both leave no purged value in the file; both ratios are shown. Then the
//! scale (the same expired rows in a table ten times larger) and, on PostgreSQL,
//! partitions. Prints the figures side by side, checks them against the targets,
//! and writes a JSON file. `--trace` instead prints round trips and server time per
//! batch from the servers' statement logs.

#[path = "../../tests/it/servers.rs"]
#[allow(dead_code)]
mod servers;

#[path = "../common/rss.rs"]
mod rss;

mod measure;
mod setup;
mod targets;
mod trace;

use serde_json::json;

use measure::Side;
use setup::{Backend, Db};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Task {
    Delete,
    Null,
    TruncateIp,
}

impl Task {
    const ALL: [Task; 3] = [Task::Delete, Task::Null, Task::TruncateIp];

    pub fn name(self) -> &'static str {
        match self {
            Task::Delete => "delete",
            Task::Null => "null",
            Task::TruncateIp => "truncate_ip",
        }
    }

    fn strategy(self) -> Option<&'static str> {
        match self {
            Task::Delete => None,
            Task::Null => Some("null"),
            Task::TruncateIp => Some("truncate_ip"),
        }
    }

    /// The statement an operator would schedule instead: for `truncate_ip` the
    /// backend's own IPv4 arithmetic (the table holds IPv4 addresses only).
    fn bulk_sql(self, backend: Backend) -> String {
        let cutoff = "WHERE at < '2020-01-01'";
        let truncated = match backend {
            Backend::Sqlite => "rtrim(ip, '0123456789') || '0'",
            Backend::Postgres => "host(network(set_masklen(CAST(ip AS inet), 24)))",
            Backend::MariaDb => "INET_NTOA(INET_ATON(ip) & 4294967040)",
        };
        let t = setup::TABLE;
        match self {
            Task::Delete => format!("DELETE FROM {t} {cutoff}"),
            Task::Null => format!("UPDATE {t} SET ip = NULL {cutoff}"),
            Task::TruncateIp => format!("UPDATE {t} SET ip = {truncated} {cutoff}"),
        }
    }
}

/// The policy on [`setup::TABLE`], with `extra` lines: delete, or anonymise `ip`
/// with `strategy` (without a marker: by the values).
pub fn policy(strategy: Option<&str>, extra: &str) -> String {
    let t = setup::TABLE;
    let head = format!(
        "[[policy]]\nname = \"{t}\"\ntable = \"{t}\"\ntimestamp = \"at\"\nkeep = \"1 year\"\n{extra}"
    );
    match strategy {
        None => format!("{head}action = \"delete\"\n"),
        Some(s) => format!("{head}action = \"anonymize\"\n[policy.anonymize]\nip = \"{s}\"\n"),
    }
}

/// One comparison: a task on a backend, with or without the writer.
pub struct Case {
    pub backend: Backend,
    pub task: Task,
    pub writer: bool,
    pub bulk: Side,
    pub retentiond: Side,
}

impl Case {
    /// retentiond's rate over the bulk statement's, both whole (VACUUM included).
    pub fn ratio(&self) -> f64 {
        self.retentiond.rows_per_second() / self.bulk.rows_per_second()
    }

    pub fn ratio_without_vacuum(&self) -> f64 {
        self.retentiond.rows_per_second_without_vacuum()
            / self.bulk.rows_per_second_without_vacuum()
    }
}

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

struct Args {
    rows: u64,
    out: std::path::PathBuf,
    only: Option<Backend>,
    trace: bool,
}

fn args() -> Args {
    let mut a = Args {
        rows: 10_000_000,
        out: "target/bench-purge.json".into(),
        only: None,
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
            let template = Db::new(backend).await;
            template.table(args.rows, args.rows / 2).await;
            let version = template.version().await;
            targets::print_header();
            for task in Task::ALL {
                for writer in [true, false] {
                    let case = compare(&template, task, writer).await;
                    targets::print_case(&version, &case);
                    cases.push(case);
                }
            }
            template.drop_database().await;
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

/// The bulk statement and retentiond, each on its own copy of `template`.
async fn compare(template: &Db, task: Task, writer: bool) -> Case {
    let backend = template.backend;
    let a = Db::copy_of(template).await;
    let bulk = measure::bulk(
        &a,
        &task.bulk_sql(backend),
        writer,
        backend == Backend::Sqlite,
    )
    .await;
    a.drop_database().await;
    let b = Db::copy_of(template).await;
    let retentiond = measure::retentiond(&b, &policy(task.strategy(), ""), writer).await;
    b.drop_database().await;
    assert_eq!(
        bulk.rows, retentiond.rows,
        "{backend:?} {task:?}: both purge the same rows"
    );
    Case {
        backend,
        task,
        writer,
        bulk,
        retentiond,
    }
}

/// Scale: the same expired rows in a table ten times larger. Without VACUUM, which
/// rebuilds the whole SQLite file and so grows with the table by design.
async fn scale(backend: Backend, rows: u64) -> Scale {
    let expired = rows / 20;
    let policy = policy(None, "vacuum = false\n");
    let small = Db::new(backend).await;
    small.table(rows / 10, expired).await;
    let small_side = measure::retentiond(&small, &policy, false).await;
    small.drop_database().await;
    let large = Db::new(backend).await;
    large.table(rows, expired).await;
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
