//! Waiting for lagging replicas before a batch (`[database] max_replica_lag`), so
//! that purging never widens the gap a replica must catch up on.

use std::time::{Duration, Instant};

use super::StopSignal;
use crate::db::Db;
use crate::policy::Policy;

/// How often the lag is read while waiting.
const POLL: Duration = Duration::from_secs(1);
/// How often a wait that goes on is logged again.
const LOG_EVERY: Duration = Duration::from_secs(30);

/// Waits while any replica replays further behind than `max`. Logs why it waits,
/// every 30 s. A lag that cannot be read is logged and not waited for.
pub(super) async fn wait_until_caught_up(
    db: &mut Db,
    p: &Policy,
    max: Duration,
    stop: &StopSignal,
) {
    let mut logged: Option<Instant> = None;
    while !stop.is_requested() {
        match db.replica_lag().await {
            Ok(Some(lag)) if lag > max => {
                if logged.is_none_or(|t| t.elapsed() >= LOG_EVERY) {
                    tracing::warn!(
                        policy = %p.name, lag_ms = lag.as_millis() as u64, max_ms = max.as_millis() as u64,
                        "waiting before the next batch: a replica replays further behind than max_replica_lag"
                    );
                    logged = Some(Instant::now());
                }
                tokio::time::sleep(POLL).await;
            }
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(policy = %p.name, error = %e, "cannot read replica lag; not waiting");
                return;
            }
        }
    }
}
