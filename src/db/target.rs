//! A policy checked against the live catalog ([`Target`]) and the statements the
//! purge engine runs for it. Identifiers reach SQL only from here, in the catalog's
//! spelling and quoted; every value is bound.

use chrono::{DateTime, Days, SecondsFormat, Utc};

use super::{Backend, Db, DbError, Query, SqlValue, quote, sqlite};
use crate::config::did_you_mean;
use crate::policy::{Action, FilterValue, Ident, Loc, Policy, REDACTED, Strategy};

/// Rows bound per `IN (...)` list. Keeps every statement well below SQLite's and
/// PostgreSQL's limits on bound values.
const KEYS_PER_STATEMENT: usize = 500;

/// A `YYYY-MM-DD` prefix, which every readable ISO 8601 timestamp starts with.
const ISO_DATE_GLOB: &str = "[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]*";

/// How a timestamp column stores its instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsEncoding {
    /// Unix epoch seconds (integer or real).
    Epoch,
    /// ISO 8601 text, with or without an offset (without = UTC).
    Text,
}

impl TsEncoding {
    pub fn describe(self) -> &'static str {
        match self {
            TsEncoding::Epoch => "Unix epoch seconds",
            TsEncoding::Text => "ISO 8601 text",
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

#[derive(Debug, Clone)]
struct Cascade {
    table_name: String,
    table: String,
    foreign_key: Vec<String>,
}

/// A policy whose table and columns exist, with their quoted names.
#[derive(Debug, Clone)]
pub struct Target {
    /// The table as the catalog spells it, for messages and the audit trail.
    pub table_name: String,
    pub encoding: TsEncoding,
    pub action: Action,
    table: String,
    key: Vec<String>,
    ts: String,
    filter: Vec<(String, Vec<SqlValue>)>,
    marker: Option<String>,
    /// Quoted column and its strategy, in config order.
    anonymize: Vec<(String, Strategy)>,
    cascade: Vec<Cascade>,
}

struct Column {
    name: String,
    declared: String,
    not_null: bool,
    pk: i64,
}

struct Index {
    unique: bool,
    partial: bool,
    columns: Vec<String>,
}

struct TableInfo {
    name: String,
    columns: Vec<Column>,
    indexes: Vec<Index>,
}

impl TableInfo {
    fn column(&self, name: &str) -> Option<&Column> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    fn primary_key(&self) -> Vec<String> {
        let mut pk: Vec<&Column> = self.columns.iter().filter(|c| c.pk > 0).collect();
        pk.sort_by_key(|c| c.pk);
        pk.iter().map(|c| c.name.to_ascii_lowercase()).collect()
    }

    fn is_unique(&self, cols: &[String]) -> bool {
        let mut want: Vec<String> = cols.iter().map(|c| c.to_ascii_lowercase()).collect();
        want.sort();
        let same = |have: Vec<String>| {
            let mut have = have;
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

    fn has_index_led_by(&self, column: &str) -> bool {
        let pk = self.primary_key();
        pk.first().is_some_and(|c| c.eq_ignore_ascii_case(column))
            || self.indexes.iter().any(|i| {
                i.columns
                    .first()
                    .is_some_and(|c| c.eq_ignore_ascii_case(column))
            })
    }
}

/// SQLite's type affinity of a declared column type (section 3.1 of its datatype doc).
fn sqlite_affinity(declared: &str) -> &'static str {
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

fn split_table(name: &str) -> (Option<&str>, &str) {
    match name.split_once('.') {
        Some((schema, table)) => (Some(schema), table),
        None => (None, name),
    }
}

async fn table_info(db: &mut Db, ident: &Ident) -> Result<Option<TableInfo>, DbError> {
    let (schema, table) = split_table(&ident.name);
    let schema = schema.unwrap_or("main");
    let rows = db.fetch(&sqlite::table_columns(schema, table)).await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let columns = rows
        .into_iter()
        .map(|r| match r.as_slice() {
            [
                SqlValue::Text(name),
                declared,
                SqlValue::Int(not_null),
                SqlValue::Int(pk),
            ] => Ok(Column {
                name: name.clone(),
                declared: declared.as_text().unwrap_or("").to_string(),
                not_null: *not_null != 0,
                pk: *pk,
            }),
            other => Err(DbError::Decode(format!("table_info row {other:?}"))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut indexes: Vec<(String, Index)> = Vec::new();
    for r in db.fetch(&sqlite::index_columns(schema, table)).await? {
        let [
            SqlValue::Text(index),
            SqlValue::Int(unique),
            SqlValue::Int(partial),
            column,
        ] = r.as_slice()
        else {
            continue;
        };
        // An index on an expression has a NULL column name; it cannot serve a key.
        let column = column.as_text().unwrap_or("").to_string();
        match indexes.last_mut() {
            Some((name, idx)) if name == index => idx.columns.push(column),
            _ => indexes.push((
                index.clone(),
                Index {
                    unique: *unique != 0,
                    partial: *partial != 0,
                    columns: vec![column],
                },
            )),
        }
    }
    let catalog_name = match schema {
        "main" if !ident.name.contains('.') => table.to_string(),
        _ => format!("{schema}.{table}"),
    };
    Ok(Some(TableInfo {
        name: catalog_name,
        columns,
        indexes: indexes.into_iter().map(|(_, i)| i).collect(),
    }))
}

async fn table_names(db: &mut Db, ident: &Ident) -> Result<Vec<String>, DbError> {
    let schema = split_table(&ident.name).0.unwrap_or("main");
    let rows = db.fetch(&sqlite::table_names(schema)).await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| r.into_iter().next())
        .filter_map(|v| match v {
            SqlValue::Text(s) if !s.starts_with("retention_") => Some(s),
            _ => None,
        })
        .collect())
}

fn quoted_table(backend: Backend, info: &TableInfo) -> String {
    match split_table(&info.name) {
        (Some(schema), table) => format!("{}.{}", quote(backend, schema), quote(backend, table)),
        (None, table) => quote(backend, table),
    }
}

/// Checks `policy` against the live catalog and detects how its timestamps are stored.
/// Problems (a missing table or column, a key that is not unique) make the policy
/// unusable; warnings (no index on the timestamp) do not.
pub async fn resolve(db: &mut Db, policy: &Policy) -> Result<ResolveReport, DbError> {
    let backend = db.backend();
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let mut problem = |loc: Loc, message: String| problems.push(SchemaProblem { loc, message });

    let Some(info) = table_info(db, &policy.table).await? else {
        let names = table_names(db, &policy.table).await?;
        let hint = match did_you_mean(&policy.table.name, names.iter().map(String::as_str)) {
            Some(s) => format!("; did you mean `{s}`?"),
            None if names.is_empty() => "; the database has no tables".into(),
            None => format!("; tables: {}", names.join(", ")),
        };
        problem(
            policy.table.loc,
            format!(
                "policy `{}`: table `{}` does not exist in the database{hint}",
                policy.name, policy.table.name
            ),
        );
        return Ok(ResolveReport {
            target: None,
            problems,
            warnings,
        });
    };

    let column = |ident: &Ident,
                  role: &str,
                  problem: &mut dyn FnMut(Loc, String)|
     -> Option<String> {
        match info.column(&ident.name) {
            Some(c) => Some(c.name.clone()),
            None => {
                let names: Vec<&str> = info.columns.iter().map(|c| c.name.as_str()).collect();
                let hint = match did_you_mean(&ident.name, names.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`? "),
                    None => String::new(),
                };
                problem(
                    ident.loc,
                    format!(
                        "policy `{}`: {role} column `{}` does not exist in table `{}`; {hint}columns: {}",
                        policy.name,
                        ident.name,
                        info.name,
                        names.join(", ")
                    ),
                );
                None
            }
        }
    };

    let key: Vec<Option<String>> = policy
        .key
        .iter()
        .map(|k| column(k, "key", &mut problem))
        .collect();
    let ts = column(&policy.timestamp, "timestamp", &mut problem);
    if let Some(s) = &policy.subject {
        column(s, "subject", &mut problem);
    }
    let filter: Vec<Option<(String, Vec<SqlValue>)>> = policy
        .filter
        .iter()
        .map(|f| {
            column(&f.column, "filter", &mut problem).map(|c| {
                let values = f.values.iter().map(filter_value).collect();
                (quote(backend, &c), values)
            })
        })
        .collect();
    let marker = policy
        .marker
        .as_ref()
        .and_then(|m| column(m, "marker", &mut problem));
    if let Some(m) = policy.marker.as_ref().and_then(|m| info.column(&m.name))
        && m.not_null
    {
        problem(
            policy.marker.as_ref().map(|i| i.loc).unwrap_or(policy.loc),
            format!(
                "policy `{}`: marker column `{}` is NOT NULL; retentiond finds rows still to anonymise by a NULL marker",
                policy.name, m.name
            ),
        );
    }
    let mut anonymize = Vec::new();
    for a in &policy.anonymize {
        let Some(name) = column(&a.column, "anonymize", &mut problem) else {
            continue;
        };
        let col = info.column(&name).expect("column was found above");
        let affinity = sqlite_affinity(&col.declared);
        if a.strategy.writes_text() && !matches!(affinity, "TEXT" | "BLOB") {
            problem(
                a.column.loc,
                format!(
                    "policy `{}`: strategy `{}` writes text, but column `{}` is declared {} ({} affinity)",
                    policy.name,
                    a.strategy.as_str(),
                    name,
                    col.declared,
                    affinity.to_ascii_lowercase()
                ),
            );
        }
        if a.strategy == Strategy::Null && col.not_null {
            problem(
                a.column.loc,
                format!(
                    "policy `{}`: strategy `null` on column `{name}`, which is NOT NULL; use `redact` for text",
                    policy.name
                ),
            );
        }
        anonymize.push((quote(backend, &name), a.strategy));
    }

    let key_names: Vec<String> = key.iter().flatten().cloned().collect();
    if key_names.len() == policy.key.len() && !info.is_unique(&key_names) {
        problem(
            policy.key[0].loc,
            format!(
                "policy `{}`: key ({}) of table `{}` is not unique: there is no primary key or unique index on exactly these columns",
                policy.name,
                key_names.join(", "),
                info.name
            ),
        );
    }
    if let Some(ts) = &ts
        && !info.has_index_led_by(ts)
    {
        warnings.push(SchemaProblem {
                loc: policy.timestamp.loc,
                message: format!(
                    "policy `{}`: no index on table `{}` starts with `{ts}`, so every pass reads the whole table; CREATE INDEX ON {} ({ts})",
                    policy.name, info.name, info.name
                ),
            });
    }

    let mut cascade = Vec::new();
    for c in &policy.cascade {
        let Some(child) = table_info(db, &c.table).await? else {
            problem(
                c.table.loc,
                format!(
                    "policy `{}`: cascade table `{}` does not exist in the database",
                    policy.name, c.table.name
                ),
            );
            continue;
        };
        let mut fks = Vec::new();
        for fk in &c.foreign_key {
            match child.column(&fk.name) {
                Some(col) => fks.push(quote(backend, &col.name)),
                None => problem(
                    fk.loc,
                    format!(
                        "policy `{}`: foreign_key column `{}` does not exist in table `{}`; columns: {}",
                        policy.name,
                        fk.name,
                        child.name,
                        child
                            .columns
                            .iter()
                            .map(|c| c.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
            }
        }
        cascade.push(Cascade {
            table_name: child.name.clone(),
            table: quoted_table(backend, &child),
            foreign_key: fks,
        });
    }

    if !problems.is_empty() {
        return Ok(ResolveReport {
            target: None,
            problems,
            warnings,
        });
    }
    let ts = ts.expect("no problems, so the timestamp column exists");
    let declared = info
        .column(&ts)
        .map(|c| c.declared.clone())
        .unwrap_or_default();
    let mut target = Target {
        table_name: info.name.clone(),
        encoding: TsEncoding::Text,
        action: policy.action,
        table: quoted_table(backend, &info),
        key: key_names.iter().map(|k| quote(backend, k)).collect(),
        ts: quote(backend, &ts),
        filter: filter.into_iter().flatten().collect(),
        marker: marker.map(|m| quote(backend, &m)),
        anonymize,
        cascade,
    };
    target.encoding = detect_encoding(db, &target, &declared).await?;
    if target.encoding == TsEncoding::Epoch
        && let Some(SqlValue::Int(max)) = target.extreme(db, true).await?.first()
    {
        // 10^11 seconds is the year 5138: such values are surely milliseconds.
        if *max > 100_000_000_000 {
            warnings.push(SchemaProblem {
                    loc: policy.timestamp.loc,
                    message: format!(
                        "policy `{}`: `{ts}` holds epoch values up to {max}, which look like milliseconds; retentiond reads epoch values as seconds, so these rows would never expire",
                        policy.name
                    ),
                });
        }
    }
    Ok(ResolveReport {
        target: Some(target),
        problems,
        warnings,
    })
}

fn filter_value(v: &FilterValue) -> SqlValue {
    match v {
        FilterValue::Text(s) => SqlValue::Text(s.clone()),
        FilterValue::Int(n) => SqlValue::Int(*n),
        FilterValue::Float(x) => SqlValue::Real(*x),
        FilterValue::Bool(b) => SqlValue::Int(i64::from(*b)),
    }
}

/// SQLite sorts numbers before text, so the smallest and largest non-NULL timestamps
/// tell whether the column holds numbers, text, or both. Both: the declared type
/// decides, and the other kind is counted as unreadable.
async fn detect_encoding(db: &mut Db, t: &Target, declared: &str) -> Result<TsEncoding, DbError> {
    let kind = |v: Option<&SqlValue>| match v {
        Some(SqlValue::Int(_) | SqlValue::Real(_)) => Some(true),
        Some(_) => Some(false),
        None => None,
    };
    let lowest = kind(t.extreme(db, false).await?.first());
    let highest = kind(t.extreme(db, true).await?.first());
    let numeric_affinity = matches!(sqlite_affinity(declared), "INTEGER" | "REAL");
    Ok(match (lowest, highest) {
        (Some(true), Some(true)) => TsEncoding::Epoch,
        (Some(false), _) => TsEncoding::Text,
        _ if numeric_affinity => TsEncoding::Epoch,
        _ => TsEncoding::Text,
    })
}

impl Target {
    pub fn key_len(&self) -> usize {
        self.key.len()
    }

    pub fn anonymize_strategies(&self) -> Vec<Strategy> {
        self.anonymize.iter().map(|(_, s)| *s).collect()
    }

    pub fn cascade_tables(&self) -> Vec<String> {
        self.cascade.iter().map(|c| c.table_name.clone()).collect()
    }

    /// The smallest or largest non-NULL timestamp value, read through the index.
    async fn extreme(&self, db: &mut Db, largest: bool) -> Result<Vec<SqlValue>, DbError> {
        let q = Query::new(format!(
            "SELECT {ts} FROM {t} WHERE {ts} IS NOT NULL ORDER BY {ts} {dir} LIMIT 1",
            ts = self.ts,
            t = self.table,
            dir = if largest { "DESC" } else { "ASC" }
        ));
        Ok(db.fetch(&q).await?.into_iter().next().unwrap_or_default())
    }

    /// `timestamp < cutoff`, in a form that can walk an index on the timestamp.
    fn push_expired(&self, q: &mut Query, cutoff: DateTime<Utc>) {
        match self.encoding {
            TsEncoding::Epoch => {
                let seconds = cutoff.timestamp() as f64
                    + f64::from(cutoff.timestamp_subsec_millis()) / 1000.0;
                q.push(&self.ts).push(" < ").bind(SqlValue::Real(seconds));
            }
            TsEncoding::Text => {
                // The index is ordered as text, and offsets can move a local date by
                // up to 14 hours: bound the index range by the date two days after the
                // cutoff, then compare exact instants with julianday(), which parses
                // offsets and treats text without one as UTC.
                let coarse = (cutoff + Days::new(2)).format("%Y-%m-%d").to_string();
                q.push(&self.ts)
                    .push(" >= ")
                    .bind(SqlValue::Text(String::new()))
                    .push(" AND ")
                    .push(&self.ts)
                    .push(" < ")
                    .bind(SqlValue::Text(coarse))
                    .push(" AND ")
                    .push(&self.ts)
                    .push(" GLOB ")
                    .bind(SqlValue::Text(ISO_DATE_GLOB.into()))
                    .push(" AND julianday(")
                    .push(&self.ts)
                    .push(") < julianday(")
                    .bind(SqlValue::Text(rfc3339(cutoff)))
                    .push(")");
            }
        }
    }

    fn push_filter(&self, q: &mut Query) {
        for (column, values) in &self.filter {
            q.push(" AND ").push(column).push(" IN (");
            q.bind_list(values.iter().cloned()).push(")");
        }
    }

    /// Rows an anonymise policy has not yet done: a NULL marker, or a value its
    /// recognisable strategies have not yet written.
    fn push_pending(&self, q: &mut Query) {
        if self.action != Action::Anonymize {
            return;
        }
        if let Some(marker) = &self.marker {
            q.push(" AND ").push(marker).push(" IS NULL");
            return;
        }
        q.push(" AND (");
        for (i, (column, strategy)) in self.anonymize.iter().enumerate() {
            if i > 0 {
                q.push(" OR ");
            }
            match strategy {
                Strategy::Redact => {
                    q.push("(")
                        .push(column)
                        .push(" IS NOT NULL AND ")
                        .push(column)
                        .push(" <> ");
                    q.bind(SqlValue::Text(REDACTED.into())).push(")");
                }
                _ => {
                    q.push(column).push(" IS NOT NULL");
                }
            }
        }
        q.push(")");
    }

    fn push_key_list(&self, q: &mut Query, columns: &[String], keys: &[Vec<SqlValue>]) {
        if columns.len() == 1 {
            q.push(&columns[0]).push(" IN (");
            q.bind_list(keys.iter().map(|k| k[0].clone())).push(")");
        } else {
            q.push("(").push(&columns.join(", ")).push(") IN (VALUES ");
            for (i, k) in keys.iter().enumerate() {
                q.push(if i == 0 { "(" } else { ", (" });
                q.bind_list(k.iter().cloned()).push(")");
            }
            q.push(")");
        }
    }

    /// Rows the policy would purge now.
    pub async fn count_expired(&self, db: &mut Db, cutoff: DateTime<Utc>) -> Result<u64, DbError> {
        let mut q = Query::new(format!("SELECT count(*) FROM {} WHERE ", self.table));
        self.push_expired(&mut q, cutoff);
        self.push_filter(&mut q);
        self.push_pending(&mut q);
        Ok(db.fetch_one_int(&q).await?.max(0) as u64)
    }

    pub async fn count_rows(&self, db: &mut Db) -> Result<u64, DbError> {
        let q = Query::new(format!("SELECT count(*) FROM {}", self.table));
        Ok(db.fetch_one_int(&q).await?.max(0) as u64)
    }

    /// Rows in the policy's scope whose timestamp cannot be read: never purged.
    pub async fn count_unreadable(&self, db: &mut Db) -> Result<u64, DbError> {
        let mut q = Query::new(format!("SELECT count(*) FROM {} WHERE ", self.table));
        match self.encoding {
            TsEncoding::Epoch => {
                q.push("typeof(")
                    .push(&self.ts)
                    .push(") IN ('text', 'blob')");
            }
            TsEncoding::Text => {
                q.push(&self.ts)
                    .push(" IS NOT NULL AND NOT (typeof(")
                    .push(&self.ts)
                    .push(") = 'text' AND ")
                    .push(&self.ts)
                    .push(" GLOB ")
                    .bind(SqlValue::Text(ISO_DATE_GLOB.into()))
                    .push(" AND julianday(")
                    .push(&self.ts)
                    .push(") IS NOT NULL)");
            }
        }
        self.push_filter(&mut q);
        Ok(db.fetch_one_int(&q).await?.max(0) as u64)
    }

    /// The next batch in (timestamp, key) order after `cursor`: each row is the
    /// timestamp, the key columns, then the columns to anonymise.
    pub async fn select_batch(
        &self,
        db: &mut Db,
        cutoff: DateTime<Utc>,
        cursor: Option<&Cursor>,
        limit: u32,
    ) -> Result<Vec<Vec<SqlValue>>, DbError> {
        let mut columns = vec![self.ts.clone()];
        columns.extend(self.key.iter().cloned());
        let order = columns.join(", ");
        if self.action == Action::Anonymize {
            columns.extend(self.anonymize.iter().map(|(c, _)| c.clone()));
        }
        let mut q = Query::new(format!(
            "SELECT {} FROM {} WHERE ",
            columns.join(", "),
            self.table
        ));
        self.push_expired(&mut q, cutoff);
        self.push_filter(&mut q);
        self.push_pending(&mut q);
        if let Some(cursor) = cursor {
            q.push(" AND (").push(&order).push(") > (");
            q.bind_list(cursor.iter().cloned()).push(")");
        }
        q.push(" ORDER BY ")
            .push(&order)
            .push(" LIMIT ")
            .bind(SqlValue::Int(i64::from(limit)));
        db.fetch(&q).await
    }

    /// Deletes the children of `keys` in cascade table `index`; returns the count.
    pub async fn delete_children(
        &self,
        db: &mut Db,
        index: usize,
        keys: &[Vec<SqlValue>],
    ) -> Result<u64, DbError> {
        let c = &self.cascade[index];
        let mut total = 0;
        for chunk in keys.chunks(KEYS_PER_STATEMENT) {
            let mut q = Query::new(format!("DELETE FROM {} WHERE ", c.table));
            self.push_key_list(&mut q, &c.foreign_key, chunk);
            total += db.execute(&q).await?;
        }
        Ok(total)
    }

    /// Deletes the rows with `keys`; returns the count.
    pub async fn delete_rows(&self, db: &mut Db, keys: &[Vec<SqlValue>]) -> Result<u64, DbError> {
        let mut total = 0;
        for chunk in keys.chunks(KEYS_PER_STATEMENT) {
            let mut q = Query::new(format!("DELETE FROM {} WHERE ", self.table));
            self.push_key_list(&mut q, &self.key, chunk);
            total += db.execute(&q).await?;
        }
        Ok(total)
    }

    /// Writes one row's anonymised values (in the order of the policy's `anonymize`
    /// table) and the marker; returns the count (0 or 1).
    pub async fn update_row(
        &self,
        db: &mut Db,
        key: &[SqlValue],
        values: Vec<SqlValue>,
        marker: Option<&str>,
    ) -> Result<u64, DbError> {
        let mut q = Query::new(format!("UPDATE {} SET ", self.table));
        for (i, ((column, _), v)) in self.anonymize.iter().zip(values).enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push(column).push(" = ").bind(v);
        }
        if let (Some(column), Some(m)) = (&self.marker, marker) {
            q.push(", ")
                .push(column)
                .push(" = ")
                .bind(SqlValue::Text(m.into()));
        }
        q.push(" WHERE ");
        for (i, (column, v)) in self.key.iter().zip(key).enumerate() {
            if i > 0 {
                q.push(" AND ");
            }
            q.push(column).push(" = ").bind(v.clone());
        }
        db.execute(&q).await
    }
}

/// RFC 3339 in UTC with milliseconds: how retentiond writes every instant.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}
