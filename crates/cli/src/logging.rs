//! The servers' log lines (`serve` and `echo`): one logger for both, behind the `log` facade
//! the libraries write to. `-q` keeps warnings and errors, `-v` adds the per-probe and
//! per-connection debug lines (`-vv`: trace, and the libraries underneath, rustls, at debug);
//! `--log.format` picks logfmt (the default, as Prometheus' own daemons) or one JSON object a
//! line. Every line has `ts`, `level` and `msg`, then the event's fields (`err`, `reason`, …).

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};

use log::kv::{Key, Value, VisitSource};
use log::{Level, LevelFilter, Log, Metadata, Record};

/// The `--log.format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// `ts=… level=info msg="…" key=value`, as Prometheus' daemons write.
    Logfmt,
    /// `{"ts":"…","level":"info","msg":"…","key":"value"}`, one object a line.
    Json,
}

/// The logging flags both servers take.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Logging")]
pub struct LogArgs {
    /// Only warnings and errors on stderr.
    #[arg(short = 'q', long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More detail on stderr: -v adds a debug line per probe or connection, -vv traces.
    #[arg(short = 'v', long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Format of the log lines on stderr.
    #[arg(long = "log.format", value_name = "FORMAT", value_enum, default_value_t = LogFormat::Logfmt)]
    pub log_format: LogFormat,
}

impl LogArgs {
    fn level(&self) -> LevelFilter {
        match (self.quiet, self.verbose) {
            (true, _) => LevelFilter::Warn,
            (false, 0) => LevelFilter::Info,
            (false, 1) => LevelFilter::Debug,
            (false, _) => LevelFilter::Trace,
        }
    }
}

/// Set once the servers' logger is in place: the last error of the run goes through it too.
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Installs the logger for this process (the first call wins; a server calls it once, before
/// its first line).
pub fn install(args: &LogArgs) {
    let logger = StderrLogger {
        level: args.level(),
        format: args.log_format,
        others: args.verbose >= 2,
    };
    if log::set_boxed_logger(Box::new(logger)).is_ok() {
        log::set_max_level(args.level());
        INSTALLED.store(true, Ordering::SeqCst);
    }
}

/// Whether [`install`] ran: an error that ends the program is then a log line too.
pub fn installed() -> bool {
    INSTALLED.load(Ordering::SeqCst)
}

struct StderrLogger {
    level: LevelFilter,
    format: LogFormat,
    /// Lines of the libraries underneath (rustls…) too, not only ours.
    others: bool,
}

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.level
            && (metadata.target().starts_with("interloper")
                || (self.others && metadata.level() <= Level::Debug))
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let mut line = format_line(self.format, &now_rfc3339(), record);
        line.push('\n');
        // One write per line, so lines from concurrent tasks never interleave.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

/// The current time as Prometheus' daemons write it: UTC, milliseconds, `Z`.
fn now_rfc3339() -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default()
}

/// One record as a line (without the newline).
fn format_line(format: LogFormat, ts: &str, record: &Record<'_>) -> String {
    let level = record.level().as_str().to_ascii_lowercase();
    let msg = record.args().to_string();
    let mut fields = Fields(Vec::new());
    let _ = record.key_values().visit(&mut fields);
    match format {
        LogFormat::Json => {
            // Written key by key so `ts`, `level` and `msg` come first, as a reader scans them.
            let mut line = format!(
                "{{\"ts\":{},\"level\":{},\"msg\":{}",
                serde_json::Value::from(ts),
                serde_json::Value::from(level),
                serde_json::Value::from(msg)
            );
            for (key, value) in fields.0 {
                // A field never repeats the line's own keys.
                if matches!(key.as_str(), "ts" | "level" | "msg") {
                    continue;
                }
                line.push_str(&format!(",{}:{value}", serde_json::Value::from(key)));
            }
            line.push('}');
            line
        }
        LogFormat::Logfmt => {
            let mut line = format!(
                "ts={ts} level={level} msg={}",
                logfmt_value(&msg.replace('\n', " "))
            );
            for (key, value) in fields.0 {
                let text = match value {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                line.push_str(&format!(" {key}={}", logfmt_value(&text)));
            }
            line
        }
    }
}

/// A record's fields in order, numbers and booleans kept as such for JSON.
struct Fields(Vec<(String, serde_json::Value)>);

impl<'kvs> VisitSource<'kvs> for Fields {
    fn visit_pair(&mut self, key: Key<'kvs>, value: Value<'kvs>) -> Result<(), log::kv::Error> {
        let json = if let Some(b) = value.to_bool() {
            b.into()
        } else if let Some(n) = value.to_u64() {
            n.into()
        } else if let Some(n) = value.to_i64() {
            n.into()
        } else if let Some(x) = value.to_f64().and_then(serde_json::Number::from_f64) {
            serde_json::Value::Number(x)
        } else {
            value.to_string().into()
        };
        self.0.push((key.as_str().to_string(), json));
        Ok(())
    }
}

/// A logfmt value: bare when it can be, else quoted with `"` and `\` escaped.
fn logfmt_value(text: &str) -> String {
    let bare = !text.is_empty()
        && text
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != '"' && c != '=');
    if bare {
        return text.to_string();
    }
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            c if c.is_control() => quoted.push(' '),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(format: LogFormat) -> String {
        let kvs: &[(&str, log::kv::Value<'_>)] = &[
            ("err", log::kv::Value::from_display(&"bad \"file\" = x")),
            ("port", log::kv::Value::from(8443u64)),
            ("ok", log::kv::Value::from(false)),
        ];
        format_line(
            format,
            "2026-12-07T22:00:00.000Z",
            &Record::builder()
                .level(Level::Warn)
                .target("interloper_serve")
                .args(format_args!("reload refused"))
                .key_values(&kvs)
                .build(),
        )
    }

    #[test]
    fn logfmt_quotes_what_needs_quoting() {
        assert_eq!(
            line(LogFormat::Logfmt),
            "ts=2026-12-07T22:00:00.000Z level=warn msg=\"reload refused\" \
             err=\"bad \\\"file\\\" = x\" port=8443 ok=false"
        );
    }

    #[test]
    fn json_lines_start_with_the_line_keys_and_keep_the_field_types() {
        let text = line(LogFormat::Json);
        assert!(
            text.starts_with("{\"ts\":\"2026-12-07T22:00:00.000Z\",\"level\":\"warn\",\"msg\":"),
            "{text}"
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["ts"], "2026-12-07T22:00:00.000Z");
        assert_eq!(v["level"], "warn");
        assert_eq!(v["msg"], "reload refused");
        assert_eq!(v["err"], "bad \"file\" = x");
        assert_eq!(v["port"], 8443);
        assert_eq!(v["ok"], false);
    }

    #[test]
    fn quiet_and_verbose_set_the_level() {
        let args = |quiet, verbose| LogArgs {
            quiet,
            verbose,
            log_format: LogFormat::Logfmt,
        };
        assert_eq!(args(true, 0).level(), LevelFilter::Warn);
        assert_eq!(args(false, 0).level(), LevelFilter::Info);
        assert_eq!(args(false, 1).level(), LevelFilter::Debug);
        assert_eq!(args(false, 3).level(), LevelFilter::Trace);
    }
}
