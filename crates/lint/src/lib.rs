//! `interloper lint`: reads what is on the server — nginx's configuration, STATIC_ROOT and its
//! permissions, Django's settings (through the project's own Python) and manifest, the mount
//! table — and reports, as findings IL6xx with the file:line or path and the exact fix, what
//! would make static files fail. It changes nothing.
//!
//! The configuration reader is the pure `interloper-nginxconf`; the rules here read files,
//! run the settings script and read `/proc/self/mountinfo`. See docs/lint.md.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod acl;
pub mod django;
mod finding;
pub mod mounts;
pub mod nginx;
pub mod perms;
pub mod procs;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, bail};
use interloper_findings::{Diagnosis, analyse_lint};
use interloper_nginxconf::{Config, Source};

pub use django::{DjangoSettings, DjangoSource};

/// Most bytes read from one configuration file or `nginx -T`'s output.
pub const MAX_CONFIG_BYTES: u64 = 16 << 20;
/// Most configuration files read when following includes from a single file.
const MAX_CONFIG_FILES: usize = 1000;
/// The mount table read when `--mountinfo` is not given.
pub const PROC_MOUNTINFO: &str = "/proc/self/mountinfo";
/// `/static/`, when neither `--static-url` nor Django's settings say otherwise.
pub const DEFAULT_STATIC_URL: &str = "/static/";

/// Where the nginx configuration comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NginxSource {
    /// One file; its includes are read from disk.
    File(PathBuf),
    /// The output of `nginx -T` (every file nginx read), with a label for messages.
    Dump {
        /// The dump.
        text: String,
        /// Where it came from (`nginx -T`).
        label: String,
    },
}

/// What to read: everything is optional, and what is missing is not judged.
#[derive(Debug, Clone, Default)]
pub struct LintPlan {
    /// nginx's configuration.
    pub nginx: Option<NginxSource>,
    /// STATIC_ROOT, overriding Django's.
    pub static_root: Option<PathBuf>,
    /// STATIC_URL's path, overriding Django's (default `/static/`).
    pub static_url: Option<String>,
    /// Django's settings.
    pub django: Option<DjangoSource>,
    /// The user nginx's workers run as, overriding the `user` directive.
    pub user: Option<String>,
    /// The mount table to read (default [`PROC_MOUNTINFO`]).
    pub mountinfo: Option<PathBuf>,
    /// Other instances' manifests.
    pub compare_manifests: Vec<PathBuf>,
    /// Other instances' manifests already fetched by the caller (from a URL), by label.
    pub compare_manifest_documents: Vec<(String, Vec<u8>)>,
    /// /etc/passwd and /etc/group (tests point them elsewhere).
    pub passwd: Option<PathBuf>,
    /// See `passwd`.
    pub group: Option<PathBuf>,
    /// Where running processes are listed (default `/proc`), to find who the workers of the
    /// nginx being read really run as.
    pub proc_root: Option<PathBuf>,
}

/// The result: findings and verdict, and what was read.
#[derive(Debug, Clone)]
pub struct LintOutcome {
    /// Findings, most important first, and the verdict.
    pub analysis: Diagnosis,
    /// What was read, as (what, value) lines for the report.
    pub inputs: Vec<(String, String)>,
    /// Django's settings, when read.
    pub django: Option<DjangoSettings>,
}

/// Runs `nginx -T` (the binary given, or the first of /usr/sbin/nginx, nginx on PATH) and
/// returns its output; fails with nginx's own message when the configuration is invalid.
pub fn nginx_dump(binary: Option<&Path>) -> anyhow::Result<String> {
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
        match django::run_bounded(&mut cmd, Duration::from_secs(30), MAX_CONFIG_BYTES + 1) {
            Ok((true, out, _)) if out.len() as u64 > MAX_CONFIG_BYTES => {
                bail!(
                    "`{} -T` printed more than {} MiB",
                    bin.display(),
                    MAX_CONFIG_BYTES >> 20
                )
            }
            Ok((true, out, _)) => return Ok(out),
            Ok((false, _, err)) => bail!(
                "`{} -T` failed: {}",
                bin.display(),
                // nginx names the faulty line in its `[emerg]` message; the last line only
                // says that the test failed.
                err.lines()
                    .find(|l| l.contains("[emerg]"))
                    .or_else(|| err.lines().rev().find(|l| !l.trim().is_empty()))
                    .unwrap_or("no message")
            ),
            Err(e) => last = Some(e.context(format!("running `{} -T`", bin.display()))),
        }
    }
    Err(last.unwrap_or_else(|| anyhow::anyhow!("nginx not found")))
}

fn read_bounded(path: &Path) -> anyhow::Result<String> {
    use std::io::Read as _;
    let f = std::fs::File::open(path).with_context(|| path.display().to_string())?;
    let mut bytes = Vec::new();
    f.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| path.display().to_string())?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        bail!(
            "{}: larger than {} MiB",
            path.display(),
            MAX_CONFIG_BYTES >> 20
        );
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Reads a configuration file (or saved `nginx -T` output) and, following `include`s (globs in one directory level, as
/// nginx takes them, relative to the main file's directory), the files it includes.
pub fn read_config_file(path: &Path) -> anyhow::Result<Config> {
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

/// Reads everything the plan names and judges it. An `Err` is an input error (a file that
/// cannot be read, settings that cannot be loaded); what is merely absent is skipped.
pub fn run_lint(plan: &LintPlan) -> anyhow::Result<LintOutcome> {
    let mut findings = Vec::new();
    let mut inputs: Vec<(String, String)> = Vec::new();
    let mut read = Vec::new();

    let django =
        match &plan.django {
            Some(src) => {
                let s = django::read_settings(src)?;
                inputs.push((
                "django".into(),
                format!(
                    "Django {} with {}: STATIC_URL {:?}, STATIC_ROOT {:?}, storage {}, DEBUG {}{}",
                    s.django,
                    s.settings_module.as_deref().unwrap_or("?"),
                    s.static_url.as_deref().unwrap_or(""),
                    s.static_root.as_deref().unwrap_or(""),
                    s.storage.as_deref().unwrap_or("?"),
                    s.debug,
                    if s.whitenoise_middleware { ", WhiteNoise middleware" } else { "" }
                ),
            ));
                findings.extend(django::settings_findings(&s, plan.static_url.as_deref()));
                read.push("Django settings");
                Some(s)
            }
            None => None,
        };

    let static_url = plan
        .static_url
        .clone()
        .or_else(|| {
            django
                .as_ref()
                .and_then(|d| d.static_url.clone())
                .filter(|u| !u.contains("://"))
        })
        .map(|u| django::normalise_url(&u))
        .unwrap_or_else(|| DEFAULT_STATIC_URL.into());
    // Mount points and nginx's paths are absolute.
    let flag_root = plan
        .static_root
        .as_deref()
        .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()));
    let static_root: Option<PathBuf> = flag_root.or_else(|| {
        django
            .as_ref()
            .and_then(|d| d.static_root.clone())
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
    });
    inputs.push(("static url".into(), static_url.clone()));
    if let Some(r) = &static_root {
        inputs.push(("static root".into(), r.display().to_string()));
    }

    let (config, from) = match &plan.nginx {
        Some(NginxSource::File(p)) => (Some(read_config_file(p)?), p.display().to_string()),
        Some(NginxSource::Dump { text, label }) => {
            let c = Config::from_dump(text);
            if c.files.is_empty() {
                bail!("the {label} output holds no `# configuration file` section");
            }
            (Some(c), label.clone())
        }
        None => (None, String::new()),
    };
    if let Some(c) = &config {
        inputs.push((
            "nginx".into(),
            format!("{from}: {} file(s): {}", c.files.len(), c.files.join(", ")),
        ));
        for p in c.problems.iter().take(5) {
            inputs.push(("nginx problem".into(), p.to_string()));
        }
        let whitenoise = django.as_ref().is_some_and(|d| d.whitenoise_middleware);
        findings.extend(nginx::nginx_findings(
            c,
            &nginx::NginxFacts {
                static_url: &static_url,
                static_root: static_root.as_deref(),
                whitenoise,
            },
        ));
        read.push("nginx configuration");
    }

    if let Some(root) = &static_root {
        let expected = django.as_ref().is_some_and(DjangoSettings::uses_manifest);
        let name = django
            .as_ref()
            .and_then(|d| d.manifest_name.clone())
            .unwrap_or_else(|| "staticfiles.json".into());
        let (f, manifest, unhashed) = django::static_root_findings(root, expected, &name);
        findings.extend(f);
        if unhashed > 0 {
            inputs.push((
                "not hashed".into(),
                format!(
                    "{unhashed} hashed file(s) past the {} GiB hashing limit were not checked against their names",
                    django::MAX_HASHED_BYTES >> 30
                ),
            ));
        }
        read.push("STATIC_ROOT");
        if let Some(m) = &manifest {
            inputs.push(("manifest".into(), format!("{} entries", m.paths.len())));
            for other in &plan.compare_manifests {
                let theirs = django::read_manifest(other)
                    .with_context(|| format!("--compare-manifest {}", other.display()))?;
                findings.extend(django::compare_findings(m, &theirs, other));
            }
            for (label, bytes) in &plan.compare_manifest_documents {
                let theirs = interloper_assets::django::Manifest::parse(bytes)
                    .with_context(|| format!("--compare-manifest {label}"))?;
                findings.extend(django::compare_findings(m, &theirs, Path::new(label)));
            }
        } else if !plan.compare_manifests.is_empty() || !plan.compare_manifest_documents.is_empty()
        {
            bail!(
                "--compare-manifest needs this instance's manifest, and {} has none",
                root.display()
            );
        }

        // Permissions, for the user the workers run as: --user; else the running workers of
        // this configuration's nginx, when it runs here; else the `user` directive, else
        // nginx's default `nobody`.
        let passwd =
            std::fs::read_to_string(plan.passwd.as_deref().unwrap_or(Path::new("/etc/passwd")))
                .unwrap_or_default();
        let groups =
            std::fs::read_to_string(plan.group.as_deref().unwrap_or(Path::new("/etc/group")))
                .unwrap_or_default();
        let user_directive = config.as_ref().and_then(|c| c.main_last("user"));
        let running = match (&plan.user, &config) {
            (None, Some(c)) => c.files.first().and_then(|conf| {
                procs::nginx_worker(
                    plan.proc_root.as_deref().unwrap_or(Path::new("/proc")),
                    Path::new(conf),
                    &passwd,
                    &groups,
                )
            }),
            _ => None,
        };
        let (spec, group, from) = match (&plan.user, user_directive) {
            (Some(u), _) => (Some(u.clone()), None, "--user".to_string()),
            (None, Some(d)) => (
                d.arg(0).map(str::to_string),
                d.arg(1).map(str::to_string),
                format!("`user` at {}", d.at()),
            ),
            (None, None) if config.is_some() => {
                (Some("nobody".into()), None, "nginx's default user".into())
            }
            (None, None) => (None, None, String::new()),
        };
        let account = match (running, spec) {
            (Some(w), spec) => {
                let worker = format!("its running worker, pid {}", w.pid);
                if let Some(named) = spec
                    .as_deref()
                    .and_then(|s| perms::resolve_account(s, group.as_deref(), &passwd, &groups))
                    .filter(|n| n.uid != w.account.uid)
                {
                    inputs.push((
                        "nginx user".into(),
                        format!(
                            "{from} names {} (uid {}), but the workers run as {} (uid {}): a master not started as root ignores `user`",
                            named.name, named.uid, w.account.name, w.account.uid
                        ),
                    ));
                }
                Some((w.account, worker))
            }
            (None, Some(spec)) => {
                match perms::resolve_account(&spec, group.as_deref(), &passwd, &groups) {
                    Some(who) => Some((who, from)),
                    None => bail!(
                        "user {spec:?} ({from}) is not in /etc/passwd; give --user NAME or a numeric uid"
                    ),
                }
            }
            (None, None) => None,
        };
        if let Some((who, from)) = account {
            inputs.push((
                "web server user".into(),
                format!("{} (uid {}, {from})", who.name, who.uid),
            ));
            findings.extend(perms::permission_findings(root, &who, &from));
            read.push("permissions");
        }

        let mountinfo = plan
            .mountinfo
            .clone()
            .unwrap_or_else(|| PathBuf::from(PROC_MOUNTINFO));
        match std::fs::read_to_string(&mountinfo) {
            Ok(text) => {
                let mounts = mounts::parse_mountinfo(&text);
                findings.extend(mounts::mount_findings(
                    &mounts,
                    root,
                    &mountinfo.to_string_lossy(),
                ));
                read.push("mounts");
            }
            Err(e) if plan.mountinfo.is_some() => {
                return Err(
                    anyhow::Error::new(e).context(format!("--mountinfo {}", mountinfo.display()))
                );
            }
            Err(_) => {}
        }
    }
    let read = if read.is_empty() {
        "nothing: give --nginx-config, --static-root or --manage".to_string()
    } else {
        format!("read {}", read.join(", "))
    };
    Ok(LintOutcome {
        analysis: analyse_lint(findings, read),
        inputs,
        django,
    })
}
