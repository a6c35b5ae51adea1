//! interloper-django (python/interloper-django) against real Django, on both lines it supports:
//! 5.x (the suite's venv) and 4.2 LTS (`$INTERLOPER_VENV_DJANGO42`, scripts/test). Its
//! own test suite (the middleware's headers on pages and on WhiteNoise's static files, the
//! inline script and its nonce, the endpoint's bounds: size, rate, fields, no cookies, the
//! client cut to its network), and `manage.py interloper lint` running this binary with the
//! project's real settings.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The package's directory in the repository.
fn package() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../python/interloper-django")
}

/// A Django line the package supports, and the venv scripts/test installs it in.
#[derive(Clone, Copy, Debug)]
enum Django {
    /// 5.x: the suite's venv.
    Current,
    /// 4.2 LTS: the second venv.
    Lts42,
}

impl Django {
    /// The venv's python, after checking it holds this line of Django.
    fn python(self) -> PathBuf {
        let (venv, version) = match self {
            Django::Current => (interloper_testkit::venv(), "5."),
            Django::Lts42 => (interloper_testkit::venv_django42(), "4.2."),
        };
        let python = venv
            .expect("the venv (scripts/test creates it)")
            .join("bin/python");
        let out = Command::new(&python)
            .args(["-c", "import django; print(django.get_version())"])
            .output()
            .expect("run the venv's python");
        let found = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(
            found.starts_with(version),
            "{self:?}: Django {found:?} in {}",
            python.display()
        );
        python
    }
}

/// `python ARGS…` in the package directory with it and its test project importable.
fn run_python(django: Django, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let dir = package().canonicalize().expect("package directory");
    let path = format!("{}:{}", dir.join("src").display(), dir.display());
    Command::new("timeout")
        .arg("120")
        .arg(django.python())
        .args(args)
        .current_dir(&dir)
        .env("PYTHONPATH", path)
        .envs(env.iter().copied())
        .output()
        .expect("run python")
}

#[test]
fn the_package_suite_passes_on_django_5() {
    package_suite_passes(Django::Current);
}

#[test]
fn the_package_suite_passes_on_django_4_2_lts() {
    package_suite_passes(Django::Lts42);
}

#[test]
fn manage_py_interloper_lint_reads_the_projects_settings_on_django_5() {
    lint_reads_the_projects_settings(Django::Current);
}

#[test]
fn manage_py_interloper_lint_reads_the_projects_settings_on_django_4_2_lts() {
    lint_reads_the_projects_settings(Django::Lts42);
}

fn package_suite_passes(django: Django) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("static");
    let log = tmp.path().join("beacons.jsonl");
    let out = run_python(
        django,
        &[
            "-m",
            "django",
            "test",
            "--settings=tests.settings",
            "-v",
            "2",
        ],
        &[
            ("INTERLOPER_TEST_STATIC_ROOT", root.to_str().expect("utf-8")),
            ("INTERLOPER_RUM_LOG", log.to_str().expect("utf-8")),
        ],
    );
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{django:?}: {text}");
    // Every test ran: none skipped for a missing component.
    assert!(
        text.contains("Ran 12 tests") && !text.contains("skipped"),
        "{text}"
    );
}

fn lint_reads_the_projects_settings(django: Django) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("static");
    let root_text = root.to_str().expect("utf-8");
    let env = [
        ("INTERLOPER_TEST_STATIC_ROOT", root_text),
        ("INTERLOPER_BINARY", env!("CARGO_BIN_EXE_interloper")),
    ];
    let collected = run_python(
        django,
        &["tests/manage.py", "collectstatic", "--noinput"],
        &env,
    );
    assert!(collected.status.success(), "{collected:?}");
    let out = run_python(
        django,
        &["tests/manage.py", "interloper", "lint", "--json"],
        &env,
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(v["schema"], "interloper.lint/v1");
    assert_eq!(v["django"]["settings_module"], "tests.settings");
    assert_eq!(v["django"]["static_root"], root_text);
    // The header middleware above WhiteNoise is where docs/rum.md puts it, not IL620.
    assert_eq!(v["verdict"]["status"], "clean", "{:#}", v["findings"]);
    assert_eq!(out.status.code(), Some(0));

    // With the middleware in MIDDLEWARE, nginx's static location must name the instance too
    // (IL622), which the snippet of docs/rum.md does.
    let lint_nginx = |location_extra: &str| -> Vec<String> {
        let conf = tmp.path().join("nginx.conf");
        std::fs::write(
            &conf,
            format!(
                "events {{}}\nhttp {{\n  server {{\n    listen 443 ssl;\n    location /static/ {{\n      \
                 alias {root_text}/;\n      expires max;\n      {location_extra}\n    }}\n    \
                 location / {{ proxy_pass http://127.0.0.1:8000; }}\n  }}\n}}\n"
            ),
        )
        .expect("nginx.conf");
        let env = [
            ("INTERLOPER_TEST_STATIC_ROOT", root_text),
            ("INTERLOPER_BINARY", env!("CARGO_BIN_EXE_interloper")),
        ];
        let conf = conf.to_str().expect("utf-8");
        let out = run_python(
            django,
            &[
                "tests/manage.py",
                "interloper",
                "lint",
                "--nginx-config",
                conf,
                "--json",
            ],
            &env,
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("lint JSON");
        v["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter_map(|f| f["code"].as_str().map(str::to_string))
            .collect()
    };
    let without = lint_nginx("");
    assert!(without.contains(&"IL622".to_string()), "{without:?}");
    let with = lint_nginx("add_header Server-Timing 'inst;desc=\"app1\"' always;");
    assert!(!with.contains(&"IL622".to_string()), "{with:?}");

    // A missing binary is one clear line, not a traceback.
    let env = [
        ("INTERLOPER_TEST_STATIC_ROOT", root_text),
        ("INTERLOPER_BINARY", "/nonexistent/interloper"),
    ];
    let out = run_python(django, &["tests/manage.py", "interloper", "lint"], &env);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("INTERLOPER_BINARY") && !err.contains("Traceback"),
        "{err}"
    );
}
