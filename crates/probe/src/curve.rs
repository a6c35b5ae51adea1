//! The body arrival curve: cumulative bytes over time, kept to a bounded number of points by
//! merging neighbours and doubling the minimum spacing whenever the cap is reached, so a fast
//! 1 GiB body and a 2 s drip both come out as a readable handful of points.

use interloper_model::BodySample;

pub(crate) struct Curve {
    samples: Vec<BodySample>,
    pending: Option<BodySample>,
    cap: usize,
    spacing_ms: f64,
}

impl Curve {
    pub(crate) fn new(cap: usize) -> Self {
        Curve {
            samples: Vec::new(),
            pending: None,
            cap: cap.max(2),
            spacing_ms: 1.0,
        }
    }

    pub(crate) fn push(&mut self, at_ms: f64, bytes: u64) {
        let s = BodySample { at_ms, bytes };
        match self.samples.last() {
            Some(last) if at_ms - last.at_ms < self.spacing_ms => self.pending = Some(s),
            _ => {
                self.samples.push(s);
                self.pending = None;
                if self.samples.len() >= self.cap {
                    self.decimate();
                }
            }
        }
    }

    fn decimate(&mut self) {
        // Keep the first point and every second one after it; the newest survives via pending.
        let last = self.samples.pop();
        let mut i = 0usize;
        self.samples.retain(|_| {
            i += 1;
            i % 2 == 1
        });
        if self.pending.is_none() {
            self.pending = last;
        }
        self.spacing_ms *= 2.0;
    }

    pub(crate) fn finish(mut self) -> Vec<BodySample> {
        if let Some(p) = self.pending.take()
            && self
                .samples
                .last()
                .is_none_or(|l| l.at_ms < p.at_ms || l.bytes < p.bytes)
        {
            self.samples.push(p);
        }
        self.samples
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_keeps_first_and_last() {
        let mut c = Curve::new(16);
        for i in 0..100_000u64 {
            c.push(i as f64 * 0.1, i * 10);
        }
        let s = c.finish();
        assert!(s.len() <= 17, "{}", s.len());
        assert_eq!(s.first().map(|x| x.bytes), Some(0));
        assert_eq!(s.last().map(|x| x.bytes), Some(999_990));
    }

    #[test]
    fn slow_drip_is_visible() {
        let mut c = Curve::new(64);
        for i in 0..20u64 {
            c.push(i as f64 * 100.0, (i + 1) * 20);
        }
        let s = c.finish();
        assert_eq!(s.len(), 20);
        assert!(s.last().map(|x| x.at_ms).unwrap_or(0.0) >= 1900.0);
    }
}
