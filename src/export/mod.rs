//! Where an access or portability export is written: one JSON document (a file or
//! standard output), or a directory of CSV files with a manifest. Files are created
//! with mode 0600, as a complete whole or not at all. The rows themselves come from
//! the engine ([`crate::engine::answer_export`]).

mod csv;
mod files;
mod json;
mod values;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

pub use csv::CsvSink;
pub use json::{FORMAT, JsonSink};

/// How values are written, as the document and the manifest say it.
fn encoding(csv: bool) -> Value {
    let mut e = json!({
        "timestamps": "RFC 3339: as stored when stored so, else in UTC; a date alone as YYYY-MM-DD; epoch seconds stored as numbers stay numbers",
        "numbers": "as numbers; decimals with the database's digits in CSV, as JSON numbers (double precision) in JSON",
        "binary": "base64 (RFC 4648, with padding)",
        "null": "null",
    });
    if csv {
        e["null"] = json!("an empty field; an empty text is written as \"\"");
        e["files"] = json!("RFC 4180, UTF-8, CRLF line ends, a header row of column names");
    }
    e
}

/// A new file at `path` that only its owner can read, refused if `path` exists.
fn private_file(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// A JSON export into the file `path`: written beside it under a temporary name
/// (mode 0600) and renamed into place once complete. Refuses an existing `path`.
pub struct JsonFile {
    sink: JsonSink<io::BufWriter<tempfile::NamedTempFile>>,
    /// Where the person's files are written until the export is complete.
    files: tempfile::TempDir,
}

impl JsonFile {
    pub fn create(path: &Path) -> io::Result<JsonFile> {
        if path.exists() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "{} exists; an export never overwrites a file",
                    path.display()
                ),
            ));
        }
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        // NamedTempFile is created 0600; a TempDir 0700.
        let file = tempfile::Builder::new()
            .prefix(".retentiond-export-")
            .tempfile_in(dir)?;
        let files = tempfile::Builder::new()
            .prefix(".retentiond-export-files-")
            .tempdir_in(dir)?;
        let listed = format!(
            "{}.files",
            path.file_name().unwrap_or_default().to_string_lossy()
        );
        let into = files::FilesDir::new(files.path().join("files"), &listed);
        Ok(JsonFile {
            sink: JsonSink::with_files(io::BufWriter::new(file), into),
            files,
        })
    }

    pub fn sink(&mut self) -> &mut JsonSink<io::BufWriter<tempfile::NamedTempFile>> {
        &mut self.sink
    }

    /// Moves the complete export to `path`, and its files (if any) to `path.files`.
    pub fn persist(self, path: &Path) -> io::Result<()> {
        let (out, files) = self.sink.into_parts();
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.as_file().sync_all()?;
        if let Some(files) = files.filter(|f| !f.entries.is_empty()) {
            let target = PathBuf::from(format!("{}.files", path.display()));
            if target.exists() {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!(
                        "{} exists; an export never overwrites a file",
                        target.display()
                    ),
                ));
            }
            fs::rename(files.path(), &target)?;
        }
        drop(self.files);
        file.persist_noclobber(path).map(drop).map_err(|e| e.error)
    }
}
