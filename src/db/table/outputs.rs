//! The anonymised value of a column, computed by the database in a range `UPDATE`,
//! with the same bytes as `anonymize::apply` computes in Rust. SQLite calls the
//! Rust functions themselves (`sqlite_functions`); PostgreSQL and MariaDB say the
//! same in their own SQL: inet arithmetic and `host()`, `INET6_ATON`/`INET6_NTOA`,
//! ASCII-only lower case, textual date truncation. Only `hash`, whose key must not
//! reach the database, is computed in Rust. A test holds each backend's bytes to
//! Rust's on a corpus.

use super::forms::literal;
use super::{Anonymized, Target};
use crate::anonymize::{Form, Test};
use crate::backend::Backend;
use crate::db::sqlite_functions;
use crate::db::{Query, SqlValue};
use crate::policy::{REDACTED, Strategy};

const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
/// From the first `Z`, `+` or `-` of a time to its end: the zone, as Rust finds it.
const ZONE: &str = "[Z+-].*$";
/// After the last `@`.
const DOMAIN: &str = "[^@]*$";

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

    /// One of retentiond's own text constants as an output. MariaDB takes a bound
    /// string for the connection's character set and will not mix it with a latin1
    /// column; an ASCII literal it converts. Elsewhere the constant is bound.
    fn push_constant(&self, q: &mut Query, a: &Anonymized, s: &str) {
        match self.backend {
            Backend::MySql => {
                q.push(&literal(s));
            }
            Backend::Sqlite | Backend::Postgres => {
                self.push_value(q, &a.col, SqlValue::Text(s.to_string()));
            }
        }
    }

    /// Where Rust's `apply` reads the value (rather than falling back).
    fn push_applicable(&self, q: &mut Query, a: &Anonymized) {
        match (self.backend, a.strategy) {
            // SQLite's functions are `apply` itself, fallbacks included.
            (Backend::Sqlite, _) => {
                q.push("TRUE");
            }
            (_, Strategy::EmailDomain) => {
                q.push("NOT ");
                self.push_test(q, a, &Test::HasNoAt);
                q.push(" AND ");
                self.push_test(q, a, &a.recognition.readable);
            }
            _ => self.push_test(q, a, &a.recognition.readable),
        }
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
        match self.backend {
            Backend::Sqlite => {
                let f = sqlite_functions::name_of(a.strategy).unwrap_or("NULL");
                q.push(f).push("(").push(&a.col.quoted).push(")");
            }
            Backend::Postgres => {
                // Bound text and expressions alike become the column's own type.
                q.push("CAST((");
                self.push_postgres(q, a);
                q.push(") AS ")
                    .push(a.col.cast.as_deref().unwrap_or("text"))
                    .push(")");
            }
            Backend::MySql => self.push_mysql(q, a),
        }
    }

    fn push_postgres(&self, q: &mut Query, a: &Anonymized) {
        let text = self.read(&a.col);
        let raw = &a.col.quoted;
        match (a.strategy, a.form) {
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
                let unit = unit(a.strategy);
                q.push(&format!(
                    "extract(epoch FROM date_trunc('{unit}', to_timestamp({raw})))"
                ));
            }
            (Strategy::Year | Strategy::Month, _) => {
                q.push(&date_start(&text, a.strategy, "substr", "||"));
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

    fn push_mysql(&self, q: &mut Query, a: &Anonymized) {
        // The column itself, not its text: CAST(... AS CHAR) is the connection's
        // character set, which MariaDB will not mix with a latin1 column.
        let raw = &a.col.quoted;
        match (a.strategy, a.form) {
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
                let first = if a.strategy == Strategy::Month {
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
                q.push(&date_start(raw, a.strategy, "SUBSTRING", ","));
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
}

fn text_value(s: &str) -> SqlValue {
    SqlValue::Text(s.to_string())
}

fn unit(strategy: Strategy) -> &'static str {
    if strategy == Strategy::Month {
        "month"
    } else {
        "year"
    }
}

/// The first day of the text date's year or month: `YYYY-01-01` or `YYYY-MM-01`,
/// with the dialect's substring function and concatenation.
fn date_start(text: &str, strategy: Strategy, substring: &str, concat: &str) -> String {
    if strategy == Strategy::Month {
        format!("{substring}({text}, 1, 7) {concat} '-01'")
    } else {
        format!("{substring}({text}, 1, 4) {concat} '-01-01'")
    }
}
