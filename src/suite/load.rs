//! Loading: YAML text → checked, expanded [`Suite`]s, or every diagnostic found.
//!
//! Each source is parsed with serde_yaml (syntax errors carry a position), indexed for
//! positions, then read part by part (top-level keys, `defaults`, each case, each step) so one
//! error does not hide the next. Case and suite ids are then checked across all sources.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_yaml::Value;

use super::Source;
use super::context::Context;
use super::convert::{SuiteContext, convert_case, convert_defaults, has_typo_of, value_kind};
use super::diagnostic::Diagnostic;
use super::expand::expand;
use super::model::Suite;
use super::position::{Anchor, PositionIndex, Span, YamlPath, excessive_nesting};
use super::raw::RawSuite;
use super::validate::check_id;

/// An id and where it is written, for the checks across files.
struct IdSite {
    id: String,
    /// A diagnostic skeleton pointing at the id (message filled in when it is a duplicate).
    at: Diagnostic,
    /// The template row the case came from.
    row: Option<usize>,
    /// The unexpanded template id, for cases from a template.
    template_id: Option<String>,
}

/// What one source yields.
struct Loaded {
    suite: Option<Suite>,
    suite_id: Option<IdSite>,
    case_ids: Vec<IdSite>,
    diagnostics: Vec<Diagnostic>,
}

/// Loads and validates every source: all suites, or all diagnostics (every file fully checked,
/// sorted by file then position).
pub(crate) fn load_sources(sources: &[Source]) -> Result<Vec<Suite>, Vec<Diagnostic>> {
    let mut loaded: Vec<Loaded> = sources.iter().map(load_one).collect();
    check_duplicates(&mut loaded, |l| l.suite_id.iter_mut().collect(), "suite");
    check_duplicates(&mut loaded, |l| l.case_ids.iter_mut().collect(), "case");
    let mut diagnostics = Vec::new();
    let mut suites = Vec::new();
    for mut l in loaded {
        // Stable: diagnostics on one spot keep the order they were found in.
        l.diagnostics
            .sort_by_key(|d| (d.line.unwrap_or(0), d.column.unwrap_or(0)));
        diagnostics.extend(l.diagnostics);
        suites.extend(l.suite);
    }
    if diagnostics.is_empty() {
        Ok(suites)
    } else {
        Err(diagnostics)
    }
}

/// Reports every id seen before, at the later one.
fn check_duplicates(
    loaded: &mut [Loaded],
    sites: impl Fn(&mut Loaded) -> Vec<&mut IdSite>,
    what: &str,
) {
    let mut first: HashMap<String, (Diagnostic, Option<usize>)> = HashMap::new();
    let mut found = Vec::new();
    for (file_index, l) in loaded.iter_mut().enumerate() {
        for site in sites(l) {
            match first.get(&site.id) {
                None => {
                    first.insert(site.id.clone(), (site.at.clone(), site.row));
                }
                Some((earlier, earlier_row)) => {
                    let mut d = site.at.clone();
                    let same_spot = earlier.file == d.file
                        && earlier.line == d.line
                        && earlier.column == d.column;
                    match (same_spot, earlier_row, site.row, &site.template_id) {
                        (true, Some(r1), Some(r2), Some(template)) => {
                            d.message = format!(
                                "template id `{template}` gives the same id `{}` to params rows {r1} and {r2}",
                                site.id
                            );
                            d.help = Some("use a parameter that differs between rows".into());
                        }
                        _ => {
                            d.message = format!("duplicate {what} id `{}`", site.id);
                            d.help = Some(format!(
                                "first defined at {}:{}:{}",
                                earlier.file.display(),
                                earlier.line.unwrap_or(1),
                                earlier.column.unwrap_or(1)
                            ));
                        }
                    }
                    found.push((file_index, d));
                }
            }
        }
    }
    for (file_index, d) in found {
        loaded[file_index].diagnostics.push(d);
    }
}

fn load_one(source: &Source) -> Loaded {
    let file = Arc::new(source.path.clone());
    let mut out = Loaded {
        suite: None,
        suite_id: None,
        case_ids: Vec::new(),
        diagnostics: Vec::new(),
    };
    if let Some(span) = excessive_nesting(&source.text) {
        let index = PositionIndex::default();
        let cx = Context::new(file.clone(), &source.text, &index);
        out.diagnostics.push(cx.diagnostic_at(
            Some(span),
            "yaml nesting is too deep for a suite file",
            None,
        ));
        return out;
    }
    let root: Value = match serde_yaml::from_str(&source.text) {
        Ok(v) => v,
        Err(err) => {
            out.diagnostics = yaml_error(&file, &source.text, &err);
            return out;
        }
    };
    let index = PositionIndex::build(&source.text);
    let mut cx = Context::new(file.clone(), &source.text, &index);
    let top = YamlPath::root();
    let map = match &root {
        Value::Mapping(map) => map,
        Value::Null => {
            out.diagnostics
                .push(Diagnostic::file_error(file.as_ref(), "suite file is empty"));
            return out;
        }
        other => {
            cx.error(
                &top,
                Anchor::Value,
                format!(
                    "a suite file is a mapping with `suite`, `title` and `cases`, not a {}",
                    value_kind(other)
                ),
            );
            out.diagnostics = cx.finish();
            return out;
        }
    };
    const SUITE_KEYS: [&str; 8] = [
        "version",
        "suite",
        "title",
        "spec",
        "description",
        "tags",
        "defaults",
        "cases",
    ];
    for (key, message) in [
        ("suite", "suite has no id (`suite:`)"),
        ("title", "suite has no `title`"),
        ("cases", "suite has no `cases`"),
    ] {
        if map.get(key).is_none_or(Value::is_null) && !has_typo_of(map, key, &SUITE_KEYS) {
            cx.error_help(
                &top,
                Anchor::Value,
                message,
                Some("a suite needs `suite`, `title` and `cases`".into()),
            );
        }
    }
    // `defaults` and `cases` are read from `root` below; the suite-level keys are checked
    // from a copy without them, so a large suite is not held twice.
    let head = Value::Mapping(
        map.iter()
            .map(|(k, v)| match k.as_str() {
                Some("defaults" | "cases") => (k.clone(), Value::Null),
                _ => (k.clone(), v.clone()),
            })
            .collect(),
    );
    let raw = cx.deserialize::<RawSuite>(&top, head).unwrap_or_default();
    if let Some(version) = &raw.version
        && version.as_u64() != Some(1)
    {
        cx.error(
            &top.key("version"),
            Anchor::Value,
            "unsupported suite format version; this wsprobe reads version 1",
        );
    }
    if let Some(id) = &raw.suite {
        let id_path = top.key("suite");
        if cx.check(&id_path, check_id("suite", id)).is_some() {
            out.suite_id = Some(IdSite {
                id: id.clone(),
                at: cx.diagnostic_at(cx.span(&id_path, Anchor::Value), "", None),
                row: None,
                template_id: None,
            });
        }
    }
    let defaults = match map.get("defaults") {
        Some(v) if !v.is_null() => convert_defaults(&mut cx, &top.key("defaults"), v),
        _ => Default::default(),
    };
    let suite_cx = SuiteContext {
        id: raw.suite.clone().unwrap_or_default(),
        tags: raw.tags.clone().unwrap_or_default(),
        defaults,
    };
    let cases_path = top.key("cases");
    let mut cases = Vec::new();
    match map.get("cases") {
        None | Some(Value::Null) => {}
        Some(Value::Sequence(items)) if items.is_empty() => {
            cx.error(&cases_path, Anchor::Key, "suite has no cases");
        }
        Some(Value::Sequence(items)) => {
            for (i, item) in items.iter().enumerate() {
                let case_path = cases_path.index(i);
                let template_id = item
                    .get("params")
                    .and(item.get("id"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let start = cx.error_count();
                for expansion in expand(&mut cx, &case_path, item.clone()) {
                    cx.set_template(expansion.row, expansion.origins);
                    if let Some(case) =
                        convert_case(&mut cx, &case_path, expansion.value, &suite_cx)
                    {
                        let id_span: Option<Span> = cx.span(&case_path.key("id"), Anchor::Value);
                        out.case_ids.push(IdSite {
                            id: case.id.clone(),
                            at: cx.diagnostic_at(id_span, "", None),
                            row: expansion.row,
                            template_id: template_id.clone(),
                        });
                        cases.push(case);
                    }
                }
                cx.merge_template_rows(start);
                cx.set_template(None, Vec::new());
            }
        }
        Some(other) => cx.error(
            &cases_path,
            Anchor::Value,
            format!("`cases` is a list of cases, not a {}", value_kind(other)),
        ),
    }
    out.diagnostics = cx.finish();
    if let (Some(id), Some(title)) = (raw.suite, raw.title) {
        out.suite = Some(Suite {
            id,
            title,
            spec: raw.spec,
            file,
            cases,
        });
    }
    out
}

/// Removes libyaml's ` at line N column M` and ` at position N` from a message: the position
/// is shown by the arrow.
fn strip_marks(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find(" at ") {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 4..];
        let skip = ["line ", "position "].iter().find_map(|word| {
            let after = tail.strip_prefix(word)?;
            let digits = after.chars().take_while(char::is_ascii_digit).count();
            if digits == 0 {
                return None;
            }
            let after = &after[digits..];
            let column = after.strip_prefix(" column ").map_or(0, |c| {
                let d = c.chars().take_while(char::is_ascii_digit).count();
                if d > 0 { " column ".len() + d } else { 0 }
            });
            Some(word.len() + digits + column)
        });
        match skip {
            Some(n) => rest = &tail[n..],
            None => {
                out.push_str(" at ");
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Diagnostics for a document serde_yaml could not read.
fn yaml_error(file: &Arc<PathBuf>, text: &str, err: &serde_yaml::Error) -> Vec<Diagnostic> {
    let message = err.to_string();
    // The index places errors serde_yaml reports without a position; the others skip it.
    let needs_index = [
        "duplicate entry",
        "repetition limit",
        "more than one document",
    ]
    .iter()
    .any(|m| message.contains(m));
    let index = if needs_index {
        PositionIndex::build(text)
    } else {
        PositionIndex::default()
    };
    let cx = Context::new(file.clone(), text, &index);
    if message.contains("duplicate entry") && !index.duplicates.is_empty() {
        return index
            .duplicates
            .iter()
            .map(|dup| {
                cx.diagnostic_at(
                    Some(dup.second),
                    format!("duplicate key `{}`", dup.key),
                    Some(format!("first written at line {}", dup.first.line)),
                )
            })
            .collect();
    }
    let (text, span) = if message.contains("repetition limit exceeded") {
        (
            "yaml aliases expand to too large a document (repetition limit exceeded)".to_string(),
            index.first_alias,
        )
    } else if message.contains("more than one document") {
        (
            "a suite file holds one yaml document; this is a second one".to_string(),
            index.second_document,
        )
    } else if message.contains("recursion limit exceeded") {
        (
            "yaml nesting is too deep (recursion limit exceeded)".to_string(),
            location_span(err),
        )
    } else {
        // libyaml: "PROBLEM at line L column C, while parsing CONTEXT at line L column C".
        let (problem, context) = match message.split_once(", while ") {
            Some((problem, context)) => (problem, Some(context)),
            None => (message.as_str(), None),
        };
        let help =
            context.map(|c| format!("while {}", c.replace(" at line ", " that starts at line ")));
        let text = format!("invalid yaml: {}", strip_marks(problem));
        return vec![cx.diagnostic_at(location_span(err), text, help)];
    };
    vec![cx.diagnostic_at(span, text, None)]
}

fn location_span(err: &serde_yaml::Error) -> Option<Span> {
    err.location().map(|l| Span {
        line: l.line() as u32,
        column: l.column() as u32,
        len: 1,
    })
}

/// Reads files and directories (recursively, `*.yaml` and `*.yml`, sorted) into sources.
pub(crate) fn read_paths(paths: &[PathBuf]) -> Result<Vec<Source>, Vec<Diagnostic>> {
    let mut sources = Vec::new();
    let mut diagnostics = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut files = Vec::new();
            collect_dir(path, 0, &mut files, &mut diagnostics);
            if files.is_empty() {
                diagnostics.push(Diagnostic::file_error(
                    path,
                    "directory holds no suite files (*.yaml, *.yml)",
                ));
            }
            files.sort();
            for file in files {
                read_one(&file, &mut sources, &mut diagnostics);
            }
        } else {
            read_one(path, &mut sources, &mut diagnostics);
        }
    }
    if diagnostics.is_empty() {
        Ok(sources)
    } else {
        Err(diagnostics)
    }
}

/// Directories nested deeper are not followed (a symlink loop would never end).
const MAX_DIR_DEPTH: usize = 32;

fn collect_dir(
    dir: &Path,
    depth: usize,
    files: &mut Vec<PathBuf>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    if depth > MAX_DIR_DEPTH {
        diagnostics.push(Diagnostic::file_error(
            dir,
            format!("directories nested more than {MAX_DIR_DEPTH} deep (a symlink loop?)"),
        ));
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            diagnostics.push(Diagnostic::file_error(
                dir,
                format!("cannot read directory: {}", io_message(&e)),
            ));
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_dir(&path, depth + 1, files, diagnostics);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            files.push(path);
        }
    }
}

/// Largest suite file read. The largest shipped suite is a few KiB; the bound keeps a huge or
/// endless file from exhausting memory.
const MAX_SUITE_BYTES: u64 = 16 * 1024 * 1024;

/// Reads a suite file: a regular file (a FIFO would block forever, a device like /dev/zero
/// would never end) of at most [`MAX_SUITE_BYTES`].
fn read_bounded(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let meta = std::fs::metadata(path)
        .map_err(|e| format!("cannot read suite file: {}", io_message(&e)))?;
    if meta.is_dir() {
        return Err("cannot read suite file: it is a directory".into());
    }
    if !meta.is_file() {
        return Err("cannot read suite file: not a regular file (a device, fifo or socket)".into());
    }
    let too_large = || format!("suite file is larger than {} MiB", MAX_SUITE_BYTES >> 20);
    if meta.len() > MAX_SUITE_BYTES {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_SUITE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read suite file: {}", io_message(&e)))?;
    // The file may have grown since it was looked at.
    if bytes.len() as u64 > MAX_SUITE_BYTES {
        return Err(too_large());
    }
    Ok(bytes)
}

fn read_one(path: &Path, sources: &mut Vec<Source>, diagnostics: &mut Vec<Diagnostic>) {
    match read_bounded(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => sources.push(Source {
                path: path.to_path_buf(),
                text,
            }),
            Err(_) => diagnostics.push(Diagnostic::file_error(
                path,
                "suite file is not valid UTF-8",
            )),
        },
        Err(message) => diagnostics.push(Diagnostic::file_error(path, message)),
    }
}

/// An I/O error in the lower-case style of every other message.
fn io_message(e: &std::io::Error) -> String {
    let text = match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_libyaml_positions() {
        assert_eq!(
            strip_marks(
                "did not find expected ',' or ']' at line 2 column 2, while parsing a flow sequence at line 1 column 4"
            ),
            "did not find expected ',' or ']', while parsing a flow sequence"
        );
        assert_eq!(strip_marks("bad at position 12"), "bad");
        assert_eq!(strip_marks("look at this"), "look at this");
    }
}
