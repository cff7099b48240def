//! Frame vocabulary of RFC 6455 §5.2: opcodes, the frame header with every bit kept, and the
//! pure header parser the streaming decoder is built on.
//!
//! Nothing here judges a frame. A reserved opcode, a set RSV bit or a non-minimal length are
//! represented faithfully so that [`crate::wire::rules`] can judge them and a capture can show
//! them.

use std::fmt;

/// A frame opcode (RFC 6455 §5.2, §11.8). All sixteen 4-bit values are representable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Opcode {
    /// 0x0: continues a fragmented data message (§5.4).
    Continuation,
    /// 0x1: a text data frame; the message payload must be UTF-8 (§5.6).
    Text,
    /// 0x2: a binary data frame (§5.6).
    Binary,
    /// 0x8: a close control frame (§5.5.1).
    Close,
    /// 0x9: a ping control frame (§5.5.2).
    Ping,
    /// 0xA: a pong control frame (§5.5.3).
    Pong,
    /// 0x3–0x7: reserved for further non-control frames.
    ReservedData(u8),
    /// 0xB–0xF: reserved for further control frames.
    ReservedControl(u8),
}

impl Opcode {
    /// Maps the low four bits of `value` to an opcode; higher bits are ignored.
    pub fn from_u4(value: u8) -> Opcode {
        match value & 0x0f {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xa => Opcode::Pong,
            v @ 0x3..=0x7 => Opcode::ReservedData(v),
            v => Opcode::ReservedControl(v),
        }
    }

    /// The 4-bit wire value.
    pub fn as_u8(self) -> u8 {
        match self {
            Opcode::Continuation => 0x0,
            Opcode::Text => 0x1,
            Opcode::Binary => 0x2,
            Opcode::Close => 0x8,
            Opcode::Ping => 0x9,
            Opcode::Pong => 0xa,
            Opcode::ReservedData(v) | Opcode::ReservedControl(v) => v & 0x0f,
        }
    }

    /// Control frames have the most significant opcode bit set (§5.5).
    pub fn is_control(self) -> bool {
        self.as_u8() & 0x08 != 0
    }

    /// Whether the opcode is one of the reserved values 0x3–0x7 or 0xB–0xF.
    pub fn is_reserved(self) -> bool {
        matches!(self, Opcode::ReservedData(_) | Opcode::ReservedControl(_))
    }

    /// Parses the names used in suites and traces (`text`, `ping`, …) or a number 0–15.
    pub fn from_name(name: &str) -> Option<Opcode> {
        let op = match name.to_ascii_lowercase().as_str() {
            "continuation" | "cont" => Opcode::Continuation,
            "text" => Opcode::Text,
            "binary" => Opcode::Binary,
            "close" => Opcode::Close,
            "ping" => Opcode::Ping,
            "pong" => Opcode::Pong,
            other => {
                let n = if let Some(hex) = other.strip_prefix("0x") {
                    u8::from_str_radix(hex, 16).ok()?
                } else {
                    other.parse::<u8>().ok()?
                };
                if n > 15 {
                    return None;
                }
                Opcode::from_u4(n)
            }
        };
        Some(op)
    }

    /// Lower-case name as used in traces: `text`, `continuation`, `reserved-0x3`, …
    pub fn name(self) -> String {
        match self {
            Opcode::Continuation => "continuation".into(),
            Opcode::Text => "text".into(),
            Opcode::Binary => "binary".into(),
            Opcode::Close => "close".into(),
            Opcode::Ping => "ping".into(),
            Opcode::Pong => "pong".into(),
            Opcode::ReservedData(v) | Opcode::ReservedControl(v) => format!("reserved-0x{v:x}"),
        }
    }
}

impl fmt::Display for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// Which of the three payload-length encodings of §5.2 a frame used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LengthEncoding {
    /// The 7-bit field alone (values 0–125).
    Len7,
    /// 126 followed by a 16-bit length.
    Len16,
    /// 127 followed by a 64-bit length.
    Len64,
}

impl LengthEncoding {
    /// The shortest encoding RFC 6455 §5.2 requires for `len`.
    pub fn minimal_for(len: u64) -> LengthEncoding {
        if len <= 125 {
            LengthEncoding::Len7
        } else if len <= 0xffff {
            LengthEncoding::Len16
        } else {
            LengthEncoding::Len64
        }
    }

    /// Bytes the length occupies after the first two header bytes.
    pub fn extra_bytes(self) -> usize {
        match self {
            LengthEncoding::Len7 => 0,
            LengthEncoding::Len16 => 2,
            LengthEncoding::Len64 => 8,
        }
    }
}

/// RSV1 bit as stored in [`FrameHeader::rsv`].
pub const RSV1: u8 = 0b100;
/// RSV2 bit as stored in [`FrameHeader::rsv`].
pub const RSV2: u8 = 0b010;
/// RSV3 bit as stored in [`FrameHeader::rsv`].
pub const RSV3: u8 = 0b001;

/// A frame header exactly as it was on the wire (RFC 6455 §5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FrameHeader {
    /// FIN: this is the final fragment of a message.
    pub fin: bool,
    /// RSV1–RSV3 as a 3-bit number, RSV1 the most significant ([`RSV1`], [`RSV2`], [`RSV3`]).
    pub rsv: u8,
    /// The opcode, reserved values included.
    pub opcode: Opcode,
    /// The masking key, if the MASK bit was set.
    pub mask: Option<[u8; 4]>,
    /// The payload length as declared, whatever its size.
    pub payload_len: u64,
    /// The length encoding used.
    pub length_encoding: LengthEncoding,
}

impl FrameHeader {
    /// Whether the payload length used the minimal encoding (a MUST in §5.2).
    pub fn is_minimal_length(&self) -> bool {
        self.length_encoding == LengthEncoding::minimal_for(self.payload_len)
    }

    /// Whether a 64-bit length had its most significant bit set (forbidden by §5.2).
    pub fn length_msb_set(&self) -> bool {
        self.length_encoding == LengthEncoding::Len64 && self.payload_len >> 63 == 1
    }

    /// Size in bytes of the encoded header, mask key included.
    pub fn header_len(&self) -> usize {
        2 + self.length_encoding.extra_bytes() + if self.mask.is_some() { 4 } else { 0 }
    }

    /// A compact flag string for traces: `F` or `-` for FIN, then RSV1–3 as `1`/`-`, then `M`
    /// or `-` for MASK, e.g. `F---M`.
    pub fn flags(&self) -> String {
        let bit = |set: bool, c: char| if set { c } else { '-' };
        [
            bit(self.fin, 'F'),
            bit(self.rsv & RSV1 != 0, '1'),
            bit(self.rsv & RSV2 != 0, '2'),
            bit(self.rsv & RSV3 != 0, '3'),
            bit(self.mask.is_some(), 'M'),
        ]
        .iter()
        .collect()
    }
}

/// Outcome of [`parse_header`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderStatus {
    /// A whole header was parsed; the second field is its length in bytes.
    Complete(FrameHeader, usize),
    /// The input ends inside the header; at least this many more bytes are needed.
    Incomplete(usize),
}

/// Parses one frame header from the start of `buf`. Never fails: every bit pattern is a header.
pub fn parse_header(buf: &[u8]) -> HeaderStatus {
    if buf.len() < 2 {
        return HeaderStatus::Incomplete(2 - buf.len());
    }
    let b0 = buf[0];
    let b1 = buf[1];
    let masked = b1 & 0x80 != 0;
    let len7 = b1 & 0x7f;
    let length_encoding = match len7 {
        126 => LengthEncoding::Len16,
        127 => LengthEncoding::Len64,
        _ => LengthEncoding::Len7,
    };
    let need = 2 + length_encoding.extra_bytes() + if masked { 4 } else { 0 };
    if buf.len() < need {
        return HeaderStatus::Incomplete(need - buf.len());
    }
    let mut pos = 2;
    let payload_len = match length_encoding {
        LengthEncoding::Len7 => u64::from(len7),
        LengthEncoding::Len16 => u64::from(u16::from_be_bytes([buf[2], buf[3]])),
        LengthEncoding::Len64 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(&buf[2..10]);
            u64::from_be_bytes(b)
        }
    };
    pos += length_encoding.extra_bytes();
    let mask = if masked {
        let mut key = [0u8; 4];
        key.copy_from_slice(&buf[pos..pos + 4]);
        Some(key)
    } else {
        None
    };
    let header = FrameHeader {
        fin: b0 & 0x80 != 0,
        rsv: (b0 >> 4) & 0x07,
        opcode: Opcode::from_u4(b0),
        mask,
        payload_len,
        length_encoding,
    };
    HeaderStatus::Complete(header, need)
}

/// A whole frame: its header and its payload, already unmasked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The header as it was on the wire.
    pub header: FrameHeader,
    /// The payload after unmasking.
    pub payload: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_opcode_value_round_trips() {
        for v in 0u8..16 {
            let op = Opcode::from_u4(v);
            assert_eq!(op.as_u8(), v);
            assert_eq!(op.is_control(), v >= 8);
            assert_eq!(op.is_reserved(), matches!(v, 3..=7 | 11..=15));
            assert_eq!(Opcode::from_name(&v.to_string()), Some(op));
        }
        assert_eq!(Opcode::from_name("0xB"), Some(Opcode::ReservedControl(0xb)));
        assert_eq!(Opcode::from_name("16"), None);
        assert_eq!(Opcode::from_name("texte"), None);
    }

    #[test]
    fn minimal_length_boundaries() {
        let cases = [
            (0, LengthEncoding::Len7),
            (125, LengthEncoding::Len7),
            (126, LengthEncoding::Len16),
            (127, LengthEncoding::Len16),
            (65535, LengthEncoding::Len16),
            (65536, LengthEncoding::Len64),
        ];
        for (len, enc) in cases {
            assert_eq!(LengthEncoding::minimal_for(len), enc, "length {len}");
        }
    }

    #[test]
    fn header_needs_more_until_complete() {
        // masked, 16-bit length: 2 + 2 + 4 bytes of header
        let bytes = [0x81, 0xfe, 0x01, 0x00, 1, 2, 3, 4];
        for cut in 0..bytes.len() {
            match parse_header(&bytes[..cut]) {
                HeaderStatus::Incomplete(n) => assert!(n >= 1 && cut + n <= bytes.len()),
                other => panic!("cut {cut}: {other:?}"),
            }
        }
        let HeaderStatus::Complete(h, n) = parse_header(&bytes) else {
            panic!("complete header expected")
        };
        assert_eq!(n, 8);
        assert_eq!(h.payload_len, 256);
        assert_eq!(h.mask, Some([1, 2, 3, 4]));
        assert_eq!(h.flags(), "F---M");
    }
}
