//! Where the reference client's mask keys and handshake nonces come from (RFC 6455 §5.3, §4.1).
//!
//! The conformant client draws every mask key and every `Sec-WebSocket-Key` from the operating
//! system's entropy source (buffered, so an echo of many small frames does not make one system
//! call per frame). The masking faults replace the keys, never the nonces: no key at all
//! (`no-mask`), one constant key (`constant-mask`), or a counter shared by every connection of
//! the run (`counter-mask`).

use super::fault::{ClientFault, FaultSet};

/// The key every frame gets under `constant-mask`.
pub const CONSTANT_KEY: [u8; 4] = [0x5a, 0xc3, 0x3c, 0xa5];

/// Bytes fetched from the OS at a time.
const POOL: usize = 256;

/// The OS entropy source failed: no key can be drawn, so nothing may be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the operating system's random source failed: {0}")]
pub struct EntropyError(String);

/// How keys are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Keys {
    Random,
    Unmasked,
    Constant,
    Counter,
}

/// The source of mask keys and nonces for a whole run (one per run, so the counter of
/// `counter-mask` continues across connections).
#[derive(Clone, Debug)]
pub struct MaskSource {
    keys: Keys,
    counter: u32,
    pool: [u8; POOL],
    used: usize,
}

impl MaskSource {
    /// The source the faults ask for: random keys unless a masking fault is set.
    pub fn new(faults: &FaultSet) -> MaskSource {
        let keys = if faults.has(ClientFault::NoMask) {
            Keys::Unmasked
        } else if faults.has(ClientFault::ConstantMask) {
            Keys::Constant
        } else if faults.has(ClientFault::CounterMask) {
            Keys::Counter
        } else {
            Keys::Random
        };
        MaskSource {
            keys,
            counter: 0,
            pool: [0; POOL],
            used: POOL,
        }
    }

    fn fill(&mut self, out: &mut [u8]) -> Result<(), EntropyError> {
        for b in out {
            if self.used == POOL {
                getrandom::fill(&mut self.pool).map_err(|e| EntropyError(e.to_string()))?;
                self.used = 0;
            }
            *b = self.pool[self.used];
            self.used += 1;
        }
        Ok(())
    }

    /// The key for the next frame sent; `None` sends it unmasked (`no-mask`).
    pub fn next_key(&mut self) -> Result<Option<[u8; 4]>, EntropyError> {
        match self.keys {
            Keys::Random => {
                let mut key = [0u8; 4];
                self.fill(&mut key)?;
                Ok(Some(key))
            }
            Keys::Unmasked => Ok(None),
            Keys::Constant => Ok(Some(CONSTANT_KEY)),
            Keys::Counter => {
                let key = self.counter.to_be_bytes();
                self.counter = self.counter.wrapping_add(1);
                Ok(Some(key))
            }
        }
    }

    /// A fresh `Sec-WebSocket-Key`: 16 random bytes, base64-encoded (§4.1), whatever the
    /// faults.
    pub fn nonce(&mut self) -> Result<String, EntropyError> {
        use base64::Engine as _;
        let mut bytes = [0u8; 16];
        self.fill(&mut bytes)?;
        Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(faults: &[ClientFault], n: usize) -> Vec<Option<[u8; 4]>> {
        let mut source = MaskSource::new(&FaultSet::new(faults.iter().copied()));
        (0..n)
            .map(|_| source.next_key().expect("the OS has entropy"))
            .collect()
    }

    #[test]
    fn rfc6455_5_3_conformant_keys_are_fresh() {
        let keys = keys(&[], 1000);
        let mut distinct: Vec<[u8; 4]> = keys.iter().map(|k| k.expect("masked")).collect();
        distinct.sort_unstable();
        distinct.dedup();
        // 1000 draws of 32 bits: a repeat has probability about 1e-4.
        assert!(distinct.len() >= 999, "{} distinct keys", distinct.len());
    }

    #[test]
    fn masking_faults_replace_the_keys() {
        assert!(keys(&[ClientFault::NoMask], 3).iter().all(Option::is_none));
        assert!(
            keys(&[ClientFault::ConstantMask], 3)
                .iter()
                .all(|k| *k == Some(CONSTANT_KEY))
        );
        assert_eq!(
            keys(&[ClientFault::CounterMask], 3),
            [Some([0, 0, 0, 0]), Some([0, 0, 0, 1]), Some([0, 0, 0, 2])]
        );
    }

    #[test]
    fn nonces_stay_random_under_masking_faults() {
        let mut source = MaskSource::new(&FaultSet::new([ClientFault::ConstantMask]));
        let a = source.nonce().expect("entropy");
        let b = source.nonce().expect("entropy");
        assert_ne!(a, b);
        assert_eq!(a.len(), 24);
    }
}
