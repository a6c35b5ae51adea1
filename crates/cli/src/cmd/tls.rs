//! `interloper tls URL…`: the certificate chain as the client sees it, trust against public
//! roots vs the local store, interception evidence, pins, our own JA3/JA4, and (with
//! `--echo`) what a witness beside the server saw.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use interloper_chain::TlsPathOptions;
use interloper_check::tlspath::{TlsExamination, TlsRequest, examine, reference_from_json};
use interloper_probe::Target;

use crate::args::{ConnectArgs, JsonFailOn, Trust, parse};
use crate::exit::Exit;
use crate::out::Style;

/// Arguments of `interloper tls`.
#[derive(Debug, clap::Args)]
#[command(mut_arg("json", |a| a.help("Print JSON (schema interloper.tls/v1, see docs/tls-json.md)")))]
pub struct Args {
    /// HTTPS URLs to examine.
    #[arg(required = true, value_name = "URL")]
    pub urls: Vec<String>,
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
    /// ClientHello shapes to try, one fresh connection each: classic (X25519, always), pq
    /// (X25519MLKEM768, what browsers send), large (the pq hello over several TCP segments).
    #[arg(long, value_name = "LIST", default_value = "classic,pq,large", value_parser = parse::hello_shapes)]
    pub hello_shapes: parse::HelloShapeList,
    #[command(flatten)]
    pub report: JsonFailOn,
    #[command(flatten)]
    pub trust: Trust,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// Run `interloper tls`: problems when what a URL shows (a failed connection included) is at
/// or above `--fail-on` (`TlsExamination::worst`).
pub async fn run(args: Args, style: Style) -> anyhow::Result<Exit> {
    let path = crate::args::trust::load_tls_path(&TlsPathOptions {
        expect_cert: args.expect_cert.clone(),
        products: args.products.clone(),
        ..args.trust.tls_path_options()
    })?;
    for w in path.warnings() {
        eprintln!("interloper: warning: {w}");
    }
    let mut connection = args.connect.probe_config();
    args.trust.apply(&mut connection)?;
    let parse_url =
        |flag: &str, u: &str| url::Url::parse(u).with_context(|| format!("{flag} {u}: not a URL"));
    let witness = args
        .echo
        .as_deref()
        .map(|u| parse_url("--echo", u))
        .transpose()?;
    let passthrough_api = args
        .echo_api
        .as_deref()
        .map(|u| parse_url("--echo-api", u))
        .transpose()?;
    let mut results = Vec::new();
    for url in &args.urls {
        let target = Target::parse(url)?;
        if target.url.scheme() != "https" {
            anyhow::bail!("{url}: not an https:// URL");
        }
        let reference = match &args.reference {
            Some(file) => {
                let bytes = std::fs::read(file)
                    .with_context(|| format!("--reference {}", file.display()))?;
                Some(
                    reference_from_json(&bytes, target.url.as_str())
                        .map_err(|e| anyhow::anyhow!("--reference {}: {e}", file.display()))?,
                )
            }
            None => None,
        };
        let request = TlsRequest {
            url: target.url,
            witness: witness.clone(),
            passthrough_api: passthrough_api.clone(),
            reference,
            hello_shapes: if args.hello_shapes.0.len() > 1 {
                args.hello_shapes.0.clone()
            } else {
                Vec::new()
            },
        };
        results.push(examine(&path, &connection, &request).await?);
    }
    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    if args.report.json {
        if results.len() == 1 {
            serde_json::to_writer_pretty(&mut w, &results[0])?;
        } else {
            serde_json::to_writer_pretty(&mut w, &results)?;
        }
        writeln!(w)?;
    } else {
        interloper_report::render_tls_terminal(&results, &mut w, style.terminal())?;
    }
    w.flush()?;
    let worst = results.iter().filter_map(TlsExamination::worst).max();
    Ok(Exit::from_findings(worst, args.report.fail_on))
}
