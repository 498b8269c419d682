//! `retentiond report`: a purge report for a period, on stdout or into a file.

use std::path::PathBuf;

use anyhow::Context;
use chrono::{NaiveDate, Utc};

use super::{Outcome, ReportFormat, usage};
use crate::config::Config;
use crate::db::{Access, Db};
use crate::report;

/// The command's arguments.
pub(super) struct Args {
    pub from: Option<String>,
    pub to: Option<String>,
    pub format: ReportFormat,
    pub output: Option<PathBuf>,
    pub include_subjects: bool,
}

fn day(arg: &str, value: &str) -> Result<NaiveDate, super::Failure> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| usage(format!("{arg} {value:?} is not a date: write YYYY-MM-DD")))
}

pub(super) async fn report(config: &Config, args: Args) -> Outcome {
    let (default_from, default_to) = report::last_full_month(Utc::now().date_naive());
    let from = match &args.from {
        Some(f) => day("--from", f)?,
        None => default_from,
    };
    // With --from alone, the report runs up to today.
    let to = match (&args.to, &args.from) {
        (Some(t), _) => day("--to", t)?,
        (None, Some(_)) => Utc::now().date_naive(),
        (None, None) => default_to,
    };
    if to < from {
        return Err(usage(format!("--to {to} is before --from {from}")));
    }
    // Bring retentiond's tables up to date if they exist (migrations only add), so a
    // database upgraded in place reports; never create them here.
    let mut db = Db::open(&config.database, Access::ReadWrite).await?;
    if db.has_own_tables().await? {
        db.ensure_own_tables().await?;
    }
    let r = report::gather(&mut db, config, from, to, args.include_subjects).await?;
    let text = match args.format {
        ReportFormat::Markdown => report::markdown(&r),
        ReportFormat::Html => report::html(&r),
        ReportFormat::Csv => report::csv(&r),
        ReportFormat::Json => report::json(&r),
    };
    if let (Some(note), ReportFormat::Csv) = (&r.note, args.format) {
        eprintln!("note: {note}");
    }
    match args.output {
        Some(path) => std::fs::write(&path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(0)
}
