//! `interloper pcap FILE…`: the wire's own account of each TCP connection in a capture — where
//! the seconds went, who ended it, who spoke TLS — with findings from the same catalogue.
//!
//! The files are opened here and streamed through `interloper_flows` (pure, bounded); the
//! findings crate judges the connections, `interloper_chain::TlsPath` judges chains visible in
//! the clear (TLS ≤ 1.2) with the same roots as `tls`, and the report crate renders. Only pure
//! crates: nothing here needs the I/O `check` crate.

use std::io::{self, BufWriter, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::bail;
use interloper_findings::{PcapThresholds, analyse_pcap};
use interloper_flows::{
    Analyzer, Connection, Flows, FoundHello, HelloScanner, Options, PacketSink, read_into,
};
use interloper_model::TlsInfo;
use interloper_report::tls::{negotiated_of, presented_session, tls_evidence};
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

/// Which connections the user asked about.
struct Filter {
    server: Option<(IpAddr, Option<u16>)>,
    port: Option<u16>,
    sni: Option<String>,
}

impl Filter {
    fn from_args(args: &Args) -> anyhow::Result<Filter> {
        let server = match &args.server {
            None => None,
            Some(s) => {
                if let Ok(sa) = s.parse::<SocketAddr>() {
                    Some((sa.ip(), Some(sa.port())))
                } else if let Ok(ip) = s.trim_matches(['[', ']']).parse::<IpAddr>() {
                    Some((ip, None))
                } else {
                    bail!("--server {s}: not an IP address or address:port");
                }
            }
        };
        Ok(Filter {
            server,
            port: args.port,
            sni: args.sni.as_ref().map(|s| s.to_ascii_lowercase()),
        })
    }

    fn keeps(&self, c: &Connection) -> bool {
        self.matches(c.server, c.sni())
    }

    fn matches(&self, server: SocketAddr, sni: Option<&str>) -> bool {
        let server_ok = self
            .server
            .is_none_or(|(ip, port)| server.ip() == ip && port.is_none_or(|p| server.port() == p));
        let port_ok = self.port.is_none_or(|p| server.port() == p);
        let sni_ok = self
            .sni
            .as_deref()
            .is_none_or(|want| sni.is_some_and(|n| n.eq_ignore_ascii_case(want)));
        server_ok && port_ok && sni_ok
    }
}

/// Reads every file into one sink; a file that is not a capture is an input error, and so is a
/// set of files none of whose packets could be decoded.
fn read_all<S: PacketSink>(args: &Args, sink: &mut S) -> anyhow::Result<Vec<PcapSource>> {
    let mut sources = Vec::new();
    for path in &args.files {
        let name = path.display().to_string();
        let before = sink.stats().packets;
        let (reader, _) = crate::out::open_input(path)?;
        read_into(reader, sink).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        let packets = sink.stats().packets - before;
        sources.push(PcapSource { name, packets });
    }
    let stats = sink.stats();
    let unsupported = stats.unsupported_linktypes.first().copied();
    let decoded = stats.tcp_packets > 0 || stats.packets > stats.skipped_packets;
    if let (Some(lt), false) = (unsupported, decoded) {
        bail!("{}", interloper_flows::FlowsError::UnsupportedLinktype(lt));
    }
    Ok(sources)
}

fn run_blocking(args: Args, style: Style) -> anyhow::Result<Exit> {
    let filter = Filter::from_args(&args)?;
    let opts = Options {
        gap_threshold_us: u64::try_from(args.stall.as_micros()).unwrap_or(u64::MAX),
        ..Options::default()
    };
    if args.hellos_only {
        return print_hellos(&args, &filter, opts);
    }
    let mut analyzer = Analyzer::new(opts);
    let sources = read_all(&args, &mut analyzer)?;
    let mut flows = analyzer.finish();
    let total = flows.connections.len();
    flows.connections.retain(|c| filter.keeps(c));
    let filtered_out = total - flows.connections.len();
    let chains = visible_chains(&args, &flows)?;
    let th = PcapThresholds {
        stall_ms: args.stall.as_secs_f64() * 1000.0,
        ..PcapThresholds::default()
    };
    let analysis = analyse_pcap(&interloper_flows::capture_evidence(&flows), &th, &chains);
    let worst = analysis.worst();
    let report = PcapReport::new(
        analysis,
        flows,
        sources,
        filtered_out,
        crate::out::report_meta(),
    );
    crate::out::write_report(&report, &args.report, style)?;
    Ok(Exit::from_findings(worst, args.report.fail_on))
}

/// The chain analysis of every connection whose certificates were in the clear, one per
/// (server, SNI), with the roots `tls` would use.
fn visible_chains(
    args: &Args,
    flows: &Flows,
) -> anyhow::Result<Vec<(usize, interloper_findings::TlsEvidence)>> {
    let with_certs: Vec<&Connection> = flows
        .connections
        .iter()
        .filter(|c| c.tls.as_ref().is_some_and(|t| !t.certificates.is_empty()))
        .collect();
    if with_certs.is_empty() {
        return Ok(Vec::new());
    }
    let path = crate::args::trust::load_tls_path(&args.trust.tls_path_options())?;
    let now = interloper_chain::time::OffsetDateTime::now_utc();
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for c in with_certs {
        let Some(t) = &c.tls else { continue };
        let name = c
            .sni()
            .map_or_else(|| c.server.ip().to_string(), str::to_string);
        if !seen.insert((c.server, name.clone())) {
            continue;
        }
        let info = TlsInfo {
            version: t.server_hello.as_ref().map(|s| s.version.replace(' ', "v")),
            cipher: t.server_hello.as_ref().map(|s| s.cipher.clone()),
            alpn: t.server_hello.as_ref().and_then(|s| s.alpn.clone()),
            sni: c.sni().map(str::to_string),
            verified: false,
            verify_error: None,
            presented_chain: t.certificates.clone(),
            client_hello: Vec::new(),
            // The chain analysis does not use the key-exchange group.
            group: None,
        };
        let negotiated = negotiated_of(&info);
        let report = path.analyse(
            presented_session(&info, &negotiated),
            &name,
            None,
            None,
            now,
        );
        out.push((c.index, tls_evidence(&report)));
    }
    Ok(out)
}

/// `--hellos-only`: one tab-separated line per ClientHello, written as soon as it is complete
/// (the fast path: no timelines, no findings); notes about the capture go to standard error.
fn print_hellos(args: &Args, filter: &Filter, opts: Options) -> anyhow::Result<Exit> {
    let stdout = io::stdout();
    let mut w = BufWriter::with_capacity(1 << 16, stdout.lock());
    // A capture piped in (`tcpdump -w - | interloper pcap - --hellos-only`) is watched live:
    // each line goes out as its hello completes.
    let live = args.files.iter().any(|f| f == Path::new("-"));
    let mut failed: Option<io::Error> = None;
    let mut scanner = HelloScanner::new(opts.limits, |h: FoundHello| {
        if failed.is_some() || !filter.matches(h.server, h.sni.as_deref()) {
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
    let read = read_all(args, &mut scanner);
    let (_, notes) = scanner.finish();
    if let Some(e) = failed {
        return Err(e.into());
    }
    read?;
    w.flush()?;
    for note in notes {
        eprintln!("note: {note}");
    }
    Ok(Exit::Clean)
}
