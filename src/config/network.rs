//! What the sections that reach other hosts share (`[mail]`, `[[processor]]`):
//! whether a host is this machine, and a CA file read and checked at load time.

use std::path::Path;

use super::walk::{Cx, Item, resolve};

/// Whether `host` names this machine: `localhost` or a loopback address.
pub(super) fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.is_loopback())
}

/// A `ca_file` key: the file read and checked to hold PEM certificates; `help`
/// says what it should hold.
pub(super) fn read_ca_file(cx: &mut Cx, v: &Item, base_dir: &Path, help: &str) -> Option<Vec<u8>> {
    let file = cx.string(v, "ca_file")?;
    let path = resolve(base_dir, &file);
    let problem = match std::fs::read(&path) {
        Err(e) => format!("cannot read ca_file {}: {e}", path.display()),
        Ok(pem) => match reqwest::Certificate::from_pem_bundle(&pem) {
            Ok(certs) if !certs.is_empty() => return Some(pem),
            Ok(_) => format!("ca_file {} holds no PEM certificate", path.display()),
            Err(e) => format!("ca_file {} is not PEM: {e}", path.display()),
        },
    };
    cx.problem(v.span(), problem, Some(help.into()));
    None
}
