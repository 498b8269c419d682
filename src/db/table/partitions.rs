//! Whole partitions of a range-partitioned table (PostgreSQL), for `partitions =
//! "drop"`: which have expired entirely, and dropping one inside a transaction that
//! checks again that no row of it must stay.

use chrono::{DateTime, Utc};

use super::{Target, naive, rfc3339};
use crate::db::catalog::Kind;
use crate::db::{Db, DbError, Query, SqlValue, postgres, quote};

/// A partition of a range-partitioned table.
#[derive(Debug, Clone)]
pub struct Partition {
    /// `schema.name`, for messages and the audit trail.
    pub name: String,
    quoted: String,
    /// As PostgreSQL prints it: `FOR VALUES FROM ('2023-01-01') TO ('2023-02-01')`.
    pub bound: String,
}

/// The upper bound of a range partition, as a SQL literal's text; `None` for DEFAULT,
/// MAXVALUE, or anything unexpected (such a partition is never dropped).
fn upper_bound(bound: &str) -> Option<String> {
    let (_, to) = bound.split_once(" TO (")?;
    let literal = to.strip_suffix(')')?.trim();
    let inner = literal.strip_prefix('\'')?.strip_suffix('\'')?;
    Some(inner.replace("''", "'"))
}

impl Target {
    /// Whether whole expired partitions are dropped before the row-by-row pass.
    pub fn drops_partitions(&self) -> bool {
        self.drop_partitions_of.is_some()
    }

    /// Partitions whose whole range lies before `cutoff` and that hold no row the
    /// policy must keep (one outside its `filter`). Cascading policies never drop:
    /// their children must go first, row by row.
    pub async fn expired_partitions(
        &self,
        db: &mut Db,
        cutoff: DateTime<Utc>,
    ) -> Result<Vec<Partition>, DbError> {
        let Some((schema, table)) = &self.drop_partitions_of else {
            return Ok(Vec::new());
        };
        if !self.cascade.is_empty() {
            return Ok(Vec::new());
        }
        let ty = self.ts.cast.clone().unwrap_or_else(|| "timestamptz".into());
        let (cutoff_value, cutoff_ty) = match self.ts.kind {
            Kind::Timestamp { tz: true } => (rfc3339(cutoff), "timestamptz"),
            _ => (naive(cutoff), "timestamp"),
        };
        let mut out = Vec::new();
        for r in db.fetch(&postgres::partitions(schema, table)).await? {
            let (Some(part_schema), Some(name), Some(bound)) =
                (r[0].as_text(), r[1].as_text(), r[2].as_text())
            else {
                continue;
            };
            let Some(upper) = upper_bound(bound) else {
                continue;
            };
            // Range bounds are exclusive above: every row is older than `upper`.
            let mut q = Query::new("SELECT CASE WHEN CAST(");
            q.bind(SqlValue::Text(upper))
                .push(" AS ")
                .push(&ty)
                .push(") <= CAST(");
            q.bind(SqlValue::Text(cutoff_value.clone()))
                .push(" AS ")
                .push(cutoff_ty)
                .push(") THEN 1 ELSE 0 END");
            if db.fetch_one_int(&q).await? != 1 {
                continue;
            }
            let part = Partition {
                name: format!("{part_schema}.{name}"),
                quoted: format!("{}.{}", quote(part_schema), quote(name)),
                bound: bound.to_string(),
            };
            if self.rows_to_keep(db, &part).await? == 0 {
                out.push(part);
            } else {
                tracing::info!(partition = %part.name, "partition holds rows outside the policy's filter; purging it row by row");
            }
        }
        Ok(out)
    }

    /// Rows of `part` the policy may not purge whatever their age.
    async fn rows_to_keep(&self, db: &mut Db, part: &Partition) -> Result<u64, DbError> {
        let mut q = Query::new(format!("SELECT count(*) FROM {} WHERE (TRUE", part.quoted));
        self.push_filter(&mut q);
        q.push(") IS NOT TRUE");
        let outside_filter = db.fetch_one_int(&q).await?.max(0) as u64;
        let mut q = Query::new(format!("SELECT count(*) FROM {} WHERE TRUE", part.quoted));
        self.push_hold_on(&mut q, &part.quoted, true, Utc::now());
        Ok(outside_filter + db.fetch_one_int(&q).await?.max(0) as u64)
    }

    /// Inside the caller's transaction: locks `part` against every other session,
    /// checks again that no row must stay, and counts its rows; `None` if a row must
    /// stay after all. The caller records the count, then calls
    /// [`Target::detach_and_drop`] in the same transaction.
    pub async fn lock_partition(
        &self,
        db: &mut Db,
        part: &Partition,
    ) -> Result<Option<u64>, DbError> {
        db.execute(&Query::new(format!(
            "LOCK TABLE {} IN ACCESS EXCLUSIVE MODE",
            part.quoted
        )))
        .await?;
        if self.rows_to_keep(db, part).await? > 0 {
            return Ok(None);
        }
        let rows = db
            .fetch_one_int(&Query::new(format!("SELECT count(*) FROM {}", part.quoted)))
            .await?;
        Ok(Some(rows.max(0) as u64))
    }

    pub async fn detach_and_drop(&self, db: &mut Db, part: &Partition) -> Result<(), DbError> {
        db.execute(&Query::new(format!(
            "ALTER TABLE {} DETACH PARTITION {}",
            self.table, part.quoted
        )))
        .await?;
        db.execute(&Query::new(format!("DROP TABLE {}", part.quoted)))
            .await
            .map(drop)
    }
}
