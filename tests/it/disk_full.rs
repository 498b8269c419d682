//! A disk that fills up during a SQLite pass: the batch rolls back, the error says
//! so, the audit trail stays consistent, and the next pass after space is freed
//! completes. Runs on a size-limited tmpfs, so it needs root (as CI has).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{run_cli, stderr};

struct Mount(PathBuf);

impl Mount {
    fn tmpfs(at: &Path, size: &str) -> Mount {
        std::fs::create_dir_all(at).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "mounting a size-limited tmpfs needs root: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Mount(at.to_path_buf())
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Writes zeros into `path` until the filesystem has about `leave` bytes free.
fn fill(path: &Path, leave: u64) {
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 4096];
    loop {
        let free = free_bytes(path.parent().unwrap());
        if free <= leave + 4096 || f.write_all(&chunk).is_err() {
            break;
        }
        let _ = f.flush();
    }
}

fn free_bytes(dir: &Path) -> u64 {
    let out = Command::new("df")
        .args(["-B1", "--output=avail"])
        .arg(dir)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0)
}

/// A SQLite shop on `mnt`: `total` notes of 400 bytes, the first `expired` of them
/// expired, a delete policy with `limits`, and retentiond's tables migrated.
/// Returns the database file and the config.
async fn notes_shop(
    dir: &Path,
    mnt: &Path,
    total: u32,
    expired: u32,
    limits: &str,
) -> (PathBuf, PathBuf) {
    let db = mnt.join("shop.db");
    let shop_url = format!("sqlite://{}?mode=rwc", db.display());
    sqlx::any::install_default_drivers();
    let mut c = <sqlx::AnyConnection as sqlx::Connection>::connect(&shop_url)
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, at TEXT NOT NULL, body TEXT);
         CREATE INDEX notes_at ON notes (at);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {total})
         INSERT INTO notes SELECT i, CASE WHEN i <= {expired} THEN '2010-01-01' ELSE '2099-01-01' END, printf('%.400c', 'x') FROM n;"
    )))
    .execute(&mut c)
    .await
    .unwrap();
    sqlx::Connection::close(c).await.unwrap();
    let config = dir.join("retention.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = \"sqlite://{}\"\n\n[limits]\n{limits}max_table_fraction = 1.0\n\n\
             [[policy]]\nname = \"notes\"\ntable = \"notes\"\ntimestamp = \"at\"\nkeep = \"1 year\"\naction = \"delete\"\n",
            db.display()
        ),
    )
    .unwrap();
    assert_eq!(run_cli(&config, dir, &["migrate"]).status.code(), Some(0));
    (db, config)
}

#[tokio::test]
async fn a_full_disk_rolls_back_and_the_next_pass_completes() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("mnt");
    let _mount = Mount::tmpfs(&mnt, "4m");
    let (db, config) = notes_shop(dir.path(), &mnt, 2000, 1500, "batch_size = 500\n").await;
    let filler = mnt.join("filler");
    fill(&filler, 64 * 1024);

    let out = run_cli(&config, dir.path(), &["purge", "--format", "json"]);
    let logs = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{logs}");
    // The pass began (its run is recorded); a batch hit the full disk and rolled back.
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {logs}"));
    assert_eq!(json["policies"][0]["status"], "failed", "{json}");
    let error = json["policies"][0]["error"].as_str().unwrap();
    assert!(
        error.contains("table `notes`") && error.contains("database or disk is full"),
        "a clear error: {error}"
    );
    let count = |sql: &'static str| {
        let db = db.clone();
        async move {
            crate::support::Shop::sqlite_rows(&db, sql).await[0][0]
                .parse::<i64>()
                .unwrap()
        }
    };
    let gone = 2000 - count("SELECT count(*) FROM notes").await;
    let counted = count("SELECT coalesce(sum(\"rows\"), 0) FROM retention_events").await;
    assert_eq!(gone, counted, "the audit trail agrees with the rows gone");

    std::fs::remove_file(&filler).unwrap();
    let out = run_cli(&config, dir.path(), &["purge"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(count("SELECT count(*) FROM notes").await, 500);
    assert_eq!(
        count("SELECT coalesce(sum(\"rows\"), 0) FROM retention_events").await,
        1500
    );
    assert_eq!(
        run_cli(&config, dir.path(), &["audit", "verify"])
            .status
            .code(),
        Some(0)
    );
}

/// A filesystem with less room than a rebuild needs (about the database's size):
/// the pass purges and skips the VACUUM with a warning, instead of filling the disk
/// with a WAL that would stop the next batches.
#[tokio::test]
async fn a_vacuum_that_would_fill_the_disk_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("mnt");
    let _mount = Mount::tmpfs(&mnt, "8m");
    let (db, config) = notes_shop(dir.path(), &mnt, 4000, 200, "").await;
    let size = std::fs::metadata(&db).unwrap().len();
    // Room for the batches, not for a second copy of the file.
    fill(&mnt.join("filler"), size * 7 / 10);

    let out = run_cli(&config, dir.path(), &["purge", "--format", "json"]);
    let logs = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{logs}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["policies"][0]["rows"], 200, "{json}");
    assert!(logs.contains("VACUUM skipped"), "{logs}");
    assert!(!logs.contains("VACUUM failed"), "{logs}");
    let left = crate::support::Shop::sqlite_rows(&db, "SELECT count(*) FROM notes").await;
    assert_eq!(left[0][0], "3800");
}
