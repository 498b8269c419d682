//! `cascade` entries of a `[[policy]]`: the child tables whose rows are deleted with
//! a parent row, each with the columns that reference the parent and, to any depth,
//! its own children. What can be told without the database is checked here (key
//! counts, cycles); that each link really references its parent is `db`'s check.

use toml::de::DeValue;

use super::walk::{Cx, Item, get};
use crate::policy::{Cascade, Policy};

const CASCADE_KEYS: &[&str] = &["table", "foreign_key", "references", "cascade", "files"];

const EXAMPLE: &str = "cascade = [{ table = \"order_items\", foreign_key = \"order_id\" }]";

/// The entries of one `cascade` array, with their own `cascade` arrays.
pub(super) fn cascade(cx: &mut Cx, v: &Item, stores: &[String]) -> Option<Vec<Cascade>> {
    let DeValue::Array(entries) = v.get_ref() else {
        cx.problem(
            v.span(),
            "`cascade` must be an array of tables".into(),
            Some(EXAMPLE.into()),
        );
        return None;
    };
    let mut out = Vec::new();
    let mut ok = true;
    for e in entries {
        match entry(cx, e, stores) {
            Some(c) => out.push(c),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn entry(cx: &mut Cx, e: &Item, stores: &[String]) -> Option<Cascade> {
    let t = cx.table(e, "a cascade entry")?;
    cx.check_keys(t, CASCADE_KEYS, "in a cascade entry");
    let table = match get(t, "table") {
        Some(v) => cx.ident(v, "table", true),
        None => {
            cx.problem(
                e.span(),
                "cascade entry has no `table`".into(),
                Some("{ table = \"order_items\", foreign_key = \"order_id\" }".into()),
            );
            None
        }
    };
    let foreign_key = match get(t, "foreign_key") {
        Some(v) => cx.ident_list(v, "foreign_key", false),
        None => {
            cx.problem(
                e.span(),
                "cascade entry has no `foreign_key`".into(),
                Some(
                    "the child's column that holds the parent key, e.g. foreign_key = \"order_id\""
                        .into(),
                ),
            );
            None
        }
    };
    let references = match get(t, "references") {
        Some(v) => cx.ident_list(v, "references", false),
        None => Some(Vec::new()),
    };
    let children = match get(t, "cascade") {
        Some(v) => cascade(cx, v, stores),
        None => Some(Vec::new()),
    };
    let files = match get(t, "files") {
        Some(v) => super::stores::files(cx, v, stores),
        None => Some(Vec::new()),
    };
    Some(Cascade {
        table: table?,
        foreign_key: foreign_key?,
        references: references?,
        cascade: children?,
        files: files?,
    })
}

/// Each entry's foreign key names as many columns as it references (the parent
/// policy's key, where the entry says no `references`), and no table is its own
/// ancestor. A nested entry without `references` points at its parent's primary key,
/// which only the catalog knows.
pub(super) fn check_cascades(cx: &mut Cx, p: &Policy) {
    for c in &p.cascade {
        let (referenced, what) = if c.references.is_empty() {
            (p.key.len(), format!("the key of `{}`", p.table.name))
        } else {
            (c.references.len(), "`references`".to_string())
        };
        check_count(cx, c, referenced, &what);
        let path = vec![bare(&p.table.name)];
        check_subtree(cx, c, &path);
    }
}

fn check_subtree(cx: &mut Cx, c: &Cascade, ancestors: &[String]) {
    let name = bare(&c.table.name);
    if ancestors.contains(&name) {
        let at = cx.offset_of(c.table.loc);
        cx.problem(
            at..at,
            format!(
                "cascade into `{}` under {} leads back to a table above it: a cycle",
                c.table.name,
                ancestors.join(" > ")
            ),
            Some(format!(
                "remove this entry: the rows of `{}` are deleted higher up already",
                c.table.name
            )),
        );
        return;
    }
    let mut path = ancestors.to_vec();
    path.push(name);
    for child in &c.cascade {
        if !child.references.is_empty() {
            check_count(cx, child, child.references.len(), "`references`");
        }
        check_subtree(cx, child, &path);
    }
}

fn check_count(cx: &mut Cx, c: &Cascade, referenced: usize, what: &str) {
    if c.foreign_key.len() != referenced {
        let at = cx.offset_of(c.table.loc);
        cx.problem(
            at..at,
            format!(
                "cascade into `{}` names {} foreign key column(s), but {what} has {referenced}",
                c.table.name,
                c.foreign_key.len(),
            ),
            Some("give one foreign_key column per referenced column, in the same order".into()),
        );
    }
}

/// A table name without its schema, in lower case: how tables are compared here.
fn bare(name: &str) -> String {
    name.rsplit('.').next().unwrap_or(name).to_ascii_lowercase()
}
