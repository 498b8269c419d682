//! Config fuzzing: generated and mutated retention.toml files never panic the parser
//! and validator; each is either a valid config or a list of problems, each located.

use std::path::Path;

use proptest::prelude::*;

const BASE: &str = include_str!("../../retention.toml");

/// Fragments that parsers trip over: TOML syntax, periods, identifiers, numbers.
const FRAGMENTS: &[&str] = &[
    "[",
    "]",
    "[[",
    "]]",
    "=",
    "\"",
    "'",
    "\"\"\"",
    "\n",
    "#",
    ",",
    "{",
    "}",
    ".",
    "\\",
    "\\u00e9",
    "P",
    "P1Y2M",
    "PT1H",
    "-1",
    "0",
    "99999999999999999999",
    "1e309",
    "nan",
    "inf",
    "true",
    "1979-05-27T07:32:00Z",
    "ö",
    "\u{0}",
    "\u{feff}",
    "keep",
    "table",
    "timestamp",
    "policy",
    "action = \"anonymize\"",
    "[policy.anonymize]",
    "x = \"hash\"",
    "orders; DROP TABLE x",
    "sales.orders",
    "a.b.c",
    "\u{0430}",
    "cascade = [{ table = \"t\" }]",
    "filter = { a = [] }",
];

fn check(text: &str) -> Result<(), TestCaseError> {
    let env_url = None;
    match retentiond::config::parse(Path::new("fuzz/retention.toml"), text.as_bytes(), env_url) {
        Ok(config) => prop_assert!(!config.policies.is_empty()),
        Err(e) => {
            let problems = e.problems();
            prop_assert!(
                !problems.is_empty(),
                "an invalid config names at least one problem: {e}"
            );
            for p in problems {
                prop_assert!(p.loc.line >= 1 && p.loc.col >= 1, "{e}");
            }
            prop_assert!(e.to_string().contains("fuzz/retention.toml:"), "{e}");
        }
    }
    Ok(())
}

fn mutated() -> impl Strategy<Value = String> {
    let edits = prop::collection::vec(
        (0..BASE.len(), 0..4u8, prop::sample::select(FRAGMENTS)),
        1..6,
    );
    edits.prop_map(|edits| {
        let mut text = BASE.as_bytes().to_vec();
        for (at, kind, fragment) in edits {
            let at = at.min(text.len());
            match kind {
                0 => {
                    text.splice(at..at, fragment.bytes());
                }
                1 => {
                    let end = (at + fragment.len()).min(text.len());
                    text.drain(at..end);
                }
                2 => {
                    let end = (at + fragment.len()).min(text.len());
                    text.splice(at..end, fragment.bytes());
                }
                _ => {
                    // Duplicate a line: duplicate keys and tables.
                    let start = text[..at]
                        .iter()
                        .rposition(|b| *b == b'\n')
                        .map_or(0, |i| i + 1);
                    let end = text[at..]
                        .iter()
                        .position(|b| *b == b'\n')
                        .map_or(text.len(), |i| at + i + 1);
                    let line = text[start..end].to_vec();
                    text.splice(end..end, line);
                }
            }
        }
        String::from_utf8_lossy(&text).into_owned()
    })
}

fn generated() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        "[a-z_]{1,10}".prop_map(|s| format!("\"{s}\"")),
        "[0-9]{1,4} (days|weeks|months|years|yrs)".prop_map(|s| format!("\"{s}\"")),
        "P[0-9]{1,3}[YMWDH]".prop_map(|s| format!("\"{s}\"")),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        Just("[]".to_string()),
        "[ -~]{0,12}".prop_map(|s| format!("\"{}\"", s.replace(['"', '\\'], ""))),
    ];
    let key = prop::sample::select(vec![
        "name",
        "table",
        "key",
        "timestamp",
        "keep",
        "action",
        "basis",
        "subject",
        "marker",
        "vacuum",
        "partitions",
        "tabel",
        "description",
    ]);
    let policy = prop::collection::vec((key, value), 0..9).prop_map(|kv| {
        kv.into_iter()
            .map(|(k, v)| format!("{k} = {v}\n"))
            .collect::<String>()
    });
    prop::collection::vec(policy, 0..4).prop_map(|policies| {
        let mut text = String::from("[database]\nurl = \"sqlite://fuzz.db\"\n");
        for p in policies {
            text.push_str("\n[[policy]]\n");
            text.push_str(&p);
        }
        text
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_default_configs_never_panic(text in mutated()) {
        check(&text)?;
    }

    #[test]
    fn generated_configs_never_panic(text in generated()) {
        check(&text)?;
    }
}
