//! The JA4 knowledge file (`data/hello-stacks.toml`): which TLS stack a ClientHello's JA4 comes
//! from. Matching compares the cipher hash (b) and the extension/signature-algorithm hash (c);
//! part a (SNI, ALPN, counts) follows what the client asked for and is not compared.

use serde::{Deserialize, Serialize};

/// The data file shipped with interloper, compiled in so the pure crate needs no file I/O.
const BUILTIN: &str = include_str!("../../../data/hello-stacks.toml");

/// Bounds on a data file, so a hostile one cannot make matching slow.
const MAX_STACKS: usize = 1_000;
const MAX_JA4_PER_STACK: usize = 64;

/// What kind of client a stack is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StackKind {
    /// A web browser.
    Browser,
    /// A TLS library as applications use it by default.
    Library,
    /// A command-line tool.
    Tool,
    /// An inspection product or proxy re-originating TLS.
    Product,
}

/// One stack of the knowledge file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stack {
    /// Stable identifier.
    pub id: String,
    /// Name shown to users.
    pub name: String,
    /// The family several entries share (same code, other versions or configurations).
    pub family: String,
    /// Kind of client.
    pub kind: StackKind,
    /// JA4 values seen (`*` may stand for part b).
    pub ja4: Vec<String>,
    /// Where each value was seen.
    pub source: String,
}

/// A JA4 recognised as a stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StackMatch {
    /// Stack id (for a family match: the first entry of the family).
    pub id: String,
    /// Stack name.
    pub name: String,
    /// Its family.
    pub family: String,
    /// Kind of client.
    pub kind: StackKind,
    /// True when cipher and extension hashes both matched an entry; false when only the cipher
    /// configuration matched one family.
    pub exact: bool,
    /// Where the entry's JA4 was seen.
    pub source: String,
}

impl StackMatch {
    /// "OpenSSL 3.0 (openssl s_client)", or "a client with OpenSSL 3.0 default client's cipher
    /// configuration" for a family match.
    pub fn describe(&self) -> String {
        if self.exact {
            self.name.clone()
        } else {
            format!("a client with the cipher configuration of {}", self.family)
        }
    }
}

/// Why a knowledge file was rejected.
#[derive(Debug, thiserror::Error)]
pub enum StacksError {
    /// Not valid TOML or not the expected shape. The message says the parser's words, so they are not also a
    /// `source` (`{:#}` would print them twice).
    #[error("hello stacks file: {0}")]
    Toml(toml::de::Error),
    /// An entry breaks a rule.
    #[error("hello stacks file: stack {id:?}: {problem}")]
    Invalid {
        /// The offending id.
        id: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// More entries than the bound allows.
    #[error("hello stacks file: more than {MAX_STACKS} stacks")]
    TooMany,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    stack: Vec<Stack>,
}

/// The knowledge file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelloStacks {
    stacks: Vec<Stack>,
}

/// Parts b and c of a JA4 (`t13d1516h2_8daaf6152771_e5627efa2ab1`).
fn parts(ja4: &str) -> Option<(&str, &str)> {
    let mut it = ja4.trim().split('_');
    let (_a, b, c) = (it.next()?, it.next()?, it.next()?);
    it.next().is_none().then_some((b, c))
}

impl HelloStacks {
    /// The file compiled into interloper.
    pub fn builtin() -> Self {
        // Checked by the `builtin_file_loads` test, so this cannot fail at run time.
        Self::from_toml_str(BUILTIN).expect("embedded hello-stacks.toml is valid")
    }

    /// Parses a knowledge file.
    pub fn from_toml_str(text: &str) -> Result<Self, StacksError> {
        let file: File = toml::from_str(text).map_err(StacksError::Toml)?;
        if file.stack.len() > MAX_STACKS {
            return Err(StacksError::TooMany);
        }
        let mut ids = std::collections::HashSet::new();
        for s in &file.stack {
            let bad = |problem| StacksError::Invalid {
                id: s.id.clone(),
                problem,
            };
            if !ids.insert(s.id.as_str()) {
                return Err(bad("duplicate id"));
            }
            if s.ja4.is_empty() || s.ja4.len() > MAX_JA4_PER_STACK {
                return Err(bad("no JA4, or too many"));
            }
            if s.source.trim().is_empty() {
                return Err(bad("no source"));
            }
            if s.ja4.iter().any(|j| parts(j).is_none()) {
                return Err(bad("a JA4 that is not a_b_c"));
            }
        }
        Ok(Self { stacks: file.stack })
    }

    /// All entries.
    pub fn stacks(&self) -> &[Stack] {
        &self.stacks
    }

    /// The stack a JA4 comes from: an entry whose b and c both match, else the one family
    /// whose entries share its cipher hash b. None for an unknown or malformed JA4.
    pub fn identify(&self, ja4: &str) -> Option<StackMatch> {
        let (b, c) = parts(ja4)?;
        let found = |s: &Stack, exact| StackMatch {
            id: s.id.clone(),
            name: s.name.clone(),
            family: s.family.clone(),
            kind: s.kind,
            exact,
            source: s.source.clone(),
        };
        let exact = self.stacks.iter().find(|s| {
            s.ja4
                .iter()
                .filter_map(|j| parts(j))
                .any(|(eb, ec)| (eb == b || eb == "*") && ec == c)
        });
        if let Some(s) = exact {
            return Some(found(s, true));
        }
        let mut same_ciphers = self
            .stacks
            .iter()
            .filter(|s| s.ja4.iter().filter_map(|j| parts(j)).any(|(eb, _)| eb == b));
        let first = same_ciphers.next()?;
        same_ciphers
            .all(|s| s.family == first.family)
            .then(|| found(first, false))
    }
}

/// [`HelloStacks::identify`] against the built-in file (parsed once).
pub fn identify(ja4: &str) -> Option<StackMatch> {
    static BUILTIN_STACKS: std::sync::OnceLock<HelloStacks> = std::sync::OnceLock::new();
    BUILTIN_STACKS
        .get_or_init(HelloStacks::builtin)
        .identify(ja4)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error as `{:#}` prints it (anyhow's form: each cause after `: `).
    fn printed(e: &(dyn std::error::Error + 'static)) -> String {
        let mut out = e.to_string();
        let mut cause = e.source();
        while let Some(c) = cause {
            out.push_str(": ");
            out.push_str(&c.to_string());
            cause = c.source();
        }
        out
    }

    #[test]
    fn a_toml_error_prints_its_message_once() {
        let e = HelloStacks::from_toml_str("[[stack]]\nid=1").err();
        let text = e.as_ref().map(|e| printed(e)).unwrap_or_default();
        let detail = e
            .and_then(|e| match e {
                StacksError::Toml(t) => Some(t.message().to_string()),
                _ => None,
            })
            .unwrap_or_default();
        assert!(!detail.is_empty(), "{text}");
        assert_eq!(text.matches(&detail).count(), 1, "{text}");
    }

    #[test]
    fn builtin_file_loads() {
        let s = HelloStacks::builtin();
        assert!(s.stacks().len() >= 10);
        assert!(s.stacks().iter().all(|s| !s.source.is_empty()));
    }

    #[test]
    fn part_a_is_not_compared() {
        // mitmproxy copies SNI presence and ALPN from the client: a changes, b and c do not.
        let m = identify("t13d2899zz_a01be8c064b6_ef4b9b248d72").unwrap();
        assert_eq!((m.id.as_str(), m.exact), ("mitmproxy-11", true));
    }

    #[test]
    fn a_new_openssl_application_is_named_by_its_cipher_family() {
        // Same cipher configuration as s_client and curl, extensions of neither.
        let m = identify("t13d3110h2_e8f1e7e78f70_000000000000").unwrap();
        assert!(!m.exact);
        assert_eq!(m.family, "OpenSSL 3.0 default client");
        assert!(m.describe().contains("cipher configuration of OpenSSL 3.0"));
    }

    #[test]
    fn a_product_passing_ciphers_on_is_named_by_its_extensions() {
        let m = identify("t12d130500_94beff773b37_f0b8f5931c7e").unwrap();
        assert_eq!(m.family, "Sophos");
        assert!(m.exact);
    }

    #[test]
    fn unknown_and_malformed_give_none() {
        assert_eq!(identify("t13d1516h2_000000000001_000000000002"), None);
        assert_eq!(identify(""), None);
        assert_eq!(identify("not a ja4"), None);
        assert_eq!(identify("a_b_c_d"), None);
    }

    #[test]
    fn rejects_bad_files() {
        assert!(HelloStacks::from_toml_str("[[stack]]\nid=1").is_err());
        let no_source =
            "[[stack]]\nid='x'\nname='x'\nfamily='x'\nkind='tool'\nja4=['a_b_c']\nsource=' '\n";
        assert!(HelloStacks::from_toml_str(no_source).is_err());
        let bad_ja4 =
            "[[stack]]\nid='x'\nname='x'\nfamily='x'\nkind='tool'\nja4=['abc']\nsource='s'\n";
        assert!(HelloStacks::from_toml_str(bad_ja4).is_err());
    }
}
