//! Sans-IO HTTP/2 (RFC 9113) framing and HPACK (RFC 7541), for WebSockets over HTTP/2
//! (RFC 8441).
//!
//! [`frame`] cuts a byte stream into frames (complete / need-more / error, lengths bounded
//! before allocating), gives typed views of the ten frame types and encodes any of them with
//! any flags, padding and stream id. [`hpack`] decodes field blocks with a per-direction
//! context (static and dynamic tables, Huffman coding) and encodes them either as raw literals
//! (any bytes, for hand-written requests) or with indexing and Huffman coding. Like the rest of
//! `wire` this module uses only std (and `thiserror`): no sockets, no clock.
//!
//! Sections implemented: RFC 9113 §3.4 (preface constant), §4.1–§4.2, §6 (frame layouts),
//! §7 (error code names); RFC 7541 §2–§6 and Appendices A and B; RFC 8441 §3 (setting name).

pub mod encode;
pub mod frame;
#[cfg(test)]
mod frame_tests;
pub mod hpack;
pub mod huffman;

pub use encode::{FrameOpts, encode, encode_raw};
pub use frame::{
    ErrorCode, FrameError, FrameHeader, FrameType, PREFACE, Payload, RawFrame, Status,
    decode_frame, setting_name, stream_id_error,
};
pub use hpack::{Decoder as HpackDecoder, Encoder as HpackEncoder, Field, HpackError};
