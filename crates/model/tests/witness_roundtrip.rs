//! What the witness serialises, the client deserialises to the same value.

use interloper_model::witness::{
    ClientHelloReport, EchoHello, HelloRecord, HellosAnswer, Ja3Report, Ja4Report, Negotiated,
    ServedCert, Stamp, Timestamps,
};

fn stamp(us: u64) -> Stamp {
    Stamp {
        unix_us: 1_700_000_000_000_000 + us,
        since_accept_us: us,
    }
}

fn hello_report() -> ClientHelloReport {
    ClientHelloReport {
        client_random: "ab".repeat(32),
        legacy_version: 0x0303,
        record_version: Some(0x0301),
        supported_versions: vec![0x0a0a, 0x0304, 0x0303],
        cipher_suites: vec![0x1301, 0x1302],
        cipher_suite_names: vec!["TLS13_AES_128_GCM_SHA256".into(), "0x1302".into()],
        extensions: vec![0, 10, 16, 43, 51],
        supported_groups: vec![0x11ec, 29],
        key_share_groups: vec![0x11ec],
        alpn: vec!["h2".into(), "http/1.1".into()],
        sni: Some("app.example.test".into()),
        ja3: Ja3Report {
            string: "771,4865-4866,0-10-16-43-51,4588-29,".into(),
            hash: "0".repeat(32),
        },
        ja4: Ja4Report {
            ja4: "t13d0205h2_0a1b2c3d4e5f_000000000000".into(),
            ..Ja4Report::default()
        },
        handshake_base64: "AQAA".into(),
        record_count: 2,
        read_count: 3,
        bytes_read: 1800,
        ..ClientHelloReport::default()
    }
}

fn echo_hello() -> EchoHello {
    EchoHello {
        schema: interloper_model::schema::ECHO_HELLO.into(),
        server_version: "0.1.0".into(),
        peer: "127.0.0.1:50000".into(),
        local: "127.0.0.1:8443".into(),
        client_hello: hello_report(),
        served_chain: vec![ServedCert {
            der_base64: "MAA=".into(),
            sha256: "cd".repeat(32),
            spki_pin: Some("sha256//AAAA".into()),
            subject: Some("CN=app.example.test".into()),
            issuer: None,
        }],
        negotiated: Negotiated {
            tls_version: "TLSv1.3".into(),
            tls_version_id: 0x0304,
            alpn: Some("h2".into()),
            http_version: "HTTP/2.0".into(),
            ..Negotiated::default()
        },
        timestamps: Timestamps {
            accepted: stamp(0),
            hello_read: stamp(150),
            handshake_done: stamp(900),
            request_received: stamp(2_000),
            response_written: stamp(2_250),
        },
        request_number: 1,
    }
}

#[test]
fn the_hello_document_round_trips() {
    let sent = echo_hello();
    let json = serde_json::to_string(&sent).expect("serialise");
    let read: EchoHello = serde_json::from_str(&json).expect("deserialise");
    assert_eq!(read, sent);
    assert!((read.server_ms() - 0.25).abs() < 1e-9);
    assert_eq!(read.served_chain_sha256(), vec!["cd".repeat(32)]);
}

#[test]
fn the_passthrough_answer_round_trips() {
    let sent = HellosAnswer {
        schema: interloper_model::schema::ECHO_HELLOS.into(),
        seen: true,
        client_random: "ab".repeat(32),
        hellos: vec![HelloRecord {
            seen_at_unix_us: 1,
            peer: "127.0.0.1:1".into(),
            client_hello: hello_report(),
        }],
        ring_len: 1,
        ring_capacity: 4096,
    };
    let read: HellosAnswer =
        serde_json::from_str(&serde_json::to_string(&sent).expect("serialise"))
            .expect("deserialise");
    assert_eq!(read, sent);
    assert_eq!(read.ja4s(), vec!["t13d0205h2_0a1b2c3d4e5f_000000000000"]);
}

#[test]
fn a_clock_that_went_backwards_is_no_negative_server_time() {
    let mut h = echo_hello();
    h.timestamps.response_written = stamp(10);
    assert_eq!(h.server_ms(), 0.0);
}

#[test]
fn fields_a_newer_witness_adds_are_ignored() {
    let mut v = serde_json::to_value(echo_hello()).expect("value");
    v["client_hello"]["something_new"] = serde_json::json!([1, 2, 3]);
    v["added_later"] = serde_json::json!({"x": 1});
    let read: EchoHello = serde_json::from_value(v).expect("deserialise");
    assert_eq!(read, echo_hello());
}
