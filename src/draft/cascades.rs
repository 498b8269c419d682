//! The drafted cascade of an order or KYC table: every table that refers to it by
//! its key, and the tables that refer to those, three levels deep, each table once.
//! Tables drafted for a promise of their own and the people table are not deleted
//! with a parent. Siblings are ordered so that a table whose rows refer to another
//! sibling's goes first, as foreign keys without ON DELETE require. Pure.

use crate::db::SurveyTable;
use crate::schema::{LinkBy, Relations};

/// How deep a drafted cascade goes.
const DEPTH: usize = 3;

/// A drafted cascade entry.
#[derive(Debug, Clone)]
pub struct DraftCascade {
    pub table: String,
    pub foreign_key: Vec<String>,
    /// The parent's columns, written where no constraint or name shows them.
    pub references: Option<Vec<String>>,
    pub by: LinkBy,
    pub children: Vec<DraftCascade>,
}

impl DraftCascade {
    /// This entry's table and every table below it.
    pub fn tables(&self) -> Vec<&str> {
        let mut out = vec![self.table.as_str()];
        for c in &self.children {
            out.extend(c.tables());
        }
        out
    }
}

/// The cascade of table `root`, leaving out the tables in `excluded`.
pub fn cascade(
    root: usize,
    tables: &[SurveyTable],
    relations: &Relations,
    excluded: &[usize],
) -> Vec<DraftCascade> {
    let mut taken = vec![root];
    taken.extend_from_slice(excluded);
    // Breadth first, so that a table is placed at the shallowest level it is
    // reached at.
    let mut levels: Vec<Vec<(usize, usize, usize)>> = Vec::new();
    let mut frontier = vec![root];
    for _ in 0..DEPTH {
        let mut next = Vec::new();
        for &parent in &frontier {
            for (n, link) in relations.links.iter().enumerate() {
                if link.parent != parent || taken.contains(&link.child) {
                    continue;
                }
                taken.push(link.child);
                next.push((parent, link.child, n));
            }
        }
        frontier = next.iter().map(|(_, c, _)| *c).collect();
        levels.push(next);
        if frontier.is_empty() {
            break;
        }
    }
    build(root, &levels, 0, tables, relations)
}

fn build(
    parent: usize,
    levels: &[Vec<(usize, usize, usize)>],
    depth: usize,
    tables: &[SurveyTable],
    relations: &Relations,
) -> Vec<DraftCascade> {
    let Some(level) = levels.get(depth) else {
        return Vec::new();
    };
    let mut out: Vec<(usize, DraftCascade)> = level
        .iter()
        .filter(|(p, _, _)| *p == parent)
        .map(|&(_, child, n)| {
            let link = &relations.links[n];
            let pk = &tables[parent].primary_key;
            let same_as_key = link.parent_columns.len() == pk.len()
                && link
                    .parent_columns
                    .iter()
                    .zip(pk)
                    .all(|(a, b)| a.eq_ignore_ascii_case(b));
            let references =
                (link.by == LinkBy::TableName || !same_as_key).then(|| link.parent_columns.clone());
            let entry = DraftCascade {
                table: tables[child].name.clone(),
                foreign_key: link.columns.clone(),
                references,
                by: link.by,
                children: build(child, levels, depth + 1, tables, relations),
            };
            (child, entry)
        })
        .collect();
    order_siblings(&mut out, tables, relations);
    out.into_iter().map(|(_, e)| e).collect()
}

/// Puts each sibling whose subtree refers to another sibling's table before it.
fn order_siblings(
    entries: &mut Vec<(usize, DraftCascade)>,
    tables: &[SurveyTable],
    relations: &Relations,
) {
    let index = |name: &str| tables.iter().position(|t| t.name == name);
    let subtree: Vec<Vec<usize>> = entries
        .iter()
        .map(|(_, e)| e.tables().into_iter().filter_map(index).collect())
        .collect();
    let refers = |a: usize, b: usize| {
        subtree[a].iter().any(|&t| {
            relations
                .parents_of(t)
                .any(|l| l.by == LinkBy::Constraint && l.parent == entries[b].0)
        })
    };
    let n = entries.len();
    let mut order: Vec<usize> = Vec::with_capacity(n);
    let mut placed = vec![false; n];
    while order.len() < n {
        // The first unplaced sibling no other unplaced sibling must precede; on a
        // cycle, the first unplaced one.
        let next = (0..n)
            .filter(|&i| !placed[i])
            .find(|&i| !(0..n).any(|j| j != i && !placed[j] && refers(j, i)))
            .or_else(|| (0..n).find(|&i| !placed[i]))
            .expect("an unplaced sibling");
        placed[next] = true;
        order.push(next);
    }
    let mut taken: Vec<Option<(usize, DraftCascade)>> = entries.drain(..).map(Some).collect();
    entries.extend(order.into_iter().filter_map(|i| taken[i].take()));
}
