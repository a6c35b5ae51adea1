//! Undoing `Content-Encoding` (gzip, deflate, br) with a cap on the decoded size, and telling
//! a truncated stream from a corrupt one: both mean the browser got something other than the
//! file, but truncation points at the network (IL203) and corruption at a middlebox or origin.

use std::borrow::Cow;
use std::io::{self, Read};

/// One content coding from a `Content-Encoding` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Coding {
    /// `identity` (or an empty header).
    Identity,
    /// `gzip` / `x-gzip`.
    Gzip,
    /// `deflate` (zlib; raw deflate is accepted too, as browsers do).
    Deflate,
    /// `br`.
    Brotli,
    /// Anything else (`zstd`, `compress`, typos), lower-cased.
    Unknown(String),
}

/// Why a body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A coding this crate does not decode.
    #[error("unsupported content coding {0:?}")]
    Unsupported(String),
    /// The compressed stream ended early: the body was cut off.
    #[error("{coding} stream is truncated")]
    Truncated {
        /// Coding that failed.
        coding: &'static str,
    },
    /// The compressed stream is not valid.
    #[error("{coding} stream is corrupt: {reason}")]
    Corrupt {
        /// Coding that failed.
        coding: &'static str,
        /// Decoder's message.
        reason: String,
    },
    /// Decoding would exceed the cap (a decompression bomb or a huge file).
    #[error("decoded body exceeds {limit} bytes")]
    TooLarge {
        /// The cap.
        limit: usize,
    },
}

/// Parses a `Content-Encoding` value into codings, in the order they were applied.
pub fn parse_content_encoding(value: &str) -> Vec<Coding> {
    value
        .split(',')
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty())
        .map(|c| match c.as_str() {
            "identity" => Coding::Identity,
            "gzip" | "x-gzip" => Coding::Gzip,
            "deflate" => Coding::Deflate,
            "br" => Coding::Brotli,
            _ => Coding::Unknown(c),
        })
        .collect()
}

fn read_capped(
    mut r: impl Read,
    coding: &'static str,
    limit: usize,
) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    match r.by_ref().take(cap).read_to_end(&mut out) {
        Ok(_) if out.len() > limit => Err(DecodeError::TooLarge { limit }),
        Ok(_) => Ok(out),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            Err(DecodeError::Truncated { coding })
        }
        Err(e) => Err(DecodeError::Corrupt {
            coding,
            reason: e.to_string(),
        }),
    }
}

fn decode_one(coding: &Coding, body: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    match coding {
        Coding::Identity => Ok(body.to_vec()),
        Coding::Gzip => {
            let out = read_capped(flate2::read::MultiGzDecoder::new(body), "gzip", limit)?;
            // An empty result from non-empty input means the header itself was cut.
            if out.is_empty() && !body.is_empty() && body.len() < 18 {
                return Err(DecodeError::Truncated { coding: "gzip" });
            }
            Ok(out)
        }
        Coding::Deflate => {
            // RFC 9110 says zlib, but some servers send raw deflate and browsers accept both.
            match read_capped(flate2::read::ZlibDecoder::new(body), "deflate", limit) {
                Err(DecodeError::Corrupt { .. }) => {
                    read_capped(flate2::read::DeflateDecoder::new(body), "deflate", limit)
                }
                other => other,
            }
        }
        Coding::Brotli => {
            // The brotli reader reports a cut-off stream and a corrupt one alike; it asks the
            // input for more only when the stream so far is valid, so an error after the
            // input ran dry means truncation.
            let mut input = EofReader {
                inner: body,
                eof: false,
            };
            match read_capped(brotli::Decompressor::new(&mut input, 4096), "br", limit) {
                Err(DecodeError::Corrupt { .. }) if input.eof => {
                    Err(DecodeError::Truncated { coding: "br" })
                }
                other => other,
            }
        }
        Coding::Unknown(c) => Err(DecodeError::Unsupported(c.clone())),
    }
}

/// A byte-slice reader that remembers whether it was read past its end.
struct EofReader<'a> {
    inner: &'a [u8],
    eof: bool,
}

impl Read for EofReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.eof = true;
        }
        Ok(n)
    }
}

/// Decodes `body` per a `Content-Encoding` header value (codings undone last-applied first).
/// `None` or `identity` borrows the body unchanged.
pub fn decode<'a>(
    content_encoding: Option<&str>,
    body: &'a [u8],
    limit: usize,
) -> Result<Cow<'a, [u8]>, DecodeError> {
    let codings: Vec<Coding> = content_encoding
        .map(parse_content_encoding)
        .unwrap_or_default()
        .into_iter()
        .filter(|c| *c != Coding::Identity)
        .collect();
    if codings.is_empty() {
        if body.len() > limit {
            return Err(DecodeError::TooLarge { limit });
        }
        return Ok(Cow::Borrowed(body));
    }
    let mut cur: Cow<'a, [u8]> = Cow::Borrowed(body);
    // More than a few stacked codings is nonsense; refuse rather than loop.
    if codings.len() > 4 {
        return Err(DecodeError::Unsupported(
            content_encoding.unwrap_or_default().to_owned(),
        ));
    }
    for c in codings.iter().rev() {
        cur = Cow::Owned(decode_one(c, &cur, limit)?);
    }
    Ok(cur)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    pub(crate) fn br(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
            w.write_all(data).unwrap();
        }
        out
    }

    fn data() -> Vec<u8> {
        (0..20_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect()
    }

    #[test]
    fn round_trips() {
        let d = data();
        assert_eq!(
            decode(Some("gzip"), &gzip(&d), 1 << 20).unwrap().as_ref(),
            &d[..]
        );
        assert_eq!(
            decode(Some("br"), &br(&d), 1 << 20).unwrap().as_ref(),
            &d[..]
        );
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&d).unwrap();
        assert_eq!(
            decode(Some("deflate"), &z.finish().unwrap(), 1 << 20)
                .unwrap()
                .as_ref(),
            &d[..]
        );
        let mut raw =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        raw.write_all(&d).unwrap();
        assert_eq!(
            decode(Some("Deflate"), &raw.finish().unwrap(), 1 << 20)
                .unwrap()
                .as_ref(),
            &d[..]
        );
        assert_eq!(
            decode(Some("gzip, br"), &br(&gzip(&d)), 1 << 20)
                .unwrap()
                .as_ref(),
            &d[..]
        );
        assert!(matches!(
            decode(None, &d, 1 << 20).unwrap(),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn truncation_corruption_and_bombs() {
        let d = data();
        let g = gzip(&d);
        assert_eq!(
            decode(Some("gzip"), &g[..g.len() / 2], 1 << 20),
            Err(DecodeError::Truncated { coding: "gzip" })
        );
        let b = br(&d);
        assert_eq!(
            decode(Some("br"), &b[..b.len() / 2], 1 << 20),
            Err(DecodeError::Truncated { coding: "br" })
        );
        assert!(matches!(
            decode(Some("gzip"), b"not gzip at all, really", 1 << 20),
            Err(DecodeError::Corrupt { .. })
        ));
        assert!(matches!(
            decode(Some("br"), &[0xff; 64], 1 << 20),
            Err(DecodeError::Corrupt { .. } | DecodeError::Truncated { .. })
        ));
        let zeros = gzip(&vec![0u8; 10 << 20]);
        assert_eq!(
            decode(Some("gzip"), &zeros, 1 << 20),
            Err(DecodeError::TooLarge { limit: 1 << 20 })
        );
        assert_eq!(
            decode(Some("zstd"), b"x", 10),
            Err(DecodeError::Unsupported("zstd".into()))
        );
    }
}
