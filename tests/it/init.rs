//! `retentiond init` on schemas modelled on real shop platforms (WooCommerce,
//! Magento, PrestaShop), written for these tests, on every backend: what the draft
//! finds, that `check` accepts it and names the personal data no policy covers, and
//! that `plan` on it counts what a query written by hand counts.

use serde_json::Value;

use crate::support::{Backend, Shop, run_cli, stderr, stdout};

fn ts(backend: Backend) -> &'static str {
    match backend {
        Backend::MariaDb => "DATETIME",
        Backend::Sqlite | Backend::Postgres => "TIMESTAMP",
    }
}

fn woocommerce(backend: Backend) -> String {
    let ts = ts(backend);
    format!("
CREATE TABLE wp_users (ID INTEGER PRIMARY KEY, user_login VARCHAR(60), user_email VARCHAR(100), user_registered {ts}, display_name VARCHAR(250));
CREATE TABLE wp_posts (ID INTEGER PRIMARY KEY, post_author INTEGER, post_date {ts}, post_type VARCHAR(20), post_status VARCHAR(20), post_title VARCHAR(200));
CREATE TABLE wp_postmeta (meta_id INTEGER PRIMARY KEY, post_id INTEGER, meta_key VARCHAR(255), meta_value VARCHAR(255));
CREATE TABLE wp_wc_orders (id INTEGER PRIMARY KEY, status VARCHAR(20), total_amount NUMERIC(26,8), customer_id INTEGER, billing_email VARCHAR(320), date_created_gmt {ts}, ip_address VARCHAR(100), user_agent VARCHAR(255));
CREATE TABLE wp_wc_order_addresses (id INTEGER PRIMARY KEY, order_id INTEGER, address_type VARCHAR(20), first_name VARCHAR(100), last_name VARCHAR(100), address_1 VARCHAR(200), city VARCHAR(100), email VARCHAR(320), phone VARCHAR(100));
CREATE TABLE wp_woocommerce_order_items (order_item_id INTEGER PRIMARY KEY, order_item_name VARCHAR(200), order_item_type VARCHAR(200), order_id INTEGER);
CREATE TABLE wp_woocommerce_sessions (session_id INTEGER PRIMARY KEY, session_key VARCHAR(32), session_value VARCHAR(255), session_expiry BIGINT);
CREATE TABLE wp_mailpoet_subscribers (id INTEGER PRIMARY KEY, email VARCHAR(150), first_name VARCHAR(100), status VARCHAR(20), created_at {ts}, unsubscribed_at {ts} NULL);
INSERT INTO wp_users VALUES (1, 'ann', 'ann@example.com', '2012-01-01 00:00:00', 'Ann A'), (2, 'bob', 'bob@example.com', '2020-01-01 00:00:00', 'Bob B'), (3, 'cy', 'cy@example.org', '2021-01-01 00:00:00', 'Cy C');
INSERT INTO wp_posts VALUES (1, 1, '2013-01-01 00:00:00', 'post', 'publish', 'Hello');
INSERT INTO wp_wc_orders VALUES (1, 'wc-completed', 19.99, 1, 'ann@example.com', '2013-05-01 10:00:00', '203.0.113.7', 'Mozilla/5.0'),
  (2, 'wc-completed', 5.00, 1, 'ann@example.com', '2014-05-01 10:00:00', '203.0.113.8', 'Mozilla/5.0'),
  (3, 'wc-completed', 7.50, 2, 'bob@example.com', '2024-05-01 10:00:00', '198.51.100.1', 'Mozilla/5.0');
INSERT INTO wp_wc_order_addresses VALUES (1, 1, 'billing', 'Ann', 'A', 'Main St 1', 'Bern', 'ann@example.com', '+41 31 123 45 67'), (2, 3, 'billing', 'Bob', 'B', 'Side St 2', 'Basel', 'bob@example.com', '+41 61 123 45 67');
INSERT INTO wp_woocommerce_order_items VALUES (1, 'Mug', 'line_item', 1), (2, 'Tee', 'line_item', 2), (3, 'Cap', 'line_item', 3);
INSERT INTO wp_woocommerce_sessions VALUES (1, '1', 'cart', 1500000000), (2, '2', 'cart', 1510000000), (3, '3', 'cart', 1893456000);
INSERT INTO wp_mailpoet_subscribers VALUES (1, 'ann@example.com', 'Ann', 'unsubscribed', '2015-01-01 00:00:00', '2025-01-01 00:00:00'),
  (2, 'bob@example.com', 'Bob', 'subscribed', '2020-01-01 00:00:00', NULL), (3, 'cy@example.org', 'Cy', 'unsubscribed', '2020-01-01 00:00:00', '2026-11-25 00:00:00');
")
}

fn magento(backend: Backend) -> String {
    let ts = ts(backend);
    format!("
CREATE TABLE customer_entity (entity_id INTEGER PRIMARY KEY, email VARCHAR(255), firstname VARCHAR(255), lastname VARCHAR(255), dob DATE, created_at {ts});
CREATE TABLE sales_order (entity_id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customer_entity (entity_id), customer_email VARCHAR(128), customer_firstname VARCHAR(128), remote_ip VARCHAR(45), grand_total NUMERIC(20,4), created_at {ts});
CREATE TABLE sales_order_item (item_id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES sales_order (entity_id), sku VARCHAR(255), qty_ordered NUMERIC(12,4), created_at {ts});
CREATE TABLE quote (entity_id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customer_entity (entity_id), customer_email VARCHAR(255), remote_ip VARCHAR(45), created_at {ts}, updated_at {ts});
CREATE TABLE newsletter_subscriber (subscriber_id INTEGER PRIMARY KEY, customer_id INTEGER, subscriber_email VARCHAR(150), subscriber_status INTEGER, change_status_at {ts} NULL);
CREATE TABLE customer_visitor (visitor_id INTEGER PRIMARY KEY, customer_id INTEGER, session_id VARCHAR(64), last_visit_at {ts});
INSERT INTO customer_entity VALUES (1, 'ann@example.com', 'Ann', 'A', '1980-02-03', '2012-01-01 00:00:00'), (2, 'bob@example.com', 'Bob', 'B', '1990-04-05', '2020-01-01 00:00:00'), (3, 'cy@example.org', 'Cy', 'C', NULL, '2021-01-01 00:00:00');
INSERT INTO sales_order VALUES (1, 1, 'ann@example.com', 'Ann', '203.0.113.7', 19.99, '2013-05-01 10:00:00'), (2, 2, 'bob@example.com', 'Bob', '198.51.100.1', 5.00, '2025-05-01 10:00:00');
INSERT INTO sales_order_item VALUES (1, 1, 'MUG', 1, '2013-05-01 10:00:00'), (2, 1, 'TEE', 2, '2013-05-01 10:00:00'), (3, 2, 'CAP', 1, '2025-05-01 10:00:00');
INSERT INTO quote VALUES (1, 2, 'bob@example.com', '198.51.100.1', '2025-05-01 10:00:00', '2025-05-01 10:00:00');
INSERT INTO newsletter_subscriber VALUES (1, 1, 'ann@example.com', 3, '2019-01-01 00:00:00'), (2, 2, 'bob@example.com', 1, '2026-11-30 00:00:00'), (3, NULL, 'guest@example.net', 1, NULL);
INSERT INTO customer_visitor VALUES (1, 1, 'a', '2020-01-01 00:00:00'), (2, NULL, 'b', '2020-02-01 00:00:00'), (3, 2, 'c', '2026-11-01 00:00:00');
")
}

fn prestashop(backend: Backend) -> String {
    let ts = ts(backend);
    format!("
CREATE TABLE ps_customer (id_customer INTEGER PRIMARY KEY, email VARCHAR(255), firstname VARCHAR(255), lastname VARCHAR(255), birthday DATE NULL, newsletter INTEGER, date_add {ts});
CREATE TABLE ps_orders (id_order INTEGER PRIMARY KEY, reference VARCHAR(9), id_customer INTEGER, total_paid NUMERIC(20,6), date_add {ts});
CREATE TABLE ps_order_detail (id_order_detail INTEGER PRIMARY KEY, id_order INTEGER, product_name VARCHAR(255), product_quantity INTEGER);
CREATE TABLE ps_address (id_address INTEGER PRIMARY KEY, id_customer INTEGER, firstname VARCHAR(255), lastname VARCHAR(255), address1 VARCHAR(128), city VARCHAR(64), phone VARCHAR(32), date_add {ts});
CREATE TABLE ps_connections (id_connections INTEGER PRIMARY KEY, id_guest INTEGER, ip_address BIGINT, date_add {ts}, http_referer VARCHAR(255));
CREATE TABLE ps_emailsubscription (id INTEGER PRIMARY KEY, email VARCHAR(255), newsletter_date_add {ts}, ip_registration_newsletter VARCHAR(15), active INTEGER);
INSERT INTO ps_customer VALUES (1, 'ann@example.com', 'Ann', 'A', '1980-02-03', 1, '2012-01-01 00:00:00'), (2, 'bob@example.com', 'Bob', 'B', NULL, 0, '2020-01-01 00:00:00');
INSERT INTO ps_orders VALUES (1, 'AAA', 1, 19.99, '2012-05-01 10:00:00'), (2, 'BBB', 1, 5.00, '2015-05-01 10:00:00'), (3, 'CCC', 2, 7.50, '2025-05-01 10:00:00');
INSERT INTO ps_order_detail VALUES (1, 1, 'Mug', 1), (2, 2, 'Tee', 2), (3, 2, 'Cap', 1), (4, 3, 'Hat', 1);
INSERT INTO ps_address VALUES (1, 1, 'Ann', 'A', 'Main St 1', 'Bern', '+41 31 123 45 67', '2012-01-01 00:00:00');
INSERT INTO ps_connections VALUES (1, 1, 3405803783, '2019-01-01 00:00:00', 'https://example.com/'), (2, 2, 3325256705, '2026-10-01 00:00:00', NULL);
INSERT INTO ps_emailsubscription VALUES (1, 'ann@example.com', '2018-01-01 00:00:00', '203.0.113.7', 1), (2, 'bob@example.com', '2026-11-28 00:00:00', '198.51.100.1', 1);
")
}

/// What a drafted policy must say: (table, timestamp, subject, cascade tables,
/// keep, action, the hand-written count of what `plan` should count).
struct Expect {
    table: &'static str,
    timestamp: &'static str,
    subject: Option<&'static str>,
    cascade: &'static [&'static str],
    keep: &'static str,
    action: &'static str,
    count: &'static str,
}

async fn drafts_a_config_that_checks_and_counts(
    shop: &Shop,
    expected: &[Expect],
    uncovered: &[(&str, &str)],
) {
    let draft = shop.path("draft.toml");
    let cli = |args: &[&str]| run_cli(&draft, shop.dir.path(), args);
    let url = if shop.backend == Backend::Sqlite {
        "sqlite://shop.db".to_string()
    } else {
        shop.url.clone()
    };
    let out = cli(&["init", "--url", &url, "-o", "draft.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(&draft).unwrap();
    assert!(
        text.contains(
            "run `retentiond check` and `retentiond plan` before\n# the first `retentiond purge`"
        ),
        "{text}"
    );
    let parsed: toml::Table = text.parse().expect("the draft is TOML");
    let policies = parsed["policy"].as_array().unwrap();
    assert_eq!(policies.len(), expected.len(), "{text}");
    let plan = cli(&["plan", "--format", "json"]);
    // 3: a policy would take more than max_table_fraction; plan still counts it.
    assert!(
        matches!(plan.status.code(), Some(0 | 3)),
        "{}",
        stderr(&plan)
    );
    let plan: Value = serde_json::from_slice(&plan.stdout).unwrap();
    for e in expected {
        let p = policies
            .iter()
            .find(|p| p["table"].as_str() == Some(e.table))
            .unwrap_or_else(|| panic!("no policy for {} in\n{text}", e.table));
        assert_eq!(p["timestamp"].as_str(), Some(e.timestamp), "{}", e.table);
        assert_eq!(
            p.get("subject").and_then(|s| s.as_str()),
            e.subject,
            "{}",
            e.table
        );
        assert_eq!(p["keep"].as_str(), Some(e.keep), "{}", e.table);
        assert_eq!(p["action"].as_str(), Some(e.action), "{}", e.table);
        let mut cascade: Vec<&str> = p
            .get("cascade")
            .and_then(|c| c.as_array())
            .map(|c| c.iter().map(|x| x["table"].as_str().unwrap()).collect())
            .unwrap_or_default();
        cascade.sort();
        assert_eq!(cascade, e.cascade, "{}", e.table);
        let name = p["name"].as_str().unwrap();
        let counted = plan["policies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == name)
            .unwrap();
        let by_hand = shop.int(e.count).await;
        assert_eq!(
            counted["rows"].as_i64(),
            Some(by_hand),
            "{}: {}",
            e.table,
            e.count
        );
        assert!(
            text.contains(&format!("# plan at drafting: {by_hand} row(s)")),
            "{text}"
        );
    }
    let check = cli(&["check"]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}{}",
        stdout(&check),
        stderr(&check)
    );
    let said = format!("{}{}", stdout(&check), stderr(&check));
    for (table, column) in uncovered {
        let warning = format!("table `{table}`, column `{column}` looks like personal data");
        assert!(said.contains(&warning), "{warning} in\n{said}");
        assert!(
            text.contains(&format!("#   {table}: ")),
            "{table} listed in\n{text}"
        );
    }
    let strict = cli(&["check", "--deny-warnings"]);
    assert_eq!(
        strict.status.code(),
        Some(2),
        "warnings, not a failure: {}{}",
        stdout(&strict),
        stderr(&strict)
    );
    let report = stdout(&cli(&["report", "--from", "2026-01-01"]));
    assert!(
        report.contains("## Personal data without a retention rule"),
        "{report}"
    );
    let (table, column) = uncovered[0];
    assert!(
        report.contains(&format!("| {table} | {column} |")),
        "{report}"
    );
    assert!(!report.contains("ann@example.com"), "{report}");
    // init writes nothing to the database and overwrites nothing without --force.
    assert!(!shop.has_own_tables().await);
    let again = cli(&["init", "--url", &url, "-o", "draft.toml"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("exists; give --force"),
        "{}",
        stderr(&again)
    );
    assert_eq!(
        cli(&["init", "--url", &url, "-o", "draft.toml", "--force"])
            .status
            .code(),
        Some(0)
    );
}

async fn a_woocommerce_like_schema(backend: Backend) {
    let shop = Shop::on(backend, &woocommerce(backend)).await;
    let expected = [
        Expect {
            table: "wp_wc_orders",
            timestamp: "date_created_gmt",
            subject: Some("customer_id"),
            cascade: &["wp_wc_order_addresses", "wp_woocommerce_order_items"],
            keep: "10 years",
            action: "delete",
            count: "SELECT COUNT(*) FROM wp_wc_orders WHERE date_created_gmt < '2016-06-01'",
        },
        Expect {
            table: "wp_woocommerce_sessions",
            timestamp: "session_expiry",
            subject: None,
            cascade: &[],
            keep: "26 months",
            action: "delete",
            count: "SELECT COUNT(*) FROM wp_woocommerce_sessions WHERE session_expiry < 1727000000",
        },
        Expect {
            table: "wp_mailpoet_subscribers",
            timestamp: "unsubscribed_at",
            subject: None,
            cascade: &[],
            keep: "30 days",
            action: "delete",
            count: "SELECT COUNT(*) FROM wp_mailpoet_subscribers WHERE unsubscribed_at < '2026-10-01'",
        },
    ];
    drafts_a_config_that_checks_and_counts(
        &shop,
        &expected,
        &[("wp_users", "user_email"), ("wp_users", "display_name")],
    )
    .await;
}

async fn a_magento_like_schema(backend: Backend) {
    let shop = Shop::on(backend, &magento(backend)).await;
    let expected = [
        Expect {
            table: "sales_order",
            timestamp: "created_at",
            subject: Some("customer_id"),
            cascade: &["sales_order_item"],
            keep: "10 years",
            action: "delete",
            count: "SELECT COUNT(*) FROM sales_order WHERE created_at < '2016-06-01'",
        },
        Expect {
            table: "newsletter_subscriber",
            timestamp: "change_status_at",
            subject: Some("customer_id"),
            cascade: &[],
            keep: "30 days",
            action: "delete",
            count: "SELECT COUNT(*) FROM newsletter_subscriber WHERE change_status_at < '2026-10-01'",
        },
        Expect {
            table: "customer_visitor",
            timestamp: "last_visit_at",
            subject: Some("customer_id"),
            cascade: &[],
            keep: "26 months",
            action: "anonymize",
            count: "SELECT COUNT(*) FROM customer_visitor WHERE last_visit_at < '2024-06-01' AND customer_id IS NOT NULL",
        },
    ];
    drafts_a_config_that_checks_and_counts(
        &shop,
        &expected,
        &[
            ("customer_entity", "email"),
            ("customer_entity", "dob"),
            ("quote", "remote_ip"),
        ],
    )
    .await;
    let text = std::fs::read_to_string(shop.path("draft.toml")).unwrap();
    assert!(
        text.contains("subject customer_id (a foreign key to `customer_entity`)"),
        "{text}"
    );
    assert!(
        text.contains("check: no unsubscribe date found; `change_status_at` is used"),
        "{text}"
    );
}

async fn a_prestashop_like_schema(backend: Backend) {
    let shop = Shop::on(backend, &prestashop(backend)).await;
    let expected = [
        Expect {
            table: "ps_orders",
            timestamp: "date_add",
            subject: Some("id_customer"),
            cascade: &["ps_order_detail"],
            keep: "10 years",
            action: "delete",
            count: "SELECT COUNT(*) FROM ps_orders WHERE date_add < '2016-06-01'",
        },
        Expect {
            table: "ps_connections",
            timestamp: "date_add",
            subject: None,
            cascade: &[],
            keep: "26 months",
            action: "anonymize",
            count: "SELECT COUNT(*) FROM ps_connections WHERE date_add < '2024-06-01' AND ip_address IS NOT NULL",
        },
        Expect {
            table: "ps_emailsubscription",
            timestamp: "newsletter_date_add",
            subject: None,
            cascade: &[],
            keep: "30 days",
            action: "delete",
            count: "SELECT COUNT(*) FROM ps_emailsubscription WHERE newsletter_date_add < '2026-10-01'",
        },
    ];
    drafts_a_config_that_checks_and_counts(
        &shop,
        &expected,
        &[("ps_customer", "email"), ("ps_address", "phone")],
    )
    .await;
    let text = std::fs::read_to_string(shop.path("draft.toml")).unwrap();
    assert!(
        text.contains("\"ip_address\" = \"null\""),
        "an integer IP column cannot be truncated as text: {text}"
    );
}

on_every_backend!(
    a_woocommerce_like_schema,
    a_magento_like_schema,
    a_prestashop_like_schema
);
