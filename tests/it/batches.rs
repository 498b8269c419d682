//! Batch boundaries: many rows sharing one timestamp, cut into small batches, are
//! each purged exactly once, in both the delete and the anonymise paths; a held
//! subject in the middle of a run of ties is skipped, and nothing young is touched.
//! Adaptive sizes stay under their cap and are reported with the longest batch.

use crate::support::{Backend, Shop, now, stderr};

/// 3 timestamps × 20 rows each, expired; 5 young rows with the first of them. The
/// subject 7 (every 10th row) is held.
fn schema() -> String {
    let mut rows = Vec::new();
    for id in 1..=60 {
        let ts = [
            "2010-01-01 00:00:00",
            "2010-01-01 00:00:01",
            "2011-05-05 00:00:00",
        ][(id - 1) / 20];
        let customer = if id % 10 == 0 { 7 } else { 100 + id };
        rows.push(format!(
            "({id}, {customer}, '{ts}', '198.51.100.{id}', NULL)"
        ));
    }
    for id in 61..=65 {
        rows.push(format!(
            "({id}, {id}, '2099-01-01 00:00:00', '198.51.100.{id}', NULL)"
        ));
    }
    format!(
        "CREATE TABLE visits (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, at VARCHAR(40) NOT NULL, ip VARCHAR(40), done_at VARCHAR(40));
         CREATE INDEX visits_at ON visits (at);
         INSERT INTO visits VALUES {};",
        rows.join(", ")
    )
}

async fn ties_across_small_batches(backend: Backend) {
    for action in ["delete", "anonymize"] {
        let shop = Shop::on(backend, &schema()).await;
        let extra = if action == "anonymize" {
            "marker = \"done_at\"\n[policy.anonymize]\nip = \"null\"\n"
        } else {
            ""
        };
        let config = shop.config(&format!(
            "[limits]\nbatch_size = 7\nmax_table_fraction = 1.0\n\n[[policy]]\nname = \"visits\"\ntable = \"visits\"\n\
             timestamp = \"at\"\nkeep = \"1 year\"\nsubject = \"customer_id\"\naction = \"{action}\"\n{extra}"
        ));
        let held = shop.cli(&["hold", "add", "--subject", "7", "--reason", "lawsuit"]);
        assert_eq!(held.status.code(), Some(0), "{}", stderr(&held));

        let report = shop.pass_at(&config, now()).await;
        let p = &report.policies[0];
        assert_eq!(p.status.as_str(), "ok", "{action}: {:?}", p.error);
        assert_eq!((p.rows, p.held), (54, 6), "{action}");
        // Batches of 7 of the 60 expired rows, the held ones counted in: 9 of them,
        // each purging at most 7.
        assert_eq!(p.batches, 9, "{action}: 60 rows in batches of 7");
        let audited = shop
            .ints("SELECT \"rows\" FROM retention_events WHERE policy = 'visits'")
            .await;
        assert_eq!(audited.iter().sum::<i64>(), 54, "{action}: {audited:?}");
        assert!(audited.iter().all(|n| (1..=7).contains(n)), "{audited:?}");

        let left = if action == "delete" {
            shop.ints("SELECT id FROM visits ORDER BY id").await
        } else {
            shop.ints("SELECT id FROM visits WHERE ip IS NOT NULL ORDER BY id")
                .await
        };
        assert_eq!(
            left,
            [10, 20, 30, 40, 50, 60, 61, 62, 63, 64, 65],
            "{action}"
        );
        if action == "anonymize" {
            let marked = shop
                .int("SELECT count(*) FROM visits WHERE done_at IS NOT NULL")
                .await;
            assert_eq!(marked, 54, "every anonymised row is marked, no other");
        }

        let again = shop.pass_at(&config, now()).await;
        assert_eq!(
            again.policies[0].rows, 0,
            "{action}: the second pass finds nothing"
        );
    }
}

on_every_backend!(ties_across_small_batches);

/// Adaptive sizes: a pass reports where the sizes settled, the rate they followed
/// and its longest batch with the step that took longest; `max_batch_size` caps
/// every batch, and the run's record keeps the same figures.
async fn adaptive_sizes_are_capped_and_reported(backend: Backend) {
    let rows: Vec<String> = (1..=3000)
        .map(|id| format!("({id}, 1, '2010-01-01 00:00:00', '198.51.100.1', NULL)"))
        .collect();
    let shop = Shop::on(
        backend,
        &format!(
            "CREATE TABLE visits (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, at VARCHAR(40) NOT NULL, ip VARCHAR(40), done_at VARCHAR(40));
             CREATE INDEX visits_at ON visits (at);
             INSERT INTO visits VALUES {};",
            rows.join(", ")
        ),
    )
    .await;
    shop.write_config(
        "[limits]\nmax_batch_size = 400\nmax_table_fraction = 1.0\n\n[[policy]]\nname = \"visits\"\n\
         table = \"visits\"\ntimestamp = \"at\"\nkeep = \"1 year\"\naction = \"delete\"\n",
    );
    let out = shop.cli(&["purge", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let p = &json["policies"][0];
    assert_eq!(p["rows"], 3000, "{p}");
    let size = p["batch_size"].as_u64().unwrap();
    assert!((10..=400).contains(&size), "{p}");
    assert!(p["rows_per_second"].as_f64().unwrap() > 0.0, "{p}");
    let longest = &p["longest_batch"];
    assert_eq!(longest["ms"], p["longest_batch_ms"], "{p}");
    let step = longest["slowest_step"].as_str().unwrap();
    assert!(
        ["begin", "find", "write", "audit", "commit"].contains(&step),
        "{p}"
    );
    let steps: u64 = ["begin_ms", "find_ms", "write_ms", "audit_ms", "commit_ms"]
        .iter()
        .map(|k| longest[k].as_u64().unwrap())
        .sum();
    // Each step is rounded down to a millisecond on its own.
    assert!(steps <= longest["ms"].as_u64().unwrap(), "{p}");

    let batches = shop
        .ints("SELECT \"rows\" FROM retention_events WHERE policy = 'visits'")
        .await;
    assert!(
        batches.len() >= 8,
        "3000 rows at most 400 a batch: {batches:?}"
    );
    assert!(batches.iter().all(|n| *n <= 400), "{batches:?}");
    let recorded = shop
        .ints("SELECT batch_size FROM retention_policy_runs WHERE policy = 'visits'")
        .await;
    assert_eq!(recorded, [size as i64]);
}

on_every_backend!(adaptive_sizes_are_capped_and_reported);
