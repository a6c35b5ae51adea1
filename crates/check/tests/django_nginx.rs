//! `check` on the real stack: Django's admin static set (collectstatic with
//! ManifestStaticFilesStorage) behind real nginx with TLS on loopback.

use std::time::Duration;

use interloper_check::{CheckOptions, Samples, check_target};
use interloper_findings::{AssetCheckKind, Code, Severity, ThresholdConfig, analyse};
use interloper_model::HttpVersion;
use interloper_probe::ProbeConfig;
use interloper_testkit::DjangoOrigin;

/// testkit's Django origin, with `extra_conf` written into nginx's server blocks.
fn stack(extra_conf: impl FnOnce(&std::path::Path) -> String) -> DjangoOrigin {
    DjangoOrigin::start_with(extra_conf).expect("django origin behind nginx")
}

fn options(s: &DjangoOrigin) -> CheckOptions {
    let mut probe = ProbeConfig::default();
    probe.cacert_files = vec![s.nginx.pki.ca_cert_pem.clone()];
    probe.use_os_roots = false;
    probe.phase_timeout = Duration::from_secs(10);
    CheckOptions {
        probe,
        samples: Samples::PerAsset(4),
        budget: Duration::from_secs(60),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn django_admin_through_nginx_is_found_verified_and_clean() {
    let s = tokio::task::spawn_blocking(|| stack(|_| String::new()))
        .await
        .expect("join");
    let url = s.nginx.https_url("admin/login/");
    let run = check_target(&url, &options(&s), &()).await.expect("check");
    let urls: Vec<&str> = run.evidence.assets.iter().map(|a| a.url.as_str()).collect();
    // The login page's own CSS and JS, and what its CSS references (images, fonts).
    for want in [
        "/static/admin/css/base.",
        "/static/admin/css/login.",
        "/static/admin/img/",
    ] {
        assert!(
            urls.iter().any(|u| u.contains(want)),
            "{want} not found in {urls:#?}"
        );
    }
    assert!(
        urls.iter().any(|u| u.ends_with(".svg")),
        "no image from CSS: {urls:#?}"
    );
    assert!(
        run.evidence.static_version.is_some(),
        "manifest not found: {:?}",
        run.notes
    );
    // The page itself comes first, with its one request.
    assert_eq!(run.evidence.assets[0].url, url);
    for a in run.evidence.assets.iter().skip(1) {
        // nginx sends no long-lived caching by default: that is the only complaint allowed.
        for c in &a.checks {
            assert_eq!(c.kind, AssetCheckKind::ShortCache, "{}: {c:?}", a.url);
        }
        assert!(
            a.records.len() >= 5,
            "{} sampled {} times",
            a.url,
            a.records.len()
        );
        for r in &a.records {
            assert!(r.error.is_none(), "{}: {:?}", a.url, r.error);
            assert_eq!(r.status, Some(200));
        }
        let versions: std::collections::BTreeSet<_> =
            a.records.iter().filter_map(|r| r.http_version).collect();
        assert!(
            versions.contains(&HttpVersion::Http2) && versions.contains(&HttpVersion::Http11),
            "{versions:?}"
        );
    }
    // Reuse happens per worker and mode, so it is a property of the run, not of each asset.
    let reused = run
        .evidence
        .assets
        .iter()
        .flat_map(|a| a.records.iter())
        .filter(|r| r.reused)
        .count();
    assert!(reused > 0, "no request went over a reused connection");
    let tls = run.tls.expect("tls info");
    assert!(tls.verified);
    assert!(!tls.presented_chain.is_empty());

    let analysis = analyse(&[run.evidence], &ThresholdConfig::default());
    let serious: Vec<_> = analysis
        .diagnosis
        .findings
        .iter()
        .filter(|f| f.severity > Severity::Info)
        .map(|f| (f.code, f.summary.clone()))
        .collect();
    assert!(serious.is_empty(), "{serious:#?}");
    assert!(
        analysis
            .diagnosis
            .findings
            .iter()
            .all(|f| f.code == Code::IL305)
    );
    let _ = &s.site;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_files_are_caught_as_what_they_are() {
    let s = tokio::task::spawn_blocking(|| {
        stack(|root| {
            format!(
                // nosniff everywhere; theme.js served as text/plain; dark_mode.css refused.
                // (Workers run as root here, which reads any file whatever its mode, so the
                // 403 comes from nginx's access rules, as it does behind many deployments.)
                "add_header X-Content-Type-Options nosniff always;\n\
                 location ~ \"^/static/(admin/js/theme\\.[0-9a-f]{{12}}\\.js)$\" {{ alias {}/$1; types {{ }} default_type text/plain; add_header X-Content-Type-Options nosniff always; }}\n\
                 location ~ \"/static/admin/css/dark_mode\\.[0-9a-f]{{12}}\\.css$\" {{ deny all; }}\n",
                root.display()
            )
        })
    })
    .await
    .expect("join");
    let root = s.site.static_root.clone();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("staticfiles.json")).expect("manifest"))
            .expect("json");
    let paths = manifest["paths"].as_object().expect("paths");
    let hashed = |name: &str| root.join(paths[name].as_str().expect("hashed name"));
    // One changed byte in a stylesheet, one truncated file, one removed.
    let base = hashed("admin/css/base.css");
    let mut bytes = std::fs::read(&base).expect("base.css");
    bytes[10] ^= 0x20;
    std::fs::write(&base, bytes).expect("write");
    let login = hashed("admin/css/login.css");
    let len = std::fs::metadata(&login).expect("login.css").len();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&login)
        .expect("open");
    f.set_len(len / 2).expect("truncate");
    std::fs::remove_file(hashed("admin/css/responsive.css")).expect("rm");

    let url = s.nginx.https_url("admin/login/");
    let run = check_target(&url, &options(&s), &()).await.expect("check");
    let checks_of = |needle: &str| -> Vec<AssetCheckKind> {
        run.evidence
            .assets
            .iter()
            .filter(|a| a.url.contains(needle))
            .flat_map(|a| a.checks.iter().map(|c| c.kind))
            .collect()
    };
    assert!(
        checks_of("/base.").contains(&AssetCheckKind::HashedNameMismatch),
        "{:?}",
        checks_of("/base.")
    );
    assert!(
        checks_of("/login.").contains(&AssetCheckKind::HashedNameMismatch),
        "{:?}",
        checks_of("/login.")
    );
    assert!(
        checks_of("/responsive.").contains(&AssetCheckKind::NotFound),
        "{:?}",
        checks_of("/responsive.")
    );
    assert!(
        checks_of("/dark_mode.").contains(&AssetCheckKind::Forbidden),
        "{:?}",
        checks_of("/dark_mode.")
    );
    assert!(
        checks_of("/theme.").contains(&AssetCheckKind::WrongTypeNosniff),
        "{:?}",
        checks_of("/theme.")
    );

    let analysis = analyse(&[run.evidence], &ThresholdConfig::default());
    let codes: Vec<Code> = analysis.diagnosis.findings.iter().map(|f| f.code).collect();
    for want in [Code::IL204, Code::IL301, Code::IL302, Code::IL303] {
        assert!(codes.contains(&want), "{want} missing from {codes:?}");
    }
    let il204 = analysis
        .diagnosis
        .findings
        .iter()
        .find(|f| f.code == Code::IL204)
        .expect("IL204");
    assert!(il204.summary.contains("base."), "{}", il204.summary);
}
