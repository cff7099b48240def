//! `serve --http2`: WebSockets over HTTP/2 (RFC 8441) on the same port as HTTP/1.1. A
//! connection whose first 24 bytes are the HTTP/2 client preface (h2c with prior knowledge,
//! RFC 9113 §3.3), or whose TLS handshake agreed on ALPN `h2`, is served here by the `h2`
//! crate with SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 §3); every other connection goes
//! to the HTTP/1.1 servers as before.
//!
//! Each extended CONNECT with `:protocol websocket` and `sec-websocket-version: 13` is
//! answered 200 (no `sec-websocket-accept`, no `content-length`, the stream left open,
//! RFC 8441 §5), choosing "chat" or "superchat" if offered and answering permessage-deflate
//! offers as the HTTP/1.1 baseline does (RFC 7692 §5.1, §7); the stream then runs the raw echo
//! server of `raw.rs` (the same baseline and faults as over HTTP/1.1) as its byte stream.
//! Refusals: another `:protocol` gets 501 (RFC 9220 §3's answer, wsprobe's reading for
//! HTTP/2), a missing or other version 400 with `sec-websocket-version: 13`, any other request
//! 404. Requests that are malformed for HTTP/2 itself (`:protocol` without the setting or on a
//! method other than CONNECT, missing `:scheme`/`:path`, connection-specific fields) are reset
//! by `h2` with PROTOCOL_ERROR before they reach this code (RFC 9113 §8.1.1).
//!
//! Shutdown: GOAWAY (graceful, RFC 9113 §6.8) while each open WebSocket closes with 1001;
//! the connection is driven until its streams are done, within [`SHUTDOWN_GRACE`].

use std::sync::Arc;

use bytes::Bytes;
use h2::server::SendResponse;
use http::{Request, Response, StatusCode};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::timeout;

use super::raw::{self, Opened};
use super::{Fault, HANDSHAKE_TIMEOUT, SHUTDOWN_GRACE, Settings, stopped};
use crate::net::Stream;
use crate::net::h2::{H2Stream, PREFACE, Quirks};
use crate::net::h2tap::{Meddle, Side, Tap};
use crate::wire::handshake::split_list;

/// The connection's receive window: room for several WebSockets' large messages at once.
const CONNECTION_WINDOW: u32 = 4 * 1024 * 1024;

/// How much framing overhead of small DATA frames `h2` buffers before it suspects a flood
/// (RFC 9113 §10.5) and ends the connection with ENHANCE_YOUR_CALM. `h2`'s default (half the
/// connection window, at least 25,600) trips on Autobahn's octet-wise cases, whose client
/// sends a WebSocket frame one byte per DATA frame; the reference server, which reads as fast
/// as frames arrive, allows 16 MiB of it (about 65,000 one-byte frames in flight).
const SMALL_FRAME_BUDGET: usize = 16 * 1024 * 1024;

/// Whether a connection speaks HTTP/2: ALPN `h2` on TLS, the client preface on cleartext.
/// Reads (and keeps, for the server that serves it) at most the preface's 24 bytes.
pub(crate) async fn is_http2(stream: &mut Stream) -> bool {
    if let Some(alpn) = stream.alpn() {
        return alpn == crate::net::h2::ALPN_H2;
    }
    loop {
        let peeked = match timeout(HANDSHAKE_TIMEOUT, stream.peek(PREFACE.len())).await {
            Ok(Ok(p)) => p,
            _ => return false,
        };
        let n = peeked.len().min(PREFACE.len());
        if peeked.is_empty() || peeked[..n] != PREFACE[..n] {
            return false;
        }
        if n == PREFACE.len() {
            return true;
        }
    }
}

/// Serves one HTTP/2 connection until the client or the server ends it.
pub(super) async fn serve(
    stream: Stream,
    settings: Arc<Settings>,
    mut stop: watch::Receiver<bool>,
) {
    let fault = match settings.mode {
        super::ServeMode::Fault(f) => f,
        _ => Fault::None,
    };
    if super::h2raw::serves(fault) {
        return super::h2raw::serve(stream, fault).await;
    }
    let peer = stream
        .peer_addr()
        .unwrap_or_else(|_| std::net::SocketAddr::from(([0, 0, 0, 0], 0)));
    let tls = stream.tls();
    // h2 writes frames as they are ready; Nagle would hold small ones for the peer's ACK.
    stream.set_nodelay();
    let mut builder = h2::server::Builder::new();
    builder
        .initial_connection_window_size(CONNECTION_WINDOW)
        .data_frame_budget(SMALL_FRAME_BUDGET);
    if fault != Fault::H2NoConnectSetting {
        builder.enable_connect_protocol();
    }
    let meddle = match fault {
        Fault::H2SettingValue2 => Meddle::SettingValue2,
        Fault::H2WithdrawSetting => Meddle::WithdrawSetting,
        Fault::H2NoSettingsAck => Meddle::NoSettingsAck,
        Fault::H2PingBeforeSettings => Meddle::PingBeforeSettings,
        Fault::H2OversizedData => Meddle::OversizedData,
        Fault::H2IgnoreWindow => Meddle::IgnoreWindow,
        Fault::H2NoPingAck => Meddle::NoPingAckAfterFirst,
        Fault::H2GoawayDropsStreams => Meddle::CloseOnGoaway,
        _ => Meddle::None,
    };
    let (stream, _tap) = Tap::new(stream, Side::Server, meddle);
    let mut conn = match timeout(HANDSHAKE_TIMEOUT, builder.handshake::<_, Bytes>(stream)).await {
        Ok(Ok(c)) => c,
        _ => return,
    };
    let mut websockets = JoinSet::new();
    loop {
        tokio::select! {
            () = stopped(&mut stop) => {
                conn.graceful_shutdown();
                break;
            }
            accepted = conn.accept() => match accepted {
                Some(Ok((request, respond))) => {
                    let stop = stop.clone();
                    let tls = tls.clone();
                    let max = settings.max_message_size;
                    websockets.spawn(async move {
                        if let Some(stream) = answer(request, respond, fault, peer, tls) {
                            raw::serve_open(stream.0, fault, max, stream.1, stop).await;
                        }
                    });
                }
                // The client went away, or broke HTTP/2 (h2 has sent GOAWAY).
                Some(Err(_)) | None => break,
            },
            Some(_) = websockets.join_next(), if !websockets.is_empty() => {}
        }
    }
    // Keep driving the connection while the WebSockets close (each says 1001 on shutdown).
    let _ = timeout(SHUTDOWN_GRACE, async {
        loop {
            tokio::select! {
                accepted = conn.accept() => match accepted {
                    // After GOAWAY h2 refuses new streams itself.
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => break,
                },
                joined = websockets.join_next() => {
                    if joined.is_none() {
                        // Every WebSocket is done: let h2 send what is queued and close.
                        let _ = std::future::poll_fn(|cx| conn.poll_closed(cx)).await;
                        break;
                    }
                }
            }
        }
    })
    .await;
    websockets.shutdown().await;
}

/// Answers one request: a WebSocket's byte stream for an accepted extended CONNECT, `None`
/// after a refusal.
fn answer(
    request: Request<h2::RecvStream>,
    mut respond: SendResponse<Bytes>,
    fault: Fault,
    peer: std::net::SocketAddr,
    tls: Option<crate::net::tls::SessionInfo>,
) -> Option<(Stream, Opened)> {
    let protocol = request
        .extensions()
        .get::<h2::ext::Protocol>()
        .map(|p| p.as_str().to_string());
    let refuse = |respond: &mut SendResponse<Bytes>, status: u16, fields: &[(&str, &str)]| {
        let mut response = Response::builder().status(status);
        for (name, value) in fields {
            response = response.header(*name, *value);
        }
        if let Ok(response) = response.body(()) {
            let _ = respond.send_response(response, true);
        }
    };
    if request.method() != http::Method::CONNECT || protocol.is_none() {
        refuse(&mut respond, 404, &[]);
        return None;
    }
    if protocol.as_deref() != Some("websocket") && fault != Fault::H2AcceptAnyProtocol {
        refuse(&mut respond, 501, &[]);
        return None;
    }
    let headers = request.headers();
    let version = headers
        .get_all("sec-websocket-version")
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
        .collect::<Vec<_>>();
    if (version != ["13"] && fault != Fault::H2AcceptAnyVersion) || fault == Fault::H2Status400 {
        refuse(&mut respond, 400, &[("sec-websocket-version", "13")]);
        return None;
    }
    let offered: Vec<String> = headers
        .get_all("sec-websocket-protocol")
        .iter()
        .flat_map(|v| split_list(&String::from_utf8_lossy(v.as_bytes())))
        .collect();
    let subprotocol = if fault == Fault::H2UnofferedSubprotocol {
        Some("x-unoffered")
    } else {
        offered
            .iter()
            .map(String::as_str)
            .find(|p| super::connection::SUBPROTOCOLS.contains(p))
    };
    let extension_values: Vec<String> = headers
        .get_all("sec-websocket-extensions")
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    let extensions = raw::deflate::answer(&extension_values, fault);
    let mut response = Response::builder().status(StatusCode::OK);
    if let Some(p) = subprotocol {
        response = response.header("sec-websocket-protocol", p);
    }
    for item in &extensions.items {
        response = response.header("sec-websocket-extensions", item.as_str());
    }
    match fault {
        Fault::H2ContentLength0 => response = response.header("content-length", "0"),
        Fault::H2SendAccept => {
            // What an HTTP/1.1 server would answer to the RFC 6455 §1.3 sample key.
            response = response.header("sec-websocket-accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        }
        _ => {}
    }
    let response = response.body(()).ok()?;
    let send = respond
        .send_response(response, fault == Fault::H2EndStreamOn2xx)
        .ok()?;
    let quirks = Quirks {
        no_end_stream: fault == Fault::H2NoEndStream,
        reset_on_close: (fault == Fault::H2RstProtocolError).then_some(h2::Reason::PROTOCOL_ERROR),
        trailers_on_close: fault == Fault::H2TrailersOnTunnel,
        hold_window: fault == Fault::H2NoWindowUpdate,
    };
    let stream = H2Stream::new(send, request.into_body(), peer, tls).with_quirks(quirks);
    Some((
        Stream::h2(stream),
        Opened {
            leftover: Vec::new(),
            deflate: extensions.negotiated,
        },
    ))
}
