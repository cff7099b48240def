//! The preflight handshake: before any case runs, one ordinary opening handshake (RFC 6455
//! §4.1) is sent to the target and its answer checked, so a target that is not a WebSocket
//! endpoint (wrong path, plain HTTP server, proxy error page) stops the run with one clear
//! message instead of hundreds of FAIL rows. It uses `wire::handshake` for every byte and
//! bounds every wait by a timeout.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::rng::Rng;
use crate::wire::handshake::{ClientRequest, Parse, parse_response, validate_response};

/// Largest response head read before giving up (a WebSocket answer is a few hundred bytes).
const MAX_HEAD: usize = 16 * 1024;

/// Why the target did not pass the preflight handshake.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PreflightError {
    /// The TCP connection failed.
    #[error("cannot connect to {addr}: {why}")]
    Connect {
        /// Address tried.
        addr: SocketAddr,
        /// OS message.
        why: String,
    },
    /// The server answered, but not with `101 Switching Protocols`.
    #[error(
        "the target answered the WebSocket handshake with \"{status_line}\" instead of \
         \"101 Switching Protocols\" (is {path} the WebSocket endpoint? --no-preflight runs \
         the cases anyway)"
    )]
    NotUpgraded {
        /// The response's status line, e.g. `HTTP/1.1 404 Not Found`.
        status_line: String,
        /// The request path, the usual culprit.
        path: String,
    },
    /// The server answered 101 but the answer breaks a MUST of §4.2.2.
    #[error(
        "the target answered \"{status_line}\" but its handshake is invalid: {why} \
         (--no-preflight runs the cases anyway)"
    )]
    Invalid {
        /// The response's status line.
        status_line: String,
        /// The first violation found.
        why: String,
    },
    /// The TLS connection failed after its handshake (a client certificate refused in TLS 1.3).
    #[error("{0}")]
    Tls(crate::net::TlsFailure),
    /// A TLS record came back: the port speaks TLS and the URL says ws://.
    #[error(
        "the target answered the WebSocket handshake with TLS, not HTTP: it is a TLS port (use \
         wss://)"
    )]
    TlsAnswer,
    /// `--http2`: the target did not start HTTP/2 or did not enable extended CONNECT.
    #[error(
        "the target does not accept WebSockets over HTTP/2: {why} (--no-preflight runs the cases anyway)"
    )]
    NoHttp2 {
        /// What happened instead.
        why: String,
    },
    /// What came back is not an HTTP response head.
    #[error("the target did not answer the WebSocket handshake with HTTP: {why}")]
    NotHttp {
        /// What is wrong with it.
        why: String,
    },
    /// Nothing (or not a whole head) came back in time, or the connection closed first.
    #[error(
        "the target did not answer the WebSocket handshake ({why}); is it a WebSocket server? \
         (--no-preflight runs the cases anyway)"
    )]
    NoAnswer {
        /// What happened instead.
        why: String,
    },
}

/// Sends one valid opening handshake to `endpoint` and checks the answer is a valid `101`.
///
/// `host` and `path` are the `Host` header and request target, `headers` the extra request
/// headers of the run (e.g. Authorization, which a target may require). The whole exchange is
/// bounded by `timeout`; the connection is dropped afterwards without a closing handshake.
pub async fn check(
    endpoint: &crate::net::Endpoint,
    host: &str,
    path: &str,
    headers: &[(String, String)],
    timeout: Duration,
) -> Result<(), PreflightError> {
    match tokio::time::timeout(timeout, exchange(endpoint, host, path, headers)).await {
        Ok(result) => result,
        Err(_) => Err(PreflightError::NoAnswer {
            why: format!("no complete answer within {:.1}s", timeout.as_secs_f64()),
        }),
    }
}

async fn exchange(
    endpoint: &crate::net::Endpoint,
    host: &str,
    path: &str,
    headers: &[(String, String)],
) -> Result<(), PreflightError> {
    // The caller's timeout bounds this too; the deadline only has to be far enough.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(3600);
    let mut stream = endpoint
        .connect(deadline)
        .await
        .map_err(|e| PreflightError::Connect {
            addr: endpoint.addr,
            why: e.to_string(),
        })?;
    if endpoint.transport.http2 {
        let conn = crate::net::h2::ClientConn::handshake(stream, deadline)
            .await
            .map_err(|e| PreflightError::NoHttp2 { why: e.to_string() })?;
        if !conn.connect_protocol_enabled() {
            return Err(PreflightError::NoHttp2 {
                why: crate::net::h2::OpenError::NotEnabled.to_string(),
            });
        }
        return Ok(());
    }
    let mut request = ClientRequest::new(host, path, &Rng::new(None).handshake_key());
    request.headers = headers.to_vec();
    let no_answer = |e: std::io::Error| match endpoint
        .transport
        .tls
        .as_ref()
        .and_then(|t| t.failure_in(&e))
    {
        Some(failure) => PreflightError::Tls(failure),
        None => PreflightError::NoAnswer { why: e.to_string() },
    };
    stream
        .write_all(&request.to_bytes())
        .await
        .map_err(no_answer)?;
    stream.flush().await.map_err(no_answer)?;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    let head = loop {
        match parse_response(&buf, MAX_HEAD) {
            Ok(Parse::Complete(head)) => break head,
            Ok(Parse::Partial) => {}
            Err(_) if looks_like_tls(&buf) => return Err(PreflightError::TlsAnswer),
            Err(e) => {
                return Err(PreflightError::NotHttp { why: e.to_string() });
            }
        }
        let n = stream.read(&mut chunk).await.map_err(no_answer)?;
        if n == 0 && looks_like_tls(&buf) {
            return Err(PreflightError::TlsAnswer);
        }
        if n == 0 {
            return Err(PreflightError::NoAnswer {
                why: if buf.is_empty() {
                    "the connection closed without an answer".into()
                } else {
                    "the connection closed in the middle of the answer".into()
                },
            });
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let status_line = format!("HTTP/1.{} {} {}", head.version, head.status, head.reason)
        .trim_end()
        .to_string();
    // Escaped: the reason phrase came from the server.
    let status_line = status_line.escape_debug().to_string();
    if head.status != 101 {
        return Err(PreflightError::NotUpgraded {
            status_line,
            path: path.to_string(),
        });
    }
    validate_response(&head, &request.offer()).map_err(|violations| PreflightError::Invalid {
        status_line,
        why: violations
            .first()
            .map(ToString::to_string)
            .unwrap_or_else(|| "rejected".into()),
    })?;
    Ok(())
}

/// A TLS record header: handshake (22) or alert (21), version 3.x (RFC 8446 §5.1).
fn looks_like_tls(buf: &[u8]) -> bool {
    matches!(buf, [21 | 22, 3, 0..=4, ..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A one-connection server that reads the request head and answers `answer`.
    async fn answering(answer: &'static [u8]) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            if let Ok((mut s, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(answer).await;
                let _ = s.shutdown().await;
            }
        });
        addr
    }

    fn run(addr: SocketAddr) -> Result<(), PreflightError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(check(
            &crate::net::Endpoint::tcp(addr),
            "h",
            "/chat",
            &[],
            Duration::from_secs(5),
        ))
    }

    #[test]
    fn a_404_is_named_with_the_path() {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let addr = rt.block_on(answering(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
        ));
        let err = run(addr).expect_err("404 is not an upgrade");
        assert_eq!(
            err,
            PreflightError::NotUpgraded {
                status_line: "HTTP/1.1 404 Not Found".into(),
                path: "/chat".into()
            }
        );
        assert!(err.to_string().contains("is /chat the WebSocket endpoint"));
    }

    #[test]
    fn a_101_with_a_wrong_accept_is_invalid() {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let addr = rt.block_on(answering(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Accept: wrong\r\n\r\n",
        ));
        assert!(matches!(run(addr), Err(PreflightError::Invalid { .. })));
    }

    #[test]
    fn silence_then_close_is_no_answer_and_garbage_is_not_http() {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let addr = rt.block_on(answering(b""));
        assert!(matches!(run(addr), Err(PreflightError::NoAnswer { .. })));
        let addr = rt.block_on(answering(b"SSH-2.0-OpenSSH_9.6\r\n\r\n"));
        assert!(matches!(run(addr), Err(PreflightError::NotHttp { .. })));
    }
}
