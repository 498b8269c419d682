//! ARCHITECTURE.md stays true: every file and folder its code map and its table of
//! cross-cutting concerns name exists.

use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The backticked tokens of `line` that look like a file or a folder.
fn paths(line: &str) -> Vec<String> {
    line.split('`')
        .skip(1)
        .step_by(2)
        .filter(|t| !t.contains(' ') && !t.contains('<') && !t.starts_with('.'))
        .filter(|t| {
            // Data files a command writes (`manifest.json`) are no sources.
            t.ends_with('/')
                || [".rs", ".sql"].iter().any(|ext| t.ends_with(ext))
                || (t.contains('/') && [".md", ".yml", ".json"].iter().any(|e| t.ends_with(e)))
        })
        .map(str::to_string)
        .collect()
}

/// Whether `name` is a file or folder somewhere below `dir`.
fn below(dir: &Path, name: &str) -> bool {
    if dir.join(name).exists() {
        return true;
    }
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .any(|p| below(&p, name))
    })
}

#[test]
fn the_code_map_names_only_files_that_exist() {
    let root = Path::new(ROOT);
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let start = text.find("## Code map").expect("a code map");
    let end = text.find("## Invariants").expect("invariants after it");
    let mut checked = 0;
    let mut missing = Vec::new();
    for line in text[start..end].lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split(" | ").collect();
        // The first cell names the module; the others name files in it.
        let bases: Vec<PathBuf> = paths(cells[0])
            .iter()
            .map(|p| root.join(p))
            .filter(|p| p.is_dir())
            .chain([root.join("src")])
            .collect();
        for p in paths(line) {
            checked += 1;
            let found = root.join(&p).exists()
                || root.join("src").join(&p).exists()
                || bases.iter().any(|b| below(b, p.trim_end_matches('/')));
            if !found {
                missing.push(format!("{p} (in: {})", &line[..line.len().min(60)]));
            }
        }
    }
    assert!(
        checked > 100,
        "only {checked} paths found: is the map still a table?"
    );
    assert!(
        missing.is_empty(),
        "named in ARCHITECTURE.md but absent:\n{}",
        missing.join("\n")
    );
}

/// docs/api.md's copy of the OpenAPI document is the one the binary generates.
/// `UPDATE_DOCS=1 cargo test docs::` writes it there.
#[test]
fn the_api_document_in_the_docs_is_the_generated_one() {
    let path = Path::new(ROOT).join("docs/api.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let (begin, end) = (
        "<!-- openapi:begin -->\n```json\n",
        "\n```\n<!-- openapi:end -->",
    );
    let from = text.find(begin).expect("an openapi:begin marker") + begin.len();
    let to = text.find(end).expect("an openapi:end marker");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_retentiond"))
        .args(["generate", "openapi"])
        .output()
        .unwrap();
    let generated = String::from_utf8(out.stdout).unwrap();
    let generated = generated.trim_end();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        let updated = format!("{}{generated}{}", &text[..from], &text[to..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    assert!(
        &text[from..to] == generated,
        "docs/api.md's OpenAPI document is not the generated one; run: UPDATE_DOCS=1 cargo test --test it docs::"
    );
    let doc: serde_json::Value = serde_json::from_str(generated).unwrap();
    for path in [
        "/v1/requests",
        "/v1/requests/{id}/export",
        "/v1/holds",
        "/v1/reports/{label}/sign",
        "/healthz",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} in the document");
    }
}
