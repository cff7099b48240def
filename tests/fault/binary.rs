//! The real binary: `wsprobe serve --fault`, `--fault list` and `--list-faults`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use wsprobe::serve::{Fault, faults};

fn wsprobe(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_wsprobe"))
        .args(args)
        .output()
        .expect("binary runs")
}

#[test]
fn list_faults_prints_every_name_with_its_description() {
    for args in [
        &["serve", "--list-faults"][..],
        &["serve", "--fault", "list"][..],
    ] {
        let out = wsprobe(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let stdout = String::from_utf8(out.stdout).expect("utf-8");
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), faults().len() + 1, "{stdout}");
        assert!(lines[0].starts_with("none "));
        for (line, info) in lines[1..].iter().zip(faults()) {
            assert!(line.starts_with(info.name), "{line}");
            assert!(line.contains(info.description), "{line}");
        }
    }
}

#[test]
fn unknown_fault_is_a_usage_error_listing_the_names() {
    let out = wsprobe(&["serve", "--fault", "no-png"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).expect("utf-8");
    assert!(stderr.contains("unknown fault 'no-png'"), "{stderr}");
    assert!(stderr.contains("did you mean 'no-pong'?"), "{stderr}");
    for name in Fault::names() {
        assert!(stderr.contains(name), "{name} missing: {stderr}");
    }
}

#[test]
fn fault_and_mode_are_mutually_exclusive() {
    let out = wsprobe(&["serve", "--fault", "no-pong", "--mode", "counter"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).expect("utf-8");
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}

#[test]
fn serve_fault_prints_the_url_first() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wsprobe"))
        .args(["serve", "--port", "0", "--fault", "none"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(10));
    let _ = child.kill();
    let _ = child.wait();
    let line = line.expect("a first line within 10s");
    assert!(line.starts_with("ws://127.0.0.1:"), "{line:?}");
}
