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
