//! HTML reference discovery with lol_html's streaming parser: one element handler for every
//! element (URLs live in many tags and any element may carry `style=""`) and a text handler
//! for `<style>` blocks, whose CSS goes through the same scanner as stylesheets.

use std::cell::RefCell;
use std::rc::Rc;

use lol_html::html_content::{Element, TextChunk};
use lol_html::{
    AsciiCompatibleEncoding, ElementContentHandlers, HandlerResult, HtmlRewriter, MemorySettings,
    Selector, Settings,
};
use url::Url;

use crate::css;
use crate::location::LineIndex;
use crate::reference::{
    AssetKind, Context, CrossOrigin, Discovery, Embedded, Inventory, Note, Provenance, Resolved,
    SourceKind, resolve,
};
use crate::{Limits, charset_param, srcset};

/// A reference as written, before `<base href>` is known for sure.
struct RawRef {
    raw: String,
    kind: AssetKind,
    context: Context,
    offset: usize,
    integrity: Option<String>,
    crossorigin: Option<CrossOrigin>,
}

#[derive(Default)]
struct State {
    refs: Vec<RawRef>,
    /// CSS found in `<style>` blocks and `style=""`: scan, offset of the CSS in the
    /// document, whether offsets inside it are exact, and where it sat.
    css: Vec<(css::Scan, usize, bool, Embedded)>,
    css_refs: usize,
    base_href: Option<String>,
    style_text: String,
    style_start: Option<usize>,
    /// Open `<template>` elements: their contents are inert, nothing in them is fetched.
    template_depth: usize,
    notes: Vec<Note>,
    full: bool,
}

/// Error returned from handlers to stop the parser once the reference cap is reached.
#[derive(Debug)]
struct Enough;
impl std::fmt::Display for Enough {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("reference limit reached")
    }
}
impl std::error::Error for Enough {}

impl State {
    fn total(&self) -> usize {
        self.refs.len() + self.css_refs
    }

    #[allow(clippy::too_many_arguments)] // One flat record per reference keeps handlers short.
    fn push(
        &mut self,
        el: &Element<'_, '_>,
        attribute: &str,
        raw: String,
        kind: AssetKind,
        rel: Option<String>,
        as_type: Option<String>,
        descriptor: Option<String>,
        limits: &Limits,
    ) -> HandlerResult {
        if self.total() >= limits.max_references {
            self.full = true;
            return Err(Box::new(Enough));
        }
        self.refs.push(RawRef {
            raw,
            kind,
            context: Context::Element {
                tag: el.tag_name(),
                attribute: attribute.to_owned(),
                rel,
                as_type,
                descriptor,
            },
            offset: attr_offset(el, attribute).0,
            integrity: attr(el, "integrity"),
            crossorigin: attr(el, "crossorigin").map(|v| CrossOrigin::parse(&v)),
        });
        Ok(())
    }

    fn push_attr(
        &mut self,
        el: &Element<'_, '_>,
        attribute: &str,
        kind: AssetKind,
        limits: &Limits,
    ) -> HandlerResult {
        match attr(el, attribute) {
            Some(v) => self.push(el, attribute, v, kind, None, None, None, limits),
            None => Ok(()),
        }
    }

    fn push_srcset(
        &mut self,
        el: &Element<'_, '_>,
        attribute: &str,
        limits: &Limits,
    ) -> HandlerResult {
        let Some(v) = attr(el, attribute) else {
            return Ok(());
        };
        let parsed = srcset::parse(&v, limits.max_srcset_candidates);
        if parsed.truncated {
            self.notes.push(Note::SrcsetTruncated {
                limit: limits.max_srcset_candidates,
            });
        }
        for c in parsed.candidates {
            self.push(
                el,
                attribute,
                c.url,
                AssetKind::Image,
                None,
                None,
                c.descriptor,
                limits,
            )?;
        }
        Ok(())
    }

    fn push_css(
        &mut self,
        text: &str,
        offset: usize,
        exact: bool,
        embedded: Embedded,
        limits: &Limits,
    ) -> HandlerResult {
        let room = Limits {
            max_references: limits.max_references.saturating_sub(self.total()),
            ..limits.clone()
        };
        let scan = css::scan(text, &room);
        self.css_refs += scan.refs.len();
        let full = scan.too_many;
        self.css.push((scan, offset, exact, embedded));
        if full {
            self.full = true;
            return Err(Box::new(Enough));
        }
        Ok(())
    }

    fn element(&mut self, el: &mut Element<'_, '_>, limits: &Limits) -> HandlerResult {
        let tag = el.tag_name();
        if self.template_depth > 0 {
            return Ok(());
        }
        let svg = el.namespace_uri() == "http://www.w3.org/2000/svg";
        match tag.as_str() {
            "base" if !svg && self.base_href.is_none() => self.base_href = attr(el, "href"),
            "link" if !svg => self.link(el, limits)?,
            "script" if !svg => {
                let ty = attr(el, "type").map(|t| t.trim().to_ascii_lowercase());
                let kind = match ty.as_deref() {
                    None | Some("") => Some(AssetKind::Script),
                    Some("module") => Some(AssetKind::ModuleScript),
                    Some(t) if crate::verify::JS_MIME.contains(&t) => Some(AssetKind::Script),
                    // Data blocks (`application/ld+json`, templates, import maps) are not fetched.
                    Some(_) => None,
                };
                // Browsers that support modules skip `nomodule` scripts entirely.
                if let (Some(kind), false) = (kind, el.has_attribute("nomodule"))
                    && let Some(src) = attr(el, "src")
                {
                    self.push(el, "src", src, kind, None, ty, None, limits)?;
                }
            }
            "img" if !svg => {
                self.push_attr(el, "src", AssetKind::Image, limits)?;
                self.push_srcset(el, "srcset", limits)?;
            }
            "source" if !svg => {
                // In <picture> a source has srcset; in <video>/<audio> it has src.
                self.push_srcset(el, "srcset", limits)?;
                if let Some(src) = attr(el, "src") {
                    let ty = attr(el, "type");
                    let kind = if ty
                        .as_deref()
                        .is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("image/"))
                    {
                        AssetKind::Image
                    } else {
                        AssetKind::Media
                    };
                    self.push(el, "src", src, kind, None, ty, None, limits)?;
                }
            }
            "video" if !svg => {
                self.push_attr(el, "src", AssetKind::Media, limits)?;
                self.push_attr(el, "poster", AssetKind::Image, limits)?;
            }
            "audio" if !svg => self.push_attr(el, "src", AssetKind::Media, limits)?,
            "track" if !svg => self.push_attr(el, "src", AssetKind::Track, limits)?,
            "object" if !svg => self.push_attr(el, "data", AssetKind::Object, limits)?,
            "embed" if !svg => self.push_attr(el, "src", AssetKind::Object, limits)?,
            "input"
                if !svg
                    && attr(el, "type").is_some_and(|t| t.trim().eq_ignore_ascii_case("image")) =>
            {
                self.push_attr(el, "src", AssetKind::Image, limits)?;
            }
            // Legacy presentational attribute, still honoured by browsers.
            "body" | "table" | "td" | "th" if !svg => {
                self.push_attr(el, "background", AssetKind::Image, limits)?
            }
            "image" | "use" | "feimage" if svg => {
                for name in ["href", "xlink:href"] {
                    if let Some(v) = attr(el, name) {
                        // `<use href="#id">` points into this document.
                        self.push(el, name, v, AssetKind::Image, None, None, None, limits)?;
                        break;
                    }
                }
            }
            _ => {}
        }
        if let Some(style) = attr(el, "style") {
            let (offset, exact) = attr_offset(el, "style");
            self.push_css(
                &style,
                offset,
                exact,
                Embedded::StyleAttribute { tag },
                limits,
            )?;
        }
        Ok(())
    }

    fn link(&mut self, el: &Element<'_, '_>, limits: &Limits) -> HandlerResult {
        let Some(rel) = attr(el, "rel") else {
            return Ok(());
        };
        let rels: Vec<String> = rel
            .split_ascii_whitespace()
            .map(str::to_ascii_lowercase)
            .collect();
        let as_type = attr(el, "as");
        let kind = rels.iter().find_map(|r| match r.as_str() {
            "stylesheet" => Some(AssetKind::Stylesheet),
            "icon" | "apple-touch-icon" | "apple-touch-icon-precomposed" | "mask-icon" => {
                Some(AssetKind::Icon)
            }
            "manifest" => Some(AssetKind::Manifest),
            "modulepreload" => Some(AssetKind::ModuleScript),
            "prefetch" => Some(AssetKind::Other),
            "preload" => Some(
                match as_type
                    .as_deref()
                    .map(|a| a.trim().to_ascii_lowercase())
                    .as_deref()
                {
                    Some("style") => AssetKind::Stylesheet,
                    Some("script") => AssetKind::Script,
                    Some("font") => AssetKind::Font,
                    Some("image") => AssetKind::Image,
                    Some("audio" | "video") => AssetKind::Media,
                    Some("track") => AssetKind::Track,
                    _ => AssetKind::Other,
                },
            ),
            _ => None,
        });
        let Some(kind) = kind else {
            return Ok(());
        };
        if let Some(href) = attr(el, "href") {
            self.push(
                el,
                "href",
                href,
                kind,
                Some(rel.clone()),
                as_type.clone(),
                None,
                limits,
            )?;
        }
        if kind == AssetKind::Image
            && let Some(v) = attr(el, "imagesrcset")
        {
            for c in srcset::parse(&v, limits.max_srcset_candidates).candidates {
                self.push(
                    el,
                    "imagesrcset",
                    c.url,
                    kind,
                    Some(rel.clone()),
                    as_type.clone(),
                    c.descriptor,
                    limits,
                )?;
            }
        }
        Ok(())
    }

    fn style_text(&mut self, t: &TextChunk<'_>, limits: &Limits) -> HandlerResult {
        if self.template_depth > 0 {
            return Ok(());
        }
        if self.style_start.is_none() {
            self.style_start = Some(t.source_location().bytes().start);
        }
        if self.style_text.len() < limits.max_document_bytes {
            self.style_text.push_str(t.as_str());
        }
        if t.last_in_text_node() {
            let text = std::mem::take(&mut self.style_text);
            let start = self.style_start.take().unwrap_or(0);
            self.push_css(&text, start, true, Embedded::StyleElement, limits)?;
        }
        Ok(())
    }
}

/// An attribute's value with character references decoded (lol_html leaves `&amp;` as is),
/// using the attribute-value rules (`&copy=` in a query string stays literal).
fn attr(el: &Element<'_, '_>, name: &str) -> Option<String> {
    el.get_attribute(name)
        .map(|v| htmlize::unescape_attribute(v).into_owned())
}

/// Byte offset of an attribute's value in the document, else of the element, and whether
/// offsets inside the value are exact (no character reference changed its length).
fn attr_offset(el: &Element<'_, '_>, name: &str) -> (usize, bool) {
    el.attributes()
        .iter()
        .find(|a| a.name() == name)
        .and_then(|a| {
            let loc = a.value_source_location()?;
            Some((loc.bytes().start, !a.value().contains('&')))
        })
        .unwrap_or((el.source_location().bytes().start, false))
}

fn selector(s: &str) -> Selector {
    // The selectors are constants; parsing them cannot fail at run time.
    #[allow(clippy::expect_used)]
    s.parse().expect("constant selector")
}

/// Picks the document's encoding: BOM, then the HTTP charset, else UTF-8 (a `<meta charset>`
/// is applied by the parser itself). Encodings that are not ASCII-compatible (UTF-16) fall back
/// to UTF-8: lol_html cannot parse them and such pages are vanishingly rare.
fn encoding(bytes: &[u8], content_type: Option<&str>) -> AsciiCompatibleEncoding {
    let enc = encoding_rs::Encoding::for_bom(bytes)
        .map(|(e, _)| e)
        .or_else(|| {
            charset_param(content_type).and_then(|l| encoding_rs::Encoding::for_label(l.as_bytes()))
        })
        .unwrap_or(encoding_rs::UTF_8);
    AsciiCompatibleEncoding::new(enc).unwrap_or_else(AsciiCompatibleEncoding::utf_8)
}

/// Finds every subresource an HTML page references.
///
/// `url` is the page's final URL (after redirects); `content_type` its `Content-Type` header,
/// used for the charset. References resolve against the first `<base href>` (ignoring ones
/// that are not http/https), else the page URL. Never fails: limits that are hit and parser
/// trouble are reported in [`Discovery::notes`] with what was found so far.
pub fn discover_html(
    url: &Url,
    bytes: &[u8],
    content_type: Option<&str>,
    limits: &Limits,
) -> Discovery {
    let mut truncated = Vec::new();
    let bytes = if bytes.len() > limits.max_document_bytes {
        truncated.push(Note::Truncated {
            limit: limits.max_document_bytes,
        });
        &bytes[..limits.max_document_bytes]
    } else {
        bytes
    };
    let mut st = scan_document(bytes, content_type, limits, truncated);
    let base = base_url(url, st.base_href.as_deref());
    let mut notes = std::mem::take(&mut st.notes);
    let inv = resolve_in_document_order(st, url, &base, bytes, limits, &mut notes);
    Discovery {
        document: url.clone(),
        base,
        kind: SourceKind::Html,
        assets: inv.into_assets(),
        notes,
    }
}

/// Runs the parser over the document and returns what its handlers collected, with a note
/// when the reference cap or the parser stopped it. `notes` are the ones known beforehand.
fn scan_document(
    bytes: &[u8],
    content_type: Option<&str>,
    limits: &Limits,
    notes: Vec<Note>,
) -> State {
    let state = Rc::new(RefCell::new(State {
        notes,
        ..State::default()
    }));
    let result = {
        let settings = parser_settings(&state, bytes, content_type, limits);
        let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
        rewriter.write(bytes).and_then(|()| rewriter.end())
    };
    let mut st = match Rc::try_unwrap(state) {
        Ok(cell) => cell.into_inner(),
        // Every handler (and its clone of the state) has been dropped with the rewriter.
        Err(rc) => std::mem::take(&mut *rc.borrow_mut()),
    };
    if st.full {
        st.notes.push(Note::TooManyReferences {
            limit: limits.max_references,
        });
    } else if let Err(e) = result {
        st.notes.push(Note::ParserStopped {
            reason: e.to_string(),
        });
    }
    st
}

/// The parser's settings: encoding, memory cap, and the handlers that fill `state`
/// (`<template>` depth, every element, `<style>` text).
fn parser_settings<'h>(
    state: &Rc<RefCell<State>>,
    bytes: &[u8],
    content_type: Option<&str>,
    limits: &Limits,
) -> Settings<'h, 'static> {
    let s_el = Rc::clone(state);
    let s_text = Rc::clone(state);
    let s_tpl = Rc::clone(state);
    let l_el = limits.clone();
    let l_text = limits.clone();
    let mut settings = Settings::new()
        .with_encoding(encoding(bytes, content_type))
        .with_adjust_charset_on_meta_tag(true)
        .with_strict(false)
        .with_memory_settings(
            MemorySettings::new().with_max_allowed_memory_usage(limits.max_parser_memory),
        );
    settings = settings.append_element_content_handler((
        std::borrow::Cow::Owned(selector("template")),
        ElementContentHandlers::default().element(move |el: &mut Element<'_, '_>| {
            // Counted after the generic handler has looked at the <template> itself.
            s_tpl.borrow_mut().template_depth += 1;
            let s_end = Rc::clone(&s_tpl);
            if let Some(handlers) = el.end_tag_handlers() {
                handlers.push(Box::new(move |_end| {
                    let mut s = s_end.borrow_mut();
                    s.template_depth = s.template_depth.saturating_sub(1);
                    Ok(())
                }));
            }
            Ok(())
        }),
    ));
    settings = settings.append_element_content_handler((
        std::borrow::Cow::Owned(selector("*")),
        ElementContentHandlers::default()
            .element(move |el: &mut Element<'_, '_>| s_el.borrow_mut().element(el, &l_el)),
    ));
    settings.append_element_content_handler((
        std::borrow::Cow::Owned(selector("style")),
        ElementContentHandlers::default()
            .text(move |t: &mut TextChunk<'_>| s_text.borrow_mut().style_text(t, &l_text)),
    ))
}

/// The URL references resolve against: the first `<base href>` that resolves to something
/// fetchable, else the page itself.
fn base_url(url: &Url, base_href: Option<&str>) -> Url {
    base_href
        .and_then(|h| match resolve(url, h) {
            // A base may legitimately end in a fragment; resolve() drops it, which is harmless.
            Resolved::Fetch(b) => Some(b),
            _ => None,
        })
        .unwrap_or_else(|| url.clone())
}

/// Resolves the collected references against `base` in document order (element references
/// and embedded CSS interleave by offset), noting the ones that do not resolve.
fn resolve_in_document_order(
    st: State,
    url: &Url,
    base: &Url,
    bytes: &[u8],
    limits: &Limits,
    notes: &mut Vec<Note>,
) -> Inventory {
    let lines = LineIndex::new(bytes);
    let mut inv = Inventory::new(Some(url), limits.max_references);
    let mut all: Vec<(usize, Entry)> = st
        .refs
        .into_iter()
        .map(|r| (r.offset, Entry::Ref(r)))
        .collect();
    all.extend(
        st.css
            .into_iter()
            .map(|(scan, off, exact, emb)| (off, Entry::Css(scan, exact, emb))),
    );
    all.sort_by_key(|(off, _)| *off);
    for (offset, entry) in all {
        match entry {
            Entry::Ref(r) => {
                let location = Some(lines.locate(offset));
                match resolve(base, &r.raw) {
                    Resolved::Fetch(u) => {
                        let p = Provenance {
                            source: url.clone(),
                            source_kind: SourceKind::Html,
                            context: r.context,
                            location,
                            raw: r.raw,
                            integrity: r.integrity,
                            crossorigin: r.crossorigin,
                        };
                        inv.add_reference(u, r.kind, p);
                    }
                    Resolved::Ignore => {}
                    Resolved::Invalid => notes.push(Note::Unresolvable {
                        raw: r.raw,
                        location,
                    }),
                }
            }
            Entry::Css(scan, exact, emb) => {
                // When character references changed the text's length, offsets inside it
                // would drift: point at the attribute instead.
                css::add_scan(
                    &mut inv,
                    notes,
                    scan,
                    url,
                    base,
                    SourceKind::Html,
                    Some(emb),
                    limits.max_css_nesting,
                    |o| Some(lines.locate(if exact { offset + o } else { offset })),
                );
            }
        }
    }
    inv
}

enum Entry {
    Ref(RawRef),
    Css(css::Scan, bool, Embedded),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Url {
        Url::parse("https://site.example/app/page.html").unwrap()
    }

    fn find(html: &str) -> Discovery {
        discover_html(
            &page(),
            html.as_bytes(),
            Some("text/html"),
            &Limits::default(),
        )
    }

    fn urls(d: &Discovery) -> Vec<&str> {
        d.assets.iter().map(|a| a.url.as_str()).collect()
    }

    fn one(html: &str) -> Asset {
        let d = find(html);
        assert_eq!(d.assets.len(), 1, "{:?}", urls(&d));
        d.assets.into_iter().next().unwrap()
    }

    use crate::reference::Asset;

    fn attr_of(a: &Asset) -> (String, String) {
        match &a.provenance[0].context {
            Context::Element { tag, attribute, .. } => (tag.clone(), attribute.clone()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn link_rels() {
        for (rel, kind) in [
            ("stylesheet", AssetKind::Stylesheet),
            ("icon", AssetKind::Icon),
            ("shortcut icon", AssetKind::Icon),
            ("apple-touch-icon", AssetKind::Icon),
            ("manifest", AssetKind::Manifest),
            ("modulepreload", AssetKind::ModuleScript),
            ("PRELOAD", AssetKind::Font),
        ] {
            let a = one(&format!(
                r#"<link rel="{rel}" href="x" as="font" crossorigin>"#
            ));
            assert_eq!(a.kind, kind, "{rel}");
            assert_eq!(a.crossorigin(), Some(CrossOrigin::Anonymous));
        }
        assert!(find(r#"<link rel="preconnect" href="https://cdn.example"><link rel="canonical" href="/x">"#).assets.is_empty());
        let d = find(r#"<link rel=preload as=image href=a.png imagesrcset="a.png 1x, b.png 2x">"#);
        assert_eq!(d.assets.len(), 2);
        assert_eq!(
            d.assets[0].provenance.len(),
            2,
            "href and the 1x candidate merge"
        );
        let a = one(r#"<img src="/q?a=1&amp;b=2&copy=3">"#);
        assert_eq!(a.url.as_str(), "https://site.example/q?a=1&b=2&copy=3");
    }

    #[test]
    fn scripts_integrity_and_types() {
        let d = find(
            r#"<script src="/s/app.js" integrity="sha384-abc" crossorigin="use-credentials"></script>
               <script type="module" src="m.js"></script>
               <script type="application/ld+json" src="no.json"></script>
               <script nomodule src="legacy.js"></script>
               <script>var x = "<img src=no.png>";</script>"#,
        );
        assert_eq!(
            urls(&d),
            vec![
                "https://site.example/s/app.js",
                "https://site.example/app/m.js"
            ]
        );
        assert_eq!(d.assets[0].integrity(), Some("sha384-abc"));
        assert_eq!(d.assets[0].crossorigin(), Some(CrossOrigin::UseCredentials));
        assert_eq!(d.assets[1].kind, AssetKind::ModuleScript);
    }

    #[test]
    fn media_elements_and_attributes() {
        let d = find(
            r##"<img src="i.png" srcset="i2.png 2x, i3.png 3x">
               <picture><source srcset="p.avif" type="image/avif"><img src="p.jpg"></picture>
               <video src="v.mp4" poster="poster.jpg"><source src="v.webm" type="video/webm"><track src="c.vtt"></video>
               <audio src="a.mp3"></audio>
               <object data="o.pdf"></object><embed src="e.swf">
               <input type="image" src="btn.png"><input type="text" src="no.png">
               <svg><image href="s.png"/><use xlink:href="sprite.svg#i"/><use href="#local"/></svg>"##,
        );
        let got: Vec<_> = d
            .assets
            .iter()
            .map(|a| {
                (
                    a.url.path().trim_start_matches("/app/").to_owned(),
                    a.kind,
                    attr_of(a),
                )
            })
            .collect();
        let want = [
            ("i.png", AssetKind::Image, ("img", "src")),
            ("i2.png", AssetKind::Image, ("img", "srcset")),
            ("i3.png", AssetKind::Image, ("img", "srcset")),
            ("p.avif", AssetKind::Image, ("source", "srcset")),
            ("p.jpg", AssetKind::Image, ("img", "src")),
            ("v.mp4", AssetKind::Media, ("video", "src")),
            ("poster.jpg", AssetKind::Image, ("video", "poster")),
            ("v.webm", AssetKind::Media, ("source", "src")),
            ("c.vtt", AssetKind::Track, ("track", "src")),
            ("a.mp3", AssetKind::Media, ("audio", "src")),
            ("o.pdf", AssetKind::Object, ("object", "data")),
            ("e.swf", AssetKind::Object, ("embed", "src")),
            ("btn.png", AssetKind::Image, ("input", "src")),
            ("s.png", AssetKind::Image, ("image", "href")),
            ("sprite.svg", AssetKind::Image, ("use", "xlink:href")),
        ];
        assert_eq!(got.len(), want.len(), "{got:?}");
        for (g, w) in got.iter().zip(want) {
            assert_eq!((g.0.as_str(), g.1, (g.2.0.as_str(), g.2.1.as_str())), w);
        }
        match &d.assets[2].provenance[0].context {
            Context::Element { descriptor, .. } => assert_eq!(descriptor.as_deref(), Some("3x")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn first_base_href_wins_for_all_references() {
        let d = find(
            r#"<link rel=stylesheet href="before.css"><base href="https://cdn.example/root/"><base href="/ignored/"><img src="a.png"><img src="/abs.png">"#,
        );
        assert_eq!(d.base.as_str(), "https://cdn.example/root/");
        assert_eq!(
            urls(&d),
            vec![
                "https://cdn.example/root/before.css",
                "https://cdn.example/root/a.png",
                "https://cdn.example/abs.png"
            ]
        );
        assert!(
            d.assets
                .iter()
                .all(|a| a.cross_origin && a.origin == "https://cdn.example")
        );
        let d = find(r#"<base href="javascript:alert(1)"><img src="a.png">"#);
        assert_eq!(urls(&d), vec!["https://site.example/app/a.png"]);
    }

    #[test]
    fn ignored_schemes_and_dedup_with_provenance() {
        let d = find(
            "<img src=\"data:image/png;base64,AAAA\"><img src=\"javascript:void(0)\"><img src=\"about:blank\"><img src=\"#top\"><img src=\"\">\n<img src=\"a.png\">\n<img src=\" a.png#x \"><img src=\"http://[bad\">",
        );
        assert_eq!(urls(&d), vec!["https://site.example/app/a.png"]);
        let locs: Vec<_> = d.assets[0]
            .provenance
            .iter()
            .map(|p| p.location.unwrap().line)
            .collect();
        assert_eq!(locs, vec![2, 3]);
        assert!(
            d.notes
                .iter()
                .any(|n| matches!(n, Note::Unresolvable { raw, .. } if raw == "http://[bad"))
        );
    }

    #[test]
    fn inline_style_and_style_blocks() {
        let d = find(
            "<style>\n@import url(/css/x.css);\n.a{background:url('bg.png')}\n</style>\n<div style=\"background-image: url(&quot;d.png&quot;)\"></div>",
        );
        assert_eq!(
            urls(&d),
            vec![
                "https://site.example/css/x.css",
                "https://site.example/app/bg.png",
                "https://site.example/app/d.png"
            ]
        );
        assert_eq!(d.assets[0].kind, AssetKind::Stylesheet);
        let p = &d.assets[1].provenance[0];
        assert_eq!(
            (p.location.unwrap().line, p.location.unwrap().column),
            (3, 15)
        );
        assert!(
            matches!(&p.context, Context::Css { embedded: Some(Embedded::StyleElement), property: Some(prop), .. } if prop == "background")
        );
        assert!(
            matches!(&d.assets[2].provenance[0].context, Context::Css { embedded: Some(Embedded::StyleAttribute { tag }), .. } if tag == "div")
        );
    }

    #[test]
    fn template_contents_are_inert() {
        let d = find(
            r#"<template><img src="no.png"><style>a{background:url(no2.png)}</style></template><img src="yes.png">"#,
        );
        assert_eq!(urls(&d), vec!["https://site.example/app/yes.png"]);
    }

    #[test]
    fn noscript_content_is_not_fetched() {
        // lol_html parses <noscript> as raw text, as a browser with scripting on does.
        let d = find(
            "<noscript><img src=a.png><link rel=stylesheet href=n.css></noscript><img src=b.png>",
        );
        assert_eq!(urls(&d), vec!["https://site.example/app/b.png"]);
    }

    #[test]
    fn discovery_serialises_for_reports() {
        let d = find(r#"<img src="a.png" srcset="b.png 2x">"#);
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(
            v["assets"][1]["provenance"][0]["context"]["descriptor"],
            "2x"
        );
        assert_eq!(v["assets"][0]["provenance"][0]["location"]["line"], 1);
        assert_eq!(v["assets"][0]["kind"], "image");
    }

    #[test]
    fn charset_from_meta_and_header() {
        let mut html = b"<meta charset=\"windows-1252\"><img src=\"caf".to_vec();
        html.push(0xE9);
        html.extend_from_slice(b".png\">");
        let d = discover_html(&page(), &html, None, &Limits::default());
        assert_eq!(urls(&d), vec!["https://site.example/app/caf%C3%A9.png"]);
    }

    #[test]
    fn hostile_input_is_bounded() {
        let lts = "<".repeat(10 * 1024 * 1024);
        let d = find(&lts);
        assert!(d.assets.is_empty());
        let unterminated = format!("<img src=\"{}", "a".repeat(4 * 1024 * 1024));
        let small = Limits {
            max_parser_memory: 1024 * 1024,
            ..Limits::default()
        };
        let d = discover_html(&page(), unterminated.as_bytes(), None, &small);
        assert!(
            d.notes
                .iter()
                .any(|n| matches!(n, Note::ParserStopped { .. })),
            "{:?}",
            d.notes
        );
        let many = "<img src=a.png><img src=b.png>".repeat(50_000);
        let lim = Limits {
            max_references: 100,
            ..Limits::default()
        };
        let d = discover_html(&page(), many.as_bytes(), None, &lim);
        assert!(
            d.notes
                .iter()
                .any(|n| matches!(n, Note::TooManyReferences { .. }))
        );
        let huge = "<p>".repeat(4_000_000);
        let d = discover_html(&page(), huge.as_bytes(), None, &Limits::default());
        assert!(d.notes.iter().any(|n| matches!(n, Note::Truncated { .. })));
        let deep_style = format!(
            "<style>{}</style><div style=\"{}\">",
            "a{".repeat(200_000),
            "(".repeat(200_000)
        );
        let _ = find(&deep_style);
        let srcset = format!("<img srcset=\"{}\">", "x.png 1x,".repeat(100_000));
        let d = find(&srcset);
        assert!(
            d.notes
                .iter()
                .any(|n| matches!(n, Note::SrcsetTruncated { .. }))
        );
        let _ = find("<img src=\"x.png\"<<<<<style<a href=\"");
        let _ = discover_html(
            &page(),
            &[0xff, 0xfe, 0x3c, 0x00, 0xff],
            Some("text/html; charset=utf-16"),
            &Limits::default(),
        );
    }
}
