//! The counter's HTTP polling endpoint: the same numbers the WebSocket counter pushes, fetched
//! one request at a time, so a polling capture and a WebSocket capture of one workload can be
//! compared byte for byte (`wsprobe overhead --vs`).
//!
//! `GET /poll?after=N` waits one interval and answers `200` with the text `N+1`, or `204` once
//! `N` has reached the count. Connections are kept alive (HTTP/1.1) unless the client sends
//! `Connection: close` or speaks HTTP/1.0. Every read is bounded by
//! [`HANDSHAKE_TIMEOUT`](super::HANDSHAKE_TIMEOUT) and every wait by the shutdown signal.

use std::time::Duration;

use crate::net::Stream as TcpStream;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::timeout;

use super::{CLOSE_TIMEOUT, HANDSHAKE_TIMEOUT, stopped};

/// Largest request head accepted.
const MAX_HEAD: usize = 8 * 1024;

/// What the first request on a counter connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FirstRequest {
    /// A WebSocket upgrade (or a head too large to tell): the WebSocket handshake takes it.
    Upgrade,
    /// A plain HTTP request: the polling endpoint answers it.
    Poll,
    /// Nothing arrived within [`HANDSHAKE_TIMEOUT`](super::HANDSHAKE_TIMEOUT), or the client
    /// closed: there is no one to answer.
    Gone,
}

/// Looks at the request waiting on `tcp` without consuming it (peek), so the WebSocket
/// handshake still reads the whole request. Bounded by the same handshake timeout the
/// WebSocket handshake has, so a silent client is dropped as soon as before.
pub(super) async fn first_request(tcp: &mut TcpStream) -> FirstRequest {
    let mut buf = vec![0u8; MAX_HEAD];
    let looked = timeout(HANDSHAKE_TIMEOUT, async {
        loop {
            let peeked = tcp.peek(MAX_HEAD).await.unwrap_or(&[]);
            let n = peeked.len();
            buf[..n].copy_from_slice(peeked);
            if n == 0 {
                return FirstRequest::Gone;
            }
            if let Some(end) = find_head_end(&buf[..n]) {
                return if head_is_upgrade(&buf[..end]) {
                    FirstRequest::Upgrade
                } else {
                    FirstRequest::Poll
                };
            }
            if n == buf.len() {
                return FirstRequest::Upgrade;
            }
        }
    })
    .await;
    looked.unwrap_or(FirstRequest::Gone)
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

fn head_is_upgrade(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    text.lines().any(|l| {
        l.strip_prefix("upgrade:")
            .is_some_and(|v| v.split(',').any(|t| t.trim() == "websocket"))
    })
}

/// A parsed polling request: the number after which the client wants the next one, and
/// whether the connection should close after the answer.
fn parse_poll(head: &[u8]) -> Option<(u64, bool)> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    req.parse(head).ok()?;
    let path = req.path?;
    let after = path
        .split_once('?')
        .and_then(|(_, q)| q.split('&').find_map(|kv| kv.strip_prefix("after=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let close_asked = req.headers.iter().any(|h| {
        h.name.eq_ignore_ascii_case("connection")
            && String::from_utf8_lossy(h.value)
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("close"))
    });
    Some((after, close_asked || req.version == Some(0)))
}

/// Serves polling requests on one connection until the client closes, asks to close, sends
/// something that is not a request, or the server stops.
pub(super) async fn serve(
    mut tcp: TcpStream,
    count: u64,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut buf = Vec::with_capacity(1024);
    loop {
        let head_end = loop {
            if let Some(end) = find_head_end(&buf) {
                break Some(end);
            }
            if buf.len() > MAX_HEAD {
                break None;
            }
            let mut chunk = [0u8; 2048];
            let read = tokio::select! {
                () = stopped(&mut stop) => break None,
                r = timeout(HANDSHAKE_TIMEOUT, tcp.read(&mut chunk)) => r,
            };
            match read {
                Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                _ => break None,
            }
        };
        let Some(end) = head_end else { break };
        let Some((after, close)) = parse_poll(&buf[..end]) else {
            let _ = tcp
                .write_all(
                    b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
                )
                .await;
            break;
        };
        buf.drain(..end);
        let response = if after < count {
            tokio::select! {
                () = stopped(&mut stop) => break,
                () = tokio::time::sleep(interval) => {}
            }
            let body = (after + 1).to_string();
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nCache-Control: no-store\r\nContent-Length: {}\r\n{}\r\n{body}",
                body.len(),
                if close { "Connection: close\r\n" } else { "" }
            )
        } else {
            format!(
                "HTTP/1.1 204 No Content\r\nCache-Control: no-store\r\n{}\r\n",
                if close { "Connection: close\r\n" } else { "" }
            )
        };
        let sent = async {
            tcp.write_all(response.as_bytes()).await?;
            tcp.flush().await
        };
        if sent.await.is_err() || close {
            break;
        }
    }
    let _ = timeout(CLOSE_TIMEOUT, async {
        if tcp.shutdown().await.is_ok() {
            let mut discard = [0u8; 1024];
            while let Ok(1..) = tcp.read(&mut discard).await {}
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polling_requests_are_parsed() {
        assert_eq!(
            parse_poll(b"GET /poll?after=3 HTTP/1.1\r\nHost: x\r\n\r\n"),
            Some((3, false))
        );
        assert_eq!(
            parse_poll(b"GET /poll HTTP/1.1\r\nConnection: close\r\n\r\n"),
            Some((0, true))
        );
        assert_eq!(
            parse_poll(b"GET /poll?after=1 HTTP/1.0\r\n\r\n"),
            Some((1, true))
        );
        assert_eq!(parse_poll(b"\x81\x05hello"), None);
    }

    #[test]
    fn upgrade_heads_are_recognised() {
        assert!(head_is_upgrade(
            b"GET / HTTP/1.1\r\nUpgrade: WebSocket\r\n\r\n"
        ));
        assert!(!head_is_upgrade(b"GET /poll HTTP/1.1\r\nHost: x\r\n\r\n"));
    }
}
