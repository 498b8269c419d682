//! `status` (the last pass per policy, the next one, open requests, reports) and
//! `audit verify`.

use chrono::Utc;
use serde_json::json;

use super::{EXIT_FAILURE, Format, Outcome, print_json};
use crate::config::Config;
use crate::db::{self, Access, Db};
use crate::engine;
use crate::outcome::RunStatus;
use crate::report::signoff::{self, FileState, SignedFile};
use crate::report::{unsent_reports, written_reports};
use crate::status::{Recorded, StatusView};

pub(super) async fn status(config: &Config, format: Format) -> Outcome {
    let view = crate::status::gather(config).await?;
    match format {
        Format::Json => print_json(&crate::status::json(config, &view)),
        Format::Text => print_text(config, &view),
    }
    Ok(0)
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

fn print_text(config: &Config, view: &StatusView) {
    let (recorded, next, policies) = (&view.recorded, view.next, &view.policies);
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
        None => println!("last pass  none recorded in {}", view.database),
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

pub(super) async fn audit_verify(config: &Config, format: Format) -> Outcome {
    let mut db = Db::open(&config.database, Access::ReadOnly).await?;
    let (verifier, broken) = db.verify_chain().await?;
    let ledger = engine::check_ledger(&mut db, config).await?;
    let sign_offs = signoff::sign_offs(&mut db).await?;
    let signed = config
        .report
        .as_ref()
        .map(|r| signoff::check(r, &sign_offs))
        .unwrap_or_default();
    let changed = signed.iter().any(|f| f.state == FileState::Changed);
    match format {
        Format::Json => print_json(&json!({
            "ok": broken.is_none() && ledger.broken.is_none() && !changed,
            "sign_offs": sign_offs.len(),
            "signed_files": signed,
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
            print_signed(sign_offs.len(), &signed);
        }
    }
    let intact = broken.is_none() && ledger.broken.is_none() && !changed;
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

fn print_signed(sign_offs: usize, signed: &[SignedFile]) {
    if sign_offs == 0 {
        return;
    }
    let intact = signed
        .iter()
        .filter(|f| f.state == FileState::Intact)
        .count();
    println!(
        "report sign-offs: {sign_offs}, {intact} of {} signed file(s) as signed",
        signed.len()
    );
    for f in signed.iter().filter(|f| f.state != FileState::Intact) {
        match f.state {
            FileState::Changed => println!(
                "  report {}: {} CHANGED after its sign-off",
                f.label, f.file
            ),
            _ => println!(
                "  report {}: {} is no longer in the report folder (cannot be checked)",
                f.label, f.file
            ),
        }
    }
}
