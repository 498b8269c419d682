//! One policy's expired rows: counted for `plan`, or purged by a pass (the counts
//! kept aside, the fraction guard, whole partitions, then the batches), with the
//! one INFO line per policy and its record in `retention_policy_runs`.

use std::time::Instant;

use chrono::{DateTime, Utc};

use super::batch::{self, Work};
use super::targets::Targets;
use super::{BatchStep, Pass, PolicyOutcome, Status, Stop, journal, partitions, walk};
use crate::config::Config;
use crate::db::{self, Db, DbError, PolicyRun, Scope, Target};
use crate::policy::{self, Action, Policy};

/// What `plan` prints for one policy: the rows that would go, and whether the
/// fraction guard would let them.
pub(super) async fn plan_policy(
    db: &mut Db,
    config: &Config,
    targets: &mut Targets,
    p: &Policy,
    now: DateTime<Utc>,
) -> PolicyOutcome {
    let started = Instant::now();
    let cutoff = p.cutoff(now);
    let mut outcome = PolicyOutcome::new(p, cutoff);
    let counted = match targets.get(db, config, p).await {
        Ok(target) => count_for_plan(db, config, p, &target, cutoff, now, &mut outcome).await,
        Err(reason) => Err(Stop::failed(reason)),
    };
    if let Err(stop) = counted {
        outcome.stopped(stop);
    }
    outcome.duration_ms = started.elapsed().as_millis() as u64;
    outcome
}

async fn count_for_plan(
    db: &mut Db,
    config: &Config,
    p: &Policy,
    target: &Target,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
    outcome: &mut PolicyOutcome,
) -> Result<(), Stop> {
    let failed = |e: DbError| query_failed(p, &target.table_name, e);
    // The rows kept although expired: held, unreadable, or not anonymisable.
    count_held_and_unreadable(db, target, cutoff, now, outcome)
        .await
        .map_err(failed)?;
    outcome.cannot_anonymize = target
        .count_cannot_anonymize(db, cutoff, now)
        .await
        .map_err(failed)?;
    let expired = target
        .count_expired(db, cutoff, now)
        .await
        .map_err(failed)?;
    outcome.rows = expired;
    outcome.batches = expired.div_ceil(u64::from(config.limits.batch_size_on(db.backend())));
    outcome.walk = Some(walk::choose(db, p, target, cutoff).await.map_err(failed)?.0);
    if target.has_files() {
        outcome.files.queued = target
            .count_files(db, Scope::Expired(cutoff), now)
            .await
            .map_err(failed)?;
    }
    fraction_guard(db, config, p, target, expired).await
}

/// Before a pass: the held rows and the unreadable timestamps (the values a
/// strategy cannot read are counted after it, [`after_pass`]).
async fn count_held_and_unreadable(
    db: &mut Db,
    target: &Target,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
    outcome: &mut PolicyOutcome,
) -> Result<(), DbError> {
    outcome.unreadable = target.count_unreadable(db, Some(cutoff)).await?;
    outcome.held = target.count_held(db, cutoff, now).await?;
    Ok(())
}

/// Refuses the policy when `expired` is more of its table than `max_table_fraction`.
async fn fraction_guard(
    db: &mut Db,
    config: &Config,
    p: &Policy,
    target: &Target,
    expired: u64,
) -> Result<(), Stop> {
    let max = p
        .max_table_fraction
        .unwrap_or(config.limits.max_table_fraction);
    let total = target
        .count_rows_to_decide(db, expired, max)
        .await
        .map_err(|e| query_failed(p, &target.table_name, e))?;
    policy::fraction_guard(&p.name, expired, total, max).map_err(|reason| Stop {
        status: Status::Refused,
        reason,
    })
}

/// The fraction guard before a pass. It first judges the rows in the expired
/// index range, which the index counts alone; only when that would be too many are
/// the rows that would really go counted, row by row (their filter, holds, values
/// already anonymised), and judged instead.
async fn guard_expired(
    db: &mut Db,
    pass: &Pass<'_>,
    p: &Policy,
    target: &Target,
    cutoff: DateTime<Utc>,
) -> Result<(), Stop> {
    let max = p
        .max_table_fraction
        .unwrap_or(pass.config.limits.max_table_fraction);
    if max >= 1.0 {
        // No count can exceed the whole table: nothing to count.
        return Ok(());
    }
    let failed = |e: DbError| query_failed(p, &target.table_name, e);
    let at_most = target
        .count_expired_range(db, cutoff)
        .await
        .map_err(failed)?;
    match fraction_guard(db, pass.config, p, target, at_most).await {
        Err(stop) if stop.status == Status::Refused => {}
        judged => return judged,
    }
    let expired = target
        .count_expired(db, cutoff, pass.now)
        .await
        .map_err(failed)?;
    fraction_guard(db, pass.config, p, target, expired).await
}

fn query_failed(p: &Policy, table: &str, e: DbError) -> Stop {
    Stop::failed(format!("policy `{}` on table `{table}`: {e}", p.name))
}

/// Purges one policy's expired rows, logs and records the outcome.
pub(super) async fn run_policy(db: &mut Db, pass: &mut Pass<'_>, p: &Policy) -> PolicyOutcome {
    if let Err(e) = db.ensure_connected(pass.config.database.retry).await {
        tracing::error!(policy = %p.name, table = %p.table.name, error = %e, "the database cannot be reached");
    }
    let started = Instant::now();
    let cutoff = p.cutoff(pass.now);
    let mut outcome = PolicyOutcome::new(p, cutoff);
    let result = match pass.targets.get(db, pass.config, p).await {
        Ok(target) => {
            let chosen = walk::choose(db, p, &target, cutoff).await;
            let table_walk = match chosen {
                Ok((chosen, table_walk)) => {
                    outcome.walk = Some(chosen);
                    table_walk
                }
                Err(e) => {
                    tracing::warn!(policy = %p.name, error = %e, "cannot choose the table walk; the index walk it is");
                    None
                }
            };
            let work = Work {
                policy: p,
                target: &target,
                scope: Scope::Expired(cutoff),
                erasure: None,
                walk: table_walk.as_ref(),
            };
            let purged = purge(db, pass, &work, cutoff, &mut outcome).await;
            after_pass(db, pass, p, &target, cutoff, &mut outcome).await;
            purged
        }
        Err(reason) => Err(Stop::failed(reason)),
    };
    if let Err(stop) = result {
        outcome.stopped(stop);
        // The audit chain is the lock holder's: an instance that lost the lock
        // writes no event into the pass that took over (the policy's run row and
        // the log still say why it stopped).
        if pass.leader.keep().await {
            let event = journal::policy_stopped(pass.run_id, &outcome);
            if let Err(e) = journal::append(db, event).await {
                tracing::error!(policy = %p.name, table = %p.table.name, error = %e, "could not record the policy's failure in the audit trail");
            }
        } else {
            tracing::warn!(policy = %p.name, table = %p.table.name, "the policy's stop is not in the audit trail: another instance holds the pass lock");
        }
    }
    outcome.duration_ms = started.elapsed().as_millis() as u64;
    log_outcome(&outcome);
    if let Err(e) = db.record_policy_run(&record(pass.run_id, &outcome)).await {
        tracing::error!(policy = %outcome.name, table = %outcome.table, error = %e, "could not record the policy's result");
    }
    outcome
}

/// The counts kept aside, the fraction guard, whole partitions, then the batches.
async fn purge(
    db: &mut Db,
    pass: &mut Pass<'_>,
    work: &Work<'_>,
    cutoff: DateTime<Utc>,
    outcome: &mut PolicyOutcome,
) -> Result<(), Stop> {
    let (p, target) = (work.policy, work.target);
    outcome.table = target.table_name.clone();
    count_held_and_unreadable(db, target, cutoff, pass.now, outcome)
        .await
        .map_err(|e| query_failed(p, &target.table_name, e))?;
    if outcome.held > 0 {
        tracing::info!(policy = %p.name, table = %target.table_name, held = outcome.held, "expired rows kept: their subjects are under a legal hold");
    }
    if outcome.unreadable > 0 {
        tracing::warn!(
            policy = %p.name, table = %target.table_name, unreadable = outcome.unreadable,
            "rows whose timestamp is not a readable {} are never purged", target.encoding.describe()
        );
    }
    if !pass.opts.force {
        guard_expired(db, pass, p, target, cutoff).await?;
    }
    if target.drops_partitions() {
        partitions::drop_expired(db, pass, work, cutoff, outcome)
            .await
            .map_err(|e| query_failed(p, &target.table_name, e))?;
    }
    batch::run_all(db, pass, work, outcome).await
}

/// After the batches: for an anonymising policy, one scan of the expired rows for
/// the values its strategy cannot read and any value left to do; then the oldest
/// row left, for the metric and the enforcement check. A failure here only logs.
async fn after_pass(
    db: &mut Db,
    pass: &Pass<'_>,
    p: &Policy,
    target: &Target,
    cutoff: DateTime<Utc>,
    outcome: &mut PolicyOutcome,
) {
    let mut none_expired = None;
    if p.action == Action::Anonymize {
        match target.survey_expired(db, cutoff, pass.now).await {
            Ok(left) => {
                outcome.cannot_anonymize = left.cannot_anonymize;
                none_expired = (left.pending == 0).then_some(cutoff);
            }
            Err(e) => {
                tracing::warn!(policy = %p.name, table = %target.table_name, error = %e, "cannot count the values left as they are");
            }
        }
    }
    if outcome.cannot_anonymize > 0 {
        tracing::warn!(
            policy = %p.name, table = %target.table_name, cannot_anonymize = outcome.cannot_anonymize,
            "expired rows hold a value their strategy cannot read (not an IP address, no e-mail domain, no date); they are left as they are"
        );
    }
    outcome.oldest_remaining = match target.oldest_remaining(db, pass.now, none_expired).await {
        Ok(t) => t.map(db::rfc3339),
        Err(e) => {
            tracing::debug!(policy = %p.name, error = %e, "cannot read the oldest remaining row");
            None
        }
    };
}

fn record(run_id: i64, o: &PolicyOutcome) -> PolicyRun {
    PolicyRun {
        run_id,
        policy: o.name.clone(),
        table_name: o.table.clone(),
        action: o.action,
        cutoff: o.cutoff.clone(),
        status: o.status,
        rows: o.rows as i64,
        batches: o.batches as i64,
        unreadable: o.unreadable as i64,
        cannot_anonymize: o.cannot_anonymize as i64,
        batch_size: i64::from(o.batch_size),
        rows_per_second: o.rows_per_second.unwrap_or(0.0),
        duration_ms: o.duration_ms as i64,
        error: o.error.clone(),
        held: o.held as i64,
    }
}

/// The one line per policy per pass: counts, cutoff and duration.
fn log_outcome(o: &PolicyOutcome) {
    let cutoff = o.cutoff.as_deref().unwrap_or("-");
    match o.status {
        Status::Ok | Status::Interrupted | Status::Skipped => tracing::info!(
            policy = %o.name, table = %o.table, action = o.action.as_str(), cutoff,
            rows = o.rows, batches = o.batches, held = o.held, unreadable = o.unreadable,
            cannot_anonymize = o.cannot_anonymize, batch_size = o.batch_size,
            rows_per_second = o.rows_per_second.unwrap_or(0.0), longest_batch_ms = o.longest_batch_ms,
            longest_batch_step = o.longest_batch.and_then(|b| b.slowest_step).map_or("-", BatchStep::as_str),
            replica_wait_ms = o.replica_wait_ms, walk = o.walk.as_ref().map_or("-", |w| w.walk.as_str()),
            files_queued = o.files.queued, files_removed = o.files.removed,
            files_already_gone = o.files.already_gone, files_refused = o.files.refused, files_failed = o.files.failed,
            duration_ms = o.duration_ms, status = o.status.as_str(), "policy done"
        ),
        Status::Refused => tracing::warn!(
            policy = %o.name, table = %o.table, action = o.action.as_str(), cutoff,
            rows = o.rows, status = o.status.as_str(), reason = o.error.as_deref().unwrap_or(""), "policy refused"
        ),
        Status::Failed => tracing::error!(
            policy = %o.name, table = %o.table, action = o.action.as_str(), cutoff,
            rows = o.rows, batches = o.batches, replica_wait_ms = o.replica_wait_ms, duration_ms = o.duration_ms,
            status = o.status.as_str(), error = o.error.as_deref().unwrap_or(""), "policy failed"
        ),
    }
}
