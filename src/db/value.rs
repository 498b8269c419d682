//! The value model every backend shares: [`SqlValue`] (a bound or read value) and
//! [`Query`] (SQL text with its bound values). A query is built only inside `db`.

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

/// SQL text with its bound values. Built only inside `db`.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub(super) sql: String,
    pub(super) params: Vec<SqlValue>,
}

impl Query {
    pub(super) fn new(sql: impl Into<String>) -> Query {
        Query {
            sql: sql.into(),
            params: Vec::new(),
        }
    }

    pub(super) fn push(&mut self, sql: &str) -> &mut Query {
        self.sql.push_str(sql);
        self
    }

    /// Appends a placeholder and binds `v` to it.
    pub(super) fn bind(&mut self, v: SqlValue) -> &mut Query {
        self.params.push(v);
        self.sql.push('?');
        self
    }

    /// Appends `?, ?, ...` binding each value in turn.
    pub(super) fn bind_list(&mut self, values: impl IntoIterator<Item = SqlValue>) -> &mut Query {
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(v);
        }
        self
    }

    /// Appends another query's text and values.
    pub(super) fn append(&mut self, other: Query) -> &mut Query {
        self.sql.push_str(&other.sql);
        self.params.extend(other.params);
        self
    }

    pub fn sql(&self) -> &str {
        &self.sql
    }
}
