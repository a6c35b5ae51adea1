//! `interloper pcap` as one library call: [`PcapPlan`] (the captures, which connections, the
//! stall threshold, the roots chains are judged against) → [`run_pcap`] → [`PcapOutcome`] (the
//! connections kept, each capture's packet count and the [`Diagnosis`]); and
//! [`scan_hellos`], the `--hellos-only` fast path over the same inputs and filter.
//!
//! Chains seen in the clear (TLS ≤ 1.2) are judged by `chain::TlsPath` with the roots `tls`
//! uses, read through the caller's [`TrustFiles`] only when a capture holds certificates. The
//! binary opens the inputs; nothing here needs the I/O `check` crate.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use interloper_chain::time::OffsetDateTime;
use interloper_chain::{
    Negotiated, PresentedSession, TlsPath, TlsPathError, TlsPathOptions, TrustFiles, tls_evidence,
};
use interloper_findings::{Diagnosis, PcapThresholds, TlsEvidence, analyse_pcap};
use interloper_model::input::Input;

use crate::{
    Analyzer, Connection, Flows, FlowsError, FoundHello, HelloScanner, Options, PacketSink,
    capture_evidence, read_into,
};

/// Which connections the user asked about; every part left `None` keeps all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectionFilter {
    /// Only this server address, and port when given.
    pub server: Option<(IpAddr, Option<u16>)>,
    /// Only this server port.
    pub port: Option<u16>,
    /// Only TLS connections whose ClientHello names this server (SNI), any case.
    pub sni: Option<String>,
}

impl ConnectionFilter {
    /// `--server`: an address, or address:port (IPv6 with or without brackets); `None` when it
    /// is neither.
    pub fn parse_server(s: &str) -> Option<(IpAddr, Option<u16>)> {
        if let Ok(sa) = s.parse::<SocketAddr>() {
            Some((sa.ip(), Some(sa.port())))
        } else {
            let ip = s.trim_matches(['[', ']']).parse::<IpAddr>().ok()?;
            Some((ip, None))
        }
    }

    /// Whether a connection is one the user asked about.
    pub fn keeps(&self, c: &Connection) -> bool {
        self.matches(c.server, c.sni())
    }

    /// Whether a connection to `server` naming `sni` is one the user asked about.
    pub fn matches(&self, server: SocketAddr, sni: Option<&str>) -> bool {
        let server_ok = self
            .server
            .is_none_or(|(ip, port)| server.ip() == ip && port.is_none_or(|p| server.port() == p));
        let port_ok = self.port.is_none_or(|p| server.port() == p);
        let sni_ok = self
            .sni
            .as_deref()
            .is_none_or(|want| sni.is_some_and(|n| n.eq_ignore_ascii_case(want)));
        server_ok && port_ok && sni_ok
    }
}

/// Everything one `interloper pcap` run reads and how.
#[derive(Debug)]
pub struct PcapPlan {
    /// The captures, read into one table in this order.
    pub inputs: Vec<Input>,
    /// Which connections are reported.
    pub filter: ConnectionFilter,
    /// A wait for the first response byte, a gap inside a response or a TLS handshake this
    /// long is a stall.
    pub stall: Duration,
    /// The roots, pins and products chains in the clear are judged against.
    pub trust: TlsPathOptions,
    /// The time certificates are judged at.
    pub now: OffsetDateTime,
}

impl PcapPlan {
    /// The reader's options: gaps as long as a stall.
    fn options(&self) -> Options {
        Options {
            gap_threshold_us: u64::try_from(self.stall.as_micros()).unwrap_or(u64::MAX),
            ..Options::default()
        }
    }
}

/// One capture read: its name and its packets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureFile {
    /// The name as given.
    pub name: String,
    /// Packets read from it.
    pub packets: u64,
}

/// What a run found: what the report needs besides the diagnosis.
#[derive(Debug)]
pub struct PcapOutcome {
    /// Findings and verdict.
    pub diagnosis: Diagnosis,
    /// The connections kept by the filter, and the capture's counters.
    pub flows: Flows,
    /// Each capture and its packet count.
    pub files: Vec<CaptureFile>,
    /// Connections the filter left out.
    pub filtered_out: usize,
}

/// Why a run judged nothing: an input that is not a capture, or a trust file that is unusable.
#[derive(Debug, thiserror::Error)]
pub enum PcapError {
    /// The input could not be opened.
    #[error("{name}: {reason}")]
    Open {
        /// The input.
        name: String,
        /// Why (in the message, so not also a `source`: `{:#}` prints it once).
        reason: std::io::Error,
    },
    /// The input is not a capture this crate reads.
    #[error("{name}: {reason}")]
    Capture {
        /// The input.
        name: String,
        /// Why.
        reason: FlowsError,
    },
    /// No packet of any input could be decoded: every one was of a link type not read.
    #[error(transparent)]
    NothingDecoded(FlowsError),
    /// A trust file the user named is unusable.
    #[error(transparent)]
    Trust(#[from] TlsPathError),
}

/// Runs the plan: every capture read into one connection table, filtered, judged.
pub fn run_pcap(plan: PcapPlan, trust_files: &dyn TrustFiles) -> Result<PcapOutcome, PcapError> {
    let mut analyzer = Analyzer::new(plan.options());
    let files = read_all(plan.inputs, &mut analyzer)?;
    let mut flows = analyzer.finish();
    let total = flows.connections.len();
    flows.connections.retain(|c| plan.filter.keeps(c));
    let filtered_out = total - flows.connections.len();
    let chains = visible_chains(&flows, &plan.trust, trust_files, plan.now)?;
    let thresholds = PcapThresholds {
        stall_ms: plan.stall.as_secs_f64() * 1000.0,
        ..PcapThresholds::default()
    };
    let diagnosis = analyse_pcap(&capture_evidence(&flows), &thresholds, &chains);
    Ok(PcapOutcome {
        diagnosis,
        flows,
        files,
        filtered_out,
    })
}

/// `--hellos-only`: hands each ClientHello the filter keeps to `on_hello` as soon as it is
/// complete (no timelines, no findings); returns the notes about the captures.
pub fn scan_hellos(
    plan: PcapPlan,
    mut on_hello: impl FnMut(FoundHello),
) -> Result<Vec<String>, PcapError> {
    let filter = plan.filter.clone();
    let mut scanner = HelloScanner::new(plan.options().limits, |h: FoundHello| {
        if filter.matches(h.server, h.sni.as_deref()) {
            on_hello(h);
        }
    });
    let read = read_all(plan.inputs, &mut scanner);
    let (_, notes) = scanner.finish();
    read.map(|_| notes)
}

/// Reads every input into one sink; an input that is not a capture is an error, and so is a
/// set of inputs none of whose packets could be decoded.
fn read_all<S: PacketSink>(
    inputs: Vec<Input>,
    sink: &mut S,
) -> Result<Vec<CaptureFile>, PcapError> {
    let mut files = Vec::new();
    for input in inputs {
        let name = input.name().to_string();
        let before = sink.stats().packets;
        let reader = input.open().map_err(|reason| PcapError::Open {
            name: name.clone(),
            reason,
        })?;
        read_into(reader, sink).map_err(|reason| PcapError::Capture {
            name: name.clone(),
            reason,
        })?;
        let packets = sink.stats().packets - before;
        files.push(CaptureFile { name, packets });
    }
    let stats = sink.stats();
    let unsupported = stats.unsupported_linktypes.first().copied();
    let decoded = stats.tcp_packets > 0 || stats.packets > stats.skipped_packets;
    if let (Some(linktype), false) = (unsupported, decoded) {
        return Err(PcapError::NothingDecoded(FlowsError::UnsupportedLinktype(
            linktype,
        )));
    }
    Ok(files)
}

/// The chain judgement of every connection whose certificates were in the clear, one per
/// (server, SNI), with the roots `tls` would use; the trust files are read only when there is
/// such a connection.
fn visible_chains(
    flows: &Flows,
    trust: &TlsPathOptions,
    trust_files: &dyn TrustFiles,
    now: OffsetDateTime,
) -> Result<Vec<(usize, TlsEvidence)>, TlsPathError> {
    let with_certs: Vec<&Connection> = flows
        .connections
        .iter()
        .filter(|c| c.tls.as_ref().is_some_and(|t| !t.certificates.is_empty()))
        .collect();
    if with_certs.is_empty() {
        return Ok(Vec::new());
    }
    let path = TlsPath::load(trust, trust_files)?;
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for c in with_certs {
        let Some(t) = &c.tls else { continue };
        let name = c
            .sni()
            .map_or_else(|| c.server.ip().to_string(), str::to_string);
        if !seen.insert((c.server, name.clone())) {
            continue;
        }
        let server_hello = t.server_hello.as_ref();
        let negotiated = Negotiated {
            // The chain judgement's spelling of versions ("TLSv1.2"), as probe records them.
            tls_version: server_hello.map(|s| s.version.replace(' ', "v")),
            alpn: server_hello.and_then(|s| s.alpn.clone()),
        };
        let session = PresentedSession {
            chain: &t.certificates,
            negotiated: &negotiated,
        };
        let report = path.analyse(session, &name, None, None, now);
        out.push((c.index, tls_evidence(&report)));
    }
    Ok(out)
}
