//! Each format read from lines as the products write them, and the signs they carry turned
//! into findings.

use interloper_findings::{Code, LogSign, analyse_logs};
use interloper_logs::{
    DETECT_BYTES, Ending, Format, GatherOptions, Gatherer, Layout, MAX_LINE, detect, detect_layout,
    parse_line,
};

#[test]
fn nginx_combined_with_timing_pairs() {
    let line = r#"198.51.100.4 - - [24/Nov/2026:07:12:01 +0000] "GET /static/css/site.3f2a1b9c8d7e.css?v=2 HTTP/2.0" 499 0 "https://app.example/" "Mozilla/5.0 (X11)" rt=19.870 uct="0.001" urt="-" ua="10.0.0.4:8000""#;
    let e = parse_line(Format::Combined, line).expect("parses");
    assert_eq!(e.path, "/static/css/site.3f2a1b9c8d7e.css");
    assert_eq!(e.status, Some(499));
    assert_eq!(e.ending, Ending::ClientClosed);
    assert_eq!(e.upstream.as_deref(), Some("10.0.0.4:8000"));
    assert_eq!(e.duration_ms, Some(19_870.0));
    assert_eq!(e.upstream_ms, None);
    assert_eq!(detect([line]), Some(Format::Combined));
}

#[test]
fn nginx_bare_timings_and_retried_upstreams() {
    // `$request_time $upstream_response_time $upstream_addr` appended without names; after a
    // retry nginx lists every attempt and the last one answered.
    let line = r#"10.1.1.1 - alice [24/Nov/2026:07:12:01 +0100] "GET /static/app.js HTTP/1.1" 200 48213 "-" "curl/8.5" 2.004 2.001, 0.002 10.0.0.3:8000, 10.0.0.1:8000"#;
    let e = parse_line(Format::Combined, line).expect("parses");
    assert_eq!(e.duration_ms, Some(2004.0));
    assert_eq!(e.upstream_ms, Some(2.0));
    assert_eq!(e.upstream.as_deref(), Some("10.0.0.1:8000"));
    assert_eq!(e.time, Some(1_795_500_721));
}

#[test]
fn apache_common_and_vhost_combined() {
    let common =
        r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#;
    let e = parse_line(Format::Combined, common).expect("common log format");
    assert_eq!((e.status, e.bytes), (Some(200), Some(2326)));
    let vhost = r#"www.example.com:443 192.0.2.9 - - [24/Nov/2026:07:00:00 +0000] "GET /static/a.png HTTP/1.1" 304 - "-" "UA" 1532"#;
    let e = parse_line(Format::Combined, vhost).expect("vhost_combined");
    assert_eq!(e.client.as_deref(), Some("192.0.2.9"));
    assert_eq!(e.bytes, Some(0));
    assert_eq!(e.duration_ms, Some(1.532));
}

#[test]
fn haproxy_http_log_lines() {
    // The example of HAProxy's documentation, with a syslog prefix.
    let ok = r#"Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1""#;
    let e = parse_line(Format::Haproxy, ok).expect("parses");
    assert_eq!(e.upstream.as_deref(), Some("static/srv1"));
    assert_eq!(
        (e.status, e.bytes, e.duration_ms, e.upstream_ms),
        (Some(200), Some(2750), Some(109.0), Some(69.0))
    );
    assert_eq!(e.ending, Ending::Complete);
    assert_eq!(e.client.as_deref(), Some("10.0.1.2"));
    assert_eq!(detect([ok]), Some(Format::Haproxy));

    let aborted = r#"haproxy[1]: 10.0.1.2:33320 [06/Feb/2009:12:14:14.655] http-in static/srv4 10/0/1/-1/+20001 -1 0 - - CH-- 1/1/1/1/0 0/0 "GET /static/x.css HTTP/1.1""#;
    let e = parse_line(Format::Haproxy, aborted).expect("parses");
    assert_eq!(e.ending, Ending::ClientClosed);
    assert_eq!(e.status, None);
    assert_eq!(e.detail.as_deref(), Some("CH--"));
    assert_eq!(e.duration_ms, Some(20_001.0));

    let timeout = r#"10.0.1.2:33321 [06/Feb/2009:12:14:14.655] http-in static/srv4 0/0/1/-1/30001 504 194 - - sH-- 1/1/1/1/0 0/0 "GET /static/x.css HTTP/1.1""#;
    assert_eq!(
        parse_line(Format::Haproxy, timeout).expect("parses").ending,
        Ending::ServerTimeout
    );
    // A TCP-mode line has no request: not an HTTP log line.
    let tcp = r#"haproxy[1]: 10.0.1.2:33313 [06/Feb/2009:12:12:51.443] fnt bck/srv1 0/0/5007 212 -- 0/0/0/0/3 0/0"#;
    assert!(parse_line(Format::Haproxy, tcp).is_err());
}

#[test]
fn avi_and_nginx_json_lines() {
    let avi = r#"{"uri_path":"/static/app.js","method":"GET","response_code":200,"response_length":812,"total_time":15200,"server_ip":167772163,"server_dest_port":8000,"significant_log":["ADF_CLIENT_HIGH_TIMEOUT_RETRANSMITS","ADF_CLIENT_CONN_ABORTED"],"client_ip":"198.51.100.7"}"#;
    let e = parse_line(Format::Json, avi).expect("avi");
    assert_eq!(e.upstream.as_deref(), Some("10.0.0.3:8000"));
    assert_eq!(e.ending, Ending::ClientClosed);
    assert!(e.network_trouble);
    assert_eq!(e.duration_ms, Some(15_200.0));
    let nginx = r#"{"time_iso8601":"2026-11-24T07:00:00+00:00","remote_addr":"10.1.1.1","request":"GET /static/a.css HTTP/1.1","status":"504","body_bytes_sent":"0","request_time":"60.001","upstream_addr":"10.0.0.2:80","upstream_response_time":"60.000"}"#;
    let e = parse_line(Format::Json, nginx).expect("nginx json");
    assert_eq!(e.ending, Ending::ServerTimeout);
    assert_eq!(e.time, Some(1_795_503_600));
    assert_eq!(detect([nginx, avi]), Some(Format::Json));
    // escape=json with the per-try lists and TLS.
    let tries = r#"{"request":"GET /static/a.css HTTP/1.1","status":"200","upstream_addr":"10.0.0.2:80, 10.0.0.1:80","upstream_status":"502, 200","upstream_connect_time":"-, 0.001","upstream_header_time":"-, 0.004","upstream_response_time":"0.000, 0.005","ssl_protocol":"TLSv1.3","ssl_cipher":""}"#;
    let e = parse_line(Format::Json, tries).expect("nginx json with tries");
    assert_eq!(e.upstream.as_deref(), Some("10.0.0.1:80"));
    assert_eq!(
        e.upstream_tries.as_deref(),
        Some("10.0.0.2:80, 10.0.0.1:80")
    );
    assert_eq!(e.upstream_connect.as_deref(), Some("-, 0.001"));
    assert_eq!(e.tls_protocol.as_deref(), Some("TLSv1.3"));
    assert_eq!(e.tls_cipher, None);
}

#[test]
fn garbage_is_refused_never_a_panic() {
    let samples = [
        "",
        "[",
        "\"",
        "1 2 3 [x] \"y\" z",
        "{\"uri_path\": 5}",
        "a b c [24/Nov/2026:07:00:00 +0000] \"GET / HTTP/1.1\" 2000 1",
        "x:1 [aa/Bbb/cccc:dd:ee:ff.ggg] f b/s 1/2/3 200 1 - - ---- 0 0 \"G\"",
        "é:é [é/é/é] é é/é é/é/é/é/é é é é é é",
    ];
    for s in samples {
        for f in Format::ALL {
            let _ = parse_line(f, s);
        }
    }
    assert_eq!(detect(["dear diary", "nothing here"]), None);
    let long = format!(
        "1.2.3.4 - - [x] \"GET /{} HTTP/1.1\" 200 1",
        "a".repeat(1 << 20)
    );
    let _ = parse_line(Format::Combined, &long);
}

fn combined(
    path: &str,
    status: u16,
    bytes: u64,
    secs: f64,
    upstream: &str,
    upstream_secs: f64,
) -> String {
    format!(
        r#"192.0.2.1 - - [24/Nov/2026:07:00:00 +0000] "GET {path} HTTP/1.1" {status} {bytes} "-" "UA" rt={secs:.3} urt="{upstream_secs:.3}" ua="{upstream}""#
    )
}

#[test]
fn partial_bodies_and_slow_delivery_become_il502_and_il503() {
    let mut g = Gatherer::new(GatherOptions::default());
    let src = g.begin_source("lb.log", Format::Combined);
    let mut n = 0;
    let mut feed = |g: &mut Gatherer, line: String| {
        n += 1;
        g.line(src, n, &line);
    };
    for i in 0..100 {
        let line = match i % 20 {
            // Cut mid-file (a size seen once), and slow to deliver though the backend was fast.
            3 => combined("/static/app.js", 200, 1000 + i, 0.02, "10.0.0.1:80", 0.001),
            7 => combined("/static/app.css", 200, 5000, 4.5, "10.0.0.1:80", 0.002),
            // A gzip size seen again and again is another encoding, not a cut.
            11 => combined("/static/app.js", 200, 12_000, 0.01, "10.0.0.1:80", 0.001),
            _ if i % 2 == 0 => combined("/static/app.js", 200, 48_213, 0.01, "10.0.0.1:80", 0.001),
            _ => combined("/static/app.css", 200, 5000, 0.01, "10.0.0.1:80", 0.001),
        };
        feed(&mut g, line);
    }
    // Not static: ignored, however slow.
    feed(
        &mut g,
        combined("/api/report", 200, 10, 30.0, "10.0.0.1:80", 30.0),
    );
    let ev = g.finish();
    assert_eq!(ev.groups.len(), 1);
    let group = &ev.groups[0];
    assert_eq!(group.static_requests, 100);
    assert_eq!(group.count(LogSign::Partial), 5);
    assert_eq!(group.count(LogSign::SlowDelivery), 5);
    let a = analyse_logs(&ev);
    let codes: Vec<Code> = a.findings.iter().map(|f| f.code).collect();
    assert!(
        codes.contains(&Code::IL502) && codes.contains(&Code::IL503),
        "{codes:?}"
    );
    let il503 = a
        .findings
        .iter()
        .find(|f| f.code == Code::IL503)
        .expect("IL503");
    assert!(
        il503.summary.contains("between the proxy and the client"),
        "{}",
        il503.summary
    );
    // One backend only: nothing to compare.
    assert!(!codes.contains(&Code::IL504));
}

#[test]
fn a_few_client_aborts_spread_everywhere_are_not_a_finding() {
    let mut g = Gatherer::new(GatherOptions::default());
    let src = g.begin_source("lb.log", Format::Combined);
    for i in 0..2000u64 {
        let backend = format!("10.0.0.{}:80", i % 4 + 1);
        let status = if i % 997 == 0 { 499 } else { 200 };
        g.line(
            src,
            i + 1,
            &combined("/static/app.js", status, 48_213, 0.01, &backend, 0.001),
        );
    }
    let a = analyse_logs(&g.finish());
    assert!(a.findings.is_empty(), "{:?}", a.findings);
    assert_eq!(a.verdict.root_cause, None);
}

#[test]
fn a_files_beginning_says_lines_or_a_json_document() {
    let avi = r#"{"uri_path":"/static/app.js","response_code":200,"server_ip":"10.0.0.1"}"#;
    let lines = format!("{avi}\n{avi}\n");
    assert_eq!(
        detect_layout(lines.as_bytes(), true, None),
        Some(Layout::Lines(Format::Json))
    );
    let pretty = format!("{{\n  \"count\": 2,\n  \"results\": [\n    {avi},\n    {avi}\n  ]\n}}\n");
    assert_eq!(
        detect_layout(pretty.as_bytes(), true, None),
        Some(Layout::JsonDocument)
    );
    assert_eq!(
        detect_layout(pretty.as_bytes(), true, Some(Format::Json)),
        Some(Layout::JsonDocument)
    );
    // A compact export is one line, longer than a log line may be: still a document.
    let compact = format!("{{\"results\":[{}]}}", vec![avi; 2000].join(","));
    assert!(compact.len() > MAX_LINE);
    let prefix = &compact.as_bytes()[..DETECT_BYTES.min(compact.len())];
    assert_eq!(
        detect_layout(prefix, false, None),
        Some(Layout::JsonDocument)
    );
    let bare_list = format!("[{avi}]");
    assert_eq!(
        detect_layout(bare_list.as_bytes(), true, None),
        Some(Layout::JsonDocument)
    );
    // The format the user gives wins over a document's look.
    assert_eq!(
        detect_layout(pretty.as_bytes(), true, Some(Format::Combined)),
        Some(Layout::Lines(Format::Combined))
    );
    assert_eq!(detect_layout(b"", true, None), None);
    assert_eq!(detect_layout(b"dear diary\n", true, None), None);
    // A line the prefix cuts short is not judged.
    let combined =
        r#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /static/a.css HTTP/1.0" 200 2326"#;
    let cut = format!("{combined}\n{}", &combined[..20]);
    assert_eq!(
        detect_layout(cut.as_bytes(), false, None),
        Some(Layout::Lines(Format::Combined))
    );
}

#[test]
fn one_record_per_line_inside_a_list_is_a_document_and_a_stray_line_is_not() {
    let avi = r#"{"uri_path":"/static/app.js","response_code":200,"server_ip":"10.0.0.1"}"#;
    let listed = format!("{{\"results\": [\n{avi},\n{avi},\n{avi}\n]}}\n");
    assert_eq!(
        detect_layout(listed.as_bytes(), true, None),
        Some(Layout::JsonDocument)
    );
    // JSON lines with a header object first are still JSON lines.
    let headed = format!("{{\"export\": \"v1\"}}\n{avi}\n{avi}\n");
    assert_eq!(
        detect_layout(headed.as_bytes(), true, None),
        Some(Layout::Lines(Format::Json))
    );
    let mut g = Gatherer::new(GatherOptions::default());
    let src = g.begin_source("listed.json", Format::Json);
    assert_eq!(g.json_document(src, listed.as_bytes()).expect("reads"), 3);
}

#[test]
fn each_upstream_try_is_counted_on_its_backend() {
    let mut g = Gatherer::new(GatherOptions::default());
    let src = g.begin_source("lb.log", Format::Combined);
    let line = |tries: &str, connect: &str, header: &str, tls: &str| {
        format!(
            r#"192.0.2.1 - - [24/Nov/2026:07:00:00 +0000] "GET /static/app.js HTTP/1.1" 200 5000 "-" "UA" rt=3.100 ua="{tries}" us="502, 200" uct="{connect}" uht="{header}" urt="3.000, 0.010" ssl_protocol={tls} ssl_cipher=TLS_AES_128_GCM_SHA256"#
        )
    };
    // nginx gave up on .2 (a failed try, connect time logged, no header) and .1 answered.
    for i in 0..10 {
        g.line(
            src,
            i + 1,
            &line(
                "10.0.0.2:80, 10.0.0.1:80",
                "0.250, 0.001",
                "-, 0.009",
                "TLSv1.3",
            ),
        );
    }
    // An internal redirect to another upstream is not a failed try; `-` has no address.
    g.line(
        src,
        11,
        &line(
            "10.0.0.1:80 : 10.0.0.3:80",
            "0.001 : 0.002",
            "0.005 : 0.006",
            "TLSv1.2",
        ),
    );
    g.line(
        src,
        12,
        &line("-, 10.0.0.1:80", "-, 0.001", "-, 0.004", "-"),
    );
    let ev = g.finish();
    let by = |name: &str| {
        ev.groups
            .iter()
            .find(|x| x.name == name)
            .unwrap_or_else(|| panic!("{name} in {:?}", ev.groups))
    };
    let one = by("10.0.0.1:80");
    assert_eq!(
        (one.static_requests, one.tries, one.failed_tries),
        (11, 12, 0)
    );
    assert_eq!(one.connect.as_ref().map(|c| c.count), Some(12));
    // TLS is the client's side: counted on the backend that answered ("-": plain HTTP).
    assert_eq!(one.tls_protocols, vec![("TLSv1.3".to_string(), 10)]);
    assert_eq!(
        one.tls_ciphers,
        vec![("TLS_AES_128_GCM_SHA256".to_string(), 11)]
    );
    // .2 answered nothing but failed ten tries, each of which connected in 250 ms.
    let two = by("10.0.0.2:80");
    assert_eq!(
        (two.static_requests, two.tries, two.failed_tries),
        (0, 10, 10)
    );
    let connect = two.connect.as_ref().expect("connect times");
    assert!((connect.p50 - 250.0).abs() < 5.0, "{connect:?}");
    assert!(two.header.is_none());
    let three = by("10.0.0.3:80");
    assert_eq!(
        (three.static_requests, three.tries, three.failed_tries),
        (1, 1, 0)
    );
    assert_eq!(three.tls_protocols, vec![("TLSv1.2".to_string(), 1)]);
}
