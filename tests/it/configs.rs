//! Malformed configs: exit 2, every problem with file:line:column, no panic, and the
//! database untouched.

use crate::support::{Shop, file_digest, stderr};

const VALID: &str = r#"[database]
url = "sqlite://shop.db"

[[policy]]
name = "orders"
table = "orders"
timestamp = "placed_at"
keep = "10 years"
action = "delete"
"#;

fn with(from: &str, to: &str) -> String {
    assert!(VALID.contains(from), "{from}");
    VALID.replacen(from, to, 1)
}

fn appended(extra: &str) -> String {
    format!("{VALID}{extra}")
}

/// (what is wrong, the file, where the first problem is, a word the message must hold)
fn malformed() -> Vec<(&'static str, Vec<u8>, &'static str, &'static str)> {
    let anon = |strategy: &str| {
        with(
            "action = \"delete\"",
            &format!(
                "action = \"anonymize\"\nmarker = \"m\"\n[policy.anonymize]\nemail = \"{strategy}\""
            ),
        )
    };
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "unclosed header",
            with("[database]", "[database"),
            "1:",
            "syntax",
        ),
        (
            "unterminated string",
            with("\"sqlite://shop.db\"", "\"sqlite://shop.db"),
            "2:",
            "syntax",
        ),
        (
            "duplicate key",
            with(
                "keep = \"10 years\"",
                "keep = \"10 years\"\nkeep = \"1 year\"",
            ),
            "9:",
            "syntax",
        ),
        (
            "period as a number",
            with("\"10 years\"", "10"),
            "8:8",
            "must be a string",
        ),
        (
            "unknown unit",
            with("\"10 years\"", "\"10 yrs\""),
            "8:8",
            "unknown unit",
        ),
        (
            "negative period",
            with("\"10 years\"", "\"-1 days\""),
            "8:8",
            "whole number",
        ),
        (
            "time in ISO period",
            with("\"10 years\"", "\"PT1H\""),
            "8:8",
            "time parts",
        ),
        (
            "words for numbers",
            with("\"10 years\"", "\"ten years\""),
            "8:8",
            "whole number",
        ),
        (
            "fractional period",
            with("\"10 years\"", "\"1.5 years\""),
            "8:8",
            "whole number",
        ),
        (
            "injection in table",
            with("table = \"orders\"", "table = \"orders; DROP TABLE x\""),
            "6:9",
            "invalid table name",
        ),
        (
            "two dots",
            with("table = \"orders\"", "table = \"a.b.c\""),
            "6:9",
            "more than one",
        ),
        (
            "comment in column",
            with("\"placed_at\"", "\"placed_at -- x\""),
            "7:13",
            "invalid timestamp name",
        ),
        (
            "dot in column",
            with("\"placed_at\"", "\"sales.placed_at\""),
            "7:13",
            "invalid timestamp name",
        ),
        (
            "unicode look-alike",
            with("table = \"orders\"", "table = \"ord\u{0435}rs\""),
            "6:9",
            "invalid table name",
        ),
        (
            "quote in name",
            with("table = \"orders\"", "table = 'ord\"ers'"),
            "6:9",
            "invalid table name",
        ),
        (
            "over-long name",
            with(
                "table = \"orders\"",
                &format!("table = \"{}\"", "x".repeat(64)),
            ),
            "6:9",
            "longer than 63",
        ),
        (
            "empty key list",
            with("action = \"delete\"", "action = \"delete\"\nkey = []"),
            "10:7",
            "lists no columns",
        ),
        (
            "key of wrong type",
            with("action = \"delete\"", "action = \"delete\"\nkey = 5"),
            "10:7",
            "must be a column name",
        ),
        (
            "misspelt key",
            with("table = ", "tabel = "),
            "4:1",
            "did you mean `table`",
        ),
        (
            "misspelt section",
            with(
                "[database]\nurl = \"sqlite://shop.db\"",
                "[databse]\nurl = \"sqlite://shop.db\"",
            ),
            "1:1",
            "missing [database]",
        ),
        (
            "unknown action",
            with("\"delete\"", "\"purge\""),
            "9:10",
            "invalid action",
        ),
        (
            "unknown basis",
            appended("basis = \"because\"\n"),
            "10:9",
            "valid: legal_obligation",
        ),
        (
            "lease shorter than a renewal",
            with(
                "url = \"sqlite://shop.db\"",
                "url = \"sqlite://shop.db\"\nlease_time = \"1s\"",
            ),
            "3:14",
            "from \"3s\" to \"10min\"",
        ),
        (
            "mail in clear text to a remote relay",
            appended(
                "\n[mail]\nhost = \"smtp.example\"\nfrom = \"r@shop.example\"\nsecurity = \"none\"\n",
            ),
            "14:12",
            "clear text",
        ),
        (
            "mail user without a password",
            appended(
                "\n[mail]\nhost = \"smtp.example\"\nfrom = \"r@shop.example\"\nuser = \"r\"\n",
            ),
            "14:8",
            "without `password_file`",
        ),
        (
            "mail ca_file without a certificate",
            appended(
                "\n[mail]\nhost = \"smtp.example\"\nfrom = \"r@shop.example\"\nca_file = \"/proc/version\"\n",
            ),
            "14:11",
            "holds no PEM certificate",
        ),
        (
            "batch size zero",
            appended("\n[limits]\nbatch_size = 0\n"),
            "12:14",
            "out of range",
        ),
        (
            "batch size as text",
            appended("\n[limits]\nbatch_size = \"5000\"\n"),
            "12:14",
            "must be a whole number",
        ),
        (
            "fraction zero",
            appended("\n[limits]\nmax_table_fraction = 0\n"),
            "12:22",
            "out of range",
        ),
        (
            "fraction above one",
            appended("\n[limits]\nmax_table_fraction = 2.5\n"),
            "12:22",
            "out of range",
        ),
        (
            "no policy",
            VALID.split("[[policy]]").next().unwrap().to_string(),
            "1:1",
            "no [[policy]]",
        ),
        (
            "duplicate policy name",
            appended(
                "\n[[policy]]\nname = \"orders\"\ntable = \"t\"\ntimestamp = \"ts\"\nkeep = \"1 day\"\naction = \"delete\"\n",
            ),
            "12:8",
            "duplicate policy name",
        ),
        (
            "url and url_file",
            with(
                "url = \"sqlite://shop.db\"",
                "url = \"sqlite://shop.db\"\nurl_file = \"db-url\"",
            ),
            "3:12",
            "both set",
        ),
        (
            "missing url_file",
            with("url = \"sqlite://shop.db\"", "url_file = \"no-such-file\""),
            "2:12",
            "cannot read url_file",
        ),
        (
            "hash without key",
            anon("hash"),
            "12:1",
            "key_file is not set",
        ),
        (
            "short key file",
            format!("[anonymize]\nkey_file = \"short.key\"\n{}", anon("hash")),
            "2:12",
            "at least 32",
        ),
        (
            "key file others can read",
            format!("[anonymize]\nkey_file = \"open.key\"\n{}", anon("hash")),
            "2:12",
            "(mode 0644)",
        ),
        (
            "url_file others can read",
            with("url = \"sqlite://shop.db\"", "url_file = \"open-url\""),
            "2:12",
            "chmod 600",
        ),
        (
            "missing key file",
            format!("[anonymize]\nkey_file = \"nope.key\"\n{}", anon("hash")),
            "2:12",
            "cannot read key_file",
        ),
        (
            "unknown strategy",
            anon("scramble"),
            "12:9",
            "invalid strategy",
        ),
        (
            "anonymise without columns",
            with("\"delete\"", "\"anonymize\""),
            "9:10",
            "names no columns",
        ),
        (
            "cascade key count",
            appended("cascade = [{ table = \"items\", foreign_key = [\"a\", \"b\"] }]\n"),
            "10:22",
            "names 2 foreign key",
        ),
        (
            "cascade references count",
            appended(
                "cascade = [{ table = \"items\", foreign_key = \"a\", references = [\"x\", \"y\"] }]\n",
            ),
            "10:22",
            "but `references` has 2",
        ),
        (
            "cascade cycle",
            appended(
                "cascade = [{ table = \"items\", foreign_key = \"order_id\", cascade = [{ table = \"ORDERS\", foreign_key = \"item_id\", references = \"id\" }] }]\n",
            ),
            "10:78",
            "under orders > items leads back to a table above it: a cycle",
        ),
        (
            "unknown key in a nested cascade",
            appended(
                "cascade = [{ table = \"items\", foreign_key = \"order_id\", cascade = [{ table = \"notes\", foreign_key = \"item_id\", refrences = \"id\" }] }]\n",
            ),
            "10:112",
            "did you mean `references`",
        ),
        (
            "cascade as text",
            appended("cascade = \"order_items\"\n"),
            "10:11",
            "array of tables",
        ),
        (
            "empty filter",
            appended("filter = { status = [] }\n"),
            "10:21",
            "lists no values",
        ),
        (
            "bad filter column",
            appended("filter = { \"sta tus\" = \"x\" }\n"),
            "10:12",
            "invalid filter column",
        ),
        (
            "bad cron",
            format!("[schedule]\ncron = \"61 * * * *\"\n{VALID}"),
            "2:8",
            "invalid cron",
        ),
        (
            "unknown zone",
            format!("[schedule]\ncron = \"0 0 2 * * *\"\ntimezone = \"Mars/Olympus\"\n{VALID}"),
            "3:12",
            "unknown time zone",
        ),
        (
            "policy not an array",
            format!(
                "policy = \"x\"\n{}",
                VALID.split("[[policy]]").next().unwrap()
            ),
            "1:10",
            "array of tables",
        ),
        (
            "marker on delete",
            appended("marker = \"m\"\n"),
            "10:10",
            "has no effect",
        ),
        (
            "unsupported url",
            with("sqlite://shop.db", "ftp://example.com/db"),
            "2:7",
            "unsupported database URL",
        ),
        (
            "space in subject",
            appended("subject = \"customer id\"\n"),
            "10:11",
            "invalid subject name",
        ),
        ("empty file", String::new(), "1:1", "missing [database]"),
    ];
    let mut out: Vec<(&str, Vec<u8>, &str, &str)> = cases
        .into_iter()
        .map(|(a, b, c, d)| (a, b.into_bytes(), c, d))
        .collect();
    let mut latin1 = VALID.as_bytes().to_vec();
    latin1.extend_from_slice(b"description = \"caf\xe9\"\n");
    out.push(("not UTF-8", latin1, "10:", "not valid UTF-8"));
    out
}

#[tokio::test]
async fn malformed_configs_exit_2_with_line_and_column() {
    let shop = Shop::new("CREATE TABLE orders (id INTEGER PRIMARY KEY, placed_at TEXT); INSERT INTO orders VALUES (1, '2001-01-01');").await;
    crate::support::write_key(&shop.path("short.key"), b"12345");
    for (name, bytes) in [
        ("open.key", &[7u8; 32][..]),
        ("open-url", b"sqlite://shop.db"),
    ] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(shop.path(name), bytes).unwrap();
        std::fs::set_permissions(shop.path(name), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let before = file_digest(&shop.db_path);
    let cases = malformed();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    let mut wrong = Vec::new();
    for (what, text, at, needle) in cases {
        std::fs::write(&shop.config_path, &text).unwrap();
        for command in ["check", "purge"] {
            let out = shop.cli(&[command]);
            let err = stderr(&out);
            let located = format!("retention.toml:{at}");
            if out.status.code() != Some(2)
                || err.contains("panicked")
                || !err.contains(&located)
                || !err.contains(needle)
            {
                wrong.push(format!(
                    "{what} ({command}, exit {:?}): expected {located} and {needle:?} in:\n{err}",
                    out.status.code()
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of the malformed configs were not reported as expected:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert_eq!(
        file_digest(&shop.db_path),
        before,
        "no malformed config touched the database"
    );
}

#[tokio::test]
async fn all_problems_are_reported_at_once() {
    let shop = Shop::new("CREATE TABLE orders (id INTEGER PRIMARY KEY, placed_at TEXT);").await;
    let text = with("keep = \"10 years\"", "keep = \"10 yrs\"")
        .replace("table = \"orders\"", "table = \"a;b\"")
        .replace(
            "action = \"delete\"",
            "action = \"remove\"\ncolour = \"red\"",
        );
    std::fs::write(&shop.config_path, text).unwrap();
    let err = stderr(&shop.cli(&["check"]));
    for needle in [
        "retention.toml:6:9",
        "retention.toml:8:8",
        "retention.toml:9:10",
        "retention.toml:10:1",
        "4 problems",
    ] {
        assert!(err.contains(needle), "{needle} in:\n{err}");
    }
}

#[tokio::test]
async fn a_config_that_does_not_fit_the_schema_names_the_line() {
    let shop = Shop::new("CREATE TABLE orders (id INTEGER PRIMARY KEY, placed_on TEXT);").await;
    std::fs::write(
        &shop.config_path,
        VALID.replace("table = \"orders\"", "table = \"order\""),
    )
    .unwrap();
    let out = shop.cli(&["check"]);
    assert_eq!(out.status.code(), Some(2));
    let text = crate::support::stdout(&out);
    assert!(
        text.contains("retention.toml:6:9") && text.contains("did you mean `orders`"),
        "{text}"
    );

    std::fs::write(&shop.config_path, VALID).unwrap();
    let out = shop.cli(&["check"]);
    assert_eq!(out.status.code(), Some(2));
    let text = crate::support::stdout(&out);
    assert!(
        text.contains("retention.toml:7:13") && text.contains("did you mean `placed_on`"),
        "{text}"
    );
    // plan reports it the same way, and exits 2 too.
    assert_eq!(shop.cli(&["plan"]).status.code(), Some(2));
}
