//! Reading what a report says about a period: retentiond's records of it, and the
//! enforcement check against the live tables now.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::requests;
use super::{
    AuditSection, ConfigVersion, DayRow, Enforcement, ErasureLine, HoldLine, Incident,
    PolicySection, Report, UNREACHABLE, Verdict,
};
use crate::audit::Verifier;
use crate::config::Config;
use crate::db::{
    self, Db, DbError, Delivery, ErasureEntry, Hold, PolicyRun, PrivacyRequest, PurgeEvent, Run,
};
use crate::ledger::Ledger;
use crate::outcome::{ErasureOutcome, RequestKind};
use crate::policy::{Action, Policy};

/// What retentiond's tables hold about the period.
#[derive(Default)]
struct Records {
    runs: Vec<Run>,
    policy_runs: Vec<PolicyRun>,
    events: Vec<PurgeEvent>,
    /// Each `files_removed` event: its policy and counts.
    file_events: Vec<(String, BTreeMap<String, i64>)>,
    holds: Vec<Hold>,
    erasures: Vec<PrivacyRequest>,
    deliveries: Vec<Delivery>,
}

fn start_of(d: NaiveDate) -> String {
    db::rfc3339(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
}

/// Reads everything the report says about [`from`, `to`] (days, inclusive).
pub async fn gather(
    db: &mut Db,
    config: &Config,
    from: NaiveDate,
    to: NaiveDate,
    include_subjects: bool,
) -> Result<Report, DbError> {
    let (lo, hi) = (start_of(from), start_of(to.succ_opt().unwrap_or(to)));
    db.forget_catalog();
    let now = db.now().await?;
    let own = db.has_own_tables().await?;
    let records = if own {
        Records {
            runs: db.runs_between(&lo, &hi).await?,
            policy_runs: db.policy_runs_between(&lo, &hi).await?,
            events: db.purge_events_between(&lo, &hi).await?,
            file_events: db.file_events_between(&lo, &hi).await?,
            holds: db.holds().await?,
            erasures: db.privacy_requests().await?,
            deliveries: db.deliveries(None).await?,
        }
    } else {
        Records::default()
    };
    let mut policies = Vec::new();
    for p in &config.policies {
        let enforcement = enforcement(db, p, now).await;
        let mut section = policy_section(p, &records.policy_runs, enforcement);
        section.files = file_counts(&records.file_events, &p.name);
        policies.push(section);
    }
    let (verifier, broken) = if own {
        db.verify_chain().await?
    } else {
        (Verifier::default(), None)
    };
    let (config_versions, passes, leftovers) = runs_summary(&records.runs);
    let note = if records.runs.is_empty() {
        let last = if own { db.last_run().await? } else { None };
        Some(no_pass_note(from, to, last.as_ref()))
    } else {
        None
    };
    let (reapplied, ledger_error) =
        requests::reapplied(&Ledger::at(&config.erasure.ledger), &lo, &hi);
    let uncovered = crate::engine::uncovered(db, config).await?;
    Ok(Report {
        note,
        uncovered,
        reapplied,
        ledger_error,
        database: db.label().to_string(),
        from: from.to_string(),
        to: to.to_string(),
        generated_at: db::rfc3339(Utc::now()),
        config_path: config.path.display().to_string(),
        config_sha256: config.sha256.clone(),
        config_versions,
        policies,
        passes,
        incidents: incidents(&records.runs, &records.policy_runs),
        holds: hold_lines(records.holds, &lo, &hi, include_subjects),
        privacy_requests: requests::tallies(&records.erasures, &lo, &hi, now),
        exports: requests::export_lines(&records.erasures, &lo, &hi, now),
        erasures: erasure_lines(
            records.erasures,
            &records.deliveries,
            &lo,
            &hi,
            now,
            include_subjects,
        ),
        audit: AuditSection {
            intact: broken.is_none(),
            verified: verifier.verified,
            head: verifier.head().map(str::to_string),
            broken: broken.map(|b| b.to_string()),
        },
        leftovers,
        unreachable: UNREACHABLE.into(),
        daily: daily(&config.policies, &records.events, from, to),
    })
}

/// What a report of a period without passes says first.
fn no_pass_note(from: NaiveDate, to: NaiveDate, last: Option<&Run>) -> String {
    let none = format!("No pass ran from {from} to {to}.");
    match last {
        None => {
            format!("{none} No pass has run on this database yet: `retentiond purge` runs one.")
        }
        Some(r) => {
            let day = r.started_at.get(..10).unwrap_or(&r.started_at);
            format!(
                "{none} The last pass, #{}, started {}; `retentiond report --from {day}` shows it.",
                r.id, r.started_at
            )
        }
    }
}

/// The config versions the passes ran with, the passes by status, and the
/// leftovers they recorded (each once).
fn runs_summary(
    runs: &[Run],
) -> (
    Vec<ConfigVersion>,
    BTreeMap<crate::outcome::RunStatus, u64>,
    Vec<String>,
) {
    let mut versions: Vec<ConfigVersion> = Vec::new();
    let mut passes = BTreeMap::new();
    let mut leftovers: Vec<String> = Vec::new();
    for r in runs {
        if !versions.iter().any(|v| v.sha256 == r.config_sha256) {
            versions.push(ConfigVersion {
                sha256: r.config_sha256.clone(),
                first_pass: r.started_at.clone(),
            });
        }
        *passes.entry(r.status).or_insert(0) += 1;
        if let Some(l) = &r.leftovers
            && !leftovers.contains(l)
        {
            leftovers.push(l.clone());
        }
    }
    (versions, passes, leftovers)
}

fn incidents(runs: &[Run], policy_runs: &[PolicyRun]) -> Vec<Incident> {
    let started: BTreeMap<i64, &str> = runs.iter().map(|r| (r.id, r.started_at.as_str())).collect();
    policy_runs
        .iter()
        .filter(|p| p.status.is_incident())
        .map(|p| Incident {
            run_id: p.run_id,
            started_at: started.get(&p.run_id).unwrap_or(&"").to_string(),
            policy: p.policy.clone(),
            status: p.status,
            reason: p.error.clone().unwrap_or_default(),
        })
        .collect()
}

fn policy_section(p: &Policy, runs: &[PolicyRun], enforcement: Enforcement) -> PolicySection {
    let mine: Vec<&PolicyRun> = runs.iter().filter(|r| r.policy == p.name).collect();
    let mut outcomes = BTreeMap::new();
    for r in &mine {
        *outcomes.entry(r.status).or_insert(0) += 1;
    }
    let rows: u64 = mine.iter().map(|r| r.rows.max(0) as u64).sum();
    let (deleted, anonymized) = match p.action {
        Action::Delete => (rows, 0),
        Action::Anonymize => (0, rows),
    };
    PolicySection {
        name: p.name.clone(),
        description: p.description.clone(),
        table: p.table.name.clone(),
        period: p.keep_as_written.clone(),
        basis: p.basis,
        action: p.action,
        deleted,
        anonymized,
        anonymised: anonymized,
        held: mine.iter().map(|r| r.held.max(0) as u64).sum(),
        passes: mine.len() as u64,
        outcomes,
        files: Default::default(),
        enforcement,
    }
}

/// What became of the files of `policy`'s purged rows in the period.
fn file_counts(
    events: &[(String, BTreeMap<String, i64>)],
    policy: &str,
) -> crate::engine::FileCounts {
    let mut c = crate::engine::FileCounts::default();
    for (_, counts) in events.iter().filter(|(p, _)| p == policy) {
        let n = |k: &str| counts.get(k).copied().unwrap_or(0).max(0) as u64;
        c.removed += n("removed");
        c.already_gone += n("already_gone");
        c.refused += n("refused");
        c.failed += n("failed");
    }
    c
}

/// Whether the policy's promise holds now. A check that could not run says so and
/// why: it is never reported as compliance.
async fn enforcement(db: &mut Db, p: &Policy, now: DateTime<Utc>) -> Enforcement {
    let cutoff = p.cutoff(now);
    let cutoff_text = db::rfc3339(cutoff);
    let not_checked = |reason: String| {
        Enforcement::new(
            Verdict::NotChecked,
            Some(cutoff_text.clone()),
            None,
            0,
            format!("not checked: {reason}"),
        )
    };
    let target = match db::resolve(db, p).await {
        Ok(r) => match r.target {
            Some(t) => t,
            None => {
                let problems: Vec<String> = r.problems.into_iter().map(|x| x.message).collect();
                return not_checked(problems.join("; "));
            }
        },
        Err(e) => return not_checked(e.to_string()),
    };
    let oldest = match target.oldest_remaining(db, now, None).await {
        Ok(o) => o,
        Err(e) => return not_checked(format!("cannot read the oldest row: {e}")),
    };
    let backlog = match target.count_expired(db, cutoff, now).await {
        Ok(n) => n,
        Err(e) => return not_checked(format!("cannot count the expired rows: {e}")),
    };
    let oldest_text = oldest.map(db::rfc3339);
    let (state, verdict) = match (backlog, &oldest_text) {
        (0, Some(o)) => (
            Verdict::InCompliance,
            format!(
                "in compliance: the oldest row is from {o}, within the period (cutoff {cutoff_text})"
            ),
        ),
        (0, None) => (
            Verdict::InCompliance,
            "in compliance: no row is kept".into(),
        ),
        (n, _) => (
            Verdict::Backlog,
            format!(
                "backlog: {n} row(s) older than the period (cutoff {cutoff_text}) are still kept{}",
                oldest_text
                    .as_deref()
                    .map(|o| format!(", the oldest from {o}"))
                    .unwrap_or_default()
            ),
        ),
    };
    Enforcement::new(state, Some(cutoff_text), oldest_text, backlog, verdict)
}

/// The holds active at some time in [`lo`, `hi`).
fn hold_lines(holds: Vec<Hold>, lo: &str, hi: &str, include_subjects: bool) -> Vec<HoldLine> {
    holds
        .into_iter()
        .filter(|h| {
            h.created_at.as_str() < hi
                && h.released_at.as_deref().is_none_or(|r| r >= lo)
                && h.until.as_deref().is_none_or(|u| u > lo)
        })
        .map(|h| HoldLine {
            id: h.id,
            reason: h.reason,
            policy: h.policy,
            since: h.created_at,
            until: h.until,
            released_at: h.released_at,
            subject: include_subjects.then_some(h.subject),
        })
        .collect()
}

/// The requests received before `hi` and not answered before `lo`.
fn erasure_lines(
    requests: Vec<PrivacyRequest>,
    deliveries: &[Delivery],
    lo: &str,
    hi: &str,
    now: DateTime<Utc>,
    include_subjects: bool,
) -> Vec<ErasureLine> {
    let now_text = db::rfc3339(now);
    requests
        .into_iter()
        .filter(|e| {
            e.received.kind == RequestKind::Erasure
                && e.received.received_at.as_str() < hi
                && e.processed_at.as_deref().is_none_or(|p| p >= lo)
        })
        .map(|e| {
            let overdue = e.overdue(&now_text);
            let lines = |keep: bool| -> Vec<String> {
                e.outcome
                    .iter()
                    .filter(|x| (x.outcome == ErasureOutcome::Kept) == keep)
                    .map(ErasureEntry::describe)
                    .collect()
            };
            let (kept, erased) = (lines(true), lines(false));
            ErasureLine {
                id: e.id,
                received_at: e.received.received_at,
                due_at: e.received.due_at,
                status: e.status,
                answered_at: e.processed_at,
                minor: e.received.minor,
                overdue,
                kept,
                erased,
                forwarded: requests::Forwarding::of(e.id, deliveries),
                subject: include_subjects.then_some(e.received.subject),
            }
        })
        .collect()
}

/// One row per policy per day of the period, zeros included.
fn daily(
    policies: &[Policy],
    events: &[PurgeEvent],
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<DayRow> {
    let mut out = Vec::new();
    let mut day = from;
    while day <= to {
        let date = day.to_string();
        for p in policies {
            let sum = |action: Action| -> u64 {
                events
                    .iter()
                    .filter(|e| {
                        e.created_at.starts_with(&date) && e.policy == p.name && e.action == action
                    })
                    .map(|e| e.rows.max(0) as u64)
                    .sum()
            };
            let anonymized = sum(Action::Anonymize);
            out.push(DayRow {
                date: date.clone(),
                policy: p.name.clone(),
                table: p.table.name.clone(),
                rows_deleted: sum(Action::Delete),
                rows_anonymized: anonymized,
                rows_anonymised: anonymized,
            });
        }
        let Some(next) = day.succ_opt() else { break };
        day = next;
    }
    out
}
