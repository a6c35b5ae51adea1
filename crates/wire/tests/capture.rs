//! Capture reading on synthetic pcap/pcapng files: link types, IPv4/IPv6, out-of-order and
//! retransmitted segments, port reuse, several hellos per stream, non-TCP and damaged input.

use std::net::IpAddr;

use interloper_wire::capture::{Limits, read_capture, read_capture_with};
use interloper_wire::{ClientHello, HelloAssembler, Transport, ja4};

const ETHERNET: u32 = 1;
const RAW: u32 = 101;
const NULL: u32 = 0;
const LINUX_SLL: u32 = 113;

fn chrome_records() -> Vec<u8> {
    let path = format!(
        "{}/tests/data/chrome-latest.hello.hex",
        env!("CARGO_MANIFEST_DIR")
    );
    hex::decode(std::fs::read_to_string(path).unwrap().trim()).unwrap()
}

fn chrome_hello() -> ClientHello {
    let msg = HelloAssembler::new(1 << 16)
        .push(&chrome_records())
        .unwrap()
        .unwrap();
    ClientHello::parse(&msg).unwrap()
}

/// Minimal ServerHello record (TLS 1.2, cipher c02f, no extensions).
fn server_hello_record() -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend([7; 32]);
    body.push(0);
    body.extend([0xc0, 0x2f, 0]);
    let mut msg = vec![2, 0, 0, body.len() as u8];
    msg.extend(body);
    let mut rec = vec![22, 3, 3, 0, msg.len() as u8];
    rec.extend(msg);
    rec
}

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH_ACK: u8 = 0x18;

struct Seg<'a> {
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    seq: u32,
    flags: u8,
    payload: &'a [u8],
}

fn tcp(s: &Seg<'_>) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend(s.sport.to_be_bytes());
    t.extend(s.dport.to_be_bytes());
    t.extend(s.seq.to_be_bytes());
    t.extend(0u32.to_be_bytes());
    t.extend([5 << 4, s.flags, 0xff, 0xff, 0, 0, 0, 0]);
    t.extend_from_slice(s.payload);
    t
}

fn ip(s: &Seg<'_>) -> Vec<u8> {
    let t = tcp(s);
    match (s.src, s.dst) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let total = (20 + t.len()) as u16;
            let mut p = vec![0x45, 0];
            p.extend(total.to_be_bytes());
            p.extend([0, 1, 0x40, 0, 64, 6, 0, 0]);
            p.extend(a.octets());
            p.extend(b.octets());
            p.extend(t);
            p
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mut p = vec![0x60, 0, 0, 0];
            p.extend((t.len() as u16).to_be_bytes());
            p.extend([6, 64]);
            p.extend(a.octets());
            p.extend(b.octets());
            p.extend(t);
            p
        }
        _ => unreachable!("mixed families"),
    }
}

fn frame(linktype: u32, s: &Seg<'_>) -> Vec<u8> {
    let ipp = ip(s);
    let v6 = s.src.is_ipv6();
    let mut f = Vec::new();
    match linktype {
        ETHERNET => {
            f.extend([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]);
            f.extend(if v6 { [0x86, 0xdd] } else { [0x08, 0x00] });
        }
        NULL => f.extend(if v6 { 30u32 } else { 2u32 }.to_le_bytes()),
        LINUX_SLL => {
            f.extend([0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
            f.extend(if v6 { [0x86, 0xdd] } else { [0x08, 0x00] });
        }
        _ => {}
    }
    f.extend(ipp);
    f
}

fn pcap(linktype: u32, frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend(0xa1b2_c3d4u32.to_le_bytes());
    out.extend([2, 0, 4, 0]);
    out.extend([0; 8]);
    out.extend(65535u32.to_le_bytes());
    out.extend(linktype.to_le_bytes());
    for (i, f) in frames.iter().enumerate() {
        out.extend((i as u32).to_le_bytes());
        out.extend(0u32.to_le_bytes());
        out.extend((f.len() as u32).to_le_bytes());
        out.extend((f.len() as u32).to_le_bytes());
        out.extend(f);
    }
    out
}

fn pcapng(linktype: u16, frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    // Section header block.
    out.extend(0x0a0d_0d0au32.to_le_bytes());
    out.extend(28u32.to_le_bytes());
    out.extend(0x1a2b_3c4du32.to_le_bytes());
    out.extend([1, 0, 0, 0]);
    out.extend((-1i64).to_le_bytes());
    out.extend(28u32.to_le_bytes());
    // Interface description block.
    out.extend(1u32.to_le_bytes());
    out.extend(20u32.to_le_bytes());
    out.extend(linktype.to_le_bytes());
    out.extend([0, 0]);
    out.extend(0u32.to_le_bytes());
    out.extend(20u32.to_le_bytes());
    for f in frames {
        let padded = f.len().div_ceil(4) * 4;
        let len = (32 + padded) as u32;
        out.extend(6u32.to_le_bytes());
        out.extend(len.to_le_bytes());
        out.extend([0; 12]);
        out.extend((f.len() as u32).to_le_bytes());
        out.extend((f.len() as u32).to_le_bytes());
        out.extend(f);
        out.extend(vec![0; padded - f.len()]);
        out.extend(len.to_le_bytes());
    }
    out
}

fn v4(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Client SYN, then the hello in three segments delivered 3, 1, 1 (retransmitted), 2,
/// then the server's SYN-ACK and ServerHello.
fn handshake_frames(linktype: u32, c: IpAddr, s: IpAddr, cport: u16, isn: u32) -> Vec<Vec<u8>> {
    let hello = chrome_records();
    let (a, rest) = hello.split_at(100);
    let (b, d) = rest.split_at(300);
    let seg = |seq: u32, flags: u8, payload: &[u8], from_client: bool| {
        let (src, dst, sport, dport) = if from_client {
            (c, s, cport, 443)
        } else {
            (s, c, 443, cport)
        };
        frame(
            linktype,
            &Seg {
                src,
                dst,
                sport,
                dport,
                seq,
                flags,
                payload,
            },
        )
    };
    let sh = server_hello_record();
    vec![
        seg(isn, SYN, &[], true),
        seg(9000, SYN | ACK, &[], false),
        seg(isn.wrapping_add(401), PSH_ACK, d, true),
        seg(isn.wrapping_add(1), PSH_ACK, a, true),
        seg(isn.wrapping_add(1), PSH_ACK, a, true),
        seg(isn.wrapping_add(101), PSH_ACK, b, true),
        seg(9001, PSH_ACK, &sh, false),
    ]
}

fn check_one_stream(bytes: &[u8], c: IpAddr, s: IpAddr) {
    let cap = read_capture(bytes).unwrap();
    assert_eq!(cap.streams.len(), 1, "{cap:?}");
    let st = &cap.streams[0];
    assert_eq!(
        (st.src, st.dst, st.src_port, st.dst_port),
        (c, s, 50000, 443)
    );
    assert_eq!(st.client_hellos, vec![chrome_hello()]);
    assert_eq!(
        ja4(&st.client_hellos[0], Transport::Tcp).ja4,
        "t13d1516h2_8daaf6152771_e5627efa2ab1"
    );
    let sh = st.server_hello.as_ref().expect("server hello");
    assert_eq!(sh.cipher_suite, 0xc02f);
    assert_eq!(interloper_wire::ja3s(sh).string, "771,49199,");
}

#[test]
fn out_of_order_and_retransmitted_segments_on_every_link_type() {
    let (c4, s4) = (v4("10.0.0.2"), v4("192.0.2.10"));
    let (c6, s6) = (v4("2001:db8::2"), v4("2001:db8::10"));
    for lt in [ETHERNET, RAW, NULL, LINUX_SLL] {
        for (c, s) in [(c4, s4), (c6, s6)] {
            let frames = handshake_frames(lt, c, s, 50000, 1000);
            check_one_stream(&pcap(lt, &frames), c, s);
            check_one_stream(&pcapng(lt as u16, &frames), c, s);
        }
    }
}

#[test]
fn sequence_numbers_wrapping_past_zero() {
    let (c, s) = (v4("10.0.0.2"), v4("192.0.2.10"));
    let frames = handshake_frames(ETHERNET, c, s, 50000, u32::MAX - 150);
    check_one_stream(&pcap(ETHERNET, &frames), c, s);
}

#[test]
fn port_reuse_gives_two_streams() {
    let (c, s) = (v4("10.0.0.2"), v4("192.0.2.10"));
    let mut frames = handshake_frames(ETHERNET, c, s, 50000, 1000);
    frames.extend(handshake_frames(ETHERNET, c, s, 50000, 777_777));
    let cap = read_capture(&pcap(ETHERNET, &frames)).unwrap();
    assert_eq!(cap.streams.len(), 2);
    assert!(cap.streams.iter().all(|s| s.client_hellos.len() == 1));
}

#[test]
fn several_hellos_in_one_stream_and_tls_after_a_preamble() {
    let (c, s) = (v4("10.0.0.2"), v4("192.0.2.10"));
    // A SOCKS/CONNECT-like preamble, a hello, a ChangeCipherSpec, a second hello (as after
    // a HelloRetryRequest).
    let mut data = b"CONNECT example.com:443 HTTP/1.1\r\n\r\n".to_vec();
    data.extend(chrome_records());
    data.extend([20, 3, 3, 0, 1, 1]);
    data.extend(chrome_records());
    let seg = Seg {
        src: c,
        dst: s,
        sport: 50000,
        dport: 3128,
        seq: 5,
        flags: PSH_ACK,
        payload: &data,
    };
    let cap = read_capture(&pcap(RAW, &[frame(RAW, &seg)])).unwrap();
    assert_eq!(cap.streams.len(), 1);
    assert_eq!(cap.streams[0].client_hellos.len(), 2);
}

#[test]
fn non_tcp_and_damaged_packets_are_skipped() {
    let (c, s) = (v4("10.0.0.2"), v4("192.0.2.10"));
    let mut frames = handshake_frames(ETHERNET, c, s, 50000, 1000);
    // UDP (QUIC-like) datagram: protocol 17.
    let mut udp = frame(
        ETHERNET,
        &Seg {
            src: c,
            dst: s,
            sport: 50001,
            dport: 443,
            seq: 0,
            flags: 0,
            payload: &[0xc0; 40],
        },
    );
    udp[14 + 9] = 17;
    frames.insert(0, udp);
    frames.insert(1, vec![0xff; 7]); // runt frame
    frames.insert(2, vec![]); // empty frame
    let bytes = pcap(ETHERNET, &frames);
    let cap = read_capture(&bytes).unwrap();
    assert_eq!(cap.streams.len(), 1);
    assert_eq!(cap.stats.skipped_packets, 3);
    // File cut mid-record: what came before is still returned.
    let cut = read_capture(&bytes[..bytes.len() - 10]).unwrap();
    assert!(cut.stats.truncated_file);
    assert_eq!(cut.streams[0].client_hellos.len(), 1);
    assert!(read_capture(b"not a capture at all").is_err());
    assert!(read_capture(&[]).is_err());
}

#[test]
fn stream_and_connection_bounds_hold() {
    let (c, s) = (v4("10.0.0.2"), v4("192.0.2.10"));
    let big = vec![0x17u8; 60_000];
    let mut frames = Vec::new();
    for i in 0..40u32 {
        frames.push(frame(
            RAW,
            &Seg {
                src: c,
                dst: s,
                sport: 50000,
                dport: 443,
                seq: i * 60_000,
                flags: PSH_ACK,
                payload: &big,
            },
        ));
    }
    for port in 1..=20u16 {
        frames.push(frame(
            RAW,
            &Seg {
                src: c,
                dst: s,
                sport: port,
                dport: 443,
                seq: 1,
                flags: SYN,
                payload: &[],
            },
        ));
    }
    let limits = Limits {
        max_stream_bytes: 64 * 1024,
        max_connections: 10,
        max_hello_len: 64 * 1024,
        ..Limits::default()
    };
    let cap = read_capture_with(&pcap(RAW, &frames), &limits).unwrap();
    assert_eq!(cap.streams.len(), 10);
    assert_eq!(cap.streams[0].client_bytes, 64 * 1024);
    assert!(cap.stats.dropped_segments >= 38 + 11);

    // The global budget caps the table however many connections there are.
    let budget = Limits {
        max_total_bytes: 50_000,
        ..Limits::default()
    };
    let cap = read_capture_with(&pcap(RAW, &frames), &budget).unwrap();
    assert_eq!(cap.streams[0].client_bytes, 60_000);
}
