//! One connection of the tungstenite servers (counter, and the tungstenite echo kept as an
//! interop peer): the opening handshake, the mode's conversation, and closing — the WebSocket
//! closing handshake, then TCP.
//!
//! tungstenite (0.30) does two things less than RFC 6455 asks of a server, and this file adds
//! them:
//!
//! - **Failing the connection (§7.1.7).** When tungstenite meets a protocol error while reading
//!   (reserved bits, reserved opcode, unmasked client frame, invalid UTF-8, a message or frame
//!   over the limit, ...) it returns the error and sends nothing. The RFC says the endpoint
//!   SHOULD send a close frame first, so [`close_code_for`] picks the code (1002, 1007 or 1009)
//!   and it is sent here. A close frame with a code that may not be sent on the wire (1005,
//!   999, ...) is not an error in tungstenite: it answers 1002 itself.
//! - **Rejecting a bad opening handshake (§4.2.1).** tungstenite validates the request before
//!   writing anything and, on failure, returns the error without an HTTP response. The RFC
//!   says the server MUST answer with an HTTP error such as 400, and with 426 plus
//!   `Sec-WebSocket-Version` for an unsupported version (§4.2.2, §4.4); [`rejection`] writes it.
//!
//! tungstenite does queue pongs and the reply to a client's close frame on its own; they are
//! written on the next read or flush, and this file flushes right away.
//!
//! The server closes TCP first (§7.1.1): it shuts down its sending half and then discards
//! whatever the client still sends until the client closes, bounded by
//! [`CLOSE_TIMEOUT`](super::CLOSE_TIMEOUT). Dropping the socket with unread data would send a
//! TCP reset, which can destroy the close frame before the client reads it.

use std::sync::Arc;
use std::time::Duration;

use crate::net::Stream as TcpStream;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::timeout;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::error::{Error as WsError, ProtocolError};
use tokio_tungstenite::tungstenite::handshake::server::{
    Callback, ErrorResponse, Request, Response,
};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::{CLOSE_TIMEOUT, HANDSHAKE_TIMEOUT, ServeMode, Settings, stopped};

/// The WebSocket over a borrowed socket, so the socket outlives it for the TCP close.
type Ws<'a> = WebSocketStream<&'a mut TcpStream>;

/// How the mode's conversation ended, and so what closing still has to do.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ending {
    /// The closing handshake is done (or the peer is gone); only queued replies are left to
    /// flush.
    Done,
    /// Fail the connection (§7.1.7): send a close frame with this code, then close TCP without
    /// waiting for the reply.
    Fail(CloseCode, &'static str),
    /// Start the closing handshake with this code and wait for the client's reply.
    Close(CloseCode, &'static str),
}

/// Serves one accepted TCP connection to the end. Never panics and never outlives its bounds:
/// the handshake is limited by [`HANDSHAKE_TIMEOUT`], closing by [`CLOSE_TIMEOUT`], and the
/// conversation by the shutdown signal.
pub(super) async fn serve(
    mut tcp: TcpStream,
    settings: Arc<Settings>,
    mut stop: watch::Receiver<bool>,
) {
    // Small messages (the counter's numbers) should leave when sent, not when Nagle allows.
    tcp.set_nodelay();
    // Wait (peeking, bounded) until the whole request head has arrived before tungstenite
    // reads it: tungstenite refuses a head that arrives in more than 64 small reads as an
    // "attack", which would turn a client writing one byte per segment into a flaky 400.
    use super::polling::{FirstRequest, first_request};
    let first = tokio::select! {
        () = stopped(&mut stop) => return,
        first = first_request(&mut tcp) => first,
    };
    match (first, &settings.mode) {
        (FirstRequest::Gone, _) => return close_tcp(tcp).await,
        (FirstRequest::Poll, ServeMode::Counter { count, interval }) => {
            super::polling::serve(tcp, *count, *interval, stop).await;
            return;
        }
        // Not an upgrade: tungstenite answers it with an error response below.
        (FirstRequest::Poll | FirstRequest::Upgrade, _) => {}
    }
    let handshake = tokio::select! {
        () = stopped(&mut stop) => return,
        handshake = timeout(
            HANDSHAKE_TIMEOUT,
            tokio_tungstenite::accept_hdr_async_with_config(
                &mut tcp,
                Validate,
                Some(settings.websocket),
            ),
        ) => handshake,
    };
    match handshake {
        Ok(Ok(mut ws)) => {
            let ending = match &settings.mode {
                ServeMode::TungsteniteEcho => echo(&mut ws, &mut stop).await,
                ServeMode::Counter { count, interval } => {
                    counter(&mut ws, *count, *interval, &mut stop).await
                }
                // Never reached: `serve_connection` hands echo and fault modes to `raw.rs`.
                ServeMode::Echo | ServeMode::Fault(_) => Ending::Done,
            };
            close_websocket(&mut ws, ending).await;
        }
        Ok(Err(error)) => {
            if let Some(response) = rejection(&error) {
                let _ = timeout(CLOSE_TIMEOUT, async {
                    tcp.write_all(response.as_bytes()).await?;
                    tcp.flush().await
                })
                .await;
            }
        }
        // The client took too long; there is no one to tell.
        Err(_elapsed) => {}
    }
    close_tcp(tcp).await;
}

/// Echoes text as text and binary as binary until the client closes, fails, or the server stops.
async fn echo(ws: &mut Ws<'_>, stop: &mut watch::Receiver<bool>) -> Ending {
    loop {
        let message = match receive(ws, stop).await {
            Ok(message) => message,
            Err(ending) => return ending,
        };
        if ws.send(message).await.is_err() {
            return Ending::Done;
        }
    }
}

/// Sends "1" to "count" as text, pausing `interval` before each, then closes with 1000.
/// Whatever the client sends meanwhile is read (so pings are answered and a close is seen) and
/// otherwise ignored.
async fn counter(
    ws: &mut Ws<'_>,
    count: u64,
    interval: Duration,
    stop: &mut watch::Receiver<bool>,
) -> Ending {
    for number in 1..=count {
        let pause = tokio::time::sleep(interval);
        tokio::pin!(pause);
        loop {
            tokio::select! {
                () = &mut pause => break,
                received = receive(ws, stop) => {
                    if let Err(ending) = received {
                        return ending;
                    }
                }
            }
        }
        if ws.send(Message::text(number.to_string())).await.is_err() {
            return Ending::Done;
        }
    }
    Ending::Close(CloseCode::Normal, "")
}

/// Waits for the next text or binary message, answering pings on the way.
///
/// Returns `Err` with how to close when the conversation is over: the client closed or went
/// away, a protocol error fails the connection, or the server is shutting down. Cancel-safe:
/// `next` is, and a pong whose `flush` was interrupted stays buffered in tungstenite and goes
/// out with the next send or flush.
async fn receive(ws: &mut Ws<'_>, stop: &mut watch::Receiver<bool>) -> Result<Message, Ending> {
    loop {
        let received = tokio::select! {
            () = stopped(stop) => {
                return Err(Ending::Close(CloseCode::Away, "server shutting down"));
            }
            received = ws.next() => received,
        };
        match received {
            Some(Ok(message @ (Message::Text(_) | Message::Binary(_)))) => return Ok(message),
            // tungstenite queued the pong with the ping's payload; send it now (§5.5.3).
            Some(Ok(Message::Ping(_))) => {
                if ws.flush().await.is_err() {
                    return Err(Ending::Done);
                }
            }
            Some(Ok(Message::Pong(_) | Message::Frame(_))) => {}
            // tungstenite queued a close reply echoing the client's code; closing flushes it.
            Some(Ok(Message::Close(_))) | None => return Err(Ending::Done),
            Some(Err(error)) => {
                return Err(match close_code_for(&error) {
                    Some(code) => Ending::Fail(code, close_reason(code)),
                    None => Ending::Done,
                });
            }
        }
    }
}

/// The close code a server should send when tungstenite reports `error` while reading, or
/// `None` when no close frame should be sent (the connection is already closing or gone, or
/// the error is not the peer's fault).
///
/// | error | code |
/// |---|---|
/// | protocol violation (framing, opcodes, masking, control frames, fragmentation) | 1002 |
/// | invalid UTF-8 in a text message or close reason | 1007 |
/// | message or frame over the configured limit | 1009 |
pub(super) fn close_code_for(error: &WsError) -> Option<CloseCode> {
    match error {
        WsError::Protocol(
            ProtocolError::ResetWithoutClosingHandshake
            | ProtocolError::SendAfterClosing
            | ProtocolError::ReceivedAfterClosing,
        ) => None,
        WsError::Protocol(_) => Some(CloseCode::Protocol),
        WsError::Utf8(_) => Some(CloseCode::Invalid),
        WsError::Capacity(_) => Some(CloseCode::Size),
        _ => None,
    }
}

/// A short reason to go with a failure close code; close reasons are limited to 123 bytes.
fn close_reason(code: CloseCode) -> &'static str {
    match code {
        CloseCode::Protocol => "protocol error",
        CloseCode::Invalid => "invalid utf-8",
        CloseCode::Size => "message too big",
        _ => "",
    }
}

/// Carries out the WebSocket part of closing, all of it within [`CLOSE_TIMEOUT`].
async fn close_websocket(ws: &mut Ws<'_>, ending: Ending) {
    let _ = timeout(CLOSE_TIMEOUT, async {
        match ending {
            Ending::Done => {
                let _ = ws.flush().await;
            }
            Ending::Fail(code, reason) => {
                let _ = ws.send(close_message(code, reason)).await;
            }
            Ending::Close(code, reason) => {
                if ws.send(close_message(code, reason)).await.is_ok() {
                    // Data the client sent before seeing our close is dropped; the stream ends
                    // after its close frame arrives.
                    while let Some(Ok(_)) = ws.next().await {}
                }
            }
        }
    })
    .await;
}

fn close_message(code: CloseCode, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// Every subprotocol the reference servers speak, in order of preference.
pub const SUBPROTOCOLS: &[&str] = &["chat", "superchat"];

/// The handshake callback: tungstenite's own checks run first; this adds the §4.2.1 checks it
/// leaves out (a key that decodes to 16 bytes, a single key and version, a Host header) using
/// `wire`'s request validator, and selects a subprotocol from those offered.
struct Validate;

impl Callback for Validate {
    fn on_request(
        self,
        request: &Request,
        mut response: Response,
    ) -> Result<Response, ErrorResponse> {
        let head = request_head(request);
        match crate::wire::handshake::validate_request(&head) {
            Ok(valid) => {
                if let Some(p) = valid
                    .protocols
                    .iter()
                    .find(|p| SUBPROTOCOLS.contains(&p.as_str()))
                    && let Ok(value) = p.parse()
                {
                    response
                        .headers_mut()
                        .insert("Sec-WebSocket-Protocol", value);
                }
                Ok(response)
            }
            Err(rejection) => {
                let mut error = ErrorResponse::new(Some(format!("{}\n", rejection.reason)));
                *error.status_mut() =
                    tokio_tungstenite::tungstenite::http::StatusCode::from_u16(rejection.status)
                        .unwrap_or(tokio_tungstenite::tungstenite::http::StatusCode::BAD_REQUEST);
                if rejection.status == 426 {
                    error.headers_mut().insert(
                        "Sec-WebSocket-Version",
                        "13".parse().expect("static header value"),
                    );
                }
                Err(error)
            }
        }
    }
}

/// The request as `wire` sees it.
fn request_head(request: &Request) -> crate::wire::handshake::RequestHead {
    use tokio_tungstenite::tungstenite::http::Version;
    crate::wire::handshake::RequestHead {
        method: request.method().as_str().to_string(),
        path: request
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into()),
        version: if request.version() == Version::HTTP_10 {
            0
        } else {
            1
        },
        headers: request
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec()))
            .collect(),
        head_len: 0,
    }
}

/// Closes TCP server-first: shut down our half, then discard input until the client closes
/// its half, within [`CLOSE_TIMEOUT`]. The socket is dropped either way.
pub(super) async fn close_tcp(mut tcp: TcpStream) {
    let _ = timeout(CLOSE_TIMEOUT, async {
        if tcp.shutdown().await.is_err() {
            return;
        }
        let mut discard = [0u8; 4096];
        while let Ok(1..) = tcp.read(&mut discard).await {}
    })
    .await;
}

/// The HTTP response for a failed opening handshake, or `None` when the failure is not the
/// request's fault (I/O) or a response has already been written.
fn rejection(error: &WsError) -> Option<String> {
    let (status, extra_header, detail) = match error {
        WsError::Protocol(ProtocolError::MissingSecWebSocketVersionHeader) => (
            "426 Upgrade Required",
            "Sec-WebSocket-Version: 13\r\n",
            "this server speaks WebSocket version 13",
        ),
        WsError::Protocol(_) => ("400 Bad Request", "", "not a valid websocket handshake"),
        WsError::Capacity(_) | WsError::AttackAttempt => {
            ("400 Bad Request", "", "handshake request too large")
        }
        WsError::HttpFormat(_) => ("400 Bad Request", "", "malformed http request"),
        _ => return None,
    };
    let body = format!("{detail}: {error}\n");
    Some(format!(
        "HTTP/1.1 {status}\r\n{extra_header}Connection: close\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_tungstenite::tungstenite::error::CapacityError;

    #[test]
    fn close_code_for_maps_read_errors_to_rfc_codes() {
        let cases: Vec<(&str, WsError, Option<CloseCode>)> = vec![
            (
                "reserved bits",
                WsError::Protocol(ProtocolError::NonZeroReservedBits),
                Some(CloseCode::Protocol),
            ),
            (
                "reserved opcode",
                WsError::Protocol(ProtocolError::InvalidOpcode(3)),
                Some(CloseCode::Protocol),
            ),
            (
                "unmasked client frame",
                WsError::Protocol(ProtocolError::UnmaskedFrameFromClient),
                Some(CloseCode::Protocol),
            ),
            (
                "invalid utf-8",
                WsError::Utf8("bad".into()),
                Some(CloseCode::Invalid),
            ),
            (
                "too big",
                WsError::Capacity(CapacityError::MessageTooLong {
                    size: 2,
                    max_size: 1,
                }),
                Some(CloseCode::Size),
            ),
            (
                "reset",
                WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake),
                None,
            ),
            (
                "after closing",
                WsError::Protocol(ProtocolError::ReceivedAfterClosing),
                None,
            ),
            ("io", WsError::Io(std::io::Error::other("gone")), None),
            ("closed", WsError::ConnectionClosed, None),
        ];
        for (name, error, expected) in cases {
            assert_eq!(close_code_for(&error), expected, "{name}");
        }
    }

    #[test]
    fn close_reasons_fit_in_a_control_frame() {
        for code in [CloseCode::Protocol, CloseCode::Invalid, CloseCode::Size] {
            assert!(!close_reason(code).is_empty());
            assert!(close_reason(code).len() <= 123);
        }
    }

    #[test]
    fn rejection_is_400_for_bad_requests_and_426_for_version() {
        let bad = rejection(&WsError::Protocol(ProtocolError::MissingSecWebSocketKey))
            .expect("bad request is answered");
        assert!(bad.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{bad}");
        let version = rejection(&WsError::Protocol(
            ProtocolError::MissingSecWebSocketVersionHeader,
        ))
        .expect("bad version is answered");
        assert!(version.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
        assert!(version.contains("\r\nSec-WebSocket-Version: 13\r\n"));
        assert_eq!(rejection(&WsError::Io(std::io::Error::other("gone"))), None);
    }

    #[test]
    fn rejection_content_length_matches_body() {
        let response = rejection(&WsError::Protocol(ProtocolError::WrongHttpMethod))
            .expect("bad request is answered");
        let (head, body) = response.split_once("\r\n\r\n").expect("has a blank line");
        let length = head
            .lines()
            .find_map(|line| line.strip_prefix("Content-Length: "))
            .expect("has a length");
        assert_eq!(length.parse::<usize>().expect("numeric"), body.len());
    }
}
