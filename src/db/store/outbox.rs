//! `retention_file_outbox`: files whose rows went, to be removed from their store.
//! A file is queued in the transaction that purges its row and forgotten once its
//! store has answered; which file to remove when is the engine's.

use super::{Columns, Fields};
use crate::db::{Db, DbError, Query, SqlValue};

/// A file a purged row pointed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRef {
    /// The table of the row, as the catalog spells it.
    pub table: String,
    /// The row's key, each column as text: how the audit names a refused file
    /// without its path, which may say whose file it is.
    pub row_key: Vec<String>,
    pub store: String,
    pub path: String,
}

/// A file waiting in the outbox.
#[derive(Debug, Clone)]
pub struct QueuedFile {
    pub id: i64,
    pub policy: String,
    pub table_name: String,
    /// JSON array of the row's key.
    pub row_key: String,
    pub store: String,
    pub path: String,
    pub attempts: i64,
}

impl QueuedFile {
    fn columns() -> Columns {
        Columns::new(
            "retention_file_outbox",
            "id, policy, table_name, row_key, store, path, attempts",
        )
    }

    fn decode(f: &Fields) -> Result<QueuedFile, DbError> {
        Ok(QueuedFile {
            id: f.int("id")?,
            policy: f.text("policy")?,
            table_name: f.text("table_name")?,
            row_key: f.text("row_key")?,
            store: f.text("store")?,
            path: f.text("path")?,
            attempts: f.int("attempts")?,
        })
    }
}

/// Rows per INSERT: well under every backend's limit on bound values.
const PER_STATEMENT: usize = 100;

impl Db {
    /// Queues `files`, in the caller's transaction.
    pub async fn queue_files(
        &mut self,
        run_id: i64,
        policy: &str,
        files: &[FileRef],
        at: &str,
    ) -> Result<(), DbError> {
        for chunk in files.chunks(PER_STATEMENT) {
            let mut q = Query::new(
                "INSERT INTO retention_file_outbox (run_id, policy, table_name, row_key, store, path, queued_at) VALUES ",
            );
            for (i, f) in chunk.iter().enumerate() {
                q.push(if i == 0 { "(" } else { ", (" });
                let key = serde_json::to_string(&f.row_key).unwrap_or_else(|_| "[]".into());
                q.bind_list([
                    SqlValue::Int(run_id),
                    SqlValue::Text(policy.into()),
                    SqlValue::Text(f.table.clone()),
                    SqlValue::Text(key),
                    SqlValue::Text(f.store.clone()),
                    SqlValue::Text(f.path.clone()),
                    SqlValue::Text(at.into()),
                ])
                .push(")");
            }
            self.execute(&q).await?;
        }
        Ok(())
    }

    /// Up to `limit` queued files after id `after`, oldest first; of one policy, or
    /// of all.
    pub async fn queued_files(
        &mut self,
        policy: Option<&str>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<QueuedFile>, DbError> {
        let c = QueuedFile::columns();
        let mut q = Query::new(format!(
            "SELECT {} FROM retention_file_outbox WHERE id > ",
            c.list()
        ));
        q.bind(SqlValue::Int(after));
        if let Some(p) = policy {
            q.push(" AND policy = ").bind(SqlValue::Text(p.into()));
        }
        q.push(" ORDER BY id LIMIT ").bind(SqlValue::Int(limit));
        c.decode(self.fetch(&q).await?, QueuedFile::decode)
    }

    /// Forgets files their store has answered for, in the caller's transaction.
    pub async fn forget_files(&mut self, ids: &[i64]) -> Result<(), DbError> {
        for chunk in ids.chunks(PER_STATEMENT) {
            let mut q = Query::new("DELETE FROM retention_file_outbox WHERE id IN (");
            q.bind_list(chunk.iter().map(|id| SqlValue::Int(*id)))
                .push(")");
            self.execute(&q).await?;
        }
        Ok(())
    }

    /// Records a failed removal; the file stays queued for the next pass.
    pub async fn file_failed(&mut self, id: i64, error: &str) -> Result<(), DbError> {
        let mut q =
            Query::new("UPDATE retention_file_outbox SET attempts = attempts + 1, last_error = ");
        q.bind(SqlValue::Text(error.into()))
            .push(" WHERE id = ")
            .bind(SqlValue::Int(id));
        self.execute(&q).await.map(drop)
    }

    /// How many files wait in the outbox, for `status` and the metrics.
    pub async fn count_queued_files(&mut self) -> Result<i64, DbError> {
        self.fetch_one_int(&Query::new("SELECT count(*) FROM retention_file_outbox"))
            .await
    }
}
