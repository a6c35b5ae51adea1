//! Child processes: spawn with output to a log file, wait for a port, stop by pid.

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// How often readiness and exit are polled.
const POLL: Duration = Duration::from_millis(25);

/// Spawns `cmd` with stdin closed and stdout+stderr appended to `log`.
pub(crate) fn spawn_logged(cmd: &mut Command, log: &Path) -> anyhow::Result<Child> {
    let out = File::options()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("opening {}", log.display()))?;
    let err = out.try_clone()?;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .with_context(|| format!("starting {:?}", cmd.get_program()))
}

/// Runs `cmd` to completion within `timeout`, output to `log`; fails with the log tail.
pub(crate) fn run_bounded(cmd: &mut Command, log: &Path, timeout: Duration) -> anyhow::Result<()> {
    let program = format!("{:?}", cmd.get_program());
    let mut child = spawn_logged(cmd, log)?;
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            if status.success() {
                return Ok(());
            }
            bail!(
                "{program} failed ({status}); log {}:\n{}",
                log.display(),
                crate::tail(log, 30)
            );
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "{program} did not finish within {timeout:?}; log {}:\n{}",
                log.display(),
                crate::tail(log, 30)
            );
        }
        std::thread::sleep(POLL);
    }
}

/// Why waiting for a server failed.
pub(crate) enum NotReady {
    /// The process ended before accepting connections.
    Exited(ExitStatus),
    /// It kept running but did not accept within the time limit.
    Timeout,
}

/// Waits until every port in `ports` accepts a TCP connection on 127.0.0.1 and `extra()` holds,
/// or the child exits, or `timeout` passes.
pub(crate) fn wait_ready(
    child: &mut Child,
    ports: &[u16],
    timeout: Duration,
    extra: impl Fn() -> bool,
) -> anyhow::Result<Result<(), NotReady>> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Err(NotReady::Exited(status)));
        }
        if extra() && ports.iter().all(|&p| accepts(p)) {
            return Ok(Ok(()));
        }
        if Instant::now() >= deadline {
            return Ok(Err(NotReady::Timeout));
        }
        std::thread::sleep(POLL);
    }
}

/// Whether 127.0.0.1:`port` accepts a TCP connection right now.
pub(crate) fn accepts(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

/// Sends SIGTERM to `pid` (default: the child's own pid) with the system `kill` (no unsafe FFI needed), waits up to `grace`
/// for `child` to exit, then SIGKILLs it. Never panics: this runs from `Drop`.
pub(crate) fn stop(child: &mut Child, pid: Option<u32>, grace: Duration) {
    let pid = pid.unwrap_or_else(|| child.id());
    if matches!(child.try_wait(), Ok(Some(_))) {
        return;
    }
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_)) | Err(_)) {
            return;
        }
        std::thread::sleep(POLL);
    }
    let _ = child.kill();
    let _ = child.wait();
}
