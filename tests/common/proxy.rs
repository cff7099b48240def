//! A small HTTP CONNECT proxy (RFC 9110 §9.3.6) on 127.0.0.1:0 for tests that run wsprobe
//! through a proxy: it records every request (target and `Proxy-Authorization`), can require
//! Basic credentials (407 otherwise) or refuse every request with a given status, tunnels only
//! to loopback targets (403 for any other, so test traffic never leaves the machine), and stops
//! when dropped. It runs on its own runtime, so sync tests driving the binary and async tests
//! can both use it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

/// Longest request head the proxy reads.
const MAX_HEAD: usize = 16 * 1024;
/// Bound on reading a request head and on connecting to the target.
const STEP: Duration = Duration::from_secs(10);
/// Bound on a tunnel's whole life.
const TUNNEL: Duration = Duration::from_secs(120);

/// One request the proxy received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectRecord {
    /// The request method (`CONNECT` for wsprobe).
    pub method: String,
    /// The request target, `host:port`.
    pub target: String,
    /// The `Host` field, if any.
    pub host: Option<String>,
    /// The `Proxy-Authorization` field, if any.
    pub authorization: Option<String>,
}

/// How the proxy answers.
#[derive(Debug, Clone, Default)]
pub struct ProxyConfig {
    /// Credentials every request must carry as `Basic base64(user:password)`; 407 otherwise.
    pub credentials: Option<(String, String)>,
    /// Refuse every request with this status (e.g. 403) instead of tunnelling.
    pub refuse: Option<u16>,
}

/// A running test proxy; dropping it stops it.
pub struct ConnectProxy {
    rt: Option<tokio::runtime::Runtime>,
    /// The address it listens on.
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<ConnectRecord>>>,
}

impl Drop for ConnectProxy {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

impl ConnectProxy {
    /// A proxy that tunnels every CONNECT to a loopback target.
    pub fn open() -> ConnectProxy {
        ConnectProxy::start(ProxyConfig::default())
    }

    /// A proxy that wants `user:password` (407 without them or with others).
    pub fn requiring(user: &str, password: &str) -> ConnectProxy {
        ConnectProxy::start(ProxyConfig {
            credentials: Some((user.to_string(), password.to_string())),
            refuse: None,
        })
    }

    /// A proxy that answers every request with `status`.
    pub fn refusing(status: u16) -> ConnectProxy {
        ConnectProxy::start(ProxyConfig {
            credentials: None,
            refuse: Some(status),
        })
    }

    /// Starts a proxy on 127.0.0.1:0 answering as `config` says.
    pub fn start(config: ProxyConfig) -> ConnectProxy {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("non-blocking");
        let addr = listener.local_addr().expect("local address");
        let log = Arc::new(Mutex::new(Vec::new()));
        let config = Arc::new(config);
        let shared = Arc::clone(&log);
        rt.spawn(async move {
            let listener = TcpListener::from_std(listener).expect("listener on the runtime");
            while let Ok((client, _)) = listener.accept().await {
                let config = Arc::clone(&config);
                let log = Arc::clone(&shared);
                tokio::spawn(async move { serve(client, &config, &log).await });
            }
        });
        ConnectProxy {
            rt: Some(rt),
            addr,
            log,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://USERINFO@127.0.0.1:PORT`; `userinfo` is inserted as given (already encoded).
    pub fn url_with(&self, userinfo: &str) -> String {
        format!("http://{userinfo}@{}", self.addr)
    }

    /// The requests received so far, in order.
    pub fn requests(&self) -> Vec<ConnectRecord> {
        self.log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

/// `Basic base64(user:password)`, the value a proxy expects (RFC 7617 §2).
pub fn basic(user: &str, password: &str) -> String {
    let pair = format!("{user}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

async fn serve(mut client: TcpStream, config: &ProxyConfig, log: &Mutex<Vec<ConnectRecord>>) {
    let Ok(Some((record, early))) = timeout(STEP, read_request(&mut client)).await else {
        return;
    };
    log.lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .push(record.clone());
    if record.method != "CONNECT" {
        return answer(&mut client, 405, "Method Not Allowed", "").await;
    }
    if let Some(status) = config.refuse {
        return answer(&mut client, status, "Refused By Test Proxy", "").await;
    }
    if let Some((user, password)) = &config.credentials
        && record.authorization.as_deref() != Some(basic(user, password).as_str())
    {
        let challenge = "Proxy-Authenticate: Basic realm=\"wsprobe-test\"\r\n";
        return answer(&mut client, 407, "Proxy Authentication Required", challenge).await;
    }
    let mut upstream = match open_loopback(&record.target).await {
        Ok(upstream) => upstream,
        Err((status, reason)) => return answer(&mut client, status, reason, "").await,
    };
    let established = b"HTTP/1.1 200 Connection established\r\n\r\n";
    if client.write_all(established).await.is_err() || upstream.write_all(&early).await.is_err() {
        return;
    }
    let _ = timeout(
        TUNNEL,
        tokio::io::copy_bidirectional(&mut client, &mut upstream),
    )
    .await;
}

async fn answer(client: &mut TcpStream, status: u16, reason: &str, extra: &str) {
    let head = format!("HTTP/1.1 {status} {reason}\r\n{extra}Content-Length: 0\r\n\r\n");
    let _ = timeout(STEP, client.write_all(head.as_bytes())).await;
}

/// Reads and parses one request head; returns it with the bytes read after it.
async fn read_request(client: &mut TcpStream) -> Option<(ConnectRecord, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = client.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(&buf) {
            Ok(httparse::Status::Complete(len)) => {
                let field = |name: &str| {
                    request
                        .headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case(name))
                        .map(|h| String::from_utf8_lossy(h.value).into_owned())
                };
                let record = ConnectRecord {
                    method: request.method.unwrap_or("").to_string(),
                    target: request.path.unwrap_or("").to_string(),
                    host: field("host"),
                    authorization: field("proxy-authorization"),
                };
                return Some((record, buf[len..].to_vec()));
            }
            Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => {}
            _ => return None,
        }
    }
}

/// Connects to `host:port` if every address it names is a loopback address; otherwise the
/// status and reason to answer with (403 for other targets, 502 when the connection fails).
async fn open_loopback(target: &str) -> Result<TcpStream, (u16, &'static str)> {
    let refused = (403, "Only Loopback Targets");
    let failed = (502, "Bad Gateway");
    let addrs: Vec<SocketAddr> = match timeout(STEP, tokio::net::lookup_host(target)).await {
        Ok(Ok(addrs)) => addrs.collect(),
        _ => return Err(refused),
    };
    if addrs.is_empty() || !addrs.iter().all(|a| a.ip().is_loopback()) {
        return Err(refused);
    }
    match timeout(STEP, TcpStream::connect(&addrs[..])).await {
        Ok(Ok(upstream)) => Ok(upstream),
        _ => Err(failed),
    }
}
