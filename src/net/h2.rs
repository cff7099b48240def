//! WebSockets over HTTP/2 (RFC 8441): an extended CONNECT stream as the byte stream a
//! WebSocket session runs on. The `h2` crate speaks HTTP/2 (RFC 9113); this module opens the
//! connection (h2c with prior knowledge for `ws://`, ALPN `h2` for `wss://`), waits for the
//! server's SETTINGS, sends the extended CONNECT and turns the stream's DATA frames into an
//! [`H2Stream`] that reads and writes like TCP. `docs/http2.md` is the checklist this follows.
//!
//! **End of stream.** END_STREAM from the peer reads as end of file (RFC 8441 §5 maps TCP's
//! FIN onto it); shutting the write side sends an empty DATA frame with END_STREAM; a reset
//! stream (RST_STREAM, or the connection's GOAWAY or loss) reads as `ConnectionReset` with the
//! HTTP/2 error code in the message; dropping an [`H2Stream`] that is still open resets it
//! with CANCEL, the abortive close of RFC 8441 §5.
//!
//! **Writes keep their DATA frame.** Each write becomes one or more DATA frames (split by the
//! flow-control window and the peer's SETTINGS_MAX_FRAME_SIZE), never merged with another
//! write's; the connection task coalesces frames into TCP writes, so over HTTP/2 a chopped
//! WebSocket frame stays chopped in DATA frames, not in TCP segments.
//!
//! **Flow control.** A read releases its bytes' window at once, so a peer sending a large
//! message is never stalled by wsprobe; a write sends at most the capacity `h2` assigned to the
//! stream, so `h2` never buffers more than the peer's window allows (RFC 9113 §5.2).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use h2::server::SendResponse;
use h2::{Reason, RecvStream, SendStream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout_at};

use super::Stream;
use super::tls::SessionInfo;

/// The ALPN token of HTTP/2 over TLS (RFC 9113 §3.2).
pub const ALPN_H2: &[u8] = b"h2";

/// The client connection preface (RFC 9113 §3.4).
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The receive window of wsprobe's client connections. Each stream keeps HTTP/2's default
/// 65,535-octet window, so a WebSocket a case is not reading holds at most that much; the
/// connection's window is large enough that such streams never block the others' data
/// (RFC 9113 §5.2: both windows limit, so a connection window of only 65,535 would let one
/// unread stream stall every WebSocket on the connection).
const CLIENT_CONNECTION_WINDOW: u32 = 16 * 1024 * 1024;

/// How a read error says that trailers arrived on a WebSocket's stream.
pub const TRAILERS: &str = "TRAILERS";

/// How long a connection whose last stream is gone may take to say goodbye before its task
/// is aborted.
const LINGER: Duration = Duration::from_secs(2);

/// The driver task of one HTTP/2 connection, aborted (after [`LINGER`]) once nothing uses it.
#[derive(Debug)]
pub struct ConnTask(Option<JoinHandle<()>>);

impl ConnTask {
    fn new(handle: JoinHandle<()>) -> Arc<ConnTask> {
        Arc::new(ConnTask(Some(handle)))
    }
}

impl Drop for ConnTask {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            // Without a runtime (process exit) the task dies with it anyway.
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    tokio::time::sleep(LINGER).await;
                    handle.abort();
                });
            }
        }
    }
}

/// Deliberate defects of a stream's ending, for the reference server's HTTP/2 faults
/// (`serve --http2 --fault h2-…`); the default is the correct behaviour.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Quirks {
    /// Shutting down sends nothing: the stream is never ended (RFC 8441 §5 wants END_STREAM).
    pub no_end_stream: bool,
    /// Shutting down resets the stream with this code instead of ending it.
    pub reset_on_close: Option<Reason>,
    /// Shutting down sends a trailer HEADERS frame (RFC 9113 §8.5 forbids it on a tunnel).
    pub trailers_on_close: bool,
    /// Reads never give window back: the peer stalls after 65,535 bytes (RFC 9113 §6.9).
    pub hold_window: bool,
}

/// One HTTP/2 stream carrying a WebSocket, as a byte stream.
#[derive(Debug)]
pub struct H2Stream {
    /// `None` until the response is sent ([`H2Stream::responding`]).
    send: Option<SendStream<Bytes>>,
    /// An accepted request whose response is still to be written as an HTTP/1.1 head.
    respond: Option<Responding>,
    recv: RecvStream,
    /// Received bytes not yet handed out.
    pending: Bytes,
    /// END_STREAM arrived.
    read_done: bool,
    /// END_STREAM was sent.
    write_done: bool,
    peer: SocketAddr,
    tls: Option<SessionInfo>,
    /// Keeps the client connection's task alive while the stream is.
    _conn: Option<Arc<ConnTask>>,
    quirks: Quirks,
}

impl H2Stream {
    /// Wraps an accepted or opened stream.
    pub fn new(
        send: SendStream<Bytes>,
        recv: RecvStream,
        peer: SocketAddr,
        tls: Option<SessionInfo>,
    ) -> H2Stream {
        H2Stream {
            send: Some(send),
            respond: None,
            recv,
            pending: Bytes::new(),
            read_done: false,
            write_done: false,
            peer,
            tls,
            _conn: None,
            quirks: Quirks::default(),
        }
    }

    /// An accepted extended CONNECT whose response is not sent yet: the first bytes written
    /// must be an HTTP/1.1 response head, which goes out as the HTTP/2 response
    /// ([`h2_response_fields`]: 101 becomes 200, the upgrade-only fields are dropped), and
    /// what follows it as DATA. This lets the server-role engine, which answers upgrades in
    /// HTTP/1.1, answer extended CONNECTs unchanged (`run --client --http2`).
    pub fn responding(
        respond: SendResponse<Bytes>,
        recv: RecvStream,
        peer: SocketAddr,
        tls: Option<SessionInfo>,
    ) -> H2Stream {
        H2Stream {
            send: None,
            respond: Some(Responding {
                respond,
                head: Vec::new(),
            }),
            recv,
            pending: Bytes::new(),
            read_done: false,
            write_done: false,
            peer,
            tls,
            _conn: None,
            quirks: Quirks::default(),
        }
    }

    /// Writes `buf` into the pending response head; once the head is complete, sends the
    /// response and the bytes after it.
    fn write_head(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Some(r) = self.respond.as_mut() else {
            return Ok(0);
        };
        r.head.extend_from_slice(buf);
        let head = match crate::wire::handshake::parse_response(&r.head, RESPONSE_HEAD_LIMIT) {
            Ok(crate::wire::handshake::Parse::Complete(head)) => head,
            Ok(crate::wire::handshake::Parse::Partial) => return Ok(buf.len()),
            Err(e) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("the response to an extended CONNECT is not an HTTP head: {e}"),
                ));
            }
        };
        let Some(mut r) = self.respond.take() else {
            return Ok(buf.len());
        };
        let (status, fields) = h2_response_fields(&head);
        let mut response = http::Response::builder().status(status);
        for (name, value) in &fields {
            response = response.header(name.as_str(), value.as_slice());
        }
        let response = response
            .body(())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
        let mut send = r.respond.send_response(response, false).map_err(io_error)?;
        let after = r.head.split_off(head.head_len);
        if !after.is_empty() {
            send.send_data(Bytes::from(after), false)
                .map_err(io_error)?;
        }
        self.send = Some(send);
        Ok(buf.len())
    }

    /// The stream's sending half, once the response went out.
    fn sender(&mut self) -> io::Result<&mut SendStream<Bytes>> {
        self.send.as_mut().ok_or_else(|| {
            io::Error::new(io::ErrorKind::NotConnected, "the response is not sent yet")
        })
    }

    /// The same stream with deliberate defects (reference server faults only).
    pub fn with_quirks(mut self, quirks: Quirks) -> H2Stream {
        self.quirks = quirks;
        self
    }

    /// The peer's address (the HTTP/2 connection's).
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// The connection's TLS parameters, `None` for h2c.
    pub fn tls(&self) -> Option<SessionInfo> {
        self.tls.clone()
    }

    /// Resets the stream with `reason` (RFC 9113 §6.4); CANCEL is RFC 8441 §5's abortive
    /// close.
    pub fn reset(&mut self, reason: Reason) {
        match (&mut self.send, &mut self.respond) {
            (Some(send), _) => send.send_reset(reason),
            (None, Some(r)) => r.respond.send_reset(reason),
            (None, None) => {}
        }
    }

    /// Ends the sending half with END_STREAM (as a shutdown does) if it is still open.
    pub fn end(&mut self) {
        if self.write_done || self.respond.is_some() {
            return;
        }
        self.write_done = true;
        if let Some(send) = self.send.as_mut() {
            let _ = send.send_data(Bytes::new(), true);
        }
    }

    /// The stream's id.
    pub fn stream_id(&self) -> u32 {
        match (&self.send, &self.respond) {
            (Some(send), _) => u32::from(send.stream_id()),
            (None, Some(r)) => u32::from(r.respond.stream_id()),
            (None, None) => 0,
        }
    }
}

/// An `h2` error as an I/O error: resets and GOAWAYs are `ConnectionReset` (a TCP reset's
/// counterpart), with the error code's name in the message.
pub fn io_error(e: h2::Error) -> io::Error {
    let kind = if e.is_reset() || e.is_go_away() || e.is_remote() {
        io::ErrorKind::ConnectionReset
    } else if e.is_io() {
        return e
            .into_io()
            .unwrap_or_else(|| io::Error::other("HTTP/2 I/O error"));
    } else {
        io::ErrorKind::Other
    };
    let what = match (e.reason(), e.is_go_away()) {
        // `h2` itself ended the stream or connection: the peer broke HTTP/2, and the error
        // is wsprobe's answer, not the peer's word.
        (Some(reason), go_away) if e.is_library() => format!(
            "wsprobe's HTTP/2 layer sent {} {} because the server broke RFC 9113",
            if go_away { "GOAWAY" } else { "RST_STREAM" },
            reason_name(reason)
        ),
        (Some(reason), true) => format!("GOAWAY {}", reason_name(reason)),
        (Some(reason), false) if e.is_reset() => format!("RST_STREAM {}", reason_name(reason)),
        _ => e.to_string(),
    };
    io::Error::new(kind, what)
}

/// The name of an HTTP/2 error code (RFC 9113 §7), hex for unknown ones.
pub fn reason_name(reason: Reason) -> String {
    crate::wire::h2::ErrorCode(u32::from(reason)).to_string()
}

impl AsyncRead for H2Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if !this.pending.is_empty() {
                let n = this.pending.len().min(buf.remaining());
                buf.put_slice(&this.pending.split_to(n));
                return Poll::Ready(Ok(()));
            }
            if this.read_done {
                return Poll::Ready(Ok(()));
            }
            match ready!(this.recv.poll_data(cx)) {
                Some(Ok(chunk)) => {
                    // Window for these bytes goes back to the peer at once (RFC 9113 §6.9).
                    if !this.quirks.hold_window {
                        let _ = this.recv.flow_control().release_capacity(chunk.len());
                    }
                    this.pending = chunk;
                }
                None => {
                    this.read_done = true;
                    // A trailer field section after the data: HEADERS on a tunnel, which
                    // RFC 9113 §8.5 forbids.
                    if let Poll::Ready(Ok(Some(_))) = this.recv.poll_trailers(cx) {
                        return Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("{TRAILERS}: a HEADERS frame ended the tunnel stream"),
                        )));
                    }
                }
                Some(Err(e)) => return Poll::Ready(Err(io_error(e))),
            }
        }
    }
}

impl AsyncWrite for H2Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if this.write_done {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "END_STREAM already sent",
            )));
        }
        if this.respond.is_some() {
            return Poll::Ready(this.write_head(buf));
        }
        let send = this.sender()?;
        let mut capacity = send.capacity();
        if capacity == 0 {
            send.reserve_capacity(buf.len());
            capacity = match ready!(send.poll_capacity(cx)) {
                Some(Ok(n)) => n,
                Some(Err(e)) => return Poll::Ready(Err(io_error(e))),
                None => {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::BrokenPipe,
                        "the stream is closed",
                    )));
                }
            };
        }
        let n = capacity.clamp(1, buf.len());
        send.send_data(Bytes::copy_from_slice(&buf[..n]), false)
            .map_err(io_error)?;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // The connection task writes queued frames as soon as it can.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.write_done {
            if this.respond.is_some() {
                // Shut down before a complete response head: nothing can be answered.
                this.reset(Reason::INTERNAL_ERROR);
                this.write_done = true;
                return Poll::Ready(Ok(()));
            }
            this.write_done = true;
            let q = this.quirks;
            let send = this.sender()?;
            if let Some(reason) = q.reset_on_close {
                send.send_reset(reason);
            } else if q.trailers_on_close {
                let mut trailers = http::HeaderMap::new();
                trailers.insert(
                    "x-wsprobe-fault",
                    http::HeaderValue::from_static("trailers"),
                );
                send.send_trailers(trailers).map_err(io_error)?;
            } else if !q.no_end_stream {
                send.send_data(Bytes::new(), true).map_err(io_error)?;
            }
        }
        Poll::Ready(Ok(()))
    }
}

/// A response head to an extended CONNECT still being written.
#[derive(Debug)]
struct Responding {
    respond: SendResponse<Bytes>,
    head: Vec<u8>,
}

/// How long a response head written into [`H2Stream::responding`] may be.
const RESPONSE_HEAD_LIMIT: usize = 64 * 1024;

/// Fields an HTTP/2 response never carries (RFC 9113 §8.2.2), or that only an HTTP/1.1
/// upgrade uses (RFC 8441 §5: no `sec-websocket-accept`).
const NOT_OVER_HTTP2: [&str; 7] = [
    "connection",
    "upgrade",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "sec-websocket-accept",
    "content-length",
];

/// The HTTP/2 response for an HTTP/1.1 response head to a WebSocket upgrade (RFC 8441 §5):
/// 101 becomes 200, and the fields an HTTP/2 response cannot or need not carry are dropped;
/// names are lowercase.
pub fn h2_response_fields(
    head: &crate::wire::handshake::ResponseHead,
) -> (u16, Vec<(String, Vec<u8>)>) {
    let status = if head.status == 101 { 200 } else { head.status };
    let fields = head
        .headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
        .filter(|(n, _)| !NOT_OVER_HTTP2.contains(&n.as_str()))
        .collect();
    (status, fields)
}

/// An extended CONNECT to send (RFC 8441 §4, §5).
#[derive(Clone, Debug)]
pub struct ConnectRequest {
    /// `:scheme`: `http` for `ws://`, `https` for `wss://`.
    pub scheme: String,
    /// `:authority`.
    pub authority: String,
    /// `:path` (with query).
    pub path: String,
    /// `:protocol`, normally `websocket`.
    pub protocol: String,
    /// Regular fields, lowercase names, in order.
    pub fields: Vec<(String, String)>,
}

/// The server's answer to an extended CONNECT.
#[derive(Clone, Debug)]
pub struct ConnectResponse {
    /// `:status`.
    pub status: u16,
    /// Regular fields in order.
    pub fields: Vec<(String, Vec<u8>)>,
    /// The response's HEADERS ended the stream.
    pub end_stream: bool,
}

/// Why an extended CONNECT got no response.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The HTTP/2 connection could not be set up (preface, SETTINGS).
    #[error("HTTP/2 connection failed: {0}")]
    Connection(String),
    /// The server did not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 §3).
    #[error(
        "the server did not send SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 §3): it does not \
         accept WebSockets over HTTP/2"
    )]
    NotEnabled,
    /// The stream was reset or the connection went away before a response.
    #[error("no response: {0}")]
    Reset(String),
    /// Nothing within the deadline.
    #[error("no response to the extended CONNECT before the timeout")]
    Timeout,
}

/// An open HTTP/2 client connection on which extended CONNECTs can be sent.
#[derive(Clone, Debug)]
pub struct ClientConn {
    send: h2::client::SendRequest<Bytes>,
    tap: super::h2tap::TapHandle,
    task: Arc<ConnTask>,
    peer: SocketAddr,
    tls: Option<SessionInfo>,
}

impl ClientConn {
    /// Starts HTTP/2 on `stream` (the preface, then SETTINGS) and waits, within `deadline`,
    /// until the server's SETTINGS have been applied: a PING is sent after wsprobe's SETTINGS
    /// and its ACK can only come after the server's first frame, its SETTINGS (RFC 9113 §3.4,
    /// §6.7), which `h2` applies before reading further.
    pub async fn handshake(stream: Stream, deadline: Instant) -> Result<ClientConn, OpenError> {
        ClientConn::open(stream, deadline, true).await
    }

    /// Starts HTTP/2 on `stream` without waiting for the server's SETTINGS: what a client
    /// that does not wait for SETTINGS_ENABLE_CONNECT_PROTOCOL does (the reference client's
    /// `h2-connect-before-settings` fault; RFC 8441 §3 forbids it).
    pub async fn handshake_without_waiting(
        stream: Stream,
        deadline: Instant,
    ) -> Result<ClientConn, OpenError> {
        ClientConn::open(stream, deadline, false).await
    }

    async fn open(stream: Stream, deadline: Instant, wait: bool) -> Result<ClientConn, OpenError> {
        let peer = stream
            .peer_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
        let tls = stream.tls();
        let (stream, tap) =
            super::h2tap::Tap::new(stream, super::h2tap::Side::Client, Default::default());
        let started = timeout_at(
            deadline,
            h2::client::Builder::new()
                .initial_connection_window_size(CLIENT_CONNECTION_WINDOW)
                .handshake(stream),
        )
        .await;
        let (send, mut connection) = match started {
            Ok(Ok(pair)) => pair,
            Ok(Err(e)) => return Err(OpenError::Connection(e.to_string())),
            Err(_) => return Err(OpenError::Timeout),
        };
        let mut ping = connection.ping_pong();
        let task = ConnTask::new(tokio::spawn(async move {
            let _ = connection.await;
        }));
        if let Some(ping) = ping.as_mut().filter(|_| wait) {
            match timeout_at(deadline, ping.ping(h2::Ping::opaque())).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Err(OpenError::Connection(e.to_string())),
                Err(_) => return Err(OpenError::Timeout),
            }
        }
        if wait {
            tap.check_settings_acked();
        }
        Ok(ClientConn {
            send,
            tap,
            task,
            peer,
            tls,
        })
    }

    /// The tap on the connection's frames: what `h2` does not report, and frames of
    /// wsprobe's own (PING, GOAWAY).
    pub fn tap(&self) -> &super::h2tap::TapHandle {
        &self.tap
    }

    /// Whether the server sent SETTINGS_ENABLE_CONNECT_PROTOCOL = 1.
    pub fn connect_protocol_enabled(&self) -> bool {
        self.send.is_extended_connect_protocol_enabled()
    }

    /// Sends an extended CONNECT and waits for the response head. A 2xx gives the stream as a
    /// [`Stream`]; any other status gives none. `require_setting` refuses to send when the
    /// server did not enable extended CONNECT (RFC 8441 §3: a client must not).
    pub async fn connect(
        &self,
        request: &ConnectRequest,
        require_setting: bool,
        deadline: Instant,
    ) -> Result<(ConnectResponse, Option<Stream>), OpenError> {
        if require_setting && !self.connect_protocol_enabled() {
            return Err(OpenError::NotEnabled);
        }
        let (response, send_stream) = self.send(request, deadline).await?;
        let response = match timeout_at(deadline, response).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return Err(OpenError::Reset(io_error(e).to_string())),
            Err(_) => return Err(OpenError::Timeout),
        };
        let (parts, recv) = response.into_parts();
        let head = ConnectResponse {
            status: parts.status.as_u16(),
            fields: parts
                .headers
                .iter()
                .map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec()))
                .collect(),
            end_stream: recv.is_end_stream(),
        };
        if !parts.status.is_success() {
            return Ok((head, None));
        }
        let mut stream = H2Stream::new(send_stream, recv, self.peer, self.tls.clone());
        stream._conn = Some(Arc::clone(&self.task));
        Ok((head, Some(Stream::h2(stream))))
    }
    /// Sends the extended CONNECT and resets its stream with CANCEL at once, without waiting
    /// for the answer: the browser API's `close()` while CONNECTING (RFC 8441 §5).
    pub async fn connect_and_cancel(
        &self,
        request: &ConnectRequest,
        deadline: Instant,
    ) -> Result<(), OpenError> {
        if !self.connect_protocol_enabled() {
            return Err(OpenError::NotEnabled);
        }
        let (_response, mut send_stream) = self.send(request, deadline).await?;
        send_stream.send_reset(Reason::CANCEL);
        Ok(())
    }

    /// Sends an extended CONNECT: the response to come and the request's stream.
    async fn send(
        &self,
        request: &ConnectRequest,
        deadline: Instant,
    ) -> Result<(h2::client::ResponseFuture, SendStream<Bytes>), OpenError> {
        let uri = format!("{}://{}{}", request.scheme, request.authority, request.path);
        let mut builder = http::Request::builder()
            .method(http::Method::CONNECT)
            .uri(uri)
            .extension(h2::ext::Protocol::from(request.protocol.as_str()));
        for (name, value) in &request.fields {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let req = builder
            .body(())
            .map_err(|e| OpenError::Connection(format!("cannot build the request: {e}")))?;
        let mut send = self.send.clone();
        let ready = timeout_at(deadline, async {
            std::future::poll_fn(|cx| send.poll_ready(cx)).await
        })
        .await;
        match ready {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(OpenError::Reset(io_error(e).to_string())),
            Err(_) => return Err(OpenError::Timeout),
        }
        let (response, send_stream) = send
            .send_request(req, false)
            .map_err(|e| OpenError::Reset(io_error(e).to_string()))?;
        Ok((response, send_stream))
    }
}
