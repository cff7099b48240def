//! The raw echo server: one connection of the correct baseline ([`Fault::None`]) and of every
//! deliberately defective variation of it, on a plain tokio `TcpStream` with `wire` handling
//! every byte. No tungstenite here, so a defect can be put anywhere, and each fault changes
//! exactly one decision of the baseline, at the place where the baseline makes it. It may use
//! `wire`, tokio, and sha1 and base64 for the `wrong-accept` and `accept-bad-key-length` faults.
//!
//! The baseline:
//!
//! - reads the request head (at most [`MAX_HEAD`] bytes within [`HANDSHAKE_TIMEOUT`]), judges
//!   it with [`validate_request`] (§4.2.1) and answers 101 with "chat" or "superchat" if offered
//!   and no extension (§4.2.2), or the HTTP error the rejection names (400, 405, 426, §4.4);
//! - judges every client frame with [`RuleEngine`] (§5.1–§5.5, §7.4) and fails the connection
//!   on the first violation (§7.1.7): a close frame with 1002, 1007 for invalid UTF-8 (§8.1) or
//!   1009 for a message over the limit (§7.4.1), then TCP is closed;
//! - reassembles fragmented messages and validates text with its own [`Utf8Validator`], fed
//!   frame by frame so invalid UTF-8 fails the connection as soon as its frame arrives, even in
//!   the middle of a message; echoes each message with its opcode as one unmasked frame;
//! - answers each ping with a pong carrying its payload, also between fragments (§5.5.2-3), and
//!   ignores pongs;
//! - answers a client's close frame with its code, or an empty close when it had none (§5.5.1),
//!   then closes TCP first (§7.1.1), bounded by [`CLOSE_TIMEOUT`];
//! - on shutdown closes with 1001 and waits, bounded, for the client's close.
//!
//! Frames are judged whole, as [`FrameDecoder`] yields them: an invalid byte in a frame that is
//! still arriving is noticed once the frame is complete. Waiting for the client's next bytes is
//! bounded only by the server's shutdown, as in the reference server; every other wait has its
//! own bound.

use std::time::Duration;

use base64::Engine as _;
use sha1::{Digest, Sha1};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{Instant, timeout, timeout_at};

use super::connection::{SUBPROTOCOLS, close_tcp};
use super::fault::Fault;
use super::{CLOSE_TIMEOUT, HANDSHAKE_TIMEOUT, stopped};
use crate::wire::close::{GOING_AWAY, INVALID_PAYLOAD, MESSAGE_TOO_BIG, NORMAL, PROTOCOL_ERROR};
use crate::wire::frame::RSV1;
use crate::wire::handshake::{
    Parse, RequestHead, accept_for_key, build_error_response, build_response_101, parse_request,
    validate_request,
};
use crate::wire::mask::apply_mask;
use crate::wire::rules::{RuleConfig, RuleEngine};
use crate::wire::utf8::validate;
use crate::wire::{
    ClosePayload, Decoded, DecoderConfig, Frame, FrameDecoder, FrameHeader, FrameSpec, LengthSpec,
    Opcode, Role, Utf8Status, Utf8Validator, Violation, ViolationKind,
};

/// Largest request head read before the request is refused with 400.
const MAX_HEAD: usize = 16 * 1024;

/// Longest one batch of writes may take; a client that reads nothing for this long is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long `no-tcp-close` keeps TCP open after the closing handshake, waiting for the client
/// to close it.
const HOLD_OPEN: Duration = Duration::from_secs(10);

/// Bytes read from the socket at a time.
const READ_CHUNK: usize = 64 * 1024;

/// `truncate-large` echoes at most this many bytes of a message.
const TRUNCATE_AT: usize = 64 * 1024;

/// Longest close reason that fits a control frame: 125 bytes less the 2-byte code (§5.5).
const MAX_CLOSE_REASON: usize = 123;

/// The reason length `oversized-close-reason` pads to: 2 + 130 bytes is over the 125 limit.
const OVERSIZED_REASON: usize = 130;

/// The mask key `masked-server-frames` uses; any key breaks §5.1.
const SERVER_MASK: [u8; 4] = [0x5a, 0x17, 0xc3, 0x08];

/// The key the `accept-missing-key` and `accept-bad-key-length` faults substitute so that the
/// rest of the request is still judged: 16 zero bytes.
const PLACEHOLDER_KEY: &str = "AAAAAAAAAAAAAAAAAAAAAA==";

/// Serves one accepted TCP connection to the end, every wait bounded.
pub(super) async fn serve(
    mut tcp: TcpStream,
    fault: Fault,
    max_message: usize,
    mut stop: watch::Receiver<bool>,
) {
    let _ = tcp.set_nodelay(true);
    let opened = tokio::select! {
        () = stopped(&mut stop) => None,
        opened = timeout(HANDSHAKE_TIMEOUT, handshake(&mut tcp, fault)) => opened.ok().flatten(),
    };
    let Some(leftover) = opened else {
        close_tcp(tcp).await;
        return;
    };
    let mut conn = Conn::new(tcp, fault, max_message);
    conn.decoder.push(&leftover);
    let ending = conn.run(&mut stop).await;
    conn.finish(ending, &mut stop).await;
}

/// Reads and answers the opening handshake. Returns the bytes that followed the head when the
/// upgrade was accepted, `None` when it was refused or the client went away.
async fn handshake(tcp: &mut TcpStream, fault: Fault) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head = loop {
        match parse_request(&buf, MAX_HEAD) {
            Ok(Parse::Complete(head)) => break head,
            Ok(Parse::Partial) => {}
            Err(e) => {
                let _ = tcp
                    .write_all(&build_error_response(400, &e.to_string()))
                    .await;
                return None;
            }
        }
        match tcp.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let leftover = buf.split_off(head.head_len.min(buf.len()));
    match answer(&head, fault) {
        Ok(response) => tcp.write_all(&response).await.ok().map(|()| leftover),
        Err(response) => {
            let _ = tcp.write_all(&response).await;
            None
        }
    }
}

/// The answer to an upgrade request: `Ok` with a 101 response, or `Err` with an HTTP error.
fn answer(head: &RequestHead, fault: Fault) -> Result<Vec<u8>, Vec<u8>> {
    // The key as sent, for the accept value: `accept-bad-key-length` judges a placeholder but
    // still answers for the real key.
    let sent_key = head.header("sec-websocket-key").map(str::to_string);
    let head = lenient(head, fault);
    if fault == Fault::CaseSensitiveUpgrade && head.header_values("upgrade") != [b"websocket"] {
        let reason = "upgrade is not exactly 'websocket'";
        return Err(build_error_response(400, reason));
    }
    let valid = validate_request(&head).map_err(|rejection| {
        let status = match (fault, rejection.status) {
            (Fault::No426, 426) => 400,
            (_, status) => status,
        };
        let response = build_error_response(status, &rejection.reason);
        if fault == Fault::NoVersionIn426 {
            without(&response, "Sec-WebSocket-Version: 13\r\n")
        } else {
            response
        }
    })?;
    let protocol = if fault == Fault::UnofferedSubprotocol {
        Some("x-unoffered")
    } else {
        valid
            .protocols
            .iter()
            .map(String::as_str)
            .find(|p| SUBPROTOCOLS.contains(p))
    };
    let extensions = if fault == Fault::AcceptUnknownExtension {
        valid.extensions.clone()
    } else {
        Vec::new()
    };
    let key = sent_key.as_deref().unwrap_or(&valid.key);
    let response = build_response_101(key, protocol, &extensions, &[]);
    Ok(match fault {
        Fault::WrongAccept => replaced(&response, &accept_for_key(key), &accept_without_guid(key)),
        Fault::Status200 => replaced(
            &response,
            "HTTP/1.1 101 Switching Protocols\r\n",
            "HTTP/1.1 200 OK\r\n",
        ),
        Fault::NoUpgradeIn101 => without(&response, "Upgrade: websocket\r\n"),
        Fault::NoConnectionIn101 => without(&response, "Connection: Upgrade\r\n"),
        _ => response,
    })
}

/// The request as a fault that skips one §4.2.1 check sees it: the field it does not check is
/// made to pass, so every other check still runs.
fn lenient(head: &RequestHead, fault: Fault) -> RequestHead {
    let mut head = head.clone();
    match fault {
        Fault::AcceptMissingKey if head.header_values("sec-websocket-key").is_empty() => {
            set_header(&mut head, "Sec-WebSocket-Key", PLACEHOLDER_KEY);
        }
        Fault::AcceptBadKeyLength => {
            let wrong_length = head.header("sec-websocket-key").is_some_and(|key| {
                base64::engine::general_purpose::STANDARD
                    .decode(key.trim())
                    .is_ok_and(|nonce| nonce.len() != 16)
            });
            if wrong_length {
                set_header(&mut head, "Sec-WebSocket-Key", PLACEHOLDER_KEY);
            }
        }
        Fault::AcceptAnyVersion => set_header(&mut head, "Sec-WebSocket-Version", "13"),
        Fault::AcceptMissingHost if head.header_values("host").is_empty() => {
            set_header(&mut head, "Host", "localhost");
        }
        Fault::AcceptPost => head.method = "GET".into(),
        Fault::AcceptHttp10 => head.version = head.version.max(1),
        Fault::AcceptMissingUpgrade => set_header(&mut head, "Upgrade", "websocket"),
        Fault::AcceptMissingConnection => set_header(&mut head, "Connection", "Upgrade"),
        _ => {}
    }
    head
}

/// Replaces every field called `name` (case-insensitively) by one with `value`.
fn set_header(head: &mut RequestHead, name: &str, value: &str) {
    head.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    head.headers
        .push((name.to_string(), value.as_bytes().to_vec()));
}

/// `response` with the first `from` replaced by `to`. Responses built by `wire` are UTF-8
/// (every field value in them is a `&str`), so the lossy conversion changes nothing.
fn replaced(response: &[u8], from: &str, to: &str) -> Vec<u8> {
    String::from_utf8_lossy(response)
        .replacen(from, to, 1)
        .into_bytes()
}

/// `response` without the first occurrence of `line`.
fn without(response: &[u8], line: &str) -> Vec<u8> {
    replaced(response, line, "")
}

/// What `wrong-accept` answers: base64(SHA-1(key)), the §1.3 computation without the GUID.
fn accept_without_guid(key: &str) -> String {
    let digest = Sha1::digest(key.trim().as_bytes());
    base64::engine::general_purpose::STANDARD.encode(digest)
}

/// A data message being reassembled.
#[derive(Debug)]
struct Message {
    opcode: Opcode,
    data: Vec<u8>,
    utf8: Utf8Validator,
}

/// What handling the buffered frames led to.
#[derive(Debug, PartialEq, Eq)]
enum Flow {
    /// Keep reading.
    Continue,
    /// The client broke the protocol: fail the connection with this code and reason.
    Fail(u16, String),
    /// The client's close frame has been handled (and, unless the fault says otherwise,
    /// answered).
    Closed,
}

/// How the conversation ended, and so what closing still has to do.
#[derive(Debug, PartialEq, Eq)]
enum Ending {
    /// The client's close was handled: close TCP, server first.
    Answered,
    /// Fail the connection (§7.1.7): a close frame with this code and reason, then TCP.
    Fail(u16, String),
    /// The client is gone or unresponsive: nothing left to say.
    Gone,
    /// The server is shutting down: close with 1001 and wait for the client's reply.
    Shutdown,
}

/// What a read brought.
enum Read {
    Data,
    Eof,
    Deadline,
}

/// One upgraded connection.
struct Conn {
    tcp: TcpStream,
    fault: Fault,
    decoder: FrameDecoder,
    rules: RuleEngine,
    message: Option<Message>,
    /// Frames queued for the next write.
    out: Vec<u8>,
    /// `answer-last-ping-only`: the pong for the latest ping of the current batch.
    last_pong: Option<Vec<u8>>,
    /// The client's close frame has been handled.
    closing: bool,
    chunk: Vec<u8>,
}

impl Conn {
    fn new(tcp: TcpStream, fault: Fault, max_message: usize) -> Conn {
        let max = max_message as u64;
        Conn {
            tcp,
            fault,
            decoder: FrameDecoder::new(DecoderConfig { max_payload: max }),
            rules: RuleEngine::new(
                Role::Client,
                RuleConfig {
                    allowed_rsv: 0,
                    max_message: max,
                },
            ),
            message: None,
            out: Vec::new(),
            last_pong: None,
            closing: false,
            chunk: vec![0u8; READ_CHUNK],
        }
    }

    /// Echoes until the client closes, breaks the protocol or goes away, or the server stops.
    async fn run(&mut self, stop: &mut watch::Receiver<bool>) -> Ending {
        // Set once the client's close is answered, for `echo-after-close`.
        let mut deadline = None;
        loop {
            let flow = self.process();
            if !self.flush().await {
                return Ending::Gone;
            }
            match flow {
                Flow::Continue => {}
                Flow::Fail(code, reason) => return Ending::Fail(code, reason),
                Flow::Closed if self.fault == Fault::EchoAfterClose => {
                    deadline = Some(Instant::now() + CLOSE_TIMEOUT);
                    // Frames after the close may already be buffered.
                    continue;
                }
                Flow::Closed => return Ending::Answered,
            }
            let read = tokio::select! {
                () = stopped(stop) => {
                    return if self.closing { Ending::Answered } else { Ending::Shutdown };
                }
                read = self.read_more(deadline) => read,
            };
            match read {
                Read::Data => {}
                Read::Eof => return Ending::Gone,
                Read::Deadline => return Ending::Answered,
            }
        }
    }

    /// Reads more bytes into the decoder, until `deadline` if there is one. Cancel-safe.
    async fn read_more(&mut self, deadline: Option<Instant>) -> Read {
        let read = self.tcp.read(&mut self.chunk);
        let result = match deadline {
            Some(at) => match timeout_at(at, read).await {
                Ok(result) => result,
                Err(_elapsed) => return Read::Deadline,
            },
            None => read.await,
        };
        match result {
            Ok(0) | Err(_) => Read::Eof,
            Ok(n) => {
                self.decoder.push(&self.chunk[..n]);
                Read::Data
            }
        }
    }

    /// Handles every whole frame buffered, queueing the answers; stops at a failure or the
    /// client's close.
    fn process(&mut self) -> Flow {
        let flow = loop {
            let flow = match self.decoder.next_frame() {
                Decoded::NeedMore(_) => break Flow::Continue,
                Decoded::Oversized { header, .. } => {
                    let found = self.rules.observe_oversized(&header);
                    // The payload is gone, so the frame cannot be handled even if tolerated.
                    self.judge(found)
                        .unwrap_or_else(|| Flow::Fail(MESSAGE_TOO_BIG, "message too big".into()))
                }
                Decoded::Frame(decoded) => self.on_frame(decoded.frame),
            };
            if flow != Flow::Continue {
                break flow;
            }
        };
        if let Some(pong) = self.last_pong.take() {
            self.queue(Opcode::Pong, pong);
        }
        flow
    }

    fn on_frame(&mut self, frame: Frame) -> Flow {
        let Frame {
            header,
            mut payload,
        } = frame;
        let found = self.rules.observe(&header, &payload);
        if let Some(failure) = self.judge(found) {
            return failure;
        }
        match header.opcode {
            Opcode::Text | Opcode::Binary | Opcode::Continuation => {
                if let (Fault::NoUnmask, Some(key)) = (self.fault, header.mask) {
                    apply_mask(&mut payload, key, 0);
                }
                self.on_data(&header, payload)
            }
            Opcode::Ping => {
                self.on_ping(payload);
                Flow::Continue
            }
            Opcode::Close => self.on_close(&payload),
            // Pongs are ignored; reserved opcodes get here only when a fault tolerated them.
            Opcode::Pong | Opcode::ReservedData(_) | Opcode::ReservedControl(_) => Flow::Continue,
        }
    }

    /// The failure the first violation this server does not tolerate calls for, if any.
    fn judge(&self, found: Vec<Violation>) -> Option<Flow> {
        let violation = found.into_iter().find(|v| !self.tolerates(v.kind))?;
        Some(Flow::Fail(
            self.close_code(violation.kind),
            violation.detail,
        ))
    }

    /// Whether this server lets a violation of `kind` pass.
    fn tolerates(&self, kind: ViolationKind) -> bool {
        use ViolationKind as V;
        let fault = match kind {
            // Text is judged by this server's own validator, which the utf8 faults change.
            V::InvalidUtf8Text => return true,
            V::UnmaskedClientFrame => Fault::AcceptUnmasked,
            V::ReservedBitsSet => Fault::IgnoreRsv,
            V::ReservedOpcode => Fault::IgnoreReservedOpcode,
            V::ControlFrameTooLong => Fault::AcceptOversizedControl,
            V::FragmentedControlFrame => Fault::AcceptFragmentedControl,
            V::UnexpectedContinuation => Fault::AcceptOrphanContinuation,
            V::InterleavedDataFrame => Fault::AcceptInterleavedData,
            V::InvalidCloseCode => Fault::EchoInvalidCloseCode,
            V::MalformedClosePayload => Fault::AcceptOneByteClose,
            V::InvalidUtf8CloseReason => Fault::AcceptInvalidCloseReason,
            V::DataAfterClose => Fault::EchoAfterClose,
            _ => return false,
        };
        self.fault == fault
    }

    /// The close code to fail a violation of `kind` with (§7.4.1).
    fn close_code(&self, kind: ViolationKind) -> u16 {
        let code = match kind {
            ViolationKind::InvalidUtf8Text | ViolationKind::InvalidUtf8CloseReason => {
                INVALID_PAYLOAD
            }
            ViolationKind::PayloadTooLarge => MESSAGE_TOO_BIG,
            _ => PROTOCOL_ERROR,
        };
        match (self.fault, code) {
            (Fault::WrongCloseCode, PROTOCOL_ERROR) => NORMAL,
            (Fault::Utf8Close1002, INVALID_PAYLOAD) => PROTOCOL_ERROR,
            (_, code) => code,
        }
    }

    fn on_data(&mut self, header: &FrameHeader, payload: Vec<u8>) -> Flow {
        let mut message = match (header.opcode, self.message.take()) {
            (Opcode::Continuation, Some(open)) => open,
            // Only `accept-orphan-continuation` gets here: the frame is dropped.
            (Opcode::Continuation, None) => return Flow::Continue,
            // A new message; one still open is dropped (only `accept-interleaved-data` gets
            // here with one open).
            (opcode, _) => Message {
                opcode,
                data: Vec::new(),
                utf8: Utf8Validator::new(),
            },
        };
        let start = message.data.len();
        message.data.extend_from_slice(&payload);
        if message.opcode == Opcode::Text
            && let Some(offset) = self.utf8_error(&mut message, start, header.fin)
        {
            return Flow::Fail(
                self.close_code(ViolationKind::InvalidUtf8Text),
                format!("text message is not valid utf-8 at byte {offset}"),
            );
        }
        if header.fin {
            self.echo(message);
        } else {
            self.message = Some(message);
        }
        Flow::Continue
    }

    /// Validates the bytes of a text message from `start` on; returns the offset of the first
    /// invalid byte, if this server finds one now.
    fn utf8_error(&self, message: &mut Message, start: usize, fin: bool) -> Option<u64> {
        let Message { data, utf8, .. } = message;
        let status = match self.fault {
            Fault::NoUtf8Validation => Utf8Status::Valid,
            Fault::Utf8PerFrame => validate(&data[start..]),
            Fault::Utf8AtEnd if fin => validate(data),
            Fault::Utf8AtEnd => Utf8Status::Valid,
            _ => {
                let status = utf8.feed(&data[start..]);
                if fin { utf8.finish() } else { status }
            }
        };
        match status {
            Utf8Status::Invalid { offset } => Some(offset),
            Utf8Status::Valid | Utf8Status::Incomplete => None,
        }
    }

    fn echo(&mut self, message: Message) {
        let opcode = match (self.fault, message.opcode) {
            (Fault::BinaryAsText, Opcode::Binary) => Opcode::Text,
            (_, opcode) => opcode,
        };
        let mut data = message.data;
        if self.fault == Fault::TruncateLarge {
            data.truncate(TRUNCATE_AT);
        }
        self.queue(opcode, data);
    }

    fn on_ping(&mut self, payload: Vec<u8>) {
        let payload = match self.fault {
            Fault::NoPong => return,
            Fault::WrongPongPayload => b"pong".to_vec(),
            _ => payload,
        };
        if self.fault == Fault::AnswerLastPingOnly {
            self.last_pong = Some(payload);
        } else {
            self.queue(Opcode::Pong, payload);
        }
    }

    fn on_close(&mut self, payload: &[u8]) -> Flow {
        if self.closing {
            // A second close frame; only `echo-after-close` reads on after the first.
            return Flow::Continue;
        }
        self.closing = true;
        let reply = match ClosePayload::parse(payload) {
            ClosePayload::Empty if self.fault == Fault::Reply1005 => {
                crate::wire::close::NO_STATUS.to_be_bytes().to_vec()
            }
            // A one-byte payload gets here only with `accept-one-byte-close`.
            ClosePayload::Empty | ClosePayload::OneByte(_) => Vec::new(),
            ClosePayload::Code { code, .. } => code.to_be_bytes().to_vec(),
        };
        // Nothing may follow the close reply (§5.5.1), not even the last pong.
        if let Some(pong) = self.last_pong.take() {
            self.queue(Opcode::Pong, pong);
        }
        if self.fault != Fault::CloseNotAnswered {
            self.queue(Opcode::Close, reply);
        }
        Flow::Closed
    }

    /// Queues one final frame; the server-frame faults change how it is encoded.
    fn queue(&mut self, opcode: Opcode, payload: Vec<u8>) {
        let spec = FrameSpec {
            fin: true,
            rsv: if self.fault == Fault::RsvOnServerFrames {
                RSV1
            } else {
                0
            },
            opcode,
            mask: (self.fault == Fault::MaskedServerFrames).then_some(SERVER_MASK),
            length: if self.fault == Fault::NonMinimalLength {
                LengthSpec::Force64
            } else {
                LengthSpec::Minimal
            },
            payload,
        };
        spec.encode_into(&mut self.out);
    }

    /// Writes the queued frames; false if the client is gone or reads nothing for
    /// [`WRITE_TIMEOUT`].
    async fn flush(&mut self) -> bool {
        if self.out.is_empty() {
            return true;
        }
        let written = timeout(WRITE_TIMEOUT, self.tcp.write_all(&self.out)).await;
        self.out.clear();
        matches!(written, Ok(Ok(())))
    }

    /// Carries out the ending: the closing handshake as far as it is left, then TCP.
    async fn finish(mut self, ending: Ending, stop: &mut watch::Receiver<bool>) {
        match ending {
            Ending::Gone => {}
            Ending::Answered if self.fault == Fault::NoTcpClose => {
                self.hold_open(stop).await;
                return;
            }
            Ending::Answered => {}
            Ending::Fail(code, reason) => {
                if self.fault != Fault::DropOnError {
                    let reason = self.failure_reason(&reason);
                    let payload = ClosePayload::Code {
                        code,
                        reason: reason.into_bytes(),
                    };
                    self.queue(Opcode::Close, payload.to_bytes());
                    self.flush().await;
                }
            }
            Ending::Shutdown => {
                let payload = ClosePayload::Code {
                    code: GOING_AWAY,
                    reason: b"server shutting down".to_vec(),
                };
                self.queue(Opcode::Close, payload.to_bytes());
                if self.flush().await {
                    let _ = timeout(CLOSE_TIMEOUT, self.await_close()).await;
                }
            }
        }
        close_tcp(self.tcp).await;
    }

    /// The reason sent with a failure: the violation, cut to fit a control frame, or padded
    /// past it for `oversized-close-reason`.
    fn failure_reason(&self, detail: &str) -> String {
        let mut end = detail.len().min(MAX_CLOSE_REASON);
        while !detail.is_char_boundary(end) {
            end -= 1;
        }
        let mut reason = detail[..end].to_string();
        if self.fault == Fault::OversizedCloseReason {
            while reason.len() < OVERSIZED_REASON {
                reason.push('.');
            }
        }
        reason
    }

    /// Reads until the client's close frame arrives or the client goes away.
    async fn await_close(&mut self) {
        loop {
            loop {
                match self.decoder.next_frame() {
                    Decoded::Frame(f) if f.frame.header.opcode == Opcode::Close => return,
                    Decoded::Frame(_) => {}
                    Decoded::NeedMore(_) | Decoded::Oversized { .. } => break,
                }
            }
            if !matches!(self.read_more(None).await, Read::Data) {
                return;
            }
        }
    }

    /// `no-tcp-close`: leaves TCP open until the client closes it, [`HOLD_OPEN`] passes or the
    /// server stops, and only then drops the socket.
    async fn hold_open(mut self, stop: &mut watch::Receiver<bool>) {
        let until = Instant::now() + HOLD_OPEN;
        loop {
            tokio::select! {
                () = stopped(stop) => return,
                read = self.read_more(Some(until)) => if !matches!(read, Read::Data) {
                    return;
                },
            }
            // Whatever the client still sends is read and dropped.
            while let Decoded::Frame(_) = self.decoder.next_frame() {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::handshake::{Negotiated, ResponseHead, parse_response, validate_response};

    const REQUEST: &str = "GET /chat HTTP/1.1\r\n\
        Host: server.example.com\r\n\
        Upgrade: websocket\r\n\
        Connection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Sec-WebSocket-Protocol: x-other, superchat, chat\r\n\
        Sec-WebSocket-Version: 13\r\n\
        \r\n";

    fn request(text: &str) -> RequestHead {
        match parse_request(text.as_bytes(), MAX_HEAD) {
            Ok(Parse::Complete(head)) => head,
            other => panic!("test request must parse: {other:?}"),
        }
    }

    fn response(bytes: &[u8]) -> ResponseHead {
        match parse_response(bytes, MAX_HEAD) {
            Ok(Parse::Complete(head)) => head,
            other => panic!("response must parse: {other:?}"),
        }
    }

    fn offer() -> crate::wire::handshake::Offer {
        crate::wire::handshake::Offer {
            key: "dGhlIHNhbXBsZSBub25jZQ==".into(),
            protocols: vec!["x-other".into(), "superchat".into(), "chat".into()],
            extensions: vec![],
        }
    }

    #[test]
    fn rfc6455_4_2_2_baseline_answers_the_sample_request() {
        let ok = answer(&request(REQUEST), Fault::None).expect("accepted");
        let head = response(&ok);
        assert_eq!(
            validate_response(&head, &offer()),
            Ok(Negotiated {
                protocol: Some("superchat".into()),
                extensions: vec![],
            })
        );
        assert_eq!(
            head.header("sec-websocket-accept"),
            Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        );
    }

    #[test]
    fn rfc6455_4_4_baseline_refuses_a_bad_version_with_426() {
        let text = REQUEST.replace("Version: 13", "Version: 8");
        let refused = answer(&request(&text), Fault::None).expect_err("refused");
        let head = response(&refused);
        assert_eq!(head.status, 426);
        assert_eq!(head.header("sec-websocket-version"), Some("13"));
        let refused = answer(&request(&text), Fault::No426).expect_err("refused");
        let head = response(&refused);
        assert_eq!(head.status, 400);
        assert_eq!(head.header("sec-websocket-version"), None);
        let refused = answer(&request(&text), Fault::NoVersionIn426).expect_err("refused");
        let head = response(&refused);
        assert_eq!(head.status, 426);
        assert_eq!(head.header("sec-websocket-version"), None);
    }

    /// Each response fault breaks the one §4.1 check it is about.
    #[test]
    fn response_faults_fail_the_client_checks() {
        let cases = [
            (Fault::WrongAccept, ViolationKind::HandshakeAccept),
            (Fault::Status200, ViolationKind::HandshakeStatus),
            (Fault::NoUpgradeIn101, ViolationKind::HandshakeUpgradeHeader),
            (
                Fault::NoConnectionIn101,
                ViolationKind::HandshakeConnectionHeader,
            ),
            (
                Fault::UnofferedSubprotocol,
                ViolationKind::HandshakeSubprotocol,
            ),
        ];
        for (fault, kind) in cases {
            let ok = answer(&request(REQUEST), fault).expect("accepted");
            let found = validate_response(&response(&ok), &offer()).expect_err("invalid");
            let kinds: Vec<_> = found.iter().map(|v| v.kind).collect();
            assert_eq!(kinds, [kind], "{fault}");
        }
    }

    #[test]
    fn accept_without_guid_differs_from_the_real_accept() {
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        assert_ne!(accept_without_guid(key), accept_for_key(key));
        assert_eq!(accept_without_guid(key).len(), 28);
    }

    #[test]
    fn lenient_faults_each_skip_one_check() {
        let cases: [(Fault, &str, Option<&str>); 8] = [
            (Fault::AcceptMissingKey, "Sec-WebSocket-Key", None),
            (
                Fault::AcceptBadKeyLength,
                "Sec-WebSocket-Key",
                Some("Sec-WebSocket-Key: AAAAAAAAAAA="),
            ),
            (Fault::AcceptAnyVersion, "Sec-WebSocket-Version", None),
            (
                Fault::AcceptAnyVersion,
                "Sec-WebSocket-Version",
                Some("Sec-WebSocket-Version: 8"),
            ),
            (Fault::AcceptMissingHost, "Host", None),
            (Fault::AcceptPost, "GET", Some("POST /chat HTTP/1.1")),
            (Fault::AcceptMissingUpgrade, "Upgrade", None),
            (Fault::AcceptMissingConnection, "Connection", None),
        ];
        for (fault, start, replacement) in cases {
            let text: String = REQUEST
                .split_inclusive("\r\n")
                .filter_map(|line| match (line.starts_with(start), replacement) {
                    (false, _) => Some(line.to_string()),
                    (true, Some(r)) => Some(format!("{r}\r\n")),
                    (true, None) => None,
                })
                .collect();
            let head = request(&text);
            assert!(
                answer(&head, Fault::None).is_err(),
                "baseline refuses {start}"
            );
            assert!(answer(&head, fault).is_ok(), "{fault} accepts");
            // The other checks still run.
            let broken = text.replace("Connection: Upgrade\r\n", "Connection: close\r\n");
            if fault != Fault::AcceptMissingConnection {
                assert!(answer(&request(&broken), fault).is_err(), "{fault}");
            }
        }
        let old = request(&REQUEST.replace("HTTP/1.1\r\n", "HTTP/1.0\r\n"));
        assert!(answer(&old, Fault::None).is_err());
        assert!(answer(&old, Fault::AcceptHttp10).is_ok());
    }

    #[test]
    fn case_sensitive_upgrade_refuses_what_the_baseline_accepts() {
        let mixed = request(&REQUEST.replace("Upgrade: websocket", "Upgrade: WebSocket"));
        assert!(answer(&mixed, Fault::None).is_ok());
        let refused = answer(&mixed, Fault::CaseSensitiveUpgrade).expect_err("refused");
        assert_eq!(response(&refused).status, 400);
        assert!(answer(&request(REQUEST), Fault::CaseSensitiveUpgrade).is_ok());
    }

    #[test]
    fn extensions_are_accepted_only_by_the_fault() {
        let text = REQUEST.replace(
            "Sec-WebSocket-Version",
            "Sec-WebSocket-Extensions: x-unknown; a=1\r\nSec-WebSocket-Version",
        );
        let ok = answer(&request(&text), Fault::None).expect("accepted");
        assert_eq!(response(&ok).header("sec-websocket-extensions"), None);
        let ok = answer(&request(&text), Fault::AcceptUnknownExtension).expect("accepted");
        assert_eq!(
            response(&ok).header("sec-websocket-extensions"),
            Some("x-unknown; a=1")
        );
    }
}
