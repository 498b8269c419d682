//! Batches: each one write transaction that takes the batch lock, purges at most
//! `batch_size` rows after a keyset cursor and appends the event that counts them.
//! A batch that times out or loses its connection is rolled back and tried again
//! with backoff; the loop stops when asked to, or when the pass lock is lost.

use std::collections::BTreeMap;

use chrono::Utc;

use super::files;
use super::journal::{self, BatchDone};
use super::rests::Rests;
use super::sizer::BatchSizer;
use super::steps::{BatchStep, Stopwatch};
use super::{Pass, PolicyOutcome, Status, Stop, replicas};
use crate::anonymize::{self, Progress, Purpose};
use crate::db::{Cursor, Db, DbError, FileRef, Scope, SqlValue, TableWalk, Target};
use crate::policy::{Action, Policy};

/// What a run of batches purges: `scope`'s rows of `policy`'s table, for an
/// erasure request or for expiry.
pub(super) struct Work<'a> {
    pub policy: &'a Policy,
    pub target: &'a Target,
    pub scope: Scope<'a>,
    /// The erasure request being answered, named in each batch's event.
    pub erasure: Option<i64>,
    /// For expiry, the table walk when it was chosen; `None`: the index walk.
    pub walk: Option<&'a TableWalk>,
}

/// A committed batch.
struct Committed {
    /// Rows purged.
    rows: u64,
    /// Rows the batch looked at: what its time is spent on, so what sizes follow.
    /// More than `rows` where some were held, outside the filter or already done.
    covered: u64,
    /// Rows deleted by cascade, per child table.
    children: BTreeMap<String, u64>,
    /// Files of the purged rows, queued for removal once the batch has committed.
    files: u64,
    /// Where the next batch starts; `None`: this was the last.
    next: Option<Cursor>,
}

/// One batch: what it purges and where it starts.
struct Batch<'b, 'p, 'w> {
    pass: &'b Pass<'p>,
    work: &'b Work<'w>,
    /// The last row of the batch before; `None`: the first batch.
    cursor: Option<&'b Cursor>,
    /// How many rows it may look at.
    size: u32,
}

type Done = Result<Option<Committed>, DbError>;

/// Runs batches until none is left.
pub(super) async fn run_all(
    db: &mut Db,
    pass: &mut Pass<'_>,
    work: &Work<'_>,
    outcome: &mut PolicyOutcome,
) -> Result<(), Stop> {
    let p = work.policy;
    let retry = pass.config.database.retry;
    let mut rests = Rests::new(db.backend(), pass.config.limits.pause_on(db.backend()));
    let mut sizer = sizer(pass, db);
    if let Some(max) = pass.rows_per_transaction {
        sizer.cap(max);
    }
    let mut cursor: Option<Cursor> = None;
    let mut attempt = 0;
    loop {
        check_may_go_on(db, pass, p, outcome).await?;
        let size = sizer.size();
        let mut watch = Stopwatch::start();
        let batch = db
            .write_tx(async |db: &mut Db| {
                watch.lap(BatchStep::Begin);
                let batch = Batch {
                    pass,
                    work,
                    cursor: cursor.as_ref(),
                    size,
                };
                one(db, &batch, &mut watch).await
            })
            .await;
        match batch {
            Ok(None) => return Ok(()),
            Ok(Some(done)) => {
                attempt = 0;
                sizer.record(done.covered, watch.elapsed());
                outcome.batch_size = sizer.size();
                outcome.rows_per_second = sizer.rate().map(|r| r.round());
                let t = watch.finish(done.rows);
                if t.ms >= outcome.longest_batch_ms {
                    outcome.longest_batch_ms = t.ms;
                    outcome.longest_batch = Some(t);
                }
                outcome.rows += done.rows;
                // A batch that purged nothing wrote no event and does not count.
                outcome.batches += u64::from(done.rows > 0);
                for (t, n) in done.children {
                    *outcome.children.entry(t).or_default() += n;
                }
                if done.files > 0 {
                    outcome.files.queued += done.files;
                    let removed = files::drain(db, &pass.stores, pass.run_id, Some(&p.name))
                        .await
                        .map_err(|e| {
                            Stop::failed(format!("policy `{}`: removing files: {e}", p.name))
                        })?;
                    outcome.files.add(&removed);
                }
                tracing::debug!(
                    policy = %p.name, batch = outcome.batches, rows = done.rows, ms = t.ms,
                    begin_ms = t.begin_ms, find_ms = t.find_ms, write_ms = t.write_ms,
                    audit_ms = t.audit_ms, commit_ms = t.commit_ms, next_size = sizer.size(),
                    "batch committed"
                );
                let Some(next) = done.next else {
                    return Ok(());
                };
                cursor = Some(next);
                rests.after_batch(db).await;
            }
            Err(e) if e.is_too_large() && sizer.halve() => {
                // Not a failure: the server's limit on one transaction, which the
                // rows a batch writes besides its own (cascades, files) can pass.
                tracing::warn!(
                    policy = %p.name, table = %work.target.table_name, next_size = sizer.size(),
                    error = %e, "batch refused as too large; halving it"
                );
            }
            Err(e) if e.is_retryable() && attempt < retry.attempts => {
                attempt += 1;
                before_retry(db, pass, work, &e, attempt).await;
            }
            Err(e) => {
                return Err(Stop::failed(format!(
                    "policy `{}` on table `{}`: {e}",
                    p.name, work.target.table_name
                )));
            }
        }
    }
}

/// Waits before trying a rolled-back batch again, and looks at the pass lock and
/// the connection where the error says they may be gone.
async fn before_retry(
    db: &mut Db,
    pass: &mut Pass<'_>,
    work: &Work<'_>,
    e: &DbError,
    attempt: u32,
) {
    let (p, retry) = (work.policy, pass.config.database.retry);
    // A chain that moved is read again at once; the rest wait for the database.
    let wait = if matches!(e, DbError::ChainMoved) {
        std::time::Duration::ZERO
    } else {
        // A lease must not run out while this instance waits, still counting
        // itself the leader.
        let left = pass.leader.time_left().unwrap_or(std::time::Duration::MAX);
        retry.wait_before(attempt).min(left)
    };
    tracing::warn!(
        policy = %p.name, table = %work.target.table_name, attempt, of = retry.attempts,
        wait_ms = wait.as_millis() as u64, error = %e,
        "batch rolled back; retrying"
    );
    tokio::time::sleep(wait).await;
    if e.is_timeout() {
        // On a cluster a conflict may mean the lease went to another instance:
        // the next batch looks first.
        pass.leader.recheck();
    }
    if e.is_connection_lost() {
        // The pass lock's connection may have died with this one: look again
        // before the next batch, not a second later.
        pass.leader.recheck();
        if let Err(e) = db.reconnect().await {
            tracing::warn!(policy = %p.name, error = %e, "reconnecting failed");
        }
    }
}

/// Fixed batches with `batch_size`; else sizes that follow the rate towards
/// `batch_time`.
fn sizer(pass: &Pass<'_>, db: &Db) -> BatchSizer {
    let limits = &pass.config.limits;
    let backend = db.backend();
    match limits.batch_size {
        Some(n) => BatchSizer::fixed(n),
        None => BatchSizer::adaptive(
            limits.batch_size_on(backend),
            limits.batch_time_on(backend),
            limits.max_batch_size(),
        ),
    }
}

/// Before each batch: not asked to stop, replicas caught up, the pass lock ours.
async fn check_may_go_on(
    db: &mut Db,
    pass: &mut Pass<'_>,
    p: &Policy,
    outcome: &mut PolicyOutcome,
) -> Result<(), Stop> {
    if pass.opts.stop.is_requested() {
        return Err(Stop {
            status: Status::Interrupted,
            reason: format!(
                "policy `{}`: stopped after {} batches",
                p.name, outcome.batches
            ),
        });
    }
    if let (Some(watch), Some(replicas)) = (&pass.config.database.replicas, &mut pass.replicas) {
        let waited = &mut outcome.replica_wait_ms;
        let waiting = (&pass.opts.stop, &mut *pass.leader);
        replicas::wait_until_caught_up(db, replicas, p, watch, waiting, waited).await?;
    }
    if !pass.leader.keep().await {
        return Err(Stop::failed(format!(
            "policy `{}`: this instance lost the pass lock (the connection holding it is gone, or its lease on the cluster ran out); stopping so that another instance can take over",
            p.name
        )));
    }
    Ok(())
}

/// One batch inside the open transaction: purge, then append the event. `None`
/// when no row is left after the cursor.
async fn one(db: &mut Db, b: &Batch<'_, '_, '_>, watch: &mut Stopwatch) -> Done {
    let (pass, work) = (b.pass, b.work);
    let done = match (work.scope, work.walk) {
        (Scope::Expired(cutoff), Some(walk)) => by_storage(db, b, (walk, cutoff), watch).await?,
        // Expired rows without children, or anonymised with values SQL can write:
        // one statement purges the range up to the batch's last row, with no keys or
        // values moved or locked ahead of it.
        (Scope::Expired(cutoff), None) if work.target.purges_by_range() => {
            by_range(db, b, cutoff, watch).await?
        }
        _ => by_keys(db, b, watch).await?,
    };
    let Some(done) = done else {
        return Ok(None);
    };
    if done.rows == 0 {
        // Only rows already done, held or filtered out in this range: nothing to
        // record, and the cursor moves on.
        return Ok(Some(done));
    }
    let event = journal::batch(&BatchDone {
        run_id: pass.run_id,
        policy: &work.policy.name,
        table: &work.target.table_name,
        action: work.policy.action,
        cutoff: match work.scope {
            Scope::Expired(cutoff) => Some(cutoff),
            Scope::Subject(_) => None,
        },
        rows: done.rows,
        children: &done.children,
        files: done.files,
        erasure: work.erasure,
    });
    journal::append_in_tx(db, event).await?;
    watch.lap(BatchStep::Audit);
    Ok(Some(done))
}

async fn by_range(
    db: &mut Db,
    b: &Batch<'_, '_, '_>,
    cutoff: chrono::DateTime<Utc>,
    watch: &mut Stopwatch,
) -> Done {
    let (work, cursor, batch_size) = (b.work, b.cursor, b.size);
    let (target, now) = (work.target, b.pass.now);
    let bound = target.batch_bound(db, cutoff, cursor, batch_size).await?;
    watch.lap(BatchStep::Find);
    let upto = bound.as_ref();
    let rows = match work.policy.action {
        Action::Delete => target.delete_range(db, cutoff, cursor, upto, now).await?,
        Action::Anonymize => {
            let marker = target.marker_value(Utc::now());
            target
                .anonymize_range(db, cutoff, cursor, upto, Some(&marker), now)
                .await?
        }
    };
    watch.lap(BatchStep::Write);
    if rows == 0 && bound.is_none() {
        return Ok(None);
    }
    Ok(Some(Committed {
        rows,
        covered: if bound.is_some() {
            u64::from(batch_size)
        } else {
            rows
        },
        children: BTreeMap::new(),
        files: 0,
        next: bound,
    }))
}

async fn by_keys(db: &mut Db, b: &Batch<'_, '_, '_>, watch: &mut Stopwatch) -> Done {
    let (pass, work) = (b.pass, b.work);
    let target = work.target;
    let rows = target
        .select_batch(db, work.scope, b.cursor, b.size, pass.now)
        .await?;
    watch.lap(BatchStep::Find);
    let Some(last) = rows.last() else {
        return Ok(None);
    };
    let next: Cursor = last[..1 + target.key_len()].to_vec();
    let (purged, children, files) = write_by_keys(db, pass, work, &rows).await?;
    watch.lap(BatchStep::Write);
    Ok(Some(Committed {
        rows: purged,
        covered: rows.len() as u64,
        children,
        files,
        next: Some(next),
    }))
}

/// A batch of the table walk: the next range in storage order, every row in it
/// tested; purged in one statement where SQL can, else read and written by key.
/// The rows are stored together, so the batch reads pages in order, as the bulk
/// statement does, instead of one page per row.
async fn by_storage(
    db: &mut Db,
    b: &Batch<'_, '_, '_>,
    (walk, cutoff): (&TableWalk, chrono::DateTime<Utc>),
    watch: &mut Stopwatch,
) -> Done {
    let (pass, work, cursor, batch_size) = (b.pass, b.work, b.cursor, b.size);
    if walk.is_past_end(cursor) {
        return Ok(None);
    }
    let target = work.target;
    let bound = target.table_bound(db, walk, cursor, batch_size).await?;
    watch.lap(BatchStep::Find);
    let range = (cursor, bound.as_ref());
    let (rows, children, files) = if target.purges_by_range() {
        let marker = target.marker_value(Utc::now());
        let n = target
            .purge_table_range(db, walk, cutoff, range, Some(&marker), pass.now)
            .await?;
        (n, BTreeMap::new(), 0)
    } else {
        let rows = target
            .select_table_batch(db, walk, cutoff, range, pass.now)
            .await?;
        write_by_keys(db, pass, work, &rows).await?
    };
    watch.lap(BatchStep::Write);
    Ok(Some(Committed {
        rows,
        covered: u64::from(batch_size),
        children,
        files,
        next: bound,
    }))
}

/// Deletes (cascades first, files queued) or anonymises the batch's `rows`, read
/// as [`Target::select_batch`] reads them, by key: the rows purged, per child
/// table, and the files queued.
async fn write_by_keys(
    db: &mut Db,
    pass: &Pass<'_>,
    work: &Work<'_>,
    rows: &[Vec<SqlValue>],
) -> Result<(u64, BTreeMap<String, u64>, u64), DbError> {
    let target = work.target;
    let key_len = target.key_len();
    let keys: Vec<Vec<SqlValue>> = rows.iter().map(|r| r[1..1 + key_len].to_vec()).collect();
    let mut children = BTreeMap::new();
    let files;
    let purged = match work.policy.action {
        Action::Delete => {
            let mut of_rows = target.files_of(rows, None);
            let deleted = target.delete_cascade(db, &keys).await?;
            children = deleted.counts;
            of_rows.extend(deleted.files);
            // Queued with the rows' delete: both commit, or neither does.
            queue(db, pass, work, &of_rows).await?;
            files = of_rows;
            target.delete_rows(db, &keys).await?
        }
        Action::Anonymize => {
            let values = replacements(pass, work, rows, key_len);
            files = target.files_of(rows, Some(&values));
            queue(db, pass, work, &files).await?;
            let marker = target.marker_value(Utc::now());
            target
                .update_rows(db, &keys, &values, Some(&marker))
                .await?
        }
    };
    Ok((purged, children, files.len() as u64))
}

/// Queues the files of a batch's rows, in the batch's transaction.
async fn queue(
    db: &mut Db,
    pass: &Pass<'_>,
    work: &Work<'_>,
    files: &[FileRef],
) -> Result<(), DbError> {
    if files.is_empty() {
        return Ok(());
    }
    let at = crate::db::rfc3339(Utc::now());
    db.queue_files(pass.run_id, &work.policy.name, files, &at)
        .await
}

/// Each row's anonymised values, in the order of the policy's `anonymize` table. A
/// value already done, or one its strategy cannot read, is written back unchanged.
fn replacements(
    pass: &Pass<'_>,
    work: &Work<'_>,
    rows: &[Vec<SqlValue>],
    key_len: usize,
) -> Vec<Vec<SqlValue>> {
    let columns = work.target.anonymized_columns();
    let purpose = match work.scope {
        Scope::Expired(_) => Purpose::Expiry,
        Scope::Subject(_) => Purpose::Erasure,
    };
    let key = pass.config.hmac_key.as_ref();
    let reads_marker = work.target.reads_marker(work.scope);
    rows.iter()
        .map(|row| {
            let values = &row[1 + key_len..1 + key_len + columns.len()];
            let progress = if !work.target.has_marker() {
                Progress::ByValue
            } else if reads_marker && row.last() != Some(&SqlValue::Null) {
                Progress::Marked
            } else {
                Progress::Unmarked
            };
            columns
                .iter()
                .zip(values)
                .map(|(&(strategy, form), v)| {
                    anonymize::replace(strategy, form, v, key, purpose, progress)
                })
                .collect()
        })
        .collect()
}
