//! Where mask keys and handshake nonces come from.
//!
//! RFC 6455 §5.3 requires a client to pick each masking key "freshly and randomly" and §10.3
//! explains why: an intermediary must not be able to predict the key before the frame is sent.
//! By default every key and nonce is drawn from the operating system's entropy source
//! (buffered, so a case that sends 65 536 frames does not make 65 536 system calls). With
//! `--seed N` they come from a seeded xorshift generator instead, so a run can be replayed
//! byte for byte while debugging; never use that against a real network path.

/// A source of random bytes for one case or connection.
#[derive(Clone, Debug)]
pub struct Rng {
    source: Source,
}

#[derive(Clone, Debug)]
enum Source {
    /// Bytes from the OS, `used` of `buf` already handed out.
    Os { buf: Box<[u8; POOL]>, used: usize },
    /// xorshift64* state (`--seed`).
    Seeded(u64),
}

const POOL: usize = 512;

impl Rng {
    /// A generator that draws from the OS entropy source.
    pub fn from_os() -> Rng {
        Rng {
            source: Source::Os {
                buf: Box::new([0; POOL]),
                used: POOL,
            },
        }
    }

    /// A reproducible generator (`--seed`).
    pub fn seeded(seed: u64) -> Rng {
        // Any seed works, zero included: xorshift needs a non-zero state.
        let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x2545_f491_4f6c_dd1d;
        if state == 0 {
            state = 1;
        }
        Rng {
            source: Source::Seeded(state),
        }
    }

    /// `from_os()`, or a generator seeded with `seed` when one is given.
    pub fn new(seed: Option<u64>) -> Rng {
        match seed {
            Some(s) => Rng::seeded(s),
            None => Rng::from_os(),
        }
    }

    /// Whether the generator is reproducible (seeded).
    pub fn is_seeded(&self) -> bool {
        matches!(self.source, Source::Seeded(_))
    }

    fn fill(&mut self, out: &mut [u8]) {
        match &mut self.source {
            Source::Seeded(x) => {
                for chunk in out.chunks_mut(8) {
                    *x ^= *x >> 12;
                    *x ^= *x << 25;
                    *x ^= *x >> 27;
                    let v = x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes();
                    chunk.copy_from_slice(&v[..chunk.len()]);
                }
            }
            Source::Os { buf, used } => {
                for b in out {
                    if *used == POOL {
                        refill(&mut buf[..]);
                        *used = 0;
                    }
                    *b = buf[*used];
                    *used += 1;
                }
            }
        }
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill(&mut b);
        u64::from_le_bytes(b)
    }

    /// A fresh masking key.
    pub fn mask_key(&mut self) -> [u8; 4] {
        let mut k = [0u8; 4];
        self.fill(&mut k);
        k
    }

    /// A fresh `Sec-WebSocket-Key`: 16 random bytes, base64-encoded (RFC 6455 §4.1).
    pub fn handshake_key(&mut self) -> String {
        use base64::Engine;
        let mut bytes = [0u8; 16];
        self.fill(&mut bytes);
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }
}

/// Fills `buf` from the OS entropy source. Should the source ever fail (it does not on any
/// supported platform once the system has booted), the keys fall back to a generator seeded
/// from the clock and the address of the buffer: still fresh per frame, if not unpredictable.
fn refill(buf: &mut [u8]) {
    if getrandom::fill(buf).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let mut fallback = Rng::seeded(nanos ^ (buf.as_ptr() as u64));
        fallback.fill(buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_generators_repeat_and_differ_by_seed() {
        let keys = |seed| {
            let mut r = Rng::seeded(seed);
            (0..8).map(|_| r.mask_key()).collect::<Vec<_>>()
        };
        assert_eq!(keys(7), keys(7));
        assert_ne!(keys(7), keys(8));
        assert!(Rng::seeded(0).is_seeded());
    }

    #[test]
    fn os_keys_are_fresh() {
        // 4096 keys from the OS: with 32 random bits each, a repeat is a one-in-a-thousand
        // event, and a constant or counting source fails at once.
        let mut r = Rng::from_os();
        assert!(!r.is_seeded());
        let mut seen = std::collections::HashSet::new();
        let mut repeats = 0;
        for _ in 0..4096 {
            if !seen.insert(r.mask_key()) {
                repeats += 1;
            }
        }
        assert!(repeats <= 2, "{repeats} repeated keys");
        let a = Rng::from_os().handshake_key();
        let b = Rng::from_os().handshake_key();
        assert_ne!(a, b);
        assert_eq!(a.len(), 24);
    }
}
