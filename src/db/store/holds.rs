//! `retention_holds`: legal holds, as recorded. Which rows a hold keeps is decided in
//! SQL by the policy's target; whether a hold may be added is the engine's.

use super::{Columns, Fields};
use crate::db::{Db, DbError, Query, SqlValue};

/// A legal hold to record.
#[derive(Debug, Clone)]
pub struct NewHold {
    pub subject: String,
    pub reason: String,
    pub policy: Option<String>,
    pub created_at: String,
    pub until: Option<String>,
}

/// A legal hold as recorded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Hold {
    pub id: i64,
    pub subject: String,
    pub reason: String,
    pub policy: Option<String>,
    pub created_at: String,
    pub until: Option<String>,
    pub released_at: Option<String>,
    pub released_reason: Option<String>,
}

impl Hold {
    /// Whether it keeps rows at `now` (RFC 3339): not released, not past its end.
    pub fn is_active(&self, now: &str) -> bool {
        self.released_at.is_none() && self.until.as_deref().is_none_or(|u| u > now)
    }

    fn columns() -> Columns {
        Columns::new(
            "retention_holds",
            "id, subject, reason, policy, created_at, until, released_at, released_reason",
        )
    }

    fn decode(f: &Fields) -> Result<Hold, DbError> {
        Ok(Hold {
            id: f.int("id")?,
            subject: f.text("subject")?,
            reason: f.text("reason")?,
            policy: f.opt_text("policy")?,
            created_at: f.text("created_at")?,
            until: f.opt_text("until")?,
            released_at: f.opt_text("released_at")?,
            released_reason: f.opt_text("released_reason")?,
        })
    }
}

impl Db {
    pub async fn insert_hold(&mut self, h: &NewHold) -> Result<i64, DbError> {
        let mut q = Query::new(
            "INSERT INTO retention_holds (subject, reason, policy, created_at, until) VALUES (",
        );
        q.bind_list([
            SqlValue::Text(h.subject.clone()),
            SqlValue::Text(h.reason.clone()),
            SqlValue::text_or_null(h.policy.clone()),
            SqlValue::Text(h.created_at.clone()),
            SqlValue::text_or_null(h.until.clone()),
        ]);
        q.push(") RETURNING id");
        self.fetch_one_int(&q).await
    }

    /// Every hold, newest first.
    pub async fn holds(&mut self) -> Result<Vec<Hold>, DbError> {
        let c = Hold::columns();
        let q = Query::new(format!(
            "SELECT {} FROM retention_holds ORDER BY id DESC",
            c.list()
        ));
        c.decode(self.fetch(&q).await?, Hold::decode)
    }

    /// Releases an active hold; `false` if there is none with that id.
    pub async fn release_hold(
        &mut self,
        id: i64,
        at: &str,
        reason: Option<String>,
    ) -> Result<bool, DbError> {
        let mut q = Query::new("UPDATE retention_holds SET released_at = ");
        q.bind(SqlValue::Text(at.into()))
            .push(", released_reason = ")
            .bind(SqlValue::text_or_null(reason))
            .push(" WHERE id = ")
            .bind(SqlValue::Int(id))
            .push(" AND released_at IS NULL");
        Ok(self.execute(&q).await? == 1)
    }
}
