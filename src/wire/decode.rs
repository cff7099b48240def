//! Streaming frame decoder (RFC 6455 §5.2): push bytes in, take frames out.
//!
//! The decoder never rejects a frame. It reports every header bit as seen, unmasks the payload,
//! and records the stream offset of each frame so callers (the capture dissector) can map a
//! frame back to the packets that carried it. A declared length above
//! [`DecoderConfig::max_payload`] is reported as [`Decoded::Oversized`] and its payload is
//! skipped as it arrives: the decoder never allocates from a length field it has not bounded.

use super::frame::{Frame, FrameHeader, HeaderStatus, parse_header};
use super::mask::apply_mask;

/// Default largest payload the decoder buffers: 64 MiB.
pub const DEFAULT_MAX_PAYLOAD: u64 = 64 * 1024 * 1024;

/// A payload at least this long that ends the buffered bytes is handed over in the decoder's
/// own buffer instead of being copied out of it, so a maximal frame is in memory once.
const HAND_OVER: u64 = 64 * 1024;
/// An emptied buffer larger than this is released rather than kept for reuse, so one large
/// frame does not pin its size for the rest of the connection.
const KEEP_CAPACITY: usize = 1024 * 1024;

/// Decoder limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecoderConfig {
    /// Frames declaring a longer payload are reported as oversized and skipped.
    pub max_payload: u64,
}

impl Default for DecoderConfig {
    fn default() -> Self {
        DecoderConfig {
            max_payload: DEFAULT_MAX_PAYLOAD,
        }
    }
}

/// A frame together with where it started in the byte stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedFrame {
    /// The decoded frame, payload unmasked.
    pub frame: Frame,
    /// Offset of the frame's first header byte in the stream fed to the decoder.
    pub offset: u64,
    /// Length of the encoded header in bytes (mask key included).
    pub header_len: usize,
}

/// What [`FrameDecoder::next_frame`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decoded {
    /// A complete frame.
    Frame(DecodedFrame),
    /// The buffered bytes end inside a frame; at least this many more are needed.
    NeedMore(u64),
    /// A header declaring a payload above the configured maximum. The payload is not buffered:
    /// the decoder discards the next `header.payload_len` bytes as they arrive.
    Oversized {
        /// The header as seen.
        header: FrameHeader,
        /// Stream offset of the header's first byte.
        offset: u64,
    },
}

/// Incremental decoder over one direction of a connection.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    config: DecoderConfig,
    buf: Vec<u8>,
    start: usize,
    /// Stream offset of `buf[start]`.
    offset: u64,
    /// Payload bytes of an oversized frame still to discard.
    skip: u64,
}

impl FrameDecoder {
    /// A decoder with the given limits.
    pub fn new(config: DecoderConfig) -> FrameDecoder {
        FrameDecoder {
            config,
            ..FrameDecoder::default()
        }
    }

    /// Appends received bytes.
    pub fn push(&mut self, mut bytes: &[u8]) {
        if self.skip > 0 {
            let n = self.skip.min(bytes.len() as u64);
            self.skip -= n;
            self.offset += n;
            bytes = &bytes[n as usize..];
        }
        if bytes.is_empty() {
            return;
        }
        if self.start == self.buf.len() {
            if self.buf.capacity() > KEEP_CAPACITY {
                self.buf = Vec::new();
            } else {
                self.buf.clear();
            }
            self.start = 0;
        } else if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes buffered but not yet returned as frames.
    pub fn buffered(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// The header of the frame at the head of the buffer when the header is complete but the
    /// payload is not (yet): lets a caller judge a frame before its payload arrives.
    pub fn pending_header(&self) -> Option<FrameHeader> {
        if self.skip > 0 {
            return None;
        }
        match parse_header(&self.buf[self.start..]) {
            HeaderStatus::Complete(h, _) => Some(h),
            HeaderStatus::Incomplete(_) => None,
        }
    }

    /// Payload bytes of an oversized frame still to be discarded.
    pub fn skipping(&self) -> u64 {
        self.skip
    }

    /// Stream offset of the next byte the decoder will look at.
    pub fn stream_offset(&self) -> u64 {
        self.offset
    }

    /// Decodes the next frame from the buffered bytes, if there is a whole one.
    pub fn next_frame(&mut self) -> Decoded {
        if self.skip > 0 {
            return Decoded::NeedMore(self.skip);
        }
        let avail = &self.buf[self.start..];
        let (header, header_len) = match parse_header(avail) {
            HeaderStatus::Complete(h, n) => (h, n),
            HeaderStatus::Incomplete(n) => return Decoded::NeedMore(n as u64),
        };
        let offset = self.offset;
        // A declared length can be up to 2^64 - 1: even with no configured limit, a frame
        // whose end does not fit in memory (or in u64 at all) can only be skipped.
        let fits = (header_len as u64)
            .checked_add(header.payload_len)
            .is_some_and(|total| usize::try_from(total).is_ok());
        if header.payload_len > self.config.max_payload || !fits {
            let have = (avail.len() - header_len) as u64;
            let drop = have.min(header.payload_len);
            self.skip = header.payload_len - drop;
            self.consume(header_len + drop as usize);
            return Decoded::Oversized { header, offset };
        }
        let total = header_len as u64 + header.payload_len;
        if (avail.len() as u64) < total {
            return Decoded::NeedMore(total - avail.len() as u64);
        }
        let mut payload =
            if self.start + total as usize == self.buf.len() && header.payload_len >= HAND_OVER {
                self.buf.drain(..self.start + header_len);
                self.start = 0;
                self.offset += total;
                std::mem::take(&mut self.buf)
            } else {
                let payload = avail[header_len..total as usize].to_vec();
                self.consume(total as usize);
                payload
            };
        if let Some(key) = header.mask {
            apply_mask(&mut payload, key, 0);
        }
        Decoded::Frame(DecodedFrame {
            frame: Frame { header, payload },
            offset,
            header_len,
        })
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        self.offset += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::encode::{FrameSpec, LengthSpec};
    use crate::wire::frame::{LengthEncoding, Opcode};

    fn decode_all(bytes: &[u8]) -> Vec<Frame> {
        let mut d = FrameDecoder::default();
        d.push(bytes);
        let mut out = Vec::new();
        while let Decoded::Frame(f) = d.next_frame() {
            out.push(f.frame);
        }
        out
    }

    #[test]
    fn a_pending_header_is_visible_before_its_payload() {
        let bytes = FrameSpec::new(Opcode::Ping, vec![7u8; 1000]).encode();
        let mut d = FrameDecoder::default();
        d.push(&bytes[..1]);
        assert_eq!(d.pending_header(), None);
        d.push(&bytes[1..10]);
        assert!(matches!(d.next_frame(), Decoded::NeedMore(_)));
        let h = d.pending_header().expect("the header is complete");
        assert_eq!((h.opcode, h.payload_len), (Opcode::Ping, 1000));
        d.push(&bytes[10..]);
        assert!(matches!(d.next_frame(), Decoded::Frame(_)));
        assert_eq!(d.pending_header(), None);
    }

    /// RFC 6455 §5.7 examples, byte for byte, in both directions of the codec.
    #[test]
    fn rfc6455_5_7_examples() {
        let hello = |mask: Option<[u8; 4]>| FrameHeader {
            fin: true,
            rsv: 0,
            opcode: Opcode::Text,
            mask,
            payload_len: 5,
            length_encoding: LengthEncoding::Len7,
        };
        let table: Vec<(&str, Vec<u8>, Vec<Frame>)> = vec![
            (
                "single-frame unmasked text",
                vec![0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
                vec![Frame {
                    header: hello(None),
                    payload: b"Hello".to_vec(),
                }],
            ),
            (
                "single-frame masked text",
                vec![
                    0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
                ],
                vec![Frame {
                    header: hello(Some([0x37, 0xfa, 0x21, 0x3d])),
                    payload: b"Hello".to_vec(),
                }],
            ),
            (
                "fragmented unmasked text",
                vec![0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f],
                vec![
                    Frame {
                        header: FrameHeader {
                            fin: false,
                            payload_len: 3,
                            ..hello(None)
                        },
                        payload: b"Hel".to_vec(),
                    },
                    Frame {
                        header: FrameHeader {
                            opcode: Opcode::Continuation,
                            payload_len: 2,
                            ..hello(None)
                        },
                        payload: b"lo".to_vec(),
                    },
                ],
            ),
            (
                "unmasked ping",
                vec![0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
                vec![Frame {
                    header: FrameHeader {
                        opcode: Opcode::Ping,
                        ..hello(None)
                    },
                    payload: b"Hello".to_vec(),
                }],
            ),
            (
                "masked pong",
                vec![
                    0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
                ],
                vec![Frame {
                    header: FrameHeader {
                        opcode: Opcode::Pong,
                        ..hello(Some([0x37, 0xfa, 0x21, 0x3d]))
                    },
                    payload: b"Hello".to_vec(),
                }],
            ),
        ];
        for (name, bytes, frames) in table {
            assert_eq!(decode_all(&bytes), frames, "{name}: decode");
            let encoded: Vec<u8> = frames
                .iter()
                .flat_map(|f| {
                    FrameSpec {
                        fin: f.header.fin,
                        rsv: f.header.rsv,
                        opcode: f.header.opcode,
                        mask: f.header.mask,
                        length: LengthSpec::Minimal,
                        payload: f.payload.clone(),
                    }
                    .encode()
                })
                .collect();
            assert_eq!(encoded, bytes, "{name}: encode");
        }
        // 256 bytes and 64 KiB binary messages in a single unmasked frame.
        let f256 = FrameSpec::new(Opcode::Binary, vec![0u8; 256]).encode();
        assert_eq!(&f256[..4], &[0x82, 0x7e, 0x01, 0x00]);
        let f64k = FrameSpec::new(Opcode::Binary, vec![0u8; 65536]).encode();
        assert_eq!(
            &f64k[..10],
            &[0x82, 0x7f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00]
        );
    }

    #[test]
    fn lengths_at_encoding_boundaries_round_trip() {
        for len in [0usize, 125, 126, 127, 65535, 65536] {
            for mask in [None, Some([9, 8, 7, 6])] {
                let spec = FrameSpec {
                    mask,
                    ..FrameSpec::new(Opcode::Binary, vec![0xa5; len])
                };
                let frames = decode_all(&spec.encode());
                assert_eq!(frames.len(), 1, "len {len}");
                assert_eq!(frames[0].header, spec.header(), "len {len}");
                assert!(frames[0].header.is_minimal_length());
                assert_eq!(frames[0].payload, spec.payload, "len {len}");
            }
        }
    }

    #[test]
    fn non_minimal_lengths_are_recorded() {
        let spec = FrameSpec {
            length: LengthSpec::Force64,
            ..FrameSpec::new(Opcode::Text, "hi")
        };
        let f = &decode_all(&spec.encode())[0];
        assert_eq!(f.header.length_encoding, LengthEncoding::Len64);
        assert!(!f.header.is_minimal_length());
        assert_eq!(f.payload, b"hi");
    }

    #[test]
    fn oversized_frame_is_reported_and_skipped_without_buffering() {
        let mut d = FrameDecoder::new(DecoderConfig { max_payload: 10 });
        let big = FrameSpec::new(Opcode::Binary, vec![1u8; 100]).encode();
        let small = FrameSpec::new(Opcode::Text, "ok").encode();
        d.push(&big[..20]);
        match d.next_frame() {
            Decoded::Oversized { header, offset } => {
                assert_eq!(header.payload_len, 100);
                assert_eq!(offset, 0);
            }
            other => panic!("expected oversized, got {other:?}"),
        }
        assert_eq!(d.skipping(), 82);
        d.push(&big[20..]);
        d.push(&small);
        let Decoded::Frame(f) = d.next_frame() else {
            panic!("frame after skipped payload")
        };
        assert_eq!(f.offset, big.len() as u64);
        assert_eq!(f.frame.payload, b"ok");
    }

    #[test]
    fn absurd_length_never_allocates() {
        let mut d = FrameDecoder::default();
        d.push(&[
            0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2,
        ]);
        let Decoded::Oversized { header, .. } = d.next_frame() else {
            panic!("oversized expected")
        };
        assert_eq!(header.payload_len, i64::MAX as u64);
        assert!(d.buffered().is_empty());
    }

    /// Large payloads that end the buffer are handed over, not copied; the stream and its
    /// offsets are the same as with copying.
    #[test]
    fn large_payload_handed_over_keeps_offsets_and_content() {
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let first = FrameSpec::new(Opcode::Text, "a").encode();
        let masked = FrameSpec::new(Opcode::Binary, big.clone())
            .masked([9, 8, 7, 6])
            .encode();
        let last = FrameSpec::new(Opcode::Binary, big.clone()).encode();
        let mut d = FrameDecoder::default();
        d.push(&first);
        d.push(&masked);
        let mut got = Vec::new();
        while let Decoded::Frame(f) = d.next_frame() {
            got.push((f.offset, f.frame.payload));
        }
        d.push(&last[..10]);
        d.push(&last[10..]);
        while let Decoded::Frame(f) = d.next_frame() {
            got.push((f.offset, f.frame.payload));
        }
        let second = first.len() as u64;
        let third = second + masked.len() as u64;
        assert_eq!(
            got,
            vec![(0, b"a".to_vec()), (second, big.clone()), (third, big)]
        );
        assert!(d.buffered().is_empty());
        assert_eq!(d.stream_offset(), third + last.len() as u64);
    }

    /// Found by the `wire_decoder` fuzz target: with no payload limit, header length plus a
    /// declared length of 2^64 - 1 overflowed and the payload slice panicked.
    #[test]
    fn unlimited_decoder_skips_lengths_that_do_not_fit_in_memory() {
        let mut d = FrameDecoder::new(DecoderConfig {
            max_payload: u64::MAX,
        });
        d.push(&[
            0x82, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3,
        ]);
        let Decoded::Oversized { header, offset } = d.next_frame() else {
            panic!("oversized expected")
        };
        assert_eq!((header.payload_len, offset), (u64::MAX, 0));
        assert_eq!(d.skipping(), u64::MAX - 3);
        assert!(matches!(d.next_frame(), Decoded::NeedMore(_)));
    }

    /// Every split point of a multi-frame stream yields the same frames.
    #[test]
    fn every_byte_boundary_split() {
        let mut stream = Vec::new();
        let specs = [
            FrameSpec::new(Opcode::Text, "fragment")
                .fin(false)
                .masked([1, 2, 3, 4]),
            FrameSpec::new(Opcode::Ping, "p").masked([5, 6, 7, 8]),
            FrameSpec::new(Opcode::Continuation, vec![b'x'; 130]).masked([0, 0, 0, 1]),
            FrameSpec {
                length: LengthSpec::Force64,
                rsv: 0b101,
                ..FrameSpec::new(Opcode::ReservedControl(0xb), "r")
            },
        ];
        for s in &specs {
            s.encode_into(&mut stream);
        }
        let whole = decode_all(&stream);
        assert_eq!(whole.len(), specs.len());
        for cut in 0..=stream.len() {
            let mut d = FrameDecoder::default();
            let mut got = Vec::new();
            for part in [&stream[..cut], &stream[cut..]] {
                d.push(part);
                while let Decoded::Frame(f) = d.next_frame() {
                    got.push(f.frame);
                }
            }
            assert_eq!(got, whole, "split at {cut}");
        }
        // One byte at a time.
        let mut d = FrameDecoder::default();
        let mut got = Vec::new();
        for b in &stream {
            d.push(std::slice::from_ref(b));
            while let Decoded::Frame(f) = d.next_frame() {
                got.push(f.frame);
            }
        }
        assert_eq!(got, whole);
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        fn any_spec() -> impl Strategy<Value = FrameSpec> {
            (
                any::<bool>(),
                0u8..8,
                0u8..16,
                proptest::option::of(any::<[u8; 4]>()),
                0u8..3,
                proptest::collection::vec(any::<u8>(), 0..300),
            )
                .prop_map(|(fin, rsv, op, mask, len, payload)| FrameSpec {
                    fin,
                    rsv,
                    opcode: Opcode::from_u4(op),
                    mask,
                    length: match len {
                        0 => LengthSpec::Minimal,
                        1 => LengthSpec::Force16,
                        _ => LengthSpec::Force64,
                    },
                    payload,
                })
        }

        proptest! {
            /// decode(encode(x)) == x for valid and malformed frames, fed in random chunks.
            #[test]
            fn decode_inverts_encode(
                specs in proptest::collection::vec(any_spec(), 1..6),
                chunk in 1usize..64,
            ) {
                let mut stream = Vec::new();
                for s in &specs {
                    s.encode_into(&mut stream);
                }
                let mut d = FrameDecoder::default();
                let mut got = Vec::new();
                for part in stream.chunks(chunk) {
                    d.push(part);
                    while let Decoded::Frame(f) = d.next_frame() {
                        got.push(f.frame);
                    }
                }
                prop_assert_eq!(got.len(), specs.len());
                for (f, s) in got.iter().zip(&specs) {
                    prop_assert_eq!(f.header, s.header());
                    prop_assert_eq!(&f.payload, &s.payload);
                }
            }
        }
    }
}
