//! From findings to drafted policies: the default policy's four promises mapped
//! onto the tables whose names fit, each with its timestamp, subject, cascade and
//! anonymisation chosen from what was found. Pure.

use super::findings::{Findings, Role, Stored};
use crate::db::{ColumnClass, SurveyTable};
use crate::policy::{Action, Strategy};

/// A policy as `init` writes it.
#[derive(Debug, Clone)]
pub struct DraftPolicy {
    pub name: String,
    pub description: &'static str,
    pub table: String,
    pub key: Vec<String>,
    pub timestamp: (String, Stored),
    pub keep: &'static str,
    pub basis: &'static str,
    pub subject: Option<String>,
    pub action: Action,
    /// (child table, foreign key column, the parent's column it holds where no
    /// foreign-key constraint says so)
    pub cascade: Vec<(String, String, Option<String>)>,
    pub anonymize: Vec<(String, Strategy)>,
    /// What the reader should look at.
    pub notes: Vec<String>,
    /// Rows `plan` counted when the draft was made.
    pub plan: Option<u64>,
}

/// The promise a role stands for: (keep, basis, action, description, preferred
/// timestamp words).
fn promise(
    role: Role,
) -> Option<(
    &'static str,
    &'static str,
    Action,
    &'static str,
    &'static [&'static str],
)> {
    Some(match role {
        Role::Orders => (
            "10 years",
            "legal_obligation",
            Action::Delete,
            "Orders and their items: 10 years (commercial and tax law)",
            &["placed", "purchased", "ordered", "created", "add", "date"],
        ),
        Role::Kyc => (
            "7 years",
            "legal_obligation",
            Action::Delete,
            "KYC and identity documents: 7 years (anti-money-laundering law)",
            &["uploaded", "verified", "created", "add", "date"],
        ),
        Role::Marketing => (
            "30 days",
            "consent",
            Action::Delete,
            "Marketing consent: until unsubscribe, plus 30 days",
            &[
                "unsubscribed",
                "unsubscribe",
                "unsub",
                "revoked",
                "withdrawn",
                "change",
                "updated",
            ],
        ),
        Role::Analytics => (
            "26 months",
            "legitimate_interest",
            Action::Anonymize,
            "Analytics and sessions: 26 months",
            &[
                "occurred", "created", "visit", "add", "expiry", "time", "date",
            ],
        ),
        Role::OrderChild | Role::People | Role::Other => return None,
    })
}

fn pick_timestamp(f: &Findings, preferred: &[&str]) -> Option<(String, Stored)> {
    for word in preferred {
        if let Some(t) = f
            .timestamps
            .iter()
            .find(|(c, _)| c.to_ascii_lowercase().contains(word))
        {
            return Some(t.clone());
        }
    }
    f.timestamps.first().cloned()
}

/// The strategy for a personal column that its type can take, if any.
fn strategy_for(suggested: Strategy, class: ColumnClass, nullable: bool) -> Option<Strategy> {
    let text = matches!(class, ColumnClass::Text | ColumnClass::Untyped);
    let fits = match suggested {
        Strategy::TruncateIp => text || class == ColumnClass::Ip,
        Strategy::Year | Strategy::Month => matches!(
            class,
            ColumnClass::Timestamp
                | ColumnClass::Date
                | ColumnClass::Text
                | ColumnClass::Integer
                | ColumnClass::Untyped
        ),
        Strategy::Null => nullable,
        Strategy::Redact | Strategy::EmailDomain | Strategy::Hash => text,
    };
    if fits {
        Some(suggested)
    } else {
        nullable.then_some(Strategy::Null)
    }
}

/// Children of `parent`: tables with a one-column foreign key to it, or, without
/// foreign keys, an `order_id` / `id_order` column when the parent holds orders.
fn children(
    parent: &SurveyTable,
    all: &[SurveyTable],
    role: Role,
) -> Vec<(String, String, Option<String>)> {
    let mut out = Vec::new();
    for t in all.iter().filter(|t| t.name != parent.name) {
        let by_fk = t
            .foreign_keys
            .iter()
            .find(|k| k.columns.len() == 1 && k.table.eq_ignore_ascii_case(&parent.name));
        let by_name = (role == Role::Orders && t.foreign_keys.is_empty())
            .then(|| {
                t.columns.iter().find(|c| {
                    let n = c.name.to_ascii_lowercase();
                    n == "order_id" || n == "id_order"
                })
            })
            .flatten();
        if let Some(k) = by_fk {
            out.push((t.name.clone(), k.columns[0].clone(), None));
        } else if let (Some(c), [key]) = (by_name, parent.primary_key.as_slice()) {
            out.push((t.name.clone(), c.name.clone(), Some(key.clone())));
        }
    }
    out
}

/// One policy per table whose role is a promise, in the order of `findings`.
pub fn draft_policies(findings: &[Findings], tables: &[SurveyTable]) -> Vec<DraftPolicy> {
    let mut out: Vec<DraftPolicy> = Vec::new();
    for (f, t) in findings.iter().zip(tables) {
        let Some((keep, basis, action, description, words)) = promise(f.role) else {
            continue;
        };
        let Some(timestamp) = pick_timestamp(f, words) else {
            continue;
        };
        if f.key.is_empty() {
            continue;
        }
        let mut notes = Vec::new();
        if f.role == Role::Marketing && !timestamp.0.to_ascii_lowercase().contains("unsub") {
            notes.push(format!(
                "check: no unsubscribe date found; `{}` is used, so rows go 30 days after it whether or not the person unsubscribed",
                timestamp.0
            ));
        }
        let mut anonymize = Vec::new();
        let mut action = action;
        if action == Action::Anonymize {
            for p in &f.personal {
                let Some(c) = t.column(&p.column) else {
                    continue;
                };
                if let Some(s) = strategy_for(p.personal.kind.strategy(), c.class, c.nullable) {
                    anonymize.push((p.column.clone(), s));
                }
            }
            if let Some((subject, _)) = &f.subject
                && t.column(subject).is_some_and(|c| c.nullable)
                && !anonymize.iter().any(|(c, _)| c == subject)
            {
                anonymize.push((subject.clone(), Strategy::Null));
            }
            if anonymize.is_empty() {
                action = Action::Delete;
                notes.push("nothing here could be anonymised in place, so rows are deleted".into());
            }
        }
        let taken: Vec<String> = out.iter().map(|p| p.table.clone()).collect();
        let cascade = if f.role == Role::Orders || f.role == Role::Kyc {
            children(t, tables, f.role)
                .into_iter()
                .filter(|(child, _, _)| !taken.contains(child))
                .collect()
        } else {
            Vec::new()
        };
        out.push(DraftPolicy {
            name: policy_name(&f.table, &out),
            description,
            table: f.table.clone(),
            key: f.key.clone(),
            timestamp,
            keep,
            basis,
            subject: f.subject.as_ref().map(|(c, _)| c.clone()),
            action,
            cascade,
            anonymize,
            notes,
            plan: None,
        });
    }
    // A table drafted as another's cascade child is not drafted on its own too.
    let children: Vec<String> = out
        .iter()
        .flat_map(|p| p.cascade.iter().map(|(c, _, _)| c.clone()))
        .collect();
    out.retain(|p| !children.contains(&p.table));
    out
}

/// The table's name as a policy name: lowercase letters, digits and `_`.
fn policy_name(table: &str, taken: &[DraftPolicy]) -> String {
    let base: String = table
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let mut name = base.clone();
    let mut n = 2;
    while taken.iter().any(|p| p.name == name) {
        name = format!("{base}_{n}");
        n += 1;
    }
    name
}
