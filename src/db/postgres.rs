//! PostgreSQL: connection settings, value decoding, the catalog, migrations.
//!
//! Shop values are read as text (`CAST(col AS text)`) and written back with a cast to
//! the column's catalog type, so keys and columns of any type (uuid, inet, numeric,
//! timestamptz) round-trip exactly without a Rust type for each.

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, PgConnection, Postgres, Row};

use chrono::{DateTime, Utc};

use super::catalog::Kind;
use super::dialect::{Against, CatalogReads, Dialect, Fault, OutputColumn, Own, StorageKey};
use super::table::outputs::{DOMAIN, LOWER, UPPER, ZONE, date_start, text_value, unit};
use super::table::{Col, ExportKind, ISO_REGEX};
use super::{Access, Backend, DbError, Query, SqlValue, wire};
use crate::anonymize::Form;
use crate::backend::redact_url;
use crate::policy::Strategy;

pub(super) async fn connect(url: &str, access: Access) -> Result<PgConnection, DbError> {
    let open_error = |reason: String| DbError::Open {
        target: redact_url(url),
        reason,
    };
    let opts = PgConnectOptions::from_str(url)
        .map_err(|e| open_error(e.to_string()))?
        .application_name("retentiond")
        // Text without an offset is UTC, and timestamps print in ISO form, whatever
        // the server's defaults.
        .options([
            ("TimeZone", "UTC"),
            ("DateStyle", "ISO, YMD"),
            ("extra_float_digits", "3"),
        ]);
    let mut conn = opts
        .connect()
        .await
        .map_err(|e| open_error(e.to_string()))?;
    if access == Access::ReadOnly {
        sqlx::query("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            .execute(&mut conn)
            .await?;
    }
    Ok(conn)
}

/// `?` placeholders become `$1, $2, ...`; question marks inside quotes are left alone.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    let mut quote: Option<char> = None;
    for c in sql.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '?') => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

wire::fetch_functions!(Postgres, PgConnection, String, numbered);

/// A cell as [`wire::Typed`] says.
fn typed(row: &sqlx::postgres::PgRow, i: usize, kind: &str) -> wire::Typed {
    Ok(Some(match kind {
        "INT2" => SqlValue::Int(i64::from(row.try_get::<i16, _>(i)?)),
        "INT4" => SqlValue::Int(i64::from(row.try_get::<i32, _>(i)?)),
        "INT8" => SqlValue::Int(row.try_get::<i64, _>(i)?),
        "BOOL" => SqlValue::Int(i64::from(row.try_get::<bool, _>(i)?)),
        "FLOAT4" => SqlValue::Real(f64::from(row.try_get::<f32, _>(i)?)),
        "FLOAT8" => SqlValue::Real(row.try_get::<f64, _>(i)?),
        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" => SqlValue::Text(row.try_get::<String, _>(i)?),
        "BYTEA" => SqlValue::Blob(row.try_get::<Vec<u8>, _>(i)?),
        _ => return Ok(None),
    }))
}

/// Runs statements without bound values in one simple-protocol round trip.
pub(super) async fn script(c: &mut PgConnection, sql: &str) -> Result<(), DbError> {
    sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
        .execute(&mut *c)
        .await?;
    Ok(())
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

pub(super) async fn migrate(c: &mut PgConnection) -> Result<(), DbError> {
    super::own_migrator(&MIGRATOR).run(&mut *c).await?;
    Ok(())
}

pub(super) async fn close(c: PgConnection) -> Result<(), DbError> {
    c.close().await?;
    Ok(())
}

const NOW: &str =
    "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";

const HAS_OWN_TABLES: &str = "SELECT count(*) FROM pg_catalog.pg_tables \
     WHERE tablename = 'retention_events' AND schemaname = ANY (current_schemas(false))";

// The catalog. Names are matched without regard to case; an exact match wins.

fn find_table(schema: Option<&str>, table: &str) -> Query {
    let mut q = Query::new(
        "SELECT n.nspname::text, c.relname::text, c.relkind::text FROM pg_catalog.pg_class c \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p') AND lower(c.relname) = lower(",
    );
    q.bind(SqlValue::Text(table.into())).push(") AND ");
    push_schema(&mut q, schema);
    q.push(" ORDER BY (c.relname = ")
        .bind(SqlValue::Text(table.into()))
        .push(") DESC, array_position(current_schemas(false), n.nspname) LIMIT 1");
    q
}

/// The named schema, or else the ones on the search path.
fn push_schema(q: &mut Query, schema: Option<&str>) {
    match schema {
        Some(s) => {
            q.push("lower(n.nspname) = lower(")
                .bind(SqlValue::Text(s.into()))
                .push(")");
        }
        None => {
            q.push("n.nspname = ANY (current_schemas(false))");
        }
    }
}

const TABLE_OID: &str = "(SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n \
     ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relname = ?)";

fn bind_table(q: &mut Query, schema: &str, table: &str) {
    q.params.push(SqlValue::Text(schema.into()));
    q.params.push(SqlValue::Text(table.into()));
}

/// Which tables a catalog read covers: `only` one (its exact schema and name), or
/// every table on the search path that is not a partition, the first of a name.
fn push_tables(q: &mut Query, only: Option<(&str, &str)>) {
    match only {
        Some((schema, table)) => {
            q.push("n.nspname = ")
                .bind(SqlValue::Text(schema.into()))
                .push(" AND c.relname = ")
                .bind(SqlValue::Text(table.into()));
        }
        None => {
            q.push("n.nspname = ANY (current_schemas(false)) AND NOT c.relispartition");
        }
    }
}

const TABLES: &str =
    "pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace";
const TABLE_ORDER: &str = "array_position(current_schemas(false), n.nspname), c.relname";

/// (schema, table, column, type, NOT NULL, position in the primary key or 0).
fn catalog_columns(only: Option<(&str, &str)>) -> Query {
    let mut q = Query::new(format!(
        "SELECT n.nspname::text, c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), \
         a.attnotnull, coalesce(array_position(pk.indkey::int2[], a.attnum) + 1, 0) FROM {TABLES} \
         JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         LEFT JOIN pg_catalog.pg_index pk ON pk.indrelid = c.oid AND pk.indisprimary \
         WHERE c.relkind IN ('r', 'p') AND "
    ));
    push_tables(&mut q, only);
    q.push(&format!(" ORDER BY {TABLE_ORDER}, a.attnum"));
    q
}

/// (schema, table, index, unique, partial, column or NULL for an expression), in
/// column order.
fn catalog_indexes(only: Option<(&str, &str)>) -> Query {
    let mut q = Query::new(format!(
        "SELECT n.nspname::text, c.relname::text, ic.relname::text, i.indisunique, i.indpred IS NOT NULL, \
         a.attname::text FROM {TABLES} JOIN pg_catalog.pg_index i ON i.indrelid = c.oid \
         JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid \
         CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
         LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
         WHERE c.relkind IN ('r', 'p') AND "
    ));
    push_tables(&mut q, only);
    q.push(&format!(" ORDER BY {TABLE_ORDER}, ic.relname, k.ord"));
    q
}

/// (schema, table, constraint, column, referenced table, referenced column, ON
/// DELETE CASCADE), in key order.
fn catalog_foreign_keys(only: Option<(&str, &str)>) -> Query {
    let mut q = Query::new(format!(
        "SELECT n.nspname::text, c.relname::text, con.conname::text, a.attname::text, cf.relname::text, \
         af.attname::text, con.confdeltype = 'c' FROM {TABLES} \
         JOIN pg_catalog.pg_constraint con ON con.conrelid = c.oid AND con.contype = 'f' \
         JOIN pg_catalog.pg_class cf ON cf.oid = con.confrelid \
         CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(col, fcol, ord) \
         JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.col \
         JOIN pg_catalog.pg_attribute af ON af.attrelid = con.confrelid AND af.attnum = k.fcol \
         WHERE c.relkind IN ('r', 'p') AND "
    ));
    push_tables(&mut q, only);
    q.push(&format!(" ORDER BY {TABLE_ORDER}, con.conname, k.ord"));
    q
}

/// (schema, table, partition key such as `RANGE (payment_date)`) of partitioned tables.
fn catalog_partition_keys(only: Option<(&str, &str)>) -> Query {
    let mut q = Query::new(format!(
        "SELECT n.nspname::text, c.relname::text, pg_get_partkeydef(c.oid) FROM {TABLES} \
         WHERE c.relkind = 'p' AND "
    ));
    push_tables(&mut q, only);
    q
}

fn table_names(schema: Option<&str>) -> Query {
    let mut q = Query::new(
        "SELECT c.relname::text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p') AND ",
    );
    push_schema(&mut q, schema);
    q.push(" ORDER BY 1");
    q
}

/// (schema, name, bound) of each partition: `FOR VALUES FROM (...) TO (...)` or `DEFAULT`.
pub(super) fn partitions(schema: &str, table: &str) -> Query {
    let mut q = Query::new(format!(
        "SELECT n.nspname::text, c.relname::text, pg_get_expr(c.relpartbound, c.oid) \
         FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE i.inhparent = {TABLE_OID} ORDER BY 2"
    ));
    bind_table(&mut q, schema, table);
    q
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(
            numbered("a = ? AND b IN (?, ?)"),
            "a = $1 AND b IN ($2, $3)"
        );
        assert_eq!(
            numbered("x = '?' AND \"q?\" = ?"),
            "x = '?' AND \"q?\" = $1"
        );
    }
}

/// PostgreSQL's [`Dialect`].
#[derive(Debug)]
pub(super) struct PostgresDialect;

impl Dialect for PostgresDialect {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn fault(&self, e: &dyn sqlx::error::DatabaseError) -> Fault {
        let code = e.code().unwrap_or_default();
        match code.as_ref() {
            // lock_not_available, query_canceled (statement_timeout),
            // deadlock_detected, serialization_failure
            "55P03" | "57014" | "40P01" | "40001" => Fault::Timeout,
            // admin_shutdown, crash_shutdown, cannot_connect_now, and class 08:
            // connection exceptions
            "57P01" | "57P02" | "57P03" => Fault::ConnectionLost,
            c if c.starts_with("08") => Fault::ConnectionLost,
            "53100" => Fault::DiskFull,
            _ => Fault::Other,
        }
    }

    fn own(&self) -> Own {
        Own::new(NOW, HAS_OWN_TABLES, &MIGRATOR)
    }

    fn kind_of(&self, declared: &str) -> Kind {
        let d = declared.to_ascii_lowercase();
        if matches!(d.as_str(), "smallint" | "integer" | "bigint") {
            Kind::Integer
        } else if d.starts_with("numeric") || d == "real" || d == "double precision" {
            Kind::Real
        } else if d == "text" || d.starts_with("character") || d == "citext" {
            Kind::Text
        } else if d.starts_with("timestamp") {
            Kind::Timestamp {
                tz: d.ends_with("with time zone"),
            }
        } else if d == "date" {
            Kind::Date
        } else if d == "inet" || d == "cidr" {
            Kind::Ip
        } else {
            Kind::Other
        }
    }

    fn read_as_text(&self, kind: Kind, source: &str) -> String {
        if kind == Kind::Ip {
            // inet's text carries the mask (`203.0.113.7/32`); host() is the address.
            format!("host({source})")
        } else {
            format!("CAST({source} AS text)")
        }
    }

    fn cast_for(&self, declared: &str) -> Option<String> {
        Some(declared.to_string())
    }

    fn push_value(&self, q: &mut Query, col: &Col, v: SqlValue) {
        let Some(ty) = &col.cast else {
            q.bind(v);
            return;
        };
        let text = match v {
            SqlValue::Int(n) => SqlValue::Text(n.to_string()),
            SqlValue::Real(x) => SqlValue::Text(x.to_string()),
            other => other,
        };
        q.push("CAST(").bind(text).push(" AS ").push(ty).push(")");
    }

    /// The cast goes in a scalar subquery, which the plan evaluates once (an
    /// InitPlan): a bare `CAST($1 AS timestamptz)` in a generic plan's filter parses
    /// the text again for every row, which took a 16,000-row range `DELETE` from 19
    /// to 22 ms and its find-end from 11 to 21 ms.
    fn push_bound(&self, q: &mut Query, col: &Col, v: SqlValue) {
        if col.cast.is_some() {
            q.push("(SELECT ");
            self.push_value(q, col, v);
            q.push(")");
        } else {
            self.push_value(q, col, v);
        }
    }

    /// One bound array, `col = ANY(CAST(? AS type[]))`: a list of 500 values each
    /// in its own cast took 23 ms to plan per statement, the array 1 ms (a
    /// 100,000-subject ledger check: 13.7 s against 0.7 s).
    fn push_in(&self, q: &mut Query, col: &Col, values: &[SqlValue]) {
        let texts: Option<Vec<String>> = values.iter().map(SqlValue::to_text).collect();
        if let (Some(ty), Some(texts)) = (&col.cast, texts) {
            q.push(&col.quoted)
                .push(" = ANY(CAST(")
                .bind(SqlValue::Text(pg_array(&texts)))
                .push(&format!(" AS {ty}[]))"));
            return;
        }
        super::dialect::push_in_list(self, q, col, values);
    }

    fn cast_to_text(&self, expr: &str) -> String {
        format!("CAST({expr} AS text)")
    }

    fn push_native_against(&self, q: &mut Query, col: &Col, a: Against) {
        let Against { op, cutoff, once } = a;
        let tz = matches!(col.kind, Kind::Timestamp { tz: true });
        q.push(&col.quoted).push(op);
        if !once {
            // For the planner: text cast to a timestamp is only stable (it reads
            // the session's zone), so the plan could not use its value;
            // to_timestamp(seconds) is immutable, and folded before estimating.
            q.push("(to_timestamp(")
                .bind(SqlValue::Real(super::dialect::epoch_seconds(cutoff)))
                .push(if tz { "))" } else { ") AT TIME ZONE 'UTC')" });
            return;
        }
        let (value, ty) = if tz {
            (super::rfc3339(cutoff), "timestamptz")
        } else {
            (super::table::naive(cutoff), "timestamp")
        };
        // A scalar subquery, evaluated once: see `push_bound`.
        q.push("(SELECT CAST(")
            .bind(SqlValue::Text(value))
            .push(" AS ")
            .push(ty)
            .push("))");
    }

    fn push_text_before(&self, q: &mut Query, ts: &str, cutoff: DateTime<Utc>) {
        q.push(" AND (CASE WHEN ")
            .push(ts)
            .push(" ~ ")
            .bind(SqlValue::Text(ISO_REGEX.into()));
        q.push(" THEN CAST(")
            .push(ts)
            .push(" AS timestamptz) END) < CAST(");
        q.bind(SqlValue::Text(super::rfc3339(cutoff)))
            .push(" AS timestamptz)");
    }

    fn push_unreadable_text(&self, q: &mut Query, ts: &str) {
        q.push(ts)
            .push(" IS NOT NULL AND ")
            .push(ts)
            .push(" !~ ")
            .bind(SqlValue::Text(ISO_REGEX.into()));
    }

    fn trim(&self, text: &str) -> String {
        format!("btrim({text})")
    }

    fn push_regex(&self, q: &mut Query, text: &str, pattern: &str) {
        q.push(text)
            .push(" ~ ")
            .bind(SqlValue::Text(pattern.to_string()));
    }

    fn push_position_open(&self, q: &mut Query, text: &str, needle: &str) {
        q.push(&format!("strpos({text}, "))
            .bind(SqlValue::Text(needle.to_string()));
    }

    fn epoch_start(&self, raw: &str, month: bool) -> String {
        let unit = if month { "month" } else { "year" };
        format!("extract(epoch FROM date_trunc('{unit}', to_timestamp({raw})))")
    }

    fn push_output(&self, q: &mut Query, c: &OutputColumn<'_>) {
        // Bound text and expressions alike become the column's own type.
        q.push("CAST((");
        push_output_expression(q, c);
        q.push(") AS ").push(c.cast.unwrap_or("text")).push(")");
    }

    fn drops_range_partitions(&self) -> bool {
        true
    }

    fn storage_key(&self, _primary_key: &[String]) -> StorageKey {
        StorageKey::Blocks
    }

    /// Blocks of the largest leaf (a partitioned table's partitions are walked
    /// together: each has its own block numbers), rows per block from the
    /// statistics, and the server's version.
    fn block_count(&self, table: &str) -> Option<Query> {
        // A plain table is its own only leaf: pg_partition_tree lists nothing for it.
        // reltuples is -1 before the first ANALYZE: no estimate (0) then.
        let mut q = Query::new(
            "SELECT COALESCE(max(pg_relation_size(c.oid)), 0) / current_setting('block_size')::bigint, \
             COALESCE(sum(GREATEST(c.reltuples, 0)) / NULLIF(sum(c.relpages), 0), 0)::float8, \
             current_setting('server_version_num')::int \
             FROM pg_class c WHERE c.relkind = 'r' AND (c.oid = CAST(",
        );
        let name = SqlValue::Text(table.to_string());
        q.bind(name.clone())
            .push(" AS regclass) OR c.oid IN (SELECT relid FROM pg_partition_tree(CAST(")
            .bind(name)
            .push(" AS regclass)) WHERE isleaf))");
        Some(q)
    }

    fn push_address_bound(&self, q: &mut Query, op: &str, address: &str) {
        q.push("ctid")
            .push(op)
            .push("CAST(")
            .bind(SqlValue::Text(address.to_string()))
            .push(" AS tid)");
    }

    fn explain_prefix(&self) -> &'static str {
        "EXPLAIN "
    }

    /// A `Seq Scan` node on the table (in text form, one node per line).
    fn plan_scans_table(&self, rows: &[Vec<SqlValue>]) -> bool {
        rows.iter()
            .filter_map(|r| r.first().and_then(SqlValue::as_text))
            .map(|l| l.trim_start().trim_start_matches("->").trim_start())
            .any(|l| l.starts_with("Seq Scan") || l.starts_with("Parallel Seq Scan"))
    }

    fn vacuum(&self, table: &str) -> Option<String> {
        Some(format!("VACUUM {table}"))
    }

    fn export_kind(&self, kind: Kind, declared: &str) -> ExportKind {
        if kind == Kind::Other && declared == "boolean" {
            return ExportKind::Boolean;
        }
        super::table::export_kind_common(kind, declared)
    }

    /// An inet value keeps its mask when it is a network, unlike the engine's read
    /// of an address.
    fn export_read(&self, export: ExportKind, kind: Kind, quoted: &str) -> String {
        match export {
            ExportKind::Integer | ExportKind::Boolean | ExportKind::Binary => quoted.into(),
            _ if kind == Kind::Ip => format!(
                "CASE WHEN masklen({quoted}) = CASE family({quoted}) WHEN 4 THEN 32 ELSE 128 END \
                 THEN host({quoted}) ELSE CAST({quoted} AS text) END"
            ),
            _ => self.read_as_text(kind, quoted),
        }
    }

    fn catalog_reads(&self, only: Option<(&str, &str)>) -> CatalogReads {
        CatalogReads {
            columns: catalog_columns(only),
            indexes: catalog_indexes(only),
            foreign_keys: catalog_foreign_keys(only),
            partition_keys: Some(catalog_partition_keys(only)),
        }
    }

    fn find_table(&self, schema: Option<&str>, table: &str) -> Option<Query> {
        Some(find_table(schema, table))
    }

    fn table_names(&self, schema: Option<&str>) -> Query {
        table_names(schema)
    }
}

/// The anonymised value of `c` before its cast to the column's type.
fn push_output_expression(q: &mut Query, c: &OutputColumn<'_>) {
    let (text, raw) = (c.text, c.raw);
    match (c.strategy, c.form) {
        (Strategy::TruncateIp, _) => {
            let ip = format!("CAST(btrim({text}) AS inet)");
            q.push(&format!(
                "host(network(set_masklen({ip}, CASE WHEN family({ip}) = 4 THEN 24 WHEN {ip} << inet '::ffff:0.0.0.0/96' THEN 120 ELSE 48 END)))"
            ));
        }
        (Strategy::EmailDomain, _) => {
            q.push(&format!("translate(substring(btrim({text}) from "))
                .bind(text_value(DOMAIN))
                .push("), ")
                .bind(text_value(UPPER))
                .push(", ")
                .bind(text_value(LOWER))
                .push(")");
        }
        (Strategy::Year | Strategy::Month, Form::Number) => {
            let unit = unit(c.strategy);
            q.push(&format!(
                "extract(epoch FROM date_trunc('{unit}', to_timestamp({raw})))"
            ));
        }
        (Strategy::Year | Strategy::Month, _) => {
            q.push(&date_start(text, c.strategy, "substr", "||"));
            q.push(&format!(
                " || CASE WHEN length({text}) = 10 THEN '' ELSE substr({text}, 11, 1) || '00:00:00' || coalesce(substring(substr({text}, 12) from "
            ));
            q.bind(text_value(ZONE)).push("), '') END");
        }
        (Strategy::Null | Strategy::Redact | Strategy::Hash | Strategy::RemoveFile, _) => {
            q.push("NULL");
        }
    }
}

/// `values` as a PostgreSQL array literal (`{"a","b\\"c"}`), every element quoted:
/// a bound value, cast by the server, never SQL text.
fn pg_array(values: &[String]) -> String {
    let quoted: Vec<String> = values
        .iter()
        .map(|v| format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("{{{}}}", quoted.join(","))
}

#[cfg(test)]
mod array_tests {
    #[test]
    fn every_element_is_quoted_and_escaped() {
        let values = ["7".to_string(), "a\"b".into(), "c\\d".into(), "x,y}".into()];
        assert_eq!(super::pg_array(&values), r#"{"7","a\"b","c\\d","x,y}"}"#);
    }
}
