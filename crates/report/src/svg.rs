//! Inline SVG charts for the HTML report: request waterfall, latency timeline, histogram.
//!
//! Charts are drawn from the report's kept request rows, which are already bounded per asset;
//! each chart caps its own element count again (a page of 100 assets keeps 20 000 rows) and
//! says so under the chart when it had to downsample. Tooltips are SVG `<title>` elements, so
//! the page needs no script.

use crate::build::spaced;
use crate::markup::{Html, Text};
use crate::text::{esc, file_name, num, phase_line, shorten};
use crate::{AssetKind, Bucket, RequestRow, TargetReport};
use interloper_model::units::fmt_duration_ms;
use std::fmt::Write as _;

/// Bars in one waterfall at most.
pub(crate) const MAX_BARS: usize = 300;
/// Points in one timeline at most.
pub(crate) const MAX_POINTS: usize = 2000;
/// Waterfall rows are labelled with the file name when there are at most this many.
const LABELLED_ROWS: usize = 80;

/// Colours per phase, in request order (also used by the legend and the HTML evidence bars).
pub(crate) const PHASE_COLOURS: &[(&str, &str)] = &[
    ("dns", "#14b8a6"),
    ("connect", "#f59e0b"),
    ("tls", "#a855f7"),
    ("write", "#94a3b8"),
    ("ttfb", "#22c55e"),
    ("body", "#3b82f6"),
];

/// Colour per asset type.
pub(crate) fn kind_colour(k: AssetKind) -> &'static str {
    match k {
        AssetKind::Html => "#475569",
        AssetKind::Css => "#2563eb",
        AssetKind::Js => "#d97706",
        AssetKind::Img => "#059669",
        AssetKind::Font => "#7c3aed",
        AssetKind::Other => "#db2777",
    }
}

const FAIL: &str = "#dc2626";
const STALL: &str = "#f59e0b";

/// A kept request with the asset it belongs to.
pub(crate) struct Row<'a> {
    pub(crate) url: &'a str,
    pub(crate) kind: AssetKind,
    pub(crate) r: &'a RequestRow,
}

impl Row<'_> {
    fn flagged(&self) -> bool {
        self.r.failed_or_error_status() || self.r.stalled
    }
    fn start(&self) -> f64 {
        finite(self.r.started_ms)
    }
    /// Segments (phase index, duration) in order; a request with only a total gets one grey
    /// segment so it is still drawn.
    fn segments(&self) -> Vec<(usize, f64)> {
        let p = &self.r.phases;
        let v = [
            p.dns_ms,
            p.connect_ms,
            p.tls_ms,
            p.write_ms,
            p.ttfb_ms,
            p.body_ms,
        ];
        let segs: Vec<(usize, f64)> = v
            .iter()
            .enumerate()
            .filter_map(|(i, d)| d.map(|d| (i, finite(d).max(0.0))))
            .collect();
        if segs.is_empty()
            && let Some(t) = p.total_ms
        {
            return vec![(3, finite(t).max(0.0))];
        }
        segs
    }
    fn duration(&self) -> f64 {
        let sum: f64 = self.segments().iter().map(|(_, d)| d).sum();
        finite(self.r.phases.total_ms.unwrap_or(0.0)).max(sum)
    }
    fn tooltip(&self) -> String {
        let r = self.r;
        let mut t = format!("{} #{}", shorten(self.url, 200), r.seq);
        match (&r.status, &r.error) {
            (_, Some(e)) => {
                let _ = write!(t, " — failed: {} in {}", e.kind.as_str(), e.phase.as_str());
            }
            (Some(s), None) => {
                let _ = write!(t, " — {s}");
            }
            (None, None) => {}
        }
        if r.stalled {
            t.push_str(" — stalled");
        }
        let phases = phase_line(&r.phases);
        if !phases.is_empty() {
            let _ = write!(t, "\n{phases}");
        }
        let _ = write!(t, "\nstarted at {}", fmt_duration_ms(r.started_ms));
        if let Some(e) = &r.error {
            let _ = write!(t, "\n{}", shorten(&e.message, 300));
        }
        t
    }
}

/// A usable coordinate: non-finite values become 0 and magnitudes are capped (at about 30
/// years in ms) so sums stay finite and axis loops stay short.
fn finite(v: f64) -> f64 {
    if v.is_finite() {
        v.clamp(-1e12, 1e12)
    } else {
        0.0
    }
}

/// Every kept row of a target, in start order.
pub(crate) fn rows(t: &TargetReport) -> Vec<Row<'_>> {
    let mut rows: Vec<Row<'_>> = t
        .assets
        .iter()
        .flat_map(|a| {
            a.requests.iter().map(move |r| Row {
                url: &a.url,
                kind: a.kind,
                r,
            })
        })
        .collect();
    rows.sort_by(|a, b| a.start().total_cmp(&b.start()).then(a.r.seq.cmp(&b.r.seq)));
    rows
}

/// At most `cap` rows: every flagged one first (evenly thinned if even those are too many),
/// then evenly spaced others; start order kept.
pub(crate) fn cap<'a, 'b>(rows: &'b [Row<'a>], cap: usize) -> Vec<&'b Row<'a>> {
    let flagged: Vec<usize> = (0..rows.len()).filter(|i| rows[*i].flagged()).collect();
    let plain: Vec<usize> = (0..rows.len()).filter(|i| !rows[*i].flagged()).collect();
    let keep_flagged = flagged.len().min(cap);
    let mut idx: Vec<usize> = spaced(flagged.len(), keep_flagged)
        .into_iter()
        .zip(flagged)
        .filter(|(k, _)| *k)
        .map(|(_, i)| i)
        .collect();
    idx.extend(
        spaced(plain.len(), cap - keep_flagged)
            .into_iter()
            .zip(plain)
            .filter(|(k, _)| *k)
            .map(|(_, i)| i),
    );
    idx.sort_unstable();
    idx.into_iter().map(|i| &rows[i]).collect()
}

/// Tick positions (1-2-5 steps) covering `0..=span`, about `want` of them.
fn ticks(span: f64, want: f64) -> Vec<f64> {
    let span = if span.is_finite() && span > 0.0 {
        span
    } else {
        1.0
    };
    let raw = span / want.max(1.0);
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let n = (span / step).floor() as usize;
    (0..=n.min(50)).map(|i| i as f64 * step).collect()
}

/// The request waterfall: one bar per request on the run's time axis, one segment per phase.
pub(crate) fn waterfall(out: &mut Html, all: &[Row<'_>]) -> Option<String> {
    let shown = cap(all, MAX_BARS);
    if shown.is_empty() {
        return None;
    }
    let t0 = shown
        .iter()
        .map(|r| r.start())
        .fold(f64::INFINITY, f64::min);
    // The axis ends with the last request that completed: one 30 s timeout must not squeeze
    // every other bar into a few pixels. Failures that run past it are cut and labelled.
    let completed = shown.iter().any(|r| !r.r.failed());
    let t1 = shown
        .iter()
        .filter(|r| !completed || !r.r.failed())
        .map(|r| r.start() + r.duration())
        .fold(f64::NEG_INFINITY, f64::max);
    let span = if t1 > t0 { (t1 - t0) * 1.04 } else { 1.0 };
    let labelled = shown.len() <= LABELLED_ROWS;
    let (pitch, bar) = if labelled { (16.0, 10.0) } else { (4.0, 3.0) };
    let width = 1100.0;
    let left = if labelled { 210.0 } else { 10.0 };
    let right = 64.0;
    let top = 24.0;
    let plot_w = width - left - right;
    let height = top + pitch * shown.len() as f64 + 10.0;
    let axis = Axis {
        t0,
        span,
        left,
        plot_w,
    };
    let x = |t: f64| axis.x(t);
    write!(
        out,
        r#"<svg class="chart waterfall" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="Request waterfall">"#,
        w = num(width),
        h = num(height)
    );
    for tick in ticks(span, 8.0) {
        let tx = x(t0 + tick);
        write!(
            out,
            r#"<line class="grid" x1="{x}" y1="{y1}" x2="{x}" y2="{y2}"/><text class="tick" x="{x}" y="14" text-anchor="middle">{label}</text>"#,
            x = num(tx),
            y1 = num(top - 4.0),
            y2 = num(height - 6.0),
            label = esc(&fmt_duration_ms(tick)),
        );
    }
    for (i, row) in shown.iter().enumerate() {
        let y = top + pitch * i as f64;
        write!(out, "<g><title>{}</title>", esc(&row.tooltip()));
        if row.flagged() {
            let colour = if row.r.failed_or_error_status() {
                FAIL
            } else {
                STALL
            };
            write!(
                out,
                r#"<rect x="0" y="{y}" width="{w}" height="{h}" fill="{colour}" opacity="0.12"/>"#,
                y = num(y),
                w = num(width),
                h = num(pitch - 1.0),
            );
        }
        if labelled {
            write!(
                out,
                r#"<text class="label" x="{x}" y="{y}" text-anchor="end">{name}</text>"#,
                x = num(left - 8.0),
                y = num(y + bar),
                name = Text(file_name(row.url), 30),
            );
        }
        waterfall_bars(out, row, &axis, y + (pitch - 1.0 - bar) / 2.0, bar);
        out.raw("</g>");
    }
    out.raw("</svg>");
    let total = all.len();
    (shown.len() < total).then(|| {
        format!(
            "Showing {} of {} recorded requests: every failed and stalled one first, the rest evenly spaced.",
            shown.len(),
            total
        )
    })
}

/// Where a time falls on a chart's x axis: `t0` at `left`, `span` milliseconds over `plot_w`.
struct Axis {
    t0: f64,
    span: f64,
    left: f64,
    plot_w: f64,
}

impl Axis {
    fn x(&self, t: f64) -> f64 {
        self.left + (t - self.t0) / self.span * self.plot_w
    }
}

/// One waterfall row's bars at height `by`: a rectangle per phase, cut at the axis end, and
/// for a failed request the wait until it failed, hatched, and a ✕.
fn waterfall_bars(out: &mut Html, row: &Row<'_>, axis: &Axis, by: f64, bar: f64) {
    let mut at = row.start();
    let edge = axis.left + axis.plot_w;
    for (phase, d) in row.segments() {
        if axis.x(at) >= edge {
            break;
        }
        let w = (d / axis.span * axis.plot_w)
            .max(0.6)
            .min(edge - axis.x(at));
        write!(
            out,
            r#"<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{c}"/>"#,
            x = num(axis.x(at)),
            y = num(by),
            w = format_args!("{:.1}", w),
            h = num(bar),
            c = PHASE_COLOURS[phase].1,
        );
        at += d;
    }
    if row.r.failed() {
        // The time between the last completed phase and the failure (a reset after 30 s
        // of waiting) is the interesting part: draw it, hatched in the failure colour.
        let end = (row.start() + row.duration()).max(at);
        let (from, to) = (axis.x(at).min(edge), axis.x(end).min(edge));
        if to > from {
            write!(
                out,
                r#"<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{FAIL}" fill-opacity="0.45"/>"#,
                x = num(from),
                y = num(by),
                w = format_args!("{:.1}", (to - from).max(0.6)),
                h = num(bar),
            );
        }
        let mark = if axis.x(end) > edge {
            format!("✕ {}", fmt_duration_ms(end - row.start()))
        } else {
            "✕".to_string()
        };
        write!(
            out,
            r#"<text class="fail" x="{x}" y="{y}">{mark}</text>"#,
            x = num(to + 3.0),
            y = num(by + bar),
            mark = esc(&mark),
        );
    }
}

/// Total time against start time, log scale; failures as crosses, stalls as rings.
pub(crate) fn timeline(out: &mut Html, all: &[Row<'_>]) -> Option<String> {
    let shown = cap(all, MAX_POINTS);
    if shown.is_empty() {
        return None;
    }
    let t0 = shown
        .iter()
        .map(|r| r.start())
        .fold(f64::INFINITY, f64::min);
    let t1 = shown
        .iter()
        .map(|r| r.start())
        .fold(f64::NEG_INFINITY, f64::max);
    let span = if t1 > t0 { t1 - t0 } else { 1.0 };
    let totals: Vec<f64> = shown
        .iter()
        .map(|r| r.duration())
        .filter(|d| *d > 0.0)
        .collect();
    let lo = totals.iter().copied().fold(1.0, f64::min).max(0.01);
    let hi = totals.iter().copied().fold(10.0, f64::max);
    let (l0, l1) = (lo.log10().floor(), hi.log10().ceil());
    let (l0, l1) = if l1 > l0 { (l0, l1) } else { (l0, l0 + 1.0) };
    let (width, height) = (1100.0, 280.0);
    let (left, right, top, bottom) = (70.0, 20.0, 12.0, 34.0);
    let (pw, ph) = (width - left - right, height - top - bottom);
    let x = |t: f64| left + (t - t0) / span * pw;
    let y = |v: f64| {
        let l = v.max(10f64.powf(l0)).log10();
        top + ph - (l - l0) / (l1 - l0) * ph
    };
    write!(
        out,
        r#"<svg class="chart timeline" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="Latency over time">"#,
        w = num(width),
        h = num(height)
    );
    let mut e = l0;
    while e <= l1 {
        let v = 10f64.powf(e);
        write!(
            out,
            r#"<line class="grid" x1="{l}" y1="{y}" x2="{r}" y2="{y}"/><text class="tick" x="{tx}" y="{ty}" text-anchor="end">{label}</text>"#,
            l = num(left),
            r = num(width - right),
            y = num(y(v)),
            tx = num(left - 6.0),
            ty = num(y(v) + 4.0),
            label = esc(&fmt_duration_ms(v)),
        );
        e += 1.0;
    }
    for tick in ticks(span, 8.0) {
        write!(
            out,
            r#"<text class="tick" x="{x}" y="{y}" text-anchor="middle">{label}</text>"#,
            x = num(x(t0 + tick)),
            y = num(height - 12.0),
            label = esc(&fmt_duration_ms(tick)),
        );
    }
    write!(
        out,
        r#"<text class="axis" x="{x}" y="{y}" text-anchor="end">request start →</text>"#,
        x = num(width - right),
        y = num(height - 1.0)
    );
    for row in &shown {
        let (px, py) = (x(row.start()), y(row.duration().max(10f64.powf(l0))));
        write!(out, "<g><title>{}</title>", esc(&row.tooltip()));
        if row.r.failed() {
            write!(
                out,
                r#"<path d="M{a} {b}l6 6m0 -6l-6 6" stroke="{FAIL}" stroke-width="1.8"/>"#,
                a = num(px - 3.0),
                b = num(py - 3.0)
            );
        } else if row.r.stalled {
            write!(
                out,
                r#"<circle cx="{x}" cy="{y}" r="4" fill="none" stroke="{STALL}" stroke-width="1.8"/>"#,
                x = num(px),
                y = num(py)
            );
        } else {
            write!(
                out,
                r#"<circle cx="{x}" cy="{y}" r="2.4" fill="{c}" fill-opacity="0.65"/>"#,
                x = num(px),
                y = num(py),
                c = kind_colour(row.kind)
            );
        }
        out.raw("</g>");
    }
    out.raw("</svg>");
    (shown.len() < all.len()).then(|| {
        format!(
            "Showing {} of {} recorded requests: every failed and stalled one, the rest evenly spaced.",
            shown.len(),
            all.len()
        )
    })
}

/// Bars per latency bucket, plus a red bar for failed requests.
pub(crate) fn histogram(out: &mut Html, buckets: &[Bucket], failed: u64, colour: &str) {
    let (width, height) = (340.0, 170.0);
    let (left, bottom, top) = (8.0, 36.0, 16.0);
    let n = buckets.len() + 1;
    let slot = (width - 2.0 * left) / n as f64;
    let max = buckets
        .iter()
        .map(|b| b.count)
        .chain(std::iter::once(failed))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let ph = height - top - bottom;
    write!(
        out,
        r#"<svg class="chart histogram" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="Latency histogram">"#,
        w = num(width),
        h = num(height)
    );
    write!(
        out,
        r#"<line class="grid" x1="{l}" y1="{y}" x2="{r}" y2="{y}"/>"#,
        l = num(left),
        r = num(width - left),
        y = num(top + ph)
    );
    let mut prev: Option<f64> = None;
    let items = buckets
        .iter()
        .enumerate()
        .map(|(i, b)| {
            // Short labels so every bucket has one: "1ms", "2", … "500", "1s" … ">10s".
            let label = match (b.le_ms, prev) {
                (Some(le), _) if le >= 1000.0 => format!("{}s", num(le / 1000.0)),
                (Some(le), _) if i == 0 => format!("{}ms", num(le)),
                (Some(le), _) => num(le),
                (None, Some(p)) if p >= 1000.0 => format!(">{}s", num(p / 1000.0)),
                (None, Some(p)) => format!(">{}", num(p)),
                (None, None) => "all".to_string(),
            };
            prev = b.le_ms.or(prev);
            (label, b.count, colour)
        })
        .chain(std::iter::once(("fail".to_string(), failed, FAIL)))
        .collect::<Vec<_>>();
    for (i, (label, count, c)) in items.iter().enumerate() {
        let h = *count as f64 / max * ph;
        let bx = left + slot * i as f64;
        write!(
            out,
            r#"<g><title>{label}: {count}</title><rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{c}" rx="1.5"/>"#,
            label = esc(label),
            x = num(bx + 1.5),
            y = num(top + ph - h),
            w = num(slot - 3.0),
            h = num(h),
        );
        if *count > 0 {
            write!(
                out,
                r#"<text class="count" x="{x}" y="{y}" text-anchor="middle">{count}</text>"#,
                x = num(bx + slot / 2.0),
                y = num(top + ph - h - 3.0),
            );
        }
        write!(
            out,
            r#"<text class="btick" x="{x}" y="{y}" text-anchor="middle">{label}</text>"#,
            x = num(bx + slot / 2.0),
            y = num(top + ph + 12.0),
            label = esc(label),
        );
        out.raw("</g>");
    }
    write!(
        out,
        r#"<text class="axis" x="{x}" y="{y}" text-anchor="middle">total time, upper bound of each bucket</text>"#,
        x = num(width / 2.0),
        y = num(height - 6.0)
    );
    out.raw("</svg>");
}

/// A small horizontal bar of one request's phases, for evidence rows (fixed scale: its total).
pub(crate) fn phase_bar(out: &mut Html, p: &interloper_model::Phases) {
    let v = [
        p.dns_ms,
        p.connect_ms,
        p.tls_ms,
        p.write_ms,
        p.ttfb_ms,
        p.body_ms,
    ];
    let sum: f64 = v.iter().flatten().map(|d| finite(*d).max(0.0)).sum();
    if sum <= 0.0 {
        return;
    }
    let width = 160.0;
    write!(
        out,
        r#"<svg class="phasebar" viewBox="0 0 160 10" width="160" height="10" aria-hidden="true">"#
    );
    let mut at = 0.0;
    for (i, d) in v.iter().enumerate() {
        let Some(d) = d else { continue };
        let w = finite(*d).max(0.0) / sum * width;
        if w > 0.0 {
            write!(
                out,
                r#"<rect x="{x}" y="0" width="{w}" height="10" fill="{c}"/>"#,
                x = num(at),
                w = format_args!("{:.2}", w),
                c = PHASE_COLOURS[i].1
            );
        }
        at += w;
    }
    out.raw("</svg>");
}

/// Colours of the log timeline's outcomes, bottom to top.
pub(crate) const OUTCOME_COLOURS: [(&str, &str); 4] = [
    ("ok", "#cbd5e1"),
    ("slow", STALL),
    ("ended by the client", "#7c3aed"),
    ("server error (5xx, backend timeout or failure)", FAIL),
];

/// `2026-11-30 23:05` (UTC) for an epoch second.
pub(crate) fn utc_minute(t: i64) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| d.format(&fmt).ok())
        .unwrap_or_else(|| t.to_string())
}

/// One backend's static requests over time: a stacked bar per bucket (ok, slow, ended by the
/// client, server error), placed on the span `first..=last` shared by every backend so that
/// the charts line up. Only non-empty buckets are drawn (bounded by the gatherer).
pub(crate) fn log_timeline(
    out: &mut Html,
    buckets: &[interloper_findings::LogBucket],
    bucket_seconds: u64,
    (first, last): (i64, i64),
    name: &str,
) {
    let (width, height) = (900.0, 96.0);
    let (left, right, top, bottom) = (44.0, 8.0, 10.0, 18.0);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let step = bucket_seconds.max(1) as f64;
    let span = ((last - first) as f64 + step).max(step);
    let bar_w = (plot_w * step / span).max(1.0);
    let totals =
        |b: &interloper_findings::LogBucket| [b.ok, b.slow, b.client_aborted, b.server_errors];
    let max = buckets
        .iter()
        .map(|b| totals(b).iter().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    write!(
        out,
        r#"<svg class="chart logtimeline" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="Static requests over time through {name}">"#,
        w = num(width),
        h = num(height),
        name = Text(name, 200),
    );
    write!(
        out,
        r#"<line class="grid" x1="{l}" y1="{y}" x2="{r}" y2="{y}"/><text class="axis" x="{tx}" y="{ty}" text-anchor="end">{max}</text>"#,
        l = num(left),
        r = num(width - right),
        y = num(top + plot_h),
        tx = num(left - 4.0),
        ty = num(top + 8.0),
    );
    for b in buckets {
        let x = left + (b.start - first) as f64 / span * plot_w;
        let counts = totals(b);
        let mut y = top + plot_h;
        write!(
            out,
            "<g><title>{} UTC, {}: {} ok, {} slow, {} ended by the client, {} server errors</title>",
            utc_minute(b.start),
            fmt_duration_ms(step * 1000.0),
            counts[0],
            counts[1],
            counts[2],
            counts[3]
        );
        for (n, (_, colour)) in counts.iter().zip(OUTCOME_COLOURS) {
            if *n == 0 {
                continue;
            }
            let h = *n as f64 / max as f64 * plot_h;
            y -= h;
            write!(
                out,
                r#"<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{colour}"/>"#,
                x = num(x),
                y = num(y),
                w = num(bar_w),
                h = num(h),
            );
        }
        out.raw("</g>");
    }
    write!(
        out,
        r#"<text class="axis" x="{l}" y="{y}">{a}</text><text class="axis" x="{r}" y="{y}" text-anchor="end">{b} UTC</text></svg>"#,
        l = num(left),
        r = num(width - right),
        y = num(height - 4.0),
        a = utc_minute(first),
        b = utc_minute(last + bucket_seconds as i64),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        assert_eq!(ticks(10.0, 5.0), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert!(ticks(f64::NAN, 5.0).len() >= 2);
        assert!(ticks(1e12, 8.0).len() <= 51);
    }
}
