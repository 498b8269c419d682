//! What `init` finds in each table, from the catalog and a sample of rows:
//! candidate timestamps, the column linking a row to a person, and the
//! personal-looking columns. Roles among the promises are `roles`'. Pure.

use crate::db::{ColumnClass, SqlValue, SurveyColumn, SurveyTable};
use crate::period::parse_instant;
use crate::personal::PersonalKind;
use crate::schema::{self, PersonalColumn};

/// Where a table fits the default policy: orders (10 years), their items, KYC or
/// identity documents (7 years), marketing consents (until unsubscribe + 30 days),
/// analytics (26 months); the people table; or none of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Orders,
    OrderChild,
    Kyc,
    Marketing,
    Analytics,
    People,
    Other,
}

/// How a candidate timestamp column stores its instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Native,
    IsoText,
    EpochSeconds,
}

impl Stored {
    pub fn words(self) -> &'static str {
        match self {
            Stored::Native => "native",
            Stored::IsoText => "ISO 8601 text",
            Stored::EpochSeconds => "epoch seconds",
        }
    }
}

/// What one table showed.
#[derive(Debug, Clone)]
pub struct Findings {
    pub table: String,
    pub role: Role,
    /// Why the table has its role, one reason each, for the draft's comment.
    pub evidence: Vec<String>,
    pub key: Vec<String>,
    pub timestamps: Vec<(String, Stored)>,
    /// The column linking rows to a person, and why it was taken.
    pub subject: Option<(String, String)>,
    pub personal: Vec<PersonalColumn>,
}

impl Findings {
    /// The personal columns of `kind`.
    pub fn personal_of(&self, kind: PersonalKind) -> impl Iterator<Item = &PersonalColumn> {
        self.personal
            .iter()
            .filter(move |p| p.personal.kind == kind)
    }
}

pub(super) fn tokens(name: &str) -> Vec<String> {
    name.to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

fn epoch_range(v: &SqlValue) -> bool {
    let n = match v {
        SqlValue::Int(n) => *n as f64,
        SqlValue::Real(x) => *x,
        SqlValue::Text(t) => match t.trim().parse::<f64>() {
            Ok(x) => x,
            Err(_) => return false,
        },
        _ => return false,
    };
    (946_684_800.0..4_102_444_800.0).contains(&n)
}

fn iso(v: &SqlValue) -> bool {
    v.as_text()
        .is_some_and(|t| t.contains('-') && t.len() >= 10 && parse_instant(t).is_some())
}

/// How `c` stores instants, if its type or its sampled values say it does.
fn stored(c: &SurveyColumn, values: &[SqlValue]) -> Option<Stored> {
    let present: Vec<&SqlValue> = values.iter().filter(|v| **v != SqlValue::Null).collect();
    let all = |test: fn(&SqlValue) -> bool| !present.is_empty() && present.iter().all(|v| test(v));
    let timeish = tokens(&c.name).iter().any(|w| {
        [
            "at",
            "date",
            "time",
            "expiry",
            "expires",
            "created",
            "updated",
            "modified",
            "timestamp",
            "ts",
        ]
        .contains(&w.as_str())
    });
    match c.class {
        ColumnClass::Timestamp | ColumnClass::Date => Some(Stored::Native),
        ColumnClass::Text | ColumnClass::Untyped if all(iso) => Some(Stored::IsoText),
        ColumnClass::Integer | ColumnClass::Untyped | ColumnClass::Number
            if timeish && all(epoch_range) =>
        {
            Some(Stored::EpochSeconds)
        }
        _ => None,
    }
}

/// The findings of `t` before its role is known, given its sampled rows, its
/// personal-looking columns and the name of the people table.
pub fn findings(
    t: &SurveyTable,
    sample: &[Vec<SqlValue>],
    personal: &[PersonalColumn],
    people: Option<&str>,
) -> Findings {
    let mut timestamps = Vec::new();
    for (i, c) in t.columns.iter().enumerate() {
        let values: Vec<SqlValue> = sample.iter().filter_map(|r| r.get(i).cloned()).collect();
        // A birth date is a date, but no period counts from it.
        let birth = personal
            .iter()
            .any(|p| p.column == c.name && p.personal.kind == PersonalKind::BirthDate);
        if let Some(s) = stored(c, &values).filter(|_| !birth) {
            timestamps.push((c.name.clone(), s));
        }
    }
    Findings {
        table: t.name.clone(),
        role: Role::Other,
        evidence: Vec::new(),
        key: t.primary_key.clone(),
        timestamps,
        subject: schema::person_link(t, people),
        personal: personal.to_vec(),
    }
}
