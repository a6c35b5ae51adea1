//! The diagnosis of a capture: stalls placed on the side that went silent, ends named by the
//! side that sent them, truncation, loss signs, refused and unanswered handshakes, several TLS
//! clients for one name — and, when a chain was visible, the same TLS detectors as `check`.

use std::collections::BTreeMap;

use interloper_model::units::{fmt_bytes, fmt_duration_ms};
use serde::{Deserialize, Serialize};

use crate::capture::{CaptureEvidence, Connection, EndKind, Side};
use crate::detect::{finding, tls};
use crate::diagnosis::{Scope, Source, diagnose};
use crate::input::{TargetEvidence, TlsEvidence};
use crate::{Code, Confidence, Diagnosis, Evidence, Finding};

/// What counts as a problem in a capture.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PcapThresholds {
    /// A wait for the first response byte, a gap inside a response or a TLS handshake at
    /// least this long is a stall (ms).
    pub stall_ms: f64,
    /// Share of a side's data packets retransmitted that counts as loss (with at least 3).
    pub loss_share: f64,
}

impl Default for PcapThresholds {
    fn default() -> Self {
        PcapThresholds {
            stall_ms: 1000.0,
            loss_share: 0.01,
        }
    }
}

/// Connections shown as evidence per finding.
const EXAMPLES: usize = 5;

/// What one (code, server) pair gathered: distinct descriptions, example connections, count.
#[derive(Default)]
struct Gathered {
    whats: Vec<String>,
    examples: Vec<(String, String)>,
    connections: u64,
}

/// Gathers one finding per (code, server) over the connections that show it.
#[derive(Default)]
struct Gather {
    by: BTreeMap<(Code, String), Gathered>,
}

impl Gather {
    fn add(&mut self, code: Code, c: &Connection, what: String) {
        let e = self.by.entry((code, c.server.to_string())).or_default();
        e.connections += 1;
        if e.examples.len() < EXAMPLES {
            e.examples.push((c.label(), what.clone()));
        }
        if e.whats.len() < 3 && !e.whats.contains(&what) {
            e.whats.push(what);
        }
    }
}

fn side_words(side: Side) -> &'static str {
    match side {
        Side::Client => "the client side",
        Side::Server => "the server side",
    }
}

/// The stall of one exchange, in words, when it is over the threshold.
fn stalls(c: &Connection, th: &PcapThresholds, g: &mut Gather) {
    if let Some(hs) = c.tls.as_ref().and_then(|t| t.handshake_ms)
        && hs >= th.stall_ms
    {
        g.add(
            Code::IL201,
            c,
            format!(
                "the TLS handshake took {} at the capture point",
                fmt_duration_ms(hs)
            ),
        );
    }
    for x in &c.exchanges {
        if let Some(w) = x.wait_ms.filter(|w| *w >= th.stall_ms) {
            let what = x
                .request_line
                .as_deref()
                .map_or_else(String::new, |l| format!(" to {l}"));
            g.add(
                Code::IL201,
                c,
                format!(
                    "the server side took {} to send the first byte of its answer{what}",
                    fmt_duration_ms(w)
                ),
            );
        }
        for gap in x.gaps.iter().filter(|g| g.duration_ms >= th.stall_ms) {
            g.add(
                Code::IL201,
                c,
                format!(
                    "the server side went silent {} in the middle of answering, after its first {}",
                    fmt_duration_ms(gap.duration_ms),
                    fmt_bytes(gap.after_bytes as f64)
                ),
            );
        }
    }
}

fn ends(c: &Connection, th: &PcapThresholds, g: &mut Gather) {
    let Some(end) = &c.end else {
        return;
    };
    let truncated_http = c.exchanges.iter().any(|x| x.truncated());
    let tls_cut = end.by == Side::Server
        && end.during_response
        && (end.close_notify == Some(false) || end.mid_record);
    if truncated_http || (c.tls.is_some() && tls_cut) {
        let what = match c.exchanges.iter().find(|x| x.truncated()) {
            Some(x) => format!(
                "the response ended after {} of the {} its Content-Length announced ({})",
                fmt_bytes(x.body_bytes.unwrap_or(0) as f64),
                fmt_bytes(x.content_length.unwrap_or(0) as f64),
                if end.kind == EndKind::Rst {
                    "reset"
                } else {
                    "closed"
                }
            ),
            None => format!(
                "the server side ended the connection while its response was arriving, {} (no TLS close_notify)",
                if end.mid_record {
                    "in the middle of a TLS record"
                } else {
                    "between records"
                }
            ),
        };
        g.add(Code::IL203, c, what);
        return;
    }
    let verb = |k: EndKind| match k {
        EndKind::Rst => "reset",
        EndKind::Fin => "closed",
    };
    let state = if end.awaiting_response {
        Some("while a request waited for its answer")
    } else if end.during_response {
        Some("while a response was arriving")
    } else {
        None
    };
    match (end.by, end.kind, state) {
        (Side::Server, EndKind::Rst, _) | (Side::Server, EndKind::Fin, Some(_)) => g.add(
            Code::IL212,
            c,
            format!(
                "{} {} the connection {}",
                side_words(end.by),
                verb(end.kind),
                state.unwrap_or("after its answers")
            ),
        ),
        // A client that leaves at once (a cancelled request) is not one that gave up.
        (Side::Client, EndKind::Rst, Some(s)) | (Side::Client, EndKind::Fin, Some(s))
            if end.kind == EndKind::Rst || end.waited_ms.is_some_and(|w| w >= th.stall_ms) =>
        {
            let waited = end
                .waited_ms
                .map_or_else(String::new, |w| format!(" (after {})", fmt_duration_ms(w)));
            g.add(
                Code::IL213,
                c,
                format!(
                    "{} {} the connection {s}{waited}",
                    side_words(end.by),
                    verb(end.kind)
                ),
            )
        }
        _ => {}
    }
}

fn loss(c: &Connection, th: &PcapThresholds, g: &mut Gather) {
    for side in [Side::Client, Side::Server] {
        let s = c.loss(side);
        let share = s.retransmissions as f64 / s.packets.max(1) as f64;
        if s.retransmissions >= 3 && share >= th.loss_share {
            g.add(
                Code::IL214,
                c,
                format!(
                    "{} retransmitted {} of {} packets",
                    side_words(side),
                    s.retransmissions,
                    s.packets
                ),
            );
        }
        if s.zero_windows > 0 {
            g.add(
                Code::IL214,
                c,
                format!(
                    "{} advertised a zero window {} time(s)",
                    side_words(side),
                    s.zero_windows
                ),
            );
        }
    }
}

fn handshakes(c: &Connection, g: &mut Gather) {
    let Some(t) = &c.tls else {
        return;
    };
    for a in &t.alerts {
        if a.text.starts_with("fatal") && t.handshake_ms.is_none() {
            g.add(
                Code::IL110,
                c,
                format!("{} sent the alert `{}`", side_words(a.from), a.text),
            );
        }
    }
    if let Some(h) = &t.hello
        && h.segments > 1
        && !t.server_hello
    {
        g.add(
            Code::IL215,
            c,
            format!(
                "a {}-byte ClientHello in {} segments got no ServerHello",
                h.size, h.segments
            ),
        );
    }
}

/// A JA4 with its ALPN characters (the end of part a) masked: one client offers h2 on some
/// connections and HTTP/1.1 only on others, and is still one client.
fn without_alpn(ja4: &str) -> String {
    match (ja4.get(..8), ja4.get(10..)) {
        (Some(head), Some(tail)) => format!("{head}__{tail}"),
        _ => ja4.to_string(),
    }
}

/// IL111: one SNI, several JA4s.
fn clients_per_name(capture: &CaptureEvidence) -> Option<Finding> {
    let mut by_name: BTreeMap<&str, BTreeMap<String, Vec<&Connection>>> = BTreeMap::new();
    for c in &capture.connections {
        let Some(h) = c.tls.as_ref().and_then(|t| t.hello.as_ref()) else {
            continue;
        };
        let Some(sni) = h.sni.as_deref() else {
            continue;
        };
        by_name
            .entry(sni)
            .or_default()
            .entry(without_alpn(&h.ja4))
            .or_default()
            .push(c);
    }
    let several: Vec<_> = by_name.iter().filter(|(_, v)| v.len() > 1).collect();
    if several.is_empty() {
        return None;
    }
    let names: Vec<String> = several
        .iter()
        .map(|(n, v)| format!("{n} ({} JA4s)", v.len()))
        .collect();
    let mut f = finding(
        Code::IL111,
        None,
        format!(
            "ClientHellos of different TLS clients for {}",
            names.join(", ")
        ),
    );
    for (name, ja4s) in several {
        for (ja4, conns) in ja4s {
            let servers: Vec<String> = conns
                .iter()
                .map(|c| c.server.to_string())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            // Who spoke, when the knowledge file knows the hello.
            let stack = conns
                .iter()
                .find_map(|c| c.tls.as_ref()?.hello.as_ref()?.stack.clone())
                .unwrap_or_else(|| "a stack the knowledge file does not know".into());
            f.evidence.push(Evidence::Stat {
                label: format!("{name} JA4 {ja4}"),
                value: format!(
                    "{stack}: {} connection(s), to {}",
                    conns.len(),
                    servers.join(", ")
                ),
            });
        }
    }
    Some(f)
}

/// Turns a capture's evidence into findings and a verdict. `chains` holds the chain analysis of
/// each connection whose certificates were visible (by connection index), made by the caller
/// with the same root sets as `tls`.
pub fn analyse_pcap(
    capture: &CaptureEvidence,
    th: &PcapThresholds,
    chains: &[(usize, TlsEvidence)],
) -> Diagnosis {
    let mut g = Gather::default();
    for c in &capture.connections {
        stalls(c, th, &mut g);
        ends(c, th, &mut g);
        loss(c, th, &mut g);
        handshakes(c, &mut g);
    }
    let mut findings: Vec<Finding> =
        g.by.into_iter()
            .map(|((code, server), gathered)| {
                let Gathered {
                    whats,
                    examples,
                    connections: n,
                } = gathered;
                let summary = format!("{n} connection(s) to {server}: {}", whats.join("; "));
                let mut f = finding(code, Some(&server), summary);
                if n >= 3 {
                    f.confidence = Confidence::High;
                }
                for (label, value) in examples {
                    f.evidence.push(Evidence::Stat { label, value });
                }
                f
            })
            .collect();
    findings.extend(clients_per_name(capture));
    // Visible chains go through the same detectors as `check`'s TLS path, once per server.
    let mut seen = std::collections::BTreeSet::new();
    for (index, ev) in chains {
        let Some(c) = capture.connections.iter().find(|c| c.index == *index) else {
            continue;
        };
        if !seen.insert(c.server) {
            continue;
        }
        let t = TargetEvidence {
            label: c.server.to_string(),
            tls: Some(ev.clone()),
            ..TargetEvidence::default()
        };
        for mut f in [
            tls::product_match(&t),
            tls::local_anchor(&t),
            tls::minted_traits(&t),
        ]
        .into_iter()
        .flatten()
        {
            f.evidence.push(Evidence::Tls {
                message: format!("certificates seen on {}", c.label()),
            });
            findings.push(f);
        }
    }
    let tls = capture
        .connections
        .iter()
        .filter(|c| c.tls.is_some())
        .count();
    let sampling = format!(
        "{} TCP connection(s), {} with TLS, {} packet(s)",
        capture.connections.len(),
        tls,
        capture.packets
    );
    let clean = if capture.connections.is_empty() {
        "No TCP connection in this capture (check the filter and the interface)."
    } else {
        "Nothing in this capture points at a problem: no stall, drop, cut or refused handshake."
    };
    diagnose(findings, &Scope::plain(Source::Pcap, clean, sampling))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VerdictStatus;
    use crate::capture::{End, Exchange, Loss};

    fn conn(index: usize, server_port: u16) -> Connection {
        Connection {
            index,
            client: "127.0.0.1:40000".parse().expect("addr"),
            server: format!("127.0.0.1:{server_port}").parse().expect("addr"),
            tls: None,
            exchanges: Vec::new(),
            end: None,
            client_loss: Loss::default(),
            server_loss: Loss::default(),
        }
    }

    fn exchange(wait_ms: f64) -> Exchange {
        Exchange {
            wait_ms: Some(wait_ms),
            gaps: Vec::new(),
            request_line: Some("GET /static/a.css HTTP/1.1".into()),
            content_length: Some(900),
            body_bytes: Some(900),
        }
    }

    #[test]
    fn a_slow_answer_is_a_stall_on_that_server_and_a_reset_names_its_side() {
        let mut slow = conn(0, 8443);
        slow.exchanges.push(exchange(2000.0));
        let mut fast = conn(1, 9000);
        fast.exchanges.push(exchange(2.0));
        let mut reset = conn(2, 9000);
        reset.end = Some(End {
            kind: EndKind::Rst,
            by: Side::Server,
            awaiting_response: true,
            waited_ms: Some(5.0),
            during_response: false,
            close_notify: None,
            mid_record: false,
        });
        let capture = CaptureEvidence {
            connections: vec![slow, fast, reset],
            packets: 0,
        };
        let a = analyse_pcap(&capture, &PcapThresholds::default(), &[]);
        let got: Vec<(Code, Option<&str>)> = a
            .findings
            .iter()
            .map(|f| (f.code, f.subject.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                (Code::IL201, Some("127.0.0.1:8443")),
                (Code::IL212, Some("127.0.0.1:9000"))
            ]
        );
        // A stall explains more than a drop; a drop makes it failing.
        assert_eq!(a.verdict.status, VerdictStatus::Failing);
        assert_eq!(a.verdict.root_cause, Some(Code::IL201));
    }

    #[test]
    fn a_body_short_of_its_length_is_truncation_not_a_drop() {
        let mut c = conn(0, 80);
        let mut x = exchange(1.0);
        x.body_bytes = Some(100);
        c.exchanges.push(x);
        c.end = Some(End {
            kind: EndKind::Fin,
            by: Side::Server,
            awaiting_response: false,
            waited_ms: None,
            during_response: true,
            close_notify: None,
            mid_record: false,
        });
        let capture = CaptureEvidence {
            connections: vec![c],
            packets: 0,
        };
        let a = analyse_pcap(&capture, &PcapThresholds::default(), &[]);
        let codes: Vec<Code> = a.findings.iter().map(|f| f.code).collect();
        assert_eq!(codes, vec![Code::IL203]);
    }
}
