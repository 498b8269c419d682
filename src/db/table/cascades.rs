//! Cascades: the child tables whose rows go with a parent row, checked against the
//! catalog and deleted deepest first. A link is accepted only where the catalog or
//! the config shows that the child's columns hold the parent's: a foreign-key
//! constraint, the same column name and a compatible type, or `references` naming
//! a unique column of the parent. Anything else would delete the children of other
//! rows that happen to share a number.

use std::collections::BTreeMap;

use super::resolve::{Checker, quoted_table};
use super::{Col, FileCol, KEYS_PER_STATEMENT, Target, export, files};
use crate::db::catalog::{self, TableInfo, compatible};
use crate::db::{Db, DbError, FileRef, Query, SqlValue};
use crate::policy::{Cascade, Ident};

/// A cascade entry that fits the catalog: its rows are those whose `foreign_key`
/// holds the parent's `references` columns.
#[derive(Debug, Clone)]
pub(super) struct Child {
    /// The table as the catalog spells it, for counts and messages.
    pub table_name: String,
    pub table: String,
    pub foreign_key: Vec<Col>,
    /// The foreign key's columns as the catalog spells them.
    pub foreign_key_names: Vec<String>,
    /// The parent's columns the foreign key holds, read from the parent.
    pub references: Vec<Col>,
    /// Every column of the child table, for an export.
    pub columns: Vec<export::ExportColumn>,
    pub children: Vec<Child>,
    /// Columns holding files that go with the child's rows.
    pub files: Vec<FileCol>,
    /// The child's primary key, naming a row whose file is refused.
    pub key: Vec<Col>,
}

/// How a link between a parent and a child was shown.
enum Proof {
    Constraint,
    SameName,
    Stated,
}

impl Checker<'_> {
    /// The policy's cascade entries under `parent`, whose rows are referenced by
    /// `parent_key` where an entry names no `references`.
    pub(super) async fn cascades(
        &mut self,
        db: &mut Db,
        parent: &TableInfo,
        parent_key: &[String],
        entries: &[Cascade],
    ) -> Result<Vec<Child>, DbError> {
        let mut out = Vec::new();
        for c in entries {
            let Some(info) = catalog::table_info(db, &c.table).await? else {
                self.problem(
                    c.table.loc,
                    format!(
                        "cascade table `{}` does not exist in the database",
                        c.table.name
                    ),
                );
                continue;
            };
            let Some(references) = self.references(parent, parent_key, c) else {
                continue;
            };
            let foreign_key: Vec<Col> = c
                .foreign_key
                .iter()
                .filter_map(|fk| self.column(&info, fk, "foreign_key"))
                .collect();
            if foreign_key.len() != c.foreign_key.len() {
                continue;
            }
            let foreign_key_names: Vec<String> = c
                .foreign_key
                .iter()
                .filter_map(|fk| info.column(&fk.name).map(|col| col.name.clone()))
                .collect();
            if !self.proves_link(parent, &info, c, &foreign_key_names, &references) {
                continue;
            }
            let key = info.primary_key_names();
            let children = Box::pin(self.cascades(db, &info, &key, &c.cascade)).await?;
            let files = self.file_columns(&info, &c.files, &[]);
            let own_key: Vec<Col> = key
                .iter()
                .filter_map(|k| self.column(&info, &ident(k, c.table.loc), "key"))
                .collect();
            let referenced: Vec<Col> = references
                .iter()
                .filter_map(|r| self.column(parent, &ident(r, c.table.loc), "references"))
                .collect();
            out.push(Child {
                table_name: info.name.clone(),
                table: quoted_table(&info),
                foreign_key,
                foreign_key_names,
                references: referenced,
                columns: export::export_columns(self.dialect, &info),
                children,
                files,
                key: own_key,
            });
        }
        Ok(out)
    }

    /// The parent's columns `c` references, as the catalog spells them: its
    /// `references`, which must exist and be unique, or else `parent_key`.
    fn references(
        &mut self,
        parent: &TableInfo,
        parent_key: &[String],
        c: &Cascade,
    ) -> Option<Vec<String>> {
        if c.references.is_empty() {
            if parent_key.is_empty() {
                self.problem(
                    c.table.loc,
                    format!(
                        "cascade into `{}`: table `{}` has no primary key, so it is not known which of its columns `{}` holds; name it with references = \"column\"",
                        c.table.name,
                        parent.name,
                        names(&c.foreign_key)
                    ),
                );
                return None;
            }
            if parent_key.len() != c.foreign_key.len() {
                self.problem(
                    c.table.loc,
                    format!(
                        "cascade into `{}` names {} foreign key column(s), but the primary key of `{}` has {} ({})",
                        c.table.name,
                        c.foreign_key.len(),
                        parent.name,
                        parent_key.len(),
                        parent_key.join(", ")
                    ),
                );
                return None;
            }
            return Some(parent_key.to_vec());
        }
        let mut found = Vec::new();
        for r in &c.references {
            self.column(parent, r, "references")?;
            found.push(parent.column(&r.name)?.name.clone());
        }
        if !parent.is_unique(&found) {
            self.problem(
                c.references[0].loc,
                format!(
                    "cascade into `{}`: references ({}) of `{}` is not unique (no primary key or unique index on exactly these columns), so a child row could belong to several parents",
                    c.table.name,
                    found.join(", "),
                    parent.name
                ),
            );
            return None;
        }
        Some(found)
    }

    /// Whether `child`'s `foreign_key` is shown to hold `parent`'s `references`, and
    /// a problem at the foreign key if not.
    fn proves_link(
        &mut self,
        parent: &TableInfo,
        child: &TableInfo,
        c: &Cascade,
        foreign_key: &[String],
        references: &[String],
    ) -> bool {
        let proof = if by_constraint(parent, child, foreign_key, references) {
            Some(Proof::Constraint)
        } else if c.references.is_empty()
            && foreign_key
                .iter()
                .zip(references)
                .all(|(f, r)| f.eq_ignore_ascii_case(r))
        {
            Some(Proof::SameName)
        } else if !c.references.is_empty() {
            Some(Proof::Stated)
        } else {
            None
        };
        let loc = c.foreign_key[0].loc;
        let Some(proof) = proof else {
            self.problem(
                loc,
                format!(
                    "cascade into `{}`: nothing shows that `{}` holds the key of `{}` ({}): no foreign-key constraint links them and the names differ. If it does, say so with references = {}; if it holds another table's key, move this entry under that table's policy or cascade",
                    c.table.name,
                    foreign_key.join(", "),
                    parent.name,
                    references.join(", "),
                    toml_list(references)
                ),
            );
            return false;
        };
        if matches!(proof, Proof::Constraint) {
            return true;
        }
        for (f, r) in foreign_key.iter().zip(references) {
            let (Some(fc), Some(rc)) = (child.column(f), parent.column(r)) else {
                continue;
            };
            if !compatible(fc.kind, rc.kind) {
                self.problem(
                    loc,
                    format!(
                        "cascade into `{}`: `{}` is declared {} and cannot hold `{}`.`{}`, declared {}",
                        c.table.name, fc.name, fc.declared, parent.name, rc.name, rc.declared
                    ),
                );
                return false;
            }
        }
        true
    }
}

/// Whether a foreign-key constraint of `child` makes `foreign_key` reference
/// `references` of `parent`, column for column (in any order of the pairs).
fn by_constraint(
    parent: &TableInfo,
    child: &TableInfo,
    foreign_key: &[String],
    references: &[String],
) -> bool {
    let pk = parent.primary_key_names();
    let pairs = |cols: &[String], refs: &[String]| -> Vec<(String, String)> {
        let mut p: Vec<(String, String)> = cols
            .iter()
            .zip(refs)
            .enumerate()
            .map(|(i, (c, r))| {
                // SQLite's `REFERENCES t` names no column: the primary key's.
                let r = if r.is_empty() {
                    pk.get(i).cloned().unwrap_or_default()
                } else {
                    r.clone()
                };
                (c.to_ascii_lowercase(), r.to_ascii_lowercase())
            })
            .collect();
        p.sort();
        p
    };
    let want = pairs(foreign_key, references);
    child.foreign_keys.iter().any(|k| {
        k.table.eq_ignore_ascii_case(&parent.table) && pairs(&k.columns, &k.references) == want
    })
}

fn ident(name: &str, loc: crate::policy::Loc) -> Ident {
    Ident {
        name: name.to_string(),
        loc,
    }
}

fn names(idents: &[Ident]) -> String {
    let n: Vec<&str> = idents.iter().map(|i| i.name.as_str()).collect();
    n.join(", ")
}

/// `"id"` or `["a", "b"]`, as a TOML value.
fn toml_list(columns: &[String]) -> String {
    let quoted: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
    if quoted.len() == 1 {
        quoted[0].clone()
    } else {
        format!("[{}]", quoted.join(", "))
    }
}

/// What deleting a batch's cascade children did.
#[derive(Debug, Default)]
pub struct Deleted {
    /// Rows deleted per child table.
    pub counts: BTreeMap<String, u64>,
    /// The files the deleted rows pointed to.
    pub files: Vec<FileRef>,
}

impl Target {
    /// Every cascade table at any depth, parents before their children.
    pub fn cascade_tables(&self) -> Vec<String> {
        fn walk(children: &[Child], out: &mut Vec<String>) {
            for c in children {
                out.push(c.table_name.clone());
                walk(&c.children, out);
            }
        }
        let mut out = Vec::new();
        walk(&self.cascade, &mut out);
        out
    }

    /// Deletes the cascade children, at any depth, of the rows with `keys`, deepest
    /// first; returns the count per child table and the files the deleted child
    /// rows pointed to. The rows themselves stay.
    pub async fn delete_cascade(
        &self,
        db: &mut Db,
        keys: &[Vec<SqlValue>],
    ) -> Result<Deleted, DbError> {
        let mut done = Deleted::default();
        self.delete_below(db, &self.table, &self.key, keys, &self.cascade, &mut done)
            .await?;
        Ok(done)
    }

    /// Deletes `children` of the rows of `table` whose `selector` columns hold
    /// `values`, and their children first.
    async fn delete_below(
        &self,
        db: &mut Db,
        table: &str,
        selector: &[Col],
        values: &[Vec<SqlValue>],
        children: &[Child],
        done: &mut Deleted,
    ) -> Result<(), DbError> {
        for chunk in values.chunks(KEYS_PER_STATEMENT) {
            for child in children {
                let referenced = self
                    .referenced(db, table, selector, chunk, &child.references)
                    .await?;
                if referenced.is_empty() {
                    continue;
                }
                if !child.children.is_empty() {
                    Box::pin(self.delete_below(
                        db,
                        &child.table,
                        &child.foreign_key,
                        &referenced,
                        &child.children,
                        done,
                    ))
                    .await?;
                }
                let mut n = 0;
                for part in referenced.chunks(KEYS_PER_STATEMENT) {
                    if !child.files.is_empty() {
                        let reads: Vec<String> = child
                            .key
                            .iter()
                            .chain(child.files.iter().map(|f| f.col()))
                            .map(|c| self.read(c))
                            .collect();
                        let mut q = Query::new(format!(
                            "SELECT {} FROM {} WHERE ",
                            reads.join(", "),
                            child.table
                        ));
                        self.push_key_list(&mut q, &child.foreign_key, part);
                        let rows = db.fetch(&q).await?;
                        done.files
                            .extend(files::child_files(child, rows, child.key.len()));
                    }
                    let mut q = Query::new(format!("DELETE FROM {} WHERE ", child.table));
                    self.push_key_list(&mut q, &child.foreign_key, part);
                    n += db.execute(&q).await?;
                }
                *done.counts.entry(child.table_name.clone()).or_insert(0) += n;
            }
        }
        Ok(())
    }

    /// The `references` columns' values of the rows of `table` whose `selector`
    /// holds `values`: the values themselves where they are the same columns, else
    /// read from the table. Rows with a NULL reference nothing and are left out.
    async fn referenced(
        &self,
        db: &mut Db,
        table: &str,
        selector: &[Col],
        values: &[Vec<SqlValue>],
        references: &[Col],
    ) -> Result<Vec<Vec<SqlValue>>, DbError> {
        let same = selector.len() == references.len()
            && selector
                .iter()
                .zip(references)
                .all(|(s, r)| s.quoted == r.quoted);
        let rows = if same {
            values.to_vec()
        } else {
            let reads: Vec<String> = references.iter().map(|c| self.read(c)).collect();
            let mut q = Query::new(format!(
                "SELECT DISTINCT {} FROM {table} WHERE ",
                reads.join(", ")
            ));
            self.push_key_list(&mut q, selector, values);
            db.fetch(&q).await?
        };
        Ok(rows
            .into_iter()
            .filter(|r| !r.contains(&SqlValue::Null))
            .collect())
    }
}
