//! From findings to drafted policies: the default policy's four promises mapped
//! onto the tables whose role was shown, each with its timestamp, subject, cascade
//! and anonymisation chosen from what was found; and the marketing consent kept in
//! other tables (a flag and its date on the customer). Pure.

use super::cascades::{self, DraftCascade};
use super::findings::{Findings, Role, Stored};
use crate::db::{ColumnClass, SurveyTable};
use crate::personal::PersonalKind;
use crate::policy::{Action, Strategy};
use crate::schema::Relations;

/// A policy as `init` writes it.
#[derive(Debug, Clone)]
pub struct DraftPolicy {
    /// The promise it keeps: orders, KYC, marketing or analytics.
    pub promise: Role,
    pub name: String,
    pub description: &'static str,
    pub table: String,
    pub key: Vec<String>,
    pub timestamp: (String, Stored),
    pub keep: &'static str,
    pub basis: &'static str,
    pub subject: Option<String>,
    pub action: Action,
    pub cascade: Vec<DraftCascade>,
    /// `column = value`: only rows with this value expire.
    pub filter: Option<(String, i64)>,
    pub anonymize: Vec<(String, Strategy)>,
    /// Why the table was drafted for this promise.
    pub evidence: Vec<String>,
    /// What the reader should look at.
    pub notes: Vec<String>,
    /// Rows `plan` counted when the draft was made.
    pub plan: Option<u64>,
}

impl DraftPolicy {
    /// The policy's table and every cascade table.
    pub fn tables(&self) -> Vec<&str> {
        let mut out = vec![self.table.as_str()];
        for c in &self.cascade {
            out.extend(c.tables());
        }
        out
    }
}

/// The promise a role stands for.
struct Promise {
    keep: &'static str,
    basis: &'static str,
    action: Action,
    description: &'static str,
    /// Words of the timestamp to prefer, best first.
    prefer: &'static [&'static str],
}

fn promise(role: Role) -> Option<Promise> {
    let (keep, basis, action, description, prefer): (_, _, _, _, &'static [&'static str]) =
        match role {
            Role::Orders => (
                "10 years",
                "legal_obligation",
                Action::Delete,
                "Orders and their items: 10 years (commercial and tax law)",
                &[
                    "placed",
                    "purchased",
                    "ordered",
                    "checkout",
                    "created",
                    "add",
                    "date",
                ],
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
        };
    Some(Promise {
        keep,
        basis,
        action,
        description,
        prefer,
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
        Strategy::Null | Strategy::RemoveFile => nullable,
        Strategy::Redact | Strategy::EmailDomain | Strategy::Hash => text,
    };
    if fits {
        Some(suggested)
    } else {
        nullable.then_some(Strategy::Null)
    }
}

/// One policy per table whose role is a promise, in the order of `findings`, then
/// the marketing consent kept in other tables.
pub fn draft_policies(
    found: &[Findings],
    tables: &[SurveyTable],
    relations: &Relations,
) -> Vec<DraftPolicy> {
    // Tables with a promise of their own, and the people, are no one's cascade.
    let own: Vec<usize> = found
        .iter()
        .enumerate()
        .filter(|(_, f)| !matches!(f.role, Role::OrderChild | Role::Other))
        .map(|(i, _)| i)
        .collect();
    let mut out: Vec<DraftPolicy> = Vec::new();
    for (i, (f, t)) in found.iter().zip(tables).enumerate() {
        let Some(p) = promise(f.role) else { continue };
        let Some(timestamp) = pick_timestamp(f, p.prefer) else {
            continue;
        };
        if f.key.is_empty() || out.iter().any(|d| d.tables().contains(&f.table.as_str())) {
            continue;
        }
        let mut d = DraftPolicy {
            promise: f.role,
            name: policy_name(&f.table, "", &out),
            description: p.description,
            table: f.table.clone(),
            key: f.key.clone(),
            timestamp,
            keep: p.keep,
            basis: p.basis,
            subject: f.subject.as_ref().map(|(c, _)| c.clone()),
            action: p.action,
            cascade: Vec::new(),
            filter: None,
            anonymize: Vec::new(),
            evidence: f.evidence.clone(),
            notes: Vec::new(),
            plan: None,
        };
        if f.role == Role::Marketing && !d.timestamp.0.to_ascii_lowercase().contains("unsub") {
            d.filter = consent_flag(f, t).map(|c| (c, 0));
            d.notes.push(match &d.filter {
                Some((flag, _)) => format!(
                    "check: no unsubscribe date found; rows go 30 days after `{}` once `{flag}` is 0, which may be sooner than 30 days after the person unsubscribed",
                    d.timestamp.0
                ),
                None => format!(
                    "check: no unsubscribe date found; `{}` is used, so rows go 30 days after it whether or not the person unsubscribed",
                    d.timestamp.0
                ),
            });
        }
        if d.action == Action::Anonymize {
            anonymize_personal(&mut d, f, t);
        }
        if matches!(f.role, Role::Orders | Role::Kyc) {
            let excluded: Vec<usize> = own.iter().copied().filter(|&o| o != i).collect();
            d.cascade = cascades::cascade(i, tables, relations, &excluded);
        }
        out.push(d);
    }
    for (f, t) in found.iter().zip(tables) {
        if f.role != Role::Marketing
            && !out.iter().any(|d| d.tables().contains(&f.table.as_str()))
            && let Some(d) = consent_policy(f, t, &out)
        {
            out.push(d);
        }
    }
    for d in &mut out {
        note_files(d, found);
    }
    out
}

/// A column holding an uploaded file's path outlives nothing by itself: the file
/// stays when the row goes unless the policy names its store, which `init`
/// cannot know. Said in a note, with the line to add.
fn note_files(d: &mut DraftPolicy, found: &[Findings]) {
    let tables: Vec<String> = d.tables().into_iter().map(str::to_string).collect();
    for table in tables {
        let Some(f) = found.iter().find(|f| f.table == table) else {
            continue;
        };
        for c in f.personal_of(PersonalKind::File) {
            let whose = if table == d.table {
                "the policy"
            } else {
                "its cascade entry"
            };
            d.notes.push(format!(
                "check: `{table}.{}` looks like the path of an uploaded file, which stays when the row goes unless {whose} names its store: files = {{ {} = \"uploads\" }}, with [stores.uploads] url = \"file:///where/the/files/are\" (docs/configuration.md, Files)",
                c.column, c.column
            ));
        }
    }
}

/// The personal columns of an anonymising policy, each with a strategy its type
/// takes; rows are deleted where none can be anonymised in place.
fn anonymize_personal(d: &mut DraftPolicy, f: &Findings, t: &SurveyTable) {
    for p in &f.personal {
        if p.column == d.timestamp.0 {
            continue;
        }
        let Some(c) = t.column(&p.column) else {
            continue;
        };
        // remove_file needs the file's store, which note_files asks for.
        if p.personal.kind == PersonalKind::File {
            continue;
        }
        if let Some(s) = strategy_for(p.personal.kind.strategy(), c.class, c.nullable) {
            d.anonymize.push((p.column.clone(), s));
        }
    }
    if let Some((subject, _)) = &f.subject
        && t.column(subject).is_some_and(|c| c.nullable)
        && !d.anonymize.iter().any(|(c, _)| c == subject)
    {
        d.anonymize.push((subject.clone(), Strategy::Null));
    }
    if d.anonymize.is_empty() {
        d.action = Action::Delete;
        d.notes
            .push("nothing here could be anonymised in place, so rows are deleted".into());
    }
}

/// Marketing consent kept beside other data (`newsletter` and
/// `newsletter_date_add` on the customer): once the flag is off, the consent's
/// date and the IP it was given from are cleared 30 days after that date.
/// A whole-number consent flag of the table (`newsletter`, `is_subscribed`).
fn consent_flag(f: &Findings, t: &SurveyTable) -> Option<String> {
    f.personal_of(PersonalKind::Consent)
        .find(|p| {
            t.column(&p.column)
                .is_some_and(|c| c.class == ColumnClass::Integer)
        })
        .map(|p| p.column.clone())
}

fn consent_policy(f: &Findings, t: &SurveyTable, taken: &[DraftPolicy]) -> Option<DraftPolicy> {
    let flag = consent_flag(f, t)?;
    let date = f
        .personal_of(PersonalKind::Consent)
        .filter(|p| t.column(&p.column).is_some_and(|c| c.nullable))
        .find_map(|p| f.timestamps.iter().find(|(c, _)| *c == p.column))?;
    if f.key.is_empty() {
        return None;
    }
    let consent_word = |c: &str| {
        let c = c.to_ascii_lowercase();
        [
            "newsletter",
            "optin",
            "opt_in",
            "consent",
            "marketing",
            "subscri",
        ]
        .iter()
        .any(|w| c.contains(w))
    };
    let mut anonymize = vec![(date.0.clone(), Strategy::Null)];
    for p in f.personal_of(PersonalKind::IpAddress) {
        if consent_word(&p.column) && t.column(&p.column).is_some_and(|c| c.nullable) {
            anonymize.push((p.column.clone(), Strategy::Null));
        }
    }
    Some(DraftPolicy {
        promise: Role::Marketing,
        name: policy_name(&f.table, "_marketing_consent", taken),
        description: "Marketing consent: until unsubscribe, plus 30 days",
        table: f.table.clone(),
        key: f.key.clone(),
        timestamp: date.clone(),
        keep: "30 days",
        basis: "consent",
        subject: None,
        action: Action::Anonymize,
        cascade: Vec::new(),
        filter: Some((flag.clone(), 0)),
        anonymize,
        evidence: vec![
            format!("`{flag}` looks like a consent flag"),
            format!("`{}` like the date it was given", date.0),
        ],
        notes: vec![format!(
            "check: no unsubscribe date found; once `{}` is 0, the consent's date and IP are cleared 30 days after `{}`, which may be sooner than 30 days after the person unsubscribed",
            flag, date.0
        )],
        plan: None,
    })
}

/// The table's name (and `suffix`) as a policy name: lowercase letters, digits and
/// `_`, unique among `taken`.
fn policy_name(table: &str, suffix: &str, taken: &[DraftPolicy]) -> String {
    let base: String = format!("{table}{suffix}")
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
