//! The erasure ledger: an append-only file, kept outside the shop's database, with
//! one JSON line per answered erasure (request, subject id, when, what each policy
//! erased) and per re-application after a restore. Each line carries the SHA-256
//! of the line before it, like the audit chain, so that an edit or a lost line
//! shows. A restore of the database cannot roll it back; every pass erases again
//! the subjects whose rows have come back. A leaf: no database, no engine.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::outcome::ErasureOutcome;

/// The `prev` of the first line.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a line records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerEvent {
    /// An erasure request was answered.
    Erased,
    /// Rows of an erased subject had come back (a restore) and were erased again.
    Reapplied,
}

/// What one policy erased, in counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerPolicy {
    pub policy: String,
    pub outcome: ErasureOutcome,
    pub rows: u64,
}

/// A line before it has a place in the file.
#[derive(Debug, Clone)]
pub struct NewLine {
    pub event: LedgerEvent,
    pub request: i64,
    pub subject: String,
    pub at: String,
    /// The pass that re-applied it.
    pub run: Option<i64>,
    pub policies: Vec<LedgerPolicy>,
}

/// One line of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerLine {
    pub seq: u64,
    pub event: LedgerEvent,
    pub request: i64,
    pub subject: String,
    pub at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<i64>,
    pub policies: Vec<LedgerPolicy>,
    /// SHA-256 (hex) of the previous line's bytes; [`GENESIS`] for the first.
    pub prev: String,
}

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("erasure ledger {path}: {error}")]
    Io { path: String, error: io::Error },
    #[error("erasure ledger {path}:{line}: not a ledger line: {error}")]
    Parse {
        path: String,
        line: u64,
        error: String,
    },
    #[error(
        "erasure ledger {path}:{line}: the chain is broken: the line says the one before it hashed to {claimed}, but it hashes to {actual}; a line before it was changed or removed"
    )]
    Broken {
        path: String,
        line: u64,
        claimed: String,
        actual: String,
    },
}

/// The ledger file at a path.
#[derive(Debug, Clone)]
pub struct Ledger {
    path: PathBuf,
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Ledger {
    pub fn at(path: &Path) -> Ledger {
        Ledger {
            path: path.to_path_buf(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, error: io::Error) -> LedgerError {
        LedgerError::Io {
            path: self.path.display().to_string(),
            error,
        }
    }

    /// Every line, its chain checked; no file is an empty ledger.
    pub fn read(&self) -> Result<Vec<LedgerLine>, LedgerError> {
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.io(e)),
        };
        let mut lines = Vec::new();
        let mut prev_hash = GENESIS.to_string();
        for (n, text) in BufReader::new(file).lines().enumerate() {
            let text = text.map_err(|e| self.io(e))?;
            let line = self.parse(&text, n as u64 + 1)?;
            if line.prev != prev_hash {
                return Err(LedgerError::Broken {
                    path: self.path.display().to_string(),
                    line: n as u64 + 1,
                    claimed: line.prev,
                    actual: prev_hash,
                });
            }
            prev_hash = sha256(text.as_bytes());
            lines.push(line);
        }
        Ok(lines)
    }

    /// The SHA-256 of the last line: the ledger's head.
    pub fn head(&self) -> Result<Option<String>, LedgerError> {
        Ok(self.last_line()?.map(|text| sha256(text.as_bytes())))
    }

    fn parse(&self, text: &str, line: u64) -> Result<LedgerLine, LedgerError> {
        serde_json::from_str(text).map_err(|e| LedgerError::Parse {
            path: self.path.display().to_string(),
            line,
            error: e.to_string(),
        })
    }

    /// Appends `new` after the last line, under an exclusive lock on the file, and
    /// syncs it to disk before returning: once this returns, a restore of the
    /// database can no longer undo the erasure.
    pub fn append(&self, new: NewLine) -> Result<LedgerLine, LedgerError> {
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .mode(0o600)
            .open(&self.path)
            .map_err(|e| self.io(e))?;
        rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)
            .map_err(|e| self.io(e.into()))?;
        let last = last_line_of(&mut file).map_err(|e| self.io(e))?;
        let (seq, prev) = match &last {
            Some(text) => (self.parse(text, 0)?.seq + 1, sha256(text.as_bytes())),
            None => (1, GENESIS.to_string()),
        };
        let line = LedgerLine {
            seq,
            event: new.event,
            request: new.request,
            subject: new.subject,
            at: new.at,
            run: new.run,
            policies: new.policies,
            prev,
        };
        let mut text = serde_json::to_string(&line).map_err(|e| self.io(io::Error::other(e)))?;
        text.push('\n');
        file.write_all(text.as_bytes()).map_err(|e| self.io(e))?;
        file.sync_all().map_err(|e| self.io(e))?;
        Ok(line)
    }

    fn last_line(&self) -> Result<Option<String>, LedgerError> {
        match File::open(&self.path) {
            Ok(mut f) => last_line_of(&mut f).map_err(|e| self.io(e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.io(e)),
        }
    }

    /// Whether the ledger's directory exists, for `check`.
    pub fn directory_exists(&self) -> bool {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => fs::metadata(p).is_ok_and(|m| m.is_dir()),
            _ => true,
        }
    }
}

/// The file's last line, read from its end: an append costs the same whatever the
/// ledger's length.
fn last_line_of(file: &mut File) -> io::Result<Option<String>> {
    let len = file.seek(SeekFrom::End(0))?;
    let mut tail = Vec::new();
    let mut start = len;
    // Lines are a few hundred bytes; read back in growing steps until a whole
    // line (or the file's start) is in hand.
    let mut step = 4096u64;
    loop {
        start = start.saturating_sub(step);
        file.seek(SeekFrom::Start(start))?;
        tail.clear();
        Read::by_ref(file)
            .take(len - start)
            .read_to_end(&mut tail)?;
        let body = tail.strip_suffix(b"\n").unwrap_or(&tail);
        if let Some(i) = body.iter().rposition(|b| *b == b'\n') {
            return Ok(Some(String::from_utf8_lossy(&body[i + 1..]).into_owned()));
        }
        if start == 0 {
            let text = String::from_utf8_lossy(body).into_owned();
            return Ok((!text.is_empty()).then_some(text));
        }
        step *= 4;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn erased(request: i64, subject: &str) -> NewLine {
        NewLine {
            event: LedgerEvent::Erased,
            request,
            subject: subject.into(),
            at: "2026-12-01T10:00:00.000Z".into(),
            run: None,
            policies: vec![LedgerPolicy {
                policy: "carts".into(),
                outcome: ErasureOutcome::Deleted,
                rows: 2,
            }],
        }
    }

    #[test]
    fn lines_chain_and_an_edit_shows() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::at(&dir.path().join("erasures.ledger"));
        assert_eq!(ledger.read().unwrap(), Vec::new());
        let first = ledger.append(erased(1, "7")).unwrap();
        assert_eq!((first.seq, first.prev.as_str()), (1, GENESIS));
        let second = ledger.append(erased(2, "8")).unwrap();
        assert_eq!(second.seq, 2);
        assert_eq!(ledger.read().unwrap(), vec![first, second]);
        let mode = fs::metadata(ledger.path()).unwrap().permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );

        let text = fs::read_to_string(ledger.path()).unwrap();
        fs::write(ledger.path(), text.replacen("\"7\"", "\"9\"", 1)).unwrap();
        let err = ledger.read().unwrap_err().to_string();
        assert!(
            err.contains("erasures.ledger:2: the chain is broken"),
            "{err}"
        );
    }

    #[test]
    fn the_last_line_is_found_past_a_long_tail() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::at(&dir.path().join("l"));
        let long = "x".repeat(10_000);
        ledger.append(erased(1, &long)).unwrap();
        ledger.append(erased(2, &long)).unwrap();
        let third = ledger.append(erased(3, "7")).unwrap();
        assert_eq!(third.seq, 3);
        assert_eq!(ledger.read().unwrap().len(), 3);
    }
}
