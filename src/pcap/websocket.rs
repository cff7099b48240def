//! One direction of a WebSocket connection in a capture: frames through the same
//! [`FrameDecoder`] the runner uses, judged by [`RuleEngine`], reassembled into messages and
//! inflated when permessage-deflate was negotiated.
//!
//! A gap in the TCP stream that falls inside a payload of known length is filled with zeros so
//! the decoder stays in step (unmasking stays aligned: the mask index is the payload offset);
//! the frame and its message carry the ranges that were not captured, so every output marks
//! them, and no rule that reads payload bytes (UTF-8 of a text message, close code and reason)
//! judges a frame or message with missing bytes: they would be judged from zeros that were
//! never on the wire. A gap that hits a frame header leaves no way to know where the next
//! frame starts, so the direction is marked lost there (or resumes at a plausible header).
//!
//! With permessage-deflate negotiated, each frame goes through a [`Receiver`] of the shared
//! `wire::deflate` layer before the rules, as in the runner: the RSV1 rules and every
//! inflation finding come from there, and the rules judge the inflated bytes. What was not
//! captured is never blamed on a peer: a compressed message with missing bytes is not inflated
//! (its frames reach the receiver without payload, for the RSV1 rules only) and its payload
//! findings are dropped; with context takeover the shared window is then lost, and later
//! messages of that direction are shown as not inflated, without a finding.

use std::collections::VecDeque;

use crate::wire::deflate::{FindingKind, Negotiated, Receiver};
use crate::wire::frame::{HeaderStatus, RSV1, parse_header};
use crate::wire::rules::{RuleConfig, RuleEngine};
use crate::wire::{
    Decoded, DecodedFrame, DecoderConfig, Direction, FrameDecoder, FrameHeader, Opcode, Violation,
    ViolationKind,
};

use super::Ctx;
use super::events::{
    Event, FrameEvent, GapEffect, Inflation, MessageEvent, ViolationEvent, WarningEvent,
};
use super::ledger::AppCounts;
use super::reassembly::GapKind;
use super::walker::{Walker, count_message, plausible};

/// Which packet brought which stream bytes, and when, for the bytes not yet reported.
#[derive(Clone, Debug, Default)]
pub struct Marks {
    /// (first stream offset, packet, capture time of the packet), ascending.
    marks: VecDeque<(u64, u64, i128)>,
}

impl Marks {
    /// Records that bytes from `offset` on came in `packet`, captured at `time_ns`.
    pub fn push(&mut self, offset: u64, packet: u64, time_ns: i128) {
        match self.marks.back() {
            Some(&(_, p, _)) if p == packet => {}
            Some(&(o, _, _)) if o == offset => {
                self.marks.pop_back();
                self.marks.push_back((offset, packet, time_ns));
            }
            _ => self.marks.push_back((offset, packet, time_ns)),
        }
    }

    fn entry_at(&self, offset: u64) -> Option<&(u64, u64, i128)> {
        let i = self.marks.partition_point(|&(o, _, _)| o <= offset);
        if i == 0 {
            self.marks.front()
        } else {
            self.marks.get(i - 1)
        }
    }

    /// The packet that brought the byte at `offset` (0 if unknown).
    pub fn packet_at(&self, offset: u64) -> u64 {
        self.entry_at(offset).map_or(0, |m| m.1)
    }

    /// The packet that brought the byte at `offset` and its capture time.
    pub fn at(&self, offset: u64) -> Option<(u64, i128)> {
        self.entry_at(offset).map(|m| (m.1, m.2))
    }

    /// The highest packet number among the bytes `[from, to)`, with its capture time: the
    /// packet whose arrival completed them, which is where tshark reports a PDU (with
    /// reordering it is not the packet that carried the last byte).
    pub fn completing(&self, from: u64, to: u64) -> Option<(u64, i128)> {
        let first = self
            .marks
            .partition_point(|&(o, _, _)| o <= from)
            .saturating_sub(1);
        self.marks
            .iter()
            .skip(first)
            .take_while(|&&(o, _, _)| o < to)
            .max_by_key(|&&(_, p, _)| p)
            .map(|&(_, p, t)| (p, t))
    }

    /// Forgets marks wholly before `offset`.
    pub fn trim_before(&mut self, offset: u64) {
        while self.marks.len() > 1 && self.marks[1].0 <= offset {
            self.marks.pop_front();
        }
    }
}

/// Where an event completed by `packet` (captured at `time_ns`, when known) is reported.
fn at_packet(ctx: &Ctx<'_>, found: Option<(u64, i128)>) -> super::events::At {
    let (packet, time_ns) = found.unwrap_or((0, ctx.time_ns));
    super::events::At {
        conn: ctx.conn,
        packet,
        time_ns,
        stream: ctx.stream,
    }
}

struct Message {
    opcode: Opcode,
    compressed: bool,
    /// The payload bytes as on the wire (compressed for a compressed message).
    data: Vec<u8>,
    /// A compressed message's bytes as the receiver inflated them.
    inflated: Vec<u8>,
    frames: u32,
    wire_len: u64,
    incomplete: bool,
    /// Ranges of `data` that were not captured.
    missing: Vec<(u64, u64)>,
}

/// Violations that are computed from payload bytes: not reported for a frame or message whose
/// payload has bytes that were not captured.
fn reads_payload(kind: ViolationKind) -> bool {
    matches!(
        kind,
        ViolationKind::InvalidUtf8Text
            | ViolationKind::InvalidUtf8CloseReason
            | ViolationKind::InvalidCloseCode
    )
}

/// RFC 7692 findings computed from a compressed message's payload bytes: not reported for a
/// message with bytes that were not captured, or that needs a window that was lost.
fn deflate_reads_payload(kind: FindingKind) -> bool {
    !matches!(
        kind,
        FindingKind::Rsv1OnContinuation
            | FindingKind::Rsv1OnControlFrame
            | FindingKind::Rsv1NotNegotiated
    )
}

/// RFC 7692 findings after which a message's inflated bytes are not what the sender meant.
fn deflate_spoils_message(kind: FindingKind) -> bool {
    matches!(
        kind,
        FindingKind::InvalidCompressedData
            | FindingKind::ServerContextTakeover
            | FindingKind::ClientContextTakeover
            | FindingKind::InflatedTooLarge
    )
}

/// RFC 7692 findings after which the shared layer's inflater gives up the window of a
/// context-takeover direction (`codec::Inflater`: a failed `push`, a window overreach).
fn deflate_breaks_context(kind: FindingKind) -> bool {
    matches!(
        kind,
        FindingKind::InvalidCompressedData
            | FindingKind::InflatedTooLarge
            | FindingKind::ServerWindowExceeded
            | FindingKind::ClientWindowExceeded
    )
}

/// Why the current message is not inflated.
const NOT_CAPTURED: &str = "the message was not fully captured";
const CONTEXT_LOST: &str = "the compression context was lost earlier in this direction";

/// The WebSocket decoder of one direction.
pub struct WsSide {
    dir: Direction,
    /// Stream offset of the decoder's byte 0.
    base: u64,
    decoder: FrameDecoder,
    rules: Option<RuleEngine>,
    /// permessage-deflate was negotiated for this connection.
    deflate: bool,
    /// No handshake was seen: RSV1 may mean compression, but nothing can be inflated.
    unknown_extensions: bool,
    /// The permessage-deflate stage of this direction (`None` without negotiation, or when
    /// only headers are walked).
    receiver: Option<Receiver>,
    /// The sender agreed to `*_no_context_takeover`: every message starts a fresh window.
    no_context_takeover: bool,
    /// The shared window of a context-takeover direction is gone (a gap, an uncaptured or
    /// failed message): later compressed messages cannot be inflated, through no peer's fault.
    context_lost: bool,
    /// Why the open compressed message cannot be inflated, when it cannot.
    deflate_failed: Option<String>,
    /// The open compressed message is not judged from its payload (bytes not captured, or the
    /// window it needs was lost).
    deflate_unjudged: bool,
    message: Option<Message>,
    /// A data message is open (kept even when payloads are not decoded).
    open: bool,
    /// The open (or last) data message is compressed.
    compressed: bool,
    /// Zero-filled ranges (decoder offsets) and whether they were lost rather than truncated.
    filled: Vec<(u64, u64, bool)>,
    lost: bool,
    /// After a gap at a frame boundary: the next header must look plausible.
    resync: bool,
    /// The oversized frame being skipped is a data frame.
    skip_is_data: bool,
    /// `overhead` mode: headers only, through the walker.
    walker: Option<Walker>,
    /// The ranges of the current frame's payload that were not captured.
    frame_missing: Vec<(u64, u64)>,
    /// A frame of the open data message had bytes that were not captured.
    message_missing: bool,
}

impl std::fmt::Debug for WsSide {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsSide")
            .field("dir", &self.dir)
            .field("base", &self.base)
            .field("lost", &self.lost)
            .finish()
    }
}

const ZEROS: [u8; 4096] = [0; 4096];

impl WsSide {
    /// A decoder for `dir` whose first byte is at stream offset `base`. `deflate` holds the
    /// agreed parameters when permessage-deflate was negotiated; `handshake_seen` is false for
    /// `--port` decoding.
    pub fn new(
        dir: Direction,
        base: u64,
        deflate: Option<&Negotiated>,
        handshake_seen: bool,
        ctx: &Ctx<'_>,
    ) -> WsSide {
        // The agreed window bits are 8–15 by construction (`offer::window_bits_value`), the one
        // thing `Receiver::new` checks; were it to refuse, messages are shown as not inflated.
        let receiver = deflate
            .filter(|_| ctx.decode)
            .and_then(|n| Receiver::new(n, dir.sender(), ctx.max_message as u64).ok());
        let allowed_rsv = if deflate.is_some() || !handshake_seen {
            RSV1
        } else {
            0
        };
        WsSide {
            dir,
            base,
            decoder: FrameDecoder::new(DecoderConfig {
                max_payload: ctx.max_message as u64,
            }),
            rules: ctx.decode.then(|| {
                RuleEngine::new(
                    dir.sender(),
                    RuleConfig {
                        allowed_rsv,
                        max_message: ctx.max_message as u64,
                    },
                )
            }),
            deflate: deflate.is_some(),
            unknown_extensions: !handshake_seen,
            receiver,
            no_context_takeover: deflate.is_some_and(|n| n.no_context_takeover(dir.sender())),
            context_lost: false,
            deflate_failed: None,
            deflate_unjudged: false,
            message: None,
            open: false,
            compressed: false,
            filled: Vec::new(),
            lost: false,
            resync: false,
            skip_is_data: false,
            walker: (!ctx.decode).then(|| Walker::new(dir, allowed_rsv)),
            frame_missing: Vec::new(),
            message_missing: false,
        }
    }

    /// Feeds stream bytes.
    pub fn push(
        &mut self,
        bytes: &[u8],
        ctx: &mut Ctx<'_>,
        marks: &mut Marks,
        counts: &mut AppCounts,
    ) {
        if self.lost {
            return;
        }
        if let Some(w) = &mut self.walker {
            if w.push(bytes, counts) {
                self.lost = true;
                self.warn_implausible(ctx, marks);
            }
            return;
        }
        let skipping = self.decoder.skipping();
        if skipping > 0 {
            // Payload of an oversized frame passes through uncounted by frames: count it here.
            let n = skipping.min(bytes.len() as u64);
            counts.ws_payload += n;
            if self.skip_is_data {
                counts.ws_data_payload += n;
            }
        }
        self.decoder.push(bytes);
        if self.resync {
            match parse_header(self.decoder.buffered()) {
                HeaderStatus::Incomplete(_) => return,
                HeaderStatus::Complete(h, _) if plausible(&h, self.dir, self.allowed_rsv()) => {
                    self.resync = false
                }
                HeaderStatus::Complete(..) => {
                    self.lost = true;
                    self.warn_implausible(ctx, marks);
                    return;
                }
            }
        }
        self.drain(ctx, marks, counts);
    }

    /// Starts decoding at stream offset `base` only from a plausible frame header on (after a
    /// gap that left the frame boundaries unknown).
    pub fn resync_at(&mut self, base: u64) {
        self.base = base;
        match &mut self.walker {
            Some(w) => w.resync(),
            None => self.resync = true,
        }
    }

    fn warn_implausible(&self, ctx: &mut Ctx<'_>, marks: &Marks) {
        let msg = format!(
            "connection {} {}: no plausible frame header after the gap at stream offset {}; not decoded from there",
            ctx.conn,
            self.dir.arrow(),
            self.base
        );
        ctx.sink.event(&Event::Warning(WarningEvent {
            packet: Some(marks.packet_at(self.base)),
            conn: Some(ctx.conn),
            message: &msg,
        }));
    }

    fn allowed_rsv(&self) -> u8 {
        if self.deflate || self.unknown_extensions {
            RSV1
        } else {
            0
        }
    }

    /// What a gap of `len` bytes at stream offset `offset` will do to decoding.
    pub fn gap_effect(&self, offset: u64, len: u64) -> GapEffect {
        if self.lost {
            return GapEffect::StreamLost;
        }
        if let Some(w) = &self.walker {
            return w.gap_effect(len);
        }
        let at = offset.saturating_sub(self.base);
        if self.decoder.skipping() > 0 {
            return if len <= self.decoder.skipping() {
                GapEffect::SkippedInPayload
            } else {
                GapEffect::StreamLost
            };
        }
        let start = self.decoder.stream_offset();
        match parse_header(self.decoder.buffered()) {
            HeaderStatus::Complete(h, hl) => {
                let payload_end = start + hl as u64 + h.payload_len;
                if at >= start + hl as u64 && at + len <= payload_end {
                    GapEffect::SkippedInPayload
                } else {
                    GapEffect::StreamLost
                }
            }
            HeaderStatus::Incomplete(_) if self.decoder.buffered().is_empty() && at == start => {
                GapEffect::AtFrameBoundary
            }
            HeaderStatus::Incomplete(_) => GapEffect::StreamLost,
        }
    }

    /// Applies a gap whose effect [`WsSide::gap_effect`] decided.
    #[allow(clippy::too_many_arguments)]
    pub fn gap(
        &mut self,
        offset: u64,
        len: u64,
        kind: GapKind,
        effect: GapEffect,
        ctx: &mut Ctx<'_>,
        marks: &mut Marks,
        counts: &mut AppCounts,
    ) {
        if let Some(w) = &mut self.walker {
            if effect == GapEffect::AtFrameBoundary {
                self.base = offset + len;
            }
            w.gap(len, kind, effect, counts);
            self.lost = w.lost;
            return;
        }
        match effect {
            GapEffect::SkippedInPayload => {
                if self.decoder.skipping() > 0 && kind == GapKind::Truncated {
                    counts.ws_payload += len;
                    if self.skip_is_data {
                        counts.ws_data_payload += len;
                    }
                }
                let at = offset.saturating_sub(self.base);
                self.filled.push((at, at + len, kind == GapKind::Lost));
                let mut left = len;
                while left > 0 {
                    let n = left.min(ZEROS.len() as u64) as usize;
                    self.decoder.push(&ZEROS[..n]);
                    left -= n as u64;
                }
                self.drain(ctx, marks, counts);
            }
            GapEffect::AtFrameBoundary => {
                // Whole frames may have been lost: start a fresh decoder after the gap and
                // accept its first header only if it is plausible (see `push`).
                self.decoder = FrameDecoder::new(DecoderConfig {
                    max_payload: ctx.max_message as u64,
                });
                self.base = offset + len;
                self.resync = true;
                if let Some(m) = &mut self.message {
                    m.incomplete = true;
                }
                self.lose_context(self.open && self.compressed);
            }
            GapEffect::StreamLost | GapEffect::Harmless => {
                self.lost = true;
                self.lose_context(self.open && self.compressed);
            }
        }
    }

    /// Bytes of this direction were not captured: the shared window is lost (for a
    /// context-takeover sender), and the open compressed message, if `in_message`, is not
    /// inflated or judged from its payload.
    fn lose_context(&mut self, in_message: bool) {
        let Some(rx) = &mut self.receiver else {
            return;
        };
        rx.lose_context();
        if !self.no_context_takeover {
            self.context_lost = true;
        }
        if in_message {
            self.deflate_unjudged = true;
            if self.deflate_failed.is_none() {
                self.deflate_failed = Some(NOT_CAPTURED.into());
            }
        }
    }

    /// The permessage-deflate stage for one frame of a direction with a [`Receiver`]: reports
    /// the findings a peer is to blame for and returns the bytes the frame contributes to its
    /// message when it belongs to a compressed one (inflated; empty when not inflated).
    fn deflate_frame(
        &mut self,
        h: &FrameHeader,
        payload: &[u8],
        missing: bool,
        ctx: &mut Ctx<'_>,
        at: super::events::At,
    ) -> Option<Vec<u8>> {
        let starts = matches!(h.opcode, Opcode::Text | Opcode::Binary);
        if starts {
            self.deflate_failed = None;
            self.deflate_unjudged = false;
            if h.rsv & RSV1 != 0 && self.context_lost {
                self.deflate_failed = Some(CONTEXT_LOST.into());
                self.deflate_unjudged = true;
            }
        }
        let data = matches!(
            h.opcode,
            Opcode::Text | Opcode::Binary | Opcode::Continuation
        );
        let compressed = if starts {
            h.rsv & RSV1 != 0
        } else {
            self.open && self.compressed
        };
        if missing && data && compressed {
            self.lose_context(true);
        }
        let rx = self.receiver.as_mut()?;
        // A message that is not inflated passes its frames for the RSV1 rules only.
        let fed = if self.deflate_failed.is_some() {
            &[][..]
        } else {
            payload
        };
        let received = rx.on_frame(h, fed);
        for f in received.findings {
            let reads_payload = deflate_reads_payload(f.kind);
            if reads_payload && self.deflate_unjudged {
                continue;
            }
            if deflate_spoils_message(f.kind) && self.deflate_failed.is_none() {
                self.deflate_failed = Some(f.detail.clone());
            }
            if deflate_breaks_context(f.kind) && !self.no_context_takeover {
                self.context_lost = true;
            }
            let v = Violation::from(f);
            ctx.sink.event(&Event::Violation(ViolationEvent {
                at,
                dir: self.dir,
                violation: &v,
            }));
        }
        received
            .compressed
            .then(|| received.inflated.unwrap_or_default())
    }

    /// Zero-filled bytes inside `[from, to)`: (all, lost ones), their ranges relative to
    /// `from` in `frame_missing`; forgets ranges ending by `to`.
    fn take_filled(&mut self, from: u64, to: u64) -> (u64, u64) {
        let mut all = 0;
        let mut lost = 0;
        self.frame_missing.clear();
        for &(s, e, is_lost) in &self.filled {
            let (a, b) = (s.max(from), e.min(to));
            let n = b.saturating_sub(a);
            if n > 0 {
                self.frame_missing.push((a - from, b - from));
            }
            all += n;
            if is_lost {
                lost += n;
            }
        }
        self.filled.retain(|&(_, e, _)| e > to);
        (all, lost)
    }

    fn drain(&mut self, ctx: &mut Ctx<'_>, marks: &mut Marks, counts: &mut AppCounts) {
        loop {
            match self.decoder.next_frame() {
                Decoded::NeedMore(_) => break,
                Decoded::Frame(f) => self.on_frame(f, ctx, marks, counts),
                Decoded::Oversized { header, offset } => {
                    let hl = header.header_len() as u64;
                    let mask = if header.mask.is_some() { 4 } else { 0 };
                    let start = self.base + offset;
                    let at = at_packet(ctx, marks.at(start + hl.saturating_sub(1)));
                    counts.ws_frames += 1;
                    counts.ws_header += hl - mask;
                    counts.ws_mask += mask;
                    // Only what has arrived is counted now; `push` counts the rest as it
                    // passes through.
                    let arrived = header.payload_len - self.decoder.skipping();
                    self.skip_is_data = matches!(
                        header.opcode,
                        Opcode::Text | Opcode::Binary | Opcode::Continuation
                    );
                    counts.ws_payload += arrived;
                    if self.skip_is_data {
                        counts.ws_data_payload += arrived;
                    }
                    if let Some(rules) = &mut self.rules {
                        for v in rules.observe_oversized(&header) {
                            ctx.sink.event(&Event::Violation(ViolationEvent {
                                at,
                                dir: self.dir,
                                violation: &v,
                            }));
                        }
                    }
                    ctx.sink.event(&Event::Frame(FrameEvent {
                        at,
                        dir: self.dir,
                        first_packet: marks.packet_at(start),
                        header,
                        header_len: hl,
                        payload: &[],
                        missing: 0,
                        missing_ranges: &[],
                        oversized: true,
                    }));
                    if let Some(m) = &mut self.message {
                        m.incomplete = true;
                    }
                    if self.receiver.is_some() {
                        // The payload was not kept: RSV1 rules only, then the window is lost.
                        self.deflate_frame(&header, &[], true, ctx, at);
                    }
                    if matches!(header.opcode, Opcode::Text | Opcode::Binary) {
                        self.compressed =
                            header.rsv & RSV1 != 0 && (self.deflate || self.unknown_extensions);
                    }
                    self.track_open(header.opcode, header.fin, counts);
                }
            }
        }
    }

    fn track_open(&mut self, opcode: Opcode, fin: bool, counts: &mut AppCounts) {
        count_message(&mut self.open, opcode, fin, counts);
    }

    fn on_frame(
        &mut self,
        mut f: DecodedFrame,
        ctx: &mut Ctx<'_>,
        marks: &mut Marks,
        counts: &mut AppCounts,
    ) {
        let h = f.frame.header;
        let hl = f.header_len as u64;
        let mask = if h.mask.is_some() { 4 } else { 0 };
        let start = self.base + f.offset;
        let end = start + hl + h.payload_len;
        let at = at_packet(ctx, marks.completing(start, end));
        let first_packet = marks.packet_at(start);
        marks.trim_before(end);
        let (missing, lost) = if self.filled.is_empty() {
            self.frame_missing.clear();
            (0, 0)
        } else {
            self.take_filled(f.offset + hl, f.offset + hl + h.payload_len)
        };
        // The zeros that stood in for missing bytes were unmasked with the key: put zeros back,
        // so the payload never shows bytes derived from the mask as if they were data.
        if h.mask.is_some() {
            for &(a, b) in &self.frame_missing {
                if let Some(r) = f.frame.payload.get_mut(a as usize..b as usize) {
                    r.fill(0);
                }
            }
        }
        let is_data = matches!(
            h.opcode,
            Opcode::Text | Opcode::Binary | Opcode::Continuation
        );
        counts.ws_frames += 1;
        counts.ws_header += hl - mask;
        counts.ws_mask += mask;
        counts.ws_payload += h.payload_len - lost;
        counts.lost_in_payload += lost;
        if is_data {
            counts.ws_data_payload += h.payload_len - lost;
        }
        // permessage-deflate first, as live: the rules then judge what the sender meant.
        let inflated = if self.receiver.is_some() {
            self.deflate_frame(&h, &f.frame.payload, missing > 0, ctx, at)
        } else {
            None
        };
        let compressed_start = h.rsv & RSV1 != 0 && (self.deflate || self.unknown_extensions);
        if matches!(h.opcode, Opcode::Text | Opcode::Binary) {
            self.compressed = compressed_start;
            self.message_missing = false;
        }
        if is_data {
            self.message_missing |= missing > 0;
        }
        // Bytes that were not captured are zeros here: nothing read from them is judged; nor is
        // a compressed message that could not be inflated.
        let unjudged = missing > 0
            || (is_data && self.message_missing)
            || (is_data && self.compressed && self.deflate_failed.is_some());
        if let Some(rules) = &mut self.rules {
            let judged = match &inflated {
                Some(bytes) => rules.observe(&h, bytes),
                // Compressed bytes that cannot be inflated (no negotiation seen) are not text:
                // the frames of such a message are shown to the rules as binary.
                None if self.compressed && is_data && h.opcode == Opcode::Text => rules.observe(
                    &FrameHeader {
                        opcode: Opcode::Binary,
                        ..h
                    },
                    &f.frame.payload,
                ),
                None => rules.observe(&h, &f.frame.payload),
            };
            for v in judged {
                if unjudged && reads_payload(v.kind) {
                    continue;
                }
                ctx.sink.event(&Event::Violation(ViolationEvent {
                    at,
                    dir: self.dir,
                    violation: &v,
                }));
            }
        }
        ctx.sink.event(&Event::Frame(FrameEvent {
            at,
            dir: self.dir,
            first_packet,
            header: h,
            header_len: hl,
            payload: &f.frame.payload,
            missing,
            missing_ranges: &self.frame_missing,
            oversized: false,
        }));
        self.track_open(h.opcode, h.fin, counts);
        if ctx.decode {
            self.assemble(f, missing > 0, inflated, ctx, at);
        }
    }

    /// Reassembles fragments into messages and reports each whole one (control frames too).
    fn assemble(
        &mut self,
        f: DecodedFrame,
        incomplete: bool,
        inflated: Option<Vec<u8>>,
        ctx: &mut Ctx<'_>,
        at: super::events::At,
    ) {
        let h = f.frame.header;
        let mut payload = f.frame.payload;
        match h.opcode {
            Opcode::Text | Opcode::Binary => {
                self.message = Some(Message {
                    opcode: h.opcode,
                    compressed: h.rsv & RSV1 != 0 && (self.deflate || self.unknown_extensions),
                    wire_len: h.payload_len,
                    data: std::mem::take(&mut payload),
                    inflated: inflated.unwrap_or_default(),
                    frames: 1,
                    incomplete,
                    missing: self.frame_missing.clone(),
                });
            }
            Opcode::Continuation => {
                let Some(m) = &mut self.message else { return };
                m.frames += 1;
                m.wire_len += h.payload_len;
                m.incomplete |= incomplete;
                if let Some(more) = inflated {
                    m.inflated.extend_from_slice(&more);
                }
                if m.data.len() + payload.len() <= ctx.max_message {
                    let at = m.data.len() as u64;
                    m.missing
                        .extend(self.frame_missing.iter().map(|&(a, b)| (at + a, at + b)));
                    m.data.extend_from_slice(&payload);
                } else {
                    m.incomplete = true;
                }
            }
            op if op.is_control() => {
                ctx.sink.event(&Event::Message(MessageEvent {
                    at,
                    dir: self.dir,
                    opcode: op,
                    frames: 1,
                    wire_len: h.payload_len,
                    data: &payload,
                    missing: &self.frame_missing,
                    inflation: Inflation::Plain,
                    incomplete,
                }));
                return;
            }
            _ => return,
        }
        if !h.fin {
            return;
        }
        let Some(m) = self.message.take() else { return };
        let inflation = if !m.compressed {
            Inflation::Plain
        } else if self.receiver.is_none() {
            Inflation::Failed(
                "rsv1 is set but no permessage-deflate negotiation was captured".into(),
            )
        } else if let Some(why) = &self.deflate_failed {
            Inflation::Failed(why.clone())
        } else if m.incomplete {
            Inflation::Failed(NOT_CAPTURED.into())
        } else {
            Inflation::Inflated
        };
        let (data, missing): (&[u8], &[(u64, u64)]) = if inflation == Inflation::Inflated {
            (&m.inflated, &[])
        } else {
            (&m.data, &m.missing)
        };
        ctx.sink.event(&Event::Message(MessageEvent {
            at,
            dir: self.dir,
            opcode: m.opcode,
            frames: m.frames,
            wire_len: m.wire_len,
            data,
            missing,
            inflation,
            incomplete: m.incomplete,
        }));
    }
}
