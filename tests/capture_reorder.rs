//! Captures recorded out of order (issue 11): the reordering property over generated sessions
//! (the same function the `capture` fuzz target runs), and the `edge-reorder-*` fixtures
//! compared with tshark frame for frame and message for message, with the byte ledger showing
//! no loss and no invented retransmission.

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod targets;

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// A session and the same packets shuffled within a bounded window decode alike.
    #[test]
    fn reordering_within_the_window_changes_nothing(
        data in proptest::collection::vec(any::<u8>(), 0..2048)
    ) {
        targets::capture_reorder(&data);
    }
}

use std::path::{Path, PathBuf};

use serde_json::Value;
use wsprobe::pcap::{self, Event, Options, Sink};
use wsprobe::wire::Opcode;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The fixtures whose packets were recorded out of order, with every byte in the file.
const REORDERED: [&str; 4] = [
    "edge-reorder-ack-first.pcap",
    "edge-reorder-boundary.pcap",
    "edge-reorder-deflate.pcap",
    "edge-reorder-fin-first.pcap",
];

/// (packet, opcode, content as hex).
type Row = (u64, u8, String);

/// What wsprobe decoded: frames and messages as (packet, opcode, content hex), and what would
/// betray a wrong reassembly (gaps, warnings, violations).
#[derive(Default)]
struct Seen {
    frames: Vec<Row>,
    messages: Vec<Row>,
    /// (direction, header, payload) in order: what the same session in order must also give.
    sequence: Vec<String>,
    trouble: Vec<String>,
}

impl Sink for Seen {
    fn event(&mut self, event: &Event<'_>) {
        match event {
            Event::Frame(f) => {
                self.frames
                    .push((f.at.packet, f.header.opcode.as_u8(), hex(f.payload)));
                self.sequence.push(format!(
                    "{} fin={} rsv={} op={} mask={} {}",
                    f.dir.arrow(),
                    f.header.fin,
                    f.header.rsv,
                    f.header.opcode,
                    f.header.mask.is_some(),
                    hex(f.payload)
                ));
                if f.missing > 0 {
                    self.trouble
                        .push(format!("frame at {} misses bytes", f.at.packet));
                }
            }
            Event::Message(m) => {
                self.messages
                    .push((m.at.packet, m.opcode.as_u8(), hex(m.data)));
                if m.incomplete {
                    self.trouble
                        .push(format!("message at {} incomplete", m.at.packet));
                }
                if let pcap::events::Inflation::Failed(why) = &m.inflation {
                    self.trouble.push(format!("inflation failed: {why}"));
                }
            }
            Event::Gap(g) => self.trouble.push(format!("gap at {}", g.at.packet)),
            Event::Warning(w) => self.trouble.push(format!("warning: {}", w.message)),
            Event::Violation(v) => self
                .trouble
                .push(format!("violation: {}", v.violation.kind.name())),
            _ => {}
        }
    }
}

fn decode(path: &Path) -> (Seen, pcap::CaptureSummary) {
    let mut seen = Seen::default();
    let summary = pcap::analyze_file(path, &Options::default(), &mut seen).expect("reads");
    (seen, summary)
}

fn find<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Object(map) => map
            .get(key)
            .or_else(|| map.values().find_map(|x| find(x, key))),
        Value::Array(a) => a.iter().find_map(|x| find(x, key)),
        _ => None,
    }
}

/// tshark's frames and messages from the committed export: (packet, opcode, unmasked payload)
/// per frame, and per message the text it shows (inflated for permessage-deflate) or the
/// payload. Every message in these fixtures is a single frame, so the two lists line up.
fn tshark(path: &Path) -> (Vec<Row>, Vec<Row>) {
    let text = std::fs::read_to_string(path.with_extension("tshark.json")).expect("export");
    let json: Value = serde_json::from_str(&text).expect("json");
    let (mut frames, mut messages) = (Vec::new(), Vec::new());
    for packet in json.as_array().into_iter().flatten() {
        let layers = &packet["_source"]["layers"];
        let number: u64 = layers["frame"]["frame.number"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("frame.number");
        let list = match &layers["websocket"] {
            Value::Array(a) => a.clone(),
            other => vec![other.clone()],
        };
        for ws in &list {
            let opcode: u8 = ws["websocket.opcode"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .expect("opcode");
            let raw = ws["websocket.payload_raw"][0]
                .as_str()
                .unwrap_or("")
                .to_string();
            frames.push((number, opcode, raw.clone()));
            let message = match find(ws, "websocket.payload.text_raw") {
                Some(t) if opcode == 1 => t[0].as_str().unwrap_or("").to_string(),
                _ => raw,
            };
            messages.push((number, opcode, message));
        }
    }
    (frames, messages)
}

#[test]
fn reordered_fixtures_decode_like_tshark_frame_for_frame_and_message_for_message() {
    for name in REORDERED {
        let path = fixture(name);
        let (seen, _) = decode(&path);
        let (frames, messages) = tshark(&path);
        assert!(frames.len() >= 5, "{name}: tshark decodes it");
        assert_eq!(seen.frames, frames, "{name}: frames");
        assert_eq!(seen.messages, messages, "{name}: messages");
        assert!(seen.trouble.is_empty(), "{name}: {:?}", seen.trouble);
    }
}

#[test]
fn a_reordered_capture_decodes_like_the_same_session_in_order() {
    // The scripted session of edge-ack-first and edge-fin-first, recorded in order (on another
    // link type, which the frames do not see).
    let (in_order, base) = decode(&fixture("edge-null.pcap"));
    for name in ["edge-reorder-ack-first.pcap", "edge-reorder-fin-first.pcap"] {
        let (seen, summary) = decode(&fixture(name));
        assert_eq!(seen.sequence, in_order.sequence, "{name}");
        let (a, b) = (&summary.total, &base.total);
        assert_eq!(
            (
                a.ws_frames,
                a.ws_header,
                a.ws_mask,
                a.ws_payload,
                a.http_head,
                a.messages
            ),
            (
                b.ws_frames,
                b.ws_header,
                b.ws_mask,
                b.ws_payload,
                b.http_head,
                b.messages
            ),
            "{name}: application rows"
        );
    }
}

#[test]
fn every_byte_in_the_file_is_counted_once_never_lost_or_retransmitted() {
    for name in REORDERED {
        for decode in [true, false] {
            let options = Options {
                decode,
                ..Options::default()
            };
            let s =
                pcap::analyze_file(&fixture(name), &options, &mut pcap::Discard).expect("reads");
            let t = &s.total;
            assert_eq!(t.lost_bytes, 0, "{name}: nothing is \"never captured\"");
            assert_eq!(
                (t.retransmitted, t.retransmitted_packets),
                (0, 0),
                "{name}: no segment is sent twice"
            );
            assert_eq!(t.other_payload, 0, "{name}: every payload byte decoded");
            assert_eq!(t.accounted(), t.wire_bytes, "{name}");
        }
    }
}

/// The window is what bounds the wait: with a window smaller than the data held above the
/// hole, the same capture reports the hole as lost (and the late segment as a re-send).
#[test]
fn a_window_too_small_for_the_reordering_declares_the_hole_lost() {
    let path = fixture("edge-reorder-deflate.pcap");
    let options = Options {
        reorder_window: 100,
        ..Options::default()
    };
    let mut seen = Seen::default();
    let s = pcap::analyze_file(&path, &options, &mut seen).expect("reads");
    assert!(s.total.lost_bytes > 0, "the hole is declared lost");
    assert!(s.total.retransmitted > 0, "its late segment is then old");
    assert!(
        seen.trouble.iter().any(|t| t.starts_with("gap")),
        "{:?}",
        seen.trouble
    );
    let texts = seen
        .messages
        .iter()
        .filter(|(_, op, _)| *op == Opcode::Text.as_u8())
        .count();
    assert_eq!(texts, 3, "the messages are still reported");
}
