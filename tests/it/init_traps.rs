//! `init` on the traps of a shop schema without foreign keys (PrestaShop's layout,
//! written here): tables named like orders that are not (payments keyed
//! `id_order_payment`, message templates, supply orders), support threads whose
//! messages hang one level deeper, flags named like contact data. The draft
//! passes `check`; run unchanged it deletes no line of a young order, and the
//! messages of old orders' threads go with them.

use serde_json::Value;

use crate::support::{Backend, Shop, run_cli, stderr, stdout};

fn schema(backend: Backend) -> String {
    let (ts, text) = match backend {
        Backend::MariaDb => ("DATETIME", "MEDIUMTEXT"),
        _ => ("TIMESTAMP", "TEXT"),
    };
    format!("
CREATE TABLE ps_customer (id_customer INTEGER PRIMARY KEY, email VARCHAR(128), passwd VARCHAR(60), note {text}, birthday DATE NULL, newsletter INTEGER NOT NULL, newsletter_date_add {ts} NULL, ip_registration_newsletter VARCHAR(15) NULL, date_add {ts});
CREATE TABLE ps_address (id_address INTEGER PRIMARY KEY, id_customer INTEGER, firstname VARCHAR(255), lastname VARCHAR(255), dni VARCHAR(16), vat_number VARCHAR(32), phone_mobile VARCHAR(32), date_add {ts});
CREATE TABLE ps_orders (id_order INTEGER PRIMARY KEY, reference VARCHAR(9), id_customer INTEGER, id_address_delivery INTEGER, mobile_theme INTEGER, date_add {ts});
CREATE INDEX ps_orders_date ON ps_orders (date_add);
CREATE TABLE ps_order_detail (id_order_detail INTEGER PRIMARY KEY, id_order INTEGER, product_name VARCHAR(255));
CREATE TABLE ps_order_history (id_order_history INTEGER PRIMARY KEY, id_order INTEGER, id_order_state INTEGER, date_add {ts});
CREATE TABLE ps_order_payment (id_order_payment INTEGER PRIMARY KEY, order_reference VARCHAR(9), card_holder VARCHAR(254), amount DECIMAL(10,2), date_add {ts});
CREATE TABLE ps_order_invoice_payment (id_order_invoice INTEGER, id_order_payment INTEGER, id_order INTEGER, PRIMARY KEY (id_order_invoice, id_order_payment));
CREATE TABLE ps_order_message (id_order_message INTEGER PRIMARY KEY, date_add {ts});
CREATE TABLE ps_order_message_lang (id_order_message INTEGER, id_lang INTEGER, name VARCHAR(128), message {text}, PRIMARY KEY (id_order_message, id_lang));
CREATE TABLE ps_supply_order (id_supply_order INTEGER PRIMARY KEY, id_supplier INTEGER, reference VARCHAR(64), date_add {ts});
CREATE TABLE ps_supply_order_detail (id_supply_order_detail INTEGER PRIMARY KEY, id_supply_order INTEGER, name VARCHAR(128));
CREATE TABLE ps_order_state (id_order_state INTEGER PRIMARY KEY, send_email INTEGER, template VARCHAR(64));
CREATE TABLE ps_customer_thread (id_customer_thread INTEGER PRIMARY KEY, id_customer INTEGER, id_order INTEGER, email VARCHAR(128), date_add {ts});
CREATE TABLE ps_customer_message (id_customer_message INTEGER PRIMARY KEY, id_customer_thread INTEGER, message {text}, ip_address VARCHAR(16), user_agent VARCHAR(128), file_name VARCHAR(18), date_add {ts});
CREATE TABLE ps_mail (id_mail INTEGER PRIMARY KEY, recipient VARCHAR(126), template VARCHAR(62), subject VARCHAR(254), date_add {ts});
INSERT INTO ps_customer VALUES (1, 'ann@example.com', 'x', 'likes tea', '1980-02-03', 0, '2014-01-01 00:00:00', '203.0.113.7', '2012-01-01 00:00:00'), (2, 'bob@example.com', 'y', NULL, NULL, 1, '2026-01-01 00:00:00', '198.51.100.1', '2020-01-01 00:00:00');
INSERT INTO ps_address VALUES (1, 1, 'Ann', 'A', '12345678Z', 'CHE-123', '+41 79 123 45 67', '2012-01-01 00:00:00');
INSERT INTO ps_orders VALUES (1, 'OLDA', 1, 1, 0, '2013-05-01 10:00:00'), (2, 'OLDB', 1, 1, 0, '2014-05-01 10:00:00'), (3, 'NEWC', 2, 1, 1, '2024-05-01 10:00:00'), (4, 'NEWD', 2, 1, 0, '2025-05-01 10:00:00');
INSERT INTO ps_order_detail VALUES (1, 1, 'Mug'), (2, 2, 'Tee'), (3, 3, 'Cap'), (4, 3, 'Hat'), (5, 4, 'Pen');
INSERT INTO ps_order_history VALUES (1, 1, 5, '2013-05-02 10:00:00'), (2, 3, 5, '2024-05-02 10:00:00'), (3, 4, 5, '2025-05-02 10:00:00');
INSERT INTO ps_order_payment VALUES (1, 'NEWC', 'Bob B', 7.50, '2014-05-01 10:00:00'), (3, 'NEWD', 'Bob B', 5.00, '2013-05-01 10:00:00'), (4, 'OLDA', 'Ann A', 19.99, '2013-05-01 10:00:00');
INSERT INTO ps_order_invoice_payment VALUES (1, 4, 1), (2, 1, 3);
INSERT INTO ps_order_message VALUES (3, '2013-01-01 00:00:00'), (4, '2013-01-01 00:00:00');
INSERT INTO ps_order_message_lang VALUES (3, 1, 'Delay', 'Your order is delayed'), (4, 1, 'Thanks', 'Thank you');
INSERT INTO ps_supply_order VALUES (3, 1, 'SUP-3', '2012-01-01 00:00:00'), (4, 1, 'SUP-4', '2012-01-01 00:00:00');
INSERT INTO ps_supply_order_detail VALUES (1, 3, 'Mugs');
INSERT INTO ps_order_state VALUES (5, 1, 'shipped');
INSERT INTO ps_customer_thread VALUES (1, 1, 1, 'ann@example.com', '2013-06-01 10:00:00'), (2, 2, 3, 'bob@example.com', '2024-06-01 10:00:00');
INSERT INTO ps_customer_message VALUES (1, 1, 'Where is my mug?', '203.0.113.7', 'Mozilla/5.0', '3f2a9c1b7d', '2013-06-01 10:00:00'), (2, 1, 'Thanks!', '203.0.113.7', 'Mozilla/5.0', NULL, '2013-06-02 10:00:00'), (3, 2, 'Hat too small', '198.51.100.1', 'Mozilla/5.0', '9e8d7c6b5a', '2024-06-01 10:00:00');
INSERT INTO ps_mail VALUES (1, 'ann@example.com', 'order_conf', 'Your order', '2013-05-01 10:00:00');
")
}

on_every_backend!(a_schema_without_foreign_keys_and_its_traps);

async fn a_schema_without_foreign_keys_and_its_traps(backend: Backend) {
    let shop = Shop::on(backend, &schema(backend)).await;
    let draft = shop.path("draft.toml");
    let cli = |args: &[&str]| run_cli(&draft, shop.dir.path(), args);
    let url = if backend == Backend::Sqlite {
        "sqlite://shop.db".to_string()
    } else {
        shop.url.clone()
    };
    let out = cli(&["init", "--url", &url, "-o", "draft.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(&draft).unwrap();
    let parsed: toml::Table = text.parse().unwrap();
    let tables: Vec<&str> = parsed["policy"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["table"].as_str().unwrap())
        .collect();
    // Payments, message templates and supply orders are no orders.
    assert_eq!(tables, ["ps_orders", "ps_customer"], "{text}");
    assert!(
        text.contains("# why this table: 4 table(s) refer to it by `id_order`"),
        "{text}"
    );
    assert!(
        text.contains("{ table = \"ps_customer_thread\", foreign_key = \"id_order\", cascade = [")
            && text.contains(
                "    { table = \"ps_customer_message\", foreign_key = \"id_customer_thread\" },"
            ),
        "the thread's messages go with it: {text}"
    );
    assert!(text.contains("filter = { \"newsletter\" = 0 }"), "{text}");
    // A message's attachment is a file the draft cannot place: it says so.
    assert!(
        text.contains("# check: `ps_customer_message.file_name` looks like the path of an uploaded file, which stays when the row goes unless its cascade entry names its store: files = { file_name = \"uploads\" }"),
        "{text}"
    );

    let check = cli(&["check", "--format", "json"]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}{}",
        stdout(&check),
        stderr(&check)
    );
    let report: Value = serde_json::from_slice(&check.stdout).unwrap();
    let found: Vec<(String, String)> = report["personal_data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["table"].as_str().unwrap().to_string(),
                f["column"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let has = |t: &str, c: &str| found.iter().any(|(x, y)| x == t && y == c);
    let attachment = report["personal_data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["column"] == "file_name")
        .expect("the attachment is found");
    assert_eq!(attachment["kind"], "file", "{attachment}");
    assert!(
        attachment["covered_by"].is_null(),
        "deleting the row does not cover its file: {attachment}"
    );
    assert!(
        report["warnings"].as_array().unwrap().iter().any(|w| w
            .as_str()
            .unwrap()
            .contains("column `file_name`: its name suggests the path of an uploaded file, and no policy removes the files")),
        "{}",
        report["warnings"]
    );
    for (t, c) in [
        ("ps_customer", "passwd"),
        ("ps_customer", "note"),
        ("ps_customer", "newsletter"),
        ("ps_address", "dni"),
        ("ps_address", "vat_number"),
        ("ps_customer_message", "message"),
        ("ps_customer_message", "ip_address"),
        ("ps_mail", "recipient"),
        ("ps_order_payment", "card_holder"),
    ] {
        assert!(has(t, c), "{t}.{c} not found: {found:?}");
    }
    for (t, c) in [
        ("ps_order_state", "send_email"),
        ("ps_orders", "mobile_theme"),
        ("ps_orders", "id_address_delivery"),
        ("ps_order_message_lang", "message"),
        ("ps_mail", "subject"),
    ] {
        assert!(!has(t, c), "{t}.{c} is no personal data: {found:?}");
    }

    let purge = cli(&["purge", "--force"]);
    assert_eq!(purge.status.code(), Some(0), "{}", stderr(&purge));
    // Orders 1 and 2 are over 10 years old; 3 and 4 keep every line.
    assert_eq!(
        shop.ints("SELECT id_order FROM ps_orders ORDER BY 1").await,
        [3, 4]
    );
    assert_eq!(
        shop.ints("SELECT id_order_detail FROM ps_order_detail ORDER BY 1")
            .await,
        [3, 4, 5]
    );
    assert_eq!(
        shop.ints("SELECT id_order_history FROM ps_order_history ORDER BY 1")
            .await,
        [2, 3]
    );
    assert_eq!(
        shop.ints("SELECT id_customer_message FROM ps_customer_message ORDER BY 1")
            .await,
        [3],
        "the old thread's messages went with it"
    );
    // Payments are no order's cascade: their ids are not order ids.
    assert_eq!(shop.int("SELECT count(*) FROM ps_order_payment").await, 3);
    assert_eq!(
        shop.int("SELECT count(*) FROM ps_supply_order_detail")
            .await,
        1
    );
    assert_eq!(
        shop.int("SELECT count(*) FROM ps_order_message_lang").await,
        2
    );
    // Ann unsubscribed long ago: her consent's date and IP are cleared.
    assert_eq!(
        shop.rows("SELECT id_customer, CASE WHEN newsletter_date_add IS NULL THEN 1 ELSE 0 END, ip_registration_newsletter FROM ps_customer ORDER BY 1")
            .await
            .iter()
            .map(|r| (r[0].clone(), r[1] == "1", r[2].clone()))
            .collect::<Vec<_>>(),
        [
            ("1".to_string(), true, "NULL".to_string()),
            ("2".to_string(), false, "198.51.100.1".to_string())
        ]
    );
    let again = cli(&["purge", "--format", "json"]);
    let again: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert!(
        again["policies"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["rows"] == 0),
        "{again}"
    );
}
