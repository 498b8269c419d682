//! The anonymised value of a column, computed by the database in a range `UPDATE`,
//! with the same bytes as `anonymize::apply` computes in Rust. SQLite calls the
//! Rust functions themselves (`sqlite_functions`); PostgreSQL and MariaDB say the
//! same in their own SQL: inet arithmetic and `host()`, `INET6_ATON`/`INET6_NTOA`,
//! ASCII-only lower case, textual date truncation. Only `hash`, whose key must not
//! reach the database, is computed in Rust. A test holds each backend's bytes to
//! Rust's on a corpus.

use super::{Anonymized, Target};
use crate::anonymize::Test;
use crate::db::dialect::OutputColumn;
use crate::db::{Query, SqlValue};
use crate::policy::{REDACTED, Strategy};

pub(in crate::db) const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
pub(in crate::db) const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
/// From the first `Z`, `+` or `-` of a time to its end: the zone, as Rust finds it.
pub(in crate::db) const ZONE: &str = "[Z+-].*$";
/// After the last `@`.
pub(in crate::db) const DOMAIN: &str = "[^@]*$";

impl Target {
    /// Whether the database computes every anonymised column of this policy (all
    /// but `hash`), so that a batch needs one range `UPDATE` and reads no row.
    pub(super) fn anonymizes_in_sql(&self) -> bool {
        // `remove_file` reads the path it clears, to remove the file after the batch.
        self.anonymize
            .iter()
            .all(|a| !matches!(a.strategy, Strategy::Hash | Strategy::RemoveFile))
    }

    /// `col = <its anonymised value>` for a range `UPDATE`. Without a marker only
    /// pending values change (the `WHERE` says so when there is one column); with one, every value of the row is anonymised, and a
    /// value the strategy cannot read becomes `[redacted]` (NULL for dates), as in
    /// Rust.
    pub(super) fn push_assignment(&self, q: &mut Query, a: &Anonymized) {
        let c = &a.col.quoted;
        if a.strategy == Strategy::Null && self.marker.is_some() {
            // Not a CASE of NULLs: PostgreSQL would type it text, whatever the column.
            q.push(c).push(" = NULL");
            return;
        }
        if self.marker.is_none() && self.anonymize.len() == 1 {
            // The batch's WHERE already holds only rows whose one value is pending.
            q.push(c).push(" = ");
            self.push_output(q, a);
            return;
        }
        q.push(c).push(" = CASE WHEN ");
        if self.marker.is_none() {
            self.push_value_pending(q, a);
            q.push(" THEN ");
            self.push_output(q, a);
            q.push(" ELSE ").push(c).push(" END");
            return;
        }
        q.push(c).push(" IS NULL THEN NULL WHEN ");
        self.push_applicable(q, a);
        q.push(" THEN ");
        self.push_output(q, a);
        q.push(" ELSE ");
        match a.strategy {
            Strategy::TruncateIp | Strategy::EmailDomain | Strategy::Redact => {
                self.push_constant(q, a, REDACTED);
            }
            Strategy::Null
            | Strategy::Hash
            | Strategy::Year
            | Strategy::Month
            | Strategy::RemoveFile => {
                q.push("NULL");
            }
        }
        q.push(" END");
    }

    /// One of retentiond's own text constants as an output.
    fn push_constant(&self, q: &mut Query, a: &Anonymized, s: &str) {
        self.dialect.push_constant(q, &a.col, s);
    }

    /// Where Rust's `apply` reads the value (rather than falling back).
    fn push_applicable(&self, q: &mut Query, a: &Anonymized) {
        if self.dialect.outputs_read_any_value() {
            q.push("TRUE");
            return;
        }
        if a.strategy == Strategy::EmailDomain {
            q.push("NOT ");
            self.push_test(q, a, &Test::HasNoAt);
            q.push(" AND ");
        }
        self.push_test(q, a, &a.recognition.readable);
    }

    /// The anonymised value of a readable value of column `a`, in the column's type.
    fn push_output(&self, q: &mut Query, a: &Anonymized) {
        if a.strategy == Strategy::Null {
            q.push("NULL");
            return;
        }
        if a.strategy == Strategy::Redact {
            self.push_constant(q, a, REDACTED);
            return;
        }
        let text = self.read(&a.col);
        self.dialect.push_output(
            q,
            &OutputColumn {
                strategy: a.strategy,
                form: a.form,
                raw: &a.col.quoted,
                text: &text,
                cast: a.col.cast.as_deref(),
            },
        );
    }
}

pub(in crate::db) fn text_value(s: &str) -> SqlValue {
    SqlValue::Text(s.to_string())
}

pub(in crate::db) fn unit(strategy: Strategy) -> &'static str {
    if strategy == Strategy::Month {
        "month"
    } else {
        "year"
    }
}

/// The first day of the text date's year or month: `YYYY-01-01` or `YYYY-MM-01`,
/// with the dialect's substring function and concatenation.
pub(in crate::db) fn date_start(
    text: &str,
    strategy: Strategy,
    substring: &str,
    concat: &str,
) -> String {
    if strategy == Strategy::Month {
        format!("{substring}({text}, 1, 7) {concat} '-01'")
    } else {
        format!("{substring}({text}, 1, 4) {concat} '-01-01'")
    }
}
