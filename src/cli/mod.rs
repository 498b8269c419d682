//! The command line: one file per command group. Each parses what clap could not,
//! calls the engine (or the report), and prints text or JSON. No rules, no SQL, no
//! audit events here. Failures map to exit codes in one place ([`Failure`]): 0 ok,
//! 1 runtime failure, 2 bad usage or config, 3 refused by a safety guard.

mod args;
mod check;
mod demo;
mod erase;
mod export;
mod hold;
mod init;
mod pass;
mod report;
mod status;
mod token;

use std::path::Path;

use anyhow::anyhow;

use crate::config::{self, Config, ConfigError};
use crate::db::{Access, Db, DbError};
use crate::engine::{EngineError, PassOptions, Status, Trigger};

pub use args::{
    AuditCommand, Cli, Command, ExportFormat, ExportReason, Format, Generated, HoldCommand,
    LogFormat, ReportFormat, TokenCommand, TokenRole,
};

/// A failure with the exit code it maps to.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub error: anyhow::Error,
}

pub const EXIT_FAILURE: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_REFUSED: u8 = 3;

impl Failure {
    fn usage(error: impl Into<anyhow::Error>) -> Failure {
        Failure {
            code: EXIT_USAGE,
            error: error.into(),
        }
    }
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Failure {
        Failure::usage(e)
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

impl From<EngineError> for Failure {
    fn from(e: EngineError) -> Failure {
        let code = match e {
            EngineError::UnknownPolicy(..) => EXIT_USAGE,
            EngineError::Db(_) => EXIT_FAILURE,
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
            mail,
        } => check::check(&load(explicit)?, format, deny_warnings, mail).await,
        Command::Plan { policy, format } => {
            pass::plan(&load(explicit)?, policy.as_deref(), format).await
        }
        Command::Purge {
            policy,
            dry_run: true,
            format,
            ..
        } => pass::plan(&load(explicit)?, policy.as_deref(), format).await,
        Command::Purge {
            policy,
            dry_run: false,
            force,
            format,
        } => {
            let mut opts = PassOptions::new(Trigger::Manual);
            opts.only = policy;
            opts.force = force;
            pass::purge(&load(explicit)?, &opts, format).await
        }
        Command::Run => run_daemon(explicit).await,
        Command::Status { format } => status::status(&load(explicit)?, format).await,
        Command::Audit {
            command: AuditCommand::Verify { format },
        } => status::audit_verify(&load(explicit)?, format).await,
        Command::Migrate { format } => migrate(&load(explicit)?, format).await,
        Command::Hold { command } => hold::hold(&load(explicit)?, command).await,
        Command::Erase {
            reapply: true,
            format,
            ..
        } => erase::reapply(&load(explicit)?, format).await,
        Command::Erase {
            subject,
            reason,
            reference,
            now,
            format,
            ..
        } => {
            let request = erase::Request {
                subject: subject.unwrap_or_default(),
                reason,
                reference,
                now,
            };
            erase::erase(&load(explicit)?, request, format).await
        }
        Command::Export {
            subject,
            request,
            reason,
            reference,
            register_only,
            format,
            output,
        } => {
            let which = match (subject, request) {
                (_, Some(id)) => export::Which::Registered(id),
                (Some(subject), None) => export::Which::New {
                    subject,
                    reason,
                    reference,
                    register_only,
                },
                (None, None) => return Err(usage("give --subject or --request".into())),
            };
            export::export(&load(explicit)?, which, format, output).await
        }
        Command::Report {
            from,
            to,
            format,
            output,
            include_subjects,
        } => {
            let args = report::Args {
                from,
                to,
                format,
                output,
                include_subjects,
            };
            report::report(&load(explicit)?, args).await
        }
        Command::Generate { what, out_dir } => generate(what, out_dir.as_deref()),
        Command::Init { url, output, force } => init::init(&url, &output, force).await,
        Command::Demo { db, format } => demo::run_demo(explicit, db.as_deref(), format).await,
        Command::Token { command } => token::token(command),
    }
}

fn load(explicit: Option<&Path>) -> Result<Config, Failure> {
    let path = config::locate(explicit)?;
    Ok(config::load(&path)?)
}

async fn run_daemon(explicit: Option<&Path>) -> Outcome {
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

/// Prints one JSON document. Through `Value`, so every object's keys come out
/// sorted, as they always have.
fn print_json(value: &impl serde::Serialize) {
    let text = serde_json::to_value(value).and_then(|v| serde_json::to_string_pretty(&v));
    println!("{}", text.unwrap_or_else(|_| "{}".into()));
}

fn exit_for(status: Status) -> u8 {
    match status {
        Status::Ok | Status::Interrupted | Status::Skipped => 0,
        Status::Failed => EXIT_FAILURE,
        Status::Refused => EXIT_REFUSED,
    }
}

fn usage(message: String) -> Failure {
    Failure::usage(anyhow!(message))
}

/// The man page and completions, from the same clap definitions that parse the
/// command line, so that they never describe another version.
fn generate(what: Generated, out_dir: Option<&Path>) -> Outcome {
    use clap::CommandFactory as _;
    use clap_complete::Shell;
    let mut cmd = Cli::command();
    let mut out = std::io::stdout().lock();
    let shell = match (what, out_dir) {
        (Generated::Man, Some(dir)) => {
            std::fs::create_dir_all(dir).map_err(anyhow::Error::from)?;
            clap_mangen::generate_to(cmd, dir).map_err(anyhow::Error::from)?;
            return Ok(0);
        }
        (Generated::Man, None) => return Err(usage("generate man needs --out-dir".into())),
        (Generated::CompleteBash, _) => Shell::Bash,
        (Generated::CompleteZsh, _) => Shell::Zsh,
        (Generated::CompleteFish, _) => Shell::Fish,
        (Generated::Openapi, _) => {
            println!("{}", crate::api::openapi_document());
            return Ok(0);
        }
    };
    clap_complete::generate(shell, &mut cmd, "retentiond", &mut out);
    Ok(0)
}

async fn migrate(config: &Config, format: Format) -> Outcome {
    let mut db = Db::open(&config.database, Access::ReadWrite).await?;
    db.migrate().await?;
    let label = db.label().to_string();
    db.close().await?;
    match format {
        Format::Json => print_json(&serde_json::json!({"database": label, "migrated": true})),
        Format::Text => println!("retentiond's tables are up to date in {label}"),
    }
    Ok(0)
}
