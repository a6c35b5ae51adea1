//! Detectors over the asset checks made once per asset at verification: content, length,
//! type, caching and status. One finding per code (and severity), listing every asset.

use super::{finding, short_list};
use crate::input::{AssetCheckKind, Evidence, TargetEvidence};
use crate::{Code, Confidence, Finding, Severity};

/// IL204 — bytes that differ from what the name, the integrity attribute or an earlier
/// response promised, or that did not decode.
pub(crate) fn content_mismatch(t: &TargetEvidence) -> Option<Finding> {
    use AssetCheckKind::*;
    let kinds = &[
        HashedNameMismatch,
        SriMismatch,
        EncodingBroken,
        ContentChanged,
    ];
    checked(t, Code::IL204, kinds, Severity::Critical, |n, list| {
        format!(
            "{n} file(s) arrived with different content than their name or integrity promises: {list}"
        )
    })
}

/// IL203 — fewer bytes than Content-Length at verification.
pub(crate) fn short_files(t: &TargetEvidence) -> Option<Finding> {
    let kinds = &[AssetCheckKind::LengthMismatch];
    checked(t, Code::IL203, kinds, Severity::Error, |n, list| {
        format!("{n} file(s) arrived short: {list}")
    })
}

/// IL303 (error) — a wrong Content-Type under `nosniff`: browsers refuse the file.
pub(crate) fn wrong_type_nosniff(t: &TargetEvidence) -> Option<Finding> {
    let kinds = &[AssetCheckKind::WrongTypeNosniff];
    checked(t, Code::IL303, kinds, Severity::Error, |n, list| {
        format!(
            "{n} file(s) with a wrong Content-Type under nosniff (browsers refuse them): {list}"
        )
    })
}

/// IL303 (warning) — a Content-Type that does not fit the extension, browsers may sniff.
pub(crate) fn wrong_type(t: &TargetEvidence) -> Option<Finding> {
    let kinds = &[AssetCheckKind::WrongType];
    checked(t, Code::IL303, kinds, Severity::Warning, |n, list| {
        format!("{n} file(s) with a Content-Type that does not fit their extension: {list}")
    })
}

/// IL305 — hashed names served without long-lived caching.
pub(crate) fn short_cache(t: &TargetEvidence) -> Option<Finding> {
    let kinds = &[AssetCheckKind::ShortCache];
    checked(t, Code::IL305, kinds, Severity::Info, |n, list| {
        format!("{n} hashed file(s) without long-lived caching: {list}")
    })
}

/// IL301 — 404 at verification.
pub(crate) fn not_found(t: &TargetEvidence) -> Option<Finding> {
    let kinds = &[AssetCheckKind::NotFound];
    checked(t, Code::IL301, kinds, Severity::Error, files)
}

/// IL302 — 403 at verification.
pub(crate) fn forbidden(t: &TargetEvidence) -> Option<Finding> {
    let kinds = &[AssetCheckKind::Forbidden];
    checked(t, Code::IL302, kinds, Severity::Error, files)
}

/// IL306 — 5xx at verification.
pub(crate) fn server_error(t: &TargetEvidence) -> Option<Finding> {
    let kinds = &[AssetCheckKind::ServerError];
    checked(t, Code::IL306, kinds, Severity::Error, files)
}

/// IL307 — a compressed body that expands past the decoding limit (a decompression bomb).
pub(crate) fn decompression_bomb(t: &TargetEvidence) -> Option<Finding> {
    let kinds = &[AssetCheckKind::DecompressionBomb];
    checked(t, Code::IL307, kinds, Severity::Error, |n, list| {
        format!(
            "{n} response(s) expand past the decompression limit (a decompression bomb): {list}"
        )
    })
}

/// IL308 — a URL that still redirects after the most hops followed.
pub(crate) fn redirect_loop(t: &TargetEvidence) -> Option<Finding> {
    let kinds = &[AssetCheckKind::RedirectLoop];
    checked(t, Code::IL308, kinds, Severity::Error, |n, list| {
        format!("{n} URL(s) redirect in a loop and never reach a file: {list}")
    })
}

/// IL309 — a redirect to a scheme that is not followed.
pub(crate) fn redirect_not_followed(t: &TargetEvidence) -> Option<Finding> {
    let kinds = &[AssetCheckKind::RedirectNotFollowed];
    checked(t, Code::IL309, kinds, Severity::Error, |n, list| {
        format!("{n} URL(s) redirect to a location that is not http(s): {list}")
    })
}

/// IL310 — a document that could not be read for what it references: the check is
/// incomplete. The summary gives each one's reason (the first three).
pub(crate) fn not_examined(t: &TargetEvidence) -> Option<Finding> {
    let kinds = &[AssetCheckKind::NotExamined];
    let mut f = checked(t, Code::IL310, kinds, Severity::Warning, |_, _| {
        String::new()
    })?;
    let reasons: Vec<&str> = f
        .evidence
        .iter()
        .filter_map(|e| match e {
            Evidence::Check { check, .. } => Some(check.detail.as_str()),
            _ => None,
        })
        .collect();
    let shown = reasons
        .iter()
        .take(3)
        .copied()
        .collect::<Vec<_>>()
        .join("; ");
    let more = match reasons.len() {
        n if n > 3 => format!(" (and {} more)", n - 3),
        _ => String::new(),
    };
    f.summary = format!("{shown}{more}; the files referenced there were not checked");
    Some(f)
}

fn files(n: usize, list: &str) -> String {
    format!("{n} file(s): {list}")
}

/// One finding of `code` at `severity` for every asset with a failed check of `kinds`, each
/// check as evidence; `summary` words the count and the short list of files.
fn checked(
    t: &TargetEvidence,
    code: Code,
    kinds: &[AssetCheckKind],
    severity: Severity,
    summary: fn(usize, &str) -> String,
) -> Option<Finding> {
    let mut f = finding(code, Some(&t.label), String::new());
    f.severity = severity;
    f.confidence = Confidence::High;
    for a in &t.assets {
        for chk in a.checks.iter().filter(|c| kinds.contains(&c.kind)) {
            if !f.assets.contains(&a.url) {
                f.assets.push(a.url.clone());
            }
            f.evidence.push(Evidence::Check {
                url: a.url.clone(),
                check: chk.clone(),
            });
        }
    }
    if f.assets.is_empty() {
        return None;
    }
    f.summary = summary(f.assets.len(), &short_list(&f.assets));
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::AssetCheck;
    use crate::testing::{clean_asset, target};

    fn with_checks(kinds: &[AssetCheckKind]) -> TargetEvidence {
        let mut t = target(vec![
            clean_asset("https://a.test/s/app.0123456789ab.css", 3, 100),
            clean_asset("https://a.test/s/app.js", 3, 100),
        ]);
        for a in &mut t.assets {
            a.checks = kinds
                .iter()
                .map(|k| AssetCheck {
                    kind: *k,
                    expected: Some("x".into()),
                    actual: Some("y".into()),
                    detail: format!("{k:?}"),
                })
                .collect();
        }
        t
    }

    type Detector = fn(&TargetEvidence) -> Option<Finding>;

    const DETECTORS: &[(Detector, AssetCheckKind, Code, Severity, &str)] = &[
        (
            decompression_bomb,
            AssetCheckKind::DecompressionBomb,
            Code::IL307,
            Severity::Error,
            "2 response(s) expand past the decompression limit (a decompression bomb): app.0123456789ab.css, app.js",
        ),
        (
            redirect_loop,
            AssetCheckKind::RedirectLoop,
            Code::IL308,
            Severity::Error,
            "2 URL(s) redirect in a loop and never reach a file: app.0123456789ab.css, app.js",
        ),
        (
            not_examined,
            AssetCheckKind::NotExamined,
            Code::IL310,
            Severity::Warning,
            "NotExamined; NotExamined; the files referenced there were not checked",
        ),
        (
            redirect_not_followed,
            AssetCheckKind::RedirectNotFollowed,
            Code::IL309,
            Severity::Error,
            "2 URL(s) redirect to a location that is not http(s): app.0123456789ab.css, app.js",
        ),
        (
            content_mismatch,
            AssetCheckKind::SriMismatch,
            Code::IL204,
            Severity::Critical,
            "2 file(s) arrived with different content than their name or integrity promises: app.0123456789ab.css, app.js",
        ),
        (
            short_files,
            AssetCheckKind::LengthMismatch,
            Code::IL203,
            Severity::Error,
            "2 file(s) arrived short: app.0123456789ab.css, app.js",
        ),
        (
            wrong_type_nosniff,
            AssetCheckKind::WrongTypeNosniff,
            Code::IL303,
            Severity::Error,
            "2 file(s) with a wrong Content-Type under nosniff (browsers refuse them): app.0123456789ab.css, app.js",
        ),
        (
            wrong_type,
            AssetCheckKind::WrongType,
            Code::IL303,
            Severity::Warning,
            "2 file(s) with a Content-Type that does not fit their extension: app.0123456789ab.css, app.js",
        ),
        (
            short_cache,
            AssetCheckKind::ShortCache,
            Code::IL305,
            Severity::Info,
            "2 hashed file(s) without long-lived caching: app.0123456789ab.css, app.js",
        ),
        (
            not_found,
            AssetCheckKind::NotFound,
            Code::IL301,
            Severity::Error,
            "2 file(s): app.0123456789ab.css, app.js",
        ),
        (
            forbidden,
            AssetCheckKind::Forbidden,
            Code::IL302,
            Severity::Error,
            "2 file(s): app.0123456789ab.css, app.js",
        ),
        (
            server_error,
            AssetCheckKind::ServerError,
            Code::IL306,
            Severity::Error,
            "2 file(s): app.0123456789ab.css, app.js",
        ),
    ];

    #[test]
    fn each_check_kind_gives_its_code_severity_and_files() {
        for (detect, kind, code, severity, summary) in DETECTORS {
            let f = detect(&with_checks(&[*kind])).unwrap_or_else(|| panic!("{code}"));
            assert_eq!((f.code, f.severity), (*code, *severity), "{kind:?}");
            assert_eq!(f.summary, *summary);
            assert_eq!(f.confidence, Confidence::High);
            assert_eq!(f.assets.len(), 2);
            assert!(matches!(f.evidence[0], Evidence::Check { .. }));
        }
    }

    #[test]
    fn passing_or_other_checks_give_nothing() {
        let clean = with_checks(&[]);
        for (detect, kind, _, _, _) in DETECTORS {
            assert!(detect(&clean).is_none());
            // Only IL204 groups several kinds; every other detector ignores the rest.
            let others: Vec<AssetCheckKind> = DETECTORS
                .iter()
                .map(|d| d.1)
                .filter(|k| k != kind)
                .collect();
            if *kind != AssetCheckKind::SriMismatch {
                assert!(detect(&with_checks(&others)).is_none(), "{kind:?}");
            }
        }
    }

    #[test]
    fn several_checks_on_one_file_name_it_once() {
        let t = with_checks(&[
            AssetCheckKind::HashedNameMismatch,
            AssetCheckKind::ContentChanged,
        ]);
        let f = content_mismatch(&t).expect("IL204");
        assert_eq!(f.assets.len(), 2);
        assert_eq!(f.evidence.len(), 4);
    }
}
