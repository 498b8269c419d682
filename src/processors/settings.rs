//! `[[processor]]` as the config reads it: where an answered request is passed
//! on, how it is signed, and what it carries. No IO.

use std::time::Duration;

use crate::outcome::RequestKind;
use crate::policy::Ident;
use crate::secret::Secret;

/// A processor that holds copies of the shop's personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessorSettings {
    pub name: String,
    /// `https://...`; `http://` only to this host.
    pub url: String,
    /// The HMAC-SHA256 key the body is signed with, from `secret_file`.
    pub secret: Secret,
    /// Which answered requests it is told about; erasures by default.
    pub kinds: Vec<RequestKind>,
    /// What identifies the person to it, in the order written.
    pub send: Vec<SendField>,
    /// How long one delivery may take, connecting included.
    pub timeout: Duration,
    /// The wait after a first failure; it doubles after each, up to [`MAX_RETRY`].
    pub retry: Duration,
    /// Extra root certificates (PEM) for a processor behind a private CA.
    pub ca_pem: Option<Vec<u8>>,
}

/// The longest wait between two tries of a delivery.
pub const MAX_RETRY: Duration = Duration::from_secs(6 * 3600);

/// One field of the body's `subject`: its name there and where its values come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendField {
    pub name: String,
    pub from: SendFrom,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendFrom {
    /// The request's subject as registered (`"subject"`).
    Subject,
    /// A column of a policy's table, read from the person's rows by the policy's
    /// subject column (`"customers.email"`).
    Column { table: Ident, column: Ident },
}

impl ProcessorSettings {
    pub fn handles(&self, kind: RequestKind) -> bool {
        self.kinds.contains(&kind)
    }

    /// The wait before the try after `failures` failed ones.
    pub fn backoff(&self, failures: u32) -> Duration {
        let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(20));
        self.retry.saturating_mul(factor).min(MAX_RETRY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_up_to_six_hours() {
        let p = ProcessorSettings {
            name: "p".into(),
            url: "https://p.example/".into(),
            secret: Secret("k".into()),
            kinds: vec![RequestKind::Erasure],
            send: Vec::new(),
            timeout: Duration::from_secs(30),
            retry: Duration::from_secs(60),
            ca_pem: None,
        };
        let waits: Vec<u64> = (1..=4).map(|n| p.backoff(n).as_secs()).collect();
        assert_eq!(waits, [60, 120, 240, 480]);
        assert_eq!(p.backoff(30), MAX_RETRY);
        assert_eq!(p.backoff(u32::MAX), MAX_RETRY);
    }
}
