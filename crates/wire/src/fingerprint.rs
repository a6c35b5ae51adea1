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

/// Values in decimal joined by `-`, written into one string (fingerprinting every hello of a
/// large capture is hot: no string per value).
fn dec_list<T: std::fmt::Display>(values: impl IntoIterator<Item = T>) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(64);
    for (i, v) in values.into_iter().enumerate() {
        if i > 0 {
            out.push('-');
        }
        let _ = write!(out, "{v}");
    }
    out
}

fn md5_hex(s: &str) -> String {
    hex::encode(Md5::digest(s.as_bytes()))
}

fn no_grease(values: &[u16]) -> impl Iterator<Item = u16> + '_ {
    values.iter().copied().filter(|&v| !is_grease(v))
}

/// JA3 of a ClientHello: `SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats`,
/// decimal values joined by `-`, GREASE removed, MD5.
pub fn ja3(hello: &ClientHello) -> Ja3 {
    let exts: Vec<u16> = hello.extensions.iter().map(|e| e.typ).collect();
    let string = format!(
        "{},{},{},{},{}",
        hello.legacy_version,
        dec_list(no_grease(&hello.cipher_suites)),
        dec_list(no_grease(&exts)),
        dec_list(no_grease(&hello.supported_groups())),
        dec_list(hello.ec_point_formats()),
    );
    let hash = md5_hex(&string);
    Ja3 { string, hash }
}

/// JA3S of a ServerHello: `SSLVersion,Cipher,Extensions`, GREASE removed, MD5.
pub fn ja3s(hello: &ServerHello) -> Ja3 {
    let exts: Vec<u16> = hello.extensions.iter().map(|e| e.typ).collect();
    let string = format!(
        "{},{},{}",
        hello.legacy_version,
        hello.cipher_suite,
        dec_list(no_grease(&exts)),
    );
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
    let mut h = hex::encode(Sha256::digest(s.as_bytes()));
    h.truncate(12);
    h
}

/// JA4 of a ClientHello, with its `_r`, `_o` and `_ro` forms.
pub fn ja4(hello: &ClientHello, transport: Transport) -> Ja4 {
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

    let mut ciphers_sorted = ciphers.clone();
    ciphers_sorted.sort_unstable();
    // The sorted form leaves out SNI and ALPN: they are already in part a and vary by site.
    let mut exts_sorted: Vec<u16> = exts_o
        .iter()
        .copied()
        .filter(|&t| t != ext::SERVER_NAME && t != ext::ALPN)
        .collect();
    exts_sorted.sort_unstable();

    let part_c = |exts: &[u16]| {
        let mut s = hex_list(exts);
        if !sigalgs.is_empty() {
            s.push('_');
            s.push_str(&hex_list(&sigalgs));
        }
        s
    };
    // Both hashed forms print zeros when no extension other than SNI/ALPN was sent, as the
    // reference does (a hello with only SNI gives `_000000000000` in JA4_o too).
    let hashed_c = |exts: &[u16]| {
        if exts_sorted.is_empty() {
            "000000000000".to_string()
        } else {
            ja4_hash(&part_c(exts))
        }
    };

    let b_sorted = hex_list(&ciphers_sorted);
    let b_orig = hex_list(&ciphers);
    Ja4 {
        ja4: format!("{a}_{}_{}", ja4_hash(&b_sorted), hashed_c(&exts_sorted)),
        ja4_r: format!("{a}_{b_sorted}_{}", part_c(&exts_sorted)),
        ja4_o: format!("{a}_{}_{}", ja4_hash(&b_orig), hashed_c(&exts_o)),
        ja4_ro: format!("{a}_{b_orig}_{}", part_c(&exts_o)),
    }
}
