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
use super::h2::{H2Conn, looks_like_server_preface, plausible_frames, starts_preface};
use super::http::{
    Chunked, content_length, has_token, is_chunked, start_line_request, start_line_response,
};
use super::ledger::AppCounts;
use super::reassembly::GapKind;
use super::websocket::{Marks, WsSide};

/// Largest HTTP head looked at.
pub const MAX_HEAD: usize = 64 * 1024;

/// Largest amount of server data held while waiting for a client preface.
const MAX_EARLY: usize = 64 * 1024;

/// Largest amount of client data kept while waiting for the answer to an upgrade request.
const MAX_AWAIT: usize = 1 << 20;

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
    /// The server's first bytes are an HTTP response but no request is in yet: the capture
    /// recorded the answer before the question (merged or multi-queue capture points do).
    /// Its bytes are kept and decoded once the request arrives.
    AwaitRequest,
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
    /// The request's Sec-WebSocket-Extensions value (all fields joined), for permessage-deflate.
    extensions: String,
    line: String,
    packet: u64,
    /// The request head was cut by the snaplen: its key (and offer) are unknown.
    cut: bool,
}

/// Header fields in order: names as sent, values trimmed.
type Headers = Vec<(String, Vec<u8>)>;

/// The values of a repeated header field as one comma-separated list (RFC 9110 §5.3).
fn joined_values(values: &[&[u8]]) -> String {
    values
        .iter()
        .map(|v| String::from_utf8_lossy(v))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The start line and the complete header lines of a head cut short, if its start line was
/// captured whole.
fn cut_head(buf: &[u8]) -> Option<(String, Headers)> {
    let text = std::str::from_utf8(buf)
        .or_else(|e| std::str::from_utf8(&buf[..e.valid_up_to()]))
        .ok()?;
    let mut lines = text.split("\r\n");
    let start = lines.next()?.to_string();
    // The start line is complete only if a CRLF followed it.
    if !text.contains("\r\n") {
        return None;
    }
    let mut headers = Vec::new();
    let complete: Vec<&str> = lines.collect();
    // The last piece has no CRLF after it: it was cut.
    for line in complete.iter().take(complete.len().saturating_sub(1)) {
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().as_bytes().to_vec()));
        }
    }
    Some((start, headers))
}

/// `GET <target> HTTP/1.x`.
fn is_get_line(line: &str) -> bool {
    let parts: Vec<&str> = line.split(' ').collect();
    parts.len() == 3 && parts[0] == "GET" && parts[2].starts_with("HTTP/1.")
}

/// `HTTP/1.x 101 ...`.
fn is_101_line(line: &str) -> bool {
    let mut parts = line.splitn(3, ' ');
    parts.next().is_some_and(|v| v.starts_with("HTTP/1.")) && parts.next() == Some("101")
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
    /// The connection is HTTP/2 (h2c): everything goes there.
    h2: Option<Box<H2Conn>>,
    /// The server's first bytes, when they look like an HTTP/2 SETTINGS frame and the client
    /// has sent nothing yet: (offset, bytes, packet, time), held until the client's preface
    /// (or anything else) decides.
    early_server: Vec<(u64, Vec<u8>, u64, i128)>,
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
    /// TLS whose content was not decrypted (or decrypted to nothing decodable).
    Tls,
    /// HTTP/2 cleartext (h2c) without a WebSocket.
    Http2,
    /// WebSocket over HTTP/2 cleartext (RFC 8441).
    WebSocketHttp2,
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
            ConnKind::Tls => "tls",
            ConnKind::Http2 => "http2",
            ConnKind::WebSocketHttp2 => "websocket (http/2)",
        }
    }
}

fn idx(dir: Direction) -> usize {
    match dir {
        Direction::ClientToServer => 0,
        Direction::ServerToClient => 1,
    }
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
            h2: None,
            early_server: Vec::new(),
            kind: ConnKind::Empty,
        }
    }

    /// The application counts of a direction.
    pub fn counts(&self, dir: Direction) -> AppCounts {
        match &self.h2 {
            Some(h2) => h2.counts(dir),
            None => self.sides[idx(dir)].counts,
        }
    }

    /// The connection ends: an HTTP/2 connection reports a frame left unfinished, and server
    /// bytes still held for a preface that never came are dissected as they are.
    pub fn finish(&mut self, packet: u64, ctx: &mut Ctx<'_>) {
        if !self.early_server.is_empty() {
            self.release_early(ctx);
        }
        if let Some(h2) = self.h2.as_mut() {
            h2.finish(packet, ctx);
        }
    }

    /// Nothing seen yet in either direction but what `early_server` holds.
    fn untouched(&self, i: usize) -> bool {
        let side = &self.sides[i];
        matches!(side.mode, Mode::Detect) && side.buf.is_empty() && side.pos == 0
    }

    /// Switches the connection to HTTP/2 and replays the held server bytes into it.
    fn start_h2(&mut self, h2: H2Conn, packet: u64, ctx: &mut Ctx<'_>) {
        if h2.is_midstream() {
            let msg = format!(
                "connection {}: http/2 frames without the client preface (the capture starts mid-connection): hpack context unknown, field blocks and websocket streams are not decoded",
                ctx.conn
            );
            ctx.sink.event(&Event::Warning(WarningEvent {
                packet: Some(packet),
                conn: Some(ctx.conn),
                message: &msg,
            }));
        }
        self.h2 = Some(Box::new(h2));
        self.kind = ConnKind::Http2;
        let held = std::mem::take(&mut self.early_server);
        let now = ctx.time_ns;
        for (offset, bytes, packet, time) in held {
            ctx.time_ns = time;
            if let Some(h2) = self.h2.as_mut() {
                h2.data(Direction::ServerToClient, offset, &bytes, packet, ctx);
            }
        }
        ctx.time_ns = now;
    }

    /// The held server bytes were not HTTP/2 after all: dissect them as usual.
    fn release_early(&mut self, ctx: &mut Ctx<'_>) {
        let held = std::mem::take(&mut self.early_server);
        let now = ctx.time_ns;
        for (offset, bytes, packet, time) in held {
            ctx.time_ns = time;
            self.data_plain(Direction::ServerToClient, offset, &bytes, packet, ctx);
        }
        ctx.time_ns = now;
    }

    /// Whether these first bytes of a direction decide that the connection is HTTP/2; holds
    /// server bytes that may be a server preface. Returns true when the bytes were taken.
    fn detect_h2(
        &mut self,
        dir: Direction,
        offset: u64,
        bytes: &[u8],
        packet: u64,
        ctx: &mut Ctx<'_>,
    ) -> bool {
        let i = idx(dir);
        if self.assume_ws {
            return false;
        }
        if i == 1 && !self.early_server.is_empty() {
            let held: usize = self.early_server.iter().map(|e| e.1.len()).sum();
            if held + bytes.len() > MAX_EARLY {
                self.release_early(ctx);
                return false;
            }
            self.early_server
                .push((offset, bytes.to_vec(), packet, ctx.time_ns));
            return true;
        }
        if !self.untouched(i) {
            return false;
        }
        if i == 1 {
            let first = offset == 0;
            if first && self.untouched(0) && looks_like_server_preface(bytes) {
                self.early_server
                    .push((offset, bytes.to_vec(), packet, ctx.time_ns));
                return true;
            }
            if first && plausible_frames(bytes) {
                self.start_h2(H2Conn::midstream(), packet, ctx);
                return false;
            }
            return false;
        }
        if offset == 0 && bytes.len() >= 14 && starts_preface(&bytes[..14]) {
            self.start_h2(H2Conn::new(), packet, ctx);
            return false;
        }
        if offset == 0 && plausible_frames(bytes) {
            self.start_h2(H2Conn::midstream(), packet, ctx);
            return false;
        }
        if !self.early_server.is_empty() {
            self.release_early(ctx);
        }
        false
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
        if self.h2.is_none() && self.detect_h2(dir, offset, bytes, packet, ctx) {
            return;
        }
        if let Some(h2) = self.h2.as_mut() {
            h2.data(dir, offset, bytes, packet, ctx);
            if h2.websockets() {
                self.kind = ConnKind::WebSocketHttp2;
            }
            return;
        }
        self.data_plain(dir, offset, bytes, packet, ctx);
    }

    /// [`Dissector::data`] for HTTP/1.x and WebSocket connections.
    fn data_plain(
        &mut self,
        dir: Direction,
        offset: u64,
        bytes: &[u8],
        packet: u64,
        ctx: &mut Ctx<'_>,
    ) {
        let i = idx(dir);
        self.sides[i].marks.push(offset, packet, ctx.time_ns);
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
        // The server answers before the client has sent anything at all.
        let answer_first = i == 1
            && matches!(self.sides[0].mode, Mode::Detect)
            && self.sides[0].buf.is_empty()
            && self.sides[0].pos == 0
            && self.methods.is_empty();
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
                let n = super::http::chunked(*state, data, &mut side.buf);
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
            Mode::AwaitUpgrade | Mode::AwaitRequest => {
                if side.buf.len() + data.len() > MAX_AWAIT {
                    side.mode = if matches!(side.mode, Mode::AwaitRequest) {
                        Mode::Detect
                    } else {
                        Mode::Opaque
                    };
                    let held = std::mem::take(&mut side.buf);
                    if !held.is_empty() && matches!(side.mode, Mode::Detect) {
                        self.data_again(i, &held, packet, ctx);
                    }
                    return 0;
                }
                side.buf.extend_from_slice(data);
                data.len()
            }
            Mode::Detect if answer_first && side.buf.is_empty() && data.starts_with(b"HTTP/") => {
                self.sides[1].mode = Mode::AwaitRequest;
                0
            }
            Mode::Detect | Mode::Head => self.head(i, data, packet, ctx),
        }
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
                let used = h.head_len.saturating_sub(buffered);
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
                let used = h.head_len.saturating_sub(buffered);
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
            headers: &h.headers,
        }));
        if self.kind == ConnKind::Empty || self.kind == ConnKind::Other {
            self.kind = ConnKind::Http;
        }
        self.methods.push_back(h.method.clone());
        let early_answer = matches!(self.sides[1].mode, Mode::AwaitRequest);
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
                extensions: joined_values(&h.header_values("sec-websocket-extensions")),
                line,
                packet,
                cut: false,
            });
            if matches!(side.mode, Mode::Head) {
                side.mode = Mode::AwaitUpgrade;
            }
        }
        if early_answer {
            self.sides[1].mode = Mode::Detect;
            let held = std::mem::take(&mut self.sides[1].buf);
            self.data_again(1, &held, packet, ctx);
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
            headers: &h.headers,
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
        let checked = if up.cut {
            // The request was cut: its key and offer are unknown, so nothing is checked.
            Err(Vec::new())
        } else {
            validate_response(&h, &up.offer)
        };
        let (violations, protocol, extensions) = match checked {
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
        // permessage-deflate as a client judges the response (RFC 7692 §5.1, §7); a cut head
        // has no extensions to judge.
        let negotiation = if up.cut {
            deflate::Negotiation::default()
        } else {
            deflate::from_handshake(
                &up.extensions,
                &joined_values(&h.header_values("sec-websocket-extensions")),
            )
        };
        for f in negotiation.findings {
            let v = Violation::from(f);
            ctx.sink.event(&Event::Violation(ViolationEvent {
                at,
                dir: Direction::ServerToClient,
                violation: &v,
            }));
        }
        let negotiated = negotiation.negotiated;
        let deflate = negotiated.as_ref().map(deflate::params);
        ctx.sink.event(&Event::Handshake(HandshakeEvent {
            at,
            request: &up.line,
            request_packet: up.packet,
            response: line,
            accept_ok: !violations
                .iter()
                .any(|v| v.kind == ViolationKind::HandshakeAccept),
            cut: up.cut,
            protocol: protocol.as_deref(),
            extensions: &extensions,
            deflate,
        }));
        self.kind = ConnKind::WebSocket;
        let server_pos = self.sides[1].pos;
        self.sides[1].mode = Mode::Ws(Box::new(WsSide::new(
            Direction::ServerToClient,
            server_pos,
            negotiated.as_ref(),
            true,
            ctx,
        )));
        let client_pos = self.sides[0].pos;
        let mut client = WsSide::new(
            Direction::ClientToServer,
            client_pos,
            negotiated.as_ref(),
            true,
            ctx,
        );
        if up.cut {
            // Where the cut request ended is a guess: accept only a plausible first header.
            client.resync_at(client_pos);
        }
        self.sides[0].mode = Mode::Ws(Box::new(client));
        let held = std::mem::take(&mut self.sides[0].buf);
        if !held.is_empty() {
            self.data_again(0, &held, packet, ctx);
        }
    }

    /// Whether side `i` holds the start of a head cut by the snaplen that belongs to an
    /// opening handshake: a GET request line from the client, or a 101 status line from the
    /// server after an upgrade request.
    fn cut_head(&self, i: usize) -> bool {
        let Some((line, _)) = cut_head(&self.sides[i].buf) else {
            return false;
        };
        if i == 0 {
            is_get_line(&line) && self.upgrade.is_none()
        } else {
            is_101_line(&line) && self.upgrade.is_some()
        }
    }

    /// A head of the opening handshake cut by the snaplen: report what was captured of it and
    /// go on as if it ended where its segment did.
    fn cut_head_gap(&mut self, i: usize, offset: u64, len: u64, packet: u64, ctx: &mut Ctx<'_>) {
        let side = &mut self.sides[i];
        let held = std::mem::take(&mut side.buf);
        let (line, headers) = cut_head(&held).unwrap_or_default();
        let head_len = held.len() as u64 + len;
        side.counts.http_head += head_len;
        side.counts.http_messages += 1;
        side.body_counted = false;
        side.pos = offset + len;
        let dir = side.dir;
        let at = ctx.at(packet);
        ctx.sink.event(&Event::Gap(GapEvent {
            at,
            dir,
            offset,
            len,
            kind: GapKind::Truncated,
            effect: GapEffect::AtFrameBoundary,
        }));
        ctx.sink.event(&Event::Http(HttpEvent {
            at,
            dir,
            start_line: &line,
            head_len,
            body: BodyKind::None,
            upgrade: true,
            headers: &headers,
        }));
        if self.kind == ConnKind::Empty || self.kind == ConnKind::Other {
            self.kind = ConnKind::Http;
        }
        if i == 0 {
            self.methods.push_back("GET".into());
            self.upgrade = Some(Upgrade {
                offer: Offer {
                    key: String::new(),
                    protocols: Vec::new(),
                    extensions: Vec::new(),
                },
                extensions: String::new(),
                line,
                packet,
                cut: true,
            });
            self.sides[0].mode = Mode::AwaitUpgrade;
            return;
        }
        self.methods.pop_front();
        let Some(up) = self.upgrade.take() else {
            return;
        };
        ctx.sink.event(&Event::Handshake(HandshakeEvent {
            at,
            request: &up.line,
            request_packet: up.packet,
            response: &line,
            accept_ok: false,
            cut: true,
            protocol: None,
            extensions: &[],
            deflate: None,
        }));
        self.kind = ConnKind::WebSocket;
        // Extensions are unknown: RSV1 is allowed and nothing is inflated, as with `--port`.
        let mut server = WsSide::new(Direction::ServerToClient, offset + len, None, false, ctx);
        server.resync_at(offset + len);
        self.sides[1].mode = Mode::Ws(Box::new(server));
        let client_pos = self.sides[0].pos;
        let mut client = WsSide::new(Direction::ClientToServer, client_pos, None, false, ctx);
        client.resync_at(client_pos);
        self.sides[0].mode = Mode::Ws(Box::new(client));
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
        if !self.early_server.is_empty() {
            self.release_early(ctx);
        }
        if let Some(h2) = self.h2.as_mut() {
            return h2.gap(dir, offset, len, kind, packet, ctx);
        }
        let i = idx(dir);
        let head_cut = kind == GapKind::Truncated
            && matches!(self.sides[i].mode, Mode::Detect | Mode::Head)
            && !self.sides[i].buf.is_empty()
            && self.cut_head(i);
        if head_cut {
            self.sides[i].marks.push(offset, packet, ctx.time_ns);
            return self.cut_head_gap(i, offset, len, packet, ctx);
        }
        let side = &mut self.sides[i];
        side.marks.push(offset, packet, ctx.time_ns);
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
            Mode::Detect | Mode::Head | Mode::AwaitUpgrade if self.assume_ws => {
                // `--port`: a head cut short (typically the handshake, by the snaplen) is taken
                // as the end of HTTP; frames resume at the first plausible header after it.
                let mut ws = WsSide::new(side.dir, offset + len, None, false, ctx);
                ws.resync_at(offset + len);
                side.mode = Mode::Ws(Box::new(ws));
                side.buf.clear();
                side.pos = offset + len;
                self.kind = ConnKind::WebSocketNoHandshake;
                GapEffect::AtFrameBoundary
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pcap::Sink;
    use crate::pcap::events::Event;

    #[derive(Default)]
    struct Lines(Vec<String>);

    impl Sink for Lines {
        fn event(&mut self, event: &Event<'_>) {
            let line = match event {
                Event::Http(h) => {
                    format!("http {} {} body={:?}", h.dir.arrow(), h.start_line, h.body)
                }
                Event::Handshake(h) => format!("handshake accept_ok={}", h.accept_ok),
                Event::Frame(f) => format!(
                    "frame {} {} {}",
                    f.dir.arrow(),
                    f.header.opcode,
                    String::from_utf8_lossy(f.payload)
                ),
                Event::Message(m) => {
                    format!("message {} {}", m.opcode, String::from_utf8_lossy(m.data))
                }
                Event::Violation(v) => format!("violation {}", v.violation.kind.name()),
                Event::Warning(w) => format!("warning {}", w.message),
                Event::Gap(g) => format!("gap {:?}", g.effect),
                other => format!("{other:?}"),
            };
            self.0.push(line);
        }
    }

    /// Feeds each direction's bytes in chunks of `chunk` bytes, client first, in turns.
    fn run(turns: &[(Direction, &[u8])], chunk: usize) -> (Vec<String>, [AppCounts; 2]) {
        let mut lines = Lines::default();
        let mut d = Dissector::new(false);
        let mut offsets = [0u64; 2];
        {
            let mut ctx = Ctx {
                conn: 0,
                time_ns: 0,
                sink: &mut lines,
                decode: true,
                max_message: 1 << 20,
                stream: None,
            };
            for (n, (dir, bytes)) in turns.iter().enumerate() {
                for part in bytes.chunks(chunk) {
                    let i = idx(*dir);
                    d.data(*dir, offsets[i], part, n as u64 + 1, &mut ctx);
                    offsets[i] += part.len() as u64;
                }
            }
        }
        (
            lines.0,
            [
                d.counts(Direction::ClientToServer),
                d.counts(Direction::ServerToClient),
            ],
        )
    }

    const C: Direction = Direction::ClientToServer;
    const S: Direction = Direction::ServerToClient;

    #[test]
    fn rfc6455_4_upgrade_in_one_byte_chunks() {
        let request =
            b"GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
            Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        let response =
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
            Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x02hi";
        let client_frame = [0x81, 0x82, 1, 2, 3, 4, b'o' ^ 1, b'k' ^ 2];
        for chunk in [1, 3, 1000] {
            let (lines, counts) = run(&[(C, request), (S, response), (C, &client_frame)], chunk);
            assert_eq!(
                lines,
                vec![
                    "http c>s GET /chat HTTP/1.1 body=None",
                    "http s>c HTTP/1.1 101 Switching Protocols body=None",
                    "handshake accept_ok=true",
                    "frame s>c text hi",
                    "message text hi",
                    "frame c>s text ok",
                    "message text ok",
                ],
                "chunk {chunk}"
            );
            assert_eq!(counts[0].http_head, request.len() as u64);
            assert_eq!(counts[0].ws_mask, 4);
            assert_eq!(counts[1].ws_header, 2);
            assert_eq!(counts[1].ws_payload, 2);
        }
    }

    #[test]
    fn polling_with_content_length_chunked_and_head() {
        let requests = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /b HTTP/1.1\r\nHost: x\r\n\r\n\
            POST /c HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /d HTTP/1.1\r\n\r\n";
        let responses = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n5;x=y\r\npedia\r\n0\r\n\r\n\
            HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n\
            HTTP/1.1 204 No Content\r\n\r\n\
            HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        for chunk in [1, 7, 1000] {
            let (lines, counts) = run(&[(C, requests), (S, responses)], chunk);
            assert_eq!(
                lines,
                vec![
                    "http c>s GET /a HTTP/1.1 body=None",
                    "http c>s HEAD /b HTTP/1.1 body=None",
                    "http c>s POST /c HTTP/1.1 body=Length(3)",
                    "http c>s GET /d HTTP/1.1 body=None",
                    "http s>c HTTP/1.1 200 OK body=Chunked",
                    "http s>c HTTP/1.1 200 OK body=None",
                    "http s>c HTTP/1.1 204 No Content body=None",
                    "http s>c HTTP/1.1 200 OK body=Length(2)",
                ],
                "chunk {chunk}"
            );
            assert_eq!(counts[0].http_body, 3);
            assert_eq!(counts[1].http_body, 9 + 2, "chunk {chunk}");
            assert_eq!(counts[0].http_messages_with_body, 1);
            assert_eq!(counts[1].http_messages_with_body, 2);
            let total = counts[1].http_head + counts[1].http_body;
            assert_eq!(
                total,
                responses.len() as u64,
                "chunk {chunk}: every byte counted"
            );
        }
    }

    #[test]
    fn refused_upgrade_returns_to_http() {
        let request = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
            Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        let (lines, _) = run(
            &[
                (C, request),
                (S, b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"),
                (C, b"GET /again HTTP/1.1\r\n\r\n"),
            ],
            1000,
        );
        assert_eq!(
            lines.last().map(String::as_str),
            Some("http c>s GET /again HTTP/1.1 body=None")
        );
        assert!(!lines.iter().any(|l| l.starts_with("handshake")));
    }

    #[test]
    fn not_http_is_counted_not_decoded() {
        let (lines, counts) = run(&[(C, b"\x16\x03\x01\x02\x00 tls hello")], 1000);
        assert_eq!(lines.len(), 1);
        assert!(lines[0].contains("not http or websocket"), "{lines:?}");
        assert_eq!(counts[0].http_head + counts[0].ws_payload, 0);
    }
}
