//! PostgreSQL: connection settings, value decoding, the catalog, migrations.
//!
//! Shop values are read as text (`CAST(col AS text)`) and written back with a cast to
//! the column's catalog type, so keys and columns of any type (uuid, inet, numeric,
//! timestamptz) round-trip exactly without a Rust type for each.

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, PgConnection, Postgres, Row};

use super::{Access, DbError, Query, SqlValue, wire};
use crate::backend::redact_url;

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

pub(super) async fn fetch(c: &mut PgConnection, q: &Query) -> Result<Vec<Vec<SqlValue>>, DbError> {
    let sql = numbered(&q.sql);
    let rows = wire::bind::<Postgres, String>(&sql, &q.params)
        .fetch_all(&mut *c)
        .await?;
    wire::decode(&rows, typed)
}

/// Runs `q`, handing its rows to `each` in chunks of `size` as they arrive.
pub(super) async fn fetch_chunks<E: From<DbError>>(
    c: &mut PgConnection,
    q: &Query,
    size: usize,
    each: &mut impl FnMut(Vec<Vec<SqlValue>>) -> Result<(), E>,
) -> Result<(), E> {
    let sql = numbered(&q.sql);
    let rows = wire::bind::<Postgres, String>(&sql, &q.params).fetch(&mut *c);
    wire::chunks(rows, size, typed, each).await
}

/// A non-NULL cell of the type the server names, or `None` for a type retentiond
/// does not read.
fn typed(
    row: &sqlx::postgres::PgRow,
    i: usize,
    kind: &str,
) -> Result<Option<SqlValue>, sqlx::Error> {
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

pub(super) async fn execute(c: &mut PgConnection, q: &Query) -> Result<u64, DbError> {
    let sql = numbered(&q.sql);
    let done = wire::bind::<Postgres, String>(&sql, &q.params)
        .execute(&mut *c)
        .await?;
    Ok(done.rows_affected())
}

/// Runs statements without bound values in one simple-protocol round trip.
pub(super) async fn script(c: &mut PgConnection, sql: &str) -> Result<(), DbError> {
    sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
        .execute(&mut *c)
        .await?;
    Ok(())
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// The version of the newest migration this binary carries.
pub(super) fn newest_migration() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

pub(super) async fn migrate(c: &mut PgConnection) -> Result<(), DbError> {
    super::own_migrator(&MIGRATOR).run(&mut *c).await?;
    Ok(())
}

pub(super) async fn close(c: PgConnection) -> Result<(), DbError> {
    c.close().await?;
    Ok(())
}

pub(super) const NOW: &str =
    "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";

pub(super) const HAS_OWN_TABLES: &str = "SELECT count(*) FROM pg_catalog.pg_tables \
     WHERE tablename = 'retention_events' AND schemaname = ANY (current_schemas(false))";

// The catalog. Names are matched without regard to case; an exact match wins.

pub(super) fn find_table(schema: Option<&str>, table: &str) -> Query {
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
pub(super) fn catalog_columns(only: Option<(&str, &str)>) -> Query {
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
pub(super) fn catalog_indexes(only: Option<(&str, &str)>) -> Query {
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
pub(super) fn catalog_foreign_keys(only: Option<(&str, &str)>) -> Query {
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
pub(super) fn catalog_partition_keys(only: Option<(&str, &str)>) -> Query {
    let mut q = Query::new(format!(
        "SELECT n.nspname::text, c.relname::text, pg_get_partkeydef(c.oid) FROM {TABLES} \
         WHERE c.relkind = 'p' AND "
    ));
    push_tables(&mut q, only);
    q
}

pub(super) fn table_names(schema: Option<&str>) -> Query {
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
