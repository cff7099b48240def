//! Every fault against the baseline: one scenario per fault, run on both, each outcome checked
//! against what that server must do.

use wsprobe::serve::{Fault, ServeMode, Server, faults};
use wsprobe::wire::deflate::{Compressor, FindingKind, forms};
use wsprobe::wire::handshake::ClientRequest;
use wsprobe::wire::{FrameSpec, Opcode, ViolationKind};

use super::{
    Client, MAX_MESSAGE, Outcome, c, close, compress, exchange, offering, request, start,
    start_fault, text, within, z,
};

/// The response header that carries the extension answer.
const EXTENSIONS: &str = "sec-websocket-extensions";

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
    /// The message limit both servers run with.
    max_message: usize,
}

/// A scenario with the default request.
fn frames(frames: Vec<FrameSpec>, baseline: Expect, fault: Expect) -> Scenario {
    Scenario {
        request: Box::new(request),
        frames,
        baseline,
        fault,
        max_message: MAX_MESSAGE,
    }
}

/// A scenario whose request offers one permessage-deflate element.
fn deflate(
    offer: &'static str,
    frames: Vec<FrameSpec>,
    baseline: Expect,
    fault: Expect,
) -> Scenario {
    Scenario {
        request: Box::new(move |server| offering(server, &[offer])),
        frames,
        baseline,
        fault,
        max_message: MAX_MESSAGE,
    }
}

/// A client frame with RSV1 set and this payload as it is.
fn rsv1(frame: FrameSpec) -> FrameSpec {
    FrameSpec {
        rsv: 0b100,
        ..frame
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
        max_message: MAX_MESSAGE,
    }
}

/// The input that shows each fault. The match is exhaustive, so a new fault cannot be added
/// without a scenario.
fn scenario(fault: Fault) -> Scenario {
    use FindingKind as K;
    use ViolationKind as V;
    let closed = || sees(&["close 1000", "eof"]);
    let pmd = "permessage-deflate";
    let agreed = |value: &'static str| closed().header(EXTENSIONS, Some(value));
    let echo_x = || sees(&["text x", "close 1000", "eof"]);
    let failed = |code: &str| sees(&[&format!("close {code}"), "eof"]);
    let reserved = || c(Opcode::ReservedData(3), "r");
    match fault {
        Fault::None => panic!("the baseline is not a fault"),
        // HTTP/2 faults only show over HTTP/2: tests/faults_caught.rs runs the HTTP/2 suite
        // against each, and tests/http2.rs checks them one by one.
        Fault::H2NoConnectSetting
        | Fault::H2Status400
        | Fault::H2ContentLength0
        | Fault::H2EndStreamOn2xx
        | Fault::H2SendAccept
        | Fault::H2AcceptAnyProtocol
        | Fault::H2AcceptAnyVersion
        | Fault::H2UnofferedSubprotocol
        | Fault::H2NoEndStream
        | Fault::H2RstProtocolError
        | Fault::H2TrailersOnTunnel
        | Fault::H2NoWindowUpdate
        | Fault::H2AcceptMissingPath
        | Fault::H2AcceptMissingScheme
        | Fault::H2AcceptProtocolOnGet
        | Fault::H2AcceptUppercase
        | Fault::H2AcceptConnectionHeader
        | Fault::H2LenientPseudo
        | Fault::H2RejectContinuation
        | Fault::H2RejectUnknownSetting
        | Fault::H2SettingValue2
        | Fault::H2WithdrawSetting
        | Fault::H2NoSettingsAck
        | Fault::H2PingBeforeSettings
        | Fault::H2OversizedData
        | Fault::H2IgnoreWindow
        | Fault::H2NoPingAck
        | Fault::H2GoawayDropsStreams
        | Fault::H2AcceptUnadvertised => panic!("{fault} is an HTTP/2 fault"),
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
        Fault::AcceptRepeatedKey => handshake(
            |r| {
                r.headers.push((
                    "Sec-WebSocket-Key".into(),
                    "AQIDBAUGBwgJCgsMDQ4PEA==".into(),
                ))
            },
            refused(400),
            closed(),
        ),
        Fault::AcceptNonBase64Key => handshake(
            |r| r.key = Some("not a base64 key!!".into()),
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
        Fault::DeflateAcceptInvalidOffer => deflate(
            "permessage-deflate; server_max_window_bits=16",
            vec![close(1000)],
            closed().header(EXTENSIONS, None),
            agreed(pmd),
        ),
        Fault::DeflateUnofferedParameter => deflate(
            pmd,
            vec![close(1000)],
            agreed(pmd),
            agreed("permessage-deflate; client_max_window_bits=15")
                .flags(&[V::Deflate(K::ResponseClientMaxWindowBitsNotOffered)]),
        ),
        Fault::DeflateMissingServerNct => deflate(
            "permessage-deflate; server_no_context_takeover",
            vec![close(1000)],
            agreed("permessage-deflate; server_no_context_takeover"),
            agreed(pmd).flags(&[V::Deflate(K::ResponseMissingServerNoContextTakeover)]),
        ),
        Fault::DeflateBitsAboveOffer => deflate(
            "permessage-deflate; server_max_window_bits=10",
            vec![close(1000)],
            agreed("permessage-deflate; server_max_window_bits=10"),
            agreed("permessage-deflate; server_max_window_bits=11")
                .flags(&[V::Deflate(K::ResponseServerMaxWindowBits)]),
        ),
        Fault::DeflateTwoElements => deflate(
            pmd,
            vec![close(1000)],
            agreed(pmd),
            agreed("permessage-deflate, permessage-deflate")
                .flags(&[V::Deflate(K::ResponseMultipleElements)]),
        ),
        Fault::Rsv1OnContinuation => deflate(
            pmd,
            vec![z(Opcode::Text, "Hello, permessage-deflate"), close(1000)],
            sees(&[
                "text Hello, permessage-deflate (deflate)",
                "close 1000",
                "eof",
            ]),
            sees(&[
                "text Hello, perme (deflate)",
                "continuation ssage-deflate (deflate)",
                "close 1000",
                "eof",
            ])
            .flags(&[V::Deflate(K::Rsv1OnContinuation)]),
        ),
        Fault::Rsv1OnControl => deflate(
            pmd,
            vec![c(Opcode::Ping, "p"), close(1000)],
            sees(&["pong p", "close 1000", "eof"]),
            sees(&["pong p", "close 1000", "eof"]).flags(&[
                V::Deflate(K::Rsv1OnControlFrame),
                V::Deflate(K::Rsv1OnControlFrame),
            ]),
        ),
        // The second echo repeats the first: with the context kept it refers back to it.
        Fault::DeflateContextTakeover => deflate(
            "permessage-deflate; server_no_context_takeover",
            vec![
                z(Opcode::Text, "context takeover"),
                z(Opcode::Text, "context takeover"),
                close(1000),
            ],
            sees(&[
                "text context takeover (deflate)",
                "text context takeover (deflate)",
                "close 1000",
                "eof",
            ]),
            sees(&[
                "text context takeover (deflate)",
                "text (deflate)",
                "close 1000",
                "eof",
            ])
            .flags(&[V::Deflate(K::ServerContextTakeover)]),
        ),
        // 64 bytes, 576 others, the same 64 again: 640 bytes back, beyond a 512-byte window.
        Fault::DeflateWindowExceeded => {
            let (message, _) = forms::reaching_beyond(9).expect("valid window bits");
            let seen = format!("binary ({} bytes) (deflate)", message.len());
            let seen: &'static str = Box::leak(seen.into_boxed_str());
            deflate(
                "permessage-deflate; server_max_window_bits=9",
                vec![z(Opcode::Binary, &message), close(1000)],
                sees(&[seen, "close 1000", "eof"]),
                sees(&[seen, "close 1000", "eof"]).flags(&[V::Deflate(K::ServerWindowExceeded)]),
            )
        }
        Fault::DeflateUncompressedRsv1 => deflate(
            pmd,
            vec![text("Hello"), close(1000)],
            sees(&["text Hello (deflate)", "close 1000", "eof"]),
            sees(&["text (deflate)", "close 1000", "eof"])
                .flags(&[V::Deflate(K::InvalidCompressedData)]),
        ),
        Fault::DeflateIgnoreInvalidData => deflate(
            pmd,
            vec![rsv1(c(Opcode::Binary, vec![0xff])), text("x"), close(1000)],
            failed("1002"),
            sees(&["text x (deflate)", "close 1000", "eof"]),
        ),
        Fault::DeflateAcceptRsv1Continuation => {
            let payload = compress(b"Hello");
            deflate(
                pmd,
                vec![
                    rsv1(c(Opcode::Text, payload[..2].to_vec()).fin(false)),
                    rsv1(c(Opcode::Continuation, payload[2..].to_vec())),
                    close(1000),
                ],
                failed("1002"),
                sees(&["text Hello (deflate)", "close 1000", "eof"]),
            )
        }
        // RFC 7692 §7.2.3.6: a flushed fragment keeps its 00 00 ff ff; the last one is 00.
        Fault::DeflateStreamEnd => {
            let bfinal = forms::bfinal(b"Hello").expect("valid compressor settings");
            let after = forms::compressed(b"again", false).expect("valid compressor settings");
            deflate(
                pmd,
                vec![
                    rsv1(c(Opcode::Text, bfinal)),
                    rsv1(c(Opcode::Text, after)),
                    close(1000),
                ],
                sees(&[
                    "text Hello (deflate)",
                    "text again (deflate)",
                    "close 1000",
                    "eof",
                ]),
                sees(&[
                    "text Hello (deflate)",
                    "text (deflate)",
                    "close 1000",
                    "eof",
                ]),
            )
        }
        Fault::DeflateEmptyFragment => {
            let first = Compressor::new(15, false, 1)
                .and_then(|mut c| c.compress_fragment(b"Hello", false))
                .expect("valid compressor settings");
            deflate(
                pmd,
                vec![
                    rsv1(c(Opcode::Text, first).fin(false)),
                    c(Opcode::Continuation, forms::EMPTY_FINAL_FRAGMENT.to_vec()),
                    close(1000),
                ],
                sees(&["text Hello (deflate)", "close 1000", "eof"]),
                failed("1002"),
            )
        }
        // 2 MiB of zeros against a 1 MiB limit.
        Fault::DeflateInflateUnbounded => Scenario {
            max_message: 1 << 20,
            ..deflate(
                pmd,
                vec![z(Opcode::Binary, vec![0u8; 2 << 20]), close(1000)],
                failed("1009"),
                sees(&["binary (2097152 bytes) (deflate)", "close 1000", "eof"]),
            )
        },
    }
}

/// Every fault shows its defect on its scenario, and the baseline does the right thing with
/// the same input. All scenarios run at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_fault_shows_its_defect_and_the_baseline_does_not() {
    within(async {
        let baseline = std::sync::Arc::new(start_fault(Fault::None).await);
        let mut runs = tokio::task::JoinSet::new();
        for info in faults().iter().filter(|i| !i.fault.is_http2()) {
            let fault = info.fault;
            let baseline = std::sync::Arc::clone(&baseline);
            runs.spawn(async move {
                let s = scenario(fault);
                let server = start(ServeMode::Fault(fault), s.max_message).await;
                let own_baseline = if s.max_message == MAX_MESSAGE {
                    None
                } else {
                    Some(start(ServeMode::Fault(Fault::None), s.max_message).await)
                };
                let baseline = own_baseline.as_ref().unwrap_or(&baseline);
                let (base_request, fault_request) = ((s.request)(baseline), (s.request)(&server));
                let (base, bad) = tokio::join!(
                    exchange(baseline, &base_request, &s.frames),
                    exchange(&server, &fault_request, &s.frames),
                );
                server.shutdown().await;
                if let Some(own) = own_baseline {
                    own.shutdown().await;
                }
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

/// The scenario shows `utf8-at-end` is not fail-fast; this shows it does fail, late.
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
