//! TLS record and hello parsing (RFC 8446 §4.1.2, §4.1.3, §5.1; RFC 5246 §6.2, §7.4.1): record
//! headers, and the ClientHello and ServerHello fields `inspect` reports. Every length read
//! from the capture is checked against the bytes present; nothing is allocated from one.

/// Record content types.
pub const CHANGE_CIPHER_SPEC: u8 = 20;
/// Alert.
pub const ALERT: u8 = 21;
/// Handshake.
pub const HANDSHAKE: u8 = 22;
/// Application data.
pub const APPLICATION_DATA: u8 = 23;

/// Largest record fragment accepted: 2^14 plus the 2048 bytes of expansion TLS 1.2 allows
/// (TLS 1.3 allows 256).
pub const MAX_FRAGMENT: usize = (1 << 14) + 2048;

/// Handshake message types used here.
pub const CLIENT_HELLO: u8 = 1;
/// ServerHello (and HelloRetryRequest).
pub const SERVER_HELLO: u8 = 2;
/// Finished.
pub const FINISHED: u8 = 20;
/// KeyUpdate (TLS 1.3).
pub const KEY_UPDATE: u8 = 24;

/// The ServerHello random that marks a HelloRetryRequest (RFC 8446 §4.1.3).
const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// Whether a stream's first bytes are a TLS handshake record carrying a ClientHello (content
/// type 22, version 3.x, handshake type 1), or for the server's stream a ServerHello.
pub fn looks_like_hello(first: &[u8], client: bool) -> bool {
    let want = if client { CLIENT_HELLO } else { SERVER_HELLO };
    first.len() >= 6
        && first[0] == HANDSHAKE
        && first[1] == 3
        && first[2] <= 4
        && u16::from_be_bytes([first[3], first[4]]) >= 4
        && first[5] == want
}

/// A record header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Content type.
    pub content_type: u8,
    /// Legacy record version.
    pub version: u16,
    /// Fragment length.
    pub len: usize,
}

/// Parses a 5-byte record header; `Err` when it is not one (unknown type, version or an
/// oversized length).
pub fn header(b: &[u8; 5]) -> Result<Header, String> {
    let h = Header {
        content_type: b[0],
        version: u16::from_be_bytes([b[1], b[2]]),
        len: usize::from(u16::from_be_bytes([b[3], b[4]])),
    };
    if !(CHANGE_CIPHER_SPEC..=APPLICATION_DATA).contains(&h.content_type) {
        return Err(format!(
            "record content type {} is not a tls one",
            h.content_type
        ));
    }
    if b[1] != 3 {
        return Err(format!("record version 0x{:04x} is not tls", h.version));
    }
    if h.len > MAX_FRAGMENT {
        return Err(format!(
            "record length {} is above the {MAX_FRAGMENT} tls allows",
            h.len
        ));
    }
    Ok(h)
}

/// A bounds-checked reader over a hello's bytes.
struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if n > self.b.len() {
            return Err(format!("a field of {n} bytes runs past the message"));
        }
        let (head, rest) = self.b.split_at(n);
        self.b = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, String> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn vec8(&mut self) -> Result<&'a [u8], String> {
        let n = usize::from(self.u8()?);
        self.take(n)
    }

    fn vec16(&mut self) -> Result<&'a [u8], String> {
        let n = usize::from(self.u16()?);
        self.take(n)
    }

    fn random(&mut self) -> Result<[u8; 32], String> {
        let mut r = [0u8; 32];
        r.copy_from_slice(self.take(32)?);
        Ok(r)
    }
}

/// What `inspect` reports of a ClientHello.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientHello {
    /// legacy_version.
    pub legacy_version: u16,
    /// The random the key log is keyed by.
    pub random: [u8; 32],
    /// server_name (host_name), if sent.
    pub sni: Option<String>,
    /// ALPN protocols offered.
    pub alpn: Vec<String>,
    /// supported_versions offered.
    pub versions: Vec<u16>,
    /// Cipher suites offered.
    pub suites: Vec<u16>,
    /// early_data offered (0-RTT).
    pub early_data: bool,
}

/// What `inspect` reports of a ServerHello.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerHello {
    /// The server's random.
    pub random: [u8; 32],
    /// The chosen cipher suite.
    pub suite: u16,
    /// The negotiated version: supported_versions when present (TLS 1.3), else legacy_version.
    pub version: u16,
    /// A HelloRetryRequest, not a ServerHello.
    pub retry: bool,
}

fn alpn_list(data: &[u8]) -> Result<Vec<String>, String> {
    let mut r = Reader { b: data };
    let mut list = Reader { b: r.vec16()? };
    let mut out = Vec::new();
    while !list.b.is_empty() {
        out.push(String::from_utf8_lossy(list.vec8()?).into_owned());
    }
    Ok(out)
}

/// Parses a ClientHello body (after the 4-byte handshake header).
pub fn client_hello(body: &[u8]) -> Result<ClientHello, String> {
    let mut r = Reader { b: body };
    let mut h = ClientHello {
        legacy_version: r.u16()?,
        random: r.random()?,
        ..ClientHello::default()
    };
    r.vec8()?; // legacy_session_id
    let mut suites = Reader { b: r.vec16()? };
    while suites.b.len() >= 2 {
        h.suites.push(suites.u16()?);
    }
    r.vec8()?; // compression methods
    if r.b.is_empty() {
        return Ok(h);
    }
    let mut exts = Reader { b: r.vec16()? };
    while !exts.b.is_empty() {
        let kind = exts.u16()?;
        let data = exts.vec16()?;
        match kind {
            0 => {
                let mut list = Reader { b: data };
                let mut names = Reader { b: list.vec16()? };
                while !names.b.is_empty() {
                    let name_type = names.u8()?;
                    let name = names.vec16()?;
                    if name_type == 0 && h.sni.is_none() {
                        h.sni = Some(String::from_utf8_lossy(name).into_owned());
                    }
                }
            }
            16 => h.alpn = alpn_list(data)?,
            42 => h.early_data = true,
            43 => {
                let mut v = Reader { b: data };
                let mut list = Reader { b: v.vec8()? };
                while list.b.len() >= 2 {
                    h.versions.push(list.u16()?);
                }
            }
            _ => {}
        }
    }
    Ok(h)
}

/// Parses a ServerHello body (after the 4-byte handshake header); also returns the ALPN the
/// server chose when it is in the ServerHello (TLS 1.2; TLS 1.3 sends it encrypted).
pub fn server_hello(body: &[u8]) -> Result<(ServerHello, Option<String>), String> {
    let mut r = Reader { b: body };
    let legacy = r.u16()?;
    let random = r.random()?;
    r.vec8()?; // legacy_session_id_echo
    let mut h = ServerHello {
        random,
        suite: r.u16()?,
        version: legacy,
        retry: random == HRR_RANDOM,
    };
    r.u8()?; // compression
    let mut alpn = None;
    if !r.b.is_empty() {
        let mut exts = Reader { b: r.vec16()? };
        while !exts.b.is_empty() {
            let kind = exts.u16()?;
            let data = exts.vec16()?;
            match kind {
                43 if data.len() == 2 => h.version = u16::from_be_bytes([data[0], data[1]]),
                16 => alpn = alpn_list(data)?.into_iter().next(),
                _ => {}
            }
        }
    }
    Ok((h, alpn))
}

/// The ALPN protocol of an EncryptedExtensions body (TLS 1.3), if any.
pub fn encrypted_extensions_alpn(body: &[u8]) -> Result<Option<String>, String> {
    let mut r = Reader { b: body };
    let mut exts = Reader { b: r.vec16()? };
    while !exts.b.is_empty() {
        let kind = exts.u16()?;
        let data = exts.vec16()?;
        if kind == 16 {
            return Ok(alpn_list(data)?.into_iter().next());
        }
    }
    Ok(None)
}

/// A version's name.
pub fn version_name(v: u16) -> String {
    match v {
        0x0300 => "SSL 3.0".into(),
        0x0301 => "TLS 1.0".into(),
        0x0302 => "TLS 1.1".into(),
        0x0303 => "TLS 1.2".into(),
        0x0304 => "TLS 1.3".into(),
        _ => format!("0x{v:04x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ClientHello body with SNI, ALPN and supported_versions.
    pub(crate) fn client_hello_body(random: [u8; 32], sni: &str) -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend_from_slice(&random);
        b.push(0);
        b.extend_from_slice(&[0, 4, 0x13, 0x01, 0xc0, 0x2f]);
        b.extend_from_slice(&[1, 0]);
        let mut exts = Vec::new();
        let name = sni.as_bytes();
        let mut sni_ext = Vec::new();
        sni_ext.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
        sni_ext.push(0);
        sni_ext.extend_from_slice(&(name.len() as u16).to_be_bytes());
        sni_ext.extend_from_slice(name);
        exts.extend_from_slice(&[0, 0]);
        exts.extend_from_slice(&(sni_ext.len() as u16).to_be_bytes());
        exts.extend_from_slice(&sni_ext);
        exts.extend_from_slice(&[0, 16, 0, 11, 0, 9, 8]);
        exts.extend_from_slice(b"http/1.1");
        exts.extend_from_slice(&[0, 43, 0, 5, 4, 3, 4, 3, 3]);
        b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        b.extend_from_slice(&exts);
        b
    }

    #[test]
    fn client_hello_fields() {
        let h = client_hello(&client_hello_body([9; 32], "example.test")).expect("parses");
        assert_eq!(h.sni.as_deref(), Some("example.test"));
        assert_eq!(h.alpn, vec!["http/1.1".to_string()]);
        assert_eq!(h.versions, vec![0x0304, 0x0303]);
        assert_eq!(h.suites, vec![0x1301, 0xc02f]);
        assert_eq!(h.random, [9; 32]);
    }

    #[test]
    fn every_cut_of_a_hello_is_an_error_not_a_panic() {
        let body = client_hello_body([1; 32], "a.test");
        for n in 0..body.len() {
            let _ = client_hello(&body[..n]);
            let _ = server_hello(&body[..n]);
        }
        let mut lying = body.clone();
        lying[35] = 0xff; // session id claims 255 bytes
        assert!(client_hello(&lying).is_err());
    }

    #[test]
    fn server_hello_version_from_supported_versions() {
        let mut b = vec![3, 3];
        b.extend_from_slice(&[5; 32]);
        b.push(0);
        b.extend_from_slice(&[0x13, 0x02, 0]);
        b.extend_from_slice(&[0, 6, 0, 43, 0, 2, 3, 4]);
        let (h, alpn) = server_hello(&b).expect("parses");
        assert_eq!(
            (h.version, h.suite, h.retry, alpn),
            (0x0304, 0x1302, false, None)
        );
    }

    #[test]
    fn detection() {
        assert!(looks_like_hello(&[22, 3, 1, 0, 200, 1], true));
        assert!(!looks_like_hello(&[22, 3, 1, 0, 200, 2], true));
        assert!(looks_like_hello(&[22, 3, 3, 0, 90, 2], false));
        assert!(!looks_like_hello(b"GET / HTTP/1.1", true));
        assert!(!looks_like_hello(&[22, 3], true));
    }
}
