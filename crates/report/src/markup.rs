//! The writer every HTML page and SVG chart is built with: markup goes in as written, text that
//! came from evidence (URLs, log lines, issuer names) goes in cut and escaped, and nothing can
//! fail, so a renderer reads as the page it builds instead of as `let _ = write!(…)` lines.

use crate::text::{esc, shorten};
use std::fmt;

/// A page being written. Writing to memory cannot fail, so no method returns a `Result`.
pub(crate) struct Html(String);

impl Html {
    /// An empty page with room for `bytes` before it grows.
    pub(crate) fn with_capacity(bytes: usize) -> Html {
        Html(String::with_capacity(bytes))
    }

    /// Trusted markup (a literal of ours, or values that are typed, never text from input).
    pub(crate) fn raw(&mut self, markup: &str) {
        self.0.push_str(markup);
    }

    /// Text from input: cut to `max` characters (keeping both ends) and escaped.
    pub(crate) fn text(&mut self, text: &str, max: usize) {
        self.0.push_str(&esc(&shorten(text, max)));
    }

    /// `<tag>` or `<tag class="…">` when `class` is not empty.
    pub(crate) fn open(&mut self, tag: &str, class: &str) {
        if class.is_empty() {
            write!(self, "<{tag}>");
        } else {
            write!(self, "<{tag} class=\"{class}\">");
        }
    }

    /// `</tag>`.
    pub(crate) fn close(&mut self, tag: &str) {
        write!(self, "</{tag}>");
    }

    /// One element holding text from input, cut to `max` characters and escaped.
    pub(crate) fn element(&mut self, tag: &str, class: &str, text: &str, max: usize) {
        self.open(tag, class);
        self.text(text, max);
        self.close(tag);
    }

    /// Formatted markup, so `write!(html, …)` needs no `let _ =`: the values must be typed or
    /// already escaped (wrap input in [`Text`]).
    pub(crate) fn write_fmt(&mut self, args: fmt::Arguments<'_>) {
        // Formatting into a String fails only if a Display impl lies; nothing to report then.
        let _ = fmt::Write::write_fmt(&mut self.0, args);
    }

    /// The page's bytes.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// Text from input inside a format string: cut to `.1` characters (both ends kept) and escaped
/// when displayed.
pub(crate) struct Text<'a>(pub(crate) &'a str, pub(crate) usize);

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&esc(&shorten(self.0, self.1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_cut_markup_is_not() {
        let mut h = Html::with_capacity(0);
        h.open("td", "url");
        h.text("<a href='x'>&", 100);
        h.close("td");
        h.element("p", "", "0123456789", 5);
        write!(h, "<b>{}</b>", Text("\"q\"", 10));
        h.raw("<br>");
        assert_eq!(
            String::from_utf8_lossy(h.as_bytes()),
            "<td class=\"url\">&lt;a href=&#39;x&#39;&gt;&amp;</td><p>01…89</p>\
             <b>&quot;q&quot;</b><br>"
        );
    }
}
