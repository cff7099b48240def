//! The catalogue of deliberately defective servers: one [`Fault`] per single-point defect of the
//! correct raw echo server in `raw.rs`, each with a kebab-case name, a one-line description, the
//! RFC 6455 or RFC 7692 (permessage-deflate) section it breaks and how strongly the RFC words
//! that requirement.
//!
//! The faults exist so wsprobe's own checks can be shown to fail: start
//! `Server::start(ServeConfig { mode: ServeMode::Fault(fault), .. })` (or
//! `wsprobe serve --fault NAME`) and run a suite against it. [`Fault::None`] is the defect-free
//! baseline the faults are measured against; it is not part of [`faults`].
//!
//! This file is pure data: what each defect *does* is implemented where the baseline would do
//! the right thing, in `raw.rs`.

use std::fmt;

use crate::wire::Level;

/// What a fault is: its name, what it does wrong and which requirement that breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultInfo {
    /// The fault.
    pub fault: Fault,
    /// Kebab-case name, as given to `wsprobe serve --fault`.
    pub name: &'static str,
    /// What the server does wrong, in one line.
    pub description: &'static str,
    /// The RFC section whose requirement the defect breaks, e.g. `RFC 6455 §5.5.2` or
    /// `RFC 7692 §6.1`.
    pub section: &'static str,
    /// How strongly the RFC words that requirement. [`Level::Info`] marks a *tolerated*
    /// behaviour: the RFC (or wsprobe's `fail` expectation, as Autobahn's) permits it, and it is
    /// listed only to show which suite cases are stricter than the RFC.
    pub level: Level,
}

impl FaultInfo {
    /// Whether the RFC permits the behaviour (see [`FaultInfo::level`]).
    pub fn tolerated(&self) -> bool {
        self.level == Level::Info
    }
}

/// Declares [`Fault`] and the table behind [`faults`] from one list, so that every variant has
/// exactly one entry and the two cannot drift apart.
macro_rules! fault_table {
    ($($variant:ident = $name:literal, $level:ident, $section:literal, $description:literal;)*) => {
        /// A deliberately defective behaviour of the raw echo server, or [`Fault::None`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Fault {
            /// No defect: the correct raw echo server every fault is a variation of.
            None,
            $(
                #[doc = $description]
                #[doc = ""]
                #[doc = concat!("Breaks ", $section, ".")]
                $variant,
            )*
        }

        static FAULTS: &[FaultInfo] = &[
            $(FaultInfo {
                fault: Fault::$variant,
                name: $name,
                description: $description,
                section: $section,
                level: Level::$level,
            },)*
        ];
    };
}

fault_table! {
    // Opening handshake: the response (§4.2.2).
    WrongAccept = "wrong-accept", Must, "RFC 6455 §4.2.2",
        "computes Sec-WebSocket-Accept from the key alone, without the GUID";
    Status200 = "status-200", Must, "RFC 6455 §4.2.2",
        "answers a valid upgrade request with 200 OK instead of 101 Switching Protocols";
    NoUpgradeIn101 = "no-upgrade-in-101", Must, "RFC 6455 §4.2.2",
        "leaves the Upgrade: websocket header out of the 101 response";
    NoConnectionIn101 = "no-connection-in-101", Must, "RFC 6455 §4.2.2",
        "leaves the Connection: Upgrade header out of the 101 response";
    UnofferedSubprotocol = "unoffered-subprotocol", Must, "RFC 6455 §4.2.2",
        "selects subprotocol x-unoffered whatever the client offered";
    AcceptUnknownExtension = "accept-unknown-extension", Must, "RFC 6455 §9.1",
        "accepts every offered extension, also those it does not implement (all but permessage-deflate)";
    // Opening handshake: judging the request (§4.2.1) and refusing it (§4.4).
    AcceptMissingKey = "accept-missing-key", Must, "RFC 6455 §4.2.1",
        "accepts a request without Sec-WebSocket-Key";
    AcceptBadKeyLength = "accept-bad-key-length", Must, "RFC 6455 §4.2.1",
        "accepts a Sec-WebSocket-Key that does not decode to 16 bytes";
    AcceptRepeatedKey = "accept-repeated-key", Must, "RFC 6455 §11.3.1",
        "accepts a request with two Sec-WebSocket-Key headers, using the first";
    AcceptNonBase64Key = "accept-non-base64-key", Must, "RFC 6455 §4.2.1",
        "accepts a Sec-WebSocket-Key that is not base64 at all";
    AcceptAnyVersion = "accept-any-version", Must, "RFC 6455 §4.2.1",
        "accepts any Sec-WebSocket-Version, or none, instead of only 13";
    AcceptMissingHost = "accept-missing-host", Must, "RFC 6455 §4.2.1",
        "accepts a request without a Host header";
    AcceptPost = "accept-post", Must, "RFC 6455 §4.2.1",
        "accepts an upgrade request whose method is not GET";
    AcceptHttp10 = "accept-http10", Must, "RFC 6455 §4.2.1",
        "accepts an upgrade request made with HTTP/1.0";
    AcceptMissingUpgrade = "accept-missing-upgrade", Must, "RFC 6455 §4.2.1",
        "accepts a request without Upgrade: websocket";
    AcceptMissingConnection = "accept-missing-connection", Must, "RFC 6455 §4.2.1",
        "accepts a request whose Connection header lacks the Upgrade token";
    CaseSensitiveUpgrade = "case-sensitive-upgrade", Must, "RFC 6455 §4.2.1",
        "refuses an Upgrade value not spelled exactly 'websocket' (the token is case-insensitive)";
    No426 = "no-426", Must, "RFC 6455 §4.4",
        "refuses a bad or missing version with 400 and no Sec-WebSocket-Version instead of 426";
    NoVersionIn426 = "no-version-in-426", Must, "RFC 6455 §4.4",
        "answers 426 for a bad version without the Sec-WebSocket-Version header";
    // Frames from the client (§5.1–§5.5).
    AcceptUnmasked = "accept-unmasked", Must, "RFC 6455 §5.1",
        "accepts unmasked client frames instead of failing the connection";
    NoUnmask = "no-unmask", Must, "RFC 6455 §5.3",
        "echoes client payloads without removing the mask";
    IgnoreRsv = "ignore-rsv", Must, "RFC 6455 §5.2",
        "accepts frames with RSV bits set although no extension was negotiated";
    IgnoreReservedOpcode = "ignore-reserved-opcode", Must, "RFC 6455 §5.2",
        "skips frames with a reserved opcode instead of failing the connection";
    AcceptOversizedControl = "accept-oversized-control", Must, "RFC 6455 §5.5",
        "accepts control frames over 125 bytes and answers a 126-byte ping with a 126-byte pong";
    AcceptFragmentedControl = "accept-fragmented-control", Must, "RFC 6455 §5.5",
        "accepts control frames with FIN clear";
    AcceptOrphanContinuation = "accept-orphan-continuation", Must, "RFC 6455 §5.4",
        "skips a continuation frame that continues no message instead of failing";
    AcceptInterleavedData = "accept-interleaved-data", Must, "RFC 6455 §5.4",
        "a new text or binary frame inside a fragmented message starts over instead of failing";
    // Ping and pong (§5.5.2, §5.5.3).
    NoPong = "no-pong", Must, "RFC 6455 §5.5.2",
        "never answers a ping";
    WrongPongPayload = "wrong-pong-payload", Must, "RFC 6455 §5.5.3",
        "answers every ping with a pong carrying 'pong' instead of the ping's payload";
    AnswerLastPingOnly = "answer-last-ping-only", Info, "RFC 6455 §5.5.3",
        "of pings that arrive together, answers only the last (the RFC allows it; Autobahn 2.10 \
         does not)";
    // UTF-8 (§8.1) and the close codes for failures (§7.4.1).
    NoUtf8Validation = "no-utf8-validation", Must, "RFC 6455 §8.1",
        "echoes text messages that are not valid UTF-8";
    Utf8PerFrame = "utf8-per-frame", Must, "RFC 6455 §8.1",
        "validates each frame on its own, so a code point split across frames is refused";
    // §8.1 says to fail, not when; failing fast is what Autobahn 6.4 expects (NON-STRICT).
    Utf8AtEnd = "utf8-at-end", Should, "RFC 6455 §8.1",
        "validates UTF-8 only once a message is complete, not as soon as an invalid byte arrives";
    // §7.1.7 leaves the code to the endpoint; §7.4.1 defines which one means what.
    Utf8Close1002 = "utf8-close-1002", Should, "RFC 6455 §7.4.1",
        "fails invalid UTF-8 with close code 1002 instead of 1007";
    WrongCloseCode = "wrong-close-code", Should, "RFC 6455 §7.4.1",
        "fails protocol errors with close code 1000 instead of 1002";
    // The closing handshake (§5.5.1, §7).
    EchoInvalidCloseCode = "echo-invalid-close-code", Must, "RFC 6455 §7.4",
        "echoes a close code that must not be sent (1005, 999, 1004, ...) instead of failing";
    AcceptOneByteClose = "accept-one-byte-close", Should, "RFC 6455 §7.4.1",
        "answers a one-byte close payload with an ordinary close instead of 1002 (only the code shows it)";
    AcceptInvalidCloseReason = "accept-invalid-close-reason", Should, "RFC 6455 §7.1.7",
        "answers a close whose reason is not UTF-8 with a normal close 1000 instead of failing with 1002 or 1007 (a close with the wrong code: the code is a SHOULD, §7.1.7)";
    Reply1005 = "reply-1005", Must, "RFC 6455 §7.4.1",
        "answers a close without a code with a close frame carrying 1005";
    CloseNotAnswered = "close-not-answered", Must, "RFC 6455 §5.5.1",
        "never answers the client's close frame; closes TCP without one";
    NoTcpClose = "no-tcp-close", Should, "RFC 6455 §7.1.1",
        "answers the client's close but leaves TCP open for the client to close";
    EchoAfterClose = "echo-after-close", Must, "RFC 6455 §5.5.1",
        "keeps echoing data frames that arrive after the client's close frame";
    OversizedCloseReason = "oversized-close-reason", Must, "RFC 6455 §5.5",
        "fails the connection with a close frame whose reason makes it 132 bytes long";
    DropOnError = "drop-on-error", Info, "RFC 6455 §7.1.7",
        "on a protocol error closes TCP without a close frame (§7.1.7 SHOULD send one, but \
         wsprobe's fail expectation and Autobahn accept a drop)";
    // Frames from the server (§5.1, §5.2) and what they carry.
    MaskedServerFrames = "masked-server-frames", Must, "RFC 6455 §5.1",
        "masks every frame it sends";
    RsvOnServerFrames = "rsv-on-server-frames", Must, "RFC 6455 §5.2",
        "sets RSV1 on every frame it sends without a negotiated extension";
    NonMinimalLength = "non-minimal-length", Must, "RFC 6455 §5.2",
        "writes every payload length in the 64-bit form";
    BinaryAsText = "binary-as-text", Must, "RFC 6455 §5.6",
        "echoes binary messages as text messages";
    TruncateLarge = "truncate-large", Must, "RFC 6455 §6.2",
        "echoes only the first 64 KiB of longer messages";
    // permessage-deflate (RFC 7692): the negotiation (§5.1, §7).
    DeflateAcceptInvalidOffer = "deflate-accept-invalid-offer", Must, "RFC 7692 §7",
        "accepts permessage-deflate offers it must decline (unknown or repeated parameter, invalid window bits, a value on a parameter without one), ignoring the invalid parts";
    DeflateUnofferedParameter = "deflate-unoffered-parameter", Must, "RFC 7692 §7.1.2.2",
        "answers client_max_window_bits=15 although the accepted offer did not include client_max_window_bits";
    DeflateMissingServerNct = "deflate-missing-server-nct", Must, "RFC 7692 §7.1.1.1",
        "accepts an offer with server_no_context_takeover (and honours it) but leaves the parameter out of its response";
    DeflateBitsAboveOffer = "deflate-bits-above-offer", Must, "RFC 7692 §7.1.2.1",
        "answers server_max_window_bits one above the value offered (and compresses within the offered one)";
    DeflateTwoElements = "deflate-two-elements", Must, "RFC 7692 §5.1",
        "answers with its permessage-deflate element twice";
    // permessage-deflate: what the server sends (§6.1, §7.1, §7.2.1).
    Rsv1OnContinuation = "rsv1-on-continuation", Must, "RFC 7692 §6.1",
        "sends each compressed echo in two frames and sets RSV1 on the continuation frame too";
    Rsv1OnControl = "rsv1-on-control", Must, "RFC 7692 §6.1",
        "sets RSV1 on its pongs and close frames when permessage-deflate is agreed";
    DeflateContextTakeover = "deflate-context-takeover", Must, "RFC 7692 §7.1.1.1",
        "accepts server_no_context_takeover but keeps its compression context from message to message";
    DeflateWindowExceeded = "deflate-window-exceeded", Must, "RFC 7692 §7.1.2.1",
        "accepts server_max_window_bits below 15 but compresses with a 32 KiB window, referring further back";
    DeflateUncompressedRsv1 = "deflate-uncompressed-rsv1", Must, "RFC 7692 §7.2.1",
        "marks its echoes compressed (RSV1) but sends the message bytes uncompressed";
    // permessage-deflate: what the server receives (§6.1, §7.2.2, RFC 6455 §10.4).
    DeflateIgnoreInvalidData = "deflate-ignore-invalid-data", Must, "RFC 7692 §7.2.2",
        "drops a message whose compressed data is invalid instead of failing the connection";
    DeflateAcceptRsv1Continuation = "deflate-accept-rsv1-continuation", Must, "RFC 7692 §6.1",
        "accepts RSV1 on a continuation frame instead of failing the connection";
    DeflateEmptyFragment = "deflate-empty-fragment", Must, "RFC 7692 §7.2.2",
        "fails the connection with 1002 on a valid empty last fragment (the single byte 00 of §7.2.3.6)";
    DeflateStreamEnd = "deflate-stream-end", Must, "RFC 7692 §7.2.2",
        "after a compressed message whose block has BFINAL set, inflates every later message to nothing (its inflater stops at the end of the first DEFLATE stream)";
    DeflateInflateUnbounded = "deflate-inflate-unbounded", Should, "RFC 6455 §10.4",
        "inflates compressed messages without a size limit, echoing a compression bomb instead of failing with 1009";

    // WebSockets over HTTP/2 (RFC 8441): `serve --http2 --fault h2-…`, judged with
    // `run --http2`; the HTTP/1.1 upgrade of these servers is the faultless baseline's.
    H2NoConnectSetting = "h2-no-connect-setting", Info, "RFC 8441 §3",
        "does not send SETTINGS_ENABLE_CONNECT_PROTOCOL: WebSockets over HTTP/1.1 only";
    H2Status400 = "h2-status-400", Must, "RFC 8441 §5",
        "answers every valid extended CONNECT with 400";
    H2ContentLength0 = "h2-content-length-0", Must, "RFC 9110 §9.3.6",
        "sends content-length: 0 in the 2xx response to the extended CONNECT";
    H2EndStreamOn2xx = "h2-end-stream-on-2xx", Must, "RFC 8441 §5",
        "ends the stream with the 2xx response's HEADERS, leaving no tunnel";
    H2SendAccept = "h2-send-accept", Should, "RFC 8441 §5",
        "sends sec-websocket-accept in the 2xx, as if answering an HTTP/1.1 upgrade";
    H2AcceptAnyProtocol = "h2-accept-any-protocol", Must, "RFC 8441 §4",
        "opens a WebSocket whatever the extended CONNECT's :protocol names";
    H2AcceptAnyVersion = "h2-accept-any-version", Must, "RFC 8441 §5",
        "accepts an extended CONNECT without sec-websocket-version: 13";
    H2UnofferedSubprotocol = "h2-unoffered-subprotocol", Must, "RFC 8441 §5",
        "selects a subprotocol the extended CONNECT did not offer";
    H2NoEndStream = "h2-no-end-stream", Should, "RFC 8441 §5",
        "never ends its side of the stream (END_STREAM) after the closing handshake";
    H2RstProtocolError = "h2-rst-protocol-error", Must, "RFC 8441 §5",
        "ends every WebSocket with RST_STREAM PROTOCOL_ERROR instead of END_STREAM";
    H2TrailersOnTunnel = "h2-trailers-on-tunnel", Must, "RFC 8441 §5",
        "ends every WebSocket's stream with a trailer HEADERS frame instead of DATA";
    H2NoWindowUpdate = "h2-no-window-update", Must, "RFC 8441 §5",
        "never gives flow-control window back, so a client stalls after 65,535 bytes";
    // Connection-level misbehaviour below `h2`, made by a tap on the server's bytes
    // (`net/h2tap.rs`).
    H2SettingValue2 = "h2-setting-value-2", Must, "RFC 8441 §3",
        "sends SETTINGS_ENABLE_CONNECT_PROTOCOL = 2 (only 0 and 1 are allowed)";
    H2WithdrawSetting = "h2-withdraw-setting", Must, "RFC 8441 §3",
        "after its first DATA frame sends SETTINGS_ENABLE_CONNECT_PROTOCOL = 0, withdrawing the 1 it sent";
    H2PingBeforeSettings = "h2-ping-before-settings", Must, "RFC 9113 §3.4",
        "sends a PING before its SETTINGS, which must be its first frame";
    H2NoSettingsAck = "h2-no-settings-ack", Must, "RFC 9113 §6.5.3",
        "never acknowledges the client's SETTINGS";
    H2NoPingAck = "h2-no-ping-ack", Must, "RFC 9113 §6.7",
        "answers the connection's first PING and no other";
    H2OversizedData = "h2-oversized-data", Must, "RFC 9113 §4.2",
        "sends DATA frames above the client's SETTINGS_MAX_FRAME_SIZE (it reads the client's limit as 1 MiB)";
    H2IgnoreWindow = "h2-ignore-window", Must, "RFC 9113 §6.9.1",
        "sends more DATA than the client's stream window allows (it reads the client's initial window as 1 MiB)";
    H2GoawayDropsStreams = "h2-goaway-drops-streams", Must, "RFC 9113 §6.8",
        "closes the connection when the client sends GOAWAY, ending the open WebSockets instead of letting them finish";
    // HTTP/2 request validation, which the `h2` crate does itself: a hand-written server
    // (`serve/h2raw.rs`) that answers requests only, no WebSocket data.
    H2AcceptMissingPath = "h2-accept-missing-path", Must, "RFC 8441 §4",
        "accepts an extended CONNECT without :path";
    H2AcceptMissingScheme = "h2-accept-missing-scheme", Must, "RFC 8441 §4",
        "accepts an extended CONNECT without :scheme";
    H2AcceptProtocolOnGet = "h2-accept-protocol-on-get", Must, "RFC 8441 §4",
        "accepts :protocol on a request whose method is not CONNECT";
    H2AcceptUppercase = "h2-accept-uppercase", Must, "RFC 9113 §8.2.1",
        "accepts a request with an uppercase field name";
    H2AcceptConnectionHeader = "h2-accept-connection-header", Must, "RFC 9113 §8.2.2",
        "accepts a request carrying connection-specific fields (connection, upgrade)";
    H2LenientPseudo = "h2-lenient-pseudo", Must, "RFC 9113 §8.3",
        "accepts pseudo-header fields after regular ones, and repeated ones";
    H2RejectContinuation = "h2-reject-continuation", Must, "RFC 9113 §6.10",
        "resets a request whose field block continues in CONTINUATION frames";
    H2RejectUnknownSetting = "h2-reject-unknown-setting", Must, "RFC 9113 §6.5.2",
        "ends the connection when the client's SETTINGS carry an unknown identifier";
    H2AcceptUnadvertised = "h2-accept-unadvertised", Must, "RFC 8441 §3",
        "does not send SETTINGS_ENABLE_CONNECT_PROTOCOL, yet answers an extended CONNECT with 200";
}

/// Every deliberate defect, in catalogue order; [`Fault::None`] is not among them.
pub fn faults() -> &'static [FaultInfo] {
    FAULTS
}

/// The entry of the baseline, so that [`Fault::info`] has an answer for every value.
static NONE_INFO: FaultInfo = FaultInfo {
    fault: Fault::None,
    name: "none",
    description: "no defect: the correct raw echo server the faults are variations of",
    section: "RFC 6455",
    level: Level::Info,
};

impl Fault {
    /// Looks a fault up by its kebab-case name (`none` included).
    pub fn from_name(name: &str) -> Option<Fault> {
        if name == NONE_INFO.name {
            return Some(Fault::None);
        }
        FAULTS.iter().find(|i| i.name == name).map(|i| i.fault)
    }

    /// The catalogue entry of this fault.
    pub fn info(self) -> &'static FaultInfo {
        if self == Fault::None {
            return &NONE_INFO;
        }
        FAULTS
            .iter()
            .find(|i| i.fault == self)
            .expect("fault_table! gives every variant but None an entry in FAULTS")
    }

    /// Whether the defect is in WebSockets over HTTP/2 (RFC 8441), so only `run --http2`
    /// against `serve --http2` can see it.
    pub fn is_http2(self) -> bool {
        self.name().starts_with("h2-")
    }

    /// The kebab-case name.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// Every valid name, `none` first, for usage errors.
    pub fn names() -> impl Iterator<Item = &'static str> {
        std::iter::once(NONE_INFO.name).chain(FAULTS.iter().map(|i| i.name))
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_kebab_case_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for name in Fault::names() {
            assert!(seen.insert(name), "duplicate name {name}");
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{name} is not kebab-case"
            );
            assert!(!name.starts_with('-') && !name.ends_with('-') && !name.contains("--"));
            let fault = Fault::from_name(name).expect("listed names parse");
            assert_eq!(fault.name(), name);
            assert_eq!(fault.to_string(), name);
        }
        assert_eq!(Fault::from_name("no-such-fault"), None);
        assert_eq!(Fault::from_name("None"), None, "names are case-sensitive");
    }

    #[test]
    fn every_fault_names_a_section_and_a_one_line_description() {
        for info in faults() {
            assert_ne!(info.fault, Fault::None);
            assert!(
                [
                    "RFC 6455 §",
                    "RFC 7692 §",
                    "RFC 8441 §",
                    "RFC 9110 §",
                    "RFC 9113 §"
                ]
                .iter()
                .any(|rfc| info.section.starts_with(rfc)),
                "{}",
                info.name
            );
            assert!(!info.description.contains('\n'), "{}", info.name);
            assert!(!info.description.ends_with('.'), "{}", info.name);
            assert_eq!(info.fault.info(), info);
        }
    }

    #[test]
    fn at_least_thirty_faults_break_the_rfc() {
        let breaking = faults().iter().filter(|i| !i.tolerated()).count();
        assert!(breaking >= 30, "only {breaking}");
        let tolerated: Vec<_> = faults()
            .iter()
            .filter(|i| i.tolerated())
            .map(|i| i.name)
            .collect();
        assert_eq!(
            tolerated,
            [
                "answer-last-ping-only",
                "drop-on-error",
                "h2-no-connect-setting"
            ]
        );
    }
}
