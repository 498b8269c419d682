//! MariaDB Galera Cluster: telling a cluster node from a lone server, the limits it
//! puts on one transaction's write set, its flow control, and the pass lease that
//! holds across its nodes.
//!
//! `GET_LOCK` and row locks hold on one node only: two instances on two nodes both
//! get them. What Galera does order cluster-wide is writes: of two transactions that
//! wrote the same row, the second to commit fails certification (error 1213). So the
//! pass lock on a cluster is a lease *written* into `retention_lease`'s row 2 (holder
//! and expiry), renewed while the pass runs, and written again by every batch inside
//! its transaction: an old leader's batch and a new leader's takeover never both
//! commit.

use std::collections::HashMap;
use std::time::Duration;

use sqlx::MySqlConnection;

use super::{Conn, Db, DbError, Query, SqlValue, mysql};

/// The row of `retention_lease` that holds the pass lease.
const LEASE_ROW: i64 = 2;

/// What `check` and a pass need to know of the cluster a node belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    pub name: String,
    /// Nodes in this node's component.
    pub size: u64,
    /// The component's status: `Primary` when it has quorum.
    pub status: String,
    /// The node's own state: `Synced`, `Donor/Desynced`, `Joining`...
    pub state: String,
    /// `wsrep_max_ws_rows`: rows one transaction may write; `None`: no limit.
    pub max_ws_rows: Option<u64>,
    /// `wsrep_max_ws_size`: bytes one transaction's write set may take.
    pub max_ws_size: Option<u64>,
    /// `gcs.fc_limit`: write sets a node's receive queue holds before it pauses
    /// the cluster (flow control).
    pub fc_limit: Option<u64>,
    /// `evs.suspect_timeout`: how long the nodes hold every commit when one of
    /// them stops answering, before they give up on it.
    pub suspect_timeout: Option<Duration>,
}

/// One node's flow control as read now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    /// Flow control pauses replication, and so every commit, cluster-wide.
    pub paused: bool,
    /// Write sets received and not yet applied on this node.
    pub recv_queue: u64,
    pub fc_limit: Option<u64>,
    pub state: String,
}

impl Flow {
    /// Why a batch should wait for this node, if it should: flow control is on,
    /// the node is not synced, or its receive queue passed half of `gcs.fc_limit`
    /// (so that retentiond's own write sets never make the cluster pause).
    pub fn holds_back(&self) -> Option<String> {
        if self.paused {
            return Some("has flow control on: the cluster is paused".into());
        }
        if !self.state.eq_ignore_ascii_case("synced") {
            return Some(format!("is {}, not Synced", self.state));
        }
        let limit = self.fc_limit.unwrap_or(16);
        (self.recv_queue * 2 > limit).then(|| {
            format!(
                "holds {} write sets in its receive queue, over half of gcs.fc_limit {limit}",
                self.recv_queue
            )
        })
    }
}

/// A lease a connection renews in each of its write transactions.
#[derive(Debug, Clone)]
pub(super) struct Fence {
    pub holder: String,
    pub ttl: Duration,
}

/// The pass lease as `status` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub holder: String,
    /// RFC 3339, UTC, by the database's clock.
    pub expires_at: String,
    /// Whether it has not expired yet.
    pub live: bool,
}

impl Db {
    /// The Galera cluster this connection's server belongs to; `None` on a lone
    /// server and on the other backends.
    pub async fn galera(&mut self) -> Result<Option<Cluster>, DbError> {
        let Conn::MySql(c) = &mut self.conn else {
            return Ok(None);
        };
        cluster(c).await
    }

    /// The pass lease on a Galera cluster; `None` when no instance ever took it.
    /// A causal read: a node that has not yet applied the holder's write waits
    /// for it, so that no node calls a held lease free.
    pub async fn pass_lease(&mut self) -> Result<Option<Lease>, DbError> {
        let before = self
            .fetch_one_int(&Query::new("SELECT @@SESSION.wsrep_sync_wait"))
            .await?;
        self.execute(&Query::new("SET SESSION wsrep_sync_wait = 1"))
            .await?;
        let lease = self.read_pass_lease().await;
        let mut restore = Query::new("SET SESSION wsrep_sync_wait = ");
        restore.bind(SqlValue::Int(before));
        self.execute(&restore).await?;
        lease
    }

    async fn read_pass_lease(&mut self) -> Result<Option<Lease>, DbError> {
        let mut q = Query::new(
            "SELECT holder, DATE_FORMAT(expires_at, '%Y-%m-%dT%H:%i:%s.%fZ'), \
             CAST(expires_at > UTC_TIMESTAMP(6) AS SIGNED) FROM retention_lease WHERE id = ",
        );
        q.bind(SqlValue::Int(LEASE_ROW));
        let rows = self.fetch(&q).await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let text = |i: usize| row.get(i).and_then(SqlValue::as_text).map(str::to_owned);
        let Some(holder) = text(0) else {
            return Ok(None);
        };
        Ok(Some(Lease {
            holder,
            expires_at: text(1).unwrap_or_default(),
            live: matches!(row.get(2), Some(SqlValue::Int(1))),
        }))
    }
}

/// The node's `wsrep_*` variables and status; `None` when wsrep is off.
type Readings = (HashMap<String, String>, HashMap<String, String>);

async fn read(c: &mut MySqlConnection) -> Result<Option<Readings>, DbError> {
    let vars = mysql::show_pairs(c, "SHOW GLOBAL VARIABLES LIKE 'wsrep\\_%'").await?;
    if !vars
        .get("wsrep_on")
        .is_some_and(|v| v.eq_ignore_ascii_case("on"))
    {
        return Ok(None);
    }
    let status = mysql::show_pairs(c, "SHOW GLOBAL STATUS LIKE 'wsrep\\_%'").await?;
    Ok(Some((vars, status)))
}

/// The node's cluster, read from its `wsrep_*` variables and status.
pub(super) async fn cluster(c: &mut MySqlConnection) -> Result<Option<Cluster>, DbError> {
    Ok(read(c)
        .await?
        .map(|(vars, status)| cluster_of(&vars, &status)))
}

fn cluster_of(vars: &HashMap<String, String>, status: &HashMap<String, String>) -> Cluster {
    let number = |m: &HashMap<String, String>, k: &str| m.get(k).and_then(|v| v.parse().ok());
    let text = |m: &HashMap<String, String>, k: &str| m.get(k).cloned().unwrap_or_default();
    let option = |name: &str| {
        vars.get("wsrep_provider_options")
            .and_then(|o| provider_option(o, name))
    };
    Cluster {
        name: text(vars, "wsrep_cluster_name"),
        size: number(status, "wsrep_cluster_size").unwrap_or(0),
        status: text(status, "wsrep_cluster_status"),
        state: text(status, "wsrep_local_state_comment"),
        max_ws_rows: number(vars, "wsrep_max_ws_rows").filter(|n| *n > 0),
        max_ws_size: number(vars, "wsrep_max_ws_size"),
        fc_limit: option("gcs.fc_limit").and_then(|v| v.parse().ok()),
        suspect_timeout: option("evs.suspect_timeout").and_then(iso_duration),
    }
}

/// One node's flow control; `None` when the server is not a Galera node.
pub(super) async fn flow(c: &mut MySqlConnection) -> Result<Option<Flow>, DbError> {
    let Some((vars, status)) = read(c).await? else {
        return Ok(None);
    };
    let cluster = cluster_of(&vars, &status);
    // MariaDB 10.4+ and Galera 4 say whether flow control is on now; older
    // servers only have the paused fraction since the last reading.
    let paused = match status.get("wsrep_flow_control_active") {
        Some(v) => v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("on"),
        None => status
            .get("wsrep_flow_control_paused")
            .and_then(|v| v.parse::<f64>().ok())
            .is_some_and(|f| f > 0.0),
    };
    Ok(Some(Flow {
        paused,
        recv_queue: status
            .get("wsrep_local_recv_queue")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        fc_limit: cluster.fc_limit,
        state: cluster.state,
    }))
}

/// A value of `wsrep_provider_options` ("a = 1; b = x; ...").
fn provider_option<'a>(options: &'a str, name: &str) -> Option<&'a str> {
    options.split(';').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k.trim() == name).then(|| v.trim())
    })
}

/// Galera's ISO 8601 durations, as its options use them: `PT5S`, `PT1.5S`, `PT1M`,
/// `PT1H30M`.
fn iso_duration(text: &str) -> Option<Duration> {
    let mut rest = text.strip_prefix("PT")?;
    let mut seconds = 0.0;
    while !rest.is_empty() {
        let end = rest.find(|c: char| c.is_ascii_alphabetic())?;
        let n: f64 = rest[..end].parse().ok()?;
        seconds += n * match &rest[end..=end] {
            "H" => 3600.0,
            "M" => 60.0,
            "S" => 1.0,
            _ => return None,
        };
        rest = &rest[end + 1..];
    }
    Some(Duration::from_secs_f64(seconds))
}

/// Takes the lease for `holder` when it is free, expired or already theirs.
/// `false`: another instance holds it, or took it first (a certification failure
/// at commit is that instance's write winning).
pub(super) async fn take(db: &mut Db, holder: &str, ttl: Duration) -> Result<bool, DbError> {
    let mut q = Query::new("UPDATE retention_lease SET holder = ");
    q.bind(SqlValue::Text(holder.into()))
        .push(", expires_at = UTC_TIMESTAMP(6) + INTERVAL ")
        .bind(SqlValue::Int(micros(ttl)))
        .push(" MICROSECOND WHERE id = ")
        .bind(SqlValue::Int(LEASE_ROW))
        .push(" AND (holder IS NULL OR holder = ")
        .bind(SqlValue::Text(holder.into()))
        .push(" OR expires_at <= UTC_TIMESTAMP(6))");
    match db.execute(&q).await {
        Ok(n) => Ok(n == 1 || holds(db, holder).await?),
        Err(e) if e.is_timeout() => Ok(false),
        Err(e) => Err(e),
    }
}

/// Extends `holder`'s lease by `ttl` from now, if it is still theirs and live.
/// Inside a batch's transaction this is the write that fences it.
pub(super) async fn renew(db: &mut Db, holder: &str, ttl: Duration) -> Result<bool, DbError> {
    let mut q = Query::new("UPDATE retention_lease SET expires_at = UTC_TIMESTAMP(6) + INTERVAL ");
    q.bind(SqlValue::Int(micros(ttl)))
        .push(" MICROSECOND WHERE id = ")
        .bind(SqlValue::Int(LEASE_ROW))
        .push(" AND holder = ")
        .bind(SqlValue::Text(holder.into()))
        .push(" AND expires_at > UTC_TIMESTAMP(6)");
    // An update that changed nothing (the same microsecond) counts no row.
    Ok(db.execute(&q).await? == 1 || holds(db, holder).await?)
}

/// Gives the lease up, if it is still `holder`'s.
pub(super) async fn give_up(db: &mut Db, holder: &str) -> Result<(), DbError> {
    let mut q =
        Query::new("UPDATE retention_lease SET holder = NULL, expires_at = NULL WHERE id = ");
    q.bind(SqlValue::Int(LEASE_ROW))
        .push(" AND holder = ")
        .bind(SqlValue::Text(holder.into()));
    db.execute(&q).await.map(drop)
}

/// How long a migration lock lasts: a migration that takes longer on a huge
/// table may be entered twice, which `finish_interrupted` then sees.
const MIGRATION_LEASE: Duration = Duration::from_secs(300);
/// How long an instance waits for another one's migrations.
const MIGRATION_WAIT: Duration = Duration::from_secs(600);

/// Waits for and takes the lease under which one instance of the cluster
/// migrates retentiond's tables; returns the holder to give it up with. Its table
/// is created, once, by DDL, which Galera runs in the same order on every node.
pub(super) async fn lock_migrations(db: &mut Db) -> Result<String, DbError> {
    let holder = super::instance_name();
    let started = std::time::Instant::now();
    loop {
        match try_lock_migrations(db, &holder).await {
            Ok(true) => return Ok(holder),
            Ok(false) => {}
            // Two nodes inserting the row at once: one loses certification.
            Err(e) if e.is_timeout() => {}
            Err(e) => return Err(e),
        }
        if started.elapsed() > MIGRATION_WAIT {
            return Err(DbError::Unsupported(format!(
                "another instance has been migrating retentiond's tables on the cluster for over {} s (retention_migration_lock)",
                MIGRATION_WAIT.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn try_lock_migrations(db: &mut Db, holder: &str) -> Result<bool, DbError> {
    db.execute(&Query::new(
        "CREATE TABLE IF NOT EXISTS retention_migration_lock (id INT NOT NULL PRIMARY KEY, \
         holder VARCHAR(255) NULL, expires_at DATETIME(6) NULL) ENGINE = InnoDB",
    ))
    .await?;
    db.execute(&Query::new(
        "INSERT IGNORE INTO retention_migration_lock (id) VALUES (1)",
    ))
    .await?;
    let mut q = Query::new("UPDATE retention_migration_lock SET holder = ");
    q.bind(SqlValue::Text(holder.into()))
        .push(", expires_at = UTC_TIMESTAMP(6) + INTERVAL ")
        .bind(SqlValue::Int(micros(MIGRATION_LEASE)))
        .push(" MICROSECOND WHERE id = 1 AND (holder IS NULL OR expires_at <= UTC_TIMESTAMP(6))");
    Ok(db.execute(&q).await? == 1)
}

pub(super) async fn unlock_migrations(db: &mut Db, holder: &str) -> Result<(), DbError> {
    let mut q = Query::new(
        "UPDATE retention_migration_lock SET holder = NULL, expires_at = NULL WHERE id = 1 AND holder = ",
    );
    q.bind(SqlValue::Text(holder.into()));
    db.execute(&q).await.map(drop)
}

async fn holds(db: &mut Db, holder: &str) -> Result<bool, DbError> {
    Ok(db
        .pass_lease()
        .await?
        .is_some_and(|l| l.live && l.holder == holder))
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_options_are_read_by_name() {
        let o = "base_port = 4567; evs.suspect_timeout = PT5S; gcs.fc_limit = 16; gcs.fc_master_slave = no";
        assert_eq!(provider_option(o, "gcs.fc_limit"), Some("16"));
        assert_eq!(provider_option(o, "gcs.fc_missing"), None);
        let suspect = provider_option(o, "evs.suspect_timeout").and_then(iso_duration);
        assert_eq!(suspect, Some(Duration::from_secs(5)));
        assert_eq!(iso_duration("PT1H30M"), Some(Duration::from_secs(5400)));
        assert_eq!(iso_duration("PT1.5S"), Some(Duration::from_millis(1500)));
        assert_eq!(iso_duration("P1D"), None);
    }

    #[test]
    fn a_batch_waits_for_flow_control_a_full_queue_or_a_node_out_of_sync() {
        let synced = Flow {
            paused: false,
            recv_queue: 8,
            fc_limit: Some(16),
            state: "Synced".into(),
        };
        assert_eq!(synced.holds_back(), None);
        let full = Flow {
            recv_queue: 9,
            ..synced.clone()
        };
        assert!(
            full.holds_back()
                .expect("over half")
                .contains("9 write sets")
        );
        let paused = Flow {
            paused: true,
            ..synced.clone()
        };
        assert!(
            paused
                .holds_back()
                .expect("paused")
                .contains("flow control")
        );
        let joining = Flow {
            state: "Joining".into(),
            ..synced
        };
        assert!(joining.holds_back().expect("joining").contains("Joining"));
    }
}
