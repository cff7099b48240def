//! The payload transformation of permessage-deflate (RFC 7692 §7.2): a [`Compressor`] for what
//! an endpoint sends and an [`Inflater`] for what it receives, one per direction, with context
//! takeover and window bits as negotiated.
//!
//! Both use `flate2` on its zlib-rs backend, the backend that can set the window size.
//!
//! **Window of 8 bits.** zlib cannot open a raw DEFLATE stream with an 8-bit (256-byte) window
//! for compressing; it treats 8 as 9 (zlib's own documented behaviour for `windowBits` 8).
//! Compressing with `max_window_bits=8` therefore uses zlib's 9-bit window, and that honours 8:
//! zlib never emits a match further back than the window minus its 262-byte lookahead, which at
//! 9 bits is 512 − 262 = 250 bytes, inside the 256 allowed. The round-trip tests check every
//! distance of the output against the agreed window, 8 included.
//!
//! **How the window is checked.** The inflater always inflates with zlib's 32 KiB window (every
//! smaller window decodes with it) and checks the window separately and exactly: for an agreed
//! window below 15 bits, [`super::audit`] walks the message's DEFLATE codes and reports the
//! first back-reference further than 2^bits bytes. A zlib decoder opened with fewer window bits
//! would not do: zlib-rs keeps 32 KiB whatever it is told, and C zlib accepts references into
//! the bytes produced by the current call. A reference before the start of the message under
//! no context takeover is zlib's "distance too far back", exact because the decoder is reset
//! for every message.
//!
//! **Bombs.** Inflated bytes count against the caller's limit as they are produced, one step at
//! a time; passing the limit is a [`FindingKind::InflatedTooLarge`] finding and memory stays at
//! the limit plus one step.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::audit::first_far_reference;
use super::memo::Memo;
use super::offer::{MAX_WINDOW_BITS, MIN_WINDOW_BITS, Negotiated};
use super::{DeflateError, Finding, FindingKind, TAIL};
use crate::wire::Role;

/// Output produced per inflate step: the unit in which the size limit is checked.
const STEP: usize = 16 << 10;

/// The last 32 KiB of `earlier` followed by `recent`: the window a new zlib stream is primed
/// with after a block with BFINAL set.
fn last_window(earlier: &[u8], recent: &[u8]) -> Vec<u8> {
    const WINDOW: usize = 1 << MAX_WINDOW_BITS;
    let from_recent = recent.len().min(WINDOW);
    let from_earlier = (WINDOW - from_recent).min(earlier.len());
    let mut window = Vec::with_capacity(from_earlier + from_recent);
    window.extend_from_slice(&earlier[earlier.len() - from_earlier..]);
    window.extend_from_slice(&recent[recent.len() - from_recent..]);
    window
}

/// The window bits zlib is asked for: 8 becomes 9 (see the module docs).
fn zlib_bits(bits: u8) -> Result<u8, DeflateError> {
    if !(MIN_WINDOW_BITS..=MAX_WINDOW_BITS).contains(&bits) {
        return Err(DeflateError::WindowBits(bits));
    }
    Ok(bits.max(9))
}

/// Compresses the messages one endpoint sends (§7.2.1).
pub struct Compressor {
    inner: Compress,
    window_bits: u8,
    no_context_takeover: bool,
    /// Without context takeover, what each message compressed to (see [`super::memo`]).
    memo: Memo,
}

impl std::fmt::Debug for Compressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compressor")
            .field("window_bits", &self.window_bits)
            .field("no_context_takeover", &self.no_context_takeover)
            .finish()
    }
}

impl Compressor {
    /// A compressor using at most 2^`window_bits` bytes of window (8–15), starting each message
    /// with an empty window when `no_context_takeover`; `level` is zlib's 0–9.
    pub fn new(
        window_bits: u8,
        no_context_takeover: bool,
        level: u32,
    ) -> Result<Compressor, DeflateError> {
        let zbits = zlib_bits(window_bits)?;
        Ok(Compressor {
            inner: Compress::new_with_window_bits(Compression::new(level.min(9)), false, zbits),
            window_bits,
            no_context_takeover,
            memo: Memo::default(),
        })
    }

    /// The compressor for the endpoint in `sender` role under `negotiated`.
    pub fn for_sender(
        negotiated: &Negotiated,
        sender: Role,
        level: u32,
    ) -> Result<Compressor, DeflateError> {
        Compressor::new(
            negotiated.window_bits(sender),
            negotiated.no_context_takeover(sender),
            level,
        )
    }

    /// The window bits this compressor honours.
    pub fn window_bits(&self) -> u8 {
        self.window_bits
    }

    /// Compresses a whole message into the payload to send: DEFLATE with a sync flush, the
    /// trailing `00 00 ff ff` removed (§7.2.1). An empty message gives `[0x00]`.
    ///
    /// Without context takeover a message compresses the same way every time, so a repeated
    /// one is taken from memory (exactly: see [`super::memo`]).
    pub fn compress(&mut self, message: &[u8]) -> Result<Vec<u8>, DeflateError> {
        if !self.no_context_takeover {
            return self.compress_fragment(message, true);
        }
        if let Some(out) = self.memo.get(message) {
            return Ok(out.to_vec());
        }
        let out = self.compress_fragment(message, true)?;
        self.memo.put(message, &out);
        Ok(out)
    }

    /// Compresses one piece of a message sent in fragments: every piece is flushed so it can go
    /// out at once; only the last has the tail removed, and only after it does a
    /// no-context-takeover compressor forget the window.
    pub fn compress_fragment(&mut self, data: &[u8], last: bool) -> Result<Vec<u8>, DeflateError> {
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        let mut rest = data;
        loop {
            if out.len() == out.capacity() {
                out.reserve(out.capacity().max(256));
            }
            let before = self.inner.total_in();
            self.inner
                .compress_vec(rest, &mut out, FlushCompress::Sync)
                .map_err(|e| DeflateError::Compress(e.to_string()))?;
            let used = usize::try_from(self.inner.total_in() - before).unwrap_or(rest.len());
            rest = &rest[used.min(rest.len())..];
            // A sync flush is complete once the compressor returns with output space left.
            if rest.is_empty() && out.len() < out.capacity() {
                break;
            }
        }
        if last {
            strip_tail(&mut out);
            if self.no_context_takeover {
                self.inner.reset();
            }
        }
        Ok(out)
    }
}

/// §7.2.1 steps 2 and 3: data not ending in an empty stored block gets one, then the last four
/// octets (`00 00 ff ff`) go.
pub fn strip_tail(data: &mut Vec<u8>) {
    if data.ends_with(&TAIL) {
        data.truncate(data.len() - TAIL.len());
    } else {
        // Appending `00 00 00 ff ff` and removing four octets leaves one `00`.
        data.push(0x00);
    }
}

/// Inflates the messages one endpoint receives (§7.2.2) and checks that the sender kept to the
/// negotiated window and context takeover.
pub struct Inflater {
    decoder: Decompress,
    sender: Role,
    window_bits: u8,
    reset_each_message: bool,
    scratch: Vec<u8>,
    /// The compressed bytes of the current message, kept for the window walk when the agreed
    /// window is below 15 bits.
    compressed: Vec<u8>,
    /// The last 32 KiB inflated in the current context: the window a new DEFLATE stream starts
    /// with after a block with BFINAL set.
    history: Vec<u8>,
    /// The current message already produced a finding; the rest of it is ignored.
    failed: bool,
    /// With context takeover, a failed or missing message leaves the shared window unknown.
    broken: bool,
    /// Payload bytes of the current message so far, and its last four of them.
    message_len: u64,
    last_four: [u8; 4],
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater")
            .field("sender", &self.sender)
            .field("window_bits", &self.window_bits)
            .field("reset_each_message", &self.reset_each_message)
            .field("broken", &self.broken)
            .finish()
    }
}

impl Inflater {
    /// An inflater for messages sent by the endpoint in `sender` role, which agreed to a window
    /// of 2^`window_bits` bytes (8–15) and, if `no_context_takeover`, to start each message with
    /// an empty window.
    pub fn new(
        sender: Role,
        window_bits: u8,
        no_context_takeover: bool,
    ) -> Result<Inflater, DeflateError> {
        zlib_bits(window_bits)?;
        Ok(Inflater {
            decoder: Decompress::new_with_window_bits(false, MAX_WINDOW_BITS),
            sender,
            window_bits,
            reset_each_message: no_context_takeover,
            scratch: vec![0; STEP],
            compressed: Vec::new(),
            history: Vec::new(),
            failed: false,
            broken: false,
            message_len: 0,
            last_four: [0; 4],
        })
    }

    /// The inflater for what the endpoint in `sender` role sends under `negotiated`.
    pub fn for_sender(negotiated: &Negotiated, sender: Role) -> Result<Inflater, DeflateError> {
        Inflater::new(
            sender,
            negotiated.window_bits(sender),
            negotiated.no_context_takeover(sender),
        )
    }

    /// Whether every message starts with an empty window (the sender agreed to no context
    /// takeover), so a message inflates the same way whatever came before it.
    pub fn context_free(&self) -> bool {
        self.reset_each_message
    }

    /// Marks the shared window as lost (a capture gap, a message not seen).
    pub fn lose_context(&mut self) {
        if !self.reset_each_message {
            self.broken = true;
        }
    }

    /// Inflates a whole message payload into `out` (cleared first), producing at most
    /// `max_size` bytes. `None` when the message inflated cleanly.
    #[must_use]
    pub fn inflate(
        &mut self,
        payload: &[u8],
        max_size: usize,
        out: &mut Vec<u8>,
    ) -> Option<Finding> {
        out.clear();
        self.begin_message();
        if let Some(f) = self.push(payload, max_size, out) {
            return Some(f);
        }
        self.finish(max_size, out)
    }

    /// Starts a compressed message (its first frame had RSV1 set).
    pub fn begin_message(&mut self) {
        if self.reset_each_message {
            self.decoder.reset(false);
            self.history.clear();
        }
        self.failed = false;
        self.compressed.clear();
        self.message_len = 0;
        self.last_four = [0; 4];
    }

    /// Inflates the payload of one frame of the current message, appending to `out` while it
    /// holds at most `max_size` bytes.
    #[must_use]
    pub fn push(&mut self, fragment: &[u8], max_size: usize, out: &mut Vec<u8>) -> Option<Finding> {
        if self.failed {
            return None;
        }
        if self.broken {
            self.failed = true;
            return Some(Finding::new(
                FindingKind::InvalidCompressedData,
                "cannot inflate: the shared compression context was lost at an earlier message",
            ));
        }
        if self.window_bits < MAX_WINDOW_BITS {
            self.compressed.extend_from_slice(fragment);
        }
        self.message_len += fragment.len() as u64;
        for &b in fragment.iter().rev().take(4).rev() {
            self.last_four.rotate_left(1);
            self.last_four[3] = b;
        }
        let finding = self.run(fragment, max_size, out);
        if finding.is_some() {
            self.failed = true;
            if !self.reset_each_message {
                self.broken = true;
            }
        }
        finding
    }

    /// Ends the current message: appends `00 00 ff ff` (§7.2.2) and inflates what is left.
    ///
    /// A payload that is empty or already ends in `00 00 ff ff` gets no second tail: it is
    /// reported ([`FindingKind::TailNotRemoved`]) and the stream stays at a block boundary, so
    /// later messages still inflate. (A correctly stripped payload never ends in `ff`: its last
    /// octet holds the empty stored block's zero header bits and zero padding.)
    #[must_use]
    pub fn finish(&mut self, max_size: usize, out: &mut Vec<u8>) -> Option<Finding> {
        if self.message_len == 0 || (self.message_len >= 4 && self.last_four == TAIL) {
            let clean = !self.failed;
            self.compressed.clear();
            self.failed = false;
            return clean.then(|| {
                Finding::new(
                    FindingKind::TailNotRemoved,
                    if self.message_len == 0 {
                        "the compressed message has an empty payload".to_string()
                    } else {
                        "the compressed message still ends in 00 00 ff ff".to_string()
                    },
                )
            });
        }
        self.finish_with_tail(max_size, out)
    }

    fn finish_with_tail(&mut self, max_size: usize, out: &mut Vec<u8>) -> Option<Finding> {
        let clean = !self.failed;
        let mut finding = self.push(&TAIL, max_size, out);
        if clean && finding.is_none() && self.window_bits < MAX_WINDOW_BITS {
            let window = 1u32 << self.window_bits;
            finding = first_far_reference(&self.compressed, window).map(|far| {
                let kind = match self.sender {
                    Role::Server => FindingKind::ServerWindowExceeded,
                    Role::Client => FindingKind::ClientWindowExceeded,
                };
                Finding::new(
                    kind,
                    format!(
                        "a back-reference at inflated byte {} reaches {} bytes back, beyond the \
                         agreed {window}-byte window ({} bits)",
                        far.position, far.distance, self.window_bits
                    ),
                )
            });
            if finding.is_some() && !self.reset_each_message {
                self.broken = true;
            }
        }
        self.compressed.clear();
        self.failed = false;
        finding
    }

    fn run(&mut self, input: &[u8], max_size: usize, out: &mut Vec<u8>) -> Option<Finding> {
        let start = out.len();
        let finding = self.run_steps(input, max_size, out, start);
        self.remember(&out[start..]);
        finding
    }

    fn run_steps(
        &mut self,
        mut input: &[u8],
        max_size: usize,
        out: &mut Vec<u8>,
        start: usize,
    ) -> Option<Finding> {
        loop {
            let in_before = self.decoder.total_in();
            let out_before = self.decoder.total_out();
            let status = self
                .decoder
                .decompress(input, &mut self.scratch, FlushDecompress::Sync);
            let used = usize::try_from(self.decoder.total_in() - in_before).unwrap_or(input.len());
            let produced =
                usize::try_from(self.decoder.total_out() - out_before).unwrap_or(usize::MAX);
            let status = match status {
                Ok(status) => status,
                Err(e) => return Some(self.classify(e.message().unwrap_or("invalid data"))),
            };
            input = &input[used.min(input.len())..];
            let produced = produced.min(self.scratch.len());
            if out.len().saturating_add(produced) > max_size {
                return Some(Finding::new(
                    FindingKind::InflatedTooLarge,
                    format!("the inflated message passes the {max_size}-byte limit"),
                ));
            }
            out.extend_from_slice(&self.scratch[..produced]);
            if status == Status::StreamEnd {
                // A block with BFINAL set ends zlib's stream, not the extension's: §7.2.1 lets
                // further blocks follow (byte-aligned), still sharing the LZ77 window. Start a
                // new stream primed with that window.
                self.decoder.reset(false);
                let window = last_window(&self.history, &out[start..]);
                if !window.is_empty()
                    && let Err(e) = self.decoder.set_dictionary(&window)
                {
                    return Some(Finding::new(
                        FindingKind::InvalidCompressedData,
                        format!("cannot continue after a final block: {e}"),
                    ));
                }
                if input.is_empty() {
                    return None;
                }
                continue;
            }
            let output_left = produced < self.scratch.len();
            if (input.is_empty() && output_left) || (used == 0 && produced == 0) {
                return None;
            }
        }
    }

    /// Keeps the last 32 KiB of output (the most any DEFLATE reference can reach), once per
    /// call rather than per inflate step.
    fn remember(&mut self, produced: &[u8]) {
        const WINDOW: usize = 1 << MAX_WINDOW_BITS;
        if produced.len() >= WINDOW {
            self.history.clear();
            self.history
                .extend_from_slice(&produced[produced.len() - WINDOW..]);
        } else {
            let excess = (self.history.len() + produced.len()).saturating_sub(WINDOW);
            self.history.drain(..excess);
            self.history.extend_from_slice(produced);
        }
    }

    fn classify(&self, message: &str) -> Finding {
        let message = message.trim_end_matches('\0').to_lowercase();
        if !message.contains("too far back") {
            return Finding::new(
                FindingKind::InvalidCompressedData,
                format!("invalid deflate data: {message}"),
            );
        }
        if self.reset_each_message {
            let kind = match self.sender {
                Role::Server => FindingKind::ServerContextTakeover,
                Role::Client => FindingKind::ClientContextTakeover,
            };
            Finding::new(
                kind,
                "a back-reference reaches before the start of the message although no context \
                 takeover was agreed",
            )
        } else {
            Finding::new(
                FindingKind::InvalidCompressedData,
                "a back-reference reaches before the start of the compressed stream",
            )
        }
    }
}
