//! Which rows a drafted config may touch, and a digest of the rest: a row of a
//! policy's table is doomed when it is expired (and matches the filter); a cascade
//! child's when it refers to a doomed parent row; every other row must come out
//! of a purge exactly as it went in.

use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, AssertSqlSafe, Connection, Row};

use super::catalog::{OnDelete, Table};
use crate::support::{Backend, Shop};

/// A connection that reads instants in UTC and quotes identifiers with `"`.
pub async fn utc_conn(shop: &Shop) -> AnyConnection {
    let mut c = shop.conn().await;
    let set = match shop.backend {
        Backend::MariaDb => "SET time_zone = '+00:00'",
        _ => "SET TIME ZONE 'UTC'",
    };
    sqlx::query(set).execute(&mut c).await.unwrap();
    c
}

/// The SQL condition that a row of table `table` is doomed, per policy tree.
#[derive(Debug, Default, Clone)]
pub struct Doomed {
    /// (table, condition), a table once per policy or cascade entry that takes it.
    pub conditions: Vec<(String, String)>,
    /// Tables whose doomed rows stay but are rewritten (anonymising policies).
    pub rewritten: Vec<String>,
}

impl Doomed {
    pub fn of(&self, table: &str) -> Option<String> {
        let c: Vec<String> = self
            .conditions
            .iter()
            .filter(|(t, _)| t == table)
            .map(|(_, c)| format!("({c})"))
            .collect();
        (!c.is_empty()).then(|| c.join(" OR "))
    }
}

/// Reads each drafted policy (and its cascade) into doomed-row conditions.
pub fn doomed(
    backend: Backend,
    draft: &toml::Table,
    cutoffs: &serde_json::Value,
    tables: &[Table],
) -> Doomed {
    let mut d = Doomed::default();
    for p in draft["policy"].as_array().expect("policies") {
        let name = p["name"].as_str().unwrap();
        let table = p["table"].as_str().unwrap();
        let ts = p["timestamp"].as_str().unwrap();
        let cutoff = cutoffs["policies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == name)
            .and_then(|x| x["cutoff"].as_str())
            .unwrap_or_else(|| panic!("a cutoff for {name}"));
        let naive = cutoff.replace('T', " ").trim_end_matches('Z').to_string();
        let mut cond = format!("\"{ts}\" < '{naive}'");
        if let Some(f) = p.get("filter").and_then(|f| f.as_table()) {
            for (col, v) in f {
                cond.push_str(&match backend {
                    // A boolean column holds `false` where the filter says 0.
                    Backend::Postgres => format!(
                        " AND \"{col}\"::text IN ('{v}', '{}')",
                        if v.as_integer() == Some(0) {
                            "false"
                        } else {
                            "true"
                        }
                    ),
                    _ => format!(" AND \"{col}\" = {v}"),
                });
            }
        }
        if p["action"].as_str() == Some("anonymize") {
            d.rewritten.push(table.to_string());
        }
        let key = key_of(p, tables, table);
        if let Some(c) = p.get("cascade").and_then(|c| c.as_array()) {
            cascade(&mut d, table, &key, &cond, c, tables);
        }
        d.conditions.push((table.to_string(), cond));
    }
    database_cascades(&mut d, tables);
    d
}

/// Rows the database deletes itself with a doomed row (a foreign key ON DELETE
/// CASCADE): the shop's schema decides those, not the config.
fn database_cascades(d: &mut Doomed, tables: &[Table]) {
    for _ in 0..4 {
        let mut added = Vec::new();
        for t in tables {
            for k in t
                .foreign_keys
                .iter()
                .filter(|k| k.on_delete == OnDelete::Cascade && k.parent != t.name)
            {
                let Some(parent) = d.of(&k.parent) else {
                    continue;
                };
                let list = |cols: &[String]| -> String {
                    let q: Vec<String> = cols.iter().map(|c| format!("\"{c}\"")).collect();
                    q.join(", ")
                };
                let cond = format!(
                    "({}) IN (SELECT {} FROM \"{}\" WHERE {parent})",
                    list(&k.columns),
                    list(&k.parent_columns),
                    k.parent
                );
                if !d
                    .conditions
                    .iter()
                    .any(|(x, c)| x == &t.name && c.contains(&cond))
                {
                    added.push((t.name.clone(), cond));
                }
            }
        }
        if added.is_empty() {
            return;
        }
        d.conditions.extend(added);
    }
}

fn key_of(p: &toml::Value, tables: &[Table], table: &str) -> Vec<String> {
    match p.get("key") {
        Some(toml::Value::String(k)) => vec![k.clone()],
        Some(toml::Value::Array(ks)) => {
            ks.iter().map(|k| k.as_str().unwrap().to_string()).collect()
        }
        _ => {
            let t = tables.iter().find(|t| t.name == table).unwrap();
            if t.column("id").is_some() {
                vec!["id".into()]
            } else {
                t.primary_key.clone()
            }
        }
    }
}

fn names(v: &toml::Value) -> Vec<String> {
    match v {
        toml::Value::String(s) => vec![s.clone()],
        toml::Value::Array(a) => a.iter().map(|x| x.as_str().unwrap().to_string()).collect(),
        other => panic!("a column list: {other}"),
    }
}

fn cascade(
    d: &mut Doomed,
    parent: &str,
    parent_key: &[String],
    parent_cond: &str,
    entries: &[toml::Value],
    tables: &[Table],
) {
    for e in entries {
        let table = e["table"].as_str().unwrap();
        let fk = names(&e["foreign_key"]);
        let refs = e
            .get("references")
            .map(names)
            .unwrap_or_else(|| parent_key.to_vec());
        let list = |cols: &[String]| -> String {
            let q: Vec<String> = cols.iter().map(|c| format!("\"{c}\"")).collect();
            q.join(", ")
        };
        let cond = format!(
            "({}) IN (SELECT {} FROM \"{parent}\" WHERE {parent_cond})",
            list(&fk),
            list(&refs)
        );
        let own_key = tables
            .iter()
            .find(|t| t.name == table)
            .map(|t| t.primary_key.clone())
            .unwrap_or_default();
        if let Some(c) = e.get("cascade").and_then(|c| c.as_array()) {
            cascade(d, table, &own_key, &cond, c, tables);
        }
        d.conditions.push((table.to_string(), cond));
    }
}

fn read_as_text(backend: Backend, t: &Table, column: &str) -> String {
    let c = t.column(column).unwrap();
    let binary = matches!(
        c.data_type.as_str(),
        "binary" | "varbinary" | "blob" | "tinyblob" | "mediumblob" | "longblob" | "bytea"
    );
    match (backend, binary) {
        (Backend::MariaDb, true) => format!("HEX(\"{column}\")"),
        (Backend::MariaDb, false) => format!("CAST(\"{column}\" AS CHAR)"),
        (_, true) => format!("encode(\"{column}\", 'hex')"),
        _ => format!("\"{column}\"::text"),
    }
}

/// SHA-256 of the rows of `t` that satisfy `condition`, every column as text, in
/// the order of the primary key (or of all columns).
pub async fn digest(
    conn: &mut AnyConnection,
    backend: Backend,
    t: &Table,
    condition: &str,
) -> (String, usize) {
    // A reference the database sets to NULL when its row goes (ON DELETE SET
    // NULL) is the schema's doing, not the config's.
    let set_null: Vec<&String> = t
        .foreign_keys
        .iter()
        .filter(|k| k.on_delete == OnDelete::SetNull)
        .flat_map(|k| &k.columns)
        .collect();
    let reads: Vec<String> = t
        .columns
        .iter()
        .filter(|c| !set_null.contains(&&c.name))
        .map(|c| format!("coalesce({}, '<null>')", read_as_text(backend, t, &c.name)))
        .collect();
    let order: Vec<String> = if t.primary_key.is_empty() {
        (1..=reads.len()).map(|i| i.to_string()).collect()
    } else {
        t.primary_key.iter().map(|k| format!("\"{k}\"")).collect()
    };
    let sql = format!(
        "SELECT {} FROM \"{}\" WHERE {condition} ORDER BY {}",
        reads.join(", "),
        t.name,
        order.join(", ")
    );
    let rows = sqlx::query(AssertSqlSafe(sql.clone()))
        .fetch_all(&mut *conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut h = Sha256::new();
    for r in &rows {
        for i in 0..r.len() {
            let v: String = r.try_get(i).unwrap_or_else(|e| panic!("{}: {e}", t.name));
            h.update(v.as_bytes());
            h.update([0]);
        }
        h.update([1]);
    }
    (hex::encode(h.finalize()), rows.len())
}

/// `NOT (condition)`, where a condition that is NULL for a row (a NULL timestamp)
/// counts as false: such rows are never purged.
pub fn not(condition: &str) -> String {
    format!("CASE WHEN {condition} THEN 0 ELSE 1 END = 1")
}

/// The primary keys of the rows of `t` that satisfy `condition`, as one SQL
/// condition that holds for exactly those rows (for reading them back later).
pub async fn keys_where(
    conn: &mut AnyConnection,
    backend: Backend,
    t: &Table,
    condition: &str,
) -> String {
    assert!(!t.primary_key.is_empty(), "{} has no primary key", t.name);
    let reads: Vec<String> = t
        .primary_key
        .iter()
        .map(|k| read_as_text(backend, t, k))
        .collect();
    let sql = format!(
        "SELECT {} FROM \"{}\" WHERE {condition}",
        reads.join(", "),
        t.name
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    if rows.is_empty() {
        return "1 = 0".into();
    }
    let lhs: Vec<String> = t
        .primary_key
        .iter()
        .map(|k| read_as_text(backend, t, k))
        .collect();
    let values: Vec<String> = rows
        .iter()
        .map(|r| {
            let v: Vec<String> = (0..r.len())
                .map(|i| format!("'{}'", r.get::<String, _>(i).replace('\'', "''")))
                .collect();
            format!("({})", v.join(", "))
        })
        .collect();
    format!("({}) IN ({})", lhs.join(", "), values.join(", "))
}

pub async fn close(conn: AnyConnection) {
    conn.close().await.unwrap();
}
