//! Reading nginx's configuration: one file and the files it includes (as nginx resolves
//! `include`), saved `nginx -T` output, or `nginx -T` run here — each bounded in size.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use interloper_nginxconf::{Config, Source};

use crate::LintError;
use crate::process::{ProcessError, run_with_time_and_output_limits};

/// Most bytes read from one configuration file or `nginx -T`'s output.
pub const MAX_CONFIG_BYTES: u64 = 16 << 20;
/// Most configuration files read when following includes from a single file.
const MAX_CONFIG_FILES: usize = 1000;
/// How long `nginx -T` may take.
const NGINX_T_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `nginx -T` (the binary given, or the first of /usr/sbin/nginx, nginx on PATH) and
/// returns its output; fails with nginx's own message when the configuration is invalid.
pub fn nginx_dump(binary: Option<&Path>) -> Result<String, LintError> {
    let candidates: Vec<PathBuf> = match binary {
        Some(b) => vec![b.to_path_buf()],
        None => vec!["/usr/sbin/nginx".into(), "nginx".into()],
    };
    let mut last = None;
    for bin in candidates {
        let mut cmd = Command::new(&bin);
        cmd.arg("-T")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let shown = bin.display();
        match run_with_time_and_output_limits(&mut cmd, NGINX_T_TIMEOUT, MAX_CONFIG_BYTES + 1) {
            Ok(done) if done.success && done.stdout.len() as u64 > MAX_CONFIG_BYTES => {
                return Err(LintError::Nginx(format!(
                    "`{shown} -T` printed more than {} MiB",
                    MAX_CONFIG_BYTES >> 20
                )));
            }
            Ok(done) if done.success => return Ok(done.stdout),
            Ok(done) => {
                return Err(LintError::Nginx(format!(
                    "`{shown} -T` failed: {}",
                    emerg_line(&done.stderr)
                )));
            }
            Err(source) => {
                last = Some(LintError::Run {
                    what: format!("`{shown} -T`"),
                    source,
                });
            }
        }
    }
    Err(last.unwrap_or_else(|| LintError::Run {
        what: "`nginx -T`".into(),
        source: ProcessError::Io(std::io::ErrorKind::NotFound.into()),
    }))
}

/// The line of nginx's stderr that says what is wrong: the `[emerg]` one names the faulty
/// line; the last line only says that the test failed.
fn emerg_line(stderr: &str) -> &str {
    stderr
        .lines()
        .find(|l| l.contains("[emerg]"))
        .or_else(|| stderr.lines().rev().find(|l| !l.trim().is_empty()))
        .unwrap_or("no message")
}

/// A file's text, refused past [`MAX_CONFIG_BYTES`].
fn read_bounded(path: &Path) -> Result<String, LintError> {
    use std::io::Read as _;
    let read_error = |source| LintError::Read {
        what: path.display().to_string(),
        source,
    };
    let f = std::fs::File::open(path).map_err(read_error)?;
    let mut bytes = Vec::new();
    f.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(LintError::TooLarge {
            what: path.display().to_string(),
            limit: MAX_CONFIG_BYTES,
        });
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Reads a configuration file (or saved `nginx -T` output) and, following `include`s (globs in one directory level, as
/// nginx takes them, relative to the main file's directory), the files it includes.
pub fn read_config_file(path: &Path) -> Result<Config, LintError> {
    let main = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let base = main.parent().map(Path::to_path_buf).unwrap_or_default();
    let text = read_bounded(&main)?;
    // Saved `nginx -T` output: every file is already in it.
    if text.starts_with("# configuration file ") || text.contains("\n# configuration file ") {
        return Ok(Config::from_dump(&text));
    }
    let mut sources = vec![Source {
        path: main.to_string_lossy().into_owned(),
        text,
    }];
    let mut i = 0;
    while i < sources.len() && sources.len() < MAX_CONFIG_FILES {
        let (directives, _) = interloper_nginxconf::parse_file(&sources[i].path, &sources[i].text);
        let mut patterns = Vec::new();
        collect_includes(&directives, &mut patterns);
        for p in patterns {
            let full = if p.starts_with('/') {
                PathBuf::from(&p)
            } else {
                base.join(&p)
            };
            for file in expand_glob(&full) {
                let name = file.to_string_lossy().into_owned();
                if sources.iter().any(|s| s.path == name) || sources.len() >= MAX_CONFIG_FILES {
                    continue;
                }
                if let Ok(text) = read_bounded(&file) {
                    sources.push(Source { path: name, text });
                }
            }
        }
        i += 1;
    }
    Ok(Config::from_sources(&sources))
}

fn collect_includes(list: &[interloper_nginxconf::Directive], out: &mut Vec<String>) {
    for d in list {
        if d.name == "include"
            && let Some(a) = d.arg(0)
        {
            out.push(a.to_string());
        }
        collect_includes(d.children(), out);
    }
}

/// Files matching a path whose last component may hold `*` or `?`.
fn expand_glob(full: &Path) -> Vec<PathBuf> {
    let name = full
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !name.contains(['*', '?']) {
        return if full.is_file() {
            vec![full.to_path_buf()]
        } else {
            Vec::new()
        };
    }
    let Some(dir) = full.parent() else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && interloper_nginxconf::glob_match(&full.to_string_lossy(), &p.to_string_lossy())
        })
        .collect();
    out.sort();
    out
}
