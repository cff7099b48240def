//! The `none` baseline (also what echo mode serves) in more detail: on the inputs the suites
//! send, on the requirements the catalogue scenarios do not reach, and with permessage-deflate
//! (RFC 7692): the negotiation answers and compressed round trips under every parameter set.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wsprobe::serve::{Fault, ServeMode};
use wsprobe::wire::handshake::ClientRequest;
use wsprobe::wire::{Decoded, FrameSpec, Opcode};

use super::{Client, c, close, describe, exchange, request, start, start_fault, text, within};

/// A change to the default request.
type RequestChange = Box<dyn Fn(&mut ClientRequest)>;

/// The baseline answers the inputs the suites send (framing, ping, close, ready-state) with
/// these frames, in this order, and this end. The expectations were recorded from the
/// tokio-tungstenite reference server that served echo mode before the baseline did (the
/// baseline matched it on every one of these inputs), so they pin what the suites are green
/// against.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn answers_the_suite_inputs_as_the_former_reference_did() {
    within(async {
        let raw = start_fault(Fault::None).await;
        let pings: Vec<FrameSpec> = (0..10)
            .map(|i| c(Opcode::Ping, format!("payload-{i}")))
            .collect();
        let ten_pongs: Vec<String> = (0..10).map(|i| format!("pong payload-{i}")).collect();
        let ten_pongs: Vec<&str> = ten_pongs.iter().map(String::as_str).collect();
        let mut fragmented = vec![
            text("Hello, ").fin(false),
            c(Opcode::Ping, "between"),
            c(Opcode::Continuation, "wsprobe"),
        ];
        fragmented.push(close(1000));
        let failed = |code: &'static str| vec![code, "eof"];
        let cases: Vec<(&str, Vec<FrameSpec>, Vec<&str>)> = vec![
            ("text 0", vec![text(""), close(1000)], vec!["text"]),
            (
                "text 125",
                vec![text(vec![b'*'; 125]), close(1000)],
                vec!["text (125 bytes)"],
            ),
            (
                "text 126",
                vec![text(vec![b'*'; 126]), close(1000)],
                vec!["text (126 bytes)"],
            ),
            (
                "text 65535",
                vec![text(vec![b'*'; 65535]), close(1000)],
                vec!["text (65535 bytes)"],
            ),
            (
                "text 65536",
                vec![text(vec![b'*'; 65536]), close(1000)],
                vec!["text (65536 bytes)"],
            ),
            (
                "binary 65536",
                vec![c(Opcode::Binary, vec![0xfe; 65536]), close(1000)],
                vec!["binary (65536 bytes)"],
            ),
            (
                "ping empty",
                vec![c(Opcode::Ping, ""), close(1000)],
                vec!["pong"],
            ),
            (
                "ping 125",
                vec![c(Opcode::Ping, vec![0xfe; 125]), close(1000)],
                vec!["pong (125 bytes)"],
            ),
            (
                "ping 126",
                vec![c(Opcode::Ping, vec![0xfe; 126])],
                failed("close 1002"),
            ),
            (
                "unsolicited pong",
                vec![c(Opcode::Pong, "x"), c(Opcode::Ping, "p"), close(1000)],
                vec!["pong p"],
            ),
            ("ten pings", [pings, vec![close(1000)]].concat(), ten_pongs),
            (
                "fragments and a ping between",
                fragmented,
                vec!["pong between", "text Hello, wsprobe"],
            ),
            ("close 4000", vec![close(4000)], failed("close 4000")),
            (
                "close without code",
                vec![c(Opcode::Close, vec![])],
                failed("close"),
            ),
            ("close 1005", vec![close(1005)], failed("close 1002")),
            ("close 999", vec![close(999)], failed("close 1002")),
            (
                "close one byte",
                vec![c(Opcode::Close, vec![3])],
                failed("close 1002"),
            ),
            (
                "reserved opcode 3",
                vec![c(Opcode::ReservedData(3), "")],
                failed("close 1002"),
            ),
            (
                "reserved opcode 11",
                vec![c(Opcode::ReservedControl(11), "")],
                failed("close 1002"),
            ),
            (
                "rsv bits",
                vec![FrameSpec {
                    rsv: 0b010,
                    ..text("x")
                }],
                failed("close 1002"),
            ),
            (
                "unmasked",
                vec![FrameSpec::new(Opcode::Text, "x")],
                failed("close 1002"),
            ),
            (
                "orphan continuation",
                vec![c(Opcode::Continuation, "x")],
                failed("close 1002"),
            ),
            (
                "invalid utf-8",
                vec![text(
                    b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited".to_vec(),
                )],
                failed("close 1007"),
            ),
            (
                "data after close",
                vec![text("late"), close(1000), text("later")],
                vec!["text late"],
            ),
        ];
        let mut differences = Vec::new();
        for (name, frames, expected) in &cases {
            let mut expected = expected.clone();
            // Cases that do not end in a failure end with the echoed close.
            if expected.last() != Some(&"eof") {
                expected.extend(["close 1000", "eof"]);
            }
            let got = exchange(&raw, &request(&raw), frames).await;
            if got.seen != expected || !got.violations.is_empty() {
                differences.push(format!(
                    "{name}: expected {expected:?}, got {:?} {:?}",
                    got.seen, got.violations
                ));
            }
        }
        // Handshakes: the status, and the subprotocol selected.
        let changes: Vec<(&str, RequestChange, u16, Option<&str>)> = vec![
            ("valid", Box::new(|_| {}), 101, None),
            ("no key", Box::new(|r| r.key = None), 400, None),
            (
                "short key",
                Box::new(|r| r.key = Some("AAAAAAAAAAA=".into())),
                400,
                None,
            ),
            (
                "version 8",
                Box::new(|r| r.version = Some("8".into())),
                426,
                None,
            ),
            ("no version", Box::new(|r| r.version = None), 426, None),
            ("no host", Box::new(|r| r.host = None), 400, None),
            ("no upgrade", Box::new(|r| r.upgrade = None), 400, None),
            (
                "no connection",
                Box::new(|r| r.connection = None),
                400,
                None,
            ),
            ("post", Box::new(|r| r.method = "POST".into()), 405, None),
            (
                "http/1.0",
                Box::new(|r| r.http_version = "HTTP/1.0".into()),
                400,
                None,
            ),
            (
                "upgrade mixed case",
                Box::new(|r| r.upgrade = Some("WebSocket".into())),
                101,
                None,
            ),
            (
                "connection list",
                Box::new(|r| r.connection = Some("keep-alive, Upgrade".into())),
                101,
                None,
            ),
            (
                "protocols",
                Box::new(|r| r.protocols = vec!["x-wsprobe-unknown".into(), "chat".into()]),
                101,
                Some("chat"),
            ),
            (
                "unknown extension",
                Box::new(|r| r.extensions = vec!["x-wsprobe-unknown".into()]),
                101,
                None,
            ),
        ];
        for (name, change, status, protocol) in &changes {
            let mut r = request(&raw);
            change(&mut r);
            let got = exchange(&raw, &r, &[close(1000)]).await;
            let seen: &[&str] = if *status == 101 {
                &["close 1000", "eof"]
            } else {
                &[]
            };
            if got.response.status != *status
                || got.seen != seen
                || got.response.header("sec-websocket-protocol") != *protocol
                || !got.violations.is_empty()
                || got.response.header("sec-websocket-extensions").is_some()
            {
                differences.push(format!(
                    "handshake {name}: expected {status} {protocol:?}, got {} {:?} {:?} {:?}",
                    got.response.status,
                    got.response.header("sec-websocket-protocol"),
                    got.seen,
                    got.violations
                ));
            }
        }
        raw.shutdown().await;
        assert!(differences.is_empty(), "\n{}", differences.join("\n"));
    })
    .await;
}

#[tokio::test]
async fn fails_invalid_utf8_as_soon_as_its_frame_arrives() {
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
async fn fails_messages_over_the_limit_with_1009() {
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
async fn serves_frames_sent_with_the_request_and_written_byte_by_byte() {
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
async fn accepts_a_request_written_byte_by_byte() {
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
async fn refuses_malformed_and_oversized_heads_with_400() {
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
