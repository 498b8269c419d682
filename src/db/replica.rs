//! Replica lag for `[database] max_replica_lag`, read so that it is fresh.
//!
//! With `replica_urls`, each replica is asked itself: PostgreSQL's replay position
//! and last replayed commit (`pg_last_wal_replay_lsn`,
//! `pg_last_xact_replay_timestamp`), MySQL's and MariaDB's `SHOW REPLICA STATUS`. A
//! replica that has replayed everything the primary had written when asked has
//! caught up; otherwise its lag is the age of the data it shows. Without them, on
//! PostgreSQL, the primary's `pg_stat_replication`: the bytes between the primary's
//! WAL position and each standby's replay position, dated by retentiond's own
//! readings of that position (`pg_stat_replication.replay_lag` alone is stale: it
//! changes only when the standby reports, and turns NULL when idle). A Galera node
//! named in `replica_urls` holds a batch back while flow control is on, the node is
//! not synced, or its receive queue passes half of `gcs.fc_limit`.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::{Access, Backend, Conn, Db, DbError, Query, SqlValue, galera, mysql};
use crate::backend::{DatabaseSettings, ReplicaWatch, redact_url};

/// How far back retentiond's readings of the primary's WAL position go.
const SAMPLES_KEPT: Duration = Duration::from_secs(3600);

/// What a replica's lag reading says.
#[derive(Debug, Clone, PartialEq)]
pub enum Lag {
    /// It has replayed everything the primary had written when it was asked.
    CaughtUp,
    /// It shows data this old.
    Behind(Duration),
    /// It is behind by an unknown time: why.
    Unknown(String),
    /// A Galera node that the next batch should wait for: why.
    Busy(String),
}

/// What a PostgreSQL server says of its streaming replication, for `check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Streaming {
    /// The server is a standby (`pg_is_in_recovery()`): it refuses writes.
    pub standby: bool,
    /// Standbys streaming from it.
    pub standbys: i64,
    /// Of those, the ones a commit waits for (`sync` or `quorum`).
    pub synchronous: i64,
}

impl Db {
    /// PostgreSQL's replication as the server sees it; `None` elsewhere.
    pub async fn streaming(&mut self) -> Result<Option<Streaming>, DbError> {
        if self.backend != Backend::Postgres {
            return Ok(None);
        }
        let q = Query::new(
            "SELECT CAST(pg_is_in_recovery() AS int), \
             (SELECT count(*) FROM pg_stat_replication), \
             (SELECT count(*) FROM pg_stat_replication WHERE sync_state IN ('sync', 'quorum'))",
        );
        let rows = self.fetch(&q).await?;
        let int = |i: usize| match rows.first().and_then(|r| r.get(i)) {
            Some(SqlValue::Int(n)) => *n,
            _ => 0,
        };
        Ok(Some(Streaming {
            standby: int(0) == 1,
            standbys: int(1),
            synchronous: int(2),
        }))
    }
}

/// One replica's reading, by the name logs and errors give it (its URL without
/// the password).
#[derive(Debug)]
pub struct ReplicaLag {
    pub name: String,
    pub lag: Result<Lag, DbError>,
}

/// The replicas a pass watches, with their connections, kept between readings.
pub struct Replicas {
    watched: Vec<Watched>,
    /// The primary's WAL position (bytes) at each reading on PostgreSQL without
    /// replica URLs, oldest first: when a standby's replay position is below one,
    /// the standby has been behind at least since that reading.
    samples: VecDeque<(f64, Instant)>,
}

struct Watched {
    name: String,
    settings: DatabaseSettings,
    conn: Option<Db>,
}

impl Replicas {
    pub fn new(primary: &DatabaseSettings, watch: &ReplicaWatch) -> Replicas {
        let watched = watch
            .urls
            .iter()
            .map(|url| {
                let mut settings = primary.clone();
                settings.url = url.clone();
                settings.replicas = None;
                Watched {
                    name: redact_url(url),
                    settings,
                    conn: None,
                }
            })
            .collect();
        Replicas {
            watched,
            samples: VecDeque::new(),
        }
    }

    /// Every watched replica's lag now. An error on the primary is the `Err`; a
    /// replica that cannot be reached is its own reading's error, and is connected
    /// again at the next reading.
    pub async fn read(&mut self, primary: &mut Db) -> Result<Vec<ReplicaLag>, DbError> {
        if self.watched.is_empty() {
            return match primary.backend {
                Backend::Postgres => self.read_on_primary(primary).await,
                _ => Ok(Vec::new()),
            };
        }
        let position = primary_position(primary).await?;
        let mut out = Vec::with_capacity(self.watched.len());
        for w in &mut self.watched {
            let lag = w.read(&position).await;
            if lag.is_err() {
                w.conn = None;
            }
            out.push(ReplicaLag {
                name: w.name.clone(),
                lag,
            });
        }
        Ok(out)
    }

    /// PostgreSQL's standbys as the primary sees them (needs `pg_monitor`; without
    /// it the positions are hidden, and the lag is unknown).
    async fn read_on_primary(&mut self, primary: &mut Db) -> Result<Vec<ReplicaLag>, DbError> {
        let q = Query::new(
            "SELECT coalesce(application_name, '') || ' (' || coalesce(host(client_addr), 'local') || ')', \
             CAST(pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0') AS float8), \
             CAST(pg_wal_lsn_diff(replay_lsn, '0/0') AS float8), \
             CAST(extract(epoch FROM replay_lag) AS float8) \
             FROM pg_stat_replication ORDER BY 1",
        );
        let rows = primary.fetch(&q).await?;
        let now = Instant::now();
        let current = match rows.first().map(|r| r.get(1).and_then(SqlValue::as_number)) {
            Some(Some(bytes)) => bytes,
            // No standby: nothing to date.
            _ => return Ok(Vec::new()),
        };
        self.samples.push_back((current, now));
        while self
            .samples
            .front()
            .is_some_and(|(_, at)| now.duration_since(*at) > SAMPLES_KEPT)
        {
            self.samples.pop_front();
        }
        Ok(rows
            .iter()
            .map(|r| {
                let name = r.first().and_then(SqlValue::as_text).unwrap_or_default();
                let replayed = r.get(2).and_then(SqlValue::as_number);
                let reported = r.get(3).and_then(SqlValue::as_number);
                ReplicaLag {
                    name: name.to_string(),
                    lag: Ok(self.dated(current, replayed, reported, now)),
                }
            })
            .collect())
    }

    /// A standby's lag from its replay position: caught up at the primary's
    /// position, otherwise behind since the oldest reading it has not replayed,
    /// or by PostgreSQL's own figure when that is more.
    fn dated(
        &self,
        current: f64,
        replayed: Option<f64>,
        reported: Option<f64>,
        now: Instant,
    ) -> Lag {
        let Some(replayed) = replayed else {
            return Lag::Unknown(
                "its replay position is hidden (grant pg_monitor to retentiond's role) or not reported yet"
                    .into(),
            );
        };
        if replayed >= current {
            return Lag::CaughtUp;
        }
        let since = self
            .samples
            .iter()
            .find(|(lsn, _)| *lsn > replayed)
            .map_or(Duration::ZERO, |(_, at)| now.duration_since(*at));
        let reported = Duration::from_secs_f64(reported.unwrap_or(0.0).max(0.0));
        Lag::Behind(since.max(reported))
    }
}

/// What the primary has written: PostgreSQL's WAL position, or MySQL's binary log
/// file and position (`None` where the role may not read it).
enum Position {
    Wal(f64),
    Binlog(Option<(String, u64)>),
}

async fn primary_position(primary: &mut Db) -> Result<Position, DbError> {
    match &mut primary.conn {
        Conn::Postgres(_) => {
            let q =
                Query::new("SELECT CAST(pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0') AS float8)");
            let rows = primary.fetch(&q).await?;
            let bytes = rows
                .first()
                .and_then(|r| r.first())
                .and_then(SqlValue::as_number);
            Ok(Position::Wal(bytes.unwrap_or(0.0)))
        }
        Conn::MySql(c) => {
            // Needs BINLOG MONITOR (REPLICATION CLIENT before MariaDB 10.5). Without
            // it, a replica is caught up when it has executed all it received.
            let status = mysql::show(c, "SHOW MASTER STATUS").await.ok().flatten();
            Ok(Position::Binlog(status.and_then(|s| {
                let file = s.get("File")?.clone()?;
                let pos = s.get("Position")?.as_deref()?.parse().ok()?;
                Some((file, pos))
            })))
        }
        Conn::Sqlite(_) => Ok(Position::Wal(0.0)),
    }
}

impl Watched {
    async fn read(&mut self, primary: &Position) -> Result<Lag, DbError> {
        if self.conn.is_none() {
            self.conn = Some(Db::open(&self.settings, Access::ReadOnly).await?);
        }
        let db = self.conn.as_mut().expect("connected above");
        match (primary, &mut db.conn) {
            (Position::Wal(current), Conn::Postgres(_)) => postgres_standby(db, *current).await,
            (Position::Binlog(current), Conn::MySql(c)) => {
                // A Galera node has no replication lag to show: what would make a
                // batch wait is flow control and its receive queue.
                if let Some(flow) = galera::flow(c).await? {
                    return Ok(flow.holds_back().map_or(Lag::CaughtUp, Lag::Busy));
                }
                let status = match mysql::show(c, "SHOW REPLICA STATUS").await {
                    Ok(s) => s,
                    // Before MySQL 8.0.22 and MariaDB 10.5.1.
                    Err(_) => mysql::show(c, "SHOW SLAVE STATUS").await?,
                };
                Ok(mysql_replica(status, current.as_ref()))
            }
            _ => Err(DbError::Unsupported(format!(
                "replica {} is not on the primary's backend",
                self.name
            ))),
        }
    }
}

async fn postgres_standby(db: &mut Db, current: f64) -> Result<Lag, DbError> {
    let q = Query::new(
        "SELECT CAST(pg_is_in_recovery() AS int), \
         CAST(pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0') AS float8), \
         CAST(extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) AS float8)",
    );
    let rows = db.fetch(&q).await?;
    let row = rows.first().cloned().unwrap_or_default();
    let number = |i: usize| row.get(i).and_then(SqlValue::as_number);
    if number(0) != Some(1.0) {
        return Ok(Lag::Unknown(
            "it is not a standby (pg_is_in_recovery() is false)".into(),
        ));
    }
    Ok(match (number(1), number(2)) {
        (Some(replayed), _) if replayed >= current => Lag::CaughtUp,
        (_, Some(age)) => Lag::Behind(Duration::from_secs_f64(age.max(0.0))),
        (_, None) => Lag::Unknown("it has replayed no transaction since it started".into()),
    })
}

/// A MySQL or MariaDB replica's lag from its `SHOW REPLICA STATUS`; column names
/// of either generation (`Master`/`Source`, `Slave`/`Replica`).
fn mysql_replica(
    status: Option<HashMap<String, Option<String>>>,
    primary: Option<&(String, u64)>,
) -> Lag {
    let Some(s) = status else {
        return Lag::Unknown("it is not a replica (SHOW REPLICA STATUS is empty)".into());
    };
    let field = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| s.get(*n).cloned().flatten())
            .unwrap_or_default()
    };
    if field(&["Slave_SQL_Running", "Replica_SQL_Running"]) != "Yes" {
        return Lag::Unknown("its SQL thread is not running".into());
    }
    let executed = (
        field(&["Relay_Master_Log_File", "Relay_Source_Log_File"]),
        field(&["Exec_Master_Log_Pos", "Exec_Source_Log_Pos"])
            .parse::<u64>()
            .unwrap_or(0),
    );
    let received = (
        field(&["Master_Log_File", "Source_Log_File"]),
        field(&["Read_Master_Log_Pos", "Read_Source_Log_Pos"])
            .parse::<u64>()
            .unwrap_or(0),
    );
    let caught_up = match primary {
        Some((file, pos)) => executed >= (file.clone(), *pos),
        None => executed == received,
    };
    if caught_up {
        return Lag::CaughtUp;
    }
    // Seconds_Behind_Master stays 0 until the SQL thread takes up an event it has
    // just received; a configured delay (MASTER_DELAY) says how late it will apply it.
    let delay = field(&["SQL_Delay"]).parse::<u64>().unwrap_or(0);
    match field(&["Seconds_Behind_Master", "Seconds_Behind_Source"]).parse::<u64>() {
        Ok(s) => Lag::Behind(Duration::from_secs(s.max(delay))),
        Err(_) => Lag::Unknown("Seconds_Behind_Master is NULL".into()),
    }
}
