//! Loopback servers for `bench/probe-vs-peers.sh`: the kit's nginx (plain HTTP and HTTPS) and a
//! server that answers every request after a fixed delay, for checking timing accuracy.
//!
//! Prints `key=value` lines then `ready`, and runs until its standard input closes; then every
//! server stops (nginx by its pid, on drop). Usage: `bench_servers [DELAY_MS]` (default 50).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::time::Duration;

use interloper_testkit::{Nginx, NginxOptions};

/// Largest request head the delay server reads; bigger heads close the connection.
const MAX_HEAD: usize = 16 * 1024;

fn main() -> anyhow::Result<()> {
    let delay_ms: u64 = match std::env::args().nth(1) {
        Some(s) => s
            .parse()
            .map_err(|_| anyhow::anyhow!("DELAY_MS: not a number: {s}"))?,
        None => 50,
    };
    let nginx = Nginx::start(NginxOptions::default())?;
    let delay = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let delay_port = delay.local_addr()?.port();
    let pause = Duration::from_millis(delay_ms);
    std::thread::spawn(move || {
        for conn in delay.incoming().flatten() {
            std::thread::spawn(move || serve_delayed(conn, pause));
        }
    });

    let mut out = std::io::stdout().lock();
    writeln!(out, "http_port={}", nginx.http_port)?;
    writeln!(out, "https_port={}", nginx.https_port)?;
    writeln!(out, "ca_pem={}", nginx.pki.ca_cert_pem.display())?;
    writeln!(out, "nginx_dir={}", nginx.dir.display())?;
    writeln!(out, "delay_port={delay_port}")?;
    writeln!(out, "delay_ms={delay_ms}")?;
    writeln!(out, "ready")?;
    out.flush()?;
    drop(out);

    // Block until the script closes our stdin (or exits); then drop nginx.
    let mut sink = Vec::new();
    let _ = std::io::stdin().lock().read_to_end(&mut sink);
    drop(nginx);
    Ok(())
}

/// HTTP/1.1 keep-alive: for each request head, sleep `pause`, then answer `200 ok`.
/// The sleep starts once the whole head has arrived, so a client's TTFB should be `pause` plus
/// loopback and parsing costs (tens of microseconds).
fn serve_delayed(conn: TcpStream, pause: Duration) {
    let _ = conn.set_nodelay(true);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(60)));
    let Ok(mut writer) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(conn);
    loop {
        let mut head_len = 0;
        let mut close = false;
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(n) => head_len += n,
            }
            if head_len > MAX_HEAD {
                return;
            }
            let lower = line.to_ascii_lowercase();
            if lower.starts_with("connection:") && lower.contains("close") {
                close = true;
            }
            if line == "\r\n" || line == "\n" {
                break;
            }
        }
        std::thread::sleep(pause);
        let resp = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n{}\r\nok\n",
            if close { "Connection: close\r\n" } else { "" }
        );
        if writer.write_all(resp.as_bytes()).is_err() || close {
            return;
        }
    }
}
