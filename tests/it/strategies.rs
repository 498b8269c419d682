//! Each anonymisation strategy changes its column and nothing else, and a second
//! pass touches no row.

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

struct Case {
    strategy: &'static str,
    column: &'static str,
    marker: bool,
    expect: [&'static str; 2],
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            strategy: "null",
            column: "name",
            marker: false,
            expect: ["NULL", "NULL"],
        },
        Case {
            strategy: "redact",
            column: "name",
            marker: false,
            expect: ["[redacted]", "[redacted]"],
        },
        Case {
            strategy: "hash",
            column: "email",
            marker: true,
            expect: ["HASH", "HASH"],
        },
        Case {
            strategy: "truncate_ip",
            column: "ip",
            marker: true,
            expect: ["203.0.113.0", "2001:db8:abcd::"],
        },
        Case {
            strategy: "email_domain",
            column: "email",
            marker: true,
            expect: ["example.com", "example.org"],
        },
        Case {
            strategy: "year",
            column: "born",
            marker: true,
            expect: ["1987-01-01", "1990-01-01T00:00:00+01:00"],
        },
        // 1987-06-15 -> 1987-06-01T00:00:00Z; 1990-12-31T22:59:59Z -> 1990-12-01T00:00:00Z
        Case {
            strategy: "month",
            column: "born_epoch",
            marker: true,
            expect: ["549504000", "660009600"],
        },
    ]
}

async fn each_strategy_changes_only_its_column_and_is_idempotent(backend: Backend) {
    for case in cases() {
        let shop = Shop::on(backend, SCHEMA).await;
        std::fs::write(shop.path("hmac.key"), KEY).unwrap();
        let marker = if case.marker {
            "marker = \"anonymized_at\"\n"
        } else {
            ""
        };
        let config = shop.config(&format!(
            "[anonymize]\nkey_file = \"hmac.key\"\n\n[limits]\nmax_table_fraction = 1.0\n\n\
             [[policy]]\nname = \"people\"\ntable = \"people\"\ntimestamp = \"seen_at\"\nkeep = \"1 year\"\naction = \"anonymize\"\n{marker}\
             [policy.anonymize]\n{} = \"{}\"\n",
            case.column, case.strategy
        ));
        let before = shop.rows("SELECT * FROM people ORDER BY id").await;
        let first = shop.pass_at(&config, now()).await;
        assert_eq!(
            first.policies[0].rows, 2,
            "{}: {:?}",
            case.strategy, first.policies[0].error
        );
        let after = shop.rows("SELECT * FROM people ORDER BY id").await;
        let columns = [
            "id",
            "seen_at",
            "email",
            "name",
            "ip",
            "born",
            "born_epoch",
            "note",
            "anonymized_at",
        ];
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
                    assert_eq!(new, &want, "{} on row {}", case.strategy, row + 1);
                } else if *column == "anonymized_at" && case.marker {
                    assert_ne!(new, "NULL", "{}: the marker is set", case.strategy);
                } else {
                    assert_eq!(
                        old,
                        new,
                        "{}: column {column} of row {} must not change",
                        case.strategy,
                        row + 1
                    );
                }
            }
        }
        assert_eq!(
            before[2], after[2],
            "{}: the young row is untouched",
            case.strategy
        );

        let second = shop.pass_at(&config, now()).await;
        assert_eq!(
            second.policies[0].rows, 0,
            "{}: a second pass touches nothing",
            case.strategy
        );
        assert_eq!(
            shop.rows("SELECT * FROM people ORDER BY id").await,
            after,
            "{}",
            case.strategy
        );
    }
}

on_every_backend!(
    each_strategy_changes_only_its_column_and_is_idempotent,
    text_strategies_refuse_a_numeric_column
);

#[tokio::test]
async fn a_strategy_that_is_not_recognisable_needs_a_marker() {
    let shop = Shop::new(SCHEMA).await;
    shop.write_config(
        "[[policy]]\nname = \"people\"\ntable = \"people\"\ntimestamp = \"seen_at\"\nkeep = \"1 year\"\naction = \"anonymize\"\n\
         [policy.anonymize]\nip = \"truncate_ip\"\n",
    );
    let out = shop.cli(&["check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = crate::support::stderr(&out);
    assert!(
        err.contains("retention.toml:11:1")
            && err.contains("not idempotent")
            && err.contains("marker"),
        "{err}"
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
