//! The raw echo server: one connection of the correct baseline ([`Fault::None`]) and of every
//! deliberately defective variation of it, on a tokio byte stream (TCP or TLS, [`crate::net::Stream`]) with `wire` handling
//! every byte. No tungstenite here, so a defect can be put anywhere, and each fault changes
//! exactly one decision of the baseline, at the place where the baseline makes it. It may use
//! `wire` and tokio. The opening handshake lives in `raw/handshake.rs`, permessage-deflate
//! (negotiation and the per-connection codec) in `raw/deflate.rs`, closing in
//! `raw/closing.rs`, the frame loop here.
//!
//! The baseline ([`Fault::None`]) is also what [`ServeMode::Echo`](super::ServeMode::Echo)
//! serves, and so the embedded target of `wsprobe run`: it is the one server of wsprobe that
//! speaks permessage-deflate (RFC 7692), which tungstenite does not. The baseline:
//!
//! - reads the request head (at most [`handshake::MAX_HEAD`] bytes within
//!   [`HANDSHAKE_TIMEOUT`]), judges it with `wire`'s `validate_request` (§4.2.1) and answers 101
//!   with "chat" or "superchat" if offered and with the first acceptable permessage-deflate
//!   offer accepted (RFC 7692 §5.1, §7; every parameter honoured, invalid offers declined)
//!   (§4.2.2), or the HTTP error the rejection names (400, 405, 426, §4.4);
//! - judges every client frame with [`RuleEngine`] (§5.1–§5.5, §7.4) and fails the connection
//!   on the first violation (§7.1.7): a close frame with 1002, 1007 for invalid UTF-8 (§8.1) or
//!   1009 for a message over the limit (§7.4.1), then TCP is closed. A frame's header is
//!   judged as soon as it has arrived, before its payload;
//! - with permessage-deflate agreed, passes every frame through `wire`'s deflate
//!   [`Receiver`](crate::wire::deflate::Receiver) first: RSV1 on a control or continuation frame
//!   and invalid compressed data fail the connection with 1002 (RFC 7692 §6.1, §7.2.2), and a
//!   message whose inflated size passes the limit with 1009 as soon as inflating passes it;
//!   UTF-8 and the size rules judge the inflated message; every echo is compressed at zlib
//!   level 1 within the agreed window and context takeover, as one frame with RSV1;
//! - reassembles fragmented messages and validates text with its own [`Utf8Validator`], fed
//!   frame by frame so invalid UTF-8 fails the connection as soon as its frame arrives, even in
//!   the middle of a message; echoes each message with its opcode as one unmasked frame;
//! - answers each ping with a pong carrying its payload, also between fragments (§5.5.2-3), and
//!   ignores pongs;
//! - answers a client's close frame with its code, or an empty close when it had none (§5.5.1),
//!   then closes TCP first (§7.1.1), bounded by [`CLOSE_TIMEOUT`];
//! - on shutdown closes with 1001 and waits, bounded, for the client's close.
//!
//! Payloads are judged whole, as [`FrameDecoder`] yields them: an invalid byte in a frame that
//! is still arriving is noticed once the frame is complete. Waiting for the client's next bytes
//! is bounded only by the server's shutdown; every other wait has its own bound.

mod closing;
pub(in crate::serve) mod deflate;
mod handshake;

pub(in crate::serve) use handshake::Opened;

use std::time::Duration;

use crate::net::Stream as TcpStream;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::{Instant, timeout, timeout_at};

use self::deflate::Deflate;
use super::connection::close_tcp;
use super::fault::Fault;
use super::{CLOSE_TIMEOUT, HANDSHAKE_TIMEOUT, stopped};
use crate::wire::close::{
    INTERNAL_ERROR, INVALID_PAYLOAD, MESSAGE_TOO_BIG, NORMAL, PROTOCOL_ERROR,
};
use crate::wire::deflate::{FindingKind, Negotiated};
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

/// Bytes read from the socket at a time.
const READ_CHUNK: usize = 64 * 1024;

/// `truncate-large` echoes at most this many bytes of a message.
const TRUNCATE_AT: usize = 64 * 1024;

/// The mask key `masked-server-frames` uses; any key breaks §5.1.
const SERVER_MASK: [u8; 4] = [0x5a, 0x17, 0xc3, 0x08];

/// Serves one accepted TCP connection to the end, every wait bounded.
pub(super) async fn serve(
    mut tcp: TcpStream,
    fault: Fault,
    max_message: usize,
    mut stop: watch::Receiver<bool>,
) {
    tcp.set_nodelay();
    let opened = tokio::select! {
        () = stopped(&mut stop) => None,
        opened = timeout(HANDSHAKE_TIMEOUT, handshake::handshake(&mut tcp, fault)) => {
            opened.ok().flatten()
        }
    };
    let Some(opened) = opened else {
        close_tcp(tcp).await;
        return;
    };
    serve_open(tcp, fault, max_message, opened, stop).await;
}

/// Serves a connection whose opening handshake is done (over HTTP/1.1 above, or an HTTP/2
/// extended CONNECT in `h2.rs`) until it is closed.
pub(in crate::serve) async fn serve_open(
    tcp: TcpStream,
    fault: Fault,
    max_message: usize,
    opened: Opened,
    mut stop: watch::Receiver<bool>,
) {
    let mut conn = Conn::new(tcp, fault, max_message, opened.deflate.as_ref());
    conn.decoder.push(&opened.leftover);
    let ending = match conn.deflate_error.take() {
        Some(reason) => Ending::Fail(INTERNAL_ERROR, reason),
        None => conn.run(&mut stop).await,
    };
    conn.finish(ending, &mut stop).await;
}

/// A data message being reassembled.
#[derive(Debug)]
struct Message {
    opcode: Opcode,
    data: Vec<u8>,
    utf8: Utf8Validator,
    /// `deflate-ignore-invalid-data` met invalid compressed data in it: it is not echoed.
    dropped: bool,
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
    /// permessage-deflate, when agreed.
    deflate: Option<Deflate>,
    /// The codec could not be set up for what was agreed (never for valid parameters).
    deflate_error: Option<String>,
    /// The frame being judged belongs to a compressed message.
    in_compressed: bool,
    /// `deflate-stream-end`: a block with BFINAL set was received, after which this server's
    /// inflater yields nothing.
    stream_ended: bool,
}

impl Conn {
    fn new(
        tcp: TcpStream,
        fault: Fault,
        max_message: usize,
        negotiated: Option<&Negotiated>,
    ) -> Conn {
        let max = max_message as u64;
        let (deflate, deflate_error) = match negotiated.map(|n| Deflate::new(n, fault, max)) {
            None => (None, None),
            Some(Ok(d)) => (Some(d), None),
            Some(Err(e)) => (None, Some(e.to_string())),
        };
        Conn {
            tcp,
            fault,
            decoder: FrameDecoder::new(DecoderConfig { max_payload: max }),
            rules: RuleEngine::new(
                Role::Client,
                RuleConfig {
                    // RSV1 is permessage-deflate's "Per-Message Compressed" bit (RFC 7692 §6).
                    allowed_rsv: if negotiated.is_some() { RSV1 } else { 0 },
                    max_message: max,
                },
            ),
            message: None,
            out: Vec::new(),
            last_pong: None,
            closing: false,
            chunk: vec![0u8; READ_CHUNK],
            deflate,
            deflate_error,
            in_compressed: false,
            stream_ended: false,
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
                // A header that breaks a rule fails the connection before its payload arrives,
                // as a streaming implementation does; the payload may never come.
                Decoded::NeedMore(_) => match self.decoder.pending_header() {
                    Some(header) => {
                        let found = self.rules.check_header(&header);
                        break self.judge(found).unwrap_or(Flow::Continue);
                    }
                    None => break Flow::Continue,
                },
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
        let Frame { header, payload } = frame;
        // permessage-deflate first (RFC 7692 §6.1, §7.2.2): the RFC 6455 rules then judge the
        // message the client meant, not its compressed bytes.
        let mut drop_message = false;
        let mut payload = match self.inflate(&header, payload, &mut drop_message) {
            Ok(data) => data,
            Err(failure) => return failure,
        };
        let found = self.rules.observe(&header, &payload);
        if let Some(failure) = self.judge(found) {
            return failure;
        }
        match header.opcode {
            Opcode::Text | Opcode::Binary | Opcode::Continuation => {
                if let (Fault::NoUnmask, Some(key)) = (self.fault, header.mask) {
                    apply_mask(&mut payload, key, 0);
                }
                self.on_data(&header, payload, drop_message)
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
            // The inflated size of a compressed message, which this fault does not bound.
            V::PayloadTooLarge if self.in_compressed => Fault::DeflateInflateUnbounded,
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
            ViolationKind::PayloadTooLarge
            | ViolationKind::Deflate(FindingKind::InflatedTooLarge) => MESSAGE_TOO_BIG,
            _ => PROTOCOL_ERROR,
        };
        match (self.fault, code) {
            (Fault::WrongCloseCode, PROTOCOL_ERROR) => NORMAL,
            (Fault::Utf8Close1002, INVALID_PAYLOAD) => PROTOCOL_ERROR,
            (_, code) => code,
        }
    }

    fn on_data(&mut self, header: &FrameHeader, payload: Vec<u8>, drop_message: bool) -> Flow {
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
                dropped: false,
            },
        };
        message.dropped |= drop_message;
        let start = message.data.len();
        if start == 0 {
            // The first bytes of a message: taken over, not copied.
            message.data = payload;
        } else {
            message.data.extend_from_slice(&payload);
        }
        if message.opcode == Opcode::Text
            && !message.dropped
            && let Some(offset) = self.utf8_error(&mut message, start, header.fin)
        {
            return Flow::Fail(
                self.close_code(ViolationKind::InvalidUtf8Text),
                format!("text message is not valid utf-8 at byte {offset}"),
            );
        }
        if !header.fin {
            self.message = Some(message);
            return Flow::Continue;
        }
        match self.echo(message) {
            Ok(()) => Flow::Continue,
            Err(e) => Flow::Fail(INTERNAL_ERROR, e.to_string()),
        }
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

    /// Queues the echo of a complete message: as it came, or compressed when permessage-deflate
    /// was agreed (as one frame, RSV1 set, RFC 7692 §6.1).
    fn echo(&mut self, message: Message) -> Result<(), crate::wire::deflate::DeflateError> {
        if message.dropped {
            return Ok(());
        }
        let opcode = match (self.fault, message.opcode) {
            (Fault::BinaryAsText, Opcode::Binary) => Opcode::Text,
            (_, opcode) => opcode,
        };
        let mut data = message.data;
        if self.fault == Fault::TruncateLarge {
            data.truncate(TRUNCATE_AT);
        }
        let Some(deflate) = self.deflate.as_mut() else {
            self.queue(opcode, data);
            return Ok(());
        };
        if self.fault == Fault::DeflateUncompressedRsv1 {
            self.queue_frame(true, RSV1, opcode, data);
            return Ok(());
        }
        let compressed = deflate.compressor.compress(&data)?;
        if self.fault == Fault::Rsv1OnContinuation {
            // Two frames, RSV1 on both: the second one breaks §6.1.
            let (first, second) = compressed.split_at(compressed.len() / 2);
            self.queue_frame(false, RSV1, opcode, first.to_vec());
            self.queue_frame(true, RSV1, Opcode::Continuation, second.to_vec());
        } else {
            self.queue_frame(true, RSV1, opcode, compressed);
        }
        Ok(())
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

    /// Queues one final frame with the RSV bits clear; the server-frame faults change how it is
    /// encoded.
    fn queue(&mut self, opcode: Opcode, payload: Vec<u8>) {
        self.queue_frame(true, 0, opcode, payload);
    }

    /// Queues one frame; the server-frame faults change how it is encoded.
    fn queue_frame(&mut self, fin: bool, rsv: u8, opcode: Opcode, payload: Vec<u8>) {
        let rsv1_on_control =
            self.fault == Fault::Rsv1OnControl && self.deflate.is_some() && opcode.is_control();
        let spec = FrameSpec {
            fin,
            rsv: if self.fault == Fault::RsvOnServerFrames || rsv1_on_control {
                rsv | RSV1
            } else {
                rsv
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
        let written = timeout(WRITE_TIMEOUT, async {
            self.tcp.write_all(&self.out).await?;
            self.tcp.flush().await
        })
        .await;
        self.out.clear();
        matches!(written, Ok(Ok(())))
    }
}
