//! The systemd unit: hardened to an exposure of at most 2.0, and clean under
//! `systemd-analyze verify`. Fails if a change raises the score.

use std::process::Command;

/// The exposure `systemd-analyze security` gives the unit today; the test fails
/// above the bar of 2.0.
const MAX_EXPOSURE: f64 = 2.0;

fn analyze(args: &[&str]) -> std::process::Output {
    Command::new("systemd-analyze")
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("systemd-analyze is needed ({e}); install it with: apt-get install systemd")
        })
}

/// The unit as installed, with ExecStart pointing at the binary under test.
fn installed_unit(dir: &std::path::Path) -> std::path::PathBuf {
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/systemd/retentiond.service"
    ))
    .unwrap();
    let path = dir.join("retentiond.service");
    std::fs::write(
        &path,
        unit.replace("/usr/bin/retentiond", env!("CARGO_BIN_EXE_retentiond")),
    )
    .unwrap();
    path
}

#[test]
fn the_unit_is_hardened_and_verifies_clean() {
    let dir = tempfile::tempdir().unwrap();
    let unit = installed_unit(dir.path());
    let unit = unit.to_str().unwrap();

    let verify = analyze(&["verify", unit]);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(
        verify.status.success() && said.trim().is_empty(),
        "systemd-analyze verify: {said}"
    );

    let security = analyze(&["security", "--offline=true", unit]);
    let text = String::from_utf8_lossy(&security.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or_else(|| panic!("{text}"));
    let score: f64 = line
        .split(": ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no score in {line:?}"));
    assert!(
        score <= MAX_EXPOSURE,
        "exposure {score} > {MAX_EXPOSURE}: {line}"
    );
    eprintln!("systemd-analyze security: {score}");
}

#[test]
fn the_unit_is_type_notify_with_watchdog_reload_and_credentials() {
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/systemd/retentiond.service"
    ))
    .unwrap();
    for line in [
        "Type=notify",
        "WatchdogSec=",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "Restart=on-failure",
        "LoadCredential=database-url:",
        "StateDirectory=retentiond",
        "DynamicUser=yes",
    ] {
        assert!(
            unit.lines().any(|l| l.starts_with(line)),
            "{line} in the unit"
        );
    }
}
