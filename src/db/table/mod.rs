//! A policy checked against the live catalog ([`Target`]) and every statement the
//! engine runs on a shop table for it. Identifiers reach SQL only from here, in the
//! catalog's spelling and quoted; every value is bound.
//!
//! `resolve` checks a policy against the catalog and writes the diagnostics;
//! `predicates` holds the WHERE-clause pieces (expired, held, filter, subject, not
//! yet done); `statements` the counts, batch reads and writes; `partitions` the
//! whole-partition drops.

mod cascades;
mod counts;
mod export;
mod files;
mod forms;
pub(in crate::db) mod outputs;
mod partitions;
mod predicates;
mod resolve;
mod statements;
mod walk;

use chrono::{DateTime, SecondsFormat, Utc};

use super::catalog::Kind;
use super::dialect::Dialect;
use super::{Query, SqlValue};
use crate::anonymize::{Form, Recognition, recognition};
use crate::policy::{Action, Loc, Strategy};

pub use counts::Leftover;
pub(in crate::db) use export::export_kind_common;
pub use export::{ExportColumn, ExportKind, Link};
pub use partitions::Partition;
pub(in crate::db) use predicates::{
    ISO_DATE_GLOB, ISO_REGEX, ISO_REGEX_NO_ZONE, ISO_REGEX_OFFSET, ISO_REGEX_Z,
};
pub use resolve::resolve;
pub use walk::TableWalk;

/// Rows bound per `IN (...)` list. Keeps every statement well below SQLite's and
/// PostgreSQL's limits on bound values.
const KEYS_PER_STATEMENT: usize = 500;

/// How a timestamp column stores its instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsEncoding {
    /// Unix epoch seconds (integer or real).
    Epoch,
    /// ISO 8601 text, with or without an offset (without = UTC).
    Text,
    /// The database's own timestamp or date type.
    Native,
}

impl TsEncoding {
    pub fn describe(self) -> &'static str {
        match self {
            TsEncoding::Epoch => "Unix epoch seconds",
            TsEncoding::Text => "ISO 8601 text",
            TsEncoding::Native => "native timestamps",
        }
    }
}

/// Something in the config that does not fit the database, at the config line that
/// named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaProblem {
    pub loc: Loc,
    pub message: String,
}

#[derive(Debug)]
pub struct ResolveReport {
    /// Present when there are no problems.
    pub target: Option<Target>,
    pub problems: Vec<SchemaProblem>,
    pub warnings: Vec<SchemaProblem>,
}

/// The position after the last row of the previous batch: its timestamp, then its key.
pub type Cursor = Vec<SqlValue>;

/// Which rows a batch takes.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// Rows whose timestamp is before the cutoff.
    Expired(DateTime<Utc>),
    /// Every row of one data subject, whatever its age (an erasure request).
    Subject(&'a str),
}

/// A column of a checked table: its quoted name and what it holds.
#[derive(Debug, Clone)]
pub(in crate::db) struct Col {
    pub(in crate::db) quoted: String,
    pub(in crate::db) kind: Kind,
    /// The catalog type, where bound text is cast to it ([`Dialect::cast_for`]).
    pub(in crate::db) cast: Option<String>,
}

/// A column holding the path of a file in a store.
#[derive(Debug, Clone)]
struct FileCol {
    col: Col,
    store: String,
    /// Its place among the anonymised columns, where `remove_file` clears it.
    anonymized: Option<usize>,
}

/// A column to anonymise: where it is, its strategy, and how its values show
/// whether they are done.
#[derive(Debug, Clone)]
struct Anonymized {
    col: Col,
    strategy: Strategy,
    form: Form,
    recognition: Recognition,
}

impl Anonymized {
    fn new(dialect: &dyn Dialect, col: Col, strategy: Strategy) -> Anonymized {
        // SQLite stores each value as what it is; elsewhere the column's type says.
        let form = match col.kind {
            _ if dialect.values_as_written() => Form::ByValue,
            Kind::Integer | Kind::Real => Form::Number,
            _ => Form::Text,
        };
        Anonymized {
            recognition: recognition(strategy, form),
            col,
            strategy,
            form,
        }
    }
}

/// A policy whose table and columns exist, with their quoted names.
#[derive(Debug, Clone)]
pub struct Target {
    dialect: &'static dyn Dialect,
    /// The table as the catalog spells it, for messages and the audit trail.
    pub table_name: String,
    pub encoding: TsEncoding,
    pub action: Action,
    table: String,
    key: Vec<Col>,
    ts: Col,
    filter: Vec<(Col, Vec<SqlValue>)>,
    marker: Option<Col>,
    /// Each column to anonymise, in config order.
    anonymize: Vec<Anonymized>,
    /// The cascade children, each with its own.
    cascade: Vec<cascades::Child>,
    /// Columns holding files that go with the rows.
    files: Vec<FileCol>,
    /// The partitioned table's exact schema and name, when whole expired partitions
    /// are dropped (`partitions = "drop"`, PostgreSQL).
    drop_partitions_of: Option<(String, String)>,
    /// The subject column, when retentiond's holds table exists to check it against.
    subject: Option<Col>,
    /// The subject column as the catalog spells it, for an export's description.
    subject_name: Option<String>,
    /// Every column of the table, for an export.
    columns: Vec<export::ExportColumn>,
    /// The order rows are stored in, for a table walk.
    storage_order: super::dialect::StorageOrder,
    policy_name: String,
}

impl Target {
    pub fn key_len(&self) -> usize {
        self.key.len()
    }

    /// Each anonymised column's strategy and how it hands over its values, in the
    /// order a batch reads them.
    pub fn anonymized_columns(&self) -> Vec<(Strategy, Form)> {
        self.anonymize
            .iter()
            .map(|a| (a.strategy, a.form))
            .collect()
    }

    /// Whether a batch reads the marker after the values (an erasure with a marker:
    /// rows already anonymised get only new random hashes).
    pub fn reads_marker(&self, scope: Scope<'_>) -> bool {
        self.marker.is_some() && matches!(scope, Scope::Subject(_))
    }

    pub fn has_marker(&self) -> bool {
        self.marker.is_some()
    }

    /// The value of `col` as the engine reads it: native on SQLite, text elsewhere,
    /// so any column type round-trips through [`Target::push_value`].
    fn read(&self, col: &Col) -> String {
        self.read_as(col, &col.quoted)
    }

    /// [`Target::read`] of `col`'s value where the query names it `source` (a
    /// subquery's alias).
    fn read_as(&self, col: &Col, source: &str) -> String {
        self.dialect.read_as_text(col.kind, source)
    }

    /// Binds `v` for comparison with or assignment to `col`.
    fn push_value(&self, q: &mut Query, col: &Col, v: SqlValue) {
        self.dialect.push_value(q, col, v);
    }

    /// [`Target::push_value`] for a bound a scan compares every row with (a cursor,
    /// the cutoff): see [`Dialect::push_bound`].
    fn push_bound(&self, q: &mut Query, col: &Col, v: SqlValue) {
        self.dialect.push_bound(q, col, v);
    }

    /// `values` for `cols`, comma-separated; as scan bounds ([`Target::push_bound`])
    /// when `as_bounds`, else as plain values.
    fn push_values<'c>(
        &self,
        q: &mut Query,
        cols: impl IntoIterator<Item = &'c Col>,
        values: &[SqlValue],
        as_bounds: bool,
    ) {
        for (i, (c, v)) in cols.into_iter().zip(values).enumerate() {
            if i > 0 {
                q.push(", ");
            }
            if as_bounds {
                self.push_bound(q, c, v.clone());
            } else {
                self.push_value(q, c, v.clone());
            }
        }
    }

    pub fn has_subject(&self) -> bool {
        self.subject.is_some()
    }

    /// Whether a batch can purge its range in one statement without reading its
    /// rows: deletes without children to delete first, and anonymisation that the
    /// database computes itself (every strategy but `hash`).
    pub fn purges_by_range(&self) -> bool {
        match self.action {
            // A row's files are queued from the row itself, read before it goes.
            Action::Delete => self.cascade.is_empty() && self.files.is_empty(),
            Action::Anonymize => self.anonymizes_in_sql(),
        }
    }

    /// The value a marker column is set to, in a form every backend reads as `at`.
    pub fn marker_value(&self, at: DateTime<Utc>) -> String {
        self.dialect.instant(at)
    }

    /// `SELECT timestamp, key..., values... FROM table WHERE `: the columns a batch
    /// reads, in the order a [`Cursor`] takes them.
    fn select_in_order(&self, values: &[&Col]) -> Query {
        self.select_in_order_from(&self.table, values)
    }

    /// [`Target::select_in_order`] from `table` as written (the table with a hint).
    fn select_in_order_from(&self, table: &str, values: &[&Col]) -> Query {
        // Each read gets an alias of its own: PostgreSQL resolves ORDER BY names to
        // output columns first, and `CAST(id AS text)` would otherwise keep the name
        // `id` and sort the keys as text.
        let read: Vec<String> = self
            .order_cols()
            .into_iter()
            .chain(values.iter().copied())
            .enumerate()
            .map(|(i, c)| format!("{} AS retentiond_{i}", self.read(c)))
            .collect();
        Query::new(format!("SELECT {} FROM {table} WHERE ", read.join(", ")))
    }

    fn order_cols(&self) -> Vec<&Col> {
        std::iter::once(&self.ts).chain(&self.key).collect()
    }

    fn order_list(&self) -> String {
        let names: Vec<&str> = self
            .order_cols()
            .iter()
            .map(|c| c.quoted.as_str())
            .collect();
        names.join(", ")
    }
}

/// RFC 3339 in UTC with milliseconds: how retentiond writes every instant.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `YYYY-MM-DD HH:MM:SS.mmm` in UTC: what MySQL and PostgreSQL's zone-less types read.
pub(in crate::db) fn naive(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.3f").to_string()
}
