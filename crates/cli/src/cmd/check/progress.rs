//! What a running check shows on stderr (`--progress`): bars on a terminal, one line per change
//! for logs and CI, or one JSON object per event (docs/cli.md, "Progress"). Each target's line
//! says its stage or what its sequential test still has open, and — the moment it is seen —
//! decisive TLS evidence ("app4: TLS inspection (Fortinet FortiGate); timing: 3 stalls in 41 —
//! deciding").

use std::io::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use interloper_check::{CheckObserver, DecisiveTls};

/// `--progress`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ProgressMode {
    /// Bars when stderr is a terminal, nothing otherwise.
    #[default]
    Auto,
    /// One line per change of a target's state (for logs and CI).
    Lines,
    /// One JSON object per line and event (docs/cli.md).
    Json,
    /// Nothing.
    None,
}

/// How the events are drawn.
enum Sink {
    Bars(Vec<ProgressBar>),
    Lines,
    Json,
    Hidden,
}

/// What one target's line says: its stage or sequential state, after the TLS evidence.
#[derive(Default)]
struct TargetLine {
    tls: Option<String>,
    state: String,
}

impl TargetLine {
    fn text(&self, url: &str) -> String {
        match &self.tls {
            Some(tls) if self.state.is_empty() => format!("{url}: {tls}"),
            Some(tls) => format!("{url}: {tls}; timing: {}", self.state),
            None => format!("{url}: {}", self.state),
        }
    }
}

/// The check's observer in the binary.
pub struct Progress {
    sink: Sink,
    /// Each target's URL.
    urls: Vec<String>,
    lines: Mutex<Vec<TargetLine>>,
    /// When the check started, for the events' `elapsed_ms`.
    started: Instant,
}

impl Progress {
    /// Progress for `urls` in `mode`; `terminal` is whether stderr can carry bars.
    pub fn new(urls: &[url::Url], mode: ProgressMode, terminal: bool) -> Progress {
        let sink = match mode {
            ProgressMode::Auto if terminal => Sink::Bars(bars(urls.len())),
            ProgressMode::Auto | ProgressMode::None => Sink::Hidden,
            ProgressMode::Lines => Sink::Lines,
            ProgressMode::Json => Sink::Json,
        };
        Progress {
            sink,
            urls: urls.iter().map(url::Url::to_string).collect(),
            lines: Mutex::new(urls.iter().map(|_| TargetLine::default()).collect()),
            started: Instant::now(),
        }
    }

    /// Changes target `target`'s line with `change` and shows it again (a line written only
    /// when its text changed).
    fn update(&self, target: usize, change: impl FnOnce(&mut TargetLine)) {
        let (Some(url), mut lines) = (
            self.urls.get(target),
            self.lines.lock().unwrap_or_else(|e| e.into_inner()),
        ) else {
            return;
        };
        let Some(line) = lines.get_mut(target) else {
            return;
        };
        let before = line.text(url);
        change(line);
        let text = line.text(url);
        match &self.sink {
            Sink::Bars(bars) => {
                if let Some(bar) = bars.get(target) {
                    bar.set_message(text);
                }
            }
            Sink::Lines if text != before => eprint_line(&format!("interloper: {text}")),
            Sink::Lines | Sink::Json | Sink::Hidden => {}
        }
    }

    /// One JSON event on stderr, in `--progress json`.
    fn event(&self, target: usize, event: &str, fields: serde_json::Value) {
        if !matches!(self.sink, Sink::Json) {
            return;
        }
        let mut object = serde_json::json!({
            "event": event,
            "target": target,
            "url": self.urls.get(target),
            "elapsed_ms": u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
        });
        if let (Some(o), serde_json::Value::Object(extra)) = (object.as_object_mut(), fields) {
            o.extend(extra);
        }
        eprint_line(&object.to_string());
    }

    fn bar(&self, target: usize) -> Option<&ProgressBar> {
        match &self.sink {
            Sink::Bars(bars) => bars.get(target),
            Sink::Lines | Sink::Json | Sink::Hidden => None,
        }
    }
}

/// One bar per target, drawn on stderr.
fn bars(n: usize) -> Vec<ProgressBar> {
    let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{spinner} {bar:30} {pos:>5}/{len:5} {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    (0..n)
        .map(|_| multi.add(ProgressBar::new(0).with_style(style.clone())))
        .collect()
}

/// A whole line on stderr at once (so lines of concurrent targets never interleave); a
/// closed stderr is not the check's failure.
fn eprint_line(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

impl CheckObserver for Progress {
    fn stage(&self, target: usize, _url: &str, what: &str, steps: Option<u64>) {
        if let Some(bar) = self.bar(target) {
            bar.set_position(0);
            match steps {
                Some(n) => bar.set_length(n),
                None => bar.unset_length(),
            }
        }
        self.update(target, |line| line.state = what.to_string());
        self.event(
            target,
            "stage",
            serde_json::json!({ "stage": what, "steps": steps }),
        );
    }

    fn step(&self, target: usize) {
        if let Some(bar) = self.bar(target) {
            bar.inc(1);
        }
    }

    fn deciding(&self, target: usize, state: &str) {
        self.update(target, |line| line.state = state.to_string());
        self.event(target, "deciding", serde_json::json!({ "state": state }));
    }

    fn tls_decided(&self, target: usize, evidence: &DecisiveTls) {
        self.update(target, |line| line.tls = Some(evidence.headline()));
        self.event(
            target,
            "tls",
            serde_json::json!({
                "status": "intercepted",
                "rule": evidence.rule,
                "product": evidence.product,
                "summary": evidence.summary,
            }),
        );
    }

    fn target_done(&self, target: usize) {
        if let Some(bar) = self.bar(target) {
            bar.finish_and_clear();
        }
        self.event(target, "done", serde_json::json!({}));
    }

    fn warning(&self, message: &str) {
        eprint_line(&format!("interloper: warning: {message}"));
    }
}

#[cfg(test)]
mod tests {
    use super::TargetLine;

    #[test]
    fn the_tls_evidence_comes_first_and_the_timing_state_after_it() {
        let mut line = TargetLine {
            tls: None,
            state: "3 stalls in 41 — deciding".into(),
        };
        assert_eq!(line.text("app4"), "app4: 3 stalls in 41 — deciding");
        line.tls = Some("TLS inspection (Fortinet FortiGate)".into());
        assert_eq!(
            line.text("app4"),
            "app4: TLS inspection (Fortinet FortiGate); timing: 3 stalls in 41 — deciding"
        );
        line.state.clear();
        assert_eq!(
            line.text("app4"),
            "app4: TLS inspection (Fortinet FortiGate)"
        );
    }
}
