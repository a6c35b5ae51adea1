//! Discovery and verification: what the page loads, and whether each file's bytes are right.

use std::collections::BTreeMap;
use std::sync::Arc;

use interloper_assets::django::{self, MAX_MANIFEST_BYTES, Manifest};
use interloper_assets::verify::{Body, Check, Expect, Outcome, Policy, Response, verify_response};
use interloper_assets::{Asset, Crawl, Limits};
use interloper_findings::{AssetCheck, AssetCheckKind};
use interloper_model::{RequestRecord, TlsInfo};
use interloper_probe::{ConnectionPolicy, Probe, Target};
use sha2::{Digest, Sha256};
use url::Url;

use std::time::Instant;

use interloper_model::{ErrorKind, Phase};

use crate::{CheckError, CheckOptions, ManifestSource, TargetObserver};

/// Redirects followed for the page, a stylesheet or the manifest.
const MAX_REDIRECTS: usize = 5;

/// Attempts at a document discovery must read (the page, a stylesheet). A path that fails now
/// and then must not hide what the document references: a truncated stylesheet would otherwise
/// silently drop every image it names from the check.
const DOCUMENT_ATTEMPTS: usize = 3;

/// What discovery found for one target.
#[derive(Debug, Clone)]
pub struct Discovered {
    /// The page as finally fetched (after redirects).
    pub page: Url,
    /// The page's own request.
    pub page_record: RequestRecord,
    /// Assets to sample, page first excluded, in discovery order.
    pub assets: Vec<Asset>,
    /// The verification request of each asset (by URL), kept as the first sample.
    pub first_records: BTreeMap<String, RequestRecord>,
    /// Failed attempts at a document before the one kept (by URL): evidence like any sample.
    pub failed_attempts: BTreeMap<String, Vec<RequestRecord>>,
    /// Failed integrity / header checks per asset URL.
    pub checks: BTreeMap<String, Vec<AssetCheck>>,
    /// Assets whose bytes were verified against a hashed name or SRI: immutable, so every
    /// later response must carry the same bytes.
    pub verified_content: std::collections::BTreeSet<String>,
    /// Django manifest hash (or a digest of the hashed names) identifying the static build.
    pub static_version: Option<String>,
    /// TLS session of the page fetch.
    pub tls: Option<TlsInfo>,
    /// Things worth telling the user.
    pub notes: Vec<String>,
}

/// Why a chain of redirects ended without a final answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedirectStop {
    /// Still redirecting after [`MAX_REDIRECTS`] hops (a loop, or a chain no browser follows).
    TooMany {
        /// The URL it was sent to last.
        next: String,
    },
    /// Redirected to a scheme we do not follow (`file:`, `ftp:`, `data:`, `javascript:`…).
    Scheme {
        /// The `Location` as given.
        location: String,
    },
    /// Redirected to a host outside the ones this check may reach (an exporter's policy).
    OutOfScope {
        /// The URL it was sent to.
        next: String,
    },
}

impl RedirectStop {
    /// The failed check a redirect that stopped is, for the findings; none for our own
    /// policy's refusal, which says nothing about the site.
    fn check(&self, url: &Url) -> Option<AssetCheck> {
        let (kind, actual) = match self {
            RedirectStop::TooMany { next } => (AssetCheckKind::RedirectLoop, next.clone()),
            RedirectStop::Scheme { location } => {
                (AssetCheckKind::RedirectNotFollowed, location.clone())
            }
            RedirectStop::OutOfScope { .. } => return None,
        };
        Some(AssetCheck {
            kind,
            expected: Some(format!(
                "an http(s) answer within {MAX_REDIRECTS} redirects"
            )),
            actual: Some(actual),
            detail: self.describe(url),
        })
    }

    /// Why the URL could not be read, without the URL (for a document not examined).
    fn reason(&self) -> String {
        match self {
            RedirectStop::TooMany { next } => format!(
                "it still redirects after {MAX_REDIRECTS} hops (next: {next}): a redirect loop"
            ),
            RedirectStop::Scheme { location } => {
                format!("it redirects to {location:?}, which is not http(s) and is not followed")
            }
            RedirectStop::OutOfScope { next } => {
                format!("it redirects to {next}, a host this check may not reach")
            }
        }
    }

    /// One sentence for the report.
    pub fn describe(&self, url: &Url) -> String {
        match self {
            RedirectStop::TooMany { next } => format!(
                "{url} still redirects after {MAX_REDIRECTS} hops (next: {next}): a redirect loop"
            ),
            RedirectStop::Scheme { location } => {
                format!("{url} redirects to {location:?}, which is not http(s) and is not followed")
            }
            RedirectStop::OutOfScope { next } => {
                format!("{url} redirects to {next}, a host this check may not reach; not followed")
            }
        }
    }
}

/// A fetched document: its record, its final URL, and its (bounded) body.
struct Fetched {
    record: RequestRecord,
    url: Url,
    body: Vec<u8>,
    redirects: Vec<interloper_assets::verify::Redirect>,
    /// Why the redirects stopped before an answer, if they did.
    stop: Option<RedirectStop>,
}

/// Where discovery may go: how much to keep, until when, and which hosts redirects may reach.
struct Reach<'a> {
    keep: usize,
    deadline: Instant,
    redirect_hosts: Option<&'a [String]>,
}

impl Reach<'_> {
    fn allows(&self, next: &Url) -> bool {
        self.redirect_hosts.is_none_or(|hosts| {
            next.host_str()
                .is_some_and(|h| hosts.iter().any(|a| a.eq_ignore_ascii_case(h)))
        })
    }
}

async fn fetch(probe: &Probe, url: &Url, reach: &Reach<'_>) -> Fetched {
    let (keep, deadline) = (reach.keep, reach.deadline);
    let mut current = url.clone();
    let mut redirects = Vec::new();
    let mut session = probe.session(ConnectionPolicy::Fresh);
    session.set_deadline(Some(deadline));
    loop {
        let (record, body) = match Target::from_url(current.clone()) {
            Ok(target) => session.request_keeping_body(&target, 0, keep).await,
            // Only the first URL can get here (redirects are checked below), and discovery only
            // asks for http(s) URLs.
            Err(e) => (unrequested(&current, &e.to_string()), Vec::new()),
        };
        let location = record
            .headers
            .iter()
            .find(|(k, _)| k == "location")
            .map(|(_, v)| v.clone());
        let (status, loc) = match (record.status, location) {
            (Some(s @ (301 | 302 | 303 | 307 | 308)), Some(loc)) => (s, loc),
            _ => {
                return Fetched {
                    record,
                    url: current,
                    body,
                    redirects,
                    stop: None,
                };
            }
        };
        let next = current.join(&loc).ok();
        let stop = match &next {
            None => None,
            Some(n) if !matches!(n.scheme(), "http" | "https") => Some(RedirectStop::Scheme {
                location: loc.clone(),
            }),
            Some(n) if redirects.len() >= MAX_REDIRECTS => Some(RedirectStop::TooMany {
                next: n.to_string(),
            }),
            Some(n) if !reach.allows(n) => Some(RedirectStop::OutOfScope {
                next: n.to_string(),
            }),
            Some(_) => None,
        };
        let (Some(next), None) = (next, &stop) else {
            return Fetched {
                record,
                url: current,
                body,
                redirects,
                stop,
            };
        };
        redirects.push(interloper_assets::verify::Redirect {
            status,
            from: current.clone(),
            location: loc,
        });
        current = next;
    }
}

impl Fetched {
    /// The response facts the integrity checks read; the body only when it was kept whole.
    fn response(&self) -> Response<'_> {
        let kept_all =
            self.record.error.is_none() && (self.body.len() as u64) == self.record.bytes_received;
        Response {
            url: &self.url,
            status: self.record.status.unwrap_or(0),
            headers: &self.record.headers,
            redirects: &self.redirects,
            body: if kept_all {
                Body::Wire(&self.body)
            } else {
                Body::None
            },
            bytes_received: Some(self.record.bytes_received),
        }
    }
}

/// A record for a URL that could not be requested at all.
fn unrequested(url: &Url, why: &str) -> RequestRecord {
    RequestRecord {
        error: Some(interloper_model::RequestError {
            kind: ErrorKind::Other,
            phase: Phase::Connect,
            message: why.to_string(),
        }),
        ..RequestRecord::new(0, url.to_string(), 0.0)
    }
}

/// A document fetched until it loads or [`DOCUMENT_ATTEMPTS`] are spent.
struct Document {
    /// The last attempt: the one that loaded, or the last failure.
    fetched: Fetched,
    /// The attempts that failed before it.
    failed: Vec<RequestRecord>,
}

impl Document {
    fn loaded(&self) -> bool {
        !failed_transiently(&self.fetched.record)
    }

    /// A line for the report when the document did not load at once.
    fn note(&self, what: &str) -> Option<String> {
        let first = self.failed.first()?;
        let why = describe_failure(first);
        Some(if self.loaded() {
            format!(
                "discovery: {what} {} failed {} before it loaded ({why}); the failures count as samples",
                self.fetched.url,
                match self.failed.len() {
                    1 => "once".to_string(),
                    n => format!("{n} times"),
                }
            )
        } else {
            format!(
                "discovery: {what} {} failed on all {} attempts ({}); files it references are not examined",
                self.fetched.url,
                self.failed.len() + 1,
                describe_failure(&self.fetched.record)
            )
        })
    }
}

/// Whether a response is worth asking for again: a transport failure (reset, timeout, body cut
/// short) or a server error. A 404 is an answer, not an accident; so are a body that never ends,
/// one over the size limit, a server that does not speak TLS or a chain we do not trust (asking
/// again only spends the budget on the same answer); and our own deadline ends the retries.
fn failed_transiently(r: &RequestRecord) -> bool {
    match &r.error {
        Some(e) => !matches!(
            e.kind,
            ErrorKind::BodyEndless
                | ErrorKind::BodyTooLarge
                | ErrorKind::NotTls
                | ErrorKind::TlsCertificate
                | ErrorKind::Cancelled
        ),
        None => r.status.is_some_and(|s| s >= 500),
    }
}

fn describe_failure(r: &RequestRecord) -> String {
    match (&r.error, r.status) {
        (Some(e), _) => e.message.clone(),
        (None, Some(s)) => format!("status {s}"),
        (None, None) => "no response".into(),
    }
}

async fn fetch_document(probe: &Probe, url: &Url, reach: &Reach<'_>) -> Document {
    let deadline = reach.deadline;
    let mut failed = Vec::new();
    loop {
        let fetched = fetch(probe, url, reach).await;
        if failed.len() + 1 >= DOCUMENT_ATTEMPTS
            || !failed_transiently(&fetched.record)
            || Instant::now() >= deadline
        {
            return Document { fetched, failed };
        }
        failed.push(fetched.record);
    }
}

fn header<'a>(r: &'a RequestRecord, name: &str) -> Option<&'a str> {
    r.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The document's body decoded per its Content-Encoding, or why it does not decode.
fn decoded(f: &Fetched, limit: usize) -> Result<Vec<u8>, interloper_assets::decode::DecodeError> {
    interloper_assets::decode::decode(header(&f.record, "content-encoding"), &f.body, limit)
        .map(|c| c.into_owned())
}

/// The body to read references from; an undecodable one is said in a note (the integrity
/// checks report it as a finding) and read as empty.
fn readable(f: &Fetched, limit: usize, what: &str, notes: &mut Vec<String>) -> Vec<u8> {
    match decoded(f, limit) {
        Ok(b) => b,
        Err(e) => {
            notes.push(format!(
                "discovery: {what} {} does not decode ({e}); files it references are not examined",
                f.url
            ));
            Vec::new()
        }
    }
}

/// Fetch the page and its stylesheets, find the manifest, and verify every asset once.
pub async fn discover(
    target: &Target,
    opts: &CheckOptions,
    deadline: Instant,
    progress: &dyn TargetObserver,
) -> Result<Discovered, CheckError> {
    let mut run = Discovery {
        probe: Probe::new(opts.probe.clone())?,
        width: opts.concurrency.clamp(1, 64),
        limits: Limits::default(),
        reach: Reach {
            keep: opts.keep_body,
            deadline,
            redirect_hosts: opts.redirect_hosts.as_deref(),
        },
        notes: Vec::new(),
        failed_attempts: BTreeMap::new(),
        redirect_checks: Vec::new(),
        unexamined: Vec::new(),
    };
    let page = run.fetch_page(target).await;
    let tls = page.record.tls.clone();
    if let Some(session) = &tls {
        progress.handshake(session);
    }
    let mut crawl = Crawl::new(run.limits.clone());
    let page_ct = header(&page.record, "content-type").map(str::to_string);
    let page_body = run.document_body(&page, "the page");
    if page_body.is_some() {
        run.check_page_type(&page, page_ct.as_deref());
    }
    crawl.add_page(
        &page.url,
        page_body.as_deref().unwrap_or_default(),
        page_ct.as_deref(),
    );
    let mut fetched_sheets = run.fetch_stylesheets(&mut crawl, progress).await;
    let (inventory, crawl_notes) = crawl.finish();
    run.notes.extend(
        interloper_assets::summarise_notes(&crawl_notes)
            .into_iter()
            .map(|n| format!("discovery: {n}")),
    );
    let mut assets: Vec<Asset> = inventory
        .into_assets()
        .into_iter()
        .filter(|a| opts.cross_origin || !a.cross_origin)
        .collect();

    // Django's manifest: named by the user, or next to the static files.
    let urls: Vec<Url> = assets.iter().map(|a| a.url.clone()).collect();
    let static_url = django::infer_static_url(urls.iter());
    let manifest = run.find_manifest(opts, &urls).await;
    if opts.all_static
        && let (Some((m, murl)), Some(su)) = (&manifest, &static_url)
    {
        add_all_static(&mut assets, m, murl.as_ref(), su, &page.url);
    }
    let static_version = static_version(manifest.as_ref().map(|(m, _)| m), &assets);
    if assets.len() > opts.max_assets {
        run.notes.push(format!(
            "{} assets found; probing the first {}",
            assets.len(),
            opts.max_assets
        ));
        assets.truncate(opts.max_assets);
    }

    progress.stage(
        target.url.as_str(),
        "verifying assets",
        Some(assets.len() as u64),
    );
    let expectations = Expectations {
        page_origin: page.url.origin().ascii_serialization(),
        manifest: manifest.as_ref().map(|(m, _)| m),
        static_url: static_url.as_ref(),
    };
    let mut verified = run
        .verify_assets(&assets, &expectations, &mut fetched_sheets, progress)
        .await;
    // The page is checked like an asset (a corrupt or exploding encoding, a short body): it is
    // the first thing a browser loads.
    if page.record.status.is_some() && !verified.checks.contains_key(page.url.as_str()) {
        let failed = page_checks(&page);
        if !failed.is_empty() {
            verified.checks.insert(page.url.to_string(), failed);
        }
    }
    for (url, check) in run.redirect_checks {
        verified.checks.entry(url).or_default().push(check);
    }
    attach_unexamined(&mut verified.checks, run.unexamined, &assets, &page.url);
    // The page is what the browser loads first: its own request is evidence too (a refused
    // or stalled page is the first thing a user sees).
    verified
        .first_records
        .entry(page.url.to_string())
        .or_insert_with(|| page.record.clone());
    Ok(Discovered {
        page_record: page.record,
        page: page.url,
        assets,
        first_records: verified.first_records,
        failed_attempts: run.failed_attempts,
        checks: verified.checks,
        verified_content: verified.content,
        static_version,
        tls,
        notes: run.notes,
    })
}

/// Each document that could not be examined, as a failed check of its URL; one that is not
/// sampled (a cross-origin stylesheet) still left the check incomplete, so its check goes on
/// the page, which always has evidence.
fn attach_unexamined(
    checks: &mut BTreeMap<String, Vec<AssetCheck>>,
    unexamined: Vec<(String, AssetCheck)>,
    assets: &[Asset],
    page: &Url,
) {
    for (url, check) in unexamined {
        let on = if assets.iter().any(|a| a.url.as_str() == url) {
            url
        } else {
            page.to_string()
        };
        checks.entry(on).or_default().push(check);
    }
}

/// One discovery under way: how to fetch, and what it has gathered besides the assets.
struct Discovery<'a> {
    probe: Probe,
    /// Assets verified at once (the check's requests in flight per target).
    width: usize,
    limits: Limits,
    reach: Reach<'a>,
    /// Things worth telling the user.
    notes: Vec<String>,
    /// Failed attempts at a document before the one kept (by URL).
    failed_attempts: BTreeMap<String, Vec<RequestRecord>>,
    /// Redirect chains that stopped, as failed checks of the URL that started them.
    redirect_checks: Vec<(String, AssetCheck)>,
    /// Documents (the page, stylesheets) that could not be read for what they reference, as
    /// failed checks of their URL (IL310: the check is incomplete).
    unexamined: Vec<(String, AssetCheck)>,
}

/// What each asset's verification expects besides what the asset itself says.
struct Expectations<'a> {
    /// The page's origin (for cross-origin rules such as CORS on fonts).
    page_origin: String,
    /// Django's manifest, when found, for the hashed name each asset should carry.
    manifest: Option<&'a Manifest>,
    /// STATIC_URL as inferred from the assets.
    static_url: Option<&'a Url>,
}

/// What verifying every asset once found.
struct Verified {
    first_records: BTreeMap<String, RequestRecord>,
    checks: BTreeMap<String, Vec<AssetCheck>>,
    content: std::collections::BTreeSet<String>,
}

impl Discovery<'_> {
    /// Records that a document (`what`: "the page", "the stylesheet") could not be read for
    /// the files it references, and why: a failed check of its URL (IL310).
    fn not_examined(&mut self, url: &Url, what: &str, why: String) {
        self.unexamined.push((
            url.to_string(),
            AssetCheck {
                kind: AssetCheckKind::NotExamined,
                expected: Some(format!("{what} read whole for the files it references")),
                actual: Some(why.clone()),
                detail: format!("{what} {url} could not be examined: {why}"),
            },
        ));
    }

    /// A document whose answer cannot be read at all: a failed request, an error page, a
    /// redirect chain that stopped.
    fn check_answer(&mut self, f: &Fetched, what: &str) {
        let why = if let Some(stop) = &f.stop {
            stop.reason()
        } else if let Some(e) = &f.record.error {
            // A refused certificate is the diagnosis itself (IL112, IL113), not a gap in it:
            // nothing is ever sent over such a chain.
            if e.kind == interloper_model::ErrorKind::TlsCertificate {
                return;
            }
            format!("it failed ({})", e.message)
        } else if let Some(status) = f.record.status.filter(|s| *s >= 400) {
            format!("it answered {status}, an error page instead of the document")
        } else {
            return;
        };
        self.not_examined(&f.url, what, why);
    }

    /// The document's body decoded, or `None` (with a note and a check saying why) when it
    /// does not decode; a body cut at the size limit is read, and said to be partial.
    fn document_body(&mut self, f: &Fetched, what: &str) -> Option<Vec<u8>> {
        let body = match decoded(f, self.limits.max_decoded_bytes) {
            Ok(b) => b,
            Err(e) => {
                self.notes.push(format!(
                    "discovery: {what} {} does not decode ({e}); files it references are not examined",
                    f.url
                ));
                self.not_examined(&f.url, what, format!("it does not decode ({e})"));
                return None;
            }
        };
        let limit = self.limits.max_document_bytes;
        let kept_short = (f.body.len() as u64) < f.record.bytes_received;
        if kept_short || body.len() > limit {
            let read = if body.len() > limit {
                limit
            } else {
                f.body.len()
            };
            self.not_examined(
                &f.url,
                what,
                format!(
                    "it is over the size limit: only its first {} were read",
                    interloper_model::units::fmt_bytes(read as f64)
                ),
            );
        }
        Some(body)
    }

    /// A page that answered with something other than HTML (JSON, an image…): there is
    /// nothing in it to find files from. A stylesheet given as the URL is read as one.
    fn check_page_type(&mut self, page: &Fetched, content_type: Option<&str>) {
        let Some(ct) = content_type else {
            return;
        };
        let mime = ct.split(';').next().unwrap_or_default().trim();
        let readable = ["text/html", "application/xhtml+xml", "text/css"]
            .iter()
            .any(|m| mime.eq_ignore_ascii_case(m));
        if !readable && page.record.status.is_some_and(|s| s < 400) {
            let mime = interloper_model::text::printable_ascii(mime, 80);
            self.not_examined(
                &page.url,
                "the page",
                format!("it is {mime}, not HTML: there is nothing in it to find files from"),
            );
        }
    }

    /// The page, retried while it fails transiently, with what is worth saying about it.
    async fn fetch_page(&mut self, target: &Target) -> Fetched {
        let mut page_doc = fetch_document(&self.probe, &target.url, &self.reach).await;
        self.notes.extend(page_doc.note("the page"));
        // A page our deadline cut short did not load within the check's whole budget: for the
        // user that is a page that does not load, so it stays evidence, as a time-out.
        if let Some(e) = page_doc.fetched.record.error.as_mut()
            && e.kind == ErrorKind::Cancelled
        {
            e.kind = ErrorKind::Timeout;
            e.message = format!(
                "the page did not finish loading within the check's budget ({} body bytes received)",
                page_doc.fetched.record.bytes_received
            );
        }
        if !page_doc.failed.is_empty() {
            self.failed_attempts
                .insert(page_doc.fetched.url.to_string(), page_doc.failed);
        }
        let page = page_doc.fetched;
        if let Some(e) = &page.record.error {
            self.notes
                .push(format!("the page itself failed: {}", e.message));
        } else if page.record.status.is_some_and(|s| s >= 400) {
            self.notes.push(format!(
                "the page answered {}; assets come from what it returned",
                page.record.status.unwrap_or_default()
            ));
        }
        self.check_answer(&page, "the page");
        let looks_css =
            header(&page.record, "content-type").is_some_and(|c| c.contains("text/css"));
        if looks_css {
            // A stylesheet URL given directly: treat it as the only document.
            self.notes
                .push("the URL is a stylesheet; checking it and what it references".into());
        }
        if let Some(stop) = &page.stop {
            self.notes
                .push(format!("discovery: the page {}", stop.describe(&page.url)));
            self.redirect_checks
                .extend(stop.check(&page.url).map(|c| (page.url.to_string(), c)));
        }
        if page.url.host_str() != target.url.host_str() {
            self.notes.push(format!(
                "the page redirected to another host ({}): what it loads is examined under {}",
                page.url, target.url
            ));
        }
        page
    }

    /// Every stylesheet the crawl finds, fetched with its bytes kept (so it is verified on
    /// the way) and read for the files it references, until the deadline.
    async fn fetch_stylesheets(
        &mut self,
        crawl: &mut Crawl,
        progress: &dyn TargetObserver,
    ) -> BTreeMap<String, Fetched> {
        let mut fetched_sheets: BTreeMap<String, Fetched> = BTreeMap::new();
        let mut sheets_skipped = 0usize;
        while let Some(sheet) = crawl.next_stylesheet() {
            progress.step();
            if Instant::now() >= self.reach.deadline {
                sheets_skipped += 1;
                self.not_examined(
                    &sheet.url,
                    "the stylesheet",
                    "it was not fetched: the check's budget ran out during discovery".into(),
                );
                continue;
            }
            let doc = fetch_document(&self.probe, &sheet.url, &self.reach).await;
            self.notes.extend(doc.note("the stylesheet"));
            if !doc.failed.is_empty() {
                self.failed_attempts
                    .insert(sheet.url.to_string(), doc.failed);
            }
            let f = doc.fetched;
            let ct = header(&f.record, "content-type").map(str::to_string);
            if let Some(stop) = &f.stop {
                self.notes.push(format!(
                    "discovery: the stylesheet {}",
                    stop.describe(&sheet.url)
                ));
            }
            self.check_answer(&f, "the stylesheet");
            if f.record.error.is_none() && f.record.status.is_some_and(|s| s < 400) {
                let body = self.document_body(&f, "the stylesheet");
                crawl.add_stylesheet(&sheet, body.as_deref().unwrap_or_default(), ct.as_deref());
            }
            fetched_sheets.insert(sheet.url.to_string(), f);
        }
        if sheets_skipped > 0 {
            self.notes.push(format!(
                "the budget ran out during discovery: {sheets_skipped} stylesheet(s) not fetched"
            ));
        }
        fetched_sheets
    }

    /// Django's manifest and where it was found (`None`: the given file): the one the user
    /// named, else the first candidate next to the static files that answers 200. A manifest
    /// that does not parse is a note, not a manifest.
    async fn find_manifest(
        &mut self,
        opts: &CheckOptions,
        urls: &[Url],
    ) -> Option<(Manifest, Option<Url>)> {
        let (parsed, url) = match &opts.manifest {
            Some(ManifestSource::Bytes(b)) => {
                (Manifest::parse_limited(b, MAX_MANIFEST_BYTES), None)
            }
            // The engine reads a named file before the check starts (an unreadable one is the
            // user's error); a caller of this step alone gets a note instead.
            Some(ManifestSource::File(path)) => match std::fs::read(path) {
                Ok(b) => (Manifest::parse_limited(&b, MAX_MANIFEST_BYTES), None),
                Err(e) => {
                    self.notes
                        .push(format!("--manifest {}: {e}", path.display()));
                    return None;
                }
            },
            Some(ManifestSource::Url(u)) => {
                let f = fetch(&self.probe, u, &self.reach).await;
                let body = readable(
                    &f,
                    self.limits.max_decoded_bytes,
                    "the manifest",
                    &mut self.notes,
                );
                (
                    Manifest::parse_limited(&body, self.reach.keep),
                    Some(u.clone()),
                )
            }
            None => self.probe_manifest_candidates(urls).await?,
        };
        match parsed {
            Ok(m) => {
                let own = m.check_hash();
                if own.outcome == Outcome::Fail {
                    self.notes.push(format!("staticfiles.json: {}", own.detail));
                }
                Some((m, url))
            }
            Err(e) => {
                self.notes.push(format!(
                    "staticfiles.json at {}: {e}",
                    url.map(|u| u.to_string())
                        .unwrap_or_else(|| "the given file".into())
                ));
                None
            }
        }
    }

    /// The first manifest candidate next to the static files that answers 200, parsed.
    async fn probe_manifest_candidates(
        &mut self,
        urls: &[Url],
    ) -> Option<(Result<Manifest, django::ManifestError>, Option<Url>)> {
        for candidate in django::manifest_candidates(urls.iter()) {
            if Instant::now() >= self.reach.deadline {
                break;
            }
            let f = fetch(&self.probe, &candidate, &self.reach).await;
            if f.record.status == Some(200) {
                let body = readable(
                    &f,
                    self.limits.max_decoded_bytes,
                    "the manifest",
                    &mut self.notes,
                );
                return Some((
                    Manifest::parse_limited(&body, self.reach.keep),
                    Some(candidate),
                ));
            }
        }
        None
    }

    /// Verify each asset once, keeping its bytes (stylesheets were already fetched), until
    /// the deadline.
    async fn verify_assets(
        &mut self,
        assets: &[Asset],
        expectations: &Expectations<'_>,
        fetched_sheets: &mut BTreeMap<String, Fetched>,
        progress: &dyn TargetObserver,
    ) -> Verified {
        let mut verified = Verified {
            first_records: BTreeMap::new(),
            checks: BTreeMap::new(),
            content: std::collections::BTreeSet::new(),
        };
        let policy = Policy::default();
        let mut unverified = 0usize;
        let mut fetched = self.fetch_all(assets, fetched_sheets).await;
        for (i, asset) in assets.iter().enumerate() {
            progress.step();
            let f = match fetched_sheets.remove(asset.url.as_str()) {
                Some(f) => f,
                None => match fetched.remove(&i) {
                    Some(f) => f,
                    None => {
                        unverified += 1;
                        continue;
                    }
                },
            };
            if f.record
                .error
                .as_ref()
                .is_some_and(|e| e.kind == ErrorKind::Cancelled)
            {
                unverified += 1;
                continue;
            }
            if let Some(stop) = &f.stop {
                self.notes
                    .push(format!("discovery: {}", stop.describe(&asset.url)));
                self.redirect_checks
                    .extend(stop.check(&asset.url).map(|c| (asset.url.to_string(), c)));
            }
            if f.record.status.is_some() {
                verify_one(asset, &f, expectations, &policy, &mut verified);
            }
            verified
                .first_records
                .insert(asset.url.to_string(), f.record);
        }
        if unverified > 0 {
            self.notes.push(format!(
                "the budget ran out during verification: {unverified} of {} asset(s) not fetched",
                assets.len()
            ));
        }
        verified
    }
}

impl Discovery<'_> {
    /// Fetches the assets not fetched yet, `width` at a time (one stalled file must not hold
    /// up the others, as it did when they were fetched one by one), until the deadline: by
    /// index in `assets`.
    async fn fetch_all(
        &self,
        assets: &[Asset],
        fetched_sheets: &BTreeMap<String, Fetched>,
    ) -> BTreeMap<usize, Fetched> {
        let mut queue = assets
            .iter()
            .enumerate()
            .filter(|(_, a)| !fetched_sheets.contains_key(a.url.as_str()))
            .map(|(i, a)| (i, a.url.clone()));
        let hosts: Arc<Option<Vec<String>>> =
            Arc::new(self.reach.redirect_hosts.map(<[String]>::to_vec));
        let (keep, deadline) = (self.reach.keep, self.reach.deadline);
        let mut tasks = tokio::task::JoinSet::new();
        let mut fetched = BTreeMap::new();
        loop {
            while tasks.len() < self.width && Instant::now() < deadline {
                let Some((i, url)) = queue.next() else {
                    break;
                };
                let (probe, hosts) = (self.probe.clone(), Arc::clone(&hosts));
                tasks.spawn(async move {
                    let reach = Reach {
                        keep,
                        deadline,
                        redirect_hosts: hosts.as_deref(),
                    };
                    (i, fetch(&probe, &url, &reach).await)
                });
            }
            match tasks.join_next().await {
                Some(Ok((i, f))) => {
                    fetched.insert(i, f);
                }
                // A fetch that panicked leaves its asset unverified, as the deadline does.
                Some(Err(_)) => {}
                None => break,
            }
        }
        fetched
    }
}

/// One asset's response against what it should be: its failed checks, and whether its bytes
/// were proven (a hashed name or SRI that matches).
fn verify_one(
    asset: &Asset,
    f: &Fetched,
    expectations: &Expectations<'_>,
    policy: &Policy,
    verified: &mut Verified,
) {
    let mut expect = Expect::for_asset(asset);
    expect.page_origin = Some(expectations.page_origin.clone());
    if let (Some(m), Some(su)) = (expectations.manifest, expectations.static_url) {
        expect.hashed = m.hashed_name_for(su, &asset.url);
    }
    let results = verify_response(&f.response(), &expect, policy);
    let content_verified = results.iter().any(|c| {
        c.outcome == Outcome::Pass
            && matches!(
                c.kind,
                interloper_assets::verify::CheckKind::HashedName
                    | interloper_assets::verify::CheckKind::Integrity
            )
    });
    if content_verified && f.record.body_sha256.is_some() {
        verified.content.insert(asset.url.to_string());
    }
    let failed: Vec<AssetCheck> = results.iter().filter_map(to_finding_check).collect();
    if !failed.is_empty() {
        verified.checks.insert(asset.url.to_string(), failed);
    }
}

/// `--all-static`: every file the manifest names, besides those the page loads.
fn add_all_static(
    assets: &mut Vec<Asset>,
    manifest: &Manifest,
    manifest_url: Option<&Url>,
    static_url: &Url,
    page: &Url,
) {
    let manifest_url = manifest_url.unwrap_or(static_url);
    let known: std::collections::HashSet<String> =
        assets.iter().map(|a| a.url.to_string()).collect();
    for a in manifest.all_static(static_url, manifest_url, Some(page)) {
        if !known.contains(a.url.as_str()) {
            assets.push(a);
        }
    }
}

/// The page's own failed checks, as an asset's (its caching is not judged: pages are not
/// meant to be cached for long).
fn page_checks(page: &Fetched) -> Vec<AssetCheck> {
    verify_response(&page.response(), &Expect::default(), &Policy::default())
        .iter()
        .filter(|c| c.kind != interloper_assets::verify::CheckKind::Caching)
        .filter_map(to_finding_check)
        .collect()
}

/// What identifies the static build: the manifest's hash, else (without a manifest) a digest
/// of the set of hashed names the page loads.
fn static_version(manifest: Option<&Manifest>, assets: &[Asset]) -> Option<String> {
    if let Some(m) = manifest {
        return Some(m.hash.clone().unwrap_or_else(|| m.computed_hash()));
    }
    let mut names: Vec<&str> = assets
        .iter()
        .filter(|a| django::HashedName::parse(a.url.path()).is_some())
        .map(|a| a.url.path())
        .collect();
    names.sort();
    (!names.is_empty()).then(|| {
        let mut h = Sha256::new();
        for n in names {
            h.update(n.as_bytes());
            h.update(b"\n");
        }
        hex::encode(&h.finalize()[..6])
    })
}

/// Map a failed asset check to the neutral kind the findings read.
fn to_finding_check(c: &Check) -> Option<AssetCheck> {
    use interloper_assets::verify::CheckKind as K;
    if !(c.outcome == Outcome::Fail || (c.outcome == Outcome::Warn && c.kind == K::Caching)) {
        return None;
    }
    let actual_status = c.actual.as_deref().and_then(|a| a.parse::<u16>().ok());
    let kind = match c.kind {
        K::HashedName => AssetCheckKind::HashedNameMismatch,
        K::Integrity => AssetCheckKind::SriMismatch,
        K::ContentLength => AssetCheckKind::LengthMismatch,
        K::ContentEncoding => AssetCheckKind::EncodingBroken,
        K::Decompression => AssetCheckKind::DecompressionBomb,
        K::ContentType if c.blocking => AssetCheckKind::WrongTypeNosniff,
        K::ContentType => AssetCheckKind::WrongType,
        K::Caching => AssetCheckKind::ShortCache,
        K::Status => match actual_status {
            Some(404) => AssetCheckKind::NotFound,
            Some(403) => AssetCheckKind::Forbidden,
            Some(s) if s >= 500 => AssetCheckKind::ServerError,
            _ => return None,
        },
        _ => return None,
    };
    Some(AssetCheck {
        kind,
        expected: c.expected.clone(),
        actual: c.actual.clone(),
        detail: c.detail.clone(),
    })
}

/// Whether an asset is worth sampling at all (a 404 is reported once, not hammered).
pub(crate) fn worth_sampling(d: &Discovered, asset: &Asset) -> bool {
    d.first_records
        .get(asset.url.as_str())
        .is_none_or(|r| r.status.is_none_or(|s| s < 400))
}
