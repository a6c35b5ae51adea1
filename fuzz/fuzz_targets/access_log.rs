//! Access-log lines in every format, layout detection, JSON documents read record by record,
//! and the gatherer and analysis over them.
#![no_main]

use interloper_findings::analyse_logs;
use interloper_logs::{Format, GatherOptions, Gatherer, detect, detect_layout, parse_line};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let lines: Vec<&str> = text.lines().collect();
    let detected = detect(lines.iter().copied());
    let _ = detect_layout(data, true, None);
    let _ = detect_layout(data, false, Some(Format::Json));
    let mut g = Gatherer::new(GatherOptions::default());
    for f in Format::ALL {
        let src = g.begin_source("fuzz", f);
        for (i, l) in lines.iter().enumerate() {
            let _ = parse_line(f, l);
            g.line(src, i as u64 + 1, l);
        }
    }
    // The same bytes as an exported document: an error or records, never a panic.
    let src = g.begin_source("fuzz.json", Format::Json);
    if let Err(e) = g.json_document(src, data) {
        let _ = e.to_string();
    }
    let _ = detected;
    let _ = analyse_logs(&g.finish());
});
