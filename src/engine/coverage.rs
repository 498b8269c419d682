//! Coverage: every personal-looking column of the schema (by name, type or a
//! sample of values) with the policy that governs its table, if any; and the
//! tables a delete would leave behind, holding personal data, because they refer
//! to a purged row and no cascade reaches them. `check` warns about both; the
//! report lists what no policy covers. Names and reasons only, never a value.

use std::collections::HashMap;

use serde::Serialize;

use crate::config::Config;
use crate::db::{Db, DbError, SurveyTable};
use crate::personal::{Evidence, PersonalKind};
use crate::policy::{Action, Policy};
use crate::schema::{self, LinkBy, Relations};

/// Rows sampled per table: enough to tell e-mails, phones, IPs and names apart.
const SAMPLE_ROWS: usize = 200;

/// A personal-looking column, and the policy that governs its table.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Finding {
    pub table: String,
    pub column: String,
    pub kind: PersonalKind,
    pub evidence: Evidence,
    /// Why it looks personal, in words.
    pub reason: String,
    /// The policy whose table it is, or which deletes it by cascade.
    pub covered_by: Option<String>,
}

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
        if self.kind == PersonalKind::File {
            return format!(
                "table `{}`, column `{}`: {}, and no policy removes the files when the rows go: name its store in the `files` of the policy or cascade entry that purges the table, files = {{ {} = \"uploads\" }}",
                self.table, self.column, self.reason, self.column
            );
        }
        format!(
            "table `{}`, column `{}` looks like personal data ({}), and no policy covers it: add a policy or a cascade for the table, or anonymise the column",
            self.table, self.column, self.reason
        )
    }
}

/// A table whose rows refer to rows a policy deletes, reached by no cascade and
/// governed by no policy of its own: its rows would stay behind, personal data
/// and all, pointing at nothing.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Orphaned {
    pub table: String,
    pub foreign_key: Vec<String>,
    pub parent: String,
    pub policy: String,
    pub linked_by: LinkBy,
    /// The personal-looking columns left behind: (column, what it holds).
    pub personal: Vec<(String, PersonalKind)>,
}

impl Orphaned {
    /// The `check` warning, with the cascade entry that would reach the table.
    pub fn warning(&self) -> String {
        let cols: Vec<String> = self
            .personal
            .iter()
            .map(|(c, k)| format!("{c} ({})", k.words()))
            .collect();
        let fk = self.foreign_key.join("\", \"");
        format!(
            "table `{}` refers to `{}` by {} ({}), whose rows policy `{}` deletes, and no cascade reaches it: its rows would stay behind with {}; add {{ table = \"{}\", foreign_key = \"{fk}\" }} to the cascade of `{}`",
            self.table,
            self.parent,
            self.foreign_key.join(", "),
            self.linked_by.words(),
            self.policy,
            cols.join(", "),
            self.table,
            self.parent
        )
    }
}

/// A table whose rows the database deletes itself (ON DELETE CASCADE) when a policy
/// deletes the rows they refer to, outside the policy's cascade: those rows would
/// be gone and counted by no audit event.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Uncounted {
    pub table: String,
    pub foreign_key: Vec<String>,
    pub parent: String,
    pub policy: String,
}

impl Uncounted {
    pub fn warning(&self) -> String {
        format!(
            "table `{}` refers to `{}` by {} with ON DELETE CASCADE: when policy `{}` deletes rows of `{}`, the database deletes the rows of `{}` that refer to them itself, and no audit event counts them; add {{ table = \"{}\", foreign_key = \"{}\" }} to the cascade of `{}`",
            self.table,
            self.parent,
            self.foreign_key.join(", "),
            self.policy,
            self.parent,
            self.table,
            self.table,
            self.foreign_key.join("\", \""),
            self.parent
        )
    }
}

/// What coverage found in the whole schema.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Coverage {
    pub findings: Vec<Finding>,
    pub orphans: Vec<Orphaned>,
    pub uncounted: Vec<Uncounted>,
    /// Tables whose rows could not be read (no SELECT right): their columns were
    /// judged by name and type only.
    pub not_sampled: Vec<String>,
}

impl Coverage {
    /// The findings no policy covers.
    pub fn uncovered(&self) -> Vec<Uncovered> {
        self.findings
            .iter()
            .filter(|f| f.covered_by.is_none())
            .map(|f| Uncovered {
                table: f.table.clone(),
                column: f.column.clone(),
                kind: f.kind,
                reason: f.reason.clone(),
            })
            .collect()
    }
}

fn bare(name: &str) -> String {
    name.rsplit('.').next().unwrap_or(name).to_ascii_lowercase()
}

/// Every personal-looking column of the schema and the tables a delete would
/// orphan. Reads the catalog and a sample of each table's rows.
pub async fn coverage(db: &mut Db, config: &Config) -> Result<Coverage, DbError> {
    let tables = db.survey().await?;
    let (samples, not_sampled) = db.samples(&tables, SAMPLE_ROWS).await?;
    let relations = Relations::of(&tables);
    let people = schema::people_table(&tables);
    let personal = schema::personal_columns(&tables, &samples, &relations, people.as_deref());
    let governing = Governing::of(&config.policies);
    let mut findings = Vec::new();
    for (t, cols) in tables.iter().zip(&personal) {
        for c in cols {
            findings.push(Finding {
                table: t.name.clone(),
                column: c.column.clone(),
                kind: c.personal.kind,
                evidence: c.personal.evidence,
                reason: c.personal.reason(),
                covered_by: if c.personal.kind == PersonalKind::File {
                    governing.file(&t.name, &c.column)
                } else {
                    governing.column(&t.name, &c.column)
                },
            });
        }
    }
    let orphans = orphans(config, &tables, &relations, &personal, &governing);
    let uncounted = uncounted_deletes(config, &tables, &relations);
    Ok(Coverage {
        findings,
        orphans,
        uncounted,
        not_sampled,
    })
}

/// Every personal-looking column in a table no policy of `config` covers.
pub async fn uncovered(db: &mut Db, config: &Config) -> Result<Vec<Uncovered>, DbError> {
    Ok(coverage(db, config).await?.uncovered())
}

/// Which policy governs what: a delete policy its table and every cascade table
/// whole; an anonymising policy the columns it anonymises.
struct Governing {
    /// Table (bare, lower case) -> the first delete policy that takes its rows.
    tables: HashMap<String, String>,
    /// (table, column), both bare and lower case -> the first anonymising policy.
    columns: HashMap<(String, String), String>,
    /// (table, column) -> the first policy that removes the files it names.
    files: HashMap<(String, String), String>,
}

impl Governing {
    fn of(policies: &[Policy]) -> Governing {
        let mut g = Governing {
            tables: HashMap::new(),
            columns: HashMap::new(),
            files: HashMap::new(),
        };
        for p in policies {
            let cascades = p
                .cascade_entries()
                .into_iter()
                .map(|c| (&c.table, &c.files));
            for (table, files) in std::iter::once((&p.table, &p.files)).chain(cascades) {
                for f in files {
                    let at = (bare(&table.name), f.column.name.to_ascii_lowercase());
                    g.files.entry(at).or_insert_with(|| p.name.clone());
                }
            }
            match p.action {
                Action::Delete => {
                    let cascade = p.cascade_entries().into_iter().map(|c| &c.table);
                    for t in std::iter::once(&p.table).chain(cascade) {
                        g.tables
                            .entry(bare(&t.name))
                            .or_insert_with(|| p.name.clone());
                    }
                }
                Action::Anonymize => {
                    // The columns it rewrites, and those that decide which rows
                    // expire (a consent flag in its filter, the consent's date).
                    let columns = p
                        .anonymize
                        .iter()
                        .map(|a| &a.column)
                        .chain(p.filter.iter().map(|f| &f.column))
                        .chain(std::iter::once(&p.timestamp));
                    for c in columns {
                        let at = (bare(&p.table.name), c.name.to_ascii_lowercase());
                        g.columns.entry(at).or_insert_with(|| p.name.clone());
                    }
                }
            }
        }
        g
    }

    fn column(&self, table: &str, column: &str) -> Option<String> {
        let t = bare(table);
        self.tables
            .get(&t)
            .or_else(|| self.columns.get(&(t.clone(), column.to_ascii_lowercase())))
            .cloned()
    }

    fn file(&self, table: &str, column: &str) -> Option<String> {
        let at = (bare(table), column.to_ascii_lowercase());
        self.files.get(&at).cloned()
    }

    /// Whether any policy governs `table` or one of its columns.
    fn touches(&self, table: &str) -> bool {
        let t = bare(table);
        self.tables.contains_key(&t) || self.columns.keys().any(|(x, _)| *x == t)
    }
}

fn orphans(
    config: &Config,
    tables: &[SurveyTable],
    relations: &Relations,
    personal: &[Vec<schema::PersonalColumn>],
    governing: &Governing,
) -> Vec<Orphaned> {
    let at = |name: &str| tables.iter().position(|t| bare(&t.name) == bare(name));
    let mut out: Vec<Orphaned> = Vec::new();
    for p in config
        .policies
        .iter()
        .filter(|p| p.action == Action::Delete)
    {
        let purged: Vec<&str> = std::iter::once(p.table.name.as_str())
            .chain(
                p.cascade_entries()
                    .into_iter()
                    .map(|c| c.table.name.as_str()),
            )
            .collect();
        for parent in purged.iter().filter_map(|t| at(t)) {
            for link in relations.children_of(parent) {
                if link.by == LinkBy::TableName || personal[link.child].is_empty() {
                    continue;
                }
                let child = &tables[link.child];
                if governing.touches(&child.name) || out.iter().any(|o| o.table == child.name) {
                    continue;
                }
                out.push(Orphaned {
                    table: child.name.clone(),
                    foreign_key: link.columns.clone(),
                    parent: tables[parent].name.clone(),
                    policy: p.name.clone(),
                    linked_by: link.by,
                    personal: personal[link.child]
                        .iter()
                        .map(|c| (c.column.clone(), c.personal.kind))
                        .collect(),
                });
            }
        }
    }
    out
}

/// The tables the database empties itself with a policy's rows (ON DELETE
/// CASCADE) that the policy's cascade does not name.
fn uncounted_deletes(
    config: &Config,
    tables: &[SurveyTable],
    relations: &Relations,
) -> Vec<Uncounted> {
    let at = |name: &str| tables.iter().position(|t| bare(&t.name) == bare(name));
    let mut out: Vec<Uncounted> = Vec::new();
    for p in config
        .policies
        .iter()
        .filter(|p| p.action == Action::Delete)
    {
        let purged: Vec<String> = std::iter::once(p.table.name.as_str())
            .chain(
                p.cascade_entries()
                    .into_iter()
                    .map(|c| c.table.name.as_str()),
            )
            .map(bare)
            .collect();
        for parent in purged.iter().filter_map(|t| at(t)) {
            for link in relations
                .children_of(parent)
                .filter(|l| l.database_cascades)
            {
                let child = &tables[link.child];
                if purged.contains(&bare(&child.name)) || link.child == parent {
                    continue;
                }
                if out
                    .iter()
                    .any(|u| u.table == child.name && u.policy == p.name)
                {
                    continue;
                }
                out.push(Uncounted {
                    table: child.name.clone(),
                    foreign_key: link.columns.clone(),
                    parent: tables[parent].name.clone(),
                    policy: p.name.clone(),
                });
            }
        }
    }
    out
}
