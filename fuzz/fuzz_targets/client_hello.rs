//! Fuzzes the ClientHello/ServerHello parsers, every accessor, the fingerprints, the record
//! header check, the handshake message cutter (every message within its bound) and the
//! record reassembler (checking that a split stream gives the same answer as a whole one).
#![no_main]
use interloper_wire::{
    ClientHello, HandshakeMessages, HelloAssembler, RecordHeader, ServerHello, Transport, ja3,
    ja3s, ja4,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(h) = ClientHello::parse(data) {
        let _ = (h.sni(), h.alpn(), h.supported_versions(), h.supported_groups());
        let _ = (h.signature_algorithms(), h.key_shares(), h.ec_point_formats());
        let _ = (ja3(&h), ja4(&h, Transport::Tcp), ja4(&h, Transport::Quic));
    }
    if let Ok(s) = ServerHello::parse(data) {
        let _ = (s.selected_version(), s.key_share_group(), s.alpn(), ja3s(&s));
    }

    if let Ok(h) = RecordHeader::parse(data) {
        assert!((20..=24).contains(&h.content_type) && (1..=interloper_wire::MAX_RECORD_LEN).contains(&h.len));
    }
    // The bytes as handshake-record payloads, in two pushes: every message within the bound.
    let mut messages = HandshakeMessages::new(4096);
    let (a, b) = data.split_at(data.len() / 2);
    for part in [a, b] {
        messages.push(part);
        while let Ok(Some(m)) = messages.next_message() {
            assert!(m.len() <= 4096 && m.len() >= 4);
        }
    }

    // The same bytes as a TLS stream, whole and split where the first byte says.
    let whole = HelloAssembler::new(64 * 1024).push(data);
    let cut = data.first().map_or(0, |&b| usize::from(b)).min(data.len());
    let (x, y) = data.split_at(cut);
    let mut split = HelloAssembler::new(64 * 1024);
    let split_result = match split.push(x) {
        Ok(None) => split.push(y),
        other => other,
    };
    assert_eq!(whole, split_result, "split at {cut} changed the result");
    if let Ok(Some(msg)) = whole {
        let _ = ClientHello::parse(&msg);
    }
});
