//! `run_logs`, the whole `interloper logs` pipeline as a library call: inputs handed in as
//! readers, formats detected, lines gathered on several workers, the diagnosis returned.

use std::io;

use interloper_findings::{Code, VerdictStatus};
use interloper_logs::{ForcedFormat, Format, GatherOptions, LogsError, LogsPlan, run_logs};
use interloper_model::input::Input;

/// An nginx combined line with the request, upstream and backend times appended.
fn line(status: u16, bytes: u64, secs: f64, backend: &str) -> String {
    format!(
        r#"192.0.2.1 - - [24/Nov/2026:07:00:00 +0000] "GET /static/app.css HTTP/1.1" {status} {bytes} "-" "UA" rt={secs:.3} urt="{secs:.3}" ua="{backend}""#
    )
}

fn plan(inputs: Vec<Input>, format: Option<ForcedFormat>) -> LogsPlan {
    LogsPlan {
        inputs,
        format,
        gather: GatherOptions::default(),
        threads: 2,
    }
}

fn input(name: &str, text: String) -> Input {
    Input::from_reader(name, io::Cursor::new(text.into_bytes()))
}

#[test]
fn a_backend_whose_requests_time_out_is_the_root_cause() {
    let mut log = String::new();
    for _ in 0..40 {
        for backend in ["10.0.0.1:8000", "10.0.0.2:8000", "10.0.0.3:8000"] {
            log.push_str(&line(200, 5000, 0.010, backend));
            log.push('\n');
        }
        log.push_str(&line(504, 0, 60.0, "10.0.0.4:8000"));
        log.push('\n');
    }
    // Two inputs, one of them split: gathered as sources of one evidence.
    let (first, second) = log.split_at(log.len() / 2);
    let cut = first.rfind('\n').map_or(0, |i| i + 1);
    let (a, b) = (log[..cut].to_string(), format!("{}{second}", &first[cut..]));
    let outcome = run_logs(plan(vec![input("a.log", a), input("b.log", b)], None))
        .expect("combined lines run");

    assert_eq!(outcome.evidence.sources.len(), 2);
    let parsed: u64 = outcome.evidence.sources.iter().map(|s| s.parsed).sum();
    assert_eq!(parsed, 160);
    let verdict = &outcome.diagnosis.verdict;
    assert_eq!(verdict.status, VerdictStatus::Failing);
    assert!(
        matches!(verdict.root_cause, Some(Code::IL504 | Code::IL505)),
        "{verdict:?}"
    );
    let codes: Vec<Code> = outcome.diagnosis.findings.iter().map(|f| f.code).collect();
    assert!(codes.contains(&Code::IL505), "{codes:?}");
    assert_eq!(
        outcome.diagnosis.worst(),
        Some(interloper_findings::Severity::Error)
    );
}

#[test]
fn what_is_not_a_log_names_the_input_and_its_first_line() {
    let err = run_logs(plan(vec![input("notes.txt", "hello there\n".into())], None))
        .expect_err("not a log");
    assert!(matches!(&err, LogsError::NotALog { name, .. } if name == "notes.txt"));
    assert_eq!(
        err.to_string(),
        "notes.txt: not an access log interloper reads (combined, haproxy or json); first line: \"hello there\""
    );

    // Forced to a format its lines are not in: nothing parsed is an error, not a clean bill.
    let combined = format!("{}\n", line(200, 10, 0.001, "10.0.0.1:80"));
    let err = run_logs(plan(
        vec![input("access.log", combined)],
        Some(ForcedFormat::Builtin(Format::Haproxy)),
    ))
    .expect_err("nothing parsed");
    assert!(matches!(&err, LogsError::NothingParsed { name, .. } if name == "access.log"));

    let gone = Input::new("gone.log", || Err(io::Error::other("no such file")));
    let err = run_logs(plan(vec![gone], None)).expect_err("unopenable");
    assert_eq!(err.to_string(), "gone.log: no such file");
}

#[test]
fn clean_lines_are_a_clean_diagnosis() {
    let log: String = (0..20)
        .map(|_| line(200, 5000, 0.010, "10.0.0.1:8000") + "\n")
        .collect();
    let outcome = run_logs(plan(vec![input("ok.log", log)], None)).expect("runs");
    assert_eq!(outcome.diagnosis.verdict.status, VerdictStatus::Clean);
    assert_eq!(outcome.diagnosis.worst(), None);
}
