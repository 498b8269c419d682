//! The request API through a real HTTP client against the daemon: every route,
//! every role, missing and wrong tokens, bad bodies, the rate limit, TLS with a
//! CA of the test's own, and the Unix socket. The audit trail names each token.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::daemon::{KillOnDrop, free_port, spawn_daemon, wait_for};
use crate::support::{Backend, Shop, stderr, stdout};

pub(crate) const SCHEMA: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(100), last_login_at VARCHAR(30));
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, placed_at VARCHAR(30));
INSERT INTO customers VALUES (1, 'ann@example.com', '2026-11-01T00:00:00Z'), (2, 'bob@example.com', '2026-11-01T00:00:00Z');
INSERT INTO orders VALUES (10, 1, '2026-10-01T00:00:00Z'), (11, 2, '2026-10-02T00:00:00Z');
";

pub(crate) const POLICIES: &str = "
[[policy]]
name = \"customers\"
table = \"customers\"
timestamp = \"last_login_at\"
keep = \"3 years\"
basis = \"contract\"
subject = \"id\"
action = \"delete\"

[[policy]]
name = \"orders\"
table = \"orders\"
timestamp = \"placed_at\"
keep = \"10 years\"
basis = \"legal_obligation\"
subject = \"customer_id\"
action = \"delete\"
";

/// The tokens of a test, made with `retentiond token add`.
pub(crate) struct Tokens {
    pub app: String,
    pub dpo: String,
    pub ops: String,
}

pub(crate) fn add_tokens(dir: &Path) -> Tokens {
    let add = |name: &str, role: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_retentiond"))
            .args(["token", "add", name, "--role", role, "--file"])
            .arg(dir.join("api-tokens"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stdout(&out).trim().to_string()
    };
    Tokens {
        app: add("shop-app", "app"),
        dpo: add("dpo-anna", "dpo"),
        ops: add("ops", "ops"),
    }
}

/// `[http]` and a yearly schedule (the daemon runs no pass by itself), with a
/// monthly report: the daemon writes last month's at its start.
pub(crate) fn api_config(shop: &Shop, listen: &str, extra: &str) {
    shop.write_config(&format!(
        "[schedule]\ncron = \"0 0 3 1 1 *\"\n\n[report]\ndir = \"reports\"\nschedule = \"monthly\"\nformats = [\"html\", \"markdown\"]\n\n\
         [http]\nlisten = \"{listen}\"\ntokens_file = \"api-tokens\"\n{extra}\n{POLICIES}"
    ));
}

pub(crate) struct Client {
    pub base: String,
    pub http: reqwest::Client,
}

pub(crate) struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Client {
    pub fn new(base: &str) -> Client {
        retentiond::tls::ensure_provider();
        Client {
            base: base.into(),
            http: reqwest::Client::new(),
        }
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&[u8]>,
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_vec());
        }
        let r = req.send().await.expect("the API answers");
        Reply {
            status: r.status().as_u16(),
            headers: r.headers().clone(),
            body: r.bytes().await.unwrap().to_vec(),
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call("GET", path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        let bytes = serde_json::to_vec(&body).unwrap();
        self.call("POST", path, Some(token), Some(&bytes)).await
    }
}

/// Starts the daemon and waits until its API answers.
pub(crate) async fn start(shop: &Shop, client: &Client, token: &str) -> KillOnDrop {
    let mut daemon = spawn_daemon(&shop.config_path, &shop.path("daemon.log"));
    let started = std::time::Instant::now();
    loop {
        let up = client
            .http
            .get(format!("{}/healthz", client.base))
            .bearer_auth(token)
            .send()
            .await;
        if up.is_ok_and(|r| r.status().as_u16() == 200) {
            return daemon;
        }
        let log = std::fs::read_to_string(shop.path("daemon.log")).unwrap_or_default();
        let exited = daemon.0.as_mut().and_then(|c| c.try_wait().ok().flatten());
        assert!(
            exited.is_none() && started.elapsed() < Duration::from_secs(30),
            "the API did not start ({exited:?}):\n{log}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Request `id` once the daemon has answered it: polled for up to 30 s, then
/// returned as it stands (still open: the caller's assertion says so).
pub(crate) async fn when_answered(api: &Client, id: i64, token: &str) -> Value {
    let started = std::time::Instant::now();
    loop {
        let r = api.get(&format!("/v1/requests/{id}"), token).await.json();
        if r["status"] != "open" || started.elapsed() > Duration::from_secs(30) {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// 422 naming `field`.
fn assert_field(r: &Reply, field: &str) {
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["field"], field, "{}", r.text());
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_are_filed_read_and_answered_by_role_with_bad_input_named() {
    let shop = Shop::new(SCHEMA).await;
    let t = add_tokens(shop.dir.path());
    let port = free_port();
    api_config(&shop, &format!("127.0.0.1:{port}"), "max_body_bytes = 2048");
    let api = Client::new(&format!("http://127.0.0.1:{port}"));
    let _daemon = start(&shop, &api, &t.ops).await;

    // No token, a wrong one, a right one in the wrong role.
    let r = api.call("GET", "/v1/requests", None, None).await;
    assert_eq!(r.status, 401);
    assert!(
        r.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    assert_eq!(api.get("/v1/requests", "rtd_not-a-token").await.status, 401);
    let r = api
        .post(
            "/v1/requests",
            &t.ops,
            json!({"kind": "erasure", "subject": "1"}),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("token `ops` (role ops)"),
        "{}",
        r.text()
    );
    for path in ["/v1/holds", "/v1/status", "/v1/reports", "/metrics"] {
        assert_eq!(api.get(path, &t.app).await.status, 403, "app on {path}");
    }

    // Bad bodies: each names its field.
    let bad = |body: &'static [u8]| api.call("POST", "/v1/requests", Some(&t.app), Some(body));
    assert_field(&bad(b"{not json").await, "body");
    assert_field(&bad(b"[1]").await, "body");
    assert_field(
        &bad(br#"{"kind":"erasure","subject":"1","colour":"red"}"#).await,
        "colour",
    );
    assert_field(&bad(br#"{"kind":"forget","subject":"1"}"#).await, "kind");
    assert_field(&bad(br#"{"kind":"erasure"}"#).await, "subject");
    assert_field(
        &bad(br#"{"kind":"erasure","subject":"  "}"#).await,
        "subject",
    );
    assert_field(
        &bad(br#"{"kind":"erasure","subject":"1","received_at":"yesterday"}"#).await,
        "received_at",
    );
    assert_field(
        &bad(br#"{"kind":"erasure","subject":"1","received_at":"2999-01-01T00:00:00Z"}"#).await,
        "received_at",
    );
    assert_field(
        &bad(br#"{"kind":"erasure","subject":"1","reason":7}"#).await,
        "reason",
    );
    let huge = format!(
        r#"{{"kind":"erasure","subject":"1","reference":"{}"}}"#,
        "x".repeat(4096)
    );
    let r = api
        .call("POST", "/v1/requests", Some(&t.app), Some(huge.as_bytes()))
        .await;
    assert_eq!(r.status, 413, "{}", r.text());
    assert_eq!(r.json()["field"], "body");
    assert_field(&api.get("/v1/requests?status=lost", &t.app).await, "status");
    assert_field(&api.get("/v1/requests/abc", &t.app).await, "id");
    assert_eq!(api.get("/v1/requests/999", &t.app).await.status, 404);
    assert_eq!(api.get("/v1/nothing", &t.app).await.status, 404);
    assert_eq!(
        shop.int("SELECT count(*) FROM retention_erasure_requests")
            .await,
        0,
        "a bad body recorded nothing"
    );

    // An erasure, received 40 days ago by letter: overdue at once.
    let r = api
        .post("/v1/requests", &t.app, json!({"kind": "erasure", "subject": 1, "reference": "T-1", "received_at": "2026-01-01T09:00:00Z"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let late = r.json();
    assert_eq!(late["due_at"], "2026-01-31T09:00:00.000Z");
    assert_eq!(late["status"], "open");
    assert_eq!(late["overdue"], true);
    let overdue = api.get("/v1/requests?status=overdue", &t.app).await.json();
    assert_eq!(overdue.as_array().unwrap().len(), 1);
    assert_eq!(overdue[0]["id"], late["id"]);

    // Access for a subject nobody knows: recorded, answered "no data found",
    // the export downloadable once.
    let r = api
        .post(
            "/v1/requests",
            &t.app,
            json!({"kind": "access", "subject": "nobody-42"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let access = r.json();
    assert_eq!(access["status"], "completed", "{access}");
    assert_eq!(access["answer"], "no data found");
    let url = access["export"]["url"].as_str().unwrap().to_string();
    let first = api.get(&url, &t.app).await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(
        first.json()["request"]["request"],
        access["id"],
        "{}",
        first.text()
    );
    let again = api.get(&url, &t.app).await;
    assert_eq!(again.status, 410, "{}", again.text());
    let one = api
        .get(&format!("/v1/requests/{}", access["id"]), &t.app)
        .await
        .json();
    assert_eq!(one["export"], Value::Null, "gone once downloaded: {one}");
    assert_eq!(
        api.get("/v1/requests?status=answered", &t.dpo)
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // A minor's erasure is answered at once by the daemon, between passes; the
    // orders stay (legal obligation).
    let r = api
        .post(
            "/v1/requests",
            &t.app,
            json!({"kind": "erasure", "subject": "2", "reason": "minor"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_i64().unwrap();
    let answered = when_answered(&api, id, &t.app).await;
    assert_eq!(answered["status"], "partially_retained", "{answered}");
    assert_eq!(
        shop.int("SELECT count(*) FROM customers WHERE id = 2")
            .await,
        0
    );
    assert_eq!(
        shop.int("SELECT count(*) FROM orders WHERE customer_id = 2")
            .await,
        1
    );

    // The officer answers the overdue one.
    let r = api
        .post(
            &format!("/v1/requests/{}/answer", late["id"]),
            &t.app,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = api
        .post(
            &format!("/v1/requests/{}/answer", late["id"]),
            &t.dpo,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text());
    let late_id = late["id"].as_i64().unwrap();
    let status = when_answered(&api, late_id, &t.dpo).await["status"].clone();
    assert_eq!(status, "partially_retained");
    let r = api
        .post(
            &format!("/v1/requests/{}/answer", late["id"]),
            &t.dpo,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text());

    // Every change is an audit event naming its token, and the chain holds.
    let named = shop
        .int("SELECT count(*) FROM retention_events WHERE action IN ('erasure_registered', 'export_registered') AND detail LIKE '%through the API by token `shop-app`%'")
        .await;
    assert_eq!(named, 3, "three requests filed by shop-app");
    let downloaded = shop
        .int("SELECT count(*) FROM retention_events WHERE action = 'export_downloaded' AND detail LIKE '%token `shop-app`%'")
        .await;
    assert_eq!(downloaded, 1);
    let asked = shop
        .int("SELECT count(*) FROM retention_events WHERE action = 'answer_asked' AND detail LIKE '%token `dpo-anna`%'")
        .await;
    assert_eq!(asked, 1, "the officer's answer is recorded with the token");
    let verify = shop.cli(&["audit", "verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
    // Nothing personal in the daemon's log.
    let log = std::fs::read_to_string(shop.path("daemon.log")).unwrap();
    for personal in ["nobody-42", "ann@example.com", "bob@example.com"] {
        assert!(!log.contains(personal), "{personal} in the log");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn holds_status_reports_sign_offs_metrics_and_the_document() {
    let shop = Shop::new(SCHEMA).await;
    let t = add_tokens(shop.dir.path());
    let port = free_port();
    api_config(&shop, &format!("127.0.0.1:{port}"), "");
    let check = shop.cli(&["check"]);
    let expected = format!(
        "http      http://127.0.0.1:{port}/v1 and http://127.0.0.1:{port}/review, 3 token(s): 1 app, 1 dpo, 1 ops"
    );
    assert!(stdout(&check).contains(&expected), "{}", stdout(&check));
    let api = Client::new(&format!("http://127.0.0.1:{port}"));
    let _daemon = start(&shop, &api, &t.dpo).await;

    let r = api
        .post(
            "/v1/holds",
            &t.dpo,
            json!({"subject": "1", "reason": "case 7/2026"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let hold = r.json()["id"].as_i64().unwrap();
    assert_field(
        &api.post(
            "/v1/holds",
            &t.dpo,
            json!({"subject": "1", "reason": "x", "policy": "nope"}),
        )
        .await,
        "policy",
    );
    assert_field(
        &api.post(
            "/v1/holds",
            &t.dpo,
            json!({"subject": "1", "reason": "x", "until": "soon"}),
        )
        .await,
        "until",
    );
    assert_field(
        &api.post("/v1/holds", &t.dpo, json!({"subject": "1"})).await,
        "reason",
    );
    let holds = api.get("/v1/holds", &t.dpo).await.json();
    assert_eq!(holds[0]["hold"]["id"], hold);
    assert_eq!(holds[0]["active"], true);
    let r = api
        .post(
            &format!("/v1/holds/{hold}/release"),
            &t.dpo,
            json!({"reason": "case closed"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        api.post(&format!("/v1/holds/{hold}/release"), &t.dpo, json!({}))
            .await
            .status,
        404
    );

    for token in [&t.ops, &t.dpo] {
        let s = api.get("/v1/status", token).await;
        assert_eq!(s.status, 200, "{}", s.text());
        assert_eq!(s.json()["policies"].as_array().unwrap().len(), 2);
        let m = api.get("/metrics", token).await;
        assert_eq!(m.status, 200);
        assert!(m.text().contains("retentiond_leader"), "{}", m.text());
    }

    // Last month's report, written at the daemon's start, signed off.
    let reports = api.get("/v1/reports", &t.dpo).await.json();
    let label = reports[0]["label"].as_str().unwrap().to_string();
    assert_eq!(
        reports[0]["files"].as_array().unwrap().len(),
        2,
        "{reports}"
    );
    let html = api
        .get(&format!("/v1/reports/{label}?format=html"), &t.dpo)
        .await;
    assert_eq!(html.status, 200);
    assert!(
        html.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_field(
        &api.get(&format!("/v1/reports/{label}?format=pdf"), &t.dpo)
            .await,
        "format",
    );
    assert_eq!(
        api.get("/v1/reports/1999-01?format=html", &t.dpo)
            .await
            .status,
        404
    );
    assert_field(
        &api.post(
            &format!("/v1/reports/{label}/sign"),
            &t.dpo,
            json!({"reviewer": "<b>x</b>"}),
        )
        .await,
        "reviewer",
    );
    let signed = api
        .post(
            &format!("/v1/reports/{label}/sign"),
            &t.dpo,
            json!({"reviewer": "Anna Schmidt"}),
        )
        .await;
    assert_eq!(signed.status, 201, "{}", signed.text());
    let reports = api.get("/v1/reports", &t.dpo).await.json();
    let by = reports[0]["sign_offs"][0]["by"].as_str().unwrap();
    assert_eq!(by, "Anna Schmidt, through the API by token `dpo-anna`");
    let verify = shop.cli(&["audit", "verify", "--format", "json"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
    // A signed file changed afterwards: audit verify fails and names it.
    let file = shop.path(&format!("reports/retentiond-report-{label}.md"));
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("\nadded later\n");
    std::fs::write(&file, text).unwrap();
    let verify = shop.cli(&["audit", "verify"]);
    assert_eq!(verify.status.code(), Some(1), "{}", stdout(&verify));
    assert!(
        stdout(&verify).contains(&format!(
            "retentiond-report-{label}.md CHANGED after its sign-off"
        )),
        "{}",
        stdout(&verify)
    );

    // The document served is the one the binary prints.
    let served = api.get("/v1/openapi.json", &t.ops).await.json();
    let printed = std::process::Command::new(env!("CARGO_BIN_EXE_retentiond"))
        .args(["generate", "openapi"])
        .output()
        .unwrap();
    assert_eq!(
        served,
        serde_json::from_slice::<Value>(&printed.stdout).unwrap()
    );
    assert!(served["paths"]["/v1/requests"]["post"].is_object());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_over_its_rate_is_told_when_to_come_back() {
    let shop = Shop::new(SCHEMA).await;
    let t = add_tokens(shop.dir.path());
    let port = free_port();
    api_config(
        &shop,
        &format!("127.0.0.1:{port}"),
        "requests_per_minute = 5",
    );
    let api = Client::new(&format!("http://127.0.0.1:{port}"));
    // start() itself spends one of ops' five.
    let _daemon = start(&shop, &api, &t.ops).await;
    let mut codes = Vec::new();
    for _ in 0..5 {
        codes.push(api.get("/v1/status", &t.ops).await.status);
    }
    assert_eq!(codes, [200, 200, 200, 200, 429]);
    let r = api.get("/v1/status", &t.ops).await;
    assert!(
        r.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    // Another token has its own allowance; guessed tokens share the client's.
    assert_eq!(api.get("/v1/status", &t.dpo).await.status, 200);
    let guesses: Vec<u16> =
        futures_util::future::join_all((0..7).map(|_| api.get("/v1/status", "rtd_guess")))
            .await
            .iter()
            .map(|r| r.status)
            .collect();
    assert_eq!(
        guesses.iter().filter(|s| **s == 401).count(),
        5,
        "{guesses:?}"
    );
    assert_eq!(
        guesses.iter().filter(|s| **s == 429).count(),
        2,
        "{guesses:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_with_a_company_ca_and_a_unix_socket() {
    let shop = Shop::new(SCHEMA).await;
    let t = add_tokens(shop.dir.path());
    let (ca, cert, key) = crate::mail::company_ca(shop.dir.path());
    let port = free_port();
    api_config(
        &shop,
        &format!("127.0.0.1:{port}"),
        &format!(
            "tls_cert = {:?}\ntls_key = {:?}",
            cert.display().to_string(),
            key.display().to_string()
        ),
    );
    retentiond::tls::ensure_provider();
    let pem = std::fs::read(&ca).unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .resolve("localhost", ([127, 0, 0, 1], port).into())
        .build()
        .unwrap();
    let api = Client {
        base: format!("https://localhost:{port}"),
        http,
    };
    let daemon = start(&shop, &api, &t.ops).await;
    let r = api
        .post(
            "/v1/requests",
            &t.app,
            json!({"kind": "erasure", "subject": "1"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    // Plain HTTP to the TLS port gets no answer; a client without the CA refuses.
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await;
    assert!(plain.is_err() || plain.unwrap().status().as_u16() != 200);
    let strict = reqwest::Client::builder()
        .resolve("localhost", ([127, 0, 0, 1], port).into())
        .build()
        .unwrap();
    assert!(
        strict
            .get(format!("https://localhost:{port}/healthz"))
            .send()
            .await
            .is_err()
    );
    drop(daemon);

    // The same API on a Unix socket, for a reverse proxy on the host.
    api_config(&shop, "unix:api.sock", "");
    let daemon = spawn_daemon(&shop.config_path, &shop.path("daemon.log"));
    let socket = shop.path("api.sock");
    wait_for("the socket", Duration::from_secs(30), || socket.exists());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777,
        0o660
    );
    let reply = over_unix(&socket, &format!("GET /v1/requests HTTP/1.1\r\nHost: retentiond\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n", t.app)).await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("\"subject\":\"1\""), "{reply}");
    let reply = over_unix(
        &socket,
        "GET /v1/requests HTTP/1.1\r\nHost: retentiond\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 401"), "{reply}");
    drop(daemon);
}

async fn over_unix(socket: &Path, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::UnixStream::connect(socket).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

on_every_backend!(an_erasure_and_an_export_through_the_api);

async fn an_erasure_and_an_export_through_the_api(backend: Backend) {
    let shop = Shop::on(backend, SCHEMA).await;
    let t = add_tokens(shop.dir.path());
    let port = free_port();
    api_config(&shop, &format!("127.0.0.1:{port}"), "");
    let api = Client::new(&format!("http://127.0.0.1:{port}"));
    let _daemon = start(&shop, &api, &t.ops).await;
    let r = api
        .post(
            "/v1/requests",
            &t.app,
            json!({"kind": "portability", "subject": "1"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let export = r.json();
    assert_eq!(export["status"], "completed", "{export}");
    assert_eq!(
        export["answer"],
        "customers: 1 row(s) exported; orders: 1 row(s) exported"
    );
    let body = api
        .get(export["export"]["url"].as_str().unwrap(), &t.app)
        .await;
    assert_eq!(body.status, 200);
    assert!(body.text().contains("ann@example.com"));
    let r = api
        .post(
            "/v1/requests",
            &t.app,
            json!({"kind": "erasure", "subject": "1", "reason": "minor"}),
        )
        .await;
    let id = r.json()["id"].as_i64().unwrap();
    let status = when_answered(&api, id, &t.app).await["status"].clone();
    assert_eq!(status, "partially_retained");
    assert_eq!(
        shop.int("SELECT count(*) FROM customers WHERE id = 1")
            .await,
        0
    );
    let verify = shop.cli(&["audit", "verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_export_with_the_persons_files_is_one_zip_downloaded_once() {
    let shop = Shop::new(&format!(
        "{SCHEMA}
CREATE TABLE documents (id INTEGER PRIMARY KEY, customer_id INTEGER, verified_at VARCHAR(30), scan_path VARCHAR(250));
INSERT INTO documents VALUES (1, 1, '2026-06-01T00:00:00Z', 'kyc/1.pdf'), (2, 2, '2026-06-01T00:00:00Z', 'kyc/2.pdf');"
    ))
    .await;
    for n in [1, 2] {
        let p = shop.path(&format!("uploads/kyc/{n}.pdf"));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, format!("%PDF passport scan {n}")).unwrap();
    }
    let t = add_tokens(shop.dir.path());
    let port = free_port();
    api_config(
        &shop,
        &format!("127.0.0.1:{port}"),
        "\n[stores.uploads]\nurl = \"file://uploads\"\n\n[[policy]]\nname = \"kyc\"\ntable = \"documents\"\n\
         timestamp = \"verified_at\"\nkeep = \"7 years\"\nbasis = \"legal_obligation\"\nsubject = \"customer_id\"\n\
         action = \"delete\"\nfiles = { scan_path = \"uploads\" }\n",
    );
    let api = Client::new(&format!("http://127.0.0.1:{port}"));
    let _daemon = start(&shop, &api, &t.ops).await;
    let r = api
        .post(
            "/v1/requests",
            &t.app,
            json!({"kind": "access", "subject": "1"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let url = r.json()["export"]["url"].as_str().unwrap().to_string();
    let got = api.get(&url, &t.app).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.headers["content-type"], "application/zip");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(got.body.clone())).unwrap();
    let names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    let id = url.split('/').nth(3).unwrap();
    let doc_name = format!("request-{id}.json");
    assert!(names.contains(&doc_name), "{names:?}");
    let scan = names
        .iter()
        .find(|n| n.starts_with(&format!("{doc_name}.files/")) && n.ends_with("1.pdf"))
        .unwrap_or_else(|| panic!("no scan in {names:?}"))
        .clone();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut zip.by_name(&scan).unwrap(), &mut bytes).unwrap();
    assert_eq!(bytes, b"%PDF passport scan 1");
    assert!(
        !names.iter().any(|n| n.ends_with("2.pdf")),
        "only the person's own files: {names:?}"
    );
    assert_eq!(api.get(&url, &t.app).await.status, 410);
    // Nothing of it is left on the server; the shop's own file is untouched.
    let left: Vec<_> = std::fs::read_dir(shop.path("exports")).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(shop.path("uploads/kyc/1.pdf").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_with_http_on_prints_where_and_tokens_that_work() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("retention.toml");
    let port = free_port();
    let base =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/retention.toml")).unwrap();
    let on = base
        .replace("# [http]\n", "[http]\n")
        .replace(
            "# listen = \"127.0.0.1:8750\"",
            &format!("listen = \"127.0.0.1:{port}\""),
        )
        .replace("# tokens_file = ", "tokens_file = ");
    assert_ne!(on, base, "retention.toml has the [http] lines to uncomment");
    std::fs::write(&config, &on).unwrap();
    let out = crate::support::run_cli(&config, dir.path(), &["demo"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!("the request API at http://127.0.0.1:{port}/v1, the review page at http://127.0.0.1:{port}/review")),
        "{text}"
    );
    let token = |name: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(&format!("token {name} (role ")))
            .and_then(|rest| rest.split(": ").nth(1))
            .unwrap_or_else(|| panic!("no {name} token in:\n{text}"))
            .to_string()
    };
    let (app, dpo) = (token("demo-app"), token("demo-dpo"));
    // A second demo keeps the tokens and says where they are.
    let again = stdout(&crate::support::run_cli(&config, dir.path(), &["demo"]));
    assert!(
        again.contains("tokens: retentiond token list --file"),
        "{again}"
    );

    let daemon = spawn_daemon(&config, &dir.path().join("daemon.log"));
    let api = Client::new(&format!("http://127.0.0.1:{port}"));
    wait_for("the API", Duration::from_secs(30), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let r = api
        .post(
            "/v1/requests",
            &app,
            json!({"kind": "erasure", "subject": "1"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let r = api.get("/v1/requests?status=open", &dpo).await;
    assert_eq!(r.json().as_array().unwrap().len(), 1, "{}", r.text());
    let login = api.call("GET", "/review/login", None, None).await;
    assert_eq!(login.status, 200);
    drop(daemon);
}
