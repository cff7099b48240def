//! TCP reassembly of one direction of a connection into an ordered byte stream whose every byte
//! keeps the number of the packet that brought it.
//!
//! Sequence numbers are mapped to 64-bit stream offsets by taking the candidate nearest the
//! next expected offset, so wraparound at 2^32 needs no special case. Offset 0 is the byte after
//! the SYN, or the first byte seen when the capture started mid-stream (then the stream is
//! `partial`). Segments above a hole wait in an ordered map and are delivered when the hole
//! fills. Overlaps are resolved first-wins, as Zeek does and Wireshark's reassembly does in
//! effect; an overlap whose bytes differ is counted as a conflict. Bytes that were on the wire
//! but cut by the snaplen are delivered as [`GapKind::Truncated`] gaps.
//!
//! Bytes never captured become [`GapKind::Lost`] gaps only when the capture proves they will
//! not come: the data waiting above the hole exceeds the reorder window (see
//! [`Reassembler::with_window`]), or the stream is flushed (the capture ended, the connection
//! was reset or its 4-tuple reused). An acknowledgement covering the hole is *not* such proof:
//! capture points that merge several queues or interfaces routinely record the peer's ACK
//! before the segment it acknowledges, and a FIN before the last data segment. The highest
//! acknowledgement is kept only to size a loss at the very end of a stream when the stream is
//! flushed. Delivery happens on arrival, not on acknowledgement, so one-sided captures work.

use std::collections::BTreeMap;

/// Default reorder window: most bytes held above a hole (per direction) before the hole is
/// declared lost.
pub const DEFAULT_REORDER_WINDOW: usize = 4 << 20;

/// What one waiting segment costs beyond its bytes (its map node and buffer header), charged
/// against the window so that a flood of one-byte segments is bounded too.
const PIECE_COST: usize = 64;

/// Why a range of the stream has no bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GapKind {
    /// The bytes were on the wire (they count in the packet's length) but the snaplen cut them.
    Truncated,
    /// The bytes are not in the capture at all.
    Lost,
}

/// A piece of the reassembled stream, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// Bytes, starting at `offset`, all brought by packet `packet`.
    Data {
        /// Stream offset of the first byte.
        offset: u64,
        /// The bytes.
        bytes: &'a [u8],
        /// Packet number that carried them.
        packet: u64,
    },
    /// `len` bytes at `offset` that cannot be delivered.
    Gap {
        /// Stream offset of the first missing byte.
        offset: u64,
        /// Number of missing bytes.
        len: u64,
        /// For truncation, the packet that carried them; for a loss, the packet at which the
        /// loss was noticed.
        packet: u64,
        /// Why.
        kind: GapKind,
    },
}

/// How the bytes of one segment were classified.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Payload bytes seen for the first time (captured or cut by the snaplen).
    pub new_bytes: u64,
    /// Payload bytes already seen (retransmissions, overlaps, keep-alive bytes, data before the
    /// start of a mid-stream capture, data after RST).
    pub old_bytes: u64,
    /// Whether an overlapping byte differed from the first copy.
    pub conflict: bool,
    /// Whether the segment carried data beyond the FIN or after a RST.
    pub after_end: bool,
    /// Whether this segment was a retransmitted SYN.
    pub syn_retransmitted: bool,
}

#[derive(Clone, Debug)]
enum Piece {
    Data(Vec<u8>),
    Truncated(u64),
}

impl Piece {
    fn len(&self) -> u64 {
        match self {
            Piece::Data(d) => d.len() as u64,
            Piece::Truncated(n) => *n,
        }
    }
}

/// One direction of a TCP connection being put back in order.
#[derive(Clone, Debug)]
pub struct Reassembler {
    /// Sequence number of stream offset 0.
    base: Option<u32>,
    /// Every byte below this offset has been delivered or declared a gap.
    next: u64,
    /// Waiting pieces: offset → (piece, packet); non-overlapping, all at or above `next`.
    pending: BTreeMap<u64, (Piece, u64)>,
    pending_bytes: usize,
    /// Bytes plus [`PIECE_COST`] per waiting piece, compared with `window`.
    pending_cost: usize,
    /// Most `pending_cost` held before the lowest hole is declared lost.
    window: usize,
    /// Highest stream offset the peer acknowledged, used only when flushing.
    acked: Option<u64>,
    fin_at: Option<u64>,
    reset: bool,
    /// No SYN was seen: the stream starts where the capture did.
    pub partial: bool,
}

impl Default for Reassembler {
    fn default() -> Self {
        Reassembler::with_window(DEFAULT_REORDER_WINDOW)
    }
}

impl Reassembler {
    /// A reassembler that has seen nothing yet, with the default reorder window.
    pub fn new() -> Reassembler {
        Reassembler::default()
    }

    /// A reassembler holding at most `window` bytes (plus a small per-segment charge) above a
    /// hole: data arriving beyond that declares the lowest hole lost. A capture whose packets
    /// are displaced by less than the window decodes as if they were in order.
    pub fn with_window(window: usize) -> Reassembler {
        Reassembler {
            base: None,
            next: 0,
            pending: BTreeMap::new(),
            pending_bytes: 0,
            pending_cost: 0,
            window,
            acked: None,
            fin_at: None,
            reset: false,
            partial: false,
        }
    }

    /// Offset of the next byte to deliver.
    pub fn next_offset(&self) -> u64 {
        self.next
    }

    /// Bytes held above a hole.
    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    /// Whether anything (bytes, or a range cut by the snaplen) is held above a hole.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Whether a FIN has been seen and every byte before it delivered.
    pub fn finished(&self) -> bool {
        self.fin_at.is_some_and(|f| self.next >= f) || self.reset
    }

    /// Whether the sender reset the connection.
    pub fn was_reset(&self) -> bool {
        self.reset
    }

    /// Whether a SYN has set the initial sequence number.
    pub fn has_base(&self) -> bool {
        self.base.is_some()
    }

    /// The initial sequence number plus one, when a SYN was seen.
    pub fn isn(&self) -> Option<u32> {
        if self.partial {
            None
        } else {
            self.base.map(|b| b.wrapping_sub(1))
        }
    }

    /// Maps a sequence number to the stream offset nearest the next expected one.
    fn offset_of(&self, base: u32, seq: u32) -> i64 {
        let rel = seq.wrapping_sub(base);
        let diff = rel.wrapping_sub(self.next as u32) as i32;
        self.next as i64 + i64::from(diff)
    }

    /// Feeds one segment sent in this direction. `payload` is the captured part of a payload
    /// that was `payload_len` bytes on the wire. Delivered chunks go to `emit` in stream order.
    #[allow(clippy::too_many_arguments)]
    pub fn segment<'p>(
        &mut self,
        packet: u64,
        seq: u32,
        syn: bool,
        fin: bool,
        rst: bool,
        payload_len: u32,
        payload: &'p [u8],
        emit: &mut dyn FnMut(Chunk<'_>),
    ) -> Outcome {
        let mut out = Outcome::default();
        let data_seq = if syn {
            let base = seq.wrapping_add(1);
            match self.base {
                None => {
                    self.base = Some(base);
                    self.partial = false;
                }
                Some(b) if b == base => out.syn_retransmitted = true,
                Some(_) => {}
            }
            base
        } else {
            seq
        };
        let base = *self.base.get_or_insert_with(|| {
            self.partial = true;
            data_seq
        });
        let start = self.offset_of(base, data_seq);
        let len = i64::from(payload_len);
        if self.reset {
            out.old_bytes = u64::from(payload_len);
            out.after_end = payload_len > 0;
            return out;
        }
        if fin {
            let at = (start + len).max(0) as u64;
            self.fin_at = Some(self.fin_at.map_or(at, |f| f.min(at)));
        }
        if let Some(f) = self.fin_at
            && start + len > f as i64
            && len > 0
        {
            out.after_end = true;
        }
        if len > 0 {
            self.insert(packet, start, payload_len, payload, &mut out, emit);
        }
        if rst {
            self.reset = true;
            self.flush(packet, emit);
        }
        out
    }

    fn insert<'p>(
        &mut self,
        packet: u64,
        start: i64,
        payload_len: u32,
        payload: &'p [u8],
        out: &mut Outcome,
        emit: &mut dyn FnMut(Chunk<'_>),
    ) {
        let end = start + i64::from(payload_len);
        let next = self.next as i64;
        if end <= next {
            out.old_bytes += u64::from(payload_len);
            return;
        }
        // Trim what lies below `next` (already delivered or declared lost).
        let skip = (next - start).max(0) as u64;
        out.old_bytes += skip;
        let from = (start.max(next)) as u64;
        let end = end as u64;
        let cap_end = (start + payload.len() as i64).max(from as i64) as u64;
        // Fast path: in order and nothing waiting.
        if from == self.next && self.pending.is_empty() {
            let captured = payload.get((from as i64 - start) as usize..).unwrap_or(&[]);
            out.new_bytes += end - from;
            if !captured.is_empty() {
                emit(Chunk::Data {
                    offset: from,
                    bytes: captured,
                    packet,
                });
            }
            if cap_end < end {
                emit(Chunk::Gap {
                    offset: cap_end,
                    len: end - cap_end,
                    packet,
                    kind: GapKind::Truncated,
                });
            }
            self.next = end;
            return;
        }
        // Slow path: store the parts not already covered by waiting pieces, first copy wins.
        let mut cursor = from;
        let overlapping: Vec<(u64, u64)> = self
            .pending
            .range(..end)
            .rev()
            .take_while(|(k, (p, _))| **k + p.len() > from)
            .map(|(k, (p, _))| (*k, p.len()))
            .collect();
        let mut covered: Vec<(u64, u64)> = overlapping.into_iter().rev().collect();
        covered.push((end, 0));
        for (k, plen) in covered {
            if k > cursor {
                let stop = k.min(end);
                self.store(packet, start, cursor, stop, payload, cap_end);
                out.new_bytes += stop - cursor;
            }
            if plen > 0 {
                let o_from = k.max(cursor);
                let o_to = (k + plen).min(end);
                if o_to > o_from {
                    out.old_bytes += o_to - o_from;
                    if let Some((Piece::Data(d), _)) = self.pending.get(&k) {
                        for off in o_from..o_to {
                            let mine = payload.get((off as i64 - start) as usize);
                            if let Some(b) = mine
                                && d[(off - k) as usize] != *b
                            {
                                out.conflict = true;
                                break;
                            }
                        }
                    }
                }
                cursor = cursor.max(k + plen);
            }
        }
        self.drain(emit);
        while self.pending_cost > self.window && !self.pending.is_empty() {
            self.declare_lost_to_first(packet, emit);
        }
    }

    /// Stores `[from, to)` of a segment starting at `seg_start` whose captured bytes end at
    /// `cap_end`.
    fn store(
        &mut self,
        packet: u64,
        seg_start: i64,
        from: u64,
        to: u64,
        payload: &[u8],
        cap_end: u64,
    ) {
        let data_to = to.min(cap_end);
        if data_to > from {
            let at = (from as i64 - seg_start) as usize;
            let upto = (data_to as i64 - seg_start) as usize;
            let bytes = payload.get(at..upto).unwrap_or(&[]).to_vec();
            self.pending_bytes += bytes.len();
            self.pending_cost += bytes.len() + PIECE_COST;
            self.pending.insert(from, (Piece::Data(bytes), packet));
        }
        let trunc_from = from.max(cap_end);
        if to > trunc_from {
            self.pending_cost += PIECE_COST;
            self.pending
                .insert(trunc_from, (Piece::Truncated(to - trunc_from), packet));
        }
    }

    fn drain(&mut self, emit: &mut dyn FnMut(Chunk<'_>)) {
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() != self.next {
                break;
            }
            let (piece, packet) = entry.remove();
            let offset = self.next;
            self.next += piece.len();
            self.pending_cost -= PIECE_COST;
            match piece {
                Piece::Data(bytes) => {
                    self.pending_bytes -= bytes.len();
                    self.pending_cost -= bytes.len();
                    emit(Chunk::Data {
                        offset,
                        bytes: &bytes,
                        packet,
                    });
                }
                Piece::Truncated(len) => emit(Chunk::Gap {
                    offset,
                    len,
                    packet,
                    kind: GapKind::Truncated,
                }),
            }
        }
    }

    fn declare_lost_to_first(&mut self, packet: u64, emit: &mut dyn FnMut(Chunk<'_>)) {
        if let Some((&k, _)) = self.pending.first_key_value()
            && k > self.next
        {
            emit(Chunk::Gap {
                offset: self.next,
                len: k - self.next,
                packet,
                kind: GapKind::Lost,
            });
            self.next = k;
        }
        self.drain(emit);
    }

    /// The peer acknowledged up to `ack_no`. Nothing is declared lost here: the segment may
    /// simply come later in the capture. The highest acknowledgement sizes a loss at the end
    /// of the stream when it is flushed (Wireshark's "ACKed unseen segment").
    pub fn peer_ack(&mut self, ack_no: u32) {
        let Some(base) = self.base else { return };
        if self.reset {
            return;
        }
        let acked = self.offset_of(base, ack_no);
        if acked > self.next as i64 {
            let acked = acked as u64;
            self.acked = Some(self.acked.map_or(acked, |a| a.max(acked)));
        }
    }

    /// Delivers everything still waiting, declaring the holes between lost, then a loss up to
    /// what the peer acknowledged or the FIN. Called when the capture ends, at a RST and when
    /// the connection's 4-tuple is reused.
    ///
    /// With nothing captured after the hole, an acknowledgement one past the last byte may be
    /// that of a FIN that was not captured, so only a larger jump (or one up to a FIN seen) is
    /// taken as lost data.
    pub fn flush(&mut self, packet: u64, emit: &mut dyn FnMut(Chunk<'_>)) {
        while !self.pending.is_empty() {
            self.declare_lost_to_first(packet, emit);
        }
        if self.reset {
            return;
        }
        let next = self.next;
        let limit = match (self.fin_at, self.acked) {
            (Some(f), Some(a)) => a.min(f),
            (Some(f), None) => f,
            (None, Some(a)) if a > next + 1 => a,
            _ => next,
        };
        if limit > next {
            emit(Chunk::Gap {
                offset: next,
                len: limit - next,
                packet,
                kind: GapKind::Lost,
            });
            self.next = limit;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What one direction delivered: per stream byte, Some((value, packet)) or None (gap).
    fn run(segments: &[(u64, u32, bool, &[u8])]) -> (Vec<Option<(u8, u64)>>, Vec<Outcome>) {
        let mut r = Reassembler::new();
        let mut bytes: Vec<Option<(u8, u64)>> = Vec::new();
        let mut outcomes = Vec::new();
        let mut sink = |c: Chunk<'_>| match c {
            Chunk::Data {
                offset,
                bytes: b,
                packet,
            } => {
                assert_eq!(offset as usize, bytes.len(), "in order");
                bytes.extend(b.iter().map(|x| Some((*x, packet))));
            }
            Chunk::Gap { offset, len, .. } => {
                assert_eq!(offset as usize, bytes.len(), "in order");
                bytes.extend(std::iter::repeat_n(None, len as usize));
            }
        };
        for (packet, seq, syn, data) in segments {
            outcomes.push(r.segment(
                *packet,
                *seq,
                *syn,
                false,
                false,
                data.len() as u32,
                data,
                &mut sink,
            ));
        }
        r.flush(99, &mut sink);
        (bytes, outcomes)
    }

    fn text(bytes: &[Option<(u8, u64)>]) -> String {
        bytes
            .iter()
            .map(|b| b.map_or('?', |(v, _)| v as char))
            .collect()
    }

    #[test]
    fn out_of_order_retransmission_and_overlap() {
        let (bytes, outcomes) = run(&[
            (1, 99, true, b""),
            (2, 105, false, b"world"),
            (3, 100, false, b"hello"),
            (4, 100, false, b"hello"),
            (5, 108, false, b"lX!"),
        ]);
        assert_eq!(text(&bytes), "helloworld!");
        assert_eq!(bytes[0], Some((b'h', 3)));
        assert_eq!(bytes[5], Some((b'w', 2)));
        assert_eq!(bytes[10], Some((b'!', 5)));
        assert_eq!(outcomes[3].old_bytes, 5);
        assert_eq!(outcomes[4].new_bytes, 1);
        assert_eq!(outcomes[4].old_bytes, 2);
        assert!(!outcomes[4].conflict, "in-order bytes are not compared");
    }

    #[test]
    fn conflicting_overlap_in_waiting_data_is_flagged() {
        let (bytes, outcomes) = run(&[
            (1, 99, true, b""),
            (2, 103, false, b"defg"),
            (3, 104, false, b"XY"),
            (4, 100, false, b"abc"),
        ]);
        assert_eq!(text(&bytes), "abcdefg");
        assert!(outcomes[2].conflict);
    }

    #[test]
    fn sequence_wraparound() {
        let isn = u32::MAX - 3;
        let (bytes, _) = run(&[
            (1, isn, true, b""),
            (2, isn.wrapping_add(6), false, b"ghij"),
            (3, isn.wrapping_add(1), false, b"abcde"),
            (4, isn.wrapping_add(10), false, b"kl"),
        ]);
        assert_eq!(text(&bytes), "abcdeghijkl");
    }

    #[test]
    fn mid_stream_start_and_lost_hole() {
        let mut r = Reassembler::new();
        let mut got = Vec::new();
        let mut sink = |c: Chunk<'_>| got.push(format!("{c:?}"));
        r.segment(1, 5000, false, false, false, 3, b"abc", &mut sink);
        r.segment(2, 5010, false, false, false, 2, b"xy", &mut sink);
        assert!(r.partial);
        r.peer_ack(5012);
        assert_eq!(
            r.next_offset(),
            3,
            "an acknowledgement declares nothing lost"
        );
        r.flush(4, &mut sink);
        assert_eq!(r.next_offset(), 12);
        assert!(
            got[1].contains("Lost") && got[1].contains("len: 7"),
            "{got:?}"
        );
    }

    #[test]
    fn truncated_payload_is_a_truncated_gap() {
        let mut r = Reassembler::new();
        let mut got = Vec::new();
        let mut sink = |c: Chunk<'_>| got.push(c.describe());
        let o = r.segment(1, 0, true, false, false, 0, b"", &mut sink);
        assert_eq!(o.new_bytes, 0);
        let o = r.segment(2, 1, false, false, false, 10, b"abcd", &mut sink);
        assert_eq!(o.new_bytes, 10);
        assert_eq!(got, vec!["data 0 4 p2", "gap 4 6 p2 Truncated"]);
    }

    impl Chunk<'_> {
        fn describe(self) -> String {
            match self {
                Chunk::Data {
                    offset,
                    bytes,
                    packet,
                } => format!("data {offset} {} p{packet}", bytes.len()),
                Chunk::Gap {
                    offset,
                    len,
                    packet,
                    kind,
                } => format!("gap {offset} {len} p{packet} {kind:?}"),
            }
        }
    }

    /// Records what a reassembler delivers as `data OFFSET LEN pPACKET` / `gap ...` lines.
    fn feed(r: &mut Reassembler, got: &mut Vec<String>, segs: &[(u64, u32, bool, &[u8])]) {
        for (packet, seq, fin, data) in segs {
            let mut sink = |c: Chunk<'_>| got.push(c.describe());
            r.segment(
                *packet,
                *seq,
                false,
                *fin,
                false,
                data.len() as u32,
                data,
                &mut sink,
            );
        }
    }

    #[test]
    fn an_ack_before_its_data_declares_nothing_lost() {
        let mut r = Reassembler::new();
        let mut got = Vec::new();
        let mut sink = |c: Chunk<'_>| got.push(c.describe());
        r.segment(1, 99, true, false, false, 0, b"", &mut sink);
        r.segment(2, 100, false, false, false, 3, b"abc", &mut sink);
        // The peer's ACK for bytes 3..8 is recorded before the segment carrying them.
        r.peer_ack(108);
        feed(&mut r, &mut got, &[(4, 103, false, b"defgh")]);
        let o = r.segment(5, 103, false, false, false, 5, b"defgh", &mut |_| {});
        assert_eq!(got, vec!["data 0 3 p2", "data 3 5 p4"]);
        assert_eq!((o.new_bytes, o.old_bytes), (0, 5), "a true re-send is old");
        r.flush(6, &mut |c| got.push(c.describe()));
        assert_eq!(got.len(), 2, "nothing lost at the end either: {got:?}");
    }

    #[test]
    fn a_fin_before_the_last_data_segment_waits_for_it() {
        let mut r = Reassembler::new();
        let mut got = Vec::new();
        r.segment(1, 99, true, false, false, 0, b"", &mut |_| {});
        feed(
            &mut r,
            &mut got,
            &[(2, 100, false, b"ab"), (3, 104, true, b"")],
        );
        assert!(!r.finished(), "bytes 2..4 are still to come");
        feed(&mut r, &mut got, &[(4, 102, false, b"cd")]);
        assert!(r.finished());
        assert_eq!(got, vec!["data 0 2 p2", "data 2 2 p4"]);
    }

    #[test]
    fn a_hole_is_lost_when_the_window_overflows_or_at_the_end() {
        let mut r = Reassembler::with_window(2 * PIECE_COST + 10);
        let mut got = Vec::new();
        r.segment(1, 99, true, false, false, 0, b"", &mut |_| {});
        feed(
            &mut r,
            &mut got,
            &[(2, 102, false, b"cdefg"), (3, 107, false, b"hijkl")],
        );
        assert!(got.is_empty(), "two pieces fit the window: {got:?}");
        feed(&mut r, &mut got, &[(4, 112, false, b"m")]);
        assert_eq!(
            got,
            vec![
                "gap 0 2 p4 Lost",
                "data 2 5 p2",
                "data 7 5 p3",
                "data 12 1 p4"
            ]
        );
        // Without overflow the hole waits for the end of the capture; the FIN sizes a loss
        // at the very end.
        let mut r = Reassembler::new();
        let mut got = Vec::new();
        r.segment(1, 99, true, false, false, 0, b"", &mut |_| {});
        feed(
            &mut r,
            &mut got,
            &[(2, 102, false, b"cd"), (3, 110, true, b"")],
        );
        r.peer_ack(111);
        assert!(got.is_empty());
        r.flush(9, &mut |c| got.push(c.describe()));
        assert_eq!(
            got,
            vec!["gap 0 2 p9 Lost", "data 2 2 p2", "gap 4 6 p9 Lost"]
        );
    }

    #[test]
    fn fin_and_data_after_rst() {
        let mut r = Reassembler::new();
        let mut sink = |_c: Chunk<'_>| {};
        r.segment(1, 0, true, false, false, 0, b"", &mut sink);
        r.segment(2, 1, false, true, false, 2, b"ok", &mut sink);
        assert!(r.finished());
        let o = r.segment(3, 3, false, false, false, 1, b"!", &mut sink);
        assert!(o.after_end);
        let mut r = Reassembler::new();
        r.segment(1, 0, true, false, false, 0, b"", &mut sink);
        r.segment(2, 1, false, false, true, 0, b"", &mut sink);
        let o = r.segment(3, 1, false, false, false, 2, b"no", &mut sink);
        assert!(o.after_end && o.old_bytes == 2 && r.was_reset());
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Against a byte-by-byte model: each stream byte is delivered once, in order, with
            /// the value and packet number of the first arriving segment that covered it;
            /// bytes no segment covered are gaps; with no SYN the stream starts at the first
            /// arrival and earlier bytes are dropped.
            #[test]
            fn matches_byte_model(
                stream in proptest::collection::vec(any::<u8>(), 1..600),
                isn in prop_oneof![Just(u32::MAX - 300), any::<u32>()],
                cuts in proptest::collection::vec((0usize..600, 1usize..80), 1..40),
                order in any::<u64>(),
                with_syn in any::<bool>(),
            ) {
                let n = stream.len();
                let mut ranges: Vec<(usize, usize)> = cuts
                    .iter()
                    .map(|(s, l)| (s % n, ((s % n) + l).min(n)))
                    .collect();
                // Cover the whole stream once as well, so most runs have no gap.
                let mut at = 0;
                while at < n {
                    let e = (at + 37).min(n);
                    ranges.push((at, e));
                    at = e;
                }
                // Deterministic shuffle.
                let mut seed = order | 1;
                for i in (1..ranges.len()).rev() {
                    seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
                    ranges.swap(i, (seed % (i as u64 + 1)) as usize);
                }
                ranges.truncate(ranges.len() - (order % 3) as usize);
                let mut model: Vec<Option<(u8, u64)>> = vec![None; n];
                let mut r = Reassembler::new();
                let mut got: Vec<Option<(u8, u64)>> = Vec::new();
                let mut first_offset: Option<usize> = None;
                let mut sink = |c: Chunk<'_>| match c {
                    Chunk::Data { offset, bytes, packet } => {
                        assert_eq!(offset as usize, got.len());
                        got.extend(bytes.iter().map(|b| Some((*b, packet))));
                    }
                    Chunk::Gap { offset, len, .. } => {
                        assert_eq!(offset as usize, got.len());
                        got.extend(std::iter::repeat_n(None, len as usize));
                    }
                };
                let mut packet = 1u64;
                if with_syn {
                    r.segment(packet, isn, true, false, false, 0, b"", &mut sink);
                    first_offset = Some(0);
                }
                for (s, e) in &ranges {
                    packet += 1;
                    let seq = isn.wrapping_add(1).wrapping_add(*s as u32);
                    r.segment(packet, seq, false, false, false, (e - s) as u32, &stream[*s..*e], &mut sink);
                    let start = *first_offset.get_or_insert(*s);
                    for (i, slot) in model.iter_mut().enumerate().take(*e).skip(*s) {
                        if i >= start && slot.is_none() {
                            *slot = Some((stream[i], packet));
                        }
                    }
                }
                r.flush(packet + 1, &mut sink);
                let start = first_offset.unwrap_or(0);
                // The model's tail beyond the last covered byte is never delivered.
                let mut expect: Vec<Option<(u8, u64)>> = model[start..].to_vec();
                while expect.last() == Some(&None) { expect.pop(); }
                prop_assert_eq!(got, expect);
            }
        }
    }
}
