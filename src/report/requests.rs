//! The report's "Privacy requests" section: per kind (erasure, access,
//! portability), how many requests were received, fell due and were answered in
//! the period, how many were answered late or are overdue now; and each access or
//! portability request with what was exported (counts, never values). Pure.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::db::{self, PrivacyRequest};
use crate::ledger::{Ledger, LedgerEvent};
use crate::outcome::{RequestKind, RequestStatus};

/// One kind of request in the period.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RequestTally {
    pub kind: RequestKind,
    pub received: u64,
    pub due: u64,
    pub answered: u64,
    /// Answered in the period, after their due date.
    pub answered_late: u64,
    /// Received before the period ended, still open, and past their due date now.
    pub overdue: u64,
}

/// An access or portability request received, due or answered in the period.
#[derive(Debug, Clone, Serialize)]
pub struct ExportLine {
    pub id: i64,
    pub kind: RequestKind,
    pub received_at: String,
    pub due_at: String,
    pub status: RequestStatus,
    pub answered_at: Option<String>,
    pub overdue: bool,
    pub tables: u64,
    pub rows: u64,
}

fn within(t: &str, lo: &str, hi: &str) -> bool {
    lo <= t && t < hi
}

/// A tally for each kind, in the order erasure, access, portability.
pub fn tallies(
    requests: &[PrivacyRequest],
    lo: &str,
    hi: &str,
    now: DateTime<Utc>,
) -> Vec<RequestTally> {
    let now = db::rfc3339(now);
    [
        RequestKind::Erasure,
        RequestKind::Access,
        RequestKind::Portability,
    ]
    .into_iter()
    .map(|kind| {
        let of_kind = || requests.iter().filter(move |r| r.received.kind == kind);
        let count = |f: &dyn Fn(&PrivacyRequest) -> bool| of_kind().filter(|r| f(r)).count() as u64;
        let answered_in =
            |r: &PrivacyRequest| r.processed_at.as_deref().is_some_and(|p| within(p, lo, hi));
        RequestTally {
            kind,
            received: count(&|r| within(&r.received.received_at, lo, hi)),
            due: count(&|r| within(&r.received.due_at, lo, hi)),
            answered: count(&answered_in),
            answered_late: count(&|r| {
                answered_in(r) && r.processed_at.as_deref() > Some(r.received.due_at.as_str())
            }),
            overdue: count(&|r| {
                r.status == RequestStatus::Open
                    && r.received.received_at.as_str() < hi
                    && r.received.due_at < now
            }),
        }
    })
    .collect()
}

/// The access and portability requests that concern the period: received before
/// it ended and not answered before it began.
pub fn export_lines(
    requests: &[PrivacyRequest],
    lo: &str,
    hi: &str,
    now: DateTime<Utc>,
) -> Vec<ExportLine> {
    let now = db::rfc3339(now);
    requests
        .iter()
        .filter(|r| r.received.kind.is_export())
        .filter(|r| {
            r.received.received_at.as_str() < hi
                && r.processed_at.as_deref().is_none_or(|p| p >= lo)
        })
        .map(|r| ExportLine {
            id: r.id,
            kind: r.received.kind,
            received_at: r.received.received_at.clone(),
            due_at: r.received.due_at.clone(),
            status: r.status,
            answered_at: r.processed_at.clone(),
            overdue: r.overdue(&now),
            tables: r.exported.len() as u64,
            rows: r.exported.iter().map(|t| t.rows).sum(),
        })
        .collect()
}

impl ExportLine {
    /// `access request #3 received ..., due ...: completed, answered ...: 7 row(s)
    /// from 4 table(s)`, without the overdue mark, which each format sets its way.
    pub fn describe(&self) -> String {
        let answered = self
            .answered_at
            .as_deref()
            .map(|a| {
                format!(
                    ", answered {a}: {} row(s) from {} table(s)",
                    self.rows, self.tables
                )
            })
            .unwrap_or_default();
        format!(
            "{} request #{} received {}, due {}: {}{answered}",
            self.kind,
            self.id,
            self.received_at,
            self.due_at,
            self.status.words()
        )
    }
}

/// An erasure applied again in the period, its rows having come back (a restore),
/// as the erasure ledger records it.
#[derive(Debug, Clone, Serialize)]
pub struct ReappliedLine {
    pub request: i64,
    pub at: String,
    pub run: Option<i64>,
    pub rows: u64,
}

/// The ledger's re-applications in [`lo`, `hi`); an unreadable ledger is said in
/// the second value.
pub fn reapplied(ledger: &Ledger, lo: &str, hi: &str) -> (Vec<ReappliedLine>, Option<String>) {
    match ledger.read() {
        Ok(lines) => (
            lines
                .into_iter()
                .filter(|l| l.event == LedgerEvent::Reapplied && within(&l.at, lo, hi))
                .map(|l| ReappliedLine {
                    request: l.request,
                    at: l.at,
                    run: l.run,
                    rows: l
                        .policies
                        .iter()
                        .filter(|p| p.outcome.erases())
                        .map(|p| p.rows)
                        .sum(),
                })
                .collect(),
            None,
        ),
        Err(e) => (Vec::new(), Some(e.to_string())),
    }
}

/// An answered request passed on to its processors, as of the report.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Forwarding {
    /// Processors it was queued for.
    pub processors: u64,
    /// Accepted by the processor.
    pub confirmed: u64,
    /// Not sent: nothing in `send` identified the person.
    pub skipped: u64,
    /// Queued and not accepted yet (held until the answer is recorded, or due).
    pub pending: u64,
    /// Tried and refused or unreachable so far: processor, since when, last error.
    pub failing: Vec<FailingDelivery>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FailingDelivery {
    pub processor: String,
    pub since: String,
    pub attempts: i64,
    pub last_error: String,
}

impl Forwarding {
    /// The deliveries of request `id` among `all`; none when it has none.
    pub fn of(id: i64, all: &[crate::db::Delivery]) -> Option<Forwarding> {
        use crate::outcome::DeliveryState;
        let mine: Vec<&crate::db::Delivery> = all.iter().filter(|d| d.request_id == id).collect();
        if mine.is_empty() {
            return None;
        }
        let count = |s: DeliveryState| mine.iter().filter(|d| d.state == s).count() as u64;
        Some(Forwarding {
            processors: mine.len() as u64,
            confirmed: count(DeliveryState::Delivered),
            skipped: count(DeliveryState::Skipped),
            pending: count(DeliveryState::Held) + count(DeliveryState::Due),
            failing: mine
                .iter()
                .filter(|d| d.state == DeliveryState::Due && d.first_failed_at.is_some())
                .map(|d| FailingDelivery {
                    processor: d.processor.clone(),
                    since: d.first_failed_at.clone().unwrap_or_default(),
                    attempts: d.attempts,
                    last_error: d.last_error.clone().unwrap_or_default(),
                })
                .collect(),
        })
    }

    /// "passed on to 3 processor(s): 1 confirmed, 1 waiting, 1 failing (mailer
    /// since ..., 4 tries: HTTP 500)".
    pub fn words(&self) -> String {
        let mut parts = vec![format!("{} confirmed", self.confirmed)];
        let waiting = self.pending - self.failing.len() as u64;
        if waiting > 0 {
            parts.push(format!("{waiting} waiting"));
        }
        if self.skipped > 0 {
            parts.push(format!("{} with nothing to send", self.skipped));
        }
        for f in &self.failing {
            parts.push(format!(
                "failing: {} since {}, {} tries, last {}",
                f.processor, f.since, f.attempts, f.last_error
            ));
        }
        format!(
            "passed on to {} processor(s): {}",
            self.processors,
            parts.join("; ")
        )
    }
}
