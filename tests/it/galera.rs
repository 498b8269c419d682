//! A MariaDB Galera cluster on loopback (Debian's `galera-4`), three nodes, with a
//! `retentiond run` daemon next to each: exactly one purges at a time (the audit
//! events never interleave two runs, one `retentiond_leader` at a time), a node
//! killed with SIGKILL mid-pass (the leader's, then another) leaves the survivors
//! to finish, rows gone == rows in the audit trail. And batches that stay under
//! `wsrep_max_ws_rows`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sqlx::{Connection, MySqlConnection, Row};

use crate::daemon::{KillOnDrop, free_port, spawn_daemon};
use crate::servers::{self, Server};
use crate::support::{assert_runs_in_blocks, run_cli, stderr, stdout};

const YOUNG: i64 = 1_000;

async fn connect(node: &Server) -> MySqlConnection {
    let url = format!("mysql://root@127.0.0.1:{}/shop", node.port);
    let started = Instant::now();
    loop {
        match MySqlConnection::connect(&url).await {
            Ok(mut c) => {
                // Reads that see every write the cluster committed before them.
                sqlx::query("SET SESSION wsrep_sync_wait = 1")
                    .execute(&mut c)
                    .await
                    .unwrap();
                return c;
            }
            Err(e) if started.elapsed() > Duration::from_secs(60) => {
                panic!("node on {} does not answer: {e}", node.port)
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

async fn int(node: &Server, sql: &str) -> i64 {
    let mut c = connect(node).await;
    let row = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&mut c)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let n = row.try_get::<Option<i64>, _>(0).unwrap().unwrap_or(0);
    c.close().await.ok();
    n
}

async fn exec(node: &Server, sql: &str) {
    let mut c = connect(node).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut c)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    c.close().await.ok();
}

/// `n` events after id `first`, two years old (`expired`) or a day old, in
/// transactions of at most `piece` rows (a cluster with `wsrep_max_ws_rows`
/// refuses more in one).
async fn add_rows(node: &Server, (first, n): (i64, i64), piece: i64, expired: bool) {
    let age = if expired {
        "INTERVAL 2 YEAR - INTERVAL seq SECOND"
    } else {
        "INTERVAL 1 DAY"
    };
    for from in (0..n).step_by(piece as usize) {
        let rows = piece.min(n - from);
        exec(
            node,
            &format!(
                "INSERT INTO events (id, at, ip) SELECT {first} + {from} + seq, \
                 UTC_TIMESTAMP() - {age}, '203.0.113.7' FROM seq_1_to_{rows}"
            ),
        )
        .await;
    }
}

/// `n` expired events after id `first`, in one transaction.
async fn add_expired(node: &Server, first: i64, n: i64) {
    add_rows(node, (first, n), n, true).await;
}

/// `n` expired events after id `first`, in transactions of 500 rows.
async fn add_in_pieces(node: &Server, first: i64, n: i64) {
    add_rows(node, (first, n), 500, true).await;
}

/// The shop: `YOUNG` events a day old, then `expired` ones, in transactions of at
/// most `piece` rows.
async fn new_shop(node: &Server, expired: i64, piece: i64) {
    let mut c = MySqlConnection::connect(&format!("mysql://root@127.0.0.1:{}/mysql", node.port))
        .await
        .unwrap();
    sqlx::raw_sql("CREATE DATABASE shop")
        .execute(&mut c)
        .await
        .unwrap();
    c.close().await.ok();
    exec(
        node,
        "CREATE TABLE events (id BIGINT NOT NULL PRIMARY KEY, at DATETIME NOT NULL, \
         ip VARCHAR(45), KEY events_at (at)) ENGINE = InnoDB",
    )
    .await;
    add_rows(node, (0, YOUNG), piece.min(YOUNG), false).await;
    add_rows(node, (YOUNG, expired), piece.min(expired), true).await;
}

fn config(dir: &Path, name: &str, node: &Server, rest: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(
        &path,
        format!(
            "[database]\nurl = \"mysql://root@127.0.0.1:{}/shop\"\nlease_time = \"10s\"\n\
             retries = 3\nretry_backoff = \"200ms\"\n\n{rest}\n\n\
             [limits]\nmax_table_fraction = 1.0\n\n\
             [[policy]]\nname = \"events\"\ntable = \"events\"\ntimestamp = \"at\"\n\
             keep = \"1 year\"\naction = \"delete\"\n",
            node.port
        ),
    )
    .unwrap();
    path
}

/// Scrapes every daemon's `retentiond_leader` every 50 ms: the most that said 1
/// at once, and which daemons ever did.
struct LeaderWatch {
    stop: Arc<AtomicBool>,
    most_at_once: Arc<AtomicUsize>,
    ever: Arc<std::sync::Mutex<Vec<bool>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LeaderWatch {
    fn start(ports: Vec<u16>) -> LeaderWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let most_at_once = Arc::new(AtomicUsize::new(0));
        let ever = Arc::new(std::sync::Mutex::new(vec![false; ports.len()]));
        let (s, m, e) = (stop.clone(), most_at_once.clone(), ever.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                let leading: Vec<bool> = ports.iter().map(|p| leads(*p)).collect();
                let n = leading.iter().filter(|l| **l).count();
                if n > 1 {
                    eprintln!(
                        "{:?}: daemons leading at once: {leading:?}",
                        std::time::SystemTime::now()
                    );
                }
                m.fetch_max(n, Ordering::SeqCst);
                for (i, l) in leading.iter().enumerate() {
                    e.lock().unwrap()[i] |= *l;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        LeaderWatch {
            stop,
            most_at_once,
            ever,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> (usize, Vec<bool>) {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.take().unwrap().join().unwrap();
        let ever = self.ever.lock().unwrap().clone();
        (self.most_at_once.load(Ordering::SeqCst), ever)
    }
}

fn leads(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.lines().any(|l| l.trim() == "retentiond_leader 1")
}

/// The daemon whose process holds the lease now, by the holder's process id.
async fn lease_holder(node: &Server, daemons: &[KillOnDrop]) -> Option<usize> {
    let mut c = connect(node).await;
    let row = sqlx::query(
        "SELECT holder FROM retention_lease WHERE id = 2 AND expires_at > UTC_TIMESTAMP(6)",
    )
    .fetch_optional(&mut c)
    .await
    .ok()??;
    let holder: Option<String> = row.try_get(0).ok()?;
    let pid: u32 = holder?.rsplit(':').next()?.parse().ok()?;
    daemons
        .iter()
        .position(|d| d.0.as_ref().is_some_and(|c| c.id() == pid))
}

async fn wait_until(what: &str, timeout: Duration, mut done: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !done().await {
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Kills the node under the daemon holding the lease mid-pass; returns the dead
/// node's index and how long until another daemon held the lease.
async fn kill_a_node_mid_pass(
    cluster: &[Server],
    daemons: &[KillOnDrop],
    pick_leader: bool,
) -> (usize, Duration) {
    let mut leader = None;
    wait_until("a pass under way", Duration::from_secs(60), async || {
        leader = lease_holder(&cluster[0], daemons).await;
        leader.is_some() && int(&cluster[0], "SELECT count(*) FROM retention_events").await > 0
    })
    .await;
    let leader = leader.unwrap();
    let victim = if pick_leader {
        leader
    } else {
        (leader + 1) % cluster.len()
    };
    let alive = (victim + 1) % cluster.len();
    let killed_at = Instant::now();
    cluster[victim].kill_mariadb();
    let mut took_over = Duration::ZERO;
    if pick_leader {
        wait_until(
            "another daemon takes the lease",
            Duration::from_secs(30),
            async || {
                let now = lease_holder(&cluster[alive], daemons).await;
                took_over = killed_at.elapsed();
                now.is_some_and(|h| h != victim)
            },
        )
        .await;
    }
    (victim, took_over)
}

async fn expired_left(node: &Server) -> i64 {
    int(
        node,
        "SELECT count(*) FROM events WHERE at < UTC_TIMESTAMP() - INTERVAL 1 YEAR",
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn three_daemons_on_three_nodes_purge_one_at_a_time_through_killed_nodes() {
    daemons_on_a_cluster(3, 1_000_000).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_daemons_on_three_nodes_purge_one_at_a_time_through_killed_nodes() {
    daemons_on_a_cluster(2, 300_000).await;
}

/// `n` daemons, one on each of the first `n` nodes of three, purge `first` rows
/// while the leader's node is killed, then more while another node is.
async fn daemons_on_a_cluster(n: usize, first: i64) {
    let _alone = servers::ONE_CLUSTER.lock().await;
    let cluster = servers::galera_cluster(3, &[]);
    new_shop(&cluster[0], first, first).await;
    let dir = tempfile::tempdir().unwrap();
    let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
    let daemons: Vec<KillOnDrop> = (0..n)
        .map(|i| {
            let rest = format!(
                "[schedule]\ncron = \"* * * * * *\"\ntimezone = \"UTC\"\n\n[metrics]\nlisten = \"127.0.0.1:{}\"",
                ports[i]
            );
            let c = config(dir.path(), &format!("node{i}"), &cluster[i], &rest);
            spawn_daemon(&c, &dir.path().join(format!("node{i}.log")))
        })
        .collect();
    let watch = LeaderWatch::start(ports.clone());
    let started = Instant::now();

    // status through any node names the lease's holder: the purging daemon. The
    // lease may change hands between two reads on a loaded machine, so status is
    // compared with the holder read just before and just after it.
    let named = Instant::now();
    loop {
        let before = lease_holder(&cluster[0], &daemons).await;
        let other = before.map_or(1, |l| (l + 1) % n);
        let status = run_cli(
            &dir.path().join(format!("node{other}.toml")),
            dir.path(),
            &["status"],
        );
        let after = lease_holder(&cluster[0], &daemons).await;
        let last = stdout(&status);
        if let (Some(b), Some(a)) = (before, after)
            && a == b
        {
            let pid = daemons[b].0.as_ref().unwrap().id();
            assert!(
                last.contains("pass lock  a lease held by ")
                    && last.contains(&format!(":{pid} until ")),
                "daemon {b} (pid {pid}) held the lease before and after: {last}"
            );
            break;
        }
        assert!(
            named.elapsed() < Duration::from_secs(60),
            "no steady lease holder: {last}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The leader's node dies mid-pass: another daemon takes the lease over and
    // finishes; the dead node comes back and catches up.
    let (dead, took_over) = kill_a_node_mid_pass(&cluster, &daemons, true).await;
    let alive = (dead + 1) % 3;
    wait_until(
        "the expired rows purged",
        Duration::from_secs(300),
        async || expired_left(&cluster[alive]).await == 0,
    )
    .await;
    let first_phase = started.elapsed();
    cluster[dead].start_mariadb_again();
    // Another node dies mid-pass, not the leader's: the leader goes on.
    let second = 300_000;
    add_expired(&cluster[alive], 10_000_000, second).await;
    let (dead, _) = kill_a_node_mid_pass(&cluster, &daemons, false).await;
    let alive = (dead + 1) % 3;
    wait_until(
        "the second rows purged",
        Duration::from_secs(300),
        async || expired_left(&cluster[alive]).await == 0,
    )
    .await;
    cluster[dead].start_mariadb_again();
    // Quiet: every daemon idle between passes.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (most_at_once, ever) = watch.finish();
    drop(daemons);
    if let Some(to) = std::env::var_os("GALERA_KEEP_LOGS") {
        for i in 0..n {
            let name = format!("node{i}.log");
            std::fs::copy(dir.path().join(&name), Path::new(&to).join(name)).unwrap();
        }
    }

    let node = &cluster[alive];
    assert_eq!(
        most_at_once, 1,
        "daemons that said retentiond_leader 1 at once"
    );
    assert!(
        ever.iter().filter(|e| **e).count() >= 2,
        "a takeover: {ever:?}"
    );
    assert_eq!(int(node, "SELECT count(*) FROM events").await, YOUNG);
    let counted = int(
        node,
        "SELECT CAST(COALESCE(SUM(`rows`), 0) AS SIGNED) FROM retention_events",
    )
    .await;
    assert_eq!(
        counted,
        first + second,
        "rows gone == rows in the audit trail"
    );
    // Each run's events are one block: no two runs ever wrote at the same time.
    let mut c = connect(node).await;
    let runs: Vec<i64> = sqlx::query("SELECT run_id FROM retention_events ORDER BY id")
        .fetch_all(&mut c)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<i64, _>(0))
        .collect();
    assert_runs_in_blocks(&runs);
    let failed = int(
        node,
        "SELECT count(*) FROM retention_runs WHERE status = 'failed'",
    )
    .await;
    let statuses: Vec<(String, i64)> =
        sqlx::query("SELECT CAST(status AS CHAR), count(*) FROM retention_runs GROUP BY status")
            .fetch_all(&mut c)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
    let errors: Vec<String> = sqlx::query(
        "SELECT CAST(COALESCE(error, '') AS CHAR) FROM retention_runs WHERE status = 'failed'",
    )
    .fetch_all(&mut c)
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect();
    // The run cut off with its node is abandoned by the next leader, not failed.
    let logs: String = (0..n)
        .map(|i| {
            let text = std::fs::read_to_string(dir.path().join(format!("node{i}.log")))
                .unwrap_or_default();
            let bad: Vec<&str> = text
                .lines()
                .filter(|l| l.contains("\"WARN\"") || l.contains("\"ERROR\""))
                .collect();
            format!(
                "--- node{i}\n{}\n",
                bad[bad.len().saturating_sub(6)..].join("\n")
            )
        })
        .collect();
    assert_eq!(
        failed, 0,
        "runs: {statuses:?}; failed with: {errors:?}\n{logs}"
    );
    let verify = run_cli(
        &config(dir.path(), "verify", node, ""),
        dir.path(),
        &["audit", "verify"],
    );
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{}{}",
        stdout(&verify),
        stderr(&verify)
    );
    eprintln!(
        "galera, {n} daemons: {} rows in {:.1} s through a killed leader node; lease taken over {:.1} s after the kill; runs {statuses:?}",
        first,
        first_phase.as_secs_f64(),
        took_over.as_secs_f64()
    );
    // lease_time, Galera's evs.suspect_timeout (5 s: the survivors hold commits
    // until they give up on the dead node), the schedule's second, and slack.
    assert!(
        took_over < Duration::from_secs(10 + 5 + 1 + 6),
        "takeover took {took_over:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn batches_stay_under_wsrep_max_ws_rows_and_wait_for_flow_control() {
    let _alone = servers::ONE_CLUSTER.lock().await;
    let cluster = servers::galera_cluster(2, &["--wsrep-max-ws-rows=1000"]);
    let expired = 20_000;
    new_shop(&cluster[0], expired, 500).await;
    let dir = tempfile::tempdir().unwrap();
    let watch_node2 = format!(
        "max_replica_lag = \"1s\"\nreplica_urls = [\"mysql://root@127.0.0.1:{}/shop\"]",
        cluster[1].port
    );
    let c = config(dir.path(), "node0", &cluster[0], "");
    let text = std::fs::read_to_string(&c).unwrap().replace(
        "retry_backoff = \"200ms\"\n",
        &format!("retry_backoff = \"200ms\"\n{watch_node2}\n"),
    );
    std::fs::write(&c, text).unwrap();

    let check = run_cli(&c, dir.path(), &["check"]);
    let out = stdout(&check);
    assert_eq!(check.status.code(), Some(0), "{out}{}", stderr(&check));
    assert!(
        out.contains("MariaDB Galera cluster \"retentiond-test\": 2 node(s), Primary component, this node Synced, wsrep_max_ws_rows 1000"),
        "{out}"
    );
    let purge = run_cli(&c, dir.path(), &["purge"]);
    assert_eq!(
        purge.status.code(),
        Some(0),
        "{}{}",
        stdout(&purge),
        stderr(&purge)
    );
    let node = &cluster[1];
    assert_eq!(expired_left(node).await, 0);
    let most = int(node, "SELECT MAX(`rows`) FROM retention_events").await;
    assert!((1..=998).contains(&most), "largest batch {most} rows");
    let counted = int(
        node,
        "SELECT CAST(SUM(`rows`) AS SIGNED) FROM retention_events",
    )
    .await;
    assert_eq!(counted, expired);

    // A fixed size over the limit: check warns, and the pass cuts it down.
    add_in_pieces(&cluster[0], 100_000, 5_000).await;
    let fixed = std::fs::read_to_string(&c)
        .unwrap()
        .replace("[limits]\n", "[limits]\nbatch_size = 5000\n");
    std::fs::write(&c, fixed).unwrap();
    let check = run_cli(&c, dir.path(), &["check"]);
    assert!(
        stdout(&check).contains("batch_size 5000 is over the cluster's wsrep_max_ws_rows 1000"),
        "{}",
        stdout(&check)
    );
    let purge = run_cli(&c, dir.path(), &["purge"]);
    assert_eq!(
        purge.status.code(),
        Some(0),
        "{}{}",
        stdout(&purge),
        stderr(&purge)
    );
    assert_eq!(expired_left(node).await, 0);
    let status = run_cli(&c, dir.path(), &["status"]);
    assert!(
        stdout(&status).contains("pass lock  free"),
        "{}",
        stdout(&status)
    );

    // Write sets limited to 16 KiB: a batch of 998 rows (their before-images)
    // is refused as too large, and halved until it fits.
    let node0 = &cluster[0];
    add_in_pieces(node0, 200_000, 3_000).await;
    exec(node0, "SET GLOBAL wsrep_max_ws_size = 16384").await;
    let purge = run_cli(&c, dir.path(), &["purge"]);
    assert_eq!(
        purge.status.code(),
        Some(0),
        "{}{}",
        stdout(&purge),
        stderr(&purge)
    );
    assert!(stderr(&purge).contains("halving it"), "{}", stderr(&purge));
    assert_eq!(expired_left(node).await, 0);
    exec(node0, "SET GLOBAL wsrep_max_ws_size = 2147483647").await;

    // Node 2 stops applying (FLUSH TABLES WITH READ LOCK): the next batch waits
    // for it, and after max_replica_wait the policy fails with the node named,
    // having purged nothing. Released, the next pass purges.
    add_in_pieces(node0, 300_000, 1_000).await;
    let short = std::fs::read_to_string(&c).unwrap().replace(
        "max_replica_lag = \"1s\"\n",
        "max_replica_lag = \"1s\"\nmax_replica_wait = \"2s\"\n",
    );
    std::fs::write(&c, short).unwrap();
    let mut locked = connect(&cluster[1]).await;
    sqlx::raw_sql("FLUSH TABLES WITH READ LOCK")
        .execute(&mut locked)
        .await
        .unwrap();
    let purge = run_cli(&c, dir.path(), &["purge"]);
    let said = format!("{}{}", stdout(&purge), stderr(&purge));
    assert_eq!(purge.status.code(), Some(1), "{said}");
    assert!(said.contains("max_replica_wait"), "{said}");
    assert_eq!(expired_left(node0).await, 1_000, "nothing purged blind");
    sqlx::raw_sql("UNLOCK TABLES")
        .execute(&mut locked)
        .await
        .unwrap();
    let purge = run_cli(&c, dir.path(), &["purge"]);
    assert_eq!(
        purge.status.code(),
        Some(0),
        "{}{}",
        stdout(&purge),
        stderr(&purge)
    );
    assert_eq!(expired_left(node0).await, 0);
    eprintln!("galera: held back while node 2 did not apply: {said}");
}
