//! HAR documents: the streaming reader over any bytes, with a small record cap so the cap's
//! path is fuzzed too, then the evidence and the analysis over what it read. An error or
//! findings, never a panic.
#![no_main]

use interloper_findings::{ThresholdConfig, analyse_har};
use interloper_har::{ReadOptions, evidence, from_slice};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match from_slice(data, &ReadOptions { max_records: 8 }) {
        Ok(har) => {
            let ev = evidence(&har, "fuzz.har");
            let _ = analyse_har(&[ev.target], &[ev.browser], &ThresholdConfig::default());
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
