//! Reading one subject's rows for an access or portability export: every column of
//! a policy's table, and of its cascade children, page by page in key order, each
//! value read in a form that keeps its type ([`ExportKind`]).

use super::Target;
use crate::backend::Backend;
use crate::db::catalog::{Kind, TableInfo};
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
pub(super) fn export_columns(backend: Backend, info: &TableInfo) -> Vec<ExportColumn> {
    info.columns
        .iter()
        .map(|c| {
            let declared = c.declared.to_ascii_lowercase();
            let kind = export_kind(backend, c.kind, &declared);
            let quoted = quote(&c.name);
            ExportColumn {
                name: c.name.clone(),
                declared: c.declared.clone(),
                kind,
                read: read_expression(backend, kind, c.kind, &quoted),
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

fn export_kind(backend: Backend, kind: Kind, declared: &str) -> ExportKind {
    let dated = declared.contains("date") || declared.contains("time");
    match kind {
        Kind::Integer => ExportKind::Integer,
        Kind::Real => ExportKind::Number,
        Kind::Text | Kind::Ip => ExportKind::Text,
        Kind::Timestamp { .. } => ExportKind::Timestamp,
        Kind::Date => ExportKind::Date,
        Kind::Any if dated => ExportKind::Timestamp,
        Kind::Any => ExportKind::Any,
        Kind::Other if backend == Backend::Postgres && declared == "boolean" => ExportKind::Boolean,
        Kind::Other if declared == "bytea" || declared.contains("blob") => ExportKind::Binary,
        Kind::Other if declared.starts_with("binary") || declared.starts_with("varbinary") => {
            ExportKind::Binary
        }
        Kind::Other => ExportKind::Text,
    }
}

/// Integers, booleans and binary are read as they are; everything else as the
/// database prints it (the session is in UTC, dates in ISO form), so that no
/// decimal digit or fraction of a second is lost on the way.
fn read_expression(backend: Backend, export: ExportKind, kind: Kind, quoted: &str) -> String {
    match (backend, export) {
        (Backend::Sqlite, _)
        | (_, ExportKind::Integer | ExportKind::Boolean | ExportKind::Binary) => quoted.into(),
        // inet prints `/32` after a single address; host() is the address as stored.
        (Backend::Postgres, _) if kind == Kind::Ip => format!(
            "CASE WHEN masklen({quoted}) = CASE family({quoted}) WHEN 4 THEN 32 ELSE 128 END \
             THEN host({quoted}) ELSE CAST({quoted} AS text) END"
        ),
        (Backend::Postgres, _) => format!("CAST({quoted} AS text)"),
        (Backend::MySql, _) => format!("CAST({quoted} AS CHAR)"),
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

/// One page of a subject's rows: each row's exported values, and its key, which
/// the next page starts after and the cascade children are found by.
#[derive(Debug, Default)]
pub struct SubjectPage {
    pub rows: Vec<Vec<SqlValue>>,
    pub keys: Vec<Vec<SqlValue>>,
}

impl Target {
    pub fn export_columns(&self) -> &[ExportColumn] {
        &self.columns
    }

    /// The cascade children an export reads, by table: their columns and link.
    pub fn export_children(&self) -> Vec<(String, &[ExportColumn], Link)> {
        self.cascade
            .iter()
            .map(|c| {
                let link = Link::Cascade {
                    parent: self.table_name.clone(),
                    foreign_key: c.foreign_key_names.clone(),
                };
                (c.table_name.clone(), c.columns.as_slice(), link)
            })
            .collect()
    }

    /// The link of the policy's own rows, when it has a subject column.
    pub fn export_link(&self) -> Option<Link> {
        self.subject_name
            .clone()
            .map(|column| Link::Subject { column })
    }

    /// Up to `limit` rows of `subject` after the key `after`, in key order.
    pub async fn subject_page(
        &self,
        db: &mut Db,
        subject: &str,
        after: Option<&[SqlValue]>,
        limit: usize,
    ) -> Result<SubjectPage, DbError> {
        // Every read gets an alias: PostgreSQL would sort `ORDER BY id` by the
        // output column `CAST(id AS text)`, which keeps the name `id`.
        let keys = self.key.iter().map(|c| self.read(c));
        let values = self.columns.iter().map(|c| c.read.clone());
        let reads: Vec<String> = keys
            .chain(values)
            .enumerate()
            .map(|(i, r)| format!("{r} AS retentiond_{i}"))
            .collect();
        let mut q = Query::new(format!(
            "SELECT {} FROM {} WHERE ",
            reads.join(", "),
            self.table
        ));
        self.push_subject(&mut q, subject);
        if let Some(after) = after {
            self.push_key_after(&mut q, after);
        }
        let order: Vec<&str> = self.key.iter().map(|c| c.quoted.as_str()).collect();
        q.push(&format!(" ORDER BY {} LIMIT {limit}", order.join(", ")));
        let mut page = SubjectPage::default();
        for mut row in db.fetch(&q).await? {
            let values = row.split_off(self.key.len());
            page.keys.push(row);
            page.rows.push(values);
        }
        Ok(page)
    }

    /// The rows of cascade child `child` (an index into [`Target::export_children`])
    /// whose foreign key is one of `keys`.
    pub async fn children_of(
        &self,
        db: &mut Db,
        child: usize,
        keys: &[Vec<SqlValue>],
    ) -> Result<Vec<Vec<SqlValue>>, DbError> {
        let c = &self.cascade[child];
        let mut rows = Vec::new();
        for chunk in keys.chunks(super::KEYS_PER_STATEMENT) {
            let reads: Vec<String> = c
                .columns
                .iter()
                .enumerate()
                .map(|(i, col)| format!("{} AS retentiond_{i}", col.read))
                .collect();
            let mut q = Query::new(format!(
                "SELECT {} FROM {} WHERE ",
                reads.join(", "),
                c.table
            ));
            self.push_key_list(&mut q, &c.foreign_key, chunk);
            let fk: Vec<&str> = c.foreign_key.iter().map(|c| c.quoted.as_str()).collect();
            q.push(&format!(" ORDER BY {}", fk.join(", ")));
            rows.extend(db.fetch(&q).await?);
        }
        Ok(rows)
    }

    /// ` AND key > after`, as a row value for a composite key.
    fn push_key_after(&self, q: &mut Query, after: &[SqlValue]) {
        let names: Vec<&str> = self.key.iter().map(|c| c.quoted.as_str()).collect();
        q.push(" AND (").push(&names.join(", ")).push(") > (");
        self.push_values(q, self.key.iter(), after, true);
        q.push(")");
    }
}
