//! The test CONNECT proxy (`tests/common/proxy.rs`) against wsprobe's proxy client
//! (`wsprobe::net::proxy`): tunnels carry bytes both ways, credentials and refusals are
//! answered as configured, requests are recorded, only loopback targets are tunnelled, and a
//! dropped proxy stops listening.

mod common;

use std::future::Future;
use std::time::Duration;

use common::proxy::{ConnectProxy, ConnectRecord, basic};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::time::Instant;
use wsprobe::net::proxy::{self, Proxy, ProxyError};

/// Runs `f` on a fresh runtime, failing the test after 20 s instead of hanging.
fn block<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async { tokio::time::timeout(Duration::from_secs(20), f).await })
        .expect("the test finished within 20 s")
}

/// An echo server on 127.0.0.1:0 on the current runtime; returns its port.
async fn echo_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = s.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    port
}

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

#[test]
fn a_tunnel_with_credentials_echoes_both_ways_and_is_recorded() {
    let test_proxy = ConnectProxy::requiring("alice", "s3cret");
    block(async {
        let port = echo_server().await;
        let proxy = Proxy::parse(&test_proxy.url_with("alice:s3cret")).expect("proxy URL");
        let mut stream = proxy::connect(&proxy, "127.0.0.1", port, soon())
            .await
            .expect("tunnel");
        let payload: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
        let (mut r, mut w) = stream.split();
        let write = async {
            w.write_all(&payload).await.expect("write");
        };
        let read = async {
            let mut back = vec![0u8; payload.len()];
            r.read_exact(&mut back).await.expect("read");
            back
        };
        let ((), back) = tokio::join!(write, read);
        assert!(back == payload, "the echo differs from what was sent");
        let target = format!("127.0.0.1:{port}");
        assert_eq!(
            test_proxy.requests(),
            vec![ConnectRecord {
                method: "CONNECT".into(),
                target: target.clone(),
                host: Some(target),
                authorization: Some("Basic YWxpY2U6czNjcmV0".into()),
            }]
        );
        assert_eq!(basic("alice", "s3cret"), "Basic YWxpY2U6czNjcmV0");
    });
}

#[test]
fn missing_or_wrong_credentials_get_407() {
    let test_proxy = ConnectProxy::requiring("alice", "s3cret");
    block(async {
        let port = echo_server().await;
        for (url, hint) in [
            (test_proxy.url(), "give user:password in the proxy URL"),
            (
                test_proxy.url_with("alice:wrong"),
                "the proxy refused the user:password of the proxy URL",
            ),
        ] {
            let proxy = Proxy::parse(&url).expect("proxy URL");
            let err = proxy::connect(&proxy, "127.0.0.1", port, soon())
                .await
                .expect_err("407");
            assert!(
                matches!(&err, ProxyError::AuthRequired { hint: h, .. } if *h == hint),
                "{err:?}"
            );
            assert!(!err.to_string().contains("wrong"), "{err}");
        }
        let auth: Vec<_> = test_proxy
            .requests()
            .into_iter()
            .map(|r| r.authorization)
            .collect();
        assert_eq!(auth, vec![None, Some(basic("alice", "wrong"))]);
    });
}

#[test]
fn a_refusing_proxy_answers_its_status() {
    let test_proxy = ConnectProxy::refusing(403);
    block(async {
        let proxy = Proxy::parse(&test_proxy.url()).expect("proxy URL");
        let err = proxy::connect(&proxy, "localhost", 9, soon())
            .await
            .expect_err("refused");
        assert!(
            matches!(err, ProxyError::Refused { status: 403, .. }),
            "{err:?}"
        );
        assert_eq!(test_proxy.requests()[0].target, "localhost:9");
    });
}

#[test]
fn only_loopback_targets_are_tunnelled() {
    let test_proxy = ConnectProxy::open();
    block(async {
        let proxy = Proxy::parse(&test_proxy.url()).expect("proxy URL");
        // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never routed, and never tried here.
        let err = proxy::connect(&proxy, "192.0.2.1", 80, soon())
            .await
            .expect_err("not loopback");
        assert!(
            matches!(err, ProxyError::Refused { status: 403, .. }),
            "{err:?}"
        );
    });
}

#[test]
fn a_dropped_proxy_stops_listening() {
    let test_proxy = ConnectProxy::open();
    let addr = test_proxy.addr;
    assert!(std::net::TcpStream::connect(addr).is_ok(), "proxy listens");
    drop(test_proxy);
    // Shutting the runtime down drops its listener on the worker thread; allow it a moment.
    let give_up = std::time::Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(addr).is_ok() {
        assert!(
            std::time::Instant::now() < give_up,
            "the dropped proxy still accepts connections"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
