//! The check that examines a running lab as a user on a managed laptop would: the demo,
//! `interloper lab` and the scenario suite all run this plan.

use std::time::Duration;

use interloper_check::{CheckPlan, Samples};
use interloper_check::{ProxySetting, ResolveOverride};

use crate::Lab;

impl Lab {
    /// The lab public CA as the public roots, each inspection CA and private CA installed
    /// locally (as enterprises install theirs; a private CA the scenario declares is given as
    /// the user's own, `--private-root`), no OS roots, no proxy, every name resolved to
    /// its loopback addresses, each witness asked, `samples` requests per asset.
    pub fn check_plan(&self, samples: u32) -> CheckPlan {
        let targets = self
            .instances()
            .iter()
            .filter_map(|i| url::Url::parse(&i.url()).ok())
            .collect();
        let mut plan = CheckPlan::new(targets);
        plan.trust.use_os_roots = false;
        plan.trust.public_roots = Some(self.public_roots_pem_path().to_path_buf());
        plan.connection.proxy = ProxySetting::None;
        plan.budget = Duration::from_secs(30);
        plan.set_timeout(Duration::from_secs(10));
        plan.sampling.concurrency = 8;
        plan.sampling.samples = Samples::PerAsset(samples);
        plan.sampling.each_address = self.instances().iter().any(|i| i.second_addr.is_some());
        for inst in self.instances() {
            for addr in inst.addresses().chain(inst.witness) {
                plan.connection.resolve.push(ResolveOverride {
                    host: inst.host.clone(),
                    port: addr.port(),
                    addr: addr.ip(),
                });
            }
            if let Some(w) = inst.witness_url().and_then(|w| url::Url::parse(&w).ok()) {
                plan.witnesses.push(w);
            }
            plan.trust
                .cacert
                .extend(inst.local_roots().map(std::path::Path::to_path_buf));
            plan.trust
                .private_roots
                .extend(inst.private_roots().map(std::path::Path::to_path_buf));
        }
        plan
    }
}
