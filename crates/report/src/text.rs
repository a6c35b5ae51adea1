//! Formatting and escaping shared by the renderers (durations and sizes are
//! `interloper_model::units`', so findings and tables read the same).
//!
//! Every string that reaches a report may come from a server, a certificate or a page (URLs,
//! header values, issuer names): the terminal renderer strips control characters so a value
//! cannot move the cursor or recolour the screen, and the HTML renderer escapes markup.

use interloper_model::Phases;
use interloper_model::units::fmt_duration_ms;
use std::fmt::Write as _;

/// `dns 0.1 ms · connect 0.3 ms · tls 2.1 ms · ttfb 2.0 s · body 1.0 ms` (phases that did
/// not happen are left out).
pub(crate) fn phase_line(p: &Phases) -> String {
    let parts = [
        ("dns", p.dns_ms),
        ("connect", p.connect_ms),
        ("tls", p.tls_ms),
        ("ttfb", p.ttfb_ms),
        ("body", p.body_ms),
        ("total", p.total_ms),
    ];
    let mut out = String::new();
    for (name, v) in parts {
        if let Some(v) = v {
            if !out.is_empty() {
                out.push_str(" · ");
            }
            let _ = write!(out, "{name} {}", fmt_duration_ms(v));
        }
    }
    out
}

/// Text safe to print to a terminal: control characters (ESC, CR, BEL, …) become `�`, and
/// the result is cut at `max` characters.
pub(crate) fn clean(s: &str, max: usize) -> String {
    interloper_model::text::terminal_safe(s, max)
}

/// Keeps the start and the end of a long string (the end of a URL names the file).
pub(crate) fn shorten(s: &str, max: usize) -> String {
    interloper_model::text::shorten_middle(s, max)
}

/// Greedy word wrap to `width` characters; words longer than a line are cut.
pub(crate) fn wrap(s: &str, width: usize) -> Vec<String> {
    let width = width.max(10);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut len = 0;
    for word in s.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        while word.len() > width {
            if len > 0 {
                lines.push(std::mem::take(&mut line));
                len = 0;
            }
            lines.push(word.drain(..width).collect());
        }
        if word.is_empty() {
            continue;
        }
        if len > 0 && len + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
            len = 0;
        }
        if len > 0 {
            line.push(' ');
            len += 1;
        }
        len += word.len();
        line.extend(word);
    }
    if len > 0 {
        lines.push(line);
    }
    lines
}

/// The last path segment of a URL (`app.4f2a.css`), or the URL when it has none.
pub(crate) fn file_name(url: &str) -> &str {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|s| !s.is_empty() && !path.ends_with('/'))
        .unwrap_or(url)
}

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // NUL and other C0 controls are parse errors in HTML; show a replacement instead.
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// A finite number for SVG coordinates (NaN and infinities would break the drawing).
pub(crate) fn num(v: f64) -> String {
    let v = if v.is_finite() { v } else { 0.0 };
    let r = (v * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_strips_terminal_escapes() {
        assert_eq!(
            clean("a\x1b[31mb\r\n", 100),
            "a\u{fffd}[31mb\u{fffd}\u{fffd}"
        );
        assert_eq!(clean("abcdef", 3), "abc…");
    }

    #[test]
    fn shorten_keeps_both_ends() {
        let s = shorten("https://example.test/static/very/long/path/app.css", 20);
        assert_eq!(s.chars().count(), 20);
        assert!(s.starts_with("https://") && s.ends_with("app.css"), "{s}");
    }

    #[test]
    fn wrap_respects_width() {
        let l = wrap("one two three four five six seven", 10);
        assert!(l.iter().all(|x| x.chars().count() <= 10), "{l:?}");
        assert_eq!(l.join(" "), "one two three four five six seven");
        assert!(wrap(&"x".repeat(25), 10).iter().all(|x| x.len() <= 10));
        assert!(wrap("", 10).is_empty());
    }

    #[test]
    fn esc_escapes_markup() {
        assert_eq!(
            esc("<script>\"'&\0"),
            "&lt;script&gt;&quot;&#39;&amp;\u{fffd}"
        );
        assert_eq!(num(f64::NAN), "0");
        assert_eq!(num(1.25), "1.3");
        assert_eq!(file_name("https://a/s/app.css?x"), "app.css");
        assert_eq!(file_name("https://a/"), "https://a/");
    }
}
