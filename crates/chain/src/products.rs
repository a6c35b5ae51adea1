//! The interception-product data file and issuer-name matching.

use serde::{Deserialize, Serialize};

use crate::facts::CertFacts;

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
    /// Patterns for the CA common name.
    #[serde(default)]
    pub issuer_cn: Vec<String>,
    /// Patterns for the CA organisation.
    #[serde(default)]
    pub issuer_o: Vec<String>,
    /// Vendor documentation of the inspection CA.
    pub doc: String,
    /// The administrator chooses the CA name: never matched by name.
    #[serde(default)]
    pub admin_named: bool,
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
    /// Not valid TOML or not the expected shape.
    #[error("interception products file: {0}")]
    Toml(#[from] toml::de::Error),
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
}

impl MatchedField {
    /// Human label: "issuer CN", "CA subject O", …
    pub fn label(self) -> &'static str {
        match self {
            MatchedField::IssuerCn => "issuer CN",
            MatchedField::IssuerO => "issuer O",
            MatchedField::SubjectCn => "CA subject CN",
            MatchedField::SubjectO => "CA subject O",
        }
    }
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
    /// Which attribute matched.
    pub field: MatchedField,
    /// The attribute value that matched.
    pub value: String,
    /// The pattern that matched it.
    pub pattern: String,
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
        let file: File = toml::from_str(text)?;
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
            let n = p.issuer_cn.len() + p.issuer_o.len();
            if n == 0 && !p.admin_named {
                return Err(bad("no issuer_cn or issuer_o pattern"));
            }
            if n > MAX_PATTERNS {
                return Err(bad("too many patterns"));
            }
            if p.issuer_cn
                .iter()
                .chain(&p.issuer_o)
                .any(|s| s.is_empty() || s.len() > MAX_PATTERN_LEN)
            {
                return Err(bad("empty or over-long pattern"));
            }
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
    /// patterns. A leaf's own subject is not matched: it names the site (www.sophos.com is not
    /// Sophos intercepting). At most one match per product per certificate.
    pub fn match_chain(&self, certs: &[CertFacts]) -> Vec<ProductMatch> {
        let mut out = Vec::new();
        for cert in certs {
            let mut fields: Vec<(MatchedField, &str)> = Vec::new();
            fields.extend(
                cert.issuer_cn
                    .iter()
                    .map(|v| (MatchedField::IssuerCn, v.as_str())),
            );
            fields.extend(
                cert.issuer_o
                    .iter()
                    .map(|v| (MatchedField::IssuerO, v.as_str())),
            );
            if cert.is_ca || cert.self_signed {
                fields.extend(
                    cert.subject_cn
                        .iter()
                        .map(|v| (MatchedField::SubjectCn, v.as_str())),
                );
                fields.extend(
                    cert.subject_o
                        .iter()
                        .map(|v| (MatchedField::SubjectO, v.as_str())),
                );
            }
            for p in self.products.iter().filter(|p| !p.admin_named) {
                let hit = fields.iter().find_map(|&(field, value)| {
                    let pats = match field {
                        MatchedField::IssuerCn | MatchedField::SubjectCn => &p.issuer_cn,
                        MatchedField::IssuerO | MatchedField::SubjectO => &p.issuer_o,
                    };
                    pats.iter()
                        .find(|pat| glob_match(pat, value))
                        .map(|pat| (field, value, pat))
                });
                if let Some((field, value, pattern)) = hit {
                    out.push(ProductMatch {
                        id: p.id.clone(),
                        product: p.product.clone(),
                        vendor: p.vendor.clone(),
                        kind: p.kind,
                        doc: p.doc.clone(),
                        certificate: cert.index,
                        field,
                        value: value.to_owned(),
                        pattern: pattern.clone(),
                    });
                }
            }
        }
        out
    }
}

/// Case-insensitive glob over the whole value where `*` matches any run of characters.
/// Iterative with single backtrack point, so it is linear-ish and cannot blow up.
pub(crate) fn glob_match(pattern: &str, value: &str) -> bool {
    let p: Vec<char> = pattern.chars().flat_map(char::to_lowercase).collect();
    let v: Vec<char> = value.chars().flat_map(char::to_lowercase).collect();
    let (mut pi, mut vi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, vi));
            pi += 1;
        } else if pi < p.len() && p[pi] == v[vi] {
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
