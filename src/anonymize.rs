//! The anonymisation strategies as pure functions from a stored value to its
//! replacement. Computed in Rust rather than SQL so every backend writes exactly the
//! same output (SQL dialects have no common HMAC or IPv6 arithmetic).

use std::net::IpAddr;

use chrono::{DateTime, Datelike, TimeZone, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::db::SqlValue;
use crate::policy::{HmacKey, REDACTED, Strategy};

/// The replacement for `value` under `strategy`. NULL stays NULL under every
/// strategy. A value the strategy cannot read (an IP column holding no IP address)
/// is redacted rather than kept: anonymising must never leave the original behind.
pub fn apply(strategy: Strategy, value: &SqlValue, key: Option<&HmacKey>) -> SqlValue {
    if *value == SqlValue::Null {
        return SqlValue::Null;
    }
    match strategy {
        Strategy::Null => SqlValue::Null,
        Strategy::Redact => SqlValue::Text(REDACTED.into()),
        Strategy::Hash => match key {
            Some(key) => SqlValue::Text(hmac_hex(key, &bytes_of(value))),
            // The config refuses `hash` without a key; never fall back to a plain digest.
            None => SqlValue::Text(REDACTED.into()),
        },
        Strategy::TruncateIp => match value {
            SqlValue::Text(s) => SqlValue::Text(truncate_ip(s).unwrap_or_else(|| REDACTED.into())),
            _ => SqlValue::Text(REDACTED.into()),
        },
        Strategy::EmailDomain => match value {
            SqlValue::Text(s) => SqlValue::Text(email_domain(s).unwrap_or_else(|| REDACTED.into())),
            _ => SqlValue::Text(REDACTED.into()),
        },
        Strategy::Year | Strategy::Month => {
            let month = strategy == Strategy::Month;
            match value {
                SqlValue::Int(secs) => truncate_epoch(*secs, month)
                    .map(SqlValue::Int)
                    .unwrap_or(SqlValue::Null),
                SqlValue::Real(secs) => truncate_epoch(*secs as i64, month)
                    .map(SqlValue::Int)
                    .unwrap_or(SqlValue::Null),
                // PostgreSQL and MySQL hand every value over as text: an epoch column
                // arrives as digits, which no ISO date is.
                SqlValue::Text(s) => match s.trim().parse::<f64>() {
                    Ok(secs) => truncate_epoch(secs as i64, month)
                        .map(|t| SqlValue::Text(t.to_string()))
                        .unwrap_or(SqlValue::Null),
                    Err(_) => truncate_text_date(s, month)
                        .map(SqlValue::Text)
                        .unwrap_or(SqlValue::Null),
                },
                SqlValue::Blob(_) | SqlValue::Null => SqlValue::Null,
            }
        }
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

/// IPv4 keeps its /24 (`203.0.113.7` -> `203.0.113.0`), IPv6 its /48.
pub fn truncate_ip(text: &str) -> Option<String> {
    let ip: IpAddr = text.trim().parse().ok()?;
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

pub fn email_domain(text: &str) -> Option<String> {
    let (_, domain) = text.trim().rsplit_once('@')?;
    (!domain.is_empty()).then(|| domain.to_ascii_lowercase())
}

fn truncate_epoch(secs: i64, month: bool) -> Option<i64> {
    let t = DateTime::<Utc>::from_timestamp(secs, 0)?;
    let m = if month { t.month() } else { 1 };
    Utc.with_ymd_and_hms(t.year(), m, 1, 0, 0, 0)
        .single()
        .map(|t| t.timestamp())
}

/// The first instant of the value's year or month, written the way the value was:
/// a date stays a date, a `T` or space separator and any zone suffix are kept.
fn truncate_text_date(text: &str, month: bool) -> Option<String> {
    let t = text.trim();
    let date = t.get(..10)?;
    let parsed = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    let m = if month { parsed.month() } else { 1 };
    let first = format!("{:04}-{:02}-01", parsed.year(), m);
    if t.len() == 10 {
        return Some(first);
    }
    let sep = t[10..].chars().next()?;
    if sep != 'T' && sep != 't' && sep != ' ' {
        return None;
    }
    let rest = &t[11..];
    let zone = if rest.ends_with(['Z', 'z']) {
        "Z"
    } else {
        match rest.rfind(['+', '-']) {
            Some(i) => &rest[i..],
            None => "",
        }
    };
    Some(format!("{first}{sep}00:00:00{zone}"))
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
            apply(strategy, &input, Some(&key())),
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
        let SqlValue::Text(h) = apply(Strategy::Hash, &text("jane@example.com"), Some(&key()))
        else {
            panic!("hash writes text")
        };
        assert_eq!(h.len(), 64);
        assert!(
            h.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        // Same input and key, same output: joins on the pseudonym still work.
        assert_eq!(
            text(&h),
            apply(Strategy::Hash, &text("jane@example.com"), Some(&key()))
        );
        // Another key, another output: not a plain digest anyone could recompute.
        assert_ne!(
            text(&h),
            apply(
                Strategy::Hash,
                &text("jane@example.com"),
                Some(&HmacKey(vec![8u8; 32]))
            )
        );
        // RFC 4231 test case 2.
        assert_eq!(
            hmac_hex(&HmacKey(b"Jefe".to_vec()), b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
