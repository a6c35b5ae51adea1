//! Processes a test starts itself — the binary under test (`interloper echo`, `interloper
//! serve`), HAProxy, Prometheus, an nginx under another user — with their output kept in files
//! and, on drop, killed by pid together with everything they started.

use std::ffi::OsStr;
use std::fs::File;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tempfile::TempDir;

/// How often output, ports and exit are polled.
const POLL: Duration = Duration::from_millis(25);

/// Lines of output quoted in an error.
const TAIL_LINES: usize = 30;

/// A child process in a process group of its own, stdout and stderr each in a file; on drop the
/// whole group is killed (SIGKILL, by the child's pid) and the child reaped.
///
/// ```no_run
/// use std::time::Duration;
/// use interloper_testkit::{Spawned, free_port};
/// let port = free_port();
/// let listen = format!("127.0.0.1:{port}");
/// let mut echo = Spawned::interloper(
///     "target/debug/interloper", // a test passes env!("CARGO_BIN_EXE_interloper")
///     ["echo", "--listen", listen.as_str(), "--self-signed", "localhost"],
/// )?;
/// echo.wait_for_ports(&[port], Duration::from_secs(20))?;
/// # anyhow::Ok(())
/// ```
#[derive(Debug)]
pub struct Spawned {
    /// What was started, for messages.
    name: String,
    child: Child,
    /// Set once it is reaped (killed by [`Spawned::stop`], or seen to exit): its pid may name
    /// another process by now, so it is not signalled again.
    stopped: bool,
    /// Holds `stdout.log` and `stderr.log`; removed after the child is stopped (field order).
    dir: TempDir,
}

impl Spawned {
    /// Starts `cmd` with stdin closed, stdout and stderr to files, in a new process group (so
    /// that drop also stops what it starts: nginx's workers, a shell's children).
    pub fn start(cmd: Command) -> anyhow::Result<Spawned> {
        Spawned::start_with(cmd, false)
    }

    /// As [`Spawned::start`], but stderr goes to the stdout file too (`2>&1`), so the file
    /// holds the output in the order it was written (progress before the report); the stderr
    /// file stays empty.
    pub fn start_merged(cmd: Command) -> anyhow::Result<Spawned> {
        Spawned::start_with(cmd, true)
    }

    fn start_with(mut cmd: Command, merged: bool) -> anyhow::Result<Spawned> {
        let name = cmd.get_program().to_string_lossy().into_owned();
        let dir = tempfile::Builder::new()
            .prefix("interloper-spawned-")
            .tempdir()?;
        let stdout = File::create(dir.path().join("stdout.log"))?;
        let stderr = if merged {
            File::create(dir.path().join("stderr.log"))?;
            stdout.try_clone()?
        } else {
            File::create(dir.path().join("stderr.log"))?
        };
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::from(stdout))
            .stderr(Stdio::from(stderr))
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        Ok(Spawned {
            name,
            child,
            stopped: false,
            dir,
        })
    }

    /// `interloper ARGS…` from `binary` (a test passes `env!("CARGO_BIN_EXE_interloper")`),
    /// without colour, as [`Spawned::start`].
    pub fn interloper<I, S>(binary: impl AsRef<OsStr>, args: I) -> anyhow::Result<Spawned>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(binary);
        cmd.args(args).env("NO_COLOR", "1");
        Spawned::start(cmd)
    }

    /// Its process id (also its process group's).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The file its stdout goes to.
    pub fn stdout_path(&self) -> PathBuf {
        self.dir.path().join("stdout.log")
    }

    /// The file its stderr goes to.
    pub fn stderr_path(&self) -> PathBuf {
        self.dir.path().join("stderr.log")
    }

    /// Its stdout so far.
    pub fn stdout(&self) -> String {
        crate::read_lossy(&self.stdout_path())
    }

    /// Its stderr so far.
    pub fn stderr(&self) -> String {
        crate::read_lossy(&self.stderr_path())
    }

    /// Waits until every port in `ports` accepts a TCP connection on 127.0.0.1. Fails, quoting
    /// its output, when it exits first or `within` passes.
    pub fn wait_for_ports(&mut self, ports: &[u16], within: Duration) -> anyhow::Result<()> {
        self.wait_until(within, "listen", || {
            ports
                .iter()
                .all(|&p| crate::process::accepts(p))
                .then_some(())
        })
    }

    /// As [`Spawned::wait_for_ports`], for listeners on other addresses than 127.0.0.1 (a
    /// network namespace's veth address).
    pub fn wait_for_addrs(
        &mut self,
        addrs: &[std::net::SocketAddr],
        within: Duration,
    ) -> anyhow::Result<()> {
        self.wait_until(within, "listen", || {
            addrs
                .iter()
                .all(|a| {
                    std::net::TcpStream::connect_timeout(a, Duration::from_millis(200)).is_ok()
                })
                .then_some(())
        })
    }

    /// Waits for the first line of its stdout, then of its stderr, that contains `needle`, and
    /// returns it. Fails, quoting its output, when it exits first or `within` passes.
    pub fn wait_for_line(&mut self, needle: &str, within: Duration) -> anyhow::Result<String> {
        let (stdout, stderr) = (self.stdout_path(), self.stderr_path());
        self.wait_until(within, &format!("print a line with {needle:?}"), || {
            [&stdout, &stderr].into_iter().find_map(|path| {
                crate::read_lossy(path)
                    .lines()
                    .find(|line| line.contains(needle))
                    .map(str::to_string)
            })
        })
    }

    /// Its exit status, if it has ended.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.try_wait().ok().flatten()
    }

    /// Waits for it to exit by itself and gives its status. Fails, quoting its output, when
    /// `within` passes first (drop then kills it with everything it started: a browser's
    /// renderers too).
    pub fn wait_for_exit(&mut self, within: Duration) -> anyhow::Result<ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.try_wait()? {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                bail!(
                    "{} did not finish within {within:?}\n{}",
                    self.name,
                    self.output_tail()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Sends `signal` (a name `kill` knows: `HUP`, `TERM`, …) to the process itself.
    pub fn signal(&self, signal: &str) -> anyhow::Result<()> {
        if self.stopped {
            bail!(
                "{} has ended: there is nothing to send {signal} to",
                self.name
            );
        }
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .context("running kill")?;
        if !status.success() {
            bail!("kill -{signal} {} failed: {status}", self.pid());
        }
        Ok(())
    }

    /// Kills it and what it started now, as drop does, but keeps its output files until drop:
    /// for a log a test reads after the writer is gone (HAProxy's, on stdout).
    pub fn stop(&mut self) {
        if !self.stopped {
            // The child is not reaped yet, so its pid still names its group: the signal cannot
            // reach an unrelated process that reused the number.
            kill_group(self.child.id());
            let _ = self.child.kill();
            let _ = self.child.wait();
            self.stopped = true;
        }
    }

    /// The child's status if it has exited. Reaping it frees its pid for reuse, so what it
    /// left in its group (a browser's renderers) is killed at once, before the number can name
    /// anything else, and drop will not signal it again.
    fn try_wait(&mut self) -> std::io::Result<Option<ExitStatus>> {
        let status = self.child.try_wait()?;
        if status.is_some() && !self.stopped {
            // The group's number stays reserved while any member lives, so this reaches only
            // the leftovers, if any.
            kill_group(self.child.id());
            self.stopped = true;
        }
        Ok(status)
    }

    /// Polls `done` until it gives a value; the child's exit or the deadline end the wait with
    /// an error that says what it was waiting to `happen` and quotes its output.
    fn wait_until<T>(
        &mut self,
        within: Duration,
        happen: &str,
        mut done: impl FnMut() -> Option<T>,
    ) -> anyhow::Result<T> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(value) = done() {
                return Ok(value);
            }
            if let Some(status) = self.try_wait()? {
                bail!(
                    "{} exited ({status}) before it did {happen}\n{}",
                    self.name,
                    self.output_tail()
                );
            }
            if Instant::now() >= deadline {
                bail!(
                    "{} did not {happen} within {within:?}\n{}",
                    self.name,
                    self.output_tail()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// The last lines of stdout and stderr, labelled, for error messages.
    fn output_tail(&self) -> String {
        format!(
            "stdout:\n{}\nstderr:\n{}",
            crate::tail(&self.stdout_path(), TAIL_LINES),
            crate::tail(&self.stderr_path(), TAIL_LINES)
        )
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.stop();
    }
}

/// SIGKILL to the process group `pgid` with the system `kill` (no unsafe FFI). Never panics:
/// this runs from `Drop`.
fn kill_group(pgid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Headless Chromium on `PATH` (`chromium` as Debian names it, or `chromium-browser`).
pub fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser"].iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

/// Waits until the file at `path` has at least `lines` lines or `within` passes; returns how
/// many it has. A proxy writes a request's line once it notices the request ended, a moment
/// after the client gave up: this is how a test waits for it without a fixed sleep.
pub fn wait_for_lines(path: &Path, lines: usize, within: Duration) -> usize {
    let count = || crate::read_lossy(path).lines().count();
    let deadline = Instant::now() + within;
    loop {
        let now = count();
        if now >= lines || Instant::now() >= deadline {
            return now;
        }
        std::thread::sleep(POLL);
    }
}
