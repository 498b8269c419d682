//! The files a policy's rows point to: read with a batch's rows (and its cascade
//! children's) so that they can be queued in the batch's transaction, and counted
//! for `plan`.

use chrono::{DateTime, Utc};

use super::{Col, FileCol, Scope, Target};
use crate::db::{Db, DbError, FileRef, Query, SqlValue};
use crate::policy::Action;

impl Target {
    /// Whether a row of this policy or of its cascade may point to a file.
    pub fn has_files(&self) -> bool {
        fn any(children: &[super::cascades::Child]) -> bool {
            children
                .iter()
                .any(|c| !c.files.is_empty() || any(&c.children))
        }
        !self.files.is_empty() || any(&self.cascade)
    }

    /// The columns a delete batch reads after the key: the file columns.
    pub(super) fn file_reads(&self) -> Vec<&Col> {
        if self.action == Action::Delete {
            self.files.iter().map(|f| &f.col).collect()
        } else {
            Vec::new()
        }
    }

    /// The files of a batch's rows (each row: timestamp, key, values) that go with
    /// them: every file a deleted row points to, or each path `remove_file` clears
    /// (`replaced` holds each row's new values, in the order of the anonymised
    /// columns).
    pub fn files_of(
        &self,
        rows: &[Vec<SqlValue>],
        replaced: Option<&[Vec<SqlValue>]>,
    ) -> Vec<FileRef> {
        let first = 1 + self.key.len();
        let mut out = Vec::new();
        for (r, row) in rows.iter().enumerate() {
            let key: Vec<String> = row[1..first]
                .iter()
                .map(|v| v.to_text().unwrap_or_default())
                .collect();
            for (i, f) in self.files.iter().enumerate() {
                let at = match (self.action, f.anonymized) {
                    (Action::Delete, _) => first + i,
                    (Action::Anonymize, Some(a)) => first + a,
                    (Action::Anonymize, None) => continue,
                };
                let cleared = match (f.anonymized, replaced) {
                    (Some(a), Some(new)) => new[r].get(a) == Some(&SqlValue::Null),
                    _ => self.action == Action::Delete,
                };
                if let Some(path) = row.get(at).and_then(SqlValue::to_text).filter(|_| cleared) {
                    out.push(FileRef {
                        table: self.table_name.clone(),
                        row_key: key.clone(),
                        store: f.store.clone(),
                        path,
                    });
                }
            }
        }
        out
    }

    /// How many files would go with the rows `scope` selects now: the non-NULL
    /// values of the file columns of the policy's rows (cleared by `remove_file`,
    /// or deleted with their rows) and of their cascade children's.
    pub async fn count_files(
        &self,
        db: &mut Db,
        scope: Scope<'_>,
        now: DateTime<Utc>,
    ) -> Result<u64, DbError> {
        let mut total = 0;
        for f in &self.files {
            if self.action == Action::Anonymize && f.anonymized.is_none() {
                continue;
            }
            let mut q = Query::new(format!(
                "SELECT count({}) FROM {} WHERE ",
                f.col.quoted, self.table
            ));
            self.push_batch_rows(&mut q, scope, None, None, now);
            total += db.fetch_one_int(&q).await?.max(0) as u64;
        }
        if self.action == Action::Delete {
            for path in self.cascade_paths() {
                let child = path[path.len() - 1];
                for f in &child.files {
                    let mut q = Query::new(format!(
                        "SELECT count({}) FROM {} WHERE ",
                        f.col.quoted, child.table
                    ));
                    self.push_linked(&mut q, &path, |t, q| {
                        t.push_batch_rows(q, scope, None, None, now);
                    });
                    total += db.fetch_one_int(&q).await?.max(0) as u64;
                }
            }
        }
        Ok(total)
    }
}

/// The files of child rows, read before they are deleted.
pub(super) fn child_files(
    child: &super::cascades::Child,
    rows: Vec<Vec<SqlValue>>,
    key_len: usize,
) -> Vec<FileRef> {
    let mut out = Vec::new();
    for row in rows {
        let key: Vec<String> = row[..key_len]
            .iter()
            .map(|v| v.to_text().unwrap_or_default())
            .collect();
        for (f, v) in child.files.iter().zip(&row[key_len..]) {
            if let Some(path) = v.to_text() {
                out.push(FileRef {
                    table: child.table_name.clone(),
                    row_key: key.clone(),
                    store: f.store.clone(),
                    path,
                });
            }
        }
    }
    out
}

impl FileCol {
    pub(super) fn col(&self) -> &Col {
        &self.col
    }
}
