//! Per-asset verification: pure functions from response facts (status, headers, body bytes or
//! digests) to structured results that the findings layer maps to codes.
//!
//! | check | fails when | finding |
//! |---|---|---|
//! | [`CheckKind::Status`] | 404, 403, 5xx, other non-2xx | IL301, IL302, … |
//! | [`CheckKind::ContentLength`] | fewer (or more) bytes than `Content-Length` | IL203 |
//! | [`CheckKind::ContentEncoding`] | the body does not decode (truncated or corrupt) | IL203 / IL204 |
//! | [`CheckKind::Decompression`] | the body expands past the limit at a bomb's ratio | IL307 |
//! | [`CheckKind::Integrity`], [`CheckKind::HashedName`] | content differs from SRI / the name | IL204 |
//! | [`CheckKind::ContentType`] | a type the browser refuses (`nosniff`, modules) | IL303 |
//! | [`CheckKind::Caching`] | hashed names without long-lived caching | IL305 |

use base64::Engine as _;
use md5::Md5;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha384, Sha512};
use url::Url;

use crate::decode::{self, DecodeError};
use crate::django::HashedName;
pub use crate::outcome::{Check, CheckKind, Outcome};
use crate::reference::{Asset, AssetKind, CrossOrigin};

/// Header lookup over `(name, value)` pairs as the probe records them.
fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn header_all<'h>(
    headers: &'h [(String, String)],
    name: &'h str,
) -> impl Iterator<Item = &'h str> + 'h {
    headers
        .iter()
        .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Digests of a decoded body: enough for SRI (any algorithm) and Django's hashed names, so a
/// streaming caller need not keep the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    /// Decoded length.
    pub len: u64,
    /// MD5 (Django).
    pub md5: [u8; 16],
    /// SHA-256.
    pub sha256: [u8; 32],
    /// SHA-384.
    pub sha384: [u8; 48],
    /// SHA-512.
    pub sha512: [u8; 64],
}

impl Digests {
    /// Digests of `bytes`.
    pub fn of(bytes: &[u8]) -> Digests {
        let mut d = Digester::default();
        d.update(bytes);
        d.finish()
    }
}

/// Incremental [`Digests`] for a body arriving in chunks (already decoded).
#[derive(Default, Clone)]
pub struct Digester {
    len: u64,
    md5: Md5,
    sha256: Sha256,
    sha384: Sha384,
    sha512: Sha512,
}

impl Digester {
    /// Feeds a chunk.
    pub fn update(&mut self, chunk: &[u8]) {
        self.len += chunk.len() as u64;
        self.md5.update(chunk);
        self.sha256.update(chunk);
        self.sha384.update(chunk);
        self.sha512.update(chunk);
    }

    /// The digests of everything fed.
    pub fn finish(self) -> Digests {
        Digests {
            len: self.len,
            md5: self.md5.finalize().into(),
            sha256: self.sha256.finalize().into(),
            sha384: self.sha384.finalize().into(),
            sha512: self.sha512.finalize().into(),
        }
    }
}

/// The body as the caller has it.
#[derive(Debug, Clone, Copy)]
pub enum Body<'a> {
    /// Bytes as received on the wire, still in `Content-Encoding`; decoded here.
    Wire(&'a [u8]),
    /// Bytes already decoded by the caller.
    Decoded(&'a [u8]),
    /// Digests of the decoded body (the caller streamed it); no encoding check possible.
    Digests(&'a Digests),
    /// No body (HEAD, or the fetch failed before it).
    None,
}

/// One redirect hop before the final response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redirect {
    /// 301, 302, 303, 307 or 308.
    pub status: u16,
    /// URL that answered with the redirect.
    pub from: Url,
    /// Its `Location`, as sent.
    pub location: String,
}

/// Facts about one asset's response.
#[derive(Debug, Clone, Copy)]
pub struct Response<'a> {
    /// Final URL (after redirects).
    pub url: &'a Url,
    /// Final status.
    pub status: u16,
    /// Final response headers.
    pub headers: &'a [(String, String)],
    /// Hops that led here, in order.
    pub redirects: &'a [Redirect],
    /// The body.
    pub body: Body<'a>,
    /// Body bytes received on the wire; `None` takes the length of [`Body::Wire`].
    pub bytes_received: Option<u64>,
}

/// What the page (and the manifest) say the asset should be.
#[derive(Debug, Clone, Default)]
pub struct Expect<'a> {
    /// What the asset is used for; `None` judges the type by extension only.
    pub kind: Option<AssetKind>,
    /// The `integrity` attribute, verbatim.
    pub integrity: Option<&'a str>,
    /// The `crossorigin` attribute.
    pub crossorigin: Option<CrossOrigin>,
    /// Set when the asset's origin differs from the page's.
    pub cross_origin: bool,
    /// The page's origin (`https://site.example`), for `Access-Control-Allow-Origin`.
    pub page_origin: Option<String>,
    /// A Django hashed name to verify (from [`crate::django::Manifest::hashed_name_for`]).
    pub hashed: Option<HashedName>,
}

impl<'a> Expect<'a> {
    /// Expectations from a discovered asset; set `hashed` and `page_origin` separately.
    pub fn for_asset(asset: &'a Asset) -> Expect<'a> {
        Expect {
            kind: Some(asset.kind),
            integrity: asset.integrity(),
            crossorigin: asset.crossorigin(),
            cross_origin: asset.cross_origin,
            page_origin: None,
            hashed: None,
        }
    }
}

/// Tunables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Minimum cache lifetime, in seconds, for a hashed name to count as long-lived. Default
    /// 300 days: "about a year" while tolerating `max-age` values a little under 365 days.
    pub long_lived_secs: u64,
    /// Cap on decoded body size.
    pub max_decoded_bytes: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            long_lived_secs: 300 * 86_400,
            max_decoded_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Runs every applicable check on one response.
pub fn verify_response(resp: &Response<'_>, expect: &Expect<'_>, policy: &Policy) -> Vec<Check> {
    let mut out = Vec::new();
    if let Some(c) = verify_redirects(resp.redirects, resp.url) {
        out.push(c);
    }
    let status = verify_status(resp.status);
    let ok = status.outcome == Outcome::Pass;
    out.push(status);
    if !ok || matches!(resp.status, 204 | 304) {
        return out;
    }
    if expect.cross_origin && (expect.integrity.is_some() || expect.crossorigin.is_some()) {
        out.push(verify_cors(resp.headers, expect));
    }
    let received = resp.bytes_received.or(match resp.body {
        Body::Wire(b) => Some(b.len() as u64),
        _ => None,
    });
    out.push(verify_content_length(resp.headers, received));
    out.push(verify_content_type(resp.url, resp.headers, expect.kind));
    let digests = match resp.body {
        Body::Wire(b) => {
            let (c, decoded) = verify_content_encoding(
                header(resp.headers, "content-encoding"),
                b,
                policy.max_decoded_bytes,
            );
            out.push(c);
            decoded.map(|d| Digests::of(&d))
        }
        Body::Decoded(b) => Some(Digests::of(b)),
        Body::Digests(d) => Some(d.clone()),
        Body::None => None,
    };
    if let Some(d) = &digests {
        if let Some(i) = expect.integrity {
            out.push(verify_integrity(i, d));
        }
        if let Some(h) = &expect.hashed {
            out.push(verify_hashed_name(h, d));
        }
    }
    if expect.hashed.is_some() {
        out.push(verify_caching(resp.headers, policy));
    }
    out
}

/// 2xx passes; 404, 403, 5xx and the rest fail (`actual` holds the code).
pub fn verify_status(status: u16) -> Check {
    let (outcome, detail) = match status {
        200..=299 => (Outcome::Pass, "success"),
        304 => (Outcome::Pass, "not modified"),
        404 | 410 => (
            Outcome::Fail,
            "not found: the file is missing where the page points",
        ),
        401 | 403 => (
            Outcome::Fail,
            "forbidden: file permissions, a deny rule or a WAF",
        ),
        500..=599 => (Outcome::Fail, "server error"),
        300..=399 => (Outcome::Fail, "redirect that was not followed"),
        _ => (Outcome::Fail, "unexpected status"),
    };
    Check::new(
        CheckKind::Status,
        outcome,
        Some("2xx".into()),
        Some(status.to_string()),
        detail,
    )
}

/// Warns when the asset took redirects: each hop costs a round trip before the bytes, and
/// a hashed static file should be linked where it lives. `None` without redirects.
pub fn verify_redirects(redirects: &[Redirect], final_url: &Url) -> Option<Check> {
    let first = redirects.first()?;
    let cross = redirects
        .iter()
        .any(|r| r.from.origin() != final_url.origin());
    Some(Check::new(
        CheckKind::Redirect,
        Outcome::Warn,
        Some(first.from.to_string()),
        Some(final_url.to_string()),
        format!(
            "{} redirect{} ({}){} before the asset",
            redirects.len(),
            if redirects.len() == 1 { "" } else { "s" },
            redirects
                .iter()
                .map(|r| r.status.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            if cross { ", crossing origins" } else { "" }
        ),
    ))
}

/// Bytes received against `Content-Length` (both on the wire, before decoding).
pub fn verify_content_length(headers: &[(String, String)], received: Option<u64>) -> Check {
    let declared: Vec<&str> = header_all(headers, "content-length")
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let Some(first) = declared.first() else {
        return Check::new(
            CheckKind::ContentLength,
            Outcome::Skip,
            None,
            received.map(|r| r.to_string()),
            "no Content-Length (chunked or close-delimited)",
        );
    };
    let Ok(expected) = first.parse::<u64>() else {
        return Check::new(
            CheckKind::ContentLength,
            Outcome::Fail,
            Some((*first).to_owned()),
            None,
            "Content-Length is not a number",
        );
    };
    if declared.iter().any(|d| *d != *first) {
        return Check::new(
            CheckKind::ContentLength,
            Outcome::Fail,
            Some(declared.join(", ")),
            None,
            "conflicting Content-Length values",
        );
    }
    let Some(received) = received else {
        return Check::new(
            CheckKind::ContentLength,
            Outcome::Skip,
            Some(expected.to_string()),
            None,
            "bytes received unknown",
        );
    };
    let (outcome, detail) = match received.cmp(&expected) {
        std::cmp::Ordering::Equal => (Outcome::Pass, "complete".to_owned()),
        std::cmp::Ordering::Less => (
            Outcome::Fail,
            format!("truncated: {} of {} bytes", received, expected),
        ),
        std::cmp::Ordering::Greater => (
            Outcome::Fail,
            format!("{} bytes more than declared", received - expected),
        ),
    };
    Check::new(
        CheckKind::ContentLength,
        outcome,
        Some(expected.to_string()),
        Some(received.to_string()),
        detail,
    )
}

/// A body that decodes to more than this many times its size and past the limit is a
/// decompression bomb; a large real file that merely crosses the limit is skipped instead.
pub const BOMB_RATIO: usize = 100;

/// Decodes a wire body; returns the check and the decoded bytes when that worked.
pub fn verify_content_encoding<'b>(
    content_encoding: Option<&str>,
    body: &'b [u8],
    limit: usize,
) -> (Check, Option<std::borrow::Cow<'b, [u8]>>) {
    let coding = content_encoding.unwrap_or("identity").to_owned();
    match decode::decode(content_encoding, body, limit) {
        Ok(d) => {
            let c = Check::new(
                CheckKind::ContentEncoding,
                Outcome::Pass,
                Some(coding),
                Some(format!("{} bytes decoded", d.len())),
                "decodes cleanly",
            );
            (c, Some(d))
        }
        Err(DecodeError::TooLarge { limit: cap })
            if body.len().saturating_mul(BOMB_RATIO) < cap =>
        {
            let detail = format!(
                "{} bytes on the wire expand past {cap} bytes (more than {}:1): a decompression \
                 bomb, abandoned at the limit",
                body.len(),
                cap / body.len().max(1)
            );
            (
                Check::new(
                    CheckKind::Decompression,
                    Outcome::Fail,
                    Some(format!("{coding} within {cap} bytes")),
                    Some(format!("more than {cap} bytes")),
                    detail,
                ),
                None,
            )
        }
        Err(e) => {
            let outcome = match e {
                DecodeError::Unsupported(_) | DecodeError::TooLarge { .. } => Outcome::Skip,
                _ => Outcome::Fail,
            };
            (
                Check::new(
                    CheckKind::ContentEncoding,
                    outcome,
                    Some(coding),
                    Some(e.to_string()),
                    e.to_string(),
                ),
                None,
            )
        }
    }
}

/// The JavaScript MIME type essences of the HTML standard.
pub(crate) const JS_MIME: &[&str] = &[
    "application/ecmascript",
    "application/javascript",
    "application/x-ecmascript",
    "application/x-javascript",
    "text/ecmascript",
    "text/javascript",
    "text/javascript1.0",
    "text/javascript1.1",
    "text/javascript1.2",
    "text/javascript1.3",
    "text/javascript1.4",
    "text/javascript1.5",
    "text/jscript",
    "text/livescript",
    "text/x-ecmascript",
    "text/x-javascript",
];

/// Acceptable types per extension (first is the canonical one, shown as "expected").
fn types_for_extension(ext: &str) -> Option<&'static [&'static str]> {
    Some(match ext {
        "css" => &["text/css"],
        "js" | "mjs" => JS_MIME,
        "json" | "map" => &["application/json", "text/json"],
        "webmanifest" => &["application/manifest+json", "application/json"],
        "svg" => &["image/svg+xml"],
        "png" => &["image/png"],
        "jpg" | "jpeg" => &["image/jpeg", "image/pjpeg"],
        "gif" => &["image/gif"],
        "webp" => &["image/webp"],
        "avif" => &["image/avif"],
        "ico" => &["image/x-icon", "image/vnd.microsoft.icon"],
        "woff" => &[
            "font/woff",
            "application/font-woff",
            "application/x-font-woff",
        ],
        "woff2" => &["font/woff2", "application/font-woff2"],
        "ttf" => &[
            "font/ttf",
            "application/x-font-ttf",
            "application/font-sfnt",
            "font/sfnt",
            "application/x-font-truetype",
        ],
        "otf" => &[
            "font/otf",
            "application/x-font-opentype",
            "application/font-sfnt",
            "font/sfnt",
        ],
        "eot" => &["application/vnd.ms-fontobject"],
        "txt" => &["text/plain"],
        "html" | "htm" => &["text/html"],
        "pdf" => &["application/pdf"],
        "mp4" => &["video/mp4"],
        "webm" => &["video/webm", "audio/webm"],
        "mp3" => &["audio/mpeg"],
        "ogg" => &["audio/ogg", "video/ogg", "application/ogg"],
        "vtt" => &["text/vtt"],
        _ => return None,
    })
}

fn extension(url: &Url) -> Option<String> {
    let last = url.path_segments()?.next_back()?;
    let (_, ext) = last.rsplit_once('.')?;
    Some(ext.to_ascii_lowercase())
}

/// `Content-Type` against the asset's use and extension.
///
/// Browsers refuse: a stylesheet whose type is not `text/css` under `nosniff` (and in
/// standards mode even without it); a module script that is not a JavaScript type; a classic
/// script that is not JavaScript under `nosniff`, or that claims image/audio/video/CSV. Those
/// fail and are `blocking`. Other mismatches only warn: images and fonts are sniffed.
pub fn verify_content_type(
    url: &Url,
    headers: &[(String, String)],
    kind: Option<AssetKind>,
) -> Check {
    let raw = header(headers, "content-type");
    let essence = raw.map(crate::mime_essence).unwrap_or_default();
    let nosniff = header(headers, "x-content-type-options").is_some_and(|v| {
        v.split(',')
            .next()
            .is_some_and(|f| f.trim().eq_ignore_ascii_case("nosniff"))
    });
    let actual = Some(match raw {
        Some(r) if nosniff => format!("{r} (nosniff)"),
        Some(r) => r.to_owned(),
        None if nosniff => "none (nosniff)".to_owned(),
        None => "none".to_owned(),
    });
    let ext = extension(url);
    let by_ext = ext.as_deref().and_then(types_for_extension);
    let is_js = JS_MIME.contains(&essence.as_str());
    let mk = |outcome, expected: &str, detail: String| {
        Check::new(
            CheckKind::ContentType,
            outcome,
            Some(expected.to_owned()),
            actual.clone(),
            detail,
        )
    };
    match kind {
        Some(AssetKind::Stylesheet) if essence != "text/css" => {
            let c = mk(
                Outcome::Fail,
                "text/css",
                if nosniff {
                    "stylesheet refused: not text/css and nosniff is set".to_owned()
                } else {
                    "stylesheet not text/css: ignored in standards mode".to_owned()
                },
            );
            c.blocking()
        }
        Some(AssetKind::ModuleScript) if !is_js => mk(
            Outcome::Fail,
            "text/javascript",
            "module script refused: not a JavaScript MIME type".to_owned(),
        )
        .blocking(),
        Some(AssetKind::Script) if !is_js => {
            let refused_anyway = ["image/", "audio/", "video/"]
                .iter()
                .any(|p| essence.starts_with(p))
                || essence == "text/csv";
            if nosniff || refused_anyway {
                mk(
                    Outcome::Fail,
                    "text/javascript",
                    format!(
                        "script refused: {} is not JavaScript{}",
                        if essence.is_empty() {
                            "no type"
                        } else {
                            &essence
                        },
                        if nosniff { " and nosniff is set" } else { "" }
                    ),
                )
                .blocking()
            } else {
                mk(
                    Outcome::Warn,
                    "text/javascript",
                    "script type is not JavaScript; browsers run it anyway without nosniff"
                        .to_owned(),
                )
            }
        }
        Some(AssetKind::Stylesheet | AssetKind::Script | AssetKind::ModuleScript) => {
            mk(Outcome::Pass, &essence, "type matches use".to_owned())
        }
        _ => match by_ext {
            Some(types) if types.contains(&essence.as_str()) => {
                mk(Outcome::Pass, types[0], "type matches extension".to_owned())
            }
            Some(types) => mk(
                Outcome::Warn,
                types[0],
                format!("type does not match .{}", ext.unwrap_or_default()),
            ),
            None => Check::new(
                CheckKind::ContentType,
                Outcome::Skip,
                None,
                actual.clone(),
                "no expected type for this extension",
            ),
        },
    }
}

/// SRI hash algorithm, weakest to strongest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum SriAlg {
    Sha256,
    Sha384,
    Sha512,
}

/// Parses `integrity` metadata: whitespace-separated `alg-base64[?options]`; unknown
/// algorithms and undecodable values are ignored, as the SRI spec says.
fn parse_integrity(value: &str) -> Vec<(SriAlg, Vec<u8>)> {
    value
        .split_ascii_whitespace()
        .filter_map(|tok| {
            let (alg, rest) = tok.split_once('-')?;
            let alg = match alg.to_ascii_lowercase().as_str() {
                "sha256" => SriAlg::Sha256,
                "sha384" => SriAlg::Sha384,
                "sha512" => SriAlg::Sha512,
                _ => return None,
            };
            let b64 = rest.split('?').next().unwrap_or(rest);
            // Standard base64; browsers also accept the URL-safe alphabet and missing padding.
            let cfg = base64::engine::GeneralPurposeConfig::new()
                .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent);
            let std = base64::engine::GeneralPurpose::new(&base64::alphabet::STANDARD, cfg);
            let url = base64::engine::GeneralPurpose::new(&base64::alphabet::URL_SAFE, cfg);
            let bytes = std.decode(b64).or_else(|_| url.decode(b64)).ok()?;
            Some((alg, bytes))
        })
        .collect()
}

/// Subresource Integrity: only the strongest algorithm present counts; any of its values
/// matching passes. Metadata with no usable token is ignored by browsers (warn).
pub fn verify_integrity(integrity: &str, digests: &Digests) -> Check {
    let tokens = parse_integrity(integrity);
    let Some(strongest) = tokens.iter().map(|(a, _)| *a).max() else {
        return Check::new(
            CheckKind::Integrity,
            Outcome::Warn,
            Some(integrity.to_owned()),
            None,
            "no usable integrity metadata: the browser does not check this asset",
        );
    };
    let (actual, name): (&[u8], &str) = match strongest {
        SriAlg::Sha256 => (&digests.sha256, "sha256"),
        SriAlg::Sha384 => (&digests.sha384, "sha384"),
        SriAlg::Sha512 => (&digests.sha512, "sha512"),
    };
    let actual_s = format!(
        "{name}-{}",
        base64::engine::general_purpose::STANDARD.encode(actual)
    );
    if tokens
        .iter()
        .any(|(a, v)| *a == strongest && v.as_slice() == actual)
    {
        Check::new(
            CheckKind::Integrity,
            Outcome::Pass,
            Some(integrity.to_owned()),
            Some(actual_s),
            "content matches integrity",
        )
    } else {
        Check::new(
            CheckKind::Integrity,
            Outcome::Fail,
            Some(integrity.to_owned()),
            Some(actual_s),
            "content differs from the integrity attribute: the browser refuses it",
        )
        .blocking()
    }
}

/// Django hashed name: md5 of the decoded content must start with the name's 12 hex digits.
pub fn verify_hashed_name(hashed: &HashedName, digests: &Digests) -> Check {
    let actual: String = hex::encode(digests.md5).chars().take(12).collect();
    if hashed.matches(&digests.md5) {
        Check::new(
            CheckKind::HashedName,
            Outcome::Pass,
            Some(hashed.hash.clone()),
            Some(actual),
            "content matches its hashed name",
        )
    } else {
        Check::new(
            CheckKind::HashedName,
            Outcome::Fail,
            Some(hashed.hash.clone()),
            Some(actual),
            format!(
                "content ({} bytes) differs from what its name promises: altered, truncated or stale",
                digests.len
            ),
        )
    }
}

/// A cross-origin asset with SRI or `crossorigin` is fetched in CORS mode: without a matching
/// `Access-Control-Allow-Origin` the browser refuses it.
pub fn verify_cors(headers: &[(String, String)], expect: &Expect<'_>) -> Check {
    let acao = header(headers, "access-control-allow-origin").map(str::trim);
    let creds = expect.crossorigin == Some(CrossOrigin::UseCredentials);
    let ok = match acao {
        None => false,
        Some("*") => !creds,
        Some(o) => expect
            .page_origin
            .as_deref()
            .is_none_or(|p| p.eq_ignore_ascii_case(o)),
    };
    let expected = expect.page_origin.clone().or_else(|| Some("*".into()));
    if ok {
        Check::new(
            CheckKind::Cors,
            Outcome::Pass,
            expected,
            acao.map(str::to_owned),
            "CORS allows the page",
        )
    } else {
        Check::new(CheckKind::Cors, Outcome::Fail, expected, Some(acao.unwrap_or("none").to_owned()), "cross-origin asset fetched in CORS mode (integrity/crossorigin) without a matching Access-Control-Allow-Origin: refused").blocking()
    }
}

/// Cache lifetime of a hashed name: its content never changes, so it should be cacheable for
/// about a year (`max-age`, else `Expires` minus `Date`), or marked `immutable`.
pub fn verify_caching(headers: &[(String, String)], policy: &Policy) -> Check {
    let cc: Vec<String> = header_all(headers, "cache-control")
        .flat_map(|v| v.split(','))
        .map(|d| d.trim().to_ascii_lowercase())
        .filter(|d| !d.is_empty())
        .collect();
    let has = |name: &str| {
        cc.iter()
            .any(|d| d == name || d.starts_with(&format!("{name}=")))
    };
    let max_age = cc
        .iter()
        .filter_map(|d| d.strip_prefix("max-age="))
        .find_map(|v| v.trim_matches('"').parse::<u64>().ok());
    let lifetime = max_age.or_else(|| {
        let exp = httpdate::parse_http_date(header(headers, "expires")?).ok()?;
        let date = header(headers, "date").and_then(|d| httpdate::parse_http_date(d).ok())?;
        Some(exp.duration_since(date).map_or(0, |d| d.as_secs()))
    });
    let actual = Some(if cc.is_empty() {
        header(headers, "expires")
            .map_or("no Cache-Control".to_owned(), |e| format!("Expires: {e}"))
    } else {
        cc.join(", ")
    });
    let expected = Some(format!("max-age>={} or immutable", policy.long_lived_secs));
    let outcome = if has("no-store") || has("no-cache") {
        Outcome::Fail
    } else if lifetime.is_some_and(|l| l >= policy.long_lived_secs)
        || (has("immutable") && lifetime.is_some_and(|l| l > 0))
    {
        Outcome::Pass
    } else {
        Outcome::Fail
    };
    let detail = match outcome {
        Outcome::Pass => "long-lived caching".to_owned(),
        _ => format!(
            "hashed name cached for {}: every visit revalidates or refetches it",
            lifetime.map_or("an unspecified time".to_owned(), |l| format!("{l} s"))
        ),
    };
    Check::new(CheckKind::Caching, outcome, expected, actual, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn sri(alg: &str, data: &[u8]) -> String {
        let d = match alg {
            "sha256" => Sha256::digest(data).to_vec(),
            "sha384" => Sha384::digest(data).to_vec(),
            _ => Sha512::digest(data).to_vec(),
        };
        format!(
            "{alg}-{}",
            base64::engine::general_purpose::STANDARD.encode(d)
        )
    }

    #[test]
    fn sri_strongest_algorithm_wins() {
        let body = b"console.log(1)";
        let d = Digests::of(body);
        assert_eq!(
            verify_integrity(&sri("sha384", body), &d).outcome,
            Outcome::Pass
        );
        // A wrong sha256 next to a right sha512: only sha512 counts.
        let wrong256 = sri("sha256", b"other");
        assert_eq!(
            verify_integrity(&format!("{wrong256} {}", sri("sha512", body)), &d).outcome,
            Outcome::Pass
        );
        // A right sha256 next to a wrong sha384: sha384 counts, so it fails.
        let c = verify_integrity(
            &format!("{} {}", sri("sha256", body), sri("sha384", b"x")),
            &d,
        );
        assert_eq!(c.outcome, Outcome::Fail);
        assert!(c.blocking);
        // Several values for the strongest: any may match. Options are ignored.
        assert_eq!(
            verify_integrity(
                &format!("{} {}?foo", sri("sha384", b"x"), sri("sha384", body)),
                &d
            )
            .outcome,
            Outcome::Pass
        );
        assert_eq!(
            verify_integrity("md5-abc sha1-xyz", &d).outcome,
            Outcome::Warn
        );
        let unpadded = sri("sha256", body).trim_end_matches('=').to_owned();
        assert_eq!(verify_integrity(&unpadded, &d).outcome, Outcome::Pass);
    }

    #[test]
    fn content_type_and_nosniff() {
        let u = Url::parse("https://x.example/a.css").unwrap();
        let js = Url::parse("https://x.example/a.js").unwrap();
        let css_ok = verify_content_type(
            &u,
            &h(&[("Content-Type", "text/css; charset=utf-8")]),
            Some(AssetKind::Stylesheet),
        );
        assert_eq!(css_ok.outcome, Outcome::Pass);
        let c = verify_content_type(
            &u,
            &h(&[
                ("content-type", "text/plain"),
                ("X-Content-Type-Options", "nosniff"),
            ]),
            Some(AssetKind::Stylesheet),
        );
        assert!(c.failed() && c.blocking && c.actual.as_deref() == Some("text/plain (nosniff)"));
        let c = verify_content_type(
            &js,
            &h(&[("content-type", "text/plain")]),
            Some(AssetKind::Script),
        );
        assert_eq!(c.outcome, Outcome::Warn);
        let c = verify_content_type(
            &js,
            &h(&[
                ("content-type", "text/plain"),
                ("x-content-type-options", "nosniff"),
            ]),
            Some(AssetKind::Script),
        );
        assert!(c.failed() && c.blocking);
        assert!(
            verify_content_type(
                &js,
                &h(&[("content-type", "image/png")]),
                Some(AssetKind::Script)
            )
            .failed()
        );
        assert!(
            verify_content_type(
                &js,
                &h(&[("content-type", "text/plain")]),
                Some(AssetKind::ModuleScript)
            )
            .failed()
        );
        assert_eq!(
            verify_content_type(
                &js,
                &h(&[("content-type", "application/javascript")]),
                Some(AssetKind::Script)
            )
            .outcome,
            Outcome::Pass
        );
        let png = Url::parse("https://x.example/i.png").unwrap();
        assert_eq!(
            verify_content_type(
                &png,
                &h(&[("content-type", "image/png")]),
                Some(AssetKind::Image)
            )
            .outcome,
            Outcome::Pass
        );
        assert_eq!(
            verify_content_type(
                &png,
                &h(&[
                    ("content-type", "text/html"),
                    ("x-content-type-options", "nosniff")
                ]),
                Some(AssetKind::Image)
            )
            .outcome,
            Outcome::Warn
        );
        let odd = Url::parse("https://x.example/blob").unwrap();
        assert_eq!(
            verify_content_type(&odd, &[], Some(AssetKind::Image)).outcome,
            Outcome::Skip
        );
    }

    #[test]
    fn content_length_and_status() {
        assert_eq!(
            verify_content_length(&h(&[("Content-Length", "10")]), Some(10)).outcome,
            Outcome::Pass
        );
        let c = verify_content_length(&h(&[("Content-Length", "10")]), Some(4));
        assert!(c.failed() && c.detail.contains("truncated"));
        assert!(verify_content_length(&h(&[("Content-Length", "10")]), Some(11)).failed());
        assert!(verify_content_length(&h(&[("Content-Length", "10, 11")]), Some(10)).failed());
        assert!(verify_content_length(&h(&[("Content-Length", "ten")]), Some(10)).failed());
        assert_eq!(verify_content_length(&[], Some(10)).outcome, Outcome::Skip);
        assert_eq!(verify_status(200).outcome, Outcome::Pass);
        for s in [404, 403, 500, 503, 301] {
            let c = verify_status(s);
            assert!(c.failed());
            assert_eq!(c.actual, Some(s.to_string()));
        }
    }

    #[test]
    fn caching_of_hashed_names() {
        let p = Policy::default();
        assert_eq!(
            verify_caching(&h(&[("Cache-Control", "public, max-age=31536000")]), &p).outcome,
            Outcome::Pass
        );
        assert_eq!(
            verify_caching(&h(&[("Cache-Control", "max-age=3600, immutable")]), &p).outcome,
            Outcome::Pass
        );
        assert_eq!(
            verify_caching(&h(&[("Cache-Control", "max-age=3600")]), &p).outcome,
            Outcome::Fail
        );
        assert_eq!(
            verify_caching(&h(&[("Cache-Control", "no-cache, max-age=31536000")]), &p).outcome,
            Outcome::Fail
        );
        assert_eq!(verify_caching(&[], &p).outcome, Outcome::Fail);
        let exp = h(&[
            ("Date", "Mon, 23 Nov 2026 20:00:00 GMT"),
            ("Expires", "Tue, 23 Nov 2027 20:00:00 GMT"),
        ]);
        assert_eq!(verify_caching(&exp, &p).outcome, Outcome::Pass);
    }

    #[test]
    fn full_response_with_encoding_and_hashed_name() {
        let content = b"body{color:red}".repeat(50);
        let name = format!("/static/a.{}.css", crate::django::content_hash(&content));
        let url = Url::parse(&format!("https://x.example{name}")).unwrap();
        let gz = crate::decode::tests::gzip(&content);
        let headers = h(&[
            ("content-type", "text/css"),
            ("content-encoding", "gzip"),
            ("content-length", &gz.len().to_string()),
            ("cache-control", "max-age=315360000, immutable"),
        ]);
        let integrity = sri("sha256", &content);
        let expect = Expect {
            kind: Some(AssetKind::Stylesheet),
            hashed: HashedName::parse(&name),
            integrity: Some(&integrity),
            ..Expect::default()
        };
        let resp = Response {
            url: &url,
            status: 200,
            headers: &headers,
            redirects: &[],
            body: Body::Wire(&gz),
            bytes_received: None,
        };
        let checks = verify_response(&resp, &expect, &Policy::default());
        assert!(
            checks.iter().all(|c| c.outcome == Outcome::Pass),
            "{checks:#?}"
        );
        assert_eq!(checks.len(), 7);
        // Truncated on the wire: length and decoding fail, digests are not computed.
        let resp = Response {
            body: Body::Wire(&gz[..gz.len() - 10]),
            ..resp
        };
        let checks = verify_response(&resp, &expect, &Policy::default());
        let failed: Vec<_> = checks
            .iter()
            .filter(|c| c.failed())
            .map(|c| c.kind)
            .collect();
        assert_eq!(
            failed,
            vec![CheckKind::ContentLength, CheckKind::ContentEncoding]
        );
        // One byte changed, identity coding.
        let mut altered = content.clone();
        altered[3] ^= 1;
        let headers = h(&[
            ("content-type", "text/css"),
            ("content-length", &altered.len().to_string()),
            ("cache-control", "max-age=60"),
        ]);
        let resp = Response {
            url: &url,
            status: 200,
            headers: &headers,
            redirects: &[],
            body: Body::Wire(&altered),
            bytes_received: None,
        };
        let failed: Vec<_> = verify_response(&resp, &expect, &Policy::default())
            .into_iter()
            .filter(Check::failed)
            .map(|c| c.kind)
            .collect();
        assert_eq!(
            failed,
            vec![
                CheckKind::Integrity,
                CheckKind::HashedName,
                CheckKind::Caching
            ]
        );
        // 404: only status (and redirects) are reported.
        let redirects = [Redirect {
            status: 301,
            from: Url::parse("http://x.example/a.css").unwrap(),
            location: url.to_string(),
        }];
        let resp = Response {
            status: 404,
            redirects: &redirects,
            ..resp
        };
        let kinds: Vec<_> = verify_response(&resp, &expect, &Policy::default())
            .into_iter()
            .map(|c| (c.kind, c.outcome))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (CheckKind::Redirect, Outcome::Warn),
                (CheckKind::Status, Outcome::Fail)
            ]
        );
    }

    #[test]
    fn cors_for_sri_cross_origin() {
        let e = Expect {
            cross_origin: true,
            integrity: Some("sha256-x"),
            page_origin: Some("https://site.example".into()),
            ..Expect::default()
        };
        assert!(verify_cors(&[], &e).failed());
        assert_eq!(
            verify_cors(&h(&[("Access-Control-Allow-Origin", "*")]), &e).outcome,
            Outcome::Pass
        );
        assert!(
            verify_cors(
                &h(&[("Access-Control-Allow-Origin", "https://other.example")]),
                &e
            )
            .failed()
        );
        let creds = Expect {
            crossorigin: Some(CrossOrigin::UseCredentials),
            ..e
        };
        assert!(verify_cors(&h(&[("Access-Control-Allow-Origin", "*")]), &creds).failed());
    }
}

#[cfg(test)]
mod bomb_tests {
    use std::io::Write as _;

    use super::{BOMB_RATIO, CheckKind, Outcome, verify_content_encoding};

    const LIMIT: usize = 1 << 20;

    fn zeros(n: usize) -> Vec<u8> {
        vec![0u8; n]
    }

    #[test]
    fn gzip_and_brotli_bombs_fail_as_bombs() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&zeros(8 * LIMIT)).unwrap();
        let gz = gz.finish().unwrap();
        let mut br = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut br, 4096, 5, 22);
            w.write_all(&zeros(8 * LIMIT)).unwrap();
        }
        for (coding, body) in [("gzip", gz), ("br", br)] {
            assert!(body.len() * BOMB_RATIO < LIMIT, "{coding}: {}", body.len());
            let (check, decoded) = verify_content_encoding(Some(coding), &body, LIMIT);
            assert_eq!(check.kind, CheckKind::Decompression, "{coding}");
            assert_eq!(check.outcome, Outcome::Fail, "{coding}");
            assert!(
                check.detail.contains("decompression bomb"),
                "{}",
                check.detail
            );
            assert!(decoded.is_none());
        }
    }

    #[test]
    fn a_large_real_file_over_the_limit_is_skipped_not_a_bomb() {
        // Incompressible bytes: the ratio stays near 1:1.
        let mut state = 0x1234_5678_u32;
        let noise: Vec<u8> = (0..2 * LIMIT)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state as u8
            })
            .collect();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&noise).unwrap();
        let gz = gz.finish().unwrap();
        let (check, _) = verify_content_encoding(Some("gzip"), &gz, LIMIT);
        assert_eq!(check.kind, CheckKind::ContentEncoding);
        assert_eq!(check.outcome, Outcome::Skip);
    }
}
