//! The client's opening handshake over HTTP/2 (RFC 8441): the request a case built as an
//! HTTP/1.1 upgrade becomes an extended CONNECT on a fresh HTTP/2 connection, so every case
//! that is not about the HTTP/1.1 upgrade itself runs unchanged over an HTTP/2 stream.
//!
//! The translation (RFC 8441 §4, §5): the request line's path becomes `:path`, `Host` becomes
//! `:authority`, `:scheme` is `https` over TLS and `http` otherwise, `:protocol` is
//! `websocket`; `Upgrade`, `Connection`, `Sec-WebSocket-Key` and the other connection-specific
//! fields are dropped (RFC 9113 §8.2.2, RFC 8441 §5), every other field travels with its name
//! in lowercase. The response must be a 2xx without END_STREAM; its subprotocol and extensions
//! are judged as in RFC 6455 §4.1.

use std::time::Duration;

use tokio::time::Instant;

use super::{ConnectError, Connection, HandshakeOutcome, Session, SessionParams};
use crate::net::Endpoint;
use crate::net::h2::{ClientConn, ConnectRequest, OpenError};
use crate::suite::model::Http2Frame;
use crate::trace::{TcpEnd, TraceEvent};
use crate::wire::h2::ErrorCode;
use crate::wire::handshake::{self, Offer, Parse, ResponseHead};
use crate::wire::{Violation, ViolationKind};

/// Fields an HTTP/2 request never carries (RFC 9113 §8.2.2), or that `:protocol` replaces
/// (RFC 8441 §5).
const DROPPED: [&str; 9] = [
    "host",
    "connection",
    "upgrade",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "sec-websocket-key",
    "content-length",
];

/// Where the extended CONNECT goes.
pub(super) struct Target<'a> {
    /// The server.
    pub endpoint: &'a Endpoint,
    /// An open connection to send it on, instead of a new one.
    pub share: Option<ClientConn>,
    /// `:protocol`.
    pub protocol: &'a str,
    /// Call `close()` while CONNECTING: the stream is reset with CANCEL right after the
    /// CONNECT is sent.
    pub abort: bool,
    /// A hand-written request (`connect: { http2: { fields } }`).
    pub raw: Option<&'a crate::suite::model::Http2Connect>,
}

/// Opens the WebSocket as an extended CONNECT stream; see the module documentation.
pub(super) async fn open(
    target: Target<'_>,
    request: &[u8],
    offer: &Offer,
    deadline: Instant,
    params: SessionParams<'_>,
    idle_timeout: Duration,
    secret_headers: &[String],
) -> Result<(Connection, HandshakeOutcome), ConnectError> {
    let endpoint = target.endpoint;
    let mut conn = Connection {
        stream: None,
        session: Session::new(params),
        read_buf: vec![0u8; 64 * 1024],
        last_activity: Instant::now(),
        idle_timeout,
        write_errors: Vec::new(),
        h2_client: None,
        h2_reset: None,
    };
    let mut outcome = HandshakeOutcome {
        http2: true,
        ..HandshakeOutcome::default()
    };
    let connect = match translate(request, endpoint) {
        Ok(mut c) => {
            c.protocol = target.protocol.to_string();
            c
        }
        Err(e) => {
            conn.trace_request(request, secret_headers);
            outcome.error = Some(e);
            return Ok((conn, outcome));
        }
    };
    if let Some(raw) = target.raw.filter(|r| r.fields.is_some()) {
        hand_written(&mut conn, &mut outcome, endpoint, &connect, raw, deadline).await?;
        return Ok((conn, outcome));
    }
    trace_connect(&mut conn, &connect, secret_headers);
    let client = match target.share {
        Some(c) => c,
        None => {
            let stream = endpoint.connect(deadline).await?;
            match ClientConn::handshake(stream, deadline).await {
                Ok(c) => c,
                Err(e) => {
                    outcome.error = Some(e.to_string());
                    return Ok((conn, outcome));
                }
            }
        }
    };
    if target.abort {
        match client.connect_and_cancel(&connect, deadline).await {
            Ok(()) => outcome.error = Some("close() called while CONNECTING".into()),
            Err(e) => outcome.error = Some(e.to_string()),
        }
        conn.h2_client = Some(client);
        conn.close_call(None, "", deadline).await;
        conn.sync_trace();
        return Ok((conn, outcome));
    }
    let (response, stream) = match client.connect(&connect, true, deadline).await {
        Ok(r) => r,
        Err(e) => {
            match &e {
                OpenError::Reset(why) => {
                    conn.trace
                        .events
                        .push(TraceEvent::Note(format!("HTTP/2 {why}")));
                    conn.tcp_end = Some(TcpEnd::Reset);
                    outcome.reset = Some(why.clone());
                }
                OpenError::NotEnabled => outcome.unimplemented = Some(e.to_string()),
                _ => {}
            }
            outcome.error = Some(e.to_string());
            return Ok((conn, outcome));
        }
    };
    let head = ResponseHead {
        version: 2,
        status: response.status,
        reason: String::new(),
        headers: response.fields.clone(),
        head_len: 0,
    };
    let fields = head
        .headers
        .iter()
        .map(|(n, v)| (n.clone(), conn.session.header_value(n, v)))
        .collect();
    conn.trace.events.push(TraceEvent::Response {
        line: format!("HTTP/2 {}", response.status),
        headers: fields,
    });
    match handshake::validate_h2_response(&head, offer, response.end_stream) {
        Ok(negotiated) => outcome.negotiated = Some(negotiated),
        Err(violations) => outcome.violations = violations,
    }
    outcome.response = Some(head);
    conn.stream = stream;
    conn.h2_client = Some(client);
    conn.take_h2_findings();
    Ok((conn, outcome))
}

/// A hand-written request on a connection of its own (see [`crate::net::h2raw`]): the
/// preface and SETTINGS (with the case's extra parameters), the server's SETTINGS awaited and
/// acknowledged, the case's fields as HPACK literals in HEADERS (+ CONTINUATION), then the
/// answer for stream 1: a response head, RST_STREAM or GOAWAY. No WebSocket opens.
async fn hand_written(
    conn: &mut Connection,
    outcome: &mut HandshakeOutcome,
    endpoint: &Endpoint,
    connect: &ConnectRequest,
    raw: &crate::suite::model::Http2Connect,
    deadline: Instant,
) -> Result<(), ConnectError> {
    use crate::net::h2raw::{RawConn, headers_split};
    use crate::wire::h2::encode as frames;
    use crate::wire::h2::frame::{FLAG_ACK, SETTINGS_ENABLE_CONNECT_PROTOCOL};
    use crate::wire::h2::{FrameType, Payload};

    let fields: Vec<(String, String)> = raw
        .fields
        .iter()
        .flatten()
        .map(|(n, v)| {
            let fill = |t: &str| {
                t.replace("{authority}", &connect.authority)
                    .replace("{path}", &connect.path)
                    .replace("{scheme}", &connect.scheme)
            };
            (fill(n), fill(v))
        })
        .collect();
    conn.trace.events.push(TraceEvent::Request {
        line: "HEADERS (hand-written) HTTP/2".into(),
        headers: fields.clone(),
    });
    let stream = endpoint.connect(deadline).await?;
    let mut h2 = RawConn::new(stream);
    let mut out = crate::wire::h2::PREFACE.to_vec();
    frames::settings(&mut out, &raw.settings);
    let fail = |outcome: &mut HandshakeOutcome, why: String| outcome.error = Some(why);
    if let Err(e) = h2.write(&out).await {
        fail(outcome, format!("writing the preface failed: {e}"));
        return Ok(());
    }
    // The server's preface is a SETTINGS frame (RFC 9113 §3.4); wsprobe waits for it.
    let mut enabled = false;
    loop {
        match h2.next_frame(deadline).await {
            Ok(Some(f)) if f.is(FrameType::Settings) && !f.header.has(FLAG_ACK) => {
                if let Some(Payload::Settings(params)) = f.parse() {
                    enabled = params
                        .iter()
                        .any(|&(id, v)| id == SETTINGS_ENABLE_CONNECT_PROTOCOL && v == 1);
                }
                let _ = h2.answer_control(&f).await;
                break;
            }
            Ok(Some(_)) => {}
            Ok(None) => {
                fail(
                    outcome,
                    "the server closed the connection before its SETTINGS".into(),
                );
                return Ok(());
            }
            Err(e) => {
                fail(outcome, format!("no SETTINGS from the server: {e}"));
                return Ok(());
            }
        }
    }
    if raw.unadvertised && enabled {
        outcome.not_applicable = Some(
            "the server sent SETTINGS_ENABLE_CONNECT_PROTOCOL = 1; the case is about servers \
             that did not"
                .into(),
        );
        return Ok(());
    }
    if !enabled && !raw.unadvertised {
        outcome.unimplemented = Some(crate::net::h2::OpenError::NotEnabled.to_string());
        return Ok(());
    }
    if !enabled {
        conn.trace.events.push(TraceEvent::Note(
            "HTTP/2 the server did not enable extended CONNECT; sending it anyway".into(),
        ));
    }
    let block = crate::wire::h2::hpack::encode_literals(&fields);
    if let Err(e) = h2
        .write(&headers_split(1, &block, raw.split.unwrap_or(1)))
        .await
    {
        fail(outcome, format!("writing the request failed: {e}"));
        return Ok(());
    }
    loop {
        let frame = match h2.next_frame(deadline).await {
            Ok(Some(f)) => f,
            Ok(None) => {
                fail(
                    outcome,
                    "the server closed the connection without an answer".into(),
                );
                conn.tcp_end = Some(TcpEnd::ClosedByServer);
                return Ok(());
            }
            Err(e) => {
                fail(outcome, format!("no answer: {e}"));
                return Ok(());
            }
        };
        if h2.answer_control(&frame).await.unwrap_or(false) {
            continue;
        }
        match frame.parse() {
            Some(Payload::Headers { .. }) => {
                let (block, end_stream) = match h2.field_block(&frame, deadline).await {
                    Ok(b) => b,
                    Err(e) => {
                        fail(outcome, e);
                        return Ok(());
                    }
                };
                let decoded = match h2.hpack.decode(&block) {
                    Ok(d) => d,
                    Err(e) => {
                        fail(outcome, format!("the response's field block: {e}"));
                        return Ok(());
                    }
                };
                if frame.header.stream_id != 1 {
                    continue;
                }
                let status = decoded
                    .iter()
                    .find(|f| f.name == b":status")
                    .and_then(|f| f.value_str().parse::<u16>().ok());
                let Some(status) = status else {
                    fail(outcome, "a response without :status".into());
                    return Ok(());
                };
                let head = ResponseHead {
                    version: 2,
                    status,
                    reason: String::new(),
                    headers: decoded
                        .iter()
                        .filter(|f| !f.name.starts_with(b":"))
                        .map(|f| (f.name_str(), f.value.clone()))
                        .collect(),
                    head_len: 0,
                };
                conn.trace.events.push(TraceEvent::Response {
                    line: format!(
                        "HTTP/2 {status}{}",
                        if end_stream { " END_STREAM" } else { "" }
                    ),
                    headers: head
                        .headers
                        .iter()
                        .map(|(n, v)| (n.clone(), String::from_utf8_lossy(v).into_owned()))
                        .collect(),
                });
                outcome.response = Some(head);
                return Ok(());
            }
            Some(Payload::RstStream(code)) if frame.header.stream_id == 1 => {
                let why = format!("RST_STREAM {code}");
                conn.trace
                    .events
                    .push(TraceEvent::Note(format!("HTTP/2 {why}")));
                outcome.reset = Some(why.clone());
                fail(outcome, format!("no response: {why}"));
                return Ok(());
            }
            Some(Payload::GoAway { code, .. }) => {
                let why = format!("GOAWAY {code}");
                conn.trace
                    .events
                    .push(TraceEvent::Note(format!("HTTP/2 {why}")));
                outcome.reset = Some(why.clone());
                fail(outcome, format!("no response: {why}"));
                return Ok(());
            }
            _ => {}
        }
    }
}

impl Connection {
    /// `send: { http2: ... }`: a frame on this WebSocket's HTTP/2 connection, outside its
    /// stream. A PING waits (until `deadline`) for its ACK; none is a violation of RFC 9113
    /// §6.7, returned as the error. `Err` also when the WebSocket is not on HTTP/2.
    pub async fn send_http2(&mut self, frame: Http2Frame, deadline: Instant) -> Result<(), String> {
        let Some(tap) = self.h2_client.as_ref().map(|c| c.tap().clone()) else {
            return Err("`send: { http2 }` needs a WebSocket over HTTP/2 (`run --http2`)".into());
        };
        let result = match frame {
            Http2Frame::Ping => {
                self.trace
                    .events
                    .push(TraceEvent::Note("HTTP/2 PING sent".into()));
                match tap.ping(deadline).await {
                    Ok(_) => {
                        self.trace
                            .events
                            .push(TraceEvent::Note("HTTP/2 PING ACK received".into()));
                        Ok(())
                    }
                    Err(why) => {
                        self.session.record_violations(vec![Violation::new(
                            ViolationKind::Http2Connection,
                            format!("{why}; RFC 9113 §6.7 requires a PING to be answered"),
                        )]);
                        Err(why)
                    }
                }
            }
            Http2Frame::GoAway => {
                tap.goaway(ErrorCode::NO_ERROR);
                self.trace.events.push(TraceEvent::Note(
                    "HTTP/2 GOAWAY NO_ERROR sent (last stream 0)".into(),
                ));
                Ok(())
            }
        };
        self.take_h2_findings();
        result
    }
}

/// The extended CONNECT for a request written as an HTTP/1.1 upgrade.
fn translate(request: &[u8], endpoint: &Endpoint) -> Result<ConnectRequest, String> {
    let head = match handshake::parse_request(request, request.len().max(super::MAX_HEAD)) {
        Ok(Parse::Complete(head)) => head,
        _ => {
            return Err(
                "the case's request is not an HTTP request head, which HTTP/2 cannot carry".into(),
            );
        }
    };
    let authority = head
        .header("host")
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}:{}", endpoint.host, endpoint.port));
    let mut fields = Vec::new();
    for (name, value) in &head.headers {
        let lower = name.to_ascii_lowercase();
        if DROPPED.contains(&lower.as_str()) {
            continue;
        }
        fields.push((lower, String::from_utf8_lossy(value).into_owned()));
    }
    Ok(ConnectRequest {
        scheme: if endpoint.transport.tls.is_some() {
            "https".into()
        } else {
            "http".into()
        },
        authority,
        path: head.path,
        protocol: "websocket".into(),
        fields,
    })
}

/// Records the extended CONNECT in the trace as sent: pseudo-header fields first.
fn trace_connect(conn: &mut Connection, c: &ConnectRequest, secret_headers: &[String]) {
    let mut headers = vec![
        (":method".to_string(), "CONNECT".to_string()),
        (":protocol".to_string(), c.protocol.clone()),
        (":scheme".to_string(), c.scheme.clone()),
        (":authority".to_string(), c.authority.clone()),
        (":path".to_string(), c.path.clone()),
    ];
    for (name, value) in &c.fields {
        let shown = if secret_headers.iter().any(|s| s.eq_ignore_ascii_case(name)) {
            "[redacted]".to_string()
        } else {
            conn.session.header_value(name, value.as_bytes())
        };
        headers.push((name.clone(), shown));
    }
    conn.trace.events.push(TraceEvent::Request {
        line: format!("CONNECT {} HTTP/2", c.path),
        headers,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upgrade_request_becomes_an_extended_connect() {
        let endpoint = Endpoint::tcp("127.0.0.1:9001".parse().expect("literal"));
        let request = b"GET /chat?x=1 HTTP/1.1\r\nHost: example.com:9001\r\nUpgrade: websocket\r\n\
            Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
            Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat\r\nOrigin: http://x\r\n\r\n";
        let c = translate(request, &endpoint).expect("a request head");
        assert_eq!(c.scheme, "http");
        assert_eq!(c.authority, "example.com:9001");
        assert_eq!(c.path, "/chat?x=1");
        assert_eq!(c.protocol, "websocket");
        assert_eq!(
            c.fields,
            vec![
                ("sec-websocket-version".to_string(), "13".to_string()),
                ("sec-websocket-protocol".to_string(), "chat".to_string()),
                ("origin".to_string(), "http://x".to_string()),
            ]
        );
    }

    #[test]
    fn a_request_that_is_not_http_cannot_be_translated() {
        let endpoint = Endpoint::tcp("127.0.0.1:9001".parse().expect("literal"));
        assert!(translate(b"\x00\x01garbage\r\n\r\n", &endpoint).is_err());
    }
}
