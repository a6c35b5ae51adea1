//! What discovery returns: assets, where each was referenced, and what was left out.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::location::Location;

/// What a browser would use a subresource for; decides the checks that apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssetKind {
    /// CSS: `<link rel=stylesheet>`, `@import`, `<link rel=preload as=style>`.
    Stylesheet,
    /// A classic script.
    Script,
    /// A module script (`type=module`, `rel=modulepreload`).
    ModuleScript,
    /// Images, including `srcset` candidates, posters and CSS backgrounds.
    Image,
    /// Web fonts (`@font-face src`, `preload as=font`).
    Font,
    /// Audio and video sources.
    Media,
    /// `<track>` text tracks.
    Track,
    /// Favicons and touch icons.
    Icon,
    /// Web app manifest.
    Manifest,
    /// `<object data>` and `<embed src>`.
    Object,
    /// `<link rel=prefetch>` or a preload of an unknown destination.
    Other,
}

impl AssetKind {
    /// How much this kind says about the asset: when one URL is referenced several ways, the
    /// most telling kind is kept (a stylesheet beats a generic preload).
    fn specificity(self) -> u8 {
        match self {
            AssetKind::Other => 0,
            AssetKind::Object => 1,
            AssetKind::Icon | AssetKind::Image => 2,
            _ => 3,
        }
    }

    /// Guesses a kind from a path's extension, for CSS references whose context says little.
    pub(crate) fn from_extension(path: &str) -> Option<AssetKind> {
        let ext = path
            .rsplit('/')
            .next()?
            .rsplit_once('.')?
            .1
            .to_ascii_lowercase();
        Some(match ext.as_str() {
            "css" => AssetKind::Stylesheet,
            "woff" | "woff2" | "ttf" | "otf" | "eot" => AssetKind::Font,
            "png" | "jpg" | "jpeg" | "gif" | "webp" | "avif" | "svg" | "ico" | "bmp" | "cur" => {
                AssetKind::Image
            }
            "mp4" | "webm" | "ogg" | "mp3" | "wav" | "m4a" => AssetKind::Media,
            "js" | "mjs" => AssetKind::Script,
            _ => return None,
        })
    }
}

/// The kind of document a reference was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// An HTML page.
    Html,
    /// A stylesheet.
    Css,
    /// Django's `staticfiles.json`.
    Manifest,
}

/// Where CSS sat when it was not a stylesheet of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Embedded {
    /// A `<style>` element.
    StyleElement,
    /// A `style=""` attribute on the named element.
    StyleAttribute {
        /// Tag name of the element carrying the attribute.
        tag: String,
    },
}

/// The construct that referenced an asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Context {
    /// An HTML element attribute, such as `<img srcset>`.
    Element {
        /// Lower-case tag name.
        tag: String,
        /// Attribute holding the URL.
        attribute: String,
        /// `rel` of a `<link>`, as written.
        rel: Option<String>,
        /// `as` of a preload, or `type` of a script/source, as written.
        as_type: Option<String>,
        /// The `srcset` descriptor (`2x`, `480w`) when the URL came from a srcset.
        descriptor: Option<String>,
    },
    /// CSS: a `url()`, `@import`, or a string inside `image-set()`.
    Css {
        /// Innermost enclosing at-rule (`import`, `font-face`, `media`), without `@`.
        at_rule: Option<String>,
        /// Declaration property (`src`, `background-image`), when inside one.
        property: Option<String>,
        /// The construct itself: `url()`, `@import`, `image-set()`.
        construct: String,
        /// Set when the CSS was inside an HTML document.
        embedded: Option<Embedded>,
    },
    /// An entry of Django's manifest (`all_static`).
    Manifest {
        /// The unhashed name, the manifest's key.
        name: String,
    },
}

/// How a reference asks to be fetched with CORS (`crossorigin` attribute).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CrossOrigin {
    /// `crossorigin`, `crossorigin=""` or `crossorigin=anonymous` (and any invalid value).
    Anonymous,
    /// `crossorigin=use-credentials`.
    UseCredentials,
}

impl CrossOrigin {
    pub(crate) fn parse(v: &str) -> CrossOrigin {
        if v.trim().eq_ignore_ascii_case("use-credentials") {
            CrossOrigin::UseCredentials
        } else {
            CrossOrigin::Anonymous
        }
    }
}

/// One place that referenced an asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// URL of the page or stylesheet holding the reference.
    pub source: Url,
    /// Whether that source is HTML, CSS or the manifest.
    pub source_kind: SourceKind,
    /// Element/attribute or CSS construct.
    pub context: Context,
    /// Where in the source, when known.
    pub location: Option<Location>,
    /// The reference exactly as written (after entity or escape decoding).
    pub raw: String,
    /// `integrity` attribute, verbatim.
    pub integrity: Option<String>,
    /// `crossorigin` attribute.
    pub crossorigin: Option<CrossOrigin>,
}

/// One subresource with every place that referenced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asset {
    /// Absolute URL, fragment removed: what is fetched (and the de-duplication key).
    pub url: Url,
    /// The asset's origin, serialised (`https://cdn.example:8443`).
    pub origin: String,
    /// Whether the origin differs from the page's (or, for a lone stylesheet, the sheet's).
    pub cross_origin: bool,
    /// What the asset is for.
    pub kind: AssetKind,
    /// Every reference to it, in document order.
    pub provenance: Vec<Provenance>,
    /// References beyond the per-asset cap that were counted but not kept.
    pub provenance_dropped: u32,
}

/// References kept per asset: enough for a report, bounded for a page with 10,000 identical
/// images.
const MAX_PROVENANCE: usize = 64;

impl Asset {
    /// The first `integrity` attribute among the references, if any.
    pub fn integrity(&self) -> Option<&str> {
        self.provenance.iter().find_map(|p| p.integrity.as_deref())
    }

    /// The first `crossorigin` attribute among the references, if any.
    pub fn crossorigin(&self) -> Option<CrossOrigin> {
        self.provenance.iter().find_map(|p| p.crossorigin)
    }

    fn merge(&mut self, other: Asset) {
        if other.kind.specificity() > self.kind.specificity() {
            self.kind = other.kind;
        }
        self.provenance_dropped = self
            .provenance_dropped
            .saturating_add(other.provenance_dropped);
        for p in other.provenance {
            if self.provenance.len() < MAX_PROVENANCE {
                if !self.provenance.contains(&p) {
                    self.provenance.push(p);
                }
            } else {
                self.provenance_dropped = self.provenance_dropped.saturating_add(1);
            }
        }
    }
}

/// Something discovery left out or could not do; results are still usable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Note {
    /// Only the first `limit` bytes of the document were parsed.
    Truncated {
        /// Bytes parsed.
        limit: usize,
    },
    /// More references than `limit`; the rest were dropped.
    TooManyReferences {
        /// References kept.
        limit: usize,
    },
    /// The HTML parser stopped early (for example its memory cap); results up to there are kept.
    ParserStopped {
        /// Parser's message.
        reason: String,
    },
    /// CSS nested deeper than the limit; the inner blocks were skipped.
    NestingLimit {
        /// Nesting descended into.
        limit: usize,
    },
    /// A reference that does not resolve to a URL.
    Unresolvable {
        /// As written.
        raw: String,
        /// Where.
        location: Option<Location>,
    },
    /// A stylesheet was not followed because of the crawl's depth or count limit.
    NotFollowed {
        /// The stylesheet.
        url: Url,
        /// Which limit.
        reason: String,
    },
    /// A `srcset` had more candidates than the limit; the rest were dropped.
    SrcsetTruncated {
        /// Candidates kept.
        limit: usize,
    },
}

/// Everything referenced by one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovery {
    /// The document's own URL.
    pub document: Url,
    /// The URL references were resolved against (`<base href>` or the document URL).
    pub base: Url,
    /// HTML or CSS.
    pub kind: SourceKind,
    /// De-duplicated assets in order of first reference.
    pub assets: Vec<Asset>,
    /// What was left out.
    pub notes: Vec<Note>,
}

/// A set of assets de-duplicated by absolute URL, merging provenance; several documents
/// (a page and its stylesheets) can be added to one inventory.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    page_origin: Option<url::Origin>,
    assets: Vec<Asset>,
    index: HashMap<String, usize>,
    max: usize,
    dropped: usize,
}

impl Inventory {
    /// An empty inventory; `cross_origin` is judged against `page` and at most `max` assets kept.
    pub fn new(page: Option<&Url>, max: usize) -> Self {
        Inventory {
            page_origin: page.map(Url::origin),
            assets: Vec::new(),
            index: HashMap::new(),
            max,
            dropped: 0,
        }
    }

    /// Adds an asset, merging it into an existing one with the same URL. Returns `false` when
    /// the inventory is full and the asset was dropped.
    pub fn add(&mut self, mut asset: Asset) -> bool {
        let key = asset.url.as_str().to_owned();
        if let Some(&i) = self.index.get(&key) {
            self.assets[i].merge(asset);
            return true;
        }
        if self.assets.len() >= self.max {
            self.dropped += 1;
            return false;
        }
        if let Some(page) = &self.page_origin {
            asset.cross_origin = asset.url.origin() != *page;
        }
        self.index.insert(key, self.assets.len());
        self.assets.push(asset);
        true
    }

    /// Adds one reference found at `url`.
    pub(crate) fn add_reference(&mut self, url: Url, kind: AssetKind, p: Provenance) -> bool {
        let origin = url.origin();
        let asset = Asset {
            origin: origin.ascii_serialization(),
            cross_origin: self.page_origin.as_ref().is_some_and(|o| *o != origin),
            url,
            kind,
            provenance: vec![p],
            provenance_dropped: 0,
        };
        self.add(asset)
    }

    /// The asset with this absolute URL (fragment ignored).
    pub fn get(&self, url: &Url) -> Option<&Asset> {
        let mut u = url.clone();
        u.set_fragment(None);
        self.index.get(u.as_str()).map(|&i| &self.assets[i])
    }

    /// Assets in order of first reference.
    pub fn assets(&self) -> &[Asset] {
        &self.assets
    }

    /// Assets dropped because the inventory was full.
    pub fn dropped(&self) -> usize {
        self.dropped
    }

    /// Number of assets.
    pub fn len(&self) -> usize {
        self.assets.len()
    }

    /// Whether no asset was found.
    pub fn is_empty(&self) -> bool {
        self.assets.is_empty()
    }

    /// The assets, consuming the inventory.
    pub fn into_assets(self) -> Vec<Asset> {
        self.assets
    }
}

/// Resolves a reference as a browser would, or says why it is not a fetch.
pub(crate) enum Resolved {
    Fetch(Url),
    /// `data:`, `javascript:`, `about:`, `#fragment`-only, empty: not a network fetch.
    Ignore,
    Invalid,
}

pub(crate) fn resolve(base: &Url, raw: &str) -> Resolved {
    // HTML URLs may be surrounded by ASCII whitespace.
    let raw = raw.trim_matches(|c: char| c.is_ascii_whitespace());
    if raw.is_empty() || raw.starts_with('#') {
        return Resolved::Ignore;
    }
    match base.join(raw) {
        Ok(mut u) => match u.scheme() {
            "http" | "https" => {
                u.set_fragment(None);
                Resolved::Fetch(u)
            }
            _ => Resolved::Ignore,
        },
        Err(_) => Resolved::Invalid,
    }
}

/// Examples named per kind of note in a summary.
const NOTE_EXAMPLES: usize = 3;

/// Notes summarised for a person: one sentence per kind of note, with its count and a few
/// examples, however many there are (a page with 100 000 links gives a handful of lines).
pub fn summarise_notes(notes: &[Note]) -> Vec<String> {
    use std::collections::BTreeMap;
    // Kind → (count, examples), in the order kinds first appear.
    let mut order: Vec<&'static str> = Vec::new();
    let mut groups: BTreeMap<&'static str, (usize, Vec<String>)> = BTreeMap::new();
    for n in notes {
        let (kind, example) = match n {
            Note::Truncated { limit } => ("truncated", format!("only the first {limit} bytes")),
            Note::TooManyReferences { limit } => ("too_many", format!("{limit} kept")),
            Note::ParserStopped { reason } => ("parser", one_line(reason)),
            Note::NestingLimit { limit } => ("nesting", format!("deeper than {limit}")),
            Note::Unresolvable { raw, location } => (
                "unresolvable",
                match location {
                    Some(l) => format!("{:?} (line {})", one_line(raw), l.line),
                    None => format!("{:?}", one_line(raw)),
                },
            ),
            Note::NotFollowed { url, reason } => ("not_followed", format!("{url} ({reason})")),
            Note::SrcsetTruncated { limit } => ("srcset", format!("{limit} candidates kept")),
        };
        let entry = groups.entry(kind).or_insert_with(|| {
            order.push(kind);
            (0, Vec::new())
        });
        entry.0 += 1;
        if entry.1.len() < NOTE_EXAMPLES && !entry.1.contains(&example) {
            entry.1.push(example);
        }
    }
    order
        .into_iter()
        .filter_map(|kind| {
            let (count, examples) = groups.remove(kind)?;
            let what = match kind {
                "truncated" => "document(s) parsed only in part",
                "too_many" => "document(s) with more references than the limit",
                "parser" => "document(s) where the HTML parser stopped early",
                "nesting" => "stylesheet(s) nested deeper than the limit",
                "unresolvable" => "reference(s) that do not resolve to a URL",
                "not_followed" => "stylesheet(s) not followed (crawl limit)",
                _ => "srcset(s) with more candidates than the limit",
            };
            let more = if count > examples.len() { ", …" } else { "" };
            Some(format!("{count} {what}: {}{more}", examples.join("; ")))
        })
        .collect()
}

/// A string a server controls, cut to one short line for a note.
fn one_line(s: &str) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() > 80 {
        let cut: String = flat.chars().take(77).collect();
        format!("{cut}...")
    } else {
        flat
    }
}

#[cfg(test)]
mod summary_tests {
    use super::*;

    #[test]
    fn many_notes_become_one_counted_line_per_kind() {
        let mut notes: Vec<Note> = (0..10_000)
            .map(|i| Note::Unresolvable {
                raw: format!("javascript:void({i})"),
                location: None,
            })
            .collect();
        notes.push(Note::NotFollowed {
            url: "https://example.test/deep.css".parse().unwrap(),
            reason: "depth limit 4".into(),
        });
        let lines = summarise_notes(&notes);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(
            lines[0].starts_with("10000 reference(s) that do not resolve"),
            "{}",
            lines[0]
        );
        assert!(lines[0].ends_with(", …"), "{}", lines[0]);
        assert!(
            lines[1].contains("deep.css (depth limit 4)"),
            "{}",
            lines[1]
        );
        assert!(
            !lines.iter().any(|l| l.contains("Url {")),
            "no Debug output"
        );
    }
}
