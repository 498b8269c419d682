//! The command line: arguments, the commands, their text and JSON output, and the
//! mapping of failures to exit codes (0 ok, 1 runtime failure, 2 bad usage or config,
//! 3 refused by a safety guard).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, anyhow};
use chrono::Utc;
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::json;

use crate::config::{self, Config, ConfigError};
use crate::db::{self, Access, Db, DbError};
use crate::purge::{self, Clock, PassOptions, PassReport, PurgeError, Status, Trigger};
use crate::{demo, scheduler};

#[derive(Debug, Parser)]
#[command(
    name = "retentiond",
    version,
    about = "Enforces data-retention rules against a shop's SQL database"
)]
pub struct Cli {
    /// Config file [default: $RETENTIOND_CONFIG, ./retention.toml, /etc/retentiond/retention.toml]
    #[arg(short, long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Log format on stderr
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate the config, connect, and check every table and column it names
    Check {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Treat warnings (a timestamp without an index, unreadable timestamps) as errors
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Dry run: per policy, the cutoff and how many rows would be purged; writes nothing
    Plan {
        #[arg(long, value_name = "NAME")]
        policy: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Run one pass now, recorded like a scheduled run
    Purge {
        #[arg(long, value_name = "NAME")]
        policy: Option<String>,
        /// Same as `plan`: count, write nothing
        #[arg(long)]
        dry_run: bool,
        /// Purge even where a policy would take more than max_table_fraction of its table
        #[arg(long)]
        force: bool,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// The daemon: passes on the [schedule], until SIGTERM (SIGHUP reloads the config)
    Run,
    /// Last pass per policy and the next scheduled run
    Status {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// The audit trail
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Legal holds: a held subject's rows are never purged or erased
    Hold {
        #[command(subcommand)]
        command: HoldCommand,
    },
    /// Register an erasure request (due in 30 days); answered at the next pass
    Erase {
        /// The subject's id, as its policies' `subject` columns hold it
        #[arg(long)]
        subject: String,
        /// Why; `minor` (a minor's data, deleted on discovery) is answered at once
        #[arg(long)]
        reason: Option<String>,
        /// The request's reference (a ticket number)
        #[arg(long)]
        reference: Option<String>,
        /// Answer it now instead of at the next pass
        #[arg(long)]
        now: bool,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// A purge report for a period, for the data-protection officer
    Report {
        /// First day (YYYY-MM-DD) [default: the first day of last month]
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Last day, inclusive (YYYY-MM-DD) [default: the last day of last month]
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
        #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
        format: ReportFormat,
        /// Write to FILE instead of standard output
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Show the subject ids of legal holds (personal data: off by default)
        #[arg(long)]
        include_subjects: bool,
    },
    /// Create or upgrade retentiond's own tables
    Migrate {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Create a sample shop on SQLite with 12 years of data and purge it with the config
    Demo {
        /// Where to create the shop [default: the SQLite file the config's url names]
        #[arg(long, value_name = "PATH")]
        db: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Markdown,
    Html,
    Csv,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum HoldCommand {
    /// Put a subject's rows under a legal hold
    Add {
        /// The subject's id, as its policies' `subject` columns hold it
        #[arg(long)]
        subject: String,
        /// Why (a case number, a lawsuit); shown in reports
        #[arg(long)]
        reason: String,
        /// Only this policy [default: every policy with a subject column]
        #[arg(long, value_name = "NAME")]
        policy: Option<String>,
        /// The last day the hold applies (YYYY-MM-DD) [default: until released]
        #[arg(long, value_name = "DATE")]
        until: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Every hold, active and released
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// End a hold; rows whose period ran out meanwhile go at the next pass
    Release {
        id: i64,
        #[arg(long)]
        reason: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain and name the first broken event
    Verify {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

impl Command {
    /// The log level when RUST_LOG is not set: passes log each policy at INFO; the
    /// read-only commands keep stderr to warnings.
    pub fn default_log_level(&self) -> &'static str {
        match self {
            Command::Purge { dry_run: false, .. } | Command::Migrate { .. } | Command::Run => {
                "info"
            }
            _ => "warn",
        }
    }
}

/// A failure with the exit code it maps to.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub error: anyhow::Error,
}

pub const EXIT_FAILURE: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_REFUSED: u8 = 3;

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Failure {
        Failure {
            code: EXIT_USAGE,
            error: e.into(),
        }
    }
}

impl From<DbError> for Failure {
    fn from(e: DbError) -> Failure {
        Failure {
            code: EXIT_FAILURE,
            error: e.into(),
        }
    }
}

impl From<PurgeError> for Failure {
    fn from(e: PurgeError) -> Failure {
        let code = match e {
            PurgeError::UnknownPolicy(..) => EXIT_USAGE,
            PurgeError::Db(_) => EXIT_FAILURE,
        };
        Failure {
            code,
            error: e.into(),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Failure {
        Failure {
            code: EXIT_FAILURE,
            error,
        }
    }
}

type Outcome = Result<u8, Failure>;

pub async fn run(cli: Cli) -> Outcome {
    let explicit = cli.config.as_deref();
    match cli.command {
        Command::Check {
            format,
            deny_warnings,
        } => check(&load(explicit)?, format, deny_warnings).await,
        Command::Plan { policy, format } => plan(&load(explicit)?, policy.as_deref(), format).await,
        Command::Purge {
            policy,
            dry_run: true,
            format,
            ..
        } => plan(&load(explicit)?, policy.as_deref(), format).await,
        Command::Purge {
            policy,
            dry_run: false,
            force,
            format,
        } => {
            let config = load(explicit)?;
            let mut opts = PassOptions::new(Trigger::Manual);
            opts.only = policy;
            opts.force = force;
            purge(&config, &opts, format).await
        }
        Command::Run => {
            let path = config::locate(explicit)?;
            let config = config::load(&path)?;
            crate::daemon::run(path, config).await.map_err(|e| {
                let code = match e {
                    crate::daemon::DaemonError::NoSchedule(_) => EXIT_USAGE,
                    _ => EXIT_FAILURE,
                };
                Failure {
                    code,
                    error: e.into(),
                }
            })?;
            Ok(0)
        }
        Command::Status { format } => status(&load(explicit)?, format).await,
        Command::Audit {
            command: AuditCommand::Verify { format },
        } => audit_verify(&load(explicit)?, format).await,
        Command::Migrate { format } => migrate(&load(explicit)?, format).await,
        Command::Hold { command } => hold(&load(explicit)?, command).await,
        Command::Erase {
            subject,
            reason,
            reference,
            now,
            format,
        } => erase(&load(explicit)?, subject, reason, reference, now, format).await,
        Command::Report {
            from,
            to,
            format,
            output,
            include_subjects,
        } => report(&load(explicit)?, from, to, format, output, include_subjects).await,
        Command::Demo { db, format } => run_demo(explicit, db.as_deref(), format).await,
    }
}

fn load(explicit: Option<&Path>) -> Result<Config, Failure> {
    let path = config::locate(explicit)?;
    Ok(config::load(&path)?)
}

fn print_json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_else(|_| "{}".into())
    );
}

fn exit_for(status: Status) -> u8 {
    match status {
        Status::Ok | Status::Interrupted | Status::Skipped => 0,
        Status::Failed => EXIT_FAILURE,
        Status::Refused => EXIT_REFUSED,
    }
}

async fn check(config: &Config, format: Format, deny_warnings: bool) -> Outcome {
    let mut db = Db::open(&config.database, Access::ReadOnly).await?;
    let now = db.now().await?;
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let mut policies = Vec::new();
    for p in &config.policies {
        let report = db::resolve(&mut db, p).await?;
        let mut entry = json!({
            "name": p.name,
            "table": p.table.name,
            "action": p.action,
            "keep": p.keep.to_string(),
            "cutoff": db::rfc3339(p.cutoff(now)),
        });
        if let Some(t) = &report.target {
            let unreadable = t.count_unreadable(&mut db, None).await?;
            entry["timestamp_encoding"] = json!(t.encoding.describe());
            entry["unreadable"] = json!(unreadable);
            if unreadable > 0 {
                warnings.push(format!(
                    "{}: policy `{}`: {unreadable} row(s) of `{}` have a timestamp that is not readable {}; they are never purged",
                    config.at(p.timestamp.loc),
                    p.name,
                    t.table_name,
                    t.encoding.describe()
                ));
            }
        }
        problems.extend(
            report
                .problems
                .iter()
                .map(|pr| format!("{}: {}", config.at(pr.loc), pr.message)),
        );
        warnings.extend(
            report
                .warnings
                .iter()
                .map(|w| format!("{}: {}", config.at(w.loc), w.message)),
        );
        policies.push(entry);
    }
    let fits = problems.is_empty() && (warnings.is_empty() || !deny_warnings);
    match format {
        Format::Json => print_json(&json!({
            "config": config.path.display().to_string(),
            "config_sha256": config.sha256,
            "database": db.label(),
            "database_now": db::rfc3339(now),
            "ok": fits,
            "policies": policies,
            "problems": problems,
            "warnings": warnings,
        })),
        Format::Text => {
            let mut out = String::new();
            let _ = writeln!(
                out,
                "config    {} ({} policies, sha256 {})",
                config.path.display(),
                config.policies.len(),
                &config.sha256[..12]
            );
            let _ = writeln!(
                out,
                "database  {} {} (clock {})",
                db.backend().name(),
                db.label(),
                db::rfc3339(now)
            );
            for p in &policies {
                let _ = writeln!(
                    out,
                    "policy    {:<20} {:<9} {:<20} keep {:<10} timestamps: {}",
                    p["name"].as_str().unwrap_or(""),
                    p["action"].as_str().unwrap_or(""),
                    p["table"].as_str().unwrap_or(""),
                    p["keep"].as_str().unwrap_or(""),
                    p["timestamp_encoding"].as_str().unwrap_or("-"),
                );
            }
            for w in &warnings {
                let _ = writeln!(out, "warning: {w}");
            }
            for pr in &problems {
                let _ = writeln!(out, "error: {pr}");
            }
            let _ = writeln!(
                out,
                "{}",
                if fits {
                    "ok: the config is valid and fits the database".to_string()
                } else if problems.is_empty() {
                    format!("{} warning(s), denied by --deny-warnings", warnings.len())
                } else {
                    format!(
                        "{} problem(s): the config does not fit the database",
                        problems.len()
                    )
                }
            );
            print!("{out}");
        }
    }
    Ok(if fits { 0 } else { EXIT_USAGE })
}

fn policy_table(report: &PassReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<20} {:<9} {:<20} {:<24} {:>9} {:>7} {:>10}  STATUS",
        "POLICY", "ACTION", "TABLE", "CUTOFF", "ROWS", "BATCHES", "UNREADABLE"
    );
    for p in &report.policies {
        let _ = writeln!(
            out,
            "{:<20} {:<9} {:<20} {:<24} {:>9} {:>7} {:>10}  {}",
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
                "{:<20} {:<9} {:<20} {:<24} {:>9}",
                "", "cascade", child, "", n
            );
        }
    }
    for p in &report.policies {
        if let Some(e) = &p.error {
            let _ = writeln!(out, "{}: {e}", p.status.as_str());
        }
    }
    out
}

async fn plan(config: &Config, only: Option<&str>, format: Format) -> Outcome {
    let mut db = Db::open(&config.database, Access::ReadOnly).await?;
    let report = purge::plan(&mut db, config, only, Clock::Database).await?;
    match format {
        Format::Json => print_json(&serde_json::to_value(&report).map_err(anyhow::Error::from)?),
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

async fn purge(config: &Config, opts: &PassOptions, format: Format) -> Outcome {
    let mut db = Db::open(&config.database, Access::ReadWrite).await?;
    let report = purge::run_pass(&mut db, config, opts).await?;
    db.close().await?;
    match format {
        Format::Json => print_json(&serde_json::to_value(&report).map_err(anyhow::Error::from)?),
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

async fn status(config: &Config, format: Format) -> Outcome {
    let mut db = Db::open(&config.database, Access::ReadOnly).await?;
    let has_tables = db.has_own_tables().await?;
    let (last, per_policy) = if has_tables {
        (db.last_run().await?, db.last_policy_runs().await?)
    } else {
        (None, Vec::new())
    };
    let open_requests: Vec<db::ErasureRequest> = if has_tables {
        db.erasure_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.status == "open")
            .collect()
    } else {
        Vec::new()
    };
    let next = config
        .schedule
        .as_ref()
        .and_then(|s| scheduler::next_after(s, Utc::now()));
    let policies: Vec<serde_json::Value> = config
        .policies
        .iter()
        .map(|p| {
            let last = per_policy.iter().find(|(_, r)| r.policy == p.name);
            json!({
                "name": p.name,
                "table": p.table.name,
                "action": p.action,
                "last_run_id": last.map(|(_, r)| r.run_id),
                "last_run_at": last.map(|(at, _)| at.clone()),
                "last_status": last.map(|(_, r)| r.status.clone()),
                "last_rows": last.map(|(_, r)| r.rows),
                "last_error": last.and_then(|(_, r)| r.error.clone()),
            })
        })
        .collect();
    match format {
        Format::Json => print_json(&json!({
            "database": db.label(),
            "last_run": last.as_ref().map(|r| json!({
                "id": r.id, "trigger": r.trigger, "started_at": r.started_at,
                "finished_at": r.finished_at, "status": r.status, "rows": r.rows_purged,
                "success": r.status == "ok",
            })),
            "next_run": next.map(db::rfc3339),
            "schedule": config.schedule.as_ref().map(|s| json!({"cron": s.cron, "timezone": s.timezone.name()})),
                        "reports": config.report.as_ref().map(|r| json!({"dir": r.dir.display().to_string(), "files": report_files(&r.dir)})),
            "open_erasure_requests": open_requests.iter().map(|r| json!({"id": r.id, "received_at": r.received_at, "due_at": r.due_at, "minor": r.minor})).collect::<Vec<_>>(),
            "policies": policies,
        })),
        Format::Text => {
            match &last {
                Some(r) => println!(
                    "last pass  #{} ({}) started {}, {}, {} rows{}",
                    r.id,
                    r.trigger,
                    r.started_at,
                    r.status,
                    r.rows_purged,
                    if r.status == "ok" {
                        ""
                    } else {
                        " (not a success)"
                    }
                ),
                None => println!("last pass  none recorded in {}", db.label()),
            }
            match (&config.schedule, next) {
                (Some(s), Some(n)) => println!(
                    "next pass  {} ({} {})",
                    db::rfc3339(n),
                    s.cron,
                    s.timezone.name()
                ),
                _ => println!("next pass  no [schedule] in {}", config.path.display()),
            }
            for r in &open_requests {
                println!(
                    "erasure    request #{} received {}, due {}{}",
                    r.id,
                    r.received_at,
                    r.due_at,
                    if r.minor { " (minor)" } else { "" }
                );
            }
            if let Some(r) = &config.report {
                let files = report_files(&r.dir);
                println!(
                    "reports    {} ({} file(s){})",
                    r.dir.display(),
                    files.len(),
                    files
                        .last()
                        .map(|f| format!(", newest {f}"))
                        .unwrap_or_default()
                );
            }
            println!(
                "{:<20} {:<20} {:<26} {:<12} {:>9}",
                "POLICY", "TABLE", "LAST RUN", "STATUS", "ROWS"
            );
            for p in &policies {
                println!(
                    "{:<20} {:<20} {:<26} {:<12} {:>9}",
                    p["name"].as_str().unwrap_or(""),
                    p["table"].as_str().unwrap_or(""),
                    p["last_run_at"].as_str().unwrap_or("never"),
                    p["last_status"].as_str().unwrap_or("-"),
                    p["last_rows"]
                        .as_i64()
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| "-".into()),
                );
            }
        }
    }
    Ok(0)
}

async fn audit_verify(config: &Config, format: Format) -> Outcome {
    let mut db = Db::open(&config.database, Access::ReadOnly).await?;
    let (verifier, broken) = db.verify_chain().await?;
    match format {
        Format::Json => print_json(&json!({
            "ok": broken.is_none(),
            "verified": verifier.verified,
            "head": verifier.head(),
            "broken": broken.as_ref().map(|b| b.to_string()),
        })),
        Format::Text => match &broken {
            None => println!(
                "audit trail intact: {} events verified{}",
                verifier.verified,
                verifier
                    .head()
                    .map(|h| format!(", head {h}"))
                    .unwrap_or_default()
            ),
            Some(b) => println!(
                "audit trail broken: {b} ({} events before it verified)",
                verifier.verified
            ),
        },
    }
    Ok(if broken.is_none() { 0 } else { EXIT_FAILURE })
}

/// The report files in `dir`, sorted by name (so by period).
fn report_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("retentiond-report-") && !n.ends_with(".sha256"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn day(arg: &str, value: &str) -> Result<chrono::NaiveDate, Failure> {
    chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| usage(format!("{arg} {value:?} is not a date: write YYYY-MM-DD")))
}

async fn report(
    config: &Config,
    from: Option<String>,
    to: Option<String>,
    format: ReportFormat,
    output: Option<PathBuf>,
    include_subjects: bool,
) -> Outcome {
    let (default_from, default_to) = crate::report::last_full_month(Utc::now().date_naive());
    let from = match from {
        Some(f) => day("--from", &f)?,
        None => default_from,
    };
    let to = match to {
        Some(t) => day("--to", &t)?,
        None => default_to,
    };
    if to < from {
        return Err(usage(format!("--to {to} is before --from {from}")));
    }
    // Bring retentiond's tables up to date if they exist (migrations only add), so a
    // database upgraded in place reports; never create them here.
    let mut db = Db::open(&config.database, Access::ReadWrite).await?;
    if db.has_own_tables().await? {
        db.migrate().await?;
    }
    let report = crate::report::gather(&mut db, config, from, to, include_subjects).await?;
    let text = match format {
        ReportFormat::Markdown => crate::report::markdown(&report),
        ReportFormat::Html => crate::report::html(&report),
        ReportFormat::Csv => crate::report::csv(&report),
        ReportFormat::Json => {
            serde_json::to_string_pretty(&report).map_err(anyhow::Error::from)? + "\n"
        }
    };
    match output {
        Some(path) => std::fs::write(&path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(0)
}

/// The days an erasure request may take: the shop's promise, the GDPR's month.
const ERASURE_DAYS: i64 = 30;

async fn erase(
    config: &Config,
    subject: String,
    reason: Option<String>,
    reference: Option<String>,
    now: bool,
    format: Format,
) -> Outcome {
    if subject.trim().is_empty() {
        return Err(usage("--subject must not be empty".into()));
    }
    if !config.policies.iter().any(|p| p.subject.is_some()) {
        return Err(usage(format!(
            "no policy in {} names a subject column, so nothing could be erased",
            config.path.display()
        )));
    }
    let minor = reason.as_deref() == Some("minor");
    let mut db = Db::open(&config.database, Access::ReadWrite).await?;
    db.migrate().await?;
    let received = Utc::now();
    let due = received + chrono::TimeDelta::days(ERASURE_DAYS);
    let id = db
        .insert_erasure(
            &subject,
            reason.as_deref(),
            reference.as_deref(),
            minor,
            &db::rfc3339(received),
            &db::rfc3339(due),
        )
        .await?;
    let event = crate::audit::NewEvent {
        run_id: 0,
        created_at: db::rfc3339(received),
        policy: "*".into(),
        table_name: "-".into(),
        action: "erasure_registered",
        cutoff: None,
        rows: 0,
        children: Default::default(),
        detail: Some(format!(
            "erasure request #{id} registered{}, due {}",
            if minor { " (minor)" } else { "" },
            db::rfc3339(due)
        )),
    };
    purge::append_event(&mut db, event).await?;
    let answer = if now || minor {
        let mut opts = PassOptions::new(Trigger::Manual);
        opts.erasure_only = Some(id);
        let report = purge::run_pass(&mut db, config, &opts).await?;
        report.erasures.into_iter().next()
    } else {
        None
    };
    db.close().await?;
    match format {
        Format::Json => print_json(
            &json!({"id": id, "due": db::rfc3339(due), "minor": minor, "answer": answer}),
        ),
        Format::Text => match &answer {
            None => println!(
                "erasure request #{id} registered, due {}; it is answered at the next pass",
                db::rfc3339(due)
            ),
            Some(a) => {
                println!("erasure request #{id}: {}", a.status);
                for e in &a.policies {
                    let until = e
                        .kept_until
                        .as_deref()
                        .map(|u| format!(" until {u}"))
                        .unwrap_or_default();
                    let why = e
                        .reason
                        .as_deref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default();
                    println!(
                        "  {:<20} {:<10} {:>7} rows{why}{until}",
                        e.policy, e.outcome, e.rows
                    );
                }
            }
        },
    }
    Ok(match &answer {
        Some(a) if a.status == "open" => EXIT_FAILURE,
        _ => 0,
    })
}

fn usage(message: String) -> Failure {
    Failure {
        code: EXIT_USAGE,
        error: anyhow!(message),
    }
}

async fn hold(config: &Config, command: HoldCommand) -> Outcome {
    let mut db = Db::open(&config.database, Access::ReadWrite).await?;
    db.migrate().await?;
    let now = db::rfc3339(Utc::now());
    let event =
        |action: &'static str, policy: Option<&str>, detail: String| crate::audit::NewEvent {
            run_id: 0,
            created_at: now.clone(),
            policy: policy.unwrap_or("*").to_string(),
            table_name: "-".into(),
            action,
            cutoff: None,
            rows: 0,
            children: Default::default(),
            detail: Some(detail),
        };
    let code = match command {
        HoldCommand::Add {
            subject,
            reason,
            policy,
            until,
            format,
        } => {
            if let Some(name) = &policy {
                match config.policy(name) {
                    Some(p) if p.subject.is_some() => {}
                    Some(_) => {
                        return Err(usage(format!(
                            "policy `{name}` has no subject column, so it cannot hold a subject's rows"
                        )));
                    }
                    None => return Err(usage(format!("no policy named `{name}` in the config"))),
                }
            }
            if subject.trim().is_empty() || reason.trim().is_empty() {
                return Err(usage("--subject and --reason must not be empty".into()));
            }
            // A hold applies through the whole of its last day.
            let until = match until {
                None => None,
                Some(d) => {
                    let day = chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|_| {
                        usage(format!("--until {d:?} is not a date: write YYYY-MM-DD"))
                    })?;
                    let end = day
                        .succ_opt()
                        .and_then(|n| n.and_hms_opt(0, 0, 0))
                        .map(|n| db::rfc3339(n.and_utc()));
                    Some(end.ok_or_else(|| usage(format!("--until {d} is out of range")))?)
                }
            };
            let id = db
                .insert_hold(&db::NewHold {
                    subject,
                    reason,
                    policy: policy.clone(),
                    created_at: now.clone(),
                    until: until.clone(),
                })
                .await?;
            let scope = policy
                .clone()
                .unwrap_or_else(|| "every policy with a subject column".into());
            purge::append_event(
                &mut db,
                event(
                    "hold_added",
                    policy.as_deref(),
                    format!(
                        "hold #{id} added for {scope}, until {}",
                        until.as_deref().unwrap_or("released")
                    ),
                ),
            )
            .await?;
            match format {
                Format::Json => print_json(&json!({"id": id, "policy": policy, "until": until})),
                Format::Text => println!(
                    "hold #{id} added for {scope}, until {}",
                    until.as_deref().unwrap_or("released")
                ),
            }
            0
        }
        HoldCommand::List { format } => {
            let holds = db.holds().await?;
            match format {
                Format::Json => print_json(&json!(
                    holds
                        .iter()
                        .map(|h| json!({"active": h.is_active(&now), "hold": h}))
                        .collect::<Vec<_>>()
                )),
                Format::Text => {
                    println!(
                        "{:>5}  {:<8}  {:<20}  {:<16}  {:<24}  REASON",
                        "ID", "STATE", "SUBJECT", "POLICY", "UNTIL"
                    );
                    for h in &holds {
                        println!(
                            "{:>5}  {:<8}  {:<20}  {:<16}  {:<24}  {}",
                            h.id,
                            if h.is_active(&now) { "active" } else { "ended" },
                            h.subject,
                            h.policy.as_deref().unwrap_or("(all)"),
                            h.released_at
                                .as_deref()
                                .map(|r| format!("released {r}"))
                                .or(h.until.clone())
                                .unwrap_or_else(|| "released by hand".into()),
                            h.reason
                        );
                    }
                }
            }
            0
        }
        HoldCommand::Release { id, reason, format } => {
            if !db.release_hold(id, &now, reason.clone()).await? {
                return Err(usage(format!(
                    "no active hold #{id} (hold list shows them)"
                )));
            }
            let policy = db
                .holds()
                .await?
                .into_iter()
                .find(|h| h.id == id)
                .and_then(|h| h.policy);
            purge::append_event(
                &mut db,
                event(
                    "hold_released",
                    policy.as_deref(),
                    format!("hold #{id} released"),
                ),
            )
            .await?;
            match format {
                Format::Json => print_json(&json!({"id": id, "released_at": now})),
                Format::Text => {
                    println!("hold #{id} released; rows whose period ran out go at the next pass")
                }
            }
            0
        }
    };
    db.close().await?;
    Ok(code)
}

async fn migrate(config: &Config, format: Format) -> Outcome {
    let mut db = Db::open(&config.database, Access::ReadWrite).await?;
    db.migrate().await?;
    let label = db.label().to_string();
    db.close().await?;
    match format {
        Format::Json => print_json(&json!({"database": label, "migrated": true})),
        Format::Text => println!("retentiond's tables are up to date in {label}"),
    }
    Ok(0)
}

/// Creates the HMAC key the config names if it does not exist yet: the demo should
/// run on a fresh clone without manual steps. Only `demo` does this.
fn ensure_demo_key(config_path: &Path) -> anyhow::Result<Option<PathBuf>> {
    let text = std::fs::read_to_string(config_path)
        .with_context(|| format!("cannot read {}", config_path.display()))?;
    let Ok(root) = toml::de::DeTable::parse(&text) else {
        return Ok(None);
    };
    let key_file = root
        .get_ref()
        .iter()
        .find(|(k, _)| k.get_ref() == "anonymize")
        .and_then(|(_, v)| match v.get_ref() {
            toml::de::DeValue::Table(t) => t
                .iter()
                .find(|(k, _)| k.get_ref() == "key_file")
                .map(|(_, v)| v.get_ref().clone()),
            _ => None,
        });
    let Some(toml::de::DeValue::String(file)) = key_file else {
        return Ok(None);
    };
    let base = config_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let path = base.join(file.as_ref());
    if path.exists() {
        return Ok(None);
    }
    let mut key = [0u8; config::MIN_KEY_BYTES];
    rand::fill(&mut key);
    write_private(&path, &key)
        .with_context(|| format!("cannot create the demo HMAC key {}", path.display()))?;
    Ok(Some(path))
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}

async fn run_demo(explicit: Option<&Path>, db_path: Option<&Path>, format: Format) -> Outcome {
    let started = Instant::now();
    let config_path = match explicit {
        Some(p) => p.to_path_buf(),
        None => PathBuf::from("retention.toml"),
    };
    let created_key = ensure_demo_key(&config_path)?;
    let mut config = config::load(&config_path)?;
    let path = match db_path {
        Some(p) => p.to_path_buf(),
        None => {
            if db::Backend::of_url(&config.database.url) != Some(db::Backend::Sqlite) {
                return Err(Failure {
                    code: EXIT_USAGE,
                    error: anyhow!(
                        "the demo runs on SQLite, but {} names another database; pass --db demo.db",
                        config.path.display()
                    ),
                });
            }
            db::sqlite_path(&config.database.url, &config.database.base_dir)?
        }
    };
    let data = demo::create(&path, Utc::now()).await.map_err(|e| match e {
        demo::DemoError::NotADemo(_) => Failure {
            code: EXIT_USAGE,
            error: e.into(),
        },
        other => Failure {
            code: EXIT_FAILURE,
            error: other.into(),
        },
    })?;
    let generated = started.elapsed();
    let absolute = std::path::absolute(&path).unwrap_or(path.clone());
    config.database.url = format!("sqlite://{}", absolute.display());
    config.database.source = crate::backend::UrlSource::Config;

    let mut db = Db::open(&config.database, Access::ReadWrite).await?;
    let report = purge::run_pass(&mut db, &config, &PassOptions::new(Trigger::Demo)).await?;
    let (verifier, broken) = db.verify_chain().await?;
    db.close().await?;
    let elapsed = started.elapsed();

    match format {
        Format::Json => print_json(&json!({
            "database": absolute.display().to_string(),
            "hmac_key_created": created_key.map(|p| p.display().to_string()),
            "tables": data.tables.iter().map(|(t, n)| json!({"table": t, "rows": n})).collect::<Vec<_>>(),
            "rows_created": data.total(),
            "pass": report,
            "audit": {"ok": broken.is_none(), "verified": verifier.verified, "head": verifier.head()},
            "generate_ms": generated.as_millis() as u64,
            "total_ms": elapsed.as_millis() as u64,
        })),
        Format::Text => {
            if let Some(k) = &created_key {
                println!(
                    "created a demo HMAC key at {} (for the `hash` strategy)",
                    k.display()
                );
            }
            println!(
                "created a sample shop at {}: {} rows over 12 years in {:.1} s",
                absolute.display(),
                data.total(),
                generated.as_secs_f64()
            );
            for (t, n) in &data.tables {
                println!("  {t:<20} {n:>8} rows");
            }
            println!();
            println!(
                "purged it with {} (pass #{}, {}):",
                config.path.display(),
                report.run_id.unwrap_or(0),
                report.status.as_str()
            );
            print!("{}", policy_table(&report));
            println!("total: {} rows purged", report.rows());
            println!();
            match &broken {
                None => println!("audit trail intact: {} events verified", verifier.verified),
                Some(b) => println!("audit trail broken: {b}"),
            }
            println!("done in {:.1} s", elapsed.as_secs_f64());
            println!();
            println!(
                "next: retentiond status; retentiond plan (0 rows left to purge); retentiond audit verify"
            );
        }
    }
    Ok(exit_for(report.status).max(if broken.is_some() { EXIT_FAILURE } else { 0 }))
}
