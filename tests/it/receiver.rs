//! A processor's endpoint on loopback, as a real HTTP server (axum) in a thread
//! of its own: it checks each delivery's signature, acts on each idempotency key
//! once, and answers from a script (fail, hang, 500) before it accepts.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// How the receiver answers its next delivery.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    Status(u16),
    /// Acts on the delivery, then answers 202 only after this long: longer than
    /// the sender waits, it sees a timeout although the processor has acted.
    SlowAccept(Duration),
}

/// One delivery as received.
#[derive(Debug, Clone)]
pub struct Post {
    /// The URL path's last part: which processor it was sent to.
    pub processor: String,
    pub key: String,
    pub body: serde_json::Value,
    pub signature_ok: bool,
    pub status: u16,
}

#[derive(Clone, Default)]
struct Shared {
    secrets: Vec<(String, String)>,
    script: Arc<Mutex<VecDeque<Reply>>>,
    posts: Arc<Mutex<Vec<Post>>>,
    /// The keys acted on, once each, in order.
    acted: Arc<Mutex<Vec<String>>>,
}

pub struct Receiver {
    shared: Shared,
}

impl Receiver {
    /// Starts on `port` (0: any), with each processor's signing secret.
    pub fn start(port: u16, secrets: &[(&str, &str)], script: &[Reply]) -> Receiver {
        let shared = Shared {
            secrets: secrets
                .iter()
                .map(|(p, s)| (p.to_string(), s.to_string()))
                .collect(),
            script: Arc::new(Mutex::new(script.iter().copied().collect())),
            ..Shared::default()
        };
        let app = Router::new()
            .route("/hooks/{processor}", post(receive))
            .with_state(shared.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("receiver runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
                    .await
                    .expect("bind the receiver");
                tx.send(listener.local_addr().unwrap()).unwrap();
                axum::serve(listener, app).await.expect("serve");
            });
        });
        let _: SocketAddr = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("receiver up");
        Receiver { shared }
    }

    pub fn posts(&self) -> Vec<Post> {
        self.shared.posts.lock().unwrap().clone()
    }

    pub fn acted(&self) -> Vec<String> {
        self.shared.acted.lock().unwrap().clone()
    }
}

async fn receive(
    State(s): State<Shared>,
    Path(processor): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let key = header("idempotency-key");
    let secret = s
        .secrets
        .iter()
        .find(|(p, _)| *p == processor)
        .map(|(_, k)| k.clone())
        .unwrap_or_default();
    let signature_ok = verify(&secret, &header("retentiond-signature"), &body);
    let reply = if !signature_ok {
        Reply::Status(401)
    } else if s.acted.lock().unwrap().contains(&key) {
        // Seen before: done already, not done twice.
        Reply::Status(200)
    } else {
        s.script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Reply::Status(202))
    };
    let status = match reply {
        Reply::Status(n) => n,
        Reply::SlowAccept(_) => 202,
    };
    if signature_ok && (200..300).contains(&status) && !s.acted.lock().unwrap().contains(&key) {
        s.acted.lock().unwrap().push(key.clone());
    }
    s.posts.lock().unwrap().push(Post {
        processor,
        key,
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        signature_ok,
        status,
    });
    if let Reply::SlowAccept(wait) = reply {
        tokio::time::sleep(wait).await;
    }
    StatusCode::from_u16(status).unwrap()
}

/// Checks `t=<unix>,v1=<hex>` the way a Stripe webhook receiver does.
fn verify(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", x)) => t = Some(x),
            Some(("v1", x)) => v1 = Some(x),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    let Ok(expected) = hex::decode(v1) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    let fresh = t
        .parse::<i64>()
        .is_ok_and(|t| (chrono::Utc::now().timestamp() - t).abs() < 300);
    fresh && mac.verify_slice(&expected).is_ok()
}
