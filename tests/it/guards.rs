//! Safety guards refuse what looks like a mistake, and record the refusal; one
//! policy's failure does not stop the others.

use crate::support::{Backend, Shop, stdout};

on_every_backend!(
    max_table_fraction_refuses_with_exit_3_unless_forced,
    a_failing_policy_does_not_stop_the_others,
    plan_and_check_write_nothing_at_all,
);

const SCHEMA: &str = "
CREATE TABLE sessions (id INTEGER PRIMARY KEY, seen_at VARCHAR(40) NOT NULL);
CREATE INDEX sessions_seen_at ON sessions (seen_at);
CREATE TABLE logins (id INTEGER PRIMARY KEY, at BIGINT NOT NULL);
CREATE INDEX logins_at ON logins (at);
";

async fn fill(shop: &Shop) {
    let mut sql = String::new();
    // 8 of 10 sessions are old: 80% of the table.
    for i in 0..10 {
        let seen = if i < 8 {
            "2001-01-01T00:00:00Z"
        } else {
            "2099-01-01T00:00:00Z"
        };
        sql.push_str(&format!(
            "INSERT INTO sessions (id, seen_at) VALUES ({i}, '{seen}');"
        ));
        sql.push_str(&format!(
            "INSERT INTO logins (id, at) VALUES ({i}, {});",
            if i < 3 { 978307200 } else { 4070908800i64 }
        ));
    }
    shop.exec(&sql).await;
}

const POLICIES: &str = "
[[policy]]
name = \"sessions\"
table = \"sessions\"
timestamp = \"seen_at\"
keep = \"1 year\"
action = \"delete\"

[[policy]]
name = \"logins\"
table = \"logins\"
timestamp = \"at\"
keep = \"1 year\"
action = \"delete\"
";

async fn max_table_fraction_refuses_with_exit_3_unless_forced(backend: Backend) {
    let shop = Shop::on(backend, SCHEMA).await;
    fill(&shop).await;
    shop.write_config(POLICIES);

    let out = shop.cli(&["purge", "--format", "json"]);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["status"], "refused");
    assert_eq!(json["policies"][0]["status"], "refused");
    assert_eq!(json["policies"][0]["rows"], 0);
    assert!(
        json["policies"][0]["error"]
            .as_str()
            .unwrap()
            .contains("8 of 10 rows (80.0%)")
    );
    // The other policy still ran.
    assert_eq!(json["policies"][1]["status"], "ok");
    assert_eq!(json["policies"][1]["rows"], 3);
    assert_eq!(shop.int("SELECT count(*) FROM sessions").await, 10);
    // Recorded: in the run, the policy's result and the audit chain.
    assert_eq!(
        shop.int("SELECT count(*) FROM retention_runs WHERE status = 'refused'")
            .await,
        1
    );
    assert_eq!(shop.int("SELECT count(*) FROM retention_policy_runs WHERE status = 'refused' AND policy = 'sessions'").await, 1);
    assert_eq!(
        shop.int("SELECT count(*) FROM retention_events WHERE action = 'refused' AND \"rows\" = 0")
            .await,
        1
    );

    let out = shop.cli(&["purge", "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(shop.int("SELECT count(*) FROM sessions").await, 2);
    assert_eq!(
        shop.int("SELECT forced FROM retention_runs ORDER BY id DESC LIMIT 1")
            .await,
        1
    );
}

async fn a_failing_policy_does_not_stop_the_others(backend: Backend) {
    let shop = Shop::on(backend, SCHEMA).await;
    fill(&shop).await;
    shop.write_config(&format!("[limits]\nmax_table_fraction = 1.0\n{POLICIES}"));
    assert_eq!(shop.cli(&["check"]).status.code(), Some(0));
    // The table goes away between `check` and the pass.
    shop.exec("DROP TABLE sessions;").await;
    let out = shop.cli(&["purge", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["policies"][0]["status"], "failed");
    let error = json["policies"][0]["error"].as_str().unwrap();
    assert!(
        error.contains("retention.toml:9:9") && error.contains("table `sessions` does not exist"),
        "{error}"
    );
    assert_eq!(json["policies"][1]["status"], "ok");
    assert_eq!(json["policies"][1]["rows"], 3);
    assert_eq!(
        shop.int(
            "SELECT count(*) FROM retention_events WHERE action = 'failed' AND policy = 'sessions'"
        )
        .await,
        1
    );
}

async fn plan_and_check_write_nothing_at_all(backend: Backend) {
    let shop = Shop::on(backend, SCHEMA).await;
    fill(&shop).await;
    shop.write_config(&format!("[limits]\nmax_table_fraction = 1.0\n{POLICIES}"));
    let before = shop.dump(&["sessions", "logins"]).await;
    let file_before =
        (backend == Backend::Sqlite).then(|| crate::support::file_digest(&shop.db_path));
    let plan = shop.cli(&["plan", "--format", "json"]);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "{}",
        crate::support::stderr(&plan)
    );
    for args in [
        &["check"][..],
        &["status"],
        &["audit", "verify"],
        &["purge", "--dry-run"],
    ] {
        let out = shop.cli(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            crate::support::stderr(&out)
        );
    }
    assert_eq!(
        shop.dump(&["sessions", "logins"]).await,
        before,
        "the data is unchanged"
    );
    if let Some(before) = file_before {
        assert_eq!(
            crate::support::file_digest(&shop.db_path),
            before,
            "the database file is unchanged"
        );
    }
    assert!(
        !shop.has_own_tables().await,
        "plan and check create no tables"
    );

    // plan prints what purge then does, with a null run id.
    let planned: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(planned["run_id"], serde_json::Value::Null);
    assert_eq!(planned["dry_run"], true);
    let purged: serde_json::Value =
        serde_json::from_slice(&shop.cli(&["purge", "--format", "json"]).stdout).unwrap();
    assert_eq!(purged["dry_run"], false);
    assert!(purged["run_id"].as_i64().unwrap() > 0);
    for i in 0..2 {
        assert_eq!(
            planned["policies"][i]["rows"],
            purged["policies"][i]["rows"]
        );
        assert_eq!(
            planned["policies"][i]["name"],
            purged["policies"][i]["name"]
        );
    }
}
