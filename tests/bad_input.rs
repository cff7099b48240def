//! Bad input everywhere, through the real binary: malformed suites (syntax, types, unknown keys,
//! deep nesting, alias bombs, not UTF-8, too large), paths that are missing, directories, devices
//! or FIFOs, report and trace paths that cannot be written. Each must give exit code 2 (nothing
//! was run), a message on stderr that names the input, no panic, and no file half-written.
//!
//! TODO(capture pipeline): non-capture files and truncated captures for `wsprobe inspect`.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{Output, temp_dir, wsprobe, wsprobe_in};

const LIMIT: Duration = Duration::from_secs(60);
/// Exit code for invalid input (`src/cli/exit.rs`).
const USAGE: i32 = 2;

const VALID: &str = "suite: ok\ntitle: ok\ncases:\n  - id: ok.echo\n    title: echo\n    spec: RFC 6455 §5.6\n    steps:\n      - connect: {}\n      - send: { text: hi }\n      - expect: { message: { text: hi } }\n";

/// Asserts a usage error whose stderr contains every one of `needles`, and no panic.
fn assert_usage(out: &Output, needles: &[&str]) {
    assert_eq!(
        out.code, USAGE,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    for n in needles {
        assert!(
            out.stderr.contains(n),
            "`{n}` not in stderr:\n{}",
            out.stderr
        );
    }
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert!(!out.stderr.contains("RUST_BACKTRACE"), "{}", out.stderr);
    // Nothing ran: no case line, no summary.
    assert!(out.stdout.is_empty(), "{}", out.stdout);
}

/// Writes `text` as a suite file in `dir` and runs `wsprobe run` and `wsprobe list` on it.
fn check_suite(dir: &Path, name: &str, text: &[u8], needles: &[&str]) {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write the suite");
    let p = path.to_str().expect("utf-8 path");
    assert_usage(&wsprobe(&["run", p], LIMIT), needles);
    assert_usage(&wsprobe(&["list", p], LIMIT), needles);
}

#[test]
fn yaml_syntax_error_points_at_the_line() {
    let dir = temp_dir();
    check_suite(
        dir.path(),
        "syntax.yaml",
        b"suite: s\ntitle: t\ncases: [ { id: a, \n",
        &["invalid yaml", "syntax.yaml:"],
    );
}

#[test]
fn wrong_types_point_at_the_value() {
    let dir = temp_dir();
    let text = VALID.replace("    steps:", "    timeout: 5\n    steps:");
    check_suite(
        dir.path(),
        "types.yaml",
        text.as_bytes(),
        &["types.yaml:7:", "needs a unit"],
    );
    check_suite(
        dir.path(),
        "cases.yaml",
        b"suite: s\ntitle: t\ncases: nope\n",
        &["`cases` is a list of cases", "cases.yaml:3:"],
    );
}

#[test]
fn unknown_keys_suggest_the_right_one() {
    let dir = temp_dir();
    let text = VALID.replace("      - send:", "      - sned:");
    check_suite(
        dir.path(),
        "unknown.yaml",
        text.as_bytes(),
        &[
            "unknown key `sned`",
            "did you mean `send`",
            "unknown.yaml:9:",
        ],
    );
}

#[test]
fn deep_nesting_is_refused_before_parsing() {
    let dir = temp_dir();
    let mut text = String::from("suite: s\ntitle: t\ncases: ");
    text.push_str(&"[".repeat(100_000));
    text.push_str(&"]".repeat(100_000));
    check_suite(
        dir.path(),
        "deep.yaml",
        text.as_bytes(),
        &["nesting is too deep", "deep.yaml:3:"],
    );
}

#[test]
fn alias_bombs_are_refused() {
    let dir = temp_dir();
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    text.push_str("suite: s\ntitle: t\ncases: *a11\n");
    check_suite(
        dir.path(),
        "bomb.yaml",
        text.as_bytes(),
        &["aliases expand to too large a document", "bomb.yaml:"],
    );
}

#[test]
fn non_utf8_and_empty_suites_are_named() {
    let dir = temp_dir();
    check_suite(
        dir.path(),
        "latin1.yaml",
        b"suite: s\ntitle: caf\xe9\n",
        &["not valid UTF-8", "latin1.yaml"],
    );
    check_suite(
        dir.path(),
        "empty.yaml",
        b"",
        &["suite file is empty", "empty.yaml"],
    );
}

#[test]
fn oversized_suite_files_are_not_read_whole() {
    let dir = temp_dir();
    let mut text = VALID.as_bytes().to_vec();
    text.extend(std::iter::repeat_n(b'#', 17 << 20));
    check_suite(
        dir.path(),
        "huge.yaml",
        &text,
        &["larger than 16 MiB", "huge.yaml"],
    );
}

#[test]
fn missing_files_are_named() {
    let dir = temp_dir();
    let missing = dir.path().join("missing.yaml");
    let p = missing.to_str().expect("utf-8 path");
    assert_usage(
        &wsprobe(&["run", p], LIMIT),
        &["no such file or directory", "missing.yaml"],
    );
}

#[test]
fn directories_devices_and_fifos_are_not_suite_files() {
    let dir = temp_dir();
    let empty = dir.path().join("empty-dir");
    std::fs::create_dir(&empty).expect("mkdir");
    assert_usage(
        &wsprobe(&["run", empty.to_str().expect("utf-8 path")], LIMIT),
        &["holds no suite files", "empty-dir"],
    );
    // A device never ends: reading it whole would exhaust memory.
    assert_usage(
        &wsprobe(&["run", "/dev/zero"], LIMIT),
        &["not a regular file", "/dev/zero"],
    );
    // A FIFO would block the open forever. mkfifo is a test-only helper here.
    let fifo = dir.path().join("pipe.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    if made {
        assert_usage(
            &wsprobe(&["run", fifo.to_str().expect("utf-8 path")], LIMIT),
            &["not a regular file", "pipe.yaml"],
        );
        // Also when found inside a directory.
        assert_usage(
            &wsprobe(&["run", dir.path().to_str().expect("utf-8 path")], LIMIT),
            &["not a regular file", "pipe.yaml"],
        );
    } else {
        eprintln!("mkfifo unavailable: FIFO case not checked");
    }
}

/// Report and trace paths are checked before anything runs, and a rejected run leaves no
/// report behind, not even one for a path that was fine.
#[test]
fn unwritable_report_paths_are_rejected_before_running() {
    let dir = temp_dir();
    std::fs::write(dir.path().join("suite.yaml"), VALID).expect("write the suite");
    std::fs::write(dir.path().join("file.txt"), "x").expect("write a file");
    std::fs::create_dir(dir.path().join("a-dir")).expect("mkdir");
    let readonly = dir.path().join("readonly");
    std::fs::create_dir(&readonly).expect("mkdir");
    let mut perms = std::fs::metadata(&readonly)
        .expect("metadata")
        .permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&readonly, perms).expect("chmod");

    let cases: &[(&[&str], &[&str])] = &[
        (
            &["--report", "junit=missing/report.xml"],
            &["missing/report.xml", "does not exist"],
        ),
        (
            &["--report", "json=file.txt/report.json"],
            &["file.txt", "is not a directory"],
        ),
        (&["--report", "tap=a-dir"], &["a-dir is a directory"]),
        (
            &["--report", "autobahn=file.txt"],
            &["file.txt exists and is not a directory"],
        ),
        (
            &["--report", "junit=readonly/report.xml"],
            &["readonly", "read-only"],
        ),
        (&["--report", "xml=out.xml"], &["unknown report kind 'xml'"]),
        (&["--traces", "missing/traces"], &["missing/traces"]),
        (
            &["--traces", "file.txt"],
            &["file.txt exists and is not a directory"],
        ),
        (&["--traces", "readonly"], &["readonly", "read-only"]),
        (&["--max-message-size", "0"], &["--max-message-size 0"]),
        (&["--header", "no colon"], &["--header 'no colon'"]),
        (&["--target", "http://x/"], &["http://x/", "ws://"]),
    ];
    for (extra, needles) in cases {
        let mut args = vec!["run", "suite.yaml", "--report", "json=good.json"];
        args.extend_from_slice(extra);
        let out = wsprobe_in(&args, LIMIT, Some(dir.path()));
        assert_usage(&out, needles);
        assert!(
            !dir.path().join("good.json").exists(),
            "{extra:?}: a report was written by a run that was refused"
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(leftovers.len(), 4, "no new file: {leftovers:?}");
}

/// A report that could not be written is never left half-written under its own name.
#[test]
fn reports_are_written_whole_or_not_at_all() {
    let dir = temp_dir();
    std::fs::write(dir.path().join("suite.yaml"), VALID).expect("write the suite");
    let out = wsprobe_in(
        &[
            "run",
            "suite.yaml",
            "--report",
            "json=out.json",
            "--report",
            "junit=out.xml",
        ],
        LIMIT,
        Some(dir.path()),
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    for name in ["out.json", "out.xml"] {
        let text = std::fs::read_to_string(dir.path().join(name)).expect("report written");
        assert!(!text.is_empty());
    }
    assert!(
        roxmltree::Document::parse(
            &std::fs::read_to_string(dir.path().join("out.xml")).expect("junit")
        )
        .is_ok()
    );
    let tmp: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(tmp.is_empty(), "temporary files left: {tmp:?}");
}
