//! `max_replica_lag` against real replicas on loopback: a PostgreSQL streaming
//! standby made with pg_basebackup and a MariaDB replica, each applying commits 2 s
//! late. The purge waits before every batch until the replica has replayed what it
//! wrote, counts every row once, and fails a policy rather than purge blind when a
//! replica cannot be reached.

use std::time::{Duration, Instant};

use crate::servers;
use crate::support::{Shop, run_cli, stderr, stdout};

const SCHEMA: &str =
    "CREATE TABLE events (id INTEGER PRIMARY KEY, at VARCHAR(40) NOT NULL, payload VARCHAR(40));
     CREATE INDEX events_at ON events (at);";
const EXPIRED: i64 = 3_000;
const YOUNG: i64 = 1_000;
/// Fixed batches, so that the pass has a known number of them: 3.
const BATCH: i64 = 1_000;

async fn fill(shop: &Shop, first_id: i64) {
    shop.exec(&format!(
        "INSERT INTO events (id, at, payload)
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {total})
         SELECT {first_id} + i, CASE WHEN i <= {EXPIRED} THEN '2015-06-01T00:00:00Z' ELSE '2099-06-01T00:00:00Z' END, 'payload' FROM n;",
        total = EXPIRED + YOUNG
    ))
    .await;
}

/// Rows of `events` as the replica at `url` shows them (0 before it has the table).
async fn replica_count(url: &str) -> i64 {
    use sqlx::{Connection, Row};
    let Ok(mut c) = sqlx::AnyConnection::connect(url).await else {
        return -1;
    };
    let n = match sqlx::query("SELECT count(*) FROM events")
        .fetch_one(&mut c)
        .await
    {
        Ok(row) => row.try_get::<i64, _>(0).unwrap_or(-1),
        Err(_) => -1,
    };
    c.close().await.ok();
    n
}

/// Waits until the replica at `url` shows `rows` rows in `events`.
async fn wait_for_replica(url: &str, rows: i64) {
    let started = Instant::now();
    while replica_count(url).await != rows {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the replica at {url} never showed {rows} rows"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn config(shop: &Shop, database: &str) {
    std::fs::write(
        &shop.config_path,
        format!(
            "[database]\nurl = \"{}\"\n{database}\n\n[limits]\nbatch_size = {BATCH}\nmax_table_fraction = 1.0\n\n\
             [[policy]]\nname = \"events\"\ntable = \"events\"\ntimestamp = \"at\"\nkeep = \"5 years\"\naction = \"delete\"\n",
            shop.url
        ),
    )
    .unwrap();
}

/// A purge as a process: its JSON and its log.
fn purge(shop: &Shop) -> (serde_json::Value, String) {
    let out = run_cli(
        &shop.config_path,
        shop.dir.path(),
        &["purge", "--format", "json"],
    );
    let log = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{}{log}", stdout(&out));
    (serde_json::from_slice(&out.stdout).unwrap(), log)
}

/// The purge waited for the replica before each batch: a WARN naming it, the
/// time waited in the JSON, and a replica that shows the purge's result when it
/// ends. Every row is counted once.
async fn assert_waited_for(shop: &Shop, replica_url: &str, replica_name: &str) {
    let counted_before = counted(shop).await;
    let (json, log) = purge(shop);
    let policy = &json["policies"][0];
    assert_eq!(policy["rows"], EXPIRED, "{json}");
    assert_eq!(policy["batches"], EXPIRED / BATCH, "{json}");
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("a replica lags behind"))
        .collect();
    assert!(
        warnings.len() as i64 >= EXPIRED / BATCH,
        "a wait before every batch: {log}"
    );
    assert!(
        warnings.iter().all(|l| l.contains(replica_name)),
        "each wait names the replica {replica_name}: {warnings:#?}"
    );
    let waited = policy["replica_wait_ms"].as_u64().unwrap();
    // Each of the 3 batches (and the final look for more) waited for a 2 s delay.
    assert!(waited >= 3 * 1_500, "waited {waited} ms: {log}");
    // It waited until the replica had replayed its own last batch.
    let left = shop.int("SELECT count(*) FROM events").await;
    assert_eq!(replica_count(replica_url).await, left);
    assert_eq!(
        counted(shop).await - counted_before,
        EXPIRED,
        "every row counted once"
    );
}

async fn counted(shop: &Shop) -> i64 {
    if !shop.has_own_tables().await {
        return 0;
    }
    shop.ints("SELECT \"rows\" FROM retention_events")
        .await
        .iter()
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_purge_waits_for_a_delayed_postgres_standby_before_every_batch() {
    let primary = servers::dedicated_postgres();
    let standby = servers::postgres_standby(&primary, "2s");
    let shop = Shop::on_postgres_at(primary.port, SCHEMA).await;
    let name = shop.url.rsplit('/').next().unwrap().to_string();
    let standby_url = format!("postgres://postgres@127.0.0.1:{}/{name}", standby.port);
    fill(&shop, 0).await;
    wait_for_replica(&standby_url, EXPIRED + YOUNG).await;

    // Read on the standby itself.
    config(
        &shop,
        &format!(
            "max_replica_lag = \"1s\"\nreplica_urls = [\"{standby_url}\"]\nmax_replica_wait = \"60s\""
        ),
    );
    assert_waited_for(&shop, &standby_url, &format!("127.0.0.1:{}", standby.port)).await;

    // Without max_replica_lag: no wait, and the standby is left behind.
    fill(&shop, 10_000).await;
    wait_for_replica(&standby_url, EXPIRED + 2 * YOUNG).await;
    config(&shop, "");
    let (json, log) = purge(&shop);
    assert_eq!(json["policies"][0]["rows"], EXPIRED);
    assert_eq!(json["policies"][0]["replica_wait_ms"], 0, "{json}");
    assert!(!log.contains("a replica lags behind"), "{log}");
    assert!(
        replica_count(&standby_url).await > 2 * YOUNG,
        "nothing waited for the standby's 2 s delay"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_purge_waits_for_a_delayed_mariadb_replica_before_every_batch() {
    let (primary, replica) = servers::mariadb_pair(2).await;
    let shop = Shop::on_mariadb_at(primary.port, SCHEMA).await;
    let name = shop.url.rsplit('/').next().unwrap().to_string();
    let replica_url = format!("mysql://root@127.0.0.1:{}/{name}", replica.port);
    fill(&shop, 0).await;
    wait_for_replica(&replica_url, EXPIRED + YOUNG).await;
    config(
        &shop,
        &format!(
            "max_replica_lag = \"1s\"\nreplica_urls = [\"{replica_url}\"]\nmax_replica_wait = \"60s\""
        ),
    );
    assert_waited_for(&shop, &replica_url, &format!("127.0.0.1:{}", replica.port)).await;
}

/// A replica that cannot be reached is not "no lag": the policy waits
/// `max_replica_wait`, then fails with the replica named, and purges nothing.
#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_replica_fails_the_policy_after_max_replica_wait() {
    let shop = Shop::on(crate::support::Backend::Postgres, SCHEMA).await;
    fill(&shop, 0).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    config(
        &shop,
        &format!(
            "max_replica_lag = \"1s\"\nreplica_urls = [\"postgres://watcher:secret@127.0.0.1:{port}/shop\"]\nmax_replica_wait = \"2s\""
        ),
    );
    let out = run_cli(
        &shop.config_path,
        shop.dir.path(),
        &["purge", "--format", "json"],
    );
    let log = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{}{log}", stdout(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let policy = &json["policies"][0];
    assert_eq!(policy["status"], "failed", "{json}");
    assert_eq!(policy["rows"], 0, "{json}");
    let error = policy["error"].as_str().unwrap();
    assert!(error.contains("cannot be reached"), "{error}");
    assert!(error.contains("max_replica_wait"), "{error}");
    assert!(error.contains(&format!("127.0.0.1:{port}")), "{error}");
    assert!(
        !error.contains("secret") && !log.contains("secret"),
        "{log}"
    );
    assert!(
        policy["replica_wait_ms"].as_u64().unwrap() >= 2_000,
        "{json}"
    );
    assert_eq!(
        shop.int("SELECT count(*) FROM events").await,
        EXPIRED + YOUNG
    );
}
