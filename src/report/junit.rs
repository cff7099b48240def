//! The JUnit XML report, written with `quick-junit` in the dialect Jenkins' JUnit schema
//! (`junit-10.xsd` of the xUnit plugin, the Surefire format) accepts: a `<testsuites>` root with
//! totals, one `<testsuite>` per suite id with a `target` property, one `<testcase>` per case.
//! FAIL is a `<failure>` whose body is the uncolored terminal failure block, ERROR an
//! `<error>`, SKIP `<skipped>`. NON-STRICT passes, or is a `<failure>` under `--strict`;
//! INFORMATIONAL and UNIMPLEMENTED pass. A passing case that is not a plain PASS says its
//! verdict (and, except INFORMATIONAL, its brief failure block) in `<system-out>`: the schema
//! allows no properties on a test case.

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::RunReport;
use super::terminal::failure_block;
use super::text::Scrub;
use crate::runner::result::{CaseResult, FailOn, Verdict};

/// Failure bodies are not wrapped: CI viewers wrap themselves.
const BODY_WIDTH: usize = usize::MAX / 2;

/// Renders the whole JUnit document.
pub fn render(report: &RunReport) -> String {
    let scrub = Scrub::new(&report.secrets);
    let fail_on = report.fail_on;
    let mut root = Report::new("wsprobe");
    root.set_time(report.duration);
    for (suite, cases) in super::by_suite(report.results) {
        let mut ts = TestSuite::new(xml_safe(&scrub.clean(suite)));
        ts.add_property(Property::new(
            "target",
            xml_safe(&scrub.clean(&report.target)),
        ));
        ts.set_time(cases.iter().map(|c| c.duration).sum());
        for r in &cases {
            ts.add_test_case(testcase(r, &scrub, fail_on));
        }
        root.add_test_suite(ts);
    }
    // Serializing plain strings into an in-memory buffer has no failure path but a bug in the
    // writer; an empty report is then better than a panic in the middle of a run.
    let xml = root.to_string().unwrap_or_default();
    drop_root_skipped(&xml)
}

fn testcase(r: &CaseResult, scrub: &Scrub, fail_on: FailOn) -> TestCase {
    let summary = r
        .failure
        .as_ref()
        .map(|f| scrub.clean(&f.summary))
        .unwrap_or_default();
    let body = || xml_safe(&failure_block(r, scrub, fail_on, false, BODY_WIDTH));
    let non_success = |kind| {
        let mut s = TestCaseStatus::non_success(kind);
        s.set_message(xml_safe(&summary))
            .set_type(r.verdict.name())
            .set_description(body());
        s
    };
    let status = match r.verdict {
        Verdict::Error if fail_on.contains(Verdict::Error) => non_success(NonSuccessKind::Error),
        v if fail_on.contains(v) => non_success(NonSuccessKind::Failure),
        Verdict::Skip => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(xml_safe(&summary));
            s
        }
        _ => TestCaseStatus::success(),
    };
    let mut tc = TestCase::new(xml_safe(&scrub.clean(&r.id)), status);
    tc.set_classname(xml_safe(&scrub.clean(&r.suite)))
        .set_time(r.duration);
    match r.verdict {
        v if fail_on.contains(v) => {}
        Verdict::Informational => {
            tc.set_system_out("verdict: INFORMATIONAL\n");
        }
        Verdict::NonStrict | Verdict::Unimplemented | Verdict::Fail | Verdict::Error => {
            tc.set_system_out(format!("verdict: {}\n{}", r.verdict.name(), body()));
        }
        _ => {}
    }
    tc
}

/// `quick-junit` writes a `skipped` count on `<testsuites>`, an attribute Jenkins' schema
/// does not define there (each `<testsuite>` keeps its own `skipped`); it is removed from the
/// root element only.
fn drop_root_skipped(xml: &str) -> String {
    let Some(start) = xml.find("<testsuites") else {
        return xml.to_string();
    };
    let end = xml[start..].find('>').map_or(xml.len(), |e| start + e);
    let head = &xml[start..end];
    let Some(at) = head.find(" skipped=\"") else {
        return xml.to_string();
    };
    let value_end = head[at + 10..]
        .find('"')
        .map_or(head.len(), |e| at + 10 + e + 1);
    format!(
        "{}{}{}{}",
        &xml[..start],
        &head[..at],
        &head[value_end..],
        &xml[end..]
    )
}

/// Characters XML 1.0 does not allow even escaped (C0 controls other than tab, newline and
/// carriage return, U+FFFE, U+FFFF) replaced by U+FFFD; `quick-junit` escapes the rest.
fn xml_safe(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => '\u{fffd}',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_characters_are_replaced() {
        assert_eq!(xml_safe("a<b>\n\t"), "a<b>\n\t");
        assert_eq!(xml_safe("\u{1}\u{1b}\u{ffff}"), "\u{fffd}\u{fffd}\u{fffd}");
    }

    #[test]
    fn only_the_root_loses_its_skipped_count() {
        let xml = "<?xml?>\n<testsuites name=\"w\" tests=\"2\" skipped=\"1\" failures=\"0\">\n\
                   <testsuite name=\"s\" tests=\"2\" skipped=\"1\">";
        assert_eq!(
            drop_root_skipped(xml),
            "<?xml?>\n<testsuites name=\"w\" tests=\"2\" failures=\"0\">\n\
             <testsuite name=\"s\" tests=\"2\" skipped=\"1\">"
        );
    }
}
