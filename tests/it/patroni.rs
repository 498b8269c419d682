//! PostgreSQL under Patroni, as its documentation sets it up: three nodes (Debian's
//! `patroni`), etcd as the store that elects the primary (`etcd-server`), and
//! HAProxy (`haproxy`) routing to whichever node Patroni's REST API calls primary
//! (`OPTIONS /primary`). Three `retentiond run` daemons pointed at HAProxy purge
//! through a `patronictl switchover` and a `kill -9` of the primary's postmaster in
//! the middle of a pass, then the loss of the primary's whole node (Patroni and
//! postmaster killed; a standby is promoted): the pass goes on or fails cleanly, the
//! next finishes on the new primary, rows gone == rows in the audit trail, `audit
//! verify` passes.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection, Row};

use crate::daemon::{KillOnDrop, free_port, spawn_daemon};
use crate::servers::{ensure_installed, is_root, newest, server_dir, supervise, user};
use crate::support::{assert_runs_in_blocks, run_cli, stderr, stdout};

/// A process under the servers' supervisor: it stops when this is dropped.
struct Supervised {
    dir: PathBuf,
    _supervisor: Child,
}

pub struct Patroni {
    /// HAProxy's port: the primary, whichever node it is.
    pub port: u16,
    /// Each node's PostgreSQL port.
    pub nodes_ports: Vec<u16>,
    etcd: String,
    nodes: Vec<Supervised>,
    _etcd: Supervised,
    _haproxy: Supervised,
}

const NODES: usize = 3;

fn binary(path: &'static str) -> impl Fn() -> Option<PathBuf> {
    move || Some(PathBuf::from(path)).filter(|p| p.exists())
}

/// Runs `command` under the supervisor in a directory of its own, its pid in a
/// file there; waits for `ready` in its output.
fn start(owner: Option<(u32, u32)>, command: &dyn Fn(&Path) -> String, ready: &str) -> Supervised {
    let dir = server_dir(owner).expect("a directory");
    let pid = dir.join("pid");
    let script = format!("echo $$ > '{}'; exec {}", pid.display(), command(&dir));
    let argv = ["sh".to_string(), "-c".into(), script];
    let child = supervise(&dir, owner, &argv, &pid, ready)
        .unwrap_or_else(|e| panic!("{} did not start: {e}", command(&dir)));
    Supervised {
        dir,
        _supervisor: child,
    }
}

fn write_owned(path: &Path, text: &str, owner: Option<(u32, u32)>) {
    std::fs::write(path, text).unwrap();
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
    }
}

fn node_config(i: usize, etcd: &str, [rest, pg]: [u16; 2], dir: &Path, bin: &Path) -> String {
    format!(
        "scope: shop\nname: pg{i}\nrestapi:\n  listen: 127.0.0.1:{rest}\n  connect_address: 127.0.0.1:{rest}\n\
         etcd:\n  host: {etcd}\n\
         bootstrap:\n  dcs:\n    ttl: 10\n    loop_wait: 1\n    retry_timeout: 4\n    maximum_lag_on_failover: 1048576\n\
         \x20   postgresql:\n      use_pg_rewind: true\n      parameters:\n        wal_level: replica\n\
         \x20       hot_standby: 'on'\n        wal_log_hints: 'on'\n        max_wal_senders: 10\n\
         \x20       max_replication_slots: 10\n  initdb:\n    - encoding: UTF8\n    - auth: trust\n\
         \x20 pg_hba:\n    - local all all trust\n    - host replication replicator 127.0.0.1/32 trust\n\
         \x20   - host all all 127.0.0.1/32 trust\n\
         postgresql:\n  listen: 127.0.0.1:{pg}\n  connect_address: 127.0.0.1:{pg}\n  data_dir: {data}\n\
         \x20 bin_dir: {bin}\n  pgpass: {pgpass}\n  authentication:\n\
         \x20   replication: {{username: replicator, password: rep}}\n\
         \x20   superuser: {{username: postgres, password: pg}}\n\
         \x20 parameters:\n    unix_socket_directories: {sock}\n",
        data = dir.join("data").display(),
        bin = bin.display(),
        pgpass = dir.join("pgpass").display(),
        sock = dir.display(),
    )
}

fn haproxy_config(port: u16, nodes: &[[u16; 2]]) -> String {
    let mut cfg = format!(
        "global\n    maxconn 200\ndefaults\n    mode tcp\n    timeout connect 4s\n    timeout client 30m\n\
         \x20   timeout server 30m\n    timeout check 2s\nlisten primary\n    bind 127.0.0.1:{port}\n\
         \x20   option httpchk OPTIONS /primary\n    http-check expect status 200\n\
         \x20   default-server inter 500ms fall 2 rise 2 on-marked-down shutdown-sessions\n"
    );
    for (i, [rest, pg]) in nodes.iter().enumerate() {
        cfg.push_str(&format!(
            "    server pg{} 127.0.0.1:{pg} maxconn 100 check port {rest}\n",
            i + 1
        ));
    }
    cfg
}

impl Patroni {
    pub async fn start() -> Patroni {
        let hint = "apt-get install patroni etcd-server haproxy";
        for (path, package) in [
            ("/usr/bin/patroni", "patroni"),
            ("/usr/bin/etcd", "etcd-server"),
            ("/usr/sbin/haproxy", "haproxy"),
        ] {
            ensure_installed(&binary(path), package)
                .unwrap_or_else(|e| panic!("{package} is needed for this test: {e}\n{hint}"));
        }
        let bin = newest("/usr/lib/postgresql", "bin")
            .unwrap_or_else(|| panic!("PostgreSQL is not installed\n{hint} postgresql"));
        let owner = if is_root() {
            Some(user("postgres").or_else(|| user("nobody")).expect("a user"))
        } else {
            None
        };
        let port = free_port;
        let (client, peer) = (port(), port());
        let etcd_ = start(
            owner,
            &|dir| {
                format!(
                    "etcd --name e1 --data-dir '{}' --enable-v2=true \
                     --listen-client-urls http://127.0.0.1:{client} --advertise-client-urls http://127.0.0.1:{client} \
                     --listen-peer-urls http://127.0.0.1:{peer} --initial-advertise-peer-urls http://127.0.0.1:{peer} \
                     --initial-cluster e1=http://127.0.0.1:{peer}",
                    dir.join("data").display()
                )
            },
            "ready to serve client requests",
        );
        let etcd = format!("127.0.0.1:{client}");
        let ports: Vec<[u16; 2]> = (0..NODES).map(|_| [port(), port()]).collect();
        let mut nodes = Vec::new();
        for (i, p) in ports.iter().enumerate() {
            let name = i + 1;
            // The first node bootstraps the cluster; the others copy it.
            let ready = if i == 0 {
                format!("I am (pg{name}), the leader with the lock")
            } else {
                format!("I am (pg{name}), a secondary, and following a leader")
            };
            nodes.push(start(
                owner,
                &|dir| {
                    let yml = dir.join("patroni.yml");
                    write_owned(&yml, &node_config(name, &etcd, *p, dir, &bin), owner);
                    format!("patroni '{}'", yml.display())
                },
                &ready,
            ));
        }
        let port = port();
        let haproxy = start(
            owner,
            &|dir| {
                let cfg = dir.join("haproxy.cfg");
                write_owned(&cfg, &haproxy_config(port, &ports), owner);
                format!("haproxy -f '{}' -db", cfg.display())
            },
            "",
        );
        let cluster = Patroni {
            port,
            nodes_ports: ports.iter().map(|[_, pg]| *pg).collect(),
            etcd,
            nodes,
            _etcd: etcd_,
            _haproxy: haproxy,
        };
        cluster.wait_for_primary().await;
        cluster
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres:pg@127.0.0.1:{}/{database}", self.port)
    }

    /// Waits until HAProxy routes to a node that takes writes, and only there:
    /// ten connections in a row reach the primary (at its start HAProxy counts
    /// every node up until their health checks fail).
    pub async fn wait_for_primary(&self) {
        let started = Instant::now();
        let mut in_a_row = 0;
        while in_a_row < 10 {
            let primary = async {
                let mut c = PgConnection::connect(&self.url("postgres")).await.ok()?;
                let row = sqlx::query("SELECT pg_is_in_recovery()")
                    .fetch_one(&mut c)
                    .await
                    .ok()?;
                Some(!row.get::<bool, _>(0))
            };
            in_a_row = if primary.await == Some(true) {
                in_a_row + 1
            } else {
                0
            };
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "no primary alone behind HAProxy after 60 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn patronictl(&self, args: &[&str]) -> String {
        let config = self.nodes[0].dir.join("patroni.yml");
        let out = Command::new("patronictl")
            .args(["-c", config.to_str().unwrap(), "-d"])
            .arg(format!("etcd://{}", self.etcd))
            .args(args)
            .output()
            .expect("patronictl");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "patronictl {args:?}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    }

    /// The node Patroni names the leader (primary), by index.
    pub fn primary(&self) -> usize {
        let list: serde_json::Value =
            serde_json::from_str(&self.patronictl(&["list", "-f", "json"])).unwrap();
        let name = list
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["Role"] == "Leader")
            .and_then(|m| m["Member"].as_str())
            .expect("a leader")
            .to_string();
        name.trim_start_matches("pg").parse::<usize>().unwrap() - 1
    }

    /// A planned switchover from the primary to the next node.
    pub fn switchover(&self) {
        let from = self.primary();
        let to = (from + 1) % NODES;
        self.patronictl(&[
            "switchover",
            "--leader",
            &format!("pg{}", from + 1),
            "--candidate",
            &format!("pg{}", to + 1),
            "--force",
        ]);
    }

    /// SIGKILL of the primary's Patroni and then its postmaster: the node is gone
    /// for good, and Patroni promotes a standby once the leader key's ttl ran out.
    pub fn kill_primary_node(&self) {
        let node = &self.nodes[self.primary()];
        kill_by_pid_file(&node.dir.join("pid"));
        kill_by_pid_file(&node.dir.join("data/postmaster.pid"));
    }

    /// SIGKILL of the primary's postmaster; Patroni notices and recovers.
    pub fn kill_primary_postmaster(&self) {
        kill_by_pid_file(&self.nodes[self.primary()].dir.join("data/postmaster.pid"));
    }
}

/// SIGKILL of the process whose id is the first line of `file`.
fn kill_by_pid_file(file: &Path) {
    let text = std::fs::read_to_string(file).unwrap();
    let pid = text.lines().next().unwrap().trim();
    let killed = Command::new("kill").args(["-KILL", pid]).status().unwrap();
    assert!(killed.success(), "kill -KILL {pid} ({})", file.display());
}

async fn query_int(url: &str, sql: &str) -> i64 {
    let started = Instant::now();
    loop {
        let got = async {
            let mut c = PgConnection::connect(url).await?;
            let row = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                .fetch_one(&mut c)
                .await?;
            Ok::<_, sqlx::Error>(row.try_get::<Option<i64>, _>(0)?.unwrap_or(0))
        }
        .await;
        match got {
            Ok(n) => return n,
            // Between primaries: HAProxy has none for a moment.
            Err(e) if started.elapsed() > Duration::from_secs(60) => panic!("{sql}: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// The last lines of every daemon's log in `dir`, for a failure's message.
fn log_tails(dir: &Path) -> String {
    let mut out = String::new();
    for i in 0..3 {
        let text = std::fs::read_to_string(dir.join(format!("d{i}.log"))).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        out.push_str(&format!(
            "--- d{i}\n{}\n",
            lines[lines.len().saturating_sub(8)..].join("\n")
        ));
    }
    out
}

const EXPIRED_LEFT: &str = "SELECT count(*) FROM events WHERE at < now() - interval '1 year'";
const YOUNG: i64 = 1_000;

async fn add_expired(url: &str, first: i64, n: i64) {
    query_int(
        url,
        &format!(
            "WITH added AS (INSERT INTO events SELECT {first} + g, now() - interval '2 years' - g * interval '1 second', \
             '203.0.113.7' FROM generate_series(1, {n}) g RETURNING 1) SELECT count(*) FROM added"
        ),
    )
    .await;
}

/// Adds `n` expired rows while the daemons are stopped (SIGSTOP), and counts the
/// audit events then: no pass can purge the rows before they are counted, however
/// long a query through HAProxy takes on a loaded machine.
async fn add_expired_paused(url: &str, first: i64, n: i64, daemons: &[KillOnDrop]) -> i64 {
    let signal = |sig: &str| {
        for d in daemons.iter().filter_map(|d| d.0.as_ref()) {
            let ok = std::process::Command::new("kill")
                .args([sig, &d.id().to_string()])
                .status()
                .unwrap()
                .success();
            assert!(ok, "kill {sig} {}", d.id());
        }
    };
    signal("-STOP");
    add_expired(url, first, n).await;
    let events = query_int(url, "SELECT count(*) FROM retention_events").await;
    signal("-CONT");
    events
}

/// Waits until a pass has committed batches after the `events`-th audit event,
/// then does `what` to the cluster, and waits until every expired row is gone.
/// Returns how long after `what` the next batch committed, and how long until the
/// last did.
async fn mid_pass(
    cluster: &Patroni,
    url: &str,
    events: i64,
    what: &dyn Fn(&Patroni),
    logs: &Path,
) -> (Duration, Duration) {
    let count = "SELECT count(*) FROM retention_events";
    let started = Instant::now();
    while query_int(url, count).await < events + 3 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no pass under way; the daemons' logs end:\n{}",
            log_tails(logs)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let before = query_int(url, count).await;
    let at = Instant::now();
    what(cluster);
    // A batch in flight may commit before the event takes hold: two more.
    while query_int(url, count).await < before + 2 {
        assert!(
            at.elapsed() < Duration::from_secs(120),
            "no batch after the event"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let resumed = at.elapsed();
    while query_int(url, EXPIRED_LEFT).await > 0 {
        assert!(
            at.elapsed() < Duration::from_secs(180),
            "the pass did not finish"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    (resumed, at.elapsed())
}

#[tokio::test(flavor = "multi_thread")]
async fn three_daemons_behind_haproxy_purge_through_a_switchover_a_killed_primary_and_a_lost_node()
{
    let _alone = crate::servers::ONE_CLUSTER.lock().await;
    let cluster = Patroni::start().await;
    let admin = cluster.url("postgres");
    query_int(&admin, "SELECT count(*) FROM pg_database").await;
    let mut c = PgConnection::connect(&admin).await.unwrap();
    sqlx::raw_sql("CREATE DATABASE shop")
        .execute(&mut c)
        .await
        .unwrap();
    c.close().await.ok();
    let url = cluster.url("shop");
    let mut c = PgConnection::connect(&url).await.unwrap();
    sqlx::raw_sql(
        "CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz NOT NULL, ip text);
         CREATE INDEX events_at ON events (at);
         INSERT INTO events SELECT g, now() - interval '1 day', '203.0.113.7' FROM generate_series(1, 1000) g;",
    )
    .execute(&mut c)
    .await
    .unwrap();
    c.close().await.ok();
    let per_phase = 1_000_000;
    add_expired(&url, YOUNG, per_phase).await;

    let dir = tempfile::tempdir().unwrap();
    let config = |name: &str, schedule: &str| {
        let path = dir.path().join(format!("{name}.toml"));
        std::fs::write(
            &path,
            format!(
                "[database]\nurl = \"{url}\"\nretries = 8\nretry_backoff = \"500ms\"\n\n{schedule}\n\
                 [limits]\nmax_table_fraction = 1.0\nbatch_size = 2000\npause = \"10ms\"\n\n\
                 [[policy]]\nname = \"events\"\ntable = \"events\"\ntimestamp = \"at\"\n\
                 keep = \"1 year\"\naction = \"delete\"\n"
            ),
        )
        .unwrap();
        path
    };
    let every_second = "[schedule]\ncron = \"* * * * * *\"\ntimezone = \"UTC\"\n";
    // check names what it sees through HAProxy, and refuses a standby.
    let streaming = Instant::now();
    while query_int(&url, "SELECT count(*) FROM pg_stat_replication").await < 2 {
        assert!(
            streaming.elapsed() < Duration::from_secs(60),
            "standbys not streaming"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let check = run_cli(&config("check", ""), dir.path(), &["check"]);
    assert!(
        stdout(&check).contains("PostgreSQL primary streaming to 2 standby(s), 0 synchronous"),
        "{}{}",
        stdout(&check),
        stderr(&check)
    );
    let standby = (cluster.primary() + 1) % NODES;
    let direct = config("standby", "").with_file_name("standby.toml");
    let text = std::fs::read_to_string(&direct).unwrap().replace(
        &format!("127.0.0.1:{}/", cluster.port),
        &format!("127.0.0.1:{}/", cluster.nodes_ports[standby]),
    );
    std::fs::write(&direct, text).unwrap();
    let check = run_cli(&direct, dir.path(), &["check"]);
    assert_eq!(check.status.code(), Some(2), "{}", stdout(&check));
    assert!(
        stdout(&check).contains("names a standby"),
        "{}",
        stdout(&check)
    );

    // The daemons start only now: a first pass that began while check ran
    // could be over before the switchover waits for one under way.
    let daemons: Vec<KillOnDrop> = (0..3)
        .map(|i| {
            let c = config(&format!("d{i}"), every_second);
            spawn_daemon(&c, &dir.path().join(format!("d{i}.log")))
        })
        .collect();

    // No audit event before the daemons' first pass.
    let switched = mid_pass(&cluster, &url, 0, &Patroni::switchover, dir.path()).await;
    let events = add_expired_paused(&url, 10_000_000, per_phase, &daemons).await;
    let killed = mid_pass(
        &cluster,
        &url,
        events,
        &Patroni::kill_primary_postmaster,
        dir.path(),
    )
    .await;
    let events = add_expired_paused(&url, 20_000_000, per_phase, &daemons).await;
    let lost = mid_pass(
        &cluster,
        &url,
        events,
        &Patroni::kill_primary_node,
        dir.path(),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    drop(daemons);

    assert_eq!(query_int(&url, "SELECT count(*) FROM events").await, YOUNG);
    let counted = query_int(
        &url,
        "SELECT CAST(sum(rows) AS bigint) FROM retention_events",
    )
    .await;
    assert_eq!(
        counted,
        3 * per_phase,
        "rows gone == rows in the audit trail"
    );
    let mut c = PgConnection::connect(&url).await.unwrap();
    let runs: Vec<i64> = sqlx::query("SELECT run_id FROM retention_events ORDER BY id")
        .fetch_all(&mut c)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<i64, _>(0))
        .collect();
    assert_runs_in_blocks(&runs);
    let statuses: Vec<(String, i64)> =
        sqlx::query("SELECT status, count(*) FROM retention_runs GROUP BY status ORDER BY 1")
            .fetch_all(&mut c)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
    let verify = run_cli(&config("verify", ""), dir.path(), &["audit", "verify"]);
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{}{}",
        stdout(&verify),
        stderr(&verify)
    );
    eprintln!(
        "patroni: batches again {:.1} s after a switchover (all purged after {:.1} s), {:.1} s after a killed primary postmaster ({:.1} s), {:.1} s after the primary's node was lost ({:.1} s); runs {statuses:?}",
        switched.0.as_secs_f64(),
        switched.1.as_secs_f64(),
        killed.0.as_secs_f64(),
        killed.1.as_secs_f64(),
        lost.0.as_secs_f64(),
        lost.1.as_secs_f64()
    );
    // Patroni's loop_wait (1 s) and ttl (10 s), HAProxy's checks (1 s), the
    // retries' backoff (8 from 500 ms).
    for (what, took) in [
        ("switchover", switched.0),
        ("killed primary", killed.0),
        ("lost node", lost.0),
    ] {
        assert!(took < Duration::from_secs(60), "after the {what}: {took:?}");
    }
}
