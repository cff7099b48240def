//! Recorded expectations (`wsprobe run --expect FILE`): the verdict and closing behaviour each
//! case is known to get from one target, so that a run fails only on differences. Every real
//! server has a few accepted deviations; the file records them once, with the reason in a
//! comment, instead of a script per project that turns `index.json` into pass or fail.
//!
//! The file is a YAML mapping written one line per case (any YAML reader can read it; wsprobe
//! reads it line by line so every error points at its line and column):
//!
//! ```text
//! # wsprobe expectations for ws://127.0.0.1:9001/
//! close.code-1000: PASS close=OK
//! 7.5.1: NON-STRICT close=OK  # answers 1002 where 1007 is preferred
//! 6.4.1: NON-STRICT|FAIL      # races: the verdict depends on when the server checks UTF-8
//! ```
//!
//! A key is a case id or an Autobahn id. The value is one or more verdicts joined by `|` (any of
//! them matches) and optionally `close=` with one or more of Autobahn's closing behaviours
//! (`OK`, `FAILED`, `UNCLEAN`, `WRONG-CODE`, `FAILED-BY-CLIENT`, `INFORMATIONAL`); without
//! `close=` the closing behaviour is not compared. `#` after a space starts a comment. The
//! format is described for users in `docs/expectations.md`.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::text::{Scrub, Style, paint};
use crate::runner::result::{CaseResult, CloseVerdict, Verdict};
use crate::suite::Diagnostic;

/// The closing behaviours an expectation can name: Autobahn's words, spaces as `-`.
const CLOSE_NAMES: [&str; 6] = [
    "OK",
    "FAILED",
    "UNCLEAN",
    "WRONG-CODE",
    "FAILED-BY-CLIENT",
    "INFORMATIONAL",
];

/// One case's recorded expectation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The case id or Autobahn id as written.
    pub key: String,
    /// Any of these verdicts matches.
    pub verdicts: Vec<Verdict>,
    /// Any of these closing behaviours matches; empty: not compared.
    pub closes: Vec<String>,
    /// 1-based line in the file.
    pub line: u32,
    /// The line as written (kept by `--expect-update` when the case did not change).
    raw: String,
    /// Comment-only lines right above the entry (kept with it).
    above: Vec<String>,
}

/// A parsed expectations file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expectations {
    /// The file.
    pub path: PathBuf,
    /// Entries in file order.
    pub entries: Vec<Entry>,
    /// Comment and blank lines after the last entry.
    trailing: Vec<String>,
}

impl Expectations {
    /// Parses the file's text; every problem is a diagnostic with line and column.
    pub fn parse(path: &Path, text: &str) -> Result<Expectations, Vec<Diagnostic>> {
        let mut out = Expectations {
            path: path.to_path_buf(),
            ..Expectations::default()
        };
        let mut diags = Vec::new();
        let mut seen: HashMap<String, u32> = HashMap::new();
        let mut pending: Vec<String> = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = u32::try_from(index + 1).unwrap_or(u32::MAX);
            let body = strip_comment(raw);
            if body.trim().is_empty() {
                pending.push(raw.to_string());
                continue;
            }
            match parse_entry(body) {
                Ok((key, verdicts, closes)) => {
                    if let Some(first) = seen.get(&key) {
                        let col = raw.find(&key).unwrap_or(0);
                        diags.push(diag(
                            path,
                            line,
                            raw,
                            col,
                            key.len(),
                            format!("case `{key}` is listed twice (first on line {first})"),
                        ));
                        continue;
                    }
                    seen.insert(key.clone(), line);
                    out.entries.push(Entry {
                        key,
                        verdicts,
                        closes,
                        line,
                        raw: raw.to_string(),
                        above: std::mem::take(&mut pending),
                    });
                }
                Err((col, len, message)) => diags.push(diag(path, line, raw, col, len, message)),
            }
        }
        out.trailing = pending;
        if diags.is_empty() {
            Ok(out)
        } else {
            Err(diags)
        }
    }

    /// The entry for a result: by case id first, then by Autobahn id.
    fn entry_for(&self, r: &CaseResult) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == r.id).or_else(|| {
            r.autobahn
                .as_deref()
                .and_then(|a| self.entries.iter().find(|e| e.key == a))
        })
    }

    /// Compares a run with the file. `is_loaded` says whether a key names a case of the loaded
    /// suites (by id or Autobahn id): a listed case that is loaded but was not selected is not
    /// a difference; a key that names no case at all is.
    pub fn compare(&self, results: &[CaseResult], is_loaded: &dyn Fn(&str) -> bool) -> Comparison {
        let mut differences = Vec::new();
        let mut matched = 0;
        let mut used = vec![false; self.entries.len()];
        for r in results {
            let Some(entry) = self.entry_for(r) else {
                differences.push(Difference {
                    id: r.id.clone(),
                    kind: DiffKind::NotListed,
                    expected: String::new(),
                    observed: observed(r, true),
                    line: None,
                });
                continue;
            };
            if let Some(i) = self.entries.iter().position(|e| std::ptr::eq(e, entry)) {
                used[i] = true;
            }
            match judge(entry, r) {
                None => matched += 1,
                Some(kind) => differences.push(Difference {
                    id: r.id.clone(),
                    kind,
                    expected: expected_text(entry),
                    observed: observed(r, !entry.closes.is_empty()),
                    line: Some(entry.line),
                }),
            }
        }
        for (entry, used) in self.entries.iter().zip(used) {
            if !used && !is_loaded(&entry.key) {
                differences.push(Difference {
                    id: entry.key.clone(),
                    kind: DiffKind::Unknown,
                    expected: expected_text(entry),
                    observed: String::new(),
                    line: Some(entry.line),
                });
            }
        }
        Comparison {
            path: self.path.clone(),
            matched,
            differences,
        }
    }

    /// The file rewritten from a run: entries keep their place and, when the case's result
    /// still matches, their line as written (comment included); changed entries get the new
    /// values; entries of cases the run did not select stay; entries that name no loaded case
    /// are dropped; cases not yet listed are appended in run order.
    pub fn updated(&self, results: &[CaseResult], is_loaded: &dyn Fn(&str) -> bool) -> Update {
        let mut text = String::new();
        let mut update = Update::default();
        if self.entries.is_empty() && self.trailing.iter().all(|l| l.trim().is_empty()) {
            text.push_str(
                "# wsprobe expectations: `CASE: VERDICT[|VERDICT] [close=BEHAVIOUR]`, one line per\n\
                 # case (docs/expectations.md). Say why after a `#` where a case does not PASS.\n",
            );
        }
        let mut listed = vec![false; results.len()];
        for entry in &self.entries {
            let result = results
                .iter()
                .position(|r| r.id == entry.key || r.autobahn.as_deref() == Some(&entry.key));
            for line in &entry.above {
                text.push_str(line);
                text.push('\n');
            }
            match result {
                Some(i) => {
                    listed[i] = true;
                    let r = &results[i];
                    if judge(entry, r).is_none() {
                        text.push_str(&entry.raw);
                        update.unchanged += 1;
                    } else {
                        text.push_str(&line_for(&entry.key, r));
                        update.changed += 1;
                    }
                    text.push('\n');
                }
                None if is_loaded(&entry.key) => {
                    text.push_str(&entry.raw);
                    text.push('\n');
                    update.kept += 1;
                }
                None => update.dropped += 1,
            }
        }
        for line in &self.trailing {
            text.push_str(line);
            text.push('\n');
        }
        for (r, listed) in results.iter().zip(listed) {
            if !listed {
                text.push_str(&line_for(&r.id, r));
                text.push('\n');
                update.added += 1;
            }
        }
        update.text = text;
        update
    }
}

/// What `--expect-update` wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Update {
    /// The new file.
    pub text: String,
    /// Entries whose case still matched, written as they were.
    pub unchanged: usize,
    /// Entries rewritten with the new result.
    pub changed: usize,
    /// Entries of cases not run this time, kept.
    pub kept: usize,
    /// Entries naming no loaded case, dropped.
    pub dropped: usize,
    /// Cases appended.
    pub added: usize,
}

/// How a case differs from its expectation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DiffKind {
    /// Worse than recorded.
    Regression,
    /// Different, neither better nor worse (e.g. NON-STRICT where INFORMATIONAL was recorded).
    Changed,
    /// Better than recorded: the file should be updated.
    Improvement,
    /// The case ran but the file does not list it.
    NotListed,
    /// The file lists a case that no loaded suite has.
    Unknown,
}

impl DiffKind {
    /// The word shown in reports.
    pub fn name(self) -> &'static str {
        match self {
            DiffKind::Regression => "regression",
            DiffKind::Changed => "changed",
            DiffKind::Improvement => "improvement",
            DiffKind::NotListed => "not listed",
            DiffKind::Unknown => "unknown case",
        }
    }
}

/// One difference between a run and the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The case id (or the key as written, for [`DiffKind::Unknown`]).
    pub id: String,
    /// What kind of difference.
    pub kind: DiffKind,
    /// The recorded value (`PASS close=OK`), empty for a case not listed.
    pub expected: String,
    /// What the run got, empty for an unknown case.
    pub observed: String,
    /// The entry's line in the file.
    pub line: Option<u32>,
}

/// A run compared with its expectations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// The file.
    pub path: PathBuf,
    /// Cases that matched.
    pub matched: usize,
    /// Every difference, in run order (unknown keys last).
    pub differences: Vec<Difference>,
}

impl Comparison {
    /// Whether the run matches the file.
    pub fn matches(&self) -> bool {
        self.differences.is_empty()
    }

    /// The terminal section: one line per difference, then one summary line.
    pub fn render_text(&self, color: bool) -> String {
        let scrub = Scrub::default();
        let file = self.path.display().to_string();
        let mut out = String::new();
        if !self.differences.is_empty() {
            let _ = writeln!(
                out,
                "\n{}",
                paint(&format!("Differences from {file}"), Style::Bold, color)
            );
        }
        let width = self
            .differences
            .iter()
            .map(|d| d.kind.name().len())
            .max()
            .unwrap_or(0);
        for d in &self.differences {
            let style = match d.kind {
                DiffKind::Improvement => Style::Green,
                DiffKind::Changed | DiffKind::NotListed | DiffKind::Unknown => Style::Yellow,
                DiffKind::Regression => Style::RedBold,
            };
            let kind = format!("{:width$}", d.kind.name());
            let at = d.line.map(|l| format!(" ({file}:{l})")).unwrap_or_default();
            let id = scrub.clean(&d.id);
            let what = match d.kind {
                DiffKind::NotListed => format!(
                    "ran ({}) but is not in the file; add it with --expect-update",
                    d.observed
                ),
                DiffKind::Unknown => "no loaded case has this id or Autobahn id".to_string(),
                DiffKind::Improvement => format!(
                    "expected {}, got {}; record it with --expect-update",
                    d.expected, d.observed
                ),
                DiffKind::Regression | DiffKind::Changed => {
                    format!("expected {}, got {}", d.expected, d.observed)
                }
            };
            let _ = writeln!(
                out,
                "  {} {}: {what}{at}",
                paint(&kind, style, color),
                paint(&id, Style::Bold, color)
            );
        }
        out.push_str(&self.summary_line(color));
        out
    }

    /// `expectations: matches FILE (N cases)` or the count of differences by kind.
    pub fn summary_line(&self, color: bool) -> String {
        let file = self.path.display();
        if self.matches() {
            return format!(
                "{} matches {file} ({} case{})\n",
                paint("expectations:", Style::Green, color),
                self.matched,
                if self.matched == 1 { "" } else { "s" }
            );
        }
        let mut kinds: Vec<(DiffKind, usize)> = Vec::new();
        for d in &self.differences {
            match kinds.iter_mut().find(|(k, _)| *k == d.kind) {
                Some((_, n)) => *n += 1,
                None => kinds.push((d.kind, 1)),
            }
        }
        kinds.sort();
        let parts: Vec<String> = kinds
            .iter()
            .map(|(k, n)| format!("{n} {}", k.name()))
            .collect();
        let n = self.differences.len();
        format!(
            "{} {n} difference{} from {file} ({}); {} case{} matched\n",
            paint("expectations:", Style::RedBold, color),
            if n == 1 { "" } else { "s" },
            parts.join(", "),
            self.matched,
            if self.matched == 1 { "" } else { "s" }
        )
    }

    /// The JSON Lines record: `{"expectations":{...}}`.
    pub fn render_json(&self) -> String {
        #[derive(serde::Serialize)]
        struct Record<'a> {
            expectations: Body<'a>,
        }
        #[derive(serde::Serialize)]
        struct Body<'a> {
            file: String,
            matches: bool,
            matched: usize,
            differences: Vec<Diff<'a>>,
        }
        #[derive(serde::Serialize)]
        struct Diff<'a> {
            id: String,
            kind: &'static str,
            expected: &'a str,
            observed: &'a str,
            line: Option<u32>,
        }
        let scrub = Scrub::default();
        let record = Record {
            expectations: Body {
                file: scrub.clean(&self.path.display().to_string()),
                matches: self.matches(),
                matched: self.matched,
                differences: self
                    .differences
                    .iter()
                    .map(|d| Diff {
                        id: scrub.clean(&d.id),
                        kind: d.kind.name(),
                        expected: &d.expected,
                        observed: &d.observed,
                        line: d.line,
                    })
                    .collect(),
            },
        };
        let mut out = super::json::to_json(&record);
        out.push('\n');
        out
    }
}

/// `None` when the result matches the entry, else how it differs.
fn judge(entry: &Entry, r: &CaseResult) -> Option<DiffKind> {
    let verdict_ok = entry.verdicts.contains(&r.verdict);
    let close = r.close.as_ref().map(|c| close_name(c.verdict));
    let close_ok =
        entry.closes.is_empty() || close.is_some_and(|c| entry.closes.iter().any(|e| e == c));
    if verdict_ok && close_ok {
        return None;
    }
    let verdict_dir = if verdict_ok {
        Ordering::Equal
    } else {
        let want = entry.verdicts.iter().map(|v| rank(*v)).min().unwrap_or(0);
        rank(r.verdict).cmp(&want)
    };
    let close_dir = if close_ok {
        Ordering::Equal
    } else {
        let want = entry
            .closes
            .iter()
            .map(|c| close_rank(c))
            .min()
            .unwrap_or(0);
        close.map_or(1, close_rank).cmp(&want)
    };
    Some(
        if verdict_dir == Ordering::Greater || close_dir == Ordering::Greater {
            DiffKind::Regression
        } else if verdict_dir == Ordering::Less || close_dir == Ordering::Less {
            DiffKind::Improvement
        } else {
            DiffKind::Changed
        },
    )
}

/// How good a verdict is, lower better: what decides improvement against regression.
fn rank(v: Verdict) -> u8 {
    match v {
        Verdict::Pass => 0,
        Verdict::NonStrict | Verdict::Informational => 1,
        Verdict::Unimplemented => 2,
        Verdict::Skip => 3,
        Verdict::Fail | Verdict::Error => 4,
    }
}

fn close_rank(name: &str) -> u8 {
    u8::from(!matches!(name, "OK" | "INFORMATIONAL"))
}

/// A closing behaviour as the file writes it.
pub fn close_name(v: CloseVerdict) -> &'static str {
    match v {
        CloseVerdict::Ok => "OK",
        CloseVerdict::WrongInitiator | CloseVerdict::NotOpened => "FAILED",
        CloseVerdict::Unclean => "UNCLEAN",
        CloseVerdict::WrongCode => "WRONG-CODE",
        CloseVerdict::FailedByClient => "FAILED-BY-CLIENT",
        CloseVerdict::Informational => "INFORMATIONAL",
    }
}

fn expected_text(e: &Entry) -> String {
    let verdicts: Vec<&str> = e.verdicts.iter().map(|v| v.name()).collect();
    let mut text = verdicts.join("|");
    if !e.closes.is_empty() {
        text.push_str(" close=");
        text.push_str(&e.closes.join("|"));
    }
    text
}

/// What a result got, with its closing behaviour when `with_close`.
fn observed(r: &CaseResult, with_close: bool) -> String {
    let mut text = r.verdict.name().to_string();
    if let (true, Some(c)) = (with_close, &r.close) {
        text.push_str(" close=");
        text.push_str(close_name(c.verdict));
    }
    text
}

/// A new file line for a result; a case that does not pass gets its failure summary as a
/// comment, a starting point for the reason a reviewer writes there.
fn line_for(key: &str, r: &CaseResult) -> String {
    let mut line = format!("{}: {}", quote_key(key), observed(r, true));
    if let (false, Some(f)) = (r.verdict == Verdict::Pass, &r.failure) {
        let summary =
            Scrub::default().clean(&f.summary.split_whitespace().collect::<Vec<_>>().join(" "));
        if !summary.is_empty() {
            let cut: String = summary.chars().take(COMMENT_CHARS).collect();
            let more = if cut.len() < summary.len() { "..." } else { "" };
            line.push_str(&format!("  # {cut}{more}"));
        }
    }
    line
}

/// The longest failure summary `--expect-update` copies into a comment.
const COMMENT_CHARS: usize = 110;

/// Keys are written bare unless YAML would read them as something else than the string.
fn quote_key(key: &str) -> String {
    let plain = key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/'))
        && !key.is_empty()
        && !key.starts_with(['-', '.']);
    if plain {
        key.to_string()
    } else {
        format!("'{}'", key.replace('\'', "''"))
    }
}

/// The part of a line before a comment: `#` at the start or after whitespace.
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            return &line[..i];
        }
    }
    line
}

type Parsed = (String, Vec<Verdict>, Vec<String>);

/// `KEY: VERDICT[|VERDICT] [close=NAME[|NAME]]`; an error is (column, length, message).
fn parse_entry(body: &str) -> Result<Parsed, (usize, usize, String)> {
    let start = body.len() - body.trim_start().len();
    if start > 0 {
        return Err((
            0,
            start,
            "an entry starts at the beginning of its line (`CASE: VERDICT`)".into(),
        ));
    }
    let (key, rest_at) = match body.as_bytes().first() {
        Some(q @ (b'\'' | b'"')) => {
            let q = char::from(*q);
            let end = body[1..].find(q).ok_or((
                0,
                body.trim_end().len(),
                format!("the quoted key has no closing {q}"),
            ))?;
            (body[1..1 + end].to_string(), end + 2)
        }
        _ => {
            let colon = body.find(": ").or_else(|| {
                body.trim_end()
                    .ends_with(':')
                    .then(|| body.trim_end().len() - 1)
            });
            let colon = colon.ok_or((
                0,
                body.trim_end().len(),
                "expected `CASE: VERDICT` (a case id, a colon and a space, a verdict)".into(),
            ))?;
            (body[..colon].trim_end().to_string(), colon)
        }
    };
    let after = &body[rest_at..];
    let Some(value) = after.strip_prefix(':') else {
        return Err((rest_at, 1, "expected `:` after the case id".into()));
    };
    if key.is_empty() {
        return Err((0, 1, "the case id is empty".into()));
    }
    let value_at = rest_at + 1;
    let mut verdicts = Vec::new();
    let mut closes = Vec::new();
    let mut tokens = 0;
    for (offset, token) in tokens_of(value) {
        let col = value_at + offset;
        tokens += 1;
        if let Some(names) = token.strip_prefix("close=") {
            if !closes.is_empty() {
                return Err((col, token.len(), "`close=` is given twice".into()));
            }
            for name in names.split('|') {
                let upper = name.to_ascii_uppercase();
                if !CLOSE_NAMES.contains(&upper.as_str()) {
                    return Err((
                        col,
                        token.len(),
                        format!(
                            "unknown closing behaviour `{name}`: expected {}",
                            CLOSE_NAMES.join(", ")
                        ),
                    ));
                }
                closes.push(upper);
            }
        } else if tokens == 1 {
            for name in token.split('|') {
                let v = Verdict::from_name(name).ok_or_else(|| {
                    (
                        col,
                        token.len(),
                        format!(
                            "unknown verdict `{name}`: expected PASS, NON-STRICT, INFORMATIONAL, \
                             UNIMPLEMENTED, FAIL, ERROR or SKIP (several joined by `|`)"
                        ),
                    )
                })?;
                verdicts.push(v);
            }
        } else {
            return Err((
                col,
                token.len(),
                format!("unexpected `{token}`: after the verdicts only `close=…` may follow"),
            ));
        }
    }
    if verdicts.is_empty() {
        return Err((
            value_at,
            1,
            format!("`{key}` has no verdict (e.g. `{key}: PASS`)"),
        ));
    }
    Ok((key, verdicts, closes))
}

/// Whitespace-separated tokens with their byte offsets.
fn tokens_of(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let rest = &text[at..];
        let skip = rest.len() - rest.trim_start().len();
        let rest = &rest[skip..];
        if rest.is_empty() {
            return None;
        }
        let len = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let start = at + skip;
        at = start + len;
        Some((start, &text[start..start + len]))
    })
}

fn diag(path: &Path, line: u32, raw: &str, col: usize, len: usize, message: String) -> Diagnostic {
    let column = raw.get(..col).map_or(col, |p| p.chars().count()) + 1;
    Diagnostic {
        message,
        file: path.to_path_buf(),
        line: Some(line),
        column: Some(u32::try_from(column).unwrap_or(u32::MAX)),
        source_line: Some(raw.to_string()),
        caret_len: len.max(1),
        help: None,
    }
}

#[cfg(test)]
mod tests;
