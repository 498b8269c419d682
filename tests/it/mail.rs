//! Periodic reports by mail, through a real SMTP server on loopback (Debian's
//! python3-aiosmtpd, started by the test): a server that refuses first (nothing
//! listens), logged and tried again; then the message arrives once, with a
//! Message-ID, the HTML inline and the CSV and JSON attached, for the last month;
//! a restarted daemon does not send it again.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::daemon::{
    KillOnDrop, demo_shop, every_second, free_port, spawn_daemon, spawn_daemon_with, wait_for,
};
use crate::servers::ensure_installed;
use crate::support::{run_cli, stdout};

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
    let listen = format!("127.0.0.1:{port}");
    let maildir = maildir.to_str().unwrap();
    aiosmtpd(
        port,
        &[
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &listen,
            "-c",
            "aiosmtpd.handlers.Mailbox",
            maildir,
        ],
    )
}

/// Python with `args` (an aiosmtpd server), once it listens on `port`.
fn aiosmtpd(port: u16, args: &[&str]) -> KillOnDrop {
    let child = Command::new(python_with_aiosmtpd())
        .args(args)
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

/// A CA of the test's own and a certificate it signed for `localhost`, made with
/// openssl: (CA file, certificate, key).
pub(crate) fn company_ca(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=Shop Internal CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "relay.key",
        "-out",
        "relay.csr",
    ]);
    std::fs::write(dir.join("san.ext"), "subjectAltName = DNS:localhost\n").unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "relay.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.ext",
        "-out",
        "relay.pem",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("relay.pem"),
        dir.join("relay.key"),
    )
}

/// How a test relay speaks.
#[derive(Clone, Copy)]
enum Relay {
    /// STARTTLS required, then AUTH: as companies run them.
    StartTls,
    /// TLS from the first byte, then AUTH.
    Implicit,
    /// No TLS offered, no AUTH.
    Plain,
}

/// A relay on `port` that logs in `retentiond` with the password
/// `relay-secret`, its certificate from `company_ca`.
fn company_relay(port: u16, maildir: &Path, (cert, key): (&Path, &Path), how: Relay) -> KillOnDrop {
    let options = match how {
        Relay::StartTls => {
            "tls_context=ctx, require_starttls=True, auth_required=True, auth_require_tls=True, authenticator=check"
        }
        Relay::Implicit => {
            "ssl_context=ctx, auth_required=True, auth_require_tls=False, authenticator=check"
        }
        Relay::Plain => "auth_required=False",
    };
    let script = format!(
        "import ssl, time\n\
         from aiosmtpd.controller import Controller\n\
         from aiosmtpd.handlers import Mailbox\n\
         from aiosmtpd.smtp import AuthResult\n\
         ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)\n\
         ctx.load_cert_chain({cert:?}, {key:?})\n\
         def check(server, session, envelope, mechanism, data):\n\
         \x20   return AuthResult(success=data.login == b'retentiond' and data.password == b'relay-secret')\n\
         c = Controller(Mailbox({maildir:?}), hostname='127.0.0.1', port={port}, {options})\n\
         c.start()\n\
         while True:\n\
         \x20   time.sleep(3600)\n",
        cert = cert.display().to_string(),
        key = key.display().to_string(),
        maildir = maildir.display().to_string(),
    );
    aiosmtpd(port, &["-c", &script])
}

#[tokio::test(flavor = "multi_thread")]
async fn check_mail_logs_in_over_implicit_tls_and_refuses_a_relay_without_starttls() {
    let dir = tempfile::tempdir().unwrap();
    let (_, cert, key) = company_ca(dir.path());
    crate::support::write_key(&dir.path().join("smtp-password"), b"relay-secret\n");
    let maildir = dir.path().join("maildir");
    let config = dir.path().join("retention.toml");
    let write = |port: u16, security: &str| {
        std::fs::write(
            &config,
            format!(
                "[database]\nurl = \"sqlite://shop.db\"\n\n[[policy]]\nname = \"p\"\ntable = \"t\"\n\
                 timestamp = \"at\"\nkeep = \"1 year\"\naction = \"delete\"\n\n\
                 [mail]\nhost = \"localhost\"\nport = {port}\nsecurity = \"{security}\"\n\
                 from = \"retentiond@shop.example\"\nuser = \"retentiond\"\npassword_file = \"smtp-password\"\n\
                 ca_file = \"ca.pem\"\n"
            ),
        )
        .unwrap();
    };
    create_shop(&dir.path().join("shop.db")).await;

    let port = free_port();
    let _tls = company_relay(port, &maildir, (&cert, &key), Relay::Implicit);
    write(port, "tls");
    let checked = run_cli(&config, dir.path(), &["check", "--mail"]);
    assert_eq!(checked.status.code(), Some(0), "{}", stdout(&checked));
    assert!(
        stdout(&checked).contains(&format!(
            "localhost:{port}: EHLO, TLS, AUTH as retentiond: ok"
        )),
        "{}",
        stdout(&checked)
    );

    let port = free_port();
    let _plain = company_relay(port, &maildir, (&cert, &key), Relay::Plain);
    write(port, "starttls");
    let checked = run_cli(&config, dir.path(), &["check", "--mail"]);
    let out = stdout(&checked);
    assert_eq!(checked.status.code(), Some(1), "{out}");
    assert!(out.contains("error: mail: "), "{out}");
    assert!(
        !out.contains("relay-secret"),
        "the password is never printed"
    );
    assert!(messages(&maildir).is_empty(), "nothing sent");
}

/// A SQLite shop with the one table the config above names.
async fn create_shop(path: &Path) {
    use sqlx::{ConnectOptions, Connection};
    let mut c = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .connect()
        .await
        .unwrap();
    sqlx::raw_sql(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, at TEXT NOT NULL); CREATE INDEX t_at ON t (at);",
    )
    .execute(&mut c)
    .await
    .unwrap();
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_company_relay_with_its_own_ca_gets_the_report_over_starttls_and_auth() {
    let dir = tempfile::tempdir().unwrap();
    let (config, base) = demo_shop(dir.path());
    let (_, cert, key) = company_ca(dir.path());
    let port = free_port();
    let maildir = dir.path().join("maildir");
    let _relay = company_relay(port, &maildir, (&cert, &key), Relay::StartTls);
    let password = dir.path().join("smtp-password");
    crate::support::write_key(&password, b"relay-secret\n");
    let with_mail = |extra: &str| {
        every_second(
            &base,
            &format!(
                "[report]\ndir = \"reports\"\nformats = [\"html\"]\nmail_to = [\"dpo@shop.example\"]\n\n\
                 [mail]\nhost = \"localhost\"\nport = {port}\nsecurity = \"starttls\"\n\
                 from = \"retentiond@shop.example\"\nuser = \"retentiond\"\npassword_file = \"smtp-password\"\n{extra}"
            ),
        )
    };
    let (_, last_month) = retentiond::report::last_full_month(chrono::Utc::now().date_naive());
    let sent = dir.path().join(format!(
        "reports/retentiond-report-{}.sent",
        last_month.format("%Y-%m")
    ));
    let log = dir.path().join("daemon.log");
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();

    // The relay's CA in no trust store: refused, and said why.
    std::fs::write(&config, with_mail("")).unwrap();
    let checked = run_cli(&config, dir.path(), &["check", "--mail"]);
    assert_eq!(checked.status.code(), Some(1), "{}", stdout(&checked));
    assert!(
        stdout(&checked).contains("error: mail: "),
        "{}",
        stdout(&checked)
    );
    assert!(
        stdout(&checked).contains("UnknownIssuer"),
        "{}",
        stdout(&checked)
    );
    let running = spawn_daemon(&config, &log);
    wait_for("a refused send", Duration::from_secs(30), || {
        read_log().contains("mailing the periodic report failed")
    });
    drop(running);
    assert!(read_log().contains("UnknownIssuer"), "{}", read_log());
    assert!(
        !read_log().contains("relay-secret"),
        "the password is never logged"
    );
    assert!(!sent.exists());

    // ca_file names it, but the password is wrong: the relay refuses the login
    // and then stalls the dialogue; the send gives up within its bound, says so,
    // and the daemon goes on with its passes.
    std::fs::write(&config, with_mail("ca_file = \"ca.pem\"")).unwrap();
    crate::support::write_key(&password, b"not-the-secret\n");
    let running = spawn_daemon(&config, &log);
    wait_for(
        "a refused login, then a pass",
        Duration::from_secs(60),
        || {
            let text = read_log();
            text.contains("mailing the periodic report failed")
                && text.contains("\"pass finished\"")
        },
    );
    drop(running);
    assert!(
        read_log().contains("cannot mail the report"),
        "{}",
        read_log()
    );
    assert!(
        !read_log().contains("not-the-secret"),
        "the password is never logged"
    );
    assert!(!sent.exists());

    // The right password: check --mail logs in and sends nothing; then the
    // report is delivered.
    crate::support::write_key(&password, b"relay-secret\n");
    let checked = run_cli(&config, dir.path(), &["check", "--mail"]);
    assert_eq!(checked.status.code(), Some(0), "{}", stdout(&checked));
    assert!(
        stdout(&checked).contains(&format!(
            "mail      localhost:{port}: EHLO, STARTTLS, AUTH as retentiond: ok, nothing sent"
        )),
        "{}",
        stdout(&checked)
    );
    assert!(messages(&maildir).is_empty(), "check --mail sends nothing");
    let running = spawn_daemon(&config, &log);
    wait_for("the report mailed", Duration::from_secs(30), || {
        sent.exists()
    });
    drop(running);
    let arrived = messages(&maildir);
    assert_eq!(arrived.len(), 1);
    assert!(
        arrived[0].contains("Message-ID: <retentiond."),
        "{}",
        arrived[0]
    );

    // No ca_file, the CA in SSL_CERT_FILE, as for a store the system points at:
    // delivered too (the register removed, so that the report is due again).
    std::fs::remove_file(&sent).unwrap();
    std::fs::write(&config, with_mail("")).unwrap();
    let ca = dir.path().join("ca.pem");
    let running = spawn_daemon_with(&config, &log, &[("SSL_CERT_FILE", &ca)]);
    wait_for(
        "the report mailed through SSL_CERT_FILE's CA",
        Duration::from_secs(30),
        || sent.exists(),
    );
    drop(running);
    assert_eq!(messages(&maildir).len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_unsent_report_is_mailed_once_the_relay_answers() {
    let dir = tempfile::tempdir().unwrap();
    let (config, base) = demo_shop(dir.path());
    let port = free_port();
    std::fs::write(
        &config,
        every_second(
            &base,
            &format!(
                "[report]\ndir = \"reports\"\nformats = [\"html\"]\nmail_to = [\"dpo@shop.example\"]\n\n\
                 [mail]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\nfrom = \"retentiond@shop.example\""
            ),
        ),
    )
    .unwrap();
    let (_, last_month) = retentiond::report::last_full_month(chrono::Utc::now().date_naive());
    let label = last_month.format("%Y-%m").to_string();
    let (_, month_before) = retentiond::report::last_full_month(last_month);
    let older = month_before.format("%Y-%m").to_string();
    let reports = dir.path().join("reports");
    let log = dir.path().join("daemon.log");
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();

    // Nothing listens: last month's report is written, and stays unsent.
    let running = spawn_daemon(&config, &log);
    wait_for("a failed send", Duration::from_secs(30), || {
        read_log().contains("mailing the periodic report failed")
    });
    drop(running);
    // The month before's report, written when its mailing kept failing too.
    for ext in ["html", "csv", "json"] {
        let from = reports.join(format!("retentiond-report-{label}.{ext}"));
        if from.exists() {
            std::fs::copy(
                &from,
                reports.join(format!("retentiond-report-{older}.{ext}")),
            )
            .unwrap();
        }
    }
    let status = stdout(&run_cli(&config, dir.path(), &["status"]));
    for l in [&older, &label] {
        assert!(
            status.contains(&format!("unsent     report {l}: not mailed yet")),
            "{status}"
        );
    }

    // The relay answers: both are mailed, the older first, and status has none left.
    let maildir = dir.path().join("maildir");
    let _smtp = smtp_server(port, &maildir);
    let running = spawn_daemon(&config, &log);
    wait_for("both reports mailed", Duration::from_secs(30), || {
        [&older, &label]
            .iter()
            .all(|l| reports.join(format!("retentiond-report-{l}.sent")).exists())
    });
    drop(running);
    let arrived = messages(&maildir);
    assert_eq!(arrived.len(), 2);
    for l in [&older, &label] {
        assert!(
            arrived
                .iter()
                .any(|m| m.contains(&format!("Subject: retentiond purge report {l}"))),
            "{l} mailed"
        );
    }
    let status = stdout(&run_cli(&config, dir.path(), &["status"]));
    assert!(!status.contains("unsent"), "{status}");
}
