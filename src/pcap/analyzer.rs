//! The connection table: packets in, connections out. Each TCP segment is put in its
//! connection (a new SYN on a finished 4-tuple starts a new one, as tshark's `tcp.stream`
//! does), classified for the byte ledger, reassembled per direction, and the reassembled bytes
//! are handed to the connection's dissector.

use std::collections::HashMap;
use std::io::Read;
use std::net::SocketAddr;

use crate::wire::Direction;

use super::dissect::{ConnKind, Dissector};
use super::events::{ConnectionEvent, Event, RoleSource, TcpEndEvent, TcpEndKind, WarningEvent};
use super::layers::{self, Parsed, Segment, Skip};
use super::ledger::Ledger;
use super::reader::{Item, RawPacket, ReadError, read_items};
use super::reassembly::{Chunk, GapKind, Reassembler};
use super::tls::TlsConn;
use super::tls::keylog::KeyLog;
use super::{Ctx, Options, Sink};

/// FxHash (as in rustc): the connection table is looked up once per packet, and SipHash's
/// flooding resistance buys nothing against a capture file.
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }

    fn write_u16(&mut self, n: u16) {
        self.write_u64(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type FxBuild = std::hash::BuildHasherDefault<FxHasher>;

/// A closed connection is forgotten (its totals kept) once the capture has moved this far past
/// its close: twice the usual 60 s TIME-WAIT, so late ACKs and retransmissions still find it.
const RETIRE_AFTER_NS: i128 = 120_000_000_000;

/// Per-connection summaries kept for the report; further connections count in the totals only,
/// so memory stays bounded by the open connections however many a capture holds.
pub const MAX_LISTED_CONNECTIONS: usize = 10_000;

/// Most packet times kept per connection for data waiting above a hole.
const MAX_WAITING_TIMES: usize = 1 << 16;

/// How many warnings of one kind name their packet before the rest are only counted.
const WARN_LIMIT: u64 = 5;

/// One connection's totals.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnSummary {
    /// Connection index (tshark's `tcp.stream`).
    pub id: u32,
    /// Client end.
    pub client: SocketAddr,
    /// Server end.
    pub server: SocketAddr,
    /// What it carried.
    pub kind: ConnKind,
    /// Bytes by layer.
    pub ledger: Ledger,
    /// No SYN was seen.
    pub partial: bool,
    /// First packet number.
    pub first_packet: u64,
}

/// Totals of a whole capture.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CaptureSummary {
    /// `pcap` or `pcapng`.
    pub format: &'static str,
    /// Packets read.
    pub packets: u64,
    /// Connections in order of appearance (at most [`MAX_LISTED_CONNECTIONS`]).
    pub connections: Vec<ConnSummary>,
    /// Connections counted in `total` but not listed in `connections`.
    pub unlisted_connections: u64,
    /// All bytes of the capture by layer (non-TCP packets included).
    pub total: Ledger,
    /// Warnings reported.
    pub warnings: u64,
    /// Violations reported.
    pub violations: u64,
    /// WebSocket frames reported.
    pub frames: u64,
    /// Time from the first to the last packet, in nanoseconds.
    pub duration_ns: i128,
    /// Packets cut by the snaplen.
    pub truncated_packets: u64,
}

impl CaptureSummary {
    /// All connections, listed or not.
    pub fn connection_count(&self) -> u64 {
        self.connections.len() as u64 + self.unlisted_connections
    }
}

struct Conn {
    id: u32,
    client: SocketAddr,
    server: SocketAddr,
    reasm: [Reassembler; 2],
    dissector: Option<Box<Dissector>>,
    /// The TLS layer, when the connection's first bytes were a TLS handshake.
    tls: Option<Box<TlsConn>>,
    /// Whether the connection's first bytes were looked at for TLS.
    tls_decided: bool,
    ledger: Ledger,
    new_bytes: [u64; 2],
    fin_seen: [bool; 2],
    rst_seen: bool,
    /// Application counts folded into the ledger; later new bytes count as other payload.
    folded: bool,
    kind: ConnKind,
    first_packet: u64,
    client_isn: Option<u32>,
    /// Capture time of the close, once folded.
    closed_at: Option<i128>,
    /// No SYN was seen in either direction.
    partial: bool,
    /// Capture times of the packets whose data waits above a hole, so that what they complete
    /// is reported at their time, not at the time the hole was filled or declared lost.
    waiting_times: std::collections::BTreeMap<u64, i128>,
}

impl Conn {
    fn dir_of(&self, src: SocketAddr) -> Direction {
        if src == self.client {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        }
    }
}

fn idx(dir: Direction) -> usize {
    match dir {
        Direction::ClientToServer => 0,
        Direction::ServerToClient => 1,
    }
}

fn other(dir: Direction) -> Direction {
    match dir {
        Direction::ClientToServer => Direction::ServerToClient,
        Direction::ServerToClient => Direction::ClientToServer,
    }
}

/// Counts events that the summary reports while passing them on.
struct Counting<'a> {
    inner: &'a mut dyn Sink,
    warnings: u64,
    violations: u64,
    frames: u64,
}

impl Sink for Counting<'_> {
    fn event(&mut self, event: &Event<'_>) {
        match event {
            Event::Warning(_) => self.warnings += 1,
            Event::Violation(_) => self.violations += 1,
            Event::H2Finding(f) if f.level != crate::wire::Level::Info => self.violations += 1,
            Event::Frame(_) => self.frames += 1,
            _ => {}
        }
        self.inner.event(event);
    }
}

struct Analyzer<'o> {
    options: &'o Options,
    /// TLS secrets: the key log given plus those embedded in the capture.
    keys: KeyLog,
    /// Connections by id; `None` once retired.
    conns: Vec<Option<Box<Conn>>>,
    by_key: HashMap<(SocketAddr, SocketAddr), usize, FxBuild>,
    /// Closed connections in order of closing, to retire.
    closed: std::collections::VecDeque<usize>,
    /// Totals of retired connections.
    retired: Ledger,
    listed: Vec<ConnSummary>,
    unlisted: u64,
    extra: Ledger,
    first_ts: Option<i128>,
    last_ts: i128,
    last_packet: u64,
    skip_counts: HashMap<Skip, u64>,
    truncated_packets: u64,
}

fn key(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a <= b { (a, b) } else { (b, a) }
}

/// Reads and dissects a whole capture, handing every event to `sink` in capture order.
pub fn analyze<R: Read + Send>(
    input: R,
    options: &Options,
    sink: &mut dyn Sink,
) -> Result<CaptureSummary, ReadError> {
    analyze_with_keys(input, options, &KeyLog::default(), sink)
}

/// [`analyze`] with TLS secrets to decrypt with (a key log; secrets embedded in a pcapng
/// Decryption Secrets Block are added to them).
pub fn analyze_with_keys<R: Read + Send>(
    input: R,
    options: &Options,
    keys: &KeyLog,
    sink: &mut dyn Sink,
) -> Result<CaptureSummary, ReadError> {
    let mut counting = Counting {
        inner: sink,
        warnings: 0,
        violations: 0,
        frames: 0,
    };
    let mut a = Analyzer {
        options,
        keys: keys.clone(),
        conns: Vec::new(),
        by_key: HashMap::default(),
        closed: std::collections::VecDeque::new(),
        retired: Ledger::default(),
        listed: Vec::new(),
        unlisted: 0,
        extra: Ledger::default(),
        first_ts: None,
        last_ts: 0,
        last_packet: 0,
        skip_counts: HashMap::new(),
        truncated_packets: 0,
    };
    let read = read_items(input, |item| match item {
        Item::Packet(p) => a.packet(p, &mut counting),
        Item::TlsKeyLog(text) => a.embedded_keys(text, &mut counting),
    })?;
    a.finish(&mut counting);
    for w in &read.warnings {
        counting.event(&Event::Warning(WarningEvent {
            packet: None,
            conn: None,
            message: w,
        }));
    }
    let mut summary = CaptureSummary {
        format: read.format,
        packets: read.packets,
        duration_ns: a.last_ts - a.first_ts.unwrap_or(0),
        truncated_packets: a.truncated_packets,
        ..CaptureSummary::default()
    };
    for i in 0..a.conns.len() {
        a.retire(i);
    }
    summary.total.add(&a.extra);
    summary.total.add(&a.retired);
    a.listed.sort_by_key(|c| c.id);
    summary.connections = a.listed;
    summary.unlisted_connections = a.unlisted;
    summary.warnings = counting.warnings;
    summary.violations = counting.violations;
    summary.frames = counting.frames;
    Ok(summary)
}

impl Analyzer<'_> {
    /// A key log embedded in the capture (pcapng Decryption Secrets Block, as
    /// `editcap --inject-secrets` writes).
    fn embedded_keys(&mut self, text: &[u8], sink: &mut dyn Sink) {
        let text = String::from_utf8_lossy(text);
        if let Err(e) = self.keys.add(&text) {
            let msg = format!(
                "the capture's embedded tls key log is malformed at its {e}; its later lines are not used"
            );
            sink.event(&Event::Warning(WarningEvent {
                packet: None,
                conn: None,
                message: &msg,
            }));
        }
    }

    fn time(&self, ts: i128) -> i128 {
        ts - self.first_ts.unwrap_or(ts)
    }

    /// Forgets a closed connection: its totals go to `retired`, its summary to the list.
    fn retire(&mut self, i: usize) {
        let Some(c) = self.conns.get_mut(i).and_then(Option::take) else {
            return;
        };
        let k = key(c.client, c.server);
        if self.by_key.get(&k) == Some(&i) {
            self.by_key.remove(&k);
        }
        self.retired.add(&c.ledger);
        if self.listed.len() < MAX_LISTED_CONNECTIONS {
            self.listed.push(ConnSummary {
                id: c.id,
                client: c.client,
                server: c.server,
                kind: c.kind,
                ledger: c.ledger,
                partial: c.partial,
                first_packet: c.first_packet,
            });
        } else {
            self.unlisted += 1;
        }
    }

    fn retire_old(&mut self, now: i128) {
        while let Some(&i) = self.closed.front() {
            let closed_at = self.conns[i].as_ref().and_then(|c| c.closed_at);
            match closed_at {
                Some(t) if now - t < RETIRE_AFTER_NS => break,
                _ => {
                    self.closed.pop_front();
                    self.retire(i);
                }
            }
        }
    }

    fn packet(&mut self, p: &RawPacket<'_>, sink: &mut dyn Sink) {
        let first = *self.first_ts.get_or_insert(p.ts_ns);
        self.last_ts = self.last_ts.max(p.ts_ns);
        self.last_packet = p.number;
        let time_ns = p.ts_ns - first;
        self.retire_old(time_ns);
        match layers::parse(p.linktype, p.data) {
            Parsed::Tcp(seg) => self.segment(p, &seg, time_ns, sink),
            Parsed::Other(skip) => {
                self.extra.packets += 1;
                self.extra.wire_bytes += u64::from(p.origlen);
                self.extra.non_tcp_packets += 1;
                self.extra.non_tcp += u64::from(p.origlen);
                if matches!(skip, Skip::NotIp | Skip::NotTcp) {
                    return;
                }
                let n = self.skip_counts.entry(skip).or_insert(0);
                *n += 1;
                if *n <= WARN_LIMIT {
                    let more = if *n == WARN_LIMIT {
                        "; further packets like this are only counted"
                    } else {
                        ""
                    };
                    let msg = format!("packet {}: {}; skipped{more}", p.number, skip.describe());
                    sink.event(&Event::Warning(WarningEvent {
                        packet: Some(p.number),
                        conn: None,
                        message: &msg,
                    }));
                }
            }
        }
    }

    fn conn_for(
        &mut self,
        p: &RawPacket<'_>,
        seg: &Segment<'_>,
        time_ns: i128,
        sink: &mut dyn Sink,
    ) -> usize {
        let src = SocketAddr::new(seg.src.0, seg.src.1);
        let dst = SocketAddr::new(seg.dst.0, seg.dst.1);
        let k = key(src, dst);
        if let Some(&i) = self.by_key.get(&k)
            && let Some(c) = self.conns[i].as_deref()
        {
            let fresh_syn = seg.syn && !seg.ack;
            let reused = fresh_syn
                && (c.folded
                    || c.rst_seen
                    || c.client_isn.is_some_and(|isn| isn != seg.seq)
                    || (c.fin_seen[0] && c.fin_seen[1]));
            if !reused {
                return i;
            }
            self.close(i, p.number, time_ns, sink);
            self.retire(i);
        }
        let (client, server, roles) = if seg.syn {
            if seg.ack {
                (dst, src, RoleSource::Syn)
            } else {
                (src, dst, RoleSource::Syn)
            }
        } else if let Some(port) = self
            .options
            .port
            .filter(|&pt| pt == seg.dst.1 || pt == seg.src.1)
        {
            if seg.dst.1 == port {
                (src, dst, RoleSource::PortOption)
            } else {
                (dst, src, RoleSource::PortOption)
            }
        } else if seg.src.1 >= seg.dst.1 {
            (src, dst, RoleSource::LowerPort)
        } else {
            (dst, src, RoleSource::LowerPort)
        };
        let id = self.conns.len() as u32;
        let assume_ws = self.options.port == Some(server.port());
        self.conns.push(Some(Box::new(Conn {
            id,
            client,
            server,
            reasm: [
                Reassembler::with_window(self.options.reorder_window),
                Reassembler::with_window(self.options.reorder_window),
            ],
            dissector: Some(Box::new(Dissector::new(assume_ws))),
            tls: None,
            tls_decided: false,
            ledger: Ledger {
                connections: 1,
                ..Ledger::default()
            },
            new_bytes: [0, 0],
            fin_seen: [false, false],
            rst_seen: false,
            folded: false,
            kind: ConnKind::Empty,
            first_packet: p.number,
            client_isn: (seg.syn && !seg.ack).then_some(seg.seq),
            closed_at: None,
            partial: false,
            waiting_times: std::collections::BTreeMap::new(),
        })));
        let ev = ConnectionEvent {
            at: super::events::At {
                conn: id,
                packet: p.number,
                time_ns,
                stream: None,
            },
            client,
            server,
            roles,
        };
        sink.event(&Event::Connection(&ev));
        let i = self.conns.len() - 1;
        self.by_key.insert(k, i);
        i
    }

    fn segment(
        &mut self,
        p: &RawPacket<'_>,
        seg: &Segment<'_>,
        time_ns: i128,
        sink: &mut dyn Sink,
    ) {
        let i = self.conn_for(p, seg, time_ns, sink);
        let options = self.options;
        let Some(c) = self.conns[i].as_deref_mut() else {
            return;
        };
        let dir = c.dir_of(SocketAddr::new(seg.src.0, seg.src.1));
        let d = idx(dir);
        let origlen = u64::from(p.origlen);
        c.ledger.packets += 1;
        c.ledger.wire_bytes += origlen;
        let mut ctx = Ctx {
            conn: c.id,
            time_ns,
            sink,
            decode: options.decode,
            max_message: options.max_message,
            stream: None,
        };
        if seg.syn && !seg.ack && c.client_isn.is_none() && dir == Direction::ClientToServer {
            c.client_isn = Some(seg.seq);
        }
        let folded = c.folded;
        let keys = &self.keys;
        let (reasm, dissector, ledger, waiting_times, tls, tls_decided) = {
            let Conn {
                reasm,
                dissector,
                ledger,
                waiting_times,
                tls,
                tls_decided,
                ..
            } = c;
            (reasm, dissector, ledger, waiting_times, tls, tls_decided)
        };
        let times = &*waiting_times;
        let mut deliver = |chunk: Chunk<'_>| {
            let mut to = Layers {
                dissector: &mut *dissector,
                tls: &mut *tls,
                tls_decided: &mut *tls_decided,
                keys,
            };
            deliver_to(&mut to, ledger, dir, chunk, times, &mut ctx)
        };
        let outcome = reasm[d].segment(
            p.number,
            seg.seq,
            seg.syn,
            seg.fin,
            seg.rst,
            seg.payload_len,
            seg.payload,
            &mut deliver,
        );
        if reasm.iter().all(|r| !r.has_pending()) {
            waiting_times.clear();
        } else if outcome.new_bytes > 0 && reasm[d].has_pending() {
            waiting_times.insert(p.number, time_ns);
            // Bounded like the data it describes; past the bound the oldest times are
            // forgotten and their data is reported at the time it is delivered.
            if waiting_times.len() > MAX_WAITING_TIMES {
                waiting_times.pop_first();
            }
        }
        if seg.payload_len == 0 {
            let cc = &mut ledger.control;
            if seg.rst {
                cc.rst_packets += 1;
                cc.rst_bytes += origlen;
            } else if seg.fin {
                cc.fin_packets += 1;
                cc.fin_bytes += origlen;
            } else if seg.syn {
                cc.syn_packets += 1;
                cc.syn_bytes += origlen;
            } else {
                cc.ack_packets += 1;
                cc.ack_bytes += origlen;
            }
        } else if outcome.new_bytes == 0 {
            ledger.retransmitted += origlen;
            ledger.retransmitted_packets += 1;
        } else {
            let headers = u64::from(seg.link_len + seg.ip_len + seg.tcp_len);
            let trailer = origlen.saturating_sub(headers + u64::from(seg.payload_len));
            ledger.link += u64::from(seg.link_len) + trailer;
            ledger.ip += u64::from(seg.ip_len);
            ledger.tcp_header += u64::from(seg.tcp_len);
            ledger.retransmitted += outcome.old_bytes;
            ledger.data_packets += 1;
            if folded {
                ledger.other_payload += outcome.new_bytes;
            } else {
                c.new_bytes[d] += outcome.new_bytes;
            }
        }
        if (seg.payload.len() as u32) < seg.payload_len {
            self.truncated_packets += 1;
            if self.truncated_packets <= WARN_LIMIT {
                let more = if self.truncated_packets == WARN_LIMIT {
                    "; further cut packets are only counted"
                } else {
                    ""
                };
                let msg = format!(
                    "packet {}: cut by the snaplen, {} of {} tcp payload bytes captured{more}",
                    p.number,
                    seg.payload.len(),
                    seg.payload_len
                );
                ctx.sink.event(&Event::Warning(WarningEvent {
                    packet: Some(p.number),
                    conn: Some(ctx.conn),
                    message: &msg,
                }));
            }
        }
        let Some(c) = self.conns[i].as_deref_mut() else {
            return;
        };
        if seg.ack {
            c.reasm[idx(other(dir))].peer_ack(seg.ack_no);
        }
        let end = if seg.rst && !c.rst_seen {
            c.rst_seen = true;
            Some(TcpEndKind::Rst)
        } else if seg.fin && !c.fin_seen[d] {
            c.fin_seen[d] = true;
            Some(TcpEndKind::Fin)
        } else {
            None
        };
        if let Some(kind) = end {
            ctx.sink.event(&Event::TcpEnd(TcpEndEvent {
                at: ctx.at(p.number),
                dir,
                kind,
            }));
        }
        let done = c.rst_seen || (c.reasm[0].finished() && c.reasm[1].finished());
        if done && !c.folded {
            let sink = ctx.sink;
            self.close(i, p.number, time_ns, sink);
        }
    }

    /// Flushes a connection's streams and folds its application counts into its ledger.
    fn close(&mut self, i: usize, packet: u64, time_ns: i128, sink: &mut dyn Sink) {
        let options = self.options;
        let Some(c) = self.conns[i].as_deref_mut() else {
            return;
        };
        if c.folded {
            return;
        }
        let mut ctx = Ctx {
            conn: c.id,
            time_ns,
            sink,
            decode: options.decode,
            max_message: options.max_message,
            stream: None,
        };
        let keys = &self.keys;
        for dir in [Direction::ClientToServer, Direction::ServerToClient] {
            let Conn {
                reasm,
                dissector,
                ledger,
                waiting_times,
                tls,
                tls_decided,
                ..
            } = c;
            let times = &*waiting_times;
            let mut deliver = |chunk: Chunk<'_>| {
                let mut to = Layers {
                    dissector: &mut *dissector,
                    tls: &mut *tls,
                    tls_decided: &mut *tls_decided,
                    keys,
                };
                deliver_to(&mut to, ledger, dir, chunk, times, &mut ctx)
            };
            reasm[idx(dir)].flush(packet, &mut deliver);
        }
        c.waiting_times.clear();
        c.folded = true;
        let tls = c.tls.take();
        if let Some(mut t) = tls {
            t.finish(packet, &mut ctx);
            for dir in [Direction::ClientToServer, Direction::ServerToClient] {
                let n = t.tls_bytes(dir);
                c.ledger.tls += n;
                c.new_bytes[idx(dir)] = c.new_bytes[idx(dir)].saturating_sub(n);
            }
            c.kind = ConnKind::Tls;
        }
        if let Some(dis) = c.dissector.as_mut() {
            dis.finish(packet, &mut ctx);
        }
        if let Some(dis) = c.dissector.take() {
            if c.kind != ConnKind::Tls || !matches!(dis.kind, ConnKind::Empty | ConnKind::Other) {
                c.kind = dis.kind;
            }
            for dir in [Direction::ClientToServer, Direction::ServerToClient] {
                let a = dis.counts(dir);
                let l = &mut c.ledger;
                l.http_head += a.http_head;
                l.http_body += a.http_body;
                l.http_messages += a.http_messages;
                l.ws_header += a.ws_header;
                l.ws_mask += a.ws_mask;
                l.ws_payload += a.ws_payload;
                l.ws_frames += a.ws_frames;
                l.http2 += a.http2;
                l.messages += a.ws_messages + a.http_messages_with_body;
                l.app_payload += a.ws_data_payload + a.http_body;
                let counted =
                    a.http_head + a.http_body + a.ws_header + a.ws_mask + a.ws_payload + a.http2;
                l.other_payload += c.new_bytes[idx(dir)].saturating_sub(counted);
            }
        }
        // The flush left the reassemblers without buffers; they stay, so that a late copy of
        // a segment already seen still counts as a retransmission, wherever the capture put it.
        c.partial = c.reasm.iter().all(|r| !r.has_base() || r.partial);
        c.closed_at = Some(time_ns);
        self.closed.push_back(i);
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        let last = self.last_packet;
        let t = self.time(self.last_ts);
        for i in 0..self.conns.len() {
            self.close(i, last, t, sink);
        }
    }
}

/// Where a connection's reassembled bytes go: the TLS layer when there is one, else straight to
/// the dissector.
struct Layers<'a> {
    dissector: &'a mut Option<Box<Dissector>>,
    tls: &'a mut Option<Box<TlsConn>>,
    tls_decided: &'a mut bool,
    keys: &'a KeyLog,
}

fn deliver_to(
    to: &mut Layers<'_>,
    ledger: &mut Ledger,
    dir: Direction,
    chunk: Chunk<'_>,
    waiting_times: &std::collections::BTreeMap<u64, i128>,
    ctx: &mut Ctx<'_>,
) {
    match chunk {
        Chunk::Data {
            offset,
            bytes,
            packet,
        } => {
            if !*to.tls_decided {
                *to.tls_decided = true;
                if offset == 0 && super::tls::starts_tls(dir, bytes) {
                    *to.tls = Some(Box::new(TlsConn::new()));
                }
            }
            // Data that waited above a hole carries the time of the packet that brought it.
            let now = ctx.time_ns;
            if let Some(&t) = waiting_times.get(&packet) {
                ctx.time_ns = t;
            }
            if let Some(tls) = to.tls.as_mut() {
                tls.data(
                    dir,
                    bytes,
                    packet,
                    to.keys,
                    to.dissector.as_deref_mut(),
                    ctx,
                );
            } else if let Some(dis) = to.dissector.as_mut() {
                dis.data(dir, offset, bytes, packet, ctx);
            }
            ctx.time_ns = now;
        }
        Chunk::Gap {
            offset,
            len,
            packet,
            kind,
        } => {
            match kind {
                GapKind::Truncated => ledger.truncated_bytes += len,
                GapKind::Lost => ledger.lost_bytes += len,
            }
            if let Some(tls) = to.tls.as_mut() {
                tls.gap(dir, len, packet, ctx);
            } else if let Some(dis) = to.dissector.as_mut() {
                dis.gap(dir, offset, len, kind, packet, ctx);
            }
        }
    }
}
