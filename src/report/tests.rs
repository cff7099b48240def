//! Golden and property tests of every report format, built from hand-made results that cover
//! every verdict. Durations are fixed, so the snapshots in the top-level `snapshots/` folder are
//! deterministic.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::runner::result::{
    CaseResult, CloseBehavior, CloseVerdict, Closer, FailOn, Failure, Perf, Verdict,
};
use crate::suite::model::Location;
use crate::trace::{BrowserEvent, ConnectionTrace, ReadyState, TcpEnd, TraceEvent, frame_preview};
use crate::wire::{
    Direction, FrameHeader, LengthEncoding, Level, Opcode, Violation, ViolationKind,
};

/// Runs `f` with insta writing to `<crate>/snapshots/` under the plain snapshot name.
macro_rules! snapshot {
    ($name:literal, $value:expr) => {
        insta::with_settings!({
            snapshot_path => "../../snapshots",
            prepend_module_to_snapshot => false,
        }, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

fn loc(file: &str, line: u32, column: u32) -> Location {
    Location {
        file: Arc::new(PathBuf::from(file)),
        line,
        column,
    }
}

fn frame(dir: Direction, opcode: Opcode, payload: &[u8]) -> TraceEvent {
    let len = payload.len() as u64;
    TraceEvent::Frame {
        dir,
        header: FrameHeader {
            fin: true,
            rsv: 0,
            opcode,
            mask: (dir == Direction::ClientToServer).then_some([0, 0, 0, 0]),
            payload_len: len,
            length_encoding: LengthEncoding::minimal_for(len),
        },
        preview: frame_preview(opcode, payload),
    }
}

fn handshake() -> Vec<TraceEvent> {
    vec![
        TraceEvent::TcpOpen,
        TraceEvent::Request {
            line: "GET / HTTP/1.1".into(),
            headers: vec![],
        },
        TraceEvent::Response {
            line: "HTTP/1.1 101 Switching Protocols".into(),
            headers: vec![],
        },
        TraceEvent::State(ReadyState::Open),
        TraceEvent::Event(BrowserEvent::Open),
    ]
}

fn main_trace(events: Vec<TraceEvent>) -> Vec<ConnectionTrace> {
    vec![ConnectionTrace {
        name: "main".into(),
        events,
    }]
}

fn clean_close() -> CloseBehavior {
    CloseBehavior {
        verdict: CloseVerdict::Ok,
        initiator: Some(Closer::Client),
        clean: true,
        remote_code: Some(1000),
        local_code: Some(1000),
        dropped_by_client: false,
        detail: "wsprobe closed first; clean; server close code 1000".into(),
    }
}

struct Case {
    id: &'static str,
    suite: &'static str,
    title: &'static str,
    spec: &'static str,
    level: Level,
    autobahn: Option<&'static str>,
    verdict: Verdict,
    ms: u64,
    line: u32,
}

fn result(c: Case) -> CaseResult {
    CaseResult {
        id: c.id.into(),
        suite: c.suite.into(),
        title: c.title.into(),
        spec: c.spec.into(),
        level: c.level,
        autobahn: c.autobahn.map(String::from),
        location: loc(&format!("suites/{}.yaml", c.suite), c.line, 5),
        verdict: c.verdict,
        duration: Duration::from_millis(c.ms),
        failure: None,
        violations: vec![],
        close: None,
        perf: None,
        traces: vec![],
    }
}

/// One case per verdict (two PASS, one with performance figures), over three suites.
fn fixture() -> Vec<CaseResult> {
    let mut pass = result(Case {
        id: "framing.text-125",
        suite: "framing",
        title: "a 125-byte text message is echoed",
        spec: "RFC 6455 §5.6",
        level: Level::Must,
        autobahn: Some("1.1.2"),
        verdict: Verdict::Pass,
        ms: 4,
        line: 12,
    });
    pass.close = Some(clean_close());
    let mut events = handshake();
    events.push(frame(Direction::ClientToServer, Opcode::Text, b"hello"));
    events.push(frame(Direction::ServerToClient, Opcode::Text, b"hello"));
    pass.traces = main_trace(events);

    let mut perf = result(Case {
        id: "framing.text-64k",
        suite: "framing",
        title: "a 64 KiB text message is echoed",
        spec: "RFC 6455 §5.6",
        level: Level::Must,
        autobahn: Some("1.1.10"),
        verdict: Verdict::Pass,
        ms: 12,
        line: 30,
    });
    perf.close = Some(clean_close());
    perf.perf = Some(Perf {
        bytes: 131_072,
        round_trips: 1,
        median_rtt: Some(Duration::from_micros(1250)),
        p99_rtt: Some(Duration::from_micros(1250)),
    });

    let mut fail = result(Case {
        id: "framing.rsv1-unnegotiated",
        suite: "framing",
        title: "RSV1 set without a negotiated extension",
        spec: "RFC 6455 §5.2",
        level: Level::Must,
        autobahn: Some("3.2"),
        verdict: Verdict::Fail,
        ms: 2003,
        line: 41,
    });
    fail.failure = Some(Failure {
        summary: "none of 2 alternatives matched within 2s".into(),
        location: loc("suites/framing.yaml", 47, 9),
        expected: vec![
            "close frame with code 1002".into(),
            "tcp connection dropped".into(),
        ],
        observed: "text frame fin=1 rsv=000 len=5 \"hello\", then silence".into(),
    });
    fail.violations = vec![Violation::new(
        ViolationKind::MaskedServerFrame,
        "server text frame is masked",
    )];
    fail.close = Some(CloseBehavior {
        verdict: CloseVerdict::WrongInitiator,
        initiator: Some(Closer::Client),
        clean: false,
        remote_code: None,
        local_code: Some(1000),
        dropped_by_client: true,
        detail: "wsprobe closed first; not clean; server close code none; wsprobe had to close tcp"
            .into(),
    });
    let mut events = handshake();
    for i in 0..6 {
        let text = format!("message {i}");
        events.push(frame(
            Direction::ClientToServer,
            Opcode::Text,
            text.as_bytes(),
        ));
        events.push(frame(
            Direction::ServerToClient,
            Opcode::Text,
            text.as_bytes(),
        ));
    }
    events.push(frame(Direction::ClientToServer, Opcode::Close, b"\x03\xe8"));
    events.push(TraceEvent::Violation(fail.violations[0].clone()));
    events.push(TraceEvent::TcpEnd(TcpEnd::ClosedByClient));
    fail.traces = main_trace(events);

    let mut non_strict = result(Case {
        id: "ping.pong-after-message",
        suite: "ping",
        title: "a pong is sent before the queued echo",
        spec: "RFC 6455 §5.5.3",
        level: Level::Should,
        autobahn: Some("2.10"),
        verdict: Verdict::NonStrict,
        ms: 35,
        line: 8,
    });
    non_strict.failure = Some(Failure {
        summary: "the server took a NON-STRICT alternative".into(),
        location: loc("suites/ping.yaml", 14, 9),
        expected: vec!["pong, then the echo".into()],
        observed: "the echo, then pong".into(),
    });
    non_strict.close = Some(clean_close());

    let mut info = result(Case {
        id: "ping.unsolicited-pong",
        suite: "ping",
        title: "the server's reaction to an unsolicited pong",
        spec: "RFC 6455 §5.5.3",
        level: Level::Info,
        autobahn: None,
        verdict: Verdict::Informational,
        ms: 310,
        line: 20,
    });
    info.close = Some(CloseBehavior {
        verdict: CloseVerdict::Informational,
        ..clean_close()
    });

    let mut unimplemented = result(Case {
        id: "deflate.hello",
        suite: "deflate",
        title: "a compressed message is echoed",
        spec: "RFC 7692 §7",
        level: Level::Must,
        autobahn: Some("12.1.1"),
        verdict: Verdict::Unimplemented,
        ms: 2,
        line: 5,
    });
    unimplemented.failure = Some(Failure {
        summary: "the server did not accept permessage-deflate".into(),
        location: loc("suites/deflate.yaml", 9, 9),
        expected: vec!["Sec-WebSocket-Extensions: permessage-deflate".into()],
        observed: "no Sec-WebSocket-Extensions header".into(),
    });

    let mut error = result(Case {
        id: "deflate.reset",
        suite: "deflate",
        title: "a large compressed message is echoed",
        spec: "RFC 7692 §7",
        level: Level::Must,
        autobahn: None,
        verdict: Verdict::Error,
        ms: 1,
        line: 18,
    });
    error.failure = Some(Failure {
        summary: "cannot connect to 127.0.0.1:9001: connection refused".into(),
        location: loc("suites/deflate.yaml", 19, 9),
        expected: vec![],
        observed: String::new(),
    });
    error.traces = main_trace(vec![TraceEvent::TcpEnd(TcpEnd::Reset)]);

    let mut skip = result(Case {
        id: "deflate.windows",
        suite: "deflate",
        title: "every window size is accepted",
        spec: "RFC 7692 §7.1.2",
        level: Level::Must,
        autobahn: Some("13.1.1"),
        verdict: Verdict::Skip,
        ms: 0,
        line: 30,
    });
    skip.failure = Some(Failure {
        summary: "needs --extensions".into(),
        location: loc("suites/deflate.yaml", 30, 5),
        expected: vec![],
        observed: String::new(),
    });

    vec![
        pass,
        perf,
        fail,
        non_strict,
        info,
        unimplemented,
        error,
        skip,
    ]
}

fn run_report(results: &[CaseResult]) -> RunReport<'_> {
    RunReport {
        agent: None,
        sources: Default::default(),
        results,
        target: "ws://127.0.0.1:9001/".into(),
        duration: Duration::from_millis(3410),
        fail_on: FailOn::default(),
        secrets: vec![],
    }
}

fn junit_text(report: &RunReport) -> String {
    junit::render(report)
}

fn autobahn_index(report: &RunReport) -> String {
    autobahn::render(report).index
}

#[test]
fn report_terminal() {
    let results = fixture();
    let out = terminal::render(&run_report(&results), false);
    snapshot!("report_terminal", out);
}

#[test]
fn report_json() {
    let results = fixture();
    let out = json::render(&run_report(&results));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines.len(),
        results.len() + 1,
        "one record per case, then the summary"
    );
    for line in &lines[..results.len()] {
        let value: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
        assert!(value.get("verdict").is_some());
    }
    let last: serde_json::Value = serde_json::from_str(lines[results.len()]).expect("JSON");
    let summary = last.get("summary").expect("the last record is the summary");
    assert_eq!(summary["total"], results.len());
    assert_eq!(summary["failed"], 1);
    assert_eq!(summary["errors"], 1);
    assert_eq!(summary["success"], false);
    snapshot!("report_json", out);
}

#[test]
fn report_junit() {
    let results = fixture();
    snapshot!("report_junit", junit_text(&run_report(&results)));
}

#[test]
fn report_tap() {
    let results = fixture();
    snapshot!("report_tap", tap::render(&run_report(&results)));
}

#[test]
fn report_autobahn_index() {
    let results = fixture();
    snapshot!(
        "report_autobahn_index",
        autobahn_index(&run_report(&results))
    );
}

#[test]
fn report_autobahn_case_file() {
    let results = fixture();
    let files = autobahn::render(&run_report(&results));
    let (name, text) = files
        .cases
        .iter()
        .find(|(n, _)| n == "wsprobe_target_case_3_2.json")
        .expect("the FAIL case has a file");
    let value: serde_json::Value = serde_json::from_str(text).expect("case file is JSON");
    assert_eq!(value["id"], "3.2");
    assert_eq!(value["wsprobeId"], "framing.rsv1-unnegotiated");
    assert_eq!(value["behavior"], "FAILED");
    assert_eq!(value["behaviorClose"], "FAILED");
    assert_eq!(value["closedByMe"], true);
    assert_eq!(value["droppedByMe"], true);
    assert_eq!(value["wasClean"], false);
    assert_eq!(value["duration"], 2003);
    assert_eq!(value["trace"][0]["connection"], "main");
    assert_eq!(value["trace"][0]["events"][0], "tcp open");
    assert_eq!(value["violations"][0]["kind"], "masked-server-frame");
    // Every file the index names exists, and SKIP cases have none.
    let index: serde_json::Value = serde_json::from_str(&files.index).expect("index is JSON");
    let entries = index[autobahn::AGENT].as_object().expect("agent object");
    assert_eq!(entries.len(), 7);
    assert!(!entries.contains_key("13.1.1"));
    for entry in entries.values() {
        let file = entry["reportfile"].as_str().expect("reportfile");
        assert!(files.cases.iter().any(|(n, _)| n == file), "{file}");
    }
    assert!(name.ends_with(".json"));
}

#[test]
fn report_list() {
    use crate::suite::model::{Case as SuiteCase, ClosingRule};
    let case = |id: &str, ab: Option<&str>, level: Level, title: &str, line: u32| SuiteCase {
        id: id.into(),
        suite: id.split('.').next().unwrap_or_default().into(),
        title: title.into(),
        description: None,
        spec: "RFC 6455 §5.5.2".into(),
        level,
        autobahn: ab.map(String::from),
        tags: vec!["control".into()],
        timeout: Duration::from_secs(1),
        deadline: Duration::from_secs(10),
        ignore: vec![],
        closing: ClosingRule::default(),
        redact_headers: vec![],
        skip: None,
        peers: vec![crate::suite::model::PeerKind::Server],
        steps: vec![],
        location: loc("suites/ping.yaml", line, 5),
    };
    let cases = vec![
        case(
            "ping.empty",
            Some("2.1"),
            Level::Must,
            "an empty ping is answered",
            10,
        ),
        case(
            "ping.payload-125",
            Some("2.3"),
            Level::Must,
            "a 125-byte ping is answered",
            20,
        ),
        case(
            "ping.unsolicited-pong",
            None,
            Level::Info,
            "an unsolicited pong",
            30,
        ),
    ];
    let out = format!("{}\n{}", list_text(&cases), list_json(&cases));
    for line in list_json(&cases).lines() {
        let _: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
    }
    snapshot!("report_list", out);
}

/// (element, allowed attributes, required attributes, allowed children)
type ElementRule = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

/// The rules of Jenkins' JUnit schema (`junit-10.xsd` of the xUnit plugin, the format of
/// Maven Surefire reports) for each element wsprobe writes: allowed attributes, required
/// attributes, allowed children. Checked on the parsed document, since no XSD validator is a
/// dependency; numbers as the schema types them (`SUREFIRE_TIME` for `time`).
const JUNIT_SCHEMA: &[ElementRule] = &[
    // (element, allowed attributes, required attributes, allowed children)
    (
        "testsuites",
        &["name", "time", "tests", "failures", "errors"],
        &[],
        &["testsuite"],
    ),
    (
        "testsuite",
        &[
            "name",
            "tests",
            "failures",
            "errors",
            "group",
            "time",
            "skipped",
            "timestamp",
            "hostname",
            "id",
            "package",
            "file",
            "log",
            "url",
        ],
        &["name", "tests", "failures", "errors"],
        &[
            "testsuite",
            "properties",
            "testcase",
            "system-out",
            "system-err",
        ],
    ),
    ("properties", &[], &[], &["property"]),
    ("property", &["name", "value"], &["name", "value"], &[]),
    (
        "testcase",
        &["name", "time", "classname", "group"],
        &["name"],
        &["skipped", "error", "failure", "system-out", "system-err"],
    ),
    ("failure", &["type", "message"], &[], &[]),
    ("error", &["type", "message"], &[], &[]),
    ("skipped", &["type", "message"], &[], &[]),
    ("system-out", &[], &[], &[]),
    ("system-err", &[], &[], &[]),
];

/// Checks every element of `doc` against [`JUNIT_SCHEMA`]; returns the problems found.
fn junit_schema_problems(doc: &roxmltree::Document) -> Vec<String> {
    let mut problems = Vec::new();
    if doc.root_element().tag_name().name() != "testsuites" {
        problems.push("root is not <testsuites>".to_string());
    }
    for node in doc.descendants().filter(|n| n.is_element()) {
        let name = node.tag_name().name();
        let Some((_, allowed, required, children)) = JUNIT_SCHEMA.iter().find(|(e, ..)| *e == name)
        else {
            problems.push(format!("<{name}> is not in the schema"));
            continue;
        };
        for a in node.attributes() {
            if !allowed.contains(&a.name()) {
                problems.push(format!("<{name}> has attribute {}", a.name()));
            }
        }
        for r in *required {
            if node.attribute(*r).is_none() {
                problems.push(format!("<{name}> lacks required attribute {r}"));
            }
        }
        for c in node.children().filter(|c| c.is_element()) {
            if !children.contains(&c.tag_name().name()) {
                problems.push(format!("<{name}> has child <{}>", c.tag_name().name()));
            }
        }
        if let Some(t) = node.attribute("time") {
            let ok = !t.is_empty()
                && t.split_once('.')
                    .map_or(t.chars().all(|c| c.is_ascii_digit()), |(a, b)| {
                        a.chars().all(|c| c.is_ascii_digit())
                            && b.chars().all(|c| c.is_ascii_digit())
                    });
            if !ok {
                problems.push(format!("<{name}> time {t:?} is not a SUREFIRE_TIME"));
            }
        }
        for n in ["tests", "failures", "errors", "skipped"] {
            if let Some(v) = node.attribute(n)
                && v.parse::<usize>().is_err()
            {
                problems.push(format!("<{name}> {n}={v:?} is not a count"));
            }
        }
    }
    problems
}

#[test]
fn junit_schema_check_catches_what_the_schema_forbids() {
    let bad = r#"<testsuites skipped="1"><testsuite name="s" tests="1" failures="0"><testcase name="c" file="f"><properties/></testcase></testsuite></testsuites>"#;
    let doc = roxmltree::Document::parse(bad).expect("well-formed");
    let problems = junit_schema_problems(&doc);
    for expected in [
        "<testsuites> has attribute skipped",
        "<testsuite> lacks required attribute errors",
        "<testcase> has attribute file",
        "<testcase> has child <properties>",
    ] {
        assert!(
            problems.iter().any(|p| p == expected),
            "{expected} in {problems:?}"
        );
    }
}

#[test]
fn junit_follows_the_schema_and_counts_match() {
    for strict in [false, true] {
        let results = fixture();
        let mut report = run_report(&results);
        report.fail_on = if strict {
            FailOn::strict()
        } else {
            FailOn::default()
        };
        let xml = junit_text(&report);
        let doc = roxmltree::Document::parse(&xml).expect("JUnit output is well-formed XML");
        assert_eq!(junit_schema_problems(&doc), Vec::<String>::new(), "{xml}");
        let root = doc.root_element();
        let attr = |n: roxmltree::Node, a: &str| -> usize {
            n.attribute(a)
                .and_then(|v| v.parse().ok())
                .unwrap_or(usize::MAX)
        };
        let cases: Vec<_> = root
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        let has = |tag: &str| {
            cases
                .iter()
                .filter(|c| c.children().any(|ch| ch.has_tag_name(tag)))
                .count()
        };
        assert_eq!(attr(root, "tests"), cases.len());
        assert_eq!(attr(root, "tests"), results.len());
        assert_eq!(attr(root, "failures"), has("failure"));
        assert_eq!(attr(root, "failures"), if strict { 2 } else { 1 });
        assert_eq!(attr(root, "errors"), has("error"));
        let suites: Vec<_> = root
            .children()
            .filter(|n| n.has_tag_name("testsuite"))
            .collect();
        assert_eq!(suites.len(), 3);
        let sum = |a: &str| suites.iter().map(|s| attr(*s, a)).sum::<usize>();
        for a in ["tests", "failures", "errors"] {
            assert_eq!(sum(a), attr(root, a), "{a}");
        }
        assert_eq!(sum("skipped"), has("skipped"));
    }
}

#[test]
fn strict_turns_non_strict_into_failures() {
    let results = fixture();
    let mut report = run_report(&results);
    report.fail_on = FailOn::strict();
    let tap = tap::render(&report);
    assert!(tap.contains("not ok 4 - ping.pong-after-message"));
    assert!(!tap.contains("# TODO"));
    let text = terminal::render(&report, false);
    assert!(text.contains("trace        connection main"));
}

/// A result whose every text field carries `s`.
fn carrying(s: &str) -> Vec<CaseResult> {
    let mut results = fixture();
    for r in &mut results {
        r.title = format!("title {s}");
        if let Some(f) = &mut r.failure {
            f.summary = format!("summary {s}");
            f.observed = format!("observed {s}");
            f.expected.push(format!("expected {s}"));
        }
        if let Some(c) = &mut r.close {
            c.detail = format!("detail {s}");
        }
        for t in &mut r.traces {
            t.events.push(TraceEvent::Event(BrowserEvent::Message {
                opcode: Opcode::Text,
                data: format!("echo {s}").into_bytes().into(),
            }));
            t.events
                .push(frame(Direction::ServerToClient, Opcode::Text, s.as_bytes()));
        }
        r.violations.push(Violation::new(
            ViolationKind::InvalidUtf8Text,
            format!("violation {s}"),
        ));
    }
    results
}

/// Every format, rendered in full (the Autobahn directory as all its files).
fn every_format(report: &RunReport) -> Vec<(&'static str, String)> {
    let files = autobahn::render(report);
    let mut all = files.index.clone();
    for (name, text) in &files.cases {
        all.push_str(name);
        all.push_str(text);
    }
    vec![
        ("terminal", terminal::render(report, false)),
        ("terminal+color", terminal::render(report, true)),
        ("json", json::render(report)),
        ("junit", junit::render(report)),
        ("tap", tap::render(report)),
        ("autobahn", all),
    ]
}

#[test]
fn secrets_are_redacted_in_every_format() {
    let secret = "Bearer hunter2-sup3r-secret";
    let results = carrying(secret);
    let mut report = run_report(&results);
    report.secrets = vec![secret.into(), "x".into()];
    report.target = format!("ws://127.0.0.1:9001/?token={secret}");
    for (name, out) in every_format(&report) {
        assert!(!out.contains("hunter2"), "{name} leaks the secret:\n{out}");
        assert!(out.contains(text::REDACTED), "{name} shows no redaction");
    }
}

#[test]
fn secrets_written_to_files_are_redacted() {
    let secret = "Bearer hunter2-sup3r-secret";
    let results = carrying(secret);
    let mut report = run_report(&results);
    report.secrets = vec![secret.into()];
    let dir = tempfile::tempdir().expect("temp dir");
    let paths = [
        (ReportKind::Junit, dir.path().join("report.xml")),
        (ReportKind::Tap, dir.path().join("report.tap")),
        (ReportKind::Json, dir.path().join("report.jsonl")),
        (ReportKind::Autobahn, dir.path().join("autobahn")),
    ];
    for (kind, path) in &paths {
        write(*kind, path, &report).expect("report written");
    }
    let mut files = 0;
    let mut pending = vec![dir.path().to_path_buf()];
    while let Some(p) = pending.pop() {
        for entry in std::fs::read_dir(&p).expect("readable dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            assert!(
                path.extension().is_none_or(|e| e != "tmp"),
                "temporary file left behind: {}",
                path.display()
            );
            let text = std::fs::read_to_string(&path).expect("utf-8 report");
            assert!(!text.contains("hunter2"), "{} leaks", path.display());
            files += 1;
        }
    }
    // Three single files, the index and the seven case files that were run.
    assert_eq!(files, 3 + 1 + 7);
    assert!(dir.path().join("autobahn").join("index.json").is_file());
}

#[test]
fn hostile_text_cannot_inject_escapes() {
    // What `cli` does once when color is on: tests only ever turn it on.
    colored::control::set_override(true);
    let hostile = "\x1b[2J\x1b]0;pwned\x07\u{9b}31m\r\u{202e}evil";
    let results = carrying(hostile);
    let report = run_report(&results);
    for (name, out) in every_format(&report) {
        assert!(
            !out.contains("\x1b[2J"),
            "{name} passes a screen clear through"
        );
        assert!(!out.contains("\x1b]0;"), "{name} passes an OSC through");
        assert!(!out.contains('\u{9b}'), "{name} passes a C1 CSI through");
        assert!(
            !out.contains('\u{202e}'),
            "{name} passes a bidi override through"
        );
        assert!(!out.contains('\x07'), "{name} passes BEL through");
        assert!(!out.contains('\r'), "{name} passes CR through");
    }
    let colored = terminal::render(&report, true);
    // Our own colors remain; every ESC in the output starts one of our SGR sequences.
    assert!(colored.contains("\x1b[1;31mFAIL\x1b[0m"));
    for (i, _) in colored.match_indices('\x1b') {
        let rest = &colored[i..];
        let sgr = rest
            .strip_prefix("\x1b[")
            .and_then(|r| r.split_once('m'))
            .is_some_and(|(params, _)| params.chars().all(|c| c.is_ascii_digit() || c == ';'));
        assert!(
            sgr,
            "foreign escape at {i}: {:?}",
            &rest[..rest.len().min(12)]
        );
    }
    let xml = junit::render(&report);
    roxmltree::Document::parse(&xml).expect("hostile text keeps JUnit well-formed");
}

#[test]
fn no_color_means_no_escape_byte() {
    // What `cli` does once when color is on: tests only ever turn it on.
    colored::control::set_override(true);
    let results = fixture();
    let report = run_report(&results);
    assert!(!terminal::render(&report, false).contains('\x1b'));
    assert!(terminal::render(&report, true).contains('\x1b'));
    let diag = "error: unknown key `sned` in step\n  --> suites/echo.yaml:12:9\n   |\n12 |       - sned: { text: hello }\n   |         ^^^^ did you mean `send`?\n";
    assert_eq!(colorize_diagnostic(diag, false), diag);
}

#[test]
fn diagnostic_parts_are_colored() {
    // What `cli` does once when color is on: tests only ever turn it on.
    colored::control::set_override(true);
    let diag = "error: unknown key `sned` in step\n  --> suites/echo.yaml:12:9\n   |\n12 |       - sned: { text: hello }\n   |         ^^^^ did you mean `send`?\n";
    let out = colorize_diagnostic(diag, true);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "\x1b[1;31merror:\x1b[0m\x1b[1m unknown key `sned` in step\x1b[0m"
    );
    assert_eq!(lines[1], "  \x1b[1;34m-->\x1b[0m suites/echo.yaml:12:9");
    assert_eq!(lines[2], "\x1b[1;34m   |\x1b[0m");
    // A source line starting with `-` is not mistaken for a label line.
    assert_eq!(
        lines[3],
        "\x1b[1;34m12 |\x1b[0m       - sned: { text: hello }"
    );
    assert_eq!(
        lines[4],
        "\x1b[1;34m   |\x1b[0m         \x1b[1;31m^^^^ did you mean `send`?\x1b[0m"
    );
}

#[test]
fn progress_line_names_failures_and_running_cases() {
    let results = fixture();
    let mut live = progress::Live::hidden(results.len());
    assert_eq!(live.message(), "");
    for (i, r) in results.iter().enumerate() {
        live.started(i, &r.id);
    }
    let all = live.message();
    assert!(
        all.starts_with(&format!("running {}, ", results[0].id)),
        "{all}"
    );
    assert!(all.ends_with(&format!("(+{})", results.len() - 3)), "{all}");
    for (i, r) in results.iter().enumerate() {
        live.finished(i, r);
    }
    assert_eq!(live.message(), "2 failed");
    assert_eq!(
        progress::message(3, &["a", "b"], false),
        "3 failed · running a, b"
    );
    assert!(!progress::message(3, &["a"], false).contains('\x1b'));
    assert!(progress::message(3, &["a"], true).contains('\x1b'));
    live.finish();
}

#[test]
fn notes_say_what_was_observed_and_reasons_do_not_repeat_expectations() {
    let mut results = fixture();
    // A NON-STRICT case whose failure has no observation: the note falls back to the summary
    // and the closing behaviour, never the summary alone.
    let ns = results
        .iter_mut()
        .find(|r| r.verdict == Verdict::NonStrict)
        .expect("fixture has a NON-STRICT case");
    if let Some(f) = &mut ns.failure {
        f.observed.clear();
        f.summary = "the server took a NON-STRICT alternative".into();
    }
    let fail = results
        .iter_mut()
        .find(|r| r.verdict == Verdict::Fail)
        .expect("fixture has a FAIL case");
    if let Some(f) = &mut fail.failure {
        f.summary = format!("expected {}", f.expected[0]);
    }
    let out = terminal::render(&run_report(&results), false);
    let notes = &out[out.find("\nNotes\n").expect("a Notes section")..];
    assert!(
        notes
            .contains("the server took a NON-STRICT alternative; closing OK: wsprobe closed first"),
        "{notes}"
    );
    let failures = &out[out.find("\nFailures\n").expect("a Failures section")..];
    assert!(!failures.contains("  reason       expected"), "{failures}");
    assert!(
        failures.contains("  expected     close frame with code 1002"),
        "{failures}"
    );
    // FAIL and ERROR only in Failures; the others only in Notes.
    let failures = &failures[..failures.find("\nNotes\n").unwrap_or(failures.len())];
    assert!(!failures.contains("NON-STRICT ping."), "{failures}");
    assert!(!failures.contains("INFORMATIONAL"), "{failures}");
}

#[test]
fn lines_fit_the_width() {
    let results = fixture();
    // From 80 columns on (narrower, a case line keeps at least 16 characters of title).
    for width in [80, 100, 120] {
        let out = terminal::render_with(
            &run_report(&results),
            terminal::Options {
                color: false,
                width,
                quiet: false,
            },
        );
        for line in out.lines() {
            assert!(line.chars().count() <= width, "{width}: {line:?}");
        }
    }
    let quiet = terminal::render_with(
        &run_report(&results),
        terminal::Options {
            color: false,
            width: 100,
            quiet: true,
        },
    );
    assert!(!quiet.contains("  PASS "), "{quiet}");
    assert!(
        quiet.contains("\nFailures\n") && quiet.contains("8 cases:"),
        "{quiet}"
    );
}

/// A hostile server's strings in every field the HTML page shows: no markup gets through.
#[test]
fn html_escapes_every_hostile_string() {
    let hostile = [
        "</script><script>alert(1)</script>",
        "\"><img src=x onerror=alert(2)>",
        "<!-- comment",
        "ctl\u{1b}[31m\u{7}",
        "'><svg onload=alert(3)>",
    ];
    let mut results = fixture();
    for (i, r) in results.iter_mut().enumerate() {
        let h = hostile[i % hostile.len()];
        r.id = format!("{}{h}", r.id);
        r.title = h.into();
        r.suite = h.into();
        r.spec = h.into();
        r.autobahn = Some(h.into());
        r.failure = Some(Failure {
            summary: h.into(),
            location: loc("suites/x.yaml", 1, 1),
            expected: vec![h.into()],
            observed: h.into(),
        });
        r.traces = main_trace(vec![frame(
            Direction::ServerToClient,
            Opcode::Text,
            h.as_bytes(),
        )]);
        r.close = Some(CloseBehavior {
            detail: h.into(),
            ..clean_close()
        });
    }
    let report = RunReport {
        results: &results,
        target: format!("ws://x/{}", hostile[0]),
        duration: Duration::from_millis(5),
        fail_on: FailOn::default(),
        secrets: vec!["sekrit-token".into()],
        agent: Some(hostile[1].into()),
        sources: results
            .iter()
            .enumerate()
            .map(|(i, r)| {
                (
                    r.id.clone(),
                    format!("- id: x\n  title: {}\n", hostile[i % hostile.len()]),
                )
            })
            .collect(),
    };
    let page = html::render(&report);
    assert_eq!(page.matches("class=\"yaml\"").count(), results.len());
    assert_eq!(page.matches("class=\"close\"").count(), results.len());
    for h in hostile {
        assert!(!page.contains(h), "raw hostile string in page: {h}");
    }
    for bad in [
        "<script><",
        "<img",
        "<svg onload",
        "<!--",
        "\u{1b}",
        "\u{7}",
    ] {
        assert!(!page.contains(bad), "{bad:?} in page");
    }
    // Exactly the page's own script element.
    assert_eq!(page.matches("<script>").count(), 1);
    assert_eq!(page.matches("</script>").count(), 1);
    assert!(page.contains("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
}

/// The counts carry stable ids and agree with the results; the secret never appears.
#[test]
fn html_counts_and_redaction() {
    let mut results = fixture();
    results[0].title = "token sekrit-token here".into();
    let report = RunReport {
        results: &results,
        target: "ws://127.0.0.1:9001/".into(),
        duration: Duration::from_millis(5),
        fail_on: FailOn::default(),
        secrets: vec!["sekrit-token".into()],
        agent: None,
        sources: Default::default(),
    };
    let page = html::render(&report);
    assert!(!page.contains("sekrit-token"));
    assert!(page.contains("[redacted]"));
    let fails = results
        .iter()
        .filter(|r| r.verdict == Verdict::Fail)
        .count();
    assert!(page.contains(&format!("id=\"count-fail\" data-count=\"{fails}\"")));
    assert!(page.contains(&format!(
        "id=\"count-total\" data-count=\"{}\"",
        results.len()
    )));
    assert_eq!(page.matches("<tr class=\"case\"").count(), results.len());
    // Self-contained: nothing is loaded from elsewhere.
    for external in ["<link", "src=\"", "@import", "url("] {
        assert!(!page.contains(external), "{external} in page");
    }
}
