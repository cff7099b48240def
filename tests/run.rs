//! End-to-end tests of `wsprobe run` and `wsprobe list`: the built-in suites against the
//! embedded reference server, the counter example, exit codes for every kind of outcome, and
//! determinism of the output whatever `--jobs` is.

mod common;

use std::time::Duration;

use common::{redact, root, temp_dir, wsprobe};
use wsprobe::serve::{ServeConfig, ServeMode, Server};

const LIMIT: Duration = Duration::from_secs(120);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn start(rt: &tokio::runtime::Runtime, mode: ServeMode) -> Server {
    rt.block_on(Server::start(ServeConfig {
        host: "127.0.0.1".into(),
        port: 0,
        mode,
        max_message_size: 64 << 20,
    }))
    .expect("server starts")
}

#[test]
fn built_in_suites_all_pass_against_the_embedded_server() {
    let _serial = common::heavy();
    let out = wsprobe(&["run", "--color", "never"], LIMIT);
    assert_eq!(
        out.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    assert!(out.stdout.contains(" 0 failed"), "{}", out.stdout);
    assert!(!out.stdout.contains("FAIL "), "{}", out.stdout);
    assert!(out.stdout.contains("(embedded reference server)"));
}

#[test]
fn built_in_suites_pass_against_a_separately_started_server() {
    let _serial = common::heavy();
    let rt = runtime();
    let server = start(&rt, ServeMode::Echo);
    let url = server.url();
    let out = wsprobe(&["run", "--target", &url, "--exclude", "limits.*"], LIMIT);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    rt.block_on(server.shutdown());
}

#[test]
fn output_order_does_not_depend_on_jobs() {
    let _serial = common::heavy();
    // The 9.x performance cases are left out: they only add minutes of data in a debug build.
    let one = wsprobe(
        &[
            "run",
            "--jobs",
            "1",
            "--format",
            "json",
            "--exclude",
            "limits.*",
        ],
        LIMIT,
    );
    let many = wsprobe(
        &[
            "run",
            "--jobs",
            "16",
            "--format",
            "json",
            "--exclude",
            "limits.*",
        ],
        LIMIT,
    );
    assert_eq!(one.code, 0, "{}", one.stderr);
    let ids = |s: &str| -> Vec<String> {
        s.lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("json line");
                format!("{} {}", v["id"], v["verdict"])
            })
            .collect()
    };
    assert_eq!(ids(&one.stdout), ids(&many.stdout));
    assert!(ids(&one.stdout).len() > 50);
}

#[test]
fn counter_example_passes_against_counter_mode() {
    let rt = runtime();
    let server = start(
        &rt,
        ServeMode::Counter {
            count: 10,
            interval: Duration::from_millis(20),
        },
    );
    let url = server.url();
    let suite = root().join("suites/examples/counter.yaml");
    let out = wsprobe(
        &["run", suite.to_str().expect("utf-8 path"), "--target", &url],
        LIMIT,
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("PASS"));
    rt.block_on(server.shutdown());
}

#[test]
fn counter_example_fails_against_an_echo_server() {
    // A check that cannot fail is no check: the echo server never counts.
    let rt = runtime();
    let server = start(&rt, ServeMode::Echo);
    let url = server.url();
    let suite = root().join("suites/examples/counter.yaml");
    let out = wsprobe(
        &["run", suite.to_str().expect("utf-8 path"), "--target", &url],
        LIMIT,
    );
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("FAIL"));
    assert!(
        out.stdout.contains("suites/examples/counter.yaml:"),
        "{}",
        out.stdout
    );
    rt.block_on(server.shutdown());
}

#[test]
fn unreachable_target_exits_3_with_one_line() {
    // Bind then drop a listener to get a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let url = format!("ws://127.0.0.1:{port}/");
    let out = wsprobe(&["run", "--target", &url], LIMIT);
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(out.stderr.contains("cannot connect"), "{}", out.stderr);
    assert!(out.stdout.is_empty());
}

#[test]
fn a_typo_in_a_suite_exits_2_with_a_caret_and_runs_nothing() {
    let dir = temp_dir();
    let file = dir.path().join("typo.yaml");
    std::fs::write(
        &file,
        "suite: typo\ntitle: t\ncases:\n  - id: a.b\n    title: t\n    spec: RFC 6455 §5\n    steps:\n      - connect: {}\n      - sned: { text: hi }\n",
    )
    .expect("write suite");
    let out = wsprobe(&["run", file.to_str().expect("utf-8 path")], LIMIT);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("typo.yaml:9:9"), "{}", out.stderr);
    assert!(out.stderr.contains("^^^^"), "{}", out.stderr);
    assert!(out.stderr.contains("did you mean `send`"), "{}", out.stderr);
    assert!(out.stdout.is_empty());
}

#[test]
fn no_selected_case_exits_4() {
    let out = wsprobe(&["run", "--case", "no-such-case.*"], LIMIT);
    assert_eq!(out.code, 4, "{}", out.stderr);
}

#[test]
fn usage_errors_exit_2_before_anything_runs() {
    for args in [
        vec!["run", "--partition", "3/2"],
        vec!["run", "--timeout-scale", "0"],
        vec!["run", "--jobs", "0"],
        vec!["run", "--report", "xml=x"],
        vec!["run", "--report", "junit=/nonexistent-dir/x.xml"],
        vec!["run", "--target", "http://example.org/"],
        vec!["run", "--header", "no-colon"],
        vec!["run", "--no-such-flag"],
        vec!["run", "/nonexistent/suite.yaml"],
    ] {
        let out = wsprobe(&args, LIMIT);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
}

#[test]
fn partitions_split_the_cases_without_overlap() {
    let _serial = common::heavy();
    let ids = |k: &str| -> Vec<String> {
        let out = wsprobe(
            &[
                "run",
                "--partition",
                k,
                "--format",
                "json",
                "--case",
                "utf8.*",
            ],
            LIMIT,
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
        out.stdout
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
            // The last record is the run's summary, not a case.
            .filter(|v| v.get("summary").is_none())
            .map(|v| v["id"].as_str().expect("id").to_string())
            .collect()
    };
    let a = ids("1/2");
    let b = ids("2/2");
    // `run` without `--client` runs the cases that judge servers.
    let total = wsprobe::suite::load(&wsprobe::suite::embedded())
        .expect("built-in suites load")
        .iter()
        .flat_map(|s| &s.cases)
        .filter(|c| c.id.starts_with("utf8."))
        .filter(|c| c.peers.contains(&wsprobe::suite::model::PeerKind::Server))
        .count();
    assert!(total > 100, "{total}");
    assert_eq!(a.len() + b.len(), total);
    assert!(a.iter().all(|id| !b.contains(id)));
}

#[test]
fn reports_are_written_and_junit_parses() {
    let dir = temp_dir();
    let junit = dir.path().join("wsprobe.xml");
    let tap = dir.path().join("wsprobe.tap");
    let autobahn = dir.path().join("autobahn");
    let out = wsprobe(
        &[
            "run",
            "--case",
            "ping.*",
            "--report",
            &format!("junit={}", junit.display()),
            "--report",
            &format!("tap={}", tap.display()),
            "--report",
            &format!("autobahn={}", autobahn.display()),
        ],
        LIMIT,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let xml = std::fs::read_to_string(&junit).expect("junit written");
    let doc = roxmltree::Document::parse(&xml).expect("junit is well-formed xml");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(root.attribute("tests"), Some("11"));
    assert_eq!(root.attribute("failures"), Some("0"));
    let tap = std::fs::read_to_string(&tap).expect("tap written");
    assert!(tap.contains("1..11"));
    let index = std::fs::read_to_string(autobahn.join("index.json")).expect("index.json");
    let index: serde_json::Value = serde_json::from_str(&index).expect("index json");
    let agent = index
        .as_object()
        .and_then(|o| o.values().next())
        .expect("agent");
    assert_eq!(agent["2.5"]["behavior"], "OK");
    assert_eq!(agent["2.5"]["behaviorClose"], "OK");
    assert_eq!(agent["2.5"]["remoteCloseCode"], 1002);
}

#[test]
fn list_shows_ids_sections_and_levels() {
    let out = wsprobe(&["list"], LIMIT);
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("ping.payload-126"));
    assert!(out.stdout.contains("RFC 6455 §5.5"));
    assert!(out.stdout.contains("MUST"));
    let json = wsprobe(&["list", "--format", "json"], LIMIT);
    for line in json.stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("json line");
        assert!(v["id"].is_string() && v["spec"].is_string() && v["level"].is_string());
    }
}

#[test]
fn redact_helper_hides_durations_and_ports() {
    assert_eq!(
        redact("PASS a 12ms ws://127.0.0.1:4455/ in 1.5s"),
        "PASS a [dur] ws://127.0.0.1:[port]/ in [dur]"
    );
}
