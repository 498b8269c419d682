//! The SQL each backend writes to recognise anonymised values (`db/table/forms.rs`)
//! agrees with the Rust rules (`anonymize::state`) value by value, on a corpus of
//! awkward values, in text, epoch and native date columns.

use std::collections::BTreeMap;

use retentiond::anonymize::{self, ValueState};
use retentiond::db;
use retentiond::value::SqlValue;

use crate::support::{Backend, Shop};

/// Text columns, each anonymised by one strategy and holding every text value. (A
/// number column, `n_null`, holds the epochs and is set to NULL: its type is kept.)
const TEXT_COLUMNS: [(&str, &str); 7] = [
    ("v_null", "null"),
    ("v_redact", "redact"),
    ("v_hash", "hash"),
    ("v_ip", "truncate_ip"),
    ("v_email", "email_domain"),
    ("v_year", "year"),
    ("v_month", "month"),
];

const TEXTS: &[&str] = &[
    "203.0.113.7",
    "203.0.113.0",
    " 203.0.113.7 ",
    "010.0.0.1",
    "256.1.1.1",
    "2001:db8:abcd:12:3456::1",
    "2001:db8:abcd::",
    "2001:DB8:ABCD::",
    "::ffff:203.0.113.7",
    "::ffff:203.0.113.0",
    "::1",
    "::",
    "1:2:3:4:5:6:1.2.3.4",
    "fe80::1%eth0",
    "n/a",
    "",
    " ",
    "jane.doe@Example.com",
    "example.com",
    "a@b@example.org",
    "trailing@",
    "spaced@ ",
    " jane@example.com ",
    "jöhn@exämple.com",
    "@",
    "[redacted]",
    "[REDACTED]",
    "[redacted] ",
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843",
    " 5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    "2028-02-29",
    "2028-02-29T23:59:59Z",
    "2028-02-01",
    "2028-01-01 00:00:00",
    "2027-02-29",
    "2016-05-17T10:11:12.345+07:00",
    "2016-05-01T00:00:00+07:00",
    "2016-05-17 10:11:12+00",
    "2016-05-01 00:00:00+00",
    "2016-13-01",
    "2016-05-17T10:11",
    "17.05.2016",
    "1463479872",
];

/// Epoch seconds, for `year` and `month` on number columns: in range, at a start,
/// before 1970, and beyond what dates can hold.
const EPOCHS: &[i64] = &[
    1_463_479_872,
    1_462_060_800,
    1_451_606_400,
    1_830_297_600,
    -86_400,
    0,
    253_402_300_799,
    253_402_300_800,
    -30_610_224_001,
    9_000_000_000_000_000,
];

/// Dates and date-times for native columns: 29 February, starts of months and years.
const DATES: &[(&str, &str)] = &[
    ("2028-02-29", "2028-02-29 23:59:59"),
    ("2028-02-01", "2028-02-01 00:00:00"),
    ("2016-01-01", "2016-01-01 00:00:00"),
    ("2016-05-17", "2016-05-17 10:11:12"),
];

fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn schema(backend: Backend) -> String {
    let datetime = match backend {
        Backend::Postgres => "TIMESTAMP",
        Backend::Sqlite | Backend::MariaDb => "DATETIME",
    };
    let text: Vec<String> = TEXT_COLUMNS
        .iter()
        .map(|(c, _)| format!("{c} VARCHAR(100)"))
        .collect();
    let mut sql = format!(
        "CREATE TABLE corpus (id INTEGER PRIMARY KEY, seen_at VARCHAR(40) NOT NULL, {}, \
         e_year BIGINT, e_month BIGINT, n_null BIGINT, d_month DATE, t_year {datetime}, anonymized_at VARCHAR(40));\n",
        text.join(", ")
    );
    let mut id = 0;
    let mut row = |values: String| {
        id += 1;
        sql.push_str(&format!(
            "INSERT INTO corpus VALUES ({id}, '2000-01-01T00:00:00Z', {values}, NULL);\n"
        ));
    };
    for t in TEXTS {
        let v = vec![quoted(t); TEXT_COLUMNS.len()].join(", ");
        row(format!("{v}, NULL, NULL, NULL, NULL, NULL"));
    }
    let nulls = vec!["NULL"; TEXT_COLUMNS.len()].join(", ");
    for e in EPOCHS {
        row(format!("{nulls}, {e}, {e}, {e}, NULL, NULL"));
    }
    for (d, t) in DATES {
        row(format!(
            "{nulls}, NULL, NULL, NULL, {}, {}",
            quoted(d),
            quoted(t)
        ));
    }
    row(format!("{nulls}, NULL, NULL, NULL, NULL, NULL"));
    sql
}

fn policy() -> String {
    let mut lines: Vec<String> = TEXT_COLUMNS
        .iter()
        .map(|(c, s)| format!("{c} = \"{s}\""))
        .collect();
    lines.extend(
        [
            "e_year = \"year\"",
            "e_month = \"month\"",
            "n_null = \"null\"",
            "d_month = \"month\"",
            "t_year = \"year\"",
        ]
        .map(String::from),
    );
    format!(
        "[anonymize]\nkey_file = \"hmac.key\"\n\n[[policy]]\nname = \"corpus\"\ntable = \"corpus\"\n\
         timestamp = \"seen_at\"\nkeep = \"1 year\"\naction = \"anonymize\"\n\n[policy.anonymize]\n{}\n",
        lines.join("\n")
    )
}

async fn sql_and_rust_place_every_value_alike(backend: Backend) {
    let shop = Shop::on(backend, &schema(backend)).await;
    crate::support::write_key(&shop.path("hmac.key"), &[5u8; 32]);
    let config = shop.config(&policy());
    let mut db = shop.db(&config).await;
    let report = db::resolve(&mut db, &config.policies[0]).await.unwrap();
    let target = report
        .target
        .unwrap_or_else(|| panic!("{:?}", report.problems));
    let mut seen: BTreeMap<(String, &str), usize> = BTreeMap::new();
    let mut wrong = Vec::new();
    for (i, (strategy, form)) in target.anonymized_columns().into_iter().enumerate() {
        for (key, value, in_sql) in target.column_states(&mut db, i).await.unwrap() {
            let in_rust = anonymize::state(strategy, form, &value);
            if in_sql != in_rust {
                wrong.push(format!(
                    "{strategy:?} ({form:?}) row {key:?} {value:?}: SQL {in_sql:?}, Rust {in_rust:?}"
                ));
            }
            let name = match in_rust {
                ValueState::Anonymized => "anonymized",
                ValueState::Pending => "pending",
                ValueState::CannotAnonymize => "cannot",
            };
            if value != SqlValue::Null {
                *seen
                    .entry((strategy.as_str().to_string(), name))
                    .or_default() += 1;
            }
        }
    }
    db.close().await.unwrap();
    assert!(wrong.is_empty(), "{backend:?}:\n{}", wrong.join("\n"));
    // The corpus reaches every state of every strategy that has it.
    for strategy in [
        "redact",
        "hash",
        "truncate_ip",
        "email_domain",
        "year",
        "month",
    ] {
        for state in ["anonymized", "pending"] {
            assert!(
                seen.contains_key(&(strategy.to_string(), state)),
                "{backend:?}: no {state} value for {strategy}: {seen:?}"
            );
        }
    }
    for strategy in ["truncate_ip", "email_domain", "year", "month"] {
        assert!(
            seen.contains_key(&(strategy.to_string(), "cannot")),
            "{backend:?}: no value {strategy} cannot read: {seen:?}"
        );
    }
}

/// A pass anonymises every value as Rust would, byte for byte: through the
/// database's own SQL when no column needs `hash` (one range UPDATE a batch), in
/// Rust otherwise; with a marker or without. Without a marker it leaves what is done
/// or unreadable as it is and counts the unreadable; a second pass touches 0 rows.
async fn a_pass_writes_what_rust_would_and_a_second_touches_nothing(backend: Backend) {
    for (with_hash, marker) in [(true, false), (false, false), (false, true)] {
        pass_case(backend, with_hash, marker).await;
    }
}

async fn pass_case(backend: Backend, with_hash: bool, marker: bool) {
    let what = format!(
        "{backend:?}, {} {}",
        if with_hash {
            "hash in Rust,"
        } else {
            "all in SQL,"
        },
        if marker {
            "with a marker"
        } else {
            "without a marker"
        }
    );
    let shop = Shop::on(backend, &schema(backend)).await;
    crate::support::write_key(&shop.path("hmac.key"), &[5u8; 32]);
    let mut text = policy();
    if !with_hash {
        text = text.replace("v_hash = \"hash\"\n", "");
    }
    if marker {
        text = text.replace(
            "[policy.anonymize]",
            "marker = \"anonymized_at\"\n[policy.anonymize]",
        );
    }
    let config = shop.config(&format!("[limits]\nmax_table_fraction = 1.0\n\n{text}"));
    let mut db = shop.db(&config).await;
    let target = db::resolve(&mut db, &config.policies[0])
        .await
        .unwrap()
        .target
        .unwrap();
    assert_eq!(target.purges_by_range(), !with_hash, "{what}");
    let columns = target.anonymized_columns();
    let key = config.hmac_key.clone();
    let progress = if marker {
        anonymize::Progress::Unmarked
    } else {
        anonymize::Progress::ByValue
    };
    let mut expected = Vec::new();
    for (i, (strategy, form)) in columns.iter().enumerate() {
        let states = target.column_states(&mut db, i).await.unwrap();
        expected.push(
            states
                .into_iter()
                .map(|(_, v, _)| {
                    let purpose = anonymize::Purpose::Expiry;
                    anonymize::replace(*strategy, *form, &v, key.as_ref(), purpose, progress)
                })
                .collect::<Vec<_>>(),
        );
    }
    db.close().await.unwrap();

    let first = shop.pass_at(&config, crate::support::now()).await;
    let p = &first.policies[0];
    assert_eq!(p.status.as_str(), "ok", "{what}: {:?}", p.error);
    assert!(p.rows > 0, "{what}");
    assert_eq!(p.cannot_anonymize > 0, !marker, "{what}: {p:?}");

    let mut db = shop.db(&config).await;
    let mut wrong = Vec::new();
    for (i, want) in expected.iter().enumerate() {
        let now: Vec<SqlValue> = target
            .column_states(&mut db, i)
            .await
            .unwrap()
            .into_iter()
            .map(|(_, v, _)| v)
            .collect();
        for (row, (got, want)) in now.iter().zip(want).enumerate() {
            if got != want {
                wrong.push(format!(
                    "{:?} row {}: database {got:?}, Rust {want:?}",
                    columns[i],
                    row + 1
                ));
            }
        }
    }
    db.close().await.unwrap();
    assert!(wrong.is_empty(), "{what}:\n{}", wrong.join("\n"));

    let events = shop.int("SELECT count(*) FROM retention_events").await;
    let second = shop.pass_at(&config, crate::support::now()).await;
    assert_eq!(
        (second.policies[0].rows, second.policies[0].batches),
        (0, 0),
        "{what}: {:?}",
        second.policies[0]
    );
    assert_eq!(
        shop.int("SELECT count(*) FROM retention_events").await,
        events,
        "{what}: the second pass records no empty batch"
    );
    assert_eq!(
        second.policies[0].cannot_anonymize, p.cannot_anonymize,
        "{what}: the unreadable values are counted again, not rewritten"
    );
}

on_every_backend!(
    sql_and_rust_place_every_value_alike,
    a_pass_writes_what_rust_would_and_a_second_touches_nothing
);

/// PostgreSQL's own types: `inet` (read through host(), not its `/32` text) and
/// `timestamptz` (truncated in UTC), anonymised without a marker.
#[tokio::test]
async fn inet_and_timestamptz_are_anonymised_in_their_own_types() {
    let shop = Shop::on(
        Backend::Postgres,
        "CREATE TABLE visits (id INTEGER PRIMARY KEY, seen_at TIMESTAMPTZ NOT NULL, ip INET, at TIMESTAMPTZ);
         INSERT INTO visits VALUES
           (1, '2001-01-01 00:00:00+00', '203.0.113.7', '2016-05-17 10:11:12+02'),
           (2, '2001-01-01 00:00:00+00', '2001:db8:abcd:12::1', '2016-05-01 00:00:00+00'),
           (3, '2001-01-01 00:00:00+00', '198.51.100.0', NULL);",
    )
    .await;
    let config = shop.config(
        "[limits]\nmax_table_fraction = 1.0\n[[policy]]\nname = \"visits\"\ntable = \"visits\"\ntimestamp = \"seen_at\"\n\
         keep = \"1 year\"\naction = \"anonymize\"\n[policy.anonymize]\nip = \"truncate_ip\"\nat = \"month\"\n",
    );
    let first = shop.pass_at(&config, crate::support::now()).await;
    assert_eq!(first.policies[0].rows, 2, "{:?}", first.policies[0]);
    assert_eq!(
        shop.rows("SELECT host(ip), CAST(at AS text) FROM visits ORDER BY id")
            .await,
        [
            ["203.0.113.0", "2016-05-01 00:00:00+00"],
            ["2001:db8:abcd::", "2016-05-01 00:00:00+00"],
            ["198.51.100.0", "NULL"],
        ]
    );
    let second = shop.pass_at(&config, crate::support::now()).await;
    assert_eq!(second.policies[0].rows, 0, "{:?}", second.policies[0]);
}
