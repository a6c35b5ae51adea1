//! A user's `--format` (nginx `log_format`, HAProxy `log-format`) compiled from the first line
//! of the input, and the rest read with it, one line at a time and in parallel blocks: an
//! error or an entry, never a panic.
#![no_main]

use std::sync::Arc;

use interloper_findings::analyse_logs;
use interloper_logs::{FieldPlan, GatherOptions, Gatherer, PlanKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (format, rest) = text.split_once('\n').unwrap_or((&text, ""));
    for kind in [PlanKind::Nginx, PlanKind::Haproxy] {
        let Ok(plan) = FieldPlan::compile(kind, format) else {
            continue;
        };
        let plan = Arc::new(plan);
        let mut g = Gatherer::new(GatherOptions::default());
        let src = g.begin_source_with_plan("fuzz", Arc::clone(&plan));
        for (i, l) in rest.lines().enumerate() {
            let _ = plan.parse(l);
            g.line(src, i as u64 + 1, l);
        }
        let blocks = g.begin_source_with_plan("fuzz-blocks", plan);
        let _ = g.read_lines(blocks, rest.as_bytes(), 2);
        let _ = analyse_logs(&g.finish());
    }
});
