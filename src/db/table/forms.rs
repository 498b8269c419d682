//! The SQL side of `anonymize::forms`: each [`Test`] written in the backend's own
//! dialect, so that a batch selects exactly the rows whose values Rust would find
//! still to do. Patterns and literals are bound; only the target's quoted column
//! names are pasted.

use super::{Anonymized, Target};
use crate::anonymize::{EPOCH_RANGE, Test};
use crate::db::{Query, SqlValue};
use crate::policy::Strategy;

/// The SQL that finds a value's state, for tests and diagnostics.
const STATE_CASE: [&str; 3] = ["anonymized", "pending", "cannot_anonymize"];

impl Target {
    /// `test` on the value of column `a`, as a boolean that is never NULL for a
    /// non-NULL value.
    pub(super) fn push_test(&self, q: &mut Query, a: &Anonymized, test: &Test) {
        let raw = &a.col.quoted;
        let text = self.read(&a.col);
        let d = self.dialect;
        q.push("COALESCE((");
        match test {
            Test::Always => {
                q.push("TRUE");
            }
            Test::Never => {
                q.push("FALSE");
            }
            Test::Equals(s) => d.push_equals_exactly(q, &text, s),
            Test::Matches(p) => d.push_regex(q, &text, p.as_str()),
            Test::TrimmedMatches(p) => d.push_regex(q, &d.trim(&text), p.as_str()),
            Test::HasNoAt => {
                q.push(&text)
                    .push(" NOT LIKE ")
                    .bind(SqlValue::Text("%@%".into()));
            }
            Test::NotEndingInAt => {
                q.push(&format!("rtrim({text}) NOT LIKE "))
                    .bind(SqlValue::Text("%@".into()));
            }
            Test::EpochInRange => self.push_epoch_in_range(q, raw),
            Test::EpochAtStart { month } => {
                q.push("CASE WHEN ");
                self.push_epoch_in_range(q, raw);
                q.push(" THEN ").push(raw).push(" = ");
                q.push(&d.epoch_start(raw, *month));
                q.push(" ELSE FALSE END");
            }
            Test::Split { on, with, without } => {
                q.push("CASE WHEN ");
                d.push_position_open(q, &text, on);
                q.push(") > 0 THEN ");
                self.push_test(q, a, with);
                q.push(" ELSE ");
                self.push_test(q, a, without);
                q.push(" END");
            }
            Test::EndsWithThen { suffixes, then } => {
                q.push("CASE WHEN ");
                for (i, suffix) in suffixes.iter().enumerate() {
                    if i > 0 {
                        q.push(" OR ");
                    }
                    q.push(&text).push(" LIKE ");
                    q.bind(SqlValue::Text(format!("%{suffix}")));
                }
                q.push(" THEN ");
                self.push_test(q, a, then);
                q.push(" ELSE FALSE END");
            }
            Test::ByType { number, text: t } => {
                q.push("CASE WHEN typeof(").push(raw);
                q.push(") IN ('integer', 'real') THEN ");
                self.push_test(q, a, number);
                q.push(" WHEN typeof(").push(raw).push(") = 'text' THEN ");
                self.push_test(q, a, t);
                q.push(" ELSE FALSE END");
            }
        }
        q.push("), FALSE)");
    }

    fn push_epoch_in_range(&self, q: &mut Query, raw: &str) {
        q.push(raw)
            .push(" BETWEEN ")
            .bind(SqlValue::Int(EPOCH_RANGE.0));
        q.push(" AND ").bind(SqlValue::Int(EPOCH_RANGE.1));
    }

    /// The value of column `a` still to anonymise: not NULL, not in output form, and
    /// readable by its strategy.
    pub(super) fn push_value_pending(&self, q: &mut Query, a: &Anonymized) {
        q.push("(")
            .push(&a.col.quoted)
            .push(" IS NOT NULL AND NOT ");
        self.push_test(q, a, &a.recognition.done);
        q.push(" AND ");
        self.push_test(q, a, &a.recognition.readable);
        q.push(")");
    }

    /// The value of column `a` its strategy cannot anonymise.
    pub(super) fn push_value_unreadable(&self, q: &mut Query, a: &Anonymized) {
        q.push("(")
            .push(&a.col.quoted)
            .push(" IS NOT NULL AND NOT ");
        self.push_test(q, a, &a.recognition.done);
        q.push(" AND NOT ");
        self.push_test(q, a, &a.recognition.readable);
        q.push(")");
    }

    /// ` AND (...)`: the rows an anonymising batch still has to do. For an erasure,
    /// every row with a `hash` value too: a keyed pseudonym still leads back to its
    /// subject, however it was written.
    pub(super) fn push_pending(&self, q: &mut Query, erasure: bool) {
        if self.action != crate::policy::Action::Anonymize {
            return;
        }
        let rehash: Vec<&Anonymized> = if erasure {
            self.anonymize
                .iter()
                .filter(|a| a.strategy == Strategy::Hash)
                .collect()
        } else {
            Vec::new()
        };
        q.push(" AND (");
        match &self.marker {
            Some(marker) => {
                q.push(&marker.quoted).push(" IS NULL");
                for a in &rehash {
                    q.push(" OR ").push(&a.col.quoted).push(" IS NOT NULL");
                }
            }
            None => {
                for (i, a) in self.anonymize.iter().enumerate() {
                    if i > 0 {
                        q.push(" OR ");
                    }
                    if rehash.iter().any(|r| std::ptr::eq(*r, a)) {
                        q.push(&a.col.quoted).push(" IS NOT NULL");
                    } else {
                        self.push_value_pending(q, a);
                    }
                }
            }
        }
        q.push(")");
    }

    /// `CASE ... END` naming column `index`'s state: anonymized, pending or
    /// cannot_anonymize.
    pub(super) fn push_state_case(&self, q: &mut Query, index: usize) {
        let a = &self.anonymize[index];
        q.push("CASE WHEN ")
            .push(&a.col.quoted)
            .push(" IS NULL OR ");
        self.push_test(q, a, &a.recognition.done);
        q.push(" THEN ").bind(SqlValue::Text(STATE_CASE[0].into()));
        q.push(" WHEN ");
        self.push_test(q, a, &a.recognition.readable);
        q.push(" THEN ").bind(SqlValue::Text(STATE_CASE[1].into()));
        q.push(" ELSE ")
            .bind(SqlValue::Text(STATE_CASE[2].into()))
            .push(" END");
    }
}

/// The state `push_state_case` names.
pub(super) fn parse_state(text: &str) -> Option<crate::anonymize::ValueState> {
    use crate::anonymize::ValueState;
    match STATE_CASE.iter().position(|s| *s == text)? {
        0 => Some(ValueState::Anonymized),
        1 => Some(ValueState::Pending),
        _ => Some(ValueState::CannotAnonymize),
    }
}
