//! `wsprobe show CASE`: the YAML source of built-in cases, read from the suites embedded in the
//! binary (an installed wsprobe has no `suites/` directory for a failure's `-->` location to
//! point into). CASE is an id, an Autobahn id or a glob over both; an unknown one is exit 4
//! with the nearest id as a "did you mean".

use super::error::{self, CliError};
use super::exit;
use crate::runner::select::glob_match;
use crate::suite::{self, model::Case};

/// Arguments of `wsprobe show`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  wsprobe show ping.pong-echoes-payload
  wsprobe show 2.3          # by Autobahn id
  wsprobe show 'close.*'    # every case whose id matches")]
pub struct ShowArgs {
    /// A case id, an Autobahn id, or a glob (`*`, `?`) over both.
    case: String,
}

/// `wsprobe show`.
pub fn show(args: ShowArgs) -> Result<u8, CliError> {
    let sources = suite::embedded();
    let suites = suite::load(&sources).map_err(|d| {
        CliError::environment(format!(
            "the built-in suites do not load ({} errors): this binary is broken",
            d.len()
        ))
    })?;
    let cases: Vec<Case> = suites.into_iter().flat_map(|s| s.cases).collect();
    let chosen: Vec<&Case> = cases
        .iter()
        .filter(|c| {
            glob_match(&args.case, &c.id)
                || c.autobahn
                    .as_deref()
                    .is_some_and(|a| glob_match(&args.case, a))
        })
        .collect();
    if chosen.is_empty() {
        let hint = closest(&args.case, &cases)
            .map(|id| format!(" (did you mean '{id}'?)"))
            .unwrap_or_default();
        return Err(CliError::no_cases(format!(
            "no built-in case matches '{}'{hint}; `wsprobe list` shows every case",
            args.case
        )));
    }
    let mut out = String::new();
    for (i, case) in chosen.iter().enumerate() {
        let file = case.location.file.as_path();
        let Some(source) = sources.iter().find(|s| s.path == file) else {
            continue;
        };
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&format!("# {}\n", case.location));
        out.push_str(&case_source(&source.text, case.location.line as usize));
    }
    error::print(&out)?;
    Ok(exit::OK)
}

/// The lines of the list item that starts on 1-based `line`: that line and every following
/// line indented deeper than it (blank lines inside kept, trailing ones dropped).
pub(super) fn case_source(text: &str, line: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let Some(first) = lines.get(line.saturating_sub(1)) else {
        return String::new();
    };
    let indent = |l: &str| l.len() - l.trim_start().len();
    let base = indent(first);
    let mut block = vec![*first];
    for l in lines.iter().skip(line) {
        if l.trim().is_empty() || indent(l) > base {
            block.push(l);
        } else {
            break;
        }
    }
    while block.last().is_some_and(|l| l.trim().is_empty()) {
        block.pop();
    }
    let mut out = block.join("\n");
    out.push('\n');
    out
}

/// The case id or Autobahn id nearest to `text`, if near enough to be a typo.
fn closest<'a>(text: &str, cases: &'a [Case]) -> Option<&'a str> {
    cases
        .iter()
        .flat_map(|c| std::iter::once(c.id.as_str()).chain(c.autobahn.as_deref()))
        .map(|name| (strsim::levenshtein(text, name), name))
        .filter(|(d, name)| *d <= 2.max(name.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_is_its_list_item() {
        let text = "cases:\n  - id: a\n    steps:\n      - send: x\n\n    # note\n  - id: b\n    title: t\n\n";
        assert_eq!(
            case_source(text, 2),
            "  - id: a\n    steps:\n      - send: x\n\n    # note\n"
        );
        assert_eq!(case_source(text, 7), "  - id: b\n    title: t\n");
        assert_eq!(case_source(text, 99), "");
    }
}
