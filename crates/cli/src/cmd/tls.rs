//! `interloper tls URL…`: the certificate chain as the client sees it, trust against public
//! roots vs the local store, interception evidence, pins, our own JA3/JA4, and (with
//! `--echo`) what a witness beside the server saw.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use interloper_chain::PathStatus;
use interloper_check::tlspath::{
    ShapeOutcome, TlsExamination, TlsPath, TlsPathOptions, TlsRequest, examine, reference_from_json,
};
use interloper_probe::Target;

use crate::args::{ConnectArgs, Trust, parse};
use crate::exit::Exit;
use crate::out::Style;

/// Arguments of `interloper tls`.
#[derive(Debug, clap::Args)]
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
    /// Print JSON (schema interloper.tls/v1, see docs/tls-json.md).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub trust: Trust,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// Run `interloper tls`: clean when every URL is clean, problems otherwise (a failed
/// connection included).
pub async fn run(args: Args, style: Style) -> anyhow::Result<Exit> {
    let path = TlsPath::load(&TlsPathOptions {
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
    Ok(Exit::problems_if(
        !results.iter().all(TlsExamination::is_clean),
    ))
}

/// One line per hello shape: what the path did with it, and the group negotiated.
fn render_shapes(w: &mut dyn Write, r: &TlsExamination, style: Style) -> std::io::Result<()> {
    if r.hello_shapes.is_empty() {
        return Ok(());
    }
    writeln!(w, "  hello shapes")?;
    for s in &r.hello_shapes {
        let word = s.outcome.as_str();
        let badge = match s.outcome {
            ShapeOutcome::Accepted => style.green(word),
            ShapeOutcome::Failed => word.to_string(),
            _ => style.red(&word.to_ascii_uppercase()),
        };
        let mut line = format!("    {:<8} {badge}", s.shape.as_str());
        if let Some(g) = &s.group {
            line.push_str(&format!(" · group {g}"));
        }
        if let Some(n) = s.hello_bytes {
            line.push_str(&format!(" · hello {n} B"));
        }
        if let Some(ms) = s.tls_ms {
            line.push_str(&format!(
                " · handshake {}",
                interloper_model::units::fmt_duration_ms(ms)
            ));
        }
        if let Some(e) = s
            .error
            .as_ref()
            .filter(|_| s.outcome != ShapeOutcome::Accepted)
        {
            line.push_str(&format!(" · {e}"));
        }
        writeln!(w, "{line}")?;
    }
    let refused = r.hello_shapes.iter().any(|s| {
        !s.shape.is_classic() && !matches!(s.outcome, ShapeOutcome::Accepted | ShapeOutcome::Failed)
    });
    let classic_ok = r
        .hello_shapes
        .first()
        .is_some_and(|s| s.outcome == ShapeOutcome::Accepted);
    if refused && classic_ok {
        writeln!(
            w,
            "  {} the path refuses or holds the hello browsers send while the classic one \
             passes (docs/findings/IL107.md)",
            style.red("browser-shaped hello fails:")
        )?;
    }
    Ok(())
}

fn render(w: &mut dyn Write, r: &TlsExamination, style: Style) -> std::io::Result<()> {
    writeln!(w, "{}", style.bold(&r.url))?;
    if let Some(e) = &r.error {
        writeln!(w, "  {} {e}", style.red("connection failed:"))?;
        render_shapes(w, r, style)?;
        return Ok(());
    }
    if let Some(v) = &r.verdict {
        let status = v.status.as_str().to_ascii_uppercase();
        let badge = match v.status {
            PathStatus::Clean => style.green(&status),
            PathStatus::Intercepted
            | PathStatus::LikelyIntercepted
            | PathStatus::PrivatePkiUnknown
            | PathStatus::Untrusted => style.red(&status),
        };
        writeln!(
            w,
            "  verdict    {badge} ({} confidence)",
            v.confidence.as_str()
        )?;
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
        n.remote_addr
            .map_or_else(|| "?".to_string(), |a| a.to_string())
    )?;
    if let Some(t) = &r.trust {
        writeln!(
            w,
            "  trust      {}  (public roots: {}, local roots: {})",
            t.status.as_str(),
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
            writeln!(w, "    {:<16} {}", e.strength.as_str(), e.message)?;
        }
    }
    if let Some(h) = &r.client_hello {
        writeln!(w, "  our hello  JA4 {}  JA3 {}", h.ja4, h.ja3_hash)?;
    }
    render_shapes(w, r, style)?;
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
                if let Some(stack) = &wv.upstream_stack {
                    writeln!(
                        w,
                        "  upstream   the hello that reached the witness is {}'s, not ours",
                        stack.describe()
                    )?;
                }
            }
        }
    }
    writeln!(w)?;
    Ok(())
}
