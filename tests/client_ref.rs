//! `wsprobe client`, the reference client, against a small fake fuzzing server written here on
//! `wire`: it echoes whole messages masked with varying keys, refuses a 101 with a wrong
//! Sec-WebSocket-Accept without sending anything, answers the server's close and echoes nothing
//! after it; and the faults `no-mask`, `constant-mask`, `accept-bad-accept` and
//! `echo-after-close` each change exactly that behaviour.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wsprobe::wire::handshake::{Parse, accept_for_key, parse_request};
use wsprobe::wire::{Decoded, Frame, FrameDecoder, FrameSpec, Opcode};

/// What the fake server saw from the client, per case.
#[derive(Debug, Default)]
struct Seen {
    /// Case 1: the frames the client sent after two messages.
    echo: Vec<Frame>,
    /// Case 2 (wrong Accept): bytes the client sent after the 101.
    after_bad_accept: Option<Vec<u8>>,
    /// Case 3: the frames the client sent after a close followed by a text message.
    after_close: Vec<Frame>,
    /// Paths requested, in order.
    paths: Vec<String>,
}

const WAIT: Duration = Duration::from_secs(3);

/// Reads frames until `want` arrived, the peer closed, or WAIT passed.
async fn read_frames(stream: &mut TcpStream, want: usize) -> Vec<Frame> {
    let mut decoder = FrameDecoder::default();
    let mut frames = Vec::new();
    let mut buf = [0u8; 4096];
    while frames.len() < want {
        match tokio::time::timeout(WAIT, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => decoder.push(&buf[..n]),
            _ => break,
        }
        while let Decoded::Frame(f) = decoder.next_frame() {
            frames.push(f.frame);
        }
    }
    frames
}

/// Reads everything until the peer closes or WAIT passes.
async fn read_rest(stream: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(Ok(n)) = tokio::time::timeout(WAIT, stream.read(&mut buf)).await {
        if n == 0 {
            break;
        }
        all.extend_from_slice(&buf[..n]);
    }
    all
}

async fn serve_one(mut stream: TcpStream, seen: Arc<Mutex<Seen>>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let request = loop {
        let Ok(Ok(n)) = tokio::time::timeout(WAIT, stream.read(&mut buf)).await else {
            return;
        };
        if n == 0 {
            return;
        }
        head.extend_from_slice(&buf[..n]);
        if let Ok(Parse::Complete(req)) = parse_request(&head, 8192) {
            break req;
        }
    };
    let key = request
        .header("sec-websocket-key")
        .unwrap_or("")
        .to_string();
    let path = request.path.clone();
    seen.lock().unwrap().paths.push(path.clone());
    let accept = if path.starts_with("/runCase?case=2&") {
        accept_for_key("not the client's key")
    } else {
        accept_for_key(&key)
    };
    let mut out = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n\r\n"
    )
    .into_bytes();
    let close = FrameSpec::new(Opcode::Close, 1000u16.to_be_bytes().to_vec()).encode();
    if path == "/getCaseCount" {
        out.extend(FrameSpec::new(Opcode::Text, b"3".to_vec()).encode());
        out.extend(&close);
        let _ = stream.write_all(&out).await;
        read_frames(&mut stream, 1).await;
    } else if path.starts_with("/runCase?case=1&") {
        out.extend(FrameSpec::new(Opcode::Text, b"hello".to_vec()).encode());
        out.extend(FrameSpec::new(Opcode::Binary, vec![1, 2, 3]).encode());
        let _ = stream.write_all(&out).await;
        let frames = read_frames(&mut stream, 2).await;
        let _ = stream.write_all(&close).await;
        let mut frames = frames;
        frames.extend(read_frames(&mut stream, 1).await);
        seen.lock().unwrap().echo = frames;
    } else if path.starts_with("/runCase?case=2&") {
        out.extend(FrameSpec::new(Opcode::Text, b"probe".to_vec()).encode());
        let _ = stream.write_all(&out).await;
        let rest = read_rest(&mut stream).await;
        seen.lock().unwrap().after_bad_accept = Some(rest);
    } else if path.starts_with("/runCase?case=3&") {
        out.extend(&close);
        out.extend(FrameSpec::new(Opcode::Text, b"late".to_vec()).encode());
        let _ = stream.write_all(&out).await;
        // Give the client time to answer both frames before TCP is closed.
        let frames = read_frames(&mut stream, 2).await;
        seen.lock().unwrap().after_close = frames;
    } else {
        out.extend(&close);
        let _ = stream.write_all(&out).await;
        read_frames(&mut stream, 1).await;
    }
}

/// Runs `wsprobe client URL ARGS…` against a fresh fake server; returns what it saw and the
/// client's exit code.
fn run_client(args: &[&str]) -> (Seen, common::Output) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let seen = Arc::new(Mutex::new(Seen::default()));
    let listener = rt
        .block_on(TcpListener::bind("127.0.0.1:0"))
        .expect("bind loopback");
    let url = format!("ws://{}", listener.local_addr().expect("address"));
    let server_seen = seen.clone();
    rt.spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve_one(stream, server_seen.clone()));
        }
    });
    let mut all = vec!["client", url.as_str(), "--case-timeout", "5s"];
    all.extend_from_slice(args);
    let out = common::wsprobe(&all, Duration::from_secs(60));
    // Let the server tasks record the end of the last connection.
    std::thread::sleep(Duration::from_millis(100));
    rt.shutdown_timeout(Duration::from_secs(1));
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    (seen, out)
}

fn summary(frames: &[Frame]) -> Vec<(Opcode, Vec<u8>)> {
    frames
        .iter()
        .map(|f| (f.header.opcode, f.payload.clone()))
        .collect()
}

fn keys(frames: &[Frame]) -> Vec<Option<[u8; 4]>> {
    frames.iter().map(|f| f.header.mask).collect()
}

#[test]
fn the_conformant_client_echoes_masks_freshly_and_refuses_a_bad_accept() {
    let (seen, out) = run_client(&[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        seen.paths,
        [
            "/getCaseCount",
            "/runCase?case=1&agent=wsprobe",
            "/runCase?case=2&agent=wsprobe",
            "/runCase?case=3&agent=wsprobe",
            "/updateReports?agent=wsprobe"
        ]
    );
    assert_eq!(
        summary(&seen.echo),
        [
            (Opcode::Text, b"hello".to_vec()),
            (Opcode::Binary, vec![1, 2, 3]),
            (Opcode::Close, 1000u16.to_be_bytes().to_vec()),
        ]
    );
    let mut all: Vec<[u8; 4]> = keys(&seen.echo)
        .into_iter()
        .chain(keys(&seen.after_close))
        .map(|k| k.expect("every client frame is masked"))
        .collect();
    let n = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), n, "mask keys vary across frames and connections");
    assert_eq!(
        seen.after_bad_accept.as_deref(),
        Some(&[][..]),
        "nothing is sent after a wrong Accept, and TCP is closed"
    );
    assert_eq!(
        summary(&seen.after_close),
        [(Opcode::Close, 1000u16.to_be_bytes().to_vec())],
        "the close is answered; the text after it is not echoed"
    );
    assert!(
        out.stdout
            .contains("case 2: handshake refused: sec-websocket-accept is"),
        "{}",
        out.stdout
    );
}

#[test]
fn no_mask_sends_unmasked_frames() {
    let (seen, out) = run_client(&["--fault", "no-mask"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(seen.paths[1], "/runCase?case=1&agent=wsprobe-no-mask");
    assert_eq!(seen.echo.len(), 3);
    assert_eq!(keys(&seen.echo), [None, None, None]);
}

#[test]
fn constant_mask_uses_one_key_everywhere() {
    let (seen, out) = run_client(&["--fault", "constant-mask"]);
    assert_eq!(out.code, 0, "{out:?}");
    let all: Vec<Option<[u8; 4]>> = keys(&seen.echo)
        .into_iter()
        .chain(keys(&seen.after_close))
        .collect();
    assert_eq!(all.len(), 4);
    assert!(
        all[0].is_some() && all.iter().all(|k| *k == all[0]),
        "{all:?}"
    );
    assert_eq!(summary(&seen.echo)[0], (Opcode::Text, b"hello".to_vec()));
}

#[test]
fn accept_bad_accept_echoes_on_a_wrong_accept() {
    let (seen, out) = run_client(&["--fault", "accept-bad-accept"]);
    assert_eq!(out.code, 0, "{out:?}");
    let mut decoder = FrameDecoder::default();
    decoder.push(seen.after_bad_accept.as_deref().expect("case 2 ran"));
    let Decoded::Frame(f) = decoder.next_frame() else {
        panic!("the faulty client echoes after a wrong Accept")
    };
    assert_eq!(
        (f.frame.header.opcode, f.frame.payload),
        (Opcode::Text, b"probe".to_vec())
    );
}

#[test]
fn echo_after_close_echoes_the_text_after_the_close() {
    let (seen, out) = run_client(&["--fault", "echo-after-close"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        summary(&seen.after_close),
        [
            (Opcode::Close, 1000u16.to_be_bytes().to_vec()),
            (Opcode::Text, b"late".to_vec())
        ]
    );
}

#[test]
fn an_unreachable_server_is_exit_3() {
    // Bind and drop a listener: its port is then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind loopback")
        .port();
    let url = format!("ws://127.0.0.1:{port}");
    let out = common::wsprobe(
        &["client", &url, "--case-timeout", "2s"],
        Duration::from_secs(30),
    );
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stderr.contains("getCaseCount"), "{}", out.stderr);
}
