//! `run_pcap` and `scan_hellos`, the whole `interloper pcap` pipeline as library calls: the
//! committed Firefox capture, and a built TLS 1.2 connection whose chain is judged with the
//! roots read through the caller's `TrustFiles` (only when a chain is in the clear).

mod common;

use std::cell::Cell;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use interloper_chain::time::OffsetDateTime;
use interloper_chain::{TlsPathError, TlsPathOptions, TrustFiles};
use interloper_flows::{ConnectionFilter, PcapError, PcapPlan, run_pcap, scan_hellos};
use interloper_model::input::Input;

use common::{ACK, Conn, RAW_IP, chrome_record, record, server_hello_record};

/// Trust files from memory, counting the reads: the public roots file is `public`.
struct Files {
    public: Vec<u8>,
    reads: Cell<u32>,
}

impl TrustFiles for Files {
    fn read(&self, _path: &Path) -> io::Result<Vec<u8>> {
        self.reads.set(self.reads.get() + 1);
        Ok(self.public.clone())
    }

    fn os_roots(&self) -> (Vec<Vec<u8>>, Vec<String>) {
        (Vec::new(), Vec::new())
    }
}

fn files(public: Vec<u8>) -> Files {
    Files {
        public,
        reads: Cell::new(0),
    }
}

fn plan(inputs: Vec<Input>, filter: ConnectionFilter) -> PcapPlan {
    PcapPlan {
        inputs,
        filter,
        stall: Duration::from_secs(1),
        trust: TlsPathOptions {
            public_roots: Some(PathBuf::from("public.pem")),
            use_os_roots: false,
            ..TlsPathOptions::default()
        },
        now: OffsetDateTime::now_utc(),
    }
}

fn firefox() -> Input {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/firefox-esr-153-hello.pcap");
    let bytes = std::fs::read(path).expect("fixture");
    Input::from_reader("firefox.pcap", io::Cursor::new(bytes))
}

/// A pcap file of raw IP packets, one a second.
fn pcap(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend(0xa1b2_c3d4u32.to_le_bytes());
    out.extend([2, 0, 4, 0]);
    out.extend([0; 8]);
    out.extend(65535u32.to_le_bytes());
    out.extend(RAW_IP.to_le_bytes());
    for (i, f) in frames.iter().enumerate() {
        out.extend((1_700_000_000 + i as u32).to_le_bytes());
        out.extend(0u32.to_le_bytes());
        out.extend((f.len() as u32).to_le_bytes());
        out.extend((f.len() as u32).to_le_bytes());
        out.extend(f);
    }
    out
}

fn u24(n: usize) -> [u8; 3] {
    let b = u32::try_from(n).expect("small").to_be_bytes();
    [b[1], b[2], b[3]]
}

/// A TLS 1.2 connection: the Chrome hello, then a ServerHello and a Certificate message with
/// `chain` in the clear.
fn tls12_with_chain(chain: &[Vec<u8>]) -> Vec<u8> {
    let mut list = Vec::new();
    for cert in chain {
        list.extend(u24(cert.len()));
        list.extend(cert);
    }
    let mut body = u24(list.len()).to_vec();
    body.extend(list);
    let mut msg = vec![11];
    msg.extend(u24(body.len()));
    msg.extend(body);
    let mut server = server_hello_record();
    server.extend(record(22, &msg));
    let hello = chrome_record();
    let mut c = Conn::new("192.0.2.10:50000", "198.51.100.7:443");
    c.handshake()
        .send(true, 1001, ACK, &hello)
        .send(false, 5001, ACK, &server);
    pcap(&c.packets)
}

#[test]
fn the_firefox_capture_runs_without_reading_trust_files() {
    let trust = files(Vec::new());
    let outcome =
        run_pcap(plan(vec![firefox()], ConnectionFilter::default()), &trust).expect("runs");
    assert_eq!(outcome.files.len(), 1);
    assert_eq!(outcome.files[0].name, "firefox.pcap");
    assert!(outcome.files[0].packets > 0);
    assert_eq!(outcome.flows.connections.len(), 3);
    assert_eq!(outcome.filtered_out, 0);
    // TLS 1.3: no chain in the clear, so no root file is read.
    assert_eq!(trust.reads.get(), 0);

    let mut hellos = Vec::new();
    let notes = scan_hellos(plan(vec![firefox()], ConnectionFilter::default()), |h| {
        hellos.push(h.ja4)
    })
    .expect("scans");
    assert_eq!(hellos.len(), 3, "{notes:?}");
}

#[test]
fn the_filter_leaves_connections_out_of_both_paths() {
    let nowhere = ConnectionFilter {
        port: Some(1),
        ..ConnectionFilter::default()
    };
    let outcome =
        run_pcap(plan(vec![firefox()], nowhere.clone()), &files(Vec::new())).expect("runs");
    assert!(outcome.flows.connections.is_empty());
    assert_eq!(outcome.filtered_out, 3);
    assert!(outcome.diagnosis.findings.is_empty());
    let mut seen = 0;
    scan_hellos(plan(vec![firefox()], nowhere), |_| seen += 1).expect("scans");
    assert_eq!(seen, 0);

    assert_eq!(
        ConnectionFilter::parse_server("[2001:db8::1]:443")
            .map(|(ip, port)| (ip.to_string(), port)),
        Some(("2001:db8::1".to_string(), Some(443)))
    );
    assert_eq!(
        ConnectionFilter::parse_server("[2001:db8::1]").map(|(_, port)| port),
        Some(None)
    );
    assert_eq!(ConnectionFilter::parse_server("example.com"), None);
}

#[test]
fn a_chain_in_the_clear_is_judged_with_the_callers_roots() {
    let dir = std::env::temp_dir().join(format!("interloper-flows-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let served = interloper_testkit::TestPki::generate(
        &dir.join("served"),
        "Inspector CA",
        "Inspector",
        &["example.test"],
    )
    .expect("pki");
    let public = interloper_testkit::TestPki::generate(
        &dir.join("public"),
        "Public CA",
        "Public",
        &["example.test"],
    )
    .expect("pki");
    let chain = served.served_chain_der().expect("chain");
    let capture = tls12_with_chain(&chain);
    let input = || Input::from_reader("tls12.pcap", io::Cursor::new(capture.clone()));

    // A chain that no public root anchors: judged, and the judgement is a finding.
    let trust = files(std::fs::read(&public.ca_cert_pem).expect("pem"));
    let outcome = run_pcap(plan(vec![input()], ConnectionFilter::default()), &trust).expect("runs");
    assert_eq!(trust.reads.get(), 1);
    let codes: Vec<String> = outcome
        .diagnosis
        .findings
        .iter()
        .map(|f| f.code.as_str().to_string())
        .collect();
    assert!(
        codes
            .iter()
            .any(|c| ["IL102", "IL103", "IL105"].contains(&c.as_str())),
        "{codes:?}"
    );

    // A roots file that holds no certificate is the user's to fix.
    let err = run_pcap(
        plan(vec![input()], ConnectionFilter::default()),
        &files(Vec::new()),
    )
    .expect_err("no roots");
    assert!(
        matches!(err, PcapError::Trust(TlsPathError::NoCertificate(_))),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn what_is_not_a_capture_names_the_input() {
    let err = run_pcap(
        plan(
            vec![Input::from_reader(
                "notes.txt",
                io::Cursor::new(b"hello, world".to_vec()),
            )],
            ConnectionFilter::default(),
        ),
        &files(Vec::new()),
    )
    .expect_err("not a capture");
    assert!(matches!(&err, PcapError::Capture { name, .. } if name == "notes.txt"));
    assert!(
        err.to_string()
            .starts_with("notes.txt: not a pcap or pcapng capture"),
        "{err}"
    );
}
