//! When passes run: the next time a `[schedule]` cron line fires, in its time zone.

use chrono::{DateTime, Utc};

use crate::config::Schedule;

/// The first time strictly after `t` at which `schedule` fires. The cron line is
/// evaluated in the schedule's zone at every step, so daylight-saving changes move
/// the UTC instant, not the local time.
pub fn next_after(schedule: &Schedule, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let cron: croner::Cron = schedule.cron.parse().ok()?;
    let local = t.with_timezone(&schedule.timezone);
    cron.find_next_occurrence(&local, false)
        .ok()
        .map(|n| n.with_timezone(&Utc))
}

/// The last time at or before `t` at which `schedule` fired.
pub fn previous_at_or_before(schedule: &Schedule, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let cron: croner::Cron = schedule.cron.parse().ok()?;
    let local = t.with_timezone(&schedule.timezone);
    cron.find_previous_occurrence(&local, true)
        .ok()
        .map(|n| n.with_timezone(&Utc))
}

/// How many times `schedule` fired in (`from`, `to`].
pub fn ticks_between(schedule: &Schedule, from: DateTime<Utc>, to: DateTime<Utc>) -> usize {
    let mut n = 0;
    let mut t = from;
    while let Some(next) = next_after(schedule, t) {
        if next > to || n > 10_000 {
            break;
        }
        n += 1;
        t = next;
    }
    n
}

/// Whether a scheduled pass was missed: the last successful pass is older than the
/// last time the schedule fired (the host was down, or the pass failed). Like
/// systemd timers' `Persistent=`, a database with no successful pass yet has missed
/// nothing.
pub fn missed_since(
    schedule: &Schedule,
    last_success: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    match (last_success, previous_at_or_before(schedule, now)) {
        (Some(last), Some(previous)) => last < previous,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn daily_run_in_jakarta_is_utc_evening() {
        let s = Schedule {
            cron: "0 30 2 * * *".into(),
            timezone: chrono_tz::Asia::Jakarta,
        };
        let t = Utc.with_ymd_and_hms(2026, 11, 22, 3, 0, 0).unwrap();
        assert_eq!(
            next_after(&s, t),
            Some(Utc.with_ymd_and_hms(2026, 11, 22, 19, 30, 0).unwrap())
        );
    }

    fn local_ticks(cron: &str, from: DateTime<Utc>, n: usize) -> Vec<String> {
        let s = Schedule {
            cron: cron.into(),
            timezone: chrono_tz::Europe::Berlin,
        };
        let mut t = from;
        (0..n)
            .map(|_| {
                t = next_after(&s, t).expect("a next tick");
                t.with_timezone(&s.timezone)
                    .format("%m-%d %H:%M %Z")
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn berlin_fires_at_the_local_time_across_the_march_change_once_a_day() {
        let from = Utc.with_ymd_and_hms(2026, 3, 27, 0, 0, 0).unwrap();
        assert_eq!(
            local_ticks("0 30 2 * * *", from, 5),
            [
                "03-27 02:30 CET",
                "03-28 02:30 CET",
                // 02:30 does not exist on the 29th: once, at the first instant after the gap.
                "03-29 03:00 CEST",
                "03-30 02:30 CEST",
                "03-31 02:30 CEST"
            ]
        );
    }

    #[test]
    fn berlin_fires_once_on_the_october_day_that_has_two_02_30s() {
        let from = Utc.with_ymd_and_hms(2026, 10, 23, 0, 0, 0).unwrap();
        assert_eq!(
            local_ticks("30 2 * * *", from, 5),
            [
                "10-23 02:30 CEST",
                "10-24 02:30 CEST",
                "10-25 02:30 CEST",
                "10-26 02:30 CET",
                "10-27 02:30 CET"
            ]
        );
    }

    #[test]
    fn a_pass_missed_while_the_host_was_down_is_caught_up() {
        let s = Schedule {
            cron: "0 30 2 * * *".into(),
            timezone: chrono_tz::UTC,
        };
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap();
        let yesterday = Utc.with_ymd_and_hms(2026, 11, 21, 2, 30, 5).unwrap();
        let today = Utc.with_ymd_and_hms(2026, 11, 22, 2, 30, 5).unwrap();
        assert!(missed_since(&s, Some(yesterday), now));
        assert!(!missed_since(&s, Some(today), now));
        assert!(
            !missed_since(&s, None, now),
            "a first start has missed nothing"
        );
        assert_eq!(ticks_between(&s, yesterday, now), 1);
        let every_second = Schedule {
            cron: "* * * * * *".into(),
            timezone: chrono_tz::UTC,
        };
        assert_eq!(
            ticks_between(&every_second, now, now + chrono::TimeDelta::seconds(5)),
            5
        );
    }

    #[test]
    fn five_field_lines_have_no_seconds() {
        let s = Schedule {
            cron: "30 2 * * *".into(),
            timezone: chrono_tz::UTC,
        };
        let t = Utc.with_ymd_and_hms(2026, 11, 22, 3, 0, 0).unwrap();
        assert_eq!(
            next_after(&s, t),
            Some(Utc.with_ymd_and_hms(2026, 11, 23, 2, 30, 0).unwrap())
        );
    }
}
