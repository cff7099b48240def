//! Transports below the WebSocket session: plain TCP, TLS (rustls), tunnels through HTTP
//! proxies (CONNECT) and HTTP/2 extended CONNECT streams (RFC 8441, [`h2`]). A case, a server
//! and the session engine see one [`Stream`] whatever carries it, so every built-in case runs
//! over `wss://` and over HTTP/2 exactly as over `ws://`. It may use `wire` (for hand-written
//! HTTP/2, [`h2raw`]), tokio, rustls (tokio-rustls, rustls-native-certs, rcgen), ring,
//! httparse, base64, the h2 crate with http and bytes, and thiserror; `runner` and `serve` use
//! it.
//!
//! **Writes keep their size.** Each write on a TLS stream becomes its own TLS record (up to
//! 16 KiB of plaintext, RFC 8446 §5.1) and, with `TCP_NODELAY`, its own TCP segment, so a
//! suite's chopped writes stay chopped on the wire: a frame header written alone arrives in a
//! record of its own, and the peer's TLS layer hands it over alone.
//!
//! **End of stream.** A peer that closes TCP without TLS's `close_notify` is read as the end of
//! the stream, like a TCP FIN: most WebSocket servers do exactly that after the closing
//! handshake (RFC 6455 §7.1.1 speaks of TCP only), and a missing `close_notify` can truncate
//! nothing WebSocket frames do not already delimit.

pub mod h2;
pub mod h2raw;
pub mod h2tap;
pub mod proxy;
pub mod tls;

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

pub use proxy::{Proxy, ProxyError};
pub use tls::{ClientTls, ServerTls, TlsFailure};

/// A connection's byte stream: TCP, or TLS over TCP, as a client or as a server.
#[derive(Debug)]
pub struct Stream {
    io: Io,
    /// Bytes already read from `io` that reads hand out first ([`Stream::peek`]).
    rewind: Vec<u8>,
}

#[derive(Debug)]
enum Io {
    Tcp(TcpStream),
    TlsClient(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    TlsServer(Box<tokio_rustls::server::TlsStream<TcpStream>>),
    /// An HTTP/2 stream (RFC 8441), itself on a TCP or TLS connection.
    H2(Box<h2::H2Stream>),
}

impl From<TcpStream> for Stream {
    fn from(tcp: TcpStream) -> Stream {
        Stream::new(Io::Tcp(tcp))
    }
}

impl Stream {
    fn new(io: Io) -> Stream {
        Stream {
            io,
            rewind: Vec::new(),
        }
    }

    /// A WebSocket's HTTP/2 stream as a byte stream.
    pub fn h2(stream: h2::H2Stream) -> Stream {
        Stream::new(Io::H2(Box::new(stream)))
    }

    /// The TCP connection underneath, `None` for an HTTP/2 stream (its connection is shared).
    fn tcp(&self) -> Option<&TcpStream> {
        match &self.io {
            Io::Tcp(s) => Some(s),
            Io::TlsClient(s) => Some(s.get_ref().0),
            Io::TlsServer(s) => Some(s.get_ref().0),
            Io::H2(_) => None,
        }
    }

    /// Sets `TCP_NODELAY`, so each write leaves at once (and a chopped write stays chopped).
    /// An HTTP/2 connection has it set when it is opened.
    pub fn set_nodelay(&self) {
        // Failing only costs latency; nothing to report.
        if let Some(tcp) = self.tcp() {
            let _ = tcp.set_nodelay(true);
        }
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        match &self.io {
            Io::H2(s) => Ok(s.peer_addr()),
            _ => self
                .tcp()
                .ok_or_else(|| io::Error::other("no TCP connection"))?
                .peer_addr(),
        }
    }

    /// The TLS session's parameters, `None` on plain TCP.
    pub fn tls(&self) -> Option<tls::SessionInfo> {
        match &self.io {
            Io::Tcp(_) => None,
            Io::TlsClient(s) => Some(tls::SessionInfo::of(s.get_ref().1)),
            Io::TlsServer(s) => Some(tls::SessionInfo::of(s.get_ref().1)),
            Io::H2(s) => s.tls(),
        }
    }

    /// The HTTP/2 stream, when this is one.
    pub fn as_h2(&mut self) -> Option<&mut h2::H2Stream> {
        match &mut self.io {
            Io::H2(s) => Some(s),
            _ => None,
        }
    }

    /// The ALPN protocol the TLS handshake agreed on, if any.
    pub fn alpn(&self) -> Option<Vec<u8>> {
        match &self.io {
            Io::TlsClient(s) => s.get_ref().1.alpn_protocol().map(<[u8]>::to_vec),
            Io::TlsServer(s) => s.get_ref().1.alpn_protocol().map(<[u8]>::to_vec),
            Io::Tcp(_) | Io::H2(_) => None,
        }
    }

    /// Reads once more and returns everything read so far without consuming it: later reads
    /// hand the same bytes out again. An empty slice means the peer closed (or nothing more
    /// can be buffered: `limit` bytes are held).
    pub async fn peek(&mut self, limit: usize) -> io::Result<&[u8]> {
        if self.rewind.len() < limit {
            let mut chunk = vec![0u8; (limit - self.rewind.len()).min(16 * 1024)];
            let n = match &mut self.io {
                Io::Tcp(s) => s.read(&mut chunk).await?,
                Io::TlsClient(s) => eof_ok(s.read(&mut chunk).await)?,
                Io::TlsServer(s) => eof_ok(s.read(&mut chunk).await)?,
                Io::H2(s) => s.read(&mut chunk).await?,
            };
            if n == 0 {
                return Ok(&[]);
            }
            self.rewind.extend_from_slice(&chunk[..n]);
        }
        Ok(&self.rewind)
    }
}

/// TLS without `close_notify` ends like TCP (see the module documentation).
fn eof_ok(r: io::Result<usize>) -> io::Result<usize> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
        other => other,
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.rewind.is_empty() {
            let n = this.rewind.len().min(buf.remaining());
            buf.put_slice(&this.rewind[..n]);
            this.rewind.drain(..n);
            return Poll::Ready(Ok(()));
        }
        let r = match &mut this.io {
            Io::Tcp(s) => return Pin::new(s).poll_read(cx, buf),
            Io::TlsClient(s) => ready!(Pin::new(s.as_mut()).poll_read(cx, buf)),
            Io::TlsServer(s) => ready!(Pin::new(s.as_mut()).poll_read(cx, buf)),
            Io::H2(s) => return Pin::new(s.as_mut()).poll_read(cx, buf),
        };
        Poll::Ready(match r {
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(()),
            other => other,
        })
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().io {
            Io::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Io::TlsClient(s) => {
                let n = ready!(Pin::new(s.as_mut()).poll_write(cx, buf))?;
                // The record is out before the write counts as done: a chopped write must not
                // wait in rustls's buffer for the next one.
                let _ = Pin::new(s.as_mut()).poll_flush(cx)?;
                Poll::Ready(Ok(n))
            }
            Io::TlsServer(s) => {
                let n = ready!(Pin::new(s.as_mut()).poll_write(cx, buf))?;
                let _ = Pin::new(s.as_mut()).poll_flush(cx)?;
                Poll::Ready(Ok(n))
            }
            Io::H2(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Tcp(s) => Pin::new(s).poll_flush(cx),
            Io::TlsClient(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Io::TlsServer(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Io::H2(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Io::TlsClient(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Io::TlsServer(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Io::H2(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// How a client reaches a target: directly or through a proxy, over TCP or TLS.
#[derive(Clone, Debug, Default)]
pub struct Transport {
    /// TLS settings for `wss://`; `None` for `ws://`.
    pub tls: Option<ClientTls>,
    /// The HTTP proxy to tunnel through.
    pub proxy: Option<Proxy>,
    /// Open each WebSocket as an HTTP/2 extended CONNECT stream (RFC 8441): h2c with prior
    /// knowledge on TCP, ALPN `h2` on TLS.
    pub http2: bool,
}

/// Why a connection could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// TCP connect failed.
    #[error("cannot connect to {addr}: {source}")]
    Tcp {
        /// Address tried.
        addr: SocketAddr,
        /// OS error.
        source: io::Error,
    },
    /// TCP connect timed out.
    #[error("connecting to {addr} timed out")]
    Timeout {
        /// Address tried.
        addr: SocketAddr,
    },
    /// The proxy did not open the tunnel.
    #[error("{0}")]
    Proxy(#[from] ProxyError),
    /// The TLS handshake failed.
    #[error("{0}")]
    Tls(#[from] TlsFailure),
}

/// Opens a connection to `host`:`port` (resolved to `addr` when there is no proxy), through
/// the proxy and with TLS as `transport` says, all before `deadline`.
pub async fn connect(
    addr: SocketAddr,
    host: &str,
    port: u16,
    transport: &Transport,
    deadline: Instant,
) -> Result<Stream, ConnectError> {
    let tcp = match &transport.proxy {
        Some(proxy) => proxy::connect(proxy, host, port, deadline).await?,
        None => match timeout_at(deadline, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(source)) => return Err(ConnectError::Tcp { addr, source }),
            Err(_) => return Err(ConnectError::Timeout { addr }),
        },
    };
    let _ = tcp.set_nodelay(true);
    match &transport.tls {
        Some(tls) if transport.http2 => Ok(tls.for_http2().handshake(tcp, deadline).await?),
        Some(tls) => Ok(tls.handshake(tcp, deadline).await?),
        None => Ok(Stream::from(tcp)),
    }
}

/// Where a client connects: the target's resolved address, its name and port (for SNI and a
/// proxy's CONNECT) and the transport.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// The target's address (unused through a proxy, which resolves the name itself).
    pub addr: SocketAddr,
    /// The target's host name or address, without brackets.
    pub host: String,
    /// The target's port.
    pub port: u16,
    /// TLS and proxy.
    pub transport: Transport,
}

impl Endpoint {
    /// Plain TCP straight to `addr`.
    pub fn tcp(addr: SocketAddr) -> Endpoint {
        Endpoint {
            addr,
            host: addr.ip().to_string(),
            port: addr.port(),
            transport: Transport::default(),
        }
    }

    /// Opens a connection (see [`connect`]).
    pub async fn connect(&self, deadline: Instant) -> Result<Stream, ConnectError> {
        connect(self.addr, &self.host, self.port, &self.transport, deadline).await
    }
}
