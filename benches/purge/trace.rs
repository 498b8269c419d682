//! `--trace`: what one batch costs the server, from the server's own statement log:
//! round trips and server time per batch, by kind of statement, on PostgreSQL
//! (`log_min_duration_statement = 0`) and MariaDB (the slow-query log at 0 s, as a
//! table). Run it with `BENCH_RETENTIOND` pointing at an older build to compare.

use std::collections::BTreeMap;

use sqlx::Row;

use crate::measure::{self, binary};
use crate::setup::{Backend, Db};

/// 400,000 rows, half expired, in fixed batches of 5,000: 40 batches.
const ROWS: u64 = 400_000;
const BATCH: u64 = 5_000;

/// A statement as the server logged it: how long it took, and its text.
struct Logged {
    ms: f64,
    /// Whether it was a round trip of its own (a simple query or an execute, not a
    /// parse or bind sent with it).
    round_trip: bool,
    text: String,
}

pub async fn run() {
    println!(
        "\nround trips and server time per batch ({ROWS} rows, {} expired, batches of {BATCH}; binary {})",
        ROWS / 2,
        binary().display()
    );
    for backend in [Backend::Postgres, Backend::MariaDb] {
        for (task, anonymize) in [("delete", None), ("truncate_ip", Some("truncate_ip"))] {
            let db = Db::new(backend).await;
            db.table(ROWS, ROWS / 2, crate::setup::Layout::Correlated)
                .await;
            let policy = crate::cases::policy(anonymize, "");
            let config = measure::write_config_with(&db, &format!("batch_size = {BATCH}"), &policy);
            let statements = match backend {
                Backend::Postgres => postgres(&db, &config).await,
                Backend::MariaDb => mariadb(&db, &config).await,
                Backend::Sqlite => unreachable!(),
            };
            print(backend, task, &statements);
            db.drop_database().await;
        }
    }
}

fn print(backend: Backend, task: &str, all: &[Logged]) {
    // The batches: from the first BEGIN to the last COMMIT.
    let first = all.iter().position(|s| kind(&s.text) == "begin");
    let last = all.iter().rposition(|s| kind(&s.text) == "commit");
    let (Some(first), Some(last)) = (first, last) else {
        println!("  {backend:?} {task}: no batch in the log");
        return;
    };
    let batches = &all[first..=last];
    // PostgreSQL logs an extended-protocol statement at bind and at execute: count
    // only the round trips, or every batch counts twice.
    let n = batches
        .iter()
        .filter(|s| s.round_trip && kind(&s.text) == "commit")
        .count() as f64;
    let mut by_kind: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for s in batches {
        let e = by_kind.entry(kind(&s.text)).or_default();
        e.0 += if s.round_trip { 1.0 } else { 0.0 };
        e.1 += s.ms;
    }
    let trips: f64 = by_kind.values().map(|v| v.0).sum();
    let ms: f64 = by_kind.values().map(|v| v.1).sum();
    let detail: Vec<String> = by_kind
        .iter()
        .map(|(k, (t, m))| format!("{k} {:.1}×/{:.2} ms", t / n, m / n))
        .collect();
    println!(
        "  {:<9} {:<12} {n:>3} batches: {:.1} round trips, {:.2} ms server time per batch ({})",
        backend.name(),
        task,
        trips / n,
        ms / n,
        detail.join(", ")
    );
    if std::env::var_os("BENCH_TRACE_SQL").is_some() {
        // One statement of each kind, from a batch halfway through.
        let mut shown = std::collections::BTreeSet::new();
        for s in &batches[batches.len() / 2..] {
            if shown.insert(kind(&s.text)) {
                println!("    {}: {}", kind(&s.text), s.text);
            }
        }
    }
}

/// What a statement does in a batch.
fn kind(text: &str) -> &'static str {
    let t = text.trim_start().to_ascii_uppercase();
    if t.starts_with("BEGIN") || t.starts_with("START TRANSACTION") {
        "begin"
    } else if t.starts_with("COMMIT") {
        "commit"
    } else if t.contains("RETENTION_EVENTS") {
        "audit"
    } else if t.contains("PG_ADVISORY") || t.contains("RETENTION_LEASE") {
        "lock"
    } else if t.starts_with("DELETE") || t.starts_with("UPDATE") {
        "write"
    } else if t.contains("OFFSET") {
        "find"
    } else {
        "other"
    }
}

async fn postgres(db: &Db, config: &std::path::Path) -> Vec<Logged> {
    let log = crate::servers::postgres().log_path();
    let set = |on: bool| {
        let sql = if on {
            [
                "ALTER SYSTEM SET log_min_duration_statement = 0",
                "ALTER SYSTEM SET log_line_prefix = '%d [%p] '",
            ]
        } else {
            [
                "ALTER SYSTEM RESET log_min_duration_statement",
                "ALTER SYSTEM RESET log_line_prefix",
            ]
        };
        async move {
            for s in sql.iter().chain(&["SELECT pg_reload_conf()"]) {
                db.exec(s).await;
            }
            // The reload reaches the backends at their next statement.
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
    };
    set(true).await;
    let from = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    measure::run_config(db, config, false).await;
    set(false).await;
    let text = std::fs::read(&log).unwrap();
    let text = String::from_utf8_lossy(&text[from as usize..]).to_string();
    let prefix = format!("{} [", db.name);
    text.lines()
        .filter(|l| l.starts_with(&prefix))
        .filter_map(|l| {
            let rest = l.split("LOG:  duration: ").nth(1)?;
            let (ms, rest) = rest.split_once(" ms  ")?;
            let (what, sql) = rest.split_once(": ")?;
            Some(Logged {
                ms: ms.parse().ok()?,
                round_trip: what == "statement" || what.starts_with("execute"),
                text: sql.to_string(),
            })
        })
        .collect()
}

async fn mariadb(db: &Db, config: &std::path::Path) -> Vec<Logged> {
    db.exec(
        "SET GLOBAL log_output = 'TABLE'; SET GLOBAL long_query_time = 0; TRUNCATE mysql.slow_log; SET GLOBAL slow_query_log = 1",
    )
    .await;
    measure::run_config(db, config, false).await;
    db.exec("SET GLOBAL slow_query_log = 0; SET GLOBAL long_query_time = 10")
        .await;
    let mut c = db.conn().await;
    let rows = sqlx::query(
        "SELECT CAST(TIME_TO_SEC(query_time) * 1000 AS DOUBLE), CAST(sql_text AS CHAR) FROM mysql.slow_log WHERE db = ? ORDER BY start_time",
    )
    .bind(&db.name)
    .fetch_all(&mut c)
    .await
    .unwrap();
    rows.iter()
        .map(|r| Logged {
            ms: r.get(0),
            round_trip: true,
            text: r.get(1),
        })
        .collect()
}
