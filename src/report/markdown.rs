//! The report as Markdown, section by section. Pure.

use std::fmt::Write as _;

use super::{Report, Verdict};

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The report as Markdown.
pub fn markdown(r: &Report) -> String {
    let mut o = String::new();
    if let Some(note) = &r.note {
        let _ = writeln!(o, "> {note}\n");
    }
    let _ = writeln!(o, "# Purge report: {} to {}\n", r.from, r.to);
    let _ = writeln!(o, "Database: {}  ", r.database);
    let _ = writeln!(o, "Generated: {}  ", r.generated_at);
    let _ = writeln!(
        o,
        "Configuration: {} (SHA-256 {})\n",
        r.config_path, r.config_sha256
    );
    policies(&mut o, r);
    purged(&mut o, r);
    incidents(&mut o, r);
    enforcement(&mut o, r);
    holds(&mut o, r);
    uncovered(&mut o, r);
    privacy_requests(&mut o, r);
    erasures(&mut o, r);
    audit(&mut o, r);
    let _ = writeln!(o, "\n## What a purge does not reach\n\n{}", r.unreachable);
    if !r.leftovers.is_empty() {
        let _ = writeln!(o, "\nLeftovers recorded by the passes:\n");
        for l in &r.leftovers {
            let _ = writeln!(o, "- {l}");
        }
    }
    o
}

fn policies(o: &mut String, r: &Report) {
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
            p.basis.map_or("-", |b| b.words()),
            p.action
        );
    }
    if r.config_versions.len() > 1 {
        let _ = writeln!(o, "\nThe configuration changed during the period:\n");
        for v in &r.config_versions {
            let _ = writeln!(o, "- {} from the pass at {}", v.sha256, v.first_pass);
        }
    }
}

fn purged(o: &mut String, r: &Report) {
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
            p.anonymized,
            p.held,
            p.passes,
            if outcomes.is_empty() {
                "-".into()
            } else {
                outcomes.join(", ")
            }
        );
    }
    files(o, r);
    let total: u64 = r.passes.values().sum();
    let by_status: Vec<String> = r.passes.iter().map(|(k, v)| format!("{v} {k}")).collect();
    let _ = writeln!(
        o,
        "\nPasses in the period: {total} ({}).",
        by_status.join(", ")
    );
}

/// The files of purged rows, when any policy removed any.
fn files(o: &mut String, r: &Report) {
    if r.policies.iter().all(|p| p.files.is_empty()) {
        return;
    }
    let _ = writeln!(
        o,
        "\nFiles the purged rows pointed to (scans, uploads, objects in a bucket):\n\n\
         | policy | files removed | already gone | refused (outside their store) | failed (still queued) |\n\
         | --- | ---: | ---: | ---: | ---: |"
    );
    for p in r.policies.iter().filter(|p| !p.files.is_empty()) {
        let f = &p.files;
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |",
            p.name, f.removed, f.already_gone, f.refused, f.failed
        );
    }
}

fn incidents(o: &mut String, r: &Report) {
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
}

fn enforcement(o: &mut String, r: &Report) {
    let _ = writeln!(o, "\n## Enforcement check\n");
    let _ = writeln!(o, "| policy | verdict |\n| --- | --- |");
    for p in &r.policies {
        let verdict = md_escape(&p.enforcement.verdict);
        let _ = match p.enforcement.state {
            Verdict::NotChecked => writeln!(o, "| {} | **{verdict}** |", p.name),
            Verdict::InCompliance | Verdict::Backlog => writeln!(o, "| {} | {verdict} |", p.name),
        };
    }
}

fn holds(o: &mut String, r: &Report) {
    let _ = writeln!(o, "\n## Legal holds\n");
    if r.holds.is_empty() {
        let _ = writeln!(o, "No hold was active during the period.");
        return;
    }
    let _ = writeln!(o, "{} hold(s) active during the period:\n", r.holds.len());
    for h in &r.holds {
        let subject = h
            .subject
            .as_deref()
            .map(|s| format!(", subject {s}"))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "- hold #{} since {} ({}), {}: {}{subject}",
            h.id,
            h.since,
            h.policy.as_deref().unwrap_or("all policies"),
            h.end(),
            md_escape(&h.reason)
        );
    }
}

fn uncovered(o: &mut String, r: &Report) {
    let _ = writeln!(o, "\n## Personal data without a retention rule\n");
    if r.uncovered.is_empty() {
        let _ = writeln!(o, "None found.");
        return;
    }
    let _ = writeln!(
        o,
        "| Table | Column | Why it looks personal |\n| --- | --- | --- |"
    );
    for u in &r.uncovered {
        let _ = writeln!(
            o,
            "| {} | {} | {} |",
            md_escape(&u.table),
            md_escape(&u.column),
            md_escape(&u.reason)
        );
    }
}

fn privacy_requests(o: &mut String, r: &Report) {
    let _ = writeln!(o, "\n## Privacy requests\n");
    let _ = writeln!(
        o,
        "| Kind | Received | Due | Answered | Answered late | Overdue now |\n| --- | ---: | ---: | ---: | ---: | ---: |"
    );
    for t in &r.privacy_requests {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} |",
            t.kind, t.received, t.due, t.answered, t.answered_late, t.overdue
        );
    }
    for e in &r.exports {
        let mark = if e.overdue { " **OVERDUE**" } else { "" };
        let _ = writeln!(o, "- {}{mark}", md_escape(&e.describe()));
    }
}

fn erasures(o: &mut String, r: &Report) {
    let _ = writeln!(o, "\n## Erasure requests\n");
    if r.erasures.is_empty() && r.reapplied.is_empty() {
        let _ = writeln!(o, "None.");
    }
    if let Some(e) = &r.ledger_error {
        let _ = writeln!(
            o,
            "**The erasure ledger cannot be read**: {}.\n",
            md_escape(e)
        );
    }
    if !r.reapplied.is_empty() {
        let _ = writeln!(o, "{}\n", super::reapplied_summary(&r.reapplied));
    }
    for e in &r.erasures {
        let flags = format!(
            "{}{}",
            if e.minor { " (minor)" } else { "" },
            if e.overdue { " **OVERDUE**" } else { "" }
        );
        let _ = writeln!(
            o,
            "- request #{} received {}, due {}: {}{}{flags}",
            e.id,
            e.received_at,
            e.due_at,
            e.status.words(),
            e.answered()
        );
        for line in &e.erased {
            let _ = writeln!(o, "  - {}", md_escape(line));
        }
        for line in &e.kept {
            let _ = writeln!(o, "  - kept: {}", md_escape(line));
        }
        if let Some(f) = &e.forwarded {
            let _ = writeln!(o, "  - {}", md_escape(&f.words()));
        }
    }
}

fn audit(o: &mut String, r: &Report) {
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
}
