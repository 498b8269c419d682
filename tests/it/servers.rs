//! Real PostgreSQL and MariaDB servers for the tests: started once per test binary
//! from Debian's packages, each in a temporary directory, on loopback, as an
//! unprivileged user when the tests run as root (PostgreSQL refuses root), and
//! stopped when the test binary exits, however it exits.
//!
//! A server runs under a small shell supervisor whose standard input is a pipe from
//! this process. When this process ends, even by SIGKILL, the kernel closes the pipe,
//! the supervisor's `read` returns, and it stops the server and removes its directory.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub struct Server {
    pub port: u16,
    dir: PathBuf,
    owner: Option<(u32, u32)>,
    /// The server's command line, to start it again after a crash.
    argv: Vec<String>,
    /// Keeps the supervisor's stdin open for as long as this process lives.
    _supervisor: Mutex<Child>,
}

impl Server {
    /// The server's own log (its standard error), for the benchmark's `--trace`.
    #[allow(dead_code)]
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    /// Crashes a MariaDB server (SIGKILL) and starts it again on the same data,
    /// as systemd would; returns once it answers. The supervisor stops the new
    /// process too: it finds it by the pid file.
    #[allow(dead_code)]
    pub fn crash_and_restart_mariadb(&self) {
        self.kill_mariadb();
        self.start_mariadb_again();
    }

    /// Kills a MariaDB server with SIGKILL; returns once its port is closed.
    #[allow(dead_code)]
    pub fn kill_mariadb(&self) {
        let pid_file = self.dir.join("mysqld.pid");
        let pid = std::fs::read_to_string(&pid_file).expect("mysqld.pid");
        let killed = Command::new("kill")
            .args(["-KILL", pid.trim()])
            .status()
            .expect("kill");
        assert!(killed.success(), "kill -KILL {pid}");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "MariaDB did not die"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts a killed MariaDB server again on its data; returns once it answers.
    #[allow(dead_code)]
    pub fn start_mariadb_again(&self) {
        let started = Instant::now();
        // Started in the background by a shell that returns at once: the server
        // outlives it, and the supervisor stops it by its pid file.
        let log = self.dir.join("restarted.log");
        let status = as_user(&mut Command::new("sh"), self.owner)
            .arg("-c")
            .arg(format!("\"$0\" \"$@\" >> '{}' 2>&1 &", log.display()))
            .args(&self.argv)
            .current_dir(&self.dir)
            .status()
            .expect("start MariaDB again");
        assert!(status.success());
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "MariaDB did not come back"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Restarts a PostgreSQL server (fast shutdown: open transactions roll back).
    pub fn restart_postgres(&self) {
        self.restart_postgres_with("fast");
    }

    /// Restarts a PostgreSQL server with `pg_ctl restart -m <mode>`: `immediate`
    /// is a crash, recovered from the WAL at start.
    pub fn restart_postgres_with(&self, mode: &str) {
        let pg_ctl = newest("/usr/lib/postgresql", "bin/pg_ctl").expect("pg_ctl");
        let out = as_user(&mut Command::new(pg_ctl), self.owner)
            .args([
                "-D",
                &self.dir.join("data").display().to_string(),
                "-m",
                mode,
                "-w",
                "-t",
                "60",
            ])
            .args([
                "-l",
                &self.dir.join("restarted.log").display().to_string(),
                "restart",
            ])
            .current_dir(&self.dir)
            .output()
            .expect("run pg_ctl");
        assert!(
            out.status.success(),
            "pg_ctl restart: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A new, empty database on the PostgreSQL server at `port`; returns its URL.
/// The caller has installed sqlx's `Any` drivers.
pub async fn new_postgres_database(port: u16) -> String {
    new_database(&format!("postgres://postgres@127.0.0.1:{port}"), "postgres").await
}

/// A new, empty database on the MariaDB server (started if need be); returns its URL.
pub async fn new_mariadb_database() -> String {
    new_mariadb_database_at(mariadb().port).await
}

/// A new, empty database on the MariaDB server at `port`; returns its URL.
pub async fn new_mariadb_database_at(port: u16) -> String {
    new_database(&format!("mysql://root@127.0.0.1:{port}"), "mysql").await
}

async fn new_database(server: &str, admin_database: &str) -> String {
    use sqlx::Connection;
    let name = database_name();
    let mut admin = sqlx::AnyConnection::connect(&format!("{server}/{admin_database}"))
        .await
        .unwrap_or_else(|e| panic!("connect to {server}: {e}"));
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create database");
    admin.close().await.unwrap();
    format!("{server}/{name}")
}

static POSTGRES: OnceLock<Result<Server, String>> = OnceLock::new();
static MARIADB: OnceLock<Result<Server, String>> = OnceLock::new();
static INSTALL: Mutex<()> = Mutex::new(());
/// Held by each test that starts a cluster (Galera's three MariaDB nodes,
/// Patroni's three PostgreSQL servers with etcd and HAProxy): two of them at
/// once on a 2-core machine starve the nodes until their timeouts fire, which
/// tests the machine rather than retentiond.
pub(crate) static ONE_CLUSTER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
static DATABASES: AtomicU32 = AtomicU32::new(0);

const INSTALL_HINT: &str = "install the servers with: apt-get install postgresql mariadb-server";

pub fn postgres() -> &'static Server {
    match POSTGRES.get_or_init(start_postgres) {
        Ok(s) => s,
        Err(e) => panic!(
            "PostgreSQL is needed for this test and could not be started: {e}\n{INSTALL_HINT}"
        ),
    }
}

pub fn mariadb() -> &'static Server {
    match MARIADB.get_or_init(start_mariadb) {
        Ok(s) => s,
        Err(e) => {
            panic!("MariaDB is needed for this test and could not be started: {e}\n{INSTALL_HINT}")
        }
    }
}

/// A new database name, unique in this test run.
pub fn database_name() -> String {
    format!(
        "t{}_{}",
        std::process::id(),
        DATABASES.fetch_add(1, Ordering::SeqCst)
    )
}

pub(crate) fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// (uid, gid) of a system user, from /etc/passwd.
pub(crate) fn user(name: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.first() == Some(&name))
            .then(|| Some((f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?)))?
    })
}

pub(crate) fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

/// Installs a Debian package when its binary is missing and we may (root, apt-get):
/// README's one test command then works on a fresh machine too.
pub fn ensure_installed(
    binary: &dyn Fn() -> Option<PathBuf>,
    package: &str,
) -> Result<PathBuf, String> {
    if let Some(p) = binary() {
        return Ok(p);
    }
    let _guard = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = binary() {
        return Ok(p);
    }
    if !is_root() || !Path::new("/usr/bin/apt-get").exists() {
        return Err(format!("{package} is not installed"));
    }
    eprintln!("installing {package} from Debian's packages for the tests");
    let install = |update: bool| {
        if update {
            let _ = Command::new("apt-get").args(["update", "-qq"]).status();
        }
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends", package])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    if !install(false) && !install(true) {
        return Err(format!("apt-get install {package} failed"));
    }
    binary().ok_or_else(|| format!("{package} installed, but its server binary is still missing"))
}

/// A temporary directory owned by `owner` (when root).
pub(crate) fn server_dir(owner: Option<(u32, u32)>) -> Result<PathBuf, String> {
    let dir = tempfile::Builder::new()
        .prefix("retentiond-test-")
        .tempdir()
        .map_err(|e| e.to_string())?
        .keep();
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
            .map_err(|e| format!("chown {}: {e}", dir.display()))?;
    }
    Ok(dir)
}

fn as_user(cmd: &mut Command, owner: Option<(u32, u32)>) -> &mut Command {
    if let Some((uid, gid)) = owner {
        cmd.uid(uid).gid(gid);
    }
    cmd
}

/// Starts `server` (argv) under the supervisor and waits for `ready` in its log.
pub(crate) fn supervise(
    dir: &Path,
    owner: Option<(u32, u32)>,
    server: &[String],
    pid_file: &Path,
    ready: &str,
) -> Result<Child, String> {
    let log = dir.join("server.log");
    let quoted: Vec<String> = server
        .iter()
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect();
    // The server is stopped through its pid file, not $!, so that a server a test
    // restarted (a new process) is stopped too.
    let script = format!(
        "{} > '{log}' 2>&1 &\nread _ignored\npid=$(head -n 1 '{pid}' 2>/dev/null)\n\
         [ -n \"$pid\" ] && kill -TERM \"$pid\" 2>/dev/null\n\
         i=0; while [ -n \"$pid\" ] && kill -0 \"$pid\" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done\n\
         rm -rf '{dir}'\n",
        quoted.join(" "),
        log = log.display(),
        pid = pid_file.display(),
        dir = dir.display()
    );
    let child = as_user(Command::new("sh").arg("-c").arg(script), owner)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the server supervisor: {e}"))?;
    let started = Instant::now();
    loop {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&log) {
            let _ = f.read_to_string(&mut text);
        }
        if text.contains(ready) {
            return Ok(child);
        }
        if started.elapsed() > Duration::from_secs(60) {
            let tail: Vec<&str> = text.lines().rev().take(15).collect();
            return Err(format!(
                "not ready after 60 s; its log ends:\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub(crate) fn newest(glob_dir: &str, suffix: &str) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(glob_dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join(suffix))
        .filter(|p| p.exists())
        .collect();
    found.sort();
    found.pop()
}

/// A PostgreSQL server of the caller's own, for a test that restarts it.
pub fn dedicated_postgres() -> Server {
    start_postgres()
        .unwrap_or_else(|e| panic!("PostgreSQL could not be started: {e}\n{INSTALL_HINT}"))
}

/// A PostgreSQL server of the caller's own that keeps every commit it acknowledges
/// (fsync and synchronous_commit on, as a shop's is), for a test that crashes it.
#[allow(dead_code)]
pub fn durable_postgres() -> Server {
    start_postgres_as(None, true)
        .unwrap_or_else(|e| panic!("PostgreSQL could not be started: {e}\n{INSTALL_HINT}"))
}

/// A streaming standby of the PostgreSQL server `primary`, made with
/// `pg_basebackup`, that applies each commit `apply_delay` (e.g. `"3s"`) after the
/// primary made it (`recovery_min_apply_delay`).
#[allow(dead_code)]
pub fn postgres_standby(primary: &Server, apply_delay: &str) -> Server {
    start_postgres_as(Some((primary.port, apply_delay)), false)
        .unwrap_or_else(|e| panic!("the PostgreSQL standby could not be started: {e}"))
}

fn start_postgres() -> Result<Server, String> {
    start_postgres_as(None, false)
}

/// A new PostgreSQL server; with `standby_of` (the primary's port and an apply
/// delay) a standby of it instead of a new cluster; `durable`: with the settings
/// that keep acknowledged commits through a crash.
fn start_postgres_as(standby_of: Option<(u16, &str)>, durable: bool) -> Result<Server, String> {
    let bin = ensure_installed(
        &|| newest("/usr/lib/postgresql", "bin/postgres"),
        "postgresql",
    )?;
    let bin_dir = bin.parent().expect("bin dir").to_path_buf();
    let owner = if is_root() {
        Some(
            user("postgres")
                .or_else(|| user("nobody"))
                .ok_or("no unprivileged user to run PostgreSQL")?,
        )
    } else {
        None
    };
    let dir = server_dir(owner)?;
    let data = dir.join("data");
    let data_dir = data.display().to_string();
    let (tool, tool_args): (&str, Vec<String>) = match standby_of {
        None => (
            "initdb",
            [
                "-D",
                &data_dir,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
            .map(String::from)
            .to_vec(),
        ),
        // -R writes standby.signal and primary_conninfo.
        Some((primary, _)) => (
            "pg_basebackup",
            [
                "-h",
                "127.0.0.1",
                "-p",
                &primary.to_string(),
                "-U",
                "postgres",
                "-D",
                &data_dir,
            ]
            .into_iter()
            .map(String::from)
            .chain(["-R", "-X", "stream", "-c", "fast"].map(String::from))
            .collect(),
        ),
    };
    let out = as_user(&mut Command::new(bin_dir.join(tool)), owner)
        .args(&tool_args)
        .current_dir(&dir)
        .output()
        .map_err(|e| format!("{tool}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{tool} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let port = free_port()?;
    let mut args: Vec<String> = vec![
        bin.display().to_string(),
        "-D".into(),
        data.display().to_string(),
        "-k".into(),
        dir.display().to_string(),
        "-h".into(),
        "127.0.0.1".into(),
        "-p".into(),
        port.to_string(),
        // A test server: speed over durability.
        "-c".into(),
        "fsync=off".into(),
        "-c".into(),
        "synchronous_commit=off".into(),
        "-c".into(),
        "full_page_writes=off".into(),
        "-c".into(),
        "max_connections=200".into(),
    ];
    if durable {
        for setting in ["fsync=on", "synchronous_commit=on", "full_page_writes=on"] {
            args.extend(["-c".into(), setting.into()]);
        }
    }
    if let Some((_, delay)) = standby_of {
        args.extend(["-c".into(), format!("recovery_min_apply_delay={delay}")]);
    }
    let child = supervise(
        &dir,
        owner,
        &args,
        &data.join("postmaster.pid"),
        // "... ready to accept connections", or "read-only connections" (a standby).
        "ready to accept",
    )?;
    Ok(Server {
        port,
        dir,
        owner,
        argv: args,
        _supervisor: Mutex::new(child),
    })
}

/// A MariaDB primary that writes a binary log, and a replica of it that applies
/// each event `delay_s` seconds after the primary wrote it (`MASTER_DELAY`).
#[allow(dead_code)]
pub async fn mariadb_pair(delay_s: u32) -> (Server, Server) {
    use sqlx::Connection;
    let start = |id: u32, log_bin: bool| {
        let mut extra = vec![format!("--server-id={id}")];
        if log_bin {
            extra.extend(["--log-bin=mysql-bin".into(), "--binlog-format=ROW".into()]);
        }
        start_mariadb_with(&extra)
            .unwrap_or_else(|e| panic!("MariaDB could not be started: {e}\n{INSTALL_HINT}"))
    };
    let primary = start(1, true);
    let replica = start(2, false);
    let mut c =
        sqlx::MySqlConnection::connect(&format!("mysql://root@127.0.0.1:{}/mysql", replica.port))
            .await
            .expect("connect to the replica");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = {}, MASTER_USER = 'root', \
         MASTER_PASSWORD = '', MASTER_USE_GTID = slave_pos, MASTER_DELAY = {delay_s}; START SLAVE",
        primary.port
    )))
    .execute(&mut c)
    .await
    .expect("start replication");
    c.close().await.ok();
    (primary, replica)
}

/// A MariaDB Galera cluster of `nodes` nodes on loopback (Debian's `galera-4`),
/// each its own server: node 1 starts a new cluster, the others join it by rsync
/// state transfer. A node killed and started again rejoins the cluster.
#[allow(dead_code)]
pub fn galera_cluster(nodes: usize, extra: &[&str]) -> Vec<Server> {
    let provider = ensure_installed(
        &|| Some(PathBuf::from("/usr/lib/galera/libgalera_smm.so")).filter(|p| p.exists()),
        "galera-4",
    )
    .unwrap_or_else(|e| {
        panic!("Galera is needed for this test: {e}\n{INSTALL_HINT} galera-4 rsync")
    });
    ensure_installed(
        &|| Some(PathBuf::from("/usr/bin/rsync")).filter(|p| p.exists()),
        "rsync",
    )
    .unwrap_or_else(|e| panic!("rsync is needed for Galera's state transfer: {e}"));
    let ports: Vec<[u16; 3]> = (0..nodes)
        .map(|_| [0; 3].map(|_| free_port().expect("a free port")))
        .collect();
    let members: Vec<String> = ports
        .iter()
        .map(|[g, _, _]| format!("127.0.0.1:{g}"))
        .collect();
    let mut cluster = Vec::with_capacity(nodes);
    for (i, [gcomm, ist, sst]) in ports.iter().enumerate() {
        let mut args: Vec<String> = vec![
            "--binlog-format=ROW".into(),
            "--innodb-autoinc-lock-mode=2".into(),
            "--wsrep-on=ON".into(),
            format!("--wsrep-provider={}", provider.display()),
            "--wsrep-cluster-name=retentiond-test".into(),
            format!("--wsrep-cluster-address=gcomm://{}", members.join(",")),
            format!("--wsrep-node-name=node{}", i + 1),
            format!("--wsrep-node-address=127.0.0.1:{gcomm}"),
            format!(
                "--wsrep-provider-options=base_port={gcomm};gmcast.listen_addr=tcp://127.0.0.1:{gcomm};ist.recv_addr=127.0.0.1:{ist}"
            ),
            format!("--wsrep-sst-receive-address=127.0.0.1:{sst}"),
            "--wsrep-sst-method=rsync".into(),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        if i == 0 {
            args.push("--wsrep-new-cluster".into());
        }
        let mut node = start_mariadb_with(&args)
            .unwrap_or_else(|e| panic!("Galera node {} could not be started: {e}", i + 1));
        // Started again after a kill, node 1 joins the others.
        node.argv.retain(|a| a != "--wsrep-new-cluster");
        cluster.push(node);
    }
    cluster
}

fn start_mariadb() -> Result<Server, String> {
    start_mariadb_with(&[])
}

/// A MariaDB server of the caller's own that keeps every commit it acknowledges
/// (`innodb_flush_log_at_trx_commit = 1`), for a test that crashes it.
#[allow(dead_code)]
pub fn durable_mariadb() -> Server {
    start_mariadb_with(&[
        "--skip-log-bin".into(),
        "--innodb-flush-log-at-trx-commit=1".into(),
    ])
    .unwrap_or_else(|e| panic!("MariaDB could not be started: {e}\n{INSTALL_HINT}"))
}

/// A new MariaDB server; `extra` arguments replace `--skip-log-bin` when given.
fn start_mariadb_with(extra: &[String]) -> Result<Server, String> {
    let bin = ensure_installed(
        &|| {
            ["/usr/sbin/mariadbd", "/usr/sbin/mysqld"]
                .iter()
                .map(PathBuf::from)
                .find(|p| p.exists())
        },
        "mariadb-server",
    )?;
    let install_db = ["/usr/bin/mariadb-install-db", "/usr/bin/mysql_install_db"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .ok_or("mariadb-install-db is missing")?;
    let owner = if is_root() {
        Some(
            user("mysql")
                .or_else(|| user("nobody"))
                .ok_or("no unprivileged user to run MariaDB")?,
        )
    } else {
        None
    };
    let dir = server_dir(owner)?;
    let data = dir.join("data");
    let out = as_user(&mut Command::new(&install_db), owner)
        .args([
            "--no-defaults",
            &format!("--datadir={}", data.display()),
            // Its own temporary files in its own directory: bootstraps run at
            // once in one /tmp have removed each other's.
            &format!("--tmpdir={}", dir.display()),
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--skip-name-resolve",
        ])
        .current_dir(&dir)
        .output()
        .map_err(|e| format!("mariadb-install-db: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "mariadb-install-db failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let port = free_port()?;
    let mut args: Vec<String> = vec![
        bin.display().to_string(),
        "--no-defaults".into(),
        format!("--datadir={}", data.display()),
        format!("--socket={}", dir.join("mysqld.sock").display()),
        format!("--pid-file={}", dir.join("mysqld.pid").display()),
        format!("--tmpdir={}", dir.display()),
        format!("--port={port}"),
        "--bind-address=127.0.0.1".into(),
        "--skip-name-resolve".into(),
        "--innodb-buffer-pool-size=128M".into(),
        "--innodb-flush-log-at-trx-commit=0".into(),
        "--max-connections=300".into(),
    ];
    if extra.is_empty() {
        args.push("--skip-log-bin".into());
    }
    args.extend(extra.iter().cloned());
    let child = supervise(
        &dir,
        owner,
        &args,
        &dir.join("mysqld.pid"),
        "ready for connections",
    )?;
    Ok(Server {
        port,
        dir,
        owner,
        argv: args,
        _supervisor: Mutex::new(child),
    })
}
