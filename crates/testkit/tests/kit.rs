//! The test kit's own tests: every component starts for real, serves real bytes on loopback,
//! and stops on drop.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use interloper_testkit::{
    DjangoOrigin, Mitmproxy, Nginx, NginxOptions, SMALL_TXT, Squid, TestPki, one_mib_bytes,
};
use rustls::pki_types::{CertificateDer, ServerName};
use x509_parser::prelude::*;

/// What a blocking TLS client saw.
struct Fetched {
    status: u16,
    body: Vec<u8>,
    alpn: Option<Vec<u8>>,
    peer_certs: Vec<CertificateDer<'static>>,
}

/// One HTTP/1.1 GET over TLS to 127.0.0.1:`port` with SNI `localhost`, trusting only `ca_der`.
fn https_get(port: u16, path: &str, ca_der: &[u8], alpn: &[&[u8]]) -> Fetched {
    let sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    https_get_over(sock, port, path, ca_der, alpn)
}

/// [`https_get`] over a connection already open (a proxy's tunnel to `localhost:port`).
fn https_get_over(
    sock: TcpStream,
    port: u16,
    path: &str,
    ca_der: &[u8],
    alpn: &[&[u8]],
) -> Fetched {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(ca_der.to_vec())).unwrap();
    let provider = Arc::new(interloper_testkit::classic_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let conn =
        rustls::ClientConnection::new(Arc::new(config), ServerName::try_from("localhost").unwrap())
            .unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut tls = rustls::StreamOwned::new(conn, sock);
    // Complete the handshake first so ALPN and certificates are known even for h2.
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock).unwrap();
    }
    let alpn = tls.conn.alpn_protocol().map(|p| p.to_vec());
    let peer_certs = tls
        .conn
        .peer_certificates()
        .unwrap()
        .iter()
        .map(|c| c.clone().into_owned())
        .collect();
    if alpn.as_deref() == Some(b"h2") {
        return Fetched {
            status: 0,
            body: Vec::new(),
            alpn,
            peer_certs,
        };
    }
    write!(
        tls,
        "GET {path} HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    match tls.read_to_end(&mut raw) {
        Ok(_) => {}
        // Some servers close without close_notify after `Connection: close`.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {}
        Err(e) => panic!("reading response: {e}"),
    }
    let (status, body) = split_response(&raw);
    Fetched {
        status,
        body,
        alpn,
        peer_certs,
    }
}

/// One plain HTTP/1.1 GET to 127.0.0.1:`port`.
fn http_get(port: u16, path: &str) -> (u16, Vec<u8>) {
    let mut sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        sock,
        "GET {path} HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    sock.read_to_end(&mut raw).unwrap();
    split_response(&raw)
}

/// Status and body of a `Connection: close` response with no chunking expected.
fn split_response(raw: &[u8]) -> (u16, Vec<u8>) {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete header block");
    let head = String::from_utf8_lossy(&raw[..end]);
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status code");
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "test client does not de-chunk: {head}"
    );
    (status, raw[end + 4..].to_vec())
}

fn subject_of(der: &[u8]) -> (String, String, bool) {
    let (_, cert) = X509Certificate::from_der(der).unwrap();
    let issuer = cert.issuer().to_string();
    let subject = cert.subject().to_string();
    (subject, issuer, cert.is_ca())
}

#[test]
fn pki_has_a_ca_and_a_leaf_for_loopback_names() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = TestPki::generate(tmp.path(), "Test Root", "Test Org", &["example.test"]).unwrap();
    let (ca_subject, ca_issuer, ca_is_ca) = subject_of(&pki.ca_der);
    assert!(ca_is_ca);
    assert_eq!(ca_subject, ca_issuer, "the CA is self-signed");
    assert!(ca_subject.contains("CN=Test Root") && ca_subject.contains("O=Test Org"));

    let pem = std::fs::read_to_string(&pki.leaf_cert_pem).unwrap();
    assert_eq!(pem.matches("BEGIN CERTIFICATE").count(), 2, "leaf + CA");
    let certs: Vec<_> = rustls_pem_certs(&pem);
    let (_, leaf) = X509Certificate::from_der(&certs[0]).unwrap();
    assert!(!leaf.is_ca());
    // Present, critical, CA:FALSE, and DER (cA omitted) so Python's cryptography accepts it.
    let bc = leaf.basic_constraints().unwrap().unwrap();
    assert!(bc.critical && !bc.value.ca);
    let raw = leaf
        .extensions()
        .iter()
        .find(|e| e.oid == x509_parser::oid_registry::OID_X509_EXT_BASIC_CONSTRAINTS)
        .unwrap();
    assert_eq!(raw.value, [0x30, 0x00]);
    assert_eq!(leaf.issuer().to_string(), ca_subject);
    let sans = leaf.subject_alternative_name().unwrap().unwrap();
    let names: Vec<String> = sans
        .value
        .general_names
        .iter()
        .map(|n| match n {
            GeneralName::DNSName(d) => d.to_string(),
            GeneralName::IPAddress(ip) => format!("ip:{}", ip.len()),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(names, ["example.test", "localhost", "ip:4", "ip:16"]);
    let validity = leaf.validity().time_to_expiration().unwrap();
    assert!(
        validity > Duration::from_secs(80 * 86400) && validity < Duration::from_secs(400 * 86400)
    );
    assert!(
        std::fs::read_to_string(&pki.ca_key_pem)
            .unwrap()
            .contains("PRIVATE KEY")
    );
}

/// The DER bodies of every CERTIFICATE block (x509-parser reads PEM too).
fn rustls_pem_certs(pem: &str) -> Vec<Vec<u8>> {
    Pem::iter_from_buffer(pem.as_bytes())
        .map(|p| p.unwrap().contents)
        .collect()
}

#[test]
fn nginx_serves_small_txt_over_https_and_logs_the_tls_offer() {
    let nginx = Nginx::start(NginxOptions::default()).unwrap();
    assert!(
        nginx
            .https_url("/small.txt")
            .starts_with("https://localhost:")
    );
    let got = https_get(
        nginx.https_port,
        "/small.txt",
        &nginx.pki.ca_der,
        &[b"http/1.1"],
    );
    assert_eq!(got.status, 200);
    assert_eq!(got.body, SMALL_TXT.as_bytes());
    assert_eq!(got.alpn.as_deref(), Some(&b"http/1.1"[..]));
    assert_eq!(got.peer_certs.len(), 2, "leaf + CA chain");
    let (_, issuer, is_ca) = subject_of(&got.peer_certs[0]);
    assert!(!is_ca);
    assert!(issuer.contains("CN=interloper test CA"));

    // Logs are flushed per request; give the worker a moment in case of scheduling.
    let log = wait_for(|| {
        let l = nginx.access_log();
        l.contains("GET /small.txt").then_some(l)
    });
    assert!(log.contains("\"TLSv1.3\""), "access log: {log}");
    assert!(log.contains(" 200 "), "access log: {log}");
}

#[test]
fn nginx_offers_h2_by_alpn() {
    let nginx = Nginx::start(NginxOptions::default()).unwrap();
    let got = https_get(
        nginx.https_port,
        "/",
        &nginx.pki.ca_der,
        &[b"h2", b"http/1.1"],
    );
    assert_eq!(got.alpn.as_deref(), Some(&b"h2"[..]));
}

#[test]
fn nginx_serves_deterministic_1m_bin_over_plain_http() {
    let nginx = Nginx::start(NginxOptions::default()).unwrap();
    let (status, body) = http_get(nginx.http_port, "/1m.bin");
    assert_eq!(status, 200);
    assert_eq!(body.len(), 1 << 20);
    assert!(body == one_mib_bytes());
}

#[test]
fn nginx_serves_static_root_and_proxies_the_rest() {
    let upstream = Nginx::start(NginxOptions {
        extra_server_conf: "location = /hello { return 200 \"from upstream\\n\"; }".into(),
        ..Default::default()
    })
    .unwrap();
    let static_dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(static_dir.path().join("css")).unwrap();
    std::fs::write(static_dir.path().join("css/site.css"), "body{}\n").unwrap();
    let front = Nginx::start(NginxOptions {
        static_root: Some(static_dir.path().to_path_buf()),
        proxy_to: Some(upstream.http_port),
        ..Default::default()
    })
    .unwrap();
    let css = https_get(
        front.https_port,
        "/static/css/site.css",
        &front.pki.ca_der,
        &[],
    );
    assert_eq!((css.status, css.body.as_slice()), (200, &b"body{}\n"[..]));
    let proxied = https_get(front.https_port, "/hello", &front.pki.ca_der, &[]);
    assert_eq!(proxied.status, 200);
    assert_eq!(proxied.body, b"from upstream\n");
    // The root's own files stay local even with a proxy.
    assert_eq!(
        http_get(front.http_port, "/small.txt").1,
        SMALL_TXT.as_bytes()
    );
}

#[test]
fn nginx_reports_config_errors_with_the_log_tail() {
    let err = Nginx::start(NginxOptions {
        extra_server_conf: "no_such_directive on;".into(),
        ..Default::default()
    })
    .unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("no_such_directive"), "{text}");
}

#[test]
fn nginx_stops_on_drop() {
    let nginx = Nginx::start(NginxOptions::default()).unwrap();
    let pid: u32 = std::fs::read_to_string(nginx.dir.join("nginx.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let port = nginx.https_port;
    let dir = nginx.dir.clone();
    drop(nginx);
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    assert!(!dir.exists(), "temp dir removed");
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn django_collectstatic_writes_a_manifest_and_runserver_serves_admin_behind_nginx() {
    let origin = DjangoOrigin::start().unwrap();
    let (site, nginx) = (&origin.site, &origin.nginx);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(site.static_root.join("staticfiles.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["version"], "1.1");
    let paths = manifest["paths"].as_object().unwrap();
    assert!(paths.len() >= 100, "{} paths", paths.len());
    let hashed_css = paths["admin/css/base.css"].as_str().unwrap().to_string();
    assert!(
        hashed_css.starts_with("admin/css/base.")
            && hashed_css.len() == "admin/css/base.".len() + 12 + 4
    );

    let page = https_get(nginx.https_port, "/admin/login/", &nginx.pki.ca_der, &[]);
    assert_eq!(page.status, 200);
    let html = String::from_utf8_lossy(&page.body);
    assert!(html.contains(&format!("/static/{hashed_css}")), "{html}");
    let css = https_get(
        nginx.https_port,
        &format!("/static/{hashed_css}"),
        &nginx.pki.ca_der,
        &[],
    );
    assert_eq!(css.status, 200);
    assert_eq!(
        css.body,
        std::fs::read(site.static_root.join(&hashed_css)).unwrap()
    );
}

#[test]
fn mitmproxy_reverse_presents_a_leaf_minted_by_its_ca() {
    let nginx = Nginx::start(NginxOptions::default()).unwrap();
    let addon = "from mitmproxy import http\n\
                 def response(flow: http.HTTPFlow) -> None:\n    \
                 flow.response.headers['x-inspected'] = 'yes'\n";
    let mitm = Mitmproxy::reverse(
        nginx.https_port,
        "Corp Inspection CA",
        "Corp Security",
        Some(addon),
    )
    .unwrap();
    assert!(mitm.url("/small.txt").starts_with("https://localhost:"));
    let got = https_get(mitm.port, "/small.txt", &mitm.pki.ca_der, &[b"http/1.1"]);
    assert_eq!(got.status, 200, "mitmdump log:\n{}", mitm.log());
    assert_eq!(got.body, SMALL_TXT.as_bytes());
    let (subject, issuer, is_ca) = subject_of(&got.peer_certs[0]);
    assert!(!is_ca);
    assert!(
        issuer.contains("CN=Corp Inspection CA") && issuer.contains("O=Corp Security"),
        "issuer {issuer}"
    );
    assert!(
        !issuer.contains("interloper test CA"),
        "not the origin's leaf: {subject}"
    );
    // mitmproxy's own upstream connection reached nginx.
    wait_for(|| nginx.access_log().contains("GET /small.txt").then_some(()));
}

/// Sends `CONNECT localhost:port` to Squid with `credentials` (`user:password`) in
/// Proxy-Authorization; the status of its answer and the connection, left at the tunnel.
fn connect_through(squid: &Squid, port: u16, credentials: &str) -> (u16, TcpStream) {
    use base64::Engine as _;
    let mut sock = TcpStream::connect(("127.0.0.1", squid.port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let token = base64::engine::general_purpose::STANDARD.encode(credentials);
    write!(
        sock,
        "CONNECT localhost:{port} HTTP/1.1\r\nHost: localhost:{port}\r\n\
         Proxy-Authorization: Basic {token}\r\n\r\n"
    )
    .unwrap();
    // Byte by byte up to the blank line: nothing of the tunnel is read here.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(sock.read(&mut byte).unwrap(), 1, "{head:?}");
        head.push(byte[0]);
    }
    let status = String::from_utf8_lossy(&head)
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status code");
    (status, sock)
}

#[test]
fn squid_bumps_a_connect_with_a_leaf_minted_by_its_ca_after_basic_auth() {
    let nginx = Nginx::start(NginxOptions::default()).unwrap();
    let started = std::time::Instant::now();
    let squid = Squid::builder()
        .upstream_ca(&nginx.pki.ca_cert_pem)
        .basic_auth("alice", "p+a&s%s@w:rd")
        .start()
        .unwrap();
    eprintln!("squid answered {:?} after the start", started.elapsed());
    assert_eq!(
        squid.proxy_url(),
        format!(
            "http://alice:p%2Ba%26s%25s%40w%3Ard@127.0.0.1:{}",
            squid.port
        )
    );

    let (status, _) = connect_through(&squid, nginx.https_port, "alice:p+a&s%s@w:rD");
    assert_eq!(status, 407, "cache.log:\n{}", squid.cache_log());
    let (status, tunnel) = connect_through(&squid, nginx.https_port, "alice:p+a&s%s@w:rd");
    assert_eq!(status, 200, "cache.log:\n{}", squid.cache_log());
    let got = https_get_over(
        tunnel,
        nginx.https_port,
        "/small.txt",
        &squid.pki.ca_der,
        &[b"http/1.1"],
    );
    assert_eq!(got.status, 200, "cache.log:\n{}", squid.cache_log());
    assert_eq!(got.body, SMALL_TXT.as_bytes());
    let (subject, issuer, _) = subject_of(&got.peer_certs[0]);
    assert!(
        issuer.contains("CN=Example Web Gateway") && issuer.contains("O=Example Corp"),
        "issuer {issuer}"
    );
    assert!(subject.contains("localhost"), "{subject}");
    // Squid's habit: every leaf carries its CA's own key.
    let (_, leaf) = X509Certificate::from_der(&got.peer_certs[0]).unwrap();
    let (_, ca) = X509Certificate::from_der(&squid.pki.ca_der).unwrap();
    assert_eq!(leaf.public_key().raw, ca.public_key().raw);
    // Squid's own connection reached nginx, and its log names the user.
    wait_for(|| nginx.access_log().contains("GET /small.txt").then_some(()));
    wait_for(|| squid.access_log().contains(" alice ").then_some(()));

    let (port, pid) = (squid.port, squid.pid());
    drop(squid);
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "squid {pid} still runs"
    );
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn squid_that_cannot_start_says_why_with_its_cache_log() {
    let taken = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = taken.local_addr().unwrap().port();
    let err = Squid::builder().port(port).start().unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("cache.log"), "{text}");
    assert!(text.contains("Address already in use"), "{text}");
}

/// Polls `f` for up to 10 s (log files are written asynchronously by other processes).
fn wait_for<T>(f: impl Fn() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "condition not met within 10 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
