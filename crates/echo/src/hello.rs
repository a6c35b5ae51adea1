//! Reading the raw ClientHello off the socket before the handshake, and describing it.
//!
//! This is the one place that talks to the wire crate's parser, so the rest of the witness
//! sees only [`ClientHelloReport`].

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::witness::{ClientHelloReport, Ja3Report, Ja4Report};
use interloper_wire as wire;

/// Bytes read per socket read; a typical hello fits in one.
const READ_CHUNK: usize = 4096;

/// What was read before the handshake.
pub(crate) struct Captured {
    /// Every byte read from the socket, to be replayed to rustls or the upstream.
    pub raw: Bytes,
    /// The reassembled ClientHello handshake message.
    pub handshake: Vec<u8>,
    /// Socket reads it took.
    pub reads: u32,
}

/// Why no hello could be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The peer closed before a whole hello arrived.
    Eof { bytes: usize },
    /// The bytes are not a TLS ClientHello (or exceed the size cap).
    Malformed { reason: String, raw: Bytes },
    /// The socket failed.
    Io(std::io::Error),
}

/// Reads from `stream` until a whole ClientHello handshake message has arrived (it may span
/// several records and segments). Memory is bounded by `max_len` plus one read; time is
/// bounded by the caller's timeout.
pub(crate) async fn read_hello<S: AsyncRead + Unpin>(
    stream: &mut S,
    max_len: usize,
) -> Result<Captured, ReadError> {
    let mut assembler = wire::HelloAssembler::new(max_len);
    // Records add 5 bytes per (at least 1-byte) fragment; a legitimate hello of max_len never
    // needs more than this many raw bytes, whatever the fragmentation.
    let raw_cap = max_len.saturating_mul(6).saturating_add(READ_CHUNK);
    let mut raw = BytesMut::with_capacity(READ_CHUNK);
    let mut chunk = vec![0u8; READ_CHUNK];
    let mut reads = 0u32;
    loop {
        let n = stream.read(&mut chunk).await.map_err(ReadError::Io)?;
        let got = chunk.get(..n).unwrap_or_default();
        if got.is_empty() {
            return Err(ReadError::Eof { bytes: raw.len() });
        }
        reads = reads.saturating_add(1);
        raw.extend_from_slice(got);
        match assembler.push(got) {
            // The first handshake message of a client must be a ClientHello; anything else is
            // refused here rather than handed to rustls.
            Ok(Some(handshake)) if handshake.first() != Some(&1) => {
                return Err(ReadError::Malformed {
                    reason: "first handshake message is not a ClientHello".into(),
                    raw: raw.freeze(),
                });
            }
            Ok(Some(handshake)) => {
                return Ok(Captured {
                    raw: raw.freeze(),
                    handshake,
                    reads,
                });
            }
            Ok(None) if raw.len() <= raw_cap => {}
            Ok(None) => {
                return Err(ReadError::Malformed {
                    reason: format!("no complete hello within {raw_cap} bytes"),
                    raw: raw.freeze(),
                });
            }
            Err(e) => {
                return Err(ReadError::Malformed {
                    reason: e.to_string(),
                    raw: raw.freeze(),
                });
            }
        }
    }
}

/// Record-layer facts the parser does not keep: how many records the hello spanned and the
/// first record's version. Pure arithmetic over bytes we already hold; never panics.
fn record_stats(raw: &[u8], handshake_len: usize) -> (u32, Option<u16>) {
    let version = match (raw.get(1), raw.get(2)) {
        (Some(a), Some(b)) => Some(u16::from_be_bytes([*a, *b])),
        _ => None,
    };
    let mut pos = 0usize;
    let mut records = 0u32;
    let mut payload = 0usize;
    while payload < handshake_len {
        let (Some(hi), Some(lo)) = (raw.get(pos + 3), raw.get(pos + 4)) else {
            break;
        };
        let len = usize::from(u16::from_be_bytes([*hi, *lo]));
        records = records.saturating_add(1);
        payload = payload.saturating_add(len);
        pos = pos.saturating_add(5).saturating_add(len);
    }
    (records, version)
}

/// Describes a reassembled handshake message plus the raw bytes it came from. A hello the
/// parser rejects still yields its random and raw bytes (fixed offsets), with `parse_error`
/// saying why: the witness reports what it got rather than nothing.
pub(crate) fn report(captured: &Captured) -> ClientHelloReport {
    let mut report =
        describe(&captured.handshake).unwrap_or_else(|e| minimal(&captured.handshake, e));
    let (records, version) = record_stats(&captured.raw, captured.handshake.len());
    report.record_count = records;
    report.record_version = version;
    report.read_count = captured.reads;
    report.bytes_read = captured.raw.len() as u64;
    report
}

/// Type (1) + length (3) + legacy_version (2) + random (32): fixed offsets in every hello.
fn minimal(handshake: &[u8], error: String) -> ClientHelloReport {
    let version = match (handshake.get(4), handshake.get(5)) {
        (Some(a), Some(b)) => u16::from_be_bytes([*a, *b]),
        _ => 0,
    };
    ClientHelloReport {
        client_random: handshake.get(6..38).map(hex::encode).unwrap_or_default(),
        legacy_version: version,
        handshake_base64: B64.encode(handshake),
        parse_error: Some(error),
        ..ClientHelloReport::default()
    }
}

fn code_name(id: u16, name: Option<&str>) -> String {
    match name {
        Some(n) => n.to_string(),
        None => format!("0x{id:04x}"),
    }
}

/// Parses a ClientHello handshake message into the report (record-level fields left empty).
pub(crate) fn describe(handshake: &[u8]) -> Result<ClientHelloReport, String> {
    use wire::{ClientHello, Transport, cipher_name, group_name, ja3, ja4};
    let hello = ClientHello::parse(handshake).map_err(|e| e.to_string())?;
    let j3 = ja3(&hello);
    let j4 = ja4(&hello, Transport::Tcp);
    let groups = hello.supported_groups();
    Ok(ClientHelloReport {
        client_random: hex::encode(hello.random),
        session_id: hex::encode(&hello.session_id),
        legacy_version: hello.legacy_version,
        record_version: None,
        supported_versions: hello.supported_versions(),
        cipher_suite_names: hello
            .cipher_suites
            .iter()
            .map(|c| code_name(*c, cipher_name(*c)))
            .collect(),
        cipher_suites: hello.cipher_suites.clone(),
        compression_methods: hello.compression_methods.clone(),
        extensions: hello.extensions.iter().map(|e| e.typ).collect(),
        supported_group_names: groups
            .iter()
            .map(|g| code_name(*g, group_name(*g)))
            .collect(),
        supported_groups: groups,
        key_share_groups: hello.key_share_groups(),
        signature_algorithms: hello.signature_algorithms(),
        ec_point_formats: hello.ec_point_formats(),
        alpn: hello.alpn(),
        sni: hello.sni(),
        ja3: Ja3Report {
            string: j3.string,
            hash: j3.hash,
        },
        ja4: Ja4Report {
            ja4: j4.ja4,
            ja4_r: j4.ja4_r,
            ja4_o: j4.ja4_o,
            ja4_ro: j4.ja4_ro,
        },
        handshake_base64: B64.encode(handshake),
        record_count: 0,
        read_count: 0,
        bytes_read: 0,
        parse_error: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_stats_counts_split_records_and_never_panics() {
        // Two records carrying 3 + 2 handshake bytes.
        let raw = [22, 3, 1, 0, 3, 1, 0, 0, 22, 3, 3, 0, 2, 1, 2];
        assert_eq!(record_stats(&raw, 5), (2, Some(0x0301)));
        assert_eq!(record_stats(&[], 5), (0, None));
        assert_eq!(record_stats(&[22, 3], 5), (0, None));
        assert_eq!(record_stats(&[22, 3, 3, 0xff, 0xff], 5), (1, Some(0x0303)));
    }
}
