//! A real Django project in a temporary directory: `startproject`, ManifestStaticFilesStorage,
//! `collectstatic`, and the admin login page rendered through Django's test client (no server,
//! no port). The venv comes from `$INTERLOPER_VENV` (default `/tmp/warmvenv`).
//!
//! Kept local to this crate's tests until the shared test kit offers the same.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct DjangoProject {
    /// Keeps the directory alive for the test's duration.
    _dir: tempfile::TempDir,
    pub static_root: PathBuf,
    pub login_html: Vec<u8>,
}

fn python() -> Option<PathBuf> {
    let venv = std::env::var_os("INTERLOPER_VENV")
        .map_or_else(|| PathBuf::from("/tmp/warmvenv"), PathBuf::from);
    let py = venv.join("bin/python");
    let ok = Command::new(&py)
        .args(["-c", "import django"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(py)
}

fn run(py: &Path, dir: &Path, args: &[&str]) {
    let out = Command::new(py)
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl DjangoProject {
    /// `None` (the test then skips, saying so) when no venv with Django is there, unless
    /// `INTERLOPER_REQUIRE_DJANGO` is set, which makes a missing venv a failure.
    pub fn create() -> Option<DjangoProject> {
        let Some(py) = python() else {
            assert!(
                std::env::var_os("INTERLOPER_REQUIRE_DJANGO").is_none(),
                "no venv with Django"
            );
            eprintln!("SKIP: no Python venv with Django (set INTERLOPER_VENV)");
            return None;
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let admin = py.with_file_name("django-admin");
        let out = Command::new(&admin)
            .args(["startproject", "ilsite"])
            .arg(root)
            .output()
            .expect("django-admin");
        assert!(
            out.status.success(),
            "startproject: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let settings = root.join("ilsite/settings.py");
        let mut s = std::fs::read_to_string(&settings).unwrap();
        s.push_str(
            r#"
STATIC_ROOT = BASE_DIR / "staticroot"
STATICFILES_DIRS = [BASE_DIR / "assets"]
DEBUG = False
ALLOWED_HOSTS = ["*"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
"#,
        );
        std::fs::write(&settings, s).unwrap();
        // The admin has no web fonts since Django 4.2; a small site stylesheet adds fonts,
        // an import and a background so those paths are exercised on a real collectstatic.
        let assets = root.join("assets/site");
        std::fs::create_dir_all(assets.join("fonts")).unwrap();
        std::fs::create_dir_all(assets.join("img")).unwrap();
        std::fs::write(
            assets.join("site.css"),
            "@import url(\"../admin/css/login.css\");\n\
             @font-face {\n  font-family: Il;\n  src: url(\"fonts/il.woff2\") format(\"woff2\"), url(\"fonts/il.woff\") format(\"woff\");\n}\n\
             body { background: url(\"img/bg.png\") no-repeat; }\n",
        )
        .unwrap();
        std::fs::write(
            assets.join("fonts/il.woff2"),
            b"wOF2 not really a font, but bytes to hash",
        )
        .unwrap();
        std::fs::write(
            assets.join("fonts/il.woff"),
            b"wOFF not really a font either",
        )
        .unwrap();
        std::fs::write(assets.join("img/bg.png"), b"\x89PNG\r\n\x1a\n fake").unwrap();
        run(
            &py,
            root,
            &["manage.py", "collectstatic", "--noinput", "-v0"],
        );
        let html_path = root.join("login.html");
        let script = format!(
            "from django.test import Client\nr = Client().get('/admin/login/')\nassert r.status_code == 200, r.status_code\nopen({:?}, 'wb').write(r.content)\n",
            html_path.to_str().unwrap()
        );
        run(&py, root, &["manage.py", "shell", "-v0", "-c", &script]);
        let login_html = std::fs::read(&html_path).unwrap();
        Some(DjangoProject {
            static_root: root.join("staticroot"),
            login_html,
            _dir: dir,
        })
    }
}
