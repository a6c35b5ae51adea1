//! mitmproxy (`mitmdump`) in reverse mode: an HTTPS-inspecting middlebox on loopback.

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::Duration;

use anyhow::Context as _;
use tempfile::TempDir;

use crate::TestPki;
use crate::process::{self, NotReady};

const PORT_ATTEMPTS: usize = 5;

/// Which leaf mitmproxy presents.
#[derive(Debug, Clone, Copy)]
enum LeafPolicy {
    /// Its default: one minted per server name, with its CA's own key.
    Minted,
    /// The [`TestPki`] leaf, issued by its CA with a key of its own.
    Ordinary,
}

/// A running `mitmdump --mode reverse:https://127.0.0.1:UPSTREAM`; stopped on drop.
///
/// Clients connect to [`Mitmproxy::url`] and receive a leaf minted by [`Mitmproxy::pki`]'s CA;
/// mitmproxy opens its own TLS connection to the upstream without verifying it.
#[derive(Debug)]
pub struct Mitmproxy {
    /// Its listening port on 127.0.0.1.
    pub port: u16,
    /// Its CA (subject from `ca_cn` / `ca_org`). The leaf in here is unused by mitmproxy.
    pub pki: TestPki,
    /// Its directory: `confdir/`, `addon.py`, `mitmdump.log`.
    pub dir: PathBuf,
    child: Child,
    _tmp: TempDir,
}

impl Mitmproxy {
    /// Starts mitmdump in front of `https://127.0.0.1:upstream_https_port`, with a CA whose
    /// subject is `CN=ca_cn, O=ca_org`, and optionally an addon (Python source, passed with
    /// `-s`). Waits until it listens.
    pub fn reverse(
        upstream_https_port: u16,
        ca_cn: &str,
        ca_org: &str,
        addon_py: Option<&str>,
    ) -> anyhow::Result<Mitmproxy> {
        Mitmproxy::start(
            &format!("reverse:https://127.0.0.1:{upstream_https_port}"),
            ca_cn,
            ca_org,
            addon_py,
            LeafPolicy::Minted,
        )
    }

    /// [`Mitmproxy::reverse`], but presenting one ordinary leaf its CA issued (90 days, issued
    /// a day ago, its own key: [`TestPki`]'s) instead of minting one per connection with the
    /// CA's key: what an inspecting proxy whose leaves look ordinary (Squid with a
    /// pre-generated certificate, a box with a long-lived cache) shows, so that nothing in the
    /// leaf betrays it and only the root does.
    pub fn reverse_with_ordinary_leaf(
        upstream_https_port: u16,
        ca_cn: &str,
        ca_org: &str,
        addon_py: Option<&str>,
    ) -> anyhow::Result<Mitmproxy> {
        Mitmproxy::start(
            &format!("reverse:https://127.0.0.1:{upstream_https_port}"),
            ca_cn,
            ca_org,
            addon_py,
            LeafPolicy::Ordinary,
        )
    }

    /// Starts mitmdump as an explicit HTTP proxy (`--mode regular`): clients configured to use
    /// `http://127.0.0.1:PORT` send `CONNECT host:port`, and mitmproxy intercepts the TLS
    /// inside with a leaf minted by its CA, as a corporate proxy with inspection does.
    pub fn explicit(
        ca_cn: &str,
        ca_org: &str,
        addon_py: Option<&str>,
    ) -> anyhow::Result<Mitmproxy> {
        Mitmproxy::start("regular", ca_cn, ca_org, addon_py, LeafPolicy::Minted)
    }

    fn start(
        mode: &str,
        ca_cn: &str,
        ca_org: &str,
        addon_py: Option<&str>,
        leaves: LeafPolicy,
    ) -> anyhow::Result<Mitmproxy> {
        let mitmdump = crate::venv_bin("mitmdump")?;
        let tmp = tempfile::Builder::new()
            .prefix("interloper-mitmproxy-")
            .tempdir()?;
        let dir = tmp.path().to_path_buf();
        let pki = TestPki::generate(&dir.join("pki"), ca_cn, ca_org, &["localhost"])?;
        let confdir = dir.join("confdir");
        crate::mkdir(&confdir)?;
        let ca_pem = std::fs::read_to_string(&pki.ca_cert_pem)?;
        let key_pem = std::fs::read_to_string(&pki.ca_key_pem)?;
        // mitmproxy reads its CA key and certificate from one file.
        std::fs::write(
            confdir.join("mitmproxy-ca.pem"),
            format!("{key_pem}{ca_pem}"),
        )?;
        std::fs::write(confdir.join("mitmproxy-ca-cert.pem"), &ca_pem)?;
        let addon = match addon_py {
            Some(src) => {
                let path = dir.join("addon.py");
                std::fs::write(&path, src).context("writing the addon")?;
                Some(path)
            }
            None => None,
        };

        let ordinary_leaf = match leaves {
            LeafPolicy::Minted => None,
            LeafPolicy::Ordinary => {
                // mitmproxy reads the key and the chain it presents from one file.
                let path = dir.join("ordinary-leaf.pem");
                let chain = std::fs::read_to_string(&pki.leaf_cert_pem)?;
                let key = std::fs::read_to_string(&pki.leaf_key_pem)?;
                std::fs::write(&path, format!("{chain}{key}"))?;
                Some(path)
            }
        };

        let log = dir.join("mitmdump.log");
        let mut last_err = None;
        for _ in 0..PORT_ATTEMPTS {
            let port = crate::free_port();
            let mut cmd = Command::new(&mitmdump);
            cmd.arg("--mode")
                .arg(mode)
                .arg("--listen-host")
                .arg("127.0.0.1")
                .arg("-p")
                .arg(port.to_string())
                .arg("--set")
                .arg(format!("confdir={}", confdir.display()))
                .arg("--set")
                .arg("ssl_insecure=true")
                .arg("--set")
                .arg("keep_host_header=true")
                .env("PYTHONUNBUFFERED", "1");
            if let Some(addon) = &addon {
                cmd.arg("-s").arg(addon);
            }
            if let Some(leaf) = &ordinary_leaf {
                cmd.arg("--certs").arg(format!("*={}", leaf.display()));
            }
            let mut child = process::spawn_logged(&mut cmd, &log)?;
            match process::wait_ready(&mut child, &[port], Duration::from_secs(60), || true)? {
                Ok(()) => {
                    return Ok(Mitmproxy {
                        port,
                        pki,
                        dir,
                        child,
                        _tmp: tmp,
                    });
                }
                Err(why) => {
                    if let NotReady::Timeout = why {
                        process::stop(&mut child, None, Duration::from_secs(5));
                    }
                    let text = crate::tail(&log, 30);
                    let in_use = text.contains("in use") || text.contains("Errno 98");
                    last_err = Some(anyhow::anyhow!(
                        "mitmdump on port {port} did not start; log {}:\n{text}",
                        log.display()
                    ));
                    if !in_use {
                        break;
                    }
                }
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow::anyhow!("mitmdump did not start")))
    }

    /// `https://localhost:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        let sep = if path.starts_with('/') { "" } else { "/" };
        format!("https://localhost:{}{sep}{path}", self.port)
    }

    /// Its console output so far (one line per flow, plus addon logging).
    pub fn log(&self) -> String {
        crate::read_lossy(&self.dir.join("mitmdump.log"))
    }
}

impl Drop for Mitmproxy {
    fn drop(&mut self) {
        let pid = self.child.id();
        process::stop(&mut self.child, Some(pid), Duration::from_secs(5));
    }
}

/// A mitmproxy addon that holds a seeded share of responses before passing them on: a path
/// that stalls. `only_path_containing` limits it to matching request paths (e.g. `/static/`).
pub fn stall_addon(only_path_containing: Option<&str>, share: f64, seconds: f64) -> String {
    let condition = match only_path_containing {
        Some(part) => format!("{part:?} in flow.request.path and rng.random() < {share}"),
        None => format!("rng.random() < {share}"),
    };
    format!(
        "import asyncio, random\n\
         rng = random.Random(7)\n\
         class Stall:\n\
         \x20   async def response(self, flow):\n\
         \x20       if {condition}:\n\
         \x20           await asyncio.sleep({seconds})\n\
         addons = [Stall()]\n"
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn stall_addon_is_the_python_it_means() {
        assert_eq!(
            super::stall_addon(Some("/static/"), 0.1, 2.0),
            "import asyncio, random\nrng = random.Random(7)\nclass Stall:\n    async def response(self, flow):\n        if \"/static/\" in flow.request.path and rng.random() < 0.1:\n            await asyncio.sleep(2)\naddons = [Stall()]\n"
        );
        assert!(super::stall_addon(None, 0.5, 1.5).contains("        if rng.random() < 0.5:\n"));
    }
}
