//! How each strategy's output is recognised, so that a policy needs no marker column:
//! a value is already anonymised when it is in its strategy's output form, still to
//! do when the strategy can read it, and otherwise one the strategy cannot anonymise
//! (counted, never rewritten).
//!
//! Each rule is a [`Test`]: this module evaluates it in Rust ([`Test::holds`]), and
//! `db` writes the same test in each backend's SQL. The text patterns are plain
//! regular expressions that Rust's `regex`, PostgreSQL's `~`, MariaDB's `REGEXP` and
//! SQLite's `REGEXP` (sqlx's, backed by `regex`) read alike.

use std::sync::LazyLock;

use regex::Regex;

use crate::policy::{REDACTED, Strategy};
use crate::value::SqlValue;

/// 64 lowercase hexadecimal characters: an HMAC-SHA256 as `hash` writes it.
pub const HEX64: &str = "^[0-9a-f]{64}$";

/// An ISO 8601 date, with a time and a zone if any: what `year` and `month` read in
/// text. PostgreSQL prints zones as `+00`, so the zone's minutes are optional.
pub const ISO_DATE: &str = "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?(Z|[+-][0-9]{2}(:[0-9]{2})?)?)?$";
/// The first instant of a year, as `year` writes it in text.
pub const YEAR_START: &str = "^[0-9]{4}-01-01([T ]00:00:00(Z|[+-][0-9]{2}(:[0-9]{2})?)?)?$";
/// The first instant of a month, as `month` writes it in text.
pub const MONTH_START: &str =
    "^[0-9]{4}-(0[1-9]|1[0-2])-01([T ]00:00:00(Z|[+-][0-9]{2}(:[0-9]{2})?)?)?$";

/// Epoch seconds `year` and `month` read: the years 1000 to 9999, which every
/// backend's date functions cover.
pub const EPOCH_RANGE: (i64, i64) = (-30_610_224_000, 253_402_300_799);

const OCTET: &str = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";

/// Every text Rust reads as an IP address (`IpAddr::from_str`): dotted IPv4 without
/// leading zeros, and IPv6 in all its compressed forms, with an IPv4 tail or not.
pub fn ip_any() -> String {
    let h = "[0-9a-fA-F]{1,4}";
    let v4 = format!("{OCTET}\\.{OCTET}\\.{OCTET}\\.{OCTET}");
    let forms = [
        v4.clone(),
        format!("({h}:){{7}}{h}"),
        format!("({h}:){{1,7}}:"),
        format!("({h}:){{1,6}}:{h}"),
        format!("({h}:){{1,5}}(:{h}){{1,2}}"),
        format!("({h}:){{1,4}}(:{h}){{1,3}}"),
        format!("({h}:){{1,3}}(:{h}){{1,4}}"),
        format!("({h}:){{1,2}}(:{h}){{1,5}}"),
        format!("{h}:(:{h}){{1,6}}"),
        format!(":((:{h}){{1,7}}|:)"),
        format!("({h}:){{6}}{v4}"),
        format!("({h}:){{1,5}}:{v4}"),
        format!("({h}:){{1}}(:{h}){{1,4}}:{v4}"),
        format!("({h}:){{2}}(:{h}){{1,3}}:{v4}"),
        format!("({h}:){{3}}(:{h}){{1,2}}:{v4}"),
        format!("({h}:){{4}}(:{h}){{1}}:{v4}"),
        format!("::({h}:){{0,5}}{v4}"),
    ];
    format!("^({})$", forms.join("|"))
}

/// Every text without a `:` that Rust reads as an IP address: dotted IPv4. Of
/// [`ip_any`]'s forms only this one has no `:`, so for such text the two agree; the
/// short pattern costs PostgreSQL a fifteenth of the long one.
pub fn ip_v4() -> String {
    format!("^{OCTET}\\.{OCTET}\\.{OCTET}\\.{OCTET}$")
}

/// The texts without a `:` that `truncate_ip` writes: an IPv4 /24.
pub fn ip_v4_truncated() -> String {
    format!("^{OCTET}\\.{OCTET}\\.{OCTET}\\.0$")
}

/// Exactly the texts `truncate_ip` writes: an IPv4 /24, an IPv4-mapped one, or an
/// IPv6 /48, each as Rust prints it (lowercase, zeros compressed).
pub fn ip_truncated() -> String {
    let n = "[1-9a-f][0-9a-f]{0,3}";
    format!(
        "^({OCTET}\\.{OCTET}\\.{OCTET}\\.0|::ffff:{OCTET}\\.{OCTET}\\.{OCTET}\\.0|({n}|0):({n}|0):{n}::|({n}|0):{n}::|{n}::|::)$"
    )
}

/// How a column hands its values to the strategies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// Text, or a native date or time read as text.
    Text,
    /// A number column (epoch seconds for `year` and `month`), read as a number or
    /// as its text.
    Number,
    /// SQLite: each value is what it was stored as, a number or text.
    ByValue,
}

/// Compiles one of this module's patterns once.
macro_rules! pattern {
    ($source:expr) => {{
        static COMPILED: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(&$source).expect("retentiond's own patterns compile"));
        Pattern(COMPILED.clone())
    }};
}

/// A compiled regular expression, whose source `db` binds into SQL.
#[derive(Debug, Clone)]
pub struct Pattern(Regex);

impl Pattern {
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// [`ISO_DATE`], compiled.
    pub fn iso_date() -> Pattern {
        pattern!(ISO_DATE)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.as_str() == other.as_str()
    }
}

/// A test on one non-NULL value, evaluated alike in Rust and in SQL.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    Always,
    Never,
    /// The text equals this, byte for byte.
    Equals(&'static str),
    /// The text matches this regular expression, case-sensitively.
    Matches(Pattern),
    /// The text, with the spaces around it removed, matches this.
    TrimmedMatches(Pattern),
    /// The text has no `@`.
    HasNoAt,
    /// The text, with trailing spaces removed, does not end with `@`.
    NotEndingInAt,
    /// A number of epoch seconds within [`EPOCH_RANGE`].
    EpochInRange,
    /// A whole number of epoch seconds that is the first second of its year or month.
    EpochAtStart {
        month: bool,
    },
    /// By what the value is: a number, or text. Anything else fails.
    ByType {
        number: Box<Test>,
        text: Box<Test>,
    },
    /// By whether the text contains `on`: a cheap test that sends most values to a
    /// cheaper pattern.
    Split {
        on: &'static str,
        with: Box<Test>,
        without: Box<Test>,
    },
    /// The text ends with one of these, and then `then` holds: a cheap filter in
    /// front of a pattern that only matches such text.
    EndsWithThen {
        suffixes: &'static [&'static str],
        then: Box<Test>,
    },
}

/// Where a value stands under its strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueState {
    /// NULL, or already in the strategy's output form: left as it is.
    Anonymized,
    /// The strategy can read it and has not written it: anonymised by the next batch.
    Pending,
    /// The strategy cannot read it (`n/a` in an IP column): counted, left as it is.
    CannotAnonymize,
}

/// The two tests that place a value: already in output form (`done`), and readable
/// by the strategy (`readable`).
#[derive(Debug, Clone, PartialEq)]
pub struct Recognition {
    pub done: Test,
    pub readable: Test,
}

/// How `strategy` recognises its output and its input in a column of `form`.
pub fn recognition(strategy: Strategy, form: Form) -> Recognition {
    let dated = |month: bool| {
        let text_done = Test::Matches(if month {
            pattern!(MONTH_START)
        } else {
            pattern!(YEAR_START)
        });
        let text_readable = Test::Matches(pattern!(ISO_DATE));
        let number_done = Test::EpochAtStart { month };
        match form {
            Form::Text => (text_done, text_readable),
            Form::Number => (number_done, Test::EpochInRange),
            Form::ByValue => (
                Test::ByType {
                    number: Box::new(number_done),
                    text: Box::new(text_done),
                },
                Test::ByType {
                    number: Box::new(Test::EpochInRange),
                    text: Box::new(text_readable),
                },
            ),
        }
    };
    let (done, readable) = match strategy {
        // A removed file leaves NULL: a value present is a file still there.
        Strategy::Null | Strategy::RemoveFile => (Test::Never, Test::Always),
        Strategy::Redact => (Test::Equals(REDACTED), Test::Always),
        Strategy::Hash => (Test::Matches(pattern!(HEX64)), Test::Always),
        // The same patterns as one each, split so that the common case costs little
        // in SQL: text without a `:` can only be IPv4 (its own, short patterns), and
        // every output ends in `.0` or `::`.
        Strategy::TruncateIp => (
            Test::Split {
                on: ":",
                with: Box::new(Test::EndsWithThen {
                    suffixes: &[".0", "::"],
                    then: Box::new(Test::Matches(pattern!(ip_truncated()))),
                }),
                without: Box::new(Test::EndsWithThen {
                    suffixes: &[".0"],
                    then: Box::new(Test::Matches(pattern!(ip_v4_truncated()))),
                }),
            },
            Test::Split {
                on: ":",
                with: Box::new(Test::TrimmedMatches(pattern!(ip_any()))),
                without: Box::new(Test::TrimmedMatches(pattern!(ip_v4()))),
            },
        ),
        Strategy::EmailDomain => (Test::HasNoAt, Test::NotEndingInAt),
        Strategy::Year => dated(false),
        Strategy::Month => dated(true),
    };
    Recognition { done, readable }
}

impl Recognition {
    /// Where `value` stands.
    pub fn state(&self, value: &SqlValue) -> ValueState {
        if *value == SqlValue::Null || self.done.holds(value) {
            ValueState::Anonymized
        } else if self.readable.holds(value) {
            ValueState::Pending
        } else {
            ValueState::CannotAnonymize
        }
    }
}

/// Where `value` stands under `strategy` in a column of `form`.
pub fn state(strategy: Strategy, form: Form, value: &SqlValue) -> ValueState {
    recognition(strategy, form).state(value)
}

/// A value as a number: a number, or text that is one (PostgreSQL and MySQL hand
/// numbers over as text).
fn number(value: &SqlValue) -> Option<f64> {
    match value {
        SqlValue::Int(n) => Some(*n as f64),
        SqlValue::Real(x) => Some(*x),
        SqlValue::Text(t) => t.parse().ok(),
        SqlValue::Null | SqlValue::Blob(_) => None,
    }
}

/// The first second of the year or month of `secs`, or `None` out of range.
pub(super) fn epoch_start(secs: i64, month: bool) -> Option<i64> {
    use chrono::{DateTime, Datelike, TimeZone, Utc};
    if !(EPOCH_RANGE.0..=EPOCH_RANGE.1).contains(&secs) {
        return None;
    }
    let t = DateTime::<Utc>::from_timestamp(secs, 0)?;
    let m = if month { t.month() } else { 1 };
    Utc.with_ymd_and_hms(t.year(), m, 1, 0, 0, 0)
        .single()
        .map(|t| t.timestamp())
}

impl Test {
    /// Whether the test holds for a non-NULL `value`.
    pub fn holds(&self, value: &SqlValue) -> bool {
        let text = || value.to_text();
        match self {
            Test::Always => true,
            Test::Never => false,
            Test::Equals(s) => text().is_some_and(|t| t == *s),
            Test::Matches(p) => text().is_some_and(|t| p.0.is_match(&t)),
            Test::TrimmedMatches(p) => text().is_some_and(|t| p.0.is_match(t.trim_matches(' '))),
            Test::HasNoAt => text().is_some_and(|t| !t.contains('@')),
            Test::NotEndingInAt => text().is_some_and(|t| !t.trim_end_matches(' ').ends_with('@')),
            Test::EpochInRange => number(value)
                .is_some_and(|x| x >= EPOCH_RANGE.0 as f64 && x <= EPOCH_RANGE.1 as f64),
            Test::EpochAtStart { month } => number(value).is_some_and(|x| {
                x.fract() == 0.0 && epoch_start(x as i64, *month) == Some(x as i64)
            }),
            Test::ByType { number, text } => match value {
                SqlValue::Int(_) | SqlValue::Real(_) => number.holds(value),
                SqlValue::Text(_) => text.holds(value),
                SqlValue::Null | SqlValue::Blob(_) => false,
            },
            Test::Split { on, with, without } => match text() {
                Some(t) if t.contains(on) => with.holds(value),
                Some(_) => without.holds(value),
                None => false,
            },
            Test::EndsWithThen { suffixes, then } => {
                text().is_some_and(|t| suffixes.iter().any(|s| t.ends_with(s))) && then.holds(value)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    use super::*;

    /// xorshift: a fixed sequence, so a failure repeats.
    struct Draw(u64);

    impl Draw {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    #[test]
    fn the_ip_patterns_agree_with_rusts_parser_and_truncation() {
        let any = Regex::new(&ip_any()).unwrap();
        let out = Regex::new(&ip_truncated()).unwrap();
        let r = recognition(Strategy::TruncateIp, Form::Text);
        let mut d = Draw(0x9e37_79b9_7f4a_7c15);
        let alphabet: Vec<char> = "0123456789abcdefABF:.:::.".chars().collect();
        for i in 0..200_000 {
            let s = match i % 3 {
                0 => (0..=d.below(20))
                    .map(|_| alphabet[d.below(alphabet.len() as u64) as usize])
                    .collect::<String>(),
                1 => {
                    let mut seg = [0u16; 8];
                    for x in &mut seg {
                        *x = if d.below(3) == 0 {
                            0
                        } else {
                            d.below(65536) as u16
                        };
                    }
                    let a = Ipv6Addr::from(seg).to_string();
                    if d.below(2) == 0 {
                        crate::anonymize::truncate_ip(&a).unwrap()
                    } else {
                        a
                    }
                }
                _ => {
                    let o = |d: &mut Draw| d.below(256) as u8;
                    let last = if d.below(2) == 0 { 0 } else { o(&mut d) };
                    let a = Ipv4Addr::new(o(&mut d), o(&mut d), o(&mut d), last);
                    if d.below(3) == 0 {
                        a.to_ipv6_mapped().to_string()
                    } else {
                        a.to_string()
                    }
                }
            };
            let parses = s.parse::<IpAddr>().is_ok();
            let truncated = crate::anonymize::truncate_ip(&s).as_deref() == Some(s.as_str());
            assert_eq!(any.is_match(&s), parses, "{s:?} parses: {parses}");
            assert_eq!(
                out.is_match(&s),
                truncated,
                "{s:?} is its truncation: {truncated}"
            );
            // The split tests the SQL uses say the same as the whole patterns.
            let value = SqlValue::Text(s.clone());
            assert_eq!(r.readable.holds(&value), parses, "{s:?} (split)");
            assert_eq!(r.done.holds(&value), truncated, "{s:?} (split)");
            let spaced = SqlValue::Text(format!(" {s} "));
            assert_eq!(r.readable.holds(&spaced), parses, "{s:?} spaced");
        }
    }

    #[test]
    fn epoch_starts_are_the_first_second_of_the_year_or_month() {
        // 2016-05-17T10:11:12Z
        assert_eq!(epoch_start(1_463_479_872, true), Some(1_462_060_800));
        assert_eq!(epoch_start(1_463_479_872, false), Some(1_451_606_400));
        assert_eq!(epoch_start(-1, false), Some(-31_536_000));
        assert_eq!(epoch_start(EPOCH_RANGE.1 + 1, false), None);
    }
}
