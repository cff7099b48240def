//! Tunnels through HTTP proxies: the proxy URL (`--proxy`, or the environment like curl), the
//! `NO_PROXY` exclusion list, and the `CONNECT` request that turns a TCP connection to the proxy
//! into a byte tunnel to the target (RFC 9110 §9.3.6), with Basic credentials (RFC 7617) when
//! the proxy URL carries `user:password@`. It may use tokio, httparse, base64 and thiserror.
//!
//! **The password never shows.** [`Proxy`]'s `Display` and `Debug`, [`Proxy::redacted`] and
//! every [`ProxyError`] replace it with `***`; an error about a malformed URL hides the whole
//! `user:password@` part, since a URL that does not parse cannot be trusted to say where the
//! password ends.
//!
//! **Not supported:** `https://` proxies (TLS to the proxy itself) and SOCKS proxies
//! (`socks4://`, `socks5://`, …); both are refused with a message saying so.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

/// The port of a proxy URL without one: 1080, as curl documents for every proxy but `https://`
/// (`CURLOPT_PROXYPORT`: "443 for https proxies and 1080 for all others").
pub const DEFAULT_PORT: u16 = 1080;

/// The largest response head read from a proxy; a longer one is a malformed response.
pub const MAX_RESPONSE_HEAD: usize = 16 * 1024;

/// Header fields parsed in a proxy's response head; more is a malformed response.
const MAX_HEADERS: usize = 64;

/// How much of a proxy's reason phrase an error repeats.
const MAX_REASON: usize = 80;

/// An HTTP proxy wsprobe tunnels through with CONNECT (RFC 9110 §9.3.6).
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    /// The proxy's host name or IP address (an IPv6 address without brackets).
    pub host: String,
    /// The proxy's TCP port.
    pub port: u16,
    credentials: Option<Credentials>,
}

/// Percent-decoded user name and password from the proxy URL.
#[derive(Clone, PartialEq, Eq)]
struct Credentials {
    user: Vec<u8>,
    password: Vec<u8>,
}

/// Why a proxy could not be used. Every message is one line and none contains the password.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The proxy URL does not parse; `url` shows it with any `user:password@` part as `***@`.
    #[error("invalid proxy URL {url}: {reason}")]
    BadUrl {
        /// The URL as given, credentials hidden, control characters escaped.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The proxy URL's scheme names a kind of proxy wsprobe cannot use.
    #[error("{kind} proxies are not supported ({url}); use an http:// proxy")]
    Unsupported {
        /// `https://` (TLS to the proxy) or `SOCKS`.
        kind: &'static str,
        /// The URL as given, credentials hidden.
        url: String,
    },
    /// A proxy environment variable holds a URL that cannot be used.
    #[error("{var}: {source}")]
    Env {
        /// The variable's name.
        var: &'static str,
        /// What is wrong with its value.
        source: Box<ProxyError>,
    },
    /// The host to tunnel to cannot be written into a CONNECT request.
    #[error("cannot tunnel to {target}: {reason}")]
    BadTarget {
        /// The target host, control characters escaped.
        target: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The TCP connection to the proxy failed (including name resolution).
    #[error("cannot connect to proxy {proxy}: {source}")]
    Connect {
        /// The proxy, redacted.
        proxy: String,
        /// The system's error.
        source: io::Error,
    },
    /// The deadline passed before the proxy answered.
    #[error("proxy {proxy} timed out {stage}")]
    Timeout {
        /// The proxy, redacted.
        proxy: String,
        /// What wsprobe was waiting for (`while connecting`, …).
        stage: &'static str,
    },
    /// The proxy answered 407: it wants credentials, or other ones.
    #[error("proxy {proxy} answered 407: proxy authentication required ({hint})")]
    AuthRequired {
        /// The proxy, redacted.
        proxy: String,
        /// What to do about it.
        hint: &'static str,
    },
    /// The proxy answered CONNECT with a status other than 2xx and 407.
    #[error("proxy {proxy} refused CONNECT {target}: {status} {reason}")]
    Refused {
        /// The proxy, redacted.
        proxy: String,
        /// `host:port` wsprobe asked for.
        target: String,
        /// The response's status code.
        status: u16,
        /// The response's reason phrase, control characters escaped and shortened.
        reason: String,
    },
    /// The proxy's answer is not an HTTP/1.x response head within [`MAX_RESPONSE_HEAD`] bytes.
    #[error("proxy {proxy} sent a malformed response to CONNECT: {reason}")]
    Malformed {
        /// The proxy, redacted.
        proxy: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The proxy closed the connection before its response head was complete.
    #[error("proxy {proxy} closed the connection before answering CONNECT")]
    Closed {
        /// The proxy, redacted.
        proxy: String,
    },
    /// Reading from or writing to the proxy failed.
    #[error("i/o error with proxy {proxy}: {source}")]
    Io {
        /// The proxy, redacted.
        proxy: String,
        /// The system's error.
        source: io::Error,
    },
}

impl Proxy {
    /// Parses `http://[user:password@]host[:port][/]`, the form curl takes.
    ///
    /// - A URL without a scheme is an `http://` proxy (`proxy.example:3128`), as in curl.
    /// - Without a port the proxy's port is [`DEFAULT_PORT`] (1080), as curl documents.
    /// - `user` and `password` are percent-decoded (`%40` for `@`, `%3A` for `:`); the user
    ///   part ends at the first `:` and the credentials at the *last* `@`, so a password holding
    ///   `@` or `/` works even unencoded. A decoded user name may not contain `:` (RFC 7617 §2).
    /// - An IPv6 proxy address is written in brackets: `http://[::1]:3128`.
    /// - `https://` (TLS to the proxy) and `socks4://`/`socks5://` proxies are refused with
    ///   [`ProxyError::Unsupported`]; a path, query or fragment other than `/` is refused.
    pub fn parse(url: &str) -> Result<Proxy, ProxyError> {
        let url = url.trim();
        let (scheme, rest) = match url.find("://") {
            Some(i) => (&url[..i], &url[i + 3..]),
            None => ("http", url),
        };
        // Credentials end at the last '@': the host part after it holds no secret.
        let (userinfo, hostpart) = match rest.rfind('@') {
            Some(i) => (Some(&rest[..i]), &rest[i + 1..]),
            None => (None, rest),
        };
        let shown = || shown_url(url.contains("://").then_some(scheme), userinfo, hostpart);
        let bad = |reason: &str| ProxyError::BadUrl {
            url: shown(),
            reason: reason.to_string(),
        };
        match scheme.to_ascii_lowercase().as_str() {
            "http" => {}
            "https" => {
                return Err(ProxyError::Unsupported {
                    kind: "https:// (TLS to the proxy)",
                    url: shown(),
                });
            }
            "socks" | "socks4" | "socks4a" | "socks5" | "socks5h" => {
                return Err(ProxyError::Unsupported {
                    kind: "SOCKS",
                    url: shown(),
                });
            }
            _ => return Err(bad("the scheme must be http://")),
        }
        let end = hostpart.find(['/', '?', '#']).unwrap_or(hostpart.len());
        let (authority, tail) = hostpart.split_at(end);
        if !tail.is_empty() && tail != "/" {
            return Err(bad("a proxy URL has no path, query or fragment"));
        }
        let (host, port) = split_authority(authority).map_err(bad)?;
        let host = check_host(host).map_err(bad)?;
        let port = match port {
            None => DEFAULT_PORT,
            Some(p) => {
                parse_port(p).ok_or_else(|| bad("the port must be a number from 1 to 65535"))?
            }
        };
        let credentials = match userinfo {
            None => None,
            Some(info) => {
                let (user, password) = info.split_once(':').unwrap_or((info, ""));
                let user = percent_decode(user)
                    .ok_or_else(|| bad("the user name has an invalid %-escape"))?;
                let password = percent_decode(password)
                    .ok_or_else(|| bad("the password has an invalid %-escape"))?;
                if user.contains(&b':') {
                    return Err(bad("the user name may not contain ':' (RFC 7617)"));
                }
                Some(Credentials { user, password })
            }
        };
        Ok(Proxy {
            host,
            port,
            credentials,
        })
    }

    /// The URL with the password replaced by `***`: `http://user:***@host:port`. The user name
    /// is shown percent-encoded; a URL without a password shows none.
    pub fn redacted(&self) -> String {
        let creds = match &self.credentials {
            None => String::new(),
            Some(c) if c.password.is_empty() => format!("{}@", percent_encode(&c.user)),
            Some(c) => format!("{}:***@", percent_encode(&c.user)),
        };
        format!("http://{creds}{}", authority(&self.host, self.port))
    }

    /// Whether the URL carried credentials (a user name, with or without a password).
    pub fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }

    /// The `Proxy-Authorization` value: `Basic base64(user:password)` (RFC 7617 §2).
    fn authorization(&self) -> Option<String> {
        self.credentials.as_ref().map(|c| {
            let mut pair = c.user.clone();
            pair.push(b':');
            pair.extend_from_slice(&c.password);
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        })
    }
}

impl fmt::Display for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Proxy");
        d.field("host", &self.host).field("port", &self.port);
        if let Some(c) = &self.credentials {
            d.field("user", &percent_encode(&c.user));
            d.field("password", &if c.password.is_empty() { "" } else { "***" });
        }
        d.finish()
    }
}

/// The proxy for a connection: `flag` is `--proxy`'s value, which beats the environment (and
/// its `NO_PROXY`); `--proxy ''` means no proxy at all, like curl's `-x ""`. Without the flag,
/// [`from_env`] decides.
pub fn resolve(
    flag: Option<&str>,
    tls: bool,
    host: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Proxy>, ProxyError> {
    match flag {
        Some(url) if url.trim().is_empty() => Ok(None),
        Some(url) => Proxy::parse(url).map(Some),
        None => from_env(tls, host, env),
    }
}

/// The proxy for a target, from the environment like curl: for `wss://` targets
/// `https_proxy`, then `HTTPS_PROXY`; for `ws://` targets `http_proxy` only (curl never reads
/// `HTTP_PROXY`: a CGI program gets the request's `Proxy:` header under that name, so an
/// attacker could set it); then `all_proxy`, `ALL_PROXY`. The lower-case name wins when both
/// are set, and an empty variable counts as unset. No proxy is used when `no_proxy` (or, when
/// that is unset, `NO_PROXY`) matches `host`, the target's host name or IP address without
/// its port (see [`no_proxy_matches`]). `env` reads one
/// variable, so tests never touch the process environment.
pub fn from_env(
    tls: bool,
    host: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Proxy>, ProxyError> {
    let names: &[&'static str] = if tls {
        &["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
    } else {
        &["http_proxy", "all_proxy", "ALL_PROXY"]
    };
    let set = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let Some((var, url)) = names.iter().find_map(|&n| set(n).map(|v| (n, v))) else {
        return Ok(None);
    };
    let no_proxy = env("no_proxy").or_else(|| env("NO_PROXY"));
    if no_proxy.is_some_and(|list| no_proxy_matches(&list, host)) {
        return Ok(None);
    }
    Proxy::parse(&url).map(Some).map_err(|e| ProxyError::Env {
        var,
        source: Box::new(e),
    })
}

/// Whether a `NO_PROXY` list excludes `host`, as curl reads it: entries are separated by
/// commas or white space; an entry `*` matches every host (curl honours it only as the whole
/// list, wsprobe anywhere in it); a name matches itself and its
/// subdomains (`example.com` and `.example.com` both match `example.com` and
/// `www.example.com`, not `notexample.com`), case-insensitively, trailing dots ignored; an IP
/// address host is matched only by IP entries, exactly or by CIDR (`10.0.0.0/8`, `::1`,
/// `fd00::/8`; IPv6 entries without brackets, as curl asks, brackets tolerated). An entry with
/// a `:port` matches no host, as in curl, whose list holds host names only.
pub fn no_proxy_matches(list: &str, host: &str) -> bool {
    let host = host.trim();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.is_empty() {
        return false;
    }
    let ip = host.parse::<IpAddr>().ok();
    list.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|entry| !entry.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            match ip {
                Some(ip) => ip_matches(entry, ip),
                None => name_matches(entry, host),
            }
        })
}

fn name_matches(entry: &str, host: &str) -> bool {
    let entry = entry.strip_suffix('.').unwrap_or(entry);
    let entry = entry.strip_prefix('.').unwrap_or(entry);
    if entry.is_empty() || entry.len() > host.len() {
        return false;
    }
    let (head, tail) = host.split_at(host.len() - entry.len());
    tail.eq_ignore_ascii_case(entry) && (head.is_empty() || head.ends_with('.'))
}

fn ip_matches(entry: &str, ip: IpAddr) -> bool {
    let (addr, bits) = match entry.split_once('/') {
        Some((a, b)) => match b.parse::<u8>() {
            Ok(b) => (a, Some(b)),
            Err(_) => return false,
        },
        None => (entry, None),
    };
    let addr = addr
        .strip_prefix('[')
        .and_then(|a| a.strip_suffix(']'))
        .unwrap_or(addr);
    match (addr.parse::<IpAddr>(), ip) {
        (Ok(IpAddr::V4(net)), IpAddr::V4(ip)) => {
            prefix_eq(u32::from(net).into(), u32::from(ip).into(), bits, 32)
        }
        (Ok(IpAddr::V6(net)), IpAddr::V6(ip)) => {
            prefix_eq(u128::from(net), u128::from(ip), bits, 128)
        }
        _ => false,
    }
}

/// Whether the first `bits` of two `width`-bit addresses agree (all of them without `bits`,
/// or with 0, as curl reads `/0`); a prefix longer than the address matches nothing.
fn prefix_eq(net: u128, ip: u128, bits: Option<u8>, width: u32) -> bool {
    let bits = u32::from(bits.unwrap_or(0));
    let bits = if bits == 0 { width } else { bits };
    if bits > width {
        return false;
    }
    let shift = width - bits;
    net.checked_shr(shift).unwrap_or(0) == ip.checked_shr(shift).unwrap_or(0)
}

/// Opens TCP to `proxy`, asks it for a tunnel with `CONNECT host:port HTTP/1.1` (with `Host`,
/// and `Proxy-Authorization: Basic …` when the proxy URL had credentials), reads its response
/// head and returns the stream, ready for the tunnelled bytes.
///
/// The response head is consumed exactly and nothing after it: the head is read with `peek`
/// and only its own bytes are taken from the socket, so bytes the proxy sent after it (the
/// target's first bytes, should it speak first) stay in the stream for the caller. Any 2xx
/// status opens the tunnel (RFC 9110 §9.3.6); 407 is [`ProxyError::AuthRequired`], any other
/// status [`ProxyError::Refused`]. Every wait ends at `deadline` ([`ProxyError::Timeout`]).
pub async fn connect(
    proxy: &Proxy,
    host: &str,
    port: u16,
    deadline: Instant,
) -> Result<TcpStream, ProxyError> {
    let target = target_authority(host, port)?;
    let name = proxy.redacted();
    let timeout = |stage| ProxyError::Timeout {
        proxy: name.clone(),
        stage,
    };
    let io = |source| ProxyError::Io {
        proxy: name.clone(),
        source,
    };
    let mut stream = timeout_at(
        deadline,
        TcpStream::connect((proxy.host.as_str(), proxy.port)),
    )
    .await
    .map_err(|_| timeout("while connecting"))?
    .map_err(|source| ProxyError::Connect {
        proxy: name.clone(),
        source,
    })?;
    // The request is small and the response waits for it whole: no reason to delay segments.
    let _ = stream.set_nodelay(true);
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some(auth) = proxy.authorization() {
        request.push_str(&format!("Proxy-Authorization: {auth}\r\n"));
    }
    request.push_str("\r\n");
    timeout_at(deadline, stream.write_all(request.as_bytes()))
        .await
        .map_err(|_| timeout("while sending CONNECT"))?
        .map_err(io)?;
    let (status, reason) = timeout_at(deadline, read_head(&mut stream, &name))
        .await
        .map_err(|_| timeout("waiting for the answer to CONNECT"))??;
    match status {
        200..=299 => Ok(stream),
        407 => Err(ProxyError::AuthRequired {
            proxy: name,
            hint: if proxy.has_credentials() {
                "the proxy refused the user:password of the proxy URL"
            } else {
                "give user:password in the proxy URL"
            },
        }),
        _ => Err(ProxyError::Refused {
            proxy: name,
            target,
            status,
            reason,
        }),
    }
}

/// Reads one response head from `stream`, taking from the socket only the head's own bytes.
/// Returns the status and the (escaped, shortened) reason phrase.
async fn read_head(stream: &mut TcpStream, name: &str) -> Result<(u16, String), ProxyError> {
    let malformed = |reason: String| ProxyError::Malformed {
        proxy: name.to_string(),
        reason,
    };
    let io = |source| ProxyError::Io {
        proxy: name.to_string(),
        source,
    };
    let mut head: Vec<u8> = Vec::new();
    let mut peeked = vec![0u8; MAX_RESPONSE_HEAD];
    loop {
        let room = MAX_RESPONSE_HEAD - head.len();
        if room == 0 {
            return Err(malformed(format!(
                "the response head exceeds {MAX_RESPONSE_HEAD} bytes"
            )));
        }
        // Every peeked byte not taken below is taken before the next peek, so the peek waits
        // for new bytes instead of returning the same ones again.
        let n = stream.peek(&mut peeked[..room]).await.map_err(io)?;
        if n == 0 {
            return Err(ProxyError::Closed {
                proxy: name.to_string(),
            });
        }
        let mut candidate = head.clone();
        candidate.extend_from_slice(&peeked[..n]);
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(&candidate) {
            Ok(httparse::Status::Complete(len)) => {
                let status = response.code.unwrap_or(0);
                let reason = escape(response.reason.unwrap_or(""));
                let reason: String = reason.chars().take(MAX_REASON).collect();
                let take = len - head.len();
                stream.read_exact(&mut peeked[..take]).await.map_err(io)?;
                return Ok((status, reason));
            }
            Ok(httparse::Status::Partial) => {
                stream.read_exact(&mut peeked[..n]).await.map_err(io)?;
                head.extend_from_slice(&peeked[..n]);
            }
            Err(e) => {
                let first_line = candidate.split(|&b| b == b'\n').next().unwrap_or(&[]);
                let shown: String = escape(&String::from_utf8_lossy(first_line))
                    .chars()
                    .take(MAX_REASON)
                    .collect();
                return Err(malformed(format!("{e} (first line: {shown:?})")));
            }
        }
    }
}

/// A proxy URL that did not parse, fit for an error message: `user:password@` becomes `***@`
/// and a "port" that is not a number becomes `***`, since `http://alice:secret` (a forgotten
/// host) would otherwise show the password as a port. Control characters are escaped.
fn shown_url(scheme: Option<&str>, userinfo: Option<&str>, hostpart: &str) -> String {
    // Text before "://" that is no scheme (RFC 3986 §3.1) may be a password holding "://".
    let is_scheme = |s: &str| {
        s.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    };
    let scheme = match scheme {
        Some(s) if is_scheme(s) => format!("{s}://"),
        Some(_) => "***://".to_string(),
        None => String::new(),
    };
    let creds = if userinfo.is_some() { "***@" } else { "" };
    let end = hostpart.find(['/', '?', '#']).unwrap_or(hostpart.len());
    let (authority, tail) = hostpart.split_at(end);
    let port_at = if authority.starts_with('[') {
        authority.find("]:").map(|i| i + 1)
    } else {
        authority.find(':')
    };
    let authority = match port_at {
        Some(i) if !authority[i + 1..].bytes().all(|b| b.is_ascii_digit()) => {
            format!("{}:***", &authority[..i])
        }
        _ => authority.to_string(),
    };
    format!("{scheme}{creds}{}{}", escape(&authority), escape(tail))
}

/// `host:port` for a CONNECT request line and `Host` field, an IPv6 address in brackets;
/// refuses what would not be one token (RFC 9110 §9.3.6: the request target is
/// `uri-host:port`).
fn target_authority(host: &str, port: u16) -> Result<String, ProxyError> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let host = check_host(bare).map_err(|reason| ProxyError::BadTarget {
        target: escape(host),
        reason,
    })?;
    if port == 0 {
        return Err(ProxyError::BadTarget {
            target: escape(&host),
            reason: "port 0 cannot be reached",
        });
    }
    Ok(authority(&host, port))
}

fn authority(host: &str, port: u16) -> String {
    if host.parse::<Ipv6Addr>().is_ok() {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Splits `host[:port]` or `[v6]:port`; the port is returned unparsed.
fn split_authority(authority: &str) -> Result<(&str, Option<&str>), &'static str> {
    if let Some(rest) = authority.strip_prefix('[') {
        let (inner, after) = rest
            .split_once(']')
            .ok_or("an IPv6 address needs a closing ']'")?;
        if inner.parse::<Ipv6Addr>().is_err() {
            return Err("the address in brackets is not an IPv6 address");
        }
        return match after {
            "" => Ok((inner, None)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((inner, Some(port).filter(|p| !p.is_empty()))),
                None => Err("only ':port' may follow an IPv6 address"),
            },
        };
    }
    match authority.split_once(':') {
        None => Ok((authority, None)),
        Some((_, port)) if port.contains(':') => {
            Err("an IPv6 address must be written in brackets, e.g. http://[::1]:3128")
        }
        Some((host, port)) => Ok((host, Some(port).filter(|p| !p.is_empty()))),
    }
}

/// A host name or IP address fit for a URL authority and a request line, in lower case for
/// names; an IPv6 address is taken without brackets.
fn check_host(host: &str) -> Result<String, &'static str> {
    if host.is_empty() {
        return Err("the host is missing");
    }
    if let Ok(v6) = host.parse::<Ipv6Addr>() {
        return Ok(v6.to_string());
    }
    if let Ok(v4) = host.parse::<Ipv4Addr>() {
        return Ok(v4.to_string());
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~');
    if host.len() > 253 || !host.chars().all(allowed) {
        return Err("the host is not a valid host name or IP address");
    }
    Ok(host.to_ascii_lowercase())
}

fn parse_port(text: &str) -> Option<u16> {
    if text.is_empty() || text.len() > 5 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u16>().ok().filter(|&p| p != 0)
}

/// Decodes `%XX` escapes (the user information of proxy and target URLs); `None` for a `%` not
/// followed by two hex digits.
pub fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Encodes every byte but RFC 3986's unreserved characters, so a user name prints as one
/// harmless URL token whatever it holds.
fn percent_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Escapes control characters (`\n`, `\u{1b}`, …) so untrusted text stays on one line and
/// cannot drive a terminal.
fn escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

#[cfg(test)]
mod tests;
