//! The live catalog: which tables and columns exist, their types, keys and indexes,
//! read the same way from every backend, a whole schema in a handful of statements.

mod read;

use super::{Db, DbError, SqlValue};
use crate::policy::Ident;

/// What a column can hold, as far as retentiond cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Integer,
    Real,
    Text,
    /// A native timestamp; `tz` when it stores an instant (timestamptz).
    Timestamp {
        tz: bool,
    },
    Date,
    /// PostgreSQL inet / cidr.
    Ip,
    /// SQLite columns without a declared type, or with NUMERIC affinity (DATETIME):
    /// they hold whatever was stored.
    Any,
    Other,
}

#[derive(Debug, Clone)]
pub(super) struct Column {
    pub name: String,
    /// The type as the catalog spells it (`timestamp with time zone`, `varchar(64)`).
    pub declared: String,
    pub kind: Kind,
    pub not_null: bool,
    pub pk: i64,
}

#[derive(Debug, Clone)]
pub(super) struct Index {
    pub unique: bool,
    pub partial: bool,
    pub columns: Vec<String>,
}

/// `columns` of a table reference `references` of `table`. An empty name in
/// `references` stands for the referenced table's primary key column in that place
/// (SQLite's `REFERENCES t` without columns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    pub columns: Vec<String>,
    pub table: String,
    pub references: Vec<String>,
    /// ON DELETE CASCADE: the database deletes the row with the row it refers to.
    pub cascades: bool,
}

#[derive(Debug, Clone)]
pub(super) struct TableInfo {
    /// `schema.table` when the config named a schema, else the table, as the catalog spells them.
    pub name: String,
    pub schema: Option<String>,
    /// The schema the table is in, named or not.
    pub found_schema: String,
    pub table: String,
    /// PostgreSQL's partition key (`RANGE (payment_date)`) of a partitioned table.
    pub partition_key: Option<String>,
    pub columns: Vec<Column>,
    pub indexes: Vec<Index>,
    pub foreign_keys: Vec<ForeignKey>,
}

impl TableInfo {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name).or_else(|| {
            self.columns
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(name))
        })
    }

    /// The primary key's columns as the catalog spells them, in key order.
    pub fn primary_key_names(&self) -> Vec<String> {
        let mut pk: Vec<&Column> = self.columns.iter().filter(|c| c.pk > 0).collect();
        pk.sort_by_key(|c| c.pk);
        pk.iter().map(|c| c.name.clone()).collect()
    }

    fn primary_key(&self) -> Vec<String> {
        let mut pk: Vec<&Column> = self.columns.iter().filter(|c| c.pk > 0).collect();
        pk.sort_by_key(|c| c.pk);
        pk.iter().map(|c| c.name.to_ascii_lowercase()).collect()
    }

    pub fn is_unique(&self, cols: &[String]) -> bool {
        let mut want: Vec<String> = cols.iter().map(|c| c.to_ascii_lowercase()).collect();
        want.sort();
        let same = |mut have: Vec<String>| {
            have.sort();
            have == want
        };
        (!self.primary_key().is_empty() && same(self.primary_key()))
            || self.indexes.iter().any(|i| {
                i.unique
                    && !i.partial
                    && same(i.columns.iter().map(|c| c.to_ascii_lowercase()).collect())
            })
    }

    pub fn has_index_led_by(&self, column: &str) -> bool {
        self.primary_key()
            .first()
            .is_some_and(|c| c.eq_ignore_ascii_case(column))
            || self.indexes.iter().any(|i| {
                i.columns
                    .first()
                    .is_some_and(|c| c.eq_ignore_ascii_case(column))
            })
    }
}

/// Whether a column of `a` can hold the values of a column of `b`, as a foreign key
/// holds a key: the same kind, numbers of either kind, or an untyped SQLite column.
pub(super) fn compatible(a: Kind, b: Kind) -> bool {
    let number = |k: Kind| matches!(k, Kind::Integer | Kind::Real);
    a == b || (number(a) && number(b)) || a == Kind::Any || b == Kind::Any
}

/// SQLite's type affinity of a declared column type (section 3.1 of its datatype doc).
pub(in crate::db) fn sqlite_affinity(declared: &str) -> &'static str {
    let d = declared.to_ascii_uppercase();
    if d.contains("INT") {
        "INTEGER"
    } else if d.contains("CHAR") || d.contains("CLOB") || d.contains("TEXT") {
        "TEXT"
    } else if d.is_empty() || d.contains("BLOB") {
        "BLOB"
    } else if d.contains("REAL") || d.contains("FLOA") || d.contains("DOUB") {
        "REAL"
    } else {
        "NUMERIC"
    }
}

pub(super) fn split_table(name: &str) -> (Option<&str>, &str) {
    match name.split_once('.') {
        Some((schema, table)) => (Some(schema), table),
        None => (None, name),
    }
}

/// The table `ident` names, or `None` if the database has no such table.
pub(super) async fn table_info(db: &mut Db, ident: &Ident) -> Result<Option<TableInfo>, DbError> {
    let dialect = db.dialect();
    let (schema, table) = split_table(&ident.name);
    if schema.is_none() {
        if db.catalog.is_none() {
            db.catalog = Some(schema_tables(db).await?);
        }
        let known = db.catalog.as_deref().unwrap_or_default();
        // An exact match wins, as in the per-table lookup below.
        let found = known
            .iter()
            .find(|t| t.table == table)
            .or_else(|| known.iter().find(|t| t.table.eq_ignore_ascii_case(table)));
        if let Some(t) = found {
            return Ok(Some(t.clone()));
        }
        // Not among the default schema's tables as they were read: a partition,
        // or a table created since; looked up on its own.
    }
    // Find the table's exact schema and spelling first; SQLite's pragmas match any case.
    let (found_schema, found_table) = match dialect.find_table(schema, table) {
        None => (schema.unwrap_or("main").to_string(), table.to_string()),
        Some(q) => {
            let rows = db.fetch(&q).await?;
            let Some(r) = rows.first() else {
                return Ok(None);
            };
            let text = |v: &SqlValue| v.to_text().unwrap_or_default();
            (text(&r[0]), text(&r[1]))
        }
    };
    let found = read::tables(db, Some((&found_schema, &found_table))).await?;
    Ok(found.into_iter().next().map(|mut info| {
        if schema.is_some() {
            info.name = format!("{}.{}", info.found_schema, info.table);
            info.schema = Some(info.found_schema.clone());
        }
        info
    }))
}

/// Every table of the default schema (the search path's first on PostgreSQL, the
/// connection's database on MySQL, `main` on SQLite) but partitions, in a handful
/// of statements whatever their number.
pub(super) async fn schema_tables(db: &mut Db) -> Result<Vec<TableInfo>, DbError> {
    read::tables(db, None).await
}

/// The tables a policy could have meant, for "did you mean".
pub(super) async fn table_names(db: &mut Db, ident: &Ident) -> Result<Vec<String>, DbError> {
    let schema = split_table(&ident.name).0;
    let q = db.dialect().table_names(schema);
    Ok(db
        .fetch(&q)
        .await?
        .iter()
        .map(|r| r[0].to_text().unwrap_or_default())
        .filter(|s| !s.starts_with("retention_"))
        .collect())
}
