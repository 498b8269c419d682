//! Files whose rows went. A batch queues its rows' files in its own transaction
//! (`retention_file_outbox`); once it has committed, each file is removed from its
//! store and the outcome recorded in the audit trail, naming a refused file by the
//! key of its row, never by its path. A crash between the two leaves the outbox,
//! which the next pass (and the daemon at start) finishes: a file is never removed
//! while its row stays.

use std::collections::BTreeMap;

use chrono::Utc;
use serde::Serialize;

use super::journal;
use crate::audit::{EventAction, NewEvent};
use futures_util::{StreamExt, stream};

use crate::db::{self, Db, DbError, QueuedFile};
use crate::files::{FileOutcome, Removal, Stores};

/// Files read from the outbox at a time.
const PAGE: i64 = 200;
/// Removals in flight at once (for a bucket; a directory's take no time to wait).
const IN_FLIGHT: usize = 16;

/// How many files went how, for a policy or a pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FileCounts {
    /// Queued by the batches that purged their rows.
    pub queued: u64,
    pub removed: u64,
    pub already_gone: u64,
    /// Paths out of their store: never removed.
    pub refused: u64,
    /// Not removed this time; still queued.
    pub failed: u64,
}

impl FileCounts {
    fn count(&mut self, o: FileOutcome) {
        match o {
            FileOutcome::Removed => self.removed += 1,
            FileOutcome::AlreadyGone => self.already_gone += 1,
            FileOutcome::Refused => self.refused += 1,
            FileOutcome::Failed => self.failed += 1,
        }
    }

    pub fn add(&mut self, other: &FileCounts) {
        self.queued += other.queued;
        self.removed += other.removed;
        self.already_gone += other.already_gone;
        self.refused += other.refused;
        self.failed += other.failed;
    }

    pub fn is_empty(&self) -> bool {
        *self == FileCounts::default()
    }
}

/// One file's outcome, with its place in the audit trail.
struct Handled {
    file: QueuedFile,
    removal: Removal,
}

/// Removes the queued files (of `policy`, or all), oldest first, and records what
/// became of them. A file whose store did not answer stays queued for the next
/// call; each is tried once per call.
pub(super) async fn drain(
    db: &mut Db,
    stores: &Stores,
    run_id: i64,
    policy: Option<&str>,
) -> Result<FileCounts, DbError> {
    let mut counts = FileCounts::default();
    let mut after = 0;
    loop {
        let page: Vec<QueuedFile> = db.queued_files(policy, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        // A bucket answers each request over the network: several at once. A
        // directory's removals are quick and finish as they are polled.
        let handled: Vec<Handled> = stream::iter(page)
            .map(|file| async move {
                let removal = match stores.get(&file.store) {
                    Ok(store) => store.remove(&file.path).await,
                    Err(e) => Removal::Failed(e.to_string()),
                };
                Handled { file, removal }
            })
            .buffered(IN_FLIGHT)
            .collect()
            .await;
        for h in &handled {
            counts.count(h.removal.outcome());
        }
        record(db, run_id, &handled).await?;
    }
    if counts.failed > 0 {
        tracing::warn!(
            failed = counts.failed,
            "files could not be removed; they stay queued for the next pass"
        );
    }
    Ok(counts)
}

/// Forgets the files their store answered for, keeps the failed ones, and appends
/// one event per policy and table, in one transaction.
async fn record(db: &mut Db, run_id: i64, handled: &[Handled]) -> Result<(), DbError> {
    let mut groups: BTreeMap<(&str, &str), Vec<&Handled>> = BTreeMap::new();
    for h in handled {
        groups
            .entry((h.file.policy.as_str(), h.file.table_name.as_str()))
            .or_default()
            .push(h);
    }
    db.write_tx(async |db: &mut Db| {
        let done: Vec<i64> = handled
            .iter()
            .filter(|h| h.removal.outcome() != FileOutcome::Failed)
            .map(|h| h.file.id)
            .collect();
        db.forget_files(&done).await?;
        for h in handled {
            if let Removal::Failed(why) = &h.removal {
                db.file_failed(h.file.id, why).await?;
            }
        }
        for ((policy, table), hs) in &groups {
            journal::append_in_tx(db, event(run_id, policy, table, hs)).await?;
        }
        Ok(Some(()))
    })
    .await
    .map(drop)
}

fn event(run_id: i64, policy: &str, table: &str, handled: &[&Handled]) -> NewEvent {
    let mut counts = FileCounts::default();
    let mut refused = Vec::new();
    for h in handled {
        counts.count(h.removal.outcome());
        if let Removal::Refused(why) = &h.removal {
            refused.push(format!("row {}: {why}", h.file.row_key));
        }
    }
    let children = [
        (FileOutcome::Removed, counts.removed),
        (FileOutcome::AlreadyGone, counts.already_gone),
        (FileOutcome::Refused, counts.refused),
        (FileOutcome::Failed, counts.failed),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .map(|(o, n)| (o.as_str().to_string(), n as i64))
    .collect();
    NewEvent {
        run_id,
        created_at: db::rfc3339(Utc::now()),
        policy: policy.to_string(),
        table_name: table.to_string(),
        action: EventAction::FilesRemoved,
        cutoff: None,
        rows: counts.removed as i64,
        children,
        detail: (!refused.is_empty()).then(|| format!("refused: {}", refused.join("; "))),
    }
}
