//! The engine: one pass over the policies, each purged in short transactions that
//! also write the audit event counting them; the erasure requests answered through
//! the same batches; legal holds and erasure requests registered with their rules.
//!
//! `check` fits the config to the catalog, `batch` runs the transactions, `expiry` one policy's expired rows, `erasure` the
//! requests, `partitions` whole-partition drops, `storage` what a pass leaves behind
//! (vacuum, leftovers), `replicas` the wait for lagging replicas, `holds` the hold
//! rules, `journal` every audit event. Every statement comes from `db`: no SQL here.

mod batch;
mod check;
mod coverage;
mod deliveries;
mod downloads;
mod erasure;
mod expiry;
mod export;
mod files;
mod holds;
mod journal;
mod partitions;
mod reapply;
mod replicas;
mod requests;
mod rests;
mod sizer;
mod steps;
mod storage;
mod targets;
mod walk;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::db::{self, Db, DbError, Leader, NewRun, Replicas, RunEnd};
use crate::files::Stores;
use crate::policy::{self, Action, Policy};
use crate::processors::Sender;
use targets::Targets;

pub use crate::outcome::{Status, Trigger};
pub use check::{CheckReport, CheckedPolicy, check};
pub use coverage::{Coverage, Finding, Orphaned, Uncovered, coverage, uncovered};
pub use deliveries::{DeliveryCounts, FAILING_AFTER, failing as failing_deliveries};
pub use downloads::{
    Download, DownloadError, Waiting, create_private_dir, download_path, sweep as sweep_downloads,
    take as take_download, waiting as waiting_download,
};
pub use erasure::ErasureAnswer;
pub use export::{
    ExportAnswer, ExportError, ExportHeader, ExportedFile, Governing, PAGE_ROWS, Sink,
    TableSection, answer_export,
};
pub use files::FileCounts;
pub use holds::{
    AddedHold, HoldError, HoldListing, HoldRequest, add_hold, list_holds, release_hold,
};
pub use journal::{Actor, record_outside_pass};
pub use reapply::{LedgerCheck, Reapplied, ReapplyRun, check_ledger};
pub use requests::{
    MINOR, REQUEST_DAYS, RegisteredRequest, RequestArgs, RequestError, register_request,
};
pub use steps::{BatchStep, BatchTiming};
pub use walk::ChosenWalk;

/// Where "now" comes from. Passes always use the database's clock; tests may fix it
/// so that boundaries can be placed to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    Database,
    Fixed(DateTime<Utc>),
}

/// Asks a running pass to stop after the batch in flight has committed. Clones
/// share one signal.
#[derive(Debug, Clone, Default)]
pub struct StopSignal(Arc<AtomicBool>);

impl StopSignal {
    /// Asks for the stop; returns whether it had been asked for already.
    pub fn request(&self) -> bool {
        self.0.swap(true, Ordering::SeqCst)
    }

    pub fn is_requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

#[derive(Debug, Clone)]
pub struct PassOptions {
    pub trigger: Trigger,
    /// Only this policy, by name.
    pub only: Option<String>,
    /// Override `max_table_fraction`.
    pub force: bool,
    pub clock: Clock,
    pub stop: StopSignal,
    /// True while this pass holds the pass lock (for the daemon's metrics).
    pub leader: Arc<AtomicBool>,
    /// When the daemon runs the next pass, for the pass's last log line.
    pub next_run: Option<String>,
    /// Answer only this erasure request and run no policy (`erase --now`).
    pub erasure_only: Option<i64>,
    /// Only apply again the ledger's erasures whose rows are back (`erase --reapply`).
    pub reapply_only: bool,
}

impl PassOptions {
    pub fn new(trigger: Trigger) -> PassOptions {
        PassOptions {
            trigger,
            only: None,
            force: false,
            clock: Clock::Database,
            stop: StopSignal::default(),
            leader: Arc::new(AtomicBool::new(false)),
            next_run: None,
            erasure_only: None,
            reapply_only: false,
        }
    }
}

/// One policy's outcome, as `plan` and `purge` print it.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyOutcome {
    pub name: String,
    pub table: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub action: Action,
    pub cutoff: Option<String>,
    /// Rows of the policy's own table deleted or anonymised (or, in a plan, that would be).
    pub rows: u64,
    pub batches: u64,
    /// Rows removed by `cascade`, per child table (purge only).
    pub children: BTreeMap<String, u64>,
    /// Files of the purged rows: queued and what became of them (in a plan, the
    /// files that would go, as `queued`).
    #[serde(skip_serializing_if = "FileCounts::is_empty")]
    pub files: FileCounts,
    /// Whole partitions dropped (`partitions = "drop"`); their rows are in `rows`.
    pub partitions_dropped: u64,
    pub held: u64,
    pub unreadable: u64,
    /// The longest batch transaction, from BEGIN to COMMIT: how long rows were locked.
    pub longest_batch_ms: u64,
    /// That batch's steps, and which took longest: its cause.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longest_batch: Option<BatchTiming>,
    /// The size the next batch would have taken: where adaptive sizes settled.
    pub batch_size: u32,
    /// The weighted rate the sizes followed, rows per second (adaptive sizes only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_per_second: Option<f64>,
    /// Expired rows with a value their strategy cannot read (`n/a` in an IP
    /// column): left as they are, never rewritten.
    pub cannot_anonymize: u64,
    /// How long the batches waited for lagging replicas (`max_replica_lag`).
    pub replica_wait_ms: u64,
    /// How the batches walked the table (expiry passes and plans), and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub walk: Option<ChosenWalk>,
    /// The oldest timestamp the policy covers and has not purged, after the pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oldest_remaining: Option<String>,
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
            files: FileCounts::default(),
            partitions_dropped: 0,
            longest_batch_ms: 0,
            longest_batch: None,
            batch_size: 0,
            rows_per_second: None,
            held: 0,
            unreadable: 0,
            cannot_anonymize: 0,
            replica_wait_ms: 0,
            walk: None,
            oldest_remaining: None,
            status: Status::Ok,
            error: None,
            duration_ms: 0,
        }
    }

    /// Ends the policy with `stop`'s status and reason.
    fn stopped(&mut self, stop: Stop) {
        self.status = stop.status;
        self.error = Some(stop.reason);
    }
}

/// Why a policy ended before its work was done, and in which state.
#[derive(Debug, Clone)]
struct Stop {
    status: Status,
    reason: String,
}

impl Stop {
    fn failed(reason: String) -> Stop {
        Stop {
            status: Status::Failed,
            reason,
        }
    }
}

/// A whole pass, as `plan` and `purge --format json` print it.
#[derive(Debug, Clone, Serialize)]
pub struct PassReport {
    pub run_id: Option<i64>,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Erasure requests answered in this pass.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub erasures: Vec<ErasureAnswer>,
    /// The ledger's erasures applied again before the pass, their rows being back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reapplied: Option<ReapplyRun>,
    /// Files a cut-off pass had queued, removed at the start of this one.
    #[serde(skip_serializing_if = "FileCounts::is_empty")]
    pub leftover_files: FileCounts,
    /// Answered requests passed on to processors after the erasures.
    #[serde(skip_serializing_if = "DeliveryCounts::is_empty")]
    pub deliveries: DeliveryCounts,
    pub dry_run: bool,
    pub database_now: String,
    /// What still holds values this pass purged (dead tuples, WAL, backups), in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leftovers: Option<String>,
    pub policies: Vec<PolicyOutcome>,
}

impl PassReport {
    pub fn rows(&self) -> u64 {
        self.policies.iter().map(|p| p.rows).sum()
    }

    /// A pass that did no policy: skipped or refused as a whole.
    fn without_policies(
        run_id: Option<i64>,
        database_now: DateTime<Utc>,
        status: Status,
        error: String,
    ) -> PassReport {
        PassReport {
            run_id,
            erasures: Vec::new(),
            reapplied: None,
            leftover_files: FileCounts::default(),
            deliveries: DeliveryCounts::default(),
            dry_run: false,
            database_now: db::rfc3339(database_now),
            status,
            error: Some(error),
            leftovers: None,
            policies: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("no policy named `{0}` in the config; policies: {1}")]
    UnknownPolicy(String, String),
}

/// What every policy of one pass shares.
struct Pass<'a> {
    config: &'a Config,
    opts: &'a PassOptions,
    run_id: i64,
    /// The database's clock at the start of the pass: cutoffs and holds count from it.
    now: DateTime<Utc>,
    leader: &'a mut Leader,
    /// Each policy checked against the catalog once per pass.
    targets: Targets,
    /// The replicas `max_replica_lag` watches, connected once per pass.
    replicas: Option<Replicas>,
    /// Where the files of purged rows live, opened once per pass.
    stores: Stores,
    /// The most rows a batch may take so that its transaction stays under the
    /// server's limit (Galera's `wsrep_max_ws_rows`); `None`: no limit.
    rows_per_transaction: Option<u32>,
}

impl<'a> Pass<'a> {
    /// The pass of run `run_id`, starting at the database's `now`.
    fn new(
        config: &'a Config,
        opts: &'a PassOptions,
        (run_id, now): (i64, DateTime<Utc>),
        leader: &'a mut Leader,
        targets: Targets,
    ) -> Pass<'a> {
        Pass {
            config,
            opts,
            run_id,
            now,
            leader,
            targets,
            replicas: config
                .database
                .replicas
                .as_ref()
                .map(|watch| Replicas::new(&config.database, watch)),
            stores: Stores::open(&config.stores),
            rows_per_transaction: None,
        }
    }
}

/// Records a pass's run, started now by `trigger`, with the config it runs.
async fn insert_run(
    db: &mut Db,
    config: &Config,
    opts: &PassOptions,
    trigger: Trigger,
    database_now: DateTime<Utc>,
) -> Result<i64, DbError> {
    db.insert_run(&NewRun {
        trigger,
        started_at: db::rfc3339(Utc::now()),
        database_now: db::rfc3339(database_now),
        config_path: config.path.display().to_string(),
        config_sha256: config.sha256.clone(),
        forced: opts.force,
        instance: db::instance_name(),
    })
    .await
}

/// Under Galera's `wsrep_max_ws_rows`, less the rows every batch writes besides
/// the purged ones: the lease and the audit event.
async fn rows_per_transaction(db: &mut Db) -> Result<Option<u32>, DbError> {
    const OWN_ROWS: u64 = 2;
    let Some(cluster) = db.galera().await? else {
        return Ok(None);
    };
    Ok(cluster.max_ws_rows.map(|n| {
        let rows = n.saturating_sub(OWN_ROWS).max(1);
        tracing::info!(
            wsrep_max_ws_rows = n,
            batch_rows_at_most = rows,
            "batches sized under the cluster's limit on rows per transaction"
        );
        u32::try_from(rows).unwrap_or(u32::MAX)
    }))
}

fn selected<'c>(config: &'c Config, only: Option<&str>) -> Result<Vec<&'c Policy>, EngineError> {
    match only {
        None => Ok(config.policies.iter().collect()),
        Some(name) => match config.policy(name) {
            Some(p) => Ok(vec![p]),
            None => Err(EngineError::UnknownPolicy(
                name.to_string(),
                config.policy_names(),
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

/// Removes the files a cut-off pass left queued, under the pass lock (none when
/// another instance holds it: its passes do the same). For the daemon at start.
pub async fn finish_queued_files(db: &mut Db, config: &Config) -> Result<FileCounts, EngineError> {
    if !db.has_own_tables().await? {
        return Ok(FileCounts::default());
    }
    let Some(leader) = Leader::try_acquire(&config.database).await? else {
        return Ok(FileCounts::default());
    };
    let stores = Stores::open(&config.stores);
    db.fence_with(Some(&leader));
    let counts = files::drain(db, &stores, journal::OUTSIDE_A_PASS, None).await;
    db.fence_with(None);
    leader.release().await;
    Ok(counts?)
}

/// Passes on the answered requests due now to their processors (outside a pass:
/// the daemon between passes), and says when the next is due.
pub async fn deliver_due(
    db: &mut Db,
    config: &Config,
    sender: &Sender,
) -> Result<(DeliveryCounts, Option<String>), EngineError> {
    let counts = deliveries::send_due(db, config, sender, journal::OUTSIDE_A_PASS).await?;
    let next = if config.processors.is_empty() || !db.has_own_tables().await? {
        None
    } else {
        db.next_delivery_at().await?
    };
    Ok((counts, next))
}

/// A dry run: what each policy would purge now. Reads only; creates nothing.
pub async fn plan(
    db: &mut Db,
    config: &Config,
    only: Option<&str>,
    clock: Clock,
) -> Result<PassReport, EngineError> {
    db.forget_catalog();
    let policies = selected(config, only)?;
    let database_now = now(db, clock).await?;
    let mut targets = Targets::default();
    let mut outcomes = Vec::new();
    for p in policies {
        let outcome = expiry::plan_policy(db, config, &mut targets, p, database_now).await;
        outcomes.push(outcome);
    }
    Ok(PassReport {
        erasures: Vec::new(),
        reapplied: None,
        leftover_files: FileCounts::default(),
        deliveries: DeliveryCounts::default(),
        run_id: None,
        dry_run: true,
        database_now: db::rfc3339(database_now),
        status: Status::overall(outcomes.iter().map(|o| o.status)),
        error: None,
        leftovers: None,
        policies: outcomes,
    })
}

/// One pass: every selected policy in the order written, each in batches.
pub async fn run_pass(
    db: &mut Db,
    config: &Config,
    opts: &PassOptions,
) -> Result<PassReport, EngineError> {
    db.forget_catalog();
    let policies = selected(config, opts.only.as_deref())?;
    let Some(mut leader) = Leader::try_acquire(&config.database).await? else {
        let reason = "another retentiond instance holds the pass lock on this database";
        tracing::info!("{reason}; skipping this pass");
        let database_now = now(db, opts.clock).await?;
        return Ok(PassReport::without_policies(
            None,
            database_now,
            Status::Skipped,
            reason.into(),
        ));
    };
    opts.leader.store(true, Ordering::SeqCst);
    db.fence_with(Some(&leader));
    let report = run_pass_as_leader(db, config, opts, policies, &mut leader).await;
    db.fence_with(None);
    // Not the leader any more before another instance can be: the metric never
    // shows two at once.
    opts.leader.store(false, Ordering::SeqCst);
    leader.release().await;
    report
}

async fn run_pass_as_leader(
    db: &mut Db,
    config: &Config,
    opts: &PassOptions,
    policies: Vec<&Policy>,
    leader: &mut Leader,
) -> Result<PassReport, EngineError> {
    db.ensure_own_tables().await?;
    // Only the leader gets here: a run still marked running was cut off.
    db.abandon_stale_runs().await?;
    let database_now = now(db, opts.clock).await?;
    let mut targets = Targets::default();
    let reapplied =
        reapply::run_if_needed(db, config, opts, leader, &mut targets, database_now).await?;
    if opts.reapply_only {
        let mut report = PassReport::without_policies(
            reapplied.as_ref().map(|r| r.run_id),
            database_now,
            reapplied.as_ref().map_or(Status::Ok, |r| r.status),
            String::new(),
        );
        report.error = None;
        report.reapplied = reapplied;
        return Ok(report);
    }
    // The pass's clocks are read after the reapply, which may have taken a while.
    let database_now = match reapplied {
        Some(_) => now(db, opts.clock).await?,
        None => database_now,
    };
    let host_now = Utc::now();
    let run_id = insert_run(db, config, opts, opts.trigger, database_now).await?;
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
        return refuse_for_clock_skew(db, run_id, database_now, host_now, skew).await;
    }
    let mut pass = Pass::new(config, opts, (run_id, database_now), leader, targets);
    pass.rows_per_transaction = rows_per_transaction(db).await?;
    // Files queued by a pass that was cut off before it removed them.
    let leftover_files = files::drain(db, &pass.stores, run_id, None).await?;
    let erasures = erasure::answer_open(db, &mut pass).await;
    let sender = Sender::new(&config.processors);
    let deliveries = match deliveries::send_due(db, config, &sender, run_id).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot pass the answered requests on to the processors");
            DeliveryCounts::default()
        }
    };
    let policies = if opts.erasure_only.is_some() {
        Vec::new()
    } else {
        policies
    };
    let mut outcomes = Vec::new();
    for p in policies {
        if opts.stop.is_requested() {
            break;
        }
        outcomes.push(expiry::run_policy(db, &mut pass, p).await);
    }
    let mut status = Status::overall(outcomes.iter().map(|o| o.status));
    if opts.stop.is_requested() && status == Status::Ok {
        status = Status::Interrupted;
    }
    let mut report = PassReport {
        erasures,
        reapplied,
        leftover_files,
        deliveries,
        run_id: Some(run_id),
        dry_run: false,
        database_now: db::rfc3339(database_now),
        status,
        error: None,
        leftovers: None,
        policies: outcomes,
    };
    let vacuumed = storage::vacuum_if_needed(db, &mut pass, &report).await;
    report.leftovers = storage::leftovers(db.backend(), &report, &vacuumed);
    finish(db, &pass, &report).await?;
    Ok(report)
}

async fn refuse_for_clock_skew(
    db: &mut Db,
    run_id: i64,
    database_now: DateTime<Utc>,
    host_now: DateTime<Utc>,
    skew: chrono::TimeDelta,
) -> Result<PassReport, EngineError> {
    let reason = format!(
        "the database clock ({}) differs from the host clock ({}) by {} s, more than {} s: every cutoff would move with it; fix the clocks (NTP) and rerun",
        db::rfc3339(database_now),
        db::rfc3339(host_now),
        skew.num_seconds(),
        policy::MAX_CLOCK_SKEW.num_seconds()
    );
    tracing::error!(run_id, %reason, "pass refused");
    let end = RunEnd {
        finished_at: db::rfc3339(Utc::now()),
        status: Status::Refused,
        rows_purged: 0,
        error: Some(reason.clone()),
        leftovers: None,
    };
    db.finish_run(run_id, &end).await?;
    Ok(PassReport::without_policies(
        Some(run_id),
        database_now,
        Status::Refused,
        reason,
    ))
}

/// Records how the pass ended, leaves no purged value in SQLite's write-ahead log,
/// and logs the pass's last line.
async fn finish(db: &mut Db, pass: &Pass<'_>, report: &PassReport) -> Result<(), EngineError> {
    db.ensure_connected(pass.config.database.retry).await?;
    let failures: Vec<String> = report
        .policies
        .iter()
        .filter_map(|p| p.error.clone())
        .collect();
    let end = RunEnd {
        finished_at: db::rfc3339(Utc::now()),
        status: report.status,
        rows_purged: report.rows() as i64,
        error: (!failures.is_empty()).then(|| failures.join("; ")),
        leftovers: report.leftovers.clone(),
    };
    db.finish_run(pass.run_id, &end).await?;
    storage::scrub(db).await;
    tracing::info!(
        run_id = pass.run_id,
        status = report.status.as_str(),
        rows = report.rows(),
        policies = report.policies.len(),
        failed = report
            .policies
            .iter()
            .filter(|p| p.status == Status::Failed)
            .count(),
        next_run = pass.opts.next_run.as_deref().unwrap_or("-"),
        "pass finished"
    );
    Ok(())
}
