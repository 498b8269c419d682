//! Retention periods: parsing `keep = "10 years"` / `"P26M"` and calendar arithmetic.
//!
//! A period is kept as whole months plus whole days, because those are the two units
//! that calendar arithmetic treats differently: months clamp to the end of the month
//! (31 March minus one month is 28/29 February), days do not. Years are 12 months and
//! weeks are 7 days, exactly as PostgreSQL's `interval` counts them.

use std::fmt;

use chrono::{DateTime, Days, Months, Utc};

/// The longest period accepted, so that every cutoff stays a representable date.
const MAX_YEARS: u32 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    months: u32,
    days: u32,
}

impl Period {
    pub fn new(months: u32, days: u32) -> Period {
        Period { months, days }
    }

    /// The instant `self` before `now`: months first (clamped to the month's end),
    /// then days.
    pub fn before(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        // Both parts are bounded by MAX_YEARS at parse time, and `now` comes from a
        // database clock, so the subtraction cannot leave chrono's range (262143 BCE).
        now.checked_sub_months(Months::new(self.months))
            .and_then(|t| t.checked_sub_days(Days::new(u64::from(self.days))))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// The instant `self` after `t`, used for "kept until" dates.
    pub fn after(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        t.checked_add_months(Months::new(self.months))
            .and_then(|t| t.checked_add_days(Days::new(u64::from(self.days))))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    pub fn is_zero(&self) -> bool {
        self.months == 0 && self.days == 0
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn part(f: &mut fmt::Formatter<'_>, n: u32, unit: &str, first: &mut bool) -> fmt::Result {
            if n == 0 {
                return Ok(());
            }
            if !*first {
                f.write_str(" ")?;
            }
            *first = false;
            write!(f, "{n} {unit}{}", if n == 1 { "" } else { "s" })
        }
        if self.is_zero() {
            return f.write_str("0 days");
        }
        let mut first = true;
        let (years, months) = (self.months / 12, self.months % 12);
        let (weeks, days) = if self.days.is_multiple_of(7) {
            (self.days / 7, 0)
        } else {
            (0, self.days)
        };
        part(f, years, "year", &mut first)?;
        part(f, months, "month", &mut first)?;
        part(f, weeks, "week", &mut first)?;
        part(f, days, "day", &mut first)
    }
}

/// Parses `"10 years"`, `"1 month"`, `"0 days"`, `"P10Y"`, `"P1Y6M"`, `"P2W"`, `"P30D"`.
/// The error says what would have been valid.
pub fn parse(text: &str) -> Result<Period, String> {
    let trimmed = text.trim();
    let period = if trimmed.starts_with(['P', 'p']) {
        parse_iso(trimmed)?
    } else {
        parse_words(trimmed)?
    };
    if period.months / 12 > MAX_YEARS || period.days / 366 > MAX_YEARS {
        return Err(format!(
            "period `{text}` is longer than {MAX_YEARS} years; no retention promise is that long"
        ));
    }
    Ok(period)
}

const EXPECTED: &str = "expected a whole number and a unit (`10 years`, `26 months`, `2 weeks`, \
     `30 days`) or ISO 8601 with date parts only (`P10Y`, `P26M`, `P1Y6M`, `P2W`, `P30D`)";

fn parse_words(text: &str) -> Result<Period, String> {
    let mut parts = text.split_whitespace();
    let (Some(number), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!("invalid period `{text}`: {EXPECTED}"));
    };
    if !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "invalid period `{text}`: `{number}` is not a whole number >= 0; {EXPECTED}"
        ));
    }
    let n: u32 = number
        .parse()
        .map_err(|_| format!("invalid period `{text}`: `{number}` is too large"))?;
    let unit_lower = unit.to_ascii_lowercase();
    let period = match unit_lower.as_str() {
        "day" | "days" => Period::new(0, n),
        "week" | "weeks" => Period::new(0, checked(n, 7, text)?),
        "month" | "months" => Period::new(n, 0),
        "year" | "years" => Period::new(checked(n, 12, text)?, 0),
        _ => {
            return Err(format!(
                "invalid period `{text}`: unknown unit `{unit}`; valid units: day, week, month, year (singular or plural)"
            ));
        }
    };
    Ok(period)
}

fn checked(n: u32, factor: u32, text: &str) -> Result<u32, String> {
    n.checked_mul(factor)
        .ok_or_else(|| format!("invalid period `{text}`: the number is too large"))
}

fn parse_iso(text: &str) -> Result<Period, String> {
    let body = &text[1..];
    if body.is_empty() {
        return Err(format!(
            "invalid period `{text}`: `P` needs at least one part; {EXPECTED}"
        ));
    }
    if body.contains(['T', 't']) {
        return Err(format!(
            "invalid period `{text}`: time parts (after `T`) are not accepted, a retention period counts whole days; {EXPECTED}"
        ));
    }
    let mut months: u32 = 0;
    let mut days: u32 = 0;
    let mut digits = String::new();
    // Designators must come in ISO order, each at most once.
    let order = ['Y', 'M', 'W', 'D'];
    let mut next_allowed = 0;
    for c in body.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let upper = c.to_ascii_uppercase();
        let Some(pos) = order.iter().position(|&d| d == upper) else {
            return Err(format!(
                "invalid period `{text}`: unexpected `{c}`; {EXPECTED}"
            ));
        };
        if pos < next_allowed {
            return Err(format!(
                "invalid period `{text}`: `{c}` is repeated or out of order (Y, M, W, D); {EXPECTED}"
            ));
        }
        next_allowed = pos + 1;
        if digits.is_empty() {
            return Err(format!(
                "invalid period `{text}`: `{c}` has no number before it; {EXPECTED}"
            ));
        }
        let n: u32 = digits
            .parse()
            .map_err(|_| format!("invalid period `{text}`: `{digits}` is too large"))?;
        digits.clear();
        let add = |acc: u32, v: u32| {
            acc.checked_add(v)
                .ok_or_else(|| format!("invalid period `{text}`: the number is too large"))
        };
        match upper {
            'Y' => months = add(months, checked(n, 12, text)?)?,
            'M' => months = add(months, n)?,
            'W' => days = add(days, checked(n, 7, text)?)?,
            _ => days = add(days, n)?,
        }
    }
    if !digits.is_empty() {
        return Err(format!(
            "invalid period `{text}`: `{digits}` has no unit after it; {EXPECTED}"
        ));
    }
    Ok(Period::new(months, days))
}

/// Reads an instant the way retentiond stores and databases print them: ISO 8601
/// with `T` or a space, optional fractions, and `Z`, `+07:00`, `+0700`, `+07` or no
/// zone (UTC); a date alone is its midnight in UTC; digits alone are epoch seconds.
pub fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(secs) = t.parse::<f64>() {
        return DateTime::from_timestamp(secs.floor() as i64, ((secs.fract()) * 1e9) as u32);
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|n| n.and_utc());
    }
    let normalised = t.replacen(' ', "T", 1);
    if let Ok(dt) = DateTime::parse_from_rfc3339(&normalised) {
        return Some(dt.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M%#z"] {
        if let Ok(dt) = DateTime::parse_from_str(&normalised, format) {
            return Some(dt.with_timezone(&Utc));
        }
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(n) = chrono::NaiveDateTime::parse_from_str(&normalised, format) {
            return Some(n.and_utc());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
    }

    fn check(text: &str, now: DateTime<Utc>, expect: DateTime<Utc>) {
        let p = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(p.before(now), expect, "{text} before {now}");
    }

    #[test]
    fn word_and_iso_forms_agree() {
        let now = at(2026, 11, 22);
        for (words, iso) in [
            ("10 years", "P10Y"),
            ("26 months", "P26M"),
            ("30 days", "P30D"),
            ("2 weeks", "P2W"),
            ("1 Year", "p1y"),
            ("0 days", "P0D"),
        ] {
            assert_eq!(
                parse(words).unwrap(),
                parse(iso).unwrap(),
                "{words} vs {iso}"
            );
            assert_eq!(
                parse(words).unwrap().before(now),
                parse(iso).unwrap().before(now)
            );
        }
        assert_eq!(parse("P1Y6M").unwrap(), Period::new(18, 0));
        assert_eq!(parse("P1Y2M3W4D").unwrap(), Period::new(14, 25));
    }

    #[test]
    fn month_end_clamping_and_leap_days() {
        // DESIGN.md: 26 months before 31 March is 31 January of the year before last.
        check("26 months", at(2026, 3, 31), at(2024, 1, 31));
        // One month before 31 March is the last day of February.
        check("1 month", at(2026, 3, 31), at(2026, 2, 28));
        check("1 month", at(2028, 3, 31), at(2028, 2, 29));
        // One year before 29 February lands on 28 February.
        check("1 year", at(2028, 2, 29), at(2027, 2, 28));
        check("P4Y", at(2028, 2, 29), at(2024, 2, 29));
        check("10 years", at(2026, 11, 22), at(2016, 11, 22));
        check("7 years", at(2026, 12, 31), at(2019, 12, 31));
        check("30 days", at(2026, 3, 1), at(2026, 1, 30));
        check("0 days", at(2026, 3, 1), at(2026, 3, 1));
        // Months first, then days, as PostgreSQL's interval arithmetic does.
        check("P1M1D", at(2026, 3, 31), at(2026, 2, 27));
    }

    #[test]
    fn after_is_the_mirror_for_kept_until_dates() {
        let p = parse("1 year").unwrap();
        assert_eq!(p.after(at(2028, 2, 29)), at(2029, 2, 28));
    }

    #[test]
    fn instants_as_databases_print_them() {
        let want = Utc.with_ymd_and_hms(2016, 11, 22, 2, 30, 0).unwrap();
        for text in [
            "2016-11-22T02:30:00Z",
            "2016-11-22 02:30:00+00",
            "2016-11-22 09:30:00+07:00",
            "2016-11-22T09:30:00+0700",
            "2016-11-22 02:30:00",
            "2016-11-22T02:30",
            "2016-11-22 02:30:00.000000",
            "1479781800",
        ] {
            assert_eq!(parse_instant(text), Some(want), "{text}");
        }
        assert_eq!(
            parse_instant("2016-11-22"),
            Some(Utc.with_ymd_and_hms(2016, 11, 22, 0, 0, 0).unwrap())
        );
        assert_eq!(parse_instant("not a date"), None);
        assert_eq!(parse_instant("2016-02-30"), None);
    }

    #[test]
    fn display_is_normalised() {
        for (text, shown) in [
            ("P10Y", "10 years"),
            ("P26M", "2 years 2 months"),
            ("1 day", "1 day"),
            ("P2W", "2 weeks"),
            ("0 days", "0 days"),
        ] {
            assert_eq!(parse(text).unwrap().to_string(), shown);
        }
    }

    #[test]
    fn invalid_periods_say_what_is_valid() {
        for bad in [
            "",
            "10",
            "years",
            "ten years",
            "10 yrs",
            "-1 days",
            "1.5 years",
            "10 years ago",
            "P",
            "PT1H",
            "P1H",
            "P1M1Y",
            "P1Y1Y",
            "PY",
            "P10",
            "P1.5Y",
            "99999999999 days",
            "1001 years",
            "P4294967295Y",
        ] {
            let err = parse(bad).expect_err(bad);
            assert!(
                err.contains(&format!("`{bad}`")) || bad.is_empty(),
                "{bad}: {err}"
            );
            assert!(
                err.contains("expected")
                    || err.contains("too")
                    || err.contains("longer")
                    || err.contains("unit"),
                "{bad}: {err}"
            );
        }
    }
}
