//! Periodic reports by mail, through a real SMTP server on loopback (Debian's
//! python3-aiosmtpd, started by the test): a server that refuses first (nothing
//! listens), logged and tried again; then the message arrives once, with a
//! Message-ID, the HTML inline and the CSV and JSON attached, for the last month;
//! a restarted daemon does not send it again.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::daemon::{KillOnDrop, demo_shop, every_second, free_port, spawn_daemon, wait_for};
use crate::servers::ensure_installed;

fn python_with_aiosmtpd() -> PathBuf {
    let found = || {
        Path::new("/usr/lib/python3/dist-packages/aiosmtpd")
            .exists()
            .then(|| PathBuf::from("/usr/bin/python3"))
    };
    ensure_installed(&found, "python3-aiosmtpd").unwrap_or_else(|e| {
        panic!("aiosmtpd is needed ({e}); install it with: apt-get install python3-aiosmtpd")
    })
}

/// An SMTP server on `port` that stores each message in the Maildir `maildir`.
fn smtp_server(port: u16, maildir: &Path) -> KillOnDrop {
    let child = Command::new(python_with_aiosmtpd())
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(maildir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start aiosmtpd");
    wait_for("the SMTP server", Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    KillOnDrop(Some(child))
}

fn messages(maildir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(maildir.join("new")) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .collect()
}

#[tokio::test]
async fn the_periodic_report_is_mailed_once_and_retried_after_a_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let (config, base) = demo_shop(dir.path());
    let port = free_port();
    let with_mail = every_second(
        &base,
        &format!(
            "[report]\ndir = \"reports\"\nformats = [\"html\"]\nmail_to = [\"dpo@shop.example\", \"audit@shop.example\"]\n\n\
             [mail]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\nfrom = \"retentiond@shop.example\""
        ),
    );
    std::fs::write(&config, &with_mail).unwrap();
    let (_, last_month) = retentiond::report::last_full_month(chrono::Utc::now().date_naive());
    let label = last_month.format("%Y-%m").to_string();
    let sent = dir
        .path()
        .join(format!("reports/retentiond-report-{label}.sent"));

    // Nothing listens: each pass tries, logs why, and records nothing as sent.
    let log = dir.path().join("daemon.log");
    let running = spawn_daemon(&config, &log);
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
    wait_for("two failed sends", Duration::from_secs(30), || {
        read_log()
            .matches("mailing the periodic report failed")
            .count()
            >= 2
    });
    assert!(!sent.exists());
    let logged = read_log();
    assert!(
        logged.contains(&format!("cannot mail the report {label}")),
        "{logged}"
    );

    // The server comes up: the next pass sends, once.
    let maildir = dir.path().join("maildir");
    let _smtp = smtp_server(port, &maildir);
    wait_for("the report mailed", Duration::from_secs(30), || {
        sent.exists()
    });
    wait_for("passes after the send", Duration::from_secs(30), || {
        read_log().matches("\"pass finished\"").count() >= 4
    });
    drop(running);
    let restarted = spawn_daemon(&config, &log);
    wait_for("a pass after the restart", Duration::from_secs(30), || {
        read_log().contains("\"pass finished\"")
    });
    drop(restarted);
    let arrived = messages(&maildir);
    assert_eq!(arrived.len(), 1, "mailed once, restart or not");
    let m = &arrived[0];
    assert!(
        m.contains(&format!("Subject: retentiond purge report {label}")),
        "{m}"
    );
    assert!(
        m.contains("To: dpo@shop.example, audit@shop.example"),
        "{m}"
    );
    assert!(m.contains("From: retentiond@shop.example"), "{m}");
    assert!(m.contains("Message-ID: <retentiond."), "{m}");
    assert!(m.contains("Content-Type: multipart/mixed"), "{m}");
    assert!(m.contains("Content-Type: text/html"), "{m}");
    for ext in ["csv", "json"] {
        let name = format!("retentiond-report-{label}.{ext}");
        assert!(
            m.contains(&format!("filename=\"{name}\"")),
            "{name} attached:\n{m}"
        );
        assert!(
            dir.path().join("reports").join(&name).exists(),
            "{name} written for the mail"
        );
    }
    assert!(
        m.contains(&format!("{}-01", label)),
        "the period's first day in the mail"
    );
    let register = std::fs::read_to_string(&sent).unwrap();
    assert!(
        register.contains("to dpo@shop.example, audit@shop.example"),
        "{register}"
    );
}
