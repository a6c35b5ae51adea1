//! Project data kept beside the repository, in `../shared` (conformance captures and their
//! reference outputs), which a user's clone does not have.
//!
//! A test that reads it asks [`shared_dir`]: present, it gets the path; absent, it is skipped
//! with one line saying so and passes, unless `INTERLOPER_REQUIRE_SHARED=1` (set by `.ci/run`,
//! where the data is always laid beside the clone), which makes the absence a failure.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Set to `1` to fail, rather than skip, a test whose shared data is missing.
pub const REQUIRE_SHARED: &str = "INTERLOPER_REQUIRE_SHARED";
/// Where the shared directory is, when not `../shared` beside the workspace.
pub const SHARED_DIR: &str = "INTERLOPER_SHARED";

/// The shared directory: `$INTERLOPER_SHARED`, or `shared` beside the workspace root.
pub fn shared_root() -> PathBuf {
    match std::env::var_os(SHARED_DIR) {
        Some(dir) => PathBuf::from(dir),
        // This crate is <workspace>/crates/testkit; the data sits beside <workspace>.
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(3)
            .unwrap_or(Path::new("/"))
            .join("shared"),
    }
}

/// `relative` inside the shared directory, if it is there. When it is not: `None` after one
/// line on stderr naming `test` and the path; a panic instead when `INTERLOPER_REQUIRE_SHARED`
/// is `1`.
#[track_caller]
pub fn shared_dir(relative: &str, test: &str) -> Option<PathBuf> {
    let required = std::env::var_os(REQUIRE_SHARED).is_some_and(|v| v == "1");
    match lookup(shared_root().join(relative), required) {
        Lookup::Present(dir) => Some(dir),
        Lookup::Skip(why) => {
            skipped(test, &why);
            None
        }
        Lookup::Fail(why) => panic!("{test}: {why}"),
    }
}

#[derive(Debug, PartialEq)]
enum Lookup {
    Present(PathBuf),
    Skip(String),
    Fail(String),
}

fn lookup(dir: PathBuf, required: bool) -> Lookup {
    if dir.is_dir() {
        Lookup::Present(dir)
    } else if required {
        Lookup::Fail(format!(
            "{} is missing and {REQUIRE_SHARED}=1 requires it (lay the project's shared \
             directory beside the clone, or point {SHARED_DIR} at it)",
            dir.display()
        ))
    } else {
        Lookup::Skip(format!(
            "{} is absent (project data kept beside the repository, not part of a clone; set \
             {SHARED_DIR}=DIR to use a copy, {REQUIRE_SHARED}=1 to make this a failure)",
            dir.display()
        ))
    }
}

/// Says on stderr, past the test harness's capture so it shows on a passing run, that `test`
/// (or a part of it) was skipped and why.
pub fn skipped(test: &str, why: &str) {
    let _ = writeln!(std::io::stderr().lock(), "skipped {test}: {why}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_present_directory_is_used_and_an_absent_one_skipped_unless_required() {
        let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        assert_eq!(lookup(here.clone(), true), Lookup::Present(here.clone()));
        let absent = here.join("no/such/directory");
        let Lookup::Skip(why) = lookup(absent.clone(), false) else {
            panic!("not skipped");
        };
        assert!(
            why.contains("no/such/directory") && why.contains(REQUIRE_SHARED),
            "{why}"
        );
        assert!(matches!(lookup(absent, true), Lookup::Fail(why) if why.contains("missing")));
    }
}
