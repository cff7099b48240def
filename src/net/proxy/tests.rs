use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use super::*;

/// Runs `f` on a fresh runtime, failing the test after 10 s instead of hanging.
fn block<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async { tokio::time::timeout(Duration::from_secs(10), f).await })
        .expect("the test finished within 10 s")
}

fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

fn creds(p: &Proxy) -> Option<(String, String)> {
    p.credentials.as_ref().map(|c| {
        (
            String::from_utf8_lossy(&c.user).into_owned(),
            String::from_utf8_lossy(&c.password).into_owned(),
        )
    })
}

#[test]
fn parse_accepts_curl_style_urls() {
    /// URL, host, port, user and password.
    type Row = (
        &'static str,
        &'static str,
        u16,
        Option<(&'static str, &'static str)>,
    );
    let rows: &[Row] = &[
        ("http://proxy.example:3128", "proxy.example", 3128, None),
        ("http://proxy.example:3128/", "proxy.example", 3128, None),
        ("proxy.example:3128", "proxy.example", 3128, None),
        ("http://proxy.example", "proxy.example", DEFAULT_PORT, None),
        ("http://proxy.example:", "proxy.example", DEFAULT_PORT, None),
        ("HTTP://Proxy.Example:8080", "proxy.example", 8080, None),
        ("  http://p:1  ", "p", 1, None),
        ("http://127.0.0.1:8080", "127.0.0.1", 8080, None),
        ("http://[::1]:3128", "::1", 3128, None),
        ("http://[::1]", "::1", DEFAULT_PORT, None),
        (
            "http://alice:s%40cret@p:1",
            "p",
            1,
            Some(("alice", "s@cret")),
        ),
        (
            "http://alice:p@ss/w@rd@p:1",
            "p",
            1,
            Some(("alice", "p@ss/w@rd")),
        ),
        ("http://al%20ice:x%3Ay@p:1", "p", 1, Some(("al ice", "x:y"))),
        ("http://alice@p:1", "p", 1, Some(("alice", ""))),
        ("http://alice:@p:1", "p", 1, Some(("alice", ""))),
        ("http://alice:pw@[::1]:9", "::1", 9, Some(("alice", "pw"))),
    ];
    for (url, host, port, expected) in rows {
        let p = Proxy::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(p.host, *host, "{url}");
        assert_eq!(p.port, *port, "{url}");
        let expected = expected.map(|(u, w)| (u.to_string(), w.to_string()));
        assert_eq!(creds(&p), expected, "{url}");
        assert_eq!(p.has_credentials(), expected.is_some(), "{url}");
    }
}

#[test]
fn parse_refuses_bad_and_unsupported_urls() {
    let rows: &[(&str, &str)] = &[
        ("", "the host is missing"),
        ("http://", "the host is missing"),
        ("http://:8080", "the host is missing"),
        ("ftp://p:21", "the scheme must be http://"),
        ("http://p:0", "the port must be a number from 1 to 65535"),
        (
            "http://p:65536",
            "the port must be a number from 1 to 65535",
        ),
        ("http://p:+80", "the port must be a number from 1 to 65535"),
        ("http://p:abc", "the port must be a number from 1 to 65535"),
        (
            "http://p/path",
            "a proxy URL has no path, query or fragment",
        ),
        (
            "http://p:1?x=1",
            "a proxy URL has no path, query or fragment",
        ),
        (
            "http://::1:80",
            "an IPv6 address must be written in brackets",
        ),
        ("http://[::1:80", "an IPv6 address needs a closing ']'"),
        (
            "http://[nope]:80",
            "the address in brackets is not an IPv6 address",
        ),
        ("http://[::1]x", "only ':port' may follow an IPv6 address"),
        (
            "http://p q:1",
            "the host is not a valid host name or IP address",
        ),
        (
            "http://p\u{1b}[31m:1",
            "the host is not a valid host name or IP address",
        ),
        ("http://a%zz:b@p", "the user name has an invalid %-escape"),
        ("http://a:b%2@p", "the password has an invalid %-escape"),
        (
            "http://a%3Ab:c@p",
            "the user name may not contain ':' (RFC 7617)",
        ),
    ];
    for (url, reason) in rows {
        match Proxy::parse(url) {
            Err(ProxyError::BadUrl { reason: got, .. }) => {
                assert!(got.starts_with(reason), "{url}: {got}")
            }
            other => panic!("{url}: {other:?}"),
        }
    }
    for (url, kind) in [
        ("https://p:443", "https://"),
        ("HTTPS://alice:pw@p", "https://"),
        ("socks5://p:1080", "SOCKS"),
        ("socks5h://p", "SOCKS"),
        ("socks4://p", "SOCKS"),
    ] {
        let err = Proxy::parse(url).expect_err(url);
        assert!(
            matches!(err, ProxyError::Unsupported { .. }),
            "{url}: {err:?}"
        );
        let text = err.to_string();
        assert!(text.starts_with(kind), "{url}: {text}");
        assert!(text.contains("not supported"), "{url}: {text}");
    }
}

#[test]
fn bad_url_messages_escape_control_characters() {
    let err = Proxy::parse("http://p\u{1b}[31m:1").expect_err("invalid host");
    let text = err.to_string();
    assert!(!text.contains('\u{1b}'), "{text}");
    assert!(text.contains("\\u{1b}"), "{text}");
}

#[test]
fn redacted_hides_the_password_and_keeps_the_rest() {
    let rows = [
        ("http://alice:s%40cret@p:1", "http://alice:***@p:1"),
        ("proxy.example", "http://proxy.example:1080"),
        ("http://alice@p:1", "http://alice@p:1"),
        ("http://al%20ice:x@[::1]:9", "http://al%20ice:***@[::1]:9"),
        ("http://a%1Bb:x@p:2", "http://a%1Bb:***@p:2"),
    ];
    for (url, expected) in rows {
        let p = Proxy::parse(url).expect(url);
        assert_eq!(p.redacted(), expected, "{url}");
        assert_eq!(p.to_string(), expected, "{url}");
    }
    let p = Proxy::parse("http://alice:s%40cret@p:1").expect("valid");
    assert_eq!(
        format!("{p:?}"),
        r#"Proxy { host: "p", port: 1, user: "alice", password: "***" }"#
    );
}

#[test]
fn authorization_is_basic_base64_of_user_colon_password() {
    let p = Proxy::parse("http://alice:s%40cret@p:1").expect("valid");
    assert_eq!(p.authorization().as_deref(), Some("Basic YWxpY2U6c0BjcmV0"));
    let p = Proxy::parse("http://p:1").expect("valid");
    assert_eq!(p.authorization(), None);
}

#[test]
fn from_env_reads_variables_like_curl() {
    let host = "ws.example";
    let pick = |tls: bool, vars: &[(&str, &str)]| {
        from_env(tls, host, &env_of(vars))
            .expect("valid")
            .map(|p| p.host)
    };
    let some = |h: &str| Some(h.to_string());
    // wss:// targets: https_proxy, then HTTPS_PROXY, then all_proxy, then ALL_PROXY.
    assert_eq!(pick(true, &[("https_proxy", "lower:1")]), some("lower"));
    assert_eq!(pick(true, &[("HTTPS_PROXY", "upper:1")]), some("upper"));
    assert_eq!(
        pick(
            true,
            &[("https_proxy", "lower:1"), ("HTTPS_PROXY", "upper:1")]
        ),
        some("lower")
    );
    assert_eq!(pick(true, &[("http_proxy", "plain:1")]), None);
    assert_eq!(
        pick(true, &[("http_proxy", "plain:1"), ("all_proxy", "all:1")]),
        some("all")
    );
    assert_eq!(pick(true, &[("ALL_PROXY", "ALL:1")]), some("all"));
    assert_eq!(
        pick(true, &[("all_proxy", "lower:1"), ("ALL_PROXY", "upper:1")]),
        some("lower")
    );
    assert_eq!(
        pick(true, &[("https_proxy", "tls:1"), ("all_proxy", "all:1")]),
        some("tls")
    );
    // ws:// targets: http_proxy in lower case only, then all_proxy/ALL_PROXY.
    assert_eq!(pick(false, &[("http_proxy", "plain:1")]), some("plain"));
    assert_eq!(pick(false, &[("HTTP_PROXY", "cgi:1")]), None);
    assert_eq!(
        pick(false, &[("HTTP_PROXY", "cgi:1"), ("ALL_PROXY", "all:1")]),
        some("all")
    );
    assert_eq!(pick(false, &[("https_proxy", "tls:1")]), None);
    // An empty variable counts as unset.
    assert_eq!(
        pick(true, &[("https_proxy", ""), ("HTTPS_PROXY", "upper:1")]),
        some("upper")
    );
    assert_eq!(pick(false, &[]), None);
}

#[test]
fn from_env_honours_no_proxy() {
    let pick = |host: &str, vars: &[(&str, &str)]| {
        from_env(true, host, &env_of(vars))
            .expect("valid")
            .is_some()
    };
    let proxy = ("https_proxy", "p:1");
    assert!(!pick("ws.example", &[proxy, ("no_proxy", "example")]));
    assert!(!pick("ws.example", &[proxy, ("NO_PROXY", ".example")]));
    assert!(pick("ws.example", &[proxy, ("no_proxy", "other.example")]));
    // The lower-case list wins over the upper-case one when both are set.
    assert!(pick(
        "ws.example",
        &[proxy, ("no_proxy", "other"), ("NO_PROXY", "*")]
    ));
    assert!(!pick("[::1]", &[proxy, ("no_proxy", "::1")]));
    // An excluded host never parses the proxy URL, so a bad one does not matter for it.
    assert!(
        from_env(
            true,
            "h",
            &env_of(&[("https_proxy", "socks5://x"), ("no_proxy", "*")])
        )
        .expect("excluded")
        .is_none()
    );
}

#[test]
fn from_env_names_the_variable_of_a_bad_url() {
    let err = from_env(false, "h", &env_of(&[("all_proxy", "socks5://s:1")])).expect_err("socks");
    assert!(
        matches!(
            err,
            ProxyError::Env {
                var: "all_proxy",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("all_proxy: SOCKS proxies are not supported"),
        "{err}"
    );
}

#[test]
fn resolve_prefers_the_flag_and_an_empty_flag_means_direct() {
    let env = env_of(&[("https_proxy", "envproxy:1"), ("no_proxy", "*")]);
    let flag = resolve(Some("flagproxy:2"), true, "h", &env).expect("valid");
    assert_eq!(flag.map(|p| p.host).as_deref(), Some("flagproxy"));
    assert!(
        resolve(Some(""), true, "h", &env)
            .expect("direct")
            .is_none()
    );
    let env = env_of(&[("https_proxy", "envproxy:1")]);
    assert!(
        resolve(Some(" "), true, "h", &env)
            .expect("direct")
            .is_none()
    );
    let from_env = resolve(None, true, "h", &env).expect("valid");
    assert_eq!(from_env.map(|p| p.host).as_deref(), Some("envproxy"));
    assert!(resolve(Some("https://p"), true, "h", &env).is_err());
}

#[test]
fn no_proxy_matching_follows_curl() {
    let rows: &[(&str, &str, bool)] = &[
        ("*", "anything.example", true),
        ("*", "10.0.0.1", true),
        ("example.com", "example.com", true),
        ("example.com", "www.example.com", true),
        (".example.com", "www.example.com", true),
        (".example.com", "example.com", true),
        ("example.com", "notexample.com", false),
        ("example.com", "example.com.org", false),
        ("EXAMPLE.com", "www.Example.COM", true),
        ("example.com.", "example.com", true),
        ("example.com", "www.example.com.", true),
        ("a.test,b.test", "b.test", true),
        ("a.test b.test", "x.b.test", true),
        (" a.test , , b.test ", "b.test", true),
        ("a.test,b.test", "c.test", false),
        ("", "example.com", false),
        ("*.example.com", "www.example.com", false),
        ("example.com:8080", "example.com", false),
        ("127.0.0.1", "127.0.0.1", true),
        ("127.0.0.1", "127.0.0.2", false),
        ("localhost", "127.0.0.1", false),
        ("127.0.0.1", "localhost", false),
        ("10.0.0.0/8", "10.1.2.3", true),
        ("10.0.0.0/8", "11.0.0.1", false),
        ("192.168.0.0/16", "192.168.7.9", true),
        ("10.0.0.0/33", "10.0.0.0", false),
        ("10.0.0.0/x", "10.0.0.0", false),
        ("::1", "[::1]", true),
        ("::1", "::1", true),
        ("[::1]", "::1", true),
        ("::1", "127.0.0.1", false),
        ("fd00::/8", "[fd12::1]", true),
        ("fd00::/8", "[fe80::1]", false),
        ("a.test", "", false),
    ];
    for (list, host, expected) in rows {
        assert_eq!(
            no_proxy_matches(list, host),
            *expected,
            "NO_PROXY={list:?} host={host:?}"
        );
    }
}

/// What the in-test proxy does after writing its scripted answer.
#[derive(Clone, Copy)]
enum After {
    /// Echo the tunnel's bytes back.
    Echo,
    /// Keep the connection open without a byte more.
    Hold,
    /// Close the connection.
    Close,
}

/// A one-connection proxy on 127.0.0.1:0 that answers with `chunks` (5 ms apart) whatever it
/// is asked, then does `after`; the receiver yields the request head it read.
async fn scripted(chunks: Vec<Vec<u8>>, after: After) -> (u16, oneshot::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.expect("accept");
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
            match s.read(&mut byte).await {
                Ok(1) => head.push(byte[0]),
                _ => break,
            }
        }
        let _ = tx.send(String::from_utf8_lossy(&head).into_owned());
        for (i, chunk) in chunks.iter().enumerate() {
            if i > 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            if s.write_all(chunk).await.is_err() {
                return;
            }
        }
        match after {
            After::Echo => {
                let (mut r, mut w) = s.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            }
            After::Hold => tokio::time::sleep(Duration::from_secs(30)).await,
            After::Close => drop(s),
        }
    });
    (port, rx)
}

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(5)
}

fn proxy_at(port: u16, userinfo: &str) -> Proxy {
    Proxy::parse(&format!("http://{userinfo}127.0.0.1:{port}")).expect("valid proxy URL")
}

async fn round_trip(stream: &mut TcpStream, bytes: &[u8]) -> Vec<u8> {
    stream.write_all(bytes).await.expect("write");
    let mut back = vec![0u8; bytes.len()];
    stream.read_exact(&mut back).await.expect("read");
    back
}

#[test]
fn connect_with_credentials_sends_basic_authorization_and_tunnels() {
    block(async {
        let ok = b"HTTP/1.1 200 Connection established\r\n\r\n".to_vec();
        let (port, head) = scripted(vec![ok], After::Echo).await;
        let proxy = proxy_at(port, "alice:s%40cret@");
        let mut stream = connect(&proxy, "example.test", 443, soon())
            .await
            .expect("tunnel");
        assert_eq!(
            head.await.expect("request head"),
            "CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\
             Proxy-Authorization: Basic YWxpY2U6c0BjcmV0\r\n\r\n"
        );
        assert_eq!(round_trip(&mut stream, b"through").await, b"through");
    });
}

#[test]
fn connect_without_credentials_sends_no_authorization_and_brackets_ipv6() {
    for target in ["::1", "[::1]"] {
        block(async {
            let ok = b"HTTP/1.0 200 OK\r\nProxy-Agent: t\r\n\r\n".to_vec();
            let (port, head) = scripted(vec![ok], After::Echo).await;
            let mut stream = connect(&proxy_at(port, ""), target, 8443, soon())
                .await
                .expect("tunnel");
            assert_eq!(
                head.await.expect("request head"),
                "CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n"
            );
            assert_eq!(round_trip(&mut stream, b"x").await, b"x");
        });
    }
}

#[test]
fn connect_reads_a_head_arriving_in_pieces_and_keeps_the_bytes_after_it() {
    block(async {
        let chunks = [
            "HTTP/1.1 2",
            "00 OK\r",
            "\nVia: t\r\n",
            "\r\nEARLY",
            "-LATE",
        ];
        let chunks = chunks.iter().map(|c| c.as_bytes().to_vec()).collect();
        let (port, _head) = scripted(chunks, After::Hold).await;
        let mut stream = connect(&proxy_at(port, ""), "h", 80, soon())
            .await
            .expect("tunnel");
        let mut early = [0u8; 10];
        stream
            .read_exact(&mut early)
            .await
            .expect("bytes after head");
        assert_eq!(&early, b"EARLY-LATE");
    });
}

async fn connect_error(chunks: &[&[u8]], after: After, userinfo: &str) -> ProxyError {
    let chunks = chunks.iter().map(|c| c.to_vec()).collect();
    let (port, _head) = scripted(chunks, after).await;
    connect(&proxy_at(port, userinfo), "example.test", 443, soon())
        .await
        .expect_err("CONNECT fails")
}

#[test]
fn connect_407_asks_for_credentials() {
    block(async {
        let answer: &[u8] = b"HTTP/1.1 407 Proxy Authentication Required\r\n\
            Proxy-Authenticate: Basic realm=\"t\"\r\nContent-Length: 0\r\n\r\n";
        let err = connect_error(&[answer], After::Hold, "").await;
        assert!(matches!(err, ProxyError::AuthRequired { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!(
                "proxy {} answered 407: proxy authentication required \
                 (give user:password in the proxy URL)",
                match &err {
                    ProxyError::AuthRequired { proxy, .. } => proxy.as_str(),
                    _ => "",
                }
            )
        );
        let err = connect_error(&[answer], After::Hold, "alice:wrong@").await;
        assert!(
            err.to_string()
                .ends_with("(the proxy refused the user:password of the proxy URL)"),
            "{err}"
        );
    });
}

#[test]
fn connect_403_is_refused_with_status_and_reason() {
    block(async {
        let err = connect_error(&[b"HTTP/1.1 403 Forbidden\r\n\r\n"], After::Close, "").await;
        match &err {
            ProxyError::Refused {
                status,
                reason,
                target,
                ..
            } => {
                assert_eq!((*status, reason.as_str()), (403, "Forbidden"));
                assert_eq!(target, "example.test:443");
            }
            other => panic!("{other:?}"),
        }
        assert!(
            err.to_string()
                .ends_with("refused CONNECT example.test:443: 403 Forbidden"),
            "{err}"
        );
    });
}

#[test]
fn connect_garbage_is_a_malformed_response() {
    block(async {
        let err = connect_error(&[b"SSH-2.0-OpenSSH_9.6\r\n\r\n"], After::Hold, "").await;
        assert!(matches!(err, ProxyError::Malformed { .. }), "{err:?}");
        assert!(err.to_string().contains("SSH-2.0-OpenSSH_9.6"), "{err}");
    });
}

#[test]
fn connect_oversized_head_is_malformed() {
    block(async {
        let mut answer = b"HTTP/1.1 200 OK\r\nX-Filler: ".to_vec();
        answer.resize(MAX_RESPONSE_HEAD + 100, b'a');
        let err = connect_error(&[&answer], After::Hold, "").await;
        assert!(
            err.to_string().ends_with(&format!(
                "the response head exceeds {MAX_RESPONSE_HEAD} bytes"
            )),
            "{err}"
        );
    });
}

#[test]
fn connect_proxy_closing_early_is_reported() {
    block(async {
        let err = connect_error(&[], After::Close, "").await;
        assert!(matches!(err, ProxyError::Closed { .. }), "{err:?}");
        let err = connect_error(&[b"HTTP/1.1 200"], After::Close, "").await;
        assert!(matches!(err, ProxyError::Closed { .. }), "{err:?}");
        assert!(
            err.to_string()
                .ends_with("closed the connection before answering CONNECT"),
            "{err}"
        );
    });
}

#[test]
fn connect_silent_proxy_times_out_at_the_deadline() {
    block(async {
        let (port, _head) = scripted(vec![], After::Hold).await;
        let deadline = Instant::now() + Duration::from_millis(200);
        let err = connect(&proxy_at(port, ""), "h", 80, deadline)
            .await
            .expect_err("no answer");
        assert!(Instant::now() >= deadline, "returned before the deadline");
        assert!(
            matches!(
                err,
                ProxyError::Timeout {
                    stage: "waiting for the answer to CONNECT",
                    ..
                }
            ),
            "{err:?}"
        );
    });
}

#[test]
fn connect_to_a_closed_port_is_a_connect_error() {
    block(async {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("address").port()
        };
        let err = connect(&proxy_at(port, ""), "h", 80, soon())
            .await
            .expect_err("nothing listens");
        assert!(matches!(err, ProxyError::Connect { .. }), "{err:?}");
        assert!(
            err.to_string()
                .starts_with("cannot connect to proxy http://127.0.0.1:")
        );
    });
}

#[test]
fn connect_refuses_targets_that_would_inject_into_the_request() {
    block(async {
        for (host, port) in [("evil\r\nX: y", 80), ("a b", 80), ("", 80), ("h", 0)] {
            let err = connect(&proxy_at(1, ""), host, port, soon())
                .await
                .expect_err("bad target");
            assert!(matches!(err, ProxyError::BadTarget { .. }), "{err:?}");
            assert!(!err.to_string().contains('\n'), "{err}");
        }
    });
}

#[test]
fn the_password_appears_in_no_error_and_no_rendering() {
    const SECRET: &str = "hunter2";
    let mut errors: Vec<ProxyError> = [
        "http://alice:hunter2@p:99999",
        "http://alice:hunter2@p/path",
        "http://alice:hunter2@",
        "http://alice:hunter2@[::1",
        "http://alice:hunter2%zz@p",
        "http://alice%3A:hunter2@p",
        "https://alice:hunter2@p",
        "socks5://alice:hunter2@p",
        "ftp://alice:hunter2@p",
        "http://alice:hunter2",
        "http://alice:hunter2/",
        "alice:hunter2",
        "http://alice:hunt/er2@p:x",
        "alice:hunter2://x@p",
        "alice:hunter2://x",
    ]
    .iter()
    .map(|url| Proxy::parse(url).expect_err(url))
    .collect();
    errors.push(
        from_env(
            false,
            "h",
            &env_of(&[("http_proxy", "http://alice:hunter2@p:0")]),
        )
        .expect_err("bad port"),
    );
    block(async {
        let user = "alice:hunter2@";
        let ok: &[u8] = b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n";
        errors.push(connect_error(&[ok], After::Hold, user).await);
        errors.push(connect_error(&[b"HTTP/1.1 403 No\r\n\r\n"], After::Hold, user).await);
        errors.push(connect_error(&[b"garbage\r\n\r\n"], After::Hold, user).await);
        errors.push(connect_error(&[], After::Close, user).await);
        let (port, _head) = scripted(vec![], After::Hold).await;
        let soon = Instant::now() + Duration::from_millis(50);
        errors.push(
            connect(&proxy_at(port, user), "h", 80, soon)
                .await
                .expect_err("timeout"),
        );
        errors.push(
            connect(&proxy_at(port, user), "bad host", 80, soon)
                .await
                .expect_err("bad target"),
        );
    });
    assert_eq!(errors.len(), 22);
    for err in &errors {
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(!text.contains(SECRET), "password shown: {text}");
            assert!(!text.contains('\n'), "not one line: {text}");
        }
    }
    let proxy = Proxy::parse("http://alice:hunter2@p:1").expect("valid");
    for text in [
        proxy.to_string(),
        format!("{proxy:?}"),
        format!("{proxy:#?}"),
        proxy.redacted(),
    ] {
        assert!(!text.contains(SECRET), "password shown: {text}");
        assert!(text.contains("alice"), "user hidden: {text}");
    }
}
