//! One connection of the reference client after the opening handshake, sans-IO: bytes from the
//! server go in, bytes for the server come out, and the session says whether to keep reading,
//! wait for the server to close TCP, or close TCP now.
//!
//! The server's frames are judged by [`RuleEngine`] with the server as the sender (§5.1
//! masking, §5.2 RSV bits and opcodes, §5.4 fragmentation, §5.5 control frames, §5.5.1 and §7.4
//! close payloads, §8.1 UTF-8). The conformant client fails the connection on any violation:
//! it sends a close frame (1007 for invalid UTF-8, 1002 otherwise) and then waits for the
//! server to close TCP (§7.1.1, §7.1.7). It echoes every whole text or binary message with the
//! same opcode, answers pings with pongs carrying the same payload (§5.5.2), and answers the
//! server's close with a close echoing its code (§5.5.1). The faults each switch off or change
//! one of these behaviours.

use crate::wire::close::ClosePayload;
use crate::wire::frame::{HeaderStatus, parse_header};
use crate::wire::rules::{RuleConfig, RuleEngine};
use crate::wire::utf8::{Utf8Status, Utf8Validator};
use crate::wire::{
    Decoded, DecoderConfig, FrameDecoder, FrameHeader, FrameSpec, Opcode, Role, Violation,
    ViolationKind,
};

use super::fault::{ClientFault, FaultSet};
use super::mask::{EntropyError, MaskSource};

/// Largest message the client buffers (Autobahn's 9.x cases send up to 16 MiB).
pub const MAX_MESSAGE: u64 = 64 * 1024 * 1024;

/// Where the connection stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// Messages flow.
    Open,
    /// The server sent a close frame; `replied` says whether the client answered it.
    CloseReceived {
        /// The code the server sent, if any.
        code: Option<u16>,
        /// Whether a close frame went back.
        replied: bool,
    },
    /// The client failed the connection with this close code because of these violations.
    Failed {
        /// The close code sent.
        code: u16,
        /// What the server did wrong.
        violations: Vec<Violation>,
    },
}

/// What the driver should do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Keep reading with the case's deadline.
    Read,
    /// The closing handshake is done from the client's side: wait (briefly) for the server to
    /// close TCP, reading and feeding whatever still arrives.
    AwaitTcpClose,
    /// Close TCP now.
    CloseTcp,
}

/// The client's side of one connection.
#[derive(Debug)]
pub struct Session {
    faults: FaultSet,
    echo: bool,
    decoder: FrameDecoder,
    rules: RuleEngine,
    /// Opcode and bytes of the message being assembled.
    message: Option<(Opcode, Vec<u8>)>,
    state: State,
    out: Vec<u8>,
    /// Whole messages received (text and binary), in order.
    received: Vec<(Opcode, Vec<u8>)>,
    /// Messages echoed.
    echoed: usize,
    /// `ignore-garbage`: bytes held back until they start with a valid frame header.
    garbage: Option<Vec<u8>>,
    /// UTF-8 state of the text message in progress, over its complete frames.
    text_utf8: Utf8Validator,
    /// The text frame whose payload is still arriving: its stream offset, how many of its
    /// payload bytes were validated and the state after them (§8.1: fail as soon as invalid
    /// bytes arrive, not when the frame is complete).
    partial: Option<(u64, usize, Utf8Validator)>,
}

impl Session {
    /// A session for a connection just opened; `echo` says whether to echo messages (the
    /// `runCase` connections) or only collect them (`getCaseCount`).
    pub fn new(faults: FaultSet, echo: bool) -> Session {
        let garbage = faults.has(ClientFault::IgnoreGarbage).then(Vec::new);
        Session {
            faults,
            echo,
            decoder: FrameDecoder::new(DecoderConfig {
                max_payload: MAX_MESSAGE,
            }),
            rules: RuleEngine::new(
                Role::Server,
                RuleConfig {
                    allowed_rsv: 0,
                    max_message: MAX_MESSAGE,
                },
            ),
            message: None,
            state: State::Open,
            out: Vec::new(),
            received: Vec::new(),
            echoed: 0,
            garbage,
            text_utf8: Utf8Validator::new(),
            partial: None,
        }
    }

    /// Where the connection stands.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Whole text and binary messages received so far.
    pub fn received(&self) -> &[(Opcode, Vec<u8>)] {
        &self.received
    }

    /// How many messages were echoed.
    pub fn echoed(&self) -> usize {
        self.echoed
    }

    /// Bytes to send to the server, taken out of the session.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// What to do after the bytes fed so far.
    pub fn next(&self) -> Next {
        match &self.state {
            State::Open => Next::Read,
            State::CloseReceived { replied: true, .. }
                if self.faults.has(ClientFault::CloseTcpFirst) =>
            {
                Next::CloseTcp
            }
            State::CloseReceived { .. } | State::Failed { .. } => Next::AwaitTcpClose,
        }
    }

    /// Feeds bytes received from the server and reacts to every whole frame in them.
    pub fn receive(&mut self, bytes: &[u8], masks: &mut MaskSource) -> Result<(), EntropyError> {
        match self.garbage.as_mut() {
            Some(held) => {
                held.extend_from_slice(bytes);
                self.skip_garbage();
            }
            None => self.decoder.push(bytes),
        }
        self.process(masks)
    }

    /// `ignore-garbage`: drops leading bytes, one at a time, while they do not start a frame
    /// header the rules accept; once one does, the bytes go to the decoder as usual.
    fn skip_garbage(&mut self) {
        let Some(held) = self.garbage.as_mut() else {
            return;
        };
        let mut start = 0;
        while start < held.len() {
            match parse_header(&held[start..]) {
                HeaderStatus::Incomplete(_) => break,
                HeaderStatus::Complete(h, _) => {
                    let orphan = h.opcode == Opcode::Continuation;
                    if self.rules.clone().check_header(&h).is_empty() && !orphan {
                        self.decoder.push(&held[start..]);
                        self.garbage = None;
                        return;
                    }
                    start += 1;
                }
            }
        }
        held.drain(..start);
    }

    fn process(&mut self, masks: &mut MaskSource) -> Result<(), EntropyError> {
        loop {
            match self.decoder.next_frame() {
                Decoded::Frame(decoded) => {
                    let frame = decoded.frame;
                    self.on_frame(&frame.header, frame.payload, masks)?;
                }
                Decoded::Oversized { header, .. } => {
                    let found = self.rules.observe_oversized(&header);
                    if self.state == State::Open {
                        self.fail(1009, found, masks)?;
                    }
                }
                Decoded::NeedMore(_) => {
                    // Judge a header before its payload arrives: a bad header fails the
                    // connection at once, not after a payload that may never come.
                    if self.state == State::Open
                        && let Some(h) = self.decoder.pending_header()
                    {
                        let found = self.kept(self.rules.clone().check_header(&h));
                        if !found.is_empty() {
                            self.fail(1002, found, masks)?;
                        } else if let Some(v) = self.check_partial_text(&h) {
                            self.fail(1007, vec![v], masks)?;
                        }
                    }
                    return Ok(());
                }
            }
        }
    }

    /// Validates the part of a text frame's payload that has arrived; the violation if it is
    /// already invalid.
    fn check_partial_text(&mut self, h: &FrameHeader) -> Option<Violation> {
        let text = match h.opcode {
            Opcode::Text => true,
            Opcode::Continuation => matches!(self.message, Some((Opcode::Text, _))),
            _ => false,
        };
        if !text || h.mask.is_some() || self.faults.has(ClientFault::NoUtf8Check) {
            return None;
        }
        let offset = self.decoder.stream_offset();
        let buffered = self.decoder.buffered();
        let HeaderStatus::Complete(_, header_len) = parse_header(buffered) else {
            return None;
        };
        let payload = &buffered[header_len..];
        let fresh = match &self.partial {
            Some((at, _, _)) => *at != offset,
            None => true,
        };
        if fresh {
            let state = if h.opcode == Opcode::Text {
                Utf8Validator::new()
            } else {
                self.text_utf8.clone()
            };
            self.partial = Some((offset, 0, state));
        }
        let (_, done, state) = self.partial.as_mut()?;
        let status = state.feed(&payload[*done..]);
        *done = payload.len();
        match status {
            Utf8Status::Invalid { offset } => Some(Violation::new(
                ViolationKind::InvalidUtf8Text,
                format!("text message is not valid utf-8 at byte {offset}"),
            )),
            Utf8Status::Valid | Utf8Status::Incomplete => None,
        }
    }

    /// The violations the faults do not wave through.
    fn kept(&self, found: Vec<Violation>) -> Vec<Violation> {
        found
            .into_iter()
            .filter(|v| {
                let fault = match v.kind {
                    ViolationKind::MaskedServerFrame => ClientFault::AcceptMaskedFrames,
                    ViolationKind::ReservedBitsSet => ClientFault::IgnoreRsv,
                    ViolationKind::ReservedOpcode => ClientFault::IgnoreReservedOpcodes,
                    ViolationKind::InvalidUtf8Text => ClientFault::NoUtf8Check,
                    ViolationKind::ControlFrameTooLong | ViolationKind::FragmentedControlFrame => {
                        ClientFault::AcceptBadControl
                    }
                    ViolationKind::MalformedClosePayload
                    | ViolationKind::InvalidCloseCode
                    | ViolationKind::InvalidUtf8CloseReason => ClientFault::AcceptBadClose,
                    // The server's data after its own close is ignored, not failed: the client
                    // has answered the close already.
                    ViolationKind::DataAfterClose => return false,
                    _ => return true,
                };
                !self.faults.has(fault)
            })
            .collect()
    }

    fn on_frame(
        &mut self,
        header: &FrameHeader,
        payload: Vec<u8>,
        masks: &mut MaskSource,
    ) -> Result<(), EntropyError> {
        let found = self.rules.observe(header, &payload);
        match &self.state {
            State::Open => {}
            State::CloseReceived { replied: true, .. }
                if self.faults.has(ClientFault::EchoAfterClose) =>
            {
                if !header.opcode.is_control() {
                    self.on_data(header, payload, masks)?;
                }
                return Ok(());
            }
            // After the closing handshake started, nothing but TCP's end is awaited.
            State::CloseReceived { .. } | State::Failed { .. } => return Ok(()),
        }
        let found = self.kept(found);
        if !found.is_empty() {
            let utf8 = found.iter().any(|v| {
                matches!(
                    v.kind,
                    ViolationKind::InvalidUtf8Text | ViolationKind::InvalidUtf8CloseReason
                )
            });
            return self.fail(if utf8 { 1007 } else { 1002 }, found, masks);
        }
        match header.opcode {
            Opcode::Text | Opcode::Binary | Opcode::Continuation => {
                self.on_data(header, payload, masks)?;
            }
            Opcode::Ping => {
                if !self.faults.has(ClientFault::NoPong) {
                    self.send(Opcode::Pong, payload, masks)?;
                }
            }
            Opcode::Close => self.on_close(&payload, masks)?,
            // Unsolicited pongs are ignored (§5.5.3); reserved opcodes reach here only with
            // `ignore-reserved-opcodes`, which skips them.
            Opcode::Pong | Opcode::ReservedData(_) | Opcode::ReservedControl(_) => {}
        }
        Ok(())
    }

    fn on_data(
        &mut self,
        header: &FrameHeader,
        payload: Vec<u8>,
        masks: &mut MaskSource,
    ) -> Result<(), EntropyError> {
        let (opcode, mut bytes) = match (header.opcode, self.message.take()) {
            (Opcode::Continuation, Some((op, mut bytes))) => {
                bytes.extend_from_slice(&payload);
                (op, bytes)
            }
            // Only reachable after the close (echo-after-close): nothing to continue.
            (Opcode::Continuation, None) => return Ok(()),
            (op, _) => (op, payload),
        };
        if opcode == Opcode::Text {
            if header.opcode == Opcode::Text {
                self.text_utf8.reset();
            }
            self.text_utf8
                .feed(payload_tail(&bytes, header.payload_len));
        }
        self.partial = None;
        if !header.fin {
            self.message = Some((opcode, bytes));
            return Ok(());
        }
        bytes.shrink_to_fit();
        if self.echo {
            self.send(opcode, bytes.clone(), masks)?;
            self.echoed += 1;
        }
        self.received.push((opcode, bytes));
        Ok(())
    }

    fn on_close(&mut self, payload: &[u8], masks: &mut MaskSource) -> Result<(), EntropyError> {
        let parsed = ClosePayload::parse(payload);
        let code = parsed.code();
        let replied = !self.faults.has(ClientFault::NoCloseReply);
        if replied {
            // The code is echoed as received: with accept-bad-close that may be one that must
            // not be sent (§7.4), which is how that fault shows on the wire.
            let reply = code.map(|c| c.to_be_bytes().to_vec()).unwrap_or_default();
            self.send(Opcode::Close, reply, masks)?;
        }
        self.state = State::CloseReceived { code, replied };
        Ok(())
    }

    fn fail(
        &mut self,
        code: u16,
        violations: Vec<Violation>,
        masks: &mut MaskSource,
    ) -> Result<(), EntropyError> {
        self.send(Opcode::Close, code.to_be_bytes().to_vec(), masks)?;
        self.state = State::Failed { code, violations };
        Ok(())
    }

    /// Sends the close frame of a client ending a connection on its own (a case timeout).
    pub fn close(&mut self, code: u16, masks: &mut MaskSource) -> Result<(), EntropyError> {
        if self.state == State::Open {
            self.send(Opcode::Close, code.to_be_bytes().to_vec(), masks)?;
        }
        Ok(())
    }

    fn send(
        &mut self,
        opcode: Opcode,
        payload: Vec<u8>,
        masks: &mut MaskSource,
    ) -> Result<(), EntropyError> {
        let mut spec = FrameSpec::new(opcode, payload);
        spec.mask = masks.next_key()?;
        spec.encode_into(&mut self.out);
        Ok(())
    }
}

/// The last `len` bytes of `bytes`: the payload of the frame just appended to a message.
fn payload_tail(bytes: &[u8], len: u64) -> &[u8] {
    let len = usize::try_from(len).unwrap_or(usize::MAX).min(bytes.len());
    &bytes[bytes.len() - len..]
}

#[cfg(test)]
mod tests;
