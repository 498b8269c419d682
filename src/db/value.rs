//! [`Query`]: SQL text with its bound values. A query is built only inside `db`.

pub use crate::value::SqlValue;

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
