//! `interloper --version` says what the user ran: version, git revision, build date, target,
//! and the size and date of the embedded data, each checked against its source.

use std::path::Path;
use std::process::Command as Process;

use assert_cmd::Command;

fn stdout_of(args: &[&str]) -> String {
    let out = Command::cargo_bin("interloper")
        .expect("binary")
        .args(args)
        .output()
        .expect("run interloper");
    assert_eq!(out.status.code(), Some(0), "{args:?}");
    String::from_utf8(out.stdout).expect("utf-8")
}

/// `git ARGS` in the repository, or `None` where git or the repository is missing (then the
/// binary must say "unknown").
fn git(args: &[&str]) -> Option<String> {
    let out = Process::new("git")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// The value after `label: ` on the line that starts with it.
fn field<'a>(text: &'a str, label: &str) -> &'a str {
    text.lines()
        .find_map(|line| line.strip_prefix(label)?.strip_prefix(": "))
        .unwrap_or_else(|| panic!("no `{label}:` line in\n{text}"))
}

fn is_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// "N, updated DATE" of a data file: N its entries, DATE its last commit's (or later, when
/// the file is modified in this tree).
fn check_data_line(text: &str, label: &str, entries: usize, file: &str) {
    let value = field(text, label);
    let (count, date) = value
        .split_once(", updated ")
        .unwrap_or_else(|| panic!("{label}: {value}"));
    assert_eq!(count, entries.to_string(), "{label}");
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data")
        .join(file);
    match git(&["log", "-1", "--format=%cs", "--", &path.to_string_lossy()]) {
        Some(committed) => assert!(
            date == committed || date == format!("{committed}+modified"),
            "{label}: {date}, last commit {committed}"
        ),
        None => assert_eq!(date, "unknown", "{label}"),
    }
}

#[test]
fn long_version_names_revision_build_target_and_data() {
    let text = stdout_of(&["--version"]);
    assert_eq!(
        text.lines().next(),
        Some(concat!("interloper ", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    let revision = field(&text, "revision");
    match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(head) => assert!(revision.starts_with(&format!("{head} (")), "{text}"),
        None => assert!(revision.starts_with("unknown"), "{text}"),
    }
    let (date, profile) = field(&text, "built")
        .split_once(", profile ")
        .expect("built: DATE, profile NAME");
    assert!(is_date(date), "{text}");
    assert!(!profile.is_empty() && profile != "unknown", "{text}");
    // A target triple: arch-vendor-os[-env].
    assert!(field(&text, "target").split('-').count() >= 3, "{text}");
    let products = interloper_chain::ProductDb::builtin().products().len();
    check_data_line(
        &text,
        "interception products",
        products,
        "interception-products.toml",
    );
    let stacks = interloper_wire::stacks::HelloStacks::builtin()
        .stacks()
        .len();
    check_data_line(&text, "hello stacks", stacks, "hello-stacks.toml");
}

#[test]
fn short_version_is_one_line_and_subcommands_share_the_long_one() {
    assert_eq!(
        stdout_of(&["-V"]),
        concat!("interloper ", env!("CARGO_PKG_VERSION"), "\n")
    );
    let check = stdout_of(&["check", "--version"]);
    assert!(check.contains("\nrevision: "), "{check}");
}
