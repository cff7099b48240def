//! HTTP/2 cleartext ("h2c" with prior knowledge, RFC 9113 §3.3) inside a capture, and the
//! WebSockets it carries on extended CONNECT streams (RFC 8441).
//!
//! A connection whose client bytes begin with the 24-octet preface is handed here by
//! `dissect`. Each direction is cut into frames with [`crate::wire::h2`]; field blocks
//! (HEADERS or PUSH_PROMISE plus CONTINUATION) are reassembled and decoded with one HPACK
//! context per direction, from the connection's first byte. A capture that starts mid-connection
//! has no such start: its field blocks are reported as "HPACK context unknown", never guessed.
//! Each extended CONNECT (`:method CONNECT`, `:protocol websocket`) and its response are
//! reported like the HTTP/1.1 handshake, and every such stream's DATA payloads feed a
//! [`WsSide`] of their own, so WebSocket frames and messages are reported per stream (their
//! [`super::events::At::stream`] is set).
//!
//! Findings cite the checklist of `docs/http2.md`: malformed frames (RFC 9113 §4–§6), HPACK
//! errors (RFC 7541), a `content-length` or END_STREAM on a 2xx to the CONNECT (RFC 9110
//! §9.3.6, RFC 8441 §5), RST_STREAM ending a WebSocket with a code other than CANCEL
//! (RFC 8441 §5), SETTINGS_ENABLE_CONNECT_PROTOCOL other than 0 or 1 or withdrawn (RFC 8441
//! §3), an extended CONNECT before the server's setting was seen (RFC 8441 §3).
//!
//! Byte accounting ([`AppCounts::http2`]): the preface, frame headers, padding and non-DATA
//! frames are HTTP/2; DATA payloads of WebSocket streams go to the WebSocket rows, other DATA
//! to HTTP bodies.

use std::collections::BTreeMap;

use crate::wire::h2::frame::{
    DEFAULT_MAX_FRAME_SIZE, FLAG_END_HEADERS, FLAG_END_STREAM, FRAME_HEADER_LEN,
    MAX_FRAME_SIZE_LIMIT, SETTINGS_ENABLE_CONNECT_PROTOCOL, SETTINGS_HEADER_TABLE_SIZE,
    SETTINGS_MAX_FRAME_SIZE,
};
use crate::wire::h2::hpack::{self, Field};
use crate::wire::h2::{
    ErrorCode, FrameHeader, FrameType, PREFACE, Payload, Status, decode_frame, setting_name,
    stream_id_error,
};
use crate::wire::{Direction, Level};

use super::Ctx;
use super::deflate;
use super::events::{
    At, BodyKind, Event, GapEffect, GapEvent, H2FindingEvent, H2FrameEvent, HandshakeEvent,
    HttpEvent, WarningEvent,
};
use super::ledger::AppCounts;
use super::reassembly::GapKind;
use super::websocket::{Marks, WsSide};

/// Largest field block kept while its CONTINUATION frames arrive.
const MAX_BLOCK: usize = 1 << 20;
/// Largest amount of client DATA kept on a WebSocket stream before its response.
const MAX_AWAIT: usize = 1 << 20;

/// Whether `bytes` (a direction's first bytes) begin the client preface, or could still: true
/// for a prefix of it.
pub fn starts_preface(bytes: &[u8]) -> bool {
    let n = bytes.len().min(PREFACE.len());
    bytes[..n] == PREFACE[..n]
}

/// Whether `bytes` begin with what a server's first frame looks like: a SETTINGS frame header
/// on stream 0 with a length that is a multiple of 6 (RFC 9113 §3.4).
pub fn looks_like_server_preface(bytes: &[u8]) -> bool {
    match FrameHeader::parse(bytes) {
        Some(h) => {
            h.kind == FrameType::Settings
                && h.stream_id == 0
                && h.length % 6 == 0
                && h.length <= DEFAULT_MAX_FRAME_SIZE
        }
        None => false,
    }
}

/// Whether `bytes` hold one or more plausible HTTP/2 frames from their start: known types,
/// sane lengths, the stream-id rule of each type kept, the reserved bit clear, and the last
/// frame either complete at the end or cut by the end. Used to recognise HTTP/2 in a capture
/// that starts mid-connection (no preface seen).
pub fn plausible_frames(bytes: &[u8]) -> bool {
    let mut rest = bytes;
    let mut frames = 0;
    while rest.len() >= FRAME_HEADER_LEN {
        let Some(h) = FrameHeader::parse(rest) else {
            break;
        };
        if matches!(h.kind, FrameType::Unknown(_))
            || h.reserved
            || h.length > DEFAULT_MAX_FRAME_SIZE
            || stream_id_error(&h).is_some()
            || h.flags & !0x2d != 0
        {
            return false;
        }
        frames += 1;
        let total = FRAME_HEADER_LEN + h.length as usize;
        if rest.len() < total {
            break;
        }
        rest = &rest[total..];
    }
    frames >= 2 || (frames == 1 && rest.is_empty())
}

fn idx(dir: Direction) -> usize {
    match dir {
        Direction::ClientToServer => 0,
        Direction::ServerToClient => 1,
    }
}

/// A field block being reassembled.
struct Block {
    stream: u32,
    /// HEADERS carried END_STREAM.
    end_stream: bool,
    /// The block belongs to a PUSH_PROMISE (decoded for the HPACK context, not a response).
    promise: bool,
    data: Vec<u8>,
}

/// One direction of the connection.
struct Side {
    dir: Direction,
    buf: Vec<u8>,
    /// Stream offset of `buf[0]`.
    pos: u64,
    marks: Marks,
    counts: AppCounts,
    /// Preface octets still expected (client side, at the start).
    preface_left: usize,
    hpack: hpack::Decoder,
    /// Why this direction's field blocks cannot be decoded, once they cannot.
    hpack_lost: Option<&'static str>,
    /// Largest frame this side may send: the peer's SETTINGS_MAX_FRAME_SIZE.
    max_frame: u32,
    block: Option<Block>,
    /// Framing is lost (bad frame length, gap): the rest of the direction is counted only.
    lost: bool,
}

impl Side {
    fn new(dir: Direction, preface: bool, midstream: bool) -> Side {
        Side {
            dir,
            buf: Vec::new(),
            pos: 0,
            marks: Marks::default(),
            counts: AppCounts::default(),
            preface_left: if preface { PREFACE.len() } else { 0 },
            hpack: hpack::Decoder::default(),
            hpack_lost: midstream
                .then_some("hpack context unknown: the capture starts mid-connection"),
            max_frame: DEFAULT_MAX_FRAME_SIZE,
            block: None,
            lost: false,
        }
    }
}

/// The WebSocket of one extended CONNECT stream, one direction.
struct WsDir {
    ws: WsSide,
    marks: Marks,
    /// Offset of the next DATA byte in the stream's byte stream.
    pos: u64,
}

/// What is known about one stream.
#[derive(Default)]
struct Stream {
    /// The request's start line as shown (`CONNECT /chat HTTP/2 :protocol=websocket`).
    request: Option<String>,
    request_packet: u64,
    /// The request is an extended CONNECT for a WebSocket.
    websocket: bool,
    /// The request's `sec-websocket-extensions`, for permessage-deflate.
    extensions: String,
    /// A final response was seen.
    answered: bool,
    /// The WebSocket is open: per-direction decoders.
    ws: Option<Box<[WsDir; 2]>>,
    /// Client DATA held until the response (bytes, packet).
    held: Vec<(Vec<u8>, u64)>,
    held_len: usize,
    /// END_STREAM seen, per direction.
    ended: [bool; 2],
}

/// Both directions of an h2c connection.
pub struct H2Conn {
    sides: [Side; 2],
    streams: BTreeMap<u32, Stream>,
    /// The server's SETTINGS_ENABLE_CONNECT_PROTOCOL, as last seen.
    server_connect: Option<u32>,
    /// The capture started mid-connection: the preface and early frames were not seen.
    midstream: bool,
    warned_context: [bool; 2],
}

/// What a finding needs.
struct Finding {
    rule: &'static str,
    section: String,
    level: Level,
    detail: String,
}

fn finding(rule: &'static str, section: &str, level: Level, detail: String) -> Finding {
    Finding {
        rule,
        section: section.to_string(),
        level,
        detail,
    }
}

fn field<'f>(fields: &'f [Field], name: &str) -> Option<&'f [u8]> {
    fields
        .iter()
        .find(|f| f.name == name.as_bytes())
        .map(|f| f.value.as_slice())
}

fn text(v: Option<&[u8]>) -> String {
    v.map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}

fn joined(fields: &[Field], name: &str) -> String {
    fields
        .iter()
        .filter(|f| f.name == name.as_bytes())
        .map(|f| String::from_utf8_lossy(&f.value).into_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The one-line summary of a frame's payload.
fn summarize(h: &FrameHeader, p: &Payload<'_>) -> String {
    let mut s = match p {
        Payload::Data { data, .. } => format!("{} data octets", data.len()),
        Payload::Settings(params) if params.is_empty() => String::new(),
        Payload::Settings(params) => params
            .iter()
            .map(|(id, v)| match setting_name(*id) {
                Some(n) => format!("{n}={v}"),
                None => format!("0x{id:x}={v}"),
            })
            .collect::<Vec<_>>()
            .join(", "),
        Payload::RstStream(code) => code.to_string(),
        Payload::GoAway {
            last_stream_id,
            code,
            debug,
            ..
        } => {
            let mut s = format!("last stream {last_stream_id}, {code}");
            if !debug.is_empty() {
                s.push_str(&format!(", debug \"{}\"", crate::trace::preview(debug)));
            }
            s
        }
        Payload::WindowUpdate { increment, .. } => format!("increment {increment}"),
        Payload::Ping(data) => format!("opaque {}", hex8(data)),
        Payload::PushPromise { promised, .. } => format!("promised stream {promised}"),
        Payload::Priority(p) => format!(
            "depends on {}, weight {}",
            p.dependency,
            p.weight as u16 + 1
        ),
        Payload::Headers { block, .. } | Payload::Continuation(block) => {
            format!("{} octets of field block", block.len())
        }
        Payload::Unknown(bytes) => format!("{} octets", bytes.len()),
    };
    let mut flags = Vec::new();
    let f = h.flags;
    match h.kind {
        FrameType::Settings | FrameType::Ping if f & 0x1 != 0 => flags.push("ACK"),
        FrameType::Data | FrameType::Headers if f & 0x1 != 0 => flags.push("END_STREAM"),
        _ => {}
    }
    if matches!(
        h.kind,
        FrameType::Headers | FrameType::PushPromise | FrameType::Continuation
    ) && f & FLAG_END_HEADERS != 0
    {
        flags.push("END_HEADERS");
    }
    if matches!(
        h.kind,
        FrameType::Data | FrameType::Headers | FrameType::PushPromise
    ) && f & 0x8 != 0
    {
        flags.push("PADDED");
    }
    if h.kind == FrameType::Headers && f & 0x20 != 0 {
        flags.push("PRIORITY");
    }
    if !flags.is_empty() {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push('[');
        s.push_str(&flags.join(" "));
        s.push(']');
    }
    s
}

fn hex8(d: &[u8; 8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

impl H2Conn {
    /// A connection whose client stream starts with the preface.
    pub fn new() -> H2Conn {
        H2Conn::with(false)
    }

    /// A connection recognised from plausible frames in a capture that starts after its
    /// preface: field blocks cannot be decoded.
    pub fn midstream() -> H2Conn {
        H2Conn::with(true)
    }

    fn with(midstream: bool) -> H2Conn {
        H2Conn {
            sides: [
                Side::new(Direction::ClientToServer, !midstream, midstream),
                Side::new(Direction::ServerToClient, false, midstream),
            ],
            streams: BTreeMap::new(),
            server_connect: None,
            midstream,
            warned_context: [false; 2],
        }
    }

    /// Whether the connection was recognised without its preface.
    pub fn is_midstream(&self) -> bool {
        self.midstream
    }

    /// Whether a WebSocket was opened on some stream.
    pub fn websockets(&self) -> bool {
        self.streams.values().any(|s| s.ws.is_some())
    }

    /// The application counts of a direction (HTTP/2 framing plus what its streams carried).
    pub fn counts(&self, dir: Direction) -> AppCounts {
        self.sides[idx(dir)].counts
    }

    fn emit(&self, ctx: &mut Ctx<'_>, at: At, dir: Direction, f: Finding) {
        ctx.sink.event(&Event::H2Finding(H2FindingEvent {
            at,
            dir,
            rule: f.rule,
            section: &f.section,
            level: f.level,
            detail: &f.detail,
        }));
    }

    fn at(ctx: &Ctx<'_>, found: Option<(u64, i128)>, stream: u32) -> At {
        let (packet, time_ns) = found.unwrap_or((0, ctx.time_ns));
        At {
            conn: ctx.conn,
            packet,
            time_ns,
            stream: (stream != 0).then_some(stream),
        }
    }

    /// Reassembled bytes of `dir` at stream offset `offset`, brought by `packet`.
    pub fn data(
        &mut self,
        dir: Direction,
        offset: u64,
        bytes: &[u8],
        packet: u64,
        ctx: &mut Ctx<'_>,
    ) {
        let i = idx(dir);
        let side = &mut self.sides[i];
        side.marks.push(offset, packet, ctx.time_ns);
        if side.lost {
            return;
        }
        if side.buf.is_empty() {
            side.pos = offset;
        }
        side.buf.extend_from_slice(bytes);
        self.drain(i, ctx);
    }

    /// Cuts and handles every complete frame buffered on side `i`.
    fn drain(&mut self, i: usize, ctx: &mut Ctx<'_>) {
        let dir = self.sides[i].dir;
        let mut used = 0usize;
        loop {
            let side = &mut self.sides[i];
            let avail = &side.buf[used..];
            if side.preface_left > 0 {
                let start = PREFACE.len() - side.preface_left;
                let n = side.preface_left.min(avail.len());
                if avail[..n] != PREFACE[start..start + n] {
                    let at = Self::at(ctx, side.marks.at(side.pos + used as u64), 0);
                    side.lost = true;
                    self.emit(
                        ctx,
                        at,
                        dir,
                        finding(
                            "h2.start.client-preface",
                            "RFC 9113 §3.4",
                            Level::Must,
                            "the client preface is not PRI * HTTP/2.0".into(),
                        ),
                    );
                    break;
                }
                side.preface_left -= n;
                side.counts.http2 += n as u64;
                used += n;
                if side.preface_left > 0 {
                    break;
                }
                continue;
            }
            // Frames are bounded by the largest size a peer may allow, not by what this peer
            // allowed: an oversized frame is a finding, a length no setting allows is garbage.
            let status = match decode_frame(avail, MAX_FRAME_SIZE_LIMIT) {
                Ok(s) => s,
                Err(_) => break,
            };
            let (frame, consumed) = match status {
                Status::NeedMore(_) => {
                    if let Some(h) = FrameHeader::parse(avail)
                        && h.length > side.max_frame.max(DEFAULT_MAX_FRAME_SIZE)
                        && (matches!(h.kind, FrameType::Unknown(_)) || h.length > 1 << 20)
                    {
                        // A length no peer here allowed on a frame nobody could send: the
                        // bytes are not HTTP/2 framing any more.
                        let at = Self::at(ctx, side.marks.at(side.pos + used as u64), 0);
                        side.lost = true;
                        let detail = format!(
                            "frame header declares {} octets (type 0x{:02x}), above the maximum frame size {}; the rest of this direction is not decoded",
                            h.length,
                            h.kind.as_u8(),
                            side.max_frame
                        );
                        self.emit(
                            ctx,
                            at,
                            dir,
                            finding("h2.frame.max-size", "RFC 9113 §4.2", Level::Must, detail),
                        );
                    }
                    break;
                }
                Status::Complete { frame, consumed } => (frame, consumed),
            };
            let start = side.pos + used as u64;
            let found = side.marks.completing(start, start + consumed as u64);
            let header = frame.header;
            let payload = frame.payload.to_vec();
            used += consumed;
            self.frame(i, header, &payload, found, ctx);
            if self.sides[i].lost {
                break;
            }
        }
        let side = &mut self.sides[i];
        if side.lost {
            side.buf.clear();
            return;
        }
        side.buf.drain(..used);
        side.pos += used as u64;
        side.marks.trim_before(side.pos);
    }

    /// Handles one complete frame of side `i`.
    fn frame(
        &mut self,
        i: usize,
        h: FrameHeader,
        payload: &[u8],
        found: Option<(u64, i128)>,
        ctx: &mut Ctx<'_>,
    ) {
        let dir = self.sides[i].dir;
        let at = Self::at(ctx, found, h.stream_id);
        let parsed = Payload::parse(&h, payload);
        // Everything but a WebSocket stream's DATA content is HTTP/2 framing; that content is
        // counted by the stream's decoder (or as an HTTP body).
        let data_len = match &parsed {
            Ok(Payload::Data { data, .. }) => data.len(),
            _ => 0,
        };
        self.sides[i].counts.http2 += (FRAME_HEADER_LEN + payload.len() - data_len) as u64;
        if h.length > self.sides[i].max_frame {
            let detail = format!(
                "{} frame of {} octets exceeds the peer's SETTINGS_MAX_FRAME_SIZE {}",
                h.kind, h.length, self.sides[i].max_frame
            );
            self.emit(
                ctx,
                at,
                dir,
                finding("h2.frame.max-size", "RFC 9113 §4.2", Level::Must, detail),
            );
        }
        if let Some(e) = stream_id_error(&h) {
            self.emit(
                ctx,
                at,
                dir,
                finding("h2.frame.header", &e.section(), Level::Must, e.to_string()),
            );
        }
        if let Some(b) = &self.sides[i].block
            && (h.kind != FrameType::Continuation || h.stream_id != b.stream)
        {
            let detail = format!(
                "{} frame on stream {} while the field block of stream {} awaits its CONTINUATION",
                h.kind, h.stream_id, b.stream
            );
            self.sides[i].block = None;
            self.hpack_lost(i, "a field block was never finished");
            self.emit(
                ctx,
                at,
                dir,
                finding("h2.continuation", "RFC 9113 §6.10", Level::Must, detail),
            );
        }
        let p = match parsed {
            Ok(p) => p,
            Err(e) => {
                if ctx.decode {
                    ctx.sink.event(&Event::H2Frame(H2FrameEvent {
                        at,
                        dir,
                        header: h,
                        summary: "malformed",
                        fields: &[],
                    }));
                }
                if matches!(h.kind, FrameType::Headers | FrameType::PushPromise) {
                    self.hpack_lost(i, "a malformed frame carried a field block");
                }
                self.emit(
                    ctx,
                    at,
                    dir,
                    finding(
                        "h2.frame.header",
                        &e.section(),
                        Level::Must,
                        format!("{e} ({})", e.code()),
                    ),
                );
                return;
            }
        };
        // Field blocks are reported with the frame that ends them.
        let mut fields: Vec<(String, String)> = Vec::new();
        let mut decoded: Option<(Block, Vec<Field>)> = None;
        match &p {
            Payload::Headers { block, .. } | Payload::PushPromise { block, .. } => {
                let b = Block {
                    stream: h.stream_id,
                    end_stream: h.kind == FrameType::Headers && h.has(FLAG_END_STREAM),
                    promise: h.kind == FrameType::PushPromise,
                    data: block.to_vec(),
                };
                if h.has(FLAG_END_HEADERS) {
                    decoded = self.decode_block(i, b, at, ctx);
                } else {
                    self.sides[i].block = Some(b);
                }
            }
            Payload::Continuation(block) => match self.sides[i].block.take() {
                Some(mut b) if b.stream == h.stream_id => {
                    if b.data.len() + block.len() > MAX_BLOCK {
                        self.hpack_lost(i, "a field block exceeded 1 MiB");
                    } else {
                        b.data.extend_from_slice(block);
                        if h.has(FLAG_END_HEADERS) {
                            decoded = self.decode_block(i, b, at, ctx);
                        } else {
                            self.sides[i].block = Some(b);
                        }
                    }
                }
                _ => {
                    self.hpack_lost(i, "a CONTINUATION frame followed no field block");
                    self.emit(
                        ctx,
                        at,
                        dir,
                        finding(
                            "h2.continuation",
                            "RFC 9113 §6.10",
                            Level::Must,
                            format!(
                                "CONTINUATION on stream {} follows no HEADERS without END_HEADERS",
                                h.stream_id
                            ),
                        ),
                    );
                }
            },
            _ => {}
        }
        if let Some((_, f)) = &decoded {
            fields = f.iter().map(|f| (f.name_str(), f.value_str())).collect();
        }
        if ctx.decode {
            let summary = summarize(&h, &p);
            ctx.sink.event(&Event::H2Frame(H2FrameEvent {
                at,
                dir,
                header: h,
                summary: &summary,
                fields: &fields,
            }));
        }
        if let Some((block, f)) = decoded {
            self.fields(i, block, &f, at, ctx);
        }
        match p {
            Payload::Settings(params) if !h.has(0x1) => self.settings(i, &params, at, ctx),
            Payload::Data { data, .. } => self.stream_data(i, h, data, found, at, ctx),
            Payload::RstStream(code) => {
                // The sender sends nothing more on the stream; frames the peer had in flight
                // may still arrive (RFC 9113 §5.1, §6.4) and are not blamed on it.
                let s = self.streams.entry(h.stream_id).or_default();
                let had_ended = s.ended[i];
                s.ended[i] = true;
                // NO_ERROR after the sender's own END_STREAM only asks the peer to stop
                // sending (RFC 9113 §8.1): the WebSocket was closed, not aborted.
                let stop_sending = code == ErrorCode::NO_ERROR && had_ended;
                if s.ws.is_some() && code != ErrorCode::CANCEL && !stop_sending {
                    let detail = format!(
                        "RST_STREAM with {code} ends the WebSocket on stream {}; an abortive close is CANCEL",
                        h.stream_id
                    );
                    self.emit(
                        ctx,
                        at,
                        dir,
                        finding("h2ws.ws.rst-cancel", "RFC 8441 §5", Level::Must, detail),
                    );
                }
            }
            _ => {}
        }
    }

    fn hpack_lost(&mut self, i: usize, why: &'static str) {
        let side = &mut self.sides[i];
        if side.hpack_lost.is_none() {
            side.hpack_lost = Some(why);
        }
    }

    /// Decodes a complete field block of side `i`; `None` when it cannot be.
    fn decode_block(
        &mut self,
        i: usize,
        block: Block,
        at: At,
        ctx: &mut Ctx<'_>,
    ) -> Option<(Block, Vec<Field>)> {
        let dir = self.sides[i].dir;
        if let Some(why) = self.sides[i].hpack_lost {
            if !self.warned_context[i] {
                self.warned_context[i] = true;
                let msg = format!(
                    "connection {}: {} http/2 field blocks are not decoded from stream {} on ({why})",
                    ctx.conn,
                    dir.arrow(),
                    block.stream
                );
                ctx.sink.event(&Event::Warning(WarningEvent {
                    packet: Some(at.packet),
                    conn: Some(ctx.conn),
                    message: &msg,
                }));
            }
            return None;
        }
        match self.sides[i].hpack.decode(&block.data) {
            Ok(fields) => Some((block, fields)),
            Err(e) => {
                self.sides[i].hpack_lost = Some("an hpack error broke the decoding context");
                self.emit(
                    ctx,
                    at,
                    dir,
                    finding(
                        "hpack.errors",
                        e.section(),
                        Level::Must,
                        format!(
                            "field block of stream {} cannot be decoded: {e} (COMPRESSION_ERROR)",
                            block.stream
                        ),
                    ),
                );
                None
            }
        }
    }

    fn settings(&mut self, i: usize, params: &[(u16, u32)], at: At, ctx: &mut Ctx<'_>) {
        let dir = self.sides[i].dir;
        for &(id, v) in params {
            match id {
                SETTINGS_ENABLE_CONNECT_PROTOCOL => {
                    if v > 1 {
                        self.emit(
                            ctx,
                            at,
                            dir,
                            finding(
                                "h2ws.settings.value",
                                "RFC 8441 §3",
                                Level::Must,
                                format!("SETTINGS_ENABLE_CONNECT_PROTOCOL is {v}; only 0 and 1 are allowed"),
                            ),
                        );
                    }
                    if dir == Direction::ServerToClient {
                        if self.server_connect == Some(1) && v == 0 {
                            self.emit(
                                ctx,
                                at,
                                dir,
                                finding(
                                    "h2ws.settings.no-withdraw",
                                    "RFC 8441 §3",
                                    Level::Must,
                                    "SETTINGS_ENABLE_CONNECT_PROTOCOL withdrawn (1, then 0)".into(),
                                ),
                            );
                        }
                        self.server_connect = Some(v);
                    }
                }
                // The table size a side allows bounds the peer's encoder, so the decoder of
                // the other direction.
                SETTINGS_HEADER_TABLE_SIZE => self.sides[1 - i].hpack.set_limit(v as usize),
                SETTINGS_MAX_FRAME_SIZE => {
                    self.sides[1 - i].max_frame =
                        v.clamp(DEFAULT_MAX_FRAME_SIZE, MAX_FRAME_SIZE_LIMIT)
                }
                _ => {}
            }
        }
    }

    /// A decoded field block of side `i`.
    fn fields(&mut self, i: usize, block: Block, fields: &[Field], at: At, ctx: &mut Ctx<'_>) {
        if block.promise {
            return;
        }
        let dir = self.sides[i].dir;
        let headers: Vec<(String, Vec<u8>)> = fields
            .iter()
            .map(|f| (f.name_str(), f.value.clone()))
            .collect();
        let head_len = block.data.len() as u64;
        if dir == Direction::ClientToServer {
            let method = text(field(fields, ":method"));
            let protocol =
                field(fields, ":protocol").map(|p| String::from_utf8_lossy(p).into_owned());
            let target = field(fields, ":path")
                .or(field(fields, ":authority"))
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .unwrap_or_default();
            let mut line = format!("{method} {target} HTTP/2");
            if let Some(p) = &protocol {
                line.push_str(&format!(" :protocol={p}"));
            }
            let websocket = method == "CONNECT" && protocol.as_deref() == Some("websocket");
            ctx.sink.event(&Event::Http(HttpEvent {
                at,
                dir,
                start_line: &line,
                head_len,
                body: BodyKind::None,
                upgrade: websocket,
                headers: &headers,
            }));
            self.sides[i].counts.http_messages += 1;
            if protocol.is_some() && self.server_connect != Some(1) {
                let detail = match self.server_connect {
                    _ if self.midstream => None,
                    None => Some(format!(
                        "extended CONNECT on stream {} before the server's SETTINGS_ENABLE_CONNECT_PROTOCOL was seen",
                        block.stream
                    )),
                    Some(v) => Some(format!(
                        "extended CONNECT on stream {} although the server's SETTINGS_ENABLE_CONNECT_PROTOCOL is {v}",
                        block.stream
                    )),
                };
                if let Some(detail) = detail {
                    self.emit(
                        ctx,
                        at,
                        dir,
                        finding(
                            "h2ws.client.wait-for-setting",
                            "RFC 8441 §3",
                            Level::Must,
                            detail,
                        ),
                    );
                }
            }
            if protocol.is_some()
                && method == "CONNECT"
                && (field(fields, ":scheme").is_none() || field(fields, ":path").is_none())
            {
                self.emit(
                    ctx,
                    at,
                    dir,
                    finding(
                        "h2ws.connect.scheme-path",
                        "RFC 8441 §4",
                        Level::Must,
                        format!(
                            "extended CONNECT on stream {} lacks :scheme or :path",
                            block.stream
                        ),
                    ),
                );
            }
            let s = self.streams.entry(block.stream).or_default();
            if s.request.is_none() {
                s.request = Some(line);
                s.request_packet = at.packet;
                s.websocket = websocket;
                s.extensions = joined(fields, "sec-websocket-extensions");
            }
            if block.end_stream {
                s.ended[0] = true;
            }
            return;
        }
        // A response (or trailers) from the server.
        let status = text(field(fields, ":status"));
        let code: u16 = status.parse().unwrap_or(0);
        let line = if status.is_empty() {
            "HTTP/2 (trailers)".to_string()
        } else {
            format!("HTTP/2 {status}")
        };
        let stream_id = block.stream;
        let s = self.streams.entry(stream_id).or_default();
        let websocket = s.websocket && !s.answered && (200..300).contains(&code);
        ctx.sink.event(&Event::Http(HttpEvent {
            at,
            dir,
            start_line: &line,
            head_len,
            body: BodyKind::None,
            upgrade: websocket,
            headers: &headers,
        }));
        self.sides[i].counts.http_messages += 1;
        if block.end_stream {
            s.ended[1] = true;
        }
        if !s.websocket || s.answered || (100..200).contains(&code) {
            if s.ws.is_some() && status.is_empty() {
                self.emit(
                    ctx,
                    at,
                    dir,
                    finding(
                        "h2.connect.stream-frames",
                        "RFC 9113 §8.5",
                        Level::Must,
                        format!("HEADERS (trailers) on the WebSocket tunnel of stream {stream_id}"),
                    ),
                );
            }
            return;
        }
        s.answered = true;
        let request = s.request.clone().unwrap_or_default();
        let request_packet = s.request_packet;
        let offered = s.extensions.clone();
        let mut found = Vec::new();
        if websocket {
            for name in ["content-length", "transfer-encoding"] {
                if let Some(v) = field(fields, name) {
                    found.push(finding(
                        "h2ws.ws.no-content-length",
                        "RFC 9110 §9.3.6",
                        Level::Must,
                        format!(
                            "2xx response to the extended CONNECT on stream {stream_id} carries {name}: {}",
                            String::from_utf8_lossy(v)
                        ),
                    ));
                }
            }
            if block.end_stream {
                found.push(finding(
                    "h2ws.ws.response-not-ended",
                    "RFC 8441 §5",
                    Level::Must,
                    format!("2xx response to the extended CONNECT on stream {stream_id} ends the stream (END_STREAM)"),
                ));
            }
            if field(fields, "sec-websocket-accept").is_some() {
                found.push(finding(
                    "h2ws.ws.no-key-accept",
                    "RFC 8441 §5",
                    Level::Should,
                    format!("2xx on stream {stream_id} carries sec-websocket-accept, which HTTP/2 does not use"),
                ));
            }
        } else if code == 101 {
            found.push(finding(
                "h2ws.ws.success-2xx",
                "RFC 9113 §8.6",
                Level::Must,
                format!("status 101 on stream {stream_id}: HTTP/2 has no 101; a WebSocket is accepted with a 2xx"),
            ));
        }
        for f in found {
            self.emit(ctx, at, dir, f);
        }
        if !websocket {
            return;
        }
        let negotiation =
            deflate::from_handshake(&offered, &joined(fields, "sec-websocket-extensions"));
        for f in negotiation.findings {
            let v = crate::wire::Violation::from(f);
            ctx.sink
                .event(&Event::Violation(super::events::ViolationEvent {
                    at,
                    dir,
                    violation: &v,
                }));
        }
        let negotiated = negotiation.negotiated;
        let protocol = field(fields, "sec-websocket-protocol")
            .map(|p| String::from_utf8_lossy(p).into_owned());
        let extensions: Vec<String> = joined(fields, "sec-websocket-extensions")
            .split(',')
            .map(|e| e.trim().to_string())
            .filter(|e| !e.is_empty())
            .collect();
        ctx.sink.event(&Event::Handshake(HandshakeEvent {
            at,
            request: &request,
            request_packet,
            response: &line,
            accept_ok: true,
            cut: false,
            protocol: protocol.as_deref(),
            extensions: &extensions,
            deflate: negotiated.as_ref().map(deflate::params),
        }));
        let saved = ctx.stream;
        ctx.stream = Some(stream_id);
        let make = |dir| WsDir {
            ws: WsSide::new(dir, 0, negotiated.as_ref(), true, ctx),
            marks: Marks::default(),
            pos: 0,
        };
        let pair = [
            make(Direction::ClientToServer),
            make(Direction::ServerToClient),
        ];
        ctx.stream = saved;
        let s = self.streams.entry(stream_id).or_default();
        s.ws = Some(Box::new(pair));
        let held = std::mem::take(&mut s.held);
        s.held_len = 0;
        for (bytes, packet) in held {
            self.ws_push(0, stream_id, &bytes, Some((packet, at.time_ns)), ctx);
        }
    }

    /// DATA of side `i`.
    fn stream_data(
        &mut self,
        i: usize,
        h: FrameHeader,
        data: &[u8],
        found: Option<(u64, i128)>,
        at: At,
        ctx: &mut Ctx<'_>,
    ) {
        let dir = self.sides[i].dir;
        let sid = h.stream_id;
        let s = self.streams.entry(sid).or_default();
        if s.ended[i] {
            let detail = format!("DATA on stream {sid} after this side ended it (END_STREAM)");
            self.emit(
                ctx,
                at,
                dir,
                finding(
                    "h2.stream.half-closed",
                    "RFC 9113 §5.1",
                    Level::Must,
                    detail,
                ),
            );
        }
        let s = self.streams.entry(sid).or_default();
        if h.has(FLAG_END_STREAM) {
            s.ended[i] = true;
        }
        if s.ws.is_some() {
            self.ws_push(i, sid, data, found, ctx);
        } else if s.websocket && !s.answered && i == 0 && s.held_len + data.len() <= MAX_AWAIT {
            s.held_len += data.len();
            s.held
                .push((data.to_vec(), found.map_or(at.packet, |f| f.0)));
        } else {
            let c = &mut self.sides[i].counts;
            c.http_body += data.len() as u64;
            if !data.is_empty() {
                c.http_messages_with_body += u64::from(h.has(FLAG_END_STREAM));
            }
        }
    }

    /// Feeds DATA content of stream `sid` to its WebSocket decoder of side `i`.
    fn ws_push(
        &mut self,
        i: usize,
        sid: u32,
        data: &[u8],
        found: Option<(u64, i128)>,
        ctx: &mut Ctx<'_>,
    ) {
        let Some(s) = self.streams.get_mut(&sid) else {
            return;
        };
        let Some(ws) = s.ws.as_mut() else {
            return;
        };
        let w = &mut ws[i];
        if data.is_empty() {
            return;
        }
        let (packet, time) = found.unwrap_or((0, ctx.time_ns));
        w.marks.push(w.pos, packet, time);
        w.pos += data.len() as u64;
        let saved = ctx.stream;
        ctx.stream = Some(sid);
        w.ws.push(data, ctx, &mut w.marks, &mut self.sides[i].counts);
        ctx.stream = saved;
    }

    /// A gap in `dir`'s stream: HTTP/2 framing cannot be found again after it.
    pub fn gap(
        &mut self,
        dir: Direction,
        offset: u64,
        len: u64,
        kind: GapKind,
        packet: u64,
        ctx: &mut Ctx<'_>,
    ) {
        let i = idx(dir);
        let side = &mut self.sides[i];
        side.marks.push(offset, packet, ctx.time_ns);
        let effect = if side.lost {
            GapEffect::Harmless
        } else {
            side.lost = true;
            side.buf.clear();
            GapEffect::StreamLost
        };
        ctx.sink.event(&Event::Gap(GapEvent {
            at: ctx.at(packet),
            dir,
            offset,
            len,
            kind,
            effect,
        }));
    }

    /// The connection ends: bytes left inside a frame are reported.
    pub fn finish(&mut self, packet: u64, ctx: &mut Ctx<'_>) {
        for i in 0..2 {
            let side = &self.sides[i];
            if side.lost || side.buf.is_empty() {
                continue;
            }
            let dir = side.dir;
            let n = side.buf.len();
            let at = Self::at(
                ctx,
                side.marks.at(side.pos).or(Some((packet, ctx.time_ns))),
                0,
            );
            let detail = match FrameHeader::parse(&side.buf) {
                Some(h) => format!(
                    "the connection ends inside a {} frame on stream {} ({} of its {} octets seen)",
                    h.kind,
                    h.stream_id,
                    n,
                    FRAME_HEADER_LEN + h.length as usize
                ),
                None => format!("the connection ends inside a frame header ({n} of 9 octets seen)"),
            };
            self.sides[i].counts.http2 += n as u64;
            self.emit(
                ctx,
                at,
                dir,
                finding("h2.frame.header", "RFC 9113 §4.1", Level::Info, detail),
            );
        }
    }
}
