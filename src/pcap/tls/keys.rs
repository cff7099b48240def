//! Key schedules and record protection: the TLS 1.3 HKDF-Expand-Label and traffic keys
//! (RFC 8446 §7.1, §7.3, §5.3), the TLS 1.2 PRF and key block (RFC 5246 §5, §6.3) and the
//! AEAD nonces of RFC 5288 (AES-GCM, explicit 8-byte nonce) and RFC 7905 (ChaCha20-Poly1305).
//! All cryptography is ring's.

use ring::{aead, hkdf, hmac};

/// The hash of a cipher suite's key schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hash {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
}

impl Hash {
    /// Output length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
        }
    }

    fn hkdf(self) -> hkdf::Algorithm {
        match self {
            Hash::Sha256 => hkdf::HKDF_SHA256,
            Hash::Sha384 => hkdf::HKDF_SHA384,
        }
    }

    fn hmac(self) -> hmac::Algorithm {
        match self {
            Hash::Sha256 => hmac::HMAC_SHA256,
            Hash::Sha384 => hmac::HMAC_SHA384,
        }
    }
}

/// The AEAD of a cipher suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aead {
    /// AES-128-GCM.
    Aes128Gcm,
    /// AES-256-GCM.
    Aes256Gcm,
    /// ChaCha20-Poly1305.
    ChaCha20Poly1305,
}

impl Aead {
    /// Key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Aead::Aes128Gcm => 16,
            Aead::Aes256Gcm | Aead::ChaCha20Poly1305 => 32,
        }
    }

    fn algorithm(self) -> &'static aead::Algorithm {
        match self {
            Aead::Aes128Gcm => &aead::AES_128_GCM,
            Aead::Aes256Gcm => &aead::AES_256_GCM,
            Aead::ChaCha20Poly1305 => &aead::CHACHA20_POLY1305,
        }
    }
}

/// Authentication tag length of every supported AEAD.
pub const TAG_LEN: usize = 16;

/// A cipher suite wsprobe can decrypt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Suite {
    /// IANA code.
    pub code: u16,
    /// The record protection.
    pub aead: Aead,
    /// The key schedule's hash (the PRF's in TLS 1.2).
    pub hash: Hash,
    /// A TLS 1.3 suite.
    pub tls13: bool,
}

/// The decryptable suite with this code, if it is one.
pub fn suite(code: u16) -> Option<Suite> {
    let (aead, hash, tls13) = match code {
        0x1301 => (Aead::Aes128Gcm, Hash::Sha256, true),
        0x1302 => (Aead::Aes256Gcm, Hash::Sha384, true),
        0x1303 => (Aead::ChaCha20Poly1305, Hash::Sha256, true),
        0xc02b | 0xc02f | 0x009c | 0x009e | 0x00a2 | 0x00a4 | 0x00a8 | 0x00aa | 0x00ac => {
            (Aead::Aes128Gcm, Hash::Sha256, false)
        }
        0xc02c | 0xc030 | 0x009d | 0x009f | 0x00a3 | 0x00a5 | 0x00a9 | 0x00ab | 0x00ad => {
            (Aead::Aes256Gcm, Hash::Sha384, false)
        }
        0xcca8..=0xccae => (Aead::ChaCha20Poly1305, Hash::Sha256, false),
        _ => return None,
    };
    Some(Suite {
        code,
        aead,
        hash,
        tls13,
    })
}

/// The IANA name of a cipher suite (the common ones), or its code in hex.
pub fn suite_name(code: u16) -> String {
    let name = match code {
        0x1301 => "TLS_AES_128_GCM_SHA256",
        0x1302 => "TLS_AES_256_GCM_SHA384",
        0x1303 => "TLS_CHACHA20_POLY1305_SHA256",
        0x1304 => "TLS_AES_128_CCM_SHA256",
        0x1305 => "TLS_AES_128_CCM_8_SHA256",
        0xc02b => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        0xc02c => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        0xc02f => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        0xc030 => "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        0x009c => "TLS_RSA_WITH_AES_128_GCM_SHA256",
        0x009d => "TLS_RSA_WITH_AES_256_GCM_SHA384",
        0x009e => "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
        0x009f => "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
        0xcca8 => "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        0xcca9 => "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        0xccaa => "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        0xc013 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        0xc014 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        0xc009 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        0xc00a => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        0xc027 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        0xc028 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
        0x002f => "TLS_RSA_WITH_AES_128_CBC_SHA",
        0x0035 => "TLS_RSA_WITH_AES_256_CBC_SHA",
        0x003c => "TLS_RSA_WITH_AES_128_CBC_SHA256",
        0x003d => "TLS_RSA_WITH_AES_256_CBC_SHA256",
        _ => return format!("0x{code:04x}"),
    };
    name.to_string()
}

/// An output length for ring's HKDF.
struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-Expand-Label(secret, label, context, len) of RFC 8446 §7.1; `None` when `len` is beyond
/// what HKDF can give (255 hash lengths; never for the lengths used here).
pub fn expand_label(
    hash: Hash,
    secret: &[u8],
    label: &[u8],
    context: &[u8],
    len: usize,
) -> Option<Vec<u8>> {
    let prk = hkdf::Prk::new_less_safe(hash.hkdf(), secret);
    let out_len = u16::try_from(len).ok()?.to_be_bytes();
    let label_len = [u8::try_from(6 + label.len()).ok()?];
    let context_len = [u8::try_from(context.len()).ok()?];
    let info: [&[u8]; 6] = [
        &out_len,
        &label_len,
        b"tls13 ",
        label,
        &context_len,
        context,
    ];
    let okm = prk.expand(&info, Len(len)).ok()?;
    let mut out = vec![0u8; len];
    okm.fill(&mut out).ok()?;
    Some(out)
}

/// The next application traffic secret after a KeyUpdate (RFC 8446 §7.2).
pub fn next_secret(hash: Hash, secret: &[u8]) -> Option<Vec<u8>> {
    expand_label(hash, secret, b"traffic upd", b"", hash.output_len())
}

/// P_hash of RFC 5246 §5: `len` bytes of HMAC expansion of `secret` over `label || seed`.
pub fn prf(hash: Hash, secret: &[u8], label: &[u8], seed: &[u8], len: usize) -> Vec<u8> {
    let key = hmac::Key::new(hash.hmac(), secret);
    let mut label_seed = Vec::with_capacity(label.len() + seed.len());
    label_seed.extend_from_slice(label);
    label_seed.extend_from_slice(seed);
    let mut out = Vec::with_capacity(len + hash.output_len());
    let mut a = hmac::sign(&key, &label_seed);
    while out.len() < len {
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(a.as_ref());
        ctx.update(&label_seed);
        out.extend_from_slice(ctx.sign().as_ref());
        a = hmac::sign(&key, a.as_ref());
    }
    out.truncate(len);
    out
}

/// How a record's nonce and additional data are built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    /// TLS 1.3: nonce = iv XOR seq; AAD = the record header; inner content type at the end.
    Tls13,
    /// TLS 1.2 AES-GCM: nonce = 4-byte salt || 8-byte explicit nonce from the record.
    Tls12ExplicitNonce,
    /// TLS 1.2 ChaCha20-Poly1305: nonce = iv XOR seq, no explicit nonce.
    Tls12XorNonce,
}

/// One direction's record protection: key, IV and sequence number.
pub struct Protection {
    key: aead::LessSafeKey,
    iv: [u8; 12],
    framing: Framing,
    /// Sequence number of the next record.
    pub seq: u64,
}

/// A record decrypted: its content type and the plaintext range of the buffer it was opened in.
pub struct Opened {
    /// Content type (the inner one in TLS 1.3).
    pub content_type: u8,
    /// Plaintext length.
    pub len: usize,
    /// Start of the plaintext in the buffer.
    pub start: usize,
}

impl Protection {
    /// TLS 1.3 protection from a traffic secret (RFC 8446 §7.3).
    pub fn tls13(suite: Suite, secret: &[u8]) -> Option<Protection> {
        let key = expand_label(suite.hash, secret, b"key", b"", suite.aead.key_len())?;
        let iv = expand_label(suite.hash, secret, b"iv", b"", 12)?;
        Protection::new(suite.aead, &key, &iv, Framing::Tls13)
    }

    /// The two TLS 1.2 protections (client's, server's) from the master secret and the randoms
    /// (RFC 5246 §6.3; AEAD suites have no MAC keys).
    pub fn tls12(
        suite: Suite,
        master: &[u8],
        client_random: &[u8; 32],
        server_random: &[u8; 32],
    ) -> Option<(Protection, Protection)> {
        let key_len = suite.aead.key_len();
        let (iv_len, framing) = match suite.aead {
            Aead::ChaCha20Poly1305 => (12, Framing::Tls12XorNonce),
            Aead::Aes128Gcm | Aead::Aes256Gcm => (4, Framing::Tls12ExplicitNonce),
        };
        let mut seed = [0u8; 64];
        seed[..32].copy_from_slice(server_random);
        seed[32..].copy_from_slice(client_random);
        let block = prf(
            suite.hash,
            master,
            b"key expansion",
            &seed,
            2 * key_len + 2 * iv_len,
        );
        let (ck, rest) = block.split_at(key_len);
        let (sk, rest) = rest.split_at(key_len);
        let (civ, siv) = rest.split_at(iv_len);
        Some((
            Protection::new(suite.aead, ck, civ, framing)?,
            Protection::new(suite.aead, sk, siv, framing)?,
        ))
    }

    fn new(aead: Aead, key: &[u8], iv: &[u8], framing: Framing) -> Option<Protection> {
        let key = aead::LessSafeKey::new(aead::UnboundKey::new(aead.algorithm(), key).ok()?);
        let mut fixed = [0u8; 12];
        fixed.get_mut(..iv.len())?.copy_from_slice(iv);
        Some(Protection {
            key,
            iv: fixed,
            framing,
            seq: 0,
        })
    }

    fn xor_nonce(&self) -> [u8; 12] {
        let mut nonce = self.iv;
        for (n, s) in nonce[4..].iter_mut().zip(self.seq.to_be_bytes()) {
            *n ^= s;
        }
        nonce
    }

    /// Decrypts one record in place: `header` is its 5-byte header, `body` its fragment. On
    /// success the sequence number advances; `None` when authentication fails (wrong key,
    /// wrong order, damaged record).
    pub fn open(&mut self, header: &[u8; 5], body: &mut [u8]) -> Option<Opened> {
        let opened = match self.framing {
            Framing::Tls13 => {
                let nonce = aead::Nonce::assume_unique_for_key(self.xor_nonce());
                let plain = self
                    .key
                    .open_in_place(nonce, aead::Aad::from(*header), body)
                    .ok()?;
                // Content || type || zero padding (RFC 8446 §5.4).
                let end = plain.iter().rposition(|&b| b != 0)?;
                Opened {
                    content_type: plain[end],
                    len: end,
                    start: 0,
                }
            }
            Framing::Tls12ExplicitNonce | Framing::Tls12XorNonce => {
                let explicit = if self.framing == Framing::Tls12ExplicitNonce {
                    8
                } else {
                    0
                };
                let plain_len = body.len().checked_sub(explicit + TAG_LEN)?;
                let nonce = if explicit == 8 {
                    let mut n = [0u8; 12];
                    n[..4].copy_from_slice(&self.iv[..4]);
                    n[4..].copy_from_slice(&body[..8]);
                    n
                } else {
                    self.xor_nonce()
                };
                let mut aad = [0u8; 13];
                aad[..8].copy_from_slice(&self.seq.to_be_bytes());
                aad[8..11].copy_from_slice(&header[..3]);
                aad[11..].copy_from_slice(&(plain_len as u16).to_be_bytes());
                self.key
                    .open_in_place(
                        aead::Nonce::assume_unique_for_key(nonce),
                        aead::Aad::from(aad),
                        &mut body[explicit..],
                    )
                    .ok()?;
                Opened {
                    content_type: header[0],
                    len: plain_len,
                    start: explicit,
                }
            }
        };
        self.seq = self.seq.wrapping_add(1);
        Some(opened)
    }

    /// Encrypts a TLS 1.3 record (tests build records with it).
    #[cfg(test)]
    pub fn seal13(&mut self, content_type: u8, plain: &[u8]) -> Vec<u8> {
        let mut body = plain.to_vec();
        body.push(content_type);
        let len = (body.len() + TAG_LEN) as u16;
        let mut header = [23u8, 3, 3, 0, 0];
        header[3..].copy_from_slice(&len.to_be_bytes());
        let nonce = aead::Nonce::assume_unique_for_key(self.xor_nonce());
        self.key
            .seal_in_place_append_tag(nonce, aead::Aad::from(header), &mut body)
            .expect("sealing a short test record");
        self.seq += 1;
        let mut rec = header.to_vec();
        rec.extend_from_slice(&body);
        rec
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    /// RFC 8448 §3 (Simple 1-RTT Handshake): the server handshake traffic secret and the write
    /// key and IV derived from it.
    #[test]
    fn rfc8448_server_handshake_key_and_iv() {
        let secret = unhex(
            "b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38",
        );
        let key = expand_label(Hash::Sha256, &secret, b"key", b"", 16).expect("key");
        let iv = expand_label(Hash::Sha256, &secret, b"iv", b"", 12).expect("iv");
        assert_eq!(
            key,
            unhex("3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc")
        );
        assert_eq!(iv, unhex("5d 31 3e b2 67 12 76 ee 13 00 0b 30"));
    }

    /// The TLS 1.2 PRF (P_SHA256) test vector circulated on the IETF TLS list (secret
    /// 9bbe436b…, seed a0ba9f93…, label "test label", 100 bytes), checked against an
    /// independent HMAC implementation.
    #[test]
    fn tls12_prf_sha256_vector() {
        let out = prf(
            Hash::Sha256,
            &unhex("9b be 43 6b a9 40 f0 17 b1 76 52 84 9a 71 db 35"),
            b"test label",
            &unhex("a0 ba 9f 93 6c da 31 18 27 a6 f7 96 ff d5 19 8c"),
            100,
        );
        assert_eq!(
            out,
            unhex(
                "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9\
                 c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789ba\
                 a48082d122ee42c5a72e5a5110fff70187347b66"
            )
        );
    }

    #[test]
    fn tls13_record_round_trip_and_wrong_key() {
        let s = suite(0x1303).expect("chacha suite");
        let mut tx = Protection::tls13(s, &[7u8; 32]).expect("keys");
        let mut rx = Protection::tls13(s, &[7u8; 32]).expect("keys");
        let mut wrong = Protection::tls13(s, &[8u8; 32]).expect("keys");
        for text in [&b"first"[..], b"second record"] {
            let rec = tx.seal13(23, text);
            let header: [u8; 5] = rec[..5].try_into().expect("header");
            let mut body = rec[5..].to_vec();
            let mut copy = body.clone();
            assert!(wrong.open(&header, &mut copy).is_none());
            let o = rx.open(&header, &mut body).expect("opens");
            assert_eq!(o.content_type, 23);
            assert_eq!(&body[o.start..o.start + o.len], text);
        }
    }

    #[test]
    fn suites_known_and_unknown() {
        assert_eq!(suite(0xc02f).map(|s| s.aead), Some(Aead::Aes128Gcm));
        assert_eq!(suite(0xc030).map(|s| s.hash), Some(Hash::Sha384));
        assert!(suite(0xc013).is_none(), "CBC is not decrypted");
        assert_eq!(suite_name(0x1302), "TLS_AES_256_GCM_SHA384");
        assert_eq!(suite_name(0xfeed), "0xfeed");
    }
}
