//! The client side of the opening handshake (RFC 6455 §4.1): building the upgrade request and
//! judging the server's response against what the request offered.

use super::head::{ResponseHead, joined};
use super::lists::{extension_items, extension_names, has_token, split_list, trim_ows};
use super::{VERSION, accept_for_key};
use crate::wire::{Violation, ViolationKind};

/// A client upgrade request to build. The key is an argument (no randomness in wire).
///
/// Every field is written verbatim by [`ClientRequest::to_bytes`]; nothing is checked, so a
/// suite can send a request that breaks §4.1 on purpose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientRequest {
    /// The method, normally `GET` (§4.1 step 2).
    pub method: String,
    /// The request-target as sent, e.g. `/chat?x=1`.
    pub path: String,
    /// The version token of the request line, normally `HTTP/1.1`.
    pub http_version: String,
    /// Host header value; None omits the header.
    pub host: Option<String>,
    /// Sec-WebSocket-Key; None omits it.
    pub key: Option<String>,
    /// Sec-WebSocket-Version; normally `Some("13")`; None omits it.
    pub version: Option<String>,
    /// Origin header value (§4.1 step 8); None omits it.
    pub origin: Option<String>,
    /// Sec-WebSocket-Protocol offer, joined with ", "; empty omits the header.
    pub protocols: Vec<String>,
    /// Sec-WebSocket-Extensions offer items, joined with ", "; empty omits the header.
    pub extensions: Vec<String>,
    /// Upgrade header value, normally `Some("websocket")`; None omits it.
    pub upgrade: Option<String>,
    /// Connection header value, normally `Some("Upgrade")`; None omits it.
    pub connection: Option<String>,
    /// Extra headers, in order, appended after the standard ones.
    pub headers: Vec<(String, String)>,
    /// Bytes after the blank line (normally empty).
    pub body: Vec<u8>,
}

impl ClientRequest {
    /// GET `path` to `host` with `key`, version 13, Upgrade/Connection set, nothing else.
    pub fn new(host: &str, path: &str, key: &str) -> ClientRequest {
        ClientRequest {
            method: "GET".into(),
            path: path.into(),
            http_version: "HTTP/1.1".into(),
            host: Some(host.into()),
            key: Some(key.into()),
            version: Some(VERSION.into()),
            origin: None,
            protocols: Vec::new(),
            extensions: Vec::new(),
            upgrade: Some("websocket".into()),
            connection: Some("Upgrade".into()),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// The request bytes: CRLF line endings, header order Host, Upgrade, Connection,
    /// Sec-WebSocket-Key, Sec-WebSocket-Version, Origin, Sec-WebSocket-Protocol,
    /// Sec-WebSocket-Extensions, then the extra headers, a blank line and the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("{} {} {}\r\n", self.method, self.path, self.http_version);
        let mut field = |name: &str, value: &str| {
            out.push_str(name);
            out.push_str(": ");
            out.push_str(value);
            out.push_str("\r\n");
        };
        let protocols = self.protocols.join(", ");
        let extensions = self.extensions.join(", ");
        let standard = [
            ("Host", self.host.as_deref()),
            ("Upgrade", self.upgrade.as_deref()),
            ("Connection", self.connection.as_deref()),
            ("Sec-WebSocket-Key", self.key.as_deref()),
            ("Sec-WebSocket-Version", self.version.as_deref()),
            ("Origin", self.origin.as_deref()),
            (
                "Sec-WebSocket-Protocol",
                (!protocols.is_empty()).then_some(protocols.as_str()),
            ),
            (
                "Sec-WebSocket-Extensions",
                (!extensions.is_empty()).then_some(extensions.as_str()),
            ),
        ];
        for (name, value) in standard {
            if let Some(value) = value {
                field(name, value);
            }
        }
        for (name, value) in &self.headers {
            field(name, value);
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }

    /// What this request offers, to validate the response against: the key (empty if omitted),
    /// the subprotocols, and the extension names of the offered items.
    pub fn offer(&self) -> Offer {
        Offer {
            key: self.key.clone().unwrap_or_default(),
            protocols: self.protocols.clone(),
            extensions: extension_names(self.extensions.iter().map(String::as_str)),
        }
    }
}

/// What the client offered, to validate the server's answer against (§4.1 "the client MUST
/// ...").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Offer {
    /// The Sec-WebSocket-Key sent.
    pub key: String,
    /// Subprotocols offered in Sec-WebSocket-Protocol.
    pub protocols: Vec<String>,
    /// Extension names offered, e.g. `permessage-deflate`.
    pub extensions: Vec<String>,
}

/// What a valid server response established.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Negotiated {
    /// The subprotocol in use, if the server selected one (§4.1 _Subprotocol In Use_).
    pub protocol: Option<String>,
    /// Full accepted extension items as sent, e.g. `permessage-deflate; client_max_window_bits=10`
    /// (§4.1 _Extensions In Use_), across all Sec-WebSocket-Extensions fields in order.
    pub extensions: Vec<String>,
}

/// Validates a response against §4.1 client requirements. Ok(negotiated) when the connection
/// may open; Err(violations) listing every problem found, not just the first.
///
/// A status other than 101 is reported alone: §4.1 step 1 hands such a response back to HTTP
/// (authentication, redirects) and the header checks of steps 2–6 apply only to a 101. Then:
/// `Upgrade` must contain the token `websocket` and `Connection` the token `upgrade` (ASCII
/// case-insensitive, comma lists allowed, across repeated fields); `Sec-WebSocket-Accept` must
/// appear exactly once and equal [`accept_for_key`] of the offered key after trimming
/// whitespace; `Sec-WebSocket-Protocol`, if present, must name exactly one subprotocol that was
/// offered (compared exactly: §1.3 has the server echo the value); every
/// `Sec-WebSocket-Extensions` item must name an offered extension (names compared ASCII
/// case-insensitively, as registered tokens).
pub fn validate_response(head: &ResponseHead, offer: &Offer) -> Result<Negotiated, Vec<Violation>> {
    use ViolationKind::*;
    let mut found = Vec::new();
    if head.status != 101 {
        found.push(Violation::new(
            HandshakeStatus,
            format!(
                "status is {} '{}', expected 101 switching protocols",
                head.status, head.reason
            ),
        ));
        return Err(found);
    }

    let upgrade = head.header_values("upgrade");
    if upgrade.is_empty() {
        found.push(Violation::new(
            HandshakeUpgradeHeader,
            "upgrade header is missing",
        ));
    } else if !has_token(&joined(&upgrade), "websocket") {
        found.push(Violation::new(
            HandshakeUpgradeHeader,
            format!("upgrade is '{}', expected 'websocket'", joined(&upgrade)),
        ));
    }

    let connection = head.header_values("connection");
    if connection.is_empty() {
        found.push(Violation::new(
            HandshakeConnectionHeader,
            "connection header is missing",
        ));
    } else if !has_token(&joined(&connection), "upgrade") {
        found.push(Violation::new(
            HandshakeConnectionHeader,
            format!(
                "connection is '{}' without the 'upgrade' token",
                joined(&connection)
            ),
        ));
    }

    let accept = head.header_values("sec-websocket-accept");
    let expected = accept_for_key(&offer.key);
    match accept.as_slice() {
        [] => found.push(Violation::new(
            HandshakeAccept,
            format!("sec-websocket-accept is missing; the key requires '{expected}'"),
        )),
        [value] => {
            let value = String::from_utf8_lossy(value);
            if trim_ows(&value) != expected {
                found.push(Violation::new(
                    HandshakeAccept,
                    format!("sec-websocket-accept is '{value}' but the key requires '{expected}'"),
                ));
            }
        }
        many => found.push(Violation::new(
            HandshakeAccept,
            format!(
                "sec-websocket-accept appears {} times, expected exactly once",
                many.len()
            ),
        )),
    }

    let negotiated = negotiate(head, offer, &mut found);
    if found.is_empty() {
        Ok(negotiated)
    } else {
        Err(found)
    }
}

/// Validates the response to an extended CONNECT (RFC 8441 §5): a 2xx (HTTP/2 has no 101,
/// RFC 9113 §8.6) whose subprotocol and extensions answer the offer as in RFC 6455 §4.1.
/// There is no `Sec-WebSocket-Accept` to check, nor `Upgrade`/`Connection`, which HTTP/2
/// forbids (RFC 9113 §8.2.2). A 2xx that ends the stream leaves no tunnel (RFC 9113 §8.5).
pub fn validate_h2_response(
    head: &ResponseHead,
    offer: &Offer,
    end_stream: bool,
) -> Result<Negotiated, Vec<Violation>> {
    use ViolationKind::*;
    let mut found = Vec::new();
    if !(200..300).contains(&head.status) {
        found.push(Violation::new(
            Http2Handshake,
            format!(
                "status is {}, expected a 2xx accepting the extended CONNECT (RFC 8441 §5)",
                head.status
            ),
        ));
        return Err(found);
    }
    if end_stream {
        found.push(Violation::new(
            Http2Handshake,
            "the 2xx response ended the stream (END_STREAM): no tunnel is left for the \
             WebSocket (RFC 8441 §5, RFC 9113 §8.5)",
        ));
    }
    for field in ["content-length", "transfer-encoding"] {
        if let Some(value) = head.header_values(field).first() {
            found.push(Violation::new(
                Http2Handshake,
                format!(
                    "the 2xx response to CONNECT carries {field}: {} (RFC 9110 §9.3.6: a \
                     server must not send it; the tunnel has no body length)",
                    String::from_utf8_lossy(value)
                ),
            ));
        }
    }
    let negotiated = negotiate(head, offer, &mut found);
    if found.is_empty() {
        Ok(negotiated)
    } else {
        Err(found)
    }
}

/// The subprotocol and extensions a response selected, checked against the offer (§4.1);
/// problems go to `found`.
fn negotiate(head: &ResponseHead, offer: &Offer, found: &mut Vec<Violation>) -> Negotiated {
    use ViolationKind::*;
    let protocol_values = head.header_values("sec-websocket-protocol");
    let mut protocol = None;
    if !protocol_values.is_empty() {
        let sent = joined(&protocol_values);
        match split_list(&sent).as_slice() {
            [one] if offer.protocols.iter().any(|p| p == one) => protocol = Some(one.clone()),
            [one] if offer.protocols.is_empty() => found.push(Violation::new(
                HandshakeSubprotocol,
                format!("server selected subprotocol '{one}' but the client offered none"),
            )),
            [one] => found.push(Violation::new(
                HandshakeSubprotocol,
                format!(
                    "server selected subprotocol '{one}' but the client offered only '{}'",
                    offer.protocols.join("', '")
                ),
            )),
            [] => found.push(Violation::new(
                HandshakeSubprotocol,
                "sec-websocket-protocol is empty; omit it to select no subprotocol",
            )),
            many => found.push(Violation::new(
                HandshakeSubprotocol,
                format!(
                    "sec-websocket-protocol names {} subprotocols '{sent}', expected exactly one",
                    many.len()
                ),
            )),
        }
    }

    let mut extensions = Vec::new();
    for value in head.header_values("sec-websocket-extensions") {
        let value = String::from_utf8_lossy(value);
        for item in extension_items(&value) {
            let name = extension_names(std::iter::once(item)).concat();
            if offer
                .extensions
                .iter()
                .any(|o| o.eq_ignore_ascii_case(&name))
            {
                extensions.push(item.to_string());
            } else if offer.extensions.is_empty() {
                found.push(Violation::new(
                    HandshakeExtension,
                    format!("server accepted extension '{name}' but the client offered none"),
                ));
            } else {
                found.push(Violation::new(
                    HandshakeExtension,
                    format!(
                        "server accepted extension '{name}' but the client offered only '{}'",
                        offer.extensions.join("', '")
                    ),
                ));
            }
        }
    }

    Negotiated {
        protocol,
        extensions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::handshake::{Parse, parse_request, parse_response, validate_request};

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
    const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    /// The client of RFC 6455 §1.3: subprotocols chat and superchat, plus permessage-deflate.
    fn offer() -> Offer {
        Offer {
            key: KEY.into(),
            protocols: vec!["chat".into(), "superchat".into()],
            extensions: vec!["permessage-deflate".into()],
        }
    }

    fn response(status_line: &str, headers: &[(&str, &str)]) -> ResponseHead {
        let mut text = format!("{status_line}\r\n");
        for (name, value) in headers {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        text.push_str("\r\n");
        match parse_response(text.as_bytes(), 8192) {
            Ok(Parse::Complete(head)) => head,
            other => panic!("test response must parse: {other:?}"),
        }
    }

    const OK_101: &str = "HTTP/1.1 101 Switching Protocols";
    const GOOD: [(&str, &str); 3] = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", ACCEPT),
    ];

    /// GOOD with `name` removed (if `value` is None) or replaced, plus `extra` appended.
    fn good_with<'a>(
        name: &str,
        value: Option<&'a str>,
        extra: &[(&'a str, &'a str)],
    ) -> Vec<(&'a str, &'a str)> {
        let mut h: Vec<(&str, &str)> = GOOD
            .iter()
            .filter_map(|&(n, v)| {
                if n == name {
                    value.map(|value| (n, value))
                } else {
                    Some((n, v))
                }
            })
            .collect();
        h.extend_from_slice(extra);
        h
    }

    fn kinds(r: &Result<Negotiated, Vec<Violation>>) -> Vec<ViolationKind> {
        match r {
            Ok(_) => Vec::new(),
            Err(v) => v.iter().map(|v| v.kind).collect(),
        }
    }

    #[test]
    fn rfc6455_1_3_sample_response_is_accepted() {
        let head = response(
            OK_101,
            &good_with("", None, &[("Sec-WebSocket-Protocol", "chat")]),
        );
        assert_eq!(
            validate_response(&head, &offer()),
            Ok(Negotiated {
                protocol: Some("chat".into()),
                extensions: vec![],
            })
        );
    }

    /// One case per check of §4.1; each lists exactly the violations expected, so removing a
    /// check makes its case fail.
    #[test]
    fn rfc6455_4_1_every_violation_kind() {
        use ViolationKind::*;
        type Case = (
            &'static str,
            ResponseHead,
            Vec<(ViolationKind, &'static str)>,
        );
        let cases: Vec<Case> = vec![
            (
                "status 200",
                response("HTTP/1.1 200 OK", &GOOD),
                vec![(
                    HandshakeStatus,
                    "status is 200 'OK', expected 101 switching protocols",
                )],
            ),
            (
                "upgrade missing",
                response(OK_101, &good_with("Upgrade", None, &[])),
                vec![(HandshakeUpgradeHeader, "upgrade header is missing")],
            ),
            (
                "upgrade not websocket",
                response(OK_101, &good_with("Upgrade", Some("h2c"), &[])),
                vec![(
                    HandshakeUpgradeHeader,
                    "upgrade is 'h2c', expected 'websocket'",
                )],
            ),
            (
                "connection missing",
                response(OK_101, &good_with("Connection", None, &[])),
                vec![(HandshakeConnectionHeader, "connection header is missing")],
            ),
            (
                "connection without upgrade",
                response(OK_101, &good_with("Connection", Some("keep-alive"), &[])),
                vec![(
                    HandshakeConnectionHeader,
                    "connection is 'keep-alive' without the 'upgrade' token",
                )],
            ),
            (
                "accept missing",
                response(OK_101, &good_with("Sec-WebSocket-Accept", None, &[])),
                vec![(
                    HandshakeAccept,
                    "sec-websocket-accept is missing; the key requires \
                     's3pPLMBiTxaQ9kYGzzhZRbK+xOo='",
                )],
            ),
            (
                "accept wrong",
                response(
                    OK_101,
                    &good_with("Sec-WebSocket-Accept", Some("abc="), &[]),
                ),
                vec![(
                    HandshakeAccept,
                    "sec-websocket-accept is 'abc=' but the key requires \
                     's3pPLMBiTxaQ9kYGzzhZRbK+xOo='",
                )],
            ),
            (
                "accept for another key",
                response(
                    OK_101,
                    &good_with(
                        "Sec-WebSocket-Accept",
                        Some("OfS0wDaT5NoxF2gqm7Zj2YtetzM="),
                        &[],
                    ),
                ),
                vec![(
                    HandshakeAccept,
                    "sec-websocket-accept is 'OfS0wDaT5NoxF2gqm7Zj2YtetzM=' but the key \
                     requires 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='",
                )],
            ),
            (
                "accept twice",
                response(
                    OK_101,
                    &good_with("", None, &[("Sec-WebSocket-Accept", ACCEPT)]),
                ),
                vec![(
                    HandshakeAccept,
                    "sec-websocket-accept appears 2 times, expected exactly once",
                )],
            ),
            (
                "subprotocol not offered",
                response(
                    OK_101,
                    &good_with("", None, &[("Sec-WebSocket-Protocol", "mqtt")]),
                ),
                vec![(
                    HandshakeSubprotocol,
                    "server selected subprotocol 'mqtt' but the client offered only \
                     'chat', 'superchat'",
                )],
            ),
            (
                "subprotocol differs in case",
                response(
                    OK_101,
                    &good_with("", None, &[("Sec-WebSocket-Protocol", "Chat")]),
                ),
                vec![(
                    HandshakeSubprotocol,
                    "server selected subprotocol 'Chat' but the client offered only \
                     'chat', 'superchat'",
                )],
            ),
            (
                "two subprotocols",
                response(
                    OK_101,
                    &good_with("", None, &[("Sec-WebSocket-Protocol", "chat, superchat")]),
                ),
                vec![(
                    HandshakeSubprotocol,
                    "sec-websocket-protocol names 2 subprotocols 'chat, superchat', \
                     expected exactly one",
                )],
            ),
            (
                "subprotocol in two fields",
                response(
                    OK_101,
                    &good_with(
                        "",
                        None,
                        &[
                            ("Sec-WebSocket-Protocol", "chat"),
                            ("Sec-WebSocket-Protocol", "chat"),
                        ],
                    ),
                ),
                vec![(
                    HandshakeSubprotocol,
                    "sec-websocket-protocol names 2 subprotocols 'chat, chat', expected \
                     exactly one",
                )],
            ),
            (
                "empty subprotocol",
                response(
                    OK_101,
                    &good_with("", None, &[("Sec-WebSocket-Protocol", "")]),
                ),
                vec![(
                    HandshakeSubprotocol,
                    "sec-websocket-protocol is empty; omit it to select no subprotocol",
                )],
            ),
            (
                "extension not offered",
                response(
                    OK_101,
                    &good_with(
                        "",
                        None,
                        &[("Sec-WebSocket-Extensions", "x-webkit-deflate-frame")],
                    ),
                ),
                vec![(
                    HandshakeExtension,
                    "server accepted extension 'x-webkit-deflate-frame' but the client \
                     offered only 'permessage-deflate'",
                )],
            ),
            (
                "second extension item not offered",
                response(
                    OK_101,
                    &good_with(
                        "",
                        None,
                        &[(
                            "Sec-WebSocket-Extensions",
                            "permessage-deflate; server_no_context_takeover, x-mux",
                        )],
                    ),
                ),
                vec![(
                    HandshakeExtension,
                    "server accepted extension 'x-mux' but the client offered only \
                     'permessage-deflate'",
                )],
            ),
        ];
        for (name, head, want) in cases {
            let got = validate_response(&head, &offer());
            let got: Vec<(ViolationKind, String)> = match got {
                Ok(n) => panic!("{name}: accepted as {n:?}"),
                Err(v) => v.into_iter().map(|v| (v.kind, v.detail)).collect(),
            };
            let want: Vec<(ViolationKind, String)> =
                want.into_iter().map(|(k, d)| (k, d.to_string())).collect();
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn rfc6455_4_1_subprotocol_and_extension_when_none_offered() {
        let head = response(
            OK_101,
            &good_with(
                "",
                None,
                &[
                    ("Sec-WebSocket-Protocol", "chat"),
                    ("Sec-WebSocket-Extensions", "permessage-deflate"),
                ],
            ),
        );
        let bare = Offer {
            key: KEY.into(),
            ..Offer::default()
        };
        let details: Vec<String> = validate_response(&head, &bare)
            .unwrap_err()
            .into_iter()
            .map(|v| v.detail)
            .collect();
        assert_eq!(
            details,
            [
                "server selected subprotocol 'chat' but the client offered none",
                "server accepted extension 'permessage-deflate' but the client offered none",
            ]
        );
    }

    #[test]
    fn rfc6455_4_1_every_problem_is_reported_not_just_the_first() {
        use ViolationKind::*;
        let head = response(
            OK_101,
            &[
                ("Upgrade", "h2c"),
                ("Sec-WebSocket-Accept", "AAAA"),
                ("Sec-WebSocket-Protocol", "mqtt"),
                ("Sec-WebSocket-Extensions", "x-foo"),
            ],
        );
        assert_eq!(
            kinds(&validate_response(&head, &offer())),
            [
                HandshakeUpgradeHeader,
                HandshakeConnectionHeader,
                HandshakeAccept,
                HandshakeSubprotocol,
                HandshakeExtension,
            ]
        );
    }

    /// §4.1 step 1: a non-101 is handled as HTTP; the other steps do not apply to it.
    #[test]
    fn rfc6455_4_1_non_101_is_reported_alone() {
        let head = response("HTTP/1.1 403 Forbidden", &[("Content-Length", "0")]);
        assert_eq!(
            kinds(&validate_response(&head, &offer())),
            [ViolationKind::HandshakeStatus]
        );
    }

    #[test]
    fn rfc6455_4_1_tokens_are_case_insensitive() {
        let variants: [&[(&str, &str)]; 5] = [
            &[
                ("Upgrade", "WebSocket"),
                ("Connection", "keep-alive, Upgrade"),
                ("Sec-WebSocket-Accept", ACCEPT),
            ],
            &[
                ("upgrade", "WEBSOCKET"),
                ("connection", "UPGRADE"),
                ("sec-websocket-accept", ACCEPT),
            ],
            &[
                ("UPGRADE", "websocket"),
                ("Connection", "keep-alive"),
                ("Connection", "upgrade"),
                ("SEC-WEBSOCKET-ACCEPT", ACCEPT),
            ],
            &[
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade,keep-alive"),
                ("Sec-WebSocket-Accept", ACCEPT),
            ],
            &[
                ("Upgrade", "websocket"),
                ("Connection", "close, upgrade"),
                ("Sec-WebSocket-Accept", ACCEPT),
            ],
        ];
        for headers in variants {
            let head = response(OK_101, headers);
            assert_eq!(
                validate_response(&head, &offer()),
                Ok(Negotiated::default()),
                "{headers:?}"
            );
        }
    }

    #[test]
    fn rfc6455_4_1_accept_ignores_surrounding_whitespace() {
        // httparse already trims; a head built by hand shows the validator trims too.
        let head = ResponseHead {
            version: 1,
            status: 101,
            reason: "Switching Protocols".into(),
            headers: vec![
                ("Upgrade".into(), b"websocket".to_vec()),
                ("Connection".into(), b"Upgrade".to_vec()),
                (
                    "Sec-WebSocket-Accept".into(),
                    format!(" \t{ACCEPT} ").into_bytes(),
                ),
            ],
            head_len: 0,
        };
        assert_eq!(
            validate_response(&head, &offer()),
            Ok(Negotiated::default())
        );
    }

    #[test]
    fn rfc6455_4_1_extensions_in_use_are_the_items_as_sent() {
        let head = response(
            OK_101,
            &good_with(
                "",
                None,
                &[
                    (
                        "Sec-WebSocket-Extensions",
                        "permessage-deflate; client_max_window_bits=10",
                    ),
                    ("Sec-WebSocket-Extensions", "Permessage-Deflate"),
                ],
            ),
        );
        assert_eq!(
            validate_response(&head, &offer()),
            Ok(Negotiated {
                protocol: None,
                extensions: vec![
                    "permessage-deflate; client_max_window_bits=10".into(),
                    "Permessage-Deflate".into(),
                ],
            })
        );
    }

    #[test]
    fn rfc6455_4_1_client_request_bytes() {
        let req = ClientRequest::new("server.example.com", "/chat", KEY);
        assert_eq!(
            String::from_utf8(req.to_bytes()).unwrap(),
            "GET /chat HTTP/1.1\r\n\
             Host: server.example.com\r\n\
             Upgrade: websocket\r\n\
             Connection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n\
             \r\n"
        );
        // The §1.3 sample request, in wsprobe's header order, with everything optional set.
        let full = ClientRequest {
            origin: Some("http://example.com".into()),
            protocols: vec!["chat".into(), "superchat".into()],
            extensions: vec![
                "permessage-deflate; client_max_window_bits".into(),
                "x-foo".into(),
            ],
            headers: vec![
                ("Cookie".into(), "a=1".into()),
                ("X-Trace".into(), "t".into()),
            ],
            body: b"tail".to_vec(),
            ..req.clone()
        };
        assert_eq!(
            String::from_utf8(full.to_bytes()).unwrap(),
            "GET /chat HTTP/1.1\r\n\
             Host: server.example.com\r\n\
             Upgrade: websocket\r\n\
             Connection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n\
             Origin: http://example.com\r\n\
             Sec-WebSocket-Protocol: chat, superchat\r\n\
             Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-foo\r\n\
             Cookie: a=1\r\n\
             X-Trace: t\r\n\
             \r\n\
             tail"
        );
        assert_eq!(
            full.offer(),
            Offer {
                key: KEY.into(),
                protocols: vec!["chat".into(), "superchat".into()],
                extensions: vec!["permessage-deflate".into(), "x-foo".into()],
            }
        );
        // A server reading it sees what was offered.
        let Ok(Parse::Complete(head)) = parse_request(&full.to_bytes(), 8192) else {
            panic!("built request must parse")
        };
        assert_eq!(head.head_len, full.to_bytes().len() - 4);
        let valid = validate_request(&head).expect("built request is valid");
        assert_eq!(valid.offer(), full.offer());
        assert_eq!(valid.origin.as_deref(), Some("http://example.com"));
    }

    #[test]
    fn client_request_omits_what_is_none() {
        let req = ClientRequest {
            method: "POST".into(),
            http_version: "HTTP/1.0".into(),
            host: None,
            key: None,
            version: None,
            upgrade: None,
            connection: None,
            ..ClientRequest::new("h", "/", "k")
        };
        assert_eq!(req.to_bytes(), b"POST / HTTP/1.0\r\n\r\n");
        assert_eq!(req.offer(), Offer::default());
    }
}
