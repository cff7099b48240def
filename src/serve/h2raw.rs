//! The HTTP/2 faults that live below the `h2` crate: it validates every request before the
//! application sees it (RFC 9113 §8.1.1, §8.2, §8.3; RFC 8441 §4) and accepts every valid
//! frame sequence, so a server that accepts a malformed extended CONNECT, or rejects a field
//! block split over CONTINUATION or an unknown setting, cannot be built on it. This server is
//! written on [`crate::net::h2raw`] instead: it answers the preface with SETTINGS
//! (SETTINGS_ENABLE_CONNECT_PROTOCOL = 1), acknowledges SETTINGS and PINGs, validates each
//! request as [`validate`] says and answers 200 or resets the stream with PROTOCOL_ERROR.
//! Each fault changes one decision of that validation. It carries no WebSocket data: the
//! cases these faults are for judge only the answer to the request.

use tokio::time::Instant;

use super::{Fault, HANDSHAKE_TIMEOUT};
use crate::net::Stream;
use crate::net::h2raw::RawConn;
use crate::wire::h2::encode as frames;
use crate::wire::h2::frame::{FLAG_END_HEADERS, SETTINGS_ENABLE_CONNECT_PROTOCOL};
use crate::wire::h2::{ErrorCode, Field, FrameType, Payload};

/// Whether `fault` is served here rather than on `h2`.
pub(super) fn serves(fault: Fault) -> bool {
    matches!(
        fault,
        Fault::H2AcceptMissingPath
            | Fault::H2AcceptMissingScheme
            | Fault::H2AcceptProtocolOnGet
            | Fault::H2AcceptUppercase
            | Fault::H2AcceptConnectionHeader
            | Fault::H2LenientPseudo
            | Fault::H2RejectContinuation
            | Fault::H2RejectUnknownSetting
            | Fault::H2AcceptUnadvertised
    )
}

/// SETTINGS identifiers RFC 9113 §6.5.2 and RFC 8441 §3 define (and 0x9, RFC 9218).
const KNOWN_SETTINGS: [u16; 8] = [0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x8, 0x9];

/// Serves one connection until the client goes away or is idle for [`HANDSHAKE_TIMEOUT`].
pub(super) async fn serve(stream: Stream, fault: Fault) {
    stream.set_nodelay();
    let mut conn = RawConn::new(stream);
    let deadline = || Instant::now() + HANDSHAKE_TIMEOUT;
    if !matches!(conn.read_preface(deadline()).await, Ok(true)) {
        return;
    }
    let mut out = Vec::new();
    if fault == Fault::H2AcceptUnadvertised {
        frames::settings(&mut out, &[]);
    } else {
        frames::settings(&mut out, &[(SETTINGS_ENABLE_CONNECT_PROTOCOL, 1)]);
    }
    if conn.write(&out).await.is_err() {
        return;
    }
    while let Ok(Some(frame)) = conn.next_frame(deadline()).await {
        match frame.parse() {
            Some(Payload::Settings(params))
                if fault == Fault::H2RejectUnknownSetting
                    && params.iter().any(|(id, _)| !KNOWN_SETTINGS.contains(id)) =>
            {
                let mut out = Vec::new();
                frames::goaway(&mut out, 0, ErrorCode::PROTOCOL_ERROR, b"unknown setting");
                let _ = conn.write(&out).await;
                return;
            }
            Some(Payload::GoAway { .. }) => return,
            Some(Payload::Headers { .. }) => {
                let id = frame.header.stream_id;
                let Ok((block, _)) = conn.field_block(&frame, deadline()).await else {
                    return;
                };
                let split = !frame.header.has(FLAG_END_HEADERS);
                let Ok(fields) = conn.hpack.decode(&block) else {
                    let mut out = Vec::new();
                    frames::goaway(&mut out, id, ErrorCode::COMPRESSION_ERROR, b"");
                    let _ = conn.write(&out).await;
                    return;
                };
                let mut out = Vec::new();
                if split && fault == Fault::H2RejectContinuation {
                    frames::rst_stream(&mut out, id, ErrorCode::PROTOCOL_ERROR);
                } else {
                    match validate(&fields, fault) {
                        Ok(()) => {
                            let block =
                                crate::wire::h2::hpack::encode_literals(&[(":status", "200")]);
                            frames::headers(&mut out, id, &block, false);
                        }
                        Err(status) if status > 0 => {
                            let block = crate::wire::h2::hpack::encode_literals(&[(
                                ":status",
                                status.to_string(),
                            )]);
                            frames::headers(&mut out, id, &block, true);
                        }
                        Err(_) => frames::rst_stream(&mut out, id, ErrorCode::PROTOCOL_ERROR),
                    }
                }
                if conn.write(&out).await.is_err() {
                    return;
                }
            }
            _ if frame.is(FrameType::Data) => {}
            _ => {
                if conn.answer_control(&frame).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Judges an extended CONNECT: `Ok` to accept it, `Err(0)` for a malformed request (a stream
/// error, RFC 9113 §8.1.1), `Err(status)` for a well-formed one refused with that status.
fn validate(fields: &[Field], fault: Fault) -> Result<(), u16> {
    let mut seen_regular = false;
    let mut pseudo: Vec<(&[u8], &[u8])> = Vec::new();
    let mut version = None;
    for f in fields {
        let name = f.name.as_slice();
        if name.starts_with(b":") {
            let repeated = pseudo.iter().any(|(n, _)| *n == name);
            if (seen_regular || repeated) && fault != Fault::H2LenientPseudo {
                return Err(0);
            }
            if !matches!(
                name,
                b":method" | b":scheme" | b":authority" | b":path" | b":protocol"
            ) {
                return Err(0);
            }
            pseudo.push((name, f.value.as_slice()));
            continue;
        }
        seen_regular = true;
        if name.iter().any(u8::is_ascii_uppercase) && fault != Fault::H2AcceptUppercase {
            return Err(0);
        }
        let lower = name.to_ascii_lowercase();
        let connection_specific = matches!(
            lower.as_slice(),
            b"connection" | b"upgrade" | b"keep-alive" | b"proxy-connection" | b"transfer-encoding"
        ) || (lower == b"te" && f.value != b"trailers");
        if connection_specific && fault != Fault::H2AcceptConnectionHeader {
            return Err(0);
        }
        if lower == b"sec-websocket-version" {
            version = Some(f.value.clone());
        }
    }
    let get = |n: &[u8]| pseudo.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
    let method = get(b":method");
    let protocol = get(b":protocol");
    if protocol.is_some() && method != Some(b"CONNECT") && fault != Fault::H2AcceptProtocolOnGet {
        return Err(0);
    }
    if protocol.is_some() {
        if get(b":scheme").is_none() && fault != Fault::H2AcceptMissingScheme {
            return Err(0);
        }
        if get(b":path").is_none() && fault != Fault::H2AcceptMissingPath {
            return Err(0);
        }
    }
    if get(b":authority").is_none() {
        return Err(0);
    }
    match protocol {
        Some(b"websocket") => {}
        Some(_) => return Err(501),
        None => return Err(404),
    }
    if version.as_deref() != Some(b"13") {
        return Err(400);
    }
    Ok(())
}
