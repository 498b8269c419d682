//! The HTML report as a data-protection officer prints and signs it: headless
//! Chromium prints the demo's report to PDF, and the PDF's text holds every policy,
//! its period as written and its totals, with nothing beyond the page's right edge.

use std::path::Path;
use std::process::Command;

use regex::Regex;

use crate::support::{run_cli, stderr};

/// Chromium without a sandbox (the tests may run as root) and without the
/// background services that reach for the network.
pub(crate) const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
];

/// The program, installed from Debian's `package` when missing (as the servers
/// are); `None` where that is not possible outside CI. Under CI it must be there.
pub(crate) fn tool(name: &str, package: &str) -> Option<String> {
    let path = format!("/usr/bin/{name}");
    let found = || Path::new(&path).exists().then(|| path.clone().into());
    match crate::servers::ensure_installed(&found, package) {
        Ok(p) => Some(p.display().to_string()),
        Err(e) => {
            assert!(std::env::var_os("CI").is_none(), "{e}: .ci/run installs it");
            eprintln!("SKIPPED: {e}; install Debian's {package} to run this test");
            None
        }
    }
}

fn print_to_pdf(chromium: &str, html: &Path, pdf: &Path, profile: &Path) {
    let out = Command::new("timeout")
        .arg("120")
        .arg(chromium)
        .args(CHROMIUM_FLAGS)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("run chromium");
    assert!(
        pdf.exists(),
        "chromium printed no PDF: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn pdftotext(pdf: &Path, args: &[&str]) -> String {
    let out = Command::new("pdftotext")
        .args(args)
        .arg(pdf)
        .arg("-")
        .output()
        .expect("run pdftotext");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn the_printed_report_holds_every_policy_its_period_and_totals_within_the_page() {
    let (Some(chromium), Some(_)) = (
        tool("chromium", "chromium"),
        tool("pdftotext", "poppler-utils"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("retention.toml");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/retention.toml"),
        &config,
    )
    .unwrap();
    let cli = |args: &[&str]| {
        let out = run_cli(&config, dir.path(), args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        out
    };
    cli(&["demo"]);
    let today = chrono::Utc::now().date_naive().to_string();
    let json: serde_json::Value =
        serde_json::from_slice(&cli(&["report", "--from", &today, "--format", "json"]).stdout)
            .unwrap();
    let html = dir.path().join("report.html");
    cli(&[
        "report",
        "--from",
        &today,
        "--format",
        "html",
        "-o",
        html.to_str().unwrap(),
    ]);
    let pdf = dir.path().join("report.pdf");
    print_to_pdf(&chromium, &html, &pdf, &dir.path().join("chromium"));

    let text = pdftotext(&pdf, &["-layout"]);
    let policies = json["policies"].as_array().unwrap();
    assert_eq!(policies.len(), 6, "{json}");
    for p in policies {
        let name = p["name"].as_str().unwrap();
        let period = p["period"].as_str().unwrap();
        let row = format!(r"(?m)^\s*{name}\s+\S+\s+{}\s", regex::escape(period));
        assert!(
            Regex::new(&row).unwrap().is_match(&text),
            "policy {name} with its period {period:?} as written:\n{text}"
        );
        let totals = format!(
            r"(?m)^\s*{name}\s+{}\s+{}\s+{}\s+{}\s*$",
            p["deleted"], p["anonymized"], p["held"], p["passes"]
        );
        assert!(
            Regex::new(&totals).unwrap().is_match(&text),
            "the totals of {name}:\n{text}"
        );
    }
    for section in [
        "Enforcement check",
        "Audit trail",
        "What a purge does not reach",
    ] {
        assert!(text.contains(section), "{section}:\n{text}");
    }

    // Every word lies within its page: nothing is cut at the right edge.
    let boxes = pdftotext(&pdf, &["-bbox"]);
    let page = Regex::new(r#"<page width="([0-9.]+)""#).unwrap();
    let width: f64 = page.captures(&boxes).unwrap()[1].parse().unwrap();
    let word = Regex::new(r#"<word xMin="[0-9.]+" yMin="[0-9.]+" xMax="([0-9.]+)"[^>]*>([^<]*)<"#)
        .unwrap();
    let mut words = 0;
    for w in word.captures_iter(&boxes) {
        words += 1;
        let x_max: f64 = w[1].parse().unwrap();
        assert!(
            x_max <= width,
            "{:?} ends at {x_max} pt, beyond the page's {width} pt",
            &w[2]
        );
    }
    assert!(words > 200, "{words} words in the PDF");

    // Printed at full size: Chromium shrinks a whole page whose content is wider
    // than the paper, so the widest table fits only if the text keeps its 10 pt
    // (a box of about 11.6 pt for "Database:").
    let label = Regex::new(
        r#"<word xMin="[0-9.]+" yMin="([0-9.]+)" xMax="[0-9.]+" yMax="([0-9.]+)">Database:<"#,
    )
    .unwrap();
    let c = label.captures(&boxes).expect("the report's Database: line");
    let height = c[2].parse::<f64>().unwrap() - c[1].parse::<f64>().unwrap();
    assert!(
        height > 11.0,
        "the page was shrunk to fit something wider than the paper: text {height:.1} pt high"
    );
}
