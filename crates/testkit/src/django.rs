//! A real Django project with hashed static files (ManifestStaticFilesStorage).

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::process::{self, NotReady};

const PORT_ATTEMPTS: usize = 5;

/// Settings appended to the generated `settings.py`.
const SETTINGS: &str = r#"

# --- interloper-testkit ---
DEBUG = False
ALLOWED_HOSTS = ["*"]
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticroot"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
"#;

/// A Django project (`django-admin startproject testsite`) after `collectstatic`.
#[derive(Debug, Clone)]
pub struct DjangoSite {
    /// Project directory (holds `manage.py`).
    pub dir: PathBuf,
    /// `collectstatic` output, including `staticfiles.json`.
    pub static_root: PathBuf,
}

/// `manage.py runserver` on loopback; stopped on drop.
#[derive(Debug)]
pub struct DjangoServer {
    /// Its HTTP port on 127.0.0.1.
    pub port: u16,
    child: Child,
}

impl DjangoSite {
    /// Creates the project in `dir` (created if missing; must not already hold a project),
    /// configures static files with `DEBUG = False`, and runs `collectstatic --noinput`.
    pub fn create(dir: &Path) -> anyhow::Result<DjangoSite> {
        DjangoSite::create_with(dir, "")
    }

    /// [`DjangoSite::create`] with `extra` appended to the settings before `collectstatic`
    /// (another storage, WhiteNoise's middleware, …).
    pub fn create_with(dir: &Path, extra: &str) -> anyhow::Result<DjangoSite> {
        let django_admin = crate::venv_bin("django-admin")?;
        let python = crate::venv_bin("python")?;
        crate::mkdir(dir)?;
        let log = dir.join("testkit-setup.log");
        process::run_bounded(
            Command::new(django_admin)
                .arg("startproject")
                .arg("testsite")
                .arg(dir),
            &log,
            Duration::from_secs(120),
        )?;
        let settings = dir.join("testsite/settings.py");
        let mut text = std::fs::read_to_string(&settings)
            .with_context(|| format!("reading {}", settings.display()))?;
        text.push_str(SETTINGS);
        text.push_str(extra);
        std::fs::write(&settings, text)?;
        process::run_bounded(
            Command::new(&python)
                .arg("manage.py")
                .arg("collectstatic")
                .arg("--noinput")
                .current_dir(dir)
                .env("PYTHONDONTWRITEBYTECODE", "1"),
            &log,
            Duration::from_secs(300),
        )?;
        let static_root = dir.join("staticroot");
        if !static_root.join("staticfiles.json").exists() {
            bail!(
                "collectstatic wrote no staticfiles.json; log:\n{}",
                crate::tail(&log, 30)
            );
        }
        Ok(DjangoSite {
            dir: dir.to_path_buf(),
            static_root,
        })
    }

    /// `manage.py runserver 127.0.0.1:PORT --noreload` on a free port; waits until it accepts.
    pub fn runserver(&self) -> anyhow::Result<DjangoServer> {
        let python = crate::venv_bin("python")?;
        let mut last_err = None;
        for _ in 0..PORT_ATTEMPTS {
            let port = crate::free_port();
            let log = self.dir.join(format!("runserver-{port}.log"));
            let mut child = process::spawn_logged(
                Command::new(&python)
                    .arg("manage.py")
                    .arg("runserver")
                    .arg(format!("127.0.0.1:{port}"))
                    .arg("--noreload")
                    .current_dir(&self.dir)
                    .env("PYTHONDONTWRITEBYTECODE", "1")
                    .env("PYTHONUNBUFFERED", "1"),
                &log,
            )?;
            match process::wait_ready(&mut child, &[port], Duration::from_secs(60), || true)? {
                Ok(()) => return Ok(DjangoServer { port, child }),
                Err(why) => {
                    if let NotReady::Timeout = why {
                        process::stop(&mut child, None, Duration::from_secs(5));
                    }
                    let text = crate::tail(&log, 30);
                    let in_use = text.contains("already in use");
                    last_err = Some(anyhow::anyhow!(
                        "runserver on port {port} did not start; log:\n{text}"
                    ));
                    if !in_use {
                        break;
                    }
                }
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow::anyhow!("runserver did not start")))
    }
}

impl DjangoServer {
    /// `http://127.0.0.1:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        let sep = if path.starts_with('/') { "" } else { "/" };
        format!("http://127.0.0.1:{}{sep}{path}", self.port)
    }
}

impl Drop for DjangoServer {
    fn drop(&mut self) {
        let pid = self.child.id();
        process::stop(&mut self.child, Some(pid), Duration::from_secs(5));
    }
}
