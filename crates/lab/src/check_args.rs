//! The `interloper check` arguments that examine a running lab as a user on a managed laptop
//! would: the demo, `interloper lab` and the scenario suite all use these.

use crate::Lab;

impl Lab {
    /// Arguments after `interloper check`: the lab public CA as the public roots, each
    /// inspection CA and private CA installed locally (`--cacert`, as enterprises install
    /// theirs), no OS roots, no proxy, every name resolved to its loopback addresses, each
    /// witness given with `--echo`, `samples` requests per asset; then the instances' URLs.
    pub fn check_args(&self, samples: u32) -> Vec<String> {
        let mut argv: Vec<String> = [
            "--no-os-roots",
            "--no-proxy",
            "--budget",
            "30s",
            "--timeout",
            "10s",
            "-c",
            "8",
        ]
        .iter()
        .map(|s| (*s).to_string())
        .collect();
        argv.push("--samples".into());
        argv.push(samples.to_string());
        argv.push("--public-roots".into());
        argv.push(self.public_roots_pem_path().display().to_string());
        if self.instances().iter().any(|i| i.second_addr.is_some()) {
            argv.push("--each-address".into());
        }
        for inst in self.instances() {
            for addr in inst.addresses().chain(inst.witness) {
                argv.push("--resolve".into());
                argv.push(format!("{}:{}:{}", inst.host, addr.port(), addr.ip()));
            }
            if let Some(w) = inst.witness_url() {
                argv.push("--echo".into());
                argv.push(w);
            }
            for ca in inst.local_roots() {
                argv.push("--cacert".into());
                argv.push(ca.display().to_string());
            }
        }
        for inst in self.instances() {
            argv.push(inst.url());
        }
        argv
    }
}
