//! Purge reports for a period, for the data-protection officer: what was purged,
//! refused and held, whether each policy is enforced now, how erasure requests were
//! answered, and whether the audit trail is intact.
//!
//! `gather` reads the database into a [`Report`]; `markdown`, `html` and `csv`
//! render it (pure: no IO); `periodic` writes the daemon's reports once per period.

mod csv;
mod gather;
mod html;
mod mail;
mod markdown;
mod periodic;
mod requests;
pub mod signoff;

use std::collections::BTreeMap;

use chrono::{Datelike, Months, NaiveDate};
use serde::Serialize;

use crate::db::DbError;
use crate::outcome::{RequestStatus, RunStatus, Status};
use crate::policy::{Action, Basis};
use crate::spelling::spelled;

pub use csv::{csv, json};
pub use gather::gather;
pub use html::{html, html_escape};
pub use mail::{mail_due, test_relay, unsent_reports};
pub use markdown::markdown;
pub use periodic::{label_of, last_period, write_due, written_reports};
pub use requests::{ExportLine, ReappliedLine, RequestTally};

/// What a purge cannot reach, said once in every report.
pub const UNREACHABLE: &str = "A purge removes rows from the live database only. Copies made before a purge are \
out of its reach until their own retention ends: backups and database dumps, write-ahead log and binary log \
archives, replicas that were behind or detached, and exports to other systems. On PostgreSQL, deleted rows \
stay in the table's pages as dead row versions until VACUUM; on MySQL, in InnoDB's undo logs until they are \
purged; each pass records which of these still held purged values (\"leftovers\" below).";

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Said first when no pass ran in the period: which pass was the last, and how
    /// to see it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub database: String,
    /// First day of the period.
    pub from: String,
    /// Last day of the period (inclusive).
    pub to: String,
    pub generated_at: String,
    pub config_path: String,
    pub config_sha256: String,
    /// Config versions (SHA-256) that passes ran with in the period, with their first pass.
    pub config_versions: Vec<ConfigVersion>,
    pub policies: Vec<PolicySection>,
    /// Passes in the period, by how they ended.
    pub passes: BTreeMap<RunStatus, u64>,
    pub incidents: Vec<Incident>,
    pub holds: Vec<HoldLine>,
    pub erasures: Vec<ErasureLine>,
    /// Every kind of privacy request, counted over the period.
    pub privacy_requests: Vec<RequestTally>,
    /// The access and portability requests of the period.
    pub exports: Vec<ExportLine>,
    /// Personal-looking columns in tables no policy covers, found now.
    pub uncovered: Vec<crate::engine::Uncovered>,
    /// Erasures applied again in the period after a restore, from the ledger.
    pub reapplied: Vec<ReappliedLine>,
    /// Why the erasure ledger could not be read, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ledger_error: Option<String>,
    pub audit: AuditSection,
    pub leftovers: Vec<String>,
    pub unreachable: String,
    pub daily: Vec<DayRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConfigVersion {
    pub sha256: String,
    pub first_pass: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicySection {
    pub name: String,
    pub description: Option<String>,
    pub table: String,
    pub period: String,
    pub basis: Option<Basis>,
    pub action: Action,
    pub deleted: u64,
    pub anonymized: u64,
    /// The same count under its earlier spelling; kept for scripts until 1.0.
    pub anonymised: u64,
    pub held: u64,
    pub passes: u64,
    pub outcomes: BTreeMap<Status, u64>,
    /// The files of the purged rows, by what became of them.
    pub files: crate::engine::FileCounts,
    pub enforcement: Enforcement,
}

spelled! {
    /// Whether a policy's promise was found to hold: no row it covers is older than
    /// its period (`in_compliance`), some are (`backlog`), or the check could not
    /// run (`not_checked`: the policy does not fit the schema, a query failed), which
    /// is never reported as a pass.
    pub enum Verdict {
        InCompliance = "in_compliance", Backlog = "backlog", NotChecked = "not_checked",
    }
}

/// Whether the policy's promise holds now: no row it covers is older than its period.
#[derive(Debug, Clone, Serialize)]
pub struct Enforcement {
    pub cutoff: Option<String>,
    pub oldest_remaining: Option<String>,
    pub state: Verdict,
    /// `state == in_compliance`, for scripts written before `state`.
    pub in_compliance: bool,
    pub backlog_rows: u64,
    /// The verdict in words, with the cutoff, the oldest row, or why it was not checked.
    pub verdict: String,
}

impl Enforcement {
    fn new(
        state: Verdict,
        cutoff: Option<String>,
        oldest_remaining: Option<String>,
        backlog_rows: u64,
        verdict: String,
    ) -> Enforcement {
        Enforcement {
            cutoff,
            oldest_remaining,
            state,
            in_compliance: state == Verdict::InCompliance,
            backlog_rows,
            verdict,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Incident {
    pub run_id: i64,
    pub started_at: String,
    pub policy: String,
    pub status: Status,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct HoldLine {
    pub id: i64,
    pub reason: String,
    pub policy: Option<String>,
    pub since: String,
    pub until: Option<String>,
    pub released_at: Option<String>,
    /// Only with `--include-subjects`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// An erasure request received, due or answered during the period.
#[derive(Debug, Clone, Serialize)]
pub struct ErasureLine {
    pub id: i64,
    pub received_at: String,
    pub due_at: String,
    pub status: RequestStatus,
    pub answered_at: Option<String>,
    pub minor: bool,
    /// Open past its due date, or answered after it.
    pub overdue: bool,
    /// What was kept, per policy, and why and until when.
    pub kept: Vec<String>,
    /// What was deleted or anonymised, per policy, in words.
    pub erased: Vec<String>,
    /// How the erasure was passed on to the processors, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forwarded: Option<requests::Forwarding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditSection {
    pub intact: bool,
    pub verified: u64,
    pub head: Option<String>,
    pub broken: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DayRow {
    pub date: String,
    pub policy: String,
    pub table: String,
    pub rows_deleted: u64,
    pub rows_anonymized: u64,
    /// The same count under its earlier spelling; kept for scripts until 1.0.
    pub rows_anonymised: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Db(#[from] DbError),
    // The cause is in the message, not a `source`: `{:#}` would print it twice.
    #[error("cannot write the report {path}: {error}")]
    Write { path: String, error: std::io::Error },
    #[error("cannot mail the report {label}: {error}; it is tried again at the next pass")]
    Mail { label: String, error: String },
}

/// The last full calendar month before `today`: (first day, last day).
pub fn last_full_month(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first_this = today.with_day(1).expect("day 1 exists");
    let first_last = first_this
        .checked_sub_months(Months::new(1))
        .expect("in range");
    (first_last, first_this.pred_opt().expect("in range"))
}

/// "2 erasures re-applied after the database was restored (requests #5, #6: 7 rows)".
pub fn reapplied_summary(lines: &[ReappliedLine]) -> String {
    let mut requests: Vec<String> = lines.iter().map(|l| format!("#{}", l.request)).collect();
    requests.dedup();
    let rows: u64 = lines.iter().map(|l| l.rows).sum();
    format!(
        "{} erasure{} re-applied after the database was restored (request{} {}: {rows} row(s) erased again)",
        lines.len(),
        if lines.len() == 1 { "" } else { "s" },
        if requests.len() == 1 { "" } else { "s" },
        requests.join(", ")
    )
}

impl HoldLine {
    /// How the hold ends, in words: released, until a date, or until released.
    pub fn end(&self) -> String {
        match (&self.released_at, &self.until) {
            (Some(at), _) => format!("released {at}"),
            (None, Some(until)) => format!("until {until}"),
            (None, None) => "until released".into(),
        }
    }
}

impl ErasureLine {
    /// `, answered <time>`, or nothing while the request is open.
    pub fn answered(&self) -> String {
        self.answered_at
            .as_deref()
            .map(|a| format!(", answered {a}"))
            .unwrap_or_default()
    }
}
