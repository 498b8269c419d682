//! Which columns look like personal data, by their name and by a sample of their
//! values: e-mail addresses, phone numbers, IP addresses, names, postal addresses,
//! birth dates, device data. Shared by `init` (which suggests a strategy for each)
//! and the coverage warnings of `check` and the report. Pure; it says why, never
//! what a value was.

use std::sync::LazyLock;

use regex::Regex;

use crate::policy::Strategy;
use crate::value::SqlValue;

/// What a personal-looking column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonalKind {
    Email,
    Phone,
    IpAddress,
    Name,
    PostalAddress,
    BirthDate,
    DeviceData,
}

impl PersonalKind {
    pub fn words(self) -> &'static str {
        match self {
            PersonalKind::Email => "an e-mail address",
            PersonalKind::Phone => "a phone number",
            PersonalKind::IpAddress => "an IP address",
            PersonalKind::Name => "a person's name",
            PersonalKind::PostalAddress => "a postal address",
            PersonalKind::BirthDate => "a birth date",
            PersonalKind::DeviceData => "device data, a user agent",
        }
    }

    /// The strategy that keeps what statistics need and drops the person.
    pub fn strategy(self) -> Strategy {
        match self {
            PersonalKind::Email => Strategy::EmailDomain,
            PersonalKind::IpAddress => Strategy::TruncateIp,
            PersonalKind::BirthDate => Strategy::Year,
            PersonalKind::DeviceData => Strategy::Null,
            PersonalKind::Phone | PersonalKind::Name | PersonalKind::PostalAddress => {
                Strategy::Redact
            }
        }
    }
}

/// How a column was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    Name,
    Values,
}

/// A column that looks personal, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Personal {
    pub kind: PersonalKind,
    pub evidence: Evidence,
}

impl Personal {
    /// "its name suggests an e-mail address", "its values are IP addresses".
    pub fn reason(&self) -> String {
        match self.evidence {
            Evidence::Name => format!("its name suggests {}", self.kind.words()),
            Evidence::Values => format!("its values look like {}", plural(self.kind)),
        }
    }
}

fn plural(kind: PersonalKind) -> &'static str {
    match kind {
        PersonalKind::Email => "e-mail addresses",
        PersonalKind::Phone => "phone numbers",
        PersonalKind::IpAddress => "IP addresses",
        PersonalKind::Name => "names",
        PersonalKind::PostalAddress => "postal addresses",
        PersonalKind::BirthDate => "birth dates",
        PersonalKind::DeviceData => "user agents",
    }
}

/// The words of a column name: `customerEmail`, `customer_email` and
/// `CUSTOMER-EMAIL` all give `customer`, `email`.
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            out.push(std::mem::take(&mut word));
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower {
            out.push(std::mem::take(&mut word));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        word.extend(c.to_lowercase());
    }
    out.push(word);
    out.retain(|w| !w.is_empty());
    out
}

/// A column's kind by its name alone.
pub fn by_name(name: &str) -> Option<PersonalKind> {
    let w = words(name);
    let has = |x: &str| w.iter().any(|v| v == x);
    let joined = w.join("_");
    // Counts, flags and ids about a thing are not the thing: `email_verified`,
    // `phone_count`, `address_id`.
    let about = [
        "id",
        "count",
        "verified",
        "type",
        "status",
        "format",
        "confirmed",
        "sent",
    ];
    if w.last().is_some_and(|l| about.contains(&l.as_str())) {
        return None;
    }
    let kind = if has("email") || has("mail") || joined.contains("e_mail") {
        PersonalKind::Email
    } else if has("phone") || has("telephone") || has("mobile") || has("fax") || has("tel") {
        PersonalKind::Phone
    } else if has("ip") || joined.contains("remote_addr") || has("ipaddress") {
        PersonalKind::IpAddress
    } else if has("birthday") || has("dob") || has("birth") || has("birthdate") {
        PersonalKind::BirthDate
    } else if joined.contains("user_agent") || has("useragent") {
        PersonalKind::DeviceData
    } else if [
        "firstname",
        "lastname",
        "surname",
        "fullname",
        "middlename",
        "nickname",
    ]
    .iter()
    .any(|n| has(n))
        || joined.contains("first_name")
        || joined.contains("last_name")
        || joined.contains("display_name")
        || joined.contains("full_name")
        || joined == "name_on_card"
        || joined == "user_login"
        || joined == "username"
    {
        PersonalKind::Name
    } else if [
        "street", "city", "postcode", "zip", "zipcode", "address", "address1", "address2",
    ]
    .iter()
    .any(|n| has(n))
        || joined.contains("postal_code")
    {
        PersonalKind::PostalAddress
    } else {
        return None;
    };
    Some(kind)
}

static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$").expect("valid regex"));
static IPV4: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$")
        .expect("valid regex")
});
static PHONE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\+?[\d\s().-]{7,20}$").expect("valid regex"));

/// A column's kind by a sample of its values: most non-empty text values must fit.
pub fn by_values(values: &[SqlValue]) -> Option<PersonalKind> {
    let texts: Vec<&str> = values
        .iter()
        .filter_map(SqlValue::as_text)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    if texts.len() < 3 {
        return None;
    }
    let share = |test: &dyn Fn(&str) -> bool| {
        texts.iter().filter(|t| test(t)).count() * 4 >= texts.len() * 3
    };
    if share(&|t| EMAIL.is_match(t)) {
        Some(PersonalKind::Email)
    } else if share(&|t| {
        IPV4.is_match(t) || (t.contains(':') && t.parse::<std::net::Ipv6Addr>().is_ok())
    }) {
        Some(PersonalKind::IpAddress)
    } else if share(&|t| {
        PHONE.is_match(t)
            && t.chars().filter(char::is_ascii_digit).count() >= 7
            && (t.starts_with('+') || t.contains(' ') || t.contains('-'))
    }) {
        Some(PersonalKind::Phone)
    } else {
        None
    }
}

/// A column's kind by name, else by its sampled values.
pub fn classify(name: &str, values: &[SqlValue]) -> Option<Personal> {
    if let Some(kind) = by_name(name) {
        return Some(Personal {
            kind,
            evidence: Evidence::Name,
        });
    }
    by_values(values).map(|kind| Personal {
        kind,
        evidence: Evidence::Values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_shop_platforms_are_recognised() {
        use PersonalKind::*;
        for (name, kind) in [
            ("billing_email", Some(Email)),
            ("customerEmail", Some(Email)),
            ("user_email", Some(Email)),
            ("email_verified", None),
            ("remote_ip", Some(IpAddress)),
            ("ip_registration_newsletter", Some(IpAddress)),
            ("shipping_phone", Some(Phone)),
            ("firstname", Some(Name)),
            ("last_name", Some(Name)),
            ("display_name", Some(Name)),
            ("address_1", Some(PostalAddress)),
            ("postcode", Some(PostalAddress)),
            ("address_id", None),
            ("dob", Some(BirthDate)),
            ("birthday", Some(BirthDate)),
            ("user_agent", Some(DeviceData)),
            ("shipping_method", None),
            ("description", None),
            ("ship", None),
        ] {
            assert_eq!(by_name(name), kind, "{name}");
        }
    }

    #[test]
    fn values_decide_when_the_name_does_not() {
        let text = |v: &[&str]| {
            v.iter()
                .map(|s| SqlValue::Text(s.to_string()))
                .collect::<Vec<_>>()
        };
        let emails = text(&["a@example.com", "b@shop.example", "c.d@example.org", "x"]);
        assert_eq!(by_values(&emails), Some(PersonalKind::Email));
        let ips = text(&["203.0.113.7", "198.51.100.1", "2001:db8::1"]);
        assert_eq!(by_values(&ips), Some(PersonalKind::IpAddress));
        let phones = text(&["+41 44 123 45 67", "+49 30 1234567", "044-123-45-67"]);
        assert_eq!(by_values(&phones), Some(PersonalKind::Phone));
        let skus = text(&["A-1", "B-2", "C-3"]);
        assert_eq!(by_values(&skus), None);
        let c = classify("note", &emails).unwrap();
        assert_eq!(c.reason(), "its values look like e-mail addresses");
    }
}
