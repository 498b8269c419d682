//! A validated retention rule and the pure decisions made with it: cutoffs and guards.
//!
//! Nothing here does IO. `config` builds these types; `purge` executes them.

use std::fmt;
use std::time::Duration;

use crate::backend::Backend;
use crate::period::Period;
use crate::spelling::spelled;
use chrono::{DateTime, Utc};

/// Where a value was written in the config file, so that errors found later (a
/// missing table, say) can still point at the line that named it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Loc {
    pub line: usize,
    pub col: usize,
}

/// A table or column name from the config. Its syntax is checked when the config is
/// parsed (letters, digits, `_`, at most one `schema.` dot); it is checked against
/// the live catalog and quoted by `db` before it reaches any SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub loc: Loc,
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

spelled! {
    /// What a policy does to an expired row.
    pub enum Action { Delete = "delete", Anonymize = "anonymize" }
}

spelled! {
    /// The legal basis a policy keeps its data on (GDPR Art. 6), for the reports.
    pub enum Basis {
        LegalObligation = "legal_obligation" ("legal obligation"), Contract = "contract",
        Consent = "consent", LegitimateInterest = "legitimate_interest" ("legitimate interest"),
    }
}

spelled! {
    /// How an anonymised column's value is replaced.
    pub enum Strategy {
        Null = "null", Hash = "hash", Redact = "redact", TruncateIp = "truncate_ip",
        EmailDomain = "email_domain", Year = "year", Month = "month",
        RemoveFile = "remove_file",
    }
}

impl Strategy {
    /// Whether the strategy produces text, so the target column must hold text.
    pub fn writes_text(self) -> bool {
        matches!(
            self,
            Strategy::Hash | Strategy::Redact | Strategy::TruncateIp | Strategy::EmailDomain
        )
    }
}

/// The secret of the `hash` strategy (`[anonymize] key_file`). Its `Debug` shows
/// only its length.
#[derive(Clone)]
pub struct HmacKey(pub Vec<u8>);

impl fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HmacKey({} bytes)", self.0.len())
    }
}

/// The text `redact` writes.
pub const REDACTED: &str = "[redacted]";

#[derive(Debug, Clone, PartialEq)]
pub enum FilterValue {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub column: Ident,
    pub values: Vec<FilterValue>,
}

/// A column holding the path (or object key) of a file in `store`: when the row
/// goes, the file goes.
#[derive(Debug, Clone, PartialEq)]
pub struct FileColumn {
    pub column: Ident,
    /// The name of a `[stores.NAME]`.
    pub store: String,
}

/// A child table whose rows go with their parent row: those whose `foreign_key`
/// holds the parent's `references` columns (its key where none are named). Its own
/// `cascade` children go with it, to any depth.
#[derive(Debug, Clone, PartialEq)]
pub struct Cascade {
    pub table: Ident,
    /// Columns of the child table that hold the parent's columns, in their order.
    pub foreign_key: Vec<Ident>,
    /// The parent's columns the foreign key holds; empty: the parent's key (the
    /// policy's `key` at the top, the child table's primary key below).
    pub references: Vec<Ident>,
    pub cascade: Vec<Cascade>,
    /// Columns of the child holding files that go with its rows.
    pub files: Vec<FileColumn>,
}

impl Cascade {
    /// This entry and every entry below it, parents before their children.
    pub fn walk(&self) -> Vec<&Cascade> {
        let mut out = vec![self];
        for c in &self.cascade {
            out.extend(c.walk());
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Anonymize {
    pub column: Ident,
    pub strategy: Strategy,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub name: String,
    pub loc: Loc,
    pub description: Option<String>,
    pub table: Ident,
    pub key: Vec<Ident>,
    pub timestamp: Ident,
    pub keep: Period,
    /// `keep` as written in retention.toml ("26 months", "P7Y"): how every output
    /// shows the period, so that it reads like the privacy policy.
    pub keep_as_written: String,
    pub basis: Option<Basis>,
    pub subject: Option<Ident>,
    pub action: Action,
    pub cascade: Vec<Cascade>,
    /// Columns holding files that go with the rows (or, with `remove_file`, with
    /// the anonymised value).
    pub files: Vec<FileColumn>,
    pub filter: Vec<Filter>,
    pub marker: Option<Ident>,
    pub anonymize: Vec<Anonymize>,
    /// Rebuild storage after a pass that purged rows, so no old copy survives. `None`
    /// is the backend's default (on for SQLite).
    pub vacuum: Option<bool>,
    pub partitions: Partitions,
    /// How batches walk the table for expired rows.
    pub walk: Walk,
    /// This policy's own `max_table_fraction`; `None`: `[limits]`'s.
    pub max_table_fraction: Option<f64>,
}

spelled! {
    /// How the batches of an expiry pass step through a policy's table.
    #[derive(Default)]
    pub enum Walk {
        /// The table walk where the database itself would scan the whole table for
        /// the expired rows (its own plan says so), the index walk elsewhere.
        #[default]
        Auto = "auto",
        /// In (timestamp, key) order through the timestamp's index: few expired
        /// rows among many.
        Index = "index",
        /// In the order the rows are stored (PostgreSQL's blocks, InnoDB's primary
        /// key, SQLite's rowid), testing each: many expired rows.
        Table = "table",
    }
}

/// How a range-partitioned table (PostgreSQL) is purged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Partitions {
    /// Row by row, like any table.
    #[default]
    Rows,
    /// Whole partitions whose range lies before the cutoff are dropped; the rest row
    /// by row.
    Drop,
}

impl Policy {
    /// Whether any row of the policy or of its cascade points to a file.
    pub fn has_files(&self) -> bool {
        !self.files.is_empty() || self.cascade_entries().iter().any(|c| !c.files.is_empty())
    }

    /// Every cascade entry at any depth, parents before their children.
    pub fn cascade_entries(&self) -> Vec<&Cascade> {
        self.cascade.iter().flat_map(Cascade::walk).collect()
    }

    /// Whether anonymising a row also anonymises its subject column, so that nothing
    /// links it to the person.
    pub fn anonymizes_subject(&self) -> bool {
        self.subject.as_ref().is_some_and(|s| {
            self.anonymize
                .iter()
                .any(|a| a.column.name.eq_ignore_ascii_case(&s.name))
        })
    }

    /// Rows whose timestamp is strictly before this instant have expired.
    pub fn cutoff(&self, database_now: DateTime<Utc>) -> DateTime<Utc> {
        self.keep.before(database_now)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// A fixed number of rows per transaction; `None`: sizes that follow the rate
    /// ([`Limits::batch_time_on`]).
    pub batch_size: Option<u32>,
    /// How long a batch's transaction should take when sizes adapt; `None`: the
    /// backend's default.
    pub batch_time: Option<Duration>,
    /// The most rows an adaptive batch takes; `None`: [`DEFAULT_MAX_BATCH_SIZE`].
    pub max_batch_size: Option<u32>,
    pub max_table_fraction: f64,
    /// The rest between two batches, for the application's writers; `None`: the
    /// backend's default ([`Limits::pause_on`]).
    pub pause: Option<Duration>,
}

impl Limits {
    /// The rest between batches on `backend` ([`Backend::default_pause`]).
    pub fn pause_on(&self, backend: Backend) -> Duration {
        self.pause.unwrap_or(backend.default_pause())
    }

    /// The first batch's size on `backend`, and every batch's with `batch_size`.
    pub fn batch_size_on(&self, backend: Backend) -> u32 {
        self.batch_size.unwrap_or(backend.default_batch_size())
    }

    /// The time an adaptive batch aims at on `backend`.
    pub fn batch_time_on(&self, backend: Backend) -> Duration {
        self.batch_time.unwrap_or(backend.default_batch_time())
    }

    pub fn max_batch_size(&self) -> u32 {
        self.max_batch_size.unwrap_or(DEFAULT_MAX_BATCH_SIZE)
    }
}

pub const DEFAULT_MAX_BATCH_SIZE: u32 = 100_000;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            batch_size: None,
            batch_time: None,
            max_batch_size: None,
            max_table_fraction: 0.5,
            pause: None,
        }
    }
}

/// The longest the database clock may differ from the host clock before a pass is
/// refused: a wrong clock moves every cutoff with it.
pub const MAX_CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// Refuses a pass when the database and host clocks disagree by more than
/// [`MAX_CLOCK_SKEW`]. Returns the skew in the refusal so the log can show it.
pub fn clock_guard(
    database_now: DateTime<Utc>,
    host_now: DateTime<Utc>,
) -> Result<(), chrono::TimeDelta> {
    let skew = database_now - host_now;
    if skew.abs() > MAX_CLOCK_SKEW {
        Err(skew)
    } else {
        Ok(())
    }
}

/// How many rows of a table [`fraction_guard`] needs counted to decide: past this
/// many, `expired` is within `max_fraction` whatever the rest. `None`: count them all.
pub fn rows_to_decide(expired: u64, max_fraction: f64) -> Option<u64> {
    if max_fraction <= 0.0 {
        return None;
    }
    let needed = (expired as f64 / max_fraction).ceil();
    // One more than needed, so that rounding cannot tip the comparison.
    (needed < u64::MAX as f64).then(|| needed as u64 + 1)
}

/// Refuses a policy that would purge more than `max_fraction` of its table. Returns
/// the reason, in words an operator can act on.
pub fn fraction_guard(
    policy: &str,
    expired: u64,
    total: u64,
    max_fraction: f64,
) -> Result<(), String> {
    if total == 0 || expired == 0 {
        return Ok(());
    }
    let fraction = expired as f64 / total as f64;
    if fraction > max_fraction {
        return Err(format!(
            "policy `{policy}` would purge {expired} of {total} rows ({:.1}%), more than \
             max_table_fraction {max_fraction}; check the period and the timestamp column, \
             then rerun with --force if this is intended",
            fraction * 100.0
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn counting_up_to_rows_to_decide_gives_the_same_verdict_as_counting_all() {
        for (expired, total, max) in [
            (50, 100, 0.5),
            (51, 100, 0.5),
            (1, 3, 0.33),
            (1, 3, 0.34),
            (0, 0, 0.5),
            (7, 7, 1.0),
            (3, 1_000_000, 0.1),
        ] {
            let counted = rows_to_decide(expired, max).map_or(total, |n| total.min(n));
            assert_eq!(
                fraction_guard("p", expired, counted, max).is_ok(),
                fraction_guard("p", expired, total, max).is_ok(),
                "{expired} of {total} at {max}"
            );
        }
        assert_eq!(rows_to_decide(10, 0.0), None);
    }

    #[test]
    fn fraction_guard_refuses_only_above_the_limit() {
        assert!(fraction_guard("p", 50, 100, 0.5).is_ok());
        assert!(fraction_guard("p", 51, 100, 0.5).is_err());
        assert!(fraction_guard("p", 0, 0, 0.5).is_ok());
        assert!(fraction_guard("p", 100, 100, 1.0).is_ok());
        let reason = fraction_guard("orders", 9, 10, 0.5).unwrap_err();
        assert!(reason.contains("9 of 10 rows (90.0%)"), "{reason}");
        assert!(reason.contains("--force"), "{reason}");
    }

    #[test]
    fn clock_guard_allows_five_minutes_either_way() {
        let host = Utc.with_ymd_and_hms(2026, 11, 22, 2, 0, 0).unwrap();
        assert!(clock_guard(host + MAX_CLOCK_SKEW, host).is_ok());
        assert!(clock_guard(host - MAX_CLOCK_SKEW, host).is_ok());
        let skew = clock_guard(host + chrono::TimeDelta::seconds(301), host).unwrap_err();
        assert_eq!(skew.num_seconds(), 301);
        assert!(clock_guard(host - chrono::TimeDelta::hours(1), host).is_err());
    }
}
