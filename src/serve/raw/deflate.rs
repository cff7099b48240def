//! permessage-deflate (RFC 7692) in the raw servers: answering the offers of the opening
//! handshake (§5.1, §7) and the per-connection state that inflates what the client sends and
//! compresses the echoes (§6, §7.2), with the deflate faults applied where the baseline makes
//! the decision each one changes. It may use `wire` (its `deflate` layer does the work) and
//! nothing else.
//!
//! The baseline accepts the first acceptable `permessage-deflate` offer with
//! [`negotiate`] and the default [`ServerPolicy`] (every parameter honoured, nothing
//! volunteered, invalid offers declined, fall-back to the next offer), compresses every echo at
//! zlib level 1 ([`LEVEL`]) with the agreed window bits and without context takeover (each
//! message on its own, which §7.1.1.1 always allows), and inflates
//! what it receives through a [`Receiver`] bounded by the server's message limit. The frame
//! loop calls [`Conn::inflate`] for every frame before the RFC 6455 rules judge it.

use super::{Conn, Flow};
use crate::serve::Fault;
use crate::wire::close::PROTOCOL_ERROR;
use crate::wire::deflate::offer::MAX_WINDOW_BITS;
use crate::wire::deflate::{
    Compressor, DeflateError, DeflateOffer, DeflateResponse, EXTENSION_NAME, Negotiated, Receiver,
    ServerPolicy, negotiate, parse_offers,
};
use crate::wire::deflate::{Finding, FindingKind};
use crate::wire::frame::{FrameHeader, Opcode};
use crate::wire::handshake::{ExtensionParam, parse_extensions};
use crate::wire::{Role, ViolationKind};

/// The zlib level of the server's compressor: the fastest. How well a server compresses is no
/// conformance matter, and the 12.x/13.x echo loops are bound by compression speed.
pub(super) const LEVEL: u32 = 1;

/// What the server answers in `Sec-WebSocket-Extensions` and works with afterwards.
#[derive(Debug, Default, PartialEq, Eq)]
pub(in crate::serve) struct Answer {
    /// The response's extension items, in order.
    pub(in crate::serve) items: Vec<String>,
    /// The parameters the connection uses, when permessage-deflate was accepted.
    pub(in crate::serve) negotiated: Option<Negotiated>,
}

/// Answers the offered extension items (each as sent: `name; param=value`).
pub(in crate::serve) fn answer(offered: &[String], fault: Fault) -> Answer {
    let value = offered.join(", ");
    let mut offers = parse_offers(&value);
    if fault == Fault::DeflateAcceptInvalidOffer {
        offers = offers.iter().map(|params| valid_part(params)).collect();
    }
    let decision = negotiate(&offers, &ServerPolicy::default());
    let mut answer = Answer::default();
    if let Some(accepted) = decision.accepted {
        let response = faulty_response(&accepted.offer, accepted.response, fault);
        let item = response.to_header_item();
        if fault == Fault::DeflateTwoElements {
            answer.items.push(item.clone());
        }
        answer.items.push(item);
        answer.negotiated = Some(accepted.negotiated);
    }
    if fault == Fault::AcceptUnknownExtension {
        answer
            .items
            .extend(offered.iter().filter(|item| !is_deflate(item)).cloned());
    }
    answer
}

fn is_deflate(item: &str) -> bool {
    parse_extensions(item)
        .first()
        .is_some_and(|(name, _)| name.eq_ignore_ascii_case(EXTENSION_NAME))
}

/// `deflate-accept-invalid-offer`: the parameters of an offer that are valid on their own, each
/// once, so an offer the baseline must decline (§7) is accepted as if its invalid parts were
/// not there.
fn valid_part(params: &[ExtensionParam]) -> Vec<ExtensionParam> {
    let mut kept: Vec<ExtensionParam> = Vec::new();
    for param in params {
        let valid = DeflateOffer::from_params(std::slice::from_ref(param))
            .1
            .is_empty();
        let repeated = kept.iter().any(|(n, _)| n.eq_ignore_ascii_case(&param.0));
        if valid && !repeated {
            kept.push(param.clone());
        }
    }
    kept
}

/// The response element a fault answers instead of the baseline's `response` to `offer`. The
/// faults here change only the header: the server still works with what the baseline agreed.
fn faulty_response(
    offer: &DeflateOffer,
    response: DeflateResponse,
    fault: Fault,
) -> DeflateResponse {
    let mut response = response;
    match fault {
        Fault::DeflateUnofferedParameter if offer.client_max_window_bits.is_none() => {
            response.client_max_window_bits = Some(MAX_WINDOW_BITS);
        }
        Fault::DeflateMissingServerNct => response.server_no_context_takeover = false,
        Fault::DeflateBitsAboveOffer => {
            if let Some(bits) = offer
                .server_max_window_bits
                .filter(|&b| b < MAX_WINDOW_BITS)
            {
                response.server_max_window_bits = Some(bits + 1);
            }
        }
        _ => {}
    }
    response
}

/// The permessage-deflate state of one connection: the client's messages in, the echoes out.
#[derive(Debug)]
pub(super) struct Deflate {
    /// RSV1 rules and inflation of what the client sends.
    pub(super) receiver: Receiver,
    /// Compression of what the server sends.
    pub(super) compressor: Compressor,
}

impl Deflate {
    /// The state for a connection that agreed to `negotiated`; inflated messages are limited to
    /// `max_message` bytes (`deflate-inflate-unbounded` sets no limit).
    pub(super) fn new(
        negotiated: &Negotiated,
        fault: Fault,
        max_message: u64,
    ) -> Result<Deflate, DeflateError> {
        let limit = if fault == Fault::DeflateInflateUnbounded {
            u64::MAX
        } else {
            max_message
        };
        let bits = match fault {
            Fault::DeflateWindowExceeded => MAX_WINDOW_BITS,
            _ => negotiated.server_max_window_bits,
        };
        // The baseline compresses every message on its own, agreed or not: §7.1.1.1 only
        // forbids context takeover, a sender may always do without it, and each message then
        // compresses the same way every time (the compressor remembers repeats, so echo loops
        // of a data file cost one compression per distinct message).
        let no_context_takeover = fault != Fault::DeflateContextTakeover;
        Ok(Deflate {
            receiver: Receiver::new(negotiated, Role::Client, limit)?,
            compressor: Compressor::new(bits, no_context_takeover, LEVEL)?,
        })
    }
}

/// What the server does about an RFC 7692 finding.
enum Tolerance {
    /// Fail the connection (the baseline, for every finding).
    Fail,
    /// Let it pass.
    Pass,
    /// Let it pass but do not echo the message.
    DropMessage,
}

impl Conn {
    /// Passes a frame through permessage-deflate, when agreed: the message bytes the frame
    /// carries (inflated for a compressed message, else the payload as it is), or the failure
    /// the first RFC 7692 finding this server does not tolerate calls for.
    pub(super) fn inflate(
        &mut self,
        header: &FrameHeader,
        payload: Vec<u8>,
        drop_message: &mut bool,
    ) -> Result<Vec<u8>, Flow> {
        let Some(deflate) = self.deflate.as_mut() else {
            return Ok(payload);
        };
        let open_compressed = self.in_compressed && self.message.is_some();
        if self.fault == Fault::DeflateEmptyFragment
            && header.opcode == Opcode::Continuation
            && header.fin
            && open_compressed
            && payload == crate::wire::deflate::forms::EMPTY_FINAL_FRAGMENT
        {
            return Err(Flow::Fail(
                PROTOCOL_ERROR,
                "empty last fragment taken as invalid compressed data".into(),
            ));
        }
        let received = deflate.receiver.on_frame(header, &payload);
        if self.fault == Fault::DeflateStreamEnd && received.compressed {
            // Like a zlib inflater kept across messages that is never reset after the end of a
            // stream: once a first block has BFINAL set, every later message inflates to nothing.
            let ended = self.stream_ended;
            if header.opcode != Opcode::Continuation && payload.first().is_some_and(|b| b & 1 == 1)
            {
                self.stream_ended = true;
            }
            if ended {
                self.in_compressed = true;
                return Ok(Vec::new());
            }
        }
        if matches!(
            header.opcode,
            Opcode::Text | Opcode::Binary | Opcode::Continuation
        ) {
            self.in_compressed = received.compressed;
        }
        for finding in received.findings {
            match self.deflate_tolerance(&finding) {
                Tolerance::Fail => {
                    let kind = ViolationKind::Deflate(finding.kind);
                    return Err(Flow::Fail(self.close_code(kind), finding.detail));
                }
                Tolerance::Pass => {}
                Tolerance::DropMessage => *drop_message = true,
            }
        }
        Ok(received.inflated.unwrap_or(payload))
    }

    /// What this server does about an RFC 7692 finding.
    fn deflate_tolerance(&self, finding: &Finding) -> Tolerance {
        match (self.fault, finding.kind) {
            (Fault::DeflateAcceptRsv1Continuation, FindingKind::Rsv1OnContinuation) => {
                Tolerance::Pass
            }
            (
                Fault::DeflateIgnoreInvalidData,
                FindingKind::InvalidCompressedData | FindingKind::TailNotRemoved,
            ) => Tolerance::DropMessage,
            _ => Tolerance::Fail,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::deflate::check_response;

    fn items(text: &str) -> Vec<String> {
        text.split(", ").map(str::to_string).collect()
    }

    fn offers(text: &str) -> Vec<DeflateOffer> {
        parse_offers(text)
            .iter()
            .map(|p| DeflateOffer::from_params(p).0)
            .collect()
    }

    /// Offer, then the baseline's response header value ("" = declined).
    const BASELINE: &[(&str, &str)] = &[
        ("permessage-deflate", "permessage-deflate"),
        (
            "permessage-deflate; server_no_context_takeover",
            "permessage-deflate; server_no_context_takeover",
        ),
        (
            "permessage-deflate; client_no_context_takeover",
            "permessage-deflate; client_no_context_takeover",
        ),
        (
            "permessage-deflate; server_max_window_bits=10",
            "permessage-deflate; server_max_window_bits=10",
        ),
        (
            "permessage-deflate; server_max_window_bits=8",
            "permessage-deflate; server_max_window_bits=8",
        ),
        (
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate",
        ),
        (
            "permessage-deflate; client_max_window_bits=9",
            "permessage-deflate; client_max_window_bits=9",
        ),
        (
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=12; client_max_window_bits=11",
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=12; client_max_window_bits=11",
        ),
        // Invalid offers are declined (§7).
        ("permessage-deflate; foo", ""),
        ("permessage-deflate; server_no_context_takeover=1", ""),
        (
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "",
        ),
        ("permessage-deflate; server_max_window_bits=7", ""),
        ("permessage-deflate; server_max_window_bits=16", ""),
        ("permessage-deflate; server_max_window_bits=abc", ""),
        ("permessage-deflate; server_max_window_bits", ""),
        ("permessage-deflate; client_max_window_bits=08", ""),
        // Fall-back: the first acceptable offer wins (§5.1).
        (
            "permessage-deflate; foo, permessage-deflate; server_max_window_bits=11, \
             permessage-deflate",
            "permessage-deflate; server_max_window_bits=11",
        ),
        ("x-unknown, permessage-deflate", "permessage-deflate"),
        ("x-unknown", ""),
    ];

    #[test]
    fn rfc7692_5_1_baseline_answers_each_offer() {
        for (offer, expected) in BASELINE {
            let answer = answer(&items(offer), Fault::None);
            assert_eq!(answer.items.join(", "), *expected, "{offer}");
            assert_eq!(answer.negotiated.is_some(), !expected.is_empty(), "{offer}");
            let check = check_response(&offers(offer), &answer.items.join(", "));
            assert!(check.findings.is_empty(), "{offer}: {:?}", check.findings);
        }
    }

    #[test]
    fn rfc7692_7_1_baseline_works_with_what_it_answered() {
        let answer = answer(
            &items("permessage-deflate; server_no_context_takeover; server_max_window_bits=9"),
            Fault::None,
        );
        let negotiated = answer.negotiated.expect("accepted");
        assert!(negotiated.server_no_context_takeover);
        assert_eq!(negotiated.server_max_window_bits, 9);
        let state = Deflate::new(&negotiated, Fault::None, 1 << 20).expect("valid");
        assert_eq!(state.compressor.window_bits(), 9);
        let state = Deflate::new(&negotiated, Fault::DeflateWindowExceeded, 1 << 20).expect("ok");
        assert_eq!(state.compressor.window_bits(), 15);
    }

    /// Each negotiation fault makes an answer the client check rejects, where the baseline's
    /// answer to the same offer passes.
    #[test]
    fn rfc7692_7_negotiation_faults_fail_the_client_check() {
        use crate::wire::deflate::FindingKind as K;
        let cases: &[(Fault, &str, K)] = &[
            (
                Fault::DeflateAcceptInvalidOffer,
                "permessage-deflate; server_max_window_bits=16",
                K::ResponseNotOffered,
            ),
            (
                Fault::DeflateUnofferedParameter,
                "permessage-deflate",
                K::ResponseClientMaxWindowBitsNotOffered,
            ),
            (
                Fault::DeflateMissingServerNct,
                "permessage-deflate; server_no_context_takeover",
                K::ResponseMissingServerNoContextTakeover,
            ),
            (
                Fault::DeflateBitsAboveOffer,
                "permessage-deflate; server_max_window_bits=10",
                K::ResponseServerMaxWindowBits,
            ),
            (
                Fault::DeflateTwoElements,
                "permessage-deflate",
                K::ResponseMultipleElements,
            ),
        ];
        for (fault, offer, kind) in cases {
            let valid: Vec<DeflateOffer> = offers(offer)
                .into_iter()
                .zip(parse_offers(offer))
                .filter(|(_, p)| DeflateOffer::from_params(p).1.is_empty())
                .map(|(o, _)| o)
                .collect();
            let good = answer(&items(offer), Fault::None).items.join(", ");
            assert!(check_response(&valid, &good).findings.is_empty(), "{fault}");
            let bad = answer(&items(offer), *fault).items.join(", ");
            let found: Vec<K> = check_response(&valid, &bad)
                .findings
                .iter()
                .map(|f| f.kind)
                .collect();
            assert_eq!(found, [*kind], "{fault}: {bad}");
        }
    }

    #[test]
    fn accept_unknown_extension_keeps_the_deflate_answer() {
        let offered = items("x-one; a=1, permessage-deflate, x-two");
        let answer = answer(&offered, Fault::AcceptUnknownExtension);
        assert_eq!(answer.items, ["permessage-deflate", "x-one; a=1", "x-two"]);
    }
}
