//! The parameters of a permessage-deflate offer and response (RFC 7692 §7.1), parsed from the
//! `Sec-WebSocket-Extensions` items that `handshake::parse_extensions` splits out, and written
//! back as header text.
//!
//! Parsing never fails: it returns what it could read together with the [`Finding`]s that make
//! the element invalid (§7: an unknown parameter, an invalid value, a repeated parameter). A
//! server declines an offer with findings; a client fails the connection on a response with
//! findings of level MUST. Choosing among offers and checking a response against the offers
//! lives in [`super::negotiate`](mod@super::negotiate).
//!
//! Parameter and extension names are compared ASCII case-insensitively, as the handshake does
//! for extension names. Quoted values are unquoted by the header parser first, so
//! `server_max_window_bits="10"` is the same as `server_max_window_bits=10` (RFC 6455 §9.1
//! allows either form for a token value).

use std::fmt;

use super::{EXTENSION_NAME, Finding, FindingKind};
use crate::wire::handshake::{ExtensionParam, parse_extensions};

/// `server_no_context_takeover` (§7.1.1.1).
pub const SERVER_NO_CONTEXT_TAKEOVER: &str = "server_no_context_takeover";
/// `client_no_context_takeover` (§7.1.1.2).
pub const CLIENT_NO_CONTEXT_TAKEOVER: &str = "client_no_context_takeover";
/// `server_max_window_bits` (§7.1.2.1).
pub const SERVER_MAX_WINDOW_BITS: &str = "server_max_window_bits";
/// `client_max_window_bits` (§7.1.2.2).
pub const CLIENT_MAX_WINDOW_BITS: &str = "client_max_window_bits";

/// The largest LZ77 window, 2^15 = 32,768 bytes, assumed when no limit was agreed.
pub const MAX_WINDOW_BITS: u8 = 15;
/// The smallest window RFC 7692 allows, 2^8 = 256 bytes.
pub const MIN_WINDOW_BITS: u8 = 8;

/// `client_max_window_bits` as offered: without a value it only says the client understands the
/// parameter in a response; with a value it is also a promise not to use a larger window
/// (§7.1.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientWindowBits {
    /// `client_max_window_bits` with no value.
    NoValue,
    /// `client_max_window_bits=N`.
    Value(u8),
}

impl ClientWindowBits {
    /// The value, if one was given.
    pub fn value(self) -> Option<u8> {
        match self {
            ClientWindowBits::NoValue => None,
            ClientWindowBits::Value(v) => Some(v),
        }
    }
}

/// One permessage-deflate offer element of a client's request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DeflateOffer {
    /// The client asks the server not to use context takeover (§7.1.1.1).
    pub server_no_context_takeover: bool,
    /// The client will not use context takeover (a hint, §7.1.1.2).
    pub client_no_context_takeover: bool,
    /// The largest window the client lets the server use (§7.1.2.1).
    pub server_max_window_bits: Option<u8>,
    /// Whether and how the client offered `client_max_window_bits` (§7.1.2.2).
    pub client_max_window_bits: Option<ClientWindowBits>,
}

/// The permessage-deflate element of a server's response.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DeflateResponse {
    /// The server will not use context takeover (§7.1.1.1).
    pub server_no_context_takeover: bool,
    /// The client must not use context takeover (§7.1.1.2).
    pub client_no_context_takeover: bool,
    /// The largest window the server will use (§7.1.2.1).
    pub server_max_window_bits: Option<u8>,
    /// The largest window the client may use (§7.1.2.2); always with a value in a response.
    pub client_max_window_bits: Option<u8>,
}

/// Which side of the negotiation an element comes from; it decides which finding kinds apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Offer,
    Response,
}

impl Side {
    fn unknown(self) -> FindingKind {
        match self {
            Side::Offer => FindingKind::OfferUnknownParameter,
            Side::Response => FindingKind::ResponseUnknownParameter,
        }
    }
    fn invalid(self) -> FindingKind {
        match self {
            Side::Offer => FindingKind::OfferInvalidValue,
            Side::Response => FindingKind::ResponseInvalidValue,
        }
    }
    fn duplicate(self) -> FindingKind {
        match self {
            Side::Offer => FindingKind::OfferDuplicateParameter,
            Side::Response => FindingKind::ResponseDuplicateParameter,
        }
    }
}

/// The parameters of one element after the checks common to offers and responses.
#[derive(Default)]
struct Common {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    client_max_window_bits: Option<ClientWindowBits>,
}

fn read_params(params: &[ExtensionParam], side: Side) -> (Common, Vec<Finding>) {
    let mut out = Common::default();
    let mut findings = Vec::new();
    let mut seen: Vec<&'static str> = Vec::new();
    for (raw_name, value) in params {
        let name = match known_name(raw_name) {
            Some(n) => n,
            None => {
                findings.push(Finding::new(
                    side.unknown(),
                    format!("parameter {raw_name:?} is not defined for permessage-deflate"),
                ));
                continue;
            }
        };
        if seen.contains(&name) {
            findings.push(Finding::new(
                side.duplicate(),
                format!("parameter {name} appears more than once"),
            ));
            continue;
        }
        seen.push(name);
        match name {
            SERVER_NO_CONTEXT_TAKEOVER | CLIENT_NO_CONTEXT_TAKEOVER => {
                if let Some(v) = value {
                    findings.push(Finding::new(
                        side.invalid(),
                        format!("{name} takes no value, got {v:?}"),
                    ));
                } else if name == SERVER_NO_CONTEXT_TAKEOVER {
                    out.server_no_context_takeover = true;
                } else {
                    out.client_no_context_takeover = true;
                }
            }
            SERVER_MAX_WINDOW_BITS => match value.as_deref().map(window_bits_value) {
                Some(Ok(bits)) => out.server_max_window_bits = Some(bits),
                Some(Err(why)) => findings.push(Finding::new(side.invalid(), why)),
                None => findings.push(Finding::new(
                    side.invalid(),
                    format!("{name} needs a value (8..=15)"),
                )),
            },
            _ => match value.as_deref().map(window_bits_value) {
                Some(Ok(bits)) => out.client_max_window_bits = Some(ClientWindowBits::Value(bits)),
                Some(Err(why)) => findings.push(Finding::new(side.invalid(), why)),
                None if side == Side::Offer => {
                    out.client_max_window_bits = Some(ClientWindowBits::NoValue);
                }
                None => findings.push(Finding::new(
                    side.invalid(),
                    format!("{name} in a response needs a value (8..=15)"),
                )),
            },
        }
    }
    (out, findings)
}

fn known_name(name: &str) -> Option<&'static str> {
    [
        SERVER_NO_CONTEXT_TAKEOVER,
        CLIENT_NO_CONTEXT_TAKEOVER,
        SERVER_MAX_WINDOW_BITS,
        CLIENT_MAX_WINDOW_BITS,
    ]
    .into_iter()
    .find(|known| known.eq_ignore_ascii_case(name))
}

/// Checks a window-bits value: "a decimal integer value without leading zeroes between 8 to 15,
/// inclusive" (§7.1.2.1, §7.1.2.2). The error is the finding's detail text.
pub fn window_bits_value(v: &str) -> Result<u8, String> {
    if v.is_empty() {
        return Err("window bits value is empty".into());
    }
    if !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("window bits value {v:?} is not a decimal integer"));
    }
    if v.len() > 1 && v.starts_with('0') {
        return Err(format!("window bits value {v:?} has a leading zero"));
    }
    match v.parse::<u8>() {
        Ok(bits) if (MIN_WINDOW_BITS..=MAX_WINDOW_BITS).contains(&bits) => Ok(bits),
        _ => Err(format!("window bits value {v} is outside 8..=15")),
    }
}

impl DeflateOffer {
    /// Reads one offer element's parameters; findings mean the server MUST decline it (§7).
    pub fn from_params(params: &[ExtensionParam]) -> (DeflateOffer, Vec<Finding>) {
        let (c, findings) = read_params(params, Side::Offer);
        let offer = DeflateOffer {
            server_no_context_takeover: c.server_no_context_takeover,
            client_no_context_takeover: c.client_no_context_takeover,
            server_max_window_bits: c.server_max_window_bits,
            client_max_window_bits: c.client_max_window_bits,
        };
        (offer, findings)
    }

    /// The offer as a header item: `permessage-deflate; client_max_window_bits`.
    pub fn to_header_item(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for DeflateOffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_element(
            f,
            self.server_no_context_takeover,
            self.client_no_context_takeover,
            self.server_max_window_bits,
            self.client_max_window_bits.map(ClientWindowBits::value),
        )
    }
}

/// Writes an extension element: the name, then each parameter that is present.
/// `client_bits` is `Some(None)` for `client_max_window_bits` without a value.
fn write_element(
    f: &mut fmt::Formatter<'_>,
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_bits: Option<u8>,
    client_bits: Option<Option<u8>>,
) -> fmt::Result {
    f.write_str(EXTENSION_NAME)?;
    if server_no_context_takeover {
        write!(f, "; {SERVER_NO_CONTEXT_TAKEOVER}")?;
    }
    if client_no_context_takeover {
        write!(f, "; {CLIENT_NO_CONTEXT_TAKEOVER}")?;
    }
    if let Some(bits) = server_bits {
        write!(f, "; {SERVER_MAX_WINDOW_BITS}={bits}")?;
    }
    match client_bits {
        Some(None) => write!(f, "; {CLIENT_MAX_WINDOW_BITS}")?,
        Some(Some(bits)) => write!(f, "; {CLIENT_MAX_WINDOW_BITS}={bits}")?,
        None => {}
    }
    Ok(())
}

impl DeflateResponse {
    /// Reads a response element's parameters; findings mean the client MUST fail the
    /// connection (§7).
    pub fn from_params(params: &[ExtensionParam]) -> (DeflateResponse, Vec<Finding>) {
        let (c, findings) = read_params(params, Side::Response);
        let response = DeflateResponse {
            server_no_context_takeover: c.server_no_context_takeover,
            client_no_context_takeover: c.client_no_context_takeover,
            server_max_window_bits: c.server_max_window_bits,
            client_max_window_bits: c.client_max_window_bits.and_then(ClientWindowBits::value),
        };
        (response, findings)
    }

    /// The response as a header item: `permessage-deflate; server_max_window_bits=10`.
    pub fn to_header_item(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for DeflateResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_element(
            f,
            self.server_no_context_takeover,
            self.client_no_context_takeover,
            self.server_max_window_bits,
            self.client_max_window_bits.map(Some),
        )
    }
}

/// The parameters both ends work with once the extension is agreed. Absent limits are 15;
/// a client's own offered hints (`client_no_context_takeover`, `client_max_window_bits=N`) are
/// promises (§7.1.1.2, §7.1.2.2) and count as agreed, so an inflater holds the client to them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Negotiated {
    /// The server starts every message with an empty window.
    pub server_no_context_takeover: bool,
    /// The client starts every message with an empty window.
    pub client_no_context_takeover: bool,
    /// The server's window is at most 2^bits bytes.
    pub server_max_window_bits: u8,
    /// The client's window is at most 2^bits bytes.
    pub client_max_window_bits: u8,
}

impl Default for Negotiated {
    /// `permessage-deflate` with no parameters: context takeover both ways, 32 KiB windows.
    fn default() -> Negotiated {
        Negotiated {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: MAX_WINDOW_BITS,
            client_max_window_bits: MAX_WINDOW_BITS,
        }
    }
}

impl Negotiated {
    /// What was agreed when `response` accepted `offer`.
    pub fn agree(offer: &DeflateOffer, response: &DeflateResponse) -> Negotiated {
        let hint = offer
            .client_max_window_bits
            .and_then(ClientWindowBits::value)
            .unwrap_or(MAX_WINDOW_BITS);
        Negotiated {
            server_no_context_takeover: response.server_no_context_takeover,
            client_no_context_takeover: response.client_no_context_takeover
                || offer.client_no_context_takeover,
            server_max_window_bits: response.server_max_window_bits.unwrap_or(MAX_WINDOW_BITS),
            client_max_window_bits: response
                .client_max_window_bits
                .unwrap_or(MAX_WINDOW_BITS)
                .min(hint),
        }
    }

    /// The window bits the endpoint in `sender` role compresses with.
    pub fn window_bits(&self, sender: crate::wire::Role) -> u8 {
        match sender {
            crate::wire::Role::Server => self.server_max_window_bits,
            crate::wire::Role::Client => self.client_max_window_bits,
        }
    }

    /// Whether the endpoint in `sender` role starts each message with an empty window.
    pub fn no_context_takeover(&self, sender: crate::wire::Role) -> bool {
        match sender {
            crate::wire::Role::Server => self.server_no_context_takeover,
            crate::wire::Role::Client => self.client_no_context_takeover,
        }
    }
}

/// The parameter lists of the permessage-deflate elements of a `Sec-WebSocket-Extensions`
/// value, in order (other extensions are skipped).
pub fn parse_offers(header_value: &str) -> Vec<Vec<ExtensionParam>> {
    parse_extensions(header_value)
        .into_iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case(EXTENSION_NAME))
        .map(|(_, params)| params)
        .collect()
}
