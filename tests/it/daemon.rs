//! `retentiond run` as systemd runs it: a real process, a real NOTIFY_SOCKET, real
//! signals, a real metrics scrape.

use std::io::Read;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{run_cli, stderr};

/// Kills the daemon if the test fails before stopping it, so no process outlives the test.
pub(crate) struct KillOnDrop(pub(crate) Option<std::process::Child>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn signal(pid: u32, name: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{name}");
}

pub(crate) fn scrape(port: u16) -> String {
    use std::io::Write;
    let mut s =
        std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect to the metrics endpoint");
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// The demo shop in `dir`, created and purged once by `demo` with the default
/// config: the config's path, and the default config's text.
pub(crate) fn demo_shop(dir: &Path) -> (PathBuf, String) {
    let config = dir.join("retention.toml");
    let base =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/retention.toml")).unwrap();
    std::fs::write(&config, &base).unwrap();
    assert_eq!(
        run_cli(&config, dir, &["demo"]).status.code(),
        Some(0),
        "demo"
    );
    (config, base)
}

/// `base` on an every-second schedule, with the sections `extra` before `[limits]`.
pub(crate) fn every_second(base: &str, extra: &str) -> String {
    base.replace("cron = \"0 30 2 * * *\"", "cron = \"* * * * * *\"")
        .replace("[limits]", &format!("{extra}\n\n[limits]"))
}

/// `retentiond run` on `config`, outside systemd, its JSON log into `log`.
pub(crate) fn spawn_daemon(config: &Path, log: &Path) -> KillOnDrop {
    spawn_daemon_with(config, log, &[])
}

/// [`spawn_daemon`] with `env` set in the daemon's environment.
pub(crate) fn spawn_daemon_with(config: &Path, log: &Path, env: &[(&str, &Path)]) -> KillOnDrop {
    let child = Command::new(env!("CARGO_BIN_EXE_retentiond"))
        .envs(env.iter().copied())
        .args([
            "-c",
            config.to_str().unwrap(),
            "--log-format",
            "json",
            "run",
        ])
        .env_remove("NOTIFY_SOCKET")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    KillOnDrop(Some(child))
}

#[tokio::test]
async fn the_daemon_as_systemd_runs_it() {
    let dir = tempfile::tempdir().unwrap();
    let (config, base) = demo_shop(dir.path());
    let port = free_port();
    let every_second = every_second(&base, &format!("[metrics]\nlisten = \"127.0.0.1:{port}\""));
    std::fs::write(&config, &every_second).unwrap();

    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let messages: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
    let collected = messages.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            if let Ok(n) = socket.recv(&mut buf) {
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                collected.lock().unwrap().push((Instant::now(), text));
            }
        }
    });
    let log_path = dir.path().join("daemon.log");
    let child = Command::new(env!("CARGO_BIN_EXE_retentiond"))
        .args([
            "-c",
            config.to_str().unwrap(),
            "--log-format",
            "json",
            "run",
        ])
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", "1000000")
        .env_remove("WATCHDOG_PID")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut guard = KillOnDrop(Some(child));
    let said = |needle: &str| {
        messages
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, m)| m.contains(needle))
            .count()
    };
    let logs = || std::fs::read_to_string(&log_path).unwrap_or_default();

    wait_for("READY=1", Duration::from_secs(30), || said("READY=1") >= 1);
    wait_for("three passes", Duration::from_secs(30), || {
        logs().matches("\"pass finished\"").count() >= 3
    });
    assert!(
        said("WATCHDOG=1") >= 2,
        "watchdog pings at half of WatchdogSec: {:?}",
        messages.lock().unwrap()
    );
    assert!(
        said("STATUS=last pass #") >= 1,
        "STATUS carries the last pass: {:?}",
        messages.lock().unwrap()
    );

    // A good reload, then a bad one: the bad file is refused with line and column.
    std::fs::write(
        &config,
        every_second.replace("max_table_fraction = 0.5", "max_table_fraction = 0.6"),
    )
    .unwrap();
    signal(pid, "HUP");
    wait_for("reloaded", Duration::from_secs(10), || {
        logs().contains("configuration reloaded")
    });
    std::fs::write(
        &config,
        every_second.replace("keep = \"P7Y\"", "keep = \"seven years\""),
    )
    .unwrap();
    signal(pid, "HUP");
    wait_for("refused", Duration::from_secs(10), || {
        logs().contains("reload refused")
    });
    let refused = logs()
        .lines()
        .find(|l| l.contains("reload refused"))
        .unwrap()
        .to_string();
    assert!(refused.contains("\"level\":\"ERROR\""), "{refused}");
    let keep_line = 1 + every_second
        .lines()
        .position(|l| l.starts_with("keep = \"P7Y\""))
        .unwrap();
    assert!(
        refused.contains(&format!("retention.toml:{keep_line}:8"))
            && refused.contains("seven years"),
        "{refused}"
    );
    let passes_before = logs().matches("\"pass finished\"").count();
    wait_for(
        "passes after a refused reload",
        Duration::from_secs(15),
        || logs().matches("\"pass finished\"").count() >= passes_before + 2,
    );

    let metrics = scrape(port);
    assert!(metrics.starts_with("HTTP/1.1 200 OK"), "{metrics}");
    for name in [
        "retentiond_rows_purged_total{policy=\"orders\",action=\"delete\"}",
        "retentiond_passes_total{status=\"ok\"}",
        "retentiond_pass_duration_seconds_count",
        "retentiond_last_success_timestamp_seconds{policy=\"analytics_identifiers\"}",
        "retentiond_rows_held_total",
        "retentiond_oldest_remaining_row_age_seconds{policy=\"orders\"}",
        "retentiond_leader",
    ] {
        assert!(metrics.contains(name), "{name} in:\n{metrics}");
    }

    let stopped = Instant::now();
    signal(pid, "TERM");
    let status = guard
        .0
        .take()
        .expect("the daemon is still ours")
        .wait()
        .unwrap();
    assert!(
        stopped.elapsed() < Duration::from_secs(10),
        "{:?}",
        stopped.elapsed()
    );
    assert_eq!(status.code(), Some(0));
    assert!(said("STOPPING=1") >= 1);

    // Passes never overlapped: each started after the one before had finished.
    let runs = crate::support::Shop::sqlite_rows(
        &dir.path().join("demo.db"),
        "SELECT started_at, finished_at, triggered_by FROM retention_runs ORDER BY id",
    )
    .await;
    assert!(runs.len() >= 6, "{runs:?}");
    for pair in runs.windows(2) {
        assert!(pair[1][0] >= pair[0][1], "overlap: {pair:?}");
    }
    let all = logs();
    for line in all.lines() {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "one JSON object per line: {line}"
        );
    }
    assert!(!all.contains("@example."), "no e-mail address in the logs");
    assert!(
        all.contains("\"next_run\""),
        "the end line names the next run"
    );
    let _ = stderr;
}
