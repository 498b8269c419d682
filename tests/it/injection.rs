//! Identifier injection: every config field that names a table or column refuses
//! quotes, semicolons, comments, look-alike letters and over-long names before any
//! database is opened, and the database is unchanged.

use crate::support::{Backend, Shop, run_cli, stderr};

const SCHEMA: &str = "
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, placed_at VARCHAR(40), status VARCHAR(20), ip VARCHAR(40), anonymized_at VARCHAR(40));
CREATE TABLE order_items (id INTEGER PRIMARY KEY, order_id INTEGER);
INSERT INTO orders VALUES (1, 7, '2001-01-01', 'delivered', '203.0.113.1', NULL), (2, 8, '2099-01-01', 'delivered', '203.0.113.2', NULL);
INSERT INTO order_items VALUES (1, 1), (2, 2);
";

const PAYLOADS: &[&str] = &[
    "orders\\\"; DROP TABLE order_items; --",
    "orders'; DELETE FROM orders; --",
    "orders -- comment",
    "orders/*x*/",
    "orders;",
    "ord\u{0435}rs",
    "orders\u{200b}",
    "x\\u0000",
    "`orders`",
    "[orders]",
    "a.b.c",
];

/// (field, the template with {} where the name goes)
fn fields() -> Vec<(&'static str, String)> {
    let policy = |table: &str, key: &str, ts: &str, extra: &str| {
        format!(
            "[[policy]]\nname = \"p\"\ntable = \"{table}\"\nkey = \"{key}\"\ntimestamp = \"{ts}\"\nkeep = \"1 year\"\n{extra}"
        )
    };
    vec![
        (
            "table",
            policy("{}", "id", "placed_at", "action = \"delete\"\n"),
        ),
        (
            "key",
            policy("orders", "{}", "placed_at", "action = \"delete\"\n"),
        ),
        (
            "timestamp",
            policy("orders", "id", "{}", "action = \"delete\"\n"),
        ),
        (
            "subject",
            policy(
                "orders",
                "id",
                "placed_at",
                "subject = \"{}\"\naction = \"delete\"\n",
            ),
        ),
        (
            "cascade table",
            policy(
                "orders",
                "id",
                "placed_at",
                "action = \"delete\"\ncascade = [{ table = \"{}\", foreign_key = \"order_id\" }]\n",
            ),
        ),
        (
            "foreign_key",
            policy(
                "orders",
                "id",
                "placed_at",
                "action = \"delete\"\ncascade = [{ table = \"order_items\", foreign_key = \"{}\" }]\n",
            ),
        ),
        (
            "filter column",
            policy(
                "orders",
                "id",
                "placed_at",
                "action = \"delete\"\nfilter = { \"{}\" = \"delivered\" }\n",
            ),
        ),
        (
            "marker",
            policy(
                "orders",
                "id",
                "placed_at",
                "action = \"anonymize\"\nmarker = \"{}\"\n[policy.anonymize]\nip = \"truncate_ip\"\n",
            ),
        ),
        (
            "anonymize column",
            policy(
                "orders",
                "id",
                "placed_at",
                "action = \"anonymize\"\nmarker = \"anonymized_at\"\n[policy.anonymize]\n\"{}\" = \"null\"\n",
            ),
        ),
    ]
}

async fn injected_identifiers_are_refused_and_the_database_is_unchanged(backend: Backend) {
    let shop = Shop::on(backend, SCHEMA).await;
    let before = shop.dump(&["orders", "order_items"]).await;
    let long = "x".repeat(64);
    let mut payloads: Vec<&str> = PAYLOADS.to_vec();
    payloads.push(&long);
    let mut wrong = Vec::new();
    for (field, template) in fields() {
        for payload in &payloads {
            shop.write_config(&template.replace("{}", payload));
            for command in ["purge", "check"] {
                let out = run_cli(&shop.config_path, shop.dir.path(), &[command]);
                let err = stderr(&out);
                if out.status.code() != Some(2)
                    || !err.contains("retention.toml:")
                    || err.contains("panicked")
                {
                    wrong.push(format!(
                        "{field} = {payload:?} ({command}): exit {:?}: {err}",
                        out.status.code()
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} injections were not refused as config errors:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert_eq!(
        shop.dump(&["orders", "order_items"]).await,
        before,
        "the database is unchanged"
    );
    assert!(!shop.has_own_tables().await, "nothing was even created");
}

on_every_backend!(injected_identifiers_are_refused_and_the_database_is_unchanged);
