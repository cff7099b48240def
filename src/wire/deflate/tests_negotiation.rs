//! Offer and response tables (RFC 7692 §5.1, §7, §7.1): one row per case, name, header text
//! and expected outcome, in the style of httparse's `req!` tests.

use super::offer::window_bits_value;
use super::{
    DeflateOffer, FindingKind, Negotiated, ServerPolicy, check_response, negotiate, parse_offers,
};
use crate::wire::Level;
use FindingKind::*;

/// A server with `policy` reads the offers in `$header`: it accepts the offer at `$index` with
/// the response `$response`, or (`decline`) none, after declining the listed findings.
macro_rules! server {
    ($name:ident, $header:expr, accept $index:expr => $response:expr, declined [$($kind:expr),*]) => {
        server!($name, ServerPolicy::default(), $header, accept $index => $response,
                declined [$($kind),*]);
    };
    ($name:ident, $policy:expr, $header:expr, accept $index:expr => $response:expr,
     declined [$($kind:expr),*]) => {
        #[test]
        fn $name() {
            let decision = negotiate(&parse_offers($header), &$policy);
            let accepted = decision.accepted.as_ref().expect("an offer is accepted");
            assert_eq!(accepted.index, $index, "accepted offer");
            assert_eq!(accepted.response.to_header_item(), $response, "response");
            let kinds: Vec<FindingKind> =
                decision.declined.iter().flat_map(|d| d.findings.iter().map(|f| f.kind)).collect();
            assert_eq!(kinds, vec![$($kind),*], "declined findings");
        }
    };
    ($name:ident, $header:expr, decline [$($kind:expr),*]) => {
        #[test]
        fn $name() {
            let decision = negotiate(&parse_offers($header), &ServerPolicy::default());
            assert_eq!(decision.accepted, None, "no offer may be accepted");
            let kinds: Vec<FindingKind> =
                decision.declined.iter().flat_map(|d| d.findings.iter().map(|f| f.kind)).collect();
            assert_eq!(kinds, vec![$($kind),*], "declined findings");
        }
    };
}

/// A client that sent the offers in `$offer` reads the response `$response`: the findings it
/// reports, and what was agreed.
macro_rules! client {
    ($name:ident, $offer:expr, $response:expr => [$($kind:expr),*], $negotiated:expr) => {
        #[test]
        fn $name() {
            let offers: Vec<DeflateOffer> = parse_offers($offer)
                .iter()
                .map(|p| {
                    let (offer, findings) = DeflateOffer::from_params(p);
                    assert!(findings.is_empty(), "test offer is valid: {findings:?}");
                    offer
                })
                .collect();
            let check = check_response(&offers, $response);
            let kinds: Vec<FindingKind> = check.findings.iter().map(|f| f.kind).collect();
            assert_eq!(kinds, vec![$($kind),*], "findings");
            let must: bool = kinds.iter().any(|k| k.level() == Level::Must);
            assert_eq!(check.must_fail(), must);
            assert_eq!(check.negotiated, $negotiated, "negotiated");
        }
    };
}

fn agreed(snct: bool, cnct: bool, sbits: u8, cbits: u8) -> Option<Negotiated> {
    Some(Negotiated {
        server_no_context_takeover: snct,
        client_no_context_takeover: cnct,
        server_max_window_bits: sbits,
        client_max_window_bits: cbits,
    })
}

// --- §7.1: each parameter offered alone, and combined -------------------------------------

server!(rfc7692_7_offer_without_parameters, "permessage-deflate",
    accept 0 => "permessage-deflate", declined []);
server!(rfc7692_7_1_1_1_offer_server_no_context_takeover,
    "permessage-deflate; server_no_context_takeover",
    accept 0 => "permessage-deflate; server_no_context_takeover", declined []);
server!(rfc7692_7_1_1_2_offer_client_no_context_takeover,
    "permessage-deflate; client_no_context_takeover",
    accept 0 => "permessage-deflate; client_no_context_takeover", declined []);
server!(rfc7692_7_1_2_1_offer_server_max_window_bits,
    "permessage-deflate; server_max_window_bits=10",
    accept 0 => "permessage-deflate; server_max_window_bits=10", declined []);
server!(rfc7692_7_1_2_1_offer_server_max_window_bits_8,
    "permessage-deflate; server_max_window_bits=8",
    accept 0 => "permessage-deflate; server_max_window_bits=8", declined []);
server!(rfc7692_7_1_2_2_offer_client_max_window_bits_without_value,
    "permessage-deflate; client_max_window_bits",
    accept 0 => "permessage-deflate", declined []);
server!(rfc7692_7_1_2_2_offer_client_max_window_bits_with_value,
    "permessage-deflate; client_max_window_bits=10",
    accept 0 => "permessage-deflate; client_max_window_bits=10", declined []);
server!(rfc7692_7_1_offer_all_four,
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
     server_max_window_bits=9; client_max_window_bits=12",
    accept 0 => "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
                 server_max_window_bits=9; client_max_window_bits=12",
    declined []);
server!(rfc7692_7_1_names_are_case_insensitive_and_values_may_be_quoted,
    "Permessage-Deflate; Server_No_Context_Takeover; server_max_window_bits=\"10\"",
    accept 0 => "permessage-deflate; server_no_context_takeover; server_max_window_bits=10",
    declined []);
server!(rfc7692_5_1_other_extensions_are_skipped, "x-webkit-foo, permessage-deflate",
    accept 0 => "permessage-deflate", declined []);

// --- §7: what the server MUST decline -----------------------------------------------------

server!(
    rfc7692_7_decline_unknown_parameter,
    "permessage-deflate; foo",
    decline[OfferUnknownParameter]
);
server!(
    rfc7692_7_decline_duplicate_parameter,
    "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
    decline[OfferDuplicateParameter]
);
server!(
    rfc7692_7_decline_duplicate_window_bits,
    "permessage-deflate; client_max_window_bits=10; client_max_window_bits",
    decline[OfferDuplicateParameter]
);
server!(
    rfc7692_7_1_2_1_decline_window_bits_7,
    "permessage-deflate; server_max_window_bits=7",
    decline[OfferInvalidValue]
);
server!(
    rfc7692_7_1_2_1_decline_window_bits_16,
    "permessage-deflate; server_max_window_bits=16",
    decline[OfferInvalidValue]
);
server!(
    rfc7692_7_1_2_1_decline_window_bits_not_digits,
    "permessage-deflate; server_max_window_bits=abc",
    decline[OfferInvalidValue]
);
server!(
    rfc7692_7_1_2_1_decline_window_bits_leading_zero,
    "permessage-deflate; server_max_window_bits=010",
    decline[OfferInvalidValue]
);
server!(
    rfc7692_7_1_2_1_decline_server_max_window_bits_without_value,
    "permessage-deflate; server_max_window_bits",
    decline[OfferInvalidValue]
);
server!(
    rfc7692_7_1_2_2_decline_client_window_bits_16,
    "permessage-deflate; client_max_window_bits=16",
    decline[OfferInvalidValue]
);
server!(
    rfc7692_7_1_2_2_decline_client_window_bits_signed,
    "permessage-deflate; client_max_window_bits=+9",
    decline[OfferInvalidValue]
);
server!(
    rfc7692_7_1_1_1_decline_value_on_server_no_context_takeover,
    "permessage-deflate; server_no_context_takeover=1",
    decline[OfferInvalidValue]
);
server!(
    rfc7692_7_1_1_2_decline_value_on_client_no_context_takeover,
    "permessage-deflate; client_no_context_takeover=true",
    decline[OfferInvalidValue]
);

// --- §5.1, §7.1.3: several offers, fall-back ------------------------------------------------

server!(rfc7692_5_1_fall_back_past_an_invalid_offer,
    "permessage-deflate; foo, permessage-deflate; client_max_window_bits",
    accept 1 => "permessage-deflate", declined [OfferUnknownParameter]);
server!(rfc7692_7_1_3_the_first_acceptable_offer_wins,
    "permessage-deflate; client_max_window_bits; server_max_window_bits=10, \
     permessage-deflate; client_max_window_bits",
    accept 0 => "permessage-deflate; server_max_window_bits=10", declined []);
server!(rfc7692_7_fall_back_past_an_unsupported_configuration,
    ServerPolicy { min_server_window_bits: 9, ..ServerPolicy::default() },
    "permessage-deflate; server_max_window_bits=8, permessage-deflate",
    accept 1 => "permessage-deflate", declined []);
server!(rfc7692_7_1_2_server_limits_answered_only_where_allowed,
    ServerPolicy {
        server_max_window_bits: Some(12),
        client_max_window_bits: Some(10),
        ..ServerPolicy::default()
    },
    "permessage-deflate, permessage-deflate; client_max_window_bits",
    accept 0 => "permessage-deflate; server_max_window_bits=12", declined []);
server!(rfc7692_7_1_2_2_server_asks_a_window_when_the_client_allows_it,
    ServerPolicy {
        server_max_window_bits: Some(12),
        client_max_window_bits: Some(10),
        ..ServerPolicy::default()
    },
    "permessage-deflate; client_max_window_bits; server_max_window_bits=11",
    accept 0 => "permessage-deflate; server_max_window_bits=11; client_max_window_bits=10",
    declined []);
server!(rfc7692_7_1_1_1_server_may_volunteer_no_context_takeover,
    ServerPolicy { server_no_context_takeover: true, ..ServerPolicy::default() },
    "permessage-deflate",
    accept 0 => "permessage-deflate; server_no_context_takeover", declined []);

#[test]
fn rfc7692_7_an_unsupported_offer_is_declined_with_a_reason_not_a_finding() {
    let policy = ServerPolicy {
        min_server_window_bits: 9,
        ..ServerPolicy::default()
    };
    let decision = negotiate(
        &parse_offers("permessage-deflate; server_max_window_bits=8"),
        &policy,
    );
    assert_eq!(decision.accepted, None);
    assert_eq!(decision.declined.len(), 1);
    assert!(decision.declined[0].findings.is_empty());
    let why = decision.declined[0]
        .unsupported
        .as_deref()
        .expect("a reason");
    assert!(why.contains("server_max_window_bits=8"), "{why}");
}

// --- §5.1, §7, §7.1: what a client MUST fail on ---------------------------------------------

client!(rfc7692_5_1_no_element_means_declined,
    "permessage-deflate; client_max_window_bits", "" => [], None);
client!(rfc7692_7_plain_acceptance,
    "permessage-deflate; client_max_window_bits", "permessage-deflate" => [],
    agreed(false, false, 15, 15));
client!(rfc7692_7_1_2_2_server_limits_the_client_window,
    "permessage-deflate; client_max_window_bits",
    "permessage-deflate; client_max_window_bits=10" => [], agreed(false, false, 15, 10));
client!(rfc7692_7_1_2_2_client_max_window_bits_not_offered,
    "permessage-deflate", "permessage-deflate; client_max_window_bits=10"
    => [ResponseClientMaxWindowBitsNotOffered], agreed(false, false, 15, 10));
client!(rfc7692_7_1_2_2_client_max_window_bits_without_value_in_response,
    "permessage-deflate; client_max_window_bits", "permessage-deflate; client_max_window_bits"
    => [ResponseInvalidValue], agreed(false, false, 15, 15));
client!(rfc7692_7_1_2_2_answer_above_the_hint_is_informational,
    "permessage-deflate; client_max_window_bits=10",
    "permessage-deflate; client_max_window_bits=12"
    => [ResponseClientMaxWindowBitsAboveHint], agreed(false, false, 15, 10));
client!(rfc7692_7_1_2_1_smaller_server_window_is_accepted,
    "permessage-deflate; server_max_window_bits=10",
    "permessage-deflate; server_max_window_bits=9" => [], agreed(false, false, 9, 15));
client!(rfc7692_7_1_2_1_larger_server_window_than_offered,
    "permessage-deflate; server_max_window_bits=10",
    "permessage-deflate; server_max_window_bits=12"
    => [ResponseServerMaxWindowBits], agreed(false, false, 12, 15));
client!(rfc7692_7_1_2_1_server_window_offered_but_not_answered,
    "permessage-deflate; server_max_window_bits=10", "permessage-deflate"
    => [ResponseServerMaxWindowBits], agreed(false, false, 15, 15));
client!(rfc7692_7_1_2_1_server_window_volunteered,
    "permessage-deflate", "permessage-deflate; server_max_window_bits=11"
    => [], agreed(false, false, 11, 15));
client!(rfc7692_7_1_2_1_server_window_out_of_range,
    "permessage-deflate", "permessage-deflate; server_max_window_bits=16"
    => [ResponseInvalidValue], agreed(false, false, 15, 15));
client!(rfc7692_7_1_1_1_server_no_context_takeover_missing,
    "permessage-deflate; server_no_context_takeover", "permessage-deflate"
    => [ResponseMissingServerNoContextTakeover], agreed(false, false, 15, 15));
client!(rfc7692_7_1_1_1_server_no_context_takeover_volunteered,
    "permessage-deflate", "permessage-deflate; server_no_context_takeover"
    => [], agreed(true, false, 15, 15));
client!(rfc7692_7_1_1_2_client_no_context_takeover_hint_counts_as_agreed,
    "permessage-deflate; client_no_context_takeover", "permessage-deflate"
    => [], agreed(false, true, 15, 15));
client!(rfc7692_7_1_1_1_value_on_a_valueless_parameter,
    "permessage-deflate", "permessage-deflate; server_no_context_takeover=yes"
    => [ResponseInvalidValue], agreed(false, false, 15, 15));
client!(rfc7692_7_unknown_parameter_in_response,
    "permessage-deflate", "permessage-deflate; foo=1"
    => [ResponseUnknownParameter], agreed(false, false, 15, 15));
client!(rfc7692_7_duplicate_parameter_in_response,
    "permessage-deflate",
    "permessage-deflate; server_no_context_takeover; server_no_context_takeover"
    => [ResponseDuplicateParameter], agreed(true, false, 15, 15));
client!(rfc7692_5_1_two_elements_in_response,
    "permessage-deflate", "permessage-deflate, permessage-deflate"
    => [ResponseMultipleElements], agreed(false, false, 15, 15));
client!(rfc7692_5_1_accepted_without_an_offer,
    "", "permessage-deflate" => [ResponseNotOffered], None);
client!(rfc7692_5_1_response_matches_the_fall_back_offer,
    "permessage-deflate; server_max_window_bits=10; server_no_context_takeover, \
     permessage-deflate",
    "permessage-deflate" => [], agreed(false, false, 15, 15));

#[test]
fn rfc7692_7_1_2_window_bits_values() {
    let table: [(&str, Option<u8>); 12] = [
        ("8", Some(8)),
        ("9", Some(9)),
        ("15", Some(15)),
        ("7", None),
        ("16", None),
        ("0", None),
        ("08", None),
        ("010", None),
        ("abc", None),
        ("", None),
        (" 9", None),
        ("99999999999", None),
    ];
    for (value, want) in table {
        assert_eq!(window_bits_value(value).ok(), want, "{value:?}");
    }
}

#[test]
fn rfc7692_7_1_offers_and_responses_write_back_as_parsed() {
    for text in [
        "permessage-deflate",
        "permessage-deflate; client_max_window_bits",
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
         server_max_window_bits=8; client_max_window_bits=15",
    ] {
        let params = &parse_offers(text)[0];
        let (offer, findings) = DeflateOffer::from_params(params);
        assert!(findings.is_empty());
        assert_eq!(offer.to_header_item(), text);
    }
}

#[test]
fn every_finding_kind_has_a_distinct_name_and_a_checklist_anchor() {
    let checklist = include_str!("../../../docs/rfc7692.md");
    let mut names: Vec<&str> = FindingKind::ALL.iter().map(|k| k.name()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), FindingKind::ALL.len());
    for kind in FindingKind::ALL {
        let anchor = kind.anchor();
        assert!(
            checklist.contains(&format!("id=\"{anchor}\"")),
            "{kind:?}: anchor {anchor} is not in docs/rfc7692.md"
        );
        assert!(kind.section().starts_with("RFC "), "{kind:?}");
    }
}
