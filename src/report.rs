//! Purge reports for a period: what was purged, refused and held, whether each
//! policy is enforced, and whether the audit trail is intact, as Markdown, HTML,
//! CSV or JSON. Gathering reads the database; rendering is pure.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{Datelike, Months, NaiveDate, Utc};
use serde::Serialize;

use crate::audit::Verifier;
use crate::config::Config;
use crate::db::{self, Db, DbError};

/// What a purge cannot reach, said once in every report.
pub const UNREACHABLE: &str = "A purge removes rows from the live database only. Copies made before a purge are \
out of its reach until their own retention ends: backups and database dumps, write-ahead log and binary log \
archives, replicas that were behind or detached, and exports to other systems. On PostgreSQL, deleted rows \
stay in the table's pages as dead row versions until VACUUM; on MySQL, in InnoDB's undo logs until they are \
purged; each pass records which of these still held purged values (\"leftovers\" below).";

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub database: String,
    /// First day of the period.
    pub from: String,
    /// Last day of the period (inclusive).
    pub to: String,
    pub generated_at: String,
    pub config_path: String,
    pub config_sha256: String,
    /// Config versions (SHA-256) that passes ran with in the period, with their first pass.
    pub config_versions: Vec<ConfigVersion>,
    pub policies: Vec<PolicySection>,
    pub passes: BTreeMap<String, u64>,
    pub incidents: Vec<Incident>,
    pub holds: Vec<HoldLine>,
    pub erasures: Vec<ErasureLine>,
    pub audit: AuditSection,
    pub leftovers: Vec<String>,
    pub unreachable: String,
    pub daily: Vec<DayRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConfigVersion {
    pub sha256: String,
    pub first_pass: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicySection {
    pub name: String,
    pub description: Option<String>,
    pub table: String,
    pub period: String,
    pub basis: Option<String>,
    pub action: String,
    pub deleted: u64,
    pub anonymised: u64,
    pub held: u64,
    pub passes: u64,
    pub outcomes: BTreeMap<String, u64>,
    pub enforcement: Enforcement,
}

/// Whether the policy's promise holds now: no row it covers is older than its period.
#[derive(Debug, Clone, Serialize)]
pub struct Enforcement {
    pub cutoff: Option<String>,
    pub oldest_remaining: Option<String>,
    pub in_compliance: bool,
    pub backlog_rows: u64,
    pub verdict: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Incident {
    pub run_id: i64,
    pub started_at: String,
    pub policy: String,
    pub status: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct HoldLine {
    pub id: i64,
    pub reason: String,
    pub policy: Option<String>,
    pub since: String,
    pub until: Option<String>,
    pub released_at: Option<String>,
    /// Only with `--include-subjects`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// An erasure request received, due or answered during the period.
#[derive(Debug, Clone, Serialize)]
pub struct ErasureLine {
    pub id: i64,
    pub received_at: String,
    pub due_at: String,
    pub status: String,
    pub answered_at: Option<String>,
    pub minor: bool,
    /// Open past its due date, or answered after it.
    pub overdue: bool,
    /// What was kept, per policy, and why and until when.
    pub kept: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditSection {
    pub intact: bool,
    pub verified: u64,
    pub head: Option<String>,
    pub broken: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DayRow {
    pub date: String,
    pub policy: String,
    pub table: String,
    pub rows_deleted: u64,
    pub rows_anonymised: u64,
}

/// The last full calendar month before `today`: (first day, last day).
pub fn last_full_month(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first_this = today.with_day(1).expect("day 1 exists");
    let first_last = first_this
        .checked_sub_months(Months::new(1))
        .expect("in range");
    (first_last, first_this.pred_opt().expect("in range"))
}

fn start_of(d: NaiveDate) -> String {
    db::rfc3339(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
}

/// Reads everything the report says about [`from`, `to`] (days, inclusive).
pub async fn gather(
    db: &mut Db,
    config: &Config,
    from: NaiveDate,
    to: NaiveDate,
    include_subjects: bool,
) -> Result<Report, DbError> {
    let (lo, hi) = (start_of(from), start_of(to.succ_opt().unwrap_or(to)));
    let now = db.now().await?;
    let own = db.has_own_tables().await?;
    let erasure_rows = if own {
        db.erasure_requests().await?
    } else {
        Vec::new()
    };
    let (runs, policy_runs, events, holds) = if own {
        (
            db.runs_between(&lo, &hi).await?,
            db.policy_runs_between(&lo, &hi).await?,
            db.purge_events_between(&lo, &hi).await?,
            db.holds().await?,
        )
    } else {
        Default::default()
    };

    let mut config_versions: Vec<ConfigVersion> = Vec::new();
    let mut passes = BTreeMap::new();
    let mut leftovers = Vec::new();
    for r in &runs {
        if !config_versions.iter().any(|v| v.sha256 == r.config_sha256) {
            config_versions.push(ConfigVersion {
                sha256: r.config_sha256.clone(),
                first_pass: r.started_at.clone(),
            });
        }
        *passes.entry(r.status.clone()).or_insert(0) += 1;
        if let Some(l) = &r.leftovers
            && !leftovers.contains(l)
        {
            leftovers.push(l.clone());
        }
    }
    let started: BTreeMap<i64, &str> = runs.iter().map(|r| (r.id, r.started_at.as_str())).collect();
    let incidents = policy_runs
        .iter()
        .filter(|p| matches!(p.status.as_str(), "failed" | "refused"))
        .map(|p| Incident {
            run_id: p.run_id,
            started_at: started.get(&p.run_id).unwrap_or(&"").to_string(),
            policy: p.policy.clone(),
            status: p.status.clone(),
            reason: p.error.clone().unwrap_or_default(),
        })
        .collect();

    let mut policies = Vec::new();
    for p in &config.policies {
        let mine: Vec<_> = policy_runs.iter().filter(|r| r.policy == p.name).collect();
        let mut outcomes = BTreeMap::new();
        for r in &mine {
            *outcomes.entry(r.status.clone()).or_insert(0) += 1;
        }
        let rows: u64 = mine.iter().map(|r| r.rows.max(0) as u64).sum();
        let (deleted, anonymised) = match p.action {
            crate::policy::Action::Delete => (rows, 0),
            crate::policy::Action::Anonymize => (0, rows),
        };
        policies.push(PolicySection {
            name: p.name.clone(),
            description: p.description.clone(),
            table: p.table.name.clone(),
            period: p.keep.to_string(),
            basis: p.basis.map(|b| {
                serde_json::to_value(b)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            }),
            action: p.action.as_str().into(),
            deleted,
            anonymised,
            held: mine.iter().map(|r| r.held.max(0) as u64).sum(),
            passes: mine.len() as u64,
            outcomes,
            enforcement: enforcement(db, p, now).await,
        });
    }

    let holds = holds
        .into_iter()
        .filter(|h| {
            h.created_at < hi
                && h.released_at.as_deref().is_none_or(|r| r >= lo.as_str())
                && h.until.as_deref().is_none_or(|u| u > lo.as_str())
        })
        .map(|h| HoldLine {
            id: h.id,
            reason: h.reason,
            policy: h.policy,
            since: h.created_at,
            until: h.until,
            released_at: h.released_at,
            subject: include_subjects.then_some(h.subject),
        })
        .collect();

    let now_text = db::rfc3339(now);
    let erasures = erasure_rows
        .into_iter()
        .filter(|e| {
            e.received_at < hi && e.processed_at.as_deref().is_none_or(|p| p >= lo.as_str())
        })
        .map(|e| {
            let entries: Vec<crate::purge::ErasureEntry> = e
                .outcome
                .as_deref()
                .and_then(|o| serde_json::from_str(o).ok())
                .unwrap_or_default();
            let overdue = match &e.processed_at {
                Some(p) => p > &e.due_at,
                None => e.due_at < now_text,
            };
            ErasureLine {
                id: e.id,
                received_at: e.received_at,
                due_at: e.due_at,
                status: e.status,
                answered_at: e.processed_at,
                minor: e.minor,
                overdue,
                kept: entries
                    .iter()
                    .filter(|x| x.outcome == "kept")
                    .map(|x| {
                        format!(
                            "{}: {} row(s), {}{}",
                            x.policy,
                            x.rows,
                            x.reason.as_deref().unwrap_or("kept"),
                            x.kept_until
                                .as_deref()
                                .map(|u| format!(", until {u}"))
                                .unwrap_or_default()
                        )
                    })
                    .collect(),
                subject: include_subjects.then_some(e.subject),
            }
        })
        .collect();
    let (verifier, broken) = if own {
        db.verify_chain().await?
    } else {
        (Verifier::default(), None)
    };
    let audit = AuditSection {
        intact: broken.is_none(),
        verified: verifier.verified,
        head: verifier.head().map(str::to_string),
        broken: broken.map(|b| b.to_string()),
    };

    Ok(Report {
        database: db.label().to_string(),
        from: from.to_string(),
        to: to.to_string(),
        generated_at: db::rfc3339(Utc::now()),
        config_path: config.path.display().to_string(),
        config_sha256: config.sha256.clone(),
        config_versions,
        policies,
        passes,
        incidents,
        holds,
        erasures,
        audit,
        leftovers,
        unreachable: UNREACHABLE.into(),
        daily: daily(&config.policies, &events, from, to),
    })
}

async fn enforcement(
    db: &mut Db,
    p: &crate::policy::Policy,
    now: chrono::DateTime<Utc>,
) -> Enforcement {
    let cutoff = p.cutoff(now);
    let unknown = |verdict: String| Enforcement {
        cutoff: Some(db::rfc3339(cutoff)),
        oldest_remaining: None,
        in_compliance: false,
        backlog_rows: 0,
        verdict,
    };
    let target = match db::resolve(db, p).await {
        Ok(r) => match r.target {
            Some(t) => t,
            None => {
                return unknown(format!(
                    "cannot check: {}",
                    r.problems
                        .iter()
                        .map(|x| x.message.clone())
                        .collect::<Vec<_>>()
                        .join("; ")
                ));
            }
        },
        Err(e) => return unknown(format!("cannot check: {e}")),
    };
    let oldest = target.oldest_remaining(db, now).await.ok().flatten();
    let backlog = target.count_expired(db, cutoff, now).await.unwrap_or(0);
    let in_compliance = backlog == 0;
    let verdict = if in_compliance {
        match oldest {
            Some(o) => format!(
                "in compliance: the oldest row is from {}, within the period (cutoff {})",
                db::rfc3339(o),
                db::rfc3339(cutoff)
            ),
            None => "in compliance: no row is kept".into(),
        }
    } else {
        format!(
            "backlog: {backlog} row(s) older than the period (cutoff {}) are still kept{}",
            db::rfc3339(cutoff),
            oldest
                .map(|o| format!(", the oldest from {}", db::rfc3339(o)))
                .unwrap_or_default()
        )
    };
    Enforcement {
        cutoff: Some(db::rfc3339(cutoff)),
        oldest_remaining: oldest.map(db::rfc3339),
        in_compliance,
        backlog_rows: backlog,
        verdict,
    }
}

/// One row per policy per day of the period, zeros included.
fn daily(
    policies: &[crate::policy::Policy],
    events: &[(String, String, String, String, i64)],
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<DayRow> {
    let mut out = Vec::new();
    let mut day = from;
    while day <= to {
        let date = day.to_string();
        for p in policies {
            let sum = |action: &str| -> u64 {
                events
                    .iter()
                    .filter(|(at, policy, _, a, _)| {
                        at.starts_with(&date) && *policy == p.name && a == action
                    })
                    .map(|e| e.4.max(0) as u64)
                    .sum()
            };
            out.push(DayRow {
                date: date.clone(),
                policy: p.name.clone(),
                table: p.table.name.clone(),
                rows_deleted: sum("delete"),
                rows_anonymised: sum("anonymize"),
            });
        }
        let Some(next) = day.succ_opt() else { break };
        day = next;
    }
    out
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The report as Markdown.
pub fn markdown(r: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Purge report: {} to {}\n", r.from, r.to);
    let _ = writeln!(o, "Database: {}  ", r.database);
    let _ = writeln!(o, "Generated: {}  ", r.generated_at);
    let _ = writeln!(
        o,
        "Configuration: {} (SHA-256 {})\n",
        r.config_path, r.config_sha256
    );
    let _ = writeln!(o, "## Policies in force\n");
    let _ = writeln!(
        o,
        "| policy | table | period | legal basis | action |\n| --- | --- | --- | --- | --- |"
    );
    for p in &r.policies {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |",
            p.name,
            p.table,
            p.period,
            p.basis.as_deref().unwrap_or("-"),
            p.action
        );
    }
    if r.config_versions.len() > 1 {
        let _ = writeln!(o, "\nThe configuration changed during the period:\n");
        for v in &r.config_versions {
            let _ = writeln!(o, "- {} from the pass at {}", v.sha256, v.first_pass);
        }
    }
    let _ = writeln!(o, "\n## What was purged\n");
    let _ = writeln!(
        o,
        "| policy | rows deleted | rows anonymised | rows kept for holds | passes | outcomes |\n| --- | ---: | ---: | ---: | ---: | --- |"
    );
    for p in &r.policies {
        let outcomes: Vec<String> = p.outcomes.iter().map(|(k, v)| format!("{v} {k}")).collect();
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} |",
            p.name,
            p.deleted,
            p.anonymised,
            p.held,
            p.passes,
            if outcomes.is_empty() {
                "-".into()
            } else {
                outcomes.join(", ")
            }
        );
    }
    let total: u64 = r.passes.values().sum();
    let _ = writeln!(
        o,
        "\nPasses in the period: {total} ({}).",
        r.passes
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(o, "\n## Refusals and failures\n");
    if r.incidents.is_empty() {
        let _ = writeln!(o, "None.");
    }
    for i in &r.incidents {
        let _ = writeln!(
            o,
            "- pass #{} at {}: policy `{}` {}: {}",
            i.run_id,
            i.started_at,
            i.policy,
            i.status,
            md_escape(&i.reason)
        );
    }
    let _ = writeln!(o, "\n## Enforcement check\n");
    let _ = writeln!(o, "| policy | verdict |\n| --- | --- |");
    for p in &r.policies {
        let _ = writeln!(o, "| {} | {} |", p.name, md_escape(&p.enforcement.verdict));
    }
    let _ = writeln!(o, "\n## Legal holds\n");
    if r.holds.is_empty() {
        let _ = writeln!(o, "No hold was active during the period.");
    } else {
        let _ = writeln!(o, "{} hold(s) active during the period:\n", r.holds.len());
        for h in &r.holds {
            let subject = h
                .subject
                .as_deref()
                .map(|s| format!(", subject {s}"))
                .unwrap_or_default();
            let end = h
                .released_at
                .as_deref()
                .map(|x| format!("released {x}"))
                .or(h.until.as_ref().map(|u| format!("until {u}")))
                .unwrap_or_else(|| "until released".into());
            let _ = writeln!(
                o,
                "- hold #{} since {} ({}), {}: {}{subject}",
                h.id,
                h.since,
                h.policy.as_deref().unwrap_or("all policies"),
                end,
                md_escape(&h.reason)
            );
        }
    }
    let _ = writeln!(o, "\n## Erasure requests\n");
    if r.erasures.is_empty() {
        let _ = writeln!(o, "None.");
    }
    for e in &r.erasures {
        let flags = format!(
            "{}{}",
            if e.minor { " (minor)" } else { "" },
            if e.overdue { " **OVERDUE**" } else { "" }
        );
        let answered = e
            .answered_at
            .as_deref()
            .map(|a| format!(", answered {a}"))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "- request #{} received {}, due {}: {}{answered}{flags}",
            e.id, e.received_at, e.due_at, e.status
        );
        for k in &e.kept {
            let _ = writeln!(o, "  - kept: {}", md_escape(k));
        }
    }
    let _ = writeln!(o, "\n## Audit trail\n");
    match &r.audit.broken {
        None => {
            let _ = writeln!(
                o,
                "Intact: {} events verified. Head: `{}`.",
                r.audit.verified,
                r.audit.head.as_deref().unwrap_or("-")
            );
        }
        Some(b) => {
            let _ = writeln!(o, "**BROKEN**: {b}.");
        }
    }
    let _ = writeln!(o, "\n## What a purge does not reach\n\n{}", r.unreachable);
    if !r.leftovers.is_empty() {
        let _ = writeln!(o, "\nLeftovers recorded by the passes:\n");
        for l in &r.leftovers {
            let _ = writeln!(o, "- {l}");
        }
    }
    o
}

/// One row per policy per day.
pub fn csv(r: &Report) -> String {
    let mut o = String::from("date,policy,table,rows_deleted,rows_anonymised\n");
    for d in &r.daily {
        let _ = writeln!(
            o,
            "{},{},{},{},{}",
            d.date, d.policy, d.table, d.rows_deleted, d.rows_anonymised
        );
    }
    o
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const PALETTE: [&str; 8] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
];

/// Rows purged per policy per day (per month over long periods), as stacked bars.
fn chart(r: &Report) -> String {
    let monthly = r.daily.len() / r.policies.len().max(1) > 62;
    let bucket = |date: &str| {
        if monthly {
            date[..7].to_string()
        } else {
            date.to_string()
        }
    };
    let mut buckets: Vec<String> = Vec::new();
    let mut values: BTreeMap<(String, String), u64> = BTreeMap::new();
    for d in &r.daily {
        let b = bucket(&d.date);
        if !buckets.contains(&b) {
            buckets.push(b.clone());
        }
        *values.entry((b, d.policy.clone())).or_default() += d.rows_deleted + d.rows_anonymised;
    }
    let max = buckets
        .iter()
        .map(|b| {
            r.policies
                .iter()
                .map(|p| {
                    values
                        .get(&(b.clone(), p.name.clone()))
                        .copied()
                        .unwrap_or(0)
                })
                .sum::<u64>()
        })
        .max()
        .unwrap_or(0)
        .max(1);
    let (w, h, left, bottom) = (760.0, 240.0, 60.0, 30.0);
    let bar = (w - left) / buckets.len().max(1) as f64;
    let mut svg = format!(
        "<svg width=\"{w}\" height=\"{}\" viewBox=\"0 0 {w} {}\" role=\"img\" aria-label=\"Rows purged per policy per {}\">",
        h + bottom + 20.0,
        h + bottom + 20.0,
        if monthly { "month" } else { "day" }
    );
    let _ = write!(
        svg,
        "<line x1=\"{left}\" y1=\"{h}\" x2=\"{w}\" y2=\"{h}\" stroke=\"#333\"/><text x=\"{}\" y=\"12\" font-size=\"10\" text-anchor=\"end\">{max}</text><text x=\"{}\" y=\"{h}\" font-size=\"10\" text-anchor=\"end\">0</text>",
        left - 4.0,
        left - 4.0
    );
    for (i, b) in buckets.iter().enumerate() {
        let x = left + i as f64 * bar;
        let mut y = h;
        for (j, p) in r.policies.iter().enumerate() {
            let v = values
                .get(&(b.clone(), p.name.clone()))
                .copied()
                .unwrap_or(0);
            if v == 0 {
                continue;
            }
            let bh = v as f64 / max as f64 * (h - 10.0);
            y -= bh;
            let _ = write!(
                svg,
                "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"{}\"><title>{} {}: {v}</title></rect>",
                x + 1.0,
                (bar - 2.0).max(1.0),
                PALETTE[j % PALETTE.len()],
                html_escape(b),
                html_escape(&p.name)
            );
        }
        if buckets.len() <= 12 || i % (buckets.len() / 6).max(1) == 0 {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{}\" font-size=\"9\">{}</text>",
                x,
                h + 14.0,
                html_escape(&b[if monthly { 0 } else { 5 }..])
            );
        }
    }
    for (j, p) in r.policies.iter().enumerate() {
        let _ = write!(
            svg,
            "<rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"{}\" font-size=\"10\">{}</text>",
            left + j as f64 * 130.0,
            h + bottom,
            PALETTE[j % PALETTE.len()],
            left + j as f64 * 130.0 + 14.0,
            h + bottom + 9.0,
            html_escape(&p.name)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The report as one self-contained, printable HTML page: inline CSS, an inline SVG
/// chart, no script, no external resource.
pub fn html(r: &Report) -> String {
    let mut body = String::new();
    let cell = |s: &str| format!("<td>{}</td>", html_escape(s));
    let num = |n: u64| format!("<td class=\"n\">{n}</td>");
    let _ = write!(
        body,
        "<h1>Purge report: {} to {}</h1><p>Database: {}<br>Generated: {}<br>Configuration: {} (SHA-256 <code>{}</code>)</p>",
        r.from,
        r.to,
        html_escape(&r.database),
        r.generated_at,
        html_escape(&r.config_path),
        r.config_sha256
    );
    body.push_str("<h2>Policies in force</h2><table><tr><th>policy</th><th>table</th><th>period</th><th>legal basis</th><th>action</th></tr>");
    for p in &r.policies {
        let _ = write!(
            body,
            "<tr>{}{}{}{}{}</tr>",
            cell(&p.name),
            cell(&p.table),
            cell(&p.period),
            cell(p.basis.as_deref().unwrap_or("-")),
            cell(&p.action)
        );
    }
    body.push_str("</table>");
    if r.config_versions.len() > 1 {
        body.push_str("<p>The configuration changed during the period:</p><ul>");
        for v in &r.config_versions {
            let _ = write!(
                body,
                "<li><code>{}</code> from the pass at {}</li>",
                v.sha256, v.first_pass
            );
        }
        body.push_str("</ul>");
    }
    body.push_str("<h2>What was purged</h2><table><tr><th>policy</th><th>rows deleted</th><th>rows anonymised</th><th>rows kept for holds</th><th>passes</th></tr>");
    for p in &r.policies {
        let _ = write!(
            body,
            "<tr>{}{}{}{}{}</tr>",
            cell(&p.name),
            num(p.deleted),
            num(p.anonymised),
            num(p.held),
            num(p.passes)
        );
    }
    body.push_str("</table>");
    body.push_str(&chart(r));
    body.push_str("<h2>Refusals and failures</h2>");
    if r.incidents.is_empty() {
        body.push_str("<p>None.</p>");
    } else {
        body.push_str("<ul>");
        for i in &r.incidents {
            let _ = write!(
                body,
                "<li class=\"bad\">pass #{} at {}: policy <b>{}</b> {}: {}</li>",
                i.run_id,
                i.started_at,
                html_escape(&i.policy),
                i.status,
                html_escape(&i.reason)
            );
        }
        body.push_str("</ul>");
    }
    body.push_str("<h2>Enforcement check</h2><table><tr><th>policy</th><th>verdict</th></tr>");
    for p in &r.policies {
        let class = if p.enforcement.in_compliance {
            "ok"
        } else {
            "bad"
        };
        let _ = write!(
            body,
            "<tr>{}<td class=\"{class}\">{}</td></tr>",
            cell(&p.name),
            html_escape(&p.enforcement.verdict)
        );
    }
    body.push_str("</table><h2>Legal holds</h2>");
    if r.holds.is_empty() {
        body.push_str("<p>No hold was active during the period.</p>");
    } else {
        let _ = write!(
            body,
            "<p>{} hold(s) active during the period.</p><ul>",
            r.holds.len()
        );
        for h in &r.holds {
            let _ = write!(
                body,
                "<li>hold #{} since {}: {}{}</li>",
                h.id,
                h.since,
                html_escape(&h.reason),
                h.subject
                    .as_deref()
                    .map(|s| format!(", subject {}", html_escape(s)))
                    .unwrap_or_default()
            );
        }
        body.push_str("</ul>");
    }
    body.push_str("<h2>Erasure requests</h2>");
    if r.erasures.is_empty() {
        body.push_str("<p>None.</p>");
    } else {
        body.push_str("<ul>");
        for e in &r.erasures {
            let class = if e.overdue { " class=\"bad\"" } else { "" };
            let _ = write!(
                body,
                "<li{class}>request #{} received {}, due {}: {}{}{}{}",
                e.id,
                e.received_at,
                e.due_at,
                e.status,
                e.answered_at
                    .as_deref()
                    .map(|a| format!(", answered {a}"))
                    .unwrap_or_default(),
                if e.minor { " (minor)" } else { "" },
                if e.overdue { " OVERDUE" } else { "" }
            );
            for k in &e.kept {
                let _ = write!(body, "<br>kept: {}", html_escape(k));
            }
            body.push_str("</li>");
        }
        body.push_str("</ul>");
    }
    body.push_str("<h2>Audit trail</h2>");
    match &r.audit.broken {
        None => {
            let _ = write!(
                body,
                "<p class=\"ok\">Intact: {} events verified. Head: <code>{}</code>.</p>",
                r.audit.verified,
                r.audit.head.as_deref().unwrap_or("-")
            );
        }
        Some(b) => {
            let _ = write!(body, "<p class=\"bad\">BROKEN: {}.</p>", html_escape(b));
        }
    }
    let _ = write!(
        body,
        "<h2>What a purge does not reach</h2><p>{}</p>",
        html_escape(&r.unreachable)
    );
    for l in &r.leftovers {
        let _ = write!(body, "<p class=\"small\">{}</p>", html_escape(l));
    }
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Purge report {} to {}</title><style>\
body{{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}}table{{border-collapse:collapse;margin:.5em 0}}\
th,td{{border:1px solid #bbb;padding:.2em .5em;text-align:left}}td.n{{text-align:right}}.ok{{color:#176b2c}}\
.bad{{color:#b00020;font-weight:bold}}.small{{font-size:.85em}}code{{font-size:.85em}}@media print{{body{{margin:0}}}}\
</style></head><body>{body}</body></html>\n",
        r.from, r.to
    )
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("cannot write the report {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// The last complete period before `now` under `period`: first day, last day, and the
/// label its files are named by (`2026-10`, `2026-W44`, `2026-10-01_2026-10-31`).
pub fn last_period(
    period: &crate::config::ReportPeriod,
    now: chrono::DateTime<Utc>,
) -> Option<(NaiveDate, NaiveDate, String)> {
    use crate::config::ReportPeriod;
    let today = now.date_naive();
    match period {
        ReportPeriod::Monthly => {
            let (from, to) = last_full_month(today);
            Some((from, to, from.format("%Y-%m").to_string()))
        }
        ReportPeriod::Weekly => {
            let monday =
                today - chrono::Days::new(u64::from(today.weekday().num_days_from_monday()));
            let from = monday - chrono::Days::new(7);
            let week = from.iso_week();
            Some((
                from,
                monday.pred_opt()?,
                format!("{}-W{:02}", week.year(), week.week()),
            ))
        }
        ReportPeriod::Cron(line) => {
            let schedule = crate::config::Schedule {
                cron: line.clone(),
                timezone: chrono_tz::UTC,
            };
            let last = crate::scheduler::previous_at_or_before(&schedule, now)?;
            let before = crate::scheduler::previous_at_or_before(
                &schedule,
                last - chrono::TimeDelta::seconds(1),
            )?;
            let from = before.date_naive();
            let to = last.date_naive().pred_opt()?.max(from);
            Some((from, to, format!("{from}_{to}")))
        }
    }
}

/// Writes the last complete period's report in each configured format, with a
/// `.sha256` file beside each, unless it exists already: a report once written is
/// never overwritten, and a restarted daemon does not write it again.
pub async fn write_due(
    db: &mut Db,
    config: &Config,
    settings: &crate::config::ReportSettings,
    now: chrono::DateTime<Utc>,
) -> Result<Vec<std::path::PathBuf>, ReportError> {
    use std::io::Write;
    let Some((from, to, label)) = last_period(&settings.period, now) else {
        return Ok(Vec::new());
    };
    let io = |path: &std::path::Path, source: std::io::Error| ReportError::Write {
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(&settings.dir).map_err(|e| io(&settings.dir, e))?;
    let mut report = None;
    let mut written = Vec::new();
    for ext in &settings.formats {
        let name = format!("retentiond-report-{label}.{ext}");
        let path = settings.dir.join(&name);
        if path.exists() {
            continue;
        }
        if report.is_none() {
            report = Some(gather(db, config, from, to, false).await?);
        }
        let r = report.as_ref().expect("gathered above");
        let text = match ext.as_str() {
            "html" => html(r),
            "md" => markdown(r),
            "csv" => csv(r),
            _ => serde_json::to_string_pretty(r).unwrap_or_default() + "\n",
        };
        let mut file = match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io(&path, e)),
        };
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| io(&path, e))?;
        let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes()));
        let sum_path = settings.dir.join(format!("{name}.sha256"));
        std::fs::write(&sum_path, format!("{digest}  {name}\n")).map_err(|e| io(&sum_path, e))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::config::ReportPeriod;

    #[test]
    fn periods_end_before_today() {
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 3, 0, 0).unwrap();
        let (from, to, label) = last_period(&ReportPeriod::Monthly, now).unwrap();
        assert_eq!(
            (from.to_string(), to.to_string(), label.as_str()),
            ("2026-10-01".into(), "2026-10-31".into(), "2026-10")
        );
        let (from, to, label) = last_period(&ReportPeriod::Weekly, now).unwrap();
        assert_eq!(
            (from.to_string(), to.to_string(), label.as_str()),
            ("2026-11-09".into(), "2026-11-15".into(), "2026-W46")
        );
        let (from, to, _) = last_period(&ReportPeriod::Cron("0 0 6 1 * *".into()), now).unwrap();
        assert_eq!(
            (from.to_string(), to.to_string()),
            ("2026-10-01".into(), "2026-10-31".into())
        );
        let (from, to) = last_full_month(chrono::NaiveDate::from_ymd_opt(2026, 1, 15).unwrap());
        assert_eq!(
            (from.to_string(), to.to_string()),
            ("2025-12-01".into(), "2025-12-31".into())
        );
    }
}
