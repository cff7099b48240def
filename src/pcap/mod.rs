//! Capture inspection: pcap/pcapng reading, link/IP/TCP parsing, TCP reassembly, HTTP and
//! WebSocket dissection with the same `wire` decoder the runner uses, and byte accounting.
//! It may use `wire`, `trace`, pcap-parser, etherparse, flate2, httparse and ring (for [`tls`]:
//! decrypting captured TLS with a key log); it never prints:
//! everything it finds is an [`Event`] handed to a [`Sink`], and the totals are a
//! [`CaptureSummary`].
//!
//! The pipeline, one packet at a time, lowest layer first: [`reader`] (pcap-parser, streaming)
//! → [`layers`] (link shim, etherparse for IP and TCP) → [`reassembly`] (per connection and
//! direction) → [`tls`] (when the connection starts with a TLS handshake: records, hellos and,
//! with a key log, decryption) → `dissect` (HTTP heads and bodies, the opening handshake of RFC 6455 §4; a connection that
//! starts with the HTTP/2 preface goes to `h2` instead: frames, HPACK, extended CONNECT of
//! RFC 8441, one WebSocket decoder per stream) →
//! `websocket` (frames of RFC 6455 §5 through [`crate::wire::FrameDecoder`], judged by
//! [`crate::wire::rules`], messages, permessage-deflate of RFC 7692) → [`ledger`]. Memory is
//! bounded by the open connections (their reassembly and frame buffers), not by the file.

mod analyzer;
mod deflate;
mod dissect;
pub mod events;
mod h2;
#[cfg(test)]
mod h2_tests;
mod http;
pub mod layers;
pub mod ledger;
pub mod reader;
pub mod reassembly;
pub mod tls;
pub mod traces;
mod walker;
mod websocket;

use std::path::Path;

pub use analyzer::{CaptureSummary, ConnSummary, analyze, analyze_with_keys};
pub use tls::keylog::{KeyLog, KeyLogError};

/// Limits of the connection table.
pub mod analyzer_limits {
    pub use super::analyzer::MAX_LISTED_CONNECTIONS;
}
pub use dissect::ConnKind;
pub use events::{Discard, Event, Sink};
pub use ledger::Ledger;
pub use reader::ReadError;

/// Default largest WebSocket message (and frame payload) kept in memory: 16 MiB.
pub const DEFAULT_MAX_MESSAGE: usize = 16 << 20;

/// How to dissect a capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Treat connections to this server port as WebSocket even without a visible handshake.
    pub port: Option<u16>,
    /// Keep payloads, judge frames with the rules and build messages (`inspect`). When false
    /// only what the byte ledger needs is done (`overhead`).
    pub decode: bool,
    /// Largest message or frame payload kept (and largest inflated message).
    pub max_message: usize,
    /// Out-of-order bytes held per connection direction before a hole is declared lost
    /// (see [`reassembly::Reassembler::with_window`]).
    pub reorder_window: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            port: None,
            decode: true,
            max_message: DEFAULT_MAX_MESSAGE,
            reorder_window: reassembly::DEFAULT_REORDER_WINDOW,
        }
    }
}

/// Why a capture could not be dissected at all.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The file could not be opened.
    #[error("cannot open {path}: {source}")]
    Open {
        /// The path given.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The path names a directory, a device, a FIFO or a socket: a FIFO would block the open
    /// and a device like `/dev/zero` would never end, so only regular files are read.
    #[error("{path}: {what}, not a capture file")]
    NotAFile {
        /// The path given.
        path: String,
        /// `a directory` or `not a regular file (a device, fifo or socket)`.
        what: &'static str,
    },
    /// The file is not a capture or nothing in it could be read.
    #[error("{path}: {source}")]
    Read {
        /// The path given.
        path: String,
        /// What went wrong.
        source: ReadError,
    },
}

/// Opens and dissects a capture file: a regular file of any size, read as a stream (memory
/// is bounded by [`reader::MAX_BLOCK`] and the open connections, not by the file). Bytes from
/// elsewhere go through [`analyze`].
pub fn analyze_file(
    path: &Path,
    options: &Options,
    sink: &mut dyn Sink,
) -> Result<CaptureSummary, CaptureError> {
    analyze_file_with_keys(path, options, &KeyLog::default(), sink)
}

/// [`analyze_file`] decrypting TLS with the secrets of `keys` (see [`tls`]).
pub fn analyze_file_with_keys(
    path: &Path,
    options: &Options,
    keys: &KeyLog,
    sink: &mut dyn Sink,
) -> Result<CaptureSummary, CaptureError> {
    let shown = path.display().to_string();
    // Looked at before opening: opening a FIFO blocks until a writer appears.
    let meta = std::fs::metadata(path).map_err(|source| CaptureError::Open {
        path: shown.clone(),
        source,
    })?;
    if meta.is_dir() {
        return Err(CaptureError::NotAFile {
            path: shown,
            what: "a directory",
        });
    }
    if !meta.is_file() {
        return Err(CaptureError::NotAFile {
            path: shown,
            what: "not a regular file (a device, fifo or socket)",
        });
    }
    let file = std::fs::File::open(path).map_err(|source| CaptureError::Open {
        path: shown.clone(),
        source,
    })?;
    analyze_with_keys(file, options, keys, sink).map_err(|source| CaptureError::Read {
        path: shown,
        source,
    })
}

/// What the dissection layers need to report an event.
pub(crate) struct Ctx<'s> {
    /// Connection index.
    pub conn: u32,
    /// Time of the current packet since the first one.
    pub time_ns: i128,
    /// Where events go.
    pub sink: &'s mut dyn Sink,
    /// See [`Options::decode`].
    pub decode: bool,
    /// See [`Options::max_message`].
    pub max_message: usize,
    /// The HTTP/2 stream being decoded, when the bytes are a stream's DATA (h2c).
    pub stream: Option<u32>,
}

impl Ctx<'_> {
    /// Position of an event completed by `packet`.
    pub fn at(&self, packet: u64) -> events::At {
        events::At {
            conn: self.conn,
            packet,
            time_ns: self.time_ns,
            stream: self.stream,
        }
    }
}
