//! wsprobe as a permessage-deflate client (RFC 7692) against scripted servers: each rule a
//! client must enforce is shown to hold against a server that keeps it and to FAIL against one
//! that breaks it — the response checks of §5.1/§7/§7.1, RSV1 on a continuation frame (§6.1),
//! data that does not inflate (§7.2.2), a window beyond the agreed bits (§7.1.2.1), inflated
//! text that is not UTF-8 (RFC 6455 §8.1) and a compression bomb (RFC 6455 §10.4).

mod common;

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wsprobe::runner::{CaseResult, Verdict, exec::run_case};
use wsprobe::suite::{self, Source, model::Case};
use wsprobe::wire::deflate::receive::RSV1;
use wsprobe::wire::deflate::{Compressor, Inflater, forms};
use wsprobe::wire::{Decoded, DecoderConfig, FrameDecoder, FrameSpec, Opcode, Role};

/// What the scripted server does wrong, if anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Echo {
    /// Compresses every echo correctly with a 32 KiB window.
    Good,
    /// Sends each echo in two frames, both with RSV1.
    Rsv1OnContinuation,
    /// Answers with bytes that are not DEFLATE data.
    Invalid,
    /// Answers with a message that refers 64 KiB… back, beyond a 9-bit window.
    BeyondWindow,
    /// Answers a text message whose inflated bytes are not UTF-8.
    BadUtf8,
    /// Answers with 64 MiB of zeros, compressed to a few KiB.
    Bomb,
}

/// Answers 101 with `extensions` as `Sec-WebSocket-Extensions` (none when empty), then echoes
/// every data message the `echo` way until the client closes.
async fn serve(mut stream: TcpStream, extensions: &'static str, echo: Echo) {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_string();
    let Some(key) = head.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim()
            .eq_ignore_ascii_case("sec-websocket-key")
            .then(|| v.trim().to_string())
    }) else {
        return;
    };
    let ext = if extensions.is_empty() {
        String::new()
    } else {
        format!("Sec-WebSocket-Extensions: {extensions}\r\n")
    };
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n{ext}\r\n",
        wsprobe::wire::handshake::accept_for_key(&key)
    );
    if stream.write_all(response.as_bytes()).await.is_err() {
        return;
    }
    let mut decoder = FrameDecoder::new(DecoderConfig {
        max_payload: 1 << 26,
    });
    decoder.push(&buf[end..]);
    let mut inflater = Inflater::new(Role::Client, 15, false).expect("inflater");
    let mut compressor = Compressor::new(15, false, 6).expect("compressor");
    let mut message: Option<(Opcode, bool, Vec<u8>)> = None;
    loop {
        let frame = match decoder.next_frame() {
            Decoded::Frame(f) => f.frame,
            Decoded::NeedMore(_) => match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    decoder.push(&chunk[..n]);
                    continue;
                }
            },
            Decoded::Oversized { .. } => return,
        };
        let h = frame.header;
        match h.opcode {
            Opcode::Close => {
                let reply = FrameSpec::new(Opcode::Close, frame.payload).encode();
                let _ = stream.write_all(&reply).await;
                return;
            }
            Opcode::Text | Opcode::Binary => {
                message = Some((h.opcode, h.rsv & RSV1 != 0, frame.payload));
            }
            Opcode::Continuation => {
                if let Some((_, _, data)) = message.as_mut() {
                    data.extend_from_slice(&frame.payload);
                }
            }
            _ => continue,
        }
        if !h.fin {
            continue;
        }
        let Some((op, compressed, data)) = message.take() else {
            continue;
        };
        let data = if compressed {
            let mut out = Vec::new();
            if inflater.inflate(&data, 1 << 26, &mut out).is_some() {
                return;
            }
            out
        } else {
            data
        };
        let frames: Vec<FrameSpec> = match echo {
            _ if extensions.is_empty() => vec![FrameSpec::new(op, data)],
            Echo::Good => vec![rsv1(FrameSpec::new(
                op,
                compressor.compress(&data).unwrap(),
            ))],
            Echo::Rsv1OnContinuation => {
                let payload = compressor.compress(&data).unwrap();
                let (a, b) = payload.split_at(payload.len() / 2);
                vec![
                    rsv1(FrameSpec::new(op, a.to_vec()).fin(false)),
                    rsv1(FrameSpec::new(Opcode::Continuation, b.to_vec())),
                ]
            }
            Echo::Invalid => vec![rsv1(FrameSpec::new(op, vec![0xff, 0xff, 0xff]))],
            Echo::BeyondWindow => {
                let (_, payload) = forms::reaching_beyond(9).unwrap();
                vec![rsv1(FrameSpec::new(Opcode::Binary, payload))]
            }
            Echo::BadUtf8 => vec![rsv1(FrameSpec::new(
                Opcode::Text,
                forms::compressed(&[0xff, 0xfe, 0xfd], false).unwrap(),
            ))],
            Echo::Bomb => vec![rsv1(FrameSpec::new(
                Opcode::Binary,
                forms::compressed(&vec![0u8; 64 << 20], false).unwrap(),
            ))],
        };
        for f in frames {
            if stream.write_all(&f.encode()).await.is_err() {
                return;
            }
        }
    }
}

fn rsv1(mut f: FrameSpec) -> FrameSpec {
    f.rsv |= RSV1;
    f
}

fn case(offer: &str, steps: &str) -> Case {
    let yaml = format!(
        r#"
suite: deflate-client
title: wsprobe as a permessage-deflate client
cases:
  - id: deflate-client.case
    title: one exchange
    spec: RFC 7692 §7
    timeout: 3s
    steps:
      - connect: {{ extensions: ["{offer}"] }}
{steps}
"#
    );
    suite::load(&[Source {
        path: "deflate-client.yaml".into(),
        text: yaml,
    }])
    .expect("the test suite loads")
    .into_iter()
    .flat_map(|s| s.cases)
    .next()
    .expect("one case")
}

const HELLO: &str = r#"      - send: { text: "Hello, Hello, Hello" }
      - expect: { message: { text: "Hello, Hello, Hello", compressed: true } }"#;

fn run(extensions: &'static str, echo: Echo, case: &Case) -> CaseResult {
    let server = common::raw_server(move |s| serve(s, extensions, echo));
    let cx = common::case_context(&server, Duration::from_secs(3), 1);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(30), run_case(case, &cx))
            .await
            .expect("the case finishes")
    })
}

fn violations(r: &CaseResult) -> String {
    let v: Vec<String> = r.violations.iter().map(|v| v.to_string()).collect();
    format!("{} | {:?} | {:?}", v.join("; "), r.failure, r.close)
}

/// The issue's first example: `client_max_window_bits` offered, the server accepts, text is
/// exchanged and judged inflated (it used to fail as invalid UTF-8 on the compressed bytes).
#[test]
fn rfc7692_6_1_compressed_text_is_judged_inflated() {
    let c = case("permessage-deflate; client_max_window_bits", HELLO);
    let r = run("permessage-deflate", Echo::Good, &c);
    assert_eq!(r.verdict, Verdict::Pass, "{:?}", r.failure);
    // The same exchange with a server that breaks §6.1.
    let r = run("permessage-deflate", Echo::Rsv1OnContinuation, &c);
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(
        violations(&r).contains("rsv1-on-continuation"),
        "{}",
        violations(&r)
    );
}

#[test]
fn rfc7692_7_2_2_data_that_does_not_inflate_fails() {
    let c = case("permessage-deflate", HELLO);
    let r = run("permessage-deflate", Echo::Invalid, &c);
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(
        violations(&r).contains("invalid-compressed-data"),
        "{}",
        violations(&r)
    );
}

#[test]
fn rfc7692_7_1_2_1_a_reference_beyond_the_agreed_window_fails() {
    let c = case(
        "permessage-deflate; server_max_window_bits=9",
        "      - send: { text: \"x\" }\n      - expect: { message: { opcode: binary } }",
    );
    let r = run(
        "permessage-deflate; server_max_window_bits=9",
        Echo::BeyondWindow,
        &c,
    );
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(
        violations(&r).contains("server-window-exceeded"),
        "{}",
        violations(&r)
    );
    // The same bytes are valid under a 15-bit window.
    let c = case(
        "permessage-deflate",
        "      - send: { text: \"x\" }\n      - expect: { message: { opcode: binary } }",
    );
    let r = run("permessage-deflate", Echo::BeyondWindow, &c);
    assert_eq!(r.verdict, Verdict::Pass, "{:?}", r.failure);
}

#[test]
fn rfc6455_8_1_inflated_text_must_be_utf8_and_10_4_bombs_stop_at_the_limit() {
    let c = case("permessage-deflate", HELLO);
    let r = run("permessage-deflate", Echo::BadUtf8, &c);
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(
        violations(&r).contains("invalid-utf8-text"),
        "{}",
        violations(&r)
    );
    let r = run("permessage-deflate", Echo::Bomb, &c);
    assert_eq!(r.verdict, Verdict::Fail);
    let v = violations(&r);
    assert!(
        v.contains("inflated-too-large") && v.contains("1009"),
        "{v}"
    );
}

#[test]
fn rfc7692_7_1_2_1_and_7_response_checks_fail_the_handshake() {
    let plain = "      - send: { text: \"a\" }\n      - expect: { message: { text: \"a\" } }";
    // Accepted within the offer: fine.
    let c = case("permessage-deflate; server_max_window_bits=10", plain);
    let r = run(
        "permessage-deflate; server_max_window_bits=10",
        Echo::Good,
        &c,
    );
    assert_eq!(r.verdict, Verdict::Pass, "{:?}", r.failure);
    // A larger window than offered.
    let r = run(
        "permessage-deflate; server_max_window_bits=12",
        Echo::Good,
        &c,
    );
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(
        violations(&r).contains("deflate-response-server-max-window-bits"),
        "{}",
        violations(&r)
    );
    // An offer the server must decline (§7), accepted.
    let c = case("permessage-deflate; x_unknown=1", plain);
    let r = run("permessage-deflate", Echo::Good, &c);
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(
        violations(&r).contains("deflate-offer-unknown-parameter"),
        "{}",
        violations(&r)
    );
    // Declined: fine, and the exchange is uncompressed.
    let r = run("", Echo::Good, &c);
    assert_eq!(r.verdict, Verdict::Pass, "{:?}", r.failure);
    // A parameter the response may not carry.
    let c = case("permessage-deflate", plain);
    let r = run(
        "permessage-deflate; client_max_window_bits=10",
        Echo::Good,
        &c,
    );
    assert_eq!(r.verdict, Verdict::Fail);
}
