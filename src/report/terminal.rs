//! The human report: one line per case grouped by suite (h2spec), streamable case by case
//! ([`CaseLines`]); then a `Failures` section with hurl-style details for FAIL and ERROR, a
//! shorter `Notes` section saying what was observed for NON-STRICT, INFORMATIONAL and
//! UNIMPLEMENTED, performance figures, and a summary. Lines fit the given width (the
//! terminal's): values wrap, trace lines are cut. Colors come from the `colored` crate, added
//! after every value was scrubbed and only when asked; the failure block without color is also
//! the body of JUnit `<failure>` elements.

use std::fmt::Write as _;

use super::RunReport;
use super::text::{
    Counts, Scrub, Style, fmt_duration, fmt_rtt, mb_per_s, pad, paint, plural, verdict_style, width,
};
use crate::runner::result::{CaseResult, FailOn, Verdict};
use crate::suite::model::Case;
use crate::trace::render_event;

/// Width of the verdict column: `INFORMATIONAL` is the longest name.
const VERDICT_WIDTH: usize = 13;

/// Titles longer than this push the duration column out instead of widening every line.
const MAX_TITLE_WIDTH: usize = 64;

/// How many trailing events of the main connection a failure shows.
pub const TRACE_TAIL: usize = 12;

/// Width of a detail label (`requirement` plus two spaces).
const LABEL_WIDTH: usize = 13;

/// Line width when the output is not a terminal (or its width is unknown).
pub const DEFAULT_WIDTH: usize = 100;

/// Lines are never cut narrower than this, however narrow the terminal.
const MIN_WIDTH: usize = 60;

/// The id column is at most this wide: nine ids in ten fit, a longer one takes its room from
/// its own title rather than from every line's.
const MAX_ID_WIDTH: usize = 36;

/// Width of the duration column: `123.45s`.
const DURATION_WIDTH: usize = 7;

/// How the terminal report is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Color through `colored`.
    pub color: bool,
    /// Longest line, in characters: the terminal's width, else [`DEFAULT_WIDTH`].
    pub width: usize,
    /// `-q`: no case lines, only failures, notes and the summary.
    pub quiet: bool,
}

impl Options {
    /// Not quiet, [`DEFAULT_WIDTH`] wide.
    pub fn plain(color: bool) -> Options {
        Options {
            color,
            width: DEFAULT_WIDTH,
            quiet: false,
        }
    }

    fn width(&self) -> usize {
        self.width.max(MIN_WIDTH)
    }
}

/// Renders the whole terminal report, [`DEFAULT_WIDTH`] wide.
pub fn render(report: &RunReport, color: bool) -> String {
    render_with(report, Options::plain(color))
}

/// Renders the whole terminal report: the case lines (as [`CaseLines`] streams them) and the
/// [`tail`].
pub fn render_with(report: &RunReport, options: Options) -> String {
    let mut out = String::new();
    if !options.quiet {
        let mut lines = CaseLines::new(
            report.results.iter().map(Head::of_result),
            &report.secrets,
            options,
        );
        for r in report.results {
            out.push_str(&lines.line(r));
        }
    }
    out.push_str(&tail(report, options));
    out
}

/// What follows the case lines: the `Failures` section (FAIL and ERROR, and NON-STRICT under
/// `--strict`), the shorter `Notes` (what was observed for NON-STRICT, INFORMATIONAL and
/// UNIMPLEMENTED), performance figures and the summary.
pub fn tail(report: &RunReport, options: Options) -> String {
    let scrub = Scrub::new(&report.secrets);
    let color = options.color;
    let mut out = String::new();
    let failures: Vec<&CaseResult> = report
        .results
        .iter()
        .filter(|r| in_failures(r.verdict, report.fail_on))
        .collect();
    if !failures.is_empty() {
        let _ = writeln!(out, "\n{}", paint("Failures", Style::Bold, color));
        for r in failures {
            out.push('\n');
            out.push_str(&failure_block(
                r,
                &scrub,
                report.fail_on,
                color,
                options.width(),
            ));
        }
    }
    let notes: Vec<&CaseResult> = report
        .results
        .iter()
        .filter(|r| in_notes(r.verdict, report.fail_on))
        .collect();
    if !notes.is_empty() {
        let _ = writeln!(out, "\n{}", paint("Notes", Style::Bold, color));
        for r in notes {
            out.push_str(&note(r, &scrub, color, options.width()));
        }
    }
    perf_lines(&mut out, report, &scrub, color, options.width());
    summary(&mut out, report, &scrub, color, options.width());
    out
}

/// Whether a verdict gets a block in the `Failures` section.
fn in_failures(v: Verdict, fail_on: FailOn) -> bool {
    fail_on.contains(v)
}

/// Whether a verdict gets a line in the `Notes` section.
fn in_notes(v: Verdict, fail_on: FailOn) -> bool {
    !fail_on.contains(v) && !matches!(v, Verdict::Pass | Verdict::Skip)
}

/// A note: the verdict, id and title, then what was observed, wrapped to `width`.
fn note(r: &CaseResult, scrub: &Scrub, color: bool, width: usize) -> String {
    let mut head = format!(
        "  {} {}",
        paint(r.verdict.name(), verdict_style(r.verdict), color),
        paint(&scrub.clean(&r.id), Style::Bold, color)
    );
    if let Some(ab) = &r.autobahn {
        let _ = write!(head, " [{}]", scrub.clean(ab));
    }
    let mut out = String::new();
    let title = truncate(
        &scrub.clean(&r.title),
        width.saturating_sub(plain_head_width(r, scrub) + 2),
    );
    let _ = writeln!(out, "{head}  {title}");
    for line in wrap(&observation(r, scrub), width.saturating_sub(6)) {
        let _ = writeln!(out, "      {line}");
    }
    out
}

/// Width of `  VERDICT id [ab]` without color.
fn plain_head_width(r: &CaseResult, scrub: &Scrub) -> usize {
    3 + width(r.verdict.name())
        + width(&scrub.clean(&r.id))
        + r.autobahn
            .as_deref()
            .map_or(0, |a| width(&scrub.clean(a)) + 3)
}

/// What a note says was observed: the failure's observation; without one, the summary and how
/// the connection closed (a summary alone, such as "took a NON-STRICT alternative", says
/// nothing about the server); never empty.
fn observation(r: &CaseResult, scrub: &Scrub) -> String {
    let observed = r.failure.as_ref().map(|f| f.observed.trim()).unwrap_or("");
    let summary = r.failure.as_ref().map(|f| f.summary.trim()).unwrap_or("");
    let closing = r
        .close
        .as_ref()
        .map(|c| format!("closing {}: {}", c.verdict.autobahn(), c.detail));
    let text = if !observed.is_empty() {
        format!("observed: {observed}")
    } else {
        let parts: Vec<String> = [Some(summary.to_string()).filter(|s| !s.is_empty()), closing]
            .into_iter()
            .flatten()
            .collect();
        if parts.is_empty() {
            format!("{} (no observation recorded)", r.verdict.name())
        } else {
            parts.join("; ")
        }
    };
    scrub.clean(&text)
}

/// Word-wraps `text` (one line, no control characters) to lines of at most `width`
/// characters (at least 20); a word longer than that is cut.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(20);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word = word.to_string();
        if !line.is_empty() && chars(&line) + 1 + chars(&word) > width {
            lines.push(std::mem::take(&mut line));
        }
        while chars(&word) > width {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            lines.push(word.chars().take(width).collect());
            word = word.chars().skip(width).collect();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// `text` cut to `width` characters, the last one `…` when cut.
pub(crate) fn truncate(text: &str, width: usize) -> String {
    if chars(text) <= width {
        return text.to_string();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// What a case line needs to know of a case before it has run.
#[derive(Debug, Clone, Copy)]
pub struct Head<'a> {
    /// Suite id.
    pub suite: &'a str,
    /// Case id.
    pub id: &'a str,
    /// Autobahn id.
    pub autobahn: Option<&'a str>,
    /// Title.
    pub title: &'a str,
}

impl<'a> Head<'a> {
    /// The head of a case about to run.
    pub fn of_case(c: &'a Case) -> Head<'a> {
        Head {
            suite: &c.suite,
            id: &c.id,
            autobahn: c.autobahn.as_deref(),
            title: &c.title,
        }
    }

    /// The head of a case that ran.
    pub fn of_result(r: &'a CaseResult) -> Head<'a> {
        Head {
            suite: &r.suite,
            id: &r.id,
            autobahn: r.autobahn.as_deref(),
            title: &r.title,
        }
    }
}

/// The case lines of a run, one at a time: column widths are fixed from the list of cases
/// before any has run, so each line can be printed as soon as its case is done and the
/// streamed output is the same as the whole report rendered at the end.
pub struct CaseLines {
    scrub: Scrub,
    color: bool,
    id_w: usize,
    ab_w: usize,
    title_w: usize,
    /// Cases per suite, for the suite header.
    per_suite: Vec<(String, usize)>,
    current: Option<String>,
}

impl CaseLines {
    /// Lines for these cases (in run order), with these secrets redacted.
    pub fn new<'a>(
        heads: impl IntoIterator<Item = Head<'a>>,
        secrets: &[String],
        options: Options,
    ) -> CaseLines {
        let scrub = Scrub::new(secrets);
        let (mut id_w, mut ab_w, mut title_max) = (0, 0, 0);
        let mut per_suite: Vec<(String, usize)> = Vec::new();
        for h in heads {
            id_w = id_w.max(width(&scrub.clean(h.id)));
            ab_w = ab_w.max(h.autobahn.map_or(0, |a| width(&scrub.clean(a)) + 2));
            title_max = title_max.max(width(&scrub.clean(h.title)));
            match per_suite.iter_mut().find(|(s, _)| s == h.suite) {
                Some((_, n)) => *n += 1,
                None => per_suite.push((h.suite.to_string(), 1)),
            }
        }
        // `  VERDICT id [ab] title duration`: the title gets what the line width leaves.
        let id_w = id_w.min(MAX_ID_WIDTH);
        let ab_room = if ab_w > 0 { ab_w + 1 } else { 0 };
        let fixed = 2 + VERDICT_WIDTH + 1 + id_w + ab_room + 2 + DURATION_WIDTH;
        let room = options.width().saturating_sub(fixed).max(16);
        CaseLines {
            scrub,
            color: options.color,
            id_w,
            ab_w,
            title_w: title_max.min(MAX_TITLE_WIDTH).min(room),
            per_suite,
            current: None,
        }
    }

    /// The line of one case, preceded by its suite's header when the suite changes.
    pub fn line(&mut self, r: &CaseResult) -> String {
        let mut out = String::new();
        if self.current.as_deref() != Some(r.suite.as_str()) {
            let n = self
                .per_suite
                .iter()
                .find(|(s, _)| *s == r.suite)
                .map_or(1, |(_, n)| *n);
            let header = format!(
                "{}  {}",
                self.scrub.clean(&r.suite),
                plural(n, "case", "cases")
            );
            let _ = writeln!(out, "{}", paint(&header, Style::Bold, self.color));
            self.current = Some(r.suite.clone());
        }
        let row = Row::of(r, &self.scrub);
        let mut line = format!(
            "  {}{} {}",
            paint(row.verdict.name(), verdict_style(row.verdict), self.color),
            " ".repeat(VERDICT_WIDTH - width(row.verdict.name())),
            pad(&row.id, self.id_w)
        );
        if self.ab_w > 0 {
            line.push(' ');
            line.push_str(&pad(&row.autobahn, self.ab_w));
        }
        // An id wider than its column takes the room from this line's title.
        let over = width(&row.id).saturating_sub(self.id_w);
        let title_w = self.title_w.saturating_sub(over).max(8);
        let title = if row.verdict == Verdict::Skip {
            // A SKIP line has no duration: its reason may use that room.
            truncate(&row.title, title_w + 1 + DURATION_WIDTH)
        } else {
            truncate(&row.title, title_w)
        };
        let _ = write!(
            line,
            " {} {:>DURATION_WIDTH$}",
            pad(&title, title_w),
            row.duration
        );
        let _ = writeln!(out, "{}", line.trim_end());
        out
    }
}

/// One row of the case list, scrubbed.
struct Row {
    verdict: Verdict,
    id: String,
    autobahn: String,
    title: String,
    duration: String,
}

impl Row {
    fn of(r: &CaseResult, scrub: &Scrub) -> Row {
        let mut title = scrub.clean(&r.title);
        let duration = if r.verdict == Verdict::Skip {
            if let Some(f) = &r.failure
                && !f.summary.is_empty()
            {
                let _ = write!(title, " (skipped: {})", scrub.clean(&f.summary));
            }
            String::new()
        } else {
            fmt_duration(r.duration)
        };
        Row {
            verdict: r.verdict,
            id: scrub.clean(&r.id),
            autobahn: r
                .autobahn
                .as_deref()
                .map(|a| format!("[{}]", scrub.clean(a)))
                .unwrap_or_default(),
            title,
            duration,
        }
    }
}

/// The detail block of a case that did not simply pass, hurl/h2spec style. FAIL and ERROR (and
/// NON-STRICT under `strict`) get the closing behaviour, violations and the end of the trace;
/// the other verdicts only what was expected and observed.
pub(crate) fn failure_block(
    r: &CaseResult,
    scrub: &Scrub,
    fail_on: FailOn,
    color: bool,
    line_width: usize,
) -> String {
    // Values start after the indent and the label column.
    let room = line_width.saturating_sub(2 + LABEL_WIDTH);
    let full = matches!(r.verdict, Verdict::Fail | Verdict::Error) || fail_on.contains(r.verdict);
    let mut out = String::new();
    let mut head = format!(
        "{} {}",
        paint(r.verdict.name(), verdict_style(r.verdict), color),
        paint(&scrub.clean(&r.id), Style::Bold, color)
    );
    if let Some(ab) = &r.autobahn {
        let _ = write!(head, " [{}]", scrub.clean(ab));
    }
    // `plain_head_width` counts the two-space indent notes have and this head has not.
    let title_room = line_width.saturating_sub(plain_head_width(r, scrub));
    let _ = writeln!(
        out,
        "{head}  {}",
        truncate(&scrub.clean(&r.title), title_room)
    );
    let location = r.failure.as_ref().map_or(&r.location, |f| &f.location);
    let _ = writeln!(
        out,
        "  {} {}",
        paint("-->", Style::BlueBold, color),
        scrub.clean(&location.to_string())
    );
    // Values are wrapped to the line width, continuation lines under the value.
    let label = |out: &mut String, name: &str, value: &str| {
        for (i, line) in wrap(value, room).iter().enumerate() {
            if i == 0 {
                let _ = writeln!(
                    out,
                    "  {}{line}",
                    paint(&pad(name, LABEL_WIDTH), Style::Bold, color)
                );
            } else {
                let _ = writeln!(out, "  {}{line}", " ".repeat(LABEL_WIDTH));
            }
        }
    };
    let more = |out: &mut String, value: &str| {
        for line in wrap(value, room) {
            let _ = writeln!(out, "  {}{line}", " ".repeat(LABEL_WIDTH));
        }
    };
    if let Some(f) = &r.failure
        && !f.summary.is_empty()
        && !repeats_expected(&f.summary, &f.expected)
    {
        label(&mut out, "reason", &scrub.clean(&f.summary));
    }
    label(
        &mut out,
        "requirement",
        &format!("{} ({})", scrub.clean(&r.spec), r.level),
    );
    if let Some(f) = &r.failure {
        for (i, e) in f.expected.iter().enumerate() {
            if i == 0 {
                label(&mut out, "expected", &scrub.clean(e));
            } else {
                for (j, line) in wrap(&scrub.clean(e), room).iter().enumerate() {
                    let or = if j == 0 { "or" } else { "" };
                    let _ = writeln!(out, "  {}{line}", pad(&format!("{or:>10}"), LABEL_WIDTH));
                }
            }
        }
        if !f.observed.is_empty() {
            label(&mut out, "actual", &scrub.clean(&f.observed));
        }
    }
    if !full {
        return out;
    }
    if let Some(c) = &r.close {
        let verdict = c.verdict.autobahn();
        let verdict = if c.verdict.is_failure() {
            paint(verdict, Style::RedBold, color)
        } else {
            verdict.to_string()
        };
        label(
            &mut out,
            "closing",
            &format!("{verdict}: {}", scrub.clean(&c.detail)),
        );
    }
    for (i, v) in r.violations.iter().enumerate() {
        let text = scrub.clean(&v.to_string());
        if i == 0 {
            label(&mut out, "violations", &text);
        } else {
            more(&mut out, &text);
        }
    }
    let main = r
        .traces
        .iter()
        .find(|t| t.name == "main")
        .or_else(|| r.traces.first());
    if let Some(t) = main
        && !t.events.is_empty()
    {
        let n = t.events.len();
        let what = if n > TRACE_TAIL {
            format!("last {TRACE_TAIL} of {n} events")
        } else {
            plural(n, "event", "events")
        };
        let name = scrub.clean(&t.name);
        label(
            &mut out,
            "trace",
            &paint(&format!("connection {name}, {what}"), Style::Dimmed, color),
        );
        // Trace lines are cut rather than wrapped: one event per line.
        for e in &t.events[n.saturating_sub(TRACE_TAIL)..] {
            let _ = writeln!(
                out,
                "  {}{}",
                " ".repeat(LABEL_WIDTH),
                truncate(&scrub.clean(&render_event(e)), room)
            );
        }
    }
    out
}

/// Whether a failure's summary only says what the `expected` line says anyway
/// (`expected a pong` above `expected  a pong`).
fn repeats_expected(summary: &str, expected: &[String]) -> bool {
    let rest = summary.strip_prefix("expected ").unwrap_or(summary).trim();
    expected.first().is_some_and(|e| e.trim() == rest)
}

fn perf_lines(out: &mut String, report: &RunReport, scrub: &Scrub, color: bool, line_width: usize) {
    let perf: Vec<(&CaseResult, String)> = report
        .results
        .iter()
        .filter(|r| r.perf.is_some())
        .map(|r| (r, scrub.clean(&r.id)))
        .collect();
    if perf.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{}", paint("Performance", Style::Bold, color));
    let id_w = perf.iter().map(|(_, id)| width(id)).max().unwrap_or(0);
    for (r, id) in perf {
        let Some(p) = &r.perf else { continue };
        let rate = mb_per_s(p.bytes, r.duration)
            .map(|m| format!("{m:.2} MB/s"))
            .unwrap_or_else(|| "- MB/s".into());
        let rtt = |d: Option<std::time::Duration>| d.map(fmt_rtt).unwrap_or_else(|| "-".into());
        let line = format!(
            "  {}  {} bytes  {}  {rate}  median {}  p99 {}",
            pad(&id, id_w),
            p.bytes,
            plural(p.round_trips as usize, "round trip", "round trips"),
            rtt(p.median_rtt),
            rtt(p.p99_rtt),
        );
        let _ = writeln!(out, "{}", truncate(&line, line_width));
    }
}

fn summary(out: &mut String, report: &RunReport, scrub: &Scrub, color: bool, width: usize) {
    let c = Counts::of(report.results);
    let count = |n: usize, word: &str, style: Style| {
        let text = format!("{n} {word}");
        let styled = if n > 0 {
            paint(&text, style, color)
        } else {
            text.clone()
        };
        (text, styled)
    };
    let width_of = |s: &str| s.chars().count();
    // `passed` and `failed` always, the other verdicts only when they occurred: the line
    // stays short enough for any width.
    // (plain, styled) pairs: the plain text measures the line.
    let mut parts = vec![count(c.passed, "passed", Style::Green)];
    let optional = [
        (c.non_strict, "non-strict", Style::Yellow),
        (c.informational, "informational", Style::Blue),
        (c.unimplemented, "unimplemented", Style::Cyan),
    ];
    parts.extend(
        optional
            .iter()
            .filter(|(n, ..)| *n > 0)
            .map(|(n, word, style)| count(*n, word, *style)),
    );
    parts.push(count(c.failed, "failed", Style::RedBold));
    if c.errors > 0 {
        let word = if c.errors == 1 { "error" } else { "errors" };
        parts.push(count(c.errors, word, Style::Magenta));
    }
    if c.skipped > 0 {
        parts.push(count(c.skipped, "skipped", Style::Dimmed));
    }
    let head = format!("{}:", plural(c.total, "case", "cases"));
    let tail = format!("in {:.2}s", report.duration.as_secs_f64());
    // Parts go on one line while it fits; a continuation line is indented by two spaces.
    out.push('\n');
    let mut line_w = width_of(&head);
    out.push_str(&head);
    let last = parts.len() - 1;
    for (i, (plain, styled)) in parts.iter().enumerate() {
        let text_w = width_of(plain) + usize::from(i < last);
        if line_w + 1 + text_w > width {
            out.push_str("\n ");
            line_w = 1;
        }
        out.push(' ');
        out.push_str(styled);
        if i < last {
            out.push(',');
        }
        line_w += 1 + text_w;
    }
    if line_w + 1 + width_of(&tail) > width {
        out.push_str("\n ");
    }
    out.push(' ');
    out.push_str(&tail);
    out.push('\n');
    let _ = writeln!(out, "target {}", scrub.clean(&report.target));
}
