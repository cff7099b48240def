//! The TAP version 13 report: a plan, one `ok`/`not ok` line per case in run order, `# SKIP`
//! with the reason, NON-STRICT as `ok` with a YAML diagnostics block saying what was observed
//! (a permitted but not preferred behaviour is not a failure, nor a TODO of the test), or
//! `not ok` under `--strict`, and a YAML diagnostics block under every `not ok`. YAML values are written
//! as JSON strings, which YAML reads unchanged, so no value can break the block.

use std::fmt::Write as _;

use super::RunReport;
use super::json::to_json;
use super::text::Scrub;
use crate::runner::result::{CaseResult, Verdict};

/// Renders the whole TAP stream.
pub fn render(report: &RunReport) -> String {
    let scrub = Scrub::new(&report.secrets);
    let mut out = format!("TAP version 13\n1..{}\n", report.results.len());
    for (i, r) in report.results.iter().enumerate() {
        let n = i + 1;
        let description = description(&format!("{} {}", scrub.clean(&r.id), scrub.clean(&r.title)));
        let failed = r.verdict.is_failure(report.fail_on);
        let status = if failed { "not ok" } else { "ok" };
        let _ = write!(out, "{status} {n} - {description}");
        if r.verdict == Verdict::Skip {
            let reason = r
                .failure
                .as_ref()
                .map(|f| scrub.clean(&f.summary))
                .unwrap_or_default();
            let _ = write!(out, " # SKIP {reason}");
        }
        // Trailing spaces (an empty SKIP reason) are noise to every TAP reader.
        let trimmed = out.trim_end_matches(' ').len();
        out.truncate(trimmed);
        out.push('\n');
        if failed || r.verdict == Verdict::NonStrict {
            diagnostics(&mut out, r, &scrub, failed);
        }
    }
    out
}

fn diagnostics(out: &mut String, r: &CaseResult, scrub: &Scrub, failed: bool) {
    let q = |s: &str| to_json(&scrub.clean(s));
    out.push_str("  ---\n");
    let severity = match r.verdict {
        Verdict::Error => "error",
        // A NON-STRICT case that passed: its block only says what was observed.
        _ if !failed => "comment",
        _ => "fail",
    };
    let _ = writeln!(out, "  severity: {severity}");
    let _ = writeln!(out, "  verdict: {}", r.verdict.name());
    let _ = writeln!(out, "  spec: {}", q(&r.spec));
    let _ = writeln!(out, "  level: {}", r.level);
    if let Some(ab) = &r.autobahn {
        let _ = writeln!(out, "  autobahn: {}", q(ab));
    }
    let at = r.failure.as_ref().map_or(&r.location, |f| &f.location);
    let _ = writeln!(out, "  at: {}", q(&at.to_string()));
    if let Some(f) = &r.failure {
        let _ = writeln!(out, "  message: {}", q(&f.summary));
        if f.expected.is_empty() {
            out.push_str("  expected: []\n");
        } else {
            out.push_str("  expected:\n");
            for e in &f.expected {
                let _ = writeln!(out, "    - {}", q(e));
            }
        }
        let _ = writeln!(out, "  observed: {}", q(&f.observed));
    }
    if let Some(c) = &r.close {
        let _ = writeln!(
            out,
            "  closing: {}",
            q(&format!("{}: {}", c.verdict.autobahn(), c.detail))
        );
    }
    if !r.violations.is_empty() {
        out.push_str("  violations:\n");
        for v in &r.violations {
            let _ = writeln!(out, "    - {}", q(&v.to_string()));
        }
    }
    out.push_str("  ...\n");
}

/// A test description (already scrubbed, so on one line): `#` would start a directive, so it
/// is escaped as TAP says.
fn description(s: &str) -> String {
    s.replace('#', "\\#")
}
