//! A tiny seeded PRNG (splitmix64), so a scenario injects the same faults on every run.

/// splitmix64: one step per draw, good enough for picking which requests fail.
#[derive(Debug, Clone)]
pub struct SplitMix(u64);

impl SplitMix {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> SplitMix {
        SplitMix(seed)
    }

    /// The generator for request number `n` of a stream seeded with `seed`: decisions depend
    /// on the request's index only, not on what other requests drew.
    pub fn for_request(seed: u64, n: u64) -> SplitMix {
        let mut g = SplitMix(seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        g.next_u64();
        g
    }

    /// A seed for the requests for one path: mixes the path's bytes (FNV-1a) into `seed`, so
    /// with [`SplitMix::for_request`] over a per-path index, the k-th request for a path gets
    /// the same decisions however clients interleave.
    pub fn seed_for_path(seed: u64, path: &str) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in path.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        seed ^ h
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// True with probability `p` (clamped to 0..=1).
    pub fn chance(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        // 53 random bits as a fraction in [0, 1).
        #[allow(clippy::cast_precision_loss)]
        let x = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        x < p
    }
}

#[cfg(test)]
mod tests {
    use super::SplitMix;

    #[test]
    fn same_seed_same_draws() {
        let a: Vec<u64> = (0..100)
            .map(|n| SplitMix::for_request(7, n).next_u64())
            .collect();
        let b: Vec<u64> = (0..100)
            .map(|n| SplitMix::for_request(7, n).next_u64())
            .collect();
        assert_eq!(a, b);
    }

    #[test]
    fn chance_is_roughly_right() {
        let hits = (0..10_000)
            .filter(|n| SplitMix::for_request(1, *n).chance(0.1))
            .count();
        assert!((800..1200).contains(&hits), "{hits}");
        assert_eq!(
            (0..1000)
                .filter(|n| SplitMix::for_request(1, *n).chance(0.0))
                .count(),
            0
        );
    }
}
