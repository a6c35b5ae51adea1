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

#[test]
fn firefox_esrs_own_hello_is_firefox() {
    // Debian firefox-esr 153 headless, captured on loopback here (tcpdump -i lo): the
    // ClientHello record of crates/flows/tests/data/firefox-esr-153-hello.pcap.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/firefox-esr-153.hello.hex");
    let records = hex::decode(std::fs::read_to_string(path).unwrap().trim()).unwrap();
    let msg = HelloAssembler::new(1 << 16)
        .push(&records)
        .unwrap()
        .expect("a whole hello");
    let hello = ClientHello::parse(&msg).unwrap();
    let m = identify(&ja4(&hello, Transport::Tcp).ja4).expect("identified");
    assert!(m.exact);
    assert_eq!(m.family, "Firefox (NSS)");
}
