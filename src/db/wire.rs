//! What every backend does alike between a [`Query`] and sqlx: binding its values
//! in order, and decoding each row cell by cell into [`SqlValue`]s. A backend says
//! only how NULL is typed when bound and how its own column types decode.

use sqlx::{Column, ColumnIndex, Database, Encode, Row, Type, TypeInfo, ValueRef};

use super::{DbError, SqlValue};

/// A sqlx query of backend `DB` over `sql`, with `params` bound in order. NULL is
/// bound as `Option::<N>::None`: the type the backend infers a NULL parameter from.
pub(super) fn bind<'q, DB, N>(
    sql: &'q str,
    params: &'q [SqlValue],
) -> sqlx::query::Query<'q, DB, <DB as Database>::Arguments>
where
    DB: Database,
    i64: Encode<'q, DB> + Type<DB>,
    f64: Encode<'q, DB> + Type<DB>,
    &'q str: Encode<'q, DB> + Type<DB>,
    &'q [u8]: Encode<'q, DB> + Type<DB>,
    Option<N>: Encode<'q, DB> + Type<DB> + 'q,
{
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for v in params {
        query = match v {
            SqlValue::Null => query.bind(Option::<N>::None),
            SqlValue::Int(n) => query.bind(*n),
            SqlValue::Real(x) => query.bind(*x),
            SqlValue::Text(s) => query.bind(s.as_str()),
            SqlValue::Blob(b) => query.bind(b.as_slice()),
        };
    }
    query
}

/// Decodes every cell of `rows`. `typed` decodes a non-NULL cell of the type the
/// backend names, or returns `None` for a type retentiond does not read.
pub(super) fn decode<R>(
    rows: &[R],
    typed: impl Fn(&R, usize, &str) -> Result<Option<SqlValue>, sqlx::Error>,
) -> Result<Vec<Vec<SqlValue>>, DbError>
where
    R: Row,
    usize: ColumnIndex<R>,
{
    rows.iter()
        .map(|row| {
            (0..row.columns().len())
                .map(|i| {
                    let raw = row.try_get_raw(i)?;
                    if raw.is_null() {
                        return Ok(SqlValue::Null);
                    }
                    let kind = raw.type_info().name().to_string();
                    typed(row, i, &kind)?.ok_or_else(|| {
                        DbError::Decode(format!(
                            "column {} holds a value of type {kind}",
                            row.columns()[i].name()
                        ))
                    })
                })
                .collect()
        })
        .collect()
}

/// Hands the rows of `stream` to `each`, decoded, in chunks of `size` as they
/// arrive: a result of any length passes through in constant memory.
pub(super) async fn chunks<R, E>(
    stream: impl futures_util::Stream<Item = Result<R, sqlx::Error>>,
    size: usize,
    typed: impl Fn(&R, usize, &str) -> Result<Option<SqlValue>, sqlx::Error> + Copy,
    each: &mut impl FnMut(Vec<Vec<SqlValue>>) -> Result<(), E>,
) -> Result<(), E>
where
    R: Row,
    usize: ColumnIndex<R>,
    E: From<DbError>,
{
    use futures_util::TryStreamExt as _;
    let mut stream = std::pin::pin!(stream);
    let mut chunk = Vec::with_capacity(size);
    while let Some(row) = stream.try_next().await.map_err(DbError::from)? {
        chunk.push(row);
        if chunk.len() == size {
            each(decode(&chunk, typed)?)?;
            chunk.clear();
        }
    }
    if !chunk.is_empty() {
        each(decode(&chunk, typed)?)?;
    }
    Ok(())
}

/// What a backend's `typed` makes of a non-NULL cell of the type the server
/// names: `None` for a type retentiond does not read.
pub(super) type Typed = Result<Option<SqlValue>, sqlx::Error>;

/// A backend's `fetch` (every row of a statement), `fetch_chunks` (rows handed on
/// as they arrive) and `execute` (the rows it changed): the same for each but for the database type, the type a
/// NULL is bound as, how `?` placeholders are written, and the module's `typed`.
macro_rules! fetch_functions {
    ($db:ty, $conn:ty, $null:ty, $placeholders:path) => {
        pub(super) async fn fetch(c: &mut $conn, q: &Query) -> Result<Vec<Vec<SqlValue>>, DbError> {
            let sql = $placeholders(&q.sql);
            let rows = wire::bind::<$db, $null>(&sql, &q.params)
                .fetch_all(&mut *c)
                .await?;
            wire::decode(&rows, typed)
        }

        /// Runs `q`, handing its rows to `each` in chunks of `size` as they arrive.
        pub(super) async fn fetch_chunks<E: From<DbError>>(
            c: &mut $conn,
            q: &Query,
            size: usize,
            each: &mut impl FnMut(Vec<Vec<SqlValue>>) -> Result<(), E>,
        ) -> Result<(), E> {
            let sql = $placeholders(&q.sql);
            let rows = wire::bind::<$db, $null>(&sql, &q.params).fetch(&mut *c);
            wire::chunks(rows, size, typed, each).await
        }

        pub(super) async fn execute(c: &mut $conn, q: &Query) -> Result<u64, DbError> {
            let sql = $placeholders(&q.sql);
            let done = wire::bind::<$db, $null>(&sql, &q.params)
                .execute(&mut *c)
                .await?;
            Ok(done.rows_affected())
        }
    };
}
pub(super) use fetch_functions;
