//! JA3 / JA3S (Salesforce) and JA4 (FoxIO, TLS client only) fingerprints.
//!
//! Only the JA4 TLS-client method is implemented: JA4S, JA4X, JA4H and the other JA4+ methods
//! are under the FoxIO License, which forbids commercial use.
//!
//! GREASE values (RFC 8701) are dropped everywhere before fingerprinting: from ciphers,
//! extensions, groups, versions and — the rule fixed in the JA4 reference after Chrome began
//! putting GREASE there — signature algorithms.

use md5::{Digest as _, Md5};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::hello::ext;
use crate::{ClientHello, ServerHello, is_grease};

/// A JA3 or JA3S fingerprint: the comma/dash string and its MD5.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ja3 {
    /// The fingerprint string, e.g. `771,4865-4866,0-23-65281,29-23,0`.
    pub string: String,
    /// Lowercase hex MD5 of `string`.
    pub hash: String,
}

/// How the ClientHello was carried; gives the first character of JA4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Transport {
    /// TLS over TCP (`t`).
    Tcp,
    /// TLS inside QUIC CRYPTO frames (`q`).
    Quic,
}

/// The JA4 TLS-client fingerprint in its four forms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ja4 {
    /// Sorted, hashed: `t13d1516h2_8daaf6152771_e5627efa2ab1`.
    pub ja4: String,
    /// Sorted, raw lists instead of hashes.
    pub ja4_r: String,
    /// Original (wire) order, hashed; extensions include SNI and ALPN.
    pub ja4_o: String,
    /// Original order, raw lists.
    pub ja4_ro: String,
}

/// Values in decimal joined by `-`, written into `out` (fingerprinting every hello of a large
/// capture is hot: no string per value).
fn push_dec_list<T: itoa::Integer>(out: &mut String, values: impl IntoIterator<Item = T>) {
    let mut digits = itoa::Buffer::new();
    for (i, v) in values.into_iter().enumerate() {
        if i > 0 {
            out.push('-');
        }
        out.push_str(digits.format(v));
    }
}

/// Lowercase hex of a digest's first `N / 2` bytes, through a stack buffer.
fn hex_prefix<const N: usize>(digest: &[u8]) -> String {
    let mut buf = [0u8; N];
    match digest.get(..N / 2) {
        Some(bytes) if hex::encode_to_slice(bytes, &mut buf).is_ok() => {
            String::from_utf8_lossy(&buf).into_owned()
        }
        _ => hex::encode(digest),
    }
}

fn md5_hex(s: &str) -> String {
    hex_prefix::<32>(&Md5::digest(s.as_bytes()))
}

fn no_grease(values: &[u16]) -> impl Iterator<Item = u16> + '_ {
    values.iter().copied().filter(|&v| !is_grease(v))
}

/// JA3 of a ClientHello: `SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats`,
/// decimal values joined by `-`, GREASE removed, MD5.
pub fn ja3(hello: &ClientHello) -> Ja3 {
    let mut string = String::with_capacity(256);
    string.push_str(itoa::Buffer::new().format(hello.legacy_version));
    string.push(',');
    push_dec_list(&mut string, no_grease(&hello.cipher_suites));
    string.push(',');
    let exts = hello.extensions.iter().map(|e| e.typ);
    push_dec_list(&mut string, exts.filter(|&t| !is_grease(t)));
    string.push(',');
    push_dec_list(&mut string, no_grease(&hello.supported_groups()));
    string.push(',');
    push_dec_list(&mut string, hello.ec_point_formats());
    let hash = md5_hex(&string);
    Ja3 { string, hash }
}

/// JA3S of a ServerHello: `SSLVersion,Cipher,Extensions`, GREASE removed, MD5.
pub fn ja3s(hello: &ServerHello) -> Ja3 {
    let mut string = format!("{},{},", hello.legacy_version, hello.cipher_suite);
    let exts = hello.extensions.iter().map(|e| e.typ);
    push_dec_list(&mut string, exts.filter(|&t| !is_grease(t)));
    let hash = md5_hex(&string);
    Ja3 { string, hash }
}

fn ja4_version(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

/// First and last character of the first ALPN value; when either is not ASCII alphanumeric,
/// the first and last hex digits of the value instead; `00` when there is none.
fn ja4_alpn(first: Option<&[u8]>) -> String {
    let Some((&a, rest)) = first.and_then(<[u8]>::split_first) else {
        return "00".to_string();
    };
    let z = rest.last().copied().unwrap_or(a);
    if a.is_ascii_alphanumeric() && z.is_ascii_alphanumeric() {
        format!("{}{}", char::from(a), char::from(z))
    } else {
        let hi = format!("{a:02x}");
        let lo = format!("{z:02x}");
        format!("{}{}", &hi[..1], &lo[1..])
    }
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Values as 4-digit lowercase hex joined by `,`, written into one string.
fn hex_list(values: &[u16]) -> String {
    let mut out = String::with_capacity(values.len() * 5);
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for shift in [12, 8, 4, 0] {
            out.push(char::from(HEX_DIGITS[usize::from((v >> shift) & 0xf)]));
        }
    }
    out
}

/// First 12 hex digits of SHA-256, or twelve zeros for an empty list (the JA4 convention).
fn ja4_hash(s: &str) -> String {
    if s.is_empty() {
        return "000000000000".to_string();
    }
    hex_prefix::<12>(&Sha256::digest(s.as_bytes()))
}

/// The lists JA4 is made of, GREASE removed.
struct Ja4Parts {
    /// Part a: protocol, version, SNI, counts, ALPN.
    a: String,
    /// Cipher suites in wire order.
    ciphers: Vec<u16>,
    /// Extensions in wire order.
    exts_o: Vec<u16>,
    /// Extensions sorted, SNI and ALPN left out (they are already in part a and vary by site).
    exts_sorted: Vec<u16>,
    /// Signature algorithms in wire order.
    sigalgs: Vec<u16>,
}

impl Ja4Parts {
    fn of(hello: &ClientHello, transport: Transport) -> Ja4Parts {
        let proto = match transport {
            Transport::Tcp => 't',
            Transport::Quic => 'q',
        };
        let ciphers: Vec<u16> = no_grease(&hello.cipher_suites).collect();
        let exts_o: Vec<u16> = hello
            .extensions
            .iter()
            .map(|e| e.typ)
            .filter(|&t| !is_grease(t))
            .collect();
        let sigalgs: Vec<u16> = no_grease(&hello.signature_algorithms()).collect();
        let sni = if hello.extension(ext::SERVER_NAME).is_some() {
            'd'
        } else {
            'i'
        };
        let alpn = hello.alpn_raw();
        let a = format!(
            "{proto}{}{sni}{:02}{:02}{}",
            ja4_version(hello.max_version()),
            ciphers.len().min(99),
            exts_o.len().min(99),
            ja4_alpn(alpn.first().map(Vec::as_slice)),
        );
        let mut exts_sorted: Vec<u16> = exts_o
            .iter()
            .copied()
            .filter(|&t| t != ext::SERVER_NAME && t != ext::ALPN)
            .collect();
        exts_sorted.sort_unstable();
        Ja4Parts {
            a,
            ciphers,
            exts_o,
            exts_sorted,
            sigalgs,
        }
    }

    fn ciphers_sorted(&self) -> Vec<u16> {
        let mut sorted = self.ciphers.clone();
        sorted.sort_unstable();
        sorted
    }

    /// Part c raw: extensions, then `_` and the signature algorithms when there are any.
    fn part_c(&self, exts: &[u16]) -> String {
        let mut s = hex_list(exts);
        if !self.sigalgs.is_empty() {
            s.push('_');
            s.push_str(&hex_list(&self.sigalgs));
        }
        s
    }

    /// Part c hashed. Both hashed forms print zeros when no extension other than SNI/ALPN was
    /// sent, as the reference does (a hello with only SNI gives `_000000000000` in JA4_o too).
    fn hashed_c(&self, exts: &[u16]) -> String {
        if self.exts_sorted.is_empty() {
            "000000000000".to_string()
        } else {
            ja4_hash(&self.part_c(exts))
        }
    }

    fn ja4(&self, ciphers_sorted: &[u16]) -> String {
        format!(
            "{}_{}_{}",
            self.a,
            ja4_hash(&hex_list(ciphers_sorted)),
            self.hashed_c(&self.exts_sorted)
        )
    }
}

/// JA4 of a ClientHello, with its `_r`, `_o` and `_ro` forms.
pub fn ja4(hello: &ClientHello, transport: Transport) -> Ja4 {
    let p = Ja4Parts::of(hello, transport);
    let ciphers_sorted = p.ciphers_sorted();
    let b_sorted = hex_list(&ciphers_sorted);
    let b_orig = hex_list(&p.ciphers);
    let a = &p.a;
    Ja4 {
        ja4: p.ja4(&ciphers_sorted),
        ja4_r: format!("{a}_{b_sorted}_{}", p.part_c(&p.exts_sorted)),
        ja4_o: format!("{a}_{}_{}", ja4_hash(&b_orig), p.hashed_c(&p.exts_o)),
        ja4_ro: format!("{a}_{b_orig}_{}", p.part_c(&p.exts_o)),
    }
}

/// JA4 alone, without the other forms [`ja4`] computes (half the hashing: for fingerprinting
/// every hello of a large capture).
pub fn ja4_only(hello: &ClientHello, transport: Transport) -> String {
    let p = Ja4Parts::of(hello, transport);
    p.ja4(&p.ciphers_sorted())
}
