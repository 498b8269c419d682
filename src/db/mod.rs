//! Database access: connecting, the live catalog, and every SQL statement retentiond
//! runs. No other module writes SQL.
//!
//! The engine talks to the database through [`Query`] (SQL text plus bound
//! [`SqlValue`]s) and rows of `SqlValue`, so one purge loop serves every backend.
//! Identifiers from the config reach SQL only through [`Target`], which is built by
//! checking them against the live catalog and quoting the catalog's own spelling.

mod catalog;
mod dialect;
mod galera;
mod leader;
mod mysql;
mod postgres;
mod replica;
mod sqlite;
mod sqlite_functions;
mod store;
mod survey;
mod table;
mod value;
mod wire;

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

pub use crate::backend::Backend;
use crate::backend::{DatabaseSettings, Retry, Timeouts, redact_url};

pub use galera::{Cluster, Lease};
pub use leader::{Leader, host_name, instance_name};
pub use replica::{Lag, ReplicaLag, Replicas, Streaming};
pub use sqlite::RebuildRoom;
pub use store::{
    Delivery, ErasureEntry, FileRef, Hold, LastPolicyRun, NewDelivery, NewHold, NewRequest, NewRun,
    PolicyRun, PrivacyRequest, PurgeEvent, QueuedFile, Run, RunEnd, TableCount,
};
pub use survey::{ColumnClass, ForeignKey, SurveyColumn, SurveyTable};
pub use table::{
    Cursor, ExportColumn, ExportKind, Leftover, Link, Partition, ResolveReport, SchemaProblem,
    Scope, TableWalk, Target, TsEncoding, resolve, rfc3339,
};
pub use value::{Query, SqlValue};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot open database {target}: {reason}")]
    Open { target: String, reason: String },
    #[error("{0}")]
    Unsupported(String),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    // Not a `source`: the message already carries it, and `{:#}` would print it twice.
    #[error("migrating retentiond's tables failed: {0}")]
    Migrate(sqlx::migrate::MigrateError),
    #[error("unexpected value from the database: {0}")]
    Decode(String),
    /// Another writer appended to the audit chain since this connection read its
    /// head: the transaction is rolled back and tried again.
    #[error("the audit chain moved on while a batch was written; it is written again")]
    ChainMoved,
    /// On a Galera cluster, the pass lease is no longer this instance's: another
    /// took it over after it expired.
    #[error("the pass lease on the cluster was taken over by another instance")]
    LeaseLost,
}

impl From<sqlx::migrate::MigrateError> for DbError {
    fn from(e: sqlx::migrate::MigrateError) -> DbError {
        DbError::Migrate(e)
    }
}

impl DbError {
    /// What the server's error means, by its code; `None` for errors that are not
    /// the server's (a decoding problem, the chain moved).
    fn fault(&self) -> Option<dialect::Fault> {
        let DbError::Sql(sqlx::Error::Database(e)) = self else {
            return None;
        };
        let backend = if e.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
            Backend::Sqlite
        } else if e
            .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
            .is_some()
        {
            Backend::Postgres
        } else {
            Backend::MySql
        };
        Some(dialect::of(backend).fault(e.as_ref()))
    }

    /// Whether the error means the database refused us for lack of room (SQLite's
    /// SQLITE_FULL, PostgreSQL's disk_full, MySQL's disk or table full).
    pub fn is_disk_full(&self) -> bool {
        self.fault() == Some(dialect::Fault::DiskFull)
    }

    /// Whether the transaction is worth trying again: it timed out, lost its
    /// connection, or found the audit chain moved on.
    pub fn is_retryable(&self) -> bool {
        matches!(self, DbError::ChainMoved) || self.is_timeout() || self.is_connection_lost()
    }

    /// Whether the transaction wrote more than the server lets one transaction
    /// write: a smaller batch may pass.
    pub fn is_too_large(&self) -> bool {
        self.fault() == Some(dialect::Fault::TooLarge)
    }

    /// Whether the statement gave up waiting (a lock or statement timeout, SQLite's
    /// busy timeout, a deadlock): worth retrying after a pause, unlike other errors.
    pub fn is_timeout(&self) -> bool {
        self.fault() == Some(dialect::Fault::Timeout)
    }

    /// Whether the connection itself is gone (server restarted, network cut): the
    /// driver's IO and protocol errors, and the servers' codes for it.
    pub fn is_connection_lost(&self) -> bool {
        matches!(
            self,
            DbError::Sql(
                sqlx::Error::Io(_)
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::Protocol(_)
                    | sqlx::Error::Tls(_)
            )
        ) || self.fault() == Some(dialect::Fault::ConnectionLost)
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
    timeouts: Timeouts,
    /// What it was opened with, to reconnect after the server went away.
    reopen: Option<(DatabaseSettings, Access)>,
    /// The audit chain's last event as this connection last saw or wrote it.
    chain: store::ChainHead,
    /// The default schema's tables as last read in bulk, so that checking many
    /// policies and their cascades costs four statements, not four per table.
    /// Forgotten where the schema may have changed ([`Db::forget_catalog`]).
    catalog: Option<Vec<catalog::TableInfo>>,
    /// On a Galera cluster, the pass lease every write transaction renews first, so
    /// that it fails if another instance took the lease over.
    fence: Option<galera::Fence>,
}

enum Conn {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
    MySql(sqlx::MySqlConnection),
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
        let timeouts = settings.timeouts;
        let (label, conn) = match backend {
            Backend::Sqlite => {
                let path = sqlite::path_of(&settings.url, &settings.base_dir)?;
                let conn = sqlite::connect(&path, access, timeouts.lock).await?;
                (path.display().to_string(), Conn::Sqlite(conn))
            }
            Backend::Postgres => (
                redact_url(&settings.url),
                Conn::Postgres(postgres::connect(&settings.url, access).await?),
            ),
            Backend::MySql => (
                redact_url(&settings.url),
                Conn::MySql(mysql::connect(&settings.url, access, timeouts.lock.as_secs()).await?),
            ),
        };
        Ok(Db {
            backend,
            label,
            conn,
            timeouts,
            reopen: Some((settings.clone(), access)),
            chain: store::ChainHead::default(),
            catalog: None,
            fence: None,
        })
    }

    /// Checks the connection with a trivial query; reconnects (with `retry`'s
    /// backoff) if the server went away since the last statement.
    pub async fn ensure_connected(&mut self, retry: Retry) -> Result<(), DbError> {
        let mut attempt = 0;
        loop {
            let alive = self.fetch(&Query::new("SELECT 1")).await;
            let err = match alive {
                Ok(_) => return Ok(()),
                Err(e) if !e.is_connection_lost() => return Err(e),
                Err(e) => e,
            };
            if attempt >= retry.attempts {
                return Err(err);
            }
            attempt += 1;
            tokio::time::sleep(retry.wait_before(attempt)).await;
            if let Err(e) = self.reconnect().await {
                tracing::warn!(database = %self.label, attempt, error = %e, "reconnecting failed");
            }
        }
    }

    /// Replaces a connection that died (a server restart, a network cut) with a new
    /// one. Whatever transaction was open is gone: the server rolled it back.
    pub async fn reconnect(&mut self) -> Result<(), DbError> {
        let Some((settings, access)) = self.reopen.clone() else {
            return Err(DbError::Unsupported(
                "this connection cannot be reopened".into(),
            ));
        };
        let fresh = Db::open(&settings, access).await?;
        self.conn = fresh.conn;
        // A server that crashed may have lost the last commits it acknowledged
        // (synchronous_commit off, a failover to an asynchronous replica).
        self.chain.forget();
        tracing::info!(database = %self.label, "reconnected");
        Ok(())
    }

    /// Forgets the audit chain's head this connection last saw, for a connection
    /// kept between requests while others wrote to the chain.
    pub fn forget_chain(&mut self) {
        self.chain.forget();
    }

    /// Opens a SQLite file, creating it if needed: for `demo` only.
    pub async fn create_sqlite(path: &Path) -> Result<Db, DbError> {
        let conn = sqlite::create(path).await?;
        Ok(Db {
            backend: Backend::Sqlite,
            label: path.display().to_string(),
            conn: Conn::Sqlite(conn),
            timeouts: Timeouts::default(),
            reopen: None,
            chain: store::ChainHead::default(),
            catalog: None,
            fence: None,
        })
    }

    /// Reads the catalog afresh at its next use: a pass, `check` or `plan` starts
    /// with the schema as it is now, and a partition dropped is gone from it.
    pub fn forget_catalog(&mut self) {
        self.catalog = None;
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The backend's SQL and ways.
    fn dialect(&self) -> &'static dyn dialect::Dialect {
        dialect::of(self.backend)
    }

    /// The database, for messages: a file path or a URL without its password.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The database's clock, which every cutoff is computed from.
    pub async fn now(&mut self) -> Result<DateTime<Utc>, DbError> {
        let rows = self.fetch(&Query::new(self.dialect().own().now)).await?;
        let text = rows
            .first()
            .and_then(|r| r.first())
            .and_then(SqlValue::as_text)
            .ok_or_else(|| DbError::Decode("the database returned no time".into()))?;
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| DbError::Decode(format!("database time {text:?}: {e}")))
    }

    /// Opens a write transaction and takes the batch lock in it, released at commit
    /// or rollback: writers of the audit chain (batches, partition drops, holds,
    /// requests) take turns, and an old leader's last batch never overlaps a new
    /// leader's. On SQLite `BEGIN IMMEDIATE` is that lock (the only write lock), so a
    /// batch never fails half-way for want of it. On PostgreSQL the transaction also
    /// carries `[database]`'s lock and statement timeouts, in the same round trip;
    /// MySQL sets them per session when connecting.
    async fn begin_write(&mut self) -> Result<(), DbError> {
        let (lock, statement) = (self.timeouts.lock, self.timeouts.statement);
        match &mut self.conn {
            Conn::Sqlite(c) => sqlite::execute(c, &Query::new("BEGIN IMMEDIATE"))
                .await
                .map(drop),
            Conn::Postgres(c) => {
                // One round trip: these statements take no bound values, and the
                // numbers are retentiond's own.
                let sql = format!(
                    "BEGIN; SET LOCAL lock_timeout = '{}ms'; SET LOCAL statement_timeout = '{}ms'; \
                     SELECT pg_advisory_xact_lock({})",
                    lock.as_millis(),
                    statement.as_millis(),
                    leader::BATCH_KEY
                );
                postgres::script(c, &sql).await
            }
            Conn::MySql(c) => {
                mysql::execute(c, &Query::new("START TRANSACTION")).await?;
                let q = Query::new("SELECT id FROM retention_lease WHERE id = 1 FOR UPDATE");
                mysql::fetch(c, &q).await?;
                let Some(fence) = self.fence.clone() else {
                    return Ok(());
                };
                if galera::renew(self, &fence.holder, fence.ttl).await? {
                    Ok(())
                } else {
                    Err(DbError::LeaseLost)
                }
            }
        }
    }

    /// Makes every write transaction of this connection renew `leader`'s lease
    /// first, where it is a lease (a Galera cluster); `None` stops it.
    pub fn fence_with(&mut self, leader: Option<&Leader>) {
        self.fence = leader.and_then(Leader::fence);
    }

    /// Runs `work` in one write transaction ([`Db::begin_write`]): it commits when
    /// `work` returns `Some`, and rolls back when `work` fails or finds nothing to do
    /// (`None`). The only place a write transaction begins and ends.
    pub async fn write_tx<T>(
        &mut self,
        work: impl AsyncFnOnce(&mut Db) -> Result<Option<T>, DbError>,
    ) -> Result<Option<T>, DbError> {
        self.begin_write().await?;
        let result = match work(self).await {
            Ok(Some(done)) => self.commit().await.map(|()| Some(done)),
            other => other,
        };
        if matches!(result, Ok(Some(_))) {
            self.chain.committed();
        } else {
            self.rollback().await;
            self.chain.forget();
        }
        result
    }

    /// Runs `work` in one read-only snapshot: every statement in it sees the
    /// database as of its first read (REPEATABLE READ on PostgreSQL and InnoDB; a
    /// read transaction on SQLite, whose WAL keeps the snapshot while others write).
    pub async fn read_snapshot<T, E: From<DbError>>(
        &mut self,
        work: impl AsyncFnOnce(&mut Db) -> Result<T, E>,
    ) -> Result<T, E> {
        match &mut self.conn {
            Conn::Sqlite(c) => sqlite::execute(c, &Query::new("BEGIN")).await.map(drop),
            Conn::Postgres(c) => {
                postgres::script(c, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY").await
            }
            Conn::MySql(c) => {
                let level = Query::new("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
                mysql::execute(c, &level).await?;
                let begin = Query::new("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
                mysql::execute(c, &begin).await.map(drop)
            }
        }?;
        let result = work(self).await;
        match result {
            Ok(done) => {
                self.commit().await?;
                Ok(done)
            }
            Err(e) => {
                self.rollback().await;
                Err(e)
            }
        }
    }

    async fn commit(&mut self) -> Result<(), DbError> {
        self.execute(&Query::new("COMMIT")).await.map(drop)
    }

    /// Rolls back, ignoring "no transaction is active": a failed COMMIT may already
    /// have ended it.
    async fn rollback(&mut self) {
        if let Err(e) = self.execute(&Query::new("ROLLBACK")).await {
            tracing::debug!(error = %e, "rollback after a failed batch");
        }
    }

    async fn fetch(&mut self, q: &Query) -> Result<Vec<Vec<SqlValue>>, DbError> {
        match &mut self.conn {
            Conn::Sqlite(c) => sqlite::fetch(c, q).await,
            Conn::Postgres(c) => postgres::fetch(c, q).await,
            Conn::MySql(c) => mysql::fetch(c, q).await,
        }
    }

    /// Runs `q`, handing its rows to `each` in chunks of `size` as they arrive.
    async fn fetch_chunks<E: From<DbError>>(
        &mut self,
        q: &Query,
        size: usize,
        each: &mut impl FnMut(Vec<Vec<SqlValue>>) -> Result<(), E>,
    ) -> Result<(), E> {
        match &mut self.conn {
            Conn::Sqlite(c) => sqlite::fetch_chunks(c, q, size, each).await,
            Conn::Postgres(c) => postgres::fetch_chunks(c, q, size, each).await,
            Conn::MySql(c) => mysql::fetch_chunks(c, q, size, each).await,
        }
    }

    async fn fetch_one_int(&mut self, q: &Query) -> Result<i64, DbError> {
        let rows = self.fetch(q).await?;
        match rows.first().and_then(|r| r.first()) {
            Some(SqlValue::Int(n)) => Ok(*n),
            Some(SqlValue::Null) | None => Ok(0),
            Some(_) => Err(DbError::Decode(
                "a count or id is not a whole number".into(),
            )),
        }
    }

    /// Closes the connection cleanly (on SQLite this removes the `-wal`/`-shm` files).
    pub async fn close(self) -> Result<(), DbError> {
        match self.conn {
            Conn::Sqlite(c) => sqlite::close(c).await,
            Conn::Postgres(c) => postgres::close(c).await,
            Conn::MySql(c) => mysql::close(c).await,
        }
    }

    async fn execute(&mut self, q: &Query) -> Result<u64, DbError> {
        match &mut self.conn {
            Conn::Sqlite(c) => sqlite::execute(c, q).await,
            Conn::Postgres(c) => postgres::execute(c, q).await,
            Conn::MySql(c) => mysql::execute(c, q).await,
        }
    }

    /// Creates or upgrades retentiond's own tables.
    pub async fn migrate(&mut self) -> Result<(), DbError> {
        // The migrator's GET_LOCK holds on one Galera node only.
        let cluster_lock = match self.galera().await? {
            Some(_) => Some(galera::lock_migrations(self).await?),
            None => None,
        };
        let result = match &mut self.conn {
            Conn::Sqlite(c) => sqlite::migrate(c).await,
            Conn::Postgres(c) => postgres::migrate(c).await,
            Conn::MySql(c) => mysql::migrate(c).await,
        };
        if let Some(holder) = cluster_lock {
            galera::unlock_migrations(self, &holder).await?;
        }
        result
    }

    /// Creates retentiond's tables, or applies the migrations this binary has and
    /// the database lacks; when it lacks none, touches nothing, so that a role
    /// without CREATE (granted after `retentiond migrate`) can purge and report.
    pub async fn ensure_own_tables(&mut self) -> Result<(), DbError> {
        if !self.has_own_tables().await? {
            return self.migrate().await;
        }
        let newest = self.dialect().own().newest_migration;
        let q = Query::new(format!(
            "SELECT max(version) FROM {OWN_MIGRATIONS_TABLE} WHERE success = TRUE"
        ));
        if self.fetch_one_int(&q).await? < newest {
            self.migrate().await?;
        }
        Ok(())
    }

    /// Whether retentiond's own tables exist, without creating them.
    pub async fn has_own_tables(&mut self) -> Result<bool, DbError> {
        let sql = self.dialect().own().has_own_tables;
        Ok(self.fetch_one_int(&Query::new(sql)).await? > 0)
    }

    /// SQLite's `PRAGMA data_version`: it changes when another connection commits.
    /// `None` on the other backends.
    pub async fn data_version(&mut self) -> Result<Option<i64>, DbError> {
        let Some(sql) = self.dialect().data_version() else {
            return Ok(None);
        };
        Ok(Some(self.fetch_one_int(&Query::new(sql)).await?))
    }

    /// Makes sure nothing purged can be read back from the file or its WAL once the
    /// pass is over: checkpoint the WAL into the (secure_delete-zeroed) main file and
    /// truncate it.
    pub async fn scrub(&mut self) -> Result<(), DbError> {
        match &mut self.conn {
            Conn::Sqlite(c) => sqlite::scrub(c).await,
            Conn::Postgres(_) | Conn::MySql(_) => Ok(()),
        }
    }

    /// Rebuilds the whole SQLite file, so that no copy of a purged value survives in
    /// the unused space of a page. Such copies are left by the application's own
    /// writes (a page split copies rows and leaves the old bytes behind), which
    /// secure_delete cannot reach: it only zeroes what this connection frees.
    /// On SQLite, the room a rebuild ([`Db::vacuum_sqlite`]) needs and has.
    pub async fn rebuild_room(&mut self) -> Result<Option<RebuildRoom>, DbError> {
        let path = match &self.reopen {
            Some((settings, _)) if self.backend == Backend::Sqlite => {
                sqlite::path_of(&settings.url, &settings.base_dir)?
            }
            _ => return Ok(None),
        };
        match &mut self.conn {
            Conn::Sqlite(c) => Ok(Some(sqlite::rebuild_room(c, &path).await?)),
            Conn::Postgres(_) | Conn::MySql(_) => Ok(None),
        }
    }

    pub async fn vacuum_sqlite(&mut self) -> Result<(), DbError> {
        match &mut self.conn {
            Conn::Sqlite(c) => sqlite::vacuum(c).await,
            Conn::Postgres(_) | Conn::MySql(_) => Ok(()),
        }
    }

    /// Runs raw SQL with no bound values: for `demo`'s fixed schema only.
    pub(crate) async fn execute_script(&mut self, sql: &'static str) -> Result<(), DbError> {
        match &mut self.conn {
            Conn::Sqlite(c) => sqlite::execute_script(c, sql).await,
            Conn::Postgres(_) | Conn::MySql(_) => {
                Err(DbError::Unsupported("scripts run on SQLite only".into()))
            }
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

/// Where sqlx records which of retentiond's migrations ran: every table retentiond
/// owns carries the retention_ prefix, its bookkeeping too.
const OWN_MIGRATIONS_TABLE: &str = "retention_migrations";

/// A backend's embedded migrations, recorded in [`OWN_MIGRATIONS_TABLE`].
fn own_migrator(embedded: &sqlx::migrate::Migrator) -> sqlx::migrate::Migrator {
    let mut migrator = sqlx::migrate::Migrator {
        migrations: embedded.migrations.clone(),
        ..sqlx::migrate::Migrator::DEFAULT
    };
    migrator.dangerous_set_table_name(OWN_MIGRATIONS_TABLE);
    migrator
}

/// Quotes an identifier that has been checked against the catalog. Every backend
/// uses `"` (MySQL sessions run with ANSI_QUOTES). Double quotes are doubled as a
/// second line of defence; checked names never contain one.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The version of the newest of a backend's migrations.
fn newest_migration(embedded: &[sqlx::migrate::Migration]) -> i64 {
    embedded.iter().map(|m| m.version).max().unwrap_or(0)
}
