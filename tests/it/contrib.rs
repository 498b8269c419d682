//! contrib/: the Prometheus alerting rules pass `promtool check rules` and their
//! unit tests (`promtool test rules`), and every metric the rules and the Grafana
//! dashboard use exists in a scrape of a running daemon.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::daemon::{demo_shop, every_second, free_port, scrape, spawn_daemon, wait_for};
use crate::servers::ensure_installed;
use crate::support::run_cli;

fn contrib(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("contrib")
        .join(path)
}

fn promtool() -> PathBuf {
    let found = || Some(PathBuf::from("/usr/bin/promtool")).filter(|p| p.exists());
    ensure_installed(&found, "prometheus").unwrap_or_else(|e| {
        panic!("promtool is needed ({e}); install it with: apt-get install prometheus")
    })
}

#[test]
fn the_alerting_rules_check_and_pass_their_unit_tests() {
    let promtool = promtool();
    for args in [
        ["check", "rules", "retentiond.rules.yml"],
        ["test", "rules", "retentiond.rules.test.yml"],
    ] {
        let out = Command::new(&promtool)
            .args(args)
            .current_dir(contrib("prometheus"))
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "promtool {args:?}:\n{said}");
        assert!(said.contains("SUCCESS"), "{said}");
    }
}

/// Every `retentiond_...` name in `text`.
fn metric_names(text: &str) -> BTreeSet<String> {
    let re = regex::Regex::new(r"retentiond_[a-z_]+").unwrap();
    re.find_iter(text).map(|m| m.as_str().to_string()).collect()
}

#[tokio::test]
async fn every_metric_the_rules_and_the_dashboard_use_is_scraped() {
    let dir = tempfile::tempdir().unwrap();
    let (config, base) = demo_shop(dir.path());
    // An open request, so that the request gauges carry a kind.
    let registered = run_cli(
        &config,
        dir.path(),
        &["export", "--subject", "7", "--register-only"],
    );
    assert_eq!(registered.status.code(), Some(0));
    let port = free_port();
    // A processor, so that its gauge carries a name (nothing is sent: the demo's
    // pass answers no erasure).
    crate::support::write_key(&dir.path().join("mailer.secret"), b"whsec_0123456789abcdef");
    let metrics = format!(
        "[metrics]\nlisten = \"127.0.0.1:{port}\"\n\n[[processor]]\nname = \"mailer\"\nurl = \"https://mailer.example/hooks\"\nsecret_file = \"mailer.secret\"\nsend = {{ email = \"customers.email\" }}"
    );
    std::fs::write(&config, every_second(&base, &metrics)).unwrap();
    let log = dir.path().join("daemon.log");
    let _guard = spawn_daemon(&config, &log);
    wait_for("a pass", Duration::from_secs(30), || {
        std::fs::read_to_string(&log).is_ok_and(|l| l.contains("\"pass finished\""))
    });
    let scraped = scrape(port);
    let exported = metric_names(&scraped);
    let rules = std::fs::read_to_string(contrib("prometheus/retentiond.rules.yml")).unwrap();
    let dashboard = std::fs::read_to_string(contrib("grafana/retentiond.json")).unwrap();
    let panels: serde_json::Value =
        serde_json::from_str(&dashboard).expect("the dashboard is JSON");
    assert!(panels["panels"].as_array().unwrap().len() >= 4);
    let used: BTreeSet<String> = metric_names(&rules)
        .into_iter()
        .chain(metric_names(&dashboard))
        .collect();
    assert!(used.len() >= 10, "{used:?}");
    for name in &used {
        assert!(
            exported.contains(name),
            "{name} is used by contrib/ but not exported:\n{scraped}"
        );
    }
    assert!(
        scraped.contains("retentiond_requests_open{kind=\"access\"} 1"),
        "{scraped}"
    );
    assert!(
        scraped.contains("retentiond_policy_period_seconds{policy=\"orders\"} 315"),
        "{scraped}"
    );
    assert!(
        scraped.contains("retentiond_schedule_interval_seconds 1"),
        "{scraped}"
    );
}
