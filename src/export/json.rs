//! The export as one JSON document, written as the rows arrive: the request, how
//! values are encoded, then per table its link to the person, the policies and
//! legal basis that govern it, its columns, and its rows as objects.

use std::io::{self, Write};

use serde_json::{Value, json};

use super::files::FilesDir;
use super::{encoding, values};
use crate::db::{ExportColumn, SqlValue, TableCount};
use crate::engine::{ExportHeader, ExportedFile, Sink, TableSection};

/// The export format's name and version, first in every document and manifest.
pub const FORMAT: &str = "retentiond-export/1";

pub struct JsonSink<W: Write> {
    out: W,
    tables: u64,
    rows_in_table: u64,
    /// Where the person's files go; none for standard output.
    files: Option<FilesDir>,
}

impl<W: Write> JsonSink<W> {
    pub fn new(out: W) -> JsonSink<W> {
        JsonSink {
            out,
            tables: 0,
            rows_in_table: 0,
            files: None,
        }
    }

    /// A document whose rows' files are copied into `files`.
    pub fn with_files(out: W, files: FilesDir) -> JsonSink<W> {
        JsonSink {
            files: Some(files),
            ..JsonSink::new(out)
        }
    }

    pub fn into_parts(self) -> (W, Option<FilesDir>) {
        (self.out, self.files)
    }
}

/// `"key": value` of a JSON object, without the braces.
fn member(key: &str, value: &Value) -> String {
    format!("{}: {}", Value::from(key), value)
}

/// A table's description, as in the document and in a CSV export's manifest.
pub fn table_description(t: &TableSection<'_>) -> Value {
    let columns: Vec<Value> = t
        .columns
        .iter()
        .map(|c| json!({"name": c.name, "type": c.declared, "kind": c.kind}))
        .collect();
    json!({
        "table": t.table,
        "linked_by": t.link,
        "policies": t.policies,
        "columns": columns,
    })
}

impl<W: Write> Sink for JsonSink<W> {
    fn begin(&mut self, header: &ExportHeader) -> io::Result<()> {
        writeln!(self.out, "{{")?;
        writeln!(self.out, "  {},", member("format", &json!(FORMAT)))?;
        writeln!(self.out, "  {},", member("request", &json!(header)))?;
        writeln!(self.out, "  {},", member("encoding", &encoding(false)))?;
        write!(self.out, "  \"tables\": [")
    }

    fn table(&mut self, t: &TableSection<'_>) -> io::Result<()> {
        let description = table_description(t);
        let Value::Object(fields) = description else {
            unreachable!("a table's description is an object")
        };
        let sep = if self.tables == 0 { "" } else { "," };
        write!(self.out, "{sep}\n    {{")?;
        for (key, value) in &fields {
            write!(self.out, "\n      {},", member(key, value))?;
        }
        write!(self.out, "\n      \"rows\": [")?;
        self.tables += 1;
        self.rows_in_table = 0;
        Ok(())
    }

    fn rows(&mut self, columns: &[ExportColumn], rows: &[Vec<SqlValue>]) -> io::Result<()> {
        for row in rows {
            let sep = if self.rows_in_table == 0 { "" } else { "," };
            write!(self.out, "{sep}\n        {{")?;
            for (i, (c, v)) in columns.iter().zip(row).enumerate() {
                let sep = if i == 0 { "" } else { ", " };
                let value = values::json(c.kind, v);
                write!(self.out, "{sep}{}", member(&c.name, &value))?;
            }
            write!(self.out, "}}")?;
            self.rows_in_table += 1;
        }
        Ok(())
    }

    fn end_table(&mut self, rows: u64) -> io::Result<()> {
        let indent = if rows == 0 { "" } else { "\n      " };
        write!(self.out, "{indent}],\n      \"row_count\": {rows}\n    }}")
    }

    fn file(&mut self, file: &ExportedFile<'_>) -> io::Result<()> {
        match &mut self.files {
            Some(files) => files.add(file),
            None => Err(io::Error::other(
                "the person's rows point to files, which standard output cannot carry: give -o PATH",
            )),
        }
    }

    fn finish(&mut self, counts: &[TableCount]) -> io::Result<()> {
        let total: u64 = counts.iter().map(|c| c.rows).sum();
        let indent = if counts.is_empty() { "" } else { "\n  " };
        write!(self.out, "{indent}],")?;
        if let Some(files) = self.files.as_ref().filter(|f| !f.entries.is_empty()) {
            let list = serde_json::to_string(&files.entries).map_err(io::Error::other)?;
            write!(self.out, "\n  \"files\": {list},")?;
        }
        writeln!(self.out, "\n  \"row_count\": {total}\n}}")?;
        self.out.flush()
    }
}
