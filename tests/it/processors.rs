//! Erasures passed on to processors: a real HTTP receiver on loopback that is
//! down, answers 500 and hangs before it accepts, with retentiond started anew
//! (each command, then the daemon) in between. Each (request, processor) reaches
//! the receiver under one idempotency key and is acted on once, with what
//! identified the person read before the rows went.

use std::time::Duration;

use serde_json::{Value, json};

use crate::daemon::{free_port, scrape, spawn_daemon, wait_for};
use crate::receiver::{Receiver, Reply};
use crate::support::{Backend, Shop, stderr, stdout, write_key};

const SCHEMA: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(100), stripe_id VARCHAR(40), last_login_at VARCHAR(30));
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, placed_at VARCHAR(30));
INSERT INTO customers VALUES (1, 'ann@example.com', 'cus_A', '2026-11-01T00:00:00Z'), (2, 'bob@example.com', NULL, '2026-11-01T00:00:00Z'), (3, 'cy@example.com', 'cus_C', '2026-11-01T00:00:00Z');
INSERT INTO orders VALUES (10, 1, '2026-10-01T00:00:00Z'), (11, 2, '2026-10-02T00:00:00Z');
";

const MAILER_SECRET: &str = "whsec_mailer_0123456789abcdef";
const PAYMENTS_SECRET: &str = "whsec_payments_0123456789abcdef";

fn config(shop: &Shop, port: u16, extra: &str) {
    write_key(&shop.path("mailer.secret"), MAILER_SECRET.as_bytes());
    write_key(&shop.path("payments.secret"), PAYMENTS_SECRET.as_bytes());
    shop.write_config(&format!(
        "{extra}
[[policy]]
name = \"customers\"
table = \"customers\"
timestamp = \"last_login_at\"
keep = \"3 years\"
basis = \"contract\"
subject = \"id\"
action = \"delete\"

[[policy]]
name = \"orders\"
table = \"orders\"
timestamp = \"placed_at\"
keep = \"10 years\"
basis = \"legal_obligation\"
subject = \"customer_id\"
action = \"delete\"

[[processor]]
name = \"mailer\"
url = \"http://127.0.0.1:{port}/hooks/mailer\"
secret_file = \"mailer.secret\"
send = {{ email = \"customers.email\" }}
timeout = \"1s\"
retry = \"1s\"

[[processor]]
name = \"payments\"
url = \"http://127.0.0.1:{port}/hooks/payments\"
secret_file = \"payments.secret\"
send = {{ customer = \"subject\", stripe_customer = \"customers.stripe_id\" }}
timeout = \"1s\"
retry = \"1s\"
"
    ));
}

fn json_of(out: &std::process::Output) -> Value {
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(out), stderr(out));
    serde_json::from_slice(&out.stdout).unwrap()
}

on_every_backend!(an_erasure_reaches_each_processor_once);

async fn an_erasure_reaches_each_processor_once(backend: Backend) {
    let shop = Shop::on(backend, SCHEMA).await;
    // The receiver is down at first: its port is taken later.
    let port = free_port();
    config(&shop, port, "");
    let check = shop.cli(&["check"]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));

    let first = json_of(&shop.cli(&["erase", "--subject", "1", "--now", "--format", "json"]));
    assert_eq!(first["deliveries"]["failed"], 2, "{first}");
    let second = json_of(&shop.cli(&["erase", "--subject", "2", "--now", "--format", "json"]));
    assert_eq!(second["deliveries"]["failed"], 2, "{second}");
    assert_eq!(shop.ints("SELECT id FROM customers").await, [3]);
    let errors = shop
        .rows("SELECT last_error FROM retention_deliveries ORDER BY id")
        .await;
    assert!(
        errors.iter().all(|r| r[0].starts_with("cannot connect")),
        "{errors:?}"
    );

    // Up: the first delivery gets a 500, the second hangs past the timeout
    // although the receiver acts on it; the rest are accepted.
    let receiver = Receiver::start(
        port,
        &[("mailer", MAILER_SECRET), ("payments", PAYMENTS_SECRET)],
        &[
            Reply::Status(500),
            Reply::SlowAccept(Duration::from_secs(3)),
        ],
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let pass = json_of(&shop.cli(&["purge", "--format", "json"]));
    assert_eq!(
        pass["deliveries"],
        json!({"delivered": 2, "failed": 2, "skipped": 0})
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let pass = json_of(&shop.cli(&["purge", "--format", "json"]));
    assert_eq!(
        pass["deliveries"],
        json!({"delivered": 2, "failed": 0, "skipped": 0})
    );
    let posted = receiver.posts().len();
    let pass = json_of(&shop.cli(&["purge", "--format", "json"]));
    assert!(pass.get("deliveries").is_none(), "nothing left: {pass}");
    assert_eq!(receiver.posts().len(), posted, "nothing is sent again");

    let posts = receiver.posts();
    assert!(posts.iter().all(|p| p.signature_ok), "{posts:?}");
    let statuses: Vec<u16> = posts.iter().map(|p| p.status).collect();
    assert_eq!(
        statuses,
        [500, 202, 202, 202, 202, 200],
        "the hung one answered as done"
    );
    // Each (request, processor) under one key, acted on once.
    let mut pairs: Vec<(i64, String, String)> = posts
        .iter()
        .map(|p| {
            (
                p.body["request"]["id"].as_i64().unwrap(),
                p.processor.clone(),
                p.key.clone(),
            )
        })
        .collect();
    pairs.sort();
    pairs.dedup();
    assert_eq!(pairs.len(), 4, "{pairs:?}");
    let mut acted = receiver.acted();
    assert_eq!(acted.len(), 4, "{acted:?}");
    acted.sort();
    acted.dedup();
    assert_eq!(acted.len(), 4);
    for p in &posts {
        assert_eq!(p.body["id"], p.key.as_str(), "the body names its key");
    }
    let body = |request: i64, processor: &str| {
        posts
            .iter()
            .find(|p| p.body["request"]["id"] == request && p.processor == processor)
            .map(|p| p.body["subject"].clone())
            .unwrap()
    };
    // Read before the rows went.
    assert_eq!(body(1, "mailer"), json!({"email": ["ann@example.com"]}));
    assert_eq!(
        body(1, "payments"),
        json!({"customer": ["1"], "stripe_customer": ["cus_A"]})
    );
    assert_eq!(
        body(2, "payments"),
        json!({"customer": ["2"], "stripe_customer": []})
    );

    assert_eq!(
        shop.rows("SELECT state, CASE WHEN payload IS NULL THEN 'forgotten' ELSE 'kept' END FROM retention_deliveries")
            .await
            .into_iter()
            .map(|r| r.join(" "))
            .collect::<Vec<_>>(),
        ["delivered forgotten"; 4]
    );
    let forwarded = shop
        .int("SELECT count(*) FROM retention_events WHERE action = 'forwarded'")
        .await;
    assert_eq!(forwarded, 4);
    let failed = shop
        .int("SELECT count(*) FROM retention_events WHERE action = 'forward_failed'")
        .await;
    assert_eq!(failed, 6, "2 + 2 unreachable, one 500, one timeout");
    let verify = shop.cli(&["audit", "verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));

    let today = chrono::Utc::now().date_naive().to_string();
    let report = shop.cli(&["report", "--from", &today, "--to", &today]);
    let report = stdout(&report);
    assert_eq!(
        report
            .matches("passed on to 2 processor(s): 2 confirmed")
            .count(),
        2,
        "{report}"
    );
}

/// The daemon tries again on its own between passes, after a restart, and shows
/// a delivery failing for over a day in `status` and its metrics.
#[tokio::test]
async fn the_daemon_retries_and_shows_what_fails() {
    let shop = Shop::new(SCHEMA).await;
    let port = free_port();
    let metrics = free_port();
    config(
        &shop,
        port,
        &format!(
            "[schedule]\ncron = \"0 0 3 1 1 *\"\n\n[metrics]\nlisten = \"127.0.0.1:{metrics}\"\n"
        ),
    );
    let erased = json_of(&shop.cli(&["erase", "--subject", "1", "--now", "--format", "json"]));
    assert_eq!(erased["deliveries"]["failed"], 2);
    // As if the receiver had been down for two days.
    shop.exec("UPDATE retention_deliveries SET first_failed_at = '2000-01-01T00:00:00.000Z'")
        .await;
    let status = json_of(&shop.cli(&["status", "--format", "json"]));
    let failing = status["deliveries_failing"].as_array().unwrap();
    assert_eq!(failing.len(), 2, "{status}");
    assert!(
        failing[0]["last_error"]
            .as_str()
            .unwrap()
            .starts_with("cannot connect"),
        "{status}"
    );
    let text = stdout(&shop.cli(&["status"]));
    assert!(
        text.contains("processor  `mailer` has not accepted request #1 since 2000-01-01"),
        "{text}"
    );

    let log = shop.path("daemon.log");
    let daemon = spawn_daemon(&shop.config_path, &log);
    wait_for("the metrics endpoint", Duration::from_secs(20), || {
        std::net::TcpStream::connect(("127.0.0.1", metrics)).is_ok()
    });
    let scraped = scrape(metrics);
    assert!(
        scraped.contains("retentiond_deliveries_failing{processor=\"mailer\"} 1"),
        "{scraped}"
    );
    drop(daemon);

    // Restarted, with the receiver up: it sends without waiting for a pass.
    let receiver = Receiver::start(
        port,
        &[("mailer", MAILER_SECRET), ("payments", PAYMENTS_SECRET)],
        &[Reply::Status(503)],
    );
    let daemon = spawn_daemon(&shop.config_path, &log);
    wait_for("both deliveries accepted", Duration::from_secs(30), || {
        receiver.acted().len() == 2
    });
    wait_for("the gauge back to 0", Duration::from_secs(20), || {
        scrape(metrics).contains("retentiond_deliveries_failing{processor=\"mailer\"} 0")
    });
    drop(daemon);
    assert_eq!(
        shop.int("SELECT count(*) FROM retention_deliveries WHERE state = 'delivered'")
            .await,
        2
    );
    let status = json_of(&shop.cli(&["status", "--format", "json"]));
    assert_eq!(status["deliveries_failing"], json!([]));
}

#[tokio::test]
async fn a_processor_config_says_what_is_wrong_where() {
    let shop = Shop::new(SCHEMA).await;
    write_key(&shop.path("short.secret"), b"short");
    std::fs::write(shop.path("open.secret"), MAILER_SECRET).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        shop.path("open.secret"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    shop.write_config(
        "[[policy]]
name = \"customers\"
table = \"customers\"
timestamp = \"last_login_at\"
keep = \"3 years\"
subject = \"id\"
action = \"delete\"

[[processor]]
name = \"mailer\"
url = \"http://mailer.example/hooks\"
secret_file = \"short.secret\"
send = { email = \"orders.email\" }
kinds = [\"erasure\", \"forget\"]

[[processor]]
name = \"payments\"
url = \"https://user:pw@payments.example/\"
secret_file = \"open.secret\"
send = {}
",
    );
    let out = shop.cli(&["check"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    for expected in [
        "retention.toml:14:7: a processor's url must be https, not http",
        "retention.toml:15:15: secret_file",
        "holds 5 characters; at least 16 are needed",
        "retention.toml:16:18: no policy with a `subject` has table `orders`",
        "retention.toml:17:21: unknown request kind `forget`",
        "retention.toml:21:7: the processor's url holds credentials",
        "is open to others than its owner",
        "retention.toml:23:8: `send` names nothing that identifies the person",
    ] {
        assert!(err.contains(expected), "{expected:?} in:\n{err}");
    }
    assert!(!err.contains(MAILER_SECRET), "the secret is never printed");

    // A column the table lacks is found against the database.
    config(&shop, 1, "");
    let text = std::fs::read_to_string(&shop.config_path)
        .unwrap()
        .replace("customers.stripe_id", "customers.stripe");
    std::fs::write(&shop.config_path, text).unwrap();
    let out = shop.cli(&["check"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("processor `payments`: table `customers` has no column `stripe`"),
        "{}",
        stdout(&out)
    );
}
