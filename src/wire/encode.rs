//! Frame encoding with full control of every header bit (RFC 6455 §5.2), plus the plain path
//! for ordinary well-formed frames.
//!
//! A conformance tool has to send what a correct endpoint never would: reserved opcodes, RSV
//! bits, unmasked client frames, non-minimal lengths and lengths that lie about the payload.

use super::frame::{FrameHeader, LengthEncoding, Opcode};
use super::mask::apply_mask;

/// How the payload length field of an encoded frame is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LengthSpec {
    /// The shortest encoding for the real payload length (what §5.2 requires).
    #[default]
    Minimal,
    /// Always the 16-bit form, even for short payloads (non-minimal unless 126–65535).
    Force16,
    /// Always the 64-bit form (non-minimal unless over 65535).
    Force64,
    /// Declare this length instead of the real one, in its minimal encoding.
    Lie(u64),
    /// Declare this length in this encoding; a value too large for the encoding is truncated
    /// to the field width.
    LieWith(LengthEncoding, u64),
}

/// Everything needed to encode one frame, valid or not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameSpec {
    /// FIN bit.
    pub fin: bool,
    /// RSV1–RSV3 as a 3-bit number (RSV1 most significant).
    pub rsv: u8,
    /// Opcode (any of the sixteen values).
    pub opcode: Opcode,
    /// Mask key; `None` sends the payload unmasked with the MASK bit clear.
    pub mask: Option<[u8; 4]>,
    /// How the length field is written.
    pub length: LengthSpec,
    /// The payload before masking.
    pub payload: Vec<u8>,
}

impl FrameSpec {
    /// A final, unmasked frame with a minimal length: what a server sends.
    pub fn new(opcode: Opcode, payload: impl Into<Vec<u8>>) -> FrameSpec {
        FrameSpec {
            fin: true,
            rsv: 0,
            opcode,
            mask: None,
            length: LengthSpec::Minimal,
            payload: payload.into(),
        }
    }

    /// Sets the mask key (clients must mask every frame, §5.3).
    pub fn masked(mut self, key: [u8; 4]) -> FrameSpec {
        self.mask = Some(key);
        self
    }

    /// Sets the FIN bit.
    pub fn fin(mut self, fin: bool) -> FrameSpec {
        self.fin = fin;
        self
    }

    /// The header this spec produces on the wire.
    pub fn header(&self) -> FrameHeader {
        let real = self.payload.len() as u64;
        let (length_encoding, payload_len) = match self.length {
            LengthSpec::Minimal => (LengthEncoding::minimal_for(real), real),
            LengthSpec::Force16 => (LengthEncoding::Len16, real & 0xffff),
            LengthSpec::Force64 => (LengthEncoding::Len64, real),
            LengthSpec::Lie(n) => (LengthEncoding::minimal_for(n), n),
            LengthSpec::LieWith(enc, n) => {
                let n = match enc {
                    LengthEncoding::Len7 => n.min(125),
                    LengthEncoding::Len16 => n & 0xffff,
                    LengthEncoding::Len64 => n,
                };
                (enc, n)
            }
        };
        FrameHeader {
            fin: self.fin,
            rsv: self.rsv & 0x07,
            opcode: self.opcode,
            mask: self.mask,
            payload_len,
            length_encoding,
        }
    }

    /// Appends the encoded frame to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let header = self.header();
        encode_header(&header, out);
        let start = out.len();
        out.extend_from_slice(&self.payload);
        if let Some(key) = self.mask {
            apply_mask(&mut out[start..], key, 0);
        }
    }

    /// The encoded frame as a new buffer.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(14 + self.payload.len());
        self.encode_into(&mut out);
        out
    }
}

/// Appends the bytes of `header` (without payload) to `out`.
pub fn encode_header(header: &FrameHeader, out: &mut Vec<u8>) {
    let b0 = (u8::from(header.fin) << 7) | ((header.rsv & 0x07) << 4) | header.opcode.as_u8();
    let mask_bit = if header.mask.is_some() { 0x80 } else { 0 };
    match header.length_encoding {
        LengthEncoding::Len7 => {
            out.push(b0);
            out.push(mask_bit | (header.payload_len.min(125) as u8));
        }
        LengthEncoding::Len16 => {
            out.push(b0);
            out.push(mask_bit | 126);
            out.extend_from_slice(&((header.payload_len & 0xffff) as u16).to_be_bytes());
        }
        LengthEncoding::Len64 => {
            out.push(b0);
            out.push(mask_bit | 127);
            out.extend_from_slice(&header.payload_len.to_be_bytes());
        }
    }
    if let Some(key) = header.mask {
        out.extend_from_slice(&key);
    }
}

/// Encodes an ordinary final frame: minimal length, no RSV bits, masked when `mask` is given.
pub fn encode_frame(opcode: Opcode, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    FrameSpec {
        fin: true,
        rsv: 0,
        opcode,
        mask,
        length: LengthSpec::Minimal,
        payload: payload.to_vec(),
    }
    .encode()
}
