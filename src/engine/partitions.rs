//! Whole expired partitions dropped (`partitions = "drop"`, PostgreSQL), one short
//! transaction each: lock the partition, count its rows, append the event, detach
//! and drop.

use std::time::Instant;

use chrono::{DateTime, Utc};

use super::batch::Work;
use super::{Pass, PolicyOutcome, journal};
use crate::db::{Db, DbError};

pub(super) async fn drop_expired(
    db: &mut Db,
    pass: &mut Pass<'_>,
    work: &Work<'_>,
    cutoff: DateTime<Utc>,
    outcome: &mut PolicyOutcome,
) -> Result<(), DbError> {
    let (p, target) = (work.policy, work.target);
    // Partitions dropped leave the catalog as it was read.
    db.forget_catalog();
    for part in target.expired_partitions(db, cutoff).await? {
        if pass.opts.stop.is_requested() || !pass.leader.keep().await {
            break;
        }
        let started = Instant::now();
        let run_id = pass.run_id;
        let dropped = db
            .write_tx(async |db: &mut Db| {
                let Some(rows) = target.lock_partition(db, &part).await? else {
                    return Ok(None);
                };
                let event = journal::partition_dropped(
                    run_id,
                    &p.name,
                    &target.table_name,
                    cutoff,
                    &part,
                    rows,
                );
                journal::append_in_tx(db, event).await?;
                target.detach_and_drop(db, &part).await?;
                Ok(Some(rows))
            })
            .await?;
        if let Some(rows) = dropped {
            outcome.rows += rows;
            outcome.batches += 1;
            outcome.partitions_dropped += 1;
            tracing::info!(
                policy = %p.name, partition = %part.name, rows,
                duration_ms = started.elapsed().as_millis() as u64, "partition dropped"
            );
        }
    }
    Ok(())
}
