//! `--json`, `--html` and `--fail-on`: how every diagnosing command writes its report and
//! which findings make it exit 1.
//!
//! Declared once and flattened into each command. What differs per command is the schema the
//! `--json` help names (a command sets it with `mut_arg("json", …)`) and whether the command
//! has an HTML page (`tls` has none, so it flattens [`JsonFailOn`] only).

use std::path::PathBuf;

use interloper_findings::Severity;

use super::parse;

/// `--json`, `--html FILE` and `--fail-on SEVERITY`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write the report as one self-contained HTML page to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Exit 1 when a finding is at or above this severity (info, warning, error, critical).
    #[arg(long, value_name = "SEVERITY", default_value = "warning", value_parser = parse::severity)]
    pub fail_on: Severity,
}

/// `--json` and `--fail-on SEVERITY`, for a command without an HTML page (`tls`).
#[derive(Debug, Clone, clap::Args)]
pub struct JsonFailOn {
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Exit 1 when a finding is at or above this severity (info, warning, error, critical).
    #[arg(long, value_name = "SEVERITY", default_value = "warning", value_parser = parse::severity)]
    pub fail_on: Severity,
}

impl From<JsonFailOn> for ReportArgs {
    fn from(a: JsonFailOn) -> ReportArgs {
        ReportArgs {
            json: a.json,
            html: None,
            fail_on: a.fail_on,
        }
    }
}
