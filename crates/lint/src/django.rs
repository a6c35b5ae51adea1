//! Django: its static settings, read by the project's own Python, and the manifest
//! collectstatic wrote, checked file by file.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use interloper_assets::django::{HashedName, MAX_MANIFEST_BYTES, Manifest};
use interloper_findings::{Code, Finding};
use md5::{Digest as _, Md5};
use serde::{Deserialize, Serialize};

use crate::LintError;
use crate::finding::LintFinding;
use crate::process::run_with_time_and_output_limits;

/// The script run with the project's settings. Read-only: it imports the settings, runs
/// `django.setup()` (as every manage.py command does) and prints one JSON line.
pub const SETTINGS_SCRIPT: &str = r#"
import json, os, sys
sys.path.insert(0, os.getcwd())
import django
from django.conf import settings
django.setup()
def get(name, default=None):
    return getattr(settings, name, default)
storages = get("STORAGES") or {}
backend = None
if isinstance(storages, dict):
    backend = (storages.get("staticfiles") or {}).get("BACKEND")
if not backend:
    backend = get("STATICFILES_STORAGE")
manifest_name = None
try:
    from django.contrib.staticfiles.storage import staticfiles_storage
    manifest_name = getattr(staticfiles_storage, "manifest_name", None)
    if not backend:
        backend = type(staticfiles_storage).__module__ + "." + type(staticfiles_storage).__name__
except Exception:
    pass
apps = [str(a) for a in (get("INSTALLED_APPS") or [])]
middleware = [str(m) for m in (get("MIDDLEWARE") or [])]
out = {
    "django": django.get_version(),
    "settings_module": os.environ.get("DJANGO_SETTINGS_MODULE"),
    "static_url": None if get("STATIC_URL") is None else str(get("STATIC_URL")),
    "static_root": None if get("STATIC_ROOT") is None else os.fspath(get("STATIC_ROOT")),
    "storage": backend,
    "manifest_name": manifest_name,
    "debug": bool(get("DEBUG")),
    "staticfiles_app": "django.contrib.staticfiles" in apps,
    "whitenoise_app": any(a.startswith("whitenoise") for a in apps),
    "whitenoise_middleware": any(m.startswith("whitenoise.") for m in middleware),
    "middleware": middleware,
    "whitenoise_settings": {k: repr(getattr(settings, k)) for k in dir(settings) if k.startswith("WHITENOISE_")},
}
print("INTERLOPER-LINT " + json.dumps(out))
"#;

/// How long the settings script may run.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(60);
/// Output kept from the script (stdout and stderr each).
const OUTPUT_LIMIT: u64 = 1 << 20;
/// Bytes hashed at most when checking hashed names against their content.
pub const MAX_HASHED_BYTES: u64 = 4 << 30;

/// What the settings script prints (documented in docs/lint.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DjangoSettings {
    /// `django.get_version()`.
    pub django: String,
    /// DJANGO_SETTINGS_MODULE used.
    pub settings_module: Option<String>,
    /// STATIC_URL.
    pub static_url: Option<String>,
    /// STATIC_ROOT.
    pub static_root: Option<String>,
    /// The staticfiles storage backend (STORAGES["staticfiles"] or STATICFILES_STORAGE).
    pub storage: Option<String>,
    /// The storage's manifest_name (`staticfiles.json`).
    pub manifest_name: Option<String>,
    /// DEBUG.
    pub debug: bool,
    /// `django.contrib.staticfiles` in INSTALLED_APPS.
    pub staticfiles_app: bool,
    /// A `whitenoise…` app in INSTALLED_APPS.
    pub whitenoise_app: bool,
    /// WhiteNoise's middleware in MIDDLEWARE.
    pub whitenoise_middleware: bool,
    /// MIDDLEWARE.
    pub middleware: Vec<String>,
    /// Every `WHITENOISE_*` setting, as Python's repr.
    pub whitenoise_settings: BTreeMap<String, String>,
}

impl DjangoSettings {
    /// Whether the storage keeps a manifest (Manifest…, CompressedManifest…).
    pub fn uses_manifest(&self) -> bool {
        self.storage
            .as_deref()
            .is_some_and(|s| s.contains("Manifest"))
    }
}

/// Where the project's settings come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DjangoSource {
    /// `--manage PATH/manage.py` (the settings module is read from it, or from
    /// DJANGO_SETTINGS_MODULE when set), run with `python`.
    Manage {
        /// manage.py.
        manage: PathBuf,
        /// The project's Python.
        python: PathBuf,
    },
    /// `--python PATH --settings MOD`, run in `dir`.
    Settings {
        /// The project's Python.
        python: PathBuf,
        /// The settings module.
        settings: String,
        /// Where the module is importable from.
        dir: PathBuf,
    },
}

/// The settings module manage.py sets as default.
fn settings_from_manage(text: &str) -> Option<String> {
    let at = text.find("DJANGO_SETTINGS_MODULE")?;
    let rest = &text[at + "DJANGO_SETTINGS_MODULE".len()..];
    let rest = rest.trim_start_matches(['\'', '"']).trim_start();
    let rest = rest.strip_prefix(',')?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let inner = &rest[1..];
    let end = inner.find(quote)?;
    Some(inner[..end].to_string())
}

/// The project's Python, the directory the settings import from, and the settings module.
fn script_inputs(source: &DjangoSource) -> Result<(PathBuf, PathBuf, String), LintError> {
    match source {
        DjangoSource::Manage { manage, python } => {
            let text = std::fs::read_to_string(manage).map_err(|source| LintError::Read {
                what: format!("--manage {}", manage.display()),
                source,
            })?;
            let settings = std::env::var("DJANGO_SETTINGS_MODULE")
                .ok()
                .filter(|s| !s.is_empty())
                .or_else(|| settings_from_manage(&text))
                .ok_or_else(|| {
                    LintError::Django(format!(
                        "{}: no DJANGO_SETTINGS_MODULE default in it; give --settings",
                        manage.display()
                    ))
                })?;
            let dir = manage
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf();
            Ok((python.clone(), dir, settings))
        }
        DjangoSource::Settings {
            python,
            settings,
            dir,
        } => Ok((python.clone(), dir.clone(), settings.clone())),
    }
}

/// Runs the settings script with the project's Python and reads its answer.
pub fn read_settings(source: &DjangoSource) -> Result<DjangoSettings, LintError> {
    let (python, dir, settings) = script_inputs(source)?;
    let mut cmd = Command::new(&python);
    cmd.arg("-c")
        .arg(SETTINGS_SCRIPT)
        .current_dir(&dir)
        .env("DJANGO_SETTINGS_MODULE", &settings)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let done = run_with_time_and_output_limits(&mut cmd, SCRIPT_TIMEOUT, OUTPUT_LIMIT).map_err(
        |source| LintError::Run {
            what: format!("{} with settings {settings}", python.display()),
            source,
        },
    )?;
    let line = done
        .stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("INTERLOPER-LINT "));
    match (done.success, line) {
        (true, Some(json)) => serde_json::from_str(json).map_err(LintError::SettingsAnswer),
        _ => {
            let last = done
                .stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no output");
            Err(LintError::Django(format!(
                "the project's Python could not load settings {settings} in {}: {last}",
                dir.display()
            )))
        }
    }
}

/// Findings from the settings alone: DEBUG, STATIC_ROOT unset, STATIC_URL not the one nginx
/// is checked for.
pub fn settings_findings(s: &DjangoSettings, static_url_flag: Option<&str>) -> Vec<Finding> {
    let mut out = Vec::new();
    let module = s
        .settings_module
        .clone()
        .unwrap_or_else(|| "settings".into());
    if s.debug {
        out.push(
            LintFinding::new(Code::IL617, format!("DEBUG is True in {module}."))
                .at(module.clone())
                .fix(format!("set DEBUG = False in {module} (for production)"))
                .build(),
        );
    }
    if s.static_root.as_deref().is_none_or(str::is_empty) {
        out.push(
            LintFinding::new(
                Code::IL611,
                format!("STATIC_ROOT is not set in {module}: collectstatic has nowhere to write."),
            )
            .at(module.clone())
            .fix(format!(
                "set STATIC_ROOT = BASE_DIR / \"staticfiles\" in {module} and run collectstatic"
            ))
            .build(),
        );
    }
    out.extend(whitenoise_findings(s, &module));
    if let (Some(flag), Some(url)) = (static_url_flag, s.static_url.as_deref())
        && normalise_url(flag) != normalise_url(url)
    {
        out.push(
            LintFinding::new(
                Code::IL612,
                format!("STATIC_URL is {url:?} in {module}, but --static-url is {flag:?}: pages link to another prefix than the one checked."),
            )
            .at(module.clone())
            .fix(format!("make STATIC_URL and the nginx location the same (STATIC_URL = {flag:?})"))
            .build(),
        );
    }
    out
}

/// WhiteNoise's middleware position and its development-only settings in production.
fn whitenoise_findings(s: &DjangoSettings, module: &str) -> Vec<Finding> {
    const SECURITY: &str = "django.middleware.security.SecurityMiddleware";
    const INTERLOPER_MIDDLEWARE: &str = "interloper_django.middleware.ServerTimingMiddleware";
    let Some(at) = s
        .middleware
        .iter()
        .position(|m| m.starts_with("whitenoise."))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    // What may come before WhiteNoise: SecurityMiddleware, and interloper-django's middleware,
    // which only adds Server-Timing and must sit above WhiteNoise to see its answers.
    let before: Vec<&str> = s.middleware[..at]
        .iter()
        .filter(|m| *m != SECURITY && *m != INTERLOPER_MIDDLEWARE)
        .map(String::as_str)
        .collect();
    if !before.is_empty() {
        let mut f = LintFinding::new(
            Code::IL620,
            format!(
                "WhiteNoise's middleware is at position {} of MIDDLEWARE in {module}, after {}.",
                at + 1,
                before.join(", ")
            ),
        )
        .at(module.to_string());
        for (i, m) in s.middleware.iter().enumerate().take(12) {
            f = f.stat(format!("MIDDLEWARE[{i}]"), m.clone());
        }
        out.push(
            f.fix(format!(
                "in {module}, move \"{}\" to directly after \"{SECURITY}\"",
                s.middleware[at]
            ))
            .build(),
        );
    }
    if !s.debug {
        for name in ["WHITENOISE_AUTOREFRESH", "WHITENOISE_USE_FINDERS"] {
            if s.whitenoise_settings.get(name).is_some_and(|v| v == "True") {
                out.push(
                    LintFinding::new(
                        Code::IL620,
                        format!("{name} = True in {module} with DEBUG off: every static request looks the file up again."),
                    )
                    .at(module.to_string())
                    .fix(format!("remove {name} from {module} (or set it False)"))
                    .build(),
                );
            }
        }
    }
    out
}

/// `/static/` for `static/`, `/static`, `/static/`.
pub fn normalise_url(url: &str) -> String {
    let t = url.trim_matches('/');
    if t.is_empty() {
        "/".into()
    } else {
        format!("/{t}/")
    }
}

fn md5_file(path: &Path, budget: &mut u64) -> std::io::Result<Option<String>> {
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    if len > *budget {
        return Ok(None);
    }
    *budget -= len;
    let mut h = Md5::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(Some(hex::encode(h.finalize())))
}

/// Every file under `root`, relative, `/`-separated (at most [`crate::perms::MAX_ENTRIES`]).
fn files_under(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            if out.len() >= crate::perms::MAX_ENTRIES {
                return out;
            }
            let p = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(p),
                Ok(_) => {
                    if let Ok(rel) = p.strip_prefix(root) {
                        out.push(rel.to_string_lossy().replace('\\', "/"));
                    }
                }
                Err(_) => {}
            }
        }
    }
    out.sort();
    out
}

/// Reads a manifest file (bounded).
pub fn read_manifest(path: &Path) -> Result<Manifest, LintError> {
    let what = || path.display().to_string();
    let read_error = |source| LintError::Read {
        what: what(),
        source,
    };
    let f = std::fs::File::open(path).map_err(read_error)?;
    let mut bytes = Vec::new();
    f.take(MAX_MANIFEST_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    Manifest::parse(&bytes).map_err(|source| LintError::Manifest {
        what: what(),
        source,
    })
}

const EXAMPLES: usize = 10;

/// What checking STATIC_ROOT found.
#[derive(Debug, Clone, Default)]
pub struct StaticRootCheck {
    /// The findings, in the order the checks ran.
    pub findings: Vec<Finding>,
    /// The manifest, when it was read.
    pub manifest: Option<Manifest>,
    /// Hashed files not hashed because [`MAX_HASHED_BYTES`] was spent.
    pub unhashed: usize,
}

/// STATIC_ROOT's own findings: missing or empty; then, when a manifest is expected or present,
/// whether it parses, every hashed file exists with the content its name promises, and which
/// files it does not know.
pub fn static_root_findings(
    root: &Path,
    manifest_expected: bool,
    manifest_name: &str,
) -> StaticRootCheck {
    let shown = root.display().to_string();
    let finding_only = |f: Finding| StaticRootCheck {
        findings: vec![f],
        ..StaticRootCheck::default()
    };
    if !root.is_dir() {
        return finding_only(
            LintFinding::new(Code::IL611, format!("STATIC_ROOT {shown} does not exist."))
                .at(shown.clone())
                .fix(format!(
                    "run `manage.py collectstatic --noinput` so it creates {shown}"
                ))
                .build(),
        );
    }
    let files = files_under(root);
    if files.is_empty() {
        return finding_only(
            LintFinding::new(Code::IL611, format!("STATIC_ROOT {shown} holds no file."))
                .at(shown.clone())
                .fix("run `manage.py collectstatic --noinput`")
                .build(),
        );
    }
    let manifest_path = root.join(manifest_name);
    if !manifest_path.exists() {
        return StaticRootCheck {
            findings: manifest_expected
                .then(|| {
                    LintFinding::new(
                        Code::IL613,
                        format!(
                            "{} does not exist, and the storage needs it.",
                            manifest_path.display()
                        ),
                    )
                    .at(manifest_path.display().to_string())
                    .fix("run `manage.py collectstatic --noinput`")
                    .build()
                })
                .into_iter()
                .collect(),
            ..StaticRootCheck::default()
        };
    }
    let manifest = match read_manifest(&manifest_path) {
        Ok(m) => m,
        Err(e) => {
            return finding_only(
                LintFinding::new(Code::IL613, e.with_causes())
                    .at(manifest_path.display().to_string())
                    .fix("run `manage.py collectstatic --noinput` to write it again")
                    .build(),
            );
        }
    };
    let hashed = check_hashed_files(root, &manifest);
    let mut findings = Vec::new();
    findings.extend(missing_finding(root, &manifest, &hashed.missing));
    findings.extend(mismatch_finding(root, &hashed));
    findings.extend(unknown_finding(root, &manifest, manifest_name, &files));
    StaticRootCheck {
        findings,
        manifest: Some(manifest),
        unhashed: hashed.unhashed,
    }
}

/// The manifest's hashed files against the disk.
struct HashedFiles {
    /// Named by the manifest, not in STATIC_ROOT.
    missing: Vec<String>,
    /// (hashed name, the first 12 hex digits of its content's md5) where they differ.
    mismatched: Vec<(String, String)>,
    /// Not hashed: past [`MAX_HASHED_BYTES`].
    unhashed: usize,
}

/// Whether every hashed file the manifest names exists, with the content its name promises.
fn check_hashed_files(root: &Path, manifest: &Manifest) -> HashedFiles {
    let mut out = HashedFiles {
        missing: Vec::new(),
        mismatched: Vec::new(),
        unhashed: 0,
    };
    let mut budget = MAX_HASHED_BYTES;
    for hashed in manifest.paths.values() {
        let path = root.join(hashed);
        if !path.is_file() {
            out.missing.push(hashed.clone());
            continue;
        }
        let Some(name) = HashedName::parse(hashed) else {
            continue;
        };
        match md5_file(&path, &mut budget) {
            Ok(Some(digest)) if !digest.starts_with(&name.hash) => {
                out.mismatched
                    .push((hashed.clone(), digest[..12].to_string()));
            }
            Ok(None) => out.unhashed += 1,
            _ => {}
        }
    }
    out
}

/// IL614: hashed files the manifest names that are not there.
fn missing_finding(root: &Path, manifest: &Manifest, missing: &[String]) -> Option<Finding> {
    let first = missing.first()?;
    let mut f = LintFinding::new(
        Code::IL614,
        format!(
            "{} of the {} hashed files staticfiles.json names are not in {}, e.g. {first}.",
            missing.len(),
            manifest.paths.len(),
            root.display()
        ),
    )
    .at(root.join(first).display().to_string());
    for m in missing.iter().take(EXAMPLES) {
        f = f.stat("missing", root.join(m).display().to_string());
    }
    Some(
        f.fix("run `manage.py collectstatic --noinput` where nginx reads the files")
            .build(),
    )
}

/// IL615: hashed files whose content is not what their name promises.
fn mismatch_finding(root: &Path, hashed: &HashedFiles) -> Option<Finding> {
    let (first, first_hash) = hashed.mismatched.first()?;
    let mut f = LintFinding::new(
        Code::IL615,
        format!(
            "{} hashed file(s) have content whose md5 does not start with the hash in their name, e.g. {first} (content hash {first_hash}).",
            hashed.mismatched.len(),
        ),
    )
    .at(root.join(first).display().to_string());
    for (m, h) in hashed.mismatched.iter().take(EXAMPLES) {
        f = f.stat(
            root.join(m).display().to_string(),
            format!("content md5[:12] is {h}"),
        );
    }
    if hashed.unhashed > 0 {
        f = f.stat(
            "not hashed",
            format!(
                "{} file(s) past the {} GiB hashing limit",
                hashed.unhashed,
                MAX_HASHED_BYTES >> 30
            ),
        );
    }
    Some(
        f.fix("run `manage.py collectstatic --noinput --clear`")
            .build(),
    )
}

/// IL616: files the manifest does not know — neither a name nor a hashed name in it, nor their
/// compressed copies (WhiteNoise and django-compressor write `.gz` and `.br`).
fn unknown_finding(
    root: &Path,
    manifest: &Manifest,
    manifest_name: &str,
    files: &[String],
) -> Option<Finding> {
    let known: BTreeSet<&str> = manifest
        .paths
        .keys()
        .chain(manifest.paths.values())
        .map(String::as_str)
        .collect();
    let is_known = |f: &str| {
        f == manifest_name
            || known.contains(f)
            || [".gz", ".br"]
                .iter()
                .any(|ext| f.strip_suffix(ext).is_some_and(|b| known.contains(b)))
    };
    let unknown: Vec<&String> = files.iter().filter(|f| !is_known(f)).collect();
    let first = unknown.first()?;
    let older = unknown
        .iter()
        .filter(|f| HashedName::parse(f).is_some_and(|h| manifest.paths.contains_key(&h.original)))
        .count();
    let mut f = LintFinding::new(
        Code::IL616,
        format!(
            "{} file(s) in {} are not in staticfiles.json ({older} of them other hashed versions of files it lists), e.g. {first}.",
            unknown.len(),
            root.display()
        ),
    )
    .at(root.join(first).display().to_string());
    for u in unknown.iter().take(EXAMPLES) {
        f = f.stat("unknown", root.join(u).display().to_string());
    }
    Some(
        f.fix("run `manage.py collectstatic --noinput --clear`")
            .build(),
    )
}

/// This instance's manifest against another's: the entries whose hashed names differ.
pub fn compare_findings(ours: &Manifest, other: &Manifest, other_path: &Path) -> Vec<Finding> {
    let mut differ: Vec<String> = Vec::new();
    for (name, hashed) in &ours.paths {
        match other.paths.get(name) {
            Some(h) if h == hashed => {}
            Some(h) => differ.push(format!("{name}: {hashed} here, {h} there")),
            None => differ.push(format!("{name}: only here")),
        }
    }
    for name in other.paths.keys().filter(|k| !ours.paths.contains_key(*k)) {
        differ.push(format!("{name}: only there"));
    }
    if differ.is_empty() {
        return Vec::new();
    }
    let mut f = LintFinding::new(
        Code::IL619,
        format!(
            "{} entries differ between this manifest and {}.",
            differ.len(),
            other_path.display()
        ),
    )
    .at(other_path.display().to_string());
    for d in differ.iter().take(EXAMPLES) {
        f = f.stat("differs", d.clone());
    }
    vec![
        f.fix("deploy the same collectstatic output to every instance")
            .build(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_module_is_read_from_manage_py() {
        let text =
            "def main():\n    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')\n";
        assert_eq!(
            settings_from_manage(text).as_deref(),
            Some("mysite.settings")
        );
        assert_eq!(settings_from_manage("nothing"), None);
        assert_eq!(normalise_url("static"), "/static/");
    }

    #[test]
    fn whitenoise_below_other_middleware_or_autorefreshing_is_named() {
        let mut s = DjangoSettings {
            django: "5.2".into(),
            settings_module: Some("site.settings".into()),
            static_url: Some("/static/".into()),
            static_root: Some("/srv/static".into()),
            storage: None,
            manifest_name: None,
            debug: false,
            staticfiles_app: true,
            whitenoise_app: false,
            whitenoise_middleware: true,
            middleware: vec![
                "django.middleware.security.SecurityMiddleware".into(),
                "whitenoise.middleware.WhiteNoiseMiddleware".into(),
                "django.contrib.sessions.middleware.SessionMiddleware".into(),
            ],
            whitenoise_settings: BTreeMap::new(),
        };
        assert!(whitenoise_findings(&s, "site.settings").is_empty());
        // interloper-django's header middleware above WhiteNoise is where it belongs.
        s.middleware.insert(
            0,
            "interloper_django.middleware.ServerTimingMiddleware".into(),
        );
        assert!(whitenoise_findings(&s, "site.settings").is_empty());
        s.middleware.remove(0);
        s.middleware.swap(1, 2);
        s.whitenoise_settings
            .insert("WHITENOISE_AUTOREFRESH".into(), "True".into());
        let f = whitenoise_findings(&s, "site.settings");
        assert_eq!(f.len(), 2);
        assert!(
            f[0].summary.contains("SessionMiddleware"),
            "{}",
            f[0].summary
        );
        assert!(f[1].summary.contains("WHITENOISE_AUTOREFRESH"));
    }

    #[test]
    fn a_manifest_is_checked_file_by_file() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path();
        let css = b"body{}";
        let hash = &interloper_assets::django::content_hash(css);
        std::fs::create_dir_all(root.join("css")).expect("mkdir");
        std::fs::write(root.join("css/site.css"), css).expect("w");
        std::fs::write(root.join(format!("css/site.{hash}.css")), css).expect("w");
        std::fs::write(root.join("css/old.0123456789ab.css"), css).expect("w");
        std::fs::write(root.join("js.0123456789ab.js"), b"x").expect("w");
        let manifest = format!(
            "{{\"paths\": {{\"css/site.css\": \"css/site.{hash}.css\", \"js.js\": \"js.0123456789ab.js\", \"gone.css\": \"gone.0123456789ab.css\"}}, \"version\": \"1.1\"}}"
        );
        std::fs::write(root.join("staticfiles.json"), manifest).expect("w");
        let checked = static_root_findings(root, true, "staticfiles.json");
        assert!(checked.manifest.is_some());
        let f = checked.findings;
        let codes: Vec<Code> = f.iter().map(|f| f.code).collect();
        assert_eq!(codes, vec![Code::IL614, Code::IL615, Code::IL616]);
        assert!(f[0].summary.contains("gone.0123456789ab.css"));
        assert!(f[1].summary.contains("js.0123456789ab.js"));
        assert!(f[2].summary.contains("css/old.0123456789ab.css"));
        let none = static_root_findings(&root.join("nope"), true, "staticfiles.json");
        assert_eq!(none.findings[0].code, Code::IL611);
    }
}
