//! The server side of the opening handshake: judging a client's upgrade request (RFC 6455
//! §4.2.1) and building the answers, a 101 (§4.2.2) or an HTTP error (§4.2.1, §4.4).

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::head::{RequestHead, joined};
use super::lists::{extension_items, extension_names, has_token, split_list, trim_ows};
use super::{Offer, VERSION, accept_for_key};

/// Where the request requirements come from (§4.2.1) and the version answer (§4.2.2, §4.4).
const S421: &str = "RFC 6455 §4.2.1";
const S422: &str = "RFC 6455 §4.2.2";

/// A server's verdict on an upgrade request (§4.2.1, §4.2.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidRequest {
    /// The Sec-WebSocket-Key, trimmed (the /key/ of §4.2.2).
    pub key: String,
    /// Subprotocols offered, in order of preference (§4.2.1 step 8).
    pub protocols: Vec<String>,
    /// Extension items offered, as sent with their parameters, across all
    /// Sec-WebSocket-Extensions fields (§4.2.1 step 9); [`super::parse_extensions`] reads one.
    pub extensions: Vec<String>,
    /// The Origin header value, if sent (§4.2.1 step 7).
    pub origin: Option<String>,
}

impl ValidRequest {
    /// The offer this request makes, to validate a server's response against (for a capture
    /// that holds both sides).
    pub fn offer(&self) -> Offer {
        Offer {
            key: self.key.clone(),
            protocols: self.protocols.clone(),
            extensions: extension_names(self.extensions.iter().map(String::as_str)),
        }
    }
}

/// Why a server refuses an upgrade request, and how to answer it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The HTTP status to answer with: 400, 405 (method) or 426 (version).
    pub status: u16,
    /// What was wrong, lower-case and specific.
    pub reason: String,
    /// The RFC section the requirement comes from, e.g. `RFC 6455 §4.2.1`.
    pub section: &'static str,
}

impl Rejection {
    fn new(status: u16, section: &'static str, reason: impl Into<String>) -> Rejection {
        Rejection {
            status,
            reason: reason.into(),
            section,
        }
    }
}

/// Accepts base64 with canonical padding but non-zero trailing bits, because the RFC's own
/// example key in §4.1 step 7, `AQIDBAUGBwgJCgsMDQ4PEC==`, has them.
const KEY_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// RFC 8441 §4, §5: what a client's extended CONNECT must carry, given as a head whose
/// method is `CONNECT` and whose headers hold the pseudo-header fields (`:protocol`,
/// `:scheme`, `:authority`, `:path`) ahead of the regular ones. Every problem found, in plain
/// words; none means the request is well formed. `Sec-WebSocket-Key`, `Upgrade` and
/// `Connection` are not asked for: RFC 8441 §5 drops them (the `h2` crate refuses requests
/// that carry connection-specific fields before they reach this check).
pub fn validate_h2_request(head: &RequestHead) -> Vec<String> {
    let mut problems = Vec::new();
    match head.header(":protocol") {
        Some("websocket") => {}
        Some(other) => problems.push(format!(
            ":protocol is '{other}', expected 'websocket' (RFC 8441 §5)"
        )),
        None => problems.push(":protocol is missing (RFC 8441 §4)".into()),
    }
    for name in [":scheme", ":path", ":authority"] {
        if head.header(name).is_none_or(str::is_empty) {
            problems.push(format!(
                "{name} is missing from the extended CONNECT (RFC 8441 §4)"
            ));
        }
    }
    let versions = head.header_values("sec-websocket-version");
    match versions.as_slice() {
        [v] if v.trim_ascii() == b"13" => {}
        [] => problems.push("sec-websocket-version is missing (RFC 8441 §5, RFC 6455 §4.1)".into()),
        _ => problems.push(format!(
            "sec-websocket-version is '{}', expected '13' once (RFC 8441 §5, RFC 6455 §4.1)",
            versions
                .iter()
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
    problems
}

/// §4.2.1: GET, HTTP/1.1 or higher, Host present, Upgrade contains websocket, Connection
/// contains Upgrade token, Sec-WebSocket-Key present exactly once and base64 decoding to
/// exactly 16 bytes, Sec-WebSocket-Version present exactly once and == 13 (else 426 with
/// reason), otherwise 400.
///
/// Checks run in that order and the first failure is returned. A method other than GET gets
/// 405, which RFC 9110 §15.5.6 pairs with `Allow: GET` ([`build_error_response`] adds it).
pub fn validate_request(head: &RequestHead) -> Result<ValidRequest, Rejection> {
    if head.method != "GET" {
        return Err(Rejection::new(
            405,
            S421,
            format!("method is '{}', expected 'GET'", head.method),
        ));
    }
    if head.version < 1 {
        return Err(Rejection::new(
            400,
            S421,
            format!("http version is 1.{}, expected 1.1 or higher", head.version),
        ));
    }
    match head.header_values("host").len() {
        0 => return Err(Rejection::new(400, S421, "host header is missing")),
        1 => {}
        n => {
            return Err(Rejection::new(
                400,
                S421,
                format!("host header appears {n} times, expected exactly once"),
            ));
        }
    }
    require_token(head, "upgrade", "websocket", |v| {
        format!("upgrade is '{v}', expected 'websocket'")
    })?;
    require_token(head, "connection", "upgrade", |v| {
        format!("connection is '{v}' without the 'upgrade' token")
    })?;
    let key = match head.header_values("sec-websocket-key").as_slice() {
        [] => return Err(Rejection::new(400, S421, "sec-websocket-key is missing")),
        [one] => trim_ows(&String::from_utf8_lossy(one)).to_string(),
        many => {
            return Err(Rejection::new(
                400,
                S421,
                format!(
                    "sec-websocket-key appears {} times, expected exactly once",
                    many.len()
                ),
            ));
        }
    };
    match KEY_BASE64.decode(&key) {
        Ok(nonce) if nonce.len() == 16 => {}
        Ok(nonce) => {
            return Err(Rejection::new(
                400,
                S421,
                format!(
                    "sec-websocket-key '{key}' decodes to {} bytes, expected 16",
                    nonce.len()
                ),
            ));
        }
        Err(e) => {
            return Err(Rejection::new(
                400,
                S421,
                format!(
                    "sec-websocket-key '{key}' is not base64: {}",
                    e.to_string().to_ascii_lowercase().trim_end_matches('.')
                ),
            ));
        }
    }
    match head.header_values("sec-websocket-version").as_slice() {
        [] => {
            return Err(Rejection::new(
                426,
                S422,
                "sec-websocket-version is missing; this server speaks 13",
            ));
        }
        [one] if trim_ows(&String::from_utf8_lossy(one)) == VERSION => {}
        [one] => {
            return Err(Rejection::new(
                426,
                S422,
                format!(
                    "sec-websocket-version is '{}'; this server speaks 13",
                    String::from_utf8_lossy(one)
                ),
            ));
        }
        many => {
            return Err(Rejection::new(
                426,
                S422,
                format!(
                    "sec-websocket-version appears {} times, expected exactly once",
                    many.len()
                ),
            ));
        }
    }
    let protocols = split_list(&joined(&head.header_values("sec-websocket-protocol")));
    let extensions = head
        .header_values("sec-websocket-extensions")
        .iter()
        .flat_map(|v| {
            extension_items(&String::from_utf8_lossy(v))
                .into_iter()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    Ok(ValidRequest {
        key,
        protocols,
        extensions,
        origin: head.header("origin").map(str::to_string),
    })
}

/// Rejects with 400 unless the comma list in header `name` (all fields) holds `token`, ASCII
/// case-insensitively (§4.2.1 steps 3 and 4). `wrong` words the rejection of a present value.
fn require_token(
    head: &RequestHead,
    name: &str,
    token: &str,
    wrong: impl FnOnce(&str) -> String,
) -> Result<(), Rejection> {
    let values = head.header_values(name);
    if values.is_empty() {
        return Err(Rejection::new(
            400,
            S421,
            format!("{name} header is missing"),
        ));
    }
    let list = joined(&values);
    if has_token(&list, token) {
        Ok(())
    } else {
        Err(Rejection::new(400, S421, wrong(&list)))
    }
}

/// Builds a 101 response (Upgrade, Connection, Accept, optional protocol, optional extensions,
/// extra headers), CRLF. Extensions are joined with ", " into one field; none omits it.
pub fn build_response_101(
    key: &str,
    protocol: Option<&str>,
    extensions: &[String],
    extra: &[(String, String)],
) -> Vec<u8> {
    let mut out = String::from("HTTP/1.1 101 Switching Protocols\r\n");
    out.push_str("Upgrade: websocket\r\nConnection: Upgrade\r\n");
    out.push_str(&format!(
        "Sec-WebSocket-Accept: {}\r\n",
        accept_for_key(key)
    ));
    if let Some(p) = protocol {
        out.push_str(&format!("Sec-WebSocket-Protocol: {p}\r\n"));
    }
    if !extensions.is_empty() {
        out.push_str(&format!(
            "Sec-WebSocket-Extensions: {}\r\n",
            extensions.join(", ")
        ));
    }
    for (name, value) in extra {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// The standard reason phrase for statuses a handshake may answer with; `Error` otherwise.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

/// Builds an error response; for 426 includes `Sec-WebSocket-Version: 13` (§4.4), for 405
/// `Allow: GET` (RFC 9110 §15.5.6). Content-Length body with the reason, Connection: close.
pub fn build_error_response(status: u16, reason: &str) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason_phrase(status));
    match status {
        426 => out.push_str("Sec-WebSocket-Version: 13\r\n"),
        405 => out.push_str("Allow: GET\r\n"),
        _ => {}
    }
    out.push_str("Content-Type: text/plain; charset=utf-8\r\n");
    out.push_str(&format!("Content-Length: {}\r\n", reason.len()));
    out.push_str("Connection: close\r\n\r\n");
    out.push_str(reason);
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::handshake::{
        Negotiated, Parse, parse_request, parse_response, validate_response,
    };

    /// The client handshake of RFC 6455 §1.3, verbatim.
    const SAMPLE: &str = "GET /chat HTTP/1.1\r\n\
        Host: server.example.com\r\n\
        Upgrade: websocket\r\n\
        Connection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Origin: http://example.com\r\n\
        Sec-WebSocket-Protocol: chat, superchat\r\n\
        Sec-WebSocket-Version: 13\r\n\
        \r\n";

    fn request(text: &str) -> RequestHead {
        match parse_request(text.as_bytes(), 8192) {
            Ok(Parse::Complete(head)) => head,
            other => panic!("test request must parse: {other:?}"),
        }
    }

    /// SAMPLE with one line replaced (`Some`) or removed (`None`), matched by its start.
    fn sample_with(line_start: &str, replacement: Option<&str>) -> RequestHead {
        let mut found = false;
        let text: String = SAMPLE
            .split_inclusive("\r\n")
            .filter_map(|line| {
                if line.starts_with(line_start) {
                    found = true;
                    replacement.map(|r| format!("{r}\r\n"))
                } else {
                    Some(line.to_string())
                }
            })
            .collect();
        assert!(found, "no line starts with {line_start:?}");
        request(&text)
    }

    #[test]
    fn rfc6455_1_3_sample_request_is_valid() {
        assert_eq!(
            validate_request(&request(SAMPLE)),
            Ok(ValidRequest {
                key: "dGhlIHNhbXBsZSBub25jZQ==".into(),
                protocols: vec!["chat".into(), "superchat".into()],
                extensions: vec![],
                origin: Some("http://example.com".into()),
            })
        );
    }

    /// The example nonce of §4.1 step 7 has non-zero trailing bits; it is still 16 bytes.
    #[test]
    fn rfc6455_4_1_example_nonce_is_accepted() {
        let head = sample_with(
            "Sec-WebSocket-Key",
            Some("Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEC=="),
        );
        assert_eq!(
            validate_request(&head).map(|v| v.key),
            Ok("AQIDBAUGBwgJCgsMDQ4PEC==".to_string())
        );
    }

    #[test]
    fn rfc6455_4_2_1_every_rejection() {
        let s421 = "RFC 6455 §4.2.1";
        let s422 = "RFC 6455 §4.2.2";
        let cases: Vec<(&str, RequestHead, u16, &str, &str)> = vec![
            (
                "post",
                sample_with("GET", Some("POST /chat HTTP/1.1")),
                405,
                "method is 'POST', expected 'GET'",
                s421,
            ),
            (
                "http/1.0",
                sample_with("GET", Some("GET /chat HTTP/1.0")),
                400,
                "http version is 1.0, expected 1.1 or higher",
                s421,
            ),
            (
                "missing host",
                sample_with("Host", None),
                400,
                "host header is missing",
                s421,
            ),
            (
                "two hosts",
                sample_with("Host", Some("Host: a.example\r\nHost: b.example")),
                400,
                "host header appears 2 times, expected exactly once",
                s421,
            ),
            (
                "missing upgrade",
                sample_with("Upgrade", None),
                400,
                "upgrade header is missing",
                s421,
            ),
            (
                "upgrade not websocket",
                sample_with("Upgrade", Some("Upgrade: h2c")),
                400,
                "upgrade is 'h2c', expected 'websocket'",
                s421,
            ),
            (
                "missing connection",
                sample_with("Connection", None),
                400,
                "connection header is missing",
                s421,
            ),
            (
                "connection without upgrade",
                sample_with("Connection", Some("Connection: keep-alive")),
                400,
                "connection is 'keep-alive' without the 'upgrade' token",
                s421,
            ),
            (
                "missing key",
                sample_with("Sec-WebSocket-Key", None),
                400,
                "sec-websocket-key is missing",
                s421,
            ),
            (
                "key decoding to 15 bytes",
                sample_with(
                    "Sec-WebSocket-Key",
                    Some("Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4P"),
                ),
                400,
                "sec-websocket-key 'AQIDBAUGBwgJCgsMDQ4P' decodes to 15 bytes, expected 16",
                s421,
            ),
            (
                "key decoding to 17 bytes",
                sample_with(
                    "Sec-WebSocket-Key",
                    Some("Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEBE="),
                ),
                400,
                "sec-websocket-key 'AQIDBAUGBwgJCgsMDQ4PEBE=' decodes to 17 bytes, expected 16",
                s421,
            ),
            (
                "key not base64",
                sample_with("Sec-WebSocket-Key", Some("Sec-WebSocket-Key: Not*Base64")),
                400,
                "sec-websocket-key 'Not*Base64' is not base64: invalid symbol 42, offset 3",
                s421,
            ),
            (
                "two keys",
                sample_with(
                    "Sec-WebSocket-Key",
                    Some(
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
                         Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEC==",
                    ),
                ),
                400,
                "sec-websocket-key appears 2 times, expected exactly once",
                s421,
            ),
            (
                "version 8",
                sample_with("Sec-WebSocket-Version", Some("Sec-WebSocket-Version: 8")),
                426,
                "sec-websocket-version is '8'; this server speaks 13",
                s422,
            ),
            (
                "missing version",
                sample_with("Sec-WebSocket-Version", None),
                426,
                "sec-websocket-version is missing; this server speaks 13",
                s422,
            ),
            (
                "two versions",
                sample_with(
                    "Sec-WebSocket-Version",
                    Some("Sec-WebSocket-Version: 13\r\nSec-WebSocket-Version: 13"),
                ),
                426,
                "sec-websocket-version appears 2 times, expected exactly once",
                s422,
            ),
        ];
        for (name, head, status, reason, section) in cases {
            assert_eq!(
                validate_request(&head),
                Err(Rejection {
                    status,
                    reason: reason.to_string(),
                    section,
                }),
                "{name}"
            );
        }
    }

    #[test]
    fn rfc6455_4_2_1_tokens_are_case_insensitive() {
        for (upgrade, connection) in [
            ("Upgrade: WebSocket", "Connection: keep-alive, Upgrade"),
            ("upgrade: WEBSOCKET", "connection: upgrade"),
            (
                "Upgrade: websocket",
                "Connection: keep-alive\r\nConnection: UPGRADE",
            ),
        ] {
            let head = request(
                &SAMPLE
                    .replace("Upgrade: websocket", upgrade)
                    .replace("Connection: Upgrade", connection),
            );
            assert!(validate_request(&head).is_ok(), "{upgrade} / {connection}");
        }
    }

    #[test]
    fn rfc6455_4_2_1_offers_across_repeated_fields() {
        let head = request(&SAMPLE.replace(
            "Sec-WebSocket-Version: 13\r\n",
            "Sec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Protocol: mqtt\r\n\
             Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
             Sec-WebSocket-Extensions: x-foo; a=\"1,2\", x-bar\r\n",
        ));
        let valid = validate_request(&head).expect("valid request");
        assert_eq!(valid.protocols, ["chat", "superchat", "mqtt"]);
        assert_eq!(
            valid.extensions,
            [
                "permessage-deflate; client_max_window_bits",
                "x-foo; a=\"1,2\"",
                "x-bar"
            ]
        );
        assert_eq!(
            valid.offer().extensions,
            ["permessage-deflate", "x-foo", "x-bar"]
        );
    }

    #[test]
    fn rfc6455_4_2_2_sample_response_bytes() {
        let bytes = build_response_101("dGhlIHNhbXBsZSBub25jZQ==", Some("chat"), &[], &[]);
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "HTTP/1.1 101 Switching Protocols\r\n\
             Upgrade: websocket\r\n\
             Connection: Upgrade\r\n\
             Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
             Sec-WebSocket-Protocol: chat\r\n\
             \r\n"
        );
    }

    /// What the server builds from a valid request, the client accepts.
    #[test]
    fn rfc6455_4_2_2_built_response_passes_4_1_validation() {
        let valid = validate_request(&request(&SAMPLE.replace(
            "Sec-WebSocket-Version: 13\r\n",
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate\r\n",
        )))
        .expect("valid request");
        let extensions = vec!["permessage-deflate; server_no_context_takeover".to_string()];
        let extra = vec![("Server".to_string(), "wsprobe".to_string())];
        let bytes = build_response_101(&valid.key, Some("superchat"), &extensions, &extra);
        let Ok(Parse::Complete(head)) = parse_response(&bytes, 8192) else {
            panic!("built response must parse")
        };
        assert_eq!(head.head_len, bytes.len());
        assert_eq!(head.header("server"), Some("wsprobe"));
        assert_eq!(
            validate_response(&head, &valid.offer()),
            Ok(Negotiated {
                protocol: Some("superchat".into()),
                extensions,
            })
        );
    }

    #[test]
    fn rfc6455_4_4_error_responses() {
        let bytes =
            build_error_response(426, "sec-websocket-version is '8'; this server speaks 13");
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert_eq!(
            text,
            "HTTP/1.1 426 Upgrade Required\r\n\
             Sec-WebSocket-Version: 13\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             Content-Length: 51\r\n\
             Connection: close\r\n\
             \r\n\
             sec-websocket-version is '8'; this server speaks 13"
        );
        for (status, phrase, extra) in [
            (400, "Bad Request", None),
            (405, "Method Not Allowed", Some(("allow", "GET"))),
            (
                426,
                "Upgrade Required",
                Some(("sec-websocket-version", "13")),
            ),
            (599, "Error", None),
        ] {
            let reason = "host header is missing";
            let bytes = build_error_response(status, reason);
            let Ok(Parse::Complete(head)) = parse_response(&bytes, 8192) else {
                panic!("{status}: error response must parse")
            };
            assert_eq!(head.status, status);
            assert_eq!(head.reason, phrase);
            assert_eq!(head.header("connection"), Some("close"));
            assert_eq!(
                head.header("content-length"),
                Some(reason.len().to_string().as_str())
            );
            assert_eq!(&bytes[head.head_len..], reason.as_bytes());
            if let Some((name, value)) = extra {
                assert_eq!(head.header(name), Some(value), "{status}");
            }
            assert_eq!(
                head.header("allow").is_some(),
                status == 405,
                "{status}: allow only on 405"
            );
        }
    }

    #[test]
    fn rejection_answers_are_well_formed() {
        let head = sample_with("GET", Some("POST /chat HTTP/1.1"));
        let rejection = validate_request(&head).unwrap_err();
        let bytes = build_error_response(rejection.status, &rejection.reason);
        assert!(bytes.starts_with(b"HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\n"));
    }
}
