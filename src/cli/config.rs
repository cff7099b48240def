//! The configuration file of `wsprobe run`: `wsprobe.toml` in the working directory, or
//! `--config FILE`. It holds defaults for a project's runs (target, selection, jobs,
//! expectations, reports); every flag given on the command line overrides its key, and a list
//! flag given on the command line replaces the key's whole list. Unknown keys and wrong types
//! are errors pointing at file:line:col. Relative paths in the file are relative to the file's
//! directory. Documented in `docs/configuration.md`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::CliError;
use super::exit;
use crate::suite::Diagnostic;

/// The file looked for in the working directory.
pub const DEFAULT_FILE: &str = "wsprobe.toml";

/// The whole file: one table per command (only `[run]` so far).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    run: RunSection,
}

/// `[run]`: defaults for `wsprobe run`, named like its flags.
#[derive(Debug, Default, Deserialize, Clone, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RunSection {
    /// `--target`.
    pub target: Option<String>,
    /// Suite files or directories (the positional paths).
    pub suites: Option<Vec<PathBuf>>,
    /// `--jobs`.
    pub jobs: Option<usize>,
    /// `--case` globs.
    pub case: Option<Vec<String>>,
    /// `--tag`s.
    pub tag: Option<Vec<String>>,
    /// `--exclude` globs.
    pub exclude: Option<Vec<String>>,
    /// `--expect`.
    pub expect: Option<PathBuf>,
    /// `--fail-on`, as a list of verdicts.
    pub fail_on: Option<Vec<String>>,
    /// `--strict`.
    pub strict: Option<bool>,
    /// `--report KIND=PATH` entries.
    pub report: Option<Vec<String>>,
    /// `--header 'Name: value'` entries.
    pub header: Option<Vec<String>>,
    /// `--extension` elements.
    pub extension: Option<Vec<String>>,
    /// `--timeout-scale`.
    pub timeout_scale: Option<f64>,
    /// `--idle-timeout`, e.g. `"5s"`.
    pub idle_timeout: Option<String>,
    /// `--traces DIR`.
    pub traces: Option<PathBuf>,
    /// `--snapshots DIR`.
    pub snapshots: Option<PathBuf>,
}

/// A loaded configuration file.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its `[run]` table, paths already made relative to the working directory.
    pub run: RunSection,
}

/// Finds and reads the configuration: `explicit` (`--config`) must exist; otherwise
/// `wsprobe.toml` in `cwd` is read when present. `None` with `--no-config` or without a file.
pub fn load(
    explicit: Option<&Path>,
    no_config: bool,
    cwd: &Path,
    color: bool,
) -> Result<Option<Config>, CliError> {
    if no_config {
        return Ok(None);
    }
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let p = cwd.join(DEFAULT_FILE);
            if !p.is_file() {
                return Ok(None);
            }
            PathBuf::from(DEFAULT_FILE)
        }
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        CliError::usage(format!("cannot read configuration {}: {e}", path.display()))
    })?;
    let run = parse(&path, &text).map_err(|d| {
        CliError::verbatim(
            exit::USAGE,
            format!(
                "{}\nwsprobe: error in configuration {}; nothing was run",
                crate::report::render_diagnostic(&d, color),
                path.display()
            ),
        )
    })?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok(Some(Config {
        run: relative_to(run, &base),
        path,
    }))
}

/// Parses the text of a configuration file; an error is a diagnostic at its position.
pub fn parse(path: &Path, text: &str) -> Result<RunSection, Diagnostic> {
    let file: File = toml::from_str(text).map_err(|e| {
        let message = e.message().trim_end().to_string();
        match e.span() {
            Some(span) => at_offset(path, text, span.start, span.end - span.start, message),
            None => Diagnostic::file_error(path, message),
        }
    })?;
    Ok(file.run)
}

/// A diagnostic pointing at byte `offset` of `text`.
fn at_offset(path: &Path, text: &str, offset: usize, len: usize, message: String) -> Diagnostic {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let line = text[..offset].matches('\n').count() + 1;
    let column = text[line_start..offset].chars().count() + 1;
    let source = &text[line_start..line_end];
    Diagnostic {
        message,
        file: path.to_path_buf(),
        line: Some(u32::try_from(line).unwrap_or(u32::MAX)),
        column: Some(u32::try_from(column).unwrap_or(u32::MAX)),
        source_line: Some(source.trim_end_matches('\r').to_string()),
        caret_len: len.clamp(1, source.len().saturating_sub(column - 1).max(1)),
        help: None,
    }
}

/// The section with its relative paths joined to `base` (the file's directory).
fn relative_to(mut run: RunSection, base: &Path) -> RunSection {
    if base.as_os_str().is_empty() {
        return run;
    }
    let join = |p: PathBuf| if p.is_relative() { base.join(p) } else { p };
    run.suites = run.suites.map(|v| v.into_iter().map(join).collect());
    run.expect = run.expect.map(join);
    run.traces = run.traces.map(join);
    run.snapshots = run.snapshots.map(join);
    run.report = run.report.map(|reports| {
        reports
            .into_iter()
            .map(|r| match r.split_once('=') {
                Some((kind, p)) if Path::new(p).is_relative() && !p.is_empty() => {
                    format!("{kind}={}", base.join(p).display())
                }
                _ => r,
            })
            .collect()
    });
    run
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_section_parses() {
        let run = parse(
            Path::new("w.toml"),
            r#"
[run]
target = "ws://127.0.0.1:9001/"
jobs = 4
case = ["ping.*", "close.*"]
exclude = ["close.code-5000"]
expect = "expect.yaml"
fail-on = ["FAIL", "ERROR", "NON-STRICT"]
report = ["junit=out/junit.xml"]
timeout-scale = 2.5
idle-timeout = "5s"
"#,
        )
        .expect("valid");
        assert_eq!(run.target.as_deref(), Some("ws://127.0.0.1:9001/"));
        assert_eq!(run.jobs, Some(4));
        assert_eq!(run.case.as_ref().map(Vec::len), Some(2));
        assert_eq!(run.timeout_scale, Some(2.5));
        let moved = relative_to(run, Path::new("conf"));
        assert_eq!(moved.expect, Some(PathBuf::from("conf/expect.yaml")));
        assert_eq!(
            moved.report,
            Some(vec!["junit=conf/out/junit.xml".to_string()])
        );
    }

    #[test]
    fn unknown_keys_and_wrong_types_point_at_their_place() {
        for (text, line, column, words) in [
            (
                "[run]\ntarget = \"ws://x/\"\ntargte = 1\n",
                3,
                1,
                "unknown field `targte`",
            ),
            ("[run]\njobs = \"four\"\n", 2, 8, "invalid type"),
            ("[rnu]\n", 1, 2, "unknown field `rnu`"),
            ("[run\n", 1, 5, ""),
        ] {
            let d = parse(Path::new("w.toml"), text).expect_err("invalid");
            assert_eq!(
                (d.line, d.column),
                (Some(line), Some(column)),
                "{text:?}: {}",
                d.message
            );
            assert!(d.message.contains(words), "{text:?}: {}", d.message);
        }
    }
}
