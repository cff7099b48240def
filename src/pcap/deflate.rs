//! permessage-deflate (RFC 7692) inflation for one direction of a connection.
//!
//! §7.2.2: append `00 00 ff ff` to the message payload and inflate with a raw DEFLATE decoder.
//! One decoder is kept across messages (context takeover) unless the sender's
//! `*_no_context_takeover` was agreed, in which case it is reset before every message. The
//! negotiated `*_max_window_bits` only bounds the window the *compressor* may use; a decoder
//! with the full 32 KiB window decodes every smaller one, so inflation always uses 15 bits and
//! the parameter is reported, not needed. Output is capped: a "zlib bomb" is a failure, not an
//! allocation (Wireshark work item 21190 is that bug).

use flate2::{Decompress, FlushDecompress, Status};

use super::events::DeflateParams;
use crate::wire::handshake::parse_extensions;

/// Reads the permessage-deflate parameters from accepted extension items, if it was accepted.
pub fn negotiated(extensions: &[String]) -> Option<DeflateParams> {
    for item in extensions {
        for (name, params) in parse_extensions(item) {
            if !name.eq_ignore_ascii_case("permessage-deflate") {
                continue;
            }
            let mut p = DeflateParams {
                server_max_window_bits: 15,
                client_max_window_bits: 15,
                ..DeflateParams::default()
            };
            for (key, value) in params {
                let bits = value
                    .as_deref()
                    .and_then(|v| v.parse::<u8>().ok())
                    .map(|b| b.clamp(8, 15));
                match key.to_ascii_lowercase().as_str() {
                    "server_no_context_takeover" => p.server_no_context_takeover = true,
                    "client_no_context_takeover" => p.client_no_context_takeover = true,
                    "server_max_window_bits" => p.server_max_window_bits = bits.unwrap_or(15),
                    "client_max_window_bits" => p.client_max_window_bits = bits.unwrap_or(15),
                    _ => {}
                }
            }
            return Some(p);
        }
    }
    None
}

/// The inflater of one direction.
pub struct Inflater {
    decoder: Decompress,
    reset_each_message: bool,
    /// Set once a message could not be inflated with context takeover: the dictionary every
    /// later message depends on is gone.
    broken: bool,
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater")
            .field("reset_each_message", &self.reset_each_message)
            .field("broken", &self.broken)
            .finish()
    }
}

impl Inflater {
    /// An inflater; `no_context_takeover` is the sender's parameter.
    pub fn new(no_context_takeover: bool) -> Inflater {
        Inflater {
            decoder: Decompress::new(false),
            reset_each_message: no_context_takeover,
            broken: false,
        }
    }

    /// Marks the shared dictionary as lost (a gap or an uncaptured message in between).
    pub fn lose_context(&mut self) {
        if !self.reset_each_message {
            self.broken = true;
        }
    }

    /// Inflates one whole message payload into `out`, at most `limit` bytes.
    pub fn inflate(
        &mut self,
        payload: &[u8],
        limit: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        out.clear();
        if self.broken {
            return Err("the compression context was lost earlier in this direction".into());
        }
        if self.reset_each_message {
            self.decoder.reset(false);
        }
        let result = self.run(payload, limit, out);
        if result.is_err() && !self.reset_each_message {
            self.broken = true;
        }
        result
    }

    fn run(&mut self, payload: &[u8], limit: usize, out: &mut Vec<u8>) -> Result<(), String> {
        const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
        let mut input_parts = [payload, &TAIL[..]];
        out.reserve(payload.len().saturating_mul(3).clamp(64, limit.max(64)));
        for part in input_parts.iter_mut() {
            loop {
                if out.len() == out.capacity() {
                    if out.len() >= limit {
                        return Err(format!("inflated message exceeds the {limit}-byte limit"));
                    }
                    out.reserve(out.len().max(256).min(limit - out.len()));
                }
                let before_in = self.decoder.total_in();
                let before_out = self.decoder.total_out();
                let status = self
                    .decoder
                    .decompress_vec(part, out, FlushDecompress::Sync)
                    .map_err(|e| {
                        format!("invalid deflate data: {}", e.to_string().to_lowercase())
                    })?;
                let used = (self.decoder.total_in() - before_in) as usize;
                let produced = self.decoder.total_out() - before_out;
                *part = &part[used..];
                if status == Status::StreamEnd {
                    // A final block ends the stream; the next message starts a fresh one.
                    self.decoder.reset(false);
                    return Ok(());
                }
                if part.is_empty() && out.len() < out.capacity() {
                    break;
                }
                if used == 0 && produced == 0 && out.len() < out.capacity() {
                    if part.is_empty() {
                        break;
                    }
                    return Err("deflate data ends early".into());
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compress, Compression, FlushCompress};

    fn compress(ctx: &mut Compress, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() + 64);
        ctx.compress_vec(data, &mut out, FlushCompress::Sync)
            .expect("compresses");
        assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
        out.truncate(out.len() - 4);
        out
    }

    #[test]
    fn rfc7692_7_2_3_1_hello_example() {
        // "Hello" compressed without context takeover, from RFC 7692 §7.2.3.1.
        let payload = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        let mut inf = Inflater::new(true);
        let mut out = Vec::new();
        inf.inflate(&payload, 1 << 20, &mut out).expect("inflates");
        assert_eq!(out, b"Hello");
        inf.inflate(&payload, 1 << 20, &mut out)
            .expect("inflates again");
        assert_eq!(out, b"Hello");
    }

    #[test]
    fn context_takeover_needs_the_previous_message() {
        let mut c = Compress::new(Compression::default(), false);
        let a = compress(&mut c, b"the same words again and again");
        let b = compress(&mut c, b"the same words again and again");
        assert!(b.len() < a.len());
        let mut inf = Inflater::new(false);
        let mut out = Vec::new();
        inf.inflate(&a, 1 << 20, &mut out).expect("first");
        inf.inflate(&b, 1 << 20, &mut out)
            .expect("second uses the window");
        assert_eq!(out, b"the same words again and again");
        let mut fresh = Inflater::new(false);
        fresh.lose_context();
        assert!(fresh.inflate(&b, 1 << 20, &mut out).is_err());
    }

    #[test]
    fn bomb_is_capped() {
        let mut c = Compress::new(Compression::best(), false);
        let bomb = compress(&mut c, &vec![b'a'; 1 << 20]);
        let mut inf = Inflater::new(true);
        let mut out = Vec::new();
        let err = inf.inflate(&bomb, 1000, &mut out).unwrap_err();
        assert!(err.contains("1000-byte limit"), "{err}");
        assert!(inf.inflate(b"\xff\xff\xff", 1000, &mut out).is_err());
    }

    #[test]
    fn parameters_are_read() {
        let p = negotiated(&["permessage-deflate; server_max_window_bits=12; client_max_window_bits=10; server_no_context_takeover".into()])
            .expect("negotiated");
        assert_eq!(p.server_max_window_bits, 12);
        assert_eq!(p.client_max_window_bits, 10);
        assert!(p.server_no_context_takeover && !p.client_no_context_takeover);
        assert_eq!(negotiated(&["x-foo".into()]), None);
    }
}
