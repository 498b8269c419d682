//! Expired means strictly older than the cutoff, for every period form and every
//! timestamp encoding; NULL, future and unreadable timestamps are never purged.

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};

use crate::support::{Backend, Shop};

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
}

/// (database now, keep, the cutoff calendar arithmetic must give)
fn cases() -> Vec<(DateTime<Utc>, &'static str, DateTime<Utc>)> {
    let leap = at(2028, 2, 29, 12);
    vec![
        (leap, "1 year", at(2027, 2, 28, 12)),
        (leap, "P1Y", at(2027, 2, 28, 12)),
        (leap, "26 months", at(2025, 12, 29, 12)),
        (leap, "P26M", at(2025, 12, 29, 12)),
        (leap, "30 days", at(2028, 1, 30, 12)),
        (leap, "P30D", at(2028, 1, 30, 12)),
        (leap, "2 weeks", at(2028, 2, 15, 12)),
        (leap, "P2W", at(2028, 2, 15, 12)),
        (leap, "P1Y6M", at(2026, 8, 29, 12)),
        (leap, "0 days", leap),
        // Landing on 29 February, and clamped to 28 February.
        (at(2028, 3, 29, 6), "1 month", at(2028, 2, 29, 6)),
        (at(2026, 3, 31, 6), "1 month", at(2026, 2, 28, 6)),
        (at(2029, 2, 28, 6), "P1Y", at(2028, 2, 28, 6)),
        // 26 months before 31 March is 31 January of the year before last.
        (at(2026, 3, 31, 6), "26 months", at(2024, 1, 31, 6)),
        // Landing on the 31st, and clamped to the 30th.
        (at(2026, 8, 31, 23), "1 month", at(2026, 7, 31, 23)),
        (at(2026, 5, 31, 23), "1 month", at(2026, 4, 30, 23)),
        (at(2026, 12, 31, 0), "10 years", at(2016, 12, 31, 0)),
    ]
}

#[derive(Clone, Copy, Debug)]
enum Encoding {
    IsoZ,
    IsoOffset,
    IsoNoZone,
    Epoch,
    /// timestamptz on PostgreSQL.
    NativeInstant,
    /// timestamp without zone (PostgreSQL), DATETIME (MariaDB): UTC by convention.
    NativeLocal,
}

fn encodings(backend: Backend) -> Vec<Encoding> {
    let mut all = vec![
        Encoding::IsoZ,
        Encoding::IsoOffset,
        Encoding::IsoNoZone,
        Encoding::Epoch,
    ];
    match backend {
        Backend::Sqlite => {}
        Backend::Postgres => all.extend([Encoding::NativeInstant, Encoding::NativeLocal]),
        Backend::MariaDb => all.push(Encoding::NativeLocal),
    }
    all
}

impl Encoding {
    fn column_type(self, backend: Backend) -> &'static str {
        match (self, backend) {
            (Encoding::Epoch, _) => "BIGINT",
            (Encoding::IsoNoZone, Backend::Sqlite) => "DATETIME",
            (Encoding::NativeInstant, _) => "TIMESTAMPTZ",
            (Encoding::NativeLocal, Backend::Postgres) => "TIMESTAMP",
            (Encoding::NativeLocal, _) => "DATETIME",
            _ => "VARCHAR(40)",
        }
    }

    fn literal(self, t: DateTime<Utc>) -> String {
        match self {
            Encoding::IsoZ | Encoding::NativeInstant => {
                format!("'{}'", t.format("%Y-%m-%dT%H:%M:%SZ"))
            }
            Encoding::IsoOffset => {
                let jakarta = FixedOffset::east_opt(7 * 3600).unwrap();
                format!(
                    "'{}'",
                    t.with_timezone(&jakarta).format("%Y-%m-%dT%H:%M:%S%:z")
                )
            }
            Encoding::IsoNoZone | Encoding::NativeLocal => {
                format!("'{}'", t.format("%Y-%m-%d %H:%M:%S"))
            }
            Encoding::Epoch => t.timestamp().to_string(),
        }
    }

    /// A value that is no timestamp, where the column can hold one.
    fn unreadable(self, backend: Backend) -> Option<&'static str> {
        match (self, backend) {
            (Encoding::Epoch, Backend::Sqlite) => Some("'soon'"),
            (Encoding::Epoch | Encoding::NativeInstant | Encoding::NativeLocal, _) => None,
            _ => Some("'not a date'"),
        }
    }
}

async fn boundaries(backend: Backend) {
    let encodings = encodings(backend);
    let mut schema = String::new();
    for (i, e) in encodings.iter().enumerate() {
        schema.push_str(&format!(
            "CREATE TABLE t{i} (id INTEGER PRIMARY KEY, ts {}, note VARCHAR(20)); CREATE INDEX t{i}_ts ON t{i} (ts);\n",
            e.column_type(backend)
        ));
    }
    let shop = Shop::on(backend, &schema).await;
    for (i, encoding) in encodings.into_iter().enumerate() {
        for (now, keep, cutoff) in cases() {
            let second = Duration::seconds(1);
            let bad = encoding.unreadable(backend);
            shop.exec(&format!(
                "DELETE FROM t{i};
                 INSERT INTO t{i} VALUES (1, {older}, 'older'), (2, {exact}, 'exact'), (3, {younger}, 'younger'),
                                         (4, NULL, 'null'), (5, {future}, 'future'), (6, {bad}, 'unreadable'),
                                         (7, {year_older}, 'much older');",
                older = encoding.literal(cutoff - second),
                exact = encoding.literal(cutoff),
                younger = encoding.literal(cutoff + second),
                future = encoding.literal(now + Duration::days(400)),
                bad = bad.unwrap_or("NULL"),
                year_older = encoding.literal(cutoff - Duration::days(365)),
            ))
            .await;
            let config = shop.config(&format!(
                "[limits]\nmax_table_fraction = 1.0\n\n[[policy]]\nname = \"p\"\ntable = \"t{i}\"\ntimestamp = \"ts\"\nkeep = \"{keep}\"\naction = \"delete\"\n"
            ));
            let report = shop.pass_at(&config, now).await;
            let p = &report.policies[0];
            let what = format!("{backend:?} {encoding:?} keep {keep} at {now}");
            assert_eq!(
                p.cutoff.as_deref(),
                Some(retentiond::db::rfc3339(cutoff).as_str()),
                "{what}"
            );
            assert_eq!(p.status.as_str(), "ok", "{what}: {:?}", p.error);
            assert_eq!(p.rows, 2, "{what}");
            assert_eq!(p.unreadable, u64::from(bad.is_some()), "{what}");
            let left = shop
                .rows(&format!("SELECT note FROM t{i} ORDER BY id"))
                .await;
            let left: Vec<&str> = left.iter().map(|r| r[0].as_str()).collect();
            assert_eq!(
                left,
                ["exact", "younger", "null", "future", "unreadable"],
                "{what}"
            );
        }
    }
}

on_every_backend!(boundaries);

#[tokio::test]
async fn check_detects_each_encoding() {
    let shop = Shop::new(
        "CREATE TABLE a (id INTEGER PRIMARY KEY, ts TEXT);
         CREATE TABLE b (id INTEGER PRIMARY KEY, ts INTEGER);
         INSERT INTO a VALUES (1, '2020-01-01T00:00:00Z'), (2, 'garbage');
         INSERT INTO b VALUES (1, 1577836800), (2, 'garbage');",
    )
    .await;
    shop.write_config(
        "[[policy]]\nname = \"a\"\ntable = \"a\"\ntimestamp = \"ts\"\nkeep = \"1 day\"\naction = \"delete\"\n\n\
         [[policy]]\nname = \"b\"\ntable = \"b\"\ntimestamp = \"ts\"\nkeep = \"1 day\"\naction = \"delete\"\n",
    );
    let out = shop.cli(&["check", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["policies"][0]["timestamp_encoding"], "ISO 8601 text");
    assert_eq!(
        json["policies"][1]["timestamp_encoding"],
        "Unix epoch seconds"
    );
    assert_eq!(json["policies"][0]["unreadable"], 1);
    assert_eq!(json["policies"][1]["unreadable"], 1);
    let warnings = json["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("no index")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("never purged")),
        "{warnings:?}"
    );
    // Warnings alone still pass; --deny-warnings makes them fatal.
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        shop.cli(&["check", "--deny-warnings"]).status.code(),
        Some(2)
    );
}
