//! Checking a policy against the live catalog: every table and column it names must
//! exist with a usable type, its key must be unique, and so on. Each problem and
//! warning names the config line that caused it; a policy without problems becomes
//! a [`Target`].

use super::{Anonymized, Col, FileCol, ResolveReport, SchemaProblem, Target, TsEncoding, export};
use crate::db::catalog::{self, Column, Kind, TableInfo, split_table};
use crate::db::dialect::{Dialect, StorageOrder};
use crate::db::{Db, DbError, Query, SqlValue, quote};
use crate::policy::{FilterValue, Ident, Loc, Partitions, Policy, Strategy};
use crate::suggest::did_you_mean;

/// Epoch values above this (the year 5138 in seconds) are surely milliseconds.
const LARGEST_EPOCH_SECONDS: f64 = 1e11;

/// Checks `policy` against the live catalog and detects how its timestamps are stored.
/// Problems (a missing table or column, a key that is not unique) make the policy
/// unusable; warnings (no index on the timestamp) do not.
pub async fn resolve(db: &mut Db, policy: &Policy) -> Result<ResolveReport, DbError> {
    let mut c = Checker {
        policy,
        dialect: db.dialect(),
        problems: Vec::new(),
        warnings: Vec::new(),
    };
    let Some(info) = catalog::table_info(db, &policy.table).await? else {
        c.missing_table(db).await?;
        return Ok(c.report(None));
    };
    let columns = c.columns(&info);
    c.check_key_is_unique(&info);
    c.check_timestamp(&info);
    let drop_partitions_of = c.partitions(&info);
    let key: Vec<String> = policy
        .key
        .iter()
        .filter_map(|k| info.column(&k.name).map(|c| c.name.clone()))
        .collect();
    let cascade = if key.len() == policy.key.len() {
        c.cascades(db, &info, &key, &policy.cascade).await?
    } else {
        Vec::new()
    };
    let (Some(ts), true) = (columns.ts, c.problems.is_empty()) else {
        return Ok(c.report(None));
    };
    let mut target = Target {
        dialect: c.dialect,
        table_name: info.name.clone(),
        encoding: TsEncoding::Text,
        action: policy.action,
        table: quoted_table(&info),
        key: columns.key,
        ts,
        filter: columns.filter,
        marker: columns.marker,
        anonymize: columns.anonymize,
        cascade,
        files: columns.files,
        drop_partitions_of,
        subject: None,
        subject_name: policy
            .subject
            .as_ref()
            .and_then(|s| info.column(&s.name))
            .map(|c| c.name.clone()),
        columns: export::export_columns(c.dialect, &info),
        policy_name: policy.name.clone(),
        storage_order: StorageOrder::None(String::new()),
    };
    target.storage_order = super::walk::storage_order(db, c.dialect, &info, &target.table).await?;
    // Holds can only exist once retentiond's tables do (plan and check create none).
    if db.has_own_tables().await? {
        target.subject = columns.subject;
    }
    let (encoding, highest) = detect_encoding(db, &target).await?;
    target.encoding = encoding;
    if encoding == TsEncoding::Text {
        export::mark_timestamp(&mut target.columns, &policy.timestamp.name);
    }
    if encoding == TsEncoding::Epoch {
        let highest = match highest {
            Some(v) => Some(v),
            None => target.extreme(db, true).await?,
        };
        c.check_epoch_unit(highest.as_ref().and_then(SqlValue::as_number));
    }
    Ok(c.report(Some(target)))
}

/// The quoted table, `"schema"."table"` when the config named a schema.
pub(super) fn quoted_table(info: &TableInfo) -> String {
    match &info.schema {
        Some(schema) => format!("{}.{}", quote(schema), quote(&info.table)),
        None => quote(&info.table),
    }
}

/// PostgreSQL type names as `format_type` prints the built-in ones. A type outside
/// this shape (a quoted user type, an array) is refused rather than pasted into a cast.
fn castable(declared: &str) -> bool {
    !declared.is_empty()
        && declared.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, ' ' | '_' | '(' | ')' | ',')
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

/// The columns of the policy's own table, each found (or reported missing).
struct Columns {
    key: Vec<Col>,
    ts: Option<Col>,
    subject: Option<Col>,
    filter: Vec<(Col, Vec<SqlValue>)>,
    marker: Option<Col>,
    anonymize: Vec<Anonymized>,
    files: Vec<FileCol>,
}

/// Collects what is wrong with a policy while its names are looked up.
pub(super) struct Checker<'p> {
    policy: &'p Policy,
    pub(super) dialect: &'static dyn Dialect,
    problems: Vec<SchemaProblem>,
    warnings: Vec<SchemaProblem>,
}

impl Checker<'_> {
    pub(super) fn problem(&mut self, loc: Loc, message: String) {
        self.problems.push(SchemaProblem {
            loc,
            message: format!("policy `{}`: {message}", self.policy.name),
        });
    }

    fn warning(&mut self, loc: Loc, message: String) {
        self.warnings.push(SchemaProblem {
            loc,
            message: format!("policy `{}`: {message}", self.policy.name),
        });
    }

    fn report(self, target: Option<Target>) -> ResolveReport {
        ResolveReport {
            target,
            problems: self.problems,
            warnings: self.warnings,
        }
    }

    /// The policy's table does not exist: say which ones do, or the closest.
    async fn missing_table(&mut self, db: &mut Db) -> Result<(), DbError> {
        let table = &self.policy.table;
        let names = catalog::table_names(db, table).await?;
        let hint = match did_you_mean(split_table(&table.name).1, names.iter().map(String::as_str))
        {
            Some(s) => format!("; did you mean `{s}`?"),
            None if names.is_empty() => "; the database has no tables".into(),
            None => format!("; tables: {}", names.join(", ")),
        };
        self.problem(
            table.loc,
            format!(
                "table `{}` does not exist in the database{hint}",
                table.name
            ),
        );
        Ok(())
    }

    /// The column `ident` names in `info` as a [`Col`], or a problem that lists the
    /// table's columns.
    pub(super) fn column(&mut self, info: &TableInfo, ident: &Ident, role: &str) -> Option<Col> {
        let Some(c) = info.column(&ident.name) else {
            let names: Vec<&str> = info.columns.iter().map(|c| c.name.as_str()).collect();
            let hint = match did_you_mean(&ident.name, names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`? "),
                None => String::new(),
            };
            self.problem(
                ident.loc,
                format!(
                    "{role} column `{}` does not exist in table `{}`; {hint}columns: {}",
                    ident.name,
                    info.name,
                    names.join(", ")
                ),
            );
            return None;
        };
        let cast = self.dialect.cast_for(&c.declared);
        if cast.as_deref().is_some_and(|t| !castable(t)) {
            self.problem(
                ident.loc,
                format!(
                    "column `{}` has type {}, which retentiond cannot bind values to",
                    c.name, c.declared
                ),
            );
            return None;
        }
        Some(Col {
            quoted: quote(&c.name),
            kind: c.kind,
            cast,
        })
    }

    fn columns(&mut self, info: &TableInfo) -> Columns {
        let p = self.policy;
        let key = p
            .key
            .iter()
            .filter_map(|k| self.column(info, k, "key"))
            .collect();
        let ts = self.column(info, &p.timestamp, "timestamp");
        let subject = p
            .subject
            .as_ref()
            .and_then(|s| self.column(info, s, "subject"));
        let filter = p
            .filter
            .iter()
            .filter_map(|f| {
                let values = f.values.iter().map(filter_value).collect();
                self.column(info, &f.column, "filter").map(|c| (c, values))
            })
            .collect();
        let marker = p
            .marker
            .as_ref()
            .and_then(|m| self.column(info, m, "marker"));
        if let Some(m) = &p.marker
            && info.column(&m.name).is_some_and(|c| c.not_null)
        {
            self.problem(
                m.loc,
                format!(
                    "marker column `{}` is NOT NULL; retentiond finds rows still to anonymise by a NULL marker",
                    m.name
                ),
            );
        }
        let mut anonymize = Vec::new();
        for a in &p.anonymize {
            if let Some(col) = self.column(info, &a.column, "anonymize") {
                let c = info.column(&a.column.name).expect("column was found above");
                self.check_strategy(a.strategy, &a.column, c);
                anonymize.push(Anonymized::new(self.dialect, col, a.strategy));
            }
        }
        let files = self.file_columns(info, &p.files, &p.anonymize);
        Columns {
            key,
            ts,
            subject,
            filter,
            marker,
            anonymize,
            files,
        }
    }

    /// The columns of `info` holding files, each of text, with its place among the
    /// anonymised columns.
    pub(super) fn file_columns(
        &mut self,
        info: &TableInfo,
        files: &[crate::policy::FileColumn],
        anonymize: &[crate::policy::Anonymize],
    ) -> Vec<FileCol> {
        let mut out = Vec::new();
        for f in files {
            let Some(col) = self.column(info, &f.column, "files") else {
                continue;
            };
            if !matches!(col.kind, Kind::Text | Kind::Any) {
                let declared = info
                    .column(&f.column.name)
                    .map_or("", |c| c.declared.as_str());
                self.problem(
                    f.column.loc,
                    format!(
                        "files column `{}` is declared {declared}; a path or object key is text",
                        f.column.name
                    ),
                );
                continue;
            }
            let anonymized = anonymize
                .iter()
                .position(|a| a.column.name.eq_ignore_ascii_case(&f.column.name));
            out.push(FileCol {
                col,
                store: f.store.clone(),
                anonymized,
            });
        }
        out
    }

    /// Whether the column can hold what `strategy` writes.
    fn check_strategy(&mut self, strategy: Strategy, ident: &Ident, c: &Column) {
        let name = strategy.as_str();
        let text_ok = matches!(c.kind, Kind::Text | Kind::Any)
            || (strategy == Strategy::TruncateIp && c.kind == Kind::Ip);
        if strategy.writes_text() && !text_ok {
            self.problem(
                ident.loc,
                format!(
                    "strategy `{name}` writes text, but column `{}` is declared {}",
                    c.name, c.declared
                ),
            );
        }
        let dated = matches!(
            c.kind,
            Kind::Timestamp { .. } | Kind::Date | Kind::Text | Kind::Integer | Kind::Any
        );
        if matches!(strategy, Strategy::Year | Strategy::Month) && !dated {
            self.problem(
                ident.loc,
                format!(
                    "strategy `{name}` needs a date, timestamp, ISO text or epoch column; `{}` is declared {}",
                    c.name, c.declared
                ),
            );
        }
        if strategy == Strategy::Null && c.not_null {
            self.problem(
                ident.loc,
                format!(
                    "strategy `null` on column `{}`, which is NOT NULL; use `redact` for text",
                    c.name
                ),
            );
        }
    }

    fn check_key_is_unique(&mut self, info: &TableInfo) {
        let p = self.policy;
        let key_names: Vec<String> = p
            .key
            .iter()
            .filter_map(|k| info.column(&k.name).map(|c| c.name.clone()))
            .collect();
        if key_names.len() == p.key.len() && !info.is_unique(&key_names) {
            self.problem(
                p.key[0].loc,
                format!(
                    "key ({}) of table `{}` is not unique: there is no primary key or unique index on exactly these columns",
                    key_names.join(", "),
                    info.name
                ),
            );
        }
    }

    fn check_timestamp(&mut self, info: &TableInfo) {
        let ts = &self.policy.timestamp;
        let Some(c) = info.column(&ts.name) else {
            return;
        };
        if !info.has_index_led_by(&c.name) {
            self.warning(
                ts.loc,
                format!(
                    "no index on table `{}` starts with `{}`, so every pass reads the whole table; CREATE INDEX ON {} ({})",
                    info.name, c.name, info.name, c.name
                ),
            );
        }
        if matches!(c.kind, Kind::Other | Kind::Ip) {
            self.problem(
                ts.loc,
                format!(
                    "timestamp column `{}` is declared {}; it must hold a timestamp, a date, ISO 8601 text or epoch seconds",
                    c.name, c.declared
                ),
            );
        }
    }

    /// For `partitions = "drop"`: the partitioned table's schema and name, if it is
    /// range-partitioned by the timestamp column on PostgreSQL.
    fn partitions(&mut self, info: &TableInfo) -> Option<(String, String)> {
        let p = self.policy;
        if p.partitions != Partitions::Drop {
            return None;
        }
        let ts_column = info.column(&p.timestamp.name);
        let ts_name = ts_column.map(|c| c.name.as_str()).unwrap_or("");
        let expected = format!("range ({})", ts_name.to_ascii_lowercase());
        let problem = match &info.partition_key {
            _ if !self.dialect.drops_range_partitions() => format!(
                "partitions = \"drop\" works on PostgreSQL's range-partitioned tables; remove it on {}",
                self.dialect.backend().name()
            ),
            None => format!(
                "partitions = \"drop\", but table `{}` is not partitioned",
                info.name
            ),
            Some(key) if key.to_ascii_lowercase().replace('"', "") != expected => format!(
                "partitions = \"drop\" needs `{}` partitioned by RANGE ({ts_name}), but it is partitioned by {key}",
                info.name
            ),
            _ if !ts_column
                .is_some_and(|c| matches!(c.kind, Kind::Timestamp { .. } | Kind::Date)) =>
            {
                "partitions = \"drop\" needs a timestamp or date partition column".into()
            }
            _ => return Some((info.found_schema.clone(), info.table.clone())),
        };
        self.problem(p.loc, problem);
        None
    }

    /// Epoch values far in the future are milliseconds read as seconds: such rows
    /// would never expire.
    fn check_epoch_unit(&mut self, highest: Option<f64>) {
        let ts = &self.policy.timestamp;
        if let Some(max) = highest
            && max > LARGEST_EPOCH_SECONDS
        {
            self.warning(
                ts.loc,
                format!(
                    "`{}` holds epoch values up to {max}, which look like milliseconds; retentiond reads epoch values as seconds, so these rows would never expire",
                    ts.name
                ),
            );
        }
    }
}

/// How the timestamp column stores instants, and its largest value if that had to
/// be read to tell.
///
/// PostgreSQL and MySQL say in their catalog what a column holds. SQLite does not, so
/// there the data decides: it sorts numbers before text, so the smallest and largest
/// non-NULL values tell whether the column holds numbers, text, or both. Both: the
/// declared type decides, and the other kind is counted as unreadable.
async fn detect_encoding(
    db: &mut Db,
    t: &Target,
) -> Result<(TsEncoding, Option<SqlValue>), DbError> {
    match t.ts.kind {
        Kind::Integer | Kind::Real if !t.dialect.values_as_written() => {
            return Ok((TsEncoding::Epoch, None));
        }
        Kind::Timestamp { .. } | Kind::Date => return Ok((TsEncoding::Native, None)),
        Kind::Text if !t.dialect.values_as_written() => return Ok((TsEncoding::Text, None)),
        _ => {}
    }
    let is_number = |v: &Option<SqlValue>| match v {
        Some(SqlValue::Int(_) | SqlValue::Real(_)) => Some(true),
        Some(_) => Some(false),
        None => None,
    };
    let lowest = t.extreme(db, false).await?;
    let highest = t.extreme(db, true).await?;
    let numeric_affinity = matches!(t.ts.kind, Kind::Integer | Kind::Real);
    let encoding = match (is_number(&lowest), is_number(&highest)) {
        (Some(true), Some(true)) => TsEncoding::Epoch,
        (Some(false), _) => TsEncoding::Text,
        _ if numeric_affinity => TsEncoding::Epoch,
        _ => TsEncoding::Text,
    };
    Ok((encoding, highest))
}

impl Target {
    /// The smallest or largest non-NULL timestamp value, read through the index.
    async fn extreme(&self, db: &mut Db, largest: bool) -> Result<Option<SqlValue>, DbError> {
        let q = Query::new(format!(
            "SELECT {ts} FROM {t} WHERE {ts} IS NOT NULL ORDER BY {ts} {dir} LIMIT 1",
            ts = self.ts.quoted,
            t = self.table,
            dir = if largest { "DESC" } else { "ASC" }
        ));
        Ok(db
            .fetch(&q)
            .await?
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next()))
    }
}
