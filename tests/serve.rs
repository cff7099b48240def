//! Integration tests of the reference servers: tokio-tungstenite clients (and a raw TCP client
//! for what tungstenite refuses to send, and for permessage-deflate) against `Server` on
//! 127.0.0.1:0, and the real binary. Echo mode is the raw baseline (see `tests/fault/` for its
//! permessage-deflate tests in depth).

use std::future::Future;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};
use wsprobe::serve::{ServeConfig, ServeMode, Server};

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

const TEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Runs a test body under [`TEST_TIMEOUT`] so a hang fails instead of stalling CI.
async fn within<F: Future>(body: F) -> F::Output {
    tokio::time::timeout(TEST_TIMEOUT, body)
        .await
        .expect("test timed out")
}

fn config(mode: ServeMode) -> ServeConfig {
    ServeConfig {
        host: "127.0.0.1".into(),
        port: 0,
        mode,
        max_message_size: 16 * 1024 * 1024,
    }
}

async fn start(config: ServeConfig) -> Server {
    Server::start(config).await.expect("server starts")
}

async fn connect(server: &Server) -> Client {
    let (client, _response) = connect_async(server.url()).await.expect("client connects");
    client
}

async fn next(client: &mut Client) -> Message {
    client
        .next()
        .await
        .expect("stream has a message")
        .expect("message is valid")
}

async fn assert_echoes(message: Message) {
    within(async {
        let server = start(config(ServeMode::Echo)).await;
        let mut client = connect(&server).await;
        client.send(message.clone()).await.expect("send");
        assert_eq!(next(&mut client).await, message);
        drop(client);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn start_on_port_zero_reports_the_picked_port() {
    within(async {
        let server = start(config(ServeMode::Echo)).await;
        let addr = server.local_addr();
        assert!(addr.ip().is_loopback());
        assert_ne!(addr.port(), 0);
        assert_eq!(server.url(), format!("ws://127.0.0.1:{}/", addr.port()));
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn bind_failure_names_the_address() {
    within(async {
        let first = start(config(ServeMode::Echo)).await;
        let port = first.local_addr().port();
        let mut taken = config(ServeMode::Echo);
        taken.port = port;
        let error = Server::start(taken).await.expect_err("port is taken");
        let text = error.to_string();
        assert!(
            text.starts_with(&format!("cannot listen on 127.0.0.1:{port}: ")),
            "{text}"
        );
        first.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn echo_text() {
    assert_echoes(Message::text("héllo, wörld")).await;
}

#[tokio::test]
async fn echo_binary() {
    assert_echoes(Message::binary(vec![0u8, 1, 2, 0xfe, 0xff])).await;
}

#[tokio::test]
async fn echo_empty_text_and_binary() {
    assert_echoes(Message::text("")).await;
    assert_echoes(Message::binary(Vec::new())).await;
}

#[tokio::test]
async fn echo_64_kib_binary_byte_exact() {
    let payload: Vec<u8> = (0..65536u32).map(|i| (i % 251) as u8).collect();
    assert_echoes(Message::binary(payload)).await;
}

#[tokio::test]
async fn echo_accepts_any_path() {
    within(async {
        let server = start(config(ServeMode::Echo)).await;
        let url = format!("{}some/path?query=1", server.url());
        let (mut client, _) = connect_async(url).await.expect("client connects");
        client.send(Message::text("x")).await.expect("send");
        assert_eq!(next(&mut client).await, Message::text("x"));
        drop(client);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn ping_is_answered_with_pong_of_same_payload() {
    within(async {
        let server = start(config(ServeMode::Echo)).await;
        let mut client = connect(&server).await;
        client
            .send(Message::Ping(b"are you there?".to_vec().into()))
            .await
            .expect("send ping");
        assert_eq!(
            next(&mut client).await,
            Message::Pong(b"are you there?".to_vec().into())
        );
        drop(client);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn client_close_is_echoed_then_tcp_closes() {
    within(async {
        let server = start(config(ServeMode::Echo)).await;
        let mut client = connect(&server).await;
        client
            .close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "bye".into(),
            }))
            .await
            .expect("send close");
        match next(&mut client).await {
            Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::Normal),
            other => panic!("expected close 1000, got {other:?}"),
        }
        // `None` (not an error) means tungstenite saw a clean TCP EOF after the handshake.
        assert!(client.next().await.is_none());
        drop(client);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn counter_sends_numbers_then_closes_normally() {
    within(async {
        let server = start(config(ServeMode::Counter {
            count: 3,
            interval: Duration::from_millis(10),
        }))
        .await;
        let mut client = connect(&server).await;
        for expected in ["1", "2", "3"] {
            assert_eq!(next(&mut client).await, Message::text(expected));
        }
        match next(&mut client).await {
            Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::Normal),
            other => panic!("expected close 1000, got {other:?}"),
        }
        assert!(client.next().await.is_none());
        drop(client);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn counter_stops_when_client_closes_early() {
    within(async {
        let server = start(config(ServeMode::Counter {
            count: 1000,
            interval: Duration::from_millis(10),
        }))
        .await;
        let mut client = connect(&server).await;
        assert_eq!(next(&mut client).await, Message::text("1"));
        client.close(None).await.expect("send close");
        // Numbers already in flight may arrive before the close reply.
        loop {
            match next(&mut client).await {
                Message::Text(_) => {}
                Message::Close(_) => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(client.next().await.is_none());
        drop(client);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn connections_are_independent() {
    within(async {
        let server = start(config(ServeMode::Echo)).await;
        let mut good = connect(&server).await;
        let mut bad = raw_connect(&server).await;
        bad.write_all(&[0x81, 0x02, b'h', b'i'])
            .await
            .expect("write");
        assert_eq!(read_close_code(&mut bad).await, 1002);
        good.send(Message::text("still here")).await.expect("send");
        assert_eq!(next(&mut good).await, Message::text("still here"));
        drop((good, bad));
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn shutdown_closes_open_connection_with_going_away() {
    within(async {
        let server = start(config(ServeMode::Echo)).await;
        let mut client = connect(&server).await;
        let started = Instant::now();
        let shutdown = tokio::spawn(server.shutdown());
        match next(&mut client).await {
            Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::Away),
            other => panic!("expected close 1001, got {other:?}"),
        }
        assert!(client.next().await.is_none());
        // The server waits for the client to close TCP too, as a real client does on EOF.
        drop(client);
        shutdown.await.expect("shutdown task");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
    })
    .await;
}

#[tokio::test]
async fn shutdown_is_bounded_when_client_never_answers() {
    within(async {
        let server = start(config(ServeMode::Echo)).await;
        // Connected but never read from: the close frame is never answered.
        let _silent = connect(&server).await;
        let started = Instant::now();
        server.shutdown().await;
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "{:?}",
            started.elapsed()
        );
    })
    .await;
}

// ---- protocol errors, sent over raw TCP because tungstenite's client will not send them ----

const HANDSHAKE: &str = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Version: 13\r\n\r\n";

async fn raw_connect(server: &Server) -> TcpStream {
    let mut tcp = TcpStream::connect(server.local_addr())
        .await
        .expect("tcp connects");
    tcp.write_all(HANDSHAKE.as_bytes()).await.expect("write");
    let head = read_http_head(&mut tcp).await;
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    tcp
}

async fn read_http_head(tcp: &mut TcpStream) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        assert!(head.len() < 8192, "response head too long");
        head.push(tcp.read_u8().await.expect("read response head"));
    }
    String::from_utf8(head).expect("ascii head")
}

/// Reads one server frame, asserts it is a close frame and returns its code, then asserts the
/// server closed TCP cleanly after it.
async fn read_close_code(tcp: &mut TcpStream) -> u16 {
    let first = tcp.read_u8().await.expect("read frame");
    assert_eq!(
        first, 0x88,
        "expected a final close frame, got {first:#04x}"
    );
    let len = tcp.read_u8().await.expect("read length");
    assert!(
        (2..=125).contains(&len),
        "unmasked close with code, got length byte {len}"
    );
    let mut payload = vec![0u8; usize::from(len)];
    tcp.read_exact(&mut payload).await.expect("read payload");
    let mut rest = Vec::new();
    tcp.read_to_end(&mut rest).await.expect("clean tcp close");
    assert!(rest.is_empty(), "bytes after close frame: {rest:?}");
    u16::from_be_bytes([payload[0], payload[1]])
}

/// A masked frame with a zero mask key, so the payload bytes go on the wire unchanged.
fn masked(first: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() <= 125);
    let mut frame = vec![first, 0x80 | payload.len() as u8, 0, 0, 0, 0];
    frame.extend_from_slice(payload);
    frame
}

#[tokio::test]
async fn protocol_errors_fail_the_connection_with_the_rfc_close_code() {
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        // RFC 6455 §5.1: a server MUST close on an unmasked client frame.
        ("unmasked frame", vec![0x81, 0x02, b'h', b'i'], 1002),
        // §5.2: RSV1-3 MUST be 0 without a negotiated extension.
        ("rsv1 set", masked(0xC1, b"hi"), 1002),
        // §5.2: reserved opcodes MUST fail the connection.
        ("reserved data opcode 0x3", masked(0x83, b""), 1002),
        ("reserved control opcode 0xb", masked(0x8B, b""), 1002),
        // §5.4: continuation with nothing to continue.
        ("orphan continuation", masked(0x80, b"x"), 1002),
        // §5.5: control frames MUST NOT be fragmented.
        ("fragmented ping", masked(0x09, b""), 1002),
        // §5.5.1: a close payload is empty or at least a 2-byte code.
        ("close with 1-byte payload", masked(0x88, &[0x03]), 1002),
        // §7.4.1: 1005 MUST NOT be sent in a close frame; tungstenite answers 1002.
        ("close with code 1005", masked(0x88, &[0x03, 0xED]), 1002),
        // §8.1: invalid UTF-8 in a text message fails with 1007.
        ("invalid utf-8 text", masked(0x81, &[0xC3, 0x28]), 1007),
        (
            "invalid utf-8 close reason",
            masked(0x88, &[0x03, 0xE8, 0xFF]),
            1007,
        ),
    ];
    within(async {
        let server = start(config(ServeMode::Echo)).await;
        for (name, bytes, expected) in cases {
            let mut tcp = raw_connect(&server).await;
            tcp.write_all(&bytes).await.expect("write");
            assert_eq!(read_close_code(&mut tcp).await, expected, "{name}");
            drop(tcp);
        }
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn ping_over_125_bytes_fails_with_1002() {
    within(async {
        let server = start(config(ServeMode::Echo)).await;
        let mut tcp = raw_connect(&server).await;
        let mut frame = vec![0x89, 0x80 | 126, 0, 126, 0, 0, 0, 0];
        frame.extend_from_slice(&[b'p'; 126]);
        tcp.write_all(&frame).await.expect("write");
        assert_eq!(read_close_code(&mut tcp).await, 1002);
        drop(tcp);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn message_over_the_limit_fails_with_1009() {
    within(async {
        let mut small = config(ServeMode::Echo);
        small.max_message_size = 1024;
        let server = start(small).await;

        // One frame over the limit: refused from its header alone.
        let mut tcp = raw_connect(&server).await;
        let mut frame = vec![0x82, 0x80 | 126, 0x08, 0x00, 0, 0, 0, 0];
        frame.extend_from_slice(&[0u8; 2048]);
        tcp.write_all(&frame).await.expect("write");
        assert_eq!(read_close_code(&mut tcp).await, 1009);

        // Two fragments, each under the limit, together over it.
        let mut tcp = raw_connect(&server).await;
        for first in [0x02, 0x80] {
            let mut fragment = vec![first, 0x80 | 126, 0x02, 0x58, 0, 0, 0, 0]; // 600 bytes
            fragment.extend_from_slice(&[0u8; 600]);
            tcp.write_all(&fragment).await.expect("write");
        }
        assert_eq!(read_close_code(&mut tcp).await, 1009);

        // Exactly at the limit is fine.
        let mut client = connect(&server).await;
        let exact = Message::binary(vec![7u8; 1024]);
        client.send(exact.clone()).await.expect("send");
        assert_eq!(next(&mut client).await, exact);
        drop((tcp, client));
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn bad_handshake_is_answered_with_400() {
    within(async {
        let server = start(config(ServeMode::Echo)).await;
        let mut tcp = TcpStream::connect(server.local_addr())
            .await
            .expect("tcp connects");
        tcp.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .expect("write");
        let mut response = String::new();
        tcp.read_to_string(&mut response).await.expect("read");
        assert!(
            response.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{response}"
        );
        drop(tcp);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn unsupported_version_is_answered_with_426() {
    within(async {
        let server = start(config(ServeMode::Echo)).await;
        let mut tcp = TcpStream::connect(server.local_addr())
            .await
            .expect("tcp connects");
        let request = HANDSHAKE.replace("Version: 13", "Version: 8");
        tcp.write_all(request.as_bytes()).await.expect("write");
        let mut response = String::new();
        tcp.read_to_string(&mut response).await.expect("read");
        assert!(
            response.starts_with("HTTP/1.1 426 Upgrade Required\r\n"),
            "{response}"
        );
        assert!(
            response.contains("\r\nSec-WebSocket-Version: 13\r\n"),
            "{response}"
        );
        drop(tcp);
        server.shutdown().await;
    })
    .await;
}

// ---- permessage-deflate: echo mode speaks it, the tungstenite echo does not ----

/// The response head to an upgrade offering permessage-deflate.
async fn offer_deflate(server: &Server) -> (TcpStream, String) {
    let mut tcp = TcpStream::connect(server.local_addr())
        .await
        .expect("tcp connects");
    let request = HANDSHAKE.replace(
        "\r\n\r\n",
        "\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\r\n",
    );
    tcp.write_all(request.as_bytes()).await.expect("write");
    let head = read_http_head(&mut tcp).await;
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    (tcp, head)
}

#[tokio::test]
async fn echo_mode_compresses_its_echoes() {
    use wsprobe::wire::deflate::{Compressor, Negotiated, Receiver};
    use wsprobe::wire::{Decoded, FrameDecoder, FrameSpec, Opcode, Role};
    within(async {
        let server = start(config(ServeMode::Echo)).await;
        let (mut tcp, head) = offer_deflate(&server).await;
        assert!(
            head.contains(
                "\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n"
            ),
            "{head}"
        );
        let mut compressor = Compressor::new(15, false, 1).expect("valid settings");
        let mut frames = Vec::new();
        for _ in 0..2 {
            FrameSpec {
                rsv: 0b100,
                ..FrameSpec::new(
                    Opcode::Text,
                    compressor.compress(b"echo, echo").expect("ok"),
                )
                .masked([9, 8, 7, 6])
            }
            .encode_into(&mut frames);
        }
        tcp.write_all(&frames).await.expect("write");
        let negotiated = Negotiated {
            server_no_context_takeover: true,
            ..Negotiated::default()
        };
        let mut receiver = Receiver::new(&negotiated, Role::Server, 1 << 20).expect("valid");
        let mut decoder = FrameDecoder::default();
        let mut echoes = Vec::new();
        let mut chunk = [0u8; 4096];
        while echoes.len() < 2 {
            match decoder.next_frame() {
                Decoded::Frame(f) => {
                    let received = receiver.on_frame(&f.frame.header, &f.frame.payload);
                    assert!(received.compressed && received.findings.is_empty());
                    echoes.push(received.inflated.expect("inflated"));
                }
                _ => {
                    let n = tcp.read(&mut chunk).await.expect("read");
                    assert!(n > 0, "closed early");
                    decoder.push(&chunk[..n]);
                }
            }
        }
        assert_eq!(echoes, [b"echo, echo".to_vec(), b"echo, echo".to_vec()]);
        drop(tcp);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn tungstenite_echo_declines_extensions_and_echoes() {
    within(async {
        let server = start(config(ServeMode::TungsteniteEcho)).await;
        let (_tcp, head) = offer_deflate(&server).await;
        assert!(
            !head
                .to_ascii_lowercase()
                .contains("sec-websocket-extensions"),
            "{head}"
        );
        let mut client = connect(&server).await;
        client.send(Message::text("plain")).await.expect("send");
        assert_eq!(next(&mut client).await, Message::text("plain"));
        drop(client);
        server.shutdown().await;
    })
    .await;
}

// ---- the real binary ----

mod binary {
    use std::io::{BufRead, BufReader};
    use std::process::{Child, Command, Stdio};
    use std::sync::mpsc;
    use std::time::Duration;

    /// Starts `wsprobe serve --port 0 ARGS` and returns it with its first stdout line.
    fn spawn_serve(args: &[&str]) -> (Child, String) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wsprobe"))
            .args(["serve", "--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("binary starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(line) => (child, line),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("no first line from wsprobe serve within 10s");
            }
        }
    }

    fn wait_with_timeout(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Some(status) = child.try_wait().expect("wait") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    #[test]
    fn serve_port_zero_prints_url_first() {
        let (mut child, line) = spawn_serve(&[]);
        let _ = child.kill();
        let _ = child.wait();
        let url = line.trim_end();
        assert!(url.starts_with("ws://127.0.0.1:"), "{line:?}");
        assert!(url.ends_with('/'), "{line:?}");
        let port: u16 = url["ws://127.0.0.1:".len()..url.len() - 1]
            .parse()
            .expect("numeric port");
        assert_ne!(port, 0);
    }

    #[cfg(unix)]
    #[test]
    fn serve_echoes_then_exits_zero_on_sigterm() {
        use futures_util::{SinkExt, StreamExt};
        use tokio_tungstenite::tungstenite::Message;

        let (mut child, line) = spawn_serve(&[]);
        let url = line.trim_end().to_owned();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let echoed = runtime.block_on(async {
            tokio::time::timeout(Duration::from_secs(10), async {
                let (mut client, _) = tokio_tungstenite::connect_async(url.as_str()).await.ok()?;
                client
                    .send(Message::text("through the binary"))
                    .await
                    .ok()?;
                client.next().await?.ok()
            })
            .await
            .ok()
            .flatten()
        });

        let pid = child.id().to_string();
        let signalled = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(signalled.success());
        let status = wait_with_timeout(&mut child, Duration::from_secs(5));
        if status.is_none() {
            let _ = child.kill();
            let _ = child.wait();
        }
        assert_eq!(echoed, Some(Message::text("through the binary")));
        let status = status.expect("exits within 5s of SIGTERM");
        assert!(status.success(), "{status:?}");
    }
}
