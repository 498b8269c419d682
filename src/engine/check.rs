//! `check`: every policy checked against the live catalog, with the problems that
//! make the config unusable and the warnings that do not, each at its config line.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::db::{self, Db, DbError};
use crate::policy::Action;

/// One policy as `check` found it.
#[derive(Debug, Clone, Serialize)]
pub struct CheckedPolicy {
    pub name: String,
    pub table: String,
    pub action: Action,
    pub keep: String,
    pub cutoff: String,
    /// How the timestamp column stores instants; absent when the policy does not fit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp_encoding: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<u64>,
}

/// The whole config against the database.
#[derive(Debug, Clone)]
pub struct CheckReport {
    pub database_now: DateTime<Utc>,
    pub policies: Vec<CheckedPolicy>,
    /// `path:line:col: message`, each making the config unusable here.
    pub problems: Vec<String>,
    /// `path:line:col: message`, each worth a look.
    pub warnings: Vec<String>,
}

impl CheckReport {
    /// Whether the config may be used: no problem, and no warning if they are denied.
    pub fn fits(&self, deny_warnings: bool) -> bool {
        self.problems.is_empty() && (self.warnings.is_empty() || !deny_warnings)
    }
}

/// Checks every policy against the catalog and counts unreadable timestamps in
/// whole tables. Reads only.
pub async fn check(db: &mut Db, config: &Config) -> Result<CheckReport, DbError> {
    let now = db.now().await?;
    let mut report = CheckReport {
        database_now: now,
        policies: Vec::new(),
        problems: Vec::new(),
        warnings: Vec::new(),
    };
    for p in &config.policies {
        let resolved = db::resolve(db, p).await?;
        let mut checked = CheckedPolicy {
            name: p.name.clone(),
            table: p.table.name.clone(),
            action: p.action,
            keep: p.keep.to_string(),
            cutoff: db::rfc3339(p.cutoff(now)),
            timestamp_encoding: None,
            unreadable: None,
        };
        if let Some(t) = &resolved.target {
            let unreadable = t.count_unreadable(db, None).await?;
            checked.timestamp_encoding = Some(t.encoding.describe());
            checked.unreadable = Some(unreadable);
            if unreadable > 0 {
                report.warnings.push(format!(
                    "{}: policy `{}`: {unreadable} row(s) of `{}` have a timestamp that is not readable {}; they are never purged",
                    config.at(p.timestamp.loc),
                    p.name,
                    t.table_name,
                    t.encoding.describe()
                ));
            }
        }
        let at = |pr: &db::SchemaProblem| format!("{}: {}", config.at(pr.loc), pr.message);
        report.problems.extend(resolved.problems.iter().map(at));
        report.warnings.extend(resolved.warnings.iter().map(at));
        report.policies.push(checked);
    }
    Ok(report)
}
