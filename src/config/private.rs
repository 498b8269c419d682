//! Files holding secrets (a password, a key, a signing secret): refused when
//! group or others may read them, as ssh refuses such a private key.

use std::ops::Range;
use std::path::Path;

use super::walk::Cx;

/// The permission bits of a secret's file when group or others may use it, as
/// ssh refuses a private key others can read. `None`: only the owner may.
pub(super) fn shared_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

/// Records a problem when the secret at `path` is readable by group or others.
pub(super) fn check_private(cx: &mut Cx, key: &str, path: &Path, span: Range<usize>) -> Option<()> {
    let Some(mode) = shared_mode(path) else {
        return Some(());
    };
    cx.problem(
        span,
        format!(
            "{key} {} is open to others than its owner (mode {mode:04o}); retentiond refuses a secret others can read",
            path.display()
        ),
        Some(format!("run: chmod 600 {}", path.display())),
    );
    None
}
