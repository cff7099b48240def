//! permessage-deflate (RFC 7692), sans-IO: negotiation, compression, inflation and the
//! extension's own rules.
//!
//! This module owns the parameters of an offer and a response ([`offer`]), a server's choice
//! among offers and a client's check of the answer, the per-direction [`Compressor`] and
//! [`Inflater`] with context takeover and window bits ([`codec`]), the deliberately unusual
//! encodings a conformance tool sends ([`forms`]) and the RSV1 rules ([`rsv`]). Like the rest
//! of `wire` it has no I/O, no clock and no randomness; limits are arguments. It may use std,
//! `flate2` (with its zlib-rs backend, the one that can set window bits) and the handshake's
//! header-list parser.
//!
//! Protocol findings are [`Finding`] values, each tied to an item of the project's RFC 7692
//! checklist (`docs/rfc7692.md`) by a stable anchor such as `7692-7.1.2.1-c`; `Err` is kept for
//! the tool's own inability to proceed ([`DeflateError`]).
//!
//! RFC 7692 sections implemented here: §5.1 (negotiation), §6.1 and §6.2 (RSV1, the
//! "Per-Message Compressed" bit), §7 (permessage-deflate parameters and the declining and
//! failing rules), §7.1.1 and §7.1.2 (context takeover, window bits), §7.2 (the payload
//! transformation) and the §7.2.3 forms.

pub mod audit;
pub mod codec;
pub mod forms;
pub mod memo;
pub mod negotiate;
pub mod offer;
pub mod receive;
pub mod rsv;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_negotiation;

use std::fmt;

pub use codec::{Compressor, Inflater};
pub use negotiate::{
    Accepted, Declined, ResponseCheck, ServerDecision, ServerPolicy, check_response, negotiate,
};
pub use offer::{ClientWindowBits, DeflateOffer, DeflateResponse, Negotiated, parse_offers};
pub use receive::{Received, Receiver};
pub use rsv::{MessageRsv, Rsv1State};

use super::Level;

/// The registered extension name (RFC 7692 §7).
pub const EXTENSION_NAME: &str = "permessage-deflate";

/// The four octets a sender strips from the end of a compressed message and a receiver
/// appends before inflating (RFC 7692 §7.2.1, §7.2.2).
pub const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The tool's own failures in this layer (never a peer's fault: those are [`Finding`]s).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum DeflateError {
    /// The compression library refused to proceed (an internal state error).
    #[error("deflate compressor failed: {0}")]
    Compress(String),
    /// A window size outside 8–15 was asked of the compressor or inflater.
    #[error("window bits {0} are outside 8..=15")]
    WindowBits(u8),
}

/// Every kind of RFC 7692 finding wsprobe recognises, each tied to one checklist item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FindingKind {
    /// An offer carries a parameter RFC 7692 does not define for offers (§7); the server MUST
    /// decline that offer.
    OfferUnknownParameter,
    /// An offer carries a parameter with an invalid value (§7, §7.1.2.1, §7.1.2.2): window bits
    /// outside 8–15, not digits, a leading zero, a value on a parameter that takes none, or no
    /// value where one is needed.
    OfferInvalidValue,
    /// An offer repeats a parameter (§7).
    OfferDuplicateParameter,
    /// A response carries a parameter RFC 7692 does not define for responses (§7).
    ResponseUnknownParameter,
    /// A response carries a parameter with an invalid value (§7, §7.1.2.1, §7.1.2.2).
    ResponseInvalidValue,
    /// A response repeats a parameter (§7).
    ResponseDuplicateParameter,
    /// The server accepted permessage-deflate although the client did not offer it (§5.1).
    ResponseNotOffered,
    /// The response holds more than one permessage-deflate element (§5.1).
    ResponseMultipleElements,
    /// The client offered `server_no_context_takeover` and the response lacks it (§7.1.1.1).
    ResponseMissingServerNoContextTakeover,
    /// The client offered `server_max_window_bits=N` and the response lacks it or answers a
    /// value above N (§7.1.2.1).
    ResponseServerMaxWindowBits,
    /// The response has `client_max_window_bits` although the offer did not (§7.1.2.2).
    ResponseClientMaxWindowBitsNotOffered,
    /// The response's `client_max_window_bits` is above the value the client offered as a hint
    /// (§7.1.2.2: the server may use the hint with an equal or smaller value). Harmless: the
    /// client keeps to its hint.
    ResponseClientMaxWindowBitsAboveHint,
    /// RSV1 on a data message although no extension giving it a meaning was negotiated
    /// (§6, RFC 6455 §5.2).
    Rsv1NotNegotiated,
    /// RSV1 on a control frame (§6.1).
    Rsv1OnControlFrame,
    /// RSV1 on a continuation frame (§6.1).
    Rsv1OnContinuation,
    /// A compressed message that is not valid DEFLATE data (§7.2.2).
    InvalidCompressedData,
    /// A compressed message whose payload is empty or still ends in `00 00 ff ff`: the sender
    /// skipped §7.2.1's last step, and appending the tail again would leave the receiver in
    /// the middle of a block (the wrong form of §7.2.3.6's empty last fragment).
    TailNotRemoved,
    /// The server's data reaches further back than the agreed `server_max_window_bits`
    /// (§7.1.2.1).
    ServerWindowExceeded,
    /// The client's data reaches further back than the agreed `client_max_window_bits`
    /// (§7.1.2.2).
    ClientWindowExceeded,
    /// The server referred to an earlier message although `server_no_context_takeover` was
    /// agreed (§7.1.1.1, §7.2.1).
    ServerContextTakeover,
    /// The client referred to an earlier message although `client_no_context_takeover` was
    /// agreed (§7.1.1.2, §7.2.1).
    ClientContextTakeover,
    /// The inflated message passed the receiver's size limit: a compression bomb is stopped as
    /// it is produced (RFC 7692 sets no limit; RFC 6455 §10.4 leaves it to the implementation).
    InflatedTooLarge,
}

impl FindingKind {
    /// Every kind, for tables that must stay complete.
    pub const ALL: [FindingKind; 22] = [
        FindingKind::OfferUnknownParameter,
        FindingKind::OfferInvalidValue,
        FindingKind::OfferDuplicateParameter,
        FindingKind::ResponseUnknownParameter,
        FindingKind::ResponseInvalidValue,
        FindingKind::ResponseDuplicateParameter,
        FindingKind::ResponseNotOffered,
        FindingKind::ResponseMultipleElements,
        FindingKind::ResponseMissingServerNoContextTakeover,
        FindingKind::ResponseServerMaxWindowBits,
        FindingKind::ResponseClientMaxWindowBitsNotOffered,
        FindingKind::ResponseClientMaxWindowBitsAboveHint,
        FindingKind::Rsv1NotNegotiated,
        FindingKind::Rsv1OnControlFrame,
        FindingKind::Rsv1OnContinuation,
        FindingKind::InvalidCompressedData,
        FindingKind::TailNotRemoved,
        FindingKind::ServerWindowExceeded,
        FindingKind::ClientWindowExceeded,
        FindingKind::ServerContextTakeover,
        FindingKind::ClientContextTakeover,
        FindingKind::InflatedTooLarge,
    ];

    /// The checklist anchor in `docs/rfc7692.md` this kind enforces.
    pub fn anchor(self) -> &'static str {
        use FindingKind::*;
        match self {
            OfferUnknownParameter => "7692-7-a",
            OfferInvalidValue => "7692-7-b",
            OfferDuplicateParameter => "7692-7-c",
            ResponseUnknownParameter => "7692-7-e",
            ResponseInvalidValue => "7692-7-f",
            ResponseDuplicateParameter => "7692-7-g",
            ResponseNotOffered => "7692-5.1-e",
            ResponseMultipleElements => "7692-5.1-d",
            ResponseMissingServerNoContextTakeover => "7692-7.1.1.1-c",
            ResponseServerMaxWindowBits => "7692-7.1.2.1-d",
            ResponseClientMaxWindowBitsNotOffered => "7692-7.1.2.2-c",
            ResponseClientMaxWindowBitsAboveHint => "7692-7.1.2.2-d",
            Rsv1NotNegotiated => "7692-6-b",
            Rsv1OnControlFrame => "7692-6.1-b",
            Rsv1OnContinuation => "7692-6.1-c",
            InvalidCompressedData => "7692-7.2.2-c",
            TailNotRemoved => "7692-7.2.1-e",
            ServerWindowExceeded => "7692-7.1.2.1-f",
            ClientWindowExceeded => "7692-7.1.2.2-g",
            ServerContextTakeover => "7692-7.2.1-c",
            ClientContextTakeover => "7692-7.2.1-d",
            InflatedTooLarge => "7692-limit-a",
        }
    }

    /// The RFC section, e.g. `RFC 7692 §7.1.2.1` (RFC 6455 §10.4 for the size limit).
    pub fn section(self) -> &'static str {
        use FindingKind::*;
        match self {
            OfferUnknownParameter
            | OfferInvalidValue
            | OfferDuplicateParameter
            | ResponseUnknownParameter
            | ResponseInvalidValue
            | ResponseDuplicateParameter => "RFC 7692 §7",
            ResponseNotOffered | ResponseMultipleElements => "RFC 7692 §5.1",
            ResponseMissingServerNoContextTakeover | ServerContextTakeover => "RFC 7692 §7.1.1.1",
            ClientContextTakeover => "RFC 7692 §7.1.1.2",
            ResponseServerMaxWindowBits | ServerWindowExceeded => "RFC 7692 §7.1.2.1",
            ResponseClientMaxWindowBitsNotOffered
            | ResponseClientMaxWindowBitsAboveHint
            | ClientWindowExceeded => "RFC 7692 §7.1.2.2",
            Rsv1NotNegotiated => "RFC 7692 §6",
            Rsv1OnControlFrame | Rsv1OnContinuation => "RFC 7692 §6.1",
            InvalidCompressedData => "RFC 7692 §7.2.2",
            TailNotRemoved => "RFC 7692 §7.2.1",
            InflatedTooLarge => "RFC 6455 §10.4",
        }
    }

    /// How strongly the RFC words it.
    pub fn level(self) -> Level {
        match self {
            FindingKind::ResponseClientMaxWindowBitsAboveHint | FindingKind::InflatedTooLarge => {
                Level::Info
            }
            _ => Level::Must,
        }
    }

    /// The kebab-case name used in traces and JSON.
    pub fn name(self) -> &'static str {
        use FindingKind::*;
        match self {
            OfferUnknownParameter => "deflate-offer-unknown-parameter",
            OfferInvalidValue => "deflate-offer-invalid-value",
            OfferDuplicateParameter => "deflate-offer-duplicate-parameter",
            ResponseUnknownParameter => "deflate-response-unknown-parameter",
            ResponseInvalidValue => "deflate-response-invalid-value",
            ResponseDuplicateParameter => "deflate-response-duplicate-parameter",
            ResponseNotOffered => "deflate-response-not-offered",
            ResponseMultipleElements => "deflate-response-multiple-elements",
            ResponseMissingServerNoContextTakeover => "deflate-response-missing-server-nct",
            ResponseServerMaxWindowBits => "deflate-response-server-max-window-bits",
            ResponseClientMaxWindowBitsNotOffered => "deflate-response-client-max-window-bits",
            ResponseClientMaxWindowBitsAboveHint => "deflate-response-client-bits-above-hint",
            Rsv1NotNegotiated => "rsv1-not-negotiated",
            Rsv1OnControlFrame => "rsv1-on-control-frame",
            Rsv1OnContinuation => "rsv1-on-continuation",
            InvalidCompressedData => "invalid-compressed-data",
            TailNotRemoved => "deflate-tail-not-removed",
            ServerWindowExceeded => "server-window-exceeded",
            ClientWindowExceeded => "client-window-exceeded",
            ServerContextTakeover => "server-context-takeover",
            ClientContextTakeover => "client-context-takeover",
            InflatedTooLarge => "inflated-too-large",
        }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One RFC 7692 finding: what kind, and the specifics (`server_max_window_bits=16 is outside
/// 8..=15`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The requirement that was broken.
    pub kind: FindingKind,
    /// What was observed, lowercase, for the report.
    pub detail: String,
}

impl Finding {
    /// A finding of `kind` with its detail text.
    pub fn new(kind: FindingKind, detail: impl Into<String>) -> Finding {
        Finding {
            kind,
            detail: detail.into(),
        }
    }

    /// The checklist anchor (`7692-7.1.2.1-d`).
    pub fn anchor(&self) -> &'static str {
        self.kind.anchor()
    }

    /// The RFC section (`RFC 7692 §7.1.2.1`).
    pub fn section(&self) -> &'static str {
        self.kind.section()
    }

    /// How strongly the RFC words it.
    pub fn level(&self) -> Level {
        self.kind.level()
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} {}, {}): {}",
            self.kind.name(),
            self.kind.section(),
            self.kind.level(),
            self.kind.anchor(),
            self.detail
        )
    }
}
