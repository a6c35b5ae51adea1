//! The static site every origin serves, in Django's layout: hashed names (first 12 hex of the
//! content's md5) under `/static/`, and `staticfiles.json` with the manifest's own hash.

use std::collections::BTreeMap;

use bytes::Bytes;
use interloper_assets::django::{Manifest, content_hash};

use crate::OriginConfig;

/// One file the origin serves.
#[derive(Debug, Clone)]
pub struct File {
    /// Content-Type.
    pub content_type: &'static str,
    /// Cache-Control.
    pub cache_control: &'static str,
    /// The bytes.
    pub body: Bytes,
}

/// The site: request path → file.
#[derive(Debug, Clone)]
pub struct Site {
    /// Path (e.g. `/static/app.0123456789ab.js`) → file.
    pub files: BTreeMap<String, File>,
    /// Logical static name (as in `staticfiles.json`, e.g. `app.js`) → request path.
    pub static_paths: BTreeMap<String, String>,
}

/// A hostile answer an origin gives for one path instead of the file.
#[derive(Debug, Clone)]
pub enum Hostile {
    /// The file, then bytes forever.
    Endless,
    /// This gzip body, announced as `Content-Encoding: gzip`.
    GzipBomb(Bytes),
    /// `302` to this location.
    Redirect(String),
}

/// The site with an origin's faults applied.
#[derive(Debug, Clone)]
pub struct Faulty {
    /// The files.
    pub site: Site,
    /// Paths answered with an error status instead.
    pub statuses: BTreeMap<String, u16>,
    /// Paths answered with a hostile answer instead.
    pub hostile: BTreeMap<String, Hostile>,
}

/// Zeros that expand far past any sane decoding limit (80 MB from about 80 kB).
fn gzip_bomb() -> anyhow::Result<Vec<u8>> {
    use std::io::Write as _;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..80 {
        e.write_all(&zeros)?;
    }
    Ok(e.finish()?)
}

/// Content types the origin answers with for a file told to serve the wrong one.
const WRONG_TYPE: &str = "text/plain; charset=utf-8";
/// Cache-Control of hashed files when the origin is told to cache them briefly.
const SHORT_CACHE: &str = "max-age=60";

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

fn hashed(name: &str, content: &[u8]) -> String {
    let h = content_hash(content);
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{h}.{ext}"),
        None => format!("{name}.{h}"),
    }
}

impl Site {
    /// The demo site: a page, a stylesheet that references an image, a script (about 96 KB, so
    /// it counts as a large response), and the manifest.
    pub fn demo() -> anyhow::Result<Site> {
        Site::build(0)
    }

    /// The demo site as built by deploy `version`: version 0 is [`Site::demo`]; any other
    /// changes the stylesheet (so its hashed name and the manifest change), as a deploy that
    /// reached only some instances would.
    pub fn build(version: u32) -> anyhow::Result<Site> {
        let logo = Bytes::from_static(
            b"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"64\" height=\"64\">\
<circle cx=\"32\" cy=\"32\" r=\"28\" fill=\"#2a6\"/></svg>\n",
        );
        let logo_name = hashed("img/logo.svg", &logo);
        let build = if version == 0 {
            String::new()
        } else {
            format!("/* build {version} */\n")
        };
        let css = Bytes::from(format!(
            "{build}body {{ font: 16px/1.4 sans-serif; margin: 2rem; }}\n\
             header {{ background: url(\"{logo_name}\") no-repeat; padding-left: 72px; min-height: 64px; }}\n"
        ));
        let css_name = hashed("site.css", &css);
        let mut js = String::from("// interloper lab: the application script\n");
        let mut i = 0u32;
        while js.len() < 96 * 1024 {
            js.push_str(&format!(
                "function step{i}(x) {{ return (x * {i} + 7) % 1009; }}\n"
            ));
            i += 1;
        }
        js.push_str("document.addEventListener('DOMContentLoaded', () => console.log('ready'));\n");
        let js = Bytes::from(js);
        let js_name = hashed("app.js", &js);

        let mut paths = BTreeMap::new();
        paths.insert("img/logo.svg".to_string(), logo_name.clone());
        paths.insert("site.css".to_string(), css_name.clone());
        paths.insert("app.js".to_string(), js_name.clone());
        let unhashed = serde_json::json!({ "paths": paths, "version": "1.1" });
        let hash = Manifest::parse(unhashed.to_string().as_bytes())?.computed_hash();
        let manifest = serde_json::json!({ "paths": paths, "version": "1.1", "hash": hash });
        let manifest = Bytes::from(serde_json::to_vec(&manifest)?);

        let page = Bytes::from(format!(
            "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <title>interloper lab</title>\n\
             <link rel=\"stylesheet\" href=\"/static/{css_name}\">\n\
             <script src=\"/static/{js_name}\" defer></script>\n</head>\n\
             <body><header><h1>interloper lab</h1></header>\n\
             <p>A small static site in Django's layout.</p>\n</body>\n</html>\n"
        ));

        let mut files = BTreeMap::new();
        files.insert(
            "/".to_string(),
            File {
                content_type: "text/html; charset=utf-8",
                cache_control: "no-cache",
                body: page,
            },
        );
        files.insert(
            format!("/static/{css_name}"),
            File {
                content_type: "text/css; charset=utf-8",
                cache_control: IMMUTABLE,
                body: css,
            },
        );
        files.insert(
            format!("/static/{js_name}"),
            File {
                content_type: "text/javascript; charset=utf-8",
                cache_control: IMMUTABLE,
                body: js,
            },
        );
        files.insert(
            format!("/static/{logo_name}"),
            File {
                content_type: "image/svg+xml",
                cache_control: IMMUTABLE,
                body: logo,
            },
        );
        files.insert(
            "/static/staticfiles.json".to_string(),
            File {
                content_type: "application/json",
                cache_control: "no-cache",
                body: manifest,
            },
        );
        let static_paths = paths
            .iter()
            .map(|(name, hashed)| (name.clone(), format!("/static/{hashed}")))
            .collect();
        Ok(Site {
            files,
            static_paths,
        })
    }

    /// The site as served by an origin with `cfg`'s faults: statuses per request path, wrong
    /// types, short caching, and the hostile answers. Names not in the site are an error that
    /// lists the valid ones.
    pub fn with_faults(mut self, cfg: &OriginConfig) -> anyhow::Result<Faulty> {
        let mut hostile = BTreeMap::new();
        for name in &cfg.endless {
            hostile.insert(self.path_of(name)?, Hostile::Endless);
        }
        if !cfg.bomb.is_empty() {
            let bomb = Bytes::from(gzip_bomb()?);
            for name in &cfg.bomb {
                hostile.insert(self.path_of(name)?, Hostile::GzipBomb(bomb.clone()));
            }
        }
        for name in &cfg.redirect_loop {
            let path = self.path_of(name)?;
            hostile.insert(path.clone(), Hostile::Redirect(path));
        }
        for name in &cfg.redirect_away {
            hostile.insert(
                self.path_of(name)?,
                Hostile::Redirect(format!("ftp://files.invalid/{name}")),
            );
        }
        let mut statuses = BTreeMap::new();
        for (list, status) in [
            (&cfg.missing, 404u16),
            (&cfg.forbidden, 403),
            (&cfg.server_error, 500),
        ] {
            for name in list {
                statuses.insert(self.path_of(name)?, status);
            }
        }
        for name in &cfg.wrong_type {
            let path = self.path_of(name)?;
            if let Some(f) = self.files.get_mut(&path) {
                f.content_type = WRONG_TYPE;
            }
        }
        if cfg.short_cache {
            for path in self.static_paths.values() {
                if let Some(f) = self.files.get_mut(path) {
                    f.cache_control = SHORT_CACHE;
                }
            }
        }
        Ok(Faulty {
            site: self,
            statuses,
            hostile,
        })
    }

    fn path_of(&self, name: &str) -> anyhow::Result<String> {
        self.static_paths.get(name).cloned().ok_or_else(|| {
            let known: Vec<&str> = self.static_paths.keys().map(String::as_str).collect();
            anyhow::anyhow!(
                "lab: origin: no static file named {name:?} (the site has {})",
                known.join(", ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use interloper_assets::django::{HashedName, Manifest};

    use super::Site;

    #[test]
    fn names_and_manifest_hash_are_right() {
        let site = Site::demo().unwrap();
        let m = Manifest::parse(&site.files["/static/staticfiles.json"].body).unwrap();
        assert_eq!(m.hash.as_deref(), Some(m.computed_hash().as_str()));
        for (path, file) in &site.files {
            if let Some(name) = HashedName::parse(path) {
                use md5::Digest as _;
                assert!(name.matches(&md5::Md5::digest(&file.body)), "{path}");
            }
        }
        assert_eq!(m.paths.len(), 3);
    }

    #[test]
    fn another_build_changes_the_stylesheet_and_the_manifest_only() {
        let v0 = Site::demo().unwrap();
        let v1 = Site::build(1).unwrap();
        assert_eq!(v0.static_paths["app.js"], v1.static_paths["app.js"]);
        assert_ne!(v0.static_paths["site.css"], v1.static_paths["site.css"]);
        let m1 = Manifest::parse(&v1.files["/static/staticfiles.json"].body).unwrap();
        assert_eq!(m1.hash.as_deref(), Some(m1.computed_hash().as_str()));
        assert_ne!(
            v0.files["/static/staticfiles.json"].body,
            v1.files["/static/staticfiles.json"].body
        );
    }

    #[test]
    fn faults_map_logical_names_and_refuse_unknown_ones() {
        let cfg = crate::OriginConfig {
            missing: vec!["img/logo.svg".into()],
            forbidden: vec!["app.js".into()],
            wrong_type: vec!["site.css".into()],
            short_cache: true,
            ..crate::OriginConfig::default()
        };
        let faulty = Site::demo().unwrap().with_faults(&cfg).unwrap();
        let (site, statuses) = (faulty.site, faulty.statuses);
        assert_eq!(statuses[&site.static_paths["img/logo.svg"]], 404);
        assert_eq!(statuses[&site.static_paths["app.js"]], 403);
        let css = &site.files[&site.static_paths["site.css"]];
        assert!(css.content_type.starts_with("text/plain"));
        assert_eq!(css.cache_control, "max-age=60");
        let bad = crate::OriginConfig {
            missing: vec!["nope.css".into()],
            ..crate::OriginConfig::default()
        };
        let e = Site::demo()
            .unwrap()
            .with_faults(&bad)
            .unwrap_err()
            .to_string();
        assert!(e.contains("nope.css") && e.contains("app.js"), "{e}");
    }
}
