//! `wsprobe list` output: an aligned text table for people and JSON Lines for scripts, one case
//! per line in the order the suites define them.

use serde::Serialize;

use super::json::to_json;
use super::text::{Scrub, pad, width};
use crate::suite::model::Case;

/// Column headers of the text table.
const HEADERS: [&str; 5] = ["ID", "AUTOBAHN", "SPEC", "LEVEL", "TITLE"];

/// The aligned table: id, Autobahn id (`-` when none), spec, level, title.
pub fn text(cases: &[Case]) -> String {
    let scrub = Scrub::default();
    let rows: Vec<[String; 5]> = cases
        .iter()
        .map(|c| {
            [
                scrub.clean(&c.id),
                c.autobahn
                    .as_deref()
                    .map_or_else(|| "-".to_string(), |a| scrub.clean(a)),
                scrub.clean(&c.spec),
                c.level.as_str().to_string(),
                scrub.clean(&c.title),
            ]
        })
        .collect();
    let mut widths = HEADERS.map(width);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(cell));
        }
    }
    let header = HEADERS.map(String::from);
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| pad(cell, w))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// One JSON object per case: id, suite, title, spec, level, autobahn, tags, file, line.
pub fn json(cases: &[Case]) -> String {
    let scrub = Scrub::default();
    cases
        .iter()
        .map(|c| {
            let line = ListLine {
                id: scrub.clean(&c.id),
                suite: scrub.clean(&c.suite),
                title: scrub.clean(&c.title),
                spec: scrub.clean(&c.spec),
                level: c.level.as_str(),
                autobahn: c.autobahn.as_deref().map(|a| scrub.clean(a)),
                tags: c.tags.iter().map(|t| scrub.clean(t)).collect(),
                file: scrub.clean(&c.location.file.display().to_string()),
                line: c.location.line,
            };
            format!("{}\n", to_json(&line))
        })
        .collect()
}

/// A case as one `list --format json` record.
#[derive(Debug, Serialize)]
struct ListLine {
    id: String,
    suite: String,
    title: String,
    spec: String,
    level: &'static str,
    autobahn: Option<String>,
    tags: Vec<String>,
    file: String,
    line: u32,
}
