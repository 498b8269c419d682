//! `[http]`: where the daemon serves its request API and the review page, who may
//! call it (the token file) and how the connection is secured.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::de::DeTable;

use super::private::check_private;
use super::walk::{Cx, Item, get, resolve};
use crate::tokens::{self, ApiToken};

const HTTP_KEYS: &[&str] = &[
    "listen",
    "tokens_file",
    "tls_cert",
    "tls_key",
    "max_body_bytes",
    "requests_per_minute",
    "export_keep",
    "export_dir",
];

/// Where the API listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    Tcp(SocketAddr),
    /// A Unix socket, for a reverse proxy on the same host.
    Unix(PathBuf),
}

impl std::fmt::Display for Listen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Listen::Tcp(a) => write!(f, "{a}"),
            Listen::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

/// A certificate chain and its key, read when the config is loaded.
#[derive(Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
}

impl std::fmt::Debug for TlsFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsFiles(***)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    pub listen: Listen,
    pub tokens_file: PathBuf,
    pub tokens: Vec<ApiToken>,
    pub tls: Option<TlsFiles>,
    pub max_body_bytes: usize,
    /// Per token (and per client before it has shown one).
    pub requests_per_minute: u32,
    /// How long an answered access request's export waits to be downloaded.
    pub export_keep: Duration,
    /// Where those exports wait (mode 0700): `$STATE_DIRECTORY/exports`, or
    /// `exports` beside the config.
    pub export_dir: PathBuf,
}

impl HttpSettings {
    /// The address a browser or curl uses, for the demo and the logs.
    pub fn base_url(&self) -> String {
        match &self.listen {
            Listen::Tcp(a) if self.tls.is_some() => format!("https://{a}"),
            Listen::Tcp(a) => format!("http://{a}"),
            Listen::Unix(p) => format!("http+unix://{}", p.display()),
        }
    }
}

/// `[http]`, if present.
pub(super) fn http(cx: &mut Cx, root: &DeTable, base_dir: &Path) -> Option<HttpSettings> {
    let item = get(root, "http")?;
    let t = cx.table(item, "[http]")?;
    cx.check_keys(t, HTTP_KEYS, "in [http]");
    let listen = match get(t, "listen") {
        Some(v) => listen(cx, v, base_dir),
        None => {
            cx.problem(
                item.span().start..item.span().start,
                "[http] needs `listen`".into(),
                Some(
                    "for example listen = \"127.0.0.1:8750\", or \"unix:/run/retentiond/api.sock\""
                        .into(),
                ),
            );
            None
        }
    };
    let tls = tls_files(cx, t, base_dir);
    if let (Some(Listen::Tcp(addr)), None) = (&listen, &tls)
        && !addr.ip().is_loopback()
        && let Some(v) = get(t, "listen")
    {
        cx.problem(
            v.span(),
            format!("plain HTTP on {addr} would carry the tokens and personal data in clear text"),
            Some("add tls_cert and tls_key, or listen on 127.0.0.1 or a unix: socket behind a reverse proxy".into()),
        );
    }
    let (tokens_file, tokens) = token_file(cx, t, item, base_dir)?;
    let max_body_bytes = bounded(cx, t, "max_body_bytes", 65_536, 1_024..=16 << 20)?;
    let requests_per_minute = bounded(cx, t, "requests_per_minute", 600, 1..=1_000_000)?;
    let export_keep = match get(t, "export_keep") {
        Some(v) => cx.duration(v, "export_keep")?,
        None => Duration::from_secs(7 * 24 * 3600),
    };
    let export_dir = match get(t, "export_dir") {
        Some(v) => resolve(base_dir, &cx.string(v, "export_dir")?),
        None => std::env::var_os("STATE_DIRECTORY")
            .and_then(|dirs| std::env::split_paths(&dirs).next())
            .unwrap_or_else(|| base_dir.to_path_buf())
            .join("exports"),
    };
    Some(HttpSettings {
        listen: listen?,
        export_dir,
        tokens_file,
        tokens,
        tls,
        max_body_bytes: usize::try_from(max_body_bytes).ok()?,
        requests_per_minute: u32::try_from(requests_per_minute).ok()?,
        export_keep,
    })
}

fn listen(cx: &mut Cx, v: &Item, base_dir: &Path) -> Option<Listen> {
    let text = cx.string(v, "listen")?;
    if let Some(path) = text.strip_prefix("unix:") {
        return Some(Listen::Unix(resolve(base_dir, path)));
    }
    match text.parse::<SocketAddr>() {
        Ok(a) => Some(Listen::Tcp(a)),
        Err(_) => {
            cx.problem(
                v.span(),
                format!("invalid listen address `{text}`"),
                Some("an IP address and port (\"127.0.0.1:8750\"), or \"unix:/run/retentiond/api.sock\"".into()),
            );
            None
        }
    }
}

/// `tls_cert` and `tls_key`: both or neither; the key private; both PEM.
fn tls_files(cx: &mut Cx, t: &DeTable, base_dir: &Path) -> Option<TlsFiles> {
    match (get(t, "tls_cert"), get(t, "tls_key")) {
        (None, None) => None,
        (Some(v), None) | (None, Some(v)) => {
            cx.problem(
                v.span(),
                "tls_cert and tls_key go together".into(),
                Some("tls_cert = \"/etc/retentiond/api.crt\" (PEM chain) and tls_key = \"/etc/retentiond/api.key\" (PEM key, mode 0600)".into()),
            );
            None
        }
        (Some(c), Some(k)) => {
            let cert_pem = pem_file(cx, c, base_dir, "tls_cert", "CERTIFICATE")?;
            let key_path = resolve(base_dir, &cx.string(k, "tls_key")?);
            check_private(cx, "tls_key", &key_path, k.span())?;
            let key_pem = pem_file(cx, k, base_dir, "tls_key", "PRIVATE KEY")?;
            Some(TlsFiles { cert_pem, key_pem })
        }
    }
}

fn pem_file(cx: &mut Cx, v: &Item, base_dir: &Path, key: &str, label: &str) -> Option<Vec<u8>> {
    let path = resolve(base_dir, &cx.string(v, key)?);
    let problem = match std::fs::read(&path) {
        Err(e) => format!("cannot read {key} {}: {e}", path.display()),
        Ok(pem) if String::from_utf8_lossy(&pem).contains(label) => return Some(pem),
        Ok(_) => format!("{key} {} holds no PEM {label}", path.display()),
    };
    cx.problem(
        v.span(),
        problem,
        Some(format!("a PEM file with -----BEGIN ...{label}-----")),
    );
    None
}

fn token_file(
    cx: &mut Cx,
    t: &DeTable,
    item: &Item,
    base_dir: &Path,
) -> Option<(PathBuf, Vec<ApiToken>)> {
    let Some(v) = get(t, "tokens_file") else {
        cx.problem(
            item.span().start..item.span().start,
            "[http] needs `tokens_file`: every route asks for a token".into(),
            Some("tokens_file = \"/etc/retentiond/api-tokens\", filled by `retentiond token add NAME --role app|dpo|ops`".into()),
        );
        return None;
    };
    let path = resolve(base_dir, &cx.string(v, "tokens_file")?);
    if path.exists() {
        check_private(cx, "tokens_file", &path, v.span())?;
    }
    match tokens::read(&path) {
        Ok(tokens) => Some((path, tokens)),
        Err(e) => {
            cx.problem(
                v.span(),
                format!("tokens_file: {e}"),
                Some(format!(
                    "create it with: retentiond token add NAME --role app --file {}",
                    path.display()
                )),
            );
            None
        }
    }
}

fn bounded(
    cx: &mut Cx,
    t: &DeTable,
    key: &str,
    default: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Option<i64> {
    let Some(v) = get(t, key) else {
        return Some(default);
    };
    match cx.integer(v, key)? {
        n if range.contains(&n) => Some(n),
        _ => {
            let expected = format!("a whole number from {} to {}", range.start(), range.end());
            cx.type_error(v, key, &expected);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use crate::config::{ConfigError, parse};

    const BASE: &str = "[database]\nurl = \"sqlite://shop.db\"\n\n[[policy]]\nname = \"orders\"\ntable = \"orders\"\ntimestamp = \"placed_at\"\nkeep = \"10 years\"\naction = \"delete\"\n\n";

    fn load(dir: &std::path::Path, http: &str) -> Result<crate::config::Config, ConfigError> {
        let path = dir.join("retention.toml");
        let text = format!("{BASE}{http}");
        std::fs::write(&path, &text).unwrap();
        parse(&path, text.as_bytes(), None)
    }

    fn problems(dir: &std::path::Path, http: &str) -> String {
        load(dir, http).unwrap_err().to_string()
    }

    #[test]
    fn a_loopback_listener_with_a_token_file_loads() {
        let dir = tempfile::tempdir().unwrap();
        let token = crate::tokens::add(&dir.path().join("tokens"), "app", crate::tokens::Role::App)
            .unwrap();
        let c = load(
            dir.path(),
            "[http]\nlisten = \"127.0.0.1:8750\"\ntokens_file = \"tokens\"\nexport_keep = \"2d\"\n",
        )
        .unwrap();
        let h = c.http.unwrap();
        assert_eq!(h.base_url(), "http://127.0.0.1:8750");
        assert_eq!(h.export_keep.as_secs(), 2 * 86_400);
        assert_eq!(crate::tokens::find(&h.tokens, &token).unwrap().name, "app");
        let c = load(
            dir.path(),
            "[http]\nlisten = \"unix:api.sock\"\ntokens_file = \"tokens\"\n",
        )
        .unwrap();
        assert_eq!(
            c.http.unwrap().listen,
            super::Listen::Unix(dir.path().join("api.sock"))
        );
    }

    #[test]
    fn plain_http_elsewhere_than_loopback_is_refused_where_it_is_written() {
        let dir = tempfile::tempdir().unwrap();
        crate::tokens::add(&dir.path().join("tokens"), "app", crate::tokens::Role::App).unwrap();
        let e = problems(
            dir.path(),
            "[http]\nlisten = \"0.0.0.0:8750\"\ntokens_file = \"tokens\"\n",
        );
        assert!(
            e.contains("retention.toml:12:10: plain HTTP on 0.0.0.0:8750"),
            "{e}"
        );
        assert!(e.contains("add tls_cert and tls_key"), "{e}");
    }

    #[test]
    fn the_token_file_must_exist_be_private_and_well_formed() {
        let dir = tempfile::tempdir().unwrap();
        let e = problems(
            dir.path(),
            "[http]\nlisten = \"127.0.0.1:1\"\ntokens_file = \"tokens\"\n",
        );
        assert!(
            e.contains("13:15: tokens_file: cannot read") && e.contains("retentiond token add"),
            "{e}"
        );
        let path = dir.path().join("tokens");
        std::fs::write(&path, "app boss sha256:00\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let e = problems(
            dir.path(),
            "[http]\nlisten = \"127.0.0.1:1\"\ntokens_file = \"tokens\"\n",
        );
        assert!(
            e.contains("line 1: role `boss`; valid: app, dpo, ops"),
            "{e}"
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = problems(
            dir.path(),
            "[http]\nlisten = \"127.0.0.1:1\"\ntokens_file = \"tokens\"\n",
        );
        assert!(
            e.contains("open to others than its owner (mode 0644)"),
            "{e}"
        );
    }

    #[test]
    fn tls_files_go_in_pairs_and_limits_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        crate::tokens::add(&dir.path().join("tokens"), "app", crate::tokens::Role::App).unwrap();
        let e = problems(
            dir.path(),
            "[http]\nlisten = \"0.0.0.0:1\"\ntokens_file = \"tokens\"\ntls_cert = \"a.crt\"\nmax_body_bytes = 5\n",
        );
        assert!(e.contains("tls_cert and tls_key go together"), "{e}");
        assert!(
            e.contains("max_body_bytes") && e.contains("from 1024 to 16777216"),
            "{e}"
        );
        let e = problems(
            dir.path(),
            "[http]\nlisten = \"localhost:1\"\ntokens_file = \"tokens\"\nport = 3\n",
        );
        assert!(e.contains("invalid listen address `localhost:1`"), "{e}");
        assert!(
            e.contains("unknown key `port`") || e.contains("`port`"),
            "{e}"
        );
    }
}
