//! `retentiond hold add|list|release`: legal holds.

use serde_json::json;

use super::{Failure, Format, HoldCommand, Outcome, print_json};
use crate::config::Config;
use crate::db::{Access, Db};
use crate::engine::{self, HoldError, HoldRequest};

impl From<HoldError> for Failure {
    fn from(e: HoldError) -> Failure {
        match e {
            HoldError::Db(e) => e.into(),
            usage => Failure::usage(usage),
        }
    }
}

pub(super) async fn hold(config: &Config, command: HoldCommand) -> Outcome {
    let mut db = Db::open(&config.database, Access::ReadWrite).await?;
    match command {
        HoldCommand::Add {
            subject,
            reason,
            policy,
            until,
            format,
        } => {
            let request = HoldRequest {
                subject,
                reason,
                policy: policy.clone(),
                until,
                actor: engine::Actor::CommandLine,
            };
            let added = engine::add_hold(&mut db, config, request).await?;
            let until = added.until.as_deref().unwrap_or("released");
            match format {
                Format::Json => {
                    print_json(&json!({"id": added.id, "policy": policy, "until": added.until}))
                }
                Format::Text => {
                    println!(
                        "hold #{} added for {}, until {until}",
                        added.id, added.scope
                    )
                }
            }
        }
        HoldCommand::List { format } => list(&mut db, format).await?,
        HoldCommand::Release { id, reason, format } => {
            let released_at =
                engine::release_hold(&mut db, id, reason, &engine::Actor::CommandLine).await?;
            match format {
                Format::Json => print_json(&json!({"id": id, "released_at": released_at})),
                Format::Text => {
                    println!("hold #{id} released; rows whose period ran out go at the next pass")
                }
            }
        }
    }
    db.close().await?;
    Ok(0)
}

async fn list(db: &mut Db, format: Format) -> Result<(), Failure> {
    let holds = engine::list_holds(db).await?;
    match format {
        Format::Json => print_json(&holds),
        Format::Text => {
            println!(
                "{:>5}  {:<8}  {:<20}  {:<16}  {:<24}  REASON",
                "ID", "STATE", "SUBJECT", "POLICY", "UNTIL"
            );
            for l in &holds {
                let h = &l.hold;
                let end = match (&h.released_at, &h.until) {
                    (Some(r), _) => format!("released {r}"),
                    (None, Some(u)) => u.clone(),
                    (None, None) => "released by hand".into(),
                };
                println!(
                    "{:>5}  {:<8}  {:<20}  {:<16}  {:<24}  {}",
                    h.id,
                    if l.active { "active" } else { "ended" },
                    h.subject,
                    h.policy.as_deref().unwrap_or("(all)"),
                    end,
                    h.reason
                );
            }
        }
    }
    Ok(())
}
