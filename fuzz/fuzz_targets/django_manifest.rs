#![no_main]
//! staticfiles.json parsing, the manifest hash, hashed-name recognition, SRI metadata and
//! Content-Encoding decoding on arbitrary bytes: no panic, bounded memory.
use interloper_assets::verify::{self, Digests};
use interloper_assets::django::{HashedName, Manifest};
use interloper_assets::decode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // As a body cut at its own length: too large, or the same manifest.
    let cut = Manifest::parse_limited(data, data.len());
    if let Ok(m) = Manifest::parse(data) {
        assert_eq!(cut.ok().as_ref(), Some(&m));
        // Every hashed name the manifest lists is found, derived from its key or not.
        for hashed in m.paths.values() {
            assert!(m.lists_hashed(hashed));
        }
        let _ = m.check_hash();
        let su = interloper_assets::Url::parse("https://fuzz.example/static/").unwrap();
        let mu = su.join("staticfiles.json").unwrap();
        for a in m.all_static(&su, &mu, None) {
            let _ = m.hashed_name_for(&su, &a.url);
        }
    }
    if let Ok(s) = std::str::from_utf8(data) {
        if let Some(h) = HashedName::parse(s) {
            assert_eq!(h.hash.len(), 12);
        }
        let _ = verify::verify_integrity(s, &Digests::of(data));
    }
    for coding in ["gzip", "deflate", "br"] {
        let _ = decode::decode(Some(coding), data, 1 << 20);
    }
});
