//! End-to-end tests of `analyse` on chains built with rcgen.

mod support;

use interloper_chain::*;
use rcgen::{CertificateParams, KeyPair};
use support::{LeafOpts, ca, dn, leaf, leaf_with_issuer_key, now, roots, sct_ext};
use time::Duration;

fn run(
    chain: Vec<Vec<u8>>,
    name: &str,
    public: &Roots,
    local: &Roots,
    f: impl FnOnce(&mut ChainInput<'_>),
) -> ChainReport {
    let db = ProductDb::builtin();
    let mut input = ChainInput::new(chain, name, now(), public, local, &db);
    f(&mut input);
    let r = analyse(&input);
    serde_json::to_string(&r).unwrap();
    r
}

fn kinds(r: &ChainReport) -> Vec<SignalKind> {
    r.evidence.iter().map(|e| e.kind).collect()
}

#[test]
fn public_chain_with_scts_is_clean() {
    let public = ca("Public Test Root", Some("Public CA Inc"));
    let l = leaf("www.example.com", &public, LeafOpts::default());
    let r = run(
        vec![l, public.der.clone()],
        "www.example.com",
        &roots(&[&public]),
        &Roots::empty(),
        |_| {},
    );
    assert_eq!(r.trust.status, TrustStatus::AnchoredPublic);
    assert_eq!(r.certificates[0].sct_count, 2);
    assert_eq!(r.verdict.status, PathStatus::Clean);
    assert_eq!(r.verdict.confidence, PathConfidence::High);
    assert_eq!(
        r.trust.anchor.as_ref().unwrap().subject,
        "CN=Public Test Root, O=Public CA Inc"
    );
    assert!(
        r.trust
            .anchor
            .as_ref()
            .unwrap()
            .spki_sha256
            .starts_with("sha256//")
    );
}

#[test]
fn public_chain_without_scts_under_replacement_roots_is_still_clean() {
    let public = ca("Public Test Root", None);
    let l = leaf(
        "www.example.com",
        &public,
        LeafOpts {
            scts: 0,
            ..Default::default()
        },
    );
    let r = run(
        vec![l],
        "www.example.com",
        &roots(&[&public]),
        &Roots::empty(),
        |_| {},
    );
    assert_eq!(r.certificates[0].sct_count, 0);
    assert!(!r.certificates[0].sct_list_present);
    assert_eq!(r.verdict.status, PathStatus::Clean);
}

#[test]
fn anchor_in_both_sets_counts_as_public() {
    let public = ca("Shared Root", None);
    let l = leaf("a.example.com", &public, LeafOpts::default());
    let r = run(
        vec![l],
        "a.example.com",
        &Roots::empty(),
        &roots(&[&public]),
        |i| {
            i.public_roots = Box::leak(Box::new(roots(&[&public])));
        },
    );
    assert_eq!(r.trust.status, TrustStatus::AnchoredPublic);
}

#[test]
fn enterprise_root_alone_is_private_pki_unknown_never_intercepted() {
    let public = ca("Public Test Root", None);
    let corp = ca("ACME Corp Issuing CA", Some("ACME Corp"));
    let l = leaf(
        "intranet.acme.corp",
        &corp,
        LeafOpts {
            scts: 0,
            ..Default::default()
        },
    );
    let r = run(
        vec![l, corp.der.clone()],
        "intranet.acme.corp",
        &roots(&[&public]),
        &roots(&[&corp]),
        |_| {},
    );
    assert_eq!(r.trust.status, TrustStatus::AnchoredLocalOnly);
    assert_eq!(r.verdict.status, PathStatus::PrivatePkiUnknown);
    assert!(kinds(&r).contains(&SignalKind::ProductNotNameable));
    assert!(r.evidence.iter().any(|e| e.message.contains("Check Point")));
}

/// Squid's ssl-bump and mitmproxy sign each minted leaf for the CA's own key pair, and Squid
/// copies the site's validity, so a leaf minted for a month-old site looks a month old: the
/// root installed on the machine certifying its own key is what gives the box away.
#[test]
fn a_local_root_certifying_its_own_key_for_a_site_is_likely_interception() {
    let public = ca("Public Test Root", None);
    let gateway = ca("Example Web Gateway", Some("Example Corp"));
    let opts = || LeafOpts {
        scts: 0,
        ..Default::default()
    };
    let minted = leaf_with_issuer_key("intranet.acme.corp", &gateway, opts());
    let r = run(
        vec![minted, gateway.der.clone()],
        "intranet.acme.corp",
        &roots(&[&public]),
        &roots(&[&gateway]),
        |_| {},
    );
    assert_eq!(r.trust.status, TrustStatus::AnchoredLocalOnly);
    let sign = r
        .evidence
        .iter()
        .find(|e| e.kind == SignalKind::LeafKeyIsIssuerKey)
        .expect("leaf-key-is-issuer-key");
    assert_eq!(sign.strength, SignalStrength::Strong);
    assert_eq!(
        (r.verdict.status, r.verdict.confidence, r.verdict.rule),
        (
            PathStatus::LikelyIntercepted,
            PathConfidence::Medium,
            "local-only-minted"
        )
    );
    // The same root issuing a leaf its own key pair: an internal PKI, said to be unknown.
    let issued = leaf("intranet.acme.corp", &gateway, opts());
    let r = run(
        vec![issued, gateway.der.clone()],
        "intranet.acme.corp",
        &roots(&[&public]),
        &roots(&[&gateway]),
        |_| {},
    );
    assert_eq!(r.verdict.status, PathStatus::PrivatePkiUnknown);
}

/// A root the user declares their organisation's own is their PKI: clean. The same root only
/// installed on the machine stays a local-only anchor, and another local root beside a declared
/// one still is.
#[test]
fn declared_private_roots_are_clean_and_only_they_are() {
    let corp = ca("ACME Corp Issuing CA", Some("ACME Corp"));
    let other = ca("Corp Gateway CA", Some("Example Corp"));
    let ours = leaf("intranet.acme.corp", &corp, LeafOpts::default());
    let declared = roots(&[&corp]).declared_private();
    let r = run(
        vec![ours.clone()],
        "intranet.acme.corp",
        &Roots::webpki(),
        &Roots::empty(),
        |i| i.private_roots = Some(Box::leak(Box::new(declared.clone()))),
    );
    assert_eq!(r.trust.status, TrustStatus::AnchoredPrivate);
    assert_eq!(r.trust.status.as_str(), "anchored-private");
    assert_eq!(
        (r.verdict.status, r.verdict.rule),
        (PathStatus::Clean, "private-root")
    );
    assert!(kinds(&r).contains(&SignalKind::AnchoredPrivate));
    // Installed in the store as well as declared: still declared.
    let r = run(
        vec![ours.clone()],
        "intranet.acme.corp",
        &Roots::webpki(),
        &roots(&[&corp]),
        |i| i.private_roots = Some(Box::leak(Box::new(declared.clone()))),
    );
    assert_eq!(r.trust.status, TrustStatus::AnchoredPrivate);
    // Not declared: local only.
    let r = run(
        vec![ours],
        "intranet.acme.corp",
        &Roots::webpki(),
        &roots(&[&corp]),
        |_| {},
    );
    assert_eq!(r.verdict.status, PathStatus::PrivatePkiUnknown);
    // An unknown local root beside a declared one is still not the user's.
    let theirs = leaf("www.example.com", &other, LeafOpts::default());
    let r = run(
        vec![theirs],
        "www.example.com",
        &Roots::webpki(),
        &roots(&[&other]),
        |i| i.private_roots = Some(Box::leak(Box::new(declared))),
    );
    assert_eq!(r.trust.status, TrustStatus::AnchoredLocalOnly);
    assert_ne!(r.verdict.status, PathStatus::Clean);
    assert!(
        r.verdict.summary.contains("trusted only by this machine"),
        "{}",
        r.verdict.summary
    );
}

#[test]
fn extra_cacert_roots_count_as_local() {
    let corp = ca("ACME Corp Issuing CA", None);
    let l = leaf("intranet.acme.corp", &corp, LeafOpts::default());
    let extra = roots(&[&corp]);
    let r = run(
        vec![l],
        "intranet.acme.corp",
        &Roots::webpki(),
        &Roots::empty(),
        |i| i.extra_roots = Some(Box::leak(Box::new(extra))),
    );
    assert_eq!(r.trust.status, TrustStatus::AnchoredLocalOnly);
}

#[test]
fn enterprise_root_with_minted_traits_is_likely_intercepted() {
    let public = ca("Public Test Root", None);
    let corp = ca("Corp Inspection", None);
    let genuine = leaf("www.example.com", &public, LeafOpts::default());
    let minted = leaf(
        "www.example.com",
        &corp,
        LeafOpts {
            scts: 0,
            age: Duration::minutes(5),
            life: Duration::days(3),
            ed25519: true,
        },
    );
    let r = run(
        vec![minted],
        "www.example.com",
        &roots(&[&public]),
        &roots(&[&corp]),
        |i| {
            i.reference = Some(Reference {
                chain: vec![genuine],
                negotiated: Negotiated {
                    tls_version: Some("TLSv1.3".into()),
                    alpn: Some("h2".into()),
                },
            });
            i.negotiated = Negotiated {
                tls_version: Some("TLSv1.2".into()),
                alpn: Some("http/1.1".into()),
            };
        },
    );
    let k = kinds(&r);
    for want in [
        SignalKind::NoEmbeddedSct,
        SignalKind::FreshlyIssued,
        SignalKind::ShortLived,
        SignalKind::KeyTypeDiffers,
        SignalKind::IssuerDiffers,
        SignalKind::AlpnDowngrade,
        SignalKind::TlsVersionDowngrade,
    ] {
        assert!(k.contains(&want), "missing {want:?} in {k:?}");
    }
    assert_eq!(r.verdict.status, PathStatus::LikelyIntercepted);
    assert_eq!(r.verdict.rule, "local-only-minted");
}

fn product_case(cn: &str, o: Option<&str>, id: &str) {
    let public = ca("Public Test Root", None);
    let mitm = ca(cn, o);
    let l = leaf(
        "www.example.com",
        &mitm,
        LeafOpts {
            scts: 0,
            ..Default::default()
        },
    );
    let r = run(
        vec![l.clone(), mitm.der.clone()],
        "www.example.com",
        &roots(&[&public]),
        &roots(&[&mitm]),
        |_| {},
    );
    assert_eq!(r.verdict.status, PathStatus::Intercepted, "{cn}");
    assert_eq!(r.verdict.confidence, PathConfidence::High, "{cn}");
    assert_eq!(r.verdict.product.as_ref().unwrap().id, id, "{cn}");
    // Not installed locally: still named, medium confidence.
    let r = run(
        vec![l],
        "www.example.com",
        &roots(&[&public]),
        &Roots::empty(),
        |_| {},
    );
    assert_eq!(r.verdict.status, PathStatus::Intercepted, "{cn}");
    assert_eq!(r.verdict.confidence, PathConfidence::Medium);
}

#[test]
fn known_products_are_named() {
    product_case("mitmproxy", Some("mitmproxy"), "mitmproxy");
    product_case("FortiGate CA", Some("Fortinet"), "fortinet");
    product_case("Fortinet_CA_SSL", None, "fortinet");
    product_case("Fortinet Untrusted CA", None, "fortinet");
    product_case("Zscaler Root CA", Some("Zscaler Inc."), "zscaler");
    product_case("DO_NOT_TRUST_FiddlerRoot", Some("DO_NOT_TRUST"), "fiddler");
    product_case("PortSwigger CA", Some("PortSwigger"), "burp");
    product_case("Some Root", Some("XK72 Ltd"), "charles");
}

/// One issuer per entry of Chromium's SSL error assistant MITM-software list (issuer common
/// name and organisation as its patterns describe them), each named as the right product.
#[test]
fn the_names_in_chromiums_mitm_software_list_are_named() {
    let cases: &[(&str, Option<&str>, &str)] = &[
        (
            "avast! Web/Mail Shield Root",
            Some("avast! Web/Mail Shield"),
            "avast",
        ),
        (
            "Bitdefender Personal CA.Net-Defender",
            Some("Bitdefender"),
            "bitdefender",
        ),
        ("Cisco Umbrella Root CA", Some("Cisco"), "cisco-umbrella"),
        (
            "Cisco Umbrella Primary SubCA",
            Some("Cisco"),
            "cisco-umbrella",
        ),
        (
            "ContentKeeper Appliance CA (42)",
            Some("ContentKeeper Technologies"),
            "contentkeeper",
        ),
        (
            "Gateway CA",
            Some("Cyberoam Certificate Authority"),
            "cyberoam",
        ),
        ("Forcepoint Cloud CA", Some("Forcepoint LLC"), "forcepoint"),
        ("FortiGate CA", Some("Fortinet"), "fortinet"),
        ("Gateway CA", Some("Fortinet Ltd."), "fortinet"),
        (
            "Kaspersky Anti-Virus Personal Root Certificate",
            None,
            "kaspersky",
        ),
        ("McAfee Web Gateway", None, "mcafee-web-gateway"),
        ("www.netspark.com", Some("NetSpark"), "netspark"),
        (
            "Smoothwall-default-root-certificate-authority",
            None,
            "smoothwall",
        ),
        (
            "Gateway CA",
            Some("HTTPS Management Certificate for SonicWALL (self-signed)"),
            "sonicwall",
        ),
        ("Sophos SSL CA_C1234567890", Some("Sophos"), "sophos"),
        ("Sophos_CA_C1234567890", None, "sophos"),
        ("sophosutm Proxy CA", Some("sophosutm"), "sophos"),
        ("Sophos Web Appliance", Some("Sophos Plc"), "sophos"),
        ("Gateway CA", Some("Blue Coat Systems"), "bluecoat"),
        ("IWSS.TREND", None, "trendmicro-iwss"),
        ("Gateway CA", Some("Zscaler Inc."), "zscaler"),
    ];
    for (cn, o, id) in cases {
        product_case(cn, *o, id);
    }
}

#[test]
fn leaf_subject_naming_a_vendor_is_not_a_product() {
    let public = ca("Public Test Root", None);
    let mut p = CertificateParams::new(vec!["www.sophos.com".to_owned()]).unwrap();
    p.distinguished_name = dn("www.sophos.com", Some("Sophos Limited"));
    p.custom_extensions.push(sct_ext(2));
    let l = p
        .signed_by(&KeyPair::generate().unwrap(), &public.issuer)
        .unwrap()
        .der()
        .to_vec();
    let r = run(
        vec![l],
        "www.sophos.com",
        &roots(&[&public]),
        &Roots::empty(),
        |_| {},
    );
    assert!(r.products.is_empty());
    assert_eq!(r.verdict.status, PathStatus::Clean);
}

#[test]
fn expired_leaf_is_untrusted_expired() {
    let public = ca("Public Test Root", None);
    let l = leaf(
        "www.example.com",
        &public,
        LeafOpts {
            age: Duration::days(200),
            ..Default::default()
        },
    );
    let r = run(
        vec![l],
        "www.example.com",
        &roots(&[&public]),
        &Roots::empty(),
        |_| {},
    );
    assert_eq!(r.trust.status, TrustStatus::Untrusted);
    assert_eq!(r.trust.reason, Some(UntrustedReason::Expired));
    assert_eq!(r.verdict.status, PathStatus::Untrusted);
}

#[test]
fn wrong_name_is_untrusted_name_mismatch() {
    let public = ca("Public Test Root", None);
    let l = leaf("www.example.com", &public, LeafOpts::default());
    let r = run(
        vec![l],
        "other.example.org",
        &roots(&[&public]),
        &Roots::empty(),
        |_| {},
    );
    assert_eq!(r.trust.reason, Some(UntrustedReason::NameMismatch));
    assert_eq!(r.trust.name_ok, Some(false));
    assert!(r.trust.anchor.is_some());
    assert_eq!(r.verdict.status, PathStatus::Untrusted);
}

#[test]
fn unknown_issuer_is_untrusted() {
    let other = ca("Nobody", None);
    let l = leaf("www.example.com", &other, LeafOpts::default());
    let r = run(
        vec![l],
        "www.example.com",
        &Roots::webpki(),
        &Roots::empty(),
        |_| {},
    );
    assert_eq!(r.trust.reason, Some(UntrustedReason::UnknownIssuer));
    assert_eq!(r.verdict.status, PathStatus::Untrusted);
}

#[test]
fn pins_match_and_mismatch() {
    let public = ca("Public Test Root", None);
    let corp = ca("Corp Root", None);
    let l = leaf("www.example.com", &public, LeafOpts::default());
    let facts = CertFacts::from_der(0, &l);
    let leaf_pin = Pin::parse(facts.spki_pin.as_deref().unwrap()).unwrap();
    let ca_pin = Pin::parse(
        CertFacts::from_der(1, &public.der)
            .spki_pin
            .as_deref()
            .unwrap(),
    )
    .unwrap();
    let other = Pin::of_spki(b"something else");
    let pub_roots = roots(&[&public]);

    // Any certificate matching passes, like curl.
    let r = run(
        vec![l.clone(), public.der.clone()],
        "www.example.com",
        &pub_roots,
        &Roots::empty(),
        |i| i.pins = vec![other, ca_pin],
    );
    assert!(kinds(&r).contains(&SignalKind::PinMatch));
    assert_eq!(r.verdict.rule, "pin-match");
    let r = run(
        vec![l.clone()],
        "www.example.com",
        &pub_roots,
        &Roots::empty(),
        |i| i.pins = vec![leaf_pin],
    );
    assert_eq!(r.verdict.status, PathStatus::Clean);

    // Mismatch on a public chain: untrusted, not intercepted.
    let r = run(
        vec![l.clone()],
        "www.example.com",
        &pub_roots,
        &Roots::empty(),
        |i| i.pins = vec![other],
    );
    assert_eq!(r.verdict.status, PathStatus::Untrusted);
    assert_eq!(r.verdict.rule, "pin-mismatch-public");

    // Mismatch with a local-only root: intercepted.
    let minted = leaf("www.example.com", &corp, LeafOpts::default());
    let r = run(
        vec![minted.clone()],
        "www.example.com",
        &pub_roots,
        &roots(&[&corp]),
        |i| i.pins = vec![leaf_pin],
    );
    assert_eq!(r.verdict.status, PathStatus::Intercepted);

    // --expect-cert.
    let r = run(
        vec![l.clone()],
        "www.example.com",
        &pub_roots,
        &Roots::empty(),
        |i| i.expect_cert = Some(l.clone()),
    );
    assert!(kinds(&r).contains(&SignalKind::ExpectedCertMatch));
    let r = run(
        vec![minted],
        "www.example.com",
        &pub_roots,
        &roots(&[&corp]),
        |i| i.expect_cert = Some(l.clone()),
    );
    assert!(kinds(&r).contains(&SignalKind::ExpectedCertMismatch));
    assert_eq!(r.verdict.status, PathStatus::Intercepted);
}

#[test]
fn witness_decides() {
    let public = ca("Public Test Root", None);
    let corp = ca("Corp Root", None);
    let l = leaf("www.example.com", &corp, LeafOpts::default());
    let r = run(
        vec![l.clone()],
        "www.example.com",
        &roots(&[&public]),
        &roots(&[&corp]),
        |i| {
            i.witness = Some(WitnessComparison {
                client_random_equal: Some(false),
                chain_equal: None,
            })
        },
    );
    assert_eq!(
        (r.verdict.status, r.verdict.confidence),
        (PathStatus::Intercepted, PathConfidence::High)
    );
    let r = run(
        vec![l],
        "www.example.com",
        &roots(&[&public]),
        &roots(&[&corp]),
        |i| {
            i.witness = Some(WitnessComparison {
                client_random_equal: Some(true),
                chain_equal: Some(true),
            })
        },
    );
    assert_eq!(
        (r.verdict.status, r.verdict.rule),
        (PathStatus::Clean, "witness-match")
    );
}

#[test]
fn cert_facts_are_filled() {
    let public = ca("Public Test Root", Some("Public CA Inc"));
    let l = leaf("www.example.com", &public, LeafOpts::default());
    let f = CertFacts::from_der(0, &l);
    assert!(f.parsed);
    assert_eq!(f.subject_cn, vec!["www.example.com"]);
    assert_eq!(f.issuer_o, vec!["Public CA Inc"]);
    assert_eq!(f.sans, vec!["DNS:www.example.com"]);
    assert_eq!(f.key.as_ref().unwrap().curve.as_deref(), Some("P-256"));
    assert!(
        f.signature_algorithm
            .as_deref()
            .unwrap()
            .to_lowercase()
            .contains("ecdsa")
    );
    assert!(!f.is_ca);
    assert_eq!(f.sha256.len(), 64);
    assert!(f.serial.is_some() && f.not_before.is_some() && f.not_after.is_some());
    let c = CertFacts::from_der(1, &public.der);
    assert!(c.is_ca && c.self_signed);
}

#[test]
fn pins_of_a_pem_bundle() {
    let public = ca("Public Test Root", None);
    let l = leaf("www.example.com", &public, LeafOpts::default());
    let pem = |der: &[u8]| {
        use base64::Engine;
        let b = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = b
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            lines.join("\n")
        )
    };
    let bundle = format!("junk\n{}{}", pem(&l), pem(&public.der));
    let pins = pins_from_pem(bundle.as_bytes()).unwrap();
    assert_eq!(pins.len(), 2);
    assert_eq!(pins[0].pin, CertFacts::from_der(0, &l).spki_pin);
    assert_eq!(certs_from_pem(bundle.as_bytes()).unwrap()[1], public.der);
}

#[test]
fn garbage_and_empty_chains() {
    let r = run(
        vec![],
        "x.example",
        &Roots::webpki(),
        &Roots::empty(),
        |_| {},
    );
    assert_eq!(r.trust.reason, Some(UntrustedReason::EmptyChain));
    let r = run(
        vec![vec![0x30, 0x82, 0xff], vec![]],
        "x.example",
        &Roots::webpki(),
        &Roots::empty(),
        |_| {},
    );
    assert_eq!(r.verdict.status, PathStatus::Untrusted);
    assert!(r.certificates.iter().all(|c| !c.parsed));
    let many = vec![vec![1u8; 10]; 100];
    let r = run(many, "x.example", &Roots::webpki(), &Roots::empty(), |_| {});
    assert!(kinds(&r).contains(&SignalKind::ChainTruncated));
}

#[test]
fn mutated_chains_never_panic() {
    let public = ca("Public Test Root", None);
    let mitm = ca("mitmproxy", Some("mitmproxy"));
    let chain = vec![
        leaf("www.example.com", &mitm, LeafOpts::default()),
        mitm.der.clone(),
    ];
    let (pubr, local) = (roots(&[&public]), roots(&[&mitm]));
    // Deterministic xorshift so failures reproduce.
    let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rnd = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    for _ in 0..400 {
        let mut c = chain.clone();
        let which = (rnd() % 2) as usize;
        let len = c[which].len();
        match rnd() % 3 {
            0 => c[which].truncate((rnd() as usize) % len),
            1 => {
                for _ in 0..1 + rnd() % 4 {
                    let i = (rnd() as usize) % len;
                    c[which][i] ^= 1 << (rnd() % 8);
                }
            }
            _ => {
                let i = (rnd() as usize) % len;
                c[which][i] = rnd() as u8;
            }
        }
        let _ = run(c, "www.example.com", &pubr, &local, |_| {});
    }
}

#[test]
fn unknown_issuer_that_differs_from_reference_is_likely_intercepted() {
    let public = ca("Public Test Root", None);
    let box_ca = ca("Some Gateway", None);
    let genuine = leaf("www.example.com", &public, LeafOpts::default());
    let minted = leaf(
        "www.example.com",
        &box_ca,
        LeafOpts {
            scts: 0,
            ..Default::default()
        },
    );
    let r = run(
        vec![minted],
        "www.example.com",
        &roots(&[&public]),
        &Roots::empty(),
        |i| {
            i.reference = Some(Reference {
                chain: vec![genuine],
                negotiated: Negotiated::default(),
            })
        },
    );
    assert_eq!(r.verdict.status, PathStatus::LikelyIntercepted);
    assert_eq!(r.verdict.rule, "untrusted-minted");
}

#[test]
fn identical_reference_leaf_adds_no_trait() {
    let public = ca("Public Test Root", None);
    let l = leaf("www.example.com", &public, LeafOpts::default());
    let r = run(
        vec![l.clone()],
        "www.example.com",
        &roots(&[&public]),
        &Roots::empty(),
        |i| {
            i.reference = Some(Reference {
                chain: vec![l.clone()],
                negotiated: Negotiated::default(),
            })
        },
    );
    assert!(kinds(&r).contains(&SignalKind::MatchesReference));
    assert_eq!(
        (r.verdict.status, r.verdict.confidence),
        (PathStatus::Clean, PathConfidence::High)
    );
}

#[test]
fn ip_literal_server_name() {
    let corp = ca("Lab Root", None);
    let l = leaf(
        "127.0.0.1",
        &corp,
        LeafOpts {
            scts: 0,
            ..Default::default()
        },
    );
    let r = run(
        vec![l],
        "127.0.0.1",
        &Roots::webpki(),
        &roots(&[&corp]),
        |_| {},
    );
    assert_eq!(r.trust.name_ok, Some(true));
    assert_eq!(r.certificates[0].sans, vec!["IP:127.0.0.1"]);
    assert_eq!(r.verdict.status, PathStatus::PrivatePkiUnknown);
}

#[test]
fn json_shape() {
    let corp = ca("Corp Root", None);
    let l = leaf(
        "intranet.corp",
        &corp,
        LeafOpts {
            scts: 0,
            ..Default::default()
        },
    );
    let r = run(
        vec![l],
        "intranet.corp",
        &Roots::webpki(),
        &roots(&[&corp]),
        |_| {},
    );
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["verdict"]["status"], "private-pki-unknown");
    assert_eq!(v["verdict"]["confidence"], "medium");
    assert!(v["verdict"]["product"].is_null());
    assert_eq!(v["trust"]["status"], "anchored-local-only");
    assert_eq!(v["evidence"][0]["kind"], "anchored-local-only");
    assert!(
        v["certificates"][0]["spki_pin"]
            .as_str()
            .unwrap()
            .starts_with("sha256//")
    );
}

#[test]
fn caller_supplied_products_file() {
    let db = ProductDb::from_toml_str(
        "[[product]]\nid='lab'\nproduct='Lab Box'\nvendor='Us'\nkind='firewall'\ndoc='x'\nissuer_cn=['*lab inspection*']\n",
    )
    .unwrap();
    let boxca = ca("The Lab Inspection CA", None);
    let l = leaf("www.example.com", &boxca, LeafOpts::default());
    let (public, local) = (Roots::webpki(), roots(&[&boxca]));
    let input = ChainInput::new(vec![l], "www.example.com", now(), &public, &local, &db);
    let r = analyse(&input);
    assert_eq!(r.verdict.product.unwrap().name, "Lab Box");
    assert_eq!(r.products[0].field, MatchedField::IssuerCn);
}
