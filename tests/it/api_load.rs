//! A load of `POST /v1/requests` on loopback while a pass deletes rows: bounded
//! in count (2,000 requests, 16 at a time) and time (120 s). Every request is
//! answered 201 and recorded once; the latency is printed (p50, p99, max), not
//! asserted: a timed test would only measure the machine.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::api::{Client, add_tokens, api_config, start};
use crate::daemon::free_port;
use crate::support::{Backend, Shop};

const REQUESTS: usize = 2_000;
const AT_ONCE: usize = 16;

on_every_backend!(filed_under_load_while_a_pass_runs_every_request_is_recorded_once);

async fn filed_under_load_while_a_pass_runs_every_request_is_recorded_once(backend: Backend) {
    let shop = Shop::on(backend, crate::api::SCHEMA).await;
    shop.exec("CREATE TABLE visits (id INTEGER PRIMARY KEY, at VARCHAR(30))")
        .await;
    for block in 0..20 {
        let rows: Vec<String> = (0..10_000)
            .map(|i| format!("({}, '2020-01-01T00:00:00Z')", block * 10_000 + i))
            .collect();
        shop.exec(&format!("INSERT INTO visits VALUES {}", rows.join(",")))
            .await;
    }
    let t = add_tokens(shop.dir.path());
    let port = free_port();
    // A pass every second, in small paced batches: it runs through the load.
    api_config(
        &shop,
        &format!("127.0.0.1:{port}"),
        "requests_per_minute = 1000000\n\n[limits]\nbatch_size = 500\npause = \"20ms\"\nmax_table_fraction = 1.0\n\n\
         [[policy]]\nname = \"visits\"\ntable = \"visits\"\ntimestamp = \"at\"\nkeep = \"1 year\"\naction = \"delete\"\n",
    );
    let text = std::fs::read_to_string(&shop.config_path)
        .unwrap()
        .replace("0 0 3 1 1 *", "* * * * * *");
    std::fs::write(&shop.config_path, text).unwrap();
    let api = Client::new(&format!("http://127.0.0.1:{port}"));
    let _daemon = start(&shop, &api, &t.ops).await;
    let visits = "SELECT count(*) FROM visits";
    let started = Instant::now();
    while shop.int(visits).await == 200_000 {
        assert!(started.elapsed() < Duration::from_secs(60), "no pass began");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let before = shop.int(visits).await;

    let load = Instant::now();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let workers = (0..AT_ONCE).map(|_| async {
        let mut took = Vec::new();
        loop {
            let n = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if n >= REQUESTS {
                return took;
            }
            let body = json!({"kind": "erasure", "subject": format!("load-{n}"), "reference": format!("L-{n}")});
            let at = Instant::now();
            let r = api.post("/v1/requests", &t.app, body).await;
            took.push(at.elapsed());
            assert_eq!(r.status, 201, "request {n}: {}", r.text());
        }
    });
    let mut took: Vec<Duration> = futures_util::future::join_all(workers)
        .await
        .into_iter()
        .flatten()
        .collect();
    let elapsed = load.elapsed();
    assert!(
        elapsed < Duration::from_secs(120),
        "the load took {elapsed:?}"
    );
    let after = shop.int(visits).await;
    assert!(
        after < before,
        "the pass deleted rows during the load ({before} -> {after})"
    );

    let recorded = shop
        .int("SELECT count(*) FROM retention_erasure_requests WHERE reference LIKE 'L-%'")
        .await;
    let distinct = shop
        .int("SELECT count(DISTINCT reference) FROM retention_erasure_requests WHERE reference LIKE 'L-%'")
        .await;
    assert_eq!((recorded, distinct), (REQUESTS as i64, REQUESTS as i64));
    let events = shop
        .int("SELECT count(*) FROM retention_events WHERE action = 'erasure_registered' AND detail LIKE '%token `shop-app`%'")
        .await;
    assert_eq!(events, REQUESTS as i64, "one audit event per request");
    let verify = shop.cli(&["audit", "verify"]);
    assert_eq!(verify.status.code(), Some(0));

    took.sort();
    let at = |q: f64| took[((took.len() as f64 * q) as usize).min(took.len() - 1)];
    eprintln!(
        "api load ({backend:?}): {REQUESTS} POST /v1/requests, {AT_ONCE} at a time, during a pass ({} rows deleted meanwhile): {:.0} requests/s, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        before - after,
        REQUESTS as f64 / elapsed.as_secs_f64(),
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        took[took.len() - 1].as_secs_f64() * 1e3,
    );
}
