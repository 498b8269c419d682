//! Waiting for lagging replicas before a batch (`[database] max_replica_lag`), so
//! that purging never widens the gap a replica must catch up on. Lag that cannot
//! be read is waited for like lag that is too high, up to `max_replica_wait`; then
//! the policy fails: it never purges blind while the operator asked it to watch.

use std::time::{Duration, Instant};

use super::{Stop, StopSignal};
use crate::backend::ReplicaWatch;
use crate::db::{Db, DbError, Lag, Leader, ReplicaLag, Replicas};
use crate::policy::Policy;

/// How often the lag is read while waiting.
const POLL: Duration = Duration::from_millis(250);
/// How often a wait that goes on is logged again.
const LOG_EVERY: Duration = Duration::from_secs(30);

/// Why the next batch may not start yet: which replica, and what it shows.
struct Blocked {
    replica: String,
    lag_ms: Option<u64>,
    why: String,
}

/// Waits while a replica lags further behind than `watch.max_lag`, or cannot be
/// read, adding the time waited to `waited_ms`; fails the policy after
/// `watch.max_wait`.
pub(super) async fn wait_until_caught_up(
    db: &mut Db,
    replicas: &mut Replicas,
    p: &Policy,
    watch: &ReplicaWatch,
    (stop, leader): (&StopSignal, &mut Leader),
    waited_ms: &mut u64,
) -> Result<(), Stop> {
    let started = Instant::now();
    let result = wait(db, replicas, p, watch, (stop, leader), started).await;
    *waited_ms += started.elapsed().as_millis() as u64;
    result
}

async fn wait(
    db: &mut Db,
    replicas: &mut Replicas,
    p: &Policy,
    watch: &ReplicaWatch,
    (stop, leader): (&StopSignal, &mut Leader),
    started: Instant,
) -> Result<(), Stop> {
    let mut logged: Option<Instant> = None;
    while !stop.is_requested() {
        // A long wait keeps the pass lock: on a cluster its lease would run out.
        if !leader.keep().await {
            return Err(Stop::failed(format!(
                "policy `{}`: this instance lost the pass lock while it waited for the replicas",
                p.name
            )));
        }
        let readings = replicas.read(db).await;
        let Some(blocked) = first_blocked(readings, watch.max_lag) else {
            if logged.is_some() {
                tracing::info!(
                    policy = %p.name, waited_ms = started.elapsed().as_millis() as u64,
                    "replicas caught up; going on"
                );
            }
            return Ok(());
        };
        if started.elapsed() >= watch.max_wait {
            return Err(Stop::failed(format!(
                "policy `{}`: replica {} {} after waiting {} s (max_replica_wait); not purging while lag cannot be kept under max_replica_lag",
                p.name,
                blocked.replica,
                blocked.why,
                watch.max_wait.as_secs()
            )));
        }
        if logged.is_none_or(|t| t.elapsed() >= LOG_EVERY) {
            tracing::warn!(
                policy = %p.name, replica = %blocked.replica, lag_ms = blocked.lag_ms,
                max_ms = watch.max_lag.as_millis() as u64, reason = %blocked.why,
                "waiting before the next batch: a replica lags behind"
            );
            logged = Some(Instant::now());
        }
        tokio::time::sleep(POLL).await;
    }
    Ok(())
}

/// The first replica that holds the next batch back, if any.
fn first_blocked(readings: Result<Vec<ReplicaLag>, DbError>, max: Duration) -> Option<Blocked> {
    let readings = match readings {
        Ok(r) => r,
        Err(e) => {
            return Some(Blocked {
                replica: "lag on the primary".into(),
                lag_ms: None,
                why: format!("cannot be read: {e}"),
            });
        }
    };
    readings.into_iter().find_map(|r| {
        let (lag_ms, why) = match r.lag {
            Ok(Lag::CaughtUp) => return None,
            Ok(Lag::Behind(d)) if d <= max => return None,
            Ok(Lag::Behind(d)) => (
                Some(d.as_millis() as u64),
                format!("shows data {:.1} s old", d.as_secs_f64()),
            ),
            Ok(Lag::Unknown(why)) => (None, format!("lags by an unknown time: {why}")),
            Ok(Lag::Busy(why)) => (None, why),
            // The replica's name is already the URL `Open` would repeat.
            Err(DbError::Open { reason, .. }) => (None, format!("cannot be reached: {reason}")),
            Err(e) => (None, format!("cannot be reached: {e}")),
        };
        Some(Blocked {
            replica: r.name,
            lag_ms,
            why,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(name: &str, lag: Lag) -> ReplicaLag {
        ReplicaLag {
            name: name.into(),
            lag: Ok(lag),
        }
    }

    #[test]
    fn lag_over_the_limit_or_unknown_holds_the_batch_back() {
        let max = Duration::from_secs(2);
        let fine = vec![
            reading("a", Lag::CaughtUp),
            reading("b", Lag::Behind(Duration::from_millis(1900))),
        ];
        assert!(first_blocked(Ok(fine), max).is_none());
        let late = vec![
            reading("a", Lag::CaughtUp),
            reading("b", Lag::Behind(Duration::from_millis(2500))),
        ];
        let b = first_blocked(Ok(late), max).expect("b lags");
        assert_eq!((b.replica.as_str(), b.lag_ms), ("b", Some(2500)));
        let unknown = vec![reading(
            "c",
            Lag::Unknown("its SQL thread is not running".into()),
        )];
        let c = first_blocked(Ok(unknown), max).expect("unknown lag is not none");
        assert!(c.why.contains("SQL thread"), "{}", c.why);
        let gone = vec![ReplicaLag {
            name: "d".into(),
            lag: Err(crate::db::DbError::Decode("x".into())),
        }];
        assert!(
            first_blocked(Ok(gone), max)
                .expect("unreachable")
                .why
                .contains("cannot be reached")
        );
    }
}
