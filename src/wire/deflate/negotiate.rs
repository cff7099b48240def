//! Both roles of the permessage-deflate negotiation (RFC 7692 §5.1, §7, §7.1): a server picks
//! the first offer it can accept and builds its response ([`negotiate`]); a client checks the
//! response against what it offered ([`check_response`]).

use super::offer::{ClientWindowBits, DeflateOffer, DeflateResponse, MAX_WINDOW_BITS, Negotiated};
use super::{EXTENSION_NAME, Finding, FindingKind};
use crate::wire::Level;
use crate::wire::handshake::{ExtensionParam, parse_extensions};

/// What a server supports and asks for. The defaults accept any valid offer and volunteer
/// nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerPolicy {
    /// Answer `server_no_context_takeover` even when not offered (§7.1.1.1 allows it).
    pub server_no_context_takeover: bool,
    /// Ask the client not to use context takeover (§7.1.1.2).
    pub client_no_context_takeover: bool,
    /// The largest window the server's compressor uses; answered even when not offered
    /// (§7.1.2.1 allows it).
    pub server_max_window_bits: Option<u8>,
    /// The largest window the server wants the client to use; answered only when the offer has
    /// `client_max_window_bits` (§7.1.2.2 forbids it otherwise).
    pub client_max_window_bits: Option<u8>,
    /// The smallest `server_max_window_bits` the server can honour; an offer asking for less
    /// is declined as a configuration the server does not support (§7). wsprobe's own
    /// compressor honours 8 (see `codec`), so the default is 8.
    pub min_server_window_bits: u8,
}

impl Default for ServerPolicy {
    fn default() -> ServerPolicy {
        ServerPolicy {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: None,
            client_max_window_bits: None,
            min_server_window_bits: 8,
        }
    }
}

/// The offer a server accepted, its response and what was agreed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// Index of the accepted offer among the permessage-deflate offers.
    pub index: usize,
    /// The offer as parsed.
    pub offer: DeflateOffer,
    /// The response element to send.
    pub response: DeflateResponse,
    /// The parameters both ends now use.
    pub negotiated: Negotiated,
}

/// An offer a server declined and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Declined {
    /// Index of the offer among the permessage-deflate offers.
    pub index: usize,
    /// The offer's invalidities (§7: the server MUST decline); empty when the offer was valid.
    pub findings: Vec<Finding>,
    /// Why a valid offer was declined anyway (a configuration the server does not support),
    /// or `None` when it was declined for its findings or not considered.
    pub unsupported: Option<String>,
}

/// A server's decision over all permessage-deflate offers of a request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerDecision {
    /// The accepted offer, if any (the first acceptable one, §5.1: order is preference).
    pub accepted: Option<Accepted>,
    /// The offers before it that were declined, in order.
    pub declined: Vec<Declined>,
}

/// Picks the first offer the server can accept (§5.1: offers are in the client's order of
/// preference) and builds its response; invalid offers are declined (§7).
pub fn negotiate(offers: &[Vec<ExtensionParam>], policy: &ServerPolicy) -> ServerDecision {
    let mut decision = ServerDecision::default();
    for (index, params) in offers.iter().enumerate() {
        let (offer, findings) = DeflateOffer::from_params(params);
        if !findings.is_empty() {
            decision.declined.push(Declined {
                index,
                findings,
                unsupported: None,
            });
            continue;
        }
        match accept(&offer, policy) {
            Ok(response) => {
                decision.accepted = Some(Accepted {
                    index,
                    offer,
                    response,
                    negotiated: Negotiated::agree(&offer, &response),
                });
                return decision;
            }
            Err(why) => decision.declined.push(Declined {
                index,
                findings: Vec::new(),
                unsupported: Some(why),
            }),
        }
    }
    decision
}

fn accept(offer: &DeflateOffer, policy: &ServerPolicy) -> Result<DeflateResponse, String> {
    let own_limit = policy.server_max_window_bits;
    let server_max_window_bits = match offer.server_max_window_bits {
        Some(asked) if asked < policy.min_server_window_bits => {
            return Err(format!(
                "server_max_window_bits={asked} is below the {} bits this server can honour",
                policy.min_server_window_bits
            ));
        }
        Some(asked) => Some(own_limit.map_or(asked, |own| own.min(asked))),
        None => own_limit.filter(|&own| own < MAX_WINDOW_BITS),
    };
    let client_max_window_bits = match offer.client_max_window_bits {
        None => None,
        Some(ClientWindowBits::NoValue) => policy.client_max_window_bits,
        Some(ClientWindowBits::Value(hint)) => Some(
            policy
                .client_max_window_bits
                .map_or(hint, |own| own.min(hint)),
        ),
    };
    Ok(DeflateResponse {
        server_no_context_takeover: offer.server_no_context_takeover
            || policy.server_no_context_takeover,
        client_no_context_takeover: offer.client_no_context_takeover
            || policy.client_no_context_takeover,
        server_max_window_bits,
        client_max_window_bits,
    })
}

/// A client's verdict on the server's `Sec-WebSocket-Extensions` response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResponseCheck {
    /// The agreed parameters when the response holds a permessage-deflate element (even with
    /// findings, so a tolerant caller can go on); `None` when the server declined.
    pub negotiated: Option<Negotiated>,
    /// Index of the offer the response was matched to.
    pub offer_index: Option<usize>,
    /// What is wrong with the response.
    pub findings: Vec<Finding>,
}

impl ResponseCheck {
    /// Whether the client MUST fail the WebSocket connection (§7, §5.1).
    pub fn must_fail(&self) -> bool {
        self.findings.iter().any(|f| f.level() == Level::Must)
    }
}

/// Checks a response's `Sec-WebSocket-Extensions` value (empty when absent) against the
/// permessage-deflate offers the client sent (§5.1, §7, §7.1). The response is matched to the
/// offer it accepts without findings; when it accepts none cleanly, to the one with the fewest.
pub fn check_response(offers: &[DeflateOffer], response_value: &str) -> ResponseCheck {
    let elements: Vec<Vec<ExtensionParam>> = parse_extensions(response_value)
        .into_iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case(EXTENSION_NAME))
        .map(|(_, params)| params)
        .collect();
    let mut check = ResponseCheck::default();
    let Some(first) = elements.first() else {
        return check;
    };
    if offers.is_empty() {
        check.findings.push(Finding::new(
            FindingKind::ResponseNotOffered,
            "the response accepts permessage-deflate, which the client did not offer",
        ));
        return check;
    }
    if elements.len() > 1 {
        check.findings.push(Finding::new(
            FindingKind::ResponseMultipleElements,
            format!(
                "the response has {} permessage-deflate elements; one at most may be accepted",
                elements.len()
            ),
        ));
    }
    let (response, syntax) = DeflateResponse::from_params(first);
    check.findings.extend(syntax);
    let mut best: Option<(usize, Vec<Finding>)> = None;
    for (index, offer) in offers.iter().enumerate() {
        let mismatches = match_offer(offer, &response);
        let better = best
            .as_ref()
            .is_none_or(|(_, b)| must_count(&mismatches) < must_count(b));
        if better {
            best = Some((index, mismatches));
        }
        if best.as_ref().is_some_and(|(_, b)| must_count(b) == 0) {
            break;
        }
    }
    if let Some((index, mismatches)) = best {
        check.offer_index = Some(index);
        check.negotiated = Some(Negotiated::agree(&offers[index], &response));
        check.findings.extend(mismatches);
    }
    check
}

fn must_count(findings: &[Finding]) -> usize {
    findings.iter().filter(|f| f.level() == Level::Must).count()
}

/// What keeps `response` from being a valid acceptance of `offer` (§7.1.1.1, §7.1.2.1,
/// §7.1.2.2).
fn match_offer(offer: &DeflateOffer, response: &DeflateResponse) -> Vec<Finding> {
    let mut out = Vec::new();
    if offer.server_no_context_takeover && !response.server_no_context_takeover {
        out.push(Finding::new(
            FindingKind::ResponseMissingServerNoContextTakeover,
            "server_no_context_takeover was offered but the response does not include it",
        ));
    }
    if let Some(offered) = offer.server_max_window_bits {
        match response.server_max_window_bits {
            None => out.push(Finding::new(
                FindingKind::ResponseServerMaxWindowBits,
                format!(
                    "server_max_window_bits={offered} was offered but the response does not \
                     include it"
                ),
            )),
            Some(answered) if answered > offered => out.push(Finding::new(
                FindingKind::ResponseServerMaxWindowBits,
                format!(
                    "server_max_window_bits={answered} in the response is larger than the \
                     {offered} offered"
                ),
            )),
            Some(_) => {}
        }
    }
    match (
        offer.client_max_window_bits,
        response.client_max_window_bits,
    ) {
        (None, Some(answered)) => out.push(Finding::new(
            FindingKind::ResponseClientMaxWindowBitsNotOffered,
            format!(
                "client_max_window_bits={answered} in the response although the offer did not \
                 include client_max_window_bits"
            ),
        )),
        (Some(ClientWindowBits::Value(hint)), Some(answered)) if answered > hint => {
            out.push(Finding::new(
                FindingKind::ResponseClientMaxWindowBitsAboveHint,
                format!(
                    "client_max_window_bits={answered} in the response is above the {hint} \
                     offered; the client keeps to {hint}"
                ),
            ))
        }
        _ => {}
    }
    out
}
