//! Timing one side of a comparison: the bulk statement an operator would otherwise
//! schedule, or the retentiond binary run as a process, each with or without an
//! application writer beside it that inserts a row every 2 ms and records how long
//! each insert waited.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sqlx::{AssertSqlSafe, Connection};

use crate::setup::{Backend, Db, connect};

#[derive(Default, Clone, Copy)]
pub struct Latency {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
    pub samples: usize,
}

pub fn latency(mut v: Vec<Duration>) -> Latency {
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

/// The longest batch of a retentiond run, with the step that took most of it.
#[derive(Clone, Default)]
pub struct Longest {
    pub ms: u64,
    pub rows: u64,
    pub step: String,
    /// "begin 0, find 3, write 20, audit 0, commit 1" (ms).
    pub steps: String,
}

/// One measured side.
#[derive(Default)]
pub struct Side {
    /// For the bulk side the statement plus its VACUUM; for retentiond the whole
    /// process, start to exit.
    pub seconds: f64,
    /// Of which VACUUM (SQLite): the bulk side's `VACUUM` and WAL truncation,
    /// retentiond's "storage reclaimed" step.
    pub vacuum_seconds: f64,
    pub rows: u64,
    pub writer: Option<Latency>,
    /// Each batch's transaction, from retentiond's debug log (none for the bulk).
    pub batches: Vec<Duration>,
    pub longest: Option<Longest>,
    /// Where retentiond's adaptive sizes settled.
    pub batch_size: Option<u64>,
    pub peak_rss_kib: Option<u64>,
    /// The walk retentiond took (`auto` resolves to one of the others).
    pub walk: Option<String>,
}

impl Side {
    pub fn rows_per_second(&self) -> f64 {
        self.rows as f64 / self.seconds
    }

    pub fn rows_per_second_without_vacuum(&self) -> f64 {
        self.rows as f64 / (self.seconds - self.vacuum_seconds)
    }

    pub fn vacuum_share(&self) -> f64 {
        self.vacuum_seconds / self.seconds
    }

    pub fn batch_latency(&self) -> Latency {
        latency(self.batches.clone())
    }

    pub fn batches_over_100ms(&self) -> usize {
        self.batches
            .iter()
            .filter(|d| **d > Duration::from_millis(100))
            .count()
    }
}

struct Writer {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Vec<Duration>>,
}

impl Writer {
    /// Starts inserting a row every 2 ms, and gives it 200 ms to settle.
    async fn start(db: &Db) -> Writer {
        let url = db.url.clone();
        let backend = db.backend;
        let insert = match backend {
            Backend::MariaDb => "INSERT INTO app_writes (n, at) VALUES (?, '2026-11-22')",
            Backend::Sqlite | Backend::Postgres => {
                "INSERT INTO app_writes (n, at) VALUES ($1, '2026-11-22')"
            }
        };
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let task = tokio::spawn(async move {
            let mut c = connect(backend, &url).await;
            sqlx::raw_sql("CREATE TABLE IF NOT EXISTS app_writes (n BIGINT, at VARCHAR(40))")
                .execute(&mut c)
                .await
                .unwrap();
            let mut latencies = Vec::new();
            let mut n = 0i64;
            let mut tick = tokio::time::interval(Duration::from_millis(2));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while !stopped.load(Ordering::SeqCst) {
                tick.tick().await;
                n += 1;
                let started = Instant::now();
                sqlx::query(insert).bind(n).execute(&mut c).await.unwrap();
                latencies.push(started.elapsed());
            }
            latencies
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        Writer { stop, task }
    }

    async fn finish(self) -> Latency {
        tokio::time::sleep(Duration::from_millis(200)).await;
        self.stop.store(true, Ordering::SeqCst);
        latency(self.task.await.unwrap())
    }
}

async fn writer_if(db: &Db, on: bool) -> Option<Writer> {
    if on {
        Some(Writer::start(db).await)
    } else {
        None
    }
}

async fn finish(w: Option<Writer>) -> Option<Latency> {
    match w {
        Some(w) => Some(w.finish().await),
        None => None,
    }
}

/// The bulk statement; on SQLite with `secure_delete` as retentiond has it, and
/// then, with `vacuum`, the `VACUUM` and WAL truncation that leave no copy behind.
pub async fn bulk(db: &Db, sql: &str, with_writer: bool, vacuum: bool) -> Side {
    let w = writer_if(db, with_writer).await;
    let mut c = db.conn().await;
    if db.backend == Backend::Sqlite {
        sqlx::raw_sql("PRAGMA secure_delete = ON")
            .execute(&mut c)
            .await
            .unwrap();
    }
    let started = Instant::now();
    let done = sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
        .execute(&mut c)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let statement = started.elapsed().as_secs_f64();
    let mut vacuum_seconds = 0.0;
    if vacuum {
        let began = Instant::now();
        sqlx::raw_sql("VACUUM; PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut c)
            .await
            .unwrap();
        vacuum_seconds = began.elapsed().as_secs_f64();
    }
    c.close().await.unwrap();
    Side {
        seconds: statement + vacuum_seconds,
        vacuum_seconds,
        rows: done.rows_affected(),
        writer: finish(w).await,
        ..Side::default()
    }
}

/// The binary measured: this build's, or `BENCH_RETENTIOND` (an older build, to
/// compare before and after).
pub fn binary() -> PathBuf {
    std::env::var_os("BENCH_RETENTIOND")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_retentiond")))
}

/// The config for `policy`; `[limits]` gets `BENCH_LIMITS` (e.g. `batch_time =
/// "10ms"`) when set.
pub fn write_config(db: &Db, policy: &str) -> PathBuf {
    let limits = std::env::var("BENCH_LIMITS").unwrap_or_default();
    write_config_with(db, &limits, policy)
}

pub fn write_config_with(db: &Db, limits: &str, policy: &str) -> PathBuf {
    let config = db.dir.path().join("retention.toml");
    let url = db.url.replace("?mode=rwc", "");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = \"{url}\"\n\n[limits]\nmax_table_fraction = 1.0\n{limits}\n\n{policy}"
        ),
    )
    .unwrap();
    config
}

/// Seconds `retentiond plan` takes, as a process.
pub fn plan_seconds(db: &Db, policy: &str) -> f64 {
    let config = write_config(db, policy);
    let started = Instant::now();
    let out = Command::new(binary())
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

/// `retentiond purge` as a process, its peak RSS read from /proc while it runs.
pub async fn retentiond(db: &Db, policy: &str, with_writer: bool) -> Side {
    run_config(db, &write_config(db, policy), with_writer).await
}

/// `retentiond purge` with the config at `config`.
pub async fn run_config(db: &Db, config: &std::path::Path, with_writer: bool) -> Side {
    let w = writer_if(db, with_writer).await;
    let log_path = db.dir.path().join("purge.log");
    let started = Instant::now();
    let mut child = Command::new(binary())
        .args(["-c", config.to_str().unwrap(), "purge", "--format", "json"])
        // One line per committed batch, with its duration and steps.
        .env("RUST_LOG", "retentiond::engine=debug")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    while child.try_wait().unwrap().is_none() {
        if let Some(kib) = crate::rss::peak_rss(&status_path) {
            peak = peak.max(kib);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    let out = child.wait_with_output().unwrap();
    let writer = finish(w).await;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("purge --format json");
    let p = &json["policies"][0];
    assert_eq!(p["status"], "ok", "{json}");
    let log = std::fs::read_to_string(&log_path).unwrap();
    Side {
        seconds,
        vacuum_seconds: field_of(&log, "storage reclaimed", "duration_ms").unwrap_or(0.0) / 1000.0,
        rows: p["rows"].as_u64().unwrap_or(0),
        writer,
        batches: batch_durations(&log),
        longest: longest(p),
        batch_size: p["batch_size"].as_u64(),
        peak_rss_kib: Some(peak),
        walk: p["walk"]["walk"].as_str().map(str::to_string),
    }
}

/// Whether Percona's pt-archiver is installed; under CI it must be.
pub fn has_pt_archiver() -> bool {
    let found = Command::new("pt-archiver")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found || std::env::var("CI").as_deref() != Ok("true"),
        "pt-archiver is not installed (Debian's percona-toolkit; .ci/run installs it)"
    );
    found
}

/// `pt-archiver --purge` of the rows `condition` selects, in chunks of 1,000 by the
/// primary key, a commit per chunk, one multi-row DELETE per chunk: its fastest
/// purging mode. Its rows are the table's count before less after.
pub async fn pt_archiver(db: &Db, condition: &str, with_writer: bool) -> Side {
    let count = || async {
        let mut c = db.conn().await;
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT count(*) FROM {}",
            crate::setup::TABLE
        )))
        .fetch_one(&mut c)
        .await
        .unwrap();
        n as u64
    };
    let before = count().await;
    let port = crate::servers::mariadb().port;
    let source = format!(
        "h=127.0.0.1,P={port},u=root,D={},t={}",
        db.name,
        crate::setup::TABLE
    );
    let w = writer_if(db, with_writer).await;
    let started = Instant::now();
    let out = Command::new("pt-archiver")
        .args(["--source", &source, "--purge", "--where", condition])
        .args([
            "--limit",
            "1000",
            "--commit-each",
            "--primary-key-only",
            "--bulk-delete",
        ])
        .output()
        .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let writer = finish(w).await;
    assert!(
        out.status.success(),
        "pt-archiver: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Side {
        seconds,
        rows: before - count().await,
        writer,
        ..Side::default()
    }
}

fn longest(p: &serde_json::Value) -> Option<Longest> {
    let l = p.get("longest_batch")?;
    let steps: Vec<String> = ["begin", "find", "write", "audit", "commit"]
        .iter()
        .map(|s| format!("{s} {}", l[format!("{s}_ms")].as_u64().unwrap_or(0)))
        .collect();
    Some(Longest {
        ms: l["ms"].as_u64()?,
        rows: l["rows"].as_u64()?,
        step: l["slowest_step"].as_str().unwrap_or("-").to_string(),
        steps: steps.join(", "),
    })
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

/// A number field of the first log line that says `message`.
fn field_of(log: &str, message: &str, field: &str) -> Option<f64> {
    let line = log.lines().find(|l| l.contains(message))?;
    let rest = line.split(&format!(" {field}=")).nth(1)?;
    rest.split_whitespace().next()?.parse().ok()
}
