//! The whole schema at a glance, for `init` and the coverage warnings: every table
//! but retentiond's own, with its columns, primary key, indexed columns and foreign
//! keys, and a small sample of its rows. Reads only.

use super::catalog::{self, Kind, split_table};
use super::{Backend, Db, DbError, Query, SqlValue, quote};
use crate::personal::Holds;

pub use super::catalog::ForeignKey;

/// What a column holds, as the catalog says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnClass {
    Integer,
    Number,
    Text,
    Timestamp,
    Date,
    /// PostgreSQL's inet and cidr.
    Ip,
    /// SQLite columns without a type, or of NUMERIC affinity (DATETIME).
    Untyped,
    Other,
}

#[derive(Debug, Clone)]
pub struct SurveyColumn {
    pub name: String,
    pub declared: String,
    pub class: ColumnClass,
    pub nullable: bool,
    kind: Kind,
}

#[derive(Debug, Clone)]
pub struct SurveyTable {
    pub name: String,
    pub columns: Vec<SurveyColumn>,
    pub primary_key: Vec<String>,
    /// Columns that lead an index (the primary key's first included).
    pub indexed: Vec<String>,
    pub foreign_keys: Vec<ForeignKey>,
}

impl SurveyColumn {
    /// A column declared `declared` on `backend`, as the catalog would describe it.
    pub fn declared(backend: Backend, name: &str, declared: &str, nullable: bool) -> SurveyColumn {
        let kind = super::dialect::of(backend).kind_of(declared);
        SurveyColumn {
            name: name.to_string(),
            declared: declared.to_string(),
            class: class(kind),
            nullable,
            kind,
        }
    }

    /// What the column can hold, for telling personal data by its name.
    pub fn holds(&self) -> Holds {
        match self.class {
            ColumnClass::Text => Holds::Text,
            ColumnClass::Integer => Holds::Integer,
            ColumnClass::Number => Holds::Number,
            ColumnClass::Timestamp | ColumnClass::Date => Holds::Time,
            ColumnClass::Ip => Holds::Ip,
            ColumnClass::Untyped => Holds::Anything,
            ColumnClass::Other => Holds::Other,
        }
    }
}

impl SurveyTable {
    pub fn column(&self, name: &str) -> Option<&SurveyColumn> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

fn class(kind: Kind) -> ColumnClass {
    match kind {
        Kind::Integer => ColumnClass::Integer,
        Kind::Real => ColumnClass::Number,
        Kind::Text => ColumnClass::Text,
        Kind::Timestamp { .. } => ColumnClass::Timestamp,
        Kind::Date => ColumnClass::Date,
        Kind::Ip => ColumnClass::Ip,
        Kind::Any => ColumnClass::Untyped,
        Kind::Other => ColumnClass::Other,
    }
}

impl Db {
    /// Every table of the default schema but retentiond's own, in name order.
    pub async fn survey(&mut self) -> Result<Vec<SurveyTable>, DbError> {
        let mut infos = catalog::schema_tables(self).await?;
        infos.retain(|t| !t.table.starts_with("retention_"));
        infos.sort_by(|a, b| a.table.cmp(&b.table));
        let keys: Vec<(String, Vec<String>)> = infos
            .iter()
            .map(|t| (t.table.clone(), t.primary_key_names()))
            .collect();
        Ok(infos
            .into_iter()
            .map(|info| {
                let primary_key = info.primary_key_names();
                let mut indexed: Vec<String> = primary_key.first().cloned().into_iter().collect();
                indexed.extend(
                    info.indexes
                        .iter()
                        .filter_map(|i| i.columns.first().cloned()),
                );
                let foreign_keys = info
                    .foreign_keys
                    .iter()
                    .map(|k| with_implicit_references(k, &keys))
                    .collect();
                SurveyTable {
                    name: info.name.clone(),
                    columns: info
                        .columns
                        .iter()
                        .map(|c| SurveyColumn {
                            name: c.name.clone(),
                            declared: c.declared.clone(),
                            class: class(c.kind),
                            nullable: !c.not_null && c.pk == 0,
                            kind: c.kind,
                        })
                        .collect(),
                    primary_key,
                    indexed,
                    foreign_keys,
                }
            })
            .collect())
    }

    /// Up to `limit` rows of each table, every column as text, and the tables this
    /// login may not read (no SELECT right), which get no rows: what they hold is
    /// then judged by their columns' names and types alone.
    pub async fn samples(
        &mut self,
        tables: &[SurveyTable],
        limit: usize,
    ) -> Result<(Vec<Vec<Vec<SqlValue>>>, Vec<String>), DbError> {
        let mut samples = Vec::with_capacity(tables.len());
        let mut unread = Vec::new();
        for t in tables {
            samples.push(match self.sample(t, limit).await {
                Ok(rows) => rows,
                Err(e) if !e.is_connection_lost() => {
                    unread.push(t.name.clone());
                    Vec::new()
                }
                Err(e) => return Err(e),
            });
        }
        Ok((samples, unread))
    }

    /// Up to `limit` rows of `t`, every column as text (as stored on SQLite).
    async fn sample(
        &mut self,
        t: &SurveyTable,
        limit: usize,
    ) -> Result<Vec<Vec<SqlValue>>, DbError> {
        let reads: Vec<String> = t
            .columns
            .iter()
            .map(|c| self.dialect().read_as_text(c.kind, &quote(&c.name)))
            .collect();
        let q = Query::new(format!(
            "SELECT {} FROM {} LIMIT {limit}",
            reads.join(", "),
            quote(split_table(&t.name).1)
        ));
        self.fetch(&q).await
    }
}

/// `k` with SQLite's implicit references (`REFERENCES orders` names no column: the
/// primary key's) spelled out from the referenced table's primary key.
fn with_implicit_references(k: &ForeignKey, keys: &[(String, Vec<String>)]) -> ForeignKey {
    let mut k = k.clone();
    if k.references.iter().any(String::is_empty)
        && let Some((_, pk)) = keys.iter().find(|(t, _)| t.eq_ignore_ascii_case(&k.table))
    {
        for (i, r) in k.references.iter_mut().enumerate() {
            if r.is_empty() {
                *r = pk.get(i).cloned().unwrap_or_default();
            }
        }
    }
    k
}
