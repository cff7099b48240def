//! Shell completions and manual pages are generated from the parser's own definitions: each
//! must name every subcommand (read from clap, so a new subcommand is covered without touching
//! this test) and the flags of `run`.

mod common;

use std::time::Duration;

use clap::CommandFactory;
use common::{temp_dir, wsprobe};

const LIMIT: Duration = Duration::from_secs(30);

fn subcommands() -> Vec<String> {
    wsprobe::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect()
}

fn run_flags() -> Vec<String> {
    let cli = wsprobe::cli::Cli::command();
    let run = cli
        .get_subcommands()
        .find(|c| c.get_name() == "run")
        .expect("a run subcommand");
    run.get_arguments()
        .filter_map(|a| a.get_long().map(str::to_string))
        .collect()
}

#[test]
fn completions_name_every_subcommand_and_flag() {
    let names = subcommands();
    assert!(names.len() >= 9, "{names:?}");
    let flags = run_flags();
    assert!(flags.iter().any(|f| f == "expect"), "{flags:?}");
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = wsprobe(&["completions", shell], LIMIT);
        assert_eq!(out.code, 0, "{shell}: {}", out.stderr);
        for name in &names {
            assert!(
                out.stdout.contains(name.as_str()),
                "{shell} lacks subcommand {name}"
            );
        }
        for flag in &flags {
            assert!(out.stdout.contains(flag.as_str()), "{shell} lacks --{flag}");
        }
    }
    let bad = wsprobe(&["completions", "tcsh"], LIMIT);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}

#[test]
fn the_man_pages_cover_every_subcommand() {
    let top = wsprobe(&["man"], LIMIT);
    assert_eq!(top.code, 0, "{}", top.stderr);
    assert!(
        top.stdout.starts_with(".ie") || top.stdout.contains(".TH wsprobe 1"),
        "{}",
        top.stdout
    );
    for name in subcommands() {
        assert!(top.stdout.contains(&name), "wsprobe.1 does not list {name}");
    }
    let run = wsprobe(&["man", "run"], LIMIT);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for flag in run_flags() {
        // roff escapes the dashes of option names.
        assert!(
            run.stdout
                .contains(&format!("\\-\\-{}", flag.replace('-', "\\-"))),
            "wsprobe-run.1 lacks --{flag}"
        );
    }
    let dir = temp_dir();
    let out = wsprobe(
        &["man", "--out", dir.path().to_str().expect("utf-8")],
        LIMIT,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(dir.path().join("wsprobe.1").is_file());
    for name in subcommands() {
        let page = dir.path().join(format!("wsprobe-{name}.1"));
        assert!(page.is_file(), "{} missing", page.display());
    }
    let unknown = wsprobe(&["man", "nope"], LIMIT);
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains("no subcommand 'nope'"),
        "{}",
        unknown.stderr
    );
}
