//! The JA4 knowledge file: every entry identifies its own fingerprints, and a hello captured
//! from a stack it names is named. (The middlebox captures it was written from are read by
//! `interloper-flows`'s tests/stacks.rs.)

use interloper_wire::stacks::{HelloStacks, identify};
use interloper_wire::{ClientHello, HelloAssembler, Transport, ja4};

#[test]
fn every_entry_identifies_its_own_fingerprints() {
    let stacks = HelloStacks::builtin();
    for s in stacks.stacks() {
        for j in s.ja4.iter().filter(|j| !j.contains('*')) {
            let m = stacks.identify(j).expect(j);
            assert!(m.exact, "{j}");
            assert_eq!(m.family, s.family, "{j}");
        }
    }
}

/// The whole ClientHello held in a hex fixture of `tests/data`.
fn fixture_hello(name: &str) -> ClientHello {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    let records = hex::decode(std::fs::read_to_string(path).unwrap().trim()).unwrap();
    let msg = HelloAssembler::new(1 << 16)
        .push(&records)
        .unwrap()
        .expect("a whole hello");
    ClientHello::parse(&msg).unwrap()
}

#[test]
fn squids_upstream_hello_is_an_openssl_client() {
    // Debian squid-openssl 5.7 bumping a CONNECT (`ssl_bump peek step1`, `bump all`): the
    // ClientHello record it sent to the origin, read off the origin's socket here.
    let hello = fixture_hello("squid-5.7-upstream.hello.hex");
    let fingerprint = ja4(&hello, Transport::Tcp).ja4;
    assert_eq!(fingerprint, "t13d311200_e8f1e7e78f70_830561eb1039");
    let m = identify(&fingerprint).expect("identified");
    assert!(m.exact);
    assert_eq!(m.id, "squid-5.7-openssl-3.0");
    assert_eq!(m.family, "OpenSSL 3.0 default client");
}

#[test]
fn firefox_esrs_own_hello_is_firefox() {
    // Debian firefox-esr 153 headless, captured on loopback here (tcpdump -i lo): the
    // ClientHello record of crates/flows/tests/data/firefox-esr-153-hello.pcap.
    let hello = fixture_hello("firefox-esr-153.hello.hex");
    let m = identify(&ja4(&hello, Transport::Tcp).ja4).expect("identified");
    assert!(m.exact);
    assert_eq!(m.family, "Firefox (NSS)");
}
