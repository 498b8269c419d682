//! `retentiond export`: register an access or portability request, and answer it
//! into a JSON document or a directory of CSV files. What is read, and how it is
//! recorded, is the engine's; where it is written, the export module's.

use std::path::{Path, PathBuf};

use super::{EXIT_FAILURE, ExportFormat, ExportReason, Failure, Outcome, usage};
use crate::config::Config;
use crate::db::{self, Access, Db};
use crate::engine::{self, ExportAnswer, ExportError, RequestArgs, RequestError};
use crate::export::{CsvSink, JsonFile, JsonSink};
use crate::outcome::RequestKind;

/// Which request the command answers.
pub(super) enum Which {
    New {
        subject: String,
        reason: ExportReason,
        reference: Option<String>,
        register_only: bool,
    },
    Registered(i64),
}

impl From<ExportError> for Failure {
    fn from(e: ExportError) -> Failure {
        match e {
            ExportError::Request(e) => e.into(),
            ExportError::Db(e) => e.into(),
            other => Failure {
                code: EXIT_FAILURE,
                error: other.into(),
            },
        }
    }
}

pub(super) async fn export(
    config: &Config,
    which: Which,
    format: ExportFormat,
    output: Option<PathBuf>,
) -> Outcome {
    let registers_only = matches!(
        which,
        Which::New {
            register_only: true,
            ..
        }
    );
    if format == ExportFormat::Csv && output.is_none() && !registers_only {
        return Err(usage(
            "--format csv writes a directory: give it with -o DIR".into(),
        ));
    }
    let mut db = Db::open(&config.database, Access::ReadWrite).await?;
    let id = match which {
        Which::Registered(id) => id,
        Which::New {
            subject,
            reason,
            reference,
            register_only,
        } => {
            let kind = match reason {
                ExportReason::Access => RequestKind::Access,
                ExportReason::Portability => RequestKind::Portability,
            };
            let args = RequestArgs {
                kind,
                subject,
                reason: None,
                reference,
                received_at: None,
                actor: engine::Actor::CommandLine,
            };
            let registered = engine::register_request(&mut db, config, args).await?;
            if register_only {
                db.close().await?;
                println!(
                    "{kind} request #{} registered, due {}; answer it with `retentiond export --request {}`",
                    registered.id,
                    db::rfc3339(registered.due),
                    registered.id
                );
                return Ok(0);
            }
            registered.id
        }
    };
    let answer = write(&mut db, config, id, format, output.as_deref()).await;
    db.close().await?;
    let answer = answer?;
    if let Some(path) = &output {
        println!(
            "{} request #{} answered: {} row(s) from {} table(s) written to {}",
            answer.kind,
            answer.id,
            answer.rows(),
            answer.tables.len(),
            path.display()
        );
    }
    Ok(0)
}

async fn write(
    db: &mut Db,
    config: &Config,
    id: i64,
    format: ExportFormat,
    output: Option<&Path>,
) -> Result<ExportAnswer, Failure> {
    let cannot = |path: &Path, e: std::io::Error| {
        Failure::from(anyhow::anyhow!(
            "cannot write the export to {}: {e}",
            path.display()
        ))
    };
    match (format, output) {
        (ExportFormat::Json, None) => {
            let mut sink = JsonSink::new(std::io::BufWriter::new(std::io::stdout().lock()));
            Ok(engine::answer_export(db, config, id, &mut sink).await?)
        }
        (ExportFormat::Json, Some(path)) => {
            let mut file = JsonFile::create(path).map_err(|e| cannot(path, e))?;
            let answer = engine::answer_export(db, config, id, file.sink()).await?;
            file.persist(path).map_err(|e| cannot(path, e))?;
            Ok(answer)
        }
        (ExportFormat::Csv, Some(dir)) => {
            let mut sink = CsvSink::create(dir).map_err(|e| cannot(dir, e))?;
            Ok(engine::answer_export(db, config, id, &mut sink).await?)
        }
        (ExportFormat::Csv, None) => unreachable!("checked before connecting"),
    }
}

impl From<RequestError> for Failure {
    fn from(e: RequestError) -> Failure {
        match e {
            RequestError::Db(e) => e.into(),
            usage => Failure::usage(usage),
        }
    }
}
