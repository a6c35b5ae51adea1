#![no_main]
//! CSS discovery and srcset parsing on arbitrary bytes: no panic, bounded output.
use interloper_assets::{Limits, discover_css, srcset};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_references: 500, max_css_nesting: 32, ..Limits::default() };
    let sheet = interloper_assets::Url::parse("https://fuzz.example/static/css/site.css").unwrap();
    let d = discover_css(&sheet, data, Some("text/css"), &limits);
    assert!(d.assets.len() <= limits.max_references);
    for a in &d.assets {
        assert!(matches!(a.url.scheme(), "http" | "https"));
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let parsed = srcset::parse(s, 16);
        assert!(parsed.candidates.len() <= 16);
        assert!(parsed.candidates.iter().all(|c| !c.url.is_empty()));
    }
});
