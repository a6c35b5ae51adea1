//! ClientHello and ServerHello messages (RFC 8446 §4.1.2–4.1.3, RFC 5246 §7.4.1).
//!
//! Parsing is strict about framing (every length must match, nothing may be left over) and
//! lenient about contents: unknown cipher suites, extensions, groups and GREASE values are kept
//! as they are, in wire order, because fingerprints depend on exactly what was sent.
//! Extension payloads are decoded lazily by the accessors; a malformed payload yields an
//! empty answer there rather than rejecting the whole hello.

use serde::{Deserialize, Serialize};

use crate::WireError;
use crate::cursor::Reader;

/// Handshake message type of a ClientHello.
pub const HANDSHAKE_CLIENT_HELLO: u8 = 1;
/// Handshake message type of a ServerHello (and of a HelloRetryRequest).
pub const HANDSHAKE_SERVER_HELLO: u8 = 2;

/// Extension type numbers this crate decodes.
pub mod ext {
    /// server_name (SNI).
    pub const SERVER_NAME: u16 = 0x0000;
    /// supported_groups (formerly elliptic_curves).
    pub const SUPPORTED_GROUPS: u16 = 0x000a;
    /// ec_point_formats.
    pub const EC_POINT_FORMATS: u16 = 0x000b;
    /// signature_algorithms.
    pub const SIGNATURE_ALGORITHMS: u16 = 0x000d;
    /// application_layer_protocol_negotiation (ALPN).
    pub const ALPN: u16 = 0x0010;
    /// supported_versions.
    pub const SUPPORTED_VERSIONS: u16 = 0x002b;
    /// key_share.
    pub const KEY_SHARE: u16 = 0x0033;
}

/// The `random` a ServerHello carries when it is really a HelloRetryRequest (RFC 8446 §4.1.3).
const HELLO_RETRY_REQUEST_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// One hello extension, raw: its type and its undecoded payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    /// Extension type (GREASE values included).
    pub typ: u16,
    /// Extension payload as sent.
    pub data: Vec<u8>,
}

/// A parsed ClientHello; lists are in wire order with GREASE and unknown values kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientHello {
    /// `legacy_version` (0x0303 for TLS 1.2 and 1.3 clients).
    pub legacy_version: u16,
    /// The client random.
    pub random: [u8; 32],
    /// `legacy_session_id` (0–32 bytes).
    pub session_id: Vec<u8>,
    /// Offered cipher suites.
    pub cipher_suites: Vec<u16>,
    /// Offered compression methods (normally just `0`).
    pub compression_methods: Vec<u8>,
    /// Extensions in wire order.
    pub extensions: Vec<Extension>,
}

/// A parsed ServerHello (or HelloRetryRequest, see [`ServerHello::is_hello_retry_request`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerHello {
    /// `legacy_version` (0x0303 for TLS 1.2 and 1.3 servers).
    pub legacy_version: u16,
    /// The server random.
    pub random: [u8; 32],
    /// `legacy_session_id_echo`.
    pub session_id: Vec<u8>,
    /// The chosen cipher suite.
    pub cipher_suite: u16,
    /// The chosen compression method.
    pub compression_method: u8,
    /// Extensions in wire order.
    pub extensions: Vec<Extension>,
}

/// Reads the 4-byte handshake header, checks the type and that the body fills the input exactly.
fn handshake_body<'a>(msg: &'a [u8], expected: u8) -> Result<Reader<'a>, WireError> {
    let mut r = Reader::new(msg);
    let typ = r.u8("handshake type")?;
    if typ != expected {
        return Err(WireError::UnexpectedHandshakeType {
            expected,
            found: typ,
        });
    }
    let len = r.u24("handshake length")?;
    let body = r.take(len, "handshake body")?;
    r.finish("handshake message")?;
    Ok(Reader::new(body))
}

fn random(r: &mut Reader<'_>) -> Result<[u8; 32], WireError> {
    let bytes = r.take(32, "random")?;
    <[u8; 32]>::try_from(bytes).map_err(|_| WireError::Malformed("random"))
}

fn session_id(r: &mut Reader<'_>) -> Result<Vec<u8>, WireError> {
    let sid = r.vec_u8("session id")?.rest();
    if sid.len() > 32 {
        return Err(WireError::Malformed("session id longer than 32 bytes"));
    }
    Ok(sid.to_vec())
}

/// Extensions block; absent entirely in some pre-TLS-1.2 hellos, which is allowed.
fn extensions(r: &mut Reader<'_>) -> Result<Vec<Extension>, WireError> {
    if r.is_empty() {
        return Ok(Vec::new());
    }
    let mut block = r.vec_u16("extensions")?;
    let mut out = Vec::new();
    while !block.is_empty() {
        let typ = block.u16("extension type")?;
        let data = block.vec_u16("extension data")?.rest().to_vec();
        out.push(Extension { typ, data });
    }
    Ok(out)
}

fn find(extensions: &[Extension], typ: u16) -> Option<&[u8]> {
    extensions
        .iter()
        .find(|e| e.typ == typ)
        .map(|e| e.data.as_slice())
}

/// Decodes `u16 length || u16 values` (supported_groups, signature_algorithms).
fn u16_vec_u16(data: &[u8]) -> Result<Vec<u16>, WireError> {
    let mut r = Reader::new(data);
    let list = r.vec_u16("u16 list")?;
    r.finish("u16 list")?;
    list.u16_list("u16 list")
}

impl ClientHello {
    /// Parses one handshake message, including its 4-byte header (type 1, u24 length).
    pub fn parse(handshake_msg: &[u8]) -> Result<ClientHello, WireError> {
        let mut r = handshake_body(handshake_msg, HANDSHAKE_CLIENT_HELLO)?;
        let legacy_version = r.u16("client version")?;
        let random = random(&mut r)?;
        let session_id = session_id(&mut r)?;
        let ciphers = r.vec_u16("cipher suites")?;
        let cipher_suites = ciphers.u16_list("cipher suites")?;
        let compression_methods = r.vec_u8("compression methods")?.rest().to_vec();
        let extensions = extensions(&mut r)?;
        r.finish("ClientHello")?;
        Ok(ClientHello {
            legacy_version,
            random,
            session_id,
            cipher_suites,
            compression_methods,
            extensions,
        })
    }

    /// Payload of the first extension of this type.
    pub fn extension(&self, typ: u16) -> Option<&[u8]> {
        find(&self.extensions, typ)
    }

    /// The first host_name in server_name (lossy UTF-8; a DNS name is ASCII).
    pub fn sni(&self) -> Option<String> {
        let data = self.extension(ext::SERVER_NAME)?;
        let mut r = Reader::new(data);
        let mut list = r.vec_u16("server name list").ok()?;
        while !list.is_empty() {
            let kind = list.u8("name type").ok()?;
            let name = list.vec_u16("host name").ok()?.rest();
            if kind == 0 {
                return Some(String::from_utf8_lossy(name).into_owned());
            }
        }
        None
    }

    /// ALPN protocol names as raw bytes, in offered order.
    pub fn alpn_raw(&self) -> Vec<Vec<u8>> {
        let Some(data) = self.extension(ext::ALPN) else {
            return Vec::new();
        };
        let mut r = Reader::new(data);
        let Ok(mut list) = r.vec_u16("ALPN list") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        while !list.is_empty() {
            match list.vec_u8("ALPN protocol") {
                Ok(mut p) => out.push(p.rest().to_vec()),
                Err(_) => break,
            }
        }
        out
    }

    /// ALPN protocol names (lossy UTF-8), in offered order.
    pub fn alpn(&self) -> Vec<String> {
        self.alpn_raw()
            .iter()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect()
    }

    /// supported_versions as offered (GREASE kept); empty when the extension is absent.
    pub fn supported_versions(&self) -> Vec<u16> {
        let Some(data) = self.extension(ext::SUPPORTED_VERSIONS) else {
            return Vec::new();
        };
        let mut r = Reader::new(data);
        let parsed = r
            .vec_u8("supported versions")
            .and_then(|l| l.u16_list("supported versions"));
        match (parsed, r.finish("supported versions")) {
            (Ok(v), Ok(())) => v,
            _ => Vec::new(),
        }
    }

    /// supported_groups as offered (GREASE kept).
    pub fn supported_groups(&self) -> Vec<u16> {
        self.extension(ext::SUPPORTED_GROUPS)
            .and_then(|d| u16_vec_u16(d).ok())
            .unwrap_or_default()
    }

    /// signature_algorithms as offered (GREASE kept).
    pub fn signature_algorithms(&self) -> Vec<u16> {
        self.extension(ext::SIGNATURE_ALGORITHMS)
            .and_then(|d| u16_vec_u16(d).ok())
            .unwrap_or_default()
    }

    /// Groups for which the client sent a key share, in order (GREASE kept).
    pub fn key_share_groups(&self) -> Vec<u16> {
        self.key_shares()
            .into_iter()
            .map(|(group, _)| group)
            .collect()
    }

    /// Key shares as (group, key length in bytes): shows e.g. a 1216-byte X25519MLKEM768 share.
    pub fn key_shares(&self) -> Vec<(u16, usize)> {
        let Some(data) = self.extension(ext::KEY_SHARE) else {
            return Vec::new();
        };
        let mut r = Reader::new(data);
        let Ok(mut list) = r.vec_u16("key shares") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        while !list.is_empty() {
            let Ok(group) = list.u16("key share group") else {
                break;
            };
            let Ok(mut key) = list.vec_u16("key exchange") else {
                break;
            };
            out.push((group, key.rest().len()));
        }
        out
    }

    /// ec_point_formats as offered.
    pub fn ec_point_formats(&self) -> Vec<u8> {
        let Some(data) = self.extension(ext::EC_POINT_FORMATS) else {
            return Vec::new();
        };
        let mut r = Reader::new(data);
        match r.vec_u8("ec point formats") {
            Ok(mut l) if r.finish("ec point formats").is_ok() => l.rest().to_vec(),
            _ => Vec::new(),
        }
    }

    /// The highest non-GREASE version offered: from supported_versions when present,
    /// else `legacy_version` (the rule JA4 uses).
    pub fn max_version(&self) -> u16 {
        self.supported_versions()
            .into_iter()
            .filter(|&v| !crate::is_grease(v))
            .max()
            .unwrap_or(self.legacy_version)
    }
}

impl ServerHello {
    /// Parses one handshake message, including its 4-byte header (type 2, u24 length).
    pub fn parse(handshake_msg: &[u8]) -> Result<ServerHello, WireError> {
        let mut r = handshake_body(handshake_msg, HANDSHAKE_SERVER_HELLO)?;
        let legacy_version = r.u16("server version")?;
        let random = random(&mut r)?;
        let session_id = session_id(&mut r)?;
        let cipher_suite = r.u16("cipher suite")?;
        let compression_method = r.u8("compression method")?;
        let extensions = extensions(&mut r)?;
        r.finish("ServerHello")?;
        Ok(ServerHello {
            legacy_version,
            random,
            session_id,
            cipher_suite,
            compression_method,
            extensions,
        })
    }

    /// Payload of the first extension of this type.
    pub fn extension(&self, typ: u16) -> Option<&[u8]> {
        find(&self.extensions, typ)
    }

    /// True when this is a TLS 1.3 HelloRetryRequest (its random is the fixed RFC 8446 value).
    pub fn is_hello_retry_request(&self) -> bool {
        self.random == HELLO_RETRY_REQUEST_RANDOM
    }

    /// The negotiated version: supported_versions when present (TLS 1.3), else `legacy_version`.
    pub fn selected_version(&self) -> u16 {
        self.extension(ext::SUPPORTED_VERSIONS)
            .and_then(|d| {
                let mut r = Reader::new(d);
                let v = r.u16("selected version").ok()?;
                r.finish("selected version").ok()?;
                Some(v)
            })
            .unwrap_or(self.legacy_version)
    }

    /// The group of the server's key share (or the group a HelloRetryRequest asks for).
    pub fn key_share_group(&self) -> Option<u16> {
        let data = self.extension(ext::KEY_SHARE)?;
        Reader::new(data).u16("key share group").ok()
    }

    /// The ALPN protocol the server selected.
    pub fn alpn(&self) -> Option<String> {
        let data = self.extension(ext::ALPN)?;
        let mut r = Reader::new(data);
        let mut list = r.vec_u16("ALPN list").ok()?;
        let mut p = list.vec_u8("ALPN protocol").ok()?;
        Some(String::from_utf8_lossy(p.rest()).into_owned())
    }
}
