//! The sections of `retention.toml` other than `[[policy]]`: `[database]`,
//! `[schedule]`, `[anonymize]`, `[limits]`, `[metrics]`, `[log]` and `[report]`.
//!
//! Each reader takes its table from the spanned tree and returns the validated value,
//! or `None` after recording why in the [`Cx`]. Only `[database] url_file` and
//! `[anonymize] key_file` read files.

use std::net::SocketAddr;
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use toml::de::{DeTable, DeValue};

use super::private::check_private;
use super::walk::{Cx, Item, get, parse_duration, resolve};
use super::{
    DATABASE_URL_ENV, ErasureSettings, MIN_KEY_BYTES, ReportPeriod, ReportSettings, Schedule,
};
use crate::backend::{Backend, DatabaseSettings, Retry, Timeouts, UrlSource, redact_url};
use crate::policy::{HmacKey, Limits};
use crate::suggest::did_you_mean;

const DATABASE_KEYS: &[&str] = &[
    "url",
    "url_file",
    "lock_timeout",
    "statement_timeout",
    "lease_time",
    "max_replica_lag",
    "replica_urls",
    "max_replica_wait",
    "retries",
    "retry_backoff",
];
/// The pass lease must outlast a renewal's round trip, and a dead holder must not
/// block a cluster for long.
const MIN_LEASE: std::time::Duration = std::time::Duration::from_secs(3);
const MAX_LEASE: std::time::Duration = std::time::Duration::from_secs(600);
const SCHEDULE_KEYS: &[&str] = &["cron", "timezone"];
const ANONYMIZE_KEYS: &[&str] = &["key_file"];
const LIMITS_KEYS: &[&str] = &[
    "batch_size",
    "batch_time",
    "max_batch_size",
    "max_table_fraction",
    "pause",
];
const REPORT_KEYS: &[&str] = &["dir", "schedule", "formats", "mail_to"];
/// The ledger's file name in the state directory, when `[erasure] ledger` is not set.
pub const LEDGER_FILE: &str = "erasures.ledger";
/// `[report] formats` names and the file extension each is written with.
const REPORT_FORMATS: [(&str, &str); 4] = [
    ("html", "html"),
    ("markdown", "md"),
    ("csv", "csv"),
    ("json", "json"),
];
const LOG_LEVELS: [(&str, &str); 5] = [
    ("error", "error"),
    ("warn", "warn"),
    ("info", "info"),
    ("debug", "debug"),
    ("trace", "trace"),
];
const MAX_BATCH_SIZE: i64 = 100_000;
const MAX_PAUSE: Duration = Duration::from_secs(10);
const MAX_BATCH_TIME: Duration = Duration::from_secs(10);
const MAX_RETRIES: u32 = 20;

/// `[database]`, or the environment's URL when the file has no such section.
pub(super) fn database(
    cx: &mut Cx,
    root: &DeTable,
    base_dir: &Path,
    env_url: Option<String>,
) -> Option<DatabaseSettings> {
    let Some(item) = get(root, "database") else {
        if let Some(url) = env_url {
            return Some(DatabaseSettings::new(
                url,
                UrlSource::Environment,
                base_dir.to_path_buf(),
            ));
        }
        cx.problem(
            0..0,
            "missing [database] section".into(),
            Some(format!(
                "add [database] with url = \"sqlite://shop.db\" (or url_file), or set ${DATABASE_URL_ENV}"
            )),
        );
        return None;
    };
    let t = cx.table(item, "[database]")?;
    cx.check_keys(t, DATABASE_KEYS, "in [database]");
    let (timeouts, retry) = connection_limits(cx, t);
    let (url, source) = url(cx, t, item.span(), base_dir, env_url)?;
    let replicas = super::replicas::replica_watch(cx, t, &url)?;
    Some(DatabaseSettings {
        url,
        source,
        base_dir: base_dir.to_path_buf(),
        timeouts,
        replicas,
        retry,
    })
}

/// `[database]`'s timeouts and retries; each defaults on its own.
fn connection_limits(cx: &mut Cx, t: &DeTable) -> (Timeouts, Retry) {
    let mut timeouts = Timeouts::default();
    if let Some(d) = get(t, "lock_timeout").and_then(|v| cx.duration(v, "lock_timeout")) {
        timeouts.lock = d;
    }
    if let Some(d) = get(t, "statement_timeout").and_then(|v| cx.duration(v, "statement_timeout")) {
        timeouts.statement = d;
    }
    if let Some(v) = get(t, "lease_time")
        && let Some(d) = cx.duration(v, "lease_time")
    {
        if (MIN_LEASE..=MAX_LEASE).contains(&d) {
            timeouts.lease = d;
        } else {
            cx.problem(
                v.span(),
                format!("lease_time {} s is out of range", d.as_secs_f64()),
                Some("a duration from \"3s\" to \"10min\"".into()),
            );
        }
    }
    let mut retry = Retry::default();
    if let Some(v) = get(t, "retries")
        && let Some(n) = cx.integer(v, "retries")
    {
        match u32::try_from(n) {
            Ok(n) if n <= MAX_RETRIES => retry.attempts = n,
            _ => cx.problem(
                v.span(),
                format!("retries {n} is out of range"),
                Some(format!("a whole number from 0 to {MAX_RETRIES}")),
            ),
        }
    }
    if let Some(d) = get(t, "retry_backoff").and_then(|v| cx.duration(v, "retry_backoff")) {
        retry.backoff = d;
    }
    (timeouts, retry)
}

/// The URL: the environment's wins over `url` or `url_file`, of which exactly one
/// must be set.
fn url(
    cx: &mut Cx,
    t: &DeTable,
    span: Range<usize>,
    base_dir: &Path,
    env_url: Option<String>,
) -> Option<(String, UrlSource)> {
    let url = get(t, "url").and_then(|v| cx.string(v, "url").map(|s| (s, v.span())));
    let url_file = get(t, "url_file").and_then(|v| cx.string(v, "url_file").map(|s| (s, v.span())));
    if let (Some(_), Some((_, file_span))) = (&url, &url_file) {
        cx.problem(
            file_span.clone(),
            "`url` and `url_file` are both set".into(),
            Some("keep one: url_file for a secret read from a file (a systemd credential), url otherwise".into()),
        );
        return None;
    }
    if let Some(url) = env_url {
        return Some((url, UrlSource::Environment));
    }
    match (url, url_file) {
        (Some((url, span)), None) => {
            check_url(cx, &url, span)?;
            Some((url, UrlSource::Config))
        }
        (None, Some((file, span))) => url_from_file(cx, &file, span, base_dir),
        _ => {
            cx.problem(
                span.start..span.start,
                "[database] needs `url` or `url_file`".into(),
                Some(format!(
                    "for example url = \"sqlite://shop.db\", or set ${DATABASE_URL_ENV}, or under systemd write the URL to /etc/credstore/retentiond.database-url (the unit's database-url credential)"
                )),
            );
            None
        }
    }
}

fn url_from_file(
    cx: &mut Cx,
    file: &str,
    span: Range<usize>,
    base_dir: &Path,
) -> Option<(String, UrlSource)> {
    let p = resolve(base_dir, file);
    if p.exists() {
        check_private(cx, "url_file", &p, span.clone())?;
    }
    match std::fs::read_to_string(&p) {
        Ok(contents) if contents.trim().is_empty() => {
            cx.problem(
                span,
                format!("url_file {} is empty", p.display()),
                Some("write the database URL into the file, on one line".into()),
            );
            None
        }
        Ok(contents) => Some((contents.trim().to_string(), UrlSource::File(p))),
        Err(e) => {
            cx.problem(
                span,
                format!("cannot read url_file {}: {e}", p.display()),
                Some("the file should hold the database URL on one line".into()),
            );
            None
        }
    }
}

fn check_url(cx: &mut Cx, url: &str, span: Range<usize>) -> Option<()> {
    if Backend::of_url(url).is_some() {
        return Some(());
    }
    cx.problem(
        span,
        format!("unsupported database URL `{}`", redact_url(url)),
        Some(format!("valid forms: {}", Backend::URL_FORMS)),
    );
    None
}

pub(super) fn schedule(cx: &mut Cx, root: &DeTable) -> Option<Schedule> {
    let item = get(root, "schedule")?;
    let t = cx.table(item, "[schedule]")?;
    cx.check_keys(t, SCHEDULE_KEYS, "in [schedule]");
    let Some(v) = get(t, "cron") else {
        cx.problem(
            item.span().start..item.span().start,
            "[schedule] needs `cron`".into(),
            Some("for example cron = \"0 30 2 * * *\" (every day at 02:30:00)".into()),
        );
        return None;
    };
    let cron = cx.string(v, "cron")?;
    if let Err(e) = cron.parse::<croner::Cron>() {
        cx.problem(
            v.span(),
            format!("invalid cron expression `{cron}`: {e}"),
            Some("6 fields (sec min hour day-of-month month day-of-week), e.g. \"0 30 2 * * *\", or 5 fields without seconds, e.g. \"30 2 * * *\"".into()),
        );
        return None;
    }
    let timezone = match get(t, "timezone") {
        Some(v) => timezone(cx, v)?,
        None => chrono_tz::UTC,
    };
    Some(Schedule { cron, timezone })
}

fn timezone(cx: &mut Cx, v: &Item) -> Option<chrono_tz::Tz> {
    let name = cx.string(v, "timezone")?;
    if let Ok(tz) = name.parse::<chrono_tz::Tz>() {
        return Some(tz);
    }
    let help = match did_you_mean(&name, chrono_tz::TZ_VARIANTS.iter().map(|t| t.name())) {
        Some(s) => format!("did you mean `{s}`? an IANA name such as Europe/Berlin or UTC"),
        None => "an IANA name such as Europe/Berlin, Asia/Jakarta or UTC".into(),
    };
    cx.problem(v.span(), format!("unknown time zone `{name}`"), Some(help));
    None
}

/// `[anonymize]`: the key file's item (so a `hash` policy without one can be named)
/// and the key read from it.
pub(super) fn anonymize<'t, 'i>(
    cx: &mut Cx,
    root: &'t DeTable<'i>,
    base_dir: &Path,
) -> (Option<&'t Item<'i>>, Option<HmacKey>) {
    let Some(t) = get(root, "anonymize").and_then(|item| cx.table(item, "[anonymize]")) else {
        return (None, None);
    };
    cx.check_keys(t, ANONYMIZE_KEYS, "in [anonymize]");
    let key_file = get(t, "key_file");
    let key = key_file.and_then(|item| hmac_key(cx, item, base_dir));
    (key_file, key)
}

fn hmac_key(cx: &mut Cx, item: &Item, base_dir: &Path) -> Option<HmacKey> {
    let file = cx.string(item, "key_file")?;
    let p = resolve(base_dir, &file);
    let create = format!(
        "create a key with: head -c {MIN_KEY_BYTES} /dev/urandom > {0} && chmod 600 {0}",
        p.display()
    );
    if p.exists() {
        check_private(cx, "key_file", &p, item.span())?;
    }
    match std::fs::read(&p) {
        Ok(bytes) if bytes.len() >= MIN_KEY_BYTES => Some(HmacKey(bytes)),
        Ok(bytes) => {
            cx.problem(
                item.span(),
                format!(
                    "key_file {} holds {} bytes; the `hash` strategy needs at least {MIN_KEY_BYTES}",
                    p.display(),
                    bytes.len()
                ),
                Some(create),
            );
            None
        }
        Err(e) => {
            cx.problem(
                item.span(),
                format!("cannot read key_file {}: {e}", p.display()),
                Some(create),
            );
            None
        }
    }
}

pub(super) fn limits(cx: &mut Cx, root: &DeTable) -> Limits {
    let mut limits = Limits::default();
    let Some(t) = get(root, "limits").and_then(|item| cx.table(item, "[limits]")) else {
        return limits;
    };
    cx.check_keys(t, LIMITS_KEYS, "in [limits]");
    if let Some(v) = get(t, "batch_size") {
        limits.batch_size = rows(cx, v, "batch_size");
    }
    if let Some(v) = get(t, "max_batch_size") {
        limits.max_batch_size = rows(cx, v, "max_batch_size");
    }
    if let (Some(fixed), Some(v)) = (limits.batch_size, get(t, "max_batch_size")) {
        cx.problem(
            v.span(),
            format!("max_batch_size caps adaptive batches, but batch_size = {fixed} fixes them"),
            Some("keep batch_size for a fixed size, or max_batch_size and batch_time for sizes that adapt".into()),
        );
    }
    if let Some(v) = get(t, "batch_time") {
        limits.batch_time = batch_time(cx, v);
    }
    if let Some(v) = get(t, "pause") {
        limits.pause = pause(cx, v);
    }
    if let Some(v) = get(t, "max_table_fraction")
        && let Some(f) = fraction(cx, v)
    {
        limits.max_table_fraction = f;
    }
    limits
}

/// `batch_size` or `max_batch_size`: rows per transaction, 1 to [`MAX_BATCH_SIZE`].
fn rows(cx: &mut Cx, v: &Item, key: &str) -> Option<u32> {
    let n = cx.integer(v, key)?;
    if (1..=MAX_BATCH_SIZE).contains(&n) {
        return Some(n as u32);
    }
    cx.problem(
        v.span(),
        format!("{key} {n} is out of range"),
        Some(format!(
            "a whole number from 1 to {MAX_BATCH_SIZE}; leave batch_size out and batches follow batch_time"
        )),
    );
    None
}

/// `batch_time`: 1 ms to [`MAX_BATCH_TIME`].
fn batch_time(cx: &mut Cx, v: &Item) -> Option<Duration> {
    let d = cx.duration(v, "batch_time")?;
    if d <= MAX_BATCH_TIME {
        return Some(d);
    }
    cx.problem(
        v.span(),
        format!("batch_time {} ms is too long", d.as_millis()),
        Some("at most 10s; a few tens of milliseconds keep locks brief".into()),
    );
    None
}

/// A `max_table_fraction`: a number in (0, 1].
pub(super) fn fraction(cx: &mut Cx, v: &Item) -> Option<f64> {
    let f = cx.number(v, "max_table_fraction")?;
    if f > 0.0 && f <= 1.0 {
        return Some(f);
    }
    cx.problem(
        v.span(),
        format!("max_table_fraction {f} is out of range"),
        Some("a number greater than 0 and at most 1, e.g. 0.5".into()),
    );
    None
}

/// `[limits] pause`: unlike the other durations, zero is allowed (no rest at all).
fn pause(cx: &mut Cx, v: &Item) -> Option<Duration> {
    let text = cx.string(v, "pause")?;
    match parse_duration(&text) {
        Ok(d) if d <= MAX_PAUSE => Some(d),
        Ok(d) => {
            cx.problem(
                v.span(),
                format!("pause {} ms is too long", d.as_millis()),
                Some("at most 10s; a few milliseconds let writers in between batches".into()),
            );
            None
        }
        Err(e) => {
            cx.problem(v.span(), e, None);
            None
        }
    }
}

pub(super) fn metrics_listen(cx: &mut Cx, root: &DeTable) -> Option<SocketAddr> {
    let t = cx.table(get(root, "metrics")?, "[metrics]")?;
    cx.check_keys(t, &["listen"], "in [metrics]");
    let v = get(t, "listen")?;
    let text = cx.string(v, "listen")?;
    match text.parse::<SocketAddr>() {
        Ok(a) => Some(a),
        Err(_) => {
            cx.problem(
                v.span(),
                format!("invalid listen address `{text}`"),
                Some("an IP address and port, e.g. \"127.0.0.1:9464\"".into()),
            );
            None
        }
    }
}

pub(super) fn log_level(cx: &mut Cx, root: &DeTable) -> Option<String> {
    let t = cx.table(get(root, "log")?, "[log]")?;
    cx.check_keys(t, &["level"], "in [log]");
    let v = get(t, "level")?;
    cx.choice(v, "level", &LOG_LEVELS).map(str::to_string)
}

/// `[erasure] ledger`, relative to the config's directory. Without it: in the
/// state directory systemd gives the service (`$STATE_DIRECTORY`), else beside the
/// config file; never in the shop's database, which a restore rolls back.
pub(super) fn erasure(cx: &mut Cx, root: &DeTable, base_dir: &Path) -> ErasureSettings {
    let default_dir = std::env::var_os("STATE_DIRECTORY")
        .and_then(|dirs| std::env::split_paths(&dirs).next())
        .unwrap_or_else(|| base_dir.to_path_buf());
    let default = ErasureSettings {
        ledger: default_dir.join(LEDGER_FILE),
    };
    let Some(t) = get(root, "erasure").and_then(|item| cx.table(item, "[erasure]")) else {
        return default;
    };
    cx.check_keys(t, &["ledger"], "in [erasure]");
    match get(t, "ledger").and_then(|v| cx.string(v, "ledger")) {
        Some(file) => ErasureSettings {
            ledger: resolve(base_dir, &file),
        },
        None => default,
    }
}

pub(super) fn report(cx: &mut Cx, root: &DeTable, base_dir: &Path) -> Option<ReportSettings> {
    let item = get(root, "report")?;
    let t = cx.table(item, "[report]")?;
    cx.check_keys(t, REPORT_KEYS, "in [report]");
    let Some(dir_item) = get(t, "dir") else {
        cx.problem(
            item.span().start..item.span().start,
            "[report] needs `dir`".into(),
            Some(
                "the folder reports are written to, e.g. dir = \"/var/lib/retentiond/reports\""
                    .into(),
            ),
        );
        return None;
    };
    let dir = resolve(base_dir, &cx.string(dir_item, "dir")?);
    let period = match get(t, "schedule") {
        None => ReportPeriod::Monthly,
        Some(v) => report_period(cx, v)?,
    };
    let mut formats = match get(t, "formats") {
        None => vec!["html".to_string(), "json".to_string()],
        Some(v) => report_formats(cx, v)?,
    };
    let mail_to = super::mail::mail_to(cx, t);
    // The mail carries the HTML inline and the CSV and JSON attached, each the file
    // that stays the record.
    for needed in ["html", "csv", "json"] {
        if !mail_to.is_empty() && !formats.iter().any(|f| f == needed) {
            formats.push(needed.to_string());
        }
    }
    Some(ReportSettings {
        dir,
        period,
        formats,
        mail_to,
    })
}

fn report_period(cx: &mut Cx, v: &Item) -> Option<ReportPeriod> {
    match cx.string(v, "schedule")?.as_str() {
        "monthly" => Some(ReportPeriod::Monthly),
        "weekly" => Some(ReportPeriod::Weekly),
        line => match line.parse::<croner::Cron>() {
            Ok(_) => Some(ReportPeriod::Cron(line.to_string())),
            Err(e) => {
                cx.problem(
                    v.span(),
                    format!("invalid report schedule `{line}`: {e}"),
                    Some("\"monthly\", \"weekly\", or a cron line such as \"0 0 6 1 * *\"".into()),
                );
                None
            }
        },
    }
}

fn report_formats(cx: &mut Cx, v: &Item) -> Option<Vec<String>> {
    match v.get_ref() {
        DeValue::Array(items) if !items.is_empty() => items
            .iter()
            .map(|i| cx.choice(i, "format", &REPORT_FORMATS).map(str::to_string))
            .collect(),
        _ => {
            cx.type_error(
                v,
                "formats",
                "a non-empty list of \"html\", \"markdown\", \"csv\", \"json\"",
            );
            None
        }
    }
}
