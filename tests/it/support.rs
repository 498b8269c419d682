//! A fresh shop database per test, in its own temporary directory.

use std::path::{Path, PathBuf};
use std::process::Output;

use chrono::{DateTime, TimeZone, Utc};
use retentiond::config::{self, Config};
use retentiond::db::{Access, Db};
use retentiond::purge::{self, Clock, PassOptions, PassReport, Trigger};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Row, SqliteConnection};
use tempfile::TempDir;

/// The instant every fixed-clock test runs at: a 29 February, so that one year
/// back lands on 28 February and 26 months back on 29 December.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2028, 2, 29, 12, 0, 0).unwrap()
}

pub struct Shop {
    pub dir: TempDir,
    pub db_path: PathBuf,
    pub config_path: PathBuf,
}

impl Shop {
    /// A new SQLite database holding `schema`.
    pub async fn new(schema: &str) -> Shop {
        let dir = tempfile::tempdir().expect("temp dir");
        let db_path = dir.path().join("shop.db");
        let mut conn = SqliteConnectOptions::new()
            .filename(&db_path)
            .create_if_missing(true)
            .connect()
            .await
            .expect("create test database");
        sqlx::raw_sql(AssertSqlSafe(schema.to_string()))
            .execute(&mut conn)
            .await
            .expect("schema");
        conn.close().await.unwrap();
        let config_path = dir.path().join("retention.toml");
        Shop {
            dir,
            db_path,
            config_path,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes retention.toml: a [database] section for this shop, then `rest`.
    pub fn write_config(&self, rest: &str) {
        std::fs::write(
            &self.config_path,
            format!("[database]\nurl = \"sqlite://shop.db\"\n\n{rest}"),
        )
        .expect("write config");
    }

    pub fn config(&self, rest: &str) -> Config {
        self.write_config(rest);
        config::load(&self.config_path).unwrap_or_else(|e| panic!("config: {e}"))
    }

    pub async fn conn(&self) -> SqliteConnection {
        SqliteConnectOptions::new()
            .filename(&self.db_path)
            .connect()
            .await
            .expect("open test database")
    }

    pub async fn exec(&self, sql: &str) {
        let mut c = self.conn().await;
        sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
            .execute(&mut c)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        c.close().await.unwrap();
    }

    pub async fn int(&self, sql: &str) -> i64 {
        let mut c = self.conn().await;
        let row = sqlx::query(AssertSqlSafe(sql.to_string()))
            .fetch_one(&mut c)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let v: Option<i64> = row.get(0);
        c.close().await.unwrap();
        v.unwrap_or(0)
    }

    /// Each row of `sql`, its columns rendered as text (NULL as "NULL").
    pub async fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        let mut c = self.conn().await;
        let q = format!("SELECT * FROM ({sql})");
        let rows = sqlx::query(AssertSqlSafe(q))
            .fetch_all(&mut c)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let out = rows
            .iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| {
                        if let Ok(Some(s)) = r.try_get_unchecked::<Option<String>, _>(i) {
                            return s;
                        }
                        match r.try_get_unchecked::<Option<i64>, _>(i) {
                            Ok(Some(n)) => n.to_string(),
                            _ => "NULL".to_string(),
                        }
                    })
                    .collect()
            })
            .collect();
        c.close().await.unwrap();
        out
    }

    pub async fn db(&self, config: &Config) -> Db {
        Db::open(&config.database, Access::ReadWrite)
            .await
            .expect("open through retentiond")
    }

    /// One pass at a fixed database time.
    pub async fn pass_at(&self, config: &Config, at: DateTime<Utc>) -> PassReport {
        self.pass_with(config, at, |_| {}).await
    }

    pub async fn pass_with(
        &self,
        config: &Config,
        at: DateTime<Utc>,
        tweak: impl FnOnce(&mut PassOptions),
    ) -> PassReport {
        let mut db = self.db(config).await;
        let mut opts = PassOptions::new(Trigger::Manual);
        opts.clock = Clock::Fixed(at);
        tweak(&mut opts);
        let report = purge::run_pass(&mut db, config, &opts).await.expect("pass");
        db.close().await.unwrap();
        report
    }

    /// Runs the binary with this shop's config.
    pub fn cli(&self, args: &[&str]) -> Output {
        run_cli(&self.config_path, self.dir.path(), args)
    }
}

pub fn run_cli(config: &Path, cwd: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_retentiond"))
        .arg("-c")
        .arg(config)
        .args(args)
        .current_dir(cwd)
        .env_remove("RETENTIOND_DATABASE_URL")
        .env_remove("RETENTIOND_CONFIG")
        .env("NO_COLOR", "1")
        .output()
        .expect("run retentiond")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// SHA-256 of a file's bytes, to prove a command wrote nothing.
pub fn file_digest(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(std::fs::read(path).expect("read file")))
}

impl Shop {
    /// The config last written, loaded again.
    pub fn config_loaded(&self) -> Config {
        config::load(&self.config_path).expect("config")
    }
}
