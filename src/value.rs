//! [`SqlValue`]: a value as retentiond reads it from, and binds it to, any backend.
//! A leaf, shared by `db` (which moves values) and `anonymize` (which replaces them).

use chrono::{DateTime, Utc};

/// A value bound to, or read from, a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl SqlValue {
    /// The instant a timestamp value stands for: ISO text (as any backend prints it)
    /// or epoch seconds.
    pub fn as_instant(&self) -> Option<DateTime<Utc>> {
        match self {
            SqlValue::Text(t) => crate::period::parse_instant(t),
            SqlValue::Int(n) => DateTime::from_timestamp(*n, 0),
            SqlValue::Real(x) => DateTime::from_timestamp(*x as i64, 0),
            SqlValue::Null | SqlValue::Blob(_) => None,
        }
    }

    pub fn as_text(&self) -> Option<&str> {
        match self {
            SqlValue::Text(s) => Some(s),
            _ => None,
        }
    }

    /// An integer, or text that is one: catalogs and MySQL hand some numbers over
    /// as text.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            SqlValue::Int(n) => Some(*n),
            SqlValue::Text(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// A number of any kind, for comparisons (the largest epoch value, say).
    pub fn as_number(&self) -> Option<f64> {
        match self {
            SqlValue::Int(n) => Some(*n as f64),
            SqlValue::Real(x) => Some(*x),
            SqlValue::Text(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// Text, or a number written as text; `None` for NULL and binary values.
    pub fn to_text(&self) -> Option<String> {
        match self {
            SqlValue::Text(s) => Some(s.clone()),
            SqlValue::Int(n) => Some(n.to_string()),
            SqlValue::Real(x) => Some(x.to_string()),
            SqlValue::Null | SqlValue::Blob(_) => None,
        }
    }

    /// `Text(s)`, or NULL for `None`.
    pub fn text_or_null(s: Option<String>) -> SqlValue {
        s.map(SqlValue::Text).unwrap_or(SqlValue::Null)
    }
}
