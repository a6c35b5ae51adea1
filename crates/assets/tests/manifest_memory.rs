//! A big `staticfiles.json` costs what its entries keep, not several times the file: it is read
//! into the typed manifest directly, never into a generic JSON value first.
//!
//! Alone in its test binary: it measures the peak resident memory of this process
//! (`VmHWM`), which another test running alongside would disturb.

use interloper_assets::django::Manifest;

/// A manifest as `collectstatic` writes it, of about `bytes` bytes; and the bytes of names it
/// holds.
fn manifest(bytes: usize) -> (String, usize) {
    let mut out = String::with_capacity(bytes + 4096);
    out.push_str("{\"paths\": {");
    let mut names = 0;
    let mut i = 0u64;
    while out.len() < bytes {
        let name = format!(
            "app{}/components/widget-{i:06}/styles/{}.css",
            i % 97,
            "x".repeat((i % 13) as usize)
        );
        let hashed = format!(
            "{}.{:012x}.css",
            &name[..name.len() - 4],
            i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 16
        );
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&format!("\"{name}\": \"{hashed}\""));
        names += name.len() + hashed.len();
        i += 1;
    }
    out.push_str("}, \"version\": \"1.1\", \"hash\": \"000000000000\"}");
    (out, names)
}

#[test]
fn a_60_mib_manifest_costs_what_its_entries_keep() {
    let (text, names) = manifest(60 << 20);
    let before = interloper_testkit::peak_rss_kib();
    let m = Manifest::parse(text.as_bytes()).expect("parses");
    let growth = usize::try_from(interloper_testkit::peak_rss_kib().saturating_sub(before) << 10)
        .unwrap_or(usize::MAX);
    eprintln!(
        "{} MiB manifest, {} entries, {} MiB of names: peak RSS +{} MiB",
        text.len() >> 20,
        m.paths.len(),
        names >> 20,
        growth >> 20
    );
    // Each entry keeps its two names, the allocator's rounding of them and its slot in the
    // tree: about 135 bytes besides the names (+125 MiB for this manifest). Read through a
    // `Value` first, with a second copy of every hashed name, it took +315 MiB.
    let per_entry_overhead = 160;
    let bound = names + m.paths.len() * per_entry_overhead;
    assert!(
        growth < bound,
        "parsing a {} MiB manifest raised the peak resident memory by {} MiB (bound {} MiB)",
        text.len() >> 20,
        growth >> 20,
        bound >> 20
    );
    assert!(m.lists_hashed(&m.paths["app1/components/widget-000001/styles/x.css"]));
}
