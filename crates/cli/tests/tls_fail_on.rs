//! `interloper tls --fail-on` on the built-in inspection lab: the exit code follows the worst
//! severity of the TLS-path verdict, so `--fail-on critical` lets a merely suspicious path pass
//! and fails only where the witness proves interception; the default keeps the old rule (1 on
//! anything but a clean path).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The lab as a child process, stopped (by its pid) when the test ends, pass or fail.
struct Lab {
    child: Child,
    public_roots: String,
    clean_url: String,
    inspected_url: String,
    inspection_ca: String,
    witness: String,
    resolves: Vec<String>,
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn value_after<'a>(line: &'a str, flag: &str) -> Vec<&'a str> {
    let words: Vec<&str> = line.split_whitespace().collect();
    words
        .windows(2)
        .filter(|w| w[0] == flag)
        .map(|w| w[1])
        .collect()
}

/// Starts `interloper lab --scenario inspection` and reads what it prints until the line that
/// says how to check it.
fn start_lab() -> Lab {
    let mut child = Command::new(env!("CARGO_BIN_EXE_interloper"))
        .args(["lab", "--scenario", "inspection"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the lab");
    let stdout = child.stdout.take().expect("lab stdout");
    let mut lab = Lab {
        child,
        public_roots: String::new(),
        clean_url: String::new(),
        inspected_url: String::new(),
        inspection_ca: String::new(),
        witness: String::new(),
        resolves: vec![],
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut lines = BufReader::new(stdout).lines();
    let mut check_next = false;
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else {
            panic!("the lab stopped before saying how to check it");
        };
        if let Some(roots) = line.strip_prefix("public roots: ") {
            lab.public_roots = roots.trim().to_string();
        } else if line.starts_with("check it with") {
            check_next = true;
        } else if check_next {
            let urls: Vec<&str> = line
                .split_whitespace()
                .filter(|w| w.starts_with("https://") && !line.contains(&format!("--echo {w}")))
                .collect();
            assert_eq!(urls.len(), 4, "four instances in {line}");
            lab.clean_url = urls[0].to_string();
            lab.inspected_url = urls[3].to_string();
            lab.inspection_ca = value_after(&line, "--cacert")[0].to_string();
            lab.witness = value_after(&line, "--echo")[0].to_string();
            lab.resolves = value_after(&line, "--resolve")
                .into_iter()
                .map(String::from)
                .collect();
            // Keep reading: a lab whose stdout is closed stops at its next line and removes
            // its roots.
            std::thread::spawn(move || lines.for_each(drop));
            return lab;
        }
    }
    panic!("the lab did not come up within a minute");
}

impl Lab {
    /// Runs `interloper tls URL` against the lab with `extra` arguments; returns the exit code.
    fn tls(&self, url: &str, extra: &[&str]) -> i32 {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_interloper"));
        cmd.args(["tls", url, "--no-os-roots", "--no-proxy"])
            .args(["--public-roots", &self.public_roots]);
        for r in &self.resolves {
            cmd.args(["--resolve", r]);
        }
        let out = cmd.args(extra).output().expect("run interloper tls");
        let code = out.status.code().expect("exit code");
        if code != 0 {
            // Shown only when an assertion fails: which verdict and hello shapes gave this code.
            eprintln!(
                "{cmd:?} exited {code}:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        code
    }
}

#[test]
fn fail_on_follows_the_tls_verdict() {
    let lab = start_lab();
    let inspection_ca = ["--cacert", lab.inspection_ca.as_str()];
    let witness = ["--echo", lab.witness.as_str()];

    // A clean path passes whatever the threshold.
    assert_eq!(lab.tls(&lab.clean_url, &[]), 0);
    assert_eq!(lab.tls(&lab.clean_url, &["--fail-on", "info"]), 0);

    // The inspection CA is not a public root: the path is untrusted, an error.
    assert_eq!(lab.tls(&lab.inspected_url, &[]), 1, "default fails");
    assert_eq!(lab.tls(&lab.inspected_url, &["--fail-on", "error"]), 1);
    assert_eq!(lab.tls(&lab.inspected_url, &["--fail-on", "critical"]), 0);

    // Trusted locally but naming nobody: a private PKI, a warning.
    assert_eq!(
        lab.tls(&lab.inspected_url, &inspection_ca),
        1,
        "default fails"
    );
    let mut critical = inspection_ca.to_vec();
    critical.extend(["--fail-on", "critical"]);
    assert_eq!(lab.tls(&lab.inspected_url, &critical), 0);

    // The witness sees another chain than the client: interception proven, critical.
    let mut proven = inspection_ca.to_vec();
    proven.extend(witness);
    assert_eq!(lab.tls(&lab.inspected_url, &proven), 1, "default fails");
    proven.extend(["--fail-on", "critical"]);
    assert_eq!(lab.tls(&lab.inspected_url, &proven), 1);
}
