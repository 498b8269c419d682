//! `retention.toml`: finding it, parsing it, and validating all of it before any
//! database is touched.
//!
//! The file is parsed into toml's spanned tree rather than deserialised with serde,
//! so that every problem (syntax, type, unknown key, bad period, bad identifier) is
//! reported at once with its file, line and column and with what would be valid.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::period;
use crate::policy::{
    Action, Anonymize, Basis, Cascade, Filter, FilterValue, Ident, Limits, Loc, Partitions, Policy,
    Strategy,
};

/// The environment variable that overrides `[database] url` and `url_file`.
pub const DATABASE_URL_ENV: &str = "RETENTIOND_DATABASE_URL";
/// The environment variable naming the config file when `-c` is not given.
pub const CONFIG_ENV: &str = "RETENTIOND_CONFIG";
/// The config file used when neither `-c` nor `$RETENTIOND_CONFIG` names one.
pub const SYSTEM_CONFIG: &str = "/etc/retentiond/retention.toml";
/// The shortest HMAC key accepted: 256 bits, the size of SHA-256's output.
pub const MIN_KEY_BYTES: usize = 32;
/// Identifiers longer than this are cut by PostgreSQL (63) and refused by MySQL (64).
pub const MAX_IDENT_LEN: usize = 63;

#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    /// SHA-256 of the file's bytes, recorded with every run so a report can show
    /// which rules were in force.
    pub sha256: String,
    pub database: DatabaseSettings,
    pub schedule: Option<Schedule>,
    pub hmac_key: Option<HmacKey>,
    pub limits: Limits,
    pub policies: Vec<Policy>,
    /// Where `run` serves Prometheus metrics (`[metrics] listen`).
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// `[log] level`, used when RUST_LOG is not set.
    pub log_level: Option<String>,
    /// `[report]`: periodic reports the daemon writes.
    pub report: Option<ReportSettings>,
}

/// Which period a periodic report covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportPeriod {
    Monthly,
    Weekly,
    /// The time between the last two times this cron line fired.
    Cron(String),
}

#[derive(Debug, Clone)]
pub struct ReportSettings {
    pub dir: PathBuf,
    pub period: ReportPeriod,
    /// File extensions: html, md, csv, json.
    pub formats: Vec<String>,
}

impl Config {
    pub fn policy(&self, name: &str) -> Option<&Policy> {
        self.policies.iter().find(|p| p.name == name)
    }

    /// `path:line:col`, for errors found after parsing (a table missing in the database).
    pub fn at(&self, loc: Loc) -> String {
        format!("{}:{}:{}", self.path.display(), loc.line, loc.col)
    }
}

#[derive(Clone)]
pub struct DatabaseSettings {
    /// The connection URL. Never printed whole: it may carry a password.
    pub url: String,
    pub source: UrlSource,
    /// The directory relative SQLite paths are resolved against.
    pub base_dir: PathBuf,
    pub timeouts: Timeouts,
    /// Wait before a batch while any replica replays more than this far behind.
    pub max_replica_lag: Option<Duration>,
    pub retry: Retry,
}

/// How a batch that timed out, or lost its connection, is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Tries after the first; then the policy is recorded as failed.
    pub attempts: u32,
    /// The wait before the first retry; it doubles for each one after.
    pub backoff: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 5,
            backoff: Duration::from_secs(1),
        }
    }
}

/// Per-transaction limits for live databases, from `[database]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// How long one statement may wait for a row lock.
    pub lock: Duration,
    /// How long one statement may run.
    pub statement: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            lock: Duration::from_secs(5),
            statement: Duration::from_secs(60),
        }
    }
}

/// Parses `"500ms"`, `"5s"`, `"2m"`, `"1h"`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let valid = "a whole number and a unit: ms, s, m or h (\"500ms\", \"5s\", \"2m\")";
    let n: u64 = number
        .parse()
        .map_err(|_| format!("invalid duration `{text}`: expected {valid}"))?;
    let d = match unit.trim() {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" | "min" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        _ => return Err(format!("invalid duration `{text}`: expected {valid}")),
    };
    Ok(d)
}

impl fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redact_url(&self.url))
            .field("source", &self.source)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlSource {
    Config,
    File(PathBuf),
    Environment,
}

/// The URL with any password replaced by `***`, for logs and errors.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_string();
    };
    let userinfo = &authority[..at];
    let user = userinfo.split(':').next().unwrap_or("");
    if !userinfo.contains(':') {
        return url.to_string();
    }
    format!("{}{}:***{}", &url[..scheme_end + 3], user, &rest[at..])
}

#[derive(Debug, Clone)]
pub struct Schedule {
    pub cron: String,
    pub timezone: chrono_tz::Tz,
}

#[derive(Clone)]
pub struct HmacKey(pub Vec<u8>);

impl fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HmacKey({} bytes)", self.0.len())
    }
}

/// One thing wrong with the config, at a place in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub loc: Loc,
    pub message: String,
    pub help: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "no config file found: pass -c PATH, set ${CONFIG_ENV}, or create ./retention.toml or {SYSTEM_CONFIG}"
    )]
    NotFound,
    #[error("{}", render_problems(path, problems))]
    Invalid {
        path: PathBuf,
        problems: Vec<Problem>,
    },
}

impl ConfigError {
    pub fn problems(&self) -> &[Problem] {
        match self {
            ConfigError::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }
}

fn render_problems(path: &Path, problems: &[Problem]) -> String {
    let mut out = String::new();
    for (i, p) in problems.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&format!(
            "{}:{}:{}: {}",
            path.display(),
            p.loc.line,
            p.loc.col,
            p.message
        ));
        if let Some(help) = &p.help {
            out.push_str(&format!("\n    help: {help}"));
        }
    }
    if problems.len() > 1 {
        out.push_str(&format!(
            "\n{} problems in {}",
            problems.len(),
            path.display()
        ));
    }
    out
}

/// The config file to use: `-c PATH`, then `$RETENTIOND_CONFIG`, then
/// `./retention.toml`, then `/etc/retentiond/retention.toml`.
pub fn locate(explicit: Option<&Path>) -> Result<PathBuf, ConfigError> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os(CONFIG_ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    for candidate in ["retention.toml", SYSTEM_CONFIG] {
        let p = PathBuf::from(candidate);
        if p.is_file() {
            return Ok(p);
        }
    }
    Err(ConfigError::NotFound)
}

/// Reads and validates the file; `$RETENTIOND_DATABASE_URL` overrides its URL.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let env_url = std::env::var(DATABASE_URL_ENV)
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(credential_url);
    parse(path, &bytes, env_url)
}

/// The name of the systemd credential that holds the database URL
/// (`LoadCredential=database-url:...`).
pub const URL_CREDENTIAL: &str = "database-url";

/// The database URL from systemd's credentials directory, if the unit passed one.
fn credential_url() -> Option<String> {
    let dir = std::env::var_os("CREDENTIALS_DIRECTORY")?;
    let text = std::fs::read_to_string(Path::new(&dir).join(URL_CREDENTIAL)).ok()?;
    let url = text.trim().to_string();
    (!url.is_empty()).then_some(url)
}

/// Validates config text. Pure apart from reading `url_file` and `key_file`, whose
/// paths are relative to the config file's directory.
pub fn parse(path: &Path, bytes: &[u8], env_url: Option<String>) -> Result<Config, ConfigError> {
    let sha256 = hex::encode(Sha256::digest(bytes));
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let valid = &bytes[..e.valid_up_to()];
            let text = String::from_utf8_lossy(valid);
            let cx = Cx::new(&text);
            return Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                problems: vec![Problem {
                    loc: cx.loc(valid.len()),
                    message: "the file is not valid UTF-8".into(),
                    help: Some("save retention.toml as UTF-8 text".into()),
                }],
            });
        }
    };
    let base_dir = path
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            }
        })
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let mut cx = Cx::new(text);
    let (root, errors) = DeTable::parse_recoverable(text);
    for e in &errors {
        let at = e.span().map(|s| s.start).unwrap_or(0);
        cx.problem(
            at..at,
            format!("TOML syntax error: {}", e.message().trim()),
            None,
        );
    }
    if !errors.is_empty() {
        // A broken file cannot be validated any further without misleading errors.
        return Err(cx.into_error(path));
    }
    let built = build(&mut cx, root.get_ref(), &base_dir, env_url);
    if !cx.problems.is_empty() {
        return Err(cx.into_error(path));
    }
    let b = built.expect("a config without problems is complete");
    Ok(Config {
        path: path.to_path_buf(),
        sha256,
        database: b.database,
        schedule: b.schedule,
        hmac_key: b.hmac_key,
        limits: b.limits,
        policies: b.policies,
        metrics_listen: b.metrics_listen,
        log_level: b.log_level,
        report: b.report,
    })
}

struct Built {
    report: Option<ReportSettings>,
    database: DatabaseSettings,
    schedule: Option<Schedule>,
    hmac_key: Option<HmacKey>,
    limits: Limits,
    policies: Vec<Policy>,
    metrics_listen: Option<std::net::SocketAddr>,
    log_level: Option<String>,
}

type Item<'i> = Spanned<DeValue<'i>>;

const TOP_KEYS: &[&str] = &[
    "database",
    "schedule",
    "anonymize",
    "limits",
    "metrics",
    "log",
    "report",
    "policy",
];
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
const DATABASE_KEYS: &[&str] = &[
    "url",
    "url_file",
    "lock_timeout",
    "statement_timeout",
    "max_replica_lag",
    "retries",
    "retry_backoff",
];
const SCHEDULE_KEYS: &[&str] = &["cron", "timezone"];
const ANONYMIZE_KEYS: &[&str] = &["key_file"];
const LIMITS_KEYS: &[&str] = &["batch_size", "max_table_fraction", "pause"];
const POLICY_KEYS: &[&str] = &[
    "name",
    "description",
    "table",
    "key",
    "timestamp",
    "keep",
    "basis",
    "subject",
    "action",
    "cascade",
    "filter",
    "marker",
    "anonymize",
    "vacuum",
    "partitions",
];
const CASCADE_KEYS: &[&str] = &["table", "foreign_key"];
const MAX_BATCH_SIZE: i64 = 100_000;
const MAX_PAUSE: Duration = Duration::from_secs(10);

fn build(cx: &mut Cx, root: &DeTable, base_dir: &Path, env_url: Option<String>) -> Option<Built> {
    cx.check_keys(root, TOP_KEYS, "at the top level");

    let database = match get(root, "database") {
        Some(item) => cx
            .table(item, "[database]")
            .and_then(|t| database(cx, t, item.span(), base_dir, env_url)),
        None => match env_url {
            Some(url) => Some(DatabaseSettings {
                url,
                source: UrlSource::Environment,
                base_dir: base_dir.to_path_buf(),
                timeouts: Timeouts::default(),
                max_replica_lag: None,
                retry: Retry::default(),
            }),
            None => {
                cx.problem(
                    0..0,
                    "missing [database] section".into(),
                    Some(format!(
                        "add [database] with url = \"sqlite://shop.db\" (or url_file), or set ${DATABASE_URL_ENV}"
                    )),
                );
                None
            }
        },
    };

    let schedule = get(root, "schedule")
        .and_then(|item| cx.table(item, "[schedule]").map(|t| (item, t)))
        .and_then(|(item, t)| schedule(cx, t, item.span()));

    let mut key_file_item = None;
    let hmac_key = match get(root, "anonymize") {
        Some(item) => match cx.table(item, "[anonymize]") {
            Some(t) => {
                cx.check_keys(t, ANONYMIZE_KEYS, "in [anonymize]");
                key_file_item = get(t, "key_file");
                key_file_item.and_then(|kf| hmac_key(cx, kf, base_dir))
            }
            None => None,
        },
        None => None,
    };

    let limits = match get(root, "limits") {
        Some(item) => cx.table(item, "[limits]").map(|t| limits(cx, t)),
        None => Some(Limits::default()),
    }
    .unwrap_or_default();

    let mut policies = Vec::new();
    match get(root, "policy") {
        None => cx.problem(
            0..0,
            "no [[policy]] is defined".into(),
            Some("add at least one [[policy]] with name, table, timestamp, keep and action".into()),
        ),
        Some(item) => match item.get_ref() {
            DeValue::Array(entries) => {
                for (i, entry) in entries.iter().enumerate() {
                    let what = format!("[[policy]] #{}", i + 1);
                    if let Some(t) = cx.table(entry, &what)
                        && let Some(p) = policy(cx, t, entry.span(), i + 1)
                    {
                        policies.push(p);
                    }
                }
            }
            _ => cx.problem(
                item.span(),
                "`policy` must be an array of tables".into(),
                Some("write each policy under its own [[policy]] header".into()),
            ),
        },
    }

    // Cross-policy checks.
    let mut seen: Vec<&Policy> = Vec::new();
    for p in &policies {
        if let Some(first) = seen.iter().find(|q| q.name == p.name) {
            let at = cx.offset_of(p.loc);
            cx.problem(
                at..at,
                format!("duplicate policy name `{}`", p.name),
                Some(format!(
                    "the first policy with this name is at line {}; names must be unique",
                    first.loc.line
                )),
            );
        }
        seen.push(p);
    }
    let needs_key = policies
        .iter()
        .flat_map(|p| &p.anonymize)
        .find(|a| a.strategy == Strategy::Hash);
    if let (Some(a), None) = (needs_key, key_file_item) {
        let at = cx.offset_of(a.column.loc);
        cx.problem(
            at..at,
            format!(
                "strategy `hash` for column `{}` needs a secret key, and [anonymize] key_file is not set",
                a.column.name
            ),
            Some(format!(
                "add [anonymize] key_file = \"/etc/retentiond/hmac.key\" and create the key with: head -c {MIN_KEY_BYTES} /dev/urandom > /etc/retentiond/hmac.key"
            )),
        );
    }

    let metrics_listen = get(root, "metrics").and_then(|item| {
        let t = cx.table(item, "[metrics]")?;
        cx.check_keys(t, &["listen"], "in [metrics]");
        let v = get(t, "listen")?;
        let text = cx.string(v, "listen")?;
        match text.parse::<std::net::SocketAddr>() {
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
    });
    let log_level = get(root, "log").and_then(|item| {
        let t = cx.table(item, "[log]")?;
        cx.check_keys(t, &["level"], "in [log]");
        let v = get(t, "level")?;
        cx.choice(v, "level", &LOG_LEVELS).map(str::to_string)
    });

    let report = get(root, "report").and_then(|item| {
        let t = cx.table(item, "[report]")?;
        cx.check_keys(t, &["dir", "schedule", "formats"], "in [report]");
        let Some(dir_item) = get(t, "dir") else {
            cx.problem(item.span().start..item.span().start, "[report] needs `dir`".into(), Some("the folder reports are written to, e.g. dir = \"/var/lib/retentiond/reports\"".into()));
            return None;
        };
        let dir = resolve(base_dir, &cx.string(dir_item, "dir")?);
        let period = match get(t, "schedule") {
            None => ReportPeriod::Monthly,
            Some(v) => match cx.string(v, "schedule")?.as_str() {
                "monthly" => ReportPeriod::Monthly,
                "weekly" => ReportPeriod::Weekly,
                line => match line.parse::<croner::Cron>() {
                    Ok(_) => ReportPeriod::Cron(line.to_string()),
                    Err(e) => {
                        cx.problem(v.span(), format!("invalid report schedule `{line}`: {e}"), Some("\"monthly\", \"weekly\", or a cron line such as \"0 0 6 1 * *\"".into()));
                        return None;
                    }
                },
            },
        };
        let formats = match get(t, "formats") {
            None => vec!["html".to_string(), "json".to_string()],
            Some(v) => match v.get_ref() {
                DeValue::Array(items) if !items.is_empty() => items.iter().map(|i| cx.choice(i, "format", &REPORT_FORMATS).map(str::to_string)).collect::<Option<Vec<_>>>()?,
                _ => {
                    cx.type_error(v, "formats", "a non-empty list of \"html\", \"markdown\", \"csv\", \"json\"");
                    return None;
                }
            },
        };
        Some(ReportSettings { dir, period, formats })
    });

    Some(Built {
        report,
        database: database?,
        schedule,
        hmac_key,
        limits,
        policies,
        metrics_listen,
        log_level,
    })
}

fn database(
    cx: &mut Cx,
    t: &DeTable,
    span: Range<usize>,
    base_dir: &Path,
    env_url: Option<String>,
) -> Option<DatabaseSettings> {
    cx.check_keys(t, DATABASE_KEYS, "in [database]");
    let mut timeouts = Timeouts::default();
    if let Some(d) = get(t, "lock_timeout").and_then(|v| cx.duration(v, "lock_timeout")) {
        timeouts.lock = d;
    }
    if let Some(d) = get(t, "statement_timeout").and_then(|v| cx.duration(v, "statement_timeout")) {
        timeouts.statement = d;
    }
    let max_replica_lag = get(t, "max_replica_lag").and_then(|v| cx.duration(v, "max_replica_lag"));
    let mut retry = Retry::default();
    if let Some(v) = get(t, "retries")
        && let Some(n) = cx.integer(v, "retries")
    {
        match u32::try_from(n) {
            Ok(n) if n <= 20 => retry.attempts = n,
            _ => cx.problem(
                v.span(),
                format!("retries {n} is out of range"),
                Some("a whole number from 0 to 20".into()),
            ),
        }
    }
    if let Some(d) = get(t, "retry_backoff").and_then(|v| cx.duration(v, "retry_backoff")) {
        retry.backoff = d;
    }
    let url = get(t, "url").and_then(|v| cx.string(v, "url").map(|s| (s, v.span())));
    let url_file = get(t, "url_file").and_then(|v| cx.string(v, "url_file").map(|s| (s, v.span())));
    let base = base_dir.to_path_buf();
    if let (Some(_), Some((_, file_span))) = (&url, &url_file) {
        cx.problem(
            file_span.clone(),
            "`url` and `url_file` are both set".into(),
            Some("keep one: url_file for a secret read from a file (a systemd credential), url otherwise".into()),
        );
        return None;
    }
    if let Some(url) = env_url {
        return Some(DatabaseSettings {
            url,
            source: UrlSource::Environment,
            base_dir: base,
            timeouts,
            max_replica_lag,
            retry,
        });
    }
    match (url, url_file) {
        (Some((url, span)), None) => {
            check_url(cx, &url, span)?;
            Some(DatabaseSettings {
                url,
                source: UrlSource::Config,
                base_dir: base,
                timeouts,
                max_replica_lag,
                retry,
            })
        }
        (None, Some((file, span))) => {
            let p = resolve(base_dir, &file);
            match std::fs::read_to_string(&p) {
                Ok(contents) => {
                    let url = contents.trim().to_string();
                    if url.is_empty() {
                        cx.problem(
                            span,
                            format!("url_file {} is empty", p.display()),
                            Some("write the database URL into the file, on one line".into()),
                        );
                        return None;
                    }
                    Some(DatabaseSettings {
                        url,
                        source: UrlSource::File(p),
                        base_dir: base,
                        timeouts,
                        max_replica_lag,
                        retry,
                    })
                }
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
        _ => {
            cx.problem(
                span.start..span.start,
                "[database] needs `url` or `url_file`".into(),
                Some(format!(
                    "for example url = \"sqlite://shop.db\", or set ${DATABASE_URL_ENV}"
                )),
            );
            None
        }
    }
}

fn check_url(cx: &mut Cx, url: &str, span: Range<usize>) -> Option<()> {
    let known = [
        "sqlite:",
        "postgres://",
        "postgresql://",
        "mysql://",
        "mariadb://",
    ];
    if known.iter().any(|k| url.starts_with(k)) {
        return Some(());
    }
    cx.problem(
        span,
        format!("unsupported database URL `{}`", redact_url(url)),
        Some(
            "valid forms: sqlite://path/to/shop.db, postgres://user@host/db, mysql://user@host/db"
                .into(),
        ),
    );
    None
}

fn schedule(cx: &mut Cx, t: &DeTable, span: Range<usize>) -> Option<Schedule> {
    cx.check_keys(t, SCHEDULE_KEYS, "in [schedule]");
    let cron = match get(t, "cron") {
        Some(v) => {
            let text = cx.string(v, "cron")?;
            if let Err(e) = text.parse::<croner::Cron>() {
                cx.problem(
                    v.span(),
                    format!("invalid cron expression `{text}`: {e}"),
                    Some("6 fields (sec min hour day-of-month month day-of-week), e.g. \"0 30 2 * * *\", or 5 fields without seconds, e.g. \"30 2 * * *\"".into()),
                );
                return None;
            }
            text
        }
        None => {
            cx.problem(
                span.start..span.start,
                "[schedule] needs `cron`".into(),
                Some("for example cron = \"0 30 2 * * *\" (every day at 02:30:00)".into()),
            );
            return None;
        }
    };
    let timezone = match get(t, "timezone") {
        Some(v) => {
            let name = cx.string(v, "timezone")?;
            match name.parse::<chrono_tz::Tz>() {
                Ok(tz) => tz,
                Err(_) => {
                    let suggestion =
                        did_you_mean(&name, chrono_tz::TZ_VARIANTS.iter().map(|t| t.name()));
                    cx.problem(
                        v.span(),
                        format!("unknown time zone `{name}`"),
                        Some(match suggestion {
                            Some(s) => format!(
                                "did you mean `{s}`? an IANA name such as Europe/Berlin or UTC"
                            ),
                            None => {
                                "an IANA name such as Europe/Berlin, Asia/Jakarta or UTC".into()
                            }
                        }),
                    );
                    return None;
                }
            }
        }
        None => chrono_tz::UTC,
    };
    Some(Schedule { cron, timezone })
}

fn hmac_key(cx: &mut Cx, item: &Item, base_dir: &Path) -> Option<HmacKey> {
    let file = cx.string(item, "key_file")?;
    let p = resolve(base_dir, &file);
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
                Some(format!("create a key with: head -c {MIN_KEY_BYTES} /dev/urandom > {}", p.display())),
            );
            None
        }
        Err(e) => {
            cx.problem(
                item.span(),
                format!("cannot read key_file {}: {e}", p.display()),
                Some(format!(
                    "create a key with: head -c {MIN_KEY_BYTES} /dev/urandom > {}",
                    p.display()
                )),
            );
            None
        }
    }
}

fn limits(cx: &mut Cx, t: &DeTable) -> Limits {
    cx.check_keys(t, LIMITS_KEYS, "in [limits]");
    let mut limits = Limits::default();
    if let Some(v) = get(t, "batch_size")
        && let Some(n) = cx.integer(v, "batch_size")
    {
        if (1..=MAX_BATCH_SIZE).contains(&n) {
            limits.batch_size = Some(n as u32);
        } else {
            cx.problem(
                v.span(),
                format!("batch_size {n} is out of range"),
                Some(format!(
                    "a whole number from 1 to {MAX_BATCH_SIZE}; the default (5000, 2500 on MySQL) keeps each transaction short"
                )),
            );
        }
    }
    if let Some(v) = get(t, "pause")
        && let Some(text) = cx.string(v, "pause")
    {
        // Zero is allowed here: no rest at all.
        match parse_duration(&text) {
            Ok(d) if d <= MAX_PAUSE => limits.pause = Some(d),
            Ok(d) => cx.problem(
                v.span(),
                format!("pause {} ms is too long", d.as_millis()),
                Some("at most 10s; a few milliseconds let writers in between batches".into()),
            ),
            Err(e) => cx.problem(v.span(), e, None),
        }
    }
    if let Some(v) = get(t, "max_table_fraction")
        && let Some(f) = cx.number(v, "max_table_fraction")
    {
        if f > 0.0 && f <= 1.0 {
            limits.max_table_fraction = f;
        } else {
            cx.problem(
                v.span(),
                format!("max_table_fraction {f} is out of range"),
                Some("a number greater than 0 and at most 1, e.g. 0.5".into()),
            );
        }
    }
    limits
}

fn policy(cx: &mut Cx, t: &DeTable, span: Range<usize>, index: usize) -> Option<Policy> {
    let name = match get(t, "name") {
        Some(v) => cx.string(v, "name").and_then(|n| {
            if n.trim().is_empty() {
                cx.problem(
                    v.span(),
                    "policy name is empty".into(),
                    Some("a short name such as \"orders\"".into()),
                );
                None
            } else {
                Some((n, cx.loc(v.span().start)))
            }
        }),
        None => {
            cx.problem(
                span.start..span.start,
                format!("[[policy]] #{index} has no `name`"),
                Some("add name = \"orders\" (a unique short name)".into()),
            );
            None
        }
    };
    let what = match &name {
        Some((n, _)) => format!("in [[policy]] \"{n}\""),
        None => format!("in [[policy]] #{index}"),
    };
    cx.check_keys(t, POLICY_KEYS, &what);

    let required = |cx: &mut Cx, key: &str, example: &str| -> Option<&Item> {
        let v = get(t, key);
        if v.is_none() {
            cx.problem(
                span.start..span.start,
                format!("missing `{key}` {what}"),
                Some(format!("add {key} = {example}")),
            );
        }
        v
    };

    let description = get(t, "description").and_then(|v| cx.string(v, "description"));
    let table = required(cx, "table", "\"orders\"").and_then(|v| cx.ident(v, "table", true));
    let key = match get(t, "key") {
        Some(v) => cx.ident_list(v, "key", false),
        None => Some(vec![Ident {
            name: "id".into(),
            loc: cx.loc(span.start),
        }]),
    };
    let timestamp =
        required(cx, "timestamp", "\"placed_at\"").and_then(|v| cx.ident(v, "timestamp", false));
    let keep = required(cx, "keep", "\"10 years\"").and_then(|v| {
        let s = cx.string(v, "keep")?;
        match period::parse(&s) {
            Ok(p) => Some(p),
            Err(e) => {
                cx.problem(v.span(), e, None);
                None
            }
        }
    });
    let basis = get(t, "basis").and_then(|v| cx.choice(v, "basis", &Basis::ALL));
    let subject = get(t, "subject").and_then(|v| cx.ident(v, "subject", false));
    let action_item = required(cx, "action", "\"delete\" or \"anonymize\"");
    let action = action_item.and_then(|v| {
        cx.choice(
            v,
            "action",
            &[("delete", Action::Delete), ("anonymize", Action::Anonymize)],
        )
    });
    let cascade = match get(t, "cascade") {
        Some(v) => cascade(cx, v),
        None => Some(Vec::new()),
    };
    let filter = match get(t, "filter") {
        Some(v) => filter(cx, v),
        None => Some(Vec::new()),
    };
    let marker = get(t, "marker").and_then(|v| cx.ident(v, "marker", false));
    let vacuum = get(t, "vacuum").and_then(|v| cx.boolean(v, "vacuum"));
    let partitions = match get(t, "partitions") {
        Some(v) => cx.choice(
            v,
            "partitions",
            &[("rows", Partitions::Rows), ("drop", Partitions::Drop)],
        ),
        None => Some(Partitions::Rows),
    };
    let anonymize = match get(t, "anonymize") {
        Some(v) => anonymize(cx, v),
        None => Some(Vec::new()),
    };

    let (name, loc) = name?;
    let (table, key, timestamp, keep, action, cascade, filter, anonymize) = (
        table?, key?, timestamp?, keep?, action?, cascade?, filter?, anonymize?,
    );

    // Rules that relate several keys of one policy.
    let action_span = action_item.map(|v| v.span()).unwrap_or(span.clone());
    match action {
        Action::Delete => {
            if let Some(v) = get(t, "anonymize") {
                cx.problem(
                    v.span(),
                    format!("policy `{name}` deletes rows, so `anonymize` has no effect"),
                    Some("remove [policy.anonymize], or set action = \"anonymize\"".into()),
                );
            }
            if let Some(m) = &marker {
                let at = cx.offset_of(m.loc);
                cx.problem(
                    at..at,
                    format!("policy `{name}` deletes rows, so `marker` has no effect"),
                    Some("remove marker, or set action = \"anonymize\"".into()),
                );
            }
        }
        Action::Anonymize => {
            if anonymize.is_empty() {
                cx.problem(action_span.clone(), format!("policy `{name}` anonymises but names no columns"), Some("add [policy.anonymize] with column = \"strategy\" lines, e.g. ip_address = \"truncate_ip\"".into()));
            }
            if let Some(c) = cascade.first() {
                let at = cx.offset_of(c.table.loc);
                cx.problem(at..at, format!("policy `{name}` anonymises rows, so `cascade` (which deletes child rows) does not apply"), Some("remove cascade, or give the child table its own anonymise policy".into()));
            }
            if marker.is_none()
                && let Some(a) = anonymize.iter().find(|a| !a.strategy.is_recognisable())
            {
                let at = cx.offset_of(a.column.loc);
                cx.problem(
                        at..at,
                        format!(
                            "policy `{name}` is not idempotent: after `{}` has run, its output cannot be told apart from an untouched value, so every pass would anonymise the same rows again",
                            a.strategy.as_str()
                        ),
                        Some("add marker = \"anonymized_at\" (a nullable column that retentiond sets), or use only null and redact".into()),
                    );
            }
            for a in &anonymize {
                let clash = key
                    .iter()
                    .any(|k| k.name.eq_ignore_ascii_case(&a.column.name))
                    || marker
                        .as_ref()
                        .is_some_and(|m| m.name.eq_ignore_ascii_case(&a.column.name));
                if clash {
                    let at = cx.offset_of(a.column.loc);
                    cx.problem(
                        at..at,
                        format!(
                            "column `{}` is the policy's key or marker and cannot be anonymised",
                            a.column.name
                        ),
                        Some("anonymise personal data columns only".into()),
                    );
                }
            }
        }
    }
    if partitions == Some(Partitions::Drop)
        && action == Action::Anonymize
        && let Some(v) = get(t, "partitions")
    {
        cx.problem(
            v.span(),
            format!("policy `{name}` anonymises rows, so it cannot drop partitions"),
            Some("remove partitions, or set action = \"delete\"".into()),
        );
    }
    for c in &cascade {
        if c.foreign_key.len() != key.len() {
            let at = cx.offset_of(c.table.loc);
            cx.problem(
                at..at,
                format!(
                    "cascade into `{}` names {} foreign key column(s), but the key of `{}` has {}",
                    c.table.name,
                    c.foreign_key.len(),
                    table.name,
                    key.len()
                ),
                Some("give one foreign_key column per key column, in the same order".into()),
            );
        }
    }

    Some(Policy {
        name,
        loc,
        description,
        table,
        key,
        timestamp,
        keep,
        basis,
        subject,
        action,
        cascade,
        filter,
        marker,
        anonymize,
        vacuum,
        partitions: partitions?,
    })
}

fn cascade(cx: &mut Cx, v: &Item) -> Option<Vec<Cascade>> {
    let DeValue::Array(entries) = v.get_ref() else {
        cx.problem(
            v.span(),
            "`cascade` must be an array of tables".into(),
            Some("cascade = [{ table = \"order_items\", foreign_key = \"order_id\" }]".into()),
        );
        return None;
    };
    let mut out = Vec::new();
    let mut ok = true;
    for e in entries {
        let Some(t) = cx.table(e, "a cascade entry") else {
            ok = false;
            continue;
        };
        cx.check_keys(t, CASCADE_KEYS, "in a cascade entry");
        let table = match get(t, "table") {
            Some(v) => cx.ident(v, "table", true),
            None => {
                cx.problem(
                    e.span(),
                    "cascade entry has no `table`".into(),
                    Some("{ table = \"order_items\", foreign_key = \"order_id\" }".into()),
                );
                None
            }
        };
        let fk = match get(t, "foreign_key") {
            Some(v) => cx.ident_list(v, "foreign_key", false),
            None => {
                cx.problem(e.span(), "cascade entry has no `foreign_key`".into(), Some("the child's column that holds the parent key, e.g. foreign_key = \"order_id\"".into()));
                None
            }
        };
        match (table, fk) {
            (Some(table), Some(foreign_key)) => out.push(Cascade { table, foreign_key }),
            _ => ok = false,
        }
    }
    ok.then_some(out)
}

fn filter(cx: &mut Cx, v: &Item) -> Option<Vec<Filter>> {
    let t = cx.table(v, "filter")?;
    let mut out = Vec::new();
    let mut ok = true;
    for (k, val) in t.iter() {
        let Some(column) = cx.ident_text(k.get_ref(), k.span(), "filter column", false) else {
            ok = false;
            continue;
        };
        let values = match val.get_ref() {
            DeValue::Array(items) if items.is_empty() => {
                cx.problem(
                    val.span(),
                    format!("filter on `{}` lists no values", column.name),
                    Some("give one value or a non-empty list".into()),
                );
                None
            }
            DeValue::Array(items) => items
                .iter()
                .map(|i| cx.filter_value(i))
                .collect::<Option<Vec<_>>>(),
            _ => cx.filter_value(val).map(|x| vec![x]),
        };
        match values {
            Some(values) => out.push(Filter { column, values }),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn anonymize(cx: &mut Cx, v: &Item) -> Option<Vec<Anonymize>> {
    let t = cx.table(v, "[policy.anonymize]")?;
    let mut out = Vec::new();
    let mut ok = true;
    for (k, val) in t.iter() {
        let column = cx.ident_text(k.get_ref(), k.span(), "anonymize column", false);
        let strategy = cx.choice(val, "strategy", &Strategy::ALL);
        match (column, strategy) {
            (Some(column), Some(strategy)) => out.push(Anonymize { column, strategy }),
            _ => ok = false,
        }
    }
    ok.then_some(out)
}

fn resolve(base_dir: &Path, file: &str) -> PathBuf {
    let p = Path::new(file);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base_dir.join(p)
    }
}

fn get<'t, 'i>(t: &'t DeTable<'i>, key: &str) -> Option<&'t Item<'i>> {
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

/// The closest of `candidates` to `word`, if one is close enough to be a typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::jaro_winkler(&word.to_ascii_lowercase(), &c.to_ascii_lowercase()),
                c,
            )
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Collects problems while walking the tree.
struct Cx {
    line_starts: Vec<usize>,
    text: String,
    problems: Vec<Problem>,
}

impl Cx {
    fn new(text: &str) -> Cx {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Cx {
            line_starts,
            text: text.to_string(),
            problems: Vec::new(),
        }
    }

    fn loc(&self, offset: usize) -> Loc {
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

    fn offset_of(&self, loc: Loc) -> usize {
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

    fn problem(&mut self, span: Range<usize>, message: String, help: Option<String>) {
        let loc = self.loc(span.start);
        self.problems.push(Problem { loc, message, help });
    }

    fn into_error(mut self, path: &Path) -> ConfigError {
        self.problems.sort_by_key(|p| (p.loc.line, p.loc.col));
        self.problems.dedup();
        ConfigError::Invalid {
            path: path.to_path_buf(),
            problems: self.problems,
        }
    }

    fn check_keys(&mut self, t: &DeTable, allowed: &[&str], context: &str) {
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

    fn type_error(&mut self, v: &Item, key: &str, expected: &str) {
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

    fn table<'t, 'i>(&mut self, v: &'t Item<'i>, key: &str) -> Option<&'t DeTable<'i>> {
        match v.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => {
                self.type_error(v, key, "a table");
                None
            }
        }
    }

    fn string(&mut self, v: &Item, key: &str) -> Option<String> {
        match v.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            _ => {
                self.type_error(v, key, "a string");
                None
            }
        }
    }

    fn duration(&mut self, v: &Item, key: &str) -> Option<Duration> {
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

    fn boolean(&mut self, v: &Item, key: &str) -> Option<bool> {
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.type_error(v, key, "true or false");
                None
            }
        }
    }

    fn integer(&mut self, v: &Item, key: &str) -> Option<i64> {
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

    fn number(&mut self, v: &Item, key: &str) -> Option<f64> {
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

    fn choice<T: Copy>(&mut self, v: &Item, key: &str, options: &[(&str, T)]) -> Option<T> {
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

    fn ident(&mut self, v: &Item, key: &str, allow_schema: bool) -> Option<Ident> {
        let s = self.string(v, key)?;
        self.ident_text(&s, v.span(), key, allow_schema)
    }

    fn ident_text(
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

    fn ident_list(&mut self, v: &Item, key: &str, allow_schema: bool) -> Option<Vec<Ident>> {
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

    fn filter_value(&mut self, v: &Item) -> Option<FilterValue> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Backend;

    const MINIMAL: &str = r#"
[database]
url = "sqlite://shop.db"

[[policy]]
name = "orders"
table = "orders"
timestamp = "placed_at"
keep = "10 years"
action = "delete"
"#;

    fn parse_str(text: &str) -> Result<Config, ConfigError> {
        parse(Path::new("retention.toml"), text.as_bytes(), None)
    }

    fn problems(text: &str) -> Vec<String> {
        match parse_str(text) {
            Ok(_) => panic!("expected errors for:\n{text}"),
            Err(e) => e
                .problems()
                .iter()
                .map(|p| format!("{}:{} {}", p.loc.line, p.loc.col, p.message))
                .collect(),
        }
    }

    #[test]
    fn minimal_config_has_defaults() {
        let c = parse_str(MINIMAL).unwrap();
        assert_eq!(c.policies.len(), 1);
        assert_eq!(c.policies[0].key[0].name, "id");
        assert_eq!(c.limits, Limits::default());
        assert_eq!(c.policies[0].table.loc, Loc { line: 7, col: 9 });
        assert_eq!(c.sha256.len(), 64);
    }

    #[test]
    fn env_url_overrides_the_file() {
        let c = parse(
            Path::new("r.toml"),
            MINIMAL.as_bytes(),
            Some("sqlite://other.db".into()),
        )
        .unwrap();
        assert_eq!(c.database.url, "sqlite://other.db");
        assert_eq!(c.database.source, UrlSource::Environment);
    }

    #[test]
    fn unknown_keys_suggest_the_right_one() {
        let text = MINIMAL.replace("table = ", "tabel = ");
        let e = parse_str(&text).unwrap_err();
        let rendered = e.to_string();
        assert!(
            rendered.contains("retention.toml:7:1: unknown key `tabel`"),
            "{rendered}"
        );
        assert!(rendered.contains("did you mean `table`?"), "{rendered}");
        // The missing `table` is reported too: all problems at once.
        assert!(rendered.contains("missing `table`"), "{rendered}");
    }

    #[test]
    fn batch_size_defaults_by_backend_and_a_set_one_holds_everywhere() {
        let policy = "[[policy]]\nname = \"o\"\ntable = \"orders\"\ntimestamp = \"at\"\nkeep = \"1 year\"\naction = \"delete\"\n";
        let base = "[database]\nurl = \"sqlite://shop.db\"\n";
        let default = parse_str(&format!("{base}{policy}")).expect("no [limits]");
        assert_eq!(default.limits.batch_size_on(Backend::Sqlite), 5000);
        assert_eq!(default.limits.batch_size_on(Backend::Postgres), 5000);
        assert_eq!(default.limits.batch_size_on(Backend::MySql), 2500);
        let set = parse_str(&format!("{base}[limits]\nbatch_size = 4000\n{policy}")).unwrap();
        for backend in [Backend::Sqlite, Backend::Postgres, Backend::MySql] {
            assert_eq!(set.limits.batch_size_on(backend), 4000);
        }
    }

    #[test]
    fn pause_takes_zero_and_refuses_more_than_ten_seconds() {
        let policy = "[[policy]]\nname = \"o\"\ntable = \"orders\"\ntimestamp = \"at\"\nkeep = \"1 year\"\naction = \"delete\"\n";
        let base = "[database]\nurl = \"sqlite://shop.db\"\n[limits]\n";
        let zero = parse_str(&format!("{base}pause = \"0s\"\n{policy}")).expect("zero is allowed");
        assert_eq!(zero.limits.pause, Some(Duration::ZERO));
        assert_eq!(zero.limits.pause_on(Backend::Sqlite), Duration::ZERO);
        let default = parse_str(&format!("{base}{policy}")).expect("no pause");
        assert_eq!(
            default.limits.pause_on(Backend::Sqlite),
            crate::policy::DEFAULT_SQLITE_PAUSE
        );
        assert_eq!(default.limits.pause_on(Backend::Postgres), Duration::ZERO);
        assert_eq!(default.limits.pause_on(Backend::MySql), Duration::ZERO);
        let p = problems(&format!("{base}pause = \"11s\"\n{policy}"));
        assert!(p[0].starts_with("4:9 pause 11000 ms is too long"), "{p:#?}");
    }

    #[test]
    fn all_problems_are_reported_together_in_file_order() {
        let text = r#"
[database]
url = "sqlite://shop.db"

[limits]
batch_size = 0
max_table_fraction = 1.5

[[policy]]
name = "a"
table = "orders; DROP TABLE x"
timestamp = "placed_at"
keep = "ten years"
action = "purge"
"#;
        let p = problems(text);
        assert_eq!(p.len(), 5, "{p:#?}");
        assert!(p[0].starts_with("6:14 batch_size 0"), "{p:#?}");
        assert!(p[1].starts_with("7:22 max_table_fraction"), "{p:#?}");
        assert!(p[2].starts_with("11:9 invalid table name"), "{p:#?}");
        assert!(p[3].starts_with("13:8 invalid period"), "{p:#?}");
        assert!(p[4].starts_with("14:10 invalid action `purge`"), "{p:#?}");
    }

    #[test]
    fn identifiers() {
        assert_eq!(ident_problem("orders", true), None);
        assert_eq!(ident_problem("sales.orders", true), None);
        assert_eq!(ident_problem("_x9", false), None);
        for bad in [
            "a.b.c",
            "",
            ".x",
            "x.",
            "ord\u{0435}rs",
            "a-b",
            "1abc",
            "a b",
            "x\"y",
            "a;b",
            "a--b",
        ] {
            assert!(ident_problem(bad, true).is_some(), "{bad}");
        }
        assert!(ident_problem("sales.orders", false).is_some());
        assert!(ident_problem(&"x".repeat(64), false).is_some());
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://shop.db"), "sqlite://shop.db");
        assert_eq!(redact_url("mysql://u:p@ss@h/db"), "mysql://u:***@h/db");
    }

    #[test]
    fn debug_never_shows_the_password() {
        let text = MINIMAL.replace("sqlite://shop.db", "postgres://app:hunter2@db/shop");
        let c = parse_str(&text).unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn line_and_column_count_characters() {
        let cx = Cx::new("ab\nßc = 1\n");
        assert_eq!(cx.loc(0), Loc { line: 1, col: 1 });
        assert_eq!(cx.loc(3), Loc { line: 2, col: 1 });
        assert_eq!(cx.loc(5), Loc { line: 2, col: 2 });
        assert_eq!(cx.offset_of(Loc { line: 2, col: 2 }), 5);
    }
}
