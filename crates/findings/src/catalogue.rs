//! The findings catalogue: one table holds everything known about each code — its family,
//! its rank in the verdict, title, default severity, what verdict it leads to, where the fault
//! sits, the symptom noun the verdict lists, its documentation page and its remedy.
//!
//! Codes never change meaning once published; a retired code is never reused. Each code has a
//! page at `docs/findings/<CODE>.md` (a test keeps the two in step).
//!
//! # Adding a code
//!
//! 1. Add one row to the `catalogue!` table below, in code order. The macro generates the
//!    [`Code`] variant, its place in [`Code::ALL`], [`Code::as_str`] and its [`Entry`], so
//!    nothing can be left out; the build fails if its `rank` is already taken or its family
//!    does not match its number.
//! 2. Write `docs/findings/<CODE>.md` (naming the code and its exact title) and add its line
//!    to `docs/findings/README.md`; tests fail until both exist.
//! 3. Write the detector that emits it (`crate::detect`, or `crate::logs` for IL5xx) with a
//!    unit test, and add the code to a scenario under `tests/scenarios/` if a lab can cause it.

use crate::VerdictStatus;
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

/// What a code is about; the hundreds digit of its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// IL1xx: the TLS path — interception, pins, downgrades.
    Tls,
    /// IL2xx: how requests went — stalls, failures, truncation, and which group they hit.
    Delivery,
    /// IL3xx: what the server answers for each asset — statuses, types, caching, builds.
    Assets,
    /// IL4xx: one instance of the app compared with its siblings.
    Instances,
    /// IL5xx: what access logs show.
    Logs,
    /// IL6xx: what `interloper lint` reads on the server — nginx configuration, files and
    /// permissions, Django's settings and manifest, mounts.
    Lint,
    /// IL7xx: what visitors' own browsers went through (the witness's visit page; IL71x: the
    /// beacons of real users' page views, `interloper rum`).
    Visits,
}

impl Family {
    /// The hundreds digit of the family's codes, as an ASCII byte.
    const fn digit(self) -> u8 {
        match self {
            Family::Tls => b'1',
            Family::Delivery => b'2',
            Family::Assets => b'3',
            Family::Instances => b'4',
            Family::Logs => b'5',
            Family::Lint => b'6',
            Family::Visits => b'7',
        }
    }
}

/// Where the fault behind a code sits, for the verdict's wording ("at" or "on the path to").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Place {
    /// Between the client and the server (or the proxy and the backend).
    Path,
    /// The server's own doing: statuses, types, caching, builds.
    Server,
}

/// Catalogue entry for a code.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Entry {
    /// The code.
    pub code: Code,
    /// What it is about.
    pub family: Family,
    /// How well it explains other findings: lower comes first in the verdict and in the
    /// order of findings of the same severity. Unique per code.
    pub rank: u16,
    /// Short title, the same everywhere it is shown.
    pub title: &'static str,
    /// Severity unless the analysis has a reason to raise or lower it.
    pub severity: Severity,
    /// The verdict when it is the root cause: `Intercepted`, `Failing`, `Notice`,
    /// `Incomplete` (part of the check could not be made: never a problem of its own, see
    /// [`Entry::is_incompleteness`]), `Unverified` (trusted only by this machine), or
    /// `Degraded` — which becomes `Failing` when requests to the same target also failed.
    pub verdict: VerdictStatus,
    /// Where the fault sits.
    pub place: Place,
    /// How the verdict lists it among the symptoms of an interception ("stalls").
    pub symptom: Option<&'static str>,
    /// What to do about it, in words a web developer understands.
    pub remedy: &'static str,
    /// Path of its documentation page, relative to the repository root.
    pub doc: &'static str,
}

impl Entry {
    /// True when, as the root cause, it means something terminates TLS on the path.
    pub fn is_interception(&self) -> bool {
        self.verdict == VerdictStatus::Intercepted
    }

    /// True when it says only that part of the check could not be made (its verdict is
    /// `Incomplete`): what `--fail-on` counts as a problem leaves it out, and exit code 3
    /// says it instead.
    pub fn is_incompleteness(&self) -> bool {
        self.verdict == VerdictStatus::Incomplete
    }
}

/// Generates [`Code`], [`Code::ALL`], [`Code::as_str`] and every [`Entry`] from one table.
macro_rules! catalogue {
    ($(
        $code:ident {
            family: $family:ident, rank: $rank:expr, severity: $severity:ident,
            verdict: $verdict:ident,
            place: $place:ident, symptom: $symptom:expr,
            title: $title:literal,
            remedy: $remedy:literal $(,)?
        }
    )+) => {
        /// A stable finding code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum Code {
            $(
                #[doc = $title]
                $code,
            )+
        }

        impl Code {
            /// Every code, in catalogue order.
            pub const ALL: &'static [Code] = &[$(Code::$code),+];

            /// The code as text (`"IL101"`).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Code::$code => stringify!($code),)+
                }
            }
        }

        /// The table, in the order of [`Code`] (so a code's discriminant is its index).
        const ENTRIES: &[Entry] = &[$(
            Entry {
                code: Code::$code,
                family: Family::$family,
                rank: $rank,
                title: $title,
                severity: Severity::$severity,
                verdict: VerdictStatus::$verdict,
                place: Place::$place,
                symptom: $symptom,
                remedy: $remedy,
                doc: concat!("docs/findings/", stringify!($code), ".md"),
            },
        )+];
    };
}

// Ranks go in tens so a new code can slot in between; the lowest warning-or-worse rank is the
// verdict's root cause. `verdict: Degraded` turns `Failing` when the source shows failing (for
// a check, requests to the same target also failed; see `crate::diagnosis::Source`). `symptom`
// is how an interception verdict lists the code ("…, with stalls").
catalogue! {
    IL101 {
        family: Tls, rank: 10, severity: Critical, verdict: Intercepted,
        place: Path, symptom: None,
        title: "HTTPS interception proven by the witness",
        remedy: "Something on the path terminates TLS and re-encrypts it. Ask your network team to \
         bypass HTTPS inspection for this server (by destination address or host name), \
         then run the check again.",
    }
    IL102 {
        family: Tls, rank: 187, severity: Warning, verdict: Unverified,
        place: Path, symptom: None,
        title: "Certificate chain anchored only in a local root",
        remedy: "The server's certificate is trusted only because of a root installed on this \
         machine, absent from the public roots. From the inside, that is exactly what HTTPS \
         inspection looks like; it is also what your organisation's own PKI looks like. To \
         tell: run the witness (`interloper echo`) beside the server and check again with \
         --echo, or compare with a check from a machine outside your network. If the root is \
         your organisation's own CA, declare it (--private-root FILE, or private_roots in a \
         serve module) and the path is clean; if a middlebox is re-signing traffic, ask for \
         an inspection bypass for this server.",
    }
    IL103 {
        family: Tls, rank: 20, severity: Critical, verdict: Intercepted,
        place: Path, symptom: None,
        title: "Issuer matches a known interception product",
        remedy: "The certificate was issued by a TLS-inspection product, not by your CA. Ask the \
         team that runs it to exempt this server from inspection.",
    }
    IL104 {
        family: Tls, rank: 30, severity: Critical, verdict: Intercepted,
        place: Path, symptom: None,
        title: "Certificate does not match the expected pin",
        remedy: "The key presented is not the one you pinned: either the server's certificate \
         changed (update the pin) or something on the path presents its own.",
    }
    IL105 {
        family: Tls, rank: 55, severity: Warning, verdict: Intercepted,
        place: Path, symptom: None,
        title: "Certificate looks minted on the fly",
        remedy: "The leaf has traits of certificates generated per connection by inspection \
         products (no Certificate Transparency proof, very recent, short-lived, or a \
         different key type than the server's). Compare with a direct run or use --echo.",
    }
    IL106 {
        family: Tls, rank: 190, severity: Warning, verdict: Notice,
        place: Path, symptom: None,
        title: "Protocol downgraded on the path",
        remedy: "The connection negotiated less than the server offers (HTTP/2 → HTTP/1.1 or \
         TLS 1.3 → 1.2), which middleboxes that terminate TLS commonly cause.",
    }
    IL107 {
        family: Tls, rank: 61, severity: Error, verdict: Degraded,
        place: Path, symptom: Some("browser-shaped hellos failing"),
        title: "Only the browser-shaped (large / post-quantum) ClientHello fails or stalls",
        remedy: "Browsers (Chrome, Edge, Firefox since 2024) open TLS with a post-quantum key \
         share (X25519MLKEM768): a ClientHello of about 1.5 KB that spans two TCP segments. \
         On this path that hello fails or stalls while the classic one (curl's) goes through, \
         so browser users see ERR_SSL_PROTOCOL_ERROR, resets or long waits that nobody else \
         reproduces. Ask the network team which device inspects or filters TLS on this path \
         and to update it or change its mode: FortiGate flow-based deep inspection, for \
         one, resets ML-KEM hellos where proxy-based inspection does not; other firewalls \
         and servers that break this way are listed at tldr.fail. Until it is fixed, exempt \
         this server from inspection. Turning post-quantum key agreement off in browsers \
         (Chrome policy PostQuantumKeyAgreementEnabled) only hides the fault.",
    }
    IL109 {
        family: Tls, rank: 57, severity: Error, verdict: Degraded,
        place: Path, symptom: None,
        title: "HTTPS inspection is the likely cause of stalls on the path",
        remedy: "Stalls on the path and a chain anchored only in a root installed on this machine \
         are together the signature of an HTTPS-inspecting middlebox, but one vantage point \
         cannot prove it (a private PKI behind a slow network looks the same). Prove it: run \
         `interloper echo` beside the server and check again with --echo, or check the same \
         site from a network without inspection. If proven, ask your network team to bypass \
         inspection for this server.",
    }
    IL110 {
        family: Tls, rank: 63, severity: Error, verdict: Failing,
        place: Path, symptom: None,
        title: "TLS handshake refused with an alert",
        remedy: "One side refused the handshake with a fatal alert, seen in a capture. From the \
         client (unknown_ca, bad_certificate) it means the certificate presented was not \
         trusted — often a middlebox's own; from the server (handshake_failure, \
         protocol_version) the hello was not acceptable. Compare the hello that reached \
         the server with the browser's (interloper pcap shows both JA4s).",
    }
    IL111 {
        family: Tls, rank: 193, severity: Info, verdict: Notice,
        place: Path, symptom: None,
        title: "Different TLS clients for one server name",
        remedy: "Connections to the same server name carry ClientHellos with different JA4 \
         fingerprints. Several browsers do this too; but when the capture was taken on the \
         server and the users all run one browser, a hello that is not theirs comes from \
         something that re-originates their connections (an inspecting proxy).",
    }
    IL112 {
        family: Tls, rank: 45, severity: Error, verdict: Failing,
        place: Path, symptom: None,
        title: "Certificate chain not trusted by this client",
        remedy: "This client refuses the certificate chain it was given, so every request over it \
         fails here before a byte of HTTP is exchanged (browsers show \
         NET::ERR_CERT_AUTHORITY_INVALID or a similar certificate warning); no reset, timeout \
         or load balancer is involved, and interloper sends no cookie or credential over it. \
         Who issued the chain says which case it is. An issuer that is neither a public CA nor \
         the server's own is most often an HTTPS-inspecting middlebox (firewall, proxy, \
         antivirus) whose CA this machine lacks: install your organisation's inspection CA on \
         this machine (ask the team that runs the box), or ask them to bypass inspection for \
         this server. If the same chain is presented from a network without inspection, the \
         server is misconfigured: install a certificate from a CA your clients trust, with its \
         full chain (nginx: ssl_certificate pointing at the fullchain file).",
    }
    IL113 {
        family: Tls, rank: 67, severity: Error, verdict: Failing,
        place: Server, symptom: None,
        title: "Server sends an incomplete certificate chain",
        remedy: "The server sends its certificate without the intermediate certificate(s) that \
         link it to a trusted root. Desktop browsers (Chrome, Edge, Safari; Firefox from its \
         preloaded list) fetch the missing one from the address in the certificate (AIA) and \
         show nothing wrong; curl, wget, Python (requests, urllib), Java, Go, Node.js, \
         Android apps and many middleboxes and proxies do not, and fail with \
         \"unable to get local issuer certificate\" / \"unknown issuer\". Serve the full \
         chain: nginx's `ssl_certificate` must name the fullchain file (leaf first, then each \
         intermediate; Let's Encrypt's `fullchain.pem`, not `cert.pem`), Apache's \
         SSLCertificateFile likewise; then reload and check again.",
    }
    IL201 {
        family: Delivery, rank: 110, severity: Error, verdict: Degraded,
        place: Path, symptom: Some("stalls"),
        title: "Intermittent stalls",
        remedy: "Some requests wait seconds in one phase while the rest are fast. Stalls in the \
         TLS or header phase that the server does not see (compare --echo or the server's \
         $request_time) come from the path: inspection, a proxy, or packet loss.",
    }
    IL202 {
        family: Delivery, rank: 130, severity: Error, verdict: Failing,
        place: Path, symptom: Some("failed requests"),
        title: "Requests failed",
        remedy: "Connections were reset or timed out. Check the load balancer's and the \
         firewall's logs for client-ended or timed-out connections at these times.",
    }
    IL203 {
        family: Delivery, rank: 100, severity: Error, verdict: Failing,
        place: Path, symptom: Some("truncated files"),
        title: "Truncated bodies",
        remedy: "Fewer bytes arrived than Content-Length announced. Something closed the \
         connection mid-body: a proxy or scanner with a size or time limit, or an \
         upstream timeout.",
    }
    IL204 {
        family: Delivery, rank: 40, severity: Critical, verdict: Failing,
        place: Path, symptom: Some("altered content"),
        title: "Content differs from its hashed name or SRI",
        remedy: "The bytes received are not the bytes the file's name or integrity attribute \
         promises. Either the deployment is inconsistent (re-run collectstatic and \
         redeploy) or something on the path rewrites responses.",
    }
    IL205 {
        family: Delivery, rank: 120, severity: Warning, verdict: Degraded,
        place: Path, symptom: Some("trickled bodies"),
        title: "Body trickled slowly",
        remedy: "The body arrived at a steady low rate over seconds. Scanners that hold and \
         release content, traffic shaping or a congested link do this.",
    }
    IL206 {
        family: Delivery, rank: 80, severity: Error, verdict: Degraded,
        place: Path, symptom: Some("one address misbehaving"),
        title: "One address or IP family misbehaves",
        remedy: "Requests to one resolved address (or to IPv6 vs IPv4) fail or stall while the \
         others are fine. Check that instance, its route, and any firewall rule that \
         applies only to it.",
    }
    IL207 {
        family: Delivery, rank: 70, severity: Error, verdict: Degraded,
        place: Path, symptom: Some("large files stalling or failing"),
        title: "Only large bodies stall or fail",
        remedy: "Small responses are fine and large ones stall or fail: typical of an MTU / \
         fragmentation problem on the path or a scanner that buffers whole files.",
    }
    IL208 {
        family: Delivery, rank: 90, severity: Warning, verdict: Degraded,
        place: Path, symptom: Some("one HTTP version misbehaving"),
        title: "Only one HTTP version misbehaves",
        remedy: "Problems appear only over HTTP/2 or only over HTTP/1.1. A middlebox that \
         handles one protocol badly, or a server setting that differs between them.",
    }
    IL209 {
        family: Delivery, rank: 135, severity: Error, verdict: Failing,
        place: Server, symptom: Some("bodies that never end"),
        title: "Responses never end",
        remedy: "The body was still arriving when the request's time ran out: the response has \
         no end (a stream where a file belongs, a proxy or application that keeps \
         writing) or comes too slowly ever to finish. Browsers wait on it, and a page \
         that needs it never finishes loading. Check what the server (or the proxy in \
         front of it) sends for this URL: `curl -v --max-time 10 URL | wc -c`.",
    }
    IL210 {
        family: Delivery, rank: 132, severity: Warning, verdict: Degraded,
        place: Path, symptom: Some("requests that never got a response"),
        title: "Requests that never got a response",
        remedy: "The browser sent these requests (or was about to) and no response ever came: \
         still pending when the HAR was saved, or cancelled by the page or the user after \
         waiting. Requests left pending behind a stall are the stall's doing: look at the \
         other findings first; otherwise record the HAR again, waiting until the page has \
         finished loading.",
    }
    IL211 {
        family: Delivery, rank: 192, severity: Warning, verdict: Degraded,
        place: Path, symptom: Some("long queueing"),
        title: "Long queueing before the request",
        remedy: "The browser held these requests in its own queue before sending them: every \
         connection it may open to the host (six over HTTP/1.1) was busy. Connections held \
         by stalled responses cause this; so do many files over HTTP/1.1. Fix the stalls \
         first; serving over HTTP/2 or bundling files removes the queue.",
    }
    IL212 {
        family: Delivery, rank: 113, severity: Error, verdict: Failing,
        place: Path, symptom: Some("connections dropped by the server side"),
        title: "Connection dropped by the server side",
        remedy: "The capture shows the server's side of the connection ending it (a reset, or a \
         close while a request waited for its answer). When the capture point sits between \
         a proxy and the client, that side is the proxy: look at its logs and at the \
         origin's for the same moment (interloper pcap shows both legs when both are in \
         the capture).",
    }
    IL213 {
        family: Delivery, rank: 133, severity: Warning, verdict: Degraded,
        place: Path, symptom: Some("connections dropped by the client side"),
        title: "Connection dropped by the client side",
        remedy: "The client's side ended the connection while a request was unanswered or a \
         response was arriving (a reset, or a close). Browsers do this when they give up \
         waiting; a proxy does it when its own timeout is shorter than the server's answer. \
         Look at what made the answer slow (the same capture's waits and gaps).",
    }
    IL214 {
        family: Delivery, rank: 143, severity: Warning, verdict: Degraded,
        place: Path, symptom: Some("packet loss"),
        title: "Retransmissions or zero windows",
        remedy: "Segments were sent again (loss on the path) or a receiver advertised a zero \
         window (it could not keep up). Loss on one leg only points at that link or device; \
         zero windows point at the receiving host or a proxy buffering.",
    }
    IL215 {
        family: Delivery, rank: 73, severity: Error, verdict: Failing,
        place: Path, symptom: Some("large hellos unanswered"),
        title: "Large ClientHello never answered",
        remedy: "A ClientHello that needed several TCP segments (post-quantum key shares make \
         them larger than one packet) got no ServerHello while smaller ones did, or none \
         did. A device on the path that drops or cannot reassemble multi-segment hellos \
         (old firewalls, an MTU problem) does this; ask for it to be updated or the path \
         MTU fixed.",
    }
    IL216 {
        family: Delivery, rank: 138, severity: Warning, verdict: Degraded,
        place: Server, symptom: None,
        title: "Kept-alive connections closed under requests",
        remedy: "Requests sent over connections kept open between requests found them closed \
         before any answer, after the connections had sat idle a while: the server (or an \
         upstream behind the load balancer) closes idle connections sooner than the client \
         or load balancer in front stops reusing them. Browsers send such a GET again \
         silently, at the cost of a new connection; a POST fails. Make each hop's keep-alive \
         timeout longer than the idle timeout of the hop in front of it (nginx \
         `keepalive_timeout` above the load balancer's idle timeout, or lower the load \
         balancer's).",
    }
    IL301 {
        family: Assets, rank: 140, severity: Error, verdict: Failing,
        place: Server, symptom: None,
        title: "Asset not found (404)",
        remedy: "The page references a file the server does not have. Run collectstatic and \
         check the STATIC_ROOT / nginx alias. \
         On the server, `interloper lint --nginx-t --manage manage.py` checks the usual \
         causes in seconds (docs/lint.md).",
    }
    IL302 {
        family: Assets, rank: 150, severity: Error, verdict: Failing,
        place: Server, symptom: None,
        title: "Asset forbidden (403)",
        remedy: "The server refuses to read the file: usually ownership or permissions on the \
         file or a parent directory (the nginx worker user needs read and execute). \
         On the server, `interloper lint --nginx-t --manage manage.py` checks the usual \
         causes in seconds (docs/lint.md).",
    }
    IL303 {
        family: Assets, rank: 170, severity: Error, verdict: Failing,
        place: Server, symptom: None,
        title: "Wrong Content-Type under nosniff",
        remedy: "With X-Content-Type-Options: nosniff, browsers refuse CSS and JS served with \
         the wrong type. Fix the server's MIME types (nginx: include mime.types). \
         On the server, `interloper lint --nginx-t --manage manage.py` checks the usual \
         causes in seconds (docs/lint.md).",
    }
    IL304 {
        family: Assets, rank: 180, severity: Warning, verdict: Notice,
        place: Server, symptom: None,
        title: "Instances serve different static versions",
        remedy: "The instances behind one name serve different builds of the static files. \
         Redeploy so every instance has the same collectstatic output. \
         On the server, `interloper lint --nginx-t --manage manage.py` checks the usual \
         causes in seconds (docs/lint.md).",
    }
    IL305 {
        family: Assets, rank: 210, severity: Info, verdict: Notice,
        place: Server, symptom: None,
        title: "Hashed assets without long-lived caching",
        remedy: "Files with content hashes in their names never change, so they can be cached \
         for a year: add `expires max;` or `Cache-Control: public, max-age=31536000, \
         immutable` for them.",
    }
    IL306 {
        family: Assets, rank: 160, severity: Error, verdict: Failing,
        place: Server, symptom: None,
        title: "Asset answered with a server error",
        remedy: "The server (or a proxy in front of it) answered 5xx for a static file. Check \
         the error log of the answering hop.",
    }
    IL307 {
        family: Assets, rank: 165, severity: Error, verdict: Failing,
        place: Server, symptom: None,
        title: "Response expands past the decompression limit",
        remedy: "A compressed body expands to more than the decoding limit at a ratio no real \
         file has (a decompression bomb): browsers abandon it or exhaust memory. Find \
         what serves it (a misconfigured Content-Encoding, a cache holding a corrupted \
         object, or a hostile server) and serve the real file.",
    }
    IL308 {
        family: Assets, rank: 175, severity: Error, verdict: Failing,
        place: Server, symptom: None,
        title: "Redirect loop",
        remedy: "The URL redirects again and again and never reaches a file: browsers give up \
         (ERR_TOO_MANY_REDIRECTS). Look for two rules sending requests to each other \
         (http↔https, a trailing slash, the load balancer and nginx both redirecting).",
    }
    IL309 {
        family: Assets, rank: 185, severity: Error, verdict: Failing,
        place: Server, symptom: None,
        title: "Redirect to a scheme browsers do not follow",
        remedy: "The URL redirects to a non-HTTP location (file:, ftp:, data:, javascript:…), \
         which browsers refuse for a page's resources. Fix the redirect rule so it points \
         at an http(s) URL.",
    }
    IL310 {
        family: Assets, rank: 990, severity: Warning, verdict: Incomplete,
        place: Server, symptom: None,
        title: "Page could not be examined; the check is incomplete",
        remedy: "The page (or a stylesheet it loads) could not be read for the files it \
         references — it did not decode, was a decompression bomb, was over the size limit, \
         redirected in a loop, answered an error page or was not HTML — so those files were \
         not checked: the verdict covers only what was read. Fix what the evidence names (or \
         give the URL of the real HTML page) and check again.",
    }
    IL401 {
        family: Instances, rank: 200, severity: Warning, verdict: Notice,
        place: Path, symptom: None,
        title: "One instance differs from its siblings",
        remedy: "Of several instances of the same app, this one behaves differently. Compare \
         the path to it (firewall rules, inspection policy, routing) with the others'.",
    }
    IL501 {
        family: Logs, rank: 240, severity: Warning, verdict: Failing,
        place: Path, symptom: None,
        title: "Clients gave up on static files (log)",
        remedy: "The log shows requests for static files ended by the client (nginx 499, \
         HAProxy C/c, Avi client aborts): browsers waited, then left. Find where the \
         wait came from: run `interloper check` on the page from a user's network, and \
         look for a proxy or inspection device on the path.",
    }
    IL502 {
        family: Logs, rank: 250, severity: Warning, verdict: Failing,
        place: Path, symptom: None,
        title: "Static files sent partly (log)",
        remedy: "The log records bodies shorter than the same file's usual size: the \
         connection ended mid-file. A middlebox that cuts or resets long transfers, or \
         clients leaving because the transfer stalled. Check the path for the affected \
         backend or clients.",
    }
    IL503 {
        family: Logs, rank: 260, severity: Warning, verdict: Degraded,
        place: Path, symptom: None,
        title: "Slow static responses (log)",
        remedy: "Static files took seconds to serve. When the backend answered fast and the time \
         went into delivering to the client, the delay is between the proxy and the \
         client (inspection, shaping, a congested link); when the backend was slow, look \
         at the backend and the path to it.",
    }
    IL504 {
        family: Logs, rank: 220, severity: Error, verdict: Failing,
        place: Path, symptom: None,
        title: "One backend stands out (log)",
        remedy: "Static requests through one backend time out, fail or are abandoned while \
         its siblings serve the same files cleanly. Compare the path to it (firewall \
         rules, HTTPS inspection, routing) with the others', then `interloper check` \
         it directly.",
    }
    IL505 {
        family: Logs, rank: 230, severity: Error, verdict: Failing,
        place: Path, symptom: None,
        title: "Backend timed out or failed on static files (log)",
        remedy: "The proxy waited for the backend and gave up (nginx 504, HAProxy s…) or the \
         backend failed (502, S…). A device between the proxy and the backend that holds \
         connections, or an overloaded backend: check the proxy's error log and the path \
         to the backend.",
    }
    IL506 {
        family: Logs, rank: 236, severity: Warning, verdict: Degraded,
        place: Path, symptom: None,
        title: "Upstream tries failed on a backend (log)",
        remedy: "nginx tried this backend, the try failed (refused, reset, timed out, or an \
         answer nginx retries on) and nginx passed the request to the next server: users \
         got their file, later. Check the backend's health and the path from the proxy to \
         it (a device between them that drops or holds connections); the report gives the \
         connect and header time of each try.",
    }
    IL601 {
        family: Lint, rank: 300, severity: Error, verdict: Failing,
        place: Server, symptom: None,
        title: "No nginx location serves the static files",
        remedy: "Requests under STATIC_URL reach no location that serves files from disk: they go to the \
         application (which, with DEBUG off and no WhiteNoise, answers 404) or to nothing. Add \
         `location /static/ { alias /path/to/STATIC_ROOT/; }` to the server that serves the site.",
    }
    IL602 {
        family: Lint, rank: 305, severity: Error, verdict: Failing,
        place: Server, symptom: None,
        title: "`alias` and its location disagree on the trailing slash",
        remedy: "nginx replaces the location's prefix with the alias: `location /static/ { alias /srv/static; }` \
         looks for /srv/staticapp.css. End both with a slash (or neither, which also exposes \
         the alias's parent directory to `/static../` requests).",
    }
    IL603 {
        family: Lint, rank: 310, severity: Error, verdict: Failing,
        place: Server, symptom: None,
        title: "`root` used where `alias` was meant",
        remedy: "`root` appends the whole URI to the directory: `location /static/ { root /srv/static; }` \
         looks for /srv/static/static/app.css. Use `alias /srv/static/;`, or set `root` to the \
         parent of the static directory.",
    }
    IL604 {
        family: Lint, rank: 315, severity: Error, verdict: Failing,
        place: Server, symptom: None,
        title: "A regex location captures static files first",
        remedy: "nginx tries regex locations before using the longest prefix match, so a `location ~ \\.(css|js)$` \
         (often one that proxies to the app or sets another root) answers static files instead \
         of the static location. Mark the static location `location ^~ /static/ { … }` so \
         regexes are not tried for it.",
    }
    IL605 {
        family: Lint, rank: 370, severity: Warning, verdict: Notice,
        place: Server, symptom: None,
        title: "`try_files` sends missing static files to the application",
        remedy: "A file missing from disk is passed to the app (`try_files $uri @app` or `/index.html`), which \
         answers its own 404 page or an HTML page with status 200 where CSS or JavaScript was \
         expected. End the static location's `try_files` with `=404`, or drop it.",
    }
    IL606 {
        family: Lint, rank: 325, severity: Warning, verdict: Notice,
        place: Server, symptom: None,
        title: "MIME types not loaded for static files",
        remedy: "Without `include mime.types;` (or a `types` block that maps css and js) nginx sends every file \
         as `default_type`; with `X-Content-Type-Options: nosniff` browsers then refuse \
         stylesheets and scripts. Add `include /etc/nginx/mime.types;` in `http`.",
    }
    IL607 {
        family: Lint, rank: 390, severity: Info, verdict: Notice,
        place: Server, symptom: None,
        title: "Hashed static files without long-lived caching (config)",
        remedy: "Files whose names carry a content hash never change: add `expires max;` (or \
         `add_header Cache-Control \"public, max-age=31536000, immutable\";`) to the static location.",
    }
    IL608 {
        family: Lint, rank: 395, severity: Info, verdict: Notice,
        place: Server, symptom: None,
        title: "Static delivery settings left at slower values",
        remedy: "For files from disk nginx is fastest with `sendfile on; tcp_nopush on;`, an \
         `open_file_cache`, and gzip (or brotli) for text assets (`gzip on; gzip_types text/css \
         application/javascript …;`). None of these is a fault; each saves time under load.",
    }
    IL609 {
        family: Lint, rank: 360, severity: Warning, verdict: Notice,
        place: Server, symptom: None,
        title: "Static files pass through an upstream with buffering off or short timeouts",
        remedy: "The static location proxies to an upstream (WhiteNoise, a storage service) with \
         `proxy_buffering off` or a read/send timeout short enough to cut a large file on a slow \
         link. Serve static files from disk, or keep buffering on and the timeouts at 60s or more.",
    }
    IL610 {
        family: Lint, rank: 320, severity: Error, verdict: Failing,
        place: Server, symptom: None,
        title: "The web server's user cannot read the static files",
        remedy: "nginx's workers run as an unprivileged user (the `user` directive) that needs the execute \
         bit on every directory down to each file and read permission on the file; otherwise \
         nginx answers 403. Apply the chmod/chown line given for each path.",
    }
    IL611 {
        family: Lint, rank: 318, severity: Error, verdict: Failing,
        place: Server, symptom: None,
        title: "STATIC_ROOT is missing or empty",
        remedy: "The directory collectstatic fills does not exist here or holds nothing: run `manage.py \
         collectstatic --noinput` (in the image or container that serves the files), and check \
         that a volume is not mounted over it.",
    }
    IL612 {
        family: Lint, rank: 312, severity: Error, verdict: Failing,
        place: Server, symptom: None,
        title: "nginx serves another directory than STATIC_ROOT",
        remedy: "The directory nginx reads static files from is not Django's STATIC_ROOT (or STATIC_URL is \
         not the location nginx serves), so nginx answers 404 for what collectstatic wrote, or \
         serves an old copy. Point the `alias` at STATIC_ROOT, or STATIC_ROOT at it.",
    }
    IL613 {
        family: Lint, rank: 328, severity: Error, verdict: Failing,
        place: Server, symptom: None,
        title: "staticfiles.json missing or unreadable",
        remedy: "The storage is ManifestStaticFilesStorage (or a Compressed/WhiteNoise variant), which needs \
         STATIC_ROOT/staticfiles.json: without it every `{% static %}` raises (500) or names \
         unhashed files. Run `manage.py collectstatic --noinput` again.",
    }
    IL614 {
        family: Lint, rank: 330, severity: Error, verdict: Failing,
        place: Server, symptom: None,
        title: "Hashed files named by the manifest are missing",
        remedy: "staticfiles.json names hashed files that are not in STATIC_ROOT: pages link to them and \
         get 404. The files were deleted, collected elsewhere, or the manifest comes from \
         another build. Run collectstatic again where nginx reads the files.",
    }
    IL615 {
        family: Lint, rank: 332, severity: Error, verdict: Failing,
        place: Server, symptom: None,
        title: "Hashed file content does not match its name",
        remedy: "A file's name promises the md5 of its content, and the content is different: it was \
         edited or replaced after collectstatic, or two builds were mixed. Run collectstatic \
         again (with --clear).",
    }
    IL616 {
        family: Lint, rank: 345, severity: Warning, verdict: Notice,
        place: Server, symptom: None,
        title: "Files in STATIC_ROOT unknown to the manifest",
        remedy: "STATIC_ROOT holds files the manifest does not know (hashed names of other builds, or files \
         of apps no longer installed): a stale or mixed build. Run `manage.py collectstatic \
         --noinput --clear` so only the current build remains.",
    }
    IL617 {
        family: Lint, rank: 350, severity: Warning, verdict: Notice,
        place: Server, symptom: None,
        title: "DEBUG is on",
        remedy: "DEBUG = True in production leaks settings and tracebacks and makes `django.contrib.staticfiles` \
         serve static files itself (slowly, and only with runserver). Set DEBUG = False and let \
         nginx (or WhiteNoise) serve the files.",
    }
    IL618 {
        family: Lint, rank: 316, severity: Warning, verdict: Notice,
        place: Server, symptom: None,
        title: "A mount covers STATIC_ROOT",
        remedy: "A volume or bind mount sits on STATIC_ROOT or a directory above it: what the container \
         sees there is the volume's content, not the files collected into the image — an empty \
         or older volume hides the current build. Collect static files into the volume at \
         start-up, or do not mount over STATIC_ROOT.",
    }
    IL619 {
        family: Lint, rank: 340, severity: Warning, verdict: Notice,
        place: Server, symptom: None,
        title: "Another instance has a different static build",
        remedy: "The manifest of another instance (--compare-manifest) lists other hashed names: the \
         instances serve different builds, so a page from one asks another for files it does \
         not have. Deploy the same build everywhere.",
    }
    IL620 {
        family: Lint, rank: 365, severity: Warning, verdict: Notice,
        place: Server, symptom: None,
        title: "WhiteNoise set up to serve slowly or not at all",
        remedy: "WhiteNoise's middleware must come right after SecurityMiddleware (above it, \
         nothing else answers static files first; below others, they run for every file), \
         and `WHITENOISE_AUTOREFRESH` / `WHITENOISE_USE_FINDERS` are for development: in \
         production they look files up on every request. Fix the order or the setting named.",
    }
    IL621 {
        family: Lint, rank: 303, severity: Error, verdict: Failing,
        place: Server, symptom: None,
        title: "ssl_certificate file lacks its intermediate chain",
        remedy: "The file nginx's `ssl_certificate` names holds the server's certificate but not \
         the intermediate certificate(s) up to a public (or the declared) root, so nginx sends \
         an incomplete chain: desktop browsers fetch the missing certificate (AIA) and work, \
         curl, Python, Java, Android apps and many middleboxes fail. Point \
         `ssl_certificate` at the fullchain file (Let's Encrypt's `fullchain.pem`, not \
         `cert.pem`; or append the CA's intermediate bundle after the certificate), then \
         `nginx -t` and reload.",
    }
    IL622 {
        family: Lint, rank: 397, severity: Info, verdict: Notice,
        place: Server, symptom: None,
        title: "nginx's static files do not name their instance",
        remedy: "The app names its instance in Server-Timing (interloper-django's middleware) but \
         the files nginx serves do not, so `interloper rum` cannot tie them to an instance. \
         Add `add_header Server-Timing 'inst;desc=\"NAME\"' always;` in the static location \
         (docs/rum.md).",
    }
    IL701 {
        family: Visits, rank: 410, severity: Critical, verdict: Intercepted,
        place: Path, symptom: None,
        title: "Visitors' connections are re-encrypted on the way",
        remedy: "The TLS hello that reached the server on these visits is not the one the \
         visitor's browser sends: something on their network (an inspection firewall, a \
         proxy, antivirus web protection) terminates TLS and opens its own connection. Ask \
         the network team of the affected visitors to bypass HTTPS inspection for this \
         server, then have them open the visit page again.",
    }
    IL702 {
        family: Visits, rank: 420, severity: Error, verdict: Degraded,
        place: Path, symptom: Some("stalls"),
        title: "Visitors' downloads stall on the path",
        remedy: "Downloads in visitors' own browsers took seconds while the witness answered \
         them at once: the time went between the server and the visitor. Compare the \
         affected visitors' networks (by client network in `interloper visits`) and look \
         for inspection or shaping there.",
    }
    IL703 {
        family: Visits, rank: 430, severity: Info, verdict: Notice,
        place: Path, symptom: None,
        title: "Visitors arrive through a proxy",
        remedy: "Requests carried Via, X-Forwarded-For or Forwarded headers: a proxy sits on \
         the visitors' path. That is not a fault by itself; if visits also show \
         interception or stalls, start with that proxy.",
    }
    IL710 {
        family: Visits, rank: 104, severity: Error, verdict: Degraded,
        place: Path, symptom: Some("stalls in users' browsers"),
        title: "One instance's static files stall in users' browsers",
        remedy: "Real users' browsers timed this instance's static files stalling or failing far \
         more often than its siblings', the time going into connecting, TLS setup or the \
         download: between the users and that instance. Compare its path with the others' \
         (a firewall or HTTPS inspection in front of it, its load-balancer member, routing), \
         then confirm from a user's network with `interloper check` against each instance.",
    }
    IL711 {
        family: Visits, rank: 106, severity: Error, verdict: Degraded,
        place: Server, symptom: Some("slow first bytes in users' browsers"),
        title: "One instance is slow to start answering its static files in users' browsers",
        remedy: "Real users' browsers waited for this instance's first byte far more often than \
         for its siblings': the request reached it and the answer was slow to start. Look at \
         that instance: its static file serving (nginx, WhiteNoise workers), its disk or \
         mounts, its upstream timeouts (`$upstream_response_time` in its log).",
    }
    IL712 {
        family: Visits, rank: 108, severity: Warning, verdict: Degraded,
        place: Path, symptom: Some("stalls from some networks"),
        title: "Static files stall only from some client networks",
        remedy: "Users on these client networks see stalls or failures that users elsewhere do \
         not: the path from those networks (their firewall, HTTPS inspection, proxy or \
         link). Ask someone there to open the witness's visit page or run `interloper check`.",
    }
    IL713 {
        family: Visits, rank: 440, severity: Info, verdict: Notice,
        place: Server, symptom: None,
        title: "Browsers timed files that name no instance",
        remedy: "These static responses carried no Server-Timing the page could read, so they \
         cannot be tied to an instance: add interloper-django's middleware (it covers \
         WhiteNoise) and the nginx `add_header Server-Timing` snippet for files nginx serves \
         (docs/rum.md); a file from another origin also needs `Timing-Allow-Origin`.",
    }
}

// Checked when the crate compiles: ranks are unique, and a code's family is its hundreds digit.
const _: () = {
    let mut i = 0;
    while i < ENTRIES.len() {
        let e = &ENTRIES[i];
        assert!(e.code as usize == i, "catalogue rows out of enum order");
        assert!(
            e.code.as_str().as_bytes()[2] == e.family.digit(),
            "a code's family must match its hundreds digit"
        );
        let mut j = i + 1;
        while j < ENTRIES.len() {
            assert!(e.rank != ENTRIES[j].rank, "two codes share a rank");
            j += 1;
        }
        i += 1;
    }
};

impl Code {
    /// The catalogue entry.
    pub fn entry(self) -> Entry {
        ENTRIES[self as usize]
    }

    /// How well the code explains others (lower first); see [`Entry::rank`].
    pub fn rank(self) -> u16 {
        self.entry().rank
    }

    /// Relative path of the code's documentation page.
    pub fn doc_path(self) -> String {
        self.entry().doc.to_string()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_belongs_to_its_code() {
        for (i, code) in Code::ALL.iter().enumerate() {
            let e = code.entry();
            assert_eq!(e.code, *code);
            assert_eq!(*code as usize, i);
            assert_eq!(e.doc, format!("docs/findings/{code}.md"));
            assert_eq!(Code::parse(code.as_str()), Some(*code));
        }
        assert_eq!(Code::parse("IL999"), None);
    }

    #[test]
    fn the_docs_index_lists_every_code_with_its_title_and_severity() {
        let index =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/findings/README.md");
        let text = std::fs::read_to_string(&index).expect("docs/findings/README.md");
        for code in Code::ALL {
            let e = code.entry();
            let row = format!(
                "| [{code}]({code}.md) | {} | {} |",
                e.title,
                e.severity.as_str()
            );
            assert!(text.contains(&row), "README.md lacks the row `{row}`");
        }
    }

    #[test]
    fn interception_codes_are_the_tls_codes_that_name_a_middlebox() {
        let interception: Vec<Code> = Code::ALL
            .iter()
            .copied()
            .filter(|c| c.entry().is_interception())
            .collect();
        assert_eq!(
            interception,
            vec![
                Code::IL101,
                Code::IL103,
                Code::IL104,
                Code::IL105,
                // The visit page's proof, from the server side (never in a check's findings).
                Code::IL701
            ]
        );
    }
}
