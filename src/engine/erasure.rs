//! Erasure requests: registered with their 30-day due date, and answered through the
//! same batches as expiry. In every policy with a subject column, the subject's rows
//! are deleted or anonymised per the policy, whatever their age, except where the
//! basis is a legal obligation (kept, with the date they will go) or a legal hold
//! applies. A request whose answer failed somewhere stays open for the next pass.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use super::batch::{self, Work};
use super::deliveries;
use super::{Pass, PolicyOutcome};
use crate::db::{self, Db, ErasureEntry, PrivacyRequest, Scope, Target};
use crate::ledger::{Ledger, LedgerError, LedgerEvent, LedgerPolicy, NewLine};
use crate::outcome::{DeliveryState, ErasureOutcome, RequestStatus};
use crate::policy::{Action, Basis, Policy};

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

fn warn_if_due(req: &PrivacyRequest, now: DateTime<Utc>) {
    if req.overdue(&db::rfc3339(now)) {
        tracing::warn!(request = req.id, due = %req.received.due_at, "erasure request is overdue");
    } else if req.received.due_at < db::rfc3339(now + TimeDelta::days(DUE_SOON_DAYS)) {
        tracing::warn!(request = req.id, due = %req.received.due_at, "erasure request is due within 7 days");
    }
}

async fn answer(db: &mut Db, pass: &mut Pass<'_>, req: &PrivacyRequest) -> ErasureAnswer {
    // What identifies the person to each processor is read before the rows go.
    let held = deliveries::queue(
        db,
        pass.config,
        &mut pass.targets,
        req,
        DeliveryState::Held,
        pass.now,
    )
    .await;
    if let Err(error) = held {
        tracing::error!(request = req.id, %error, "cannot queue the deliveries to processors; the request stays open, nothing erased");
        return ErasureAnswer {
            id: req.id,
            status: RequestStatus::Open,
            minor: req.received.minor,
            policies: Vec::new(),
        };
    }
    let mut entries = Vec::new();
    for p in pass.config.policies.iter().filter(|p| p.subject.is_some()) {
        entries.extend(erase_in_policy(db, pass, p, &req.received.subject, req.id).await);
    }
    let has = |o: ErasureOutcome| entries.iter().any(|e| e.outcome == o);
    let mut status = if has(ErasureOutcome::Failed) {
        RequestStatus::Open
    } else if has(ErasureOutcome::Kept) {
        RequestStatus::PartiallyRetained
    } else {
        RequestStatus::Completed
    };
    let at = db::rfc3339(pass.now);
    // The ledger first: a request recorded as answered but missing from the ledger
    // would come back with the next restore. If the line cannot be written, the
    // request stays open and the next pass tries again.
    if status != RequestStatus::Open
        && let Err(e) = record_in_ledger(pass, req, &at, &entries)
    {
        tracing::error!(request = req.id, error = %e, "cannot write the erasure to the ledger; the request stays open");
        status = RequestStatus::Open;
    }
    if status != RequestStatus::Open
        && let Err(e) = db.finish_erasure(req.id, status, &at, &entries).await
    {
        tracing::error!(request = req.id, error = %e, "cannot record the erasure request's outcome");
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

fn record_in_ledger(
    pass: &Pass<'_>,
    req: &PrivacyRequest,
    at: &str,
    entries: &[ErasureEntry],
) -> Result<(), LedgerError> {
    Ledger::at(&pass.config.erasure.ledger).append(NewLine {
        event: LedgerEvent::Erased,
        request: req.id,
        subject: req.received.subject.clone(),
        at: at.to_string(),
        run: None,
        policies: ledger_policies(entries),
    })?;
    Ok(())
}

/// What each policy erased, as the ledger records it: counts, no reasons.
pub(super) fn ledger_policies(entries: &[ErasureEntry]) -> Vec<LedgerPolicy> {
    entries
        .iter()
        .map(|e| LedgerPolicy {
            policy: e.policy.clone(),
            outcome: e.outcome,
            rows: e.rows + e.children.values().sum::<u64>(),
        })
        .collect()
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
pub(super) async fn erase_in_policy(
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
        walk: None,
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
