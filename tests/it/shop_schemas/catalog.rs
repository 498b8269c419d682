//! The tests' own reading of a schema, independent of retentiond's: every column
//! with what it may hold, primary and unique keys, foreign keys, and MariaDB's
//! JSON columns (a CHECK json_valid), for filling the tables and comparing rows.

use crate::support::{Backend, Shop};

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    /// `varchar`, `int`, `timestamp without time zone`, `USER-DEFINED`, ...
    pub data_type: String,
    /// MySQL's `column_type` (`enum('a','b')`, `tinyint(1)`), PostgreSQL's udt name.
    pub full_type: String,
    pub nullable: bool,
    pub max_len: Option<usize>,
    pub precision: Option<u32>,
    pub scale: Option<u32>,
    pub json: bool,
    /// PostgreSQL enum labels, MySQL enum or set members.
    pub labels: Vec<String>,
}

/// What the database itself does to a row when the row it refers to is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDelete {
    Cascade,
    SetNull,
    Other,
}

#[derive(Debug, Clone)]
pub struct ForeignKey {
    pub columns: Vec<String>,
    pub parent: String,
    pub parent_columns: Vec<String>,
    pub on_delete: OnDelete,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    pub primary_key: Vec<String>,
    pub uniques: Vec<Vec<String>>,
    pub foreign_keys: Vec<ForeignKey>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

fn opt_num<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s == "NULL" { None } else { s.parse().ok() }
}

/// Every base table of the test database but retentiond's own, in name order.
pub async fn read(shop: &Shop) -> Vec<Table> {
    let columns_sql = match shop.backend {
        Backend::MariaDb => {
            "SELECT table_name, column_name, data_type, column_type, is_nullable, \
             CAST(character_maximum_length AS CHAR), CAST(numeric_precision AS CHAR), CAST(numeric_scale AS CHAR), \
             CASE WHEN extra LIKE '%GENERATED%' THEN 'YES' ELSE 'NO' END \
             FROM information_schema.columns WHERE table_schema = database() \
             AND table_name IN (SELECT table_name FROM information_schema.tables WHERE table_schema = database() AND table_type = 'BASE TABLE') \
             ORDER BY table_name, ordinal_position"
        }
        _ => {
            "SELECT c.table_name::text, c.column_name::text, c.data_type::text, c.udt_name::text, c.is_nullable::text, \
             c.character_maximum_length::text, c.numeric_precision::text, c.numeric_scale::text, c.is_generated::text \
             FROM information_schema.columns c JOIN information_schema.tables t \
             ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE' \
             WHERE c.table_schema = 'public' ORDER BY c.table_name, c.ordinal_position"
        }
    };
    let mut tables: Vec<Table> = Vec::new();
    for r in shop.rows(columns_sql).await {
        if r[0].starts_with("retention_") || r[8] != "NO" && r[8] != "NEVER" {
            continue;
        }
        if tables.last().is_none_or(|t| t.name != r[0]) {
            tables.push(Table {
                name: r[0].clone(),
                columns: Vec::new(),
                primary_key: Vec::new(),
                uniques: Vec::new(),
                foreign_keys: Vec::new(),
            });
        }
        let full_type = r[3].clone();
        let labels = member_list(&full_type);
        tables.last_mut().unwrap().columns.push(Column {
            name: r[1].clone(),
            data_type: r[2].to_ascii_lowercase(),
            full_type,
            nullable: r[4] == "YES",
            max_len: opt_num(&r[5]),
            precision: opt_num(&r[6]),
            scale: opt_num(&r[7]),
            json: r[2].eq_ignore_ascii_case("json") || r[2].eq_ignore_ascii_case("jsonb"),
            labels,
        });
    }
    keys(shop, &mut tables).await;
    foreign_keys(shop, &mut tables).await;
    if shop.backend == Backend::MariaDb {
        json_checks(shop, &mut tables).await;
    } else {
        enum_labels(shop, &mut tables).await;
    }
    tables
}

/// `enum('a','b')` and `set('a','b')` members.
fn member_list(column_type: &str) -> Vec<String> {
    let lower = column_type.to_ascii_lowercase();
    let Some(inner) = lower
        .strip_prefix("enum(")
        .or_else(|| lower.strip_prefix("set("))
        .map(|_| &column_type[column_type.find('(').unwrap() + 1..column_type.len() - 1])
    else {
        return Vec::new();
    };
    inner
        .split("','")
        .map(|m| m.trim_matches('\'').replace("''", "'"))
        .collect()
}

async fn keys(shop: &Shop, tables: &mut [Table]) {
    let sql = match shop.backend {
        Backend::MariaDb => {
            "SELECT table_name, index_name, column_name FROM information_schema.statistics \
             WHERE table_schema = database() AND non_unique = 0 ORDER BY table_name, index_name, seq_in_index"
        }
        _ => {
            "SELECT c.relname::text, i.relname::text, a.attname::text \
             FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum \
             WHERE n.nspname = 'public' AND x.indisunique ORDER BY 1, 2, k.ord"
        }
    };
    let primary = match shop.backend {
        Backend::MariaDb => "PRIMARY".to_string(),
        _ => String::new(),
    };
    let pg_primary: Vec<(String, String)> = if shop.backend == Backend::Postgres {
        shop.rows(
            "SELECT c.relname::text, i.relname::text FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid \
             JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND x.indisprimary",
        )
        .await
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect()
    } else {
        Vec::new()
    };
    let mut current: Option<(String, String, Vec<String>)> = None;
    let mut done: Vec<(String, String, Vec<String>)> = Vec::new();
    for r in shop.rows(sql).await {
        match &mut current {
            Some((t, i, cols)) if *t == r[0] && *i == r[1] => cols.push(r[2].clone()),
            _ => {
                done.extend(current.take());
                current = Some((r[0].clone(), r[1].clone(), vec![r[2].clone()]));
            }
        }
    }
    done.extend(current);
    for (table, index, cols) in done {
        let Some(t) = tables.iter_mut().find(|t| t.name == table) else {
            continue;
        };
        let is_primary = index == primary || pg_primary.contains(&(table.clone(), index.clone()));
        if is_primary {
            t.primary_key = cols;
        } else {
            t.uniques.push(cols);
        }
    }
}

async fn foreign_keys(shop: &Shop, tables: &mut [Table]) {
    let sql = match shop.backend {
        Backend::MariaDb => {
            "SELECT k.table_name, k.constraint_name, k.column_name, k.referenced_table_name, k.referenced_column_name, \
             r.delete_rule FROM information_schema.key_column_usage k \
             JOIN information_schema.referential_constraints r ON r.constraint_schema = k.table_schema \
             AND r.table_name = k.table_name AND r.constraint_name = k.constraint_name \
             WHERE k.table_schema = database() AND k.referenced_table_name IS NOT NULL \
             ORDER BY k.table_name, k.constraint_name, k.ordinal_position"
        }
        _ => {
            "SELECT c.relname::text, con.conname::text, a.attname::text, p.relname::text, pa.attname::text, \
             CASE con.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' ELSE 'OTHER' END \
             FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_class p ON p.oid = con.confrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(col, fcol, ord) \
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.col \
             JOIN pg_attribute pa ON pa.attrelid = con.confrelid AND pa.attnum = k.fcol \
             WHERE con.contype = 'f' AND n.nspname = 'public' ORDER BY 1, 2, k.ord"
        }
    };
    let mut last: Option<(String, String)> = None;
    for r in shop.rows(sql).await {
        let Some(t) = tables.iter_mut().find(|t| t.name == r[0]) else {
            continue;
        };
        let same = last.as_ref() == Some(&(r[0].clone(), r[1].clone()));
        if same {
            let k = t.foreign_keys.last_mut().unwrap();
            k.columns.push(r[2].clone());
            k.parent_columns.push(r[4].clone());
        } else {
            t.foreign_keys.push(ForeignKey {
                columns: vec![r[2].clone()],
                parent: r[3].clone(),
                parent_columns: vec![r[4].clone()],
                on_delete: match r[5].as_str() {
                    "CASCADE" => OnDelete::Cascade,
                    "SET NULL" => OnDelete::SetNull,
                    _ => OnDelete::Other,
                },
            });
        }
        last = Some((r[0].clone(), r[1].clone()));
    }
}

/// MariaDB keeps JSON as LONGTEXT with a CHECK (json_valid(`col`)).
async fn json_checks(shop: &Shop, tables: &mut [Table]) {
    for r in shop
        .rows(
            "SELECT table_name, check_clause FROM information_schema.check_constraints \
             WHERE constraint_schema = database()",
        )
        .await
    {
        let clause = r[1].to_ascii_lowercase();
        let Some(t) = tables.iter_mut().find(|t| t.name == r[0]) else {
            continue;
        };
        for c in &mut t.columns {
            let name = c.name.to_ascii_lowercase();
            // Quoted as the session's sql_mode quotes (the tests use ANSI_QUOTES).
            if clause.contains(&format!("json_valid(`{name}`)"))
                || clause.contains(&format!("json_valid(\"{name}\")"))
            {
                c.json = true;
            }
        }
    }
}

async fn enum_labels(shop: &Shop, tables: &mut [Table]) {
    let labels = shop
        .rows(
            "SELECT t.typname::text, e.enumlabel::text FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid \
             ORDER BY t.typname, e.enumsortorder",
        )
        .await;
    for t in tables.iter_mut() {
        for c in &mut t.columns {
            if c.data_type == "user-defined" {
                c.labels = labels
                    .iter()
                    .filter(|r| r[0] == c.full_type)
                    .map(|r| r[1].clone())
                    .collect();
            }
        }
    }
}
