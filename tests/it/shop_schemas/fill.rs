//! Filling any schema with rows that look like a shop's: every table gets rows
//! dated across twelve years; foreign keys, and integer columns named like another
//! table's key (`id_order`), point at rows that exist; primary and unique keys stay
//! unique; personal columns hold e-mails, phones, IPs and names. Deterministic:
//! the value of a column in row `i` depends on nothing else.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use sqlx::{AssertSqlSafe, Connection};

use super::catalog::{Column, Table};
use crate::support::{Backend, Shop};

/// Rows per table, at most (fewer where a unique key cannot take more).
pub const ROWS: usize = 120;

/// The years the rows' dates span, back from now.
const YEARS: i64 = 12;

const GIVEN: &[&str] = &[
    "Ann", "Bob", "Maria", "Jean", "Sofia", "Lukas", "Emma", "Piotr",
];
const FAMILY: &[&str] = &[
    "Smith", "Garcia", "Müller", "Rossi", "Nowak", "Dubois", "Berg",
];

/// What a column's value in a row is drawn from.
#[derive(Debug, Clone)]
enum Source {
    /// A row of another table: the value of its column.
    Row { table: usize, column: String },
    /// One of `n` fixed choices (enum labels, booleans, tinyint(1) flags).
    Choice(usize),
    /// Anything that embeds the row's number.
    Free,
    /// Nothing: a tree's parent column, which a root leaves empty.
    Null,
}

pub struct Filler<'t> {
    backend: Backend,
    tables: &'t [Table],
    now: DateTime<Utc>,
    /// Rows per table.
    pub rows: Vec<usize>,
    sources: Vec<HashMap<String, Source>>,
    /// Per table: the columns of the key whose combinations must stay distinct,
    /// when it is made of choices only.
    packed: Vec<Vec<String>>,
}

impl<'t> Filler<'t> {
    pub fn new(backend: Backend, tables: &'t [Table], now: DateTime<Utc>) -> Filler<'t> {
        let sources: Vec<HashMap<String, Source>> = tables
            .iter()
            .map(|t| {
                t.columns
                    .iter()
                    .map(|c| (c.name.clone(), source(tables, t, c)))
                    .collect()
            })
            .collect();
        let packed = tables
            .iter()
            .zip(&sources)
            .map(|(t, s)| {
                let key = if t.primary_key.is_empty() {
                    t.uniques.first().cloned().unwrap_or_default()
                } else {
                    t.primary_key.clone()
                };
                let all_choices = !key.is_empty()
                    && key
                        .iter()
                        .all(|c| !matches!(s.get(c), Some(Source::Free | Source::Null) | None));
                if all_choices { key } else { Vec::new() }
            })
            .collect();
        let mut f = Filler {
            backend,
            tables,
            now,
            rows: vec![ROWS; tables.len()],
            sources,
            packed,
        };
        // A key made of references holds at most the product of their tables' rows.
        for _ in 0..4 {
            for i in 0..tables.len() {
                f.rows[i] = ROWS.min(f.capacity(i));
            }
        }
        f
    }

    fn cardinality(&self, t: usize, column: &str) -> usize {
        match &self.sources[t][column] {
            Source::Row { table, .. } => self.rows[*table].max(1),
            Source::Choice(n) => *n,
            Source::Free | Source::Null => usize::MAX,
        }
    }

    fn capacity(&self, t: usize) -> usize {
        let mut cap = usize::MAX;
        let keys = std::iter::once(&self.packed[t]).chain(self.tables[t].uniques.iter());
        for key in keys.filter(|k| !k.is_empty()) {
            if key
                .iter()
                .any(|c| matches!(self.sources[t].get(c), Some(Source::Free) | None))
            {
                continue;
            }
            let product = key
                .iter()
                .fold(1usize, |acc, c| acc.saturating_mul(self.cardinality(t, c)));
            cap = cap.min(product);
        }
        cap
    }

    /// Which of a column's choices row `i` takes: a digit of `i` in the packed key,
    /// else spread over the choices.
    fn choice(&self, t: usize, column: &str, i: usize) -> usize {
        let n = self.cardinality(t, column);
        if let Some(pos) = self.packed[t].iter().position(|c| c == column) {
            let below: usize = self.packed[t][..pos]
                .iter()
                .fold(1usize, |acc, c| acc.saturating_mul(self.cardinality(t, c)));
            return (i / below.max(1)) % n;
        }
        (i * 7 + column.len()) % n
    }

    /// The SQL literal of `column` in row `i` of table `t`.
    pub fn value(&self, t: usize, column: &Column, i: usize, depth: usize) -> String {
        match &self.sources[t][&column.name] {
            Source::Row { table, column: c } if depth < 6 => {
                if self.rows[*table] == 0 {
                    return "NULL".into();
                }
                let j = self.choice(t, &column.name, i);
                let parent = &self.tables[*table];
                let col = parent.column(c).expect("the referenced column");
                self.value(*table, col, j, depth + 1)
            }
            Source::Choice(n) => self.chosen(column, self.choice(t, &column.name, i) % n),
            Source::Null => "NULL".into(),
            _ => self.free(t, column, i),
        }
    }

    fn chosen(&self, c: &Column, k: usize) -> String {
        if !c.labels.is_empty() {
            return quote(&c.labels[k]);
        }
        match (self.backend, c.data_type.as_str()) {
            (Backend::Postgres, "boolean") => if k == 0 { "false" } else { "true" }.into(),
            _ => k.to_string(),
        }
    }

    fn date(&self, t: usize, i: usize) -> DateTime<Utc> {
        let span = Duration::days(365 * YEARS);
        let n = self.rows[t].max(1) as i64;
        self.now - span * (2 * i as i32 + 1) / (2 * n as i32)
    }

    fn free(&self, t: usize, c: &Column, i: usize) -> String {
        let ty = c.data_type.as_str();
        let full = c.full_type.to_ascii_lowercase();
        let unique = self.tables[t].primary_key.contains(&c.name)
            || self.tables[t].uniques.iter().any(|u| u.contains(&c.name));
        if c.json {
            return "'{}'".into();
        }
        match ty {
            "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" => {
                let n = i + 1;
                if ty == "tinyint" {
                    (n % 100).to_string()
                } else {
                    n.to_string()
                }
            }
            "decimal" | "numeric" => {
                let whole = c
                    .precision
                    .unwrap_or(10)
                    .saturating_sub(c.scale.unwrap_or(0))
                    .min(6);
                let limit = 10usize.pow(whole.max(1)) - 1;
                format!(
                    "{}.{}",
                    (i + 1) % limit.max(1),
                    if c.scale.unwrap_or(0) > 0 { "5" } else { "0" }
                )
            }
            "float" | "double" | "real" | "double precision" => format!("{}.25", i + 1),
            "date" => quote(&self.date(t, i).format("%Y-%m-%d").to_string()),
            "datetime"
            | "timestamp"
            | "timestamp without time zone"
            | "timestamp with time zone" => {
                quote(&self.date(t, i).format("%Y-%m-%d %H:%M:%S").to_string())
            }
            "time" | "time without time zone" => "'12:34:56'".into(),
            "year" => (2000 + i % 25).to_string(),
            "uuid" => quote(&format!("00000000-0000-4000-8000-{:012x}", i + 1)),
            "inet" | "cidr" => quote(&format!("203.0.113.{}", i % 250 + 1)),
            "array" => "'{}'".into(),
            "interval" => "'1 day'".into(),
            "bytea" | "binary" | "varbinary" | "blob" | "tinyblob" | "mediumblob" | "longblob" => {
                let len = c.max_len.unwrap_or(8).clamp(1, 16);
                let bytes = (i as u128 + 1).to_be_bytes();
                let hex = hex::encode(&bytes[16 - len..]);
                match self.backend {
                    Backend::Postgres => format!("'\\x{hex}'"),
                    _ => format!("X'{hex}'"),
                }
            }
            "bit" => "0".into(),
            _ if full.starts_with("tinyint(1)") => (i % 2).to_string(),
            _ => quote(&text(&c.name, i, c.max_len, unique)),
        }
    }
}

/// Where a column's values come from.
fn source(tables: &[Table], t: &Table, c: &Column) -> Source {
    if let Some(k) = t.foreign_keys.iter().find(|k| k.columns.contains(&c.name)) {
        // Every row a tree's root (or its own parent where the column must be
        // set): a shop's trees are not random.
        if k.parent == t.name {
            return if c.nullable {
                Source::Null
            } else {
                Source::Free
            };
        }
        let pos = k.columns.iter().position(|x| *x == c.name).unwrap();
        if let Some(p) = tables.iter().position(|x| x.name == k.parent) {
            return Source::Row {
                table: p,
                column: k.parent_columns[pos].clone(),
            };
        }
    }
    if !c.labels.is_empty() {
        return Source::Choice(c.labels.len());
    }
    let integer = matches!(
        c.data_type.as_str(),
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint"
    );
    if c.full_type.to_ascii_lowercase().starts_with("tinyint(1)") || c.data_type == "boolean" {
        return Source::Choice(2);
    }
    // Without a constraint, a column named like another table's key refers to it.
    let own_key = t.primary_key.len() == 1 && t.primary_key[0] == c.name;
    if integer && !own_key {
        let owner = tables.iter().position(|o| {
            o.name != t.name
                && o.primary_key.len() == 1
                && o.primary_key[0].eq_ignore_ascii_case(&c.name)
                && !c.name.eq_ignore_ascii_case("id")
        });
        if let Some(p) = owner {
            return Source::Row {
                table: p,
                column: tables[p].primary_key[0].clone(),
            };
        }
    }
    Source::Free
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A text value that looks like what the column's name says it holds.
fn text(name: &str, i: usize, max_len: Option<usize>, unique: bool) -> String {
    let n = name.to_ascii_lowercase();
    let has = |w: &str| n.contains(w);
    let v = if has("email") || has("mail") || has("recipient") {
        format!("user{i}@example.com")
    } else if has("phone") || has("mobile") || has("fax") {
        format!("+41 44 {:03} 45 67", i % 1000)
    } else if n.split('_').any(|w| w == "ip") || has("remote_addr") {
        format!("203.0.113.{}", i % 250 + 1)
    } else if has("firstname") || has("first_name") {
        GIVEN[i % GIVEN.len()].to_string()
    } else if has("lastname") || has("last_name") || has("surname") {
        FAMILY[i % FAMILY.len()].to_string()
    } else if has("user_agent") {
        format!("Mozilla/5.0 (X11; Linux x86_64) shop/{i}")
    } else if has("passw") {
        format!("$2y$10$hash{i:08}")
    } else if has("city") {
        "Bern".to_string()
    } else if has("postcode") || has("zip") {
        format!("{}", 8000 + i)
    } else if has("address") || has("street") {
        format!("{} Main Street", i + 1)
    } else {
        format!("{name} {i}")
    };
    match max_len {
        Some(m) if v.chars().count() > m => {
            if unique || m < 4 {
                base36(i, m)
            } else {
                v.chars().take(m).collect()
            }
        }
        _ => v,
    }
}

fn base36(mut i: usize, width: usize) -> String {
    let digits = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(digits[i % 36] as char);
        i /= 36;
        if i == 0 {
            break;
        }
    }
    out.reverse();
    let s: String = out.into_iter().collect();
    s.chars()
        .rev()
        .take(width.max(1))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect()
}

/// Fills every table; foreign-key checks are off meanwhile, as a restore does.
pub async fn fill(shop: &Shop, tables: &[Table], now: DateTime<Utc>) -> Vec<usize> {
    let f = Filler::new(shop.backend, tables, now);
    let mut c = shop.conn().await;
    let off = match shop.backend {
        Backend::MariaDb => "SET FOREIGN_KEY_CHECKS = 0",
        _ => "SET session_replication_role = replica",
    };
    sqlx::query(off).execute(&mut c).await.unwrap();
    for (ti, t) in tables.iter().enumerate() {
        let names: Vec<String> = t
            .columns
            .iter()
            .map(|c| format!("\"{}\"", c.name))
            .collect();
        let overriding = if shop.backend == Backend::Postgres {
            " OVERRIDING SYSTEM VALUE"
        } else {
            ""
        };
        for chunk in (0..f.rows[ti]).collect::<Vec<_>>().chunks(60) {
            let rows: Vec<String> = chunk
                .iter()
                .map(|&i| {
                    let values: Vec<String> =
                        t.columns.iter().map(|c| f.value(ti, c, i, 0)).collect();
                    format!("({})", values.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO \"{}\" ({}){overriding} VALUES {}",
                t.name,
                names.join(", "),
                rows.join(", ")
            );
            sqlx::raw_sql(AssertSqlSafe(sql))
                .execute(&mut c)
                .await
                .unwrap_or_else(|e| panic!("filling {}: {e}", t.name));
        }
    }
    c.close().await.unwrap();
    f.rows
}
