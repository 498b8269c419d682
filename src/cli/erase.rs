//! `retentiond erase`: register an erasure request, and answer it now when asked to
//! (or when it concerns a minor).

use serde_json::json;

use super::{EXIT_FAILURE, Format, Outcome, print_json};
use crate::config::Config;
use crate::db::{self, Access, Db};
use crate::engine::{self, ErasureAnswer, PassOptions, RequestArgs, Trigger};
use crate::outcome::{ErasureOutcome, RequestKind, RequestStatus};

/// The command's arguments.
pub(super) struct Request {
    pub subject: String,
    pub reason: Option<String>,
    pub reference: Option<String>,
    /// Answer it now rather than at the next pass.
    pub now: bool,
}

pub(super) async fn erase(config: &Config, request: Request, format: Format) -> Outcome {
    let mut db = Db::open(&config.database, Access::ReadWrite).await?;
    let args = RequestArgs {
        kind: RequestKind::Erasure,
        subject: request.subject,
        reason: request.reason,
        reference: request.reference,
        received_at: None,
        actor: engine::Actor::CommandLine,
    };
    let registered = engine::register_request(&mut db, config, args).await?;
    let (answer, deliveries) = if registered.answer_now(request.now) {
        let mut opts = PassOptions::new(Trigger::Manual);
        opts.erasure_only = Some(registered.id);
        let report = engine::run_pass(&mut db, config, &opts).await?;
        (report.erasures.into_iter().next(), Some(report.deliveries))
    } else {
        (None, None)
    };
    db.close().await?;
    let (id, due) = (registered.id, db::rfc3339(registered.due));
    match format {
        Format::Json => print_json(
            &json!({"id": id, "due": due, "minor": registered.minor, "answer": answer, "deliveries": deliveries}),
        ),
        Format::Text => match &answer {
            None => {
                println!(
                    "erasure request #{id} registered, due {due}; it is answered at the next pass"
                )
            }
            Some(a) => {
                print_answer(a);
                if let Some(d) = deliveries.filter(|d| !d.is_empty()) {
                    println!(
                        "  passed on to processors: {} accepted, {} failed (tried again later), {} with nothing to send",
                        d.delivered, d.failed, d.skipped
                    );
                }
            }
        },
    }
    Ok(match &answer {
        Some(a) if a.status == RequestStatus::Open => EXIT_FAILURE,
        _ => 0,
    })
}

/// `erase --reapply`: the ledger's erasures whose rows are back, erased again.
pub(super) async fn reapply(config: &Config, format: Format) -> Outcome {
    let mut db = Db::open(&config.database, Access::ReadWrite).await?;
    let mut opts = PassOptions::new(Trigger::Reapply);
    opts.reapply_only = true;
    let report = engine::run_pass(&mut db, config, &opts).await?;
    db.close().await?;
    let erasures = report.reapplied.as_ref().map_or(&[][..], |r| &r.erasures);
    match format {
        Format::Json => print_json(&json!({
            "ledger": config.erasure.ledger.display().to_string(),
            "run_id": report.reapplied.as_ref().map(|r| r.run_id),
            "status": report.status,
            "reapplied": erasures,
        })),
        Format::Text if report.status == crate::outcome::Status::Skipped => println!(
            "nothing re-applied: {}",
            report.error.as_deref().unwrap_or("skipped")
        ),
        Format::Text if erasures.is_empty() => println!(
            "no erased subject's rows are back in the database; nothing to re-apply ({})",
            config.erasure.ledger.display()
        ),
        Format::Text => {
            println!(
                "{} erasure(s) re-applied after the database was restored:",
                erasures.len()
            );
            for r in erasures {
                println!("  request #{}", r.request);
                for e in &r.policies {
                    println!("    {}", e.describe());
                }
            }
        }
    }
    Ok(super::exit_for(report.status))
}

fn print_answer(a: &ErasureAnswer) {
    println!("erasure request #{}: {}", a.id, a.status.words());
    for e in &a.policies {
        match e.outcome {
            ErasureOutcome::Kept => println!("  kept: {}", e.describe()),
            _ => println!("  {}", e.describe()),
        }
    }
}
