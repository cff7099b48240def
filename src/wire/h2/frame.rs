//! HTTP/2 frames (RFC 9113 §4, §6): the 9-octet header, a push decoder over `&[u8]`, typed
//! views of the ten defined frame types and an encoder that can write any of them, well formed
//! or not.
//!
//! Decoding is split in two steps, as for WebSocket frames: [`decode_frame`] only cuts the byte
//! stream into header + payload (bounding the length before anything is allocated), and
//! [`Payload::parse`] interprets a payload by type. A structurally impossible payload (padding
//! longer than the frame, a SETTINGS payload that is not a multiple of 6, a PING that is not 8
//! octets) is a [`FrameError`] naming the RFC 9113 section; the rules on stream identifiers are
//! checked separately by [`stream_id_error`], so a frame on the wrong stream is still decoded.

use std::fmt;

/// The client connection preface (RFC 9113 §3.4): these 24 octets, then a SETTINGS frame.
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Length of every frame header (RFC 9113 §4.1).
pub const FRAME_HEADER_LEN: usize = 9;

/// SETTINGS_MAX_FRAME_SIZE's initial value (RFC 9113 §6.5.2).
pub const DEFAULT_MAX_FRAME_SIZE: u32 = 16_384;

/// The largest SETTINGS_MAX_FRAME_SIZE a peer may set (2^24 − 1, RFC 9113 §6.5.2).
pub const MAX_FRAME_SIZE_LIMIT: u32 = 16_777_215;

/// END_STREAM (DATA, HEADERS).
pub const FLAG_END_STREAM: u8 = 0x1;
/// ACK (SETTINGS, PING).
pub const FLAG_ACK: u8 = 0x1;
/// END_HEADERS (HEADERS, PUSH_PROMISE, CONTINUATION).
pub const FLAG_END_HEADERS: u8 = 0x4;
/// PADDED (DATA, HEADERS, PUSH_PROMISE).
pub const FLAG_PADDED: u8 = 0x8;
/// PRIORITY (HEADERS).
pub const FLAG_PRIORITY: u8 = 0x20;

/// SETTINGS_HEADER_TABLE_SIZE.
pub const SETTINGS_HEADER_TABLE_SIZE: u16 = 0x1;
/// SETTINGS_ENABLE_PUSH.
pub const SETTINGS_ENABLE_PUSH: u16 = 0x2;
/// SETTINGS_MAX_CONCURRENT_STREAMS.
pub const SETTINGS_MAX_CONCURRENT_STREAMS: u16 = 0x3;
/// SETTINGS_INITIAL_WINDOW_SIZE.
pub const SETTINGS_INITIAL_WINDOW_SIZE: u16 = 0x4;
/// SETTINGS_MAX_FRAME_SIZE.
pub const SETTINGS_MAX_FRAME_SIZE: u16 = 0x5;
/// SETTINGS_MAX_HEADER_LIST_SIZE.
pub const SETTINGS_MAX_HEADER_LIST_SIZE: u16 = 0x6;
/// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3).
pub const SETTINGS_ENABLE_CONNECT_PROTOCOL: u16 = 0x8;

/// The name of a settings identifier (RFC 9113 §6.5.2, RFC 8441 §3, RFC 9218 §2.1), or `None`
/// for an identifier wsprobe does not know.
pub fn setting_name(id: u16) -> Option<&'static str> {
    Some(match id {
        0x1 => "SETTINGS_HEADER_TABLE_SIZE",
        0x2 => "SETTINGS_ENABLE_PUSH",
        0x3 => "SETTINGS_MAX_CONCURRENT_STREAMS",
        0x4 => "SETTINGS_INITIAL_WINDOW_SIZE",
        0x5 => "SETTINGS_MAX_FRAME_SIZE",
        0x6 => "SETTINGS_MAX_HEADER_LIST_SIZE",
        0x8 => "SETTINGS_ENABLE_CONNECT_PROTOCOL",
        0x9 => "SETTINGS_NO_RFC7540_PRIORITIES",
        _ => return None,
    })
}

/// A frame type (RFC 9113 §6); types outside 0x0–0x9 are kept as `Unknown`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrameType {
    /// DATA (0x0).
    Data,
    /// HEADERS (0x1).
    Headers,
    /// PRIORITY (0x2).
    Priority,
    /// RST_STREAM (0x3).
    RstStream,
    /// SETTINGS (0x4).
    Settings,
    /// PUSH_PROMISE (0x5).
    PushPromise,
    /// PING (0x6).
    Ping,
    /// GOAWAY (0x7).
    GoAway,
    /// WINDOW_UPDATE (0x8).
    WindowUpdate,
    /// CONTINUATION (0x9).
    Continuation,
    /// Any other type: ignored by receivers (RFC 9113 §5.5).
    Unknown(u8),
}

impl FrameType {
    /// The type of a type octet.
    pub fn from_u8(v: u8) -> FrameType {
        match v {
            0x0 => FrameType::Data,
            0x1 => FrameType::Headers,
            0x2 => FrameType::Priority,
            0x3 => FrameType::RstStream,
            0x4 => FrameType::Settings,
            0x5 => FrameType::PushPromise,
            0x6 => FrameType::Ping,
            0x7 => FrameType::GoAway,
            0x8 => FrameType::WindowUpdate,
            0x9 => FrameType::Continuation,
            other => FrameType::Unknown(other),
        }
    }

    /// The type octet.
    pub fn as_u8(self) -> u8 {
        match self {
            FrameType::Data => 0x0,
            FrameType::Headers => 0x1,
            FrameType::Priority => 0x2,
            FrameType::RstStream => 0x3,
            FrameType::Settings => 0x4,
            FrameType::PushPromise => 0x5,
            FrameType::Ping => 0x6,
            FrameType::GoAway => 0x7,
            FrameType::WindowUpdate => 0x8,
            FrameType::Continuation => 0x9,
            FrameType::Unknown(v) => v,
        }
    }

    /// The RFC's name (`WINDOW_UPDATE`), or `UNKNOWN` for other types.
    pub fn name(self) -> &'static str {
        match self {
            FrameType::Data => "DATA",
            FrameType::Headers => "HEADERS",
            FrameType::Priority => "PRIORITY",
            FrameType::RstStream => "RST_STREAM",
            FrameType::Settings => "SETTINGS",
            FrameType::PushPromise => "PUSH_PROMISE",
            FrameType::Ping => "PING",
            FrameType::GoAway => "GOAWAY",
            FrameType::WindowUpdate => "WINDOW_UPDATE",
            FrameType::Continuation => "CONTINUATION",
            FrameType::Unknown(_) => "UNKNOWN",
        }
    }

    /// The section of RFC 9113 that defines the type (`6.1` … `6.10`), `5.5` for unknown types.
    pub fn section(self) -> &'static str {
        match self {
            FrameType::Data => "6.1",
            FrameType::Headers => "6.2",
            FrameType::Priority => "6.3",
            FrameType::RstStream => "6.4",
            FrameType::Settings => "6.5",
            FrameType::PushPromise => "6.6",
            FrameType::Ping => "6.7",
            FrameType::GoAway => "6.8",
            FrameType::WindowUpdate => "6.9",
            FrameType::Continuation => "6.10",
            FrameType::Unknown(_) => "5.5",
        }
    }
}

impl fmt::Display for FrameType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameType::Unknown(v) => write!(f, "UNKNOWN(0x{v:02x})"),
            known => f.write_str(known.name()),
        }
    }
}

/// An HTTP/2 error code (RFC 9113 §7). Unknown codes are kept and printed in hex.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ErrorCode(pub u32);

impl ErrorCode {
    /// NO_ERROR.
    pub const NO_ERROR: ErrorCode = ErrorCode(0x0);
    /// PROTOCOL_ERROR.
    pub const PROTOCOL_ERROR: ErrorCode = ErrorCode(0x1);
    /// INTERNAL_ERROR.
    pub const INTERNAL_ERROR: ErrorCode = ErrorCode(0x2);
    /// FLOW_CONTROL_ERROR.
    pub const FLOW_CONTROL_ERROR: ErrorCode = ErrorCode(0x3);
    /// STREAM_CLOSED.
    pub const STREAM_CLOSED: ErrorCode = ErrorCode(0x5);
    /// FRAME_SIZE_ERROR.
    pub const FRAME_SIZE_ERROR: ErrorCode = ErrorCode(0x6);
    /// CANCEL: the abortive close of a WebSocket (RFC 8441 §5).
    pub const CANCEL: ErrorCode = ErrorCode(0x8);
    /// COMPRESSION_ERROR.
    pub const COMPRESSION_ERROR: ErrorCode = ErrorCode(0x9);
    /// CONNECT_ERROR.
    pub const CONNECT_ERROR: ErrorCode = ErrorCode(0xa);

    /// The RFC's name of the code, `None` for codes outside 0x0–0xd.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x0 => "NO_ERROR",
            0x1 => "PROTOCOL_ERROR",
            0x2 => "INTERNAL_ERROR",
            0x3 => "FLOW_CONTROL_ERROR",
            0x4 => "SETTINGS_TIMEOUT",
            0x5 => "STREAM_CLOSED",
            0x6 => "FRAME_SIZE_ERROR",
            0x7 => "REFUSED_STREAM",
            0x8 => "CANCEL",
            0x9 => "COMPRESSION_ERROR",
            0xa => "CONNECT_ERROR",
            0xb => "ENHANCE_YOUR_CALM",
            0xc => "INADEQUATE_SECURITY",
            0xd => "HTTP_1_1_REQUIRED",
            _ => return None,
        })
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "0x{:x}", self.0),
        }
    }
}

/// The 9-octet frame header (RFC 9113 §4.1), every bit as seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// Payload length (24 bits).
    pub length: u32,
    /// Frame type.
    pub kind: FrameType,
    /// Flags octet.
    pub flags: u8,
    /// The reserved bit R ahead of the stream identifier (ignored on receipt).
    pub reserved: bool,
    /// Stream identifier (31 bits).
    pub stream_id: u32,
}

impl FrameHeader {
    /// Reads a header from the first 9 octets of `bytes`; `None` if fewer are present.
    pub fn parse(bytes: &[u8]) -> Option<FrameHeader> {
        let h = bytes.get(..FRAME_HEADER_LEN)?;
        let length = u32::from_be_bytes([0, h[0], h[1], h[2]]);
        let sid = u32::from_be_bytes([h[5], h[6], h[7], h[8]]);
        Some(FrameHeader {
            length,
            kind: FrameType::from_u8(h[3]),
            flags: h[4],
            reserved: sid & 0x8000_0000 != 0,
            stream_id: sid & 0x7fff_ffff,
        })
    }

    /// The 9 octets of this header. Lengths above 24 bits and stream ids above 31 bits are
    /// truncated to their field.
    pub fn to_bytes(&self) -> [u8; FRAME_HEADER_LEN] {
        let len = (self.length & 0x00ff_ffff).to_be_bytes();
        let mut sid = self.stream_id & 0x7fff_ffff;
        if self.reserved {
            sid |= 0x8000_0000;
        }
        let sid = sid.to_be_bytes();
        [
            len[1],
            len[2],
            len[3],
            self.kind.as_u8(),
            self.flags,
            sid[0],
            sid[1],
            sid[2],
            sid[3],
        ]
    }

    /// Whether every bit of `flag` is set.
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag == flag
    }
}

/// A frame cut out of the byte stream: its header and its (still uninterpreted) payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawFrame<'a> {
    /// The header.
    pub header: FrameHeader,
    /// The `header.length` payload octets.
    pub payload: &'a [u8],
}

impl<'a> RawFrame<'a> {
    /// The typed view of the payload.
    pub fn parse(&self) -> Result<Payload<'a>, FrameError> {
        Payload::parse(&self.header, self.payload)
    }
}

/// What [`decode_frame`] found at the start of a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status<'a> {
    /// A whole frame, occupying the first `consumed` octets of the buffer.
    Complete {
        /// The frame.
        frame: RawFrame<'a>,
        /// Octets the frame takes (9 + payload length).
        consumed: usize,
    },
    /// The buffer ends inside a frame; at least this many more octets are needed.
    NeedMore(usize),
}

/// Cuts one frame off the start of `buf`. A declared length above `max_frame_size` is an error
/// before any payload is waited for or copied (RFC 9113 §4.2): the caller decides whether to
/// skip it (the header says how long it is) or to give up on the connection.
pub fn decode_frame(buf: &[u8], max_frame_size: u32) -> Result<Status<'_>, FrameError> {
    let Some(header) = FrameHeader::parse(buf) else {
        return Ok(Status::NeedMore(FRAME_HEADER_LEN - buf.len()));
    };
    if header.length > max_frame_size {
        return Err(FrameError::TooLarge {
            header,
            max: max_frame_size,
        });
    }
    let total = FRAME_HEADER_LEN + header.length as usize;
    if buf.len() < total {
        return Ok(Status::NeedMore(total - buf.len()));
    }
    Ok(Status::Complete {
        frame: RawFrame {
            header,
            payload: &buf[FRAME_HEADER_LEN..total],
        },
        consumed: total,
    })
}

/// Stream dependency and weight carried by PRIORITY and by HEADERS with the PRIORITY flag
/// (RFC 9113 §5.3.2, §6.3; deprecated but still decoded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrioritySpec {
    /// The E bit.
    pub exclusive: bool,
    /// Stream dependency (31 bits).
    pub dependency: u32,
    /// Weight octet (the weight minus one).
    pub weight: u8,
}

impl PrioritySpec {
    fn parse(b: &[u8]) -> PrioritySpec {
        let dep = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        PrioritySpec {
            exclusive: dep & 0x8000_0000 != 0,
            dependency: dep & 0x7fff_ffff,
            weight: b[4],
        }
    }

    pub(super) fn write(&self, out: &mut Vec<u8>) {
        let mut dep = self.dependency & 0x7fff_ffff;
        if self.exclusive {
            dep |= 0x8000_0000;
        }
        out.extend_from_slice(&dep.to_be_bytes());
        out.push(self.weight);
    }
}

/// The typed view of a frame's payload (RFC 9113 §6). Slices borrow from the payload; padding
/// is described by its length (the pad octets themselves are not kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload<'a> {
    /// DATA (§6.1).
    Data {
        /// Application data.
        data: &'a [u8],
        /// Pad Length field when PADDED is set.
        pad_len: Option<u8>,
    },
    /// HEADERS (§6.2).
    Headers {
        /// Priority fields when the PRIORITY flag is set.
        priority: Option<PrioritySpec>,
        /// The field block fragment.
        block: &'a [u8],
        /// Pad Length field when PADDED is set.
        pad_len: Option<u8>,
    },
    /// PRIORITY (§6.3).
    Priority(PrioritySpec),
    /// RST_STREAM (§6.4).
    RstStream(ErrorCode),
    /// SETTINGS (§6.5): the parameters in order (an ACK has none).
    Settings(Vec<(u16, u32)>),
    /// PUSH_PROMISE (§6.6).
    PushPromise {
        /// The R bit before the promised stream id.
        reserved: bool,
        /// Promised stream id.
        promised: u32,
        /// The field block fragment.
        block: &'a [u8],
        /// Pad Length field when PADDED is set.
        pad_len: Option<u8>,
    },
    /// PING (§6.7).
    Ping([u8; 8]),
    /// GOAWAY (§6.8).
    GoAway {
        /// The R bit before the last stream id.
        reserved: bool,
        /// Last stream id.
        last_stream_id: u32,
        /// Error code.
        code: ErrorCode,
        /// Additional debug data.
        debug: &'a [u8],
    },
    /// WINDOW_UPDATE (§6.9).
    WindowUpdate {
        /// The R bit before the increment.
        reserved: bool,
        /// Window size increment (31 bits).
        increment: u32,
    },
    /// CONTINUATION (§6.10).
    Continuation(&'a [u8]),
    /// A frame of unknown type, payload kept raw (§5.5).
    Unknown(&'a [u8]),
}

/// A frame whose payload cannot be interpreted, or that breaks a rule of RFC 9113 checked on
/// the frame alone. Each names the section it comes from ([`FrameError::section`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Declared length above the maximum frame size in force.
    #[error("{} frame of {} octets exceeds the maximum frame size {max}", .header.kind, .header.length)]
    TooLarge {
        /// The header as read.
        header: FrameHeader,
        /// The maximum in force.
        max: u32,
    },
    /// PADDED set on a frame too short to hold the Pad Length (and priority) fields.
    #[error(
        "{kind} frame with PADDED flag is too short ({length} octets) for its Pad Length field"
    )]
    PaddedTooShort {
        /// Frame type.
        kind: FrameType,
        /// Payload length.
        length: u32,
    },
    /// Padding at least as long as what is left of the payload.
    #[error(
        "{kind} frame's pad length {pad_len} is not less than the remaining payload ({available} octets)"
    )]
    PadTooLong {
        /// Frame type.
        kind: FrameType,
        /// Pad Length field.
        pad_len: u8,
        /// Octets left for the padding.
        available: usize,
    },
    /// A fixed-length frame with the wrong length (PRIORITY 5, RST_STREAM 4, PING 8,
    /// WINDOW_UPDATE 4, GOAWAY at least 8, HEADERS with PRIORITY at least 5).
    #[error("{kind} frame has length {length}, expected {expected}")]
    BadLength {
        /// Frame type.
        kind: FrameType,
        /// Payload length.
        length: u32,
        /// What the section asks for.
        expected: &'static str,
    },
    /// A SETTINGS payload that is not a multiple of 6 octets.
    #[error("SETTINGS payload of {length} octets is not a multiple of 6")]
    SettingsLength {
        /// Payload length.
        length: u32,
    },
    /// A SETTINGS frame with ACK and a payload.
    #[error("SETTINGS ACK with a payload of {length} octets")]
    SettingsAckPayload {
        /// Payload length.
        length: u32,
    },
    /// A frame type that belongs to a stream sent on stream 0.
    #[error("{kind} frame on stream 0")]
    StreamZero {
        /// Frame type.
        kind: FrameType,
    },
    /// A connection-level frame type sent on a stream.
    #[error("{kind} frame on stream {stream_id}; it belongs on stream 0")]
    StreamNonZero {
        /// Frame type.
        kind: FrameType,
        /// Stream id seen.
        stream_id: u32,
    },
}

impl FrameError {
    /// The section of RFC 9113 the rule comes from, as `RFC 9113 §6.5`.
    pub fn section(&self) -> String {
        let sec = match self {
            FrameError::TooLarge { .. } => "4.2",
            FrameError::PaddedTooShort { kind, .. }
            | FrameError::PadTooLong { kind, .. }
            | FrameError::BadLength { kind, .. }
            | FrameError::StreamZero { kind }
            | FrameError::StreamNonZero { kind, .. } => kind.section(),
            FrameError::SettingsLength { .. } | FrameError::SettingsAckPayload { .. } => "6.5",
        };
        format!("RFC 9113 §{sec}")
    }

    /// The error code RFC 9113 gives a receiver for it.
    pub fn code(&self) -> ErrorCode {
        match self {
            FrameError::TooLarge { .. }
            | FrameError::BadLength { .. }
            | FrameError::SettingsLength { .. }
            | FrameError::SettingsAckPayload { .. } => ErrorCode::FRAME_SIZE_ERROR,
            _ => ErrorCode::PROTOCOL_ERROR,
        }
    }
}

/// Pad length, the fixed fields after it, and the content between them and the padding.
type Unpadded<'a> = (Option<u8>, &'a [u8], &'a [u8]);

/// Splits off the Pad Length field (and `fixed` more octets) of a padded frame; returns the
/// pad length, the fixed octets and the content between them and the padding.
fn unpad<'a>(h: &FrameHeader, payload: &'a [u8], fixed: usize) -> Result<Unpadded<'a>, FrameError> {
    if !h.has(FLAG_PADDED) {
        if payload.len() < fixed {
            return Err(FrameError::BadLength {
                kind: h.kind,
                length: h.length,
                expected: "at least 5 with the PRIORITY flag",
            });
        }
        let (head, rest) = payload.split_at(fixed);
        return Ok((None, head, rest));
    }
    if payload.len() < 1 + fixed {
        return Err(FrameError::PaddedTooShort {
            kind: h.kind,
            length: h.length,
        });
    }
    let pad = payload[0];
    let (head, rest) = payload[1..].split_at(fixed);
    if pad as usize > rest.len() {
        return Err(FrameError::PadTooLong {
            kind: h.kind,
            pad_len: pad,
            available: rest.len(),
        });
    }
    Ok((Some(pad), head, &rest[..rest.len() - pad as usize]))
}

fn exact(
    h: &FrameHeader,
    payload: &[u8],
    n: usize,
    expected: &'static str,
) -> Result<(), FrameError> {
    if payload.len() == n {
        Ok(())
    } else {
        Err(FrameError::BadLength {
            kind: h.kind,
            length: h.length,
            expected,
        })
    }
}

impl<'a> Payload<'a> {
    /// Interprets `payload` as a frame of `header`'s type. `payload` must be the frame's whole
    /// payload (its length is what is checked, not `header.length`).
    pub fn parse(header: &FrameHeader, payload: &'a [u8]) -> Result<Payload<'a>, FrameError> {
        let h = header;
        Ok(match h.kind {
            FrameType::Data => {
                let (pad_len, _, data) = unpad(h, payload, 0)?;
                Payload::Data { data, pad_len }
            }
            FrameType::Headers => {
                let fixed = if h.has(FLAG_PRIORITY) { 5 } else { 0 };
                let (pad_len, prio, block) = unpad(h, payload, fixed)?;
                Payload::Headers {
                    priority: (fixed == 5).then(|| PrioritySpec::parse(prio)),
                    block,
                    pad_len,
                }
            }
            FrameType::Priority => {
                exact(h, payload, 5, "5")?;
                Payload::Priority(PrioritySpec::parse(payload))
            }
            FrameType::RstStream => {
                exact(h, payload, 4, "4")?;
                Payload::RstStream(ErrorCode(u32::from_be_bytes([
                    payload[0], payload[1], payload[2], payload[3],
                ])))
            }
            FrameType::Settings => {
                if h.has(FLAG_ACK) && !payload.is_empty() {
                    return Err(FrameError::SettingsAckPayload { length: h.length });
                }
                if !payload.len().is_multiple_of(6) {
                    return Err(FrameError::SettingsLength { length: h.length });
                }
                Payload::Settings(
                    payload
                        .chunks_exact(6)
                        .map(|c| {
                            (
                                u16::from_be_bytes([c[0], c[1]]),
                                u32::from_be_bytes([c[2], c[3], c[4], c[5]]),
                            )
                        })
                        .collect(),
                )
            }
            FrameType::PushPromise => {
                let (pad_len, id, block) = unpad(h, payload, 4).map_err(|e| match e {
                    FrameError::BadLength { kind, length, .. } => FrameError::BadLength {
                        kind,
                        length,
                        expected: "at least 4",
                    },
                    other => other,
                })?;
                let id = u32::from_be_bytes([id[0], id[1], id[2], id[3]]);
                Payload::PushPromise {
                    reserved: id & 0x8000_0000 != 0,
                    promised: id & 0x7fff_ffff,
                    block,
                    pad_len,
                }
            }
            FrameType::Ping => {
                exact(h, payload, 8, "8")?;
                let mut data = [0u8; 8];
                data.copy_from_slice(payload);
                Payload::Ping(data)
            }
            FrameType::GoAway => {
                if payload.len() < 8 {
                    return Err(FrameError::BadLength {
                        kind: h.kind,
                        length: h.length,
                        expected: "at least 8",
                    });
                }
                let last = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]);
                Payload::GoAway {
                    reserved: last & 0x8000_0000 != 0,
                    last_stream_id: last & 0x7fff_ffff,
                    code: ErrorCode(u32::from_be_bytes([
                        payload[4], payload[5], payload[6], payload[7],
                    ])),
                    debug: &payload[8..],
                }
            }
            FrameType::WindowUpdate => {
                exact(h, payload, 4, "4")?;
                let v = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]);
                Payload::WindowUpdate {
                    reserved: v & 0x8000_0000 != 0,
                    increment: v & 0x7fff_ffff,
                }
            }
            FrameType::Continuation => Payload::Continuation(payload),
            FrameType::Unknown(_) => Payload::Unknown(payload),
        })
    }

    /// The frame type of this payload (`Unknown(0xff)` for an unknown payload whose type is not
    /// recorded here; [`super::encode::encode`] takes the type from its arguments for those).
    pub fn kind(&self) -> FrameType {
        match self {
            Payload::Data { .. } => FrameType::Data,
            Payload::Headers { .. } => FrameType::Headers,
            Payload::Priority(_) => FrameType::Priority,
            Payload::RstStream(_) => FrameType::RstStream,
            Payload::Settings(_) => FrameType::Settings,
            Payload::PushPromise { .. } => FrameType::PushPromise,
            Payload::Ping(_) => FrameType::Ping,
            Payload::GoAway { .. } => FrameType::GoAway,
            Payload::WindowUpdate { .. } => FrameType::WindowUpdate,
            Payload::Continuation(_) => FrameType::Continuation,
            Payload::Unknown(_) => FrameType::Unknown(0xff),
        }
    }
}

/// The stream-identifier rule of the frame's type, checked on the header alone: DATA, HEADERS,
/// PRIORITY, RST_STREAM, PUSH_PROMISE and CONTINUATION belong to a stream (never 0), SETTINGS,
/// PING and GOAWAY to the connection (always 0). WINDOW_UPDATE and unknown types may use
/// either.
pub fn stream_id_error(header: &FrameHeader) -> Option<FrameError> {
    let kind = header.kind;
    match kind {
        FrameType::Data
        | FrameType::Headers
        | FrameType::Priority
        | FrameType::RstStream
        | FrameType::PushPromise
        | FrameType::Continuation
            if header.stream_id == 0 =>
        {
            Some(FrameError::StreamZero { kind })
        }
        FrameType::Settings | FrameType::Ping | FrameType::GoAway if header.stream_id != 0 => {
            Some(FrameError::StreamNonZero {
                kind,
                stream_id: header.stream_id,
            })
        }
        _ => None,
    }
}
