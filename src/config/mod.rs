//! `retention.toml`: finding it, parsing it, and validating all of it before any
//! database is touched.
//!
//! The file is parsed into toml's spanned tree rather than deserialised with serde,
//! so that every problem (syntax, type, unknown key, bad period, bad identifier) is
//! reported at once with its file, line and column and with what would be valid.
//! `walk` reads the tree, `sections` the tables other than `[[policy]]`, `policy`
//! the policies. Nothing here knows about the database.

mod cascade;
mod http;
mod mail;
mod network;
mod policy;
mod private;
mod processors;
mod replicas;
mod sections;
mod stores;
mod walk;

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use toml::de::DeTable;

use crate::backend::DatabaseSettings;
use crate::policy::{HmacKey, Limits, Loc, Policy};
use walk::Cx;

pub use http::{HttpSettings, Listen, TlsFiles};
pub use mail::{MailSecurity, MailSettings, Secret};
pub use walk::{ident_problem, parse_duration};

/// The environment variable that overrides `[database] url` and `url_file`.
pub const DATABASE_URL_ENV: &str = "RETENTIOND_DATABASE_URL";
/// The environment variable that overrides every policy's `walk`.
pub const WALK_ENV: &str = "RETENTIOND_WALK";
/// The environment variable naming the config file when `-c` is not given.
pub const CONFIG_ENV: &str = "RETENTIOND_CONFIG";
/// The config file used when neither `-c` nor `$RETENTIOND_CONFIG` names one.
pub const SYSTEM_CONFIG: &str = "/etc/retentiond/retention.toml";
/// The shortest HMAC key accepted: 256 bits, the size of SHA-256's output.
pub const MIN_KEY_BYTES: usize = 32;
/// Identifiers longer than this are cut by PostgreSQL (63) and refused by MySQL (64).
pub const MAX_IDENT_LEN: usize = 63;
/// The name of the systemd credential that holds the database URL
/// (`LoadCredential=database-url:...`).
pub const URL_CREDENTIAL: &str = "database-url";

const TOP_KEYS: &[&str] = &[
    "database",
    "schedule",
    "anonymize",
    "limits",
    "metrics",
    "log",
    "report",
    "erasure",
    "mail",
    "stores",
    "policy",
    "processor",
    "http",
];

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
    /// `[erasure]`: where answered erasures are kept apart from the database.
    pub erasure: ErasureSettings,
    /// `[mail]`: the SMTP server the periodic reports are sent through.
    pub mail: Option<MailSettings>,
    /// `[stores.NAME]`: where the files rows point to live.
    pub stores: Vec<crate::files::StoreSettings>,
    /// `[[processor]]`: who is told of an answered request.
    pub processors: Vec<crate::processors::ProcessorSettings>,
    /// `[http]`: the request API and the review page, off when absent.
    pub http: Option<HttpSettings>,
}

/// `[erasure]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasureSettings {
    /// The erasure ledger's file.
    pub ledger: PathBuf,
}

impl Config {
    pub fn policy(&self, name: &str) -> Option<&Policy> {
        self.policies.iter().find(|p| p.name == name)
    }

    /// `path:line:col`, for errors found after parsing (a table missing in the database).
    pub fn at(&self, loc: Loc) -> String {
        format!("{}:{}:{}", self.path.display(), loc.line, loc.col)
    }

    /// The names of every policy, for "policies: a, b, c" in errors.
    pub fn policy_names(&self) -> String {
        let names: Vec<&str> = self.policies.iter().map(|p| p.name.as_str()).collect();
        names.join(", ")
    }
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
    /// Who receives each periodic report by mail (`[mail]` says how).
    pub mail_to: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Schedule {
    pub cron: String,
    pub timezone: chrono_tz::Tz,
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
    // The cause is in the message, not a `source`: `{:#}` would print it twice.
    #[error("cannot read config file {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(
        "no config file found: pass -c PATH, set ${CONFIG_ENV}, or create ./retention.toml or {SYSTEM_CONFIG}"
    )]
    NotFound,
    #[error(
        "the systemd credential {} is open to others than its owner (mode {mode:04o}); run: chmod 600 {}",
        path.display(),
        path.display()
    )]
    SharedCredential { path: PathBuf, mode: u32 },
    #[error("${WALK_ENV} is `{0}`; valid: auto, index, table")]
    BadWalk(String),
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
    let bytes = std::fs::read(path).map_err(|error| ConfigError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    let env_url = match std::env::var(DATABASE_URL_ENV)
        .ok()
        .filter(|u| !u.is_empty())
    {
        Some(url) => Some(url),
        None => credential_url()?,
    };
    let mut config = parse(path, &bytes, env_url)?;
    if let Some(walk) = walk_override()? {
        for p in &mut config.policies {
            p.walk = walk;
        }
    }
    Ok(config)
}

/// `$RETENTIOND_WALK` (`auto`, `index` or `table`): every policy's `walk`, to
/// compare the walks on a database or to switch one off without editing the file.
fn walk_override() -> Result<Option<crate::policy::Walk>, ConfigError> {
    let Some(text) = std::env::var(WALK_ENV).ok().filter(|w| !w.is_empty()) else {
        return Ok(None);
    };
    match crate::policy::Walk::parse(&text) {
        Some(w) => Ok(Some(w)),
        None => Err(ConfigError::BadWalk(text)),
    }
}

/// The database URL from systemd's credentials directory, if the unit passed one.
/// systemd makes credentials 0400; one others can read is refused like `url_file`.
fn credential_url() -> Result<Option<String>, ConfigError> {
    let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") else {
        return Ok(None);
    };
    let path = Path::new(&dir).join(URL_CREDENTIAL);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    if let Some(mode) = private::shared_mode(&path) {
        return Err(ConfigError::SharedCredential { path, mode });
    }
    let url = text.trim().to_string();
    Ok((!url.is_empty()).then_some(url))
}

/// Validates config text. Pure apart from reading `url_file` and `key_file`, whose
/// paths are relative to the config file's directory.
pub fn parse(path: &Path, bytes: &[u8], env_url: Option<String>) -> Result<Config, ConfigError> {
    let sha256 = hex::encode(Sha256::digest(bytes));
    let text = std::str::from_utf8(bytes).map_err(|e| not_utf8(path, bytes, e))?;
    let base_dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut cx = Cx::new(text);
    let (root, errors) = DeTable::parse_recoverable(text);
    for e in &errors {
        let at = e.span().map(|s| s.start).unwrap_or(0);
        let message = format!("TOML syntax error: {}", e.message().trim());
        cx.problem(at..at, message, None);
    }
    if !errors.is_empty() {
        // A broken file cannot be validated any further without misleading errors.
        return Err(cx.into_error(path));
    }
    let root = root.get_ref();
    cx.check_keys(root, TOP_KEYS, "at the top level");
    let database = sections::database(&mut cx, root, &base_dir, env_url);
    let schedule = sections::schedule(&mut cx, root);
    let (key_file, hmac_key) = sections::anonymize(&mut cx, root, &base_dir);
    let limits = sections::limits(&mut cx, root);
    let stores = stores::stores(&mut cx, root, &base_dir);
    let store_names: Vec<String> = stores.iter().map(|s| s.name.clone()).collect();
    let policies = policy::policies(&mut cx, root, key_file, &store_names);
    let processors = processors::processors(&mut cx, root, &base_dir, &policies);
    let metrics_listen = sections::metrics_listen(&mut cx, root);
    let log_level = sections::log_level(&mut cx, root);
    let report = sections::report(&mut cx, root, &base_dir);
    let erasure = sections::erasure(&mut cx, root, &base_dir);
    let mail = mail::mail(&mut cx, root, &base_dir);
    let http = http::http(&mut cx, root, &base_dir);
    if report.as_ref().is_some_and(|r| !r.mail_to.is_empty()) && mail.is_none() {
        let at = walk::get(root, "report")
            .map(|i| i.span().start)
            .unwrap_or(0);
        cx.problem(
            at..at,
            "[report] mail_to needs a [mail] section: the SMTP server to send through".into(),
            Some("add [mail] with host = \"smtp.shop.example\" and from = \"retentiond@shop.example\"".into()),
        );
    }
    match database {
        Some(database) if cx.problems.is_empty() => Ok(Config {
            path: path.to_path_buf(),
            sha256,
            database,
            schedule,
            hmac_key,
            limits,
            policies,
            metrics_listen,
            log_level,
            report,
            erasure,
            mail,
            stores,
            processors,
            http,
        }),
        _ => Err(cx.into_error(path)),
    }
}

fn not_utf8(path: &Path, bytes: &[u8], e: std::str::Utf8Error) -> ConfigError {
    let valid = &bytes[..e.valid_up_to()];
    let text = String::from_utf8_lossy(valid);
    let cx = Cx::new(&text);
    ConfigError::Invalid {
        path: path.to_path_buf(),
        problems: vec![Problem {
            loc: cx.loc(valid.len()),
            message: "the file is not valid UTF-8".into(),
            help: Some("save retention.toml as UTF-8 text".into()),
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use crate::backend::{Backend, UrlSource};
    use crate::policy::Limits;

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
    fn mail_to_needs_a_mail_section_and_addresses() {
        let with_report = format!(
            "{MINIMAL}\n[report]\ndir = \"r\"\nmail_to = [\"dpo@shop.example\", \"nobody\"]\n"
        );
        let e = parse_str(&with_report).unwrap_err().to_string();
        assert!(e.contains("[report] mail_to needs a [mail] section"), "{e}");
        assert!(e.contains("`nobody` is not an e-mail address"), "{e}");
        let ok = with_report.replace(", \"nobody\"", "")
            + "\n[mail]\nhost = \"127.0.0.1\"\nsecurity = \"none\"\nfrom = \"r@shop.example\"\n";
        let c = parse_str(&ok).unwrap();
        let mail = c.mail.unwrap();
        assert_eq!((mail.port, mail.security), (25, MailSecurity::None));
        // The mail carries the CSV and JSON too: they are written.
        assert_eq!(c.report.unwrap().formats, ["html", "json", "csv"]);
        let bad = ok.replace("security = \"none\"", "security = \"ssl\"");
        assert!(
            parse_str(&bad)
                .unwrap_err()
                .to_string()
                .contains("invalid security `ssl`")
        );
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
            Backend::Sqlite.default_pause()
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
