//! What differs between the backends, behind one trait: each backend's file
//! (`sqlite.rs`, `postgres.rs`, `mysql.rs`) implements [`Dialect`] beside its
//! connection code, so that a fourth backend is one more such file. The rest of
//! `db` asks the dialect and does not match on the backend. The methods write
//! SQL text into a [`Query`]; values are always bound, names come quoted.

use chrono::{DateTime, Utc};
use sqlx::error::DatabaseError;

use super::catalog::Kind;
use super::table::{Col, ExportKind};
use super::{Query, SqlValue};
use crate::anonymize::Form;
use crate::backend::Backend;
use crate::policy::Strategy;

/// What a server's error means for the engine, told by its code (SQLSTATE, a
/// MySQL error number, a SQLite result code), never by its English text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// A lock, statement or busy timeout, a deadlock: worth trying again.
    Timeout,
    /// The connection is gone (a restart, a kill, a shutdown).
    ConnectionLost,
    /// No room left to write.
    DiskFull,
    /// The transaction writes more than the server lets one transaction write
    /// (Galera's `wsrep_max_ws_rows` and `wsrep_max_ws_size`): a smaller one may pass.
    TooLarge,
    Other,
}

/// A column whose anonymised value a statement computes: what the dialect's
/// output expression needs.
pub struct OutputColumn<'a> {
    pub strategy: Strategy,
    pub form: Form,
    /// The column's quoted name.
    pub raw: &'a str,
    /// Its value as text ([`Dialect::read_as_text`]).
    pub text: &'a str,
    /// Its catalog type, where bound values are cast to it.
    pub cast: Option<&'a str>,
}

/// The order a table's rows are stored in, for a table walk.
#[derive(Debug, Clone)]
pub enum StorageOrder {
    /// Heap blocks, walked by ranges of row addresses (PostgreSQL's ctid).
    Blocks,
    /// The clustered key: InnoDB's primary key, SQLite's rowid.
    Key(Vec<Col>),
    /// No order to walk in, and why.
    None(String),
}

/// How a dialect finds a table's storage order from its catalog description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageKey {
    Blocks,
    /// These columns, in this order.
    Columns(Vec<String>),
    /// SQLite's rowid, unless the table is WITHOUT ROWID (then its primary key).
    Rowid,
    None(String),
}

/// The catalog statements that read one table (`only`) or a whole schema.
pub struct CatalogReads {
    pub columns: Query,
    pub indexes: Query,
    pub foreign_keys: Query,
    /// PostgreSQL's partition keys; none elsewhere.
    pub partition_keys: Option<Query>,
}

/// The statements and facts about retentiond's own tables and the server's clock.
pub struct Own {
    /// The statement reading the database's clock as RFC 3339 text in UTC.
    pub now: &'static str,
    /// The statement counting retentiond's own tables (more than 0: they exist).
    pub has_own_tables: &'static str,
    pub newest_migration: i64,
}

/// `ts <op> cutoff`, for a timestamp compared with a pass's cutoff. With `once`
/// the cutoff is a scan bound, evaluated once per statement
/// ([`Dialect::push_bound`]); else a plain value, which the planner sees.
#[derive(Clone, Copy)]
pub struct Against {
    pub op: &'static str,
    pub cutoff: DateTime<Utc>,
    pub once: bool,
}

/// `col IN (values)`, each value as `d` writes one.
pub(super) fn push_in_list<D: Dialect + ?Sized>(
    d: &D,
    q: &mut Query,
    col: &Col,
    values: &[SqlValue],
) {
    q.push(&col.quoted).push(" IN (");
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        d.push_value(q, col, v.clone());
    }
    q.push(")");
}

impl Own {
    pub(super) fn new(
        now: &'static str,
        has_own_tables: &'static str,
        migrations: &sqlx::migrate::Migrator,
    ) -> Own {
        Own {
            now,
            has_own_tables,
            newest_migration: super::newest_migration(&migrations.migrations),
        }
    }
}

impl CatalogReads {
    /// The reads of a backend without partition keys.
    pub(super) fn unpartitioned(columns: Query, indexes: Query, foreign_keys: Query) -> Self {
        CatalogReads {
            columns,
            indexes,
            foreign_keys,
            partition_keys: None,
        }
    }
}

/// One backend's SQL and its server's ways.
pub trait Dialect: Sync + std::fmt::Debug {
    fn backend(&self) -> Backend;

    /// What the server's error `e` means.
    fn fault(&self, e: &dyn DatabaseError) -> Fault;

    // retentiond's own tables and the server's state.

    /// The server's clock, whether retentiond's tables are there, and the newest
    /// migration this binary carries for them.
    fn own(&self) -> Own;

    /// The statement whose value changes when another connection commits
    /// (SQLite's `PRAGMA data_version`), where there is one.
    fn data_version(&self) -> Option<&'static str> {
        None
    }

    /// Written after a table's name in a table walk's statements so that they read
    /// the storage range (SQLite's planner takes the timestamp's index for
    /// `ts < cutoff AND rowid BETWEEN ...` and scans every expired row per batch).
    fn storage_order_hint(&self) -> &'static str {
        ""
    }

    /// What a `SELECT` of constants without a table needs to take a `WHERE`.
    fn table_for_constants(&self) -> &'static str {
        ""
    }

    // Types and values.

    /// What a column of catalog type `declared` holds.
    fn kind_of(&self, declared: &str) -> Kind;

    /// A column's value where the query names it `source`, as retentiond reads it:
    /// as stored on SQLite, as text elsewhere, so that any type round-trips
    /// through a bound value.
    fn read_as_text(&self, kind: Kind, source: &str) -> String;

    /// The type bound text is cast to for a column of type `declared`, where the
    /// server needs one.
    fn cast_for(&self, _declared: &str) -> Option<String> {
        None
    }

    /// Whether a column's values are stored as they were written, whatever its
    /// declared type (SQLite): then the data, not the catalog, says what it holds.
    fn values_as_written(&self) -> bool {
        false
    }

    /// Binds `v` for comparison with or assignment to `col`.
    fn push_value(&self, q: &mut Query, _col: &Col, v: SqlValue) {
        q.bind(v);
    }

    /// [`Dialect::push_value`] for a bound a scan compares every row with.
    fn push_bound(&self, q: &mut Query, col: &Col, v: SqlValue) {
        self.push_value(q, col, v);
    }

    /// `col IN (values)`.
    fn push_in(&self, q: &mut Query, col: &Col, values: &[SqlValue]) {
        push_in_list(self, q, col, values);
    }

    /// What opens the list of a row-value `IN`: `(a, b) IN (VALUES (1, 2), ...)`.
    fn row_list_open(&self) -> &'static str {
        ") IN (VALUES "
    }

    /// An instant as this backend's columns and comparisons read it.
    fn instant(&self, at: DateTime<Utc>) -> String {
        super::rfc3339(at)
    }

    /// `expr` converted to text, for comparison with a text column.
    fn cast_to_text(&self, expr: &str) -> String;

    // Timestamps.

    /// [`Against`] for epoch seconds in column `col`.
    fn push_epoch_against(&self, q: &mut Query, col: &Col, a: Against) {
        let Against { op, cutoff, once } = a;
        // An integer column compared with a float loses its index on PostgreSQL;
        // for whole seconds, `< ceil(cutoff)` is the same test.
        let v = if col.kind == Kind::Integer {
            let whole = cutoff.timestamp() + i64::from(cutoff.timestamp_subsec_nanos() > 0);
            SqlValue::Int(whole)
        } else {
            SqlValue::Real(epoch_seconds(cutoff))
        };
        q.push(&col.quoted).push(op);
        if once {
            self.push_bound(q, col, v);
        } else {
            self.push_value(q, col, v);
        }
    }

    /// [`Against`] for the backend's own timestamp types.
    fn push_native_against(&self, q: &mut Query, col: &Col, a: Against) {
        let Against { op, cutoff, .. } = a;
        q.push(&col.quoted)
            .push(op)
            .bind(SqlValue::Text(super::table::naive(cutoff)));
    }

    /// ` AND` the ISO text in `ts` is an instant before `cutoff` (text without an
    /// offset read as UTC).
    fn push_text_before(&self, q: &mut Query, ts: &str, cutoff: DateTime<Utc>);

    /// The text in `ts` is not a readable ISO 8601 instant (and not NULL).
    fn push_unreadable_text(&self, q: &mut Query, ts: &str);

    // Anonymisation: recognising a value's state.

    /// `text = s`, byte for byte.
    fn push_equals_exactly(&self, q: &mut Query, text: &str, s: &str) {
        q.push(text).push(" = ").bind(SqlValue::Text(s.to_string()));
    }

    /// `text` without leading and trailing spaces.
    fn trim(&self, text: &str) -> String;

    /// `text` matches `pattern`, case-sensitively.
    fn push_regex(&self, q: &mut Query, text: &str, pattern: &str);

    /// The position of `needle` in `text` (0 when absent), up to the closing
    /// parenthesis, which the caller writes.
    fn push_position_open(&self, q: &mut Query, text: &str, needle: &str);

    /// The first second of the year or month of epoch seconds `raw`.
    fn epoch_start(&self, raw: &str, month: bool) -> String;

    // Anonymisation: writing outputs.

    /// Whether the output functions read every value themselves, fallbacks
    /// included (SQLite's are retentiond's own), so no test selects the readable.
    fn outputs_read_any_value(&self) -> bool {
        false
    }

    /// One of retentiond's own text constants as a column's output.
    fn push_constant(&self, q: &mut Query, col: &Col, s: &str) {
        self.push_value(q, col, SqlValue::Text(s.to_string()));
    }

    /// The anonymised value of a readable value of `c`, in the column's type.
    fn push_output(&self, q: &mut Query, c: &OutputColumn<'_>);

    // Statements.

    /// What ends a SELECT that locks its rows for the transaction.
    fn for_update(&self) -> &'static str {
        " FOR UPDATE"
    }

    /// One row of a list of (key..., value...) rows joined to a table: the row
    /// `i` of `cols`' `row` values, its columns named `column1`, `column2`, ...
    fn push_list_row(&self, list: &mut Query, i: usize, cols: &[Col], row: Vec<SqlValue>) {
        list.push(if i == 0 { "VALUES (" } else { ", (" });
        for (j, (c, v)) in cols.iter().zip(row).enumerate() {
            if j > 0 {
                list.push(", ");
            }
            self.push_value(list, c, v);
        }
        list.push(")");
    }

    /// `UPDATE table SET ... FROM (list) AS retentiond_v WHERE join`, in the
    /// dialect's form; `set` assigns columns named by [`Dialect::set_target`].
    fn update_joined(&self, table: &str, list: Query, join: &str, set: Query) -> Query {
        let mut q = Query::new(format!("UPDATE {table}"));
        q.append(set).push(" FROM (").append(list);
        q.push(") AS retentiond_v WHERE ").push(join);
        q
    }

    /// A column as the SET of [`Dialect::update_joined`] names it.
    fn set_target(&self, _table: &str, column: &str) -> String {
        column.to_string()
    }

    /// Whether whole range partitions can be dropped (`partitions = "drop"`).
    fn drops_range_partitions(&self) -> bool {
        false
    }

    // Walking a table in storage order.

    /// What a table walk steps through, given the table's primary key columns in
    /// key order.
    fn storage_key(&self, primary_key: &[String]) -> StorageKey;

    /// The statement reading (blocks, rows per block, server version number) of
    /// `table`, for walks by blocks.
    fn block_count(&self, _table: &str) -> Option<Query> {
        None
    }

    /// `<row address> <op> <address>` (`(block,offset)`), for walks by blocks.
    fn push_address_bound(&self, _q: &mut Query, _op: &str, _address: &str) {
        unreachable!("only a dialect that walks by blocks is asked for block bounds")
    }

    /// What goes before a SELECT to have the server say how it would run it.
    fn explain_prefix(&self) -> &'static str;

    /// Whether the plan `rows` (the answer to [`Dialect::explain_prefix`]) reads
    /// the whole table rather than an index range.
    fn plan_scans_table(&self, rows: &[Vec<SqlValue>]) -> bool;

    /// The statement that reclaims `table`'s storage after a purge; `None` where
    /// the whole file is rebuilt instead (SQLite).
    fn vacuum(&self, table: &str) -> Option<String>;

    // Exports.

    /// What an exported column of `kind` and catalog type `declared` holds.
    fn export_kind(&self, kind: Kind, declared: &str) -> ExportKind {
        super::table::export_kind_common(kind, declared)
    }

    /// The expression an export reads a column with.
    fn export_read(&self, export: ExportKind, kind: Kind, quoted: &str) -> String {
        match export {
            ExportKind::Integer | ExportKind::Boolean | ExportKind::Binary => quoted.into(),
            _ => self.read_as_text(kind, quoted),
        }
    }

    // The catalog.

    /// The statements reading columns, indexes, foreign keys (and partition keys).
    fn catalog_reads(&self, only: Option<(&str, &str)>) -> CatalogReads;

    /// The statement finding a table's exact schema and name; `None` where the
    /// name as given is the name (SQLite's pragmas match any case).
    fn find_table(&self, schema: Option<&str>, table: &str) -> Option<Query>;

    /// The tables of `schema` (the default one when `None`).
    fn table_names(&self, schema: Option<&str>) -> Query;
}

/// An instant as fractional epoch seconds, to the millisecond.
pub fn epoch_seconds(t: DateTime<Utc>) -> f64 {
    t.timestamp() as f64 + f64::from(t.timestamp_subsec_millis()) / 1000.0
}

/// The dialect of `backend`.
pub fn of(backend: Backend) -> &'static dyn Dialect {
    match backend {
        Backend::Sqlite => &super::sqlite::SqliteDialect,
        Backend::Postgres => &super::postgres::PostgresDialect,
        Backend::MySql => &super::mysql::MySqlDialect,
    }
}
