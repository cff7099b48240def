//! Integration tests of the deliberately faulty servers (`ServeMode::Fault`): for every fault in
//! the catalogue, a raw-socket client built on `wire` sends the same input to the fault and to
//! the `none` baseline, and shows the defect in one and the right behaviour in the other
//! (`catalogue`). The client judges what it receives with `wire`'s own checks
//! (`validate_response`, `RuleEngine`), so the tests also show those checks catching each
//! defect. The baseline is checked on the inputs the suites use and on the requirements the
//! catalogue does not reach (`baseline`), and the real binary's `--fault` options are checked
//! (`binary`). This file holds the shared raw client, which speaks permessage-deflate (RFC
//! 7692) with `wire`'s deflate layer when the request offers it. Servers listen on
//! 127.0.0.1:0.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wsprobe::serve::{Fault, ServeConfig, ServeMode, Server};
use wsprobe::wire::deflate::{
    Compressor, DeflateOffer, Negotiated, Receiver, check_response, parse_offers,
};
use wsprobe::wire::handshake::{ClientRequest, Parse, ResponseHead, parse_response};
use wsprobe::wire::rules::{RuleConfig, RuleEngine};
use wsprobe::wire::{
    ClosePayload, Decoded, Frame, FrameDecoder, FrameSpec, Opcode, Role, ViolationKind,
};

mod baseline;
mod binary;
mod catalogue;
mod deflate;

const TEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Silence after which a server is taken to have nothing more to say.
const QUIET: Duration = Duration::from_millis(500);

const MASK: [u8; 4] = [0x11, 0x22, 0x33, 0x44];

const MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// Runs a test body under [`TEST_TIMEOUT`] so a hang fails instead of stalling CI.
async fn within<F: Future>(body: F) -> F::Output {
    tokio::time::timeout(TEST_TIMEOUT, body)
        .await
        .expect("test timed out")
}

async fn start(mode: ServeMode, max_message_size: usize) -> Server {
    Server::start(ServeConfig {
        host: "127.0.0.1".into(),
        port: 0,
        mode,
        max_message_size,
    })
    .await
    .expect("server starts")
}

async fn start_fault(fault: Fault) -> Server {
    start(ServeMode::Fault(fault), MAX_MESSAGE).await
}

// ---- the raw client ----

/// A client frame: masked, final, minimal length.
fn c(opcode: Opcode, payload: impl Into<Vec<u8>>) -> FrameSpec {
    FrameSpec::new(opcode, payload).masked(MASK)
}

fn text(payload: impl Into<Vec<u8>>) -> FrameSpec {
    c(Opcode::Text, payload)
}

fn close(code: u16) -> FrameSpec {
    c(Opcode::Close, code.to_be_bytes().to_vec())
}

fn request(server: &Server) -> ClientRequest {
    let host = server.local_addr().to_string();
    ClientRequest::new(&host, "/", "dGhlIHNhbXBsZSBub25jZQ==")
}

/// A client frame compressed as a whole message by a fresh compressor (valid whatever was
/// agreed), RSV1 set.
fn z(opcode: Opcode, message: impl AsRef<[u8]>) -> FrameSpec {
    FrameSpec {
        rsv: 0b100,
        ..c(opcode, compress(message.as_ref()))
    }
}

/// `message` compressed by a fresh compressor, tail removed (RFC 7692 §7.2.1).
fn compress(message: &[u8]) -> Vec<u8> {
    Compressor::new(15, false, 1)
        .and_then(|mut c| c.compress(message))
        .expect("valid compressor settings")
}

/// A request offering these extension items.
fn offering(server: &Server, extensions: &[&str]) -> ClientRequest {
    let mut r = request(server);
    r.extensions = extensions.iter().map(|e| e.to_string()).collect();
    r
}

/// A connection after the opening handshake, judging every server frame with `wire`'s rules
/// and, when permessage-deflate was agreed, inflating it with `wire`'s deflate [`Receiver`].
struct Client {
    tcp: TcpStream,
    decoder: FrameDecoder,
    rules: RuleEngine,
    deflate: Option<Receiver>,
    /// The permessage-deflate parameters agreed, if any.
    negotiated: Option<Negotiated>,
    /// What the client check of the permessage-deflate response found.
    negotiation: Vec<ViolationKind>,
}

/// What a server did with one request and its frames.
#[derive(Debug)]
struct Outcome {
    response: ResponseHead,
    /// What `wire` found wrong: in the response (§4.1), then in the server's frames.
    violations: Vec<ViolationKind>,
    /// The server's frames in order (see [`describe`]), then `eof` or `quiet`.
    seen: Vec<String>,
}

impl Client {
    /// Sends the request and reads the response head; bytes after it stay in the decoder.
    async fn open(server: &Server, request: &ClientRequest) -> (Client, ResponseHead) {
        let mut tcp = TcpStream::connect(server.local_addr())
            .await
            .expect("tcp connects");
        tcp.write_all(&request.to_bytes()).await.expect("write");
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let head = loop {
            if let Ok(Parse::Complete(head)) = parse_response(&buf, 64 * 1024) {
                break head;
            }
            let n = tcp.read(&mut chunk).await.expect("read response");
            assert!(n > 0, "connection closed before a response head");
            buf.extend_from_slice(&chunk[..n]);
        };
        let mut decoder = FrameDecoder::default();
        decoder.push(&buf[head.head_len..]);
        let offers: Vec<DeflateOffer> = parse_offers(&request.extensions.join(", "))
            .iter()
            .map(|params| DeflateOffer::from_params(params).0)
            .collect();
        let value = head
            .header_values("sec-websocket-extensions")
            .iter()
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .collect::<Vec<_>>()
            .join(", ");
        let check = check_response(&offers, &value);
        let deflate = check.negotiated.map(|negotiated| {
            Receiver::new(&negotiated, Role::Server, MAX_MESSAGE as u64)
                .expect("negotiated window bits are valid")
        });
        let config = RuleConfig {
            allowed_rsv: if deflate.is_some() { 0b100 } else { 0 },
            ..RuleConfig::default()
        };
        let client = Client {
            tcp,
            decoder,
            rules: RuleEngine::new(Role::Server, config),
            deflate,
            negotiated: check.negotiated,
            negotiation: check
                .findings
                .iter()
                .map(|f| ViolationKind::Deflate(f.kind))
                .collect(),
        };
        (client, head)
    }

    /// Writes the frames back to back in one write.
    async fn send(&mut self, frames: &[FrameSpec]) {
        let mut bytes = Vec::new();
        for f in frames {
            f.encode_into(&mut bytes);
        }
        self.tcp.write_all(&bytes).await.expect("write frames");
    }

    /// Reads frames until the server closes TCP (`eof`) or says nothing for [`QUIET`]
    /// (`quiet`); appends what `wire`'s rules find in them to `violations`.
    async fn observe(&mut self, violations: &mut Vec<ViolationKind>) -> Vec<String> {
        let mut seen = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            while let Decoded::Frame(f) = self.decoder.next_frame() {
                let mut frame = f.frame;
                let mut compressed = false;
                if let Some(receiver) = self.deflate.as_mut() {
                    let received = receiver.on_frame(&frame.header, &frame.payload);
                    violations.extend(
                        received
                            .findings
                            .iter()
                            .map(|f| ViolationKind::Deflate(f.kind)),
                    );
                    compressed = received.compressed;
                    if let Some(inflated) = received.inflated {
                        frame.payload = inflated;
                    }
                }
                let found = self.rules.observe(&frame.header, &frame.payload);
                violations.extend(found.iter().map(|v| v.kind));
                let words = describe(&frame);
                seen.push(if compressed {
                    format!("{words} (deflate)")
                } else {
                    words
                });
            }
            match tokio::time::timeout(QUIET, self.tcp.read(&mut chunk)).await {
                Err(_) => {
                    seen.push("quiet".into());
                    return seen;
                }
                Ok(Ok(0) | Err(_)) => {
                    seen.push("eof".into());
                    return seen;
                }
                Ok(Ok(n)) => self.decoder.push(&chunk[..n]),
            }
        }
    }
}

/// A frame in a few words: `text hello`, `binary 0102`, `pong p`, `close 1002`, `close`.
fn describe(frame: &Frame) -> String {
    let p = &frame.payload;
    let shown = |p: &[u8]| match std::str::from_utf8(p) {
        Ok(s) if p.len() <= 40 => s.to_string(),
        Ok(_) => format!("({} bytes)", p.len()),
        Err(_) if p.len() <= 16 => format!("hex:{}", hex(p)),
        Err(_) => format!("({} bytes)", p.len()),
    };
    let words = match frame.header.opcode {
        Opcode::Binary if p.len() <= 16 => format!("binary {}", hex(p)),
        Opcode::Binary => format!("binary ({} bytes)", p.len()),
        Opcode::Close => match ClosePayload::parse(p) {
            ClosePayload::Empty => "close".into(),
            ClosePayload::OneByte(b) => format!("close hex:{b:02x}"),
            ClosePayload::Code { code, .. } => format!("close {code}"),
        },
        op => format!("{op} {}", shown(p)),
    };
    words.trim_end().to_string()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Opens a connection with `request`; if the server upgrades, sends `frames` and observes.
async fn exchange(server: &Server, request: &ClientRequest, frames: &[FrameSpec]) -> Outcome {
    let (mut client, response) = Client::open(server, request).await;
    let mut violations =
        match wsprobe::wire::handshake::validate_response(&response, &request.offer()) {
            Ok(_) => Vec::new(),
            Err(found) if response.status == 200 || response.status == 101 => {
                found.iter().map(|v| v.kind).collect()
            }
            // A refusal is judged by its status alone.
            Err(_) => Vec::new(),
        };
    violations.append(&mut client.negotiation);
    let seen = if response.status == 101 || response.status == 200 {
        client.send(frames).await;
        client.observe(&mut violations).await
    } else {
        Vec::new()
    };
    Outcome {
        response,
        violations,
        seen,
    }
}

/// The frame descriptions the expectations are written in are unambiguous.
#[test]
fn describe_names_frames_plainly() {
    let frame = |op: Opcode, payload: &[u8]| Frame {
        header: FrameSpec::new(op, payload.to_vec()).header(),
        payload: payload.to_vec(),
    };
    let cases: BTreeMap<&str, Frame> = [
        ("text hi", frame(Opcode::Text, b"hi")),
        ("text hex:ff", frame(Opcode::Text, &[0xff])),
        ("binary 0102", frame(Opcode::Binary, &[1, 2])),
        ("pong", frame(Opcode::Pong, b"")),
        ("close", frame(Opcode::Close, b"")),
        ("close 1000", frame(Opcode::Close, &[0x03, 0xe8])),
        ("close hex:03", frame(Opcode::Close, &[0x03])),
    ]
    .into_iter()
    .collect();
    for (words, f) in &cases {
        assert_eq!(describe(f), *words);
    }
}
