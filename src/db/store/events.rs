//! `retention_events`: the audit trail, appended one event per committed batch and
//! read back a page at a time to verify its hash chain.

use std::collections::BTreeMap;

use super::{Columns, Fields};
use crate::audit::{Broken, Event, Verifier};
use crate::db::{Db, DbError, Query, SqlValue};
use crate::policy::Action;

/// How many events `verify_chain` reads per query.
const VERIFY_PAGE: i64 = 10_000;

/// A batch's event, as the reports count rows per day.
#[derive(Debug, Clone)]
pub struct PurgeEvent {
    pub created_at: String,
    pub policy: String,
    pub table_name: String,
    pub action: Action,
    pub rows: i64,
}

/// The columns an event is read from.
const EVENT_COLUMNS: &str = "id, run_id, created_at, policy, table_name, action, cutoff, \"rows\", children, detail, prev_hash, hash";

fn event_columns() -> Columns {
    Columns::new("retention_events", EVENT_COLUMNS)
}

/// An event as stored, whatever it says: the chain's hashes cover the text itself.
fn decode_event(f: &Fields) -> Result<Event, DbError> {
    let id = f.int("id")?;
    let children: BTreeMap<String, i64> = match f.opt_text("children")? {
        Some(json) => serde_json::from_str(&json).map_err(|e| {
            DbError::Decode(format!(
                "retention_events.children of event {id} is not a JSON object of counts: {e}"
            ))
        })?,
        None => BTreeMap::new(),
    };
    Ok(Event {
        id,
        run_id: f.int("run_id")?,
        created_at: f.text("created_at")?,
        policy: f.text("policy")?,
        table_name: f.text("table_name")?,
        action: f.text("action")?,
        cutoff: f.opt_text("cutoff")?,
        rows: f.int("rows")?,
        children,
        detail: f.opt_text("detail")?,
        prev_hash: f.text("prev_hash")?,
        hash: f.text("hash")?,
    })
}

/// The chain's last event as this connection knows it, so that a batch need not
/// read it again: after a commit, the event it wrote. Nothing else can go wrong with
/// a stale head but an id taken twice, and the insert refuses that
/// ([`DbError::ChainMoved`]), so the batch is written again with the head read anew.
#[derive(Debug, Default)]
pub(in crate::db) struct ChainHead {
    known: Option<Head>,
    /// Written in the open transaction: the head once it commits.
    written: Option<Head>,
}

/// An event's id and hash; `None` in a chain's place: the chain is empty.
type Head = Option<(i64, String)>;

impl ChainHead {
    pub(in crate::db) fn committed(&mut self) {
        if let Some(w) = self.written.take() {
            self.known = Some(w);
        }
    }

    /// After a rollback: what was written is gone, and what was known may be stale.
    pub(in crate::db) fn forget(&mut self) {
        *self = ChainHead::default();
    }
}

impl Db {
    /// The id and hash of the chain's last event.
    pub async fn chain_head(&mut self) -> Result<Option<(i64, String)>, DbError> {
        if let Some(head) = self.chain.written.clone().or(self.chain.known.clone()) {
            return Ok(head);
        }
        let c = Columns::new("retention_events", "id, hash");
        let q = Query::new("SELECT id, hash FROM retention_events ORDER BY id DESC LIMIT 1");
        let head = c.decode(self.fetch(&q).await?, |f| {
            Ok((f.int("id")?, f.text("hash")?))
        })?;
        let head = head.into_iter().next();
        self.chain.known = Some(head.clone());
        Ok(head)
    }

    /// Appends `e`, unless an event with its id or a later one exists already, or
    /// the event it follows is not there with the hash it names (a server that lost
    /// its last commits in a crash, while this connection remembered them).
    pub async fn insert_event(&mut self, e: &Event) -> Result<(), DbError> {
        let mut q = Query::new(format!(
            "INSERT INTO retention_events ({}) SELECT ",
            event_columns().list()
        ));
        q.bind_list([
            SqlValue::Int(e.id),
            SqlValue::Int(e.run_id),
            SqlValue::Text(e.created_at.clone()),
            SqlValue::Text(e.policy.clone()),
            SqlValue::Text(e.table_name.clone()),
            SqlValue::Text(e.action.clone()),
            SqlValue::text_or_null(e.cutoff.clone()),
            SqlValue::Int(e.rows),
            SqlValue::Text(e.children_json()),
            SqlValue::text_or_null(e.detail.clone()),
            SqlValue::Text(e.prev_hash.clone()),
            SqlValue::Text(e.hash.clone()),
        ]);
        q.push(self.dialect().table_for_constants());
        q.push(" WHERE NOT EXISTS (SELECT 1 FROM retention_events WHERE id >= ")
            .bind(SqlValue::Int(e.id))
            .push(")");
        if e.id > 1 {
            q.push(" AND EXISTS (SELECT 1 FROM retention_events WHERE id = ")
                .bind(SqlValue::Int(e.id - 1))
                .push(" AND hash = ")
                .bind(SqlValue::Text(e.prev_hash.clone()))
                .push(")");
        }
        if self.execute(&q).await? != 1 {
            return Err(DbError::ChainMoved);
        }
        self.chain.written = Some(Some((e.id, e.hash.clone())));
        Ok(())
    }

    /// Events with id greater than `after`, in id order, at most `limit`.
    pub async fn events_after(&mut self, after: i64, limit: i64) -> Result<Vec<Event>, DbError> {
        let c = event_columns();
        let mut q = Query::new(format!(
            "SELECT {} FROM retention_events WHERE id > ",
            c.list()
        ));
        q.bind(SqlValue::Int(after))
            .push(" ORDER BY id LIMIT ")
            .bind(SqlValue::Int(limit));
        c.decode(self.fetch(&q).await?, decode_event)
    }

    /// Every event recorded with `action`, in id order.
    pub async fn events_with_action(&mut self, action: &str) -> Result<Vec<Event>, DbError> {
        let c = event_columns();
        let mut q = Query::new(format!(
            "SELECT {} FROM retention_events WHERE action = ",
            c.list()
        ));
        q.bind(SqlValue::Text(action.into())).push(" ORDER BY id");
        c.decode(self.fetch(&q).await?, decode_event)
    }

    /// The events of batches (deletes and anonymisations) in [`from`, `to`).
    pub async fn purge_events_between(
        &mut self,
        from: &str,
        to: &str,
    ) -> Result<Vec<PurgeEvent>, DbError> {
        let c = Columns::new(
            "retention_events",
            "created_at, policy, table_name, action, \"rows\"",
        );
        let mut q = Query::new(format!(
            "SELECT {} FROM retention_events WHERE action IN (",
            c.list()
        ));
        q.bind_list([Action::Delete, Action::Anonymize].map(|a| SqlValue::Text(a.as_str().into())));
        q.push(") AND created_at >= ")
            .bind(SqlValue::Text(from.into()))
            .push(" AND created_at < ")
            .bind(SqlValue::Text(to.into()))
            .push(" ORDER BY id");
        c.decode(self.fetch(&q).await?, |f| {
            Ok(PurgeEvent {
                created_at: f.text("created_at")?,
                policy: f.text("policy")?,
                table_name: f.text("table_name")?,
                action: f.spelled("action", Action::parse, Action::spellings)?,
                rows: f.int("rows")?,
            })
        })
    }

    /// The counts of each `files_removed` event in [`from`, `to`): its policy, and
    /// how many files were removed, already gone, refused or failed.
    pub async fn file_events_between(
        &mut self,
        from: &str,
        to: &str,
    ) -> Result<Vec<(String, BTreeMap<String, i64>)>, DbError> {
        let c = Columns::new("retention_events", "id, policy, children");
        let mut q = Query::new(format!(
            "SELECT {} FROM retention_events WHERE action = 'files_removed' AND created_at >= ",
            c.list()
        ));
        q.bind(SqlValue::Text(from.into()))
            .push(" AND created_at < ")
            .bind(SqlValue::Text(to.into()))
            .push(" ORDER BY id");
        c.decode(self.fetch(&q).await?, |f| {
            let id = f.int("id")?;
            let counts = match f.opt_text("children")? {
                Some(json) => serde_json::from_str(&json).map_err(|e| {
                    DbError::Decode(format!(
                        "retention_events.children of event {id} is not a JSON object of counts: {e}"
                    ))
                })?,
                None => BTreeMap::new(),
            };
            Ok((f.text("policy")?, counts))
        })
    }

    /// Whether any batch of `policy` has done `action` (retentiond's tables must exist).
    pub async fn has_purged(&mut self, policy: &str, action: Action) -> Result<bool, DbError> {
        let mut q = Query::new(
            "SELECT count(*) FROM (SELECT 1 AS one FROM retention_events WHERE policy = ",
        );
        q.bind(SqlValue::Text(policy.into()))
            .push(" AND action = ")
            .bind(SqlValue::Text(action.as_str().into()))
            .push(" LIMIT 1) AS retentiond_n");
        Ok(self.fetch_one_int(&q).await? > 0)
    }

    /// Walks the whole audit chain a page at a time: how many events verified, and
    /// the first break if there is one.
    pub async fn verify_chain(&mut self) -> Result<(Verifier, Option<Broken>), DbError> {
        let mut verifier = Verifier::default();
        if !self.has_own_tables().await? {
            return Ok((verifier, None));
        }
        let mut after = 0;
        loop {
            let page = self.events_after(after, VERIFY_PAGE).await?;
            let Some(last) = page.last() else {
                return Ok((verifier, None));
            };
            after = last.id;
            for e in &page {
                if let Err(broken) = verifier.push(e) {
                    return Ok((verifier, Some(broken)));
                }
            }
        }
    }
}
