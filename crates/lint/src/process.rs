//! Running a program lint needs (`nginx -T`, the project's Python) with a time limit, keeping
//! at most a given number of bytes of each output, so neither a hung child nor a flood of
//! output can hang or exhaust lint.

use std::io::Read as _;
use std::process::Command;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often a running child is checked for having exited.
const POLL: Duration = Duration::from_millis(20);

/// Why a program did not run to its end.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProcessError {
    /// It could not be started or waited for.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// It was still running at the time limit, and was killed.
    #[error("did not finish within {} s", .0.as_secs())]
    TimedOut(Duration),
}

/// A program that ran to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// It exited with status 0.
    pub success: bool,
    /// Its standard output, at most the limit, lossily decoded.
    pub stdout: String,
    /// Its standard error, likewise.
    pub stderr: String,
}

/// Runs `cmd` (whose stdout and stderr the caller set to piped) for at most `timeout`,
/// keeping `limit` bytes of each output; the rest is read and dropped so the child never
/// blocks on a full pipe.
pub fn run_with_time_and_output_limits(
    cmd: &mut Command,
    timeout: Duration,
    limit: u64,
) -> Result<Finished, ProcessError> {
    let mut child = cmd.spawn()?;
    let stdout = read_capped(child.stdout.take(), limit);
    let stderr = read_capped(child.stderr.take(), limit);
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(ProcessError::TimedOut(timeout));
        }
        std::thread::sleep(POLL);
    };
    Ok(Finished {
        success: status.success(),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

/// Reads a pipe on its own thread: the first `limit` bytes kept, the rest drained.
fn read_capped(
    pipe: Option<impl std::io::Read + Send + 'static>,
    limit: u64,
) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(p) = pipe {
            let mut limited = p.take(limit);
            let _ = limited.read_to_end(&mut buf);
            let _ = std::io::copy(&mut limited.into_inner(), &mut std::io::sink());
        }
        String::from_utf8_lossy(&buf).into_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Stdio;

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    #[test]
    fn output_beyond_the_limit_is_dropped_and_the_child_still_ends() {
        // 1 MiB of output against a 10-byte limit: kept short, and the child is not blocked.
        let done = run_with_time_and_output_limits(
            &mut sh("head -c 1048576 /dev/zero | tr '\\0' a; echo oops >&2; exit 3"),
            Duration::from_secs(20),
            10,
        )
        .expect("runs");
        assert!(!done.success);
        assert_eq!(done.stdout, "aaaaaaaaaa");
        assert_eq!(done.stderr, "oops\n");
    }

    #[test]
    fn a_child_past_its_time_is_killed_and_said_so() {
        let started = Instant::now();
        let err =
            run_with_time_and_output_limits(&mut sh("sleep 30"), Duration::from_millis(200), 10)
                .expect_err("times out");
        assert!(matches!(err, ProcessError::TimedOut(_)), "{err}");
        assert!(started.elapsed() < Duration::from_secs(10));
        let missing = run_with_time_and_output_limits(
            &mut Command::new("/nonexistent/program"),
            Duration::from_secs(1),
            10,
        )
        .expect_err("no such program");
        assert!(matches!(missing, ProcessError::Io(_)));
    }
}
