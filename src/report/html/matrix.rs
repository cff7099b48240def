//! Several runs side by side, like Autobahn's report of several agents: one row per case (the
//! union of the runs' cases, in the order they first appear), one column per run, each cell in
//! its verdict's colour with the failure summary on hover. Built from the JSON Lines reports of
//! the runs (`wsprobe report --html OUT A.jsonl B.jsonl`).

use std::fmt::Write as _;

use super::{STYLE, VERDICTS, category, escape, verdict_key};
use crate::report::text::Scrub;
use crate::runner::result::Verdict;

/// One run read back from its JSON Lines report.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The column heading: the name given, else the file name.
    pub label: String,
    /// The run's target from its summary record.
    pub target: String,
    /// Its cases in report order.
    pub cases: Vec<Case>,
}

/// One case of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// Case id.
    pub id: String,
    /// Autobahn id, if any.
    pub autobahn: Option<String>,
    /// Suite name.
    pub suite: String,
    /// The case's title.
    pub title: String,
    /// Its verdict.
    pub verdict: Verdict,
    /// The failure summary, if any.
    pub summary: Option<String>,
}

/// The page comparing `runs`.
pub fn render(runs: &[Run]) -> String {
    let scrub = Scrub::default();
    let mut order: Vec<&Case> = Vec::new();
    for run in runs {
        for c in &run.cases {
            if !order.iter().any(|o| o.id == c.id) {
                order.push(c);
            }
        }
    }
    let mut h = String::new();
    h.push_str(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\
         <title>wsprobe: runs side by side</title><style>",
    );
    h.push_str(STYLE);
    for (v, color) in VERDICTS {
        let _ = write!(h, ".v-{}{{background:{color};color:#fff}}", verdict_key(v));
    }
    h.push_str(
        "td.cell{text-align:center;font-weight:600}</style>\
         <script>window.onerror=function(m){document.documentElement.setAttribute('data-js-error',String(m));};\
         document.addEventListener('DOMContentLoaded',function(){document.documentElement.setAttribute('data-js-ready','1');});</script>\
         </head><body><h1>wsprobe: runs side by side</h1><table id=\"runs\"><tr><th>run</th><th>target</th><th>cases</th>",
    );
    for (v, _) in VERDICTS {
        let _ = write!(h, "<th>{}</th>", v.name());
    }
    h.push_str("</tr>");
    for (i, run) in runs.iter().enumerate() {
        let _ = write!(
            h,
            "<tr id=\"run-{i}\" data-cases=\"{}\"><td>{}</td><td>{}</td><td>{}</td>",
            run.cases.len(),
            escape(&scrub.clean(&run.label)),
            escape(&scrub.clean(&run.target)),
            run.cases.len()
        );
        for (v, _) in VERDICTS {
            let n = run.cases.iter().filter(|c| c.verdict == v).count();
            let _ = write!(
                h,
                "<td data-verdict=\"{}\" data-count=\"{n}\">{n}</td>",
                verdict_key(v)
            );
        }
        h.push_str("</tr>");
    }
    h.push_str(
        "</table><table id=\"matrix\"><thead><tr><th>Case</th><th>Autobahn</th><th>Title</th>",
    );
    for run in runs {
        let _ = write!(h, "<th>{}</th>", escape(&scrub.clean(&run.label)));
    }
    h.push_str("</tr></thead><tbody>");
    let mut last: Option<(String, String)> = None;
    for case in order {
        let group = match (&case.autobahn, &last) {
            (None, Some((suite, cat))) if *suite == case.suite => (suite.clone(), cat.clone()),
            _ => (case.suite.clone(), category(case.autobahn.as_deref())),
        };
        if last.as_ref() != Some(&group) {
            let _ = write!(
                h,
                "<tr class=\"group\"><th colspan=\"{}\">{} — {}</th></tr>",
                3 + runs.len(),
                escape(&scrub.clean(&group.0)),
                escape(&scrub.clean(&group.1))
            );
            last = Some(group);
        }
        let _ = write!(
            h,
            "<tr class=\"case\"><td>{}</td><td>{}</td><td>{}</td>",
            escape(&scrub.clean(&case.id)),
            escape(&scrub.clean(case.autobahn.as_deref().unwrap_or(""))),
            escape(&scrub.clean(&case.title))
        );
        for run in runs {
            match run.cases.iter().find(|c| c.id == case.id) {
                Some(c) => {
                    let _ = write!(
                        h,
                        "<td class=\"cell v-{k}\" data-verdict=\"{k}\" title=\"{}\">{}</td>",
                        escape(&scrub.clean(c.summary.as_deref().unwrap_or(""))),
                        c.verdict.name(),
                        k = verdict_key(c.verdict)
                    );
                }
                None => h.push_str("<td class=\"cell\" data-verdict=\"missing\">-</td>"),
            }
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table></body></html>\n");
    h
}
