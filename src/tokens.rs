//! The API's credential file: one bearer token per line, stored as its SHA-256
//! only, with a name and a role. Reading, writing and checking a presented token.
//! A leaf: imports nothing of the crate.
//!
//! A line is `NAME ROLE sha256:HEX`; `#` starts a comment. Tokens are 256 random
//! bits, so one SHA-256 (not a slow password hash) is enough to make a leaked
//! file useless, and lets each request be checked in microseconds.

use std::fmt;
use std::io::Write;
use std::path::Path;

use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// The shop's app: files requests and reads their status.
    App,
    /// The data-protection officer: everything but the config.
    Dpo,
    /// Operations: status and metrics.
    Ops,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::App, Role::Dpo, Role::Ops];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::App => "app",
            Role::Dpo => "dpo",
            Role::Ops => "ops",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of the file: who, what they may do, and the token's hash.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub name: String,
    pub role: Role,
    pub sha256: [u8; 32],
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiToken({} {})", self.name, self.role)
    }
}

/// A line of the file that is not a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct TokenLineError {
    pub line: usize,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenFileError {
    #[error("cannot read {path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("cannot write {path}: {error}")]
    Write { path: String, error: std::io::Error },
    #[error("{path} {error}")]
    Line { path: String, error: TokenLineError },
    #[error(
        "a token named `{0}` is in the file already; remove it first (retentiond token remove {0})"
    )]
    Duplicate(String),
    #[error("no token named `{0}` in the file")]
    Unknown(String),
    #[error(
        "`{0}` is not a token name: use letters, digits, `.`, `_` and `-`, at most 64 characters"
    )]
    BadName(String),
}

/// Whether `name` may name a token: it appears in audit events and logs.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// The tokens of a file's text; the first wrong line is the error.
pub fn parse(text: &str) -> Result<Vec<ApiToken>, TokenLineError> {
    let mut tokens: Vec<ApiToken> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let wrong = |message: String| TokenLineError {
            line: i + 1,
            message,
        };
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [name, role, hash] = fields[..] else {
            return Err(wrong(format!(
                "{} field(s); a line is `NAME ROLE sha256:HEX` (retentiond token add writes them)",
                fields.len()
            )));
        };
        if !valid_name(name) {
            return Err(wrong(format!(
                "`{name}` is not a token name (letters, digits, `.`, `_`, `-`)"
            )));
        }
        let role = Role::parse(role)
            .ok_or_else(|| wrong(format!("role `{role}`; valid: app, dpo, ops")))?;
        let sha256 = hash
            .strip_prefix("sha256:")
            .and_then(|h| hex::decode(h).ok())
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| wrong("the hash is not `sha256:` and 64 hex digits".into()))?;
        if tokens.iter().any(|t| t.name == name) {
            return Err(wrong(format!("a second token named `{name}`")));
        }
        tokens.push(ApiToken {
            name: name.to_string(),
            role,
            sha256,
        });
    }
    Ok(tokens)
}

/// The file's line for a token.
fn line(t: &ApiToken) -> String {
    format!("{} {} sha256:{}\n", t.name, t.role, hex::encode(t.sha256))
}

/// A new random token: `rtd_` and 256 bits in URL-safe base64.
pub fn generate() -> String {
    let bytes: [u8; 32] = rand::random();
    format!(
        "rtd_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The token `presented` matches, compared in constant time with every stored
/// hash (no early exit, so the time does not tell which or how many).
pub fn find<'t>(tokens: &'t [ApiToken], presented: &str) -> Option<&'t ApiToken> {
    let h = hash(presented);
    let mut found = None;
    for t in tokens {
        if bool::from(t.sha256.ct_eq(&h)) {
            found = Some(t);
        }
    }
    found
}

/// Reads the file; a missing file is an error (the caller decides whether that
/// means "no tokens yet").
pub fn read(path: &Path) -> Result<Vec<ApiToken>, TokenFileError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| TokenFileError::Read {
        path: shown.clone(),
        error,
    })?;
    parse(&text).map_err(|error| TokenFileError::Line { path: shown, error })
}

/// Adds a new token named `name` to the file (created 0600 if missing) and
/// returns it: the only time it is ever shown.
pub fn add(path: &Path, name: &str, role: Role) -> Result<String, TokenFileError> {
    if !valid_name(name) {
        return Err(TokenFileError::BadName(name.into()));
    }
    let mut tokens = read_or_empty(path)?;
    if tokens.iter().any(|t| t.name == name) {
        return Err(TokenFileError::Duplicate(name.into()));
    }
    let token = generate();
    tokens.push(ApiToken {
        name: name.into(),
        role,
        sha256: hash(&token),
    });
    write(path, &tokens)?;
    Ok(token)
}

/// Removes the token named `name`; requests bearing it fail once the daemon has
/// re-read the file (at its next reload).
pub fn remove(path: &Path, name: &str) -> Result<ApiToken, TokenFileError> {
    let mut tokens = read(path)?;
    let at = tokens
        .iter()
        .position(|t| t.name == name)
        .ok_or_else(|| TokenFileError::Unknown(name.into()))?;
    let removed = tokens.remove(at);
    write(path, &tokens)?;
    Ok(removed)
}

pub fn read_or_empty(path: &Path) -> Result<Vec<ApiToken>, TokenFileError> {
    match read(path) {
        Err(TokenFileError::Read { error, .. }) if error.kind() == std::io::ErrorKind::NotFound => {
            Ok(Vec::new())
        }
        other => other,
    }
}

/// Writes the file whole through a temporary file in its directory, mode 0600,
/// renamed over the old one: a reader never sees half a file.
fn write(path: &Path, tokens: &[ApiToken]) -> Result<(), TokenFileError> {
    let failed = |error| TokenFileError::Write {
        path: path.display().to_string(),
        error,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(failed)?;
    let mut text =
        String::from("# retentiond API tokens: NAME ROLE sha256:HEX (retentiond token add)\n");
    for t in tokens {
        text.push_str(&line(t));
    }
    tmp.write_all(text.as_bytes()).map_err(failed)?;
    tmp.as_file().sync_all().map_err(failed)?;
    // NamedTempFile is created 0600 already.
    tmp.persist(path).map_err(|e| failed(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_found_by_its_hash_only() {
        let token = generate();
        assert!(token.starts_with("rtd_") && token.len() == 47, "{token}");
        let text = format!(
            "# comment\nshop-app app sha256:{}\n\ndpo-anna dpo sha256:{}  # Anna\n",
            hex::encode(hash(&token)),
            hex::encode(hash("other"))
        );
        let tokens = parse(&text).unwrap();
        assert_eq!(tokens.len(), 2);
        assert_eq!(find(&tokens, &token).unwrap().name, "shop-app");
        assert_eq!(find(&tokens, "other").unwrap().role, Role::Dpo);
        assert!(find(&tokens, "rtd_wrong").is_none());
        assert!(find(&tokens, "").is_none());
    }

    #[test]
    fn a_wrong_line_is_named() {
        let h = format!("sha256:{}", hex::encode([7u8; 32]));
        for (text, line, says) in [
            (format!("a app {h}\nb boss {h}\n"), 2, "role `boss`"),
            ("a app\n".to_string(), 1, "2 field(s)"),
            ("a app sha256:00\n".to_string(), 1, "64 hex digits"),
            (format!("a app {h}\na ops {h}\n"), 2, "a second token"),
            (format!("a/b app {h}\n"), 1, "not a token name"),
        ] {
            let e = parse(&text).unwrap_err();
            assert_eq!(e.line, line, "{text}");
            assert!(e.message.contains(says), "{}", e.message);
        }
    }

    #[test]
    fn add_and_remove_keep_the_file_private_and_whole() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("api-tokens");
        let t1 = add(&path, "shop-app", Role::App).unwrap();
        let t2 = add(&path, "anna", Role::Dpo).unwrap();
        assert_ne!(t1, t2);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(&t1) && !text.contains(&t2), "{text}");
        assert!(matches!(
            add(&path, "anna", Role::Ops),
            Err(TokenFileError::Duplicate(_))
        ));
        assert!(matches!(
            add(&path, "a b", Role::Ops),
            Err(TokenFileError::BadName(_))
        ));
        assert_eq!(remove(&path, "shop-app").unwrap().role, Role::App);
        let left = read(&path).unwrap();
        assert_eq!(left.len(), 1);
        assert!(find(&left, &t1).is_none());
        assert_eq!(find(&left, &t2).unwrap().name, "anna");
    }
}
