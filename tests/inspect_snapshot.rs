//! Snapshot testing of captures: `wsprobe inspect CAPTURE --snapshot FILE` renders the capture's
//! connections as a canonical trace, `--update` records it, `--check` (the default) compares and
//! shows a unified diff at the frame that changed. The capture is edited in place, one payload
//! byte, with no checksum recomputed: wsprobe does not verify TCP or IP checksums.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{root, temp_dir, wsprobe};

const LIMIT: Duration = Duration::from_secs(60);

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Copies a fixture into `dir`, returning the copy's path.
fn copy_fixture(name: &str, dir: &Path) -> PathBuf {
    let to = dir.join(name);
    std::fs::copy(root().join("fixtures").join(name), &to).expect("copy fixture");
    to
}

#[test]
fn update_then_check_passes_and_the_file_is_canonical() {
    let dir = temp_dir();
    let cap = copy_fixture("counter-ws.pcap", dir.path());
    let snap = dir.path().join("snaps").join("counter.trace");
    std::fs::create_dir(snap.parent().expect("parent")).expect("mkdir");
    let out = wsprobe(
        &["inspect", s(&cap), "--snapshot", s(&snap), "--update"],
        LIMIT,
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("snapshot written:"), "{}", out.stdout);
    let text = std::fs::read_to_string(&snap).expect("snapshot written");
    assert!(
        text.starts_with("# wsprobe trace v1\n# capture counter-ws.pcap\nconnection conn 0\n"),
        "{text}"
    );
    // Nothing that depends on where the capture lies or when it was made, and no port.
    assert!(!text.contains(s(dir.path())), "{text}");
    assert!(text.contains("Host: 127.0.0.1:[port]"), "{text}");
    assert!(text.contains("Sec-WebSocket-Key: [key]"), "{text}");
    assert!(text.contains("sec-websocket-accept: [accept]"), "{text}");
    assert!(text.contains("  s>c text F---- len=2 \"10\"\n"), "{text}");
    assert!(text.contains("  c>s close F---M len=2 code=1000"), "{text}");
    assert_eq!(
        text.matches("  tcp ").count(),
        2,
        "one open and one end: {text}"
    );
    let digits_after_colon = text
        .split(':')
        .skip(1)
        .filter(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        .count();
    assert_eq!(digits_after_colon, 0, "no host:port left: {text}");
    // --check is the default with --snapshot; both spellings match.
    for extra in [&[][..], &["--check"][..]] {
        let mut args = vec!["inspect", s(&cap), "--snapshot", s(&snap)];
        args.extend_from_slice(extra);
        let out = wsprobe(&args, LIMIT);
        assert_eq!(out.code, 0, "{args:?}: {}{}", out.stdout, out.stderr);
        assert!(out.stdout.contains("snapshot matched:"), "{}", out.stdout);
    }
    // Updating an unchanged snapshot leaves it alone.
    let out = wsprobe(
        &["inspect", s(&cap), "--snapshot", s(&snap), "--update"],
        LIMIT,
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(out.stdout.contains("snapshot unchanged:"), "{}", out.stdout);
    let files: Vec<_> = std::fs::read_dir(snap.parent().expect("parent"))
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(files.len(), 1, "no temporary file left: {files:?}");
}

#[test]
fn one_flipped_payload_byte_fails_the_check_at_that_frame() {
    let dir = temp_dir();
    let cap = copy_fixture("counter-ws.pcap", dir.path());
    let snap = dir.path().join("counter.trace");
    let out = wsprobe(
        &["inspect", s(&cap), "--snapshot", s(&snap), "--update"],
        LIMIT,
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    // The server's frame `81 01 35`: FIN text, 1 byte, "5". Make it "6"; TCP and IP checksums
    // are left wrong on purpose.
    let mut bytes = std::fs::read(&cap).expect("read copy");
    let at: Vec<usize> = bytes
        .windows(3)
        .enumerate()
        .filter(|(_, w)| *w == b"\x81\x015")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at.len(), 1, "the frame is in the fixture once");
    bytes[at[0] + 2] = b'6';
    std::fs::write(&cap, &bytes).expect("write copy");
    let out = wsprobe(&["inspect", s(&cap), "--snapshot", s(&snap)], LIMIT);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("snapshot mismatch:"), "{}", out.stdout);
    assert!(
        out.stdout.contains("capture counter-ws.pcap"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("\n-  s>c text F---- len=1 \"5\"\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("\n+  s>c text F---- len=1 \"6\"\n"),
        "{}",
        out.stdout
    );
    // Exactly that frame changed.
    let changed: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| {
            (l.starts_with('-') && !l.starts_with("---"))
                || (l.starts_with('+') && !l.starts_with("+++"))
        })
        .collect();
    assert_eq!(changed.len(), 2, "{}", out.stdout);
    // The stored snapshot is untouched by a failed check.
    let stored = std::fs::read_to_string(&snap).expect("snapshot");
    assert!(stored.contains("len=1 \"5\""), "{stored}");
}

#[test]
fn a_missing_snapshot_is_pending_and_fails_the_check() {
    let dir = temp_dir();
    let snap = dir.path().join("none.trace");
    let cap = root().join("fixtures").join("echo-fragments.pcap");
    let out = wsprobe(&["inspect", s(&cap), "--snapshot", s(&snap)], LIMIT);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("snapshot pending:"), "{}", out.stdout);
    assert!(!snap.exists(), "a check writes nothing");
}

#[test]
fn redact_header_hides_a_value_in_the_capture_trace() {
    let dir = temp_dir();
    let snap = dir.path().join("x.trace");
    let cap = root().join("fixtures").join("echo-fragments.pcap");
    let out = wsprobe(
        &[
            "inspect",
            s(&cap),
            "--snapshot",
            s(&snap),
            "--update",
            "--redact-header",
            "user-agent",
        ],
        LIMIT,
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let text = std::fs::read_to_string(&snap).expect("snapshot");
    assert!(text.contains("User-Agent: [redacted]"), "{text}");
    assert!(!text.contains("websockets/"), "{text}");
}

#[test]
fn snapshot_flags_are_validated() {
    let cap = root().join("fixtures").join("echo-fragments.pcap");
    let out = wsprobe(&["inspect", s(&cap), "--update"], LIMIT);
    assert_eq!(out.code, 2, "--update needs --snapshot: {}", out.stderr);
    let out = wsprobe(&["inspect", s(&cap), "--redact-header", "Server"], LIMIT);
    assert_eq!(
        out.code, 2,
        "--redact-header needs --snapshot: {}",
        out.stderr
    );
    let out = wsprobe(
        &[
            "inspect",
            s(&cap),
            "--snapshot",
            "x.trace",
            "--check",
            "--update",
        ],
        LIMIT,
    );
    assert_eq!(out.code, 2, "--check and --update conflict: {}", out.stderr);
    let out = wsprobe(
        &["inspect", s(&cap), "--snapshot", "x.trace", "--messages"],
        LIMIT,
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
}
