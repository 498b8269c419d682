//! Answered access and portability requests waiting to be downloaded through the
//! API: written to a private folder, handed out once and then deleted, and
//! deleted unread after `export_keep`. Each deletion is an audit event.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};

use super::journal::{self, Actor};
use crate::audit::EventAction;
use crate::db::{self, Db, DbError};

/// Where request `id`'s export waits.
pub fn download_path(dir: &Path, id: i64) -> PathBuf {
    dir.join(format!("request-{id}.json"))
}

/// An export that can be downloaded, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub path: PathBuf,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error(
        "request #{0} has no export waiting: it was downloaded already, expired, or not answered through the API"
    )]
    NoneWaiting(i64),
    #[error("cannot read or remove the export of request #{id}: {error}")]
    Io { id: i64, error: std::io::Error },
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Creates `dir` mode 0700 if need be: where answers wait.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// The export of request `id` waiting in `dir`, if any and not expired.
pub fn waiting(dir: &Path, id: i64, keep: Duration) -> Option<Waiting> {
    let path = download_path(dir, id);
    let written = std::fs::metadata(&path).ok()?.modified().ok()?;
    let expires = written + keep;
    (expires > SystemTime::now()).then(|| Waiting {
        path,
        expires_at: DateTime::<Utc>::from(expires),
    })
}

/// An export handed out: the JSON document, or a ZIP of it and the person's
/// files when rows pointed to files.
#[derive(Debug)]
pub struct Download {
    pub bytes: Vec<u8>,
    pub zip: bool,
}

/// Hands out request `id`'s export and deletes it (and the folder of the person's
/// files beside it): a second download finds nothing. Recorded with who took it.
pub async fn take(
    db: &mut Db,
    dir: &Path,
    id: i64,
    keep: Duration,
    actor: &Actor,
) -> Result<Download, DownloadError> {
    let w = waiting(dir, id, keep).ok_or(DownloadError::NoneWaiting(id))?;
    let io = |error| DownloadError::Io { id, error };
    let files = files_dir(&w.path);
    let download = if files.is_dir() {
        Download {
            bytes: zip_with_files(&w.path, &files).map_err(io)?,
            zip: true,
        }
    } else {
        Download {
            bytes: std::fs::read(&w.path).map_err(io)?,
            zip: false,
        }
    };
    let bytes = &download.bytes;
    // Removed before it is sent: a download cut short is not offered again, as
    // the promise is "once".
    remove(&w.path).map_err(io)?;
    let detail = format!(
        "the export of request #{id} ({} bytes) was downloaded and deleted{}",
        bytes.len(),
        actor.words()
    );
    let now = db::rfc3339(Utc::now());
    let event = journal::outside_pass(EventAction::ExportDownloaded, None, &now, detail);
    journal::append(db, event).await?;
    Ok(download)
}

fn files_dir(path: &Path) -> PathBuf {
    PathBuf::from(format!("{}.files", path.display()))
}

/// The document and every file under `files`, stored (the scans and PDFs a
/// person's rows point to are compressed already), named as on disk.
fn zip_with_files(json: &Path, files: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Write as _;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let base = json.parent().unwrap_or(Path::new("."));
    let mut todo = vec![json.to_path_buf()];
    let mut dirs = vec![files.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d)? {
            let p = entry?.path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                todo.push(p);
            }
        }
    }
    for p in todo {
        let name = p
            .strip_prefix(base)
            .unwrap_or(&p)
            .to_string_lossy()
            .into_owned();
        zip.start_file(name, options)
            .map_err(std::io::Error::other)?;
        zip.write_all(&std::fs::read(&p)?)?;
    }
    Ok(zip.finish().map_err(std::io::Error::other)?.into_inner())
}

fn remove(path: &Path) -> std::io::Result<()> {
    std::fs::remove_file(path)?;
    let files = files_dir(path);
    match std::fs::remove_dir_all(&files) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Deletes every export in `dir` older than `keep`, each recorded; returns how
/// many. A folder that does not exist holds none.
pub async fn sweep(db: &mut Db, dir: &Path, keep: Duration) -> Result<usize, DownloadError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(0);
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(id) = name
            .strip_prefix("request-")
            .and_then(|n| n.strip_suffix(".json"))
            .and_then(|n| n.parse::<i64>().ok())
        else {
            continue;
        };
        if waiting(dir, id, keep).is_some() {
            continue;
        }
        remove(&entry.path()).map_err(|error| DownloadError::Io { id, error })?;
        let detail = format!(
            "the export of request #{id} was deleted unread after {} h",
            keep.as_secs() / 3600
        );
        let now = db::rfc3339(Utc::now());
        let event = journal::outside_pass(EventAction::ExportExpired, None, &now, detail);
        journal::append(db, event).await?;
        removed += 1;
    }
    Ok(removed)
}
