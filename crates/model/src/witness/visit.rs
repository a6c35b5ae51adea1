//! The visit page's protocol: what the page a user opens in their own browser
//! (`GET /.well-known/interloper/visit`) posts back to the witness, and what the witness answers.
//!
//! Everything here arrives from the internet: the report is parsed with unknown fields refused
//! and then checked by [`VisitReport::validate`] (counts, lengths, finite numbers, a small
//! alphabet for every string that is shown to the operator later), so a hostile report is
//! refused whole and never stored raw.

use serde::{Deserialize, Serialize};

/// The page a user opens.
pub const PATH_VISIT: &str = "/.well-known/interloper/visit";
/// Where the page posts its report (`?visit=CODE`).
pub const PATH_VISIT_REPORT: &str = "/.well-known/interloper/visit/report";
/// Most bytes a report may have.
pub const MAX_REPORT_BYTES: usize = 256 * 1024;
/// Most downloads a report may list.
pub const MAX_REPORT_ENTRIES: usize = 2000;
/// Length of a visit code (letters and digits without look-alikes).
pub const VISIT_CODE_LEN: usize = 8;
/// The alphabet of visit codes: no 0/O, 1/I/L, so a code read aloud or retyped survives.
pub const VISIT_CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// Whether `code` is shaped like a visit code.
pub fn is_visit_code(code: &str) -> bool {
    code.len() == VISIT_CODE_LEN && code.bytes().all(|b| VISIT_CODE_ALPHABET.contains(&b))
}

/// The report the visit page posts when its downloads are done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitReport {
    /// Always [`crate::schema::VISIT_REPORT`].
    pub schema: String,
    /// The visit code the page was served with.
    pub visit: String,
    /// How long the page downloaded, milliseconds.
    pub elapsed_ms: f64,
    /// Every download the page made, in the order they started.
    pub entries: Vec<VisitEntry>,
}

/// What one download went through, from the browser's Resource Timing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitEntry {
    /// From the witness (a test file) or from the site (one of the operator's URLs).
    pub kind: EntryKind,
    /// Witness downloads: the size asked (bytes). Site downloads: the index of the URL in
    /// the operator's list (never the URL itself: nothing the page sends is shown raw).
    pub index_or_bytes: u64,
    /// The seed the witness download asked with; it ties the entry to the witness's own
    /// record of the same request.
    pub seed: u64,
    /// Whether the download completed with a 2xx status and the full body.
    pub ok: bool,
    /// Why it did not, one of a few words (`network`, `status`, `timeout`, `short`).
    pub error: Option<String>,
    /// When it started, milliseconds since the page's time origin.
    pub start_ms: f64,
    /// Start to the end of the body, milliseconds (the whole download).
    pub duration_ms: f64,
    /// Phases when the browser may expose them (same origin, or `Timing-Allow-Origin`):
    /// TCP connect, TLS, request sent → first response byte, first → last byte. `None` when
    /// hidden or when the connection was reused.
    pub connect_ms: Option<f64>,
    /// TLS handshake.
    pub tls_ms: Option<f64>,
    /// Request sent → first response byte.
    pub ttfb_ms: Option<f64>,
    /// First byte → last byte.
    pub body_ms: Option<f64>,
    /// `nextHopProtocol` (`h2`, `http/1.1`, `h3`), empty when hidden.
    pub protocol: String,
    /// Bytes over the network (0 when hidden).
    pub transfer_size: u64,
    /// Whether the browser exposed the detailed timing (false for a cross-origin URL without
    /// `Timing-Allow-Origin`).
    pub timing_allowed: bool,
}

/// Where a download went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// A test file from the witness.
    Witness,
    /// One of the site's own static URLs the operator configured.
    Site,
}

/// The small words an entry's `error` may be.
pub const ENTRY_ERRORS: &[&str] = &["network", "status", "timeout", "short"];

impl VisitReport {
    /// Checks everything a parse cannot: counts, numbers, the small vocabularies.
    /// `site_urls` is how many site URLs the witness offered.
    pub fn validate(&self, site_urls: usize) -> Result<(), String> {
        if self.schema != crate::schema::VISIT_REPORT {
            return Err(format!("schema must be {}", crate::schema::VISIT_REPORT));
        }
        if !is_visit_code(&self.visit) {
            return Err("visit is not a visit code".into());
        }
        if self.entries.len() > MAX_REPORT_ENTRIES {
            return Err(format!("more than {MAX_REPORT_ENTRIES} entries"));
        }
        if !is_time(self.elapsed_ms) {
            return Err("elapsed_ms is not a duration".into());
        }
        for (i, e) in self.entries.iter().enumerate() {
            e.validate(site_urls)
                .map_err(|why| format!("entry {i}: {why}"))?;
        }
        Ok(())
    }
}

impl VisitEntry {
    fn validate(&self, site_urls: usize) -> Result<(), String> {
        if self.kind == EntryKind::Site && self.index_or_bytes >= site_urls as u64 {
            return Err("site index out of range".into());
        }
        if let Some(e) = &self.error
            && !ENTRY_ERRORS.contains(&e.as_str())
        {
            return Err("unknown error word".into());
        }
        for t in [self.start_ms, self.duration_ms] {
            if !is_time(t) {
                return Err("a time is not a duration".into());
            }
        }
        for t in [self.connect_ms, self.tls_ms, self.ttfb_ms, self.body_ms]
            .into_iter()
            .flatten()
        {
            if !is_time(t) {
                return Err("a phase is not a duration".into());
            }
        }
        if !(self.protocol.is_empty()
            || (self.protocol.len() <= 16
                && self
                    .protocol
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'-'))))
        {
            return Err("protocol is not a protocol name".into());
        }
        Ok(())
    }
}

/// A duration in milliseconds a browser could report: finite, not negative, under a day.
fn is_time(ms: f64) -> bool {
    ms.is_finite() && (0.0..86_400_000.0).contains(&ms)
}

/// The witness's answer to a report: what the page shows the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitAnswer {
    /// Always [`crate::schema::VISIT_ANSWER`].
    pub schema: String,
    /// The visit code, for the user to send to the operator.
    pub visit: String,
    /// Whether the witness concluded that something re-encrypts this browser's connections.
    pub intercepted: bool,
    /// Downloads that stalled for more than the stall threshold, and how many there were.
    pub stalled: u32,
    /// Downloads made.
    pub downloads: u32,
    /// Downloads that failed.
    pub failed: u32,
    /// The result in plain words, one or two sentences.
    pub headline: String,
    /// A few more sentences for the curious.
    pub details: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> VisitEntry {
        VisitEntry {
            kind: EntryKind::Witness,
            index_or_bytes: 65536,
            seed: 3,
            ok: true,
            error: None,
            start_ms: 10.0,
            duration_ms: 20.0,
            connect_ms: Some(1.0),
            tls_ms: None,
            ttfb_ms: Some(5.0),
            body_ms: Some(2.0),
            protocol: "h2".into(),
            transfer_size: 65600,
            timing_allowed: true,
        }
    }

    fn report() -> VisitReport {
        VisitReport {
            schema: crate::schema::VISIT_REPORT.into(),
            visit: "ABCD2345".into(),
            elapsed_ms: 15000.0,
            entries: vec![entry()],
        }
    }

    #[test]
    fn a_good_report_passes_and_bad_ones_are_refused() {
        assert_eq!(report().validate(0), Ok(()));
        let mut r = report();
        r.visit = "abcd2345".into();
        assert!(r.validate(0).is_err());
        let mut r = report();
        r.entries[0].protocol = "<script>".into();
        assert!(r.validate(0).is_err());
        let mut r = report();
        r.entries[0].duration_ms = f64::NAN;
        assert!(r.validate(0).is_err());
        let mut r = report();
        r.entries[0].error = Some("<img src=x>".into());
        assert!(r.validate(0).is_err());
        let mut r = report();
        r.entries[0].kind = EntryKind::Site;
        r.entries[0].index_or_bytes = 2;
        assert!(r.validate(2).is_err());
        assert!(r.validate(3).is_ok());
        let mut r = report();
        r.entries = vec![entry(); MAX_REPORT_ENTRIES + 1];
        assert!(r.validate(0).is_err());
    }

    #[test]
    fn unknown_fields_are_refused() {
        let mut v = serde_json::to_value(report()).unwrap();
        v["extra"] = serde_json::json!(1);
        assert!(serde_json::from_value::<VisitReport>(v).is_err());
        let mut v = serde_json::to_value(report()).unwrap();
        v["entries"][0]["html"] = serde_json::json!("<b>");
        assert!(serde_json::from_value::<VisitReport>(v).is_err());
    }

    #[test]
    fn visit_codes() {
        assert!(is_visit_code("ABCD2345"));
        assert!(!is_visit_code("ABCD234"));
        assert!(!is_visit_code("ABCD234O"));
        assert!(!is_visit_code("abcd2345"));
    }
}
