//! The one place audit events are built and appended. A batch's event is appended
//! inside the batch's own transaction, so the rows and the event that counts them
//! commit together; every other event gets a short transaction of its own, taken
//! under the same batch lock so that the chain stays one chain.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::PolicyOutcome;
use crate::audit::{EventAction, NewEvent};
use crate::db::{self, Db, DbError, Partition};
use crate::policy::Action;

/// The run id of events written outside a pass (holds, registered requests):
/// `retention_events.run_id` is NOT NULL, and passes count from 1.
pub(super) const OUTSIDE_A_PASS: i64 = 0;
/// The policy of an event that concerns every policy (a hold without `--policy`).
const EVERY_POLICY: &str = "*";
/// The table of an event that concerns no one table.
const NO_TABLE: &str = "-";

/// What a committed batch did: `rows` of the policy's table purged by `action`,
/// `children` deleted by cascade, for an erasure request or for expiry.
pub(super) struct BatchDone<'a> {
    pub run_id: i64,
    pub policy: &'a str,
    pub table: &'a str,
    pub action: Action,
    pub cutoff: Option<DateTime<Utc>>,
    pub rows: u64,
    pub children: &'a BTreeMap<String, u64>,
    /// Files of the purged rows queued for removal.
    pub files: u64,
    pub erasure: Option<i64>,
}

pub(super) fn batch(b: &BatchDone<'_>) -> NewEvent {
    NewEvent {
        run_id: b.run_id,
        created_at: db::rfc3339(Utc::now()),
        policy: b.policy.to_string(),
        table_name: b.table.to_string(),
        action: match b.action {
            Action::Delete => EventAction::Delete,
            Action::Anonymize => EventAction::Anonymize,
        },
        cutoff: b.cutoff.map(db::rfc3339),
        rows: b.rows as i64,
        children: b
            .children
            .iter()
            .map(|(k, v)| (k.clone(), *v as i64))
            .collect(),
        detail: batch_detail(b),
    }
}

/// An erasure's request and the files queued, in words, when there are any.
fn batch_detail(b: &BatchDone<'_>) -> Option<String> {
    let request = b.erasure.map(|id| format!("erasure request #{id}"));
    let files = (b.files > 0).then(|| format!("{} file(s) queued for removal", b.files));
    match (request, files) {
        (Some(r), Some(f)) => Some(format!("{r}; {f}")),
        (r, f) => r.or(f),
    }
}

/// A partition dropped whole: its rows count as deleted.
pub(super) fn partition_dropped(
    run_id: i64,
    policy: &str,
    table: &str,
    cutoff: DateTime<Utc>,
    part: &Partition,
    rows: u64,
) -> NewEvent {
    NewEvent {
        run_id,
        created_at: db::rfc3339(Utc::now()),
        policy: policy.to_string(),
        table_name: table.to_string(),
        action: EventAction::Delete,
        cutoff: Some(db::rfc3339(cutoff)),
        rows: rows as i64,
        children: BTreeMap::new(),
        detail: Some(format!(
            "partition {} dropped whole ({})",
            part.name, part.bound
        )),
    }
}

/// A policy that failed, was refused or interrupted: 0 rows, and why.
pub(super) fn policy_stopped(run_id: i64, o: &PolicyOutcome) -> NewEvent {
    let action = match o.status {
        super::Status::Refused => EventAction::Refused,
        super::Status::Interrupted => EventAction::Interrupted,
        _ => EventAction::Failed,
    };
    NewEvent {
        run_id,
        created_at: db::rfc3339(Utc::now()),
        policy: o.name.clone(),
        table_name: o.table.clone(),
        action,
        cutoff: o.cutoff.clone(),
        rows: 0,
        children: BTreeMap::new(),
        detail: o.error.clone(),
    }
}

/// Who asked for a change made outside a pass; named in its audit event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The command line, on the database's host.
    CommandLine,
    /// The request API or the review page, with the name of the token presented.
    Token(String),
}

impl Actor {
    /// What an event's detail says of who asked, after what was done.
    pub fn words(&self) -> String {
        match self {
            Actor::CommandLine => String::new(),
            Actor::Token(name) => format!(", through the API by token `{name}`"),
        }
    }
}

/// An event outside a pass (a hold added or released, a request registered), for
/// `policy` or for every policy.
pub(super) fn outside_pass(
    action: EventAction,
    policy: Option<&str>,
    at: &str,
    detail: String,
) -> NewEvent {
    NewEvent {
        run_id: OUTSIDE_A_PASS,
        created_at: at.to_string(),
        policy: policy.unwrap_or(EVERY_POLICY).to_string(),
        table_name: NO_TABLE.into(),
        action,
        cutoff: None,
        rows: 0,
        children: BTreeMap::new(),
        detail: Some(detail),
    }
}

/// Appends `event` inside the caller's open transaction, which holds the batch lock.
pub(super) async fn append_in_tx(db: &mut Db, event: NewEvent) -> Result<(), DbError> {
    let e = event.chain(db.chain_head().await?);
    db.insert_event(&e).await
}

/// Records an event for every policy outside a pass, now: for the modules above
/// the engine (a report's sign-off) that add to the chain.
pub async fn record_outside_pass(
    db: &mut Db,
    action: EventAction,
    detail: String,
) -> Result<(), DbError> {
    let now = crate::db::rfc3339(chrono::Utc::now());
    append(db, outside_pass(action, None, &now, detail)).await
}

/// Appends `event` in a transaction of its own, serialised with every batch by the
/// batch lock.
pub(super) async fn append(db: &mut Db, event: NewEvent) -> Result<(), DbError> {
    db.write_tx(async |db: &mut Db| append_in_tx(db, event).await.map(Some))
        .await
        .map(drop)
}
