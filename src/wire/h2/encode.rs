//! The HTTP/2 frame encoder (RFC 9113 §4.1, §6): any type, any flags, padding, reserved bits and
//! stream ids, so hand-written requests and faulty servers can send frames a stack would refuse.

use super::frame::{
    ErrorCode, FLAG_ACK, FLAG_END_HEADERS, FLAG_END_STREAM, FLAG_PADDED, FLAG_PRIORITY,
    FrameHeader, FrameType, Payload,
};

/// How [`encode`] writes a frame: the stream, flags and reserved bit are written exactly as
/// given, except that PADDED, PRIORITY and (for an empty SETTINGS or a PING) nothing else is
/// added implicitly: PADDED is or-ed in when `padding` is set, PRIORITY when a HEADERS payload
/// has a priority. Use [`encode_raw`] for frames whose flags contradict their payload.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameOpts {
    /// Stream identifier.
    pub stream_id: u32,
    /// Flags (END_STREAM, END_HEADERS, ACK…).
    pub flags: u8,
    /// The reserved bit of the header.
    pub reserved: bool,
    /// Padding octets (zeros) after the content, for DATA, HEADERS and PUSH_PROMISE.
    pub padding: Option<u8>,
}

impl FrameOpts {
    /// Options for a frame on `stream_id` with `flags`.
    pub fn new(stream_id: u32, flags: u8) -> FrameOpts {
        FrameOpts {
            stream_id,
            flags,
            ..FrameOpts::default()
        }
    }
}

/// Appends a frame with header fields taken verbatim and `payload` as its payload.
pub fn encode_raw(out: &mut Vec<u8>, kind: u8, flags: u8, stream_id: u32, payload: &[u8]) {
    let header = FrameHeader {
        length: payload.len() as u32,
        kind: FrameType::from_u8(kind),
        flags,
        reserved: stream_id & 0x8000_0000 != 0,
        stream_id: stream_id & 0x7fff_ffff,
    };
    out.extend_from_slice(&header.to_bytes());
    out.extend_from_slice(payload);
}

/// Appends the frame for `payload` with `opts`. For `Payload::Unknown` the type octet is
/// `unknown_type`; for other payloads that argument is ignored. Padding is only written for
/// DATA, HEADERS and PUSH_PROMISE. The length field is the octets written, truncated to 24
/// bits (a payload over 16,777,215 octets is the caller's mistake).
pub fn encode(out: &mut Vec<u8>, payload: &Payload<'_>, opts: FrameOpts, unknown_type: u8) {
    let mut body = Vec::new();
    let mut flags = opts.flags;
    let pad = match payload {
        Payload::Data { .. } | Payload::Headers { .. } | Payload::PushPromise { .. } => {
            opts.padding
        }
        _ => None,
    };
    if let Some(p) = pad {
        flags |= FLAG_PADDED;
        body.push(p);
    }
    let kind = match payload {
        Payload::Unknown(_) => unknown_type,
        other => other.kind().as_u8(),
    };
    match payload {
        Payload::Data { data, .. } => body.extend_from_slice(data),
        Payload::Headers {
            priority, block, ..
        } => {
            if let Some(p) = priority {
                flags |= FLAG_PRIORITY;
                p.write(&mut body);
            }
            body.extend_from_slice(block);
        }
        Payload::Priority(p) => p.write(&mut body),
        Payload::RstStream(code) => body.extend_from_slice(&code.0.to_be_bytes()),
        Payload::Settings(params) => {
            for (id, v) in params {
                body.extend_from_slice(&id.to_be_bytes());
                body.extend_from_slice(&v.to_be_bytes());
            }
        }
        Payload::PushPromise {
            reserved,
            promised,
            block,
            ..
        } => {
            let mut id = promised & 0x7fff_ffff;
            if *reserved {
                id |= 0x8000_0000;
            }
            body.extend_from_slice(&id.to_be_bytes());
            body.extend_from_slice(block);
        }
        Payload::Ping(data) => body.extend_from_slice(data),
        Payload::GoAway {
            reserved,
            last_stream_id,
            code,
            debug,
        } => {
            let mut id = last_stream_id & 0x7fff_ffff;
            if *reserved {
                id |= 0x8000_0000;
            }
            body.extend_from_slice(&id.to_be_bytes());
            body.extend_from_slice(&code.0.to_be_bytes());
            body.extend_from_slice(debug);
        }
        Payload::WindowUpdate {
            reserved,
            increment,
        } => {
            let mut v = increment & 0x7fff_ffff;
            if *reserved {
                v |= 0x8000_0000;
            }
            body.extend_from_slice(&v.to_be_bytes());
        }
        Payload::Continuation(block) | Payload::Unknown(block) => body.extend_from_slice(block),
    }
    if let Some(p) = pad {
        body.resize(body.len() + p as usize, 0);
    }
    let header = FrameHeader {
        length: body.len() as u32,
        kind: FrameType::from_u8(kind),
        flags,
        reserved: opts.reserved,
        stream_id: opts.stream_id,
    };
    out.extend_from_slice(&header.to_bytes());
    out.extend_from_slice(&body);
}

/// A SETTINGS frame (stream 0) with these parameters, in this order.
pub fn settings(out: &mut Vec<u8>, params: &[(u16, u32)]) {
    encode(
        out,
        &Payload::Settings(params.to_vec()),
        FrameOpts::default(),
        0,
    );
}

/// An empty SETTINGS frame with ACK.
pub fn settings_ack(out: &mut Vec<u8>) {
    encode(
        out,
        &Payload::Settings(Vec::new()),
        FrameOpts::new(0, FLAG_ACK),
        0,
    );
}

/// A DATA frame.
pub fn data(out: &mut Vec<u8>, stream_id: u32, data: &[u8], end_stream: bool) {
    let flags = if end_stream { FLAG_END_STREAM } else { 0 };
    encode(
        out,
        &Payload::Data {
            data,
            pad_len: None,
        },
        FrameOpts::new(stream_id, flags),
        0,
    );
}

/// HEADERS with END_HEADERS (plus END_STREAM if asked) carrying a whole field block.
pub fn headers(out: &mut Vec<u8>, stream_id: u32, block: &[u8], end_stream: bool) {
    let flags = FLAG_END_HEADERS | if end_stream { FLAG_END_STREAM } else { 0 };
    encode(
        out,
        &Payload::Headers {
            priority: None,
            block,
            pad_len: None,
        },
        FrameOpts::new(stream_id, flags),
        0,
    );
}

/// RST_STREAM with `code`.
pub fn rst_stream(out: &mut Vec<u8>, stream_id: u32, code: ErrorCode) {
    encode(
        out,
        &Payload::RstStream(code),
        FrameOpts::new(stream_id, 0),
        0,
    );
}

/// WINDOW_UPDATE of `increment` on `stream_id` (0 for the connection).
pub fn window_update(out: &mut Vec<u8>, stream_id: u32, increment: u32) {
    encode(
        out,
        &Payload::WindowUpdate {
            reserved: false,
            increment,
        },
        FrameOpts::new(stream_id, 0),
        0,
    );
}

/// PING, with ACK if `ack`.
pub fn ping(out: &mut Vec<u8>, data: [u8; 8], ack: bool) {
    let flags = if ack { FLAG_ACK } else { 0 };
    encode(out, &Payload::Ping(data), FrameOpts::new(0, flags), 0);
}

/// GOAWAY.
pub fn goaway(out: &mut Vec<u8>, last_stream_id: u32, code: ErrorCode, debug: &[u8]) {
    encode(
        out,
        &Payload::GoAway {
            reserved: false,
            last_stream_id,
            code,
            debug,
        },
        FrameOpts::default(),
        0,
    );
}
