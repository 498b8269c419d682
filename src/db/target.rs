//! A policy checked against the live catalog ([`Target`]) and the statements the
//! purge engine runs for it. Identifiers reach SQL only from here, in the catalog's
//! spelling and quoted; every value is bound.

use chrono::{DateTime, Days, SecondsFormat, Utc};

use super::catalog::{self, Kind, TableInfo, split_table};
use super::{Backend, Db, DbError, Query, SqlValue, quote};
use crate::policy::{Action, FilterValue, Ident, Loc, Partitions, Policy, REDACTED, Strategy};
use crate::suggest::did_you_mean;

/// Rows bound per `IN (...)` list. Keeps every statement well below SQLite's and
/// PostgreSQL's limits on bound values.
const KEYS_PER_STATEMENT: usize = 500;

/// A `YYYY-MM-DD` prefix, which every readable ISO 8601 timestamp starts with.
const ISO_DATE_GLOB: &str = "[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]*";

/// The ISO 8601 forms retentiond reads from text columns on PostgreSQL and MySQL.
const ISO_REGEX: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?(Z|[+-][0-9]{2}:[0-9]{2})?$";
const ISO_REGEX_NO_ZONE: &str =
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?$";
const ISO_REGEX_Z: &str =
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?Z$";
const ISO_REGEX_OFFSET: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?[+-][0-9]{2}:[0-9]{2}$";

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
pub(super) struct Col {
    quoted: String,
    kind: Kind,
    /// The catalog type, for PostgreSQL's casts of bound text.
    cast: Option<String>,
}

#[derive(Debug, Clone)]
struct Cascade {
    table_name: String,
    table: String,
    foreign_key: Vec<Col>,
}

/// A policy whose table and columns exist, with their quoted names.
#[derive(Debug, Clone)]
pub struct Target {
    backend: Backend,
    /// The table as the catalog spells it, for messages and the audit trail.
    pub table_name: String,
    pub encoding: TsEncoding,
    pub action: Action,
    table: String,
    key: Vec<Col>,
    ts: Col,
    filter: Vec<(Col, Vec<SqlValue>)>,
    marker: Option<Col>,
    /// Each column to anonymise and its strategy, in config order.
    anonymize: Vec<(Col, Strategy)>,
    cascade: Vec<Cascade>,
    /// The partitioned table's exact schema and name, when whole expired partitions
    /// are dropped (`partitions = "drop"`, PostgreSQL).
    pub(super) drop_partitions_of: Option<(String, String)>,
    /// The subject column, when retentiond's holds table exists to check it against.
    subject: Option<Col>,
    policy_name: String,
}

fn quoted_table(info: &TableInfo) -> String {
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

/// Checks `policy` against the live catalog and detects how its timestamps are stored.
/// Problems (a missing table or column, a key that is not unique) make the policy
/// unusable; warnings (no index on the timestamp) do not.
pub async fn resolve(db: &mut Db, policy: &Policy) -> Result<ResolveReport, DbError> {
    let backend = db.backend();
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let mut problem = |loc: Loc, message: String| problems.push(SchemaProblem { loc, message });

    let Some(info) = catalog::table_info(db, &policy.table).await? else {
        let names = catalog::table_names(db, &policy.table).await?;
        let hint = match did_you_mean(
            split_table(&policy.table.name).1,
            names.iter().map(String::as_str),
        ) {
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

    let column = |info: &TableInfo,
                  ident: &Ident,
                  role: &str,
                  problem: &mut dyn FnMut(Loc, String)|
     -> Option<Col> {
        let Some(c) = info.column(&ident.name) else {
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
            return None;
        };
        let cast = (backend == Backend::Postgres).then(|| c.declared.clone());
        if cast.as_deref().is_some_and(|t| !castable(t)) {
            problem(
                ident.loc,
                format!(
                    "policy `{}`: column `{}` has type {}, which retentiond cannot bind values to",
                    policy.name, c.name, c.declared
                ),
            );
            return None;
        }
        Some(Col {
            quoted: quote(&c.name),
            kind: c.kind,
            cast,
        })
    };

    let key: Vec<Option<Col>> = policy
        .key
        .iter()
        .map(|k| column(&info, k, "key", &mut problem))
        .collect();
    let ts = column(&info, &policy.timestamp, "timestamp", &mut problem);
    if let Some(s) = &policy.subject {
        column(&info, s, "subject", &mut problem);
    }
    let filter: Vec<Option<(Col, Vec<SqlValue>)>> = policy
        .filter
        .iter()
        .map(|f| {
            column(&info, &f.column, "filter", &mut problem)
                .map(|c| (c, f.values.iter().map(filter_value).collect()))
        })
        .collect();
    let subject = policy
        .subject
        .as_ref()
        .and_then(|s| info.column(&s.name))
        .map(|c| Col {
            quoted: quote(&c.name),
            kind: c.kind,
            cast: (backend == Backend::Postgres).then(|| c.declared.clone()),
        });
    let marker = policy
        .marker
        .as_ref()
        .and_then(|m| column(&info, m, "marker", &mut problem));
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
        let Some(col) = column(&info, &a.column, "anonymize", &mut problem) else {
            continue;
        };
        let c = info.column(&a.column.name).expect("column was found above");
        let text_ok = matches!(c.kind, Kind::Text | Kind::Any)
            || (a.strategy == Strategy::TruncateIp && c.kind == Kind::Ip);
        if a.strategy.writes_text() && !text_ok {
            problem(
                a.column.loc,
                format!(
                    "policy `{}`: strategy `{}` writes text, but column `{}` is declared {}",
                    policy.name,
                    a.strategy.as_str(),
                    c.name,
                    c.declared
                ),
            );
        }
        if matches!(a.strategy, Strategy::Year | Strategy::Month)
            && !matches!(
                c.kind,
                Kind::Timestamp { .. } | Kind::Date | Kind::Text | Kind::Integer | Kind::Any
            )
        {
            problem(
                a.column.loc,
                format!(
                    "policy `{}`: strategy `{}` needs a date, timestamp, ISO text or epoch column; `{}` is declared {}",
                    policy.name,
                    a.strategy.as_str(),
                    c.name,
                    c.declared
                ),
            );
        }
        if a.strategy == Strategy::Null && c.not_null {
            problem(
                a.column.loc,
                format!(
                    "policy `{}`: strategy `null` on column `{}`, which is NOT NULL; use `redact` for text",
                    policy.name, c.name
                ),
            );
        }
        anonymize.push((col, a.strategy));
    }

    let key_names: Vec<String> = policy
        .key
        .iter()
        .filter_map(|k| info.column(&k.name).map(|c| c.name.clone()))
        .collect();
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
    let ts_column = info.column(&policy.timestamp.name);
    if let Some(c) = ts_column {
        if !info.has_index_led_by(&c.name) {
            warnings.push(SchemaProblem {
                loc: policy.timestamp.loc,
                message: format!(
                    "policy `{}`: no index on table `{}` starts with `{}`, so every pass reads the whole table; CREATE INDEX ON {} ({})",
                    policy.name, info.name, c.name, info.name, c.name
                ),
            });
        }
        if matches!(c.kind, Kind::Other | Kind::Ip) {
            problem(
                policy.timestamp.loc,
                format!(
                    "policy `{}`: timestamp column `{}` is declared {}; it must hold a timestamp, a date, ISO 8601 text or epoch seconds",
                    policy.name, c.name, c.declared
                ),
            );
        }
    }

    let mut drop_partitions_of = None;
    if policy.partitions == Partitions::Drop {
        let ts_name = ts_column.map(|c| c.name.as_str()).unwrap_or("");
        let expected = format!("range ({})", ts_name.to_ascii_lowercase());
        match (&info.partition_key, backend) {
            (_, Backend::Sqlite | Backend::MySql) => problem(
                policy.loc,
                format!(
                    "policy `{}`: partitions = \"drop\" works on PostgreSQL's range-partitioned tables; remove it on {}",
                    policy.name,
                    backend.name()
                ),
            ),
            (None, _) => problem(
                policy.loc,
                format!(
                    "policy `{}`: partitions = \"drop\", but table `{}` is not partitioned",
                    policy.name, info.name
                ),
            ),
            (Some(key), _) if key.to_ascii_lowercase().replace('"', "") != expected => problem(
                policy.loc,
                format!(
                    "policy `{}`: partitions = \"drop\" needs `{}` partitioned by RANGE ({ts_name}), but it is partitioned by {key}",
                    policy.name, info.name
                ),
            ),
            (Some(_), _)
                if !ts_column
                    .is_some_and(|c| matches!(c.kind, Kind::Timestamp { .. } | Kind::Date)) =>
            {
                problem(
                    policy.loc,
                    format!(
                        "policy `{}`: partitions = \"drop\" needs a timestamp or date partition column",
                        policy.name
                    ),
                )
            }
            (Some(_), _) => {
                drop_partitions_of = Some((info.found_schema.clone(), info.table.clone()))
            }
        }
    }

    let mut cascade = Vec::new();
    for c in &policy.cascade {
        let Some(child) = catalog::table_info(db, &c.table).await? else {
            problem(
                c.table.loc,
                format!(
                    "policy `{}`: cascade table `{}` does not exist in the database",
                    policy.name, c.table.name
                ),
            );
            continue;
        };
        let fks: Vec<Col> = c
            .foreign_key
            .iter()
            .filter_map(|fk| column(&child, fk, "foreign_key", &mut problem))
            .collect();
        cascade.push(Cascade {
            table_name: child.name.clone(),
            table: quoted_table(&child),
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
    let mut target = Target {
        backend,
        table_name: info.name.clone(),
        encoding: TsEncoding::Text,
        action: policy.action,
        table: quoted_table(&info),
        key: key.into_iter().flatten().collect(),
        ts,
        filter: filter.into_iter().flatten().collect(),
        marker,
        anonymize,
        cascade,
        drop_partitions_of,
        subject: None,
        policy_name: policy.name.clone(),
    };
    // Holds can only exist once retentiond's tables do (plan and check create none).
    if db.has_own_tables().await? {
        target.subject = subject;
    }
    target.encoding = detect_encoding(db, &target).await?;
    if target.encoding == TsEncoding::Epoch
        && let Some(max) = target
            .extreme(db, true)
            .await?
            .first()
            .and_then(SqlValue::as_number)
        && max > 1e11
    {
        // 10^11 seconds is the year 5138: such values are surely milliseconds.
        warnings.push(SchemaProblem {
            loc: policy.timestamp.loc,
            message: format!(
                "policy `{}`: `{}` holds epoch values up to {max}, which look like milliseconds; retentiond reads epoch values as seconds, so these rows would never expire",
                policy.name, policy.timestamp.name
            ),
        });
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

/// PostgreSQL and MySQL say in their catalog what a column holds. SQLite does not, so
/// there the data decides: it sorts numbers before text, so the smallest and largest
/// non-NULL values tell whether the column holds numbers, text, or both. Both: the
/// declared type decides, and the other kind is counted as unreadable.
async fn detect_encoding(db: &mut Db, t: &Target) -> Result<TsEncoding, DbError> {
    match t.ts.kind {
        Kind::Integer | Kind::Real if t.backend != Backend::Sqlite => return Ok(TsEncoding::Epoch),
        Kind::Timestamp { .. } | Kind::Date => return Ok(TsEncoding::Native),
        Kind::Text if t.backend != Backend::Sqlite => return Ok(TsEncoding::Text),
        _ => {}
    }
    let kind = |v: Option<&SqlValue>| match v {
        Some(SqlValue::Int(_) | SqlValue::Real(_)) => Some(true),
        Some(_) => Some(false),
        None => None,
    };
    let lowest = kind(t.extreme(db, false).await?.first());
    let highest = kind(t.extreme(db, true).await?.first());
    let numeric_affinity = matches!(t.ts.kind, Kind::Integer | Kind::Real);
    Ok(match (lowest, highest) {
        (Some(true), Some(true)) => TsEncoding::Epoch,
        (Some(false), _) => TsEncoding::Text,
        _ if numeric_affinity => TsEncoding::Epoch,
        _ => TsEncoding::Text,
    })
}

/// `YYYY-MM-DD HH:MM:SS.mmm` in UTC: what MySQL and PostgreSQL's zone-less types read.
/// The date two days after `cutoff`, as text: every ISO text for an instant before
/// `cutoff` sorts before it, whatever its offset (at most 14 hours).
fn coarse_bound(cutoff: DateTime<Utc>) -> String {
    (cutoff + Days::new(2)).format("%Y-%m-%d").to_string()
}

fn naive(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.3f").to_string()
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

    /// The value of `col` as the engine reads it: native on SQLite, text elsewhere,
    /// so any column type round-trips through [`Target::push_value`].
    fn read(&self, col: &Col) -> String {
        match self.backend {
            Backend::Sqlite => col.quoted.clone(),
            Backend::Postgres => format!("CAST({} AS text)", col.quoted),
            Backend::MySql => format!("CAST({} AS CHAR)", col.quoted),
        }
    }

    /// Binds `v` for comparison with or assignment to `col`.
    fn push_value(&self, q: &mut Query, col: &Col, v: SqlValue) {
        match (&self.backend, &col.cast) {
            (Backend::Postgres, Some(ty)) => {
                let text = match v {
                    SqlValue::Int(n) => SqlValue::Text(n.to_string()),
                    SqlValue::Real(x) => SqlValue::Text(x.to_string()),
                    other => other,
                };
                q.push("CAST(").bind(text).push(" AS ").push(ty).push(")");
            }
            // MySQL hands integers over as text; bound back as text, a key compared
            // with a joined list's column could not use the primary key.
            (Backend::MySql, _) if col.kind == Kind::Integer => {
                q.bind(match v {
                    SqlValue::Text(t) => t.parse().map(SqlValue::Int).unwrap_or(SqlValue::Text(t)),
                    other => other,
                });
            }
            _ => {
                q.bind(v);
            }
        }
    }

    fn push_values<'c>(
        &self,
        q: &mut Query,
        cols: impl IntoIterator<Item = &'c Col>,
        values: &[SqlValue],
    ) {
        for (i, (c, v)) in cols.into_iter().zip(values).enumerate() {
            if i > 0 {
                q.push(", ");
            }
            self.push_value(q, c, v.clone());
        }
    }

    /// The smallest or largest non-NULL timestamp value, read through the index.
    async fn extreme(&self, db: &mut Db, largest: bool) -> Result<Vec<SqlValue>, DbError> {
        let q = Query::new(format!(
            "SELECT {ts} FROM {t} WHERE {ts} IS NOT NULL ORDER BY {ts} {dir} LIMIT 1",
            ts = self.ts.quoted,
            t = self.table,
            dir = if largest { "DESC" } else { "ASC" }
        ));
        Ok(db.fetch(&q).await?.into_iter().next().unwrap_or_default())
    }

    /// MySQL has no parser for ISO 8601 with offsets: this expression reads the three
    /// forms (no zone, `Z`, `+07:00`) as UTC DATETIME, and is NULL for anything else.
    fn push_mysql_iso(&self, q: &mut Query) {
        let ts = &self.ts.quoted;
        let forms = [
            (
                ISO_REGEX_NO_ZONE,
                format!("CAST(REPLACE({ts}, 'T', ' ') AS DATETIME(6))"),
            ),
            (
                ISO_REGEX_Z,
                format!("CAST(REPLACE(REPLACE({ts}, 'T', ' '), 'Z', '') AS DATETIME(6))"),
            ),
            (
                ISO_REGEX_OFFSET,
                format!(
                    "CONVERT_TZ(CAST(REPLACE(LEFT({ts}, CHAR_LENGTH({ts}) - 6), 'T', ' ') AS DATETIME(6)), RIGHT({ts}, 6), '+00:00')"
                ),
            ),
        ];
        q.push("(CASE");
        for (pattern, to_utc) in forms {
            q.push(" WHEN ")
                .push(ts)
                .push(" REGEXP ")
                .bind(SqlValue::Text(pattern.into()));
            q.push(" THEN ").push(&to_utc);
        }
        q.push(" END)");
    }

    /// `timestamp < cutoff`, in a form that can walk an index on the timestamp.
    fn push_expired(&self, q: &mut Query, cutoff: DateTime<Utc>) {
        let ts = &self.ts.quoted;
        match (self.encoding, self.backend) {
            (TsEncoding::Epoch, Backend::Sqlite) => {
                let seconds = cutoff.timestamp() as f64
                    + f64::from(cutoff.timestamp_subsec_millis()) / 1000.0;
                q.push(ts).push(" < ").bind(SqlValue::Real(seconds));
            }
            (TsEncoding::Epoch, _) => {
                // An integer column compared with a float loses its index on
                // PostgreSQL; for whole seconds, `< ceil(cutoff)` is the same test.
                let v = if self.ts.kind == Kind::Integer {
                    let whole = cutoff.timestamp() + i64::from(cutoff.timestamp_subsec_nanos() > 0);
                    SqlValue::Int(whole)
                } else {
                    SqlValue::Real(
                        cutoff.timestamp() as f64
                            + f64::from(cutoff.timestamp_subsec_millis()) / 1000.0,
                    )
                };
                q.push(ts).push(" < ");
                self.push_value(q, &self.ts, v);
            }
            (TsEncoding::Native, Backend::Postgres) => {
                let (value, ty) = match self.ts.kind {
                    Kind::Timestamp { tz: true } => (rfc3339(cutoff), "timestamptz"),
                    _ => (naive(cutoff), "timestamp"),
                };
                q.push(ts)
                    .push(" < CAST(")
                    .bind(SqlValue::Text(value))
                    .push(" AS ")
                    .push(ty)
                    .push(")");
            }
            (TsEncoding::Native, _) => {
                q.push(ts).push(" < ").bind(SqlValue::Text(naive(cutoff)));
            }
            (TsEncoding::Text, backend) => {
                // The index is ordered as text, and offsets can move a local date by
                // up to 14 hours: bound the index range by the date two days after the
                // cutoff, then compare exact instants, reading text without an offset
                // as UTC.
                let coarse = coarse_bound(cutoff);
                q.push(ts).push(" >= ").bind(SqlValue::Text(String::new()));
                q.push(" AND ")
                    .push(ts)
                    .push(" < ")
                    .bind(SqlValue::Text(coarse));
                match backend {
                    Backend::Sqlite => {
                        q.push(" AND ")
                            .push(ts)
                            .push(" GLOB ")
                            .bind(SqlValue::Text(ISO_DATE_GLOB.into()));
                        q.push(" AND julianday(")
                            .push(ts)
                            .push(") < julianday(")
                            .bind(SqlValue::Text(rfc3339(cutoff)))
                            .push(")");
                    }
                    Backend::Postgres => {
                        q.push(" AND (CASE WHEN ")
                            .push(ts)
                            .push(" ~ ")
                            .bind(SqlValue::Text(ISO_REGEX.into()));
                        q.push(" THEN CAST(")
                            .push(ts)
                            .push(" AS timestamptz) END) < CAST(");
                        q.bind(SqlValue::Text(rfc3339(cutoff)))
                            .push(" AS timestamptz)");
                    }
                    Backend::MySql => {
                        q.push(" AND ");
                        self.push_mysql_iso(q);
                        q.push(" < CAST(")
                            .bind(SqlValue::Text(naive(cutoff)))
                            .push(" AS DATETIME(6))");
                    }
                }
            }
        }
    }

    /// `NOT` or nothing before `EXISTS (an active hold on this row's subject)`: the
    /// hold applies to every policy, or names this one, and has not ended by `now`.
    fn push_hold(&self, q: &mut Query, held: bool, now: DateTime<Utc>) {
        self.push_hold_on(q, &self.table, held, now);
    }

    /// [`Target::push_hold`] for rows read from `table` (the policy's table, or one
    /// of its partitions).
    fn push_hold_on(&self, q: &mut Query, table: &str, held: bool, now: DateTime<Utc>) {
        let Some(subject) = &self.subject else {
            if held {
                q.push(" AND 1 = 0");
            }
            return;
        };
        let as_text = match self.backend {
            Backend::Sqlite => format!("CAST({table}.{} AS TEXT)", subject.quoted),
            Backend::Postgres => format!("CAST({table}.{} AS text)", subject.quoted),
            Backend::MySql => format!("CAST({table}.{} AS CHAR)", subject.quoted),
        };
        q.push(if held {
            " AND EXISTS"
        } else {
            " AND NOT EXISTS"
        });
        q.push(" (SELECT 1 FROM retention_holds h WHERE h.subject = ")
            .push(&as_text);
        q.push(" AND h.released_at IS NULL AND (h.until IS NULL OR h.until > ")
            .bind(SqlValue::Text(rfc3339(now)));
        q.push(") AND (h.policy IS NULL OR h.policy = ")
            .bind(SqlValue::Text(self.policy_name.clone()))
            .push("))");
    }

    /// `subject = ?`. Only called for policies that name a subject column.
    fn push_subject(&self, q: &mut Query, value: &str) {
        match &self.subject {
            Some(col) => {
                q.push(&col.quoted).push(" = ");
                self.push_value(q, col, SqlValue::Text(value.into()));
            }
            None => {
                q.push("1 = 0");
            }
        }
    }

    pub fn has_subject(&self) -> bool {
        self.subject.is_some()
    }

    /// A subject's rows the policy covers: (not held, held, the newest timestamp).
    pub async fn subject_rows(
        &self,
        db: &mut Db,
        value: &str,
        now: DateTime<Utc>,
    ) -> Result<(u64, u64, Option<DateTime<Utc>>), DbError> {
        let mut counts = [0u64; 2];
        for (i, held) in [false, true].into_iter().enumerate() {
            let mut q = Query::new(format!("SELECT count(*) FROM {} WHERE ", self.table));
            self.push_subject(&mut q, value);
            self.push_filter(&mut q);
            self.push_pending(&mut q);
            self.push_hold(&mut q, held, now);
            counts[i] = db.fetch_one_int(&q).await?.max(0) as u64;
        }
        let mut q = Query::new(format!(
            "SELECT {} AS retentiond_0 FROM {} WHERE ",
            self.read(&self.ts),
            self.table
        ));
        self.push_subject(&mut q, value);
        q.push(&format!(
            " AND {} IS NOT NULL ORDER BY {} DESC LIMIT 20",
            self.ts.quoted, self.ts.quoted
        ));
        let newest = db
            .fetch(&q)
            .await?
            .iter()
            .filter_map(|r| r[0].as_instant())
            .max();
        Ok((counts[0], counts[1], newest))
    }

    /// Expired rows the policy skips because their subject is under a legal hold.
    pub async fn count_held(
        &self,
        db: &mut Db,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, DbError> {
        if self.subject.is_none() {
            return Ok(0);
        }
        let mut q = Query::new(format!("SELECT count(*) FROM {} WHERE ", self.table));
        self.push_expired(&mut q, cutoff);
        self.push_filter(&mut q);
        self.push_pending(&mut q);
        self.push_hold(&mut q, true, now);
        Ok(db.fetch_one_int(&q).await?.max(0) as u64)
    }

    fn push_filter(&self, q: &mut Query) {
        for (column, values) in &self.filter {
            q.push(" AND ").push(&column.quoted).push(" IN (");
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                self.push_value(q, column, v.clone());
            }
            q.push(")");
        }
    }

    /// Rows an anonymise policy has not yet done: a NULL marker, or a value its
    /// recognisable strategies have not yet written.
    fn push_pending(&self, q: &mut Query) {
        if self.action != Action::Anonymize {
            return;
        }
        if let Some(marker) = &self.marker {
            q.push(" AND ").push(&marker.quoted).push(" IS NULL");
            return;
        }
        q.push(" AND (");
        for (i, (column, strategy)) in self.anonymize.iter().enumerate() {
            if i > 0 {
                q.push(" OR ");
            }
            let c = &column.quoted;
            match strategy {
                Strategy::Redact => {
                    q.push("(")
                        .push(c)
                        .push(" IS NOT NULL AND ")
                        .push(c)
                        .push(" <> ");
                    q.bind(SqlValue::Text(REDACTED.into())).push(")");
                }
                _ => {
                    q.push(c).push(" IS NOT NULL");
                }
            }
        }
        q.push(")");
    }

    fn push_key_list(&self, q: &mut Query, columns: &[Col], keys: &[Vec<SqlValue>]) {
        if columns.len() == 1 {
            q.push(&columns[0].quoted).push(" IN (");
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                self.push_value(q, &columns[0], k[0].clone());
            }
            q.push(")");
            return;
        }
        let names: Vec<&str> = columns.iter().map(|c| c.quoted.as_str()).collect();
        // SQLite and PostgreSQL take a VALUES list; MySQL takes plain row constructors.
        let open = if self.backend == Backend::MySql {
            ") IN ("
        } else {
            ") IN (VALUES "
        };
        q.push("(").push(&names.join(", ")).push(open);
        for (i, k) in keys.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            self.push_values(q, columns, k);
            q.push(")");
        }
        q.push(")");
    }

    /// Rows the policy would purge now.
    pub async fn count_expired(
        &self,
        db: &mut Db,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, DbError> {
        let mut q = Query::new(format!("SELECT count(*) FROM {} WHERE ", self.table));
        self.push_expired(&mut q, cutoff);
        self.push_filter(&mut q);
        self.push_pending(&mut q);
        self.push_hold(&mut q, false, now);
        Ok(db.fetch_one_int(&q).await?.max(0) as u64)
    }

    /// The table's row count as far as [`crate::policy::fraction_guard`] needs it to
    /// judge `expired` rows against `max_fraction`: counting stops at
    /// [`crate::policy::rows_to_decide`], so the time follows the rows to purge
    /// rather than the size of the table.
    pub async fn count_rows_to_decide(
        &self,
        db: &mut Db,
        expired: u64,
        max_fraction: f64,
    ) -> Result<u64, DbError> {
        let q = match crate::policy::rows_to_decide(expired, max_fraction) {
            None => Query::new(format!("SELECT count(*) FROM {}", self.table)),
            Some(limit) => {
                let mut q = Query::new(format!(
                    "SELECT count(*) FROM (SELECT 1 AS one FROM {} LIMIT ",
                    self.table
                ));
                q.bind(SqlValue::Int(i64::try_from(limit).unwrap_or(i64::MAX)))
                    .push(") AS retentiond_n");
                q
            }
        };
        Ok(db.fetch_one_int(&q).await?.max(0) as u64)
    }

    /// The oldest timestamp among the rows the policy covers and has not purged (its
    /// filter applies; NULLs never expire, so they do not count). `None` when there
    /// is none or it cannot be read. Read through the timestamp index.
    pub async fn oldest_remaining(
        &self,
        db: &mut Db,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, DbError> {
        let mut q = Query::new(format!(
            "SELECT {} AS retentiond_0 FROM {} WHERE {} IS NOT NULL",
            self.read(&self.ts),
            self.table,
            self.ts.quoted
        ));
        self.push_filter(&mut q);
        self.push_pending(&mut q);
        // Rows kept for a legal hold are kept rightly; they are reported on their own.
        self.push_hold(&mut q, false, now);
        // Unreadable text may sort first: look a little further for a readable value.
        q.push(&format!(" ORDER BY {} LIMIT 20", self.ts.quoted));
        let rows = db.fetch(&q).await?;
        Ok(rows.iter().filter_map(|r| r[0].as_instant()).min())
    }

    /// Rows in the policy's scope whose timestamp cannot be read: never purged. With
    /// `near` (a pass's cutoff), SQLite counts through the timestamp index only, so
    /// that a pass costs what it purges rather than what the table holds: see the
    /// ranges below. `retentiond check` counts them all.
    pub async fn count_unreadable(
        &self,
        db: &mut Db,
        near: Option<DateTime<Utc>>,
    ) -> Result<u64, DbError> {
        let ts = &self.ts.quoted;
        // The counts to add up: each an index range on the timestamp (or none), and
        // whether the text in it must also be tested for a readable date.
        let parts: Vec<(Option<(&str, String)>, bool)> = match (self.encoding, self.backend, near) {
            (TsEncoding::Native, _, _)
            | (TsEncoding::Epoch, Backend::Postgres | Backend::MySql, _) => return Ok(0),
            // Text and blobs sort after every number.
            (TsEncoding::Epoch, Backend::Sqlite, _) => vec![(Some((" >= ", String::new())), false)],
            // On SQLite (whose text sorts by its bytes), two ranges: the rows the pass
            // walks through, and text that cannot start a date because it sorts after
            // every digit. What is left out is digit-led text dated after the cutoff,
            // which `check` counts. Two counts added, not one with OR, which would
            // keep every row id it saw in memory.
            (TsEncoding::Text, Backend::Sqlite, Some(cutoff)) => vec![
                (Some((" < ", coarse_bound(cutoff))), true),
                (Some((" >= ", ":".into())), true),
            ],
            (TsEncoding::Text, _, _) => vec![(None, true)],
        };
        let mut q = Query::new("SELECT ");
        for (i, (range, text)) in parts.into_iter().enumerate() {
            if i > 0 {
                q.push(" + ");
            }
            q.push(&format!("(SELECT count(*) FROM {} WHERE 1 = 1", self.table));
            if let Some((op, bound)) = range {
                q.push(" AND ")
                    .push(ts)
                    .push(op)
                    .bind(SqlValue::Text(bound));
            }
            if text {
                q.push(" AND ");
                self.push_unreadable_text(&mut q);
            }
            self.push_filter(&mut q);
            q.push(")");
        }
        Ok(db.fetch_one_int(&q).await?.max(0) as u64)
    }

    /// A text timestamp that is not a readable ISO 8601 instant.
    fn push_unreadable_text(&self, q: &mut Query) {
        let ts = &self.ts.quoted;
        match self.backend {
            Backend::Sqlite => {
                q.push(ts)
                    .push(" IS NOT NULL AND NOT (typeof(")
                    .push(ts)
                    .push(") = 'text' AND ");
                q.push(ts)
                    .push(" GLOB ")
                    .bind(SqlValue::Text(ISO_DATE_GLOB.into()));
                q.push(" AND julianday(").push(ts).push(") IS NOT NULL)");
            }
            Backend::Postgres => {
                q.push(ts)
                    .push(" IS NOT NULL AND ")
                    .push(ts)
                    .push(" !~ ")
                    .bind(SqlValue::Text(ISO_REGEX.into()));
            }
            Backend::MySql => {
                q.push(ts).push(" IS NOT NULL AND ");
                self.push_mysql_iso(q);
                q.push(" IS NULL");
            }
        }
    }

    /// The next batch in (timestamp, key) order after `cursor`, locked for this
    /// transaction: each row is the timestamp, the key columns, then the columns to
    /// anonymise.
    pub async fn select_batch(
        &self,
        db: &mut Db,
        scope: Scope<'_>,
        cursor: Option<&Cursor>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<Vec<SqlValue>>, DbError> {
        let values: Vec<&Col> = if self.action == Action::Anonymize {
            self.anonymize.iter().map(|(c, _)| c).collect()
        } else {
            Vec::new()
        };
        let mut q = self.select_in_order(&values);
        self.push_batch_rows(&mut q, scope, cursor, None, now);
        q.push(" ORDER BY ")
            .push(&self.order_list())
            .push(" LIMIT ")
            .bind(SqlValue::Int(i64::from(limit)));
        if self.backend != Backend::Sqlite {
            // SQLite's BEGIN IMMEDIATE already holds the only write lock.
            q.push(" FOR UPDATE");
        }
        db.fetch(&q).await
    }

    /// The last row of the next batch of expired rows after `cursor`: the
    /// `limit`-th in (timestamp, key) order, or `None` when fewer are left. Reads one
    /// row, so a delete batch moves no keys between retentiond and the database.
    pub async fn batch_bound(
        &self,
        db: &mut Db,
        cutoff: DateTime<Utc>,
        cursor: Option<&Cursor>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Option<Cursor>, DbError> {
        let mut q = self.select_in_order(&[]);
        self.push_batch_rows(&mut q, Scope::Expired(cutoff), cursor, None, now);
        q.push(" ORDER BY ")
            .push(&self.order_list())
            .push(" LIMIT 1 OFFSET ")
            .bind(SqlValue::Int(i64::from(limit.max(1)) - 1));
        Ok(db.fetch(&q).await?.into_iter().next())
    }

    /// Deletes the expired rows after `after` and up to `upto` (both in (timestamp,
    /// key) order, both optional) in one statement; returns the count. The statement
    /// repeats the whole test, so a row that stopped being expired or came under a
    /// hold since [`Target::batch_bound`] read the range stays.
    pub async fn delete_range(
        &self,
        db: &mut Db,
        cutoff: DateTime<Utc>,
        after: Option<&Cursor>,
        upto: Option<&Cursor>,
        now: DateTime<Utc>,
    ) -> Result<u64, DbError> {
        let mut q = Query::new(format!("DELETE FROM {} WHERE ", self.table));
        self.push_batch_rows(&mut q, Scope::Expired(cutoff), after, upto, now);
        db.execute(&q).await
    }

    /// Whether a batch can purge its range in one statement without reading its
    /// rows: deletes without children to delete first, and anonymisation whose
    /// every value SQL can write on its own ([`Strategy::ignores_value`]).
    pub fn purges_by_range(&self) -> bool {
        match self.action {
            Action::Delete => self.cascade.is_empty(),
            Action::Anonymize => self.anonymize.iter().all(|(_, s)| s.ignores_value()),
        }
    }

    /// Anonymises the expired rows after `after` and up to `upto` in one statement,
    /// when [`Target::purges_by_range`]; returns the count.
    /// Like [`Target::delete_range`], it repeats the whole test.
    pub async fn anonymize_range(
        &self,
        db: &mut Db,
        cutoff: DateTime<Utc>,
        after: Option<&Cursor>,
        upto: Option<&Cursor>,
        marker: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<u64, DbError> {
        let mut q = Query::new(format!("UPDATE {} SET ", self.table));
        for (i, (c, strategy)) in self.anonymize.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push(&c.quoted).push(" = ");
            match strategy {
                Strategy::Redact => {
                    q.push("CASE WHEN ")
                        .push(&c.quoted)
                        .push(" IS NULL THEN NULL ELSE ");
                    self.push_value(&mut q, c, SqlValue::Text(REDACTED.into()));
                    q.push(" END");
                }
                _ => {
                    q.push("NULL");
                }
            }
        }
        if let (Some(c), Some(m)) = (&self.marker, marker) {
            q.push(", ").push(&c.quoted).push(" = ");
            self.push_value(&mut q, c, SqlValue::Text(m.into()));
        }
        q.push(" WHERE ");
        self.push_batch_rows(&mut q, Scope::Expired(cutoff), after, upto, now);
        db.execute(&q).await
    }

    /// `SELECT timestamp, key..., values... FROM table WHERE `: the columns a batch
    /// reads, in the order a [`Cursor`] takes them.
    fn select_in_order(&self, values: &[&Col]) -> Query {
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
        Query::new(format!(
            "SELECT {} FROM {} WHERE ",
            read.join(", "),
            self.table
        ))
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

    /// The rows of `scope` a batch may take, after `after` and up to `upto` in
    /// (timestamp, key) order: not yet done, not held.
    fn push_batch_rows(
        &self,
        q: &mut Query,
        scope: Scope<'_>,
        after: Option<&Cursor>,
        upto: Option<&Cursor>,
        now: DateTime<Utc>,
    ) {
        // The range comes first: SQLite seeks its index with the first bounds on the
        // timestamp it meets, and the expiry test has wider ones of its own.
        self.push_range(q, after, upto);
        match scope {
            Scope::Expired(cutoff) => self.push_expired(q, cutoff),
            Scope::Subject(value) => self.push_subject(q, value),
        }
        self.push_filter(q);
        self.push_pending(q);
        self.push_hold(q, false, now);
    }

    /// `(timestamp, key) > after AND (timestamp, key) <= upto AND `, each when given.
    /// The plain bounds on the timestamp say the same for the timestamp alone: they
    /// let an index on it seek to the range, which not every engine does for a row
    /// value.
    fn push_range(&self, q: &mut Query, after: Option<&Cursor>, upto: Option<&Cursor>) {
        let order_cols = self.order_cols();
        let order = self.order_list();
        for (bound, row_op, ts_op) in [(after, ") > (", " >= "), (upto, ") <= (", " <= ")] {
            let Some(bound) = bound else { continue };
            q.push(&self.ts.quoted).push(ts_op);
            self.push_value(q, &self.ts, bound[0].clone());
            q.push(" AND (").push(&order).push(row_op);
            self.push_values(q, order_cols.iter().copied(), bound);
            q.push(") AND ");
        }
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

    /// The value a marker column is set to, in a form every backend reads as `at`.
    pub fn marker_value(&self, at: DateTime<Utc>) -> String {
        match self.backend {
            Backend::MySql => naive(at),
            Backend::Sqlite | Backend::Postgres => rfc3339(at),
        }
    }

    /// Writes the anonymised values of the rows with `keys` (each row's values in
    /// the order of the policy's `anonymize` table) and the marker, a few hundred
    /// rows per statement: the values arrive as a table joined on the key. Returns
    /// the count.
    pub async fn update_rows(
        &self,
        db: &mut Db,
        keys: &[Vec<SqlValue>],
        values: &[Vec<SqlValue>],
        marker: Option<&str>,
    ) -> Result<u64, DbError> {
        let mut total = 0;
        for (keys, values) in keys
            .chunks(KEYS_PER_STATEMENT)
            .zip(values.chunks(KEYS_PER_STATEMENT))
        {
            let q = self.update_statement(keys, values, marker);
            total += db.execute(&q).await?;
        }
        Ok(total)
    }

    /// One `UPDATE` joining the table to a list of (key..., value...) rows, named
    /// `column1`, `column2`, ... as SQLite and PostgreSQL name a VALUES list's columns.
    fn update_statement(
        &self,
        keys: &[Vec<SqlValue>],
        values: &[Vec<SqlValue>],
        marker: Option<&str>,
    ) -> Query {
        let cols: Vec<Col> = self
            .key
            .iter()
            .chain(self.anonymize.iter().map(|(c, _)| c))
            .cloned()
            .collect();
        let mut list = Query::new("");
        for (i, (key, vals)) in keys.iter().zip(values).enumerate() {
            let row: Vec<SqlValue> = key.iter().chain(vals).cloned().collect();
            if self.backend == Backend::MySql {
                // MySQL has no VALUES list to join: a UNION of one-row SELECTs, with
                // the first naming the columns.
                list.push(if i == 0 {
                    "SELECT "
                } else {
                    " UNION ALL SELECT "
                });
                for (j, (c, v)) in cols.iter().zip(row).enumerate() {
                    if j > 0 {
                        list.push(", ");
                    }
                    self.push_value(&mut list, c, v);
                    if i == 0 {
                        list.push(&format!(" AS column{}", j + 1));
                    }
                }
            } else {
                list.push(if i == 0 { "VALUES (" } else { ", (" });
                self.push_values(&mut list, &cols, &row);
                list.push(")");
            }
        }
        let column = |j: usize| format!("retentiond_v.column{}", j + 1);
        let join: Vec<String> = self
            .key
            .iter()
            .enumerate()
            .map(|(j, c)| format!("{}.{} = {}", self.table, c.quoted, column(j)))
            .collect();
        let join = join.join(" AND ");
        // MySQL's multi-table UPDATE names the table in each assignment; the others
        // refuse it there.
        let mysql = self.backend == Backend::MySql;
        let target_col = |c: &Col| {
            if mysql {
                format!("{}.{}", self.table, c.quoted)
            } else {
                c.quoted.clone()
            }
        };
        let mut set = Query::new(" SET ");
        for (i, (c, _)) in self.anonymize.iter().enumerate() {
            if i > 0 {
                set.push(", ");
            }
            set.push(&target_col(c))
                .push(" = ")
                .push(&column(self.key.len() + i));
        }
        if let (Some(c), Some(m)) = (&self.marker, marker) {
            set.push(", ").push(&target_col(c)).push(" = ");
            self.push_value(&mut set, c, SqlValue::Text(m.into()));
        }
        let mut q = Query::new(format!("UPDATE {}", self.table));
        if mysql {
            q.push(" JOIN (").append(list);
            q.push(") AS retentiond_v ON ").push(&join).append(set);
        } else {
            q.append(set).push(" FROM (").append(list);
            q.push(") AS retentiond_v WHERE ").push(&join);
        }
        q
    }

    /// Reclaims the table's storage after a purge: PostgreSQL's VACUUM (dead tuples
    /// keep old values until then), MySQL's OPTIMIZE TABLE. SQLite rebuilds the whole
    /// file instead ([`Db::vacuum_sqlite`]).
    pub async fn vacuum(&self, db: &mut Db) -> Result<(), DbError> {
        let sql = match self.backend {
            Backend::Sqlite => return db.vacuum_sqlite().await,
            Backend::Postgres => format!("VACUUM {}", self.table),
            Backend::MySql => format!("OPTIMIZE TABLE {}", self.table),
        };
        db.fetch(&Query::new(sql)).await.map(drop)
    }
}

/// A partition of a range-partitioned table.
#[derive(Debug, Clone)]
pub struct Partition {
    /// `schema.name`, for messages and the audit trail.
    pub name: String,
    quoted: String,
    /// As PostgreSQL prints it: `FOR VALUES FROM ('2023-01-01') TO ('2023-02-01')`.
    pub bound: String,
}

/// The upper bound of a range partition, as a SQL literal's text; `None` for DEFAULT,
/// MAXVALUE, or anything unexpected (such a partition is never dropped).
fn upper_bound(bound: &str) -> Option<String> {
    let (_, to) = bound.split_once(" TO (")?;
    let literal = to.strip_suffix(')')?.trim();
    let inner = literal.strip_prefix('\'')?.strip_suffix('\'')?;
    Some(inner.replace("''", "'"))
}

impl Target {
    /// Whether whole expired partitions are dropped before the row-by-row pass.
    pub fn drops_partitions(&self) -> bool {
        self.drop_partitions_of.is_some()
    }

    /// Partitions whose whole range lies before `cutoff` and that hold no row the
    /// policy must keep (one outside its `filter`). Cascading policies never drop:
    /// their children must go first, row by row.
    pub async fn expired_partitions(
        &self,
        db: &mut Db,
        cutoff: DateTime<Utc>,
    ) -> Result<Vec<Partition>, DbError> {
        let Some((schema, table)) = &self.drop_partitions_of else {
            return Ok(Vec::new());
        };
        if !self.cascade.is_empty() {
            return Ok(Vec::new());
        }
        let ty = self.ts.cast.clone().unwrap_or_else(|| "timestamptz".into());
        let (cutoff_value, cutoff_ty) = match self.ts.kind {
            Kind::Timestamp { tz: true } => (rfc3339(cutoff), "timestamptz"),
            _ => (naive(cutoff), "timestamp"),
        };
        let mut out = Vec::new();
        for r in db
            .fetch(&super::postgres::partitions(schema, table))
            .await?
        {
            let (Some(part_schema), Some(name), Some(bound)) =
                (r[0].as_text(), r[1].as_text(), r[2].as_text())
            else {
                continue;
            };
            let Some(upper) = upper_bound(bound) else {
                continue;
            };
            // Range bounds are exclusive above: every row is older than `upper`.
            let mut q = Query::new("SELECT CASE WHEN CAST(");
            q.bind(SqlValue::Text(upper))
                .push(" AS ")
                .push(&ty)
                .push(") <= CAST(");
            q.bind(SqlValue::Text(cutoff_value.clone()))
                .push(" AS ")
                .push(cutoff_ty)
                .push(") THEN 1 ELSE 0 END");
            if db.fetch_one_int(&q).await? != 1 {
                continue;
            }
            let part = Partition {
                name: format!("{part_schema}.{name}"),
                quoted: format!("{}.{}", quote(part_schema), quote(name)),
                bound: bound.to_string(),
            };
            if self.rows_to_keep(db, &part).await? == 0 {
                out.push(part);
            } else {
                tracing::info!(partition = %part.name, "partition holds rows outside the policy's filter; purging it row by row");
            }
        }
        Ok(out)
    }

    /// Rows of `part` the policy may not purge whatever their age.
    async fn rows_to_keep(&self, db: &mut Db, part: &Partition) -> Result<u64, DbError> {
        let mut q = Query::new(format!("SELECT count(*) FROM {} WHERE (TRUE", part.quoted));
        self.push_filter(&mut q);
        q.push(") IS NOT TRUE");
        let outside_filter = db.fetch_one_int(&q).await?.max(0) as u64;
        let mut q = Query::new(format!("SELECT count(*) FROM {} WHERE TRUE", part.quoted));
        self.push_hold_on(&mut q, &part.quoted, true, Utc::now());
        Ok(outside_filter + db.fetch_one_int(&q).await?.max(0) as u64)
    }

    /// Inside the caller's transaction: locks `part` against every other session,
    /// checks again that no row must stay, and counts its rows; `None` if a row must
    /// stay after all. The caller records the count, then calls
    /// [`Target::detach_and_drop`] in the same transaction.
    pub async fn lock_partition(
        &self,
        db: &mut Db,
        part: &Partition,
    ) -> Result<Option<u64>, DbError> {
        db.execute(&Query::new(format!(
            "LOCK TABLE {} IN ACCESS EXCLUSIVE MODE",
            part.quoted
        )))
        .await?;
        if self.rows_to_keep(db, part).await? > 0 {
            return Ok(None);
        }
        let rows = db
            .fetch_one_int(&Query::new(format!("SELECT count(*) FROM {}", part.quoted)))
            .await?;
        Ok(Some(rows.max(0) as u64))
    }

    pub async fn detach_and_drop(&self, db: &mut Db, part: &Partition) -> Result<(), DbError> {
        db.execute(&Query::new(format!(
            "ALTER TABLE {} DETACH PARTITION {}",
            self.table, part.quoted
        )))
        .await?;
        db.execute(&Query::new(format!("DROP TABLE {}", part.quoted)))
            .await
            .map(drop)
    }
}

/// RFC 3339 in UTC with milliseconds: how retentiond writes every instant.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}
