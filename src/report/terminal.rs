//! The human report: one line per case grouped by suite (h2spec), a `Failures` recap with
//! hurl-style details for every case that did not simply pass, performance figures, and a
//! summary. Colors are our own ANSI codes added after every value was scrubbed, and only when
//! asked; the failure block without color is also the body of JUnit `<failure>` elements.

use std::fmt::Write as _;

use super::RunReport;
use super::text::{
    Counts, Scrub, Style, fmt_duration, fmt_rtt, mb_per_s, pad, paint, plural, verdict_style, width,
};
use crate::runner::result::{CaseResult, Verdict};
use crate::trace::render_event;

/// Width of the verdict column: `INFORMATIONAL` is the longest name.
const VERDICT_WIDTH: usize = 13;

/// Titles longer than this push the duration column out instead of widening every line.
const MAX_TITLE_WIDTH: usize = 64;

/// How many trailing events of the main connection a failure shows.
pub const TRACE_TAIL: usize = 12;

/// Width of a detail label (`requirement` plus two spaces).
const LABEL_WIDTH: usize = 13;

/// Renders the whole terminal report.
pub fn render(report: &RunReport, color: bool) -> String {
    let scrub = Scrub::new(&report.secrets);
    let mut out = String::new();
    case_lines(&mut out, report, &scrub, color);
    let recap: Vec<&CaseResult> = report
        .results
        .iter()
        .filter(|r| in_recap(r.verdict))
        .collect();
    if !recap.is_empty() {
        let _ = writeln!(out, "\n{}", paint("Failures", Style::Bold, color));
        for r in recap {
            out.push('\n');
            out.push_str(&failure_block(r, &scrub, report.strict, color));
        }
    }
    perf_lines(&mut out, report, &scrub, color);
    summary(&mut out, report, &scrub, color);
    out
}

/// Whether a verdict gets a block in the `Failures` recap.
fn in_recap(v: Verdict) -> bool {
    matches!(
        v,
        Verdict::Fail | Verdict::Error | Verdict::NonStrict | Verdict::Unimplemented
    )
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

fn case_lines(out: &mut String, report: &RunReport, scrub: &Scrub, color: bool) {
    let rows: Vec<Row> = report.results.iter().map(|r| Row::of(r, scrub)).collect();
    let id_w = rows.iter().map(|r| width(&r.id)).max().unwrap_or(0);
    let ab_w = rows.iter().map(|r| width(&r.autobahn)).max().unwrap_or(0);
    // SKIP rows carry their reason and no duration: they need not widen the column.
    let title_w = rows
        .iter()
        .filter(|r| r.verdict != Verdict::Skip)
        .map(|r| width(&r.title))
        .max()
        .unwrap_or(0)
        .min(MAX_TITLE_WIDTH);
    let dur_w = rows.iter().map(|r| width(&r.duration)).max().unwrap_or(0);
    for (suite, cases) in super::by_suite(report.results) {
        let header = format!(
            "{}  {}",
            scrub.clean(suite),
            plural(cases.len(), "case", "cases")
        );
        let _ = writeln!(out, "{}", paint(&header, Style::Bold, color));
        for row in cases.iter().map(|r| Row::of(r, scrub)) {
            let mut line = format!(
                "  {}{} {}",
                paint(row.verdict.name(), verdict_style(row.verdict), color),
                " ".repeat(VERDICT_WIDTH - width(row.verdict.name())),
                pad(&row.id, id_w)
            );
            if ab_w > 0 {
                line.push(' ');
                line.push_str(&pad(&row.autobahn, ab_w));
            }
            let _ = write!(
                line,
                " {} {:>dur_w$}",
                pad(&row.title, title_w),
                row.duration
            );
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
}

/// The detail block of a case that did not simply pass, hurl/h2spec style. FAIL and ERROR (and
/// NON-STRICT under `strict`) get the closing behaviour, violations and the end of the trace;
/// the other verdicts only what was expected and observed.
pub(crate) fn failure_block(r: &CaseResult, scrub: &Scrub, strict: bool, color: bool) -> String {
    let full = matches!(r.verdict, Verdict::Fail | Verdict::Error)
        || (r.verdict == Verdict::NonStrict && strict);
    let mut out = String::new();
    let mut head = format!(
        "{} {}",
        paint(r.verdict.name(), verdict_style(r.verdict), color),
        paint(&scrub.clean(&r.id), Style::Bold, color)
    );
    if let Some(ab) = &r.autobahn {
        let _ = write!(head, " [{}]", scrub.clean(ab));
    }
    let _ = writeln!(out, "{head}  {}", scrub.clean(&r.title));
    let location = r.failure.as_ref().map_or(&r.location, |f| &f.location);
    let _ = writeln!(
        out,
        "  {} {}",
        paint("-->", Style::BlueBold, color),
        scrub.clean(&location.to_string())
    );
    let label = |out: &mut String, name: &str, value: &str| {
        let _ = writeln!(
            out,
            "  {}{value}",
            paint(&pad(name, LABEL_WIDTH), Style::Bold, color)
        );
    };
    let more = |out: &mut String, value: &str| {
        let _ = writeln!(out, "  {}{value}", " ".repeat(LABEL_WIDTH));
    };
    if let Some(f) = &r.failure
        && !f.summary.is_empty()
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
                let _ = writeln!(
                    out,
                    "  {}{}",
                    pad(&format!("{:>10}", "or"), LABEL_WIDTH),
                    scrub.clean(e)
                );
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
        for e in &t.events[n.saturating_sub(TRACE_TAIL)..] {
            more(&mut out, &scrub.clean(&render_event(e)));
        }
    }
    out
}

fn perf_lines(out: &mut String, report: &RunReport, scrub: &Scrub, color: bool) {
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
        let _ = writeln!(
            out,
            "  {}  {} bytes  {}  {rate}  median {}  p99 {}",
            pad(&id, id_w),
            p.bytes,
            plural(p.round_trips as usize, "round trip", "round trips"),
            rtt(p.median_rtt),
            rtt(p.p99_rtt),
        );
    }
}

fn summary(out: &mut String, report: &RunReport, scrub: &Scrub, color: bool) {
    let c = Counts::of(report.results);
    let count = |n: usize, word: &str, style: Style| {
        let text = format!("{n} {word}");
        if n > 0 {
            paint(&text, style, color)
        } else {
            text
        }
    };
    let _ = writeln!(
        out,
        "\n{}: {}, {}, {}, {}, {}, {}, {} in {:.2}s",
        plural(c.total, "case", "cases"),
        count(c.passed, "passed", Style::Green),
        count(c.non_strict, "non-strict", Style::Yellow),
        count(c.informational, "informational", Style::Blue),
        count(c.unimplemented, "unimplemented", Style::Cyan),
        count(c.failed, "failed", Style::RedBold),
        count(
            c.errors,
            if c.errors == 1 { "error" } else { "errors" },
            Style::Magenta
        ),
        count(c.skipped, "skipped", Style::Dimmed),
        report.duration.as_secs_f64()
    );
    let _ = writeln!(out, "target {}", scrub.clean(&report.target));
}
