//! The `--hellos-only` scanner, packet by packet: it finds the hellos the whole analysis finds
//! (split, reordered, retransmitted, retried after a HelloRetryRequest, on a reused port), and
//! nothing in streams that are not a client's TLS; its bounds hold.

mod common;

use common::{ACK, CHROME_JA4, CHROME_SNI, Conn, FIN, RAW_IP, SYN, chrome_record, record};
use interloper_flows::{Analyzer, FoundHello, HelloScanner, Limits, Options, PacketSink};

/// A connection from 10.0.0.1, client port `port`, to 10.0.0.2:443.
fn conn(port: u16) -> Conn {
    Conn::new(&format!("10.0.0.1:{port}"), "10.0.0.2:443")
}

fn scan(packets: &[Vec<u8>], limits: Limits) -> (Vec<FoundHello>, Vec<String>) {
    let mut found = Vec::new();
    let mut s = HelloScanner::new(limits, |h| found.push(h));
    for (i, p) in packets.iter().enumerate() {
        s.packet(1_000_000 + i as u64, RAW_IP, p, p.len());
    }
    let (_, notes) = s.finish();
    (found, notes)
}

/// The whole analysis's hellos: (client port, JA4) in connection order.
fn analysed(packets: &[Vec<u8>]) -> Vec<(u16, String)> {
    let mut a = Analyzer::new(Options::default());
    for (i, p) in packets.iter().enumerate() {
        a.packet(1_000_000 + i as u64, RAW_IP, p, p.len());
    }
    a.finish()
        .connections
        .iter()
        .flat_map(|c| {
            c.tls
                .iter()
                .flat_map(|t| &t.client_hellos)
                .map(move |h| (c.client.port(), h.ja4.clone()))
        })
        .collect()
}

fn ports_and_ja4(found: &[FoundHello]) -> Vec<(u16, String)> {
    found
        .iter()
        .map(|h| (h.client.port(), h.ja4.clone()))
        .collect()
}

#[test]
fn a_hello_is_found_with_its_addresses_and_the_servers_stream_is_passed_over() {
    let hello = chrome_record();
    let mut c = conn(40000);
    c.handshake()
        .send(true, 1001, ACK, &hello)
        // The server's ServerHello-looking record and data are never taken for a hello.
        .send(false, 5001, ACK, &record(22, &[2, 0, 0, 2, 3, 3]))
        .send(false, 5011, ACK, &record(23, &[0; 40]))
        .send(true, 1001 + hello.len() as u32, FIN, b"")
        .send(false, 5056, FIN, b"");
    let (found, notes) = scan(&c.packets, Limits::default());
    let [h] = found.as_slice() else {
        panic!("one hello: {found:?}");
    };
    assert_eq!((h.client, h.server), (c.client, c.server));
    assert_eq!(h.client.to_string(), "10.0.0.1:40000");
    assert_eq!(h.ja4, CHROME_JA4);
    assert_eq!(h.sni.as_deref(), Some(CHROME_SNI));
    assert_eq!(h.ja3_hash.len(), 32);
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(ports_and_ja4(&found), analysed(&c.packets));
}

#[test]
fn a_hello_split_reordered_and_retransmitted_is_found_once() {
    let hello = chrome_record();
    let (a, rest) = hello.split_at(100);
    let (b, tail) = rest.split_at(300);
    let seq_b = 1001 + a.len() as u32;
    let seq_c = seq_b + b.len() as u32;
    let mut c = conn(40001);
    c.handshake()
        .send(true, seq_c, ACK, tail)
        .send(true, seq_b, ACK, b)
        // The last part again, then the first, then the whole hello resent.
        .send(true, seq_c, ACK, tail)
        .send(true, 1001, ACK, a)
        .send(true, 1001, ACK, &hello);
    let (found, _) = scan(&c.packets, Limits::default());
    assert_eq!(ports_and_ja4(&found), vec![(40001, CHROME_JA4.to_string())]);
    assert_eq!(ports_and_ja4(&found), analysed(&c.packets));
}

#[test]
fn a_second_hello_after_a_retry_is_found_and_application_data_ends_the_search() {
    let hello = chrome_record();
    let ccs = record(20, &[1]);
    let mut seq = 1001u32;
    let mut c = conn(40002);
    c.handshake();
    for bytes in [&hello, &ccs, &hello, &record(23, &[7; 30]), &hello] {
        c.send(true, seq, ACK, bytes);
        seq += bytes.len() as u32;
    }
    let (found, _) = scan(&c.packets, Limits::default());
    assert_eq!(found.len(), 2, "{found:?}");
    // A hello-shaped record after application data is not a hello (it would be encrypted).
    assert!(found.iter().all(|h| h.ja4 == CHROME_JA4));
}

#[test]
fn a_reused_port_is_a_new_connection_a_tunnel_is_followed_and_plain_streams_give_nothing() {
    let hello = chrome_record();
    let mut c = conn(40003);
    c.handshake()
        .send(true, 1001, ACK, &hello)
        .send(true, 1001 + hello.len() as u32, FIN, b"")
        // The same ports again with another ISN.
        .send(true, 90000, SYN, b"")
        .send(true, 90001, ACK, &hello);
    let mut http = conn(40004);
    http.handshake()
        .send(true, 1001, ACK, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .send(true, 1028, ACK, &hello);
    let mut garbage = conn(40005);
    // Starts like a handshake record, then is not TLS at all.
    garbage
        .handshake()
        .send(true, 1001, ACK, &[22, 3, 1, 0, 8, 1, 0, 0, 99, 0xff, 0xff])
        .send(true, 1012, ACK, b"\xff\xff\xff\xff\xff\xff");
    // A tunnel: TLS after the CONNECT request.
    let connect = b"CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n";
    let mut tunnel = conn(40006);
    tunnel
        .handshake()
        .send(true, 1001, ACK, connect)
        .send(
            false,
            5001,
            ACK,
            b"HTTP/1.1 200 Connection established\r\n\r\n",
        )
        .send(true, 1001 + connect.len() as u32, ACK, &hello);
    let mut packets = c.packets.clone();
    packets.extend(http.packets.clone());
    packets.extend(garbage.packets.clone());
    packets.extend(tunnel.packets.clone());
    let (found, _) = scan(&packets, Limits::default());
    assert_eq!(
        ports_and_ja4(&found),
        vec![
            (40003, CHROME_JA4.to_string()),
            (40003, CHROME_JA4.to_string()),
            (40006, CHROME_JA4.to_string())
        ]
    );
    assert_eq!(ports_and_ja4(&found), analysed(&packets));
}

#[test]
fn bounds_hold_connections_holes_and_message_size() {
    let hello = chrome_record();
    let mut packets = Vec::new();
    for port in 41000..41010u16 {
        let mut c = conn(port);
        c.handshake().send(true, 1001, ACK, &hello);
        packets.extend(c.packets);
    }
    let few = Limits {
        max_connections: 3,
        ..Limits::default()
    };
    // Ten connections whose hellos all wait for what comes next: the table holds at most
    // two directions per connection allowed, the rest are counted.
    let (found, notes) = scan(&packets, few);
    assert!((3..=6).contains(&found.len()), "{found:?}");
    assert!(
        notes.iter().any(|n| n.contains("past the limit of 3")),
        "{notes:?}"
    );
    // Finished connections whose FINs the capture missed do not hold their places: all ten
    // hellos are found through a table of three.
    let mut finished = Vec::new();
    for port in 43000..43010u16 {
        let mut c = conn(port);
        c.handshake().send(true, 1001, ACK, &hello).send(
            true,
            1001 + hello.len() as u32,
            ACK,
            &record(23, &[9; 40]),
        );
        finished.extend(c.packets);
    }
    let (found, notes) = scan(&finished, few);
    assert_eq!(found.len(), 10, "{found:?}");
    assert!(notes.is_empty(), "{notes:?}");

    // A hole that never fills: the bytes held behind it stay under the bound.
    let mut c = conn(42000);
    c.handshake();
    for i in 0..50u32 {
        c.send(true, 1101 + i * 100, ACK, &[0u8; 100]);
    }
    let small = Limits {
        max_pending_bytes: 1000,
        ..Limits::default()
    };
    let (found, _) = scan(&c.packets, small);
    assert!(found.is_empty());

    // Tens of thousands of one-byte segments behind a hole: held segments are few (the hole
    // is given up), so the scan stays quick and finds nothing.
    let mut c = conn(42002);
    c.handshake();
    for i in 0..50_000u32 {
        c.send(true, 1002 + i, ACK, &[0x16]);
    }
    c.send(true, 1001, ACK, &hello);
    let started = std::time::Instant::now();
    assert!(scan(&c.packets, Limits::default()).0.is_empty());
    assert!(started.elapsed() < std::time::Duration::from_secs(20));

    // A hello larger than the handshake bound is not assembled.
    let tiny = Limits {
        max_handshake_bytes: 200,
        ..Limits::default()
    };
    let mut c = conn(42001);
    c.handshake().send(true, 1001, ACK, &hello);
    assert!(scan(&c.packets, tiny).0.is_empty());
}
