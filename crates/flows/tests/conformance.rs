//! The flows reader against the JA4 conformance captures (../shared/conformance/ja4): every file
//! is read (pcap and pcapng, Ethernet, VLAN, SLL, loopback, IPv6) without error, and every
//! ClientHello the whole-file reader of `interloper-wire` finds is found here with the same
//! JA3 and JA4 on the same connection.

use std::collections::BTreeSet;

use interloper_flows::{HelloScanner, Limits, Options, read_capture, read_into};
use interloper_wire::{Transport, ja3, ja4};

#[test]
fn every_conformance_capture_reads_and_hellos_match_the_wire_reader() {
    let Some(dir) = interloper_testkit::shared_dir(
        "conformance/ja4",
        "every_conformance_capture_reads_and_hellos_match_the_wire_reader",
    ) else {
        return;
    };
    let mut names: Vec<_> = std::fs::read_dir(dir.join("pcap"))
        .expect("conformance captures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    names.sort();
    let mut hellos = 0;
    for path in names {
        let bytes = std::fs::read(&path).expect("read capture");
        let wire = interloper_wire::capture::read_capture(&bytes).expect("wire reads it");
        let flows = read_capture(bytes.as_slice(), &Options::default())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let want: BTreeSet<(String, u16, String, String)> = wire
            .streams
            .iter()
            .flat_map(|s| {
                s.client_hellos.iter().map(|h| {
                    (
                        s.src.to_string(),
                        s.src_port,
                        ja3(h).hash,
                        ja4(h, Transport::Tcp).ja4,
                    )
                })
            })
            .collect();
        let got: BTreeSet<(String, u16, String, String)> = flows
            .connections
            .iter()
            .flat_map(|c| {
                c.tls.iter().flat_map(move |t| {
                    t.client_hellos.iter().map(move |h| {
                        (
                            c.client.ip().to_string(),
                            c.client.port(),
                            h.ja3_hash.clone(),
                            h.ja4.clone(),
                        )
                    })
                })
            })
            .collect();
        let missing: Vec<_> = want.difference(&got).collect();
        assert!(
            missing.is_empty(),
            "{}: hellos missing {missing:?}",
            path.display()
        );
        // The `--hellos-only` scanner finds the same hellos as the whole analysis.
        let mut fast = BTreeSet::new();
        let mut scanner = HelloScanner::new(Limits::default(), |h| {
            fast.insert((
                h.client.ip().to_string(),
                h.client.port(),
                h.ja3_hash,
                h.ja4,
            ));
        });
        read_into(bytes.as_slice(), &mut scanner)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        drop(scanner);
        assert_eq!(fast, got, "{}: fast path vs analysis", path.display());
        hellos += want.len();
    }
    assert!(hellos > 30, "only {hellos} hellos in the conformance set");
}

/// Damaged captures (cut anywhere, bytes flipped) are read up to the damage, never a panic.
#[test]
fn damaged_conformance_captures_never_panic() {
    let Some(dir) = interloper_testkit::shared_dir(
        "conformance/ja4",
        "damaged_conformance_captures_never_panic",
    ) else {
        return;
    };
    let mut paths: Vec<_> = std::fs::read_dir(dir.join("pcap"))
        .expect("conformance captures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    let tiny = Options {
        gap_threshold_us: 1,
        limits: interloper_flows::Limits {
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
    for path in paths.iter().take(12) {
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
