//! The drafted retention.toml as text: a header that says to run `plan` first, the
//! `[database]`, each policy with what was found and its `plan` count in comments,
//! and every other table in a comment with what was found there. Pure.

use std::fmt::Write as _;

use super::cascades::DraftCascade;
use super::findings::{Findings, Role};
use super::policies::DraftPolicy;

/// A TOML string: quoted and escaped.
fn s(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// What was found in a table, in one comment line.
pub fn found(f: &Findings) -> String {
    let mut parts = Vec::new();
    if f.key.is_empty() {
        parts.push("no primary key".to_string());
    } else {
        parts.push(format!("key {}", f.key.join(", ")));
    }
    if !f.timestamps.is_empty() {
        let ts: Vec<String> = f
            .timestamps
            .iter()
            .map(|(c, how)| format!("{c} ({})", how.words()))
            .collect();
        parts.push(format!("timestamps {}", ts.join(", ")));
    }
    if let Some((c, why)) = &f.subject {
        parts.push(format!("subject {c} ({why})"));
    }
    if !f.personal.is_empty() {
        let p: Vec<String> = f
            .personal
            .iter()
            .map(|p| format!("{} ({})", p.column, p.personal.kind.words()))
            .collect();
        parts.push(format!("personal-looking: {}", p.join(", ")));
    }
    parts.join("; ")
}

const PROMISES: [(Role, &str); 4] = [
    (Role::Orders, "orders and their items (10 years)"),
    (Role::Kyc, "KYC or identity documents (7 years)"),
    (
        Role::Marketing,
        "marketing consents or newsletter subscriptions (until unsubscribe + 30 days)",
    ),
    (Role::Analytics, "analytics, events or sessions (26 months)"),
];

pub struct Header<'a> {
    pub database: &'a str,
    pub url: &'a str,
    pub url_note: Option<&'a str>,
    pub drafted_at: &'a str,
}

pub fn render(h: &Header<'_>, policies: &[DraftPolicy], findings: &[Findings]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# retention.toml drafted by `retentiond init` from {} at {}.",
        h.database, h.drafted_at
    );
    o.push_str(
        "#\n# A draft, not a decision. Read every policy against the shop's privacy policy,\n\
         # fix what does not fit, and run `retentiond check` and `retentiond plan` before\n\
         # the first `retentiond purge`: each policy below says how many rows `plan`\n\
         # counted when it was drafted. docs/configuration.md has every key.\n\n",
    );
    o.push_str("[database]\n");
    if let Some(note) = h.url_note {
        let _ = writeln!(o, "# {note}");
    }
    let _ = writeln!(o, "url = {}\n", s(h.url));
    for p in policies {
        policy(&mut o, p, findings.iter().find(|f| f.table == p.table));
    }
    for (role, words) in PROMISES {
        if !policies.iter().any(|p| p.promise == role) {
            let _ = writeln!(
                o,
                "# No table looked like {words}: add a policy if the shop keeps them."
            );
        }
    }
    let covered: Vec<&str> = policies.iter().flat_map(DraftPolicy::tables).collect();
    let others: Vec<&Findings> = findings
        .iter()
        .filter(|f| !covered.contains(&f.table.as_str()))
        .collect();
    if !others.is_empty() {
        o.push_str(
            "\n# Tables no policy covers (`retentiond check` warns about their personal data):\n",
        );
        for f in others {
            let _ = writeln!(o, "#   {}: {}", f.table, found(f));
        }
    }
    o
}

fn policy(o: &mut String, p: &DraftPolicy, f: Option<&Findings>) {
    let _ = writeln!(o, "# {}", p.description);
    if !p.evidence.is_empty() {
        let _ = writeln!(o, "# why this table: {}", p.evidence.join("; "));
    }
    if let Some(f) = f {
        let _ = writeln!(o, "# found: {}", found(f));
    }
    for note in &p.notes {
        let _ = writeln!(o, "# {note}");
    }
    match p.plan {
        Some(n) => {
            let verb = if p.action == crate::policy::Action::Delete {
                "deleted"
            } else {
                "anonymised"
            };
            let _ = writeln!(o, "# plan at drafting: {n} row(s) would be {verb} now");
        }
        None => o.push_str("# plan at drafting: not counted\n"),
    }
    o.push_str("[[policy]]\n");
    let _ = writeln!(o, "name = {}", s(&p.name));
    let _ = writeln!(o, "description = {}", s(p.description));
    let _ = writeln!(o, "table = {}", s(&p.table));
    if p.key.len() == 1 {
        if p.key[0] != "id" {
            let _ = writeln!(o, "key = {}", s(&p.key[0]));
        }
    } else {
        let keys: Vec<String> = p.key.iter().map(|k| s(k)).collect();
        let _ = writeln!(o, "key = [{}]", keys.join(", "));
    }
    let _ = writeln!(
        o,
        "timestamp = {}   # {}",
        s(&p.timestamp.0),
        p.timestamp.1.words()
    );
    let _ = writeln!(o, "keep = {}", s(p.keep));
    let _ = writeln!(o, "basis = {}", s(p.basis));
    if let Some(subject) = &p.subject {
        let _ = writeln!(o, "subject = {}", s(subject));
    }
    let _ = writeln!(o, "action = {}", s(p.action.as_str()));
    if let Some((column, value)) = &p.filter {
        let _ = writeln!(o, "filter = {{ {} = {value} }}", s(column));
    }
    if !p.cascade.is_empty() {
        o.push_str("cascade = [\n");
        cascade(o, &p.cascade, 1);
        o.push_str("]\n");
    }
    if !p.anonymize.is_empty() {
        o.push_str("[policy.anonymize]\n");
        for (column, strategy) in &p.anonymize {
            let _ = writeln!(o, "{} = {}", s(column), s(strategy.as_str()));
        }
    }
    o.push('\n');
}

/// One string or a list of strings, as TOML.
fn columns(names: &[String]) -> String {
    match names {
        [one] => s(one),
        many => {
            let quoted: Vec<String> = many.iter().map(|n| s(n)).collect();
            format!("[{}]", quoted.join(", "))
        }
    }
}

/// Cascade entries, one a line, each saying what shows its link; an entry's own
/// cascade on the lines after it, indented.
fn cascade(o: &mut String, entries: &[DraftCascade], depth: usize) {
    let pad = "  ".repeat(depth);
    for e in entries {
        let mut entry = format!(
            "{{ table = {}, foreign_key = {}",
            s(&e.table),
            columns(&e.foreign_key)
        );
        if let Some(r) = &e.references {
            let _ = write!(entry, ", references = {}", columns(r));
        }
        if e.children.is_empty() {
            let _ = writeln!(o, "{pad}{entry} }},  # {}", e.by.words());
        } else {
            let _ = writeln!(o, "{pad}{entry}, cascade = [  # {}", e.by.words());
            cascade(o, &e.children, depth + 1);
            let _ = writeln!(o, "{pad}] }},");
        }
    }
}
