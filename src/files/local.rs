//! A store in a local directory. A row's path is resolved beneath the store's root
//! by the kernel (`openat2` with RESOLVE_BENEATH), so that `..`, an absolute path
//! elsewhere or a symbolic link out of the root is refused, never followed; the
//! file is then unlinked from its directory, which never follows a link either.

use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags, openat2, statat, unlinkat};
use rustix::io::Errno;

use super::{Removal, StoreError, Unreadable};

/// The directory a store's paths are resolved beneath.
pub struct Directory {
    root: PathBuf,
    fd: OwnedFd,
}

/// Why a path is refused before the file system is asked.
fn relative(root: &Path, path: &str) -> Result<PathBuf, String> {
    let p = Path::new(path);
    let rel = if p.is_absolute() {
        p.strip_prefix(root)
            .map_err(|_| "an absolute path outside the store".to_string())?
            .to_path_buf()
    } else {
        p.to_path_buf()
    };
    if rel.components().any(|c| c == Component::ParentDir) {
        return Err("`..` in the path".into());
    }
    if rel.as_os_str().is_empty() || path.contains('\0') {
        return Err("an empty path".into());
    }
    Ok(rel)
}

fn beneath() -> ResolveFlags {
    ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS
}

impl Directory {
    pub fn open(root: &Path) -> Result<Directory, StoreError> {
        let fd = rustix::fs::open(
            root,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| StoreError::Open(format!("{}: {e}", root.display())))?;
        Ok(Directory {
            root: root.to_path_buf(),
            fd,
        })
    }

    /// Removes the file `path` names, if it lies beneath the root.
    pub fn remove(&self, path: &str) -> Removal {
        let rel = match relative(&self.root, path) {
            Ok(r) => r,
            Err(why) => return Removal::Refused(why),
        };
        let (parent, name) = match (rel.parent(), rel.file_name()) {
            (Some(p), Some(n)) if !p.as_os_str().is_empty() => (p.to_path_buf(), n),
            (_, Some(n)) => (PathBuf::from("."), n),
            _ => return Removal::Refused("no file name in the path".into()),
        };
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let dir = match openat2(&self.fd, &parent, flags, Mode::empty(), beneath()) {
            Ok(fd) => fd,
            Err(Errno::NOENT | Errno::NOTDIR) => return Removal::AlreadyGone,
            Err(Errno::XDEV | Errno::LOOP) => {
                return Removal::Refused(
                    "its directory lies outside the store (a symbolic link)".into(),
                );
            }
            Err(e) => return Removal::Failed(e.to_string()),
        };
        let stat = match statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(s) => s,
            Err(Errno::NOENT) => return Removal::AlreadyGone,
            Err(e) => return Removal::Failed(e.to_string()),
        };
        match FileType::from_raw_mode(stat.st_mode) {
            FileType::Directory => return Removal::Refused("a directory, not a file".into()),
            FileType::Symlink => {
                // A link is removed itself, never its target; one that points out
                // of the store is refused: it is not the store's to judge.
                let target = openat2(
                    &self.fd,
                    &rel,
                    OFlags::PATH | OFlags::CLOEXEC,
                    Mode::empty(),
                    beneath(),
                );
                if let Err(Errno::XDEV | Errno::LOOP) = target {
                    return Removal::Refused("a symbolic link out of the store".into());
                }
            }
            _ => {}
        }
        match unlinkat(&dir, name, AtFlags::empty()) {
            Ok(()) => Removal::Removed,
            Err(Errno::NOENT) => Removal::AlreadyGone,
            Err(e) => Removal::Failed(e.to_string()),
        }
    }

    /// The bytes of the file `path` names, if it lies beneath the root.
    pub fn read(&self, path: &str) -> Result<Vec<u8>, Unreadable> {
        let rel = relative(&self.root, path).map_err(Unreadable::Refused)?;
        let flags = OFlags::RDONLY | OFlags::CLOEXEC;
        let fd = match openat2(&self.fd, &rel, flags, Mode::empty(), beneath()) {
            Ok(fd) => fd,
            Err(Errno::NOENT | Errno::NOTDIR) => return Err(Unreadable::Missing),
            Err(Errno::XDEV | Errno::LOOP) => {
                return Err(Unreadable::Refused(
                    "it lies outside the store (a symbolic link)".into(),
                ));
            }
            Err(e) => return Err(Unreadable::Failed(e.to_string())),
        };
        let mut file = std::fs::File::from(fd);
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut file, &mut bytes)
            .map_err(|e| Unreadable::Failed(e.to_string()))?;
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_outside_the_root_are_refused_before_any_lookup() {
        let root = Path::new("/srv/uploads");
        assert_eq!(relative(root, "kyc/a.pdf"), Ok(PathBuf::from("kyc/a.pdf")));
        assert_eq!(
            relative(root, "/srv/uploads/kyc/a.pdf"),
            Ok(PathBuf::from("kyc/a.pdf"))
        );
        assert!(relative(root, "/etc/passwd").is_err());
        assert!(relative(root, "kyc/../../etc/passwd").is_err());
        assert!(relative(root, "").is_err());
        assert!(relative(root, "/srv/uploads").is_err());
    }
}
