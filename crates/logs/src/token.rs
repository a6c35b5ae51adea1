//! Splitting a log line into fields: bare words, `[bracketed]`, `"quoted"` and `{braced}`.

/// One field of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token<'a> {
    /// A run of non-space bytes (may contain `key="quoted value"`).
    Bare(&'a str),
    /// The inside of `[...]`.
    Bracket(&'a str),
    /// The inside of `"..."`, escapes left as they are.
    Quoted(&'a str),
    /// The inside of `{...}` (HAProxy captured headers).
    Brace(&'a str),
}

impl<'a> Token<'a> {
    pub(crate) fn text(self) -> &'a str {
        match self {
            Token::Bare(s) | Token::Bracket(s) | Token::Quoted(s) | Token::Brace(s) => s,
        }
    }
}

/// At most this many fields are kept: a log line has a few dozen; more is garbage.
pub(crate) const MAX_TOKENS: usize = 64;

/// Split `line` into fields. A quote or bracket left open runs to the end of the line.
#[cfg(test)]
pub(crate) fn tokenize<'a>(line: &'a str, out: &mut Vec<Token<'a>>) {
    out.clear();
    out.extend(Tokens::new(line).take(MAX_TOKENS));
}

/// The fields of a line, one at a time: parsers that need only the first few take them into
/// an array and walk the rest, with no allocation per line.
#[derive(Debug, Clone)]
pub(crate) struct Tokens<'a> {
    line: &'a str,
    at: usize,
}

impl<'a> Tokens<'a> {
    pub(crate) fn new(line: &'a str) -> Tokens<'a> {
        Tokens { line, at: 0 }
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let line = self.line;
        let b = line.as_bytes();
        let mut i = self.at;
        while i < b.len() && matches!(b[i], b' ' | b'\t') {
            i += 1;
        }
        if i >= b.len() {
            self.at = i;
            return None;
        }
        let (token, next) = match b[i] {
            b'"' => {
                let start = i + 1;
                let end = closing_quote(b, start);
                (Token::Quoted(&line[start..end]), end + 1)
            }
            b'[' => {
                let start = i + 1;
                let end = memchr::memchr(b']', &b[start..]).map_or(b.len(), |p| start + p);
                (Token::Bracket(&line[start..end]), end + 1)
            }
            b'{' => {
                let start = i + 1;
                let end = memchr::memchr(b'}', &b[start..]).map_or(b.len(), |p| start + p);
                (Token::Brace(&line[start..end]), end + 1)
            }
            _ => {
                let start = i;
                // A bare word ends at a space, but `key="a b"` keeps its quoted value. Words
                // are short: a plain loop beats setting up a vector search for each.
                loop {
                    match b[i..].iter().position(|c| matches!(c, b' ' | b'\t' | b'"')) {
                        Some(p) if b[i + p] == b'"' => i = closing_quote(b, i + p + 1) + 1,
                        Some(p) => {
                            i += p;
                            break;
                        }
                        None => {
                            i = b.len();
                            break;
                        }
                    }
                    if i >= b.len() {
                        break;
                    }
                }
                let end = i.min(b.len());
                (Token::Bare(&line[start..end]), end)
            }
        };
        self.at = next;
        Some(token)
    }
}

/// Index of the `"` closing a quote opened before `from` (backslash escapes skipped), or the
/// end of the line.
pub(crate) fn closing_quote(b: &[u8], from: usize) -> usize {
    let mut i = from;
    while i < b.len() {
        match memchr::memchr2(b'"', b'\\', &b[i..]) {
            Some(p) if b[i + p] == b'\\' => i += p + 2,
            Some(p) => return i + p,
            None => return b.len(),
        }
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Token<'_>> {
        let mut v = Vec::new();
        tokenize(s, &mut v);
        v
    }

    #[test]
    fn fields_of_a_combined_line() {
        let t = toks(
            r#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /a \"b\" HTTP/1.1" 200 5 "-" "UA x" rt=0.1 ua="10.0.0.1:80, 10.0.0.2:80""#,
        );
        assert_eq!(t[3], Token::Bracket("10/Oct/2000:13:55:36 -0700"));
        assert_eq!(t[4], Token::Quoted(r#"GET /a \"b\" HTTP/1.1"#));
        assert_eq!(t[8], Token::Quoted("UA x"));
        assert_eq!(t[9], Token::Bare("rt=0.1"));
        assert_eq!(t[10], Token::Bare(r#"ua="10.0.0.1:80, 10.0.0.2:80""#));
    }

    #[test]
    fn unclosed_fields_run_to_the_end() {
        assert_eq!(
            toks(r#"a "b c"#),
            vec![Token::Bare("a"), Token::Quoted("b c")]
        );
        assert_eq!(toks("[x"), vec![Token::Bracket("x")]);
        assert_eq!(toks(r#"k="v\"#), vec![Token::Bare(r#"k="v\"#)]);
        assert_eq!(toks(r#""\"#), vec![Token::Quoted("\\")]);
        assert!(toks("   ").is_empty());
    }

    #[test]
    fn token_count_is_bounded() {
        let line = "a ".repeat(10_000);
        assert_eq!(toks(&line).len(), MAX_TOKENS);
    }
}
