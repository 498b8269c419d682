//! How many rows the next batch takes: a fixed `batch_size`, or a size that follows
//! the measured rate so that each transaction takes about `batch_time`.
//!
//! The adaptive size is percona-toolkit's: an exponentially weighted average of rows
//! and of seconds (weight 0.75 on the past), their ratio times the target time. Two
//! brakes are Spirit's: a batch that takes five times the target cuts the size to a
//! tenth at once, and the size grows by at most half per batch. `max_batch_size`
//! caps it, so that the strategies that read rows hold a bounded number.

use std::time::Duration;

/// The weight of everything measured before the latest batch.
const WEIGHT: f64 = 0.75;
/// A batch this many times slower than the target cuts the size at once.
const PANIC_FACTOR: u32 = 5;
/// The cut: the size becomes this fraction of itself.
const PANIC_CUT: f64 = 0.1;
/// The most a size grows from one batch to the next.
const MAX_GROWTH: f64 = 1.5;
/// The smallest adaptive size.
pub const MIN_BATCH_SIZE: u32 = 10;

/// The next batch's size.
#[derive(Debug, Clone)]
pub struct BatchSizer {
    mode: Mode,
    size: u32,
}

#[derive(Debug, Clone)]
enum Mode {
    Fixed,
    Adaptive {
        target: Duration,
        max: u32,
        /// Weighted sums of rows and seconds; zero before the first batch.
        rows: f64,
        seconds: f64,
    },
}

impl BatchSizer {
    /// Always `size` rows.
    pub fn fixed(size: u32) -> BatchSizer {
        BatchSizer {
            mode: Mode::Fixed,
            size: size.max(1),
        }
    }

    /// Starting at `start` rows, then following the rate towards `target` per batch,
    /// never above `max`.
    pub fn adaptive(start: u32, target: Duration, max: u32) -> BatchSizer {
        let max = max.max(MIN_BATCH_SIZE);
        BatchSizer {
            mode: Mode::Adaptive {
                target,
                max,
                rows: 0.0,
                seconds: 0.0,
            },
            size: start.clamp(MIN_BATCH_SIZE, max),
        }
    }

    /// The size of the next batch.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// Never more than `max` rows from now on: the most one transaction may write
    /// on the server (Galera's `wsrep_max_ws_rows`).
    pub fn cap(&mut self, max: u32) {
        let max = max.max(1);
        if let Mode::Adaptive { max: m, .. } = &mut self.mode {
            *m = (*m).min(max);
        }
        self.size = self.size.min(max);
    }

    /// After the server refused a batch as too large: half the size, and never
    /// more from now on. `false` when a batch of one row was refused.
    pub fn halve(&mut self) -> bool {
        if self.size <= 1 {
            return false;
        }
        self.cap(self.size / 2);
        if let Mode::Adaptive { rows, seconds, .. } = &mut self.mode {
            *rows = 0.0;
            *seconds = 0.0;
        }
        true
    }

    /// The weighted rate, rows per second, once a batch has been measured.
    pub fn rate(&self) -> Option<f64> {
        match &self.mode {
            Mode::Adaptive { rows, seconds, .. } if *seconds > 0.0 => Some(rows / seconds),
            _ => None,
        }
    }

    /// Takes in a committed batch of `rows` that took `took`.
    pub fn record(&mut self, rows: u64, took: Duration) {
        let Mode::Adaptive {
            target,
            max,
            rows: avg_rows,
            seconds: avg_seconds,
        } = &mut self.mode
        else {
            return;
        };
        if took > *target * PANIC_FACTOR {
            self.size = ((f64::from(self.size) * PANIC_CUT) as u32)
                .max(MIN_BATCH_SIZE)
                .min(*max);
            // What was measured at the old size no longer predicts the new one.
            *avg_rows = 0.0;
            *avg_seconds = 0.0;
            return;
        }
        // A batch that found fewer rows than asked for (the last one) still measures
        // the rate; one that took no measurable time does not.
        let secs = took.as_secs_f64();
        if rows == 0 || secs <= 0.0 {
            return;
        }
        *avg_rows = *avg_rows * WEIGHT + rows as f64;
        *avg_seconds = *avg_seconds * WEIGHT + secs;
        let wanted = *avg_rows / *avg_seconds * target.as_secs_f64();
        let grown = f64::from(self.size) * MAX_GROWTH;
        self.size = wanted
            .min(grown)
            .clamp(f64::from(MIN_BATCH_SIZE.min(*max)), f64::from(*max))
            .round() as u32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Feeds batches that each take `rows / rate` seconds and returns the sizes.
    fn sizes(mut s: BatchSizer, rate: f64, batches: usize) -> Vec<u32> {
        (0..batches)
            .map(|_| {
                let n = s.size();
                s.record(u64::from(n), Duration::from_secs_f64(f64::from(n) / rate));
                s.size()
            })
            .collect()
    }

    #[test]
    fn a_refused_batch_halves_the_size_for_good() {
        let mut s = BatchSizer::adaptive(1000, ms(100), 50_000);
        s.cap(998);
        assert_eq!(s.size(), 998);
        assert!(s.halve());
        assert_eq!(s.size(), 499);
        // Fast batches grow the size again, but never past the halved one.
        let grown = sizes(s.clone(), 1e7, 20);
        assert_eq!(grown.iter().max(), Some(&499));
        let mut fixed = BatchSizer::fixed(3);
        assert!(fixed.halve());
        assert_eq!(fixed.size(), 1);
        assert!(!fixed.halve(), "one row is as small as a batch gets");
    }

    #[test]
    fn a_fixed_size_never_moves() {
        let mut s = BatchSizer::fixed(4000);
        s.record(4000, Duration::from_secs(10));
        assert_eq!(s.size(), 4000);
        assert_eq!(s.rate(), None);
    }

    #[test]
    fn the_size_settles_where_a_batch_takes_the_target() {
        // 200,000 rows a second and 50 ms a batch: 10,000 rows.
        let got = sizes(BatchSizer::adaptive(5000, ms(50), 100_000), 200_000.0, 12);
        assert_eq!(got[0], 7500, "grows by at most half: {got:?}");
        assert_eq!(got[1], 10_000, "{got:?}");
        assert!(got[2..].iter().all(|&n| n == 10_000), "{got:?}");
    }

    #[test]
    fn a_batch_five_times_too_slow_cuts_the_size_to_a_tenth() {
        let mut s = BatchSizer::adaptive(20_000, ms(50), 100_000);
        s.record(20_000, ms(251));
        assert_eq!(s.size(), 2000);
        s.record(2000, ms(249));
        assert!(s.size() < 2000, "slow, so smaller: {}", s.size());
    }

    #[test]
    fn the_cap_and_the_floor_hold() {
        let fast = sizes(BatchSizer::adaptive(5000, ms(50), 20_000), 10_000_000.0, 10);
        assert_eq!(*fast.last().unwrap(), 20_000, "{fast:?}");
        let slow = sizes(BatchSizer::adaptive(5000, ms(50), 20_000), 10.0, 10);
        assert_eq!(*slow.last().unwrap(), MIN_BATCH_SIZE, "{slow:?}");
    }

    #[test]
    fn the_average_weighs_the_past_by_three_quarters() {
        let mut s = BatchSizer::adaptive(1000, ms(100), 1_000_000);
        s.record(1000, ms(100)); // 10,000 rows/s
        s.record(1000, ms(50)); // 20,000 rows/s, weighted with the past
        let rate = s.rate().unwrap();
        let expected = (1000.0 * 0.75 + 1000.0) / (0.1 * 0.75 + 0.05);
        assert!((rate - expected).abs() < 1e-6, "{rate} vs {expected}");
    }
}
