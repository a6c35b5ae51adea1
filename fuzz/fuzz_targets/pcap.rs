//! Fuzzes capture reading as `interloper pcap` does it: pcap/pcapng framing, link/IP/TCP
//! decoding, then the streaming analysis (connection timelines, TLS record walking, HTTP heads)
//! with default and with tiny limits (to exercise the bounds), and the `--hellos-only` scanner
//! with both.
#![no_main]
use interloper_flows::{HelloScanner, Limits, Options, read_capture, read_into};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = read_capture(data, &Options::default());
    let tiny = Options {
        gap_threshold_us: 1,
        limits: Limits {
            max_connections: 4,
            max_exchanges: 2,
            max_gaps: 1,
            max_pending_bytes: 300,
            max_total_pending: 600,
            max_handshake_bytes: 300,
            max_head_bytes: 64,
            max_items: 1,
        },
    };
    let _ = read_capture(data, &tiny);
    for limits in [Limits::default(), tiny.limits] {
        let mut scanner = HelloScanner::new(limits, |h| {
            assert!(!h.ja4.is_empty() && h.ja3_hash.len() == 32);
        });
        let _ = read_into(data, &mut scanner);
        let _ = scanner.finish();
    }
});
