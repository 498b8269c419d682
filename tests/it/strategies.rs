//! Each anonymisation strategy changes its column and nothing else, and a second
//! pass touches no row: with a marker column, and on a schema that has none.

use retentiond::anonymize::hmac_hex;
use retentiond::policy::HmacKey;

use crate::support::{Backend, Shop, now};

const SCHEMA: &str = "
CREATE TABLE people (
    id INTEGER PRIMARY KEY,
    seen_at VARCHAR(40) NOT NULL,
    email VARCHAR(100),
    name VARCHAR(100),
    ip VARCHAR(64),
    born VARCHAR(40),
    born_epoch BIGINT,
    note VARCHAR(40),
    anonymized_at VARCHAR(40)
);
CREATE INDEX people_seen_at ON people (seen_at);
INSERT INTO people VALUES
    (1, '2020-01-01T00:00:00Z', 'jane.doe@Example.com', 'Jane Doe', '203.0.113.77', '1987-06-15', 550713600, 'keep me', NULL),
    (2, '2020-01-02T00:00:00Z', 'max@example.org', 'Max Mustermann', '2001:db8:abcd:12:3456::1', '1990-12-31T23:59:59+01:00', 662684399, 'keep me too', NULL),
    (3, '2028-02-01T00:00:00Z', 'young@example.net', 'Young Person', '198.51.100.9', '2001-02-03', 981158400, 'young', NULL);
";

const KEY: [u8; 32] = [42u8; 32];

/// The same shop without a marker column.
fn schema_without_marker() -> String {
    SCHEMA
        .replace(",\n    anonymized_at VARCHAR(40)\n", "\n")
        .replace(", NULL)", ")")
}

struct Case {
    strategy: &'static str,
    column: &'static str,
    expect: [&'static str; 2],
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            strategy: "null",
            column: "name",
            expect: ["NULL", "NULL"],
        },
        Case {
            strategy: "redact",
            column: "name",
            expect: ["[redacted]", "[redacted]"],
        },
        Case {
            strategy: "hash",
            column: "email",
            expect: ["HASH", "HASH"],
        },
        Case {
            strategy: "truncate_ip",
            column: "ip",
            expect: ["203.0.113.0", "2001:db8:abcd::"],
        },
        Case {
            strategy: "email_domain",
            column: "email",
            expect: ["example.com", "example.org"],
        },
        Case {
            strategy: "year",
            column: "born",
            expect: ["1987-01-01", "1990-01-01T00:00:00+01:00"],
        },
        // 1987-06-15 -> 1987-06-01T00:00:00Z; 1990-12-31T22:59:59Z -> 1990-12-01T00:00:00Z
        Case {
            strategy: "month",
            column: "born_epoch",
            expect: ["549504000", "660009600"],
        },
    ]
}

async fn each_strategy_changes_only_its_column_and_is_idempotent(backend: Backend) {
    for case in cases() {
        for marker in [true, false] {
            strategy_case(backend, &case, marker).await;
        }
    }
}

async fn strategy_case(backend: Backend, case: &Case, marker: bool) {
    let schema = if marker {
        SCHEMA.to_string()
    } else {
        schema_without_marker()
    };
    let shop = Shop::on(backend, &schema).await;
    crate::support::write_key(&shop.path("hmac.key"), &KEY);
    let marker_line = if marker {
        "marker = \"anonymized_at\"\n"
    } else {
        ""
    };
    let config = shop.config(&format!(
        "[anonymize]\nkey_file = \"hmac.key\"\n\n[limits]\nmax_table_fraction = 1.0\n\n\
         [[policy]]\nname = \"people\"\ntable = \"people\"\ntimestamp = \"seen_at\"\nkeep = \"1 year\"\naction = \"anonymize\"\n{marker_line}\
         [policy.anonymize]\n{} = \"{}\"\n",
        case.column, case.strategy
    ));
    let what = format!(
        "{} {}",
        case.strategy,
        if marker { "with a marker" } else { "without" }
    );
    let before = shop.rows("SELECT * FROM people ORDER BY id").await;
    let first = shop.pass_at(&config, now()).await;
    assert_eq!(
        first.policies[0].rows, 2,
        "{what}: {:?}",
        first.policies[0].error
    );
    let after = shop.rows("SELECT * FROM people ORDER BY id").await;
    let mut columns = vec![
        "id",
        "seen_at",
        "email",
        "name",
        "ip",
        "born",
        "born_epoch",
        "note",
    ];
    if marker {
        columns.push("anonymized_at");
    }
    let target = columns.iter().position(|c| *c == case.column).unwrap();
    for row in 0..2 {
        for (i, column) in columns.iter().enumerate() {
            let (old, new) = (&before[row][i], &after[row][i]);
            if i == target {
                let want = if case.expect[row] == "HASH" {
                    hmac_hex(&HmacKey(KEY.to_vec()), old.as_bytes())
                } else {
                    case.expect[row].to_string()
                };
                assert_eq!(new, &want, "{what} on row {}", row + 1);
            } else if *column == "anonymized_at" {
                assert_ne!(new, "NULL", "{what}: the marker is set");
            } else {
                assert_eq!(
                    old,
                    new,
                    "{what}: column {column} of row {} must not change",
                    row + 1
                );
            }
        }
    }
    assert_eq!(before[2], after[2], "{what}: the young row is untouched");

    let second = shop.pass_at(&config, now()).await;
    assert_eq!(
        second.policies[0].rows, 0,
        "{what}: a second pass touches nothing"
    );
    assert_eq!(
        shop.rows("SELECT * FROM people ORDER BY id").await,
        after,
        "{what}"
    );
}

on_every_backend!(
    each_strategy_changes_only_its_column_and_is_idempotent,
    text_strategies_refuse_a_numeric_column
);

#[tokio::test]
async fn every_strategy_is_accepted_without_a_marker_column() {
    let shop = Shop::new(&schema_without_marker()).await;
    crate::support::write_key(&shop.path("hmac.key"), &KEY);
    shop.write_config(
        "[anonymize]\nkey_file = \"hmac.key\"\n[[policy]]\nname = \"people\"\ntable = \"people\"\ntimestamp = \"seen_at\"\nkeep = \"1 year\"\naction = \"anonymize\"\n\
         [policy.anonymize]\nip = \"truncate_ip\"\nemail = \"hash\"\nname = \"redact\"\nborn = \"year\"\nborn_epoch = \"month\"\n",
    );
    let out = shop.cli(&["check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        crate::support::stdout(&out)
    );
}

async fn text_strategies_refuse_a_numeric_column(backend: Backend) {
    let shop = Shop::on(backend, SCHEMA).await;
    shop.write_config(
        "[[policy]]\nname = \"people\"\ntable = \"people\"\ntimestamp = \"seen_at\"\nkeep = \"1 year\"\naction = \"anonymize\"\nmarker = \"anonymized_at\"\n\
         [policy.anonymize]\nborn_epoch = \"redact\"\n",
    );
    let out = shop.cli(&["check"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        crate::support::stdout(&out)
    );
    let text = crate::support::stdout(&out);
    assert!(
        text.contains("retention.toml:12:1") && text.contains("writes text"),
        "{text}"
    );
}

/// Before a policy's first pass without a marker, `check` warns about values that
/// already look like a strategy's output (a column of SHA-256 digests under `hash`)
/// and about expired values a strategy cannot read; it suggests a marker.
async fn check_warns_about_values_that_look_anonymised(backend: Backend) {
    let digest = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
    let shop = Shop::on(
        backend,
        &format!(
            "CREATE TABLE people (id INTEGER PRIMARY KEY, seen_at VARCHAR(40) NOT NULL, email VARCHAR(100), ip VARCHAR(64));
             CREATE INDEX people_seen_at ON people (seen_at);
             INSERT INTO people VALUES (1, '2020-01-01T00:00:00Z', '{digest}', 'n/a'), (2, '2020-01-02T00:00:00Z', 'max@example.org', '203.0.113.9');"
        ),
    )
    .await;
    crate::support::write_key(&shop.path("hmac.key"), &KEY);
    shop.write_config(
        "[anonymize]\nkey_file = \"hmac.key\"\n[[policy]]\nname = \"people\"\ntable = \"people\"\ntimestamp = \"seen_at\"\nkeep = \"1 year\"\naction = \"anonymize\"\n\
         [policy.anonymize]\nemail = \"hash\"\nip = \"truncate_ip\"\n",
    );
    let out = shop.cli(&["check", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        crate::support::stderr(&out)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let warnings: Vec<&str> = json["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        warnings.iter().any(|w| w
            .contains("1 value(s) of `email` already look like the output of `hash`")
            && w.contains("marker")),
        "{backend:?}: {warnings:#?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w
                .contains("1 expired row(s) of `people` hold a value their strategy cannot read")),
        "{backend:?}: {warnings:#?}"
    );
    assert_eq!(
        shop.cli(&["check", "--deny-warnings"]).status.code(),
        Some(2)
    );
}

on_every_backend!(check_warns_about_values_that_look_anonymised);

/// After an anonymising pass, the oldest row left is the oldest the policy still
/// has to do: the first young row once every expired value is done (a value the
/// strategy cannot read is counted, not waited for), an expired one while the
/// fraction guard holds the pass back. With text timestamps and epoch seconds.
async fn the_oldest_row_left_is_the_oldest_still_to_do(backend: Backend) {
    let (jan, feb, mar, later) = (
        1_262_304_000,
        1_264_982_400,
        1_267_401_600,
        4_070_908_800i64,
    );
    for text in [true, false] {
        let ts_type = if text { "VARCHAR(40)" } else { "BIGINT" };
        let at = |secs: i64| {
            if text {
                let t = chrono::DateTime::from_timestamp(secs, 0).unwrap();
                format!("'{}'", retentiond::db::rfc3339(t))
            } else {
                secs.to_string()
            }
        };
        let shop = Shop::on(
            backend,
            &format!(
                "CREATE TABLE visits (id INTEGER PRIMARY KEY, seen_at {ts_type} NOT NULL, ip VARCHAR(40));
                 CREATE INDEX visits_seen_at ON visits (seen_at);
                 INSERT INTO visits VALUES (1, {}, '203.0.113.7'), (2, {}, '203.0.113.8'), (3, {}, 'n/a'), (4, {}, '203.0.113.9');",
                at(jan),
                at(feb),
                at(mar),
                at(later)
            ),
        )
        .await;
        let policy = |fraction: &str| {
            shop.config(&format!(
                "[limits]\nmax_table_fraction = {fraction}\n\n[[policy]]\nname = \"visits\"\ntable = \"visits\"\n\
                 timestamp = \"seen_at\"\nkeep = \"1 year\"\naction = \"anonymize\"\n[policy.anonymize]\nip = \"truncate_ip\"\n"
            ))
        };
        let held_back = shop.pass_at(&policy("0.25"), now()).await;
        let p = &held_back.policies[0];
        assert_eq!(p.status.as_str(), "refused", "{p:?}");
        assert_eq!(
            p.oldest_remaining.as_deref(),
            Some("2010-01-01T00:00:00.000Z"),
            "{text}: {p:?}"
        );

        let done = shop.pass_at(&policy("1.0"), now()).await;
        let p = &done.policies[0];
        assert_eq!(
            (p.status.as_str(), p.rows, p.cannot_anonymize),
            ("ok", 2, 1),
            "{text}: {p:?}"
        );
        assert_eq!(
            p.oldest_remaining.as_deref(),
            Some("2099-01-01T00:00:00.000Z"),
            "{text}: {p:?}"
        );
    }
}

on_every_backend!(the_oldest_row_left_is_the_oldest_still_to_do);
