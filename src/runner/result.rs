//! What running a case produces: verdicts, the judged closing behaviour, failure details and
//! the conversation trace. Reports are pure conversions of these values.

use std::time::Duration;

use crate::suite::model::{Case, Location};
use crate::trace::ConnectionTrace;
use crate::wire::{Level, Violation};

/// The verdict of one case (DESIGN.md "Verdicts").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// Every expectation met with the preferred behaviour.
    Pass,
    /// Conformant, but not the behaviour the RFC recommends (a SHOULD).
    NonStrict,
    /// Behaviour the RFC leaves open; recorded, never failing.
    Informational,
    /// The server does not implement an optional feature the case needs.
    Unimplemented,
    /// A requirement was violated.
    Fail,
    /// wsprobe or the environment failed; says nothing about the target.
    Error,
    /// Not run.
    Skip,
}

impl Verdict {
    /// Upper-case name as printed: `PASS`, `NON-STRICT`, …
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::NonStrict => "NON-STRICT",
            Verdict::Informational => "INFORMATIONAL",
            Verdict::Unimplemented => "UNIMPLEMENTED",
            Verdict::Fail => "FAIL",
            Verdict::Error => "ERROR",
            Verdict::Skip => "SKIP",
        }
    }

    /// The Autobahn `behavior` word for this verdict.
    pub fn autobahn(self) -> &'static str {
        match self {
            Verdict::Pass => "OK",
            Verdict::NonStrict => "NON-STRICT",
            Verdict::Informational => "INFORMATIONAL",
            Verdict::Unimplemented => "UNIMPLEMENTED",
            Verdict::Fail | Verdict::Error => "FAILED",
            Verdict::Skip => "MISSING",
        }
    }

    /// Whether the verdict fails a run under `fail_on`.
    pub fn is_failure(self, fail_on: FailOn) -> bool {
        fail_on.contains(self)
    }

    /// Every verdict, best first.
    pub const ALL: [Verdict; 7] = [
        Verdict::Pass,
        Verdict::NonStrict,
        Verdict::Informational,
        Verdict::Unimplemented,
        Verdict::Fail,
        Verdict::Error,
        Verdict::Skip,
    ];

    /// The verdict printed as `name` (`PASS`, `NON-STRICT`, …; case-insensitive).
    pub fn from_name(name: &str) -> Option<Verdict> {
        Verdict::ALL
            .into_iter()
            .find(|v| v.name().eq_ignore_ascii_case(name))
    }
}

/// The verdicts that fail a run (`--fail-on`): FAIL and ERROR unless told otherwise;
/// `--strict` adds NON-STRICT.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FailOn(u8);

impl Default for FailOn {
    fn default() -> FailOn {
        FailOn::of(&[Verdict::Fail, Verdict::Error])
    }
}

impl FailOn {
    /// Exactly these verdicts fail a run.
    pub fn of(verdicts: &[Verdict]) -> FailOn {
        FailOn(verdicts.iter().fold(0, |bits, v| bits | FailOn::bit(*v)))
    }

    /// The default set plus NON-STRICT (`--strict`).
    pub fn strict() -> FailOn {
        FailOn::default().with(Verdict::NonStrict)
    }

    /// This set and `v`.
    pub fn with(self, v: Verdict) -> FailOn {
        FailOn(self.0 | FailOn::bit(v))
    }

    /// Whether `v` fails a run.
    pub fn contains(self, v: Verdict) -> bool {
        self.0 & FailOn::bit(v) != 0
    }

    /// Whether NON-STRICT fails a run (what reports call `strict`).
    pub fn is_strict(self) -> bool {
        self.contains(Verdict::NonStrict)
    }

    /// The verdicts in the set, best first.
    pub fn verdicts(self) -> impl Iterator<Item = Verdict> {
        Verdict::ALL.into_iter().filter(move |v| self.contains(*v))
    }

    /// Parses `FAIL,ERROR,NON-STRICT` (case-insensitive, comma-separated). PASS cannot fail a
    /// run and is refused, as is an empty list.
    pub fn parse(text: &str) -> Result<FailOn, String> {
        let mut set = FailOn(0);
        for word in text.split(',').map(str::trim) {
            let v = Verdict::from_name(word).ok_or_else(|| {
                format!(
                    "unknown verdict '{word}' in --fail-on '{text}': expected some of \
                     NON-STRICT, INFORMATIONAL, UNIMPLEMENTED, FAIL, ERROR, SKIP"
                )
            })?;
            if v == Verdict::Pass {
                return Err(format!("--fail-on '{text}': PASS cannot fail a run"));
            }
            set = set.with(v);
        }
        Ok(set)
    }

    fn bit(v: Verdict) -> u8 {
        1 << (v as u8)
    }
}

/// Autobahn's `behaviorClose` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CloseVerdict {
    /// The connection ended as the case requires.
    Ok,
    /// The wrong endpoint closed first (e.g. the server ignored a violation).
    WrongInitiator,
    /// A clean close was required but did not happen.
    Unclean,
    /// The server's close code is not one of those allowed.
    WrongCode,
    /// wsprobe had to drop TCP itself: the server should close it.
    FailedByClient,
    /// Recorded only.
    Informational,
    /// The connection never opened.
    NotOpened,
}

impl CloseVerdict {
    /// Autobahn's spelling.
    pub fn autobahn(self) -> &'static str {
        match self {
            CloseVerdict::Ok => "OK",
            CloseVerdict::WrongInitiator => "FAILED",
            CloseVerdict::Unclean => "UNCLEAN",
            CloseVerdict::WrongCode => "WRONG CODE",
            CloseVerdict::FailedByClient => "FAILED BY CLIENT",
            CloseVerdict::Informational => "INFORMATIONAL",
            CloseVerdict::NotOpened => "FAILED",
        }
    }

    /// Whether this closing behaviour fails the case.
    pub fn is_failure(self) -> bool {
        !matches!(self, CloseVerdict::Ok | CloseVerdict::Informational)
    }
}

/// Who started ending the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Closer {
    /// wsprobe sent the first close frame or dropped TCP first.
    Client,
    /// The server did.
    Server,
}

/// How the main connection of a case ended, and its judgement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseBehavior {
    /// The judgement.
    pub verdict: CloseVerdict,
    /// Who closed first, if anyone did.
    pub initiator: Option<Closer>,
    /// Both close frames exchanged and the server closed TCP.
    pub clean: bool,
    /// The code in the server's close frame.
    pub remote_code: Option<u16>,
    /// The code wsprobe sent.
    pub local_code: Option<u16>,
    /// wsprobe had to close TCP itself.
    pub dropped_by_client: bool,
    /// Explanation in plain words.
    pub detail: String,
}

/// Why a case did not pass, with everything needed to act on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// One-line summary, e.g. `expected a pong, got a close frame`.
    pub summary: String,
    /// Where the failing step is written.
    pub location: Location,
    /// Every acceptable alternative, described.
    pub expected: Vec<String>,
    /// What actually happened.
    pub observed: String,
}

/// Throughput and latency figures of a case (filled for performance-style cases).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Perf {
    /// Payload bytes sent and received by data messages.
    pub bytes: u64,
    /// Round trips completed (a send followed by its matching expect).
    pub round_trips: u64,
    /// Median round-trip latency.
    pub median_rtt: Option<Duration>,
    /// 99th percentile round-trip latency.
    pub p99_rtt: Option<Duration>,
}

/// The result of one case.
#[derive(Clone, Debug)]
pub struct CaseResult {
    /// Case id.
    pub id: String,
    /// Suite id.
    pub suite: String,
    /// Case title.
    pub title: String,
    /// RFC section.
    pub spec: String,
    /// Level.
    pub level: Level,
    /// Autobahn id.
    pub autobahn: Option<String>,
    /// Where the case is written.
    pub location: Location,
    /// The verdict.
    pub verdict: Verdict,
    /// Wall time of the case.
    pub duration: Duration,
    /// Why it did not pass (FAIL, NON-STRICT, ERROR, UNIMPLEMENTED; reason for SKIP).
    pub failure: Option<Failure>,
    /// Protocol violations by the server seen during the case.
    pub violations: Vec<Violation>,
    /// How the main connection ended.
    pub close: Option<CloseBehavior>,
    /// Throughput figures.
    pub perf: Option<Perf>,
    /// Every connection of the case, in order of opening.
    pub traces: Vec<ConnectionTrace>,
}

impl CaseResult {
    /// A result for `case` with `verdict` and `failure`, nothing observed yet.
    pub fn of_case(case: &Case, verdict: Verdict, failure: Option<Failure>) -> CaseResult {
        CaseResult {
            id: case.id.clone(),
            suite: case.suite.clone(),
            title: case.title.clone(),
            spec: case.spec.clone(),
            level: case.level,
            autobahn: case.autobahn.clone(),
            location: case.location.clone(),
            verdict,
            duration: Duration::ZERO,
            failure,
            violations: Vec::new(),
            close: None,
            perf: None,
            traces: Vec::new(),
        }
    }
}
