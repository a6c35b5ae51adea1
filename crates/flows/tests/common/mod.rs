//! Packets for the flows tests: a real ClientHello, TLS records, and TCP segments over IPv4 or
//! IPv6 (no link layer: raw IP, or framed by the test).
// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::net::{IpAddr, SocketAddr};

use etherparse::PacketBuilder;

/// A Chrome ClientHello record (the wire crate's fixture), its reference JA4 and its SNI.
const CHROME: &str = include_str!("../../../wire/tests/data/chrome-latest.hello.hex");
pub const CHROME_JA4: &str = "t13d1516h2_8daaf6152771_e5627efa2ab1";
pub const CHROME_SNI: &str = "pdx-col.eum-appdynamics.com";
/// LINKTYPE_RAW.
pub const RAW_IP: u32 = 101;

pub fn chrome_record() -> Vec<u8> {
    hex::decode(CHROME.trim()).expect("hex fixture")
}

/// A TLS record of type `typ` around `payload`.
pub fn record(typ: u8, payload: &[u8]) -> Vec<u8> {
    let mut r = vec![typ, 3, 3];
    r.extend_from_slice(&u16::try_from(payload.len()).expect("short").to_be_bytes());
    r.extend_from_slice(payload);
    r
}

/// A ServerHello record: TLS 1.2, cipher c02f, no extensions.
pub fn server_hello_record() -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend([7; 32]);
    body.extend([0, 0xc0, 0x2f, 0]);
    let mut msg = vec![2, 0, 0, body.len() as u8];
    msg.extend(body);
    record(22, &msg)
}

#[derive(Clone, Copy, Default)]
pub struct Flags {
    pub syn: bool,
    pub ack: bool,
    pub fin: bool,
    pub rst: bool,
}

const fn flags(syn: bool, ack: bool, fin: bool) -> Flags {
    Flags {
        syn,
        ack,
        fin,
        rst: false,
    }
}

pub const SYN: Flags = flags(true, false, false);
pub const SYN_ACK: Flags = flags(true, true, false);
pub const ACK: Flags = flags(false, true, false);
pub const FIN: Flags = flags(false, true, true);

/// One TCP connection's packets (IP, no link layer), in capture order.
pub struct Conn {
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub packets: Vec<Vec<u8>>,
}

impl Conn {
    pub fn new(client: &str, server: &str) -> Conn {
        Conn {
            client: client.parse().expect("address"),
            server: server.parse().expect("address"),
            packets: Vec::new(),
        }
    }

    pub fn send(&mut self, from_client: bool, seq: u32, f: Flags, payload: &[u8]) -> &mut Conn {
        let (src, dst) = if from_client {
            (self.client, self.server)
        } else {
            (self.server, self.client)
        };
        let ip = match (src.ip(), dst.ip()) {
            (IpAddr::V4(a), IpAddr::V4(b)) => PacketBuilder::ipv4(a.octets(), b.octets(), 64),
            (IpAddr::V6(a), IpAddr::V6(b)) => PacketBuilder::ipv6(a.octets(), b.octets(), 64),
            _ => panic!("mixed address families"),
        };
        let mut b = ip.tcp(src.port(), dst.port(), seq, 65535);
        if f.syn {
            b = b.syn();
        }
        if f.ack {
            b = b.ack(1);
        }
        if f.fin {
            b = b.fin();
        }
        if f.rst {
            b = b.rst();
        }
        let mut out = Vec::new();
        b.write(&mut out, payload).expect("builds");
        self.packets.push(out);
        self
    }

    /// SYN, SYN/ACK, ACK with the client's ISN 1000 and the server's 5000.
    pub fn handshake(&mut self) -> &mut Conn {
        self.send(true, 1000, SYN, b"")
            .send(false, 5000, SYN_ACK, b"")
            .send(true, 1001, ACK, b"")
    }

    /// Client SYN (ISN `isn`), server SYN/ACK (ISN 9000), then the hello in three segments
    /// delivered third, first, first again (retransmitted), second, then the ServerHello.
    pub fn split_handshake(&mut self, isn: u32) -> &mut Conn {
        let hello = chrome_record();
        let (a, rest) = hello.split_at(100);
        let (b, c) = rest.split_at(300);
        let seq = |off: u32| isn.wrapping_add(1).wrapping_add(off);
        self.send(true, isn, SYN, b"")
            .send(false, 9000, SYN_ACK, b"")
            .send(true, seq(400), ACK, c)
            .send(true, seq(0), ACK, a)
            .send(true, seq(0), ACK, a)
            .send(true, seq(100), ACK, b)
            .send(false, 9001, ACK, &server_hello_record())
    }
}
