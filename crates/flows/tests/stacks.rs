//! The JA4 knowledge file (data/hello-stacks.toml) against the captures it was written from,
//! read as `interloper pcap` reads them: the analysis names the stack of each hello
//! (`HelloSeen::stack`), and the `--hellos-only` scanner's JA4s identify the same one.

use std::path::Path;

use interloper_flows::{HelloScanner, Limits, Options, read_capture, read_into};
use interloper_wire::stacks::identify;

/// The stack families both paths name for the hellos of a capture, and the analysis's own
/// descriptions.
fn named(bytes: &[u8], what: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
    let flows = read_capture(bytes, &Options::default()).expect(what);
    let hellos = flows
        .connections
        .iter()
        .flat_map(|c| c.tls.iter().flat_map(|t| &t.client_hellos));
    let (mut analysed, mut described) = (Vec::new(), Vec::new());
    for h in hellos {
        analysed.extend(identify(&h.ja4).map(|m| m.family));
        described.extend(h.stack.clone());
    }
    let mut scanned = Vec::new();
    let mut scanner = HelloScanner::new(Limits::default(), |h| {
        scanned.extend(identify(&h.ja4).map(|m| m.family));
    });
    read_into(bytes, &mut scanner).expect(what);
    drop(scanner);
    (analysed, scanned, described)
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
        let (analysed, scanned, described) = named(&bytes, file);
        assert!(
            analysed.iter().any(|f| f == family),
            "{file}: {analysed:?}, expected {family}"
        );
        assert_eq!(scanned, analysed, "{file}: scanner vs analysis");
        assert!(!described.is_empty(), "{file}: no stack named");
    }
}

#[test]
fn firefox_esrs_own_hello_is_firefox() {
    // Debian firefox-esr 153 headless, captured on loopback here (tcpdump -i lo): three
    // connections, each opened with the same hello.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/firefox-esr-153-hello.pcap");
    let bytes = std::fs::read(path).expect("fixture");
    let (analysed, scanned, described) = named(&bytes, "firefox capture");
    assert_eq!(analysed.len(), 3, "{analysed:?}");
    assert!(
        analysed.iter().all(|f| f == "Firefox (NSS)"),
        "{analysed:?}"
    );
    assert_eq!(scanned, analysed);
    assert!(
        described.iter().all(|d| d == "Firefox ESR 153 (Debian)"),
        "{described:?}"
    );
}
