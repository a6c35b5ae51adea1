//! HAR documents: the streaming reader over any bytes, with a small record cap so the cap's
//! path is fuzzed too. An error or records, never a panic.
#![no_main]

use interloper_har::{ReadOptions, from_slice};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match from_slice(data, &ReadOptions { max_records: 8 }) {
        Ok(har) => {
            for r in &har.records {
                let _ = r.unanswered_without_reason();
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
