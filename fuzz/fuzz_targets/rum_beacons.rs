//! Beacon logs (`interloper.rum.beacon/v1` lines): the streaming reader over any bytes, with a
//! small file cap so the cap's path is fuzzed too, then the analysis and its aggregates over
//! what it kept. Findings, never a panic.
#![no_main]

use interloper_findings::{ThresholdConfig, analyse_rum};
use interloper_rum::{Collector, ReadOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut collector = Collector::new(ReadOptions { max_files: 16 });
    if collector.read("fuzz.jsonl", data).is_ok() {
        let (targets, rum, _) = collector.finish();
        let _ = analyse_rum(&targets, &rum, &ThresholdConfig::default());
    }
});
