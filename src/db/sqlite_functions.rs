//! retentiond's anonymisation strategies as SQLite SQL functions, so that a range
//! `UPDATE` anonymises in SQLite itself with the very Rust functions the engine
//! uses elsewhere: the output is the same bytes by construction. SQLite runs in this
//! process, so a function is a call, not a round trip.
//!
//! The one unsafe corner of retentiond: sqlx exposes the connection's raw handle,
//! and libsqlite3-sys's C API registers the functions on it.

use std::ffi::{CStr, c_int, c_void};

use libsqlite3_sys as ffi;
use sqlx::SqliteConnection;

use super::{DbError, SqlValue};
use crate::anonymize::{self, Form, Purpose};
use crate::policy::Strategy;

/// The functions and the strategy each applies; their index is the user data.
const FUNCTIONS: [(&CStr, Strategy); 4] = [
    (c"retentiond_truncate_ip", Strategy::TruncateIp),
    (c"retentiond_email_domain", Strategy::EmailDomain),
    (c"retentiond_year", Strategy::Year),
    (c"retentiond_month", Strategy::Month),
];

/// The SQL name of `strategy`'s function, if it has one.
pub(super) fn name_of(strategy: Strategy) -> Option<&'static str> {
    FUNCTIONS
        .iter()
        .find(|(_, s)| *s == strategy)
        .and_then(|(n, _)| n.to_str().ok())
}

/// Registers every function on `conn`.
pub(super) async fn register(conn: &mut SqliteConnection) -> Result<(), DbError> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    for (index, (name, _)) in FUNCTIONS.iter().enumerate() {
        // SAFETY: `db` is a live connection, locked for us; `name` is a
        // NUL-terminated constant; the user data is an index, never dereferenced.
        let rc = unsafe {
            ffi::sqlite3_create_function_v2(
                db,
                name.as_ptr(),
                1,
                ffi::SQLITE_UTF8 | ffi::SQLITE_DETERMINISTIC,
                index as *mut c_void,
                Some(call),
                None,
                None,
                None,
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(DbError::Unsupported(format!(
                "SQLite refused to register {} (code {rc})",
                name.to_string_lossy()
            )));
        }
    }
    Ok(())
}

/// One call: the argument as a [`SqlValue`], the strategy applied as
/// [`anonymize::apply`] does for expiry, the result handed back.
unsafe extern "C" fn call(
    ctx: *mut ffi::sqlite3_context,
    argc: c_int,
    argv: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: SQLite passes `argc` valid values in `argv` and a valid context, and
    // the user data is the index `register` gave.
    unsafe {
        let index = ffi::sqlite3_user_data(ctx) as usize;
        let Some((_, strategy)) = FUNCTIONS.get(index) else {
            ffi::sqlite3_result_null(ctx);
            return;
        };
        if argc != 1 {
            ffi::sqlite3_result_null(ctx);
            return;
        }
        let value = read(*argv);
        let out = anonymize::apply(*strategy, Form::ByValue, &value, None, Purpose::Expiry);
        write(ctx, &out);
    }
}

/// # Safety
/// `v` is a valid SQLite value.
unsafe fn read(v: *mut ffi::sqlite3_value) -> SqlValue {
    // SAFETY: per the contract; text and blob pointers are valid for the lengths
    // SQLite reports, until the value changes.
    unsafe {
        match ffi::sqlite3_value_type(v) {
            ffi::SQLITE_INTEGER => SqlValue::Int(ffi::sqlite3_value_int64(v)),
            ffi::SQLITE_FLOAT => SqlValue::Real(ffi::sqlite3_value_double(v)),
            ffi::SQLITE_TEXT => {
                let p = ffi::sqlite3_value_text(v);
                let n = ffi::sqlite3_value_bytes(v).max(0) as usize;
                let bytes = if p.is_null() {
                    &[][..]
                } else {
                    std::slice::from_raw_parts(p, n)
                };
                match std::str::from_utf8(bytes) {
                    Ok(s) => SqlValue::Text(s.to_string()),
                    Err(_) => SqlValue::Blob(bytes.to_vec()),
                }
            }
            ffi::SQLITE_BLOB => {
                let p = ffi::sqlite3_value_blob(v).cast::<u8>();
                let n = ffi::sqlite3_value_bytes(v).max(0) as usize;
                SqlValue::Blob(if p.is_null() {
                    Vec::new()
                } else {
                    std::slice::from_raw_parts(p, n).to_vec()
                })
            }
            _ => SqlValue::Null,
        }
    }
}

/// # Safety
/// `ctx` is the context of the call being answered.
unsafe fn write(ctx: *mut ffi::sqlite3_context, out: &SqlValue) {
    // SAFETY: SQLITE_TRANSIENT makes SQLite copy the bytes before `out` goes away.
    unsafe {
        match out {
            SqlValue::Null => ffi::sqlite3_result_null(ctx),
            SqlValue::Int(n) => ffi::sqlite3_result_int64(ctx, *n),
            SqlValue::Real(x) => ffi::sqlite3_result_double(ctx, *x),
            SqlValue::Text(s) => ffi::sqlite3_result_text(
                ctx,
                s.as_ptr().cast(),
                s.len() as c_int,
                ffi::SQLITE_TRANSIENT(),
            ),
            SqlValue::Blob(b) => ffi::sqlite3_result_blob(
                ctx,
                b.as_ptr().cast(),
                b.len() as c_int,
                ffi::SQLITE_TRANSIENT(),
            ),
        }
    }
}
