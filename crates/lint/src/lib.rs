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
mod certs;
mod config;
pub mod django;
mod error;
mod finding;
pub mod mounts;
pub mod nginx;
pub mod perms;
pub mod process;
pub mod procs;

use std::path::{Path, PathBuf};

use interloper_findings::{Diagnosis, Finding, analyse_lint};
use interloper_nginxconf::Config;

pub use config::{MAX_CONFIG_BYTES, nginx_dump, read_config_file};
pub use django::{DjangoSettings, DjangoSource};
pub use error::LintError;

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
    /// PEM files of roots an `ssl_certificate` chain may end at besides the public ones (a
    /// private CA; `--private-root`): with any, a chain that does not reach them is IL621.
    pub declared_roots: Vec<PathBuf>,
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

/// What has been read and judged so far: the findings, the report's input lines, and the
/// names of what was read (for the verdict's basis).
#[derive(Default)]
struct Reading {
    findings: Vec<Finding>,
    inputs: Vec<(String, String)>,
    read: Vec<&'static str>,
}

impl Reading {
    fn input(&mut self, what: &str, value: String) {
        self.inputs.push((what.to_string(), value));
    }
}

/// Reads everything the plan names and judges it. An `Err` is an input error (a file that
/// cannot be read, settings that cannot be loaded); what is merely absent is skipped.
pub fn run_lint(plan: &LintPlan) -> Result<LintOutcome, LintError> {
    let mut reading = Reading::default();
    let django = match &plan.django {
        Some(source) => Some(judge_django(source, plan, &mut reading)?),
        None => None,
    };
    let static_url = static_url(plan, django.as_ref());
    let static_root = static_root(plan, django.as_ref());
    reading.input("static url", static_url.clone());
    if let Some(r) = &static_root {
        reading.input("static root", r.display().to_string());
    }

    let config = read_nginx(plan)?;
    if let Some((c, from)) = &config {
        judge_nginx(
            c,
            from,
            &static_url,
            static_root.as_deref(),
            django.as_ref(),
            &mut reading,
        );
    }
    if let Some((c, _)) = &config {
        judge_certificates(c, plan, &mut reading)?;
    }
    let config = config.map(|(c, _)| c);

    if let Some(root) = &static_root {
        judge_static_root(root, plan, django.as_ref(), &mut reading)?;
        if !cfg!(unix) {
            // No owner uid or mode bits to judge as nginx's worker would be judged.
            reading.input(
                "permissions",
                "not examined: ownership and permission bits are not on Windows".to_string(),
            );
        } else if let Some((who, from)) = worker_account(plan, config.as_ref(), &mut reading)? {
            reading.input(
                "web server user",
                format!("{} (uid {}, {from})", who.name, who.uid),
            );
            reading
                .findings
                .extend(perms::permission_findings(root, &who, &from));
            reading.read.push("permissions");
        }
        judge_mounts(root, plan, &mut reading)?;
    }
    let read = if reading.read.is_empty() {
        "nothing: give --nginx-config, --static-root or --manage".to_string()
    } else {
        format!("read {}", reading.read.join(", "))
    };
    Ok(LintOutcome {
        analysis: analyse_lint(reading.findings, read),
        inputs: reading.inputs,
        django,
    })
}

/// Reads Django's settings through the project's Python and judges them alone.
fn judge_django(
    source: &DjangoSource,
    plan: &LintPlan,
    reading: &mut Reading,
) -> Result<DjangoSettings, LintError> {
    let s = django::read_settings(source)?;
    reading.input(
        "django",
        format!(
            "Django {} with {}: STATIC_URL {:?}, STATIC_ROOT {:?}, storage {}, DEBUG {}{}",
            s.django,
            s.settings_module.as_deref().unwrap_or("?"),
            s.static_url.as_deref().unwrap_or(""),
            s.static_root.as_deref().unwrap_or(""),
            s.storage.as_deref().unwrap_or("?"),
            s.debug,
            if s.whitenoise_middleware {
                ", WhiteNoise middleware"
            } else {
                ""
            }
        ),
    );
    reading
        .findings
        .extend(django::settings_findings(&s, plan.static_url.as_deref()));
    reading.read.push("Django settings");
    Ok(s)
}

/// STATIC_URL's path: the flag, else Django's (unless it names another host), else
/// [`DEFAULT_STATIC_URL`].
fn static_url(plan: &LintPlan, django: Option<&DjangoSettings>) -> String {
    plan.static_url
        .clone()
        .or_else(|| {
            django
                .and_then(|d| d.static_url.clone())
                .filter(|u| !u.contains("://"))
        })
        .map(|u| django::normalise_url(&u))
        .unwrap_or_else(|| DEFAULT_STATIC_URL.into())
}

/// STATIC_ROOT: the flag (made absolute, as mount points and nginx's paths are), else Django's.
fn static_root(plan: &LintPlan, django: Option<&DjangoSettings>) -> Option<PathBuf> {
    let flag_root = plan
        .static_root
        .as_deref()
        .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()));
    flag_root.or_else(|| {
        django
            .and_then(|d| d.static_root.clone())
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
    })
}

/// nginx's configuration as the plan names it, with where it came from.
fn read_nginx(plan: &LintPlan) -> Result<Option<(Config, String)>, LintError> {
    match &plan.nginx {
        Some(NginxSource::File(p)) => Ok(Some((read_config_file(p)?, p.display().to_string()))),
        Some(NginxSource::Dump { text, label }) => {
            let c = Config::from_dump(text);
            if c.files.is_empty() {
                return Err(LintError::Nginx(format!(
                    "the {label} output holds no `# configuration file` section"
                )));
            }
            Ok(Some((c, label.clone())))
        }
        None => Ok(None),
    }
}

/// The configuration's rules for STATIC_URL, and what was read of it.
fn judge_nginx(
    config: &Config,
    from: &str,
    static_url: &str,
    static_root: Option<&Path>,
    django: Option<&DjangoSettings>,
    reading: &mut Reading,
) {
    reading.input(
        "nginx",
        format!(
            "{from}: {} file(s): {}",
            config.files.len(),
            config.files.join(", ")
        ),
    );
    for p in config.problems.iter().take(5) {
        reading.input("nginx problem", p.to_string());
    }
    let whitenoise = django.is_some_and(|d| d.whitenoise_middleware);
    let names_instances = django.is_some_and(|d| {
        d.middleware
            .iter()
            .any(|m| m == "interloper_django.middleware.ServerTimingMiddleware")
    });
    reading.findings.extend(nginx::nginx_findings(
        config,
        &nginx::NginxFacts {
            static_url,
            static_root,
            whitenoise,
            names_instances,
        },
    ));
    reading.read.push("nginx configuration");
}

/// The file behind each `ssl_certificate` against the public and declared roots (IL621).
fn judge_certificates(
    config: &Config,
    plan: &LintPlan,
    reading: &mut Reading,
) -> Result<(), LintError> {
    let mut declared = Vec::new();
    for file in &plan.declared_roots {
        let flag = format!("--private-root {}", file.display());
        let pem = std::fs::read(file).map_err(|source| {
            LintError::Read {
                what: file.display().to_string(),
                source,
            }
            .for_flag(flag.clone())
        })?;
        let certs = interloper_chain::certs_from_pem(&pem)
            .map_err(|e| LintError::Unusable(format!("{flag}: {e}")))?;
        declared.extend(certs);
    }
    let (declared, bad) = interloper_chain::Roots::from_der(&declared);
    if let Some(e) = bad.first() {
        return Err(LintError::Unusable(format!("--private-root: {e}")));
    }
    let judged = certs::certificate_findings(
        config,
        &certs::ChainRoots {
            public: interloper_chain::Roots::webpki(),
            declared,
        },
    );
    if judged.files > 0 {
        reading.input(
            "certificates",
            format!("{} ssl_certificate file(s) read", judged.files),
        );
        reading.read.push("certificate chains");
    }
    for line in judged.unread.iter().take(5) {
        reading.input("certificate not read", line.clone());
    }
    reading.findings.extend(judged.findings);
    Ok(())
}

/// STATIC_ROOT against its manifest, and that manifest against other instances'.
fn judge_static_root(
    root: &Path,
    plan: &LintPlan,
    django: Option<&DjangoSettings>,
    reading: &mut Reading,
) -> Result<(), LintError> {
    let expected = django.is_some_and(DjangoSettings::uses_manifest);
    let name = django
        .and_then(|d| d.manifest_name.clone())
        .unwrap_or_else(|| "staticfiles.json".into());
    let checked = django::static_root_findings(root, expected, &name);
    reading.findings.extend(checked.findings);
    if checked.unhashed > 0 {
        reading.input(
            "not hashed",
            format!(
                "{} hashed file(s) past the {} GiB hashing limit were not checked against their names",
                checked.unhashed,
                django::MAX_HASHED_BYTES >> 30
            ),
        );
    }
    reading.read.push("STATIC_ROOT");
    let Some(ours) = &checked.manifest else {
        if !plan.compare_manifests.is_empty() || !plan.compare_manifest_documents.is_empty() {
            return Err(LintError::Unusable(format!(
                "--compare-manifest needs this instance's manifest, and {} has none",
                root.display()
            )));
        }
        return Ok(());
    };
    reading.input("manifest", format!("{} entries", ours.paths.len()));
    for other in &plan.compare_manifests {
        let theirs = django::read_manifest(other)
            .map_err(|e| e.for_flag(format!("--compare-manifest {}", other.display())))?;
        reading
            .findings
            .extend(django::compare_findings(ours, &theirs, other));
    }
    for (label, bytes) in &plan.compare_manifest_documents {
        let theirs = interloper_assets::django::Manifest::parse(bytes).map_err(|source| {
            LintError::Manifest {
                what: format!("--compare-manifest {label}"),
                source,
            }
        })?;
        reading
            .findings
            .extend(django::compare_findings(ours, &theirs, Path::new(label)));
    }
    Ok(())
}

/// The account nginx's workers read files as, and how it was learned: --user; else the running
/// workers of this configuration's nginx, when it runs here; else the `user` directive, else
/// nginx's default `nobody`. None when neither a user nor a configuration was given.
fn worker_account(
    plan: &LintPlan,
    config: Option<&Config>,
    reading: &mut Reading,
) -> Result<Option<(perms::Account, String)>, LintError> {
    let passwd =
        std::fs::read_to_string(plan.passwd.as_deref().unwrap_or(Path::new("/etc/passwd")))
            .unwrap_or_default();
    let groups = std::fs::read_to_string(plan.group.as_deref().unwrap_or(Path::new("/etc/group")))
        .unwrap_or_default();
    let running = match (&plan.user, config) {
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
    let user_directive = config.and_then(|c| c.main_last("user"));
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
    let named = |spec: &str| perms::resolve_account(spec, group.as_deref(), &passwd, &groups);
    match (running, spec) {
        (Some(w), spec) => {
            // The workers' real user wins; a `user` that names another is said, as it is
            // what the reader of the configuration believes.
            if let Some(n) = spec
                .as_deref()
                .and_then(named)
                .filter(|n| n.uid != w.account.uid)
            {
                reading.input(
                    "nginx user",
                    format!(
                        "{from} names {} (uid {}), but the workers run as {} (uid {}): a master not started as root ignores `user`",
                        n.name, n.uid, w.account.name, w.account.uid
                    ),
                );
            }
            Ok(Some((
                w.account,
                format!("its running worker, pid {}", w.pid),
            )))
        }
        (None, Some(spec)) => match named(&spec) {
            Some(who) => Ok(Some((who, from))),
            None => Err(LintError::Unusable(format!(
                "user {spec:?} ({from}) is not in /etc/passwd; give --user NAME or a numeric uid"
            ))),
        },
        (None, None) => Ok(None),
    }
}

/// The mount table around STATIC_ROOT. A missing default table is skipped (not every system
/// has /proc); a table named by `--mountinfo` must be readable.
fn judge_mounts(root: &Path, plan: &LintPlan, reading: &mut Reading) -> Result<(), LintError> {
    let mountinfo = plan
        .mountinfo
        .clone()
        .unwrap_or_else(|| PathBuf::from(PROC_MOUNTINFO));
    match std::fs::read_to_string(&mountinfo) {
        Ok(text) => {
            let mounts = mounts::parse_mountinfo(&text);
            reading.findings.extend(mounts::mount_findings(
                &mounts,
                root,
                &mountinfo.to_string_lossy(),
            ));
            reading.read.push("mounts");
            Ok(())
        }
        Err(source) if plan.mountinfo.is_some() => Err(LintError::Read {
            what: format!("--mountinfo {}", mountinfo.display()),
            source,
        }),
        Err(_) => Ok(()),
    }
}
