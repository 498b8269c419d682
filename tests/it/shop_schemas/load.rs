//! Loading a real shop's schema as its project ships it: the SQL of Doctrine
//! migrations (each `$this->addSql('...')` of `up()`, in version order), or an SQL
//! dump split into its statements. Nothing is edited on the way.

use std::path::{Path, PathBuf};

/// The folder of vendored schemas.
pub fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas")
}

/// The statements of the Doctrine migrations in `dir`, in version order.
pub fn doctrine_migrations(dir: &Path) -> Vec<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "php"))
        .collect();
    // Version20160101092155.php: the version sorts as text.
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let statements = add_sql_in_up(&text);
        assert!(!statements.is_empty(), "{}: no addSql in up()", f.display());
        out.extend(statements);
    }
    out
}

/// Every `$this->addSql(<string literal>)` in the body of `up()`.
fn add_sql_in_up(php: &str) -> Vec<String> {
    let start = php.find("public function up(").expect("an up() method");
    let end = php[start..]
        .find("public function down(")
        .map_or(php.len(), |n| start + n);
    let body = &php[start..end];
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(n) = body[at..].find("$this->addSql(") {
        let literal_at = at + n + "$this->addSql(".len();
        let (text, after) = php_string(body, literal_at);
        let next = body[after..].trim_start();
        assert!(
            next.starts_with(')') || next.starts_with(','),
            "an addSql argument that is not one string literal: {}",
            &body[literal_at..literal_at + 80.min(body.len() - literal_at)]
        );
        out.push(text);
        at = after;
    }
    out
}

/// The PHP string literal starting at `at` (single or double quoted, without
/// variables) and the offset after it.
fn php_string(src: &str, at: usize) -> (String, usize) {
    let bytes = src.as_bytes();
    let quote = bytes[at];
    assert!(quote == b'\'' || quote == b'"', "not a string literal");
    let mut out = String::new();
    let mut chars = src[at + 1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            c if c as u32 == quote as u32 => return (out, at + 1 + i + 1),
            '\\' => {
                let (_, n) = chars.next().expect("an escaped character");
                match (quote, n) {
                    (b'\'', '\'' | '\\') => out.push(n),
                    (b'"', 'n') => out.push('\n'),
                    (b'"', 't') => out.push('\t'),
                    (b'"', '"' | '\\' | '$') => out.push(n),
                    _ => {
                        out.push('\\');
                        out.push(n);
                    }
                }
            }
            '$' if quote == b'"' => panic!("a double-quoted literal with a variable"),
            c => out.push(c),
        }
    }
    panic!("an unterminated string literal")
}

/// The statements of an SQL dump, split on `;` outside quotes and comments;
/// comments and empty statements left out.
pub fn sql_dump(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            current.push(c);
            if c == '\\' {
                if let Some(n) = chars.next() {
                    current.push(n);
                }
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' | '`' => {
                quote = Some(c);
                current.push(c);
            }
            '-' if chars.peek() == Some(&'-') => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        break;
                    }
                }
                current.push('\n');
            }
            '/' if chars.peek() == Some(&'*') => {
                // MySQL's /*!40101 ... */ version comments are settings for old
                // clients; like every comment, they are left out.
                let mut prev = ' ';
                for n in chars.by_ref() {
                    if prev == '*' && n == '/' {
                        break;
                    }
                    prev = n;
                }
            }
            ';' => {
                if !current.trim().is_empty() {
                    out.push(current.trim().to_string());
                }
                current.clear();
            }
            c => current.push(c),
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn php_literals_unescape_as_php_does() {
        let php = r#"public function up(Schema $s): void { $this->addSql('COMMENT ON COLUMN t.c IS \'(DC2Type:uuid)\''); $this->addSql("A\tB"); } public function down() {}"#;
        assert_eq!(
            add_sql_in_up(php),
            ["COMMENT ON COLUMN t.c IS '(DC2Type:uuid)'", "A\tB"]
        );
    }

    #[test]
    fn a_dump_splits_outside_quotes_and_comments() {
        let dump = "-- a comment; still\nSET x = 1;\n/*!40101 SET y=2 */;\nINSERT INTO t VALUES ('a;b', 'it\\'s');";
        assert_eq!(
            sql_dump(dump),
            ["SET x = 1", "INSERT INTO t VALUES ('a;b', 'it\\'s')"]
        );
    }
}
