//! Cascades of any depth, and the proof that each link references its parent: a
//! foreign-key constraint, the same column name, or `references`. A link nothing
//! shows is refused with its file, line and column before a row is touched.

use serde_json::Value;

use crate::support::{Backend, Shop, now, stderr, stdout};

on_every_backend!(
    nested_cascades_go_deepest_first_and_count_each_table,
    an_erasure_reaches_the_grandchildren,
    a_link_nothing_shows_is_refused_with_the_fix,
    check_names_rows_a_delete_would_leave_or_the_database_would_take,
);

/// Orders with lines (a foreign key), support threads (no constraint: `references`)
/// whose messages must go first (a foreign key without ON DELETE), and payments
/// that reference the order's unique `reference`.
const SCHEMA: &str = "
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, placed_at VARCHAR(40) NOT NULL, reference VARCHAR(12) NOT NULL UNIQUE);
CREATE INDEX orders_placed ON orders (placed_at);
CREATE TABLE order_lines (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL REFERENCES orders (id), sku VARCHAR(20));
CREATE TABLE threads (id_thread INTEGER PRIMARY KEY, order_id INTEGER, subject VARCHAR(80));
CREATE TABLE messages (id INTEGER PRIMARY KEY, id_thread INTEGER NOT NULL REFERENCES threads (id_thread), body VARCHAR(200), ip VARCHAR(40));
CREATE TABLE payments (id INTEGER PRIMARY KEY, order_reference VARCHAR(12), amount INTEGER);
CREATE TABLE unrelated (id INTEGER PRIMARY KEY, order_id INTEGER);
";

const POLICY: &str = "[limits]\nbatch_size = 4\nmax_table_fraction = 0.9\n\n[[policy]]
name = \"orders\"
table = \"orders\"
timestamp = \"placed_at\"
keep = \"10 years\"
subject = \"customer_id\"
action = \"delete\"
cascade = [
  { table = \"order_lines\", foreign_key = \"order_id\" },
  { table = \"threads\", foreign_key = \"order_id\", references = \"id\", cascade = [
      { table = \"messages\", foreign_key = \"id_thread\" },
  ] },
  { table = \"payments\", foreign_key = \"order_reference\", references = \"reference\" },
]
";

/// Orders 1..=10 are 12 years old, 11..=20 a year old; customer 7 has 1..=3 and
/// 11..=13. Each order has 2 lines, 1 thread with 3 messages and 1 payment;
/// `unrelated` shares order ids but is no cascade.
async fn filled(backend: Backend) -> Shop {
    let shop = Shop::on(backend, SCHEMA).await;
    let mut sql = String::new();
    for id in 1..=20 {
        let placed = if id <= 10 {
            "2016-01-10T10:00:00Z"
        } else {
            "2027-01-10T10:00:00Z"
        };
        let customer = if id % 10 <= 3 && id % 10 > 0 { 7 } else { 8 };
        sql.push_str(&format!(
            "INSERT INTO orders VALUES ({id}, {customer}, '{placed}', 'R{id:04}');\
             INSERT INTO order_lines VALUES ({}, {id}, 'A'), ({}, {id}, 'B');\
             INSERT INTO threads VALUES ({}, {id}, 'where is it');\
             INSERT INTO messages VALUES ({}, {}, 'hello', '203.0.113.7'), ({}, {}, 'again', '203.0.113.8'), ({}, {}, 'thanks', NULL);\
             INSERT INTO payments VALUES ({id}, 'R{id:04}', 100);\
             INSERT INTO unrelated VALUES ({id}, {id});",
            id * 10,
            id * 10 + 1,
            id + 100,
            id * 10,
            id + 100,
            id * 10 + 1,
            id + 100,
            id * 10 + 2,
            id + 100,
        ));
    }
    shop.exec(&sql).await;
    shop
}

async fn nested_cascades_go_deepest_first_and_count_each_table(backend: Backend) {
    let shop = filled(backend).await;
    let config = shop.config(POLICY);
    let check = shop.cli(&["check"]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
    let report = shop.pass_at(&config, now()).await;
    let p = &report.policies[0];
    assert_eq!((p.rows, p.status.as_str()), (10, "ok"), "{:?}", p.error);
    let counted: Vec<(&str, u64)> = p.children.iter().map(|(t, n)| (t.as_str(), *n)).collect();
    assert_eq!(
        counted,
        [
            ("messages", 30),
            ("order_lines", 20),
            ("payments", 10),
            ("threads", 10)
        ]
    );
    for (table, left) in [
        ("orders", 10),
        ("order_lines", 20),
        ("threads", 10),
        ("messages", 30),
        ("payments", 10),
        ("unrelated", 20),
    ] {
        assert_eq!(
            shop.int(&format!("SELECT count(*) FROM {table}")).await,
            left,
            "{table}"
        );
    }
    assert_eq!(
        shop.int(
            "SELECT count(*) FROM messages WHERE id_thread NOT IN (SELECT id_thread FROM threads)"
        )
        .await,
        0,
        "no message is left without its thread"
    );
    assert_eq!(
        shop.int("SELECT min(order_id) FROM threads").await,
        11,
        "the threads of young orders stay"
    );
    // Each batch's event counts the rows of every table it deleted from.
    let mut from_events = std::collections::BTreeMap::<String, i64>::new();
    for r in shop
        .rows("SELECT children FROM retention_events WHERE action = 'delete'")
        .await
    {
        let v: Value = serde_json::from_str(&r[0]).unwrap();
        for (t, n) in v.as_object().unwrap() {
            *from_events.entry(t.clone()).or_default() += n.as_i64().unwrap();
        }
    }
    assert_eq!(from_events.get("messages"), Some(&30));
    assert_eq!(from_events.get("threads"), Some(&10));
    // A second pass finds nothing.
    let again = shop.pass_at(&config, now()).await;
    assert_eq!(again.policies[0].rows, 0);
    assert!(again.policies[0].children.values().all(|n| *n == 0));
}

async fn an_erasure_reaches_the_grandchildren(backend: Backend) {
    let shop = filled(backend).await;
    shop.write_config(POLICY);
    let out = shop.cli(&["erase", "--subject", "7", "--now"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    // Customer 7's six orders go, old and young, with everything below them.
    assert_eq!(
        shop.int("SELECT count(*) FROM orders WHERE customer_id = 7")
            .await,
        0
    );
    assert_eq!(shop.int("SELECT count(*) FROM orders").await, 14);
    assert_eq!(shop.int("SELECT count(*) FROM threads").await, 14);
    assert_eq!(shop.int("SELECT count(*) FROM messages").await, 42);
    assert_eq!(shop.int("SELECT count(*) FROM payments").await, 14);
    assert_eq!(
        shop.int("SELECT count(*) FROM messages WHERE body = 'hello' AND id_thread IN (101, 102, 103, 111, 112, 113)")
            .await,
        0
    );
    // The export of customer 8 lists the messages, linked to their thread.
    let export = shop.cli(&["export", "--subject", "8", "-o", "eight.json"]);
    assert_eq!(export.status.code(), Some(0), "{}", stderr(&export));
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(shop.path("eight.json")).unwrap()).unwrap();
    let tables = doc["tables"].as_array().unwrap();
    let messages = tables
        .iter()
        .find(|t| t["table"] == "messages")
        .unwrap_or_else(|| panic!("messages exported: {doc}"));
    assert_eq!(messages["row_count"], 42);
    assert_eq!(
        messages["linked_by"],
        serde_json::json!({"cascade": {"parent": "threads", "foreign_key": ["id_thread"]}})
    );
}

async fn a_link_nothing_shows_is_refused_with_the_fix(backend: Backend) {
    let shop = filled(backend).await;
    // `unrelated.order_id` is named like `orders.id`'s foreign key but nothing says
    // so; `payments` by a column that is not unique; `threads` by a column whose
    // type cannot hold the key.
    shop.write_config(
        "[[policy]]\nname = \"orders\"\ntable = \"orders\"\ntimestamp = \"placed_at\"\nkeep = \"10 years\"\naction = \"delete\"\n\
         cascade = [\n  { table = \"unrelated\", foreign_key = \"order_id\" },\n  \
         { table = \"payments\", foreign_key = \"amount\", references = \"customer_id\" },\n  \
         { table = \"messages\", foreign_key = \"body\", references = \"id\" },\n]\n",
    );
    let before = shop.dump(&["orders", "unrelated", "payments"]).await;
    let out = shop.cli(&["check"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains("retention.toml:11:40: policy `orders`: cascade into `unrelated`: nothing shows that `order_id` holds the key of `orders` (id)"),
        "{text}"
    );
    assert!(
        text.contains("If it does, say so with references = \"id\""),
        "{text}"
    );
    assert!(
        text.contains("retention.toml:12:62: policy `orders`: cascade into `payments`: references (customer_id) of `orders` is not unique"),
        "{text}"
    );
    assert!(
        text.contains(
            "retention.toml:13:39: policy `orders`: cascade into `messages`: `body` is declared"
        ),
        "{text}"
    );
    // At pass time the policy fails alone (exit 1), as a dropped column would.
    let purge = shop.cli(&["purge"]);
    assert_eq!(purge.status.code(), Some(1), "{}", stderr(&purge));
    assert!(stderr(&purge).contains("nothing shows that `order_id`"));
    assert_eq!(
        shop.dump(&["orders", "unrelated", "payments"]).await,
        before
    );
}

async fn check_names_rows_a_delete_would_leave_or_the_database_would_take(backend: Backend) {
    let shop = filled(backend).await;
    shop.exec(
        "CREATE TABLE receipts (id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES orders (id) ON DELETE CASCADE, total INTEGER);",
    )
    .await;
    // Threads go with orders, but their messages (free text, an IP) are left.
    shop.write_config(
        "[[policy]]\nname = \"orders\"\ntable = \"orders\"\ntimestamp = \"placed_at\"\nkeep = \"10 years\"\naction = \"delete\"\n\
         cascade = [{ table = \"order_lines\", foreign_key = \"order_id\" }, { table = \"threads\", foreign_key = \"order_id\", references = \"id\" }]\n",
    );
    let out = shop.cli(&["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let orphans = report["orphaned_by_deletes"].as_array().unwrap();
    assert_eq!(orphans.len(), 1, "{report:#}");
    assert_eq!(orphans[0]["table"], "messages");
    assert_eq!(orphans[0]["parent"], "threads");
    assert_eq!(orphans[0]["linked_by"], "constraint");
    let left: Vec<&str> = orphans[0]["personal"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[0].as_str().unwrap())
        .collect();
    assert_eq!(left, ["body", "ip"]);
    let by_db = report["deleted_by_the_database"].as_array().unwrap();
    assert_eq!(by_db.len(), 1, "{report:#}");
    assert_eq!(by_db[0]["table"], "receipts");
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("add { table = \\\"messages\\\", foreign_key = \\\"id_thread\\\" } to the cascade of `threads`"),
        "{warnings}"
    );
    // Every personal-looking column is listed with its reason and what covers it.
    let found = report["personal_data"].as_array().unwrap();
    let ip = found
        .iter()
        .find(|f| f["table"] == "messages" && f["column"] == "ip")
        .unwrap();
    assert_eq!(ip["covered_by"], Value::Null);
    assert_eq!(ip["reason"], "its values look like IP addresses");
    let body = found
        .iter()
        .find(|f| f["table"] == "messages" && f["column"] == "body")
        .unwrap();
    assert_eq!(
        body["reason"],
        "its name suggests free text written by or about a person"
    );
}
