//! wss://: the built-in suites over TLS give the verdicts they give over TCP, each kind of TLS
//! failure is one clear line with exit 3, chopped writes stay chopped at the TLS record level,
//! client certificates are presented, URL credentials become Basic authorization and never
//! appear in any output, and `run --client --tls` judges a client that speaks TLS.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{verdicts, wsprobe};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wsprobe::net::ServerTls;
use wsprobe::serve::{ServeConfig, ServeMode, Server};

const LIMIT: Duration = Duration::from_secs(600);
const SHORT: Duration = Duration::from_secs(60);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn echo_config() -> ServeConfig {
    ServeConfig {
        host: "127.0.0.1".into(),
        port: 0,
        mode: ServeMode::Echo,
        max_message_size: 64 << 20,
    }
}

/// A certificate and key written as PEM files into `dir`.
struct Pem {
    cert: PathBuf,
    key: PathBuf,
}

fn write_pem(dir: &Path, name: &str, params: rcgen::CertificateParams) -> Pem {
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = params.self_signed(&key).expect("certificate");
    let pem = Pem {
        cert: dir.join(format!("{name}.crt")),
        key: dir.join(format!("{name}.key")),
    };
    std::fs::write(&pem.cert, cert.pem()).expect("write cert");
    std::fs::write(&pem.key, key.serialize_pem()).expect("write key");
    pem
}

/// Self-signed certificate parameters for `names`, with the first name as common name (so no
/// two test certificates share an issuer name).
fn params(names: &[&str]) -> rcgen::CertificateParams {
    let mut p =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .expect("params");
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, names[0]);
    p.distinguished_name = dn;
    p
}

/// Per-case verdicts of a `--format json` run.
#[test]
fn built_in_suites_give_the_same_verdicts_over_tls_as_over_tcp() {
    let _serial = common::heavy();
    let tls = wsprobe(&["run", "--tls", "--format", "json"], LIMIT);
    assert_eq!(tls.code, 0, "{}\n{}", tls.stdout, tls.stderr);
    let plain = wsprobe(&["run", "--format", "json"], LIMIT);
    assert_eq!(plain.code, 0, "{}\n{}", plain.stdout, plain.stderr);
    let (tls, plain) = (verdicts(&tls.stdout), verdicts(&plain.stdout));
    assert!(plain.len() > 500, "{} cases", plain.len());
    assert_eq!(tls, plain);
}

#[test]
fn serve_tls_prints_a_wss_url_and_a_certificate_to_trust() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wsprobe"))
        .args(["serve", "--tls", "--port", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wsprobe serve starts");
    let mut url = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut url)
        .expect("url line");
    let mut err = BufReader::new(child.stderr.take().expect("stderr"));
    let (mut fingerprint, mut trust) = (String::new(), String::new());
    err.read_line(&mut fingerprint).expect("fingerprint line");
    err.read_line(&mut trust).expect("trust line");
    let url = url.trim();
    assert!(url.starts_with("wss://127.0.0.1:"), "{url}");
    assert!(
        fingerprint.contains("(self-signed) SHA-256 "),
        "{fingerprint}"
    );
    let ca = trust
        .trim()
        .strip_prefix("wsprobe: trust it with --ca ")
        .expect("a --ca path")
        .to_string();
    let pem = std::fs::read(&ca).expect("the PEM file exists");
    let der = CertificateDer::pem_slice_iter(&pem)
        .next()
        .expect("a certificate")
        .expect("PEM");
    assert!(
        fingerprint.contains(&wsprobe::net::tls::fingerprint(der.as_ref())),
        "{fingerprint}"
    );
    let out = wsprobe(
        &["run", "--target", url, "--ca", &ca, "--case", "framing.*"],
        SHORT,
    );
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains(" 0 failed"), "{}", out.stdout);
    assert!(!out.stdout.contains("INSECURE"), "{}", out.stdout);
}

/// `run --target URL` with `args` against whatever listens there: exit code and stderr.
fn failure(url: &str, args: &[&str]) -> (i32, String) {
    let mut all = vec!["run", "--target", url, "--case", "framing.*"];
    all.extend_from_slice(args);
    let out = wsprobe(&all, SHORT);
    (out.code, out.stderr)
}

/// Starts the echo server over TLS with the certificate and key of `pem`.
fn tls_server(rt: &tokio::runtime::Runtime, pem: &Pem) -> Server {
    let tls = ServerTls::from_files(&pem.cert, &pem.key).expect("server TLS");
    rt.block_on(Server::start_with_tls(echo_config(), Some(tls)))
        .expect("server starts")
}

#[test]
fn each_tls_failure_is_one_line_with_exit_3() {
    let dir = common::temp_dir();
    let rt = runtime();
    let good = write_pem(dir.path(), "good", params(&["127.0.0.1", "localhost"]));
    let other = write_pem(dir.path(), "other", params(&["wsprobe.invalid"]));
    let mut old = params(&["127.0.0.1"]);
    old.not_before = rcgen::date_time_ymd(2020, 1, 1);
    old.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let expired = write_pem(dir.path(), "expired", old);
    let unrelated = write_pem(dir.path(), "unrelated", params(&["unrelated.invalid"]));
    let mut ca_params = params(&["127.0.0.1"]);
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_as_server = write_pem(dir.path(), "ca-as-server", ca_params);
    let ca_server = tls_server(&rt, &ca_as_server);
    let good_server = tls_server(&rt, &good);
    let other_server = tls_server(&rt, &other);
    let expired_server = tls_server(&rt, &expired);
    let plain_server = rt
        .block_on(Server::start(echo_config()))
        .expect("server starts");
    // Answers every hello with a fatal handshake_failure alert (RFC 8446 §6.2).
    let refusing = common::raw_server(|mut s| async move {
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf).await;
        let _ = s.write_all(&[21, 3, 3, 0, 2, 2, 40]).await;
    });
    let port = |s: &Server| s.local_addr().port();
    let wss = |p: u16| format!("wss://127.0.0.1:{p}/");
    let unrelated_ca = unrelated.cert.to_str().expect("utf-8 path").to_string();
    let cases: Vec<(String, Vec<String>, &str)> = vec![
        (
            wss(port(&good_server)),
            // A trust store that does not hold the server's issuer, whatever the machine has.
            vec!["--ca".into(), unrelated_ca.clone()],
            "the certificate of 127.0.0.1 is not trusted: unknown issuer",
        ),
        (
            wss(port(&other_server)),
            vec!["--ca".into(), other.cert.display().to_string()],
            "the certificate is not valid for the name '127.0.0.1'",
        ),
        (
            wss(port(&expired_server)),
            vec!["--ca".into(), expired.cert.display().to_string()],
            "the certificate has expired (valid until 2021-01-01",
        ),
        (
            wss(port(&ca_server)),
            vec!["--ca".into(), ca_as_server.cert.display().to_string()],
            "the server presents a CA certificate as its own",
        ),
        (
            refusing.url.replace("ws://", "wss://"),
            vec!["--insecure".into()],
            "the server refused the handshake (handshake_failure alert",
        ),
        (
            // Plain HTTP on the TLS port.
            format!("ws://127.0.0.1:{}/", port(&good_server)),
            vec![],
            "answered the WebSocket handshake with TLS, not HTTP: it is a TLS port (use wss://)",
        ),
        (
            // TLS on the plain port.
            wss(port(&plain_server)),
            vec!["--insecure".into()],
            "(a plain ws:// server? then use ws://)",
        ),
    ];
    for (url, args, message) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, stderr) = failure(&url, &args);
        assert_eq!(code, 3, "{url} {args:?}: {stderr}");
        assert!(stderr.contains(message), "{url} {args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
    // The same servers pass when trusted.
    let good_ca = good.cert.display().to_string();
    let (code, stderr) = failure(&wss(port(&good_server)), &["--ca", &good_ca]);
    assert_eq!(code, 0, "{stderr}");
    let insecure = wsprobe(
        &[
            "run",
            "--target",
            &wss(port(&other_server)),
            "--insecure",
            "--case",
            "framing.*",
        ],
        SHORT,
    );
    assert_eq!(insecure.code, 0, "{}", insecure.stderr);
    assert!(
        insecure
            .stdout
            .contains("[INSECURE: TLS certificate not verified (--insecure)]"),
        "{}",
        insecure.stdout
    );
    for s in [
        good_server,
        other_server,
        expired_server,
        plain_server,
        ca_server,
    ] {
        rt.block_on(s.shutdown());
    }
}

/// What a [`relay`] saw the client send.
#[derive(Default)]
struct Upstream {
    /// TLS records: (content type, length).
    records: Vec<(u8, usize)>,
    /// Every byte.
    bytes: Vec<u8>,
}

/// A TCP relay from a local port to `to` that records what the client sends.
fn relay(rt: &tokio::runtime::Runtime, to: std::net::SocketAddr) -> (u16, Arc<Mutex<Upstream>>) {
    let records = Arc::new(Mutex::new(Upstream::default()));
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen = Arc::clone(&records);
    rt.spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let Ok(server) = tokio::net::TcpStream::connect(to).await else {
                continue;
            };
            let seen = Arc::clone(&seen);
            tokio::spawn(async move {
                let (mut sr, mut sw) = server.into_split();
                let (mut cr, mut cw) = client.split();
                let up = async {
                    let mut pending = Vec::new();
                    let mut buf = vec![0u8; 65536];
                    loop {
                        let n = match cr.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        pending.extend_from_slice(&buf[..n]);
                        seen.lock()
                            .expect("lock")
                            .bytes
                            .extend_from_slice(&buf[..n]);
                        while pending.len() >= 5 {
                            let len = usize::from(u16::from_be_bytes([pending[3], pending[4]]));
                            if pending.len() < 5 + len {
                                break;
                            }
                            seen.lock().expect("lock").records.push((pending[0], len));
                            pending.drain(..5 + len);
                        }
                        if sw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    let _ = sw.shutdown().await;
                };
                let down = async {
                    let _ = tokio::io::copy(&mut sr, &mut cw).await;
                    let _ = cw.shutdown().await;
                };
                tokio::join!(up, down);
            });
        }
    });
    (port, records)
}

#[test]
fn chopped_writes_stay_chopped_at_the_tls_record_level() {
    let dir = common::temp_dir();
    let rt = runtime();
    let pem = write_pem(dir.path(), "srv", params(&["127.0.0.1"]));
    let server = tls_server(&rt, &pem);
    let (port, upstream) = relay(&rt, server.local_addr());
    // Autobahn 5.5: two fragments of 15 bytes each (2 header, 4 mask, 9 payload), written one
    // byte per write.
    let ca = pem.cert.display().to_string();
    let url = format!("wss://127.0.0.1:{port}/");
    let out = wsprobe(
        &[
            "run",
            "--target",
            &url,
            "--ca",
            &ca,
            "--case",
            "fragmentation.text-two-fragments-octet-wise",
        ],
        SHORT,
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    // TLS 1.3 application data records (type 23) of one plaintext byte: 1 byte, the inner
    // content type, the 16-byte AEAD tag.
    let seen = upstream.lock().expect("lock").records.clone();
    let one_byte = seen
        .iter()
        .filter(|(t, len)| *t == 23 && *len == 18)
        .count();
    assert!(one_byte >= 30, "records seen: {seen:?}");
    rt.block_on(server.shutdown());
}

#[test]
fn a_client_certificate_is_presented_when_the_server_requires_one() {
    let dir = common::temp_dir();
    let rt = runtime();
    let ca_pem = write_pem(dir.path(), "server", params(&["127.0.0.1"]));
    let client_pem = write_pem(dir.path(), "client", params(&["wsprobe-client"]));
    // A TLS server that requires a client certificate signed by (here: equal to) the client's
    // own self-signed certificate, then answers one WebSocket handshake and echoes nothing.
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(&client_pem.cert).expect("pem") {
        roots.add(c.expect("cert")).expect("root");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        Arc::clone(&provider),
    )
    .build()
    .expect("verifier");
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&ca_pem.cert)
        .expect("pem")
        .map(|c| c.expect("cert"))
        .collect();
    let key = PrivateKeyDer::from_pem_file(&ca_pem.key).expect("key");
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .expect("config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    rt.spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(Ok(mut tls)) =
                    tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await
                else {
                    return;
                };
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&head).to_string();
                let key = text
                    .lines()
                    .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
                    .unwrap_or("")
                    .trim()
                    .to_string();
                let response = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: \
                     Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
                    wsprobe::wire::handshake::accept_for_key(&key)
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.flush().await;
                let _ = tokio::time::timeout(Duration::from_secs(5), tls.read(&mut buf)).await;
            });
        }
    });
    let url = format!("wss://127.0.0.1:{port}/");
    let ca = ca_pem.cert.display().to_string();
    let (code, stderr) = failure(&url, &["--ca", &ca]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("requires a client certificate (give one with --cert FILE --key FILE)"),
        "{stderr}"
    );
    // With the certificate the TLS handshake and the preflight WebSocket handshake succeed;
    // the case then runs (its verdict does not matter here: the server does not echo).
    let (cert, key) = (
        client_pem.cert.display().to_string(),
        client_pem.key.display().to_string(),
    );
    let out = wsprobe(
        &[
            "run",
            "--target",
            &url,
            "--ca",
            &ca,
            "--cert",
            &cert,
            "--key",
            &key,
            "--case",
            "framing.text-0",
        ],
        SHORT,
    );
    assert!(
        out.code == 0 || out.code == 1,
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    assert!(!out.stderr.contains("TLS handshake"), "{}", out.stderr);
}

#[test]
fn url_credentials_become_basic_authorization_and_appear_in_no_output() {
    let dir = common::temp_dir();
    let rt = runtime();
    // Plain TCP, so the relay in front of the echo server sees the requests.
    let server = rt
        .block_on(Server::start(echo_config()))
        .expect("server starts");
    let (port, upstream) = relay(&rt, server.local_addr());
    let reports = dir.path().join("reports");
    let traces = dir.path().join("traces");
    std::fs::create_dir_all(&reports).expect("dir");
    let json = reports.join("r.json");
    let junit = reports.join("r.xml");
    let url = format!("ws://alice:pa55-w0rd@127.0.0.1:{port}/");
    let out = wsprobe(
        &[
            "run",
            "--target",
            &url,
            "--case",
            "framing.*",
            "-v",
            "--report",
            &format!("json={}", json.display()),
            "--report",
            &format!("junit={}", junit.display()),
            "--traces",
            traces.to_str().expect("path"),
        ],
        SHORT,
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("ws://alice:***@127.0.0.1:"),
        "{}",
        out.stdout
    );
    // base64("alice:pa55-w0rd")
    let token = "YWxpY2U6cGE1NS13MHJk";
    let sent = String::from_utf8_lossy(&upstream.lock().expect("lock").bytes).to_string();
    let header = format!("Authorization: Basic {token}\r\n");
    assert!(
        sent.matches(&header).count() >= 2,
        "every handshake (preflight and cases) carries it: {sent}"
    );
    let mut texts = vec![out.stdout.clone(), out.stderr.clone()];
    for f in [&json, &junit] {
        texts.push(std::fs::read_to_string(f).expect("report"));
    }
    for entry in std::fs::read_dir(&traces).expect("traces") {
        texts.push(std::fs::read_to_string(entry.expect("entry").path()).expect("trace"));
    }
    for text in &texts {
        assert!(!text.contains("pa55-w0rd"), "{text}");
        assert!(!text.contains(token), "{text}");
    }
    rt.block_on(server.shutdown());
}

/// Opens a TLS connection to `url`'s host and port trusting only `ca`, and runs the WebSocket
/// handshake over it with tokio-tungstenite.
async fn wss_connect(
    url: &str,
    ca: &Path,
) -> Option<
    tokio_tungstenite::WebSocketStream<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>,
> {
    let authority = url
        .trim_start_matches("wss://")
        .split('/')
        .next()
        .expect("authority");
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca).expect("pem") {
        roots.add(c.expect("cert")).expect("root");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(authority).await.ok()?;
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("name");
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .ok()?;
    tokio_tungstenite::client_async(url, tls)
        .await
        .ok()
        .map(|(ws, _)| ws)
}

#[test]
fn run_client_tls_judges_a_client_that_speaks_tls() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let mut child = Command::new(env!("CARGO_BIN_EXE_wsprobe"))
        .args([
            "run",
            "--client",
            "--tls",
            "--listen",
            "127.0.0.1:0",
            "--case",
            "1.1.*",
            "--format",
            "json",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wsprobe starts");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut url = String::new();
    out.read_line(&mut url).expect("url line");
    let url = url.trim().to_string();
    assert!(url.starts_with("wss://127.0.0.1:"), "{url}");
    let mut err = BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    let ca = loop {
        line.clear();
        assert!(
            err.read_line(&mut line).expect("stderr") > 0,
            "no --ca line"
        );
        if let Some(path) = line.trim().strip_prefix("wsprobe: trust it with --ca ") {
            break PathBuf::from(path);
        }
    };
    let rt = runtime();
    rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(120), async {
            let mut ws = wss_connect(&format!("{url}/getCaseCount"), &ca)
                .await
                .expect("getCaseCount over TLS");
            let count: usize = match ws.next().await {
                Some(Ok(Message::Text(t))) => t.parse().expect("a number"),
                other => panic!("getCaseCount answered {other:?}"),
            };
            assert_eq!(count, 8);
            for case in 1..=count {
                let Some(mut ws) =
                    wss_connect(&format!("{url}/runCase?case={case}&agent=tls-test"), &ca).await
                else {
                    continue;
                };
                while let Some(Ok(msg)) = ws.next().await {
                    if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
                        break;
                    }
                }
            }
            let mut ws = wss_connect(&format!("{url}/updateReports?agent=tls-test"), &ca)
                .await
                .expect("updateReports");
            while let Some(Ok(_)) = ws.next().await {}
        })
        .await
        .expect("the harness finishes in time");
    });
    let mut rest = String::new();
    out.read_to_string(&mut rest).expect("stdout");
    let status = child.wait().expect("wsprobe exits");
    assert_eq!(status.code(), Some(0), "{rest}");
    let verdicts = verdicts(&rest);
    assert_eq!(
        verdicts.values().filter(|v| *v == "PASS").count(),
        verdicts.len(),
        "{rest}"
    );
    assert!(verdicts.len() >= 8, "{rest}");
    assert!(!ca.exists(), "the certificate file is removed at the end");
}

#[test]
fn the_reference_client_runs_over_tls_against_run_client_tls() {
    // `run --client --tls --exec` hands the harness its certificate in WSPROBE_CA, which
    // `wsprobe client` trusts.
    let exe = env!("CARGO_BIN_EXE_wsprobe");
    let out = wsprobe(
        &[
            "run",
            "--client",
            "--tls",
            "--listen",
            "127.0.0.1:0",
            "--case",
            "1.*",
            "--case",
            "2.*",
            "--exec",
            &format!("'{exe}' client -q"),
        ],
        SHORT,
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.starts_with("wss://127.0.0.1:"), "{}", out.stdout);
    assert!(out.stdout.contains(" 0 failed"), "{}", out.stdout);
    // Without the certificate the client cannot connect, and says why.
    let out = wsprobe(
        &[
            "run",
            "--client",
            "--tls",
            "--listen",
            "127.0.0.1:0",
            "--case",
            "1.1.1",
            "--run-timeout",
            "20s",
            "--exec",
            &format!("WSPROBE_CA= '{exe}' client -q --ca /nonexistent.pem"),
        ],
        SHORT,
    );
    assert_ne!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("/nonexistent.pem"), "{}", out.stderr);
}
