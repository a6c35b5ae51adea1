//! ClientHello / ServerHello parsing, reassembly and fingerprints on real and synthetic hellos.

use interloper_wire::{
    ClientHello, Extension, HelloAssembler, ServerHello, Transport, WireError, ja3, ja3s, ja4,
    ja4_only,
};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    hex::decode(text.trim()).expect("fixture is hex")
}

/// The handshake message inside a single-record fixture.
fn message(record_bytes: &[u8]) -> Vec<u8> {
    let mut asm = HelloAssembler::new(1 << 20);
    asm.push(record_bytes)
        .expect("valid records")
        .expect("complete hello")
}

fn u16s(v: &[u16]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_be_bytes()).collect()
}

fn vec16(body: &[u8]) -> Vec<u8> {
    let mut out = (body.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

fn vec8(body: &[u8]) -> Vec<u8> {
    let mut out = vec![body.len() as u8];
    out.extend_from_slice(body);
    out
}

/// Builds a Chrome-like TLS 1.3 ClientHello with GREASE everywhere and a hybrid
/// X25519MLKEM768 key share (1216 bytes), i.e. larger than one Ethernet MTU.
fn pq_hello() -> Vec<u8> {
    let mut exts: Vec<Extension> = Vec::new();
    let mut push = |typ: u16, data: Vec<u8>| exts.push(Extension { typ, data });
    push(0x1a1a, vec![]);
    let mut sni = vec![0u8];
    sni.extend(vec16(b"example.com"));
    push(0x0000, vec16(&sni));
    push(0x000a, vec16(&u16s(&[0x2a2a, 0x11ec, 0x001d, 0x0017])));
    push(0x000b, vec8(&[0]));
    push(0x000d, vec16(&u16s(&[0x0403, 0x3a3a, 0x0804, 0x0401])));
    let mut alpn = vec8(b"h2");
    alpn.extend(vec8(b"http/1.1"));
    push(0x0010, vec16(&alpn));
    push(0x002b, vec8(&u16s(&[0x4a4a, 0x0304, 0x0303])));
    let mut shares = Vec::new();
    shares.extend(u16s(&[0x2a2a]));
    shares.extend(vec16(&[0]));
    shares.extend(u16s(&[0x11ec]));
    shares.extend(vec16(&[7u8; 1216]));
    shares.extend(u16s(&[0x001d]));
    shares.extend(vec16(&[9u8; 32]));
    push(0x0033, vec16(&shares));
    push(0x0015, vec![0; 100]); // padding, as browsers add
    push(0x5a5a, vec![0]);
    push(0xfe0d, vec![1, 2, 3]); // unknown to JA3 tables, kept as is
    let hello = ClientHello {
        legacy_version: 0x0303,
        random: [0x42; 32],
        session_id: vec![0x11; 32],
        cipher_suites: vec![0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f],
        compression_methods: vec![0],
        extensions: exts,
    };
    encode(&hello)
}

/// Serialises a ClientHello as a handshake message (test helper; the crate only parses).
fn encode(h: &ClientHello) -> Vec<u8> {
    let mut body = h.legacy_version.to_be_bytes().to_vec();
    body.extend_from_slice(&h.random);
    body.extend(vec8(&h.session_id));
    body.extend(vec16(&u16s(&h.cipher_suites)));
    body.extend(vec8(&h.compression_methods));
    let mut exts = Vec::new();
    for e in &h.extensions {
        exts.extend(e.typ.to_be_bytes());
        exts.extend(vec16(&e.data));
    }
    body.extend(vec16(&exts));
    let len = body.len() as u32;
    let mut msg = vec![1, (len >> 16) as u8, (len >> 8) as u8, len as u8];
    msg.extend(body);
    msg
}

/// Wraps a handshake message in records of at most `chunk` payload bytes.
fn records(msg: &[u8], chunk: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for part in msg.chunks(chunk) {
        out.extend([22, 3, 1]);
        out.extend(vec16(part));
    }
    out
}

#[test]
fn real_hello_matches_reference_ja4() {
    let hello = ClientHello::parse(&message(&fixture("tls-alpn-h2.hello.hex"))).unwrap();
    let fp = ja4(&hello, Transport::Tcp);
    assert_eq!(fp.ja4, "t12d4605h2_85626a9a5f7f_aaf95bb78ec9");
    assert_eq!(fp.ja4_o, "t12d4605h2_644f5d117d98_094daec7ec8d");
    assert!(fp.ja4_ro.ends_with(
        "_0000,000b,000a,000d,0010_0601,0603,efef,0501,0503,0401,0403,eeee,eded,0301,0303,0201,0203"
    ));
    assert_eq!(hello.sni().as_deref(), Some("www.cloudflare.com"));
    assert_eq!(hello.alpn(), ["h2", "http/1.1"]);
}

#[test]
fn chrome_hello_matches_reference_ja4_all_forms() {
    let hello = ClientHello::parse(&message(&fixture("chrome-latest.hello.hex"))).unwrap();
    let fp = ja4(&hello, Transport::Tcp);
    assert_eq!(fp.ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
    assert_eq!(fp.ja4_o, "t13d1516h2_acb858a92679_9aeef56da6aa");
    assert_eq!(
        fp.ja4_r,
        "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601"
    );
    // GREASE is kept in the parsed hello, in wire order.
    assert!(interloper_wire::is_grease(hello.cipher_suites[0]));
    assert!(
        hello
            .extensions
            .iter()
            .any(|e| interloper_wire::is_grease(e.typ))
    );
    assert_eq!(ja4(&hello, Transport::Quic).ja4.chars().next(), Some('q'));
}

#[test]
fn grease_is_kept_when_parsing_and_dropped_from_fingerprints() {
    let msg = pq_hello();
    let hello = ClientHello::parse(&msg).unwrap();
    assert_eq!(hello.cipher_suites[0], 0x0a0a);
    assert_eq!(hello.extensions[0].typ, 0x1a1a);
    assert_eq!(
        hello.signature_algorithms(),
        [0x0403, 0x3a3a, 0x0804, 0x0401]
    );
    assert_eq!(hello.supported_versions(), [0x4a4a, 0x0304, 0x0303]);
    let fp = ja4(&hello, Transport::Tcp);
    // 5 real ciphers; 9 real extensions (2 GREASE dropped); first ALPN h2.
    assert!(fp.ja4.starts_with("t13d0509h2_"), "{}", fp.ja4);
    assert!(fp.ja4_r.ends_with("_0403,0804,0401"), "{}", fp.ja4_r);
    assert!(!fp.ja4_ro.contains("1a1a") && !fp.ja4_ro.contains("0a0a"));
    let j = ja3(&hello);
    assert_eq!(
        j.string,
        "771,4865-4866-4867-49195-49199,0-10-11-13-16-43-51-21-65037,4588-29-23,0"
    );
    assert_eq!(j.hash.len(), 32);
}

#[test]
fn post_quantum_key_share_spanning_two_records() {
    let msg = pq_hello();
    assert!(
        msg.len() > 1460, // one TCP segment's MSS on Ethernet
        "hello is {} bytes",
        msg.len()
    );
    let stream = records(&msg, 1000);
    let mut asm = HelloAssembler::new(64 * 1024);
    let got = asm.push(&stream).unwrap().unwrap();
    assert_eq!(got, msg);
    assert_eq!(asm.consumed(), stream.len());
    let hello = ClientHello::parse(&got).unwrap();
    assert_eq!(hello.key_share_groups(), [0x2a2a, 0x11ec, 0x001d]);
    assert_eq!(hello.key_shares()[1], (0x11ec, 1216));
    assert_eq!(hello.sni().as_deref(), Some("example.com"));
    assert_eq!(interloper_wire::group_name(0x11ec), Some("X25519MLKEM768"));
}

#[test]
fn split_at_every_byte_boundary_gives_the_same_hello() {
    let msg = pq_hello();
    let mut stream = records(&msg, 700);
    stream.extend([23, 3, 3, 0, 1, 0]); // application data after the hello is never read
    let whole = {
        let mut a = HelloAssembler::new(64 * 1024);
        a.push(&stream).unwrap().unwrap()
    };
    for cut in 0..=stream.len() {
        let (x, y) = stream.split_at(cut);
        let mut a = HelloAssembler::new(64 * 1024);
        let first = a.push(x).unwrap();
        let got = match first {
            Some(m) => m,
            None => a.push(y).unwrap().expect("complete after second push"),
        };
        assert_eq!(got, whole, "cut at {cut}");
        assert_eq!(a.consumed(), stream.len() - 6, "cut at {cut}");
    }
    // One byte at a time.
    let mut a = HelloAssembler::new(64 * 1024);
    let mut found = None;
    for b in &stream {
        if let Some(m) = a.push(std::slice::from_ref(b)).unwrap() {
            found = Some(m);
        }
    }
    assert_eq!(found, Some(whole));
}

#[test]
fn assembler_rejects_non_tls_and_oversized() {
    let mut a = HelloAssembler::new(64 * 1024);
    assert_eq!(
        a.push(b"SSH-2.0-OpenSSH_9.6\r\n"),
        Err(WireError::NotHandshakeRecord(b'S'))
    );
    // Sticky.
    assert!(a.push(&[22, 3, 1, 0, 4]).is_err());
    let mut a = HelloAssembler::new(100);
    assert!(matches!(
        a.push(&records(&pq_hello(), 1000)),
        Err(WireError::MessageTooLong { .. })
    ));
    let mut a = HelloAssembler::new(100);
    assert_eq!(
        a.push(&[22, 3, 1, 0xff, 0xff]),
        Err(WireError::RecordTooLong(0xffff))
    );
    let mut a = HelloAssembler::new(100);
    assert_eq!(a.push(&[22, 3, 1, 0, 0]), Err(WireError::EmptyRecord));
}

#[test]
fn truncations_and_trailing_bytes_are_errors() {
    let msg = pq_hello();
    for n in 0..msg.len() {
        assert!(ClientHello::parse(&msg[..n]).is_err(), "prefix {n} parsed");
    }
    let mut long = msg.clone();
    long.push(0);
    assert!(matches!(
        ClientHello::parse(&long),
        Err(WireError::TrailingBytes { .. })
    ));
    assert!(matches!(
        ServerHello::parse(&msg),
        Err(WireError::UnexpectedHandshakeType {
            expected: 2,
            found: 1
        })
    ));
}

/// Tiny deterministic xorshift so the property loop needs no extra crate and is reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn random_mutations_never_panic() {
    let seeds = [
        message(&fixture("chrome-latest.hello.hex")),
        message(&fixture("tls-alpn-h2.hello.hex")),
        pq_hello(),
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for base in &seeds {
        for _ in 0..3000 {
            let mut m = base.clone();
            match rng.below(4) {
                0 => m.truncate(rng.below(m.len())),
                1 => {
                    for _ in 0..=rng.below(4) {
                        let i = rng.below(m.len());
                        m[i] = rng.next() as u8;
                    }
                }
                2 => {
                    let i = rng.below(m.len());
                    m.insert(i, rng.next() as u8);
                }
                _ => {
                    let i = rng.below(m.len());
                    m.remove(i);
                }
            }
            if let Ok(h) = ClientHello::parse(&m) {
                // Every accessor and fingerprint must cope with whatever parsed.
                let _ = (h.sni(), h.alpn(), h.supported_versions(), h.key_shares());
                let _ = (
                    h.supported_groups(),
                    h.signature_algorithms(),
                    h.ec_point_formats(),
                );
                let _ = ja3(&h);
                // The fast form is the full one's first.
                assert_eq!(ja4_only(&h, Transport::Tcp), ja4(&h, Transport::Tcp).ja4);
            }
            let _ = ServerHello::parse(&m);
            let mut a = HelloAssembler::new(64 * 1024);
            let _ = a.push(&records(&m, 1 + rng.below(600)));
        }
    }
}

#[test]
fn server_hello_and_ja3s() {
    // TLS 1.3 ServerHello: supported_versions 0x0304, key_share x25519.
    let mut body = vec![3, 3];
    body.extend([0x55; 32]);
    body.extend(vec8(&[0xaa; 32]));
    body.extend(0x1301u16.to_be_bytes());
    body.push(0);
    let mut exts = Vec::new();
    exts.extend(0x002bu16.to_be_bytes());
    exts.extend(vec16(&0x0304u16.to_be_bytes()));
    exts.extend(0x0033u16.to_be_bytes());
    let mut ks = 0x001du16.to_be_bytes().to_vec();
    ks.extend(vec16(&[1; 32]));
    exts.extend(vec16(&ks));
    body.extend(vec16(&exts));
    let mut msg = vec![2, 0, (body.len() >> 8) as u8, body.len() as u8];
    msg.extend(body);
    let sh = ServerHello::parse(&msg).unwrap();
    assert_eq!(sh.selected_version(), 0x0304);
    assert_eq!(sh.key_share_group(), Some(0x001d));
    assert!(!sh.is_hello_retry_request());
    let j = ja3s(&sh);
    assert_eq!(j.string, "771,4865,43-51");
    // md5("771,4865,43-51") computed independently with coreutils md5sum.
    assert_eq!(j.hash, "f4febc55ea12b31ae17cfb7e614afda8");
}

#[test]
fn ja4_alpn_rules() {
    let with_alpn = |first: &[u8]| {
        let mut h = ClientHello::parse(&pq_hello()).unwrap();
        let e = h.extensions.iter_mut().find(|e| e.typ == 0x0010).unwrap();
        e.data = if first.is_empty() {
            vec16(&[])
        } else {
            vec16(&vec8(first))
        };
        let fp = ja4(&h, Transport::Tcp).ja4;
        fp[8..10].to_string()
    };
    assert_eq!(with_alpn(b"h2"), "h2");
    assert_eq!(with_alpn(b"http/1.1"), "h1");
    assert_eq!(with_alpn(b"h"), "hh");
    // Spec hex rule: high nibble of the first byte, low nibble of the last.
    assert_eq!(with_alpn(&[0xab, 0xcd]), "ad");
    assert_eq!(with_alpn(&[0xba, 0xad]), "bd");
    assert_eq!(with_alpn(b"h/"), "6f");
    assert_eq!(with_alpn(b""), "00");
    let mut h = ClientHello::parse(&pq_hello()).unwrap();
    h.extensions.retain(|e| e.typ != 0x0010);
    assert_eq!(&ja4(&h, Transport::Tcp).ja4[8..10], "00");
}

#[test]
fn ja3_known_answers_on_real_hellos() {
    // Expected values computed by an independent script written from the Salesforce spec.
    let chrome = ClientHello::parse(&message(&fixture("chrome-latest.hello.hex"))).unwrap();
    let j = ja3(&chrome);
    assert_eq!(
        j.string,
        "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,35-65281-0-27-18-17513-45-43-13-16-51-10-5-23-11-21,29-23-24,0"
    );
    assert_eq!(j.hash, "8883b2acda8ceb1a4f416c16d9b6c42f");
    let old = ClientHello::parse(&message(&fixture("tls-alpn-h2.hello.hex"))).unwrap();
    assert_eq!(ja3(&old).hash, "3faa4ad39f690c4ef1c3160caa375465");
}
