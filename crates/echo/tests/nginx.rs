//! The passthrough in front of a real nginx (the deployment docs/echo.md describes), loopback.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use common::*;
use interloper_echo::{HellosAnswer, PATH_HELLOS};

const NGINX: &str = "/usr/sbin/nginx";

/// A private nginx (TLS, HTTP/2) started in the foreground and killed by its pid on drop.
struct Nginx {
    addr: SocketAddr,
    cert_der: Vec<u8>,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM, not SIGKILL: the master must live long enough to stop its worker, or the
        // worker outlives the test.
        let pid = self.child.id().to_string();
        let termed = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .is_ok_and(|s| s.success());
        if !termed {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

async fn start_nginx() -> Nginx {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    std::fs::write(d.join("cert.pem"), ck.cert.pem()).unwrap();
    std::fs::write(d.join("key.pem"), ck.signing_key.serialize_pem()).unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let p = |name: &str| d.join(name).display().to_string();
    let conf = format!(
        "daemon off;\nworker_processes 1;\npid {pid};\nerror_log {err} info;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n  access_log {acc};\n  client_body_temp_path {t}/cb;\n  proxy_temp_path {t}/p;\n\
           fastcgi_temp_path {t}/f;\n  uwsgi_temp_path {t}/u;\n  scgi_temp_path {t}/s;\n\
           server {{\n    listen 127.0.0.1:{port} ssl http2;\n    ssl_certificate {cert};\n\
             ssl_certificate_key {key};\n    location / {{ return 200 \"nginx behind the passthrough\\n\"; }}\n  }}\n}}\n",
        pid = p("nginx.pid"),
        err = p("error.log"),
        acc = p("access.log"),
        t = d.display(),
        cert = p("cert.pem"),
        key = p("key.pem"),
    );
    std::fs::write(d.join("nginx.conf"), conf).unwrap();
    let child = std::process::Command::new(NGINX)
        .args(["-c", &p("nginx.conf"), "-e", &p("error.log")])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("nginx starts");
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let nginx = Nginx {
        addr,
        cert_der: ck.cert.der().to_vec(),
        child,
        _dir: dir,
    };
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return nginx;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nginx did not listen on {addr}");
}

#[tokio::test]
async fn passthrough_in_front_of_nginx_records_the_hello_and_stays_transparent() {
    if !Path::new(NGINX).exists() {
        eprintln!("SKIPPED: {NGINX} not installed (run scripts/test)");
        return;
    }
    let nginx = start_nginx().await;
    let pass = start_passthrough(nginx.addr, None).await;
    for alpn in [vec!["h2"], vec!["http/1.1"]] {
        let client = connect(
            pass.addr,
            ClientOpts {
                alpn,
                ..Default::default()
            },
        )
        .await;
        let random = client.random();
        // nginx's own certificate reaches the client: no termination in the passthrough.
        assert_eq!(client.chain(), vec![nginx.cert_der.clone()]);
        let got = get(client, "GET", "/anything").await;
        assert_eq!(got.status, 200);
        assert_eq!(&got.body[..], b"nginx behind the passthrough\n");
        let answer = plain_get(
            pass.api.unwrap(),
            &format!("{PATH_HELLOS}?client_random={random}"),
        )
        .await;
        assert_eq!(answer.status, 200);
        let a: HellosAnswer = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(a.hellos[0].client_hello.sni.as_deref(), Some("localhost"));
    }
    pass.stop().await;
    drop(nginx);
}
