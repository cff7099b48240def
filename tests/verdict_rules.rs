//! The verdict rules of docs/verdicts.md against servers that take each of the paths the RFC
//! leaves open: a reset after the server's close frame, a TCP close without a close frame, a
//! close reply with another valid code, a refused handshake in an INFO case, a greeting no step
//! reads, and a server that goes silent under a long kill timer. Each rule is also shown to
//! fail where it must (the same servers breaking a MUST).

mod common;

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wsprobe::runner::{self, CaseContext, CaseResult, NoProgress, RunConfig, Verdict};
use wsprobe::suite::{self, Source, model::Case};
use wsprobe::wire::{Decoded, DecoderConfig, FrameDecoder, FrameSpec, Opcode};

/// Reads the request head and answers 101 with the right Accept. Returns what followed the
/// head in the same reads.
async fn accept(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_string();
    let key = head.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim()
            .eq_ignore_ascii_case("sec-websocket-key")
            .then(|| v.trim().to_string())
    })?;
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        wsprobe::wire::handshake::accept_for_key(&key)
    );
    stream.write_all(response.as_bytes()).await.ok()?;
    Some(buf[end..].to_vec())
}

/// Reads client frames (unmasked by the decoder) until one arrives.
async fn next_frame(
    stream: &mut TcpStream,
    decoder: &mut FrameDecoder,
) -> Option<(Opcode, Vec<u8>)> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Decoded::Frame(f) = decoder.next_frame() {
            return Some((f.frame.header.opcode, f.frame.payload));
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        decoder.push(&chunk[..n]);
    }
}

async fn send(stream: &mut TcpStream, opcode: Opcode, payload: &[u8]) {
    let mut bytes = Vec::new();
    FrameSpec::new(opcode, payload.to_vec()).encode_into(&mut bytes);
    let _ = stream.write_all(&bytes).await;
}

fn close_payload(code: u16) -> Vec<u8> {
    code.to_be_bytes().to_vec()
}

/// How a test server behaves after the handshake.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Behaviour {
    /// Echoes data; on a reserved opcode sends close 1002; answers a close with its code.
    /// `reset`: after its own close frame it leaves the client's reply unread and drops the
    /// socket, so the client's read meets a reset instead of an orderly end.
    Good { reset: bool },
    /// Like `Good`, but fails the connection by closing TCP without a close frame.
    DropOnError,
    /// Answers every close with 1001 (a valid code, not the one received).
    Reply1001,
    /// Answers a reserved opcode by ignoring it (breaks §5.2, a MUST).
    IgnoreReserved,
    /// Sends a text greeting `delay` after the handshake, then echoes.
    Greeting { delay_ms: u64 },
    /// Reads and never answers anything.
    Silent,
}

async fn serve(mut stream: TcpStream, how: Behaviour) {
    let Some(early) = accept(&mut stream).await else {
        return;
    };
    let mut decoder = FrameDecoder::new(DecoderConfig {
        max_payload: 1 << 24,
    });
    decoder.push(&early);
    if let Behaviour::Greeting { delay_ms } = how {
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        send(&mut stream, Opcode::Text, b"hello from the server").await;
    }
    while let Some((opcode, payload)) = next_frame(&mut stream, &mut decoder).await {
        match (opcode, how) {
            (_, Behaviour::Silent) => {}
            (Opcode::Text | Opcode::Binary, _) => send(&mut stream, opcode, &payload).await,
            (Opcode::Ping, _) => send(&mut stream, Opcode::Pong, &payload).await,
            (Opcode::Close, Behaviour::Reply1001) => {
                send(&mut stream, Opcode::Close, &close_payload(1001)).await;
                return;
            }
            (Opcode::Close, _) => {
                let code = payload.get(..2).map(|c| c.to_vec()).unwrap_or_default();
                send(&mut stream, Opcode::Close, &code).await;
                return;
            }
            (Opcode::ReservedData(_) | Opcode::ReservedControl(_), Behaviour::IgnoreReserved) => {}
            (Opcode::ReservedData(_) | Opcode::ReservedControl(_), Behaviour::DropOnError) => {
                return;
            }
            (Opcode::ReservedData(_) | Opcode::ReservedControl(_), Behaviour::Good { reset }) => {
                send(&mut stream, Opcode::Close, &close_payload(1002)).await;
                if reset {
                    // The client's close reply arrives and stays unread: dropping the socket
                    // now makes the kernel answer with a reset.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    return;
                }
                // Read the reply, then close TCP in order.
                let _ = next_frame(&mut stream, &mut decoder).await;
                return;
            }
            _ => {}
        }
    }
}

fn builtin(id: &str) -> Case {
    suite::load(&suite::embedded())
        .expect("built-in suites load")
        .into_iter()
        .flat_map(|s| s.cases)
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("built-in case {id}"))
}

fn user_case(yaml: &str) -> Case {
    suite::load(&[Source {
        path: "user.yaml".into(),
        text: yaml.to_string(),
    }])
    .expect("the test suite loads")
    .into_iter()
    .flat_map(|s| s.cases)
    .next()
    .expect("one case")
}

/// The context for cases against `server` (jobs share one budget).
fn context(server: &common::RawServer, idle: Duration, jobs: usize) -> CaseContext {
    common::case_context(server, idle, jobs)
}

fn run(how: Behaviour, cases: &[Case], idle: Duration) -> Vec<CaseResult> {
    let server = common::raw_server(move |s| serve(s, how));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let config = RunConfig {
        context: context(&server, idle, 4),
        jobs: 4,
        fail_fast: false,
        fail_on: wsprobe::runner::result::FailOn::default(),
    };
    let results = rt.block_on(async {
        tokio::time::timeout(
            Duration::from_secs(60),
            runner::run(cases.to_vec(), &config, &mut NoProgress),
        )
        .await
        .expect("the run finishes")
    });
    drop(server);
    results
}

fn verdicts(results: &[CaseResult]) -> Vec<(String, Verdict)> {
    results.iter().map(|r| (r.id.clone(), r.verdict)).collect()
}

fn trace_text(r: &CaseResult) -> String {
    wsprobe::trace::canonical::render_text(
        &r.traces,
        &wsprobe::trace::canonical::Redaction::default(),
    )
}

const IDLE: Duration = Duration::from_secs(10);

/// §7.1.1: the server closes TCP after its close frame. Whether wsprobe's reply then meets a
/// reset is timing, not the server's choice: the verdict, wasClean and the trace are the same.
#[test]
fn rfc6455_7_1_1_reset_after_the_servers_close_is_a_clean_close() {
    let cases = vec![
        builtin("ready-state.server-initiated-close"),
        builtin("ready-state.server-close-event"),
    ];
    let orderly = run(Behaviour::Good { reset: false }, &cases, IDLE);
    let reset = run(Behaviour::Good { reset: true }, &cases, IDLE);
    for r in orderly.iter().chain(&reset) {
        assert_eq!(r.verdict, Verdict::Pass, "{} {:?}", r.id, r.failure);
        let close = r.close.as_ref().expect("closing judged");
        assert!(close.clean, "{}: {}", r.id, close.detail);
    }
    for (a, b) in orderly.iter().zip(&reset) {
        assert_eq!(trace_text(a), trace_text(b), "{}", a.id);
    }
}

/// §7.1.7: failing by closing TCP without a close frame is allowed. `fail:` cases pass as in
/// Autobahn; a case that prefers the close frame gives NON-STRICT, never FAIL. A server that
/// does not fail the connection at all still FAILs.
#[test]
fn rfc6455_7_1_7_tcp_close_without_close_frame_is_never_a_must_failure() {
    let cases = vec![
        builtin("opcodes.reserved-data-3"),
        builtin("ready-state.server-close-event"),
        builtin("ready-state.server-initiated-close"),
    ];
    let dropped = run(Behaviour::DropOnError, &cases, IDLE);
    assert_eq!(
        verdicts(&dropped),
        vec![
            ("opcodes.reserved-data-3".to_string(), Verdict::Pass),
            (
                "ready-state.server-close-event".to_string(),
                Verdict::NonStrict
            ),
            (
                "ready-state.server-initiated-close".to_string(),
                Verdict::NonStrict
            ),
        ]
    );
    let note = dropped[1]
        .failure
        .as_ref()
        .expect("a note says what was seen");
    assert!(note.observed.contains("tcp"), "{note:?}");
    let ignored = run(Behaviour::IgnoreReserved, &cases, IDLE);
    for r in &ignored {
        assert_eq!(r.verdict, Verdict::Fail, "{}", r.id);
    }
}

/// §5.5.1: the close reply "typically" echoes the code. Another valid code is NON-STRICT in
/// the expectation, the closing judgement and the close event alike.
#[test]
fn rfc6455_5_5_1_another_valid_close_code_is_non_strict() {
    let cases = vec![
        builtin("close.echo-then-close"),
        builtin("close.payload-code-only"),
        builtin("ready-state.close-code-and-reason"),
    ];
    let results = run(Behaviour::Reply1001, &cases, IDLE);
    for r in &results {
        assert_eq!(r.verdict, Verdict::NonStrict, "{} {:?}", r.id, r.failure);
        let f = r.failure.as_ref().expect("a note");
        assert!(f.observed.contains("1001"), "{}: {f:?}", r.id);
    }
    let good = run(Behaviour::Good { reset: false }, &cases, IDLE);
    for r in &good {
        assert_eq!(r.verdict, Verdict::Pass, "{} {:?}", r.id, r.failure);
    }
}

/// A case that needs an open connection FAILs when the handshake never completes, whatever
/// its level: an INFO case cannot report INFORMATIONAL against a server that refused it.
#[test]
fn a_refused_handshake_fails_even_an_informational_case() {
    let case = builtin("close.large-message-then-close");
    assert_eq!(case.level, wsprobe::wire::Level::Info);
    let server = common::raw_server(|mut s: TcpStream| async move {
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf).await;
        let _ = s
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            .await;
    });
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let cx = context(&server, IDLE, 1);
    let r = rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(30), runner::exec::run_case(&case, &cx))
            .await
            .expect("the case finishes")
    });
    assert_eq!(r.verdict, Verdict::Fail, "{:?}", r.failure);
    assert!(r.failure.expect("why").observed.contains("404"));
}

/// What the server sends and no step reads is judged after the closing handshake, so a
/// greeting fails the case in every run, whether it arrives at once or after the steps.
#[test]
fn leftovers_are_judged_the_same_whenever_they_arrive() {
    let case = user_case(
        r#"
version: 1
suite: greeting
title: a suite that never reads the greeting
spec: RFC 6455 §6.2
cases:
  - id: greeting.unread
    title: the echo is checked, the greeting is not read
    spec: RFC 6455 §6.2
    steps:
      - connect: {}
"#,
    );
    for delay_ms in [0, 50, 0, 50] {
        let r = run(
            Behaviour::Greeting { delay_ms },
            std::slice::from_ref(&case),
            IDLE,
        );
        assert_eq!(r[0].verdict, Verdict::Fail, "delay {delay_ms} ms");
        let f = r[0].failure.as_ref().expect("why");
        assert!(f.observed.contains("hello from the server"), "{f:?}");
    }
    let quiet = run(Behaviour::Good { reset: false }, &[case], IDLE);
    assert_eq!(quiet[0].verdict, Verdict::Pass, "{:?}", quiet[0].failure);
}

/// A long kill timer only applies while data flows: a server that goes silent ends the wait
/// at the idle timeout, with the reason in the failure.
#[test]
fn a_silent_server_ends_the_wait_at_the_idle_timeout() {
    let case = user_case(
        r#"
version: 1
suite: silent
title: a long kill timer
spec: RFC 6455 §6.2
cases:
  - id: silent.echo
    title: a message is echoed within 600 s
    spec: RFC 6455 §6.2
    timeout: 600s
    deadline: 1200s
    steps:
      - connect: {}
      - send: { binary: { hex: "00ff" } }
      - expect: { message: { binary: { hex: "00ff" } } }
"#,
    );
    let results = Arc::new(run(
        Behaviour::Silent,
        std::slice::from_ref(&case),
        Duration::from_millis(300),
    ));
    let f = results[0].failure.as_ref().expect("why");
    assert_eq!(results[0].verdict, Verdict::Fail);
    assert!(f.observed.contains("idle-timeout"), "{f:?}");
}
