use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::runner::result::{CloseBehavior, CloseVerdict};
use crate::suite::model::Location;
use crate::wire::Level;

fn result(
    id: &str,
    autobahn: Option<&str>,
    verdict: Verdict,
    close: Option<CloseVerdict>,
) -> CaseResult {
    CaseResult {
        id: id.into(),
        suite: "s".into(),
        title: "t".into(),
        spec: "§5".into(),
        level: Level::Must,
        autobahn: autobahn.map(str::to_string),
        location: Location {
            file: Arc::new(PathBuf::from("s.yaml")),
            line: 1,
            column: 1,
        },
        verdict,
        duration: Duration::from_millis(1),
        failure: None,
        violations: vec![],
        close: close.map(|verdict| CloseBehavior {
            verdict,
            initiator: None,
            clean: true,
            remote_code: Some(1000),
            local_code: Some(1000),
            dropped_by_client: false,
            detail: String::new(),
        }),
        perf: None,
        traces: vec![],
    }
}

fn failed(id: &str, summary: &str) -> CaseResult {
    let mut r = result(id, None, Verdict::Fail, None);
    r.failure = Some(crate::runner::result::Failure {
        summary: summary.into(),
        location: r.location.clone(),
        expected: vec![],
        observed: String::new(),
    });
    r
}

fn parse(text: &str) -> Expectations {
    Expectations::parse(Path::new("e.yaml"), text).expect("valid file")
}

fn errors(text: &str) -> Vec<Diagnostic> {
    Expectations::parse(Path::new("e.yaml"), text).expect_err("invalid file")
}

fn any(_: &str) -> bool {
    true
}

#[test]
fn entries_with_alternatives_close_and_comments() {
    let e = parse(
        "# header\n\
         a.one: PASS\n\
         \n\
         '1.2.3': NON-STRICT|FAIL close=OK|wrong-code  # races\n\
         b.two: informational # why\n",
    );
    assert_eq!(e.entries.len(), 3);
    assert_eq!(e.entries[1].key, "1.2.3");
    assert_eq!(
        e.entries[1].verdicts,
        vec![Verdict::NonStrict, Verdict::Fail]
    );
    assert_eq!(e.entries[1].closes, vec!["OK", "WRONG-CODE"]);
    assert_eq!(e.entries[1].line, 4);
    assert_eq!(e.entries[2].verdicts, vec![Verdict::Informational]);
}

#[test]
fn each_malformed_line_points_at_its_column() {
    for (text, line, column, words) in [
        ("a: PAS\n", 1, 4, "unknown verdict `PAS`"),
        ("ok: PASS\nb PASS\n", 2, 1, "expected `CASE: VERDICT`"),
        ("a: PASS close=NOPE\n", 1, 9, "unknown closing behaviour"),
        ("a: PASS extra\n", 1, 9, "only `close=…` may follow"),
        ("a: PASS\na: FAIL\n", 2, 1, "listed twice (first on line 1)"),
        ("a:\n", 1, 3, "has no verdict"),
        ("  a: PASS\n", 1, 1, "beginning of its line"),
        ("'a: PASS\n", 1, 1, "no closing '"),
    ] {
        let d = errors(text);
        assert_eq!(d.len(), 1, "{text:?}");
        let d = &d[0];
        assert_eq!(
            (d.line, d.column),
            (Some(line), Some(column)),
            "{text:?}: {}",
            d.message
        );
        assert!(d.message.contains(words), "{text:?}: {}", d.message);
    }
}

#[test]
fn matching_runs_have_no_difference() {
    let e = parse("a: PASS close=OK\n1.1.1: NON-STRICT|FAIL\n");
    let results = [
        result("a", None, Verdict::Pass, Some(CloseVerdict::Ok)),
        result(
            "b",
            Some("1.1.1"),
            Verdict::Fail,
            Some(CloseVerdict::Unclean),
        ),
    ];
    let c = e.compare(&results, &any);
    assert!(c.matches(), "{c:?}");
    assert_eq!(c.matched, 2);
    assert!(c.render_text(false).contains("matches e.yaml (2 cases)"));
}

#[test]
fn differences_are_classified() {
    let e = parse(
        "worse: PASS\nbetter: NON-STRICT  # known\nsideways: INFORMATIONAL\n\
         close-worse: PASS close=OK\ngone: PASS\nunselected: PASS\n",
    );
    let results = [
        result("worse", None, Verdict::Fail, None),
        result("better", None, Verdict::Pass, None),
        result("sideways", None, Verdict::NonStrict, None),
        result(
            "close-worse",
            None,
            Verdict::Pass,
            Some(CloseVerdict::Unclean),
        ),
        result("new", None, Verdict::Pass, None),
    ];
    let loaded = |k: &str| k != "gone";
    let c = e.compare(&results, &loaded);
    let kinds: Vec<(&str, DiffKind)> = c
        .differences
        .iter()
        .map(|d| (d.id.as_str(), d.kind))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("worse", DiffKind::Regression),
            ("better", DiffKind::Improvement),
            ("sideways", DiffKind::Changed),
            ("close-worse", DiffKind::Regression),
            ("new", DiffKind::NotListed),
            ("gone", DiffKind::Unknown),
        ]
    );
    let text = c.render_text(false);
    assert!(
        text.contains("better: expected NON-STRICT, got PASS; record it with --expect-update"),
        "{text}"
    );
    assert!(
        text.contains("close-worse: expected PASS close=OK, got PASS close=UNCLEAN (e.yaml:4)"),
        "{text}"
    );
    assert!(text.contains("6 differences from e.yaml (2 regression, 1 changed, 1 improvement, 1 not listed, 1 unknown case)"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&c.render_json()).expect("json");
    assert_eq!(json["expectations"]["matches"], false);
    assert_eq!(json["expectations"]["differences"][0]["kind"], "regression");
}

#[test]
fn update_keeps_unchanged_lines_and_comments() {
    let e = parse(
        "# top comment\nsame: NON-STRICT  # accepted: answers 1002\n# about changed\nchanged: PASS  # old note\nnot-run: FAIL  # kept\ngone: PASS\n",
    );
    let results = [
        result("same", None, Verdict::NonStrict, Some(CloseVerdict::Ok)),
        result(
            "changed",
            None,
            Verdict::Fail,
            Some(CloseVerdict::WrongCode),
        ),
        result(
            "added",
            Some("9.9.9"),
            Verdict::Pass,
            Some(CloseVerdict::Ok),
        ),
        failed("why", "expected a pong,\n got a close frame"),
    ];
    let loaded = |k: &str| k != "gone";
    let u = e.updated(&results, &loaded);
    assert_eq!(
        u.text,
        "# top comment\nsame: NON-STRICT  # accepted: answers 1002\n# about changed\n\
         changed: FAIL close=WRONG-CODE\nnot-run: FAIL  # kept\nadded: PASS close=OK\n\
         why: FAIL  # expected a pong, got a close frame\n"
    );
    assert_eq!(
        (u.unchanged, u.changed, u.kept, u.dropped, u.added),
        (1, 1, 1, 1, 2)
    );
    // The written file reads back and matches the run it came from.
    let again = parse(&u.text);
    assert!(again.compare(&results, &loaded).matches());
}

#[test]
fn a_new_file_gets_a_header_and_quoted_odd_keys() {
    let u = Expectations::default().updated(&[result("a b", None, Verdict::Pass, None)], &any);
    assert!(u.text.starts_with("# wsprobe expectations"), "{}", u.text);
    assert!(u.text.ends_with("'a b': PASS\n"), "{}", u.text);
    assert_eq!(parse(&u.text).entries[0].key, "a b");
}
