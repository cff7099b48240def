//! Trace files and snapshot testing: `wsprobe run --traces DIR` writes one canonical trace per
//! case; `run --snapshots DIR` compares each case's trace with the stored one (a readable unified
//! diff per difference) or, with `--update`, rewrites them; `wsprobe inspect CAPTURE --snapshot
//! FILE` does the same for the connections of a capture. Both go through [`compare_file`],
//! [`diff_labeled`] and [`write_atomic`].

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

/// The canonical trace file of a capture: the header, `# capture NAME` (the file name only, no
/// directory, so the text does not depend on where the capture lies), then every connection.
pub fn capture_trace_file(
    name: &str,
    traces: &[crate::trace::ConnectionTrace],
    redaction: &Redaction,
) -> String {
    format!(
        "{}\n# capture {}\n{}",
        canonical::HEADER,
        crate::trace::preview(name.as_bytes()),
        canonical::render_text(traces, redaction)
    )
}

/// Where a case's trace lives in `dir`.
pub fn path_for(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}.{EXTENSION}"))
}

/// Writes `content` to `path` through a temporary file in the same directory, so a reader
/// never sees half a file.
pub fn write_atomic(path: &Path, content: &str) -> std::io::Result<()> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    let tmp = path.with_file_name(name);
    std::fs::write(&tmp, content)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// What [`compare_file`] found for one snapshot file.
#[derive(Debug, PartialEq, Eq)]
pub enum FileOutcome {
    /// The stored text is the new one.
    Matched,
    /// `update` wrote the new text.
    Written,
    /// The stored text differs (not written); holds the stored text.
    Mismatched(String),
    /// No stored file (not written).
    Pending,
}

/// Compares `new` with the snapshot at `path`, or with `update` writes it there (atomically)
/// when it is missing or differs.
pub fn compare_file(path: &Path, new: &str, update: bool) -> std::io::Result<FileOutcome> {
    let stored = match std::fs::read_to_string(path) {
        Ok(s) => Some(s),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    Ok(match (stored, update) {
        (Some(s), _) if s == new => FileOutcome::Matched,
        (_, true) => {
            write_atomic(path, new)?;
            FileOutcome::Written
        }
        (Some(s), false) => FileOutcome::Mismatched(s),
        (None, false) => FileOutcome::Pending,
    })
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
    diff_labeled(
        &format!("stored {id}.{EXTENSION}"),
        &format!("this run {id}"),
        stored,
        new,
    )
}

/// A unified diff (3 lines of context) of two texts, with `old` and `new` as the headers.
pub fn diff_labeled(old: &str, new_label: &str, stored: &str, new: &str) -> String {
    similar::TextDiff::from_lines(stored, new)
        .unified_diff()
        .context_radius(3)
        .header(old, new_label)
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
        match compare_file(&path_for(dir, &r.id), &new, update)? {
            FileOutcome::Matched => outcome.matched += 1,
            FileOutcome::Written => outcome.written.push(r.id.clone()),
            FileOutcome::Mismatched(s) => outcome
                .mismatched
                .push((r.id.clone(), diff(&r.id, &s, &new))),
            FileOutcome::Pending => outcome.pending.push(r.id.clone()),
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

    #[test]
    fn compare_file_writes_only_on_update() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("cap.trace");
        assert_eq!(
            compare_file(&path, "a\n", false).expect("io"),
            FileOutcome::Pending
        );
        assert!(!path.exists());
        assert_eq!(
            compare_file(&path, "a\n", true).expect("io"),
            FileOutcome::Written
        );
        assert_eq!(
            compare_file(&path, "a\n", false).expect("io"),
            FileOutcome::Matched
        );
        assert_eq!(
            compare_file(&path, "b\n", false).expect("io"),
            FileOutcome::Mismatched("a\n".into())
        );
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(
            names,
            vec![std::ffi::OsString::from("cap.trace")],
            "no temp file left"
        );
    }
}
