//! The rest between two batches, so that the application's writers get in.
//!
//! SQLite has one write lock, and a writer waiting for it polls with growing sleeps
//! (up to 100 ms apart): without a rest, the next batch takes the lock before the
//! writer looks again. But a rest after every batch halves a pass at night, when
//! nothing else writes. So on SQLite the rest follows contention: `PRAGMA
//! data_version` tells whether another connection committed since the last look,
//! and while one does (and for a second after), every batch is followed by the rest.
//! Otherwise a probe rest now and then, at growing intervals up to a second, lets a
//! writer that is already waiting in. PostgreSQL and MySQL lock rows, not the
//! database: there the configured rest (none by default) follows every batch.

use std::time::{Duration, Instant};

use crate::backend::Backend;
use crate::db::Db;

/// How long after the last sign of another writer every batch still rests.
const CONTENDED_FOR: Duration = Duration::from_secs(1);
/// The first and the longest interval between probe rests while nobody writes.
const FIRST_PROBE_GAP: Duration = Duration::from_millis(100);
const LONGEST_PROBE_GAP: Duration = Duration::from_secs(1);

/// When to rest, batch after batch.
pub(super) struct Rests {
    pause: Duration,
    follows_contention: bool,
    /// `data_version` at the last look; `None` before the first.
    seen: Option<i64>,
    contended_until: Option<Instant>,
    /// When the next probe rest is due; set at the first batch.
    next_probe: Option<Instant>,
    probe_gap: Duration,
    /// Rests taken, for the log.
    pub taken: u64,
}

impl Rests {
    pub(super) fn new(backend: Backend, pause: Duration) -> Rests {
        Rests {
            pause,
            follows_contention: backend.one_write_lock(),
            seen: None,
            contended_until: None,
            next_probe: None,
            probe_gap: FIRST_PROBE_GAP,
            taken: 0,
        }
    }

    /// After a committed batch: rests if someone else may want the database.
    pub(super) async fn after_batch(&mut self, db: &mut Db) {
        if self.pause.is_zero() {
            return;
        }
        let version = if self.follows_contention {
            db.data_version().await.ok().flatten()
        } else {
            None
        };
        if self.should_rest(version, Instant::now()) {
            self.taken += 1;
            tokio::time::sleep(self.pause).await;
        }
    }

    /// The decision, given the last `data_version` read (`None`: not followed) at
    /// `now`.
    fn should_rest(&mut self, version: Option<i64>, now: Instant) -> bool {
        if !self.follows_contention {
            return true;
        }
        let moved = matches!((self.seen, version), (Some(a), Some(b)) if a != b);
        if version.is_some() {
            self.seen = version;
        }
        if moved || version.is_none() {
            // Another connection committed (or we cannot tell): rest for a while,
            // then probe from the start again.
            self.contended_until = Some(now + CONTENDED_FOR);
            self.probe_gap = FIRST_PROBE_GAP;
            self.next_probe = Some(now + CONTENDED_FOR + FIRST_PROBE_GAP);
        }
        if self.contended_until.is_some_and(|until| now < until) {
            return true;
        }
        let due = *self.next_probe.get_or_insert(now + FIRST_PROBE_GAP);
        if now >= due {
            self.next_probe = Some(now + self.probe_gap);
            self.probe_gap = (self.probe_gap * 2).min(LONGEST_PROBE_GAP);
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn quiet_sqlite_rests_only_to_probe_at_growing_intervals() {
        let start = Instant::now();
        let mut r = Rests::new(Backend::Sqlite, ms(20));
        // A batch every 10 ms for 3 s, the data version never moving.
        let rests: Vec<u64> = (1..=300)
            .filter(|i| r.should_rest(Some(7), start + ms(10 * i)))
            .collect();
        // Probes 100, 200, 400 and 800 ms apart, then every second: 6 rests in 3 s.
        assert_eq!(rests, [11, 21, 41, 81, 161, 261], "{rests:?}");
    }

    #[test]
    fn another_writer_makes_every_batch_rest_for_a_second() {
        let start = Instant::now();
        let mut r = Rests::new(Backend::Sqlite, ms(20));
        assert!(!r.should_rest(Some(1), start + ms(10)));
        assert!(r.should_rest(Some(2), start + ms(20)), "it moved");
        assert!(
            r.should_rest(Some(2), start + ms(500)),
            "still within the second"
        );
        assert!(!r.should_rest(Some(2), start + ms(1030)), "quiet again");
    }

    #[test]
    fn row_locking_backends_rest_after_every_batch_as_configured() {
        let mut r = Rests::new(Backend::Postgres, ms(5));
        assert!(r.should_rest(None, Instant::now()));
    }
}
