//! Reads the back-reference distances of a DEFLATE stream (RFC 1951 §3.2) to check that a
//! sender kept to the negotiated window (RFC 7692 §7.1.2.1, §7.1.2.2).
//!
//! Inflating is zlib's job; this walk produces no output. It exists because no zlib inflater
//! checks the window size exactly: zlib-rs keeps a 32 KiB window whatever `windowBits` says,
//! and C zlib accepts a reference into the bytes produced by the current call even beyond the
//! window. Walking the codes gives every distance exactly, for every size including 8.
//!
//! The walk runs only on data zlib already inflated without error, so it stops quietly at
//! anything it cannot read (the end of the data, where a sync-flushed stream simply pauses).

/// The first back-reference that reaches further than the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FarReference {
    /// How many bytes back it reaches.
    pub distance: u32,
    /// The position in the message's inflated bytes where it occurs.
    pub position: u64,
}

/// Walks `data` (a message payload with `00 00 ff ff` appended) and returns the first reference
/// reaching more than `window` bytes back.
pub fn first_far_reference(data: &[u8], window: u32) -> Option<FarReference> {
    let mut r = Bits::new(data);
    let mut position = 0u64;
    loop {
        let last = r.bits(1)? == 1;
        match r.bits(2)? {
            0 => {
                r.align();
                let len = r.bits(16)?;
                let _nlen = r.bits(16)?;
                r.skip_bytes(len as usize)?;
                position += u64::from(len);
            }
            1 => {
                let (lit, dist) = fixed_tables();
                if let Some(far) = codes(&mut r, &lit, &dist, window, &mut position)? {
                    return Some(far);
                }
            }
            2 => {
                let (lit, dist) = dynamic_tables(&mut r)?;
                if let Some(far) = codes(&mut r, &lit, &dist, window, &mut position)? {
                    return Some(far);
                }
            }
            _ => return None,
        }
        if last {
            // §7.2.1: a block with BFINAL set is padded to a byte boundary and further blocks
            // may follow.
            r.align();
            if r.at_end() {
                return None;
            }
        }
    }
}

/// An LSB-first bit reader (RFC 1951 §3.1.1).
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    buf: u64,
    count: u32,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Bits<'a> {
        Bits {
            data,
            pos: 0,
            buf: 0,
            count: 0,
        }
    }

    fn bits(&mut self, need: u32) -> Option<u32> {
        while self.count < need {
            let byte = *self.data.get(self.pos)?;
            self.pos += 1;
            self.buf |= u64::from(byte) << self.count;
            self.count += 8;
        }
        let value = (self.buf & ((1u64 << need) - 1)) as u32;
        self.buf >>= need;
        self.count -= need;
        Some(value)
    }

    /// The next `n` (at most 32) bits without consuming them, and how many of them exist.
    fn peek(&mut self, n: u32) -> (u32, u32) {
        while self.count < n {
            let Some(&byte) = self.data.get(self.pos) else {
                break;
            };
            self.pos += 1;
            self.buf |= u64::from(byte) << self.count;
            self.count += 8;
        }
        ((self.buf & ((1u64 << n) - 1)) as u32, self.count.min(n))
    }

    /// Drops `n` bits already peeked.
    fn consume(&mut self, n: u32) {
        self.buf >>= n;
        self.count -= n;
    }

    fn align(&mut self) {
        self.buf = 0;
        self.count = 0;
    }

    fn at_end(&self) -> bool {
        self.count == 0 && self.pos >= self.data.len()
    }

    fn skip_bytes(&mut self, n: usize) -> Option<()> {
        let end = self.pos.checked_add(n)?;
        if end > self.data.len() {
            return None;
        }
        self.pos = end;
        Some(())
    }
}

/// Codes up to this many bits are decoded with one table lookup.
const FAST_BITS: u32 = 10;

/// A canonical Huffman code as counts per length and symbols in code order, plus a lookup
/// table for the short codes (most of them): entry = symbol | length << 16, 0 = not short.
struct Huffman {
    count: [u16; 16],
    symbol: Vec<u16>,
    fast: Vec<u32>,
}

impl Huffman {
    fn new(lengths: &[u8]) -> Option<Huffman> {
        let mut count = [0u16; 16];
        for &l in lengths {
            count[usize::from(l)] += 1;
        }
        let mut left: i32 = 1;
        for &c in &count[1..] {
            left = (left << 1) - i32::from(c);
            if left < 0 {
                return None;
            }
        }
        let mut offs = [0u16; 16];
        for len in 1..15 {
            offs[len + 1] = offs[len] + count[len];
        }
        let mut symbol = vec![0u16; lengths.len()];
        for (sym, &l) in lengths.iter().enumerate() {
            if l != 0 {
                symbol[usize::from(offs[usize::from(l)])] = sym as u16;
                offs[usize::from(l)] += 1;
            }
        }
        let mut fast = vec![0u32; 1 << FAST_BITS];
        let (mut code, mut index) = (0u32, 0usize);
        for len in 1..16u32 {
            for _ in 0..count[len as usize] {
                if len <= FAST_BITS {
                    // Codes are sent most significant bit first into an LSB-first stream:
                    // the table is indexed by the bits as they arrive.
                    let reversed = code.reverse_bits() >> (32 - len);
                    let entry = u32::from(symbol[index]) | len << 16;
                    let mut slot = reversed as usize;
                    while slot < fast.len() {
                        fast[slot] = entry;
                        slot += 1 << len;
                    }
                }
                code += 1;
                index += 1;
            }
            code <<= 1;
        }
        Some(Huffman {
            count,
            symbol,
            fast,
        })
    }

    fn decode(&self, r: &mut Bits<'_>) -> Option<u16> {
        let (bits, available) = r.peek(FAST_BITS);
        let entry = self.fast[bits as usize];
        let len = entry >> 16;
        if len != 0 && len <= available {
            r.consume(len);
            return Some((entry & 0xffff) as u16);
        }
        self.decode_slow(r)
    }

    fn decode_slow(&self, r: &mut Bits<'_>) -> Option<u16> {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..16 {
            code |= r.bits(1)? as i32;
            let count = i32::from(self.count[len]);
            if code - count < first {
                return self.symbol.get((index + code - first) as usize).copied();
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        None
    }
}

const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

/// The literal/length and distance codes of a block; `None` inside means the data ended.
fn codes(
    r: &mut Bits<'_>,
    lit: &Huffman,
    dist: &Huffman,
    window: u32,
    position: &mut u64,
) -> Option<Option<FarReference>> {
    loop {
        let sym = lit.decode(r)?;
        match sym {
            0..=255 => *position += 1,
            256 => return Some(None),
            _ => {
                let i = usize::from(sym - 257);
                let len = u32::from(*LEN_BASE.get(i)?) + r.bits(u32::from(LEN_EXTRA[i]))?;
                let d = usize::from(dist.decode(r)?);
                let distance = u32::from(*DIST_BASE.get(d)?) + r.bits(u32::from(DIST_EXTRA[d]))?;
                if distance > window {
                    return Some(Some(FarReference {
                        distance,
                        position: *position,
                    }));
                }
                *position += u64::from(len);
            }
        }
    }
}

fn fixed_tables() -> (Huffman, Huffman) {
    let mut lengths = [0u8; 288];
    for (sym, l) in lengths.iter_mut().enumerate() {
        *l = match sym {
            0..=143 => 8,
            144..=255 => 9,
            256..=279 => 7,
            _ => 8,
        };
    }
    // Both tables are complete codes, so construction cannot fail; an empty code would only
    // make the walk stop early.
    let empty = || Huffman {
        count: [0; 16],
        symbol: Vec::new(),
        fast: vec![0; 1 << FAST_BITS],
    };
    let lit = Huffman::new(&lengths).unwrap_or_else(empty);
    let dist = Huffman::new(&[5u8; 30]).unwrap_or_else(empty);
    (lit, dist)
}

fn dynamic_tables(r: &mut Bits<'_>) -> Option<(Huffman, Huffman)> {
    const ORDER: [usize; 19] = [
        16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
    ];
    let nlen = r.bits(5)? as usize + 257;
    let ndist = r.bits(5)? as usize + 1;
    let ncode = r.bits(4)? as usize + 4;
    if nlen > 286 || ndist > 30 {
        return None;
    }
    let mut code_lengths = [0u8; 19];
    for &slot in ORDER.iter().take(ncode) {
        code_lengths[slot] = r.bits(3)? as u8;
    }
    let lencode = Huffman::new(&code_lengths)?;
    let mut lengths = vec![0u8; nlen + ndist];
    let mut i = 0;
    while i < nlen + ndist {
        let sym = lencode.decode(r)?;
        let (value, repeat) = match sym {
            0..=15 => (sym as u8, 1),
            16 => (*lengths.get(i.checked_sub(1)?)?, 3 + r.bits(2)? as usize),
            17 => (0, 3 + r.bits(3)? as usize),
            _ => (0, 11 + r.bits(7)? as usize),
        };
        if i + repeat > lengths.len() {
            return None;
        }
        lengths[i..i + repeat].fill(value);
        i += repeat;
    }
    Some((
        Huffman::new(&lengths[..nlen])?,
        Huffman::new(&lengths[nlen..])?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7692_7_2_3_2_the_shared_window_reference_is_five_back() {
        // The second "Hello" of §7.2.3.2: a literal "H", then "ello" from five bytes back.
        let data = [0xf2, 0x00, 0x11, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff];
        assert_eq!(
            first_far_reference(&data, 4),
            Some(FarReference {
                distance: 5,
                position: 1
            })
        );
        assert_eq!(first_far_reference(&data, 5), None);
    }

    #[test]
    fn stored_and_literal_blocks_have_no_references() {
        let stored = [
            0x00, 0x05, 0x00, 0xfa, 0xff, b'H', b'e', b'l', b'l', b'o', 0x00, 0x00, 0x00, 0xff,
            0xff,
        ];
        assert_eq!(first_far_reference(&stored, 1), None);
        let hello = [
            0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x00, 0xff, 0xff,
        ];
        assert_eq!(first_far_reference(&hello, 1), None);
        assert_eq!(first_far_reference(&[], 1), None);
        assert_eq!(first_far_reference(&[0xff], 1), None);
    }
}
