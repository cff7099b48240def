//! permessage-deflate (RFC 7692) in captures (issue 12): `inspect` judges a captured
//! conversation with the same `wire::deflate` layer as the runner. The generated fixture
//! `deflate-violations.pcap` breaks one rule per place, and each finding must appear at its
//! packet with its section, level and checklist anchor; `deflate-clean.pcap` uses every valid
//! form and must have none. Bytes that were not captured are never blamed on a peer.

mod common;

use wsprobe::pcap::events::Inflation;
use wsprobe::pcap::{self, Event, Options, Sink};
use wsprobe::wire::ViolationKind;
use wsprobe::wire::deflate::FindingKind;

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// `wsprobe ARGS` in the crate root, bounded in time: (exit code, stdout).
fn wsprobe(args: &[&str]) -> (i32, String) {
    let out = common::wsprobe(args, std::time::Duration::from_secs(60));
    (out.code, out.stdout)
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Found {
    packet: u64,
    conn: u32,
    dir: &'static str,
    kind: ViolationKind,
}

/// (packet, connection, direction, opcode, inflation, data) of a message.
type Msg = (u64, u32, &'static str, String, Inflation, Vec<u8>);

#[derive(Default)]
struct Seen {
    violations: Vec<Found>,
    messages: Vec<Msg>,
}

impl Sink for Seen {
    fn event(&mut self, event: &Event<'_>) {
        match event {
            Event::Violation(v) => self.violations.push(Found {
                packet: v.at.packet,
                conn: v.at.conn,
                dir: v.dir.arrow(),
                kind: v.violation.kind,
            }),
            Event::Message(m) => self.messages.push((
                m.at.packet,
                m.at.conn,
                m.dir.arrow(),
                m.opcode.name().to_string(),
                m.inflation.clone(),
                m.data.to_vec(),
            )),
            _ => {}
        }
    }
}

fn analyze(bytes: &[u8]) -> Seen {
    let mut seen = Seen::default();
    pcap::analyze(bytes, &Options::default(), &mut seen).expect("the capture reads");
    seen
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).expect("fixture")
}

fn message_at(seen: &Seen, packet: u64) -> &Msg {
    seen.messages
        .iter()
        .find(|m| m.0 == packet && m.3 != "close")
        .unwrap_or_else(|| panic!("a message at packet {packet}"))
}

/// What `deflate-violations.pcap` breaks and where (fixtures/README.md lists the same).
const EXPECTED: [(u64, u32, &str, FindingKind); 7] = [
    (8, 0, "s>c", FindingKind::Rsv1OnContinuation),
    (9, 0, "c>s", FindingKind::Rsv1OnControlFrame),
    (10, 0, "s>c", FindingKind::InvalidCompressedData),
    (22, 1, "s>c", FindingKind::ServerWindowExceeded),
    (34, 2, "s>c", FindingKind::ServerContextTakeover),
    (
        44,
        3,
        "s>c",
        FindingKind::ResponseClientMaxWindowBitsNotOffered,
    ),
    (47, 3, "s>c", FindingKind::TailNotRemoved),
];

#[test]
fn rfc7692_every_finding_of_the_violations_fixture_at_its_packet() {
    let seen = analyze(&read("deflate-violations.pcap"));
    let want: Vec<Found> = EXPECTED
        .iter()
        .map(|&(packet, conn, dir, kind)| Found {
            packet,
            conn,
            dir,
            kind: ViolationKind::Deflate(kind),
        })
        .collect();
    assert_eq!(seen.violations, want);
    // The response finding points at the 101 (packet 44 completes it).
    // A message after the invalid one needs the window that broke: not inflated, not blamed.
    match &message_at(&seen, 11).4 {
        Inflation::Failed(why) => assert!(why.contains("context was lost"), "{why}"),
        other => panic!("packet 11: {other:?}"),
    }
    assert!(matches!(message_at(&seen, 10).4, Inflation::Failed(_)));
    assert!(matches!(message_at(&seen, 34).4, Inflation::Failed(_)));
    // RSV1 on the continuation does not stop the message from inflating; the window and tail
    // findings leave their messages readable.
    let (_, _, _, _, inflation, data) = message_at(&seen, 8);
    assert_eq!(*inflation, Inflation::Inflated);
    assert_eq!(
        data.as_slice(),
        b"rsv1 on the first fragment, and wrongly on the second"
    );
    assert_eq!(message_at(&seen, 22).4, Inflation::Inflated);
    assert_eq!(message_at(&seen, 47).5, b"tail kept");
    assert_eq!(message_at(&seen, 45).5, b"echo me");
}

#[test]
fn inspect_check_reports_section_level_and_anchor() {
    let (code, out) = wsprobe(&["inspect", "--check", "fixtures/deflate-violations.pcap"]);
    assert_eq!(code, 1, "{out}");
    for (packet, conn, dir, kind) in EXPECTED {
        let line = format!(
            "packet {packet}: connection {conn} {dir}: {}: ",
            kind.name()
        );
        let found = out
            .lines()
            .find(|l| l.starts_with(&line))
            .unwrap_or_else(|| panic!("no line {line:?} in\n{out}"));
        let tail = format!("({} {}, {})", kind.section(), kind.level(), kind.anchor());
        assert!(found.ends_with(&tail), "{found} should end with {tail}");
        assert!(kind.section().starts_with("RFC 7692 §"), "{kind:?}");
    }
    assert!(out.ends_with("7 violations in 52 packets\n"), "{out}");

    let (code, out) = wsprobe(&[
        "inspect",
        "--format",
        "json",
        "fixtures/deflate-violations.pcap",
    ]);
    assert_eq!(code, 0, "{out}");
    let violations: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json line"))
        .filter(|v| v["type"] == "violation")
        .collect();
    assert_eq!(violations.len(), EXPECTED.len());
    for (v, (packet, _, _, kind)) in violations.iter().zip(EXPECTED) {
        assert_eq!(v["packet"], packet);
        assert_eq!(v["kind"], kind.name());
        assert_eq!(v["section"], kind.section());
        assert_eq!(v["level"], kind.level().as_str());
        assert_eq!(v["anchor"], kind.anchor());
    }
    // Every anchor is an item of the checklist.
    let checklist =
        std::fs::read_to_string(fixture("../docs/rfc7692.md")).expect("docs/rfc7692.md");
    for (_, _, _, kind) in EXPECTED {
        assert!(
            checklist.contains(&format!("<a id=\"{}\"></a>", kind.anchor())),
            "{}",
            kind.anchor()
        );
    }
}

#[test]
fn rfc7692_the_clean_fixture_has_no_finding_and_every_message_inflates() {
    let seen = analyze(&read("deflate-clean.pcap"));
    assert_eq!(seen.violations, []);
    let (code, out) = wsprobe(&["inspect", "--check", "fixtures/deflate-clean.pcap"]);
    assert_eq!((code, out.as_str()), (0, "0 violations in 51 packets\n"));
    let data: Vec<_> = seen
        .messages
        .iter()
        .filter(|m| m.3 == "text" || m.3 == "binary")
        .collect();
    assert_eq!(data.len(), 18);
    for m in &data {
        let plain = m.5 == b"not compressed";
        assert_eq!(
            m.4,
            if plain {
                Inflation::Plain
            } else {
                Inflation::Inflated
            },
            "packet {}",
            m.0
        );
    }
    let texts: Vec<&[u8]> = data.iter().map(|m| m.5.as_slice()).collect();
    for want in [
        &b"fragmented, compressed, and pinged"[..],
        b"stored block",
        b"bfinal set",
        b"two deflate blocks",
        b"empty final fragment",
        b"afresh",
    ] {
        assert!(texts.contains(&want), "{}", String::from_utf8_lossy(want));
    }
    assert!(data.iter().any(|m| m.5.len() == 24 * 1024));
    assert!(data.iter().any(|m| m.5 == [0u8; 2000]));
}

/// The capture without the packet numbered `packet` (1-based), and that packet's length.
fn without_packet(pcap: &[u8], packet: usize) -> (Vec<u8>, usize) {
    let mut out = pcap[..24].to_vec();
    let mut at = 24;
    let mut n = 0;
    let mut dropped = 0;
    while at + 16 <= pcap.len() {
        let caplen =
            u32::from_le_bytes(pcap[at + 8..at + 12].try_into().expect("4 bytes")) as usize;
        let end = at + 16 + caplen;
        n += 1;
        if n == packet {
            dropped = caplen;
        } else {
            out.extend_from_slice(&pcap[at..end]);
        }
        at = end;
    }
    (out, dropped)
}

#[test]
fn a_gap_with_context_takeover_is_never_blamed_on_the_peer() {
    // deflate-clean.pcap's 24 KiB server text spans packets 16–25; packet 17 is one of its
    // full-size segments.
    let (cut, len) = without_packet(&read("deflate-clean.pcap"), 17);
    assert!(len > 1400, "packet 17 is a data segment ({len} bytes)");
    let seen = analyze(&cut);
    assert_eq!(seen.violations, [], "nothing uncaptured is a peer's fault");
    let server_c0: Vec<&Msg> = seen
        .messages
        .iter()
        .filter(|m| m.1 == 0 && m.2 == "s>c" && (m.3 == "text" || m.3 == "binary"))
        .collect();
    // Reported once the hole is declared lost (at the end of the capture), before the
    // messages held behind it; shown as on the wire.
    let big = server_c0
        .iter()
        .position(|m| m.5.len() > 10_000)
        .expect("the big message is reported");
    assert_eq!(
        server_c0[big].4,
        Inflation::Failed("the message was not fully captured".into())
    );
    // Every later compressed server message needed the lost window.
    let later = &server_c0[big + 1..];
    assert_eq!(later.len(), 5);
    for m in later {
        match &m.4 {
            Inflation::Failed(why) => assert!(why.contains("context was lost"), "{why}"),
            other => panic!("packet {}: {other:?}", m.0),
        }
    }
    // The client's direction kept its own window.
    let client_bin = seen
        .messages
        .iter()
        .find(|m| m.1 == 0 && m.3 == "binary")
        .expect("client binary");
    assert_eq!(client_bin.4, Inflation::Inflated);
}

#[test]
fn a_lost_message_without_context_takeover_costs_only_itself() {
    // Connection 1 of deflate-clean.pcap agreed no context takeover both ways; packet 44 is
    // the server's first message, whole in one segment.
    let (cut, len) = without_packet(&read("deflate-clean.pcap"), 44);
    assert!(len > 54, "packet 44 carries data");
    let seen = analyze(&cut);
    assert_eq!(seen.violations, []);
    let server_c1: Vec<&Msg> = seen
        .messages
        .iter()
        .filter(|m| m.1 == 1 && m.2 == "s>c" && m.3 == "text")
        .collect();
    assert_eq!(server_c1.len(), 1, "one server text left");
    assert_eq!(server_c1[0].4, Inflation::Inflated);
    assert_eq!(
        server_c1[0].5,
        b"each message on its own, each message on its own"
    );
}
