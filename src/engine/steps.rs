//! Where a batch's time went, step by step (taking the transaction and its lock,
//! finding the rows, writing them, the audit event, the commit), so that the
//! longest batch of a policy is reported with its cause rather than as a bare
//! figure.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::spelling::spelled;

spelled! {
    /// A step of a batch. `begin`: BEGIN and the batch lock (on MySQL the lease row,
    /// on PostgreSQL the advisory lock), which waits for another batch or pass.
    pub enum BatchStep {
        Begin = "begin", Find = "find", Write = "write", Audit = "audit", Commit = "commit",
    }
}

/// One committed batch's steps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct BatchTiming {
    pub rows: u64,
    pub ms: u64,
    pub begin_ms: u64,
    pub find_ms: u64,
    pub write_ms: u64,
    pub audit_ms: u64,
    pub commit_ms: u64,
    /// The step that took longest.
    pub slowest_step: Option<BatchStep>,
}

/// Laps of a batch under way: each `lap` closes the step that just ended.
pub(super) struct Stopwatch {
    started: Instant,
    last: Instant,
    laps: [Duration; 5],
}

impl Stopwatch {
    pub fn start() -> Stopwatch {
        let now = Instant::now();
        Stopwatch {
            started: now,
            last: now,
            laps: [Duration::ZERO; 5],
        }
    }

    /// Ends `step` now; a step lapped twice (a batch's two writes) adds up.
    pub fn lap(&mut self, step: BatchStep) {
        let now = Instant::now();
        self.laps[index(step)] += now - self.last;
        self.last = now;
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// The batch's timing, its commit being what is left since the last lap.
    pub fn finish(mut self, rows: u64) -> BatchTiming {
        self.lap(BatchStep::Commit);
        let ms = |d: Duration| d.as_millis() as u64;
        let slowest = BatchStep::ALL
            .iter()
            .copied()
            .max_by_key(|s| self.laps[index(*s)]);
        BatchTiming {
            rows,
            ms: ms(self.started.elapsed()),
            begin_ms: ms(self.laps[index(BatchStep::Begin)]),
            find_ms: ms(self.laps[index(BatchStep::Find)]),
            write_ms: ms(self.laps[index(BatchStep::Write)]),
            audit_ms: ms(self.laps[index(BatchStep::Audit)]),
            commit_ms: ms(self.laps[index(BatchStep::Commit)]),
            slowest_step: slowest,
        }
    }
}

fn index(step: BatchStep) -> usize {
    BatchStep::ALL
        .iter()
        .position(|s| *s == step)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slowest_step_is_named_and_repeated_laps_add_up() {
        let mut w = Stopwatch::start();
        w.lap(BatchStep::Begin);
        std::thread::sleep(Duration::from_millis(15));
        w.lap(BatchStep::Write);
        std::thread::sleep(Duration::from_millis(15));
        w.lap(BatchStep::Write);
        w.lap(BatchStep::Audit);
        let t = w.finish(7);
        assert_eq!(t.rows, 7);
        assert_eq!(t.slowest_step, Some(BatchStep::Write));
        assert!(t.write_ms >= 30, "{t:?}");
        assert!(t.ms >= t.write_ms, "{t:?}");
    }
}
