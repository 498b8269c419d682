//! How a schema's tables refer to each other, from the catalog alone: a foreign-key
//! constraint; a column with the name of another table's primary key where that
//! name is that table's alone (`id_order` in a shop without constraints); and, as
//! a weaker hint that only `init` uses, a column named after a table whose key is a
//! bare `id` (`order_id` for `wp_wc_orders.id`). Pure.

use crate::db::{ColumnClass, SurveyTable};

/// What shows that a child's columns hold a parent's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkBy {
    /// A foreign-key constraint.
    Constraint,
    /// The parent's primary-key column name, which no other table's key has.
    SameName,
    /// A column named after the parent table (`order_id`, `id_order`) where the
    /// parent's key is `id`: a hint, not a proof.
    TableName,
}

impl LinkBy {
    pub fn words(self) -> &'static str {
        match self {
            LinkBy::Constraint => "a foreign-key constraint",
            LinkBy::SameName => "the parent key's column name",
            LinkBy::TableName => "a column named after the parent table",
        }
    }
}

/// `columns` of table `child` hold `parent_columns` of table `parent` (indexes
/// into the tables the relations were read from).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub child: usize,
    pub columns: Vec<String>,
    pub parent: usize,
    pub parent_columns: Vec<String>,
    pub by: LinkBy,
    /// A constraint with ON DELETE CASCADE: the database deletes the child rows
    /// itself when their parent row goes.
    pub database_cascades: bool,
}

/// Every link between `tables`.
#[derive(Debug, Clone, Default)]
pub struct Relations {
    pub links: Vec<Link>,
}

impl Relations {
    pub fn of(tables: &[SurveyTable]) -> Relations {
        let mut links = Vec::new();
        for (c, t) in tables.iter().enumerate() {
            for k in &t.foreign_keys {
                if let Some(p) = position(tables, &k.table) {
                    links.push(Link {
                        child: c,
                        columns: k.columns.clone(),
                        parent: p,
                        parent_columns: k.references.clone(),
                        by: LinkBy::Constraint,
                        database_cascades: k.cascades,
                    });
                }
            }
        }
        for (p, parent) in tables.iter().enumerate() {
            let [key] = parent.primary_key.as_slice() else {
                continue;
            };
            for (c, child) in tables.iter().enumerate() {
                if c == p {
                    continue;
                }
                let by = if distinctive(tables, key) {
                    child.column(key).map(|col| (col, LinkBy::SameName))
                } else if key.eq_ignore_ascii_case("id") && named_after(tables, p) {
                    child
                        .columns
                        .iter()
                        .find(|col| names_table(&col.name, &parent.name))
                        .map(|col| (col, LinkBy::TableName))
                } else {
                    None
                };
                let Some((col, by)) = by else { continue };
                let known = links.iter().any(|l: &Link| {
                    l.child == c
                        && l.columns.len() == 1
                        && l.columns[0].eq_ignore_ascii_case(&col.name)
                });
                let key_col = parent.column(key).map(|k| k.class);
                if known
                    || child.primary_key == [col.name.clone()]
                    || !key_col.is_some_and(|k| compatible(col.class, k))
                {
                    continue;
                }
                links.push(Link {
                    child: c,
                    columns: vec![col.name.clone()],
                    parent: p,
                    parent_columns: vec![key.clone()],
                    by,
                    database_cascades: false,
                });
            }
        }
        Relations { links }
    }

    /// The links into table `parent`.
    pub fn children_of(&self, parent: usize) -> impl Iterator<Item = &Link> {
        self.links.iter().filter(move |l| l.parent == parent)
    }

    /// The links out of table `child`.
    pub fn parents_of(&self, child: usize) -> impl Iterator<Item = &Link> {
        self.links.iter().filter(move |l| l.child == child)
    }
}

fn position(tables: &[SurveyTable], name: &str) -> Option<usize> {
    let bare = |n: &str| n.rsplit('.').next().unwrap_or(n).to_ascii_lowercase();
    tables.iter().position(|t| bare(&t.name) == bare(name))
}

/// Whether `key` is one table's primary key and no other's: `id_order` is,
/// `id` and Magento's `entity_id` are not.
fn distinctive(tables: &[SurveyTable], key: &str) -> bool {
    !key.eq_ignore_ascii_case("id")
        && tables
            .iter()
            .filter(|t| t.primary_key.len() == 1 && t.primary_key[0].eq_ignore_ascii_case(key))
            .count()
            == 1
}

/// The singular of a table name's last word: `wp_wc_orders` gives `order`.
fn entity(table: &str) -> String {
    let last = table
        .rsplit(|c: char| !c.is_ascii_alphanumeric())
        .next()
        .unwrap_or(table)
        .to_ascii_lowercase();
    if let Some(stem) = last.strip_suffix("ies") {
        format!("{stem}y")
    } else if let Some(stem) = last.strip_suffix("sses") {
        format!("{stem}ss")
    } else if last.ends_with("ss") {
        last
    } else if let Some(stem) = last.strip_suffix('s') {
        stem.to_string()
    } else {
        last
    }
}

/// Whether table `p` is the only one whose name ends with its entity: `orders`
/// and `supply_orders` both end with `order`, so neither owns `order_id`.
fn named_after(tables: &[SurveyTable], p: usize) -> bool {
    let e = entity(&tables[p].name);
    tables.iter().filter(|t| entity(&t.name) == e).count() == 1
}

/// Whether `column` is named after table `table`: `order_id`, `id_order`, `orderId`.
fn names_table(column: &str, table: &str) -> bool {
    let e = entity(table);
    let c = column.to_ascii_lowercase();
    c == format!("{e}_id") || c == format!("id_{e}") || c == format!("{e}id")
}

fn compatible(a: ColumnClass, b: ColumnClass) -> bool {
    let number = |c: ColumnClass| matches!(c, ColumnClass::Integer | ColumnClass::Number);
    a == b || (number(a) && number(b)) || a == ColumnClass::Untyped || b == ColumnClass::Untyped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Backend, ForeignKey, SurveyColumn};

    fn table(name: &str, key: &str, columns: &[&str]) -> SurveyTable {
        let mut cols = vec![SurveyColumn::declared(
            Backend::MySql,
            key,
            "int(10)",
            false,
        )];
        cols.extend(
            columns
                .iter()
                .map(|c| SurveyColumn::declared(Backend::MySql, c, "int(10)", true)),
        );
        SurveyTable {
            name: name.into(),
            columns: cols,
            primary_key: vec![key.into()],
            indexed: vec![key.into()],
            foreign_keys: Vec::new(),
        }
    }

    fn links(tables: &[SurveyTable]) -> Vec<(String, String, String, LinkBy)> {
        Relations::of(tables)
            .links
            .iter()
            .map(|l| {
                (
                    tables[l.child].name.clone(),
                    l.columns.join(","),
                    tables[l.parent].name.clone(),
                    l.by,
                )
            })
            .collect()
    }

    #[test]
    fn a_key_name_links_only_where_one_table_owns_it() {
        let tables = [
            table("ps_orders", "id_order", &["id_customer"]),
            table("ps_order_payment", "id_order_payment", &[]),
            table("ps_order_detail", "id_order_detail", &["id_order"]),
            table("ps_customer", "id_customer", &[]),
            // Magento: entity_id is the key of both, so it links neither.
            table("sales_order", "entity_id", &[]),
            table("quote", "entity_id", &["customer_id"]),
        ];
        assert_eq!(
            links(&tables),
            [
                (
                    "ps_order_detail".into(),
                    "id_order".into(),
                    "ps_orders".into(),
                    LinkBy::SameName
                ),
                (
                    "ps_orders".into(),
                    "id_customer".into(),
                    "ps_customer".into(),
                    LinkBy::SameName
                ),
            ]
        );
    }

    #[test]
    fn a_column_named_after_a_table_is_a_hint_where_the_key_is_a_bare_id() {
        let mut tables = [
            table("wp_wc_orders", "id", &["customer_id"]),
            table("wp_wc_order_addresses", "id", &["order_id"]),
            table("supply_orders", "id", &[]),
            table("wp_users", "ID", &[]),
        ];
        // Two tables end with `orders`: neither owns `order_id`.
        assert!(links(&tables).is_empty(), "{:?}", links(&tables));
        tables[2].name = "supplies".into();
        assert_eq!(
            links(&tables),
            [(
                "wp_wc_order_addresses".into(),
                "order_id".into(),
                "wp_wc_orders".into(),
                LinkBy::TableName
            )]
        );
        // A constraint says more than a name.
        tables[1].foreign_keys.push(ForeignKey {
            columns: vec!["order_id".into()],
            table: "wp_wc_orders".into(),
            references: vec!["id".into()],
            cascades: false,
        });
        assert_eq!(links(&tables)[0].3, LinkBy::Constraint);
        assert_eq!(links(&tables).len(), 1);
    }
}
