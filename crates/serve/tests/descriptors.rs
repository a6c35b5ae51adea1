//! Many scrapes leave no file descriptor behind. Its own test binary, so no other test's
//! sockets are counted.

mod common;

use std::time::Duration;

use common::{get, module_toml, probe_path, start, value};
use interloper_lab::{Lab, Scenario};

/// Open file descriptors of this process (Linux).
fn open_fds() -> Option<usize> {
    std::fs::read_dir("/proc/self/fd").ok().map(|d| d.count())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_scrapes_leave_no_descriptor_behind() {
    let Some(_) = open_fds() else {
        eprintln!("skipping: no /proc/self/fd here");
        return;
    };
    let lab = Lab::start(Scenario::find("clean").unwrap().config().unwrap())
        .await
        .unwrap();
    let inst = &lab.instances()[0];
    let addr = start(&format!(
        "[server]\nmax_concurrent_checks = 8\n{}",
        module_toml(&lab, inst, "web", "5s").replace("samples = 2", "samples = 1")
    ))
    .await;
    let path = probe_path(&inst.url(), "web");
    let round = |n: usize| {
        let path = path.clone();
        async move {
            let mut tasks = Vec::new();
            for _ in 0..n {
                let path = path.clone();
                tasks.push(tokio::spawn(
                    async move { get(addr, &path, Some("10")).await },
                ));
            }
            let mut ok = 0;
            for t in tasks {
                let (status, body) = t.await.unwrap();
                if status == 200 && value(&body, "probe_success") == Some(1.0) {
                    ok += 1;
                }
            }
            ok
        }
    };
    // Warm up (pools, runtime threads), then measure across many more scrapes.
    assert_eq!(round(8).await, 8);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = open_fds().unwrap();
    let mut ok = 0;
    for _ in 0..20 {
        ok += round(8).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = open_fds().unwrap();
    assert_eq!(ok, 160, "every scrape within the bound succeeds");
    assert!(after <= before + 4, "descriptors grew: {before} → {after}");
}
