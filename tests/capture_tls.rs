//! Captures of wss traffic (fixtures/tls/, recorded on loopback with their key logs, see
//! fixtures/README.md): TLS is recognised and reported without a key log, decrypted with one
//! (TLS 1.3, TLS 1.2 AES-GCM, TLS 1.2 ChaCha20-Poly1305, and a key log embedded in a pcapng) to
//! the same WebSocket frames tshark decrypts from the same capture, a wrong key log is a clear
//! notice and no frames, and damaged TLS gives notices, never a panic.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::tshark::Row;
use serde_json::Value;
use wsprobe::pcap::{self, Event, KeyLog, Options, Sink};

const LIMIT: Duration = Duration::from_secs(60);

fn tls_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tls")
}

/// The TLS fixtures with a key log next to them: (capture, key log).
const KEYED: [&str; 3] = ["wss-tls13", "wss-tls12-gcm", "wss-tls12-chacha"];

fn keylog_of(stem: &str) -> KeyLog {
    let text = std::fs::read_to_string(tls_dir().join(format!("{stem}.keylog"))).expect("keylog");
    KeyLog::parse(&text).expect("the fixture's key log parses")
}

/// A TLS event: SNI, version, cipher suite, ALPN, why not decrypted.
type TlsSeen = (
    Option<String>,
    Option<u16>,
    Option<u16>,
    Option<String>,
    Option<String>,
);

/// Everything a run reports, kept for the assertions.
#[derive(Default)]
struct Seen {
    frames: Vec<Row>,
    tls: Vec<TlsSeen>,
    warnings: Vec<String>,
    messages: Vec<Vec<u8>>,
}

impl Sink for Seen {
    fn event(&mut self, event: &Event<'_>) {
        match event {
            Event::Frame(f) => self.frames.push(Row::of(f)),
            Event::Message(m) => self.messages.push(m.data.to_vec()),
            Event::Tls(t) => self.tls.push((
                t.sni.map(str::to_string),
                t.version,
                t.suite,
                t.alpn.map(str::to_string),
                t.not_decrypted.map(str::to_string),
            )),
            Event::Warning(w) => self.warnings.push(w.message.to_string()),
            _ => {}
        }
    }
}

fn run(capture: &Path, keys: &KeyLog) -> (Seen, pcap::CaptureSummary) {
    let mut seen = Seen::default();
    let summary = pcap::analyze_file_with_keys(capture, &Options::default(), keys, &mut seen)
        .expect("the capture reads");
    (seen, summary)
}

fn run_bytes(bytes: &[u8], keys: &KeyLog) -> Seen {
    let mut seen = Seen::default();
    let _ = pcap::analyze_with_keys(bytes, &Options::default(), keys, &mut seen);
    seen
}

/// tshark's frames from a `-T json -x --no-duplicate-keys` export.
fn tshark_rows(json: &Value) -> Vec<Row> {
    common::tshark::rows(json)
}

fn tshark_of(stem: &str) -> Vec<Row> {
    let text = std::fs::read_to_string(tls_dir().join(format!("{stem}.tshark.json")))
        .expect("tshark export");
    tshark_rows(&serde_json::from_str(&text).expect("json"))
}

#[test]
fn decrypted_frames_equal_tsharks() {
    let mut cases: Vec<(PathBuf, KeyLog, &str)> = KEYED
        .iter()
        .map(|stem| {
            (
                tls_dir().join(format!("{stem}.pcap")),
                keylog_of(stem),
                *stem,
            )
        })
        .collect();
    // wsprobe's own TLS client and server (run --target wss:// --insecure against serve --tls,
    // SSLKEYLOGFILE set for both): seven connections, each its own TLS 1.3 session.
    cases.push((
        tls_dir().join("wss-wsprobe.pcap"),
        keylog_of("wss-wsprobe"),
        "wss-wsprobe",
    ));
    // The key log embedded in the pcapng: no --keylog needed.
    cases.push((
        tls_dir().join("wss-tls13-dsb.pcapng"),
        KeyLog::default(),
        "wss-tls13-dsb",
    ));
    for (cap, keys, stem) in cases {
        let (seen, summary) = run(&cap, &keys);
        let theirs = tshark_of(stem);
        assert!(
            theirs.len() >= 14,
            "{stem}: tshark decrypted {}",
            theirs.len()
        );
        let mut ours = seen.frames.clone();
        ours.sort();
        let mut theirs_sorted = theirs.clone();
        theirs_sorted.sort();
        assert_eq!(ours, theirs_sorted, "{stem}: frames differ from tshark's");
        assert!(seen.warnings.is_empty(), "{stem}: {:?}", seen.warnings);
        assert_eq!(summary.violations, 0, "{stem}");
        assert_eq!(seen.tls.len(), summary.connections.len(), "{stem}");
        for (_, _, _, alpn, not) in &seen.tls {
            assert_eq!(not, &None, "{stem}: decrypted");
            assert_eq!(alpn.as_deref(), Some("http/1.1"), "{stem}");
        }
        if stem == "wss-wsprobe" {
            assert_eq!(summary.connections.len(), 7);
            // The first connection only checks the target (TLS handshake, then closed).
            let kinds: Vec<&str> = summary.connections.iter().map(|c| c.kind.name()).collect();
            assert_eq!(kinds[0], "tls", "{kinds:?}");
            assert!(kinds[1..].iter().all(|k| *k == "websocket"), "{kinds:?}");
            continue;
        }
        // The messages the session sent, echoed.
        assert!(
            seen.messages
                .iter()
                .filter(|m| *m == b"hello over tls")
                .count()
                == 2
                && seen
                    .messages
                    .iter()
                    .filter(|m| *m == b"one two three")
                    .count()
                    == 2,
            "{stem}"
        );
    }
}

#[test]
fn versions_and_suites_are_reported() {
    for (stem, version, suite) in [
        ("wss-tls13", 0x0304, 0x1302),
        ("wss-tls12-gcm", 0x0303, 0xc02f),
        ("wss-tls12-chacha", 0x0303, 0xcca8),
    ] {
        for keys in [KeyLog::default(), keylog_of(stem)] {
            let (seen, _) = run(&tls_dir().join(format!("{stem}.pcap")), &keys);
            assert_eq!(seen.tls.len(), 1, "{stem}");
            let (sni, v, s, _, _) = &seen.tls[0];
            assert_eq!(sni.as_deref(), Some("localhost"), "{stem}");
            assert_eq!((*v, *s), (Some(version), Some(suite)), "{stem}");
        }
    }
}

#[test]
fn without_a_key_log_tls_is_reported_and_nothing_decoded() {
    for stem in KEYED {
        let (seen, summary) = run(&tls_dir().join(format!("{stem}.pcap")), &KeyLog::default());
        assert!(seen.frames.is_empty(), "{stem}: no frames without keys");
        let (_, _, _, _, not) = &seen.tls[0];
        assert!(
            not.as_deref().is_some_and(|w| w.contains("--keylog")),
            "{stem}: {not:?}"
        );
        assert_eq!(seen.warnings.len(), 1, "{stem}: {:?}", seen.warnings);
        assert!(
            seen.warnings[0].contains("not decrypted"),
            "{:?}",
            seen.warnings
        );
        assert_eq!(summary.connections[0].kind.name(), "tls");
        let t = &summary.total;
        assert_eq!(t.accounted(), t.wire_bytes, "{stem}: every byte in one row");
        assert!(
            t.tls > 0 && t.other_payload > 0,
            "{stem}: records and undecrypted data"
        );
        assert_eq!(t.ws_frames + t.http_messages, 0);
    }
}

#[test]
fn the_ledger_counts_tls_records_as_their_own_layer() {
    for stem in KEYED {
        let cap = tls_dir().join(format!("{stem}.pcap"));
        let (_, plain) = run(&cap, &KeyLog::default());
        let (_, keyed) = run(&cap, &keylog_of(stem));
        let (p, k) = (&plain.total, &keyed.total);
        assert_eq!(k.accounted(), k.wire_bytes, "{stem}");
        assert_eq!(
            k.other_payload, 0,
            "{stem}: everything decrypted and decoded"
        );
        assert_eq!(k.http_messages, 2, "{stem}");
        assert_eq!(k.ws_frames, 15, "{stem}");
        // Decrypting moves application data out of "other", and TLS 1.3 handshake records
        // (protected, so other payload without keys) into the TLS row.
        assert_eq!(
            p.tls + p.other_payload,
            k.tls + k.http_head + k.http_body + k.ws_header + k.ws_mask + k.ws_payload,
            "{stem}"
        );
        assert!(k.tls >= p.tls, "{stem}");
        assert_eq!(keyed.connections[0].kind.name(), "websocket");
    }
}

#[test]
fn a_wrong_key_log_is_a_clear_notice_and_no_frames() {
    let cap = tls_dir().join("wss-tls13.pcap");
    // Another session's secrets.
    let (seen, _) = run(&cap, &keylog_of("wss-tls12-gcm"));
    assert!(seen.frames.is_empty());
    assert!(
        seen.warnings
            .iter()
            .any(|w| w.contains("the key log has no secrets for this session")),
        "{:?}",
        seen.warnings
    );
    // The right client random with damaged secrets: records do not authenticate.
    for stem in KEYED {
        let text = std::fs::read_to_string(tls_dir().join(format!("{stem}.keylog"))).expect("log");
        let damaged: String = text
            .lines()
            .map(|l| {
                if l.starts_with('#') {
                    l.to_string()
                } else {
                    // Flip the last hex digit of the secret.
                    let mut s = l.to_string();
                    let last = s.pop().expect("a digit");
                    s.push(if last == '0' { '1' } else { '0' });
                    s
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let keys = KeyLog::parse(&damaged).expect("still well-formed");
        let (seen, _) = run(&tls_dir().join(format!("{stem}.pcap")), &keys);
        assert!(seen.frames.is_empty(), "{stem}: no garbage frames");
        assert_eq!(
            seen.warnings.len(),
            1,
            "{stem}: one notice: {:?}",
            seen.warnings
        );
        assert!(
            seen.warnings[0].contains("does not decrypt with the key log's secrets"),
            "{stem}: {:?}",
            seen.warnings
        );
        // TLS 1.3 reports its parameters after the server's Finished, which did not decrypt:
        // the event says so too. (TLS 1.2 reports at the ServerHello, before any record.)
        if stem == "wss-tls13" {
            let (_, _, _, _, not) = &seen.tls[0];
            assert!(
                not.as_deref()
                    .is_some_and(|w| w.contains("does not decrypt")),
                "{not:?}"
            );
        }
    }
}

#[test]
fn cut_and_damaged_tls_captures_give_notices_not_panics() {
    for stem in KEYED {
        let bytes = std::fs::read(tls_dir().join(format!("{stem}.pcap"))).expect("capture");
        let keys = keylog_of(stem);
        let full = run_bytes(&bytes, &keys).frames.len();
        assert_eq!(full, 15, "{stem}");
        // Cut anywhere: fewer frames, never a panic, never a frame tshark would not show.
        let theirs = tshark_of(stem);
        for cut in (24..bytes.len()).step_by(97) {
            let seen = run_bytes(&bytes[..cut], &keys);
            for f in &seen.frames {
                assert!(theirs.contains(f), "{stem} cut at {cut}: {f:?}");
            }
        }
        // One byte changed in each packet's last payload byte in turn: a protected record that
        // no longer authenticates stops its direction with a notice; no garbage frames.
        let mut damaged_runs = 0;
        for at in (200..bytes.len()).step_by(53) {
            let mut copy = bytes.clone();
            copy[at] ^= 0x5a;
            let seen = run_bytes(&copy, &keys);
            for f in &seen.frames {
                if !theirs.contains(f) {
                    // Only the byte changed inside a frame's plaintext could do that, and TLS
                    // authentication rules it out: every frame shown was on the wire.
                    panic!("{stem}: byte {at} changed gave a frame tshark did not see: {f:?}");
                }
            }
            if !seen.warnings.is_empty() {
                damaged_runs += 1;
            }
        }
        assert!(damaged_runs > 0, "{stem}: some damage is noticed");
    }
}

#[test]
fn inspect_cli_keylog_flag() {
    let dir = common::temp_dir();
    let cap = tls_dir().join("wss-tls12-gcm.pcap");
    let cap = cap.to_str().expect("utf-8");
    let good = tls_dir().join("wss-tls12-gcm.keylog");
    let out = common::wsprobe(
        &["inspect", cap, "--keylog", good.to_str().expect("utf-8")],
        LIMIT,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("15 websocket frames"), "{}", out.stdout);
    assert!(out.stdout.contains("== tls: TLS 1.2, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, sni localhost, alpn http/1.1; decrypted with the key log"), "{}", out.stdout);
    let out = common::wsprobe(&["inspect", cap], LIMIT);
    assert_eq!(out.code, 0);
    assert!(
        out.stdout
            .contains("content not decrypted: no key log (give one with --keylog FILE)"),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("not decrypted"), "{}", out.stderr);
    // A malformed line is a usage error naming file and line.
    let bad = dir.path().join("bad.keylog");
    std::fs::write(&bad, "# ok\nCLIENT_RANDOM 00 11\n").expect("write");
    for cmd in ["inspect", "overhead"] {
        let out = common::wsprobe(&[cmd, cap, "--keylog", bad.to_str().expect("utf-8")], LIMIT);
        assert_eq!(out.code, 2, "{cmd}: {}", out.stderr);
        assert!(
            out.stderr.contains(&format!("{}:2:", bad.display())),
            "{cmd}: {}",
            out.stderr
        );
        assert!(!out.stderr.contains("panicked"));
    }
    let out = common::wsprobe(&["inspect", cap, "--keylog", "/nonexistent/keys"], LIMIT);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("cannot read key log"), "{}", out.stderr);
    // overhead with the key log: the TLS row, no undecoded payload.
    let out = common::wsprobe(
        &[
            "overhead",
            cap,
            "--keylog",
            good.to_str().expect("utf-8"),
            "--format",
            "json",
        ],
        LIMIT,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(v["total"]["other_payload"], 0, "{}", out.stdout);
    assert!(
        v["total"]["tls"].as_u64().is_some_and(|n| n > 0),
        "{}",
        out.stdout
    );
    assert_eq!(
        v["connections"][0]["carries"], "websocket",
        "{}",
        out.stdout
    );
}

/// `--snapshot` traces a decrypted capture like a plain one.
#[test]
fn snapshot_trace_of_a_decrypted_capture() {
    let dir = common::temp_dir();
    let snap = dir.path().join("wss.trace");
    let cap = tls_dir().join("wss-tls12-chacha.pcap");
    let keys = tls_dir().join("wss-tls12-chacha.keylog");
    let args = [
        "inspect",
        cap.to_str().expect("utf-8"),
        "--keylog",
        keys.to_str().expect("utf-8"),
        "--snapshot",
        snap.to_str().expect("utf-8"),
        "--update",
    ];
    let out = common::wsprobe(&args, LIMIT);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let text = std::fs::read_to_string(&snap).expect("trace written");
    assert!(
        text.contains("  c>s text F---M len=14 \"hello over tls\"\n"),
        "{text}"
    );
    assert!(text.contains("  s>c close F---- len=5 code=1000"), "{text}");
    // Checking it again matches; without the key log there is nothing to match.
    let out = common::wsprobe(&args[..6], LIMIT);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let plain = [args[0], args[1], args[4], args[5]];
    let out = common::wsprobe(&plain, LIMIT);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("snapshot mismatch:"), "{}", out.stdout);
}

/// Golden output of `inspect` on a TLS capture, without and with the key log.
#[test]
fn inspect_golden_output_tls() {
    for (name, args) in [
        (
            "inspect-tls13-no-keylog",
            vec!["inspect", "fixtures/tls/wss-tls13.pcap"],
        ),
        (
            "inspect-tls13-keylog",
            vec![
                "inspect",
                "fixtures/tls/wss-tls13.pcap",
                "--keylog",
                "fixtures/tls/wss-tls13.keylog",
            ],
        ),
        (
            "overhead-tls12-gcm-keylog",
            vec![
                "overhead",
                "fixtures/tls/wss-tls12-gcm.pcap",
                "--keylog",
                "fixtures/tls/wss-tls12-gcm.keylog",
            ],
        ),
    ] {
        let out = common::wsprobe_in(&args, LIMIT, Some(Path::new(env!("CARGO_MANIFEST_DIR"))));
        let text = format!(
            "$ wsprobe {}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
            args.join(" "),
            out.code,
            out.stdout,
            out.stderr
        );
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(name, text);
        });
    }
}
