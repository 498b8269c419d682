//! `check`: every policy checked against the live catalog, with the problems that
//! make the config unusable and the warnings that do not, each at its config line.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::db::{self, Db, DbError, Target};
use crate::policy::{Action, Policy, Strategy};
use crate::processors::SendFrom;

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
    /// Every personal-looking column and every table a delete would orphan.
    pub coverage: super::coverage::Coverage,
    /// The Galera cluster the database's server belongs to.
    pub cluster: Option<db::Cluster>,
    /// A PostgreSQL server's streaming replication.
    pub streaming: Option<db::Streaming>,
}

impl CheckReport {
    /// Whether the config may be used: no problem, and no warning if they are denied.
    pub fn fits(&self, deny_warnings: bool) -> bool {
        self.problems.is_empty() && (self.warnings.is_empty() || !deny_warnings)
    }
}

/// [`check_once`], read again from the start after a lock or statement timeout or
/// a lost connection, with the `[database]` retries' backoff: a busy server
/// delays `check`, it does not fail it. `check` only reads, so a retry is safe.
pub async fn check(db: &mut Db, config: &Config) -> Result<CheckReport, DbError> {
    let retry = config.database.retry;
    let mut attempt = 0;
    loop {
        match check_once(db, config).await {
            Err(e) if e.is_retryable() && attempt < retry.attempts => {
                attempt += 1;
                let wait = retry.wait_before(attempt);
                tracing::warn!(attempt, of = retry.attempts, wait_ms = wait.as_millis() as u64, error = %e, "check interrupted; reading again");
                tokio::time::sleep(wait).await;
                if e.is_connection_lost() {
                    db.reconnect().await?;
                }
            }
            done => return done,
        }
    }
}

/// Checks every policy against the catalog, counts unreadable timestamps in whole
/// tables, and warns about personal-looking columns no policy covers. Reads only.
async fn check_once(db: &mut Db, config: &Config) -> Result<CheckReport, DbError> {
    db.forget_catalog();
    let now = db.now().await?;
    let mut report = CheckReport {
        database_now: now,
        policies: Vec::new(),
        problems: Vec::new(),
        warnings: Vec::new(),
        coverage: Default::default(),
        cluster: db.galera().await?,
        streaming: db.streaming().await?,
    };
    if report.streaming.as_ref().is_some_and(|s| s.standby) {
        report.problems.push(format!(
            "{}: [database] url names a standby (pg_is_in_recovery() is true), which refuses writes: point it at the primary (under Patroni, HAProxy's port that routes to the primary)",
            config.path.display()
        ));
    }
    if let Some(c) = &report.cluster {
        let (problems, warnings) = cluster_findings(config, c);
        report.problems.extend(problems);
        report.warnings.extend(warnings);
    }
    let mut targets: Vec<(&str, db::Target)> = Vec::new();
    for p in &config.policies {
        let resolved = db::resolve(db, p).await?;
        let mut checked = CheckedPolicy {
            name: p.name.clone(),
            table: p.table.name.clone(),
            action: p.action,
            keep: p.keep_as_written.clone(),
            cutoff: db::rfc3339(p.cutoff(now)),
            timestamp_encoding: None,
            unreadable: None,
        };
        if let Some(t) = &resolved.target {
            let warn = warn_about_values(db, config, p, t, now).await?;
            report.warnings.extend(warn);
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
        if let Some(t) = resolved.target {
            targets.push((p.name.as_str(), t));
        }
    }
    report.problems.extend(check_sends(config, &targets));
    let path = config.path.display();
    let coverage = super::coverage::coverage(db, config).await?;
    for u in coverage.uncovered() {
        report.warnings.push(format!("{path}: {}", u.warning()));
    }
    for o in &coverage.orphans {
        report.warnings.push(format!("{path}: {}", o.warning()));
    }
    for u in &coverage.uncounted {
        report.warnings.push(format!("{path}: {}", u.warning()));
    }
    report.coverage = coverage;
    Ok(report)
}

/// What a Galera node's state means for a pass: a node outside the primary
/// component refuses writes; one not synced is slow or behind; a fixed
/// `batch_size` over `wsrep_max_ws_rows` is cut down to it.
fn cluster_findings(config: &Config, c: &db::Cluster) -> (Vec<String>, Vec<String>) {
    let path = config.path.display();
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    if !c.status.eq_ignore_ascii_case("primary") {
        problems.push(format!(
            "{path}: the Galera node is in a {} component, without quorum: it refuses writes until it rejoins the primary component",
            c.status
        ));
    } else if !c.state.eq_ignore_ascii_case("synced") {
        warnings.push(format!(
            "{path}: the Galera node is {}, not Synced: point [database] url at a synced node, or wait",
            c.state
        ));
    }
    let lease = config.database.timeouts.lease;
    if let Some(suspect) = c.suspect_timeout
        && lease < suspect * 2
    {
        warnings.push(format!(
            "{path}: [database] lease_time {} s is under twice the cluster's evs.suspect_timeout ({} s): when any node dies, the others hold every commit that long, and the leader's lease may run out and stop its pass",
            lease.as_secs_f64(),
            suspect.as_secs_f64()
        ));
    }
    if let (Some(max), Some(size)) = (c.max_ws_rows, config.limits.batch_size)
        && u64::from(size) + 2 > max
    {
        warnings.push(format!(
            "{path}: batch_size {size} is over the cluster's wsrep_max_ws_rows {max} (less the lease and the audit row): batches take {} rows at most",
            max.saturating_sub(2).max(1)
        ));
    }
    (problems, warnings)
}

/// Each processor's `send` columns against the tables of the policies that find
/// the person's rows there.
fn check_sends(config: &Config, targets: &[(&str, db::Target)]) -> Vec<String> {
    let mut problems = Vec::new();
    for p in &config.processors {
        for f in &p.send {
            let SendFrom::Column { table, column } = &f.from else {
                continue;
            };
            let policy = config
                .policies
                .iter()
                .find(|q| q.subject.is_some() && q.table.name.eq_ignore_ascii_case(&table.name));
            let target = policy.and_then(|q| targets.iter().find(|(n, _)| *n == q.name));
            // A policy that does not fit the schema has its own problem already.
            if let Some((_, t)) = target
                && !t.has_column(&column.name)
            {
                problems.push(format!(
                    "{}: processor `{}`: table `{}` has no column `{}`",
                    config.at(column.loc),
                    p.name,
                    t.table_name,
                    column.name
                ));
            }
        }
    }
    problems
}

/// How many values already in output form `check` looks for before it warns.
const LOOKS_DONE_SAMPLE: u64 = 1000;

/// Warnings about an anonymising policy's values: expired ones its strategy cannot
/// read, and, before its first pass without a marker, values that already look
/// anonymised where that could be mistaken (a column of SHA-256 digests under
/// `hash`, text without `@` under `email_domain`). `truncate_ip`, `year` and `month`
/// need no such warning: a value in their output form is its own anonymisation.
async fn warn_about_values(
    db: &mut Db,
    config: &Config,
    p: &Policy,
    t: &Target,
    now: DateTime<Utc>,
) -> Result<Vec<String>, DbError> {
    let mut warnings = Vec::new();
    if p.action != Action::Anonymize {
        return Ok(warnings);
    }
    let stuck = t.count_cannot_anonymize(db, p.cutoff(now), now).await?;
    if stuck > 0 {
        warnings.push(format!(
            "{}: policy `{}`: {stuck} expired row(s) of `{}` hold a value their strategy cannot read (not an IP address, no e-mail domain, no date); they are left as they are",
            config.at(p.loc),
            p.name,
            t.table_name
        ));
    }
    let ran_before =
        db.has_own_tables().await? && db.has_purged(&p.name, Action::Anonymize).await?;
    if p.marker.is_some() || ran_before {
        return Ok(warnings);
    }
    for (i, a) in p.anonymize.iter().enumerate() {
        if !matches!(
            a.strategy,
            Strategy::Hash | Strategy::EmailDomain | Strategy::Redact
        ) {
            continue;
        }
        let n = t.count_in_output_form(db, i, LOOKS_DONE_SAMPLE).await?;
        if n > 0 {
            let more = if n >= LOOKS_DONE_SAMPLE {
                " or more"
            } else {
                ""
            };
            warnings.push(format!(
                "{}: policy `{}`: {n}{more} value(s) of `{}` already look like the output of `{}` before any pass ran; without a marker they count as anonymised and stay as they are. If they are not retentiond's output, add marker = \"anonymized_at\" (a nullable column retentiond sets)",
                config.at(a.column.loc),
                p.name,
                a.column.name,
                a.strategy.as_str()
            ));
        }
    }
    Ok(warnings)
}
