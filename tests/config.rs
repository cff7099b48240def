//! `wsprobe.toml` / `--config FILE`: defaults for `run` that the command line overrides, with
//! errors pointing at the file's line and column.

mod common;

use std::time::Duration;

use common::{temp_dir, wsprobe_in};

const LIMIT: Duration = Duration::from_secs(120);

#[test]
fn the_file_in_the_working_directory_sets_defaults_the_flags_override() {
    let dir = temp_dir();
    std::fs::write(
        dir.path().join("wsprobe.toml"),
        "[run]\ncase = [\"ping.empty\", \"ping.text-payload\"]\njobs = 2\n\
         expect = \"expect.yaml\"\nreport = [\"json=out.jsonl\"]\n",
    )
    .expect("write config");
    std::fs::write(
        dir.path().join("expect.yaml"),
        "ping.empty: PASS\nping.text-payload: PASS\nclose.code-1000: PASS\n",
    )
    .expect("write expectations");
    let out = wsprobe_in(&["run"], LIMIT, Some(dir.path()));
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("using configuration wsprobe.toml"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains("ping.empty") && out.stdout.contains("ping.text-payload"));
    assert!(!out.stdout.contains("close.code-1000"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("expectations: matches expect.yaml (2 cases)"),
        "{}",
        out.stdout
    );
    let json = std::fs::read_to_string(dir.path().join("out.jsonl")).expect("report written");
    assert_eq!(json.lines().count(), 3, "{json}");

    // A list flag on the command line replaces the file's list.
    let out = wsprobe_in(
        &["run", "--case", "close.code-1000"],
        LIMIT,
        Some(dir.path()),
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("close.code-1000"), "{}", out.stdout);
    assert!(!out.stdout.contains("ping.empty"), "{}", out.stdout);

    // --no-config ignores it: the whole built-in suite would run, so select by flag.
    let out = wsprobe_in(
        &["run", "--no-config", "--case", "ping.payload-125"],
        LIMIT,
        Some(dir.path()),
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        !out.stderr.contains("using configuration"),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains("expectations:"), "{}", out.stdout);
}

#[test]
fn an_explicit_file_must_exist_and_be_valid() {
    let dir = temp_dir();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[run]\ncase = [\"ping.*\"]\ntargte = \"ws://x/\"\n").expect("write");
    let bad = bad.to_str().expect("utf-8");
    let out = wsprobe_in(&["run", "--config", bad], LIMIT, None);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains(&format!("{bad}:3:1")), "{}", out.stderr);
    assert!(
        out.stderr.contains("unknown field `targte`"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
    let missing = dir.path().join("missing.toml");
    let out = wsprobe_in(
        &["run", "--config", missing.to_str().expect("utf-8")],
        LIMIT,
        None,
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("cannot read configuration"),
        "{}",
        out.stderr
    );
}
