//! The reference client's opening handshake (RFC 6455 §4.1): the upgrade request it sends and
//! its judgement of the server's response, with the `accept-*` faults each switching off
//! exactly one of §4.1's checks.

use crate::wire::handshake::{
    ClientRequest, Negotiated, Offer, ResponseHead, validate_h2_response, validate_response,
};
use crate::wire::{Violation, ViolationKind};

use super::fault::{ClientFault, FaultSet};

/// The upgrade request for `path` on `host` with nonce `key`: version 13, no subprotocol, no
/// extension (RFC 6455 §4.1 steps 1–9); with `offer-deflate-unsupported`, a permessage-deflate
/// offer the client cannot honour.
pub fn request(host: &str, path: &str, key: &str, faults: &FaultSet) -> ClientRequest {
    let mut req = ClientRequest::new(host, path, key);
    if faults.has(ClientFault::OfferDeflateUnsupported) {
        req.extensions = vec!["permessage-deflate; client_max_window_bits".into()];
    }
    req
}

/// Judges the server's response as §4.1 requires, minus the checks the faults switch off.
/// `Ok` when the client goes on with the connection; `Err` lists what made it fail the
/// connection.
pub fn judge_response(
    head: &ResponseHead,
    offer: &Offer,
    faults: &FaultSet,
) -> Result<Negotiated, Vec<Violation>> {
    let result = if head.status != 101 && faults.has(ClientFault::AcceptAnyStatus) {
        // Judge the rest of the response as if it were a 101.
        let as_101 = ResponseHead {
            status: 101,
            ..head.clone()
        };
        validate_response(&as_101, offer)
    } else {
        validate_response(head, offer)
    };
    // §4.1: the handshake is an HTTP/1.1 exchange (an HTTP/1.0 response cannot switch
    // protocols: Upgrade is HTTP/1.1's). Checked here, as `validate_response` leaves the
    // version to its caller.
    let result = match result {
        _ if head.version == 1 || faults.has(ClientFault::AcceptHttp10) => result,
        Ok(_) => Err(vec![http10()]),
        Err(mut found) => {
            found.push(http10());
            Err(found)
        }
    };
    waive(result, head, faults)
}

/// Judges the response to an extended CONNECT over HTTP/2 (RFC 8441 §5: a 2xx, no
/// END_STREAM, no content length; the subprotocol and extensions as offered), minus what the
/// faults switch off (`accept-any-status` takes any status as the 2xx).
pub fn judge_h2_response(
    head: &ResponseHead,
    end_stream: bool,
    offer: &Offer,
    faults: &FaultSet,
) -> Result<Negotiated, Vec<Violation>> {
    let result = if !(200..300).contains(&head.status) && faults.has(ClientFault::AcceptAnyStatus) {
        let as_200 = ResponseHead {
            status: 200,
            ..head.clone()
        };
        validate_h2_response(&as_200, offer, end_stream)
    } else {
        validate_h2_response(head, offer, end_stream)
    };
    waive(result, head, faults)
}

/// Drops the problems the faults wave through; with none left the connection opens with what
/// the server claimed it selected.
fn waive(
    result: Result<Negotiated, Vec<Violation>>,
    head: &ResponseHead,
    faults: &FaultSet,
) -> Result<Negotiated, Vec<Violation>> {
    let ignored = |kind: ViolationKind| {
        let fault = match kind {
            ViolationKind::HandshakeAccept => ClientFault::AcceptBadAccept,
            ViolationKind::HandshakeUpgradeHeader => ClientFault::AcceptMissingUpgrade,
            ViolationKind::HandshakeConnectionHeader => ClientFault::AcceptMissingConnection,
            ViolationKind::HandshakeSubprotocol => ClientFault::AcceptUnofferedProtocol,
            ViolationKind::HandshakeExtension => ClientFault::AcceptUnofferedExtension,
            _ => return false,
        };
        faults.has(fault)
    };
    match result {
        Ok(negotiated) => Ok(negotiated),
        Err(found) => {
            let kept: Vec<Violation> = found.into_iter().filter(|v| !ignored(v.kind)).collect();
            if kept.is_empty() {
                let protocol = head
                    .header("sec-websocket-protocol")
                    .map(|p| p.trim().to_string());
                Ok(Negotiated {
                    protocol,
                    extensions: Vec::new(),
                })
            } else {
                Err(kept)
            }
        }
    }
}

fn http10() -> Violation {
    Violation::new(
        ViolationKind::HandshakeStatus,
        "the response is http/1.0; switching protocols needs http/1.1",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::handshake::{Parse, accept_for_key, parse_response};

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    fn head(status: u16, headers: &[(&str, String)]) -> ResponseHead {
        head_in("HTTP/1.1", status, headers)
    }

    fn head_in(version: &str, status: u16, headers: &[(&str, String)]) -> ResponseHead {
        let mut text = format!("{version} {status} Whatever\r\n");
        for (name, value) in headers {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        text.push_str("\r\n");
        match parse_response(text.as_bytes(), 8192) {
            Ok(Parse::Complete(head)) => head,
            other => panic!("test response must parse: {other:?}"),
        }
    }

    fn good() -> Vec<(&'static str, String)> {
        vec![
            ("Upgrade", "websocket".into()),
            ("Connection", "Upgrade".into()),
            ("Sec-WebSocket-Accept", accept_for_key(KEY)),
        ]
    }

    fn without(name: &str) -> Vec<(&'static str, String)> {
        good().into_iter().filter(|(n, _)| *n != name).collect()
    }

    fn with(extra: (&'static str, &str)) -> Vec<(&'static str, String)> {
        let mut h = good();
        h.push((extra.0, extra.1.to_string()));
        h
    }

    fn offer() -> Offer {
        request(
            "127.0.0.1:9001",
            "/runCase?case=1&agent=a",
            KEY,
            &FaultSet::default(),
        )
        .offer()
    }

    /// Each broken response is refused by the conformant client, accepted by the client with
    /// exactly its fault, and still refused by a client with any other accept-* fault.
    #[test]
    fn rfc6455_4_1_each_accept_fault_waives_exactly_its_check() {
        let accept_faults = [
            ClientFault::AcceptBadAccept,
            ClientFault::AcceptAnyStatus,
            ClientFault::AcceptMissingUpgrade,
            ClientFault::AcceptMissingConnection,
            ClientFault::AcceptUnofferedProtocol,
            ClientFault::AcceptUnofferedExtension,
            ClientFault::AcceptHttp10,
        ];
        let mut bad_accept = good();
        bad_accept[2].1 = accept_for_key("another key");
        let table: Vec<(&str, ResponseHead, ClientFault)> = vec![
            (
                "wrong accept",
                head(101, &bad_accept),
                ClientFault::AcceptBadAccept,
            ),
            (
                "no accept",
                head(101, &without("Sec-WebSocket-Accept")),
                ClientFault::AcceptBadAccept,
            ),
            (
                "status 200",
                head(200, &good()),
                ClientFault::AcceptAnyStatus,
            ),
            (
                "status 302",
                head(302, &good()),
                ClientFault::AcceptAnyStatus,
            ),
            (
                "no upgrade",
                head(101, &without("Upgrade")),
                ClientFault::AcceptMissingUpgrade,
            ),
            (
                "no connection",
                head(101, &without("Connection")),
                ClientFault::AcceptMissingConnection,
            ),
            (
                "unoffered protocol",
                head(101, &with(("Sec-WebSocket-Protocol", "x-unoffered"))),
                ClientFault::AcceptUnofferedProtocol,
            ),
            (
                "unoffered extension",
                head(
                    101,
                    &with(("Sec-WebSocket-Extensions", "permessage-deflate")),
                ),
                ClientFault::AcceptUnofferedExtension,
            ),
            (
                "http/1.0",
                head_in("HTTP/1.0", 101, &good()),
                ClientFault::AcceptHttp10,
            ),
        ];
        for (what, response, fault) in &table {
            assert!(
                judge_response(response, &offer(), &FaultSet::default()).is_err(),
                "{what}: the conformant client must refuse"
            );
            assert!(
                judge_response(response, &offer(), &FaultSet::new([*fault])).is_ok(),
                "{what}: {} must accept",
                fault.name()
            );
            for other in accept_faults.iter().filter(|f| *f != fault) {
                assert!(
                    judge_response(response, &offer(), &FaultSet::new([*other])).is_err(),
                    "{what}: {} must still refuse",
                    other.name()
                );
            }
        }
        // A status other than 101 with a broken header needs both faults.
        let both = head(200, &without("Upgrade"));
        assert!(
            judge_response(
                &both,
                &offer(),
                &FaultSet::new([ClientFault::AcceptAnyStatus])
            )
            .is_err()
        );
        let lenient = FaultSet::new([
            ClientFault::AcceptAnyStatus,
            ClientFault::AcceptMissingUpgrade,
        ]);
        assert!(judge_response(&both, &offer(), &lenient).is_ok());
    }

    #[test]
    fn rfc6455_4_1_a_correct_response_opens_the_connection() {
        let negotiated = judge_response(&head(101, &good()), &offer(), &FaultSet::default())
            .expect("a correct 101 is accepted");
        assert_eq!(negotiated, Negotiated::default());
    }

    #[test]
    fn the_request_offers_nothing_but_the_key() {
        let req = request("127.0.0.1:9001", "/getCaseCount", KEY, &FaultSet::default());
        let text = String::from_utf8(req.to_bytes()).expect("ascii");
        assert!(text.starts_with("GET /getCaseCount HTTP/1.1\r\nHost: 127.0.0.1:9001\r\n"));
        assert!(text.contains(&format!("Sec-WebSocket-Key: {KEY}\r\n")));
        assert!(text.contains("Sec-WebSocket-Version: 13\r\n"));
        assert!(!text.contains("Sec-WebSocket-Protocol"));
        assert!(!text.contains("Sec-WebSocket-Extensions"));
        // The one fault that offers an extension, permessage-deflate, it cannot honour.
        let faulty = FaultSet::new([ClientFault::OfferDeflateUnsupported]);
        let text = String::from_utf8(request("h", "/", KEY, &faulty).to_bytes()).expect("ascii");
        assert!(
            text.contains(
                "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
            )
        );
    }
}
