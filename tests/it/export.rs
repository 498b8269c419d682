//! Access and portability exports: every row linked to the subject, in every table a
//! policy names with a subject and in its cascade children, with exact values and
//! nothing of anyone else; registered and answered like an erasure request.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::{Value, json};

use crate::support::{Backend, Shop, stderr, stdout};

fn schema(backend: Backend) -> String {
    let (ts, bin, sig7, sig8) = match backend {
        Backend::Sqlite => ("TIMESTAMP", "BLOB", "X'00FF10'", "X'01'"),
        Backend::Postgres => ("TIMESTAMP", "BYTEA", "'\\x00ff10'", "'\\x01'"),
        Backend::MariaDb => ("DATETIME(3)", "VARBINARY(16)", "X'00FF10'", "X'01'"),
    };
    format!(
        "
CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(80), created_at VARCHAR(40) NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, placed_at VARCHAR(40) NOT NULL, total NUMERIC(10,2), note VARCHAR(80));
CREATE TABLE order_items (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, sku VARCHAR(20), qty INTEGER);
CREATE TABLE consents (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, email VARCHAR(80), given_at {ts} NULL, signature {bin});
INSERT INTO customers VALUES (7, 'seven@example.com', '2020-01-01T00:00:00Z'), (8, 'eight@example.com', '2020-01-01T00:00:00Z');
INSERT INTO orders VALUES (1, 7, '2024-03-01T10:00:00Z', 19.99, NULL), (2, 7, '2025-06-15T00:00:00+02:00', 5.00, ''), (3, 8, '2025-01-01T00:00:00Z', 7.50, 'gift');
INSERT INTO order_items VALUES (1, 1, 'A-1', 2), (2, 1, 'B, \"quoted\"', 1), (3, 2, 'C-3', 5), (4, 3, 'D-4', 1);
INSERT INTO consents VALUES (1, 7, 'seven@example.com', '2025-05-01 12:30:00', {sig7}), (2, 8, 'eight@example.com', '2025-05-02 08:00:00', {sig8});
"
    )
}

const POLICIES: &str = "
[[policy]]
name = \"orders\"
description = \"Orders: 10 years (commercial law)\"
table = \"orders\"
timestamp = \"placed_at\"
keep = \"10 years\"
basis = \"legal_obligation\"
subject = \"customer_id\"
action = \"delete\"
cascade = [{ table = \"order_items\", foreign_key = \"order_id\", references = \"id\" }]

[[policy]]
name = \"order_notes\"
table = \"orders\"
timestamp = \"placed_at\"
keep = \"2 years\"
basis = \"contract\"
subject = \"customer_id\"
action = \"anonymize\"
[policy.anonymize]
note = \"null\"

[[policy]]
name = \"consents\"
table = \"consents\"
timestamp = \"given_at\"
keep = \"30 days\"
basis = \"consent\"
subject = \"customer_id\"
action = \"delete\"

[[policy]]
name = \"customers\"
table = \"customers\"
timestamp = \"created_at\"
keep = \"20 years\"
basis = \"contract\"
subject = \"id\"
action = \"delete\"
";

fn table<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .find(|t| t["table"] == name)
        .unwrap_or_else(|| panic!("no table {name} in {doc:#}"))
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The rows subject 7 has, as the JSON export must give them.
fn expected_rows() -> Vec<(&'static str, Value)> {
    vec![
        (
            "orders",
            json!([
                {"id": 1, "customer_id": 7, "placed_at": "2024-03-01T10:00:00Z", "total": 19.99, "note": null},
                {"id": 2, "customer_id": 7, "placed_at": "2025-06-15T00:00:00+02:00", "total": 5.0, "note": ""},
            ]),
        ),
        (
            "order_items",
            json!([
                {"id": 1, "order_id": 1, "sku": "A-1", "qty": 2},
                {"id": 2, "order_id": 1, "sku": "B, \"quoted\"", "qty": 1},
                {"id": 3, "order_id": 2, "sku": "C-3", "qty": 5},
            ]),
        ),
        (
            "consents",
            json!([
                {"id": 1, "customer_id": 7, "email": "seven@example.com", "given_at": "2025-05-01T12:30:00Z", "signature": "AP8Q"},
            ]),
        ),
        (
            "customers",
            json!([{"id": 7, "email": "seven@example.com", "created_at": "2020-01-01T00:00:00Z"}]),
        ),
    ]
}

async fn a_subjects_rows_are_exported_whole_and_alone(backend: Backend) {
    let shop = Shop::on(backend, &schema(backend)).await;
    shop.write_config(POLICIES);
    let held = shop.cli(&["hold", "add", "--subject", "7", "--reason", "case 12"]);
    assert_eq!(held.status.code(), Some(0), "{}", stderr(&held));

    let out = shop.cli(&["export", "--subject", "7"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("the export is JSON");
    assert_eq!(doc["format"], "retentiond-export/1");
    assert_eq!(doc["request"]["kind"], "access");
    assert_eq!(doc["request"]["subject"], "7");
    assert_eq!(doc["request"]["config_sha256"].as_str().unwrap().len(), 64);
    let names: Vec<&str> = doc["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["table"].as_str().unwrap())
        .collect();
    // `orders` is read once, though two policies name it.
    assert_eq!(names, ["orders", "order_items", "consents", "customers"]);
    for (name, rows) in expected_rows() {
        let t = table(&doc, name);
        assert_eq!(
            by_id(&t["rows"]),
            numbers_as_f64(&rows),
            "{name} on {backend:?}"
        );
        assert_eq!(t["row_count"], rows.as_array().unwrap().len());
    }
    let orders = table(&doc, "orders");
    let governing: Vec<&str> = orders["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["policy"].as_str().unwrap())
        .collect();
    assert_eq!(governing, ["orders", "order_notes"]);
    assert_eq!(orders["policies"][0]["basis"], "legal_obligation");
    assert_eq!(
        orders["linked_by"],
        json!({"subject": {"column": "customer_id"}})
    );
    assert_eq!(
        table(&doc, "order_items")["linked_by"],
        json!({"cascade": {"parent": "orders", "foreign_key": ["order_id"]}})
    );
    assert_eq!(doc["row_count"], 7);
    let text = stdout(&out);
    assert!(
        !text.contains("eight@example.com") && !text.contains("gift"),
        "{text}"
    );

    // The register holds counts, never values; the audit trail the answer.
    let stored = shop
        .rows("SELECT kind, status, outcome FROM retention_erasure_requests")
        .await;
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0][..2],
        ["access".to_string(), "completed".to_string()]
    );
    assert!(stored[0][2].contains("\"order_items\"") && !stored[0][2].contains("example.com"));
    let events = shop
        .rows(
            "SELECT action, \"rows\" FROM retention_events WHERE action LIKE 'export%' ORDER BY id",
        )
        .await;
    assert_eq!(events, [["export_registered", "0"], ["exported", "7"]]);
    let verify = shop.cli(&["audit", "verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
    assert!(!stderr(&out).contains("example.com"));
}

async fn a_csv_export_loads_back_and_says_how_in_its_manifest(backend: Backend) {
    let shop = Shop::on(backend, &schema(backend)).await;
    shop.write_config(POLICIES);
    let dir = shop.path("export-7");
    let out = shop.cli(&[
        "export",
        "--subject",
        "7",
        "--reason",
        "portability",
        "--format",
        "csv",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("portability request #1 answered: 7 row(s) from 4 table(s)"));
    assert_eq!(mode(&dir), 0o700);
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["request"]["kind"], "portability");
    assert_eq!(
        manifest["encoding"]["binary"],
        "base64 (RFC 4648, with padding)"
    );
    for (name, rows) in expected_rows() {
        let t = manifest["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["table"] == name)
            .unwrap();
        let file = dir.join(t["file"].as_str().unwrap());
        assert_eq!(mode(&file), 0o600, "{}", file.display());
        assert_eq!(t["rows"], rows.as_array().unwrap().len());
        let mut reader = csv::Reader::from_path(&file).unwrap();
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        let mut loaded: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect();
        // Rows come in the order the database reads them.
        loaded.sort_by_key(|r| r[0].parse::<i64>().unwrap());
        let want = rows.as_array().unwrap();
        assert_eq!(loaded.len(), want.len(), "{name} on {backend:?}");
        for (got, row) in loaded.iter().zip(want) {
            for (field, column) in got.iter().zip(&header) {
                assert!(
                    same_field(field, &row[column]),
                    "{name}.{column}: {field:?} for {}",
                    row[column]
                );
            }
        }
    }
    let total = std::fs::read_to_string(dir.join("orders.csv")).unwrap();
    // An empty text is quoted, so that it stays apart from NULL (an empty field).
    assert!(
        total.contains(",\"\"\r\n") && total.contains("19.99,\r\n"),
        "{total}"
    );

    // An export never overwrites.
    let again = shop.cli(&[
        "export",
        "--subject",
        "7",
        "--format",
        "csv",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("exists and is not empty"),
        "{}",
        stderr(&again)
    );
}

/// Whether a CSV field holds the value: numbers compared as numbers (`5.00` is
/// `5`; SQLite's NUMERIC columns store it as the integer 5), NULL as an empty field.
fn same_field(field: &str, v: &Value) -> bool {
    match v {
        Value::Null => field.is_empty(),
        Value::String(s) => field == s,
        Value::Number(n) => field.parse::<f64>().ok() == n.as_f64(),
        other => *field == *other.to_string(),
    }
}

/// The exported rows sorted by id (they come in the order the database reads
/// them), numbers as doubles.
fn by_id(rows: &Value) -> Value {
    let mut rows = rows.as_array().unwrap().clone();
    rows.sort_by_key(|r| r["id"].as_i64().unwrap());
    numbers_as_f64(&Value::Array(rows))
}

/// Every number as a double: `5`, `5.0` and `5.00` are one value, stored by SQLite
/// as an integer and by the servers as a decimal.
fn numbers_as_f64(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64()),
        Value::Array(a) => Value::Array(a.iter().map(numbers_as_f64).collect()),
        Value::Object(o) => o
            .iter()
            .map(|(k, v)| (k.clone(), numbers_as_f64(v)))
            .collect(),
        other => other.clone(),
    }
}

async fn an_unknown_subject_gets_an_empty_export_and_a_registered_request(backend: Backend) {
    let shop = Shop::on(backend, &schema(backend)).await;
    shop.write_config(POLICIES);
    let file = shop.path("nobody.json");
    let out = shop.cli(&["export", "--subject", "404", "-o", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(mode(&file), 0o600);
    let doc: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(doc["row_count"], 0);
    assert!(
        doc["tables"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["rows"] == json!([]))
    );
    assert_eq!(
        shop.rows("SELECT kind, status FROM retention_erasure_requests")
            .await,
        [["access", "completed"]]
    );
    let again = shop.cli(&["export", "--subject", "404", "-o", file.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("never overwrites"),
        "{}",
        stderr(&again)
    );
}

async fn a_request_registered_first_is_answered_later_and_once(backend: Backend) {
    let shop = Shop::on(backend, &schema(backend)).await;
    shop.write_config(POLICIES);
    let out = shop.cli(&[
        "export",
        "--subject",
        "8",
        "--register-only",
        "--reference",
        "T-9",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("access request #1 registered, due "),
        "{}",
        stdout(&out)
    );
    let status = shop.cli(&["status"]);
    assert!(
        stdout(&status).contains("access     request #1 received"),
        "{}",
        stdout(&status)
    );
    let json_status: Value =
        serde_json::from_slice(&shop.cli(&["status", "--format", "json"]).stdout).unwrap();
    assert_eq!(json_status["open_requests"][0]["kind"], "access");
    assert_eq!(json_status["open_erasure_requests"], json!([]));

    // A pass answers erasures only: the export request stays open, its rows there.
    let pass = shop.cli(&["purge", "--force"]);
    assert_eq!(pass.status.code(), Some(0), "{}", stderr(&pass));
    assert_eq!(
        shop.rows("SELECT status FROM retention_erasure_requests")
            .await,
        [["open"]]
    );
    assert_eq!(
        shop.int("SELECT COUNT(*) FROM orders WHERE customer_id = 8")
            .await,
        1
    );

    let file = shop.path("eight.json");
    let out = shop.cli(&["export", "--request", "1", "-o", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(doc["request"]["request"], 1);
    assert_eq!(table(&doc, "orders")["rows"][0]["note"], "gift");
    let twice = shop.cli(&["export", "--request", "1"]);
    assert_eq!(twice.status.code(), Some(2));
    assert!(
        stderr(&twice).contains("request #1 was answered already"),
        "{}",
        stderr(&twice)
    );
    let erasure = shop.cli(&["erase", "--subject", "8"]);
    assert_eq!(erasure.status.code(), Some(0));
    let not_export = shop.cli(&["export", "--request", "2"]);
    assert_eq!(not_export.status.code(), Some(2));
    assert!(stderr(&not_export).contains("is erasure, not an access or portability request"));

    let report = shop.cli(&["report", "--from", "2026-01-01"]);
    let text = stdout(&report);
    assert!(text.contains("| access | 1 | 0 | 1 | 0 | 0 |"), "{text}");
    assert!(text.contains("| erasure | 1 | 0 | 0 | 0 | 0 |"), "{text}");
    assert!(text.contains("access request #1 received"), "{text}");
}

on_every_backend!(
    a_subjects_rows_are_exported_whole_and_alone,
    a_csv_export_loads_back_and_says_how_in_its_manifest,
    an_unknown_subject_gets_an_empty_export_and_a_registered_request,
    a_request_registered_first_is_answered_later_and_once,
);
