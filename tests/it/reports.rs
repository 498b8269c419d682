//! Purge reports: exact totals in all four formats, a golden Markdown file, and the
//! enforcement check turning from backlog to compliance.

use chrono::Utc;

use crate::support::{Backend, Shop, run_cli, stderr};

const SCHEMA: &str = "
CREATE TABLE sessions (id INTEGER PRIMARY KEY, seen_at VARCHAR(40) NOT NULL, subject VARCHAR(20));
CREATE INDEX sessions_seen_at ON sessions (seen_at);
CREATE TABLE visits (id INTEGER PRIMARY KEY, at VARCHAR(40) NOT NULL, ip VARCHAR(40), anonymized_at VARCHAR(40));
CREATE INDEX visits_at ON visits (at);
";

const POLICIES: &str = "
[[policy]]
name = \"sessions\"
description = \"Login sessions: 1 year\"
table = \"sessions\"
timestamp = \"seen_at\"
keep = \"1 year\"
basis = \"legitimate_interest\"
subject = \"subject\"
action = \"delete\"

[[policy]]
name = \"visits\"
table = \"visits\"
timestamp = \"at\"
keep = \"30 days\"
basis = \"consent\"
action = \"anonymize\"
marker = \"anonymized_at\"
[policy.anonymize]
ip = \"truncate_ip\"
";

/// 30 old sessions (5 of them of a held subject), then 40 more after the first pass;
/// 20 old visits; young rows of both.
async fn shop_with_history() -> Shop {
    shop_with_history_on(Backend::Sqlite).await
}

async fn shop_with_history_on(backend: Backend) -> Shop {
    let shop = Shop::on(backend, SCHEMA).await;
    let mut sql = String::new();
    for i in 0..60 {
        let seen = if i < 30 {
            "2001-01-01T00:00:00Z"
        } else {
            "2099-01-01T00:00:00Z"
        };
        let subject = if i < 5 { "held-1" } else { "s" };
        sql.push_str(&format!(
            "INSERT INTO sessions VALUES ({i}, '{seen}', '{subject}');"
        ));
        let at = if i < 20 {
            "2002-01-01T00:00:00Z"
        } else {
            "2099-01-01T00:00:00Z"
        };
        sql.push_str(&format!(
            "INSERT INTO visits (id, at, ip) VALUES ({i}, '{at}', '198.51.100.{i}');"
        ));
    }
    shop.exec(&sql).await;
    shop.write_config(&format!("[limits]\nmax_table_fraction = 0.45\n{POLICIES}"));
    let cli = |args: &[&str]| run_cli(&shop.config_path, shop.dir.path(), args);
    assert_eq!(
        cli(&["hold", "add", "--subject", "held-1", "--reason", "case 7"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        cli(&["purge"]).status.code(),
        Some(0),
        "{}",
        stderr(&cli(&["purge"]))
    );
    // 40 more old sessions: 40 of the 75 rows then in the table is more than 45%.
    let mut sql = String::new();
    for i in 100..140 {
        sql.push_str(&format!(
            "INSERT INTO sessions VALUES ({i}, '2003-01-01T00:00:00Z', 's');"
        ));
    }
    shop.exec(&sql).await;
    shop
}

fn month() -> (String, String) {
    let today = Utc::now().date_naive();
    (
        today.format("%Y-%m-01").to_string(),
        today.format("%Y-%m-%d").to_string(),
    )
}

fn report(shop: &Shop, format: &str) -> String {
    let (from, to) = month();
    let out = run_cli(
        &shop.config_path,
        shop.dir.path(),
        &["report", "--from", &from, "--to", &to, "--format", format],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn totals_agree_in_all_four_formats() {
    let shop = shop_with_history().await;
    assert_eq!(
        run_cli(&shop.config_path, shop.dir.path(), &["purge", "--force"])
            .status
            .code(),
        Some(0)
    );
    // sessions: 25 then 40 deleted, 5 held (twice); visits: 20 anonymised.
    let json: serde_json::Value = serde_json::from_str(&report(&shop, "json")).unwrap();
    let sessions = &json["policies"][0];
    assert_eq!(
        (
            sessions["deleted"].as_u64(),
            sessions["held"].as_u64(),
            sessions["passes"].as_u64()
        ),
        (Some(65), Some(10), Some(2))
    );
    assert_eq!(json["policies"][1]["anonymised"], 20);
    assert_eq!(json["passes"]["ok"], 2);
    assert_eq!(json["holds"].as_array().unwrap().len(), 1);
    assert!(
        json["holds"][0].get("subject").is_none(),
        "subject ids only with --include-subjects"
    );
    assert_eq!(json["audit"]["intact"], true);

    let csv = report(&shop, "csv");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("date,policy,table,rows_deleted,rows_anonymised")
    );
    let (mut deleted, mut anonymised, mut rows) = (0u64, 0u64, 0);
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 5, "{line}");
        deleted += f[3].parse::<u64>().unwrap();
        anonymised += f[4].parse::<u64>().unwrap();
        rows += 1;
    }
    assert_eq!((deleted, anonymised), (65, 20));
    let days = Utc::now()
        .date_naive()
        .format("%d")
        .to_string()
        .parse::<usize>()
        .unwrap();
    assert_eq!(rows, days * 2, "one row per policy per day");

    let html = report(&shop, "html");
    assert!(!html.to_lowercase().contains("<script"), "no script");
    assert!(
        !html.contains("http://") && !html.contains("https://") && !html.contains("src="),
        "no external resource"
    );
    let doc = scraper::Html::parse_document(&html);
    let rows = scraper::Selector::parse("table tr").unwrap();
    let cells = scraper::Selector::parse("td").unwrap();
    let purged: Vec<Vec<String>> = doc
        .select(&rows)
        .map(|r| {
            r.select(&cells)
                .map(|c| c.text().collect::<String>())
                .collect::<Vec<_>>()
        })
        .filter(|c: &Vec<String>| c.len() == 5 && c[1].chars().all(|d| d.is_ascii_digit()))
        .collect();
    assert_eq!(
        purged,
        [
            ["sessions", "65", "0", "10", "2"],
            ["visits", "0", "20", "0", "2"]
        ]
    );
    assert!(
        doc.select(&scraper::Selector::parse("svg rect").unwrap())
            .count()
            >= 2,
        "a chart"
    );

    let markdown = report(&shop, "markdown");
    assert!(
        markdown.contains("| sessions | 65 | 0 | 10 | 2 | 2 ok |"),
        "{markdown}"
    );
    assert!(
        markdown.contains("| visits | 0 | 20 | 0 | 2 | 2 ok |"),
        "{markdown}"
    );
}

#[tokio::test]
async fn the_markdown_report_matches_its_golden_file() {
    let shop = shop_with_history().await;
    let markdown = report(&shop, "markdown");
    let masks = [
        (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", "<time>"),
        (r"\d{4}-\d{2}-\d{2}", "<date>"),
        (r"[0-9a-f]{64}", "<sha256>"),
        (r"/\S*/retention\.toml", "<config>"),
        (r"/\S*/shop\.db", "<database>"),
    ];
    let mut masked = markdown.clone();
    for (pattern, with) in masks {
        masked = regex::Regex::new(pattern)
            .unwrap()
            .replace_all(&masked, with)
            .into_owned();
    }
    let golden = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/report.md");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(golden, &masked).unwrap();
    }
    let expected = std::fs::read_to_string(golden)
        .expect("tests/golden/report.md (UPDATE_GOLDEN=1 writes it)");
    assert_eq!(
        masked, expected,
        "the Markdown report changed; if that is intended, rerun with UPDATE_GOLDEN=1"
    );
}

#[tokio::test]
async fn enforcement_shows_a_backlog_after_a_refusal_and_compliance_after_a_pass() {
    let shop = shop_with_history().await;
    // The 40 new old sessions are more than 45% of the table: refused.
    assert_eq!(
        run_cli(&shop.config_path, shop.dir.path(), &["purge"])
            .status
            .code(),
        Some(3)
    );
    let json: serde_json::Value = serde_json::from_str(&report(&shop, "json")).unwrap();
    let e = &json["policies"][0]["enforcement"];
    assert_eq!(e["in_compliance"], false, "{e}");
    assert_eq!(e["backlog_rows"], 40);
    assert!(
        e["verdict"]
            .as_str()
            .unwrap()
            .starts_with("backlog: 40 row(s)"),
        "{e}"
    );
    assert_eq!(json["incidents"][0]["status"], "refused");
    assert_eq!(json["policies"][1]["enforcement"]["in_compliance"], true);

    assert_eq!(
        run_cli(&shop.config_path, shop.dir.path(), &["purge", "--force"])
            .status
            .code(),
        Some(0)
    );
    let json: serde_json::Value = serde_json::from_str(&report(&shop, "json")).unwrap();
    let e = &json["policies"][0]["enforcement"];
    assert_eq!(e["in_compliance"], true, "{e}");
    assert!(
        e["verdict"].as_str().unwrap().starts_with("in compliance"),
        "{e}"
    );
}

#[tokio::test]
async fn the_periodic_report_is_written_once_and_never_overwritten() {
    use chrono::{Datelike, TimeZone};
    let shop = shop_with_history().await;
    let text = std::fs::read_to_string(&shop.config_path).unwrap();
    std::fs::write(&shop.config_path, format!("{text}\n[report]\ndir = \"reports\"\nschedule = \"monthly\"\nformats = [\"html\", \"json\"]\n")).unwrap();
    let config = retentiond::config::load(&shop.config_path).unwrap();
    let settings = config.report.clone().unwrap();
    // Injected time: early on the first day of next month, the passes' month is due.
    let today = Utc::now().date_naive();
    let (y, m) = if today.month() == 12 {
        (today.year() + 1, 1)
    } else {
        (today.year(), today.month() + 1)
    };
    let now = Utc.with_ymd_and_hms(y, m, 1, 3, 0, 0).unwrap();
    let label = today.format("%Y-%m").to_string();

    let mut db = shop.db(&config).await;
    let written = retentiond::report::write_due(&mut db, &config, &settings, now)
        .await
        .unwrap();
    assert_eq!(written.len(), 2, "{written:?}");
    let json_path = shop.path(&format!("reports/retentiond-report-{label}.json"));
    let json_text = std::fs::read_to_string(&json_path).unwrap();
    let json: serde_json::Value = serde_json::from_str(&json_text).unwrap();
    assert_eq!(json["policies"][0]["deleted"], 25);
    let sum = std::fs::read_to_string(
        shop.path(&format!("reports/retentiond-report-{label}.json.sha256")),
    )
    .unwrap();
    use sha2::Digest;
    assert_eq!(
        sum,
        format!(
            "{}  retentiond-report-{label}.json\n",
            hex::encode(sha2::Sha256::digest(json_text.as_bytes()))
        )
    );

    // A restart, a day later: nothing is written again, nothing is overwritten.
    let again = retentiond::report::write_due(
        &mut db,
        &config,
        &settings,
        now + chrono::TimeDelta::days(1),
    )
    .await
    .unwrap();
    assert!(again.is_empty(), "{again:?}");
    assert_eq!(std::fs::read_to_string(&json_path).unwrap(), json_text);
    db.close().await.unwrap();
    let status: serde_json::Value = serde_json::from_slice(
        &run_cli(
            &shop.config_path,
            shop.dir.path(),
            &["status", "--format", "json"],
        )
        .stdout,
    )
    .unwrap();
    assert_eq!(status["reports"]["files"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_check_that_cannot_run_is_reported_as_not_checked_never_as_compliance() {
    let shop = shop_with_history().await;
    // The visits policy no longer fits: its table is gone.
    shop.exec("ALTER TABLE visits RENAME TO visits_archive;")
        .await;
    let json: serde_json::Value = serde_json::from_str(&report(&shop, "json")).unwrap();
    let e = &json["policies"][1]["enforcement"];
    assert_eq!(e["state"], "not_checked", "{e}");
    assert_eq!(e["in_compliance"], false, "{e}");
    let verdict = e["verdict"].as_str().unwrap();
    assert!(
        verdict.starts_with("not checked: ") && verdict.contains("`visits` does not exist"),
        "{verdict}"
    );
    assert_eq!(json["policies"][0]["enforcement"]["state"], "backlog");

    let md = report(&shop, "markdown");
    assert!(md.contains("| visits | **not checked: "), "{md}");
    let html = report(&shop, "html");
    assert!(
        html.contains("<td>visits</td><td class=\"bad\">not checked: "),
        "{html}"
    );
}

#[tokio::test]
async fn periods_are_shown_as_written_in_retention_toml() {
    let shop = Shop::new(SCHEMA).await;
    shop.write_config(
        &POLICIES
            .replace("keep = \"1 year\"", "keep = \"12 months\"")
            .replace("keep = \"30 days\"", "keep = \"P30D\""),
    );
    let md = report(&shop, "markdown");
    assert!(
        md.contains("| sessions | sessions | 12 months |")
            && md.contains("| visits | visits | P30D |"),
        "{md}"
    );
    assert!(!md.contains("1 year"), "{md}");
    let json: serde_json::Value = serde_json::from_str(&report(&shop, "json")).unwrap();
    assert_eq!(json["policies"][0]["period"], "12 months");
    let check = run_cli(
        &shop.config_path,
        shop.dir.path(),
        &["check", "--format", "json"],
    );
    let check: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(check["policies"][1]["keep"], "P30D");
}

/// The report's enforcement check on a table retentiond may no longer read: the
/// check cannot run, and the report says "not checked" with the reason, never
/// compliance. PostgreSQL and MariaDB: a role without SELECT on the table. SQLite,
/// which has no privileges: the table turned into a view of a table that is gone.
async fn a_check_whose_query_fails_says_not_checked(backend: Backend) {
    let shop = shop_with_history_on(backend).await;
    let url = match backend {
        Backend::Sqlite => {
            shop.exec(
                "ALTER TABLE sessions RENAME TO sessions_old;
                 CREATE VIEW sessions AS SELECT * FROM sessions_old;
                 DROP TABLE sessions_old;",
            )
            .await;
            format!("sqlite://{}", shop.db_path.display())
        }
        Backend::Postgres => {
            let role = format!("reporter_{}", std::process::id());
            shop.exec(&format!(
                "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN CREATE ROLE {role} LOGIN; END IF; END $$;
                 GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO {role};
                 GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role};
                 REVOKE SELECT ON sessions FROM {role};"
            ))
            .await;
            shop.url.replacen("postgres@", &format!("{role}@"), 1)
        }
        Backend::MariaDb => {
            let db = shop.url.rsplit('/').next().unwrap().to_string();
            let user = format!("r_{}", &db[db.len().saturating_sub(12)..]);
            let tables = shop
                .rows("SELECT table_name FROM information_schema.tables WHERE table_schema = database()")
                .await;
            let mut sql = format!("CREATE USER '{user}'@'%';\n");
            for t in tables.iter().map(|r| &r[0]) {
                let rights = if t == "sessions" { "INSERT" } else { "ALL" };
                sql.push_str(&format!("GRANT {rights} ON {db}.{t} TO '{user}'@'%';\n"));
            }
            shop.exec(&sql).await;
            shop.url.replacen("root@", &format!("{user}@"), 1)
        }
    };
    let config = shop.path("restricted.toml");
    std::fs::write(&config, format!("[database]\nurl = \"{url}\"\n{POLICIES}")).unwrap();
    let (from, to) = month();
    let report = |format: &str| {
        let out = run_cli(
            &config,
            shop.dir.path(),
            &["report", "--from", &from, "--to", &to, "--format", format],
        );
        assert_eq!(out.status.code(), Some(0), "{backend:?}: {}", stderr(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    let json: serde_json::Value = serde_json::from_str(&report("json")).unwrap();
    let e = &json["policies"][0]["enforcement"];
    assert_eq!(e["state"], "not_checked", "{backend:?}: {e}");
    assert_eq!(e["in_compliance"], false, "{backend:?}: {e}");
    assert!(
        e["verdict"].as_str().unwrap().starts_with("not checked: "),
        "{backend:?}: {e}"
    );
    assert_eq!(
        json["policies"][1]["enforcement"]["state"], "in_compliance",
        "{backend:?}: the readable table is still checked"
    );
    assert!(
        report("markdown").contains("| sessions | **not checked: "),
        "{backend:?}"
    );
    assert!(
        report("html").contains("<td>sessions</td><td class=\"bad\">not checked: "),
        "{backend:?}"
    );
}

on_every_backend!(a_check_whose_query_fails_says_not_checked);

#[tokio::test]
async fn a_report_of_a_period_without_passes_says_so_first_and_how_to_see_the_last() {
    let shop = shop_with_history().await;
    let cli = |args: &[&str]| run_cli(&shop.config_path, shop.dir.path(), args);
    // No dates: last month, when none of this shop's passes ran.
    let out = cli(&["report"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let md = String::from_utf8(out.stdout).unwrap();
    let today = Utc::now().date_naive().to_string();
    let first = md.lines().next().unwrap();
    assert!(
        first.starts_with("> No pass ran from ")
            && first.contains("The last pass, #")
            && first.contains(&format!("`retentiond report --from {today}` shows it")),
        "{first}"
    );
    // The command it names shows the pass, and says nothing of the kind.
    let out = cli(&["report", "--from", &today, "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json.get("note").is_none(), "{json}");
    assert!(
        json["passes"].as_object().unwrap().values().count() > 0,
        "{json}"
    );
}
