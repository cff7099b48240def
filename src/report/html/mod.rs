//! The self-contained HTML report (`--report html=FILE`): one file with inline CSS, JS and SVG,
//! no network access. A summary with verdict counts, a verdict chart, a table of every case
//! grouped by suite and Autobahn category with filters (inline JS; without JS every row shows)
//! and one `<details>` block per case with its failure block and canonical trace.
//!
//! Every string from a server or a suite goes through [`Scrub`] (control characters escaped,
//! secrets redacted) and then [`escape`] (HTML text and attribute contexts). The page embeds no
//! JSON in `<script>`: the script only reads `data-` attributes, so no server text reaches it.

pub mod matrix;

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use super::RunReport;
use super::svg::{Bar, Point, hbars, scatter_log_x};
use super::terminal::failure_block;
use super::text::{Counts, Scrub, fmt_duration};
use crate::runner::result::{CaseResult, FailOn, Verdict};
use crate::trace::canonical::{Redaction, render_text};

/// Verdicts in the order the page lists them, with their colour.
const VERDICTS: [(Verdict, &str); 7] = [
    (Verdict::Pass, "#2e7d32"),
    (Verdict::NonStrict, "#9e9d24"),
    (Verdict::Informational, "#1565c0"),
    (Verdict::Unimplemented, "#00838f"),
    (Verdict::Fail, "#c62828"),
    (Verdict::Error, "#6a1b9a"),
    (Verdict::Skip, "#757575"),
];

/// Autobahn category names by the first number of the Autobahn id.
fn category(autobahn: Option<&str>) -> String {
    let Some(id) = autobahn else {
        return "-".into();
    };
    let major = id.split('.').next().unwrap_or(id);
    let name = match major {
        "1" => "Framing",
        "2" => "Pings/Pongs",
        "3" => "Reserved Bits",
        "4" => "Opcodes",
        "5" => "Fragmentation",
        "6" => "UTF-8 Handling",
        "7" => "Close Handling",
        "9" => "Limits/Performance",
        "10" => "Misc",
        "12" => "WebSocket Compression (different payloads)",
        "13" => "WebSocket Compression (different parameters)",
        _ => "",
    };
    if name.is_empty() {
        major.to_string()
    } else {
        format!("{major} {name}")
    }
}

/// `s` escaped for HTML text and double- or single-quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A CSS class / data value for a verdict: its name in lower case, letters and `-` only.
fn verdict_key(v: Verdict) -> String {
    v.name().to_ascii_lowercase()
}

fn count_of(c: &Counts, v: Verdict) -> usize {
    match v {
        Verdict::Pass => c.passed,
        Verdict::NonStrict => c.non_strict,
        Verdict::Informational => c.informational,
        Verdict::Unimplemented => c.unimplemented,
        Verdict::Fail => c.failed,
        Verdict::Error => c.errors,
        Verdict::Skip => c.skipped,
    }
}

/// RFC 3339 UTC time of `t` (seconds precision).
fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let rem = secs % 86_400;
    let (y, m, d) = crate::net::tls::civil_from_days((secs / 86_400) as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}\
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}\
.v{color:#fff;font-weight:600}.counts span{display:inline-block;margin-right:1em}\
pre{background:#f6f6f6;padding:6px;overflow-x:auto;font-size:12px;white-space:pre-wrap}\
details{margin:4px 0;border-left:4px solid #ccc;padding-left:6px}#filters{margin:1em 0}\
tr.group th{background:#eee}";

/// Filters rows by verdict checkboxes, suite select and search text. It only reads `data-`
/// attributes and toggles `hidden`; counts are never changed. A script error anywhere is
/// recorded in `data-js-error` on `<html>` so a headless browser's dumped DOM shows it.
const SCRIPT: &str = "window.onerror=function(m){document.documentElement.setAttribute('data-js-error',String(m));};\
(function(){var f=document.getElementById('filters');f.hidden=false;\
function apply(){var on={};f.querySelectorAll('input[type=checkbox]').forEach(function(c){on[c.value]=c.checked;});\
var s=document.getElementById('suite').value;var q=document.getElementById('q').value.toLowerCase();\
document.querySelectorAll('tr.case').forEach(function(r){var ok=on[r.dataset.verdict]&&(s===''||r.dataset.suite===s)&&\
(q===''||r.textContent.toLowerCase().indexOf(q)>=0);r.hidden=!ok;});}\
f.addEventListener('input',apply);f.addEventListener('change',apply);\
document.documentElement.setAttribute('data-js-ready','1');})();";

/// Renders the whole page.
pub fn render(report: &RunReport) -> String {
    let scrub = Scrub::new(&report.secrets);
    let counts = Counts::of(report.results);
    let started = SystemTime::now()
        .checked_sub(report.duration)
        .unwrap_or(UNIX_EPOCH);
    let target = escape(&scrub.clean(&report.target));
    let mut h = String::with_capacity(4096 + report.results.len() * 2048);
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\
         <title>wsprobe report: {target}</title><style>{STYLE}"
    );
    for (v, color) in VERDICTS {
        let _ = write!(h, ".v-{}{{background:{color}}}", verdict_key(v));
    }
    h.push_str("</style></head><body>");
    let _ = write!(
        h,
        "<h1>wsprobe report</h1><table id=\"summary\"><tr><th>Target</th><td id=\"target\">{target}</td></tr>\
         <tr><th>Agent</th><td>{agent}</td></tr>\
         <tr><th>wsprobe</th><td>{version}</td></tr><tr><th>Started (UTC)</th><td>{date}</td></tr>\
         <tr><th>Wall time</th><td>{wall}</td></tr><tr><th>Cases</th><td id=\"count-total\" data-count=\"{total}\">{total}</td></tr></table>",
        agent = escape(&scrub.clean(report.agent.as_deref().unwrap_or("-"))),
        version = env!("CARGO_PKG_VERSION"),
        date = rfc3339(started),
        wall = fmt_duration(report.duration),
        total = report.results.len(),
    );
    h.push_str("<p class=\"counts\">");
    let mut bars = Vec::new();
    for (v, color) in VERDICTS {
        let n = count_of(&counts, v);
        let _ = write!(
            h,
            "<span><b class=\"v v-{k}\">&nbsp;{name}&nbsp;</b> <span id=\"count-{k}\" data-count=\"{n}\">{n}</span></span>",
            k = verdict_key(v),
            name = v.name(),
        );
        bars.push(Bar {
            label: v.name(),
            value: n as f64,
            color,
        });
    }
    h.push_str("</p>");
    h.push_str(&hbars("Cases by verdict", &bars, ""));
    h.push_str(&duration_chart(report.results, &scrub));
    h.push_str(&perf_charts(report.results, &scrub));
    h.push_str(&filters(report.results, &scrub));
    case_table(&mut h, report.results, &scrub);
    h.push_str("<h2>Cases</h2>");
    for r in report.results {
        case_details(&mut h, r, &scrub, report.fail_on, report.sources.get(&r.id));
    }
    let _ = writeln!(h, "<script>{SCRIPT}</script></body></html>");
    h
}

/// A performance case as plotted: id, bytes per round trip, MB/s, median RTT in ms.
type PerfPoint = (String, f64, Option<f64>, Option<f64>);

/// Throughput and median round-trip time of the performance cases (those with figures), by the
/// bytes each round trip moved: where a server's cost per message grows with its size.
fn perf_charts(results: &[CaseResult], scrub: &Scrub) -> String {
    let perf: Vec<PerfPoint> = results
        .iter()
        .filter_map(|r| {
            let p = r.perf.as_ref()?;
            let size = p.bytes as f64 / p.round_trips.max(1) as f64;
            let rate = super::text::mb_per_s(p.bytes, r.duration);
            let rtt = p.median_rtt.map(|d| d.as_secs_f64() * 1000.0);
            Some((scrub.clean(&r.id), size, rate, rtt))
        })
        .collect();
    if perf.is_empty() {
        return String::new();
    }
    let points = |pick: fn(&PerfPoint) -> Option<f64>| {
        perf.iter()
            .filter_map(|p| {
                pick(p).map(|y| Point {
                    x: p.1,
                    y,
                    label: &p.0,
                })
            })
            .collect::<Vec<_>>()
    };
    let mut h = String::from("<div id=\"perf-charts\">");
    h.push_str(&scatter_log_x(
        "Throughput by message size (performance cases)",
        "bytes per round trip (log scale)",
        "MB/s",
        &points(|p| p.2),
    ));
    h.push_str(&scatter_log_x(
        "Median round-trip time by message size (performance cases)",
        "bytes per round trip (log scale)",
        "ms",
        &points(|p| p.3),
    ));
    h.push_str("</div>");
    h
}

/// The twenty slowest cases as a bar chart.
fn duration_chart(results: &[CaseResult], scrub: &Scrub) -> String {
    let mut sorted: Vec<&CaseResult> = results.iter().collect();
    sorted.sort_by_key(|r| std::cmp::Reverse(r.duration));
    sorted.truncate(20);
    let labels: Vec<String> = sorted.iter().map(|r| scrub.clean(&r.id)).collect();
    let bars: Vec<Bar> = sorted
        .iter()
        .zip(&labels)
        .map(|(r, l)| Bar {
            label: l,
            value: r.duration.as_secs_f64() * 1000.0,
            color: "#546e7a",
        })
        .collect();
    hbars("Slowest cases (ms)", &bars, " ms")
}

/// The filter form; hidden until the script runs, so a page without JS shows no dead controls.
fn filters(results: &[CaseResult], scrub: &Scrub) -> String {
    let mut h = String::from("<form id=\"filters\" hidden>");
    for (v, _) in VERDICTS {
        let _ = write!(
            h,
            "<label><input type=\"checkbox\" value=\"{k}\" checked> {name}</label> ",
            k = verdict_key(v),
            name = v.name()
        );
    }
    h.push_str("<select id=\"suite\"><option value=\"\">all suites</option>");
    let mut suites: Vec<&str> = results.iter().map(|r| r.suite.as_str()).collect();
    suites.dedup();
    for s in suites {
        let s = escape(&scrub.clean(s));
        let _ = write!(h, "<option value=\"{s}\">{s}</option>");
    }
    h.push_str("</select> <input id=\"q\" type=\"search\" placeholder=\"search\"></form>");
    h
}

fn case_table(h: &mut String, results: &[CaseResult], scrub: &Scrub) {
    h.push_str("<table id=\"cases\"><thead><tr><th>Case</th><th>Autobahn</th><th>Title</th><th>Verdict</th><th>Time</th></tr></thead><tbody>");
    let mut last: Option<(String, String)> = None;
    for r in results {
        // A case without an Autobahn id stays in the group of the case before it in its
        // suite, so a suite's cases are not split into many one-row groups.
        let group = match (&r.autobahn, &last) {
            (None, Some((suite, cat))) if *suite == r.suite => (suite.clone(), cat.clone()),
            _ => (
                r.suite.clone(),
                category(r.autobahn.as_deref().map(|a| scrub.clean(a)).as_deref()),
            ),
        };
        if last.as_ref() != Some(&group) {
            let _ = write!(
                h,
                "<tr class=\"group\"><th colspan=\"5\">{} — {}</th></tr>",
                escape(&scrub.clean(&group.0)),
                escape(&group.1)
            );
            last = Some(group);
        }
        let id = escape(&scrub.clean(&r.id));
        let k = verdict_key(r.verdict);
        let _ = write!(
            h,
            "<tr class=\"case\" data-verdict=\"{k}\" data-suite=\"{suite}\"><td><a href=\"#case-{id}\">{id}</a></td>\
             <td>{ab}</td><td>{title}</td><td class=\"v v-{k}\">{name}</td><td>{time}</td></tr>",
            suite = escape(&scrub.clean(&r.suite)),
            ab = escape(&scrub.clean(r.autobahn.as_deref().unwrap_or(""))),
            title = escape(&scrub.clean(&r.title)),
            name = r.verdict.name(),
            time = fmt_duration(r.duration),
        );
    }
    h.push_str("</tbody></table>");
}

fn case_details(
    h: &mut String,
    r: &CaseResult,
    scrub: &Scrub,
    fail_on: FailOn,
    source: Option<&String>,
) {
    let id = escape(&scrub.clean(&r.id));
    let k = verdict_key(r.verdict);
    let _ = write!(
        h,
        "<details id=\"case-{id}\"><summary><b class=\"v v-{k}\">&nbsp;{name}&nbsp;</b> {id} — {title}</summary>\
         <p>RFC {spec} · level {level:?} · {time}</p>",
        name = r.verdict.name(),
        title = escape(&scrub.clean(&r.title)),
        spec = escape(&scrub.clean(&r.spec)),
        level = r.level,
        time = fmt_duration(r.duration),
    );
    if let Some(c) = &r.close {
        let _ = write!(
            h,
            "<p class=\"close\">Closing behaviour: <b>{}</b> — {}</p>",
            c.verdict.autobahn(),
            escape(&scrub.clean(&c.detail))
        );
    }
    let block = failure_block(r, scrub, fail_on, false, usize::MAX / 2);
    if !block.trim().is_empty() {
        let _ = write!(h, "<pre>{}</pre>", escape(&block));
    }
    if !r.traces.is_empty() {
        let trace = render_text(&r.traces, &Redaction::default());
        let trace = shorten_trace(&super::text::escape_lines(&scrub.redact_only(&trace)));
        let _ = write!(h, "<h4>Trace</h4><pre>{}</pre>", escape(&trace));
    }
    if let Some(source) = source {
        let _ = write!(
            h,
            "<h4>Case source ({})</h4><pre class=\"yaml\">{}</pre>",
            escape(&scrub.clean(&format!(
                "{}:{}",
                r.location.file.display(),
                r.location.line
            ))),
            escape(&super::text::escape_lines(&scrub.redact_only(source)))
        );
    }
    h.push_str("</details>");
}

/// Trace lines a case's page shows from the start and from the end: a performance case's trace
/// has a line per frame, and thousands of them would make the page too large to open.
const TRACE_HEAD_LINES: usize = 120;
const TRACE_TAIL_LINES: usize = 40;

/// The trace cut to its first and last lines, with a line saying how many were left out.
fn shorten_trace(trace: &str) -> String {
    let lines: Vec<&str> = trace.lines().collect();
    if lines.len() <= TRACE_HEAD_LINES + TRACE_TAIL_LINES {
        return trace.to_string();
    }
    let left_out = lines.len() - TRACE_HEAD_LINES - TRACE_TAIL_LINES;
    let mut out = lines[..TRACE_HEAD_LINES].join("\n");
    out.push_str(&format!(
        "\n… {left_out} lines left out (wsprobe run --traces DIR writes whole traces)\n"
    ));
    out.push_str(&lines[lines.len() - TRACE_TAIL_LINES..].join("\n"));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn dates_are_rfc3339_utc() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_709_210_096);
        assert_eq!(rfc3339(t), "2024-02-29T12:34:56Z");
    }

    #[test]
    fn categories_name_the_autobahn_group() {
        assert_eq!(category(Some("5.19")), "5 Fragmentation");
        assert_eq!(category(Some("1.1.2")), "1 Framing");
        assert_eq!(category(None), "-");
    }
}
