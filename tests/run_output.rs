//! End-to-end tests of how `wsprobe run` reports, through the real binary: streamed case lines
//! (JSON Lines ending with a summary record), `-q` and `-v`, `show`, a closed stdout, `--seed`
//! and `--idle-timeout`, the preflight handshake (`--no-preflight`) and `--fail-fast`
//! cancelling the cases already running.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{raw_server, temp_dir, wsprobe};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const LIMIT: Duration = Duration::from_secs(120);

/// A small suite against the embedded echo server: two passing cases.
const ECHO_SUITE: &str = r#"version: 1
suite: echo-check
title: echo
spec: RFC 6455 §5.6
defaults:
  timeout: 2s
cases:
  - id: echo.one
    title: a text message is echoed
    spec: RFC 6455 §5.6
    steps:
      - connect: {}
      - send: { text: "one" }
      - expect: { message: { text: "one" } }
  - id: echo.two
    title: another text message is echoed
    spec: RFC 6455 §5.6
    steps:
      - connect: {}
      - send: { text: "two" }
      - expect: { message: { text: "two" } }
"#;

fn write_suite(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write suite");
    path.display().to_string()
}

#[test]
fn json_lines_stream_one_record_per_case_then_a_summary() {
    let dir = temp_dir();
    let suite = write_suite(dir.path(), "echo.yaml", ECHO_SUITE);
    let out = wsprobe(&["run", &suite, "--format", "json"], LIMIT);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let lines: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect();
    assert_eq!(lines.len(), 3, "{}", out.stdout);
    assert_eq!(lines[0]["id"], "echo.one");
    assert_eq!(lines[1]["id"], "echo.two");
    let summary = &lines[2]["summary"];
    assert_eq!(summary["total"], 2);
    assert_eq!(summary["passed"], 2);
    assert_eq!(summary["success"], true);
}

#[test]
fn quiet_prints_no_case_line_and_verbose_prints_each_trace() {
    let dir = temp_dir();
    let suite = write_suite(dir.path(), "echo.yaml", ECHO_SUITE);
    let normal = wsprobe(&["run", &suite], LIMIT);
    assert_eq!(normal.code, 0, "{}", normal.stderr);
    assert!(
        normal.stdout.contains("PASS          echo.one"),
        "{}",
        normal.stdout
    );
    let quiet = wsprobe(&["run", &suite, "-q"], LIMIT);
    assert_eq!(quiet.code, 0, "{}", quiet.stderr);
    assert!(!quiet.stdout.contains("echo.one"), "{}", quiet.stdout);
    assert!(
        quiet.stdout.contains("2 cases: 2 passed, 0 failed"),
        "{}",
        quiet.stdout
    );
    let verbose = wsprobe(&["run", &suite, "-v"], LIMIT);
    assert_eq!(verbose.code, 0, "{}", verbose.stderr);
    // Each case line is followed by its own trace, before the next case's line.
    let at = |text: &str| {
        verbose
            .stdout
            .find(text)
            .unwrap_or_else(|| panic!("{text} in:\n{}", verbose.stdout))
    };
    assert!(at("echo.one a text") < at("# case echo.one"));
    assert!(at("# case echo.one") < at("echo.two another"));
    assert!(at("echo.two another") < at("# case echo.two"));
    assert!(!normal.stdout.contains("# case"), "{}", normal.stdout);
    let both = wsprobe(&["run", &suite, "-q", "-v"], LIMIT);
    assert_eq!(both.code, 2, "-q and -v conflict: {}", both.stderr);
}

#[test]
fn show_prints_the_yaml_of_a_built_in_case() {
    let out = wsprobe(&["show", "ping.binary-payload"], LIMIT);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with("# suites/ping.yaml:"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("- id: ping.binary-payload\n"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("steps:"), "{}", out.stdout);
    assert!(
        !out.stdout.contains("id: ping.text-payload"),
        "{}",
        out.stdout
    );
    // By Autobahn id, and by glob.
    let by_autobahn = wsprobe(&["show", "2.3"], LIMIT);
    assert_eq!(by_autobahn.stdout, out.stdout);
    let glob = wsprobe(&["show", "ping.*-payload"], LIMIT);
    assert!(
        glob.stdout.matches("# suites/ping.yaml:").count() >= 2,
        "{}",
        glob.stdout
    );
    let typo = wsprobe(&["show", "ping.binary-paylod"], LIMIT);
    assert_eq!(typo.code, 4, "{}", typo.stderr);
    assert!(
        typo.stderr.contains("did you mean 'ping.binary-payload'?"),
        "{}",
        typo.stderr
    );
    assert!(typo.stdout.is_empty());
}

/// Runs wsprobe with a stdout whose reading end is already closed: every write fails with
/// EPIPE, whatever the timing.
fn with_closed_stdout(args: &[&str]) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let mut child = Command::new(env!("CARGO_BIN_EXE_wsprobe"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .expect("wsprobe starts");
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().expect("piped stderr"), &mut stderr)
        .expect("read stderr");
    let deadline = std::time::Instant::now() + LIMIT;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return (status.code(), stderr);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("wsprobe {args:?} did not end with a closed stdout");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_closed_stdout_ends_quietly_with_exit_141() {
    let dir = temp_dir();
    let suite = write_suite(dir.path(), "echo.yaml", ECHO_SUITE);
    for args in [
        vec!["list"],
        vec!["show", "ping.*"],
        vec!["run", suite.as_str()],
        vec!["run", suite.as_str(), "--format", "json"],
    ] {
        let (code, stderr) = with_closed_stdout(&args);
        assert_eq!(code, Some(141), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?} is quiet: {stderr}");
    }
}

/// A plain HTTP server: every request gets `404 Not Found`.
fn http_404_server() -> common::RawServer {
    raw_server(|mut stream| async move {
        let mut buf = [0u8; 4096];
        let _ = stream.read(&mut buf).await;
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found")
            .await;
        let _ = stream.shutdown().await;
    })
}

#[test]
fn preflight_stops_a_run_against_a_plain_http_server_with_one_message() {
    let server = http_404_server();
    let target = format!("{}chat", server.url);
    let out = wsprobe(&["run", "--target", &target], LIMIT);
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.is_empty(), "no case ran: {}", out.stdout);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one message: {}", out.stderr);
    assert!(
        lines[0].contains("\"HTTP/1.1 404 Not Found\""),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains("is /chat the WebSocket endpoint?"),
        "{}",
        lines[0]
    );

    // --no-preflight runs the cases, which then fail against this server.
    let out = wsprobe(
        &[
            "run",
            "--target",
            &target,
            "--no-preflight",
            "--case",
            "ping.binary-payload",
            "--format",
            "json",
        ],
        LIMIT,
    );
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("\"id\":\"ping.binary-payload\""),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("\"verdict\":\"FAIL\""),
        "{}",
        out.stdout
    );
}

/// One case that fails at once, and four that would wait a minute for a message the echo
/// server never sends.
const FAIL_FAST_SUITE: &str = r#"version: 1
suite: fail-fast
title: fail fast
spec: RFC 6455 §5.6
cases:
  - id: ff.a-fails
    title: expects an echo that differs from what was sent
    spec: RFC 6455 §5.6
    steps:
      - connect: {}
      - send: { text: "sent" }
      - expect: { timeout: 1s, message: { text: "something else" } }
  - id: ff.b-waits
    title: waits for a message nobody sends
    spec: RFC 6455 §5.6
    steps:
      - connect: {}
      - expect: { timeout: 60s, message: { text: "never" } }
  - id: ff.c-waits
    title: waits for a message nobody sends
    spec: RFC 6455 §5.6
    steps:
      - connect: {}
      - expect: { timeout: 60s, message: { text: "never" } }
  - id: ff.d-waits
    title: waits for a message nobody sends
    spec: RFC 6455 §5.6
    steps:
      - connect: {}
      - expect: { timeout: 60s, message: { text: "never" } }
  - id: ff.e-not-started
    title: waits for a message nobody sends
    spec: RFC 6455 §5.6
    steps:
      - connect: {}
      - expect: { timeout: 60s, message: { text: "never" } }
"#;

#[test]
fn fail_fast_cancels_the_cases_already_running() {
    let dir = temp_dir();
    let suite = write_suite(dir.path(), "ff.yaml", FAIL_FAST_SUITE);
    let out = wsprobe(
        &[
            "run",
            &suite,
            "--fail-fast",
            "--jobs",
            "4",
            "--idle-timeout",
            "60s",
            "--format",
            "json",
        ],
        LIMIT,
    );
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let records: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let verdict = |id: &str| {
        records
            .iter()
            .find(|r| r["id"] == id)
            .map(|r| (r["verdict"].clone(), r["failure"]["summary"].clone()))
            .expect("every case has a record")
    };
    assert_eq!(verdict("ff.a-fails").0, "FAIL");
    for id in ["ff.b-waits", "ff.c-waits", "ff.d-waits"] {
        let (v, why) = verdict(id);
        assert_eq!(v, "SKIP", "{id} was running and is cancelled, not failed");
        assert!(
            why.as_str().is_some_and(|w| w.starts_with("cancelled")),
            "{why}"
        );
    }
    let (v, why) = verdict("ff.e-not-started");
    assert_eq!(v, "SKIP");
    assert!(
        why.as_str().is_some_and(|w| w.starts_with("not run")),
        "{why}"
    );
    let summary = &records.last().expect("summary")["summary"];
    assert_eq!(summary["failed"], 1);
    assert_eq!(summary["skipped"], 4);
}

#[test]
fn seed_and_idle_timeout_are_validated_and_accepted() {
    let dir = temp_dir();
    let suite = write_suite(dir.path(), "echo.yaml", ECHO_SUITE);
    let ok = wsprobe(
        &["run", &suite, "--seed", "42", "--idle-timeout", "3s", "-q"],
        LIMIT,
    );
    assert_eq!(ok.code, 0, "{}\n{}", ok.stdout, ok.stderr);
    for (flag, value) in [
        ("--seed", "-1"),
        ("--seed", "x"),
        ("--idle-timeout", "0s"),
        ("--idle-timeout", "5"),
    ] {
        let out = wsprobe(&["run", &suite, flag, value], LIMIT);
        assert_eq!(out.code, 2, "{flag} {value}: {}", out.stderr);
        assert!(
            out.stderr.contains(flag) || out.stderr.contains(value),
            "{}",
            out.stderr
        );
    }
}
