//! Compressed payloads of unusual but valid shapes (RFC 7692 §7.2.3) and deliberately invalid
//! ones, for a conformance tool to send. Each function returns a whole message payload as it
//! goes on the wire (trailing `00 00 ff ff` already removed), unless it says otherwise.
//!
//! None of these depend on earlier messages, so they are valid (or invalid) the same way with
//! and without context takeover.

use flate2::{Compress, Compression, FlushCompress};

use super::codec::strip_tail;
use super::{DeflateError, TAIL};

/// The largest stored block (RFC 1951 §3.2.4: LEN is 16 bits).
const STORED_MAX: usize = 0xffff;

/// The message as DEFLATE blocks with no compression (§7.2.3.3): each block is `00 LEN NLEN`
/// and the data, then the `00` that starts the empty block the receiver completes.
pub fn stored_blocks(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + message.len() / STORED_MAX * 5 + 6);
    for chunk in message.chunks(STORED_MAX) {
        // chunks(STORED_MAX) never yields more than 0xffff bytes, so the cast keeps the length.
        let len = chunk.len() as u16;
        out.push(0x00);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.push(0x00);
    out
}

/// The message compressed as two DEFLATE blocks split at `split` (§7.2.3.5): the first block is
/// flushed with its empty stored block kept, the second is the usual stripped end.
pub fn two_blocks(message: &[u8], split: usize) -> Result<Vec<u8>, DeflateError> {
    let split = split.min(message.len());
    let mut c = Compress::new_with_window_bits(Compression::default(), false, 15);
    let mut out = deflate(&mut c, &message[..split], FlushCompress::Sync)?;
    let mut second = deflate(&mut c, &message[split..], FlushCompress::Sync)?;
    strip_tail(&mut second);
    out.extend_from_slice(&second);
    Ok(out)
}

/// The message compressed into a block with BFINAL set (§7.2.3.4), then, as §7.2.1 asks, an
/// empty stored block appended and four octets removed: the payload ends in `00`.
pub fn bfinal(message: &[u8]) -> Result<Vec<u8>, DeflateError> {
    let mut c = Compress::new_with_window_bits(Compression::default(), false, 15);
    let mut out = deflate(&mut c, message, FlushCompress::Finish)?;
    strip_tail(&mut out);
    Ok(out)
}

/// The payload of an empty last fragment (§7.2.3.6): an empty stored block, `00`, whose
/// `LEN`/`NLEN` are the `00 00 ff ff` the receiver appends. It follows fragments produced by
/// [`super::Compressor::compress_fragment`] with `last: false`, which keep their full tail.
pub const EMPTY_FINAL_FRAGMENT: [u8; 1] = [0x00];

/// A message split into fragments the §7.2.3.6 way: `message` compressed and flushed with its
/// tail kept as the first fragment, then [`EMPTY_FINAL_FRAGMENT`] as the last.
pub fn with_empty_final_fragment(message: &[u8]) -> Result<[Vec<u8>; 2], DeflateError> {
    let mut c = Compress::new_with_window_bits(Compression::default(), false, 15);
    let first = deflate(&mut c, message, FlushCompress::Sync)?;
    Ok([first, EMPTY_FINAL_FRAGMENT.to_vec()])
}

/// `message` compressed on its own (a fresh 32 KiB window, zlib's default level) and
/// sync-flushed: with `keep_tail` the payload of a non-final fragment (`00 00 ff ff` kept),
/// without it a whole message's payload (tail removed, §7.2.1).
pub fn compressed(message: &[u8], keep_tail: bool) -> Result<Vec<u8>, DeflateError> {
    let mut c = Compress::new_with_window_bits(Compression::default(), false, 15);
    let mut out = deflate(&mut c, message, FlushCompress::Sync)?;
    if !keep_tail {
        strip_tail(&mut out);
    }
    Ok(out)
}

/// Deliberately invalid compressed payloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Invalid {
    /// A block of the reserved type 11 (RFC 1951 §3.2.3).
    ReservedBlockType,
    /// A stored block whose NLEN is not the complement of LEN.
    StoredLengthMismatch,
    /// A back-reference to data before the start of the stream: RFC 7692 §7.2.3.2's second
    /// "Hello", which refers to the first one, sent on its own.
    ReferenceBeforeStart,
}

impl Invalid {
    /// Every invalid form.
    pub const ALL: [Invalid; 3] = [
        Invalid::ReservedBlockType,
        Invalid::StoredLengthMismatch,
        Invalid::ReferenceBeforeStart,
    ];

    /// The payload bytes.
    pub fn payload(self) -> &'static [u8] {
        match self {
            Invalid::ReservedBlockType => &[0xff],
            Invalid::StoredLengthMismatch => &[0x00, 0x05, 0x00, 0x00, 0x00, b'H', b'e'],
            Invalid::ReferenceBeforeStart => &[0xf2, 0x00, 0x11, 0x00, 0x00],
        }
    }
}

/// A message whose end repeats its start from further back than 2^`window_bits` bytes, and its
/// payload compressed with a 32 KiB window: valid under a 15-bit agreement, a window violation
/// under `window_bits` (8–14). The filler is a fixed pseudo-random sequence so the only long
/// match is the repeat, 128 bytes beyond the window.
pub fn reaching_beyond(window_bits: u8) -> Result<(Vec<u8>, Vec<u8>), DeflateError> {
    let bits = window_bits.clamp(8, 14);
    let head = filler(64, 1);
    let gap = filler((1usize << bits) + 64, 2);
    let message: Vec<u8> = [head.as_slice(), gap.as_slice(), head.as_slice()].concat();
    let mut c = Compress::new_with_window_bits(Compression::best(), false, 15);
    let mut payload = deflate(&mut c, &message, FlushCompress::Sync)?;
    strip_tail(&mut payload);
    Ok((message, payload))
}

/// `len` bytes of a fixed xorshift sequence: deterministic, incompressible enough that no match
/// of three or more bytes is likely inside it.
fn filler(len: usize, seed: u64) -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ seed;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 56) as u8
        })
        .collect()
}

/// Runs one flush of `data` through `c` and returns everything produced.
fn deflate(c: &mut Compress, data: &[u8], flush: FlushCompress) -> Result<Vec<u8>, DeflateError> {
    let mut out = Vec::with_capacity(data.len() + 64);
    let mut rest = data;
    loop {
        if out.len() == out.capacity() {
            out.reserve(out.capacity().max(256));
        }
        let before = c.total_in();
        let status = c
            .compress_vec(rest, &mut out, flush)
            .map_err(|e| DeflateError::Compress(e.to_string()))?;
        let used = usize::try_from(c.total_in() - before).unwrap_or(rest.len());
        rest = &rest[used.min(rest.len())..];
        let done = match flush {
            FlushCompress::Finish => status == flate2::Status::StreamEnd,
            _ => rest.is_empty() && out.len() < out.capacity(),
        };
        if done {
            return Ok(out);
        }
    }
}

/// Whether `payload` ends like a sync-flushed fragment (the full `00 00 ff ff` kept).
pub fn ends_with_flush(payload: &[u8]) -> bool {
    payload.ends_with(&TAIL)
}
