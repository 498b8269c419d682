//! Erasure requests: the subject's rows go in every policy, whatever their age,
//! except where a legal obligation keeps them (with the date they will go).

use crate::support::{Backend, Shop, run_cli, stderr, stdout};

const SCHEMA: &str = "
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, placed_at VARCHAR(40) NOT NULL);
CREATE TABLE carts (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, created_at VARCHAR(40) NOT NULL);
CREATE TABLE cart_items (id INTEGER PRIMARY KEY, cart_id INTEGER NOT NULL, sku VARCHAR(20));
CREATE TABLE consents (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, email VARCHAR(80), unsubscribed_at VARCHAR(40));
CREATE TABLE analytics (id INTEGER PRIMARY KEY, customer_id INTEGER, ip VARCHAR(40), occurred_at VARCHAR(40) NOT NULL, anonymized_at VARCHAR(40));
INSERT INTO orders VALUES (1, 7, '2024-03-01T10:00:00Z'), (2, 7, '2025-06-15T00:00:00Z'), (3, 8, '2025-01-01T00:00:00Z');
INSERT INTO carts VALUES (1, 7, '2026-11-01T00:00:00Z'), (2, 8, '2026-11-01T00:00:00Z');
INSERT INTO cart_items VALUES (1, 1, 'A'), (2, 1, 'B'), (3, 2, 'C');
INSERT INTO consents VALUES (1, 7, 'seven@example.com', NULL), (2, 8, 'eight@example.com', NULL);
INSERT INTO analytics VALUES (1, 7, '203.0.113.7', '2026-11-01 10:00:00', NULL), (2, 7, '203.0.113.8', '2026-11-02 10:00:00', NULL),
                             (3, 7, '203.0.113.9', '2026-11-03 10:00:00', NULL), (4, 8, '198.51.100.1', '2026-11-03 10:00:00', NULL);
";

const POLICIES: &str = "
[[policy]]
name = \"orders\"
table = \"orders\"
timestamp = \"placed_at\"
keep = \"10 years\"
basis = \"legal_obligation\"
subject = \"customer_id\"
action = \"delete\"

[[policy]]
name = \"carts\"
table = \"carts\"
timestamp = \"created_at\"
keep = \"90 days\"
basis = \"contract\"
subject = \"customer_id\"
action = \"delete\"
cascade = [{ table = \"cart_items\", foreign_key = \"cart_id\", references = \"id\" }]

[[policy]]
name = \"consents\"
table = \"consents\"
timestamp = \"unsubscribed_at\"
keep = \"30 days\"
basis = \"consent\"
subject = \"customer_id\"
action = \"delete\"

[[policy]]
name = \"analytics\"
table = \"analytics\"
timestamp = \"occurred_at\"
keep = \"26 months\"
basis = \"legitimate_interest\"
subject = \"customer_id\"
action = \"anonymize\"
marker = \"anonymized_at\"
[policy.anonymize]
ip = \"truncate_ip\"
customer_id = \"null\"
";

async fn a_subject_is_erased_except_what_the_law_keeps(backend: Backend) {
    let shop = Shop::on(backend, SCHEMA).await;
    shop.write_config(POLICIES);
    let cli = |args: &[&str]| run_cli(&shop.config_path, shop.dir.path(), args);

    let out = cli(&[
        "erase",
        "--subject",
        "7",
        "--reference",
        "ticket-42",
        "--now",
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let answer = &json["answer"];
    assert_eq!(answer["status"], "partially_retained", "{json}");
    let by_policy = |name: &str| {
        answer["policies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["policy"] == name)
            .cloned()
            .unwrap_or_default()
    };
    let orders = by_policy("orders");
    assert_eq!(
        (orders["outcome"].as_str(), orders["rows"].as_u64()),
        (Some("kept"), Some(2)),
        "{orders}"
    );
    assert_eq!(
        orders["kept_until"], "2035-06-15T00:00:00.000Z",
        "the newest order plus 10 years"
    );
    assert_eq!(orders["reason"], "legal obligation");
    let carts = by_policy("carts");
    assert_eq!(
        (carts["outcome"].as_str(), carts["rows"].as_u64()),
        (Some("deleted"), Some(1)),
        "{carts}"
    );
    assert_eq!(carts["children"]["cart_items"], 2);
    assert_eq!(by_policy("consents")["rows"], 1);
    assert_eq!(
        (
            by_policy("analytics")["outcome"].as_str(),
            by_policy("analytics")["rows"].as_u64()
        ),
        (Some("anonymized"), Some(3))
    );

    assert_eq!(
        shop.int("SELECT count(*) FROM orders WHERE customer_id = 7")
            .await,
        2,
        "kept under the legal obligation"
    );
    assert_eq!(shop.int("SELECT count(*) FROM carts").await, 1);
    assert_eq!(
        shop.rows("SELECT id FROM cart_items ORDER BY id").await,
        [["3"]],
        "only the other subject's cart items stay"
    );
    assert_eq!(
        shop.int("SELECT count(*) FROM consents WHERE customer_id = 7")
            .await,
        0
    );
    assert_eq!(shop.int("SELECT count(*) FROM analytics WHERE customer_id IS NULL AND ip LIKE '%.0' AND anonymized_at IS NOT NULL").await, 3);
    assert_eq!(
        shop.int("SELECT count(*) FROM analytics WHERE customer_id = 8 AND ip = '198.51.100.1'")
            .await,
        1,
        "another subject is untouched"
    );

    let counted: i64 = shop
        .ints("SELECT \"rows\" FROM retention_events WHERE detail = 'erasure request #1'")
        .await
        .iter()
        .sum();
    assert_eq!(counted, 5, "every erased row is in the audit chain");
    let recorded = shop
        .rows("SELECT status, outcome FROM retention_erasure_requests WHERE id = 1")
        .await;
    assert_eq!(recorded[0][0], "partially_retained");
    assert!(
        recorded[0][1].contains("2035-06-15T00:00:00.000Z"),
        "{recorded:?}"
    );

    // A minor's data is answered at once; a plain request waits for the next pass.
    let minor = cli(&[
        "erase",
        "--subject",
        "8",
        "--reason",
        "minor",
        "--format",
        "json",
    ]);
    assert_eq!(minor.status.code(), Some(0), "{}", stderr(&minor));
    let minor: serde_json::Value = serde_json::from_slice(&minor.stdout).unwrap();
    assert_eq!(
        (minor["minor"].as_bool(), minor["answer"]["status"].as_str()),
        (Some(true), Some("partially_retained"))
    );
    assert_eq!(cli(&["erase", "--subject", "9"]).status.code(), Some(0));
    let status: serde_json::Value =
        serde_json::from_slice(&cli(&["status", "--format", "json"]).stdout).unwrap();
    assert_eq!(status["open_erasure_requests"].as_array().unwrap().len(), 1);
    assert_eq!(cli(&["purge"]).status.code(), Some(0));
    let status: serde_json::Value =
        serde_json::from_slice(&cli(&["status", "--format", "json"]).stdout).unwrap();
    assert_eq!(
        status["open_erasure_requests"].as_array().unwrap().len(),
        0,
        "the next pass answers it"
    );
    assert_eq!(cli(&["audit", "verify"]).status.code(), Some(0));

    let today = chrono::Utc::now().date_naive();
    let from = today.format("%Y-%m-01").to_string();
    let to = today.to_string();
    let report: serde_json::Value = serde_json::from_slice(
        &cli(&["report", "--from", &from, "--to", &to, "--format", "json"]).stdout,
    )
    .unwrap();
    let erasures = report["erasures"].as_array().unwrap();
    assert_eq!(erasures.len(), 3, "{report}");
    assert_eq!(erasures[0]["status"], "partially_retained");
    assert!(
        erasures[0]["kept"][0]
            .as_str()
            .unwrap()
            .contains("orders: 2 row(s), legal obligation, until 2035-06-15"),
        "{}",
        erasures[0]
    );
    assert_eq!(erasures[1]["minor"], true);
    let markdown = String::from_utf8(
        cli(&[
            "report", "--from", &from, "--to", &to, "--format", "markdown",
        ])
        .stdout,
    )
    .unwrap();
    assert!(
        markdown.contains(": partially retained, answered")
            && markdown.contains("  - carts: 1 row(s) deleted (and 2 dependent row(s))")
            && markdown.contains("  - kept: orders: 2 row(s), legal obligation, until 2035-06-15"),
        "human words, what was deleted and what was kept: {markdown}"
    );
    assert!(
        erasures[0].get("subject").is_none(),
        "no subject ids without --include-subjects"
    );
}

on_every_backend!(a_subject_is_erased_except_what_the_law_keeps);

/// An erasure leaves no keyed HMAC of the subject's values: `hash` columns get
/// random values of the same form, also where expiry had already written the keyed
/// pseudonym, with a marker column or without.
async fn an_erasure_leaves_no_hmac_of_the_subject(backend: Backend) {
    use retentiond::anonymize::hmac_hex;
    use retentiond::policy::HmacKey;
    const KEY: [u8; 32] = [11u8; 32];
    let emails = ["old@example.com", "young@example.com", "other@example.com"];
    for marker in [false, true] {
        let marker_column = if marker {
            ", anonymized_at VARCHAR(40)"
        } else {
            ""
        };
        let shop = Shop::on(
            backend,
            &format!(
                "CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(100) NOT NULL, name VARCHAR(100), seen_at VARCHAR(40) NOT NULL{marker_column});
                 INSERT INTO customers (id, email, name, seen_at) VALUES
                   (1, '{}', 'Old One', '2001-01-01T00:00:00Z'),
                   (2, '{}', 'Young One', '2099-01-01T00:00:00Z'),
                   (3, '{}', 'Other One', '2099-01-01T00:00:00Z');",
                emails[0], emails[1], emails[2]
            ),
        )
        .await;
        crate::support::write_key(&shop.path("hmac.key"), &KEY);
        let marker_line = if marker {
            "marker = \"anonymized_at\"\n"
        } else {
            ""
        };
        shop.write_config(&format!(
            "[anonymize]\nkey_file = \"hmac.key\"\n[limits]\nmax_table_fraction = 1.0\n\
             [[policy]]\nname = \"customers\"\ntable = \"customers\"\ntimestamp = \"seen_at\"\nkeep = \"1 year\"\n\
             subject = \"id\"\naction = \"anonymize\"\n{marker_line}[policy.anonymize]\nemail = \"hash\"\nname = \"null\"\n"
        ));
        let cli = |args: &[&str]| run_cli(&shop.config_path, shop.dir.path(), args);
        let keyed = |email: &str| hmac_hex(&HmacKey(KEY.to_vec()), email.as_bytes());
        // Expiry writes the keyed pseudonym into the old row.
        assert_eq!(
            cli(&["purge"]).status.code(),
            Some(0),
            "{}",
            stderr(&cli(&["purge"]))
        );
        let email_of = |rows: &[Vec<String>], id: &str| {
            rows.iter()
                .find(|r| r[0] == id)
                .map(|r| r[1].clone())
                .unwrap()
        };
        let rows = shop.rows("SELECT id, email FROM customers").await;
        assert_eq!(
            email_of(&rows, "1"),
            keyed(emails[0]),
            "{backend:?} marker {marker}"
        );

        for subject in ["1", "2"] {
            let out = cli(&["erase", "--subject", subject, "--now"]);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}{}",
                stdout(&out),
                stderr(&out)
            );
            assert!(
                stdout(&out).contains("customers: 1 row(s) anonymised"),
                "{}",
                stdout(&out)
            );
        }
        let rows = shop.rows("SELECT * FROM customers ORDER BY id").await;
        let every_value: Vec<&String> = rows.iter().flatten().collect();
        for email in emails {
            let pseudonym = keyed(email);
            assert!(
                !every_value.iter().any(|v| **v == pseudonym),
                "{backend:?} marker {marker}: HMAC of {email} in {rows:?}"
            );
        }
        for r in &rows[..2] {
            assert!(
                r[1].len() == 64 && r[1].chars().all(|c| c.is_ascii_hexdigit()),
                "{backend:?}: an erased hash keeps its form: {r:?}"
            );
            assert_eq!(r[2], "NULL");
        }
        assert_eq!(rows[2][1], emails[2], "the other subject is untouched");
    }
}

on_every_backend!(an_erasure_leaves_no_hmac_of_the_subject);
