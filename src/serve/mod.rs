//! Reference servers: the echo server on raw sockets and `wire`, with permessage-deflate
//! (RFC 7692), together with its deliberately faulty variations ([`Fault`]), and the counter on
//! tokio-tungstenite. It may use `wire`, tokio, tokio-tungstenite, futures-util, sha1, base64
//! and thiserror, and it never prints: outcomes are values and errors for `cli` to show.
//!
//! **Why echo is the raw server.** tungstenite has no permessage-deflate, and the echo server
//! is the embedded target of `wsprobe run`, whose suites include Autobahn's 12.x/13.x
//! compression cases. The raw server of `raw.rs`, built on `wire` alone, already exists as the
//! defect-free baseline ([`Fault::None`]) every fault is measured against, so echo mode serves
//! exactly that baseline: one implementation of the correct behaviour, and each fault a
//! single-point change of the server the suites are green against. The counter mode (and its
//! HTTP polling endpoint) stays on tungstenite: it sends small uncompressed numbers only. So
//! does [`ServeMode::TungsteniteEcho`], kept so the interop runs still have tokio-tungstenite
//! as a peer.
//!
//! This file owns the server's life: binding, the accept loop and shutdown. What happens on one
//! connection (opening handshake, the mode, the closing handshake) lives in `raw.rs` for echo
//! and the faults and in `connection.rs` for the tungstenite modes; `fault.rs` is the fault
//! catalogue.
//! Every wait is bounded: see [`HANDSHAKE_TIMEOUT`], [`CLOSE_TIMEOUT`] and [`SHUTDOWN_GRACE`].
//!
//! RFC 6455 sections exercised here: §4.2 (server opening handshake), §5.5.2-3 (ping/pong),
//! §7.1.7 (failing the connection), §7.4.1 (close codes 1000, 1001, 1002, 1007, 1009); RFC 7692
//! §5.1, §6, §7 (permessage-deflate, in `raw/deflate.rs`).

pub mod client;
mod connection;
mod fault;
mod h2;
mod h2raw;
mod polling;
mod raw;

pub use fault::{Fault, FaultInfo, faults};
pub(crate) use h2::is_http2;

use std::net::SocketAddr;

use crate::net::ServerTls;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Longest a client may take to complete the opening handshake before its TCP connection is
/// dropped.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest the server spends on each step of closing a connection: sending its close frame and
/// waiting for the peer's reply, then waiting for the peer to close TCP.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Longest [`Server::shutdown`] waits for open connections to close before aborting them.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Pause after a failed `accept` (for example when out of file descriptors), so the loop does
/// not spin while the condition lasts.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// What a reference server does with each connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServeMode {
    /// Echo text and binary messages with the same opcode, negotiating permessage-deflate when
    /// offered: the raw baseline, the same server as `Fault(Fault::None)`.
    Echo,
    /// Echo on tokio-tungstenite (no extensions): a widely used library as a peer, for the
    /// interop runs, not wsprobe's reference behaviour.
    TungsteniteEcho,
    /// Send "1".."count" as text, one every `interval`, then close with 1000. A request without
    /// an Upgrade header is served by the HTTP polling endpoint instead (`GET /poll?after=N`).
    Counter {
        /// How many numbers to send.
        count: u64,
        /// Pause before each number.
        interval: Duration,
    },
    /// The raw echo server of `raw.rs` with one deliberate defect, or none with
    /// [`Fault::None`]. Built on `wire` alone, not tungstenite.
    Fault(Fault),
}

/// Server settings.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// Address to bind: an IP address (IPv6 with or without brackets) or a host name.
    pub host: String,
    /// Port to bind; 0 picks one.
    pub port: u16,
    /// Behaviour per connection.
    pub mode: ServeMode,
    /// Largest accepted message, and largest accepted frame payload, in bytes. Larger ones fail
    /// the connection with close code 1009.
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

/// What every connection task needs to know, shared by the accept loop.
#[derive(Debug)]
struct Settings {
    /// TLS for every connection (`serve --tls`).
    tls: Option<ServerTls>,
    mode: ServeMode,
    websocket: WebSocketConfig,
    max_message_size: usize,
    /// Serve HTTP/2 extended CONNECTs too (`serve --http2`, RFC 8441).
    http2: bool,
}

/// A running server.
///
/// Dropping it without calling [`Server::shutdown`] also stops it, in the background: the
/// accept loop and the connections see the shutdown signal's sender go away.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    tls: bool,
    stop: watch::Sender<bool>,
    accept_loop: JoinHandle<()>,
}

impl Server {
    /// Binds and starts serving in the background; returns as soon as the socket listens.
    ///
    /// Must be called inside a tokio runtime.
    pub async fn start(config: ServeConfig) -> Result<Server, ServeError> {
        Server::start_with_tls(config, None).await
    }

    /// [`Server::start`], speaking TLS on every connection when `tls` is given (`wss://`).
    pub async fn start_with_tls(
        config: ServeConfig,
        tls: Option<ServerTls>,
    ) -> Result<Server, ServeError> {
        Server::start_with(config, tls, false).await
    }

    /// [`Server::start_with_tls`], serving WebSockets over HTTP/2 as well when `http2` is set
    /// (RFC 8441: h2c with prior knowledge, or ALPN `h2` over TLS) on the same port.
    pub async fn start_with(
        config: ServeConfig,
        tls: Option<ServerTls>,
        http2: bool,
    ) -> Result<Server, ServeError> {
        let tls = match tls {
            Some(t) if http2 => Some(t.with_http2()),
            other => other,
        };
        let requested = requested_addr(&config.host, config.port);
        let bind_error = |source| ServeError::Bind {
            addr: requested.clone(),
            source,
        };
        let listener = TcpListener::bind((unbracket(&config.host), config.port))
            .await
            .map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        let tls_on = tls.is_some();
        let settings = Arc::new(Settings {
            tls,
            mode: config.mode,
            websocket: WebSocketConfig::default()
                .max_message_size(Some(config.max_message_size))
                .max_frame_size(Some(config.max_message_size)),
            max_message_size: config.max_message_size,
            http2,
        });
        let (stop, stopped) = watch::channel(false);
        let accept_loop = tokio::spawn(accept_loop(listener, settings, stopped));
        Ok(Server {
            addr,
            tls: tls_on,
            stop,
            accept_loop,
        })
    }

    /// The address the server listens on, with the port the OS picked if 0 was asked for.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bound `ws://` URL, e.g. `ws://127.0.0.1:8080/` or `ws://[::1]:8080/` (`wss://`
    /// with TLS).
    pub fn url(&self) -> String {
        let url = ws_url(self.addr);
        if self.tls {
            url.replacen("ws://", "wss://", 1)
        } else {
            url
        }
    }

    /// Stops accepting, closes open connections with 1001 (going away) and returns once they
    /// are closed, or once [`SHUTDOWN_GRACE`] has passed and the rest have been aborted.
    pub async fn shutdown(mut self) {
        // Nobody listening is fine: the accept loop has already ended.
        let _ = self.stop.send(true);
        // The accept loop bounds its own wait by SHUTDOWN_GRACE; the margin only guards against
        // a bug there turning into a hang here.
        let limit = SHUTDOWN_GRACE + Duration::from_secs(1);
        if tokio::time::timeout(limit, &mut self.accept_loop)
            .await
            .is_err()
        {
            // Aborting drops the loop's JoinSet, which aborts every connection task.
            self.accept_loop.abort();
        }
    }
}

/// The `ws://` URL for a bound address; `SocketAddr`'s display already brackets IPv6.
fn ws_url(addr: SocketAddr) -> String {
    format!("ws://{addr}/")
}

/// The address as the user asked for it, for error messages.
fn requested_addr(host: &str, port: u16) -> String {
    let host = unbracket(host);
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `[::1]` as written in URLs becomes `::1`, which is what the resolver accepts.
fn unbracket(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .unwrap_or(host)
}

/// Resolves once shutdown is asked for, or once the [`Server`] is dropped.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    // An error means the sender is gone, which is a request to stop as well.
    let _ = stop.wait_for(|stop| *stop).await;
}

/// Serves one connection with the server the mode calls for.
async fn serve_connection(
    tcp: tokio::net::TcpStream,
    settings: Arc<Settings>,
    stop: watch::Receiver<bool>,
) {
    let mut tcp = match &settings.tls {
        None => crate::net::Stream::from(tcp),
        // A client that fails the TLS handshake has no one to hear about it.
        Some(tls) => match tls.accept(tcp).await {
            Ok(stream) => stream,
            Err(_) => return,
        },
    };
    if settings.http2 && h2::is_http2(&mut tcp).await {
        return h2::serve(tcp, settings, stop).await;
    }
    match settings.mode {
        ServeMode::Fault(fault) => raw::serve(tcp, fault, settings.max_message_size, stop).await,
        // The raw baseline speaks permessage-deflate; tungstenite does not.
        ServeMode::Echo => raw::serve(tcp, Fault::None, settings.max_message_size, stop).await,
        ServeMode::TungsteniteEcho | ServeMode::Counter { .. } => {
            connection::serve(tcp, settings, stop).await
        }
    }
}

/// Accepts connections until shutdown, each in its own task, then closes them within
/// [`SHUTDOWN_GRACE`] and aborts whatever is left.
async fn accept_loop(
    listener: TcpListener,
    settings: Arc<Settings>,
    mut stop: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            () = stopped(&mut stop) => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _peer)) => {
                    connections.spawn(serve_connection(tcp, Arc::clone(&settings), stop.clone()));
                }
                // Errors here concern one pending connection or a passing lack of resources;
                // the listener itself stays usable.
                Err(_) => tokio::time::sleep(ACCEPT_BACKOFF).await,
            },
            // Reap finished connections so the set does not grow for the server's lifetime.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let closed = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if closed.is_err() {
        connections.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_brackets_ipv6_hosts() {
        let v4: SocketAddr = "127.0.0.1:8080".parse().expect("valid literal");
        let v6: SocketAddr = "[::1]:8080".parse().expect("valid literal");
        assert_eq!(ws_url(v4), "ws://127.0.0.1:8080/");
        assert_eq!(ws_url(v6), "ws://[::1]:8080/");
    }

    #[test]
    fn requested_addr_brackets_ipv6_once() {
        assert_eq!(requested_addr("127.0.0.1", 80), "127.0.0.1:80");
        assert_eq!(requested_addr("::1", 80), "[::1]:80");
        assert_eq!(requested_addr("[::1]", 80), "[::1]:80");
        assert_eq!(requested_addr("localhost", 80), "localhost:80");
    }

    #[test]
    fn unbracket_strips_only_a_matching_pair() {
        assert_eq!(unbracket("[::1]"), "::1");
        assert_eq!(unbracket("::1"), "::1");
        assert_eq!(unbracket("[::1"), "[::1");
    }
}
