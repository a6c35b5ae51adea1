//! The timeline of one connection built packet by packet (IPv6, raw IP link type): handshake
//! timing, a request and its answer, a gap, out-of-order delivery, a retransmission, and an
//! end by the server before the announced length — as the analysis must tell them.

use etherparse::PacketBuilder;
use interloper_flows::{Analyzer, EndKind, Options, Payload, Side};

const RAW_IP: u32 = 101;
const CLIENT: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const SERVER: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

struct Flags {
    syn: bool,
    ack: bool,
    fin: bool,
}

fn packet(from_client: bool, seq: u32, ack: u32, f: Flags, payload: &[u8]) -> Vec<u8> {
    let (src, dst, sport, dport) = if from_client {
        (CLIENT, SERVER, 50000, 80)
    } else {
        (SERVER, CLIENT, 80, 50000)
    };
    let mut b = PacketBuilder::ipv6(src, dst, 64).tcp(sport, dport, seq, 65535);
    if f.syn {
        b = b.syn();
    }
    if f.ack {
        b = b.ack(ack);
    }
    if f.fin {
        b = b.fin();
    }
    let mut out = Vec::new();
    b.write(&mut out, payload).expect("builds");
    out
}

const fn flags(syn: bool, ack: bool, fin: bool) -> Flags {
    Flags { syn, ack, fin }
}

#[test]
fn a_cut_answer_with_a_gap_is_told_in_order() {
    let mut a = Analyzer::new(Options::default());
    let ms = |t: u64| 1_000_000_000_000 + t * 1000;
    let (c, s) = (1000u32, 5000u32);
    let req = b"GET /static/a.css HTTP/1.1\r\nHost: x\r\n\r\n";
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
    let mut push = |t: u64, p: Vec<u8>| {
        let len = p.len();
        a.packet(ms(t), RAW_IP, &p, len);
    };
    push(0, packet(true, c, 0, flags(true, false, false), b""));
    push(3, packet(false, s, c + 1, flags(true, true, false), b""));
    push(
        4,
        packet(true, c + 1, s + 1, flags(false, true, false), b""),
    );
    push(
        10,
        packet(true, c + 1, s + 1, flags(false, true, false), req),
    );
    // The request again: a retransmission.
    push(
        11,
        packet(true, c + 1, s + 1, flags(false, true, false), req),
    );
    let r = c + 1 + req.len() as u32;
    let mut answer = head.to_vec();
    answer.extend_from_slice(b"abcd");
    push(
        20,
        packet(false, s + 1, r, flags(false, true, false), &answer),
    );
    let at = s + 1 + answer.len() as u32;
    // 2 s later two more bytes arrive out of order, then the one before them.
    push(
        2020,
        packet(false, at + 1, r, flags(false, true, false), b"fg"),
    );
    push(2021, packet(false, at, r, flags(false, true, false), b"e"));
    // The server ends at 7 of 10 body bytes.
    push(
        2030,
        packet(false, at + 3, r, flags(false, true, true), b""),
    );
    let flows = a.finish();
    let [conn] = flows.connections.as_slice() else {
        panic!("one connection: {flows:?}");
    };
    assert_eq!(conn.client.port(), 50000);
    assert!(conn.client.is_ipv6());
    assert_eq!(conn.payload, Payload::Http);
    assert_eq!(conn.syn_synack_ms, Some(3.0));
    assert_eq!(conn.synack_ack_ms, Some(1.0));
    assert_eq!(conn.client_stats.retransmissions, 1);
    let [x] = conn.exchanges.as_slice() else {
        panic!("one exchange: {conn:?}");
    };
    assert_eq!(
        x.request_line.as_deref(),
        Some("GET /static/a.css HTTP/1.1")
    );
    assert_eq!(x.status, Some(200));
    assert_eq!(x.wait_ms, Some(10.0));
    assert_eq!((x.content_length, x.body_bytes), (Some(10), Some(7)));
    assert!(x.truncated());
    let [gap] = x.gaps.as_slice() else {
        panic!("one gap: {x:?}");
    };
    assert_eq!(gap.duration_ms, 2001.0);
    assert_eq!(gap.after_bytes, answer.len() as u64);
    let end = conn.end.as_ref().expect("an end");
    assert_eq!((end.kind, end.by), (EndKind::Fin, Side::Server));
    assert!(end.during_response && !end.awaiting_response);
}
