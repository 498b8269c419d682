//! Answered requests passed on to the processors that hold copies of the data
//! (GDPR Art. 19). An erasure's deliveries are queued, held, before its rows go,
//! with what identifies the person read while it is still there; the transaction
//! that records the answer makes them due. A sender posts each due delivery until
//! the processor accepts it, waiting longer after each failure, across restarts;
//! every outcome is an audit event. The body is forgotten once delivered.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::journal;
use super::targets::Targets;
use crate::audit::EventAction;
use crate::config::Config;
use crate::db::{self, Db, DbError, Delivery, NewDelivery, PrivacyRequest};
use crate::outcome::DeliveryState;
use crate::processors::{Answer, ProcessorSettings, SendFrom, Sender};

/// Deliveries read at a time.
const PAGE: i64 = 50;

/// How the deliveries of one round went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryCounts {
    pub delivered: u64,
    /// Tries that failed; each is tried again later.
    pub failed: u64,
    /// Not sent: the person had nothing to identify them by in `send`.
    pub skipped: u64,
}

impl DeliveryCounts {
    pub fn is_empty(&self) -> bool {
        *self == DeliveryCounts::default()
    }
}

/// Queues a delivery of `req` to each processor told of its kind that has none
/// yet, `state` held (an erasure, before it runs) or due (an answered export).
/// A request answered again (an erasure that failed halfway) keeps the deliveries
/// and bodies it has: the rows they were read from may be gone by now.
pub(super) async fn queue(
    db: &mut Db,
    config: &Config,
    targets: &mut Targets,
    req: &PrivacyRequest,
    state: DeliveryState,
    now: DateTime<Utc>,
) -> Result<(), String> {
    let told: Vec<&ProcessorSettings> = config
        .processors
        .iter()
        .filter(|p| p.handles(req.received.kind))
        .collect();
    if told.is_empty() {
        return Ok(());
    }
    let queued = db
        .delivery_processors(req.id)
        .await
        .map_err(|e| e.to_string())?;
    for p in told.into_iter().filter(|p| !queued.contains(&p.name)) {
        let subject = identifiers(db, config, targets, p, &req.received.subject).await?;
        let key = format!("rtd_{:032x}", rand::random::<u128>());
        let nothing = subject
            .values()
            .all(|v| v.as_array().is_some_and(Vec::is_empty));
        let payload = body(req, &key, subject);
        db.queue_delivery(&NewDelivery {
            request_id: req.id,
            processor: p.name.clone(),
            idempotency_key: key,
            state: if nothing {
                DeliveryState::Skipped
            } else {
                state
            },
            payload: (!nothing).then_some(payload),
            queued_at: db::rfc3339(now),
        })
        .await
        .map_err(|e| e.to_string())?;
        if nothing {
            let detail = format!(
                "{} request #{} not passed on to processor `{}`: nothing in `send` identifies the person",
                req.received.kind, req.id, p.name
            );
            let event =
                journal::outside_pass(EventAction::ForwardSkipped, None, &db::rfc3339(now), detail);
            journal::append(db, event)
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// The body's `subject`: each `send` field with its distinct values (a list,
/// as a person may have several rows).
async fn identifiers(
    db: &mut Db,
    config: &Config,
    targets: &mut Targets,
    p: &ProcessorSettings,
    subject: &str,
) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for field in &p.send {
        let values = match &field.from {
            SendFrom::Subject => vec![subject.to_string()],
            SendFrom::Column { table, column } => {
                let policy = config
                    .policies
                    .iter()
                    .find(|q| q.subject.is_some() && q.table.name.eq_ignore_ascii_case(&table.name))
                    .ok_or_else(|| {
                        format!("no policy with a subject has table `{}`", table.name)
                    })?;
                let target = targets.get(db, config, policy).await?;
                target
                    .subject_values(db, subject, &column.name)
                    .await
                    .map_err(|e| format!("processor `{}`: {e}", p.name))?
            }
        };
        out.insert(field.name.clone(), json!(values));
    }
    Ok(out)
}

fn body(req: &PrivacyRequest, key: &str, subject: Map<String, Value>) -> String {
    let r = &req.received;
    json!({
        "id": key,
        "type": r.kind.as_str(),
        "request": {
            "id": req.id,
            "received_at": r.received_at,
            "reference": r.reference,
            "minor": r.minor,
        },
        "subject": subject,
        "sender": concat!("retentiond ", env!("CARGO_PKG_VERSION")),
    })
    .to_string()
}

/// Sends every delivery due now, each with its own client timeout. A delivery
/// another instance has taken is left to it.
pub async fn send_due(
    db: &mut Db,
    config: &Config,
    sender: &Sender,
    run_id: i64,
) -> Result<DeliveryCounts, DbError> {
    let mut counts = DeliveryCounts::default();
    if config.processors.is_empty() || !db.has_own_tables().await? {
        return Ok(counts);
    }
    let started = Utc::now();
    loop {
        let due = db.due_deliveries(&db::rfc3339(started), PAGE).await?;
        if due.is_empty() {
            break;
        }
        for d in due {
            send_one(db, config, sender, run_id, d, &mut counts).await?;
        }
    }
    Ok(counts)
}

async fn send_one(
    db: &mut Db,
    config: &Config,
    sender: &Sender,
    run_id: i64,
    d: Delivery,
    counts: &mut DeliveryCounts,
) -> Result<(), DbError> {
    let now = Utc::now();
    let Some(p) = config.processors.iter().find(|p| p.name == d.processor) else {
        // A processor taken out of the config: its deliveries wait, and `status`
        // shows them, until it comes back.
        let next = db::rfc3339(now + chrono::TimeDelta::hours(6));
        let error = format!("processor `{}` is no longer in the config", d.processor);
        db.delivery_failed(d.id, &error, &db::rfc3339(now), &next)
            .await?;
        counts.failed += 1;
        return Ok(());
    };
    // Held for longer than the try can take, so that no other instance sends it
    // meanwhile; the outcome moves it on.
    let lease = now + chrono::TimeDelta::from_std(p.timeout * 2).unwrap_or_default();
    if !db.claim_delivery(&d, &db::rfc3339(lease)).await? {
        return Ok(());
    }
    let Some(payload) = d.payload.as_deref() else {
        db.delivery_skipped(d.id).await?;
        counts.skipped += 1;
        return Ok(());
    };
    let answer = sender.post(p, &d.idempotency_key, payload, now).await;
    let at = db::rfc3339(Utc::now());
    let what = format!("request #{} to processor `{}`", d.request_id, p.name);
    let attempt = d.attempts + 1;
    let (action, detail) = match &answer {
        Answer::Accepted(status) => {
            counts.delivered += 1;
            (
                EventAction::Forwarded,
                format!("{what}: accepted, HTTP {status}, attempt {attempt}"),
            )
        }
        Answer::Failed(error) => {
            counts.failed += 1;
            (
                EventAction::ForwardFailed,
                format!("{what}: {error}, attempt {attempt}"),
            )
        }
    };
    let next =
        Utc::now() + chrono::TimeDelta::from_std(p.backoff(attempt as u32)).unwrap_or_default();
    db.write_tx(async |db: &mut Db| {
        match &answer {
            Answer::Accepted(_) => db.delivery_done(d.id, &at).await?,
            Answer::Failed(error) => {
                db.delivery_failed(d.id, error, &at, &db::rfc3339(next))
                    .await?
            }
        }
        let mut event = journal::outside_pass(action, None, &at, detail.clone());
        event.run_id = run_id;
        journal::append_in_tx(db, event).await.map(Some)
    })
    .await?;
    match &answer {
        Answer::Accepted(_) => {
            tracing::info!(request = d.request_id, processor = %p.name, attempt, "request passed on to the processor")
        }
        Answer::Failed(error) => {
            tracing::warn!(request = d.request_id, processor = %p.name, attempt, %error, next_attempt = %db::rfc3339(next), "passing the request on failed; tried again later")
        }
    }
    Ok(())
}

/// A delivery not accepted this long after its first failure is reported failing
/// (`status`, the metrics, the report).
pub const FAILING_AFTER: chrono::TimeDelta = chrono::TimeDelta::days(1);

/// The deliveries failing for longer than [`FAILING_AFTER`] at `now`.
pub async fn failing(db: &mut Db, now: DateTime<Utc>) -> Result<Vec<Delivery>, DbError> {
    if !db.has_own_tables().await? {
        return Ok(Vec::new());
    }
    db.failing_since(&db::rfc3339(now - FAILING_AFTER)).await
}
