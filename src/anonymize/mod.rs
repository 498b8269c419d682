//! The anonymisation strategies as pure functions from a stored value to its
//! replacement. Computed in Rust rather than SQL so every backend writes exactly the
//! same output (SQL dialects have no common HMAC or IPv6 arithmetic). `forms` says
//! how each output is recognised, so that a pass can tell done from to-do without a
//! marker column.

mod forms;

use std::net::IpAddr;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::policy::{HmacKey, REDACTED, Strategy};
use crate::value::SqlValue;

pub use forms::{
    EPOCH_RANGE, Form, HEX64, ISO_DATE, MONTH_START, Pattern, Recognition, Test, ValueState,
    YEAR_START, ip_any, ip_truncated, recognition, state,
};

/// Why a value is anonymised: its period ran out, or its subject asked for erasure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `hash` writes the keyed HMAC: the same input gives the same pseudonym, so
    /// joins on it still work.
    Expiry,
    /// `hash` writes random bytes of the same form: no key leads back to the person.
    Erasure,
}

/// Where a row stands when the policy has a marker column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// No marker: each value's own form says whether it is done.
    ByValue,
    /// The marker is NULL: every value is anonymised.
    Unmarked,
    /// The marker is set: the row was anonymised before.
    Marked,
}

/// The value a batch writes for `value`: its replacement, or `value` itself where
/// nothing is to be done. NULL stays NULL. An erasure gives every `hash` value a
/// new random one, even one already anonymised, since a keyed pseudonym still
/// leads back to its person.
pub fn replace(
    strategy: Strategy,
    form: Form,
    value: &SqlValue,
    key: Option<&HmacKey>,
    purpose: Purpose,
    progress: Progress,
) -> SqlValue {
    if *value == SqlValue::Null {
        return SqlValue::Null;
    }
    if purpose == Purpose::Erasure && strategy == Strategy::Hash {
        return SqlValue::Text(random_hex());
    }
    match progress {
        Progress::Marked => value.clone(),
        Progress::Unmarked => apply(strategy, form, value, key, purpose),
        Progress::ByValue => match state(strategy, form, value) {
            ValueState::Pending => apply(strategy, form, value, key, purpose),
            ValueState::Anonymized | ValueState::CannotAnonymize => value.clone(),
        },
    }
}

/// The replacement for `value` under `strategy`. NULL stays NULL under every
/// strategy. A value the strategy cannot read (an IP column holding no IP address)
/// is redacted, or NULL for dates: with a marker, the row counts as done, so nothing
/// of the original may stay.
pub fn apply(
    strategy: Strategy,
    form: Form,
    value: &SqlValue,
    key: Option<&HmacKey>,
    purpose: Purpose,
) -> SqlValue {
    if *value == SqlValue::Null {
        return SqlValue::Null;
    }
    let text = || value.to_text();
    let redacted = || SqlValue::Text(REDACTED.into());
    match strategy {
        // The file itself is removed after the batch commits (`engine::files`).
        Strategy::Null | Strategy::RemoveFile => SqlValue::Null,
        Strategy::Redact => redacted(),
        Strategy::Hash => match (purpose, key) {
            (Purpose::Erasure, _) => SqlValue::Text(random_hex()),
            (Purpose::Expiry, Some(key)) => SqlValue::Text(hmac_hex(key, &bytes_of(value))),
            // The config refuses `hash` without a key; never fall back to a plain digest.
            (Purpose::Expiry, None) => redacted(),
        },
        Strategy::TruncateIp => text()
            .and_then(|t| truncate_ip(&t))
            .map_or_else(redacted, SqlValue::Text),
        Strategy::EmailDomain => text()
            .and_then(|t| email_domain(&t))
            .map_or_else(redacted, SqlValue::Text),
        Strategy::Year | Strategy::Month => {
            truncate_date(form, value, strategy == Strategy::Month).unwrap_or(SqlValue::Null)
        }
    }
}

/// A date truncated to its year or month, written the way it was: epoch seconds
/// stay epoch seconds (as a number or as text), ISO text keeps its separator and
/// zone.
fn truncate_date(form: Form, value: &SqlValue, month: bool) -> Option<SqlValue> {
    // Floored, as SQL's date functions read a fractional second before 1970.
    let epoch = |x: f64| forms::epoch_start(x.floor() as i64, month);
    match (form, value) {
        (Form::Number | Form::ByValue, SqlValue::Int(n)) => epoch(*n as f64).map(SqlValue::Int),
        (Form::Number | Form::ByValue, SqlValue::Real(x)) => epoch(*x).map(SqlValue::Int),
        (Form::Number, SqlValue::Text(t)) => t
            .parse::<f64>()
            .ok()
            .and_then(epoch)
            .map(|n| SqlValue::Text(n.to_string())),
        (Form::Text | Form::ByValue, SqlValue::Text(t)) => {
            truncate_text_date(t, month).map(SqlValue::Text)
        }
        _ => None,
    }
}

fn bytes_of(value: &SqlValue) -> Vec<u8> {
    match value {
        SqlValue::Text(s) => s.as_bytes().to_vec(),
        SqlValue::Int(n) => n.to_string().into_bytes(),
        SqlValue::Real(x) => x.to_string().into_bytes(),
        SqlValue::Blob(b) => b.clone(),
        SqlValue::Null => Vec::new(),
    }
}

/// Lowercase hex HMAC-SHA256.
pub fn hmac_hex(key: &HmacKey, data: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key.0).expect("HMAC accepts keys of any length");
    mac.update(data);
    hex::encode(mac.finalize().into_bytes())
}

/// 32 random bytes as 64 lowercase hex characters: the form of an HMAC-SHA256,
/// linked to nothing.
fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    hex::encode(bytes)
}

/// IPv4 keeps its /24 (`203.0.113.7` -> `203.0.113.0`), IPv6 its /48. Spaces around
/// the address are ignored.
pub fn truncate_ip(text: &str) -> Option<String> {
    let ip: IpAddr = text.trim_matches(' ').parse().ok()?;
    Some(match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            std::net::Ipv4Addr::new(a, b, c, 0).to_string()
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            // ::ffff:a.b.c.d is an IPv4 address: its /48 would keep all of it.
            Some(v4) => {
                let [a, b, c, _] = v4.octets();
                std::net::Ipv4Addr::new(a, b, c, 0)
                    .to_ipv6_mapped()
                    .to_string()
            }
            None => {
                let s = v6.segments();
                std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0).to_string()
            }
        },
    })
}

/// The part after the last `@`, lowercased; spaces around the address are ignored.
pub fn email_domain(text: &str) -> Option<String> {
    let (_, domain) = text.trim_matches(' ').rsplit_once('@')?;
    (!domain.is_empty()).then(|| domain.to_ascii_lowercase())
}

/// The first instant of the text date's year or month, written the way the value
/// was: a date stays a date, a `T` or space separator and the zone are kept. Only
/// text in [`ISO_DATE`]'s form is read; the truncation is textual, so that every
/// backend's text of a date truncates alike.
fn truncate_text_date(text: &str, month: bool) -> Option<String> {
    if !Test::Matches(Pattern::iso_date()).holds(&SqlValue::Text(text.to_string())) {
        return None;
    }
    let first = if month {
        format!("{}-01", &text[..7])
    } else {
        format!("{}-01-01", &text[..4])
    };
    if text.len() == 10 {
        return Some(first);
    }
    let sep = &text[10..11];
    // After `HH:MM[:SS[.fff]]`, whatever is left is the zone.
    let time = &text[11..];
    let zone_at = time.find(['Z', '+', '-']).unwrap_or(time.len());
    Some(format!("{first}{sep}00:00:00{}", &time[zone_at..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> HmacKey {
        HmacKey(vec![7u8; 32])
    }

    fn text(s: &str) -> SqlValue {
        SqlValue::Text(s.into())
    }

    fn check(strategy: Strategy, input: SqlValue, expect: SqlValue) {
        assert_eq!(
            apply(
                strategy,
                Form::ByValue,
                &input,
                Some(&key()),
                Purpose::Expiry
            ),
            expect,
            "{strategy:?} {input:?}"
        );
    }

    #[test]
    fn every_strategy_keeps_null() {
        for &s in Strategy::ALL {
            check(s, SqlValue::Null, SqlValue::Null);
        }
    }

    #[test]
    fn strategies_write_what_the_design_says() {
        check(Strategy::Null, text("x"), SqlValue::Null);
        check(Strategy::Redact, text("Jane Doe"), text("[redacted]"));
        check(
            Strategy::TruncateIp,
            text("203.0.113.7"),
            text("203.0.113.0"),
        );
        check(
            Strategy::TruncateIp,
            text("2001:db8:abcd:12:3456::1"),
            text("2001:db8:abcd::"),
        );
        check(
            Strategy::TruncateIp,
            text("::ffff:203.0.113.7"),
            text("::ffff:203.0.113.0"),
        );
        check(Strategy::TruncateIp, text("not an ip"), text("[redacted]"));
        check(
            Strategy::EmailDomain,
            text("jane.doe@Example.com"),
            text("example.com"),
        );
        check(
            Strategy::EmailDomain,
            text("no address"),
            text("[redacted]"),
        );
        check(
            Strategy::Year,
            text("2016-05-17T10:11:12+07:00"),
            text("2016-01-01T00:00:00+07:00"),
        );
        check(
            Strategy::Month,
            text("2016-05-17 10:11:12"),
            text("2016-05-01 00:00:00"),
        );
        check(
            Strategy::Month,
            text("2016-05-17T10:11:12.345Z"),
            text("2016-05-01T00:00:00Z"),
        );
        check(Strategy::Year, text("2016-05-17"), text("2016-01-01"));
        check(Strategy::Year, text("garbage"), SqlValue::Null);
        // 2016-05-17T10:11:12Z
        check(
            Strategy::Month,
            SqlValue::Int(1_463_479_872),
            SqlValue::Int(1_462_060_800),
        );
        check(
            Strategy::Year,
            SqlValue::Int(1_463_479_872),
            SqlValue::Int(1_451_606_400),
        );
    }

    #[test]
    fn hash_is_a_keyed_hmac() {
        let hash = |v: &SqlValue, k: &HmacKey| {
            apply(Strategy::Hash, Form::Text, v, Some(k), Purpose::Expiry)
        };
        let SqlValue::Text(h) = hash(&text("jane@example.com"), &key()) else {
            panic!("hash writes text")
        };
        assert_eq!(h.len(), 64);
        assert!(
            h.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        // Same input and key, same output: joins on the pseudonym still work.
        assert_eq!(text(&h), hash(&text("jane@example.com"), &key()));
        // Another key, another output: not a plain digest anyone could recompute.
        assert_ne!(
            text(&h),
            hash(&text("jane@example.com"), &HmacKey(vec![8u8; 32]))
        );
        // RFC 4231 test case 2.
        assert_eq!(
            hmac_hex(&HmacKey(b"Jefe".to_vec()), b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    /// The values every strategy's recognition is held to: IPv4, IPv6, mapped
    /// IPv6, upper-case hex, spaces around values, values that are no IP or e-mail,
    /// several `@`, NULL, 29 February, numbers and text that are no date.
    const CORPUS: &[&str] = &[
        "203.0.113.7",
        "203.0.113.0",
        " 203.0.113.7 ",
        "010.0.0.1",
        "256.1.1.1",
        "2001:db8:abcd:12:3456::1",
        "2001:db8:abcd::",
        "2001:DB8:ABCD::",
        "::ffff:203.0.113.7",
        "::ffff:203.0.113.0",
        "::1",
        "::",
        "fe80::1%eth0",
        "n/a",
        "",
        " ",
        "jane.doe@Example.com",
        "example.com",
        "a@b@example.org",
        "trailing@",
        "spaced@ ",
        " jane@example.com ",
        "@",
        "[redacted]",
        "[REDACTED]",
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843",
        " 5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        "2028-02-29",
        "2028-02-29T23:59:59Z",
        "2028-02-01",
        "2028-01-01 00:00:00",
        "2027-02-29",
        "2016-05-17T10:11:12.345+07:00",
        "2016-05-01T00:00:00+07:00",
        "2016-05-17 10:11:12+00",
        "2016-05-01 00:00:00+00",
        "2016-13-01",
        "2016-05-17T10:11",
        "17.05.2016",
        "1463479872",
    ];

    fn corpus_values() -> Vec<SqlValue> {
        let mut values: Vec<SqlValue> = CORPUS.iter().map(|s| text(s)).collect();
        values.extend([
            SqlValue::Null,
            SqlValue::Int(1_463_479_872),
            SqlValue::Int(1_462_060_800),
            SqlValue::Int(1_830_297_600), // 2028-01-01
            SqlValue::Int(-86_400),
            SqlValue::Int(i64::MAX),
            SqlValue::Real(1_462_060_800.5),
        ]);
        values
    }

    #[test]
    fn whatever_a_strategy_writes_is_recognised_as_done() {
        for &strategy in Strategy::ALL {
            for form in [Form::Text, Form::Number, Form::ByValue] {
                for v in corpus_values() {
                    if state(strategy, form, &v) != ValueState::Pending {
                        continue;
                    }
                    for purpose in [Purpose::Expiry, Purpose::Erasure] {
                        let out = apply(strategy, form, &v, Some(&key()), purpose);
                        assert_eq!(
                            state(strategy, form, &out),
                            ValueState::Anonymized,
                            "{strategy:?} {form:?} {v:?} -> {out:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_value_not_pending_is_written_back_as_it_is() {
        for &strategy in Strategy::ALL {
            for v in corpus_values() {
                let s = state(strategy, Form::ByValue, &v);
                let out = replace(
                    strategy,
                    Form::ByValue,
                    &v,
                    Some(&key()),
                    Purpose::Expiry,
                    Progress::ByValue,
                );
                if s == ValueState::Pending {
                    assert_ne!(out, v, "{strategy:?} {v:?}");
                } else {
                    assert_eq!(out, v, "{strategy:?} {v:?} is {s:?}");
                }
            }
        }
    }

    #[test]
    fn each_strategy_places_the_values_the_issue_names() {
        use ValueState::*;
        let cases: &[(Strategy, &str, ValueState)] = &[
            (Strategy::TruncateIp, "203.0.113.0", Anonymized),
            (Strategy::TruncateIp, "203.0.113.7", Pending),
            (Strategy::TruncateIp, " 203.0.113.0 ", Pending),
            (Strategy::TruncateIp, "2001:db8:abcd::", Anonymized),
            (Strategy::TruncateIp, "2001:DB8:ABCD::", Pending),
            (Strategy::TruncateIp, "::ffff:203.0.113.0", Anonymized),
            (Strategy::TruncateIp, "::ffff:203.0.113.7", Pending),
            (Strategy::TruncateIp, "n/a", CannotAnonymize),
            (Strategy::TruncateIp, "010.0.0.1", CannotAnonymize),
            (Strategy::EmailDomain, "example.com", Anonymized),
            (Strategy::EmailDomain, "a@b@example.org", Pending),
            (Strategy::EmailDomain, "trailing@", CannotAnonymize),
            (Strategy::EmailDomain, "spaced@ ", CannotAnonymize),
            (Strategy::Hash, CORPUS[25], Anonymized),
            (Strategy::Hash, CORPUS[26], Pending),
            (Strategy::Redact, "[redacted]", Anonymized),
            (Strategy::Redact, "[REDACTED]", Pending),
            (Strategy::Month, "2028-02-29", Pending),
            (Strategy::Month, "2028-02-01", Anonymized),
            (Strategy::Year, "2028-01-01 00:00:00", Anonymized),
            (Strategy::Year, "2016-05-01 00:00:00+00", Pending),
            (Strategy::Month, "2016-05-01 00:00:00+00", Anonymized),
            (Strategy::Month, "2027-02-29", Pending),
            (Strategy::Month, "2016-13-01", CannotAnonymize),
            (Strategy::Month, "17.05.2016", CannotAnonymize),
        ];
        for (strategy, value, expect) in cases {
            assert_eq!(
                state(*strategy, Form::Text, &text(value)),
                *expect,
                "{strategy:?} {value:?}"
            );
        }
        assert_eq!(
            state(Strategy::Year, Form::Number, &SqlValue::Int(1_830_297_600)),
            Anonymized
        );
        assert_eq!(
            state(Strategy::Year, Form::Number, &text("1463479872")),
            Pending
        );
        assert_eq!(
            state(Strategy::Month, Form::ByValue, &SqlValue::Int(i64::MAX)),
            CannotAnonymize
        );
    }

    #[test]
    fn an_erasure_writes_random_hashes_never_the_keyed_one() {
        let v = text("jane@example.com");
        let keyed = apply(
            Strategy::Hash,
            Form::Text,
            &v,
            Some(&key()),
            Purpose::Expiry,
        );
        let erased = replace(
            Strategy::Hash,
            Form::Text,
            &keyed,
            Some(&key()),
            Purpose::Erasure,
            Progress::ByValue,
        );
        assert_ne!(erased, keyed, "an anonymised hash is replaced too");
        assert_eq!(
            state(Strategy::Hash, Form::Text, &erased),
            ValueState::Anonymized
        );
        let again = apply(
            Strategy::Hash,
            Form::Text,
            &v,
            Some(&key()),
            Purpose::Erasure,
        );
        assert_ne!(again, erased, "random, so never the same twice");
    }
}
