//! Bad input everywhere, through the real binary: malformed suites (syntax, types, unknown keys,
//! deep nesting, alias bombs, not UTF-8, too large), paths that are missing, directories, devices
//! or FIFOs, report and trace paths that cannot be written. Each must give exit code 2 (nothing
//! was run), a message on stderr that names the input, no panic, and no file half-written.
//!
//! Captures for `wsprobe inspect` and `wsprobe overhead`: files that are not captures, truncated
//! captures, paths that are not regular files, and hostile contents (a 2^63-byte frame, ANSI
//! sequences), written here by a tiny pcap writer. Exit code 2 only when nothing could be read
//! (`docs/capture-output.md`); a capture cut after some packets warns with the packet number.

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

// ---- captures -------------------------------------------------------------------------------

/// An Ethernet/IPv4/TCP packet (checksums left zero: wsprobe does not check them).
fn tcp_packet(c2s: bool, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let (src, dst, sport, dport) = if c2s {
        ([10, 0, 0, 1], [10, 0, 0, 2], 50000u16, 80u16)
    } else {
        ([10, 0, 0, 2], [10, 0, 0, 1], 80, 50000)
    };
    let mut p = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0];
    let total = (40 + payload.len()) as u16;
    p.extend_from_slice(&[0x45, 0]);
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0, 1, 0x40, 0, 64, 6, 0, 0]);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(&sport.to_be_bytes());
    p.extend_from_slice(&dport.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ack.to_be_bytes());
    p.extend_from_slice(&[5 << 4, flags, 0xff, 0xff, 0, 0, 0, 0]);
    p.extend_from_slice(payload);
    p
}

/// One WebSocket connection: TCP handshake, then `talk` (true = client to server) in order.
fn conversation(talk: &[(bool, Vec<u8>)]) -> Vec<Vec<u8>> {
    let (mut cseq, mut sseq) = (1000u32, 5000u32);
    let mut out = vec![
        tcp_packet(true, cseq, 0, 0x02, b""),
        tcp_packet(false, sseq, cseq + 1, 0x12, b""),
    ];
    cseq += 1;
    sseq += 1;
    out.push(tcp_packet(true, cseq, sseq, 0x10, b""));
    for (c2s, data) in talk {
        if *c2s {
            out.push(tcp_packet(true, cseq, sseq, 0x18, data));
            cseq += data.len() as u32;
        } else {
            out.push(tcp_packet(false, sseq, cseq, 0x18, data));
            sseq += data.len() as u32;
        }
    }
    out
}

const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
const RESPONSE: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

/// A little-endian microsecond pcap of Ethernet packets.
fn pcap(packets: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    for v in [0u32, 0, 65535, 1] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for (i, p) in packets.iter().enumerate() {
        for v in [
            1_700_000_000u32,
            i as u32 * 1000,
            p.len() as u32,
            p.len() as u32,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(p);
    }
    out
}

/// A little-endian pcapng (one section, one Ethernet interface) of the same packets.
fn pcapng(packets: &[Vec<u8>]) -> Vec<u8> {
    fn block(out: &mut Vec<u8>, kind: u32, mut body: Vec<u8>) {
        body.resize(body.len().next_multiple_of(4), 0);
        let total = (12 + body.len()) as u32;
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&total.to_le_bytes());
        out.extend_from_slice(&body);
        out.extend_from_slice(&total.to_le_bytes());
    }
    let mut out = Vec::new();
    let mut shb = 0x1a2b_3c4du32.to_le_bytes().to_vec();
    shb.extend_from_slice(&[1, 0, 0, 0]);
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    block(&mut out, 0x0a0d_0d0a, shb);
    block(&mut out, 1, vec![1, 0, 0, 0, 0, 0, 0, 0]);
    for p in packets {
        let mut epb = Vec::new();
        for v in [0u32, 0, 0, p.len() as u32, p.len() as u32] {
            epb.extend_from_slice(&v.to_le_bytes());
        }
        epb.extend_from_slice(p);
        block(&mut out, 6, epb);
    }
    out
}

/// An unmasked server frame with a 7-bit length.
fn server_text(payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x81, payload.len() as u8];
    f.extend_from_slice(payload);
    f
}

fn hello() -> Vec<Vec<u8>> {
    conversation(&[
        (true, REQUEST.to_vec()),
        (false, RESPONSE.to_vec()),
        (false, server_text(b"one")),
        (false, server_text(b"two")),
    ])
}

/// Runs `inspect` (text and json) and `overhead` on `bytes` written as `name`.
fn run_capture(dir: &Path, name: &str, bytes: &[u8]) -> Vec<Output> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write the capture");
    run_capture_path(&path)
}

fn run_capture_path(path: &Path) -> Vec<Output> {
    let p = path.to_str().expect("utf-8 path");
    vec![
        wsprobe(&["inspect", p], LIMIT),
        wsprobe(&["inspect", "--format", "json", p], LIMIT),
        wsprobe(&["overhead", p], LIMIT),
    ]
}

/// Every run refused the input with exit 2 and one line naming it.
fn assert_capture_refused(outs: &[Output], name: &str, needles: &[&str]) {
    for out in outs {
        assert_usage(out, &[name]);
        assert_usage(out, needles);
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    }
}

/// Every run read what it could: exit 0, each stderr line a warning naming the file.
fn assert_capture_read(outs: &[Output], name: &str, needles: &[&str]) {
    for out in outs {
        assert_eq!(
            out.code, 0,
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
        for line in out.stderr.lines() {
            assert!(
                line.starts_with("wsprobe: warning: ") && line.contains(name),
                "{line}"
            );
        }
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    }
}

#[test]
fn files_that_are_not_captures_are_refused() {
    let dir = temp_dir();
    let d = dir.path();
    assert_capture_refused(
        &run_capture(d, "suite.yaml", VALID.as_bytes()),
        "suite.yaml",
        &["not a pcap or pcapng capture"],
    );
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert_capture_refused(
        &run_capture(d, "noise.bin", &noise),
        "noise.bin",
        &["not a pcap or pcapng capture"],
    );
    assert_capture_refused(&run_capture(d, "empty.pcap", b""), "empty.pcap", &["empty"]);
}

#[test]
fn truncated_captures_keep_what_was_read() {
    let dir = temp_dir();
    let d = dir.path();
    let whole = pcap(&hello());
    // A header alone is an empty capture, not an error.
    let outs = run_capture(d, "header.pcap", &whole[..24]);
    assert_capture_read(&outs, "header.pcap", &[]);
    assert!(
        outs[0].stdout.contains("0 packets (pcap)"),
        "{}",
        outs[0].stdout
    );
    // Cut inside the last record: the six whole packets, and a warning naming packet 6.
    let outs = run_capture(d, "cut.pcap", &whole[..whole.len() - 5]);
    assert_capture_read(
        &outs,
        "cut.pcap",
        &["the file is truncated: it ends inside the record after packet 6"],
    );
    assert!(
        outs[0].stdout.contains("6 packets (pcap)"),
        "{}",
        outs[0].stdout
    );
    assert!(outs[0].stdout.contains("\"one\""), "{}", outs[0].stdout);
    // Cut inside the first record: nothing could be read.
    assert_capture_refused(
        &run_capture(d, "first.pcap", &whole[..24 + 16 + 10]),
        "first.pcap",
        &["no packet could be read"],
    );
    // pcapng whose fifth packet block declares a length beyond the end of the file.
    let ng = pcapng(&hello());
    let mut at = 28 + 20;
    for _ in 0..4 {
        at += u32::from_le_bytes(ng[at + 4..at + 8].try_into().expect("4 bytes")) as usize;
    }
    let mut bad = ng.clone();
    bad[at + 4..at + 8].copy_from_slice(&0x00ff_fff0u32.to_le_bytes());
    let outs = run_capture(d, "bad-length.pcapng", &bad);
    assert_capture_read(&outs, "bad-length.pcapng", &["after packet 4"]);
    assert!(
        outs[0].stdout.contains("4 packets (pcapng)"),
        "{}",
        outs[0].stdout
    );
}

#[test]
fn capture_paths_that_are_not_regular_files_are_refused() {
    let dir = temp_dir();
    let missing = dir.path().join("missing.pcap");
    assert_capture_refused(
        &run_capture_path(&missing),
        "missing.pcap",
        &["cannot open"],
    );
    assert_capture_refused(
        &run_capture_path(dir.path()),
        &dir.path().display().to_string(),
        &["a directory"],
    );
    assert_capture_refused(
        &run_capture_path(Path::new("/dev/zero")),
        "/dev/zero",
        &["not a regular file"],
    );
    let fifo = dir.path().join("pipe.pcap");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    if made {
        assert_capture_refused(
            &run_capture_path(&fifo),
            "pipe.pcap",
            &["not a regular file"],
        );
    } else {
        eprintln!("mkfifo unavailable: FIFO case not checked");
    }
}

#[test]
fn hostile_captures_stay_small_and_never_print_escapes() {
    let dir = temp_dir();
    let evil_response = String::from_utf8(RESPONSE.to_vec())
        .expect("ascii")
        .replace(
            "\r\n\r\n",
            "\r\nX-Evil: \x1b]0;pwned\x07\x1b[2J\r\nSec-WebSocket-Protocol: \x1b]0;pwned\x07\r\n\r\n",
        );
    // ESC in header values: not a valid HTTP head, so the connection is reported, not decoded.
    let evil_head = conversation(&[
        (true, REQUEST.to_vec()),
        (false, evil_response.into_bytes()),
    ]);
    // A binary frame declaring 2^63 bytes, then a few; ESC in a text payload.
    let mut absurd = vec![0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0];
    absurd.extend_from_slice(b"xyz");
    let evil_frames = conversation(&[
        (true, REQUEST.to_vec()),
        (false, RESPONSE.to_vec()),
        (false, server_text(b"\x1b]0;pwned\x07\x1b[2J")),
        (false, absurd),
    ]);
    for (name, bytes) in [
        ("head.pcap", pcap(&evil_head)),
        ("frames.pcap", pcap(&evil_frames)),
        ("frames.pcapng", pcapng(&evil_frames)),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write the capture");
        let p = path.to_str().expect("utf-8 path");
        for args in [
            vec!["inspect", p],
            vec!["inspect", "--messages", p],
            vec!["inspect", "--format", "json", p],
            vec!["inspect", "--format", "yaml", "--messages", p],
            vec!["overhead", p],
        ] {
            let (out, usage) = common::wsprobe_measured(&args, LIMIT);
            assert_eq!(out.code, 0, "{args:?}\n{}\n{}", out.stdout, out.stderr);
            assert!(
                !out.stdout.contains('\x1b'),
                "{args:?}: ESC on stdout:\n{}",
                out.stdout
            );
            assert!(
                !out.stderr.contains('\x1b'),
                "{args:?}: ESC on stderr:\n{}",
                out.stderr
            );
            assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
            // The hostile text was there to print, escaped (or the head refused).
            assert!(
                out.stdout.contains("pwned")
                    || out.stderr.contains("not http")
                    || args[0] == "overhead",
                "{}",
                out.stdout
            );
            assert!(
                usage.peak_rss_kib < 200 * 1024,
                "{args:?}: peak RSS {} KiB",
                usage.peak_rss_kib
            );
            if name.starts_with("frames") && args[1] == "--format" && args[2] == "json" {
                assert!(out.stdout.contains("9223372036854775808"), "{}", out.stdout);
            }
        }
    }
}
