//! Static asset discovery (HTML, CSS, Django manifest) and integrity checks (pure, no I/O).
//!
//! This crate answers two questions for the `check` command, without touching the network:
//!
//! 1. **What does a page load?** [`discover_html`] and [`discover_css`] take a document's URL,
//!    bytes and `Content-Type` and return every subresource a browser would fetch, resolved to an
//!    absolute URL, de-duplicated, each with all of its [`Provenance`]s. [`Crawl`] is a small
//!    state machine that ties this together for an I/O caller: feed it the page, ask it which
//!    stylesheet to fetch next, feed that back, and it bounds depth, size and count.
//! 2. **Are the bytes right?** [`verify`] holds pure functions over response facts (status,
//!    headers, body or digests): Subresource Integrity, Django's hashed names, `Content-Type`
//!    against the extension (and `nosniff`), `Content-Length` against bytes received,
//!    `Content-Encoding` round trip, caching of hashed names, status and redirects.
//!    [`django`] reads `staticfiles.json` (1.0 and 1.1), checks its own hash and infers
//!    `STATIC_URL` from asset URLs.
//!
//! ```
//! use interloper_assets::{discover_html, AssetKind, Limits};
//! use url::Url;
//!
//! let page = Url::parse("https://example.com/admin/login/").unwrap();
//! let html = br#"<link rel="stylesheet" href="/static/admin/css/base.6b517d0d5813.css">"#;
//! let found = discover_html(&page, html, Some("text/html; charset=utf-8"), &Limits::default());
//! assert_eq!(found.assets[0].url.as_str(), "https://example.com/static/admin/css/base.6b517d0d5813.css");
//! assert_eq!(found.assets[0].kind, AssetKind::Stylesheet);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod crawl;
mod css;
pub mod decode;
pub mod django;
mod html;
mod location;
mod outcome;
mod reference;
pub mod srcset;
pub mod verify;

pub use crawl::{Crawl, PendingStylesheet};
pub use css::discover_css;
pub use html::discover_html;
pub use location::Location;
pub use reference::{
    Asset, AssetKind, Context, CrossOrigin, Discovery, Embedded, Inventory, Note, Provenance,
    SourceKind, summarise_notes,
};
/// Re-exported so callers (and the fuzz targets) name the same `Url` type as this API.
pub use url::Url;

/// Bounds on work and memory: hostile documents must not make discovery slow or large.
///
/// Every limit that is hit leaves a [`Note`] in the result instead of failing, so a caller
/// still gets what was found before the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of an HTML document or stylesheet that are parsed; the rest is ignored.
    pub max_document_bytes: usize,
    /// References kept per document (and per [`Inventory`]); more are dropped.
    pub max_references: usize,
    /// Candidates read from one `srcset` attribute.
    pub max_srcset_candidates: usize,
    /// Depth of stylesheet imports a [`Crawl`] follows (the page's own sheets are depth 1).
    pub max_css_depth: usize,
    /// Nesting of CSS blocks (`{`, `(`, `[`, functions) that is descended into.
    pub max_css_nesting: usize,
    /// Stylesheets a [`Crawl`] asks for in total.
    pub max_stylesheets: usize,
    /// Memory the HTML parser may use for buffering (for example, one enormous unterminated tag).
    pub max_parser_memory: usize,
    /// Bytes a body may decode to when undoing `Content-Encoding` (decompression bombs).
    pub max_decoded_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_document_bytes: 8 * 1024 * 1024,
            max_references: 10_000,
            max_srcset_candidates: 32,
            max_css_depth: 8,
            max_css_nesting: 64,
            max_stylesheets: 256,
            max_parser_memory: 16 * 1024 * 1024,
            max_decoded_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Returns the `charset` parameter of a `Content-Type` value, if any.
pub(crate) fn charset_param(content_type: Option<&str>) -> Option<&str> {
    let ct = content_type?;
    ct.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"'))
    })
}

/// The media type of a `Content-Type` value, lower-cased, without parameters.
pub fn mime_essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}
