//! User-facing errors about suite files, rendered the way rustc renders them: the message, a
//! `--> file:line:col` arrow, the offending line and a caret under the part that is wrong, with
//! an optional hint ("did you mean `send`?") after the caret.

use std::fmt;
use std::path::PathBuf;

/// One problem found in a suite source, with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// What is wrong, lower-case and specific (`unknown key `sned` in step`).
    pub message: String,
    /// The file as given (embedded suites: `suites/NAME.yaml`).
    pub file: PathBuf,
    /// 1-based line, when the problem has a position.
    pub line: Option<u32>,
    /// 1-based column in characters, when the problem has a position.
    pub column: Option<u32>,
    /// The text of `line`, shown under the arrow.
    pub source_line: Option<String>,
    /// How many characters the caret underlines (at least one is drawn).
    pub caret_len: usize,
    /// A hint printed after the caret, e.g. "did you mean `send`?".
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic about a whole file (unreadable, empty): no position.
    pub fn file_error(file: impl Into<PathBuf>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            message: message.into(),
            file: file.into(),
            line: None,
            column: None,
            source_line: None,
            caret_len: 0,
            help: None,
        }
    }

    /// rustc-style rendering without colour, without a trailing newline:
    ///
    /// ```text
    /// error: unknown key `sned` in step
    ///   --> suites/echo.yaml:12:9
    ///    |
    /// 12 |       - sned: { text: hello }
    ///    |         ^^^^ did you mean `send`?
    /// ```
    pub fn render(&self) -> String {
        let mut out = format!("error: {}\n", self.message);
        let Some(line) = self.line else {
            out.push_str(&format!("  --> {}", self.file.display()));
            if let Some(help) = &self.help {
                out.push_str(&format!("\n  = help: {help}"));
            }
            return out;
        };
        let width = line.to_string().len();
        let pad = " ".repeat(width);
        out.push_str(&format!("{pad}--> {}:{line}", self.file.display()));
        if let Some(column) = self.column {
            out.push_str(&format!(":{column}"));
        }
        match (&self.source_line, self.column) {
            (Some(source), Some(column)) => {
                out.push_str(&format!("\n{pad} |\n{line} | {source}\n{pad} | "));
                // Keep tabs so the caret lines up under tab-indented text in a terminal.
                let indent: String = source
                    .chars()
                    .take(column.saturating_sub(1) as usize)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                out.push_str(&indent);
                out.push_str(&"^".repeat(self.caret_len.max(1)));
                if let Some(help) = &self.help {
                    out.push(' ');
                    out.push_str(help);
                }
            }
            _ => {
                if let Some(help) = &self.help {
                    out.push_str(&format!("\n{pad} = help: {help}"));
                }
            }
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let word_lc = word.to_ascii_lowercase();
    let mut best: Option<(&str, usize, f64)> = None;
    for candidate in candidates {
        let lc = candidate.to_ascii_lowercase();
        let distance = strsim::levenshtein(&word_lc, &lc);
        let similarity = strsim::jaro_winkler(&word_lc, &lc);
        let better = match best {
            None => true,
            Some((_, d, s)) => distance < d || (distance == d && similarity > s),
        };
        if better {
            best = Some((candidate, distance, similarity));
        }
    }
    let (candidate, distance, similarity) = best?;
    // A distance of 2 turns `ab` into anything; demand that part of the word survives.
    let close_edit = distance <= 2 && distance < word.chars().count();
    (close_edit || similarity >= 0.88).then_some(candidate)
}

/// `did you mean `x`?` for the closest candidate, if any.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn positioned(line: u32, column: u32, source: &str, len: usize) -> Diagnostic {
        Diagnostic {
            message: "unknown key `sned` in step".into(),
            file: "suites/echo.yaml".into(),
            line: Some(line),
            column: Some(column),
            source_line: Some(source.into()),
            caret_len: len,
            help: Some("did you mean `send`?".into()),
        }
    }

    #[test]
    fn renders_like_rustc() {
        let d = positioned(12, 9, "      - sned: { text: hello }", 4);
        assert_eq!(
            d.render(),
            "error: unknown key `sned` in step\n  --> suites/echo.yaml:12:9\n   |\n12 |       - sned: { text: hello }\n   |         ^^^^ did you mean `send`?"
        );
    }

    #[test]
    fn gutter_adapts_and_help_is_optional() {
        let mut d = positioned(7, 1, "sned: 1", 4);
        d.help = None;
        assert_eq!(
            d.render(),
            "error: unknown key `sned` in step\n --> suites/echo.yaml:7:1\n  |\n7 | sned: 1\n  | ^^^^"
        );
        let d = positioned(1234, 3, "  x", 0);
        assert!(
            d.render().ends_with("\n     |   ^ did you mean `send`?"),
            "{}",
            d.render()
        );
    }

    #[test]
    fn renders_without_position() {
        let d = Diagnostic::file_error("missing.yaml", "cannot read file: not found");
        assert_eq!(
            d.render(),
            "error: cannot read file: not found\n  --> missing.yaml"
        );
    }

    #[test]
    fn suggests_near_words_only() {
        let keys = [
            "connect", "send", "expect", "close", "wait", "mark", "repeat",
        ];
        assert_eq!(closest("sned", keys), Some("send"));
        assert_eq!(closest("expct", keys), Some("expect"));
        assert_eq!(closest("Connect", keys), Some("connect"));
        assert_eq!(closest("banana", keys), None);
        assert_eq!(closest("x", ["a"]), None);
    }
}
