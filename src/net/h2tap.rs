//! A tap under the `h2` crate: the connection's bytes pass through [`Tap`] frame by frame, so
//! wsprobe sees what `h2` hides (the peer's SETTINGS values, its SETTINGS and PING ACKs, its
//! GOAWAY) and can put frames of its own between `h2`'s (a PING whose ACK it awaits, a GOAWAY
//! while WebSockets are open). The reference server uses the same tap to misbehave for its
//! faults ([`Meddle`]): a SETTINGS value `h2` would never send, a withdrawn setting, a missing
//! ACK, a connection dropped on GOAWAY.
//!
//! Frames are cut with `wire::h2`'s header parser (RFC 9113 §4.1); the 24-octet client preface
//! (§3.4) passes untouched ahead of them. Frames of the tap's own go out only at a frame
//! boundary of `h2`'s output, never inside one of its frames. A length beyond
//! [`MAX_FRAME_SIZE_LIMIT`] (which no peer may send, §4.2) ends the inspection of that
//! direction: its bytes then pass as they come, for `h2` to reject.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::{Instant, timeout_at};

use super::Stream;
use crate::wire::h2::encode as frames;
use crate::wire::h2::frame::{
    FLAG_ACK, FRAME_HEADER_LEN, MAX_FRAME_SIZE_LIMIT, PREFACE, SETTINGS_ENABLE_CONNECT_PROTOCOL,
    SETTINGS_INITIAL_WINDOW_SIZE, SETTINGS_MAX_FRAME_SIZE,
};
use crate::wire::h2::{ErrorCode, FrameHeader, FrameType, Payload};
use crate::wire::{Violation, ViolationKind};

/// Which end of the connection the tap's owner is: the client writes the preface, the server
/// reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// wsprobe's HTTP/2 client (`run --http2`).
    Client,
    /// The reference server (`serve --http2`).
    Server,
}

/// How the reference server's tap breaks HTTP/2 for a fault (wsprobe's client never meddles).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Meddle {
    /// Passes every frame unchanged.
    #[default]
    None,
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL goes out as 2 (RFC 8441 §3 allows 0 and 1).
    SettingValue2,
    /// After the first DATA frame a SETTINGS with SETTINGS_ENABLE_CONNECT_PROTOCOL = 0 goes
    /// out, withdrawing the 1 sent before (RFC 8441 §3 forbids it).
    WithdrawSetting,
    /// The server's SETTINGS ACKs are dropped (RFC 9113 §6.5.3 requires them).
    NoSettingsAck,
    /// Every PING after the connection's first is dropped unanswered (RFC 9113 §6.7).
    NoPingAckAfterFirst,
    /// A PING goes out ahead of the server's SETTINGS, which must be its first frame
    /// (RFC 9113 §3.4).
    PingBeforeSettings,
    /// The client's SETTINGS reach `h2` with SETTINGS_MAX_FRAME_SIZE = 1 MiB, so the server
    /// sends DATA frames larger than the client allows (RFC 9113 §4.2).
    OversizedData,
    /// The client's SETTINGS reach `h2` with SETTINGS_INITIAL_WINDOW_SIZE = 1 MiB, so the
    /// server sends more than the client's stream windows allow (RFC 9113 §6.9.1).
    IgnoreWindow,
    /// A GOAWAY from the client ends the connection at once, open streams and all, instead of
    /// letting them finish (RFC 9113 §6.8).
    CloseOnGoaway,
}

/// What the tap saw of the peer, and what it was asked to send.
#[derive(Debug, Default)]
struct Shared {
    /// Every SETTINGS_ENABLE_CONNECT_PROTOCOL value the peer sent, in order.
    connect_protocol: Vec<u32>,
    /// SETTINGS frames (without ACK) from the peer.
    settings: u32,
    /// SETTINGS ACKs from the peer.
    settings_acks: u32,
    /// PING ACKs from the peer (of `h2`'s PINGs and the tap's own).
    ping_acks: u32,
    /// The peer's SETTINGS ACK count when its first PING ACK arrived.
    settings_acks_at_first_ping_ack: Option<u32>,
    /// The peer's GOAWAY frames: last stream id and error code.
    goaways: Vec<(u32, ErrorCode)>,
    /// Payloads of the tap's own PINGs not yet acknowledged.
    own_pings: Vec<[u8; 8]>,
    /// Payloads of the tap's own PINGs the peer acknowledged.
    own_acked: Vec<[u8; 8]>,
    /// Frames to write at the next boundary of `h2`'s output.
    inject: VecDeque<Vec<u8>>,
    /// Findings not yet handed to a case.
    findings: Vec<Violation>,
    /// The waker of the last pending read: the connection task, woken to send injections.
    reader: Option<Waker>,
    /// Counter for the tap's PING payloads.
    pings_sent: u64,
    /// Whether a frame came from the peer yet.
    any_frame: bool,
    /// The limits wsprobe's client set, which the server's frames must keep to.
    flow: Flow,
    /// Server side: SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 has left (or is leaving) for the
    /// client.
    setting_out: bool,
    /// Server side: streams whose first HEADERS came from the client before that.
    opened_before_setting: Vec<u32>,
    /// Server side: the highest stream id the client opened.
    last_client_stream: u32,
}

/// Flow-control windows and the frame size limit as wsprobe's client granted them (RFC 9113
/// §4.2, §6.9), from the SETTINGS and WINDOW_UPDATE frames `h2` writes, against which the
/// server's frames are counted. A grant counts when `h2` writes it, a little before the server
/// can know of it, so the count errs on the server's side.
#[derive(Debug)]
struct Flow {
    /// wsprobe's SETTINGS_MAX_FRAME_SIZE.
    max_frame: u32,
    /// wsprobe's SETTINGS_INITIAL_WINDOW_SIZE.
    initial: i64,
    /// What is left of the connection's window.
    connection: i64,
    /// What is left of each stream's window.
    streams: std::collections::HashMap<u32, i64>,
    /// A finding of each kind is made once per connection.
    oversized_seen: bool,
    overrun_seen: bool,
}

impl Default for Flow {
    fn default() -> Flow {
        // RFC 9113 §6.5.2 and §6.9.2: the initial values until SETTINGS say otherwise.
        Flow {
            max_frame: crate::wire::h2::frame::DEFAULT_MAX_FRAME_SIZE,
            initial: 65_535,
            connection: 65_535,
            streams: std::collections::HashMap::new(),
            oversized_seen: false,
            overrun_seen: false,
        }
    }
}

impl Flow {
    /// A frame wsprobe's client sends: SETTINGS and WINDOW_UPDATE change the limits.
    fn sent(&mut self, header: &FrameHeader, payload: &[u8]) {
        match Payload::parse(header, payload) {
            Ok(Payload::Settings(params)) if !header.has(FLAG_ACK) => {
                for (id, value) in params {
                    match id {
                        SETTINGS_INITIAL_WINDOW_SIZE => {
                            let delta = i64::from(value) - self.initial;
                            self.initial = i64::from(value);
                            for w in self.streams.values_mut() {
                                *w += delta;
                            }
                        }
                        SETTINGS_MAX_FRAME_SIZE => self.max_frame = value,
                        _ => {}
                    }
                }
            }
            Ok(Payload::WindowUpdate { increment, .. }) => {
                let initial = self.initial;
                match header.stream_id {
                    0 => self.connection += i64::from(increment),
                    id => *self.streams.entry(id).or_insert(initial) += i64::from(increment),
                }
            }
            _ => {}
        }
    }

    /// A frame from the server: the findings it makes.
    fn received(&mut self, header: &FrameHeader) -> Option<Violation> {
        if header.length > self.max_frame && !self.oversized_seen {
            self.oversized_seen = true;
            return Some(Violation::new(
                ViolationKind::Http2Connection,
                format!(
                    "the server sent a {} frame of {} octets, above wsprobe's \
                     SETTINGS_MAX_FRAME_SIZE of {}; RFC 9113 §4.2 forbids it",
                    header.kind.name(),
                    header.length,
                    self.max_frame
                ),
            ));
        }
        if header.kind != FrameType::Data {
            return None;
        }
        // The whole payload counts, padding included (RFC 9113 §6.9.1).
        let len = i64::from(header.length);
        let initial = self.initial;
        self.connection -= len;
        let stream = self.streams.entry(header.stream_id).or_insert(initial);
        *stream -= len;
        let (stream, connection) = (*stream, self.connection);
        if (stream < 0 || connection < 0) && !self.overrun_seen {
            self.overrun_seen = true;
            return Some(Violation::new(
                ViolationKind::Http2Connection,
                format!(
                    "the server sent more DATA than wsprobe's flow-control windows allowed \
                     (stream {} window {stream}, connection window {connection} after it); \
                     RFC 9113 §6.9.1 forbids it",
                    header.stream_id
                ),
            ));
        }
        None
    }
}

/// What becomes of an inbound frame.
enum Pass {
    Keep,
    Drop,
    /// These bytes go to `h2` instead.
    Replace(Vec<u8>),
}

/// The handle a connection's owner keeps: reads what the tap saw, queues frames.
#[derive(Clone, Debug, Default)]
pub struct TapHandle {
    shared: Arc<Mutex<Shared>>,
    changed: Arc<Notify>,
}

impl TapHandle {
    fn lock(&self) -> MutexGuard<'_, Shared> {
        // Every update leaves the state consistent; a panic elsewhere does not poison it.
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `frame` (complete, encoded) for the next frame boundary and wakes the
    /// connection task to write it.
    fn inject(&self, frame: Vec<u8>) {
        let mut s = self.lock();
        s.inject.push_back(frame);
        if let Some(w) = s.reader.take() {
            w.wake();
        }
    }

    /// The peer's SETTINGS_ENABLE_CONNECT_PROTOCOL values so far.
    pub fn connect_protocol_values(&self) -> Vec<u32> {
        self.lock().connect_protocol.clone()
    }

    /// Server side: whether the client's first HEADERS frame on `stream` arrived before the
    /// server's SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 had been sent, so the client cannot have
    /// received it (RFC 8441 §3). A frame that arrived before it but was read after is not
    /// counted: the answer errs on the client's side.
    pub fn opened_before_setting(&self, stream: u32) -> bool {
        self.lock().opened_before_setting.contains(&stream)
    }

    /// The peer's GOAWAY frames so far.
    pub fn goaways(&self) -> Vec<(u32, ErrorCode)> {
        self.lock().goaways.clone()
    }

    /// The findings since the last call (each is handed out once).
    pub fn take_findings(&self) -> Vec<Violation> {
        std::mem::take(&mut self.lock().findings)
    }

    /// Checks made once the connection is set up (after the PING that shows the peer's
    /// SETTINGS were applied): the peer acknowledged wsprobe's SETTINGS no later than it
    /// answered the PING sent after them (RFC 9113 §6.5.3: "immediately").
    pub fn check_settings_acked(&self) {
        let mut s = self.lock();
        if s.settings_acks_at_first_ping_ack == Some(0) {
            s.findings.push(Violation::new(
                ViolationKind::Http2Connection,
                "the server answered a PING sent after wsprobe's SETTINGS without having \
                 acknowledged those SETTINGS; RFC 9113 §6.5.3 requires the ACK at once",
            ));
        }
    }

    /// Sends a PING of the tap's own and waits for its ACK (RFC 9113 §6.7): `Ok` with the
    /// round trip, `Err` with what was seen when none came before `deadline`.
    pub async fn ping(&self, deadline: Instant) -> Result<std::time::Duration, String> {
        let payload = {
            let mut s = self.lock();
            s.pings_sent += 1;
            let mut p = *b"wsprobe\0";
            p[7] = (s.pings_sent % 251) as u8;
            s.own_pings.push(p);
            p
        };
        let mut frame = Vec::new();
        frames::ping(&mut frame, payload, false);
        let started = Instant::now();
        self.inject(frame);
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            // Registered before the check, so an ACK between the two is not missed.
            notified.as_mut().enable();
            if self.lock().own_acked.contains(&payload) {
                return Ok(started.elapsed());
            }
            if timeout_at(deadline, notified).await.is_err() {
                let s = self.lock();
                return Err(format!(
                    "no ACK of wsprobe's PING within the step's timeout ({} PING ACKs, {} \
                     SETTINGS ACKs from the server in all)",
                    s.ping_acks, s.settings_acks
                ));
            }
        }
    }

    /// Sends GOAWAY with last stream id 0 (wsprobe accepts no pushed streams) and `code`
    /// (RFC 9113 §6.8): the server may finish the streams already open.
    pub fn goaway(&self, code: ErrorCode) {
        let mut frame = Vec::new();
        frames::goaway(&mut frame, 0, code, b"wsprobe");
        self.inject(frame);
    }
}

/// One direction's frame cutter.
#[derive(Debug)]
struct Cutter {
    /// Bytes not yet cut into whole frames.
    pending: BytesMut,
    /// Preface octets still to pass before the first frame.
    preface_left: usize,
    /// The stream stopped being framed (an impossible length): pass bytes as they come.
    blind: bool,
}

impl Cutter {
    fn new(preface: bool) -> Cutter {
        Cutter {
            pending: BytesMut::new(),
            preface_left: if preface { PREFACE.len() } else { 0 },
            blind: false,
        }
    }

    /// The next unit to pass on: preface octets, a whole frame (header and payload) or,
    /// blind, whatever is buffered. `None` until one is complete.
    fn next(&mut self) -> Option<(Option<FrameHeader>, BytesMut)> {
        if self.pending.is_empty() {
            return None;
        }
        if self.preface_left > 0 {
            let n = self.preface_left.min(self.pending.len());
            self.preface_left -= n;
            return Some((None, self.pending.split_to(n)));
        }
        if self.blind {
            let n = self.pending.len();
            return Some((None, self.pending.split_to(n)));
        }
        let header = FrameHeader::parse(&self.pending)?;
        if header.length > MAX_FRAME_SIZE_LIMIT {
            self.blind = true;
            return self.next();
        }
        let total = FRAME_HEADER_LEN + header.length as usize;
        if self.pending.len() < total {
            return None;
        }
        Some((Some(header), self.pending.split_to(total)))
    }

    /// Whether the cutter is between frames (nothing partial buffered).
    fn at_boundary(&self) -> bool {
        self.pending.is_empty() && self.preface_left == 0
    }
}

/// How much of its own output the tap holds before `h2`'s writes wait.
const OUT_HIGH_WATER: usize = 256 * 1024;

/// The connection's byte stream with the tap in it; give it to `h2` in place of the stream.
#[derive(Debug)]
pub struct Tap {
    inner: Stream,
    side: Side,
    meddle: Meddle,
    handle: TapHandle,
    inbound: Cutter,
    /// Inbound bytes ready for `h2`.
    ready: BytesMut,
    outbound: Cutter,
    /// Outbound bytes ready for the socket.
    out: BytesMut,
    /// Reads end (end of file) from now on.
    ended: bool,
    /// Meddling state: PINGs seen, DATA frames sent, SETTINGS ACKs still to drop, the one
    /// change made.
    pings_in: u32,
    data_out: u32,
    drop_settings_acks: u32,
    rewritten: bool,
    /// Server side: the connection preface (SETTINGS) and everything after it is held until
    /// this fires ([`Tap::hold_preface`]).
    hold: Option<Pin<Box<tokio::time::Sleep>>>,
    /// Server side: `h2`'s SETTINGS with SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 is in `out`.
    setting_cut: bool,
}

impl Tap {
    /// Puts a tap on `inner`; the handle sees what passes.
    pub fn new(inner: Stream, side: Side, meddle: Meddle) -> (Tap, TapHandle) {
        let handle = TapHandle::default();
        let tap = Tap {
            inner,
            side,
            meddle,
            handle: handle.clone(),
            inbound: Cutter::new(side == Side::Server),
            ready: BytesMut::new(),
            outbound: Cutter::new(side == Side::Client),
            out: BytesMut::new(),
            ended: false,
            pings_in: 0,
            data_out: 0,
            drop_settings_acks: 0,
            rewritten: false,
            hold: None,
            setting_cut: false,
        };
        (tap, handle)
    }

    /// Server side: holds the server's connection preface, and whatever `h2` writes after it,
    /// for `delay` before anything goes out, while the client's frames are read and passed on
    /// as usual. RFC 9113 §3.4 lets a server send its SETTINGS when it likes; RFC 8441 §3 lets
    /// a client use extended CONNECT only once it has received SETTINGS_ENABLE_CONNECT_PROTOCOL
    /// = 1, so a client that does not wait shows itself
    /// ([`TapHandle::opened_before_setting`]). Must be called within a tokio runtime.
    pub fn hold_preface(mut self, delay: std::time::Duration) -> Tap {
        if self.side == Side::Server && !delay.is_zero() {
            self.hold = Some(Box::pin(tokio::time::sleep(delay)));
        }
        self
    }

    /// Looks at one whole inbound frame.
    fn on_inbound(&mut self, header: &FrameHeader, payload: &[u8]) -> Pass {
        let parsed = Payload::parse(header, payload).ok();
        let mut keep = true;
        let mut replace = None;
        {
            let mut s = self.handle.lock();
            if self.side == Side::Client
                && let Some(v) = s.flow.received(header)
            {
                s.findings.push(v);
            }
            if !s.any_frame && self.side == Side::Client && header.kind != FrameType::Settings {
                s.findings.push(Violation::new(
                    ViolationKind::Http2Connection,
                    format!(
                        "the server's first frame was {}, not SETTINGS; RFC 9113 §3.4 makes \
                         SETTINGS the server's connection preface",
                        header.kind.name()
                    ),
                ));
            }
            s.any_frame = true;
            if self.side == Side::Server
                && header.kind == FrameType::Headers
                && header.stream_id % 2 == 1
                && header.stream_id > s.last_client_stream
            {
                s.last_client_stream = header.stream_id;
                if !s.setting_out {
                    s.opened_before_setting.push(header.stream_id);
                }
            }
            match (header.kind, parsed) {
                (FrameType::Settings, _) if header.has(FLAG_ACK) => {
                    s.settings_acks += 1;
                    if self.drop_settings_acks > 0 {
                        self.drop_settings_acks -= 1;
                        keep = false;
                    }
                }
                (FrameType::Settings, Some(Payload::Settings(params))) => {
                    s.settings += 1;
                    let raise = match self.meddle {
                        Meddle::OversizedData => Some(SETTINGS_MAX_FRAME_SIZE),
                        Meddle::IgnoreWindow => Some(SETTINGS_INITIAL_WINDOW_SIZE),
                        _ => None,
                    };
                    if let Some(id) = raise.filter(|_| !self.rewritten) {
                        let mut changed: Vec<(u16, u32)> =
                            params.iter().copied().filter(|(i, _)| *i != id).collect();
                        changed.push((id, 1 << 20));
                        let mut frame = Vec::new();
                        frames::settings(&mut frame, &changed);
                        replace = Some(frame);
                        self.rewritten = true;
                    }
                    if self.side == Side::Client {
                        for (id, value) in params {
                            if id != SETTINGS_ENABLE_CONNECT_PROTOCOL {
                                continue;
                            }
                            let before = s.connect_protocol.last().copied();
                            s.connect_protocol.push(value);
                            if value > 1 {
                                s.findings.push(Violation::new(
                                    ViolationKind::Http2Settings,
                                    format!(
                                        "the server sent SETTINGS_ENABLE_CONNECT_PROTOCOL = \
                                         {value}; RFC 8441 §3 allows only 0 and 1"
                                    ),
                                ));
                            } else if value == 0 && before == Some(1) {
                                s.findings.push(Violation::new(
                                    ViolationKind::Http2Settings,
                                    "the server withdrew SETTINGS_ENABLE_CONNECT_PROTOCOL (1, \
                                     then 0); RFC 8441 §3 forbids sending 0 after 1",
                                ));
                            }
                        }
                    }
                }
                (FrameType::Ping, Some(Payload::Ping(data))) if header.has(FLAG_ACK) => {
                    s.ping_acks += 1;
                    if s.settings_acks_at_first_ping_ack.is_none() {
                        s.settings_acks_at_first_ping_ack = Some(s.settings_acks);
                    }
                    if let Some(i) = s.own_pings.iter().position(|p| *p == data) {
                        s.own_pings.remove(i);
                        s.own_acked.push(data);
                        keep = false;
                    }
                }
                (FrameType::Ping, _) => {
                    self.pings_in += 1;
                    if self.meddle == Meddle::NoPingAckAfterFirst && self.pings_in > 1 {
                        keep = false;
                    }
                }
                (
                    FrameType::GoAway,
                    Some(Payload::GoAway {
                        last_stream_id,
                        code,
                        ..
                    }),
                ) => {
                    s.goaways.push((last_stream_id, code));
                    if self.meddle == Meddle::CloseOnGoaway {
                        self.ended = true;
                        keep = false;
                    }
                }
                _ => {}
            }
        }
        self.handle.changed.notify_waiters();
        match (keep, replace) {
            (false, _) => Pass::Drop,
            (true, Some(bytes)) => Pass::Replace(bytes),
            (true, None) => Pass::Keep,
        }
    }

    /// Looks at one whole outbound frame of `h2`'s, possibly changing it; false drops it.
    /// Frames to send after it are appended to `after`.
    fn on_outbound(&mut self, header: &FrameHeader, frame: &mut [u8], after: &mut Vec<u8>) -> bool {
        if self.side == Side::Client {
            self.handle
                .lock()
                .flow
                .sent(header, &frame[FRAME_HEADER_LEN..]);
        } else if header.kind == FrameType::Settings
            && !header.has(FLAG_ACK)
            && let Ok(Payload::Settings(params)) =
                Payload::parse(header, &frame[FRAME_HEADER_LEN..])
            && params
                .iter()
                .any(|&(id, v)| id == SETTINGS_ENABLE_CONNECT_PROTOCOL && v == 1)
        {
            self.setting_cut = true;
            if self.hold.is_none() {
                self.handle.lock().setting_out = true;
            }
        }
        match self.meddle {
            Meddle::SettingValue2
                if header.kind == FrameType::Settings
                    && !header.has(FLAG_ACK)
                    && !self.rewritten =>
            {
                // Each parameter is a 16-bit id and a 32-bit value (RFC 9113 §6.5.1).
                for param in frame[FRAME_HEADER_LEN..].chunks_exact_mut(6) {
                    if u16::from_be_bytes([param[0], param[1]]) == SETTINGS_ENABLE_CONNECT_PROTOCOL
                    {
                        param[2..].copy_from_slice(&2u32.to_be_bytes());
                        self.rewritten = true;
                    }
                }
                true
            }
            Meddle::NoSettingsAck => !(header.kind == FrameType::Settings && header.has(FLAG_ACK)),
            Meddle::WithdrawSetting if header.kind == FrameType::Data => {
                self.data_out += 1;
                if self.data_out == 1 {
                    frames::settings(after, &[(SETTINGS_ENABLE_CONNECT_PROTOCOL, 0)]);
                    // The client's ACK of that SETTINGS would confuse `h2`, which did not
                    // send it.
                    self.drop_settings_acks += 1;
                }
                true
            }
            _ => true,
        }
    }

    /// Cuts what is buffered inbound into frames, moving the kept ones to `ready`.
    fn cut_inbound(&mut self) {
        while let Some((header, bytes)) = self.inbound.next() {
            let pass = match header {
                Some(h) => self.on_inbound(&h, &bytes[FRAME_HEADER_LEN..]),
                None => Pass::Keep,
            };
            if self.ended {
                return;
            }
            match pass {
                Pass::Keep => self.ready.extend_from_slice(&bytes),
                Pass::Replace(other) => self.ready.extend_from_slice(&other),
                Pass::Drop => {}
            }
        }
    }

    /// Cuts `h2`'s buffered output into frames, moving them (and injections, at frame
    /// boundaries) to `out`.
    fn cut_outbound(&mut self) {
        while let Some((header, mut bytes)) = self.outbound.next() {
            if self.meddle == Meddle::PingBeforeSettings && header.is_some() && !self.rewritten {
                let mut ping = Vec::new();
                frames::ping(&mut ping, *b"h2-early", false);
                self.out.extend_from_slice(&ping);
                self.rewritten = true;
            }
            let mut after = Vec::new();
            let keep = match header {
                Some(h) => self.on_outbound(&h, &mut bytes, &mut after),
                None => true,
            };
            if keep {
                self.out.extend_from_slice(&bytes);
            }
            self.out.extend_from_slice(&after);
        }
        if self.outbound.at_boundary() {
            let mut s = self.handle.lock();
            while let Some(frame) = s.inject.pop_front() {
                self.out.extend_from_slice(&frame);
            }
        }
    }

    /// Writes what `out` holds until the socket would block.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(hold) = self.hold.as_mut() {
            if hold.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.hold = None;
            // Marked before the write: a HEADERS read from now on is not blamed even if the
            // SETTINGS are still on their way.
            if self.setting_cut {
                self.handle.lock().setting_out = true;
            }
        }
        while !self.out.is_empty() {
            let n = match Pin::new(&mut self.inner).poll_write(cx, &self.out) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            self.out.advance(n);
        }
        Poll::Ready(Ok(()))
    }

    /// Moves injections out when `h2` is between frames, and writes what can be written; a
    /// write error is left for `h2`'s next write to meet.
    fn push_injections(&mut self, cx: &mut Context<'_>) {
        if !self.handle.lock().inject.is_empty() {
            self.cut_outbound();
        }
        if !self.out.is_empty() {
            let _ = self.poll_drain(cx);
        }
    }
}

impl AsyncRead for Tap {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.push_injections(cx);
        loop {
            // What came before an end the tap made is still delivered.
            if !this.ready.is_empty() {
                let n = this.ready.len().min(buf.remaining());
                buf.put_slice(&this.ready[..n]);
                this.ready.advance(n);
                return Poll::Ready(Ok(()));
            }
            if this.ended {
                return Poll::Ready(Ok(()));
            }
            let mut chunk = [0u8; 16 * 1024];
            let mut read = ReadBuf::new(&mut chunk);
            match Pin::new(&mut this.inner).poll_read(cx, &mut read) {
                Poll::Pending => {
                    this.handle.lock().reader = Some(cx.waker().clone());
                    return Poll::Pending;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(())) if read.filled().is_empty() => {
                    // End of file: a partial frame goes to `h2` as it is, for it to judge.
                    let rest = this.inbound.pending.split();
                    this.ready.extend_from_slice(&rest);
                    if this.ready.is_empty() {
                        return Poll::Ready(Ok(()));
                    }
                }
                Poll::Ready(Ok(())) => {
                    this.inbound.pending.extend_from_slice(read.filled());
                    this.cut_inbound();
                }
            }
        }
    }
}

impl AsyncWrite for Tap {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.out.len() >= OUT_HIGH_WATER {
            match this.poll_drain(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending if this.out.len() >= OUT_HIGH_WATER => return Poll::Pending,
                Poll::Pending => {}
            }
        }
        this.outbound.pending.extend_from_slice(buf);
        this.cut_outbound();
        // Whatever cannot be written now is written on the next write or flush.
        if let Poll::Ready(Err(e)) = this.poll_drain(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.cut_outbound();
        if this.hold.is_some() {
            // Held output counts as flushed: `h2` goes on reading the client meanwhile, and
            // the hold's timer wakes the connection task to write it.
            return match this.poll_drain(cx) {
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_flush(cx),
                Poll::Pending => Poll::Ready(Ok(())),
            };
        }
        std::task::ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // A partial frame left by `h2` goes out as it is.
        let rest = this.outbound.pending.split();
        this.out.extend_from_slice(&rest);
        std::task::ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A tap's two ends over a loopback pair: (tap, handle, the peer's raw stream).
    async fn pair(side: Side, meddle: Meddle) -> (Tap, TapHandle, tokio::net::TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (a, b) = tokio::join!(tokio::net::TcpStream::connect(addr), listener.accept());
        let (tap, handle) = Tap::new(Stream::from(a.unwrap()), side, meddle);
        (tap, handle, b.unwrap().0)
    }

    fn settings(params: &[(u16, u32)]) -> Vec<u8> {
        let mut out = Vec::new();
        frames::settings(&mut out, params);
        out
    }

    #[tokio::test]
    async fn a_connect_protocol_value_above_one_and_a_withdrawal_are_findings() {
        let (mut tap, handle, mut peer) = pair(Side::Client, Meddle::None).await;
        let mut bytes = settings(&[(SETTINGS_ENABLE_CONNECT_PROTOCOL, 1)]);
        bytes.extend(settings(&[(SETTINGS_ENABLE_CONNECT_PROTOCOL, 0)]));
        bytes.extend(settings(&[(SETTINGS_ENABLE_CONNECT_PROTOCOL, 2)]));
        peer.write_all(&bytes).await.unwrap();
        let mut got = vec![0u8; bytes.len()];
        tap.read_exact(&mut got).await.unwrap();
        assert_eq!(got, bytes, "the frames pass unchanged");
        assert_eq!(handle.connect_protocol_values(), [1, 0, 2]);
        let findings: Vec<String> = handle
            .take_findings()
            .iter()
            .map(|v| v.to_string())
            .collect();
        assert_eq!(findings.len(), 2, "{findings:?}");
        assert!(findings[0].contains("1, then 0"), "{findings:?}");
        assert!(findings[1].contains("= 2"), "{findings:?}");
        assert!(
            handle.take_findings().is_empty(),
            "findings are handed out once"
        );
    }

    #[tokio::test]
    async fn a_ping_of_the_tap_goes_out_between_frames_and_its_ack_is_kept_from_h2() {
        let (mut tap, handle, mut peer) = pair(Side::Client, Meddle::None).await;
        // h2's preface and half a frame are written: the injected PING must wait for the
        // frame's end.
        let frame = settings(&[(0x4, 65_535)]);
        let mut written = PREFACE.to_vec();
        written.extend_from_slice(&frame[..5]);
        tap.write_all(&written).await.unwrap();
        let pinger = {
            let handle = handle.clone();
            tokio::spawn(async move {
                handle
                    .ping(Instant::now() + std::time::Duration::from_secs(5))
                    .await
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        tap.write_all(&frame[5..]).await.unwrap();
        tap.flush().await.unwrap();
        let mut got = vec![0u8; PREFACE.len() + frame.len() + 17];
        peer.read_exact(&mut got).await.unwrap();
        assert_eq!(&got[PREFACE.len()..PREFACE.len() + frame.len()], &frame[..]);
        let ping = FrameHeader::parse(&got[PREFACE.len() + frame.len()..]).unwrap();
        assert_eq!(ping.kind, FrameType::Ping);
        let payload: [u8; 8] = got[got.len() - 8..].try_into().unwrap();
        // The peer answers it, then sends an ACK of someone else's PING.
        let mut answer = Vec::new();
        frames::ping(&mut answer, payload, true);
        frames::ping(&mut answer, *b"elseone!", true);
        peer.write_all(&answer).await.unwrap();
        let mut seen = vec![0u8; 17];
        tap.read_exact(&mut seen).await.unwrap();
        assert_eq!(&seen[9..], b"elseone!", "only the other ACK reaches h2");
        assert!(pinger.await.unwrap().is_ok());
    }

    #[tokio::test]
    async fn a_ping_without_ack_times_out_with_a_reason() {
        let (mut tap, handle, _peer) = pair(Side::Client, Meddle::None).await;
        let reader = tokio::spawn(async move {
            let mut b = [0u8; 16];
            let _ = tap.read(&mut b).await;
        });
        let r = handle
            .ping(Instant::now() + std::time::Duration::from_millis(200))
            .await;
        assert!(r.unwrap_err().contains("no ACK"));
        reader.abort();
    }

    #[tokio::test]
    async fn meddles_change_what_the_server_sends_and_reads() {
        // SettingValue2 rewrites the value of the first SETTINGS.
        let (mut tap, _h, mut peer) = pair(Side::Server, Meddle::SettingValue2).await;
        tap.write_all(&settings(&[(SETTINGS_ENABLE_CONNECT_PROTOCOL, 1)]))
            .await
            .unwrap();
        tap.flush().await.unwrap();
        let mut got = [0u8; 15];
        peer.read_exact(&mut got).await.unwrap();
        assert_eq!(&got[11..], &2u32.to_be_bytes());

        // NoSettingsAck drops the ACK, keeps the rest.
        let (mut tap, _h, mut peer) = pair(Side::Server, Meddle::NoSettingsAck).await;
        let mut ack = Vec::new();
        frames::settings_ack(&mut ack);
        let mut ping = Vec::new();
        frames::ping(&mut ping, [1; 8], true);
        tap.write_all(&[ack, ping.clone()].concat()).await.unwrap();
        tap.flush().await.unwrap();
        let mut got = vec![0u8; ping.len()];
        peer.read_exact(&mut got).await.unwrap();
        assert_eq!(got, ping);

        // CloseOnGoaway ends reads at the client's GOAWAY.
        let (mut tap, _h, mut peer) = pair(Side::Server, Meddle::CloseOnGoaway).await;
        let mut bytes = PREFACE.to_vec();
        frames::goaway(&mut bytes, 0, ErrorCode::NO_ERROR, b"");
        peer.write_all(&bytes).await.unwrap();
        let mut got = vec![0u8; PREFACE.len()];
        tap.read_exact(&mut got).await.unwrap();
        let mut more = [0u8; 8];
        assert_eq!(
            tap.read(&mut more).await.unwrap(),
            0,
            "end of file after GOAWAY"
        );
    }

    #[tokio::test]
    async fn a_held_preface_shows_a_client_that_did_not_wait_for_the_setting() {
        // The client's preface and a HEADERS on stream 1, sent at once.
        let mut early = PREFACE.to_vec();
        early.extend(settings(&[]));
        frames::headers(&mut early, 1, &[0x82], true);
        for (hold, blamed) in [
            (std::time::Duration::from_secs(30), true),
            (Default::default(), false),
        ] {
            let (tap, handle, mut peer) = pair(Side::Server, Meddle::None).await;
            let mut tap = tap.hold_preface(hold);
            tap.write_all(&settings(&[(SETTINGS_ENABLE_CONNECT_PROTOCOL, 1)]))
                .await
                .unwrap();
            // A held preface counts as flushed, so `h2` goes on to read the client.
            tap.flush().await.unwrap();
            peer.write_all(&early).await.unwrap();
            let mut got = vec![0u8; early.len()];
            tap.read_exact(&mut got).await.unwrap();
            assert_eq!(got, early, "the client's frames pass unchanged");
            assert_eq!(handle.opened_before_setting(1), blamed, "hold {hold:?}");
            // Held: nothing reached the client yet.
            let mut one = [0u8; 1];
            let sent = tokio::time::timeout(
                std::time::Duration::from_millis(200),
                peer.read_exact(&mut one),
            )
            .await;
            assert_eq!(sent.is_err(), blamed, "hold {hold:?}");
        }
        // Once the hold is over the SETTINGS go out, and a HEADERS read after is not blamed.
        let (tap, handle, mut peer) = pair(Side::Server, Meddle::None).await;
        let mut tap = tap.hold_preface(std::time::Duration::from_millis(50));
        let preface = settings(&[(SETTINGS_ENABLE_CONNECT_PROTOCOL, 1)]);
        tap.write_all(&preface).await.unwrap();
        tap.flush().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        tap.flush().await.unwrap();
        let mut got = vec![0u8; preface.len()];
        peer.read_exact(&mut got).await.unwrap();
        assert_eq!(got, preface);
        peer.write_all(&early).await.unwrap();
        let mut got = vec![0u8; early.len()];
        tap.read_exact(&mut got).await.unwrap();
        assert!(!handle.opened_before_setting(1));
    }
}
