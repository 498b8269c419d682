//! Which of the default policy's promises each table stands for, and the evidence.
//! A name alone makes no order table: the order header is the table other tables
//! refer to by its key, with a link to a person and a date; a table that refers to
//! such a header is one of its details, whatever its name (payments, returns,
//! invoices). The other categories need a date and a name that says so, and what
//! else was seen is written in the draft's comment. Pure.

use super::findings::{Findings, Role, tokens};
use crate::db::SurveyTable;
use crate::personal::PersonalKind;
use crate::schema::Relations;

/// Sets each table's role and the evidence for it.
pub fn assign(
    found: &mut [Findings],
    tables: &[SurveyTable],
    relations: &Relations,
    people: Option<&str>,
) {
    for f in found.iter_mut() {
        if Some(f.table.as_str()) == people {
            f.role = Role::People;
            f.evidence
                .push("the table of people: other tables link their rows to it".into());
            continue;
        }
        let named = named_role(&f.table);
        let dated = !f.timestamps.is_empty();
        match named {
            Some(Role::Orders) => {}
            Some(role) if dated => {
                if let Some(evidence) = evidence_for(role, f) {
                    f.role = role;
                    f.evidence = evidence;
                }
            }
            _ => {}
        }
    }
    let headers: Vec<usize> = (0..found.len())
        .filter(|&i| order_header(&found[i], tables, relations, i).is_some())
        .collect();
    for &i in &headers {
        // A header that refers to another header is one of its details (a return,
        // a refund slip): the other is the order.
        let detail_of = relations
            .parents_of(i)
            .find(|l| l.parent != i && headers.contains(&l.parent));
        if let Some(l) = detail_of {
            found[i].role = Role::OrderChild;
            found[i].evidence = vec![format!(
                "refers to the order table `{}` by `{}`",
                tables[l.parent].name,
                l.columns.join(", ")
            )];
            continue;
        }
        let evidence = order_header(&found[i], tables, relations, i).expect("a header");
        found[i].role = Role::Orders;
        found[i].evidence = evidence;
    }
}

/// The role a table's name suggests.
fn named_role(table: &str) -> Option<Role> {
    let t = tokens(table);
    let has = |words: &[&str]| t.iter().any(|w| words.contains(&w.as_str()));
    if has(&["order", "orders"]) {
        Some(Role::Orders)
    } else if has(&[
        "kyc",
        "identity",
        "passport",
        "verification",
        "verifications",
    ]) || (has(&["id", "identity"]) && has(&["document", "documents"]))
    {
        Some(Role::Kyc)
    } else if has(&[
        "newsletter",
        "consent",
        "consents",
        "subscriber",
        "subscribers",
        "subscription",
        "subscriptions",
        "emailsubscription",
        "optin",
        "optins",
    ]) {
        Some(Role::Marketing)
    } else if has(VISITS) || has(&["event", "events"]) {
        Some(Role::Analytics)
    } else {
        None
    }
}

/// What makes a named KYC, marketing or analytics table one: its name, a date,
/// and for marketing someone to write to.
fn evidence_for(role: Role, f: &Findings) -> Option<Vec<String>> {
    let dates: Vec<&str> = f.timestamps.iter().map(|(c, _)| c.as_str()).collect();
    let mut evidence = vec![
        format!("named like {}", words(role)),
        format!("dated by {}", dates.join(", ")),
    ];
    let email = f.personal_of(PersonalKind::Email).next();
    let tracked = f.personal.iter().find(|p| {
        matches!(
            p.personal.kind,
            PersonalKind::IpAddress | PersonalKind::DeviceData
        )
    });
    match (role, email, &f.subject) {
        (Role::Marketing, Some(e), _) => {
            evidence.push(format!("an e-mail address in `{}`", e.column))
        }
        (Role::Marketing, None, Some((s, _))) => {
            evidence.push(format!("linked to a person by `{s}`"))
        }
        (Role::Marketing, None, None) => return None,
        (Role::Analytics, _, Some((s, _))) => evidence.push(format!("linked to a person by `{s}`")),
        (Role::Analytics, _, None) => match tracked {
            Some(t) => evidence.push(format!("{} in `{}`", t.personal.kind.words(), t.column)),
            // Sessions and visits are a visitor's by what they are; events
            // without a person or a trace of one (an IP, a user agent) are about
            // things: a product's event tickets.
            None if only_events(&f.table) => return None,
            None => {}
        },
        (_, _, Some((s, _))) => evidence.push(format!("linked to a person by `{s}`")),
        _ => {}
    }
    Some(evidence)
}

/// Whether the only analytics word of a table's name is `event(s)`.
fn only_events(table: &str) -> bool {
    !tokens(table).iter().any(|w| VISITS.contains(&w.as_str()))
}

/// Words of a table of visits: a visitor's by what it is.
const VISITS: &[&str] = &[
    "analytics",
    "session",
    "sessions",
    "visit",
    "visits",
    "visitor",
    "connections",
    "tracking",
    "pageviews",
];

fn words(role: Role) -> &'static str {
    match role {
        Role::Kyc => "identity documents",
        Role::Marketing => "a newsletter, subscription or consent",
        Role::Analytics => "sessions, visits or events",
        _ => "orders",
    }
}

/// Evidence that table `i` is an order header, or `None`: named like orders,
/// referred to by its key, linked to a person, dated.
fn order_header(
    f: &Findings,
    tables: &[SurveyTable],
    relations: &Relations,
    i: usize,
) -> Option<Vec<String>> {
    if named_role(&f.table) != Some(Role::Orders) || f.timestamps.is_empty() || f.key.len() != 1 {
        return None;
    }
    let (subject, _) = f.subject.as_ref()?;
    let referring: Vec<String> = relations
        .children_of(i)
        .filter(|l| {
            l.parent_columns.len() == 1 && l.parent_columns[0].eq_ignore_ascii_case(&f.key[0])
        })
        .map(|l| tables[l.child].name.clone())
        .collect();
    if referring.is_empty() {
        return None;
    }
    let shown: Vec<&str> = referring.iter().take(3).map(String::as_str).collect();
    let more = if referring.len() > 3 {
        format!(" and {} more", referring.len() - 3)
    } else {
        String::new()
    };
    let dates: Vec<&str> = f.timestamps.iter().map(|(c, _)| c.as_str()).collect();
    Some(vec![
        format!(
            "{} table(s) refer to it by `{}` ({}{more})",
            referring.len(),
            f.key[0],
            shown.join(", ")
        ),
        format!("linked to a person by `{subject}`"),
        format!("dated by {}", dates.join(", ")),
    ])
}
