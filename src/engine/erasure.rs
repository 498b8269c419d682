//! Erasure requests: registered with their 30-day due date, and answered through the
//! same batches as expiry. In every policy with a subject column, the subject's rows
//! are deleted or anonymised per the policy, whatever their age, except where the
//! basis is a legal obligation (kept, with the date they will go) or a legal hold
//! applies. A request whose answer failed somewhere stays open for the next pass.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use super::batch::{self, Work};
use super::{Pass, PolicyOutcome, journal};
use crate::audit::EventAction;
use crate::config::Config;
use crate::db::{self, Db, DbError, ErasureEntry, ErasureRequest, NewErasure, Scope, Target};
use crate::outcome::{ErasureOutcome, RequestStatus};
use crate::policy::{Action, Basis, Policy};

/// The days an erasure request may take: the shop's promise, the GDPR's month.
pub const ERASURE_DAYS: i64 = 30;
/// The reason that marks a minor's data, erased on discovery rather than at the
/// next pass.
pub const MINOR: &str = "minor";
/// Requests due within this many days are logged as a warning at every pass.
const DUE_SOON_DAYS: i64 = 7;

/// How one erasure request was answered, policy by policy.
#[derive(Debug, Clone, Serialize)]
pub struct ErasureAnswer {
    pub id: i64,
    pub status: RequestStatus,
    pub minor: bool,
    pub policies: Vec<ErasureEntry>,
}

/// A request as registered.
#[derive(Debug, Clone)]
pub struct RegisteredErasure {
    pub id: i64,
    pub due: DateTime<Utc>,
    pub minor: bool,
}

impl RegisteredErasure {
    /// A minor's data is erased at once, as is any request asked to be.
    pub fn answer_now(&self, asked: bool) -> bool {
        asked || self.minor
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ErasureError {
    #[error("--subject must not be empty")]
    EmptySubject,
    #[error("no policy in {0} names a subject column, so nothing could be erased")]
    NoSubjectPolicy(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Registers a request received now, due in [`ERASURE_DAYS`], and records it in
/// the audit trail. Creates retentiond's tables if need be.
pub async fn register_erasure(
    db: &mut Db,
    config: &Config,
    subject: &str,
    reason: Option<String>,
    reference: Option<String>,
) -> Result<RegisteredErasure, ErasureError> {
    if subject.trim().is_empty() {
        return Err(ErasureError::EmptySubject);
    }
    if !config.policies.iter().any(|p| p.subject.is_some()) {
        return Err(ErasureError::NoSubjectPolicy(
            config.path.display().to_string(),
        ));
    }
    let minor = reason.as_deref() == Some(MINOR);
    db.ensure_own_tables().await?;
    let received = Utc::now();
    let due = received + TimeDelta::days(ERASURE_DAYS);
    let id = db
        .insert_erasure(&NewErasure {
            subject: subject.to_string(),
            reason,
            reference,
            minor,
            received_at: db::rfc3339(received),
            due_at: db::rfc3339(due),
        })
        .await?;
    let detail = format!(
        "erasure request #{id} registered{}, due {}",
        if minor { " (minor)" } else { "" },
        db::rfc3339(due)
    );
    let event = journal::outside_pass(
        EventAction::ErasureRegistered,
        None,
        &db::rfc3339(received),
        detail,
    );
    journal::append(db, event).await?;
    Ok(RegisteredErasure { id, due, minor })
}

/// Answers the open requests (or only `opts.erasure_only`).
pub(super) async fn answer_open(db: &mut Db, pass: &mut Pass<'_>) -> Vec<ErasureAnswer> {
    let requests = match db.open_erasure_requests().await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the erasure requests");
            return Vec::new();
        }
    };
    let only = pass.opts.erasure_only;
    let mut answers = Vec::new();
    for req in requests.iter().filter(|r| only.is_none_or(|id| id == r.id)) {
        warn_if_due(req, pass.now);
        answers.push(answer(db, pass, req).await);
    }
    answers
}

fn warn_if_due(req: &ErasureRequest, now: DateTime<Utc>) {
    if req.received.due_at < db::rfc3339(now) {
        tracing::warn!(request = req.id, due = %req.received.due_at, "erasure request is overdue");
    } else if req.received.due_at < db::rfc3339(now + TimeDelta::days(DUE_SOON_DAYS)) {
        tracing::warn!(request = req.id, due = %req.received.due_at, "erasure request is due within 7 days");
    }
}

async fn answer(db: &mut Db, pass: &mut Pass<'_>, req: &ErasureRequest) -> ErasureAnswer {
    let mut entries = Vec::new();
    for p in pass.config.policies.iter().filter(|p| p.subject.is_some()) {
        entries.extend(erase_in_policy(db, pass, p, &req.received.subject, req.id).await);
    }
    let has = |o: ErasureOutcome| entries.iter().any(|e| e.outcome == o);
    let status = if has(ErasureOutcome::Failed) {
        RequestStatus::Open
    } else if has(ErasureOutcome::Kept) {
        RequestStatus::PartiallyRetained
    } else {
        RequestStatus::Completed
    };
    if status != RequestStatus::Open {
        let at = db::rfc3339(pass.now);
        if let Err(e) = db.finish_erasure(req.id, status, &at, &entries).await {
            tracing::error!(request = req.id, error = %e, "cannot record the erasure request's outcome");
        }
    }
    tracing::info!(
        request = req.id,
        status = status.as_str(),
        minor = req.received.minor,
        policies = entries.len(),
        "erasure request answered"
    );
    ErasureAnswer {
        id: req.id,
        status,
        minor: req.received.minor,
        policies: entries,
    }
}

fn entry(p: &Policy, outcome: ErasureOutcome, rows: u64, reason: Option<String>) -> ErasureEntry {
    ErasureEntry {
        policy: p.name.clone(),
        outcome,
        rows,
        children: Default::default(),
        reason,
        kept_until: None,
        unlinkable: false,
    }
}

/// What erasing `subject` does in one policy: nothing, rows kept, rows erased, or a
/// failure (each an entry).
async fn erase_in_policy(
    db: &mut Db,
    pass: &mut Pass<'_>,
    p: &Policy,
    subject: &str,
    request: i64,
) -> Vec<ErasureEntry> {
    let target = match pass.targets.get(db, pass.config, p).await {
        Ok(t) => t,
        Err(reason) => return vec![entry(p, ErasureOutcome::Failed, 0, Some(reason))],
    };
    let (rows, held, newest) = match target.subject_rows(db, subject, pass.now).await {
        Ok(x) => x,
        Err(e) => {
            return vec![entry(p, ErasureOutcome::Failed, 0, Some(e.to_string()))];
        }
    };
    if p.basis == Some(Basis::LegalObligation) {
        if rows + held == 0 {
            return Vec::new();
        }
        let mut kept = entry(
            p,
            ErasureOutcome::Kept,
            rows + held,
            Some("legal obligation".into()),
        );
        kept.kept_until = newest.map(|t| db::rfc3339(p.keep.after(t)));
        return vec![kept];
    }
    let mut entries = Vec::new();
    if held > 0 {
        entries.push(entry(
            p,
            ErasureOutcome::Kept,
            held,
            Some("legal hold".into()),
        ));
    }
    if rows > 0 {
        entries.push(erase_rows(db, pass, p, &target, subject, request).await);
    }
    entries
}

async fn erase_rows(
    db: &mut Db,
    pass: &mut Pass<'_>,
    p: &Policy,
    target: &Target,
    subject: &str,
    request: i64,
) -> ErasureEntry {
    let mut outcome = PolicyOutcome::new(p, pass.now);
    let work = Work {
        policy: p,
        target,
        scope: Scope::Subject(subject),
        erasure: Some(request),
    };
    match batch::run_all(db, pass, &work, &mut outcome).await {
        Ok(()) => {
            let done = match p.action {
                Action::Delete => ErasureOutcome::Deleted,
                Action::Anonymize => ErasureOutcome::Anonymized,
            };
            let mut e = entry(p, done, outcome.rows, None);
            e.children = outcome.children;
            e.unlinkable = p.anonymizes_subject();
            e
        }
        Err(stop) => entry(p, ErasureOutcome::Failed, outcome.rows, Some(stop.reason)),
    }
}
