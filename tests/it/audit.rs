//! The audit trail: every purged row counted once, and `audit verify` naming the
//! first event that was edited, deleted or reordered.

use crate::support::{Backend, Shop, now, stdout};

on_every_backend!(
    an_intact_trail_verifies_and_counts_every_row,
    an_edited_event_is_named,
    a_deleted_event_is_named,
    reordered_events_are_named,
    a_rehashed_forgery_breaks_the_next_link,
);

async fn shop_with_events(backend: Backend) -> Shop {
    let shop = Shop::on(
        backend,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, ts VARCHAR(40)); CREATE INDEX t_ts ON t (ts);",
    )
    .await;
    let mut sql = String::new();
    for i in 0..50 {
        sql.push_str(&format!(
            "INSERT INTO t (id, ts) VALUES ({i}, '20{:02}-01-01T00:00:00Z');",
            if i < 30 { 10 } else { 99 }
        ));
    }
    shop.exec(&sql).await;
    let config = shop.config(
        "[limits]\nbatch_size = 5\nmax_table_fraction = 1.0\n\n[[policy]]\nname = \"t\"\ntable = \"t\"\ntimestamp = \"ts\"\nkeep = \"1 year\"\naction = \"delete\"\n",
    );
    let report = shop.pass_at(&config, now()).await;
    assert_eq!(
        (report.policies[0].rows, report.policies[0].batches),
        (30, 6)
    );
    shop
}

fn verify(shop: &Shop) -> (Option<i32>, String) {
    let out = shop.cli(&["audit", "verify"]);
    (out.status.code(), stdout(&out))
}

async fn an_intact_trail_verifies_and_counts_every_row(backend: Backend) {
    let shop = shop_with_events(backend).await;
    let (code, text) = verify(&shop);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("6 events verified"), "{text}");
    assert_eq!(
        shop.ints("SELECT \"rows\" FROM retention_events")
            .await
            .iter()
            .sum::<i64>(),
        30
    );
    assert_eq!(shop.int("SELECT count(*) FROM t").await, 20);
    let json: serde_json::Value =
        serde_json::from_slice(&shop.cli(&["audit", "verify", "--format", "json"]).stdout).unwrap();
    assert_eq!(json["ok"], true);
    assert_eq!(json["verified"], 6);
    assert_eq!(json["head"].as_str().unwrap().len(), 64);
}

async fn an_edited_event_is_named(backend: Backend) {
    let shop = shop_with_events(backend).await;
    shop.exec("UPDATE retention_events SET \"rows\" = \"rows\" - 1 WHERE id = 3;")
        .await;
    let (code, text) = verify(&shop);
    assert_eq!(code, Some(1));
    assert!(
        text.contains("event 3: its contents do not match its hash"),
        "{text}"
    );
}

async fn a_deleted_event_is_named(backend: Backend) {
    let shop = shop_with_events(backend).await;
    shop.exec("DELETE FROM retention_events WHERE id = 3;")
        .await;
    let (code, text) = verify(&shop);
    assert_eq!(code, Some(1));
    assert!(
        text.contains("event 4 follows event 2: 1 event(s) before it were deleted"),
        "{text}"
    );
}

async fn reordered_events_are_named(backend: Backend) {
    let shop = shop_with_events(backend).await;
    shop.exec(
        "UPDATE retention_events SET id = -3 WHERE id = 3;
         UPDATE retention_events SET id = 3 WHERE id = 4;
         UPDATE retention_events SET id = 4 WHERE id = -3;",
    )
    .await;
    let (code, text) = verify(&shop);
    assert_eq!(code, Some(1));
    assert!(text.contains("event 3"), "{text}");
}

async fn a_rehashed_forgery_breaks_the_next_link(backend: Backend) {
    let shop = shop_with_events(backend).await;
    // A forger who recomputes the hash of the event they edit still breaks the chain.
    let mut db = shop.db(&shop.config_loaded()).await;
    let mut e = db.events_after(1, 1).await.unwrap().remove(0);
    db.close().await.unwrap();
    e.rows = 0;
    let forged = e.compute_hash();
    shop.exec(&format!(
        "UPDATE retention_events SET \"rows\" = 0, hash = '{forged}' WHERE id = 2;"
    ))
    .await;
    let (code, text) = verify(&shop);
    assert_eq!(code, Some(1));
    assert!(
        text.contains("event 3: its previous-hash does not match event 2"),
        "{text}"
    );
}

/// A pass remembers the chain's head between batches instead of reading it each
/// time. When another writer appends meanwhile (a hold added from the command
/// line), the next batch finds its id taken, reads the head again and is written
/// once: the chain stays one gapless chain and every row is counted once.
async fn a_batch_after_another_writer_appended_links_to_the_new_head(backend: Backend) {
    let shop = Shop::on(
        backend,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, ts VARCHAR(40), who VARCHAR(10)); CREATE INDEX t_ts ON t (ts);",
    )
    .await;
    let mut sql = String::new();
    for i in 0..40 {
        let year = if i < 20 { 2001 } else { 2020 };
        sql.push_str(&format!(
            "INSERT INTO t (id, ts, who) VALUES ({i}, '{year}-01-01T00:00:00Z', 's{i}');"
        ));
    }
    shop.exec(&sql).await;
    let config = shop.config(
        "[limits]\nbatch_size = 5\nmax_table_fraction = 1.0\n\n[[policy]]\nname = \"t\"\ntable = \"t\"\ntimestamp = \"ts\"\nkeep = \"10 years\"\nsubject = \"who\"\naction = \"delete\"\n",
    );
    let mut db = shop.db(&config).await;
    let mut opts = retentiond::engine::PassOptions::new(retentiond::engine::Trigger::Manual);
    opts.clock = retentiond::engine::Clock::Fixed(now());
    let first = retentiond::engine::run_pass(&mut db, &config, &opts)
        .await
        .unwrap();
    assert_eq!(first.policies[0].rows, 20);
    // Another writer appends to the chain while the connection above stays open.
    let out = shop.cli(&["hold", "add", "--subject", "nobody", "--reason", "case 9"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    opts.clock = retentiond::engine::Clock::Fixed(now() + chrono::TimeDelta::days(366 * 12));
    let second = retentiond::engine::run_pass(&mut db, &config, &opts)
        .await
        .unwrap();
    db.close().await.unwrap();
    assert_eq!(second.policies[0].rows, 20, "{:?}", second.policies[0]);
    let (code, text) = verify(&shop);
    assert_eq!(code, Some(0), "{backend:?}: {text}");
    let events = shop.int("SELECT count(*) FROM retention_events").await;
    let max_id = shop.int("SELECT max(id) FROM retention_events").await;
    assert_eq!(events, max_id, "{backend:?}: gapless");
    let counted: i64 = shop
        .ints("SELECT \"rows\" FROM retention_events")
        .await
        .iter()
        .sum();
    assert_eq!(counted, 40, "{backend:?}: every row counted once");
}

on_every_backend!(a_batch_after_another_writer_appended_links_to_the_new_head);
