//! Where an access or portability export is written: one JSON document (a file or
//! standard output), or a directory of CSV files with a manifest. Files are created
//! with mode 0600, as a complete whole or not at all. The rows themselves come from
//! the engine ([`crate::engine::answer_export`]).

mod csv;
mod json;
mod values;

use std::fs;
use std::io;
use std::path::Path;

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
        // NamedTempFile is created 0600.
        let file = tempfile::Builder::new()
            .prefix(".retentiond-export-")
            .tempfile_in(dir)?;
        Ok(JsonFile {
            sink: JsonSink::new(io::BufWriter::new(file)),
        })
    }

    pub fn sink(&mut self) -> &mut JsonSink<io::BufWriter<tempfile::NamedTempFile>> {
        &mut self.sink
    }

    /// Moves the complete export to `path`.
    pub fn persist(self, path: &Path) -> io::Result<()> {
        let file = self
            .sink
            .into_inner()
            .into_inner()
            .map_err(|e| e.into_error())?;
        file.as_file().sync_all()?;
        file.persist_noclobber(path).map(drop).map_err(|e| e.error)
    }
}
