//! `[mail]`, and `[report] mail_to`: where the periodic reports are sent. The SMTP
//! password is read from a file (a systemd credential), never written in the config.

use std::path::Path;

use toml::de::DeTable;

use super::network::{is_loopback, read_ca_file};
use super::private::check_private;
use super::walk::{Cx, get, resolve};
pub use crate::secret::Secret;

const MAIL_KEYS: &[&str] = &[
    "host",
    "port",
    "security",
    "user",
    "password_file",
    "from",
    "ca_file",
];

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailSecurity {
    /// Plain, then STARTTLS (port 587); refused if the server cannot.
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No TLS: only for a relay on the same host or a test server on loopback.
    None,
}

const SECURITY: [(&str, MailSecurity); 3] = [
    ("starttls", MailSecurity::StartTls),
    ("tls", MailSecurity::Tls),
    ("none", MailSecurity::None),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailSettings {
    pub host: String,
    pub port: u16,
    pub security: MailSecurity,
    pub user: Option<String>,
    pub password: Option<Secret>,
    pub from: String,
    /// `ca_file`: PEM certificates trusted besides the system's store (a company
    /// relay's own CA), read when the config is loaded.
    pub ca_pem: Option<Vec<u8>>,
}

/// `[mail]`, if present.
pub(super) fn mail(cx: &mut Cx, root: &DeTable, base_dir: &Path) -> Option<MailSettings> {
    let item = get(root, "mail")?;
    let t = cx.table(item, "[mail]")?;
    cx.check_keys(t, MAIL_KEYS, "in [mail]");
    let required = |cx: &mut Cx, key: &str, example: &str| -> Option<String> {
        match get(t, key) {
            Some(v) => cx.string(v, key),
            None => {
                cx.problem(
                    item.span().start..item.span().start,
                    format!("[mail] needs `{key}`"),
                    Some(format!("for example {key} = \"{example}\"")),
                );
                None
            }
        }
    };
    let host = required(cx, "host", "smtp.shop.example");
    let from = required(cx, "from", "retentiond@shop.example");
    let security = match get(t, "security") {
        Some(v) => cx.choice(v, "security", &SECURITY)?,
        None => MailSecurity::StartTls,
    };
    let port = match get(t, "port") {
        None => match security {
            MailSecurity::StartTls => 587,
            MailSecurity::Tls => 465,
            MailSecurity::None => 25,
        },
        Some(v) => match cx.integer(v, "port").map(u16::try_from) {
            Some(Ok(p)) if p > 0 => p,
            Some(_) => {
                cx.type_error(v, "port", "a port number, 1 to 65535");
                return None;
            }
            None => return None,
        },
    };
    if security == MailSecurity::None
        && !is_loopback(host.as_deref().unwrap_or("localhost"))
        && let Some(v) = get(t, "security")
    {
        cx.problem(
            v.span(),
            "security = \"none\" sends the login and the report in clear text: only to a relay on this host (localhost, 127.0.0.1, ::1)".into(),
            Some("use security = \"starttls\" (port 587) or \"tls\" (port 465)".into()),
        );
    }
    let user = get(t, "user").and_then(|v| cx.string(v, "user"));
    login_pair(cx, t);
    let ca_pem = get(t, "ca_file").and_then(|v| {
        let help = "a file of PEM certificates (-----BEGIN CERTIFICATE-----), the relay's CA";
        read_ca_file(cx, v, base_dir, help)
    });
    let password = match get(t, "password_file") {
        None => None,
        Some(v) => {
            let file = cx.string(v, "password_file")?;
            let path = resolve(base_dir, &file);
            check_private(cx, "password_file", &path, v.span())?;
            match std::fs::read_to_string(&path) {
                Ok(text) => Some(Secret(text.trim_end_matches(['\r', '\n']).to_string())),
                Err(e) => {
                    cx.problem(
                        v.span(),
                        format!("cannot read password_file {}: {e}", path.display()),
                        Some("the file holds the SMTP password on one line (mode 0600)".into()),
                    );
                    return None;
                }
            }
        }
    };
    Some(MailSettings {
        host: host?,
        port,
        security,
        user,
        password,
        from: from?,
        ca_pem,
    })
}

/// `user` and `password_file` go together: one without the other fails at the
/// first send, so it fails the config instead.
fn login_pair(cx: &mut Cx, t: &DeTable) {
    match (get(t, "user"), get(t, "password_file")) {
        (Some(v), None) => cx.problem(
            v.span(),
            "[mail] `user` without `password_file`".into(),
            Some("add password_file = \"/run/credentials/retentiond.service/smtp-password\", or remove user".into()),
        ),
        (None, Some(v)) => cx.problem(
            v.span(),
            "[mail] `password_file` without `user`".into(),
            Some("add user = \"retentiond@shop.example\", or remove password_file".into()),
        ),
        _ => {}
    }
}

/// `[report] mail_to`: a non-empty list of addresses, each checked for `@`.
pub(super) fn mail_to(cx: &mut Cx, report: &DeTable) -> Vec<String> {
    let Some(v) = get(report, "mail_to") else {
        return Vec::new();
    };
    let Some(items) = v.get_ref().as_array() else {
        cx.type_error(v, "mail_to", "a list of e-mail addresses");
        return Vec::new();
    };
    let mut out = Vec::new();
    for i in items.iter() {
        let Some(address) = cx.string(i, "mail_to") else {
            continue;
        };
        if address.parse::<lettre::Address>().is_err() {
            cx.problem(
                i.span(),
                format!("`{address}` is not an e-mail address"),
                Some("for example mail_to = [\"dpo@shop.example\"]".into()),
            );
            continue;
        }
        out.push(address);
    }
    out
}
