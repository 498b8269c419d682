//! Reading tables from the catalog: columns, indexes, foreign keys and partition
//! keys, each in one statement for one table or a whole schema, then put together
//! per table. A 200-table schema costs four statements, not four hundred.

use std::collections::HashMap;

use super::{Column, ForeignKey, Index, TableInfo};
use crate::db::dialect::{CatalogReads, Dialect};
use crate::db::{Db, DbError, SqlValue};

/// `only` one table (its exact schema and name), or every table of the default
/// schema; in the order the catalog lists them.
pub(super) async fn tables(
    db: &mut Db,
    only: Option<(&str, &str)>,
) -> Result<Vec<TableInfo>, DbError> {
    let dialect = db.dialect();
    let CatalogReads {
        columns,
        indexes,
        foreign_keys,
        partition_keys,
    } = dialect.catalog_reads(only);
    let mut out = assemble_columns(dialect, db.fetch(&columns).await?);
    let mut at: HashMap<(String, String), usize> = HashMap::new();
    for (i, t) in out.iter().enumerate() {
        at.entry((t.found_schema.clone(), t.table.clone()))
            .or_insert(i);
    }
    let place = |r: &[SqlValue]| at.get(&(text(&r[0]), text(&r[1]))).copied();
    for index in grouped(db.fetch(&indexes).await?) {
        let Some(n) = place(&index[0]) else { continue };
        let r = &index[0];
        out[n].indexes.push(Index {
            unique: int(&r[3]) != 0,
            partial: int(&r[4]) != 0,
            // An index on an expression has no column name; it cannot serve as a key.
            columns: index.iter().map(|r| text(&r[5])).collect(),
        });
    }
    for key in grouped(db.fetch(&foreign_keys).await?) {
        let Some(n) = place(&key[0]) else { continue };
        out[n].foreign_keys.push(ForeignKey {
            columns: key.iter().map(|r| text(&r[3])).collect(),
            table: text(&key[0][4]),
            references: key.iter().map(|r| text(&r[5])).collect(),
            cascades: int(&key[0][6]) != 0,
        });
    }
    if let Some(partition_keys) = partition_keys {
        for r in db.fetch(&partition_keys).await? {
            if let Some(n) = place(&r) {
                out[n].partition_key = r[2].as_text().map(str::to_string);
            }
        }
    }
    Ok(out)
}

/// Catalog values: names as text, flags and positions as numbers (which some
/// catalogs hand over as text).
fn text(v: &SqlValue) -> String {
    v.to_text().unwrap_or_default()
}

fn int(v: &SqlValue) -> i64 {
    v.as_int().unwrap_or(0)
}

/// One table per run of rows with the same (schema, table); a name already seen in
/// an earlier schema of the search path is left out, as the search path hides it.
fn assemble_columns(dialect: &dyn Dialect, rows: Rows) -> Vec<TableInfo> {
    let mut out: Vec<TableInfo> = Vec::new();
    let mut hidden = false;
    for r in rows {
        let (schema, table) = (text(&r[0]), text(&r[1]));
        let same = out
            .last()
            .is_some_and(|t| t.found_schema == schema && t.table == table);
        if !same {
            hidden = out.iter().any(|t| t.table == table);
            if !hidden {
                out.push(TableInfo {
                    name: table.clone(),
                    schema: None,
                    found_schema: schema,
                    table,
                    partition_key: None,
                    columns: Vec::new(),
                    indexes: Vec::new(),
                    foreign_keys: Vec::new(),
                });
            }
        }
        if hidden {
            continue;
        }
        let declared = text(&r[3]);
        let t = out.last_mut().expect("a table was pushed for this row");
        t.columns.push(Column {
            name: text(&r[2]),
            kind: dialect.kind_of(&declared),
            declared,
            not_null: int(&r[4]) != 0,
            pk: int(&r[5]),
        });
    }
    out
}

/// Rows of a catalog statement.
type Rows = Vec<Vec<SqlValue>>;

/// Rows grouped by their first three columns (schema, table, index or constraint),
/// in order: each index's or key's rows.
fn grouped(rows: Rows) -> Vec<Rows> {
    let id = |r: &[SqlValue]| (text(&r[0]), text(&r[1]), text(&r[2]));
    let mut out: Vec<Rows> = Vec::new();
    for r in rows {
        match out.last_mut() {
            Some(group) if id(&group[0]) == id(&r) => group.push(r),
            _ => out.push(vec![r]),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(values: &[&str]) -> Vec<SqlValue> {
        values
            .iter()
            .map(|v| SqlValue::Text(v.to_string()))
            .collect()
    }

    #[test]
    fn a_table_hidden_by_the_search_path_is_left_out() {
        let rows = vec![
            row(&["public", "orders", "id", "integer", "1", "1"]),
            row(&["public", "orders", "placed_at", "timestamp", "0", "0"]),
            row(&["sales", "orders", "id", "integer", "1", "1"]),
            row(&["sales", "refunds", "id", "integer", "1", "1"]),
        ];
        let tables = assemble_columns(crate::db::dialect::of(crate::db::Backend::Postgres), rows);
        let names: Vec<(&str, &str, usize)> = tables
            .iter()
            .map(|t| (t.found_schema.as_str(), t.table.as_str(), t.columns.len()))
            .collect();
        assert_eq!(names, [("public", "orders", 2), ("sales", "refunds", 1)]);
    }

    #[test]
    fn rows_group_by_table_and_name() {
        let rows = vec![
            row(&["main", "a", "i1", "x"]),
            row(&["main", "a", "i1", "y"]),
            row(&["main", "a", "i2", "x"]),
            row(&["main", "b", "i1", "x"]),
        ];
        let groups: Vec<(String, usize)> = grouped(rows)
            .into_iter()
            .map(|g| (text(&g[0][1]), g.len()))
            .collect();
        assert_eq!(groups, [("a".into(), 2), ("a".into(), 1), ("b".into(), 1)]);
    }
}
