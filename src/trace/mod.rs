//! The protocol trace model: connections made of ordered events, and its canonical rendering.
//!
//! A trace is what happened on one connection, live or captured: handshake, frames, ready-state
//! changes, browser-API events, TCP close, violations. It may use `wire` and serde only.

pub mod canonical;

use std::sync::Arc;

use crate::wire::{Direction, FrameHeader, Opcode, Violation};

/// The browser WebSocket API's readyState.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReadyState {
    /// 0: the handshake is in progress.
    Connecting,
    /// 1: open.
    Open,
    /// 2: the closing handshake is in progress.
    Closing,
    /// 3: closed or could not be opened.
    Closed,
}

impl ReadyState {
    /// The numeric value a browser reports.
    pub fn value(self) -> u8 {
        self as u8
    }

    /// Upper-case name.
    pub fn name(self) -> &'static str {
        match self {
            ReadyState::Connecting => "CONNECTING",
            ReadyState::Open => "OPEN",
            ReadyState::Closing => "CLOSING",
            ReadyState::Closed => "CLOSED",
        }
    }

    /// Parses a name (any case) or a number 0–3.
    pub fn from_name(name: &str) -> Option<ReadyState> {
        match name.trim().to_ascii_uppercase().as_str() {
            "CONNECTING" | "0" => Some(ReadyState::Connecting),
            "OPEN" | "1" => Some(ReadyState::Open),
            "CLOSING" | "2" => Some(ReadyState::Closing),
            "CLOSED" | "3" => Some(ReadyState::Closed),
            _ => None,
        }
    }
}

/// An event of the browser WebSocket API, as a page would see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BrowserEvent {
    /// `open`.
    Open,
    /// `message` with its data (text or binary).
    Message {
        /// `text` or `binary`.
        opcode: Opcode,
        /// The message data, shared with the connection's observation of the same message so
        /// a large message is held in memory once, not once per record of it.
        data: Arc<[u8]>,
    },
    /// `error`.
    Error,
    /// `close` with `code`, `reason` and `wasClean`.
    Close {
        /// The close code reported (1005 when the close frame had none, 1006 when abnormal).
        code: u16,
        /// The reason reported.
        reason: String,
        /// `wasClean`.
        was_clean: bool,
    },
}

/// Who ended the TCP connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TcpEnd {
    /// The server closed its side (FIN seen by the client).
    ClosedByServer,
    /// The client closed the connection.
    ClosedByClient,
    /// The connection was reset or failed with an I/O error.
    Reset,
}

/// One thing that happened on a connection, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceEvent {
    /// The TCP connection was opened.
    TcpOpen,
    /// The upgrade request: start line and the headers that matter, nonces redacted.
    Request {
        /// Request line, e.g. `GET /chat HTTP/1.1`.
        line: String,
        /// Headers in order, values of volatile headers redacted.
        headers: Vec<(String, String)>,
    },
    /// The handshake response.
    Response {
        /// Status line, e.g. `HTTP/1.1 101 Switching Protocols`.
        line: String,
        /// Headers in order, volatile values redacted.
        headers: Vec<(String, String)>,
    },
    /// A frame sent or received.
    Frame {
        /// Direction.
        dir: Direction,
        /// The header as on the wire.
        header: FrameHeader,
        /// A bounded, escaped preview of the unmasked payload.
        preview: String,
    },
    /// Raw bytes written that were not produced as whole frames (e.g. a `raw` send).
    RawSent {
        /// Number of bytes.
        len: usize,
        /// Escaped preview.
        preview: String,
    },
    /// readyState changed.
    State(ReadyState),
    /// A browser-API event fired.
    Event(BrowserEvent),
    /// A browser `message` event as the live runner traces it: the length and a bounded
    /// preview, not the data, so the trace of a finished case (kept until the run ends) holds
    /// no message payloads. Renders exactly like `Event(BrowserEvent::Message { .. })`.
    MessageEvent {
        /// Text or binary.
        opcode: Opcode,
        /// Length of the data in bytes.
        len: usize,
        /// [`preview`] of the data.
        preview: String,
    },
    /// A protocol violation by the peer.
    Violation(Violation),
    /// A `mark` step recorded a marker.
    Marker(String),
    /// The TCP connection ended.
    TcpEnd(TcpEnd),
    /// A free-form note (e.g. "request written in 1-byte chunks").
    Note(String),
}

/// The trace of one connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectionTrace {
    /// Connection name (`main` unless a case names more).
    pub name: String,
    /// Events in order.
    pub events: Vec<TraceEvent>,
}

/// The value a trace records for a handshake header: the nonces (`Sec-WebSocket-Key`,
/// `Sec-WebSocket-Accept`) and `Date` replaced by `[key]`, `[accept]` and `[date]`, anything else
/// as sent (invalid UTF-8 replaced). Live runs and captures both use it, so the same handshake
/// traces the same whichever side saw it.
pub fn handshake_header_value(name: &str, value: &[u8]) -> String {
    if name.eq_ignore_ascii_case("sec-websocket-key") {
        "[key]".into()
    } else if name.eq_ignore_ascii_case("sec-websocket-accept") {
        "[accept]".into()
    } else if name.eq_ignore_ascii_case("date") {
        "[date]".into()
    } else {
        String::from_utf8_lossy(value).into_owned()
    }
}

/// Largest payload prefix shown in previews, in bytes.
pub const PREVIEW_BYTES: usize = 64;

/// A bounded, escaped preview of a payload: printable ASCII and valid UTF-8 as text, control
/// characters and invalid bytes escaped (`\x1b`, `\n`), longer payloads cut with `…(N bytes)`.
pub fn preview(data: &[u8]) -> String {
    let cut = &data[..data.len().min(PREVIEW_BYTES)];
    let mut out = String::new();
    for chunk in cut.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    if data.len() > cut.len() {
        out.push_str(&format!("…({} bytes)", data.len()));
    }
    out
}

/// Preview of a frame payload: close payloads as `code=1000 reason="bye"`, others escaped.
pub fn frame_preview(opcode: Opcode, payload: &[u8]) -> String {
    if opcode == Opcode::Close {
        match payload {
            [] => "no code".into(),
            [b] => format!("malformed 1-byte payload 0x{b:02x}"),
            [hi, lo, reason @ ..] => format!(
                "code={} reason=\"{}\"",
                u16::from_be_bytes([*hi, *lo]),
                preview(reason)
            ),
        }
    } else {
        preview(payload)
    }
}

/// One-line rendering of an event for failure reports and the text trace.
pub fn render_event(event: &TraceEvent) -> String {
    match event {
        TraceEvent::TcpOpen => "tcp open".into(),
        TraceEvent::Request { line, .. } => format!("c>s {line}"),
        TraceEvent::Response { line, .. } => format!("s>c {line}"),
        TraceEvent::Frame {
            dir,
            header,
            preview,
        } => {
            // Close payloads are already rendered as `code=… reason="…"`.
            let shown = if header.opcode == Opcode::Close {
                preview.clone()
            } else {
                format!("\"{preview}\"")
            };
            format!(
                "{} {} {} len={} {shown}",
                dir.arrow(),
                header.opcode,
                header.flags(),
                header.payload_len,
            )
        }
        TraceEvent::RawSent { len, preview } => format!("c>s raw {len} bytes \"{preview}\""),
        TraceEvent::State(s) => format!("readyState {} {}", s.value(), s.name()),
        TraceEvent::MessageEvent {
            opcode, preview, ..
        } => format!("event message {opcode} \"{preview}\""),
        TraceEvent::Event(e) => match e {
            BrowserEvent::Open => "event open".into(),
            BrowserEvent::Message { opcode, data } => {
                format!("event message {opcode} \"{}\"", preview(data))
            }
            BrowserEvent::Error => "event error".into(),
            BrowserEvent::Close {
                code,
                reason,
                was_clean,
            } => format!(
                "event close code={code} reason=\"{}\" wasClean={was_clean}",
                preview(reason.as_bytes())
            ),
        },
        TraceEvent::Violation(v) => format!("violation {v}"),
        TraceEvent::Marker(m) => format!("marker {m}"),
        TraceEvent::TcpEnd(end) => match end {
            TcpEnd::ClosedByServer => "tcp closed by server".into(),
            TcpEnd::ClosedByClient => "tcp closed by client".into(),
            TcpEnd::Reset => "tcp reset".into(),
        },
        TraceEvent::Note(n) => format!("note {n}"),
    }
}
