//! The table walk: batches that step through a policy's table in the order its
//! rows are stored (PostgreSQL's heap blocks, InnoDB's clustered primary key,
//! SQLite's rowid), the way the bulk statement scans it, and test every row with
//! the whole expiry test. Where most rows expire, this reads the table once in
//! order instead of fetching each row at random through the timestamp's index.
//! The index walk is in `statements`; which to take is the engine's, from the
//! database's own plan ([`Target::plan_scans_table`]).

use chrono::{DateTime, Utc};

use super::{Col, Cursor, Scope, Target};
use crate::db::catalog::{Column, Kind, TableInfo};
use crate::db::dialect::{Dialect, StorageKey, StorageOrder};
use crate::db::{Db, DbError, Query, SqlValue, quote};
use crate::policy::Action;

/// Where a table walk's batches go, fixed when the walk starts.
#[derive(Debug, Clone)]
pub struct TableWalk(Steps);

#[derive(Debug, Clone)]
enum Steps {
    /// Ranges of heap blocks (TID range scans), up to the table's size at the
    /// start. Beyond it are the rows written since: new ones (young), and the new
    /// versions of rows updated since, this pass's own anonymised ones among them
    /// (half a million to test again in a last open range). An expired row the
    /// application updated during the pass waits for the next one.
    Blocks { blocks: i64, rows_per_block: f64 },
    /// Ranges of the storage key, in its order.
    Key(Vec<Col>),
}

impl TableWalk {
    /// What the walk steps through, in words.
    pub fn describe(&self) -> &'static str {
        match self.0 {
            Steps::Blocks { .. } => "heap blocks",
            Steps::Key(_) => "the storage key",
        }
    }

    /// Whether a batch starting after `cursor` would be past the walk's end.
    pub fn is_past_end(&self, cursor: Option<&Cursor>) -> bool {
        match (&self.0, cursor) {
            (Steps::Blocks { blocks, .. }, Some(c)) => tid_block(&c[0]) >= *blocks,
            _ => false,
        }
    }
}

/// Rows per heap block assumed before PostgreSQL has counted them (`ANALYZE`).
const UNKNOWN_ROWS_PER_BLOCK: f64 = 100.0;

/// How a table's rows are stored, for a table walk: the dialect's answer, with
/// SQLite's rowid looked for (a WITHOUT ROWID table is clustered on its key).
pub(super) async fn storage_order(
    db: &mut Db,
    dialect: &dyn Dialect,
    info: &TableInfo,
    table: &str,
) -> Result<StorageOrder, DbError> {
    let mut primary: Vec<&Column> = info.columns.iter().filter(|c| c.pk > 0).collect();
    primary.sort_by_key(|c| c.pk);
    let col = |c: &Column| Col {
        quoted: quote(&c.name),
        kind: c.kind,
        cast: dialect.cast_for(&c.declared),
    };
    let names: Vec<String> = primary.iter().map(|c| c.name.clone()).collect();
    Ok(match dialect.storage_key(&names) {
        StorageKey::Blocks => StorageOrder::Blocks,
        StorageKey::Columns(_) => StorageOrder::Key(primary.into_iter().map(col).collect()),
        StorageKey::None(why) => StorageOrder::None(why),
        StorageKey::Rowid => {
            // The rowid's names, unless a column has taken one.
            let name = ["rowid", "_rowid_", "oid"]
                .into_iter()
                .find(|n| info.column(n).is_none());
            let probe = name.map(|n| Query::new(format!("SELECT {n} FROM {table} LIMIT 0")));
            match probe {
                Some(q) if db.fetch(&q).await.is_ok() => StorageOrder::Key(vec![Col {
                    quoted: name.unwrap_or("rowid").to_string(),
                    kind: Kind::Integer,
                    cast: None,
                }]),
                _ if !primary.is_empty() => {
                    StorageOrder::Key(primary.into_iter().map(col).collect())
                }
                _ => StorageOrder::None("the table has neither a rowid nor a primary key".into()),
            }
        }
    })
}

/// The block of a row address as PostgreSQL prints it, `(12,3)`.
fn tid_block(v: &SqlValue) -> i64 {
    v.as_text()
        .and_then(|t| t.trim_start_matches('(').split(',').next()?.parse().ok())
        .unwrap_or(0)
}

impl Target {
    /// How this table can be walked in storage order, or why not.
    pub async fn table_walk(&self, db: &mut Db) -> Result<Result<TableWalk, String>, DbError> {
        match &self.storage_order {
            StorageOrder::None(why) => Ok(Err(why.clone())),
            StorageOrder::Key(cols) => Ok(Ok(TableWalk(Steps::Key(cols.clone())))),
            StorageOrder::Blocks => {
                let q = self
                    .dialect
                    .block_count(&self.table)
                    .expect("a dialect with block ranges counts blocks");
                let rows = db.fetch(&q).await?;
                let row = rows.first().cloned().unwrap_or_default();
                let number = |i: usize| row.get(i).and_then(SqlValue::as_number).unwrap_or(0.0);
                if number(2) < 140_000.0 {
                    return Ok(Err("TID range scans need PostgreSQL 14 or later".into()));
                }
                // Without statistics, a guess that errs towards small windows:
                // a window with fewer rows than a batch only makes the batch
                // shorter, and the sizes grow; one with many more sorts them all.
                let rows_per_block = match number(1) {
                    n if n >= 1.0 => n,
                    _ => UNKNOWN_ROWS_PER_BLOCK,
                };
                Ok(Ok(TableWalk(Steps::Blocks {
                    blocks: number(0) as i64,
                    rows_per_block,
                })))
            }
        }
    }

    /// Whether the database would read the whole table to find the expired rows:
    /// its own plan for them, as `EXPLAIN` gives it.
    pub async fn plan_scans_table(
        &self,
        db: &mut Db,
        cutoff: DateTime<Utc>,
    ) -> Result<bool, DbError> {
        // Every column, as the bulk statement reads them: `SELECT 1` would be
        // answered from the timestamp's index alone.
        let mut q = Query::new(format!("SELECT * FROM {} WHERE ", self.table));
        self.push_expired_for_plan(&mut q, cutoff);
        let mut explained = Query::new(self.dialect.explain_prefix());
        explained.append(q);
        let rows = db.fetch(&explained).await?;
        Ok(self.dialect.plan_scans_table(&rows))
    }

    /// The end of the batch of `size` rows after `after`, in storage order; `None`
    /// when the rest of the table is the last batch. On PostgreSQL a range of
    /// blocks: sorting a window's addresses to find the `size`-th row costs as much
    /// as the batch's write, so only a window that holds too many is sorted.
    pub async fn table_bound(
        &self,
        db: &mut Db,
        walk: &TableWalk,
        after: Option<&Cursor>,
        size: u32,
    ) -> Result<Option<Cursor>, DbError> {
        match &walk.0 {
            Steps::Blocks {
                blocks,
                rows_per_block,
            } => {
                // Nine tenths of `size` rows' worth of blocks, by the table's own
                // count; counted (no sort), and cut at the `size`-th row only
                // where they hold more than `size`: a batch never exceeds its size.
                let start = after.map_or(0, |c| tid_block(&c[0]));
                let span = (0.9 * f64::from(size.max(1)) / rows_per_block).ceil();
                // The range ends where the table ended at the start, at the latest.
                let end = (start + span.max(1.0) as i64).min(*blocks);
                let window_end = vec![SqlValue::Text(format!("({end},0)"))];
                let mut q = Query::new(format!("SELECT count(*) FROM {} WHERE 1 = 1", self.table));
                self.push_storage_range(&mut q, walk, after, Some(&window_end));
                let held = db.fetch(&q).await?.first().and_then(|r| r[0].as_number());
                if held.unwrap_or(0.0) > f64::from(size) {
                    return self.nth_address(db, walk, after, &window_end, size).await;
                }
                Ok(Some(window_end))
            }
            Steps::Key(cols) => {
                let read: Vec<String> = cols.iter().map(|c| self.read(c)).collect();
                let order: Vec<&str> = cols.iter().map(|c| c.quoted.as_str()).collect();
                let mut q = Query::new(format!(
                    "SELECT {} FROM {} WHERE 1 = 1",
                    read.join(", "),
                    self.in_storage_order()
                ));
                self.push_storage_range(&mut q, walk, after, None);
                q.push(" ORDER BY ")
                    .push(&order.join(", "))
                    .push(" LIMIT 1 OFFSET ")
                    .bind(SqlValue::Int(i64::from(size.max(1)) - 1));
                Ok(db.fetch(&q).await?.into_iter().next())
            }
        }
    }

    /// The address of the `size`-th row after `after` and before `window_end`; `None`
    /// when the window holds fewer.
    async fn nth_address(
        &self,
        db: &mut Db,
        walk: &TableWalk,
        after: Option<&Cursor>,
        window_end: &Cursor,
        size: u32,
    ) -> Result<Option<Cursor>, DbError> {
        let mut q = Query::new(format!(
            // Aliased: `ORDER BY ctid` would otherwise sort the text.
            "SELECT CAST(ctid AS text) AS retentiond_tid FROM {} WHERE 1 = 1",
            self.table
        ));
        self.push_storage_range(&mut q, walk, after, Some(window_end));
        q.push(" ORDER BY ctid LIMIT 1 OFFSET ")
            .bind(SqlValue::Int(i64::from(size.max(1)) - 1));
        Ok(db.fetch(&q).await?.into_iter().next())
    }

    /// The table as a table walk's statements name it: read in storage order,
    /// whatever index the planner would rather take for the timestamp's range.
    fn in_storage_order(&self) -> String {
        format!("{}{}", self.table, self.dialect.storage_order_hint())
    }

    /// ` AND` the row lies after `after` and up to `upto` in storage order.
    fn push_storage_range(
        &self,
        q: &mut Query,
        walk: &TableWalk,
        after: Option<&Cursor>,
        upto: Option<&Cursor>,
    ) {
        match &walk.0 {
            Steps::Blocks { .. } => {
                for (bound, op) in [(after, " > "), (upto, " <= ")] {
                    if let Some(tid) = bound.and_then(|c| c[0].as_text()) {
                        q.push(" AND ");
                        self.dialect.push_address_bound(q, op, tid);
                    }
                }
            }
            Steps::Key(cols) => {
                let names: Vec<&str> = cols.iter().map(|c| c.quoted.as_str()).collect();
                for (bound, op) in [(after, " > "), (upto, " <= ")] {
                    let Some(bound) = bound else { continue };
                    q.push(" AND ");
                    if cols.len() == 1 {
                        q.push(names[0]).push(op);
                        self.push_bound(q, &cols[0], bound[0].clone());
                    } else {
                        q.push("(")
                            .push(&names.join(", "))
                            .push(")")
                            .push(op)
                            .push("(");
                        self.push_values(q, cols, bound, true);
                        q.push(")");
                    }
                }
            }
        }
    }

    /// The rows of a table-walk batch a purge may take: in the storage range,
    /// expired by the whole test, inside the filter, not done, not held.
    fn push_table_batch_rows(
        &self,
        q: &mut Query,
        walk: &TableWalk,
        cutoff: DateTime<Utc>,
        after: Option<&Cursor>,
        upto: Option<&Cursor>,
        now: DateTime<Utc>,
    ) {
        self.push_expired(q, cutoff);
        self.push_storage_range(q, walk, after, upto);
        self.push_filter(q);
        self.push_pending(q, false);
        self.push_hold(q, false, now);
    }

    /// Deletes or anonymises (in SQL) the expired rows of a table-walk batch;
    /// returns the count. Only where [`Target::purges_by_range`].
    pub async fn purge_table_range(
        &self,
        db: &mut Db,
        walk: &TableWalk,
        cutoff: DateTime<Utc>,
        (after, upto): (Option<&Cursor>, Option<&Cursor>),
        marker: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<u64, DbError> {
        let mut q = match self.action {
            Action::Delete => Query::new(format!("DELETE FROM {} WHERE ", self.in_storage_order())),
            Action::Anonymize => self.update_set_on(&self.in_storage_order(), marker),
        };
        self.push_table_batch_rows(&mut q, walk, cutoff, after, upto, now);
        db.execute(&q).await
    }

    /// The rows of a table-walk batch, read and locked as
    /// [`Target::select_batch`] reads them, for batches that write by key.
    pub async fn select_table_batch(
        &self,
        db: &mut Db,
        walk: &TableWalk,
        cutoff: DateTime<Utc>,
        (after, upto): (Option<&Cursor>, Option<&Cursor>),
        now: DateTime<Utc>,
    ) -> Result<Vec<Vec<SqlValue>>, DbError> {
        let values = self.batch_values(Scope::Expired(cutoff));
        let mut q = self.select_in_order_from(&self.in_storage_order(), &values);
        self.push_table_batch_rows(&mut q, walk, cutoff, after, upto, now);
        q.push(self.dialect.for_update());
        db.fetch(&q).await
    }
}
