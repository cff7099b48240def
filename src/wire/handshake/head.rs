//! HTTP/1.x message heads of the opening handshake (RFC 6455 §4.1, §4.2.1): push-style parsing
//! of a request or response head with httparse, bounded in size and header count.
//!
//! A parse answers complete, need-more ([`Parse::Partial`]) or error, and never looks past
//! `max_len` bytes, so a peer that streams an endless head costs a bounded amount of work.
//! Header names and values are kept as sent and in order; lookups are ASCII case-insensitive
//! on names, as RFC 6455 §4.1 and RFC 2616 §4.2 require. httparse runs with its default (strict)
//! configuration: obsolete line folding and other leniencies are refused as malformed.

/// Largest number of header fields a head may carry before it is called malformed.
pub const MAX_HEADERS: usize = 128;

/// A parsed HTTP response head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseHead {
    /// Minor version: 1 for HTTP/1.1, 0 for HTTP/1.0.
    pub version: u8,
    /// The status code, e.g. 101.
    pub status: u16,
    /// The reason phrase as sent; empty if it was missing or not ASCII.
    pub reason: String,
    /// Header fields in order, names as sent, values with surrounding whitespace removed.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Bytes consumed including the blank line.
    pub head_len: usize,
}

impl ResponseHead {
    /// All values of a header (case-insensitive name), in order.
    pub fn header_values(&self, name: &str) -> Vec<&[u8]> {
        values(&self.headers, name)
    }

    /// Single header value as str (first occurrence), lossy-free: None if absent or not UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        first_str(&self.headers, name)
    }
}

/// A parsed HTTP request head (server side and capture dissector).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestHead {
    /// The method as sent, e.g. `GET`.
    pub method: String,
    /// The request-target as sent, e.g. `/chat?x=1`.
    pub path: String,
    /// Minor version: 1 for HTTP/1.1, 0 for HTTP/1.0.
    pub version: u8,
    /// Header fields in order, names as sent, values with surrounding whitespace removed.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Bytes consumed including the blank line.
    pub head_len: usize,
}

impl RequestHead {
    /// All values of a header (case-insensitive name), in order.
    pub fn header_values(&self, name: &str) -> Vec<&[u8]> {
        values(&self.headers, name)
    }

    /// Single header value as str (first occurrence), lossy-free: None if absent or not UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        first_str(&self.headers, name)
    }
}

fn values<'a>(headers: &'a [(String, Vec<u8>)], name: &str) -> Vec<&'a [u8]> {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
        .collect()
}

fn first_str<'a>(headers: &'a [(String, Vec<u8>)], name: &str) -> Option<&'a str> {
    let (_, v) = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name))?;
    std::str::from_utf8(v).ok()
}

/// A header's values joined as one comma list (RFC 2616 §4.2 allows splitting a list across
/// fields), lossily decoded for display and token checks.
pub(super) fn joined(values: &[&[u8]]) -> String {
    values
        .iter()
        .map(|v| String::from_utf8_lossy(v))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Outcome of a head parse that did not fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parse<T> {
    /// A whole head was found at the start of the buffer.
    Complete(T),
    /// The buffer ends inside the head; feed more bytes and parse again.
    Partial,
}

/// Why a head could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    /// Not a valid HTTP/1.x head; the detail says what httparse objected to.
    #[error("malformed http head: {0}")]
    Malformed(String),
    /// The head did not end within the byte limit given.
    #[error("http head larger than {0} bytes")]
    TooLarge(usize),
}

fn malformed(e: httparse::Error) -> HeadError {
    let detail = match e {
        httparse::Error::TooManyHeaders => format!("more than {MAX_HEADERS} header fields"),
        other => other.to_string().to_ascii_lowercase(),
    };
    HeadError::Malformed(detail)
}

fn owned_headers(headers: &[httparse::Header<'_>]) -> Vec<(String, Vec<u8>)> {
    headers
        .iter()
        .map(|h| (h.name.to_string(), h.value.to_vec()))
        .collect()
}

/// Looks at no more than `max_len` bytes; a head still unfinished there is too large.
fn bounded(buf: &[u8], max_len: usize) -> &[u8] {
    &buf[..buf.len().min(max_len)]
}

fn partial_or_too_large<T>(buf: &[u8], max_len: usize) -> Result<Parse<T>, HeadError> {
    if buf.len() >= max_len {
        Err(HeadError::TooLarge(max_len))
    } else {
        Ok(Parse::Partial)
    }
}

/// Parses a response head from the start of buf; up to [`MAX_HEADERS`] headers and `max_len`
/// bytes (Partial beyond max_len becomes TooLarge). Bytes after the head are not looked at.
pub fn parse_response(buf: &[u8], max_len: usize) -> Result<Parse<ResponseHead>, HeadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(bounded(buf, max_len)).map_err(malformed)? {
        httparse::Status::Partial => partial_or_too_large(buf, max_len),
        httparse::Status::Complete(head_len) => Ok(Parse::Complete(ResponseHead {
            // A complete parse has filled in the status line.
            version: resp.version.unwrap_or(1),
            status: resp.code.unwrap_or(0),
            reason: resp.reason.unwrap_or("").to_string(),
            headers: owned_headers(resp.headers),
            head_len,
        })),
    }
}

/// Parses a request head from the start of buf; up to [`MAX_HEADERS`] headers and `max_len`
/// bytes (Partial beyond max_len becomes TooLarge). Bytes after the head are not looked at.
pub fn parse_request(buf: &[u8], max_len: usize) -> Result<Parse<RequestHead>, HeadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(bounded(buf, max_len)).map_err(malformed)? {
        httparse::Status::Partial => partial_or_too_large(buf, max_len),
        httparse::Status::Complete(head_len) => Ok(Parse::Complete(RequestHead {
            // A complete parse has filled in the request line.
            method: req.method.unwrap_or("").to_string(),
            path: req.path.unwrap_or("").to_string(),
            version: req.version.unwrap_or(1),
            headers: owned_headers(req.headers),
            head_len,
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESPONSE: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\n\
        Upgrade: websocket\r\n\
        Connection: Upgrade\r\n\
        Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
        \r\n";

    const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\n\
        Host: server.example.com\r\n\
        Upgrade: websocket\r\n\
        Connection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Sec-WebSocket-Version: 13\r\n\
        \r\n";

    fn complete<T: std::fmt::Debug>(r: Result<Parse<T>, HeadError>) -> T {
        match r {
            Ok(Parse::Complete(t)) => t,
            other => panic!("complete head expected, got {other:?}"),
        }
    }

    #[test]
    fn rfc6455_4_1_response_head_fields() {
        let mut buf = RESPONSE.to_vec();
        buf.extend_from_slice(b"\x81\x02hi");
        let head = complete(parse_response(&buf, 8192));
        assert_eq!(head.version, 1);
        assert_eq!(head.status, 101);
        assert_eq!(head.reason, "Switching Protocols");
        assert_eq!(head.head_len, RESPONSE.len());
        assert_eq!(
            head.headers[0],
            ("Upgrade".to_string(), b"websocket".to_vec())
        );
        assert_eq!(head.header("UPGRADE"), Some("websocket"));
        assert_eq!(
            head.header("sec-websocket-accept"),
            Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        );
        assert_eq!(head.header("sec-websocket-protocol"), None);
    }

    #[test]
    fn rfc6455_4_2_1_request_head_fields() {
        let head = complete(parse_request(REQUEST, 8192));
        assert_eq!(head.method, "GET");
        assert_eq!(head.path, "/chat");
        assert_eq!(head.version, 1);
        assert_eq!(head.head_len, REQUEST.len());
        assert_eq!(head.header("host"), Some("server.example.com"));
        assert_eq!(head.headers.len(), 5);
    }

    #[test]
    fn header_values_in_order_case_insensitive_and_utf8_only() {
        let buf = b"HTTP/1.1 101 OK\r\nX-A: 1\r\nx-a:  2 \r\nX-B: \xff\r\nX-A: 3\r\n\r\n";
        let head = complete(parse_response(buf, 8192));
        assert_eq!(head.header_values("x-A"), vec![&b"1"[..], b"2", b"3"]);
        assert_eq!(head.header("X-A"), Some("1"));
        assert_eq!(head.header_values("x-b"), vec![&b"\xff"[..]]);
        assert_eq!(head.header("x-b"), None, "not utf-8");
        assert!(head.header_values("x-c").is_empty());
    }

    #[test]
    fn partial_on_every_truncation() {
        for cut in 0..RESPONSE.len() {
            assert_eq!(
                parse_response(&RESPONSE[..cut], 8192),
                Ok(Parse::Partial),
                "response cut at {cut}"
            );
        }
        for cut in 0..REQUEST.len() {
            assert_eq!(
                parse_request(&REQUEST[..cut], 8192),
                Ok(Parse::Partial),
                "request cut at {cut}"
            );
        }
        assert!(matches!(
            parse_response(RESPONSE, 8192),
            Ok(Parse::Complete(_))
        ));
    }

    #[test]
    fn too_large_once_the_limit_is_reached_without_a_complete_head() {
        let n = RESPONSE.len();
        // Exactly at the limit is fine.
        assert!(matches!(
            parse_response(RESPONSE, n),
            Ok(Parse::Complete(_))
        ));
        assert!(matches!(
            parse_request(REQUEST, REQUEST.len()),
            Ok(Parse::Complete(_))
        ));
        // One byte short of the limit: cannot finish within it.
        assert_eq!(
            parse_response(RESPONSE, n - 1),
            Err(HeadError::TooLarge(n - 1))
        );
        assert_eq!(
            parse_request(REQUEST, REQUEST.len() - 1),
            Err(HeadError::TooLarge(REQUEST.len() - 1))
        );
        // Below the limit and unfinished: still partial.
        assert_eq!(parse_response(&RESPONSE[..10], 64), Ok(Parse::Partial));
        // An endless header stream is cut off at the limit.
        let mut endless = b"HTTP/1.1 101 OK\r\n".to_vec();
        while endless.len() < 100_000 {
            endless.extend_from_slice(format!("X-Pad: {}\r\n", "a".repeat(200)).as_bytes());
        }
        assert_eq!(
            parse_response(&endless, 4096),
            Err(HeadError::TooLarge(4096))
        );
        assert_eq!(
            HeadError::TooLarge(4096).to_string(),
            "http head larger than 4096 bytes"
        );
    }

    #[test]
    fn malformed_heads() {
        let responses: [(&str, &[u8]); 4] = [
            ("not http", b"SSH-2.0-OpenSSH\r\n\r\n"),
            ("status not a number", b"HTTP/1.1 1x1 OK\r\n\r\n"),
            (
                "space in header name",
                b"HTTP/1.1 101 OK\r\nBad Name: x\r\n\r\n",
            ),
            ("http/2 version", b"HTTP/2.0 101 OK\r\n\r\n"),
        ];
        for (name, buf) in responses {
            assert!(
                matches!(parse_response(buf, 8192), Err(HeadError::Malformed(_))),
                "{name}"
            );
        }
        let err = parse_response(b"HTTP/9.9 101 OK\r\n\r\n", 8192).unwrap_err();
        assert_eq!(err.to_string(), "malformed http head: invalid http version");
        assert!(matches!(
            parse_request(b"GET /\x01 HTTP/1.1\r\n\r\n", 8192),
            Err(HeadError::Malformed(_))
        ));
    }

    #[test]
    fn too_many_headers_is_malformed() {
        let mut buf = b"HTTP/1.1 101 OK\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            buf.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        buf.extend_from_slice(b"\r\n");
        assert_eq!(
            parse_response(&buf, 1 << 20),
            Err(HeadError::Malformed("more than 128 header fields".into()))
        );
    }
}
