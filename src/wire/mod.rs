//! Sans-IO RFC 6455: everything about bytes on a WebSocket connection and nothing about sockets.
//!
//! `wire` owns the frame decoder and encoder ([`frame`], [`decode`], [`encode`], [`mask`]), the
//! incremental UTF-8 validator ([`utf8`]), close frames and close-code classes ([`close`]), the
//! opening handshake ([`handshake`]) and the rules that turn observed frames into
//! [`Violation`]s ([`rules`]), and the permessage-deflate extension (RFC 7692, [`deflate`]).
//! It may use only std, httparse, sha1, base64 and flate2: no tokio, no sockets, no clock and
//! no randomness. Mask keys, nonces and limits are always arguments.
//!
//! The decoder represents any bit pattern (reserved opcodes, RSV bits, non-minimal or absurd
//! lengths) and records how each frame was encoded; judging is a separate step in [`rules`].
//! The same decoder serves the live runner and the capture dissector.
//!
//! RFC 6455 sections implemented here: §1.3 and §4 (opening handshake), §5 (framing, masking,
//! fragmentation, control frames), §7.4 (close codes), §8.1 (UTF-8 handling).

pub mod close;
pub mod decode;
pub mod deflate;
pub mod encode;
pub mod frame;
pub mod h2;
pub mod handshake;
pub mod mask;
pub mod rules;
pub mod utf8;
mod violation;

pub use close::{CloseClass, ClosePayload};
pub use decode::{Decoded, DecodedFrame, DecoderConfig, FrameDecoder};
pub use encode::{FrameSpec, LengthSpec};
pub use frame::{Frame, FrameHeader, LengthEncoding, Opcode};
pub use utf8::{Utf8Status, Utf8Validator};
pub use violation::{Level, Violation, ViolationKind};

/// Which end of a WebSocket connection an endpoint is (RFC 6455 §1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// The endpoint that opened the connection and sent the upgrade request.
    Client,
    /// The endpoint that accepted the upgrade.
    Server,
}

impl Role {
    /// The other end of the connection.
    pub fn peer(self) -> Role {
        match self {
            Role::Client => Role::Server,
            Role::Server => Role::Client,
        }
    }

    /// The direction of bytes sent by an endpoint in this role.
    pub fn sending(self) -> Direction {
        match self {
            Role::Client => Direction::ClientToServer,
            Role::Server => Direction::ServerToClient,
        }
    }
}

/// The direction bytes travel on a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// Sent by the client, received by the server.
    ClientToServer,
    /// Sent by the server, received by the client.
    ServerToClient,
}

impl Direction {
    /// The role of the endpoint that sends in this direction.
    pub fn sender(self) -> Role {
        match self {
            Direction::ClientToServer => Role::Client,
            Direction::ServerToClient => Role::Server,
        }
    }

    /// A short arrow form used in traces: `c>s` or `s>c`.
    pub fn arrow(self) -> &'static str {
        match self {
            Direction::ClientToServer => "c>s",
            Direction::ServerToClient => "s>c",
        }
    }
}
