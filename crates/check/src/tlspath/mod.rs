//! The TLS path's I/O: one fresh connection examined ([`examine`], `interloper tls`), the
//! witness and passthrough asked ([`witness`]), and the trust files and OS store read for the
//! judgement.
//!
//! The judgement itself is pure and lives below: `interloper_chain::TlsPath` (roots, products,
//! pins, one session judged) and `interloper_report::tls` (the `interloper.tls/v1` document,
//! our hello's fingerprints, the reduction to findings evidence). They are re-exported here so
//! the check engine and its callers keep one import path.

mod examine;
pub mod witness;

pub use examine::{TlsRequest, examine};
pub use interloper_chain::{
    TlsPath, TlsPathError, TlsPathOptions, TrustFiles, WitnessSide, witness_verdict,
};
pub use interloper_report::tls::{
    HelloFingerprints, HelloShapeResult, PassthroughView, ShapeOutcome, TlsExamination,
    TlsNegotiated, WitnessSample, WitnessView, fingerprints, reference_from_json, tls_evidence,
};
pub use witness::{ask_passthrough, ask_witness, sample_witness};

use interloper_chain::{ChainReport, Reference};
use interloper_model::TlsInfo;

/// The machine's files and trust store, as the judgement reads them.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemTrustFiles;

impl TrustFiles for SystemTrustFiles {
    fn read(&self, path: &std::path::Path) -> std::io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn os_roots(&self) -> (Vec<Vec<u8>>, Vec<String>) {
        let loaded = rustls_native_certs::load_native_certs();
        (
            loaded.certs.iter().map(|c| c.as_ref().to_vec()).collect(),
            loaded.errors.iter().map(ToString::to_string).collect(),
        )
    }
}

/// Read the root sets, products and expected certificate `opts` names from this machine.
pub fn load(opts: &TlsPathOptions) -> Result<TlsPath, TlsPathError> {
    TlsPath::load(opts, &SystemTrustFiles)
}

/// Judging a probe's recorded session now, with a witness's view as the probe's client
/// recorded it.
pub trait JudgeSession {
    /// Judge `tls`'s chain for `server_name` at the current time.
    fn judge(
        &self,
        tls: &TlsInfo,
        server_name: &str,
        witness: Option<&WitnessView>,
        reference: Option<Reference>,
    ) -> ChainReport;
}

impl JudgeSession for TlsPath {
    fn judge(
        &self,
        tls: &TlsInfo,
        server_name: &str,
        witness: Option<&WitnessView>,
        reference: Option<Reference>,
    ) -> ChainReport {
        let negotiated = interloper_report::tls::negotiated_of(tls);
        let session = interloper_report::tls::presented_session(tls, &negotiated);
        let side = witness.map(WitnessView::side);
        self.analyse(
            session,
            server_name,
            side.as_ref(),
            reference,
            interloper_chain::time::OffsetDateTime::now_utc(),
        )
    }
}
