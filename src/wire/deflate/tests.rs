//! Byte-for-byte RFC 7692 §7.2.3 examples, round trips at every window size, the window, context
//! and bomb checks of the inflater, and the unusual forms of [`super::forms`].

use super::forms::{self, Invalid};
use super::rsv::MessageRsv;
use super::{Compressor, FindingKind, Inflater};
use crate::wire::{FrameSpec, Opcode, Role};

const HELLO: &[u8] = b"Hello";
/// "Hello" in one compressed block, tail removed (§7.2.3.1).
const HELLO_BLOCK: [u8; 7] = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
const LIMIT: usize = 1 << 20;

/// The frame a sender produces for a whole compressed message: RSV1 (the top of the 3-bit RSV
/// field) set on it.
fn compressed_frame(opcode: Opcode, payload: &[u8], fin: bool) -> Vec<u8> {
    let mut spec = FrameSpec::new(opcode, payload.to_vec()).fin(fin);
    spec.rsv = 0b100;
    spec.encode()
}

fn inflate_ok(inf: &mut Inflater, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if let Some(f) = inf.inflate(payload, LIMIT, &mut out) {
        panic!("unexpected finding: {f}");
    }
    out
}

fn finding(inf: &mut Inflater, payload: &[u8]) -> FindingKind {
    let mut out = Vec::new();
    inf.inflate(payload, LIMIT, &mut out)
        .expect("a finding was expected")
        .kind
}

#[test]
fn rfc7692_7_2_3_1_a_message_compressed_in_one_block() {
    let mut c = Compressor::new(15, false, 6).expect("compressor");
    let payload = c.compress(HELLO).expect("compresses");
    assert_eq!(payload, HELLO_BLOCK);
    assert_eq!(
        compressed_frame(Opcode::Text, &payload, true),
        [0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
    );
    let mut inf = Inflater::new(Role::Server, 15, false).expect("inflater");
    assert_eq!(inflate_ok(&mut inf, &HELLO_BLOCK), HELLO);
}

#[test]
fn rfc7692_7_2_3_1_the_same_message_in_two_fragments() {
    // RSV1 on the first frame only; the payloads are concatenated before inflating.
    let first = compressed_frame(Opcode::Text, &HELLO_BLOCK[..3], false);
    let second = FrameSpec::new(Opcode::Continuation, HELLO_BLOCK[3..].to_vec()).encode();
    assert_eq!(first, [0x41, 0x03, 0xf2, 0x48, 0xcd]);
    assert_eq!(second, [0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00]);

    let mut rsv = MessageRsv::new(true);
    let mut inf = Inflater::new(Role::Server, 15, false).expect("inflater");
    let mut out = Vec::new();
    let s1 = rsv.on_frame(Opcode::Text, false, true);
    assert!(s1.starts_message && s1.compressed && s1.finding.is_none());
    inf.begin_message();
    assert_eq!(inf.push(&HELLO_BLOCK[..3], LIMIT, &mut out), None);
    let s2 = rsv.on_frame(Opcode::Continuation, true, false);
    assert!(s2.compressed && !s2.starts_message && s2.finding.is_none());
    assert_eq!(inf.push(&HELLO_BLOCK[3..], LIMIT, &mut out), None);
    assert_eq!(inf.finish(LIMIT, &mut out), None);
    assert_eq!(out, HELLO);
}

#[test]
fn rfc7692_7_2_3_2_sharing_the_lz77_window() {
    let mut c = Compressor::new(15, false, 6).expect("compressor");
    assert_eq!(c.compress(HELLO).expect("first"), HELLO_BLOCK);
    let second = c.compress(HELLO).expect("second");
    assert_eq!(second, [0xf2, 0x00, 0x11, 0x00, 0x00]);
    assert_eq!(
        compressed_frame(Opcode::Text, &second, true),
        [0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00]
    );
    let mut inf = Inflater::new(Role::Server, 15, false).expect("inflater");
    assert_eq!(inflate_ok(&mut inf, &HELLO_BLOCK), HELLO);
    assert_eq!(inflate_ok(&mut inf, &second), HELLO);
}

#[test]
fn rfc7692_7_2_3_2_no_context_takeover_compresses_each_message_alone() {
    let mut c = Compressor::new(15, true, 6).expect("compressor");
    assert_eq!(c.compress(HELLO).expect("first"), HELLO_BLOCK);
    assert_eq!(c.compress(HELLO).expect("second"), HELLO_BLOCK);
}

#[test]
fn rfc7692_7_2_1_context_takeover_after_no_context_takeover_agreed_is_a_finding() {
    // The client agreed client_no_context_takeover, then sent §7.2.3.2's second message.
    let mut inf = Inflater::new(Role::Client, 15, true).expect("inflater");
    assert_eq!(inflate_ok(&mut inf, &HELLO_BLOCK), HELLO);
    assert_eq!(
        finding(&mut inf, &[0xf2, 0x00, 0x11, 0x00, 0x00]),
        FindingKind::ClientContextTakeover
    );
    // Each message starts afresh, so the next valid one inflates.
    assert_eq!(inflate_ok(&mut inf, &HELLO_BLOCK), HELLO);

    let mut inf = Inflater::new(Role::Server, 15, true).expect("inflater");
    assert_eq!(inflate_ok(&mut inf, &HELLO_BLOCK), HELLO);
    assert_eq!(
        finding(&mut inf, &[0xf2, 0x00, 0x11, 0x00, 0x00]),
        FindingKind::ServerContextTakeover
    );
}

#[test]
fn rfc7692_7_2_3_3_a_block_with_no_compression() {
    let payload = forms::stored_blocks(HELLO);
    assert_eq!(
        payload,
        [
            0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00
        ]
    );
    assert_eq!(
        compressed_frame(Opcode::Text, &payload, true)[..2],
        [0xc1, 0x0b]
    );
    let mut inf = Inflater::new(Role::Server, 15, false).expect("inflater");
    assert_eq!(inflate_ok(&mut inf, &payload), HELLO);
    // Larger than one stored block (65,535 bytes).
    let big: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(inflate_ok(&mut inf, &forms::stored_blocks(&big)), big);
}

#[test]
fn rfc7692_7_2_3_4_a_block_with_bfinal_set() {
    let payload = forms::bfinal(HELLO).expect("bfinal");
    assert_eq!(payload, [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00]);
    let mut inf = Inflater::new(Role::Server, 15, false).expect("inflater");
    assert_eq!(inflate_ok(&mut inf, &payload), HELLO);
    // §7.2.1: the LZ77 window carries on past the final block, so §7.2.3.2's second message,
    // which refers back to "Hello", inflates next.
    assert_eq!(inflate_ok(&mut inf, &[0xf2, 0x00, 0x11, 0x00, 0x00]), HELLO);
    assert_eq!(inflate_ok(&mut inf, &payload), HELLO);
}

#[test]
fn rfc7692_7_2_1_blocks_may_follow_a_final_block_in_one_message() {
    let mut first = forms::bfinal(b"He").expect("bfinal");
    first.pop(); // the 00 of the stripped empty block: only the final block remains
    let payload = [first, forms::bfinal(b"llo").expect("bfinal")].concat();
    for no_context_takeover in [false, true] {
        let mut inf = Inflater::new(Role::Server, 9, no_context_takeover).expect("inflater");
        assert_eq!(inflate_ok(&mut inf, &payload), HELLO);
        assert_eq!(inflate_ok(&mut inf, &payload), HELLO);
    }
}

#[test]
fn rfc7692_7_2_3_5_two_deflate_blocks_in_one_message() {
    let payload = forms::two_blocks(HELLO, 2).expect("two blocks");
    assert_eq!(
        payload,
        [
            0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00
        ]
    );
    let mut inf = Inflater::new(Role::Server, 15, true).expect("inflater");
    assert_eq!(inflate_ok(&mut inf, &payload), HELLO);
}

#[test]
fn rfc7692_7_2_3_6_an_empty_final_fragment() {
    let [first, last] = forms::with_empty_final_fragment(HELLO).expect("fragments");
    assert_eq!(
        first,
        [
            0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x00, 0xff, 0xff
        ]
    );
    assert_eq!(last, [0x00]);
    let mut inf = Inflater::new(Role::Server, 15, false).expect("inflater");
    let mut out = Vec::new();
    inf.begin_message();
    assert_eq!(inf.push(&first, LIMIT, &mut out), None);
    assert_eq!(inf.push(&last, LIMIT, &mut out), None);
    assert_eq!(inf.finish(LIMIT, &mut out), None);
    assert_eq!(out, HELLO);
    // The stream is at a block boundary: the next message inflates with the shared window.
    assert_eq!(inflate_ok(&mut inf, &[0xf2, 0x00, 0x11, 0x00, 0x00]), HELLO);
}

#[test]
fn rfc7692_7_2_3_6_the_compressor_streams_fragments_that_way() {
    let mut c = Compressor::new(15, false, 6).expect("compressor");
    let first = c.compress_fragment(HELLO, false).expect("first");
    assert!(forms::ends_with_flush(&first));
    let last = c.compress_fragment(b"", true).expect("last");
    assert_eq!(last, [0x00]);
    let mut inf = Inflater::new(Role::Client, 15, false).expect("inflater");
    assert_eq!(inflate_ok(&mut inf, &[first, last].concat()), HELLO);
}

#[test]
fn rfc7692_7_2_1_an_empty_message_is_one_empty_stored_block() {
    let mut c = Compressor::new(15, false, 6).expect("compressor");
    assert_eq!(c.compress(b"").expect("empty"), [0x00]);
    let mut inf = Inflater::new(Role::Server, 15, false).expect("inflater");
    assert_eq!(inflate_ok(&mut inf, &[0x00]), b"");
    assert_eq!(inflate_ok(&mut inf, &HELLO_BLOCK), HELLO);
}

/// Messages of several kinds, including ones longer than every window.
fn corpus() -> Vec<Vec<u8>> {
    let text: Vec<u8> = b"the quick brown fox jumps over the lazy dog. "
        .iter()
        .copied()
        .cycle()
        .take(70_000)
        .collect();
    let mixed: Vec<u8> = (0..40_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 % 16 + b'a')
        .collect();
    vec![
        HELLO.to_vec(),
        Vec::new(),
        text.clone(),
        mixed,
        vec![0; 100_000],
        text[..1000].to_vec(),
    ]
}

#[test]
fn rfc7692_7_2_round_trips_at_every_window_size() {
    for bits in 8..=15u8 {
        for no_context_takeover in [false, true] {
            let mut c = Compressor::new(bits, no_context_takeover, 6).expect("compressor");
            let mut inf = Inflater::new(Role::Client, bits, no_context_takeover).expect("inflater");
            for (i, message) in corpus().iter().enumerate() {
                let payload = c.compress(message).expect("compresses");
                let mut out = Vec::new();
                let f = inf.inflate(&payload, LIMIT, &mut out);
                assert_eq!(f, None, "bits {bits} nct {no_context_takeover} message {i}");
                assert_eq!(
                    &out, message,
                    "bits {bits} nct {no_context_takeover} msg {i}"
                );
            }
        }
    }
}

#[test]
fn rfc7692_7_1_2_data_reaching_beyond_the_window_is_a_violation() {
    for bits in 8..=14u8 {
        let (message, payload) = forms::reaching_beyond(bits).expect("payload");
        let mut exact = Inflater::new(Role::Server, bits, false).expect("inflater");
        assert_eq!(
            finding(&mut exact, &payload),
            FindingKind::ServerWindowExceeded,
            "bits {bits}"
        );
        let mut client = Inflater::new(Role::Client, bits, true).expect("inflater");
        assert_eq!(
            finding(&mut client, &payload),
            FindingKind::ClientWindowExceeded,
            "bits {bits}"
        );
        let mut full = Inflater::new(Role::Server, 15, false).expect("inflater");
        assert_eq!(inflate_ok(&mut full, &payload), message, "bits {bits}");
    }
}

#[test]
fn rfc6455_10_4_a_compression_bomb_stops_at_the_limit() {
    let mut c = Compressor::new(15, false, 9).expect("compressor");
    let payload = c.compress(&vec![0u8; 16 << 20]).expect("compresses");
    assert!(payload.len() < 64 << 10, "{} bytes", payload.len());
    let limit = 100_000;
    let mut inf = Inflater::new(Role::Server, 15, false).expect("inflater");
    let mut out = Vec::new();
    let f = inf.inflate(&payload, limit, &mut out).expect("a finding");
    assert_eq!(f.kind, FindingKind::InflatedTooLarge);
    assert_eq!(f.kind.level(), crate::wire::Level::Info);
    assert!(out.len() <= limit);
    // Memory stays near the limit, not the 16 MiB the payload expands to.
    assert!(
        out.capacity() <= 2 * (limit + (1 << 15)),
        "{}",
        out.capacity()
    );
    // With context takeover the window is now unknown: later messages cannot be inflated.
    assert_eq!(
        finding(&mut inf, &HELLO_BLOCK),
        FindingKind::InvalidCompressedData
    );
}

#[test]
fn rfc6455_10_4_the_inflated_limit_counts_across_fragments() {
    let mut c = Compressor::new(15, true, 6).expect("compressor");
    let payload = c.compress(&[b'x'; 3000]).expect("compresses");
    let mut inf = Inflater::new(Role::Server, 15, true).expect("inflater");
    let mut out = Vec::new();
    inf.begin_message();
    let mut found = None;
    for part in payload.chunks(2) {
        found = found.or(inf.push(part, 2999, &mut out));
    }
    found = found.or(inf.finish(2999, &mut out));
    assert_eq!(found.map(|f| f.kind), Some(FindingKind::InflatedTooLarge));
    // Without the limit it inflates, and a fresh message works after the failure.
    assert_eq!(inflate_ok(&mut inf, &payload), vec![b'x'; 3000]);
}

#[test]
fn rfc7692_7_2_2_invalid_compressed_data_is_a_finding() {
    for form in Invalid::ALL {
        let mut inf = Inflater::new(Role::Server, 15, false).expect("inflater");
        let f = {
            let mut out = Vec::new();
            inf.inflate(form.payload(), LIMIT, &mut out)
        };
        let f = f.unwrap_or_else(|| panic!("{form:?} inflated"));
        assert_eq!(f.kind, FindingKind::InvalidCompressedData, "{form:?}: {f}");
        assert_eq!(f.anchor(), "7692-7.2.2-c");
    }
}

#[test]
fn lost_context_is_reported_only_with_context_takeover() {
    let mut shared = Inflater::new(Role::Server, 15, false).expect("inflater");
    shared.lose_context();
    assert_eq!(
        finding(&mut shared, &HELLO_BLOCK),
        FindingKind::InvalidCompressedData
    );
    let mut fresh = Inflater::new(Role::Server, 15, true).expect("inflater");
    fresh.lose_context();
    assert_eq!(inflate_ok(&mut fresh, &HELLO_BLOCK), HELLO);
}

#[test]
fn window_bits_outside_8_to_15_are_refused() {
    assert!(Compressor::new(7, false, 6).is_err());
    assert!(Compressor::new(16, false, 6).is_err());
    assert!(Inflater::new(Role::Client, 7, false).is_err());
    assert!(Inflater::new(Role::Client, 16, false).is_err());
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// inflate(compress(m)) == m for any messages, window and context mode, fed to the
        /// inflater in arbitrary fragments.
        #[test]
        fn rfc7692_7_2_round_trip(
            messages in proptest::collection::vec(
                proptest::collection::vec(0u8..8, 0..3000), 1..5),
            bits in 8u8..=15,
            no_context_takeover in any::<bool>(),
            fragment in 1usize..700,
        ) {
            let mut c = Compressor::new(bits, no_context_takeover, 6).expect("compressor");
            let mut inf = Inflater::new(Role::Server, bits, no_context_takeover)
                .expect("inflater");
            for m in &messages {
                let payload = c.compress(m).expect("compresses");
                let mut out = Vec::new();
                inf.begin_message();
                for part in payload.chunks(fragment) {
                    prop_assert_eq!(inf.push(part, LIMIT, &mut out), None);
                }
                prop_assert_eq!(inf.finish(LIMIT, &mut out), None);
                prop_assert_eq!(&out, m);
            }
        }
    }
}

#[test]
fn rfc7692_7_2_1_a_payload_with_its_tail_left_on_is_a_finding() {
    // The wrong form of §7.2.3.6: a flushed fragment (tail kept), then a 0-byte last fragment.
    let [first, _] = forms::with_empty_final_fragment(HELLO).expect("fragments");
    let mut inf = Inflater::new(Role::Server, 15, false).expect("inflater");
    let mut out = Vec::new();
    inf.begin_message();
    assert_eq!(inf.push(&first, LIMIT, &mut out), None);
    assert_eq!(inf.push(&[], LIMIT, &mut out), None);
    let f = inf.finish(LIMIT, &mut out).expect("a finding");
    assert_eq!(f.kind, FindingKind::TailNotRemoved);
    assert_eq!(out, HELLO);
    // The stream was left at a block boundary: the shared window still works.
    assert_eq!(inflate_ok(&mut inf, &[0xf2, 0x00, 0x11, 0x00, 0x00]), HELLO);
    // An empty payload is the same mistake.
    assert_eq!(finding(&mut inf, &[]), FindingKind::TailNotRemoved);
    assert_eq!(inflate_ok(&mut inf, &HELLO_BLOCK), HELLO);
}
