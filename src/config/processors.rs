//! `[[processor]]`: the processors an answered request is passed on to, each with
//! its HTTPS URL, signing secret, request kinds and the fields that identify the
//! person to it.

use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use toml::de::{DeTable, DeValue};

use super::network::{is_loopback, read_ca_file};
use super::private::check_private;
use super::walk::{Cx, Item, get, resolve};
use crate::outcome::RequestKind;
use crate::policy::Policy;
use crate::processors::{ProcessorSettings, SendField, SendFrom};
use crate::secret::Secret;

const KEYS: &[&str] = &[
    "name",
    "url",
    "secret_file",
    "kinds",
    "send",
    "timeout",
    "retry",
    "ca_file",
];
const EXAMPLE: &str = "[[processor]]\nname = \"mailer\"\nurl = \"https://privacy.mailer.example/erasures\"\nsecret_file = \"/etc/retentiond/mailer.secret\"\nsend = { email = \"customers.email\" }";
/// The shortest signing secret accepted.
const MIN_SECRET: usize = 16;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_TIMEOUT: Duration = Duration::from_secs(120);
const DEFAULT_RETRY: Duration = Duration::from_secs(60);

/// Every `[[processor]]`, in the order written. `policies` tell which tables a
/// `send` field can read the person's rows from.
pub(super) fn processors(
    cx: &mut Cx,
    root: &DeTable,
    base_dir: &Path,
    policies: &[Policy],
) -> Vec<ProcessorSettings> {
    let Some(item) = get(root, "processor") else {
        return Vec::new();
    };
    let DeValue::Array(entries) = item.get_ref() else {
        cx.problem(
            item.span(),
            "`processor` must be an array of tables".into(),
            Some(EXAMPLE.into()),
        );
        return Vec::new();
    };
    let mut out: Vec<ProcessorSettings> = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let what = format!("[[processor]] #{}", i + 1);
        let Some(t) = cx.table(entry, &what) else {
            continue;
        };
        let Some(p) = processor(cx, t, entry.span(), &what, base_dir, policies) else {
            continue;
        };
        if out.iter().any(|q| q.name == p.name) {
            let at = get(t, "name").map_or(entry.span(), |n| n.span());
            cx.problem(
                at,
                format!("duplicate processor name `{}`", p.name),
                Some("each [[processor]] needs a name of its own".into()),
            );
            continue;
        }
        out.push(p);
    }
    out
}

fn processor(
    cx: &mut Cx,
    t: &DeTable,
    span: Range<usize>,
    what: &str,
    base_dir: &Path,
    policies: &[Policy],
) -> Option<ProcessorSettings> {
    cx.check_keys(t, KEYS, &format!("in {what}"));
    let required = |cx: &mut Cx, key: &str| {
        let v = get(t, key);
        if v.is_none() {
            cx.problem(
                span.start..span.start,
                format!("{what} has no `{key}`"),
                Some(EXAMPLE.into()),
            );
        }
        v
    };
    let name = required(cx, "name").and_then(|v| name(cx, v));
    let url = required(cx, "url").and_then(|v| url(cx, v));
    let secret = required(cx, "secret_file").and_then(|v| secret(cx, v, base_dir));
    let send = required(cx, "send").and_then(|v| send(cx, v, policies));
    let kinds = match get(t, "kinds") {
        Some(v) => kinds(cx, v),
        None => Some(vec![RequestKind::Erasure]),
    };
    let timeout = match get(t, "timeout") {
        Some(v) => bounded(cx, v, "timeout", MAX_TIMEOUT),
        None => Some(DEFAULT_TIMEOUT),
    };
    let retry = match get(t, "retry") {
        Some(v) => bounded(cx, v, "retry", crate::processors::MAX_RETRY),
        None => Some(DEFAULT_RETRY),
    };
    let ca_pem = match get(t, "ca_file") {
        Some(v) => Some(read_ca_file(
            cx,
            v,
            base_dir,
            "a PEM file of the CA certificate(s) that signed the processor's certificate",
        )?),
        None => None,
    };
    Some(ProcessorSettings {
        name: name?,
        url: url?,
        secret: secret?,
        kinds: kinds?,
        send: send?,
        timeout: timeout?,
        retry: retry?,
        ca_pem,
    })
}

fn name(cx: &mut Cx, v: &Item) -> Option<String> {
    let n = cx.string(v, "name")?;
    let ok = !n.is_empty()
        && n.len() <= 64
        && n.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-'));
    if !ok {
        cx.problem(
            v.span(),
            format!("invalid processor name {n:?}"),
            Some("lowercase letters, digits, `_` and `-`, at most 64: name = \"stripe\"".into()),
        );
        return None;
    }
    Some(n)
}

fn url(cx: &mut Cx, v: &Item) -> Option<String> {
    let text = cx.string(v, "url")?;
    let help = "https://host/path; plain http only to this host (127.0.0.1, ::1, localhost)";
    let parsed = match reqwest::Url::parse(&text) {
        Ok(u) => u,
        Err(e) => {
            cx.problem(v.span(), format!("invalid url: {e}"), Some(help.into()));
            return None;
        }
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        cx.problem(
            v.span(),
            "the processor's url holds credentials".into(),
            Some("remove them: each delivery is signed with secret_file instead".into()),
        );
        return None;
    }
    let host = parsed.host_str().unwrap_or("");
    match parsed.scheme() {
        "https" => Some(text),
        "http" if is_loopback(host) => Some(text),
        scheme => {
            cx.problem(
                v.span(),
                format!("a processor's url must be https, not {scheme}: the body names a person"),
                Some(help.into()),
            );
            None
        }
    }
}

fn secret(cx: &mut Cx, v: &Item, base_dir: &Path) -> Option<Secret> {
    let file = cx.string(v, "secret_file")?;
    let path = resolve(base_dir, &file);
    let help = format!(
        "the file holds the signing secret the processor checks, on one line, at least {MIN_SECRET} characters (mode 0600)"
    );
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            cx.problem(
                v.span(),
                format!("cannot read secret_file {}: {e}", path.display()),
                Some(help),
            );
            return None;
        }
    };
    check_private(cx, "secret_file", &path, v.span())?;
    let secret = text.trim();
    if secret.len() < MIN_SECRET {
        cx.problem(
            v.span(),
            format!(
                "secret_file {} holds {} characters; at least {MIN_SECRET} are needed",
                path.display(),
                secret.len()
            ),
            Some(help),
        );
        return None;
    }
    Some(Secret(secret.to_string()))
}

fn kinds(cx: &mut Cx, v: &Item) -> Option<Vec<RequestKind>> {
    let help = || {
        format!(
            "a list of {}, e.g. kinds = [\"erasure\"]",
            RequestKind::spellings()
        )
    };
    let DeValue::Array(items) = v.get_ref() else {
        cx.type_error(v, "kinds", "a list");
        return None;
    };
    let mut out = Vec::new();
    for i in items.iter() {
        let s = cx.string(i, "kinds")?;
        match RequestKind::parse(&s) {
            Some(k) if !out.contains(&k) => out.push(k),
            Some(_) => {}
            None => {
                cx.problem(
                    i.span(),
                    format!("unknown request kind `{s}`"),
                    Some(help()),
                );
                return None;
            }
        }
    }
    if out.is_empty() {
        cx.problem(
            v.span(),
            "`kinds` lists no request kind".into(),
            Some(help()),
        );
        return None;
    }
    Some(out)
}

/// `send = { field = "subject" | "table.column" }`: the table must be a policy's
/// with a subject column, by which the person's rows are found.
fn send(cx: &mut Cx, v: &Item, policies: &[Policy]) -> Option<Vec<SendField>> {
    let DeValue::Table(t) = v.get_ref() else {
        cx.type_error(v, "send", "a table of field = \"table.column\"");
        return None;
    };
    let mut out = Vec::new();
    let mut ok = true;
    for (k, val) in t.iter() {
        let field = k.get_ref().to_string();
        let Some(text) = cx.string(val, "send") else {
            ok = false;
            continue;
        };
        match source(cx, &text, val.span(), policies) {
            Some(from) => out.push(SendField { name: field, from }),
            None => ok = false,
        }
    }
    if ok && out.is_empty() {
        cx.problem(
            v.span(),
            "`send` names nothing that identifies the person to the processor".into(),
            Some("send = { email = \"customers.email\" }, or { customer = \"subject\" }".into()),
        );
        return None;
    }
    ok.then_some(out)
}

fn source(cx: &mut Cx, text: &str, span: Range<usize>, policies: &[Policy]) -> Option<SendFrom> {
    if text == "subject" {
        return Some(SendFrom::Subject);
    }
    let with_subject: Vec<&str> = policies
        .iter()
        .filter(|p| p.subject.is_some())
        .map(|p| p.table.name.as_str())
        .collect();
    let Some((table, column)) = text.rsplit_once('.') else {
        cx.problem(
            span,
            format!("`{text}` names no table: write \"table.column\", or \"subject\""),
            Some(format!(
                "tables of policies with a subject: {}",
                with_subject.join(", ")
            )),
        );
        return None;
    };
    let table = cx.ident_text(table, span.clone(), "table", true)?;
    let column = cx.ident_text(column, span.clone(), "column", false)?;
    if !with_subject
        .iter()
        .any(|t| t.eq_ignore_ascii_case(&table.name))
    {
        cx.problem(
            span,
            format!(
                "no policy with a `subject` has table `{}`, so the person's rows there cannot be found",
                table.name
            ),
            Some(format!(
                "tables of policies with a subject: {}",
                if with_subject.is_empty() {
                    "none".to_string()
                } else {
                    with_subject.join(", ")
                }
            )),
        );
        return None;
    }
    Some(SendFrom::Column { table, column })
}

fn bounded(cx: &mut Cx, v: &Item, key: &str, max: Duration) -> Option<Duration> {
    let d = cx.duration(v, key)?;
    if d > max {
        cx.problem(
            v.span(),
            format!("`{key}` is longer than {} s", max.as_secs()),
            Some(format!("at most {} s", max.as_secs())),
        );
        return None;
    }
    Some(d)
}
