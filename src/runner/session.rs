//! The sans-IO WebSocket session shared by both roles: the frame decoder, the RFC 6455 rule
//! engine, permessage-deflate, the browser-style endpoint state, observations, the trace and
//! the close facts. Everything here is synchronous and deterministic given its inputs; the
//! socket driver in [`super::conn`] feeds it bytes and writes out what it queues.
//!
//! The session takes the role wsprobe plays. As the client (judging a server) it masks every
//! frame it sends and requires the server's frames to be unmasked; as the server (judging a
//! client) it sends unmasked frames, requires every client frame to be masked, and keeps the
//! client's mask keys so the run can judge whether they are predictable.

use std::sync::Arc;

use super::browser::Browser;
use super::budget::{CaseMemory, Grant, Lease};
use super::deflate::Deflate;
use super::result::Closer;
use super::rng::Rng;
use crate::trace::{BrowserEvent, ConnectionTrace, TcpEnd, TraceEvent, frame_preview, preview};
use crate::wire::deflate::FindingKind;
use crate::wire::deflate::receive::RSV1;
use crate::wire::handshake::{self, Parse, ResponseHead};
use crate::wire::rules::{RuleConfig, RuleEngine};
use crate::wire::{
    ClosePayload, Decoded, DecoderConfig, Direction, Frame, FrameDecoder, FrameHeader, FrameSpec,
    Opcode, Role, Violation, ViolationKind,
};

/// Largest handshake response head accepted.
pub const MAX_HEAD: usize = 64 * 1024;
/// Trace events kept per connection before frames are elided.
pub const MAX_TRACE_EVENTS: usize = 4000;
/// Received frames kept for `frame` expectations (payloads kept up to this size).
const FRAME_PAYLOAD_KEEP: usize = 64 * 1024;
/// Received frame payload bytes kept per connection for `frame` expectations; later frames
/// keep their header only.
const FRAME_PAYLOADS_TOTAL: usize = 1024 * 1024;
/// Frames one connection may receive. Every received frame is kept (for `frame` expectations)
/// and most become observations, so an endless ping stream or a message cut into millions of
/// fragments would otherwise grow memory without bound. Far above what any case needs
/// (Autobahn's largest, 9.3.1, is a 4 MiB message in 65 536 fragments).
pub const MAX_FRAMES: usize = 100_000;
/// Received data one connection may keep is `RETAIN_FACTOR` × the maximum message size (at
/// least [`MIN_RETAIN`]): room for a maximal message and then some, but a flood of messages
/// each under the limit cannot exhaust memory either.
const RETAIN_FACTOR: u64 = 2;
/// Lower bound of the kept-data budget, so a small `--max-message-size` does not starve cases
/// that exchange many small messages.
const MIN_RETAIN: u64 = 16 * 1024 * 1024;
/// What a heap allocation costs beyond its bytes (allocator header and rounding), counted for
/// each kept payload.
const ALLOC_OVERHEAD: u64 = 16;
/// Heap bytes a trace event holds besides itself (previews, header lines), on average.
const TRACE_EVENT_HEAP: u64 = 64;
/// Bytes asked for before each socket read (the size of the read buffer).
pub(super) const READ_CHUNK: u64 = 64 * 1024;
/// A lease gives back what it holds beyond its need only past this much, so that reading a
/// stream does not take and return the same bytes on every read.
const SHRINK_SLACK: u64 = 256 * 1024;

/// Something the server did, in the order it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observation {
    /// A complete data message.
    Message {
        /// Text or binary.
        opcode: Opcode,
        /// Message data (shared with the browser's `message` event), inflated when it arrived
        /// compressed.
        data: Arc<[u8]>,
        /// It arrived compressed (permessage-deflate, RSV1 on its first frame).
        compressed: bool,
    },
    /// A ping.
    Ping(Vec<u8>),
    /// A pong.
    Pong(Vec<u8>),
    /// A close frame.
    Close(ClosePayload),
    /// The server closed TCP.
    TcpClosed,
    /// The connection was reset or failed.
    Reset,
    /// A marker recorded by a `mark` step.
    Marker(String),
}

impl Observation {
    /// Short description for failure reports.
    pub fn describe(&self) -> String {
        match self {
            Observation::Message {
                opcode,
                data,
                compressed,
            } => {
                format!(
                    "{}{opcode} message of {} bytes \"{}\"",
                    if *compressed { "compressed " } else { "" },
                    data.len(),
                    preview(data)
                )
            }
            Observation::Ping(p) => format!("ping \"{}\"", preview(p)),
            Observation::Pong(p) => format!("pong \"{}\"", preview(p)),
            Observation::Close(c) => match c {
                ClosePayload::Empty => "close frame without code".into(),
                ClosePayload::OneByte(b) => format!("close frame with 1-byte payload 0x{b:02x}"),
                ClosePayload::Code { code, reason } => {
                    format!("close frame {code} \"{}\"", preview(reason))
                }
            },
            Observation::TcpClosed => "tcp closed by the server".into(),
            Observation::Reset => "connection reset".into(),
            Observation::Marker(m) => format!("marker {m}"),
        }
    }
}

/// One WebSocket conversation as wsprobe sees it, without I/O: what the peer sent (decoded,
/// judged, turned into observations and browser events), what wsprobe queued in answer, the
/// trace and the close facts. The socket driver ([`super::conn::Connection`]) feeds it the bytes
/// it reads and writes the bytes it takes out.
#[derive(Debug)]
pub struct Session {
    /// The role wsprobe plays: `Client` when it judges a server, `Server` when it judges a
    /// client.
    pub(super) role: Role,
    pub(super) decoder: FrameDecoder,
    pub(super) rules: RuleEngine,
    pub(super) browser: Browser,
    pub(super) rng: Rng,
    /// What the server did, in order.
    pub observations: Vec<Observation>,
    /// Frames received, in order (payloads cut at 64 KiB).
    pub frames: Vec<Frame>,
    /// Protocol violations by the server.
    pub violations: Vec<Violation>,
    pub(super) trace: ConnectionTrace,
    pub(super) elided: u64,
    pub(super) traced_events: usize,
    pub(super) message: Option<(Opcode, Vec<u8>)>,
    pub(super) pending: Vec<u8>,
    pub(super) early: Vec<u8>,
    pub(super) failed: bool,
    pub(super) tcp_end: Option<TcpEnd>,
    pub(super) first_closer: Option<Closer>,
    pub(super) local_code: Option<u16>,
    pub(super) dropped_by_client: bool,
    /// Bytes of received data kept in `observations` and `frames`.
    pub(super) retained: u64,
    /// Most bytes of received data kept before the connection is failed.
    pub(super) retain_limit: u64,
    /// wsprobe's own random handshake nonce (redacted in traces).
    pub(super) own_key: Option<String>,
    /// Payload bytes kept in `frames` so far (at most [`FRAME_PAYLOADS_TOTAL`]).
    pub(super) frame_payloads_kept: usize,
    /// This connection's part of the run's memory budget (see [`budget`]).
    pub(super) lease: Lease,
    /// Decoding stopped until memory is granted; the rest waits in the decoder.
    pub(super) paused: bool,
    /// Bytes still missing for the frame at the decoder's head (0 between frames).
    pub(super) need_more: u64,
    /// Whether the trace says that reading waited for memory until a deadline.
    pub(super) memory_noted: bool,
    /// permessage-deflate, when agreed.
    pub(super) deflate: Option<Deflate>,
    /// The message in progress arrived compressed (RSV1 on its first frame).
    pub(super) message_compressed: bool,
    /// Which frames wsprobe sends belong to compressed messages (for the trace).
    pub(super) sent_compressed: SentCompressed,
    /// Mask keys of the frames the peer sent (kept when judging a client, for the run's check
    /// that keys are unpredictable, RFC 6455 §5.3, §10.3).
    pub mask_keys: Vec<[u8; 4]>,
}

/// Follows the data messages wsprobe sends: a frame belongs to a compressed message when the
/// message's first frame has RSV1 set.
#[derive(Debug, Default)]
pub(super) struct SentCompressed {
    open: bool,
}

impl SentCompressed {
    pub(super) fn on_frame(&mut self, header: &FrameHeader) -> bool {
        match header.opcode {
            Opcode::Text | Opcode::Binary => {
                self.open = header.rsv & RSV1 != 0;
                self.open
            }
            Opcode::Continuation => self.open,
            _ => false,
        }
    }
}

/// The trace shows a compressed frame's length, not its bytes: the message event after it
/// shows what they inflate to.
pub(super) fn compressed_preview(len: usize) -> String {
    format!("(deflate, {len} bytes)")
}

/// What [`Session::new`] needs.
#[derive(Debug)]
pub struct SessionParams<'a> {
    /// Connection name for the trace.
    pub name: &'a str,
    /// The role wsprobe plays.
    pub role: Role,
    /// Largest message accepted from the peer.
    pub max_message: u64,
    /// The case's account in the run's memory budget.
    pub memory: &'a CaseMemory,
    /// The handshake nonce wsprobe generated itself (shown as `[key]` in traces).
    pub own_key: Option<&'a str>,
    /// Seed of the mask keys (`--seed`); `None` draws them from the OS.
    pub seed: Option<u64>,
}

impl Session {
    /// A session in `role` whose opening handshake is about to start (CONNECTING).
    pub fn new(p: SessionParams<'_>) -> Session {
        let peer = match p.role {
            Role::Client => Role::Server,
            Role::Server => Role::Client,
        };
        Session {
            role: p.role,
            decoder: FrameDecoder::new(DecoderConfig {
                max_payload: p.max_message,
            }),
            rules: RuleEngine::new(
                peer,
                RuleConfig {
                    allowed_rsv: 0,
                    max_message: p.max_message,
                },
            ),
            browser: Browser::new(),
            rng: Rng::new(p.seed),
            observations: Vec::new(),
            frames: Vec::new(),
            violations: Vec::new(),
            trace: ConnectionTrace {
                name: p.name.to_string(),
                events: vec![TraceEvent::TcpOpen],
            },
            elided: 0,
            traced_events: 0,
            message: None,
            pending: Vec::new(),
            early: Vec::new(),
            failed: false,
            tcp_end: None,
            first_closer: None,
            local_code: None,
            dropped_by_client: false,
            retained: 0,
            retain_limit: p.max_message.saturating_mul(RETAIN_FACTOR).max(MIN_RETAIN),
            own_key: p.own_key.map(|k| k.trim().to_string()),
            frame_payloads_kept: 0,
            lease: Lease::new(p.memory),
            paused: false,
            need_more: 0,
            memory_noted: false,
            deflate: None,
            message_compressed: false,
            sent_compressed: SentCompressed::default(),
            mask_keys: Vec::new(),
        }
    }

    /// The role wsprobe plays.
    pub fn role(&self) -> Role {
        self.role
    }

    /// How the trace names the peer closing TCP.
    pub fn peer_end(&self) -> TcpEnd {
        match self.role {
            Role::Client => TcpEnd::ClosedByServer,
            Role::Server => TcpEnd::ClosedByClient,
        }
    }

    /// How the trace names wsprobe closing TCP.
    pub fn local_end(&self) -> TcpEnd {
        match self.role {
            Role::Client => TcpEnd::ClosedByClient,
            Role::Server => TcpEnd::ClosedByServer,
        }
    }

    /// Whether the peer ended TCP (closed or reset).
    pub fn peer_ended(&self) -> bool {
        self.tcp_end == Some(TcpEnd::Reset) || self.tcp_end == Some(self.peer_end())
    }

    /// The peer's role.
    pub fn peer_role(&self) -> Role {
        match self.role {
            Role::Client => Role::Server,
            Role::Server => Role::Client,
        }
    }

    /// The mask key for a frame wsprobe sends in its role: a fresh key as the client, none as
    /// the server (RFC 6455 §5.1).
    pub fn out_mask(&mut self) -> Option<[u8; 4]> {
        match self.role {
            Role::Client => Some(self.rng.mask_key()),
            Role::Server => None,
        }
    }

    /// permessage-deflate was agreed: RSV1 marks compressed messages from now on.
    pub fn set_deflate(&mut self, deflate: Deflate, max_message: u64) {
        self.deflate = Some(deflate);
        self.rules = RuleEngine::new(
            self.peer_role(),
            RuleConfig {
                allowed_rsv: 0b100,
                max_message,
            },
        );
    }

    /// Records violations found outside the frame stream (the client's handshake request).
    pub fn record_violations(&mut self, found: Vec<Violation>) {
        for v in &found {
            self.trace.events.push(TraceEvent::Violation(v.clone()));
        }
        self.violations.extend(found);
    }

    /// Bytes queued for the peer (pongs, close answers), taken out for writing.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.pending)
    }

    /// Feeds bytes read from the peer.
    pub fn receive(&mut self, bytes: &[u8]) {
        self.process(bytes);
    }
    pub(super) fn push_trace(&mut self, event: TraceEvent) {
        if self.trace.events.len() >= MAX_TRACE_EVENTS
            && matches!(
                event,
                TraceEvent::Frame { .. } | TraceEvent::Event(_) | TraceEvent::MessageEvent { .. }
            )
        {
            self.elided += 1;
            return;
        }
        self.trace.events.push(event);
    }

    pub(super) fn trace_request(&mut self, request: &[u8], secret_headers: &[String]) {
        // The request is our own (bounded by the suite loader), so parse all of it.
        match handshake::parse_request(request, request.len().max(MAX_HEAD)) {
            Ok(Parse::Complete(head)) => {
                let headers = head
                    .headers
                    .iter()
                    .map(|(n, v)| {
                        let value = if secret_headers.iter().any(|s| s.eq_ignore_ascii_case(n))
                            && !n.eq_ignore_ascii_case("sec-websocket-key")
                        {
                            "[redacted]".to_string()
                        } else {
                            self.header_value(n, v)
                        };
                        (n.clone(), value)
                    })
                    .collect();
                let version = if head.version == 0 { "1.0" } else { "1.1" };
                self.trace.events.push(TraceEvent::Request {
                    line: format!("{} {} HTTP/{version}", head.method, head.path),
                    headers,
                });
            }
            _ => self.trace.events.push(TraceEvent::RawSent {
                len: request.len(),
                preview: preview(request),
            }),
        }
    }

    /// A handshake header's value as the trace shows it: wsprobe's own random nonce and any
    /// Accept answering a request that carried it become `[key]` and `[accept]` (they differ in
    /// every run), and so does `Date`; everything else, keys the suite wrote and the Accept
    /// answering them included, is shown as sent, so a malformed value is visible in the trace
    /// of the case testing it.
    pub(super) fn header_value(&self, name: &str, value: &[u8]) -> String {
        let text = String::from_utf8_lossy(value);
        let own = self.own_key.as_deref();
        if name.eq_ignore_ascii_case("sec-websocket-key") {
            if own.is_some_and(|k| k == text.trim()) {
                "[key]".into()
            } else {
                text.into_owned()
            }
        } else if name.eq_ignore_ascii_case("sec-websocket-accept") {
            // With a nonce of wsprobe's own in the request, whatever the server derived its
            // Accept from (that nonce, or a combination of several keys) changes every run.
            // Whether it was right is reported by the handshake checks, not by the trace.
            if own.is_some() {
                "[accept]".into()
            } else {
                text.into_owned()
            }
        } else {
            crate::trace::handshake_header_value(name, value)
        }
    }

    pub(super) fn trace_response(&mut self, head: &ResponseHead) {
        let headers = head
            .headers
            .iter()
            .map(|(n, v)| (n.clone(), self.header_value(n, v)))
            .collect();
        let version = if head.version == 0 { "1.0" } else { "1.1" };
        self.trace.events.push(TraceEvent::Response {
            line: format!("HTTP/{version} {} {}", head.status, head.reason),
            headers,
        });
    }

    /// Brings readyState changes and browser events into the trace.
    pub(super) fn sync_trace(&mut self) {
        for state in self.browser.take_changes() {
            self.trace.events.push(TraceEvent::State(state));
        }
        let events = self.browser.events()[self.traced_events..].to_vec();
        self.traced_events = self.browser.events().len();
        for e in events {
            let event = match e {
                BrowserEvent::Message { opcode, data } => TraceEvent::MessageEvent {
                    opcode,
                    len: data.len(),
                    preview: preview(&data),
                },
                other => TraceEvent::Event(other),
            };
            self.push_trace(event);
        }
    }

    /// The browser state machine.
    pub fn browser(&self) -> &Browser {
        &self.browser
    }

    /// Whether wsprobe failed the connection because the server broke the protocol.
    pub fn failed_by_client(&self) -> bool {
        self.failed
    }

    /// Whether reading had to wait for memory other cases held until a read's deadline.
    pub fn waited_for_memory(&self) -> bool {
        self.memory_noted
    }

    /// Whether the TCP connection has ended.
    pub fn is_closed(&self) -> bool {
        self.tcp_end.is_some()
    }

    /// A fresh mask key.
    pub fn mask_key(&mut self) -> [u8; 4] {
        self.rng.mask_key()
    }

    pub(super) fn note_close_sent(&mut self, payload: &[u8]) {
        if self.first_closer.is_none() {
            self.first_closer = Some(Closer::Client);
        }
        if self.local_code.is_none() {
            self.local_code = ClosePayload::parse(payload).code();
        }
        self.browser.close_frame_sent();
    }

    pub(super) fn on_eof(&mut self) {
        if self.first_closer.is_none() {
            self.first_closer = Some(Closer::Server);
        }
        self.finish_message_on_end();
        let end = self.peer_end();
        self.end(end);
        self.observations.push(Observation::TcpClosed);
    }

    pub(super) fn on_reset(&mut self) {
        if self.browser.close_received().is_some() {
            // The server sent its close frame and then closed TCP, as §7.1.1 says it should;
            // a reset here only means wsprobe's close reply (or a pong) was still on its way
            // when the server's socket went away. The server did nothing wrong, and whether
            // the reset happens is a matter of timing, so it is recorded as the server's TCP
            // close it is.
            self.on_eof();
            return;
        }
        if self.first_closer.is_none() {
            self.first_closer = Some(Closer::Server);
        }
        self.end(TcpEnd::Reset);
        self.observations.push(Observation::Reset);
    }

    pub(super) fn finish_message_on_end(&mut self) {
        if let Some((op, data)) = self.message.take() {
            self.trace.events.push(TraceEvent::Note(format!(
                "connection ended inside a fragmented {op} message ({} bytes)",
                data.len()
            )));
        }
    }

    pub(super) fn end(&mut self, how: TcpEnd) {
        if self.tcp_end.is_some() {
            return;
        }
        self.tcp_end = Some(how);
        // The trace records that the server ended TCP, not whether that end was a FIN or a
        // reset: a server that closes its socket with input still unread (the rest of a
        // chopped write, wsprobe's close reply) sends a reset, and whether input is still
        // unread at that moment is timing. Matchers still see the difference.
        let traced = match how {
            TcpEnd::Reset => self.peer_end(),
            other => other,
        };
        self.trace.events.push(TraceEvent::TcpEnd(traced));
        self.browser.tcp_closed();
        self.sync_trace();
    }

    /// The client closes TCP itself.
    pub fn drop_tcp(&mut self) {
        if self.tcp_end.is_none() {
            if self.first_closer.is_none() {
                self.first_closer = Some(Closer::Client);
            }
            // As the server, closing TCP once both close frames are through is wsprobe's job
            // (RFC 6455 §7.1.1), not a peer that failed to do it.
            let handshake_done = self.role == Role::Server
                && self.browser.close_sent()
                && self.browser.close_received().is_some();
            if self.browser.state() != crate::trace::ReadyState::Connecting && !handshake_done {
                self.dropped_by_client = true;
            }
            let end = self.local_end();
            self.end(end);
        }
    }

    /// Decodes and handles received bytes.
    pub(super) fn process(&mut self, bytes: &[u8]) {
        if self.failed {
            return;
        }
        self.decoder.push(bytes);
        if self.paused {
            return;
        }
        loop {
            // The first frame's raw bytes, to explain a header that is really text.
            let first = self.frames.is_empty().then(|| {
                let raw = self.decoder.buffered();
                raw[..raw.len().min(64)].to_vec()
            });
            match self.decoder.next_frame() {
                Decoded::NeedMore(n) => {
                    self.need_more = n;
                    // A header that breaks the rules fails the connection now, as a browser
                    // does, instead of after buffering a payload of up to the message limit.
                    if let Some(header) = self.decoder.pending_header() {
                        let mut found = self.rules.check_header(&header);
                        if !found.is_empty() {
                            explain_first(first.as_deref(), &header, &mut found);
                            self.record_frame(&header, &[], false);
                            self.fail_with(found);
                        }
                    }
                    break;
                }
                Decoded::Oversized { header, .. } => {
                    self.need_more = 0;
                    let mut found = self.rules.observe_oversized(&header);
                    explain_first(first.as_deref(), &header, &mut found);
                    self.record_frame(&header, &[], false);
                    self.fail_with(found);
                    break;
                }
                Decoded::Frame(f) => {
                    let Frame { header, payload } = f.frame;
                    if self.role == Role::Server
                        && let Some(key) = header.mask
                    {
                        self.mask_keys.push(key);
                    }
                    // permessage-deflate first: the RFC 6455 rules judge the message the
                    // server meant (RFC 7692 §6.1), not its compressed bytes.
                    let received = self
                        .deflate
                        .as_mut()
                        .map(|d| d.rx.on_frame(&header, &payload));
                    let (compressed, inflated, deflate_found) = match received {
                        Some(r) => (r.compressed, r.inflated, r.findings),
                        None => (false, None, Vec::new()),
                    };
                    let message = inflated.as_deref().unwrap_or(&payload);
                    let mut found: Vec<Violation> =
                        deflate_found.into_iter().map(Violation::from).collect();
                    found.extend(self.rules.observe(&header, message));
                    explain_first(first.as_deref(), &header, &mut found);
                    self.record_frame(&header, &payload, compressed);
                    if !found.is_empty() {
                        self.fail_with(found);
                        break;
                    }
                    self.need_more = 0;
                    let payload = inflated.unwrap_or(payload);
                    self.handle(Frame { header, payload }, compressed);
                    if let Some(v) = self.over_budget() {
                        self.fail_with(vec![v]);
                    } else {
                        match self.settle_memory(0) {
                            Grant::Granted => {}
                            Grant::Exceeded => self.fail_for_memory(),
                            Grant::Wait => self.paused = true,
                        }
                    }
                    // Events belong right after the frame that caused them, however the bytes
                    // were split into reads: this keeps traces deterministic.
                    self.sync_trace();
                }
            }
            if self.failed || self.paused {
                break;
            }
        }
        self.sync_trace();
    }

    /// Bytes this connection keeps of what the server sent: an estimate from the lengths and
    /// capacities of what holds it, counted against the run's memory budget.
    pub(super) fn held(&self) -> u64 {
        use std::mem::size_of;
        let message = self.message.as_ref().map_or(0, |(_, d)| d.capacity());
        let items = self.frames.capacity() * size_of::<Frame>()
            + self.observations.capacity() * size_of::<Observation>()
            + std::mem::size_of_val(self.browser.events())
            + self.trace.events.capacity() * (size_of::<TraceEvent>() + TRACE_EVENT_HEAP as usize);
        self.retained + (self.decoder.buffered().len() + message + items) as u64
    }

    /// What the frame being received will still take once complete: its missing bytes, its
    /// kept copy, and one more copy of the message when it is moved into its shared buffer.
    pub(super) fn frame_need(&self) -> u64 {
        if self.need_more == 0 {
            return 0;
        }
        let frame = self.decoder.buffered().len() as u64 + self.need_more;
        let message = self.message.as_ref().map_or(0, |(_, d)| d.len() as u64);
        let kept = frame
            .min(FRAME_PAYLOAD_KEEP as u64)
            .min(FRAME_PAYLOADS_TOTAL.saturating_sub(self.frame_payloads_kept) as u64);
        self.need_more + kept + frame + message
    }

    /// Brings the lease in line with what is kept (plus `extra` about to be read): asks for
    /// more, or gives back what is no longer needed. A failed connection keeps what it has and
    /// reads only to discard.
    pub(super) fn settle_memory(&mut self, extra: u64) -> Grant {
        if self.failed {
            self.lease.shrink_to(self.held());
            return Grant::Granted;
        }
        let want = self.held() + self.frame_need() + extra;
        let grant = self.lease.grow_to(want);
        if grant == Grant::Granted && self.lease.granted() > want + SHRINK_SLACK {
            self.lease.shrink_to(want);
        }
        grant
    }

    /// Whether the connection may read now; resumes decoding that waited for memory. A demand
    /// over what one case may keep fails the connection (it then reads only to discard).
    pub(super) fn memory_ready(&mut self) -> bool {
        if self.failed {
            return true;
        }
        if self.paused {
            match self.settle_memory(0) {
                Grant::Wait => return false,
                Grant::Exceeded => {
                    self.fail_for_memory();
                    return true;
                }
                Grant::Granted => {
                    self.paused = false;
                    self.process(&[]);
                    if self.paused {
                        return false;
                    }
                }
            }
        }
        match self.settle_memory(READ_CHUNK) {
            Grant::Granted => true,
            Grant::Wait => false,
            Grant::Exceeded => {
                self.fail_for_memory();
                true
            }
        }
    }

    /// The server sent more than one case may keep under `--max-memory`: a finding about the
    /// server (RFC 6455 §10.4), failed like the per-connection limits (close 1008).
    pub(super) fn fail_for_memory(&mut self) {
        let budget = self.lease.budget();
        let frame = if self.need_more > 0 {
            format!(
                " (receiving a frame of {} bytes)",
                self.decoder.buffered().len() as u64 + self.need_more
            )
        } else {
            String::new()
        };
        self.fail_with(vec![Violation::new(
            ViolationKind::ExcessiveTraffic,
            format!(
                "the server sent more than one case may keep{frame}: at most {} bytes of --max-memory {}",
                budget.cap(),
                budget.limit()
            ),
        )]);
    }

    pub(super) fn record_frame(&mut self, header: &FrameHeader, payload: &[u8], compressed: bool) {
        self.push_trace(TraceEvent::Frame {
            dir: Direction::ServerToClient,
            header: *header,
            preview: if compressed {
                compressed_preview(payload.len())
            } else {
                frame_preview(header.opcode, payload)
            },
        });
        // Payloads are kept for `frame` expectations, but only up to a total per connection:
        // the data of a large fragmented message is already held once in the message itself,
        // and keeping every fragment again would double what a 16 MiB echo costs.
        let room = FRAME_PAYLOADS_TOTAL.saturating_sub(self.frame_payloads_kept);
        let keep = payload.len().min(FRAME_PAYLOAD_KEEP).min(room);
        self.frame_payloads_kept += keep;
        self.retained += keep as u64 + ALLOC_OVERHEAD;
        self.frames.push(Frame {
            header: *header,
            payload: payload[..keep].to_vec(),
        });
    }

    /// Whether the server has sent more than one connection may keep (see [`MAX_FRAMES`]). A
    /// browser has no such limit but also no reason to keep what a page has consumed; wsprobe
    /// keeps everything for matching, so it stops the server here instead of running out of
    /// memory, and says so as a finding about the server (RFC 6455 §10.4 leaves the limits to
    /// the implementation).
    pub(super) fn over_budget(&self) -> Option<Violation> {
        if self.frames.len() >= MAX_FRAMES {
            Some(Violation::new(
                ViolationKind::ExcessiveTraffic,
                format!("the server sent {MAX_FRAMES} frames on one connection"),
            ))
        } else if self.retained > self.retain_limit {
            Some(Violation::new(
                ViolationKind::ExcessiveTraffic,
                format!(
                    "the server sent more than {} bytes on one connection ({RETAIN_FACTOR} x the maximum message size)",
                    self.retain_limit
                ),
            ))
        } else {
            None
        }
    }

    /// The server broke the protocol: record it, and fail the connection as a browser does
    /// (RFC 6455 §7.1.7): send a close frame with 1002 (1007 for bad UTF-8, 1009 for a message
    /// over the limit, 1008 for excessive traffic) and stop reading frames; the server is then
    /// expected to close TCP.
    pub(super) fn fail_with(&mut self, found: Vec<Violation>) {
        let code = if found
            .iter()
            .any(|v| v.kind == ViolationKind::InvalidUtf8Text)
        {
            1007
        } else if found.iter().any(|v| {
            v.kind == ViolationKind::PayloadTooLarge
                || v.kind == ViolationKind::Deflate(FindingKind::InflatedTooLarge)
        }) {
            1009
        } else if found
            .iter()
            .any(|v| v.kind == ViolationKind::ExcessiveTraffic)
        {
            // Policy violation (§7.4.1): nothing in the protocol was broken.
            1008
        } else {
            1002
        };
        for v in &found {
            self.trace.events.push(TraceEvent::Violation(v.clone()));
        }
        self.violations.extend(found);
        self.failed = true;
        self.browser.fail();
        if !self.browser.close_sent() {
            self.queue_close(Some(code), &[]);
        }
    }

    pub(super) fn queue_close(&mut self, code: Option<u16>, reason: &[u8]) {
        let payload = match code {
            Some(code) => ClosePayload::Code {
                code,
                reason: reason.to_vec(),
            },
            None => ClosePayload::Empty,
        }
        .to_bytes();
        let mut spec = FrameSpec::new(Opcode::Close, payload.clone());
        spec.mask = self.out_mask();
        self.note_close_sent(&payload);
        self.push_trace(TraceEvent::Frame {
            dir: Direction::ClientToServer,
            header: spec.header(),
            preview: frame_preview(spec.opcode, &payload),
        });
        spec.encode_into(&mut self.pending);
    }

    pub(super) fn handle(&mut self, frame: Frame, compressed: bool) {
        let Frame { header, payload } = frame;
        match header.opcode {
            Opcode::Text | Opcode::Binary | Opcode::Continuation => {
                let (op, mut data) = match (header.opcode, self.message.take()) {
                    (Opcode::Continuation, Some(open)) => open,
                    (op, _) => {
                        self.message_compressed = compressed;
                        (op, Vec::new())
                    }
                };
                if data.is_empty() {
                    data = payload;
                } else {
                    data.extend_from_slice(&payload);
                }
                if header.fin {
                    // One copy of the data, shared by the observation, the browser event
                    // and the trace.
                    let data: Arc<[u8]> = data.into();
                    self.retained += data.len() as u64 + ALLOC_OVERHEAD;
                    // Observations are what was on the wire; whether a page sees it is the
                    // browser state machine's business.
                    if !self.browser.message(op, &data) {
                        self.trace.events.push(TraceEvent::Note(format!(
                            "{op} message not delivered: readyState is {}",
                            self.browser.state().name()
                        )));
                    }
                    self.observations.push(Observation::Message {
                        opcode: op,
                        data,
                        compressed: self.message_compressed,
                    });
                } else {
                    self.message = Some((op, data));
                }
            }
            Opcode::Ping => {
                // A browser answers every ping while open or closing, before its own close.
                if !self.browser.close_sent() {
                    let mut spec = FrameSpec::new(Opcode::Pong, payload.clone());
                    spec.mask = self.out_mask();
                    self.push_trace(TraceEvent::Frame {
                        dir: Direction::ClientToServer,
                        header: spec.header(),
                        preview: preview(&payload),
                    });
                    spec.encode_into(&mut self.pending);
                }
                self.retained += payload.len() as u64 + ALLOC_OVERHEAD;
                self.observations.push(Observation::Ping(payload));
            }
            Opcode::Pong => {
                self.retained += payload.len() as u64 + ALLOC_OVERHEAD;
                self.observations.push(Observation::Pong(payload));
            }
            Opcode::Close => {
                let parsed = ClosePayload::parse(&payload);
                if self.first_closer.is_none() {
                    self.first_closer = Some(Closer::Server);
                }
                let reason = String::from_utf8_lossy(parsed.reason()).into_owned();
                let answer = self.browser.close_frame_received(parsed.code(), reason);
                self.sync_trace();
                if answer {
                    // Echo the code, as RFC 6455 §5.5.1 suggests.
                    let code = parsed.code();
                    self.queue_close(code, &[]);
                }
                self.observations.push(Observation::Close(parsed));
            }
            Opcode::ReservedData(_) | Opcode::ReservedControl(_) => {}
        }
    }

    /// Lets go of the data of the message observed at `at` once a step has compared it (an
    /// `echo` loop): the observation and its browser event keep the type and an empty body.
    pub fn release_message(&mut self, at: usize) {
        if let Some(Observation::Message { data, .. }) = self.observations.get_mut(at) {
            let old = std::mem::replace(data, Arc::from(Vec::new()));
            self.browser.release(&old);
            self.retained = self.retained.saturating_sub(old.len() as u64);
        }
    }

    /// permessage-deflate on this connection, when agreed.
    pub fn deflate_mut(&mut self) -> Option<&mut Deflate> {
        self.deflate.as_mut()
    }

    /// Facts about how the connection ended, for the closing-behaviour judgement.
    pub fn close_facts(&self) -> CloseFacts {
        let remote_code = match self.browser.close_received() {
            Some((code, _)) => *code,
            None => None,
        };
        CloseFacts {
            initiator: self.first_closer,
            clean: self.browser.close_sent()
                && self.browser.close_received().is_some()
                && match self.role {
                    // The server closes TCP first (RFC 6455 §7.1.1).
                    Role::Client => self.tcp_end == Some(self.peer_end()),
                    // wsprobe, the server, closes TCP; a client that closes it after the close
                    // handshake ended cleanly too (waiting for the server is a SHOULD,
                    // judged by its own case).
                    Role::Server => self.tcp_end.is_some_and(|e| e != TcpEnd::Reset),
                }
                && !self.failed,
            close_received: self.browser.close_received().is_some(),
            remote_code,
            local_code: self.local_code,
            dropped_by_client: self.dropped_by_client,
            failed_by_client: self.failed,
        }
    }
}

/// Puts the explanation of a first frame header that is really text (an HTTP response after
/// the 101, say) in front of the first violation it caused, so the failure names it.
fn explain_first(first: Option<&[u8]>, header: &FrameHeader, found: &mut [Violation]) {
    if let (Some(raw), Some(v)) = (first, found.first_mut())
        && let Some(why) = crate::wire::rules::explain_text_as_frame(raw, header)
    {
        v.detail = format!("{why}; {}", v.detail);
    }
}

/// How a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CloseFacts {
    /// Who sent the first close frame or ended TCP first.
    pub initiator: Option<Closer>,
    /// Both close frames exchanged, then the server closed TCP.
    pub clean: bool,
    /// Whether the server sent a close frame.
    pub close_received: bool,
    /// Code in the server's close frame.
    pub remote_code: Option<u16>,
    /// Code in the client's close frame.
    pub local_code: Option<u16>,
    /// The client had to close TCP itself.
    pub dropped_by_client: bool,
    /// The client failed the connection because the server broke the protocol.
    pub failed_by_client: bool,
}
