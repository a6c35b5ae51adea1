//! `srcset` parsing, following the HTML standard's "parse a srcset attribute" algorithm:
//! URLs may contain commas (only trailing commas end a URL), descriptors may contain commas
//! inside parentheses, and candidates with invalid descriptors are dropped as browsers do.

/// One image candidate of a `srcset`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The URL as written.
    pub url: String,
    /// Descriptors joined by a space (`480w`, `2x`), or `None` for the default `1x`.
    pub descriptor: Option<String>,
}

/// Result of parsing a `srcset`: the candidates and whether the limit cut some off.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Srcset {
    /// Valid candidates in order.
    pub candidates: Vec<Candidate>,
    /// True when more than `max` candidates were present.
    pub truncated: bool,
}

fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0C' | '\r')
}

/// Parses a `srcset` value, keeping at most `max` candidates.
pub fn parse(input: &str, max: usize) -> Srcset {
    let mut out = Srcset::default();
    let mut rest = input;
    loop {
        rest = rest.trim_start_matches(|c: char| is_ws(c) || c == ',');
        if rest.is_empty() {
            return out;
        }
        let url_end = rest.find(is_ws).unwrap_or(rest.len());
        let mut url = &rest[..url_end];
        rest = &rest[url_end..];
        let mut descriptors: Vec<String> = Vec::new();
        if url.ends_with(',') {
            url = url.trim_end_matches(',');
        } else {
            rest = tokenize_descriptors(rest, &mut descriptors);
        }
        if url.is_empty() || !descriptors_valid(&descriptors) {
            continue;
        }
        if out.candidates.len() >= max {
            out.truncated = true;
            return out;
        }
        out.candidates.push(Candidate {
            url: url.to_owned(),
            descriptor: (!descriptors.is_empty()).then(|| descriptors.join(" ")),
        });
    }
}

/// The descriptor tokenizer; returns the input after the candidate's terminating comma.
fn tokenize_descriptors<'a>(input: &'a str, out: &mut Vec<String>) -> &'a str {
    enum State {
        InDescriptor,
        InParens,
        AfterDescriptor,
    }
    let mut state = State::AfterDescriptor;
    let mut current = String::new();
    for (i, c) in input.char_indices() {
        match state {
            State::InDescriptor | State::AfterDescriptor if is_ws(c) => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
                state = State::AfterDescriptor;
            }
            State::InDescriptor | State::AfterDescriptor if c == ',' => {
                if !current.is_empty() {
                    out.push(current);
                }
                return &input[i + 1..];
            }
            State::InDescriptor | State::AfterDescriptor => {
                if c == '(' {
                    state = State::InParens;
                } else {
                    state = State::InDescriptor;
                }
                current.push(c);
            }
            State::InParens => {
                if c == ')' {
                    state = State::InDescriptor;
                }
                current.push(c);
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    ""
}

/// The spec's descriptor checks: at most one width or density, at most one height, which
/// needs a width; numbers well formed.
fn descriptors_valid(ds: &[String]) -> bool {
    let (mut w, mut x, mut h) = (false, false, false);
    for d in ds {
        let Some(last) = d.chars().last() else {
            return false;
        };
        let num = &d[..d.len() - last.len_utf8()];
        match last.to_ascii_lowercase() {
            'w' if !w && !x && positive_int(num) => w = true,
            'h' if !h && positive_int(num) => h = true,
            'x' if !w && !x && !h && num.parse::<f64>().is_ok_and(|v| v >= 0.0) => x = true,
            _ => return false,
        }
    }
    !h || w
}

fn positive_int(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && s.bytes().any(|b| b != b'0')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(s: &str) -> Vec<(String, Option<String>)> {
        parse(s, 100)
            .candidates
            .into_iter()
            .map(|c| (c.url, c.descriptor))
            .collect()
    }

    #[test]
    fn descriptors_widths_and_densities() {
        assert_eq!(
            urls("a.png 1x, b.png 2x,c.png 480w"),
            vec![
                ("a.png".into(), Some("1x".into())),
                ("b.png".into(), Some("2x".into())),
                ("c.png".into(), Some("480w".into())),
            ]
        );
        assert_eq!(urls("  only.png  "), vec![("only.png".into(), None)]);
    }

    #[test]
    fn commas_inside_urls_are_kept() {
        // A comma inside a URL does not split it; a trailing comma ends it.
        assert_eq!(
            urls("/img/a,b.png 1x, /img/c.png,"),
            vec![
                ("/img/a,b.png".into(), Some("1x".into())),
                ("/img/c.png".into(), None),
            ]
        );
        assert_eq!(
            urls("data:image/png;base64,AAAA 1x, x.png 2x"),
            vec![
                ("data:image/png;base64,AAAA".into(), Some("1x".into())),
                ("x.png".into(), Some("2x".into())),
            ]
        );
    }

    #[test]
    fn invalid_descriptors_drop_the_candidate() {
        assert_eq!(
            urls("a.png 1x 2x, b.png foo, c.png 100h, d.png 0w, e.png 3x"),
            vec![("e.png".into(), Some("3x".into()))]
        );
        // Parentheses protect commas in future descriptors; the candidate is invalid, the
        // next one survives.
        assert_eq!(urls("a.png (x, y), b.png"), vec![("b.png".into(), None)]);
    }

    #[test]
    fn absurd_srcset_is_bounded() {
        let s = "a.png 1x,".repeat(100_000);
        let r = parse(&s, 32);
        assert_eq!(r.candidates.len(), 32);
        assert!(r.truncated);
        let r = parse(&",".repeat(1_000_000), 32);
        assert!(r.candidates.is_empty());
        let r = parse(&"(".repeat(100_000), 32);
        assert_eq!(r.candidates.len(), 1);
    }
}
