//! The whole schema at a glance, for `init` and the coverage warnings: every table
//! but retentiond's own, with its columns, primary key, indexed columns and foreign
//! keys, and a small sample of its rows. Reads only.

use super::catalog::{self, Kind, read_as_text, split_table};
use super::{Backend, Db, DbError, Query, SqlValue, mysql, postgres, quote, sqlite};
use crate::policy::{Ident, Loc};

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

/// `columns` of this table reference `references` of `table`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    pub columns: Vec<String>,
    pub table: String,
    pub references: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct SurveyTable {
    pub name: String,
    pub columns: Vec<SurveyColumn>,
    pub primary_key: Vec<String>,
    /// Columns that lead an index (the primary key's first included).
    pub indexed: Vec<String>,
    pub foreign_keys: Vec<ForeignKey>,
    quoted: String,
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
        let any = Ident {
            name: String::new(),
            loc: Loc::default(),
        };
        let mut tables = Vec::new();
        for name in catalog::table_names(self, &any).await? {
            let ident = Ident {
                name: name.clone(),
                loc: Loc::default(),
            };
            let Some(info) = catalog::table_info(self, &ident).await? else {
                continue;
            };
            let mut pk: Vec<(i64, String)> = info
                .columns
                .iter()
                .filter(|c| c.pk > 0)
                .map(|c| (c.pk, c.name.clone()))
                .collect();
            pk.sort();
            let mut indexed: Vec<String> = pk.first().map(|(_, n)| n.clone()).into_iter().collect();
            indexed.extend(
                info.indexes
                    .iter()
                    .filter_map(|i| i.columns.first().cloned()),
            );
            let foreign_keys = self.foreign_keys(&info.found_schema, &info.table).await?;
            tables.push(SurveyTable {
                name: info.name.clone(),
                quoted: quote(split_table(&info.name).1),
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
                primary_key: pk.into_iter().map(|(_, n)| n).collect(),
                indexed,
                foreign_keys,
            });
        }
        Ok(tables)
    }

    async fn foreign_keys(
        &mut self,
        schema: &str,
        table: &str,
    ) -> Result<Vec<ForeignKey>, DbError> {
        let q = match self.backend() {
            Backend::Sqlite => sqlite::foreign_keys(schema, table),
            Backend::Postgres => postgres::foreign_keys(schema, table),
            Backend::MySql => mysql::foreign_keys(schema, table),
        };
        let mut keys: Vec<(String, ForeignKey)> = Vec::new();
        for r in self.fetch(&q).await? {
            let text = |v: &SqlValue| v.to_text().unwrap_or_default();
            let (name, column, to_table, to_column) =
                (text(&r[0]), text(&r[1]), text(&r[2]), text(&r[3]));
            match keys.last_mut() {
                Some((n, k)) if *n == name => {
                    k.columns.push(column);
                    k.references.push(to_column);
                }
                _ => keys.push((
                    name,
                    ForeignKey {
                        columns: vec![column],
                        table: to_table,
                        references: vec![to_column],
                    },
                )),
            }
        }
        Ok(keys.into_iter().map(|(_, k)| k).collect())
    }

    /// Up to `limit` rows of `t`, every column as text (as stored on SQLite).
    pub async fn sample(
        &mut self,
        t: &SurveyTable,
        limit: usize,
    ) -> Result<Vec<Vec<SqlValue>>, DbError> {
        let reads: Vec<String> = t
            .columns
            .iter()
            .map(|c| read_as_text(self.backend(), c.kind, &quote(&c.name)))
            .collect();
        let q = Query::new(format!(
            "SELECT {} FROM {} LIMIT {limit}",
            reads.join(", "),
            t.quoted
        ));
        self.fetch(&q).await
    }
}
