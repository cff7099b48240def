//! The socket driver of a [`Session`]: a raw tokio `TcpStream` whose bytes are fed to the
//! sans-IO session, and whose writes carry what the session and the steps produce. As the
//! client it connects and sends the request ([`Connection::open`]); as the server it takes an
//! accepted stream whose request was already read ([`Connection::accept`]). Every read and
//! write is bounded by a deadline given by the caller.

use std::ops::{Deref, DerefMut};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{Instant, timeout_at};

use super::browser::CloseAction;
use super::budget::{self, CaseMemory};
use super::deflate::{self, Deflate};
use super::session::compressed_preview;
pub use super::session::{
    CloseFacts, MAX_FRAMES, MAX_HEAD, MAX_TRACE_EVENTS, Observation, Session, SessionParams,
};
pub use crate::net::ConnectError;
use crate::net::{Endpoint, Stream};
use crate::suite::model::Respond;
use crate::trace::{ConnectionTrace, TcpEnd, TraceEvent, frame_preview, preview};
use crate::wire::deflate::DeflateResponse;
use crate::wire::handshake::{self, Negotiated, Offer, Parse, RequestHead, ResponseHead};
use crate::wire::{ClosePayload, FrameSpec, Opcode, Role, Violation};

mod h2;

/// How the opening handshake went.
#[derive(Clone, Debug, Default)]
pub struct HandshakeOutcome {
    /// The parsed response, if one arrived.
    pub response: Option<ResponseHead>,
    /// Why no usable response arrived (timeout, closed, malformed).
    pub error: Option<String>,
    /// §4.1 problems with the response, empty for a valid 101.
    pub violations: Vec<Violation>,
    /// What a valid 101 established.
    pub negotiated: Option<Negotiated>,
    /// The accepted permessage-deflate element's parameters, if the response had one.
    pub deflate: Option<DeflateResponse>,
    /// The handshake was an HTTP/2 extended CONNECT (RFC 8441).
    pub http2: bool,
    /// Over HTTP/2: the stream was reset (or the connection went away) instead of a response,
    /// e.g. `RST_STREAM PROTOCOL_ERROR`.
    pub reset: Option<String>,
    /// Over HTTP/2: the server does not accept extended CONNECT (RFC 8441 §3), so a case
    /// that needs a WebSocket is UNIMPLEMENTED rather than failed.
    pub unimplemented: Option<String>,
    /// The case does not apply to this server (INFORMATIONAL), and why.
    pub not_applicable: Option<String>,
}

impl HandshakeOutcome {
    /// Whether the connection is open.
    pub fn opened(&self) -> bool {
        self.negotiated.is_some()
    }
}

/// Everything [`Connection::open`] needs.
#[derive(Debug)]
pub struct OpenParams<'a> {
    /// Connection name for the trace.
    pub name: &'a str,
    /// Where to connect, and how (TCP or TLS, directly or through a proxy).
    pub endpoint: &'a Endpoint,
    /// The request bytes.
    pub request: &'a [u8],
    /// TCP write sizes for the request.
    pub writes: &'a [usize],
    /// Pause between writes.
    pub write_delay: Option<Duration>,
    /// What the request offered, to validate the response.
    pub offer: &'a Offer,
    /// Largest message accepted from the server.
    pub max_message: u64,
    /// Bound of connect + handshake.
    pub deadline: Instant,
    /// The case's account in the run's memory budget.
    pub memory: &'a CaseMemory,
    /// Call `close()` while CONNECTING, right after the request is written.
    pub abort: bool,
    /// Request headers whose values the trace must not show (e.g. `--header Authorization`).
    pub secret_headers: &'a [String],
    /// How long a write may make no progress while nothing arrives (already scaled).
    pub idle_timeout: Duration,
    /// The handshake nonce wsprobe generated itself, which traces show as `[key]` (a key the
    /// suite wrote on purpose is shown as written).
    pub own_key: Option<&'a str>,
    /// Seed of the connection's mask keys (`--seed`); `None` draws them from the OS.
    pub seed: Option<u64>,
    /// The request's extension elements as sent, to judge the server's permessage-deflate
    /// answer against (RFC 7692 §5.1, §7).
    pub extension_items: &'a [String],
    /// Over HTTP/2: the `:protocol` to send (default `websocket`).
    pub h2_protocol: Option<&'a str>,
    /// Over HTTP/2: the connection to open the stream on, instead of a new one.
    pub h2_share: Option<crate::net::h2::ClientConn>,
    /// Over HTTP/2: the step's `http2` options (a hand-written request among them).
    pub h2_raw: Option<&'a crate::suite::model::Http2Connect>,
}

/// A client's connection that wsprobe accepted and whose request head it has read (the URL
/// chose the case), handed to the case that answers it.
#[derive(Debug)]
pub struct Incoming {
    /// The socket (TCP or TLS).
    pub stream: Stream,
    /// The parsed request head.
    pub head: RequestHead,
    /// The request head's bytes as received.
    pub raw_head: Vec<u8>,
    /// Bytes that arrived after the head (frames sent before the response, in the same read).
    pub leftover: Vec<u8>,
    /// What the transport found wrong with the request before the head was handed over (an
    /// extended CONNECT sent before the server enabled it), judged with the head.
    pub findings: Vec<Violation>,
}

/// Everything [`Connection::accept`] needs.
#[derive(Debug)]
pub struct AcceptParams<'a> {
    /// Connection name for the trace.
    pub name: &'a str,
    /// The client's connection.
    pub incoming: Incoming,
    /// How to answer; `None` answers correctly.
    pub respond: Option<&'a Respond>,
    /// Largest message accepted from the client.
    pub max_message: u64,
    /// Bound of writing the response.
    pub deadline: Instant,
    /// The case's account in the run's memory budget.
    pub memory: &'a CaseMemory,
    /// How long a write may make no progress while nothing arrives (already scaled).
    pub idle_timeout: Duration,
    /// The case's permessage-deflate offer, read as what wsprobe asks of the client; empty:
    /// wsprobe declines every extension.
    pub deflate_offer: &'a [String],
}

/// How wsprobe answered a client's opening handshake.
#[derive(Clone, Debug, Default)]
pub struct AcceptOutcome {
    /// What is wrong with the client's request (RFC 6455 §4.1 requirements on clients).
    pub violations: Vec<Violation>,
    /// Writing the response failed.
    pub error: Option<String>,
    /// permessage-deflate was agreed.
    pub deflate: bool,
}

/// A WebSocket connection under test: the session and the socket that carries it.
#[derive(Debug)]
pub struct Connection {
    stream: Option<Stream>,
    session: Session,
    read_buf: Vec<u8>,
    /// When bytes last arrived from the peer or a write last made progress.
    last_activity: Instant,
    /// How long a write may make no progress while nothing arrives.
    idle_timeout: Duration,
    /// Writes that failed or stalled (see [`Connection::trace`]).
    write_errors: Vec<String>,
    /// Over HTTP/2: the connection the stream is on, which later WebSockets may share.
    h2_client: Option<crate::net::h2::ClientConn>,
    /// Over HTTP/2: how the server reset the stream, if it did.
    h2_reset: Option<String>,
}

impl Deref for Connection {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.session
    }
}

impl DerefMut for Connection {
    fn deref_mut(&mut self) -> &mut Session {
        &mut self.session
    }
}

impl Connection {
    /// Answers a client's opening handshake as the server, as `respond` says (correctly when
    /// it is `None`), and returns the connection OPEN whatever the answer was: a case that
    /// answers wrongly goes on to watch whether the client fails the connection (§4.1).
    pub async fn accept(p: AcceptParams<'_>) -> (Connection, AcceptOutcome) {
        let AcceptParams {
            name,
            incoming,
            respond,
            max_message,
            deadline,
            memory,
            idle_timeout,
            deflate_offer,
        } = p;
        let Incoming {
            stream,
            head,
            raw_head,
            leftover,
            findings,
        } = incoming;
        stream.set_nodelay();
        let key = head
            .header("sec-websocket-key")
            .map(|k| k.trim().to_string());
        let mut conn = Connection {
            stream: Some(stream),
            session: Session::new(SessionParams {
                name,
                role: Role::Server,
                max_message,
                memory,
                own_key: key.as_deref(),
                seed: None,
            }),
            read_buf: vec![0u8; 64 * 1024],
            last_activity: Instant::now(),
            idle_timeout,
            write_errors: Vec::new(),
            h2_client: None,
            h2_reset: None,
        };
        // An extended CONNECT (RFC 8441) arrives from `run --client --http2` with its
        // pseudo-header fields among the headers and is answered on an HTTP/2 stream.
        let http2 = head.method == "CONNECT" && head.header(":protocol").is_some();
        let mut outcome = AcceptOutcome::default();
        outcome.violations.extend(findings);
        if http2 {
            let fields = head
                .headers
                .iter()
                .map(|(n, v)| (n.clone(), conn.session.header_value(n, v)))
                .collect();
            conn.session.trace.events.push(TraceEvent::Request {
                line: format!("CONNECT {} HTTP/2", head.path),
                headers: fields,
            });
            for problem in handshake::validate_h2_request(&head) {
                outcome.violations.push(Violation::new(
                    crate::wire::ViolationKind::Http2Request,
                    problem,
                ));
            }
        } else {
            conn.session.trace_request(&raw_head, &[]);
            if let Err(rejection) = handshake::validate_request(&head) {
                outcome.violations.push(Violation::new(
                    crate::wire::ViolationKind::HandshakeRequest,
                    rejection.reason,
                ));
            }
        }
        // permessage-deflate, unless the case answers with extensions of its own.
        let mut agreed = None;
        if !deflate_offer.is_empty() && respond.is_none_or(|r| r.extensions.is_none()) {
            let items: Vec<String> = head
                .header_values("sec-websocket-extensions")
                .iter()
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .collect();
            agreed = deflate::answer(&items, deflate_offer);
        }
        let extension = agreed.as_ref().map(|a| a.response.to_header_item());
        if let Some(a) = agreed {
            match Deflate::new_server(a.negotiated, max_message) {
                Ok(d) => {
                    conn.session.set_deflate(d, max_message);
                    outcome.deflate = true;
                }
                Err(e) => outcome.error = Some(format!("cannot set up permessage-deflate: {e}")),
            }
        }
        let response = build_response(key.as_deref().unwrap_or(""), respond, extension);
        match handshake::parse_response(&response.head, response.head.len().max(MAX_HEAD)) {
            Ok(Parse::Complete(parsed)) if http2 => {
                let (status, fields) = crate::net::h2::h2_response_fields(&parsed);
                let headers = fields
                    .iter()
                    .map(|(n, v)| (n.clone(), conn.session.header_value(n, v)))
                    .collect();
                conn.session.trace.events.push(TraceEvent::Response {
                    line: format!("HTTP/2 {status}"),
                    headers,
                });
            }
            Ok(Parse::Complete(parsed)) => conn.session.trace_response(&parsed),
            _ => conn.session.trace.events.push(TraceEvent::RawSent {
                len: response.head.len(),
                preview: preview(&response.head),
            }),
        }
        if !response.after.is_empty() {
            conn.session.trace.events.push(TraceEvent::RawSent {
                len: response.after.len(),
                preview: preview(&response.after),
            });
        }
        let mut bytes = response.head;
        bytes.extend_from_slice(&response.after);
        let writes = vec![bytes.len()];
        conn.session.browser.opened();
        conn.session.sync_trace();
        if !leftover.is_empty() {
            conn.session.receive(&leftover);
        }
        if let Err(e) = conn.write_chunks(&bytes, &writes, None, deadline).await {
            outcome.error = Some(e);
        }
        (conn, outcome)
    }

    /// A read failed: a TCP reset, or over HTTP/2 the stream's RST_STREAM or the
    /// connection's GOAWAY, whose error code the trace keeps (RFC 8441 §5 gives CANCEL its
    /// meaning).
    fn on_read_error(&mut self, e: &std::io::Error) {
        if self.h2_client.is_some() {
            let what = e.to_string();
            if what.starts_with("RST_STREAM") || what.starts_with("GOAWAY") {
                self.h2_reset = Some(what.clone());
                self.trace
                    .events
                    .push(TraceEvent::Note(format!("HTTP/2 {what}")));
            }
            // RFC 8441 §5: the abortive close of a WebSocket is RST_STREAM CANCEL; NO_ERROR
            // only tells wsprobe to stop sending after the server's own END_STREAM.
            if let Some(code) = what.strip_prefix("RST_STREAM ")
                && code != "CANCEL"
                && code != "NO_ERROR"
            {
                self.session.record_violations(vec![Violation::new(
                    crate::wire::ViolationKind::Http2Stream,
                    format!(
                        "the server reset the WebSocket's stream with {code}; RFC 8441 §5 \
                         ends a WebSocket abortively with RST_STREAM CANCEL"
                    ),
                )]);
            }
            if what.starts_with(crate::net::h2::TRAILERS) {
                self.session.record_violations(vec![Violation::new(
                    crate::wire::ViolationKind::Http2Stream,
                    "the server sent trailers (HEADERS) on the WebSocket's stream, which RFC \
                     9113 §8.5 forbids on a tunnel",
                )]);
                self.on_eof();
                return;
            }
        }
        self.on_reset();
    }

    /// The HTTP/2 way the server ended the stream abortively (`RST_STREAM CANCEL`,
    /// `GOAWAY NO_ERROR`), if it did.
    pub fn h2_reset(&self) -> Option<&str> {
        self.h2_reset.as_deref()
    }

    /// The HTTP/2 connection this WebSocket's stream belongs to (`run --http2`).
    pub fn h2_client(&self) -> Option<&crate::net::h2::ClientConn> {
        self.h2_client.as_ref()
    }

    /// wsprobe closes TCP itself (the session records it, the socket is dropped).
    pub fn drop_tcp(&mut self) {
        self.session.drop_tcp();
        // As the server on an HTTP/2 stream, closing TCP is ending the stream (RFC 8441 §5:
        // END_STREAM is TCP's FIN); `h2` then resets a stream the client has not ended with
        // NO_ERROR (RFC 9113 §8.1), never with CANCEL, the abortive close.
        if self.session.role == Role::Server
            && let Some(h2) = self.stream.as_mut().and_then(Stream::as_h2)
        {
            h2.end();
        }
        self.stream = None;
    }

    /// Opens TCP to `addr`, sends `request` (cut into `writes`), reads the response and judges
    /// it against `offer`. A refused or invalid handshake still yields a connection (CLOSED)
    /// so steps can assert on its state and events.
    pub async fn open(p: OpenParams<'_>) -> Result<(Connection, HandshakeOutcome), ConnectError> {
        let OpenParams {
            name,
            endpoint,
            request,
            writes,
            write_delay,
            offer,
            max_message,
            deadline,
            memory,
            abort,
            secret_headers,
            idle_timeout,
            own_key,
            seed,
            extension_items,
            h2_protocol,
            h2_share,
            h2_raw,
        } = p;
        if endpoint.transport.http2 {
            let (conn, outcome) = h2::open(
                h2::Target {
                    endpoint,
                    share: h2_share,
                    protocol: h2_protocol.unwrap_or("websocket"),
                    abort,
                    raw: h2_raw,
                },
                request,
                offer,
                deadline,
                SessionParams {
                    name,
                    role: Role::Client,
                    max_message,
                    memory,
                    own_key,
                    seed,
                },
                idle_timeout,
                secret_headers,
            )
            .await?;
            if abort {
                return Ok((conn, outcome));
            }
            return Ok(conn.opened(outcome, extension_items, max_message));
        }
        let stream = endpoint.connect(deadline).await?;
        let mut conn = Connection {
            stream: Some(stream),
            session: Session::new(SessionParams {
                name,
                role: Role::Client,
                max_message,
                memory,
                own_key,
                seed,
            }),
            read_buf: vec![0u8; 64 * 1024],
            last_activity: Instant::now(),
            idle_timeout,
            write_errors: Vec::new(),
            h2_client: None,
            h2_reset: None,
        };
        conn.trace_request(request, secret_headers);
        if abort {
            let mut outcome = HandshakeOutcome::default();
            if let Err(e) = conn
                .write_chunks(request, writes, write_delay, deadline)
                .await
            {
                outcome.error = Some(e);
            } else {
                outcome.error = Some("close() called while CONNECTING".into());
            }
            conn.close_call(None, "", deadline).await;
            conn.sync_trace();
            return Ok((conn, outcome));
        }
        let outcome = conn
            .handshake(request, writes, write_delay, offer, deadline)
            .await;
        Ok(conn.opened(outcome, extension_items, max_message))
    }

    /// After the handshake: agrees on permessage-deflate, opens or fails the connection and
    /// takes in the frames that arrived with the response.
    fn opened(
        mut self,
        mut outcome: HandshakeOutcome,
        extension_items: &[String],
        max_message: u64,
    ) -> (Connection, HandshakeOutcome) {
        let conn = &mut self;
        if let Some(negotiated) = &outcome.negotiated {
            let agreement = deflate::agree(extension_items, &negotiated.extensions);
            for note in &agreement.notes {
                conn.trace.events.push(TraceEvent::Note(note.clone()));
            }
            outcome.deflate = agreement.response;
            if !agreement.violations.is_empty() {
                // RFC 7692 §5.1, §7: the client fails the connection.
                outcome.violations = agreement.violations;
                outcome.negotiated = None;
            } else if let Some(agreed) = agreement.negotiated {
                match Deflate::new(agreed, max_message) {
                    Ok(d) => conn.session.set_deflate(d, max_message),
                    Err(e) => {
                        outcome.error = Some(format!("cannot set up permessage-deflate: {e}"));
                        outcome.negotiated = None;
                    }
                }
            }
        }
        if outcome.negotiated.is_some() {
            conn.browser.opened();
        } else {
            conn.browser.fail();
            conn.drop_tcp();
        }
        conn.sync_trace();
        // Frames that arrived in the same read as the response.
        let leftover = std::mem::take(&mut conn.early);
        if conn.browser.state() == crate::trace::ReadyState::Open && !leftover.is_empty() {
            conn.process(&leftover);
        }
        (self, outcome)
    }

    async fn handshake(
        &mut self,
        request: &[u8],
        writes: &[usize],
        write_delay: Option<Duration>,
        offer: &Offer,
        deadline: Instant,
    ) -> HandshakeOutcome {
        let mut outcome = HandshakeOutcome::default();
        if let Err(e) = self
            .write_chunks(request, writes, write_delay, deadline)
            .await
        {
            outcome.error = Some(e);
            return outcome;
        }
        let Some(stream) = self.stream.as_mut() else {
            outcome.error = Some("connection closed".into());
            return outcome;
        };
        let mut buf = Vec::new();
        let head = loop {
            match handshake::parse_response(&buf, MAX_HEAD) {
                Ok(Parse::Complete(head)) => break head,
                Ok(Parse::Partial) => {}
                Err(e) => {
                    outcome.error = Some(format!("{e}"));
                    self.trace.events.push(TraceEvent::Note(format!(
                        "unparsable response \"{}\"",
                        preview(&buf)
                    )));
                    return outcome;
                }
            }
            match timeout_at(deadline, stream.read(&mut self.read_buf)).await {
                Err(_) => {
                    outcome.error = Some("no handshake response before the timeout".into());
                    return outcome;
                }
                Ok(Ok(0)) => {
                    self.tcp_end = Some(TcpEnd::ClosedByServer);
                    self.trace
                        .events
                        .push(TraceEvent::TcpEnd(TcpEnd::ClosedByServer));
                    outcome.error = Some(if buf.is_empty() {
                        "the server closed the connection without a response".into()
                    } else {
                        format!(
                            "the server closed the connection inside the response \"{}\"",
                            preview(&buf)
                        )
                    });
                    return outcome;
                }
                Ok(Ok(n)) => buf.extend_from_slice(&self.read_buf[..n]),
                Ok(Err(e)) => {
                    self.tcp_end = Some(TcpEnd::Reset);
                    self.trace.events.push(TraceEvent::TcpEnd(TcpEnd::Reset));
                    outcome.error = Some(format!("reading the response failed: {e}"));
                    return outcome;
                }
            }
        };
        self.early = buf[head.head_len..].to_vec();
        self.trace_response(&head);
        match handshake::validate_response(&head, offer) {
            Ok(negotiated) => outcome.negotiated = Some(negotiated),
            Err(violations) => outcome.violations = violations,
        }
        outcome.response = Some(head);
        outcome
    }

    /// The connection's trace, with a note for elided frames and for writes that failed.
    ///
    /// A write that fails because the server had already sent its close frame or closed TCP
    /// is explained by that, and whether it fails at all depends on timing (the server's
    /// reset may or may not arrive before the last write): such failures stay out of the
    /// trace, so it is the same in every run. Writes that failed while the server had not
    /// closed are noted at the end.
    pub fn trace(&self) -> ConnectionTrace {
        let mut t = self.trace.clone();
        let server_closed = self.browser.close_received().is_some() || self.session.peer_ended();
        if !server_closed {
            for e in &self.write_errors {
                t.events.push(TraceEvent::Note(e.clone()));
            }
        }
        if self.elided > 0 {
            t.events.push(TraceEvent::Note(format!(
                "{} more frames not traced",
                self.elided
            )));
        }
        t
    }

    /// When bytes last arrived from the server (or a write last made progress): the idle
    /// timeout counts from here.
    pub fn last_activity(&self) -> Instant {
        self.last_activity
    }

    /// Records a marker if the connection is still OPEN (Autobahn's timeout markers).
    pub async fn mark(&mut self, name: &str) {
        // Take in whatever has already arrived, so the marker lands after it.
        self.pump(Instant::now() + Duration::from_millis(1)).await;
        if self.browser.state() == crate::trace::ReadyState::Open {
            self.observations
                .push(Observation::Marker(name.to_string()));
            self.trace.events.push(TraceEvent::Marker(name.to_string()));
        }
    }

    /// Sends frames as one byte stream cut into `writes` sizes (empty: one write per frame
    /// when `per_frame`, else everything at once), recording each frame in the trace.
    pub async fn send_frames(
        &mut self,
        specs: &[FrameSpec],
        chop: &WriteShape,
        delay: Option<Duration>,
        deadline: Instant,
    ) {
        let mut bytes = Vec::new();
        let mut bounds = Vec::new();
        for spec in specs {
            spec.encode_into(&mut bytes);
            bounds.push(bytes.len());
            let header = spec.header();
            if header.opcode == Opcode::Close {
                self.note_close_sent(&spec.payload);
            }
            let compressed = self.sent_compressed.on_frame(&header);
            let dir = self.session.out_dir();
            self.push_trace(TraceEvent::Frame {
                dir,
                header,
                preview: if compressed {
                    compressed_preview(spec.payload.len())
                } else {
                    frame_preview(spec.opcode, &spec.payload)
                },
            });
        }
        self.sync_trace();
        let sizes = chop.sizes(&bounds, bytes.len());
        if let Err(e) = self.write_chunks(&bytes, &sizes, delay, deadline).await {
            self.write_errors.push(e);
        }
    }

    /// Sends raw bytes verbatim.
    pub async fn send_raw(
        &mut self,
        bytes: &[u8],
        chop: &WriteShape,
        delay: Option<Duration>,
        deadline: Instant,
    ) {
        self.trace.events.push(TraceEvent::RawSent {
            len: bytes.len(),
            preview: preview(bytes),
        });
        let sizes = chop.sizes(&[bytes.len()], bytes.len());
        if let Err(e) = self.write_chunks(bytes, &sizes, delay, deadline).await {
            self.write_errors.push(e);
        }
    }

    /// The browser API's `close(code, reason)`.
    pub async fn close_call(&mut self, code: Option<u16>, reason: &str, deadline: Instant) {
        match self.browser.close_called() {
            CloseAction::SendClose => {
                let payload = match code {
                    Some(c) => ClosePayload::Code {
                        code: c,
                        reason: reason.as_bytes().to_vec(),
                    },
                    None => ClosePayload::Empty,
                };
                let mut spec = FrameSpec::new(Opcode::Close, payload.to_bytes());
                spec.mask = self.session.out_mask();
                self.send_frames(&[spec], &WriteShape::Whole, None, deadline)
                    .await;
            }
            CloseAction::Abort => {
                self.drop_tcp();
                self.sync_trace();
            }
            CloseAction::Nothing => {}
        }
    }

    /// Writes `bytes` in writes of `sizes` (the rest in one write), reading and processing
    /// whatever the server sends meanwhile so neither side can block the other.
    async fn write_chunks(
        &mut self,
        bytes: &[u8],
        sizes: &[usize],
        delay: Option<Duration>,
        deadline: Instant,
    ) -> Result<(), String> {
        let Some(mut stream) = self.stream.take() else {
            return Err("not sent: the connection is closed".into());
        };
        let mut buf = std::mem::take(&mut self.read_buf);
        let mut result = Ok(());
        let mut offset = 0;
        let mut size_iter = sizes.iter();
        let mut reading =
            self.tcp_end.is_none() && self.browser.state() != crate::trace::ReadyState::Connecting;
        let budget = self.lease.budget();
        'chunks: while offset < bytes.len() {
            let size = size_iter.next().copied().unwrap_or(bytes.len() - offset);
            let end = (offset + size.max(1)).min(bytes.len());
            let mut written = offset;
            while written < end {
                // Reading waits while the run's memory budget cannot take what it brings.
                let changed = budget.changed();
                let may_read = reading && self.memory_ready();
                let memory_retry = (Instant::now() + budget::RETRY).min(deadline);
                // Checked first: a server that floods while never reading keeps the read
                // branch ready forever, and `biased` would never reach the timer.
                // A write that makes no progress while nothing arrives either ends at the
                // idle timeout, not only at the (possibly long) deadline.
                let stall = deadline.min(self.last_activity + self.idle_timeout);
                let step = if Instant::now() >= stall {
                    Step::Timeout
                } else {
                    tokio::select! {
                        biased;
                        s = write_or_read(&mut stream, &bytes[written..end], &mut buf, may_read) => s,
                        _ = timeout_at(memory_retry, changed), if reading && !may_read => Step::Memory,
                        _ = tokio::time::sleep_until(stall) => Step::Timeout,
                    }
                };
                match step {
                    Step::Wrote(Ok(0)) | Step::Wrote(Err(_)) => {
                        result = Err(format!(
                            "write failed after {written} of {} bytes: the connection is closed",
                            bytes.len()
                        ));
                        break 'chunks;
                    }
                    Step::Wrote(Ok(n)) => {
                        self.last_activity = Instant::now();
                        written += n;
                    }
                    Step::Memory => {}
                    Step::Read(Ok(0)) => {
                        reading = false;
                        self.on_eof();
                    }
                    Step::Read(Ok(n)) => {
                        self.last_activity = Instant::now();
                        self.process(&buf[..n]);
                    }
                    Step::Read(Err(e)) => {
                        reading = false;
                        self.on_read_error(&e);
                    }
                    Step::Timeout => {
                        result = Err(if Instant::now() < deadline {
                            format!(
                                "write stalled after {written} of {} bytes: nothing moved for {}",
                                bytes.len(),
                                crate::suite::format_duration(self.idle_timeout)
                            )
                        } else {
                            format!("write timed out after {written} of {} bytes", bytes.len())
                        });
                        break 'chunks;
                    }
                }
            }
            offset = end;
            if let Some(d) = delay
                && offset < bytes.len()
            {
                let _ = stream.flush().await;
                // The deadline bounds the pauses too: a suite's `delay` × chunks must not
                // outlast the case.
                let until = (Instant::now() + d).min(deadline);
                tokio::time::sleep_until(until).await;
                if until >= deadline {
                    result = Err(format!(
                        "write timed out after {offset} of {} bytes",
                        bytes.len()
                    ));
                    break 'chunks;
                }
            }
        }
        let _ = stream.flush().await;
        self.read_buf = buf;
        if self.tcp_end.is_none() {
            self.stream = Some(stream);
        }
        self.flush_pending(deadline).await;
        result
    }

    /// Writes queued control frames (pongs, close answers).
    async fn flush_pending(&mut self, deadline: Instant) {
        if self.pending.is_empty() || self.browser.state() == crate::trace::ReadyState::Connecting {
            return;
        }
        let bytes = std::mem::take(&mut self.pending);
        if let Some(stream) = self.stream.as_mut() {
            let _ = timeout_at(deadline, async {
                stream.write_all(&bytes).await?;
                stream.flush().await
            })
            .await;
        }
    }

    /// Reads once (or until `deadline`) and processes what arrived. Returns false on timeout
    /// or when the connection is already closed.
    pub async fn pump(&mut self, deadline: Instant) -> bool {
        // A server that always has more to send keeps the read ready, so the deadline is
        // checked here rather than left to the timer (callers loop while this returns true).
        if self.tcp_end.is_some() || Instant::now() >= deadline {
            return false;
        }
        if self.stream.is_none() {
            return false;
        }
        // Frames whose decoding waited for memory come first; nothing is read until what it
        // brings can be kept (TCP then holds the server back).
        let was_paused = self.paused;
        if !self.wait_for_memory(deadline).await {
            return false;
        }
        if was_paused {
            self.flush_pending(deadline).await;
            return true;
        }
        let Some(stream) = self.stream.as_mut() else {
            return false;
        };
        let result = timeout_at(deadline, stream.read(&mut self.read_buf)).await;
        match result {
            Err(_) => return false,
            Ok(Ok(0)) => self.on_eof(),
            Ok(Ok(n)) => {
                self.last_activity = Instant::now();
                let data = self.read_buf[..n].to_vec();
                self.process(&data);
            }
            Ok(Err(e)) => self.on_read_error(&e),
        }
        self.take_h2_findings();
        self.flush_pending(deadline).await;
        true
    }

    /// What the tap on this WebSocket's HTTP/2 connection found since the last call (the
    /// connection's SETTINGS, ACKs and GOAWAY; [`crate::net::h2tap`]) becomes this
    /// connection's violations.
    pub fn take_h2_findings(&mut self) {
        if let Some(client) = &self.h2_client {
            let found = client.tap().take_findings();
            if !found.is_empty() {
                self.session.record_violations(found);
            }
        }
    }

    /// Waits until the connection may read (see [`Connection::memory_ready`]); false when
    /// `deadline` passes first.
    async fn wait_for_memory(&mut self, deadline: Instant) -> bool {
        let budget = self.lease.budget();
        loop {
            let changed = budget.changed();
            if self.memory_ready() {
                return true;
            }
            let until = (Instant::now() + budget::RETRY).min(deadline);
            let _ = timeout_at(until, changed).await;
            if Instant::now() >= deadline {
                // Remembered, so that a step which times out meanwhile is not read as a silent
                // server (exec says so in the failure). Not a trace note: whether another case
                // holds the memory at this moment is timing, and traces must not depend on it.
                self.memory_noted = true;
                return false;
            }
        }
    }

    /// Ends the connection the way a browser page calling `close()` at the end would: start
    /// the closing handshake if it is still open, then wait for the server to close TCP;
    /// drop TCP at `deadline` if it does not.
    pub async fn finish(&mut self, deadline: Instant) {
        if self.tcp_end.is_none() && self.browser.state() == crate::trace::ReadyState::Open {
            self.close_call(Some(1000), "", deadline).await;
        }
        // As the server that failed the connection (§7.1.7), send the close frame and close
        // TCP at once: what the client sends after its violation is not read anyway.
        if self.session.role == Role::Server && self.session.failed {
            self.flush_pending(deadline).await;
            self.drop_tcp();
            return;
        }
        // As the client, wait for the server to close TCP; as the server, for the client's
        // close frame, then close TCP first (RFC 6455 §7.1.1).
        while self.tcp_end.is_none()
            && !(self.session.role == Role::Server && self.browser.close_received().is_some())
        {
            if !self.pump(deadline).await {
                break;
            }
        }
        self.take_h2_findings();
        self.drop_tcp();
    }
}

enum Step {
    Memory,
    Wrote(std::io::Result<usize>),
    Read(std::io::Result<usize>),
    Timeout,
}

/// Writes `data` or reads into `buf` (when `may_read`), whichever the stream can do first; the
/// write is tried first. One stream serves both, so this works for TLS as for TCP (a TLS
/// stream cannot be split into halves that poll independently).
async fn write_or_read(stream: &mut Stream, data: &[u8], buf: &mut [u8], may_read: bool) -> Step {
    use std::pin::Pin;
    use std::task::Poll;
    use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
    std::future::poll_fn(|cx| {
        if let Poll::Ready(r) = Pin::new(&mut *stream).poll_write(cx, data) {
            return Poll::Ready(Step::Wrote(r));
        }
        if may_read {
            let mut rb = ReadBuf::new(buf);
            if let Poll::Ready(r) = Pin::new(&mut *stream).poll_read(cx, &mut rb) {
                return Poll::Ready(Step::Read(r.map(|()| rb.filled().len())));
            }
        }
        Poll::Pending
    })
    .await
}

/// A handshake response wsprobe writes as the server.
struct Response {
    head: Vec<u8>,
    after: Vec<u8>,
}

/// The response `respond` describes to a request with `key` (a correct 101 by default).
fn build_response(key: &str, respond: Option<&Respond>, extension: Option<String>) -> Response {
    let accept = handshake::accept_for_key(key);
    let default = Respond::default();
    let r = respond.unwrap_or(&default);
    let after = r.after.as_ref().map(|p| p.to_bytes()).unwrap_or_default();
    if let Some(raw) = &r.raw {
        return Response {
            head: Respond::fill(raw, key).into_bytes(),
            after,
        };
    }
    let omitted = |name: &str| r.omit.iter().any(|o| o.eq_ignore_ascii_case(name));
    let status = r.status.unwrap_or(101);
    let reason = r.reason.clone().unwrap_or_else(|| {
        if status == 101 {
            "Switching Protocols".into()
        } else {
            handshake::reason_phrase(status).into()
        }
    });
    let version = r.http_version.as_deref().unwrap_or("HTTP/1.1");
    let mut out = format!("{version} {status} {reason}\r\n");
    if !omitted("upgrade") {
        out.push_str("Upgrade: websocket\r\n");
    }
    if !omitted("connection") {
        out.push_str("Connection: Upgrade\r\n");
    }
    if !omitted("accept") {
        let value = match &r.accept {
            Some(v) => Respond::fill(v, key),
            None => accept,
        };
        out.push_str(&format!("Sec-WebSocket-Accept: {value}\r\n"));
    }
    if let Some(p) = &r.protocol {
        out.push_str(&format!("Sec-WebSocket-Protocol: {p}\r\n"));
    }
    match (&r.extensions, extension) {
        (Some(items), _) if !items.is_empty() => {
            out.push_str(&format!(
                "Sec-WebSocket-Extensions: {}\r\n",
                items.join(", ")
            ));
        }
        (None, Some(item)) => out.push_str(&format!("Sec-WebSocket-Extensions: {item}\r\n")),
        _ => {}
    }
    for (name, value) in &r.headers {
        out.push_str(&format!("{name}: {}\r\n", Respond::fill(value, key)));
    }
    out.push_str("\r\n");
    Response {
        head: out.into_bytes(),
        after,
    }
}

/// How the bytes of a send are cut into TCP writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteShape {
    /// One write.
    Whole,
    /// One write per frame.
    PerFrame,
    /// Writes of at most N bytes.
    Size(usize),
    /// Writes of these sizes, then the rest.
    Sizes(Vec<usize>),
}

impl WriteShape {
    /// Write sizes for a buffer of `total` bytes whose frames end at `bounds`.
    pub fn sizes(&self, bounds: &[usize], total: usize) -> Vec<usize> {
        match self {
            WriteShape::Whole => vec![total],
            WriteShape::PerFrame => {
                let mut prev = 0;
                bounds
                    .iter()
                    .map(|&b| {
                        let s = b - prev;
                        prev = b;
                        s
                    })
                    .collect()
            }
            WriteShape::Size(n) => {
                let n = (*n).max(1);
                let count = total.div_ceil(n);
                (0..count).map(|i| n.min(total - i * n)).collect()
            }
            WriteShape::Sizes(v) => v.clone(),
        }
    }
}
