//! Captures of WebSockets over cleartext HTTP/2 (RFC 8441), recorded between Node's own http2
//! server and client (fixtures/h2c/, `fixtures/record-h2c.sh`), compared with tshark's
//! dissection of the same files (its JSON exports next to them).
//!
//! tshark 4.0.17 dissects the HTTP/2 frames and headers of h2c (given `-d tcp.port==P,http2`)
//! but not the WebSocket inside a stream, so the comparison is: every HTTP/2 frame (packet,
//! direction, type, stream, flags, length), every decoded header list, and, for the WebSocket
//! level, wsprobe's frames against the frames found in tshark's DATA bytes of each stream.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use wsprobe::pcap::{self, Event, Options, Sink};
use wsprobe::wire::{Decoded, Direction, FrameDecoder};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/h2c")
}

/// (packet, from client, type, stream, flags, length)
type FrameRow = (u64, bool, u8, u32, u8, u32);
/// (stream, from client, opcode, fin, payload)
type WsRow = (u32, bool, u8, bool, Vec<u8>);

#[derive(Default)]
struct Seen {
    client_port: u16,
    frames: Vec<FrameRow>,
    /// Header lists in order, one per decoded field block.
    headers: Vec<Vec<(String, String)>>,
    ws: Vec<WsRow>,
    /// (stream, from client, opcode, data) per WebSocket message.
    messages: Vec<(u32, bool, u8, Vec<u8>)>,
    /// (rule, section, packet, stream)
    findings: Vec<(String, String, u64, Option<u32>)>,
    handshakes: Vec<(Option<u32>, String, String)>,
    warnings: Vec<(Option<u64>, String)>,
}

impl Sink for Seen {
    fn event(&mut self, event: &Event<'_>) {
        match event {
            Event::Connection(c) => self.client_port = c.client.port(),
            Event::H2Frame(f) => {
                self.frames.push((
                    f.at.packet,
                    f.dir == Direction::ClientToServer,
                    f.header.kind.as_u8(),
                    f.header.stream_id,
                    f.header.flags,
                    f.header.length,
                ));
                if !f.fields.is_empty() {
                    self.headers.push(f.fields.to_vec());
                }
            }
            Event::Frame(f) => self.ws.push((
                f.at.stream
                    .expect("a WebSocket frame on h2c names its stream"),
                f.dir == Direction::ClientToServer,
                f.header.opcode.as_u8(),
                f.header.fin,
                f.payload.to_vec(),
            )),
            Event::Message(m) => self.messages.push((
                m.at.stream.expect("stream"),
                m.dir == Direction::ClientToServer,
                m.opcode.as_u8(),
                m.data.to_vec(),
            )),
            Event::H2Finding(f) => self.findings.push((
                f.rule.to_string(),
                f.section.to_string(),
                f.at.packet,
                f.at.stream,
            )),
            Event::Handshake(h) => {
                self.handshakes
                    .push((h.at.stream, h.request.to_string(), h.response.to_string()))
            }
            Event::Warning(w) => self.warnings.push((w.packet, w.message.to_string())),
            _ => {}
        }
    }
}

fn run(stem: &str) -> (Seen, pcap::CaptureSummary) {
    let mut seen = Seen::default();
    let summary = pcap::analyze_file(
        &dir().join(format!("{stem}.pcap")),
        &Options::default(),
        &mut seen,
    )
    .expect("the capture reads");
    (seen, summary)
}

fn strs(layers: &Value, key: &str) -> Vec<String> {
    layers[key]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// What tshark says: frames, header lists, and DATA bytes per (stream, from client).
struct Tshark {
    frames: Vec<FrameRow>,
    headers: Vec<Vec<(String, String)>>,
    data: BTreeMap<(u32, bool), Vec<u8>>,
}

fn tshark(stem: &str, client_port: u16) -> Tshark {
    let text = std::fs::read_to_string(dir().join(format!("{stem}.tshark.json"))).expect("export");
    let json: Value = serde_json::from_str(&text).expect("json");
    let mut t = Tshark {
        frames: Vec::new(),
        headers: Vec::new(),
        data: BTreeMap::new(),
    };
    for packet in json.as_array().expect("array") {
        let l = &packet["_source"]["layers"];
        let number: u64 = strs(l, "frame.number")[0].parse().expect("number");
        let from_client = strs(l, "tcp.srcport")[0] == client_port.to_string();
        let types = strs(l, "http2.type");
        let streams = strs(l, "http2.streamid");
        let flags = strs(l, "http2.flags");
        let lengths = strs(l, "http2.length");
        let mut data = strs(l, "http2.data.data").into_iter();
        for k in 0..types.len() {
            let kind: u8 = types[k].parse().expect("type");
            let stream: u32 = streams[k].parse().expect("stream");
            t.frames.push((
                number,
                from_client,
                kind,
                stream,
                u8::from_str_radix(flags[k].trim_start_matches("0x"), 16).expect("flags"),
                lengths[k].parse().expect("length"),
            ));
            // tshark leaves http2.data.data out for empty DATA frames.
            if kind == 0 && lengths[k] != "0" {
                let bytes = unhex(&data.next().expect("data of a DATA frame"));
                t.data
                    .entry((stream, from_client))
                    .or_default()
                    .extend(bytes);
            }
        }
        let names = strs(l, "http2.header.name");
        let values = strs(l, "http2.header.value");
        let mut at = 0;
        for count in strs(l, "http2.header.count") {
            let n: usize = count.parse().expect("count");
            t.headers.push(
                names[at..at + n]
                    .iter()
                    .cloned()
                    .zip(values[at..at + n].iter().cloned())
                    .collect(),
            );
            at += n;
        }
    }
    t
}

/// WebSocket frames in tshark's DATA bytes, decoded with wsprobe's `wire` decoder: the
/// HTTP/2 layer is tshark's, only the WebSocket framing is wsprobe's.
fn ws_from_tshark(t: &Tshark) -> Vec<WsRow> {
    let mut rows = Vec::new();
    for (&(stream, from_client), bytes) in &t.data {
        let mut d = FrameDecoder::default();
        d.push(bytes);
        while let Decoded::Frame(f) = d.next_frame() {
            rows.push((
                stream,
                from_client,
                f.frame.header.opcode.as_u8(),
                f.frame.header.fin,
                f.frame.payload.to_vec(),
            ));
        }
    }
    rows.sort();
    rows
}

fn compare(stem: &str) -> (Seen, pcap::CaptureSummary) {
    let (seen, summary) = run(stem);
    let t = tshark(stem, seen.client_port);
    assert!(!t.frames.is_empty(), "{stem}: tshark found http2 frames");
    assert_eq!(
        seen.frames, t.frames,
        "{stem}: every HTTP/2 frame as tshark"
    );
    assert_eq!(
        seen.headers, t.headers,
        "{stem}: every header list as tshark"
    );
    let mut ws = seen.ws.clone();
    ws.sort();
    assert_eq!(
        ws,
        ws_from_tshark(&t),
        "{stem}: WebSocket frames per stream"
    );
    (seen, summary)
}

#[test]
fn rfc8441_two_websockets_on_one_connection_match_tshark() {
    let (seen, summary) = compare("h2c-websockets");
    assert_eq!(summary.violations, 0, "{:?}", seen.findings);
    assert!(seen.warnings.is_empty(), "{:?}", seen.warnings);
    // Both extended CONNECTs answered, each on its own stream.
    let hs: Vec<(Option<u32>, &str)> = seen
        .handshakes
        .iter()
        .map(|(s, req, _)| (*s, req.as_str()))
        .collect();
    assert_eq!(
        hs,
        [
            (Some(1), "CONNECT /chat HTTP/2 :protocol=websocket"),
            (Some(3), "CONNECT /echo?room=2 HTTP/2 :protocol=websocket"),
        ]
    );
    // HPACK: the second request reuses the first one's dynamic entries (17 octets for seven
    // fields), and Huffman-coded strings decode to the same names and values as tshark's.
    let second = &seen.headers[1];
    assert!(second.contains(&(":path".into(), "/echo?room=2".into())));
    // Messages per stream, the fragmented one reassembled, the echo equal to what was sent.
    let texts = |stream: u32, client: bool| -> Vec<String> {
        seen.messages
            .iter()
            .filter(|m| m.0 == stream && m.1 == client && m.2 == 1)
            .map(|m| String::from_utf8_lossy(&m.3).into_owned())
            .collect()
    };
    assert_eq!(
        texts(1, true),
        [
            "Hello over HTTP/2, stream one",
            "frag-one frag-two frag-three"
        ]
    );
    assert_eq!(texts(1, false), texts(1, true));
    assert_eq!(
        texts(3, true),
        ["and hello from the second WebSocket", "héllo wörld ✓"]
    );
    assert_eq!(texts(3, false), texts(3, true));
    // Client frames masked, server frames not: no RFC 6455 violation above; a ping answered.
    assert!(seen.ws.iter().any(|w| w.0 == 3 && !w.1 && w.2 == 0xa));
    assert_eq!(
        seen.ws.iter().filter(|w| w.2 == 8).count(),
        4,
        "close each way, two streams"
    );
}

#[test]
fn rfc8441_faulty_server_findings_match_tshark_frames() {
    let (seen, summary) = compare("h2c-faulty");
    let got: Vec<(&str, &str, Option<u32>)> = seen
        .findings
        .iter()
        .map(|(r, s, _, st)| (r.as_str(), s.as_str(), *st))
        .collect();
    assert_eq!(
        got,
        [
            ("h2ws.ws.no-content-length", "RFC 9110 §9.3.6", Some(1)),
            ("h2ws.ws.rst-cancel", "RFC 8441 §5", Some(3)),
            // Stream 5's server ended the stream with its 2xx; its RST_STREAM NO_ERROR after
            // that END_STREAM only asks the client to stop sending (RFC 9113 §8.1), so the
            // stream is blamed once, for the END_STREAM.
            ("h2ws.ws.response-not-ended", "RFC 8441 §5", Some(5)),
        ]
    );
    // Each finding sits on the packet of the frame that broke the rule, as tshark numbers it.
    for (rule, _, packet, stream) in &seen.findings {
        let want_type = if rule.ends_with("rst-cancel") { 3 } else { 1 };
        assert!(
            seen.frames
                .iter()
                .any(|f| f.0 == *packet && f.2 == want_type && Some(f.3) == *stream && !f.1),
            "{rule} at #{packet}"
        );
    }
    assert_eq!(summary.violations, 3);
}

#[test]
fn overhead_counts_http2_as_its_own_layer_and_adds_up() {
    for stem in ["h2c-websockets", "h2c-faulty", "h2c-midstream"] {
        let summary = pcap::analyze_file(
            &dir().join(format!("{stem}.pcap")),
            &Options {
                decode: false,
                ..Options::default()
            },
            &mut pcap::Discard,
        )
        .expect("reads");
        let t = &summary.total;
        assert_eq!(t.accounted(), t.wire_bytes, "{stem}: rows add up");
        assert!(t.http2 > 0, "{stem}: an HTTP/2 row");
        // The TCP payload is HTTP/2 framing plus what the streams carried, nothing undecoded.
        let payload = t.wire_bytes
            - t.link
            - t.ip
            - t.tcp_header
            - t.control.bytes()
            - t.retransmitted
            - t.non_tcp;
        let layered = t.http2 + t.ws_header + t.ws_mask + t.ws_payload + t.http_head + t.http_body;
        assert_eq!(layered + t.other_payload, payload, "{stem}");
        if stem != "h2c-midstream" {
            assert_eq!(t.other_payload, 0, "{stem}: every payload byte decoded");
        }
    }
    // The HTTP/2 row is frame headers (9 per frame), the preface and non-DATA payloads: check
    // it against tshark's frame list.
    let (seen, _) = run("h2c-websockets");
    let t = tshark("h2c-websockets", seen.client_port);
    let expect: u64 = 24
        + t.frames
            .iter()
            .map(|f| 9 + if f.2 == 0 { 0 } else { u64::from(f.5) })
            .sum::<u64>();
    let summary = pcap::analyze_file(
        &dir().join("h2c-websockets.pcap"),
        &Options::default(),
        &mut pcap::Discard,
    )
    .expect("reads");
    assert_eq!(summary.total.http2, expect);
}

#[test]
fn midstream_capture_says_hpack_context_unknown() {
    let (seen, summary) = run("h2c-midstream");
    // Said once, at the packet of the first HTTP/2 frame (which packet that is depends on how
    // the recording's segments fell).
    let first = seen.frames.first().expect("frames").0;
    assert_eq!(
        seen.warnings
            .first()
            .map(|(p, w)| (*p, w.contains("hpack context unknown"))),
        Some((Some(first), true)),
        "{:?}",
        seen.warnings
    );
    // Frames are still listed; nothing is guessed about headers or WebSockets.
    assert!(!seen.frames.is_empty());
    assert!(seen.headers.is_empty());
    assert!(seen.ws.is_empty());
    assert_eq!(summary.violations, 0);
}

#[test]
fn inspect_text_and_json_name_the_stream() {
    let bin = env!("CARGO_BIN_EXE_wsprobe");
    let cap = dir().join("h2c-websockets.pcap");
    let out = std::process::Command::new(bin)
        .arg("inspect")
        .arg(&cap)
        .output()
        .expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("c0 s1 == websocket: CONNECT /chat HTTP/2"),
        "{text}"
    );
    assert!(
        text.contains(
            "h2 SETTINGS      stream 0 flags 0x00 len 6 SETTINGS_ENABLE_CONNECT_PROTOCOL=1"
        ),
        "{text}"
    );
    let out = std::process::Command::new(bin)
        .args(["inspect", "--format", "json"])
        .arg(&cap)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(
        lines
            .iter()
            .any(|v| v["type"] == "frame" && v["stream"] == 3 && v["opcode_name"] == "pong")
    );
    assert!(lines.iter().any(|v| v["type"] == "http2_frame"
        && v["frame_type_name"] == "HEADERS"
        && v["stream_id"] == 1
        && v["fields"][0][1] == "CONNECT"));
}
