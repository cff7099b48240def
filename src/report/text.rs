//! Text hygiene shared by every report: secrets redacted, control characters that came from
//! the server or a suite neutralised, our own styling (through the `colored` crate) added only
//! when asked, and the duration and count formats. Rendering never changes a global switch
//! (`cli` turns `colored`'s on once, before anything renders), so it is thread-safe, and
//! `color = false` output holds no escape byte at all.

use std::time::Duration;

use crate::runner::result::{CaseResult, Verdict};
use crate::trace::{PREVIEW_BYTES, preview};

/// What a secret is replaced with.
pub(crate) const REDACTED: &str = "[redacted]";

/// Secrets shorter than this are not redacted: replacing every `1` or `on` in a report because
/// `--header 'X-Version: 1'` was given would destroy the report and protect nothing.
pub(crate) const MIN_SECRET_LEN: usize = 4;

/// How `trace::preview` marks a payload it cut at [`PREVIEW_BYTES`].
const CUT_MARK: &str = "…(";

/// Redacts secrets and neutralises control characters in every value a report prints.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scrub {
    /// Each secret as it may appear: raw, escaped by `trace::preview`, escaped by
    /// [`escape_controls`]; longest first so a longer form is replaced before its parts.
    variants: Vec<String>,
}

impl Scrub {
    /// A scrubber for these secrets.
    pub(crate) fn new(secrets: &[String]) -> Scrub {
        let mut variants = Vec::new();
        for s in secrets.iter().filter(|s| s.len() >= MIN_SECRET_LEN) {
            variants.push(s.clone());
            variants.push(escape_controls(s));
            // A longer secret never appears whole in a preview: see the cut rule in `redact`.
            if s.len() <= PREVIEW_BYTES {
                variants.push(preview(s.as_bytes()));
            }
        }
        variants.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        variants.dedup();
        Scrub { variants }
    }

    /// A value made safe to print: control characters escaped, then secrets redacted.
    pub(crate) fn clean(&self, s: &str) -> String {
        self.redact(&escape_controls(s))
    }

    /// Like [`Scrub::clean`], but keeps tabs (source lines of a diagnostic are aligned with
    /// them).
    pub(crate) fn clean_keep_tabs(&self, s: &str) -> String {
        self.redact(&escape(s, true))
    }

    /// Secrets redacted, nothing escaped: for text that is already in its final form (a
    /// canonical trace file).
    pub(crate) fn redact_only(&self, s: &str) -> String {
        self.redact(s)
    }

    fn redact(&self, s: &str) -> String {
        if self.variants.is_empty() {
            return s.to_string();
        }
        let mut out = s.to_string();
        for v in &self.variants {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), REDACTED);
            }
        }
        // A payload preview is cut at PREVIEW_BYTES; a secret straddling the cut shows as its
        // prefix right before the cut mark.
        let mut result = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(i) = rest.find(CUT_MARK) {
            let head = &rest[..i];
            let cut = self
                .variants
                .iter()
                .filter_map(|v| cut_prefix_len(head, v))
                .max()
                .unwrap_or(0);
            result.push_str(&head[..head.len() - cut]);
            if cut > 0 {
                result.push_str(REDACTED);
            }
            result.push_str(CUT_MARK);
            rest = &rest[i + CUT_MARK.len()..];
        }
        result.push_str(rest);
        result
    }
}

/// Length of the longest proper prefix of `secret` (at least [`MIN_SECRET_LEN`] bytes) that
/// `head` ends with.
fn cut_prefix_len(head: &str, secret: &str) -> Option<usize> {
    (MIN_SECRET_LEN..secret.len())
        .rev()
        .filter(|&k| secret.is_char_boundary(k))
        .find(|&k| head.ends_with(&secret[..k]))
}

/// Escapes C0 and C1 control characters, DEL and the Unicode bidirectional overrides, so text
/// from the server can neither move the cursor, recolor the terminal nor reorder what is shown.
/// Backslashes are left alone: payload previews are already escaped and must not be escaped
/// twice.
pub(crate) fn escape_controls(s: &str) -> String {
    escape(s, false)
}

fn escape(s: &str, keep_tabs: bool) -> String {
    if !s.chars().any(needs_escape) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\t' if keep_tabs => out.push('\t'),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Multi-line text made safe for a terminal: every line escaped like [`escape_controls`]
/// (tabs kept), the line breaks kept.
pub(crate) fn escape_lines(s: &str) -> String {
    if !s.chars().any(|c| c != '\n' && c != '\t' && needs_escape(c)) {
        return s.to_string();
    }
    s.split('\n')
        .map(|line| escape(line, true))
        .collect::<Vec<_>>()
        .join("\n")
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Our own terminal styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Green,
    Yellow,
    Blue,
    Cyan,
    Magenta,
    RedBold,
    BlueBold,
    Bold,
    Dimmed,
}

/// `text` in `style` when `enabled`, unchanged otherwise.
///
/// The escape codes come from the `colored` crate. `colored` also has a process-wide switch
/// (`colored::control`), which `cli` turns on once at start; `enabled` is the per-stream
/// decision (`--color`, NO_COLOR, terminal or not), so `enabled = false` output holds no escape
/// byte whatever the switch says.
pub(crate) fn paint(text: &str, style: Style, enabled: bool) -> String {
    use colored::Colorize;
    if !enabled || text.is_empty() {
        return text.to_string();
    }
    let styled = match style {
        Style::Green => text.green(),
        Style::Yellow => text.yellow(),
        Style::Blue => text.blue(),
        Style::Cyan => text.cyan(),
        Style::Magenta => text.magenta(),
        Style::RedBold => text.red().bold(),
        Style::BlueBold => text.blue().bold(),
        Style::Bold => text.bold(),
        Style::Dimmed => text.dimmed(),
    };
    styled.to_string()
}

/// The color of a verdict.
pub(crate) fn verdict_style(v: Verdict) -> Style {
    match v {
        Verdict::Pass => Style::Green,
        Verdict::NonStrict => Style::Yellow,
        Verdict::Informational => Style::Blue,
        Verdict::Unimplemented => Style::Cyan,
        Verdict::Fail => Style::RedBold,
        Verdict::Error => Style::Magenta,
        Verdict::Skip => Style::Dimmed,
    }
}

/// A case duration: `4ms` below a second, `2.50s` from there.
pub(crate) fn fmt_duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.2}s", d.as_secs_f64())
    }
}

/// A round-trip time: `850µs`, `1.25ms`, `2.00s`.
pub(crate) fn fmt_rtt(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{}µs", d.as_micros())
    } else if d < Duration::from_secs(1) {
        format!("{:.2}ms", d.as_secs_f64() * 1000.0)
    } else {
        format!("{:.2}s", d.as_secs_f64())
    }
}

/// Throughput in decimal megabytes per second, `None` when no time passed.
pub(crate) fn mb_per_s(bytes: u64, d: Duration) -> Option<f64> {
    let secs = d.as_secs_f64();
    (secs > 0.0).then(|| bytes as f64 / secs / 1e6)
}

/// Number of characters, the width used to align columns.
pub(crate) fn width(s: &str) -> usize {
    s.chars().count()
}

/// `s` followed by spaces up to `w` characters.
pub(crate) fn pad(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(width(s))))
}

/// How many cases got each verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) total: usize,
    pub(crate) passed: usize,
    pub(crate) non_strict: usize,
    pub(crate) informational: usize,
    pub(crate) unimplemented: usize,
    pub(crate) failed: usize,
    pub(crate) errors: usize,
    pub(crate) skipped: usize,
}

impl Counts {
    /// Counts the verdicts of `results`.
    pub(crate) fn of<'a>(results: impl IntoIterator<Item = &'a CaseResult>) -> Counts {
        let mut c = Counts::default();
        for r in results {
            c.total += 1;
            match r.verdict {
                Verdict::Pass => c.passed += 1,
                Verdict::NonStrict => c.non_strict += 1,
                Verdict::Informational => c.informational += 1,
                Verdict::Unimplemented => c.unimplemented += 1,
                Verdict::Fail => c.failed += 1,
                Verdict::Error => c.errors += 1,
                Verdict::Skip => c.skipped += 1,
            }
        }
        c
    }
}

/// `1 case` / `2 cases`.
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_ansi_and_bidi_but_not_backslashes() {
        assert_eq!(escape_controls("a\x1b[31mb"), "a\\u{1b}[31mb");
        assert_eq!(escape_controls("x\u{9b}y\u{202e}z"), "x\\u{9b}y\\u{202e}z");
        assert_eq!(escape_controls("a\\nb\n"), "a\\nb\\n");
        assert_eq!(escape(" \tx", true), " \tx");
    }

    #[test]
    fn escape_lines_keeps_line_breaks_only() {
        assert_eq!(escape_lines("a\n\tb\n"), "a\n\tb\n");
        assert_eq!(
            escape_lines("x\u{9b}2J\ny\x1b]0;t\x07\r\n"),
            "x\\u{9b}2J\ny\\u{1b}]0;t\\u{7}\\r\n"
        );
    }

    #[test]
    fn redacts_whole_escaped_and_cut_secrets() {
        let secret = "Bearer s3cr3t-token-\"quoted\"".to_string();
        let s = Scrub::new(std::slice::from_ref(&secret));
        assert_eq!(s.clean(&format!("a {secret} b")), "a [redacted] b");
        let shown = preview(secret.as_bytes());
        assert_eq!(s.clean(&format!("\"{shown}\"")), "\"[redacted]\"");
        let long = format!("{}{secret}", "x".repeat(50));
        let cut = preview(long.as_bytes());
        let cleaned = s.clean(&cut);
        assert!(!cleaned.contains("Bearer s3"), "{cleaned}");
        assert!(cleaned.contains("[redacted]…("), "{cleaned}");
    }

    #[test]
    fn short_secrets_are_not_redacted() {
        let s = Scrub::new(&["1".to_string(), String::new()]);
        assert_eq!(s.clean("RFC 6455 §5.1"), "RFC 6455 §5.1");
    }

    #[test]
    fn formats() {
        assert_eq!(fmt_duration(Duration::from_millis(4)), "4ms");
        assert_eq!(fmt_duration(Duration::from_millis(2500)), "2.50s");
        assert_eq!(fmt_rtt(Duration::from_micros(850)), "850µs");
        assert_eq!(fmt_rtt(Duration::from_micros(1250)), "1.25ms");
        colored::control::set_override(true);
        assert_eq!(paint("x", Style::Green, false), "x");
        assert_eq!(paint("x", Style::Green, true), "\x1b[32mx\x1b[0m");
    }
}
