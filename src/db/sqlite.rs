//! SQLite: connection settings (WAL, secure_delete, one writer), value decoding, the
//! catalog, and retentiond's migrations.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, Row, Sqlite, SqliteConnection};

use chrono::{DateTime, Utc};

use super::catalog::Kind;
use super::dialect::{
    Against, CatalogReads, Dialect, Fault, OutputColumn, Own, StorageKey, epoch_seconds,
};
use super::table::{Col, ISO_DATE_GLOB};
use super::{Access, Backend, DbError, Query, SqlValue, wire};

pub(super) fn path_of(url: &str, base_dir: &Path) -> Result<PathBuf, DbError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    if rest.contains('?') {
        return Err(DbError::Unsupported(format!(
            "SQLite URL {url} has parameters; retentiond sets its own (WAL, secure_delete): write sqlite://path/to/file.db"
        )));
    }
    if rest.is_empty() || rest == ":memory:" {
        return Err(DbError::Unsupported(format!(
            "SQLite URL {url} names no file: write sqlite://path/to/file.db"
        )));
    }
    let p = Path::new(rest);
    Ok(if p.is_absolute() {
        p.to_path_buf()
    } else {
        base_dir.join(p)
    })
}

fn options(path: &Path, lock_timeout: Duration) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        // How long a statement waits for another writer, like lock_timeout elsewhere.
        .busy_timeout(lock_timeout)
        // Zero deleted content in place, so a purged value is not left readable in
        // free pages of the file.
        .pragma("secure_delete", "ON")
        // Keep scratch data out of temporary files.
        .pragma("temp_store", "MEMORY")
        .foreign_keys(true)
        // `REGEXP` with Rust's regex crate: it recognises anonymised values by the
        // same patterns the engine checks in Rust.
        .with_regexp()
}

pub(super) async fn connect(
    path: &Path,
    access: Access,
    lock_timeout: Duration,
) -> Result<SqliteConnection, DbError> {
    let open_error = |e: sqlx::Error| DbError::Open {
        target: path.display().to_string(),
        reason: e.to_string(),
    };
    if !path.exists() {
        return Err(DbError::Open {
            target: path.display().to_string(),
            reason: "no such file".into(),
        });
    }
    let opts = match access {
        Access::ReadOnly => options(path, lock_timeout).read_only(true),
        Access::ReadWrite => options(path, lock_timeout)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal),
    };
    let mut conn = opts.connect().await.map_err(open_error)?;
    super::sqlite_functions::register(&mut conn).await?;
    // A file that is not a database fails only at its first read.
    sqlx::query("SELECT count(*) FROM sqlite_master")
        .execute(&mut conn)
        .await
        .map_err(open_error)?;
    Ok(conn)
}

pub(super) async fn create(path: &Path) -> Result<SqliteConnection, DbError> {
    let mut conn = options(path, Duration::from_secs(10))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .connect()
        .await
        .map_err(|e| DbError::Open {
            target: path.display().to_string(),
            reason: e.to_string(),
        })?;
    super::sqlite_functions::register(&mut conn).await?;
    Ok(conn)
}

wire::fetch_functions!(Sqlite, SqliteConnection, i64, str::to_owned);

/// A cell as [`wire::Typed`] says.
fn typed(row: &sqlx::sqlite::SqliteRow, i: usize, kind: &str) -> wire::Typed {
    Ok(Some(match kind {
        "INTEGER" => SqlValue::Int(row.try_get_unchecked::<i64, _>(i)?),
        "REAL" => SqlValue::Real(row.try_get_unchecked::<f64, _>(i)?),
        "TEXT" => SqlValue::Text(row.try_get_unchecked::<String, _>(i)?),
        "BLOB" => SqlValue::Blob(row.try_get_unchecked::<Vec<u8>, _>(i)?),
        _ => return Ok(None),
    }))
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

pub(super) async fn migrate(c: &mut SqliteConnection) -> Result<(), DbError> {
    super::own_migrator(&MIGRATOR).run(&mut *c).await?;
    Ok(())
}

pub(super) async fn scrub(c: &mut SqliteConnection) -> Result<(), DbError> {
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Room for a rebuild, from the database's size and the free space of the
/// filesystem holding `path`: VACUUM writes the whole rebuilt file into the WAL
/// beside it, so it needs about the database's size free there.
pub(super) async fn rebuild_room(
    c: &mut SqliteConnection,
    path: &Path,
) -> Result<RebuildRoom, DbError> {
    let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(&mut *c)
        .await?;
    let page_size: i64 = sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(&mut *c)
        .await?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let fs = rustix::fs::statvfs(dir).map_err(|e| DbError::Open {
        target: dir.display().to_string(),
        reason: format!("cannot read the filesystem's free space: {e}"),
    })?;
    Ok(RebuildRoom {
        needed: (pages.max(0) as u64).saturating_mul(page_size.max(0) as u64),
        free: fs.f_bavail.saturating_mul(fs.f_frsize),
    })
}

/// What a rebuild needs and what the filesystem has, in bytes.
#[derive(Debug, Clone, Copy)]
pub struct RebuildRoom {
    pub needed: u64,
    pub free: u64,
}

impl RebuildRoom {
    /// Whether the rebuild fits, with a tenth to spare: a VACUUM that fills the
    /// disk fails, and leaves a WAL that keeps the next batches from writing.
    pub fn fits(&self) -> bool {
        self.free >= self.needed.saturating_add(self.needed / 10)
    }
}

pub(super) async fn vacuum(c: &mut SqliteConnection) -> Result<(), DbError> {
    // VACUUM builds the new file in temporary storage first: on disk, not in memory,
    // so a large database does not become a large process.
    sqlx::query("PRAGMA temp_store = FILE")
        .execute(&mut *c)
        .await?;
    let result = sqlx::query("VACUUM").execute(&mut *c).await;
    sqlx::query("PRAGMA temp_store = MEMORY")
        .execute(&mut *c)
        .await?;
    result?;
    Ok(())
}

pub(super) async fn execute_script(
    c: &mut SqliteConnection,
    sql: &'static str,
) -> Result<(), DbError> {
    sqlx::raw_sql(sql).execute(&mut *c).await?;
    Ok(())
}

/// Closes the connection cleanly, so SQLite removes its `-wal` and `-shm` files.
pub(super) async fn close(c: SqliteConnection) -> Result<(), DbError> {
    c.close().await?;
    Ok(())
}

// The catalog. Table-valued pragma functions take the table name as a bound value.

/// Which tables a catalog read covers: `only` one (its schema and name), or every
/// table of `main`. `m` is `pragma_table_list`.
fn push_tables(q: &mut Query, only: Option<(&str, &str)>) {
    q.push("m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND ");
    match only {
        Some((schema, table)) => {
            q.push("m.schema = ")
                .bind(SqlValue::Text(schema.into()))
                .push(" AND m.name = ")
                .bind(SqlValue::Text(table.into()))
                .push(" COLLATE NOCASE");
        }
        None => {
            q.push("m.schema = 'main'");
        }
    }
}

/// (schema, table, column, type, NOT NULL, position in the primary key or 0).
fn catalog_columns(only: Option<(&str, &str)>) -> Query {
    let mut q = Query::new(
        "SELECT m.schema, m.name, p.name, p.type, p.\"notnull\", p.pk \
         FROM pragma_table_list AS m, pragma_table_info(m.name, m.schema) AS p WHERE ",
    );
    push_tables(&mut q, only);
    q.push(" ORDER BY m.name, p.cid");
    q
}

/// (schema, table, index, unique, partial, column or NULL for an expression), in
/// column order.
fn catalog_indexes(only: Option<(&str, &str)>) -> Query {
    let mut q = Query::new(
        "SELECT m.schema, m.name, il.name, il.\"unique\", il.partial, ii.name \
         FROM pragma_table_list AS m, pragma_index_list(m.name, m.schema) AS il, \
         pragma_index_info(il.name, m.schema) AS ii WHERE ",
    );
    push_tables(&mut q, only);
    q.push(" ORDER BY m.name, il.name, ii.seqno");
    q
}

/// (schema, table, constraint, column, referenced table, referenced column or NULL
/// for the referenced table's primary key, ON DELETE CASCADE), in key order.
fn catalog_foreign_keys(only: Option<(&str, &str)>) -> Query {
    let mut q = Query::new(
        "SELECT m.schema, m.name, f.id, f.\"from\", f.\"table\", f.\"to\", f.on_delete = 'CASCADE' \
         FROM pragma_table_list AS m, pragma_foreign_key_list(m.name, m.schema) AS f WHERE ",
    );
    push_tables(&mut q, only);
    q.push(" ORDER BY m.name, f.id, f.seq");
    q
}

/// SQLite's [`Dialect`].
#[derive(Debug)]
pub(super) struct SqliteDialect;

impl Dialect for SqliteDialect {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn fault(&self, e: &dyn sqlx::error::DatabaseError) -> Fault {
        // Extended result codes: the primary code is the low byte.
        let code: i64 = e.code().and_then(|c| c.parse().ok()).unwrap_or(0);
        match code & 0xff {
            // SQLITE_BUSY, SQLITE_LOCKED (and their extended codes)
            5 | 6 => Fault::Timeout,
            // SQLITE_FULL
            13 => Fault::DiskFull,
            _ => Fault::Other,
        }
    }

    fn own(&self) -> Own {
        Own {
            now: "SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
            has_own_tables: "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'retention_events'",
            newest_migration: super::newest_migration(&MIGRATOR.migrations),
        }
    }

    /// No index: the rowid (or a WITHOUT ROWID table's key) still bounds the scan.
    fn storage_order_hint(&self) -> &'static str {
        " NOT INDEXED"
    }

    fn data_version(&self) -> Option<&'static str> {
        Some("PRAGMA data_version")
    }

    fn kind_of(&self, declared: &str) -> Kind {
        match super::catalog::sqlite_affinity(declared) {
            "INTEGER" => Kind::Integer,
            "REAL" => Kind::Real,
            "TEXT" => Kind::Text,
            _ => Kind::Any,
        }
    }

    fn read_as_text(&self, _kind: Kind, source: &str) -> String {
        source.to_string()
    }

    fn values_as_written(&self) -> bool {
        true
    }

    fn cast_to_text(&self, expr: &str) -> String {
        format!("CAST({expr} AS TEXT)")
    }

    fn push_epoch_against(&self, q: &mut Query, col: &Col, a: Against) {
        let Against { op, cutoff, .. } = a;
        q.push(&col.quoted)
            .push(op)
            .bind(SqlValue::Real(epoch_seconds(cutoff)));
    }

    fn push_text_before(&self, q: &mut Query, ts: &str, cutoff: DateTime<Utc>) {
        q.push(" AND ")
            .push(ts)
            .push(" GLOB ")
            .bind(SqlValue::Text(ISO_DATE_GLOB.into()));
        q.push(" AND julianday(")
            .push(ts)
            .push(") < julianday(")
            .bind(SqlValue::Text(super::rfc3339(cutoff)))
            .push(")");
    }

    fn push_unreadable_text(&self, q: &mut Query, ts: &str) {
        q.push(ts)
            .push(" IS NOT NULL AND NOT (typeof(")
            .push(ts)
            .push(") = 'text' AND ");
        q.push(ts)
            .push(" GLOB ")
            .bind(SqlValue::Text(ISO_DATE_GLOB.into()));
        q.push(" AND julianday(").push(ts).push(") IS NOT NULL)");
    }

    fn trim(&self, text: &str) -> String {
        format!("trim({text})")
    }

    fn push_regex(&self, q: &mut Query, text: &str, pattern: &str) {
        q.push(text)
            .push(" REGEXP ")
            .bind(SqlValue::Text(pattern.to_string()));
    }

    fn push_position_open(&self, q: &mut Query, text: &str, needle: &str) {
        q.push(&format!("instr({text}, "))
            .bind(SqlValue::Text(needle.to_string()));
    }

    fn epoch_start(&self, raw: &str, month: bool) -> String {
        let unit = if month { "month" } else { "year" };
        format!("CAST(strftime('%s', {raw}, 'unixepoch', 'start of {unit}') AS INTEGER)")
    }

    fn outputs_read_any_value(&self) -> bool {
        true
    }

    fn push_output(&self, q: &mut Query, c: &OutputColumn<'_>) {
        // retentiond's own functions: `anonymize::apply` itself.
        let f = super::sqlite_functions::name_of(c.strategy).unwrap_or("NULL");
        q.push(f).push("(").push(c.raw).push(")");
    }

    fn for_update(&self) -> &'static str {
        // BEGIN IMMEDIATE already holds the only write lock.
        ""
    }

    fn vacuum(&self, _table: &str) -> Option<String> {
        None
    }

    fn storage_key(&self, primary_key: &[String]) -> StorageKey {
        // An INTEGER PRIMARY KEY is the rowid itself; resolve finds out whether a
        // table has a rowid at all.
        let _ = primary_key;
        StorageKey::Rowid
    }

    fn explain_prefix(&self) -> &'static str {
        "EXPLAIN QUERY PLAN "
    }

    /// `SCAN t` reads the table; `SEARCH t USING INDEX ...` an index range.
    fn plan_scans_table(&self, rows: &[Vec<SqlValue>]) -> bool {
        rows.iter()
            .filter_map(|r| r.last().and_then(SqlValue::as_text))
            .any(|d| d.starts_with("SCAN ") && !d.contains(" INDEX "))
    }

    fn catalog_reads(&self, only: Option<(&str, &str)>) -> CatalogReads {
        let (columns, indexes) = (catalog_columns(only), catalog_indexes(only));
        CatalogReads::unpartitioned(columns, indexes, catalog_foreign_keys(only))
    }

    fn find_table(&self, _schema: Option<&str>, _table: &str) -> Option<Query> {
        None
    }

    fn table_names(&self, schema: Option<&str>) -> Query {
        let mut q = Query::new("SELECT name FROM pragma_table_list WHERE schema = ");
        q.bind(SqlValue::Text(schema.unwrap_or("main").into()))
            .push(" AND type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");
        q
    }
}
