//! The daemon's periodic reports: which period is due, and writing each format once,
//! with a `.sha256` file beside it. A report once written is never overwritten.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Days, NaiveDate, TimeDelta, Utc};

use super::{ReportError, gather, last_full_month};
use crate::config::{Config, ReportPeriod, ReportSettings, Schedule};
use crate::db::Db;
use crate::scheduler;

/// How every periodic report's file name starts.
pub(super) const FILE_PREFIX: &str = "retentiond-report-";

/// The last complete period before `now` under `period`: first day, last day, and the
/// label its files are named by (`2026-10`, `2026-W44`, `2026-10-01_2026-10-31`).
pub fn last_period(
    period: &ReportPeriod,
    now: DateTime<Utc>,
) -> Option<(NaiveDate, NaiveDate, String)> {
    let today = now.date_naive();
    match period {
        ReportPeriod::Monthly => {
            let (from, to) = last_full_month(today);
            Some((from, to, from.format("%Y-%m").to_string()))
        }
        ReportPeriod::Weekly => {
            let monday = today - Days::new(u64::from(today.weekday().num_days_from_monday()));
            let from = monday - Days::new(7);
            let week = from.iso_week();
            Some((
                from,
                monday.pred_opt()?,
                format!("{}-W{:02}", week.year(), week.week()),
            ))
        }
        ReportPeriod::Cron(line) => {
            let schedule = Schedule {
                cron: line.clone(),
                timezone: chrono_tz::UTC,
            };
            let last = scheduler::previous_at_or_before(&schedule, now)?;
            let before = scheduler::previous_at_or_before(&schedule, last - TimeDelta::seconds(1))?;
            let from = before.date_naive();
            let to = last.date_naive().pred_opt()?.max(from);
            Some((from, to, format!("{from}_{to}")))
        }
    }
}

/// Writes the last complete period's report in each configured format, with a
/// `.sha256` file beside each, unless it exists already: a restarted daemon does
/// not write it again. Returns the files written.
pub async fn write_due(
    db: &mut Db,
    config: &Config,
    settings: &ReportSettings,
    now: DateTime<Utc>,
) -> Result<Vec<PathBuf>, ReportError> {
    let Some((from, to, label)) = last_period(&settings.period, now) else {
        return Ok(Vec::new());
    };
    std::fs::create_dir_all(&settings.dir).map_err(|e| write_error(&settings.dir, e))?;
    let mut report = None;
    let mut written = Vec::new();
    for ext in &settings.formats {
        let name = format!("{FILE_PREFIX}{label}.{ext}");
        let path = settings.dir.join(&name);
        if path.exists() {
            continue;
        }
        if report.is_none() {
            report = Some(gather(db, config, from, to, false).await?);
        }
        let r = report.as_ref().expect("gathered above");
        let text = match ext.as_str() {
            "html" => super::html(r),
            "md" => super::markdown(r),
            "csv" => super::csv(r),
            _ => super::json(r),
        };
        if write_new(&path, &text)? {
            let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes()));
            let sum_path = settings.dir.join(format!("{name}.sha256"));
            std::fs::write(&sum_path, format!("{digest}  {name}\n"))
                .map_err(|e| write_error(&sum_path, e))?;
            written.push(path);
        }
    }
    Ok(written)
}

/// The period a report file is of: `2026-11` of `retentiond-report-2026-11.html`.
pub fn label_of(file: &str) -> Option<String> {
    let rest = file.strip_prefix(FILE_PREFIX)?;
    let (label, _ext) = rest.rsplit_once('.')?;
    Some(label.to_string())
}

/// The report files written into `dir`, sorted by name (so by period).
pub fn written_reports(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| {
                    n.starts_with(FILE_PREFIX) && !n.ends_with(".sha256") && !n.ends_with(".sent")
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Writes `text` to a file that must not exist yet, durably; `false` if another
/// process wrote it first.
fn write_new(path: &Path, text: &str) -> Result<bool, ReportError> {
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(write_error(path, e)),
    };
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| write_error(path, e))?;
    Ok(true)
}

fn write_error(path: &Path, error: std::io::Error) -> ReportError {
    ReportError::Write {
        path: path.display().to_string(),
        error,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn periods_end_before_today() {
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 3, 0, 0).unwrap();
        let (from, to, label) = last_period(&ReportPeriod::Monthly, now).unwrap();
        assert_eq!(
            (from.to_string(), to.to_string(), label.as_str()),
            ("2026-10-01".into(), "2026-10-31".into(), "2026-10")
        );
        let (from, to, label) = last_period(&ReportPeriod::Weekly, now).unwrap();
        assert_eq!(
            (from.to_string(), to.to_string(), label.as_str()),
            ("2026-11-09".into(), "2026-11-15".into(), "2026-W46")
        );
        let (from, to, _) = last_period(&ReportPeriod::Cron("0 0 6 1 * *".into()), now).unwrap();
        assert_eq!(
            (from.to_string(), to.to_string()),
            ("2026-10-01".into(), "2026-10-31".into())
        );
        let (from, to) = last_full_month(NaiveDate::from_ymd_opt(2026, 1, 15).unwrap());
        assert_eq!(
            (from.to_string(), to.to_string()),
            ("2025-12-01".into(), "2025-12-31".into())
        );
    }
}
