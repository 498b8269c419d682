//! The command line's arguments, as clap parses them. No syscalls, no rules: what
//! the arguments mean is decided where each command runs.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "retentiond",
    version,
    about = "Enforces data-retention rules against a shop's SQL database"
)]
pub struct Cli {
    /// Config file [default: $RETENTIOND_CONFIG, ./retention.toml, /etc/retentiond/retention.toml]
    #[arg(short, long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Log format on stderr
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate the config, connect, and check every table and column it names
    Check {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Treat warnings (a timestamp without an index, unreadable timestamps) as errors
        #[arg(long)]
        deny_warnings: bool,
        /// Also connect to [mail]'s relay (EHLO, STARTTLS, AUTH) without sending
        #[arg(long)]
        mail: bool,
    },
    /// Dry run: per policy, the cutoff and how many rows would be purged; writes nothing
    Plan {
        #[arg(long, value_name = "NAME")]
        policy: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Run one pass now, recorded like a scheduled run
    Purge {
        #[arg(long, value_name = "NAME")]
        policy: Option<String>,
        /// Same as `plan`: count, write nothing
        #[arg(long)]
        dry_run: bool,
        /// Purge even where a policy would take more than max_table_fraction of its table
        #[arg(long)]
        force: bool,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// The daemon: passes on the [schedule], until SIGTERM (SIGHUP reloads the config)
    Run,
    /// Last pass per policy and the next scheduled run
    Status {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// The audit trail
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Legal holds: a held subject's rows are never purged or erased
    Hold {
        #[command(subcommand)]
        command: HoldCommand,
    },
    /// Register an erasure request (due in 30 days); answered at the next pass
    Erase {
        /// The subject's id, as its policies' `subject` columns hold it
        #[arg(long, required_unless_present = "reapply")]
        subject: Option<String>,
        /// Erase again every subject in the erasure ledger whose rows are back (after
        /// a restore); every pass does this first
        #[arg(long, conflicts_with_all = ["subject", "reason", "reference", "now"])]
        reapply: bool,
        /// Why; `minor` (a minor's data, deleted on discovery) is answered at once
        #[arg(long)]
        reason: Option<String>,
        /// The request's reference (a ticket number)
        #[arg(long)]
        reference: Option<String>,
        /// Answer it now instead of at the next pass
        #[arg(long)]
        now: bool,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Answer an access or portability request: every row linked to the subject
    Export {
        /// The subject's id, as its policies' `subject` columns hold it; registers a
        /// new request (due in 30 days)
        #[arg(long, required_unless_present = "request", conflicts_with = "request")]
        subject: Option<String>,
        /// Answer request N, registered earlier with --register-only
        #[arg(long, value_name = "N")]
        request: Option<i64>,
        /// What the person asked for
        #[arg(long, value_enum, default_value_t = ExportReason::Access, conflicts_with = "request")]
        reason: ExportReason,
        /// The request's reference (a ticket number)
        #[arg(long, conflicts_with = "request")]
        reference: Option<String>,
        /// Only register the request; answer it later with --request
        #[arg(long, conflicts_with = "request")]
        register_only: bool,
        /// One JSON document, or a directory of CSV files with manifest.json
        #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
        format: ExportFormat,
        /// The file (json) or directory (csv) to create [json default: standard output]
        #[arg(short, long, value_name = "PATH")]
        output: Option<PathBuf>,
    },
    /// A purge report for a period, for the data-protection officer
    Report {
        /// First day (YYYY-MM-DD) [default: the first day of last month]
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Last day, inclusive (YYYY-MM-DD) [default: today with --from, else the last day of last month]
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
        #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
        format: ReportFormat,
        /// Write to FILE instead of standard output
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Show the subject ids of legal holds (personal data: off by default)
        #[arg(long)]
        include_subjects: bool,
    },
    /// Draft a commented retention.toml from the live schema; writes nothing to the database
    Init {
        /// The database to read [default: $RETENTIOND_DATABASE_URL]
        #[arg(long, env = "RETENTIOND_DATABASE_URL", hide_env_values = true)]
        url: String,
        /// The file to write
        #[arg(short, long, value_name = "FILE", default_value = "retention.toml")]
        output: PathBuf,
        /// Overwrite FILE if it exists
        #[arg(long)]
        force: bool,
    },
    /// Write the man page or a shell completion script to standard output (for packagers)
    #[command(hide = true)]
    Generate {
        #[arg(value_enum)]
        what: Generated,
        /// For `man`: the directory the pages are written to (retentiond.1 and one per subcommand)
        #[arg(long, value_name = "DIR", required_if_eq("what", "man"))]
        out_dir: Option<PathBuf>,
    },
    /// Create or upgrade retentiond's own tables
    Migrate {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// The request API's bearer tokens ([http] tokens_file)
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Create a sample shop on SQLite with 12 years of data and purge it with the config
    Demo {
        /// Where to create the shop [default: the SQLite file the config's url names]
        #[arg(long, value_name = "PATH")]
        db: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Generated {
    /// retentiond(1) and a page per subcommand, roff, into --out-dir
    Man,
    CompleteBash,
    CompleteZsh,
    CompleteFish,
    /// The request API's OpenAPI document ([http]), JSON
    Openapi,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportReason {
    /// The right of access: a copy of the data held on the person
    Access,
    /// Data portability: the data in a form another service can read
    Portability,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Json,
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Markdown,
    Html,
    Csv,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum HoldCommand {
    /// Put a subject's rows under a legal hold
    Add {
        /// The subject's id, as its policies' `subject` columns hold it
        #[arg(long)]
        subject: String,
        /// Why (a case number, a lawsuit); shown in reports
        #[arg(long)]
        reason: String,
        /// Only this policy [default: every policy with a subject column]
        #[arg(long, value_name = "NAME")]
        policy: Option<String>,
        /// The last day the hold applies (YYYY-MM-DD) [default: until released]
        #[arg(long, value_name = "DATE")]
        until: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Every hold, active and released
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// End a hold; rows whose period ran out meanwhile go at the next pass
    Release {
        id: i64,
        #[arg(long)]
        reason: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

/// The file tokens live in when --file is not given (the Debian package's).
pub const TOKENS_FILE: &str = "/etc/retentiond/api-tokens";

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token, print it once, and store its hash
    Add {
        /// Who holds it: shown in the audit events of what it changes
        name: String,
        /// app: file requests and read them; dpo: everything but the config; ops: status and metrics
        #[arg(long, value_enum)]
        role: TokenRole,
        #[arg(long, value_name = "PATH", default_value = TOKENS_FILE)]
        file: PathBuf,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// The tokens' names and roles (never the tokens)
    List {
        #[arg(long, value_name = "PATH", default_value = TOKENS_FILE)]
        file: PathBuf,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Remove a token; refused once the daemon reloads
    Remove {
        name: String,
        #[arg(long, value_name = "PATH", default_value = TOKENS_FILE)]
        file: PathBuf,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenRole {
    App,
    Dpo,
    Ops,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain and name the first broken event
    Verify {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

impl Command {
    /// The log level when RUST_LOG is not set: passes log each policy at INFO; the
    /// read-only commands keep stderr to warnings.
    pub fn default_log_level(&self) -> &'static str {
        match self {
            Command::Purge { dry_run: false, .. } | Command::Migrate { .. } | Command::Run => {
                "info"
            }
            // One statement reads a subject's whole table: sqlx's slow-statement
            // warning would only alarm.
            Command::Export { .. } => "warn,sqlx::query=error",
            _ => "warn",
        }
    }
}
