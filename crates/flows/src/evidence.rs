//! A capture's flows as the findings read them (`interloper_findings::CaptureEvidence`).
//!
//! The reader of a source builds the findings' evidence, as `logs` builds `LogEvidence` and
//! `har` a `BrowserEvidence`: `findings` then links no capture parser, and what judges evidence
//! without reading captures (the internet-facing witness, the check) does not link one either.

use interloper_findings::capture::{
    Alert, CaptureEvidence, Connection, End, EndKind, Exchange, Gap, Hello, Loss, Side, Tls,
};

use crate::{DirectionStats, Flows};

/// The evidence of every connection in `flows`, for `interloper_findings::analyse_pcap`.
pub fn capture_evidence(flows: &Flows) -> CaptureEvidence {
    CaptureEvidence {
        connections: flows.connections.iter().map(connection).collect(),
        packets: flows.stats.packets,
    }
}

fn connection(c: &crate::Connection) -> Connection {
    Connection {
        index: c.index,
        client: c.client,
        server: c.server,
        tls: c.tls.as_ref().map(|t| Tls {
            hello: t.client_hellos.first().map(|h| Hello {
                sni: h.sni.clone(),
                ja4: h.ja4.clone(),
                stack: h.stack.clone(),
                size: h.size,
                segments: h.segments,
            }),
            server_hello: t.server_hello.is_some(),
            handshake_ms: t.handshake_ms,
            alerts: t
                .alerts
                .iter()
                .map(|a| Alert {
                    from: side(a.from),
                    text: a.text.clone(),
                })
                .collect(),
        }),
        exchanges: c
            .exchanges
            .iter()
            .map(|x| Exchange {
                request_line: x.request_line.clone(),
                wait_ms: x.wait_ms,
                gaps: x
                    .gaps
                    .iter()
                    .map(|g| Gap {
                        after_bytes: g.after_bytes,
                        duration_ms: g.duration_ms,
                    })
                    .collect(),
                content_length: x.content_length,
                body_bytes: x.body_bytes,
            })
            .collect(),
        end: c.end.as_ref().map(|e| End {
            kind: match e.kind {
                crate::EndKind::Fin => EndKind::Fin,
                crate::EndKind::Rst => EndKind::Rst,
            },
            by: side(e.by),
            awaiting_response: e.awaiting_response,
            waited_ms: e.waited_ms,
            during_response: e.during_response,
            close_notify: e.close_notify,
            mid_record: e.mid_record,
        }),
        client_loss: loss(&c.client_stats),
        server_loss: loss(&c.server_stats),
    }
}

fn side(s: crate::Side) -> Side {
    match s {
        crate::Side::Client => Side::Client,
        crate::Side::Server => Side::Server,
    }
}

fn loss(s: &DirectionStats) -> Loss {
    Loss {
        packets: s.packets,
        retransmissions: s.retransmissions,
        zero_windows: s.zero_windows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DirectionStats, Payload, TlsSeen};

    #[test]
    fn a_split_hello_without_answer_and_a_server_reset_reach_the_findings() {
        let c = crate::Connection {
            index: 4,
            client: "192.0.2.1:50000".parse().expect("addr"),
            server: "192.0.2.9:443".parse().expect("addr"),
            start_us: 0,
            duration_ms: 30.0,
            syn_seen: true,
            syn_synack_ms: Some(1.0),
            synack_ack_ms: Some(1.0),
            payload: Payload::Tls,
            tls: Some(TlsSeen {
                client_hellos: vec![crate::HelloSeen {
                    at_ms: 2.0,
                    sni: Some("a.test".into()),
                    alpn: vec![],
                    ja3: String::new(),
                    ja3_hash: String::new(),
                    ja4: "t13d1516h2_8daaf6152771_02713d6af862".into(),
                    size: 1800,
                    records: 1,
                    segments: 2,
                    stack: None,
                }],
                ..TlsSeen::default()
            }),
            exchanges: vec![],
            exchanges_total: 0,
            unsolicited_bytes: 0,
            end: Some(crate::End {
                kind: crate::EndKind::Rst,
                by: crate::Side::Server,
                at_ms: 20.0,
                reset_by: vec![crate::Side::Server],
                awaiting_response: false,
                waited_ms: None,
                during_response: false,
                close_notify: None,
                mid_record: false,
            }),
            client_stats: DirectionStats::default(),
            server_stats: DirectionStats {
                packets: 40,
                retransmissions: 4,
                ..DirectionStats::default()
            },
            notes: vec![],
        };
        let flows = Flows {
            connections: vec![c],
            ..Flows::default()
        };
        let ev = capture_evidence(&flows);
        let conn = &ev.connections[0];
        assert_eq!(conn.label(), "#4 192.0.2.1:50000 → 192.0.2.9:443");
        assert_eq!(conn.loss(Side::Server).retransmissions, 4);
        let tls = conn.tls.as_ref().expect("tls");
        assert_eq!(
            (tls.server_hello, tls.hello.as_ref().map(|h| h.segments)),
            (false, Some(2))
        );
        let d = interloper_findings::analyse_pcap(
            &ev,
            &interloper_findings::PcapThresholds::default(),
            &[],
        );
        let codes: Vec<&str> = d.findings.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(codes, vec!["IL215", "IL212", "IL214"]);
    }
}
