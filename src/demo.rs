//! `retentiond demo`: a sample shop on SQLite with twelve years of data, in the
//! timestamp encodings real shops use, to be purged by `./retention.toml`.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::db::{Db, DbError, SqlValue};

mod uploads;

pub use uploads::{UploadsError, folder_for};

/// Written to SQLite's `application_id` header field, so that `demo` only ever
/// replaces a database it created itself.
pub const DEMO_APPLICATION_ID: i64 = 0x5254_4e44; // "RTND"

const SCHEMA: &str = include_str!("demo_shop.sql");

/// Row counts of the generated shop, per table.
#[derive(Debug, Clone, Default)]
pub struct DemoData {
    pub tables: Vec<(&'static str, u64)>,
    /// Where the KYC scans were written, and how many.
    pub uploads: Option<(PathBuf, u64)>,
}

impl DemoData {
    pub fn total(&self) -> u64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("{0} exists and is not a retentiond demo database; pass --db with another path")]
    NotADemo(String),
    // The cause is in the message, not a `source`: `{:#}` would print it twice.
    #[error("cannot replace the old demo database {path}: {error}")]
    Remove { path: String, error: std::io::Error },
    #[error("cannot create the demo HMAC key {path}: {error}")]
    Key { path: String, error: std::io::Error },
    #[error(transparent)]
    Uploads(#[from] UploadsError),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The file `[section] key` names in the config at `config_path`, resolved
/// against its folder; read before the config is loaded, which needs the file.
fn named_file(config_path: &Path, section: &str, key: &str) -> Result<Option<PathBuf>, DemoError> {
    let text = std::fs::read_to_string(config_path).map_err(|error| DemoError::Key {
        path: config_path.display().to_string(),
        error,
    })?;
    let Ok(root) = toml::de::DeTable::parse(&text) else {
        return Ok(None);
    };
    let value = root
        .get_ref()
        .iter()
        .find(|(k, _)| k.get_ref() == section)
        .and_then(|(_, v)| match v.get_ref() {
            toml::de::DeValue::Table(t) => t
                .iter()
                .find(|(k, _)| k.get_ref() == key)
                .map(|(_, v)| v.get_ref().clone()),
            _ => None,
        });
    let Some(toml::de::DeValue::String(file)) = value else {
        return Ok(None);
    };
    let base = config_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Ok(Some(base.join(file.as_ref())))
}

/// Tokens the demo made for the API: name, role and the token, shown once.
pub type DemoTokens = Vec<(String, crate::tokens::Role, String)>;

/// Creates the API's token file, with an `app` and a `dpo` token, when `[http]`
/// names one that does not exist yet. Only `demo` does this.
pub fn ensure_tokens(config_path: &Path) -> Result<DemoTokens, DemoError> {
    use crate::tokens::Role;
    let Some(path) = named_file(config_path, "http", "tokens_file")? else {
        return Ok(Vec::new());
    };
    if path.exists() {
        return Ok(Vec::new());
    }
    let mut made = Vec::new();
    for (name, role) in [("demo-app", Role::App), ("demo-dpo", Role::Dpo)] {
        let token = crate::tokens::add(&path, name, role).map_err(|e| DemoError::Key {
            path: path.display().to_string(),
            error: std::io::Error::other(e.to_string()),
        })?;
        made.push((name.to_string(), role, token));
    }
    Ok(made)
}

/// Creates the HMAC key the config names if it does not exist yet: the demo should
/// run on a fresh clone without manual steps. Only `demo` does this.
pub fn ensure_key(config_path: &Path) -> Result<Option<PathBuf>, DemoError> {
    let Some(path) = named_file(config_path, "anonymize", "key_file")? else {
        return Ok(None);
    };
    if path.exists() {
        return Ok(None);
    }
    let mut key = [0u8; crate::config::MIN_KEY_BYTES];
    rand::fill(&mut key);
    write_private(&path, &key).map_err(|error| DemoError::Key {
        path: path.display().to_string(),
        error,
    })?;
    Ok(Some(path))
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}

/// Whether the file at `path` is a database `demo` created.
async fn is_demo(path: &Path) -> bool {
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    // SQLite keeps application_id big-endian at offset 68 of the header.
    bytes.len() >= 72
        && bytes.starts_with(b"SQLite format 3\0")
        && i64::from(u32::from_be_bytes([
            bytes[68], bytes[69], bytes[70], bytes[71],
        ])) == DEMO_APPLICATION_ID
}

/// Creates the sample shop at `path`, replacing an earlier demo database there,
/// and a stand-in scan per KYC document in `uploads` when the config keeps them.
pub async fn create(
    path: &Path,
    uploads: Option<&Path>,
    now: DateTime<Utc>,
) -> Result<DemoData, DemoError> {
    if path.exists() {
        if !is_demo(path).await {
            return Err(DemoError::NotADemo(path.display().to_string()));
        }
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let p = format!("{}{suffix}", path.display());
            if Path::new(&p).exists() {
                std::fs::remove_file(&p).map_err(|error| DemoError::Remove {
                    path: p.clone(),
                    error,
                })?;
            }
        }
    }
    if let Some(dir) = uploads {
        uploads::fill(dir, (1..=KYC as i64).map(scan_path))?;
    }
    let mut db = Db::create_sqlite(path).await?;
    db.execute_script(SCHEMA).await?;
    let mut data = db
        .write_tx(async |db: &mut Db| generate(db, now).await.map(Some))
        .await?
        .expect("generating always has data to commit");
    db.close().await?;
    data.uploads = uploads.map(|dir| (dir.to_path_buf(), KYC as u64));
    Ok(data)
}

const FIRST_NAMES: &[&str] = &[
    "Ayu", "Budi", "Citra", "Dewi", "Eko", "Fitri", "Gita", "Hadi", "Indah", "Joko", "Kartika",
    "Lestari", "Maya", "Nanda", "Oka", "Putri", "Rudi", "Sari", "Tono", "Wati", "Anna", "Ben",
    "Clara", "David", "Emma", "Felix", "Greta", "Hugo", "Ida", "Jonas",
];
const LAST_NAMES: &[&str] = &[
    "Santoso", "Wijaya", "Kusuma", "Hartono", "Saputra", "Pratama", "Halim", "Gunawan", "Schmidt",
    "Müller", "Weber", "Fischer", "Meyer", "Wagner", "Becker", "Hoffmann",
];
const DOMAINS: &[&str] = &[
    "example.com",
    "example.net",
    "example.org",
    "mail.example",
    "shop.example",
];
const STREETS: &[&str] = &[
    "Jalan Merdeka",
    "Jalan Sudirman",
    "Hauptstraße",
    "Bahnhofstraße",
    "Jalan Gatot Subroto",
];
const AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36",
];
const PATHS: &[&str] = &[
    "/",
    "/search",
    "/product/batik-shirt",
    "/product/kopi-luwak",
    "/cart",
    "/checkout",
    "/account",
];
const SKUS: &[&str] = &[
    "BTK-001", "KOP-250", "TEH-100", "SRG-XL", "TAS-RTN", "KRS-07",
];

/// Customers: when the shop began, twelve years ago; the business grows, so later
/// years hold more data (density rising linearly).
const YEARS: i64 = 12;
const CUSTOMERS: usize = 15_000;
const ORDERS: usize = 50_000;
const KYC: usize = 6_000;
const CONSENTS: usize = 10_000;
const ANALYTICS: usize = 120_000;
/// Analytics started four years ago.
const ANALYTICS_YEARS: i64 = 4;

fn growing(rng: &mut StdRng, start: DateTime<Utc>, end: DateTime<Utc>) -> DateTime<Utc> {
    let span = (end - start).num_seconds().max(1) as f64;
    let u: f64 = rng.random();
    start + Duration::seconds((span * u.sqrt()) as i64)
}

fn iso_z(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// What every table of the sample shop is drawn from: one seeded generator, the
/// shop's time span, and when each customer signed up (ids follow signup order).
struct Draw {
    rng: StdRng,
    now: DateTime<Utc>,
    begin: DateTime<Utc>,
    created: Vec<DateTime<Utc>>,
}

type Rows = Vec<Vec<SqlValue>>;

async fn generate(db: &mut Db, now: DateTime<Utc>) -> Result<DemoData, DbError> {
    // The seed is fixed so two demos on the same day hold the same shop.
    let mut rng = StdRng::seed_from_u64(20261122);
    let begin = now - Duration::days(365 * YEARS + 3);
    let mut created: Vec<DateTime<Utc>> = (0..CUSTOMERS)
        .map(|_| growing(&mut rng, begin, now - Duration::days(1)))
        .collect();
    created.sort();
    let mut g = Draw {
        rng,
        now,
        begin,
        created,
    };
    // The tables are drawn in this order: each draw moves the generator on.
    db.insert_rows("customers", CUSTOMER_COLUMNS, customers(&mut g))
        .await?;
    let (orders, items) = orders(&mut g);
    let (n_orders, n_items) = (orders.len() as u64, items.len() as u64);
    db.insert_rows("orders", ORDER_COLUMNS, orders).await?;
    db.insert_rows("order_items", ITEM_COLUMNS, items).await?;
    db.insert_rows("kyc_documents", KYC_COLUMNS, kyc_documents(&mut g))
        .await?;
    db.insert_rows("marketing_consents", CONSENT_COLUMNS, consents(&mut g))
        .await?;
    db.insert_rows("analytics_events", EVENT_COLUMNS, analytics(&mut g))
        .await?;
    Ok(DemoData {
        tables: vec![
            ("customers", CUSTOMERS as u64),
            ("orders", n_orders),
            ("order_items", n_items),
            ("kyc_documents", KYC as u64),
            ("marketing_consents", CONSENTS as u64),
            ("analytics_events", ANALYTICS as u64),
        ],
        uploads: None,
    })
}

const CUSTOMER_COLUMNS: &[&str] = &[
    "id",
    "email",
    "name",
    "phone",
    "birth_date",
    "last_ip",
    "created_at",
    "last_login_at",
    "anonymized_at",
];
const ORDER_COLUMNS: &[&str] = &[
    "id",
    "customer_id",
    "placed_at",
    "status",
    "total_cents",
    "shipping_address",
];
const ITEM_COLUMNS: &[&str] = &["id", "order_id", "sku", "quantity", "price_cents"];
const KYC_COLUMNS: &[&str] = &[
    "id",
    "customer_id",
    "kind",
    "document_number",
    "verified_at",
    "scan_path",
];
const CONSENT_COLUMNS: &[&str] = &[
    "id",
    "customer_id",
    "email",
    "channel",
    "consented_at",
    "unsubscribed_at",
];
const EVENT_COLUMNS: &[&str] = &[
    "id",
    "customer_id",
    "session_id",
    "ip_address",
    "user_agent",
    "path",
    "occurred_at",
];

fn customers(g: &mut Draw) -> Rows {
    let mut customers = Vec::with_capacity(CUSTOMERS);
    for id in 1..=CUSTOMERS as i64 {
        let first = FIRST_NAMES[g.rng.random_range(0..FIRST_NAMES.len())];
        let last = LAST_NAMES[g.rng.random_range(0..LAST_NAMES.len())];
        let domain = DOMAINS[g.rng.random_range(0..DOMAINS.len())];
        let created_at = g.created[id as usize - 1];
        // Most customers come back now and then; the time since their last login
        // is exponential with a mean of 18 months.
        let idle_days = (-(1.0 - g.rng.random::<f64>()).ln() * 547.0) as i64;
        let last_login =
            (g.now - Duration::days(idle_days) - Duration::seconds(g.rng.random_range(0..86_400)))
                .max(created_at);
        let birth = g.now - Duration::days(g.rng.random_range(18 * 365..80 * 365));
        customers.push(vec![
            SqlValue::Int(id),
            SqlValue::Text(format!(
                "{}.{}{}@{domain}",
                first.to_lowercase(),
                last.to_lowercase(),
                id
            )),
            SqlValue::Text(format!("{first} {last}")),
            SqlValue::Text(format!(
                "+62 8{:02} {:04} {:04}",
                g.rng.random_range(11..99),
                g.rng.random_range(0..10_000),
                g.rng.random_range(0..10_000)
            )),
            SqlValue::Text(birth.format("%Y-%m-%d").to_string()),
            SqlValue::Text(format!(
                "203.0.{}.{}",
                g.rng.random_range(0..256),
                g.rng.random_range(1..255)
            )),
            SqlValue::Text(iso_z(created_at)),
            SqlValue::Text(iso_z(last_login)),
            SqlValue::Null,
        ]);
    }
    customers
}

/// Orders and their items; ids follow `placed_at`, as in a real shop.
fn orders(g: &mut Draw) -> (Rows, Rows) {
    let jakarta = chrono::FixedOffset::east_opt(7 * 3600).expect("+07:00 is valid");
    let mut orders = Vec::with_capacity(ORDERS);
    let mut items = Vec::new();
    let mut item_id = 0i64;
    for id in 1..=ORDERS as i64 {
        let placed = growing(&mut g.rng, g.begin, g.now - Duration::hours(1));
        let customer = existing_customer(&g.created, placed, &mut g.rng);
        let placed = placed.max(g.created[customer]);
        let age_days = (g.now - placed).num_days();
        let status = match g.rng.random_range(0..100) {
            _ if age_days < 3 => "pending",
            _ if age_days < 10 => "shipped",
            0..=2 => "disputed",
            3..=8 => "cancelled",
            9..=11 => "refunded",
            _ => "delivered",
        };
        let n_items = g.rng.random_range(1..5);
        let mut total = 0;
        for _ in 0..n_items {
            item_id += 1;
            let price = g.rng.random_range(15..500) * 1000;
            let qty = g.rng.random_range(1..4);
            total += price * qty;
            items.push(vec![
                SqlValue::Int(item_id),
                SqlValue::Int(id),
                SqlValue::Text(SKUS[g.rng.random_range(0..SKUS.len())].into()),
                SqlValue::Int(qty),
                SqlValue::Int(price),
            ]);
        }
        orders.push(vec![
            SqlValue::Int(id),
            SqlValue::Int(customer as i64 + 1),
            SqlValue::Text(
                placed
                    .with_timezone(&jakarta)
                    .format("%Y-%m-%dT%H:%M:%S%:z")
                    .to_string(),
            ),
            SqlValue::Text(status.into()),
            SqlValue::Int(total),
            SqlValue::Text(format!(
                "{} {}, Jakarta",
                STREETS[g.rng.random_range(0..STREETS.len())],
                g.rng.random_range(1..300)
            )),
        ]);
    }
    // Orders come in time order in a real shop; ids follow placed_at.
    orders.sort_by(|a, b| a[2].as_text().cmp(&b[2].as_text()));
    let mut renumber = vec![0i64; ORDERS + 1];
    for (i, o) in orders.iter_mut().enumerate() {
        if let SqlValue::Int(old) = o[0] {
            renumber[old as usize] = i as i64 + 1;
        }
        o[0] = SqlValue::Int(i as i64 + 1);
    }
    for it in items.iter_mut() {
        if let SqlValue::Int(old) = it[1] {
            it[1] = SqlValue::Int(renumber[old as usize]);
        }
    }
    (orders, items)
}

fn kyc_documents(g: &mut Draw) -> Rows {
    let mut kyc = Vec::with_capacity(KYC);
    for id in 1..=KYC as i64 {
        let verified = growing(&mut g.rng, g.begin, g.now - Duration::hours(1));
        let customer = existing_customer(&g.created, verified, &mut g.rng);
        let verified = verified.max(g.created[customer]);
        kyc.push(vec![
            SqlValue::Int(id),
            SqlValue::Int(customer as i64 + 1),
            SqlValue::Text(
                ["passport", "national_id", "proof_of_address"][g.rng.random_range(0..3)].into(),
            ),
            SqlValue::Text(format!(
                "{:016}",
                g.rng.random_range(0..10_000_000_000_000_000i64)
            )),
            SqlValue::Int(verified.timestamp()),
            SqlValue::Text(scan_path(id)),
        ]);
    }
    kyc
}

/// Where the demo keeps a KYC document's scan, under its uploads folder.
fn scan_path(id: i64) -> String {
    format!("kyc/{:03}/{id:06}.pdf", id / 1000)
}

fn consents(g: &mut Draw) -> Rows {
    let mut consents = Vec::with_capacity(CONSENTS);
    for id in 1..=CONSENTS as i64 {
        let consented = growing(&mut g.rng, g.begin, g.now - Duration::days(1));
        let customer = existing_customer(&g.created, consented, &mut g.rng);
        let consented = consented.max(g.created[customer]);
        let unsubscribed = g
            .rng
            .random_bool(0.3)
            .then(|| growing(&mut g.rng, consented, g.now));
        let email = customers_email(customer, &mut g.rng);
        consents.push(vec![
            SqlValue::Int(id),
            SqlValue::Int(customer as i64 + 1),
            SqlValue::Text(email),
            SqlValue::Text(
                ["newsletter", "sms", "partner_offers"][g.rng.random_range(0..3)].into(),
            ),
            SqlValue::Text(iso_z(consented)),
            unsubscribed
                .map(|t| SqlValue::Text(iso_z(t)))
                .unwrap_or(SqlValue::Null),
        ]);
    }
    consents
}

fn analytics(g: &mut Draw) -> Rows {
    let analytics_begin = g.now - Duration::days(365 * ANALYTICS_YEARS);
    let mut events = Vec::with_capacity(ANALYTICS);
    for id in 1..=ANALYTICS as i64 {
        let at = growing(&mut g.rng, analytics_begin, g.now);
        let customer = g
            .rng
            .random_bool(0.4)
            .then(|| g.rng.random_range(1..=CUSTOMERS as i64));
        let ip = if g.rng.random_bool(0.2) {
            format!(
                "2001:db8:{:x}:{:x}::{:x}",
                g.rng.random_range(0..0xffff),
                g.rng.random_range(0..0xffff),
                g.rng.random_range(1..0xffff)
            )
        } else {
            format!(
                "198.51.{}.{}",
                g.rng.random_range(0..256),
                g.rng.random_range(1..255)
            )
        };
        events.push(vec![
            SqlValue::Int(id),
            customer.map(SqlValue::Int).unwrap_or(SqlValue::Null),
            SqlValue::Text(format!("s{:012x}", g.rng.random_range(0..u64::MAX >> 16))),
            SqlValue::Text(ip),
            SqlValue::Text(AGENTS[g.rng.random_range(0..AGENTS.len())].into()),
            SqlValue::Text(PATHS[g.rng.random_range(0..PATHS.len())].into()),
            SqlValue::Text(at.format("%Y-%m-%d %H:%M:%S").to_string()),
        ]);
    }
    events.sort_by(|a, b| a[6].as_text().cmp(&b[6].as_text()));
    for (i, e) in events.iter_mut().enumerate() {
        e[0] = SqlValue::Int(i as i64 + 1);
    }
    events
}

/// A customer who had signed up by `t` (the first customer if none had).
fn existing_customer(created: &[DateTime<Utc>], t: DateTime<Utc>, rng: &mut StdRng) -> usize {
    let signed_up = created.partition_point(|c| *c <= t);
    rng.random_range(0..signed_up.max(1))
}

/// A consent's e-mail address: usually the customer's, sometimes another one.
fn customers_email(customer: usize, rng: &mut StdRng) -> String {
    let domain = DOMAINS[rng.random_range(0..DOMAINS.len())];
    format!("subscriber{}@{domain}", customer + 1)
}
