//! Why `lint` could not read what it was asked to read: an input error, which the binary
//! reports in one line with exit code 2. What is merely absent is not an error (it is skipped).

use std::error::Error as _;

use interloper_assets::django::ManifestError;

use crate::process::ProcessError;

/// An input `run_lint` (or the readers it uses) could not read or run. Each variant's message
/// names the input once; the underlying cause, if any, is its `source()`, so `{:#}` prints
/// every part exactly once.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LintError {
    /// A file could not be opened or read.
    #[error("{what}")]
    Read {
        /// The file, or the flag and file (`--mountinfo PATH`).
        what: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file is larger than lint reads.
    #[error("{what}: larger than {} MiB", limit >> 20)]
    TooLarge {
        /// The file.
        what: String,
        /// The limit, in bytes.
        limit: u64,
    },
    /// A `staticfiles.json` that does not parse.
    #[error("{what}")]
    Manifest {
        /// Where it came from (a path, or `--compare-manifest URL`).
        what: String,
        /// Why.
        #[source]
        source: ManifestError,
    },
    /// A program lint runs (`nginx -T`, the project's Python) could not run to its end.
    #[error("running {what}")]
    Run {
        /// The command, as the user would write it.
        what: String,
        /// Why.
        #[source]
        source: ProcessError,
    },
    /// nginx refused its configuration, or what was given as `nginx -T` output holds none.
    #[error("{0}")]
    Nginx(String),
    /// The project's Python ran but could not load the Django settings.
    #[error("{0}")]
    Django(String),
    /// The settings script's answer is not the JSON it prints.
    #[error("reading the settings script's answer")]
    SettingsAnswer(#[source] serde_json::Error),
    /// The inputs cannot be judged as given (an unknown user, a comparison without a manifest
    /// of our own), with what to give instead.
    #[error("{0}")]
    Unusable(String),
    /// An error of the input a flag named, prefixed with the flag.
    #[error("{flag}")]
    Flag {
        /// The flag and its value (`--compare-manifest PATH`).
        flag: String,
        /// The error reading it.
        #[source]
        source: Box<LintError>,
    },
}

impl LintError {
    /// The error prefixed with the flag that named its input.
    pub(crate) fn for_flag(self, flag: String) -> LintError {
        LintError::Flag {
            flag,
            source: Box::new(self),
        }
    }

    /// The message and every cause, joined by `: ` (as `{:#}` prints them through anyhow),
    /// for a finding that quotes the error.
    pub(crate) fn with_causes(&self) -> String {
        let mut text = self.to_string();
        let mut cause = self.source();
        while let Some(c) = cause {
            text.push_str(": ");
            text.push_str(&c.to_string());
            cause = c.source();
        }
        text
    }
}
