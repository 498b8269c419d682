//! Which database retentiond talks to and how it reaches it: the [`Backend`], the
//! connection settings of `[database]`, and the URL with its password hidden.
//!
//! A leaf: it imports nothing of the crate, so every module may use it.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

impl Backend {
    /// The URL forms retentiond accepts, for "valid forms" in errors.
    pub const URL_FORMS: &'static str =
        "sqlite://path/to/shop.db, postgres://user@host/db, mysql://user@host/db";

    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else if url.starts_with("mysql://") || url.starts_with("mariadb://") {
            Some(Backend::MySql)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::MySql => "mysql",
        }
    }

    /// Whether the whole database has one write lock (SQLite), so that the
    /// application's writers queue behind each batch; PostgreSQL and MySQL lock
    /// rows.
    pub fn one_write_lock(self) -> bool {
        self == Backend::Sqlite
    }

    /// The first batch's size, and every batch's with a fixed size. InnoDB deletes
    /// or updates a row through a secondary index at about twice PostgreSQL's
    /// cost, so MySQL starts at half (docs/performance.md).
    pub fn default_batch_size(self) -> u32 {
        match self {
            Backend::MySql => 2500,
            Backend::Sqlite | Backend::Postgres => 5000,
        }
    }

    /// The time an adaptive batch aims at (measured in docs/performance.md):
    /// short where the one write lock makes the application's writers wait.
    pub fn default_batch_time(self) -> Duration {
        if self.one_write_lock() {
            Duration::from_millis(25)
        } else {
            Duration::from_millis(50)
        }
    }

    /// The rest between batches. A writer waiting for SQLite's one lock polls for
    /// it with growing sleeps: without a rest the next batch takes the lock before
    /// it wakes; the engine rests there only while another connection writes.
    pub fn default_pause(self) -> Duration {
        if self.one_write_lock() {
            Duration::from_millis(20)
        } else {
            Duration::ZERO
        }
    }
}

/// How to reach the shop's database, from `[database]`.
#[derive(Clone)]
pub struct DatabaseSettings {
    /// The connection URL. Never printed whole: it may carry a password.
    pub url: String,
    pub source: UrlSource,
    /// The directory relative SQLite paths are resolved against.
    pub base_dir: PathBuf,
    pub timeouts: Timeouts,
    /// `max_replica_lag` and its replicas: wait before a batch while one lags.
    pub replicas: Option<ReplicaWatch>,
    pub retry: Retry,
}

impl DatabaseSettings {
    /// Settings with every default, for a URL from `source`.
    pub fn new(url: String, source: UrlSource, base_dir: PathBuf) -> DatabaseSettings {
        DatabaseSettings {
            url,
            source,
            base_dir,
            timeouts: Timeouts::default(),
            replicas: None,
            retry: Retry::default(),
        }
    }
}

/// `[database] max_replica_lag`: before each batch, wait while a replica shows data
/// older than `max_lag`.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplicaWatch {
    pub max_lag: Duration,
    /// Replicas read directly; empty: the primary's view (PostgreSQL only).
    pub urls: Vec<String>,
    /// How long a policy waits for lag to drop, or a replica to answer, before it
    /// fails: lag that cannot be read is never taken for none.
    pub max_wait: Duration,
}

impl ReplicaWatch {
    pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(300);
}

impl fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redact_url(&self.url))
            .field("source", &self.source)
            .finish()
    }
}

/// Where the database URL came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlSource {
    Config,
    File(PathBuf),
    Environment,
}

/// How a batch that timed out, or lost its connection, is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Tries after the first; then the policy is recorded as failed.
    pub attempts: u32,
    /// The wait before the first retry; it doubles for each one after.
    pub backoff: Duration,
}

impl Retry {
    /// The wait before retry number `attempt` (1 for the first retry).
    pub fn wait_before(&self, attempt: u32) -> Duration {
        self.backoff
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
    }
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 5,
            backoff: Duration::from_secs(1),
        }
    }
}

/// Per-transaction limits for live databases, from `[database]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// How long one statement may wait for a row lock.
    pub lock: Duration,
    /// How long one statement may run.
    pub statement: Duration,
    /// On a Galera cluster, how long the pass lease lasts unless renewed: the
    /// longest another instance waits to take over from one that died.
    pub lease: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            lock: Duration::from_secs(5),
            statement: Duration::from_secs(60),
            lease: Duration::from_secs(30),
        }
    }
}

/// The URL with any password replaced by `***`, for logs and errors.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_string();
    };
    let userinfo = &authority[..at];
    let user = userinfo.split(':').next().unwrap_or("");
    if !userinfo.contains(':') {
        return url.to_string();
    }
    format!("{}{}:***{}", &url[..scheme_end + 3], user, &rest[at..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://shop.db"), "sqlite://shop.db");
        assert_eq!(redact_url("mysql://u:p@ss@h/db"), "mysql://u:***@h/db");
    }

    #[test]
    fn backoff_doubles_from_the_first_retry() {
        let r = Retry {
            attempts: 5,
            backoff: Duration::from_millis(100),
        };
        let waits: Vec<u128> = (1..=4).map(|a| r.wait_before(a).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 800]);
        assert_eq!(r.wait_before(0), Duration::from_millis(100));
    }

    #[test]
    fn urls_name_their_backend() {
        assert_eq!(Backend::of_url("sqlite://x.db"), Some(Backend::Sqlite));
        assert_eq!(
            Backend::of_url("postgresql://h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(Backend::of_url("mariadb://h/db"), Some(Backend::MySql));
        assert_eq!(Backend::of_url("oracle://h/db"), None);
    }
}
