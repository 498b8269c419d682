//! `retentiond check`: the config against the live database.

use std::fmt::Write as _;

use serde_json::json;

use super::{EXIT_FAILURE, EXIT_USAGE, Format, Outcome, print_json};
use crate::config::Config;
use crate::db::{self, Access, Db};
use crate::engine;

pub(super) async fn check(
    config: &Config,
    format: Format,
    deny_warnings: bool,
    mail: bool,
) -> Outcome {
    let mut db = Db::open(&config.database, Access::ReadOnly).await?;
    let report = engine::check(&mut db, config).await?;
    let fits = report.fits(deny_warnings);
    // The relay, only when asked: it is another host, and slow to answer.
    let relay = match (mail, &config.mail) {
        (false, _) => None,
        (true, None) => Some(Err(format!(
            "--mail: {} has no [mail] section",
            config.path.display()
        ))),
        (true, Some(m)) => Some(crate::report::test_relay(m).await),
    };
    match format {
        Format::Json => print_json(&json!({
            "config": config.path.display().to_string(),
            "config_sha256": config.sha256,
            "database": db.label(),
            "database_now": db::rfc3339(report.database_now),
            "cluster": report.cluster.as_ref().map(|c| json!({
                "kind": "galera",
                "name": c.name,
                "nodes": c.size,
                "status": c.status,
                "node_state": c.state,
                "wsrep_max_ws_rows": c.max_ws_rows,
                "wsrep_max_ws_size": c.max_ws_size,
                "gcs_fc_limit": c.fc_limit,
            })),
            "streaming": report.streaming.as_ref().map(|s| json!({
                "standby": s.standby,
                "standbys": s.standbys,
                "synchronous": s.synchronous,
            })),
            "ok": fits,
            "policies": report.policies,
            "problems": report.problems,
            "warnings": report.warnings,
            "personal_data": report.coverage.findings,
            "orphaned_by_deletes": report.coverage.orphans,
            "deleted_by_the_database": report.coverage.uncounted,
            "not_sampled": report.coverage.not_sampled,
            "http": config.http.as_ref().map(|h| json!({
                "listen": h.listen.to_string(),
                "url": h.base_url(),
                "tls": h.tls.is_some(),
                "tokens": h.tokens.iter().map(|t| json!({"name": t.name, "role": t.role.as_str()})).collect::<Vec<_>>(),
            })),
            "mail": relay.as_ref().map(|r| match r {
                Ok(said) => json!({"ok": true, "said": said}),
                Err(error) => json!({"ok": false, "error": error}),
            }),
        })),
        Format::Text => {
            print!("{}", text(config, &db, &report, fits));
            match &relay {
                Some(Ok(said)) => println!("mail      {said}"),
                Some(Err(error)) => println!("error: mail: {error}"),
                None => {}
            }
        }
    }
    Ok(match (fits, &relay) {
        (false, _) => EXIT_USAGE,
        (true, Some(Err(_))) => EXIT_FAILURE,
        (true, _) => 0,
    })
}

fn text(config: &Config, db: &Db, report: &engine::CheckReport, fits: bool) -> String {
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
        db::rfc3339(report.database_now)
    );
    if let Some(h) = &config.http {
        let roles: Vec<String> = crate::tokens::Role::ALL
            .iter()
            .map(|r| {
                let n = h.tokens.iter().filter(|t| t.role == *r).count();
                format!("{n} {r}")
            })
            .collect();
        let _ = writeln!(
            out,
            "http      {}/v1 and {}/review, {} token(s): {}",
            h.base_url(),
            h.base_url(),
            h.tokens.len(),
            roles.join(", ")
        );
    }
    if let Some(c) = &report.cluster {
        let rows = c
            .max_ws_rows
            .map_or(String::new(), |n| format!(", wsrep_max_ws_rows {n}"));
        let _ = writeln!(
            out,
            "cluster   MariaDB Galera cluster {:?}: {} node(s), {} component, this node {}{rows}; pass lock: a lease in retention_lease",
            c.name, c.size, c.status, c.state
        );
    }
    if let Some(s) = report.streaming.as_ref().filter(|s| s.standbys > 0) {
        let _ = writeln!(
            out,
            "cluster   PostgreSQL primary streaming to {} standby(s), {} synchronous; a failover to an asynchronous standby may lose the last batches, each with its audit event",
            s.standbys, s.synchronous
        );
    }
    for p in &report.policies {
        let (name, action, table, keep) = (&p.name, p.action.as_str(), &p.table, &p.keep);
        let timestamps = p.timestamp_encoding.unwrap_or("-");
        let _ = writeln!(
            out,
            "policy    {name:<20} {action:<9} {table:<20} keep {keep:<10} timestamps: {timestamps}",
        );
    }
    for w in &report.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    for pr in &report.problems {
        let _ = writeln!(out, "error: {pr}");
    }
    let verdict = if fits {
        "ok: the config is valid and fits the database".to_string()
    } else if report.problems.is_empty() {
        format!(
            "{} warning(s), denied by --deny-warnings",
            report.warnings.len()
        )
    } else {
        format!(
            "{} problem(s): the config does not fit the database",
            report.problems.len()
        )
    };
    let _ = writeln!(out, "{verdict}");
    out
}
