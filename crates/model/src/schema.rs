//! Every `schema` value interloper writes or reads, in one place and one spelling.
//!
//! A JSON document names its shape in `schema`; consumers dispatch on it, so these strings are
//! a contract (docs/*-json.md, docs/echo.md, docs/visits.md). A crate that writes or reads a
//! document uses the constant here, never a literal of its own.

/// `interloper check --json` and `demo --json` (docs/report-json.md).
pub const REPORT: &str = "interloper.report/v1";
/// `interloper probe --json`.
pub const PROBE: &str = "interloper.probe/v1";
/// `interloper tls --json` (docs/tls-json.md).
pub const TLS: &str = "interloper.tls/v1";
/// `interloper logs --json` (docs/logs.md).
pub const LOGS: &str = "interloper.logs/v1";
/// `interloper har --json` (docs/har.md).
pub const HAR: &str = "interloper.har/v1";
/// `interloper pcap --json` (docs/pcap.md).
pub const PCAP: &str = "interloper.pcap/v1";
/// One line of `interloper pcap --hellos-only --json`.
pub const HELLO: &str = "interloper.hello/v1";
/// `interloper lint --json` (docs/lint.md).
pub const LINT: &str = "interloper.lint/v1";
/// `interloper visits --json` (docs/visits.md).
pub const VISITS: &str = "interloper.visits/v1";
/// One record of the witness's visits log.
pub const VISIT: &str = "interloper.visit/v1";
/// The witness's hello document (docs/echo.md).
pub const ECHO_HELLO: &str = "interloper.echo/v1";
/// The passthrough's answer to a query for hellos.
pub const ECHO_HELLOS: &str = "interloper.echo.hellos/v1";
/// The witness's info document.
pub const ECHO_INFO: &str = "interloper.echo.info/v1";
/// What the visit page posts to the witness.
pub const VISIT_REPORT: &str = "interloper.visit-report/v1";
/// The witness's answer to a visit report.
pub const VISIT_ANSWER: &str = "interloper.visit-answer/v1";
/// `interloper rum --json` (docs/rum.md).
pub const RUM: &str = "interloper.rum/v1";
/// One line of a real-user beacon log, as interloper-django's endpoint appends it (docs/rum.md).
pub const RUM_BEACON: &str = "interloper.rum.beacon/v1";
