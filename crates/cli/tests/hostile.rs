//! Hostile servers and bad input, as an unlucky user meets them: every case is a real server on
//! loopback, and each asserts the bounded time, the diagnosis or error, and the exit code.

mod common;

use std::io::Write as _;
use std::time::{Duration, Instant};

use interloper_testkit::faults::{Fault, FaultServer};
use serde_json::Value;

/// A stylesheet or image that sends one byte a second for far longer than any budget.
fn drip_forever() -> Fault {
    Fault::Drip {
        chunk: 1,
        interval: Duration::from_secs(1),
        count: 100_000,
    }
}

fn page(body: &str) -> Fault {
    Fault::typed("text/html; charset=utf-8", body.as_bytes().to_vec())
}

/// `interloper check --json` with the given extra flags; the run's wall time too.
fn check(urls: &[&str], extra: &[&str]) -> (Option<i32>, Value, String, Duration) {
    let mut args = vec!["check", "--json", "--no-proxy", "--no-os-roots"];
    args.extend_from_slice(extra);
    args.extend_from_slice(urls);
    let started = Instant::now();
    let out = common::interloper(&args);
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = if out.stdout.is_empty() {
        Value::Null
    } else {
        common::json(&out)
    };
    (out.status.code(), report, stderr, took)
}

fn notes(report: &Value) -> Vec<String> {
    report["notes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn verdict(report: &Value) -> String {
    report["verdict"]["status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn error_kinds(report: &Value) -> Vec<String> {
    let mut kinds = Vec::new();
    for t in report["targets"].as_array().into_iter().flatten() {
        for a in t["assets"].as_array().into_iter().flatten() {
            for r in a["requests"].as_array().into_iter().flatten() {
                if let Some(k) = r["error"]["kind"].as_str() {
                    kinds.push(k.to_string());
                }
            }
        }
    }
    kinds
}

#[test]
fn ten_dripping_stylesheets_hold_the_budget() {
    let links: String = (0..10)
        .map(|i| format!("<link rel=stylesheet href=/s{i}.css>"))
        .collect();
    let mut routes = vec![("/", page(&format!("<html><head>{links}</head></html>")))];
    let names = [
        "/s0.css", "/s1.css", "/s2.css", "/s3.css", "/s4.css", "/s5.css", "/s6.css", "/s7.css",
        "/s8.css", "/s9.css",
    ];
    for n in names {
        routes.push((n, drip_forever()));
    }
    let s = FaultServer::plain(Fault::site(routes)).expect("server");
    let (code, report, stderr, took) = check(&[&s.url("/")], &["--budget", "6s"]);
    // The budget plus a small margin: ten dripping stylesheets used to take 256 s.
    assert!(took < Duration::from_secs(15), "took {took:?}");
    assert_eq!(code, Some(1), "{stderr}");
    assert_ne!(verdict(&report), "clean", "{report:#}");
    assert!(
        notes(&report).iter().any(|n| n.contains("budget ran out")),
        "{:?}",
        notes(&report)
    );
}

#[test]
fn an_endless_image_is_bounded_and_called_endless() {
    let s = FaultServer::plain(Fault::site([
        ("/", page("<html><body><img src=/big.png></body></html>")),
        ("/big.png", Fault::EndlessBody),
    ]))
    .expect("server");
    let (code, report, stderr, took) = check(&[&s.url("/")], &["--budget", "8s"]);
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert_eq!(code, Some(1), "{stderr}");
    let kinds = error_kinds(&report);
    assert!(kinds.iter().any(|k| k == "body_endless"), "{kinds:?}");
    let codes = common::codes(&report);
    assert!(codes.contains(&"IL209".to_string()), "{codes:?}");
    assert!(
        !codes.contains(&"IL207".to_string()),
        "not a large-body stall: {codes:?}"
    );
    assert!(
        !kinds.iter().any(|k| k == "cancelled"),
        "cut requests are not evidence"
    );
    let text = report.to_string();
    assert!(!text.contains("nothing for 0ns"), "{text}");
}

#[test]
fn a_page_that_drips_everywhere_is_bounded() {
    let s = FaultServer::plain(drip_forever()).expect("server");
    let (code, report, stderr, took) = check(&[&s.url("/")], &["--budget", "6s"]);
    assert!(took < Duration::from_secs(15), "took {took:?}");
    assert_eq!(code, Some(1), "{stderr}");
    assert_ne!(verdict(&report), "clean", "{report:#}");
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

fn encoded_page(body: Vec<u8>) -> Fault {
    Fault::Raw {
        head: format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        ),
        body,
    }
}

#[test]
fn a_decompression_bomb_page_is_not_clean() {
    // 100 MB of zeros in about 100 kB: past the 64 MiB decoding limit at 1000:1.
    let bomb = gzip(&vec![0u8; 100_000_000]);
    let s = FaultServer::plain(encoded_page(bomb)).expect("server");
    let (code, report, stderr, _) = check(&[&s.url("/")], &["--budget", "10s", "--samples", "2"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_ne!(verdict(&report), "clean", "{report:#}");
    assert!(
        report.to_string().contains("decompression bomb"),
        "{report:#}"
    );
    assert!(common::codes(&report).contains(&"IL307".to_string()));
}

#[test]
fn a_corrupt_gzip_page_is_not_clean() {
    let mut body = gzip(b"<html><body><img src=/a.png></body></html>");
    let mid = body.len() / 2;
    for b in body.iter_mut().skip(12).take(mid) {
        *b ^= 0x5a;
    }
    let s = FaultServer::plain(encoded_page(body)).expect("server");
    let (code, report, stderr, _) = check(&[&s.url("/")], &["--budget", "10s", "--samples", "2"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_ne!(verdict(&report), "clean", "{report:#}");
    assert!(
        notes(&report).iter().any(|n| n.contains("does not decode")),
        "{:?}",
        notes(&report)
    );
}

#[test]
fn a_redirect_to_another_scheme_does_not_end_the_run() {
    let bad = FaultServer::plain(Fault::site([
        (
            "/",
            page("<html><head><link rel=stylesheet href=/s.css></head></html>"),
        ),
        (
            "/s.css",
            Fault::redirect(302, "ftp://example.invalid/s.css"),
        ),
    ]))
    .expect("server");
    let good = FaultServer::plain(page("<html><body>fine</body></html>")).expect("server");
    let (code, report, stderr, _) = check(
        &[&bad.url("/"), &good.url("/")],
        &["--budget", "10s", "--samples", "2"],
    );
    assert_ne!(code, Some(2), "no abort: {stderr}");
    assert_eq!(report["targets"].as_array().map(Vec::len), Some(2));
    assert!(
        notes(&report)
            .iter()
            .any(|n| n.contains("ftp://example.invalid/s.css") && n.contains("not followed")),
        "{:?}",
        notes(&report)
    );
    assert!(common::codes(&report).contains(&"IL309".to_string()));
}

#[test]
fn a_page_that_redirects_to_itself_forever_is_named_a_loop() {
    let s = FaultServer::plain(Fault::redirect(302, "/")).expect("server");
    let (code, report, stderr, _) = check(&[&s.url("/")], &["--budget", "10s", "--samples", "2"]);
    assert_ne!(code, Some(2), "{stderr}");
    assert!(
        notes(&report).iter().any(|n| n.contains("redirect loop")),
        "{:?}",
        notes(&report)
    );
    assert!(common::codes(&report).contains(&"IL308".to_string()));
    assert_ne!(verdict(&report), "clean");
}

#[test]
fn discovery_notes_are_counted_not_listed() {
    let links: String = (0..3_000)
        .map(|i| format!("<a href='javascript:void({i})'>x</a><img src='http://[bad{i}'>"))
        .collect();
    let s =
        FaultServer::plain(page(&format!("<html><body>{links}</body></html>"))).expect("server");
    let (_, report, stderr, _) = check(&[&s.url("/")], &["--budget", "10s", "--samples", "2"]);
    let n = notes(&report);
    assert!(n.len() < 10, "{} notes: {:?} {stderr}", n.len(), n.first());
    assert!(
        !n.iter()
            .any(|l| l.contains("Url {") || l.contains("NotFollowed")),
        "{n:?}"
    );
}

/// `interloper tls` against servers that do not finish a handshake says so, with exit 1 and
/// no verdict, never "untrusted: no certificate presented".
#[test]
fn tls_reports_a_failed_handshake_as_a_failure() {
    for fault in [
        Fault::NotTls,
        Fault::Garbage,
        Fault::ResetOnAccept,
        Fault::ResetAfterFirstBytes,
        Fault::Alert,
        Fault::NeverAnswer,
    ] {
        // A silent server: plain TCP that never answers our ClientHello.
        let (s, url) = if matches!(fault, Fault::NeverAnswer) {
            let s = FaultServer::plain(fault.clone()).expect("server");
            let url = format!("https://{}/", s.addr);
            (s, url)
        } else {
            let s = FaultServer::tls(fault.clone()).expect("server");
            let url = s.url("/");
            (s, url)
        };
        let out = common::interloper(&[
            "tls",
            "--json",
            "--no-proxy",
            "--no-os-roots",
            "--timeout",
            "1s",
            &url,
        ]);
        drop(s);
        assert_eq!(out.status.code(), Some(1), "{fault:?}");
        let r = common::json(&out);
        assert!(r["verdict"].is_null(), "{fault:?}: {r:#}");
        let error = r["error"].as_str().unwrap_or_default();
        assert!(!error.is_empty(), "{fault:?}: {r:#}");
        if matches!(fault, Fault::NotTls) {
            assert!(
                error.contains("did not speak TLS (it answered plain HTTP)"),
                "{error}"
            );
        }
    }
}

#[test]
fn pin_fails_loudly_when_no_certificate_is_presented() {
    let s = FaultServer::tls(Fault::NotTls).expect("server");
    let out = common::interloper(&["pin", &s.url("/")]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no certificate presented"), "{stderr}");
    assert!(out.stdout.is_empty());
}

/// A gzip body of zeros too large on the wire for the bomb ratio rule (IL307 needs more than
/// 100:1 within 1/100 of the decoding limit) that still expands past the 64 MiB limit, as the
/// issue's 1 GiB at 229:1: a gzip header, then one fully flushed deflate block of 1 MiB of
/// zeros repeated until the body passes 800 kB. Each block stands alone (a full flush resets
/// the window), and the decoder gives up at the limit long before the missing trailer.
fn large_ratio_bomb() -> Vec<u8> {
    let mut deflate = flate2::Compress::new(flate2::Compression::fast(), false);
    let zeros = vec![0u8; 1 << 20];
    let mut block = Vec::with_capacity(64 * 1024);
    deflate
        .compress_vec(&zeros, &mut block, flate2::FlushCompress::Full)
        .expect("deflate");
    assert!(
        !block.is_empty() && block.len() < 64 * 1024,
        "{}",
        block.len()
    );
    let mut body = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    while body.len() < 800_000 {
        body.extend_from_slice(&block);
    }
    body
}

fn summary(report: &Value) -> String {
    report["verdict"]["summary"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Status incomplete, exit 3, IL310 the only finding at warning or above, and the verdict
/// saying why.
fn assert_incomplete(code: Option<i32>, report: &Value, stderr: &str, why: &str) {
    assert_eq!(code, Some(3), "{stderr}\n{report:#}");
    assert_eq!(verdict(report), "incomplete", "{report:#}");
    assert_eq!(report["verdict"]["root_cause"], "IL310", "{report:#}");
    let s = summary(report);
    assert!(
        s.starts_with("The check is incomplete") && s.contains(why),
        "{s}"
    );
}

#[test]
fn a_bomb_past_the_ratio_rule_is_incomplete_not_clean() {
    let s = FaultServer::plain(encoded_page(large_ratio_bomb())).expect("server");
    let url = s.url("/");
    let (code, report, stderr, took) = check(&[&url], &["--budget", "20s", "--samples", "2"]);
    assert!(took < Duration::from_secs(60), "took {took:?}");
    assert_incomplete(code, &report, &stderr, "does not decode");
    assert!(summary(&report).contains(&url), "{}", summary(&report));
}

#[test]
fn a_page_that_is_not_html_is_incomplete() {
    for (ct, body, says) in [
        (
            "application/json",
            b"{\"status\": \"ok\"}".to_vec(),
            "application/json, not HTML",
        ),
        (
            "image/png",
            b"\x89PNG\r\n\x1a\n0000".to_vec(),
            "image/png, not HTML",
        ),
    ] {
        let s = FaultServer::plain(Fault::typed(ct, body)).expect("server");
        let (code, report, stderr, _) =
            check(&[&s.url("/")], &["--budget", "10s", "--samples", "2"]);
        assert_incomplete(code, &report, &stderr, says);
    }
}

#[test]
fn a_page_over_the_size_limit_is_incomplete() {
    // Past the 8 MiB a document is parsed to: what it references after that is unseen.
    let mut html = b"<html><body>".to_vec();
    html.resize(9 << 20, b' ');
    html.extend_from_slice(b"<img src=/late.png></body></html>");
    let s = FaultServer::plain(Fault::typed("text/html", html)).expect("server");
    let (code, report, stderr, _) = check(&[&s.url("/")], &["--budget", "20s", "--samples", "2"]);
    assert_incomplete(code, &report, &stderr, "over the size limit");
}

#[test]
fn a_stylesheet_that_cannot_be_read_leaves_the_check_incomplete() {
    let bomb = large_ratio_bomb();
    let sheet = Fault::Raw {
        head: format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/css\r\nContent-Encoding: gzip\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            bomb.len()
        ),
        body: bomb,
    };
    let s = FaultServer::plain(Fault::site([
        (
            "/",
            page("<html><head><link rel=stylesheet href=/s.css></head></html>"),
        ),
        ("/s.css", sheet),
    ]))
    .expect("server");
    let (code, report, stderr, _) = check(&[&s.url("/")], &["--budget", "20s", "--samples", "2"]);
    assert_incomplete(code, &report, &stderr, "the stylesheet");
    assert!(summary(&report).contains("/s.css"), "{}", summary(&report));
}

/// An error page is a problem (the page fails for everyone): problems win the status and
/// the exit code, and the verdict still says the check is incomplete.
#[test]
fn an_error_page_fails_and_still_says_the_check_is_incomplete() {
    for (status, code_seen) in [(500, "IL306"), (404, "IL301")] {
        let s = FaultServer::plain(Fault::Raw {
            head: format!(
                "HTTP/1.1 {status} Oops\r\nContent-Type: text/html\r\nContent-Length: 15\r\n\
                 Connection: close\r\n\r\n"
            ),
            body: b"<html>x</html>\n".to_vec(),
        })
        .expect("server");
        let (code, report, stderr, _) =
            check(&[&s.url("/")], &["--budget", "10s", "--samples", "2"]);
        assert_eq!(code, Some(1), "{stderr}");
        assert_eq!(verdict(&report), "failing", "{report:#}");
        assert_eq!(report["verdict"]["root_cause"], code_seen, "{report:#}");
        let codes = common::codes(&report);
        assert!(codes.contains(&"IL310".to_string()), "{codes:?}");
        let s = summary(&report);
        assert!(
            s.contains("The check is also incomplete") && s.contains(&format!("answered {status}")),
            "{s}"
        );
    }
}

/// The redirect loop and the ratio bomb of the earlier hardening tests keep their problem
/// (exit 1) and now also say what was not examined.
#[test]
fn a_redirect_loop_fails_and_still_says_the_check_is_incomplete() {
    let s = FaultServer::plain(Fault::redirect(302, "/")).expect("server");
    let (code, report, stderr, _) = check(&[&s.url("/")], &["--budget", "10s", "--samples", "2"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(report["verdict"]["root_cause"], "IL308", "{report:#}");
    assert!(summary(&report).contains("a redirect loop"), "{report:#}");
    assert!(summary(&report).contains("also incomplete"), "{report:#}");
}

#[test]
fn a_plain_page_is_still_clean() {
    let s = FaultServer::plain(Fault::site([
        ("/", page("<html><body><img src=/a.png></body></html>")),
        (
            "/a.png",
            Fault::typed("image/png", b"\x89PNG\r\n\x1a\n0000".to_vec()),
        ),
    ]))
    .expect("server");
    let (code, report, stderr, _) = check(&[&s.url("/")], &["--budget", "10s", "--samples", "2"]);
    assert_eq!(code, Some(0), "{stderr}\n{report:#}");
    assert_eq!(verdict(&report), "clean", "{report:#}");
    assert!(!common::codes(&report).contains(&"IL310".to_string()));
}

/// A stylesheet on another origin is not sampled (no `--cross-origin`), but the page's
/// references in it were still not examined: the check says so on the page.
#[test]
fn a_cross_origin_stylesheet_that_cannot_be_read_is_said_on_the_page() {
    let cdn = FaultServer::plain(Fault::Raw {
        head: "HTTP/1.1 500 Oops\r\nContent-Type: text/css\r\nContent-Length: 0\r\n\
               Connection: close\r\n\r\n"
            .into(),
        body: Vec::new(),
    })
    .expect("cdn");
    let sheet = cdn.url("/site.css");
    let html = format!("<html><head><link rel=stylesheet href={sheet}></head></html>");
    let s = FaultServer::plain(Fault::typed("text/html", html.into_bytes())).expect("server");
    let (code, report, stderr, _) = check(&[&s.url("/")], &["--budget", "10s", "--samples", "2"]);
    assert_incomplete(code, &report, &stderr, &sheet);
    assert!(summary(&report).contains("answered 500"), "{report:#}");
}
