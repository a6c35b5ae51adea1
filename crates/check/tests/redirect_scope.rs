//! A check confined to some hosts (what `interloper serve` does for a module with allowed
//! hosts or networks) does not follow a redirect anywhere else, and says so.

use std::sync::Arc;
use std::time::Duration;

use interloper_check::{CheckPlan, Samples, run_check};
use interloper_probe::ProxySetting;
use interloper_testkit::faults::{Fault, FaultServer};

fn plan(url: &str, redirect_hosts: Option<Vec<String>>) -> CheckPlan {
    let mut plan = CheckPlan::new(vec![url.parse().expect("url")]);
    plan.trust.use_os_roots = false;
    plan.connection.proxy = ProxySetting::None;
    plan.sampling.samples = Samples::PerAsset(2);
    plan.budget = Duration::from_secs(10);
    plan.discovery.redirect_hosts = redirect_hosts;
    plan
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_outside_the_allowed_hosts_is_not_followed() {
    let elsewhere =
        FaultServer::plain(Fault::typed("text/html", "<html>elsewhere</html>")).expect("server");
    // Same machine, another name: only the name decides.
    let away = format!("http://localhost:{}/", elsewhere.addr.port());
    let site = FaultServer::plain(Fault::redirect(302, &away)).expect("server");

    let confined = plan(&site.url("/"), Some(vec!["127.0.0.1".into()]));
    let outcome = run_check(&confined, Arc::new(())).await.expect("check");
    assert_eq!(
        elsewhere.accepted(),
        0,
        "the other host was never contacted"
    );
    assert!(
        outcome
            .report
            .notes
            .iter()
            .any(|n| n.contains(&away) && n.contains("may not reach")),
        "{:?}",
        outcome.report.notes
    );
    // Our policy is not the site's fault: no redirect finding for it.
    assert!(
        !outcome
            .report
            .findings
            .iter()
            .any(|f| matches!(f.code.as_str(), "IL308" | "IL309")),
        "{:?}",
        outcome.report.findings
    );

    // A person's check follows it, as a browser would.
    let free = plan(&site.url("/"), None);
    run_check(&free, Arc::new(())).await.expect("check");
    assert!(elsewhere.accepted() > 0);
}
