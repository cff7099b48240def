//! Incremental UTF-8 validation of text messages across fragments (RFC 6455 §8.1, §5.6), and of
//! close reasons (§5.5.1).
//!
//! A text message arrives in fragments that may split a code point anywhere, and an endpoint
//! that fails fast must notice the first impossible byte as soon as it arrives, not when the
//! message ends. [`Utf8Validator`] carries only the state of one unfinished code point (at most
//! three bytes seen) between [`Utf8Validator::feed`] calls and reports the exact offset where
//! the message stopped being a prefix of any valid UTF-8 string, which is what Autobahn's
//! fail-fast cases (6.x) judge.
//!
//! **Offset rule.** [`Utf8Status::Invalid`] carries the index, from the start of the message, of
//! the first byte at which no continuation could make the prefix valid UTF-8 (RFC 3629 §4). So
//! a byte that can never start a code point (`80`–`BF` out of place, `C0`, `C1`, `F5`–`FF`) is
//! invalid at itself; a lead byte followed by a byte outside its allowed range is invalid at that
//! second byte (`E0 80` overlong, `ED A0` surrogate, `F4 90` above U+10FFFF, `C3 41` truncated
//! by ASCII). When a message *ends* inside a code point, [`Utf8Validator::finish`] reports the
//! offset of the truncated sequence's lead byte, since no single byte is to blame.
//!
//! The bulk of the input goes through [`std::str::from_utf8`]; only the at most four bytes
//! around a fragment boundary or an error are stepped through byte by byte.

/// Validation status of the bytes of a message seen so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Utf8Status {
    /// All bytes so far form complete, valid code points.
    Valid,
    /// Valid so far, but the input ends inside a code point (more bytes may complete it).
    Incomplete,
    /// Invalid; `offset` is the byte offset, from the start of the message, of the first byte
    /// that cannot be part of valid UTF-8 (the fail-fast point).
    Invalid {
        /// Index of the first byte at which no continuation could make the prefix valid.
        offset: u64,
    },
}

/// Incremental UTF-8 validator for one message at a time.
#[derive(Clone, Debug, Default)]
pub struct Utf8Validator {
    /// Continuation bytes the unfinished code point still needs; 0 at a code-point boundary.
    need: u8,
    /// Allowed range of the next continuation byte while `need > 0`.
    next: (u8, u8),
    /// Bytes of the unfinished code point already seen (at most 3), lead included.
    pending_len: u8,
    /// Bytes fed since the message started.
    len: u64,
    /// Offset of the first impossible byte, once found.
    invalid_at: Option<u64>,
}

/// What a lead byte demands of the rest of its sequence (RFC 3629 §4, `UTF8-tail` ranges).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Lead {
    /// Total bytes in the sequence, lead included: 1 to 4.
    width: u8,
    /// Allowed range of the second byte; later continuation bytes are always `80..=BF`.
    second: (u8, u8),
}

/// Classifies a byte as a lead byte, or `None` if no valid sequence can start with it.
fn lead(b: u8) -> Option<Lead> {
    let (width, second) = match b {
        0x00..=0x7f => (1, (0, 0)),
        0xc2..=0xdf => (2, (0x80, 0xbf)),
        // Overlong three-byte forms of U+0000..U+07FF.
        0xe0 => (3, (0xa0, 0xbf)),
        0xe1..=0xec | 0xee..=0xef => (3, (0x80, 0xbf)),
        // U+D800..U+DFFF are surrogates, not scalar values.
        0xed => (3, (0x80, 0x9f)),
        // Overlong four-byte forms of U+0000..U+FFFF.
        0xf0 => (4, (0x90, 0xbf)),
        0xf1..=0xf3 => (4, (0x80, 0xbf)),
        // Above U+10FFFF.
        0xf4 => (4, (0x80, 0x8f)),
        // 80..BF continuation, C0/C1 overlong two-byte, F5..FF beyond the Unicode range.
        _ => return None,
    };
    Some(Lead { width, second })
}

impl Utf8Validator {
    /// A validator at the start of a message.
    pub fn new() -> Self {
        Utf8Validator::default()
    }

    /// Feeds the next bytes of the message; returns the status after them. Once Invalid, stays
    /// Invalid with the same offset.
    pub fn feed(&mut self, bytes: &[u8]) -> Utf8Status {
        let base = self.len;
        self.len += bytes.len() as u64;
        if self.invalid_at.is_some() {
            return self.status();
        }
        // Finish a code point left open by the previous feed, byte by byte.
        let mut i = 0;
        while self.pending_len > 0 && i < bytes.len() {
            if !self.step(bytes[i], base + i as u64) {
                return self.status();
            }
            i += 1;
        }
        if self.pending_len > 0 {
            return self.status();
        }
        let rest = &bytes[i..];
        if let Err(e) = std::str::from_utf8(rest) {
            let bad = e.valid_up_to();
            // `from_utf8` finds where the bad sequence starts; stepping from there finds the
            // byte that made it impossible (at most four steps) or keeps a truncated tail
            // (`error_len() == None`) as pending.
            for (j, &b) in rest.iter().enumerate().skip(bad) {
                if !self.step(b, base + (i + j) as u64) {
                    break;
                }
            }
        }
        self.status()
    }

    /// Advances the byte-level automaton by one byte at message offset `at`; returns false
    /// (and records the offset) if the byte cannot continue any valid prefix.
    fn step(&mut self, b: u8, at: u64) -> bool {
        let ok = if self.need == 0 {
            match lead(b) {
                Some(l) => {
                    self.need = l.width - 1;
                    self.next = l.second;
                    self.pending_len = u8::from(self.need > 0);
                    true
                }
                None => false,
            }
        } else if (self.next.0..=self.next.1).contains(&b) {
            self.need -= 1;
            self.next = (0x80, 0xbf);
            self.pending_len = if self.need == 0 {
                0
            } else {
                self.pending_len + 1
            };
            true
        } else {
            false
        };
        if !ok {
            self.invalid_at = Some(at);
        }
        ok
    }

    /// Status if the message ended now: Incomplete becomes Invalid (offset = start of the
    /// truncated sequence).
    pub fn finish(&self) -> Utf8Status {
        match self.status() {
            Utf8Status::Incomplete => Utf8Status::Invalid {
                offset: self.len - u64::from(self.pending_len),
            },
            other => other,
        }
    }

    /// Current status without feeding.
    pub fn status(&self) -> Utf8Status {
        match self.invalid_at {
            Some(offset) => Utf8Status::Invalid { offset },
            None if self.pending_len > 0 => Utf8Status::Incomplete,
            None => Utf8Status::Valid,
        }
    }

    /// Bytes fed so far, including any fed after the message became invalid.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether no bytes have been fed since the message started.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Starts a new message.
    pub fn reset(&mut self) {
        *self = Utf8Validator::default();
    }
}

/// Convenience: validates a whole message. Returns Valid or Invalid, never Incomplete (a
/// truncated final code point is invalid at its lead byte, as with [`Utf8Validator::finish`]).
pub fn validate(bytes: &[u8]) -> Utf8Status {
    let mut v = Utf8Validator::new();
    v.feed(bytes);
    v.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(offset: u64) -> Utf8Status {
        Utf8Status::Invalid { offset }
    }

    /// Markus Kuhn's UTF-8 decoder capability and stress test, by category, with the verdict of
    /// a fail-fast decoder (Autobahn 6.x judges the same way). `None` means valid.
    fn kuhn_cases() -> Vec<(&'static str, Vec<u8>, Option<u64>)> {
        let mut cases: Vec<(&'static str, Vec<u8>, Option<u64>)> = vec![
            // 1: some correct UTF-8 text (Greek "kosme").
            (
                "1 kosme",
                b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5".to_vec(),
                None,
            ),
            // 2.1: first possible sequence of each length.
            ("2.1.1 u+0000", vec![0x00], None),
            ("2.1.2 u+0080", vec![0xc2, 0x80], None),
            ("2.1.3 u+0800", vec![0xe0, 0xa0, 0x80], None),
            ("2.1.4 u+10000", vec![0xf0, 0x90, 0x80, 0x80], None),
            (
                "2.1.5 five-byte first",
                vec![0xf8, 0x88, 0x80, 0x80, 0x80],
                Some(0),
            ),
            (
                "2.1.6 six-byte first",
                vec![0xfc, 0x84, 0x80, 0x80, 0x80, 0x80],
                Some(0),
            ),
            // 2.2: last possible sequence of each length.
            ("2.2.1 u+007f", vec![0x7f], None),
            ("2.2.2 u+07ff", vec![0xdf, 0xbf], None),
            ("2.2.3 u+ffff", vec![0xef, 0xbf, 0xbf], None),
            ("2.2.4 u+1fffff", vec![0xf7, 0xbf, 0xbf, 0xbf], Some(0)),
            (
                "2.2.5 five-byte last",
                vec![0xfb, 0xbf, 0xbf, 0xbf, 0xbf],
                Some(0),
            ),
            (
                "2.2.6 six-byte last",
                vec![0xfd, 0xbf, 0xbf, 0xbf, 0xbf, 0xbf],
                Some(0),
            ),
            // 2.3: other boundary conditions.
            ("2.3.1 u+d7ff", vec![0xed, 0x9f, 0xbf], None),
            ("2.3.2 u+e000", vec![0xee, 0x80, 0x80], None),
            ("2.3.3 u+fffd", vec![0xef, 0xbf, 0xbd], None),
            ("2.3.4 u+10ffff", vec![0xf4, 0x8f, 0xbf, 0xbf], None),
            ("2.3.5 u+110000", vec![0xf4, 0x90, 0x80, 0x80], Some(1)),
            // 3.1: unexpected continuation bytes.
            ("3.1.1 first continuation", vec![0x80], Some(0)),
            ("3.1.2 last continuation", vec![0xbf], Some(0)),
            ("3.1.3 two continuations", vec![0x80, 0xbf], Some(0)),
            (
                "3.1.x continuation after ascii",
                b"ab\x80".to_vec(),
                Some(2),
            ),
            (
                "3.1.x continuation after complete code point",
                vec![0xc2, 0x80, 0x80],
                Some(2),
            ),
            // 3.2: lonely start characters, each followed by a space.
            ("3.2.1 lonely two-byte start", vec![0xc2, 0x20], Some(1)),
            ("3.2.2 lonely three-byte start", vec![0xe1, 0x20], Some(1)),
            ("3.2.3 lonely four-byte start", vec![0xf1, 0x20], Some(1)),
            ("3.2.4 lonely five-byte start", vec![0xf8, 0x20], Some(0)),
            ("3.2.5 lonely six-byte start", vec![0xfc, 0x20], Some(0)),
            // 3.3: sequences with the last continuation byte missing, then ASCII.
            (
                "3.3.2 three-byte missing last",
                vec![0xe0, 0xa0, 0x41],
                Some(2),
            ),
            (
                "3.3.3 four-byte missing last",
                vec![0xf0, 0x90, 0x80, 0x41],
                Some(3),
            ),
            // 3.3 / 3.4: truncated at the end of the message.
            ("3.3.1 two-byte missing last at end", vec![0xc2], Some(0)),
            (
                "3.3.2 three-byte missing last at end",
                vec![0xe0, 0xa0],
                Some(0),
            ),
            (
                "3.3.3 four-byte missing last at end",
                vec![0xf0, 0x90, 0x80],
                Some(0),
            ),
            (
                "3.3.x truncated after text",
                b"hi\xe2\x82".to_vec(),
                Some(2),
            ),
            (
                "3.4 concatenated incomplete sequences",
                vec![0xc2, 0xe0, 0xa0, 0xf0, 0x90, 0x80],
                Some(1),
            ),
            // 3.5: impossible bytes.
            ("3.5.1 fe", vec![0xfe], Some(0)),
            ("3.5.2 ff", vec![0xff], Some(0)),
            ("3.5.3 fe fe ff ff", vec![0xfe, 0xfe, 0xff, 0xff], Some(0)),
            // 4.1: overlong ASCII '/'.
            ("4.1.1 overlong slash 2", vec![0xc0, 0xaf], Some(0)),
            ("4.1.2 overlong slash 3", vec![0xe0, 0x80, 0xaf], Some(1)),
            (
                "4.1.3 overlong slash 4",
                vec![0xf0, 0x80, 0x80, 0xaf],
                Some(1),
            ),
            // 4.2: maximum overlong sequences.
            ("4.2.1 max overlong 2", vec![0xc1, 0xbf], Some(0)),
            ("4.2.2 max overlong 3", vec![0xe0, 0x9f, 0xbf], Some(1)),
            (
                "4.2.3 max overlong 4",
                vec![0xf0, 0x8f, 0xbf, 0xbf],
                Some(1),
            ),
            // 4.3: overlong NUL.
            ("4.3.1 overlong nul 2", vec![0xc0, 0x80], Some(0)),
            ("4.3.2 overlong nul 3", vec![0xe0, 0x80, 0x80], Some(1)),
            (
                "4.3.3 overlong nul 4",
                vec![0xf0, 0x80, 0x80, 0x80],
                Some(1),
            ),
            // 5.1: single UTF-16 surrogates.
            ("5.1.1 u+d800", vec![0xed, 0xa0, 0x80], Some(1)),
            ("5.1.5 u+dc00", vec![0xed, 0xb0, 0x80], Some(1)),
            ("5.1.7 u+dfff", vec![0xed, 0xbf, 0xbf], Some(1)),
            // 5.2: paired UTF-16 surrogates.
            (
                "5.2.1 u+d800 u+dc00",
                vec![0xed, 0xa0, 0x80, 0xed, 0xb0, 0x80],
                Some(1),
            ),
            // 5.3: noncharacters are valid scalar values and valid UTF-8.
            ("5.3.1 u+fffe", vec![0xef, 0xbf, 0xbe], None),
            ("5.3.2 u+ffff", vec![0xef, 0xbf, 0xbf], None),
            ("5.3.x u+10fffe", vec![0xf4, 0x8f, 0xbf, 0xbe], None),
            // Autobahn 6.3.1: valid text with a surrogate in the middle.
            (
                "autobahn 6.3.1",
                b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited".to_vec(),
                Some(12),
            ),
            ("empty message", vec![], None),
        ];
        // 3.2 lonely start characters, all of them, each followed by a space: the space is the
        // impossible byte.
        for b in 0xc2u8..=0xf4 {
            cases.push(("3.2 every lonely start", vec![b, 0x20], Some(1)));
        }
        cases
    }

    #[test]
    fn rfc6455_8_1_kuhn_stress_test_whole() {
        for (name, bytes, expected) in kuhn_cases() {
            let want = expected.map_or(Utf8Status::Valid, invalid);
            assert_eq!(validate(&bytes), want, "{name}");
            assert_eq!(
                std::str::from_utf8(&bytes).is_ok(),
                expected.is_none(),
                "{name}: agrees with std"
            );
        }
    }

    /// Fragments may split a code point anywhere (§5.4); the verdict must not depend on where.
    #[test]
    fn rfc6455_5_6_kuhn_stress_test_every_split() {
        for (name, bytes, _) in kuhn_cases() {
            let whole = validate(&bytes);
            for cut in 0..=bytes.len() {
                let mut v = Utf8Validator::new();
                v.feed(&bytes[..cut]);
                v.feed(&bytes[cut..]);
                assert_eq!(v.finish(), whole, "{name}: split at {cut}");
                assert_eq!(v.len(), bytes.len() as u64);
            }
            let mut v = Utf8Validator::new();
            for b in &bytes {
                v.feed(std::slice::from_ref(b));
            }
            assert_eq!(v.finish(), whole, "{name}: byte by byte");
        }
    }

    /// Fail-fast: the status turns Invalid on the feed that contains the impossible byte, not
    /// later, and not earlier.
    #[test]
    fn rfc6455_8_1_fails_fast_at_the_impossible_byte() {
        let cases: [(&str, &[u8], u64); 6] = [
            ("above u+10ffff", &[0xf4, 0x90, 0x80, 0x80], 1),
            ("surrogate", &[0xed, 0xa0, 0x80], 1),
            ("overlong three-byte", &[0xe0, 0x80, 0x80], 1),
            ("c0 at once", &[0xc0, 0x80], 0),
            ("f5 at once", &[0xf5, 0x80, 0x80, 0x80], 0),
            ("ascii after lead", b"ab\xc3(", 3),
        ];
        for (name, bytes, offset) in cases {
            let mut v = Utf8Validator::new();
            for (i, b) in bytes.iter().enumerate() {
                let got = v.feed(std::slice::from_ref(b));
                if (i as u64) < offset {
                    assert!(
                        !matches!(got, Utf8Status::Invalid { .. }),
                        "{name}: early at {i}"
                    );
                } else {
                    assert_eq!(got, invalid(offset), "{name}: at {i}");
                }
            }
        }
    }

    #[test]
    fn incomplete_until_completed_then_valid() {
        let euro = "€".as_bytes(); // e2 82 ac
        let mut v = Utf8Validator::new();
        assert_eq!(v.status(), Utf8Status::Valid);
        assert!(v.is_empty());
        assert_eq!(v.feed(b"price: "), Utf8Status::Valid);
        assert_eq!(v.feed(&euro[..1]), Utf8Status::Incomplete);
        assert_eq!(v.finish(), invalid(7));
        assert_eq!(v.feed(&euro[1..2]), Utf8Status::Incomplete);
        assert_eq!(v.feed(&[]), Utf8Status::Incomplete);
        assert_eq!(v.feed(&euro[2..]), Utf8Status::Valid);
        assert_eq!(v.finish(), Utf8Status::Valid);
        assert_eq!(v.len(), 10);
        assert!(!v.is_empty());
    }

    #[test]
    fn invalid_is_sticky_and_reset_starts_over() {
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(b"ok\xff"), invalid(2));
        assert_eq!(v.feed(b"more valid text"), invalid(2));
        assert_eq!(v.feed(&[0xc2]), invalid(2));
        assert_eq!(v.finish(), invalid(2));
        assert_eq!(v.len(), 19);
        v.reset();
        assert!(v.is_empty());
        assert_eq!(v.status(), Utf8Status::Valid);
        assert_eq!(v.feed("héllo".as_bytes()), Utf8Status::Valid);
    }

    #[test]
    fn offsets_count_across_large_feeds() {
        let mut v = Utf8Validator::new();
        let chunk = "ascii and ünïcödé ".repeat(10_000);
        v.feed(chunk.as_bytes());
        v.feed(chunk.as_bytes());
        let before = v.len();
        assert_eq!(v.feed(b"x\xed\xbf\xbf"), invalid(before + 2));
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        /// The offset rule stated in the module docs, derived from std's error report: a lead
        /// byte that can start nothing is itself the culprit; otherwise the byte after the
        /// longest valid prefix is; a sequence cut short by the end of input is blamed on its
        /// lead byte.
        fn reference(bytes: &[u8]) -> Utf8Status {
            match std::str::from_utf8(bytes) {
                Ok(_) => Utf8Status::Valid,
                Err(e) => {
                    let at = e.valid_up_to();
                    let offset = match e.error_len() {
                        None => at,
                        Some(_) if lead(bytes[at]).is_none() => at,
                        Some(n) => at + n,
                    };
                    invalid(offset as u64)
                }
            }
        }

        /// Bytes biased towards UTF-8 structure: ASCII, real characters, and raw bytes.
        fn utf8ish() -> impl Strategy<Value = Vec<u8>> {
            let piece = prop_oneof![
                any::<char>().prop_map(|c| c.to_string().into_bytes()),
                "[a-z ]{0,4}".prop_map(String::into_bytes),
                any::<u8>().prop_map(|b| vec![b]),
                (0x80u8..=0xbf).prop_map(|b| vec![b]),
            ];
            proptest::collection::vec(piece, 0..40).prop_map(|v| v.concat())
        }

        proptest! {
            #[test]
            fn validate_agrees_with_std(bytes in utf8ish()) {
                let got = validate(&bytes);
                prop_assert_eq!(got == Utf8Status::Valid, std::str::from_utf8(&bytes).is_ok());
                prop_assert_eq!(got, reference(&bytes));
            }

            #[test]
            fn validate_agrees_with_std_on_random_bytes(
                bytes in proptest::collection::vec(any::<u8>(), 0..64),
            ) {
                let got = validate(&bytes);
                prop_assert_eq!(got == Utf8Status::Valid, std::str::from_utf8(&bytes).is_ok());
                prop_assert_eq!(got, reference(&bytes));
            }

            #[test]
            fn chunked_feeding_agrees_with_whole(
                bytes in utf8ish(),
                cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..6),
            ) {
                let mut points: Vec<usize> =
                    cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
                points.sort_unstable();
                let mut v = Utf8Validator::new();
                let mut start = 0;
                for p in points.into_iter().chain([bytes.len()]) {
                    v.feed(&bytes[start..p]);
                    start = p;
                }
                prop_assert_eq!(v.finish(), validate(&bytes));
                prop_assert_eq!(v.len(), bytes.len() as u64);
            }
        }
    }
}
