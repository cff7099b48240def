//! The bodies of wsprobe's fuzz targets, shared by the cargo-fuzz binaries in `fuzz_targets/`
//! and by the stable `cargo test` harness (`tests/fuzz_corpus.rs`, which includes this file),
//! so the checked-in corpus is replayed through exactly the same code on every CI run.
//!
//! Each function takes arbitrary bytes and must never panic. Besides "does not crash", each
//! checks properties that hold for any input (differential checks): decoding in chunks gives
//! the same frames as decoding in one piece, every decoded frame re-encodes to the bytes it came
//! from, the incremental UTF-8 validator agrees with `std::str::from_utf8`, and so on.
//!
//! TODO(capture pipeline): add `capture(data)` (bytes → `wsprobe inspect`'s reader and
//! dissector) once `src/pcap` lands.

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
