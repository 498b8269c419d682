//! The table walk and the index walk purge exactly the same rows: one seeded shop
//! (timestamps in random key order, NULL, future and unreadable ones, a filter, two
//! held subjects, a cascade, epoch timestamps, anonymisation without a marker and
//! values already anonymised) purged once under each walk, in small batches, ends
//! in identical tables and identical audit totals. `plan` names the walk and why.

use rand::RngExt;
use rand::seq::SliceRandom;

use crate::support::{Backend, Shop, now, run_cli, seeded_rng, stderr, stdout};

on_every_backend!(every_walk_purges_the_same_rows, plan_names_the_walk_and_why);

const SCHEMA: &str = "
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, placed_at VARCHAR(40),
                     status VARCHAR(20) NOT NULL);
CREATE INDEX orders_placed_at ON orders (placed_at);
CREATE TABLE order_items (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, sku VARCHAR(20));
CREATE TABLE visits (id INTEGER PRIMARY KEY, seen_at VARCHAR(40) NOT NULL, ip VARCHAR(64));
CREATE INDEX visits_seen_at ON visits (seen_at);
CREATE TABLE sessions (id INTEGER PRIMARY KEY, started BIGINT NOT NULL, token VARCHAR(40));
CREATE INDEX sessions_started ON sessions (started);
";

const ORDERS: i64 = 1_200;
const VISITS: i64 = 900;
const SESSIONS: i64 = 700;

/// The same rows for every shop of one test, drawn from one seed.
fn rows() -> String {
    let mut rng = seeded_rng("walks");
    let mut sql = String::new();
    let mut ids: Vec<i64> = (1..=ORDERS).collect();
    ids.shuffle(&mut rng);
    for (n, id) in ids.iter().enumerate() {
        let placed = match n % 20 {
            0 => "NULL".to_string(),
            1 => "'2099-03-01T00:00:00Z'".to_string(),
            2 => "'not a date'".to_string(),
            3..=11 => format!(
                "'{}-{:02}-15T10:00:00Z'",
                rng.random_range(2009..2015),
                rng.random_range(1..13)
            ),
            _ => format!(
                "'{}-{:02}-15T10:00:00Z'",
                rng.random_range(2018..2026),
                rng.random_range(1..13)
            ),
        };
        let status = if rng.random_ratio(1, 8) {
            "disputed"
        } else {
            "delivered"
        };
        let customer = rng.random_range(1..40);
        sql.push_str(&format!(
            "INSERT INTO orders VALUES ({id}, {customer}, {placed}, '{status}');"
        ));
        for k in 0..rng.random_range(0..4) {
            sql.push_str(&format!(
                "INSERT INTO order_items VALUES ({}, {id}, 'SKU-{k}');",
                id * 10 + k
            ));
        }
    }
    let mut ids: Vec<i64> = (1..=VISITS).collect();
    ids.shuffle(&mut rng);
    for id in ids {
        let year = if rng.random_ratio(3, 5) { 2019 } else { 2026 };
        let last = if rng.random_ratio(1, 6) {
            0
        } else {
            rng.random_range(1..255)
        };
        sql.push_str(&format!(
            "INSERT INTO visits VALUES ({id}, '{year}-{:02}-01T08:00:00Z', '198.51.{}.{last}');",
            rng.random_range(1..10),
            rng.random_range(0..255)
        ));
    }
    for id in 1..=SESSIONS {
        let started: i64 = if rng.random_ratio(1, 2) {
            rng.random_range(1_300_000_000..1_500_000_000)
        } else {
            rng.random_range(1_780_000_000..1_790_000_000)
        };
        sql.push_str(&format!(
            "INSERT INTO sessions VALUES ({id}, {started}, 't{id}');"
        ));
    }
    sql
}

fn config(walk: &str) -> String {
    format!(
        "[limits]\nbatch_size = 37\nmax_table_fraction = 1.0\n\n\
         [[policy]]\nname = \"orders\"\ntable = \"orders\"\ntimestamp = \"placed_at\"\nkeep = \"10 years\"\n\
         subject = \"customer_id\"\naction = \"delete\"\nwalk = \"{walk}\"\n\
         filter = {{ status = [\"delivered\"] }}\n\
         cascade = [{{ table = \"order_items\", foreign_key = \"order_id\", references = \"id\" }}]\n\n\
         [[policy]]\nname = \"visits\"\ntable = \"visits\"\ntimestamp = \"seen_at\"\nkeep = \"26 months\"\n\
         action = \"anonymize\"\nwalk = \"{walk}\"\nanonymize = {{ ip = \"truncate_ip\" }}\n\n\
         [[policy]]\nname = \"sessions\"\ntable = \"sessions\"\ntimestamp = \"started\"\n\
         keep = \"2 years\"\naction = \"delete\"\nwalk = \"{walk}\"\n"
    )
}

struct Purged {
    tables: Vec<Vec<String>>,
    /// Per policy: rows, held, unreadable, children; and the walk taken.
    outcomes: Vec<(String, u64, u64, u64, u64, String)>,
    audited: std::collections::BTreeMap<(String, String), i64>,
}

async fn purge(backend: Backend, walk: &str, data: &str) -> Purged {
    let shop = Shop::on(backend, SCHEMA).await;
    shop.exec(data).await;
    let config = shop.config(&config(walk));
    for subject in ["7", "13"] {
        let out = run_cli(
            &shop.config_path,
            shop.dir.path(),
            &["hold", "add", "--subject", subject, "--reason", "lawsuit"],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let report = shop.pass_at(&config, now()).await;
    let outcomes = report
        .policies
        .iter()
        .map(|p| {
            assert_eq!(p.status.as_str(), "ok", "{walk}: {}: {:?}", p.name, p.error);
            (
                p.name.clone(),
                p.rows,
                p.held,
                p.unreadable,
                p.children.values().sum(),
                p.walk
                    .as_ref()
                    .map(|w| w.walk.as_str().to_string())
                    .unwrap_or_default(),
            )
        })
        .collect();
    let second = shop.pass_at(&config, now()).await;
    for p in &second.policies {
        assert_eq!(
            p.rows, 0,
            "{walk}: a second pass of {} touches nothing",
            p.name
        );
    }
    Purged {
        tables: shop
            .dump(&["orders", "order_items", "visits", "sessions"])
            .await,
        outcomes,
        audited: audited(&shop).await,
    }
}

/// Rows per policy and action in the audit trail.
async fn audited(shop: &Shop) -> std::collections::BTreeMap<(String, String), i64> {
    let mut sums = std::collections::BTreeMap::new();
    let events = shop
        .rows("SELECT policy, action, \"rows\" FROM retention_events WHERE action IN ('delete', 'anonymize')")
        .await;
    for e in events {
        *sums.entry((e[0].clone(), e[1].clone())).or_default() += e[2].parse::<i64>().unwrap();
    }
    sums
}

async fn every_walk_purges_the_same_rows(backend: Backend) {
    let data = rows();
    let index = purge(backend, "index", &data).await;
    for (name, rows, ..) in &index.outcomes {
        assert!(*rows > 100, "{name}: the index walk purged {rows} rows");
    }
    for (.., walk) in &index.outcomes {
        assert_eq!(walk, "index");
    }
    for walk in ["table", "auto"] {
        let other = purge(backend, walk, &data).await;
        if walk == "table" {
            for (name, .., taken) in &other.outcomes {
                assert_eq!(taken, "table", "{name} walks the table when told to");
            }
        }
        let counts = |p: &Purged| -> Vec<_> {
            p.outcomes
                .iter()
                .map(|(n, r, h, u, c, _)| (n.clone(), *r, *h, *u, *c))
                .collect()
        };
        assert_eq!(counts(&other), counts(&index), "{walk}: the same counts");
        assert_eq!(
            other.audited, index.audited,
            "{walk}: the same audit totals"
        );
        assert!(
            other.tables == index.tables,
            "{walk}: the same rows left, and the same values"
        );
    }
    assert_eq!(index.audited.len(), 3, "{:?}", index.audited);
    let held = index.outcomes[0].2;
    assert!(
        held > 0,
        "the held subjects' expired orders are counted: {held}"
    );
}

async fn plan_names_the_walk_and_why(backend: Backend) {
    let shop = Shop::on(backend, SCHEMA).await;
    shop.exec(&rows()).await;
    for (walk, expect) in [
        ("index", "walk = \"index\""),
        ("table", "walk = \"table\", by "),
    ] {
        shop.write_config(&config(walk));
        let out = shop.cli(&["plan"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let text = stdout(&out);
        assert!(text.contains(expect), "plan under {walk}:\n{text}");
        let json: serde_json::Value =
            serde_json::from_slice(&shop.cli(&["plan", "--format", "json"]).stdout).unwrap();
        for p in json["policies"].as_array().unwrap() {
            assert_eq!(p["walk"]["walk"], walk, "{p}");
        }
    }
    shop.write_config(&config("auto"));
    let json: serde_json::Value =
        serde_json::from_slice(&shop.cli(&["plan", "--format", "json"]).stdout).unwrap();
    for p in json["policies"].as_array().unwrap() {
        let why = p["walk"]["why"].as_str().unwrap();
        assert!(
            why.contains("the database's own plan") || why.starts_with("no table walk"),
            "{why}"
        );
    }
}
