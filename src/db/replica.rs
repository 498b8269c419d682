//! Replica lag as the primary sees it, for `[database] max_replica_lag`.

use super::{Backend, Db, DbError, Query, SqlValue};

impl Db {
    /// The largest replay lag of any streaming replica, where the primary shows it
    /// (PostgreSQL's pg_stat_replication; needs pg_monitor). `None` where it cannot
    /// be read from the primary (MySQL, SQLite).
    pub async fn replica_lag(&mut self) -> Result<Option<std::time::Duration>, DbError> {
        if self.backend != Backend::Postgres {
            return Ok(None);
        }
        let q = Query::new(
            "SELECT CAST(coalesce(extract(epoch FROM max(replay_lag)), 0) AS float8) FROM pg_stat_replication",
        );
        let rows = self.fetch(&q).await?;
        let seconds = rows
            .first()
            .and_then(|r| r.first())
            .and_then(SqlValue::as_number)
            .unwrap_or(0.0);
        Ok(Some(std::time::Duration::from_secs_f64(seconds.max(0.0))))
    }
}
