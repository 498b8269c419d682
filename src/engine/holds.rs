//! Legal holds: the rules for adding and releasing one, and their audit events.
//! Which rows a hold keeps is decided in SQL by every selection of rows to purge
//! (`db`'s target adds the same `NOT EXISTS (active hold)` test to each).

use chrono::{NaiveDate, Utc};
use serde::Serialize;

use super::journal;
use crate::audit::EventAction;
use crate::config::Config;
use crate::db::{self, Db, DbError, Hold, NewHold};

/// A hold to add, as asked for.
#[derive(Debug, Clone)]
pub struct HoldRequest {
    pub subject: String,
    pub reason: String,
    /// Only this policy; `None`: every policy with a subject column.
    pub policy: Option<String>,
    /// The last day the hold applies, `YYYY-MM-DD`; `None`: until released.
    pub until: Option<String>,
    pub actor: super::Actor,
}

/// A hold added: its id and when it ends (RFC 3339), if it does by itself.
#[derive(Debug, Clone)]
pub struct AddedHold {
    pub id: i64,
    pub until: Option<String>,
    /// The policies it covers, in words.
    pub scope: String,
}

/// A recorded hold and whether it keeps rows now.
#[derive(Debug, Clone, Serialize)]
pub struct HoldListing {
    pub active: bool,
    pub hold: Hold,
}

#[derive(Debug, thiserror::Error)]
pub enum HoldError {
    #[error("no policy named `{0}` in the config")]
    UnknownPolicy(String),
    #[error("policy `{0}` has no subject column, so it cannot hold a subject's rows")]
    NoSubject(String),
    #[error("--subject and --reason must not be empty")]
    Empty,
    #[error("--until {0:?} is not a date: write YYYY-MM-DD")]
    NotADate(String),
    #[error("--until {0} is out of range")]
    OutOfRange(String),
    #[error("no active hold #{0} (hold list shows them)")]
    NoActiveHold(i64),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl HoldError {
    /// Whether the request itself was wrong (rather than the database failing).
    pub fn is_usage(&self) -> bool {
        !matches!(self, HoldError::Db(_))
    }
}

/// Adds a hold after checking it against the config, and records it in the audit
/// trail.
pub async fn add_hold(
    db: &mut Db,
    config: &Config,
    request: HoldRequest,
) -> Result<AddedHold, HoldError> {
    if let Some(name) = &request.policy {
        match config.policy(name) {
            Some(p) if p.subject.is_some() => {}
            Some(_) => return Err(HoldError::NoSubject(name.clone())),
            None => return Err(HoldError::UnknownPolicy(name.clone())),
        }
    }
    if request.subject.trim().is_empty() || request.reason.trim().is_empty() {
        return Err(HoldError::Empty);
    }
    let until = request.until.as_deref().map(end_of_day).transpose()?;
    db.ensure_own_tables().await?;
    let now = db::rfc3339(Utc::now());
    let id = db
        .insert_hold(&NewHold {
            subject: request.subject,
            reason: request.reason,
            policy: request.policy.clone(),
            created_at: now.clone(),
            until: until.clone(),
        })
        .await?;
    let scope = request
        .policy
        .clone()
        .unwrap_or_else(|| "every policy with a subject column".into());
    let detail = format!(
        "hold #{id} added for {scope}, until {}{}",
        until.as_deref().unwrap_or("released"),
        request.actor.words()
    );
    let event = journal::outside_pass(
        EventAction::HoldAdded,
        request.policy.as_deref(),
        &now,
        detail,
    );
    journal::append(db, event).await?;
    Ok(AddedHold { id, until, scope })
}

/// A hold applies through the whole of its last day: it ends at the next midnight
/// (UTC).
fn end_of_day(day: &str) -> Result<String, HoldError> {
    let d = NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .map_err(|_| HoldError::NotADate(day.to_string()))?;
    d.succ_opt()
        .and_then(|n| n.and_hms_opt(0, 0, 0))
        .map(|n| db::rfc3339(n.and_utc()))
        .ok_or_else(|| HoldError::OutOfRange(day.to_string()))
}

/// Releases an active hold and records it; returns when it was released.
pub async fn release_hold(
    db: &mut Db,
    id: i64,
    reason: Option<String>,
    actor: &super::Actor,
) -> Result<String, HoldError> {
    db.ensure_own_tables().await?;
    let now = db::rfc3339(Utc::now());
    if !db.release_hold(id, &now, reason).await? {
        return Err(HoldError::NoActiveHold(id));
    }
    let policy = db
        .holds()
        .await?
        .into_iter()
        .find(|h| h.id == id)
        .and_then(|h| h.policy);
    let event = journal::outside_pass(
        EventAction::HoldReleased,
        policy.as_deref(),
        &now,
        format!("hold #{id} released{}", actor.words()),
    );
    journal::append(db, event).await?;
    Ok(now)
}

/// Every hold, newest first, each with whether it keeps rows now.
pub async fn list_holds(db: &mut Db) -> Result<Vec<HoldListing>, HoldError> {
    db.ensure_own_tables().await?;
    let now = db::rfc3339(Utc::now());
    Ok(db
        .holds()
        .await?
        .into_iter()
        .map(|hold| HoldListing {
            active: hold.is_active(&now),
            hold,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_lasts_through_its_last_day() {
        assert_eq!(
            end_of_day("2026-12-31").unwrap(),
            "2027-01-01T00:00:00.000Z"
        );
        assert!(matches!(
            end_of_day("31.12.2026"),
            Err(HoldError::NotADate(_))
        ));
        assert!(matches!(
            end_of_day("+262142-12-31"),
            Err(HoldError::NotADate(_) | HoldError::OutOfRange(_))
        ));
    }
}
