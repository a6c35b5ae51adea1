//! The real Django admin static set: discover the login page and its CSS, find the manifest,
//! verify every file against its hashed name, then break things and check each is caught as
//! what it is.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use interloper_assets::django::{self, Manifest};
use interloper_assets::verify::{self, Body, Check, CheckKind, Expect, Outcome, Policy, Response};
use interloper_assets::{AssetKind, Crawl, Limits, PendingStylesheet, discover_html};
use url::Url;

const PAGE: &str = "http://testserver/admin/login/";

/// What nginx with `include mime.types; location /static/ { alias STATIC_ROOT/; expires 1y; }`
/// answers, computed from the file system (no socket: the I/O side is the `check` command's).
/// Unreadable files answer 403 as nginx's unprivileged worker would, even when the test runs
/// as root.
fn serve(root: &Path, url: &Url) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let Some(rel) = url.path().strip_prefix("/static/") else {
        return (404, vec![], vec![]);
    };
    let path = root.join(rel);
    let Ok(meta) = std::fs::metadata(&path) else {
        return (404, vec![], vec![]);
    };
    if meta.permissions().mode() & 0o004 == 0 {
        return (403, vec![], vec![]);
    }
    let body = std::fs::read(&path).unwrap();
    let ext = rel.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    let ty = match ext {
        "css" => "text/css",
        "js" => "application/javascript",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" | "md" => "text/plain",
        "json" => "application/json",
        _ => "application/octet-stream",
    };
    let headers = vec![
        ("Content-Type".to_owned(), ty.to_owned()),
        ("Content-Length".to_owned(), body.len().to_string()),
        ("Cache-Control".to_owned(), "max-age=31536000".to_owned()),
        ("X-Content-Type-Options".to_owned(), "nosniff".to_owned()),
    ];
    (200, headers, body)
}

struct Site {
    project: support::DjangoProject,
    crawl_assets: Vec<interloper_assets::Asset>,
    manifest: Manifest,
    static_url: Url,
}

fn crawl_site() -> Site {
    let project = support::DjangoProject::create();
    let root = project.static_root.clone();
    let page = Url::parse(PAGE).unwrap();
    let mut crawl = Crawl::new(Limits::default());
    crawl.add_page(&page, &project.login_html, Some("text/html; charset=utf-8"));
    let manifest = Manifest::parse(&std::fs::read(root.join("staticfiles.json")).unwrap()).unwrap();
    // The site stylesheet is not on the login page; take it as a page stylesheet would be.
    let site_css = page
        .join(&format!("/static/{}", manifest.paths["site/site.css"]))
        .unwrap();
    let extra = PendingStylesheet {
        url: site_css,
        depth: 1,
    };
    let (_, _, body) = serve(&root, &extra.url);
    crawl.add_stylesheet(&extra, &body, Some("text/css"));
    while let Some(sheet) = crawl.next_stylesheet() {
        let (status, headers, body) = serve(&root, &sheet.url);
        assert_eq!(status, 200, "{}", sheet.url);
        crawl.add_stylesheet(
            &sheet,
            &body,
            headers
                .iter()
                .find(|h| h.0 == "Content-Type")
                .map(|h| h.1.as_str()),
        );
    }
    let (inv, notes) = crawl.finish();
    assert!(notes.is_empty(), "{notes:?}");
    let crawl_assets = inv.into_assets();
    let static_url = django::infer_static_url(crawl_assets.iter().map(|a| &a.url)).unwrap();
    Site {
        project,
        crawl_assets,
        manifest,
        static_url,
    }
}

fn checks_for(
    site: &Site,
    asset: &interloper_assets::Asset,
    status: u16,
    headers: &[(String, String)],
    body: Body<'_>,
) -> Vec<Check> {
    let url = &asset.url;
    let mut expect = Expect::for_asset(asset);
    expect.hashed = site.manifest.hashed_name_for(&site.static_url, url);
    expect.page_origin = Some("http://testserver".into());
    let resp = Response {
        url,
        status,
        headers,
        redirects: &[],
        body,
        bytes_received: None,
    };
    verify::verify_response(&resp, &expect, &Policy::default())
}

fn failed(checks: &[Check]) -> Vec<CheckKind> {
    checks
        .iter()
        .filter(|c| c.failed())
        .map(|c| c.kind)
        .collect()
}

#[test]
fn admin_login_assets_are_found_and_verify() {
    let site = crawl_site();
    let root = &site.project.static_root;
    let paths: Vec<&str> = site.crawl_assets.iter().map(|a| a.url.path()).collect();
    let has = |prefix: &str, kind: AssetKind| {
        site.crawl_assets
            .iter()
            .any(|a| a.url.path().starts_with(prefix) && a.kind == kind)
    };
    for css in ["base", "dark_mode", "nav_sidebar", "login", "responsive"] {
        assert!(
            has(&format!("/static/admin/css/{css}."), AssetKind::Stylesheet),
            "{css}: {paths:?}"
        );
    }
    for js in ["theme", "nav_sidebar"] {
        assert!(
            has(&format!("/static/admin/js/{js}."), AssetKind::Script),
            "{js}: {paths:?}"
        );
    }
    // Images the admin CSS references (resolved against each stylesheet's own URL).
    for img in [
        "icon-yes",
        "icon-no",
        "icon-alert",
        "sorting-icons",
        "tooltag-add",
    ] {
        assert!(
            has(&format!("/static/admin/img/{img}."), AssetKind::Image),
            "{img}: {paths:?}"
        );
    }
    assert!(has("/static/site/fonts/il.", AssetKind::Font), "{paths:?}");
    assert!(has("/static/site/img/bg.", AssetKind::Image));
    let icon = site
        .crawl_assets
        .iter()
        .find(|a| a.url.path().contains("icon-yes"))
        .unwrap();
    assert!(
        icon.provenance
            .iter()
            .all(|p| p.source.path().starts_with("/static/admin/css/")),
        "{:?}",
        icon.provenance
    );
    // Every asset is hashed and its provenance says where it came from.
    assert!(site.crawl_assets.len() >= 20, "{paths:?}");
    assert!(
        site.crawl_assets
            .iter()
            .all(|a| !a.cross_origin && a.origin == "http://testserver")
    );

    assert_eq!(site.static_url.as_str(), "http://testserver/static/");
    let first = django::manifest_candidates(site.crawl_assets.iter().map(|a| &a.url));
    assert_eq!(
        first[0].as_str(),
        "http://testserver/static/staticfiles.json"
    );
    assert_eq!(site.manifest.version, "1.1");
    let h = site.manifest.check_hash();
    assert_eq!(h.outcome, Outcome::Pass, "{h:?}");

    // Every referenced asset: found, type right under nosniff, complete, hashed name verifies,
    // cached long.
    for a in &site.crawl_assets {
        let (status, headers, body) = serve(root, &a.url);
        let checks = checks_for(&site, a, status, &headers, Body::Wire(&body));
        assert!(
            checks.iter().all(|c| c.outcome != Outcome::Fail),
            "{}: {checks:#?}",
            a.url
        );
        assert!(
            checks
                .iter()
                .any(|c| c.kind == CheckKind::HashedName && c.outcome == Outcome::Pass),
            "{}",
            a.url
        );
    }

    // --all-static: every manifest entry verifies against its hashed name.
    let manifest_url = site.static_url.join("staticfiles.json").unwrap();
    let all = site.manifest.all_static(
        &site.static_url,
        &manifest_url,
        Some(&Url::parse(PAGE).unwrap()),
    );
    assert_eq!(all.len(), site.manifest.paths.len());
    assert!(all.len() > 120);
    for a in &all {
        let (status, headers, body) = serve(root, &a.url);
        assert_eq!(status, 200, "{}", a.url);
        let checks = checks_for(&site, a, status, &headers, Body::Wire(&body));
        let hn = checks
            .iter()
            .find(|c| c.kind == CheckKind::HashedName)
            .unwrap_or_else(|| panic!("{}", a.url));
        assert_eq!(hn.outcome, Outcome::Pass, "{}: {hn:?}", a.url);
    }
}

#[test]
fn admin_breakage_is_caught_as_what_it_is() {
    let site = crawl_site();
    let root = &site.project.static_root;
    let base = site
        .crawl_assets
        .iter()
        .find(|a| a.url.path().starts_with("/static/admin/css/base."))
        .unwrap()
        .clone();
    let base_file = root.join(base.url.path().strip_prefix("/static/").unwrap());
    let original = std::fs::read(&base_file).unwrap();

    // One byte changed on disk: the content no longer matches its name (IL204).
    let mut altered = original.clone();
    altered[100] ^= 0x20;
    std::fs::write(&base_file, &altered).unwrap();
    let (s, h, b) = serve(root, &base.url);
    assert_eq!(
        failed(&checks_for(&site, &base, s, &h, Body::Wire(&b))),
        vec![CheckKind::HashedName]
    );

    // Truncated on disk: the server sends fewer bytes with a matching length (IL204).
    std::fs::write(&base_file, &original[..original.len() / 2]).unwrap();
    let (s, h, b) = serve(root, &base.url);
    assert_eq!(
        failed(&checks_for(&site, &base, s, &h, Body::Wire(&b))),
        vec![CheckKind::HashedName]
    );

    // Truncated in transit: the length promised more than arrived (IL203), and the content
    // is short too.
    std::fs::write(&base_file, &original).unwrap();
    let (s, h, b) = serve(root, &base.url);
    let cut = &b[..b.len() - 7];
    assert_eq!(
        failed(&checks_for(&site, &base, s, &h, Body::Wire(cut))),
        vec![CheckKind::ContentLength, CheckKind::HashedName]
    );

    // Served compressed, correctly and then cut mid-stream.
    let gz = {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&original).unwrap();
        e.finish().unwrap()
    };
    let mut gh = h.clone();
    gh.retain(|(k, _)| k != "Content-Length");
    gh.push(("Content-Encoding".into(), "gzip".into()));
    gh.push(("Content-Length".into(), gz.len().to_string()));
    assert!(failed(&checks_for(&site, &base, 200, &gh, Body::Wire(&gz))).is_empty());
    assert_eq!(
        failed(&checks_for(
            &site,
            &base,
            200,
            &gh,
            Body::Wire(&gz[..gz.len() / 2])
        )),
        vec![CheckKind::ContentLength, CheckKind::ContentEncoding]
    );

    // Wrong MIME type (an nginx `types {}` block mapping css to text/plain) under nosniff
    // (IL303): blocking.
    let mut wrong = h.clone();
    wrong[0].1 = "text/plain".into();
    let checks = checks_for(&site, &base, 200, &wrong, Body::Wire(&b));
    assert_eq!(failed(&checks), vec![CheckKind::ContentType]);
    assert!(
        checks
            .iter()
            .any(|c| c.kind == CheckKind::ContentType && c.blocking)
    );

    // Hashed names served without long-lived caching (IL305).
    let mut short = h.clone();
    short[2].1 = "max-age=600".into();
    assert_eq!(
        failed(&checks_for(&site, &base, 200, &short, Body::Wire(&b))),
        vec![CheckKind::Caching]
    );

    // Removed (IL301) and unreadable (IL302) files.
    let js = site
        .crawl_assets
        .iter()
        .find(|a| a.kind == AssetKind::Script)
        .unwrap()
        .clone();
    let js_file = root.join(js.url.path().strip_prefix("/static/").unwrap());
    std::fs::set_permissions(&js_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (s, h, b) = serve(root, &js.url);
    let checks = checks_for(&site, &js, s, &h, Body::Wire(&b));
    assert_eq!(failed(&checks), vec![CheckKind::Status]);
    assert_eq!(checks[0].actual.as_deref(), Some("403"));
    std::fs::remove_file(&js_file).unwrap();
    let (s, h, b) = serve(root, &js.url);
    let checks = checks_for(&site, &js, s, &h, Body::Wire(&b));
    assert_eq!(checks[0].actual.as_deref(), Some("404"));

    // A manifest edited by hand no longer matches its own hash.
    let text = std::fs::read_to_string(root.join("staticfiles.json")).unwrap();
    let edited = text.replacen(".css\"", ".css \"", 1);
    assert_eq!(
        Manifest::parse(edited.as_bytes())
            .unwrap()
            .check_hash()
            .outcome,
        Outcome::Fail
    );

    // SRI on the page: right content passes, altered content fails and blocks.
    let sri = {
        use base64::Engine;
        use sha2::Digest;
        format!(
            "sha384-{}",
            base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(&original))
        )
    };
    let html = format!(
        r#"<link rel="stylesheet" href="{}" integrity="{sri}" crossorigin="anonymous">"#,
        base.url.path()
    );
    let d = discover_html(
        &Url::parse(PAGE).unwrap(),
        html.as_bytes(),
        None,
        &Limits::default(),
    );
    let with_sri = &d.assets[0];
    let (s, h, b) = serve(root, &base.url);
    assert!(failed(&checks_for(&site, with_sri, s, &h, Body::Wire(&b))).is_empty());
    let checks = checks_for(&site, with_sri, s, &h, Body::Wire(&altered));
    assert_eq!(
        failed(&checks),
        vec![CheckKind::Integrity, CheckKind::HashedName]
    );
    assert!(
        checks
            .iter()
            .any(|c| c.kind == CheckKind::Integrity && c.blocking)
    );
}
