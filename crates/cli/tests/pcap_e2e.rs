//! `interloper pcap` on real captures: tcpdump on loopback records the built-in lab while the
//! `interloper check` binary runs against it, then `interloper pcap --json` reads the file and
//! its conclusions are asserted — the stall placed on the middlebox's leg and not the origin's,
//! the dropping side named, the truncation seen, and (with a witness behind an intercepting
//! middlebox) the middlebox's hello told apart from the client's. Bad input is refused in one
//! line. Needs tcpdump and the right to capture on `lo` (root); skips, saying so, without them.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{interloper, json};
use interloper_lab::{Faults, InstanceConfig, Lab, LabConfig, MiddleboxConfig, Protocol, Scenario};
use interloper_testkit::Spawned;
use serde_json::Value;

/// tcpdump writing `file` until stopped; testkit's guard kills it if the test ends first.
struct Tcpdump {
    process: Spawned,
    file: PathBuf,
}

impl Tcpdump {
    /// Starts capturing on `iface` for these ports; `None` (with a printed line) when tcpdump
    /// is missing or may not capture here.
    fn start(iface: &str, ports: &[u16], file: &Path, test: &str) -> Option<Tcpdump> {
        let filter = ports
            .iter()
            .map(|p| format!("tcp port {p}"))
            .collect::<Vec<_>>()
            .join(" or ");
        let mut cmd = Command::new("tcpdump");
        cmd.args(["-i", iface, "-U", "-s", "0", "-w"])
            .arg(file)
            .arg(&filter);
        let Ok(mut process) = Spawned::start(cmd) else {
            println!("SKIP {test}: tcpdump is not installed (scripts/test installs it)");
            return None;
        };
        // The file header is written once the capture is live.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if std::fs::metadata(file).is_ok_and(|m| m.len() >= 24) {
                return Some(Tcpdump {
                    process,
                    file: file.to_path_buf(),
                });
            }
            if let Some(status) = process.exit_status() {
                println!("SKIP {test}: tcpdump cannot capture on {iface} here ({status})");
                return None;
            }
            assert!(Instant::now() < deadline, "tcpdump did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops it (SIGINT flushes the file) and returns the capture's path.
    fn stop(mut self) -> PathBuf {
        // Give the last packets of the run a moment to be written.
        std::thread::sleep(Duration::from_millis(1000));
        let _ = self.process.signal("INT");
        // Past the bound, the guard's kill ends it.
        let _ = self.process.wait_for_exit(Duration::from_secs(10));
        self.file.clone()
    }
}

/// What one run recorded: the report and the lab's addresses.
struct Recorded {
    report: Value,
    middlebox: SocketAddr,
    origin: SocketAddr,
    witness: Option<SocketAddr>,
    witness_backend: Option<SocketAddr>,
    file: PathBuf,
    _dir: tempfile::TempDir,
}

/// Starts the lab, captures `interloper check` against it (`extra` flags added), and reads
/// the capture with `interloper pcap --json`.
fn record(
    cfg: LabConfig,
    samples: u32,
    iface: &str,
    extra: &[&str],
    test: &str,
) -> Option<Recorded> {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let lab = runtime.block_on(Lab::start(cfg)).expect("lab");
    let inst = lab.instances().first().expect("an instance").clone();
    let middlebox = inst.middlebox.expect("a middlebox");
    let mut ports = vec![middlebox.port(), inst.origin.port()];
    ports.extend(
        inst.witness
            .iter()
            .chain(&inst.witness_backend)
            .map(|w| w.port()),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("run.pcap");
    let Some(dump) = Tcpdump::start(iface, &ports, &file, test) else {
        runtime.block_on(lab.shutdown());
        return None;
    };
    let mut args = vec!["check".to_string()];
    args.extend(lab.check_plan(samples).to_check_args());
    args.extend(extra.iter().map(|s| s.to_string()));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let check = interloper(&argv);
    let file = dump.stop();
    assert!(
        check.status.code().is_some_and(|c| c <= 1),
        "check failed to run: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    // The roots the user of the lab has: its public CA, and the inspection CA installed
    // locally (as `check` was given them), for chains seen in the clear.
    let mut pcap_args = vec![
        "pcap".to_string(),
        file.to_str().expect("UTF-8 path").to_string(),
        "--json".to_string(),
        "--no-os-roots".to_string(),
        "--public-roots".to_string(),
        lab.public_roots_pem_path().display().to_string(),
    ];
    if let Some(ca) = &inst.inspection_ca_pem_path {
        pcap_args.extend(["--cacert".to_string(), ca.display().to_string()]);
    }
    let argv: Vec<&str> = pcap_args.iter().map(String::as_str).collect();
    let out = interloper(&argv);
    runtime.block_on(lab.shutdown());
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(Recorded {
        report: json(&out),
        middlebox,
        origin: inst.origin,
        witness: inst.witness,
        witness_backend: inst.witness_backend,
        file,
        _dir: dir,
    })
}

fn findings<'a>(report: &'a Value, code: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == code)
        .collect()
}

fn connections_to(report: &Value, server: SocketAddr) -> Vec<&Value> {
    report["connections"]
        .as_array()
        .expect("connections")
        .iter()
        .filter(|c| c["server"] == server.to_string())
        .collect()
}

/// The longest silence of the server side in a connection: waits and gaps (ms).
fn longest_wait(c: &Value) -> f64 {
    c["exchanges"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|x| {
            let gaps = x["gaps"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|g| g["duration_ms"].as_f64());
            gaps.chain(x["wait_ms"].as_f64())
        })
        .fold(0.0, f64::max)
}

fn ja4s(report: &Value, server: SocketAddr) -> std::collections::BTreeSet<String> {
    connections_to(report, server)
        .iter()
        .flat_map(|c| c["tls"]["client_hellos"].as_array().into_iter().flatten())
        .filter_map(|h| h["ja4"].as_str().map(str::to_string))
        .collect()
}

/// One instance behind a middlebox injecting `faults`.
fn faulty_box(faults: Faults) -> LabConfig {
    let mut mb = MiddleboxConfig::named("Corp Gateway CA", "Example Corp IT");
    mb.faults = faults;
    LabConfig {
        instances: vec![InstanceConfig {
            middlebox: Some(mb),
            ..InstanceConfig::default()
        }],
        seed: 31,
    }
}

fn stalling_box() -> LabConfig {
    faulty_box(Faults {
        stall_probability: 0.3,
        stall: Duration::from_secs(2),
        ..Faults::default()
    })
}

/// Over HTTP/2 a dropped or cut response is a stream reset inside TLS, invisible in a
/// capture; the box drops or cuts HTTP/1.1 responses only, which end the connection.
fn http1_faults(faults: Faults) -> LabConfig {
    faulty_box(Faults {
        only_protocol: Some(Protocol::Http1),
        ..faults
    })
}

#[test]
fn a_stall_is_placed_on_the_middlebox_leg_not_the_origins() {
    let Some(r) = record(
        stalling_box(),
        4,
        "lo",
        &[],
        "a_stall_is_placed_on_the_middlebox_leg_not_the_origins",
    ) else {
        return;
    };
    let report = &r.report;
    assert_eq!(report["schema"], "interloper.pcap/v1");
    let stalls = findings(report, "IL201");
    assert!(
        stalls
            .iter()
            .any(|f| f["target"] == r.middlebox.to_string()),
        "no stall on the middlebox's leg: {report:#}"
    );
    assert!(
        stalls.iter().all(|f| f["target"] != r.origin.to_string()),
        "a stall placed on the origin: {report:#}"
    );
    // The injected 2 s silence is on the client's leg; the origin answered at once.
    let client_leg = connections_to(report, r.middlebox);
    let origin_leg = connections_to(report, r.origin);
    assert!(!client_leg.is_empty() && !origin_leg.is_empty());
    assert!(client_leg.iter().any(|c| longest_wait(c) > 1500.0));
    assert!(
        origin_leg.iter().all(|c| longest_wait(c) < 1000.0),
        "{report:#}"
    );
    assert_eq!(report["verdict"]["root_cause"], "IL201");

    // --port keeps the origin's leg only: nothing stalled there.
    let file = r.file.to_str().expect("UTF-8 path");
    let port = r.origin.port().to_string();
    let out = interloper(&["pcap", file, "--port", &port, "--json"]);
    let origin_only = json(&out);
    assert!(
        findings(&origin_only, "IL201").is_empty(),
        "{origin_only:#}"
    );
    assert_eq!(
        connections_to(&origin_only, r.origin).len(),
        origin_leg.len()
    );
    assert_eq!(
        origin_only["connections"].as_array().map(Vec::len),
        Some(origin_leg.len())
    );
    assert!(origin_only["filtered_out"].as_u64() > Some(0));

    // The HTML page: one lane per connection, self-contained.
    let html = r.file.with_extension("html");
    let out = interloper(&["pcap", file, "--html", html.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(1));
    let page = std::fs::read_to_string(&html).expect("html written");
    let lanes = page.matches("<a href=\"#c").count();
    assert_eq!(
        lanes,
        client_leg.len() + origin_leg.len(),
        "one lane per connection"
    );
    assert!(page.contains("IL201") && !page.contains("<script src"));
}

#[test]
fn a_dropping_middlebox_is_named_as_the_server_side_of_the_clients_leg() {
    // `-i any`: Linux cooked capture (SLL or SLL2) rather than Ethernet.
    let cfg = http1_faults(Faults {
        reset_probability: 0.5,
        ..Faults::default()
    });
    let Some(r) = record(
        cfg,
        6,
        "any",
        &[],
        "a_dropping_middlebox_is_named_as_the_server_side_of_the_clients_leg",
    ) else {
        return;
    };
    let report = &r.report;
    let drops = findings(report, "IL212");
    assert!(
        drops.iter().any(|f| f["target"] == r.middlebox.to_string()),
        "no drop named on the middlebox: {report:#}"
    );
    assert!(drops.iter().all(|f| f["target"] != r.origin.to_string()));
    assert!(
        connections_to(report, r.middlebox)
            .iter()
            .any(|c| c["end"]["by"] == "server" && c["end"]["awaiting_response"] == true),
        "{report:#}"
    );
    assert!(findings(report, "IL213").is_empty(), "{report:#}");
}

#[test]
fn a_truncating_middlebox_is_seen_cutting_responses() {
    let cfg = http1_faults(Faults {
        truncate_probability: 0.5,
        truncate_at: Some(200),
        ..Faults::default()
    });
    let Some(r) = record(
        cfg,
        6,
        "lo",
        &[],
        "a_truncating_middlebox_is_seen_cutting_responses",
    ) else {
        return;
    };
    let report = &r.report;
    let cuts = findings(report, "IL203");
    assert!(
        cuts.iter().any(|f| f["target"] == r.middlebox.to_string()),
        "no truncation seen: {report:#}"
    );
    assert!(cuts.iter().all(|f| f["target"] != r.origin.to_string()));
    assert_eq!(report["verdict"]["status"], "failing");
}

#[test]
fn the_middleboxs_hello_is_told_apart_from_the_clients() {
    let mut cfg = Scenario::find("inspection")
        .expect("inspection scenario")
        .config()
        .expect("config");
    cfg.instances.truncate(1);
    if let Some(i) = cfg.instances.first_mut() {
        i.witness = true;
        let mb = i
            .middlebox
            .get_or_insert_with(|| MiddleboxConfig::named("Corp Gateway CA", "Example Corp IT"));
        mb.faults = Faults::default();
    }
    let Some(r) = record(
        cfg,
        2,
        "lo",
        &[],
        "the_middleboxs_hello_is_told_apart_from_the_clients",
    ) else {
        return;
    };
    let report = &r.report;
    let front = r.witness.expect("a witness");
    let backend = r.witness_backend.expect("the witness's own address");
    assert_ne!(front, backend, "the witness is behind the middlebox");
    // The client's hellos reach the middlebox; the witness behind it gets the middlebox's own.
    let client = ja4s(report, front);
    let behind = ja4s(report, backend);
    assert!(!client.is_empty() && !behind.is_empty(), "{report:#}");
    assert!(
        client.is_disjoint(&behind),
        "client {client:?} vs behind the box {behind:?}"
    );
    // Who spoke: the knowledge file names our own client's classic hello on the front leg.
    let stacks: Vec<&str> = connections_to(report, front)
        .iter()
        .flat_map(|c| c["tls"]["client_hellos"].as_array().into_iter().flatten())
        .filter_map(|h| h["stack"].as_str())
        .collect();
    assert!(
        stacks.iter().any(|s| s.starts_with("rustls (interloper")),
        "{stacks:?}"
    );
    // The fast path finds the very same hellos, on both legs, as the whole analysis.
    let mut want: Vec<String> = report["connections"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| {
            c["tls"]["client_hellos"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |h| {
                    format!(
                        "{}\t{}\t{}\t{}\t{}",
                        c["client"].as_str().unwrap_or_default(),
                        c["server"].as_str().unwrap_or_default(),
                        h["sni"].as_str().unwrap_or("-"),
                        h["ja3_hash"].as_str().unwrap_or_default(),
                        h["ja4"].as_str().unwrap_or_default()
                    )
                })
        })
        .collect();
    let fast = interloper(&["pcap", r.file.to_str().expect("UTF-8"), "--hellos-only"]);
    assert_eq!(
        fast.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&fast.stderr)
    );
    let mut got: Vec<String> = String::from_utf8_lossy(&fast.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    want.sort();
    got.sort();
    assert!(want.len() >= 4, "{want:?}");
    assert_eq!(got, want);
    // As JSON, one versioned object per line with the same hellos and the JA3 strings.
    let as_json = interloper(&[
        "pcap",
        r.file.to_str().expect("UTF-8"),
        "--hellos-only",
        "--json",
    ]);
    assert_eq!(as_json.status.code(), Some(0));
    let mut from_json: Vec<String> = String::from_utf8_lossy(&as_json.stdout)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("a JSON line");
            assert_eq!(v["schema"], "interloper.hello/v1", "{l}");
            assert!(
                v["ja3"].as_str().is_some_and(|j| j.starts_with("771,")),
                "{l}"
            );
            format!(
                "{}\t{}\t{}\t{}\t{}",
                v["client"].as_str().unwrap_or_default(),
                v["server"].as_str().unwrap_or_default(),
                v["sni"].as_str().unwrap_or("-"),
                v["ja3_hash"].as_str().unwrap_or_default(),
                v["ja4"].as_str().unwrap_or_default()
            )
        })
        .collect();
    from_json.sort();
    assert_eq!(from_json, want);
    // Filters apply to the fast path too: only the witness behind the box.
    let port = backend.port().to_string();
    let only = interloper(&[
        "pcap",
        r.file.to_str().expect("UTF-8"),
        "--hellos-only",
        "--port",
        &port,
    ]);
    let lines = String::from_utf8_lossy(&only.stdout).lines().count();
    assert_eq!(
        lines,
        connections_to(report, backend).len(),
        "{}",
        String::from_utf8_lossy(&only.stdout)
    );
}

#[test]
fn a_chain_in_the_clear_is_judged_as_tls_judges_it() {
    // TLS 1.2 to clients: the box's minted chain crosses the wire in the clear.
    let mut cfg = faulty_box(Faults::default());
    if let Some(mb) = cfg.instances.first_mut().and_then(|i| i.middlebox.as_mut()) {
        mb.tls12_only = true;
    }
    let Some(r) = record(
        cfg,
        2,
        "lo",
        &[],
        "a_chain_in_the_clear_is_judged_as_tls_judges_it",
    ) else {
        return;
    };
    let report = &r.report;
    let client_leg = connections_to(report, r.middlebox);
    assert!(
        client_leg
            .iter()
            .any(|c| c["tls"]["certificate_count"].as_u64() > Some(0)
                && c["tls"]["server_hello"]["version"] == "TLS 1.2"),
        "{report:#}"
    );
    // Anchored only in the locally installed inspection CA: the same finding `tls` gives.
    assert!(
        findings(report, "IL102")
            .iter()
            .any(|f| f["target"] == r.middlebox.to_string()),
        "{report:#}"
    );
    // The origin's leg (TLS 1.3, the box as client) shows no chain.
    assert!(
        connections_to(report, r.origin)
            .iter()
            .all(|c| c["tls"]["certificate_count"] == 0)
    );
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a capture\n").expect("write");
    let out = interloper(&["pcap", text.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("not a pcap or pcapng capture"), "{err}");

    // A link type we do not read: pcap header with LINKTYPE_USER0 (147), one packet.
    let mut pcap = Vec::new();
    pcap.extend(0xa1b2_c3d4u32.to_le_bytes());
    pcap.extend(2u16.to_le_bytes());
    pcap.extend(4u16.to_le_bytes());
    pcap.extend([0u8; 8]);
    pcap.extend(65535u32.to_le_bytes());
    pcap.extend(147u32.to_le_bytes());
    pcap.extend([0u8; 8]);
    pcap.extend(4u32.to_le_bytes());
    pcap.extend(4u32.to_le_bytes());
    pcap.extend([1, 2, 3, 4]);
    let odd = dir.path().join("user0.pcap");
    std::fs::write(&odd, &pcap).expect("write");
    let out = interloper(&["pcap", odd.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("link type 147 is not supported"), "{err}");

    // Cut mid-record: read up to the cut, said in a note, not an error.
    let cut = dir.path().join("cut.pcap");
    // (the header alone is a capture; the record is cut)
    let short = pcap.get(..pcap.len() - 2).expect("shorter");
    std::fs::write(&cut, short).expect("write");
    let out = interloper(&["pcap", cut.to_str().expect("path"), "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    assert_eq!(report["stats"]["truncated_file"], true);
    assert!(
        report["notes"].as_array().is_some_and(|n| n
            .iter()
            .any(|t| t.as_str().is_some_and(|t| t.contains("ends in the middle")))),
        "{report:#}"
    );
}

/// `tcpdump -w - | interloper pcap - --hellos-only` watches a capture live: the line for a
/// ClientHello comes out while tcpdump still runs, not when the pipe ends.
#[test]
fn hellos_stream_out_of_a_live_capture() {
    use std::io::{BufRead as _, BufReader, Read as _, Write as _};
    let test = "hellos_stream_out_of_a_live_capture";
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        // Take whatever one client sends, then close: only the client's hello matters here.
        if let Ok((s, _)) = listener.accept() {
            let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
            let mut sink = Vec::new();
            let _ = s.take(1 << 20).read_to_end(&mut sink);
        }
    });
    let Ok(mut dump) = Command::new("tcpdump")
        .args(["-i", "lo", "-U", "-s", "0", "-w", "-"])
        .arg(format!("tcp port {port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        println!("SKIP {test}: tcpdump is not installed (scripts/test installs it)");
        return;
    };
    // tcpdump says "listening on lo" once the capture is live.
    let mut err = BufReader::new(dump.stderr.take().expect("stderr"));
    let mut first = String::new();
    let _ = err.read_line(&mut first);
    if !first.contains("listening on") {
        let _ = dump.kill();
        let _ = dump.wait();
        println!(
            "SKIP {test}: tcpdump cannot capture on lo here ({})",
            first.trim()
        );
        return;
    }
    let mut reader = Command::new(assert_cmd::cargo::cargo_bin("interloper"))
        .args(["pcap", "-", "--hellos-only"])
        .stdin(dump.stdout.take().expect("stdout"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("interloper");
    let out = reader.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });

    let hello = hex::decode(include_str!("../../wire/tests/data/chrome-latest.hello.hex").trim())
        .expect("hex fixture");
    let mut client = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    client.write_all(&hello).expect("send hello");
    let line = rx.recv_timeout(Duration::from_secs(20));
    // Only now does the capture end.
    let still_running = dump.try_wait().ok().flatten().is_none();
    drop(client);
    let _ = Command::new("kill")
        .args(["-INT", &dump.id().to_string()])
        .status();
    let _ = dump.wait();
    let status = reader.wait().expect("interloper ends with the pipe");
    let line = line.expect("a line while the capture ran");
    assert!(still_running, "tcpdump had already stopped");
    let fields: Vec<&str> = line.split('\t').collect();
    assert_eq!(
        fields.get(1).copied(),
        Some(format!("127.0.0.1:{port}").as_str()),
        "{line}"
    );
    assert_eq!(
        fields.get(2).copied(),
        Some("pdx-col.eum-appdynamics.com"),
        "{line}"
    );
    assert_eq!(
        fields.get(4).copied(),
        Some("t13d1516h2_8daaf6152771_e5627efa2ab1"),
        "{line}"
    );
    assert!(status.success(), "{status}");
}
