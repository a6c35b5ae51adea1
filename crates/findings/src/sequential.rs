//! Sequential sampling: when has a check seen enough to stop?
//!
//! A check asks three questions of every target — do its requests stall, fail, come out
//! truncated? — and keeps a running count per asset class (size class × HTTP version ×
//! address: what the contrasts IL206–IL208 compare). Each question is answered by Wald's
//! sequential probability ratio test between "absent" (at most [`Sprt::p0`] of requests) and
//! "present" (at least [`Sprt::p1`], the 5 % a fixed `--samples auto` was sized to see), so a
//! clean path stops once enough clean requests make a 5 % problem unlikely and a bad path
//! stops once the problem is beyond doubt. A problem seen must also be placed: every class that
//! has not shown it yet is sampled until its silence is itself telling, so the contrasts
//! (only HTTP/1.1, only large files, one address) keep their evidence. Pure: the sampler feeds
//! it outcomes and asks [`Tally::judge`] which classes it still wants.

use std::collections::{BTreeMap, BTreeSet};

use crate::classify::RequestOutcome;
use crate::thresholds::ThresholdConfig;

/// Wald's sequential probability ratio test on a rate of events (stalls, failures, …).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sprt {
    /// The rate below which the question is answered "absent" (H0).
    pub p0: f64,
    /// The rate at or above which it is answered "present" (H1).
    pub p1: f64,
    /// The chance of answering "present" when the rate is `p0`.
    pub alpha: f64,
    /// The chance of answering "absent" when the rate is `p1`: a check saying *clean* on a
    /// path with a `p1` problem.
    pub beta: f64,
    /// Fewest events before "present": what the catalogue calls high confidence (IL201 with
    /// three stalls), so one hiccup of the client is never a decided problem.
    pub min_events: u64,
}

impl Default for Sprt {
    /// p0 = 0.5 %, p1 = 5 %, α = 5 %, β = 2 %: a clean path is decided after 84 clean
    /// requests; a 10 % stall rate after about 30. β is below the 1 in 20 the issue allows for
    /// a 5 % path called clean, leaving room for Wald's approximation (the exact rate is in
    /// this module's tests: 2.0 %).
    fn default() -> Self {
        Sprt {
            p0: 0.005,
            p1: 0.05,
            alpha: 0.05,
            beta: 0.02,
            min_events: 3,
        }
    }
}

impl Sprt {
    /// The test for the other questions once one problem is present: the target is not clean
    /// whatever they say, they only add findings, so missing a 5 % second problem is allowed
    /// one time in five (β = 20 %: 34 clean requests instead of 84).
    pub fn secondary(&self) -> Sprt {
        Sprt {
            beta: self.beta.max(0.2),
            ..*self
        }
    }
}

/// The answer to one question so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Keep sampling.
    Undecided,
    /// The problem is there (at least `p1` of requests, as far as the test can tell).
    Present,
    /// The problem is not there (below `p0`, or too rare to matter).
    Absent,
}

impl Sprt {
    /// The decision after `events` in `requests`.
    pub fn decide(&self, events: u64, requests: u64) -> Decision {
        let valid = 0.0 < self.p0
            && self.p0 < self.p1
            && self.p1 < 1.0
            && 0.0 < self.alpha
            && self.alpha < 1.0
            && 0.0 < self.beta
            && self.beta < 1.0;
        if !valid || requests == 0 {
            return Decision::Undecided;
        }
        let events = events.min(requests);
        let per_event = (self.p1 / self.p0).ln();
        let per_clean = ((1.0 - self.p1) / (1.0 - self.p0)).ln();
        let llr = events as f64 * per_event + (requests - events) as f64 * per_clean;
        let upper = ((1.0 - self.beta) / self.alpha).ln();
        let lower = (self.beta / (1.0 - self.alpha)).ln();
        if llr >= upper && events >= self.min_events {
            Decision::Present
        } else if llr <= lower {
            Decision::Absent
        } else {
            Decision::Undecided
        }
    }
}

/// The questions asked of every target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Question {
    /// Requests stalled or trickled (IL201, IL205).
    Stall,
    /// Requests failed: reset, timed out, refused, certificate refused, endless (IL202…).
    Failure,
    /// Bodies shorter than announced (IL203).
    Truncation,
}

impl Question {
    /// Every question, in the order progress names them.
    pub const ALL: [Question; 3] = [Question::Stall, Question::Failure, Question::Truncation];

    /// The question an outcome is an event of, if any (an error status is the asset's, not
    /// the path's: the status detectors read it whatever the count).
    pub fn of(outcome: RequestOutcome) -> Option<Question> {
        match outcome {
            RequestOutcome::Stalled(_) | RequestOutcome::Trickled => Some(Question::Stall),
            RequestOutcome::Failed(_)
            | RequestOutcome::CertificateRefused
            | RequestOutcome::Endless => Some(Question::Failure),
            RequestOutcome::Truncated => Some(Question::Truncation),
            RequestOutcome::Fine | RequestOutcome::Status(_) => None,
        }
    }

    fn plural(self, n: u64) -> &'static str {
        match (self, n == 1) {
            (Question::Stall, true) => "stall",
            (Question::Stall, false) => "stalls",
            (Question::Failure, true) => "failure",
            (Question::Failure, false) => "failures",
            (Question::Truncation, true) => "truncated body",
            (Question::Truncation, false) => "truncated bodies",
        }
    }

    fn index(self) -> usize {
        match self {
            Question::Stall => 0,
            Question::Failure => 1,
            Question::Truncation => 2,
        }
    }
}

/// The size class of an asset, by the thresholds IL207 compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SizeClass {
    /// At most `small_body` bytes.
    Small,
    /// Between the two.
    Medium,
    /// At least `large_body` bytes.
    Large,
}

impl SizeClass {
    /// The class of a body of `bytes` (unknown sizes count as small: most static files are).
    pub fn of(bytes: Option<u64>, cfg: &ThresholdConfig) -> SizeClass {
        match bytes {
            Some(b) if b >= cfg.large_body => SizeClass::Large,
            Some(b) if b > cfg.small_body => SizeClass::Medium,
            _ => SizeClass::Small,
        }
    }
}

/// Requests and events of one class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClassCounts {
    /// Requests counted.
    pub requests: u64,
    /// Events per question ([`Question::ALL`]'s order).
    pub events: [u64; 3],
}

/// Running counts of one target, per class `K` (chosen by the sampler).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally<K: Ord> {
    classes: BTreeMap<K, ClassCounts>,
}

impl<K: Ord> Default for Tally<K> {
    fn default() -> Self {
        Tally {
            classes: BTreeMap::new(),
        }
    }
}

/// One question's state after [`Tally::judge`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuestionState {
    /// Which question.
    pub question: Question,
    /// Its decision: present only once every class is placed (shares it, or is spared).
    pub decision: Decision,
    /// Events seen over every class.
    pub events: u64,
}

/// What the tally says now: each question's state and the classes still worth sampling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement<K: Ord> {
    /// Requests counted over every class.
    pub requests: u64,
    /// Each question, in [`Question::ALL`]'s order.
    pub questions: Vec<QuestionState>,
    /// Classes that would change an answer; empty when every question is decided.
    pub wanted: BTreeSet<K>,
}

impl<K: Ord> Judgement<K> {
    /// Every question is answered: sampling may stop.
    pub fn decided(&self) -> bool {
        self.questions
            .iter()
            .all(|q| q.decision != Decision::Undecided)
    }

    /// For a progress line: "3 stalls in 41 — deciding", "clean in 84 — decided".
    pub fn describe(&self) -> String {
        let seen: Vec<String> = self
            .questions
            .iter()
            .filter(|q| q.events > 0)
            .map(|q| format!("{} {}", q.events, q.question.plural(q.events)))
            .collect();
        let state = if self.decided() {
            "decided"
        } else {
            "deciding"
        };
        if seen.is_empty() {
            format!("clean in {} — {state}", self.requests)
        } else {
            format!("{} in {} — {state}", seen.join(", "), self.requests)
        }
    }
}

/// A class that has not shown a problem seen elsewhere is placed (spared by it) once a run of
/// this many clean requests would be unlikely at the observed rate: (1 − rate)ⁿ ≤ this.
pub const SPARED_AT: f64 = 0.05;

impl<K: Ord + Clone> Tally<K> {
    /// One request of class `class` with its outcome.
    pub fn add(&mut self, class: K, outcome: RequestOutcome) {
        let counts = self.classes.entry(class).or_default();
        counts.requests += 1;
        if let Some(q) = Question::of(outcome) {
            counts.events[q.index()] += 1;
        }
    }

    /// One request still running but already past the stall threshold: a stall for the
    /// decision, without waiting for its end.
    pub fn add_stalled_in_flight(&mut self, class: K) {
        let counts = self.classes.entry(class).or_default();
        counts.requests += 1;
        counts.events[Question::Stall.index()] += 1;
    }

    /// A class known to be sampled, before any of its requests ends (so that it is wanted).
    pub fn expect(&mut self, class: K) {
        self.classes.entry(class).or_default();
    }

    /// Requests counted.
    pub fn requests(&self) -> u64 {
        self.classes.values().map(|c| c.requests).sum()
    }

    /// Each question's decision over the whole target, and the classes still wanted: all of
    /// them while a question is open, and, once a problem is present, the classes that have
    /// neither shown it nor been sampled enough to be spared. Once one problem is present the
    /// others are answered by [`Sprt::secondary`].
    pub fn judge(&self, test: &Sprt) -> Judgement<K> {
        let first = self.judge_with(test);
        let any_present = first
            .questions
            .iter()
            .any(|q| q.decision == Decision::Present);
        if any_present && !first.decided() {
            self.judge_with(&test.secondary())
        } else {
            first
        }
    }

    fn judge_with(&self, test: &Sprt) -> Judgement<K> {
        let requests = self.requests();
        let mut wanted = BTreeSet::new();
        let mut questions = Vec::new();
        for question in Question::ALL {
            let i = question.index();
            let events: u64 = self.classes.values().map(|c| c.events[i]).sum();
            // A class whose own test says present has the problem even when the other
            // classes dilute it below the target-wide test's reach (only large files, only
            // HTTP/1.1); its rate is the one the other classes are measured against.
            let present_rate = self
                .classes
                .values()
                .filter(|c| test.decide(c.events[i], c.requests) == Decision::Present)
                .map(|c| c.events[i] as f64 / c.requests.max(1) as f64)
                .fold(None, |worst: Option<f64>, r| {
                    Some(worst.map_or(r, |w| w.max(r)))
                });
            let pooled = test.decide(events, requests);
            let present_rate = match (present_rate, pooled) {
                (Some(r), _) => Some(r),
                (None, Decision::Present) => Some(events as f64 / requests.max(1) as f64),
                (None, _) => None,
            };
            let decision = match (present_rate, pooled) {
                (Some(rate), _) => {
                    let unplaced: Vec<&K> = self
                        .classes
                        .iter()
                        .filter(|(_, c)| {
                            c.events[i] == 0 && (1.0 - rate).powf(c.requests as f64) > SPARED_AT
                        })
                        .map(|(k, _)| k)
                        .collect();
                    if unplaced.is_empty() {
                        Decision::Present
                    } else {
                        wanted.extend(unplaced.into_iter().cloned());
                        Decision::Undecided
                    }
                }
                (None, Decision::Absent) => Decision::Absent,
                (None, _) => {
                    wanted.extend(self.classes.keys().cloned());
                    Decision::Undecided
                }
            };
            questions.push(QuestionState {
                question,
                decision,
                events,
            });
        }
        Judgement {
            requests,
            questions,
            wanted,
        }
    }
}

/// A request running for longer than this (ms) counts as stalled before it ends: the stall
/// rule's threshold over the median whole-request time of the target's finished requests (a
/// stall in any phase lengthens the whole request by as much).
pub fn in_flight_stall_ms(median_total_ms: Option<f64>, cfg: &ThresholdConfig) -> f64 {
    cfg.stall_threshold(median_total_ms.unwrap_or(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use interloper_model::{ErrorKind, Phase};

    #[test]
    fn a_clean_path_is_decided_after_84_clean_requests() {
        let t = Sprt::default();
        assert_eq!(t.decide(0, 83), Decision::Undecided);
        assert_eq!(t.decide(0, 84), Decision::Absent);
        // One stall (a hiccup) asks for more: 135 requests.
        assert_eq!(t.decide(1, 134), Decision::Undecided);
        assert_eq!(t.decide(1, 135), Decision::Absent);
    }

    #[test]
    fn a_ten_percent_problem_is_decided_on_its_third_event() {
        let t = Sprt::default();
        // Two stalls are strong evidence but not three: never present on fewer.
        assert_eq!(t.decide(2, 10), Decision::Undecided);
        assert_eq!(t.decide(3, 30), Decision::Present);
        assert_eq!(t.decide(3, 3), Decision::Present);
        // Three in 200 is 1.5 %: not yet either way.
        assert_eq!(t.decide(3, 200), Decision::Undecided);
        assert_eq!(t.decide(20, 200), Decision::Present);
    }

    #[test]
    fn nonsense_parameters_never_decide() {
        let t = Sprt {
            p0: 0.1,
            p1: 0.05,
            ..Sprt::default()
        };
        assert_eq!(t.decide(50, 50), Decision::Undecided);
        assert_eq!(Sprt::default().decide(0, 0), Decision::Undecided);
        // More events than requests (a caller's slip) is read as every request.
        assert_eq!(Sprt::default().decide(9, 3), Decision::Present);
    }

    /// The exact chance (no simulation) that the test stops on "absent" for a path where each
    /// request has the event with probability `rate`, within `cap` requests.
    fn chance_of_absent(t: &Sprt, rate: f64) -> f64 {
        // Past 2000 requests what is still undecided is negligible (and beyond any cap).
        let cap = 2000;
        // alive[k]: probability of k events so far without a decision.
        let mut alive = vec![1.0_f64];
        let mut absent = 0.0;
        for n in 1..=cap {
            let mut next = vec![0.0; alive.len() + 1];
            for (k, p) in alive.iter().enumerate() {
                next[k] += p * (1.0 - rate);
                next[k + 1] += p * rate;
            }
            for (k, p) in next.iter_mut().enumerate() {
                match t.decide(k as u64, n) {
                    Decision::Absent => {
                        absent += *p;
                        *p = 0.0;
                    }
                    Decision::Present => *p = 0.0,
                    Decision::Undecided => {}
                }
            }
            alive = next;
        }
        absent
    }

    #[test]
    fn the_error_rates_hold_exactly() {
        let t = Sprt::default();
        // A 5 % path called clean: under 1 in 20 (2.0 %).
        let miss = chance_of_absent(&t, 0.05);
        assert!(miss < 0.025, "{miss}");
        // A clean path (0.1 % hiccups) is nearly always decided absent.
        let clean = chance_of_absent(&t, 0.001);
        assert!(clean > 0.95, "{clean}");
    }

    #[test]
    fn a_present_problem_waits_for_every_class_to_be_placed() {
        let t = Sprt::default();
        let mut tally: Tally<&str> = Tally::default();
        tally.expect("h1");
        for i in 0..30 {
            let outcome = if i % 10 == 0 {
                RequestOutcome::Stalled(Phase::Ttfb)
            } else {
                RequestOutcome::Fine
            };
            tally.add("h2", outcome);
        }
        let j = tally.judge(&t);
        // Three stalls in 30, all on HTTP/2; HTTP/1.1 not sampled yet: it is wanted (and both
        // are, for the failures not yet ruled out).
        assert!(!j.decided());
        assert_eq!(j.questions[0].decision, Decision::Undecided);
        assert!(j.wanted.contains("h1"));
        assert_eq!(j.describe(), "3 stalls in 30 — deciding");
        // 28 clean HTTP/1.1 requests: (1 − 3/30)^28 ≈ 0.052, still not spared.
        for _ in 0..28 {
            tally.add("h1", RequestOutcome::Fine);
        }
        assert_eq!(tally.judge(&t).questions[0].decision, Decision::Undecided);
        tally.add("h1", RequestOutcome::Fine);
        assert_eq!(tally.judge(&t).questions[0].decision, Decision::Present);
        // Enough requests for the failures to be ruled out too.
        for _ in 0..60 {
            tally.add("h1", RequestOutcome::Fine);
        }
        let j = tally.judge(&t);
        assert!(j.decided(), "{j:?}");
        assert!(j.wanted.is_empty());
        assert_eq!(j.questions[0].decision, Decision::Present);
        assert_eq!(j.questions[1].decision, Decision::Absent);
    }

    #[test]
    fn once_a_problem_is_present_the_others_need_34_clean_requests_not_84() {
        let t = Sprt::default();
        let mut tally: Tally<u8> = Tally::default();
        for i in 0..33 {
            let outcome = if i % 10 == 0 {
                RequestOutcome::Stalled(Phase::Ttfb)
            } else {
                RequestOutcome::Fine
            };
            tally.add(0, outcome);
        }
        let j = tally.judge(&t);
        assert_eq!(j.questions[0].decision, Decision::Present);
        assert_eq!(j.questions[1].decision, Decision::Undecided);
        tally.add(0, RequestOutcome::Fine);
        let j = tally.judge(&t);
        assert!(j.decided(), "{j:?}");
        assert_eq!(j.describe(), "4 stalls in 34 — decided");
        // Without a problem, 34 clean requests decide nothing.
        let mut clean: Tally<u8> = Tally::default();
        for _ in 0..34 {
            clean.add(0, RequestOutcome::Fine);
        }
        assert!(!clean.judge(&t).decided());
    }

    #[test]
    fn a_class_that_shares_the_problem_is_placed_at_once() {
        let mut tally: Tally<u8> = Tally::default();
        for c in [1, 2] {
            tally.add(c, RequestOutcome::Stalled(Phase::Body));
            tally.add(c, RequestOutcome::Trickled);
            tally.add(c, RequestOutcome::Fine);
        }
        let j = tally.judge(&Sprt::default());
        assert_eq!(j.questions[0].decision, Decision::Present);
        // Failures and truncation are still open after 6 requests: every class is wanted.
        assert_eq!(j.wanted, BTreeSet::from([1, 2]));
    }

    #[test]
    fn in_flight_stalls_and_failures_count() {
        let mut tally: Tally<u8> = Tally::default();
        tally.add_stalled_in_flight(0);
        tally.add(0, RequestOutcome::Failed(ErrorKind::ResetMidBody));
        tally.add(0, RequestOutcome::Truncated);
        tally.add(0, RequestOutcome::Status(404));
        let j = tally.judge(&Sprt::default());
        assert_eq!(j.requests, 4);
        assert_eq!(
            j.describe(),
            "1 stall, 1 failure, 1 truncated body in 4 — deciding"
        );
        let clean: Tally<u8> = Tally::default();
        assert_eq!(
            clean.judge(&Sprt::default()).describe(),
            "clean in 0 — deciding"
        );
    }

    #[test]
    fn size_classes_follow_il207s_thresholds() {
        let cfg = ThresholdConfig::default();
        assert_eq!(SizeClass::of(None, &cfg), SizeClass::Small);
        assert_eq!(SizeClass::of(Some(1000), &cfg), SizeClass::Small);
        assert_eq!(SizeClass::of(Some(32 * 1024), &cfg), SizeClass::Medium);
        assert_eq!(SizeClass::of(Some(64 * 1024), &cfg), SizeClass::Large);
        assert_eq!(in_flight_stall_ms(None, &cfg), 750.0);
        assert_eq!(in_flight_stall_ms(Some(200.0), &cfg), 1250.0);
    }
}
