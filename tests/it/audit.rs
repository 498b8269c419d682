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
