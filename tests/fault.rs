//! Integration tests of the deliberately faulty servers (`ServeMode::Fault`): for every fault in
//! the catalogue, a raw-socket client built on `wire` sends the same input to the fault and to
//! the `none` baseline, and shows the defect in one and the right behaviour in the other. The
//! client judges what it receives with `wire`'s own checks (`validate_response`, `RuleEngine`),
//! so the tests also show those checks catching each defect. The baseline is then compared
//! with the tungstenite reference server on the inputs the suites use, and the real binary's
//! `--fault` options are checked. Servers listen on 127.0.0.1:0.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wsprobe::serve::{Fault, ServeConfig, ServeMode, Server, faults};
use wsprobe::wire::handshake::{ClientRequest, Parse, ResponseHead, parse_response};
use wsprobe::wire::rules::{RuleConfig, RuleEngine};
use wsprobe::wire::{
    ClosePayload, Decoded, Frame, FrameDecoder, FrameSpec, Opcode, Role, ViolationKind,
};

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

/// A connection after the opening handshake, judging every server frame with `wire`'s rules.
struct Client {
    tcp: TcpStream,
    decoder: FrameDecoder,
    rules: RuleEngine,
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
        let client = Client {
            tcp,
            decoder,
            rules: RuleEngine::new(Role::Server, RuleConfig::default()),
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
                let frame = f.frame;
                let found = self.rules.observe(&frame.header, &frame.payload);
                violations.extend(found.iter().map(|v| v.kind));
                seen.push(describe(&frame));
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

// ---- every fault against the baseline ----

/// What a server must do with a scenario's input.
#[derive(Clone, Debug)]
struct Expect {
    status: u16,
    seen: Vec<String>,
    violations: Vec<ViolationKind>,
    /// A response header that must have this value (`None`: must be absent).
    header: Option<(&'static str, Option<&'static str>)>,
}

/// Upgraded, then these frames and this end.
fn sees(seen: &[&str]) -> Expect {
    Expect {
        status: 101,
        seen: seen.iter().map(|s| s.to_string()).collect(),
        violations: Vec::new(),
        header: None,
    }
}

/// Refused with this status.
fn refused(status: u16) -> Expect {
    Expect {
        status,
        seen: Vec::new(),
        violations: Vec::new(),
        header: None,
    }
}

impl Expect {
    fn flags(mut self, violations: &[ViolationKind]) -> Expect {
        self.violations = violations.to_vec();
        self
    }

    fn header(mut self, name: &'static str, value: Option<&'static str>) -> Expect {
        self.header = Some((name, value));
        self
    }

    fn status(mut self, status: u16) -> Expect {
        self.status = status;
        self
    }

    /// What is wrong with `outcome`, if anything.
    fn mismatch(&self, outcome: &Outcome) -> Option<String> {
        let mut wrong = Vec::new();
        if outcome.response.status != self.status {
            wrong.push(format!(
                "status {} (expected {})",
                outcome.response.status, self.status
            ));
        }
        if outcome.seen != self.seen {
            wrong.push(format!("saw {:?} (expected {:?})", outcome.seen, self.seen));
        }
        if outcome.violations != self.violations {
            wrong.push(format!(
                "violations {:?} (expected {:?})",
                outcome.violations, self.violations
            ));
        }
        if let Some((name, value)) = self.header {
            let got = outcome.response.header(name);
            if got != value {
                wrong.push(format!("header {name} is {got:?} (expected {value:?})"));
            }
        }
        (!wrong.is_empty()).then(|| wrong.join("; "))
    }
}

/// One input, and what the baseline and the fault each do with it.
struct Scenario {
    request: Box<dyn Fn(&Server) -> ClientRequest + Send + Sync>,
    frames: Vec<FrameSpec>,
    baseline: Expect,
    fault: Expect,
}

/// A scenario with the default request.
fn frames(frames: Vec<FrameSpec>, baseline: Expect, fault: Expect) -> Scenario {
    Scenario {
        request: Box::new(request),
        frames,
        baseline,
        fault,
    }
}

/// A scenario whose request is the default one changed by `change`; if upgraded, the client
/// closes with 1000 at once.
fn handshake(
    change: impl Fn(&mut ClientRequest) + Send + Sync + 'static,
    baseline: Expect,
    fault: Expect,
) -> Scenario {
    Scenario {
        request: Box::new(move |server| {
            let mut r = request(server);
            change(&mut r);
            r
        }),
        frames: vec![close(1000)],
        baseline,
        fault,
    }
}

/// The input that shows each fault. The match is exhaustive, so a new fault cannot be added
/// without a scenario.
fn scenario(fault: Fault) -> Scenario {
    use ViolationKind as V;
    let closed = || sees(&["close 1000", "eof"]);
    let echo_x = || sees(&["text x", "close 1000", "eof"]);
    let failed = |code: &str| sees(&[&format!("close {code}"), "eof"]);
    let reserved = || c(Opcode::ReservedData(3), "r");
    match fault {
        Fault::None => panic!("the baseline is not a fault"),
        Fault::WrongAccept => handshake(|_| {}, closed(), closed().flags(&[V::HandshakeAccept])),
        Fault::Status200 => handshake(
            |_| {},
            closed(),
            closed().status(200).flags(&[V::HandshakeStatus]),
        ),
        Fault::NoUpgradeIn101 => handshake(
            |_| {},
            closed(),
            closed().flags(&[V::HandshakeUpgradeHeader]),
        ),
        Fault::NoConnectionIn101 => handshake(
            |_| {},
            closed(),
            closed().flags(&[V::HandshakeConnectionHeader]),
        ),
        Fault::UnofferedSubprotocol => handshake(
            |r| r.protocols = vec!["x-wsprobe-unknown".into(), "chat".into()],
            closed().header("sec-websocket-protocol", Some("chat")),
            closed().flags(&[V::HandshakeSubprotocol]),
        ),
        Fault::AcceptUnknownExtension => handshake(
            |r| r.extensions = vec!["x-wsprobe-unknown".into()],
            closed().header("sec-websocket-extensions", None),
            closed().header("sec-websocket-extensions", Some("x-wsprobe-unknown")),
        ),
        // Without a key the client cannot check the accept value either.
        Fault::AcceptMissingKey => handshake(
            |r| r.key = None,
            refused(400),
            closed().flags(&[V::HandshakeAccept]),
        ),
        Fault::AcceptBadKeyLength => handshake(
            |r| r.key = Some("AAAAAAAAAAA=".into()),
            refused(400),
            closed(),
        ),
        Fault::AcceptAnyVersion => {
            handshake(|r| r.version = Some("8".into()), refused(426), closed())
        }
        Fault::AcceptMissingHost => handshake(|r| r.host = None, refused(400), closed()),
        Fault::AcceptPost => handshake(|r| r.method = "POST".into(), refused(405), closed()),
        Fault::AcceptHttp10 => handshake(
            |r| r.http_version = "HTTP/1.0".into(),
            refused(400),
            closed(),
        ),
        Fault::AcceptMissingUpgrade => handshake(|r| r.upgrade = None, refused(400), closed()),
        Fault::AcceptMissingConnection => {
            handshake(|r| r.connection = None, refused(400), closed())
        }
        Fault::CaseSensitiveUpgrade => handshake(
            |r| r.upgrade = Some("WebSocket".into()),
            closed(),
            refused(400),
        ),
        Fault::No426 => handshake(
            |r| r.version = Some("8".into()),
            refused(426).header("sec-websocket-version", Some("13")),
            refused(400).header("sec-websocket-version", None),
        ),
        Fault::NoVersionIn426 => handshake(
            |r| r.version = None,
            refused(426).header("sec-websocket-version", Some("13")),
            refused(426).header("sec-websocket-version", None),
        ),
        Fault::AcceptUnmasked => frames(
            vec![FrameSpec::new(Opcode::Text, "x"), close(1000)],
            failed("1002"),
            echo_x(),
        ),
        Fault::NoUnmask => frames(
            vec![c(Opcode::Binary, vec![1, 2, 3, 4, 5]), close(1000)],
            sees(&["binary 0102030405", "close 1000", "eof"]),
            sees(&["binary 1020304014", "close 1000", "eof"]),
        ),
        Fault::IgnoreRsv => frames(
            vec![
                FrameSpec {
                    rsv: 0b100,
                    ..text("x")
                },
                close(1000),
            ],
            failed("1002"),
            echo_x(),
        ),
        Fault::IgnoreReservedOpcode => frames(
            vec![reserved(), text("x"), close(1000)],
            failed("1002"),
            echo_x(),
        ),
        Fault::AcceptOversizedControl => frames(
            vec![c(Opcode::Ping, vec![b'p'; 126]), close(1000)],
            failed("1002"),
            sees(&["pong (126 bytes)", "close 1000", "eof"]).flags(&[V::ControlFrameTooLong]),
        ),
        Fault::AcceptFragmentedControl => frames(
            vec![c(Opcode::Ping, "p").fin(false), close(1000)],
            failed("1002"),
            sees(&["pong p", "close 1000", "eof"]),
        ),
        Fault::AcceptOrphanContinuation => frames(
            vec![c(Opcode::Continuation, "y"), text("x"), close(1000)],
            failed("1002"),
            echo_x(),
        ),
        Fault::AcceptInterleavedData => frames(
            vec![text("a").fin(false), text("x"), close(1000)],
            failed("1002"),
            echo_x(),
        ),
        Fault::NoPong => frames(
            vec![c(Opcode::Ping, "p"), close(1000)],
            sees(&["pong p", "close 1000", "eof"]),
            closed(),
        ),
        Fault::WrongPongPayload => frames(
            vec![c(Opcode::Ping, "hello"), close(1000)],
            sees(&["pong hello", "close 1000", "eof"]),
            sees(&["pong pong", "close 1000", "eof"]),
        ),
        Fault::AnswerLastPingOnly => frames(
            vec![
                c(Opcode::Ping, "1"),
                c(Opcode::Ping, "2"),
                c(Opcode::Ping, "3"),
                close(1000),
            ],
            sees(&["pong 1", "pong 2", "pong 3", "close 1000", "eof"]),
            sees(&["pong 3", "close 1000", "eof"]),
        ),
        Fault::NoUtf8Validation => frames(
            vec![text(vec![0xce, 0xba, 0xff]), close(1000)],
            failed("1007"),
            sees(&["text hex:cebaff", "close 1000", "eof"]).flags(&[V::InvalidUtf8Text]),
        ),
        // κ is CE BA, split between two frames.
        Fault::Utf8PerFrame => frames(
            vec![
                text(vec![0xce]).fin(false),
                c(Opcode::Continuation, vec![0xba]),
                close(1000),
            ],
            sees(&["text κ", "close 1000", "eof"]),
            failed("1007"),
        ),
        // The first fragment is already invalid; the message is never finished.
        Fault::Utf8AtEnd => frames(
            vec![text(vec![b'a', 0xff]).fin(false)],
            failed("1007"),
            sees(&["quiet"]),
        ),
        Fault::Utf8Close1002 => frames(
            vec![text(vec![0xff]), close(1000)],
            failed("1007"),
            failed("1002"),
        ),
        Fault::WrongCloseCode => frames(vec![reserved()], failed("1002"), failed("1000")),
        Fault::EchoInvalidCloseCode => frames(
            vec![close(1005)],
            failed("1002"),
            failed("1005").flags(&[V::InvalidCloseCode]),
        ),
        Fault::AcceptOneByteClose => frames(
            vec![c(Opcode::Close, vec![0x03])],
            failed("1002"),
            sees(&["close", "eof"]),
        ),
        Fault::AcceptInvalidCloseReason => frames(
            vec![c(Opcode::Close, vec![0x03, 0xe8, 0xff])],
            failed("1007"),
            closed(),
        ),
        Fault::Reply1005 => frames(
            vec![c(Opcode::Close, vec![])],
            sees(&["close", "eof"]),
            failed("1005").flags(&[V::InvalidCloseCode]),
        ),
        Fault::CloseNotAnswered => frames(vec![close(1000)], closed(), sees(&["eof"])),
        Fault::NoTcpClose => frames(vec![close(1000)], closed(), sees(&["close 1000", "quiet"])),
        Fault::EchoAfterClose => frames(
            vec![text("x"), close(1000), text("late")],
            echo_x(),
            sees(&["text x", "close 1000", "text late", "quiet"]).flags(&[V::DataAfterClose]),
        ),
        Fault::OversizedCloseReason => frames(
            vec![reserved()],
            failed("1002"),
            failed("1002").flags(&[V::ControlFrameTooLong]),
        ),
        Fault::DropOnError => frames(vec![reserved()], failed("1002"), sees(&["eof"])),
        Fault::MaskedServerFrames => frames(
            vec![text("x"), close(1000)],
            echo_x(),
            echo_x().flags(&[V::MaskedServerFrame, V::MaskedServerFrame]),
        ),
        Fault::RsvOnServerFrames => frames(
            vec![text("x"), close(1000)],
            echo_x(),
            echo_x().flags(&[V::ReservedBitsSet, V::ReservedBitsSet]),
        ),
        Fault::NonMinimalLength => frames(
            vec![text("x"), close(1000)],
            echo_x(),
            echo_x().flags(&[V::NonMinimalLength, V::NonMinimalLength]),
        ),
        Fault::BinaryAsText => frames(
            vec![c(Opcode::Binary, vec![0xff, 0xfe]), close(1000)],
            sees(&["binary fffe", "close 1000", "eof"]),
            sees(&["text hex:fffe", "close 1000", "eof"]).flags(&[V::InvalidUtf8Text]),
        ),
        Fault::TruncateLarge => frames(
            vec![c(Opcode::Binary, vec![7u8; 70_000]), close(1000)],
            sees(&["binary (70000 bytes)", "close 1000", "eof"]),
            sees(&["binary (65536 bytes)", "close 1000", "eof"]),
        ),
    }
}

/// Every fault shows its defect on its scenario, and the baseline does the right thing with
/// the same input. All scenarios run at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_fault_shows_its_defect_and_the_baseline_does_not() {
    within(async {
        let baseline = std::sync::Arc::new(start_fault(Fault::None).await);
        let mut runs = tokio::task::JoinSet::new();
        for info in faults() {
            let fault = info.fault;
            let baseline = std::sync::Arc::clone(&baseline);
            runs.spawn(async move {
                let s = scenario(fault);
                let server = start_fault(fault).await;
                let (base_request, fault_request) = ((s.request)(&baseline), (s.request)(&server));
                let (base, bad) = tokio::join!(
                    exchange(&baseline, &base_request, &s.frames),
                    exchange(&server, &fault_request, &s.frames),
                );
                server.shutdown().await;
                let mut problems = Vec::new();
                if let Some(m) = s.baseline.mismatch(&base) {
                    problems.push(format!("{fault}: baseline {m}"));
                }
                if let Some(m) = s.fault.mismatch(&bad) {
                    problems.push(format!("{fault}: fault {m}"));
                }
                problems
            });
        }
        let mut problems = Vec::new();
        while let Some(run) = runs.join_next().await {
            problems.extend(run.expect("scenario does not panic"));
        }
        problems.sort();
        assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    })
    .await;
}

// ---- the baseline in more detail ----

/// A change to the default request.
type RequestChange = Box<dyn Fn(&mut ClientRequest)>;

/// The baseline behaves as the tungstenite reference server does on the inputs the suites
/// send (framing, ping, close, ready-state): the same frames in the same order, the same
/// close codes, the same end.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn baseline_behaves_like_the_tungstenite_reference() {
    within(async {
        let reference = start(ServeMode::Echo, MAX_MESSAGE).await;
        let raw = start_fault(Fault::None).await;
        let pings: Vec<FrameSpec> = (0..10)
            .map(|i| c(Opcode::Ping, format!("payload-{i}")))
            .collect();
        let mut fragmented = vec![
            text("Hello, ").fin(false),
            c(Opcode::Ping, "between"),
            c(Opcode::Continuation, "wsprobe"),
        ];
        fragmented.push(close(1000));
        let cases: Vec<(&str, Vec<FrameSpec>)> = vec![
            ("text 0", vec![text(""), close(1000)]),
            ("text 125", vec![text(vec![b'*'; 125]), close(1000)]),
            ("text 126", vec![text(vec![b'*'; 126]), close(1000)]),
            ("text 65535", vec![text(vec![b'*'; 65535]), close(1000)]),
            ("text 65536", vec![text(vec![b'*'; 65536]), close(1000)]),
            (
                "binary 65536",
                vec![c(Opcode::Binary, vec![0xfe; 65536]), close(1000)],
            ),
            ("ping empty", vec![c(Opcode::Ping, ""), close(1000)]),
            (
                "ping 125",
                vec![c(Opcode::Ping, vec![0xfe; 125]), close(1000)],
            ),
            ("ping 126", vec![c(Opcode::Ping, vec![0xfe; 126])]),
            (
                "unsolicited pong",
                vec![c(Opcode::Pong, "x"), c(Opcode::Ping, "p"), close(1000)],
            ),
            ("ten pings", [pings, vec![close(1000)]].concat()),
            ("fragments and a ping between", fragmented),
            ("close 4000", vec![close(4000)]),
            ("close without code", vec![c(Opcode::Close, vec![])]),
            ("close 1005", vec![close(1005)]),
            ("close 999", vec![close(999)]),
            ("close one byte", vec![c(Opcode::Close, vec![3])]),
            ("reserved opcode 3", vec![c(Opcode::ReservedData(3), "")]),
            (
                "reserved opcode 11",
                vec![c(Opcode::ReservedControl(11), "")],
            ),
            (
                "rsv bits",
                vec![FrameSpec {
                    rsv: 0b010,
                    ..text("x")
                }],
            ),
            ("unmasked", vec![FrameSpec::new(Opcode::Text, "x")]),
            ("orphan continuation", vec![c(Opcode::Continuation, "x")]),
            (
                "invalid utf-8",
                vec![text(
                    b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited".to_vec(),
                )],
            ),
            (
                "data after close",
                vec![text("late"), close(1000), text("later")],
            ),
        ];
        let mut differences = Vec::new();
        for (name, frames) in &cases {
            let expected = exchange(&reference, &request(&reference), frames).await;
            let got = exchange(&raw, &request(&raw), frames).await;
            if expected.seen != got.seen || !got.violations.is_empty() {
                differences.push(format!(
                    "{name}: tungstenite {:?}, raw {:?} {:?}",
                    expected.seen, got.seen, got.violations
                ));
            }
        }
        // Handshakes: both refuse with a 4xx, or both accept.
        let changes: Vec<(&str, RequestChange)> = vec![
            ("valid", Box::new(|_| {})),
            ("no key", Box::new(|r| r.key = None)),
            (
                "short key",
                Box::new(|r| r.key = Some("AAAAAAAAAAA=".into())),
            ),
            ("version 8", Box::new(|r| r.version = Some("8".into()))),
            ("no version", Box::new(|r| r.version = None)),
            ("no host", Box::new(|r| r.host = None)),
            ("no upgrade", Box::new(|r| r.upgrade = None)),
            ("no connection", Box::new(|r| r.connection = None)),
            ("post", Box::new(|r| r.method = "POST".into())),
            ("http/1.0", Box::new(|r| r.http_version = "HTTP/1.0".into())),
            (
                "upgrade mixed case",
                Box::new(|r| r.upgrade = Some("WebSocket".into())),
            ),
            (
                "connection list",
                Box::new(|r| r.connection = Some("keep-alive, Upgrade".into())),
            ),
            (
                "protocols",
                Box::new(|r| r.protocols = vec!["x-wsprobe-unknown".into(), "chat".into()]),
            ),
            (
                "unknown extension",
                Box::new(|r| r.extensions = vec!["x-wsprobe-unknown".into()]),
            ),
        ];
        for (name, change) in &changes {
            let outcome = |server: &Server| {
                let mut r = request(server);
                change(&mut r);
                r
            };
            let expected = exchange(&reference, &outcome(&reference), &[close(1000)]).await;
            let got = exchange(&raw, &outcome(&raw), &[close(1000)]).await;
            let class = |o: &Outcome| o.response.status / 100;
            let protocol = |o: &Outcome| {
                o.response
                    .header("sec-websocket-protocol")
                    .map(str::to_string)
            };
            if class(&expected) != class(&got)
                || expected.seen != got.seen
                || protocol(&expected) != protocol(&got)
                || !got.violations.is_empty()
                || got.response.header("sec-websocket-extensions").is_some()
            {
                differences.push(format!(
                    "handshake {name}: tungstenite {} {:?}, raw {} {:?} {:?}",
                    expected.response.status,
                    expected.seen,
                    got.response.status,
                    got.seen,
                    got.violations
                ));
            }
        }
        reference.shutdown().await;
        raw.shutdown().await;
        assert!(differences.is_empty(), "\n{}", differences.join("\n"));
    })
    .await;
}

#[tokio::test]
async fn baseline_fails_invalid_utf8_as_soon_as_its_frame_arrives() {
    within(async {
        let server = start_fault(Fault::None).await;
        let (mut client, _) = Client::open(&server, &request(&server)).await;
        let mut violations = Vec::new();
        // κόσμε, then a surrogate in the second of three fragments: the third never comes.
        client
            .send(&[text(b"\xce\xba\xe1\xbd\xb9".to_vec()).fin(false)])
            .await;
        assert_eq!(client.observe(&mut violations).await, ["quiet"]);
        client
            .send(&[c(Opcode::Continuation, b"\xcf\x83\xed\xa0\x80".to_vec()).fin(false)])
            .await;
        assert_eq!(client.observe(&mut violations).await, ["close 1007", "eof"]);
        assert_eq!(violations, []);
        drop(client);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn utf8_at_end_fails_only_when_the_message_is_complete() {
    within(async {
        let server = start_fault(Fault::Utf8AtEnd).await;
        let (mut client, _) = Client::open(&server, &request(&server)).await;
        let mut violations = Vec::new();
        client.send(&[text(vec![b'a', 0xff]).fin(false)]).await;
        assert_eq!(client.observe(&mut violations).await, ["quiet"]);
        client.send(&[c(Opcode::Continuation, "z")]).await;
        assert_eq!(client.observe(&mut violations).await, ["close 1007", "eof"]);
        drop(client);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn baseline_fails_messages_over_the_limit_with_1009() {
    within(async {
        let server = start(ServeMode::Fault(Fault::None), 1024).await;
        let mut violations = Vec::new();
        // One frame over the limit is refused from its header alone.
        let (mut client, _) = Client::open(&server, &request(&server)).await;
        client.send(&[c(Opcode::Binary, vec![0u8; 2048])]).await;
        assert_eq!(client.observe(&mut violations).await, ["close 1009", "eof"]);
        drop(client);
        // Two fragments under the limit, together over it.
        let (mut client, _) = Client::open(&server, &request(&server)).await;
        client
            .send(&[
                c(Opcode::Binary, vec![0u8; 600]).fin(false),
                c(Opcode::Continuation, vec![0u8; 600]),
            ])
            .await;
        assert_eq!(client.observe(&mut violations).await, ["close 1009", "eof"]);
        drop(client);
        // Exactly the limit is echoed.
        let (mut client, _) = Client::open(&server, &request(&server)).await;
        client
            .send(&[c(Opcode::Binary, vec![0u8; 1024]), close(1000)])
            .await;
        assert_eq!(
            client.observe(&mut violations).await,
            ["binary (1024 bytes)", "close 1000", "eof"]
        );
        assert_eq!(violations, []);
        drop(client);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn baseline_serves_frames_sent_with_the_request_and_written_byte_by_byte() {
    within(async {
        let server = start_fault(Fault::None).await;
        let mut r = request(&server);
        r.body = [text("early"), c(Opcode::Ping, "p")]
            .iter()
            .flat_map(FrameSpec::encode)
            .collect();
        let (mut client, response) = Client::open(&server, &r).await;
        assert_eq!(response.status, 101);
        let mut bytes = Vec::new();
        text("Hello, wsprobe").encode_into(&mut bytes);
        close(1000).encode_into(&mut bytes);
        for b in bytes {
            client.tcp.write_all(&[b]).await.expect("write");
        }
        let mut violations = Vec::new();
        assert_eq!(
            client.observe(&mut violations).await,
            [
                "text early",
                "pong p",
                "text Hello, wsprobe",
                "close 1000",
                "eof"
            ]
        );
        assert_eq!(violations, []);
        drop(client);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn baseline_accepts_a_request_written_byte_by_byte() {
    within(async {
        let server = start_fault(Fault::None).await;
        let mut tcp = TcpStream::connect(server.local_addr())
            .await
            .expect("tcp connects");
        tcp.set_nodelay(true).expect("nodelay");
        for b in request(&server).to_bytes() {
            tcp.write_all(&[b]).await.expect("write");
        }
        let mut response = Vec::new();
        let mut chunk = [0u8; 1024];
        while !response.ends_with(b"\r\n\r\n") {
            let n = tcp.read(&mut chunk).await.expect("read");
            assert!(n > 0, "closed before the response ended");
            response.extend_from_slice(&chunk[..n]);
        }
        assert!(
            response.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"),
            "{}",
            String::from_utf8_lossy(&response)
        );
        drop(tcp);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn baseline_refuses_malformed_and_oversized_heads_with_400() {
    within(async {
        let server = start_fault(Fault::None).await;
        let mut padded = request(&server);
        padded.headers = (0..100)
            .map(|i| (format!("X-Pad-{i}"), "p".repeat(200)))
            .collect();
        for bytes in [
            b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n".to_vec(),
            padded.to_bytes(),
        ] {
            let mut tcp = TcpStream::connect(server.local_addr())
                .await
                .expect("tcp connects");
            // The server may answer before reading everything; a reset then is fine.
            let _ = tcp.write_all(&bytes).await;
            let mut response = Vec::new();
            let _ = tcp.read_to_end(&mut response).await;
            assert!(
                response.starts_with(b"HTTP/1.1 400 Bad Request\r\n"),
                "{}",
                String::from_utf8_lossy(&response)
            );
        }
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn shutdown_closes_open_connections_with_1001() {
    within(async {
        let server = start_fault(Fault::None).await;
        let (mut client, _) = Client::open(&server, &request(&server)).await;
        let mut violations = Vec::new();
        client.send(&[text("x")]).await;
        assert_eq!(client.observe(&mut violations).await, ["text x", "quiet"]);
        let shutdown = tokio::spawn(server.shutdown());
        let mut chunk = [0u8; 256];
        let n = client.tcp.read(&mut chunk).await.expect("read");
        client.decoder.push(&chunk[..n]);
        let Decoded::Frame(f) = client.decoder.next_frame() else {
            panic!("a close frame")
        };
        assert_eq!(describe(&f.frame), "close 1001");
        client.send(&[close(1001)]).await;
        let n = client.tcp.read(&mut chunk).await.expect("read");
        assert_eq!(n, 0, "the server closes TCP after the reply");
        drop(client);
        shutdown.await.expect("shutdown completes");
    })
    .await;
}

// ---- the real binary ----

mod binary {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::time::Duration;

    use wsprobe::serve::{Fault, faults};

    fn wsprobe(args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_wsprobe"))
            .args(args)
            .output()
            .expect("binary runs")
    }

    #[test]
    fn list_faults_prints_every_name_with_its_description() {
        for args in [
            &["serve", "--list-faults"][..],
            &["serve", "--fault", "list"][..],
        ] {
            let out = wsprobe(args);
            assert_eq!(out.status.code(), Some(0), "{args:?}");
            let stdout = String::from_utf8(out.stdout).expect("utf-8");
            let lines: Vec<&str> = stdout.lines().collect();
            assert_eq!(lines.len(), faults().len() + 1, "{stdout}");
            assert!(lines[0].starts_with("none "));
            for (line, info) in lines[1..].iter().zip(faults()) {
                assert!(line.starts_with(info.name), "{line}");
                assert!(line.contains(info.description), "{line}");
            }
        }
    }

    #[test]
    fn unknown_fault_is_a_usage_error_listing_the_names() {
        let out = wsprobe(&["serve", "--fault", "no-png"]);
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8(out.stderr).expect("utf-8");
        assert!(stderr.contains("unknown fault 'no-png'"), "{stderr}");
        assert!(stderr.contains("did you mean 'no-pong'?"), "{stderr}");
        for name in Fault::names() {
            assert!(stderr.contains(name), "{name} missing: {stderr}");
        }
    }

    #[test]
    fn fault_and_mode_are_mutually_exclusive() {
        let out = wsprobe(&["serve", "--fault", "no-pong", "--mode", "counter"]);
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8(out.stderr).expect("utf-8");
        assert!(stderr.contains("cannot be used with"), "{stderr}");
    }

    #[test]
    fn serve_fault_prints_the_url_first() {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wsprobe"))
            .args(["serve", "--port", "0", "--fault", "none"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("binary starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(10));
        let _ = child.kill();
        let _ = child.wait();
        let line = line.expect("a first line within 10s");
        assert!(line.starts_with("ws://127.0.0.1:"), "{line:?}");
    }
}

/// Keeps the scenario table honest about its own helpers: descriptions are unambiguous.
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
