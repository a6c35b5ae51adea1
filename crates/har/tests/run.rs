//! `run_har`, the whole `interloper har` pipeline as a library call: recordings handed in as
//! readers, labelled, turned into evidence and judged together.

use std::io;
use std::path::Path;

use interloper_findings::{Code, ThresholdConfig};
use interloper_har::{HarError, HarPlan, ReadOptions, run_har};
use interloper_model::input::Input;

fn fixture(name: &str) -> Input {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let bytes = std::fs::read(&path).expect("fixture");
    Input::from_reader(name, io::Cursor::new(bytes))
}

fn plan(inputs: Vec<Input>) -> HarPlan {
    HarPlan {
        inputs,
        read: ReadOptions::default(),
        thresholds: ThresholdConfig::default(),
    }
}

#[test]
fn a_recording_gives_the_checks_codes_and_the_browsers() {
    let outcome = run_har(plan(vec![fixture("chrome-devtools.har")])).expect("runs");
    let codes: Vec<Code> = outcome
        .analysis
        .diagnosis
        .findings
        .iter()
        .map(|f| f.code)
        .collect();
    for code in [Code::IL202, Code::IL210, Code::IL211] {
        assert!(codes.contains(&code), "{code:?} in {codes:?}");
    }
    assert_eq!(outcome.targets.len(), 1);
    assert_eq!(outcome.files.len(), 1);
    assert!(outcome.analysis.diagnosis.worst().is_some());
}

#[test]
fn the_same_name_twice_is_labelled_apart() {
    let outcome = run_har(plan(vec![
        fixture("firefox.har"),
        fixture("firefox.har"),
        fixture("safari.har"),
    ]))
    .expect("runs");
    let labels: Vec<&str> = outcome.targets.iter().map(|t| t.label.as_str()).collect();
    assert_eq!(labels, ["firefox.har", "firefox.har #2", "safari.har"]);
    assert_eq!(outcome.files.len(), 3);
}

#[test]
fn what_is_not_a_har_names_the_input() {
    let err = run_har(plan(vec![
        fixture("firefox.har"),
        Input::from_reader("notes.txt", io::Cursor::new(b"hello".to_vec())),
    ]))
    .expect_err("not JSON");
    assert_eq!(err.name, "notes.txt");
    assert!(matches!(err.reason, HarError::NotJson { .. }), "{err}");
    assert!(err.to_string().starts_with("notes.txt: not JSON"), "{err}");

    let gone = Input::new("gone.har", || Err(io::Error::other("no such file")));
    let err = run_har(plan(vec![gone])).expect_err("unopenable");
    assert_eq!(err.to_string(), "gone.har: no such file");
}
