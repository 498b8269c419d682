//! A fresh shop database per test, in its own temporary directory.

use std::path::{Path, PathBuf};
use std::process::Output;

use chrono::{DateTime, TimeZone, Utc};
use retentiond::config::{self, Config};
use retentiond::db::{Access, Db};
use retentiond::engine::{self, Clock, PassOptions, PassReport, Trigger};
use sqlx::AnyConnection;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Row};
use tempfile::TempDir;

use crate::servers;

/// The instant every fixed-clock test runs at: a 29 February, so that one year
/// back lands on 28 February and 26 months back on 29 December.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2028, 2, 29, 12, 0, 0).unwrap()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MariaDb,
}

pub struct Shop {
    pub backend: Backend,
    pub dir: TempDir,
    /// The SQLite file (on other backends, a path that is never created).
    pub db_path: PathBuf,
    pub config_path: PathBuf,
    /// The URL the tests' own connections use.
    pub url: String,
    /// The URL written into retention.toml.
    config_url: String,
}

fn install_drivers() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(sqlx::any::install_default_drivers);
}

impl Shop {
    /// A new SQLite database holding `schema`.
    pub async fn new(schema: &str) -> Shop {
        Shop::on(Backend::Sqlite, schema).await
    }

    /// A new, empty database on `backend`, holding `schema` (portable DDL).
    pub async fn on(backend: Backend, schema: &str) -> Shop {
        install_drivers();
        let dir = tempfile::tempdir().expect("temp dir");
        let db_path = dir.path().join("shop.db");
        let config_path = dir.path().join("retention.toml");
        let (url, config_url) = match backend {
            Backend::Sqlite => {
                let c = SqliteConnectOptions::new()
                    .filename(&db_path)
                    .create_if_missing(true)
                    .connect()
                    .await
                    .expect("create test database");
                c.close().await.unwrap();
                (
                    format!("sqlite://{}", db_path.display()),
                    "sqlite://shop.db".to_string(),
                )
            }
            Backend::Postgres => {
                let url = servers::new_postgres_database(servers::postgres().port).await;
                (url.clone(), url)
            }
            Backend::MariaDb => {
                let url = servers::new_mariadb_database().await;
                (url.clone(), url)
            }
        };
        let shop = Shop {
            backend,
            dir,
            db_path,
            config_path,
            url,
            config_url,
        };
        if !schema.trim().is_empty() {
            shop.exec(schema).await;
        }
        shop
    }

    /// A new database on a PostgreSQL server of the test's own (see
    /// `servers::dedicated_postgres`), holding `schema`.
    pub async fn on_postgres_at(port: u16, schema: &str) -> Shop {
        install_drivers();
        let url = servers::new_postgres_database(port).await;
        Shop::at(Backend::Postgres, url, schema).await
    }

    /// A new database on a MariaDB server of the test's own, holding `schema`.
    #[allow(dead_code)]
    pub async fn on_mariadb_at(port: u16, schema: &str) -> Shop {
        install_drivers();
        let url = servers::new_mariadb_database_at(port).await;
        Shop::at(Backend::MariaDb, url, schema).await
    }

    async fn at(backend: Backend, url: String, schema: &str) -> Shop {
        let dir = tempfile::tempdir().expect("temp dir");
        let shop = Shop {
            backend,
            db_path: dir.path().join("shop.db"),
            config_path: dir.path().join("retention.toml"),
            dir,
            url: url.clone(),
            config_url: url,
        };
        shop.exec(schema).await;
        shop
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes retention.toml: a [database] section for this shop, then `rest`.
    pub fn write_config(&self, rest: &str) {
        std::fs::write(
            &self.config_path,
            format!("[database]\nurl = \"{}\"\n\n{rest}", self.config_url),
        )
        .expect("write config");
    }

    pub fn config(&self, rest: &str) -> Config {
        self.write_config(rest);
        config::load(&self.config_path).unwrap_or_else(|e| panic!("config: {e}"))
    }

    /// The tests' own connection. On MariaDB it quotes like the others (`"col"`) and
    /// concatenates with `||`.
    pub async fn conn(&self) -> AnyConnection {
        install_drivers();
        let mut c = AnyConnection::connect(&self.url)
            .await
            .expect("open test database");
        if self.backend == Backend::MariaDb {
            sqlx::query(
                "SET SESSION sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES,PIPES_AS_CONCAT')",
            )
            .execute(&mut c)
            .await
            .unwrap();
            // Tests generate rows with recursive CTEs; MariaDB stops those at 1000 rows.
            sqlx::query("SET SESSION max_recursive_iterations = 10000000")
                .execute(&mut c)
                .await
                .unwrap();
        }
        c
    }

    pub async fn exec(&self, sql: &str) {
        let mut c = self.conn().await;
        sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
            .execute(&mut c)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        c.close().await.unwrap();
    }

    /// The first column of the first row, as a whole number (NULL as 0).
    pub async fn int(&self, sql: &str) -> i64 {
        self.ints(sql).await.first().copied().unwrap_or(0)
    }

    /// The first column of every row, as whole numbers: sum them in Rust, since SQL
    /// sums come back as a different numeric type on every backend.
    pub async fn ints(&self, sql: &str) -> Vec<i64> {
        self.rows(sql)
            .await
            .iter()
            .map(|r| r[0].parse::<f64>().map(|x| x as i64).unwrap_or(0))
            .collect()
    }

    /// Each row of `sql`, its columns rendered as text (NULL as "NULL").
    pub async fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        let mut c = self.conn().await;
        let rows = sqlx::query(AssertSqlSafe(sql.to_string()))
            .fetch_all(&mut c)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let out = rows
            .iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| {
                        if let Ok(v) = r.try_get::<Option<String>, _>(i) {
                            return v.unwrap_or_else(|| "NULL".into());
                        }
                        if let Ok(v) = r.try_get::<Option<i64>, _>(i) {
                            return v.map(|n| n.to_string()).unwrap_or_else(|| "NULL".into());
                        }
                        if let Ok(v) = r.try_get::<Option<i32>, _>(i) {
                            return v.map(|n| n.to_string()).unwrap_or_else(|| "NULL".into());
                        }
                        if let Ok(v) = r.try_get::<Option<f64>, _>(i) {
                            return v.map(|n| n.to_string()).unwrap_or_else(|| "NULL".into());
                        }
                        if let Ok(v) = r.try_get::<Option<bool>, _>(i) {
                            return v
                                .map(|b| i64::from(b).to_string())
                                .unwrap_or_else(|| "NULL".into());
                        }
                        panic!(
                            "{sql}: column {i} has a type the tests cannot read; cast it to text"
                        )
                    })
                    .collect()
            })
            .collect();
        c.close().await.unwrap();
        out
    }

    /// Every row of `tables`, in key order, as text: to prove a command changed nothing.
    pub async fn dump(&self, tables: &[&str]) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        for t in tables {
            out.extend(self.rows(&format!("SELECT * FROM {t} ORDER BY 1")).await);
        }
        out
    }

    /// Rows of a SQLite file that is not a `Shop` (the demo's), as text.
    pub async fn sqlite_rows(path: &std::path::Path, sql: &str) -> Vec<Vec<String>> {
        let shop = Shop {
            backend: Backend::Sqlite,
            dir: tempfile::tempdir().unwrap(),
            db_path: path.to_path_buf(),
            config_path: path.to_path_buf(),
            url: format!("sqlite://{}", path.display()),
            config_url: String::new(),
        };
        shop.rows(sql).await
    }

    /// Whether retentiond's own tables exist yet.
    pub async fn has_own_tables(&self) -> bool {
        let sql = match self.backend {
            Backend::Sqlite => "SELECT count(*) FROM sqlite_master WHERE name = 'retention_events'",
            Backend::Postgres => {
                "SELECT count(*) FROM pg_tables WHERE tablename = 'retention_events'"
            }
            Backend::MariaDb => {
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = database() AND table_name = 'retention_events'"
            }
        };
        self.int(sql).await > 0
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
        let report = engine::run_pass(&mut db, config, &opts)
            .await
            .expect("pass");
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

/// Runs one test function on every backend: `on_every_backend!(name);` makes
/// `name::sqlite`, `name::postgres` and `name::mariadb`.
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                use crate::support::Backend;

                #[tokio::test]
                async fn sqlite() {
                    super::$name(Backend::Sqlite).await
                }

                #[tokio::test]
                async fn postgres() {
                    super::$name(Backend::Postgres).await
                }

                #[tokio::test]
                async fn mariadb() {
                    super::$name(Backend::MariaDb).await
                }
            }
        )*
    };
}

/// Writes a secret (an HMAC key, a database URL) readable by its owner only, as
/// retentiond requires of `key_file` and `url_file`.
pub fn write_key(path: &Path, bytes: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, bytes).expect("write the secret");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .expect("make the secret private");
}

/// A random generator for a test that draws its moments, seeded from
/// `$RETENTIOND_TEST_SEED` or the clock, its seed printed so a failure replays.
pub fn seeded_rng(what: &str) -> rand::rngs::StdRng {
    use rand::SeedableRng;
    let seed: u64 = std::env::var("RETENTIOND_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("{what} seed {seed} (set RETENTIOND_TEST_SEED to replay)");
    rand::rngs::StdRng::seed_from_u64(seed)
}

/// The audit events' run ids in event order form one block per run: no run wrote
/// while another did, and none wrote again after another had begun.
#[allow(dead_code)]
pub fn assert_runs_in_blocks(runs: &[i64]) {
    let mut ended = std::collections::BTreeSet::new();
    for w in runs.windows(2) {
        if w[0] != w[1] {
            assert!(
                ended.insert(w[0]),
                "run {} wrote again after run {}",
                w[0],
                w[1]
            );
            assert!(!ended.contains(&w[1]), "run {} came back", w[1]);
        }
    }
}
