//! The signature a processor checks a delivery by: HMAC-SHA256 over the Unix time
//! and the body, sent as `t=<time>,v1=<hex>`, the way Stripe signs its webhooks,
//! so that receivers can reuse a verifier they already have. The time lets a
//! receiver refuse a replayed delivery.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The header a delivery's signature travels in.
pub const SIGNATURE_HEADER: &str = "Retentiond-Signature";

/// `t=<unix>,v1=<hex HMAC-SHA256(secret, "<unix>.<body>")>`.
pub fn signature(secret: &[u8], unix_time: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(unix_time.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={unix_time},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_stripes_scheme() {
        // python3 -c 'import hmac,hashlib; print(hmac.new(b"whsec_test_secret",
        //   b"1700000000.{\"a\":1}", hashlib.sha256).hexdigest())'
        assert_eq!(
            signature(b"whsec_test_secret", 1_700_000_000, br#"{"a":1}"#),
            "t=1700000000,v1=aecbc681fe3d2604c08ff8e880a0988d997a12367fcf9545e6a3b90c1dfc04b7"
        );
    }
}
