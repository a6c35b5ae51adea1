//! Timed HTTP(S) client: DNS, TCP, TLS, request written, response headers, first and last body
//! byte, each measured separately over our own connection (I/O).
//!
//! ```no_run
//! # async fn demo() -> Result<(), interloper_probe::ProbeError> {
//! use interloper_probe::{Probe, ProbeConfig, RunOptions, Target};
//! let probe = Probe::new(ProbeConfig::default())?;
//! let target = Target::parse("https://localhost:8443/small.txt")?;
//! let one = probe.request(&target).await;
//! println!("{:?} {:?}", one.status, one.phases.ttfb_ms);
//! let report = probe.run(&[target], &RunOptions::default(), &mut ()).await;
//! println!("{}", report.targets.len());
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod block;
mod client;
mod config;
mod curve;
mod dns;
mod error;
mod lag;
mod proxy;
mod run;
mod stream;
mod summary;
mod tls;

pub use block::AddressBlock;
pub use client::{Probe, Session};
pub use config::{ProbeConfig, ProxySetting, ResolveOverride, RunOptions, Target};
pub use dns::{DnsSettings, lookup_host, parse_dns_server};
pub use error::ProbeError;
pub use proxy::validate_proxy_url;
pub use proxy::without_password as proxy_without_password;
// The policies are part of the evidence (a report names them), so they live in the model;
// re-exported so a caller of the probe needs no second import.
pub use interloper_model as model;
pub use interloper_model::{ConnectionPolicy, HelloShape, HttpVersionPref, IpFamily};
pub use run::RunObserver;
pub use summary::Aggregator;
pub use tls::classic_provider;
