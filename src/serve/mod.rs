//! Reference servers: echo and counter on tokio-tungstenite, and deliberately faulty servers
//! built on raw sockets and `wire`. It may use `wire`, tokio and tokio-tungstenite.

use std::net::SocketAddr;
use std::time::Duration;

/// What a reference server does with each connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServeMode {
    /// Echo text and binary messages with the same opcode.
    Echo,
    /// Send "1".."count" as text, one every `interval`, then close with 1000.
    Counter {
        /// How many numbers to send.
        count: u64,
        /// Pause before each number.
        interval: Duration,
    },
}

/// Server settings.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// Address to bind.
    pub host: String,
    /// Port to bind; 0 picks one.
    pub port: u16,
    /// Behaviour per connection.
    pub mode: ServeMode,
    /// Largest accepted message.
    pub max_message_size: usize,
}

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Binding the listening socket failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// The OS error.
        source: std::io::Error,
    },
}

/// A running server.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
}

impl Server {
    /// Binds and starts serving in the background.
    pub async fn start(config: ServeConfig) -> Result<Server, ServeError> {
        let _ = config;
        Err(ServeError::Bind {
            addr: String::new(),
            source: std::io::Error::other("placeholder"),
        })
    }

    /// The bound `ws://` URL.
    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }

    /// Stops accepting and closes connections.
    pub async fn shutdown(self) {}
}
