//! The bodies of wsprobe's fuzz targets, shared by the cargo-fuzz binaries in `fuzz_targets/`
//! and by the stable `cargo test` harness (`tests/fuzz_corpus.rs`, which includes this file),
//! so the checked-in corpus is replayed through exactly the same code on every CI run.
//!
//! Each function takes arbitrary bytes and must never panic. Besides "does not crash", each
//! checks properties that hold for any input (differential checks): decoding in chunks gives
//! the same frames as decoding in one piece, every decoded frame re-encodes to the bytes it came
//! from, the incremental UTF-8 validator agrees with `std::str::from_utf8`, and so on.
//!
//! `capture(data)` reads the bytes as a capture file and, separately, as the choices that
//! generate a WebSocket session whose packets are then recorded out of order
//! ([`capture_reorder`]): reordering within a bounded window must not change what is decoded.

use wsprobe::pcap::{self, Event, Options, Sink};
use wsprobe::report::capture::{self as render, InspectFormat, InspectView, InspectWriter};
use wsprobe::suite::{self, Source};
use wsprobe::wire::handshake::{self, Offer, Parse};
use wsprobe::wire::rules::{RuleConfig, RuleEngine};
use wsprobe::wire::{
    Decoded, DecoderConfig, FrameDecoder, FrameSpec, LengthSpec, Role, Utf8Status, Utf8Validator,
};

/// What decoding a byte stream yields, for comparing two ways of feeding it.
#[derive(Debug, PartialEq, Eq)]
enum Item {
    Frame(wsprobe::wire::Frame, u64),
    Oversized(wsprobe::wire::FrameHeader, u64),
}

/// Decodes `stream` fed in pieces of the given sizes (cycled; 0 counts as 1).
fn decode(stream: &[u8], sizes: &[u8], max_payload: u64) -> (Vec<Item>, usize) {
    let mut d = FrameDecoder::new(DecoderConfig { max_payload });
    let mut out = Vec::new();
    let mut at = 0;
    let mut i = 0;
    while at < stream.len() {
        let size = match sizes.get(i % sizes.len().max(1)) {
            Some(&s) => usize::from(s.max(1)),
            None => stream.len(),
        };
        i += 1;
        let end = (at + size).min(stream.len());
        d.push(&stream[at..end]);
        at = end;
        loop {
            match d.next_frame() {
                Decoded::NeedMore(n) => {
                    assert!(n > 0, "need-more must ask for at least one byte");
                    break;
                }
                Decoded::Frame(f) => out.push(Item::Frame(f.frame, f.offset)),
                Decoded::Oversized { header, offset } => out.push(Item::Oversized(header, offset)),
            }
        }
    }
    (out, d.buffered().len())
}

/// The `wire` frame decoder and rules, fed in random chunk sizes.
///
/// Layout: byte 0 picks the payload limit, byte 1 the number of chunk-size bytes that follow;
/// the rest is the byte stream.
pub fn wire_decoder(data: &[u8]) {
    let [limit, n_sizes, rest @ ..] = data else {
        return;
    };
    let max_payload = match limit % 4 {
        0 => 0,
        1 => 125,
        2 => 4096,
        _ => u64::MAX,
    };
    let (sizes, stream) = rest.split_at(usize::from(*n_sizes % 16).min(rest.len()));
    let (whole, left_whole) = decode(stream, &[], max_payload);
    let (chunked, left_chunked) = decode(stream, sizes, max_payload);
    assert_eq!(whole, chunked, "chunking changed what was decoded");
    assert_eq!(left_whole, left_chunked);

    let mut consumed = 0u64;
    let mut client = RuleEngine::new(Role::Client, RuleConfig::default());
    let mut server = RuleEngine::new(
        Role::Server,
        RuleConfig {
            allowed_rsv: 0b100,
            max_message: 1 << 20,
        },
    );
    for item in &whole {
        match item {
            Item::Frame(frame, offset) => {
                assert_eq!(*offset, consumed, "frames are contiguous");
                // Every decoded frame re-encodes to exactly the bytes it was decoded from.
                let spec = FrameSpec {
                    fin: frame.header.fin,
                    rsv: frame.header.rsv,
                    opcode: frame.header.opcode,
                    mask: frame.header.mask,
                    length: LengthSpec::LieWith(
                        frame.header.length_encoding,
                        frame.header.payload_len,
                    ),
                    payload: frame.payload.clone(),
                };
                let bytes = spec.encode();
                let start = *offset as usize;
                assert_eq!(
                    bytes,
                    stream[start..start + bytes.len()],
                    "re-encoding differs"
                );
                consumed += bytes.len() as u64;
                let _ = client.observe(&frame.header, &frame.payload);
                let _ = server.observe(&frame.header, &frame.payload);
                let _ = wsprobe::wire::ClosePayload::parse(&frame.payload);
                let _ = wsprobe::trace::frame_preview(frame.header.opcode, &frame.payload);
            }
            Item::Oversized(header, offset) => {
                assert_eq!(*offset, consumed, "frames are contiguous");
                let fits = (header.header_len() as u64)
                    .checked_add(header.payload_len)
                    .is_some_and(|t| usize::try_from(t).is_ok());
                assert!(header.payload_len > max_payload || !fits);
                let _ = client.observe_oversized(header);
                let _ = server.observe_oversized(header);
                consumed = consumed
                    .saturating_add(header.header_len() as u64)
                    .saturating_add(header.payload_len);
            }
        }
    }

    // The incremental UTF-8 validator agrees with std, however the bytes are split.
    let mut v = Utf8Validator::new();
    let mut status = Utf8Status::Valid;
    for chunk in stream.chunks(usize::from(sizes.first().copied().unwrap_or(7).max(1))) {
        status = v.feed(chunk);
        if matches!(status, Utf8Status::Invalid { .. }) {
            break;
        }
    }
    if !matches!(status, Utf8Status::Invalid { .. }) {
        status = v.finish();
    }
    let std_ok = std::str::from_utf8(stream).is_ok();
    assert_eq!(
        std_ok,
        status == Utf8Status::Valid,
        "utf-8 validator disagrees with std: {status:?}"
    );
    assert_eq!(
        wsprobe::wire::utf8::validate(stream) == Utf8Status::Valid,
        std_ok
    );
}

/// The handshake head parsers and the §4.1 / §4.2.1 validators.
///
/// Byte 0 picks the head-size limit; the rest is parsed both as a response and as a request,
/// whole and cut at every prefix length a peer could have sent so far.
pub fn handshake(data: &[u8]) {
    let [limit, head @ ..] = data else {
        return;
    };
    let max_len = match limit % 3 {
        0 => 16,
        1 => 1024,
        _ => 64 * 1024,
    };
    let offer = Offer {
        key: "dGhlIHNhbXBsZSBub25jZQ==".into(),
        protocols: vec!["chat".into(), "superchat".into()],
        extensions: vec!["permessage-deflate".into()],
    };
    match handshake::parse_response(head, max_len) {
        Ok(Parse::Complete(r)) => {
            assert!(r.head_len <= head.len() && r.head_len <= max_len);
            let _ = handshake::validate_response(&r, &offer);
            for (_, v) in &r.headers {
                let text = String::from_utf8_lossy(v);
                let _ = handshake::split_list(&text);
                let _ = handshake::parse_extensions(&text);
                let _ = handshake::extension_items(&text);
                let _ = handshake::accept_for_key(&text);
            }
        }
        Ok(Parse::Partial) => assert!(head.len() < max_len),
        Err(_) => {}
    }
    match handshake::parse_request(head, max_len) {
        Ok(Parse::Complete(r)) => {
            assert!(r.head_len <= head.len() && r.head_len <= max_len);
            if let Ok(valid) = handshake::validate_request(&r) {
                // What the server side accepts, the client side must accept back.
                let answer = handshake::build_response_101(&valid.key, None, &[], &[]);
                match handshake::parse_response(&answer, 64 * 1024) {
                    Ok(Parse::Complete(resp)) => assert!(
                        handshake::validate_response(&resp, &valid.offer()).is_ok(),
                        "our own 101 for an accepted request is refused"
                    ),
                    other => panic!("our own 101 does not parse: {other:?}"),
                }
            }
        }
        Ok(Parse::Partial) => assert!(head.len() < max_len),
        Err(_) => {}
    }
    // A prefix of a complete head is never an error of a different kind than "need more":
    // the runner relies on Partial to keep reading.
    if let Ok(Parse::Complete(r)) = handshake::parse_response(head, max_len) {
        for cut in [r.head_len / 2, r.head_len.saturating_sub(1)] {
            assert!(
                matches!(
                    handshake::parse_response(&head[..cut], max_len),
                    Ok(Parse::Partial)
                ),
                "a prefix of a valid head must be partial"
            );
        }
    }
}

/// The suite loader: YAML text → suites or diagnostics, and the diagnostics rendered the way
/// the terminal shows them.
pub fn suite_loader(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let source = Source {
        path: "fuzz.yaml".into(),
        text: text.to_string(),
    };
    match suite::load(&[source]) {
        Ok(suites) => {
            for s in &suites {
                assert!(!s.id.is_empty());
            }
        }
        Err(diagnostics) => {
            assert!(!diagnostics.is_empty(), "a failed load explains itself");
            for d in &diagnostics {
                let plain = wsprobe::report::render_diagnostic(d, false);
                assert!(!plain.is_empty());
                let _ = wsprobe::report::render_diagnostic(d, true);
            }
        }
    }
}

/// Collects every event as its JSON value, less the reader's own warnings about the file
/// (`packet: null`), which describe the container rather than the packets.
#[derive(Default)]
struct Collect(Vec<serde_json::Value>);

impl Sink for Collect {
    fn event(&mut self, event: &Event<'_>) {
        if matches!(event, Event::Warning(w) if w.packet.is_none()) {
            return;
        }
        self.0.push(render::event_json(event));
    }
}

/// The packets of a capture, as the reader hands them over.
struct Packet {
    ts_ns: i128,
    linktype: u32,
    origlen: u32,
    data: Vec<u8>,
}

/// The same packets as a little-endian pcapng: one section, one interface with nanosecond
/// timestamps (`if_tsresol` 9), one enhanced packet block each.
fn pcapng_of(linktype: u16, packets: &[Packet]) -> Vec<u8> {
    fn block(out: &mut Vec<u8>, kind: u32, body: &[u8]) {
        let padded = body.len().next_multiple_of(4);
        let total = (12 + padded) as u32;
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&total.to_le_bytes());
        out.extend_from_slice(body);
        out.resize(out.len() + padded - body.len(), 0);
        out.extend_from_slice(&total.to_le_bytes());
    }
    let mut out = Vec::new();
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    block(&mut out, 0x0a0d_0d0a, &shb);
    let mut idb = Vec::new();
    idb.extend_from_slice(&linktype.to_le_bytes());
    idb.extend_from_slice(&0u16.to_le_bytes());
    idb.extend_from_slice(&0u32.to_le_bytes());
    // if_tsresol = 9 (nanoseconds), padded, then opt_endofopt.
    idb.extend_from_slice(&[9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0]);
    block(&mut out, 1, &idb);
    for p in packets {
        let ticks = p.ts_ns as u64;
        let mut epb = Vec::with_capacity(20 + p.data.len());
        epb.extend_from_slice(&0u32.to_le_bytes());
        epb.extend_from_slice(&((ticks >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(ticks as u32).to_le_bytes());
        epb.extend_from_slice(&(p.data.len() as u32).to_le_bytes());
        epb.extend_from_slice(&p.origlen.to_le_bytes());
        epb.extend_from_slice(&p.data);
        block(&mut out, 6, &epb);
    }
    out
}

/// The capture pipeline `wsprobe inspect` and `wsprobe overhead` run: the pcap/pcapng reader,
/// link/IP/TCP parsing, reassembly, HTTP and WebSocket dissection, and the inspect output in
/// text (frames) and JSON Lines (messages), then the overhead tables.
///
/// The input is the capture file itself. Properties: nothing panics; no output line carries a
/// raw ESC byte; every JSON line parses; a legacy pcap rewritten as pcapng gives the same events.
pub fn capture(data: &[u8]) {
    capture_reorder(data);
    // A small message limit so that oversized frames and messages are exercised too.
    let options = Options {
        port: Some(80),
        decode: true,
        max_message: 4096,
        reorder_window: 64 << 10,
    };
    let frames = InspectView::default();
    let messages = InspectView {
        messages: true,
        ..InspectView::default()
    };
    for (format, view) in [
        (InspectFormat::Text, frames.clone()),
        (InspectFormat::Text, messages.clone()),
        (InspectFormat::Json, frames),
        (InspectFormat::Json, messages),
    ] {
        let mut out = Vec::new();
        let mut writer = InspectWriter::new(&mut out, format, view);
        if let Ok(summary) = pcap::analyze(data, &options, &mut writer) {
            writer.finish(&summary);
        }
        // Warnings go to stderr as they are.
        for w in writer.take_warnings() {
            assert!(!w.contains('\x1b'), "raw ESC in a warning: {w:?}");
        }
        drop(writer);
        assert!(!out.contains(&0x1b), "raw ESC in {format:?} output");
        if format == InspectFormat::Json {
            for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                assert!(
                    serde_json::from_slice::<serde_json::Value>(line).is_ok(),
                    "not JSON: {}",
                    String::from_utf8_lossy(line)
                );
            }
        }
    }

    let overhead = Options {
        decode: false,
        ..options
    };
    if let Ok(summary) = pcap::analyze(data, &overhead, &mut pcap::Discard) {
        let _ = render::overhead_text("fuzz.pcap", &summary);
        let _ = render::overhead_json("fuzz.pcap", &summary);
        let _ = render::overhead_vs_text("a.pcap", &summary, "b.pcap", &summary);
    }

    // pcap versus pcapng: the same packets in the other container dissect to the same events.
    let mut packets = Vec::new();
    let Ok(read) = pcap::reader::read_packets(data, |p| {
        packets.push(Packet {
            ts_ns: p.ts_ns,
            linktype: p.linktype,
            origlen: p.origlen,
            data: p.data.to_vec(),
        })
    }) else {
        return;
    };
    let Some(linktype) = packets.first().map(|p| p.linktype) else {
        return;
    };
    let Ok(linktype16) = u16::try_from(linktype) else {
        return;
    };
    if read.format != "pcap" || packets.iter().any(|p| p.ts_ns < 0) {
        return;
    }
    let ng = pcapng_of(linktype16, &packets);
    let mut from_pcap = Collect::default();
    let mut from_ng = Collect::default();
    let a = pcap::analyze(data, &options, &mut from_pcap).expect("it read once");
    let b = pcap::analyze(&ng[..], &options, &mut from_ng).expect("our own pcapng reads");
    assert_eq!(b.format, "pcapng");
    assert_eq!(a.packets, b.packets, "packet counts differ");
    assert_eq!(
        from_pcap.0, from_ng.0,
        "pcap and pcapng dissect differently"
    );
}

/// Reads fuzz bytes as a stream of small choices; zeros once the input is used up.
struct Choices<'a>(&'a [u8]);

impl Choices<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }

    fn below(&mut self, n: usize) -> usize {
        let v = usize::from(self.byte()) << 8 | usize::from(self.byte());
        v % n.max(1)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.0.len());
        let (take, rest) = self.0.split_at(n);
        self.0 = rest;
        take.to_vec()
    }
}

/// One TCP segment of a generated connection.
#[derive(Clone)]
struct GenSeg {
    from_client: bool,
    flags: u8,
    seq: u32,
    ack: u32,
    payload: Vec<u8>,
}

const SYN: u8 = 0x02;
const FIN: u8 = 0x01;
const ACK: u8 = 0x10;

/// An Ethernet/IPv4/TCP packet for `s` between 10.0.0.1:40000 and 10.0.0.2:80.
fn gen_packet(s: &GenSeg) -> Vec<u8> {
    let (src, dst, sp, dp) = if s.from_client {
        ([10, 0, 0, 1], [10, 0, 0, 2], 40000u16, 80u16)
    } else {
        ([10, 0, 0, 2], [10, 0, 0, 1], 80, 40000)
    };
    let mut p = vec![0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0x08, 0x00];
    let total = (20 + 20 + s.payload.len()) as u16;
    p.extend_from_slice(&[
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        0,
        0x40,
        0,
        64,
        6,
        0,
        0,
    ]);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(&sp.to_be_bytes());
    p.extend_from_slice(&dp.to_be_bytes());
    p.extend_from_slice(&s.seq.to_be_bytes());
    p.extend_from_slice(&s.ack.to_be_bytes());
    p.extend_from_slice(&[0x50, s.flags, 0xff, 0xff, 0, 0, 0, 0]);
    p.extend_from_slice(&s.payload);
    p
}

/// A little-endian microsecond pcap of Ethernet packets, 1 ms apart.
fn gen_pcap(packets: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    for v in [0u32, 0, 65535, 1] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for (i, p) in packets.iter().enumerate() {
        let us = i as u32 * 1000;
        for v in [
            1_700_000_000 + us / 1_000_000,
            us % 1_000_000,
            p.len() as u32,
            p.len() as u32,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(p);
    }
    out
}

/// A WebSocket frame chosen by the fuzzer: mostly well-formed (so that decoding goes on), with
/// any opcode, RSV bits, FIN and mask, or a few raw bytes.
fn gen_frame(c: &mut Choices<'_>, client: bool) -> Vec<u8> {
    let kind = c.byte();
    if kind < 16 {
        let n = usize::from(c.byte() % 8);
        return c.bytes(n);
    }
    let b0 = c.byte();
    let len = if kind < 200 {
        usize::from(c.byte() % 126)
    } else {
        c.below(3000)
    };
    let masked = if kind.is_multiple_of(17) {
        !client
    } else {
        client
    };
    let mut out = vec![b0];
    let m = if masked { 0x80 } else { 0 };
    if len < 126 {
        out.push(m | len as u8);
    } else {
        out.push(m | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    }
    let key = [c.byte(), c.byte(), c.byte(), c.byte()];
    if masked {
        out.extend_from_slice(&key);
    }
    let mut payload = c.bytes(len);
    // Past the end of the input the payload is text that repeats, so long frames stay cheap.
    payload.extend((payload.len()..len).map(|i| b"reordered "[i % 10]));
    if masked {
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= key[i % 4];
        }
    }
    out.extend_from_slice(&payload);
    out
}

/// A WebSocket session generated from fuzz choices: handshake (with permessage-deflate offered
/// and accepted or not), frames each way cut into segments of chosen sizes, exact
/// re-transmissions, ACKs, close with a FIN each way. Returns the packets in sending order and
/// how many of them stay in place (the SYN and the SYN-ACK).
fn gen_session(c: &mut Choices<'_>) -> (Vec<GenSeg>, usize) {
    let deflate = c.byte().is_multiple_of(2);
    let ext = if deflate {
        "Sec-WebSocket-Extensions: permessage-deflate\r\n"
    } else {
        ""
    };
    let request = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{ext}\r\n"
    );
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n{ext}\r\n"
    );
    let mut seq = [1_000u32, u32::MAX - 2_000];
    let mut segs = vec![
        GenSeg {
            from_client: true,
            flags: SYN,
            seq: seq[0],
            ack: 0,
            payload: vec![],
        },
        GenSeg {
            from_client: false,
            flags: SYN | ACK,
            seq: seq[1],
            ack: seq[0] + 1,
            payload: vec![],
        },
    ];
    seq[0] += 1;
    seq[1] = seq[1].wrapping_add(1);
    let mut push = |segs: &mut Vec<GenSeg>, client: bool, flags: u8, payload: Vec<u8>| {
        let (me, peer) = if client { (0, 1) } else { (1, 0) };
        let adv = payload.len() as u32 + u32::from(flags & FIN != 0);
        segs.push(GenSeg {
            from_client: client,
            flags: flags | ACK,
            seq: seq[me],
            ack: seq[peer],
            payload,
        });
        seq[me] = seq[me].wrapping_add(adv);
    };
    // Only the SYN and SYN-ACK stay in place: the rest, the upgrade request and its 101
    // included, may be recorded in any order within the window.
    let handshake = segs.len();
    push(&mut segs, true, 0, vec![]);
    push(&mut segs, true, 0, request.into_bytes());
    push(&mut segs, false, 0, response.into_bytes());
    let mut streams = [Vec::new(), Vec::new()];
    for _ in 0..c.byte() % 12 {
        let client = c.byte().is_multiple_of(2);
        let f = gen_frame(c, client);
        streams[usize::from(!client)].extend_from_slice(&f);
    }
    let closes = [
        vec![0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xe8 ^ 2],
        vec![0x88, 0x02, 0x03, 0xe8],
    ];
    for (s, close) in streams.iter_mut().zip(closes) {
        if !c.byte().is_multiple_of(4) {
            s.extend_from_slice(&close);
        }
    }
    let mut at = [0usize, 0];
    while at[0] < streams[0].len() || at[1] < streams[1].len() {
        let choice = c.byte();
        let d = if at[0] >= streams[0].len() {
            1
        } else if at[1] >= streams[1].len() {
            0
        } else {
            usize::from(choice & 1)
        };
        // Small segments while the input lasts; full ones after it (or after 256 packets), so
        // that a long frame does not become thousands of one-byte segments.
        let size = if c.0.is_empty() || segs.len() > 256 {
            1448
        } else {
            1 + c.below(1448)
        };
        let end = (at[d] + size).min(streams[d].len());
        let payload = streams[d][at[d]..end].to_vec();
        at[d] = end;
        push(&mut segs, d == 0, 0, payload);
        if choice & 0x30 == 0x30 {
            // An exact re-transmission of a recent data segment.
            let back = usize::from(c.byte() % 4);
            if let Some(old) = segs
                .iter()
                .rev()
                .filter(|s| !s.payload.is_empty())
                .nth(back)
            {
                let old = old.clone();
                segs.push(old);
            }
        }
        if choice & 0x40 != 0 {
            push(&mut segs, d != 0, 0, vec![]);
        }
    }
    let first = c.byte().is_multiple_of(2);
    push(&mut segs, first, FIN, vec![]);
    push(&mut segs, !first, FIN, vec![]);
    push(&mut segs, first, 0, vec![]);
    (segs, handshake)
}

/// What must not depend on the order packets were recorded in: per direction, the frames
/// (header, unmasked payload, missing bytes), the messages (with the inflation outcome) and the
/// violations, in order.
#[derive(Default, Debug, PartialEq)]
struct Dissected {
    frames: [Vec<String>; 2],
    messages: [Vec<String>; 2],
    violations: [Vec<String>; 2],
    gaps: usize,
}

impl Sink for Dissected {
    fn event(&mut self, event: &Event<'_>) {
        let d = |dir: wsprobe::wire::Direction| {
            usize::from(dir == wsprobe::wire::Direction::ServerToClient)
        };
        match event {
            Event::Frame(f) => self.frames[d(f.dir)].push(format!(
                "{:?} {:02x?} missing {} oversized {}",
                f.header, f.payload, f.missing, f.oversized
            )),
            Event::Message(m) => self.messages[d(m.dir)].push(format!(
                "{} {} {:02x?} {:?} {}",
                m.opcode, m.frames, m.data, m.inflation, m.incomplete
            )),
            Event::Violation(v) => {
                self.violations[d(v.dir)].push(v.violation.kind.name().to_string())
            }
            Event::Gap(_) => self.gaps += 1,
            _ => {}
        }
    }
}

/// The reordering property: a generated WebSocket session and the same packets recorded out
/// of order (every packet after the SYN and SYN-ACK moved by fewer than `W` places, `W` up to
/// 16: the 101 may come before its request)
/// decode to the same frames, messages and violations, with no gap, and the byte ledger
/// (retransmissions included) is the same.
pub fn capture_reorder(data: &[u8]) {
    let mut c = Choices(data);
    let (segs, handshake) = gen_session(&mut c);
    let window = 1 + usize::from(c.byte() % 16);
    // Bounded displacement: sort by index plus a random offset below the window.
    let mut keyed: Vec<(usize, usize)> = (handshake..segs.len())
        .map(|i| (i + c.below(window), i))
        .collect();
    keyed.sort();
    let order: Vec<usize> = (0..handshake)
        .chain(keyed.into_iter().map(|(_, i)| i))
        .collect();
    let packets: Vec<Vec<u8>> = segs.iter().map(gen_packet).collect();
    let in_order = gen_pcap(&packets);
    let shuffled = gen_pcap(
        &order
            .iter()
            .map(|&i| packets[i].clone())
            .collect::<Vec<_>>(),
    );
    let options = Options {
        port: None,
        decode: true,
        max_message: 1 << 20,
        reorder_window: 1 << 20,
    };
    let mut a = Dissected::default();
    let mut b = Dissected::default();
    let sa = pcap::analyze(&in_order[..], &options, &mut a).expect("a generated pcap reads");
    let sb = pcap::analyze(&shuffled[..], &options, &mut b).expect("a generated pcap reads");
    assert_eq!(a.gaps, 0, "the in-order capture has every byte");
    assert_eq!(
        a, b,
        "reordering within {window} packets changed the decoding"
    );
    assert_eq!(sa.total, sb.total, "reordering changed the byte ledger");
    let overhead = Options {
        decode: false,
        ..options
    };
    let la = pcap::analyze(&in_order[..], &overhead, &mut pcap::Discard).expect("reads");
    let lb = pcap::analyze(&shuffled[..], &overhead, &mut pcap::Discard).expect("reads");
    assert_eq!(la.total, lb.total, "reordering changed the overhead ledger");
}
