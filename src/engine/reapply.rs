//! Erasures that a restore undid, applied again. A restored backup brings back the
//! rows of every person erased since it was taken, and rolls back retentiond's own
//! tables with them; the erasure ledger, kept outside the database, does not roll
//! back. Before every pass (and at `erase --reapply`) each subject in the ledger is
//! looked up in every policy that erases (an indexed probe per subject, hundreds per
//! statement); those whose rows are back are erased again through the same batches,
//! in a run of their own with trigger `reapply`, and the ledger records it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::erasure::{erase_in_policy, ledger_policies};
use super::targets::Targets;
use super::{Pass, PassOptions, Trigger};
use crate::config::Config;
use crate::db::{self, Db, DbError, ErasureEntry, Leader, RunEnd};
use crate::ledger::{Ledger, LedgerEvent, NewLine};
use crate::outcome::{ErasureOutcome, Status};
use crate::policy::Basis;

/// One erasure applied again.
#[derive(Debug, Clone, Serialize)]
pub struct Reapplied {
    pub request: i64,
    pub policies: Vec<ErasureEntry>,
}

impl Reapplied {
    fn rows(&self) -> u64 {
        self.policies
            .iter()
            .filter(|e| {
                matches!(
                    e.outcome,
                    ErasureOutcome::Deleted | ErasureOutcome::Anonymized
                )
            })
            .map(|e| e.rows + e.children.values().sum::<u64>())
            .sum()
    }
}

/// The reapply run of a pass, when one was needed.
#[derive(Debug, Clone, Serialize)]
pub struct ReapplyRun {
    pub run_id: i64,
    pub status: Status,
    pub erasures: Vec<Reapplied>,
}

/// The ledger's subjects whose rows are back, each with its latest erasure request.
/// The ledger's own errors (unreadable, a broken chain) are returned as text: they
/// fail the reapply, never the pass.
async fn due(
    db: &mut Db,
    config: &Config,
    targets: &mut Targets,
    now: DateTime<Utc>,
) -> Result<Vec<(i64, String)>, String> {
    let lines = Ledger::at(&config.erasure.ledger)
        .read()
        .map_err(|e| e.to_string())?;
    let latest: BTreeMap<String, i64> = lines
        .into_iter()
        .filter(|l| l.event == LedgerEvent::Erased)
        .map(|l| (l.subject, l.request))
        .collect();
    if latest.is_empty() {
        return Ok(Vec::new());
    }
    let subjects: Vec<String> = latest.keys().cloned().collect();
    let mut found = BTreeSet::new();
    // A legal obligation kept the rows at the erasure: finding them is no sign.
    let erasing = config
        .policies
        .iter()
        .filter(|p| p.subject.is_some() && p.basis != Some(Basis::LegalObligation));
    for p in erasing {
        let target = targets.get(db, config, p).await?;
        let back = target
            .subjects_with_rows(db, &subjects, now)
            .await
            .map_err(|e| format!("policy `{}`: {e}", p.name))?;
        found.extend(back);
    }
    Ok(found
        .into_iter()
        .filter_map(|s| latest.get(&s).map(|r| (*r, s)))
        .collect())
}

/// Erases again, in a run of its own, every ledger subject whose rows are back.
/// `None` when none are.
pub(super) async fn run_if_needed(
    db: &mut Db,
    config: &Config,
    opts: &PassOptions,
    leader: &mut Leader,
    targets: &mut Targets,
    now: DateTime<Utc>,
) -> Result<Option<ReapplyRun>, DbError> {
    let started = std::time::Instant::now();
    let due = match due(db, config, targets, now).await {
        Ok(due) => due,
        Err(reason) => {
            tracing::error!(ledger = %config.erasure.ledger.display(), error = %reason, "cannot check the erasure ledger against the database");
            return Ok(None);
        }
    };
    tracing::debug!(
        subjects = due.len(),
        duration_ms = started.elapsed().as_millis() as u64,
        "erasure ledger checked"
    );
    if due.is_empty() {
        return Ok(None);
    }
    let run_id = super::insert_run(db, config, opts, Trigger::Reapply, now).await?;
    tracing::warn!(
        run_id,
        erasures = due.len(),
        "rows of erased subjects are back (a restore?): erasing them again"
    );
    let mut pass = Pass::new(config, opts, (run_id, now), leader, std::mem::take(targets));
    let mut erasures = Vec::new();
    for (request, subject) in &due {
        erasures.push(reapply_one(db, &mut pass, *request, subject).await);
    }
    *targets = std::mem::take(&mut pass.targets);
    let failed = erasures
        .iter()
        .flat_map(|r| &r.policies)
        .filter(|e| e.outcome == ErasureOutcome::Failed)
        .map(|e| e.describe())
        .collect::<Vec<_>>();
    let status = if failed.is_empty() {
        Status::Ok
    } else {
        Status::Failed
    };
    db.ensure_connected(config.database.retry).await?;
    db.finish_run(
        run_id,
        &RunEnd {
            finished_at: db::rfc3339(Utc::now()),
            status,
            rows_purged: erasures.iter().map(|r| r.rows() as i64).sum(),
            error: (!failed.is_empty()).then(|| failed.join("; ")),
            leftovers: None,
        },
    )
    .await?;
    Ok(Some(ReapplyRun {
        run_id,
        status,
        erasures,
    }))
}

async fn reapply_one(db: &mut Db, pass: &mut Pass<'_>, request: i64, subject: &str) -> Reapplied {
    let mut entries = Vec::new();
    for p in pass.config.policies.iter().filter(|p| p.subject.is_some()) {
        entries.extend(erase_in_policy(db, pass, p, subject, request).await);
    }
    let reapplied = Reapplied {
        request,
        policies: entries,
    };
    let line = NewLine {
        event: LedgerEvent::Reapplied,
        request,
        subject: subject.to_string(),
        at: db::rfc3339(pass.now),
        run: Some(pass.run_id),
        policies: ledger_policies(&reapplied.policies),
    };
    if let Err(e) = Ledger::at(&pass.config.erasure.ledger).append(line) {
        tracing::error!(request, error = %e, "cannot record the re-applied erasure in the ledger");
    }
    tracing::info!(
        run_id = pass.run_id,
        request,
        rows = reapplied.rows(),
        "erasure re-applied"
    );
    reapplied
}

/// The erasure ledger checked, and compared with the database's register.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerCheck {
    pub path: String,
    pub lines: u64,
    pub erasures: u64,
    pub reapplied: u64,
    pub head: Option<String>,
    /// Why the chain is broken, naming the line.
    pub broken: Option<String>,
    /// Erasures the ledger answered that the register does not hold as answered
    /// (with the same subject): the sign of a restore.
    pub missing: Vec<i64>,
    /// When the newest of them was answered: the restored backup is older.
    pub newest_missing_at: Option<String>,
}

/// Verifies the ledger's chain and compares its erasures with the register.
pub async fn check_ledger(db: &mut Db, config: &Config) -> Result<LedgerCheck, DbError> {
    let ledger = Ledger::at(&config.erasure.ledger);
    let mut check = LedgerCheck {
        path: ledger.path().display().to_string(),
        lines: 0,
        erasures: 0,
        reapplied: 0,
        head: None,
        broken: None,
        missing: Vec::new(),
        newest_missing_at: None,
    };
    let lines = match ledger.read() {
        Ok(lines) => lines,
        Err(e) => {
            check.broken = Some(e.to_string());
            return Ok(check);
        }
    };
    check.head = ledger.head().ok().flatten();
    check.lines = lines.len() as u64;
    let answered: BTreeSet<(i64, String)> = if db.has_own_tables().await? {
        db.privacy_requests()
            .await?
            .into_iter()
            .filter(|r| r.status != crate::outcome::RequestStatus::Open)
            .map(|r| (r.id, r.received.subject))
            .collect()
    } else {
        BTreeSet::new()
    };
    for l in &lines {
        match l.event {
            LedgerEvent::Reapplied => check.reapplied += 1,
            LedgerEvent::Erased => {
                check.erasures += 1;
                if !answered.contains(&(l.request, l.subject.clone()))
                    && !check.missing.contains(&l.request)
                {
                    check.missing.push(l.request);
                    check.newest_missing_at = Some(l.at.clone());
                }
            }
        }
    }
    Ok(check)
}
