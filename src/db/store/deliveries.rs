//! `retention_deliveries`: answered requests passed on to processors, one row per
//! (request, processor), with the body to send until it is delivered and the
//! history of its tries. Which delivery to send when is the engine's.

use super::{Columns, Fields};
use crate::db::{Db, DbError, Query, SqlValue};
use crate::outcome::DeliveryState;

/// A delivery to queue.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub request_id: i64,
    pub processor: String,
    pub idempotency_key: String,
    pub state: DeliveryState,
    /// The JSON body; none when there is nothing to send.
    pub payload: Option<String>,
    pub queued_at: String,
}

/// A delivery as recorded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Delivery {
    pub id: i64,
    pub request_id: i64,
    pub processor: String,
    pub idempotency_key: String,
    pub state: DeliveryState,
    /// The body, until it is delivered; never printed.
    #[serde(skip)]
    pub payload: Option<String>,
    pub attempts: i64,
    pub queued_at: String,
    pub next_attempt_at: Option<String>,
    pub first_failed_at: Option<String>,
    pub last_error: Option<String>,
    pub delivered_at: Option<String>,
}

/// The columns a record is read from.
const DELIVERY_COLUMNS: &str = "id, request_id, processor, idempotency_key, state, payload, attempts, queued_at, next_attempt_at, first_failed_at, last_error, delivered_at";

impl Delivery {
    fn columns() -> Columns {
        Columns::new("retention_deliveries", DELIVERY_COLUMNS)
    }

    fn decode(f: &Fields) -> Result<Delivery, DbError> {
        Ok(Delivery {
            id: f.int("id")?,
            request_id: f.int("request_id")?,
            processor: f.text("processor")?,
            idempotency_key: f.text("idempotency_key")?,
            state: f.spelled("state", DeliveryState::parse, DeliveryState::spellings)?,
            payload: f.opt_text("payload")?,
            attempts: f.int("attempts")?,
            queued_at: f.text("queued_at")?,
            next_attempt_at: f.opt_text("next_attempt_at")?,
            first_failed_at: f.opt_text("first_failed_at")?,
            last_error: f.opt_text("last_error")?,
            delivered_at: f.opt_text("delivered_at")?,
        })
    }
}

impl Db {
    /// Queues `d`; due at once unless held.
    pub async fn queue_delivery(&mut self, d: &NewDelivery) -> Result<(), DbError> {
        let next = (d.state == DeliveryState::Due).then(|| d.queued_at.clone());
        let mut q = Query::new(
            "INSERT INTO retention_deliveries (request_id, processor, idempotency_key, state, payload, queued_at, next_attempt_at) VALUES (",
        );
        q.bind_list([
            SqlValue::Int(d.request_id),
            SqlValue::Text(d.processor.clone()),
            SqlValue::Text(d.idempotency_key.clone()),
            SqlValue::Text(d.state.as_str().into()),
            d.payload.clone().map_or(SqlValue::Null, SqlValue::Text),
            SqlValue::Text(d.queued_at.clone()),
            next.map_or(SqlValue::Null, SqlValue::Text),
        ])
        .push(")");
        self.execute(&q).await.map(drop)
    }

    /// The processors `request` already has a delivery for.
    pub async fn delivery_processors(&mut self, request: i64) -> Result<Vec<String>, DbError> {
        let mut q = Query::new("SELECT processor FROM retention_deliveries WHERE request_id = ");
        q.bind(SqlValue::Int(request));
        let rows = self.fetch(&q).await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| r.into_iter().next().and_then(|v| v.to_text()))
            .collect())
    }

    /// Makes `request`'s held deliveries due at `at`, in the caller's transaction
    /// (the one that records the request's answer).
    pub async fn release_deliveries(&mut self, request: i64, at: &str) -> Result<(), DbError> {
        let mut q = Query::new("UPDATE retention_deliveries SET state = ");
        q.bind(SqlValue::Text(DeliveryState::Due.as_str().into()))
            .push(", next_attempt_at = ")
            .bind(SqlValue::Text(at.into()))
            .push(" WHERE request_id = ")
            .bind(SqlValue::Int(request))
            .push(" AND state = ")
            .bind(SqlValue::Text(DeliveryState::Held.as_str().into()));
        self.execute(&q).await.map(drop)
    }

    /// Up to `limit` deliveries due at `now`, with their bodies, the longest
    /// waiting first.
    pub async fn due_deliveries(
        &mut self,
        now: &str,
        limit: i64,
    ) -> Result<Vec<Delivery>, DbError> {
        let c = Delivery::columns();
        let mut q = Query::new(format!(
            "SELECT {} FROM retention_deliveries WHERE state = ",
            c.list()
        ));
        q.bind(SqlValue::Text(DeliveryState::Due.as_str().into()))
            .push(" AND next_attempt_at <= ")
            .bind(SqlValue::Text(now.into()))
            .push(" ORDER BY next_attempt_at, id LIMIT ")
            .bind(SqlValue::Int(limit));
        c.decode(self.fetch(&q).await?, Delivery::decode)
    }

    /// When the next due delivery is, if any.
    pub async fn next_delivery_at(&mut self) -> Result<Option<String>, DbError> {
        let mut q =
            Query::new("SELECT min(next_attempt_at) FROM retention_deliveries WHERE state = ");
        q.bind(SqlValue::Text(DeliveryState::Due.as_str().into()));
        let rows = self.fetch(&q).await?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
            .and_then(|v| v.to_text()))
    }

    /// Takes delivery `d` for one try: moves its next attempt to `until`, unless
    /// another instance took it first (its next attempt is no longer `d`'s).
    pub async fn claim_delivery(&mut self, d: &Delivery, until: &str) -> Result<bool, DbError> {
        let mut q = Query::new("UPDATE retention_deliveries SET next_attempt_at = ");
        q.bind(SqlValue::Text(until.into()))
            .push(" WHERE id = ")
            .bind(SqlValue::Int(d.id))
            .push(" AND state = ")
            .bind(SqlValue::Text(DeliveryState::Due.as_str().into()))
            .push(" AND next_attempt_at = ")
            .bind(SqlValue::Text(
                d.next_attempt_at.clone().unwrap_or_default(),
            ));
        Ok(self.execute(&q).await? == 1)
    }

    /// Records that the processor accepted delivery `id`, and forgets its body.
    pub async fn delivery_done(&mut self, id: i64, at: &str) -> Result<(), DbError> {
        let mut q = Query::new("UPDATE retention_deliveries SET state = ");
        q.bind(SqlValue::Text(DeliveryState::Delivered.as_str().into()))
            .push(", payload = NULL, next_attempt_at = NULL, attempts = attempts + 1, delivered_at = ")
            .bind(SqlValue::Text(at.into()))
            .push(" WHERE id = ")
            .bind(SqlValue::Int(id));
        self.execute(&q).await.map(drop)
    }

    /// Records a failed try of delivery `id` at `at`; the next is at `next`.
    pub async fn delivery_failed(
        &mut self,
        id: i64,
        error: &str,
        at: &str,
        next: &str,
    ) -> Result<(), DbError> {
        let mut q = Query::new(
            "UPDATE retention_deliveries SET attempts = attempts + 1, first_failed_at = COALESCE(first_failed_at, ",
        );
        q.bind(SqlValue::Text(at.into()))
            .push("), last_error = ")
            .bind(SqlValue::Text(error.into()))
            .push(", next_attempt_at = ")
            .bind(SqlValue::Text(next.into()))
            .push(" WHERE id = ")
            .bind(SqlValue::Int(id));
        self.execute(&q).await.map(drop)
    }

    /// Records that delivery `id` has nothing to send, and forgets its body.
    pub async fn delivery_skipped(&mut self, id: i64) -> Result<(), DbError> {
        let mut q = Query::new("UPDATE retention_deliveries SET state = ");
        q.bind(SqlValue::Text(DeliveryState::Skipped.as_str().into()))
            .push(", payload = NULL, next_attempt_at = NULL WHERE id = ")
            .bind(SqlValue::Int(id));
        self.execute(&q).await.map(drop)
    }

    /// The deliveries of `requests` (of every request when `None`).
    pub async fn deliveries(&mut self, requests: Option<&[i64]>) -> Result<Vec<Delivery>, DbError> {
        let c = Delivery::columns();
        let mut q = Query::new(format!("SELECT {} FROM retention_deliveries", c.list()));
        if let Some(ids) = requests {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            q.push(" WHERE request_id IN (")
                .bind_list(ids.iter().map(|id| SqlValue::Int(*id)))
                .push(")");
        }
        q.push(" ORDER BY request_id, processor");
        c.decode(self.fetch(&q).await?, Delivery::decode)
    }

    /// The deliveries not delivered yet whose first failure is older than `before`.
    pub async fn failing_since(&mut self, before: &str) -> Result<Vec<Delivery>, DbError> {
        let c = Delivery::columns();
        let mut q = Query::new(format!(
            "SELECT {} FROM retention_deliveries WHERE state = ",
            c.list()
        ));
        q.bind(SqlValue::Text(DeliveryState::Due.as_str().into()))
            .push(" AND first_failed_at < ")
            .bind(SqlValue::Text(before.into()))
            .push(" ORDER BY first_failed_at");
        c.decode(self.fetch(&q).await?, Delivery::decode)
    }
}
