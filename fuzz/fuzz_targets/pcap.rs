//! Fuzzes capture reading: pcap/pcapng framing, link/IP/TCP decoding, reassembly and the
//! hello scan, with default and with tiny limits (to exercise the bounds); then the same bytes
//! through the streaming analysis of `interloper pcap` (connection timelines, TLS record
//! walking, HTTP heads), with default and tiny limits, and through the `--hellos-only` scanner.
#![no_main]
use interloper_flows::{HelloScanner, Limits as FlowLimits, Options, read_into};
use interloper_wire::capture::{Limits, read_capture, read_capture_with};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = read_capture(data);
    let tiny = Limits {
        max_stream_bytes: 512,
        max_connections: 4,
        max_hello_len: 300,
        max_total_bytes: 4096,
    };
    let _ = read_capture_with(data, &tiny);
    let _ = interloper_flows::read_capture(data, &Options::default());
    let tiny_flows = Options {
        gap_threshold_us: 1,
        limits: FlowLimits {
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
    let _ = interloper_flows::read_capture(data, &tiny_flows);
    for limits in [FlowLimits::default(), tiny_flows.limits] {
        let mut scanner = HelloScanner::new(limits, |h| {
            assert!(!h.ja4.is_empty() && h.ja3_hash.len() == 32);
        });
        let _ = read_into(data, &mut scanner);
        let _ = scanner.finish();
    }
});
