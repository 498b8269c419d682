//! One exported value in the form a reader can port: numbers as numbers, instants
//! as RFC 3339 in UTC, binary as base64, NULL as null (JSON) or an empty field
//! (CSV). Pure.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::SecondsFormat;
use serde_json::Value;

use crate::db::{ExportKind, SqlValue};
use crate::period::parse_instant;

/// The value for a JSON document.
pub fn json(kind: ExportKind, v: &SqlValue) -> Value {
    match (kind, v) {
        (_, SqlValue::Null) => Value::Null,
        (ExportKind::Binary, v) => Value::String(base64(v)),
        (_, SqlValue::Blob(b)) => Value::String(STANDARD.encode(b)),
        (ExportKind::Boolean, v) => match truth(v) {
            Some(b) => Value::Bool(b),
            None => text_value(v),
        },
        (_, SqlValue::Int(n)) if kind != ExportKind::Text => Value::from(*n),
        (_, SqlValue::Real(x)) if kind != ExportKind::Text => number(*x),
        (ExportKind::Integer, SqlValue::Text(t)) => t
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(t.clone())),
        (ExportKind::Number, SqlValue::Text(t)) => match t.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => number(x),
            _ => Value::String(t.clone()),
        },
        (ExportKind::Timestamp, SqlValue::Text(t)) => Value::String(instant(t)),
        (_, v) => text_value(v),
    }
}

/// The field for a CSV file; `None` is NULL. Numbers keep the database's digits.
pub fn csv(kind: ExportKind, v: &SqlValue) -> Option<String> {
    Some(match (kind, v) {
        (_, SqlValue::Null) => return None,
        (ExportKind::Binary, v) => base64(v),
        (_, SqlValue::Blob(b)) => STANDARD.encode(b),
        (ExportKind::Boolean, v) => match truth(v) {
            Some(b) => b.to_string(),
            None => v.to_text().unwrap_or_default(),
        },
        (ExportKind::Timestamp, SqlValue::Text(t)) => instant(t),
        (_, v) => v.to_text().unwrap_or_default(),
    })
}

fn text_value(v: &SqlValue) -> Value {
    Value::String(v.to_text().unwrap_or_default())
}

fn number(x: f64) -> Value {
    serde_json::Number::from_f64(x)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

fn base64(v: &SqlValue) -> String {
    match v {
        SqlValue::Blob(b) => STANDARD.encode(b),
        other => STANDARD.encode(other.to_text().unwrap_or_default()),
    }
}

fn truth(v: &SqlValue) -> Option<bool> {
    match v {
        SqlValue::Int(n) => Some(*n != 0),
        SqlValue::Text(t) => match t.as_str() {
            "t" | "true" | "1" => Some(true),
            "f" | "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A timestamp in RFC 3339: as stored when it is already (its offset kept), else in
/// UTC with as many fractional digits as it has. A date stays a date; text that is
/// no instant stays as it is.
fn instant(t: &str) -> String {
    let plain_date = t.len() == 10 && chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").is_ok();
    let rfc3339 = chrono::DateTime::parse_from_rfc3339(t).is_ok();
    match parse_instant(t) {
        Some(at) if !plain_date && !rfc3339 && t.parse::<f64>().is_err() => {
            at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
        }
        _ => t.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_keeps_its_type() {
        use ExportKind::*;
        let text = |s: &str| SqlValue::Text(s.into());
        assert_eq!(json(Integer, &SqlValue::Int(42)), Value::from(42));
        assert_eq!(json(Integer, &text("42")), Value::from(42));
        assert_eq!(json(Number, &text("19.99")), serde_json::json!(19.99));
        assert_eq!(csv(Number, &text("19.990")).as_deref(), Some("19.990"));
        assert_eq!(json(Text, &text("")), Value::String(String::new()));
        assert_eq!(json(Text, &SqlValue::Null), Value::Null);
        assert_eq!(csv(Text, &SqlValue::Null), None);
        assert_eq!(json(Boolean, &SqlValue::Int(1)), Value::Bool(true));
        assert_eq!(json(Binary, &SqlValue::Blob(vec![0, 255])), "AP8=");
        assert_eq!(json(Any, &SqlValue::Blob(b"hi".to_vec())), "aGk=");
        assert_eq!(json(Any, &SqlValue::Real(1.5)), serde_json::json!(1.5));
    }

    #[test]
    fn instants_become_rfc3339_in_utc_and_dates_stay_dates() {
        let ts = |s: &str| json(ExportKind::Timestamp, &SqlValue::Text(s.into()));
        assert_eq!(ts("2024-03-01 10:00:00+02"), "2024-03-01T08:00:00Z");
        assert_eq!(
            ts("2024-03-01 10:00:00.123456"),
            "2024-03-01T10:00:00.123456Z"
        );
        assert_eq!(ts("2024-03-01T10:00:00Z"), "2024-03-01T10:00:00Z");
        assert_eq!(ts("2024-03-01T10:00:00+07:00"), "2024-03-01T10:00:00+07:00");
        assert_eq!(ts("2024-03-01"), "2024-03-01");
        assert_eq!(ts("not a date"), "not a date");
        assert_eq!(
            json(ExportKind::Timestamp, &SqlValue::Int(1_700_000_000)),
            Value::from(1_700_000_000)
        );
    }
}
