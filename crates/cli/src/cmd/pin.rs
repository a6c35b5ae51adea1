//! `interloper pin FILE.pem|URL`: the SPKI pins of a certificate bundle or of a server's chain,
//! in the form `--expect-pin` (and curl's `--pinnedpubkey`) take.

use std::io::Write;

use interloper_chain::{CertFacts, pins_from_pem};
use interloper_probe::{ConnectionPolicy, Probe, Target};

use crate::args::ConnectArgs;
use crate::exit::Exit;

/// Arguments of `interloper pin`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A PEM file, or an https:// URL whose presented chain to pin.
    #[arg(value_name = "FILE|URL")]
    pub source: String,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// Run `interloper pin`: clean once the pins are printed; a chain it cannot get is an input
/// error (there is nothing to pin).
pub async fn run(args: Args) -> anyhow::Result<Exit> {
    let mut lines = Vec::new();
    if args.source.starts_with("https://") {
        let target = Target::parse(&args.source)?;
        let mut cfg = args.connect.probe_config();
        // Pinning is about what is presented, trusted or not; nothing is sent but the request.
        cfg.insecure_skip_verify = true;
        cfg.headers.clear();
        cfg.max_body = Some(0);
        let probe = Probe::new(cfg)?;
        let rec = probe
            .session(ConnectionPolicy::Fresh)
            .request(&target, 0)
            .await;
        let chain = rec.tls.map(|t| t.presented_chain).unwrap_or_default();
        if chain.is_empty() {
            // A failed or silent handshake presents nothing to pin: say why, never print
            // nothing and succeed.
            anyhow::bail!(
                "{}: no certificate presented ({})",
                args.source,
                rec.error
                    .map(|e| e.message)
                    .unwrap_or_else(|| "the handshake ended without one".into())
            );
        }
        for (i, der) in chain.iter().enumerate() {
            let facts = CertFacts::from_der(i, der);
            lines.push(format!(
                "{}  [{i}] {}",
                facts.spki_pin.unwrap_or_else(|| "(unparsed)".into()),
                facts.subject.unwrap_or_default()
            ));
        }
    } else {
        let bytes = std::fs::read(&args.source)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", args.source))?;
        let pins = pins_from_pem(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", args.source))?;
        if pins.is_empty() {
            anyhow::bail!("{} holds no PEM certificate", args.source);
        }
        for p in pins {
            lines.push(format!(
                "{}  [{}] {}",
                p.pin.unwrap_or_else(|| "(unparsed)".into()),
                p.index,
                p.subject.unwrap_or_default()
            ));
        }
    }
    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    for l in lines {
        writeln!(w, "{l}")?;
    }
    Ok(Exit::Clean)
}
