//! Cutting and sanitising text that came from outside (a server, a log line, a page, a
//! certificate): the one place each crate's "at most N" and "no control characters" rules
//! live, so a value reads the same in every report.
//!
//! Two families, because two kinds of bound exist:
//! - memory bounds count **bytes** and never add a mark ([`cut_bytes`]): a log line or a
//!   header value kept at most `MAX` bytes, cut at a character boundary;
//! - display bounds count **characters** ([`cut_chars`], [`cut_chars_marked`],
//!   [`printable_ascii`], [`terminal_safe`], [`shorten_middle`]), and say whether a cut is
//!   marked with `…`.
//!
//! Pure functions of their arguments; none panics, whatever the input.

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary
/// (`s` itself when it fits). No mark is added: this bounds memory, not display.
pub fn cut_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    // Index 0 is always a boundary, so this stops.
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

/// The first `max` characters of `s`, unmarked.
pub fn cut_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((end, _)) => s.get(..end).unwrap_or(s),
        None => s,
    }
}

/// The first `max` characters of `s`, followed by `…` when anything was cut.
pub fn cut_chars_marked(s: &str, max: usize) -> String {
    let kept = cut_chars(s, max);
    if kept.len() == s.len() {
        return s.to_string();
    }
    let mut out = String::with_capacity(kept.len() + '…'.len_utf8());
    out.push_str(kept);
    out.push('…');
    out
}

/// Printable ASCII and spaces only (everything else dropped), at most `max` characters,
/// unmarked: what an operator's report keeps of a value a visitor's browser sent.
pub fn printable_ascii(s: &str, max: usize) -> String {
    s.chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(max)
        .collect()
}

/// Text safe to print to a terminal: control characters (ESC, CR, BEL, …) and bidi
/// overrides (which can make a URL read differently from what it is) become `�`, and the
/// result is cut at `max` characters, marked with `…`.
pub fn terminal_safe(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max.saturating_mul(4)));
    for (i, c) in s.chars().enumerate() {
        if i >= max {
            out.push('…');
            break;
        }
        let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        out.push(if c.is_control() || bidi {
            '\u{fffd}'
        } else {
            c
        });
    }
    out
}

/// At most `max` characters keeping the start and the end of `s`, `…` between (the end of a
/// URL names the file). Below 5 characters there is no room for both ends: the start is kept,
/// unmarked (at least one character).
pub fn shorten_middle(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max || max < 5 {
        return cut_chars(s, max.max(1)).to_string();
    }
    let head = (max - 1) / 2;
    let tail = max - 1 - head;
    let mut out = cut_chars(s, head).to_string();
    out.push('…');
    out.extend(s.chars().skip(n - tail));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_cuts_end_on_a_character() {
        assert_eq!(cut_bytes("abcdef", 4), "abcd");
        assert_eq!(cut_bytes("abc", 4), "abc");
        // 'é' is two bytes: a cut inside it steps back.
        assert_eq!(cut_bytes("aé", 2), "a");
        assert_eq!(cut_bytes("€", 1), "");
        assert_eq!(cut_bytes("", 0), "");
    }

    #[test]
    fn character_cuts_count_characters_and_mark_only_a_cut() {
        assert_eq!(cut_chars("héllo", 2), "hé");
        assert_eq!(cut_chars("hé", 5), "hé");
        assert_eq!(cut_chars("abc", 0), "");
        assert_eq!(cut_chars_marked("héllo", 2), "hé…");
        assert_eq!(cut_chars_marked("héllo", 5), "héllo");
        assert_eq!(cut_chars_marked("", 0), "");
    }

    #[test]
    fn printable_ascii_drops_what_is_not() {
        assert_eq!(printable_ascii("a\x1b[31mb\tc é", 100), "a[31mbc ");
        assert_eq!(printable_ascii("abcdef", 3), "abc");
    }

    #[test]
    fn terminal_safe_replaces_controls_and_bidi() {
        assert_eq!(terminal_safe("a\x1b[2Jb", 100), "a\u{fffd}[2Jb");
        assert_eq!(terminal_safe("x\u{202e}y", 100), "x\u{fffd}y");
        assert_eq!(terminal_safe("abcdef", 3), "abc…");
        assert_eq!(terminal_safe("abc", 3), "abc");
    }

    #[test]
    fn shorten_middle_keeps_both_ends() {
        assert_eq!(shorten_middle("abcdefghij", 7), "abc…hij");
        assert_eq!(shorten_middle("abc", 7), "abc");
        assert_eq!(shorten_middle("abcdefghij", 3), "abc");
        assert_eq!(shorten_middle("abcdefghij", 0), "a");
        assert_eq!(shorten_middle("abcdefghij", 7).chars().count(), 7);
    }
}
