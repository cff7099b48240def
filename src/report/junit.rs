//! The JUnit XML report, in the dialect CI systems read (Jenkins, GitLab, GitHub actions that
//! parse surefire/nextest output): a `<testsuites>` root with totals, one `<testsuite>` per
//! suite id, one `<testcase>` per case. FAIL is a `<failure>` whose body is the uncolored
//! terminal failure block, ERROR an `<error>`, SKIP `<skipped>`. NON-STRICT passes with a
//! `verdict` property, or is a `<failure>` under `--strict`; INFORMATIONAL and UNIMPLEMENTED
//! pass with a `verdict` property (NON-STRICT and UNIMPLEMENTED also carry their brief
//! failure block in `<system-out>`). Written by hand: the format is small, and escaping is the
//! only subtle part (characters XML 1.0 forbids are replaced, not escaped).

use std::fmt::Write as _;
use std::time::Duration;

use super::RunReport;
use super::terminal::failure_block;
use super::text::{Counts, Scrub};
use crate::runner::result::{CaseResult, Verdict};

/// Renders the whole JUnit document.
pub fn render(report: &RunReport) -> String {
    let scrub = Scrub::new(&report.secrets);
    let strict = report.strict;
    let total = Totals::of(report.results.iter(), strict);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"wsprobe\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">",
        total.tests,
        total.failures,
        total.errors,
        total.skipped,
        secs(report.duration)
    );
    for (suite, cases) in super::by_suite(report.results) {
        let t = Totals::of(cases.iter().copied(), strict);
        let time: Duration = cases.iter().map(|c| c.duration).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">",
            attr(&scrub.clean(suite)),
            t.tests,
            t.failures,
            t.errors,
            t.skipped,
            secs(time)
        );
        let _ = writeln!(
            out,
            "    <properties>\n      <property name=\"target\" value=\"{}\"/>\n    </properties>",
            attr(&scrub.clean(&report.target))
        );
        for r in cases {
            testcase(&mut out, r, &scrub, strict);
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn testcase(out: &mut String, r: &CaseResult, scrub: &Scrub, strict: bool) {
    let _ = write!(
        out,
        "    <testcase name=\"{}\" classname=\"{}\" time=\"{}\" file=\"{}\" line=\"{}\"",
        attr(&scrub.clean(&r.id)),
        attr(&scrub.clean(&r.suite)),
        secs(r.duration),
        attr(&scrub.clean(&r.location.file.display().to_string())),
        r.location.line
    );
    let property = matches!(
        r.verdict,
        Verdict::NonStrict | Verdict::Informational | Verdict::Unimplemented
    );
    let summary = r
        .failure
        .as_ref()
        .map(|f| scrub.clean(&f.summary))
        .unwrap_or_default();
    let element = match r.verdict {
        Verdict::Fail => Some("failure"),
        Verdict::NonStrict if strict => Some("failure"),
        Verdict::Error => Some("error"),
        _ => None,
    };
    if !property && element.is_none() && r.verdict != Verdict::Skip {
        out.push_str("/>\n");
        return;
    }
    out.push_str(">\n");
    if property {
        let _ = writeln!(
            out,
            "      <properties>\n        <property name=\"verdict\" value=\"{}\"/>\n      </properties>",
            r.verdict.name()
        );
    }
    if let Some(element) = element {
        let body = failure_block(r, scrub, strict, false);
        let _ = writeln!(
            out,
            "      <{element} message=\"{}\" type=\"{}\">{}</{element}>",
            attr(&summary),
            r.verdict.name(),
            text(&body)
        );
    }
    // A passing NON-STRICT or UNIMPLEMENTED case still says why, for CI viewers.
    if element.is_none() && matches!(r.verdict, Verdict::NonStrict | Verdict::Unimplemented) {
        let body = failure_block(r, scrub, strict, false);
        let _ = writeln!(out, "      <system-out>{}</system-out>", text(&body));
    }
    if r.verdict == Verdict::Skip {
        let _ = writeln!(out, "      <skipped message=\"{}\"/>", attr(&summary));
    }
    out.push_str("    </testcase>\n");
}

/// The counts a `<testsuites>` or `<testsuite>` element carries.
#[derive(Debug, Default, PartialEq, Eq)]
struct Totals {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

impl Totals {
    fn of<'a>(results: impl Iterator<Item = &'a CaseResult>, strict: bool) -> Totals {
        let c = Counts::of(results);
        Totals {
            tests: c.total,
            failures: c.failed + if strict { c.non_strict } else { 0 },
            errors: c.errors,
            skipped: c.skipped,
        }
    }
}

/// Seconds with millisecond precision, as JUnit readers expect.
fn secs(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

/// Escapes character data.
fn text(s: &str) -> String {
    escape(s, false)
}

/// Escapes an attribute value; whitespace other than space is kept as character references so
/// attribute-value normalization does not turn it into spaces.
fn attr(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\t' | '\n' => out.push(c),
            // XML 1.0 §2.2 Char: no other C0 control, no U+FFFE/U+FFFF, even as references.
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_xml_well_formed() {
        assert_eq!(text("a<b>&c\n"), "a&lt;b&gt;&amp;c\n");
        assert_eq!(attr("\"x\"\n\t"), "&quot;x&quot;&#10;&#9;");
        assert_eq!(text("\u{1}\u{1b}\u{ffff}"), "\u{fffd}\u{fffd}\u{fffd}");
    }
}
