//! `init`, `check` and `purge` on real shop schemas nobody here wrote, loaded
//! unchanged from their projects' own DDL or migrations (tests/schemas/README.md),
//! each on the backend it targets, filled with rows spanning twelve years. For
//! each: the draft passes `check`; run unchanged it removes or rewrites no row that
//! is younger than its period, or that no policy or cascade reaches (digests of
//! every table's other rows, before and after); a second purge touches nothing;
//! the personal columns a data-protection officer would list are found.

mod catalog;
mod fill;
mod load;
mod rows;

use std::time::Instant;

use serde_json::Value;
use sqlx::{AnyConnection, AssertSqlSafe, Connection};

use crate::support::{Backend, Shop, run_cli, stderr, stdout};

/// A schema and what a data-protection officer expects of its draft.
struct Case {
    name: &'static str,
    backend: Backend,
    statements: Vec<String>,
    /// The order header the draft must find, and tables its cascade must reach.
    orders: (&'static str, &'static [&'static str]),
    /// (table, column) a DPO would list: each must be a finding, covered or not.
    personal: &'static [(&'static str, &'static str)],
}

fn sylius(dialect: &str) -> Vec<String> {
    load::doctrine_migrations(&load::schemas_dir().join("sylius").join(dialect))
}

/// Bagisto's dump: its schema statements; its demo rows are left out, as the
/// tests bring their own.
fn bagisto() -> Vec<String> {
    let text = std::fs::read_to_string(load::schemas_dir().join("bagisto/bagisto.sql")).unwrap();
    load::sql_dump(&text)
        .into_iter()
        .filter(|s| !s.to_ascii_uppercase().starts_with("INSERT"))
        .collect()
}

/// PrestaShop's `db_structure.sql` (or a fork's: thirty bees ships the same
/// layout), with the placeholders its installer fills in: the table prefix, the
/// engine and the collation.
fn prestashop(path: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = text
        .replace("PREFIX_", "ps_")
        .replace("ENGINE_TYPE", "InnoDB")
        .replace(" COLLATION;", ";");
    load::sql_dump(&text)
}

const PRESTASHOP_PERSONAL: &[(&str, &str)] = &[
    ("ps_customer", "email"),
    ("ps_customer", "passwd"),
    ("ps_customer", "note"),
    ("ps_customer", "birthday"),
    ("ps_customer", "newsletter"),
    ("ps_address", "dni"),
    ("ps_address", "vat_number"),
    ("ps_address", "phone_mobile"),
    ("ps_customer_message", "message"),
    ("ps_customer_message", "ip_address"),
    ("ps_mail", "recipient"),
    ("ps_connections", "ip_address"),
];

const SYLIUS_PERSONAL: &[(&str, &str)] = &[
    ("sylius_customer", "email"),
    ("sylius_customer", "first_name"),
    ("sylius_customer", "birthday"),
    ("sylius_customer", "phone_number"),
    ("sylius_address", "street"),
    ("sylius_address", "phone_number"),
    ("sylius_shop_user", "password"),
    ("sylius_admin_user", "password"),
    ("sylius_order", "notes"),
    ("sylius_order", "customer_ip"),
];

const BAGISTO_PERSONAL: &[(&str, &str)] = &[
    ("customers", "email"),
    ("customers", "first_name"),
    ("customers", "password"),
    ("customers", "date_of_birth"),
    ("addresses", "vat_id"),
    ("addresses", "phone"),
    ("addresses", "address"),
    ("orders", "customer_email"),
    ("admins", "password"),
    ("subscribers_list", "email"),
];

async fn a_real_schema(case: &Case) {
    let shop = Shop::on(case.backend, "").await;
    load_into(&shop, &case.statements).await;
    let tables = catalog::read(&shop).await;
    let now = chrono::Utc::now();
    let rows = fill::fill(&shop, &tables, now).await;
    let draft_path = shop.path("draft.toml");
    let cli = |args: &[&str]| run_cli(&draft_path, shop.dir.path(), args);

    let started = Instant::now();
    let out = cli(&["init", "--url", &shop.url, "-o", "draft.toml"]);
    let init_s = started.elapsed().as_secs_f64();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}: {}",
        case.name,
        stderr(&out)
    );
    let text = std::fs::read_to_string(&draft_path).unwrap();
    if std::env::var_os("RETENTIOND_SHOW_DRAFT").is_some() {
        eprintln!("{text}");
    }
    // The URL carries no password in these tests; the draft keeps it whole.
    let draft: toml::Table = text.parse().expect("the draft is TOML");

    let started = Instant::now();
    let check = cli(&["check", "--format", "json"]);
    let check_s = started.elapsed().as_secs_f64();
    let report: Value = serde_json::from_slice(&check.stdout)
        .unwrap_or_else(|e| panic!("{}: {e}: {}{}", case.name, stdout(&check), stderr(&check)));
    assert_eq!(
        report["problems"],
        serde_json::json!([]),
        "{}:\n{text}",
        case.name
    );
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}: {}",
        case.name,
        stderr(&check)
    );

    let policies = draft["policy"].as_array().expect("policies");
    let (header, children) = case.orders;
    let orders = policies
        .iter()
        .find(|p| p["table"].as_str() == Some(header))
        .unwrap_or_else(|| panic!("{}: no policy on {header} in\n{text}", case.name));
    assert_eq!(orders["keep"].as_str(), Some("10 years"));
    let reached = cascade_tables(orders.get("cascade"));
    for child in children {
        assert!(
            reached.contains(&child.to_string()),
            "{}: {child} not in the cascade of {header}:\n{text}",
            case.name
        );
    }
    let findings = report["personal_data"].as_array().unwrap();
    for (table, column) in case.personal {
        assert!(
            findings
                .iter()
                .any(|f| f["table"] == *table && f["column"] == *column),
            "{}: {table}.{column} is not among the personal data found",
            case.name
        );
    }

    let plan = cli(&["plan", "--format", "json"]);
    assert!(
        matches!(plan.status.code(), Some(0 | 3)),
        "{}: {}",
        case.name,
        stderr(&plan)
    );
    let plan: Value = serde_json::from_slice(&plan.stdout).unwrap();
    let doomed = rows::doomed(case.backend, &draft, &plan, &tables);

    let mut conn = rows::utc_conn(&shop).await;
    let mut before = Vec::new();
    let mut doomed_rows = 0;
    for t in &tables {
        let condition = doomed.of(&t.name);
        let keep = condition.as_deref().map_or("1 = 1".into(), rows::not);
        let kept = rows::digest(&mut conn, case.backend, t, &keep).await;
        let gone = match &condition {
            Some(c) => rows::digest(&mut conn, case.backend, t, c).await.1,
            None => 0,
        };
        doomed_rows += gone;
        // Rows an anonymising policy rewrites stay, and are told apart by key.
        let rewritten = match (&condition, doomed.rewritten.contains(&t.name)) {
            (Some(c), true) => Some(rows::keys_where(&mut conn, case.backend, t, c).await),
            _ => None,
        };
        before.push((kept, rewritten));
    }
    assert!(
        doomed_rows > 0,
        "{}: the filled rows span 12 years; some must expire",
        case.name
    );

    let purge = cli(&["purge", "--force", "--format", "json"]);
    assert_eq!(
        purge.status.code(),
        Some(0),
        "{}: {}",
        case.name,
        stderr(&purge)
    );
    let purged: Value = serde_json::from_slice(&purge.stdout).unwrap();
    for (t, (kept, rewritten)) in tables.iter().zip(&before) {
        let rest = match rewritten {
            Some(keys) => rows::not(keys),
            None => "1 = 1".into(),
        };
        let after = rows::digest(&mut conn, case.backend, t, &rest).await;
        assert_eq!(
            &after, kept,
            "{}: table {} lost or changed a row no policy may touch",
            case.name, t.name
        );
    }
    rows::close(conn).await;

    let again = cli(&["purge", "--force", "--format", "json"]);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}: {}",
        case.name,
        stderr(&again)
    );
    let again: Value = serde_json::from_slice(&again.stdout).unwrap();
    for p in again["policies"].as_array().unwrap() {
        assert_eq!(p["rows"], 0, "{}: a second purge touched {p}", case.name);
    }

    let cascades: usize = policies
        .iter()
        .map(|p| cascade_tables(p.get("cascade")).len())
        .sum();
    let covered = findings
        .iter()
        .filter(|f| !f["covered_by"].is_null())
        .count();
    let purged_rows: i64 = purged["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["rows"].as_i64().unwrap_or(0))
        .sum();
    eprintln!(
        "{}: {} tables, {} rows; {} policies, {} cascade tables; personal columns found {} ({} covered), \
         all {} listed by hand among them; init {init_s:.2} s, check {check_s:.2} s; purged {purged_rows} rows",
        case.name,
        tables.len(),
        rows.iter().sum::<usize>(),
        policies.len(),
        cascades,
        findings.len(),
        covered,
        case.personal.len(),
    );
}

/// Runs each statement on a connection of the project's own dialect (MariaDB
/// without the tests' ANSI_QUOTES).
async fn load_into(shop: &Shop, statements: &[String]) {
    let mut c = AnyConnection::connect(&shop.url).await.unwrap();
    for s in statements {
        sqlx::raw_sql(AssertSqlSafe(s.clone()))
            .execute(&mut c)
            .await
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }
    c.close().await.unwrap();
}

fn cascade_tables(cascade: Option<&toml::Value>) -> Vec<String> {
    let mut out = Vec::new();
    for e in cascade.and_then(|c| c.as_array()).into_iter().flatten() {
        out.push(e["table"].as_str().unwrap().to_string());
        out.extend(cascade_tables(e.get("cascade")));
    }
    out
}

/// Sylius on `backend`, from its migrations for that dialect.
fn sylius_case(backend: Backend) -> Case {
    let (name, dialect) = match backend {
        Backend::Postgres => ("Sylius 2.0 (PostgreSQL)", "postgres"),
        _ => ("Sylius 2.0 (MariaDB)", "mysql"),
    };
    Case {
        name,
        backend,
        statements: sylius(dialect),
        orders: (
            "sylius_order",
            &[
                "sylius_order_item",
                "sylius_order_item_unit",
                "sylius_payment",
                "sylius_shipment",
                "sylius_adjustment",
            ],
        ),
        personal: SYLIUS_PERSONAL,
    }
}

#[tokio::test]
async fn sylius_on_mariadb() {
    a_real_schema(&sylius_case(Backend::MariaDb)).await;
}

#[tokio::test]
async fn sylius_on_postgres() {
    a_real_schema(&sylius_case(Backend::Postgres)).await;
}

#[tokio::test]
async fn bagisto_on_mariadb() {
    a_real_schema(&Case {
        name: "Bagisto 2.3 (MariaDB)",
        backend: Backend::MariaDb,
        statements: bagisto(),
        orders: (
            "orders",
            &["order_items", "order_payment", "invoices", "shipments"],
        ),
        personal: BAGISTO_PERSONAL,
    })
    .await;
}

/// PrestaShop's schema is OSL-3.0, so it is not vendored: given a path to its
/// `install-dev/data/db_structure.sql` in RETENTIOND_PRESTASHOP_SCHEMA (`.ci/run`
/// fetches it), it is loaded as its installer loads it.
#[tokio::test]
async fn prestashop_from_a_path_on_mariadb() {
    let Some(path) = std::env::var_os("RETENTIOND_PRESTASHOP_SCHEMA") else {
        eprintln!("RETENTIOND_PRESTASHOP_SCHEMA is not set: PrestaShop's schema was not loaded");
        return;
    };
    a_real_schema(&Case {
        name: "PrestaShop (MariaDB, no foreign keys)",
        backend: Backend::MariaDb,
        statements: prestashop(std::path::Path::new(&path)),
        orders: (
            "ps_orders",
            &[
                "ps_order_detail",
                "ps_order_history",
                "ps_customer_thread",
                "ps_customer_message",
            ],
        ),
        personal: PRESTASHOP_PERSONAL,
    })
    .await;
}
