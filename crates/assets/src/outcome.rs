//! The result of one check: what was checked, the verdict, and what was expected and seen.
//! Its own module so that every check (per asset in `verify`, the manifest's own hash in
//! `django`) shares one result type without the two depending on each other.

use serde::{Deserialize, Serialize};

/// What was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// HTTP status of the final response.
    Status,
    /// The asset was only reached through redirects.
    Redirect,
    /// Bytes received against `Content-Length`.
    ContentLength,
    /// The body decodes per `Content-Encoding`.
    ContentEncoding,
    /// The body expands past the decompression limit at a ratio no real file has (a
    /// decompression bomb).
    Decompression,
    /// `Content-Type` against what the asset is used for and its extension.
    ContentType,
    /// Subresource Integrity (`integrity` attribute).
    Integrity,
    /// Cross-origin response lacks the CORS headers that SRI or `crossorigin` need.
    Cors,
    /// Content against the md5 in a Django hashed name.
    HashedName,
    /// Cache lifetime of a hashed (immutable) name.
    Caching,
    /// `staticfiles.json`'s own hash.
    ManifestHash,
}

/// The verdict of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// As it should be.
    Pass,
    /// Not as it should be, but browsers still use the asset.
    Warn,
    /// Wrong: the asset is missing, altered or refused.
    Fail,
    /// Could not be checked with the facts given (says why in `detail`).
    Skip,
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// What was checked.
    pub kind: CheckKind,
    /// The verdict.
    pub outcome: Outcome,
    /// What was expected (a digest, a type, a length), for reports.
    pub expected: Option<String>,
    /// What was observed.
    pub actual: Option<String>,
    /// One sentence for humans.
    pub detail: String,
    /// Set on failures that make the browser refuse the asset outright (a wrong type under
    /// `nosniff`, SRI mismatch, missing CORS on an SRI-protected cross-origin asset).
    pub blocking: bool,
}

impl Check {
    pub(crate) fn new(
        kind: CheckKind,
        outcome: Outcome,
        expected: Option<String>,
        actual: Option<String>,
        detail: impl Into<String>,
    ) -> Check {
        Check {
            kind,
            outcome,
            expected,
            actual,
            detail: detail.into(),
            blocking: false,
        }
    }

    pub(crate) fn blocking(mut self) -> Check {
        self.blocking = true;
        self
    }

    /// Whether this check failed.
    pub fn failed(&self) -> bool {
        self.outcome == Outcome::Fail
    }
}
