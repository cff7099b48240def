//! Capture inspection end to end: every fixture in `fixtures/` decoded frame by frame and
//! compared with tshark's JSON export next to it, the byte ledger's invariants, golden output of
//! `wsprobe inspect` and `wsprobe overhead`, and bad input. tshark itself is not needed: its
//! exports are checked in (see fixtures/README.md).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::tshark::{self, Row};
use serde_json::Value;
use wsprobe::pcap::{self, Event, Options, Sink};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Every capture fixture, sorted by name.
fn captures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .expect("fixtures dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("pcap" | "pcapng")
            )
        })
        .collect();
    v.sort();
    v
}

fn name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[derive(Default)]
struct Frames(Vec<Row>);

impl Sink for Frames {
    fn event(&mut self, event: &Event<'_>) {
        if let Event::Frame(f) = event {
            self.0.push(Row::of(f));
        }
    }
}

fn ours(path: &Path, port: Option<u16>) -> Vec<Row> {
    let mut frames = Frames::default();
    let options = Options {
        port,
        ..Options::default()
    };
    let _ = pcap::analyze_file(path, &options, &mut frames);
    frames.0
}

/// tshark's frames from a `-T json -x --no-duplicate-keys` export.
fn theirs(json: &Value) -> Vec<Row> {
    tshark::rows(json)
}

/// Where tshark 4.0 and wsprobe knowingly differ, per fixture: (fixture, reason). The test
/// checks that the difference is still there, so a fixed tshark or a changed wsprobe shows up.
const EXCEPTIONS: &[(&str, &str)] = &[
    (
        "edge-gap.pcap",
        "tshark 4.0 stops decoding a direction at a segment that is not in the capture; wsprobe \
         fills a loss inside a payload of known length and decodes on (the 2000-byte frame, with \
         556 bytes reported missing, and the close), and after a loss at a frame boundary resumes \
         at the next plausible header (the second connection's binary frame and close)",
    ),
    (
        "edge-snaplen-160.pcap",
        "every packet cut at 160 bytes: tshark 4.0 shows the cut text and close frames with no \
         payload at all and loses the client's close (packet 8); wsprobe shows the captured \
         bytes, marks the rest as not captured, judges nothing from them, and decodes the close",
    ),
    (
        "edge-snaplen-96.pcap",
        "both handshake heads cut after their start lines: tshark 4.0 decodes nothing; wsprobe \
         recognises the GET line and the 101 status line as a handshake (Accept not checked) \
         and decodes every frame header, as it would with --port",
    ),
    (
        "edge-snaplen.pcap",
        "tshark 4.0 takes a segment cut by the snaplen as if it ended where the capture stopped: \
         it reports the 2000-byte frame at packet 10 with no payload, then decodes the next \
         segment's middle as five garbage frames (reserved opcodes 5, 13, 15, RSV bits) and \
         loses the server's close; wsprobe knows the missing byte count from the IP length, \
         reports the frame at packet 11 with 1600 bytes not captured and decodes the close",
    ),
];

#[test]
fn every_fixture_decodes_like_tshark() {
    let mut compared = 0;
    let mut failures = Vec::new();
    for cap in captures() {
        let export = cap.with_extension("tshark.json");
        let Ok(text) = std::fs::read_to_string(&export) else {
            continue;
        };
        let json: Value = serde_json::from_str(&text).expect("tshark export is json");
        let mut want = theirs(&json);
        let mut got = ours(&cap, None);
        want.sort();
        got.sort();
        compared += 1;
        let n = name(&cap);
        let excepted = EXCEPTIONS.iter().any(|(f, _)| *f == n);
        if (want == got) == excepted {
            let only_ours: Vec<_> = got.iter().filter(|r| !want.contains(r)).collect();
            let only_theirs: Vec<_> = want.iter().filter(|r| !got.contains(r)).collect();
            failures.push(format!(
                "{n}: {} (ours {} frames, tshark {})\n  only wsprobe: {only_ours:?}\n  only tshark: {only_theirs:?}",
                if excepted { "documented exception no longer differs" } else { "differs" },
                got.len(),
                want.len()
            ));
        }
    }
    assert!(
        compared >= 10,
        "only {compared} fixtures have tshark exports"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Inflated text messages against tshark's `websocket.payload.text` (tshark shows the inflated
/// text on the packet that completes a compressed message).
#[test]
fn permessage_deflate_text_like_tshark() {
    #[derive(Default)]
    struct Texts(Vec<(u64, String, u32)>);
    impl Sink for Texts {
        fn event(&mut self, event: &Event<'_>) {
            if let Event::Message(m) = event
                && m.opcode == wsprobe::wire::Opcode::Text
            {
                self.0.push((
                    m.at.packet,
                    String::from_utf8_lossy(m.data).into_owned(),
                    m.frames,
                ));
            }
        }
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
    let cap = fixtures_dir().join("deflate-websockets.pcap");
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(cap.with_extension("tshark.json")).expect("export"),
    )
    .expect("json");
    let mut texts = Texts::default();
    pcap::analyze_file(&cap, &Options::default(), &mut texts).expect("reads");
    assert_eq!(texts.0.len(), 16);
    let mut fragmented = 0;
    for (packet, text, frames) in &texts.0 {
        let layers = json
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| &p["_source"]["layers"])
            .find(|l| l["frame"]["frame.number"].as_str() == Some(&packet.to_string()))
            .expect("tshark has the packet");
        let theirs = find(&layers["websocket"], "websocket.payload.text").and_then(Value::as_str);
        if *frames > 1 {
            // Exception: tshark 4.0 reassembles a fragmented compressed message but does not
            // inflate it (RSV1 is only on the first fragment, as RFC 7692 §6.1 requires); it
            // shows the raw deflate bytes as text.
            fragmented += 1;
            assert_ne!(
                theirs,
                Some(text.as_str()),
                "tshark 4.0 bug fixed? packet {packet}"
            );
            assert_eq!(text, "fragmented and compressed and fragmented");
        } else {
            assert_eq!(theirs, Some(text.as_str()), "packet {packet}");
        }
    }
    assert_eq!(fragmented, 2);
}

#[test]
fn ledger_accounts_for_every_byte() {
    for cap in captures() {
        let Ok(summary) = pcap::analyze_file(
            &cap,
            &Options {
                decode: false,
                ..Options::default()
            },
            &mut pcap::Discard,
        ) else {
            continue;
        };
        let n = name(&cap);
        let t = &summary.total;
        assert_eq!(
            t.accounted(),
            t.wire_bytes,
            "{n}: rows add up to the wire bytes"
        );
        let conn_sum: u64 = summary
            .connections
            .iter()
            .map(|c| c.ledger.wire_bytes)
            .sum();
        assert_eq!(
            conn_sum + t.non_tcp,
            t.wire_bytes,
            "{n}: connections add up"
        );
        // Captures that are WebSocket or HTTP from start to end leave nothing undecoded.
        let clean = !n.starts_with("edge-")
            || matches!(
                n.as_str(),
                "edge-out-of-order.pcap"
                    | "edge-retransmission.pcap"
                    | "edge-overlap.pcap"
                    | "edge-wrap.pcap"
                    | "edge-null.pcap"
                    | "edge-sll.pcap"
                    | "edge-raw-be.pcap"
                    | "edge-vlan.pcapng"
                    | "edge-violations.pcap"
                    | "edge-snaplen.pcap"
                    | "edge-gap.pcap"
                    | "edge-fragments.pcap"
                    | "edge-ipv6-ext.pcap"
            );
        if clean {
            assert_eq!(t.other_payload, 0, "{n}: nothing left undecoded");
        }
        // The same answer whether payloads are decoded or not.
        let full =
            pcap::analyze_file(&cap, &Options::default(), &mut pcap::Discard).expect("reads twice");
        assert_eq!(full.total, summary.total, "{n}: inspect and overhead agree");
    }
}

#[test]
fn counter_fixtures_carry_ten_messages() {
    for f in [
        "counter-websocketd.pcap",
        "counter-ws.pcap",
        "counter-poll-keepalive.pcap",
        "counter-poll-newconn.pcap",
    ] {
        let s = pcap::analyze_file(
            &fixtures_dir().join(f),
            &Options::default(),
            &mut pcap::Discard,
        )
        .expect("fixture reads");
        assert_eq!(s.total.messages, 10, "{f}");
        assert_eq!(s.total.app_payload, 11, "{f}: \"1\"..\"10\" is 11 bytes");
    }
}

fn wsprobe(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_wsprobe"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("wsprobe runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn golden(name: &str, args: &[&str]) {
    let (code, stdout, stderr) = wsprobe(args);
    let text = format!(
        "$ wsprobe {}\nexit: {code}\n--- stdout\n{stdout}--- stderr\n{stderr}",
        args.join(" ")
    );
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(name, text);
    });
}

/// The byte ledger of every fixture, one line each: reassembly changes (reordering, when a hole
/// is declared lost) must not move a byte between rows on captures they do not concern.
#[test]
fn overhead_totals_per_fixture() {
    let mut text = String::new();
    for cap in captures() {
        let Ok(s) = pcap::analyze_file(
            &cap,
            &Options {
                decode: false,
                ..Options::default()
            },
            &mut pcap::Discard,
        ) else {
            text.push_str(&format!("{}: unreadable\n", name(&cap)));
            continue;
        };
        let t = &s.total;
        text.push_str(&format!(
            "{}: wire {} link {} ip {} tcp {} control {} retrans {}/{} http {}+{} ws {}+{}+{} \
             other {} non-tcp {} messages {} payload {} lost {} truncated {}\n",
            name(&cap),
            t.wire_bytes,
            t.link,
            t.ip,
            t.tcp_header,
            t.control.bytes(),
            t.retransmitted_packets,
            t.retransmitted,
            t.http_head,
            t.http_body,
            t.ws_header,
            t.ws_mask,
            t.ws_payload,
            t.other_payload,
            t.non_tcp,
            t.messages,
            t.app_payload,
            t.lost_bytes,
            t.truncated_bytes
        ));
    }
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("overhead-totals-per-fixture", text);
    });
}

#[test]
fn inspect_golden_output_per_fixture() {
    for cap in captures() {
        let n = name(&cap);
        let rel = format!("fixtures/{n}");
        let stem = n.replace('.', "-");
        golden(&format!("inspect-{stem}"), &["inspect", &rel]);
    }
}

#[test]
fn inspect_messages_port_and_check() {
    golden(
        "inspect-messages-deflate",
        &["inspect", "--messages", "fixtures/deflate-websockets.pcap"],
    );
    golden(
        "inspect-messages-echo",
        &["inspect", "--messages", "fixtures/echo-fragments.pcap"],
    );
    golden(
        "inspect-midstream-port",
        &["inspect", "--port", "80", "fixtures/edge-midstream.pcap"],
    );
    golden(
        "inspect-snaplen-96-port",
        &["inspect", "--port", "80", "fixtures/edge-snaplen-96.pcap"],
    );
    golden(
        "inspect-check-violations",
        &["inspect", "--check", "fixtures/edge-violations.pcap"],
    );
    golden(
        "inspect-check-deflate-violations",
        &["inspect", "--check", "fixtures/deflate-violations.pcap"],
    );
    golden(
        "inspect-messages-deflate-violations",
        &["inspect", "--messages", "fixtures/deflate-violations.pcap"],
    );
    golden(
        "inspect-filter-conn-dir",
        &[
            "inspect",
            "--conn",
            "1",
            "--dir",
            "s2c",
            "fixtures/edge-gap.pcap",
        ],
    );
    golden(
        "inspect-yaml",
        &["inspect", "--format", "yaml", "fixtures/counter-ws.pcap"],
    );
}

/// `--vs` on captures of different workloads says so first, and compares per message and per
/// payload byte in plain words; on the same workload it says that instead.
#[test]
fn overhead_vs_says_when_the_workloads_differ() {
    let (code, out, _) = wsprobe(&[
        "overhead",
        "fixtures/counter-ws.pcap",
        "--vs",
        "fixtures/echo-fragments.pcap",
    ]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[2],
        "!! DIFFERENT WORKLOADS: A carries 10 messages (11 payload bytes), B carries 6 messages (668 payload bytes)."
    );
    assert!(lines[3].contains("not comparable"), "{out}");
    let row = |label: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(label))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|| panic!("no row {label}: {out}"))
    };
    assert_eq!(
        row("bytes per message"),
        "bytes per message 256.1 459.3 1.79x"
    );
    assert_eq!(
        row("bytes per payload byte"),
        "bytes per payload byte 232.8 4.1 0.02x"
    );
    assert_eq!(row("  spread over"), "spread over (messages) 10 6");
    assert!(
        out.contains(
            "In plain words: B used 1.8\u{d7} the bytes of A per message (A 256.1, B 459.3 bytes per message)."
        ),
        "{out}"
    );
    assert!(
        out.contains("Per payload byte: A used 56.4\u{d7} the bytes of B per payload byte"),
        "{out}"
    );
    let (_, same, _) = wsprobe(&[
        "overhead",
        "fixtures/counter-ws.pcap",
        "--vs",
        "fixtures/counter-poll-keepalive.pcap",
    ]);
    assert!(
        same.contains("Same workload: 10 messages (11 payload bytes) in each."),
        "{same}"
    );
    assert!(!same.contains("DIFFERENT"), "{same}");
    assert!(!same.contains("Per payload byte:"), "{same}");
    for (other, expect) in [
        ("fixtures/echo-fragments.pcap", false),
        ("fixtures/counter-poll-keepalive.pcap", true),
    ] {
        let (_, json, _) = wsprobe(&[
            "overhead",
            "fixtures/counter-ws.pcap",
            "--vs",
            other,
            "--format",
            "json",
        ]);
        let v: Value = serde_json::from_str(&json).expect("json");
        assert_eq!(v["same_workload"], expect, "{other}");
        assert_eq!(
            v["setup_bytes"]["a"], 604,
            "SYN 148 + FIN 132 + handshake 324"
        );
    }
}

#[test]
fn overhead_golden_output() {
    golden(
        "overhead-counter-ws-vs-poll-keepalive",
        &[
            "overhead",
            "fixtures/counter-ws.pcap",
            "--vs",
            "fixtures/counter-poll-keepalive.pcap",
        ],
    );
    golden(
        "overhead-counter-ws-vs-poll-newconn",
        &[
            "overhead",
            "fixtures/counter-ws.pcap",
            "--vs",
            "fixtures/counter-poll-newconn.pcap",
        ],
    );
    golden(
        "overhead-counter-websocketd",
        &["overhead", "fixtures/counter-websocketd.pcap"],
    );
    golden(
        "overhead-retransmission",
        &["overhead", "fixtures/edge-retransmission.pcap"],
    );
}

#[test]
fn check_exits_1_on_violations_and_0_without() {
    let (code, stdout, _) = wsprobe(&["inspect", "--check", "fixtures/edge-violations.pcap"]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("packet 6: connection 0 c>s: unmasked-client-frame"),
        "{stdout}"
    );
    assert!(stdout.contains("RFC 6455 §5.3"), "{stdout}");
    let (code, _, _) = wsprobe(&["inspect", "--check", "fixtures/echo-fragments.pcap"]);
    assert_eq!(code, 0);
}

#[test]
fn bad_input_is_one_line_never_a_panic() {
    let (code, stdout, stderr) = wsprobe(&["inspect", "fixtures/edge-garbage.pcap"]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("not a pcap or pcapng capture"), "{stderr}");
    let (code, _, stderr) = wsprobe(&["overhead", "fixtures/no-such-file.pcap"]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("wsprobe: cannot open fixtures/no-such-file.pcap"),
        "{stderr}"
    );
    for (f, needle) in [
        ("edge-truncated-file.pcap", "truncated"),
        (
            "edge-unknown-linktype.pcap",
            "packet 1: unsupported link type 147",
        ),
        ("edge-absurd-record.pcap", "after packet 17"),
        ("edge-snaplen.pcap", "packet 10: cut by the snaplen"),
        ("edge-not-websocket.pcap", "not http or websocket"),
    ] {
        let (code, _, stderr) = wsprobe(&["inspect", &format!("fixtures/{f}")]);
        assert_eq!(code, 0, "{f}");
        assert!(stderr.contains(needle), "{f}: {stderr}");
        assert!(!stderr.contains("panicked"), "{f}: {stderr}");
    }
    // Corrupted copies of real captures (bytes flipped anywhere: headers, lengths, payloads)
    // read without a panic, in both modes.
    for f in [
        "echo-fragments.pcap",
        "deflate-websockets.pcap",
        "ipv6-echo.pcapng",
    ] {
        let whole = std::fs::read(fixtures_dir().join(f)).expect("fixture");
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        // Few rounds: each reader allocates its 1 MiB buffer, slow in debug builds.
        for _ in 0..30 {
            let mut bytes = whole.clone();
            for _ in 0..4 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let at = (seed % bytes.len() as u64) as usize;
                bytes[at] ^= (seed >> 32) as u8 | 1;
            }
            for decode in [true, false] {
                let options = Options {
                    decode,
                    ..Options::default()
                };
                let _ = pcap::analyze(&bytes[..], &options, &mut pcap::Discard);
            }
        }
    }
    // Every prefix of a real capture reads without a panic.
    let whole = std::fs::read(fixtures_dir().join("echo-fragments.pcap")).expect("fixture");
    for cut in (0..whole.len()).step_by(97) {
        let _ = pcap::analyze(&whole[..cut], &Options::default(), &mut pcap::Discard);
    }
}

#[test]
fn json_lines_are_objects_with_a_type() {
    let (code, stdout, _) = wsprobe(&[
        "inspect",
        "--format",
        "json",
        "fixtures/deflate-websockets.pcap",
    ]);
    assert_eq!(code, 0);
    let mut types = std::collections::BTreeSet::new();
    for line in stdout.lines() {
        let v: Value = serde_json::from_str(line).expect("each line is json");
        types.insert(v["type"].as_str().expect("type").to_string());
    }
    for t in [
        "connection",
        "http",
        "handshake",
        "frame",
        "tcp_end",
        "summary",
    ] {
        assert!(types.contains(t), "{t} in {types:?}");
    }
    let (_, stdout, _) = wsprobe(&["overhead", "--format", "json", "fixtures/counter-ws.pcap"]);
    let v: Value = serde_json::from_str(&stdout).expect("overhead json");
    assert_eq!(v["total"]["messages"], 10);
}

/// A capture of many short connections: closed ones are retired (memory bounded by open
/// connections), the totals stay whole and the listing stops at its cap.
#[test]
fn many_connections_are_retired_and_counted() {
    use etherparse::PacketBuilder;
    let conns = pcap::analyzer_limits::MAX_LISTED_CONNECTIONS + 50;
    let mut file = Vec::new();
    for v in [0xa1b2_c3d4u32.to_le_bytes(), [2, 0, 4, 0], [0; 4], [0; 4]] {
        file.extend_from_slice(&v);
    }
    file.extend_from_slice(&65535u32.to_le_bytes());
    file.extend_from_slice(&1u32.to_le_bytes());
    let mut wire = 0u64;
    for i in 0..conns {
        let port = 1024 + (i % 60000) as u16;
        let ts = i as u32; // one connection a second
        let segs: [(bool, bool, bool, u32, u32); 4] = [
            (true, true, false, 100, 0),
            (false, true, false, 500, 101),
            (true, false, true, 101, 501),
            (false, false, true, 501, 102),
        ];
        for (from_client, syn, fin, seq, ack) in segs {
            let (src, dst, sp, dp) = if from_client {
                ([10, 0, 0, 1], [10, 0, 0, 2], port, 80)
            } else {
                ([10, 0, 0, 2], [10, 0, 0, 1], 80, port)
            };
            let mut b = PacketBuilder::ethernet2([0; 6], [0; 6])
                .ipv4(src, dst, 64)
                .tcp(sp, dp, seq, 1000);
            if syn {
                b = b.syn();
            }
            if fin {
                b = b.fin();
            }
            if !(syn && from_client) {
                b = b.ack(ack);
            }
            let mut pkt = Vec::new();
            b.write(&mut pkt, &[]).expect("writes");
            for v in [ts, 0, pkt.len() as u32, pkt.len() as u32] {
                file.extend_from_slice(&v.to_le_bytes());
            }
            file.extend_from_slice(&pkt);
            wire += pkt.len() as u64;
        }
    }
    let s = pcap::analyze(
        &file[..],
        &Options {
            decode: false,
            ..Options::default()
        },
        &mut pcap::Discard,
    )
    .expect("reads");
    assert_eq!(s.connection_count(), conns as u64);
    assert_eq!(
        s.connections.len(),
        pcap::analyzer_limits::MAX_LISTED_CONNECTIONS
    );
    assert_eq!(s.unlisted_connections, 50);
    assert_eq!(s.total.wire_bytes, wire);
    assert_eq!(s.total.accounted(), wire);
    assert_eq!(s.total.control.syn_packets, 2 * conns as u64);
    assert_eq!(s.connections[0].id, 0);
}

/// A capture becomes the same trace model a live run produces.
#[test]
fn captures_become_traces() {
    let mut collector = pcap::traces::TraceCollector::new();
    pcap::analyze_file(
        &fixtures_dir().join("echo-fragments.pcap"),
        &Options::default(),
        &mut collector,
    )
    .expect("reads");
    let traces = collector.into_traces();
    assert_eq!(traces.len(), 1);
    let lines: Vec<String> = traces[0]
        .events
        .iter()
        .map(wsprobe::trace::render_event)
        .collect();
    let text = lines.join("\n");
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("trace-echo-fragments", text);
    });
    assert_eq!(lines.first().map(String::as_str), Some("tcp open"));
    assert!(lines.contains(&"c>s GET / HTTP/1.1".to_string()), "{text}");
}
