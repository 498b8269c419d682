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
