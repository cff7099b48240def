//! The opening handshake of the raw servers (RFC 6455 §4.2): reading the request head within
//! [`MAX_HEAD`] bytes, judging it with [`validate_request`] (§4.2.1) and answering with a 101
//! (§4.2.2) or the HTTP error the rejection names (§4.4), with the handshake faults applied
//! where the baseline makes the decision they change. The extensions offered are answered by
//! `deflate.rs` (permessage-deflate, RFC 7692 §5.1). It may use `wire`, tokio, and sha1 and
//! base64 for the `wrong-accept` and `accept-bad-key-length` faults.

use crate::net::Stream as TcpStream;
use base64::Engine as _;
use sha1::{Digest, Sha1};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::deflate;
use crate::serve::Fault;
use crate::serve::connection::SUBPROTOCOLS;
use crate::wire::deflate::Negotiated;
use crate::wire::handshake::{
    Parse, RequestHead, accept_for_key, build_error_response, build_response_101, parse_request,
    validate_request,
};

/// Largest request head read before the request is refused with 400.
pub(super) const MAX_HEAD: usize = 16 * 1024;

/// The key the `accept-missing-key` and `accept-bad-key-length` faults substitute so that the
/// rest of the request is still judged: 16 zero bytes.
const PLACEHOLDER_KEY: &str = "AAAAAAAAAAAAAAAAAAAAAA==";

/// An accepted upgrade: the bytes that followed the request head, and the permessage-deflate
/// parameters when the extension was agreed.
pub(in crate::serve) struct Opened {
    pub(in crate::serve) leftover: Vec<u8>,
    pub(in crate::serve) deflate: Option<Negotiated>,
}

/// Reads and answers the opening handshake. `None` when the upgrade was refused or the client
/// went away.
pub(super) async fn handshake(tcp: &mut TcpStream, fault: Fault) -> Option<Opened> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head = loop {
        match parse_request(&buf, MAX_HEAD) {
            Ok(Parse::Complete(head)) => break head,
            Ok(Parse::Partial) => {}
            Err(e) => {
                let _ = write_flushed(tcp, &build_error_response(400, &e.to_string())).await;
                return None;
            }
        }
        match tcp.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let leftover = buf.split_off(head.head_len.min(buf.len()));
    match answer(&head, fault) {
        Ok((response, deflate)) => write_flushed(tcp, &response)
            .await
            .ok()
            .map(|()| Opened { leftover, deflate }),
        Err(response) => {
            let _ = write_flushed(tcp, &response).await;
            None
        }
    }
}

/// Writes `bytes` and flushes them (a TLS record must leave rustls's buffer).
async fn write_flushed(tcp: &mut TcpStream, bytes: &[u8]) -> std::io::Result<()> {
    tcp.write_all(bytes).await?;
    tcp.flush().await
}

/// The answer to an upgrade request: `Ok` with a 101 response and the permessage-deflate
/// parameters agreed in it, or `Err` with an HTTP error.
fn answer(head: &RequestHead, fault: Fault) -> Result<(Vec<u8>, Option<Negotiated>), Vec<u8>> {
    // The key as sent, for the accept value: `accept-bad-key-length` judges a placeholder but
    // still answers for the real key.
    let sent_key = head.header("sec-websocket-key").map(str::to_string);
    let head = lenient(head, fault);
    if fault == Fault::CaseSensitiveUpgrade && head.header_values("upgrade") != [b"websocket"] {
        let reason = "upgrade is not exactly 'websocket'";
        return Err(build_error_response(400, reason));
    }
    let valid = validate_request(&head).map_err(|rejection| {
        let status = match (fault, rejection.status) {
            (Fault::No426, 426) => 400,
            (_, status) => status,
        };
        let response = build_error_response(status, &rejection.reason);
        if fault == Fault::NoVersionIn426 {
            without(&response, "Sec-WebSocket-Version: 13\r\n")
        } else {
            response
        }
    })?;
    let protocol = if fault == Fault::UnofferedSubprotocol {
        Some("x-unoffered")
    } else {
        valid
            .protocols
            .iter()
            .map(String::as_str)
            .find(|p| SUBPROTOCOLS.contains(p))
    };
    let extensions = deflate::answer(&valid.extensions, fault);
    let key = sent_key.as_deref().unwrap_or(&valid.key);
    let response = build_response_101(key, protocol, &extensions.items, &[]);
    let response = match fault {
        Fault::WrongAccept => replaced(&response, &accept_for_key(key), &accept_without_guid(key)),
        Fault::Status200 => replaced(
            &response,
            "HTTP/1.1 101 Switching Protocols\r\n",
            "HTTP/1.1 200 OK\r\n",
        ),
        Fault::NoUpgradeIn101 => without(&response, "Upgrade: websocket\r\n"),
        Fault::NoConnectionIn101 => without(&response, "Connection: Upgrade\r\n"),
        _ => response,
    };
    Ok((response, extensions.negotiated))
}

/// The request as a fault that skips one §4.2.1 check sees it: the field it does not check is
/// made to pass, so every other check still runs.
fn lenient(head: &RequestHead, fault: Fault) -> RequestHead {
    let mut head = head.clone();
    match fault {
        Fault::AcceptMissingKey if head.header_values("sec-websocket-key").is_empty() => {
            set_header(&mut head, "Sec-WebSocket-Key", PLACEHOLDER_KEY);
        }
        Fault::AcceptBadKeyLength => {
            let wrong_length = head.header("sec-websocket-key").is_some_and(|key| {
                base64::engine::general_purpose::STANDARD
                    .decode(key.trim())
                    .is_ok_and(|nonce| nonce.len() != 16)
            });
            if wrong_length {
                set_header(&mut head, "Sec-WebSocket-Key", PLACEHOLDER_KEY);
            }
        }
        Fault::AcceptRepeatedKey => {
            let keys = head.header_values("sec-websocket-key");
            if keys.len() > 1 {
                let first = String::from_utf8_lossy(keys[0]).into_owned();
                set_header(&mut head, "Sec-WebSocket-Key", &first);
            }
        }
        Fault::AcceptNonBase64Key => {
            let not_base64 = head.header("sec-websocket-key").is_some_and(|key| {
                base64::engine::general_purpose::STANDARD
                    .decode(key.trim())
                    .is_err()
            });
            if not_base64 {
                set_header(&mut head, "Sec-WebSocket-Key", PLACEHOLDER_KEY);
            }
        }
        Fault::AcceptAnyVersion => set_header(&mut head, "Sec-WebSocket-Version", "13"),
        Fault::AcceptMissingHost if head.header_values("host").is_empty() => {
            set_header(&mut head, "Host", "localhost");
        }
        Fault::AcceptPost => head.method = "GET".into(),
        Fault::AcceptHttp10 => head.version = head.version.max(1),
        Fault::AcceptMissingUpgrade => set_header(&mut head, "Upgrade", "websocket"),
        Fault::AcceptMissingConnection => set_header(&mut head, "Connection", "Upgrade"),
        _ => {}
    }
    head
}

/// Replaces every field called `name` (case-insensitively) by one with `value`.
fn set_header(head: &mut RequestHead, name: &str, value: &str) {
    head.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    head.headers
        .push((name.to_string(), value.as_bytes().to_vec()));
}

/// `response` with the first `from` replaced by `to`. Responses built by `wire` are UTF-8
/// (every field value in them is a `&str`), so the lossy conversion changes nothing.
fn replaced(response: &[u8], from: &str, to: &str) -> Vec<u8> {
    String::from_utf8_lossy(response)
        .replacen(from, to, 1)
        .into_bytes()
}

/// `response` without the first occurrence of `line`.
fn without(response: &[u8], line: &str) -> Vec<u8> {
    replaced(response, line, "")
}

/// What `wrong-accept` answers: base64(SHA-1(key)), the §1.3 computation without the GUID.
fn accept_without_guid(key: &str) -> String {
    let digest = Sha1::digest(key.trim().as_bytes());
    base64::engine::general_purpose::STANDARD.encode(digest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ViolationKind;
    use crate::wire::handshake::{Negotiated, ResponseHead, parse_response, validate_response};

    const REQUEST: &str = "GET /chat HTTP/1.1\r\n\
        Host: server.example.com\r\n\
        Upgrade: websocket\r\n\
        Connection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Sec-WebSocket-Protocol: x-other, superchat, chat\r\n\
        Sec-WebSocket-Version: 13\r\n\
        \r\n";

    fn request(text: &str) -> RequestHead {
        match parse_request(text.as_bytes(), MAX_HEAD) {
            Ok(Parse::Complete(head)) => head,
            other => panic!("test request must parse: {other:?}"),
        }
    }

    fn response(bytes: &[u8]) -> ResponseHead {
        match parse_response(bytes, MAX_HEAD) {
            Ok(Parse::Complete(head)) => head,
            other => panic!("response must parse: {other:?}"),
        }
    }

    fn offer() -> crate::wire::handshake::Offer {
        crate::wire::handshake::Offer {
            key: "dGhlIHNhbXBsZSBub25jZQ==".into(),
            protocols: vec!["x-other".into(), "superchat".into(), "chat".into()],
            extensions: vec![],
        }
    }

    #[test]
    fn rfc6455_4_2_2_baseline_answers_the_sample_request() {
        let (ok, _) = answer(&request(REQUEST), Fault::None).expect("accepted");
        let head = response(&ok);
        assert_eq!(
            validate_response(&head, &offer()),
            Ok(Negotiated {
                protocol: Some("superchat".into()),
                extensions: vec![],
            })
        );
        assert_eq!(
            head.header("sec-websocket-accept"),
            Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        );
    }

    #[test]
    fn rfc6455_4_4_baseline_refuses_a_bad_version_with_426() {
        let text = REQUEST.replace("Version: 13", "Version: 8");
        let refused = answer(&request(&text), Fault::None).expect_err("refused");
        let head = response(&refused);
        assert_eq!(head.status, 426);
        assert_eq!(head.header("sec-websocket-version"), Some("13"));
        let refused = answer(&request(&text), Fault::No426).expect_err("refused");
        let head = response(&refused);
        assert_eq!(head.status, 400);
        assert_eq!(head.header("sec-websocket-version"), None);
        let refused = answer(&request(&text), Fault::NoVersionIn426).expect_err("refused");
        let head = response(&refused);
        assert_eq!(head.status, 426);
        assert_eq!(head.header("sec-websocket-version"), None);
    }

    /// Each response fault breaks the one §4.1 check it is about.
    #[test]
    fn response_faults_fail_the_client_checks() {
        let cases = [
            (Fault::WrongAccept, ViolationKind::HandshakeAccept),
            (Fault::Status200, ViolationKind::HandshakeStatus),
            (Fault::NoUpgradeIn101, ViolationKind::HandshakeUpgradeHeader),
            (
                Fault::NoConnectionIn101,
                ViolationKind::HandshakeConnectionHeader,
            ),
            (
                Fault::UnofferedSubprotocol,
                ViolationKind::HandshakeSubprotocol,
            ),
        ];
        for (fault, kind) in cases {
            let (ok, _) = answer(&request(REQUEST), fault).expect("accepted");
            let found = validate_response(&response(&ok), &offer()).expect_err("invalid");
            let kinds: Vec<_> = found.iter().map(|v| v.kind).collect();
            assert_eq!(kinds, [kind], "{fault}");
        }
    }

    #[test]
    fn accept_without_guid_differs_from_the_real_accept() {
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        assert_ne!(accept_without_guid(key), accept_for_key(key));
        assert_eq!(accept_without_guid(key).len(), 28);
    }

    #[test]
    fn lenient_faults_each_skip_one_check() {
        let cases: [(Fault, &str, Option<&str>); 8] = [
            (Fault::AcceptMissingKey, "Sec-WebSocket-Key", None),
            (
                Fault::AcceptBadKeyLength,
                "Sec-WebSocket-Key",
                Some("Sec-WebSocket-Key: AAAAAAAAAAA="),
            ),
            (Fault::AcceptAnyVersion, "Sec-WebSocket-Version", None),
            (
                Fault::AcceptAnyVersion,
                "Sec-WebSocket-Version",
                Some("Sec-WebSocket-Version: 8"),
            ),
            (Fault::AcceptMissingHost, "Host", None),
            (Fault::AcceptPost, "GET", Some("POST /chat HTTP/1.1")),
            (Fault::AcceptMissingUpgrade, "Upgrade", None),
            (Fault::AcceptMissingConnection, "Connection", None),
        ];
        for (fault, start, replacement) in cases {
            let text: String = REQUEST
                .split_inclusive("\r\n")
                .filter_map(|line| match (line.starts_with(start), replacement) {
                    (false, _) => Some(line.to_string()),
                    (true, Some(r)) => Some(format!("{r}\r\n")),
                    (true, None) => None,
                })
                .collect();
            let head = request(&text);
            assert!(
                answer(&head, Fault::None).is_err(),
                "baseline refuses {start}"
            );
            assert!(answer(&head, fault).is_ok(), "{fault} accepts");
            // The other checks still run.
            let broken = text.replace("Connection: Upgrade\r\n", "Connection: close\r\n");
            if fault != Fault::AcceptMissingConnection {
                assert!(answer(&request(&broken), fault).is_err(), "{fault}");
            }
        }
        let old = request(&REQUEST.replace("HTTP/1.1\r\n", "HTTP/1.0\r\n"));
        assert!(answer(&old, Fault::None).is_err());
        assert!(answer(&old, Fault::AcceptHttp10).is_ok());
    }

    #[test]
    fn case_sensitive_upgrade_refuses_what_the_baseline_accepts() {
        let mixed = request(&REQUEST.replace("Upgrade: websocket", "Upgrade: WebSocket"));
        assert!(answer(&mixed, Fault::None).is_ok());
        let refused = answer(&mixed, Fault::CaseSensitiveUpgrade).expect_err("refused");
        assert_eq!(response(&refused).status, 400);
        assert!(answer(&request(REQUEST), Fault::CaseSensitiveUpgrade).is_ok());
    }

    #[test]
    fn extensions_are_accepted_only_by_the_fault() {
        let text = REQUEST.replace(
            "Sec-WebSocket-Version",
            "Sec-WebSocket-Extensions: x-unknown; a=1\r\nSec-WebSocket-Version",
        );
        let (ok, _) = answer(&request(&text), Fault::None).expect("accepted");
        assert_eq!(response(&ok).header("sec-websocket-extensions"), None);
        let (ok, _) = answer(&request(&text), Fault::AcceptUnknownExtension).expect("accepted");
        assert_eq!(
            response(&ok).header("sec-websocket-extensions"),
            Some("x-unknown; a=1")
        );
    }
}
