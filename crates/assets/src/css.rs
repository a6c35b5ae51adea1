//! CSS reference discovery with cssparser's tokenizer: `url()`, `@import` (string and url
//! forms), strings inside `image-set()`, with the enclosing at-rule and property recorded for
//! provenance. Works on whole stylesheets, `<style>` blocks and `style=""` attributes alike,
//! because only the token stream matters.

use cssparser::{ParseError, Parser, Token};
use url::Url;

use crate::location::LineIndex;
use crate::reference::{
    AssetKind, Context, Discovery, Embedded, Inventory, Note, Provenance, Resolved, SourceKind,
    resolve,
};
use crate::{Limits, charset_param};

/// One reference found in CSS text, before resolution.
#[derive(Debug, Clone)]
pub(crate) struct CssRef {
    pub raw: String,
    /// Byte offset in the CSS text.
    pub offset: usize,
    pub at_rule: Option<String>,
    pub property: Option<String>,
    pub construct: &'static str,
    pub kind: AssetKind,
}

#[derive(Debug, Default)]
pub(crate) struct Scan {
    pub refs: Vec<CssRef>,
    pub nesting_hit: bool,
    pub too_many: bool,
}

struct Walker<'l> {
    limits: &'l Limits,
    scan: Scan,
}

type PResult = Result<(), ParseError<()>>;

impl Walker<'_> {
    fn push(
        &mut self,
        raw: &str,
        offset: usize,
        at_rule: Option<&str>,
        property: Option<&str>,
        construct: &'static str,
    ) {
        if self.scan.refs.len() >= self.limits.max_references {
            self.scan.too_many = true;
            return;
        }
        let kind = if construct == "@import" {
            AssetKind::Stylesheet
        } else if at_rule == Some("font-face") {
            AssetKind::Font
        } else {
            AssetKind::from_extension(raw.split(['?', '#']).next().unwrap_or(raw))
                .unwrap_or(AssetKind::Image)
        };
        self.scan.refs.push(CssRef {
            raw: raw.to_owned(),
            offset,
            at_rule: at_rule.map(str::to_owned),
            property: property.map(str::to_owned),
            construct,
            kind,
        });
    }

    /// Walks a token list (a stylesheet, a block's contents or a function's arguments).
    fn walk<'i>(
        &mut self,
        p: &mut Parser<'i>,
        depth: usize,
        at_rule: Option<&str>,
        inherited_property: Option<&str>,
    ) -> PResult {
        let mut pending_at: Option<String> = None;
        let mut import_pending = false;
        let mut last_ident: Option<String> = None;
        let mut property: Option<String> = inherited_property.map(str::to_owned);
        loop {
            if self.scan.too_many {
                return Ok(());
            }
            let offset = p.position().byte_index();
            let tok = match p.next_including_whitespace_and_comments() {
                Ok(t) => t.clone(),
                Err(_) => return Ok(()),
            };
            if matches!(tok, Token::WhiteSpace(_) | Token::Comment(_)) {
                continue;
            }
            let was_import = std::mem::take(&mut import_pending);
            let at = pending_at.as_deref().or(at_rule);
            match tok {
                Token::AtKeyword(name) => {
                    let name = name.to_ascii_lowercase();
                    import_pending = name == "import";
                    pending_at = Some(name);
                }
                Token::QuotedString(s) if was_import => {
                    self.push(&s, offset, at, None, "@import");
                }
                Token::UnquotedUrl(s) => {
                    let construct = if was_import { "@import" } else { "url()" };
                    self.push(&s, offset, at, property.as_deref(), construct);
                }
                Token::Ident(s) => last_ident = Some(s.to_ascii_lowercase()),
                // Inside function arguments the declaration's property stays the one outside.
                Token::Colon if inherited_property.is_none() => property = last_ident.take(),
                Token::Semicolon => {
                    pending_at = None;
                    property = inherited_property.map(str::to_owned);
                }
                Token::Function(name) => {
                    let name = name.to_ascii_lowercase();
                    if depth >= self.limits.max_css_nesting {
                        self.scan.nesting_hit = true;
                        continue;
                    }
                    let construct = match name.as_str() {
                        "url" | "src" if was_import => Some("@import"),
                        "url" | "src" => Some("url()"),
                        "image-set" | "-webkit-image-set" => Some("image-set()"),
                        _ => None,
                    };
                    let prop = property.clone();
                    p.parse_nested_block(|p| match construct {
                        Some(c @ ("url()" | "@import")) => {
                            self.first_string(p, offset, at, prop.as_deref(), c);
                            Ok(())
                        }
                        Some(c) => self.image_set(p, depth + 1, at, prop.as_deref(), c),
                        None => self.walk(p, depth + 1, at, prop.as_deref()),
                    })?;
                }
                Token::CurlyBracketBlock => {
                    if depth >= self.limits.max_css_nesting {
                        self.scan.nesting_hit = true;
                        pending_at = None;
                        continue;
                    }
                    let inner_at = pending_at.take();
                    let inner_at = inner_at.as_deref().or(at_rule);
                    p.parse_nested_block(|p| self.walk(p, depth + 1, inner_at, None))?;
                    property = None;
                    last_ident = None;
                }
                Token::ParenthesisBlock | Token::SquareBracketBlock => {
                    if depth >= self.limits.max_css_nesting {
                        self.scan.nesting_hit = true;
                        continue;
                    }
                    let prop = property.clone();
                    p.parse_nested_block(|p| self.walk(p, depth + 1, at, prop.as_deref()))?;
                }
                _ => {}
            }
        }
    }

    /// `url("…")`: the first string argument is the URL; `offset` is where `url(` starts, which
    /// is what a reader looks for.
    fn first_string(
        &mut self,
        p: &mut Parser<'_>,
        offset: usize,
        at: Option<&str>,
        property: Option<&str>,
        construct: &'static str,
    ) {
        loop {
            match p.next_including_whitespace_and_comments() {
                Ok(Token::WhiteSpace(_) | Token::Comment(_)) => {}
                Ok(Token::QuotedString(s)) => {
                    let s = s.clone();
                    self.push(&s, offset, at, property, construct);
                    return;
                }
                _ => return,
            }
        }
    }

    /// `image-set("a.png" 1x, url(b.png) 2x)`: bare strings are URLs here.
    fn image_set<'i>(
        &mut self,
        p: &mut Parser<'i>,
        depth: usize,
        at: Option<&str>,
        property: Option<&str>,
        construct: &'static str,
    ) -> PResult {
        loop {
            let offset = p.position().byte_index();
            let tok = match p.next_including_whitespace_and_comments() {
                Ok(t) => t.clone(),
                Err(_) => return Ok(()),
            };
            match tok {
                Token::QuotedString(s) => self.push(&s, offset, at, property, construct),
                Token::UnquotedUrl(s) => self.push(&s, offset, at, property, "url()"),
                Token::Function(_)
                | Token::ParenthesisBlock
                | Token::SquareBracketBlock
                | Token::CurlyBracketBlock => {
                    if depth >= self.limits.max_css_nesting {
                        self.scan.nesting_hit = true;
                        continue;
                    }
                    p.parse_nested_block(|p| {
                        self.walk_one_function(p, offset, &tok, depth + 1, at, property)
                    })?;
                }
                _ => {}
            }
        }
    }

    fn walk_one_function<'i>(
        &mut self,
        p: &mut Parser<'i>,
        offset: usize,
        tok: &Token<'_>,
        depth: usize,
        at: Option<&str>,
        property: Option<&str>,
    ) -> PResult {
        match tok {
            Token::Function(name)
                if name.eq_ignore_ascii_case("url") || name.eq_ignore_ascii_case("src") =>
            {
                self.first_string(p, offset, at, property, "url()");
                Ok(())
            }
            _ => self.walk(p, depth, at, property),
        }
    }
}

/// Scans CSS text for references.
pub(crate) fn scan(text: &str, limits: &Limits) -> Scan {
    let mut parser = Parser::new(text);
    let mut w = Walker {
        limits,
        scan: Scan::default(),
    };
    let _ = w.walk(&mut parser, 0, None, None);
    w.scan
}

struct EncodingRs;

impl cssparser::EncodingSupport for EncodingRs {
    type Encoding = &'static encoding_rs::Encoding;
    fn from_label(ascii_label: &[u8]) -> Option<Self::Encoding> {
        encoding_rs::Encoding::for_label(ascii_label)
    }
    fn utf8() -> Self::Encoding {
        encoding_rs::UTF_8
    }
    fn is_utf16_be_or_le(encoding: &Self::Encoding) -> bool {
        *encoding == encoding_rs::UTF_16LE || *encoding == encoding_rs::UTF_16BE
    }
}

/// Decodes a stylesheet as CSS Syntax says (BOM, then HTTP charset, then `@charset`, then
/// UTF-8). Returns the text and the number of bytes the BOM took (to keep offsets right).
fn decode_css<'a>(
    bytes: &'a [u8],
    content_type: Option<&str>,
) -> (std::borrow::Cow<'a, str>, usize) {
    let enc = cssparser::stylesheet_encoding::<EncodingRs>(
        bytes,
        charset_param(content_type).map(str::as_bytes),
        None,
    );
    let bom = encoding_rs::Encoding::for_bom(bytes).map_or(0, |(_, n)| n);
    let (text, _, _) = enc.decode(bytes);
    (text, bom)
}

/// Finds every reference in a stylesheet fetched from `url`.
///
/// Relative references resolve against the stylesheet's own URL. `@import`ed sheets come back
/// with [`AssetKind::Stylesheet`]: the caller fetches them and calls this again (see
/// [`crate::Crawl`], which bounds the depth).
pub fn discover_css(
    url: &Url,
    bytes: &[u8],
    content_type: Option<&str>,
    limits: &Limits,
) -> Discovery {
    let mut notes = Vec::new();
    let bytes = if bytes.len() > limits.max_document_bytes {
        notes.push(Note::Truncated {
            limit: limits.max_document_bytes,
        });
        &bytes[..limits.max_document_bytes]
    } else {
        bytes
    };
    let (text, bom) = decode_css(bytes, content_type);
    let scan = scan(&text, limits);
    let lines = LineIndex::new(bytes);
    let mut inv = Inventory::new(Some(url), limits.max_references);
    add_scan(
        &mut inv,
        &mut notes,
        scan,
        url,
        url,
        SourceKind::Css,
        None,
        limits.max_css_nesting,
        |off| Some(lines.locate(off + bom)),
    );
    Discovery {
        document: url.clone(),
        base: url.clone(),
        kind: SourceKind::Css,
        assets: inv.into_assets(),
        notes,
    }
}

/// Resolves a scan's references and adds them to an inventory.
#[allow(clippy::too_many_arguments)] // Internal glue shared by stylesheets and embedded CSS.
pub(crate) fn add_scan(
    inv: &mut Inventory,
    notes: &mut Vec<Note>,
    scan: Scan,
    source: &Url,
    base: &Url,
    source_kind: SourceKind,
    embedded: Option<Embedded>,
    nesting_limit: usize,
    locate: impl Fn(usize) -> Option<crate::Location>,
) {
    if scan.nesting_hit {
        notes.push(Note::NestingLimit {
            limit: nesting_limit,
        });
    }
    if scan.too_many {
        notes.push(Note::TooManyReferences {
            limit: scan.refs.len(),
        });
    }
    for r in scan.refs {
        let location = locate(r.offset);
        match resolve(base, &r.raw) {
            Resolved::Fetch(u) => {
                let p = Provenance {
                    source: source.clone(),
                    source_kind,
                    context: Context::Css {
                        at_rule: r.at_rule,
                        property: r.property,
                        construct: r.construct.to_owned(),
                        embedded: embedded.clone(),
                    },
                    location,
                    raw: r.raw,
                    integrity: None,
                    crossorigin: None,
                };
                if !inv.add_reference(u, r.kind, p) {
                    notes.push(Note::TooManyReferences { limit: inv.len() });
                    return;
                }
            }
            Resolved::Ignore => {}
            Resolved::Invalid => notes.push(Note::Unresolvable {
                raw: r.raw,
                location,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Found = (
        String,
        Option<String>,
        Option<String>,
        &'static str,
        AssetKind,
    );

    fn refs(css: &str) -> Vec<Found> {
        scan(css, &Limits::default())
            .refs
            .into_iter()
            .map(|r| (r.raw, r.at_rule, r.property, r.construct, r.kind))
            .collect()
    }

    fn urls(css: &str) -> Vec<String> {
        refs(css).into_iter().map(|r| r.0).collect()
    }

    #[test]
    fn import_forms() {
        let r = refs(
            r#"@import "a.css"; @import url(b.css) screen; @import url("c.css"); @IMPORT 'd.css';"#,
        );
        let got: Vec<_> = r.iter().map(|r| (r.0.as_str(), r.3, r.4)).collect();
        assert_eq!(
            got,
            vec![
                ("a.css", "@import", AssetKind::Stylesheet),
                ("b.css", "@import", AssetKind::Stylesheet),
                ("c.css", "@import", AssetKind::Stylesheet),
                ("d.css", "@import", AssetKind::Stylesheet),
            ]
        );
    }

    #[test]
    fn font_face_src_and_properties() {
        let r = refs(
            "@font-face { font-family: X; src: url(f.woff2) format('woff2'), url('f.eot?#iefix') format('embedded-opentype'), local(X); }\n\
             .a { background-image: url( \"img/bg.png\" ); }",
        );
        assert_eq!(r[0].0, "f.woff2");
        assert_eq!(r[0].1.as_deref(), Some("font-face"));
        assert_eq!(r[0].2.as_deref(), Some("src"));
        assert_eq!(r[0].4, AssetKind::Font);
        assert_eq!(r[1].0, "f.eot?#iefix");
        assert_eq!(r[2].0, "img/bg.png");
        assert_eq!(r[2].2.as_deref(), Some("background-image"));
        assert_eq!(r[2].4, AssetKind::Image);
        assert_eq!(r.len(), 3);
    }

    #[test]
    fn image_set_strings_and_urls() {
        assert_eq!(
            urls(
                r#"a { background: image-set("a.png" 1x, url(b.png) 2x, "c.avif" type("image/avif")); b { x: -webkit-image-set(url("d.png") 1x) } }"#
            ),
            vec!["a.png", "b.png", "c.avif", "d.png"]
        );
    }

    #[test]
    fn escapes_and_comments() {
        // Escapes are decoded; URLs in comments are not references; strings outside url()
        // are not URLs.
        assert_eq!(
            urls(
                r#"/* url(no.png) @import "no.css"; */ a { background: url(sp\ ace.png); content: "x.png"; b: url("q\"uote.png") }"#
            ),
            vec!["sp ace.png", "q\"uote.png"]
        );
        assert_eq!(urls(r"a{background:url(\68 i.png)}"), vec!["hi.png"]);
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "a{".repeat(100_000) + "b{background:url(x.png)}";
        let s = scan(&deep, &Limits::default());
        assert!(s.nesting_hit);
        let deep = "(".repeat(1_000_000);
        assert!(scan(&deep, &Limits::default()).nesting_hit);
        let deep = "url(".repeat(100_000);
        let _ = scan(&deep, &Limits::default());
    }

    #[test]
    fn stylesheet_resolves_against_its_own_url() {
        let sheet = Url::parse("https://cdn.example/static/admin/css/base.css").unwrap();
        let d = discover_css(&sheet, b"@import 'fonts.css';\n.x{background:url(../img/a.svg#frag)}\n.y{background:url(data:image/png;base64,AA)}", Some("text/css"), &Limits::default());
        let got: Vec<_> = d.assets.iter().map(|a| a.url.as_str()).collect();
        assert_eq!(
            got,
            vec![
                "https://cdn.example/static/admin/css/fonts.css",
                "https://cdn.example/static/admin/img/a.svg",
            ]
        );
        let loc = d.assets[1].provenance[0].location.unwrap();
        assert_eq!((loc.line, loc.column), (2, 15));
    }

    #[test]
    fn charset_rule_is_honoured() {
        let sheet = Url::parse("https://x.example/a.css").unwrap();
        let mut css = b"@charset \"iso-8859-1\"; a{background:url(caf".to_vec();
        css.push(0xE9);
        css.extend_from_slice(b".png)}");
        let d = discover_css(&sheet, &css, None, &Limits::default());
        assert_eq!(d.assets[0].url.as_str(), "https://x.example/caf%C3%A9.png");
    }
}
