//! Reading one subject's rows for an access or portability export: every column of
//! a policy's table, and of its cascade children, page by page in key order, each
//! value read in a form that keeps its type ([`ExportKind`]).

use super::Target;
use super::cascades::Child;
use crate::db::catalog::{Kind, TableInfo};
use crate::db::dialect::Dialect;
use crate::db::{Db, DbError, Query, SqlValue, quote};

/// What an exported column holds, so that a writer renders its values as what they
/// are: numbers as numbers, instants as RFC 3339, binary as base64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportKind {
    Integer,
    /// A decimal or floating-point number, read as text so that no digit is lost.
    Number,
    Text,
    /// A date and time; values are read as the database prints them.
    Timestamp,
    Date,
    Boolean,
    Binary,
    /// SQLite's untyped columns: each value as stored.
    Any,
}

/// One column of an exported table.
#[derive(Debug, Clone)]
pub struct ExportColumn {
    /// As the catalog spells it.
    pub name: String,
    /// The type as the catalog spells it.
    pub declared: String,
    pub kind: ExportKind,
    /// The expression that reads it.
    read: String,
}

/// The columns of `info` as an export reads them.
pub(super) fn export_columns(dialect: &dyn Dialect, info: &TableInfo) -> Vec<ExportColumn> {
    info.columns
        .iter()
        .map(|c| {
            let declared = c.declared.to_ascii_lowercase();
            let kind = dialect.export_kind(c.kind, &declared);
            let quoted = quote(&c.name);
            ExportColumn {
                name: c.name.clone(),
                declared: c.declared.clone(),
                kind,
                // Integers, booleans and binary as they are; everything else as the
                // database prints it (the session is in UTC, dates in ISO form), so
                // that no decimal digit or fraction of a second is lost on the way.
                read: dialect.export_read(kind, c.kind, &quoted),
            }
        })
        .collect()
}

/// The policy's timestamp column holds ISO text, whatever its declared type: its
/// values are instants.
pub(super) fn mark_timestamp(columns: &mut [ExportColumn], name: &str) {
    for c in columns
        .iter_mut()
        .filter(|c| c.name.eq_ignore_ascii_case(name))
    {
        if matches!(c.kind, ExportKind::Text | ExportKind::Any) {
            c.kind = ExportKind::Timestamp;
        }
    }
}

/// What an exported column holds, by its kind and lower-case catalog type, the
/// same on every backend but where a dialect knows better.
pub(in crate::db) fn export_kind_common(kind: Kind, declared: &str) -> ExportKind {
    let dated = declared.contains("date") || declared.contains("time");
    match kind {
        Kind::Integer => ExportKind::Integer,
        Kind::Real => ExportKind::Number,
        Kind::Text | Kind::Ip => ExportKind::Text,
        Kind::Timestamp { .. } => ExportKind::Timestamp,
        Kind::Date => ExportKind::Date,
        Kind::Any if dated => ExportKind::Timestamp,
        Kind::Any => ExportKind::Any,
        Kind::Other if declared == "bytea" || declared.contains("blob") => ExportKind::Binary,
        Kind::Other if declared.starts_with("binary") || declared.starts_with("varbinary") => {
            ExportKind::Binary
        }
        Kind::Other => ExportKind::Text,
    }
}

/// What links an exported table's rows to the subject.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Link {
    /// The table's own subject column.
    Subject { column: String },
    /// A cascade child: its foreign key references a row of `parent` linked to the
    /// subject.
    Cascade {
        parent: String,
        foreign_key: Vec<String>,
    },
}

impl Target {
    pub fn export_columns(&self) -> &[ExportColumn] {
        &self.columns
    }

    /// The cascade children an export reads at any depth, parents before their
    /// children: their tables, columns and link to their parent.
    pub fn export_children(&self) -> Vec<(String, &[ExportColumn], Link)> {
        self.cascade_paths()
            .into_iter()
            .map(|path| {
                let child = path[path.len() - 1];
                let parent = match path.len() {
                    1 => self.table_name.clone(),
                    n => path[n - 2].table_name.clone(),
                };
                let link = Link::Cascade {
                    parent,
                    foreign_key: child.foreign_key_names.clone(),
                };
                (child.table_name.clone(), child.columns.as_slice(), link)
            })
            .collect()
    }

    /// The condition that a row of the last child of `path` is linked, through its
    /// parents, to a row of the policy's table that `root` selects: its foreign key
    /// in the referenced columns of its parent's rows, and so on up.
    pub(super) fn push_linked(
        &self,
        q: &mut Query,
        path: &[&Child],
        root: impl FnOnce(&Target, &mut Query),
    ) {
        let names = |cols: &[super::Col]| -> String {
            let quoted: Vec<&str> = cols.iter().map(|c| c.quoted.as_str()).collect();
            quoted.join(", ")
        };
        for (i, c) in path.iter().enumerate().rev() {
            let parent = if i == 0 {
                &self.table
            } else {
                &path[i - 1].table
            };
            q.push(&format!(
                "({}) IN (SELECT {} FROM {parent} WHERE ",
                names(&c.foreign_key),
                names(&c.references)
            ));
        }
        root(self, q);
        q.push(&")".repeat(path.len()));
    }

    /// Each cascade child at any depth, as the path of children leading to it.
    pub(super) fn cascade_paths(&self) -> Vec<Vec<&Child>> {
        fn walk<'t>(children: &'t [Child], above: &[&'t Child], out: &mut Vec<Vec<&'t Child>>) {
            for c in children {
                let mut path = above.to_vec();
                path.push(c);
                out.push(path.clone());
                walk(&c.children, &path, out);
            }
        }
        let mut out = Vec::new();
        walk(&self.cascade, &[], &mut out);
        out
    }

    /// Which exported columns hold files, of the policy's own rows or (with `child`,
    /// an index into [`Target::export_children`]) of a cascade child's: each
    /// column's place in the row, name and store.
    pub fn export_file_columns(&self, child: Option<usize>) -> Vec<(usize, &str, &str)> {
        let paths = self.cascade_paths();
        let (files, columns) = match child {
            None => (&self.files, &self.columns),
            Some(n) => {
                let c = paths[n][paths[n].len() - 1];
                (&c.files, &c.columns)
            }
        };
        files
            .iter()
            .filter_map(|f| {
                let at = columns
                    .iter()
                    .position(|c| quote(&c.name) == f.col().quoted)?;
                Some((at, columns[at].name.as_str(), f.store.as_str()))
            })
            .collect()
    }

    /// Whether the policy's table has `column` (any case).
    pub fn has_column(&self, column: &str) -> bool {
        self.columns
            .iter()
            .any(|c| c.name.eq_ignore_ascii_case(column))
    }

    /// The distinct values of `column` in `subject`'s rows, as text, NULLs left
    /// out: what identifies the person to a processor.
    pub async fn subject_values(
        &self,
        db: &mut Db,
        subject: &str,
        column: &str,
    ) -> Result<Vec<String>, DbError> {
        let c = self
            .columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(column))
            .ok_or_else(|| {
                DbError::Unsupported(format!("table {} has no column {column}", self.table_name))
            })?;
        let mut q = Query::new(format!(
            "SELECT DISTINCT {} AS retentiond_value FROM {} WHERE ",
            c.read, self.table
        ));
        self.push_subject(&mut q, subject);
        q.push(" ORDER BY 1");
        let rows = db.fetch(&q).await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| r.into_iter().next())
            .filter_map(|v| match v {
                SqlValue::Int(n) => Some(n.to_string()),
                other => other.to_text(),
            })
            .collect())
    }

    /// The link of the policy's own rows, when it has a subject column.
    pub fn export_link(&self) -> Option<Link> {
        self.subject_name
            .clone()
            .map(|column| Link::Subject { column })
    }

    /// Hands every row of `subject` to `each`, in chunks of `chunk` rows as the
    /// database sends them: the policy's own rows, or (with `child`, an index into
    /// [`Target::export_children`]) the cascade child's rows linked to one of them
    /// through its parents. One statement per table, so that a subject with many
    /// rows costs no more round trips than one with few, and memory stays at one
    /// chunk. No ORDER BY: without an index that yields the key order, SQLite would
    /// sort every row in memory first (its scratch space is kept in memory so that
    /// no purged value lands in a temporary file); 600,000 rows took it to 93 MiB.
    pub async fn export_rows<E: From<DbError>>(
        &self,
        db: &mut Db,
        subject: &str,
        child: Option<usize>,
        chunk: usize,
        each: &mut impl FnMut(Vec<Vec<SqlValue>>) -> Result<(), E>,
    ) -> Result<(), E> {
        let paths = self.cascade_paths();
        let path = child.map(|n| &paths[n]);
        let (table, columns) = match path {
            None => (&self.table, &self.columns),
            Some(p) => (&p[p.len() - 1].table, &p[p.len() - 1].columns),
        };
        let reads: Vec<&str> = columns.iter().map(|c| c.read.as_str()).collect();
        let mut q = Query::new(format!("SELECT {} FROM {table} WHERE ", reads.join(", ")));
        let path: &[&Child] = path.map_or(&[], |p| p.as_slice());
        self.push_linked(&mut q, path, |t, q| t.push_subject(q, subject));
        db.fetch_chunks(&q, chunk, each).await
    }
}
