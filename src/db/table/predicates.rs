//! The pieces of WHERE clauses every selection of a policy's rows is made of:
//! expired (in a form that walks the timestamp index), held, filter, subject, not
//! yet anonymised, the keyset range, unreadable timestamps. Each appends to a
//! [`Query`]; values are bound, identifiers are the target's quoted names.

use chrono::{DateTime, Days, Utc};

use super::{Col, Cursor, Scope, Target, TsEncoding, rfc3339};
use crate::db::dialect::Against;
use crate::db::{Query, SqlValue};

/// A `YYYY-MM-DD` prefix, which every readable ISO 8601 timestamp starts with.
pub(in crate::db) const ISO_DATE_GLOB: &str = "[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]*";

/// The ISO 8601 forms retentiond reads from text columns on PostgreSQL and MySQL.
pub(in crate::db) const ISO_REGEX: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?(Z|[+-][0-9]{2}:[0-9]{2})?$";
pub(in crate::db) const ISO_REGEX_NO_ZONE: &str =
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?$";
pub(in crate::db) const ISO_REGEX_Z: &str =
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?Z$";
pub(in crate::db) const ISO_REGEX_OFFSET: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?[+-][0-9]{2}:[0-9]{2}$";

/// The date two days after `cutoff`, as text: every ISO text for an instant before
/// `cutoff` sorts before it, whatever its offset (at most 14 hours).
pub(super) fn coarse_bound(cutoff: DateTime<Utc>) -> String {
    (cutoff + Days::new(2)).format("%Y-%m-%d").to_string()
}

impl Target {
    /// `timestamp < cutoff`, in a form that can walk an index on the timestamp.
    pub(super) fn push_expired(&self, q: &mut Query, cutoff: DateTime<Utc>) {
        self.push_expired_range(q, cutoff);
        if self.encoding == TsEncoding::Text {
            self.push_expired_text(q, cutoff);
        }
    }

    /// [`Target::push_expired`] with the cutoff where the planner sees its value,
    /// for `EXPLAIN`: a bound evaluated once per statement hides it, and the plan
    /// would guess a third of the table.
    pub(super) fn push_expired_for_plan(&self, q: &mut Query, cutoff: DateTime<Utc>) {
        match self.encoding {
            TsEncoding::Text => self.push_expired(q, cutoff),
            _ => self.push_ts(q, " < ", cutoff, false),
        }
    }

    /// The index range [`Target::push_expired`] walks: for text, every row that may
    /// be expired (up to two days past the cutoff) and no row-by-row test. What a
    /// batch's end is found in: the statement that purges repeats the whole test.
    pub(super) fn push_expired_range(&self, q: &mut Query, cutoff: DateTime<Utc>) {
        if self.encoding == TsEncoding::Text {
            // The index is ordered as text, and offsets can move a local date by up
            // to 14 hours: bound the index range by the date two days after the
            // cutoff (then compare exact instants, `push_expired_text`).
            let ts = &self.ts.quoted;
            q.push(ts).push(" >= ").bind(SqlValue::Text(String::new()));
            q.push(" AND ")
                .push(ts)
                .push(" < ")
                .bind(SqlValue::Text(coarse_bound(cutoff)));
            return;
        }
        self.push_ts_against(q, " < ", cutoff);
    }

    /// `timestamp >= cutoff`, through the index: the rows not yet expired. Not for
    /// text timestamps, whose order as text is not their order in time.
    pub(super) fn push_not_expired(&self, q: &mut Query, cutoff: DateTime<Utc>) {
        self.push_ts_against(q, " >= ", cutoff);
    }

    /// `timestamp <op> cutoff` for a number or native timestamp, the cutoff
    /// evaluated once per statement.
    fn push_ts_against(&self, q: &mut Query, op: &'static str, cutoff: DateTime<Utc>) {
        self.push_ts(q, op, cutoff, true);
    }

    fn push_ts(&self, q: &mut Query, op: &'static str, cutoff: DateTime<Utc>, once: bool) {
        let (d, ts) = (self.dialect, &self.ts);
        let against = Against { op, cutoff, once };
        match self.encoding {
            TsEncoding::Epoch => d.push_epoch_against(q, ts, against),
            TsEncoding::Native => d.push_native_against(q, ts, against),
            // Compared as text: what the callers above do not rely on.
            TsEncoding::Text => {
                q.push(&self.ts.quoted)
                    .push(op)
                    .bind(SqlValue::Text(rfc3339(cutoff)));
            }
        }
    }

    /// ` AND` the text is a date before the cutoff, as an exact instant (text without
    /// an offset read as UTC).
    fn push_expired_text(&self, q: &mut Query, cutoff: DateTime<Utc>) {
        self.dialect.push_text_before(q, &self.ts.quoted, cutoff);
    }

    /// `NOT` or nothing before `EXISTS (an active hold on this row's subject)`: the
    /// hold applies to every policy, or names this one, and has not ended by `now`.
    pub(super) fn push_hold(&self, q: &mut Query, held: bool, now: DateTime<Utc>) {
        self.push_hold_on(q, &self.table, held, now);
    }

    /// [`Target::push_hold`] for rows read from `table` (the policy's table, or one
    /// of its partitions).
    pub(super) fn push_hold_on(&self, q: &mut Query, table: &str, held: bool, now: DateTime<Utc>) {
        let Some(subject) = &self.subject else {
            if held {
                q.push(" AND 1 = 0");
            }
            return;
        };
        let as_text = self
            .dialect
            .cast_to_text(&format!("{table}.{}", subject.quoted));
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
    pub(super) fn push_subject(&self, q: &mut Query, value: &str) {
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

    pub(super) fn push_filter(&self, q: &mut Query) {
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

    pub(super) fn push_key_list(&self, q: &mut Query, columns: &[Col], keys: &[Vec<SqlValue>]) {
        if columns.len() == 1 {
            let values: Vec<SqlValue> = keys.iter().map(|k| k[0].clone()).collect();
            self.push_in(q, &columns[0], &values);
            return;
        }
        let names: Vec<&str> = columns.iter().map(|c| c.quoted.as_str()).collect();
        q.push("(")
            .push(&names.join(", "))
            .push(self.dialect.row_list_open());
        for (i, k) in keys.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            self.push_values(q, columns, k, false);
            q.push(")");
        }
        q.push(")");
    }

    /// `col IN (values)`.
    pub(super) fn push_in(&self, q: &mut Query, col: &Col, values: &[SqlValue]) {
        self.dialect.push_in(q, col, values);
    }

    /// A text timestamp that is not a readable ISO 8601 instant.
    pub(super) fn push_unreadable_text(&self, q: &mut Query) {
        self.dialect.push_unreadable_text(q, &self.ts.quoted);
    }

    /// The rows of `scope` a batch may take, after `after` and up to `upto` in
    /// (timestamp, key) order: not yet done, not held.
    pub(super) fn push_batch_rows(
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
        self.push_pending(q, matches!(scope, Scope::Subject(_)));
        self.push_hold(q, false, now);
    }

    /// `(timestamp, key) > after AND (timestamp, key) <= upto AND `, each when given.
    /// The plain bounds on the timestamp say the same for the timestamp alone: they
    /// let an index on it seek to the range, which not every engine does for a row
    /// value.
    pub(super) fn push_range(&self, q: &mut Query, after: Option<&Cursor>, upto: Option<&Cursor>) {
        let order_cols = self.order_cols();
        let order = self.order_list();
        for (bound, row_op, ts_op) in [(after, ") > (", " >= "), (upto, ") <= (", " <= ")] {
            let Some(bound) = bound else { continue };
            q.push(&self.ts.quoted).push(ts_op);
            self.push_bound(q, &self.ts, bound[0].clone());
            q.push(" AND (").push(&order).push(row_op);
            self.push_values(q, order_cols.iter().copied(), bound, true);
            q.push(") AND ");
        }
    }
}
