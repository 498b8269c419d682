//! The export as a directory: one CSV file per table (RFC 4180, a header of column
//! names) and `manifest.json`, which says what each file holds and how its values
//! are encoded. Written into a hidden directory beside the target and renamed when
//! complete, so that an export that fails leaves nothing half-written.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::files::FilesDir;
use super::json::{FORMAT, table_description};
use super::{encoding, private_file, values};
use crate::db::{ExportColumn, SqlValue, TableCount};
use crate::engine::{ExportHeader, ExportedFile, Sink, TableSection};

pub struct CsvSink {
    target: PathBuf,
    dir: Option<tempfile::TempDir>,
    header: Value,
    tables: Vec<Value>,
    file: Option<BufWriter<fs::File>>,
    /// The person's files, once the first comes.
    files: Option<FilesDir>,
}

impl CsvSink {
    /// An export into `target`, a directory that must not exist or be empty.
    pub fn create(target: &Path) -> io::Result<CsvSink> {
        if let Ok(mut entries) = fs::read_dir(target)
            && entries.next().is_some()
        {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not empty", target.display()),
            ));
        }
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let dir = tempfile::Builder::new()
            .prefix(".retentiond-export-")
            .tempdir_in(parent)?;
        // Only its owner may list the export.
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700))?;
        Ok(CsvSink {
            target: target.to_path_buf(),
            dir: Some(dir),
            header: Value::Null,
            tables: Vec::new(),
            file: None,
            files: None,
        })
    }

    fn dir(&self) -> &Path {
        self.dir.as_ref().expect("open until finished").path()
    }

    /// A file name for `table` that is safe on any filesystem and not taken yet.
    fn file_name(&self, table: &str) -> String {
        let safe: String = table
            .chars()
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '_' | '-' | '.' => c,
                _ => '_',
            })
            .collect();
        let taken = |name: &str| self.tables.iter().any(|t| t["file"] == name);
        let mut name = format!("{safe}.csv");
        let mut n = 2;
        while taken(&name) {
            name = format!("{safe}-{n}.csv");
            n += 1;
        }
        name
    }

    fn out(&mut self) -> &mut BufWriter<fs::File> {
        self.file.as_mut().expect("a table is open")
    }
}

/// One CSV field: quoted when it holds a separator, a quote, a line break or
/// nothing at all, so that an empty text stays apart from NULL (an empty field).
fn field(v: Option<&str>) -> String {
    match v {
        None => String::new(),
        Some(s) if s.is_empty() || s.contains([',', '"', '\n', '\r']) => {
            format!("\"{}\"", s.replace('"', "\"\""))
        }
        Some(s) => s.to_string(),
    }
}

fn line(out: &mut impl Write, fields: impl Iterator<Item = String>) -> io::Result<()> {
    let fields: Vec<String> = fields.collect();
    out.write_all(fields.join(",").as_bytes())?;
    out.write_all(b"\r\n")
}

impl Sink for CsvSink {
    fn begin(&mut self, header: &ExportHeader) -> io::Result<()> {
        self.header = json!(header);
        Ok(())
    }

    fn table(&mut self, t: &TableSection<'_>) -> io::Result<()> {
        let name = self.file_name(t.table);
        let file = private_file(&self.dir().join(&name))?;
        let mut description = table_description(t);
        description["file"] = json!(name);
        self.tables.push(description);
        let mut out = BufWriter::new(file);
        line(&mut out, t.columns.iter().map(|c| field(Some(&c.name))))?;
        self.file = Some(out);
        Ok(())
    }

    fn rows(&mut self, columns: &[ExportColumn], rows: &[Vec<SqlValue>]) -> io::Result<()> {
        let out = self.out();
        for row in rows {
            let fields = columns
                .iter()
                .zip(row)
                .map(|(c, v)| field(values::csv(c.kind, v).as_deref()));
            line(out, fields)?;
        }
        Ok(())
    }

    fn end_table(&mut self, rows: u64) -> io::Result<()> {
        let mut out = self.file.take().expect("a table is open");
        out.flush()?;
        out.get_ref().sync_all()?;
        if let Some(t) = self.tables.last_mut() {
            t["rows"] = json!(rows);
        }
        Ok(())
    }

    fn file(&mut self, file: &ExportedFile<'_>) -> io::Result<()> {
        if self.files.is_none() {
            self.files = Some(FilesDir::new(self.dir().join("files"), "files"));
        }
        self.files.as_mut().expect("made above").add(file)
    }

    fn finish(&mut self, counts: &[TableCount]) -> io::Result<()> {
        let mut manifest = json!({
            "format": FORMAT,
            "request": self.header,
            "encoding": encoding(true),
            "tables": self.tables,
            "row_count": counts.iter().map(|c| c.rows).sum::<u64>(),
        });
        if let Some(files) = &self.files {
            manifest["files"] = json!(files.entries);
        }
        let mut out = private_file(&self.dir().join("manifest.json"))?;
        let text = serde_json::to_string_pretty(&manifest).map_err(io::Error::other)?;
        out.write_all(text.as_bytes())?;
        out.write_all(b"\n")?;
        out.sync_all()?;
        let dir = self.dir.take().expect("finished once").keep();
        // An empty directory in the way (made for the export) gives way to it.
        if self.target.is_dir() {
            fs::remove_dir(&self.target)?;
        }
        fs::rename(&dir, &self.target)
    }
}
