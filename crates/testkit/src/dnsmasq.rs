//! A private DNS server: Debian's dnsmasq in the foreground on 127.0.0.1 and a free port
//! (never 53), answering only the names a test gives it — no upstream servers, no resolv.conf,
//! no hosts file — as a split-horizon server that only one network sees would. Every query it
//! answers is logged, so a test can tell the server was really asked.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::Spawned;

/// Ports tried when the one picked was taken in between.
const PORT_ATTEMPTS: usize = 5;
/// How long dnsmasq gets to listen (well under a second when idle).
const START_WITHIN: Duration = Duration::from_secs(20);

/// A running dnsmasq; killed (its process group, by pid) on drop.
///
/// ```no_run
/// use interloper_testkit::Dnsmasq;
/// let dns = Dnsmasq::start(&[("app.split.test", "127.0.0.1".parse()?)])?;
/// println!("--dns-server {}", dns.addr());
/// # anyhow::Ok(())
/// ```
#[derive(Debug)]
pub struct Dnsmasq {
    addr: SocketAddr,
    child: Spawned,
}

impl Dnsmasq {
    /// Starts dnsmasq answering each `(name, address)` (an A or AAAA record, by the address's
    /// family; a name may be given several times) and nothing else, once it listens.
    pub fn start(records: &[(&str, IpAddr)]) -> anyhow::Result<Dnsmasq> {
        let binary = ["/usr/sbin/dnsmasq", "/usr/bin/dnsmasq"]
            .into_iter()
            .map(Path::new)
            .find(|p| p.exists())
            .context("dnsmasq not found: run scripts/test, which installs Debian dnsmasq-base")?;
        let mut last_err = None;
        for _ in 0..PORT_ATTEMPTS {
            let port = crate::free_port();
            let mut cmd = Command::new(binary);
            cmd.args([
                "--keep-in-foreground",
                "--no-daemon",
                // No configuration file, upstream servers, resolv.conf or hosts file: only the
                // records given here.
                "--conf-file=/dev/null",
                "--no-resolv",
                "--no-hosts",
                "--bind-interfaces",
                "--listen-address=127.0.0.1",
                "--pid-file=",
                "--log-queries",
                "--log-facility=-",
            ])
            .arg(format!("--port={port}"));
            for (name, address) in records {
                cmd.arg(format!("--host-record={name},{address}"));
            }
            let mut child = Spawned::start(cmd)?;
            match child.wait_for_ports(&[port], START_WITHIN) {
                Ok(()) => {
                    return Ok(Dnsmasq {
                        addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
                        child,
                    });
                }
                Err(e) => {
                    let in_use = child.stderr().contains("in use");
                    last_err = Some(e);
                    if !in_use {
                        break;
                    }
                }
            }
        }
        match last_err {
            Some(e) => Err(e.context("dnsmasq did not start")),
            None => bail!("dnsmasq did not start"),
        }
    }

    /// Its address, for `--dns-server` or a module's `dns_server`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The queries it was asked so far, one line each (`query[A] app.split.test from …`).
    pub fn queries(&self) -> Vec<String> {
        self.child
            .stderr()
            .lines()
            .chain(self.child.stdout().lines())
            .filter(|line| line.contains("query["))
            .map(str::to_string)
            .collect()
    }
}
