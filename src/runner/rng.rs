//! A small non-cryptographic random source for mask keys and handshake nonces.
//!
//! Masking keys only need to be unpredictable to intermediaries on a real network (RFC 6455
//! §10.3); for a conformance client a well-seeded xorshift is enough, and traces redact them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// xorshift64* generator.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded from the clock and a process-wide counter.
    pub fn new() -> Rng {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        Rng((nanos ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A fresh masking key.
    pub fn mask_key(&mut self) -> [u8; 4] {
        (self.next_u64() as u32).to_ne_bytes()
    }

    /// A fresh `Sec-WebSocket-Key`: 16 random bytes, base64-encoded (RFC 6455 §4.1).
    pub fn handshake_key(&mut self) -> String {
        use base64::Engine;
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_ne_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_ne_bytes());
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }
}

impl Default for Rng {
    fn default() -> Self {
        Rng::new()
    }
}
