//! One purger among several replicas: the lock held for a whole pass, and the one
//! every batch takes inside its transaction.
//!
//! The pass lock lives on a dedicated connection (PostgreSQL session advisory lock,
//! MySQL GET_LOCK) or on the SQLite file itself (flock, which SQLite's own fcntl
//! locks do not interfere with). Should that connection die, another instance may
//! take over; the batch lock, taken inside every batch transaction, makes sure the
//! old leader's remaining batch and the new leader's batches never overlap, and the
//! audit chain stays one chain.
//!
//! On a MariaDB Galera cluster neither lock holds across nodes: there the pass lock
//! is a lease written into a row ([`super::galera`]), renewed by `keep` and by every
//! batch's transaction, and taken over once it expires.

use std::fs::File;
use std::time::{Duration, Instant};

use super::galera::{self, Fence};
use super::{Backend, Db, DbError, Query, SqlValue, sqlite};
use crate::backend::DatabaseSettings;

/// "retentio" in ASCII: the advisory lock key of a pass on PostgreSQL.
const PASS_KEY: i64 = 0x7265_7465_6e74_696f;
/// The advisory lock key every batch takes inside its transaction.
pub(super) const BATCH_KEY: i64 = PASS_KEY + 1;
/// How often a pass looks whether its lock's connection is still alive: every batch
/// takes the batch lock, so this only decides how soon a lost lock stops the pass.
const KEEP_CHECK_EVERY: Duration = Duration::from_secs(1);

/// Holding it means this process runs the pass; dropping it lets another one.
pub struct Leader {
    lock: Lock,
    settings: DatabaseSettings,
    /// When `keep` last found the lock's connection alive.
    checked: Option<Instant>,
}

enum Lock {
    File(File),
    Connection(Box<Db>),
    Lease(Box<LeaseLock>),
}

/// A Galera pass lease: its connection, whose it is, and when it was last renewed.
struct LeaseLock {
    db: Db,
    fence: Fence,
    renewed: Instant,
}

impl Leader {
    /// Takes the pass lock, or returns `None` at once if another instance holds it.
    pub async fn try_acquire(settings: &DatabaseSettings) -> Result<Option<Leader>, DbError> {
        let mut db = Db::open(settings, super::Access::ReadWrite).await?;
        let lock = match db.backend() {
            Backend::Sqlite => {
                let path = sqlite::path_of(&settings.url, &settings.base_dir)?;
                db.close().await?;
                let file = File::open(&path).map_err(|e| DbError::Open {
                    target: path.display().to_string(),
                    reason: e.to_string(),
                })?;
                match file.try_lock() {
                    Ok(()) => Lock::File(file),
                    Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
                    Err(std::fs::TryLockError::Error(e)) => {
                        return Err(DbError::Open {
                            target: path.display().to_string(),
                            reason: format!("cannot lock the file: {e}"),
                        });
                    }
                }
            }
            Backend::Postgres => {
                let mut q = Query::new("SELECT CAST(pg_try_advisory_lock(");
                q.bind(SqlValue::Int(PASS_KEY)).push(") AS integer)");
                if db.fetch_one_int(&q).await? != 1 {
                    return Ok(None);
                }
                Lock::Connection(Box::new(db))
            }
            Backend::MySql if db.galera().await?.is_some() => {
                // The lease lives in retentiond's own tables.
                db.ensure_own_tables().await?;
                let fence = Fence {
                    holder: instance_name(),
                    ttl: settings.timeouts.lease,
                };
                let renewed = Instant::now();
                if !galera::take(&mut db, &fence.holder, fence.ttl).await? {
                    return Ok(None);
                }
                tracing::debug!(holder = %fence.holder, "took the pass lease on the Galera cluster");
                Lock::Lease(Box::new(LeaseLock { db, fence, renewed }))
            }
            Backend::MySql => {
                // GET_LOCK names are server-wide: scope the name to this database.
                let q = Query::new("SELECT GET_LOCK(CONCAT('retentiond.pass.', DATABASE()), 0)");
                if db.fetch_one_int(&q).await? != 1 {
                    return Ok(None);
                }
                Lock::Connection(Box::new(db))
            }
        };
        Ok(Some(Leader {
            lock,
            settings: settings.clone(),
            checked: None,
        }))
    }

    /// Makes the next [`Leader::keep`] look at the lock's connection, however soon.
    pub fn recheck(&mut self) {
        self.checked = None;
    }

    /// Whether the lock is still ours. If its connection died (a server restart), the
    /// lock went with it: take it again, unless another instance has meanwhile.
    pub async fn keep(&mut self) -> bool {
        if self.checked.is_some_and(|t| t.elapsed() < KEEP_CHECK_EVERY) {
            return true;
        }
        let alive = match &mut self.lock {
            Lock::File(_) => return true,
            Lock::Connection(db) => db.fetch(&Query::new("SELECT 1")).await.is_ok(),
            Lock::Lease(lease) => {
                let kept = lease
                    .renew(self.settings.retry, self.checked.is_none())
                    .await;
                if kept {
                    self.checked = Some(Instant::now());
                }
                return kept;
            }
        };
        if alive {
            self.checked = Some(Instant::now());
            return true;
        }
        self.checked = None;
        let retry = self.settings.retry;
        for attempt in 0..=retry.attempts {
            match Leader::try_acquire(&self.settings).await {
                Ok(Some(fresh)) => {
                    tracing::info!("the pass lock's connection was lost; lock taken again");
                    self.lock = fresh.lock;
                    return true;
                }
                Ok(None) => {
                    tracing::warn!(
                        "the pass lock's connection was lost and another instance holds the lock now"
                    );
                    return false;
                }
                Err(e) => {
                    tracing::warn!(attempt, error = %e, "taking the pass lock again failed");
                    tokio::time::sleep(retry.wait_before(attempt + 1)).await;
                }
            }
        }
        false
    }

    /// Whether any instance holds the pass lock now, as `status` reports it. `db`
    /// is a connection of the caller's, which takes no lock.
    pub async fn is_held(db: &mut Db, settings: &DatabaseSettings) -> Result<bool, DbError> {
        match db.backend() {
            Backend::Sqlite => {
                let path = sqlite::path_of(&settings.url, &settings.base_dir)?;
                let file = File::open(&path).map_err(|e| DbError::Open {
                    target: path.display().to_string(),
                    reason: e.to_string(),
                })?;
                match file.try_lock_shared() {
                    Ok(()) => {
                        let _ = file.unlock();
                        Ok(false)
                    }
                    Err(std::fs::TryLockError::WouldBlock) => Ok(true),
                    Err(std::fs::TryLockError::Error(e)) => Err(DbError::Open {
                        target: path.display().to_string(),
                        reason: format!("cannot look at the file's lock: {e}"),
                    }),
                }
            }
            // A bigint advisory key shows as its high and low halves.
            Backend::Postgres => {
                let mut q = Query::new(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 \
                     AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
                     AND CAST(classid AS bigint) = ",
                );
                q.bind(SqlValue::Int(PASS_KEY >> 32))
                    .push(" AND CAST(objid AS bigint) = ")
                    .bind(SqlValue::Int(PASS_KEY & 0xffff_ffff));
                Ok(db.fetch_one_int(&q).await? > 0)
            }
            Backend::MySql if db.galera().await?.is_some() => {
                Ok(db.has_own_tables().await? && db.pass_lease().await?.is_some_and(|l| l.live))
            }
            Backend::MySql => {
                let q = Query::new(
                    "SELECT CAST(IS_USED_LOCK(CONCAT('retentiond.pass.', DATABASE())) IS NOT NULL AS SIGNED)",
                );
                Ok(db.fetch_one_int(&q).await? == 1)
            }
        }
    }

    pub async fn release(self) {
        match self.lock {
            Lock::File(file) => {
                let _ = file.unlock();
            }
            // Closing the session releases its locks.
            Lock::Connection(db) => {
                let _ = db.close().await;
            }
            Lock::Lease(mut lease) => {
                if let Err(e) = galera::give_up(&mut lease.db, &lease.fence.holder).await {
                    tracing::warn!(error = %e, "giving the pass lease up failed; it expires by itself");
                }
                let _ = lease.db.close().await;
            }
        }
    }

    /// How long until a lease unrenewed runs out, for a wait that must not outlast
    /// it; `None` for the locks that do not run out.
    pub fn time_left(&self) -> Option<Duration> {
        match &self.lock {
            Lock::Lease(lease) => Some(lease.time_left().unwrap_or(Duration::ZERO)),
            _ => None,
        }
    }

    /// The lease a batch's transaction renews, where the lock is one.
    pub(super) fn fence(&self) -> Option<Fence> {
        match &self.lock {
            Lock::Lease(lease) => Some(lease.fence.clone()),
            _ => None,
        }
    }
}

impl LeaseLock {
    /// Renews the lease when a third of its time has passed (or at once when
    /// `force`d), reconnecting as often as `retry` allows; `false` once it is lost
    /// or its time has run out unrenewed, by this host's clock: never later than
    /// the database lets another instance take it.
    async fn renew(&mut self, retry: super::Retry, force: bool) -> bool {
        if !force && self.renewed.elapsed() < self.fence.ttl / 3 {
            return true;
        }
        let started = Instant::now();
        for attempt in 0..=retry.attempts {
            let Some(left) = self.time_left() else {
                tracing::warn!("the pass lease ran out before it could be renewed");
                return false;
            };
            match galera::renew(&mut self.db, &self.fence.holder, self.fence.ttl).await {
                Ok(true) => {
                    self.renewed = started;
                    return true;
                }
                Ok(false) => {
                    tracing::warn!("the pass lease was taken over by another instance");
                    return false;
                }
                Err(e) => {
                    tracing::warn!(attempt, error = %e, "renewing the pass lease failed");
                    tokio::time::sleep(retry.wait_before(attempt + 1).min(left)).await;
                    if e.is_connection_lost() {
                        let _ = self.db.reconnect().await;
                    }
                }
            }
        }
        false
    }

    /// How long the lease lasts from now unless renewed; `None`: it ran out.
    fn time_left(&self) -> Option<Duration> {
        self.fence
            .ttl
            .checked_sub(self.renewed.elapsed())
            .filter(|d| !d.is_zero())
    }
}

/// This process as the lease, `status` and the audit trail name it: host name and
/// process id.
pub fn instance_name() -> String {
    format!("{}:{}", host_name(), std::process::id())
}

/// This host's name, as the kernel has it; `localhost` when it cannot be read.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}
