//! Close frames and close status codes (RFC 6455 §5.5.1, §7.4): parsing a close payload into
//! code and reason, encoding it back, and classifying codes by the ranges of §7.4 and the IANA
//! "WebSocket Close Code Number Registry".
//!
//! Parsing never rejects: a one-byte payload, a code that must not be on the wire and a reason
//! that is not UTF-8 are all represented, so that [`crate::wire::rules`] can judge them and a
//! capture can show them.

use std::fmt;

/// 1000: the purpose of the connection has been fulfilled (§7.4.1).
pub const NORMAL: u16 = 1000;
/// 1001: the endpoint is going away, e.g. a server shutting down (§7.4.1).
pub const GOING_AWAY: u16 = 1001;
/// 1002: the endpoint saw a protocol error (§7.4.1).
pub const PROTOCOL_ERROR: u16 = 1002;
/// 1003: the endpoint received a type of data it cannot accept (§7.4.1).
pub const UNSUPPORTED_DATA: u16 = 1003;
/// 1005: no status code was present; never sent in a close frame (§7.4.1).
pub const NO_STATUS: u16 = 1005;
/// 1006: closed without a close frame; never sent in a close frame (§7.4.1).
pub const ABNORMAL: u16 = 1006;
/// 1007: message data inconsistent with its type, e.g. non-UTF-8 text (§7.4.1).
pub const INVALID_PAYLOAD: u16 = 1007;
/// 1008: a message violated the endpoint's policy (§7.4.1).
pub const POLICY_VIOLATION: u16 = 1008;
/// 1009: a message was too big to process (§7.4.1).
pub const MESSAGE_TOO_BIG: u16 = 1009;
/// 1010: the client expected the server to negotiate an extension it did not (§7.4.1).
pub const MANDATORY_EXTENSION: u16 = 1010;
/// 1011: the server hit an unexpected condition (§7.4.1).
pub const INTERNAL_ERROR: u16 = 1011;
/// 1012: the service is restarting (IANA registry, after RFC 6455).
pub const SERVICE_RESTART: u16 = 1012;
/// 1013: the service is overloaded; try again later (IANA registry, after RFC 6455).
pub const TRY_AGAIN_LATER: u16 = 1013;
/// 1014: a gateway or proxy got an invalid response upstream (IANA registry, after RFC 6455).
pub const BAD_GATEWAY: u16 = 1014;
/// 1015: the TLS handshake failed; never sent in a close frame (§7.4.1).
pub const TLS_HANDSHAKE: u16 = 1015;

/// Classification of a close status code per RFC 6455 §7.4 and the IANA registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CloseClass {
    /// 1000–1003, 1007–1011: defined by RFC 6455 §7.4.1.
    Defined,
    /// 1012–1014: registered with IANA after RFC 6455 (service restart, try again later, bad
    /// gateway).
    IanaRegistered,
    /// 1004 and 1016–2999: reserved for this protocol and extensions, not assigned.
    Reserved,
    /// 1005, 1006, 1015: MUST NOT be set in a close frame (§7.4.1).
    NeverOnWire,
    /// 3000–3999: registered for libraries and frameworks (§7.4.2).
    Registered,
    /// 4000–4999: private use (§7.4.2).
    Private,
    /// 0–999 and 5000 and above: not used (§7.4.2).
    OutOfRange,
}

impl CloseClass {
    /// The class of `code`.
    pub fn of(code: u16) -> CloseClass {
        match code {
            0..=999 => CloseClass::OutOfRange,
            1000..=1003 | 1007..=1011 => CloseClass::Defined,
            1012..=1014 => CloseClass::IanaRegistered,
            1005 | 1006 | 1015 => CloseClass::NeverOnWire,
            1004 | 1016..=2999 => CloseClass::Reserved,
            3000..=3999 => CloseClass::Registered,
            4000..=4999 => CloseClass::Private,
            5000..=u16::MAX => CloseClass::OutOfRange,
        }
    }

    /// Whether an endpoint may send this code in a close frame: Defined, IanaRegistered,
    /// Registered, Private.
    ///
    /// Reserved codes are refused too: §7.4.2 reserves 1000–2999 for definition by a public
    /// specification, so an unassigned one has no meaning a peer could act on.
    pub fn allowed_on_wire(self) -> bool {
        matches!(
            self,
            CloseClass::Defined
                | CloseClass::IanaRegistered
                | CloseClass::Registered
                | CloseClass::Private
        )
    }

    /// The kebab-case name used in traces and reports: `defined`, `iana-registered`,
    /// `reserved`, `never-on-wire`, `registered`, `private`, `out-of-range`.
    pub fn name(self) -> &'static str {
        match self {
            CloseClass::Defined => "defined",
            CloseClass::IanaRegistered => "iana-registered",
            CloseClass::Reserved => "reserved",
            CloseClass::NeverOnWire => "never-on-wire",
            CloseClass::Registered => "registered",
            CloseClass::Private => "private",
            CloseClass::OutOfRange => "out-of-range",
        }
    }
}

impl fmt::Display for CloseClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Name of a known code, e.g. 1000 → "normal closure", 1002 → "protocol error" (RFC/IANA
/// names), None otherwise.
///
/// Names are the IANA registry's, lower-cased, with its abbreviations spelled out
/// ("No Status Rcvd" → "no status received", "Mandatory Ext." → "mandatory extension").
/// 1004 has no name: the registry lists it only as "Reserved".
pub fn close_code_name(code: u16) -> Option<&'static str> {
    let name = match code {
        NORMAL => "normal closure",
        GOING_AWAY => "going away",
        PROTOCOL_ERROR => "protocol error",
        UNSUPPORTED_DATA => "unsupported data",
        NO_STATUS => "no status received",
        ABNORMAL => "abnormal closure",
        INVALID_PAYLOAD => "invalid frame payload data",
        POLICY_VIOLATION => "policy violation",
        MESSAGE_TOO_BIG => "message too big",
        MANDATORY_EXTENSION => "mandatory extension",
        INTERNAL_ERROR => "internal error",
        SERVICE_RESTART => "service restart",
        TRY_AGAIN_LATER => "try again later",
        BAD_GATEWAY => "bad gateway",
        TLS_HANDSHAKE => "tls handshake",
        _ => return None,
    };
    Some(name)
}

/// A parsed close frame payload (§5.5.1). The reason is raw bytes: validity is judged by rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClosePayload {
    /// No payload: no status code (a browser reports 1005).
    Empty,
    /// Exactly one byte: malformed (a code needs two).
    OneByte(u8),
    /// A status code and a reason (possibly empty, possibly not UTF-8).
    Code {
        /// The status code, big-endian on the wire (§5.5.1).
        code: u16,
        /// The bytes after the code; §5.5.1 says UTF-8, but they are kept as sent.
        reason: Vec<u8>,
    },
}

impl ClosePayload {
    /// Splits a close frame's (unmasked) payload into code and reason. Never fails.
    pub fn parse(payload: &[u8]) -> ClosePayload {
        match payload {
            [] => ClosePayload::Empty,
            [b] => ClosePayload::OneByte(*b),
            [hi, lo, reason @ ..] => ClosePayload::Code {
                code: u16::from_be_bytes([*hi, *lo]),
                reason: reason.to_vec(),
            },
        }
    }

    /// The status code, if the payload has one.
    pub fn code(&self) -> Option<u16> {
        match self {
            ClosePayload::Code { code, .. } => Some(*code),
            ClosePayload::Empty | ClosePayload::OneByte(_) => None,
        }
    }

    /// The reason bytes; empty unless the payload has a code followed by a reason.
    pub fn reason(&self) -> &[u8] {
        match self {
            ClosePayload::Code { reason, .. } => reason,
            ClosePayload::Empty | ClosePayload::OneByte(_) => &[],
        }
    }

    /// Encodes back to payload bytes (Empty → `[]`, OneByte(b) → `[b]`, Code → code BE + reason).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            ClosePayload::Empty => Vec::new(),
            ClosePayload::OneByte(b) => vec![*b],
            ClosePayload::Code { code, reason } => {
                let mut out = Vec::with_capacity(2 + reason.len());
                out.extend_from_slice(&code.to_be_bytes());
                out.extend_from_slice(reason);
                out
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6455_7_4_every_class_boundary() {
        use CloseClass::*;
        let table = [
            (0, OutOfRange),
            (999, OutOfRange),
            (1000, Defined),
            (1003, Defined),
            (1004, Reserved),
            (1005, NeverOnWire),
            (1006, NeverOnWire),
            (1007, Defined),
            (1011, Defined),
            (1012, IanaRegistered),
            (1014, IanaRegistered),
            (1015, NeverOnWire),
            (1016, Reserved),
            (2999, Reserved),
            (3000, Registered),
            (3999, Registered),
            (4000, Private),
            (4999, Private),
            (5000, OutOfRange),
            (65535, OutOfRange),
        ];
        for (code, class) in table {
            assert_eq!(CloseClass::of(code), class, "code {code}");
        }
    }

    #[test]
    fn rfc6455_7_4_1_codes_allowed_on_the_wire() {
        let allowed = [1000, 1001, 1002, 1003, 1007, 1011, 1012, 1014, 3000, 4999];
        let refused = [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535];
        for code in allowed {
            assert!(CloseClass::of(code).allowed_on_wire(), "code {code}");
        }
        for code in refused {
            assert!(!CloseClass::of(code).allowed_on_wire(), "code {code}");
        }
    }

    #[test]
    fn class_names_are_kebab_case_and_distinct() {
        use CloseClass::*;
        let all = [
            Defined,
            IanaRegistered,
            Reserved,
            NeverOnWire,
            Registered,
            Private,
            OutOfRange,
        ];
        let names: std::collections::HashSet<&str> = all.iter().map(|c| c.name()).collect();
        assert_eq!(names.len(), all.len());
        assert_eq!(IanaRegistered.to_string(), "iana-registered");
        assert_eq!(NeverOnWire.name(), "never-on-wire");
    }

    #[test]
    fn rfc6455_7_4_1_code_names() {
        let table = [
            (1000, Some("normal closure")),
            (1001, Some("going away")),
            (1002, Some("protocol error")),
            (1003, Some("unsupported data")),
            (1004, None),
            (1005, Some("no status received")),
            (1006, Some("abnormal closure")),
            (1007, Some("invalid frame payload data")),
            (1008, Some("policy violation")),
            (1009, Some("message too big")),
            (1010, Some("mandatory extension")),
            (1011, Some("internal error")),
            (1012, Some("service restart")),
            (1013, Some("try again later")),
            (1014, Some("bad gateway")),
            (1015, Some("tls handshake")),
            (1016, None),
            (3000, None),
            (999, None),
        ];
        for (code, name) in table {
            assert_eq!(close_code_name(code), name, "code {code}");
        }
        // Every named code is in the 1000–1015 block the RFC and IANA assign.
        for code in 0..=u16::MAX {
            if close_code_name(code).is_some() {
                assert!((1000..=1015).contains(&code), "code {code}");
            }
        }
    }

    #[test]
    fn rfc6455_5_5_1_empty_close_payload() {
        let p = ClosePayload::parse(&[]);
        assert_eq!(p, ClosePayload::Empty);
        assert_eq!(p.code(), None);
        assert_eq!(p.reason(), b"");
    }

    #[test]
    fn rfc6455_5_5_1_one_byte_close_payload() {
        let p = ClosePayload::parse(&[0x03]);
        assert_eq!(p, ClosePayload::OneByte(0x03));
        assert_eq!(p.code(), None);
        assert_eq!(p.reason(), b"");
    }

    #[test]
    fn rfc6455_5_5_1_code_is_network_byte_order() {
        let p = ClosePayload::parse(&[0x03, 0xe8]);
        assert_eq!(p.code(), Some(NORMAL));
        assert_eq!(p.reason(), b"");
        let p = ClosePayload::parse(b"\x03\xe9bye");
        assert_eq!(
            p,
            ClosePayload::Code {
                code: GOING_AWAY,
                reason: b"bye".to_vec()
            }
        );
        assert_eq!(p.reason(), b"bye");
    }

    #[test]
    fn rfc6455_5_5_1_reason_kept_even_if_not_utf8() {
        let p = ClosePayload::parse(&[0x03, 0xe8, 0xce, 0xba, 0xff]);
        assert_eq!(p.code(), Some(1000));
        assert_eq!(p.reason(), &[0xce, 0xba, 0xff]);
    }

    #[test]
    fn parse_and_to_bytes_round_trip() {
        let payloads: [&[u8]; 7] = [
            b"",
            b"\x00",
            b"\xff",
            b"\x03\xe8",
            b"\x0f\xa0private reason",
            b"\xff\xffout of range",
            &[0x03, 0xef, 0xed, 0xa0, 0x80],
        ];
        for bytes in payloads {
            assert_eq!(ClosePayload::parse(bytes).to_bytes(), bytes, "{bytes:?}");
        }
        let values = [
            ClosePayload::Empty,
            ClosePayload::OneByte(7),
            ClosePayload::Code {
                code: 4000,
                reason: Vec::new(),
            },
            ClosePayload::Code {
                code: 1007,
                reason: "äöü".into(),
            },
        ];
        for p in values {
            assert_eq!(ClosePayload::parse(&p.to_bytes()), p);
        }
    }
}
