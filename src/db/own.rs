//! Reading and writing retentiond's own `retention_` tables: runs, per-policy results
//! and the audit events.

use std::collections::BTreeMap;

use super::{Db, DbError, Query, SqlValue};
use crate::audit::Event;

/// A pass as recorded in `retention_runs`.
#[derive(Debug, Clone)]
pub struct RunRecord {
    pub trigger: String,
    pub started_at: String,
    pub database_now: String,
    pub config_path: String,
    pub config_sha256: String,
    pub forced: bool,
}

/// One policy's outcome in one pass, as recorded in `retention_policy_runs`.
#[derive(Debug, Clone)]
pub struct PolicyRunRecord {
    pub run_id: i64,
    pub policy: String,
    pub table_name: String,
    pub action: String,
    pub cutoff: Option<String>,
    pub status: String,
    pub rows: i64,
    pub batches: i64,
    pub unreadable: i64,
    pub duration_ms: i64,
    pub error: Option<String>,
    pub held: i64,
}

/// An erasure request as recorded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ErasureRequest {
    pub id: i64,
    pub subject: String,
    pub reason: Option<String>,
    pub reference: Option<String>,
    pub minor: bool,
    pub received_at: String,
    pub due_at: String,
    pub status: String,
    pub processed_at: Option<String>,
    /// JSON: per policy, what was erased and what was kept until when.
    pub outcome: Option<String>,
}

/// A pass as the reports read it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunRow {
    pub id: i64,
    pub triggered_by: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: String,
    pub config_sha256: String,
    pub rows_purged: i64,
    pub error: Option<String>,
    pub leftovers: Option<String>,
}

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
    pub fn is_active(&self, now: &str) -> bool {
        self.released_at.is_none() && self.until.as_deref().is_none_or(|u| u > now)
    }
}

/// How a pass ended, as recorded in `retention_runs`.
#[derive(Debug, Clone)]
pub struct RunEnd {
    pub finished_at: String,
    pub status: String,
    pub rows_purged: i64,
    pub error: Option<String>,
    /// What still holds purged values (dead tuples, WAL, backups), in words.
    pub leftovers: Option<String>,
}

/// The last pass, for `status`.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub id: i64,
    pub trigger: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: String,
    pub rows_purged: i64,
}

fn text(v: &SqlValue) -> String {
    match v {
        SqlValue::Text(s) => s.clone(),
        SqlValue::Int(n) => n.to_string(),
        SqlValue::Real(x) => x.to_string(),
        SqlValue::Null => String::new(),
        SqlValue::Blob(_) => "<blob>".into(),
    }
}

fn opt_text(v: &SqlValue) -> Option<String> {
    match v {
        SqlValue::Null => None,
        other => Some(text(other)),
    }
}

fn int(v: &SqlValue) -> i64 {
    match v {
        SqlValue::Int(n) => *n,
        _ => 0,
    }
}

fn opt(v: Option<String>) -> SqlValue {
    v.map(SqlValue::Text).unwrap_or(SqlValue::Null)
}

impl Db {
    pub async fn insert_run(&mut self, r: &RunRecord) -> Result<i64, DbError> {
        let mut q = Query::new(
            "INSERT INTO retention_runs (triggered_by, started_at, database_now, config_path, config_sha256, forced, status) VALUES (",
        );
        q.bind(SqlValue::Text(r.trigger.clone())).push(", ");
        q.bind(SqlValue::Text(r.started_at.clone())).push(", ");
        q.bind(SqlValue::Text(r.database_now.clone())).push(", ");
        q.bind(SqlValue::Text(r.config_path.clone())).push(", ");
        q.bind(SqlValue::Text(r.config_sha256.clone())).push(", ");
        q.bind(SqlValue::Int(i64::from(r.forced)));
        q.push(", 'running') RETURNING id");
        self.fetch_one_int(&q).await
    }

    pub async fn finish_run(&mut self, id: i64, end: &RunEnd) -> Result<(), DbError> {
        let RunEnd {
            finished_at,
            status,
            rows_purged,
            error,
            leftovers,
        } = end.clone();
        let mut q = Query::new("UPDATE retention_runs SET leftovers = ");
        q.bind(opt(leftovers)).push(", finished_at = ");
        q.bind(SqlValue::Text(finished_at))
            .push(", status = ")
            .bind(SqlValue::Text(status))
            .push(", rows_purged = ")
            .bind(SqlValue::Int(rows_purged))
            .push(", error = ")
            .bind(opt(error))
            .push(" WHERE id = ")
            .bind(SqlValue::Int(id));
        self.execute(&q).await.map(drop)
    }

    /// Marks passes left `running` by a process that died as `abandoned`: the rows
    /// they purged are all counted in their committed events.
    pub async fn abandon_stale_runs(&mut self) -> Result<u64, DbError> {
        self.execute(&Query::new(
            "UPDATE retention_runs SET status = 'abandoned' WHERE status = 'running'",
        ))
        .await
    }

    pub async fn record_policy_run(&mut self, r: &PolicyRunRecord) -> Result<(), DbError> {
        let mut q = Query::new(
            "INSERT INTO retention_policy_runs (run_id, policy, table_name, action, cutoff, status, \"rows\", batches, unreadable, duration_ms, error, held) VALUES (",
        );
        let values = [
            SqlValue::Int(r.run_id),
            SqlValue::Text(r.policy.clone()),
            SqlValue::Text(r.table_name.clone()),
            SqlValue::Text(r.action.clone()),
            opt(r.cutoff.clone()),
            SqlValue::Text(r.status.clone()),
            SqlValue::Int(r.rows),
            SqlValue::Int(r.batches),
            SqlValue::Int(r.unreadable),
            SqlValue::Int(r.duration_ms),
            opt(r.error.clone()),
            SqlValue::Int(r.held),
        ];
        q.bind_list(values);
        q.push(")");
        self.execute(&q).await.map(drop)
    }

    /// The id and hash of the chain's last event.
    pub async fn chain_head(&mut self) -> Result<Option<(i64, String)>, DbError> {
        let rows = self
            .fetch(&Query::new(
                "SELECT id, hash FROM retention_events ORDER BY id DESC LIMIT 1",
            ))
            .await?;
        Ok(rows.first().map(|r| (int(&r[0]), text(&r[1]))))
    }

    pub async fn insert_event(&mut self, e: &Event) -> Result<(), DbError> {
        let mut q = Query::new(
            "INSERT INTO retention_events (id, run_id, created_at, policy, table_name, action, cutoff, \"rows\", children, detail, prev_hash, hash) VALUES (",
        );
        let values = [
            SqlValue::Int(e.id),
            SqlValue::Int(e.run_id),
            SqlValue::Text(e.created_at.clone()),
            SqlValue::Text(e.policy.clone()),
            SqlValue::Text(e.table_name.clone()),
            SqlValue::Text(e.action.clone()),
            opt(e.cutoff.clone()),
            SqlValue::Int(e.rows),
            SqlValue::Text(e.children_json()),
            opt(e.detail.clone()),
            SqlValue::Text(e.prev_hash.clone()),
            SqlValue::Text(e.hash.clone()),
        ];
        q.bind_list(values);
        q.push(")");
        self.execute(&q).await.map(drop)
    }

    /// Events with id greater than `after`, in id order, at most `limit`.
    pub async fn events_after(&mut self, after: i64, limit: i64) -> Result<Vec<Event>, DbError> {
        let mut q = Query::new(
            "SELECT id, run_id, created_at, policy, table_name, action, cutoff, \"rows\", children, detail, prev_hash, hash FROM retention_events WHERE id > ",
        );
        q.bind(SqlValue::Int(after))
            .push(" ORDER BY id LIMIT ")
            .bind(SqlValue::Int(limit));
        self.fetch(&q)
            .await?
            .into_iter()
            .map(|r| {
                let children: BTreeMap<String, i64> = match &r[8] {
                    SqlValue::Text(s) => serde_json::from_str(s).map_err(|e| {
                        DbError::Decode(format!("event {}: children {s:?}: {e}", int(&r[0])))
                    })?,
                    _ => BTreeMap::new(),
                };
                Ok(Event {
                    id: int(&r[0]),
                    run_id: int(&r[1]),
                    created_at: text(&r[2]),
                    policy: text(&r[3]),
                    table_name: text(&r[4]),
                    action: text(&r[5]),
                    cutoff: opt_text(&r[6]),
                    rows: int(&r[7]),
                    children,
                    detail: opt_text(&r[9]),
                    prev_hash: text(&r[10]),
                    hash: text(&r[11]),
                })
            })
            .collect()
    }

    /// When the last successful pass started.
    pub async fn last_success(&mut self) -> Result<Option<chrono::DateTime<chrono::Utc>>, DbError> {
        let rows = self
            .fetch(&Query::new(
                "SELECT max(started_at) FROM retention_runs WHERE status = 'ok'",
            ))
            .await?;
        Ok(rows
            .first()
            .and_then(|r| r[0].as_text())
            .and_then(crate::period::parse_instant))
    }

    pub async fn last_run(&mut self) -> Result<Option<RunSummary>, DbError> {
        let rows = self
            .fetch(&Query::new(
                "SELECT id, triggered_by, started_at, finished_at, status, rows_purged FROM retention_runs ORDER BY id DESC LIMIT 1",
            ))
            .await?;
        Ok(rows.first().map(|r| RunSummary {
            id: int(&r[0]),
            trigger: text(&r[1]),
            started_at: text(&r[2]),
            finished_at: opt_text(&r[3]),
            status: text(&r[4]),
            rows_purged: int(&r[5]),
        }))
    }

    /// The latest recorded outcome of each policy, with its pass's start time.
    pub async fn last_policy_runs(&mut self) -> Result<Vec<(String, PolicyRunRecord)>, DbError> {
        let rows = self
            .fetch(&Query::new(
                "SELECT r.started_at, p.run_id, p.policy, p.table_name, p.action, p.cutoff, p.status, p.\"rows\", p.batches, p.unreadable, p.duration_ms, p.error, p.held \
                 FROM retention_policy_runs p JOIN retention_runs r ON r.id = p.run_id \
                 WHERE p.run_id = (SELECT max(run_id) FROM retention_policy_runs q WHERE q.policy = p.policy) \
                 ORDER BY p.policy",
            ))
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    text(&r[0]),
                    PolicyRunRecord {
                        run_id: int(&r[1]),
                        policy: text(&r[2]),
                        table_name: text(&r[3]),
                        action: text(&r[4]),
                        cutoff: opt_text(&r[5]),
                        status: text(&r[6]),
                        rows: int(&r[7]),
                        batches: int(&r[8]),
                        unreadable: int(&r[9]),
                        duration_ms: int(&r[10]),
                        error: opt_text(&r[11]),
                        held: int(&r[12]),
                    },
                )
            })
            .collect())
    }

    /// The largest replay lag of any streaming replica, where the primary shows it
    /// (PostgreSQL's pg_stat_replication; needs pg_monitor). `None` where it cannot
    /// be read from the primary (MySQL, SQLite).
    pub async fn replica_lag(&mut self) -> Result<Option<std::time::Duration>, DbError> {
        if self.backend != super::Backend::Postgres {
            return Ok(None);
        }
        let q = Query::new(
            "SELECT CAST(coalesce(extract(epoch FROM max(replay_lag)), 0) AS float8) FROM pg_stat_replication",
        );
        let rows = self.fetch(&q).await?;
        let seconds = match rows.first().and_then(|r| r.first()) {
            Some(SqlValue::Real(x)) => *x,
            Some(SqlValue::Int(n)) => *n as f64,
            _ => 0.0,
        };
        Ok(Some(std::time::Duration::from_secs_f64(seconds.max(0.0))))
    }

    pub async fn insert_hold(&mut self, h: &NewHold) -> Result<i64, DbError> {
        let mut q = Query::new(
            "INSERT INTO retention_holds (subject, reason, policy, created_at, until) VALUES (",
        );
        q.bind_list([
            SqlValue::Text(h.subject.clone()),
            SqlValue::Text(h.reason.clone()),
            opt(h.policy.clone()),
            SqlValue::Text(h.created_at.clone()),
            opt(h.until.clone()),
        ]);
        q.push(") RETURNING id");
        self.fetch_one_int(&q).await
    }

    /// Every hold, newest first.
    pub async fn holds(&mut self) -> Result<Vec<Hold>, DbError> {
        let rows = self
            .fetch(&Query::new(
                "SELECT id, subject, reason, policy, created_at, until, released_at, released_reason FROM retention_holds ORDER BY id DESC",
            ))
            .await?;
        Ok(rows
            .iter()
            .map(|r| Hold {
                id: int(&r[0]),
                subject: text(&r[1]),
                reason: text(&r[2]),
                policy: opt_text(&r[3]),
                created_at: text(&r[4]),
                until: opt_text(&r[5]),
                released_at: opt_text(&r[6]),
                released_reason: opt_text(&r[7]),
            })
            .collect())
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
            .bind(opt(reason))
            .push(" WHERE id = ")
            .bind(SqlValue::Int(id))
            .push(" AND released_at IS NULL");
        Ok(self.execute(&q).await? == 1)
    }

    /// Passes that started in [`from`, `to`), oldest first (RFC 3339 bounds).
    pub async fn runs_between(&mut self, from: &str, to: &str) -> Result<Vec<RunRow>, DbError> {
        let mut q = Query::new(
            "SELECT id, triggered_by, started_at, finished_at, status, config_sha256, rows_purged, error, leftovers \
             FROM retention_runs WHERE started_at >= ",
        );
        q.bind(SqlValue::Text(from.into()))
            .push(" AND started_at < ")
            .bind(SqlValue::Text(to.into()))
            .push(" ORDER BY id");
        Ok(self
            .fetch(&q)
            .await?
            .iter()
            .map(|r| RunRow {
                id: int(&r[0]),
                triggered_by: text(&r[1]),
                started_at: text(&r[2]),
                finished_at: opt_text(&r[3]),
                status: text(&r[4]),
                config_sha256: text(&r[5]),
                rows_purged: int(&r[6]),
                error: opt_text(&r[7]),
                leftovers: opt_text(&r[8]),
            })
            .collect())
    }

    /// Each policy's results in the passes that started in [`from`, `to`).
    pub async fn policy_runs_between(
        &mut self,
        from: &str,
        to: &str,
    ) -> Result<Vec<PolicyRunRecord>, DbError> {
        let mut q = Query::new(
            "SELECT p.run_id, p.policy, p.table_name, p.action, p.cutoff, p.status, p.\"rows\", p.batches, p.unreadable, p.duration_ms, p.error, p.held \
             FROM retention_policy_runs p JOIN retention_runs r ON r.id = p.run_id WHERE r.started_at >= ",
        );
        q.bind(SqlValue::Text(from.into()))
            .push(" AND r.started_at < ")
            .bind(SqlValue::Text(to.into()))
            .push(" ORDER BY p.run_id");
        Ok(self
            .fetch(&q)
            .await?
            .iter()
            .map(|r| PolicyRunRecord {
                run_id: int(&r[0]),
                policy: text(&r[1]),
                table_name: text(&r[2]),
                action: text(&r[3]),
                cutoff: opt_text(&r[4]),
                status: text(&r[5]),
                rows: int(&r[6]),
                batches: int(&r[7]),
                unreadable: int(&r[8]),
                duration_ms: int(&r[9]),
                error: opt_text(&r[10]),
                held: int(&r[11]),
            })
            .collect())
    }

    /// (created_at, policy, table, action, rows) of each purge event in [`from`, `to`).
    pub async fn purge_events_between(
        &mut self,
        from: &str,
        to: &str,
    ) -> Result<Vec<(String, String, String, String, i64)>, DbError> {
        let mut q = Query::new(
            "SELECT created_at, policy, table_name, action, \"rows\" FROM retention_events WHERE action IN ('delete', 'anonymize') AND created_at >= ",
        );
        q.bind(SqlValue::Text(from.into()))
            .push(" AND created_at < ")
            .bind(SqlValue::Text(to.into()))
            .push(" ORDER BY id");
        Ok(self
            .fetch(&q)
            .await?
            .iter()
            .map(|r| {
                (
                    text(&r[0]),
                    text(&r[1]),
                    text(&r[2]),
                    text(&r[3]),
                    int(&r[4]),
                )
            })
            .collect())
    }

    /// Walks the whole audit chain a page at a time: how many events verified, and
    /// the first break if there is one.
    pub async fn verify_chain(
        &mut self,
    ) -> Result<(crate::audit::Verifier, Option<crate::audit::Broken>), DbError> {
        let mut verifier = crate::audit::Verifier::default();
        if !self.has_own_tables().await? {
            return Ok((verifier, None));
        }
        let mut after = 0;
        loop {
            let page = self.events_after(after, 10_000).await?;
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

    pub async fn insert_erasure(
        &mut self,
        subject: &str,
        reason: Option<&str>,
        reference: Option<&str>,
        minor: bool,
        received_at: &str,
        due_at: &str,
    ) -> Result<i64, DbError> {
        let mut q = Query::new(
            "INSERT INTO retention_erasure_requests (subject, reason, reference, minor, received_at, due_at, status) VALUES (",
        );
        q.bind_list([
            SqlValue::Text(subject.into()),
            opt(reason.map(str::to_string)),
            opt(reference.map(str::to_string)),
            SqlValue::Int(i64::from(minor)),
            SqlValue::Text(received_at.into()),
            SqlValue::Text(due_at.into()),
        ]);
        q.push(", 'open') RETURNING id");
        self.fetch_one_int(&q).await
    }

    /// Every erasure request, oldest first.
    pub async fn erasure_requests(&mut self) -> Result<Vec<ErasureRequest>, DbError> {
        let rows = self
            .fetch(&Query::new(
                "SELECT id, subject, reason, reference, minor, received_at, due_at, status, processed_at, outcome FROM retention_erasure_requests ORDER BY id",
            ))
            .await?;
        Ok(rows
            .iter()
            .map(|r| ErasureRequest {
                id: int(&r[0]),
                subject: text(&r[1]),
                reason: opt_text(&r[2]),
                reference: opt_text(&r[3]),
                minor: int(&r[4]) != 0,
                received_at: text(&r[5]),
                due_at: text(&r[6]),
                status: text(&r[7]),
                processed_at: opt_text(&r[8]),
                outcome: opt_text(&r[9]),
            })
            .collect())
    }

    pub async fn finish_erasure(
        &mut self,
        id: i64,
        status: &str,
        processed_at: &str,
        outcome: &str,
    ) -> Result<(), DbError> {
        let mut q = Query::new("UPDATE retention_erasure_requests SET status = ");
        q.bind(SqlValue::Text(status.into()))
            .push(", processed_at = ")
            .bind(SqlValue::Text(processed_at.into()))
            .push(", outcome = ")
            .bind(SqlValue::Text(outcome.into()))
            .push(" WHERE id = ")
            .bind(SqlValue::Int(id));
        self.execute(&q).await.map(drop)
    }

    /// Closes the connection cleanly (on SQLite this removes the `-wal`/`-shm` files).
    pub async fn close(self) -> Result<(), DbError> {
        match self.conn {
            super::Conn::Sqlite(c) => super::sqlite::close(c).await,
            super::Conn::Postgres(c) => super::postgres::close(c).await,
            super::Conn::MySql(c) => super::mysql::close(c).await,
        }
    }
}
