//! `retentiond init`: draft a retention.toml from the live schema. Reads only.

use std::io::Write as _;
use std::path::Path;

use super::{Failure, Outcome, usage};
use crate::backend::{DatabaseSettings, UrlSource};
use crate::db::{Access, Db};
use crate::draft::{self, DraftError};

impl From<DraftError> for Failure {
    fn from(e: DraftError) -> Failure {
        match e {
            DraftError::Db(e) => e.into(),
            DraftError::Engine(e) => e.into(),
            other => anyhow::Error::from(other).into(),
        }
    }
}

pub(super) async fn init(url: &str, output: &Path, force: bool) -> Outcome {
    if output.exists() && !force {
        return Err(usage(format!(
            "{} exists; give --force to overwrite it, or -o another file",
            output.display()
        )));
    }
    let base_dir = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => ".".into(),
    };
    let settings = DatabaseSettings::new(url.to_string(), UrlSource::Environment, base_dir);
    let mut db = Db::open(&settings, Access::ReadOnly).await?;
    let drafted = draft::draft(&mut db, url, output).await;
    db.close().await?;
    let drafted = drafted?;
    write(output, &drafted.text)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", output.display()))?;
    println!(
        "{} drafted: {} polic{} from {} table(s). Read it, then run `retentiond -c {} check` and `plan` before the first purge.",
        output.display(),
        drafted.policies.len(),
        if drafted.policies.len() == 1 {
            "y"
        } else {
            "ies"
        },
        drafted.findings.len(),
        output.display()
    );
    Ok(0)
}

/// Writes the file whole (beside it, then renamed), readable by its owner only: a
/// config may come to hold a URL with its password.
fn write(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut file = tempfile::Builder::new()
        .prefix(".retentiond-init-")
        .tempfile_in(dir)?;
    file.write_all(text.as_bytes())?;
    file.as_file().sync_all()?;
    file.persist(path).map(drop).map_err(|e| e.error)
}
