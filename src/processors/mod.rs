//! The processors an answered request is passed on to (GDPR Art. 19): a delivery
//! signed and posted over HTTPS, and what the processor's answer means. Which
//! delivery to send when, and what it records, is the engine's.

mod settings;
mod sign;

use std::time::Duration;

use chrono::{DateTime, Utc};

pub use settings::{MAX_RETRY, ProcessorSettings, SendField, SendFrom};
pub use sign::{SIGNATURE_HEADER, signature};

/// The header carrying a delivery's key, the same on every try, so that a
/// processor that has seen it can answer 2xx without acting twice.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

/// What became of one try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A 2xx status: the processor has it.
    Accepted(u16),
    /// Any other status, a timeout, or no connection: try again later. The words
    /// never hold the processor's body, which may echo the person's data.
    Failed(String),
}

/// An HTTPS client per processor, built once.
pub struct Sender {
    clients: Vec<(String, Result<reqwest::Client, String>)>,
}

impl Sender {
    pub fn new(processors: &[ProcessorSettings]) -> Sender {
        crate::tls::ensure_provider();
        Sender {
            clients: processors
                .iter()
                .map(|p| (p.name.clone(), client(p)))
                .collect(),
        }
    }

    /// Posts `body` to `p`, signed at `now`, with `key` as its idempotency key.
    pub async fn post(
        &self,
        p: &ProcessorSettings,
        key: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> Answer {
        let client = match self.clients.iter().find(|(n, _)| *n == p.name) {
            Some((_, Ok(c))) => c,
            Some((_, Err(e))) => return Answer::Failed(e.clone()),
            None => return Answer::Failed(format!("no client for processor {}", p.name)),
        };
        let signed = signature(p.secret.0.as_bytes(), now.timestamp(), body.as_bytes());
        let sent = client
            .post(&p.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(IDEMPOTENCY_HEADER, key)
            .header(SIGNATURE_HEADER, signed)
            .body(body.to_string())
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => Answer::Accepted(r.status().as_u16()),
            Ok(r) => Answer::Failed(format!("HTTP {}", r.status())),
            Err(e) => Answer::Failed(failure(&e, p.timeout)),
        }
    }
}

fn client(p: &ProcessorSettings) -> Result<reqwest::Client, String> {
    let mut b = reqwest::Client::builder()
        .user_agent(concat!("retentiond/", env!("CARGO_PKG_VERSION")))
        .timeout(p.timeout)
        .connect_timeout(p.timeout.min(Duration::from_secs(10)))
        // A redirect could lead the body elsewhere, or to plain HTTP.
        .redirect(reqwest::redirect::Policy::none())
        .https_only(!p.url.starts_with("http://"));
    if let Some(pem) = &p.ca_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| format!("ca_file of processor {}: {e}", p.name))?;
        for c in certs {
            b = b.add_root_certificate(c);
        }
    }
    b.build()
        .map_err(|e| format!("cannot build the HTTPS client: {e}"))
}

/// A failed try in words, without the URL (it may carry a token).
fn failure(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("no answer within {} s", timeout.as_secs_f64());
    }
    let what = if e.is_connect() {
        "cannot connect"
    } else {
        "the request failed"
    };
    let mut words = what.to_string();
    let mut source = std::error::Error::source(e);
    // The innermost cause says what happened (refused, reset, certificate).
    while let Some(s) = source {
        words = format!("{what}: {s}");
        source = s.source();
    }
    words
}
