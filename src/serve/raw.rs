//! The raw echo server: one connection of the correct baseline ([`Fault::None`]) and of every
//! deliberately defective variation of it, on a plain tokio `TcpStream` with `wire` handling
//! every byte. No tungstenite here, so a defect can be put anywhere, and each fault changes
//! exactly one decision of the baseline, at the place where the baseline makes it. It may use
//! `wire` and tokio. The opening handshake lives in `raw/handshake.rs`, the frame loop here.
//!
//! The baseline:
//!
//! - reads the request head (at most [`handshake::MAX_HEAD`] bytes within
//!   [`HANDSHAKE_TIMEOUT`]), judges it with `wire`'s `validate_request` (§4.2.1) and answers 101
//!   with "chat" or "superchat" if offered and no extension (§4.2.2), or the HTTP error the
//!   rejection names (400, 405, 426, §4.4);
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

mod handshake;

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{Instant, timeout, timeout_at};

use super::connection::close_tcp;
use super::fault::Fault;
use super::{CLOSE_TIMEOUT, HANDSHAKE_TIMEOUT, stopped};
use crate::wire::close::{GOING_AWAY, INVALID_PAYLOAD, MESSAGE_TOO_BIG, NORMAL, PROTOCOL_ERROR};
use crate::wire::frame::RSV1;
use crate::wire::mask::apply_mask;
use crate::wire::rules::{RuleConfig, RuleEngine};
use crate::wire::utf8::validate;
use crate::wire::{
    ClosePayload, Decoded, DecoderConfig, Frame, FrameDecoder, FrameHeader, FrameSpec, LengthSpec,
    Opcode, Role, Utf8Status, Utf8Validator, Violation, ViolationKind,
};

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
        opened = timeout(HANDSHAKE_TIMEOUT, handshake::handshake(&mut tcp, fault)) => {
            opened.ok().flatten()
        }
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
