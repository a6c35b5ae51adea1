//! The diagnosis on hand-built evidence: each fault pattern gives its code, clean evidence
//! gives nothing, and the verdict names the cause that explains the rest.

use interloper_findings::*;
use interloper_model::{
    BodySample, ErrorKind, HttpVersion, Phase, Phases, RequestError, RequestRecord,
};

fn rec(seq: u64, url: &str, ttfb: f64, body: f64, size: u64) -> RequestRecord {
    // Built from JSON so the test only names the fields the analysis reads.
    let mut r: RequestRecord = serde_json::from_value(serde_json::json!({
        "seq": seq, "url": url, "started_ms": seq as f64 * 10.0,
        "remote_addr": "127.0.0.1:443", "connection_id": seq, "reused": false,
        "http_version": "HTTP/2", "status": 200, "content_length": size,
        "bytes_received": size, "phases": {}, "tls": null, "headers": [],
        "body_curve": [], "error": null
    }))
    .expect("record");
    r.phases = Phases {
        dns_ms: Some(0.2),
        connect_ms: Some(0.3),
        tls_ms: Some(2.0),
        write_ms: Some(0.05),
        ttfb_ms: Some(ttfb),
        first_byte_ms: Some(0.1),
        body_ms: Some(body),
        total_ms: Some(2.6 + ttfb + body),
    };
    r
}

fn asset(
    url: &str,
    n: u64,
    size: u64,
    f: impl Fn(u64, RequestRecord) -> RequestRecord,
) -> AssetEvidence {
    AssetEvidence {
        url: url.to_string(),
        records: (0..n)
            .map(|i| f(i, rec(i, url, 3.0 + (i % 3) as f64, 1.0, size)))
            .collect(),
        checks: vec![],
    }
}

fn target(label: &str, assets: Vec<AssetEvidence>) -> TargetEvidence {
    TargetEvidence {
        label: label.to_string(),
        assets,
        ..Default::default()
    }
}

fn codes(a: &Analysis) -> Vec<Code> {
    a.diagnosis.findings.iter().map(|f| f.code).collect()
}

#[test]
fn clean_evidence_gives_no_findings_and_says_how_much_was_sampled() {
    let t = target(
        "https://a/",
        vec![
            asset("https://a/static/app.css", 40, 2000, |_, r| r),
            asset("https://a/static/app.js", 40, 90_000, |_, r| r),
        ],
    );
    let a = analyse(&[t], &ThresholdConfig::default());
    assert!(a.diagnosis.findings.is_empty(), "{:?}", codes(&a));
    assert_eq!(a.diagnosis.verdict.status, VerdictStatus::Clean);
    assert!(
        a.diagnosis.verdict.basis.contains("80 requests"),
        "{}",
        a.diagnosis.verdict.basis
    );
    assert!(
        a.diagnosis.verdict.basis.contains("3.7%"),
        "{}",
        a.diagnosis.verdict.basis
    );
}

#[test]
fn two_second_header_stalls_are_il201_in_the_ttfb_phase() {
    let t = target(
        "https://a/",
        vec![asset("https://a/static/app.css", 60, 2000, |i, mut r| {
            if i % 10 == 3 {
                r.phases.ttfb_ms = Some(2000.0);
            }
            r
        })],
    );
    let a = analyse(&[t], &ThresholdConfig::default());
    assert_eq!(codes(&a), vec![Code::IL201]);
    let f = &a.diagnosis.findings[0];
    assert!(f.summary.contains("6 of 60"), "{}", f.summary);
    assert!(
        f.summary.contains("waiting for response headers"),
        "{}",
        f.summary
    );
    assert_eq!(f.confidence, Confidence::High);
    assert_eq!(a.diagnosis.verdict.status, VerdictStatus::Degraded);
    assert_eq!(a.diagnosis.verdict.root_cause, Some(Code::IL201));
}

#[test]
fn resets_timeouts_and_truncation_are_separated() {
    let t = target(
        "https://a/",
        vec![asset("https://a/static/big.js", 20, 500_000, |i, mut r| {
            match i {
                2 => {
                    r.error = Some(RequestError {
                        kind: ErrorKind::ResetBeforeHeaders,
                        phase: Phase::Ttfb,
                        message: "reset".into(),
                    });
                    r.status = None;
                }
                5 => {
                    r.error = Some(RequestError {
                        kind: ErrorKind::Truncated,
                        phase: Phase::Body,
                        message: "short".into(),
                    });
                    r.bytes_received = 250_000;
                }
                7 => {
                    r.error = Some(RequestError {
                        kind: ErrorKind::HeadersTimeout,
                        phase: Phase::Ttfb,
                        message: "timeout".into(),
                    });
                    r.status = None;
                }
                _ => {}
            }
            r
        })],
    );
    let a = analyse(&[t], &ThresholdConfig::default());
    let c = codes(&a);
    assert!(
        c.contains(&Code::IL202) && c.contains(&Code::IL203),
        "{c:?}"
    );
    let il202 = a
        .diagnosis
        .findings
        .iter()
        .find(|f| f.code == Code::IL202)
        .unwrap();
    assert!(il202.summary.contains("2 of 20"), "{}", il202.summary);
}

#[test]
fn a_slow_steady_body_is_a_trickle_not_a_stall() {
    let t = target(
        "https://a/",
        vec![asset("https://a/static/img.png", 10, 40_000, |i, mut r| {
            if i == 4 {
                r.phases.body_ms = Some(4000.0);
                r.body_curve = (1..=20)
                    .map(|k| BodySample {
                        at_ms: k as f64 * 200.0,
                        bytes: k * 2000,
                    })
                    .collect();
            }
            r
        })],
    );
    let a = analyse(&[t], &ThresholdConfig::default());
    assert_eq!(codes(&a), vec![Code::IL205]);
}

#[test]
fn stalls_only_on_large_bodies_are_il207() {
    let big = asset("https://a/static/big.js", 20, 1_000_000, |i, mut r| {
        if i % 5 == 0 {
            r.phases.body_ms = Some(3000.0);
            r.body_curve = vec![BodySample {
                at_ms: 2900.0,
                bytes: 1_000_000,
            }];
        }
        r
    });
    let small = asset("https://a/static/s.css", 20, 1000, |_, r| r);
    let a = analyse(
        &[target("https://a/", vec![big, small])],
        &ThresholdConfig::default(),
    );
    let c = codes(&a);
    assert!(c.contains(&Code::IL207), "{c:?}");
    assert_eq!(a.diagnosis.verdict.root_cause, Some(Code::IL207));
}

#[test]
fn one_bad_address_is_il206() {
    let t = target(
        "https://a/",
        vec![asset("https://a/static/s.css", 30, 1000, |i, mut r| {
            if i % 2 == 1 {
                r.remote_addr = Some("[::1]:443".parse().unwrap());
                if i % 4 == 1 {
                    r.error = Some(RequestError {
                        kind: ErrorKind::ConnectTimeout,
                        phase: Phase::Connect,
                        message: "t".into(),
                    });
                }
            }
            r
        })],
    );
    let a = analyse(&[t], &ThresholdConfig::default());
    let f = a
        .diagnosis
        .findings
        .iter()
        .find(|f| f.code == Code::IL206)
        .expect("IL206");
    assert!(f.summary.contains("::1"), "{}", f.summary);
    // Every failure is on that address: IL206 is the diagnosis, IL202 is folded into it, and
    // failed requests make the verdict failing rather than degraded.
    assert!(!codes(&a).contains(&Code::IL202), "{:?}", codes(&a));
    assert!(f.summary.contains("failed"), "{}", f.summary);
    assert_eq!(a.diagnosis.verdict.status, VerdictStatus::Failing);
}

#[test]
fn failures_spread_over_addresses_stay_il202_beside_the_address_finding() {
    // Stalls on one address, a reset on the other: IL206 cannot hold every failure.
    let t = target(
        "https://a/",
        vec![asset("https://a/static/s.css", 40, 1000, |i, mut r| {
            if i % 2 == 1 {
                r.remote_addr = Some("127.0.0.2:443".parse().unwrap());
                if i % 4 == 1 {
                    r.phases.ttfb_ms = Some(2100.0);
                }
            } else if i == 10 {
                r.error = Some(RequestError {
                    kind: ErrorKind::ResetBeforeHeaders,
                    phase: Phase::Ttfb,
                    message: "reset".into(),
                });
                r.status = None;
            }
            r
        })],
    );
    let a = analyse(&[t], &ThresholdConfig::default());
    let c = codes(&a);
    assert!(
        c.contains(&Code::IL206) && c.contains(&Code::IL202),
        "{c:?}"
    );
    assert!(!c.contains(&Code::IL201), "{c:?}");
}

#[test]
fn known_product_names_inspection_first_with_its_symptoms() {
    let mut t = target(
        "https://d/",
        vec![asset("https://d/static/app.css", 60, 2000, |i, mut r| {
            if i % 12 == 0 {
                r.phases.ttfb_ms = Some(2100.0);
            }
            r
        })],
    );
    t.tls = Some(TlsEvidence {
        status: TlsStatus::Intercepted,
        confidence: Confidence::High,
        product: Some("FortiGate (Fortinet)".into()),
        leaf_subject: Some("CN=d".into()),
        leaf_issuer: Some("CN=FortiGate CA".into()),
        items: vec![
            TlsItem {
                kind: TlsItemKind::ProductMatch,
                message: "issuer CN=FortiGate CA matches FortiGate".into(),
            },
            TlsItem {
                kind: TlsItemKind::LocalAnchorOnly,
                message: "anchored only in a local root".into(),
            },
        ],
    });
    let a = analyse(&[t], &ThresholdConfig::default());
    assert_eq!(a.diagnosis.findings[0].code, Code::IL103);
    assert!(codes(&a).contains(&Code::IL102) && codes(&a).contains(&Code::IL201));
    assert_eq!(a.diagnosis.verdict.status, VerdictStatus::Intercepted);
    assert!(
        a.diagnosis
            .verdict
            .summary
            .starts_with("HTTPS inspection by FortiGate"),
        "{}",
        a.diagnosis.verdict.summary
    );
    assert!(
        a.diagnosis.verdict.summary.contains("stalls"),
        "{}",
        a.diagnosis.verdict.summary
    );
}

#[test]
fn a_private_ca_alone_is_never_called_interception() {
    let mut t = target(
        "https://p/",
        vec![asset("https://p/static/a.css", 30, 1000, |_, r| r)],
    );
    t.tls = Some(TlsEvidence {
        status: TlsStatus::PrivatePkiUnknown,
        confidence: Confidence::Medium,
        product: None,
        leaf_subject: None,
        leaf_issuer: Some("CN=Corp Internal CA".into()),
        items: vec![TlsItem {
            kind: TlsItemKind::LocalAnchorOnly,
            message: "anchored only in a local root".into(),
        }],
    });
    let a = analyse(&[t], &ThresholdConfig::default());
    assert_eq!(codes(&a), vec![Code::IL102]);
    // Never interception, and never clean either: the path is trusted only by this machine.
    assert_eq!(a.diagnosis.findings[0].severity, Severity::Warning);
    assert_eq!(a.diagnosis.verdict.status, VerdictStatus::Unverified);
    assert!(
        a.diagnosis
            .verdict
            .summary
            .contains("trusted only by this machine"),
        "{}",
        a.diagnosis.verdict.summary
    );
}

#[test]
fn requests_refused_at_the_certificate_are_il112_not_failures() {
    let mut t = target(
        "https://u/",
        vec![asset("https://u/", 1, 1000, |_, mut r| {
            r.error = Some(interloper_model::RequestError {
                kind: interloper_model::ErrorKind::TlsCertificate,
                phase: interloper_model::Phase::Tls,
                message: "invalid peer certificate: UnknownIssuer".into(),
            });
            r.status = None;
            r
        })],
    );
    t.tls = Some(TlsEvidence {
        status: TlsStatus::Untrusted,
        confidence: Confidence::High,
        product: None,
        leaf_subject: Some("CN=u".into()),
        leaf_issuer: Some("CN=Corp Gateway CA".into()),
        items: vec![TlsItem {
            kind: TlsItemKind::Untrusted,
            message:
                "issued by CN=Corp Gateway CA, which is neither a public CA nor the server's own"
                    .into(),
        }],
    });
    let a = analyse(&[t], &ThresholdConfig::default());
    assert_eq!(codes(&a), vec![Code::IL112]);
    assert_eq!(a.diagnosis.verdict.root_cause, Some(Code::IL112));
    assert_eq!(a.diagnosis.verdict.status, VerdictStatus::Failing);
    assert!(
        a.diagnosis.verdict.summary.contains("CN=Corp Gateway CA"),
        "{}",
        a.diagnosis.verdict.summary
    );
    // Still counted as failed in the target's numbers.
    assert_eq!(a.targets[0].failed, 1);
}

#[test]
fn witness_mismatch_is_proof() {
    let mut t = target(
        "https://w/",
        vec![asset("https://w/static/a.css", 10, 1000, |_, r| r)],
    );
    t.witness = Some(WitnessEvidence {
        url: "https://w:9443/".into(),
        client_random_matched: false,
        chain_matched: false,
        client_ja4: Some("t13d1516h2_a_b".into()),
        witness_ja4: Some("t13d3112h2_c_d".into()),
        witness_stack: None,
        server_ms: Some(1.0),
        client_ms: Some(3.0),
        samples: vec![],
    });
    let a = analyse(&[t], &ThresholdConfig::default());
    assert_eq!(a.diagnosis.findings[0].code, Code::IL101);
    assert_eq!(a.diagnosis.findings[0].confidence, Confidence::High);
    assert!(
        a.diagnosis
            .verdict
            .summary
            .contains("proven by the witness")
    );
}

#[test]
fn the_outlier_among_four_instances_is_named() {
    let mut ts: Vec<TargetEvidence> = (1..=4)
        .map(|k| {
            let mut t = target(
                &format!("https://app{k}/"),
                vec![asset(
                    &format!("https://app{k}/static/a.css"),
                    40,
                    1000,
                    |_, r| r,
                )],
            );
            t.tls = Some(TlsEvidence {
                status: TlsStatus::Clean,
                confidence: Confidence::High,
                product: None,
                leaf_subject: None,
                leaf_issuer: Some("CN=Public CA".into()),
                items: vec![],
            });
            t.static_version = Some("abc".into());
            t
        })
        .collect();
    ts[3].tls = Some(TlsEvidence {
        status: TlsStatus::LikelyIntercepted,
        confidence: Confidence::Medium,
        product: None,
        leaf_subject: None,
        leaf_issuer: Some("CN=Corp Gateway".into()),
        items: vec![
            TlsItem {
                kind: TlsItemKind::LocalAnchorOnly,
                message: "anchored only in a local root".into(),
            },
            TlsItem {
                kind: TlsItemKind::MintedTraits,
                message: "no SCTs, issued 2 minutes ago".into(),
            },
        ],
    });
    for r in ts[3].assets[0].records.iter_mut().step_by(8) {
        r.phases.ttfb_ms = Some(2500.0);
    }
    let a = analyse(&ts, &ThresholdConfig::default());
    let il401 = a
        .diagnosis
        .findings
        .iter()
        .find(|f| f.code == Code::IL401)
        .expect("IL401");
    assert_eq!(il401.subject.as_deref(), Some("https://app4/"));
    assert_eq!(
        a.diagnosis.verdict.subject.as_deref(),
        Some("https://app4/")
    );
    assert_eq!(a.diagnosis.verdict.status, VerdictStatus::Intercepted);
    assert!(
        a.diagnosis.verdict.summary.contains("app4"),
        "{}",
        a.diagnosis.verdict.summary
    );
    assert!(!codes(&a).contains(&Code::IL304));
}

#[test]
fn different_static_builds_are_il304() {
    let mut a1 = target(
        "https://a/",
        vec![asset("https://a/static/x.css", 5, 100, |_, r| r)],
    );
    let mut a2 = target(
        "https://b/",
        vec![asset("https://b/static/x.css", 5, 100, |_, r| r)],
    );
    a1.static_version = Some("v1".into());
    a2.static_version = Some("v2".into());
    let a = analyse(&[a1, a2], &ThresholdConfig::default());
    assert!(codes(&a).contains(&Code::IL304));
}

#[test]
fn asset_checks_map_to_codes() {
    let mut t = target(
        "https://a/",
        vec![asset(
            "https://a/static/base.0123456789ab.css",
            3,
            100,
            |_, r| r,
        )],
    );
    t.assets[0].checks = vec![
        AssetCheck {
            kind: AssetCheckKind::HashedNameMismatch,
            expected: Some("0123456789ab".into()),
            actual: Some("ffffffffffff".into()),
            detail: "md5 differs".into(),
        },
        AssetCheck {
            kind: AssetCheckKind::WrongTypeNosniff,
            expected: Some("text/css".into()),
            actual: Some("text/plain".into()),
            detail: "nosniff".into(),
        },
        AssetCheck {
            kind: AssetCheckKind::ShortCache,
            expected: None,
            actual: None,
            detail: "no max-age".into(),
        },
    ];
    let a = analyse(&[t], &ThresholdConfig::default());
    assert_eq!(codes(&a), vec![Code::IL204, Code::IL303, Code::IL305]);
    assert!(
        a.diagnosis.findings[0]
            .summary
            .contains("base.0123456789ab.css")
    );
    assert_eq!(a.diagnosis.verdict.status, VerdictStatus::Failing);
}

#[test]
fn statuses_are_reported_once_per_code() {
    let t = target(
        "https://a/",
        vec![
            asset("https://a/static/gone.css", 3, 100, |_, mut r| {
                r.status = Some(404);
                r
            }),
            asset("https://a/static/locked.js", 3, 100, |_, mut r| {
                r.status = Some(403);
                r
            }),
        ],
    );
    let a = analyse(&[t], &ThresholdConfig::default());
    assert_eq!(codes(&a), vec![Code::IL301, Code::IL302]);
}

#[test]
fn every_code_has_a_documentation_page() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for code in Code::ALL {
        let page = root.join(code.doc_path());
        let text =
            std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("{}: {e}", page.display()));
        assert!(
            text.contains(code.as_str()) && text.contains(code.entry().title),
            "{} does not name its code and title",
            page.display()
        );
    }
}

#[test]
fn a_404_seen_twice_is_one_finding() {
    let mut t = target(
        "https://a/",
        vec![asset("https://a/static/gone.css", 3, 100, |_, mut r| {
            r.status = Some(404);
            r
        })],
    );
    t.assets[0].checks = vec![AssetCheck {
        kind: AssetCheckKind::NotFound,
        expected: None,
        actual: Some("404".into()),
        detail: "not found".into(),
    }];
    let a = analyse(&[t], &ThresholdConfig::default());
    assert_eq!(codes(&a), vec![Code::IL301]);
    assert_eq!(a.diagnosis.findings[0].assets.len(), 1);
}

#[test]
fn stalls_that_also_hit_the_witness_are_placed_on_the_path() {
    let mut t = target(
        "https://a/",
        vec![asset("https://a/static/app.css", 40, 2000, |i, mut r| {
            if i % 10 == 0 {
                r.phases.ttfb_ms = Some(2000.0);
            }
            r
        })],
    );
    t.witness = Some(WitnessEvidence {
        url: "https://a:8443/".into(),
        client_random_matched: true,
        chain_matched: true,
        client_ja4: None,
        witness_ja4: None,
        witness_stack: None,
        server_ms: Some(0.1),
        client_ms: Some(2.0),
        samples: vec![
            (Some(2.0), Some(0.1)),
            (Some(2003.0), Some(0.1)),
            (Some(1.8), Some(0.1)),
        ],
    });
    let a = analyse(&[t], &ThresholdConfig::default());
    let f = a
        .diagnosis
        .findings
        .iter()
        .find(|f| f.code == Code::IL201)
        .expect("IL201");
    let on_path = f
        .evidence
        .iter()
        .any(|e| matches!(e, Evidence::Witness { message } if message.contains("on the path")));
    assert!(on_path, "{:#?}", f.evidence);
}

#[test]
fn large_only_stalls_are_one_finding_not_two() {
    let big = asset("https://a/static/big.js", 20, 1_000_000, |i, mut r| {
        if i % 5 == 0 {
            r.phases.body_ms = Some(3000.0);
            r.body_curve = vec![
                BodySample {
                    at_ms: 5.0,
                    bytes: 16_384,
                },
                BodySample {
                    at_ms: 2900.0,
                    bytes: 1_000_000,
                },
            ];
        }
        r
    });
    let small = asset("https://a/static/s.css", 20, 1000, |_, r| r);
    let a = analyse(
        &[target("https://a/", vec![big, small])],
        &ThresholdConfig::default(),
    );
    assert_eq!(codes(&a), vec![Code::IL207]);
    assert_eq!(a.diagnosis.findings[0].severity, Severity::Error);
}

#[test]
fn a_trickled_large_body_is_il205_not_il207() {
    // 96 KB at ~48 KB/s, ten chunks a second: slow and steady, never silent.
    let big = asset("https://a/static/app.js", 20, 98_304, |_, mut r| {
        r.phases.body_ms = Some(2000.0);
        r.body_curve = (1..=20)
            .map(|k| BodySample {
                at_ms: k as f64 * 100.0,
                bytes: k * 4915,
            })
            .collect();
        r
    });
    let small = asset("https://a/static/s.css", 20, 1000, |_, r| r);
    let a = analyse(
        &[target("https://a/", vec![big, small])],
        &ThresholdConfig::default(),
    );
    assert_eq!(codes(&a), vec![Code::IL205]);
    assert_eq!(a.diagnosis.verdict.root_cause, Some(Code::IL205));
}

#[test]
fn truncated_large_bodies_are_il203_not_il207() {
    let big = asset("https://a/static/app.js", 20, 98_304, |i, mut r| {
        if i % 4 == 0 {
            r.bytes_received = 1000;
            r.error = Some(RequestError {
                kind: ErrorKind::Truncated,
                phase: Phase::Body,
                message: "short".into(),
            });
        }
        r
    });
    let small = asset("https://a/static/s.css", 20, 1000, |_, r| r);
    let a = analyse(
        &[target("https://a/", vec![big, small])],
        &ThresholdConfig::default(),
    );
    assert_eq!(codes(&a), vec![Code::IL203]);
}

#[test]
fn stalls_on_one_protocol_only_are_il208_and_lead() {
    // Half the requests over each protocol; a fifth of the HTTP/2 ones stall 2 s.
    let t = target(
        "https://a/",
        vec![asset("https://a/static/s.css", 60, 1000, |i, mut r| {
            if i % 2 == 1 {
                r.http_version = Some(HttpVersion::Http11);
            } else if i % 10 == 0 {
                r.phases.ttfb_ms = Some(2000.0);
            }
            r
        })],
    );
    let a = analyse(&[t], &ThresholdConfig::default());
    assert_eq!(codes(&a), vec![Code::IL208], "{:#?}", a.diagnosis.findings);
    assert_eq!(a.diagnosis.findings[0].severity, Severity::Error);
    assert!(a.diagnosis.findings[0].summary.contains("HTTP/2"));
}

#[test]
fn a_few_stalls_spread_evenly_single_out_no_group() {
    let t = target(
        "https://a/",
        vec![asset("https://a/static/s.css", 60, 1000, |i, mut r| {
            if i % 2 == 1 {
                r.http_version = Some(HttpVersion::Http11);
            }
            if i % 15 == 0 || i % 15 == 1 {
                r.phases.ttfb_ms = Some(2000.0);
            }
            r
        })],
    );
    let a = analyse(&[t], &ThresholdConfig::default());
    assert_eq!(codes(&a), vec![Code::IL201], "{:#?}", a.diagnosis.findings);
}
