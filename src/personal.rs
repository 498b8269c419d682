//! Which columns look like personal data, by their name and type and by a sample of
//! their values: contact data, names, addresses, birth dates, national and tax ids,
//! passwords, free text, device data and marketing consents. Shared by `init`
//! (which suggests a strategy for each) and the coverage findings of `check` and the
//! report. Pure; it says why, never what a value was.

mod names;

use std::sync::LazyLock;

use regex::Regex;

use crate::policy::Strategy;
use crate::value::SqlValue;

pub use names::{by_name, speaks_for_itself};

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
    NationalId,
    TaxId,
    Password,
    FreeText,
    Consent,
    /// The path or key of an uploaded file: a scan, a photo, an attachment.
    File,
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
            PersonalKind::NationalId => "a national identity or passport number",
            PersonalKind::TaxId => "a tax or VAT number",
            PersonalKind::Password => "a password or its hash",
            PersonalKind::FreeText => "free text written by or about a person",
            PersonalKind::Consent => "a marketing consent (a flag or its date)",
            PersonalKind::File => "the path of an uploaded file",
        }
    }

    /// The strategy that keeps what statistics need and drops the person.
    pub fn strategy(self) -> Strategy {
        match self {
            PersonalKind::File => Strategy::RemoveFile,
            PersonalKind::Email => Strategy::EmailDomain,
            PersonalKind::IpAddress => Strategy::TruncateIp,
            PersonalKind::BirthDate => Strategy::Year,
            PersonalKind::DeviceData | PersonalKind::Consent => Strategy::Null,
            PersonalKind::Phone
            | PersonalKind::Name
            | PersonalKind::PostalAddress
            | PersonalKind::NationalId
            | PersonalKind::TaxId
            | PersonalKind::Password
            | PersonalKind::FreeText => Strategy::Redact,
        }
    }
}

/// What a column's type lets it hold, as far as recognising personal data goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    Text,
    /// Whole numbers, booleans among them (MySQL's tinyint(1)).
    Integer,
    /// Decimals and floating point.
    Number,
    /// Dates and timestamps.
    Time,
    /// An IP address type (PostgreSQL's inet).
    Ip,
    /// Whatever was stored (SQLite without a declared type).
    Anything,
    Other,
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
    /// "its name suggests an e-mail address", "its values look like IP addresses".
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
        PersonalKind::Name => "people's names",
        PersonalKind::File => "paths of uploaded files",
        _ => kind.words(),
    }
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
    } else if share(&names::is_a_persons_name) {
        Some(PersonalKind::Name)
    } else {
        None
    }
}

/// A column's kind by its name and type, else by its sampled values (text only:
/// numbers and dates say nothing by their values).
pub fn classify(name: &str, holds: Holds, values: &[SqlValue]) -> Option<Personal> {
    if let Some(kind) = by_name(name, holds) {
        // Values that say the same are the stronger evidence: an `ip` column of
        // IP addresses is personal wherever it is.
        let text = matches!(holds, Holds::Text | Holds::Anything);
        let confirmed = text && !speaks_for_itself(kind, name) && by_values(values) == Some(kind);
        return Some(Personal {
            kind,
            evidence: if confirmed {
                Evidence::Values
            } else {
                Evidence::Name
            },
        });
    }
    if !matches!(holds, Holds::Text | Holds::Anything) {
        return None;
    }
    by_values(values).map(|kind| Personal {
        kind,
        evidence: Evidence::Values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: &[&str]) -> Vec<SqlValue> {
        v.iter().map(|s| SqlValue::Text(s.to_string())).collect()
    }

    #[test]
    fn values_decide_when_the_name_does_not() {
        let emails = text(&["a@example.com", "b@shop.example", "c.d@example.org", "x"]);
        assert_eq!(by_values(&emails), Some(PersonalKind::Email));
        let ips = text(&["203.0.113.7", "198.51.100.1", "2001:db8::1"]);
        assert_eq!(by_values(&ips), Some(PersonalKind::IpAddress));
        let phones = text(&["+41 44 123 45 67", "+49 30 1234567", "044-123-45-67"]);
        assert_eq!(by_values(&phones), Some(PersonalKind::Phone));
        let names = text(&["Ann Smith", "maria garcía", "Jean-Luc Picard", "Bob B"]);
        assert_eq!(by_values(&names), Some(PersonalKind::Name));
        let products = text(&["Blue Mug", "Red Tee", "Green Cap", "Ann Arbor Map"]);
        assert_eq!(by_values(&products), None);
        let skus = text(&["A-1", "B-2", "C-3"]);
        assert_eq!(by_values(&skus), None);
        let c = classify("contact", Holds::Text, &emails).unwrap();
        assert_eq!(c.reason(), "its values look like e-mail addresses");
    }

    #[test]
    fn numbers_and_dates_are_not_read_for_what_their_values_look_like() {
        let digits = text(&["+41 44 123 45 67", "+49 30 1234567", "044-123-45-67"]);
        assert_eq!(classify("amount", Holds::Number, &digits), None);
        assert_eq!(
            classify("amount", Holds::Anything, &digits).map(|p| p.kind),
            Some(PersonalKind::Phone)
        );
    }
}
