//! The batch engine: one pass over the policies, each purged in short transactions
//! that also write the audit event counting them.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::anonymize;
use crate::audit::NewEvent;
use crate::config::Config;
use crate::db::{self, Db, DbError, Leader, PolicyRunRecord, RunRecord, Scope, SqlValue, Target};
use crate::policy::{self, Action, Policy};

/// What started a pass, as recorded with the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trigger {
    Manual,
    Schedule,
    CatchUp,
    Demo,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Manual => "manual",
            Trigger::Schedule => "schedule",
            Trigger::CatchUp => "catch-up",
            Trigger::Demo => "demo",
        }
    }
}

/// Where "now" comes from. Passes always use the database's clock; tests may fix it
/// so that boundaries can be placed to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    Database,
    Fixed(DateTime<Utc>),
}

#[derive(Debug, Clone)]
pub struct PassOptions {
    pub trigger: Trigger,
    /// Only this policy, by name.
    pub only: Option<String>,
    /// Override `max_table_fraction`.
    pub force: bool,
    pub clock: Clock,
    /// Set to stop after the batch in flight has committed.
    pub stop: Arc<AtomicBool>,
    /// True while this pass holds the pass lock (for the daemon's metrics).
    pub leader: Arc<AtomicBool>,
    /// When the daemon runs the next pass, for the pass's last log line.
    pub next_run: Option<String>,
    /// Answer only this erasure request and run no policy (`erase --now`).
    pub erasure_only: Option<i64>,
}

impl PassOptions {
    pub fn new(trigger: Trigger) -> PassOptions {
        PassOptions {
            trigger,
            only: None,
            force: false,
            clock: Clock::Database,
            stop: Arc::new(AtomicBool::new(false)),
            leader: Arc::new(AtomicBool::new(false)),
            next_run: None,
            erasure_only: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Failed,
    Refused,
    Interrupted,
    /// Another instance holds the pass lock; this one did nothing.
    Skipped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Refused => "refused",
            Status::Interrupted => "interrupted",
            Status::Skipped => "skipped",
        }
    }
}

/// One policy's outcome, as `plan` and `purge` print it.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyOutcome {
    pub name: String,
    pub table: String,
    pub action: Action,
    pub cutoff: Option<String>,
    /// Rows of the policy's own table deleted or anonymised (or, in a plan, that would be).
    pub rows: u64,
    pub batches: u64,
    /// Rows removed by `cascade`, per child table (purge only).
    pub children: BTreeMap<String, u64>,
    /// Whole partitions dropped (`partitions = "drop"`); their rows are in `rows`.
    pub partitions_dropped: u64,
    /// The longest batch transaction, from BEGIN to COMMIT: how long rows were locked.
    pub longest_batch_ms: u64,
    pub held: u64,
    pub unreadable: u64,
    /// The oldest timestamp the policy covers and has not purged, after the pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oldest_remaining: Option<String>,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub duration_ms: u64,
}

impl PolicyOutcome {
    fn new(p: &Policy, cutoff: DateTime<Utc>) -> PolicyOutcome {
        PolicyOutcome {
            name: p.name.clone(),
            table: p.table.name.clone(),
            action: p.action,
            cutoff: Some(db::rfc3339(cutoff)),
            rows: 0,
            batches: 0,
            children: BTreeMap::new(),
            partitions_dropped: 0,
            longest_batch_ms: 0,
            held: 0,
            unreadable: 0,
            oldest_remaining: None,
            status: Status::Ok,
            error: None,
            duration_ms: 0,
        }
    }
}

/// A whole pass, as `plan` and `purge --format json` print it.
#[derive(Debug, Clone, Serialize)]
pub struct PassReport {
    pub run_id: Option<i64>,
    /// Erasure requests answered in this pass.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub erasures: Vec<ErasureAnswer>,
    pub dry_run: bool,
    pub database_now: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What still holds values this pass purged (dead tuples, WAL, backups), in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leftovers: Option<String>,
    pub policies: Vec<PolicyOutcome>,
}

impl PassReport {
    pub fn rows(&self) -> u64 {
        self.policies.iter().map(|p| p.rows).sum()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PurgeError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("no policy named `{0}` in the config; policies: {1}")]
    UnknownPolicy(String, String),
}

fn selected<'c>(config: &'c Config, only: Option<&str>) -> Result<Vec<&'c Policy>, PurgeError> {
    match only {
        None => Ok(config.policies.iter().collect()),
        Some(name) => match config.policy(name) {
            Some(p) => Ok(vec![p]),
            None => Err(PurgeError::UnknownPolicy(
                name.to_string(),
                config
                    .policies
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            )),
        },
    }
}

async fn now(db: &mut Db, clock: Clock) -> Result<DateTime<Utc>, DbError> {
    match clock {
        Clock::Database => db.now().await,
        Clock::Fixed(t) => Ok(t),
    }
}

/// A dry run: what each policy would purge now. Reads only; creates nothing.
pub async fn plan(
    db: &mut Db,
    config: &Config,
    only: Option<&str>,
    clock: Clock,
) -> Result<PassReport, PurgeError> {
    let policies = selected(config, only)?;
    let database_now = now(db, clock).await?;
    let mut outcomes = Vec::new();
    for p in policies {
        let started = Instant::now();
        let cutoff = p.cutoff(database_now);
        let mut outcome = PolicyOutcome::new(p, cutoff);
        match resolve(db, config, p).await {
            Ok(target) => {
                let counted = async {
                    let unreadable = target.count_unreadable(db, Some(cutoff)).await?;
                    let expired = target.count_expired(db, cutoff, database_now).await?;
                    let total = target
                        .count_rows_to_decide(db, expired, config.limits.max_table_fraction)
                        .await?;
                    Ok::<_, DbError>((unreadable, expired, total))
                }
                .await;
                match counted {
                    Ok((unreadable, expired, total)) => {
                        outcome.held = target
                            .count_held(db, cutoff, database_now)
                            .await
                            .unwrap_or(0);
                        outcome.unreadable = unreadable;
                        outcome.rows = expired;
                        outcome.batches =
                            expired.div_ceil(u64::from(config.limits.batch_size_on(db.backend())));
                        if let Err(reason) = policy::fraction_guard(
                            &p.name,
                            expired,
                            total,
                            config.limits.max_table_fraction,
                        ) {
                            outcome.status = Status::Refused;
                            outcome.error = Some(reason);
                        }
                    }
                    Err(e) => {
                        outcome.status = Status::Failed;
                        outcome.error = Some(format!(
                            "policy `{}` on table `{}`: {e}",
                            p.name, p.table.name
                        ));
                    }
                }
            }
            Err(reason) => {
                outcome.status = Status::Failed;
                outcome.error = Some(reason);
            }
        }
        outcome.duration_ms = started.elapsed().as_millis() as u64;
        outcomes.push(outcome);
    }
    Ok(PassReport {
        erasures: Vec::new(),
        run_id: None,
        dry_run: true,
        database_now: db::rfc3339(database_now),
        status: overall(&outcomes),
        error: None,
        leftovers: None,
        policies: outcomes,
    })
}

/// Checks the policy against the live catalog; the error names the config location.
async fn resolve(db: &mut Db, config: &Config, p: &Policy) -> Result<Target, String> {
    let report = db::resolve(db, p)
        .await
        .map_err(|e| format!("policy `{}` on table `{}`: {e}", p.name, p.table.name))?;
    match report.target {
        Some(t) => Ok(t),
        None => Err(report
            .problems
            .iter()
            .map(|pr| format!("{}: {}", config.at(pr.loc), pr.message))
            .collect::<Vec<_>>()
            .join("; ")),
    }
}

fn overall(outcomes: &[PolicyOutcome]) -> Status {
    let any = |s: Status| outcomes.iter().any(|o| o.status == s);
    if any(Status::Failed) {
        Status::Failed
    } else if any(Status::Interrupted) {
        Status::Interrupted
    } else if any(Status::Refused) {
        Status::Refused
    } else {
        Status::Ok
    }
}

/// One pass: every selected policy in the order written, each in batches.
pub async fn run_pass(
    db: &mut Db,
    config: &Config,
    opts: &PassOptions,
) -> Result<PassReport, PurgeError> {
    let policies = selected(config, opts.only.as_deref())?;
    let Some(mut leader) = Leader::try_acquire(&config.database).await? else {
        tracing::info!(
            "another retentiond instance holds the pass lock on this database; skipping this pass"
        );
        return Ok(PassReport {
            erasures: Vec::new(),
            run_id: None,
            dry_run: false,
            database_now: db::rfc3339(now(db, opts.clock).await?),
            status: Status::Skipped,
            error: Some("another retentiond instance holds the pass lock on this database".into()),
            leftovers: None,
            policies: Vec::new(),
        });
    };
    opts.leader.store(true, Ordering::SeqCst);
    let report = run_pass_as_leader(db, config, opts, policies, &mut leader).await;
    leader.release().await;
    opts.leader.store(false, Ordering::SeqCst);
    report
}

async fn run_pass_as_leader(
    db: &mut Db,
    config: &Config,
    opts: &PassOptions,
    policies: Vec<&Policy>,
    leader: &mut Leader,
) -> Result<PassReport, PurgeError> {
    db.migrate().await?;
    // Only the leader gets here: a run still marked running was cut off.
    db.abandon_stale_runs().await?;
    let host_now = Utc::now();
    let database_now = now(db, opts.clock).await?;
    let run_id = db
        .insert_run(&RunRecord {
            trigger: opts.trigger.as_str().into(),
            started_at: db::rfc3339(host_now),
            database_now: db::rfc3339(database_now),
            config_path: config.path.display().to_string(),
            config_sha256: config.sha256.clone(),
            forced: opts.force,
        })
        .await?;
    tracing::info!(
        run_id,
        trigger = opts.trigger.as_str(),
        database_now = %db::rfc3339(database_now),
        policies = policies.len(),
        "pass started"
    );

    if opts.clock == Clock::Database
        && let Err(skew) = policy::clock_guard(database_now, host_now)
    {
        let reason = format!(
            "the database clock ({}) differs from the host clock ({}) by {} s, more than {} s: every cutoff would move with it; fix the clocks (NTP) and rerun",
            db::rfc3339(database_now),
            db::rfc3339(host_now),
            skew.num_seconds(),
            policy::MAX_CLOCK_SKEW.num_seconds()
        );
        tracing::error!(run_id, %reason, "pass refused");
        let end = db::RunEnd {
            finished_at: db::rfc3339(Utc::now()),
            status: "refused".into(),
            rows_purged: 0,
            error: Some(reason.clone()),
            leftovers: None,
        };
        db.finish_run(run_id, &end).await?;
        return Ok(PassReport {
            erasures: Vec::new(),
            run_id: Some(run_id),
            dry_run: false,
            database_now: db::rfc3339(database_now),
            status: Status::Refused,
            error: Some(reason),
            leftovers: None,
            policies: Vec::new(),
        });
    }

    let erasures = answer_erasures(db, config, opts, run_id, database_now, leader).await;
    let policies = if opts.erasure_only.is_some() {
        Vec::new()
    } else {
        policies
    };
    let mut outcomes = Vec::new();
    for p in policies {
        if opts.stop.load(Ordering::SeqCst) {
            break;
        }
        if let Err(e) = db.ensure_connected(config.database.retry).await {
            tracing::error!(policy = %p.name, table = %p.table.name, error = %e, "the database cannot be reached");
        }
        let mut pass = Pass {
            config,
            opts,
            run_id,
            now: database_now,
            erasure: None,
            leader: &mut *leader,
        };
        let outcome = run_policy(db, &mut pass, p, database_now).await;
        log_outcome(&outcome);
        let record = PolicyRunRecord {
            run_id,
            policy: outcome.name.clone(),
            table_name: outcome.table.clone(),
            action: outcome.action.as_str().into(),
            cutoff: outcome.cutoff.clone(),
            status: outcome.status.as_str().into(),
            rows: outcome.rows as i64,
            batches: outcome.batches as i64,
            unreadable: outcome.unreadable as i64,
            duration_ms: outcome.duration_ms as i64,
            error: outcome.error.clone(),
            held: outcome.held as i64,
        };
        if let Err(e) = db.record_policy_run(&record).await {
            tracing::error!(policy = %outcome.name, table = %outcome.table, error = %e, "could not record the policy's result");
        }
        outcomes.push(outcome);
    }
    let status = if opts.stop.load(Ordering::SeqCst) && overall(&outcomes) == Status::Ok {
        Status::Interrupted
    } else {
        overall(&outcomes)
    };
    let mut report = PassReport {
        erasures,
        run_id: Some(run_id),
        dry_run: false,
        database_now: db::rfc3339(database_now),
        status,
        error: None,
        leftovers: None,
        policies: outcomes,
    };
    let vacuumed = vacuum_if_needed(db, config, &report).await;
    report.leftovers = leftovers(db.backend(), &report, &vacuumed);
    db.ensure_connected(config.database.retry).await?;
    let failures: Vec<String> = report
        .policies
        .iter()
        .filter_map(|p| p.error.clone())
        .collect();
    let end = db::RunEnd {
        finished_at: db::rfc3339(Utc::now()),
        status: status.as_str().into(),
        rows_purged: report.rows() as i64,
        error: (!failures.is_empty()).then(|| failures.join("; ")),
        leftovers: report.leftovers.clone(),
    };
    db.finish_run(run_id, &end).await?;
    if let Err(e) = db.scrub().await {
        tracing::warn!(error = %e, "could not checkpoint and truncate the write-ahead log");
    }
    tracing::info!(
        run_id,
        status = status.as_str(),
        rows = report.rows(),
        policies = report.policies.len(),
        failed = report
            .policies
            .iter()
            .filter(|p| p.status == Status::Failed)
            .count(),
        next_run = opts.next_run.as_deref().unwrap_or("-"),
        "pass finished"
    );
    Ok(report)
}

/// Reclaims storage after a pass, for the policies that purged rows and ask for it:
/// on SQLite every policy unless it says `vacuum = false` (one rebuild of the file),
/// elsewhere the policies that say `vacuum = true` (their tables).
async fn vacuum_if_needed(db: &mut Db, config: &Config, report: &PassReport) -> Vec<String> {
    let sqlite = db.backend() == db::Backend::Sqlite;
    let wanted: Vec<&Policy> = report
        .policies
        .iter()
        .filter(|o| o.rows > 0)
        .filter_map(|o| config.policy(&o.name))
        .filter(|p| p.vacuum.unwrap_or(sqlite))
        .collect();
    if wanted.is_empty() {
        return Vec::new();
    }
    let started = Instant::now();
    let mut vacuumed = Vec::new();
    let names: Vec<&str> = wanted.iter().map(|p| p.name.as_str()).collect();
    let mut failed = false;
    if sqlite {
        match db.vacuum_sqlite().await {
            Ok(()) => vacuumed.extend(wanted.iter().map(|p| p.table.name.clone())),
            Err(e) => {
                tracing::error!(policies = %names.join(","), error = %e, "VACUUM failed: copies of purged values may remain in unused space of the database file until the next successful pass");
                failed = true;
            }
        }
    } else {
        for p in &wanted {
            let result = match resolve(db, config, p).await {
                Ok(target) => target.vacuum(db).await.map_err(|e| e.to_string()),
                Err(reason) => Err(reason),
            };
            match result {
                Ok(()) => vacuumed.push(p.table.name.clone()),
                Err(e) => {
                    tracing::error!(policy = %p.name, table = %p.table.name, error = %e, "VACUUM failed: dead rows keep purged values until the next vacuum");
                    failed = true;
                }
            }
        }
    }
    if !failed {
        tracing::info!(
            policies = %names.join(","),
            duration_ms = started.elapsed().as_millis() as u64,
            "storage reclaimed (VACUUM): no copy of a purged value is left in the purged tables' pages"
        );
    }
    vacuumed
}

/// What still holds values a pass purged, for the run record and the reports: the
/// database's own leftovers first, then copies no database can reach.
fn leftovers(backend: db::Backend, report: &PassReport, vacuumed: &[String]) -> Option<String> {
    let purged: Vec<&str> = report
        .policies
        .iter()
        .filter(|p| p.rows > 0)
        .map(|p| p.table.as_str())
        .collect();
    if purged.is_empty() {
        return None;
    }
    let not_vacuumed: Vec<&str> = purged
        .iter()
        .copied()
        .filter(|t| !vacuumed.iter().any(|v| v == t))
        .collect();
    let own = match backend {
        db::Backend::Sqlite if not_vacuumed.is_empty() => "the database file was rebuilt (VACUUM) and its write-ahead log truncated: no copy is left in it".to_string(),
        db::Backend::Sqlite => format!(
            "unused space in pages of {} may hold copies until the file is rebuilt (VACUUM)",
            not_vacuumed.join(", ")
        ),
        db::Backend::Postgres if not_vacuumed.is_empty() => format!("dead row versions in {} were vacuumed", purged.join(", ")),
        db::Backend::Postgres => format!(
            "dead row versions in {} keep the old values until VACUUM (autovacuum, or vacuum = true) reclaims them",
            not_vacuumed.join(", ")
        ),
        db::Backend::MySql => "InnoDB undo logs keep old values until InnoDB purges them, and binary logs keep the statements".to_string(),
    };
    Some(format!(
        "{own}; write-ahead log archives, backups and replicas made before this pass still hold purged values until their own retention ends"
    ))
}

fn log_outcome(o: &PolicyOutcome) {
    let cutoff = o.cutoff.as_deref().unwrap_or("-");
    match o.status {
        Status::Ok | Status::Interrupted | Status::Skipped => tracing::info!(
            policy = %o.name, table = %o.table, action = o.action.as_str(), cutoff,
            rows = o.rows, batches = o.batches, held = o.held, unreadable = o.unreadable,
            duration_ms = o.duration_ms, status = o.status.as_str(), "policy done"
        ),
        Status::Refused => tracing::warn!(
            policy = %o.name, table = %o.table, action = o.action.as_str(), cutoff,
            rows = o.rows, status = "refused", reason = o.error.as_deref().unwrap_or(""), "policy refused"
        ),
        Status::Failed => tracing::error!(
            policy = %o.name, table = %o.table, action = o.action.as_str(), cutoff,
            rows = o.rows, batches = o.batches, duration_ms = o.duration_ms,
            status = "failed", error = o.error.as_deref().unwrap_or(""), "policy failed"
        ),
    }
}

/// What every policy of one pass shares.
struct Pass<'a> {
    config: &'a Config,
    opts: &'a PassOptions,
    run_id: i64,
    /// The database's clock at the start of the pass: cutoffs and holds count from it.
    now: DateTime<Utc>,
    /// The erasure request being answered, if any: named in each batch's event.
    erasure: Option<i64>,
    leader: &'a mut Leader,
}

async fn run_policy(
    db: &mut Db,
    pass: &mut Pass<'_>,
    p: &Policy,
    database_now: DateTime<Utc>,
) -> PolicyOutcome {
    let run_id = pass.run_id;
    let started = Instant::now();
    let cutoff = p.cutoff(database_now);
    let mut outcome = PolicyOutcome::new(p, cutoff);
    let result = purge_policy(db, pass, p, cutoff, &mut outcome).await;
    outcome.oldest_remaining = oldest_remaining(db, pass.config, p, pass.now).await;
    if let Err(reason) = result {
        outcome.status = reason.0;
        outcome.error = Some(reason.1.clone());
        let event = NewEvent {
            run_id,
            created_at: db::rfc3339(Utc::now()),
            policy: p.name.clone(),
            table_name: outcome.table.clone(),
            action: outcome.status.as_str(),
            cutoff: outcome.cutoff.clone(),
            rows: 0,
            children: BTreeMap::new(),
            detail: Some(reason.1),
        };
        if let Err(e) = append_event(db, event).await {
            tracing::error!(policy = %p.name, table = %p.table.name, error = %e, "could not record the policy's failure in the audit trail");
        }
    }
    outcome.duration_ms = started.elapsed().as_millis() as u64;
    outcome
}

/// For the metric and the enforcement check; a failure here only logs.
async fn oldest_remaining(
    db: &mut Db,
    config: &Config,
    p: &Policy,
    now: DateTime<Utc>,
) -> Option<String> {
    let target = resolve(db, config, p).await.ok()?;
    match target.oldest_remaining(db, now).await {
        Ok(t) => t.map(db::rfc3339),
        Err(e) => {
            tracing::debug!(policy = %p.name, error = %e, "cannot read the oldest remaining row");
            None
        }
    }
}

/// Writes an event (a refusal, a failure, a hold) in a transaction of its own,
/// serialised with every batch by the batch lock.
pub async fn append_event(db: &mut Db, event: NewEvent) -> Result<(), DbError> {
    db.begin_write().await?;
    let result = async {
        db.lock_batch().await?;
        let e = event.chain(db.chain_head().await?);
        db.insert_event(&e).await
    }
    .await;
    match result {
        Ok(()) => db.commit().await,
        Err(e) => {
            db.rollback().await;
            Err(e)
        }
    }
}

type Stop = (Status, String);

async fn purge_policy(
    db: &mut Db,
    pass: &mut Pass<'_>,
    p: &Policy,
    cutoff: DateTime<Utc>,
    outcome: &mut PolicyOutcome,
) -> Result<(), Stop> {
    let (config, opts) = (pass.config, pass.opts);
    let failed = |e: DbError| {
        (
            Status::Failed,
            format!("policy `{}` on table `{}`: {e}", p.name, p.table.name),
        )
    };
    let target = resolve(db, config, p)
        .await
        .map_err(|r| (Status::Failed, r))?;
    outcome.table = target.table_name.clone();
    outcome.unreadable = target
        .count_unreadable(db, Some(cutoff))
        .await
        .map_err(failed)?;
    outcome.held = target
        .count_held(db, cutoff, pass.now)
        .await
        .map_err(failed)?;
    if outcome.held > 0 {
        tracing::info!(policy = %p.name, table = %target.table_name, held = outcome.held, "expired rows kept: their subjects are under a legal hold");
    }
    if outcome.unreadable > 0 {
        tracing::warn!(
            policy = %p.name, table = %target.table_name, unreadable = outcome.unreadable,
            "rows whose timestamp is not a readable {} are never purged", target.encoding.describe()
        );
    }
    if !opts.force {
        let expired = target
            .count_expired(db, cutoff, pass.now)
            .await
            .map_err(failed)?;
        let total = target
            .count_rows_to_decide(db, expired, config.limits.max_table_fraction)
            .await
            .map_err(failed)?;
        policy::fraction_guard(&p.name, expired, total, config.limits.max_table_fraction)
            .map_err(|reason| (Status::Refused, reason))?;
    }

    if target.drops_partitions() {
        drop_expired_partitions(db, pass, p, &target, cutoff, outcome)
            .await
            .map_err(failed)?;
    }

    batch_loop(db, pass, p, &target, Scope::Expired(cutoff), outcome).await
}

/// Runs batches of `scope` until none is left: each one transaction with its audit
/// event, retried with backoff after a timeout or a lost connection, stopping when
/// asked to or when the pass lock is lost.
async fn batch_loop(
    db: &mut Db,
    pass: &mut Pass<'_>,
    p: &Policy,
    target: &Target,
    scope: Scope<'_>,
    outcome: &mut PolicyOutcome,
) -> Result<(), Stop> {
    let (config, opts) = (pass.config, pass.opts);
    let failed = |e: DbError| {
        (
            Status::Failed,
            format!("policy `{}` on table `{}`: {e}", p.name, target.table_name),
        )
    };
    let retry = config.database.retry;
    let pause = config.limits.pause_on(db.backend());
    let mut cursor: Option<db::Cursor> = None;
    let mut attempt = 0;
    loop {
        if opts.stop.load(Ordering::SeqCst) {
            return Err((
                Status::Interrupted,
                format!(
                    "policy `{}`: stopped after {} batches",
                    p.name, outcome.batches
                ),
            ));
        }
        if let Some(max) = config.database.max_replica_lag {
            wait_for_replicas(db, p, max, &opts.stop).await;
        }
        if !pass.leader.keep().await {
            return Err((
                Status::Failed,
                format!(
                    "policy `{}`: the connection holding the pass lock is gone; stopping so that another instance can take over",
                    p.name
                ),
            ));
        }
        let began = Instant::now();
        let batch = async {
            db.begin_write().await?;
            let result = run_batch(db, pass, p, target, scope, cursor.as_ref()).await;
            match result {
                Ok(Some(done)) => match db.commit().await {
                    Ok(()) => Ok(Some(done)),
                    Err(e) => {
                        db.rollback().await;
                        Err(e)
                    }
                },
                Ok(None) => {
                    db.rollback().await;
                    Ok(None)
                }
                Err(e) => {
                    db.rollback().await;
                    Err(e)
                }
            }
        }
        .await;
        match batch {
            Ok(None) => return Ok(()),
            Ok(Some((rows, children, next))) => {
                attempt = 0;
                let ms = began.elapsed().as_millis() as u64;
                outcome.longest_batch_ms = outcome.longest_batch_ms.max(ms);
                outcome.rows += rows;
                outcome.batches += 1;
                for (t, n) in children {
                    *outcome.children.entry(t).or_default() += n;
                }
                tracing::debug!(policy = %p.name, batch = outcome.batches, rows, ms, "batch committed");
                match next {
                    Some(next) => cursor = Some(next),
                    None => return Ok(()),
                }
                if !pause.is_zero() {
                    tokio::time::sleep(pause).await;
                }
            }
            Err(e) if (e.is_timeout() || e.is_connection_lost()) && attempt < retry.attempts => {
                attempt += 1;
                let wait = retry.wait_before(attempt);
                tracing::warn!(
                    policy = %p.name, table = %target.table_name, attempt, of = retry.attempts,
                    wait_ms = wait.as_millis() as u64, error = %e,
                    "batch rolled back; retrying"
                );
                tokio::time::sleep(wait).await;
                if e.is_connection_lost()
                    && let Err(e) = db.reconnect().await
                {
                    tracing::warn!(policy = %p.name, error = %e, "reconnecting failed");
                }
            }
            Err(e) => return Err(failed(e)),
        }
    }
}

/// How one erasure request was answered, policy by policy.
#[derive(Debug, Clone, Serialize)]
pub struct ErasureAnswer {
    pub id: i64,
    pub status: String,
    pub minor: bool,
    pub policies: Vec<ErasureEntry>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct ErasureEntry {
    pub policy: String,
    /// deleted | anonymized | kept | failed
    pub outcome: String,
    pub rows: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub children: BTreeMap<String, u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For kept rows: when their period runs out and they go like any other.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_until: Option<String>,
}

/// Answers the open erasure requests (or only `opts.erasure_only`): in every policy
/// with a subject column, the subject's rows are deleted or anonymised per the
/// policy, whatever their age, except where the basis is a legal obligation (kept,
/// with the date they will go) or a legal hold applies. A request whose erasure
/// failed somewhere stays open for the next pass.
async fn answer_erasures(
    db: &mut Db,
    config: &Config,
    opts: &PassOptions,
    run_id: i64,
    now: DateTime<Utc>,
    leader: &mut Leader,
) -> Vec<ErasureAnswer> {
    let requests = match db.erasure_requests().await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the erasure requests");
            return Vec::new();
        }
    };
    let now_text = db::rfc3339(now);
    let mut answers = Vec::new();
    for req in requests
        .into_iter()
        .filter(|r| r.status == "open" && opts.erasure_only.is_none_or(|id| id == r.id))
    {
        if req.due_at < now_text {
            tracing::warn!(request = req.id, due = %req.due_at, "erasure request is overdue");
        } else if req.due_at.as_str() < db::rfc3339(now + chrono::TimeDelta::days(7)).as_str() {
            tracing::warn!(request = req.id, due = %req.due_at, "erasure request is due within 7 days");
        }
        let mut pass = Pass {
            config,
            opts,
            run_id,
            now,
            erasure: Some(req.id),
            leader: &mut *leader,
        };
        let mut entries = Vec::new();
        let (mut retained, mut failed) = (false, false);
        for p in config.policies.iter().filter(|p| p.subject.is_some()) {
            let entry = |outcome: &str,
                         rows: u64,
                         reason: Option<String>,
                         kept_until: Option<String>| ErasureEntry {
                policy: p.name.clone(),
                outcome: outcome.into(),
                rows,
                children: BTreeMap::new(),
                reason,
                kept_until,
            };
            let target = match resolve(db, config, p).await {
                Ok(t) => t,
                Err(reason) => {
                    entries.push(entry("failed", 0, Some(reason), None));
                    failed = true;
                    continue;
                }
            };
            let (rows, held, newest) = match target.subject_rows(db, &req.subject, now).await {
                Ok(x) => x,
                Err(e) => {
                    entries.push(entry("failed", 0, Some(e.to_string()), None));
                    failed = true;
                    continue;
                }
            };
            if p.basis == Some(crate::policy::Basis::LegalObligation) {
                if rows + held > 0 {
                    retained = true;
                    let until = newest.map(|t| db::rfc3339(p.keep.after(t)));
                    entries.push(entry(
                        "kept",
                        rows + held,
                        Some("legal obligation".into()),
                        until,
                    ));
                }
                continue;
            }
            if held > 0 {
                retained = true;
                entries.push(entry("kept", held, Some("legal hold".into()), None));
            }
            if rows == 0 {
                continue;
            }
            let mut outcome = PolicyOutcome::new(p, now);
            match batch_loop(
                db,
                &mut pass,
                p,
                &target,
                Scope::Subject(&req.subject),
                &mut outcome,
            )
            .await
            {
                Ok(()) => {
                    let done = if p.action == Action::Delete {
                        "deleted"
                    } else {
                        "anonymized"
                    };
                    let mut e = entry(done, outcome.rows, None, None);
                    e.children = outcome.children;
                    entries.push(e);
                }
                Err((_, reason)) => {
                    entries.push(entry("failed", outcome.rows, Some(reason), None));
                    failed = true;
                }
            }
        }
        let status = if failed {
            "open"
        } else if retained {
            "partially_retained"
        } else {
            "completed"
        };
        if !failed {
            let outcome = serde_json::to_string(&entries).unwrap_or_default();
            if let Err(e) = db.finish_erasure(req.id, status, &now_text, &outcome).await {
                tracing::error!(request = req.id, error = %e, "cannot record the erasure request's outcome");
            }
        }
        tracing::info!(
            request = req.id,
            status,
            minor = req.minor,
            policies = entries.len(),
            "erasure request answered"
        );
        answers.push(ErasureAnswer {
            id: req.id,
            status: status.into(),
            minor: req.minor,
            policies: entries,
        });
    }
    answers
}

/// Waits while any replica replays further behind than `max`, so that purging never
/// widens the gap a replica must catch up on. Logs why it waits, every 30 s.
async fn wait_for_replicas(db: &mut Db, p: &Policy, max: std::time::Duration, stop: &AtomicBool) {
    let mut logged: Option<Instant> = None;
    while !stop.load(Ordering::SeqCst) {
        match db.replica_lag().await {
            Ok(Some(lag)) if lag > max => {
                if logged.is_none_or(|t| t.elapsed() >= std::time::Duration::from_secs(30)) {
                    tracing::warn!(
                        policy = %p.name, lag_ms = lag.as_millis() as u64, max_ms = max.as_millis() as u64,
                        "waiting before the next batch: a replica replays further behind than max_replica_lag"
                    );
                    logged = Some(Instant::now());
                }
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(policy = %p.name, error = %e, "cannot read replica lag; not waiting");
                return;
            }
        }
    }
}

/// Drops each partition whose whole range has expired, one short transaction each:
/// lock it, count its rows, write the audit event, detach and drop.
async fn drop_expired_partitions(
    db: &mut Db,
    pass: &mut Pass<'_>,
    p: &Policy,
    target: &Target,
    cutoff: DateTime<Utc>,
    outcome: &mut PolicyOutcome,
) -> Result<(), DbError> {
    for part in target.expired_partitions(db, cutoff).await? {
        if pass.opts.stop.load(Ordering::SeqCst) || !pass.leader.keep().await {
            break;
        }
        let started = Instant::now();
        db.begin_write().await?;
        let dropped = async {
            db.lock_batch().await?;
            let Some(rows) = target.lock_partition(db, &part).await? else {
                return Ok(None);
            };
            let event = NewEvent {
                run_id: pass.run_id,
                created_at: db::rfc3339(Utc::now()),
                policy: p.name.clone(),
                table_name: target.table_name.clone(),
                action: Action::Delete.as_str(),
                cutoff: Some(db::rfc3339(cutoff)),
                rows: rows as i64,
                children: BTreeMap::new(),
                detail: Some(format!(
                    "partition {} dropped whole ({})",
                    part.name, part.bound
                )),
            }
            .chain(db.chain_head().await?);
            db.insert_event(&event).await?;
            target.detach_and_drop(db, &part).await?;
            Ok(Some(rows))
        }
        .await;
        match dropped {
            Ok(Some(rows)) => {
                db.commit().await?;
                outcome.rows += rows;
                outcome.batches += 1;
                outcome.partitions_dropped += 1;
                tracing::info!(
                    policy = %p.name, partition = %part.name, rows,
                    duration_ms = started.elapsed().as_millis() as u64, "partition dropped"
                );
            }
            Ok(None) => db.rollback().await,
            Err(e) => {
                db.rollback().await;
                return Err(e);
            }
        }
    }
    Ok(())
}

/// A committed batch: rows purged, rows deleted by cascade per table, and where the
/// next batch starts (`None`: this was the last).
type BatchResult = Option<(u64, BTreeMap<String, u64>, Option<db::Cursor>)>;

/// One batch inside an open transaction: select, purge, write the audit event.
/// `None` when no expired row is left after the cursor.
async fn run_batch(
    db: &mut Db,
    pass: &Pass<'_>,
    p: &Policy,
    target: &Target,
    scope: Scope<'_>,
    cursor: Option<&db::Cursor>,
) -> Result<BatchResult, DbError> {
    let (config, run_id, now) = (pass.config, pass.run_id, pass.now);
    let key_len = target.key_len();
    let batch_size = config.limits.batch_size_on(db.backend());
    db.lock_batch().await?;
    let mut children = BTreeMap::new();
    let (purged, next) = match (p.action, scope) {
        // Expired rows without children, or anonymised with values SQL can write:
        // one statement purges the range up to the batch's last row, with no keys or
        // values moved or locked ahead of it.
        (action, Scope::Expired(cutoff)) if target.purges_by_range() => {
            let bound = target
                .batch_bound(db, cutoff, cursor, batch_size, now)
                .await?;
            let upto = bound.as_ref();
            let n = match action {
                Action::Delete => target.delete_range(db, cutoff, cursor, upto, now).await?,
                Action::Anonymize => {
                    let marker = target.marker_value(Utc::now());
                    target
                        .anonymize_range(db, cutoff, cursor, upto, Some(&marker), now)
                        .await?
                }
            };
            if n == 0 && bound.is_none() {
                return Ok(None);
            }
            (n, bound)
        }
        _ => {
            let rows = target
                .select_batch(db, scope, cursor, batch_size, now)
                .await?;
            let Some(last) = rows.last() else {
                return Ok(None);
            };
            let next: db::Cursor = last[..1 + key_len].to_vec();
            let keys: Vec<Vec<SqlValue>> =
                rows.iter().map(|r| r[1..1 + key_len].to_vec()).collect();
            let purged = match p.action {
                Action::Delete => {
                    for (i, table) in target.cascade_tables().into_iter().enumerate() {
                        let n = target.delete_children(db, i, &keys).await?;
                        *children.entry(table).or_insert(0) += n;
                    }
                    target.delete_rows(db, &keys).await?
                }
                Action::Anonymize => {
                    let strategies = target.anonymize_strategies();
                    let marker = target.marker_value(Utc::now());
                    let values: Vec<Vec<SqlValue>> = rows
                        .iter()
                        .map(|row| {
                            strategies
                                .iter()
                                .zip(&row[1 + key_len..])
                                .map(|(s, v)| anonymize::apply(*s, v, config.hmac_key.as_ref()))
                                .collect()
                        })
                        .collect();
                    target
                        .update_rows(db, &keys, &values, Some(&marker))
                        .await?
                }
            };
            (purged, Some(next))
        }
    };
    let event = NewEvent {
        run_id,
        created_at: db::rfc3339(Utc::now()),
        policy: p.name.clone(),
        table_name: target.table_name.clone(),
        action: p.action.as_str(),
        cutoff: match scope {
            Scope::Expired(cutoff) => Some(db::rfc3339(cutoff)),
            Scope::Subject(_) => None,
        },
        rows: purged as i64,
        children: children
            .iter()
            .map(|(k, v)| (k.clone(), *v as i64))
            .collect(),
        detail: pass.erasure.map(|id| format!("erasure request #{id}")),
    }
    .chain(db.chain_head().await?);
    db.insert_event(&event).await?;
    Ok(Some((purged, children, next)))
}
