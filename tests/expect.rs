//! End-to-end tests of recorded expectations (`wsprobe run --expect FILE`, `--expect-update`)
//! and `--fail-on`: known deviations of a faulty server turn a run green, a changed verdict
//! turns it red, an improvement is named as one, and a malformed file is refused with its
//! position before anything runs.

mod common;

use std::time::Duration;

use common::{temp_dir, wsprobe};
use wsprobe::serve::{Fault, ServeConfig, ServeMode, Server};

const LIMIT: Duration = Duration::from_secs(120);

/// Cases that a server which never answers pings fails (RFC 6455 §5.5.2) and a correct one
/// passes.
const CASES: &str = "ping.*";

fn start(rt: &tokio::runtime::Runtime, fault: &str) -> Server {
    let fault = Fault::from_name(fault).expect("a known fault");
    rt.block_on(Server::start(ServeConfig {
        host: "127.0.0.1".into(),
        port: 0,
        mode: ServeMode::Fault(fault),
        max_message_size: 64 << 20,
    }))
    .expect("server starts")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn run(url: &str, extra: &[&str]) -> common::Output {
    let mut args = vec![
        "run",
        "--target",
        url,
        "--case",
        CASES,
        "--timeout-scale",
        "0.5",
    ];
    args.extend_from_slice(extra);
    wsprobe(&args, LIMIT)
}

#[test]
fn known_deviations_pass_and_changes_fail() {
    let rt = runtime();
    let faulty = start(&rt, "no-pong");
    let correct = start(&rt, "none");
    let dir = temp_dir();
    let file = dir.path().join("expect.yaml");
    let file = file.to_str().expect("utf-8 path");

    // The faulty server fails the ping cases: without expectations the run is red.
    let plain = run(&faulty.url(), &[]);
    assert_eq!(plain.code, 1, "{}\n{}", plain.stdout, plain.stderr);

    // Recording its verdicts, then checking against them: green, and says so.
    let update = run(&faulty.url(), &["--expect", file, "--expect-update"]);
    assert_eq!(update.code, 0, "{}\n{}", update.stdout, update.stderr);
    assert!(
        update.stdout.contains("expectations: wrote"),
        "{}",
        update.stdout
    );
    let recorded = std::fs::read_to_string(file).expect("file written");
    assert!(recorded.contains(": FAIL"), "{recorded}");
    let check = run(&faulty.url(), &["--expect", file]);
    assert_eq!(check.code, 0, "{}\n{}", check.stdout, check.stderr);
    assert!(
        check.stdout.contains("expectations: matches"),
        "{}",
        check.stdout
    );

    // The same file against a server that now answers pings: every change is an improvement,
    // reported with the hint to update, and the run is red until the file is updated.
    let better = run(&correct.url(), &["--expect", file]);
    assert_eq!(better.code, 1, "{}\n{}", better.stdout, better.stderr);
    assert!(better.stdout.contains("improvement"), "{}", better.stdout);
    assert!(
        better.stdout.contains("record it with --expect-update"),
        "{}",
        better.stdout
    );
    assert!(!better.stdout.contains("regression"), "{}", better.stdout);

    // Recorded from the correct server, the faulty one is a regression.
    let update = run(&correct.url(), &["--expect", file, "--expect-update"]);
    assert_eq!(update.code, 0, "{}\n{}", update.stdout, update.stderr);
    let worse = run(&faulty.url(), &["--expect", file, "--format", "json"]);
    assert_eq!(worse.code, 1, "{}\n{}", worse.stdout, worse.stderr);
    let record = worse
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v.get("expectations").is_some())
        .expect("an expectations record");
    let diffs = record["expectations"]["differences"]
        .as_array()
        .expect("differences");
    assert!(!diffs.is_empty());
    assert!(diffs.iter().all(|d| d["kind"] == "regression"), "{record}");
    assert!(diffs.iter().all(|d| {
        d["expected"]
            .as_str()
            .is_some_and(|e| e.starts_with("PASS"))
    }));

    rt.block_on(faulty.shutdown());
    rt.block_on(correct.shutdown());
}

#[test]
fn fail_on_chooses_the_failing_verdicts() {
    let rt = runtime();
    let faulty = start(&rt, "no-pong");
    let only_errors = run(&faulty.url(), &["--fail-on", "ERROR"]);
    assert_eq!(
        only_errors.code, 0,
        "{}\n{}",
        only_errors.stdout, only_errors.stderr
    );
    let json = run(
        &faulty.url(),
        &["--fail-on", "fail,error", "--format", "json"],
    );
    assert_eq!(json.code, 1);
    assert!(
        json.stdout.contains(r#""fail_on":["FAIL","ERROR"]"#),
        "{}",
        json.stdout
    );
    rt.block_on(faulty.shutdown());
    for bad in ["PASS", "FAIL,NOPE"] {
        let out = wsprobe(&["run", "--fail-on", bad], LIMIT);
        assert_eq!(out.code, 2, "{bad}: {}", out.stderr);
        assert!(out.stderr.contains("--fail-on"), "{}", out.stderr);
    }
}

#[test]
fn a_malformed_file_is_refused_with_its_position() {
    let dir = temp_dir();
    let file = dir.path().join("expect.yaml");
    std::fs::write(&file, "# ok\nping.one: PASS\nping.two: PASSED  # typo\n").expect("write");
    let file = file.to_str().expect("utf-8 path");
    let out = wsprobe(&["run", "--expect", file], LIMIT);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(&format!("{file}:3:11")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("unknown verdict `PASSED`"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("nothing was run"), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    let missing = dir.path().join("absent.yaml");
    let out = wsprobe(
        &["run", "--expect", missing.to_str().expect("utf-8")],
        LIMIT,
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("cannot read expectations"),
        "{}",
        out.stderr
    );
}
