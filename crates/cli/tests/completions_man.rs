//! Completions and manual pages as a user gets them: run the binary, then hand the output to
//! the shell and to man.

use std::path::Path;
use std::process::{Command as Process, Output, Stdio};

use assert_cmd::Command;

/// Every subcommand a user can type (`help` aside).
const SUBCOMMANDS: [&str; 16] = [
    "check",
    "probe",
    "tls",
    "pin",
    "demo",
    "lab",
    "echo",
    "serve",
    "logs",
    "visits",
    "har",
    "rum",
    "lint",
    "pcap",
    "completions",
    "man",
];

fn interloper(args: &[&str]) -> Output {
    Command::cargo_bin("interloper")
        .expect("binary")
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run interloper")
}

fn stdout_of(args: &[&str]) -> String {
    let out = interloper(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// Whether `program` runs here; the parts of a test that need it are skipped, saying so.
fn have(program: &str) -> bool {
    let found = Process::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        interloper_testkit::skipped(
            program,
            "not installed, so its part of this test did not run",
        );
    }
    found
}

#[test]
fn the_subcommand_list_here_is_the_binarys() {
    let help = stdout_of(&["--help"]);
    for sub in SUBCOMMANDS {
        assert!(
            help.lines()
                .any(|l| l.trim_start().starts_with(&format!("{sub} "))),
            "{sub} missing from --help:\n{help}"
        );
    }
}

#[test]
fn bash_completion_is_valid_bash_and_names_every_subcommand() {
    let script = stdout_of(&["completions", "bash"]);
    for sub in SUBCOMMANDS {
        assert!(script.contains(sub), "bash completion lacks {sub}");
    }
    // Flags from the shared groups are completed for the commands that take them.
    assert!(script.contains("--expect-pin") && script.contains("--connect-timeout"));
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("interloper.bash");
    std::fs::write(&path, &script).expect("write script");
    let check = Process::new("bash")
        .arg("-n")
        .arg(&path)
        .output()
        .expect("bash");
    assert!(
        check.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    // Sourced, it registers a completion for `interloper`.
    let registered = Process::new("bash")
        .args([
            "-c",
            &format!("source {} && complete -p interloper", path.display()),
        ])
        .output()
        .expect("bash");
    assert!(
        String::from_utf8_lossy(&registered.stdout).contains("interloper"),
        "{}",
        String::from_utf8_lossy(&registered.stderr)
    );
}

#[test]
fn every_shell_gets_a_script_and_an_unknown_one_is_a_usage_error() {
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let script = stdout_of(&["completions", shell]);
        assert!(
            script.contains("interloper") && script.contains("check"),
            "{shell}"
        );
    }
    if have("zsh") {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("_interloper");
        std::fs::write(&path, stdout_of(&["completions", "zsh"])).expect("write");
        let check = Process::new("zsh")
            .arg("-n")
            .arg(&path)
            .status()
            .expect("zsh");
        assert!(check.success(), "zsh -n failed");
    }
    let out = interloper(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bash"));
}

fn assert_page(roff: &str, name: &str) {
    assert!(
        roff.starts_with(".TH "),
        "{name}: {}",
        &roff[..roff.len().min(80)]
    );
    assert!(roff.contains(".SH NAME"), "{name}");
}

/// `man -l FILE` renders the page; its text, or `None` when man is not installed.
fn render(page: &Path) -> Option<String> {
    // A real man-db (some minimal images ship a stub that only says it is missing) with
    // groff to typeset.
    let real_man = Process::new("man")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success() && o.stdout.starts_with(b"man "));
    if !real_man || !have("groff") {
        interloper_testkit::skipped("man -l", "man-db and groff are not both installed");
        return None;
    }
    let out = Process::new("man")
        .arg("-l")
        .arg(page)
        .env("MANWIDTH", "100")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .output()
        .expect("man");
    assert!(
        out.status.success(),
        "man -l {}: {}",
        page.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let warnings = String::from_utf8_lossy(&out.stderr);
    assert!(warnings.trim().is_empty(), "{}: {warnings}", page.display());
    Some(text)
}

#[test]
fn the_man_page_is_roff_naming_every_subcommand() {
    let roff = stdout_of(&["man"]);
    assert_page(&roff, "interloper");
    for sub in SUBCOMMANDS {
        assert!(
            roff.contains(&format!("interloper\\-{sub}(1)")),
            "{sub} missing from interloper(1)"
        );
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("interloper.1");
    std::fs::write(&page, &roff).expect("write");
    if let Some(text) = render(&page) {
        assert!(text.contains("SUBCOMMANDS"), "{text}");
        for sub in SUBCOMMANDS {
            assert!(
                text.contains(&format!("interloper-{sub}(1)")),
                "{sub}: {text}"
            );
        }
    }
}

#[test]
fn man_out_writes_one_page_per_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().join("man1");
    let listed = stdout_of(&["man", "--out", out_dir.to_str().expect("UTF-8 path")]);
    assert_eq!(listed.lines().count(), SUBCOMMANDS.len() + 1, "{listed}");
    for name in std::iter::once("interloper".to_string())
        .chain(SUBCOMMANDS.iter().map(|s| format!("interloper-{s}")))
    {
        let page = out_dir.join(format!("{name}.1"));
        assert!(listed.contains(&page.display().to_string()), "{listed}");
        let roff = std::fs::read_to_string(&page).expect("page written");
        assert_page(&roff, &name);
        if let Some(text) = render(&page) {
            assert!(text.contains(&name), "{name}: {text}");
        }
    }
    // The check page documents the shared flags with their one default.
    let check = std::fs::read_to_string(out_dir.join("interloper-check.1")).expect("page");
    assert!(check.contains("\\-\\-timeout") && check.contains("30s"));
    assert!(
        check.contains("\\-\\-dns\\-server"),
        "--dns-server on the check page"
    );
    // Both servers' pages document the logging flags, with the default format.
    for server in ["serve", "echo"] {
        let page =
            std::fs::read_to_string(out_dir.join(format!("interloper-{server}.1"))).expect("page");
        for flag in [
            "\\-\\-quiet",
            "\\-\\-verbose",
            "\\-\\-log.format",
            "logfmt",
            "json",
        ] {
            assert!(page.contains(flag), "{server}: {flag}");
        }
    }
}

#[test]
fn help_and_version_exit_0_and_a_bad_flag_exits_2() {
    for args in [
        &["--help"][..],
        &["--version"],
        &["check", "--help"],
        &["help", "tls"],
    ] {
        assert_eq!(interloper(args).status.code(), Some(0), "{args:?}");
    }
    for args in [
        &["--no-such-flag"][..],
        &[],
        &["check"],
        &["probe", "--max-body", "10T", "http://127.0.0.1:1/"],
        &["echo", "--idle-timeout", "0"],
        &["logs", "--format", "syslog", "-"],
        &["har"],
    ] {
        let out = interloper(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
}
