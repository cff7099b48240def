//! The counter's HTTP polling endpoint (`GET /poll?after=N`), which puts the same numbers on the
//! wire as the WebSocket counter so the two can be captured and compared. All on 127.0.0.1:0,
//! every test bounded by a timeout.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wsprobe::serve::{ServeConfig, ServeMode, Server};

const TEST_TIMEOUT: Duration = Duration::from_secs(10);

async fn counter() -> Server {
    Server::start(ServeConfig {
        host: "127.0.0.1".into(),
        port: 0,
        mode: ServeMode::Counter {
            count: 3,
            interval: Duration::from_millis(10),
        },
        max_message_size: 1 << 20,
    })
    .await
    .expect("server starts")
}

/// Reads one response with a Content-Length (or none) from the stream.
async fn response(tcp: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    loop {
        let mut chunk = [0u8; 512];
        let n = tcp.read(&mut chunk).await.expect("reads");
        assert!(
            n > 0,
            "connection closed early: {}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .map_or(0, |v| v.parse::<usize>().expect("length"));
            if body.len() >= len {
                return text;
            }
        }
    }
}

#[tokio::test]
async fn polls_on_one_keep_alive_connection() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let server = counter().await;
        let mut tcp = TcpStream::connect(server.local_addr())
            .await
            .expect("connects");
        for n in 0..3 {
            let req = format!("GET /poll?after={n} HTTP/1.1\r\nHost: x\r\n\r\n");
            tcp.write_all(req.as_bytes()).await.expect("writes");
            let r = response(&mut tcp).await;
            assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
            assert!(r.ends_with(&format!("\r\n\r\n{}", n + 1)), "{r}");
        }
        tcp.write_all(b"GET /poll?after=3 HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("writes");
        let r = response(&mut tcp).await;
        assert!(r.starts_with("HTTP/1.1 204 No Content\r\n"), "{r}");
        server.shutdown().await;
    })
    .await
    .expect("within the timeout");
}

#[tokio::test]
async fn connection_close_is_honoured() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let server = counter().await;
        let mut tcp = TcpStream::connect(server.local_addr())
            .await
            .expect("connects");
        tcp.write_all(b"GET /poll HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .expect("writes");
        let mut all = Vec::new();
        tcp.read_to_end(&mut all).await.expect("server closes");
        let text = String::from_utf8_lossy(&all);
        assert!(text.contains("Connection: close\r\n"), "{text}");
        assert!(text.ends_with("\r\n\r\n1"), "{text}");
        server.shutdown().await;
    })
    .await
    .expect("within the timeout");
}

#[tokio::test]
async fn not_http_gets_400_and_websocket_clients_still_count() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let server = counter().await;
        let mut tcp = TcpStream::connect(server.local_addr())
            .await
            .expect("connects");
        tcp.write_all(b"HELLO\r\n\r\n").await.expect("writes");
        let mut all = Vec::new();
        tcp.read_to_end(&mut all).await.expect("server closes");
        assert!(all.starts_with(b"HTTP/1.1 400 Bad Request"), "{all:?}");
        let (mut ws, _) = tokio_tungstenite::connect_async(server.url())
            .await
            .expect("websocket handshake");
        use futures_util::StreamExt;
        let mut got = Vec::new();
        while let Some(Ok(m)) = ws.next().await {
            if m.is_text() {
                got.push(m.into_text().expect("text").to_string());
            }
        }
        assert_eq!(got, ["1", "2", "3"]);
        server.shutdown().await;
    })
    .await
    .expect("within the timeout");
}
