//! Reports as pure conversions of run results: colored terminal, JSON, JUnit, TAP and an
//! Autobahn-compatible `index.json`. It may use `suite`, `trace` and the runner's result types.
//! Only this module and `cli` print.
//!
//! Every renderer takes a [`RunReport`] and returns a `String`; only [`write()`] touches the file
//! system and only the [`progress::Live`] line writes to stderr. Every value that came from the
//! server or a suite goes through one scrubber that escapes control characters (so a hostile
//! title or payload cannot inject ANSI sequences) and replaces `RunReport::secrets` with
//! `[redacted]`. The file formats are documented in `docs/report-formats.md`.

pub mod autobahn;
pub mod capture;
pub mod expect;
pub mod html;
pub mod json;
pub mod junit;
pub mod list;
pub mod progress;
pub mod svg;
pub mod tap;
pub mod terminal;
mod text;

#[cfg(test)]
mod tests;

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::runner::result::{CaseResult, FailOn};
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
    /// The verdicts that fail the run (`--fail-on`, `--strict`).
    pub fail_on: FailOn,
    /// Values (e.g. of `--header Authorization: …`) replaced by `[redacted]` in every report.
    /// Values shorter than 4 bytes are left alone: they cannot be secret and redacting them
    /// would blank out digits all over the report.
    pub secrets: Vec<String>,
    /// The agent the results are filed under in the Autobahn report: the name a client gave
    /// (`run --client`); `None` for a server run ([`autobahn::AGENT`]).
    pub agent: Option<String>,
    /// The YAML source of each case by case id, for the reports that show it (HTML); empty
    /// when no report needs it.
    pub sources: std::collections::HashMap<String, String>,
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
    /// One self-contained HTML page.
    Html,
}

/// Writes one report file (or directory) without leaving a half-written file behind.
///
/// The report is rendered in full first, written to `PATH.tmp` beside the target and renamed
/// over it. For [`ReportKind::Autobahn`], `path` is a directory (created if needed); each case
/// file is written the same way and `index.json` last, so a reader that sees the index sees the
/// case files it points to.
pub fn write(kind: ReportKind, path: &Path, report: &RunReport) -> std::io::Result<()> {
    match kind {
        ReportKind::Junit => write_atomic(path, &junit::render(report)),
        ReportKind::Tap => write_atomic(path, &tap::render(report)),
        ReportKind::Json => write_atomic(path, &json::render(report)),
        ReportKind::Html => write_atomic(path, &html::render(report)),
        ReportKind::Autobahn => {
            let files = autobahn::render(report);
            std::fs::create_dir_all(path)?;
            for (name, text) in &files.cases {
                write_atomic(&path.join(name), text)?;
            }
            write_atomic(&path.join(autobahn::INDEX_FILE), &files.index)
        }
    }
}

/// Writes a rendered report file the same way as [`write`]: whole, through a temporary file and
/// a rename.
pub fn write_file(path: &Path, text: &str) -> std::io::Result<()> {
    write_atomic(path, text)
}

/// Writes `text` to `path` through a temporary file in the same directory and a rename.
fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} does not name a file", path.display()),
        )
    })?;
    let mut tmp_name = name.to_os_string();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    let written = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        // Best effort: the error that matters is the one returned.
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// `text` with every secret (raw, or as escaped in payload previews) replaced by
/// `[redacted]`, its layout unchanged: for trace files, which reflect what a server sent back.
pub fn redact_secrets(text: &str, secrets: &[String]) -> String {
    text::Scrub::new(secrets).redact_only(text)
}

/// Multi-line text from a hostile source (a trace diff) made safe to print to a terminal:
/// control characters and ANSI sequences escaped, line breaks kept.
pub fn escape_for_terminal(text: &str) -> String {
    text::escape_lines(text)
}

/// rustc-style rendering of a suite diagnostic, colored when asked.
///
/// The diagnostic's own text is colored line by line: `error:` red, the `-->` arrow, the
/// `N |` gutter and `=` notes blue, the caret line and its label red.
pub fn render_diagnostic(d: &Diagnostic, color: bool) -> String {
    colorize_diagnostic(&d.render(), color)
}

/// Colors the plain text of a rendered diagnostic (see [`render_diagnostic`]).
pub fn colorize_diagnostic(text: &str, color: bool) -> String {
    use text::{Style, paint};
    let scrub = text::Scrub::default();
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.split_inclusive('\n') {
        let (line, newline) = match line.strip_suffix('\n') {
            Some(l) => (l, "\n"),
            None => (line, ""),
        };
        let line = scrub.clean_keep_tabs(line);
        let styled = if let Some(rest) = line.strip_prefix("error:") {
            format!(
                "{}{}",
                paint("error:", Style::RedBold, color),
                paint(rest, Style::Bold, color)
            )
        } else if let Some(rest) = line.strip_prefix("warning:") {
            format!(
                "{}{}",
                paint("warning:", Style::Yellow, color),
                paint(rest, Style::Bold, color)
            )
        } else if let Some(rest) = line.trim_start().strip_prefix("-->") {
            let indent = &line[..line.len() - line.trim_start().len()];
            format!("{indent}{}{rest}", paint("-->", Style::BlueBold, color))
        } else if let Some((gutter, rest)) = split_gutter(&line) {
            let body = rest.trim_start();
            // Source lines carry a line number; label lines under them do not.
            let numbered = gutter.chars().any(|c| c.is_ascii_digit());
            if !numbered && (body.starts_with('^') || body.starts_with('-')) {
                let lead = &rest[..rest.len() - body.len()];
                format!(
                    "{}{lead}{}",
                    paint(gutter, Style::BlueBold, color),
                    paint(body, Style::RedBold, color)
                )
            } else {
                format!("{}{rest}", paint(gutter, Style::BlueBold, color))
            }
        } else if let Some(rest) = line.trim_start().strip_prefix('=') {
            let indent = &line[..line.len() - line.trim_start().len()];
            format!("{indent}{}{rest}", paint("=", Style::BlueBold, color))
        } else {
            line
        };
        out.push_str(&styled);
        out.push_str(newline);
    }
    out
}

/// Splits `  12 | text` into the gutter (`  12 |`) and the rest; `None` when the line does not
/// start with spaces and digits followed by `|`.
fn split_gutter(line: &str) -> Option<(&str, &str)> {
    let bar = line.find('|')?;
    let head = &line[..bar];
    if head.chars().all(|c| c == ' ' || c.is_ascii_digit()) {
        Some((&line[..=bar], &line[bar + 1..]))
    } else {
        None
    }
}

/// `wsprobe list` text output.
pub fn list_text(cases: &[Case]) -> String {
    list::text(cases)
}

/// `wsprobe list --format json` output.
pub fn list_json(cases: &[Case]) -> String {
    list::json(cases)
}

/// Results grouped by suite, suites in order of first appearance, cases in run order.
fn by_suite(results: &[CaseResult]) -> Vec<(&str, Vec<&CaseResult>)> {
    let mut groups: Vec<(&str, Vec<&CaseResult>)> = Vec::new();
    for r in results {
        match groups.iter_mut().find(|(s, _)| *s == r.suite) {
            Some((_, cases)) => cases.push(r),
            None => groups.push((&r.suite, vec![r])),
        }
    }
    groups
}
