#![no_main]
use libfuzzer_sys::fuzz_target;

// Placeholder: filled in by the crate that owns this parser.
fuzz_target!(|_data: &[u8]| {});
