//! `cascade` deletes the children of purged parents, in the same transaction, and
//! leaves the children of kept parents alone; `filter` narrows what expires.

use crate::support::{Backend, Shop, now};

on_every_backend!(
    children_of_purged_parents_go_children_of_kept_parents_stay,
    composite_keys_walk_and_cascade,
    a_key_that_is_not_unique_is_refused,
);

const SCHEMA: &str = "
CREATE TABLE orders (id INTEGER PRIMARY KEY, placed_at VARCHAR(40) NOT NULL, status VARCHAR(20) NOT NULL);
CREATE INDEX orders_placed_at ON orders (placed_at);
CREATE TABLE order_items (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, sku VARCHAR(20),
                          FOREIGN KEY (order_id) REFERENCES orders (id));
CREATE TABLE shipments (id INTEGER PRIMARY KEY, order_ref INTEGER NOT NULL, FOREIGN KEY (order_ref) REFERENCES orders (id));
";

async fn children_of_purged_parents_go_children_of_kept_parents_stay(backend: Backend) {
    let shop = Shop::on(backend, SCHEMA).await;
    let mut sql = String::new();
    // Orders 1..=40 are 11 years old, 41..=100 are 2 years old; each has 3 items and 1 shipment.
    for id in 1..=100 {
        let placed = if id <= 40 {
            "2017-01-15T10:00:00Z"
        } else {
            "2026-01-15T10:00:00Z"
        };
        let status = if id % 10 == 0 {
            "disputed"
        } else {
            "delivered"
        };
        sql.push_str(&format!(
            "INSERT INTO orders VALUES ({id}, '{placed}', '{status}');"
        ));
        for k in 0..3 {
            sql.push_str(&format!(
                "INSERT INTO order_items (id, order_id, sku) VALUES ({}, {id}, 'SKU-{k}');",
                id * 10 + k
            ));
        }
        sql.push_str(&format!(
            "INSERT INTO shipments (id, order_ref) VALUES ({id}, {id});"
        ));
    }
    shop.exec(&sql).await;
    let config = shop.config(
        "[limits]\nbatch_size = 7\n\n[[policy]]\nname = \"orders\"\ntable = \"orders\"\ntimestamp = \"placed_at\"\nkeep = \"10 years\"\naction = \"delete\"\n\
         cascade = [{ table = \"order_items\", foreign_key = \"order_id\" }, { table = \"shipments\", foreign_key = \"order_ref\" }]\n\
         filter = { status = [\"delivered\", \"cancelled\"] }\n",
    );
    let report = shop.pass_at(&config, now()).await;
    let p = &report.policies[0];
    // 40 old orders, of which 4 are disputed and kept by the filter.
    assert_eq!((p.rows, p.status.as_str()), (36, "ok"), "{:?}", p.error);
    assert_eq!(p.batches, 6, "36 rows in batches of at most 7");
    assert_eq!(p.children.get("order_items"), Some(&108));
    assert_eq!(p.children.get("shipments"), Some(&36));
    assert_eq!(shop.int("SELECT count(*) FROM orders").await, 64);
    assert_eq!(shop.int("SELECT count(*) FROM order_items").await, 64 * 3);
    assert_eq!(
        shop.int("SELECT count(*) FROM order_items WHERE order_id NOT IN (SELECT id FROM orders)")
            .await,
        0
    );
    assert_eq!(shop.int("SELECT count(*) FROM shipments").await, 64);
    // The kept children are exactly those of kept orders.
    assert_eq!(
        shop.int("SELECT count(*) FROM order_items WHERE order_id <= 40")
            .await,
        4 * 3
    );
    // Each batch's event counts its children.
    let counted: i64 = shop
        .rows("SELECT children FROM retention_events WHERE action = 'delete'")
        .await
        .iter()
        .map(|r| {
            serde_json::from_str::<serde_json::Value>(&r[0]).unwrap()["order_items"]
                .as_i64()
                .unwrap()
        })
        .sum();
    assert_eq!(counted, 108);
}

async fn composite_keys_walk_and_cascade(backend: Backend) {
    let shop = Shop::on(
        backend,
        "CREATE TABLE payments (payment_date VARCHAR(10) NOT NULL, payment_id INTEGER NOT NULL, amount INTEGER, PRIMARY KEY (payment_date, payment_id));
         CREATE TABLE refunds (id INTEGER PRIMARY KEY, p_date VARCHAR(10), p_id INTEGER);",
    )
    .await;
    let mut sql = String::new();
    for i in 0..30 {
        let date = if i < 20 { "2015-03-01" } else { "2027-03-01" };
        // Several payments share a date: the key, not the timestamp, orders them.
        sql.push_str(&format!(
            "INSERT INTO payments VALUES ('{date}', {}, 100);",
            i % 5 + i * 10
        ));
        sql.push_str(&format!(
            "INSERT INTO refunds (id, p_date, p_id) VALUES ({i}, '{date}', {});",
            i % 5 + i * 10
        ));
    }
    shop.exec(&sql).await;
    let config = shop.config(
        "[limits]\nbatch_size = 3\nmax_table_fraction = 0.7\n\n[[policy]]\nname = \"payments\"\ntable = \"payments\"\nkey = [\"payment_date\", \"payment_id\"]\n\
         timestamp = \"payment_date\"\nkeep = \"P10Y\"\naction = \"delete\"\n\
         cascade = [{ table = \"refunds\", foreign_key = [\"p_date\", \"p_id\"], references = [\"payment_date\", \"payment_id\"] }]\n",
    );
    let report = shop.pass_at(&config, now()).await;
    assert_eq!(
        report.policies[0].rows, 20,
        "{:?}",
        report.policies[0].error
    );
    assert_eq!(report.policies[0].batches, 7);
    assert_eq!(report.policies[0].children.get("refunds"), Some(&20));
    assert_eq!(shop.int("SELECT count(*) FROM payments").await, 10);
    assert_eq!(shop.int("SELECT count(*) FROM refunds").await, 10);
}

async fn a_key_that_is_not_unique_is_refused(backend: Backend) {
    let shop = Shop::on(
        backend,
        "CREATE TABLE t (code VARCHAR(10), ts VARCHAR(40));",
    )
    .await;
    shop.write_config("[[policy]]\nname = \"t\"\ntable = \"t\"\nkey = \"code\"\ntimestamp = \"ts\"\nkeep = \"1 day\"\naction = \"delete\"\n");
    let out = shop.cli(&["check"]);
    assert_eq!(out.status.code(), Some(2));
    let text = crate::support::stdout(&out);
    assert!(
        text.contains("retention.toml:7:7") && text.contains("not unique"),
        "{text}"
    );
}
