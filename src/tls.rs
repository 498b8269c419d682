//! The TLS crypto provider of the process's HTTPS clients (processors, S3):
//! ring, as lettre's SMTP already uses, installed once before the first client is
//! built. reqwest is built without a provider of its own, so that aws-lc (a C
//! build with cmake) stays out. A leaf: imports nothing of the crate.

use std::sync::Once;

static INSTALL: Once = Once::new();

/// Installs ring as the process's default provider, unless one already is.
pub fn ensure_provider() {
    INSTALL.call_once(|| {
        // Err means another provider was installed first, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
