//! `interloper tls URL…`: the certificate chain as the client sees it, trust against public
//! roots vs the local store, interception evidence, pins, our own JA3/JA4, and (with
//! `--echo`) what a witness beside the server saw.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use base64::Engine as _;
use interloper_chain::{ChainReport, PathStatus};
use interloper_check::tlspath::{
    self, HelloFingerprints, TlsPathOptions, WitnessView, analyse_session, ask_witness,
    fingerprints, load_products, load_roots,
};
use interloper_probe::{ConnectionPolicy, Probe, Target};
use serde::Serialize;

use super::connect::ConnectArgs;
use crate::out::Style;

/// JSON schema of `interloper tls --json`.
pub const TLS_SCHEMA: &str = "interloper.tls/v1";

/// Arguments of `interloper tls`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// HTTPS URLs to examine.
    #[arg(required = true, value_name = "URL")]
    pub urls: Vec<String>,
    /// Public roots to use instead of Mozilla's list (PEM), e.g. a test CA.
    #[arg(long, value_name = "FILE")]
    pub public_roots: Option<PathBuf>,
    /// Expected SPKI pin, sha256//BASE64 (as curl's --pinnedpubkey); repeatable.
    #[arg(long, value_name = "sha256//BASE64")]
    pub expect_pin: Vec<String>,
    /// Expected leaf certificate (PEM or DER).
    #[arg(long, value_name = "FILE")]
    pub expect_cert: Option<PathBuf>,
    /// An interloper witness (`interloper echo`) beside the server, e.g. https://host:8443.
    #[arg(long, value_name = "URL")]
    pub echo: Option<String>,
    /// The query API of an `interloper echo --passthrough` in front of the server (e.g.
    /// http://127.0.0.1:9443): asks whether our ClientHello reached it.
    #[arg(long, value_name = "URL")]
    pub echo_api: Option<String>,
    /// A previous `interloper tls --json` of the same URL from a clean path (e.g. inside the
    /// server's network): its chain and protocol are the reference for minted-certificate
    /// traits and downgrades.
    #[arg(long, value_name = "FILE")]
    pub reference: Option<PathBuf>,
    /// Interception products file replacing the built-in one (TOML).
    #[arg(long, value_name = "FILE")]
    pub products: Option<PathBuf>,
    /// Do not read the OS trust store as the local roots.
    #[arg(long)]
    pub no_os_roots: bool,
    /// Print JSON (schema interloper.tls/v1, see docs/tls-json.md).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// Everything `tls` found for one URL.
#[derive(Debug, Serialize)]
pub struct TlsResult {
    /// Always `interloper.tls/v1`.
    pub schema: &'static str,
    /// The URL examined.
    pub url: String,
    /// Verdict: status, confidence, product, rule, summary.
    pub verdict: Option<interloper_chain::PathVerdict>,
    /// The chain as presented, with facts per certificate.
    pub chain: Vec<interloper_chain::CertFacts>,
    /// The chain as presented, DER in base64, leaf first (what `--reference` reads back).
    pub chain_der: Vec<String>,
    /// Trust against public and local roots.
    pub trust: Option<interloper_chain::TrustResult>,
    /// Products recognised.
    pub products: Vec<interloper_chain::ProductMatch>,
    /// Every piece of evidence, in order.
    pub evidence: Vec<interloper_chain::Signal>,
    /// What the connection negotiated.
    pub negotiated: Negotiated,
    /// Our own ClientHello's fingerprints.
    pub client_hello: Option<HelloFingerprints>,
    /// What the witness saw, with `--echo`.
    pub witness: Option<WitnessView>,
    /// Whether our hello reached the passthrough, with `--echo-api`.
    pub passthrough: Option<tlspath::PassthroughView>,
    /// Why there is no verdict (the connection failed).
    pub error: Option<String>,
}

/// Negotiated parameters.
#[derive(Debug, Default, Serialize)]
pub struct Negotiated {
    /// TLS version.
    pub version: Option<String>,
    /// Cipher suite.
    pub cipher: Option<String>,
    /// ALPN.
    pub alpn: Option<String>,
    /// The address connected to.
    pub remote_addr: Option<String>,
    /// Handshake time (ms).
    pub tls_ms: Option<f64>,
}

/// Run `interloper tls`. Exit 0 when every URL is clean, 1 otherwise, 2 for input errors.
pub async fn run(args: Args, style: Style) -> anyhow::Result<u8> {
    let opts = TlsPathOptions {
        public_roots: args.public_roots.clone(),
        cacert: args.connect.cacert.clone(),
        use_os_roots: !args.no_os_roots,
        pins: args.expect_pin.clone(),
        expect_cert: args.expect_cert.clone(),
        products: args.products.clone(),
    };
    for p in &args.expect_pin {
        interloper_chain::Pin::parse(p)
            .map_err(|e| anyhow::anyhow!("--expect-pin {p}: {e} (expected sha256//BASE64)"))?;
    }
    let roots = load_roots(&opts)?;
    for w in &roots.warnings {
        eprintln!("interloper: warning: {w}");
    }
    let products = load_products(&opts)?;
    let mut cfg = args.connect.probe_config()?;
    // Roots the user calls public are trusted for connecting too.
    cfg.cacert_files.extend(args.public_roots.iter().cloned());
    // The chain is judged by the chain analysis, not by the handshake: finish the handshake
    // whatever it presents, and send nothing the user did not trust it with.
    cfg.insecure_skip_verify = true;
    cfg.headers.clear();
    cfg.max_body = Some(1 << 20);
    let probe = Probe::new(cfg.clone())?;
    let mut results = Vec::new();
    for url in &args.urls {
        let target = Target::parse(url)?;
        if target.url.scheme() != "https" {
            anyhow::bail!("{url}: not an https:// URL");
        }
        results.push(examine(&probe, &target, &cfg, &roots, &products, &opts, &args).await?);
    }
    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    if args.json {
        if results.len() == 1 {
            serde_json::to_writer_pretty(&mut w, &results[0])?;
        } else {
            serde_json::to_writer_pretty(&mut w, &results)?;
        }
        writeln!(w)?;
    } else {
        for r in &results {
            render(&mut w, r, style)?;
        }
    }
    w.flush()?;
    let clean = results.iter().all(|r| {
        r.verdict
            .as_ref()
            .is_some_and(|v| v.status == PathStatus::Clean)
    });
    Ok(if clean { 0 } else { 1 })
}

async fn examine(
    probe: &Probe,
    target: &Target,
    cfg: &interloper_probe::ProbeConfig,
    roots: &tlspath::RootSets,
    products: &interloper_chain::ProductDb,
    opts: &TlsPathOptions,
    args: &Args,
) -> anyhow::Result<TlsResult> {
    let rec = probe
        .session(ConnectionPolicy::Fresh)
        .request(target, 0)
        .await;
    let mut result = TlsResult {
        schema: TLS_SCHEMA,
        url: target.url.to_string(),
        verdict: None,
        chain: Vec::new(),
        chain_der: Vec::new(),
        trust: None,
        products: Vec::new(),
        evidence: Vec::new(),
        negotiated: Negotiated {
            remote_addr: rec.remote_addr.clone(),
            tls_ms: rec.phases.tls_ms,
            ..Negotiated::default()
        },
        client_hello: None,
        witness: None,
        passthrough: None,
        error: None,
    };
    let Some(tls) = rec.tls.clone() else {
        result.error = Some(
            rec.error
                .as_ref()
                .map(|e| format!("{} ({})", e.message, e.kind.as_str()))
                .unwrap_or_else(|| "no TLS session".into()),
        );
        return Ok(result);
    };
    result.chain_der = tls
        .presented_chain
        .iter()
        .map(|c| base64::engine::general_purpose::STANDARD.encode(c))
        .collect();
    result.negotiated.version.clone_from(&tls.version);
    result.negotiated.cipher.clone_from(&tls.cipher);
    result.negotiated.alpn.clone_from(&tls.alpn);
    result.client_hello = fingerprints(&tls);
    if let Some(echo) = &args.echo {
        result.witness = Some(ask_witness(echo, cfg).await);
    }
    let host = target
        .url
        .host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    if let (Some(api), Some(hello)) = (&args.echo_api, &result.client_hello) {
        result.passthrough = Some(tlspath::ask_passthrough(api, &hello.client_random, cfg).await);
    }
    // A passthrough is a witness that saw (or did not see) our hello: the same rule applies.
    let passthrough_witness = match (&result.witness, &result.passthrough) {
        (None, Some(p)) => p.seen.map(WitnessView::from_passthrough),
        _ => None,
    };
    let witness = result.witness.as_ref().or(passthrough_witness.as_ref());
    let reference = match &args.reference {
        Some(path) => Some(read_reference(path, target.url.as_str())?),
        None => None,
    };
    let report: ChainReport =
        analyse_session(&tls, &host, roots, products, opts, witness, reference)
            .context("analysing the chain")?;
    result.verdict = Some(report.verdict);
    result.chain = report.certificates;
    result.trust = Some(report.trust);
    result.products = report.products;
    result.evidence = report.evidence;
    Ok(result)
}

/// A previous `tls --json` (one object or an array): the entry for `url`, or the first.
fn read_reference(path: &PathBuf, url: &str) -> anyhow::Result<interloper_chain::Reference> {
    let bytes = std::fs::read(path).with_context(|| format!("--reference {}", path.display()))?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "--reference {}: not the JSON of `interloper tls --json`",
            path.display()
        )
    })?;
    let entries: Vec<&serde_json::Value> = match &v {
        serde_json::Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    let entry = entries
        .iter()
        .find(|e| e["url"].as_str() == Some(url))
        .or(entries.first())
        .filter(|e| e["schema"].as_str() == Some(TLS_SCHEMA))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "--reference {}: no {TLS_SCHEMA} result in it",
                path.display()
            )
        })?;
    let chain = entry["chain_der"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c.as_str())
                .filter_map(|c| base64::engine::general_purpose::STANDARD.decode(c).ok())
                .collect()
        })
        .unwrap_or_default();
    Ok(interloper_chain::Reference {
        chain,
        negotiated: interloper_chain::Negotiated {
            tls_version: entry["negotiated"]["version"].as_str().map(str::to_string),
            alpn: entry["negotiated"]["alpn"].as_str().map(str::to_string),
        },
    })
}

fn render(w: &mut dyn Write, r: &TlsResult, style: Style) -> std::io::Result<()> {
    writeln!(w, "{}", style.bold(&r.url))?;
    if let Some(e) = &r.error {
        writeln!(w, "  {} {e}", style.red("connection failed:"))?;
        return Ok(());
    }
    if let Some(v) = &r.verdict {
        let status = format!("{:?}", v.status);
        let badge = match v.status {
            PathStatus::Clean => style.green(&status),
            _ => style.red(&status),
        };
        writeln!(w, "  verdict    {badge} ({:?} confidence)", v.confidence)?;
        if let Some(p) = &v.product {
            writeln!(w, "  product    {} ({})", p.name, p.vendor)?;
        }
        writeln!(w, "  {}", v.summary)?;
    }
    let n = &r.negotiated;
    writeln!(
        w,
        "  session    {} · {} · ALPN {} · {}",
        n.version.as_deref().unwrap_or("?"),
        n.cipher.as_deref().unwrap_or("?"),
        n.alpn.as_deref().unwrap_or("none"),
        n.remote_addr.as_deref().unwrap_or("?")
    )?;
    if let Some(t) = &r.trust {
        writeln!(
            w,
            "  trust      {:?}  (public roots: {}, local roots: {})",
            t.status,
            if t.public.ok { "yes" } else { "no" },
            if t.local.ok { "yes" } else { "no" }
        )?;
    }
    writeln!(w, "  chain")?;
    for c in &r.chain {
        writeln!(
            w,
            "    [{}] {}",
            c.index,
            c.subject.as_deref().unwrap_or("(unparsed certificate)")
        )?;
        writeln!(w, "        issuer {}", c.issuer.as_deref().unwrap_or("?"))?;
        writeln!(
            w,
            "        valid {} → {} · key {} · SCTs {} · {}",
            c.not_before.as_deref().unwrap_or("?"),
            c.not_after.as_deref().unwrap_or("?"),
            c.key
                .as_ref()
                .map(|k| match (&k.curve, k.bits) {
                    (Some(curve), _) => format!("{} {curve}", k.algorithm),
                    (None, Some(b)) => format!("{} {b}", k.algorithm),
                    _ => k.algorithm.clone(),
                })
                .unwrap_or_else(|| "?".into()),
            c.sct_count,
            c.spki_pin.as_deref().unwrap_or("")
        )?;
    }
    if !r.evidence.is_empty() {
        writeln!(w, "  evidence")?;
        for e in &r.evidence {
            writeln!(w, "    {:<16} {}", format!("{:?}", e.strength), e.message)?;
        }
    }
    if let Some(h) = &r.client_hello {
        writeln!(w, "  our hello  JA4 {}  JA3 {}", h.ja4, h.ja3_hash)?;
    }
    if let Some(p) = &r.passthrough {
        match (&p.error, p.seen) {
            (Some(e), _) => writeln!(w, "  passthrough {}", style.red(e))?,
            (None, Some(true)) => writeln!(
                w,
                "  passthrough {}: our hello {} (JA4 {})",
                p.api,
                style.green("arrived"),
                p.ja4.join(", ")
            )?,
            _ => writeln!(
                w,
                "  passthrough {}: our hello {} — something else answered our TLS",
                p.api,
                style.red("NEVER ARRIVED")
            )?,
        }
    }
    if let Some(wv) = &r.witness {
        match &wv.error {
            Some(e) => writeln!(w, "  witness    {}", style.red(e))?,
            None => {
                let cmp = wv.comparison();
                writeln!(
                    w,
                    "  witness    {}: client_random {} · chain {} · JA4 received {}",
                    wv.url,
                    match cmp.and_then(|c| c.client_random_equal) {
                        Some(true) => style.green("same"),
                        Some(false) => style.red("DIFFERENT"),
                        None => "?".into(),
                    },
                    match cmp.and_then(|c| c.chain_equal) {
                        Some(true) => style.green("same"),
                        Some(false) => style.red("DIFFERENT"),
                        None => "?".into(),
                    },
                    wv.ja4.as_deref().unwrap_or("?")
                )?;
            }
        }
    }
    writeln!(w)?;
    Ok(())
}
