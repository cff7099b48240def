//! h2c dissection from hand-built byte streams: WebSocket frames per stream through HEADERS +
//! CONTINUATION and padded DATA, each finding with its section and packet, bad input (garbage
//! after the preface, a frame cut by the end, random bytes) giving findings and never a panic,
//! and the HTTP/2 byte count.

use crate::pcap::Ctx;
use crate::pcap::dissect::{ConnKind, Dissector};
use crate::pcap::events::{Event, Sink};
use crate::wire::Direction;
use crate::wire::h2::encode::{data, headers, rst_stream, settings, settings_ack};
use crate::wire::h2::frame::{FLAG_END_HEADERS, FLAG_END_STREAM, SETTINGS_ENABLE_CONNECT_PROTOCOL};
use crate::wire::h2::hpack::{Encoder, encode_literals};
use crate::wire::h2::{ErrorCode, FrameOpts, PREFACE, Payload, encode, encode_raw};

const C: Direction = Direction::ClientToServer;
const S: Direction = Direction::ServerToClient;

#[derive(Default)]
struct Lines(Vec<String>);

impl Sink for Lines {
    fn event(&mut self, event: &Event<'_>) {
        let stream = event
            .at()
            .and_then(|a| a.stream)
            .map_or(String::new(), |s| format!(" s{s}"));
        let line = match event {
            Event::H2Finding(f) => format!(
                "#{}{stream} finding {} {} {}",
                f.at.packet, f.rule, f.section, f.detail
            ),
            Event::Handshake(h) => format!("#{}{stream} handshake {}", h.at.packet, h.request),
            Event::Frame(f) => format!(
                "#{}{stream} ws {} {}",
                f.at.packet,
                f.header.opcode.name(),
                String::from_utf8_lossy(f.payload)
            ),
            Event::Warning(w) => format!("#{} warning {}", w.packet.unwrap_or(0), w.message),
            Event::Violation(v) => {
                format!("#{} violation {}", v.at.packet, v.violation.kind.name())
            }
            _ => return,
        };
        self.0.push(line);
    }
}

/// Feeds each (direction, bytes) as one packet, numbered from 1, then ends the connection.
fn run(turns: &[(Direction, Vec<u8>)]) -> (Vec<String>, Dissector) {
    let mut lines = Lines::default();
    let mut d = Dissector::new(false);
    let mut offsets = [0u64; 2];
    {
        let mut ctx = Ctx {
            conn: 0,
            time_ns: 0,
            sink: &mut lines,
            decode: true,
            max_message: 1 << 20,
            stream: None,
        };
        for (n, (dir, bytes)) in turns.iter().enumerate() {
            let i = usize::from(*dir == S);
            d.data(*dir, offsets[i], bytes, n as u64 + 1, &mut ctx);
            offsets[i] += bytes.len() as u64;
        }
        d.finish(turns.len() as u64, &mut ctx);
    }
    (lines.0, d)
}

fn client_start() -> Vec<u8> {
    let mut out = PREFACE.to_vec();
    settings(&mut out, &[]);
    out
}

fn server_settings(value: u32) -> Vec<u8> {
    let mut out = Vec::new();
    settings(&mut out, &[(SETTINGS_ENABLE_CONNECT_PROTOCOL, value)]);
    out
}

fn connect_block(path: &str) -> Vec<u8> {
    encode_literals(&[
        (":method", "CONNECT"),
        (":protocol", "websocket"),
        (":scheme", "http"),
        (":path", path),
        (":authority", "x"),
        ("sec-websocket-version", "13"),
    ])
}

/// A masked client text frame (mask key 0).
fn ws_text(s: &str) -> Vec<u8> {
    let mut f = vec![0x81, 0x80 | s.len() as u8, 0, 0, 0, 0];
    f.extend_from_slice(s.as_bytes());
    f
}

fn has(lines: &[String], needle: &str) -> bool {
    lines.iter().any(|l| l.contains(needle))
}

#[test]
fn rfc8441_websocket_over_continuation_and_padded_data() {
    let mut c = client_start();
    settings_ack(&mut c);
    // The CONNECT's field block split over HEADERS + CONTINUATION.
    let block = connect_block("/chat");
    let (a, b) = block.split_at(10);
    encode(
        &mut c,
        &Payload::Headers {
            priority: None,
            block: a,
            pad_len: None,
        },
        FrameOpts::new(1, 0),
        0,
    );
    encode(
        &mut c,
        &Payload::Continuation(b),
        FrameOpts::new(1, FLAG_END_HEADERS),
        0,
    );
    let mut resp = Vec::new();
    let mut enc = Encoder::new(4096, true);
    headers(&mut resp, 1, &enc.encode(&[(":status", "200")]), false);
    // The client's message in a padded DATA frame, split in two frames.
    let msg = ws_text("over http/2");
    let mut d = Vec::new();
    encode(
        &mut d,
        &Payload::Data {
            data: &msg[..4],
            pad_len: Some(7),
        },
        FrameOpts {
            padding: Some(7),
            ..FrameOpts::new(1, 0)
        },
        0,
    );
    data(&mut d, 1, &msg[4..], false);
    let (lines, dis) = run(&[(S, server_settings(1)), (C, c), (S, resp), (C, d.clone())]);
    assert!(
        has(
            &lines,
            "#3 s1 handshake CONNECT /chat HTTP/2 :protocol=websocket"
        ),
        "{lines:?}"
    );
    assert!(has(&lines, "#4 s1 ws text over http/2"), "{lines:?}");
    assert!(!has(&lines, "finding"), "{lines:?}");
    assert_eq!(dis.kind, ConnKind::WebSocketHttp2);
    // Padding, pad length and frame headers are HTTP/2; the WebSocket bytes are not.
    let counts = dis.counts(C);
    assert_eq!(
        counts.ws_header + counts.ws_mask + counts.ws_payload,
        msg.len() as u64
    );
    assert_eq!(
        counts.http2 + msg.len() as u64,
        (client_start().len() + 9 + 9 + 9 + block.len() + d.len()) as u64
    );
}

#[test]
fn rfc8441_findings_name_their_section_and_packet() {
    // Server: setting value 2, then 1, then withdrawn; a 2xx with content-length and
    // END_STREAM; the WebSocket reset with CONNECT_ERROR.
    let mut s2 = server_settings(1);
    settings(&mut s2, &[(SETTINGS_ENABLE_CONNECT_PROTOCOL, 0)]);
    let mut c = client_start();
    headers(&mut c, 1, &connect_block("/a"), false);
    let mut resp = Vec::new();
    headers(
        &mut resp,
        1,
        &encode_literals(&[(":status", "200"), ("content-length", "0")]),
        true,
    );
    let mut c2 = Vec::new();
    headers(&mut c2, 3, &connect_block("/b"), false);
    let mut resp2 = Vec::new();
    headers(
        &mut resp2,
        3,
        &encode_literals(&[(":status", "200")]),
        false,
    );
    rst_stream(&mut resp2, 3, ErrorCode::CONNECT_ERROR);
    let (lines, _) = run(&[
        (S, server_settings(2)),
        (C, c),
        (S, resp),
        (S, s2),
        (C, c2),
        (S, resp2),
    ]);
    let findings: Vec<&String> = lines.iter().filter(|l| l.contains("finding")).collect();
    let expect = [
        "#1 finding h2ws.settings.value RFC 8441 §3",
        "#2 s1 finding h2ws.client.wait-for-setting RFC 8441 §3",
        "#3 s1 finding h2ws.ws.no-content-length RFC 9110 §9.3.6",
        "#3 s1 finding h2ws.ws.response-not-ended RFC 8441 §5",
        "#4 finding h2ws.settings.no-withdraw RFC 8441 §3",
        "#5 s3 finding h2ws.client.wait-for-setting RFC 8441 §3",
        "#6 s3 finding h2ws.ws.rst-cancel RFC 8441 §5",
    ];
    assert_eq!(findings.len(), expect.len(), "{findings:#?}");
    for (got, want) in findings.iter().zip(expect) {
        assert!(got.starts_with(want), "{got} / {want}");
    }
}

#[test]
fn malformed_frames_and_hpack_errors_are_findings() {
    let mut c = client_start();
    // SETTINGS of 5 octets, PING on stream 1, a HEADERS block indexing past the tables.
    encode_raw(&mut c, 0x4, 0, 0, &[0, 8, 0, 0, 1]);
    encode_raw(&mut c, 0x6, 0, 1, &[0; 8]);
    let mut c2 = Vec::new();
    headers(&mut c2, 1, &[0xff, 0x10], false);
    let mut c3 = Vec::new();
    headers(&mut c3, 3, &connect_block("/x"), false);
    let (lines, _) = run(&[(S, server_settings(1)), (C, c), (C, c2), (C, c3)]);
    assert!(
        has(
            &lines,
            "#2 finding h2.frame.header RFC 9113 §6.5 SETTINGS payload of 5 octets"
        ),
        "{lines:?}"
    );
    assert!(
        has(
            &lines,
            "#2 s1 finding h2.frame.header RFC 9113 §6.7 PING frame on stream 1"
        ),
        "{lines:?}"
    );
    assert!(
        has(&lines, "#3 s1 finding hpack.errors RFC 7541 §2.3.3"),
        "{lines:?}"
    );
    // The context is gone: the next block is not guessed at.
    assert!(
        has(
            &lines,
            "#4 warning connection 0: c>s http/2 field blocks are not decoded from stream 3 on"
        ),
        "{lines:?}"
    );
    assert!(!has(&lines, "handshake"), "{lines:?}");
}

#[test]
fn garbage_after_the_preface_and_a_cut_frame_never_panic() {
    let mut c = client_start();
    c.extend_from_slice(b"this is not an http/2 frame, just text");
    let (lines, _) = run(&[(C, c), (S, server_settings(1))]);
    assert!(
        has(
            &lines,
            "#1 finding h2.frame.max-size RFC 9113 §4.2 frame header declares"
        ),
        "{lines:?}"
    );

    // A DATA frame whose payload never arrives.
    let mut c = client_start();
    encode_raw(&mut c, 0x0, 0, 1, &[0; 100]);
    c.truncate(c.len() - 60);
    let (lines, _) = run(&[(C, client_start()), (C, c[client_start().len()..].to_vec())]);
    assert!(
        has(
            &lines,
            "#2 finding h2.frame.header RFC 9113 §4.1 the connection ends inside a DATA frame on stream 1 (49 of its 109 octets seen)"
        ),
        "{lines:?}"
    );

    // A preface that goes wrong half way.
    let mut c = PREFACE[..16].to_vec();
    c.extend_from_slice(b"XXXXXXXX");
    let (lines, _) = run(&[(C, c)]);
    assert!(
        has(&lines, "#1 finding h2.start.client-preface RFC 9113 §3.4"),
        "{lines:?}"
    );

    // Random bytes after a valid start, in many shapes: findings or nothing, never a panic.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for round in 0..300 {
        let mut junk = Vec::new();
        for _ in 0..(round % 97) + 1 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            junk.push((seed >> 32) as u8);
        }
        // Sometimes a plausible header in front, so the junk lands in payloads and blocks.
        let mut c = client_start();
        if round % 2 == 0 {
            encode_raw(
                &mut c,
                (round % 10) as u8,
                (round % 256) as u8,
                (round % 5) as u32,
                &junk,
            );
        } else {
            c.extend_from_slice(&junk);
        }
        let mut s = server_settings(1);
        encode_raw(&mut s, (round % 11) as u8, FLAG_END_STREAM, 1, &junk);
        let _ = run(&[(S, s), (C, c)]);
    }
}

#[test]
fn server_settings_in_two_segments_before_the_client_speaks() {
    let s = server_settings(1);
    let mut s2 = s[10..].to_vec();
    settings(&mut s2, &[(0x2a2a, 7)]);
    let mut c = client_start();
    headers(&mut c, 1, &connect_block("/split"), false);
    let mut resp = Vec::new();
    headers(&mut resp, 1, &encode_literals(&[(":status", "200")]), false);
    let server_bytes = 10 + s2.len() + resp.len();
    let (lines, dis) = run(&[(S, s[..10].to_vec()), (S, s2), (C, c), (S, resp)]);
    assert!(!has(&lines, "finding"), "{lines:?}");
    assert!(has(&lines, "#4 s1 handshake CONNECT /split"), "{lines:?}");
    assert_eq!(dis.kind, ConnKind::WebSocketHttp2);
    // Every server byte is HTTP/2 framing (no DATA).
    assert_eq!(dis.counts(S).http2, server_bytes as u64);
}

#[test]
fn rst_stream_no_error_after_the_senders_end_stream_is_not_an_abortive_close() {
    // The server ends its side (END_STREAM), then asks the client to stop sending with
    // RST_STREAM NO_ERROR (RFC 9113 §8.1): a closed WebSocket, not an aborted one. The same
    // reset on stream 3, whose server side never ended, is one.
    let mut c = client_start();
    headers(&mut c, 1, &connect_block("/a"), false);
    headers(&mut c, 3, &connect_block("/b"), false);
    let ok = encode_literals(&[(":status", "200")]);
    let mut s = server_settings(1);
    headers(&mut s, 1, &ok, false);
    headers(&mut s, 3, &ok, false);
    data(&mut s, 1, &[], true);
    rst_stream(&mut s, 1, ErrorCode::NO_ERROR);
    let mut s2 = Vec::new();
    rst_stream(&mut s2, 3, ErrorCode::NO_ERROR);
    let (lines, _) = run(&[(C, c), (S, s), (S, s2)]);
    let resets: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("h2ws.ws.rst-cancel"))
        .collect();
    assert_eq!(resets.len(), 1, "{lines:#?}");
    assert!(resets[0].contains("s3 "), "{resets:?}");
}
