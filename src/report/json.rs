//! The JSON Lines report: one object per case, one case per line, in run order. Field names are
//! stable and documented in `docs/report-formats.md`; every string is scrubbed like the terminal
//! report (control characters escaped, secrets redacted).

use serde::Serialize;

use super::RunReport;
pub(crate) use super::text::Scrub;
use super::text::{Counts, mb_per_s};
use crate::runner::result::{CaseResult, CloseBehavior, Closer, Failure, Perf, Verdict};
use crate::wire::Violation;

/// One JSON object per case, then the summary record.
pub fn render(report: &RunReport) -> String {
    let scrub = Scrub::new(&report.secrets);
    let mut out = String::new();
    for r in report.results {
        out.push_str(&line(r, &scrub));
    }
    out.push_str(&summary_line(report));
    out
}

/// The record of one case and its newline, as streamed while a run goes on.
pub(crate) fn line(r: &CaseResult, scrub: &Scrub) -> String {
    let mut out = to_json(&CaseLine::of(r, scrub));
    out.push('\n');
    out
}

/// The last record: `{"summary":{...}}`, the counts of every verdict, whether the run passed
/// (as the exit code says, snapshots aside), its wall time and the target.
pub fn summary_line(report: &RunReport) -> String {
    let c = Counts::of(report.results);
    let record = SummaryRecord {
        summary: Summary {
            total: c.total,
            passed: c.passed,
            non_strict: c.non_strict,
            informational: c.informational,
            unimplemented: c.unimplemented,
            failed: c.failed,
            errors: c.errors,
            skipped: c.skipped,
            success: !report
                .results
                .iter()
                .any(|r| r.verdict.is_failure(report.fail_on)),
            strict: report.fail_on.is_strict(),
            fail_on: report.fail_on.verdicts().map(Verdict::name).collect(),
            duration_ms: millis(report.duration),
            target: Scrub::new(&report.secrets).clean(&report.target),
        },
    };
    let mut out = to_json(&record);
    out.push('\n');
    out
}

#[derive(Debug, Serialize)]
struct SummaryRecord {
    summary: Summary,
}

#[derive(Debug, Serialize)]
struct Summary {
    total: usize,
    passed: usize,
    non_strict: usize,
    informational: usize,
    unimplemented: usize,
    failed: usize,
    errors: usize,
    skipped: usize,
    success: bool,
    strict: bool,
    fail_on: Vec<&'static str>,
    duration_ms: f64,
    target: String,
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
