//! The JA4 knowledge file against the captures it was written from: every product entry drawn
//! from shared/captures/middleboxes names the box in those captures, and every entry identifies
//! its own fingerprints.

use interloper_wire::capture::read_capture;
use interloper_wire::stacks::{HelloStacks, identify};
use interloper_wire::{Transport, ja4};

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
fn the_middlebox_captures_name_their_box() {
    let test = "the_middlebox_captures_name_their_box";
    let Some(dir) = interloper_testkit::shared_dir("captures/middleboxes", test) else {
        return;
    };
    let cases = [
        ("barracuda/barracuda-chrome48/handshake.pcap", "Barracuda"),
        ("barracuda/barracuda-ie11/handshake.pcap", "Barracuda"),
        ("cisco-wsa/ciscoWSA-ie11/handshake.pcap", "Cisco WSA"),
        (
            "force-point/forcepoint-chrome48/handshake.pcap",
            "Forcepoint",
        ),
        ("juniper-vsrx-weak/handshake.pcap", "Juniper vSRX"),
        (
            "windows-7-untangle-12.0.0-firefox-45/handshake.pcap",
            "Untangle",
        ),
        ("Sophos-Win-7-IE-11/handshake.pcap", "Sophos"),
        ("Sophos-Win-7-Chrome-47.0.256.111m/handshake.pcap", "Sophos"),
        ("fortigate-ie/handshake.pcap", "FortiGate"),
    ];
    for (file, family) in cases {
        let bytes = std::fs::read(dir.join(file)).expect(file);
        let capture = read_capture(&bytes).expect(file);
        let named: Vec<String> = capture
            .streams
            .iter()
            .flat_map(|s| &s.client_hellos)
            .filter_map(|h| identify(&ja4(h, Transport::Tcp).ja4))
            .map(|m| m.family)
            .collect();
        assert!(
            named.iter().any(|f| f == family),
            "{file}: {named:?}, expected {family}"
        );
    }
}

#[test]
fn firefox_esrs_own_hello_is_firefox() {
    // Debian firefox-esr 153 headless, captured on loopback here (tcpdump -i lo).
    let bytes = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/firefox-esr-153-hello.pcap"),
    )
    .unwrap();
    let capture = read_capture(&bytes).unwrap();
    let hello = capture
        .streams
        .iter()
        .flat_map(|s| &s.client_hellos)
        .next()
        .expect("a ClientHello");
    let m = identify(&ja4(hello, Transport::Tcp).ja4).expect("identified");
    assert!(m.exact);
    assert_eq!(m.family, "Firefox (NSS)");
}
