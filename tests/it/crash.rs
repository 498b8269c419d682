//! `kill -9` at twenty moments spread over a 200,000-row purge (160,000 rows to
//! delete, 160,000 to anonymise) loses nothing: after each kill and after a
//! final pass, the rows gone equal the rows the audit trail counts, and no row
//! inside its period was touched.

use std::time::{Duration, Instant};

use rand::RngExt;

use crate::support::{Backend, Shop, run_cli, stderr};

on_every_backend!(sigkill_at_random_moments_then_a_complete_pass);

const EXPIRED: i64 = 160_000;
const YOUNG: i64 = 40_000;
const KILLS: usize = 20;

async fn sigkill_at_random_moments_then_a_complete_pass(backend: Backend) {
    let shop = Shop::on(
        backend,
        "CREATE TABLE events (id INTEGER PRIMARY KEY, at VARCHAR(40) NOT NULL, payload VARCHAR(40));
         CREATE INDEX events_at ON events (at);
         CREATE TABLE visits (id INTEGER PRIMARY KEY, at BIGINT NOT NULL, ip VARCHAR(40), anonymized_at VARCHAR(40));
         CREATE INDEX visits_at ON visits (at);",
    )
    .await;
    // Distinct timestamps, as an application writes them: the moduli are coprime, so
    // (day, hour, minute, second) differs for every row up to 17 * 13 * 49 * 47.
    shop.exec(&format!(
        "INSERT INTO events (id, at, payload)
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {total})
         SELECT i, CASE WHEN i <= {EXPIRED} THEN '2015' ELSE '2099' END || '-06-' || (10 + i % 17) || 'T' || (10 + i % 13)
                   || ':' || (10 + i % 49) || ':' || (10 + i % 47) || 'Z', 'payload-' || i FROM n;
         INSERT INTO visits (id, at, ip)
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {total})
         SELECT i, CASE WHEN i <= {EXPIRED} THEN 1433116800 ELSE 4084041600 END + i, '198.51.100.' || (i % 250 + 1) FROM n;",
        total = EXPIRED + YOUNG
    ))
    .await;
    shop.write_config(
        "[limits]\nmax_table_fraction = 1.0\n\n\
         [[policy]]\nname = \"events\"\ntable = \"events\"\ntimestamp = \"at\"\nkeep = \"5 years\"\naction = \"delete\"\n\n\
         [[policy]]\nname = \"visits\"\ntable = \"visits\"\ntimestamp = \"at\"\nkeep = \"5 years\"\naction = \"anonymize\"\nmarker = \"anonymized_at\"\n\
         [policy.anonymize]\nip = \"truncate_ip\"\n",
    );
    let young_before = shop
        .rows("SELECT id, at, payload FROM events WHERE id > 160000 ORDER BY id")
        .await;

    let mut rng = crate::support::seeded_rng("crash test");
    // Twenty moments spread over the purge: a share of the work done (rows deleted
    // plus rows anonymised), drawn at random and sorted. A moment of 0 kills the
    // process at a random time before its first batch commits.
    let mut moments: Vec<f64> = (0..KILLS).map(|_| rng.random_range(0.0..0.9)).collect();
    moments[0] = 0.0;
    moments.sort_by(f64::total_cmp);
    let mut kills = 0;
    let mut killed_at = Vec::new();
    let log_path = shop.path("purge.log");
    for moment in moments {
        let log = std::fs::File::create(&log_path).unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_retentiond"))
            .arg("-c")
            .arg(&shop.config_path)
            .args(["purge", "--force"])
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn retentiond");
        let started = Instant::now();
        let start_up = Duration::from_millis(rng.random_range(5..300));
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                // A run the kill did not reach must have finished, not failed:
                // a failure here is what an earlier kill left behind.
                assert!(
                    status.success(),
                    "a purge after {kills} kills failed on its own: {}",
                    std::fs::read_to_string(&log_path).unwrap()
                );
                break;
            }
            let due = if moment == 0.0 {
                started.elapsed() >= start_up
            } else {
                work_done(&shop).await >= moment
            };
            if due {
                child.kill().expect("SIGKILL");
                kills += 1;
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        child.wait().unwrap();
        killed_at.push(format!("{:.0}%", work_done(&shop).await * 100.0));
        check_invariants(&shop, &young_before).await;
    }
    eprintln!("{backend:?}: {kills} kills, with the work done at {killed_at:?}");
    assert!(
        kills >= KILLS - 2,
        "only {kills} of {KILLS} runs were still going when their moment came"
    );

    let out = run_cli(&shop.config_path, shop.dir.path(), &["purge"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    check_invariants(&shop, &young_before).await;
    assert_eq!(
        shop.int("SELECT count(*) FROM events WHERE id <= 160000")
            .await,
        0,
        "every expired row is gone"
    );
    assert_eq!(
        shop.int("SELECT count(*) FROM visits WHERE id <= 160000 AND anonymized_at IS NULL")
            .await,
        0
    );
    // Passes cut off by a kill are marked abandoned, not left running.
    assert_eq!(
        shop.int("SELECT count(*) FROM retention_runs WHERE status = 'running'")
            .await,
        0
    );
    assert_eq!(
        run_cli(&shop.config_path, shop.dir.path(), &["audit", "verify"])
            .status
            .code(),
        Some(0)
    );
}

/// The share of the purge done: rows deleted and rows anonymised, of all expired.
async fn work_done(shop: &Shop) -> f64 {
    if !shop.has_own_tables().await {
        return 0.0;
    }
    let deleted = EXPIRED + YOUNG - shop.int("SELECT count(*) FROM events").await;
    let anonymised = shop
        .int("SELECT count(*) FROM visits WHERE anonymized_at IS NOT NULL")
        .await;
    (deleted + anonymised) as f64 / (2 * EXPIRED) as f64
}

async fn check_invariants(shop: &Shop, young_before: &[Vec<String>]) {
    if !shop.has_own_tables().await {
        return; // killed before the first migration committed
    }
    let gone = EXPIRED + YOUNG - shop.int("SELECT count(*) FROM events").await;
    let counted: i64 = shop
        .ints("SELECT \"rows\" FROM retention_events WHERE policy = 'events'")
        .await
        .iter()
        .sum();
    assert_eq!(gone, counted, "rows gone == rows the audit trail counts");
    let anonymised = shop
        .int("SELECT count(*) FROM visits WHERE anonymized_at IS NOT NULL")
        .await;
    let counted: i64 = shop
        .ints("SELECT \"rows\" FROM retention_events WHERE policy = 'visits'")
        .await
        .iter()
        .sum();
    assert_eq!(
        anonymised, counted,
        "rows anonymised == rows the audit trail counts"
    );
    // A row is anonymised completely or not at all.
    assert_eq!(
        shop.int(
            "SELECT count(*) FROM visits WHERE (anonymized_at IS NULL) <> (ip NOT LIKE '%.0')"
        )
        .await,
        0
    );
    assert_eq!(
        &shop
            .rows("SELECT id, at, payload FROM events WHERE id > 160000 ORDER BY id")
            .await,
        young_before
    );
    assert_eq!(shop.int("SELECT count(*) FROM visits WHERE id > 160000 AND (anonymized_at IS NOT NULL OR ip LIKE '%.0')").await, 0);
}
