//! MySQL and MariaDB: connection settings, value decoding, the catalog, migrations.
//!
//! Shop values are read as text (`CAST(col AS CHAR)`) and bound back as text, which
//! MySQL converts to the column's type on comparison and assignment. The session uses
//! ANSI_QUOTES so that identifiers are quoted with `"` as on the other backends.

use std::collections::HashMap;
use std::str::FromStr;

use sqlx::migrate::Migrate;
use sqlx::mysql::MySqlConnectOptions;
use sqlx::{AssertSqlSafe, Column, ConnectOptions, Connection, MySql, MySqlConnection, Row};

use chrono::{DateTime, Utc};

use super::catalog::Kind;
use super::dialect::{CatalogReads, Dialect, Fault, OutputColumn, Own, StorageKey};
use super::table::outputs::{LOWER, UPPER, ZONE, date_start};
use super::table::{Col, ISO_REGEX_NO_ZONE, ISO_REGEX_OFFSET, ISO_REGEX_Z};
use super::{Access, Backend, DbError, Query, SqlValue, wire};
use crate::anonymize::Form;
use crate::backend::redact_url;
use crate::policy::Strategy;

pub(super) async fn connect(
    url: &str,
    access: Access,
    lock_timeout_s: u64,
) -> Result<MySqlConnection, DbError> {
    let open_error = |reason: String| DbError::Open {
        target: redact_url(url),
        reason,
    };
    let url = url
        .strip_prefix("mariadb://")
        .map(|r| format!("mysql://{r}"))
        .unwrap_or_else(|| url.to_string());
    let opts = MySqlConnectOptions::from_str(&url)
        .map_err(|e| open_error(e.to_string()))?
        .timezone(Some("+00:00".to_string()));
    let mut conn = opts
        .connect()
        .await
        .map_err(|e| open_error(e.to_string()))?;
    sqlx::query("SET SESSION sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES')")
        .execute(&mut conn)
        .await?;
    sqlx::query(AssertSqlSafe(format!(
        "SET SESSION innodb_lock_wait_timeout = {}",
        lock_timeout_s.max(1)
    )))
    .execute(&mut conn)
    .await?;
    if access == Access::ReadOnly {
        sqlx::query("SET SESSION TRANSACTION READ ONLY")
            .execute(&mut conn)
            .await?;
    }
    Ok(conn)
}

wire::fetch_functions!(MySql, MySqlConnection, String, str::to_owned);

/// A cell as [`wire::Typed`] says.
fn typed(row: &sqlx::mysql::MySqlRow, i: usize, kind: &str) -> wire::Typed {
    Ok(Some(match kind {
        "BOOLEAN" => SqlValue::Int(i64::from(row.try_get::<bool, _>(i)?)),
        "TINYINT" | "SMALLINT" | "INT" | "MEDIUMINT" | "BIGINT" => {
            SqlValue::Int(row.try_get::<i64, _>(i)?)
        }
        k if k.ends_with("UNSIGNED") => SqlValue::Int(row.try_get::<u64, _>(i)? as i64),
        "FLOAT" | "DOUBLE" => SqlValue::Real(row.try_get::<f64, _>(i)?),
        "CHAR" | "VARCHAR" | "TEXT" | "TINYTEXT" | "MEDIUMTEXT" | "LONGTEXT" | "ENUM" => {
            SqlValue::Text(row.try_get_unchecked::<String, _>(i)?)
        }
        "BINARY" | "VARBINARY" | "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB" => {
            // Text cast to CHAR arrives as binary under a binary collation.
            let bytes = row.try_get_unchecked::<Vec<u8>, _>(i)?;
            match String::from_utf8(bytes) {
                Ok(s) => SqlValue::Text(s),
                Err(e) => SqlValue::Blob(e.into_bytes()),
            }
        }
        _ => return Ok(None),
    }))
}

/// The one row of a `SHOW ...` statement by column name, over the text protocol
/// (its columns are of mixed types, all read as text); `None` when it has no row.
pub(super) async fn show(
    c: &mut MySqlConnection,
    sql: &'static str,
) -> Result<Option<HashMap<String, Option<String>>>, DbError> {
    let Some(row) = sqlx::raw_sql(sql).fetch_optional(&mut *c).await? else {
        return Ok(None);
    };
    let mut out = HashMap::new();
    for (i, col) in row.columns().iter().enumerate() {
        out.insert(col.name().to_string(), shown(&row, i)?);
    }
    Ok(Some(out))
}

/// The rows of a `SHOW ... VARIABLES` or `SHOW ... STATUS` statement as name
/// (lower case) and value, over the text protocol.
pub(super) async fn show_pairs(
    c: &mut MySqlConnection,
    sql: &'static str,
) -> Result<HashMap<String, String>, DbError> {
    let mut out = HashMap::new();
    for row in &sqlx::raw_sql(sql).fetch_all(&mut *c).await? {
        let name = shown(row, 0)?.unwrap_or_default().to_ascii_lowercase();
        out.insert(name, shown(row, 1)?.unwrap_or_default());
    }
    Ok(out)
}

/// A cell of a `SHOW` statement as text: a string, or bytes under a binary
/// collation.
fn shown(row: &sqlx::mysql::MySqlRow, i: usize) -> Result<Option<String>, DbError> {
    Ok(match row.try_get_unchecked::<Option<String>, _>(i) {
        Ok(v) => v,
        Err(_) => row
            .try_get_unchecked::<Option<Vec<u8>>, _>(i)?
            .map(|b| String::from_utf8_lossy(&b).into_owned()),
    })
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/mysql");

pub(super) async fn migrate(c: &mut MySqlConnection) -> Result<(), DbError> {
    let migrator = super::own_migrator(&MIGRATOR);
    // Under the migrator's own lock, so that two instances starting together do not
    // both finish the same migration. GET_LOCK nests: `run` takes it again.
    c.lock().await?;
    let result = async {
        finish_interrupted(c, &migrator).await?;
        migrator.run(&mut *c).await?;
        Ok(())
    }
    .await;
    c.unlock().await?;
    result
}

/// MySQL commits before every DDL statement, so a migration is not atomic: a
/// process killed inside one (a `systemctl restart` during the first start) leaves
/// it recorded as started and half done, and sqlx then refuses every later start.
/// Each statement of a migration is atomic on its own, so the migration is finished
/// here by running its statements again, counting one that finds its work already
/// done (the table, column, index or row exists) as done.
async fn finish_interrupted(
    c: &mut MySqlConnection,
    migrator: &sqlx::migrate::Migrator,
) -> Result<(), DbError> {
    c.ensure_migrations_table(super::OWN_MIGRATIONS_TABLE)
        .await?;
    let Some(version) = c.dirty_version(super::OWN_MIGRATIONS_TABLE).await? else {
        return Ok(());
    };
    // A version this binary does not know is a newer retentiond's; `run` reports it.
    let Some(migration) = migrator.iter().find(|m| m.version == version) else {
        return Ok(());
    };
    for statement in statements(migration.sql.as_str()) {
        match sqlx::raw_sql(AssertSqlSafe(statement))
            .execute(&mut *c)
            .await
        {
            Ok(_) => {}
            Err(e) if already_done(&e) => {}
            Err(e) => {
                return Err(DbError::Migrate(
                    sqlx::migrate::MigrateError::ExecuteMigration(e, version),
                ));
            }
        }
    }
    sqlx::query(AssertSqlSafe(format!(
        "UPDATE {} SET success = TRUE WHERE version = ?",
        super::OWN_MIGRATIONS_TABLE
    )))
    .bind(version)
    .execute(&mut *c)
    .await?;
    tracing::warn!(
        version,
        migration = %migration.description,
        "finished a migration that an earlier start left half applied"
    );
    Ok(())
}

/// The statements of one of retentiond's own MySQL migrations: comment lines
/// dropped, split at each `;` that ends a line. The files are ours and keep to
/// that shape (no `;` at the end of a line inside a string).
fn statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in sql.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with("--") {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if trimmed.ends_with(';') {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
    out
}

/// The errors a statement gives when an earlier attempt already did its work:
/// table exists (1050), duplicate column (1060), duplicate key name (1061),
/// duplicate entry (1062).
fn already_done(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>())
        .is_some_and(|d| matches!(d.number(), 1050 | 1060 | 1061 | 1062))
}

pub(super) async fn close(c: MySqlConnection) -> Result<(), DbError> {
    c.close().await?;
    Ok(())
}

const NOW: &str = "SELECT DATE_FORMAT(UTC_TIMESTAMP(3), '%Y-%m-%dT%H:%i:%s.%fZ')";

const HAS_OWN_TABLES: &str = "SELECT count(*) FROM information_schema.tables \
     WHERE table_schema = database() AND table_name = 'retention_events'";

fn find_table(schema: Option<&str>, table: &str) -> Query {
    let mut q = Query::new(
        "SELECT CAST(table_schema AS CHAR), CAST(table_name AS CHAR), 'r' FROM information_schema.tables \
         WHERE table_type = 'BASE TABLE' AND lower(table_name) = lower(",
    );
    q.bind(SqlValue::Text(table.into()))
        .push(") AND table_schema = ");
    match schema {
        Some(s) => {
            q.bind(SqlValue::Text(s.into()));
        }
        None => {
            q.push("database()");
        }
    }
    q.push(" ORDER BY table_name = ")
        .bind(SqlValue::Text(table.into()))
        .push(" DESC LIMIT 1");
    q
}

/// Which tables a catalog read covers: `only` one (its exact schema and name), or
/// every table of the connection's database.
fn push_tables(q: &mut Query, alias: &str, only: Option<(&str, &str)>) {
    match only {
        Some((schema, table)) => {
            q.push(&format!("{alias}table_schema = "))
                .bind(SqlValue::Text(schema.into()))
                .push(&format!(" AND {alias}table_name = "))
                .bind(SqlValue::Text(table.into()));
        }
        None => {
            q.push(&format!("{alias}table_schema = database()"));
        }
    }
}

/// (schema, table, column, type, NOT NULL, position in the primary key or 0).
fn catalog_columns(only: Option<(&str, &str)>) -> Query {
    let mut q = Query::new(
        "SELECT CAST(c.table_schema AS CHAR), CAST(c.table_name AS CHAR), CAST(c.column_name AS CHAR), \
         CAST(c.column_type AS CHAR), c.is_nullable = 'NO', CAST(coalesce(s.seq_in_index, 0) AS SIGNED) \
         FROM information_schema.columns c JOIN information_schema.tables t \
         ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE' \
         LEFT JOIN information_schema.statistics s ON s.table_schema = c.table_schema \
         AND s.table_name = c.table_name AND s.index_name = 'PRIMARY' AND s.column_name = c.column_name \
         WHERE ",
    );
    push_tables(&mut q, "c.", only);
    q.push(" ORDER BY c.table_name, c.ordinal_position");
    q
}

/// (schema, table, index, unique, partial, column), in column order.
fn catalog_indexes(only: Option<(&str, &str)>) -> Query {
    let mut q = Query::new(
        "SELECT CAST(table_schema AS CHAR), CAST(table_name AS CHAR), CAST(index_name AS CHAR), \
         non_unique = 0, 0, CAST(column_name AS CHAR) FROM information_schema.statistics WHERE ",
    );
    push_tables(&mut q, "", only);
    q.push(" ORDER BY table_name, index_name, seq_in_index");
    q
}

/// (schema, table, constraint, column, referenced table, referenced column, ON
/// DELETE CASCADE), in key order.
fn catalog_foreign_keys(only: Option<(&str, &str)>) -> Query {
    let mut q = Query::new(
        "SELECT CAST(k.table_schema AS CHAR), CAST(k.table_name AS CHAR), CAST(k.constraint_name AS CHAR), \
         CAST(k.column_name AS CHAR), CAST(k.referenced_table_name AS CHAR), CAST(k.referenced_column_name AS CHAR), \
         r.delete_rule = 'CASCADE' FROM information_schema.key_column_usage k \
         JOIN information_schema.referential_constraints r ON r.constraint_schema = k.table_schema \
         AND r.table_name = k.table_name AND r.constraint_name = k.constraint_name \
         WHERE k.referenced_table_name IS NOT NULL AND ",
    );
    push_tables(&mut q, "k.", only);
    q.push(" ORDER BY k.table_name, k.constraint_name, k.ordinal_position");
    q
}

fn table_names(schema: Option<&str>) -> Query {
    let mut q = Query::new(
        "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema = ",
    );
    match schema {
        Some(s) => {
            q.bind(SqlValue::Text(s.into()));
        }
        None => {
            q.push("database()");
        }
    }
    q.push(" ORDER BY 1");
    q
}

/// MySQL's and MariaDB's [`Dialect`].
#[derive(Debug)]
pub(super) struct MySqlDialect;

impl Dialect for MySqlDialect {
    fn fault(&self, e: &dyn sqlx::error::DatabaseError) -> Fault {
        // Most errors share SQLSTATE HY000: the error number tells them apart.
        let Some(m) = e.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() else {
            return Fault::Other;
        };
        match m.number() {
            // lock wait timeout, deadlock (a Galera certification conflict too),
            // max_statement_time (MariaDB), max execution time (MySQL)
            1205 | 1213 | 1969 | 3024 => Fault::Timeout,
            // server shutdown, connection killed (MariaDB), aborted, gone away and
            // lost (client side), disconnected for inactivity (MySQL 8)
            1053 | 1927 | 1152 | 2006 | 2013 | 4031 => Fault::ConnectionLost,
            // disk full, table full, error writing a file
            1021 | 1114 | 3 => Fault::DiskFull,
            // wsrep_max_ws_rows exceeded; "Maximum writeset size exceeded" (a
            // generic number, but a statement a smaller batch would not fail)
            1180 | 1105 => Fault::TooLarge,
            _ => Fault::Other,
        }
    }

    fn own(&self) -> Own {
        Own::new(NOW, HAS_OWN_TABLES, &MIGRATOR)
    }

    fn table_for_constants(&self) -> &'static str {
        " FROM DUAL"
    }

    fn kind_of(&self, declared: &str) -> Kind {
        let d = declared.to_ascii_lowercase();
        match d.split(['(', ' ']).next().unwrap_or("") {
            "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" => Kind::Integer,
            "decimal" | "numeric" | "float" | "double" | "real" => Kind::Real,
            "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" => Kind::Text,
            "datetime" | "timestamp" => Kind::Timestamp { tz: false },
            "date" => Kind::Date,
            _ => Kind::Other,
        }
    }

    fn read_as_text(&self, _kind: Kind, source: &str) -> String {
        format!("CAST({source} AS CHAR)")
    }

    /// MySQL hands integers over as text; bound back as text, a key compared with
    /// a joined list's column could not use the primary key.
    fn push_value(&self, q: &mut Query, col: &Col, v: SqlValue) {
        q.bind(match v {
            SqlValue::Text(t) if col.kind == Kind::Integer => {
                t.parse().map(SqlValue::Int).unwrap_or(SqlValue::Text(t))
            }
            other => other,
        });
    }

    fn row_list_open(&self) -> &'static str {
        // Plain row constructors: MySQL has no VALUES list here.
        ") IN ("
    }

    fn instant(&self, at: DateTime<Utc>) -> String {
        super::table::naive(at)
    }

    fn cast_to_text(&self, expr: &str) -> String {
        format!("CAST({expr} AS CHAR)")
    }

    fn push_text_before(&self, q: &mut Query, ts: &str, cutoff: DateTime<Utc>) {
        q.push(" AND ");
        push_iso(q, ts);
        q.push(" < CAST(")
            .bind(SqlValue::Text(super::table::naive(cutoff)))
            .push(" AS DATETIME(6))");
    }

    fn push_unreadable_text(&self, q: &mut Query, ts: &str) {
        q.push(ts).push(" IS NOT NULL AND ");
        push_iso(q, ts);
        q.push(" IS NULL");
    }

    /// Byte for byte: MySQL's collations ignore case and trailing spaces.
    fn push_equals_exactly(&self, q: &mut Query, text: &str, s: &str) {
        q.push(&format!("CAST({text} AS BINARY) = CAST("));
        q.bind(SqlValue::Text(s.to_string())).push(" AS BINARY)");
    }

    fn trim(&self, text: &str) -> String {
        format!("TRIM({text})")
    }

    /// A binary collation makes MariaDB's and MySQL's REGEXP case-sensitive.
    fn push_regex(&self, q: &mut Query, text: &str, pattern: &str) {
        q.push(&format!(
            "CONVERT({text} USING utf8mb4) COLLATE utf8mb4_bin REGEXP "
        ))
        .bind(SqlValue::Text(pattern.to_string()));
    }

    fn push_position_open(&self, q: &mut Query, text: &str, needle: &str) {
        q.push(&format!("LOCATE({}, {text}", literal(needle)));
    }

    fn epoch_start(&self, raw: &str, month: bool) -> String {
        let first = if month { "%Y-%m-01" } else { "%Y-01-01" };
        format!(
            "TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', DATE_FORMAT(DATE_ADD('1970-01-01 00:00:00', INTERVAL {raw} SECOND), '{first}'))"
        )
    }

    /// MariaDB takes a bound string for the connection's character set and will not
    /// mix it with a latin1 column; an ASCII literal it converts.
    fn push_constant(&self, q: &mut Query, _col: &Col, s: &str) {
        q.push(&literal(s));
    }

    fn push_output(&self, q: &mut Query, c: &OutputColumn<'_>) {
        push_output(q, c);
    }

    /// A UNION of one-row SELECTs, the first naming the columns: MySQL has no
    /// VALUES list to join.
    fn push_list_row(&self, list: &mut Query, i: usize, cols: &[Col], row: Vec<SqlValue>) {
        list.push(if i == 0 {
            "SELECT "
        } else {
            " UNION ALL SELECT "
        });
        for (j, (c, v)) in cols.iter().zip(row).enumerate() {
            if j > 0 {
                list.push(", ");
            }
            self.push_value(list, c, v);
            if i == 0 {
                list.push(&format!(" AS column{}", j + 1));
            }
        }
    }

    fn update_joined(&self, table: &str, list: Query, join: &str, set: Query) -> Query {
        let mut q = Query::new(format!("UPDATE {table}"));
        q.push(" JOIN (").append(list);
        q.push(") AS retentiond_v ON ").push(join).append(set);
        q
    }

    /// The multi-table UPDATE names the table in each assignment.
    fn set_target(&self, table: &str, column: &str) -> String {
        format!("{table}.{column}")
    }

    fn vacuum(&self, table: &str) -> Option<String> {
        Some(format!("OPTIMIZE TABLE {table}"))
    }

    /// InnoDB stores rows in primary key order; a table without one is clustered
    /// on a hidden row id no statement can name.
    fn storage_key(&self, primary_key: &[String]) -> StorageKey {
        if primary_key.is_empty() {
            StorageKey::None("the table has no primary key, InnoDB's storage order".into())
        } else {
            StorageKey::Columns(primary_key.to_vec())
        }
    }

    fn explain_prefix(&self) -> &'static str {
        "EXPLAIN FORMAT=JSON "
    }

    /// `"access_type": "ALL"`: a full scan.
    fn plan_scans_table(&self, rows: &[Vec<SqlValue>]) -> bool {
        rows.iter()
            .filter_map(|r| r.first().and_then(SqlValue::as_text))
            .any(|plan| plan.replace(' ', "").contains("\"access_type\":\"ALL\""))
    }

    fn catalog_reads(&self, only: Option<(&str, &str)>) -> CatalogReads {
        let (columns, indexes) = (catalog_columns(only), catalog_indexes(only));
        CatalogReads::unpartitioned(columns, indexes, catalog_foreign_keys(only))
    }

    fn find_table(&self, schema: Option<&str>, table: &str) -> Option<Query> {
        Some(find_table(schema, table))
    }

    fn table_names(&self, schema: Option<&str>) -> Query {
        table_names(schema)
    }

    fn backend(&self) -> Backend {
        Backend::MySql
    }
}

/// A SQL string literal of one of retentiond's own constants (never a user's
/// value): MariaDB takes a bound string in the connection's character set, which
/// it will not compare with a latin1 column.
pub(super) fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// MySQL has no parser for ISO 8601 with offsets: the instant in `ts` read from
/// the three forms (no zone, `Z`, `+07:00`) as a UTC DATETIME, NULL for anything
/// else.
fn push_iso(q: &mut Query, ts: &str) {
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

/// The anonymised value of `c`. The column itself, not its text: CAST(... AS CHAR)
/// is the connection's character set, which MariaDB will not mix with a latin1
/// column.
fn push_output(q: &mut Query, c: &OutputColumn<'_>) {
    let raw = c.raw;
    match (c.strategy, c.form) {
        (Strategy::TruncateIp, _) => {
            let b = format!("INET6_ATON(TRIM({raw}))");
            q.push(&format!(
                "CONVERT(INET6_NTOA(CASE WHEN LENGTH({b}) = 4 THEN CONCAT(LEFT({b}, 3), UNHEX('00')) \
                 WHEN LEFT({b}, 12) = UNHEX('00000000000000000000FFFF') THEN CONCAT(LEFT({b}, 15), UNHEX('00')) \
                 ELSE CONCAT(LEFT({b}, 6), UNHEX('00000000000000000000')) END) USING ascii)"
            ));
        }
        (Strategy::EmailDomain, _) => {
            // LOWER() folds non-ASCII letters too; Rust folds ASCII only. REPLACE
            // matches case-sensitively whatever the collation.
            let mut e = format!("SUBSTRING_INDEX(TRIM({raw}), '@', -1)");
            for (up, low) in UPPER.chars().zip(LOWER.chars()) {
                e = format!("REPLACE({e}, '{up}', '{low}')");
            }
            q.push(&e);
        }
        (Strategy::Year | Strategy::Month, Form::Number) => {
            let first = if c.strategy == Strategy::Month {
                "%Y-%m-01"
            } else {
                "%Y-01-01"
            };
            q.push(&format!(
                "TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', DATE_FORMAT(DATE_ADD('1970-01-01 00:00:00', INTERVAL {raw} SECOND), '{first}'))"
            ));
        }
        (Strategy::Year | Strategy::Month, _) => {
            q.push("CONCAT(");
            q.push(&date_start(raw, c.strategy, "SUBSTRING", ","));
            q.push(&format!(
                ", CASE WHEN CHAR_LENGTH({raw}) = 10 THEN '' ELSE CONCAT(SUBSTRING({raw}, 11, 1), '00:00:00', COALESCE(REGEXP_SUBSTR(SUBSTRING({raw}, 12), "
            ));
            q.push(&literal(ZONE)).push("), '')) END)");
        }
        (Strategy::Null | Strategy::Redact | Strategy::Hash | Strategy::RemoveFile, _) => {
            q.push("NULL");
        }
    }
}
