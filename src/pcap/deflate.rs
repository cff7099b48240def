//! permessage-deflate (RFC 7692) in a capture, through the same sans-IO layer the runner and the
//! reference server use ([`crate::wire::deflate`]): nothing here parses parameters or inflates.
//!
//! [`from_handshake`] reads the client's offers and checks the server's answer the way a client
//! does ([`check_response`]: RFC 7692 §5.1, §7, §7.1); the findings are the server's. Each
//! direction then gets a [`Receiver`] (see `websocket.rs`) built from the agreed
//! [`Negotiated`] parameters, so RSV1 (§6.1), invalid data (§7.2.2), window bits (§7.1.2) and
//! context takeover (§7.1.1) are judged exactly as live.

use crate::wire::deflate::{
    DeflateOffer, DeflateResponse, EXTENSION_NAME, Finding, FindingKind, Negotiated,
    check_response, parse_offers,
};
use crate::wire::handshake::parse_extensions;

use super::events::DeflateParams;

/// What the captured handshake says about permessage-deflate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Negotiation {
    /// The parameters both ends work with, when the response accepted the extension (even
    /// with findings: the peers go on as the response says, and so does the decoder).
    pub negotiated: Option<Negotiated>,
    /// What is wrong with the response, the server's fault (§5.1, §7).
    pub findings: Vec<Finding>,
}

/// Judges the server's `Sec-WebSocket-Extensions` value (`response_value`, empty when absent)
/// against the client's (`request_value`).
///
/// Offers that are themselves invalid (§7) are left out: the server MUST decline them, so a
/// response can only validly accept one of the others. A response that accepts the extension
/// although the request never named it is the RFC 6455 §4.1 `handshake-extension` violation,
/// reported by the handshake check; it is not reported a second time here.
pub fn from_handshake(request_value: &str, response_value: &str) -> Negotiation {
    let elements = parse_offers(request_value);
    let named = !elements.is_empty();
    let offers: Vec<DeflateOffer> = elements
        .iter()
        .filter_map(|params| {
            let (offer, findings) = DeflateOffer::from_params(params);
            findings.is_empty().then_some(offer)
        })
        .collect();
    let check = check_response(&offers, response_value);
    let mut findings = check.findings;
    let mut negotiated = check.negotiated;
    if negotiated.is_none()
        && let Some(params) = parse_extensions(response_value)
            .into_iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(EXTENSION_NAME))
            .map(|(_, params)| params)
    {
        // Accepted without a valid offer: the server compresses as its response says.
        if named {
            for f in &mut findings {
                if f.kind == FindingKind::ResponseNotOffered {
                    f.detail = "the response accepts permessage-deflate although every offer \
                                was invalid and had to be declined"
                        .into();
                }
            }
        } else {
            findings.retain(|f| f.kind != FindingKind::ResponseNotOffered);
        }
        let (response, _) = DeflateResponse::from_params(&params);
        negotiated = Some(Negotiated::agree(&DeflateOffer::default(), &response));
    }
    Negotiation {
        negotiated,
        findings,
    }
}

/// The agreed parameters as the handshake event reports them.
pub fn params(n: &Negotiated) -> DeflateParams {
    DeflateParams {
        server_no_context_takeover: n.server_no_context_takeover,
        client_no_context_takeover: n.client_no_context_takeover,
        server_max_window_bits: n.server_max_window_bits,
        client_max_window_bits: n.client_max_window_bits,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7692_7_1_agreed_parameters_come_from_offer_and_response() {
        let n = from_handshake(
            "permessage-deflate; client_max_window_bits; server_no_context_takeover",
            "permessage-deflate; server_max_window_bits=12; client_max_window_bits=10; \
             server_no_context_takeover",
        );
        assert!(n.findings.is_empty(), "{:?}", n.findings);
        let agreed = n.negotiated.expect("negotiated");
        assert_eq!(agreed.server_max_window_bits, 12);
        assert_eq!(agreed.client_max_window_bits, 10);
        assert!(agreed.server_no_context_takeover && !agreed.client_no_context_takeover);
        assert_eq!(
            from_handshake("permessage-deflate", "x-foo"),
            Negotiation::default()
        );
    }

    #[test]
    fn rfc7692_7_1_2_2_a_response_parameter_not_offered_is_the_servers_finding() {
        let n = from_handshake(
            "permessage-deflate",
            "permessage-deflate; client_max_window_bits=10",
        );
        let kinds: Vec<_> = n.findings.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, [FindingKind::ResponseClientMaxWindowBitsNotOffered]);
        assert!(
            n.negotiated.is_some(),
            "decoding goes on as the response says"
        );
    }

    #[test]
    fn rfc7692_5_1_accepting_without_a_valid_offer() {
        // Every offer invalid: the server had to decline.
        let n = from_handshake(
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate",
        );
        assert_eq!(n.findings.len(), 1);
        assert_eq!(n.findings[0].kind, FindingKind::ResponseNotOffered);
        assert!(n.findings[0].detail.contains("every offer was invalid"));
        assert_eq!(n.negotiated, Some(Negotiated::default()));
        // Never named: RFC 6455's handshake-extension says it; nothing more here.
        let n = from_handshake("", "permessage-deflate; server_no_context_takeover");
        assert!(n.findings.is_empty());
        assert!(
            n.negotiated
                .expect("decoded anyway")
                .server_no_context_takeover
        );
    }
}
