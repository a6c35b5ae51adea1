//! The terminal rendering of `interloper probe` (`interloper.probe/v1`, `model::ProbeReport`):
//! one block per target — the request count and verdict, what the connection negotiated,
//! statuses and failures, a phase table, the slowest requests.

use std::io::{self, Write};

use interloper_model::units::{fmt_bytes, fmt_duration_ms};
use interloper_model::{
    PhaseStats, ProbeReport, ProbeTargetReport, ProbeTargetSummary, RequestRecord,
};

use crate::TerminalStyle;

/// Writes a probe report for a terminal: one block per target, aligned columns, times with
/// their unit.
pub fn render_probe_terminal(
    report: &ProbeReport,
    w: &mut dyn Write,
    style: TerminalStyle,
) -> io::Result<()> {
    for (i, t) in report.targets.iter().enumerate() {
        if i > 0 {
            writeln!(w)?;
        }
        target(w, t, style)?;
    }
    Ok(())
}

/// A phase's time as every report writes it (`-` when the phase did not happen).
fn fmt_phase(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), fmt_duration_ms)
}

fn target(w: &mut dyn Write, t: &ProbeTargetReport, style: TerminalStyle) -> io::Result<()> {
    let s = &t.summary;
    headline(w, t, style)?;
    let sample = s.slowest.first();
    if let Some(r) = sample {
        connection_facts(w, r, style)?;
    }
    outcomes(w, s, style)?;
    phase_table(w, s, style)?;
    if s.count > 1 || s.failed > 0 {
        slowest(w, s, style)?;
    } else if let Some(e) = sample.and_then(|r| r.error.as_ref()) {
        writeln!(w, "  {}", style.red(&e.message))?;
    }
    Ok(())
}

/// The target, and how many requests succeeded over how many connections.
fn headline(w: &mut dyn Write, t: &ProbeTargetReport, style: TerminalStyle) -> io::Result<()> {
    let s = &t.summary;
    let title = match &t.address {
        Some(a) => format!("{} [{a}]", t.url),
        None => t.url.clone(),
    };
    let verdict = if s.failed == 0 {
        style.green(&format!("{} ok", s.ok))
    } else {
        style.red(&format!("{} ok, {} failed", s.ok, s.failed))
    };
    writeln!(w, "{}", style.bold(&title))?;
    writeln!(
        w,
        "  {} requests: {verdict}; {} connections, {} received, {:.1} req/s",
        s.count,
        s.connections,
        fmt_bytes(s.bytes_received as f64),
        s.requests_per_sec
    )
}

/// What one request (the slowest) negotiated: HTTP and TLS versions, cipher, ALPN, trust,
/// address, proxy.
fn connection_facts(w: &mut dyn Write, r: &RequestRecord, style: TerminalStyle) -> io::Result<()> {
    let mut facts = Vec::new();
    if let Some(v) = r.http_version {
        facts.push(v.as_str().to_string());
    }
    if let Some(tls) = &r.tls {
        facts.extend(tls.version.clone());
        facts.extend(tls.cipher.clone());
        if let Some(a) = &tls.alpn {
            facts.push(format!("ALPN {a}"));
        }
        match (&tls.verify_error, tls.verified) {
            (_, true) => facts.push("certificate verified".into()),
            (Some(e), false) => facts.push(style.red(&format!("NOT verified: {e}"))),
            (None, false) => {}
        }
    }
    if let Some(a) = &r.remote_addr {
        facts.push(format!("to {a}"));
    }
    if let Some(p) = &r.proxy {
        facts.push(format!("via proxy {p}"));
    }
    if !facts.is_empty() {
        writeln!(w, "  {}", facts.join(", "))?;
    }
    Ok(())
}

/// Status codes and failure kinds, counted.
fn outcomes(w: &mut dyn Write, s: &ProbeTargetSummary, style: TerminalStyle) -> io::Result<()> {
    if !s.statuses.is_empty() {
        let st: Vec<String> = s.statuses.iter().map(|(c, n)| format!("{c}×{n}")).collect();
        writeln!(w, "  status: {}", st.join("  "))?;
    }
    if !s.failures.is_empty() {
        let f: Vec<String> = s
            .failures
            .iter()
            .map(|(k, n)| format!("{}×{n}", k.as_str()))
            .collect();
        writeln!(w, "  failures: {}", style.red(&f.join("  ")))?;
    }
    Ok(())
}

/// min / p50 / p90 / p99 / max per phase that happened.
fn phase_table(w: &mut dyn Write, s: &ProbeTargetSummary, style: TerminalStyle) -> io::Result<()> {
    let rows: [(&str, &Option<PhaseStats>); 7] = [
        ("dns", &s.phases.dns),
        ("connect", &s.phases.connect),
        ("tls", &s.phases.tls),
        ("write", &s.phases.write),
        ("ttfb", &s.phases.ttfb),
        ("body", &s.phases.body),
        ("total", &s.phases.total),
    ];
    writeln!(
        w,
        "  {}",
        style.dim(&format!(
            "{:<8}{:>9}{:>9}{:>9}{:>9}{:>9}{:>7}",
            "phase", "min", "p50", "p90", "p99", "max", "n"
        ))
    )?;
    for (name, st) in rows {
        if let Some(p) = st {
            writeln!(
                w,
                "  {:<8}{:>9}{:>9}{:>9}{:>9}{:>9}{:>7}",
                name,
                fmt_duration_ms(p.min),
                fmt_duration_ms(p.p50),
                fmt_duration_ms(p.p90),
                fmt_duration_ms(p.p99),
                fmt_duration_ms(p.max),
                p.count
            )?;
        }
    }
    Ok(())
}

/// The slowest requests, each phase timed, with its error.
fn slowest(w: &mut dyn Write, s: &ProbeTargetSummary, style: TerminalStyle) -> io::Result<()> {
    writeln!(w, "  slowest:")?;
    for r in &s.slowest {
        let p = &r.phases;
        let status = r.status.map_or("---".to_string(), |s| s.to_string());
        let err = r
            .error
            .as_ref()
            .map(|e| {
                style.red(&format!(
                    "  {} in {}: {}",
                    e.kind.as_str(),
                    e.phase.as_str(),
                    e.message
                ))
            })
            .unwrap_or_default();
        writeln!(
            w,
            "    #{:<5} {status} total {:>8}  dns {} connect {} tls {} ttfb {} body {}  conn {}{}{}",
            r.seq,
            fmt_phase(p.total_ms),
            fmt_phase(p.dns_ms),
            fmt_phase(p.connect_ms),
            fmt_phase(p.tls_ms),
            fmt_phase(p.ttfb_ms),
            fmt_phase(p.body_ms),
            r.connection_id,
            if r.reused { " (reused)" } else { "" },
            err
        )?;
    }
    Ok(())
}
