//! permessage-deflate on a runner connection (RFC 7692): judging the server's answer to what
//! wsprobe offered, and the per-connection state once it is agreed (a [`Compressor`] for what
//! wsprobe sends, a [`Receiver`] for what the server sends).
//!
//! wsprobe, as a client, fails the connection on every response a client MUST fail on (§5.1,
//! §7, §7.1): the findings become handshake violations, so the case FAILs whatever it
//! expected. An offer wsprobe wrote invalid on purpose is one the server MUST decline (§7);
//! a server that accepts it anyway is reported with the offer's own finding.

use crate::wire::deflate::{
    Compressor, DeflateError, DeflateOffer, DeflateResponse, EXTENSION_NAME, Finding, FindingKind,
    Negotiated, Receiver, check_response, parse_offers,
};
use crate::wire::handshake::parse_extensions;
use crate::wire::{Level, Role, Violation};

/// zlib level of everything wsprobe compresses: the fastest. The level is not a conformance
/// matter (any valid DEFLATE data is), and the 12.x/13.x echo loops move gigabytes.
pub const LEVEL: u32 = 1;

/// What the server's `Sec-WebSocket-Extensions` answer means for permessage-deflate.
#[derive(Debug, Default)]
pub struct Agreement {
    /// The agreed parameters, when the server accepted an offer validly.
    pub negotiated: Option<Negotiated>,
    /// The accepted element's parameters, as the server wrote them.
    pub response: Option<DeflateResponse>,
    /// What the server did wrong; MUST-level ones fail the handshake.
    pub violations: Vec<Violation>,
    /// Harmless remarks for the trace (a window answer above wsprobe's hint, say).
    pub notes: Vec<String>,
}

/// Judges `accepted` (the response's extension elements, as sent) against `offered` (the
/// request's extension elements, as sent).
pub fn agree(offered: &[String], accepted: &[String]) -> Agreement {
    let mut valid = Vec::new();
    let mut invalid: Vec<(DeflateOffer, Vec<Finding>)> = Vec::new();
    for params in offered.iter().flat_map(|item| parse_offers(item)) {
        let (offer, findings) = DeflateOffer::from_params(&params);
        if findings.is_empty() {
            valid.push(offer);
        } else {
            invalid.push((offer, findings));
        }
    }
    let response_value = accepted.join(", ");
    let mut out = Agreement {
        response: first_element(accepted),
        ..Agreement::default()
    };
    if out.response.is_none() {
        return out;
    }
    let check = check_response(&valid, &response_value);
    if check.negotiated.is_some() && !check.must_fail() {
        out.negotiated = check.negotiated;
        out.notes = check.findings.iter().map(|f| f.to_string()).collect();
        return out;
    }
    // Not a valid answer to a valid offer: did the server accept one it had to decline? When
    // every offer was invalid, any acceptance is one; otherwise only an answer that fits an
    // invalid offer better than the valid ones.
    let offers: Vec<DeflateOffer> = invalid.iter().map(|(o, _)| *o).collect();
    let retry = check_response(&offers, &response_value);
    let accepted_invalid = match retry.offer_index {
        Some(i) if valid.is_empty() || !retry.must_fail() => Some(i),
        None if valid.is_empty() && !invalid.is_empty() => Some(0),
        _ => None,
    };
    if let Some(i) = accepted_invalid {
        out.violations = invalid[i]
            .1
            .iter()
            .filter(|f| f.level() == Level::Must)
            .map(|f| {
                Violation::from(Finding::new(
                    f.kind,
                    format!("the server accepted an offer it must decline: {}", f.detail),
                ))
            })
            .collect();
        return out;
    }
    for f in check.findings {
        if f.level() == Level::Must {
            out.violations.push(Violation::from(f));
        } else {
            out.notes.push(f.to_string());
        }
    }
    if out.violations.is_empty() {
        // check_response found nothing to match (no offer at all was valid).
        out.violations.push(Violation::from(Finding::new(
            FindingKind::ResponseNotOffered,
            "the response accepts permessage-deflate, which no valid offer asked for",
        )));
    }
    out
}

/// The parameters of the first permessage-deflate element among `accepted`.
fn first_element(accepted: &[String]) -> Option<DeflateResponse> {
    accepted
        .iter()
        .flat_map(|item| parse_extensions(item))
        .find(|(name, _)| name.eq_ignore_ascii_case(EXTENSION_NAME))
        .map(|(_, params)| DeflateResponse::from_params(&params).0)
}

/// The server's answer to a client's permessage-deflate offers (RFC 7692 §5.1, §7): the
/// first offer wsprobe can accept, with what the case asks of the client. A case written as a
/// client's offer (`server_no_context_takeover`, `server_max_window_bits=N`) asks the same of
/// the client when wsprobe is the server (`client_no_context_takeover`,
/// `client_max_window_bits=N`, the latter only when the client offered it), as Autobahn's
/// 13.x cases do in both roles.
pub fn answer(
    client_items: &[String],
    case_offer: &[String],
) -> Option<crate::wire::deflate::Accepted> {
    let offers: Vec<_> = client_items
        .iter()
        .flat_map(|item| parse_offers(item))
        .collect();
    if offers.is_empty() {
        return None;
    }
    let wanted = case_offer
        .iter()
        .flat_map(|item| parse_offers(item))
        .map(|p| DeflateOffer::from_params(&p).0)
        .next()
        .unwrap_or_default();
    let policy = crate::wire::deflate::ServerPolicy {
        client_no_context_takeover: wanted.server_no_context_takeover,
        client_max_window_bits: wanted.server_max_window_bits,
        ..Default::default()
    };
    crate::wire::deflate::negotiate(&offers, &policy).accepted
}

/// permessage-deflate on an open connection.
#[derive(Debug)]
pub struct Deflate {
    /// What was agreed.
    pub negotiated: Negotiated,
    /// wsprobe's compressor (client role).
    pub tx: Compressor,
    /// The server's messages.
    pub rx: Receiver,
    /// The role wsprobe plays (whose parameters its compressor uses).
    pub role: Role,
}

impl Deflate {
    /// The state for a connection that agreed on `negotiated`; received messages may inflate
    /// to at most `max_message` bytes.
    pub fn new(negotiated: Negotiated, max_message: u64) -> Result<Deflate, DeflateError> {
        Ok(Deflate {
            tx: Compressor::for_sender(&negotiated, Role::Client, LEVEL)?,
            rx: Receiver::new(&negotiated, Role::Server, max_message)?,
            negotiated,
            role: Role::Client,
        })
    }

    /// Forgets the compressor's window: the server's inflater saw compressed bytes wsprobe's
    /// compressor did not produce (a hand-built frame, a special form), so later messages must
    /// not refer back past them.
    pub fn reset_tx(&mut self) -> Result<(), DeflateError> {
        self.tx = Compressor::for_sender(&self.negotiated, self.role, LEVEL)?;
        Ok(())
    }

    /// permessage-deflate with wsprobe as the server: it compresses with the server's
    /// parameters and inflates with the client's.
    pub fn new_server(negotiated: Negotiated, max_message: u64) -> Result<Deflate, DeflateError> {
        Ok(Deflate {
            tx: Compressor::for_sender(&negotiated, Role::Server, LEVEL)?,
            rx: Receiver::new(&negotiated, Role::Client, max_message)?,
            negotiated,
            role: Role::Server,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ViolationKind;

    fn kinds(a: &Agreement) -> Vec<FindingKind> {
        a.violations
            .iter()
            .filter_map(|v| match v.kind {
                ViolationKind::Deflate(k) => Some(k),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn rfc7692_5_1_a_valid_answer_agrees() {
        let a = agree(
            &["permessage-deflate; server_max_window_bits=10".into()],
            &["permessage-deflate; server_max_window_bits=9".into()],
        );
        assert!(a.violations.is_empty(), "{:?}", a.violations);
        assert_eq!(a.negotiated.unwrap().server_max_window_bits, 9);
        let none = agree(&["permessage-deflate".into()], &[]);
        assert!(none.negotiated.is_none() && none.violations.is_empty());
    }

    #[test]
    fn rfc7692_7_accepting_an_invalid_offer_is_named() {
        let a = agree(
            &["permessage-deflate; x_unknown".into()],
            &["permessage-deflate".into()],
        );
        assert_eq!(kinds(&a), vec![FindingKind::OfferUnknownParameter]);
        // With a valid fall-back offer, the same answer accepts the valid one.
        let b = agree(
            &[
                "permessage-deflate; x_unknown".into(),
                "permessage-deflate".into(),
            ],
            &["permessage-deflate".into()],
        );
        assert!(b.violations.is_empty() && b.negotiated.is_some());
        // Every offer invalid: any acceptance accepted one of them, whatever it answers.
        let c = agree(
            &["permessage-deflate; server_max_window_bits=10; server_max_window_bits=11".into()],
            &["permessage-deflate; server_max_window_bits=12".into()],
        );
        assert_eq!(kinds(&c), vec![FindingKind::OfferDuplicateParameter]);
    }

    #[test]
    fn rfc7692_7_1_2_1_a_larger_window_than_offered_fails() {
        let a = agree(
            &["permessage-deflate; server_max_window_bits=9".into()],
            &["permessage-deflate; server_max_window_bits=15".into()],
        );
        assert_eq!(kinds(&a), vec![FindingKind::ResponseServerMaxWindowBits]);
        assert!(a.negotiated.is_none());
    }
}
