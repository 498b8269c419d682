//! `retentiond init`: a first retention.toml drafted from the live catalog and a
//! sample of each table's rows. `findings` says what each table holds, `roles`
//! which promise it stands for and why, `cascades` what goes with an order,
//! `policies` maps the default policy's four promises onto the tables, `render`
//! writes the commented file. The draft is parsed like any config, checked and
//! counted with `plan` before it is written; nothing is written to the database.

mod cascades;
mod findings;
mod policies;
mod render;
mod roles;

use std::path::Path;

use chrono::Utc;

use crate::config;
use crate::db::{self, Db, DbError};
use crate::engine::{self, Clock, EngineError};
use crate::schema::{self, Relations};

pub use cascades::DraftCascade;
pub use findings::{Findings, Role, Stored};
pub use policies::DraftPolicy;

/// Rows sampled per table to recognise timestamps and personal data.
pub const SAMPLE_ROWS: usize = 200;

/// A drafted config and what it was drafted from.
#[derive(Debug, Clone)]
pub struct Draft {
    pub text: String,
    pub policies: Vec<DraftPolicy>,
    pub findings: Vec<Findings>,
}

#[derive(Debug, thiserror::Error)]
pub enum DraftError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    // A draft that does not parse is retentiond's own bug: say so, with the problems.
    #[error("the drafted config does not validate (a bug in `init`; please report it): {0}")]
    Invalid(String),
}

/// The URL as the draft writes it: without its password, and why.
fn written_url(url: &str) -> (String, Option<&'static str>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_string(), None);
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return (url.to_string(), None);
    };
    match userinfo.split_once(':') {
        Some((user, _password)) => (
            format!("{scheme}://{user}@{host}"),
            Some(
                "The password is not written here: give the whole URL in url_file or RETENTIOND_DATABASE_URL.",
            ),
        ),
        None => (url.to_string(), None),
    }
}

/// Drafts a config for the database `db` is connected to, for the file at
/// `config_path` (relative SQLite paths in `url` are read against its directory).
pub async fn draft(db: &mut Db, url: &str, config_path: &Path) -> Result<Draft, DraftError> {
    let tables = db.survey().await?;
    let (samples, _) = db.samples(&tables, SAMPLE_ROWS).await?;
    let relations = Relations::of(&tables);
    let people = schema::people_table(&tables);
    let personal = schema::personal_columns(&tables, &samples, &relations, people.as_deref());
    let mut found: Vec<Findings> = tables
        .iter()
        .zip(&samples)
        .zip(&personal)
        .map(|((t, rows), cols)| findings::findings(t, rows, cols, people.as_deref()))
        .collect();
    roles::assign(&mut found, &tables, &relations, people.as_deref());
    let mut drafted = policies::draft_policies(&found, &tables, &relations);
    let (url, url_note) = written_url(url);
    let drafted_at = db::rfc3339(Utc::now());
    let database = db.label().to_string();
    let header = render::Header {
        database: &database,
        url: &url,
        url_note,
        drafted_at: &drafted_at,
    };
    let text = render::render(&header, &drafted, &found);
    let parsed = config::parse(config_path, text.as_bytes(), None)
        .map_err(|e| DraftError::Invalid(format!("{e:#}")))?;
    let plan = engine::plan(db, &parsed, None, Clock::Database).await?;
    for (p, counted) in drafted.iter_mut().zip(&plan.policies) {
        match counted.status {
            engine::Status::Ok => p.plan = Some(counted.rows),
            engine::Status::Refused => {
                p.plan = Some(counted.rows);
                p.notes.push(
                    "that is more than [limits] max_table_fraction of the table: `purge` refuses it until you confirm with --force".into(),
                );
            }
            _ => {}
        }
    }
    Ok(Draft {
        text: render::render(&header, &drafted, &found),
        policies: drafted,
        findings: found,
    })
}
