//! Decisive TLS evidence told the moment it is seen: each target's first handshake is judged as
//! soon as it is made (and again when its witness answers), by the same `chain::TlsPath`
//! judgement the report uses, and a path proven intercepted is told to the observer at once,
//! while the timing evidence is still being gathered. The report is built as before.

use std::sync::{Arc, Mutex};

use interloper_model::TlsInfo;

use crate::observer::{CheckObserver, DecisiveTls};
use crate::tlspath::{JudgeSession as _, TlsPath, WitnessView};

/// Whether the witness on `witness_host` speaks for a target on `target_host`: the one beside
/// it (same host), or the only target when there is one witness (`single`).
pub(crate) fn speaks_for(
    single: bool,
    target_host: Option<&str>,
    witness_host: Option<&str>,
) -> bool {
    single || (target_host.is_some() && target_host == witness_host)
}

/// One target's first session and its witness's answer, as far as they have come.
#[derive(Default)]
struct Seen {
    session: Option<TlsInfo>,
    witness: Option<WitnessView>,
    told: bool,
}

/// The early judge shared by the targets' tasks and the witness loop.
pub(crate) struct EarlyTls {
    tls: Arc<TlsPath>,
    observer: Arc<dyn CheckObserver>,
    /// Each target's host (as written in its URL) and the name its chain is judged for.
    hosts: Vec<(Option<String>, String)>,
    single: bool,
    seen: Mutex<Vec<Seen>>,
}

impl EarlyTls {
    /// A judge for the targets `hosts` (host as written, server name), `single` when one
    /// target has one witness.
    pub(crate) fn new(
        tls: Arc<TlsPath>,
        observer: Arc<dyn CheckObserver>,
        hosts: Vec<(Option<String>, String)>,
        single: bool,
    ) -> EarlyTls {
        let seen = hosts.iter().map(|_| Seen::default()).collect();
        EarlyTls {
            tls,
            observer,
            hosts,
            single,
            seen: Mutex::new(seen),
        }
    }

    /// Target `index` made its first handshake.
    pub(crate) fn handshake(&self, index: usize, session: &TlsInfo) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = seen.get_mut(index)
            && s.session.is_none()
        {
            s.session = Some(session.clone());
            self.judge(index, s);
        }
    }

    /// The witness on `host` answered: every target it speaks for is judged with it.
    pub(crate) fn witness(&self, host: Option<&str>, view: &WitnessView) {
        if view.error.is_some() {
            return;
        }
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        for (index, s) in seen.iter_mut().enumerate() {
            let target_host = self.hosts.get(index).and_then(|(h, _)| h.as_deref());
            if s.witness.is_none() && speaks_for(self.single, target_host, host) {
                s.witness = Some(view.clone());
                self.judge(index, s);
            }
        }
    }

    /// Judges what target `index` has so far and tells a decisive verdict once.
    fn judge(&self, index: usize, seen: &mut Seen) {
        let (Some(session), false) = (&seen.session, seen.told) else {
            return;
        };
        let name = self.hosts.get(index).map_or("", |(_, n)| n.as_str());
        let report = self.tls.judge(session, name, seen.witness.as_ref(), None);
        if let Some(decisive) = DecisiveTls::of(&report) {
            seen.told = true;
            self.observer.tls_decided(index, &decisive);
        }
    }
}
