//! `retention_runs` (one row per pass) and `retention_policy_runs` (one row per
//! policy per pass).

use super::{Columns, Fields};
use crate::db::{Db, DbError, Query, SqlValue};
use crate::outcome::{RunStatus, Status, Trigger};
use crate::policy::Action;

/// A pass about to start, as recorded in `retention_runs`.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub trigger: Trigger,
    pub started_at: String,
    pub database_now: String,
    pub config_path: String,
    pub config_sha256: String,
    pub forced: bool,
    /// Which instance runs it: host name and process id.
    pub instance: String,
}

/// How a pass ended.
#[derive(Debug, Clone)]
pub struct RunEnd {
    pub finished_at: String,
    pub status: Status,
    pub rows_purged: i64,
    pub error: Option<String>,
    /// What still holds purged values (dead tuples, WAL, backups), in words.
    pub leftovers: Option<String>,
}

/// A recorded pass.
#[derive(Debug, Clone)]
pub struct Run {
    pub id: i64,
    pub trigger: Trigger,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: RunStatus,
    pub config_sha256: String,
    pub rows_purged: i64,
    pub error: Option<String>,
    pub leftovers: Option<String>,
    /// The instance that ran it (`None` for passes before retentiond recorded it).
    pub instance: Option<String>,
}

impl Run {
    fn columns() -> Columns {
        Columns::new(
            "retention_runs",
            "id, triggered_by, started_at, finished_at, status, config_sha256, rows_purged, error, leftovers, instance",
        )
    }

    fn decode(f: &Fields) -> Result<Run, DbError> {
        Ok(Run {
            id: f.int("id")?,
            trigger: f.spelled("triggered_by", Trigger::parse, Trigger::spellings)?,
            started_at: f.text("started_at")?,
            finished_at: f.opt_text("finished_at")?,
            status: f.spelled("status", RunStatus::parse, RunStatus::spellings)?,
            config_sha256: f.text("config_sha256")?,
            rows_purged: f.int("rows_purged")?,
            error: f.opt_text("error")?,
            leftovers: f.opt_text("leftovers")?,
            instance: f.opt_text("instance")?,
        })
    }
}

/// One policy's outcome in one pass.
#[derive(Debug, Clone)]
pub struct PolicyRun {
    pub run_id: i64,
    pub policy: String,
    pub table_name: String,
    pub action: Action,
    pub cutoff: Option<String>,
    pub status: Status,
    pub rows: i64,
    pub batches: i64,
    pub unreadable: i64,
    pub cannot_anonymize: i64,
    /// Where the batch size settled, and the rate it followed (rows per second;
    /// 0 when sizes were fixed or nothing was purged).
    pub batch_size: i64,
    pub rows_per_second: f64,
    pub duration_ms: i64,
    pub error: Option<String>,
    pub held: i64,
}

/// A policy's latest outcome, with when its pass started.
#[derive(Debug, Clone)]
pub struct LastPolicyRun {
    pub started_at: String,
    pub run: PolicyRun,
}

const POLICY_RUN_COLUMNS: &str = "p.run_id, p.policy, p.table_name, p.action, p.cutoff, p.status, p.\"rows\", p.batches, p.unreadable, p.cannot_anonymize, p.batch_size, p.rows_per_second, p.duration_ms, p.error, p.held";

impl PolicyRun {
    fn columns() -> Columns {
        Columns::new("retention_policy_runs", POLICY_RUN_COLUMNS)
    }

    fn decode(f: &Fields) -> Result<PolicyRun, DbError> {
        Ok(PolicyRun {
            run_id: f.int("run_id")?,
            policy: f.text("policy")?,
            table_name: f.text("table_name")?,
            action: f.spelled("action", Action::parse, Action::spellings)?,
            cutoff: f.opt_text("cutoff")?,
            status: f.spelled("status", Status::parse, Status::spellings)?,
            rows: f.int("rows")?,
            batches: f.int("batches")?,
            unreadable: f.int("unreadable")?,
            cannot_anonymize: f.int("cannot_anonymize")?,
            batch_size: f.int("batch_size")?,
            rows_per_second: f.number("rows_per_second")?,
            duration_ms: f.int("duration_ms")?,
            error: f.opt_text("error")?,
            held: f.int("held")?,
        })
    }
}

impl Db {
    pub async fn insert_run(&mut self, r: &NewRun) -> Result<i64, DbError> {
        let mut q = Query::new(
            "INSERT INTO retention_runs (triggered_by, started_at, database_now, config_path, config_sha256, forced, status, instance) VALUES (",
        );
        q.bind_list([
            SqlValue::Text(r.trigger.as_str().into()),
            SqlValue::Text(r.started_at.clone()),
            SqlValue::Text(r.database_now.clone()),
            SqlValue::Text(r.config_path.clone()),
            SqlValue::Text(r.config_sha256.clone()),
            SqlValue::Int(i64::from(r.forced)),
            SqlValue::Text(RunStatus::Running.as_str().into()),
            SqlValue::Text(r.instance.clone()),
        ]);
        q.push(") RETURNING id");
        self.fetch_one_int(&q).await
    }

    pub async fn finish_run(&mut self, id: i64, end: &RunEnd) -> Result<(), DbError> {
        let mut q = Query::new("UPDATE retention_runs SET leftovers = ");
        q.bind(SqlValue::text_or_null(end.leftovers.clone()))
            .push(", finished_at = ")
            .bind(SqlValue::Text(end.finished_at.clone()))
            .push(", status = ")
            .bind(SqlValue::Text(end.status.as_str().into()))
            .push(", rows_purged = ")
            .bind(SqlValue::Int(end.rows_purged))
            .push(", error = ")
            .bind(SqlValue::text_or_null(end.error.clone()))
            .push(" WHERE id = ")
            .bind(SqlValue::Int(id));
        self.execute(&q).await.map(drop)
    }

    /// Marks passes left `running` by a process that died as `abandoned`: the rows
    /// they purged are all counted in their committed events.
    pub async fn abandon_stale_runs(&mut self) -> Result<u64, DbError> {
        let mut q = Query::new("UPDATE retention_runs SET status = ");
        q.bind(SqlValue::Text(RunStatus::Abandoned.as_str().into()))
            .push(" WHERE status = ")
            .bind(SqlValue::Text(RunStatus::Running.as_str().into()));
        self.execute(&q).await
    }

    pub async fn record_policy_run(&mut self, r: &PolicyRun) -> Result<(), DbError> {
        let mut q = Query::new(
            "INSERT INTO retention_policy_runs (run_id, policy, table_name, action, cutoff, status, \"rows\", batches, unreadable, cannot_anonymize, batch_size, rows_per_second, duration_ms, error, held) VALUES (",
        );
        q.bind_list([
            SqlValue::Int(r.run_id),
            SqlValue::Text(r.policy.clone()),
            SqlValue::Text(r.table_name.clone()),
            SqlValue::Text(r.action.as_str().into()),
            SqlValue::text_or_null(r.cutoff.clone()),
            SqlValue::Text(r.status.as_str().into()),
            SqlValue::Int(r.rows),
            SqlValue::Int(r.batches),
            SqlValue::Int(r.unreadable),
            SqlValue::Int(r.cannot_anonymize),
            SqlValue::Int(r.batch_size),
            SqlValue::Real(r.rows_per_second),
            SqlValue::Int(r.duration_ms),
            SqlValue::text_or_null(r.error.clone()),
            SqlValue::Int(r.held),
        ]);
        q.push(")");
        self.execute(&q).await.map(drop)
    }

    /// When the last successful pass started.
    pub async fn last_success(&mut self) -> Result<Option<chrono::DateTime<chrono::Utc>>, DbError> {
        let mut q = Query::new("SELECT max(started_at) FROM retention_runs WHERE status = ");
        q.bind(SqlValue::Text(RunStatus::Ok.as_str().into()));
        let rows = self.fetch(&q).await?;
        Ok(rows
            .first()
            .and_then(|r| r[0].as_text())
            .and_then(crate::period::parse_instant))
    }

    pub async fn last_run(&mut self) -> Result<Option<Run>, DbError> {
        let c = Run::columns();
        let q = Query::new(format!(
            "SELECT {} FROM retention_runs ORDER BY id DESC LIMIT 1",
            c.list()
        ));
        Ok(c.decode(self.fetch(&q).await?, Run::decode)?.pop())
    }

    /// The newest pass still marked running: the one under way while the pass lock
    /// is held.
    pub async fn running_run(&mut self) -> Result<Option<Run>, DbError> {
        let c = Run::columns();
        let mut q = Query::new(format!(
            "SELECT {} FROM retention_runs WHERE status = ",
            c.list()
        ));
        q.bind(SqlValue::Text(RunStatus::Running.as_str().into()))
            .push(" ORDER BY id DESC LIMIT 1");
        Ok(c.decode(self.fetch(&q).await?, Run::decode)?.pop())
    }

    /// Passes that started in [`from`, `to`), oldest first (RFC 3339 bounds).
    pub async fn runs_between(&mut self, from: &str, to: &str) -> Result<Vec<Run>, DbError> {
        let c = Run::columns();
        let mut q = Query::new(format!(
            "SELECT {} FROM retention_runs WHERE started_at >= ",
            c.list()
        ));
        q.bind(SqlValue::Text(from.into()))
            .push(" AND started_at < ")
            .bind(SqlValue::Text(to.into()))
            .push(" ORDER BY id");
        c.decode(self.fetch(&q).await?, Run::decode)
    }

    /// The latest recorded outcome of each policy, with its pass's start time.
    pub async fn last_policy_runs(&mut self) -> Result<Vec<LastPolicyRun>, DbError> {
        let c = Columns::new(
            "retention_policy_runs",
            format!("r.started_at, {POLICY_RUN_COLUMNS}"),
        );
        let q = Query::new(format!(
            "SELECT {} FROM retention_policy_runs p JOIN retention_runs r ON r.id = p.run_id \
             WHERE p.run_id = (SELECT max(run_id) FROM retention_policy_runs q WHERE q.policy = p.policy) \
             ORDER BY p.policy",
            c.list()
        ));
        c.decode(self.fetch(&q).await?, |f| {
            Ok(LastPolicyRun {
                started_at: f.text("started_at")?,
                run: PolicyRun::decode(f)?,
            })
        })
    }

    /// Each policy's results in the passes that started in [`from`, `to`).
    pub async fn policy_runs_between(
        &mut self,
        from: &str,
        to: &str,
    ) -> Result<Vec<PolicyRun>, DbError> {
        let c = PolicyRun::columns();
        let mut q = Query::new(format!(
            "SELECT {} FROM retention_policy_runs p JOIN retention_runs r ON r.id = p.run_id WHERE r.started_at >= ",
            c.list()
        ));
        q.bind(SqlValue::Text(from.into()))
            .push(" AND r.started_at < ")
            .bind(SqlValue::Text(to.into()))
            .push(" ORDER BY p.run_id");
        c.decode(self.fetch(&q).await?, PolicyRun::decode)
    }
}
