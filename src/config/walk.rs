//! Walking toml's spanned tree: reading typed values out of it and collecting every
//! problem with its line and column and with what would be valid.
//!
//! [`Cx`] is the one place problems are recorded; the section readers in `sections`
//! and `policy` call its typed getters and never build a `Problem` themselves.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{ConfigError, MAX_IDENT_LEN, Problem};
use crate::policy::{FilterValue, Ident, Loc};
use crate::suggest::did_you_mean;

pub(super) type Item<'i> = Spanned<DeValue<'i>>;

/// Parses `"500ms"`, `"5s"`, `"2m"`, `"1h"`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let valid = "a whole number and a unit: ms, s, m, h or d (\"500ms\", \"5s\", \"2m\", \"7d\")";
    let n: u64 = number
        .parse()
        .map_err(|_| format!("invalid duration `{text}`: expected {valid}"))?;
    let d = match unit.trim() {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" | "min" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        "d" | "days" => Duration::from_secs(n.saturating_mul(86_400)),
        _ => return Err(format!("invalid duration `{text}`: expected {valid}")),
    };
    Ok(d)
}

pub(super) fn resolve(base_dir: &Path, file: &str) -> PathBuf {
    let p = Path::new(file);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base_dir.join(p)
    }
}

pub(super) fn get<'t, 'i>(t: &'t DeTable<'i>, key: &str) -> Option<&'t Item<'i>> {
    t.iter().find(|(k, _)| k.get_ref() == key).map(|(_, v)| v)
}

/// Checks an identifier's syntax. Returns what is wrong, or `None` if it is valid.
pub fn ident_problem(name: &str, allow_schema: bool) -> Option<String> {
    if name.is_empty() {
        return Some("an empty name".into());
    }
    let parts: Vec<&str> = name.split('.').collect();
    if parts.len() > 2 || (parts.len() == 2 && !allow_schema) {
        return Some(if allow_schema {
            "more than one `.`; write `schema.table` at most".into()
        } else {
            "a `.` in a column name".into()
        });
    }
    for part in &parts {
        if part.is_empty() {
            return Some("an empty part around `.`".into());
        }
        if part.len() > MAX_IDENT_LEN {
            return Some(format!("longer than {MAX_IDENT_LEN} characters"));
        }
        if let Some(c) = part
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
        {
            return Some(format!("the character {c:?}"));
        }
        if part.starts_with(|c: char| c.is_ascii_digit()) {
            return Some("a name that starts with a digit".into());
        }
    }
    None
}

/// Collects problems while walking the tree.
pub(super) struct Cx {
    line_starts: Vec<usize>,
    text: String,
    pub(super) problems: Vec<Problem>,
}

impl Cx {
    pub(super) fn new(text: &str) -> Cx {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Cx {
            line_starts,
            text: text.to_string(),
            problems: Vec::new(),
        }
    }

    pub(super) fn loc(&self, offset: usize) -> Loc {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts[line - 1];
        let col = self
            .text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(offset - start)
            + 1;
        Loc { line, col }
    }

    pub(super) fn offset_of(&self, loc: Loc) -> usize {
        let start = self
            .line_starts
            .get(loc.line.saturating_sub(1))
            .copied()
            .unwrap_or(0);
        self.text[start..]
            .char_indices()
            .nth(loc.col.saturating_sub(1))
            .map(|(i, _)| start + i)
            .unwrap_or(start)
    }

    pub(super) fn problem(&mut self, span: Range<usize>, message: String, help: Option<String>) {
        let loc = self.loc(span.start);
        self.problems.push(Problem { loc, message, help });
    }

    pub(super) fn into_error(mut self, path: &Path) -> ConfigError {
        self.problems.sort_by_key(|p| (p.loc.line, p.loc.col));
        self.problems.dedup();
        ConfigError::Invalid {
            path: path.to_path_buf(),
            problems: self.problems,
        }
    }

    pub(super) fn check_keys(&mut self, t: &DeTable, allowed: &[&str], context: &str) {
        for (k, _) in t.iter() {
            let key = k.get_ref();
            if allowed.contains(&key.as_ref()) {
                continue;
            }
            let help = match did_you_mean(key, allowed.iter().copied()) {
                Some(s) => format!(
                    "did you mean `{s}`? valid keys {context}: {}",
                    allowed.join(", ")
                ),
                None => format!("valid keys {context}: {}", allowed.join(", ")),
            };
            self.problem(
                k.span(),
                format!("unknown key `{key}` {context}"),
                Some(help),
            );
        }
    }

    pub(super) fn type_error(&mut self, v: &Item, key: &str, expected: &str) {
        let found = match v.get_ref() {
            DeValue::String(_) => "a string",
            DeValue::Integer(_) => "an integer",
            DeValue::Float(_) => "a float",
            DeValue::Boolean(_) => "a boolean",
            DeValue::Datetime(_) => "a date-time",
            DeValue::Array(_) => "an array",
            DeValue::Table(_) => "a table",
        };
        self.problem(
            v.span(),
            format!("`{key}` must be {expected}, found {found}"),
            None,
        );
    }

    pub(super) fn table<'t, 'i>(&mut self, v: &'t Item<'i>, key: &str) -> Option<&'t DeTable<'i>> {
        match v.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => {
                self.type_error(v, key, "a table");
                None
            }
        }
    }

    pub(super) fn string(&mut self, v: &Item, key: &str) -> Option<String> {
        match v.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            _ => {
                self.type_error(v, key, "a string");
                None
            }
        }
    }

    pub(super) fn duration(&mut self, v: &Item, key: &str) -> Option<Duration> {
        let text = self.string(v, key)?;
        match parse_duration(&text) {
            Ok(d) if !d.is_zero() => Some(d),
            Ok(_) => {
                self.problem(v.span(), format!("`{key}` must be longer than 0"), None);
                None
            }
            Err(e) => {
                self.problem(v.span(), e, None);
                None
            }
        }
    }

    pub(super) fn boolean(&mut self, v: &Item, key: &str) -> Option<bool> {
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.type_error(v, key, "true or false");
                None
            }
        }
    }

    pub(super) fn integer(&mut self, v: &Item, key: &str) -> Option<i64> {
        match v.get_ref() {
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) => Some(n),
                Err(_) => {
                    self.problem(v.span(), format!("`{key}` is too large"), None);
                    None
                }
            },
            _ => {
                self.type_error(v, key, "a whole number");
                None
            }
        }
    }

    pub(super) fn number(&mut self, v: &Item, key: &str) -> Option<f64> {
        match v.get_ref() {
            DeValue::Float(f) => match f.as_str().replace('_', "").parse::<f64>() {
                Ok(x) if x.is_finite() => Some(x),
                _ => {
                    self.problem(v.span(), format!("`{key}` must be a finite number"), None);
                    None
                }
            },
            DeValue::Integer(_) => self.integer(v, key).map(|n| n as f64),
            _ => {
                self.type_error(v, key, "a number");
                None
            }
        }
    }

    pub(super) fn choice<T: Copy>(
        &mut self,
        v: &Item,
        key: &str,
        options: &[(&str, T)],
    ) -> Option<T> {
        let s = self.string(v, key)?;
        if let Some((_, x)) = options.iter().find(|(n, _)| *n == s) {
            return Some(*x);
        }
        let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
        let help = match did_you_mean(&s, names.iter().copied()) {
            Some(m) => format!("did you mean `{m}`? valid: {}", names.join(", ")),
            None => format!("valid: {}", names.join(", ")),
        };
        self.problem(v.span(), format!("invalid {key} `{s}`"), Some(help));
        None
    }

    pub(super) fn ident(&mut self, v: &Item, key: &str, allow_schema: bool) -> Option<Ident> {
        let s = self.string(v, key)?;
        self.ident_text(&s, v.span(), key, allow_schema)
    }

    pub(super) fn ident_text(
        &mut self,
        s: &str,
        span: Range<usize>,
        key: &str,
        allow_schema: bool,
    ) -> Option<Ident> {
        if let Some(why) = ident_problem(s, allow_schema) {
            let valid = if allow_schema {
                "letters, digits and `_`, not starting with a digit, optionally `schema.table`"
            } else {
                "letters, digits and `_`, not starting with a digit"
            };
            self.problem(
                span,
                format!("invalid {key} name {s:?}: it has {why}"),
                Some(format!(
                    "a {key} name is {valid}, at most {MAX_IDENT_LEN} characters"
                )),
            );
            return None;
        }
        Some(Ident {
            name: s.to_string(),
            loc: self.loc(span.start),
        })
    }

    pub(super) fn ident_list(
        &mut self,
        v: &Item,
        key: &str,
        allow_schema: bool,
    ) -> Option<Vec<Ident>> {
        match v.get_ref() {
            DeValue::String(_) => self.ident(v, key, allow_schema).map(|i| vec![i]),
            DeValue::Array(items) if items.is_empty() => {
                self.problem(
                    v.span(),
                    format!("`{key}` lists no columns"),
                    Some("name one column, or a list of columns".into()),
                );
                None
            }
            DeValue::Array(items) => {
                let idents: Vec<Option<Ident>> = items
                    .iter()
                    .map(|i| self.ident(i, key, allow_schema))
                    .collect();
                idents.into_iter().collect()
            }
            _ => {
                self.type_error(v, key, "a column name or a list of column names");
                None
            }
        }
    }

    pub(super) fn filter_value(&mut self, v: &Item) -> Option<FilterValue> {
        match v.get_ref() {
            DeValue::String(s) => Some(FilterValue::Text(s.to_string())),
            DeValue::Integer(_) => self.integer(v, "filter value").map(FilterValue::Int),
            DeValue::Float(_) => self.number(v, "filter value").map(FilterValue::Float),
            DeValue::Boolean(b) => Some(FilterValue::Bool(*b)),
            _ => {
                self.type_error(v, "filter value", "a string, number or boolean");
                None
            }
        }
    }
}
