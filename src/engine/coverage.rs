//! Coverage: personal-looking columns (by name or by a sample of values) in tables
//! that no policy covers, neither as its table nor as a cascade child. `check`
//! warns about each; the report lists them for the records of processing. Names
//! and reasons only, never a value.

use serde::Serialize;

use crate::config::Config;
use crate::db::{Db, DbError};
use crate::personal::{self, PersonalKind};

/// Rows sampled per uncovered table.
const SAMPLE_ROWS: usize = 50;

/// A personal-looking column no policy governs.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Uncovered {
    pub table: String,
    pub column: String,
    pub kind: PersonalKind,
    /// Why it looks personal, in words.
    pub reason: String,
}

impl Uncovered {
    /// The `check` warning.
    pub fn warning(&self) -> String {
        format!(
            "table `{}`, column `{}` looks like personal data ({}), and no policy covers the table: add a policy or a cascade for it",
            self.table, self.column, self.reason
        )
    }
}

fn bare(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

/// Every personal-looking column in a table no policy of `config` covers.
pub async fn uncovered(db: &mut Db, config: &Config) -> Result<Vec<Uncovered>, DbError> {
    let covered: Vec<String> = config
        .policies
        .iter()
        .flat_map(|p| {
            std::iter::once(p.table.name.clone()).chain(
                p.cascade_entries()
                    .into_iter()
                    .map(|c| c.table.name.clone()),
            )
        })
        .map(|t| bare(&t).to_ascii_lowercase())
        .collect();
    let mut out = Vec::new();
    for t in db.survey().await? {
        if covered.contains(&bare(&t.name).to_ascii_lowercase()) {
            continue;
        }
        let sample = db.sample(&t, SAMPLE_ROWS).await?;
        for (i, c) in t.columns.iter().enumerate() {
            if t.primary_key.contains(&c.name) {
                continue;
            }
            let values: Vec<_> = sample.iter().filter_map(|r| r.get(i).cloned()).collect();
            if let Some(p) = personal::classify(&c.name, &values) {
                out.push(Uncovered {
                    table: t.name.clone(),
                    column: c.name.clone(),
                    kind: p.kind,
                    reason: p.reason(),
                });
            }
        }
    }
    Ok(out)
}
