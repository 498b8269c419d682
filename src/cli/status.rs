//! `status` (the last pass per policy, the next one, open requests, reports) and
//! `audit verify`.

use chrono::Utc;
use serde_json::json;

use super::{EXIT_FAILURE, Format, Outcome, print_json};
use crate::config::Config;
use crate::db::{self, Access, Db, Delivery, LastPolicyRun, Leader, PrivacyRequest, Run};
use crate::engine;
use crate::outcome::{RequestKind, RunStatus};
use crate::report::{unsent_reports, written_reports};
use crate::scheduler;

/// What `status` reads from retentiond's tables (nothing when they do not exist).
#[derive(Default)]
struct Recorded {
    last: Option<Run>,
    per_policy: Vec<LastPolicyRun>,
    open_requests: Vec<PrivacyRequest>,
    /// Whether an instance holds the pass lock, and its pass when recorded.
    lock_held: bool,
    holder: Option<Run>,
    /// On a Galera cluster, the pass lease: whose it is and until when.
    lease: Option<db::Lease>,
    /// Files of purged rows still waiting for their store.
    files_queued: i64,
    /// Deliveries to processors failing for over a day.
    failing: Vec<Delivery>,
}

pub(super) async fn status(config: &Config, format: Format) -> Outcome {
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
    match format {
        Format::Json => print_json(&status_json(config, &db, &recorded, next, policies)),
        Format::Text => print_text(config, &db, &recorded, next, &policies),
    }
    Ok(0)
}

fn status_json(
    config: &Config,
    db: &Db,
    recorded: &Recorded,
    next: Option<chrono::DateTime<Utc>>,
    policies: Vec<serde_json::Value>,
) -> serde_json::Value {
    let now_text = db::rfc3339(Utc::now());
    json!({
        "database": db.label(),
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
        "policies": policies,
    })
}

/// The pass lock as `status` says it: a cluster's lease, the instance and pass
/// holding the lock, or free.
fn pass_lock_line(recorded: &Recorded) -> String {
    match (&recorded.holder, recorded.lock_held) {
        _ if let Some(l) = &recorded.lease => format!(
            "pass lock  a lease held by {} until {}{}",
            l.holder,
            l.expires_at,
            recorded.holder.as_ref().map_or(String::new(), |r| format!(
                " (pass #{} since {})",
                r.id, r.started_at
            ))
        ),
        (Some(r), true) => format!(
            "pass lock  held by {} (pass #{} since {})",
            r.instance
                .as_deref()
                .unwrap_or("an instance that did not record its name"),
            r.id,
            r.started_at
        ),
        (None, true) => "pass lock  held (its pass is not recorded yet)".into(),
        (_, false) => "pass lock  free: no pass is running".into(),
    }
}

fn print_text(
    config: &Config,
    db: &Db,
    recorded: &Recorded,
    next: Option<chrono::DateTime<Utc>>,
    policies: &[serde_json::Value],
) {
    match &recorded.last {
        Some(r) => println!(
            "last pass  #{} ({}) started {}, {}, {} rows{}",
            r.id,
            r.trigger,
            r.started_at,
            r.status.words(),
            r.rows_purged,
            if r.status == RunStatus::Ok {
                ""
            } else {
                " (not a success)"
            }
        ),
        None => println!("last pass  none recorded in {}", db.label()),
    }
    println!("{}", pass_lock_line(recorded));
    match (&config.schedule, next) {
        (Some(s), Some(n)) => println!(
            "next pass  {} ({} {})",
            db::rfc3339(n),
            s.cron,
            s.timezone.name()
        ),
        _ => println!("next pass  no [schedule] in {}", config.path.display()),
    }
    let now = db::rfc3339(Utc::now());
    for r in &recorded.open_requests {
        println!(
            "{:<10} request #{} received {}, due {}{}{}",
            r.received.kind.as_str(),
            r.id,
            r.received.received_at,
            r.received.due_at,
            if r.received.minor { " (minor)" } else { "" },
            if r.overdue(&now) { " OVERDUE" } else { "" }
        );
    }
    if recorded.files_queued > 0 {
        println!(
            "files      {} of purged rows still queued for removal (their store did not answer; every pass tries again)",
            recorded.files_queued
        );
    }
    for d in &recorded.failing {
        println!(
            "processor  `{}` has not accepted request #{} since {} ({} tries, last: {}); next try {}",
            d.processor,
            d.request_id,
            d.first_failed_at.as_deref().unwrap_or("-"),
            d.attempts,
            d.last_error.as_deref().unwrap_or("-"),
            d.next_attempt_at.as_deref().unwrap_or("-")
        );
    }
    if let Some(r) = &config.report {
        let files = written_reports(&r.dir);
        println!(
            "reports    {} ({} file(s){})",
            r.dir.display(),
            files.len(),
            files
                .last()
                .map(|f| format!(", newest {f}"))
                .unwrap_or_default()
        );
        for label in unsent_reports(r, Utc::now()) {
            println!("unsent     report {label}: not mailed yet, tried again after each pass");
        }
    }
    println!(
        "{:<20} {:<20} {:<26} {:<12} {:>9}",
        "POLICY", "TABLE", "LAST RUN", "STATUS", "ROWS"
    );
    for p in policies {
        println!(
            "{:<20} {:<20} {:<26} {:<12} {:>9}",
            p["name"].as_str().unwrap_or(""),
            p["table"].as_str().unwrap_or(""),
            p["last_run_at"].as_str().unwrap_or("never"),
            p["last_status"].as_str().unwrap_or("-"),
            p["last_rows"]
                .as_i64()
                .map(|n| n.to_string())
                .unwrap_or_else(|| "-".into()),
        );
    }
}

/// Open requests, the overdue ones first, each group oldest first.
fn overdue_first(mut open: Vec<PrivacyRequest>, now: chrono::DateTime<Utc>) -> Vec<PrivacyRequest> {
    let now = db::rfc3339(now);
    open.sort_by_key(|r| (!r.overdue(&now), r.received.due_at.clone()));
    open
}

pub(super) async fn audit_verify(config: &Config, format: Format) -> Outcome {
    let mut db = Db::open(&config.database, Access::ReadOnly).await?;
    let (verifier, broken) = db.verify_chain().await?;
    let ledger = engine::check_ledger(&mut db, config).await?;
    match format {
        Format::Json => print_json(&json!({
            "ok": broken.is_none() && ledger.broken.is_none(),
            "verified": verifier.verified,
            "head": verifier.head(),
            "broken": broken.as_ref().map(|b| b.to_string()),
            "ledger": ledger,
            "restore_detected": !ledger.missing.is_empty(),
        })),
        Format::Text => {
            match &broken {
                None => println!(
                    "audit trail intact: {} events verified{}",
                    verifier.verified,
                    verifier
                        .head()
                        .map(|h| format!(", head {h}"))
                        .unwrap_or_default()
                ),
                Some(b) => println!(
                    "audit trail broken: {b} ({} events before it verified)",
                    verifier.verified
                ),
            }
            print_ledger(&ledger);
        }
    }
    let intact = broken.is_none() && ledger.broken.is_none();
    Ok(if intact { 0 } else { EXIT_FAILURE })
}

fn print_ledger(l: &engine::LedgerCheck) {
    match &l.broken {
        Some(b) => println!("erasure ledger broken: {b}"),
        None => println!(
            "erasure ledger intact: {} line(s), {} erasure(s), {} re-applied{} ({})",
            l.lines,
            l.erasures,
            l.reapplied,
            l.head
                .as_deref()
                .map(|h| format!(", head {h}"))
                .unwrap_or_default(),
            l.path
        ),
    }
    if !l.missing.is_empty() {
        let ids: Vec<String> = l.missing.iter().map(|id| format!("#{id}")).collect();
        println!(
            "restore detected: the database's erasure register is shorter than the ledger: {} answered erasure(s) ({}) are not in it, the newest answered {}; the database was restored from a backup taken before then. Every pass erases those subjects again; `retentiond erase --reapply` does it now",
            l.missing.len(),
            ids.join(", "),
            l.newest_missing_at.as_deref().unwrap_or("-")
        );
    }
}
