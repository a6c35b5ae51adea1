//! Hostile and random input through the public API: nothing panics, output stays bounded.
//! A cheap, deterministic stand-in for the fuzz targets that runs on every `cargo test`.

use interloper_assets::django::{HashedName, Manifest};
use interloper_assets::verify::{self, Digests, Policy};
use interloper_assets::{Crawl, Limits, Note, Url, decode, discover_css, discover_html, srcset};

/// xorshift64*: deterministic bytes without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

const PIECES: &[&str] = &[
    "<",
    ">",
    "</",
    "<img src=",
    "<link rel=stylesheet href=",
    "<style>",
    "</style>",
    "<base href=",
    "\"",
    "'",
    " srcset=\"",
    ",",
    " 2x",
    "url(",
    ")",
    "@import ",
    "{",
    "}",
    ";",
    "a.png",
    "//cdn.example/x.css",
    "data:,x",
    "#f",
    "&amp;",
    "&#",
    "\\",
    "/*",
    "*/",
    "\0",
    "é",
    "\u{FFFD}",
    "<template>",
    "</template>",
    "<svg><use href=",
    "image-set(",
    " style=\"background:url(",
    "<script type=module src=",
    "<!--",
    "-->",
    "<![CDATA[",
];

#[test]
fn random_markup_never_panics() {
    let page = Url::parse("https://site.example/p/").unwrap();
    let limits = Limits {
        max_references: 300,
        ..Limits::default()
    };
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..400 {
        let n = (rng.next() % 200) as usize;
        let doc: String = (0..n).map(|_| rng.pick(PIECES)).collect();
        let d = discover_html(&page, doc.as_bytes(), Some("text/html"), &limits);
        assert!(d.assets.len() <= limits.max_references);
        let c = discover_css(&page, doc.as_bytes(), None, &limits);
        assert!(c.assets.iter().all(|a| a.url.fragment().is_none()));
        let _ = srcset::parse(&doc, 8);
        let _ = HashedName::parse(&doc);
        let _ = verify::verify_integrity(&doc, &Digests::of(doc.as_bytes()));
        let _ = verify::verify_caching(
            &[
                ("cache-control".into(), doc.clone()),
                ("expires".into(), doc.clone()),
            ],
            &Policy::default(),
        );
        let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
        let _ = discover_html(&page, &bytes, Some("text/html; charset=shift_jis"), &limits);
        let _ = discover_css(&page, &bytes, None, &limits);
        let _ = Manifest::parse(&bytes);
        for c in ["gzip", "deflate", "br", "gzip, br", "x"] {
            let _ = decode::decode(Some(c), &bytes, 1 << 16);
        }
    }
}

#[test]
fn deep_import_chain_is_bounded() {
    let page = Url::parse("https://site.example/").unwrap();
    let mut crawl = Crawl::new(Limits::default());
    crawl.add_page(&page, b"<link rel=stylesheet href=/s/0.css>", None);
    let mut fetched = 0;
    while let Some(s) = crawl.next_stylesheet() {
        fetched += 1;
        assert!(
            fetched <= Limits::default().max_stylesheets,
            "crawl does not stop"
        );
        let n: u64 = s.url.path()[3..].trim_end_matches(".css").parse().unwrap();
        // Each sheet imports two new ones: without bounds this would be exponential.
        let body = format!(
            "@import '{}.css'; @import url({}.css);",
            2 * n + 1,
            2 * n + 2
        );
        crawl.add_stylesheet(&s, body.as_bytes(), None);
    }
    let limits = Limits::default();
    // Depth 1..=8 of a binary tree, then the cut.
    assert_eq!(fetched, (1 << limits.max_css_depth) - 1);
    assert!(
        crawl
            .notes()
            .iter()
            .any(|n| matches!(n, Note::NotFollowed { .. }))
    );
}

#[test]
fn stylesheet_count_is_bounded() {
    let page = Url::parse("https://site.example/").unwrap();
    let limits = Limits {
        max_stylesheets: 10,
        ..Limits::default()
    };
    let mut crawl = Crawl::new(limits);
    let html: String = (0..100)
        .map(|i| format!("<link rel=stylesheet href=/{i}.css>"))
        .collect();
    crawl.add_page(&page, html.as_bytes(), None);
    let mut n = 0;
    while crawl.next_stylesheet().is_some() {
        n += 1;
    }
    assert_eq!(n, 10);
    assert_eq!(
        crawl.inventory().len(),
        100,
        "all are still listed as assets"
    );
}

#[test]
fn huge_css_and_manifest_inputs() {
    let sheet = Url::parse("https://site.example/a.css").unwrap();
    let css = "a{background:url(x.png)}".repeat(400_000);
    let d = discover_css(&sheet, css.as_bytes(), None, &Limits::default());
    assert_eq!(d.assets.len(), 1);
    assert_eq!(d.assets[0].provenance.len(), 64);
    assert!(d.assets[0].provenance_dropped > 0);
    let many: String = (0..20_000)
        .map(|i| format!("b{i}{{background:url(i{i}.png)}}"))
        .collect();
    let d = discover_css(&sheet, many.as_bytes(), None, &Limits::default());
    assert_eq!(d.assets.len(), Limits::default().max_references);
    assert!(
        d.notes
            .iter()
            .any(|n| matches!(n, Note::TooManyReferences { .. }))
    );
    let deep_json = "{\"paths\":".repeat(10_000);
    assert!(Manifest::parse(deep_json.as_bytes()).is_err());
}
