//! A Django origin as sites deploy it: the admin's static set collected with
//! ManifestStaticFilesStorage and served by nginx (TLS, HTTP/2) from `STATIC_ROOT`, every other
//! path proxied to `manage.py runserver`.

use std::path::Path;

use tempfile::TempDir;

use crate::{DjangoServer, DjangoSite, Nginx, NginxOptions};

/// Django behind nginx on loopback; everything stops, and its files go, on drop.
#[derive(Debug)]
pub struct DjangoOrigin {
    /// The front: `/static/` from the site's `STATIC_ROOT`, the rest proxied to Django.
    pub nginx: Nginx,
    /// `runserver` behind nginx.
    pub django: DjangoServer,
    /// The project and its collected static files.
    pub site: DjangoSite,
    // Declared last: dropped after the processes that use it have stopped.
    _dir: TempDir,
}

impl DjangoOrigin {
    /// Creates a fresh project in a temporary directory, collects its static files, starts
    /// runserver and nginx in front of it.
    pub fn start() -> anyhow::Result<DjangoOrigin> {
        DjangoOrigin::start_with(|_| String::new())
    }

    /// [`DjangoOrigin::start`] with more configuration inside nginx's `server` blocks, written
    /// by `extra_server_conf` from the site's `STATIC_ROOT` (a `location` of its own, headers).
    pub fn start_with(
        extra_server_conf: impl FnOnce(&Path) -> String,
    ) -> anyhow::Result<DjangoOrigin> {
        let dir = tempfile::Builder::new()
            .prefix("interloper-django-origin-")
            .tempdir()?;
        let site = DjangoSite::create(&dir.path().join("site"))?;
        let django = site.runserver()?;
        let nginx = Nginx::start(NginxOptions {
            static_root: Some(site.static_root.clone()),
            proxy_to: Some(django.port),
            extra_server_conf: extra_server_conf(&site.static_root),
            ..Default::default()
        })?;
        Ok(DjangoOrigin {
            nginx,
            django,
            site,
            _dir: dir,
        })
    }
}
