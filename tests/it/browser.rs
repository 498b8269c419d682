//! The review page in Debian's Chromium, driven headless through WebDriver
//! (chromium-driver): the officer logs in with a token, sees an overdue request
//! marked, answers it, signs a report off; screenshots are taken and decoded to
//! check they show the page. A forged form (no session's CSRF token) is refused.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::api::{Client, add_tokens, api_config, start};
use crate::daemon::{KillOnDrop, free_port};
use crate::print::{CHROMIUM_FLAGS, tool};
use crate::support::{Shop, stdout};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A WebDriver session of chromedriver's.
struct Browser {
    base: String,
    http: reqwest::Client,
    _driver: KillOnDrop,
}

impl Browser {
    async fn start(driver: &str, chromium: &str, profile: &Path) -> Browser {
        let port = free_port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let driver = KillOnDrop(Some(child));
        let http = reqwest::Client::new();
        let root = format!("http://127.0.0.1:{port}");
        let started = std::time::Instant::now();
        while http.get(format!("{root}/status")).send().await.is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "chromedriver did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // chromedriver finds no page in the bare `--headless` mode here.
        let mut args: Vec<String> = CHROMIUM_FLAGS
            .iter()
            .filter(|f| !matches!(**f, "--headless" | "--no-pdf-header-footer"))
            .map(|s| s.to_string())
            .collect();
        args.push("--headless=new".into());
        args.push("--disable-dev-shm-usage".into());
        args.push("--window-size=1280,1200".into());
        args.push(format!("--user-data-dir={}", profile.display()));
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args}}}});
        let r: Value = http
            .post(format!("{root}/session"))
            .json_body(&caps)
            .send()
            .await
            .unwrap()
            .json_value()
            .await;
        let id = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {r}"));
        Browser {
            base: format!("{root}/session/{id}"),
            http,
            _driver: driver,
        }
    }

    async fn call(&self, post: Option<Value>, path: &str) -> Value {
        let url = format!("{}{path}", self.base);
        let req = match post {
            Some(body) => self.http.post(url).json_body(&body),
            None => self.http.get(url),
        };
        let r = req.send().await.unwrap().json_value().await;
        assert!(r["value"]["error"].is_null(), "{path}: {r}");
        r["value"].clone()
    }

    async fn go(&self, url: &str) {
        self.call(Some(json!({"url": url})), "/url").await;
    }

    async fn find(&self, css: &str) -> String {
        let v = self
            .call(
                Some(json!({"using": "css selector", "value": css})),
                "/element",
            )
            .await;
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("{css}: {v}"))
            .to_string()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.call(Some(json!({"text": text})), &format!("/element/{e}/value"))
            .await;
    }

    async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.call(Some(json!({})), &format!("/element/{e}/click"))
            .await;
    }

    async fn source(&self) -> String {
        self.call(None, "/source")
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The page once it holds `text`: a click's navigation may not have ended
    /// when the click returns on a loaded machine. Up to 10 s, then as it is.
    async fn source_with(&self, text: &str) -> String {
        let started = std::time::Instant::now();
        loop {
            let page = self.source().await;
            if page.contains(text) || started.elapsed() > Duration::from_secs(10) {
                return page;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn screenshot(&self, to: &Path) -> Vec<u8> {
        use base64::Engine;
        let b64 = self.call(None, "/screenshot").await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        std::fs::write(to, &png).unwrap();
        png
    }
}

/// reqwest without its `json` feature: the body and the reply by hand.
trait JsonBody {
    fn json_body(self, v: &Value) -> Self;
}

impl JsonBody for reqwest::RequestBuilder {
    fn json_body(self, v: &Value) -> Self {
        self.header("content-type", "application/json")
            .body(serde_json::to_vec(v).unwrap())
    }
}

trait JsonValue {
    async fn json_value(self) -> Value;
}

impl JsonValue for reqwest::Response {
    async fn json_value(self) -> Value {
        serde_json::from_slice(&self.bytes().await.unwrap()).unwrap()
    }
}

/// Width, height and how many pixels are of `rgb` (within a small tolerance).
fn pixels_of(png: &[u8], rgb: [u8; 3]) -> (u32, u32, usize) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = info.color_type.samples();
    let near = |a: u8, b: u8| a.abs_diff(b) <= 3;
    let n = buf[..info.buffer_size()]
        .chunks(step)
        .filter(|p| near(p[0], rgb[0]) && near(p[1], rgb[1]) && near(p[2], rgb[2]))
        .count();
    (info.width, info.height, n)
}

fn screenshots_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread")]
async fn the_officer_logs_in_answers_an_overdue_request_and_signs_a_report() {
    let (Some(driver), Some(chromium)) = (
        tool("chromedriver", "chromium-driver"),
        tool("chromium", "chromium"),
    ) else {
        return;
    };
    let shop = Shop::new(crate::api::SCHEMA).await;
    let t = add_tokens(shop.dir.path());
    let port = free_port();
    api_config(&shop, &format!("127.0.0.1:{port}"), "");
    let base = format!("http://127.0.0.1:{port}");
    let api = Client::new(&base);
    let _daemon = start(&shop, &api, &t.ops).await;
    let filed = api
        .post(
            "/v1/requests",
            &t.app,
            json!({"kind": "erasure", "subject": "1", "received_at": "2026-01-02T10:00:00Z"}),
        )
        .await
        .json();
    let late = filed["id"].as_i64().unwrap();
    api.post(
        "/v1/requests",
        &t.app,
        json!({"kind": "erasure", "subject": "2"}),
    )
    .await;

    // A forged form: a session, but not its CSRF token.
    let login = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = login
        .post(format!("{base}/review/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={}", t.dpo))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_string();
    let forged = login
        .post(format!("{base}/review/requests/{late}/answer"))
        .header("cookie", &session)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("csrf=rtd_forged")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    let r = login
        .post(format!("{base}/review/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={}", t.app))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status().as_u16(),
        401,
        "an app token does not open the page"
    );

    let profile = tempfile::tempdir().unwrap();
    let b = Browser::start(&driver, &chromium, profile.path()).await;
    b.go(&format!("{base}/review")).await;
    assert!(
        b.source().await.contains("Log in with a token of role"),
        "sent to the login form"
    );
    b.type_into("#token", &t.dpo).await;
    b.click("#login").await;
    let page = b.source_with("Privacy requests:").await;
    assert!(page.contains("2 open, 1 overdue"), "{page}");
    assert!(
        page.contains(&format!("<tr id=\"request-{late}\" class=\"overdue\">")),
        "{page}"
    );
    assert!(page.contains("OVERDUE"));
    let shots = screenshots_dir();
    let png = b.screenshot(&shots.join("review-overdue.png")).await;
    // The overdue row's background (#fdecea) is on the screen.
    let (w, h, overdue_pixels) = pixels_of(&png, [0xfd, 0xec, 0xea]);
    assert!(w >= 1000 && h >= 800, "{w}x{h}");
    assert!(
        overdue_pixels > 2_000,
        "{overdue_pixels} pixels of the overdue row's colour"
    );

    b.click(&format!("#answer-{late}")).await;
    let page = b.source_with(&format!("Request #{late}")).await;
    assert!(page.contains(&format!("Request #{late}")), "{page}");
    // The daemon answers it between passes.
    let answered = crate::api::when_answered(&api, late, &t.dpo).await["status"] != "open";
    assert!(answered, "the overdue request answered");

    let label = api.get("/v1/reports", &t.dpo).await.json()[0]["label"]
        .as_str()
        .unwrap()
        .to_string();
    b.go(&format!("{base}/review")).await;
    b.type_into(
        &format!("#report-{label} input[name=reviewer]"),
        "Anna Schmidt",
    )
    .await;
    b.click(&format!("#sign-{label}")).await;
    let page = b
        .source_with(&format!("Report {label} signed off by"))
        .await;
    assert!(
        page.contains(&format!("Report {label} signed off by Anna Schmidt")),
        "{page}"
    );
    assert!(
        page.contains("Anna Schmidt, through the API by token `dpo-anna` at "),
        "{page}"
    );
    assert!(page.contains("1 open, 0 overdue"), "{page}");
    let png = b.screenshot(&shots.join("review-signed.png")).await;
    let (_, _, flash) = pixels_of(&png, [0xee, 0xf7, 0xf0]);
    assert!(flash > 1_000, "{flash} pixels of the confirmation's colour");
    let (_, _, overdue_left) = pixels_of(&png, [0xfd, 0xec, 0xea]);
    assert_eq!(overdue_left, 0, "no overdue row left");
    let verify = shop.cli(&["audit", "verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
    assert!(
        stdout(&verify).contains("report sign-offs: 1"),
        "{}",
        stdout(&verify)
    );
}
