//! The interception-product data file and issuer-name matching.

use serde::{Deserialize, Serialize};

use crate::facts::{CertFacts, NameAttrs};

/// The data file shipped with interloper, compiled in so the pure crate needs no file I/O.
const BUILTIN: &str = include_str!("../../../data/interception-products.toml");

/// Bounds on a caller-supplied data file, so a hostile file cannot make matching slow.
const MAX_PRODUCTS: usize = 1_000;
const MAX_PATTERNS: usize = 64;
const MAX_PATTERN_LEN: usize = 256;

/// What kind of box (or program) intercepts TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProductKind {
    /// A network firewall with TLS inspection.
    Firewall,
    /// A (cloud or on-premises) web proxy / secure web gateway.
    Proxy,
    /// Antivirus software scanning HTTPS on the machine itself.
    Antivirus,
    /// A developer's debugging proxy (mitmproxy, Fiddler, Charles, Burp).
    DebuggingProxy,
}

/// One interception product from the data file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    /// Stable identifier.
    pub id: String,
    /// Product name as shown to the user.
    pub product: String,
    /// Vendor.
    pub vendor: String,
    /// Kind of product.
    pub kind: ProductKind,
    /// Shorthand: each pattern is a one-attribute rule on the CA common name (unconfirmed).
    #[serde(default)]
    pub issuer_cn: Vec<String>,
    /// Shorthand: each pattern is a one-attribute rule on the CA organisation (unconfirmed).
    #[serde(default)]
    pub issuer_o: Vec<String>,
    /// Rules on several attributes of one CA name; any rule matching names the product.
    #[serde(default, rename = "rule")]
    pub rules: Vec<Rule>,
    /// Vendor documentation of the inspection CA.
    pub doc: String,
    /// The administrator chooses the CA name: never matched by name.
    #[serde(default)]
    pub admin_named: bool,
}

/// A rule: every attribute it lists must match the same name (an issuer, or a CA's subject).
/// Within one attribute, any of its patterns may match any of the name's values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Patterns for the common name.
    #[serde(default)]
    pub cn: Vec<String>,
    /// Patterns for the organisation.
    #[serde(default)]
    pub o: Vec<String>,
    /// Patterns for the organisational unit.
    #[serde(default)]
    pub ou: Vec<String>,
    /// Patterns for the locality.
    #[serde(default)]
    pub l: Vec<String>,
    /// Patterns for the serialNumber attribute (2.5.4.5), not the certificate serial.
    #[serde(default)]
    pub serial_number: Vec<String>,
    /// Where the real-world name comes from: a vendor page or a published certificate.
    pub source: String,
    /// True when a real certificate with this name was seen; false for a guess.
    pub confirmed: bool,
    /// The name as seen on a real certificate (required when `confirmed`): tests build a CA
    /// with it and check the rule matches.
    #[serde(default)]
    pub seen: Option<SeenName>,
}

/// A name seen on a real certificate, attribute by attribute.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeenName {
    /// Common name.
    #[serde(default)]
    pub cn: Option<String>,
    /// Organisation.
    #[serde(default)]
    pub o: Option<String>,
    /// Organisational unit.
    #[serde(default)]
    pub ou: Option<String>,
    /// Locality.
    #[serde(default)]
    pub l: Option<String>,
    /// serialNumber attribute.
    #[serde(default)]
    pub serial_number: Option<String>,
}

/// A name attribute a rule can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NameAttribute {
    /// Common name (CN).
    Cn,
    /// Organisation (O).
    O,
    /// Organisational unit (OU).
    Ou,
    /// Locality (L).
    L,
    /// serialNumber.
    SerialNumber,
}

impl NameAttribute {
    /// Short label: "CN", "O", "OU", "L", "serialNumber".
    pub fn label(self) -> &'static str {
        match self {
            NameAttribute::Cn => "CN",
            NameAttribute::O => "O",
            NameAttribute::Ou => "OU",
            NameAttribute::L => "L",
            NameAttribute::SerialNumber => "serialNumber",
        }
    }
}

impl Rule {
    /// The attributes the rule tests with their patterns, most telling first (the first one is
    /// reported as the match's `field`).
    fn attributes(&self) -> [(NameAttribute, &[String]); 5] {
        [
            (NameAttribute::Cn, &self.cn),
            (NameAttribute::Ou, &self.ou),
            (NameAttribute::SerialNumber, &self.serial_number),
            (NameAttribute::L, &self.l),
            (NameAttribute::O, &self.o),
        ]
    }

    fn pattern_count(&self) -> usize {
        self.attributes().iter().map(|(_, p)| p.len()).sum()
    }

    /// The values and patterns that satisfy every attribute of the rule, or None.
    fn match_name(&self, name: &NameAttrs) -> Option<Vec<MatchedAttribute>> {
        let mut out = Vec::new();
        for (attribute, patterns) in self.attributes() {
            if patterns.is_empty() {
                continue;
            }
            let values = match attribute {
                NameAttribute::Cn => &name.cn,
                NameAttribute::O => &name.o,
                NameAttribute::Ou => &name.ou,
                NameAttribute::L => &name.l,
                NameAttribute::SerialNumber => &name.serial_number,
            };
            let hit = values.iter().find_map(|v| {
                patterns
                    .iter()
                    .find(|p| glob_match(p, v))
                    .map(|p| (v.clone(), p.clone()))
            })?;
            out.push(MatchedAttribute {
                attribute,
                value: hit.0,
                pattern: hit.1,
            });
        }
        (!out.is_empty()).then_some(out)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    product: Vec<Product>,
}

/// Why a product data file was rejected.
#[derive(Debug, thiserror::Error)]
pub enum ProductDbError {
    /// Not valid TOML or not the expected shape. The message says the parser's words, so they are not also a
    /// `source` (`{:#}` would print them twice).
    #[error("interception products file: {0}")]
    Toml(toml::de::Error),
    /// A product breaks a rule (empty patterns, too many or too long patterns, duplicate id).
    #[error("interception products file: product {id:?}: {problem}")]
    Invalid {
        /// The offending product id.
        id: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// More products than the bound allows.
    #[error("interception products file: more than {MAX_PRODUCTS} products")]
    TooMany,
}

/// The list of known interception products.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProductDb {
    products: Vec<Product>,
}

/// Which attribute of which name matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchedField {
    /// The certificate's issuer common name.
    IssuerCn,
    /// The certificate's issuer organisation.
    IssuerO,
    /// A CA certificate's own subject common name.
    SubjectCn,
    /// A CA certificate's own subject organisation.
    SubjectO,
    /// The certificate's issuer organisational unit.
    IssuerOu,
    /// A CA certificate's own subject organisational unit.
    SubjectOu,
    /// The certificate's issuer locality.
    IssuerL,
    /// A CA certificate's own subject locality.
    SubjectL,
    /// The certificate's issuer serialNumber attribute.
    IssuerSerialNumber,
    /// A CA certificate's own subject serialNumber attribute.
    SubjectSerialNumber,
}

impl MatchedField {
    fn of(subject: bool, attribute: NameAttribute) -> Self {
        match (subject, attribute) {
            (false, NameAttribute::Cn) => MatchedField::IssuerCn,
            (false, NameAttribute::O) => MatchedField::IssuerO,
            (false, NameAttribute::Ou) => MatchedField::IssuerOu,
            (false, NameAttribute::L) => MatchedField::IssuerL,
            (false, NameAttribute::SerialNumber) => MatchedField::IssuerSerialNumber,
            (true, NameAttribute::Cn) => MatchedField::SubjectCn,
            (true, NameAttribute::O) => MatchedField::SubjectO,
            (true, NameAttribute::Ou) => MatchedField::SubjectOu,
            (true, NameAttribute::L) => MatchedField::SubjectL,
            (true, NameAttribute::SerialNumber) => MatchedField::SubjectSerialNumber,
        }
    }

    /// Human label: "issuer CN", "CA subject O", …
    pub fn label(self) -> &'static str {
        match self {
            MatchedField::IssuerCn => "issuer CN",
            MatchedField::IssuerO => "issuer O",
            MatchedField::SubjectCn => "CA subject CN",
            MatchedField::SubjectO => "CA subject O",
            MatchedField::IssuerOu => "issuer OU",
            MatchedField::SubjectOu => "CA subject OU",
            MatchedField::IssuerL => "issuer L",
            MatchedField::SubjectL => "CA subject L",
            MatchedField::IssuerSerialNumber => "issuer serialNumber",
            MatchedField::SubjectSerialNumber => "CA subject serialNumber",
        }
    }
}

/// One attribute of a matched rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatchedAttribute {
    /// Which attribute.
    pub attribute: NameAttribute,
    /// Its value in the name.
    pub value: String,
    /// The pattern that matched it.
    pub pattern: String,
}

/// A product recognised in a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProductMatch {
    /// Product id.
    pub id: String,
    /// Product name.
    pub product: String,
    /// Vendor.
    pub vendor: String,
    /// Kind.
    pub kind: ProductKind,
    /// Vendor documentation.
    pub doc: String,
    /// Index of the certificate in the presented chain (0 = leaf).
    pub certificate: usize,
    /// Which attribute matched (the most telling one of the rule).
    pub field: MatchedField,
    /// The attribute value that matched.
    pub value: String,
    /// The pattern that matched it.
    pub pattern: String,
    /// Every attribute of the rule that matched (the first is `field`).
    pub attributes: Vec<MatchedAttribute>,
    /// Whether the rule was written from a name seen on a real certificate.
    pub confirmed: bool,
    /// Where the rule's name comes from.
    pub source: String,
}

impl ProductMatch {
    /// "issuer O "Fortinet" and CN "FG6H0FTB22903890"": what matched, for messages.
    pub fn describe(&self) -> String {
        let place = self
            .field
            .label()
            .rsplit_once(' ')
            .map_or("", |(place, _)| place);
        let parts: Vec<String> = self
            .attributes
            .iter()
            .map(|a| format!("{} {:?}", a.attribute.label(), a.value))
            .collect();
        format!("{place} {}", parts.join(" and "))
    }
}

impl Product {
    /// The product's rules: the `rule` tables, then one unconfirmed rule per shorthand pattern.
    pub fn all_rules(&self) -> Vec<Rule> {
        let shorthand = |pattern: &String, cn: bool| Rule {
            cn: if cn { vec![pattern.clone()] } else { vec![] },
            o: if cn { vec![] } else { vec![pattern.clone()] },
            source: self.doc.clone(),
            confirmed: false,
            ..Rule::default()
        };
        self.rules
            .iter()
            .cloned()
            .chain(self.issuer_cn.iter().map(|p| shorthand(p, true)))
            .chain(self.issuer_o.iter().map(|p| shorthand(p, false)))
            .collect()
    }

    fn validate(&self) -> Result<(), &'static str> {
        let rules = self.all_rules();
        if rules.is_empty() && !self.admin_named {
            return Err("no rule, issuer_cn or issuer_o pattern");
        }
        if rules.iter().map(Rule::pattern_count).sum::<usize>() > MAX_PATTERNS {
            return Err("too many patterns");
        }
        for rule in &rules {
            if rule.pattern_count() == 0 {
                return Err("a rule with no attribute");
            }
            if rule.source.trim().is_empty() {
                return Err("a rule without a source");
            }
            if rule.confirmed && rule.seen.is_none() {
                return Err("a confirmed rule without the name it was seen as");
            }
            if rule
                .attributes()
                .iter()
                .flat_map(|(_, p)| p.iter())
                .any(|s| s.is_empty() || s.len() > MAX_PATTERN_LEN)
            {
                return Err("empty or over-long pattern");
            }
        }
        Ok(())
    }
}

impl ProductDb {
    /// The data file compiled into interloper.
    pub fn builtin() -> Self {
        // The embedded file is checked by the `builtin_db_loads` test, so this cannot fail at
        // run time; an empty list would silently hide products, hence the expect.
        Self::from_toml_str(BUILTIN).expect("embedded interception-products.toml is valid")
    }

    /// Parses a data file supplied by the caller.
    pub fn from_toml_str(text: &str) -> Result<Self, ProductDbError> {
        let file: File = toml::from_str(text).map_err(ProductDbError::Toml)?;
        if file.product.len() > MAX_PRODUCTS {
            return Err(ProductDbError::TooMany);
        }
        let mut seen = std::collections::HashSet::new();
        for p in &file.product {
            let bad = |problem| ProductDbError::Invalid {
                id: p.id.clone(),
                problem,
            };
            if !seen.insert(p.id.as_str()) {
                return Err(bad("duplicate id"));
            }
            p.validate().map_err(bad)?;
        }
        Ok(Self {
            products: file.product,
        })
    }

    /// All products.
    pub fn products(&self) -> &[Product] {
        &self.products
    }

    /// Products whose CA name the administrator chooses (never matched by name).
    pub fn admin_named(&self) -> impl Iterator<Item = &Product> {
        self.products.iter().filter(|p| p.admin_named)
    }

    /// Matches every certificate's issuer, and the subject of every CA certificate, against the
    /// rules. A leaf's own subject is not matched: it names the site (www.sophos.com is not
    /// Sophos intercepting). At most one match per product per certificate.
    pub fn match_chain(&self, certs: &[CertFacts]) -> Vec<ProductMatch> {
        let mut out = Vec::new();
        for cert in certs {
            let mut names: Vec<(bool, &NameAttrs)> = vec![(false, &cert.issuer_attrs)];
            if cert.is_ca || cert.self_signed {
                names.push((true, &cert.subject_attrs));
            }
            for p in self.products.iter().filter(|p| !p.admin_named) {
                let hit = p.all_rules().into_iter().find_map(|rule| {
                    names.iter().find_map(|&(subject, name)| {
                        rule.match_name(name)
                            .map(|attrs| (subject, attrs, rule.confirmed, rule.source.clone()))
                    })
                });
                let Some((subject, attributes, confirmed, source)) = hit else {
                    continue;
                };
                let Some(first) = attributes.first() else {
                    continue;
                };
                out.push(ProductMatch {
                    id: p.id.clone(),
                    product: p.product.clone(),
                    vendor: p.vendor.clone(),
                    kind: p.kind,
                    doc: p.doc.clone(),
                    certificate: cert.index,
                    field: MatchedField::of(subject, first.attribute),
                    value: first.value.clone(),
                    pattern: first.pattern.clone(),
                    confirmed,
                    source,
                    attributes,
                });
            }
        }
        out
    }
}

/// Case-insensitive match over the whole value: `*` matches any run of characters, `#` one
/// ASCII digit, `?` one ASCII letter or digit (the data file's shape syntax, e.g. a FortiGate
/// serial `FG??????????????`); anything else matches itself. Iterative with a single backtrack
/// point, so it is linear-ish and cannot blow up.
pub(crate) fn glob_match(pattern: &str, value: &str) -> bool {
    let p: Vec<char> = pattern.chars().flat_map(char::to_lowercase).collect();
    let v: Vec<char> = value.chars().flat_map(char::to_lowercase).collect();
    let one = |pc: char, vc: char| match pc {
        '#' => vc.is_ascii_digit(),
        '?' => vc.is_ascii_alphanumeric(),
        _ => pc == vc,
    };
    let (mut pi, mut vi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, vi));
            pi += 1;
        } else if pi < p.len() && one(p[pi], v[vi]) {
            pi += 1;
            vi += 1;
        } else if let Some((sp, sv)) = star {
            pi = sp + 1;
            vi = sv + 1;
            star = Some((sp, sv + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
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
        let e = ProductDb::from_toml_str("[[product]]\nid=1").err();
        let text = e.as_ref().map(|e| printed(e)).unwrap_or_default();
        let detail = e
            .and_then(|e| match e {
                ProductDbError::Toml(t) => Some(t.message().to_string()),
                _ => None,
            })
            .unwrap_or_default();
        assert!(!detail.is_empty(), "{text}");
        assert_eq!(text.matches(&detail).count(), 1, "{text}");
    }

    #[test]
    fn builtin_db_loads() {
        let db = ProductDb::builtin();
        assert!(db.products().len() >= 24);
        assert_eq!(db.admin_named().count(), 2);
    }

    #[test]
    fn glob_semantics() {
        assert!(glob_match("FortiGate CA", "fortigate ca"));
        assert!(!glob_match("FortiGate CA", "FortiGate CA 2"));
        assert!(glob_match("Zscaler*", "Zscaler Root CA"));
        assert!(glob_match("*goskope.com", "ca.acme.goskope.com"));
        assert!(glob_match("*IWSS*", "the iwss box"));
        assert!(!glob_match("*IWSS*", "IWS"));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(!glob_match("a*b*c", "aXXbYY"));
        // Shapes: a FortiGate serial is FG + 14 letters or digits.
        assert!(glob_match("FG??????????????", "FG6H0FTB22903890"));
        assert!(!glob_match("FG??????????????", "FG6H0FTB2290389"));
        assert!(!glob_match("FG??????????????", "FortiGate CA 123"));
        assert!(glob_match("R##", "R10"));
        assert!(!glob_match("R##", "R1a"));
    }

    #[test]
    fn rejects_bad_files() {
        assert!(ProductDb::from_toml_str("[[product]]\nid=1").is_err());
        let empty = "[[product]]\nid='x'\nproduct='x'\nvendor='x'\nkind='proxy'\ndoc='x'\n";
        assert!(matches!(
            ProductDb::from_toml_str(empty),
            Err(ProductDbError::Invalid { .. })
        ));
        let bad_kind = "[[product]]\nid='x'\nproduct='x'\nvendor='x'\nkind='toaster'\ndoc='x'\nissuer_cn=['x']\n";
        assert!(ProductDb::from_toml_str(bad_kind).is_err());
    }
}
