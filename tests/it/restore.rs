//! The restore drill: erase a subject, restore a backup taken before the erasure
//! (a file copy on SQLite, pg_dump/psql and mariadb-dump/mariadb on the servers),
//! and the next pass erases the subject again from the ledger, the report says so,
//! and `audit verify` names the restore.

use std::process::Command;

use serde_json::Value;

use crate::support::{Backend, Shop, stderr, stdout};

const SCHEMA: &str = "
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, placed_at VARCHAR(40) NOT NULL);
CREATE TABLE carts (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, created_at VARCHAR(40) NOT NULL);
CREATE TABLE cart_items (id INTEGER PRIMARY KEY, cart_id INTEGER NOT NULL, sku VARCHAR(20));
CREATE TABLE consents (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, email VARCHAR(80), unsubscribed_at VARCHAR(40));
CREATE INDEX carts_customer ON carts (customer_id);
CREATE INDEX consents_customer ON consents (customer_id);
INSERT INTO orders VALUES (1, 7, '2026-03-01T10:00:00Z'), (2, 8, '2026-03-01T10:00:00Z');
INSERT INTO carts VALUES (1, 7, '2026-11-20T00:00:00Z'), (2, 8, '2026-11-20T00:00:00Z');
INSERT INTO cart_items VALUES (1, 1, 'A'), (2, 1, 'B'), (3, 2, 'C');
INSERT INTO consents VALUES (1, 7, 'seven@example.com', NULL), (2, 8, 'eight@example.com', NULL);
";

const POLICIES: &str = "
[[policy]]
name = \"orders\"
table = \"orders\"
timestamp = \"placed_at\"
keep = \"10 years\"
basis = \"legal_obligation\"
subject = \"customer_id\"
action = \"delete\"

[[policy]]
name = \"carts\"
table = \"carts\"
timestamp = \"created_at\"
keep = \"90 days\"
basis = \"contract\"
subject = \"customer_id\"
action = \"delete\"
cascade = [{ table = \"cart_items\", foreign_key = \"cart_id\", references = \"id\" }]

[[policy]]
name = \"consents\"
table = \"consents\"
timestamp = \"unsubscribed_at\"
keep = \"30 days\"
basis = \"consent\"
subject = \"customer_id\"
action = \"delete\"
";

/// The server's port and the database's name in a test URL.
fn port_and_name(url: &str) -> (String, String) {
    let (rest, name) = url.rsplit_once('/').expect("a database name");
    let port = rest.rsplit(':').next().expect("a port");
    (port.to_string(), name.to_string())
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Takes a backup of the whole database, retentiond's tables included.
fn back_up(shop: &Shop) {
    let file = shop.path("backup");
    match shop.backend {
        Backend::Sqlite => {
            std::fs::copy(&shop.db_path, &file).unwrap();
        }
        Backend::Postgres => {
            let (port, name) = port_and_name(&shop.url);
            run(Command::new("pg_dump")
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &port,
                    "-U",
                    "postgres",
                    "--clean",
                    "--if-exists",
                ])
                .args(["-d", &name, "-f"])
                .arg(&file));
        }
        Backend::MariaDb => {
            let (port, name) = port_and_name(&shop.url);
            let out = std::fs::File::create(&file).unwrap();
            run(Command::new("mariadb-dump")
                .args(["-h", "127.0.0.1", "-P", &port, "-u", "root", &name])
                .stdout(out));
        }
    }
}

/// Restores the backup over the live database.
fn restore(shop: &Shop) {
    let file = shop.path("backup");
    match shop.backend {
        Backend::Sqlite => {
            for suffix in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", shop.db_path.display()));
            }
            std::fs::copy(&file, &shop.db_path).unwrap();
        }
        Backend::Postgres => {
            let (port, name) = port_and_name(&shop.url);
            run(Command::new("psql")
                .args([
                    "-q",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &port,
                    "-U",
                    "postgres",
                    "-v",
                    "ON_ERROR_STOP=1",
                ])
                .args(["-d", &name, "-f"])
                .arg(&file));
        }
        Backend::MariaDb => {
            let (port, name) = port_and_name(&shop.url);
            run(Command::new("mariadb")
                .args(["-h", "127.0.0.1", "-P", &port, "-u", "root", &name])
                .stdin(std::fs::File::open(&file).unwrap()));
        }
    }
}

async fn seven(shop: &Shop) -> Vec<i64> {
    let mut counts = Vec::new();
    for sql in [
        "SELECT COUNT(*) FROM orders WHERE customer_id = 7",
        "SELECT COUNT(*) FROM carts WHERE customer_id = 7",
        "SELECT COUNT(*) FROM cart_items WHERE cart_id = 1",
        "SELECT COUNT(*) FROM consents WHERE customer_id = 7",
    ] {
        counts.push(shop.int(sql).await);
    }
    counts
}

async fn an_erasure_undone_by_a_restore_is_applied_again(backend: Backend) {
    let shop = Shop::on(backend, SCHEMA).await;
    shop.write_config(POLICIES);
    let migrated = shop.cli(&["migrate"]);
    assert_eq!(migrated.status.code(), Some(0), "{}", stderr(&migrated));
    back_up(&shop);

    let erased = shop.cli(&["erase", "--subject", "7", "--now"]);
    assert_eq!(erased.status.code(), Some(0), "{}", stdout(&erased));
    assert_eq!(seven(&shop).await, [1, 0, 0, 0]);
    let ledger = std::fs::read_to_string(shop.path("erasures.ledger")).expect("the ledger");
    assert_eq!(ledger.lines().count(), 1);
    assert!(ledger.contains("\"subject\":\"7\"") && !ledger.contains("example.com"));

    restore(&shop);
    assert_eq!(
        seven(&shop).await,
        [1, 1, 2, 1],
        "the restore brought subject 7 back"
    );
    let verify = shop.cli(&["audit", "verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
    let text = stdout(&verify);
    assert!(text.contains("restore detected: the database's erasure register is shorter than the ledger: 1 answered erasure(s) (#1)"), "{text}");

    let pass = shop.cli(&["purge", "--format", "json"]);
    assert_eq!(pass.status.code(), Some(0), "{}", stderr(&pass));
    let report: Value = serde_json::from_slice(&pass.stdout).unwrap();
    assert_eq!(
        report["reapplied"]["erasures"][0]["request"], 1,
        "{report:#}"
    );
    assert_eq!(
        seven(&shop).await,
        [1, 0, 0, 0],
        "erased again, the order kept by law"
    );
    assert_eq!(
        shop.int("SELECT COUNT(*) FROM consents WHERE customer_id = 8")
            .await,
        1
    );
    assert_eq!(
        shop.rows("SELECT triggered_by, status, rows_purged FROM retention_runs WHERE triggered_by = 'reapply'").await,
        [["reapply", "ok", "4"]]
    );

    let text = stdout(&shop.cli(&["report", "--from", "2026-01-01"]));
    assert!(text.contains("1 erasure re-applied after the database was restored (request #1: 4 row(s) erased again)"), "{text}");
    let verify = stdout(&shop.cli(&["audit", "verify"]));
    assert!(
        verify.contains("erasure ledger intact: 2 line(s), 1 erasure(s), 1 re-applied"),
        "{verify}"
    );
    assert!(verify.contains("restore detected"), "{verify}");

    // Nothing back: the next pass re-applies nothing and starts no reapply run.
    let again = shop.cli(&["erase", "--reapply"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(
        stdout(&again).starts_with("no erased subject's rows are back"),
        "{}",
        stdout(&again)
    );
    assert_eq!(
        shop.int("SELECT COUNT(*) FROM retention_runs WHERE triggered_by = 'reapply'")
            .await,
        1
    );

    // A ledger edited by hand shows.
    let path = shop.path("erasures.ledger");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replacen("\"subject\":\"7\"", "\"subject\":\"9\"", 1),
    )
    .unwrap();
    let broken = shop.cli(&["audit", "verify"]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(
        stdout(&broken).contains("erasure ledger broken:")
            && stdout(&broken).contains("erasures.ledger:2: the chain is broken"),
        "{}",
        stdout(&broken)
    );
}

on_every_backend!(an_erasure_undone_by_a_restore_is_applied_again);
