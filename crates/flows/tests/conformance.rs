//! JA4 conformance against the reference outputs in ../shared/conformance/ja4, through both
//! paths of `interloper pcap`: the whole analysis (`read_capture` → `Flows`) and the
//! `--hellos-only` scanner (`HelloScanner` fed by `read_into`). Every capture is read (pcap and
//! pcapng; Ethernet, VLAN, SLL, loopback; IPv4 and IPv6), and every `JA4*.n` value expected
//! for a TCP stream must be reproduced exactly. Whether a stream is TCP comes from the data
//! (the fingerprint's first character: `t` for TCP, `q` QUIC, `d` DTLS), never from a list of
//! files or cases. The analysis reports each hello's JA4; the scanner also hands over the
//! parsed hello, so the raw and original-order forms (JA4_r, JA4_o, JA4_ro) are checked on it.
//!
//! The captures live in the project's shared directory beside the repository, not in a clone:
//! without it these tests say so and pass (see `interloper_testkit::shared_dir`), unless
//! `INTERLOPER_REQUIRE_SHARED=1`.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use interloper_flows::{
    Connection, FoundHello, HelloScanner, Limits, Options, read_capture, read_into,
};
use interloper_wire::{ClientHello, Transport, ja4};

/// The conformance data, or `None` (the test is skipped, saying so) when it is not here.
fn conformance_dir(test: &str) -> Option<PathBuf> {
    interloper_testkit::shared_dir("conformance/ja4", test)
}

/// The captures, sorted by name.
fn capture_paths(dir: &Path) -> Vec<PathBuf> {
    let dir = dir.join("pcap");
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("conformance captures at {}: {e}", dir.display()));
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
    paths.sort();
    paths
}

/// The JA4 client forms this project implements; other JA4+ keys are ignored (FoxIO License).
const FORMS: [&str; 4] = ["JA4", "JA4_r", "JA4_o", "JA4_ro"];

/// Client and server of a stream.
type Tuple = (SocketAddr, SocketAddr);

fn tuple_of(v: &serde_json::Value) -> Option<Tuple> {
    let ip = |k: &str| v.get(k)?.as_str()?.parse::<IpAddr>().ok();
    let port = |k: &str| match v.get(k)? {
        serde_json::Value::String(s) => s.parse::<u16>().ok(),
        n => n.as_u64().and_then(|n| u16::try_from(n).ok()),
    };
    Some((
        SocketAddr::new(ip("src")?, port("srcport")?),
        SocketAddr::new(ip("dst")?, port("dstport")?),
    ))
}

/// `form` of a hello's JA4.
fn form_of(hello: &ClientHello, form: &str) -> String {
    let fp = ja4(hello, Transport::Tcp);
    match form {
        "JA4" => fp.ja4,
        "JA4_r" => fp.ja4_r,
        "JA4_o" => fp.ja4_o,
        _ => fp.ja4_ro,
    }
}

/// Our value with its ALPN characters recomputed by the pre-2024 reference rule (each end
/// byte kept if ASCII, else `9`); only used to recognise that one documented divergence.
fn legacy_alpn(hello: &ClientHello, ours: &str) -> Option<String> {
    let alpn = hello.alpn_raw().into_iter().next()?;
    if alpn.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    let end = |b: u8| if b.is_ascii() { char::from(b) } else { '9' };
    let (first, last) = (*alpn.first()?, *alpn.last()?);
    Some(format!(
        "{}{}{}{}",
        ours.get(..8)?,
        end(first),
        end(last),
        ours.get(10..)?
    ))
}

/// Every hello the `--hellos-only` scanner finds, in the order they complete.
fn scan(bytes: &[u8]) -> Result<Vec<FoundHello>, interloper_flows::FlowsError> {
    let mut found = Vec::new();
    let mut scanner = HelloScanner::new(Limits::default(), |h| found.push(h));
    read_into(bytes, &mut scanner)?;
    drop(scanner);
    Ok(found)
}

/// The scanner's hellos dealt out to the analysis's connections: each connection takes, in
/// order, as many of its client/server pair's hellos as the analysis found on it, and both
/// paths must agree on each (JA3 and JA4). Disagreements and hellos left over are failures.
fn deal<'a>(
    name: &str,
    connections: &[Connection],
    found: &'a [FoundHello],
    failures: &mut Vec<String>,
) -> Vec<Vec<&'a FoundHello>> {
    let mut by_tuple: HashMap<Tuple, VecDeque<&FoundHello>> = HashMap::new();
    for h in found {
        by_tuple
            .entry((h.client, h.server))
            .or_default()
            .push_back(h);
    }
    let mut dealt = Vec::with_capacity(connections.len());
    for c in connections {
        let analysed = c.tls.iter().flat_map(|t| &t.client_hellos);
        let queue = by_tuple.entry((c.client, c.server)).or_default();
        let mut mine = Vec::new();
        for h in analysed {
            let Some(s) = queue.pop_front() else {
                failures.push(format!(
                    "{name}: the scanner missed {} on {} → {}",
                    h.ja4, c.client, c.server
                ));
                continue;
            };
            if (&s.ja3_hash, &s.ja4) != (&h.ja3_hash, &h.ja4) {
                failures.push(format!(
                    "{name} {} → {}: analysis {} {}, scanner {} {}",
                    c.client, c.server, h.ja3_hash, h.ja4, s.ja3_hash, s.ja4
                ));
            }
            mine.push(s);
        }
        dealt.push(mine);
    }
    for (tuple, left) in by_tuple {
        if !left.is_empty() {
            failures.push(format!(
                "{name}: the scanner found {} hello(s) on {tuple:?} the analysis did not",
                left.len()
            ));
        }
    }
    dealt
}

#[test]
fn ja4_matches_reference_for_every_tcp_stream_in_both_paths() {
    let Some(dir) = conformance_dir("ja4_matches_reference_for_every_tcp_stream_in_both_paths")
    else {
        return;
    };
    let paths = capture_paths(&dir);
    assert!(
        paths.len() > 30,
        "expected the full capture set, found {paths:?}"
    );

    let (mut checked, mut analysis_checked) = (0usize, 0usize);
    let (mut skipped_non_tcp, mut extra, mut server_hellos) = (0usize, 0usize, 0usize);
    let mut legacy_alpn_cases = Vec::new();
    let mut failures = Vec::new();
    for path in &paths {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let bytes = std::fs::read(path).expect("read capture");
        let flows = match read_capture(bytes.as_slice(), &Options::default()) {
            Ok(f) => f,
            Err(e) => {
                failures.push(format!("{name}: not read: {e}"));
                continue;
            }
        };
        let found = match scan(&bytes) {
            Ok(f) => f,
            Err(e) => {
                failures.push(format!("{name}: not scanned: {e}"));
                continue;
            }
        };
        let connections = &flows.connections;
        let dealt = deal(&name, connections, &found, &mut failures);
        for sh in connections
            .iter()
            .filter_map(|c| c.tls.as_ref()?.server_hello.as_ref())
        {
            server_hellos += 1;
            assert_eq!(sh.ja3s_hash.len(), 32, "{name}: {sh:?}");
        }
        let Ok(text) = std::fs::read_to_string(dir.join("expected").join(format!("{name}.json")))
        else {
            // A capture with no reference output (e.g. a DTLS sample) only has to be read.
            continue;
        };
        let expected: Vec<serde_json::Value> =
            serde_json::from_str(&text).expect("expected file is a JSON array");

        // Connections with the same client and server (port reuse) are paired in order of
        // appearance.
        let mut by_tuple: HashMap<Tuple, Vec<usize>> = HashMap::new();
        for (i, c) in connections.iter().enumerate() {
            by_tuple.entry((c.client, c.server)).or_default().push(i);
        }
        let mut used: HashMap<Tuple, usize> = HashMap::new();
        let mut matched_hellos = 0usize;
        for entry in &expected {
            let Some(obj) = entry.as_object() else {
                continue;
            };
            let cases: Vec<(&str, usize, &str)> = obj
                .iter()
                .filter_map(|(k, v)| {
                    let (form, n) = k.split_once('.')?;
                    let form = FORMS.iter().find(|f| **f == form)?;
                    Some((*form, n.parse().ok()?, v.as_str()?))
                })
                .collect();
            if cases.is_empty() {
                continue;
            }
            let tcp: Vec<_> = cases.iter().filter(|c| c.2.starts_with('t')).collect();
            skipped_non_tcp += cases.len() - tcp.len();
            if tcp.is_empty() {
                continue;
            }
            let Some(tuple) = tuple_of(entry) else {
                failures.push(format!("{name}: stream without a 4-tuple: {entry}"));
                continue;
            };
            let k = used.entry(tuple).or_default();
            let candidates = by_tuple.get(&tuple).map(Vec::as_slice).unwrap_or_default();
            let Some(&conn) = candidates.get(*k) else {
                failures.push(format!("{name}: no TCP connection {tuple:?} (#{k})"));
                continue;
            };
            *k += 1;
            matched_hellos += obj.keys().filter(|k| k.starts_with("JA4.")).count();
            let analysed = connections
                .get(conn)
                .and_then(|c| c.tls.as_ref())
                .map(|t| t.client_hellos.as_slice())
                .unwrap_or_default();
            let scanned = dealt.get(conn).map(Vec::as_slice).unwrap_or_default();
            for &&(form, n, want) in &tcp {
                checked += 1;
                let hello = n
                    .checked_sub(1)
                    .and_then(|i| scanned.get(i))
                    .map(|h| &h.hello);
                let mut judge = |path: &str, got: Option<String>| {
                    let legacy = hello
                        .zip(got.as_deref())
                        .and_then(|(h, g)| legacy_alpn(h, g));
                    if got.as_deref() == Some(want) {
                        return;
                    }
                    if legacy.as_deref() == Some(want) {
                        legacy_alpn_cases.push(format!(
                            "{name} {form}.{n} ({path}): reference {want}, ours {got:?}"
                        ));
                    } else {
                        failures.push(format!(
                            "{name} {tuple:?} {form}.{n} ({path}): want {want}, got {got:?}"
                        ));
                    }
                };
                judge("scanner", hello.map(|h| form_of(h, form)));
                if form == "JA4" {
                    analysis_checked += 1;
                    let seen = n.checked_sub(1).and_then(|i| analysed.get(i));
                    judge("analysis", seen.map(|h| h.ja4.clone()));
                }
            }
        }
        let ours_total: usize = dealt.iter().map(Vec::len).sum();
        if ours_total > matched_hellos {
            extra += ours_total - matched_hellos;
            eprintln!(
                "{name}: {} ClientHello(s) found beyond the reference's",
                ours_total - matched_hellos
            );
        }
    }
    eprintln!(
        "conformance: {} captures, {checked} JA4 values checked ({analysis_checked} also on the analysis), {skipped_non_tcp} non-TCP values skipped, {extra} extra hellos, {server_hellos} ServerHellos",
        paths.len()
    );
    // The reference outputs show 84 TCP streams with a ServerHello.
    assert!(
        server_hellos >= 84,
        "only {server_hellos} ServerHellos found"
    );
    // Known divergence, reported rather than hidden: the reference outputs predate the JA4
    // spec's hex rule for a non-alphanumeric ALPN (0xba..0xad -> "bd") and show the old
    // "non-ASCII byte -> 9" rule ("99"). We implement the spec (see `ja4_alpn` in
    // crates/wire/src/fingerprint.rs); every other character of those values must still match.
    for c in &legacy_alpn_cases {
        eprintln!("legacy ALPN rule in reference output (spec hex rule implemented): {c}");
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked >= 600, "only {checked} values checked");
    assert!(
        analysis_checked >= 150,
        "only {analysis_checked} JA4 values checked on the analysis"
    );
}

/// Corpus-free fuzz smoke: every conformance capture with random byte flips, truncations and
/// bit-rot in headers must read without panicking, through the analysis and the scanner
/// (bounded: a few dozen variants per file).
#[test]
fn mutated_captures_never_panic() {
    let Some(dir) = conformance_dir("mutated_captures_never_panic") else {
        return;
    };
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut variants = 0;
    for path in capture_paths(&dir) {
        let bytes = std::fs::read(&path).expect("read capture");
        if bytes.is_empty() {
            continue;
        }
        for round in 0..24 {
            let mut m = bytes.clone();
            let len = m.len() as u64;
            match round % 3 {
                0 => m.truncate((next() % len) as usize),
                _ => {
                    // Flips concentrated in the first 4 KiB hit file, link and IP headers.
                    let span = if round % 3 == 1 { len.min(4096) } else { len };
                    for _ in 0..1 + next() % 64 {
                        let i = (next() % span) as usize;
                        m[i] ^= 1 << (next() % 8);
                    }
                }
            }
            let _ = read_capture(m.as_slice(), &Options::default());
            let _ = scan(&m);
            variants += 1;
        }
    }
    assert!(variants > 500, "only {variants} variants ran");
}

/// Damaged captures (cut anywhere, bytes flipped) are read up to the damage, never a panic,
/// with the default bounds and with tiny ones.
#[test]
fn damaged_conformance_captures_never_panic() {
    let Some(dir) = conformance_dir("damaged_conformance_captures_never_panic") else {
        return;
    };
    let tiny = Options {
        gap_threshold_us: 1,
        limits: Limits {
            max_connections: 3,
            max_exchanges: 1,
            max_gaps: 1,
            max_pending_bytes: 200,
            max_total_pending: 400,
            max_handshake_bytes: 200,
            max_head_bytes: 32,
            max_items: 1,
        },
    };
    for path in capture_paths(&dir).iter().take(12) {
        let bytes = std::fs::read(path).expect("read capture");
        for cut in [0, 3, 24, 40, bytes.len() / 3, bytes.len().saturating_sub(7)] {
            let part = bytes.get(..cut).unwrap_or_default();
            let _ = read_capture(part, &Options::default());
            let _ = read_capture(part, &tiny);
        }
        let mut flipped = bytes.clone();
        for i in (60..flipped.len()).step_by(97) {
            if let Some(b) = flipped.get_mut(i) {
                *b ^= 0x5a;
            }
        }
        let _ = read_capture(flipped.as_slice(), &Options::default());
        let _ = read_capture(flipped.as_slice(), &tiny);
        for limits in [Limits::default(), tiny.limits] {
            let mut scanner = HelloScanner::new(limits, |_| {});
            let _ = read_into(flipped.as_slice(), &mut scanner);
            let _ = read_into(
                bytes.get(..bytes.len() / 2).unwrap_or_default(),
                &mut scanner,
            );
        }
    }
}
