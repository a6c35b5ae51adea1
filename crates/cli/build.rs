//! Build script: the facts `interloper --version` prints, so a bug report says what the user ran:
//! the git revision, the build date, the target and profile, and the date and size of the data
//! embedded in the binary (interception products, hello stacks). A source tree without git
//! (a tarball, a crate package) builds too: what git cannot say is "unknown".

use std::path::{Path, PathBuf};
use std::process::Command;

/// The embedded data files, each with the TOML table header that starts one entry and the
/// environment variable prefix its facts are passed under.
const DATA: [(&str, &str, &str); 2] = [
    ("interception-products.toml", "[[product]]", "PRODUCTS"),
    ("hello-stacks.toml", "[[stack]]", "STACKS"),
];

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let data_dir = manifest_dir.join("../../data");
    let revision = git(&manifest_dir, &["rev-parse", "--short=12", "HEAD"]);
    let revision_date = git(&manifest_dir, &["log", "-1", "--format=%cs", "HEAD"]);
    emit("REVISION", revision.as_deref().unwrap_or("unknown"));
    emit(
        "REVISION_DATE",
        revision_date.as_deref().unwrap_or("unknown"),
    );
    emit("DATE", &build_date());
    emit(
        "TARGET",
        &std::env::var("TARGET").unwrap_or_else(|_| "unknown".into()),
    );
    emit("PROFILE", &profile());
    for (file, entry_header, key) in DATA {
        let path = data_dir.join(file);
        println!("cargo:rerun-if-changed={}", path.display());
        let date = git(
            &manifest_dir,
            &["log", "-1", "--format=%cs", "--", &path.to_string_lossy()],
        );
        // A file changed since its last commit is newer than that commit: say so.
        let dirty = git_output(
            &manifest_dir,
            &["status", "--porcelain", "--", &path.to_string_lossy()],
        )
        .is_some_and(|status| !status.is_empty());
        let date = match (date, dirty) {
            (Some(date), false) => date,
            (Some(date), true) => format!("{date}+modified"),
            (None, _) => "unknown".into(),
        };
        let entries = std::fs::read_to_string(&path)
            .map(|text| {
                text.lines()
                    .filter(|l| l.trim() == entry_header)
                    .count()
                    .to_string()
            })
            .unwrap_or_else(|_| "unknown".into());
        emit(&format!("{key}_DATE"), &date);
        emit(&format!("{key}_ENTRIES"), &entries);
    }
    watch_git(&manifest_dir);
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
}

/// Pass one fact to the crate as `INTERLOPER_BUILD_{name}`.
fn emit(name: &str, value: &str) {
    println!("cargo:rustc-env=INTERLOPER_BUILD_{name}={value}");
}

/// The trimmed output of a git command run in `dir`, or `None` when git is missing, the tree
/// is not a repository or the command fails.
fn git_output(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    output.status.success().then(|| text.trim().to_owned())
}

/// `git_output`, where printing nothing is no answer either.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    git_output(dir, args).filter(|text| !text.is_empty())
}

/// Rebuild when HEAD moves: its file (this worktree's) and the ref it names (the shared
/// repository's, in a linked worktree).
fn watch_git(dir: &Path) {
    let Some(git_dir) = git(dir, &["rev-parse", "--absolute-git-dir"]) else {
        return;
    };
    println!("cargo:rerun-if-changed={git_dir}/HEAD");
    if let Some(reference) = git(dir, &["symbolic-ref", "-q", "HEAD"])
        && let Some(path) = git(
            dir,
            &[
                "rev-parse",
                "--path-format=absolute",
                "--git-path",
                &reference,
            ],
        )
    {
        println!("cargo:rerun-if-changed={path}");
    }
    if let Some(packed) = git(
        dir,
        &[
            "rev-parse",
            "--path-format=absolute",
            "--git-path",
            "packed-refs",
        ],
    ) {
        println!("cargo:rerun-if-changed={packed}");
    }
}

/// The build's date (UTC, YYYY-MM-DD): SOURCE_DATE_EPOCH's when set, for reproducible builds.
fn build_date() -> String {
    let seconds = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .or_else(|| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?;
            i64::try_from(now.as_secs()).ok()
        });
    seconds.map_or_else(|| "unknown".into(), civil_date)
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `civil_from_days`).
fn civil_date(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400) + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The Cargo profile's name (`dist`, `release`, `debug`): the directory above `build/` in
/// OUT_DIR, since PROFILE says only "release" or "debug".
fn profile() -> String {
    std::env::var_os("OUT_DIR")
        .and_then(|out| {
            let out = PathBuf::from(out);
            let name = out.ancestors().nth(3)?.file_name()?.to_str()?.to_owned();
            Some(name)
        })
        .unwrap_or_else(|| "unknown".into())
}
