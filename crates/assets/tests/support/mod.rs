//! The shared test kit's real Django project (`interloper_testkit::DjangoSite`: startproject,
//! ManifestStaticFilesStorage, collectstatic), plus what these tests need on top: a small site
//! stylesheet with web fonts (the admin has none since Django 4.2) and the admin login page
//! rendered through Django's test client (no server, no port: serving is the `check`
//! command's business). The venv is `$INTERLOPER_VENV`, as `scripts/test` sets it.

use std::path::{Path, PathBuf};
use std::process::Command;

use interloper_testkit::DjangoSite;

pub struct DjangoProject {
    /// Keeps the directory alive for the test's duration.
    _dir: tempfile::TempDir,
    pub static_root: PathBuf,
    pub login_html: Vec<u8>,
}

fn run(py: &Path, dir: &Path, args: &[&str]) {
    let out = Command::new(py)
        .current_dir(dir)
        .args(args)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl DjangoProject {
    pub fn create() -> DjangoProject {
        let dir = tempfile::tempdir().expect("tempdir");
        let site = DjangoSite::create(&dir.path().join("site"))
            .expect("Django site (run the suite through scripts/test)");
        let py = interloper_testkit::venv().expect("venv").join("bin/python");
        let settings = site.dir.join("testsite/settings.py");
        let mut s = std::fs::read_to_string(&settings).unwrap();
        s.push_str("\nSTATICFILES_DIRS = [BASE_DIR / \"assets\"]\n");
        std::fs::write(&settings, s).unwrap();
        let assets = site.dir.join("assets/site");
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
            &site.dir,
            &["manage.py", "collectstatic", "--noinput", "-v0"],
        );
        let html_path = site.dir.join("login.html");
        let script = format!(
            "from django.test import Client\nr = Client().get('/admin/login/')\nassert r.status_code == 200, r.status_code\nopen({:?}, 'wb').write(r.content)\n",
            html_path.to_str().unwrap()
        );
        run(
            &py,
            &site.dir,
            &["manage.py", "shell", "-v0", "-c", &script],
        );
        let login_html = std::fs::read(&html_path).unwrap();
        DjangoProject {
            static_root: site.static_root,
            login_html,
            _dir: dir,
        }
    }
}
