//! The Autobahn|Testsuite-compatible report directory: `index.json` in Autobahn's exact shape
//! (`{agent: {case id: {behavior, behaviorClose, duration, remoteCloseCode, reportfile}}}`,
//! 3-space indent) and one `<agent>_case_<id>.json` per case, so dashboards and jq gates written
//! for Autobahn keep working.
//!
//! Decisions (also in `docs/report-formats.md`):
//! - The agent is always [`AGENT`] (`wsprobe-target`): a name derived from the target would
//!   change with every ephemeral port and break `.["agent"]["1.1.1"]` gates.
//! - A case is keyed by its Autobahn id when it has one, else by its wsprobe id; a key already
//!   taken falls back to the wsprobe id. Keys sort numerically by dot-separated component, the
//!   order of Autobahn's case matrix (`1.1.2` before `1.1.10`); Autobahn's own `index.json`
//!   sorts them as plain strings, which no JSON reader depends on.
//! - SKIP cases are left out, as Autobahn leaves out cases it did not run.
//! - `behaviorClose` is the judged closing behaviour's Autobahn word. When there is none (the
//!   main connection never opened, e.g. a case that expects the handshake to be refused) it is
//!   `FAILED` for FAIL and ERROR, `UNIMPLEMENTED`/`INFORMATIONAL` for those verdicts, and `OK`
//!   otherwise. See [`behavior_close`].

use std::cmp::Ordering;

use serde::{Serialize, Serializer};

use super::RunReport;
use super::json::ViolationJson;
use super::text::Scrub;
use crate::runner::result::{CaseResult, Closer, Verdict};
use crate::trace::render_event;

/// The agent name under which every case is filed.
pub const AGENT: &str = "wsprobe-target";

/// Name of the index file inside the report directory.
pub const INDEX_FILE: &str = "index.json";

/// The rendered contents of an Autobahn report directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutobahnFiles {
    /// `index.json`.
    pub index: String,
    /// `(file name, contents)` of each per-case file, in index order.
    pub cases: Vec<(String, String)>,
}

/// Renders `index.json` and the per-case files.
pub fn render(report: &RunReport) -> AutobahnFiles {
    let scrub = Scrub::new(&report.secrets);
    let agent = report.agent.as_deref().unwrap_or(AGENT);
    let prefix = agent_file_prefix(agent);
    let mut keyed: Vec<(String, &CaseResult)> = Vec::new();
    for r in report.results.iter().filter(|r| r.verdict != Verdict::Skip) {
        let wanted = r.autobahn.as_deref().unwrap_or(&r.id);
        let key = unique(
            scrub.clean(wanted),
            |k| keyed.iter().any(|(t, _)| t == k),
            || scrub.clean(&r.id),
        );
        keyed.push((key, r));
    }
    keyed.sort_by(|a, b| compare_case_ids(&a.0, &b.0));
    let mut entries: Vec<(String, IndexEntry)> = Vec::new();
    let mut cases: Vec<(String, String)> = Vec::new();
    for (key, r) in keyed {
        let base = format!("{prefix}_case_{}", file_component(&key));
        let mut file = format!("{base}.json");
        let mut n = 2;
        while cases.iter().any(|(f, _)| *f == file) {
            file = format!("{base}_{n}.json");
            n += 1;
        }
        let duration = u64::try_from(r.duration.as_millis()).unwrap_or(u64::MAX);
        let remote_code = r.close.as_ref().and_then(|c| c.remote_code);
        cases.push((
            file.clone(),
            pretty(&CaseFile::of(r, &key, &scrub, duration, agent)),
        ));
        entries.push((
            key,
            IndexEntry {
                behavior: r.verdict.autobahn(),
                behavior_close: behavior_close(r),
                duration,
                remote_close_code: remote_code,
                reportfile: file,
            },
        ));
    }
    let index = pretty(&Ordered(&[(agent.to_string(), Ordered(&entries))]));
    AutobahnFiles { index, cases }
}

/// `wanted` unless `taken` says so, then `fallback()`, then the fallback with `~2`, `~3`, …
fn unique(
    wanted: String,
    taken: impl Fn(&str) -> bool,
    fallback: impl FnOnce() -> String,
) -> String {
    if !taken(&wanted) {
        return wanted;
    }
    let base = fallback();
    let mut key = base.clone();
    let mut n = 2;
    while taken(&key) {
        key = format!("{base}~{n}");
        n += 1;
    }
    key
}

/// The `behaviorClose` word of a case (see the module docs for the case without a judged close).
pub fn behavior_close(r: &CaseResult) -> &'static str {
    match (&r.close, r.verdict) {
        (Some(c), _) => c.verdict.autobahn(),
        (None, Verdict::Fail | Verdict::Error) => "FAILED",
        (None, Verdict::Unimplemented) => "UNIMPLEMENTED",
        (None, Verdict::Informational) => "INFORMATIONAL",
        (None, _) => "OK",
    }
}

/// The case-matrix ordering of case ids: dot-separated components, numbers numerically and before
/// words, words lexically, a prefix first.
pub fn compare_case_ids(a: &str, b: &str) -> Ordering {
    let mut x = a.split('.');
    let mut y = b.split('.');
    loop {
        let order = match (x.next(), y.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(p), Some(q)) => match (p.parse::<u64>(), q.parse::<u64>()) {
                (Ok(m), Ok(n)) => m.cmp(&n).then_with(|| p.cmp(q)),
                (Ok(_), Err(_)) => Ordering::Less,
                (Err(_), Ok(_)) => Ordering::Greater,
                (Err(_), Err(_)) => p.cmp(q),
            },
        };
        if order != Ordering::Equal {
            return order;
        }
    }
}

/// Autobahn's file-name form of an agent: lower case, every run of other characters than
/// `[a-z0-9]` turned into `_` (`ws@8.18.3` → `ws_8_18_3`).
pub fn agent_file_prefix(agent: &str) -> String {
    let mut out = String::new();
    let mut gap = false;
    for c in agent.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
            gap = false;
        } else if !gap {
            out.push('_');
            gap = true;
        }
    }
    out
}

/// A case key as part of a file name: dots become `_` as in Autobahn, and anything that is not
/// an ASCII letter, digit, `-` or `_` too, so no id can name a path outside the directory.
fn file_component(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// JSON with Autobahn's 3-space indent and a final newline.
fn pretty<T: Serialize>(value: &T) -> String {
    let mut buf = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut buf,
        serde_json::ser::PrettyFormatter::with_indent(b"   "),
    );
    value
        .serialize(&mut ser)
        .expect("plain records always serialize to JSON");
    let mut text = String::from_utf8(buf).expect("serde_json writes UTF-8");
    text.push('\n');
    text
}

/// A JSON object whose keys keep the order given (serde_json's map would sort them lexically).
struct Ordered<'a, V>(&'a [(String, V)]);

impl<V: Serialize> Serialize for Ordered<'_, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

/// One case in `index.json`.
#[derive(Debug, Serialize)]
struct IndexEntry {
    behavior: &'static str,
    #[serde(rename = "behaviorClose")]
    behavior_close: &'static str,
    duration: u64,
    #[serde(rename = "remoteCloseCode")]
    remote_close_code: Option<u16>,
    reportfile: String,
}

/// A per-case file. Fields are declared in sorted order, as Autobahn writes them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CaseFile {
    agent: String,
    behavior: &'static str,
    behavior_close: &'static str,
    closed_by_me: Option<bool>,
    description: String,
    dropped_by_me: Option<bool>,
    duration: u64,
    expectation: String,
    id: String,
    level: &'static str,
    local_close_code: Option<u16>,
    remote_close_code: Option<u16>,
    result: String,
    result_close: String,
    spec: String,
    trace: Vec<TraceJson>,
    violations: Vec<ViolationJson>,
    was_clean: Option<bool>,
    wsprobe_id: String,
}

/// One connection of the conversation.
#[derive(Debug, Serialize)]
struct TraceJson {
    connection: String,
    events: Vec<String>,
}

impl CaseFile {
    fn of(r: &CaseResult, key: &str, scrub: &Scrub, duration: u64, agent: &str) -> CaseFile {
        let close = r.close.as_ref();
        CaseFile {
            agent: agent.to_string(),
            behavior: r.verdict.autobahn(),
            behavior_close: behavior_close(r),
            closed_by_me: close.map(|c| c.initiator == Some(Closer::Client)),
            description: scrub.clean(&r.title),
            dropped_by_me: close.map(|c| c.dropped_by_client),
            duration,
            expectation: r
                .failure
                .as_ref()
                .map(|f| {
                    f.expected
                        .iter()
                        .map(|e| scrub.clean(e))
                        .collect::<Vec<_>>()
                        .join("; or ")
                })
                .unwrap_or_default(),
            id: key.to_string(),
            level: r.level.as_str(),
            local_close_code: close.and_then(|c| c.local_code),
            remote_close_code: close.and_then(|c| c.remote_code),
            result: r
                .failure
                .as_ref()
                .map(|f| scrub.clean(&f.observed))
                .unwrap_or_default(),
            result_close: close.map(|c| scrub.clean(&c.detail)).unwrap_or_default(),
            spec: scrub.clean(&r.spec),
            trace: r
                .traces
                .iter()
                .map(|t| TraceJson {
                    connection: scrub.clean(&t.name),
                    events: t
                        .events
                        .iter()
                        .map(|e| scrub.clean(&render_event(e)))
                        .collect(),
                })
                .collect(),
            violations: r
                .violations
                .iter()
                .map(|v| ViolationJson::of(v, scrub))
                .collect(),
            was_clean: close.map(|c| c.clean),
            wsprobe_id: scrub.clean(&r.id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_ids_sort_by_numeric_component() {
        let mut ids = vec!["1.1.10", "2.1", "1.1.2", "ping.x", "1.1", "10.1", "1.1.2.a"];
        ids.sort_by(|a, b| compare_case_ids(a, b));
        assert_eq!(
            ids,
            ["1.1", "1.1.2", "1.1.2.a", "1.1.10", "2.1", "10.1", "ping.x"]
        );
    }

    #[test]
    fn agent_file_names() {
        assert_eq!(agent_file_prefix("ws@8.18.3"), "ws_8_18_3");
        assert_eq!(agent_file_prefix(AGENT), "wsprobe_target");
        assert_eq!(file_component("../etc/passwd"), "___etc_passwd");
        assert_eq!(file_component("ping.oversized-ping"), "ping_oversized-ping");
    }
}
