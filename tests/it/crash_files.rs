//! `kill -9` in the middle of passes that delete rows with files: after each
//! kill no file of a remaining row is gone and the rows gone equal the rows the
//! audit trail counts; once a pass runs to its end, every purged row's file is
//! gone, counted once as removed (or already gone, when the kill came between
//! the removal and its record), and the outbox is empty.

use std::path::Path;
use std::time::{Duration, Instant};

use rand::RngExt;

use crate::support::{Backend, Shop, run_cli, stderr};

const EXPIRED: i64 = 24_000;
const YOUNG: i64 = 6_000;
const KILLS: usize = 6;

fn file_of(id: i64) -> String {
    format!("scans/{:03}/{id:06}.pdf", id / 1000)
}

on_every_backend!(sigkill_while_files_are_removed);

async fn sigkill_while_files_are_removed(backend: Backend) {
    let shop = Shop::on(
        backend,
        "CREATE TABLE documents (id INTEGER PRIMARY KEY, verified_at VARCHAR(30) NOT NULL, scan_path VARCHAR(100));
         CREATE INDEX documents_verified ON documents (verified_at);",
    )
    .await;
    let uploads = shop.path("uploads");
    let total = EXPIRED + YOUNG;
    for dir in 0..=total / 1000 {
        std::fs::create_dir_all(uploads.join(format!("scans/{dir:03}"))).unwrap();
    }
    for id in 1..=total {
        std::fs::write(uploads.join(file_of(id)), b"scan").unwrap();
    }
    let ids: Vec<i64> = (1..=total).collect();
    for chunk in ids.chunks(2000) {
        let values: Vec<String> = chunk
            .iter()
            .map(|&i| {
                let year = if i <= EXPIRED { 2015 } else { 2099 };
                format!(
                    "({i}, '{year}-06-10T10:{:02}:{:02}Z', '{}')",
                    10 + i % 49,
                    10 + i % 47,
                    file_of(i)
                )
            })
            .collect();
        shop.exec(&format!(
            "INSERT INTO documents (id, verified_at, scan_path) VALUES {}",
            values.join(", ")
        ))
        .await;
    }
    shop.write_config(
        "[stores.uploads]\nurl = \"file://uploads\"\n\n[limits]\nbatch_size = 400\nmax_table_fraction = 1.0\n\n\
         [[policy]]\nname = \"kyc\"\ntable = \"documents\"\ntimestamp = \"verified_at\"\nkeep = \"7 years\"\naction = \"delete\"\nfiles = { scan_path = \"uploads\" }\n",
    );

    let mut rng = crate::support::seeded_rng("crash test");
    let mut moments: Vec<f64> = (0..KILLS).map(|_| rng.random_range(0.05..0.9)).collect();
    moments.sort_by(f64::total_cmp);
    let mut kills = 0;
    for moment in moments {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_retentiond"))
            .arg("-c")
            .arg(&shop.config_path)
            .arg("purge")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn retentiond");
        let started = Instant::now();
        loop {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            if gone(&shop).await as f64 >= moment * EXPIRED as f64
                || started.elapsed() > Duration::from_secs(120)
            {
                child.kill().expect("SIGKILL");
                kills += 1;
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        child.wait().unwrap();
        check_invariants(&shop, &uploads).await;
    }
    eprintln!("{backend:?}: {kills} kills");
    assert!(
        kills >= KILLS - 2,
        "only {kills} runs were killed in flight"
    );

    let out = run_cli(&shop.config_path, shop.dir.path(), &["purge"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    check_invariants(&shop, &uploads).await;
    assert_eq!(gone(&shop).await, EXPIRED);
    assert_eq!(
        shop.int("SELECT count(*) FROM retention_file_outbox").await,
        0
    );
    let left = files_in(&uploads);
    assert_eq!(left as i64, YOUNG, "the files left are the young rows'");
    let children = shop
        .rows("SELECT children FROM retention_events WHERE action = 'files_removed'")
        .await;
    let counted = |outcome: &str| -> i64 {
        children
            .iter()
            .map(|r| {
                let v: serde_json::Value = serde_json::from_str(&r[0]).unwrap();
                v[outcome].as_i64().unwrap_or(0)
            })
            .sum()
    };
    let (removed, already) = (counted("removed"), counted("already_gone"));
    eprintln!("{backend:?}: {removed} removed, {already} already gone after a kill");
    assert_eq!(
        removed + already,
        EXPIRED,
        "each purged row's file counted once"
    );
    assert!(already <= KILLS as i64 * 400, "at most a batch per kill");
    assert_eq!(
        run_cli(&shop.config_path, shop.dir.path(), &["audit", "verify"])
            .status
            .code(),
        Some(0)
    );
}

async fn gone(shop: &Shop) -> i64 {
    if !shop.has_own_tables().await {
        return 0;
    }
    EXPIRED + YOUNG - shop.int("SELECT count(*) FROM documents").await
}

fn files_in(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("scans"))
        .unwrap()
        .map(|e| std::fs::read_dir(e.unwrap().path()).unwrap().count())
        .sum()
}

async fn check_invariants(shop: &Shop, uploads: &Path) {
    if !shop.has_own_tables().await {
        return;
    }
    let counted: i64 = shop
        .ints("SELECT \"rows\" FROM retention_events WHERE policy = 'kyc' AND action = 'delete'")
        .await
        .iter()
        .sum();
    assert_eq!(
        gone(shop).await,
        counted,
        "rows gone == rows the audit trail counts"
    );
    // A file is never removed while its row stays.
    let rows = shop.ints("SELECT id FROM documents").await;
    let missing: Vec<i64> = rows
        .iter()
        .copied()
        .filter(|id| !uploads.join(file_of(*id)).exists())
        .collect();
    assert!(
        missing.is_empty(),
        "rows whose file is gone: {:?}",
        &missing[..missing.len().min(10)]
    );
}
