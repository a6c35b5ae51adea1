//! Test harness: real nginx, Django, mitmproxy, Squid and dnsmasq on loopback, plus fault
//! servers (tests only).
//!
//! It is the one harness of the workspace's tests: the Django+nginx origin ([`DjangoOrigin`]),
//! a path with latency in front of any server ([`SlowPath`]),
//! the guard for a process a test starts itself, `interloper SUBCOMMAND` included
//! ([`Spawned`]), a network namespace of a test's own as another client network ([`NetNs`]), waiting for a log to fill ([`wait_for_lines`]), and the TLS client
//! configuration that records the chain and random of its connection
//! ([`recording_client_config`]) live here once, for every crate's tests.
//!
//! Everything here is blocking and std-based, so it can be called from plain `#[test]`s or from
//! async tests through `spawn_blocking`. Each component runs in its own temporary directory, on
//! free loopback ports, and is stopped on `Drop` by the pid this kit started.
//!
//! ```no_run
//! use interloper_testkit::{Nginx, NginxOptions};
//! let nginx = Nginx::start(NginxOptions::default())?;
//! println!("{}", nginx.https_url("/small.txt"));
//! # anyhow::Ok(())
//! ```
#![forbid(unsafe_code)]

mod django;
mod dnsmasq;
pub mod faults;
mod latency;
mod mitm;
mod netns;
mod nginx;
mod origin;
mod pki;
mod process;
mod recording;
mod server_files;
mod shared;
mod spawned;
mod squid;

use std::net::{Ipv4Addr, TcpListener};
use std::path::PathBuf;

use anyhow::{Context as _, bail};

pub use django::{DjangoServer, DjangoSite};
pub use dnsmasq::Dnsmasq;
pub use latency::SlowPath;
pub use mitm::{Mitmproxy, stall_addon};
pub use netns::NetNs;
pub use nginx::{Nginx, NginxOptions, SMALL_TXT, one_mib_bytes};
pub use origin::DjangoOrigin;
pub use pki::{TestPki, TieredPki};
pub use recording::{Recording, Seen, classic_provider, recording_client_config};
pub use server_files::{STATIC_CSS, root_only_mountinfo, static_tree};
pub use shared::{REQUIRE_SHARED, SHARED_DIR, shared_dir, shared_root, skipped};
pub use spawned::{Spawned, chromium, wait_for_lines};
pub use squid::{Squid, SquidBuilder, percent_encode};

/// A loopback TCP port that was free a moment ago.
///
/// There is a race between dropping the probe socket and the server binding the port; the
/// starters in this crate retry with a new port when a bind fails with `EADDRINUSE`.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .expect("binding 127.0.0.1:0 must work on any machine that runs these tests");
    listener
        .local_addr()
        .expect("a bound listener has a local address")
        .port()
}

/// The Python venv holding Django and mitmproxy: `$INTERLOPER_VENV`.
pub fn venv() -> anyhow::Result<PathBuf> {
    venv_named("INTERLOPER_VENV", "django and mitmproxy")
}

/// The second venv, holding Django 4.2 LTS and WhiteNoise, that interloper-django's suite
/// also runs on: `$INTERLOPER_VENV_DJANGO42`.
pub fn venv_django42() -> anyhow::Result<PathBuf> {
    venv_named("INTERLOPER_VENV_DJANGO42", "django 4.2")
}

/// The venv `$variable` names, with what scripts/test puts in it for the error.
fn venv_named(variable: &str, holding: &str) -> anyhow::Result<PathBuf> {
    let Some(dir) = std::env::var_os(variable) else {
        bail!(
            "{variable} is not set: run the suite with scripts/test, which creates a venv \
             with {holding} and exports {variable}"
        );
    };
    let dir = PathBuf::from(dir);
    let python = dir.join("bin/python");
    if !python.exists() {
        bail!(
            "{variable}={} has no bin/python: run scripts/test to create the venv",
            dir.display()
        );
    }
    Ok(dir)
}

/// Path of an executable inside the venv, with a helpful error if it is missing.
fn venv_bin(name: &str) -> anyhow::Result<PathBuf> {
    let path = venv()?.join("bin").join(name);
    if !path.exists() {
        bail!(
            "{} is missing: run scripts/test to install django and mitmproxy into the venv",
            path.display()
        );
    }
    Ok(path)
}

/// Reads a whole file leniently (missing file → empty string): logs are best-effort evidence.
fn read_lossy(path: &std::path::Path) -> String {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// The last `lines` lines of a log file, for error messages.
fn tail(path: &std::path::Path, lines: usize) -> String {
    let text = read_lossy(path);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Creates `dir` and returns it, with the path in the error.
fn mkdir(dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}

/// This process's peak resident memory so far (`VmHWM`), in KiB: what a memory-bound test
/// compares before and after the work it measures. Linux only.
pub fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}
