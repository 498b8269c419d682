//! Failover of the purger: three `retentiond run` daemons share one database and an
//! every-second schedule; the one purging is killed with SIGKILL, and another takes
//! over. Then the server crashes and restarts under all of them (PostgreSQL `pg_ctl
//! restart -m immediate`, MariaDB SIGKILL and a new start). Nothing is purged twice at once, and every row is
//! counted once.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::servers;
use crate::support::{Backend, Shop, run_cli, stderr};

const EXPIRED: i64 = 30_000;
const YOUNG: i64 = 500;
/// How soon another daemon must purge after the purger died: the server drops a
/// dead connection's locks at once on loopback, and the schedule ticks every second.
const TAKEOVER_BOUND: Duration = Duration::from_secs(10);

/// The daemons; killed when the test ends, however it ends.
struct Daemons(Vec<Child>);

impl Drop for Daemons {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

async fn prepare(shop: &Shop) {
    shop.exec(&format!(
        "INSERT INTO events (id, at, payload)
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {total})
         SELECT i, CASE WHEN i <= {EXPIRED} THEN '2015-06-01T00:00:00Z' ELSE '2099-06-01T00:00:00Z' END, 'payload' FROM n;",
        total = EXPIRED + YOUNG
    ))
    .await;
    // Small batches and a rest, so that a pass lasts long enough to be cut.
    shop.write_config(
        "[schedule]\ncron = \"* * * * * *\"\n\n[limits]\nbatch_size = 100\npause = \"10ms\"\nmax_table_fraction = 1.0\n\n\
         [[policy]]\nname = \"events\"\ntable = \"events\"\ntimestamp = \"at\"\nkeep = \"5 years\"\naction = \"delete\"\n",
    );
    let out = run_cli(&shop.config_path, shop.dir.path(), &["migrate"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

fn start_daemons(shop: &Shop) -> Daemons {
    Daemons(
        (0..3)
            .map(|i| {
                Command::new(env!("CARGO_BIN_EXE_retentiond"))
                    .args(["-c", shop.config_path.to_str().unwrap(), "run"])
                    .env_remove("RUST_LOG")
                    .stdout(Stdio::null())
                    .stderr(std::fs::File::create(shop.path(&format!("daemon{i}.log"))).unwrap())
                    .spawn()
                    .unwrap()
            })
            .collect(),
    )
}

/// The instance (host:pid) running a pass that has purged something, once there is one.
async fn purging_instance(shop: &Shop) -> Option<String> {
    let rows = shop
        .rows(
            "SELECT r.instance FROM retention_runs r WHERE r.status = 'running' \
             AND EXISTS (SELECT 1 FROM retention_events e WHERE e.run_id = r.id AND e.\"rows\" > 0) \
             ORDER BY r.id DESC",
        )
        .await;
    rows.first().map(|r| r[0].clone())
}

/// The instance of the first daemon seen purging.
async fn wait_for_purger(shop: &Shop) -> String {
    let started = Instant::now();
    loop {
        if let Some(instance) = purging_instance(shop).await {
            return instance;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no daemon purges"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_until<F: std::future::Future<Output = bool>>(
    what: &str,
    bound: Duration,
    mut done: impl FnMut() -> F,
) -> Duration {
    let started = Instant::now();
    while !done().await {
        assert!(started.elapsed() < bound, "not within {bound:?}: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    started.elapsed()
}

/// Kills the purger and asserts that another daemon takes over, then (with
/// `crash`) crashes the database under all of them; every row is counted once.
async fn the_purger_dies_and_another_takes_over(shop: &Shop, crash: Option<&servers::Server>) {
    prepare(shop).await;
    let daemons = start_daemons(shop);
    let pids: Vec<u32> = daemons.0.iter().map(Child::id).collect();
    let victim = wait_for_purger(shop).await;
    let pid: u32 = victim.rsplit(':').next().unwrap().parse().unwrap();
    assert!(pids.contains(&pid), "{victim} is one of the test's daemons");
    let killed = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let victim_run = shop
        .int(&format!(
            "SELECT max(id) FROM retention_runs WHERE instance = '{victim}'"
        ))
        .await;

    let took = wait_until("another daemon purges", TAKEOVER_BOUND, || async {
        shop.int(&format!(
            "SELECT count(*) FROM retention_events e JOIN retention_runs r ON r.id = e.run_id \
             WHERE e.\"rows\" > 0 AND r.id > {victim_run}"
        ))
        .await
            > 0
    })
    .await;
    eprintln!("another daemon purged {took:?} after the purger was killed");

    if let Some(server) = crash {
        wait_until(
            "the new purger gets going",
            Duration::from_secs(30),
            || async {
                shop.int(&format!(
                    "SELECT count(*) FROM retention_events WHERE run_id > {victim_run}"
                ))
                .await
                    > 5
            },
        )
        .await;
        match shop.backend {
            Backend::Postgres => server.restart_postgres_with("immediate"),
            _ => server.crash_and_restart_mariadb(),
        }
    }
    wait_until(
        "every expired row is gone",
        Duration::from_secs(120),
        || async { shop.int("SELECT count(*) FROM events").await == YOUNG },
    )
    .await;
    drop(daemons);

    let counted: i64 = shop
        .ints("SELECT \"rows\" FROM retention_events")
        .await
        .iter()
        .sum();
    assert_eq!(counted, EXPIRED, "every purged row counted once");
    // One pass at a time: the events' passes never go back to an earlier one.
    let runs = shop
        .ints("SELECT run_id FROM retention_events ORDER BY id")
        .await;
    if !runs.windows(2).all(|w| w[0] <= w[1]) {
        for r in shop.rows("SELECT id, run_id, action, \"rows\", created_at, detail FROM retention_events ORDER BY id").await {
            eprintln!("event {r:?}");
        }
        for r in shop.rows("SELECT id, instance, status, started_at, finished_at, error FROM retention_runs ORDER BY id").await {
            eprintln!("run {r:?}");
        }
    }
    assert!(
        runs.windows(2).all(|w| w[0] <= w[1]),
        "two passes' events interleave: {runs:?}"
    );
    let instances = shop
        .rows("SELECT DISTINCT r.instance FROM retention_events e JOIN retention_runs r ON r.id = e.run_id WHERE e.\"rows\" > 0")
        .await;
    assert!(
        instances.len() >= 2,
        "the work was shared by the victim and its successor: {instances:?}"
    );
    let out = run_cli(&shop.config_path, shop.dir.path(), &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_purger_killed_then_the_server_crashes() {
    let server = servers::durable_postgres();
    let shop = Shop::on_postgres_at(server.port, SCHEMA).await;
    the_purger_dies_and_another_takes_over(&shop, Some(&server)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_purger_killed_then_the_server_crashes() {
    let server = servers::durable_mariadb();
    let shop = Shop::on_mariadb_at(server.port, SCHEMA).await;
    the_purger_dies_and_another_takes_over(&shop, Some(&server)).await;
}

/// `status` names the instance holding the pass lock while it purges.
#[tokio::test(flavor = "multi_thread")]
async fn status_names_the_instance_that_holds_the_lock() {
    let shop = Shop::on(Backend::Postgres, SCHEMA).await;
    prepare(&shop).await;
    let out = run_cli(&shop.config_path, shop.dir.path(), &["status"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("pass lock  free"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let daemons = start_daemons(&shop);
    wait_for_purger(&shop).await;
    let out = run_cli(
        &shop.config_path,
        shop.dir.path(),
        &["status", "--format", "json"],
    );
    drop(daemons);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lock = &json["pass_lock"];
    assert_eq!(lock["held"], true, "{json}");
    // The pass may have ended between the two reads; then a newer one holds it.
    let holder = lock["instance"].as_str().unwrap_or_default();
    let pid: u32 = holder
        .rsplit(':')
        .next()
        .unwrap_or("0")
        .parse()
        .unwrap_or(0);
    assert!(pid > 0, "{json}");
}

const SCHEMA: &str =
    "CREATE TABLE events (id INTEGER PRIMARY KEY, at VARCHAR(40) NOT NULL, payload VARCHAR(40));
     CREATE INDEX events_at ON events (at);";
