//! Hand-written HTTP/2 on a [`Stream`], for the requests and answers the `h2` crate refuses to
//! produce: field blocks with a missing or repeated pseudo-header, uppercase or
//! connection-specific fields, pseudo-headers after regular ones (RFC 9113 §8.2, §8.3), a
//! field block split over CONTINUATION frames (§6.10), SETTINGS with unknown identifiers
//! (§6.5.2). Frames are built and parsed by `wire::h2`; this module only moves them, every
//! read bounded by a deadline. It serves `run --http2`'s `connect: { http2: { fields } }` and
//! the reference server's HTTP/2 request-validation faults.

use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{Instant, timeout_at};

use super::Stream;
use crate::wire::h2::encode as frames;
use crate::wire::h2::frame::{FLAG_ACK, FLAG_END_HEADERS, FLAG_END_STREAM, MAX_FRAME_SIZE_LIMIT};
use crate::wire::h2::{
    FrameHeader, FrameOpts, FrameType, HpackDecoder, Payload, Status, decode_frame, encode,
};

/// A frame read off the connection.
#[derive(Clone, Debug)]
pub struct OwnedFrame {
    /// Its header.
    pub header: FrameHeader,
    /// Its payload.
    pub payload: Vec<u8>,
}

impl OwnedFrame {
    /// The typed payload, `None` when it is malformed.
    pub fn parse(&self) -> Option<Payload<'_>> {
        Payload::parse(&self.header, &self.payload).ok()
    }

    /// Whether this is a frame of `kind`.
    pub fn is(&self, kind: FrameType) -> bool {
        self.header.kind == kind
    }
}

/// One HTTP/2 connection spoken frame by frame.
#[derive(Debug)]
pub struct RawConn {
    stream: Stream,
    buf: Vec<u8>,
    /// The peer's field blocks, decoded in order (one HPACK context per direction).
    pub hpack: HpackDecoder,
}

impl RawConn {
    /// Wraps a connection (its preface not yet sent or read).
    pub fn new(stream: Stream) -> RawConn {
        RawConn {
            stream,
            buf: Vec::new(),
            hpack: HpackDecoder::new(crate::wire::h2::hpack::DEFAULT_TABLE_SIZE),
        }
    }

    /// Writes `bytes` and flushes.
    pub async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await?;
        self.stream.flush().await
    }

    /// Reads until `n` bytes are buffered; `false` on end of stream or deadline.
    async fn fill(&mut self, n: usize, deadline: Instant) -> Result<bool, String> {
        let mut chunk = [0u8; 16 * 1024];
        while self.buf.len() < n {
            match timeout_at(deadline, self.stream.read(&mut chunk)).await {
                Err(_) => return Err("nothing more within the timeout".into()),
                Ok(Ok(0)) => return Ok(false),
                Ok(Ok(k)) => self.buf.extend_from_slice(&chunk[..k]),
                Ok(Err(e)) => return Err(format!("reading failed: {e}")),
            }
        }
        Ok(true)
    }

    /// Reads the client preface (server side): `false` if the bytes are something else.
    pub async fn read_preface(&mut self, deadline: Instant) -> Result<bool, String> {
        let preface = crate::wire::h2::PREFACE;
        if !self.fill(preface.len(), deadline).await? {
            return Ok(false);
        }
        let ok = self.buf[..preface.len()] == preface[..];
        self.buf.drain(..preface.len());
        Ok(ok)
    }

    /// The next frame; `None` when the peer closed the connection.
    pub async fn next_frame(&mut self, deadline: Instant) -> Result<Option<OwnedFrame>, String> {
        loop {
            match decode_frame(&self.buf, MAX_FRAME_SIZE_LIMIT) {
                Ok(Status::Complete { frame, consumed }) => {
                    let owned = OwnedFrame {
                        header: frame.header,
                        payload: frame.payload.to_vec(),
                    };
                    self.buf.drain(..consumed);
                    return Ok(Some(owned));
                }
                Ok(Status::NeedMore(n)) => {
                    let want = self.buf.len() + n;
                    if !self.fill(want, deadline).await? {
                        return Ok(None);
                    }
                }
                Err(e) => return Err(format!("malformed frame: {e}")),
            }
        }
    }

    /// The field block a HEADERS frame starts, with its CONTINUATION frames (§6.10), and the
    /// HEADERS frame's END_STREAM flag.
    pub async fn field_block(
        &mut self,
        first: &OwnedFrame,
        deadline: Instant,
    ) -> Result<(Vec<u8>, bool), String> {
        let Some(Payload::Headers { block, .. }) = first.parse() else {
            return Err("malformed HEADERS frame".into());
        };
        let mut block = block.to_vec();
        let end_stream = first.header.has(FLAG_END_STREAM);
        let mut done = first.header.has(FLAG_END_HEADERS);
        while !done {
            let Some(next) = self.next_frame(deadline).await? else {
                return Err("the connection closed inside a field block".into());
            };
            if !next.is(FrameType::Continuation) || next.header.stream_id != first.header.stream_id
            {
                return Err(
                    "a field block was interrupted by another frame (RFC 9113 §6.10)".into(),
                );
            }
            block.extend_from_slice(&next.payload);
            done = next.header.has(FLAG_END_HEADERS);
        }
        Ok((block, end_stream))
    }

    /// Answers what every endpoint answers at once: a SETTINGS frame with its ACK, a PING
    /// with its ACK (§6.5.3, §6.7). Returns whether `frame` was one of those.
    pub async fn answer_control(&mut self, frame: &OwnedFrame) -> io::Result<bool> {
        let mut out = Vec::new();
        match frame.parse() {
            Some(Payload::Settings(_)) if !frame.header.has(FLAG_ACK) => {
                frames::settings_ack(&mut out)
            }
            Some(Payload::Ping(data)) if !frame.header.has(FLAG_ACK) => {
                frames::ping(&mut out, data, true)
            }
            _ => return Ok(false),
        }
        self.write(&out).await?;
        Ok(true)
    }

    /// The connection, for the caller to close.
    pub fn into_stream(self) -> Stream {
        self.stream
    }
}

/// A field block as HEADERS plus `split - 1` CONTINUATION frames on `stream_id` (one HEADERS
/// frame when `split` is 0 or 1), without END_STREAM.
pub fn headers_split(stream_id: u32, block: &[u8], split: usize) -> Vec<u8> {
    let parts = split.max(1).min(block.len().max(1));
    let size = block.len().div_ceil(parts).max(1);
    let chunks: Vec<&[u8]> = if block.is_empty() {
        vec![block]
    } else {
        block.chunks(size).collect()
    };
    let mut out = Vec::new();
    let last = chunks.len() - 1;
    for (i, chunk) in chunks.iter().enumerate() {
        let flags = if i == last { FLAG_END_HEADERS } else { 0 };
        let payload = if i == 0 {
            Payload::Headers {
                priority: None,
                block: chunk,
                pad_len: None,
            }
        } else {
            Payload::Continuation(chunk)
        };
        encode(&mut out, &payload, FrameOpts::new(stream_id, flags), 0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_split_field_block_is_headers_then_continuations_ending_with_end_headers() {
        let block: Vec<u8> = (0u8..30).collect();
        let bytes = headers_split(1, &block, 3);
        let mut rest = &bytes[..];
        let mut kinds = Vec::new();
        let mut joined = Vec::new();
        while let Ok(Status::Complete { frame, consumed }) = decode_frame(rest, 16_384) {
            kinds.push((frame.header.kind, frame.header.has(FLAG_END_HEADERS)));
            match frame.parse() {
                Ok(Payload::Headers { block, .. }) | Ok(Payload::Continuation(block)) => {
                    joined.extend_from_slice(block)
                }
                other => panic!("{other:?}"),
            }
            rest = &rest[consumed..];
        }
        assert_eq!(
            kinds,
            [
                (FrameType::Headers, false),
                (FrameType::Continuation, false),
                (FrameType::Continuation, true)
            ]
        );
        assert_eq!(joined, block);
    }
}
