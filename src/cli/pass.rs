//! `plan` and `purge`: one pass (or its dry run), printed as a table or JSON.

use std::fmt::Write as _;

use super::{EXIT_USAGE, Format, Outcome, exit_for, print_json};
use crate::config::Config;
use crate::db::{Access, Db};
use crate::engine::{self, Clock, PassOptions, PassReport, Status};
use crate::policy::Walk;

/// The per-policy table `plan`, `purge` and `demo` print, then what went wrong and
/// what was left.
pub(super) fn policy_table(report: &PassReport) -> String {
    let w = report
        .policies
        .iter()
        .map(|p| p.name.len())
        .max()
        .unwrap_or(0)
        .max(20);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<w$} {:<9} {:<20} {:<24} {:>9} {:>7} {:>10}  STATUS",
        "POLICY", "ACTION", "TABLE", "CUTOFF", "ROWS", "BATCHES", "UNREADABLE"
    );
    for p in &report.policies {
        let _ = writeln!(
            out,
            "{:<w$} {:<9} {:<20} {:<24} {:>9} {:>7} {:>10}  {}",
            p.name,
            p.action.as_str(),
            p.table,
            p.cutoff.as_deref().unwrap_or("-"),
            p.rows,
            p.batches,
            p.unreadable,
            p.status.as_str()
        );
        for (child, n) in &p.children {
            let _ = writeln!(
                out,
                "{:<w$} {:<9} {:<20} {:<24} {:>9}",
                "", "cascade", child, "", n
            );
        }
        // A plan says how each policy would walk its table; a pass, where it took
        // the table walk.
        if let Some(walk) = p
            .walk
            .as_ref()
            .filter(|c| report.dry_run || c.walk == Walk::Table)
        {
            let _ = writeln!(
                out,
                "{:<w$} {:<9} {}: {}",
                "",
                "walk",
                walk.walk.as_str(),
                walk.why
            );
        }
        let f = &p.files;
        if !f.is_empty() {
            let _ = writeln!(
                out,
                "{:<w$} {:<9} {} queued, {} removed, {} already gone, {} refused, {} failed",
                "", "files", f.queued, f.removed, f.already_gone, f.refused, f.failed
            );
        }
    }
    let left = &report.leftover_files;
    if !left.is_empty() {
        let _ = writeln!(
            out,
            "files an earlier pass left queued: {} removed, {} already gone, {} refused, {} failed",
            left.removed, left.already_gone, left.refused, left.failed
        );
    }
    for p in &report.policies {
        if let Some(e) = &p.error {
            let _ = writeln!(out, "{}: {e}", p.status.as_str());
        }
        if p.cannot_anonymize > 0 {
            let _ = writeln!(
                out,
                "{}: {} expired row(s) hold a value its strategy cannot read; they are left as they are",
                p.name, p.cannot_anonymize
            );
        }
    }
    out
}

pub(super) async fn plan(config: &Config, only: Option<&str>, format: Format) -> Outcome {
    let mut db = Db::open(&config.database, Access::ReadOnly).await?;
    let report = engine::plan(&mut db, config, only, Clock::Database).await?;
    match format {
        Format::Json => print_json(&report),
        Format::Text => {
            println!(
                "dry run at database time {}: nothing is written",
                report.database_now
            );
            print!("{}", policy_table(&report));
            println!("total: {} rows would be purged", report.rows());
        }
    }
    // A policy that does not fit the schema is a config problem here: nothing ran.
    Ok(match report.status {
        Status::Failed => EXIT_USAGE,
        other => exit_for(other),
    })
}

pub(super) async fn purge(config: &Config, opts: &PassOptions, format: Format) -> Outcome {
    let mut db = Db::open(&config.database, Access::ReadWrite).await?;
    let report = engine::run_pass(&mut db, config, opts).await?;
    db.close().await?;
    match format {
        Format::Json => print_json(&report),
        Format::Text => {
            println!(
                "pass #{} at database time {}: {}",
                report.run_id.unwrap_or(0),
                report.database_now,
                report.status.as_str()
            );
            if let Some(e) = &report.error {
                println!("{}: {e}", report.status.as_str());
            }
            print!("{}", policy_table(&report));
            println!("total: {} rows purged", report.rows());
        }
    }
    Ok(exit_for(report.status))
}
