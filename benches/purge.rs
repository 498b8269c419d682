//! `cargo bench --bench purge -- [--rows N] [--out FILE]`: retentiond against the bulk
//! statement an operator would otherwise schedule, on SQLite, PostgreSQL and MariaDB.
//!
//! For each backend, two identical tables of N rows (half expired, an index on the
//! timestamp): (a) one bulk `DELETE ... WHERE ts < cutoff`, (b) `retentiond purge` at
//! the default batch size; the same for anonymisation (bulk `UPDATE` vs retentiond).
//! During each, a second connection inserts a row every 2 ms; its latencies show
//! whether the application stalls. Prints a table and writes a JSON file.

#[path = "../tests/it/servers.rs"]
#[allow(dead_code)]
mod servers;

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::{AnyConnection, AssertSqlSafe, Connection, Row};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
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

struct Db {
    backend: Backend,
    url: String,
    dir: tempfile::TempDir,
}

impl Db {
    async fn new(backend: Backend) -> Db {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let url = match backend {
            Backend::Sqlite => format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("bench.db").display()
            ),
            Backend::Postgres => servers::new_postgres_database(servers::postgres().port).await,
            Backend::MariaDb => servers::new_mariadb_database().await,
        };
        let db = Db { backend, url, dir };
        match backend {
            Backend::Sqlite => db.exec("PRAGMA journal_mode = WAL").await,
            // The tests' server trades durability for speed; a shop's does not, and a
            // commit per batch costs a flush there.
            Backend::Postgres => {
                for setting in [
                    "ALTER SYSTEM SET fsync = on",
                    "ALTER SYSTEM SET full_page_writes = on",
                    "ALTER SYSTEM SET synchronous_commit = on",
                    "SELECT pg_reload_conf()",
                ] {
                    db.exec(setting).await;
                }
            }
            // Likewise for InnoDB: flush the redo log at every commit (the tests'
            // server does not), and a buffer pool that holds the tables, as a shop's
            // server would be given (the tests' server has 128 MiB).
            Backend::MariaDb => {
                db.exec(
                    "SET GLOBAL innodb_flush_log_at_trx_commit = 1;
                     SET GLOBAL innodb_buffer_pool_size = 2147483648",
                )
                .await
            }
        }
        db
    }

    async fn conn(&self) -> AnyConnection {
        connect(self.backend, &self.url).await
    }

    async fn exec(&self, sql: &str) {
        let mut c = self.conn().await;
        sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
            .execute(&mut c)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        c.close().await.unwrap();
    }

    async fn version(&self) -> String {
        let mut c = self.conn().await;
        let sql = match self.backend {
            Backend::Sqlite => "SELECT 'SQLite ' || sqlite_version()",
            Backend::Postgres => "SELECT version()",
            Backend::MariaDb => "SELECT CONCAT('MariaDB ', version())",
        };
        let v: String = sqlx::query(sql).fetch_one(&mut c).await.unwrap().get(0);
        // "10.11.14-MariaDB-0+deb12u2": the version, without the build.
        let v = v.split("-MariaDB").next().unwrap_or(&v).to_string();
        v.split(" on ").next().unwrap_or(&v).to_string()
    }

    /// `rows` rows, `expired` of them expired: one every 30 seconds from 2010 (before
    /// the bulk statement's 2020 cutoff), the rest one every 30 seconds from 2099.
    /// Timestamps are distinct, as an application writes them; PostgreSQL stores
    /// them as `timestamptz`, MariaDB as `DATETIME` (UTC), SQLite as ISO text.
    async fn table(&self, name: &str, rows: u64, expired: u64) {
        const Y2010: i64 = 1_262_304_000;
        const Y2099: i64 = 4_070_908_800;
        let (ts_type, series, ts, ip, payload) = match self.backend {
            Backend::Sqlite => (
                "VARCHAR(40)",
                format!(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) SELECT i FROM n"
                ),
                format!(
                    "strftime('%Y-%m-%d %H:%M:%S', CASE WHEN i <= {expired} THEN {Y2010} ELSE {Y2099} END + i * 30, 'unixepoch')"
                ),
                "'198.51.100.' || (i % 250)",
                "'payload of row ' || i",
            ),
            Backend::Postgres => (
                "TIMESTAMPTZ",
                format!("SELECT i FROM generate_series(1, {rows}) AS i"),
                format!(
                    "to_timestamp(CASE WHEN i <= {expired} THEN {Y2010} ELSE {Y2099} END + i * 30)"
                ),
                "'198.51.100.' || (i % 250)",
                "'payload of row ' || i",
            ),
            // MariaDB's sequence engine: a virtual table of 1..N, no recursion limit.
            Backend::MariaDb => (
                "DATETIME",
                format!("SELECT seq AS i FROM seq_1_to_{rows}"),
                format!(
                    "TIMESTAMP'1970-01-01 00:00:00' + INTERVAL (CASE WHEN i <= {expired} THEN {Y2010} ELSE {Y2099} END + i * 30) SECOND"
                ),
                "CONCAT('198.51.100.', i % 250)",
                "CONCAT('payload of row ', i)",
            ),
        };
        self.exec(&format!(
            "CREATE TABLE {name} (id BIGINT PRIMARY KEY, at {ts_type} NOT NULL, ip VARCHAR(40), payload VARCHAR(80), anonymized_at VARCHAR(40));
             INSERT INTO {name} (id, at, ip, payload)
               SELECT i, {ts}, {ip}, {payload} FROM ({series}) AS s;
             CREATE INDEX {name}_at ON {name} (at);"
        ))
        .await;
        match self.backend {
            Backend::Postgres => self.exec(&format!("VACUUM ANALYZE {name}")).await,
            Backend::MariaDb => self.exec(&format!("ANALYZE TABLE {name}")).await,
            Backend::Sqlite => {}
        }
    }
}

impl Db {
    /// A table partitioned by month with `per_partition` rows in each of
    /// `expired_months` months of 2010 and in one month of 2099.
    async fn partitioned(&self, name: &str, expired_months: u32, per_partition: u64) {
        let mut sql = format!(
            "CREATE TABLE {name} (id BIGINT NOT NULL, at TIMESTAMPTZ NOT NULL, ip VARCHAR(40), payload VARCHAR(80), PRIMARY KEY (at, id)) PARTITION BY RANGE (at);\n"
        );
        let months: Vec<(u32, u32)> = (1..=expired_months)
            .map(|m| (2010, m))
            .chain([(2099, 1)])
            .collect();
        for (n, (year, month)) in months.iter().enumerate() {
            sql.push_str(&format!(
                "CREATE TABLE {name}_{year}_{month:02} PARTITION OF {name} FOR VALUES FROM ('{year}-{month:02}-01 00:00:00+00') TO ('{year}-{next:02}-01 00:00:00+00');
                 INSERT INTO {name} SELECT {offset} + i, timestamptz '{year}-{month:02}-01 00:00:00+00' + i * (interval '28 days' / {per_partition}), '198.51.100.' || (i % 250), 'payload of row ' || i FROM generate_series(0, {last}) AS i;\n",
                next = month + 1,
                offset = n as u64 * per_partition,
                last = per_partition - 1,
            ));
        }
        sql.push_str(&format!("CREATE INDEX {name}_at ON {name} (at);"));
        self.exec(&sql).await;
        self.exec(&format!("VACUUM ANALYZE {name}")).await;
    }
}

fn write_config(db: &Db, policy: &str) -> std::path::PathBuf {
    let config = db.dir.path().join("retention.toml");
    let url = db.url.replace("?mode=rwc", "");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = \"{url}\"\n\n[limits]\nmax_table_fraction = 1.0\n{}\n\n{policy}",
            std::env::var("BENCH_LIMITS").unwrap_or_default()
        ),
    )
    .unwrap();
    config
}

/// Seconds `retentiond plan` takes, as a process.
fn plan_seconds(db: &Db, policy: &str) -> f64 {
    let config = write_config(db, policy);
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_retentiond"))
        .args(["-c", config.to_str().unwrap(), "plan"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    started.elapsed().as_secs_f64()
}

async fn connect(backend: Backend, url: &str) -> AnyConnection {
    let mut c = AnyConnection::connect(url).await.unwrap();
    if backend == Backend::Sqlite {
        // The writer waits for the lock rather than failing: its latency is the point.
        sqlx::raw_sql("PRAGMA busy_timeout = 600000")
            .execute(&mut c)
            .await
            .unwrap();
    }
    c
}

/// Inserts a row every 2 ms until stopped; returns each insert's latency.
fn writer(db: &Db, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<Vec<Duration>> {
    let url = db.url.clone();
    let backend = db.backend;
    let insert = match backend {
        Backend::MariaDb => "INSERT INTO app_writes (n, at) VALUES (?, '2026-11-22')",
        Backend::Sqlite | Backend::Postgres => {
            "INSERT INTO app_writes (n, at) VALUES ($1, '2026-11-22')"
        }
    };
    tokio::spawn(async move {
        let mut c = connect(backend, &url).await;
        sqlx::raw_sql("CREATE TABLE IF NOT EXISTS app_writes (n BIGINT, at VARCHAR(40))")
            .execute(&mut c)
            .await
            .unwrap();
        let mut latencies = Vec::new();
        let mut n = 0i64;
        let mut tick = tokio::time::interval(Duration::from_millis(2));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !stop.load(Ordering::SeqCst) {
            tick.tick().await;
            n += 1;
            let started = Instant::now();
            sqlx::query(insert).bind(n).execute(&mut c).await.unwrap();
            latencies.push(started.elapsed());
        }
        latencies
    })
}

#[derive(Default, Clone)]
struct Latency {
    p50: f64,
    p99: f64,
    max: f64,
    samples: usize,
}

fn latency(mut v: Vec<Duration>) -> Latency {
    if v.is_empty() {
        return Latency::default();
    }
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    Latency {
        p50: ms(v[v.len() / 2]),
        p99: ms(v[(v.len() * 99 / 100).min(v.len() - 1)]),
        max: ms(v[v.len() - 1]),
        samples: v.len(),
    }
}

struct Measured {
    seconds: f64,
    rows: u64,
    writer: Latency,
    longest_txn_ms: Option<u64>,
    /// Each batch's transaction, from retentiond's debug log (none for the bulk).
    batches: Vec<Duration>,
    peak_rss_kib: Option<u64>,
}

impl Measured {
    /// "p50 / p99" of the batches' transactions, in ms.
    fn batch_percentiles(&self) -> String {
        let l = latency(self.batches.clone());
        format!("{:.0} / {:.0}", l.p50, l.p99)
    }

    fn batches_over_100ms(&self) -> usize {
        self.batches
            .iter()
            .filter(|d| **d > Duration::from_millis(100))
            .count()
    }
}

async fn bulk(db: &Db, sql: &str) -> Measured {
    let stop = Arc::new(AtomicBool::new(false));
    let w = writer(db, stop.clone());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut c = db.conn().await;
    let started = Instant::now();
    let done = sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
        .execute(&mut c)
        .await
        .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::SeqCst);
    Measured {
        seconds,
        rows: done.rows_affected(),
        writer: latency(w.await.unwrap()),
        longest_txn_ms: Some((seconds * 1000.0) as u64),
        batches: Vec::new(),
        peak_rss_kib: None,
    }
}

/// Runs the retentiond binary (its peak RSS read from /proc while it runs).
async fn retentiond(db: &Db, policy: &str) -> Measured {
    let config = write_config(db, policy);
    let stop = Arc::new(AtomicBool::new(false));
    let w = writer(db, stop.clone());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log_path = db.dir.path().join("purge.log");
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_retentiond"))
        .args(["-c", config.to_str().unwrap(), "purge", "--format", "json"])
        // One line per committed batch, with its duration.
        .env("RUST_LOG", "retentiond::engine=debug")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    while child.try_wait().unwrap().is_none() {
        if let Ok(s) = std::fs::read_to_string(&status_path)
            && let Some(kib) = s
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        {
            peak = peak.max(kib);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    let out = child.wait_with_output().unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::SeqCst);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("purge --format json");
    let p = &json["policies"][0];
    assert_eq!(p["status"], "ok", "{json}");
    Measured {
        seconds,
        rows: p["rows"].as_u64().unwrap_or(0),
        writer: latency(w.await.unwrap()),
        longest_txn_ms: p["longest_batch_ms"].as_u64(),
        batches: batch_durations(&std::fs::read_to_string(&log_path).unwrap()),
        peak_rss_kib: Some(peak),
    }
}

/// The `ms=` of each "batch committed" line in retentiond's log.
fn batch_durations(log: &str) -> Vec<Duration> {
    log.lines()
        .filter(|l| l.contains("batch committed"))
        .filter_map(|l| l.split(" ms=").nth(1))
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .map(Duration::from_millis)
        .collect()
}

fn policy(name: &str, table: &str, action: &str) -> String {
    policy_with(name, table, action, "")
}

fn policy_with(name: &str, table: &str, action: &str, extra: &str) -> String {
    format!(
        "[[policy]]\nname = \"{name}\"\ntable = \"{table}\"\ntimestamp = \"at\"\nkeep = \"1 year\"\naction = \"{action}\"\nvacuum = false\n{extra}"
    )
}

/// Anonymises the `ip` column of `table` with `strategy`, marking rows done.
fn anonymize_policy(table: &str, strategy: &str) -> String {
    policy_with(
        table,
        table,
        "anonymize",
        &format!("marker = \"anonymized_at\"\n[policy.anonymize]\nip = \"{strategy}\"\n"),
    )
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

fn main() {
    let mut rows: u64 = 10_000_000;
    let mut out = std::path::PathBuf::from("target/bench-purge.json");
    let mut only = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rows" => {
                rows = args
                    .next()
                    .and_then(|v| v.replace('_', "").parse().ok())
                    .expect("--rows N")
            }
            "--out" => out = args.next().expect("--out FILE").into(),
            "--backend" => {
                only = match args.next().as_deref() {
                    Some("sqlite") => Some(Backend::Sqlite),
                    Some("postgres") => Some(Backend::Postgres),
                    Some("mariadb") => Some(Backend::MariaDb),
                    other => panic!("--backend sqlite|postgres|mariadb, not {other:?}"),
                }
            }
            _ => {} // cargo bench passes --bench
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let mut results = Vec::new();
        let mut scale = Vec::new();
        let mut partitions = serde_json::Value::Null;
        println!("retentiond vs the bulk statement: {rows} rows per table, half expired; {cores} cores, {} MiB", memory_kib() / 1024);
        for backend in [Backend::Sqlite, Backend::Postgres, Backend::MariaDb] {
            if only.is_some_and(|b| b != backend) {
                continue;
            }
            let db = Db::new(backend).await;
            let version = db.version().await;
            // `anon_ip` anonymises with truncate_ip, which retentiond computes from each
            // value; the bulk statement it is held against still writes NULL, the
            // nearest a single portable UPDATE comes.
            for (task, strategy, table_a, table_b, bulk_sql) in [
                ("delete", "", "del_bulk", "del_rd", "DELETE FROM del_bulk WHERE at < '2020-01-01'"),
                ("anonymize", "null", "anon_bulk", "anon_rd", "UPDATE anon_bulk SET ip = NULL, anonymized_at = '2026-11-22' WHERE at < '2020-01-01' AND anonymized_at IS NULL"),
                ("anon_ip", "truncate_ip", "ip_bulk", "ip_rd", "UPDATE ip_bulk SET ip = NULL, anonymized_at = '2026-11-22' WHERE at < '2020-01-01' AND anonymized_at IS NULL"),
            ] {
                db.table(table_a, rows, rows / 2).await;
                db.table(table_b, rows, rows / 2).await;
                let a = bulk(&db, bulk_sql).await;
                let policy = if strategy.is_empty() {
                    policy(table_b, table_b, "delete")
                } else {
                    anonymize_policy(table_b, strategy)
                };
                let b = retentiond(&db, &policy).await;
                assert_eq!(a.rows, b.rows, "both purge the same rows");
                let ratio = (b.rows as f64 / b.seconds) / (a.rows as f64 / a.seconds);
                println!(
                    "\n{:<9} {:<9} {}\n  {:<26} {:>12} {:>12} {:>8}\n  {:<26} {:>12.0} {:>12.0} {:>8.2}\n  {:<26} {:>12.1} {:>12.1}\n  {:<26} {:>12.1} {:>12.1}\n  {:<26} {:>12.1} {:>12.1}\n  {:<26} {:>12} {:>12}\n  {:<26} {:>12} {:>12}\n  {:<26} {:>12} {:>12}\n  {:<26} {:>12} {:>12}",
                    backend.name(), task, version,
                    "", "bulk", "retentiond", "ratio",
                    "rows/s", a.rows as f64 / a.seconds, b.rows as f64 / b.seconds, ratio,
                    "writer p50 ms", a.writer.p50, b.writer.p50,
                    "writer p99 ms", a.writer.p99, b.writer.p99,
                    "writer max ms", a.writer.max, b.writer.max,
                    "longest transaction ms", a.longest_txn_ms.unwrap_or(0), b.longest_txn_ms.unwrap_or(0),
                    "batch ms p50 / p99", "-", b.batch_percentiles(),
                    "batches over 100 ms", "-", format!("{} of {}", b.batches_over_100ms(), b.batches.len()),
                    "peak RSS KiB", "-", b.peak_rss_kib.unwrap_or(0),
                );
                results.push(json!({
                    "backend": backend.name(), "version": version, "task": task, "rows": a.rows,
                    "bulk": {"seconds": a.seconds, "rows_per_s": a.rows as f64 / a.seconds, "writer_ms": {"p50": a.writer.p50, "p99": a.writer.p99, "max": a.writer.max, "samples": a.writer.samples}, "longest_txn_ms": a.longest_txn_ms},
                    "retentiond": {"seconds": b.seconds, "rows_per_s": b.rows as f64 / b.seconds, "writer_ms": {"p50": b.writer.p50, "p99": b.writer.p99, "max": b.writer.max, "samples": b.writer.samples}, "longest_txn_ms": b.longest_txn_ms, "batch_ms": {"p50": latency(b.batches.clone()).p50, "p99": latency(b.batches.clone()).p99, "count": b.batches.len(), "over_100": b.batches_over_100ms()}, "peak_rss_kib": b.peak_rss_kib},
                    "throughput_ratio": ratio,
                }));
            }

            // Scale: the same expired rows in a table ten times larger.
            let expired = rows / 20;
            db.table("scale_small", rows / 10, expired).await;
            db.table("scale_large", rows, expired).await;
            let plan_large = plan_seconds(&db, &policy("scale_large", "scale_large", "delete"));
            let small = retentiond(&db, &policy("scale_small", "scale_small", "delete")).await;
            let large = retentiond(&db, &policy("scale_large", "scale_large", "delete")).await;
            assert_eq!((small.rows, large.rows), (expired, expired));
            println!(
                "\n{:<9} scale     {expired} expired rows\n  {:<26} {:>12} {:>12} {:>8}\n  {:<26} {:>12.2} {:>12.2} {:>8.2}\n  {:<26} {:>12} {:>12.2}",
                backend.name(),
                "", format!("{} rows", rows / 10), format!("{rows} rows"), "ratio",
                "purge seconds", small.seconds, large.seconds, large.seconds / small.seconds,
                "plan seconds", "", plan_large,
            );
            scale.push(json!({
                "backend": backend.name(), "expired": expired,
                "small": {"rows": rows / 10, "seconds": small.seconds},
                "large": {"rows": rows, "seconds": large.seconds, "plan_seconds": plan_large, "peak_rss_kib": large.peak_rss_kib},
                "ratio": large.seconds / small.seconds,
            }));

            // Partitions: dropping expired months against deleting their rows.
            if backend == Backend::Postgres {
                let per = (rows / 10).clamp(1_000, 1_000_000);
                let months = 2;
                db.partitioned("part_bulk", months, per).await;
                db.partitioned("part_rd", months, per).await;
                let a = bulk(&db, "DELETE FROM part_bulk WHERE at < '2020-01-01'").await;
                let b = retentiond(
                    &db,
                    &policy_with("part_rd", "part_rd", "delete", "key = [\"at\", \"id\"]\npartitions = \"drop\"\n"),
                )
                .await;
                assert_eq!(a.rows, b.rows, "both purge the same rows");
                println!(
                    "\npostgres  partitions {months} expired months of {per} rows\n  {:<26} {:>12} {:>12}\n  {:<26} {:>12.2} {:>12.2}\n  {:<26} {:>12.2} {:>12.2}\n  {:<26} {:>12.1} {:>12.1}",
                    "", "bulk DELETE", "retentiond",
                    "seconds", a.seconds, b.seconds,
                    "seconds per partition", a.seconds / f64::from(months), b.seconds / f64::from(months),
                    "writer max ms", a.writer.max, b.writer.max,
                );
                partitions = json!({
                    "rows_per_partition": per, "expired_partitions": months,
                    "bulk_delete": {"seconds": a.seconds, "writer_max_ms": a.writer.max},
                    "retentiond_drop": {"seconds": b.seconds, "seconds_per_partition": b.seconds / f64::from(months), "writer_max_ms": b.writer.max},
                });
            }
        }
        let doc = json!({"rows": rows, "cores": cores, "memory_kib": memory_kib(), "results": results, "scale": scale, "partitions": partitions});
        if let Some(parent) = out.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        std::fs::write(&out, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
        println!("\nJSON: {}", out.display());
    });
}
