//! How long the probe itself was not running. A task asks to wake every [`TICK`] and notes how
//! much later it woke: on a loaded machine the whole process can go unscheduled for a second,
//! and every phase in flight then looks a second slower although nothing on the path was. The
//! lateness that fell within a request is recorded with it (`client_lag_ms`), so the analysis
//! does not blame the path for the client's own wait.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// How often the monitor asks to wake.
const TICK: Duration = Duration::from_millis(20);
/// Lateness below this is ordinary timer jitter, not worth keeping.
const NOTABLE: Duration = Duration::from_millis(20);
/// Late wake-ups kept (oldest dropped first): minutes of a badly loaded machine.
const KEPT: usize = 4096;

/// The late wake-ups of one probe's runtime: when each one should have woken and when it did.
#[derive(Debug, Default)]
pub(crate) struct LagMonitor {
    late: Mutex<VecDeque<(Instant, Instant)>>,
    /// When the monitor next asked to wake: still asleep past it, it is late right now.
    due: Mutex<Option<Instant>>,
}

impl LagMonitor {
    /// A monitor ticking on the current tokio runtime (none outside one: then no lag is ever
    /// seen). The task ends when the monitor is dropped.
    pub(crate) fn start() -> Arc<LagMonitor> {
        let monitor = Arc::new(LagMonitor::default());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let weak = Arc::downgrade(&monitor);
            runtime.spawn(tick(weak));
        }
        monitor
    }

    /// How long, between `from` and `to`, the runtime woke later than it asked to — including a
    /// wake-up still overdue at `to` (a request can be the first task to run after a pause).
    pub(crate) fn lag_between(&self, from: Instant, to: Instant) -> Duration {
        let overdue = self
            .due
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .filter(|due| to.saturating_duration_since(*due) >= NOTABLE)
            .map(|due| (due, to));
        let late = self
            .late
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        late.iter()
            .copied()
            .chain(overdue)
            .filter_map(|(due, woke)| {
                let start = due.max(from);
                let end = woke.min(to);
                end.checked_duration_since(start)
            })
            .sum()
    }

    fn expect(&self, due: Option<Instant>) {
        *self
            .due
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = due;
    }

    fn note(&self, due: Instant, woke: Instant) {
        let mut late = self
            .late
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if late.len() >= KEPT {
            late.pop_front();
        }
        late.push_back((due, woke));
    }
}

async fn tick(monitor: Weak<LagMonitor>) {
    loop {
        let due = Instant::now() + TICK;
        match monitor.upgrade() {
            Some(m) => m.expect(Some(due)),
            None => return,
        }
        tokio::time::sleep_until(due.into()).await;
        let woke = Instant::now();
        let Some(m) = monitor.upgrade() else {
            return;
        };
        m.expect(None);
        if woke.saturating_duration_since(due) >= NOTABLE {
            m.note(due, woke);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_lateness_within_the_span_counts() {
        let m = LagMonitor::default();
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        m.note(at(100), at(1100));
        m.note(at(2000), at(2050));
        assert_eq!(m.lag_between(at(0), at(3000)), Duration::from_millis(1050));
        // Asleep past its time when the request ended: late until then.
        m.expect(Some(at(2500)));
        assert_eq!(
            m.lag_between(at(2400), at(2800)),
            Duration::from_millis(300)
        );
        assert_eq!(m.lag_between(at(600), at(900)), Duration::from_millis(300));
        assert_eq!(m.lag_between(at(1200), at(1900)), Duration::ZERO);
    }

    #[tokio::test]
    async fn a_blocked_runtime_is_seen() {
        let m = LagMonitor::start();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let from = Instant::now();
        // The current-thread runtime cannot run the monitor while this blocks it.
        std::thread::sleep(Duration::from_millis(400));
        tokio::time::sleep(Duration::from_millis(50)).await;
        let lag = m.lag_between(from, Instant::now());
        assert!(lag > Duration::from_millis(200), "lag {lag:?}");
    }
}
