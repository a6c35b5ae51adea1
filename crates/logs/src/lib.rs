//! Access-log forensics: what the logs users already have say about their static files.
//!
//! The signs of a middlebox are often in the load balancer's or the web server's access log
//! long before anyone runs a probe: requests the client gave up on (nginx 499, HAProxy `C`/`c`
//! termination states, Avi's `ADF_CLIENT_CONN_ABORTED`), upstream timeouts, bodies logged
//! shorter than the file, and one backend that has all of it while its siblings have none.
//!
//! [`parse_line`] reads one line of any supported [`Format`] into an [`Entry`]; a [`Gatherer`]
//! folds entries into bounded per-backend counters and examples, and hands
//! [`interloper_findings::LogEvidence`] to the findings crate for the diagnosis.
//! [`run_logs`] is the whole `interloper logs` pipeline over a [`LogsPlan`]: each input's
//! format detected, its lines gathered on several workers, the evidence judged.
//!
//! Pure: the caller reads the files; no I/O, no clocks. Hostile lines never panic and cost
//! time linear in their (capped) length.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod document;
mod entry;
mod fields;
mod format;
mod gather;
mod json;
mod parallel;
mod plan;
mod run;
mod token;
mod window;

pub use document::{JsonDocumentError, MAX_JSON_RECORD};
pub use entry::{Ending, Entry};
pub use format::{
    DETECT_BYTES, DETECT_LINES, Format, Layout, MAX_LINE, detect, detect_layout, parse_line,
};
pub use gather::{GatherOptions, Gatherer, is_static_path};
pub use plan::{FieldPlan, PlanError, PlanKind};
pub use run::{ForcedFormat, LogsError, LogsOutcome, LogsPlan, MAX_WORKERS, run_logs};
pub use window::TimeBound;
