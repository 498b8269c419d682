//! Answering an access or portability request: every row linked to the subject, in
//! each table a policy with a `subject` names (once per table, however many
//! policies share it) and in those policies' `cascade` children, read page by page
//! inside one snapshot per table and handed to a [`Sink`] as it comes, so that memory
//! stays flat. Rows under a legal hold are exported too: access is not erasure.

use std::io;

use serde::Serialize;

use super::deliveries;
use super::journal;
use super::requests::RequestError;
use super::targets::Targets;
use crate::audit::EventAction;
use crate::config::Config;
use crate::db::{
    self, Db, DbError, ExportColumn, Link, PrivacyRequest, SqlValue, TableCount, Target,
};
use crate::files::{Stores, Unreadable};
use crate::outcome::{DeliveryState, RequestKind, RequestStatus};
use crate::policy::{Action, Basis, Policy};

/// Rows handed to the sink at a time, as the database sends them.
pub const PAGE_ROWS: usize = 1000;

/// What the export's header says: the request, and what the rows were read from.
#[derive(Debug, Clone, Serialize)]
pub struct ExportHeader {
    pub request: i64,
    pub kind: RequestKind,
    pub subject: String,
    pub received_at: String,
    pub due_at: String,
    /// The database's clock when reading began.
    pub database_time: String,
    pub database: String,
    pub config_path: String,
    pub config_sha256: String,
}

/// A policy that governs an exported table, and on what legal basis.
#[derive(Debug, Clone, Serialize)]
pub struct Governing {
    pub policy: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub basis: Option<Basis>,
    pub keep: String,
    pub action: Action,
}

/// One exported table, before its rows.
#[derive(Debug, Clone)]
pub struct TableSection<'a> {
    pub table: &'a str,
    pub link: &'a Link,
    pub columns: &'a [ExportColumn],
    pub policies: &'a [Governing],
}

/// A file an exported row points to (a scan, an upload), with its bytes, or why it
/// is not in the export.
#[derive(Debug)]
pub struct ExportedFile<'a> {
    pub table: &'a str,
    /// The row's place in its table's rows, from 1.
    pub row: u64,
    pub column: &'a str,
    /// The path or key as the row holds it: the person's own data.
    pub path: &'a str,
    pub content: Result<Vec<u8>, String>,
}

/// Where an export's rows go: a JSON document, a directory of CSV files. Called in
/// order: `begin`, then per table `table`, `rows` any number of times, `end_table`
/// and `file` for each file its rows point to; `finish` once everything was read.
/// A sink that fails leaves the request open.
pub trait Sink {
    fn begin(&mut self, header: &ExportHeader) -> io::Result<()>;
    fn table(&mut self, section: &TableSection<'_>) -> io::Result<()>;
    fn rows(&mut self, columns: &[ExportColumn], rows: &[Vec<SqlValue>]) -> io::Result<()>;
    fn end_table(&mut self, rows: u64) -> io::Result<()>;
    fn file(&mut self, file: &ExportedFile<'_>) -> io::Result<()>;
    fn finish(&mut self, counts: &[TableCount]) -> io::Result<()>;
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("cannot export: {0}")]
    Schema(String),
    #[error("cannot write the export: {0}")]
    Write(#[from] io::Error),
    #[error("cannot queue the request for the processors: {0}")]
    Forward(String),
}

/// How a request was answered: the rows per table.
#[derive(Debug, Clone, Serialize)]
pub struct ExportAnswer {
    pub id: i64,
    pub kind: RequestKind,
    pub tables: Vec<TableCount>,
}

impl ExportAnswer {
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }
}

/// A table to read: the policy target that reads it, which of its cascade children
/// (None: its own rows), and what governs it.
struct Source {
    target: Target,
    child: Option<usize>,
    table: String,
    link: Link,
    columns: Vec<ExportColumn>,
    policies: Vec<Governing>,
}

/// Answers open request `id` (access or portability) into `sink`, and records the
/// answer: counts per table in the register, and an audit event.
pub async fn answer_export(
    db: &mut Db,
    config: &Config,
    id: i64,
    sink: &mut impl Sink,
) -> Result<ExportAnswer, ExportError> {
    let request = open_export(db, id).await?;
    let sources = sources(db, config).await?;
    sink.begin(&ExportHeader {
        request: id,
        kind: request.received.kind,
        subject: request.received.subject.clone(),
        received_at: request.received.received_at.clone(),
        due_at: request.received.due_at.clone(),
        database_time: db::rfc3339(db.now().await?),
        database: db.label().to_string(),
        config_path: config.path.display().to_string(),
        config_sha256: config.sha256.clone(),
    })?;
    let subject = request.received.subject.as_str();
    let stores = Stores::open(&config.stores);
    let mut counts = Vec::new();
    // A table and its cascade children are read in one snapshot, so that every
    // child found belongs to a parent row exported.
    let mut i = 0;
    while i < sources.len() {
        let group = sources[i..]
            .iter()
            .take_while(|s| s.target.table_name == sources[i].target.table_name)
            .count();
        let read = &sources[i..i + group];
        counts.extend(
            db.read_snapshot(async |db: &mut Db| {
                let mut counts = Vec::new();
                for s in read {
                    counts.push(read_source(db, s, subject, &stores, sink).await?);
                }
                Ok::<_, ExportError>(counts)
            })
            .await?,
        );
        i += group;
    }
    sink.finish(&counts)?;
    // Queued before the answer is recorded: a crash in between leaves the request
    // open, and answering it again queues nothing twice.
    let now = db.now().await?;
    deliveries::queue(
        db,
        config,
        &mut Targets::default(),
        &request,
        DeliveryState::Due,
        now,
    )
    .await
    .map_err(ExportError::Forward)?;
    record_answer(db, &request, &counts).await?;
    Ok(ExportAnswer {
        id,
        kind: request.received.kind,
        tables: counts,
    })
}

async fn open_export(db: &mut Db, id: i64) -> Result<PrivacyRequest, RequestError> {
    let request = db
        .privacy_request(id)
        .await?
        .ok_or(RequestError::Unknown(id))?;
    if !request.received.kind.is_export() {
        return Err(RequestError::NotAnExport {
            id,
            found: request.received.kind,
        });
    }
    if request.status != RequestStatus::Open {
        let at = request.processed_at.clone().unwrap_or_default();
        return Err(RequestError::Answered(id, at));
    }
    Ok(request)
}

/// Every table to read, policy tables in config order, each followed by its
/// cascade children. A table is read once, by the first policy that links it to a
/// subject; a child that is itself such a table is read by its own subject column.
async fn sources(db: &mut Db, config: &Config) -> Result<Vec<Source>, ExportError> {
    db.forget_catalog();
    let governing = |table: &str| -> Vec<Governing> {
        config
            .policies
            .iter()
            .filter(|p| same_table(&p.table.name, table))
            .map(governing)
            .collect()
    };
    let mut checked = Targets::default();
    let mut targets = Vec::new();
    for p in config.policies.iter().filter(|p| p.subject.is_some()) {
        if targets
            .iter()
            .any(|t: &Target| same_table(&t.table_name, &p.table.name))
        {
            continue;
        }
        targets.push(
            checked
                .get(db, config, p)
                .await
                .map_err(ExportError::Schema)?,
        );
    }
    let mut sources: Vec<Source> = Vec::new();
    for target in &targets {
        let Some(link) = target.export_link() else {
            continue;
        };
        let mut policies = governing(&target.table_name);
        let children = target.export_children();
        sources.push(Source {
            target: target.clone(),
            child: None,
            table: target.table_name.clone(),
            link,
            columns: target.export_columns().to_vec(),
            policies: std::mem::take(&mut policies),
        });
        for (n, (table, columns, link)) in children.into_iter().enumerate() {
            let own = targets.iter().any(|t| same_table(&t.table_name, &table));
            let seen = sources
                .iter()
                .any(|s| same_table(&s.table, &table) && s.link == link);
            if own || seen {
                continue;
            }
            let mut policies = governing(&table);
            // The parent's policy decides when a child row goes: it is deleted with
            // its parent.
            policies.extend(governing(&target.table_name));
            sources.push(Source {
                target: target.clone(),
                child: Some(n),
                table,
                link,
                columns: columns.to_vec(),
                policies,
            });
        }
    }
    Ok(sources)
}

fn same_table(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn governing(p: &Policy) -> Governing {
    Governing {
        policy: p.name.clone(),
        description: p.description.clone(),
        basis: p.basis,
        keep: p.keep_as_written.clone(),
        action: p.action,
    }
}

/// Streams one table's rows of `subject` into `sink`.
async fn read_source(
    db: &mut Db,
    s: &Source,
    subject: &str,
    stores: &Stores,
    sink: &mut impl Sink,
) -> Result<TableCount, ExportError> {
    sink.table(&TableSection {
        table: &s.table,
        link: &s.link,
        columns: &s.columns,
        policies: &s.policies,
    })?;
    let mut rows = 0u64;
    // (row, column, store, path) of each file a row points to, copied once the
    // rows are written: the paths of one person's rows.
    let file_columns = s.target.export_file_columns(s.child);
    let mut files: Vec<(u64, &str, &str, String)> = Vec::new();
    s.target
        .export_rows(db, subject, s.child, PAGE_ROWS, &mut |chunk| {
            for (n, row) in chunk.iter().enumerate() {
                for (at, column, store) in &file_columns {
                    if let Some(path) = row.get(*at).and_then(SqlValue::to_text) {
                        files.push((rows + n as u64 + 1, column, store, path));
                    }
                }
            }
            rows += chunk.len() as u64;
            sink.rows(&s.columns, &chunk).map_err(ExportError::Write)
        })
        .await?;
    sink.end_table(rows)?;
    for (row, column, store, path) in &files {
        let content = match stores.get(store) {
            Ok(st) => st.read(path).await.map_err(|e| match e {
                Unreadable::Missing => "not in its store".to_string(),
                Unreadable::Refused(why) => format!("refused: {why}"),
                Unreadable::Failed(why) => format!("the store did not answer: {why}"),
            }),
            Err(e) => Err(e.to_string()),
        };
        sink.file(&ExportedFile {
            table: &s.table,
            row: *row,
            column,
            path,
            content,
        })?;
    }
    Ok(TableCount {
        table: s.table.clone(),
        rows,
    })
}

/// The register says what was exported (counts, never values), and so does the
/// audit trail.
async fn record_answer(
    db: &mut Db,
    request: &PrivacyRequest,
    counts: &[TableCount],
) -> Result<(), DbError> {
    let at = db::rfc3339(db.now().await?);
    db.finish_export(request.id, &at, counts).await?;
    let tables: Vec<String> = counts
        .iter()
        .map(|c| format!("{} {}", c.table, c.rows))
        .collect();
    let mut event = journal::outside_pass(
        EventAction::Exported,
        None,
        &at,
        format!(
            "{} request #{} answered: {}",
            request.received.kind,
            request.id,
            if tables.is_empty() {
                "no rows".to_string()
            } else {
                tables.join(", ")
            }
        ),
    );
    event.rows = counts.iter().map(|c| c.rows as i64).sum();
    journal::append(db, event).await
}
