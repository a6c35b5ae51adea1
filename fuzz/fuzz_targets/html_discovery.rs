#![no_main]
//! HTML discovery on arbitrary bytes: must not panic, must stay bounded, and every asset it
//! returns must be an absolute http(s) URL without a fragment.
use interloper_assets::{Limits, discover_html};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the declared charset, so non-UTF-8 decoding paths run too.
    let (ct, body) = match data.split_first() {
        Some((b, rest)) => (
            match b % 4 {
                0 => None,
                1 => Some("text/html; charset=utf-8"),
                2 => Some("text/html; charset=windows-1252"),
                _ => Some("text/html; charset=shift_jis"),
            },
            rest,
        ),
        None => (None, data),
    };
    let limits = Limits { max_references: 500, max_parser_memory: 1 << 20, ..Limits::default() };
    let page = interloper_assets::Url::parse("https://fuzz.example/dir/page.html").unwrap();
    let d = discover_html(&page, body, ct, &limits);
    assert!(d.assets.len() <= limits.max_references);
    for a in &d.assets {
        assert!(matches!(a.url.scheme(), "http" | "https"));
        assert!(a.url.fragment().is_none());
        assert!(!a.provenance.is_empty());
    }
});
