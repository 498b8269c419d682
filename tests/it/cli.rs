//! The binary as a user meets it: the demo, exit codes, and what a purge leaves
//! behind in the database file and in the logs.

use crate::support::{Shop, run_cli, stderr, stdout};

#[tokio::test]
async fn demo_purges_as_promised_and_a_second_purge_finds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("retention.toml");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/retention.toml"),
        &config,
    )
    .unwrap();
    let out = run_cli(&config, dir.path(), &["demo", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        json["rows_created"].as_u64().unwrap() >= 200_000,
        "{}",
        json["rows_created"]
    );
    assert!(
        dir.path().join("hmac.key").exists(),
        "the demo creates the HMAC key it needs"
    );
    let policies = json["pass"]["policies"].as_array().unwrap();
    let names: Vec<&str> = policies
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "orders",
            "kyc_documents",
            "marketing_consents",
            "analytics_events",
            "analytics_identifiers",
            "dormant_customers"
        ]
    );
    for p in policies {
        assert_eq!(p["status"], "ok", "{p}");
        assert!(
            p["rows"].as_u64().unwrap() > 0,
            "every policy has work in the demo: {p}"
        );
    }
    assert!(policies[0]["children"]["order_items"].as_u64().unwrap() > 0);
    assert_eq!(json["audit"]["ok"], true);

    // Each purged KYC row's scan is gone from the uploads folder; the others stay.
    let uploads = dir.path().join("demo-uploads");
    assert_eq!(json["uploads"]["files"], 6000);
    let kyc_rows = policies[1]["rows"].as_u64().unwrap();
    assert_eq!(policies[1]["files"]["queued"], kyc_rows);
    assert_eq!(policies[1]["files"]["removed"], kyc_rows);
    let scans = walk_files(&uploads.join("kyc"));
    assert_eq!(scans.len() as u64, 6000 - kyc_rows);
    let left: Vec<String> = {
        let db = scan_paths(&dir.path().join("demo.db")).await;
        db.into_iter()
            .map(|p| uploads.join(p).display().to_string())
            .collect()
    };
    let mut on_disk: Vec<String> = scans.iter().map(|p| p.display().to_string()).collect();
    on_disk.sort();
    let mut expected = left;
    expected.sort();
    assert_eq!(
        on_disk, expected,
        "the files left are those of the rows left"
    );

    let again = run_cli(&config, dir.path(), &["purge", "--format", "json"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    let total: u64 = again["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["rows"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 0, "a second purge purges 0 rows");

    // Running the demo again replaces its own database, but never a foreign file.
    assert_eq!(
        run_cli(&config, dir.path(), &["demo"]).status.code(),
        Some(0)
    );
    let foreign = dir.path().join("mine.db");
    std::fs::write(&foreign, b"not yours").unwrap();
    let out = run_cli(
        &config,
        dir.path(),
        &["demo", "--db", foreign.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is not a retentiond demo database"));
    assert_eq!(std::fs::read(&foreign).unwrap(), b"not yours");

    // Nor does it empty an uploads folder it did not fill.
    std::fs::remove_file(uploads.join(".retentiond-demo")).unwrap();
    let out = run_cli(&config, dir.path(), &["demo"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("was not made by `retentiond demo`"),
        "{}",
        stderr(&out)
    );
    assert_eq!(walk_files(&uploads.join("kyc")).len(), scans.len());
}

fn walk_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk_files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The scan paths the demo database still holds.
async fn scan_paths(db: &std::path::Path) -> Vec<String> {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    sqlx::query_scalar("SELECT scan_path FROM kyc_documents")
        .fetch_all(&mut conn)
        .await
        .unwrap()
}

const SHOP: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, seen_at TEXT NOT NULL, anonymized_at TEXT);
CREATE INDEX customers_seen_at ON customers (seen_at);
CREATE TABLE newsletter (id INTEGER PRIMARY KEY, email TEXT NOT NULL, left_at TEXT);
CREATE INDEX newsletter_left_at ON newsletter (left_at);
";

async fn shop() -> Shop {
    let shop = Shop::new(SHOP).await;
    let mut sql = String::new();
    for i in 0..300 {
        let old = i < 200;
        let seen = if old {
            "2012-01-01T00:00:00Z"
        } else {
            "2099-01-01T00:00:00Z"
        };
        let domain = if old { "gone.example" } else { "stay.example" };
        sql.push_str(&format!(
            "INSERT INTO customers (email, seen_at) VALUES ('person{i}@{domain}', '{seen}');"
        ));
        sql.push_str(&format!(
            "INSERT INTO newsletter (email, left_at) VALUES ('reader{i}@{domain}', {});",
            if old { "'2013-01-01'" } else { "NULL" }
        ));
    }
    shop.exec(&sql).await;
    crate::support::write_key(&shop.path("hmac.key"), &[9u8; 32]);
    shop.write_config(
        "[anonymize]\nkey_file = \"hmac.key\"\n\n[limits]\nbatch_size = 50\nmax_table_fraction = 1.0\n\n\
         [[policy]]\nname = \"customers\"\ntable = \"customers\"\ntimestamp = \"seen_at\"\nkeep = \"3 years\"\naction = \"anonymize\"\nmarker = \"anonymized_at\"\n\
         [policy.anonymize]\nemail = \"hash\"\n\n\
         [[policy]]\nname = \"newsletter\"\ntable = \"newsletter\"\ntimestamp = \"left_at\"\nkeep = \"30 days\"\naction = \"delete\"\n",
    );
    shop
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle).is_some()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[tokio::test]
async fn purged_values_are_not_left_in_the_database_files() {
    let shop = shop().await;
    let before = std::fs::read(&shop.db_path).unwrap();
    assert!(
        contains(&before, b"gone.example"),
        "the values are in the file before the purge"
    );
    let out = shop.cli(&["purge"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(shop.int("SELECT count(*) FROM newsletter").await, 100);
    for suffix in ["", "-wal", "-journal"] {
        let path = format!("{}{suffix}", shop.db_path.display());
        if let Ok(bytes) = std::fs::read(&path) {
            if let Some(at) = find(&bytes, b"gone.example") {
                let context = String::from_utf8_lossy(
                    &bytes[at.saturating_sub(40)..(at + 20).min(bytes.len())],
                )
                .into_owned();
                panic!(
                    "a purged address is readable in {path} at byte {at} (page {}): {context:?}",
                    at / 4096
                );
            }
            if suffix.is_empty() {
                assert!(
                    contains(&bytes, b"stay.example"),
                    "kept addresses are still there"
                );
            }
        }
    }
}

#[tokio::test]
async fn logs_carry_no_personal_data() {
    let shop = shop().await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_retentiond"))
        .args([
            "-c",
            shop.config_path.to_str().unwrap(),
            "--log-format",
            "json",
            "purge",
        ])
        .env("RUST_LOG", "debug")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let logs = stderr(&out);
    assert!(
        logs.lines()
            .filter(|l| l.contains("\"policy done\""))
            .count()
            == 2,
        "{logs}"
    );
    for line in logs.lines().filter(|l| !l.is_empty()) {
        let json: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(json.get("level").is_some(), "{line}");
    }
    assert!(
        !logs.contains("@gone.example") && !logs.contains("@stay.example"),
        "{logs}"
    );
}

#[tokio::test]
async fn exit_codes() {
    let shop = shop().await;
    // A database that cannot be reached: 1.
    std::fs::rename(&shop.db_path, shop.path("moved.db")).unwrap();
    let out = shop.cli(&["purge"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("shop.db") && stderr(&out).contains("no such file"),
        "{}",
        stderr(&out)
    );
    assert!(!shop.db_path.exists(), "a missing database is not created");
    std::fs::rename(shop.path("moved.db"), &shop.db_path).unwrap();
    // Bad usage: 2.
    let out = shop.cli(&["purge", "--policy", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no policy named `nope`")
            && stderr(&out).contains("customers, newsletter")
    );
    assert_eq!(shop.cli(&["purge", "--bogus"]).status.code(), Some(2));
    // --policy runs just that one.
    let out = shop.cli(&["purge", "--policy", "newsletter", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["policies"].as_array().unwrap().len(), 1);
    assert_eq!(json["policies"][0]["rows"], 200);
    // status reads what the passes recorded.
    let status: serde_json::Value =
        serde_json::from_slice(&shop.cli(&["status", "--format", "json"]).stdout).unwrap();
    assert_eq!(status["last_run"]["status"], "ok");
    assert_eq!(status["policies"][1]["last_rows"], 200);
    assert_eq!(
        status["policies"][0]["last_status"],
        serde_json::Value::Null
    );
    let text = stdout(&shop.cli(&["status"]));
    assert!(
        text.contains("newsletter") && text.contains("never"),
        "{text}"
    );
}

#[tokio::test]
async fn the_database_url_can_come_from_the_environment_or_a_file() {
    let shop = shop().await;
    std::fs::write(
        &shop.config_path,
        std::fs::read_to_string(&shop.config_path)
            .unwrap()
            .replace("url = \"sqlite://shop.db\"", "url_file = \"db-url\""),
    )
    .unwrap();
    crate::support::write_key(&shop.path("db-url"), b"sqlite://shop.db\n");
    assert_eq!(
        shop.cli(&["check"]).status.code(),
        Some(0),
        "{}",
        stderr(&shop.cli(&["check"]))
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_retentiond"))
        .args(["-c", shop.config_path.to_str().unwrap(), "check"])
        .env(
            "RETENTIOND_DATABASE_URL",
            format!("sqlite://{}", shop.path("elsewhere.db").display()),
        )
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "the environment overrides the file"
    );
    assert!(stderr(&out).contains("elsewhere.db"));
}

#[tokio::test]
async fn no_password_in_logs_or_errors() {
    use crate::support::Backend;
    let shop = Shop::on(
        Backend::Postgres,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, at VARCHAR(40)); INSERT INTO t VALUES (1, '2001-01-01'), (2, '2099-01-01'), (3, '2099-01-01');",
    )
    .await;
    // The test server trusts loopback, so any password gets in.
    let with_password = shop
        .url
        .replace("postgres://postgres@", "postgres://postgres:s3cret-pw@");
    let wrong_port = with_password.replace("127.0.0.1:", "127.0.0.1:1");
    for url in [&with_password, &wrong_port] {
        std::fs::write(
            &shop.config_path,
            format!("[database]\nurl = \"{url}\"\n\n[[policy]]\nname = \"t\"\ntable = \"t\"\ntimestamp = \"at\"\nkeep = \"1 year\"\naction = \"delete\"\n"),
        )
        .unwrap();
        for args in [&["purge"][..], &["check"], &["status", "--format", "json"]] {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_retentiond"))
                .args(["-c", shop.config_path.to_str().unwrap()])
                .args(args)
                .env("RUST_LOG", "trace")
                .output()
                .unwrap();
            let all = format!("{}{}", stdout(&out), stderr(&out));
            assert!(!all.contains("s3cret-pw"), "{args:?}: {all}");
        }
    }
    assert_eq!(
        shop.int("SELECT count(*) FROM t").await,
        2,
        "the pass with the password ran"
    );
}

#[tokio::test]
async fn an_error_names_its_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nonexistent.toml");
    let out = run_cli(&missing, dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("cannot read config file"), "{err}");
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
}

#[tokio::test]
async fn a_systemd_credential_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let shop = shop().await;
    let creds = shop.path("credentials");
    std::fs::create_dir(&creds).unwrap();
    let url = creds.join("database-url");
    std::fs::write(&url, "sqlite://shop.db\n").unwrap();
    std::fs::set_permissions(&url, std::fs::Permissions::from_mode(0o644)).unwrap();
    let check = |mode: u32| {
        std::fs::set_permissions(&url, std::fs::Permissions::from_mode(mode)).unwrap();
        std::process::Command::new(env!("CARGO_BIN_EXE_retentiond"))
            .args(["-c", shop.config_path.to_str().unwrap(), "check"])
            .current_dir(shop.dir.path())
            .env_remove("RETENTIOND_DATABASE_URL")
            .env("CREDENTIALS_DIRECTORY", &creds)
            .output()
            .unwrap()
    };
    let out = check(0o644);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("(mode 0644); run: chmod 600"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        check(0o400).status.code(),
        Some(0),
        "systemd's own mode is fine"
    );
}
