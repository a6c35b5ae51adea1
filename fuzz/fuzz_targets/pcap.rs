//! Fuzzes capture reading: pcap/pcapng framing, link/IP/TCP decoding, reassembly and the
//! hello scan, with default and with tiny limits (to exercise the bounds).
#![no_main]
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
});
