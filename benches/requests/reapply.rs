//! The re-apply line of the requests bench: an erasure ledger of N entries checked
//! against the database by `retentiond erase --reapply`.

use std::process::Command;
use std::time::Instant;

use retentiond::ledger::{GENESIS, LedgerEvent, LedgerLine, LedgerPolicy};
use retentiond::outcome::ErasureOutcome;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, AssertSqlSafe, Connection};

/// Rows in each of the three erasing policies' tables.
const ROWS: u64 = 300_000;
/// Subjects of the tables: erased subjects are numbered above them.
const LIVE_SUBJECTS: u64 = 100_000;

pub fn print_header() {
    println!();
    println!(
        "| backend | ledger entries | subjects back | check ms (baseline: empty ledger) | erase --reapply ms (baseline) | statements |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
}

/// Three tables of `ROWS` rows each, the subject indexed, none of it erased.
async fn tables(url: &str) {
    let open = if url.starts_with("sqlite:") {
        format!("{url}?mode=rwc")
    } else {
        url.to_string()
    };
    let mut c = AnyConnection::connect(&open).await.unwrap();
    if url.starts_with("mysql:") {
        sqlx::raw_sql("SET SESSION max_recursive_iterations = 100000000")
            .execute(&mut c)
            .await
            .unwrap();
    }
    for t in ["carts", "consents", "sessions"] {
        for sql in [
            format!(
                "CREATE TABLE {t} (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL, at VARCHAR(40) NOT NULL)"
            ),
            format!("CREATE INDEX {t}_customer ON {t} (customer_id)"),
            format!(
                "INSERT INTO {t} (id, customer_id, at) WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {ROWS}) SELECT n, n % {LIVE_SUBJECTS}, '2026-11-01T00:00:00Z' FROM s"
            ),
        ] {
            sqlx::raw_sql(AssertSqlSafe(sql))
                .execute(&mut c)
                .await
                .unwrap();
        }
    }
    c.close().await.unwrap();
}

/// A ledger of `entries` answered erasures of subjects the tables do not hold.
fn ledger(path: &std::path::Path, entries: u64) {
    let mut text = String::new();
    let mut prev = GENESIS.to_string();
    for i in 0..entries {
        let line = LedgerLine {
            seq: i + 1,
            event: LedgerEvent::Erased,
            request: i as i64 + 1,
            subject: (LIVE_SUBJECTS + 1 + i).to_string(),
            at: "2026-11-15T00:00:00.000Z".into(),
            run: None,
            policies: ["carts", "consents", "sessions"]
                .map(|p| LedgerPolicy {
                    policy: p.into(),
                    outcome: ErasureOutcome::Deleted,
                    rows: 3,
                })
                .to_vec(),
            prev,
        };
        let json = serde_json::to_string(&line).unwrap();
        prev = hex::encode(Sha256::digest(json.as_bytes()));
        text.push_str(&json);
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

fn config(dir: &std::path::Path, url: &str, ledger: &std::path::Path) -> std::path::PathBuf {
    let mut text = format!(
        "[database]\nurl = \"{url}\"\n\n[erasure]\nledger = \"{}\"\n",
        ledger.display()
    );
    for t in ["carts", "consents", "sessions"] {
        text.push_str(&format!(
            "\n[[policy]]\nname = \"{t}\"\ntable = \"{t}\"\ntimestamp = \"at\"\nkeep = \"10 years\"\nbasis = \"consent\"\nsubject = \"customer_id\"\naction = \"delete\"\n"
        ));
    }
    let path = dir.join("retention.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `erase --reapply`: its wall time, and the check's own time from its debug line.
fn reapply(config: &std::path::Path) -> (f64, f64) {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_retentiond"))
        .args(["-c", config.to_str().unwrap(), "erase", "--reapply"])
        .env("RUST_LOG", "retentiond::engine::reapply=debug")
        .output()
        .unwrap();
    let wall = started.elapsed().as_secs_f64() * 1000.0;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = String::from_utf8_lossy(&out.stderr);
    let check = log
        .lines()
        .find(|l| l.contains("erasure ledger checked"))
        .and_then(|l| l.split("duration_ms=").nth(1))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN);
    (check, wall)
}

pub async fn measure(backend: &str, url: &str, entries: u64) {
    tables(url).await;
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.ledger");
    let full = dir.path().join("full.ledger");
    ledger(&full, entries);
    let (base_check, base_wall) = reapply(&config(dir.path(), url, &empty));
    let with_full = config(dir.path(), url, &full);
    // The first run creates retentiond's tables; the second is a pass's cost.
    reapply(&with_full);
    let (check, wall) = reapply(&with_full);
    let statements = 3 * entries.div_ceil(500);
    println!(
        "| {backend} | {entries} | 0 | {check:.0} ({base_check:.0}) | {wall:.0} ({base_wall:.0}) | {statements} |"
    );
    // A restore brings one erased subject back.
    let open = if url.starts_with("sqlite:") {
        format!("{url}?mode=rw")
    } else {
        url.to_string()
    };
    let mut c = AnyConnection::connect(&open).await.unwrap();
    let back = LIVE_SUBJECTS + 1 + entries / 2;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "INSERT INTO consents (id, customer_id, at) VALUES ({}, {back}, '2026-11-01T00:00:00Z')",
        ROWS + 1
    )))
    .execute(&mut c)
    .await
    .unwrap();
    c.close().await.unwrap();
    let (check, wall) = reapply(&with_full);
    println!(
        "| {backend} | {entries} | 1 | {check:.0} ({base_check:.0}) | {wall:.0} ({base_wall:.0}) | {statements} |"
    );
}
