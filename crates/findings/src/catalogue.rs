//! The findings catalogue: stable codes, titles, default severities and remedies.
//!
//! Codes never change meaning once published; a retired code is never reused. Each code has a
//! page at `docs/findings/<CODE>.md` (a test keeps the two in step).

use serde::{Deserialize, Serialize};
use std::fmt;

/// How bad a finding is. Ordered: `Info < Warning < Error < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; nothing is broken.
    Info,
    /// Users are, or will be, affected some of the time.
    Warning,
    /// Users are affected: assets fail, stall or arrive wrong.
    Error,
    /// Security or correctness of the whole path is in question.
    Critical,
}

impl Severity {
    /// The lower-case name used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Critical => "critical",
        }
    }

    /// Parses `info`, `warning`, `error`, `critical` (for `--fail-on`).
    pub fn parse(s: &str) -> Option<Severity> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Some(Severity::Info),
            "warning" | "warn" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How sure we are that the finding is real and correctly explained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// A plausible reading of weak or few signals.
    Low,
    /// Several consistent signals, or one strong one.
    Medium,
    /// Proven, or seen so often that chance is ruled out.
    High,
}

impl Confidence {
    /// The lower-case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stable finding code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Code {
    /// Interception proven by the witness.
    IL101,
    /// Chain anchored only in a local (enterprise) root.
    IL102,
    /// Issuer matches a known interception product.
    IL103,
    /// Pin mismatch.
    IL104,
    /// Traits of a certificate minted on the fly.
    IL105,
    /// Protocol downgrade on the path.
    IL106,
    /// Intermittent stalls.
    IL201,
    /// Failed requests (resets, timeouts).
    IL202,
    /// Truncated bodies.
    IL203,
    /// Content differs from its hashed name or SRI.
    IL204,
    /// Trickled body.
    IL205,
    /// One resolved address or IP family misbehaves.
    IL206,
    /// Only large bodies stall or fail.
    IL207,
    /// Only one protocol misbehaves.
    IL208,
    /// Asset 404.
    IL301,
    /// Asset 403.
    IL302,
    /// Wrong Content-Type under nosniff.
    IL303,
    /// Instances serve different static versions.
    IL304,
    /// Hashed assets without long-lived caching.
    IL305,
    /// Asset answered with a server error (5xx).
    IL306,
    /// One instance differs from its siblings.
    IL401,
    /// Logs: clients gave up on static files.
    IL501,
    /// Logs: static bodies sent partly.
    IL502,
    /// Logs: slow static responses.
    IL503,
    /// Logs: one backend stands out.
    IL504,
    /// Logs: the backend timed out or failed on static files.
    IL505,
}

/// Catalogue entry for a code.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// The code.
    pub code: Code,
    /// Short title, the same everywhere it is shown.
    pub title: &'static str,
    /// Severity unless the analysis has a reason to raise or lower it.
    pub severity: Severity,
    /// What to do about it, in words a web developer understands.
    pub remedy: &'static str,
}

impl Code {
    /// Every code, in catalogue order.
    pub const ALL: &'static [Code] = &[
        Code::IL101,
        Code::IL102,
        Code::IL103,
        Code::IL104,
        Code::IL105,
        Code::IL106,
        Code::IL201,
        Code::IL202,
        Code::IL203,
        Code::IL204,
        Code::IL205,
        Code::IL206,
        Code::IL207,
        Code::IL208,
        Code::IL301,
        Code::IL302,
        Code::IL303,
        Code::IL304,
        Code::IL305,
        Code::IL306,
        Code::IL401,
        Code::IL501,
        Code::IL502,
        Code::IL503,
        Code::IL504,
        Code::IL505,
    ];

    /// The code as text (`"IL101"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Code::IL101 => "IL101",
            Code::IL102 => "IL102",
            Code::IL103 => "IL103",
            Code::IL104 => "IL104",
            Code::IL105 => "IL105",
            Code::IL106 => "IL106",
            Code::IL201 => "IL201",
            Code::IL202 => "IL202",
            Code::IL203 => "IL203",
            Code::IL204 => "IL204",
            Code::IL205 => "IL205",
            Code::IL206 => "IL206",
            Code::IL207 => "IL207",
            Code::IL208 => "IL208",
            Code::IL301 => "IL301",
            Code::IL302 => "IL302",
            Code::IL303 => "IL303",
            Code::IL304 => "IL304",
            Code::IL305 => "IL305",
            Code::IL306 => "IL306",
            Code::IL401 => "IL401",
            Code::IL501 => "IL501",
            Code::IL502 => "IL502",
            Code::IL503 => "IL503",
            Code::IL504 => "IL504",
            Code::IL505 => "IL505",
        }
    }

    /// The catalogue entry.
    pub fn entry(self) -> Entry {
        let (title, severity, remedy) = match self {
            Code::IL101 => (
                "HTTPS interception proven by the witness",
                Severity::Critical,
                "Something on the path terminates TLS and re-encrypts it. Ask your network team to \
                 bypass HTTPS inspection for this server (by destination address or host name), \
                 then run the check again.",
            ),
            Code::IL102 => (
                "Certificate chain anchored only in a local root",
                Severity::Warning,
                "The server's certificate is trusted only because of a root installed on this \
                 machine (an enterprise CA), not a public one. If the server uses a public \
                 certificate, a middlebox is re-signing traffic: ask for an inspection bypass. \
                 If it is a private PKI on purpose, pin it (--expect-pin) so a change is noticed.",
            ),
            Code::IL103 => (
                "Issuer matches a known interception product",
                Severity::Critical,
                "The certificate was issued by a TLS-inspection product, not by your CA. Ask the \
                 team that runs it to exempt this server from inspection.",
            ),
            Code::IL104 => (
                "Certificate does not match the expected pin",
                Severity::Critical,
                "The key presented is not the one you pinned: either the server's certificate \
                 changed (update the pin) or something on the path presents its own.",
            ),
            Code::IL105 => (
                "Certificate looks minted on the fly",
                Severity::Warning,
                "The leaf has traits of certificates generated per connection by inspection \
                 products (no Certificate Transparency proof, very recent, short-lived, or a \
                 different key type than the server's). Compare with a direct run or use --echo.",
            ),
            Code::IL106 => (
                "Protocol downgraded on the path",
                Severity::Warning,
                "The connection negotiated less than the server offers (HTTP/2 → HTTP/1.1 or \
                 TLS 1.3 → 1.2), which middleboxes that terminate TLS commonly cause.",
            ),
            Code::IL201 => (
                "Intermittent stalls",
                Severity::Error,
                "Some requests wait seconds in one phase while the rest are fast. Stalls in the \
                 TLS or header phase that the server does not see (compare --echo or the server's \
                 $request_time) come from the path: inspection, a proxy, or packet loss.",
            ),
            Code::IL202 => (
                "Requests failed",
                Severity::Error,
                "Connections were reset or timed out. Check the load balancer's and the \
                 firewall's logs for client-ended or timed-out connections at these times.",
            ),
            Code::IL203 => (
                "Truncated bodies",
                Severity::Error,
                "Fewer bytes arrived than Content-Length announced. Something closed the \
                 connection mid-body: a proxy or scanner with a size or time limit, or an \
                 upstream timeout.",
            ),
            Code::IL204 => (
                "Content differs from its hashed name or SRI",
                Severity::Critical,
                "The bytes received are not the bytes the file's name or integrity attribute \
                 promises. Either the deployment is inconsistent (re-run collectstatic and \
                 redeploy) or something on the path rewrites responses.",
            ),
            Code::IL205 => (
                "Body trickled slowly",
                Severity::Warning,
                "The body arrived at a steady low rate over seconds. Scanners that hold and \
                 release content, traffic shaping or a congested link do this.",
            ),
            Code::IL206 => (
                "One address or IP family misbehaves",
                Severity::Error,
                "Requests to one resolved address (or to IPv6 vs IPv4) fail or stall while the \
                 others are fine. Check that instance, its route, and any firewall rule that \
                 applies only to it.",
            ),
            Code::IL207 => (
                "Only large bodies stall or fail",
                Severity::Error,
                "Small responses are fine and large ones stall or fail: typical of an MTU / \
                 fragmentation problem on the path or a scanner that buffers whole files.",
            ),
            Code::IL208 => (
                "Only one HTTP version misbehaves",
                Severity::Warning,
                "Problems appear only over HTTP/2 or only over HTTP/1.1. A middlebox that \
                 handles one protocol badly, or a server setting that differs between them.",
            ),
            Code::IL301 => (
                "Asset not found (404)",
                Severity::Error,
                "The page references a file the server does not have. Run collectstatic and \
                 check the STATIC_ROOT / nginx alias.",
            ),
            Code::IL302 => (
                "Asset forbidden (403)",
                Severity::Error,
                "The server refuses to read the file: usually ownership or permissions on the \
                 file or a parent directory (the nginx worker user needs read and execute).",
            ),
            Code::IL303 => (
                "Wrong Content-Type under nosniff",
                Severity::Error,
                "With X-Content-Type-Options: nosniff, browsers refuse CSS and JS served with \
                 the wrong type. Fix the server's MIME types (nginx: include mime.types).",
            ),
            Code::IL304 => (
                "Instances serve different static versions",
                Severity::Warning,
                "The instances behind one name serve different builds of the static files. \
                 Redeploy so every instance has the same collectstatic output.",
            ),
            Code::IL305 => (
                "Hashed assets without long-lived caching",
                Severity::Info,
                "Files with content hashes in their names never change, so they can be cached \
                 for a year: add `expires max;` or `Cache-Control: public, max-age=31536000, \
                 immutable` for them.",
            ),
            Code::IL306 => (
                "Asset answered with a server error",
                Severity::Error,
                "The server (or a proxy in front of it) answered 5xx for a static file. Check \
                 the error log of the answering hop.",
            ),
            Code::IL401 => (
                "One instance differs from its siblings",
                Severity::Warning,
                "Of several instances of the same app, this one behaves differently. Compare \
                 the path to it (firewall rules, inspection policy, routing) with the others'.",
            ),
            Code::IL501 => (
                "Clients gave up on static files (log)",
                Severity::Warning,
                "The log shows requests for static files ended by the client (nginx 499, \
                 HAProxy C/c, Avi client aborts): browsers waited, then left. Find where the \
                 wait came from: run `interloper check` on the page from a user's network, and \
                 look for a proxy or inspection device on the path.",
            ),
            Code::IL502 => (
                "Static files sent partly (log)",
                Severity::Warning,
                "The log records bodies shorter than the same file's usual size: the \
                 connection ended mid-file. A middlebox that cuts or resets long transfers, or \
                 clients leaving because the transfer stalled. Check the path for the affected \
                 backend or clients.",
            ),
            Code::IL503 => (
                "Slow static responses (log)",
                Severity::Warning,
                "Static files took seconds to serve. When the backend answered fast and the time \
                 went into delivering to the client, the delay is between the proxy and the \
                 client (inspection, shaping, a congested link); when the backend was slow, look \
                 at the backend and the path to it.",
            ),
            Code::IL504 => (
                "One backend stands out (log)",
                Severity::Error,
                "Static requests through one backend time out, fail or are abandoned while \
                 its siblings serve the same files cleanly. Compare the path to it (firewall \
                 rules, HTTPS inspection, routing) with the others', then `interloper check` \
                 it directly.",
            ),
            Code::IL505 => (
                "Backend timed out or failed on static files (log)",
                Severity::Error,
                "The proxy waited for the backend and gave up (nginx 504, HAProxy s…) or the \
                 backend failed (502, S…). A device between the proxy and the backend that holds \
                 connections, or an overloaded backend: check the proxy's error log and the path \
                 to the backend.",
            ),
        };
        Entry {
            code: self,
            title,
            severity,
            remedy,
        }
    }

    /// Relative path of the code's documentation page.
    pub fn doc_path(self) -> String {
        format!("docs/findings/{}.md", self.as_str())
    }

    /// Parses `"IL101"`.
    pub fn parse(s: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
