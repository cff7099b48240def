//! One direction of received frames through permessage-deflate: the stage between the frame
//! decoder and the RFC 6455 rules, used alike by the runner (what a server sends), the
//! reference server (what a client sends) and the capture decoder (both directions).
//!
//! [`Receiver::on_frame`] applies the RSV1 rules (RFC 7692 §6.1), inflates the payload of each
//! frame of a compressed message as it arrives (§6.2, §7.2.2) and hands back the message bytes
//! the frame contributes, so UTF-8, size and message matching work on what the sender meant,
//! never on compressed bytes (§6.1: a compressed text message need not be UTF-8 on the wire).
//! Inflated bytes count against the message limit as they are produced: a compression bomb is
//! a [`FindingKind::InflatedTooLarge`] finding, never an allocation.

use super::memo::Memo;
use super::{DeflateError, Finding, Inflater, MessageRsv, Negotiated};
use crate::wire::Role;
use crate::wire::frame::{FrameHeader, Opcode};

/// RSV1, the "Per-Message Compressed" bit, in [`FrameHeader::rsv`].
pub const RSV1: u8 = 0b100;

/// What permessage-deflate makes of one received frame.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Received {
    /// The frame belongs to a compressed message.
    pub compressed: bool,
    /// For a frame of a compressed message, the message bytes it contributes (inflated), to be
    /// used in place of its payload; `None` when the payload is the message data as it is.
    pub inflated: Option<Vec<u8>>,
    /// The RFC 7692 rules the frame breaks.
    pub findings: Vec<Finding>,
}

/// The permessage-deflate state of one direction of an established connection.
#[derive(Debug)]
pub struct Receiver {
    rsv: MessageRsv,
    inflater: Inflater,
    limit: usize,
    /// Inflated bytes of the message in progress.
    produced: usize,
    /// The current compressed message already broke a rule: its remaining frames are passed
    /// over (the connection is being failed).
    spoiled: bool,
    /// Without the sender's context takeover, what single-frame messages inflated to.
    memo: Memo,
}

impl Receiver {
    /// The stage for what the endpoint in `sender` role sends under `negotiated`; inflated
    /// messages may hold at most `max_message` bytes.
    pub fn new(
        negotiated: &Negotiated,
        sender: Role,
        max_message: u64,
    ) -> Result<Receiver, DeflateError> {
        Ok(Receiver {
            rsv: MessageRsv::new(true),
            inflater: Inflater::for_sender(negotiated, sender)?,
            limit: usize::try_from(max_message).unwrap_or(usize::MAX),
            produced: 0,
            spoiled: false,
            memo: Memo::default(),
        })
    }

    /// Marks the shared window as lost (a gap in a capture): later messages that rely on
    /// context takeover cannot be inflated and say so.
    pub fn lose_context(&mut self) {
        self.inflater.lose_context();
    }

    /// Judges and inflates one received frame (payload unmasked), in order.
    pub fn on_frame(&mut self, header: &FrameHeader, payload: &[u8]) -> Received {
        let state = self
            .rsv
            .on_frame(header.opcode, header.fin, header.rsv & RSV1 != 0);
        let mut out = Received {
            compressed: state.compressed,
            inflated: None,
            findings: state.finding.into_iter().collect(),
        };
        if !state.compressed
            || !matches!(
                header.opcode,
                Opcode::Text | Opcode::Binary | Opcode::Continuation
            )
        {
            return out;
        }
        let whole = state.starts_message && header.fin && self.inflater.context_free();
        if whole && let Some(message) = self.memo.get(payload) {
            // A message that inflated cleanly before: the same bytes, the same result.
            self.produced = message.len();
            self.spoiled = false;
            out.inflated = Some(message.to_vec());
            return out;
        }
        if state.starts_message {
            self.inflater.begin_message();
            self.produced = 0;
            self.spoiled = false;
        }
        let mut data = Vec::new();
        if !self.spoiled {
            let room = self.limit.saturating_sub(self.produced);
            let mut finding = self.inflater.push(payload, room, &mut data);
            if finding.is_none() && header.fin {
                let room = room.saturating_sub(data.len());
                let mut tail = Vec::new();
                finding = self.inflater.finish(room, &mut tail);
                data.extend_from_slice(&tail);
            }
            self.produced += data.len();
            if let Some(f) = finding {
                self.spoiled = true;
                out.findings.push(f);
            } else if whole && out.findings.is_empty() {
                self.memo.put(payload, &data);
            }
        }
        out.inflated = Some(data);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::deflate::{Compressor, FindingKind, forms};
    use crate::wire::encode::FrameSpec;

    fn header(opcode: Opcode, fin: bool, rsv: u8, len: usize) -> FrameHeader {
        let mut h = FrameSpec::new(opcode, vec![0; len]).header();
        h.fin = fin;
        h.rsv = rsv;
        h
    }

    fn receiver(limit: u64) -> Receiver {
        Receiver::new(&Negotiated::default(), Role::Server, limit).unwrap()
    }

    #[test]
    fn rfc7692_6_2_fragments_of_a_compressed_message_inflate_piece_by_piece() {
        let mut c = Compressor::new(15, false, 6).unwrap();
        let payload = c.compress("Hello, Hello, Hello".as_bytes()).unwrap();
        let (a, b) = payload.split_at(payload.len() / 2);
        let mut r = receiver(1 << 20);
        let first = r.on_frame(&header(Opcode::Text, false, RSV1, a.len()), a);
        let last = r.on_frame(&header(Opcode::Continuation, true, 0, b.len()), b);
        assert!(first.findings.is_empty() && last.findings.is_empty());
        let mut all = first.inflated.unwrap();
        all.extend(last.inflated.unwrap());
        assert_eq!(all, b"Hello, Hello, Hello");
        // An uncompressed message in between is passed through untouched (§6.1).
        let plain = r.on_frame(&header(Opcode::Text, true, 0, 2), b"hi");
        assert_eq!(plain, Received::default());
    }

    #[test]
    fn rfc7692_6_1_rsv1_on_continuation_and_control_frames_are_findings() {
        let mut r = receiver(1 << 20);
        let bad = r.on_frame(&header(Opcode::Ping, true, RSV1, 0), b"");
        assert_eq!(bad.findings[0].kind, FindingKind::Rsv1OnControlFrame);
        let stored = forms::stored_blocks(b"abc");
        r.on_frame(&header(Opcode::Binary, false, 0, 1), b"a");
        let cont = r.on_frame(
            &header(Opcode::Continuation, true, RSV1, stored.len()),
            &stored,
        );
        assert_eq!(cont.findings[0].kind, FindingKind::Rsv1OnContinuation);
    }

    #[test]
    fn rfc6455_10_4_a_bomb_stops_at_the_limit() {
        let mut c = Compressor::new(15, false, 9).unwrap();
        let payload = c.compress(&vec![0u8; 4 << 20]).unwrap();
        let mut r = receiver(64 << 10);
        let got = r.on_frame(&header(Opcode::Binary, true, RSV1, payload.len()), &payload);
        assert_eq!(got.findings[0].kind, FindingKind::InflatedTooLarge);
        assert!(got.inflated.unwrap().len() <= 64 << 10);
    }

    #[test]
    fn rfc7692_7_2_2_invalid_data_is_a_finding_once_per_message() {
        let mut r = receiver(1 << 20);
        let bad = forms::Invalid::ReservedBlockType.payload();
        let first = r.on_frame(&header(Opcode::Binary, false, RSV1, bad.len()), bad);
        assert_eq!(first.findings[0].kind, FindingKind::InvalidCompressedData);
        let next = r.on_frame(&header(Opcode::Continuation, true, 0, 1), b"x");
        assert!(next.findings.is_empty());
    }
}
