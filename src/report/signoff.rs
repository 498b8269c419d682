//! A reviewer's sign-off of a periodic report: who, when, and the SHA-256 of each
//! of the period's files, recorded in the audit chain; and the check, run by
//! `audit verify`, that every signed file still has the hash it was signed with.
//!
//! The event's detail is the record, in one fixed form:
//! `report LABEL signed by NAME[, through ...]: FILE sha256:HEX; FILE sha256:HEX`.

use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::periodic::FILE_PREFIX;
use crate::audit::EventAction;
use crate::config::ReportSettings;
use crate::db::{Db, DbError};
use crate::engine::{Actor, record_outside_pass};

/// One recorded sign-off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignOff {
    pub event_id: i64,
    pub label: String,
    /// The reviewer's name and, when signed through the API, the token's.
    pub by: String,
    pub at: String,
    /// Each file of the period and its SHA-256 when signed.
    pub files: Vec<(String, String)>,
}

/// Whether a signed file is as it was signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileState {
    Intact,
    /// Its bytes changed after the sign-off.
    Changed,
    /// Not in the report folder any more (archived, or deleted).
    Missing,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignedFile {
    pub label: String,
    pub file: String,
    pub state: FileState,
}

#[derive(Debug, thiserror::Error)]
pub enum SignOffError {
    #[error("no report for period `{0}` in the report folder")]
    NoReport(String),
    #[error(
        "the reviewer's name must be 1 to 100 letters, spaces, `.`, `-` or `'` (it is written in the audit trail)"
    )]
    BadName,
    #[error("cannot read {file}: {error}")]
    Read { file: String, error: std::io::Error },
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The files of period `label` in the report folder, by name.
pub fn period_files(settings: &ReportSettings, label: &str) -> Vec<String> {
    settings
        .formats
        .iter()
        .map(|ext| format!("{FILE_PREFIX}{label}.{ext}"))
        .filter(|name| settings.dir.join(name).is_file())
        .collect()
}

fn sha256_of(path: &Path) -> std::io::Result<String> {
    Ok(hex::encode(Sha256::digest(std::fs::read(path)?)))
}

fn valid_reviewer(name: &str) -> bool {
    let n = name.trim();
    !n.is_empty()
        && n.chars().count() <= 100
        && n.chars()
            .all(|c| c.is_alphabetic() || matches!(c, ' ' | '.' | '-' | '\''))
}

/// Records `reviewer`'s sign-off of period `label`, with each file's hash.
pub async fn sign(
    db: &mut Db,
    settings: &ReportSettings,
    label: &str,
    reviewer: &str,
    actor: &Actor,
) -> Result<Vec<(String, String)>, SignOffError> {
    if !valid_reviewer(reviewer) {
        return Err(SignOffError::BadName);
    }
    let names = period_files(settings, label);
    if names.is_empty() {
        return Err(SignOffError::NoReport(label.into()));
    }
    let mut files = Vec::new();
    for name in names {
        let hash = sha256_of(&settings.dir.join(&name)).map_err(|error| SignOffError::Read {
            file: name.clone(),
            error,
        })?;
        files.push((name, hash));
    }
    let list: Vec<String> = files
        .iter()
        .map(|(n, h)| format!("{n} sha256:{h}"))
        .collect();
    let detail = format!(
        "report {label} signed by {}{}: {}",
        reviewer.trim(),
        actor.words(),
        list.join("; ")
    );
    db.ensure_own_tables().await?;
    record_outside_pass(db, EventAction::ReportSigned, detail).await?;
    Ok(files)
}

/// Every sign-off in the audit trail, oldest first.
pub async fn sign_offs(db: &mut Db) -> Result<Vec<SignOff>, DbError> {
    if !db.has_own_tables().await? {
        return Ok(Vec::new());
    }
    let events = db
        .events_with_action(EventAction::ReportSigned.as_str())
        .await?;
    Ok(events
        .into_iter()
        .filter_map(|e| {
            let mut s = parse(e.detail.as_deref()?)?;
            s.event_id = e.id;
            s.at = e.created_at;
            Some(s)
        })
        .collect())
}

fn parse(detail: &str) -> Option<SignOff> {
    let rest = detail.strip_prefix("report ")?;
    let (label, rest) = rest.split_once(" signed by ")?;
    let (by, list) = rest.rsplit_once(": ")?;
    let files = list
        .split("; ")
        .map(|f| {
            let (name, hash) = f.rsplit_once(" sha256:")?;
            Some((name.to_string(), hash.to_string()))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(SignOff {
        event_id: 0,
        label: label.into(),
        by: by.into(),
        at: String::new(),
        files,
    })
}

/// Each signed file against the folder as it is now.
pub fn check(settings: &ReportSettings, sign_offs: &[SignOff]) -> Vec<SignedFile> {
    let mut out = Vec::new();
    for s in sign_offs {
        for (name, hash) in &s.files {
            let state = match sha256_of(&settings.dir.join(name)) {
                Ok(now) if &now == hash => FileState::Intact,
                Ok(_) => FileState::Changed,
                Err(_) => FileState::Missing,
            };
            out.push(SignedFile {
                label: s.label.clone(),
                file: name.clone(),
                state,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sign_off_is_read_back_from_its_detail() {
        let d = "report 2026-11 signed by Anna Schmidt, through the API by token `dpo-anna`: retentiond-report-2026-11.html sha256:ab12; retentiond-report-2026-11.md sha256:cd34";
        let s = parse(d).unwrap();
        assert_eq!(s.label, "2026-11");
        assert_eq!(s.by, "Anna Schmidt, through the API by token `dpo-anna`");
        assert_eq!(s.files.len(), 2);
        assert_eq!(
            s.files[1],
            ("retentiond-report-2026-11.md".into(), "cd34".into())
        );
        assert!(parse("hold #3 added").is_none());
    }

    #[test]
    fn a_reviewer_is_a_name_not_markup() {
        assert!(valid_reviewer("Anna-Lena O'Brien"));
        assert!(valid_reviewer("Jürgen Müller"));
        for bad in ["", "  ", "<script>", "a: b", "x; y", &"a".repeat(101)] {
            assert!(!valid_reviewer(bad), "{bad}");
        }
    }
}
