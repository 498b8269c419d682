//! The personal-looking columns of every table of a schema. A column's name, type
//! and sampled values decide (see `crate::personal`); what is personal only about a
//! person (an IP address, a postal address, free text, a display name) counts only
//! where the table holds data that is personal on its own, links to a person or a
//! visitor, or hangs off a table that does: a server's IP, a store's address or a
//! mail template is not about anyone.

use super::people::person_link;
use super::relations::Relations;
use crate::db::{SqlValue, SurveyTable};
use crate::personal::{self, Evidence, Personal, PersonalKind};

/// A column that looks personal, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalColumn {
    pub column: String,
    pub personal: Personal,
}

/// For each table (in the order of `tables`), its personal-looking columns but its
/// primary key's. `samples[i]` are rows of `tables[i]`, every column in order.
pub fn personal_columns(
    tables: &[SurveyTable],
    samples: &[Vec<Vec<SqlValue>>],
    relations: &Relations,
    people: Option<&str>,
) -> Vec<Vec<PersonalColumn>> {
    let mut found: Vec<Vec<PersonalColumn>> = tables
        .iter()
        .zip(samples)
        .map(|(t, sample)| {
            t.columns
                .iter()
                .enumerate()
                .filter(|(_, c)| !t.primary_key.contains(&c.name))
                .filter_map(|(i, c)| {
                    let values: Vec<SqlValue> =
                        sample.iter().filter_map(|r| r.get(i).cloned()).collect();
                    personal::classify(&c.name, c.holds(), &values).map(|p| PersonalColumn {
                        column: c.name.clone(),
                        personal: p,
                    })
                })
                .collect()
        })
        .collect();
    let about_a_person: Vec<bool> = tables
        .iter()
        .zip(&found)
        .map(|(t, cols)| {
            person_link(t, people).is_some()
                || t.columns.iter().any(|c| names_a_visitor(&c.name))
                || cols.iter().any(on_its_own)
        })
        .collect();
    for (i, cols) in found.iter_mut().enumerate() {
        let context = hangs_off_a_person(i, relations, &about_a_person, 3);
        if !context {
            cols.retain(|c| on_its_own(c) || c.personal.kind == PersonalKind::Consent);
        }
    }
    found
}

/// Whether a column is personal data wherever it is: by its values, or by a name
/// that says so on its own (`email`, `lastname`, `dni`).
fn on_its_own(c: &PersonalColumn) -> bool {
    c.personal.evidence == Evidence::Values
        || (c.personal.kind != PersonalKind::Consent
            && personal::speaks_for_itself(c.personal.kind, &c.column))
}

/// A column linking a row to a visitor or guest: not a subject to erase by, but
/// what makes a session's IP address personal.
fn names_a_visitor(column: &str) -> bool {
    let c = column.to_ascii_lowercase();
    [
        "id_guest",
        "guest_id",
        "visitor_id",
        "id_visitor",
        "session_id",
        "id_session",
    ]
    .contains(&c.as_str())
}

/// Whether table `i` is about a person, or refers (up to `depth` links up) to a
/// table that is: a message of a support thread of a customer's order.
fn hangs_off_a_person(i: usize, relations: &Relations, about: &[bool], depth: usize) -> bool {
    about[i]
        || (depth > 0
            && relations
                .parents_of(i)
                .filter(|l| l.parent != i)
                .any(|l| hangs_off_a_person(l.parent, relations, about, depth - 1)))
}
