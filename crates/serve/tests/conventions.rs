//! The conventions Prometheus operators expect of an exporter: `/-/healthy`, `POST /-/reload`
//! (a refused file visible to an alert through `interloper_serve_config_last_reload_successful`,
//! not only in a log), `interloper_build_info` and the `process_*` series.

mod common;

use std::net::SocketAddr;

use common::value;
use interloper_serve::{ServeConfig, Server};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

async fn request(addr: SocketAddr, method: &str, path: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut out = String::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(20),
        s.read_to_string(&mut out),
    )
    .await
    .unwrap()
    .unwrap();
    let status = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (
        status,
        out.split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default(),
    )
}

#[tokio::test]
async fn health_reload_build_info_and_process_series() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("interloper.toml");
    std::fs::write(&path, "[module.web]\n").unwrap();
    let server = Server::bind(
        "127.0.0.1:0".parse().unwrap(),
        ServeConfig::load(&path).unwrap(),
    )
    .await
    .unwrap();
    server.exporter().set_config_path(path.clone());
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.run(std::future::pending()));

    assert_eq!(
        request(addr, "GET", "/-/healthy").await,
        (200, "Healthy\n".into())
    );
    let (_, metrics) = request(addr, "GET", "/metrics").await;
    let build = format!(
        "interloper_build_info{{version=\"{}\",revision=\"unknown\"}}",
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(value(&metrics, &build), Some(1.0), "{metrics}");
    assert!(
        value(&metrics, "process_resident_memory_bytes").unwrap() > 1e6,
        "{metrics}"
    );
    assert!(
        value(&metrics, "process_open_fds").unwrap() >= 3.0,
        "{metrics}"
    );
    assert!(
        value(&metrics, "process_max_fds").unwrap() >= 3.0,
        "{metrics}"
    );
    assert!(
        value(&metrics, "process_cpu_seconds_total").is_some(),
        "{metrics}"
    );
    let started = value(&metrics, "process_start_time_seconds").unwrap();
    assert!(started > 1.6e9, "{metrics}");
    assert_eq!(
        value(&metrics, "interloper_serve_config_last_reload_successful"),
        Some(1.0),
        "{metrics}"
    );
    let loaded_at = value(
        &metrics,
        "interloper_serve_config_last_reload_success_timestamp_seconds",
    )
    .unwrap();

    // A GET never reloads; a bad file is refused, said in the answer and in the gauge.
    assert_eq!(request(addr, "GET", "/-/reload").await.0, 405);
    std::fs::write(&path, "[module.web]\nsampels = 3\n").unwrap();
    let (status, body) = request(addr, "POST", "/-/reload").await;
    assert_eq!(status, 500, "{body}");
    assert!(
        body.contains("sampels") && body.contains("keeping"),
        "{body}"
    );
    let (_, metrics) = request(addr, "GET", "/metrics").await;
    assert_eq!(
        value(&metrics, "interloper_serve_config_last_reload_successful"),
        Some(0.0),
        "{metrics}"
    );
    // The running configuration still serves its module.
    let (status, _) = request(addr, "GET", "/probe?module=later&target=https://a.example/").await;
    assert_eq!(status, 400);

    std::fs::write(
        &path,
        "[module.web]\n[module.later]\nallowed_hosts = [\"b.example\"]\n",
    )
    .unwrap();
    assert_eq!(
        request(addr, "POST", "/-/reload").await,
        (200, "reloaded\n".into())
    );
    let (_, metrics) = request(addr, "GET", "/metrics").await;
    assert_eq!(
        value(&metrics, "interloper_serve_config_last_reload_successful"),
        Some(1.0),
        "{metrics}"
    );
    let reloaded_at = value(
        &metrics,
        "interloper_serve_config_last_reload_success_timestamp_seconds",
    )
    .unwrap();
    assert!(reloaded_at >= loaded_at, "{metrics}");
    // The new module is there: a host it does not allow is refused by name.
    let (status, body) =
        request(addr, "GET", "/probe?module=later&target=https://a.example/").await;
    assert_eq!(status, 400);
    assert!(body.contains("allowed_hosts"), "{body}");
}
