//! The verdict of a case as a pure function of what the case observed.
//!
//! Execution (`exec`) gathers the facts: why the steps stopped, the protocol violations the
//! server committed, how the main connection ended and how that was judged, and the least
//! preferred alternative an `expect` step had to take. [`decide`] turns them into one
//! [`Verdict`]. The table it implements is written out in `docs/verdicts.md`, and the unit
//! tests below have one row per line of that table.
//!
//! The principle (RFC 6455 throughout): only what the RFC mandates may FAIL a server. Where
//! the RFC says SHOULD ("typically", "in most normal cases") a deviation is NON-STRICT at most,
//! and behaviour it leaves open is INFORMATIONAL.

use super::result::{CloseVerdict, Verdict};
use crate::suite::model::AltVerdict;
use crate::wire::Level;

/// Why a case's steps stopped before the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopKind {
    /// Every step ran.
    Completed,
    /// A step's expectation could not be met (or the server sent what no step expected).
    ExpectationFailed,
    /// The opening handshake did not open the connection although the case needs it open
    /// (RFC 6455 §4.1: a server that accepts must answer with a valid 101).
    HandshakeFailed,
    /// The server declined an optional feature the case needs (e.g. an extension).
    Unimplemented,
    /// The case's precondition does not hold for this server (a case about servers without
    /// a feature, run on one that has it): recorded, never failing.
    NotApplicable,
    /// wsprobe or the environment failed (target unreachable, internal error).
    Error,
}

/// How serious a closing-behaviour finding is, by what the RFC says about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseSeverity {
    /// Nothing to hold against the server.
    None,
    /// A SHOULD was not followed (e.g. §7.1.7: failing without a close frame; §5.5.1: a reply
    /// code other than the one received).
    Should,
    /// A MUST was not followed (e.g. the server did not fail the connection, or never closed
    /// TCP after the closing handshake, §5.5.1).
    Must,
}

/// Everything the verdict depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Facts {
    /// The case's level (MUST, SHOULD, INFO).
    pub level: Level,
    /// Why the steps stopped.
    pub stop: StopKind,
    /// The most severe level among the server's protocol violations, if it committed any
    /// (any violation counts at the case's level).
    pub violation: Option<Level>,
    /// The judged closing behaviour and its severity (`None` when the connection never
    /// opened or the case records closing only).
    pub close: Option<(CloseVerdict, CloseSeverity)>,
    /// The least preferred alternative any expectation matched.
    pub worst_alternative: AltVerdict,
}

/// The verdict a requirement of `level` earns when it is not met.
pub fn unmet(level: Level) -> Verdict {
    match level {
        Level::Must => Verdict::Fail,
        Level::Should => Verdict::NonStrict,
        Level::Info => Verdict::Informational,
    }
}

/// How bad a verdict is, for taking the worst of several findings: PASS < INFORMATIONAL <
/// NON-STRICT < FAIL.
fn rank(v: Verdict) -> u8 {
    match v {
        Verdict::Pass | Verdict::Skip => 0,
        Verdict::Informational => 1,
        Verdict::NonStrict => 2,
        Verdict::Unimplemented => 3,
        Verdict::Fail => 4,
        Verdict::Error => 5,
    }
}

fn worst(a: Verdict, b: Verdict) -> Verdict {
    if rank(b) > rank(a) { b } else { a }
}

/// The severity of a closing-behaviour finding: which RFC words it breaks.
pub fn close_severity(verdict: CloseVerdict, server_sent_close: bool) -> CloseSeverity {
    match verdict {
        CloseVerdict::Ok | CloseVerdict::Informational => CloseSeverity::None,
        // §5.5.1: the reply "typically" echoes the code received; any valid code will do.
        CloseVerdict::WrongCode => CloseSeverity::Should,
        // §7.1.7: an endpoint failing the connection SHOULD send a close frame first, so a
        // TCP close without one is allowed, if not preferred.
        CloseVerdict::Unclean if !server_sent_close => CloseSeverity::Should,
        CloseVerdict::Unclean
        | CloseVerdict::WrongInitiator
        | CloseVerdict::FailedByClient
        | CloseVerdict::NotOpened => CloseSeverity::Must,
    }
}

/// The verdict of a case (the table in `docs/verdicts.md`).
pub fn decide(f: &Facts) -> Verdict {
    match f.stop {
        StopKind::Error => return Verdict::Error,
        StopKind::Unimplemented => return Verdict::Unimplemented,
        StopKind::NotApplicable => return Verdict::Informational,
        // A case that needs an open connection cannot pass, be NON-STRICT or informational
        // when there was none: the server refused or broke the handshake (§4.1, §4.2.2).
        StopKind::HandshakeFailed => return Verdict::Fail,
        StopKind::ExpectationFailed | StopKind::Completed => {}
    }
    let mut v = match f.worst_alternative {
        AltVerdict::Ok => Verdict::Pass,
        AltVerdict::NonStrict => Verdict::NonStrict,
        AltVerdict::Informational => Verdict::Informational,
    };
    if f.stop == StopKind::ExpectationFailed {
        v = worst(v, unmet(f.level));
    }
    if f.violation.is_some() {
        // A broken rule fails the case at the case's level: an INFO case records behaviour
        // the RFC leaves open (Autobahn 7.13.x: close codes above 4999), and what a server
        // then sends is recorded with it, as Autobahn does.
        v = worst(v, unmet(f.level));
    }
    if let Some((_, severity)) = f.close {
        v = worst(
            v,
            match severity {
                CloseSeverity::None => Verdict::Pass,
                // An INFO case records behaviour the RFC leaves open; a SHOULD finding about
                // its closing is recorded the same way.
                CloseSeverity::Should if f.level == Level::Info => Verdict::Informational,
                CloseSeverity::Should => Verdict::NonStrict,
                CloseSeverity::Must => unmet(f.level),
            },
        );
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use CloseVerdict as C;
    use Level::{Info, Must, Should};
    use StopKind::{Completed, ExpectationFailed, HandshakeFailed};
    use Verdict::{Fail, Informational, NonStrict, Pass};

    fn facts(level: Level, stop: StopKind) -> Facts {
        Facts {
            level,
            stop,
            violation: None,
            close: None,
            worst_alternative: AltVerdict::Ok,
        }
    }

    /// One row per line of docs/verdicts.md: (row, facts, verdict).
    #[test]
    fn verdict_table() {
        let sev = |c: C, sent: bool| Some((c, close_severity(c, sent)));
        let rows: Vec<(&str, Facts, Verdict)> = vec![
            (
                "error wins",
                Facts {
                    violation: Some(Must),
                    ..facts(Must, StopKind::Error)
                },
                Verdict::Error,
            ),
            (
                "unimplemented",
                facts(Must, StopKind::Unimplemented),
                Verdict::Unimplemented,
            ),
            (
                "handshake failed, MUST case",
                facts(Must, HandshakeFailed),
                Fail,
            ),
            (
                "handshake failed, INFO case",
                facts(Info, HandshakeFailed),
                Fail,
            ),
            (
                "handshake failed, SHOULD case",
                facts(Should, HandshakeFailed),
                Fail,
            ),
            ("all met", facts(Must, Completed), Pass),
            (
                "expectation unmet, MUST",
                facts(Must, ExpectationFailed),
                Fail,
            ),
            (
                "expectation unmet, SHOULD",
                facts(Should, ExpectationFailed),
                NonStrict,
            ),
            (
                "expectation unmet, INFO",
                facts(Info, ExpectationFailed),
                Informational,
            ),
            (
                "NON-STRICT alternative",
                Facts {
                    worst_alternative: AltVerdict::NonStrict,
                    ..facts(Must, Completed)
                },
                NonStrict,
            ),
            (
                "INFORMATIONAL alternative",
                Facts {
                    worst_alternative: AltVerdict::Informational,
                    ..facts(Info, Completed)
                },
                Informational,
            ),
            (
                "MUST violation in a MUST case",
                Facts {
                    violation: Some(Must),
                    ..facts(Must, Completed)
                },
                Fail,
            ),
            (
                "MUST violation in an INFO case",
                Facts {
                    violation: Some(Must),
                    ..facts(Info, Completed)
                },
                Informational,
            ),
            (
                "MUST violation in a SHOULD case",
                Facts {
                    violation: Some(Must),
                    ..facts(Should, Completed)
                },
                NonStrict,
            ),
            (
                "INFO-level finding (wsprobe's own limit) in a MUST case",
                Facts {
                    violation: Some(Info),
                    ..facts(Must, Completed)
                },
                Fail,
            ),
            (
                "INFO-level finding in an INFO case",
                Facts {
                    violation: Some(Info),
                    ..facts(Info, Completed)
                },
                Informational,
            ),
            (
                "close ok",
                Facts {
                    close: sev(C::Ok, true),
                    ..facts(Must, Completed)
                },
                Pass,
            ),
            (
                "close informational",
                Facts {
                    close: sev(C::Informational, false),
                    ..facts(Must, Completed)
                },
                Pass,
            ),
            (
                "other valid close code (§5.5.1 typically)",
                Facts {
                    close: sev(C::WrongCode, true),
                    ..facts(Must, Completed)
                },
                NonStrict,
            ),
            (
                "failed by tcp close without close frame (§7.1.7 SHOULD)",
                Facts {
                    close: sev(C::Unclean, false),
                    ..facts(Must, Completed)
                },
                NonStrict,
            ),
            (
                "close frame sent but closing handshake not clean",
                Facts {
                    close: sev(C::Unclean, true),
                    ..facts(Must, Completed)
                },
                Fail,
            ),
            (
                "server did not fail the connection",
                Facts {
                    close: sev(C::WrongInitiator, false),
                    ..facts(Must, Completed)
                },
                Fail,
            ),
            (
                "server never closed tcp (§5.5.1 MUST)",
                Facts {
                    close: sev(C::FailedByClient, true),
                    ..facts(Must, Completed)
                },
                Fail,
            ),
            (
                "SHOULD case, closing MUST finding",
                Facts {
                    close: sev(C::FailedByClient, true),
                    ..facts(Should, Completed)
                },
                NonStrict,
            ),
            (
                "INFO case, closing SHOULD finding",
                Facts {
                    close: sev(C::WrongCode, true),
                    ..facts(Info, Completed)
                },
                Informational,
            ),
            (
                "worst of several: NON-STRICT alternative and failed expectation",
                Facts {
                    worst_alternative: AltVerdict::NonStrict,
                    ..facts(Must, ExpectationFailed)
                },
                Fail,
            ),
            (
                "worst of several: informational alternative, SHOULD close finding",
                Facts {
                    worst_alternative: AltVerdict::Informational,
                    close: sev(C::Unclean, false),
                    ..facts(Must, Completed)
                },
                NonStrict,
            ),
        ];
        for (row, f, want) in rows {
            assert_eq!(decide(&f), want, "row: {row}");
        }
    }

    #[test]
    fn severity_follows_the_rfc_words() {
        assert_eq!(close_severity(C::Ok, true), CloseSeverity::None);
        assert_eq!(close_severity(C::WrongCode, true), CloseSeverity::Should);
        assert_eq!(close_severity(C::Unclean, false), CloseSeverity::Should);
        assert_eq!(close_severity(C::Unclean, true), CloseSeverity::Must);
        assert_eq!(close_severity(C::WrongInitiator, true), CloseSeverity::Must);
        assert_eq!(close_severity(C::FailedByClient, true), CloseSeverity::Must);
    }
}
