//! Real users as the vantage point: the beacons interloper-django's page script sends (one line
//! of JSON per sampled page view, `interloper.rum.beacon/v1`, docs/rum.md) read into the evidence
//! model `check` and `har` use — one target per instance named in `Server-Timing`, each file's
//! Resource Timing as a request record — and judged by the same detectors, with the rates by
//! instance, client network, file, size class and protocol beside them
//! (`interloper_findings::analyse_rum`).
//!
//! Pure: no I/O besides the readers handed in, no clocks. Bad input is counted, never a panic:
//! a line that is not a beacon, a value that is not a timing, an overlong line.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod beacon;
mod read;
mod run;

pub use beacon::{
    BEACON_SCHEMA, Beacon, BeaconFile, MAX_FILES_PER_BEACON, clean_instance, client_network,
};
pub use read::{Collector, MAX_LINE, ReadOptions, RumSummary};
pub use run::{RumInputError, RumOutcome, RumPlan, run_rum};
