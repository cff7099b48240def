//! What the capture dissector reports, in capture order: connections, HTTP messages, the
//! opening handshake, WebSocket frames and messages, violations, gaps, TCP ends and warnings.
//!
//! Events borrow payloads from the dissector's buffers; a [`Sink`] renders or counts them as
//! they come, so nothing accumulates with the size of the capture.

use std::net::SocketAddr;

use crate::wire::h2::FrameHeader as H2Header;
use crate::wire::{Direction, FrameHeader, Level, Opcode, Violation};

use super::reassembly::GapKind;

/// Receives events as the capture is dissected.
pub trait Sink {
    /// Called once per event, in capture order.
    fn event(&mut self, event: &Event<'_>);
}

/// A sink that drops everything (for `overhead`).
#[derive(Debug, Default)]
pub struct Discard;

impl Sink for Discard {
    fn event(&mut self, _event: &Event<'_>) {}
}

/// Where and when an event happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct At {
    /// Connection index, counted from 0 in order of appearance like tshark's `tcp.stream`.
    pub conn: u32,
    /// The packet that completed what is reported (tshark reports a PDU at its last packet).
    pub packet: u64,
    /// Nanoseconds since the first packet of the capture.
    pub time_ns: i128,
    /// The HTTP/2 stream the event belongs to (RFC 8441: a WebSocket on an extended CONNECT
    /// stream, or a frame on a stream); `None` on HTTP/1.1 connections and for stream 0.
    pub stream: Option<u32>,
}

/// How the client and server ends of a connection were told apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleSource {
    /// The endpoint that sent the SYN is the client.
    Syn,
    /// `--port`: the endpoint on that port is the server.
    PortOption,
    /// No SYN: the endpoint with the lower port is taken as the server.
    LowerPort,
}

/// A connection appeared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionEvent {
    /// Where.
    pub at: At,
    /// The client end.
    pub client: SocketAddr,
    /// The server end.
    pub server: SocketAddr,
    /// How the roles were decided.
    pub roles: RoleSource,
}

/// What an HTTP message's body length is declared as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    /// No body.
    None,
    /// `Content-Length`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Until the connection closes.
    UntilClose,
}

/// An HTTP/1.x request or response head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpEvent<'a> {
    /// Where; the packet carries the head's last byte.
    pub at: At,
    /// Request or response.
    pub dir: Direction,
    /// The start line, e.g. `GET /poll HTTP/1.1` or `HTTP/1.1 200 OK`.
    pub start_line: &'a str,
    /// Head length in bytes, blank line included.
    pub head_len: u64,
    /// How the body is delimited.
    pub body: BodyKind,
    /// Whether the message asks for (request) or grants (101 response) a WebSocket upgrade.
    pub upgrade: bool,
    /// The header fields in order, names as sent.
    pub headers: &'a [(String, Vec<u8>)],
}

/// permessage-deflate parameters (RFC 7692 §7.1) as agreed
/// ([`crate::wire::deflate::Negotiated`]): the response's, with the client's own offered hints
/// (`client_no_context_takeover`, `client_max_window_bits=N`) counting as promises.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeflateParams {
    /// `server_no_context_takeover`.
    pub server_no_context_takeover: bool,
    /// `client_no_context_takeover` (answered, or offered by the client).
    pub client_no_context_takeover: bool,
    /// `server_max_window_bits` (15 when absent).
    pub server_max_window_bits: u8,
    /// `client_max_window_bits`: the answered value or the client's offered one, whichever is
    /// smaller (15 when neither).
    pub client_max_window_bits: u8,
}

/// The opening handshake completed (a 101 was seen after an upgrade request).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandshakeEvent<'a> {
    /// Where; the packet carries the response's last byte.
    pub at: At,
    /// The request line.
    pub request: &'a str,
    /// The packet that completed the request.
    pub request_packet: u64,
    /// The status line.
    pub response: &'a str,
    /// Whether Sec-WebSocket-Accept matched the key (RFC 6455 §4.1); false when `cut`.
    pub accept_ok: bool,
    /// A head was cut by the snaplen: only the start lines were captured, so the Accept, the
    /// subprotocol and the extensions are unknown.
    pub cut: bool,
    /// The selected subprotocol.
    pub protocol: Option<&'a str>,
    /// Accepted extension items as sent.
    pub extensions: &'a [String],
    /// permessage-deflate, when negotiated.
    pub deflate: Option<DeflateParams>,
}

/// One WebSocket frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameEvent<'a> {
    /// Where; the packet carries the frame's last byte.
    pub at: At,
    /// Direction.
    pub dir: Direction,
    /// The packet that carried the frame's first byte.
    pub first_packet: u64,
    /// The header as on the wire.
    pub header: FrameHeader,
    /// Header length, mask key included.
    pub header_len: u64,
    /// The unmasked payload, still compressed for permessage-deflate. Bytes not captured are
    /// zeros here and counted in `missing`. Empty when the payload was above the limit.
    pub payload: &'a [u8],
    /// Payload bytes not captured (snaplen or loss).
    pub missing: u64,
    /// Where they are: `[start, end)` payload offsets, ascending. Those bytes of `payload` are
    /// zeros that were never on the wire: outputs mark them and no rule reads them.
    pub missing_ranges: &'a [(u64, u64)],
    /// Whether the payload was above the decoder's limit and not kept.
    pub oversized: bool,
}

/// Whether and how a message's data was inflated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inflation {
    /// Not compressed.
    Plain,
    /// Compressed with permessage-deflate and inflated.
    Inflated,
    /// Compressed but could not be inflated; the reason in lower case.
    Failed(String),
}

/// A whole message: a data message reassembled from its fragments, or a control frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageEvent<'a> {
    /// Where; the packet carries the last frame's last byte.
    pub at: At,
    /// Direction.
    pub dir: Direction,
    /// Text, binary, or a control opcode.
    pub opcode: Opcode,
    /// Number of frames.
    pub frames: u32,
    /// Payload bytes on the wire, summed over the frames.
    pub wire_len: u64,
    /// The message data, inflated when it was compressed and inflation worked.
    pub data: &'a [u8],
    /// `[start, end)` ranges of `data` that were not captured (zeros here), ascending.
    pub missing: &'a [(u64, u64)],
    /// Compression status.
    pub inflation: Inflation,
    /// Whether some of the data was not captured or exceeded the limit.
    pub incomplete: bool,
}

/// What a gap in a TCP stream did to the decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GapEffect {
    /// It fell inside a payload of known length: skipped, decoding continues.
    SkippedInPayload,
    /// It ended exactly at a frame boundary: decoding resumes after it if the next bytes start
    /// a plausible frame header (whole frames were lost).
    AtFrameBoundary,
    /// It hit a frame header or an HTTP head: this direction is not decoded any further.
    StreamLost,
    /// It fell in bytes nobody decodes (an HTTP body, an unknown protocol).
    Harmless,
}

/// A range of a TCP stream that is not in the capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GapEvent {
    /// Where.
    pub at: At,
    /// Direction.
    pub dir: Direction,
    /// Stream offset of the first missing byte.
    pub offset: u64,
    /// Missing bytes.
    pub len: u64,
    /// Cut by the snaplen, or not captured at all.
    pub kind: GapKind,
    /// What it did to decoding.
    pub effect: GapEffect,
}

/// How one direction of a TCP connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpEndKind {
    /// FIN.
    Fin,
    /// RST.
    Rst,
}

/// A FIN or RST.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpEndEvent {
    /// Where.
    pub at: At,
    /// Who sent it.
    pub dir: Direction,
    /// FIN or RST.
    pub kind: TcpEndKind,
}

/// A violation found by `wire::rules` or the handshake validators.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViolationEvent<'a> {
    /// Where.
    pub at: At,
    /// Which side broke the rule.
    pub dir: Direction,
    /// The finding.
    pub violation: &'a Violation,
}

/// A one-line warning about the input (a packet that cannot be used, a truncated file, a
/// connection that is not HTTP or WebSocket).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WarningEvent<'a> {
    /// The packet concerned, if any.
    pub packet: Option<u64>,
    /// The connection concerned, if any.
    pub conn: Option<u32>,
    /// Lower-case message.
    pub message: &'a str,
}

/// A TLS connection: what its hellos said and whether its content is decrypted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsEvent<'a> {
    /// Where: the ServerHello's packet, or the server's Finished when TLS 1.3 is decrypted
    /// (the chosen ALPN is only known then), or the connection's end without a ServerHello.
    pub at: At,
    /// The server name the client asked for (SNI).
    pub sni: Option<&'a str>,
    /// The negotiated version (0x0304 for TLS 1.3), when a ServerHello was seen.
    pub version: Option<u16>,
    /// The chosen cipher suite.
    pub suite: Option<u16>,
    /// The chosen ALPN protocol, when known.
    pub alpn: Option<&'a str>,
    /// The ALPN protocols the client offered.
    pub offered_alpn: &'a [String],
    /// Why the content is not decrypted; `None` when it is.
    pub not_decrypted: Option<&'a str>,
}

/// One HTTP/2 frame of an h2c connection (RFC 9113 §4.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct H2FrameEvent<'a> {
    /// Where; the packet carries the frame's last byte; `at.stream` is the frame's stream
    /// (`None` for stream 0).
    pub at: At,
    /// Direction.
    pub dir: Direction,
    /// The 9-octet header as on the wire.
    pub header: H2Header,
    /// What the payload says, in lower case: settings by name, error codes, increments, the
    /// length of data; empty when nothing more is worth saying.
    pub summary: &'a str,
    /// The decoded field block, on the frame that ended it (END_HEADERS): names and values as
    /// decoded. Empty for other frames and when the block could not be decoded.
    pub fields: &'a [(String, String)],
}

/// A rule of HTTP/2 (RFC 9113), HPACK (RFC 7541), RFC 8441 or RFC 9110 broken on an h2c
/// connection. `rule` is the checklist id of `docs/http2.md`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct H2FindingEvent<'a> {
    /// Where.
    pub at: At,
    /// Which side broke the rule.
    pub dir: Direction,
    /// Checklist id, e.g. `h2ws.ws.no-content-length`.
    pub rule: &'static str,
    /// The RFC section, e.g. `RFC 9110 §9.3.6`.
    pub section: &'a str,
    /// How strongly the RFC words it.
    pub level: Level,
    /// Specifics, lower case.
    pub detail: &'a str,
}

/// Everything the dissector reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A connection appeared.
    Connection(&'a ConnectionEvent),
    /// An HTTP head.
    Http(HttpEvent<'a>),
    /// The opening handshake completed.
    Handshake(HandshakeEvent<'a>),
    /// A WebSocket frame.
    Frame(FrameEvent<'a>),
    /// A WebSocket message.
    Message(MessageEvent<'a>),
    /// A protocol violation.
    Violation(ViolationEvent<'a>),
    /// Missing bytes in a stream.
    Gap(GapEvent),
    /// FIN or RST.
    TcpEnd(TcpEndEvent),
    /// A warning.
    Warning(WarningEvent<'a>),
    /// A TLS connection's parameters.
    Tls(TlsEvent<'a>),
    /// An HTTP/2 frame (h2c).
    H2Frame(H2FrameEvent<'a>),
    /// An HTTP/2-level finding (h2c).
    H2Finding(H2FindingEvent<'a>),
}

impl Event<'_> {
    /// The connection the event belongs to, if any.
    pub fn conn(&self) -> Option<u32> {
        match self {
            Event::Connection(e) => Some(e.at.conn),
            Event::Http(e) => Some(e.at.conn),
            Event::Handshake(e) => Some(e.at.conn),
            Event::Frame(e) => Some(e.at.conn),
            Event::Message(e) => Some(e.at.conn),
            Event::Violation(e) => Some(e.at.conn),
            Event::Gap(e) => Some(e.at.conn),
            Event::TcpEnd(e) => Some(e.at.conn),
            Event::Warning(e) => e.conn,
            Event::Tls(e) => Some(e.at.conn),
            Event::H2Frame(e) => Some(e.at.conn),
            Event::H2Finding(e) => Some(e.at.conn),
        }
    }

    /// Where the event happened, for the events that say.
    pub fn at(&self) -> Option<At> {
        match self {
            Event::Connection(e) => Some(e.at),
            Event::Http(e) => Some(e.at),
            Event::Handshake(e) => Some(e.at),
            Event::Frame(e) => Some(e.at),
            Event::Message(e) => Some(e.at),
            Event::Violation(e) => Some(e.at),
            Event::Gap(e) => Some(e.at),
            Event::TcpEnd(e) => Some(e.at),
            Event::Tls(e) => Some(e.at),
            Event::H2Frame(e) => Some(e.at),
            Event::H2Finding(e) => Some(e.at),
            Event::Warning(_) => None,
        }
    }

    /// The direction the event belongs to, if any.
    pub fn dir(&self) -> Option<Direction> {
        match self {
            Event::Http(e) => Some(e.dir),
            Event::Frame(e) => Some(e.dir),
            Event::Message(e) => Some(e.dir),
            Event::Violation(e) => Some(e.dir),
            Event::Gap(e) => Some(e.dir),
            Event::TcpEnd(e) => Some(e.dir),
            Event::H2Frame(e) => Some(e.dir),
            Event::H2Finding(e) => Some(e.dir),
            Event::Connection(_) | Event::Handshake(_) | Event::Warning(_) | Event::Tls(_) => None,
        }
    }
}

/// A preview of `data` (as [`crate::trace::preview`] gives it) in which the bytes of the
/// `missing` ranges are not shown as the zeros that stand in for them but as
/// `[N bytes not captured]`.
pub fn preview_with_missing(data: &[u8], missing: &[(u64, u64)]) -> String {
    use crate::trace::{PREVIEW_BYTES, preview};
    if missing.is_empty() {
        return preview(data);
    }
    let window = data.len().min(PREVIEW_BYTES);
    let mut out = String::new();
    let mut at = 0usize;
    for &(start, end) in missing {
        let (start, end) = (start as usize, (end as usize).min(data.len()));
        if start >= window {
            break;
        }
        if start > at {
            out.push_str(&preview(&data[at..start]));
        }
        out.push_str(&format!(
            "[{} bytes not captured]",
            end.saturating_sub(start)
        ));
        at = end;
    }
    if at < window {
        out.push_str(&preview(&data[at..window]));
    }
    if data.len() > window {
        out.push_str(&format!("…({} bytes)", data.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::preview_with_missing;

    #[test]
    fn missing_bytes_are_marked_not_shown_as_zeros() {
        let mut data = b"abcdef".to_vec();
        data[2..4].fill(0);
        assert_eq!(preview_with_missing(&data, &[]), "ab\\u{0}\\u{0}ef");
        assert_eq!(
            preview_with_missing(&data, &[(2, 4)]),
            "ab[2 bytes not captured]ef"
        );
        let long = vec![b'x'; 200];
        assert_eq!(
            preview_with_missing(&long, &[(1, 150), (160, 170)]),
            "x[149 bytes not captured]…(200 bytes)"
        );
    }
}
