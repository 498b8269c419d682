//! Several retentiond instances on one database: one purges at a time, the others
//! skip, and the audit trail counts every purged row once.

use crate::support::{Backend, Shop, run_cli, stderr, stdout};

const EXPIRED: i64 = 20_000;

async fn three_instances_started_together_count_every_row_once(backend: Backend) {
    let shop = Shop::on(
        backend,
        "CREATE TABLE events (id INTEGER PRIMARY KEY, at VARCHAR(40) NOT NULL, payload VARCHAR(40));
         CREATE INDEX events_at ON events (at);",
    )
    .await;
    shop.exec(&format!(
        "INSERT INTO events (id, at, payload)
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {total})
         SELECT i, CASE WHEN i <= {EXPIRED} THEN '2015-06-01T00:00:00Z' ELSE '2099-06-01T00:00:00Z' END, 'payload-' || i FROM n;",
        total = EXPIRED + 2_000
    ))
    .await;
    shop.write_config(
        "[limits]\nbatch_size = 100\nmax_table_fraction = 1.0\n\n\
         [[policy]]\nname = \"events\"\ntable = \"events\"\ntimestamp = \"at\"\nkeep = \"5 years\"\naction = \"delete\"\n",
    );
    // Own tables exist already, as they would after the first deployment.
    assert_eq!(
        run_cli(&shop.config_path, shop.dir.path(), &["migrate"])
            .status
            .code(),
        Some(0)
    );

    let barrier = std::sync::Arc::new(std::sync::Barrier::new(3));
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let barrier = barrier.clone();
            let config = shop.config_path.clone();
            let dir = shop.dir.path().to_path_buf();
            std::thread::spawn(move || {
                barrier.wait();
                run_cli(&config, &dir, &["purge", "--format", "json"])
            })
        })
        .collect();
    let outs: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let mut statuses = Vec::new();
    for out in &outs {
        assert_eq!(out.status.code(), Some(0), "{}{}", stdout(out), stderr(out));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        statuses.push(json["status"].as_str().unwrap().to_string());
    }
    assert!(
        statuses.iter().any(|s| s == "skipped"),
        "instances started together skip: {statuses:?}"
    );
    assert!(statuses.iter().any(|s| s == "ok"), "{statuses:?}");
    let skipped_logs: Vec<String> = outs
        .iter()
        .map(stderr)
        .filter(|l| l.contains("holds the pass lock"))
        .collect();
    assert!(!skipped_logs.is_empty(), "a skipping instance says why");

    let gone = EXPIRED + 2_000 - shop.int("SELECT count(*) FROM events").await;
    let counted: i64 = shop
        .ints("SELECT \"rows\" FROM retention_events")
        .await
        .iter()
        .sum();
    assert_eq!(gone, EXPIRED);
    assert_eq!(counted, EXPIRED, "every purged row is counted once");
    assert_eq!(
        run_cli(&shop.config_path, shop.dir.path(), &["audit", "verify"])
            .status
            .code(),
        Some(0)
    );
}

on_every_backend!(three_instances_started_together_count_every_row_once);
