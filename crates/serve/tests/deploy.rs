//! The fleet pieces under deploy/ checked by the real tools: the example configuration parses,
//! `promtool check config`, `promtool check rules` and `promtool test rules` pass (the rule unit
//! tests prove each alert fires on its series and stays silent on a clean instance).
//! scripts/test installs Debian's `prometheus` package, which provides promtool; without it
//! these tests skip, saying so, except under CI where its absence is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

/// promtool, or None (skip) outside CI when it is not installed.
fn promtool() -> Option<&'static str> {
    let found = Command::new("promtool").arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "promtool is missing: scripts/test installs Debian's prometheus package"
        );
        eprintln!("skipping: promtool is not installed (scripts/test installs it)");
        return None;
    }
    Some("promtool")
}

fn run(args: &[&str]) {
    let Some(promtool) = promtool() else { return };
    let out = Command::new(promtool)
        .args(args)
        .current_dir(deploy().join("prometheus"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_example_configuration_is_valid() {
    let text = std::fs::read_to_string(deploy().join("interloper.toml")).unwrap();
    let cfg = interloper_serve::ServeConfig::from_toml(&text).unwrap();
    assert!(cfg.modules.contains_key("static"));
}

#[test]
fn promtool_accepts_the_scrape_config() {
    run(&["check", "config", "prometheus.yml"]);
}

#[test]
fn promtool_accepts_the_rules() {
    run(&["check", "rules", "rules/interloper.rules.yml"]);
}

#[test]
fn the_alerts_fire_on_their_series_and_stay_silent_on_a_clean_instance() {
    run(&["test", "rules", "tests/interloper.test.yml"]);
}
