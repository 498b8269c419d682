//! retentiond's own tables: a migration cut short on MySQL / MariaDB, where DDL
//! commits as it goes, is finished by the next start instead of blocking it.
//! (PostgreSQL and SQLite run each migration in one transaction.)

use crate::support::{Backend, Shop, stderr, stdout};

const SHOP: &str = "CREATE TABLE events (id INTEGER PRIMARY KEY, at VARCHAR(40) NOT NULL)";
const CONFIG: &str = "[[policy]]\nname = \"events\"\ntable = \"events\"\ntimestamp = \"at\"\nkeep = \"5 years\"\naction = \"delete\"\n";

/// retentiond's own schema as the catalog describes it, and the rows it seeds.
async fn own_schema(shop: &Shop) -> Vec<Vec<String>> {
    let mut out = shop
        .rows(
            "SELECT CAST(table_name AS CHAR), CAST(column_name AS CHAR), CAST(column_type AS CHAR),
                    CAST(is_nullable AS CHAR), CAST(coalesce(column_default, 'none') AS CHAR)
             FROM information_schema.columns
             WHERE table_schema = database() AND table_name LIKE 'retention%' ORDER BY 1, 2",
        )
        .await;
    out.extend(
        shop.rows(
            "SELECT CAST(table_name AS CHAR), CAST(index_name AS CHAR), CAST(column_name AS CHAR),
                    CAST(non_unique AS CHAR)
             FROM information_schema.statistics
             WHERE table_schema = database() AND table_name LIKE 'retention%' ORDER BY 1, 2, seq_in_index",
        )
        .await,
    );
    out.extend(
        shop.rows(
            "SELECT CAST(version AS CHAR), CAST(success AS CHAR), hex(checksum) FROM retention_migrations ORDER BY 1",
        )
        .await,
    );
    out.extend(
        shop.rows("SELECT CAST(id AS CHAR), name FROM retention_lease ORDER BY 1")
            .await,
    );
    out
}

/// The statements of each file in migrations/mysql, in order, by version.
fn mysql_migrations() -> Vec<(i64, Vec<String>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/mysql");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy();
            let version: i64 = name.split('_').next().unwrap().parse().unwrap();
            let text = std::fs::read_to_string(path).unwrap();
            let code: String = text
                .lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .map(|l| format!("{l}\n"))
                .collect();
            let statements = code
                .split(";\n")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            (version, statements)
        })
        .collect()
}

/// Every way a start can be killed inside a migration: for each migration, after
/// each of its statements (none, some, all). The next `migrate` finishes it and
/// the schema is the one an uninterrupted start makes.
#[tokio::test]
async fn a_migration_cut_short_is_finished_by_the_next_start() {
    let reference = Shop::on(Backend::MariaDb, SHOP).await;
    reference.write_config(CONFIG);
    let out = reference.cli(&["migrate"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let expected = own_schema(&reference).await;
    let reference_db = reference.url.rsplit('/').next().unwrap().to_string();

    let migrations = mysql_migrations();
    assert!(migrations.len() >= 6, "{migrations:?}");
    let mut cases = 0;
    for (i, (version, statements)) in migrations.iter().enumerate() {
        for done in 0..=statements.len() {
            let shop = Shop::on(Backend::MariaDb, SHOP).await;
            shop.write_config(CONFIG);
            // The state sqlx leaves when the process dies inside migration `version`
            // after `done` of its statements: earlier migrations recorded and applied,
            // this one recorded as started (success = FALSE).
            shop.exec(&format!(
                "CREATE TABLE retention_migrations LIKE {reference_db}.retention_migrations;
                 INSERT INTO retention_migrations SELECT * FROM {reference_db}.retention_migrations
                     WHERE version <= {version};
                 UPDATE retention_migrations SET success = FALSE WHERE version = {version};"
            ))
            .await;
            for (_, earlier) in &migrations[..i] {
                for statement in earlier {
                    shop.exec(statement).await;
                }
            }
            for statement in &statements[..done] {
                shop.exec(statement).await;
            }

            let out = shop.cli(&["migrate"]);
            assert_eq!(
                out.status.code(),
                Some(0),
                "migration {version} cut after {done} statements: {}{}",
                stdout(&out),
                stderr(&out)
            );
            assert!(
                stderr(&out)
                    .contains("finished a migration that an earlier start left half applied"),
                "{}",
                stderr(&out)
            );
            assert_eq!(
                own_schema(&shop).await,
                expected,
                "migration {version} cut after {done} statements"
            );
            // And the start after that is an ordinary one.
            let again = shop.cli(&["migrate"]);
            assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
            assert!(!stderr(&again).contains("half applied"));
            cases += 1;
        }
    }
    assert!(cases >= 15, "{cases} cases");
}
