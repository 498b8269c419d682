//! What `status` shows, gathered once for both doors: the command line prints it,
//! the API's `GET /v1/status` and the review page serve it.

use chrono::Utc;
use serde_json::json;

use crate::config::Config;
use crate::db::{self, Access, Db, DbError, Delivery, LastPolicyRun, Leader, PrivacyRequest, Run};
use crate::engine;
use crate::outcome::{RequestKind, RunStatus};
use crate::report::{unsent_reports, written_reports};
use crate::scheduler;

/// Everything `status` shows.
pub struct StatusView {
    pub recorded: Recorded,
    pub next: Option<chrono::DateTime<Utc>>,
    /// Per policy of the config, its last run, as JSON.
    pub policies: Vec<serde_json::Value>,
    /// The database, without its password.
    pub database: String,
}

/// What `status` reads from retentiond's tables (nothing when they do not exist).
#[derive(Default)]
pub struct Recorded {
    pub last: Option<Run>,
    pub per_policy: Vec<LastPolicyRun>,
    pub open_requests: Vec<PrivacyRequest>,
    /// Whether an instance holds the pass lock, and its pass when recorded.
    pub lock_held: bool,
    pub holder: Option<Run>,
    /// On a Galera cluster, the pass lease: whose it is and until when.
    pub lease: Option<db::Lease>,
    /// Files of purged rows still waiting for their store.
    pub files_queued: i64,
    /// Deliveries to processors failing for over a day.
    pub failing: Vec<Delivery>,
}

/// Reads what `status` shows; the database is opened read-only and closed.
pub async fn gather(config: &Config) -> Result<StatusView, DbError> {
    let mut db = Db::open(&config.database, Access::ReadOnly).await?;
    let lock_held = Leader::is_held(&mut db, &config.database).await?;
    let lease = match db.galera().await? {
        Some(_) if db.has_own_tables().await? => db.pass_lease().await?.filter(|l| l.live),
        _ => None,
    };
    let recorded = if db.has_own_tables().await? {
        Recorded {
            last: db.last_run().await?,
            per_policy: db.last_policy_runs().await?,
            open_requests: overdue_first(db.open_requests().await?, db.now().await?),
            lock_held,
            // On a cluster, the run of the lease's holder only: another node's
            // run left marked running is not the pass that holds the lock.
            holder: if lock_held {
                db.running_run().await?.filter(|r| {
                    lease
                        .as_ref()
                        .is_none_or(|l| r.instance.as_deref() == Some(l.holder.as_str()))
                })
            } else {
                None
            },
            lease,
            files_queued: db.count_queued_files().await?,
            failing: engine::failing_deliveries(&mut db, Utc::now()).await?,
        }
    } else {
        Recorded {
            lock_held,
            ..Recorded::default()
        }
    };
    let next = config
        .schedule
        .as_ref()
        .and_then(|s| scheduler::next_after(s, Utc::now()));
    let policies: Vec<serde_json::Value> = config
        .policies
        .iter()
        .map(|p| {
            let last = recorded.per_policy.iter().find(|l| l.run.policy == p.name);
            json!({
                "name": p.name,
                "table": p.table.name,
                "action": p.action,
                "last_run_id": last.map(|l| l.run.run_id),
                "last_run_at": last.map(|l| l.started_at.clone()),
                "last_status": last.map(|l| l.run.status),
                "last_rows": last.map(|l| l.run.rows),
                "last_error": last.and_then(|l| l.run.error.clone()),
            })
        })
        .collect();
    let label = db.label().to_string();
    let _ = db.close().await;
    Ok(StatusView {
        recorded,
        next,
        policies,
        database: label,
    })
}

/// `status --format json`, and the API's `GET /v1/status`.
pub fn json(config: &Config, view: &StatusView) -> serde_json::Value {
    let (recorded, next) = (&view.recorded, view.next);
    let now_text = db::rfc3339(Utc::now());
    json!({
        "database": view.database,
        "last_run": recorded.last.as_ref().map(|r| json!({
            "id": r.id, "trigger": r.trigger, "started_at": r.started_at,
            "finished_at": r.finished_at, "status": r.status, "rows": r.rows_purged,
            "success": r.status == RunStatus::Ok,
        })),
        "pass_lock": json!({
            "held": recorded.lock_held,
            "instance": recorded.holder.as_ref().and_then(|r| r.instance.clone()),
            "run_id": recorded.holder.as_ref().map(|r| r.id),
            "since": recorded.holder.as_ref().map(|r| r.started_at.clone()),
            "lease_holder": recorded.lease.as_ref().map(|l| l.holder.clone()),
            "lease_expires_at": recorded.lease.as_ref().map(|l| l.expires_at.clone()),
        }),
        "next_run": next.map(db::rfc3339),
        "schedule": config.schedule.as_ref().map(|s| json!({"cron": s.cron, "timezone": s.timezone.name()})),
        "reports": config.report.as_ref().map(|r| json!({"dir": r.dir.display().to_string(), "files": written_reports(&r.dir), "unsent": unsent_reports(r, Utc::now())})),
        "open_erasure_requests": recorded.open_requests.iter().filter(|r| r.received.kind == RequestKind::Erasure).map(|r| json!({"id": r.id, "received_at": r.received.received_at, "due_at": r.received.due_at, "minor": r.received.minor})).collect::<Vec<_>>(),
        "open_requests": recorded.open_requests.iter().map(|r| json!({"id": r.id, "kind": r.received.kind, "received_at": r.received.received_at, "due_at": r.received.due_at, "minor": r.received.minor, "overdue": r.overdue(&now_text)})).collect::<Vec<_>>(),
        "files_queued": recorded.files_queued,
        "deliveries_failing": recorded.failing.iter().map(|d| json!({"request": d.request_id, "processor": d.processor, "attempts": d.attempts, "first_failed_at": d.first_failed_at, "next_attempt_at": d.next_attempt_at, "last_error": d.last_error})).collect::<Vec<_>>(),
        "policies": view.policies,
    })
}

/// Open requests, the overdue ones first, each group oldest first.
pub fn overdue_first(
    mut open: Vec<PrivacyRequest>,
    now: chrono::DateTime<Utc>,
) -> Vec<PrivacyRequest> {
    let now = db::rfc3339(now);
    open.sort_by_key(|r| (!r.overdue(&now), r.received.due_at.clone()));
    open
}
