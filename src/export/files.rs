//! The person's files in an export (a scan, an upload): copied into a folder of
//! the export (mode 0700, each file 0600), one subfolder per table, and listed in
//! the document or manifest with the row and column that pointed to them.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::private_file;
use crate::engine::ExportedFile;

/// Where an export's files are written, and the list of them.
pub struct FilesDir {
    dir: PathBuf,
    /// The folder's name as the listing gives it, relative to the export.
    prefix: String,
    pub entries: Vec<Value>,
}

/// A name that is safe on any file system: letters, digits, `_`, `-` and `.`.
fn safe(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '_' | '-' | '.' => c,
            _ => '_',
        })
        .collect();
    s.trim_start_matches('.').chars().take(100).collect()
}

impl FilesDir {
    /// A folder at `dir` (created 0700 when the first file comes), listed as
    /// `prefix/...`.
    pub fn new(dir: PathBuf, prefix: &str) -> FilesDir {
        FilesDir {
            dir,
            prefix: prefix.to_string(),
            entries: Vec::new(),
        }
    }

    fn make(dir: &Path) -> io::Result<()> {
        if !dir.exists() {
            fs::create_dir(dir)?;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }

    /// Writes `f`'s bytes (or lists why there are none).
    pub fn add(&mut self, f: &ExportedFile<'_>) -> io::Result<()> {
        let mut entry = json!({
            "table": f.table,
            "row": f.row,
            "column": f.column,
            "path": f.path,
        });
        match &f.content {
            Ok(bytes) => {
                Self::make(&self.dir)?;
                let table_dir = self.dir.join(safe(f.table));
                Self::make(&table_dir)?;
                let base = f.path.rsplit(['/', '\\']).next().unwrap_or("");
                let name = format!("{:06}-{}-{}", f.row, safe(f.column), safe(base));
                let mut out = private_file(&table_dir.join(&name))?;
                out.write_all(bytes)?;
                out.sync_all()?;
                entry["file"] = json!(format!("{}/{}/{name}", self.prefix, safe(f.table)));
                entry["bytes"] = json!(bytes.len());
                entry["sha256"] = json!(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes)));
            }
            Err(why) => entry["not_included"] = json!(why),
        }
        self.entries.push(entry);
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }
}
