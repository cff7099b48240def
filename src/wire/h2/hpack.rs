//! HPACK (RFC 7541): the field-block decoder with its static and dynamic tables, and encoders.
//!
//! One [`Decoder`] is one decoding context: a connection direction, fed every field block in
//! order from the start of the connection (RFC 7541 §2.2). Errors are values ([`HpackError`]);
//! after an error the dynamic table may no longer match the encoder's, which callers report as
//! a lost context rather than guessing. Every length is bounded before it is allocated: string
//! lengths by the octets left in the block, integers by [`MAX_INT_OCTETS`], the decoded list by
//! [`Decoder::max_list_size`].
//!
//! Two encoders: [`encode_literal`] writes literal-without-indexing representations with raw
//! (non-Huffman) strings, so any name bytes (uppercase, NUL, duplicates, any order) go on the
//! wire as given; [`Encoder`] uses the static table, the dynamic table (incremental indexing)
//! and Huffman coding, as a browser's HTTP/2 stack would.

use std::collections::VecDeque;

use super::huffman::{self, HuffmanError};

/// Entry overhead added to name and value lengths (RFC 7541 §4.1).
pub const ENTRY_OVERHEAD: usize = 32;

/// SETTINGS_HEADER_TABLE_SIZE's initial value (RFC 9113 §6.5.2).
pub const DEFAULT_TABLE_SIZE: usize = 4_096;

/// Largest number of continuation octets accepted in a prefix integer: enough for any value
/// below 2^28, far more than any table size or string length a frame can carry.
pub const MAX_INT_OCTETS: usize = 4;

/// Default bound on a decoded field list (name + value + 32 per field).
pub const DEFAULT_MAX_LIST_SIZE: usize = 1024 * 1024;

/// The static table (RFC 7541 Appendix A); index 1 is the first entry.
pub const STATIC_TABLE: [(&str, &str); 61] = [
    (":authority", ""),
    (":method", "GET"),
    (":method", "POST"),
    (":path", "/"),
    (":path", "/index.html"),
    (":scheme", "http"),
    (":scheme", "https"),
    (":status", "200"),
    (":status", "204"),
    (":status", "206"),
    (":status", "304"),
    (":status", "400"),
    (":status", "404"),
    (":status", "500"),
    ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"),
    ("accept-language", ""),
    ("accept-ranges", ""),
    ("accept", ""),
    ("access-control-allow-origin", ""),
    ("age", ""),
    ("allow", ""),
    ("authorization", ""),
    ("cache-control", ""),
    ("content-disposition", ""),
    ("content-encoding", ""),
    ("content-language", ""),
    ("content-length", ""),
    ("content-location", ""),
    ("content-range", ""),
    ("content-type", ""),
    ("cookie", ""),
    ("date", ""),
    ("etag", ""),
    ("expect", ""),
    ("expires", ""),
    ("from", ""),
    ("host", ""),
    ("if-match", ""),
    ("if-modified-since", ""),
    ("if-none-match", ""),
    ("if-range", ""),
    ("if-unmodified-since", ""),
    ("last-modified", ""),
    ("link", ""),
    ("location", ""),
    ("max-forwards", ""),
    ("proxy-authenticate", ""),
    ("proxy-authorization", ""),
    ("range", ""),
    ("referer", ""),
    ("refresh", ""),
    ("retry-after", ""),
    ("server", ""),
    ("set-cookie", ""),
    ("strict-transport-security", ""),
    ("transfer-encoding", ""),
    ("user-agent", ""),
    ("vary", ""),
    ("via", ""),
    ("www-authenticate", ""),
];

/// How a field was represented (RFC 7541 §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Representation {
    /// Indexed field (§6.1), with its index.
    Indexed(u32),
    /// Literal with incremental indexing (§6.2.1).
    Incremental,
    /// Literal without indexing (§6.2.2).
    WithoutIndexing,
    /// Literal never indexed (§6.2.3).
    NeverIndexed,
}

/// One decoded field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// Name octets as decoded (not lowercased or validated).
    pub name: Vec<u8>,
    /// Value octets.
    pub value: Vec<u8>,
    /// How it was encoded.
    pub repr: Representation,
}

impl Field {
    /// The name as text (lossy).
    pub fn name_str(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }

    /// The value as text (lossy).
    pub fn value_str(&self) -> String {
        String::from_utf8_lossy(&self.value).into_owned()
    }
}

/// A field block that cannot be decoded (RFC 7541 §2.3.3, §4.2, §5; COMPRESSION_ERROR in
/// HTTP/2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HpackError {
    /// The block ends inside a representation.
    #[error("field block ends inside a representation")]
    Truncated,
    /// A prefix integer longer than [`MAX_INT_OCTETS`] continuation octets.
    #[error("integer representation longer than {MAX_INT_OCTETS} continuation octets")]
    IntegerTooLong,
    /// Index 0 (RFC 7541 §6.1).
    #[error("index 0 is not a valid table index")]
    IndexZero,
    /// Index past the static and dynamic tables.
    #[error("index {index} is beyond the tables (last valid index {last})")]
    IndexOutOfRange {
        /// Index sent.
        index: u32,
        /// Largest valid index at that point.
        last: u32,
    },
    /// A dynamic table size update above the limit set by the decoder's side.
    #[error("dynamic table size update to {size} exceeds the limit {limit}")]
    SizeUpdateTooLarge {
        /// Size asked for.
        size: usize,
        /// The limit (SETTINGS_HEADER_TABLE_SIZE).
        limit: usize,
    },
    /// A dynamic table size update after the first field of the block (RFC 7541 §4.2).
    #[error("dynamic table size update after a field representation")]
    SizeUpdateNotAtStart,
    /// A string that cannot be Huffman-decoded.
    #[error("{0}")]
    Huffman(#[from] HuffmanError),
    /// The decoded field list passes the decoder's bound.
    #[error("decoded field list exceeds {limit} octets")]
    ListTooLarge {
        /// The bound.
        limit: usize,
    },
}

impl HpackError {
    /// The RFC 7541 section of the rule.
    pub fn section(&self) -> &'static str {
        match self {
            HpackError::Truncated | HpackError::IntegerTooLong => "RFC 7541 §5.1",
            HpackError::IndexZero | HpackError::IndexOutOfRange { .. } => "RFC 7541 §2.3.3",
            HpackError::SizeUpdateTooLarge { .. } | HpackError::SizeUpdateNotAtStart => {
                "RFC 7541 §4.2"
            }
            HpackError::Huffman(_) => "RFC 7541 §5.2",
            HpackError::ListTooLarge { .. } => "RFC 9113 §6.5.2",
        }
    }
}

/// A dynamic table (RFC 7541 §2.3.2, §4): newest entry first.
#[derive(Clone, Debug, Default)]
struct DynamicTable {
    entries: VecDeque<(Vec<u8>, Vec<u8>)>,
    size: usize,
    max_size: usize,
}

impl DynamicTable {
    fn new(max_size: usize) -> DynamicTable {
        DynamicTable {
            entries: VecDeque::new(),
            size: 0,
            max_size,
        }
    }

    fn evict_to(&mut self, limit: usize) {
        while self.size > limit {
            match self.entries.pop_back() {
                Some((n, v)) => self.size -= n.len() + v.len() + ENTRY_OVERHEAD,
                None => break,
            }
        }
    }

    fn set_max(&mut self, max: usize) {
        self.max_size = max;
        self.evict_to(max);
    }

    fn insert(&mut self, name: Vec<u8>, value: Vec<u8>) {
        let size = name.len() + value.len() + ENTRY_OVERHEAD;
        if size > self.max_size {
            // RFC 7541 §4.4: an entry larger than the table empties it and is not added.
            self.entries.clear();
            self.size = 0;
            return;
        }
        self.evict_to(self.max_size - size);
        self.size += size;
        self.entries.push_front((name, value));
    }

    fn get(&self, index: u32) -> Result<(&[u8], &[u8]), HpackError> {
        let last = (STATIC_TABLE.len() + self.entries.len()) as u32;
        match index {
            0 => Err(HpackError::IndexZero),
            i if (i as usize) <= STATIC_TABLE.len() => {
                let (n, v) = STATIC_TABLE[i as usize - 1];
                Ok((n.as_bytes(), v.as_bytes()))
            }
            i => self
                .entries
                .get(i as usize - STATIC_TABLE.len() - 1)
                .map(|(n, v)| (n.as_slice(), v.as_slice()))
                .ok_or(HpackError::IndexOutOfRange { index: i, last }),
        }
    }
}

/// Reads a prefix integer (RFC 7541 §5.1) with an `n`-bit prefix from `buf[*pos..]`.
fn read_int(buf: &[u8], pos: &mut usize, n: u8) -> Result<usize, HpackError> {
    let first = *buf.get(*pos).ok_or(HpackError::Truncated)?;
    *pos += 1;
    let max_prefix = (1usize << n) - 1;
    let mut value = first as usize & max_prefix;
    if value < max_prefix {
        return Ok(value);
    }
    for i in 0..=MAX_INT_OCTETS {
        let b = *buf.get(*pos).ok_or(HpackError::Truncated)?;
        *pos += 1;
        if i == MAX_INT_OCTETS {
            return Err(HpackError::IntegerTooLong);
        }
        value += ((b & 0x7f) as usize) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(HpackError::IntegerTooLong)
}

/// Reads a string literal (RFC 7541 §5.2); its length is checked against what is left of the
/// block before anything is copied.
fn read_string(buf: &[u8], pos: &mut usize) -> Result<Vec<u8>, HpackError> {
    let huff = *buf.get(*pos).ok_or(HpackError::Truncated)? & 0x80 != 0;
    let len = read_int(buf, pos, 7)?;
    if len > buf.len() - *pos {
        return Err(HpackError::Truncated);
    }
    let raw = &buf[*pos..*pos + len];
    *pos += len;
    if huff {
        let mut out = Vec::with_capacity(len * 8 / 5 + 1);
        huffman::decode(raw, &mut out)?;
        Ok(out)
    } else {
        Ok(raw.to_vec())
    }
}

/// One HPACK decoding context (RFC 7541 §2.2).
#[derive(Clone, Debug)]
pub struct Decoder {
    table: DynamicTable,
    /// The most a size update may ask for: the decoder side's SETTINGS_HEADER_TABLE_SIZE.
    limit: usize,
    /// Bound on the decoded size of one field list.
    pub max_list_size: usize,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(DEFAULT_TABLE_SIZE)
    }
}

impl Decoder {
    /// A context whose table may grow to `limit` octets (and starts at that size).
    pub fn new(limit: usize) -> Decoder {
        Decoder {
            table: DynamicTable::new(limit),
            limit,
            max_list_size: DEFAULT_MAX_LIST_SIZE,
        }
    }

    /// Applies a new SETTINGS_HEADER_TABLE_SIZE sent by the decoding side (once acknowledged):
    /// the bound for size updates. A smaller bound also shrinks the table at once.
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
        if self.table.max_size > limit {
            self.table.set_max(limit);
        }
    }

    /// Current maximum size of the dynamic table.
    pub fn max_table_size(&self) -> usize {
        self.table.max_size
    }

    /// Current size of the dynamic table (RFC 7541 §4.1).
    pub fn table_size(&self) -> usize {
        self.table.size
    }

    /// The dynamic table's entries, newest first.
    pub fn entries(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.table
            .entries
            .iter()
            .map(|(n, v)| (n.as_slice(), v.as_slice()))
    }

    /// Decodes one complete field block.
    pub fn decode(&mut self, block: &[u8]) -> Result<Vec<Field>, HpackError> {
        let mut fields = Vec::new();
        let mut pos = 0;
        let mut list_size = 0usize;
        while pos < block.len() {
            let b = block[pos];
            let field = if b & 0x80 != 0 {
                let index = read_int(block, &mut pos, 7)?;
                let index = u32::try_from(index).unwrap_or(u32::MAX);
                let (n, v) = self.table.get(index)?;
                Field {
                    name: n.to_vec(),
                    value: v.to_vec(),
                    repr: Representation::Indexed(index),
                }
            } else if b & 0xe0 == 0x20 {
                if !fields.is_empty() {
                    return Err(HpackError::SizeUpdateNotAtStart);
                }
                let size = read_int(block, &mut pos, 5)?;
                if size > self.limit {
                    return Err(HpackError::SizeUpdateTooLarge {
                        size,
                        limit: self.limit,
                    });
                }
                self.table.set_max(size);
                continue;
            } else {
                let (prefix, repr) = if b & 0x40 != 0 {
                    (6, Representation::Incremental)
                } else if b & 0x10 != 0 {
                    (4, Representation::NeverIndexed)
                } else {
                    (4, Representation::WithoutIndexing)
                };
                let index = read_int(block, &mut pos, prefix)?;
                let name = if index == 0 {
                    read_string(block, &mut pos)?
                } else {
                    let index = u32::try_from(index).unwrap_or(u32::MAX);
                    self.table.get(index)?.0.to_vec()
                };
                let value = read_string(block, &mut pos)?;
                if repr == Representation::Incremental {
                    self.table.insert(name.clone(), value.clone());
                }
                Field { name, value, repr }
            };
            list_size += field.name.len() + field.value.len() + ENTRY_OVERHEAD;
            if list_size > self.max_list_size {
                return Err(HpackError::ListTooLarge {
                    limit: self.max_list_size,
                });
            }
            fields.push(field);
        }
        Ok(fields)
    }
}

/// Appends a prefix integer (RFC 7541 §5.1): `value` in an `n`-bit prefix, the first octet's
/// other bits taken from `flags`.
pub fn encode_int(out: &mut Vec<u8>, value: usize, n: u8, flags: u8) {
    let max_prefix = (1usize << n) - 1;
    if value < max_prefix {
        out.push(flags | value as u8);
        return;
    }
    out.push(flags | max_prefix as u8);
    let mut rest = value - max_prefix;
    while rest >= 0x80 {
        out.push((rest as u8 & 0x7f) | 0x80);
        rest >>= 7;
    }
    out.push(rest as u8);
}

/// Appends a string literal, Huffman-coded if `huffman`.
pub fn encode_string(out: &mut Vec<u8>, s: &[u8], huffman: bool) {
    if huffman {
        encode_int(out, huffman::encoded_len(s), 7, 0x80);
        huffman::encode(s, out);
    } else {
        encode_int(out, s.len(), 7, 0);
        out.extend_from_slice(s);
    }
}

/// Appends a literal field without indexing and with a literal name (RFC 7541 §6.2.2), raw
/// strings: the octets go on the wire exactly as given.
pub fn encode_literal(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.push(0x00);
    encode_string(out, name, false);
    encode_string(out, value, false);
}

/// A field block of literal-without-indexing representations, one per field, in order.
pub fn encode_literals<N: AsRef<[u8]>, V: AsRef<[u8]>>(fields: &[(N, V)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (n, v) in fields {
        encode_literal(&mut out, n.as_ref(), v.as_ref());
    }
    out
}

/// An indexing encoder: exact static or dynamic matches become indexed fields, everything else
/// a literal with incremental indexing (name indexed when known), strings Huffman-coded when
/// `huffman` is set. Its table mirrors the peer decoder's, so the two must see the same blocks.
#[derive(Clone, Debug)]
pub struct Encoder {
    table: DynamicTable,
    /// Huffman-code string literals.
    pub huffman: bool,
    pending_update: Option<usize>,
}

impl Encoder {
    /// An encoder whose table holds at most `max_size` octets (the peer's
    /// SETTINGS_HEADER_TABLE_SIZE).
    pub fn new(max_size: usize, huffman: bool) -> Encoder {
        Encoder {
            table: DynamicTable::new(max_size),
            huffman,
            pending_update: None,
        }
    }

    /// Changes the table size; the next block starts with a size update (RFC 7541 §6.3).
    pub fn set_max_table_size(&mut self, size: usize) {
        self.table.set_max(size);
        self.pending_update = Some(size);
    }

    fn find(&self, name: &[u8], value: &[u8]) -> (Option<usize>, Option<usize>) {
        let mut name_idx = None;
        let statics = STATIC_TABLE
            .iter()
            .map(|(n, v)| (n.as_bytes(), v.as_bytes()));
        let dynamic = self
            .table
            .entries
            .iter()
            .map(|(n, v)| (n.as_slice(), v.as_slice()));
        for (i, (n, v)) in statics.chain(dynamic).enumerate() {
            if n == name {
                if v == value {
                    return (Some(i + 1), Some(i + 1));
                }
                name_idx.get_or_insert(i + 1);
            }
        }
        (None, name_idx)
    }

    /// Encodes one field block.
    pub fn encode<N: AsRef<[u8]>, V: AsRef<[u8]>>(&mut self, fields: &[(N, V)]) -> Vec<u8> {
        let mut out = Vec::new();
        if let Some(size) = self.pending_update.take() {
            encode_int(&mut out, size, 5, 0x20);
        }
        for (n, v) in fields {
            let (n, v) = (n.as_ref(), v.as_ref());
            match self.find(n, v) {
                (Some(i), _) => encode_int(&mut out, i, 7, 0x80),
                (None, name_idx) => {
                    encode_int(&mut out, name_idx.unwrap_or(0), 6, 0x40);
                    if name_idx.is_none() {
                        encode_string(&mut out, n, self.huffman);
                    }
                    encode_string(&mut out, v, self.huffman);
                    self.table.insert(n.to_vec(), v.to_vec());
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn pairs(fields: &[Field]) -> Vec<(String, String)> {
        fields
            .iter()
            .map(|f| (f.name_str(), f.value_str()))
            .collect()
    }

    fn owned(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    fn table(d: &Decoder) -> Vec<(String, String)> {
        d.entries()
            .map(|(n, v)| {
                (
                    String::from_utf8_lossy(n).into_owned(),
                    String::from_utf8_lossy(v).into_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn rfc7541_c1_integers() {
        let mut out = Vec::new();
        encode_int(&mut out, 10, 5, 0);
        assert_eq!(out, [0x0a]);
        out.clear();
        encode_int(&mut out, 1337, 5, 0);
        assert_eq!(out, [0x1f, 0x9a, 0x0a]);
        out.clear();
        encode_int(&mut out, 42, 8, 0);
        assert_eq!(out, [0x2a]);
        let mut pos = 0;
        assert_eq!(read_int(&[0x1f, 0x9a, 0x0a], &mut pos, 5), Ok(1337));
        assert_eq!(pos, 3);
    }

    #[test]
    fn rfc7541_c2_single_fields() {
        let mut d = Decoder::default();
        let f = d
            .decode(&hex(
                "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
            ))
            .unwrap();
        assert_eq!(pairs(&f), owned(&[("custom-key", "custom-header")]));
        assert_eq!(f[0].repr, Representation::Incremental);
        assert_eq!(d.table_size(), 55);

        let mut d = Decoder::default();
        let f = d
            .decode(&hex("040c 2f73 616d 706c 652f 7061 7468"))
            .unwrap();
        assert_eq!(pairs(&f), owned(&[(":path", "/sample/path")]));
        assert_eq!(f[0].repr, Representation::WithoutIndexing);
        assert_eq!(d.table_size(), 0);

        let f = d
            .decode(&hex("1008 7061 7373 776f 7264 0673 6563 7265 74"))
            .unwrap();
        assert_eq!(pairs(&f), owned(&[("password", "secret")]));
        assert_eq!(f[0].repr, Representation::NeverIndexed);
        assert_eq!(d.table_size(), 0);

        let f = d.decode(&[0x82]).unwrap();
        assert_eq!(pairs(&f), owned(&[(":method", "GET")]));
        assert_eq!(f[0].repr, Representation::Indexed(2));
    }

    const REQ1: &[(&str, &str)] = &[
        (":method", "GET"),
        (":scheme", "http"),
        (":path", "/"),
        (":authority", "www.example.com"),
    ];
    const REQ2: &[(&str, &str)] = &[
        (":method", "GET"),
        (":scheme", "http"),
        (":path", "/"),
        (":authority", "www.example.com"),
        ("cache-control", "no-cache"),
    ];
    const REQ3: &[(&str, &str)] = &[
        (":method", "GET"),
        (":scheme", "https"),
        (":path", "/index.html"),
        (":authority", "www.example.com"),
        ("custom-key", "custom-value"),
    ];

    fn requests(blocks: [&str; 3]) {
        let mut d = Decoder::default();
        let f = d.decode(&hex(blocks[0])).unwrap();
        assert_eq!(pairs(&f), owned(REQ1));
        assert_eq!(d.table_size(), 57);
        let f = d.decode(&hex(blocks[1])).unwrap();
        assert_eq!(pairs(&f), owned(REQ2));
        assert_eq!(d.table_size(), 110);
        let f = d.decode(&hex(blocks[2])).unwrap();
        assert_eq!(pairs(&f), owned(REQ3));
        assert_eq!(d.table_size(), 164);
        assert_eq!(
            table(&d),
            owned(&[
                ("custom-key", "custom-value"),
                ("cache-control", "no-cache"),
                (":authority", "www.example.com"),
            ])
        );
    }

    #[test]
    fn rfc7541_c3_requests_without_huffman() {
        requests([
            "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
            "8286 84be 5808 6e6f 2d63 6163 6865",
            "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
        ]);
    }

    const C4: [&str; 3] = [
        "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
        "8286 84be 5886 a8eb 1064 9cbf",
        "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
    ];

    #[test]
    fn rfc7541_c4_requests_with_huffman() {
        requests(C4);
    }

    const RESP1: &[(&str, &str)] = &[
        (":status", "302"),
        ("cache-control", "private"),
        ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
        ("location", "https://www.example.com"),
    ];
    const RESP2: &[(&str, &str)] = &[
        (":status", "307"),
        ("cache-control", "private"),
        ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
        ("location", "https://www.example.com"),
    ];
    const RESP3: &[(&str, &str)] = &[
        (":status", "200"),
        ("cache-control", "private"),
        ("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
        ("location", "https://www.example.com"),
        ("content-encoding", "gzip"),
        (
            "set-cookie",
            "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
        ),
    ];

    fn responses(blocks: [&str; 3]) {
        let mut d = Decoder::new(256);
        let f = d.decode(&hex(blocks[0])).unwrap();
        assert_eq!(pairs(&f), owned(RESP1));
        assert_eq!(d.table_size(), 222);
        let f = d.decode(&hex(blocks[1])).unwrap();
        assert_eq!(pairs(&f), owned(RESP2));
        assert_eq!(d.table_size(), 222);
        assert_eq!(table(&d)[0], (":status".into(), "307".into()));
        let f = d.decode(&hex(blocks[2])).unwrap();
        assert_eq!(pairs(&f), owned(RESP3));
        assert_eq!(d.table_size(), 215);
        assert_eq!(
            table(&d),
            owned(&[
                (
                    "set-cookie",
                    "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"
                ),
                ("content-encoding", "gzip"),
                ("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
            ])
        );
    }

    #[test]
    fn rfc7541_c5_responses_without_huffman_evict() {
        responses([
            "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 \
             2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 \
             6c65 2e63 6f6d",
            "4803 3330 37c1 c0bf",
            "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d \
             54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 \
             5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e \
             3d31",
        ]);
    }

    #[test]
    fn rfc7541_c6_responses_with_huffman_evict() {
        responses([
            "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 \
             2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
            "4883 640e ffc1 c0bf",
            "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab \
             77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f \
             9587 3160 65c0 03ed 4ee5 b106 3d50 07",
        ]);
    }

    #[test]
    fn encoder_with_huffman_reproduces_c4() {
        let mut e = Encoder::new(DEFAULT_TABLE_SIZE, true);
        for (block, fields) in C4.iter().zip([REQ1, REQ2, REQ3]) {
            assert_eq!(e.encode(fields), hex(block));
        }
    }

    #[test]
    fn literal_encoder_sends_any_bytes() {
        let fields = [
            (":path", "/"),
            ("Sec-WebSocket-Version", "13"),
            (":path", "/again"),
            ("x", ""),
        ];
        let block = encode_literals(&fields);
        let decoded = Decoder::default().decode(&block).unwrap();
        assert_eq!(pairs(&decoded), owned(&fields));
        assert!(
            decoded
                .iter()
                .all(|f| f.repr == Representation::WithoutIndexing)
        );
    }

    #[test]
    fn rfc7541_4_2_size_updates() {
        let mut d = Decoder::default();
        d.decode(&hex(
            "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
        ))
        .unwrap();
        // Size update to 0 empties the table, then back to 4096.
        assert!(d.decode(&[0x20, 0x3f, 0xe1, 0x1f, 0x82]).is_ok());
        assert_eq!(d.table_size(), 0);
        assert_eq!(d.max_table_size(), 4096);
        // Above the limit.
        let mut buf = Vec::new();
        encode_int(&mut buf, 4097, 5, 0x20);
        assert_eq!(
            d.decode(&buf),
            Err(HpackError::SizeUpdateTooLarge {
                size: 4097,
                limit: 4096
            })
        );
        // After a field.
        assert_eq!(
            d.decode(&[0x82, 0x20]),
            Err(HpackError::SizeUpdateNotAtStart)
        );
        // A lower limit from SETTINGS shrinks the table.
        d.set_limit(100);
        assert_eq!(d.max_table_size(), 100);
    }

    #[test]
    fn rfc7541_4_4_entry_larger_than_table_empties_it() {
        let mut d = Decoder::new(60);
        d.decode(&hex(
            "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
        ))
        .unwrap();
        assert_eq!(d.table_size(), 55);
        let mut block = vec![0x40];
        encode_string(&mut block, b"long-name", false);
        encode_string(&mut block, &[b'v'; 40], false);
        let f = d.decode(&block).unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!(d.table_size(), 0);
    }

    #[test]
    fn malformed_blocks_are_errors() {
        let mut d = Decoder::default();
        assert_eq!(d.decode(&[0x80]), Err(HpackError::IndexZero));
        assert_eq!(
            d.decode(&[0xbe]),
            Err(HpackError::IndexOutOfRange {
                index: 62,
                last: 61
            })
        );
        assert_eq!(d.decode(&[0x40, 0x05, b'a']), Err(HpackError::Truncated));
        assert_eq!(d.decode(&[0x7f]), Err(HpackError::Truncated));
        assert_eq!(
            d.decode(&[0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
            Err(HpackError::IntegerTooLong)
        );
        // Huffman string with a zero padding bit: "a" = 00011 then 110.
        assert_eq!(
            d.decode(&[0x00, 0x81, 0x1e, 0x00]),
            Err(HpackError::Huffman(HuffmanError::PaddingNotOnes))
        );
        // A string length far beyond the block is refused before allocation.
        assert_eq!(
            d.decode(&[0x00, 0x7f, 0xff, 0xff, 0xff, 0x0f]),
            Err(HpackError::Truncated)
        );
        for e in [HpackError::IndexZero, HpackError::Truncated] {
            assert!(e.section().starts_with("RFC 7541"));
        }
    }

    #[test]
    fn decoded_list_is_bounded() {
        let mut d = Decoder::default();
        let mut block = vec![0x40];
        encode_string(&mut block, b"k", false);
        encode_string(&mut block, &[b'v'; 3000], false);
        d.decode(&block).unwrap();
        d.max_list_size = 10_000;
        // Index 62 (3,033 octets) repeated four times passes 10,000.
        assert_eq!(
            d.decode(&[0xbe; 4]),
            Err(HpackError::ListTooLarge { limit: 10_000 })
        );
        assert_eq!(d.decode(&[0xbe; 3]).unwrap().len(), 3);
    }
}
