//! The visit protocol's documents to the findings' evidence and back: the page's report becomes
//! `PageDownload`s and a parsed hello its `HelloCodes` for `findings::visits` to judge; the
//! judgement becomes the `VisitAnswer` the page shows. `findings` stays free of the protocol.

use interloper_findings::visits::{
    DownloadFrom, HelloCodes, PageDownload, VisitRecord, WitnessSide, judge_visit,
};
use interloper_model::schema;
use interloper_model::witness::ClientHelloReport;
use interloper_model::witness::visit::{EntryKind, VisitAnswer, VisitReport};

/// The code lists a hello's stack family is read from.
pub(crate) fn hello_codes(h: &ClientHelloReport) -> HelloCodes<'_> {
    HelloCodes {
        cipher_suites: &h.cipher_suites,
        extensions: &h.extensions,
        supported_groups: &h.supported_groups,
        key_share_groups: &h.key_share_groups,
    }
}

/// The downloads the page timed, as the judgement reads them.
pub(crate) fn page_downloads(report: &VisitReport) -> Vec<PageDownload> {
    report
        .entries
        .iter()
        .map(|e| PageDownload {
            from: match e.kind {
                EntryKind::Witness => DownloadFrom::Witness,
                EntryKind::Site => DownloadFrom::Site,
            },
            seed: e.seed,
            ok: e.ok,
            timing_allowed: e.timing_allowed,
            protocol: e.protocol.clone(),
            duration_ms: e.duration_ms,
        })
        .collect()
}

/// Judges a visit from the witness's side and the page's report.
pub(crate) fn judge(side: &WitnessSide, report: &VisitReport, keep_details: bool) -> VisitRecord {
    judge_visit(side, &page_downloads(report), keep_details)
}

/// What the page shows the visitor.
pub(crate) fn answer(record: &VisitRecord) -> VisitAnswer {
    let d = &record.downloads;
    let mut details = record.judgement.reasons.clone();
    if d.stalled_on_path > 0 {
        details.push(format!(
            "{} stalled downloads were answered by the server at once: the time went on the \
             way between it and you.",
            d.stalled_on_path
        ));
    }
    if record.proxy.any() {
        details.push("Your requests passed through a proxy.".into());
    }
    VisitAnswer {
        schema: schema::VISIT_ANSWER.into(),
        visit: record.visit.clone(),
        intercepted: record.judgement.intercepted,
        stalled: d.stalled,
        downloads: d.witness + d.site,
        failed: d.witness_failed + d.site_failed,
        headline: record.headline.clone(),
        details,
    }
}
