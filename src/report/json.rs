//! The JSON Lines report: one object per case, one case per line, in run order. Field names are
//! stable and documented in `docs/report-formats.md`; every string is scrubbed like the terminal
//! report (control characters escaped, secrets redacted).

use serde::Serialize;

use super::RunReport;
use super::text::{Scrub, mb_per_s};
use crate::runner::result::{CaseResult, CloseBehavior, Closer, Failure, Perf};
use crate::wire::Violation;

/// One JSON object per case.
pub fn render(report: &RunReport) -> String {
    let scrub = Scrub::new(&report.secrets);
    let mut out = String::new();
    for r in report.results {
        out.push_str(&to_json(&CaseLine::of(r, &scrub)));
        out.push('\n');
    }
    out
}

/// Serializes a value built from plain strings and numbers.
pub(crate) fn to_json<T: Serialize>(value: &T) -> String {
    // Only structs, sequences and maps with string keys of strings, integers, floats and
    // options are serialized here: serde_json has no error path for them.
    serde_json::to_string(value).expect("plain records always serialize to JSON")
}

/// A case as one JSON Lines record.
#[derive(Debug, Serialize)]
pub(crate) struct CaseLine {
    id: String,
    suite: String,
    title: String,
    spec: String,
    level: &'static str,
    autobahn: Option<String>,
    verdict: &'static str,
    duration_ms: f64,
    file: String,
    line: u32,
    failure: Option<FailureJson>,
    close: Option<CloseJson>,
    violations: Vec<ViolationJson>,
    perf: Option<PerfJson>,
}

impl CaseLine {
    pub(crate) fn of(r: &CaseResult, scrub: &Scrub) -> CaseLine {
        CaseLine {
            id: scrub.clean(&r.id),
            suite: scrub.clean(&r.suite),
            title: scrub.clean(&r.title),
            spec: scrub.clean(&r.spec),
            level: r.level.as_str(),
            autobahn: r.autobahn.as_deref().map(|a| scrub.clean(a)),
            verdict: r.verdict.name(),
            duration_ms: millis(r.duration),
            file: scrub.clean(&r.location.file.display().to_string()),
            line: r.location.line,
            failure: r.failure.as_ref().map(|f| FailureJson::of(f, scrub)),
            close: r.close.as_ref().map(|c| CloseJson::of(c, scrub)),
            violations: r
                .violations
                .iter()
                .map(|v| ViolationJson::of(v, scrub))
                .collect(),
            perf: r.perf.as_ref().map(|p| PerfJson::of(p, r.duration)),
        }
    }
}

/// Milliseconds with microsecond precision.
pub(crate) fn millis(d: std::time::Duration) -> f64 {
    d.as_micros() as f64 / 1000.0
}

/// Two decimals, enough for throughput figures.
fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Why a case did not pass (for SKIP: `summary` is the reason).
#[derive(Debug, Serialize)]
pub(crate) struct FailureJson {
    summary: String,
    expected: Vec<String>,
    observed: String,
    file: String,
    line: u32,
    column: u32,
}

impl FailureJson {
    fn of(f: &Failure, scrub: &Scrub) -> FailureJson {
        FailureJson {
            summary: scrub.clean(&f.summary),
            expected: f.expected.iter().map(|e| scrub.clean(e)).collect(),
            observed: scrub.clean(&f.observed),
            file: scrub.clean(&f.location.file.display().to_string()),
            line: f.location.line,
            column: f.location.column,
        }
    }
}

/// How the main connection ended.
#[derive(Debug, Serialize)]
pub(crate) struct CloseJson {
    verdict: &'static str,
    initiator: Option<&'static str>,
    clean: bool,
    remote_code: Option<u16>,
    local_code: Option<u16>,
    dropped_by_client: bool,
    detail: String,
}

impl CloseJson {
    fn of(c: &CloseBehavior, scrub: &Scrub) -> CloseJson {
        CloseJson {
            verdict: c.verdict.autobahn(),
            initiator: c.initiator.map(closer_name),
            clean: c.clean,
            remote_code: c.remote_code,
            local_code: c.local_code,
            dropped_by_client: c.dropped_by_client,
            detail: scrub.clean(&c.detail),
        }
    }
}

/// `client` or `server`.
pub(crate) fn closer_name(c: Closer) -> &'static str {
    match c {
        Closer::Client => "client",
        Closer::Server => "server",
    }
}

/// A protocol violation by the server.
#[derive(Debug, Serialize)]
pub(crate) struct ViolationJson {
    kind: &'static str,
    section: &'static str,
    level: &'static str,
    detail: String,
}

impl ViolationJson {
    pub(crate) fn of(v: &Violation, scrub: &Scrub) -> ViolationJson {
        ViolationJson {
            kind: v.kind.name(),
            section: v.section(),
            level: v.kind.level().as_str(),
            detail: scrub.clean(&v.detail),
        }
    }
}

/// Throughput figures.
#[derive(Debug, Serialize)]
pub(crate) struct PerfJson {
    bytes: u64,
    round_trips: u64,
    mb_per_s: Option<f64>,
    median_rtt_ms: Option<f64>,
    p99_rtt_ms: Option<f64>,
}

impl PerfJson {
    fn of(p: &Perf, duration: std::time::Duration) -> PerfJson {
        PerfJson {
            bytes: p.bytes,
            round_trips: p.round_trips,
            mb_per_s: mb_per_s(p.bytes, duration).map(round2),
            median_rtt_ms: p.median_rtt.map(millis),
            p99_rtt_ms: p.p99_rtt.map(millis),
        }
    }
}
