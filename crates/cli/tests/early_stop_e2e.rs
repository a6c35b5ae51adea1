//! Sequential sampling against the real lab on loopback: a path stalling a sizeable share of
//! requests 2 s is decided stalled, and a clean path decided clean, each in fewer requests than
//! the fixed count; `early_stop = false` (`--no-early-stop`) makes every planned request.

use std::sync::Arc;

use interloper_check::{CheckOutcome, run_check};
use interloper_lab::{Lab, ScenarioFile};

/// Requests per asset: the cap. The lab's page references three static files and the check
/// samples 12 hello-shape connections besides: 132 sampled requests planned.
const PER_ASSET: u32 = 40;
const PLANNED: usize = 3 * PER_ASSET as usize + 12;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Starts the lab `toml` describes and checks it (lab roots, its concurrency of 8).
fn check(toml: &str, early_stop: bool) -> CheckOutcome {
    let rt = runtime();
    let file = ScenarioFile::from_toml(toml).expect("scenario");
    rt.block_on(async {
        let lab = Lab::start(file.lab).await.expect("lab");
        let mut plan = lab.check_plan(PER_ASSET);
        plan.sampling.early_stop = early_stop;
        let outcome = run_check(&plan, Arc::new(())).await.expect("check");
        lab.shutdown().await;
        outcome
    })
}

/// Sampled requests of the only target: every record but each asset's verification request.
fn sampled(outcome: &CheckOutcome) -> usize {
    let t = &outcome.evidence[0];
    t.assets.iter().map(|a| a.records.len()).sum::<usize>() - t.assets.len()
}

fn codes(outcome: &CheckOutcome) -> Vec<String> {
    outcome
        .report
        .findings
        .iter()
        .map(|f| format!("{:?}", f.code))
        .collect()
}

const STALLING: &str = r#"
about = "a third of static responses stalled 2 s"
[lab]
seed = 7
[[lab.instance]]
[lab.instance.middlebox]
ca_common_name = "Example Corp Outbound Gateway"
ca_organisation = "Example Corp"
[lab.instance.middlebox.faults]
stall_probability = 0.3
stall = "2s"
"#;

const CLEAN: &str = r#"
about = "one healthy instance"
[lab]
seed = 1
[[lab.instance]]
"#;

#[test]
fn a_stalling_path_is_decided_stalled_before_the_fixed_count() {
    let outcome = check(STALLING, true);
    let n = sampled(&outcome);
    assert!(
        codes(&outcome).contains(&"IL201".to_string()),
        "{:?}",
        codes(&outcome)
    );
    assert_ne!(outcome.report.verdict.status.as_str(), "clean");
    // The stalls were real 2 s ones (wide margin), and the test stopped well short of the cap.
    let slow = outcome.evidence[0]
        .assets
        .iter()
        .flat_map(|a| &a.records)
        .filter(|r| r.phases.total_ms.is_some_and(|t| t > 1000.0))
        .count();
    assert!(slow >= 3, "{slow} requests over 1 s");
    assert!(n < PLANNED, "{n} sampled of {PLANNED} planned");
    assert!(
        outcome
            .report
            .notes
            .iter()
            .any(|n| n.contains("every question was decided")),
        "{:?}",
        outcome.report.notes
    );
}

#[test]
fn a_clean_path_is_decided_clean_before_the_cap_and_fixed_sampling_makes_them_all() {
    let early = check(CLEAN, true);
    assert_eq!(early.report.verdict.status.as_str(), "clean");
    let n = sampled(&early);
    // 84 clean requests decide it (findings::sequential); the cap is not reached.
    assert!(
        (84..PLANNED).contains(&n),
        "{n} sampled of {PLANNED} planned"
    );

    let fixed = check(CLEAN, false);
    assert_eq!(fixed.report.verdict.status.as_str(), "clean");
    assert_eq!(sampled(&fixed), PLANNED);
}
