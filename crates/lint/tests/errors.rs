//! Input errors: what `run_lint` cannot read is a typed [`LintError`], and printed as the
//! binary prints it (`{:#}` through anyhow) every part of its message appears exactly once.

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use interloper_lint::{LintError, LintPlan, NginxSource};
use interloper_testkit::root_only_mountinfo as mountinfo;

/// The error as `interloper` prints it.
fn printed(e: LintError) -> String {
    format!("{:#}", anyhow::Error::new(e))
}

/// Asserts that no `: `-separated part of the printed message repeats.
fn once(text: &str) {
    let parts: Vec<&str> = text.split(": ").collect();
    for (i, p) in parts.iter().enumerate() {
        assert!(
            !parts[i + 1..].contains(p),
            "{p:?} is printed twice in {text:?}"
        );
    }
}

fn lint_error(plan: &LintPlan) -> LintError {
    match interloper_lint::run_lint(plan) {
        Ok(_) => panic!("lint read inputs that do not exist"),
        Err(e) => e,
    }
}

#[test]
fn a_missing_configuration_file_is_named_once_with_the_system_reason() {
    let e = lint_error(&LintPlan {
        nginx: Some(NginxSource::File(PathBuf::from("/nonexistent/nginx.conf"))),
        ..LintPlan::default()
    });
    assert!(matches!(e, LintError::Read { .. }), "{e:?}");
    let text = printed(e);
    assert!(
        text.starts_with("/nonexistent/nginx.conf: No such file or directory"),
        "{text}"
    );
    once(&text);
}

#[test]
fn a_named_mount_table_that_cannot_be_read_says_which_flag() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = interloper_testkit::static_tree(dir.path());
    let e = lint_error(&LintPlan {
        static_root: Some(root),
        mountinfo: Some(dir.path().join("no-mountinfo")),
        ..LintPlan::default()
    });
    let text = printed(e);
    assert!(
        text.starts_with(&format!(
            "--mountinfo {}: No such file",
            dir.path().join("no-mountinfo").display()
        )),
        "{text}"
    );
    once(&text);
}

#[test]
fn an_unreadable_manifest_to_compare_is_prefixed_with_its_flag() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = interloper_testkit::static_tree(dir.path());
    std::fs::write(
        root.join("staticfiles.json"),
        "{\"paths\": {}, \"version\": \"1.1\"}",
    )
    .expect("write");
    let other = dir.path().join("other.json");
    std::fs::write(&other, "{\"paths\": 3, \"version\": \"1.1\"}").expect("write");
    let plan = LintPlan {
        static_root: Some(root.clone()),
        mountinfo: Some(mountinfo(dir.path(), "")),
        compare_manifests: vec![other.clone()],
        ..LintPlan::default()
    };
    let e = lint_error(&plan);
    assert!(matches!(e, LintError::Flag { .. }), "{e:?}");
    assert_eq!(
        printed(e),
        format!(
            "--compare-manifest {o}: {o}: manifest has no \"paths\" object of strings",
            o = other.display()
        )
    );
    // Without a manifest of its own there is nothing to compare with: said, with the path.
    std::fs::remove_file(root.join("staticfiles.json")).expect("rm");
    let text = printed(lint_error(&plan));
    assert_eq!(
        text,
        format!(
            "--compare-manifest needs this instance's manifest, and {} has none",
            root.display()
        )
    );
}

#[test]
fn a_user_not_in_passwd_asks_for_one_that_is() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = interloper_testkit::static_tree(dir.path());
    let passwd = dir.path().join("passwd");
    std::fs::write(&passwd, "root:x:0:0:root:/root:/bin/sh\n").expect("write");
    let e = lint_error(&LintPlan {
        static_root: Some(root),
        user: Some("ghost".into()),
        passwd: Some(passwd),
        group: Some(dir.path().join("group")),
        mountinfo: Some(mountinfo(dir.path(), "")),
        ..LintPlan::default()
    });
    assert!(matches!(e, LintError::Unusable(_)), "{e:?}");
    assert_eq!(
        printed(e),
        "user \"ghost\" (--user) is not in /etc/passwd; give --user NAME or a numeric uid"
    );
}

#[test]
fn nginx_t_that_cannot_run_or_fails_is_said_in_one_line() {
    let missing = interloper_lint::nginx_dump(Some(Path::new("/nonexistent/nginx")))
        .expect_err("no such program");
    assert!(matches!(missing, LintError::Run { .. }), "{missing:?}");
    let text = printed(missing);
    assert!(
        text.starts_with("running `/nonexistent/nginx -T`: No such file or directory"),
        "{text}"
    );
    once(&text);

    // nginx's own `[emerg]` line, not the closing "test failed".
    let dir = tempfile::tempdir().expect("tmp");
    let fake = dir.path().join("nginx");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho 'nginx: [emerg] unknown directive \"alais\" in /etc/nginx/nginx.conf:3' >&2\necho 'nginx: configuration file /etc/nginx/nginx.conf test failed' >&2\nexit 1\n",
    )
    .expect("write");
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let text = printed(interloper_lint::nginx_dump(Some(&fake)).expect_err("nginx refuses"));
    assert_eq!(
        text,
        format!(
            "`{} -T` failed: nginx: [emerg] unknown directive \"alais\" in /etc/nginx/nginx.conf:3",
            fake.display()
        )
    );
}

#[test]
fn a_dump_without_file_markers_is_refused() {
    let e = lint_error(&LintPlan {
        nginx: Some(NginxSource::Dump {
            text: "http { server { } }\n".into(),
            label: "nginx -T".into(),
        }),
        ..LintPlan::default()
    });
    assert!(matches!(e, LintError::Nginx(_)), "{e:?}");
    assert_eq!(
        printed(e),
        "the nginx -T output holds no `# configuration file` section"
    );
}

#[test]
fn settings_python_cannot_load_names_the_module_and_pythons_last_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let e = lint_error(&LintPlan {
        django: Some(interloper_lint::DjangoSource::Settings {
            python: PathBuf::from("/nonexistent/python"),
            settings: "site.settings".into(),
            dir: dir.path().to_path_buf(),
        }),
        ..LintPlan::default()
    });
    assert!(matches!(e, LintError::Run { .. }), "{e:?}");
    let text = printed(e);
    assert!(
        text.starts_with(
            "running /nonexistent/python with settings site.settings: No such file or directory"
        ),
        "{text}"
    );
    once(&text);
}
