//! `interloper serve`: a Prometheus exporter in blackbox_exporter's multi-target pattern.
//!
//! Prometheus relabels each target into `GET /probe?target=URL&module=NAME`; each scrape runs
//! ONE bounded check ([`interloper_check::run_check`]) with the module's settings and a budget
//! of min(module budget, `X-Prometheus-Scrape-Timeout-Seconds` − [`SCRAPE_MARGIN`]), and answers
//! a fresh registry built from its outcome ([`metrics`]). `/metrics` answers the exporter's own
//! counters. At most `server.max_concurrent_checks` checks run at once; a scrape beyond that is
//! answered at once with HTTP 503 and `probe_success 0`, never queued. Nothing the client sends
//! can make it panic: a bad request is HTTP 400 with one line saying why.
//!
//! No scheduler and no storage: Prometheus decides when to check and keeps the series.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Method, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

pub mod config;
pub mod metrics;
pub mod policy;
pub mod rum;
pub mod web;

pub use config::{ConfigError, Module, ServeConfig, parse_duration};

use metrics::{ExporterMetrics, Failure};

/// Taken off the scrape timeout, so the answer is written before Prometheus gives up.
pub const SCRAPE_MARGIN: Duration = Duration::from_millis(500);
/// The shortest budget a scrape gets, however short its timeout.
pub const MIN_BUDGET: Duration = Duration::from_millis(250);
/// Slack past the budget before an unfinished check is abandoned: the engine's deadline ends
/// requests, then the findings and report take a moment.
const OVERRUN: Duration = Duration::from_millis(250);
/// Longest target URL accepted.
const MAX_TARGET_LEN: usize = 2048;
/// Where `interloper serve` listens unless told.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9930";

/// The exporter: configuration, the bound on concurrent checks, its own metrics.
#[derive(Debug)]
pub struct Exporter {
    /// Swapped whole on reload; a scrape takes its own copy of the module it runs.
    config: std::sync::RwLock<Arc<ServeConfig>>,
    checks: Arc<Semaphore>,
    metrics: ExporterMetrics,
    /// `server.results_log` and its file, opened at start; a reload reopens the same path
    /// (logrotate renamed it) but does not move it elsewhere.
    results_log: Option<(std::path::PathBuf, std::sync::Mutex<std::fs::File>)>,
    /// The file the configuration came from, for `/-/reload` and SIGHUP.
    config_path: std::sync::OnceLock<std::path::PathBuf>,
    /// The last [`RECENT_RESULTS`] finished checks, newest last, for `/probe/debug`.
    recent: std::sync::Mutex<std::collections::VecDeque<serde_json::Value>>,
    /// `[rum]` as started: the followed beacon log behind `/rum/metrics`.
    rum: Option<Arc<rum::RumSource>>,
}

/// Finished checks `/probe/debug` remembers (their verdicts and findings, not their evidence).
pub const RECENT_RESULTS: usize = 32;

/// A response body and its status.
type Answer = Response<Full<Bytes>>;

impl Exporter {
    /// An exporter for a validated configuration; opens `server.results_log` for appending.
    pub fn new(config: ServeConfig) -> std::io::Result<Exporter> {
        let checks = Arc::new(Semaphore::new(config.server.max_concurrent_checks));
        let rum = config.rum.clone().map(|c| Arc::new(rum::RumSource::new(c)));
        let results_log = match &config.server.results_log {
            None => None,
            Some(path) => Some((path.clone(), std::sync::Mutex::new(open_log(path)?))),
        };
        Ok(Exporter {
            config: std::sync::RwLock::new(Arc::new(config)),
            checks,
            metrics: ExporterMetrics::default(),
            results_log,
            config_path: std::sync::OnceLock::new(),
            recent: std::sync::Mutex::new(std::collections::VecDeque::new()),
            rum,
        })
    }

    /// Remembers a finished check for `/probe/debug`: verdict, findings (with their evidence)
    /// and notes; the per-request records are left out so the memory stays small.
    fn remember(
        &self,
        module: &str,
        target: &str,
        passed: bool,
        report: &interloper_check::Report,
    ) {
        let entry = serde_json::json!({
            "time": report.header.generated_at,
            "module": module,
            "target": target,
            "probe_success": passed,
            "verdict": report.verdict,
            "findings": report.findings,
            "notes": report.notes,
        });
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if recent.len() == RECENT_RESULTS {
            recent.pop_front();
        }
        recent.push_back(entry);
    }

    /// `/probe/debug[?target=URL|?group=NAME]`: the remembered results (of that target or
    /// instance group), newest first.
    fn debug_page(&self, query: &str) -> Answer {
        let target =
            url::form_urlencoded::parse(query.as_bytes()).find_map(|(k, v)| match k.as_ref() {
                "target" => Some(v.into_owned()),
                "group" => Some(format!("group:{v}")),
                _ => None,
            });
        let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        let shown: Vec<&serde_json::Value> = recent
            .iter()
            .rev()
            .filter(|e| {
                target.as_deref().is_none_or(|t| {
                    e["target"].as_str() == Some(t)
                        || url::Url::parse(t)
                            .is_ok_and(|u| e["target"].as_str() == Some(u.as_str()))
                })
            })
            .collect();
        json(serde_json::to_string_pretty(&shown).unwrap_or_default())
    }

    /// Appends one finished check to the results log, one JSON line. A failed write is said
    /// on stderr and does not fail the scrape.
    fn log_result(
        &self,
        module: &str,
        target: &str,
        passed: bool,
        report: &interloper_check::Report,
    ) {
        let Some((path, file)) = &self.results_log else {
            return;
        };
        let line = serde_json::json!({
            "time": report.header.generated_at,
            "module": module,
            "target": target,
            "probe_success": passed,
            "report": report,
        });
        let mut text = line.to_string();
        text.push('\n');
        let mut file = file.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = std::io::Write::write_all(&mut *file, text.as_bytes()) {
            log::error!(file:% = path.display(), err:% = e; "writing results_log failed");
        }
    }

    /// Replaces the modules (SIGHUP). Scrapes in flight finish with the module they started
    /// with; `server.max_concurrent_checks` keeps its value until a restart, because checks
    /// holding the old bound's permits are still running.
    pub fn reload(&self, config: ServeConfig) {
        let mut current = self.config.write().unwrap_or_else(|e| e.into_inner());
        *current = Arc::new(config);
    }

    /// Reopens `server.results_log` at its path (SIGHUP, after logrotate renamed it). Under
    /// the file's lock, so each result line is wholly in the old file or the new one.
    pub fn reopen_results_log(&self) -> std::io::Result<()> {
        let Some((path, file)) = &self.results_log else {
            return Ok(());
        };
        let reopened = open_log(path)?;
        *file.lock().unwrap_or_else(|e| e.into_inner()) = reopened;
        Ok(())
    }

    /// Names the file the configuration came from: `/-/reload` and [`Exporter::reload_file`]
    /// read it again. Set once; later calls keep the first.
    pub fn set_config_path(&self, path: std::path::PathBuf) {
        let _ = self.config_path.set(path);
    }

    /// What SIGHUP and `POST /-/reload` do: reopen `results_log` (logrotate renamed it),
    /// then read the configuration file again. A file that does not load keeps the running
    /// configuration, and `interloper_serve_config_last_reload_successful` drops to 0 until
    /// a reload succeeds. The outcome is logged (a failure with its `err`); the error says
    /// why, for the HTTP answer.
    pub fn reload_file(&self) -> Result<(), String> {
        let result = self.reload_file_unlogged();
        let file = self
            .config_path
            .get()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        match &result {
            Ok(()) => log::info!(file; "configuration reloaded"),
            Err(e) => log::error!(file, err = e.as_str(); "configuration reload failed"),
        }
        result
    }

    fn reload_file_unlogged(&self) -> Result<(), String> {
        let reopened = self
            .reopen_results_log()
            .map_err(|e| format!("reopening results_log: {e}"));
        let Some(path) = self.config_path.get() else {
            return reopened;
        };
        match ServeConfig::load(path) {
            Ok(config) => {
                self.reload(config);
                self.metrics.reload().record(true);
                reopened
            }
            Err(e) => {
                self.metrics.reload().record(false);
                Err(format!(
                    "reload refused, keeping the running configuration: {e}"
                ))
            }
        }
    }

    fn current(&self) -> Arc<ServeConfig> {
        Arc::clone(&self.config.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Answers one HTTP request.
    pub async fn handle(
        self: &Arc<Self>,
        method: &Method,
        uri: &http::Uri,
        headers: &HeaderMap,
    ) -> Answer {
        if uri.path() == "/-/reload" {
            // As Prometheus's own endpoint: POST or PUT, never a GET a crawler could send.
            if method != Method::POST && method != Method::PUT {
                return text(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "POST or PUT /-/reload\n".into(),
                );
            }
            return match self.reload_file() {
                Ok(()) => text(StatusCode::OK, "reloaded\n".into()),
                Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
            };
        }
        if method != Method::GET && method != Method::HEAD {
            return text(
                StatusCode::METHOD_NOT_ALLOWED,
                "only GET is served\n".into(),
            );
        }
        match uri.path() {
            "/-/healthy" | "/-/ready" => text(StatusCode::OK, "Healthy\n".into()),
            "/probe" => self.probe(uri.query().unwrap_or(""), headers).await,
            "/probe/debug" => self.debug_page(uri.query().unwrap_or("")),
            "/metrics" => openmetrics(StatusCode::OK, metrics::encode(self.metrics.registry())),
            "/rum/metrics" => rum::answer(self.rum.clone()).await,
            "/" => text(
                StatusCode::OK,
                "interloper serve: GET /probe?target=URL&module=NAME runs one check \
                 (group=GROUP instead of target= checks an instance group of the module; \
                 &debug=true answers the whole report as JSON); GET \
                 /probe/debug[?target=URL|?group=GROUP] shows the last results; GET /metrics \
                 for the exporter itself; GET /rum/metrics for real users' page views (the \
                 [rum] section); GET /-/healthy; POST /-/reload\n"
                    .into(),
            ),
            _ => text(
                StatusCode::NOT_FOUND,
                "not found: try /probe, /metrics or /rum/metrics\n".into(),
            ),
        }
    }

    /// `/probe`: parse the query, take a permit (or answer busy), plan the check within the
    /// scrape's budget, run it, and answer its registry (or the report, with `debug=true`).
    async fn probe(self: &Arc<Self>, query: &str, headers: &HeaderMap) -> Answer {
        let debug =
            url::form_urlencoded::parse(query.as_bytes()).any(|(k, v)| k == "debug" && v == "true");
        let scrape = match self.parse_probe(query) {
            Ok(parsed) => parsed,
            Err((module, message)) => {
                self.metrics.probe(&module, "bad-request");
                log::debug!(module = module.as_str(), outcome = "bad-request",
                    reason = message.as_str(); "probe refused");
                return failure(StatusCode::BAD_REQUEST, Failure::BadRequest, &message);
            }
        };
        let Ok(permit) = Arc::clone(&self.checks).try_acquire_owned() else {
            self.metrics.probe(&scrape.module_name, "busy");
            log::debug!(module = scrape.module_name.as_str(), target = scrape.label.as_str(),
                outcome = "busy"; "probe refused: max_concurrent_checks running");
            return failure(
                StatusCode::SERVICE_UNAVAILABLE,
                Failure::Busy,
                "too many checks running (server.max_concurrent_checks); try again",
            );
        };
        let (plan, budget) = match self.plan_scrape(&scrape, headers).await {
            Ok(planned) => planned,
            Err(answer) => return answer,
        };
        // The check runs in its own task holding the permit, so a scrape that Prometheus
        // abandons still counts against the bound until its (bounded) check ends.
        let exporter = Arc::clone(self);
        let task = tokio::spawn(async move {
            let _permit = permit;
            let _in_flight = InFlight::new(&exporter.metrics);
            let started = Instant::now();
            let result = tokio::time::timeout(
                budget + OVERRUN,
                interloper_check::run_check(&plan, Arc::new(())),
            )
            .await;
            (result, started.elapsed())
        });
        let module_name = &scrape.module_name;
        match task.await {
            Ok((Ok(Ok(outcome)), elapsed)) => {
                self.answer_outcome(&scrape, &outcome, elapsed, budget, debug)
            }
            Ok((Ok(Err(e)), _)) => {
                // A configuration problem (an unreadable trust file): answered as a scrape so
                // the series shows it, with the reason for a person.
                self.metrics.probe(module_name, "check-error");
                log::warn!(module = module_name.as_str(), target = scrape.label.as_str(),
                    err:% = e; "the check could not start");
                failure(
                    StatusCode::OK,
                    Failure::CheckError,
                    &format!("the check could not start: {e}"),
                )
            }
            Ok((Err(_), elapsed)) => {
                self.metrics.probe(module_name, "timed-out");
                log::debug!(module = module_name.as_str(), target = scrape.label.as_str(),
                    outcome = "timed-out", duration_seconds = elapsed.as_secs_f64();
                    "probe abandoned: the check overran its budget");
                failure(
                    StatusCode::OK,
                    Failure::TimedOut,
                    "the check overran its budget and was abandoned",
                )
            }
            Err(e) => {
                self.metrics.probe(module_name, "check-error");
                log::error!(module = module_name.as_str(), target = scrape.label.as_str(),
                    err:% = e; "the check ended abnormally");
                failure(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Failure::CheckError,
                    "the check ended abnormally",
                )
            }
        }
    }

    /// The check a scrape runs and its budget: the module's plan for the scrape's targets,
    /// redirects kept on those hosts when the module restricts where checks go, and every
    /// address vetted against the module's networks (the lookups come out of the budget).
    /// A target the module may not reach is answered at once.
    async fn plan_scrape(
        &self,
        scrape: &Scrape,
        headers: &HeaderMap,
    ) -> Result<(interloper_check::CheckPlan, Duration), Answer> {
        let started = Instant::now();
        let module = &scrape.module;
        let mut budget = scrape_budget(module.budget, headers);
        let mut plan = module.plan_for(scrape.targets.clone(), budget);
        let networks = module.networks();
        if !networks.is_empty() || !module.allowed_hosts.is_empty() {
            // Redirects stay on the vetted (and pinned) hosts: a page that sends the check
            // elsewhere would reach a host or an address the module does not allow.
            let hosts: Vec<String> = scrape
                .targets
                .iter()
                .filter_map(|t| t.host_str().map(str::to_string))
                .collect();
            plan.discovery.redirect_hosts = Some(hosts);
        }
        if networks.is_empty() {
            return Ok((plan, budget));
        }
        for target in &scrape.targets {
            if let Err((status, failure_kind, reason)) =
                vet_addresses(target, &networks, &scrape.module_name, budget, &mut plan).await
            {
                let result = match failure_kind {
                    Failure::BadRequest => "bad-request",
                    _ => "check-error",
                };
                self.metrics.probe(&scrape.module_name, result);
                log::debug!(module = scrape.module_name.as_str(), target = scrape.label.as_str(),
                    outcome = result, reason = reason.as_str(); "probe refused");
                return Err(failure(status, failure_kind, &reason));
            }
        }
        budget = budget.saturating_sub(started.elapsed()).max(MIN_BUDGET);
        plan.budget = budget;
        Ok((plan, budget))
    }

    /// A finished check: counted, logged and remembered; answered as its registry, or as the
    /// whole report for a person (`debug=true`).
    fn answer_outcome(
        &self,
        scrape: &Scrape,
        outcome: &interloper_check::CheckOutcome,
        elapsed: Duration,
        budget: Duration,
        debug: bool,
    ) -> Answer {
        let module = &scrape.module;
        let passed = metrics::passed(outcome, &module.fail_on);
        self.metrics.probe(
            &scrape.module_name,
            if passed { "success" } else { "failure" },
        );
        log::debug!(module = scrape.module_name.as_str(), target = scrape.label.as_str(),
            outcome = if passed { "success" } else { "failure" },
            duration_seconds = elapsed.as_secs_f64(); "probe finished");
        self.log_result(&scrape.module_name, &scrape.label, passed, &outcome.report);
        self.remember(&scrape.module_name, &scrape.label, passed, &outcome.report);
        if debug {
            return json(serde_json::to_string_pretty(&outcome.report).unwrap_or_default());
        }
        let registry = metrics::outcome_registry(
            outcome,
            &metrics::ScrapeShape {
                fail_on: &module.fail_on,
                elapsed,
                budget,
                witness_configured: module.witness.is_some(),
                members: &scrape.members,
            },
        );
        openmetrics(StatusCode::OK, metrics::encode(&registry))
    }

    /// What a `/probe` query asks for, or (module label, one-line reason).
    fn parse_probe(&self, query: &str) -> Result<Scrape, (String, String)> {
        let config = self.current();
        let (mut target, mut group, mut module) = (None, None, None);
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            match k.as_ref() {
                "target" => target = Some(v.into_owned()),
                "group" => group = Some(v.into_owned()),
                "module" => module = Some(v.into_owned()),
                _ => {}
            }
        }
        let Some(name) = module else {
            return Err((
                String::new(),
                "missing module= (one of the configuration's [module.NAME])".into(),
            ));
        };
        let Some(module) = config.modules.get(&name) else {
            let known: Vec<&str> = config.modules.keys().map(String::as_str).collect();
            return Err((
                String::new(),
                format!(
                    "unknown module {:?}: known modules are {}",
                    truncate(&name),
                    known.join(", ")
                ),
            ));
        };
        let bad = |m: String| Err((name.clone(), m));
        let (targets, members, label) = match (target, group) {
            (Some(_), Some(_)) => {
                return bad("give target= or group=, not both".into());
            }
            (None, None) => {
                return bad(
                    "missing target= (the page URL to check) or group= (an instance group of \
                     the module)"
                        .into(),
                );
            }
            (None, Some(group)) => {
                let Some(members) = module.groups.get(&group) else {
                    let known: Vec<&str> = module.groups.keys().map(String::as_str).collect();
                    return bad(format!(
                        "unknown group {:?} in module {name}: its groups are {}",
                        truncate(&group),
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    ));
                };
                // Validated at load: http(s), a host the module allows.
                (
                    members.values().cloned().collect(),
                    members.keys().cloned().collect(),
                    format!("group:{group}"),
                )
            }
            (Some(target), None) => {
                let url = match parse_target(&target, module, &name) {
                    Ok(url) => url,
                    Err(m) => return bad(m),
                };
                let label = url.to_string();
                (vec![url], Vec::new(), label)
            }
        };
        Ok(Scrape {
            module_name: name.clone(),
            module: module.clone(),
            targets,
            members,
            label,
        })
    }
}

/// What one scrape checks.
struct Scrape {
    module_name: String,
    module: Module,
    /// One page URL, or the members of an instance group.
    targets: Vec<url::Url>,
    /// The members' names, in the order of `targets`; empty for a single target.
    members: Vec<String>,
    /// How the results log and `/probe/debug` name it: the URL, or `group:NAME`.
    label: String,
}

/// A `target=` value as a URL the module may check, or why not.
fn parse_target(target: &str, module: &Module, name: &str) -> Result<url::Url, String> {
    if target.len() > MAX_TARGET_LEN {
        return Err(format!("target longer than {MAX_TARGET_LEN} bytes"));
    }
    let url = url::Url::parse(target)
        .map_err(|e| format!("target {:?} is not a URL: {e}", truncate(target)))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "target {:?}: only http and https are checked",
            truncate(target)
        ));
    }
    let Some(host) = url.host_str() else {
        return Err(format!("target {:?} has no host", truncate(target)));
    };
    if !module.allows_host(host) {
        return Err(format!(
            "target host {:?} is not in module {name}'s allowed_hosts",
            truncate(host)
        ));
    }
    Ok(url)
}

/// Resolves `target`, refuses it when an address lies outside `networks`, and pins the vetted
/// addresses in the plan so the check connects to nothing else.
async fn vet_addresses(
    target: &url::Url,
    networks: &[policy::Network],
    module_name: &str,
    budget: Duration,
    plan: &mut interloper_check::CheckPlan,
) -> Result<(), (StatusCode, Failure, String)> {
    let ips = policy::addresses(
        target,
        &plan.connection.resolve,
        interloper_check::DnsSettings {
            server: plan.connection.dns_server,
            source: plan.connection.source_address,
            // Every address is vetted, whichever family the check then uses.
            family: interloper_check::IpFamily::Any,
        },
        budget.min(Duration::from_secs(5)),
    )
    .await
    // The name does not resolve now: the target is down, not the request bad.
    .map_err(|e| (StatusCode::OK, Failure::CheckError, e))?;
    if let Some(ip) = ips
        .iter()
        .find(|ip| !networks.iter().any(|n| n.contains(**ip)))
    {
        return Err((
            StatusCode::BAD_REQUEST,
            Failure::BadRequest,
            format!(
                "target host resolves to {ip}, outside module {module_name}'s allowed_networks"
            ),
        ));
    }
    let port = target.port_or_known_default().unwrap_or(443);
    if let Some(url::Host::Domain(host)) = target.host() {
        let host = host.to_ascii_lowercase();
        plan.connection
            .resolve
            .retain(|o| !(o.host == host && o.port == port));
        plan.connection.resolve.extend(ips.into_iter().map(|addr| {
            interloper_check::ResolveOverride {
                host: host.clone(),
                port,
                addr,
            }
        }));
    }
    Ok(())
}

/// Counts a check in `interloper_serve_checks_in_flight` while it lives, however it ends.
struct InFlight<'a>(&'a ExporterMetrics);

impl<'a> InFlight<'a> {
    fn new(metrics: &'a ExporterMetrics) -> Self {
        metrics.in_flight().inc();
        InFlight(metrics)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight().dec();
    }
}

/// Opens a log for appending, its path in the error.
fn open_log(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

/// The first characters of a value echoed in an error line.
fn truncate(s: &str) -> String {
    interloper_model::text::cut_chars(s, 200).to_string()
}

/// min(module budget, scrape timeout − margin), never below [`MIN_BUDGET`].
pub fn scrape_budget(module_budget: Duration, headers: &HeaderMap) -> Duration {
    let scrape = headers
        .get("x-prometheus-scrape-timeout-seconds")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .map(|t| t.saturating_sub(SCRAPE_MARGIN));
    scrape
        .map_or(module_budget, |s| s.min(module_budget))
        .max(MIN_BUDGET)
}

fn text(status: StatusCode, body: String) -> Answer {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// 401 asking for basic authentication.
fn unauthorized() -> Answer {
    let mut answer = text(StatusCode::UNAUTHORIZED, "Unauthorized\n".into());
    answer.headers_mut().insert(
        http::header::WWW_AUTHENTICATE,
        http::HeaderValue::from_static("Basic realm=\"interloper\""),
    );
    answer
}

fn json(body: String) -> Answer {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r
}

fn openmetrics(status: StatusCode, body: String) -> Answer {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(metrics::CONTENT_TYPE),
    );
    r
}

/// An error answer: the reason as a comment line, then `probe_success 0`, so both a person
/// and Prometheus (which records the scrape as failed on a non-2xx) can read it.
fn failure(status: StatusCode, failure: Failure, reason: &str) -> Answer {
    let reason = reason.replace(['\n', '\r'], " ");
    let body = format!(
        "# {reason}\n{}",
        metrics::encode(&metrics::failure_registry(failure))
    );
    let mut r = text(status, body);
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}

/// A bound listener serving the exporter.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    exporter: Arc<Exporter>,
    web: Arc<web::WebGuard>,
}

impl Server {
    /// Binds `addr`.
    pub async fn bind(addr: SocketAddr, config: ServeConfig) -> std::io::Result<Server> {
        Ok(Server {
            listener: TcpListener::bind(addr).await?,
            exporter: Arc::new(Exporter::new(config)?),
            web: Arc::new(web::WebGuard::open()),
        })
    }

    /// Serves with `--web.config.file`'s TLS and basic-auth users instead of plain HTTP.
    pub fn with_web(mut self, guard: web::WebGuard) -> Server {
        self.web = Arc::new(guard);
        self
    }

    /// Where it listens.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The exporter it serves (to reload its configuration).
    pub fn exporter(&self) -> Arc<Exporter> {
        Arc::clone(&self.exporter)
    }

    /// Serves until `shutdown` completes; connections then open are dropped.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut connections = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => {
                    let Ok((stream, _)) = accepted else {
                        // Out of descriptors and the like: wait a little rather than spin.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    };
                    let exporter = Arc::clone(&self.exporter);
                    connections.spawn(accept_connection(stream, exporter, Arc::clone(&self.web)));
                }
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
        connections.shutdown().await;
    }
}

/// Time a client gets to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Plain HTTP, or TLS first when the web configuration says so.
async fn accept_connection(
    stream: tokio::net::TcpStream,
    exporter: Arc<Exporter>,
    web: Arc<web::WebGuard>,
) {
    match &web.tls {
        None => serve_connection(stream, exporter, web).await,
        Some(acceptor) => {
            let accepted = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await;
            // A failed handshake (no client certificate, a scanner) is the client's business.
            match accepted {
                Ok(Ok(tls)) => serve_connection(tls, exporter, web).await,
                Ok(Err(e)) => log::debug!(reason:% = e; "TLS handshake refused"),
                Err(_) => log::debug!(reason = "handshake timeout"; "TLS handshake refused"),
            }
        }
    }
}

async fn serve_connection<S>(stream: S, exporter: Arc<Exporter>, web: Arc<web::WebGuard>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req: http::Request<Incoming>| {
        let exporter = Arc::clone(&exporter);
        let web = Arc::clone(&web);
        async move {
            let admitted = web
                .admit(req.headers().get(http::header::AUTHORIZATION))
                .await;
            if admitted == web::Admission::Refused {
                log::debug!(path = req.uri().path(), reason = "basic auth"; "request refused");
                return Ok::<_, Infallible>(unauthorized());
            }
            let answer = exporter
                .handle(req.method(), req.uri(), req.headers())
                .await;
            Ok::<_, Infallible>(answer)
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10))
        .serve_connection(TokioIo::new(stream), service);
    // A client that goes away mid-answer is its own business.
    let _ = conn.await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scrape_timeout_bounds_the_budget() {
        let mut h = HeaderMap::new();
        assert_eq!(
            scrape_budget(Duration::from_secs(10), &h),
            Duration::from_secs(10)
        );
        h.insert("x-prometheus-scrape-timeout-seconds", "5".parse().unwrap());
        assert_eq!(
            scrape_budget(Duration::from_secs(10), &h),
            Duration::from_millis(4500)
        );
        assert_eq!(
            scrape_budget(Duration::from_secs(2), &h),
            Duration::from_secs(2)
        );
        h.insert(
            "x-prometheus-scrape-timeout-seconds",
            "0.1".parse().unwrap(),
        );
        assert_eq!(scrape_budget(Duration::from_secs(2), &h), MIN_BUDGET);
        h.insert(
            "x-prometheus-scrape-timeout-seconds",
            "NaN".parse().unwrap(),
        );
        assert_eq!(
            scrape_budget(Duration::from_secs(2), &h),
            Duration::from_secs(2)
        );
        h.insert("x-prometheus-scrape-timeout-seconds", "-3".parse().unwrap());
        assert_eq!(
            scrape_budget(Duration::from_secs(2), &h),
            Duration::from_secs(2)
        );
    }
}
