//! What a check is asked to do: [`CheckPlan`], built by the CLI from its flags, by the lab for
//! its demo, or by any program that runs a check from code.

use std::path::PathBuf;
use std::time::Duration;

use interloper_probe::{HelloShape, IpFamily, ProbeConfig, ProxySetting};

/// A whole request may take this many phase limits (`--max-time` defaults to 4 × `--timeout`).
pub const REQUEST_LIMIT_IN_PHASES: u32 = 4;

/// How much to sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Samples {
    /// Enough to see a 5 % intermittent problem with 95 % confidence per target, and at least
    /// two per asset, within the budget.
    Auto,
    /// Exactly this many requests per asset (budget permitting).
    PerAsset(u32),
}

/// Where the Django manifest comes from when the user names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestSource {
    /// Fetch it from this URL.
    Url(url::Url),
    /// Read it from this file.
    File(PathBuf),
    /// Its bytes, already in memory.
    Bytes(Vec<u8>),
}

/// Which roots count as public, which as local, and what the user expects to see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trust {
    /// Public roots instead of Mozilla's list (PEM), e.g. a test CA. They are trusted for
    /// connecting too.
    pub public_roots: Option<PathBuf>,
    /// Extra anchors (PEM), counted as local roots, as an enterprise installs its own.
    pub cacert: Vec<PathBuf>,
    /// Roots the user declares their organisation's own (PEM, `--private-root`): trusted for
    /// connecting, and a chain ending in one is their PKI, not an unknown local root.
    pub private_roots: Vec<PathBuf>,
    /// Read the OS trust store as the local roots (and trust it for connecting).
    pub use_os_roots: bool,
    /// Expected SPKI pins.
    pub pins: Vec<interloper_chain::Pin>,
    /// An interception products file replacing the built-in one (TOML).
    pub products: Option<PathBuf>,
    /// Proceed when a certificate does not verify: the chain is still analysed, and no header
    /// of [`CheckPlan::connection`] is sent over it.
    pub insecure_skip_verify: bool,
}

impl Default for Trust {
    fn default() -> Self {
        Trust {
            public_roots: None,
            cacert: Vec::new(),
            private_roots: Vec::new(),
            use_os_roots: true,
            pins: Vec::new(),
            products: None,
            insecure_skip_verify: false,
        }
    }
}

/// Which ClientHello shapes a check sends. The classic one is always sent (discovery,
/// verification and most samples use it); the others get a few fresh connections each, so a
/// path that breaks only on the hello browsers send shows as a contrast (IL107).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HelloShapes {
    /// Sample the post-quantum hello (X25519MLKEM768).
    pub pq: bool,
    /// Sample the post-quantum hello split over several TCP segments.
    pub large: bool,
    /// Fresh connections per extra shape and target (budget permitting).
    pub per_shape: u32,
}

/// Fresh connections per extra hello shape: enough for two or three failures to stand out
/// against a clean classic sample, few enough to cost little (two shapes: 12 connections).
pub const PER_HELLO_SHAPE: u32 = 6;

impl Default for HelloShapes {
    fn default() -> Self {
        HelloShapes {
            pq: true,
            large: true,
            per_shape: PER_HELLO_SHAPE,
        }
    }
}

impl HelloShapes {
    /// Only the classic hello.
    pub fn classic_only() -> HelloShapes {
        HelloShapes {
            pq: false,
            large: false,
            per_shape: PER_HELLO_SHAPE,
        }
    }

    /// From a list of shapes (`classic` is implied).
    pub fn from_list(shapes: &[HelloShape]) -> HelloShapes {
        HelloShapes {
            pq: shapes.contains(&HelloShape::Pq),
            large: shapes.contains(&HelloShape::Large),
            per_shape: PER_HELLO_SHAPE,
        }
    }

    /// The shapes sampled besides the classic one.
    pub fn extra(&self) -> Vec<HelloShape> {
        [(self.pq, HelloShape::Pq), (self.large, HelloShape::Large)]
            .into_iter()
            .filter_map(|(on, shape)| on.then_some(shape))
            .collect()
    }

    /// Every shape sampled, classic first: `classic,pq,large` (the `--hello-shapes` value).
    pub fn to_list(&self) -> String {
        std::iter::once(HelloShape::Classic)
            .chain(self.extra())
            .map(HelloShape::as_str)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// How the assets are requested once discovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sampling {
    /// Sample size.
    pub samples: Samples,
    /// Requests in flight per target (kept low so the check does not load the server).
    pub concurrency: usize,
    /// Pin each resolved address in turn.
    pub each_address: bool,
    /// Compare HTTP/2 with HTTP/1.1 (HTTPS only).
    pub both_protocols: bool,
    /// ClientHello shapes compared with the classic one (HTTPS only).
    pub hello_shapes: HelloShapes,
    /// Stop once every question is decided (sequential test); `false` makes every planned
    /// request (`--no-early-stop`).
    pub early_stop: bool,
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling {
            samples: Samples::Auto,
            concurrency: 4,
            each_address: false,
            both_protocols: true,
            hello_shapes: HelloShapes::default(),
            early_stop: true,
        }
    }
}

/// What discovery looks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    /// Probe every manifest entry, not only what the page references.
    pub all_static: bool,
    /// Probe assets on other origins too.
    pub cross_origin: bool,
    /// Django manifest to use instead of discovering one.
    pub manifest: Option<ManifestSource>,
    /// Hosts a redirect may lead to; `None` follows redirects to any host (as a browser does).
    /// A redirect elsewhere is not followed and is said in a note. An exporter confined to
    /// vetted addresses sets it to the target's host.
    pub redirect_hosts: Option<Vec<String>>,
}

/// Sizes and counts that keep a check bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of a body kept for discovery and integrity checks.
    pub keep_body: usize,
    /// Most assets probed per target.
    pub max_assets: usize,
    /// Requests made to each witness during a check (fresh connections, two at a time).
    pub witness_samples: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            keep_body: 16 * 1024 * 1024,
            max_assets: 500,
            witness_samples: 30,
        }
    }
}

/// Everything one check needs: the typed input of [`crate::run_check`].
///
/// Build it with [`CheckPlan::new`] and adjust the fields; every field has the default the
/// `interloper check` command line has.
#[derive(Debug, Clone)]
pub struct CheckPlan {
    /// Page URLs; several are instances of one app and are compared.
    pub targets: Vec<url::Url>,
    /// Trust and expectations.
    pub trust: Trust,
    /// Witnesses (`interloper echo`) beside the servers: each speaks for the targets on its
    /// host, or for the only target.
    pub witnesses: Vec<url::Url>,
    /// Sampling.
    pub sampling: Sampling,
    /// Discovery.
    pub discovery: Discovery,
    /// Time budget for sampling each target.
    pub budget: Duration,
    /// Bounds.
    pub limits: Limits,
    /// How to reach the servers: name overrides, proxy, address family, time limits, extra
    /// headers. Its trust fields are set from [`CheckPlan::trust`].
    pub connection: ProbeConfig,
    /// The command line recorded in the report (empty when run from code).
    pub command: Vec<String>,
}

impl CheckPlan {
    /// A plan for these pages with every default.
    pub fn new(targets: Vec<url::Url>) -> CheckPlan {
        let mut connection = ProbeConfig::default();
        connection.total_timeout = connection
            .phase_timeout
            .saturating_mul(REQUEST_LIMIT_IN_PHASES);
        CheckPlan {
            targets,
            trust: Trust::default(),
            witnesses: Vec::new(),
            sampling: Sampling::default(),
            discovery: Discovery::default(),
            budget: Duration::from_secs(60),
            limits: Limits::default(),
            connection,
            command: Vec::new(),
        }
    }

    /// Sets the limit for DNS, the handshake, the response headers and any silence in a body;
    /// a whole request may take four times as long.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.connection.phase_timeout = timeout;
        self.connection.total_timeout = timeout.saturating_mul(REQUEST_LIMIT_IN_PHASES);
    }

    /// The connection settings with the plan's trust applied: what every request uses.
    pub(crate) fn probe_config(&self) -> ProbeConfig {
        let mut cfg = self.connection.clone();
        cfg.cacert_files.clone_from(&self.trust.cacert);
        // Roots the user calls public are trusted for connecting too.
        cfg.cacert_files
            .extend(self.trust.public_roots.iter().cloned());
        cfg.cacert_files
            .extend(self.trust.private_roots.iter().cloned());
        cfg.use_os_roots = self.trust.use_os_roots;
        cfg.insecure_skip_verify = self.trust.insecure_skip_verify;
        cfg
    }

    /// The `interloper check` arguments (after `check`) that run this plan: what `interloper
    /// lab` prints and what the scenario suite runs, so a person can run exactly the same
    /// check. Defaults are left out; so are settings the command line cannot express (a
    /// manifest held in memory), extra headers, which may carry credentials, and a proxy's
    /// password (its user name stays: give the password again to run it).
    pub fn to_check_args(&self) -> Vec<String> {
        let mut argv: Vec<String> = Vec::new();
        let mut push = |flag: &str, value: Option<String>| {
            argv.push(flag.to_string());
            argv.extend(value);
        };
        let defaults = CheckPlan::new(Vec::new());
        let t = &self.trust;
        if !t.use_os_roots {
            push("--no-os-roots", None);
        }
        if t.insecure_skip_verify {
            push("--insecure-skip-verify", None);
        }
        match &self.connection.proxy {
            ProxySetting::None => push("--no-proxy", None),
            ProxySetting::Url(u) => {
                push("--proxy", Some(interloper_probe::proxy_without_password(u)))
            }
            ProxySetting::FromEnv => {}
        }
        if self.budget != defaults.budget {
            push("--budget", Some(duration_arg(self.budget)));
        }
        if self.connection.phase_timeout != defaults.connection.phase_timeout {
            push(
                "--timeout",
                Some(duration_arg(self.connection.phase_timeout)),
            );
        }
        let c = &self.connection;
        if c.total_timeout != c.phase_timeout.saturating_mul(REQUEST_LIMIT_IN_PHASES) {
            push("--max-time", Some(duration_arg(c.total_timeout)));
        }
        match c.ip {
            IpFamily::V4 => push("-4", None),
            IpFamily::V6 => push("-6", None),
            IpFamily::Any => {}
        }
        if self.connection.connect_timeout != defaults.connection.connect_timeout {
            push(
                "--connect-timeout",
                Some(duration_arg(self.connection.connect_timeout)),
            );
        }
        if self.sampling.concurrency != defaults.sampling.concurrency {
            push("-c", Some(self.sampling.concurrency.to_string()));
        }
        if let Samples::PerAsset(n) = self.sampling.samples {
            push("--samples", Some(n.to_string()));
        }
        if !self.sampling.early_stop {
            push("--no-early-stop", None);
        }
        if let Some(p) = &t.public_roots {
            push("--public-roots", Some(p.display().to_string()));
        }
        if let Some(p) = &t.products {
            push("--products", Some(p.display().to_string()));
        }
        if self.sampling.each_address {
            push("--each-address", None);
        }
        let shapes = self.sampling.hello_shapes;
        if (shapes.pq, shapes.large)
            != (
                defaults.sampling.hello_shapes.pq,
                defaults.sampling.hello_shapes.large,
            )
        {
            push("--hello-shapes", Some(shapes.to_list()));
        }
        if self.discovery.all_static {
            push("--all-static", None);
        }
        if self.discovery.cross_origin {
            push("--cross-origin", None);
        }
        match &self.discovery.manifest {
            Some(ManifestSource::Url(u)) => push("--manifest", Some(u.to_string())),
            Some(ManifestSource::File(p)) => push("--manifest", Some(p.display().to_string())),
            Some(ManifestSource::Bytes(_)) | None => {}
        }
        for r in &self.connection.resolve {
            let addr = match r.addr {
                std::net::IpAddr::V4(a) => a.to_string(),
                std::net::IpAddr::V6(a) => format!("[{a}]"),
            };
            push("--resolve", Some(format!("{}:{}:{addr}", r.host, r.port)));
        }
        for w in &self.witnesses {
            push("--echo", Some(w.to_string()));
        }
        for ca in &t.cacert {
            push("--cacert", Some(ca.display().to_string()));
        }
        for root in &t.private_roots {
            push("--private-root", Some(root.display().to_string()));
        }
        for pin in &t.pins {
            push("--expect-pin", Some(pin.to_string()));
        }
        argv.extend(self.targets.iter().map(url::Url::to_string));
        argv
    }
}

/// A duration as the command line reads it back (`30s`, `1500ms`).
fn duration_arg(d: Duration) -> String {
    if d.subsec_millis() == 0 && d.as_secs() > 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxy_password_is_never_printed() {
        let mut plan = CheckPlan::new(vec!["https://example.test/".parse().unwrap()]);
        plan.connection.proxy =
            ProxySetting::Url("http://alice:p%2Ba%26s@127.0.0.1:3128".parse().unwrap());
        let args = plan.to_check_args();
        assert_eq!(&args[..2], ["--proxy", "http://alice@127.0.0.1:3128/"]);
        assert!(!args.join(" ").contains("p%2Ba"), "{args:?}");
    }

    #[test]
    fn a_default_plan_is_just_its_urls() {
        let plan = CheckPlan::new(vec!["https://example.test/".parse().unwrap()]);
        assert_eq!(plan.to_check_args(), vec!["https://example.test/"]);
    }

    #[test]
    fn hello_shapes_read_back() {
        let mut plan = CheckPlan::new(vec!["https://example.test/".parse().unwrap()]);
        assert_eq!(plan.sampling.hello_shapes.to_list(), "classic,pq,large");
        plan.sampling.hello_shapes = HelloShapes::from_list(&[HelloShape::Pq]);
        assert_eq!(
            plan.to_check_args(),
            vec!["--hello-shapes", "classic,pq", "https://example.test/"]
        );
        plan.sampling.hello_shapes = HelloShapes::classic_only();
        assert_eq!(plan.sampling.hello_shapes.extra(), vec![]);
        assert_eq!(plan.to_check_args()[1], "classic");
    }

    #[test]
    fn durations_read_back() {
        assert_eq!(duration_arg(Duration::from_secs(30)), "30s");
        assert_eq!(duration_arg(Duration::from_millis(1500)), "1500ms");
    }
}
