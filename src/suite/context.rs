//! The state of checking one suite file: its text, its position index and the diagnostics
//! found so far. Everything that reports a problem goes through [`Context::error`], which
//! turns a YAML path into `file:line:col`, the source line and a caret.

use std::path::PathBuf;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_yaml::Value;

use super::diagnostic::{Diagnostic, did_you_mean};
use super::model::Location;
use super::position::{Anchor, PositionIndex, Seg, Span, YamlPath};
use super::validate::Problem;

/// Where a template substituted a parameter: a path in the expanded case and the path of the
/// row value it came from.
#[derive(Clone, Debug)]
pub(crate) struct Origin {
    /// The node in the expanded case.
    pub expanded: YamlPath,
    /// The row value in `params` it was copied from.
    pub source: YamlPath,
}

/// A diagnostic found while checking a case expanded from a template row.
struct Pending {
    diagnostic: Diagnostic,
    row: Option<usize>,
}

/// Checking state of one file.
pub(crate) struct Context<'a> {
    pub file: Arc<PathBuf>,
    text: &'a str,
    line_starts: Vec<usize>,
    index: &'a PositionIndex,
    pending: Vec<Pending>,
    origins: Vec<Origin>,
    row: Option<usize>,
}

impl<'a> Context<'a> {
    pub(crate) fn new(file: Arc<PathBuf>, text: &'a str, index: &'a PositionIndex) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Context {
            file,
            text,
            line_starts,
            index,
            pending: Vec::new(),
            origins: Vec::new(),
            row: None,
        }
    }

    /// Enters a case expanded from params row `row` (1-based), or leaves template mode.
    pub(crate) fn set_template(&mut self, row: Option<usize>, origins: Vec<Origin>) {
        self.row = row;
        self.origins = origins;
    }

    /// Number of diagnostics so far (to tell whether a part of the file had errors).
    pub(crate) fn error_count(&self) -> usize {
        self.pending.len()
    }

    /// Merges the diagnostics of one template's expansions from `start` on: an error every
    /// row shares (one in the template's own text) is kept once; one that only some rows
    /// have says which row.
    pub(crate) fn merge_template_rows(&mut self, start: usize) {
        let tail = self.pending.split_off(start.min(self.pending.len()));
        let mut merged: Vec<Pending> = Vec::new();
        for p in tail {
            let same = |q: &Pending| {
                q.diagnostic.line == p.diagnostic.line
                    && q.diagnostic.column == p.diagnostic.column
                    && q.diagnostic.message == p.diagnostic.message
            };
            if let Some(existing) = merged.iter_mut().find(|q| same(q)) {
                if existing.row != p.row {
                    existing.row = None;
                }
            } else {
                merged.push(p);
            }
        }
        self.pending.extend(merged);
    }

    /// All diagnostics, a template row noted where it matters.
    pub(crate) fn finish(self) -> Vec<Diagnostic> {
        self.pending
            .into_iter()
            .map(|p| {
                let mut d = p.diagnostic;
                if let (Some(row), None) = (p.row, &d.help) {
                    d.help = Some(format!("in the case from `params` row {row}"));
                }
                d
            })
            .collect()
    }

    /// The document path a node of an expanded case really comes from.
    fn source_path(&self, path: &YamlPath) -> YamlPath {
        let best = self
            .origins
            .iter()
            .filter_map(|o| path.strip_prefix(&o.expanded).map(|tail| (o, tail)))
            .max_by_key(|(o, _)| o.expanded.segs().len());
        match best {
            Some((origin, tail)) => origin.source.join(tail),
            None => path.clone(),
        }
    }

    /// The span of `path`, through template origins.
    pub(crate) fn span(&self, path: &YamlPath, anchor: Anchor) -> Option<Span> {
        // A key belongs to the mapping holding it: a value copied from a row keeps the
        // template's key, so only the parent is resolved through the origins.
        if let (Anchor::Key, Some((last, parent))) = (anchor, path.segs().split_last()) {
            let parent = YamlPath::root().join(parent);
            return self.index.lookup(
                &self.source_path(&parent).join(std::slice::from_ref(last)),
                anchor,
            );
        }
        self.index.lookup(&self.source_path(path), anchor)
    }

    /// The model location of `path` (line 1, column 1 when it cannot be found).
    pub(crate) fn location(&self, path: &YamlPath) -> Location {
        let span = self.span(path, Anchor::Value);
        Location {
            file: self.file.clone(),
            line: span.map_or(1, |s| s.line),
            column: span.map_or(1, |s| s.column),
        }
    }

    fn source_line(&self, line: u32) -> Option<String> {
        let start = *self.line_starts.get(line.checked_sub(1)? as usize)?;
        let rest = self.text.get(start..)?;
        let end = rest.find('\n').unwrap_or(rest.len());
        Some(rest[..end].trim_end_matches('\r').to_string())
    }

    /// A diagnostic at `span`.
    pub(crate) fn diagnostic_at(
        &self,
        span: Option<Span>,
        message: impl Into<String>,
        help: Option<String>,
    ) -> Diagnostic {
        Diagnostic {
            message: message.into(),
            file: self.file.as_ref().clone(),
            line: span.map(|s| s.line),
            column: span.map(|s| s.column),
            source_line: span.and_then(|s| self.source_line(s.line)),
            caret_len: span.map_or(0, |s| s.len.max(1) as usize),
            help,
        }
    }

    /// Records an error at `path`.
    pub(crate) fn error(&mut self, path: &YamlPath, anchor: Anchor, message: impl Into<String>) {
        self.error_help(path, anchor, message, None);
    }

    /// Records an error at `path` with a hint after the caret.
    pub(crate) fn error_help(
        &mut self,
        path: &YamlPath,
        anchor: Anchor,
        message: impl Into<String>,
        help: Option<String>,
    ) {
        let d = self.diagnostic_at(self.span(path, anchor), message, help);
        self.push(d);
    }

    /// Records a [`Problem`] found by one of the `validate` parsers.
    pub(crate) fn problem(&mut self, path: &YamlPath, anchor: Anchor, problem: Problem) {
        self.error_help(path, anchor, problem.message, problem.help);
    }

    /// Runs a `validate` parser, reporting its problem at `path`.
    pub(crate) fn check<T>(&mut self, path: &YamlPath, result: Result<T, Problem>) -> Option<T> {
        result
            .map_err(|p| self.problem(path, Anchor::Value, p))
            .ok()
    }

    /// Records a ready-made diagnostic.
    pub(crate) fn push(&mut self, diagnostic: Diagnostic) {
        self.pending.push(Pending {
            diagnostic,
            row: self.row,
        });
    }

    /// Reports an unknown key with the nearest valid one as a hint.
    pub(crate) fn unknown_key(&mut self, path: &YamlPath, key: &str, allowed: &[&str]) {
        let parent = path.parent();
        let help = did_you_mean(key, allowed.iter().copied()).or_else(|| {
            (allowed.len() <= 8 && !allowed.is_empty())
                .then(|| format!("expected one of {}", backticked(allowed)))
        });
        self.error_help(
            path,
            Anchor::Key,
            format!("unknown key `{key}` in {}", describe(&parent)),
            help,
        );
    }

    /// Deserializes `value` (found at `path`) into a raw struct; on failure reports where and
    /// why, and returns `None`.
    pub(crate) fn deserialize<T: DeserializeOwned>(
        &mut self,
        path: &YamlPath,
        value: Value,
    ) -> Option<T> {
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(t) => Some(t),
            Err(err) => {
                let mut at = path.clone();
                for seg in err.path().iter() {
                    match seg {
                        serde_path_to_error::Segment::Map { key } => at = at.key(key),
                        serde_path_to_error::Segment::Seq { index } => at = at.index(*index),
                        _ => {}
                    }
                }
                self.serde_error(&at, &err.inner().to_string());
                None
            }
        }
    }

    fn serde_error(&mut self, at: &YamlPath, message: &str) {
        if let Some(rest) = message.strip_prefix("unknown field `") {
            let name = rest.split('`').next().unwrap_or_default();
            let expected = backticked_names(rest.get(name.len() + 1..).unwrap_or_default());
            let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
            self.unknown_key(at, name, &expected);
        } else if let Some(rest) = message.strip_prefix("missing field `") {
            let name = rest.split('`').next().unwrap_or_default();
            self.error(
                at,
                Anchor::Value,
                format!("{} needs the key `{name}`", describe(at)),
            );
        } else if let Some(rest) = message.strip_prefix("invalid type: ") {
            let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, "?"));
            let help = (expected.contains("string")
                && (found.starts_with("integer") || found.starts_with("floating")))
            .then(|| "quote the value to make it a string".to_string());
            self.error_help(
                at,
                Anchor::Value,
                format!("expected {expected} for {}, found {found}", field(at)),
                help,
            );
        } else if let Some(rest) = message.strip_prefix("invalid value: ") {
            let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, "?"));
            self.error(
                at,
                Anchor::Value,
                format!(
                    "invalid {} {found}: expected {}",
                    field(at),
                    plain_type(expected)
                ),
            );
        } else {
            self.error(at, Anchor::Value, format!("{}: {message}", field(at)));
        }
    }
}

/// Rust type names in serde messages, in words.
fn plain_type(expected: &str) -> String {
    match expected {
        "u8" => "a number from 0 to 255".into(),
        "u16" => "a number from 0 to 65535".into(),
        "u32" => "a number from 0 to 4294967295".into(),
        "u64" | "usize" => "a non-negative number".into(),
        "i64" => "a whole number".into(),
        other => other.to_string(),
    }
}

/// The names in backticks within `text`.
fn backticked_names(text: &str) -> Vec<String> {
    text.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_string())
        .collect()
}

/// `a`, `b` and `c`.
pub(crate) fn backticked(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// What the mapping at `path` is, for "unknown key `x` in step".
pub(crate) fn describe(path: &YamlPath) -> String {
    let segs = path.segs();
    match segs {
        [] => "suite".into(),
        [Seg::Key(c), Seg::Index(_)] if c == "cases" => "case".into(),
        [.., Seg::Key(s), Seg::Index(_)] if s == "steps" => "step".into(),
        [.., Seg::Key(k)] => format!("`{k}`"),
        [.., Seg::Key(k), Seg::Index(_)] => format!("`{k}` item"),
        _ => format!("`{path}`"),
    }
}

/// How to name the value at `path` in a message: `` `fin` ``, `` `tags[1]` ``.
pub(crate) fn field(path: &YamlPath) -> String {
    match path.segs() {
        [] => "the suite".into(),
        [.., Seg::Key(k)] => format!("`{k}`"),
        [.., Seg::Key(k), Seg::Index(i)] => format!("`{k}[{i}]`"),
        _ => format!("`{path}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_places() {
        let case = YamlPath::root().key("cases").index(2);
        assert_eq!(describe(&YamlPath::root()), "suite");
        assert_eq!(describe(&case), "case");
        assert_eq!(describe(&case.key("steps").index(0)), "step");
        assert_eq!(describe(&case.key("steps").index(0).key("send")), "`send`");
        assert_eq!(describe(&case.key("frames").index(1)), "`frames` item");
        assert_eq!(field(&case.key("tags").index(1)), "`tags[1]`");
        assert_eq!(backticked(&["a", "b", "c"]), "`a`, `b` or `c`");
        assert_eq!(
            backticked_names(", expected one of `fin`, `rsv`"),
            vec!["fin".to_string(), "rsv".to_string()]
        );
    }

    #[test]
    fn translates_serde_errors() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct S {
            fin: Option<bool>,
            opcode: Option<String>,
            n: Option<u16>,
        }
        let text = "fin: \"yes\"\n";
        let index = PositionIndex::build(text);
        let mut cx = Context::new(Arc::new("t.yaml".into()), text, &index);
        let value: Value = serde_yaml::from_str(text).expect("test yaml parses");
        assert!(cx.deserialize::<S>(&YamlPath::root(), value).is_none());
        let value: Value = serde_yaml::from_str("opcdoe: 1").expect("test yaml parses");
        assert!(cx.deserialize::<S>(&YamlPath::root(), value).is_none());
        let value: Value = serde_yaml::from_str("n: 70000").expect("test yaml parses");
        assert!(cx.deserialize::<S>(&YamlPath::root(), value).is_none());
        let d = cx.finish();
        assert_eq!(
            d[0].message,
            "expected a boolean for `fin`, found string \"yes\""
        );
        assert_eq!(
            (d[0].line, d[0].column, d[0].caret_len),
            (Some(1), Some(6), 5)
        );
        assert_eq!(d[1].message, "unknown key `opcdoe` in suite");
        assert_eq!(d[1].help.as_deref(), Some("did you mean `opcode`?"));
        assert_eq!(
            d[2].message,
            "invalid `n` integer `70000`: expected a number from 0 to 65535"
        );
    }
}
