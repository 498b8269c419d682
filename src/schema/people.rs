//! The people of a schema: the table that holds them (`customer`, `users`), and the
//! column of another table that links its rows to one (a foreign key to that table,
//! or a name such as `customer_id`, `id_customer`, `userId`).

use crate::db::SurveyTable;
use crate::personal::{self, PersonalKind};

fn tokens(name: &str) -> Vec<String> {
    name.to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// A column named as a link to a person: `customer_id`, `user_id`, `id_customer`.
pub fn names_a_person(column: &str) -> bool {
    let t = tokens(column);
    let person = [
        "customer",
        "user",
        "member",
        "account",
        "client",
        "subscriber",
    ];
    match t.as_slice() {
        [p, id] | [id, p] if id == "id" && person.contains(&p.as_str()) => true,
        [single] => ["customerid", "userid", "memberid"].contains(&single.as_str()),
        _ => false,
    }
}

/// Whether a table is named like a table of people: customers, users, members,
/// accounts, but not their groups, roles or metadata.
fn named_like_people(table: &str) -> bool {
    let t = tokens(table);
    let has = |words: &[&str]| t.iter().any(|w| words.contains(&w.as_str()));
    has(&[
        "customer",
        "customers",
        "users",
        "user",
        "members",
        "member",
        "accounts",
    ]) && !has(&[
        "group",
        "groups",
        "role",
        "roles",
        "meta",
        "usermeta",
        "lookup",
        "thread",
        "message",
        "messages",
        "address",
        "addresses",
        "session",
        "sessions",
        "visitor",
        "token",
        "tokens",
    ])
}

/// The people table: the one named like it, with a one-column key and an e-mail
/// column; the one most foreign keys point to breaking ties.
pub fn people_table(tables: &[SurveyTable]) -> Option<String> {
    let mut candidates: Vec<(usize, &SurveyTable)> = tables
        .iter()
        .filter(|t| named_like_people(&t.name) && t.primary_key.len() == 1)
        .filter(|t| {
            t.columns
                .iter()
                .any(|c| personal::by_name(&c.name, c.holds()) == Some(PersonalKind::Email))
        })
        .map(|t| {
            let pointing = tables
                .iter()
                .flat_map(|o| &o.foreign_keys)
                .filter(|k| k.table.eq_ignore_ascii_case(&t.name))
                .count();
            (pointing, t)
        })
        .collect();
    candidates.sort_by_key(|(n, t)| (std::cmp::Reverse(*n), t.name.len()));
    candidates.first().map(|(_, t)| t.name.clone())
}

/// The column linking `t`'s rows to a person, and why it was taken: the row is the
/// person, a foreign key to the people table, or a name like `customer_id`.
pub fn person_link(t: &SurveyTable, people: Option<&str>) -> Option<(String, String)> {
    if t.primary_key.len() == 1 && Some(t.name.as_str()) == people {
        return Some((t.primary_key[0].clone(), "the row is the person".into()));
    }
    if let Some(people) = people
        && let Some(fk) = t
            .foreign_keys
            .iter()
            .find(|k| k.columns.len() == 1 && k.table.eq_ignore_ascii_case(people))
    {
        return Some((
            fk.columns[0].clone(),
            format!("a foreign key to `{people}`"),
        ));
    }
    t.columns
        .iter()
        .filter(|c| !t.primary_key.contains(&c.name))
        .find(|c| names_a_person(&c.name))
        .map(|c| (c.name.clone(), "named like a link to a person".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_links_by_name() {
        for yes in [
            "customer_id",
            "user_id",
            "id_customer",
            "customerId",
            "member_id",
        ] {
            assert!(names_a_person(yes), "{yes}");
        }
        for no in [
            "customer_email",
            "id",
            "order_id",
            "user_agent",
            "customer_group_id",
        ] {
            assert!(!names_a_person(no), "{no}");
        }
    }

    #[test]
    fn people_tables_by_name() {
        for yes in [
            "ps_customer",
            "customer_entity",
            "wp_users",
            "sylius_customer",
        ] {
            assert!(named_like_people(yes), "{yes}");
        }
        for no in [
            "wp_usermeta",
            "ps_customer_group",
            "ps_customer_thread",
            "customer_address",
        ] {
            assert!(!named_like_people(no), "{no}");
        }
    }
}
