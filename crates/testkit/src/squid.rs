//! Squid (Debian `squid-openssl`) as an explicit HTTPS-inspecting proxy on loopback: clients send
//! `CONNECT`, Squid peeks at their hello, then bumps the connection with a leaf it mints with
//! its own CA, and opens its own TLS connection (OpenSSL) to the origin. Optionally it demands
//! basic authentication, checked by Squid's `basic_ncsa_auth` against a real password file.

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tempfile::TempDir;

use crate::process;
use crate::{Spawned, TestPki};

/// Where Debian installs Squid (in /usr/sbin, often not on a user's PATH).
const SQUID_CANDIDATES: &[&str] = &["/usr/sbin/squid", "/usr/bin/squid"];
/// Squid's helpers (Debian `squid-openssl`).
const CERTGEN: &str = "/usr/lib/squid/security_file_certgen";
const NCSA_AUTH: &str = "/usr/lib/squid/basic_ncsa_auth";

/// How many times a start is retried with a fresh port after `EADDRINUSE`.
const PORT_ATTEMPTS: usize = 5;
/// How long Squid gets to answer its first request (it takes well under a second when idle).
const START_WITHIN: Duration = Duration::from_secs(30);
/// Lines of cache.log quoted in an error.
const TAIL_LINES: usize = 30;

/// Instances started by this process, for each one's own service name.
static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How a [`Squid`] is set up; [`Squid::builder`] starts from an administrator-named CA
/// (`CN=Example Web Gateway, O=Example Corp`), no upstream CA and no authentication.
#[derive(Debug, Clone)]
pub struct SquidBuilder {
    port: Option<u16>,
    ca_cn: String,
    ca_org: String,
    upstream_ca: Option<PathBuf>,
    basic_auth: Option<(String, String)>,
}

impl SquidBuilder {
    /// Listen on this loopback port (default: a free one, retried if taken meanwhile).
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// The subject of the CA Squid mints leaves with: `CN=cn, O=org`.
    pub fn ca(mut self, cn: &str, org: &str) -> Self {
        self.ca_cn = cn.to_string();
        self.ca_org = org.to_string();
        self
    }

    /// The CA file Squid verifies origins against (`tls_outgoing_options cafile=`); without
    /// it, the system's store, which a test origin is not in.
    pub fn upstream_ca(mut self, pem: &Path) -> Self {
        self.upstream_ca = Some(pem.to_path_buf());
        self
    }

    /// Demand basic authentication (`407` without it) for this user and password, any
    /// characters allowed.
    pub fn basic_auth(mut self, user: &str, password: &str) -> Self {
        self.basic_auth = Some((user.to_string(), password.to_string()));
        self
    }

    /// Writes into `dir` the CA Squid mints with, its copy of the upstream CA, the password
    /// file and the certificate database; gives the CA and the copy.
    fn prepare(&self, dir: &Path) -> anyhow::Result<(TestPki, Option<PathBuf>)> {
        let pki = TestPki::generate(&dir.join("pki"), &self.ca_cn, &self.ca_org, &["localhost"])?;
        let upstream_ca = match &self.upstream_ca {
            Some(pem) => {
                // Squid reads it as the `proxy` user, who cannot see into a test's private dirs.
                let copy = dir.join("upstream-ca.pem");
                std::fs::copy(pem, &copy)
                    .with_context(|| format!("copying {} for squid", pem.display()))?;
                Some(copy)
            }
            None => None,
        };
        if let Some((user, password)) = &self.basic_auth {
            write_password_file(dir, user, password)?;
        }
        let mut cmd = Command::new(CERTGEN);
        cmd.arg("-c")
            .arg("-s")
            .arg(dir.join("ssl_db"))
            .args(["-M", "4MB"]);
        process::run_bounded(
            &mut cmd,
            &dir.join("certgen-init.log"),
            Duration::from_secs(30),
        )
        .context("creating squid's certificate database (is squid-openssl installed?)")?;
        Ok((pki, upstream_ca))
    }

    /// Writes the CA, certificate database and configuration into a fresh directory the
    /// `proxy` user owns, starts `squid -N` and waits until it answers an HTTP request.
    /// Fails with the tail of its cache.log.
    pub fn start(self) -> anyhow::Result<Squid> {
        let squid = squid_binary()?;
        let tmp = tempfile::Builder::new()
            .prefix("interloper-squid-")
            .tempdir()?;
        let dir = tmp.path().to_path_buf();
        let (pki, upstream_ca) = self.prepare(&dir)?;
        let as_root = running_as_root();
        if as_root {
            // Squid drops to `proxy`: its logs, pid file and certificate database are that user's.
            let mut chown = Command::new("chown");
            chown.arg("-R").arg("proxy:proxy").arg(&dir);
            process::run_bounded(&mut chown, &dir.join("chown.log"), Duration::from_secs(10))?;
        }

        // Squid names its shared-memory segments after its service name (`-n`, "squid" by
        // default): two instances with one name collide on /dev/shm ("File exists"), and a
        // killed one leaves its segments behind. Each gets a name of its own, removed after it.
        let service = format!(
            "interloper{}x{}",
            std::process::id(),
            STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let shm = SharedMemory(service);

        let attempts = if self.port.is_some() {
            1
        } else {
            PORT_ATTEMPTS
        };
        let mut last_err = None;
        for _ in 0..attempts {
            let port = self.port.unwrap_or_else(crate::free_port);
            let conf = dir.join("squid.conf");
            let text = config(
                &dir,
                &pki,
                port,
                upstream_ca.as_deref(),
                self.basic_auth.is_some(),
                as_root,
            );
            std::fs::write(&conf, text).context("writing squid.conf")?;
            let cache_log = dir.join("cache.log");
            let _ = std::fs::remove_file(&cache_log);
            let mut cmd = Command::new(squid);
            // -N: one process in the foreground (no daemon, no SMP kids), so the guard's
            // process group holds Squid and its helpers.
            cmd.arg("-N").arg("-n").arg(&shm.0).arg("-f").arg(&conf);
            let mut child = Spawned::start(cmd)?;
            match wait_until_answering(&mut child, port) {
                Ok(()) => {
                    return Ok(Squid {
                        port,
                        pki,
                        dir,
                        auth: self.basic_auth,
                        child,
                        _shm: shm,
                        _tmp: tmp,
                    });
                }
                Err(e) => {
                    drop(child);
                    let log = crate::tail(&cache_log, TAIL_LINES);
                    let in_use = log.contains("in use");
                    last_err = Some(anyhow::anyhow!(
                        "squid on 127.0.0.1:{port} did not start: {e:#}\ncache.log {}:\n{log}",
                        cache_log.display()
                    ));
                    if !in_use {
                        break;
                    }
                }
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow::anyhow!("squid did not start")))
    }
}

/// A running private Squid that bumps every CONNECT; killed (its process group, by pid) on
/// drop.
///
/// ```no_run
/// use interloper_testkit::{Nginx, NginxOptions, Squid};
/// let origin = Nginx::start(NginxOptions::default())?;
/// let squid = Squid::builder()
///     .upstream_ca(&origin.pki.ca_cert_pem)
///     .basic_auth("alice", "p+a&s%s@w:rd")
///     .start()?;
/// // HTTPS_PROXY=http://alice:p%2Ba%26s%25s%40w%3Ard@127.0.0.1:PORT
/// println!("{}", squid.proxy_url());
/// # anyhow::Ok(())
/// ```
#[derive(Debug)]
pub struct Squid {
    /// Its listening port on 127.0.0.1.
    pub port: u16,
    /// Its CA (`ca_cert_pem` is what a managed laptop trusts). The leaf in here is unused.
    pub pki: TestPki,
    /// Its directory: `squid.conf`, `cache.log`, `access.log`, `ssl_db/`, `passwd`.
    pub dir: PathBuf,
    auth: Option<(String, String)>,
    // Killed before its shared memory and its directory go (field order).
    child: Spawned,
    _shm: SharedMemory,
    _tmp: TempDir,
}

/// The shared-memory segments of one Squid service name, removed on drop (a killed Squid
/// cannot remove them itself).
#[derive(Debug)]
struct SharedMemory(String);

impl Drop for SharedMemory {
    fn drop(&mut self) {
        let prefix = format!("{}-", self.0);
        let Ok(entries) = std::fs::read_dir("/dev/shm") else {
            return;
        };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

impl Squid {
    /// A builder with the defaults (see [`SquidBuilder`]).
    pub fn builder() -> SquidBuilder {
        SquidBuilder {
            port: None,
            ca_cn: "Example Web Gateway".to_string(),
            ca_org: "Example Corp".to_string(),
            upstream_ca: None,
            basic_auth: None,
        }
    }

    /// `http://127.0.0.1:PORT`, with the configured user and password percent-encoded in it.
    pub fn proxy_url(&self) -> String {
        match &self.auth {
            Some((user, password)) => self.proxy_url_as(user, password),
            None => format!("http://127.0.0.1:{}", self.port),
        }
    }

    /// `http://USER:PASSWORD@127.0.0.1:PORT` for any user and password (a wrong one, say),
    /// each percent-encoded as RFC 3986 wants.
    pub fn proxy_url_as(&self, user: &str, password: &str) -> String {
        format!(
            "http://{}:{}@127.0.0.1:{}",
            percent_encode(user),
            percent_encode(password),
            self.port
        )
    }

    /// Its access log so far (one line per request, CONNECTs and bumped requests alike).
    pub fn access_log(&self) -> String {
        crate::read_lossy(&self.dir.join("access.log"))
    }

    /// Its cache.log so far (start-up, TLS errors).
    pub fn cache_log(&self) -> String {
        crate::read_lossy(&self.dir.join("cache.log"))
    }

    /// Its process id (also its process group's).
    pub fn pid(&self) -> u32 {
        self.child.pid()
    }
}

/// Every byte but RFC 3986's unreserved characters as `%XX`.
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn squid_binary() -> anyhow::Result<&'static str> {
    SQUID_CANDIDATES
        .iter()
        .copied()
        .find(|p| Path::new(p).exists())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "squid not found in {SQUID_CANDIDATES:?}: run scripts/test, which installs \
                 Debian squid-openssl"
            )
        })
}

/// Whether this process runs as root (the owner of `/proc/self` is the effective user).
fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// `DIR/passwd` for `basic_ncsa_auth`: `user:APR1-HASH`, the hash made by `openssl passwd`.
fn write_password_file(dir: &Path, user: &str, password: &str) -> anyhow::Result<()> {
    let out = Command::new("openssl")
        .args(["passwd", "-apr1", "-stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            if let Some(mut stdin) = child.stdin.take() {
                stdin.write_all(password.as_bytes())?;
            }
            child.wait_with_output()
        })
        .context("running openssl passwd")?;
    if !out.status.success() {
        bail!(
            "openssl passwd failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let hash = String::from_utf8_lossy(&out.stdout).trim().to_string();
    std::fs::write(dir.join("passwd"), format!("{user}:{hash}\n")).context("writing passwd")
}

/// squid.conf: the verified ssl-bump recipe (peek at step 1, then bump everything), quiet and
/// quick to stop, logs in `dir`.
fn config(
    dir: &Path,
    pki: &TestPki,
    port: u16,
    upstream_ca: Option<&Path>,
    basic_auth: bool,
    as_root: bool,
) -> String {
    let d = dir.display();
    let mut c = format!(
        "http_port 127.0.0.1:{port} ssl-bump generate-host-certificates=on \
         dynamic_cert_mem_cache_size=4MB tls-cert={} tls-key={}\n\
         sslcrtd_program {CERTGEN} -s {d}/ssl_db -M 4MB\n\
         sslcrtd_children 3 startup=1 idle=1\n\
         acl step1 at_step SslBump1\n\
         ssl_bump peek step1\n\
         ssl_bump bump all\n",
        pki.ca_cert_pem.display(),
        pki.ca_key_pem.display()
    );
    if let Some(ca) = upstream_ca {
        c.push_str(&format!("tls_outgoing_options cafile={}\n", ca.display()));
    }
    if basic_auth {
        c.push_str(&format!(
            "auth_param basic program {NCSA_AUTH} {d}/passwd\n\
             auth_param basic children 2 startup=1 idle=1\n\
             acl authed proxy_auth REQUIRED\n\
             http_access allow authed\n\
             http_access deny all\n"
        ));
    } else {
        c.push_str("http_access allow all\n");
    }
    c.push_str(&format!(
        "cache deny all\n\
         cache_mem 1 MB\n\
         pid_filename {d}/squid.pid\n\
         access_log stdio:{d}/access.log\n\
         cache_log {d}/cache.log\n\
         coredump_dir {d}\n\
         visible_hostname interloper-squid\n\
         pinger_enable off\n\
         shutdown_lifetime 0 seconds\n"
    ));
    if as_root {
        c.push_str("cache_effective_user proxy\n");
    }
    c
}

/// Waits until Squid answers a plain HTTP request on `port` (any status: it is serving, not
/// only bound), or fails quoting its output.
fn wait_until_answering(child: &mut Spawned, port: u16) -> anyhow::Result<()> {
    let deadline = Instant::now() + START_WITHIN;
    child.wait_for_ports(&[port], START_WITHIN)?;
    loop {
        if answers_http(port) {
            return Ok(());
        }
        if let Some(status) = child.exit_status() {
            bail!("squid exited ({status})");
        }
        if Instant::now() >= deadline {
            bail!("squid accepted on {port} but gave no HTTP answer within {START_WITHIN:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One `GET /` to Squid itself: true when an HTTP answer comes back from Squid (its `Server`
/// header), not from whatever else may have taken the port since it was free.
fn answers_http(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    // The head is small; the error page after it is not needed.
    let mut head = Vec::new();
    let mut chunk = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(chunk.get(..n).unwrap_or_default()),
        }
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    head.starts_with("http/1.") && head.contains("\r\nserver: squid")
}

#[cfg(test)]
mod tests {
    #[test]
    fn percent_encoding_keeps_only_unreserved_characters() {
        assert_eq!(
            super::percent_encode("p+a&s%s@w:rd"),
            "p%2Ba%26s%25s%40w%3Ard"
        );
        assert_eq!(super::percent_encode("a-b_c.d~e9"), "a-b_c.d~e9");
        assert_eq!(super::percent_encode("é /"), "%C3%A9%20%2F");
    }
}
