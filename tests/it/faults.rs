//! Faults of a live database: a server restarted in the middle of a pass, and a row
//! lock held by the application for longer than `lock_timeout`.

use std::time::{Duration, Instant};

use crate::servers;
use crate::support::{Backend, Shop, run_cli, stderr};

const EXPIRED: i64 = 30_000;

async fn fill(shop: &Shop) {
    shop.exec(&format!(
        "INSERT INTO events (id, at, payload)
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {total})
         SELECT i, CASE WHEN i <= {EXPIRED} THEN '2015-06-01T00:00:00Z' ELSE '2099-06-01T00:00:00Z' END, 'payload-' || i FROM n;",
        total = EXPIRED + 5_000
    ))
    .await;
}

const SCHEMA: &str =
    "CREATE TABLE events (id INTEGER PRIMARY KEY, at VARCHAR(40) NOT NULL, payload VARCHAR(40));
                      CREATE INDEX events_at ON events (at);";

#[tokio::test]
async fn a_server_restart_mid_pass_is_survived() {
    let server = servers::dedicated_postgres();
    let shop = Shop::on_postgres_at(server.port, SCHEMA).await;
    fill(&shop).await;
    shop.write_config(
        "[limits]\nbatch_size = 100\nmax_table_fraction = 1.0\n\n\
         [[policy]]\nname = \"events\"\ntable = \"events\"\ntimestamp = \"at\"\nkeep = \"5 years\"\naction = \"delete\"\n",
    );
    // The [database] section is written first; give it retries that outlast a restart.
    let text = std::fs::read_to_string(&shop.config_path)
        .unwrap()
        .replacen("\n\n", "\nretries = 8\nretry_backoff = \"200ms\"\n\n", 1);
    std::fs::write(&shop.config_path, text).unwrap();

    let child = std::process::Command::new(env!("CARGO_BIN_EXE_retentiond"))
        .args(["-c", shop.config_path.to_str().unwrap(), "purge"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Restart once the pass has committed some batches, well before it is done.
    let started = Instant::now();
    while !shop.has_own_tables().await
        || shop.int("SELECT count(*) FROM retention_events").await < 5
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the pass never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.restart_postgres();
    let out = child.wait_with_output().unwrap();
    let logs = stderr(&out);
    assert!(!logs.contains("panicked"), "{logs}");
    assert!(
        logs.contains("retrying") || logs.contains("reconnect"),
        "the restart hit the pass: {logs}"
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "the pass finishes after reconnecting: {logs}"
    );
    let gone = EXPIRED + 5_000 - shop.int("SELECT count(*) FROM events").await;
    let counted: i64 = shop
        .ints("SELECT \"rows\" FROM retention_events")
        .await
        .iter()
        .sum();
    assert_eq!(gone, counted, "nothing is counted twice or lost");
    assert_eq!(gone, EXPIRED);
    assert_eq!(
        shop.int("SELECT count(*) FROM events WHERE id > 30000")
            .await,
        5_000
    );
    assert_eq!(
        run_cli(&shop.config_path, shop.dir.path(), &["audit", "verify"])
            .status
            .code(),
        Some(0)
    );
}

/// `events` (30,000 expired rows of 35,000) and `other` (1 expired row of 3): two
/// policies, so a fault in one can be seen not to stop the other.
async fn events_and_other(backend: Backend) -> Shop {
    let shop = Shop::on(
        backend,
        &format!("{SCHEMA}\nCREATE TABLE other (id INTEGER PRIMARY KEY, at VARCHAR(40) NOT NULL); CREATE INDEX other_at ON other (at);"),
    )
    .await;
    fill(&shop).await;
    shop.exec("INSERT INTO other VALUES (1, '2015-01-01T00:00:00Z'), (2, '2099-01-01T00:00:00Z'), (3, '2099-01-01T00:00:00Z');").await;
    shop
}

/// The application holds a lock on an expired row for longer than retentiond will
/// wait: the batch times out, is retried with backoff, and the policy fails alone.
async fn a_lock_held_too_long_fails_the_policy_not_the_pass(backend: Backend) {
    let shop = events_and_other(backend).await;
    std::fs::write(
        &shop.config_path,
        format!(
            "[database]\nurl = \"{}\"\nlock_timeout = \"200ms\"\nretries = 2\nretry_backoff = \"100ms\"\n\n\
             [limits]\nmax_table_fraction = 1.0\n\n\
             [[policy]]\nname = \"events\"\ntable = \"events\"\ntimestamp = \"at\"\nkeep = \"5 years\"\naction = \"delete\"\n\n\
             [[policy]]\nname = \"other\"\ntable = \"other\"\ntimestamp = \"at\"\nkeep = \"5 years\"\naction = \"delete\"\n",
            shop.url
        ),
    )
    .unwrap();
    if backend == Backend::Sqlite {
        // retentiond has run here before: the file is in WAL mode, its tables exist.
        assert_eq!(
            run_cli(&shop.config_path, shop.dir.path(), &["migrate"])
                .status
                .code(),
            Some(0)
        );
    }
    // Hold a row lock on the first expired row, from another connection.
    let mut holder = shop.conn().await;
    sqlx::raw_sql("BEGIN").execute(&mut holder).await.unwrap();
    sqlx::raw_sql("UPDATE events SET payload = 'locked' WHERE id = 1")
        .execute(&mut holder)
        .await
        .unwrap();

    let started = Instant::now();
    let out = run_cli(
        &shop.config_path,
        shop.dir.path(),
        &["purge", "--format", "json"],
    );
    let took = started.elapsed();
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut holder)
        .await
        .unwrap();
    let logs = stderr(&out);
    if backend == Backend::Sqlite {
        // SQLite locks the whole file: the pass cannot even record its start.
        assert_eq!(out.status.code(), Some(1), "{logs}");
        assert!(logs.contains("database is locked"), "{logs}");
        assert_eq!(
            shop.int("SELECT count(*) FROM events").await,
            EXPIRED + 5_000
        );
        return;
    }
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {logs}"));
    assert_eq!(out.status.code(), Some(1), "{json}");
    assert_eq!(json["policies"][0]["status"], "failed");
    let error = json["policies"][0]["error"].as_str().unwrap();
    assert!(error.contains("events"), "{error}");
    assert_eq!(
        json["policies"][1]["status"], "ok",
        "the other policy still runs"
    );
    assert_eq!(json["policies"][1]["rows"], 1);
    let retries = logs
        .lines()
        .filter(|l| l.contains("retrying") && l.contains("events"))
        .count();
    assert_eq!(retries, 2, "two retries: {logs}");
    // 200 ms lock wait (MariaDB: 1 s, its shortest) x 3 tries + 100 ms and 200 ms backoff.
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert_eq!(
        shop.int("SELECT count(*) FROM events").await,
        EXPIRED + 5_000,
        "nothing of the locked table was purged"
    );
}

on_every_backend!(a_lock_held_too_long_fails_the_policy_not_the_pass);

/// With `max_replica_lag` set on PostgreSQL, each batch first reads the replicas'
/// lag (none here, so none waits), and the run records what still holds the purged
/// values. (SQLite has no replicas, and MariaDB's lag needs `replica_urls`: both are
/// config errors, tests/it/lag.rs.)
async fn replica_lag_is_read_and_leftovers_are_recorded(backend: Backend) {
    let shop = Shop::on(backend, SCHEMA).await;
    fill(&shop).await;
    let lag = if backend == Backend::Postgres {
        "max_replica_lag = \"10s\"\n"
    } else {
        ""
    };
    std::fs::write(
        &shop.config_path,
        format!(
            "[database]\nurl = \"{}\"\n{lag}\n[limits]\nmax_table_fraction = 1.0\n\n\
             [[policy]]\nname = \"events\"\ntable = \"events\"\ntimestamp = \"at\"\nkeep = \"5 years\"\naction = \"delete\"\n",
            shop.url
        ),
    )
    .unwrap();
    let out = run_cli(
        &shop.config_path,
        shop.dir.path(),
        &["purge", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("cannot read replica lag"),
        "{}",
        stderr(&out)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["policies"][0]["rows"], EXPIRED);
    let leftovers = json["leftovers"].as_str().unwrap();
    let recorded = shop.rows("SELECT leftovers FROM retention_runs").await;
    assert_eq!(recorded[0][0], leftovers);
    assert!(leftovers.contains("backups and replicas"), "{leftovers}");
    match backend {
        Backend::Sqlite => assert!(leftovers.contains("rebuilt (VACUUM)"), "{leftovers}"),
        Backend::Postgres => assert!(
            leftovers.contains("dead row versions in events keep the old values until VACUUM"),
            "{leftovers}"
        ),
        Backend::MariaDb => assert!(leftovers.contains("undo logs"), "{leftovers}"),
    }
}

on_every_backend!(replica_lag_is_read_and_leftovers_are_recorded);

#[tokio::test]
async fn vacuum_true_vacuums_the_purged_table_on_postgres() {
    let shop = Shop::on(Backend::Postgres, SCHEMA).await;
    fill(&shop).await;
    shop.write_config(
        "[limits]\nmax_table_fraction = 1.0\n\n[[policy]]\nname = \"events\"\ntable = \"events\"\ntimestamp = \"at\"\n\
         keep = \"5 years\"\naction = \"delete\"\nvacuum = true\n",
    );
    let out = run_cli(
        &shop.config_path,
        shop.dir.path(),
        &["purge", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        json["leftovers"]
            .as_str()
            .unwrap()
            .contains("dead row versions in events were vacuumed"),
        "{json}"
    );
    assert_eq!(shop.int("SELECT count(*) FROM pg_stat_user_tables WHERE relname = 'events' AND last_vacuum IS NOT NULL").await, 1);
}

/// The database role may not DELETE from one table: that policy fails with a message
/// naming the table and the missing privilege; the other policies run; exit 1.
/// SQLite has no privileges (its file permissions are all or nothing): the servers only.
async fn a_missing_privilege_fails_one_policy(backend: Backend) {
    let shop = events_and_other(backend).await;
    let database = shop.url.rsplit('/').next().unwrap().to_string();
    let role = format!("r_{database}");
    let limited_url = match backend {
        Backend::Postgres => {
            shop.exec(&format!(
                "CREATE ROLE {role} LOGIN; GRANT USAGE, CREATE ON SCHEMA public TO {role};
                 GRANT SELECT, UPDATE ON events TO {role}; GRANT SELECT, UPDATE, DELETE ON other TO {role};"
            ))
            .await;
            shop.url
                .replace("postgres://postgres@", &format!("postgres://{role}@"))
        }
        _ => {
            shop.exec(&format!(
                "CREATE USER '{role}'@'127.0.0.1';
                 GRANT SELECT ON {database}.events TO '{role}'@'127.0.0.1';
                 GRANT SELECT, DELETE ON {database}.other TO '{role}'@'127.0.0.1';
                 GRANT CREATE, ALTER, INDEX, SELECT, INSERT, UPDATE ON {database}.* TO '{role}'@'127.0.0.1';"
            ))
            .await;
            // The database-wide grant above includes retentiond's own tables; take DELETE
            // on events away by never granting it.
            shop.url
                .replace("mysql://root@", &format!("mysql://{role}@"))
        }
    };
    std::fs::write(
        &shop.config_path,
        format!(
            "[database]\nurl = \"{limited_url}\"\nretries = 0\n\n[limits]\nmax_table_fraction = 1.0\n\n\
             [[policy]]\nname = \"events\"\ntable = \"events\"\ntimestamp = \"at\"\nkeep = \"5 years\"\naction = \"delete\"\n\n\
             [[policy]]\nname = \"other\"\ntable = \"other\"\ntimestamp = \"at\"\nkeep = \"5 years\"\naction = \"delete\"\n"
        ),
    )
    .unwrap();
    let out = run_cli(
        &shop.config_path,
        shop.dir.path(),
        &["purge", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    assert_eq!(json["policies"][0]["status"], "failed");
    let error = json["policies"][0]["error"].as_str().unwrap();
    assert!(error.contains("table `events`"), "{error}");
    assert!(
        error.to_lowercase().contains("permission denied")
            || error.contains("DELETE command denied"),
        "names the missing privilege: {error}"
    );
    assert_eq!(
        json["policies"][1]["status"], "ok",
        "{}",
        json["policies"][1]
    );
    assert_eq!(json["policies"][1]["rows"], 1);
    assert_eq!(
        shop.int("SELECT count(*) FROM events").await,
        EXPIRED + 5_000
    );
}

mod a_missing_privilege_fails_one_policy {
    use crate::support::Backend;

    #[tokio::test]
    async fn postgres() {
        super::a_missing_privilege_fails_one_policy(Backend::Postgres).await
    }

    #[tokio::test]
    async fn mariadb() {
        super::a_missing_privilege_fails_one_policy(Backend::MariaDb).await
    }
}

/// A column the config names is dropped between `check` and the pass: that policy
/// fails naming the table and column; the other runs; exit 1.
async fn a_column_dropped_after_check_fails_one_policy(backend: Backend) {
    let shop = Shop::on(
        backend,
        "CREATE TABLE a (id INTEGER PRIMARY KEY, at VARCHAR(40) NOT NULL, region VARCHAR(10));
         CREATE TABLE b (id INTEGER PRIMARY KEY, at VARCHAR(40) NOT NULL);
         INSERT INTO a VALUES (1, '2001-01-01', 'eu'), (2, '2099-01-01', 'eu'), (3, '2099-01-01', 'eu');
         INSERT INTO b VALUES (1, '2001-01-01'), (2, '2099-01-01'), (3, '2099-01-01');",
    )
    .await;
    shop.write_config(
        "[[policy]]\nname = \"a\"\ntable = \"a\"\ntimestamp = \"at\"\nkeep = \"1 year\"\naction = \"delete\"\nfilter = { region = \"eu\" }\n\n\
         [[policy]]\nname = \"b\"\ntable = \"b\"\ntimestamp = \"at\"\nkeep = \"1 year\"\naction = \"delete\"\n",
    );
    assert_eq!(
        run_cli(&shop.config_path, shop.dir.path(), &["check"])
            .status
            .code(),
        Some(0)
    );
    shop.exec("ALTER TABLE a DROP COLUMN region").await;
    let out = run_cli(
        &shop.config_path,
        shop.dir.path(),
        &["purge", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let error = json["policies"][0]["error"].as_str().unwrap();
    assert!(
        error.contains("column `region` does not exist in table `a`"),
        "{error}"
    );
    assert_eq!(
        (
            json["policies"][1]["status"].as_str(),
            json["policies"][1]["rows"].as_u64()
        ),
        (Some("ok"), Some(1))
    );
    assert_eq!(shop.int("SELECT count(*) FROM a").await, 3);
}

on_every_backend!(a_column_dropped_after_check_fails_one_policy);
