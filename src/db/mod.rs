//! Database access: connecting, the live catalog, and every SQL statement retentiond
//! runs. No other module writes SQL.
//!
//! The engine talks to the database through [`Query`] (SQL text plus bound
//! [`SqlValue`]s) and rows of `SqlValue`, so one purge loop serves every backend.
//! Identifiers from the config reach SQL only through [`Target`], which is built by
//! checking them against the live catalog and quoting the catalog's own spelling.

mod own;
mod sqlite;
mod target;

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::config::{DatabaseSettings, redact_url};

pub use own::{PolicyRunRecord, RunRecord, RunSummary};
pub use target::{Cursor, ResolveReport, SchemaProblem, Target, TsEncoding, resolve, rfc3339};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

impl Backend {
    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else if url.starts_with("mysql://") || url.starts_with("mariadb://") {
            Some(Backend::MySql)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::MySql => "mysql",
        }
    }
}

/// A value bound to, or read from, a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl SqlValue {
    pub fn as_text(&self) -> Option<&str> {
        match self {
            SqlValue::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// SQL text with its bound values. Built only inside `db`.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    sql: String,
    params: Vec<SqlValue>,
}

impl Query {
    fn new(sql: impl Into<String>) -> Query {
        Query {
            sql: sql.into(),
            params: Vec::new(),
        }
    }

    fn push(&mut self, sql: &str) -> &mut Query {
        self.sql.push_str(sql);
        self
    }

    /// Appends a placeholder and binds `v` to it.
    fn bind(&mut self, v: SqlValue) -> &mut Query {
        self.params.push(v);
        self.sql.push('?');
        self
    }

    /// Appends `?, ?, ...` binding each value in turn.
    fn bind_list(&mut self, values: impl IntoIterator<Item = SqlValue>) -> &mut Query {
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(v);
        }
        self
    }

    pub fn sql(&self) -> &str {
        &self.sql
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot open database {target}: {reason}")]
    Open { target: String, reason: String },
    #[error("{0}")]
    Unsupported(String),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    #[error("migrating retentiond's tables failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unexpected value from the database: {0}")]
    Decode(String),
}

impl DbError {
    /// Whether the error means the database refused us for lack of room (SQLite's
    /// SQLITE_FULL, a disk that filled up).
    pub fn is_disk_full(&self) -> bool {
        self.to_string().contains("database or disk is full")
    }
}

/// How a connection may be used. `plan` and `check` open read-only, so that they
/// cannot write anything even by mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadOnly,
    ReadWrite,
}

/// One connection to the shop's database: the only writer retentiond uses.
pub struct Db {
    backend: Backend,
    label: String,
    conn: Conn,
}

enum Conn {
    Sqlite(sqlx::SqliteConnection),
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Db({})", self.label)
    }
}

/// Where a SQLite URL points, relative paths resolved against the config's directory.
pub fn sqlite_path(url: &str, base_dir: &Path) -> Result<PathBuf, DbError> {
    sqlite::path_of(url, base_dir)
}

impl Db {
    pub async fn open(settings: &DatabaseSettings, access: Access) -> Result<Db, DbError> {
        let backend = Backend::of_url(&settings.url).ok_or_else(|| {
            DbError::Unsupported(format!(
                "unsupported database URL {}",
                redact_url(&settings.url)
            ))
        })?;
        match backend {
            Backend::Sqlite => {
                let path = sqlite::path_of(&settings.url, &settings.base_dir)?;
                let conn = sqlite::connect(&path, access).await?;
                Ok(Db {
                    backend,
                    label: path.display().to_string(),
                    conn: Conn::Sqlite(conn),
                })
            }
            Backend::Postgres | Backend::MySql => Err(DbError::Unsupported(format!(
                "the {} backend is not available in this build yet; use a sqlite:// URL",
                backend.name()
            ))),
        }
    }

    /// Opens a SQLite file, creating it if needed: for `demo` only.
    pub async fn create_sqlite(path: &Path) -> Result<Db, DbError> {
        let conn = sqlite::create(path).await?;
        Ok(Db {
            backend: Backend::Sqlite,
            label: path.display().to_string(),
            conn: Conn::Sqlite(conn),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The database, for messages: a file path or a URL without its password.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The database's clock, which every cutoff is computed from.
    pub async fn now(&mut self) -> Result<DateTime<Utc>, DbError> {
        let rows = self
            .fetch(&Query::new("SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"))
            .await?;
        let text = rows
            .first()
            .and_then(|r| r.first())
            .and_then(SqlValue::as_text)
            .ok_or_else(|| DbError::Decode("the database returned no time".into()))?;
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| DbError::Decode(format!("database time {text:?}: {e}")))
    }

    /// Opens a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a batch never fails half-way for want of the lock.
    pub async fn begin_write(&mut self) -> Result<(), DbError> {
        self.execute(&Query::new("BEGIN IMMEDIATE")).await.map(drop)
    }

    pub async fn commit(&mut self) -> Result<(), DbError> {
        self.execute(&Query::new("COMMIT")).await.map(drop)
    }

    /// Rolls back, ignoring "no transaction is active": a failed COMMIT may already
    /// have ended it.
    pub async fn rollback(&mut self) {
        if let Err(e) = self.execute(&Query::new("ROLLBACK")).await {
            tracing::debug!(error = %e, "rollback after a failed batch");
        }
    }

    async fn fetch(&mut self, q: &Query) -> Result<Vec<Vec<SqlValue>>, DbError> {
        match &mut self.conn {
            Conn::Sqlite(c) => sqlite::fetch(c, q).await,
        }
    }

    async fn fetch_one_int(&mut self, q: &Query) -> Result<i64, DbError> {
        let rows = self.fetch(q).await?;
        match rows.first().and_then(|r| r.first()) {
            Some(SqlValue::Int(n)) => Ok(*n),
            Some(SqlValue::Null) | None => Ok(0),
            Some(other) => Err(DbError::Decode(format!("expected a number, got {other:?}"))),
        }
    }

    async fn execute(&mut self, q: &Query) -> Result<u64, DbError> {
        match &mut self.conn {
            Conn::Sqlite(c) => sqlite::execute(c, q).await,
        }
    }

    /// Creates or upgrades retentiond's own tables.
    pub async fn migrate(&mut self) -> Result<(), DbError> {
        match &mut self.conn {
            Conn::Sqlite(c) => sqlite::migrate(c).await,
        }
    }

    /// Whether retentiond's own tables exist, without creating them.
    pub async fn has_own_tables(&mut self) -> Result<bool, DbError> {
        let q = Query::new(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'retention_events'",
        );
        Ok(self.fetch_one_int(&q).await? > 0)
    }

    /// Makes sure nothing purged can be read back from the file or its WAL once the
    /// pass is over: checkpoint the WAL into the (secure_delete-zeroed) main file and
    /// truncate it.
    pub async fn scrub(&mut self) -> Result<(), DbError> {
        match &mut self.conn {
            Conn::Sqlite(c) => sqlite::scrub(c).await,
        }
    }

    /// Rebuilds the whole SQLite file, so that no copy of a purged value survives in
    /// the unused space of a page. Such copies are left by the application's own
    /// writes (a page split copies rows and leaves the old bytes behind), which
    /// secure_delete cannot reach: it only zeroes what this connection frees.
    pub async fn vacuum(&mut self) -> Result<(), DbError> {
        match &mut self.conn {
            Conn::Sqlite(c) => sqlite::vacuum(c).await,
        }
    }

    /// Runs raw SQL with no bound values: for `demo`'s fixed schema only.
    pub(crate) async fn execute_script(&mut self, sql: &'static str) -> Result<(), DbError> {
        match &mut self.conn {
            Conn::Sqlite(c) => sqlite::execute_script(c, sql).await,
        }
    }

    /// Inserts many rows into one of `demo`'s tables, many rows per statement.
    pub(crate) async fn insert_rows(
        &mut self,
        table: &'static str,
        columns: &[&'static str],
        rows: Vec<Vec<SqlValue>>,
    ) -> Result<(), DbError> {
        if rows.is_empty() {
            return Ok(());
        }
        let per_statement = (30_000 / columns.len()).max(1);
        let mut iter = rows.into_iter().peekable();
        while iter.peek().is_some() {
            let mut q = Query::new(format!(
                "INSERT INTO {table} ({}) VALUES ",
                columns.join(", ")
            ));
            for (i, row) in iter.by_ref().take(per_statement).enumerate() {
                q.push(if i == 0 { "(" } else { ", (" });
                q.bind_list(row).push(")");
            }
            self.execute(&q).await?;
        }
        Ok(())
    }
}

/// Quotes an identifier that has been checked against the catalog. Double quotes are
/// doubled as a second line of defence; checked names never contain one.
fn quote(backend: Backend, name: &str) -> String {
    match backend {
        Backend::MySql => format!("`{}`", name.replace('`', "``")),
        Backend::Sqlite | Backend::Postgres => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}
