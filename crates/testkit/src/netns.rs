//! A network namespace of a test's own: another client network on this machine. A veth pair
//! joins it to the host with one private /24 (`10.213.N.0/24`: the host side `.1`, the
//! namespace side `.2`), so a program run inside ([`NetNs::command`]) reaches only the host's
//! veth address, and servers see its connections come from another network than loopback's.
//! Nothing is routed beyond the pair. Needs root (`ip netns add`); [`Drop`] deletes the
//! namespace, which deletes the pair with it.

use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{Context as _, bail};

/// The private /16 the pairs' /24s are taken from (`10.213.0.0/16`).
const NET_PREFIX: [u8; 2] = [10, 213];

/// One namespace at a time is set up in this process: choosing a free /24 and taking it must
/// not interleave.
static SETTING_UP: Mutex<()> = Mutex::new(());

/// Namespaces made by this process, for unique names.
static MADE: AtomicU32 = AtomicU32::new(0);

/// A network namespace joined to the host by a veth pair; deleted on drop.
#[derive(Debug)]
pub struct NetNs {
    name: String,
    subnet: u8,
}

impl NetNs {
    /// Creates the namespace, its veth pair and addresses, and brings the links up.
    pub fn create() -> anyhow::Result<NetNs> {
        let _one = SETTING_UP.lock().unwrap_or_else(|e| e.into_inner());
        let n = MADE.fetch_add(1, Ordering::Relaxed);
        // Unique per test run: the process id and a counter (interface names stay within
        // Linux's 15 bytes).
        let id = format!("{:x}{n:x}", std::process::id());
        let name = format!("il-{id}");
        let subnet = free_subnet()?;
        ip(&["netns", "add", &name])?;
        // Owned from here: a failure below deletes what was made.
        let ns = NetNs { name, subnet };
        let (host_if, ns_if) = (format!("ilh{id}"), format!("iln{id}"));
        ip(&[
            "link", "add", &host_if, "type", "veth", "peer", "name", &ns_if, "netns", &ns.name,
        ])?;
        ip(&[
            "addr",
            "add",
            &format!("{}/24", ns.host_address()),
            "dev",
            &host_if,
        ])?;
        ip(&["link", "set", &host_if, "up"])?;
        ip(&[
            "-n",
            &ns.name,
            "addr",
            "add",
            &format!("{}/24", ns.address()),
            "dev",
            &ns_if,
        ])?;
        ip(&["-n", &ns.name, "link", "set", &ns_if, "up"])?;
        ip(&["-n", &ns.name, "link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// The namespace's name (`ip netns exec NAME …`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The host's end of the pair: where servers listen for the namespace's clients.
    pub fn host_address(&self) -> Ipv4Addr {
        Ipv4Addr::new(NET_PREFIX[0], NET_PREFIX[1], self.subnet, 1)
    }

    /// The namespace's end: the address its clients' connections come from.
    pub fn address(&self) -> Ipv4Addr {
        Ipv4Addr::new(NET_PREFIX[0], NET_PREFIX[1], self.subnet, 2)
    }

    /// The client network servers see (`10.213.N.0/24`).
    pub fn network(&self) -> String {
        format!("{}.{}.{}.0/24", NET_PREFIX[0], NET_PREFIX[1], self.subnet)
    }

    /// `program` to be run inside the namespace.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name]).arg(program);
        cmd
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        // Deleting the namespace destroys its veth end, and the host's end with it.
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// `ip ARGS…`, its stderr in the error.
fn ip(args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .context("running ip (iproute2)")?;
    if !out.status.success() {
        bail!(
            "ip {}: {} (a network namespace needs root)",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// A /24 of `10.213.0.0/16` no address of this host is in (another run's pair included).
fn free_subnet() -> anyhow::Result<u8> {
    let out = Command::new("ip")
        .args(["-o", "-4", "addr", "show"])
        .output()
        .context("running ip addr")?;
    let used = String::from_utf8_lossy(&out.stdout);
    let start = (std::process::id() % 200) as u8;
    (0..250u8)
        .map(|i| (start.wrapping_add(i) % 250) + 1)
        .find(|n| {
            let prefix = format!(" {}.{}.{n}.", NET_PREFIX[0], NET_PREFIX[1]);
            !used.contains(&prefix)
        })
        .context("no free /24 in 10.213.0.0/16")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn a_client_in_the_namespace_comes_from_its_own_network_and_drop_removes_it() {
        let ns = NetNs::create().expect("a namespace (root)");
        let listener = TcpListener::bind((ns.host_address(), 0)).expect("bind the veth address");
        let port = listener.local_addr().expect("addr").port();
        let client = ns
            .command("python3")
            .args([
                "-c",
                &format!(
                    "import socket; socket.create_connection(('{}', {port}), timeout=10).close()",
                    ns.host_address()
                ),
            ])
            .spawn()
            .expect("python3 in the namespace");
        let (_stream, peer) = listener.accept().expect("the namespace's connection");
        assert_eq!(peer.ip(), std::net::IpAddr::V4(ns.address()));
        assert!(ns.network().starts_with("10.213."));
        let _ = client.wait_with_output();
        // Loopback inside the namespace is its own: the host's loopback listener is not there.
        let host_only = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind loopback");
        let reached = ns
            .command("python3")
            .args([
                "-c",
                &format!(
                    "import socket; socket.create_connection(('127.0.0.1', {}), timeout=3)",
                    host_only.local_addr().expect("addr").port()
                ),
            ])
            .output()
            .expect("python3 in the namespace");
        assert!(!reached.status.success());
        let name = ns.name().to_string();
        drop(ns);
        let list = Command::new("ip")
            .args(["netns", "list"])
            .output()
            .expect("ip");
        assert!(!String::from_utf8_lossy(&list.stdout).contains(&name));
    }
}
