//! Reports as pure conversions of run results: colored terminal, JSON, JUnit, TAP and an
//! Autobahn-compatible `index.json`. It may use `suite`, `trace` and the runner's result types.
//! Only this module and `cli` print.

pub mod capture;

use std::path::Path;
use std::time::Duration;

use crate::runner::result::CaseResult;
use crate::suite::Diagnostic;
use crate::suite::model::Case;

/// Everything a report is made from.
#[derive(Debug)]
pub struct RunReport<'a> {
    /// Results in case order.
    pub results: &'a [CaseResult],
    /// The target as shown to the user.
    pub target: String,
    /// Wall time of the whole run.
    pub duration: Duration,
    /// Whether NON-STRICT counts as failure.
    pub strict: bool,
    /// Values (e.g. of `--header Authorization: …`) replaced by `[redacted]` in every report.
    pub secrets: Vec<String>,
}

/// Report files `--report KIND=PATH` can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    /// JUnit XML.
    Junit,
    /// TAP version 13.
    Tap,
    /// JSON Lines, one object per case.
    Json,
    /// A directory with Autobahn's `index.json` and one JSON per case.
    Autobahn,
}

/// Writes one report file (or directory) without leaving a half-written file behind.
pub fn write(kind: ReportKind, path: &Path, report: &RunReport) -> std::io::Result<()> {
    let _ = (kind, path, report);
    Err(std::io::Error::other("reports are not built yet"))
}

/// rustc-style rendering of a suite diagnostic, colored when asked.
pub fn render_diagnostic(d: &Diagnostic, color: bool) -> String {
    let _ = color;
    d.render()
}

/// `wsprobe list` text output.
pub fn list_text(cases: &[Case]) -> String {
    cases.iter().map(|c| format!("{}\n", c.id)).collect()
}

/// `wsprobe list --format json` output.
pub fn list_json(cases: &[Case]) -> String {
    cases
        .iter()
        .map(|c| format!("{{\"id\":\"{}\"}}\n", c.id))
        .collect()
}

/// A progress line on stderr (drawn only when `enabled`).
pub fn progress(enabled: bool, color: bool) -> Box<dyn crate::runner::Progress> {
    let _ = (enabled, color);
    Box::new(crate::runner::NoProgress)
}

/// Terminal report.
pub mod terminal {
    use super::RunReport;

    /// Renders the whole terminal report.
    pub fn render(report: &RunReport, color: bool) -> String {
        let _ = color;
        report
            .results
            .iter()
            .map(|r| format!("{} {}\n", r.verdict.name(), r.id))
            .collect()
    }
}

/// JSON Lines report.
pub mod json {
    use super::RunReport;

    /// One JSON object per case.
    pub fn render(report: &RunReport) -> String {
        report
            .results
            .iter()
            .map(|r| {
                format!(
                    "{{\"id\":\"{}\",\"verdict\":\"{}\"}}\n",
                    r.id,
                    r.verdict.name()
                )
            })
            .collect()
    }
}
