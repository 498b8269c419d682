//! The benchmark's databases: one fresh database (a file on SQLite) per measured
//! side, so that neither side pays for the other's tables (SQLite's VACUUM rebuilds
//! the whole file), copied from one generated template per backend, and servers
//! set as a shop's would be.

use sqlx::{AnyConnection, AssertSqlSafe, Connection, Row};

use crate::servers;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
    MariaDb,
}

impl Backend {
    pub const ALL: [Backend; 3] = [Backend::Sqlite, Backend::Postgres, Backend::MariaDb];

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::MariaDb => "mariadb",
        }
    }
}

/// One database, dropped (or its file removed) with [`Db::drop_database`].
pub struct Db {
    pub backend: Backend,
    pub url: String,
    /// The database's name on a server; on SQLite, its file is in `dir`.
    pub name: String,
    pub dir: tempfile::TempDir,
}

/// Whether the timestamps follow the primary key (rows appended as they come) or
/// not (rows written back to, keys assigned elsewhere).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Layout {
    Correlated,
    Random,
}

impl Layout {
    pub const ALL: [Layout; 2] = [Layout::Correlated, Layout::Random];

    pub fn name(self) -> &'static str {
        match self {
            Layout::Correlated => "correlated",
            Layout::Random => "random",
        }
    }
}

/// The table every measured database holds.
pub const TABLE: &str = "t";

impl Db {
    /// A new, empty database.
    pub async fn new(backend: Backend) -> Db {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let url = match backend {
            Backend::Sqlite => format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("bench.db").display()
            ),
            Backend::Postgres => servers::new_postgres_database(servers::postgres().port).await,
            Backend::MariaDb => servers::new_mariadb_database().await,
        };
        let name = url.rsplit('/').next().unwrap_or_default().to_string();
        let db = Db {
            backend,
            url,
            name,
            dir,
        };
        if backend == Backend::Sqlite {
            db.exec("PRAGMA journal_mode = WAL").await;
        }
        db
    }

    /// A new database holding a copy of `template`'s table: a file copy on SQLite,
    /// `CREATE DATABASE ... TEMPLATE` on PostgreSQL, `INSERT ... SELECT` on MariaDB.
    pub async fn copy_of(template: &Db) -> Db {
        match template.backend {
            Backend::Sqlite => {
                template.exec("PRAGMA wal_checkpoint(TRUNCATE)").await;
                let dir = tempfile::tempdir().unwrap();
                let file = dir.path().join("bench.db");
                std::fs::copy(template.dir.path().join("bench.db"), &file).unwrap();
                Db {
                    backend: Backend::Sqlite,
                    url: format!("sqlite://{}?mode=rwc", file.display()),
                    name: "bench".into(),
                    dir,
                }
            }
            Backend::Postgres => {
                let name = servers::database_name();
                template
                    .admin(&format!(
                        "CREATE DATABASE {name} TEMPLATE {}",
                        template.name
                    ))
                    .await;
                let url = format!(
                    "postgres://postgres@127.0.0.1:{}/{name}",
                    servers::postgres().port
                );
                Db {
                    backend: Backend::Postgres,
                    url,
                    name,
                    dir: tempfile::tempdir().unwrap(),
                }
            }
            Backend::MariaDb => {
                let db = Db::new(Backend::MariaDb).await;
                db.exec(&format!(
                    "CREATE TABLE {TABLE} LIKE {src}.{TABLE}; INSERT INTO {TABLE} SELECT * FROM {src}.{TABLE}; ANALYZE TABLE {TABLE}",
                    src = template.name
                ))
                .await;
                db
            }
        }
    }

    /// Removes the database, to keep the disk from filling across a 10M-row run.
    pub async fn drop_database(self) {
        if self.backend != Backend::Sqlite {
            self.admin(&format!("DROP DATABASE {}", self.name)).await;
        }
    }

    /// A statement on the server's administrative database.
    async fn admin(&self, sql: &str) {
        let admin = match self.backend {
            Backend::Sqlite => return,
            Backend::Postgres => format!(
                "postgres://postgres@127.0.0.1:{}/postgres",
                servers::postgres().port
            ),
            Backend::MariaDb => format!("mysql://root@127.0.0.1:{}/mysql", servers::mariadb().port),
        };
        let mut c = AnyConnection::connect(&admin).await.unwrap();
        sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
            .execute(&mut c)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        c.close().await.unwrap();
    }

    pub async fn conn(&self) -> AnyConnection {
        connect(self.backend, &self.url).await
    }

    pub async fn exec(&self, sql: &str) {
        let mut c = self.conn().await;
        sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
            .execute(&mut c)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        c.close().await.unwrap();
    }

    pub async fn version(&self) -> String {
        let mut c = self.conn().await;
        let sql = match self.backend {
            Backend::Sqlite => "SELECT 'SQLite ' || sqlite_version()",
            Backend::Postgres => "SELECT version()",
            Backend::MariaDb => "SELECT CONCAT('MariaDB ', version())",
        };
        let v: String = sqlx::query(sql).fetch_one(&mut c).await.unwrap().get(0);
        // "10.11.14-MariaDB-0+deb12u2": the version, without the build.
        let v = v.split("-MariaDB").next().unwrap_or(&v).to_string();
        let v = v.split(" on ").next().unwrap_or(&v);
        v.split(" (").next().unwrap_or(v).to_string()
    }

    /// Table [`TABLE`]: `rows` rows, `expired` of them expired: one every 30
    /// seconds from 2010 (before the bulk statement's 2020 cutoff), the rest one
    /// every 30 seconds from 2099. Timestamps are distinct, as an application writes
    /// them; PostgreSQL stores them as `timestamptz`, MariaDB as `DATETIME` (UTC),
    /// SQLite as ISO text. No marker column: anonymisation goes by the values.
    /// `Layout::Random`: the n-th timestamp goes to key `n * 1,000,003 mod rows`, so
    /// expired rows are spread over the whole table and its primary key.
    pub async fn table(&self, rows: u64, expired: u64, layout: Layout) {
        const Y2010: i64 = 1_262_304_000;
        const Y2099: i64 = 4_070_908_800;
        // The timestamp's rank among all: the key itself, or a permutation of it
        // (1,000,003 is prime, so coprime with any row count it does not divide).
        let r = match layout {
            Layout::Correlated => "i".to_string(),
            Layout::Random => {
                assert!(
                    !rows.is_multiple_of(1_000_003),
                    "rows must not be a multiple of 1,000,003"
                );
                let i = if self.backend == Backend::Postgres {
                    "i::bigint"
                } else {
                    "i"
                };
                format!("(({i} * 1000003) % {rows} + 1)")
            }
        };
        let (ts_type, series, ts, ip, payload) = match self.backend {
            Backend::Sqlite => (
                "VARCHAR(40)",
                format!(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) SELECT i FROM n"
                ),
                format!(
                    "strftime('%Y-%m-%d %H:%M:%S', CASE WHEN {r} <= {expired} THEN {Y2010} ELSE {Y2099} END + {r} * 30, 'unixepoch')"
                ),
                "'198.51.100.' || (i % 250 + 1)",
                "'payload of row ' || i",
            ),
            Backend::Postgres => (
                "TIMESTAMPTZ",
                format!("SELECT i FROM generate_series(1, {rows}) AS i"),
                format!(
                    "to_timestamp(CASE WHEN {r} <= {expired} THEN {Y2010} ELSE {Y2099} END + {r} * 30)"
                ),
                "'198.51.100.' || (i % 250 + 1)",
                "'payload of row ' || i",
            ),
            // MariaDB's sequence engine: a virtual table of 1..N, no recursion limit.
            Backend::MariaDb => (
                "DATETIME",
                format!("SELECT seq AS i FROM seq_1_to_{rows}"),
                format!(
                    "TIMESTAMP'1970-01-01 00:00:00' + INTERVAL (CASE WHEN {r} <= {expired} THEN {Y2010} ELSE {Y2099} END + {r} * 30) SECOND"
                ),
                "CONCAT('198.51.100.', i % 250 + 1)",
                "CONCAT('payload of row ', i)",
            ),
        };
        self.exec(&format!(
            "CREATE TABLE {TABLE} (id BIGINT PRIMARY KEY, at {ts_type} NOT NULL, ip VARCHAR(40), payload VARCHAR(80));
             INSERT INTO {TABLE} (id, at, ip, payload)
               SELECT i, {ts}, {ip}, {payload} FROM ({series}) AS s;
             CREATE INDEX {TABLE}_at ON {TABLE} (at);"
        ))
        .await;
        match self.backend {
            Backend::Postgres => self.exec(&format!("VACUUM ANALYZE {TABLE}")).await,
            Backend::MariaDb => self.exec(&format!("ANALYZE TABLE {TABLE}")).await,
            Backend::Sqlite => {}
        }
    }

    /// A table partitioned by month with `per_partition` rows in each of
    /// `expired_months` months of 2010 and in one month of 2099.
    pub async fn partitioned(&self, name: &str, expired_months: u32, per_partition: u64) {
        let mut sql = format!(
            "CREATE TABLE {name} (id BIGINT NOT NULL, at TIMESTAMPTZ NOT NULL, ip VARCHAR(40), payload VARCHAR(80), PRIMARY KEY (at, id)) PARTITION BY RANGE (at);\n"
        );
        let months: Vec<(u32, u32)> = (1..=expired_months)
            .map(|m| (2010, m))
            .chain([(2099, 1)])
            .collect();
        for (n, (year, month)) in months.iter().enumerate() {
            sql.push_str(&format!(
                "CREATE TABLE {name}_{year}_{month:02} PARTITION OF {name} FOR VALUES FROM ('{year}-{month:02}-01 00:00:00+00') TO ('{year}-{next:02}-01 00:00:00+00');
                 INSERT INTO {name} SELECT {offset} + i, timestamptz '{year}-{month:02}-01 00:00:00+00' + i * (interval '28 days' / {per_partition}), '198.51.100.' || (i % 250), 'payload of row ' || i FROM generate_series(0, {last}) AS i;\n",
                next = month + 1,
                offset = n as u64 * per_partition,
                last = per_partition - 1,
            ));
        }
        sql.push_str(&format!("CREATE INDEX {name}_at ON {name} (at);"));
        self.exec(&sql).await;
        self.exec(&format!("VACUUM ANALYZE {name}")).await;
    }
}

/// Sets a server as a shop's would be, not as the tests' is.
pub async fn configure_server(backend: Backend) {
    let db = Db::new(backend).await;
    match backend {
        Backend::Sqlite => {}
        // The tests' server trades durability for speed; a shop's does not, and a
        // commit per batch costs a flush there.
        Backend::Postgres => {
            // One statement each: ALTER SYSTEM refuses a transaction block.
            for setting in [
                "ALTER SYSTEM SET fsync = on",
                "ALTER SYSTEM SET full_page_writes = on",
                "ALTER SYSTEM SET synchronous_commit = on",
                "SELECT pg_reload_conf()",
            ] {
                db.exec(setting).await;
            }
        }
        // Likewise for InnoDB: flush the redo log at every commit (the tests'
        // server does not), and a buffer pool that holds the tables, as a shop's
        // server would be given (the tests' server has 128 MiB).
        Backend::MariaDb => {
            db.exec(
                "SET GLOBAL innodb_flush_log_at_trx_commit = 1;
                 SET GLOBAL innodb_buffer_pool_size = 2147483648",
            )
            .await
        }
    }
    db.drop_database().await;
}

pub async fn connect(backend: Backend, url: &str) -> AnyConnection {
    let mut c = AnyConnection::connect(url).await.unwrap();
    if backend == Backend::Sqlite {
        // The writer waits for the lock rather than failing: its latency is the point.
        sqlx::raw_sql("PRAGMA busy_timeout = 600000")
            .execute(&mut c)
            .await
            .unwrap();
    }
    c
}
