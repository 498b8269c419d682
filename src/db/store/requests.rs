//! `retention_erasure_requests`: the register of privacy requests (erasure, access,
//! portability), their due dates, and how each was answered: per policy for an
//! erasure, per table for an export (stored as JSON, counts only, never values).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Columns, Fields};
use crate::db::{Db, DbError, Query, SqlValue};
use crate::outcome::{ErasureOutcome, RequestKind, RequestStatus};

/// A privacy request as received.
#[derive(Debug, Clone, Serialize)]
pub struct NewRequest {
    pub kind: RequestKind,
    pub subject: String,
    pub reason: Option<String>,
    pub reference: Option<String>,
    pub minor: bool,
    pub received_at: String,
    pub due_at: String,
}

/// A privacy request as recorded.
#[derive(Debug, Clone, Serialize)]
pub struct PrivacyRequest {
    pub id: i64,
    #[serde(flatten)]
    pub received: NewRequest,
    pub status: RequestStatus,
    pub processed_at: Option<String>,
    /// An erasure's answer: per policy, what was erased and what was kept until
    /// when. Empty while open, and for exports.
    pub outcome: Vec<ErasureEntry>,
    /// An export's answer: the rows exported per table. Empty while open, and for
    /// erasures.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exported: Vec<TableCount>,
}

/// Rows of one table in an export.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TableCount {
    pub table: String,
    pub rows: u64,
}

/// What answering a request did in one policy.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ErasureEntry {
    pub policy: String,
    pub outcome: ErasureOutcome,
    pub rows: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub children: BTreeMap<String, u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For kept rows: when their period runs out and they go like any other.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_until: Option<String>,
    /// For anonymised rows: whether the subject column was anonymised too, so that
    /// nothing links the rows to the person any more.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unlinkable: bool,
}

/// The columns a record is read from.
const REQUEST_COLUMNS: &str = "id, kind, subject, reason, reference, minor, received_at, due_at, status, processed_at, outcome";

impl ErasureEntry {
    /// The entry in words, for the report and `erase`: `carts: 1 row(s) deleted`;
    /// for kept rows `orders: 2 row(s), legal obligation, until ...`, shown after
    /// `kept: `.
    pub fn describe(&self) -> String {
        let children: u64 = self.children.values().sum();
        let mut line = format!("{}: {} row(s)", self.policy, self.rows);
        if self.outcome != ErasureOutcome::Kept {
            line.push_str(&format!(" {}", self.outcome.words()));
        }
        if children > 0 {
            line.push_str(&format!(" (and {children} dependent row(s))"));
        }
        match self.outcome {
            ErasureOutcome::Anonymized if self.unlinkable => {
                line.push_str(", no longer linked to the person")
            }
            ErasureOutcome::Anonymized => {
                line.push_str(", still linked to the person by the subject column")
            }
            ErasureOutcome::Kept => {
                line.push_str(&format!(", {}", self.reason.as_deref().unwrap_or("kept")));
                if let Some(u) = &self.kept_until {
                    line.push_str(&format!(", until {u}"));
                }
            }
            ErasureOutcome::Failed => {
                line.push_str(&format!(": {}", self.reason.as_deref().unwrap_or("")))
            }
            ErasureOutcome::Deleted => {}
        }
        line
    }
}

impl PrivacyRequest {
    fn columns() -> Columns {
        Columns::new("retention_erasure_requests", REQUEST_COLUMNS)
    }

    fn decode(f: &Fields) -> Result<PrivacyRequest, DbError> {
        let id = f.int("id")?;
        let kind = f.spelled("kind", RequestKind::parse, RequestKind::spellings)?;
        let answer = f.opt_text("outcome")?;
        let (outcome, exported) = match (answer, kind.is_export()) {
            (None, _) => (Vec::new(), Vec::new()),
            (Some(json), false) => (decode_answer(id, &json)?, Vec::new()),
            (Some(json), true) => (Vec::new(), decode_answer(id, &json)?),
        };
        Ok(PrivacyRequest {
            id,
            received: NewRequest {
                kind,
                subject: f.text("subject")?,
                reason: f.opt_text("reason")?,
                reference: f.opt_text("reference")?,
                minor: f.flag("minor")?,
                received_at: f.text("received_at")?,
                due_at: f.text("due_at")?,
            },
            status: f.spelled("status", RequestStatus::parse, RequestStatus::spellings)?,
            processed_at: f.opt_text("processed_at")?,
            outcome,
            exported,
        })
    }
}

impl PrivacyRequest {
    /// Past its due date at `now` without an answer in time: still open after it,
    /// or answered after it.
    pub fn overdue(&self, now: &str) -> bool {
        match &self.processed_at {
            Some(answered) => answered.as_str() > self.received.due_at.as_str(),
            None => self.received.due_at.as_str() < now,
        }
    }
}

fn decode_answer<T: serde::de::DeserializeOwned>(id: i64, json: &str) -> Result<T, DbError> {
    serde_json::from_str(json).map_err(|e| {
        DbError::Decode(format!(
            "retention_erasure_requests.outcome of request {id} is not a list of answers: {e}"
        ))
    })
}

impl Db {
    pub async fn insert_request(&mut self, r: &NewRequest) -> Result<i64, DbError> {
        let mut q = Query::new(
            "INSERT INTO retention_erasure_requests (kind, subject, reason, reference, minor, received_at, due_at, status) VALUES (",
        );
        q.bind_list([
            SqlValue::Text(r.kind.as_str().into()),
            SqlValue::Text(r.subject.clone()),
            SqlValue::text_or_null(r.reason.clone()),
            SqlValue::text_or_null(r.reference.clone()),
            SqlValue::Int(i64::from(r.minor)),
            SqlValue::Text(r.received_at.clone()),
            SqlValue::Text(r.due_at.clone()),
            SqlValue::Text(RequestStatus::Open.as_str().into()),
        ]);
        q.push(") RETURNING id");
        self.fetch_one_int(&q).await
    }

    /// Every privacy request, oldest first.
    pub async fn privacy_requests(&mut self) -> Result<Vec<PrivacyRequest>, DbError> {
        let c = PrivacyRequest::columns();
        let q = Query::new(format!(
            "SELECT {} FROM retention_erasure_requests ORDER BY id",
            c.list()
        ));
        c.decode(self.fetch(&q).await?, PrivacyRequest::decode)
    }

    /// One request by id.
    pub async fn privacy_request(&mut self, id: i64) -> Result<Option<PrivacyRequest>, DbError> {
        let c = PrivacyRequest::columns();
        let mut q = Query::new(format!(
            "SELECT {} FROM retention_erasure_requests WHERE id = ",
            c.list()
        ));
        q.bind(SqlValue::Int(id));
        Ok(c.decode(self.fetch(&q).await?, PrivacyRequest::decode)?
            .pop())
    }

    /// The requests still to answer, every kind, oldest first.
    pub async fn open_requests(&mut self) -> Result<Vec<PrivacyRequest>, DbError> {
        let mut all = self.privacy_requests().await?;
        all.retain(|r| r.status == RequestStatus::Open);
        Ok(all)
    }

    /// The erasure requests still to answer, oldest first.
    pub async fn open_erasure_requests(&mut self) -> Result<Vec<PrivacyRequest>, DbError> {
        let mut open = self.open_requests().await?;
        open.retain(|r| r.received.kind == RequestKind::Erasure);
        Ok(open)
    }

    /// Records an erasure's answer and makes its held deliveries to processors due,
    /// in one transaction: a processor is told of an erasure once it is recorded,
    /// and always then.
    pub async fn finish_erasure(
        &mut self,
        id: i64,
        status: RequestStatus,
        processed_at: &str,
        outcome: &[ErasureEntry],
    ) -> Result<(), DbError> {
        self.write_tx(async |db: &mut Db| {
            db.finish_request(id, status, processed_at, outcome).await?;
            db.release_deliveries(id, processed_at).await.map(Some)
        })
        .await
        .map(drop)
    }

    /// Records an export's answer: the rows per table.
    pub async fn finish_export(
        &mut self,
        id: i64,
        processed_at: &str,
        exported: &[TableCount],
    ) -> Result<(), DbError> {
        self.finish_request(id, RequestStatus::Completed, processed_at, exported)
            .await
    }

    async fn finish_request(
        &mut self,
        id: i64,
        status: RequestStatus,
        processed_at: &str,
        outcome: &(impl Serialize + ?Sized),
    ) -> Result<(), DbError> {
        let outcome = serde_json::to_string(outcome)
            .map_err(|e| DbError::Decode(format!("cannot encode request {id}'s answer: {e}")))?;
        let mut q = Query::new("UPDATE retention_erasure_requests SET status = ");
        q.bind(SqlValue::Text(status.as_str().into()))
            .push(", processed_at = ")
            .bind(SqlValue::Text(processed_at.into()))
            .push(", outcome = ")
            .bind(SqlValue::Text(outcome))
            .push(" WHERE id = ")
            .bind(SqlValue::Int(id));
        self.execute(&q).await.map(drop)
    }
}
