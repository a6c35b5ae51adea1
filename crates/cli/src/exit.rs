//! The exit status, decided here for every command (documented in `main.rs`, the README and
//! docs/cli.md; keep the three in step with this enum).

use std::process::ExitCode;

use interloper_findings::{Finding, Severity};

/// What a run of `interloper` amounts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: the command ran and found nothing wrong: no finding at or above `--fail-on`
    /// (`check`, `logs`, `har`, `visits`, `lint`, `pcap`, `demo`; `tls`: by default every chain
    /// clean), every request succeeded (`probe`); or it did what was asked (`pin`, `completions`, `man`, `--help`, a server
    /// stopped by Ctrl-C or SIGTERM), or stdout was closed early (`| head`).
    Clean,
    /// 1: the command ran and found a problem: a finding at or above `--fail-on`, a failed
    /// request, a chain that is not clean (including one that could not be fetched).
    Problems,
    /// 2: usage or input error: a bad flag or value, an unreadable or malformed file (for
    /// `pcap`: not pcap/pcapng, or every packet of a link type it does not read), a URL
    /// that is not http(s), a port that cannot be bound, a server whose chain `pin` cannot
    /// get. Nothing was judged.
    Error,
    /// 3: incomplete: the command ran but could not examine what it was asked to (`check`,
    /// `demo`: the page or a stylesheet did not decode, was over the size limit, redirected
    /// in a loop, was an error page or not HTML — IL310), and found no problem at or above
    /// `--fail-on` in what it could examine (problems win: 1).
    Incomplete,
}

impl Exit {
    /// The process exit status.
    pub fn code(self) -> u8 {
        match self {
            Exit::Clean => 0,
            Exit::Problems => 1,
            Exit::Error => 2,
            Exit::Incomplete => 3,
        }
    }

    /// `Problems` when `problems`, else `Clean`.
    pub fn problems_if(problems: bool) -> Exit {
        if problems {
            Exit::Problems
        } else {
            Exit::Clean
        }
    }

    /// `Problems` when the worst finding is at or above `fail_on`.
    pub fn from_findings(worst: Option<Severity>, fail_on: Severity) -> Exit {
        Exit::problems_if(worst.is_some_and(|s| s >= fail_on))
    }

    /// `Problems` when a problem (not mere incompleteness) is at or above `fail_on`; else
    /// `Incomplete` when part of what was asked could not be examined; else `Clean`.
    pub fn from_diagnosed(findings: &[Finding], fail_on: Severity) -> Exit {
        if interloper_findings::fails_at(findings, fail_on) {
            Exit::Problems
        } else if interloper_findings::is_incomplete(findings) {
            Exit::Incomplete
        } else {
            Exit::Clean
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_0_1_2_3() {
        assert_eq!(
            [Exit::Clean, Exit::Problems, Exit::Error, Exit::Incomplete].map(Exit::code),
            [0, 1, 2, 3]
        );
    }

    #[test]
    fn findings_at_or_above_the_threshold_are_problems() {
        let w = Severity::Warning;
        assert_eq!(Exit::from_findings(None, w), Exit::Clean);
        assert_eq!(Exit::from_findings(Some(Severity::Info), w), Exit::Clean);
        assert_eq!(Exit::from_findings(Some(w), w), Exit::Problems);
        assert_eq!(
            Exit::from_findings(Some(Severity::Critical), w),
            Exit::Problems
        );
    }
}
