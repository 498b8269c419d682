//! The demo's uploads folder: one small stand-in scan per KYC document, in the
//! local store the config's KYC policy names, so that a purge removes real files.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::files::StoreLocation;

/// Left in the folder so that `demo` only ever empties a folder it filled itself.
const MARKER: &str = ".retentiond-demo";

#[derive(Debug, thiserror::Error)]
pub enum UploadsError {
    #[error(
        "{0} exists, is not empty and was not made by `retentiond demo`; point [stores] in the config at another directory"
    )]
    NotADemo(String),
    #[error("cannot prepare the demo uploads folder {path}: {error}")]
    Io { path: String, error: std::io::Error },
}

/// The directory of the local store that a policy on `table` keeps its files in.
pub fn folder_for(config: &Config, table: &str) -> Option<PathBuf> {
    let store = config
        .policies
        .iter()
        .filter(|p| p.table.name == table)
        .flat_map(|p| p.files.iter())
        .map(|f| f.store.as_str())
        .next()?;
    config
        .stores
        .iter()
        .find(|s| s.name == store)
        .and_then(|s| match &s.location {
            StoreLocation::Directory(dir) => Some(dir.clone()),
            StoreLocation::Bucket(_) => None,
        })
}

/// Empties `dir` (only if an earlier demo filled it) and writes a file at each
/// of `paths`, relative to it. Returns how many bytes were written.
pub fn fill(dir: &Path, paths: impl Iterator<Item = String>) -> Result<u64, UploadsError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |error| UploadsError::Io { path, error }
    };
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(io(dir))?;
        let empty = entries.next().is_none();
        if !empty && !dir.join(MARKER).exists() {
            return Err(UploadsError::NotADemo(dir.display().to_string()));
        }
        std::fs::remove_dir_all(dir).map_err(io(dir))?;
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    std::fs::write(dir.join(MARKER), "made by `retentiond demo`\n").map_err(io(dir))?;
    let mut bytes = 0;
    for relative in paths {
        let path = dir.join(&relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        // A stand-in, not a scan: a PDF header and the file's own name.
        let body = format!("%PDF-1.4\n% retentiond demo: stand-in for {relative}\n%%EOF\n");
        std::fs::write(&path, &body).map_err(io(&path))?;
        bytes += body.len() as u64;
    }
    Ok(bytes)
}
