//! Django's `ManifestStaticFilesStorage`: hashed names, `staticfiles.json`, and where
//! `STATIC_URL` is.
//!
//! `collectstatic` saves each file a second time as `name.<md5(content)[:12]>.ext` and writes
//! `STATIC_ROOT/staticfiles.json`: `{"paths": {"admin/css/base.css":
//! "admin/css/base.6b517d0d5813.css", …}, "version": "1.1", "hash": "…"}`. Version 1.1's
//! `hash` is the first 12 hex digits of the MD5 of Python's `json.dumps()` of the sorted
//! `(name, hashed_name)` pairs (Django's `ManifestFilesMixin.save_manifest`); version 1.0 has no
//! hash. Both are accepted, as Django's `load_manifest` does.

use std::collections::{BTreeMap, HashSet};

use md5::{Digest, Md5};
use url::Url;

use crate::check::{Check, CheckKind, Outcome};
use crate::reference::{Asset, AssetKind, Context, Provenance, SourceKind};

/// A file name carrying Django's content hash: `base.6b517d0d5813.css`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashedName {
    /// The name without the hash (`…/base.css`), in the same directory.
    pub original: String,
    /// The 12 lower-case hex digits.
    pub hash: String,
}

impl HashedName {
    /// Recognises `root.<12 hex>.ext` or `root.<12 hex>` in the last segment of a path (a URL
    /// path or a manifest value). Query and fragment must already be removed.
    ///
    /// Other tools (webpack, Rails) use similar names with other hashes, so only verify a
    /// name against md5 when the manifest (or the user) says the file is Django's.
    pub fn parse(path: &str) -> Option<HashedName> {
        let (dir, file) = match path.rfind('/') {
            Some(i) => (&path[..=i], &path[i + 1..]),
            None => ("", path),
        };
        let is_hash =
            |s: &str| s.len() == 12 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        // os.path.splitext: the extension is the last dot-part unless the name starts with it.
        let (stem, ext) = match file.rfind('.') {
            Some(i) if i > 0 => (&file[..i], &file[i..]),
            _ => (file, ""),
        };
        if let Some(i) = stem.rfind('.') {
            let (root, hash) = (&stem[..i], &stem[i + 1..]);
            if is_hash(hash) && !root.is_empty() {
                return Some(HashedName {
                    original: format!("{dir}{root}{ext}"),
                    hash: hash.to_owned(),
                });
            }
        }
        // `LICENSE.<hash>`: no extension, the hash is what splitext took for one.
        if let Some(hash) = ext.strip_prefix('.') {
            if is_hash(hash) && !stem.is_empty() && !stem.contains('.') {
                return Some(HashedName {
                    original: format!("{dir}{stem}"),
                    hash: hash.to_owned(),
                });
            }
        }
        None
    }

    /// Whether `md5_digest` (of the decoded content) matches the name.
    pub fn matches(&self, md5_digest: &[u8]) -> bool {
        hex::encode(md5_digest).get(..12) == Some(self.hash.as_str())
    }
}

/// Django's own name hash of some content: md5, first 12 hex digits.
pub fn content_hash(content: &[u8]) -> String {
    let mut h = hex::encode(Md5::digest(content));
    h.truncate(12);
    h
}

/// Why `staticfiles.json` could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Not JSON.
    #[error("manifest is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// JSON, but not a manifest object.
    #[error("manifest has no \"paths\" object of strings")]
    Shape,
    /// A version Django itself would refuse.
    #[error("unsupported manifest version {0:?} (Django reads 1.0 and 1.1)")]
    Version(String),
}

/// A parsed `staticfiles.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// `"1.0"` or `"1.1"`.
    pub version: String,
    /// Unhashed name → hashed name, relative to `STATIC_URL`.
    pub paths: BTreeMap<String, String>,
    /// The manifest's own hash (1.1), as written.
    pub hash: Option<String>,
    hashed: HashSet<String>,
}

impl Manifest {
    /// Parses a manifest. Bounded by the input: serde_json limits nesting itself.
    pub fn parse(bytes: &[u8]) -> Result<Manifest, ManifestError> {
        let v: serde_json::Value = serde_json::from_slice(bytes)?;
        let obj = v.as_object().ok_or(ManifestError::Shape)?;
        let version = match obj.get("version") {
            Some(serde_json::Value::String(s)) => s.clone(),
            other => {
                return Err(ManifestError::Version(
                    other.map(ToString::to_string).unwrap_or_default(),
                ));
            }
        };
        if version != "1.0" && version != "1.1" {
            return Err(ManifestError::Version(version));
        }
        let mut paths = BTreeMap::new();
        match obj.get("paths") {
            Some(serde_json::Value::Object(m)) => {
                for (k, v) in m {
                    paths.insert(
                        k.clone(),
                        v.as_str().ok_or(ManifestError::Shape)?.to_owned(),
                    );
                }
            }
            // Django defaults a missing "paths" to {}.
            None => {}
            Some(_) => return Err(ManifestError::Shape),
        }
        let hash = obj.get("hash").and_then(|h| h.as_str()).map(str::to_owned);
        let hashed = paths.values().cloned().collect();
        Ok(Manifest {
            version,
            paths,
            hash,
            hashed,
        })
    }

    /// The hash Django would write for these paths (see the module docs).
    pub fn computed_hash(&self) -> String {
        content_hash(python_json_pairs(&self.paths).as_bytes())
    }

    /// Checks the manifest's own `hash` against its paths ([`CheckKind::ManifestHash`]).
    /// Version 1.0 has no hash and is skipped.
    pub fn check_hash(&self) -> Check {
        let computed = self.computed_hash();
        match (&self.hash, self.version.as_str()) {
            (None, _) | (_, "1.0") => Check::new(
                CheckKind::ManifestHash,
                Outcome::Skip,
                None,
                None,
                format!("manifest version {} carries no hash", self.version),
            ),
            (Some(h), _) if *h == computed => Check::new(
                CheckKind::ManifestHash,
                Outcome::Pass,
                Some(computed),
                Some(h.clone()),
                "manifest hash matches its paths",
            ),
            (Some(h), _) => Check::new(
                CheckKind::ManifestHash,
                Outcome::Fail,
                Some(computed),
                Some(h.clone()),
                "manifest hash does not match its paths: edited by hand, or not the file collectstatic wrote",
            ),
        }
    }

    /// Whether `relative` (a path under `STATIC_URL`, percent-decoded) is a hashed name this
    /// manifest lists.
    pub fn lists_hashed(&self, relative: &str) -> bool {
        self.hashed.contains(relative)
    }

    /// The hashed name to verify for an asset URL under `static_url`, when the manifest lists it.
    pub fn hashed_name_for(&self, static_url: &Url, asset: &Url) -> Option<HashedName> {
        let rel = relative_to(static_url, asset)?;
        if self.lists_hashed(&rel) {
            HashedName::parse(&rel)
        } else {
            None
        }
    }

    /// Every manifest entry as an asset (`--all-static`), resolved against `static_url`, with
    /// the manifest as provenance.
    pub fn all_static(
        &self,
        static_url: &Url,
        manifest_url: &Url,
        page: Option<&Url>,
    ) -> Vec<Asset> {
        let page_origin = page.map(Url::origin);
        self.paths
            .iter()
            .filter_map(|(name, hashed)| {
                // Names are file paths; escape what a URL path cannot hold as is.
                let url = static_url.join(&escape_path(hashed)).ok()?;
                let origin = url.origin();
                Some(Asset {
                    cross_origin: page_origin.as_ref().is_some_and(|o| *o != origin),
                    origin: origin.ascii_serialization(),
                    kind: AssetKind::from_extension(hashed).unwrap_or(AssetKind::Other),
                    provenance: vec![Provenance {
                        source: manifest_url.clone(),
                        source_kind: SourceKind::Manifest,
                        context: Context::Manifest { name: name.clone() },
                        location: None,
                        raw: hashed.clone(),
                        integrity: None,
                        crossorigin: None,
                    }],
                    provenance_dropped: 0,
                    url,
                })
            })
            .collect()
    }
}

/// Characters of a file name that cannot stand as is in a URL path.
const PATH_ESCAPE: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'\\');

fn escape_path(p: &str) -> String {
    percent_encoding::utf8_percent_encode(p, PATH_ESCAPE).to_string()
}

/// `asset`'s path relative to `static_url`, percent-decoded, if it is under it.
pub fn relative_to(static_url: &Url, asset: &Url) -> Option<String> {
    if static_url.origin() != asset.origin() {
        return None;
    }
    let rel = asset.path().strip_prefix(static_url.path())?;
    Some(percent_decode(rel))
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Python's `json.dumps(sorted(paths.items()))` with its defaults (`ensure_ascii=True`,
/// separators `", "` and `": "`): a list of two-element lists.
fn python_json_pairs(paths: &BTreeMap<String, String>) -> String {
    let mut out = String::from("[");
    // Python sorts str by code point; Rust's String order (UTF-8 bytes) is the same order.
    for (i, (k, v)) in paths.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('[');
        python_json_str(&mut out, k);
        out.push_str(", ");
        python_json_str(&mut out, v);
        out.push(']');
    }
    out.push(']');
    out
}

fn python_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            // Everything else, DEL included, as \uXXXX; astral characters as surrogate pairs.
            c => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

/// Guesses `STATIC_URL` from asset URLs: the deepest directory shared by the hashed-named
/// assets of the most common origin, cut back to its last segment named like `static` when
/// there is one (the admin page only references `/static/admin/…`, yet `STATIC_URL` is
/// `/static/`). [`manifest_candidates`] gives the alternatives to try.
pub fn infer_static_url<'a>(urls: impl IntoIterator<Item = &'a Url>) -> Option<Url> {
    manifest_candidates(urls)
        .into_iter()
        .next()
        .and_then(|m| m.join(".").ok())
}

/// Where `staticfiles.json` may be, most likely first: the inferred `STATIC_URL`, then every
/// other ancestor of the shared directory, deepest first.
pub fn manifest_candidates<'a>(urls: impl IntoIterator<Item = &'a Url>) -> Vec<Url> {
    let urls: Vec<&Url> = urls.into_iter().collect();
    // Prefer assets whose names look hashed: they are the ones Django's storage produced.
    let hashed: Vec<&Url> = urls
        .iter()
        .copied()
        .filter(|u| HashedName::parse(u.path()).is_some())
        .collect();
    let pool = if hashed.is_empty() { urls } else { hashed };
    // The most common origin among them.
    let mut counts: BTreeMap<String, (usize, &Url)> = BTreeMap::new();
    for u in &pool {
        counts
            .entry(u.origin().ascii_serialization())
            .or_insert((0, u))
            .0 += 1;
    }
    let Some((_, (_, first))) = counts.iter().max_by_key(|(_, (n, _))| *n) else {
        return Vec::new();
    };
    let origin = first.origin();
    let mut common: Option<Vec<&str>> = None;
    for u in pool.iter().filter(|u| u.origin() == origin) {
        let segs: Vec<&str> = u.path().split('/').filter(|s| !s.is_empty()).collect();
        let dir = &segs[..segs.len().saturating_sub(1)];
        common = Some(match common {
            None => dir.to_vec(),
            Some(c) => c
                .iter()
                .zip(dir)
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| *a)
                .collect(),
        });
    }
    let common = common.unwrap_or_default();
    let dir_url = |n: usize| -> Option<Url> {
        let mut path = String::from("/");
        for s in &common[..n] {
            path.push_str(s);
            path.push('/');
        }
        let mut u = (*first).clone();
        u.set_query(None);
        u.set_fragment(None);
        u.set_path(&path);
        u.join("staticfiles.json").ok()
    };
    let mut order: Vec<usize> = Vec::new();
    if let Some(i) = common
        .iter()
        .rposition(|s| s.to_ascii_lowercase().contains("static"))
    {
        order.push(i + 1);
    }
    order.extend((0..=common.len()).rev());
    let mut seen = HashSet::new();
    order
        .into_iter()
        .filter(|n| seen.insert(*n))
        .filter_map(dir_url)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names() {
        let h = HashedName::parse("/static/admin/css/base.6b517d0d5813.css").unwrap();
        assert_eq!(h.original, "/static/admin/css/base.css");
        assert_eq!(h.hash, "6b517d0d5813");
        assert_eq!(
            HashedName::parse("a.tar.0123456789ab.gz").unwrap().original,
            "a.tar.gz"
        );
        assert_eq!(
            HashedName::parse("LICENSE.0123456789ab").unwrap().original,
            "LICENSE"
        );
        assert!(HashedName::parse("base.css").is_none());
        assert!(HashedName::parse("base.6B517D0D5813.css").is_none());
        assert!(HashedName::parse("base.6b517d0d58.css").is_none());
        assert!(HashedName::parse(".0123456789ab").is_none());
        assert!(HashedName::parse("").is_none());
        assert!(HashedName::parse("a/b.0123456789ab/c.css").is_none());
    }

    #[test]
    fn python_json_matches_cpython() {
        // Expected strings produced by CPython's json.dumps(sorted(d.items())).
        let mut m = BTreeMap::new();
        m.insert("b\"q\\.css".to_owned(), "é/\u{7f}/\u{1F600}\t".to_owned());
        m.insert("a.css".to_owned(), "a.0123456789ab.css".to_owned());
        assert_eq!(
            python_json_pairs(&m),
            r#"[["a.css", "a.0123456789ab.css"], ["b\"q\\.css", "\u00e9/\u007f/\ud83d\ude00\t"]]"#
        );
        assert_eq!(python_json_pairs(&BTreeMap::new()), "[]");
    }

    #[test]
    fn manifest_versions_and_hash() {
        let m = Manifest::parse(br#"{"paths": {"a.css": "a.0123456789ab.css"}, "version": "1.0"}"#)
            .unwrap();
        assert_eq!(m.check_hash().outcome, Outcome::Skip);
        let good = format!(
            r#"{{"paths": {{"a.css": "a.0123456789ab.css"}}, "version": "1.1", "hash": "{}"}}"#,
            m.computed_hash()
        );
        assert_eq!(
            Manifest::parse(good.as_bytes())
                .unwrap()
                .check_hash()
                .outcome,
            Outcome::Pass
        );
        let bad = br#"{"paths": {"a.css": "a.0123456789ab.css"}, "version": "1.1", "hash": "000000000000"}"#;
        assert_eq!(
            Manifest::parse(bad).unwrap().check_hash().outcome,
            Outcome::Fail
        );
        assert!(matches!(
            Manifest::parse(br#"{"paths": {}, "version": "2"}"#),
            Err(ManifestError::Version(_))
        ));
        assert!(matches!(
            Manifest::parse(br#"{"paths": {"a": 1}, "version": "1.1"}"#),
            Err(ManifestError::Shape)
        ));
        assert!(matches!(
            Manifest::parse(b"[[[["),
            Err(ManifestError::Json(_))
        ));
        assert!(Manifest::parse(&b"[".repeat(100_000)).is_err());
    }

    #[test]
    fn static_url_inference() {
        let urls: Vec<Url> = [
            "https://s.example/static/admin/css/base.6b517d0d5813.css",
            "https://s.example/static/admin/js/nav.0123456789ab.js",
            "https://s.example/static/admin/img/x.svg",
            "https://cdn.example/other/a.0123456789ab.png",
        ]
        .iter()
        .map(|u| Url::parse(u).unwrap())
        .collect();
        assert_eq!(
            infer_static_url(&urls).unwrap().as_str(),
            "https://s.example/static/"
        );
        let c: Vec<String> = manifest_candidates(&urls)
            .iter()
            .map(|u| u.path().to_owned())
            .collect();
        assert_eq!(
            c,
            vec![
                "/static/staticfiles.json",
                "/static/admin/staticfiles.json",
                "/staticfiles.json"
            ]
        );
        let plain = [Url::parse("https://x.example/assets/v1/a.0123456789ab.css").unwrap()];
        assert_eq!(infer_static_url(&plain).unwrap().path(), "/assets/v1/");
        assert!(infer_static_url(&[]).is_none());
    }

    #[test]
    fn all_static_and_lookup() {
        let m = Manifest::parse(br#"{"paths": {"admin/css/base.css": "admin/css/base.6b517d0d5813.css", "odd name?.txt": "odd name?.0123456789ab.txt"}, "version": "1.1", "hash": ""}"#).unwrap();
        let su = Url::parse("https://s.example/static/").unwrap();
        let mu = su.join("staticfiles.json").unwrap();
        let all = m.all_static(&su, &mu, Some(&su));
        assert_eq!(all.len(), 2);
        assert_eq!(
            all[0].url.as_str(),
            "https://s.example/static/admin/css/base.6b517d0d5813.css"
        );
        assert_eq!(all[0].kind, AssetKind::Stylesheet);
        assert_eq!(all[1].url.path(), "/static/odd%20name%3F.0123456789ab.txt");
        assert_eq!(
            m.hashed_name_for(&su, &all[1].url).unwrap().hash,
            "0123456789ab"
        );
        assert!(
            m.hashed_name_for(
                &su,
                &Url::parse("https://s.example/static/x.0123456789ab.css").unwrap()
            )
            .is_none()
        );
    }
}
