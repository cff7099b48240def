//! Nothing judged from bytes that were never captured (issue 11): payload bytes cut by the
//! snaplen or lost are marked missing in every output (text, JSON, YAML, traces), no rule that
//! reads payload bytes runs over them, and a handshake whose heads the snaplen cut after their
//! start lines is still recognised, with or without `--port`.

mod common;

use wsprobe::pcap::{self, Event, Options, Sink};

/// `wsprobe ARGS` in the crate root, bounded in time: (exit code, stdout).
fn wsprobe(args: &[&str]) -> (i32, String) {
    let out = common::wsprobe(args, std::time::Duration::from_secs(60));
    (out.code, out.stdout)
}

const CUT: &str = "fixtures/edge-snaplen-160.pcap";

/// `[start, end)` ranges not captured.
type Ranges = Vec<(u64, u64)>;

#[derive(Default)]
struct Seen {
    violations: Vec<String>,
    /// (opcode, missing bytes, missing ranges) per frame.
    frames: Vec<(String, u64, Ranges)>,
    /// (opcode, missing ranges, incomplete) per message.
    messages: Vec<(String, Ranges, bool)>,
    handshakes: Vec<bool>,
}

impl Sink for Seen {
    fn event(&mut self, event: &Event<'_>) {
        match event {
            Event::Violation(v) => self.violations.push(v.violation.detail.clone()),
            Event::Frame(f) => {
                self.frames.push((
                    f.header.opcode.name().to_string(),
                    f.missing,
                    f.missing_ranges.to_vec(),
                ));
                // The stand-in bytes are zeros; the ranges say which they are.
                for &(a, b) in f.missing_ranges {
                    assert!(f.payload[a as usize..b as usize].iter().all(|&x| x == 0));
                }
            }
            Event::Message(m) => self.messages.push((
                m.opcode.name().to_string(),
                m.missing.to_vec(),
                m.incomplete,
            )),
            Event::Handshake(h) => self.handshakes.push(h.cut),
            _ => {}
        }
    }
}

fn decode(path: &str, port: Option<u16>) -> Seen {
    let mut seen = Seen::default();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let options = Options {
        port,
        ..Options::default()
    };
    pcap::analyze_file(&path, &options, &mut seen).expect("reads");
    seen
}

#[test]
fn a_snaplen_cut_capture_with_port_has_no_violation_from_missing_bytes() {
    for port in [Some(80), None] {
        let seen = decode(CUT, port);
        // Zeros for the text's missing bytes unmask to invalid UTF-8 with this key, and zeros
        // for the server's close payload read as close code 0: both were reported before.
        assert!(
            seen.violations.is_empty(),
            "{port:?}: {:?}",
            seen.violations
        );
        let text = &seen.frames[0];
        assert_eq!(text.0, "text");
        assert_eq!((text.1, text.2.clone()), (202, vec![(98, 300)]), "{port:?}");
        let close = &seen.frames[2];
        assert_eq!((close.0.as_str(), close.1), ("close", 16));
        assert_eq!(seen.frames.len(), 4, "the client's close is decoded too");
        let msg = &seen.messages[0];
        assert_eq!((msg.1.clone(), msg.2), (vec![(98, 300)], true));
    }
    let (code, out) = wsprobe(&["inspect", CUT, "--port", "80", "--check"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_handshake_cut_after_its_start_lines_is_recognised_without_port() {
    for (file, frames) in [(CUT, 4), ("fixtures/edge-snaplen-96.pcap", 5)] {
        let seen = decode(file, None);
        assert_eq!(seen.handshakes, vec![true], "{file}");
        assert_eq!(seen.frames.len(), frames, "{file}");
        assert!(seen.violations.is_empty(), "{file}: {:?}", seen.violations);
    }
    let (_, out) = wsprobe(&["inspect", "fixtures/edge-snaplen-96.pcap"]);
    assert!(
        out.contains("accept not captured (cut by the snaplen)"),
        "{out}"
    );
    let (_, json) = wsprobe(&[
        "inspect",
        "fixtures/edge-snaplen-96.pcap",
        "--format",
        "json",
    ]);
    let handshake = json
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
        .find(|v| v["type"] == "handshake")
        .expect("a handshake");
    assert_eq!(handshake["cut_by_snaplen"], true);
    assert!(handshake["accept_ok"].is_null(), "not checked, not false");
}

#[test]
fn missing_bytes_are_marked_in_text_json_yaml_and_traces() {
    let (_, text) = wsprobe(&["inspect", CUT]);
    assert!(
        text.contains(r#"close             16 "[16 bytes not captured]" [16 bytes not captured]"#),
        "{text}"
    );
    let (_, messages) = wsprobe(&["inspect", CUT, "--messages"]);
    assert!(
        messages.contains("[202 bytes not captured] [incomplete]"),
        "{messages}"
    );
    let (_, json) = wsprobe(&["inspect", CUT, "--format", "json"]);
    let frames: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .filter(|v: &serde_json::Value| v["type"] == "frame")
        .collect();
    let close = &frames[2];
    assert_eq!(close["missing_ranges"], serde_json::json!([[0, 16]]));
    assert_eq!(close["payload_hex"], "??".repeat(16));
    assert!(
        frames[3].get("missing_ranges").is_none(),
        "only when missing"
    );
    let (_, yaml) = wsprobe(&["inspect", CUT, "--format", "yaml"]);
    assert!(yaml.contains("missing_ranges"), "{yaml}");
    assert!(yaml.contains("??"), "{yaml}");
    let dir = tempfile::tempdir().expect("temp dir");
    let trace = dir.path().join("cut.trace");
    let trace_arg = trace.to_string_lossy().into_owned();
    let (code, _) = wsprobe(&["inspect", CUT, "--snapshot", &trace_arg, "--update"]);
    assert_eq!(code, 0);
    let trace = std::fs::read_to_string(&trace).expect("trace written");
    assert!(trace.contains("[16 bytes not captured]"), "{trace}");
    assert!(
        !trace.contains("code=0"),
        "no close code read from zeros: {trace}"
    );
}
