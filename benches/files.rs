//! `cargo bench --bench files -- [--rows N]`: a purge of N expired rows on SQLite,
//! each pointing to a file, beside the same purge without `files` (the baseline):
//! rows per second, and files removed per second from a local directory and from
//! an S3-compatible server on loopback (s3s-fs, in this process).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

#[path = "../tests/it/s3.rs"]
#[allow(dead_code)]
mod s3;

use s3::S3;

fn rows_arg() -> i64 {
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        if a == "--rows" {
            return it.next().and_then(|n| n.parse().ok()).expect("--rows N");
        }
    }
    20_000
}

fn sqlite(db: &Path, sql: &str) {
    use sqlx::ConnectOptions;
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut c = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(db)
            .create_if_missing(true)
            .connect()
            .await
            .unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&mut c)
            .await
            .unwrap();
    });
}

/// A shop of `rows` expired documents in `dir`, each with its file under `files`.
fn shop(dir: &Path, rows: i64, files: &Path) {
    sqlite(
        &dir.join("shop.db"),
        &format!(
            "CREATE TABLE documents (id INTEGER PRIMARY KEY, verified_at TEXT NOT NULL, scan_key TEXT);
             CREATE INDEX documents_verified ON documents (verified_at);
             INSERT INTO documents WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})
             SELECT i, '2015-01-01T00:00:00Z', printf('kyc/%03d/%06d.pdf', i / 1000, i) FROM n;"
        ),
    );
    for d in 0..=rows / 1000 {
        std::fs::create_dir_all(files.join(format!("kyc/{d:03}"))).unwrap();
    }
    for i in 1..=rows {
        std::fs::write(
            files.join(format!("kyc/{:03}/{i:06}.pdf", i / 1000)),
            b"%PDF-1.4 scan",
        )
        .unwrap();
    }
}

/// `purge` with a store (its name and `[stores.NAME]` section, or none); seconds
/// taken.
fn purge(dir: &Path, store: Option<(&str, String)>) -> f64 {
    let (section, files) = match &store {
        Some((name, section)) => (
            section.clone(),
            format!("files = {{ scan_key = \"{name}\" }}\n"),
        ),
        None => (String::new(), String::new()),
    };
    std::fs::write(
        dir.join("retention.toml"),
        format!("[database]\nurl = \"sqlite://shop.db\"\n\n{section}\n[limits]\nmax_table_fraction = 1.0\n\n[[policy]]\nname = \"kyc\"\ntable = \"documents\"\ntimestamp = \"verified_at\"\nkeep = \"7 years\"\naction = \"delete\"\n{files}"),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_retentiond");
    let started = Instant::now();
    let out = Command::new(bin)
        .current_dir(dir)
        .args(["-c", "retention.toml", "purge"])
        .output()
        .unwrap();
    let took = started.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

fn main() {
    let rows = rows_arg();
    let line = |what: &str, secs: f64, files: bool| {
        let per = rows as f64 / secs;
        println!(
            "{what:<34} {secs:>7.2} s {per:>10.0} rows/s {:>12}",
            if files {
                format!("{per:.0} files/s")
            } else {
                "-".into()
            }
        );
    };
    println!("purge of {rows} expired rows on SQLite, each pointing to a file");

    let base = tempfile::tempdir().unwrap();
    shop(base.path(), rows, &base.path().join("uploads"));
    line(
        "baseline: rows only (no `files`)",
        purge(base.path(), None),
        false,
    );

    let local = tempfile::tempdir().unwrap();
    shop(local.path(), rows, &local.path().join("uploads"));
    let took = purge(
        local.path(),
        Some((
            "uploads",
            "[stores.uploads]\nurl = \"file://uploads\"\n".into(),
        )),
    );
    let left = std::fs::read_dir(local.path().join("uploads/kyc"))
        .unwrap()
        .map(|d| std::fs::read_dir(d.unwrap().path()).unwrap().count())
        .sum::<usize>();
    assert_eq!(left, 0, "every file removed");
    line("rows and files, local directory", took, true);

    let server = S3::start();
    let bucket = server.bucket("shop");
    let s3 = tempfile::tempdir().unwrap();
    shop(s3.path(), rows, &bucket);
    S3::write_credentials(&s3.path().join("s3.credentials"));
    let store = S3::store("bucket", server.port, "shop");
    let took = purge(s3.path(), Some(("bucket", store)));
    let left = std::fs::read_dir(bucket.join("kyc"))
        .unwrap()
        .map(|d| std::fs::read_dir(d.unwrap().path()).unwrap().count())
        .sum::<usize>();
    assert_eq!(left, 0, "every object removed");
    line("rows and objects, S3 on loopback", took, true);
}
