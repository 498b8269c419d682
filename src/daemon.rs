//! `retentiond run`: the schedule loop, catch-up, signals, configuration reload,
//! sd_notify (READY, WATCHDOG, STATUS, RELOADING, STOPPING) and the metrics endpoint.
//!
//! The loop computes each next run time with croner in the schedule's time zone and
//! sleeps until then, rather than letting tokio-cron-scheduler drive it; see
//! ARCHITECTURE.md for why.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sd_notify::NotifyState;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::{mpsc, watch};

use crate::config::{self, Config, ConfigError, Schedule};
use crate::db::{self, Access, Db, DbError};
use crate::engine::{self, EngineError, PassOptions, PassReport, StopSignal, Trigger};
use crate::metrics::{self, Metrics};
use crate::processors::Sender;
use crate::scheduler;

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("{} has no [schedule]; `run` needs one (for example cron = \"0 30 2 * * *\"), or use `purge` for a single pass", .0.display())]
    NoSchedule(PathBuf),
    // The cause is in the message, not a `source`: `{:#}` would print it twice.
    #[error("cannot listen for metrics on {addr}: {error}")]
    Metrics {
        addr: std::net::SocketAddr,
        error: std::io::Error,
    },
    #[error("cannot install signal handlers: {0}")]
    Signals(std::io::Error),
    #[error(transparent)]
    Api(#[from] crate::api::ServeError),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// How long to sleep at most before looking at the clock again: a wall clock that
/// jumps (NTP, suspend) is noticed within this time.
const MAX_SLEEP: Duration = Duration::from_secs(60);

fn notify(states: &[NotifyState]) {
    // Outside systemd NOTIFY_SOCKET is unset and this does nothing.
    if let Err(e) = sd_notify::notify(states) {
        tracing::debug!(error = %e, "sd_notify failed");
    }
}

/// The signals the daemon answers.
struct Signals {
    term: Signal,
    int: Signal,
    hup: Signal,
}

/// What the schedule loop carries from one pass to the next.
struct Daemon {
    path: PathBuf,
    config: Config,
    schedule: Schedule,
    signals: Signals,
    stopping: StopSignal,
    /// True while a pass holds the pass lock, for the metrics.
    leader: Arc<AtomicBool>,
    metrics: Metrics,
    /// The last pass in a line, for systemd's STATUS.
    status_line: String,
    /// The processors' HTTPS clients, built again on reload.
    sender: Sender,
    /// When the next delivery to a processor is due, if one is waiting.
    next_delivery: Option<DateTime<Utc>>,
    /// The config the API serves with, replaced at each reload.
    published: watch::Sender<Arc<Config>>,
    /// Erasures the API asks to answer now; `None` without `[http]`.
    answers: Option<mpsc::UnboundedReceiver<i64>>,
}

/// Runs until SIGTERM or SIGINT. `config` was loaded from `path`, which SIGHUP reads
/// again.
pub async fn run(path: PathBuf, config: Config) -> Result<(), DaemonError> {
    let schedule = config
        .schedule
        .clone()
        .ok_or_else(|| DaemonError::NoSchedule(path.clone()))?;
    let signals = Signals {
        term: signal(SignalKind::terminate()).map_err(DaemonError::Signals)?,
        int: signal(SignalKind::interrupt()).map_err(DaemonError::Signals)?,
        hup: signal(SignalKind::hangup()).map_err(DaemonError::Signals)?,
    };
    // Ready means: config valid, database reachable, own tables migrated.
    let mut db = Db::open(&config.database, Access::ReadWrite).await?;
    db.ensure_own_tables().await?;
    let last_success = db.last_success().await?;
    // Files a pass queued before the process died are removed now, not at the
    // next scheduled pass.
    match engine::finish_queued_files(&mut db, &config).await {
        Ok(c) if !c.is_empty() => tracing::info!(
            removed = c.removed,
            already_gone = c.already_gone,
            refused = c.refused,
            failed = c.failed,
            "files left queued by an earlier pass"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot remove the files an earlier pass left queued"),
    }
    db.close().await?;
    let config_for_api = config.clone();
    let mut daemon = Daemon {
        path,
        config,
        schedule,
        signals,
        stopping: StopSignal::default(),
        leader: Arc::new(AtomicBool::new(false)),
        metrics: Metrics::new(),
        status_line: "no pass yet".to_string(),
        sender: Sender::new(&[]),
        next_delivery: None,
        published: watch::Sender::new(Arc::new(Config::clone(&config_for_api))),
        answers: None,
    };
    daemon.sender = Sender::new(&daemon.config.processors);
    daemon.deliver().await;
    // Gauges first: the endpoint never serves a zero it has not read.
    daemon.refresh_gauges().await;
    daemon.start_services().await?;
    let now = Utc::now();
    let first = scheduler::next_after(&daemon.schedule, now);
    notify(&[
        NotifyState::Ready,
        NotifyState::Status(&status(&daemon.status_line, first)),
    ]);
    tracing::info!(
        cron = %daemon.schedule.cron, timezone = %daemon.schedule.timezone.name(),
        next_run = %first.map(db::rfc3339).unwrap_or_default(),
        "retentiond started"
    );
    write_reports(&daemon.config).await;
    daemon.refresh_gauges().await;
    let mut trigger = if scheduler::missed_since(&daemon.schedule, last_success, now) {
        tracing::info!(
            last_success = %last_success.map(db::rfc3339).unwrap_or_default(),
            "the last scheduled pass was missed (the host was down?): running one now"
        );
        Some(Trigger::CatchUp)
    } else {
        None
    };
    loop {
        let this = match trigger.take() {
            Some(t) => t,
            None => match daemon.wait_for_next().await {
                Some(t) => t,
                None if daemon.stopping.is_requested() => break,
                None => continue,
            },
        };
        if daemon.stopping.is_requested() {
            break;
        }
        daemon.pass(this).await;
        if daemon.stopping.is_requested() {
            break;
        }
    }
    notify(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
    tracing::info!("retentiond stopped");
    Ok(())
}

impl Daemon {
    /// The metrics endpoint and systemd's watchdog, as tasks of their own.
    async fn start_services(&mut self) -> Result<(), DaemonError> {
        if let Some(addr) = self.config.metrics_listen {
            let listener = metrics::bind(addr)
                .await
                .map_err(|error| DaemonError::Metrics { addr, error })?;
            tracing::info!(%addr, "serving metrics at /metrics");
            tokio::spawn(self.metrics.clone().serve(listener, self.leader.clone()));
        }
        self.answers = crate::api::start(
            self.published.subscribe(),
            self.metrics.clone(),
            self.leader.clone(),
        )
        .await?;
        if let Some(interval) = sd_notify::watchdog_enabled() {
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(interval / 2);
                loop {
                    tick.tick().await;
                    notify(&[NotifyState::Watchdog]);
                }
            });
        }
        Ok(())
    }

    /// Sleeps until the schedule's next time. `None` when a signal came first: a stop
    /// (see `stopping`), or a reload that may have moved the next time.
    async fn wait_for_next(&mut self) -> Option<Trigger> {
        let Some(next) = scheduler::next_after(&self.schedule, Utc::now()) else {
            tracing::error!(cron = %self.schedule.cron, "the schedule never fires again; stopping");
            self.stopping.request();
            return None;
        };
        tracing::info!(next_run = %db::rfc3339(next), "next pass scheduled");
        notify(&[NotifyState::Status(&status(&self.status_line, Some(next)))]);
        loop {
            let now = Utc::now();
            if now >= next {
                return Some(Trigger::Schedule);
            }
            if self.next_delivery.is_some_and(|at| at <= now) {
                self.deliver().await;
                continue;
            }
            let wake = self.next_delivery.map_or(next, |at| at.min(next));
            let wait = (wake - now).to_std().unwrap_or_default().min(MAX_SLEEP);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.signals.term.recv() => { self.stopping.request(); return None; }
                _ = self.signals.int.recv() => { self.stopping.request(); return None; }
                _ = self.signals.hup.recv() => {
                    if reload(&self.path, &mut self.config, &mut self.schedule) {
                        self.reloaded();
                        return None;
                    }
                }
                Some(id) = next_answer(&mut self.answers) => {
                    self.answer_erasure(id).await;
                    continue;
                }
            }
        }
    }

    /// One pass, answering signals while it runs: a stop lets the batch in flight
    /// commit, a reload waits for the pass to end.
    async fn pass(&mut self, trigger: Trigger) {
        let scheduled_at = Utc::now();
        let mut opts = PassOptions::new(trigger);
        opts.stop = self.stopping.clone();
        opts.leader = self.leader.clone();
        opts.next_run = scheduler::next_after(&self.schedule, scheduled_at).map(db::rfc3339);
        let started = Instant::now();
        let mut reload_after_pass = false;
        let result = {
            let pass = one_pass(&self.config, &opts);
            tokio::pin!(pass);
            loop {
                tokio::select! {
                    r = &mut pass => break r,
                    _ = self.signals.term.recv() => stop_after_batch(&self.stopping),
                    _ = self.signals.int.recv() => stop_after_batch(&self.stopping),
                    _ = self.signals.hup.recv() => {
                        tracing::info!("reload requested: the new configuration applies when this pass ends");
                        reload_after_pass = true;
                    }
                }
            }
        };
        if reload_after_pass && reload(&self.path, &mut self.config, &mut self.schedule) {
            self.reloaded();
        }
        self.record(&result, started.elapsed().as_secs_f64());
        // The pass sent what was due; this learns when the retries are.
        self.deliver().await;
        self.sweep_downloads().await;
        write_reports(&self.config).await;
        self.refresh_gauges().await;
        let skipped = scheduler::ticks_between(&self.schedule, scheduled_at, Utc::now());
        if skipped > 0 && trigger == Trigger::Schedule {
            tracing::warn!(
                skipped,
                "scheduled time(s) came while the pass was running; skipped, never run twice at once"
            );
        }
    }

    /// Passes on the answered requests due now to their processors, with a
    /// connection of its own, and notes when the next is due.
    async fn deliver(&mut self) {
        if self.config.processors.is_empty() {
            self.next_delivery = None;
            return;
        }
        let sent = async {
            let mut db = Db::open(&self.config.database, Access::ReadWrite).await?;
            let sent = engine::deliver_due(&mut db, &self.config, &self.sender).await;
            let _ = db.close().await;
            sent
        }
        .await;
        match sent {
            Ok((counts, next)) => {
                self.metrics.record_deliveries(&counts);
                if !counts.is_empty() {
                    self.refresh_gauges().await;
                }
                self.next_delivery = next
                    .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                    .map(|t| t.with_timezone(&Utc));
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot pass the answered requests on to the processors; trying again in a minute");
                self.next_delivery = Some(Utc::now() + chrono::TimeDelta::minutes(1));
            }
        }
    }

    /// What follows a reload: new processor clients, and the API's config.
    fn reloaded(&mut self) {
        self.sender = Sender::new(&self.config.processors);
        self.published.send_replace(Arc::new(self.config.clone()));
    }

    /// An erasure the API asked to answer now (a minor's, or the officer's),
    /// between passes, under the pass lock like any pass.
    async fn answer_erasure(&mut self, id: i64) {
        let mut opts = PassOptions::new(Trigger::Manual);
        opts.erasure_only = Some(id);
        opts.stop = self.stopping.clone();
        opts.leader = self.leader.clone();
        match one_pass(&self.config, &opts).await {
            Ok(r) => tracing::info!(
                request = id,
                status = r.status.as_str(),
                "an erasure asked through the API was answered"
            ),
            Err(e) => {
                tracing::warn!(request = id, error = %e, "an erasure asked through the API failed; the next pass answers it")
            }
        }
        self.deliver().await;
        self.refresh_gauges().await;
    }

    /// Exports waiting for download past `export_keep` are deleted.
    async fn sweep_downloads(&self) {
        let Some(http) = &self.config.http else {
            return;
        };
        let swept = async {
            let mut db = Db::open(&self.config.database, Access::ReadWrite).await?;
            let n = engine::sweep_downloads(&mut db, &http.export_dir, http.export_keep).await;
            let _ = db.close().await;
            n
        }
        .await;
        match swept {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                deleted = n,
                "exports not downloaded within export_keep were deleted"
            ),
            Err(e) => tracing::warn!(error = %e, "cannot delete the expired exports"),
        }
    }

    /// The gauges that are read rather than counted: the config's periods and
    /// interval, and the open and overdue privacy requests.
    async fn refresh_gauges(&self) {
        let now = Utc::now();
        self.metrics.set_config(&self.config, now);
        let unsent = self.config.report.as_ref();
        self.metrics
            .set_reports_unsent(unsent.map_or(0, |r| crate::report::unsent_reports(r, now).len()));
        let open = async {
            let mut db = Db::open(&self.config.database, Access::ReadOnly).await?;
            let open = db.open_requests().await;
            let failing = engine::failing_deliveries(&mut db, now).await;
            let _ = db.close().await;
            Ok::<_, DbError>((open?, failing?))
        }
        .await;
        match open {
            Ok((open, failing)) => {
                self.metrics.set_requests(&open, now);
                self.metrics.set_failing(&self.config, &failing);
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot count the open privacy requests for the metrics")
            }
        }
    }

    /// The pass's metrics and status line.
    fn record(&mut self, result: &Result<PassReport, EngineError>, seconds: f64) {
        match result {
            Ok(report) => {
                self.metrics.record(report, seconds, Utc::now());
                self.status_line = format!(
                    "last pass {} {} at {}: {} rows",
                    report.run_id.map(|id| format!("#{id}")).unwrap_or_default(),
                    report.status.as_str(),
                    report.database_now,
                    report.rows()
                );
            }
            Err(e) => {
                self.metrics.record_failure(seconds);
                tracing::error!(error = %e, "pass failed before its policies ran");
                self.status_line = format!("last pass failed at {}: {e}", db::rfc3339(Utc::now()));
            }
        }
    }
}

fn stop_after_batch(stopping: &StopSignal) {
    if !stopping.request() {
        tracing::info!(
            "stopping: the batch in flight commits, then the pass is recorded as interrupted"
        );
        notify(&[NotifyState::Stopping]);
    }
}

fn status(last: &str, next: Option<DateTime<Utc>>) -> String {
    match next {
        Some(n) => format!("{last}; next pass {}", db::rfc3339(n)),
        None => last.to_string(),
    }
}

/// Writes the last period's report if it is due and not written yet (`[report]`).
async fn write_reports(config: &Config) {
    let Some(settings) = &config.report else {
        return;
    };
    let written = async {
        let mut db = Db::open(&config.database, Access::ReadWrite).await?;
        let written = crate::report::write_due(&mut db, config, settings, Utc::now()).await;
        let _ = db.close().await;
        written
    }
    .await;
    match written {
        Ok(paths) => {
            for p in paths {
                tracing::info!(report = %p.display(), "report written");
            }
        }
        Err(e) => {
            tracing::error!(dir = %settings.dir.display(), error = %e, "writing the periodic report failed")
        }
    }
    match crate::report::mail_due(config, settings, Utc::now()).await {
        Ok(periods) => {
            for period in periods {
                tracing::info!(period = %period, to = %settings.mail_to.join(", "), "report mailed")
            }
        }
        Err(e) => tracing::warn!(error = %e, "mailing the periodic report failed"),
    }
}

/// One pass with a fresh connection, so a database restart between passes costs
/// nothing.
async fn one_pass(config: &Config, opts: &PassOptions) -> Result<PassReport, EngineError> {
    let mut db = Db::open(&config.database, Access::ReadWrite).await?;
    let report = engine::run_pass(&mut db, config, opts).await;
    if let Err(e) = db.close().await {
        tracing::debug!(error = %e, "closing the connection after the pass");
    }
    report
}

/// The next erasure the API asks for; never, without `[http]`.
async fn next_answer(answers: &mut Option<mpsc::UnboundedReceiver<i64>>) -> Option<i64> {
    match answers {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Reads the config file again. A file with problems is refused, each problem logged
/// with its line and column, and the running configuration stays in force.
fn reload(path: &Path, config: &mut Config, schedule: &mut Schedule) -> bool {
    notify(&[NotifyState::Reloading]);
    if let Ok(now) = NotifyState::monotonic_usec_now() {
        notify(&[now]);
    }
    let outcome = match config::load(path) {
        Ok(fresh) => match fresh.schedule.clone() {
            Some(s) => {
                tracing::info!(config = %path.display(), sha256 = %fresh.sha256, policies = fresh.policies.len(), "configuration reloaded");
                *schedule = s;
                *config = fresh;
                true
            }
            None => {
                tracing::error!(config = %path.display(), "reload refused: the new file has no [schedule]; the previous configuration stays in force");
                false
            }
        },
        Err(e @ ConfigError::Invalid { .. }) => {
            tracing::error!(config = %path.display(), problems = %e, "reload refused: the new file is invalid; the previous configuration stays in force");
            false
        }
        Err(e) => {
            tracing::error!(config = %path.display(), error = %e, "reload refused; the previous configuration stays in force");
            false
        }
    };
    notify(&[NotifyState::Ready]);
    outcome
}
