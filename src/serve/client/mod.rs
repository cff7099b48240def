//! wsprobe's reference WebSocket *client*, for judging wsprobe's client-role checks the way
//! the faulty servers of [`crate::serve::Fault`] judge its server-role checks.
//!
//! The client speaks Autobahn's fuzzing-server protocol (`/getCaseCount`,
//! `/runCase?case=N&agent=A`, `/updateReports?agent=A`), echoes every message, answers pings
//! and the closing handshake, and fails the connection on anything RFC 6455 forbids a server to
//! send. It is built on `wire` alone (frame decoder and encoder, handshake validation, the
//! rule engine with the server as the sender), not on a WebSocket library, so that each
//! [`ClientFault`] can change exactly one behaviour: without faults it is a strictly conformant
//! client (§4.1 response validation, §5.3 fresh random masks, §5.1–§5.5 and §8.1 checks of the
//! server's frames, §7.1.1 waiting for the server to close TCP).
//!
//! With [`ClientConfig::http2`] each WebSocket is an RFC 8441 extended CONNECT on an HTTP/2
//! connection of its own, from `net::h2` (the transport `run --http2` uses): the client waits
//! for the server's SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 unless its `h2-connect-before-settings`
//! fault says otherwise, and the WebSocket on the stream is the same `wire`-built one.
//!
//! Layout: `fault.rs` is the catalogue, `mask.rs` the key source, `handshake.rs` the §4.1
//! request and judgement, `session.rs` the sans-IO connection; this file is the thin tokio
//! driver and the protocol loop. Every network wait is bounded by the case timeout, the close
//! wait by [`CLOSE_WAIT`]. Outcomes are values; `cli` prints them.

mod fault;
mod handshake;
mod mask;
mod session;

pub use fault::{ClientFault, ClientFaultInfo, FaultSet, client_faults};
pub use mask::{CONSTANT_KEY, EntropyError, MaskSource};
pub use session::{Next, Session, State};

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::net::h2::{ClientConn, ConnectRequest, OpenError};
use crate::net::{ClientTls, Stream};
use tokio::time::{Instant, timeout_at};

use crate::wire::handshake::{ClientRequest, HeadError, Parse, ResponseHead, parse_response};
use crate::wire::{Opcode, Violation};

/// Longest the client waits for the server to close TCP after the closing handshake (§7.1.1)
/// before closing it itself.
pub const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// Largest handshake response head the client reads.
const MAX_HEAD: usize = 16 * 1024;

/// What the client is told to do.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Base URL of the fuzzing server, `ws://host:port[/prefix]`.
    pub url: String,
    /// Agent name sent with `runCase` and `updateReports`.
    pub agent: String,
    /// Deliberate defects (empty: the conformant client).
    pub faults: FaultSet,
    /// Bound on each connection (handshake, messages and close).
    pub case_timeout: Duration,
    /// Run only the first N cases.
    pub max_cases: Option<u64>,
    /// TLS settings for a `wss://` fuzzing server (`--ca`, `--insecure`).
    pub tls: crate::net::tls::ClientOptions,
    /// Open every WebSocket over HTTP/2 (RFC 8441), one HTTP/2 connection each: h2c with
    /// prior knowledge for `ws://`, ALPN `h2` for `wss://`.
    pub http2: bool,
}

/// Why the run could not go on.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The base URL is not a `ws://host:port` URL.
    #[error("invalid url '{url}': {why}")]
    Url {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The TLS settings could not be built (a `--ca` file that holds no certificate).
    #[error("{0}")]
    Tls(#[from] crate::net::tls::SetupError),
    /// A connection of the protocol itself (`getCaseCount`, `updateReports`) failed.
    #[error("{what}: {why}")]
    Unreachable {
        /// Which request.
        what: &'static str,
        /// What went wrong.
        why: String,
    },
    /// `getCaseCount` did not answer with a number.
    #[error("getCaseCount answered {0:?}, not a number")]
    BadCount(String),
}

/// How one connection ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The TCP connection could not be made.
    ConnectFailed(String),
    /// The client refused the server's handshake response and closed TCP without sending.
    HandshakeRefused(String),
    /// The connection was opened and ended in this state.
    Ended {
        /// The session's final state.
        state: State,
        /// Messages echoed.
        echoed: usize,
    },
    /// The case timeout passed.
    TimedOut,
    /// Reading or writing failed after the handshake.
    Io(String),
}

impl Outcome {
    /// A one-line description for progress output.
    pub fn describe(&self) -> String {
        match self {
            Outcome::ConnectFailed(why) => format!("cannot connect: {why}"),
            Outcome::HandshakeRefused(why) => format!("handshake refused: {why}"),
            Outcome::Ended { state, echoed } => match state {
                State::Open => format!("echoed {echoed}, server closed tcp"),
                State::CloseReceived { code, replied } => format!(
                    "echoed {echoed}, server closed{}{}",
                    code.map(|c| format!(" with {c}")).unwrap_or_default(),
                    if *replied { "" } else { " (not answered)" }
                ),
                State::Failed { code, violations } => format!(
                    "echoed {echoed}, failed the connection with {code}: {}",
                    violations
                        .iter()
                        .map(|v| v.detail.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            },
            Outcome::TimedOut => "timed out".into(),
            Outcome::Io(why) => format!("connection error: {why}"),
        }
    }
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// The case count the server gave.
    pub count: u64,
    /// Cases run.
    pub ran: u64,
}

/// A parsed `ws://host:port/prefix` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Base {
    /// `host:port` to connect to and send as Host.
    authority: String,
    /// The host without brackets (the TLS server name).
    host: String,
    /// `wss://`.
    tls: bool,
    /// Path prefix without a trailing slash (often empty).
    prefix: String,
}

fn parse_base(url: &str) -> Result<Base, ClientError> {
    let bad = |why| ClientError::Url {
        url: url.to_string(),
        why,
    };
    let (tls, rest) = match (url.strip_prefix("ws://"), url.strip_prefix("wss://")) {
        (Some(rest), _) => (false, rest),
        (_, Some(rest)) => (true, rest),
        _ => return Err(bad("only ws:// and wss:// URLs are supported")),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if authority.is_empty() {
        return Err(bad("no host"));
    }
    let authority = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        && !authority.ends_with(']')
    {
        authority.to_string()
    } else {
        format!("{authority}:{}", if tls { 443 } else { 80 })
    };
    let host = authority
        .rsplit_once(':')
        .map_or(authority.as_str(), |(h, _)| h)
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    Ok(Base {
        authority,
        host,
        tls,
        prefix: path.trim_end_matches('/').to_string(),
    })
}

/// Writes `bytes` and flushes them (over TLS a record must leave rustls's buffer).
async fn write_flushed(stream: &mut Stream, bytes: &[u8]) -> std::io::Result<()> {
    stream.write_all(bytes).await?;
    stream.flush().await
}

/// Percent-encodes `text` for a query value (RFC 3986 unreserved characters stay).
fn encode_query(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Runs the fuzzing-server protocol: the count, every case (or the first `max_cases`), then
/// `updateReports`. `progress` hears about every case as it ends.
pub async fn run(
    config: &ClientConfig,
    mut progress: impl FnMut(u64, &Outcome),
) -> Result<Summary, ClientError> {
    let base = parse_base(&config.url)?;
    let tls = if base.tls {
        let tls = ClientTls::new(&config.tls, &base.host)?;
        Some(if config.http2 { tls.for_http2() } else { tls })
    } else {
        None
    };
    let tls = tls.as_ref();
    let mut masks = MaskSource::new(&config.faults);
    let count_path = format!("{}/getCaseCount", base.prefix);
    let outcome = connect(&base, tls, &count_path, config, &mut masks, None).await;
    let text = match &outcome {
        Ok((_, received)) => received
            .iter()
            .find(|(op, _)| *op == Opcode::Text)
            .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned()),
        Err(_) => None,
    };
    let text = match (text, outcome) {
        (Some(text), _) => text,
        (None, Ok((outcome, _)) | Err(outcome)) => {
            return Err(ClientError::Unreachable {
                what: "getCaseCount",
                why: outcome.describe(),
            });
        }
    };
    let count: u64 = text
        .trim()
        .parse()
        .map_err(|_| ClientError::BadCount(text.clone()))?;
    let agent = encode_query(&config.agent);
    let last = config.max_cases.map_or(count, |n| n.min(count));
    for case in 1..=last {
        let path = format!("{}/runCase?case={case}&agent={agent}", base.prefix);
        let outcome = match connect(&base, tls, &path, config, &mut masks, Some(())).await {
            Ok((outcome, _)) | Err(outcome) => outcome,
        };
        progress(case, &outcome);
    }
    let path = format!("{}/updateReports?agent={agent}", base.prefix);
    match connect(&base, tls, &path, config, &mut masks, None).await {
        Ok((Outcome::Ended { .. }, _)) => {}
        Ok((outcome, _)) | Err(outcome) => {
            return Err(ClientError::Unreachable {
                what: "updateReports",
                why: outcome.describe(),
            });
        }
    }
    Ok(Summary { count, ran: last })
}

/// Opens one connection to `path` and runs it to its end within the case timeout. `echo` is
/// `Some` for `runCase`. `Ok` carries the outcome of an opened connection and the messages it
/// received; `Err` an outcome before or without an opened connection.
async fn connect(
    base: &Base,
    tls: Option<&ClientTls>,
    path: &str,
    config: &ClientConfig,
    masks: &mut MaskSource,
    echo: Option<()>,
) -> Result<(Outcome, Vec<(Opcode, Vec<u8>)>), Outcome> {
    let deadline = Instant::now() + config.case_timeout;
    let tcp = match timeout_at(deadline, TcpStream::connect(&base.authority)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => return Err(Outcome::ConnectFailed(e.to_string())),
        Err(_) => return Err(Outcome::TimedOut),
    };
    let _ = tcp.set_nodelay(true);
    let stream = match tls {
        Some(tls) => tls
            .handshake(tcp, deadline)
            .await
            .map_err(|e| Outcome::ConnectFailed(e.to_string()))?,
        None => Stream::from(tcp),
    };
    let key = masks
        .nonce()
        .map_err(|e| Outcome::ConnectFailed(e.to_string()))?;
    let request = handshake::request(&base.authority, path, &key, &config.faults);
    let (mut stream, mut pending) = if config.http2 {
        (
            open_h2(stream, base, &request, config, deadline).await?,
            Vec::new(),
        )
    } else {
        open_h1(stream, &request, config, deadline).await?
    };
    let mut chunk = vec![0u8; 64 * 1024];
    let mut session = Session::new(config.faults.clone(), echo.is_some());
    let mut close_deadline: Option<Instant> = None;
    let ended = loop {
        if !pending.is_empty() {
            if let Err(e) = session.receive(&pending, masks) {
                break Outcome::Io(e.to_string());
            }
            pending.clear();
        }
        let out = session.take_output();
        if !out.is_empty() {
            match timeout_at(deadline, write_flushed(&mut stream, &out)).await {
                Ok(Ok(())) => {}
                // The server may already have closed; what was received still counts.
                Ok(Err(_)) => break ended(&session),
                Err(_) => break Outcome::TimedOut,
            }
        }
        let wait = match session.next() {
            Next::Read => deadline,
            Next::AwaitTcpClose => {
                *close_deadline.get_or_insert_with(|| (Instant::now() + CLOSE_WAIT).min(deadline))
            }
            Next::CloseTcp => break ended(&session),
        };
        match timeout_at(wait, stream.read(&mut chunk)).await {
            Ok(Ok(0)) => break ended(&session),
            Ok(Ok(n)) => pending.extend_from_slice(&chunk[..n]),
            Ok(Err(_)) => break ended(&session),
            Err(_) if close_deadline.is_some() => break ended(&session),
            Err(_) => {
                // The case timeout: end the connection as a client would, briefly.
                if session.close(1001, masks).is_ok() {
                    let out = session.take_output();
                    let grace = Instant::now() + Duration::from_millis(200);
                    let _ = timeout_at(grace, write_flushed(&mut stream, &out)).await;
                }
                break Outcome::TimedOut;
            }
        }
    };
    let _ = timeout_at(
        Instant::now() + Duration::from_millis(200),
        stream.shutdown(),
    )
    .await;
    let received = session.received().to_vec();
    Ok((ended, received))
}

/// The HTTP/1.1 upgrade (RFC 6455 §4.1): the stream and the bytes that came after the 101.
async fn open_h1(
    mut stream: Stream,
    request: &ClientRequest,
    config: &ClientConfig,
    deadline: Instant,
) -> Result<(Stream, Vec<u8>), Outcome> {
    let io = |e: std::io::Error| Outcome::Io(e.to_string());
    match timeout_at(deadline, write_flushed(&mut stream, &request.to_bytes())).await {
        Ok(result) => result.map_err(io)?,
        Err(_) => return Err(Outcome::TimedOut),
    }
    // Read the response head; bytes after it are the first frames.
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let head = loop {
        match parse_response(&buf, MAX_HEAD) {
            Ok(Parse::Complete(head)) => break head,
            Ok(Parse::Partial) => {}
            Err(e @ (HeadError::Malformed(_) | HeadError::TooLarge(_))) => {
                return Err(Outcome::HandshakeRefused(e.to_string()));
            }
        }
        match timeout_at(deadline, stream.read(&mut chunk)).await {
            Ok(Ok(0)) => {
                return Err(Outcome::HandshakeRefused(
                    "the server closed the connection during the handshake".into(),
                ));
            }
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Ok(Err(e)) => return Err(io(e)),
            Err(_) => return Err(Outcome::TimedOut),
        }
    };
    if let Err(found) = handshake::judge_response(&head, &request.offer(), &config.faults) {
        // Fail the connection (§4.1): close TCP without sending anything.
        drop(stream);
        return Err(Outcome::HandshakeRefused(join_details(&found)));
    }
    let rest = buf.split_off(head.head_len);
    Ok((stream, rest))
}

/// The extended CONNECT on an HTTP/2 connection of its own (RFC 8441 §4, §5): the stream's
/// DATA are the WebSocket's bytes.
async fn open_h2(
    stream: Stream,
    base: &Base,
    request: &ClientRequest,
    config: &ClientConfig,
    deadline: Instant,
) -> Result<Stream, Outcome> {
    let waits = !config.faults.has(ClientFault::H2ConnectBeforeSettings);
    let opened = if waits {
        ClientConn::handshake(stream, deadline).await
    } else {
        ClientConn::handshake_without_waiting(stream, deadline).await
    };
    let failed = |e: OpenError| match e {
        OpenError::Timeout => Outcome::TimedOut,
        OpenError::Connection(_) => Outcome::ConnectFailed(e.to_string()),
        OpenError::NotEnabled | OpenError::Reset(_) => Outcome::HandshakeRefused(e.to_string()),
    };
    let conn = opened.map_err(failed)?;
    let mut fields = vec![("sec-websocket-version".to_string(), "13".to_string())];
    if !request.extensions.is_empty() {
        fields.push((
            "sec-websocket-extensions".into(),
            request.extensions.join(", "),
        ));
    }
    let connect = ConnectRequest {
        scheme: if base.tls { "https" } else { "http" }.into(),
        authority: base.authority.clone(),
        path: request.path.clone(),
        protocol: "websocket".into(),
        fields,
    };
    let (answer, stream) = conn
        .connect(&connect, waits, deadline)
        .await
        .map_err(failed)?;
    let head = ResponseHead {
        version: 1,
        status: answer.status,
        reason: String::new(),
        headers: answer.fields,
        head_len: 0,
    };
    if let Err(found) =
        handshake::judge_h2_response(&head, answer.end_stream, &request.offer(), &config.faults)
    {
        // Fail the WebSocket: dropping the stream resets it with CANCEL (RFC 8441 §5).
        return Err(Outcome::HandshakeRefused(join_details(&found)));
    }
    stream.ok_or_else(|| {
        Outcome::HandshakeRefused(format!(
            "HTTP/2 status {} left no stream to run the WebSocket on",
            answer.status
        ))
    })
}

fn ended(session: &Session) -> Outcome {
    Outcome::Ended {
        state: session.state().clone(),
        echoed: session.echoed(),
    }
}

fn join_details(found: &[Violation]) -> String {
    found
        .iter()
        .map(|v| v.detail.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_keep_host_port_and_prefix() {
        let table = [
            ("ws://127.0.0.1:9001", "127.0.0.1:9001", ""),
            ("ws://127.0.0.1:9001/", "127.0.0.1:9001", ""),
            ("ws://localhost/fuzz/", "localhost:80", "/fuzz"),
            ("ws://[::1]:9001/x", "[::1]:9001", "/x"),
            ("wss://localhost/fuzz", "localhost:443", "/fuzz"),
        ];
        for (url, authority, prefix) in table {
            let base = parse_base(url).expect(url);
            assert_eq!(
                (base.authority.as_str(), base.prefix.as_str()),
                (authority, prefix)
            );
        }
        for url in ["http://127.0.0.1:9001", "ws://", "ws:///path", "wss://"] {
            assert!(parse_base(url).is_err(), "{url}");
        }
        let base = parse_base("wss://[::1]:9001").expect("wss");
        assert!(base.tls);
        assert_eq!(base.host, "::1");
    }

    #[test]
    fn agent_names_are_percent_encoded() {
        assert_eq!(encode_query("wsprobe-no-mask"), "wsprobe-no-mask");
        assert_eq!(encode_query("a b&c=d"), "a%20b%26c%3Dd");
    }
}
