//! `interloper pcap FILE…`: the wire's own account of each TCP connection in a capture — where
//! the seconds went, who ended it, who spoke TLS — with findings from the same catalogue.
//!
//! The flags become an `interloper_flows::PcapPlan` over the files opened here;
//! `interloper_flows::run_pcap` reads, filters and judges them (chains in the clear by
//! `interloper_chain::TlsPath`, the trust files read from this machine), or
//! `interloper_flows::scan_hellos` hands each ClientHello over for `--hellos-only`; the report
//! or the hello lines are written here. Only pure crates: nothing needs the I/O `check` crate.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::bail;
use interloper_flows::{ConnectionFilter, FoundHello, PcapPlan, run_pcap, scan_hellos};
use interloper_report::{HelloLine, PcapReport, PcapSource};

use crate::args::{ReportArgs, Trust, parse};
use crate::exit::Exit;
use crate::out::Style;

/// Arguments of `interloper pcap`.
#[derive(Debug, clap::Args)]
#[command(mut_arg("json", |a| a.help("Print the report as JSON (schema interloper.pcap/v1, see docs/pcap.md)")))]
#[command(mut_arg("html", |a| a.help("Also write the report as one self-contained HTML page to FILE (one lane per connection)")))]
pub struct Args {
    /// Captures (pcap or pcapng; Ethernet, VLAN, Linux cooked SLL/SLL2, loopback or raw IP),
    /// `-` for standard input, e.g. from `tcpdump -w -`.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Only connections to this server: an address, or address:port.
    #[arg(long, value_name = "ADDR", conflicts_with = "port")]
    pub server: Option<String>,
    /// Only connections to this server port.
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,
    /// Only TLS connections whose ClientHello names this server (SNI).
    #[arg(long, value_name = "NAME")]
    pub sni: Option<String>,
    /// A wait for the first response byte, a gap inside a response or a TLS handshake this
    /// long is a stall.
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse::duration)]
    pub stall: Duration,
    /// Print only each ClientHello, one line each: client, server, SNI, JA3 (MD5), JA4 —
    /// the fast path for fingerprinting a large capture. With --json, one JSON object per
    /// line (schema interloper.hello/v1).
    #[arg(long, conflicts_with = "html")]
    pub hellos_only: bool,
    #[command(flatten)]
    pub report: ReportArgs,
    #[command(flatten)]
    pub trust: Trust,
}

/// Run `interloper pcap`: problems when a finding is at or above `--fail-on`.
pub async fn run(args: Args, style: Style) -> anyhow::Result<Exit> {
    // Reading files is blocking work: keep it off the async workers.
    tokio::task::spawn_blocking(move || run_blocking(args, style)).await?
}

/// The plan these flags describe; a `--server` that is no address is an input error.
fn plan(args: &Args) -> anyhow::Result<PcapPlan> {
    let server = match &args.server {
        None => None,
        Some(s) => match ConnectionFilter::parse_server(s) {
            Some(server) => Some(server),
            None => bail!("--server {s}: not an IP address or address:port"),
        },
    };
    Ok(PcapPlan {
        // No progress bar: captures are read fast, and `--hellos-only` may be watching a pipe.
        inputs: args
            .files
            .iter()
            .map(|path| crate::out::input(path, false))
            .collect(),
        filter: ConnectionFilter {
            server,
            port: args.port,
            sni: args.sni.as_ref().map(|s| s.to_ascii_lowercase()),
        },
        stall: args.stall,
        trust: args.trust.tls_path_options(),
        now: interloper_chain::time::OffsetDateTime::now_utc(),
    })
}

fn run_blocking(args: Args, style: Style) -> anyhow::Result<Exit> {
    let plan = plan(&args)?;
    if args.hellos_only {
        return print_hellos(&args, plan);
    }
    let outcome = run_pcap(plan, &crate::args::trust::LocalTrustFiles)?;
    let worst = outcome.diagnosis.worst();
    let sources = outcome
        .files
        .into_iter()
        .map(|f| PcapSource {
            name: f.name,
            packets: f.packets,
        })
        .collect();
    let report = PcapReport::new(
        outcome.diagnosis,
        outcome.flows,
        sources,
        outcome.filtered_out,
        crate::out::report_meta(),
    );
    crate::out::write_report(&report, &args.report, style)?;
    Ok(Exit::from_findings(worst, args.report.fail_on))
}

/// `--hellos-only`: one tab-separated line per ClientHello, written as soon as it is complete
/// (the fast path: no timelines, no findings); notes about the capture go to standard error.
fn print_hellos(args: &Args, plan: PcapPlan) -> anyhow::Result<Exit> {
    let stdout = io::stdout();
    let mut w = BufWriter::with_capacity(1 << 16, stdout.lock());
    // A capture piped in (`tcpdump -w - | interloper pcap - --hellos-only`) is watched live:
    // each line goes out as its hello completes.
    let live = args.files.iter().any(|f| f == Path::new("-"));
    let mut failed: Option<io::Error> = None;
    let scanned = scan_hellos(plan, |h: FoundHello| {
        if failed.is_some() {
            return;
        }
        let line = if args.report.json {
            serde_json::to_writer(&mut w, &HelloLine::new(&h))
                .map_err(io::Error::from)
                .and_then(|()| w.write_all(b"\n"))
        } else {
            writeln!(
                w,
                "{}\t{}\t{}\t{}\t{}",
                h.client,
                h.server,
                h.sni.as_deref().unwrap_or("-"),
                h.ja3_hash,
                h.ja4
            )
        };
        failed = line
            .and_then(|()| if live { w.flush() } else { Ok(()) })
            .err();
    });
    if let Some(e) = failed {
        return Err(e.into());
    }
    let notes = scanned?;
    w.flush()?;
    for note in notes {
        eprintln!("note: {note}");
    }
    Ok(Exit::Clean)
}
