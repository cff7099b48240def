//! Protocol findings: a peer breaking RFC 6455 is a [`Violation`] value, never a Rust error.

use std::fmt;

use super::deflate::{Finding, FindingKind};

/// How strongly the RFC words a requirement (RFC 2119).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// MUST / MUST NOT / REQUIRED: breaking it fails a case.
    Must,
    /// SHOULD / SHOULD NOT / RECOMMENDED: breaking it is NON-STRICT.
    Should,
    /// Behaviour the RFC leaves open: recorded, never failing.
    Info,
}

impl Level {
    /// `MUST`, `SHOULD` or `INFO`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
            Level::Info => "INFO",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every kind of protocol violation wsprobe recognises, each tied to an RFC 6455 section.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ViolationKind {
    /// A client frame without the MASK bit (§5.1, §5.3).
    UnmaskedClientFrame,
    /// A server frame with the MASK bit set (§5.1).
    MaskedServerFrame,
    /// RSV1–3 set although no extension gave them a meaning (§5.2).
    ReservedBitsSet,
    /// An opcode from the reserved ranges 0x3–0x7 or 0xB–0xF (§5.2).
    ReservedOpcode,
    /// The payload length did not use the minimal encoding (§5.2).
    NonMinimalLength,
    /// A 64-bit payload length with its most significant bit set (§5.2).
    LengthMsbSet,
    /// A frame longer than the configured maximum message size (§10.4).
    PayloadTooLarge,
    /// More frames or data on one connection than the client keeps (§10.4): an endless ping
    /// stream, a flood of messages.
    ExcessiveTraffic,
    /// A control frame with more than 125 bytes of payload (§5.5).
    ControlFrameTooLong,
    /// A control frame with FIN clear (§5.5).
    FragmentedControlFrame,
    /// A continuation frame with no fragmented message in progress (§5.4).
    UnexpectedContinuation,
    /// A new text or binary frame while a fragmented message is still open (§5.4).
    InterleavedDataFrame,
    /// A text message that is not valid UTF-8 (§5.6, §8.1).
    InvalidUtf8Text,
    /// A close reason that is not valid UTF-8 (§5.5.1).
    InvalidUtf8CloseReason,
    /// A close payload of exactly one byte (§5.5.1).
    MalformedClosePayload,
    /// A close code that must not appear on the wire or is out of range (§7.4).
    InvalidCloseCode,
    /// Any frame after a close frame in the same direction (§5.5.1).
    DataAfterClose,
    /// A handshake response whose status is not 101 (§4.1).
    HandshakeStatus,
    /// A handshake message without `Upgrade: websocket` (§4.1, §4.2.1).
    HandshakeUpgradeHeader,
    /// A handshake message without the `Upgrade` token in `Connection` (§4.1, §4.2.1).
    HandshakeConnectionHeader,
    /// `Sec-WebSocket-Accept` missing or not derived from the key (§4.1, §1.3).
    HandshakeAccept,
    /// The server selected a subprotocol the client did not offer (§4.1).
    HandshakeSubprotocol,
    /// The server accepted an extension the client did not offer (§4.1).
    HandshakeExtension,
    /// A malformed upgrade request (§4.2.1).
    HandshakeRequest,
    /// The HTTP response or request could not be parsed at all (§4.1, §4.2.1).
    HandshakeMalformed,
    /// A rule of permessage-deflate (RFC 7692), as the extension layer found it.
    Deflate(FindingKind),
    /// A client's mask keys repeat or follow a pattern over a run (§5.3, §10.3).
    PredictableMask,
    /// A client's `Sec-WebSocket-Key` nonces repeat over a run (§4.1: randomly selected for
    /// each connection).
    RepeatedNonce,
    /// A browser's WebSocket API events break the WHATWG WebSockets Standard.
    BrowserApi,
    /// The answer to an extended CONNECT does not open a tunnel for the WebSocket: not a 2xx,
    /// END_STREAM on it, or framing fields on it (RFC 8441 §5, RFC 9110 §9.3.6).
    Http2Handshake,
    /// A WebSocket's HTTP/2 stream ended other than by END_STREAM or RST_STREAM CANCEL, or
    /// carried a frame a tunnel must not (RFC 8441 §5, RFC 9113 §8.5).
    Http2Stream,
    /// A client's extended CONNECT lacks what RFC 8441 §4 and §5 require of it (`:protocol
    /// websocket`, `:scheme`, `:path`, `:authority`, `sec-websocket-version: 13`).
    Http2Request,
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL sent with a value other than 0 or 1, or withdrawn
    /// (0 after 1), or an extended CONNECT sent before it was received (RFC 8441 §3).
    Http2Settings,
    /// The HTTP/2 connection under the WebSockets broke a rule of RFC 9113: a first frame
    /// other than SETTINGS (§3.4), SETTINGS not acknowledged (§6.5.3), a PING not answered
    /// (§6.7).
    Http2Connection,
}

impl ViolationKind {
    /// The RFC section the requirement comes from, e.g. `RFC 6455 §5.2`.
    pub fn section(self) -> &'static str {
        use ViolationKind::*;
        match self {
            UnmaskedClientFrame => "RFC 6455 §5.3",
            MaskedServerFrame => "RFC 6455 §5.1",
            ReservedBitsSet | ReservedOpcode | NonMinimalLength | LengthMsbSet => "RFC 6455 §5.2",
            PayloadTooLarge | ExcessiveTraffic => "RFC 6455 §10.4",
            ControlFrameTooLong | FragmentedControlFrame => "RFC 6455 §5.5",
            UnexpectedContinuation | InterleavedDataFrame => "RFC 6455 §5.4",
            InvalidUtf8Text => "RFC 6455 §8.1",
            InvalidUtf8CloseReason | MalformedClosePayload | DataAfterClose => "RFC 6455 §5.5.1",
            InvalidCloseCode => "RFC 6455 §7.4",
            HandshakeStatus
            | HandshakeUpgradeHeader
            | HandshakeConnectionHeader
            | HandshakeAccept
            | HandshakeSubprotocol
            | HandshakeExtension
            | HandshakeMalformed => "RFC 6455 §4.1",
            HandshakeRequest => "RFC 6455 §4.2.1",
            Http2Handshake | Http2Stream => "RFC 8441 §5",
            Http2Settings => "RFC 8441 §3",
            Http2Request => "RFC 8441 §4",
            // The detail names the section (§3.4, §6.5.3, §6.7).
            Http2Connection => "RFC 9113",
            Deflate(kind) => kind.section(),
            PredictableMask => "RFC 6455 §5.3",
            RepeatedNonce => "RFC 6455 §4.1",
            BrowserApi => "WHATWG WebSockets §9",
        }
    }

    /// How strongly the RFC words it.
    pub fn level(self) -> Level {
        match self {
            // §10.4 leaves the limit to the implementation.
            ViolationKind::PayloadTooLarge | ViolationKind::ExcessiveTraffic => Level::Info,
            ViolationKind::Deflate(kind) => kind.level(),
            _ => Level::Must,
        }
    }

    /// The kebab-case name used in traces and JSON.
    pub fn name(self) -> &'static str {
        use ViolationKind::*;
        match self {
            UnmaskedClientFrame => "unmasked-client-frame",
            MaskedServerFrame => "masked-server-frame",
            ReservedBitsSet => "reserved-bits-set",
            ReservedOpcode => "reserved-opcode",
            NonMinimalLength => "non-minimal-length",
            LengthMsbSet => "length-msb-set",
            PayloadTooLarge => "payload-too-large",
            ExcessiveTraffic => "excessive-traffic",
            PredictableMask => "predictable-mask",
            RepeatedNonce => "repeated-nonce",
            BrowserApi => "browser-api",
            ControlFrameTooLong => "control-frame-too-long",
            FragmentedControlFrame => "fragmented-control-frame",
            UnexpectedContinuation => "unexpected-continuation",
            InterleavedDataFrame => "interleaved-data-frame",
            InvalidUtf8Text => "invalid-utf8-text",
            InvalidUtf8CloseReason => "invalid-utf8-close-reason",
            MalformedClosePayload => "malformed-close-payload",
            InvalidCloseCode => "invalid-close-code",
            DataAfterClose => "data-after-close",
            HandshakeStatus => "handshake-status",
            HandshakeUpgradeHeader => "handshake-upgrade-header",
            HandshakeConnectionHeader => "handshake-connection-header",
            HandshakeAccept => "handshake-accept",
            HandshakeSubprotocol => "handshake-subprotocol",
            HandshakeExtension => "handshake-extension",
            HandshakeRequest => "handshake-request",
            HandshakeMalformed => "handshake-malformed",
            Http2Handshake => "http2-handshake",
            Http2Stream => "http2-stream",
            Http2Settings => "http2-settings",
            Http2Request => "http2-request",
            Http2Connection => "http2-connection",
            Deflate(kind) => kind.name(),
        }
    }
}

/// One protocol violation: what was broken, where the RFC says so, and the specifics.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Violation {
    /// What kind of rule was broken.
    pub kind: ViolationKind,
    /// Specifics in plain words, lower-case, e.g. `opcode 0x3 is reserved`.
    pub detail: String,
}

impl Violation {
    /// A violation of `kind` with a detail message.
    pub fn new(kind: ViolationKind, detail: impl Into<String>) -> Violation {
        Violation {
            kind,
            detail: detail.into(),
        }
    }

    /// The RFC section, e.g. `RFC 6455 §5.2`.
    pub fn section(&self) -> &'static str {
        self.kind.section()
    }
}

impl From<Finding> for Violation {
    fn from(f: Finding) -> Violation {
        Violation::new(ViolationKind::Deflate(f.kind), f.detail)
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} ({} {})",
            self.kind.name(),
            self.detail,
            self.kind.section(),
            self.kind.level()
        )
    }
}
