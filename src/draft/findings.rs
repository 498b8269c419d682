//! What `init` finds in each table, from the catalog and a sample of rows: its role
//! among the default policy's four promises, candidate timestamps, the subject link,
//! personal-looking columns, and the tables that hang off it by a foreign key. Pure.

use crate::db::{ColumnClass, SqlValue, SurveyColumn, SurveyTable};
use crate::period::parse_instant;
use crate::personal::{self, Personal};

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

#[derive(Debug, Clone)]
pub struct PersonalColumn {
    pub column: String,
    pub personal: Personal,
}

/// What one table showed.
#[derive(Debug, Clone)]
pub struct Findings {
    pub table: String,
    pub role: Role,
    pub key: Vec<String>,
    pub timestamps: Vec<(String, Stored)>,
    /// The column linking rows to a person, and why it was taken.
    pub subject: Option<(String, String)>,
    pub personal: Vec<PersonalColumn>,
}

fn tokens(name: &str) -> Vec<String> {
    name.to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// The table's role by its name's words (`sales_order_item`, `ps_order_detail`).
pub fn role_of(table: &str) -> Role {
    let t = tokens(table);
    let has = |words: &[&str]| t.iter().any(|w| words.contains(&w.as_str()));
    let child = [
        "item",
        "items",
        "detail",
        "details",
        "line",
        "lines",
        "address",
        "addresses",
    ];
    if has(&["order", "orders"]) && has(&child) {
        Role::OrderChild
    } else if has(&["order", "orders"])
        && !has(&["stats", "status", "history", "tax", "meta", "note", "notes"])
    {
        Role::Orders
    } else if has(&[
        "kyc",
        "identity",
        "passport",
        "verification",
        "verifications",
    ]) || (has(&["id", "identity"]) && has(&["document", "documents"]))
    {
        Role::Kyc
    } else if has(&[
        "newsletter",
        "consent",
        "consents",
        "subscriber",
        "subscribers",
        "subscription",
        "subscriptions",
        "emailsubscription",
        "marketing",
        "mailing",
    ]) {
        Role::Marketing
    } else if has(&[
        "analytics",
        "event",
        "events",
        "session",
        "sessions",
        "visit",
        "visits",
        "visitor",
        "connections",
        "tracking",
        "pageviews",
    ]) {
        Role::Analytics
    } else if has(&[
        "customer",
        "customers",
        "users",
        "user",
        "members",
        "member",
        "accounts",
    ]) && !has(&[
        "group", "groups", "role", "roles", "meta", "usermeta", "lookup",
    ]) {
        Role::People
    } else {
        Role::Other
    }
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

/// The findings of `t`, given its sampled rows and the name of the people table.
pub fn findings(t: &SurveyTable, sample: &[Vec<SqlValue>], people: Option<&str>) -> Findings {
    let column_values =
        |i: usize| -> Vec<SqlValue> { sample.iter().filter_map(|r| r.get(i).cloned()).collect() };
    let mut timestamps = Vec::new();
    let mut personal = Vec::new();
    for (i, c) in t.columns.iter().enumerate() {
        let values = column_values(i);
        // A birth date is a date, but no period counts from it.
        let birth = personal::by_name(&c.name) == Some(personal::PersonalKind::BirthDate);
        if let Some(s) = stored(c, &values).filter(|_| !birth) {
            timestamps.push((c.name.clone(), s));
            continue;
        }
        if t.primary_key.contains(&c.name) {
            continue;
        }
        if let Some(p) = personal::classify(&c.name, &values) {
            personal.push(PersonalColumn {
                column: c.name.clone(),
                personal: p,
            });
        }
    }
    let role = role_of(&t.name);
    Findings {
        table: t.name.clone(),
        role,
        key: t.primary_key.clone(),
        timestamps,
        subject: subject(t, role, people),
        personal,
    }
}

fn subject(t: &SurveyTable, role: Role, people: Option<&str>) -> Option<(String, String)> {
    if role == Role::People && t.primary_key.len() == 1 && Some(t.name.as_str()) == people {
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

/// The people table: the one named like it that holds an e-mail column, the one
/// most foreign keys point to breaking ties.
pub fn people_table(tables: &[SurveyTable]) -> Option<String> {
    let mut candidates: Vec<(usize, &SurveyTable)> = tables
        .iter()
        .filter(|t| role_of(&t.name) == Role::People && t.primary_key.len() == 1)
        .filter(|t| {
            t.columns
                .iter()
                .any(|c| personal::by_name(&c.name) == Some(personal::PersonalKind::Email))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shop_platform_tables_find_their_role() {
        use Role::*;
        for (table, role) in [
            ("wp_wc_orders", Orders),
            ("wp_woocommerce_order_items", OrderChild),
            ("wp_wc_order_addresses", OrderChild),
            ("wp_wc_order_stats", Other),
            ("sales_order", Orders),
            ("sales_order_item", OrderChild),
            ("ps_orders", Orders),
            ("ps_order_detail", OrderChild),
            ("kyc_documents", Kyc),
            ("newsletter_subscriber", Marketing),
            ("ps_emailsubscription", Marketing),
            ("wp_woocommerce_sessions", Analytics),
            ("customer_visitor", Analytics),
            ("ps_connections", Analytics),
            ("customer_entity", People),
            ("ps_customer", People),
            ("wp_users", People),
            ("wp_usermeta", Other),
            ("wp_posts", Other),
            ("quote", Other),
        ] {
            assert_eq!(role_of(table), role, "{table}");
        }
    }

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
}
