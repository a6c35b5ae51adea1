//! A private nginx instance: HTTPS (HTTP/2 and HTTP/1.1) and plain HTTP on loopback.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Context as _, bail};
use tempfile::TempDir;

use crate::TestPki;
use crate::process::{self, NotReady};

/// The nginx binary: Debian installs it in /usr/sbin, which is often not on a user's PATH.
const NGINX_CANDIDATES: &[&str] = &["/usr/sbin/nginx", "/usr/bin/nginx", "nginx"];

/// How many times a start is retried with fresh ports after `EADDRINUSE`.
const PORT_ATTEMPTS: usize = 5;

/// Size of `/1m.bin`.
const ONE_MIB: usize = 1 << 20;

/// What the instance serves besides its document root.
#[derive(Debug, Clone, Default)]
pub struct NginxOptions {
    /// Served at `/static/` via `alias`.
    pub static_root: Option<PathBuf>,
    /// `proxy_pass http://127.0.0.1:PORT` for `/` (the root's own files stay local).
    pub proxy_to: Option<u16>,
    /// Appended verbatim inside both `server` blocks.
    pub extra_server_conf: String,
    /// Appended verbatim inside `http` (upstreams, log formats, more servers). Relative paths
    /// are relative to the instance's directory.
    pub extra_http_conf: String,
    /// Certificates to serve; a fresh `CN=interloper test CA` PKI when `None`.
    pub pki: Option<TestPki>,
    /// Leave out `include /etc/nginx/mime.types;` (every file goes out as `default_type`).
    pub omit_mime_types: bool,
    /// The `user` directive's arguments (`nobody nogroup`) when started as root; the default
    /// keeps workers as root so they can read a caller's private temp dirs.
    pub user: Option<String>,
}

/// A running nginx; stopped (SIGTERM to the pid in its pidfile, then wait) on drop.
///
/// Its document root holds `/small.txt` and `/1m.bin` (1 MiB of deterministic bytes, see
/// [`one_mib_bytes`]). The access log records the client's TLS offer and timings:
/// `$remote_addr [$time_local] "$request" $status $body_bytes_sent $request_time
/// $server_protocol "$ssl_protocol" "$ssl_cipher" "$ssl_ciphers" "$ssl_curves"`.
#[derive(Debug)]
pub struct Nginx {
    /// HTTPS listener (HTTP/2 and HTTP/1.1 by ALPN).
    pub https_port: u16,
    /// Plain HTTP/1.1 listener.
    pub http_port: u16,
    /// The instance's directory: config, logs, pidfile, temp paths, document root (`www/`).
    pub dir: PathBuf,
    /// The certificates it serves.
    pub pki: TestPki,
    child: Child,
    // Dropped after `child` is stopped (see Drop), removing every file.
    _tmp: TempDir,
}

impl Nginx {
    /// Writes a config into a fresh temp dir, starts nginx in the foreground and waits until both
    /// ports accept. Fails with the error log tail.
    pub fn start(opts: NginxOptions) -> anyhow::Result<Nginx> {
        let nginx = nginx_binary()?;
        let tmp = tempfile::Builder::new()
            .prefix("interloper-nginx-")
            .tempdir()?;
        let dir = tmp.path().to_path_buf();
        let pki = match opts.pki.clone() {
            Some(p) => p,
            None => TestPki::generate(
                &dir.join("pki"),
                "interloper test CA",
                "interloper tests",
                &[],
            )?,
        };
        write_docroot(&dir.join("www"))?;
        for sub in ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"] {
            crate::mkdir(&dir.join("tmp").join(sub))?;
        }

        let mut last_err = None;
        for _ in 0..PORT_ATTEMPTS {
            let (https_port, http_port) = two_ports();
            let conf = dir.join("nginx.conf");
            std::fs::write(&conf, config(&dir, &pki, &opts, https_port, http_port)?)?;
            let error_log = dir.join("error.log");
            let pidfile = dir.join("nginx.pid");
            let _ = std::fs::remove_file(&pidfile);
            let mut cmd = Command::new(nginx);
            // -e: the start-up error log, before the config's error_log takes over.
            cmd.arg("-p")
                .arg(&dir)
                .arg("-e")
                .arg(&error_log)
                .arg("-c")
                .arg(&conf);
            let mut child = process::spawn_logged(&mut cmd, &dir.join("nginx.stderr"))?;
            // The pidfile is written after the listening sockets are bound. nginx creates it
            // and then writes the number: ready means a pid can be read, not that the file
            // exists (an empty file was read now and then on a busy machine).
            let ready = process::wait_ready(
                &mut child,
                &[https_port, http_port],
                Duration::from_secs(15),
                || read_pid(&pidfile).is_some(),
            )?;
            match ready {
                Ok(()) => {
                    return Ok(Nginx {
                        https_port,
                        http_port,
                        dir,
                        pki,
                        child,
                        _tmp: tmp,
                    });
                }
                Err(why) => {
                    if let NotReady::Timeout = why {
                        process::stop(&mut child, None, Duration::from_secs(5));
                    }
                    let log = format!(
                        "{}\n{}",
                        crate::tail(&error_log, 30),
                        crate::tail(&dir.join("nginx.stderr"), 10)
                    );
                    let in_use = log.contains("Address already in use");
                    last_err = Some(anyhow::anyhow!(
                        "nginx did not start ({}); error log {}:\n{log}",
                        match why {
                            NotReady::Exited(s) => format!("exited: {s}"),
                            NotReady::Timeout => "timed out".into(),
                        },
                        error_log.display()
                    ));
                    if !in_use {
                        break;
                    }
                }
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow::anyhow!("nginx did not start")))
    }

    /// `https://localhost:PORT/path`.
    pub fn https_url(&self, path: &str) -> String {
        format!("https://localhost:{}{}", self.https_port, slash(path))
    }

    /// `http://localhost:PORT/path`.
    pub fn http_url(&self, path: &str) -> String {
        format!("http://localhost:{}{}", self.http_port, slash(path))
    }

    /// Status and Content-Type of `GET path` on the plain HTTP port (one connection, closed;
    /// status 0 when nothing parsable came back): what a browser would get, for tests that
    /// show a configuration really misbehaves.
    pub fn get_plain(&self, path: &str) -> (u16, String) {
        use std::io::{Read as _, Write as _};
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.http_port)) else {
            return (0, String::new());
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        if s.write_all(request.as_bytes()).is_err() {
            return (0, String::new());
        }
        let mut buf = Vec::new();
        let _ = s.take(1 << 20).read_to_end(&mut buf);
        let text = String::from_utf8_lossy(&buf);
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let content_type = text
            .lines()
            .take_while(|l| !l.is_empty())
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-type:")
                    .map(|v| v.trim().to_string())
            })
            .unwrap_or_default();
        (status, content_type)
    }

    /// The access log so far (see the type's docs for the format).
    pub fn access_log(&self) -> String {
        crate::read_lossy(&self.dir.join("access.log"))
    }

    /// The error log so far (level `info`: shows client aborts and TLS handshake failures).
    pub fn error_log(&self) -> String {
        crate::read_lossy(&self.dir.join("error.log"))
    }

    /// The document root (`www/`), where tests may drop more files.
    pub fn docroot(&self) -> PathBuf {
        self.dir.join("www")
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // Same as `kill $(cat pidfile)`; with `daemon off` that pid is our child.
        let pid = read_pid(&self.dir.join("nginx.pid")).unwrap_or_else(|| self.child.id());
        process::stop(&mut self.child, Some(pid), Duration::from_secs(5));
    }
}

/// The pid in an nginx pidfile, once nginx has written it.
fn read_pid(pidfile: &Path) -> Option<u32> {
    std::fs::read_to_string(pidfile).ok()?.trim().parse().ok()
}

/// The deterministic content of `/1m.bin`: byte `i` is `(i * 31 + i / 251) mod 256`, so
/// truncation and reordering at any offset are visible.
pub fn one_mib_bytes() -> Vec<u8> {
    (0..ONE_MIB)
        .map(|i| ((i.wrapping_mul(31) + i / 251) % 256) as u8)
        .collect()
}

/// The content of `/small.txt`.
pub const SMALL_TXT: &str = "interloper test file\n";

fn write_docroot(www: &Path) -> anyhow::Result<()> {
    crate::mkdir(www)?;
    std::fs::write(www.join("small.txt"), SMALL_TXT)?;
    std::fs::write(www.join("1m.bin"), one_mib_bytes())?;
    Ok(())
}

fn slash(path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    }
}

fn two_ports() -> (u16, u16) {
    loop {
        let (a, b) = (crate::free_port(), crate::free_port());
        if a != b {
            return (a, b);
        }
    }
}

fn nginx_binary() -> anyhow::Result<&'static str> {
    NGINX_CANDIDATES
        .iter()
        .copied()
        .find(|c| {
            Command::new(c)
                .arg("-v")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .context("nginx not found: run scripts/test, which installs Debian nginx-light")
}

/// nginx ≥ 1.25.1 wants `http2 on;`; older ones (Debian 12 has 1.22) only know
/// `listen … ssl http2`.
fn has_http2_directive(nginx: &str) -> bool {
    static NEW: OnceLock<bool> = OnceLock::new();
    *NEW.get_or_init(|| {
        let out = Command::new(nginx).arg("-v").output();
        let text = out
            .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
            .unwrap_or_default();
        let version = text.split("nginx/").nth(1).unwrap_or("").trim();
        let nums: Vec<u32> = version
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|n| n.parse().ok())
            .take(3)
            .collect();
        matches!(nums.as_slice(), [maj, min, patch, ..] if (*maj, *min, *patch) >= (1, 25, 1))
    })
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

fn config(
    dir: &Path,
    pki: &TestPki,
    opts: &NginxOptions,
    https_port: u16,
    http_port: u16,
) -> anyhow::Result<String> {
    let d = dir.display();
    let new_http2 = has_http2_directive(nginx_binary()?);
    let (https_listen, http2_line) = if new_http2 {
        (format!("listen 127.0.0.1:{https_port} ssl;"), "http2 on;")
    } else {
        (format!("listen 127.0.0.1:{https_port} ssl http2;"), "")
    };
    let mut locations = String::new();
    if let Some(root) = &opts.static_root {
        // alias needs the trailing slash on both sides.
        let root = root.display().to_string();
        let root = root.trim_end_matches('/');
        locations.push_str(&format!("location /static/ {{ alias {root}/; }}\n"));
    }
    if let Some(port) = opts.proxy_to {
        locations.push_str("location = /small.txt { }\nlocation = /1m.bin { }\n");
        locations.push_str(&format!(
            "location / {{ proxy_pass http://127.0.0.1:{port}; proxy_set_header Host $http_host; \
             proxy_set_header X-Forwarded-Proto $scheme; }}\n"
        ));
    }
    let extra = &opts.extra_server_conf;
    let body = format!("server_name localhost;\nroot {d}/www;\n{locations}{extra}\n",);
    if !pki.leaf_cert_pem.exists() {
        bail!(
            "leaf certificate {} is missing",
            pki.leaf_cert_pem.display()
        );
    }
    // As root, workers would drop to `nobody` and could not read a caller's private temp dirs
    // (static roots, Django projects); keep them as the user that started the test.
    let user = match (&opts.user, is_root()) {
        (Some(u), true) => format!("user {u};"),
        (None, true) => "user root root;".to_string(),
        (_, false) => String::new(),
    };
    let mime_types = if opts.omit_mime_types {
        ""
    } else {
        "include /etc/nginx/mime.types;"
    };
    Ok(format!(
        r#"# Generated by interloper-testkit.
daemon off;
master_process on;
{user}
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 1024; }}
http {{
    {mime_types}
    default_type application/octet-stream;
    client_body_temp_path {d}/tmp/client_body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    log_format interloper '$remote_addr [$time_local] "$request" $status $body_bytes_sent '
                          '$request_time $server_protocol "$ssl_protocol" "$ssl_cipher" '
                          '"$ssl_ciphers" "$ssl_curves"';
    access_log {d}/access.log interloper;
    # nginx < 1.23.4 leaves TLS 1.3 off by default; real sites have it on.
    ssl_protocols TLSv1.2 TLSv1.3;
    sendfile on;
    keepalive_requests 100000;
    {extra_http}
    server {{
        {https_listen}
        {http2_line}
        ssl_certificate {cert};
        ssl_certificate_key {key};
        {body}
    }}
    server {{
        listen 127.0.0.1:{http_port};
        {body}
    }}
}}
"#,
        cert = pki.leaf_cert_pem.display(),
        key = pki.leaf_key_pem.display(),
        extra_http = opts.extra_http_conf,
    ))
}
