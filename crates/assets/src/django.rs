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
use std::fmt;

use md5::{Digest, Md5};
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use url::Url;

use crate::outcome::{Check, CheckKind, Outcome};
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
        let (name_end, hash_start) = hash_span(path)?;
        Some(HashedName {
            original: format!("{}{}", &path[..name_end], &path[hash_start + 12..]),
            hash: path[hash_start..hash_start + 12].to_owned(),
        })
    }

    /// Whether `md5_digest` (of the decoded content) matches the name.
    pub fn matches(&self, md5_digest: &[u8]) -> bool {
        hex::encode(md5_digest).get(..12) == Some(self.hash.as_str())
    }
}

/// Where Django's hash is in a path: the end of the name before its `.`, and the start of
/// the 12 hex digits. The original name is the path without `.<hash>`.
fn hash_span(path: &str) -> Option<(usize, usize)> {
    let dir_len = path.rfind('/').map_or(0, |i| i + 1);
    let file = &path[dir_len..];
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
            return Some((dir_len + i, dir_len + i + 1));
        }
    }
    // `LICENSE.<hash>`: no extension, the hash is what splitext took for one.
    if let Some(hash) = ext.strip_prefix('.')
        && is_hash(hash)
        && !stem.is_empty()
        && !stem.contains('.')
    {
        return Some((dir_len + stem.len(), dir_len + stem.len() + 1));
    }
    None
}

/// Whether `hashed` is `original` with a Django hash in its name, as `collectstatic` writes
/// every entry.
fn is_hashed_form_of(hashed: &str, original: &str) -> bool {
    hash_span(hashed).is_some_and(|(name_end, hash_start)| {
        let (before, after) = (&hashed[..name_end], &hashed[hash_start + 12..]);
        original.len() == before.len() + after.len()
            && original.starts_with(before)
            && original.ends_with(after)
    })
}

/// Django's own name hash of some content: md5, first 12 hex digits.
pub fn content_hash(content: &[u8]) -> String {
    let mut h = hex::encode(Md5::digest(content));
    h.truncate(12);
    h
}

/// A `staticfiles.json` larger than this is refused: a manifest of a few hundred thousand
/// files is a few tens of MiB, and what is kept of it costs about twice its size.
pub const MAX_MANIFEST_BYTES: usize = 64 * 1024 * 1024;

/// Why `staticfiles.json` could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Not JSON. The message says the parser's words, so they are not also a
    /// `source` (`{:#}` would print them twice).
    #[error("manifest is not valid JSON: {0}")]
    Json(serde_json::Error),
    /// JSON, but not a manifest object.
    #[error("manifest has no \"paths\" object of strings")]
    Shape,
    /// A version Django itself would refuse.
    #[error("unsupported manifest version {0:?} (Django reads 1.0 and 1.1)")]
    Version(String),
    /// Larger than the limit (or cut at it, so not all of it was read).
    #[error("manifest is too large (limit {})", size_words(*.limit))]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
}

/// `64 MiB`, `512 KiB`, `100 bytes`.
fn size_words(bytes: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
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
    /// Hashed names that are not their key with a hash added (hand-made entries): every
    /// other hashed name is found from its key, so the names are not kept twice.
    unusual: HashSet<String>,
}

impl Manifest {
    /// Parses a manifest of at most [`MAX_MANIFEST_BYTES`]. The JSON is read into the typed
    /// fields directly (never a generic `Value`), so memory is what the entries keep; serde_json
    /// limits nesting itself.
    pub fn parse(bytes: &[u8]) -> Result<Manifest, ManifestError> {
        Manifest::parse_limited(bytes, MAX_MANIFEST_BYTES)
    }

    /// Parses a manifest that was read up to `limit` bytes (a response body kept up to a
    /// limit, a file read up to one): longer than `limit`, or exactly `limit` long and ending
    /// mid-document, it was cut, and is [`ManifestError::TooLarge`] rather than a JSON error at
    /// the limit's column.
    pub fn parse_limited(bytes: &[u8], limit: usize) -> Result<Manifest, ManifestError> {
        let limit = limit.min(MAX_MANIFEST_BYTES);
        if bytes.len() > limit {
            return Err(ManifestError::TooLarge { limit });
        }
        match serde_json::from_slice::<RawManifest>(bytes) {
            Err(e) if bytes.len() >= limit && e.classify() == serde_json::error::Category::Eof => {
                Err(ManifestError::TooLarge { limit })
            }
            Err(e) => Err(ManifestError::Json(e)),
            Ok(raw) => raw.into_manifest(),
        }
    }

    /// The hash Django would write for these paths (see the module docs).
    pub fn computed_hash(&self) -> String {
        let mut text = Md5Text(Md5::new());
        // Writing into a digest cannot fail.
        let _ = write_python_json_pairs(&self.paths, &mut text);
        let mut h = hex::encode(text.0.finalize());
        h.truncate(12);
        h
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
        let listed_under_its_name = hash_span(relative).is_some_and(|(name_end, hash_start)| {
            let original = format!("{}{}", &relative[..name_end], &relative[hash_start + 12..]);
            self.paths.get(&original).is_some_and(|h| h == relative)
        });
        listed_under_its_name || self.unusual.contains(relative)
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

/// `staticfiles.json` as read: each field as found, judged once the whole document parsed
/// (so malformed JSON is reported as such before a wrong shape, as with a `Value`).
enum RawManifest {
    NotAnObject,
    Object {
        version: Option<Loose>,
        paths: RawPaths,
        hash: Option<Loose>,
    },
}

/// A field that should be a string.
enum Loose {
    Str(String),
    /// Something else, described for a message (`2`, `null`, `a list`).
    Other(String),
}

/// The `paths` field.
enum RawPaths {
    Missing,
    Names(BTreeMap<String, String>),
    /// Not an object of strings: nothing of it is kept.
    Malformed,
}

impl RawManifest {
    fn into_manifest(self) -> Result<Manifest, ManifestError> {
        let RawManifest::Object {
            version,
            paths,
            hash,
        } = self
        else {
            return Err(ManifestError::Shape);
        };
        let version = match version {
            Some(Loose::Str(v)) => v,
            Some(Loose::Other(what)) => return Err(ManifestError::Version(what)),
            None => return Err(ManifestError::Version(String::new())),
        };
        if version != "1.0" && version != "1.1" {
            return Err(ManifestError::Version(version));
        }
        let paths = match paths {
            // Django defaults a missing "paths" to {}.
            RawPaths::Missing => BTreeMap::new(),
            RawPaths::Names(p) => p,
            RawPaths::Malformed => return Err(ManifestError::Shape),
        };
        let unusual = paths
            .iter()
            .filter(|(name, hashed)| !is_hashed_form_of(hashed, name))
            .map(|(_, hashed)| hashed.clone())
            .collect();
        Ok(Manifest {
            version,
            paths,
            hash: match hash {
                Some(Loose::Str(h)) => Some(h),
                _ => None,
            },
            unusual,
        })
    }
}

impl<'de> Deserialize<'de> for RawManifest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RawManifest, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawManifest;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a staticfiles.json object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawManifest, A::Error> {
                let (mut version, mut paths, mut hash) = (None, RawPaths::Missing, None);
                // A later duplicate replaces an earlier field, as in a `Value`.
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "version" => version = Some(map.next_value()?),
                        "paths" => {
                            // Free the names of an earlier "paths" before reading these.
                            drop(std::mem::replace(&mut paths, RawPaths::Missing));
                            paths = map.next_value()?;
                        }
                        "hash" => hash = Some(map.next_value()?),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(RawManifest::Object {
                    version,
                    paths,
                    hash,
                })
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawManifest, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(RawManifest::NotAnObject)
            }

            fn visit_str<E: de::Error>(self, _: &str) -> Result<RawManifest, E> {
                Ok(RawManifest::NotAnObject)
            }

            fn visit_u64<E: de::Error>(self, _: u64) -> Result<RawManifest, E> {
                Ok(RawManifest::NotAnObject)
            }

            fn visit_i64<E: de::Error>(self, _: i64) -> Result<RawManifest, E> {
                Ok(RawManifest::NotAnObject)
            }

            fn visit_f64<E: de::Error>(self, _: f64) -> Result<RawManifest, E> {
                Ok(RawManifest::NotAnObject)
            }

            fn visit_bool<E: de::Error>(self, _: bool) -> Result<RawManifest, E> {
                Ok(RawManifest::NotAnObject)
            }

            fn visit_unit<E: de::Error>(self) -> Result<RawManifest, E> {
                Ok(RawManifest::NotAnObject)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Loose {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Loose, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Loose;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Loose, E> {
                Ok(Loose::Str(v.to_owned()))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<Loose, E> {
                Ok(Loose::Str(v))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Loose, E> {
                Ok(Loose::Other(v.to_string()))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Loose, E> {
                Ok(Loose::Other(v.to_string()))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Loose, E> {
                Ok(Loose::Other(v.to_string()))
            }

            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Loose, E> {
                Ok(Loose::Other(v.to_string()))
            }

            fn visit_unit<E: de::Error>(self) -> Result<Loose, E> {
                Ok(Loose::Other("null".into()))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Loose, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Loose::Other("a list".into()))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Loose, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Loose::Other("an object".into()))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for RawPaths {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RawPaths, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawPaths;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of names")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawPaths, A::Error> {
                let mut names = BTreeMap::new();
                while let Some(name) = map.next_key::<String>()? {
                    match map.next_value()? {
                        Loose::Str(hashed) => {
                            names.insert(name, hashed);
                        }
                        Loose::Other(_) => {
                            // The manifest is refused: keep nothing more, but read on so that
                            // malformed JSON further on is reported as such.
                            drop(names);
                            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                            return Ok(RawPaths::Malformed);
                        }
                    }
                }
                Ok(RawPaths::Names(names))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawPaths, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(RawPaths::Malformed)
            }

            fn visit_str<E: de::Error>(self, _: &str) -> Result<RawPaths, E> {
                Ok(RawPaths::Malformed)
            }

            fn visit_u64<E: de::Error>(self, _: u64) -> Result<RawPaths, E> {
                Ok(RawPaths::Malformed)
            }

            fn visit_i64<E: de::Error>(self, _: i64) -> Result<RawPaths, E> {
                Ok(RawPaths::Malformed)
            }

            fn visit_f64<E: de::Error>(self, _: f64) -> Result<RawPaths, E> {
                Ok(RawPaths::Malformed)
            }

            fn visit_bool<E: de::Error>(self, _: bool) -> Result<RawPaths, E> {
                Ok(RawPaths::Malformed)
            }

            fn visit_unit<E: de::Error>(self) -> Result<RawPaths, E> {
                Ok(RawPaths::Malformed)
            }
        }
        d.deserialize_any(V)
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

/// Writes Python's `json.dumps(sorted(paths.items()))` with its defaults (`ensure_ascii=True`,
/// separators `", "` and `": "`): a list of two-element lists. Written piece by piece (to a
/// hasher), never built whole: for a big manifest it is as big as the file.
fn write_python_json_pairs(
    paths: &BTreeMap<String, String>,
    out: &mut impl fmt::Write,
) -> fmt::Result {
    out.write_char('[')?;
    // Python sorts str by code point; Rust's String order (UTF-8 bytes) is the same order.
    for (i, (k, v)) in paths.iter().enumerate() {
        if i > 0 {
            out.write_str(", ")?;
        }
        out.write_char('[')?;
        write_python_json_str(out, k)?;
        out.write_str(", ")?;
        write_python_json_str(out, v)?;
        out.write_char(']')?;
    }
    out.write_char(']')
}

fn write_python_json_str(out: &mut impl fmt::Write, s: &str) -> fmt::Result {
    out.write_char('"')?;
    // Runs of printable ASCII go out as they are.
    let mut plain_from = 0;
    for (i, c) in s.char_indices() {
        if matches!(c, ' '..='~') && c != '"' && c != '\\' {
            continue;
        }
        out.write_str(&s[plain_from..i])?;
        plain_from = i + c.len_utf8();
        match c {
            '"' => out.write_str("\\\"")?,
            '\\' => out.write_str("\\\\")?,
            '\n' => out.write_str("\\n")?,
            '\r' => out.write_str("\\r")?,
            '\t' => out.write_str("\\t")?,
            '\u{8}' => out.write_str("\\b")?,
            '\u{c}' => out.write_str("\\f")?,
            // Everything else, DEL included, as \uXXXX; astral characters as surrogate pairs.
            c => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    write!(out, "\\u{unit:04x}")?;
                }
            }
        }
    }
    out.write_str(&s[plain_from..])?;
    out.write_char('"')
}

/// Text written into an MD5 digest.
struct Md5Text(Md5);

impl fmt::Write for Md5Text {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.update(s.as_bytes());
        Ok(())
    }
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

    /// The error as `{:#}` prints it (anyhow's form: each cause after `: `).
    fn printed(e: &(dyn std::error::Error + 'static)) -> String {
        let mut out = e.to_string();
        let mut cause = e.source();
        while let Some(c) = cause {
            out.push_str(": ");
            out.push_str(&c.to_string());
            cause = c.source();
        }
        out
    }

    #[test]
    fn a_json_error_prints_its_message_once() {
        let e = Manifest::parse(b"{").err();
        let text = e.as_ref().map(|e| printed(e)).unwrap_or_default();
        assert!(text.starts_with("manifest is not valid JSON: "), "{text}");
        assert_eq!(text.matches("EOF").count(), 1, "{text}");
    }

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

    fn python_json_pairs(paths: &BTreeMap<String, String>) -> String {
        let mut out = String::new();
        write_python_json_pairs(paths, &mut out).expect("a String takes any text");
        out
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
    fn a_manifest_over_the_limit_or_cut_at_it_is_too_large() {
        let doc = br#"{"paths": {"a.css": "a.0123456789ab.css"}, "version": "1.1"}"#;
        assert!(Manifest::parse_limited(doc, doc.len()).is_ok());
        let e = Manifest::parse_limited(doc, 16).expect_err("over the limit");
        assert!(matches!(e, ManifestError::TooLarge { limit: 16 }));
        assert_eq!(e.to_string(), "manifest is too large (limit 16 bytes)");
        // A body kept up to the limit ends mid-document: cut, not malformed.
        let cut = &doc[..32];
        assert!(matches!(
            Manifest::parse_limited(cut, 32),
            Err(ManifestError::TooLarge { limit: 32 })
        ));
        assert!(matches!(
            Manifest::parse_limited(cut, 33),
            Err(ManifestError::Json(_))
        ));
        assert_eq!(
            ManifestError::TooLarge {
                limit: MAX_MANIFEST_BYTES
            }
            .to_string(),
            "manifest is too large (limit 64 MiB)"
        );
        assert!(matches!(
            Manifest::parse_limited(b"{}", usize::MAX),
            Err(ManifestError::Version(_))
        ));
        let e = Manifest::parse(&vec![b' '; MAX_MANIFEST_BYTES + 1]).expect_err("refused");
        assert_eq!(e.to_string(), "manifest is too large (limit 64 MiB)");
    }

    #[test]
    fn fields_of_the_wrong_type_and_duplicates_read_as_django_would() {
        let e = Manifest::parse(br#"{"paths": {}, "version": 1.5}"#).expect_err("refused");
        assert_eq!(
            e.to_string(),
            r#"unsupported manifest version "1.5" (Django reads 1.0 and 1.1)"#
        );
        // Malformed JSON after a wrong shape is reported as malformed.
        assert!(matches!(
            Manifest::parse(br#"{"paths": {"a": 1, "b": "c"}, "version": "1.1", "x": [}"#),
            Err(ManifestError::Json(_))
        ));
        assert!(matches!(
            Manifest::parse(br#"{"paths": [], "version": "1.1"}"#),
            Err(ManifestError::Shape)
        ));
        assert!(matches!(Manifest::parse(b"[1]"), Err(ManifestError::Shape)));
        let m = Manifest::parse(
            br#"{"paths": {"a": "a.0123456789ab"}, "hash": 5, "paths": {"b": "b.0123456789ab"}, "version": "1.0"}"#,
        )
        .expect("parses");
        assert_eq!(m.paths.keys().collect::<Vec<_>>(), ["b"]);
        assert_eq!(m.hash, None);
    }

    #[test]
    fn hashed_names_are_found_whether_derived_from_their_key_or_not() {
        let m = Manifest::parse(
            br#"{"paths": {"css/a.css": "css/a.0123456789ab.css", "b.css": "elsewhere/b.0123456789ab.css", "c.css": "c.css", "LICENSE": "LICENSE.0123456789ab"}, "version": "1.1"}"#,
        )
        .expect("parses");
        for listed in [
            "css/a.0123456789ab.css",
            "elsewhere/b.0123456789ab.css",
            "c.css",
            "LICENSE.0123456789ab",
        ] {
            assert!(m.lists_hashed(listed), "{listed}");
        }
        for not_listed in [
            "css/a.css",
            "css/a.aaaaaaaaaaaa.css",
            "b.0123456789ab.css",
            "b.css",
            "LICENSE",
        ] {
            assert!(!m.lists_hashed(not_listed), "{not_listed}");
        }
        // Only the hand-made entries are kept a second time.
        assert_eq!(m.unusual.len(), 2);
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
