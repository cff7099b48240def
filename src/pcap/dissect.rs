//! Application-layer dissection of one TCP connection's two reassembled streams: HTTP/1.x
//! messages (polling requests and responses, with Content-Length, chunked or until-close
//! bodies), the WebSocket opening handshake on any port (RFC 6455 §4, Accept checked with
//! [`validate_response`]), then WebSocket frames in both directions.
//!
//! Each direction is a small state machine ([`Mode`]). Heads are parsed with the `wire`
//! handshake parser (httparse underneath), bounded to [`MAX_HEAD`] bytes. After an upgrade
//! request the client direction waits for the answer: bytes it sends meanwhile are kept and
//! decoded once the 101 arrives.

use std::collections::VecDeque;

use crate::wire::handshake::{
    Offer, Parse, RequestHead, ResponseHead, parse_request, parse_response, validate_request,
    validate_response,
};
use crate::wire::{Direction, Violation, ViolationKind};

use super::Ctx;
use super::deflate;
use super::events::{
    BodyKind, Event, GapEffect, GapEvent, HandshakeEvent, HttpEvent, ViolationEvent, WarningEvent,
};
use super::ledger::AppCounts;
use super::reassembly::GapKind;
use super::websocket::{Marks, WsSide};

/// Largest HTTP head looked at.
pub const MAX_HEAD: usize = 64 * 1024;

/// Largest amount of client data kept while waiting for the answer to an upgrade request.
const MAX_AWAIT: usize = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Chunked {
    /// Reading a chunk-size line.
    Size,
    /// Inside chunk data.
    Data(u64),
    /// The CRLF after chunk data.
    DataEnd(u8),
    /// Trailer lines after the last chunk, until an empty line.
    Trailer,
}

enum Mode {
    /// Nothing seen yet: HTTP, WebSocket (with `--port`) or something else.
    Detect,
    /// Expecting an HTTP head.
    Head,
    /// Inside a body of known remaining length.
    Body(u64),
    /// Inside a chunked body.
    Chunked(Chunked),
    /// A body that lasts until the connection closes.
    UntilClose,
    /// The client sent an upgrade request and the answer is not in yet.
    AwaitUpgrade,
    /// WebSocket frames.
    Ws(Box<WsSide>),
    /// Not HTTP or WebSocket: counted, not decoded.
    Opaque,
    /// A gap made the rest undecodable.
    Lost,
}

struct Side {
    dir: Direction,
    mode: Mode,
    /// Bytes not yet consumed (head in progress, chunk-size line, data awaiting an upgrade).
    buf: Vec<u8>,
    /// Stream offset of the next byte to consume (of `buf[0]` when `buf` is not empty).
    pos: u64,
    marks: Marks,
    counts: AppCounts,
    /// The current HTTP message already counted as one with a body.
    body_counted: bool,
}

impl Side {
    fn new(dir: Direction) -> Side {
        Side {
            dir,
            mode: Mode::Detect,
            buf: Vec::new(),
            pos: 0,
            marks: Marks::default(),
            counts: AppCounts::default(),
            body_counted: false,
        }
    }

    fn body_bytes(&mut self, n: u64) {
        self.counts.http_body += n;
        if n > 0 && !self.body_counted {
            self.body_counted = true;
            self.counts.http_messages_with_body += 1;
        }
    }
}

/// A pending upgrade request.
struct Upgrade {
    offer: Offer,
    line: String,
    packet: u64,
}

/// Both directions of one connection.
pub struct Dissector {
    sides: [Side; 2],
    /// `--port` applies: undecodable first bytes are taken as WebSocket frames.
    assume_ws: bool,
    upgrade: Option<Upgrade>,
    /// Methods of requests whose responses have not been seen, for HEAD's body-less answers.
    methods: VecDeque<String>,
    warned_opaque: bool,
    /// What the connection turned out to carry.
    pub kind: ConnKind,
}

/// What a connection carried, as far as the dissector could tell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ConnKind {
    /// No payload yet.
    #[default]
    Empty,
    /// HTTP/1.x without an upgrade.
    Http,
    /// WebSocket after an opening handshake.
    WebSocket,
    /// WebSocket decoded without a visible handshake (`--port`).
    WebSocketNoHandshake,
    /// Something else.
    Other,
}

impl ConnKind {
    /// Lower-case name for reports.
    pub fn name(self) -> &'static str {
        match self {
            ConnKind::Empty => "empty",
            ConnKind::Http => "http",
            ConnKind::WebSocket => "websocket",
            ConnKind::WebSocketNoHandshake => "websocket (no handshake)",
            ConnKind::Other => "other",
        }
    }
}

fn idx(dir: Direction) -> usize {
    match dir {
        Direction::ClientToServer => 0,
        Direction::ServerToClient => 1,
    }
}

fn start_line_request(h: &RequestHead) -> String {
    format!("{} {} HTTP/1.{}", h.method, h.path, h.version)
}

fn start_line_response(h: &ResponseHead) -> String {
    if h.reason.is_empty() {
        format!("HTTP/1.{} {}", h.version, h.status)
    } else {
        format!("HTTP/1.{} {} {}", h.version, h.status, h.reason)
    }
}

fn has_token(values: &[&[u8]], token: &str) -> bool {
    values.iter().any(|v| {
        String::from_utf8_lossy(v)
            .split(',')
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    })
}

fn content_length(headers: &[(String, Vec<u8>)]) -> Option<u64> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| std::str::from_utf8(v).ok()?.trim().parse().ok())
}

fn is_chunked(headers: &[(String, Vec<u8>)]) -> bool {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("transfer-encoding"))
        .any(|(_, v)| {
            String::from_utf8_lossy(v)
                .to_ascii_lowercase()
                .contains("chunked")
        })
}

impl Dissector {
    /// A dissector; `assume_ws` when `--port` names this connection's server port.
    pub fn new(assume_ws: bool) -> Dissector {
        Dissector {
            sides: [
                Side::new(Direction::ClientToServer),
                Side::new(Direction::ServerToClient),
            ],
            assume_ws,
            upgrade: None,
            methods: VecDeque::new(),
            warned_opaque: false,
            kind: ConnKind::Empty,
        }
    }

    /// The application counts of a direction.
    pub fn counts(&self, dir: Direction) -> AppCounts {
        self.sides[idx(dir)].counts
    }

    /// Reassembled bytes of `dir` starting at stream offset `offset`, brought by `packet`.
    pub fn data(
        &mut self,
        dir: Direction,
        offset: u64,
        bytes: &[u8],
        packet: u64,
        ctx: &mut Ctx<'_>,
    ) {
        let i = idx(dir);
        self.sides[i].marks.push(offset, packet);
        if self.sides[i].buf.is_empty() {
            self.sides[i].pos = offset;
        }
        let mut rest = bytes;
        while !rest.is_empty() {
            let used = self.consume(i, rest, packet, ctx);
            rest = &rest[used..];
        }
    }

    /// Consumes a prefix of `data` in the current mode of side `i`; returns its length.
    fn consume(&mut self, i: usize, data: &[u8], packet: u64, ctx: &mut Ctx<'_>) -> usize {
        let side = &mut self.sides[i];
        match &mut side.mode {
            Mode::Ws(ws) => {
                ws.push(data, ctx, &mut side.marks, &mut side.counts);
                side.pos += data.len() as u64;
                data.len()
            }
            Mode::Opaque | Mode::Lost => {
                side.pos += data.len() as u64;
                data.len()
            }
            Mode::UntilClose => {
                side.body_bytes(data.len() as u64);
                side.pos += data.len() as u64;
                data.len()
            }
            Mode::Body(remaining) => {
                let n = (*remaining).min(data.len() as u64);
                *remaining -= n;
                if *remaining == 0 {
                    side.mode = Mode::Head;
                }
                side.body_bytes(n);
                side.pos += n;
                n as usize
            }
            Mode::Chunked(state) => {
                let n = Self::chunked(side_state(state), data, &mut side.buf, &mut side.counts);
                let (new_state, used, body, framing) = n;
                side.counts.http_head += framing;
                side.body_bytes(body);
                side.pos += used as u64;
                side.mode = match new_state {
                    Some(s) => Mode::Chunked(s),
                    None => Mode::Head,
                };
                used
            }
            Mode::AwaitUpgrade => {
                if side.buf.len() + data.len() > MAX_AWAIT {
                    side.mode = Mode::Opaque;
                    side.buf.clear();
                    return 0;
                }
                side.buf.extend_from_slice(data);
                data.len()
            }
            Mode::Detect | Mode::Head => self.head(i, data, packet, ctx),
        }
    }

    /// Runs the chunked-body state machine over `data`: (next state or None when the body
    /// ended, bytes used, body bytes, framing bytes).
    fn chunked(
        mut state: Chunked,
        data: &[u8],
        line: &mut Vec<u8>,
        _counts: &mut AppCounts,
    ) -> (Option<Chunked>, usize, u64, u64) {
        let mut used = 0;
        let mut body = 0u64;
        let mut framing = 0u64;
        while used < data.len() {
            match state {
                Chunked::Data(left) => {
                    let n = left.min((data.len() - used) as u64);
                    body += n;
                    used += n as usize;
                    state = if left == n {
                        Chunked::DataEnd(2)
                    } else {
                        Chunked::Data(left - n)
                    };
                }
                Chunked::DataEnd(left) => {
                    used += 1;
                    framing += 1;
                    state = if left <= 1 {
                        Chunked::Size
                    } else {
                        Chunked::DataEnd(left - 1)
                    };
                }
                Chunked::Size | Chunked::Trailer => {
                    let b = data[used];
                    used += 1;
                    framing += 1;
                    if b != b'\n' {
                        if line.len() < 4096 {
                            line.push(b);
                        }
                        continue;
                    }
                    let text = String::from_utf8_lossy(line).trim().to_string();
                    line.clear();
                    if state == Chunked::Trailer {
                        if text.is_empty() {
                            return (None, used, body, framing);
                        }
                        continue;
                    }
                    let hex = text.split(';').next().unwrap_or("").trim();
                    let size = u64::from_str_radix(hex, 16).unwrap_or(0);
                    state = if size == 0 {
                        Chunked::Trailer
                    } else {
                        Chunked::Data(size)
                    };
                }
            }
        }
        (Some(state), used, body, framing)
    }

    /// Head parsing in Detect or Head mode.
    fn head(&mut self, i: usize, data: &[u8], packet: u64, ctx: &mut Ctx<'_>) -> usize {
        let side = &mut self.sides[i];
        let detecting = matches!(side.mode, Mode::Detect);
        let buffered = side.buf.len();
        let parse_from: &[u8] = if buffered == 0 {
            data
        } else {
            side.buf
                .extend_from_slice(&data[..data.len().min(MAX_HEAD + 1)]);
            &side.buf
        };
        let is_request = side.dir == Direction::ClientToServer;
        enum Got {
            Req(RequestHead),
            Resp(ResponseHead),
            Partial,
            Bad(String),
        }
        let got = if is_request {
            match parse_request(parse_from, MAX_HEAD) {
                Ok(Parse::Complete(h)) => Got::Req(h),
                Ok(Parse::Partial) => Got::Partial,
                Err(e) => Got::Bad(e.to_string()),
            }
        } else {
            match parse_response(parse_from, MAX_HEAD) {
                Ok(Parse::Complete(h)) => Got::Resp(h),
                Ok(Parse::Partial) => Got::Partial,
                Err(e) => Got::Bad(e.to_string()),
            }
        };
        match got {
            Got::Partial => {
                if buffered == 0 {
                    side.buf.extend_from_slice(data);
                }
                data.len()
            }
            Got::Bad(why) => {
                let pos = side.pos;
                side.buf.truncate(buffered);
                if detecting && self.assume_ws {
                    // --port: these are WebSocket frames without a visible handshake.
                    let held = std::mem::take(&mut side.buf);
                    side.mode = Mode::Ws(Box::new(WsSide::new(side.dir, pos, None, false, ctx)));
                    self.kind = ConnKind::WebSocketNoHandshake;
                    if !held.is_empty() {
                        self.data_again(i, &held, packet, ctx);
                    }
                    return 0;
                }
                side.mode = if detecting { Mode::Opaque } else { Mode::Lost };
                side.buf.clear();
                if detecting {
                    if self.kind == ConnKind::Empty {
                        self.kind = ConnKind::Other;
                    }
                    if !self.warned_opaque {
                        self.warned_opaque = true;
                        let dir = if is_request { "client" } else { "server" };
                        let msg = format!(
                            "connection {}: the {dir}'s first bytes are not http or websocket ({why}); its payload is counted, not decoded",
                            ctx.conn
                        );
                        ctx.sink.event(&Event::Warning(WarningEvent {
                            packet: Some(packet),
                            conn: Some(ctx.conn),
                            message: &msg,
                        }));
                    }
                } else {
                    let msg = format!(
                        "connection {}: {} stream is not http any more ({why}); the rest is not decoded",
                        ctx.conn,
                        side.dir.arrow()
                    );
                    ctx.sink.event(&Event::Warning(WarningEvent {
                        packet: Some(packet),
                        conn: Some(ctx.conn),
                        message: &msg,
                    }));
                }
                data.len()
            }
            Got::Req(h) => {
                let used = h.head_len - buffered;
                side.buf.clear();
                side.pos += h.head_len as u64;
                side.counts.http_head += h.head_len as u64;
                side.counts.http_messages += 1;
                side.body_counted = false;
                let packet = side.marks.packet_at(side.pos - 1);
                self.on_request(h, packet, ctx);
                used
            }
            Got::Resp(h) => {
                let used = h.head_len - buffered;
                side.buf.clear();
                side.pos += h.head_len as u64;
                side.counts.http_head += h.head_len as u64;
                side.counts.http_messages += 1;
                side.body_counted = false;
                let packet = side.marks.packet_at(side.pos - 1);
                self.on_response(h, packet, ctx);
                used
            }
        }
    }

    /// Re-feeds bytes held by side `i` after a mode change.
    fn data_again(&mut self, i: usize, held: &[u8], packet: u64, ctx: &mut Ctx<'_>) {
        let mut rest = held;
        while !rest.is_empty() {
            let used = self.consume(i, rest, packet, ctx);
            rest = &rest[used..];
        }
    }

    fn on_request(&mut self, h: RequestHead, packet: u64, ctx: &mut Ctx<'_>) {
        let line = start_line_request(&h);
        let upgrade = has_token(&h.header_values("upgrade"), "websocket");
        let body = if is_chunked(&h.headers) {
            BodyKind::Chunked
        } else {
            match content_length(&h.headers) {
                Some(n) if n > 0 => BodyKind::Length(n),
                _ => BodyKind::None,
            }
        };
        ctx.sink.event(&Event::Http(HttpEvent {
            at: ctx.at(packet),
            dir: Direction::ClientToServer,
            start_line: &line,
            head_len: h.head_len as u64,
            body,
            upgrade,
        }));
        if self.kind == ConnKind::Empty || self.kind == ConnKind::Other {
            self.kind = ConnKind::Http;
        }
        self.methods.push_back(h.method.clone());
        let side = &mut self.sides[0];
        side.mode = match body {
            BodyKind::Chunked => Mode::Chunked(Chunked::Size),
            BodyKind::Length(n) => Mode::Body(n),
            _ => Mode::Head,
        };
        if upgrade {
            let offer = match validate_request(&h) {
                Ok(valid) => valid.offer(),
                Err(rejection) => {
                    let v =
                        Violation::new(ViolationKind::HandshakeRequest, rejection.reason.clone());
                    ctx.sink.event(&Event::Violation(ViolationEvent {
                        at: ctx.at(packet),
                        dir: Direction::ClientToServer,
                        violation: &v,
                    }));
                    Offer {
                        key: h
                            .header("sec-websocket-key")
                            .unwrap_or("")
                            .trim()
                            .to_string(),
                        protocols: Vec::new(),
                        extensions: Vec::new(),
                    }
                }
            };
            self.upgrade = Some(Upgrade {
                offer,
                line,
                packet,
            });
            if matches!(side.mode, Mode::Head) {
                side.mode = Mode::AwaitUpgrade;
            }
        }
    }

    fn on_response(&mut self, h: ResponseHead, packet: u64, ctx: &mut Ctx<'_>) {
        let line = start_line_response(&h);
        let method = self.methods.pop_front();
        let upgrade = h.status == 101 && self.upgrade.is_some();
        let body = if upgrade
            || (100..200).contains(&h.status)
            || h.status == 204
            || h.status == 304
            || method.as_deref() == Some("HEAD")
        {
            BodyKind::None
        } else if is_chunked(&h.headers) {
            BodyKind::Chunked
        } else {
            match content_length(&h.headers) {
                Some(0) => BodyKind::None,
                Some(n) => BodyKind::Length(n),
                None => BodyKind::UntilClose,
            }
        };
        ctx.sink.event(&Event::Http(HttpEvent {
            at: ctx.at(packet),
            dir: Direction::ServerToClient,
            start_line: &line,
            head_len: h.head_len as u64,
            body,
            upgrade,
        }));
        if self.kind == ConnKind::Empty || self.kind == ConnKind::Other {
            self.kind = ConnKind::Http;
        }
        if upgrade {
            self.upgraded(h, &line, packet, ctx);
            return;
        }
        self.sides[1].mode = match body {
            BodyKind::Chunked => Mode::Chunked(Chunked::Size),
            BodyKind::Length(n) => Mode::Body(n),
            BodyKind::UntilClose => Mode::UntilClose,
            BodyKind::None => Mode::Head,
        };
        if h.status >= 200 && self.upgrade.take().is_some() {
            // The upgrade was refused: the client's held bytes are HTTP again.
            if matches!(self.sides[0].mode, Mode::AwaitUpgrade) {
                self.sides[0].mode = Mode::Head;
                let held = std::mem::take(&mut self.sides[0].buf);
                self.data_again(0, &held, packet, ctx);
            }
        }
    }

    fn upgraded(&mut self, h: ResponseHead, line: &str, packet: u64, ctx: &mut Ctx<'_>) {
        let Some(up) = self.upgrade.take() else {
            return;
        };
        let (violations, protocol, extensions) = match validate_response(&h, &up.offer) {
            Ok(n) => (Vec::new(), n.protocol, n.extensions),
            Err(vs) => {
                let protocol = h.header("sec-websocket-protocol").map(str::to_string);
                let extensions = h
                    .header_values("sec-websocket-extensions")
                    .iter()
                    .flat_map(|v| {
                        crate::wire::handshake::extension_items(&String::from_utf8_lossy(v))
                            .into_iter()
                            .map(str::to_string)
                            .collect::<Vec<_>>()
                    })
                    .collect();
                (vs, protocol, extensions)
            }
        };
        let at = ctx.at(packet);
        for v in &violations {
            ctx.sink.event(&Event::Violation(ViolationEvent {
                at,
                dir: Direction::ServerToClient,
                violation: v,
            }));
        }
        let deflate = deflate::negotiated(&extensions);
        ctx.sink.event(&Event::Handshake(HandshakeEvent {
            at,
            request: &up.line,
            request_packet: up.packet,
            response: line,
            accept_ok: !violations
                .iter()
                .any(|v| v.kind == ViolationKind::HandshakeAccept),
            protocol: protocol.as_deref(),
            extensions: &extensions,
            deflate,
        }));
        self.kind = ConnKind::WebSocket;
        let server_pos = self.sides[1].pos;
        self.sides[1].mode = Mode::Ws(Box::new(WsSide::new(
            Direction::ServerToClient,
            server_pos,
            deflate.map(|d| d.server_no_context_takeover),
            true,
            ctx,
        )));
        let client_pos = self.sides[0].pos;
        self.sides[0].mode = Mode::Ws(Box::new(WsSide::new(
            Direction::ClientToServer,
            client_pos,
            deflate.map(|d| d.client_no_context_takeover),
            true,
            ctx,
        )));
        let held = std::mem::take(&mut self.sides[0].buf);
        if !held.is_empty() {
            self.data_again(0, &held, packet, ctx);
        }
    }

    /// A gap in `dir`'s stream.
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
        side.marks.push(offset, packet);
        if let Mode::Ws(ws) = &mut side.mode {
            let effect = ws.gap_effect(offset, len);
            ctx.sink.event(&Event::Gap(GapEvent {
                at: ctx.at(packet),
                dir,
                offset,
                len,
                kind,
                effect,
            }));
            ws.gap(
                offset,
                len,
                kind,
                effect,
                ctx,
                &mut side.marks,
                &mut side.counts,
            );
            return;
        }
        let effect = match &mut side.mode {
            Mode::Ws(_) => GapEffect::StreamLost,
            Mode::Body(remaining) if *remaining >= len => {
                *remaining -= len;
                if *remaining == 0 {
                    side.mode = Mode::Head;
                }
                if kind == GapKind::Truncated {
                    side.body_bytes(len);
                }
                side.pos += len;
                GapEffect::Harmless
            }
            Mode::UntilClose => {
                if kind == GapKind::Truncated {
                    side.body_bytes(len);
                }
                side.pos += len;
                GapEffect::Harmless
            }
            Mode::Opaque | Mode::Lost => {
                side.pos += len;
                if matches!(side.mode, Mode::Lost) {
                    GapEffect::StreamLost
                } else {
                    GapEffect::Harmless
                }
            }
            _ => {
                side.mode = Mode::Lost;
                side.buf.clear();
                side.pos += len;
                GapEffect::StreamLost
            }
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
}

fn side_state(state: &Chunked) -> Chunked {
    *state
}
