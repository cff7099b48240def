//! Trace files and snapshot testing for `wsprobe run`: `--traces DIR` writes one canonical
//! trace per case; `--snapshots DIR` compares each case's trace with the stored one (a readable
//! unified diff per difference) or, with `--update`, rewrites them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::runner::CaseResult;
use crate::trace::canonical::{self, Redaction};

/// File extension of trace files.
pub const EXTENSION: &str = "trace";

/// The canonical trace file of one case, with `secrets` (the values of `--header`) redacted
/// wherever the server reflected them.
pub fn trace_file(result: &CaseResult, redaction: &Redaction, secrets: &[String]) -> String {
    let mut out = String::new();
    out.push_str(canonical::HEADER);
    out.push('\n');
    out.push_str(&format!("# case {}", result.id));
    if let Some(a) = &result.autobahn {
        out.push_str(&format!(" [{a}]"));
    }
    out.push('\n');
    out.push_str(&format!("# verdict {}\n", result.verdict.name()));
    if let Some(c) = &result.close {
        out.push_str(&format!(
            "# closing {}: {}\n",
            c.verdict.autobahn(),
            c.detail
        ));
    }
    out.push_str(&canonical::render_text(&result.traces, redaction));
    crate::report::redact_secrets(&out, secrets)
}

/// Where a case's trace lives in `dir`.
pub fn path_for(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}.{EXTENSION}"))
}

/// Writes `content` to `path` through a temporary file in the same directory, so a reader
/// never sees half a file.
pub fn write_atomic(path: &Path, content: &str) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("{EXTENSION}.tmp"));
    std::fs::write(&tmp, content)?;
    std::fs::rename(&tmp, path)
}

/// What comparing (or updating) snapshots found.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Cases whose trace matched.
    pub matched: usize,
    /// Cases whose trace differs, with the unified diff (stored → new).
    pub mismatched: Vec<(String, String)>,
    /// Cases without a stored snapshot.
    pub pending: Vec<String>,
    /// Snapshot files written by `--update`.
    pub written: Vec<String>,
    /// Snapshot files for no known case.
    pub stale: Vec<PathBuf>,
}

impl Outcome {
    /// Whether `--check` fails.
    pub fn failed(&self) -> bool {
        !self.mismatched.is_empty() || !self.pending.is_empty()
    }
}

/// A unified diff of two trace texts, with file names as headers.
pub fn diff(id: &str, stored: &str, new: &str) -> String {
    similar::TextDiff::from_lines(stored, new)
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("stored {id}.{EXTENSION}"),
            &format!("this run {id}"),
        )
        .to_string()
}

/// Trace files in `dir` whose case id is not in `known`.
fn stale(dir: &Path, known: &BTreeSet<String>) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == EXTENSION))
        .filter(|p| {
            p.file_stem()
                .and_then(|s| s.to_str())
                .is_none_or(|id| !known.contains(id))
        })
        .collect();
    out.sort();
    out
}

/// Compares (or with `update` rewrites) the snapshot of every result. `known` holds every case
/// id loaded (not only the selected ones), for the stale-file report.
pub fn run(
    dir: &Path,
    results: &[CaseResult],
    redaction: &dyn Fn(&CaseResult) -> Redaction,
    secrets: &[String],
    update: bool,
    known: &BTreeSet<String>,
) -> std::io::Result<Outcome> {
    let mut outcome = Outcome::default();
    if update {
        std::fs::create_dir_all(dir)?;
    }
    for r in results
        .iter()
        .filter(|r| r.verdict != crate::runner::Verdict::Skip)
    {
        let new = trace_file(r, &redaction(r), secrets);
        let path = path_for(dir, &r.id);
        let stored = match std::fs::read_to_string(&path) {
            Ok(s) => Some(s),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        match (stored, update) {
            (Some(s), _) if s == new => outcome.matched += 1,
            (_, true) => {
                write_atomic(&path, &new)?;
                outcome.written.push(r.id.clone());
            }
            (Some(s), false) => outcome
                .mismatched
                .push((r.id.clone(), diff(&r.id, &s, &new))),
            (None, false) => outcome.pending.push(r.id.clone()),
        }
    }
    outcome.stale = stale(dir, known);
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_points_at_the_changed_line() {
        let d = diff("x", "a\nb\nc\n", "a\nB\nc\n");
        assert!(d.contains("-b\n"));
        assert!(d.contains("+B\n"));
        assert!(d.contains("stored x.trace"));
    }
}
