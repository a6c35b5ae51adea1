//! Deterministic payload bytes from (N, seed): generated on the fly, never stored.
//!
//! Byte `k` depends only on the seed and `k` (word `k / 8` is splitmix64 of `seed + k/8 · γ`),
//! so the payload of N bytes is a prefix of the payload of M > N bytes with the same seed: a
//! truncated body is recognisably a prefix, and any range can be regenerated independently.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use sha2::{Digest, Sha256};

/// Size of each body chunk handed to hyper.
const CHUNK: usize = 64 * 1024;
const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

fn splitmix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Produces the payload for a seed, in order, one chunk at a time.
#[derive(Debug, Clone)]
pub struct PayloadGenerator {
    seed: u64,
    offset: u64,
    len: u64,
}

impl PayloadGenerator {
    /// A generator of `len` bytes for `seed`.
    pub fn new(len: u64, seed: u64) -> Self {
        Self {
            seed,
            offset: 0,
            len,
        }
    }

    /// Bytes not yet produced.
    pub fn remaining(&self) -> u64 {
        self.len - self.offset
    }

    /// Fills `out` with the next bytes (at most `remaining()`); returns how many.
    pub fn fill(&mut self, out: &mut [u8]) -> usize {
        let n = usize::try_from(self.remaining())
            .unwrap_or(usize::MAX)
            .min(out.len());
        let seed = self.seed;
        let word = |index: u64| splitmix64(seed.wrapping_add(index.wrapping_mul(GAMMA)));
        let byte = |k: u64| word(k / 8).to_le_bytes()[(k % 8) as usize];
        let mut k = self.offset;
        let out = out.get_mut(..n).unwrap_or_default();
        // Up to the next word boundary byte by byte, then whole words, then the tail: any
        // start offset stays exact and the bulk costs one splitmix step per 8 bytes.
        let lead = usize::try_from((8 - k % 8) % 8).unwrap_or(0).min(n);
        let (head, rest) = out.split_at_mut(lead);
        for b in head {
            *b = byte(k);
            k += 1;
        }
        let mut words = rest.chunks_exact_mut(8);
        for w in &mut words {
            w.copy_from_slice(&word(k / 8).to_le_bytes());
            k += 8;
        }
        for b in words.into_remainder() {
            *b = byte(k);
            k += 1;
        }
        self.offset = k;
        n
    }

    /// Next chunk of at most `max` bytes, or `None` at the end.
    pub fn next_chunk(&mut self, max: usize) -> Option<Bytes> {
        if self.remaining() == 0 {
            return None;
        }
        let n = usize::try_from(self.remaining()).unwrap_or(max).min(max);
        let mut buf = vec![0u8; n];
        let got = self.fill(&mut buf);
        buf.truncate(got);
        Some(Bytes::from(buf))
    }
}

/// SHA-256 of the payload of `len` bytes for `seed` (hashes it chunk by chunk; CPU-bound, run
/// it on a blocking thread for large `len`).
pub fn payload_sha256(len: u64, seed: u64) -> [u8; 32] {
    let mut g = PayloadGenerator::new(len, seed);
    let mut h = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = g.fill(&mut buf);
        if n == 0 {
            break;
        }
        h.update(buf.get(..n).unwrap_or_default());
    }
    h.finalize().into()
}

/// The payload as a hyper body with an exact size hint (so hyper sends Content-Length).
pub(crate) struct PayloadBody {
    generator: PayloadGenerator,
}

impl PayloadBody {
    pub(crate) fn new(len: u64, seed: u64) -> Self {
        Self {
            generator: PayloadGenerator::new(len, seed),
        }
    }
}

impl Body for PayloadBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Poll::Ready(self.generator.next_chunk(CHUNK).map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.generator.remaining() == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.generator.remaining())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_prefix_stable() {
        let mut a = vec![0u8; 1000];
        let mut b = vec![0u8; 37];
        PayloadGenerator::new(1000, 7).fill(&mut a);
        PayloadGenerator::new(37, 7).fill(&mut b);
        assert_eq!(&a[..37], &b[..]);
        let mut c = vec![0u8; 1000];
        PayloadGenerator::new(1000, 8).fill(&mut c);
        assert_ne!(a, c);
    }

    #[test]
    fn any_start_offset_gives_the_same_bytes() {
        let mut whole = vec![0u8; 100];
        PayloadGenerator::new(100, 9).fill(&mut whole);
        for split in 0..20 {
            let mut g = PayloadGenerator::new(100, 9);
            let mut a = vec![0u8; split];
            let mut b = vec![0u8; 100 - split];
            g.fill(&mut a);
            g.fill(&mut b);
            a.extend_from_slice(&b);
            assert_eq!(a, whole, "split at {split}");
        }
    }

    #[test]
    fn chunks_concatenate_to_the_whole() {
        let mut whole = vec![0u8; 200_000];
        PayloadGenerator::new(200_000, 1).fill(&mut whole);
        let mut g = PayloadGenerator::new(200_000, 1);
        let mut joined = Vec::new();
        while let Some(c) = g.next_chunk(CHUNK - 3) {
            joined.extend_from_slice(&c);
        }
        assert_eq!(joined, whole);
        assert_eq!(
            payload_sha256(200_000, 1),
            <[u8; 32]>::from(Sha256::digest(&whole))
        );
        assert_eq!(payload_sha256(0, 1), <[u8; 32]>::from(Sha256::digest(b"")));
    }
}
