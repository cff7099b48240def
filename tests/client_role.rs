//! `wsprobe run --client` speaks Autobahn's fuzzing-server protocol: a harness written for
//! Autobahn (getCaseCount, runCase, updateReports) runs unchanged and is judged, with the
//! results filed under the agent name it gave. The harness here is tokio-tungstenite's client,
//! written the way library harnesses are.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

/// Runs `wsprobe run --client` with `args`, drives it with `harness` and returns its stdout
/// (after the URL line) and exit code.
fn run_with_harness<F, Fut>(args: &[&str], harness: F) -> (String, i32)
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut child = Command::new(env!("CARGO_BIN_EXE_wsprobe"))
        .args([
            "run",
            "--client",
            "--listen",
            "127.0.0.1:0",
            "--color",
            "never",
        ])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wsprobe starts");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut url = String::new();
    out.read_line(&mut url).expect("the URL line");
    let url = url.trim().to_string();
    assert!(url.starts_with("ws://127.0.0.1:"), "first line: {url}");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(120), harness(url))
            .await
            .expect("the harness finishes in time");
    });
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).expect("stdout");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(std::time::Instant::now() < deadline, "wsprobe did not exit");
        std::thread::sleep(Duration::from_millis(50));
    };
    (rest, status.code().unwrap_or(-1))
}

/// An Autobahn client harness: count, echo every case, update reports.
async fn autobahn_harness(url: String, agent: &str) {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{url}/getCaseCount"))
        .await
        .expect("getCaseCount");
    let count: usize = match ws.next().await {
        Some(Ok(Message::Text(t))) => t.parse().expect("a number"),
        other => panic!("getCaseCount answered {other:?}"),
    };
    drop(ws);
    for case in 1..=count {
        let Ok((mut ws, _)) =
            tokio_tungstenite::connect_async(format!("{url}/runCase?case={case}&agent={agent}"))
                .await
        else {
            continue;
        };
        while let Some(Ok(msg)) = ws.next().await {
            if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
                break;
            }
        }
    }
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("{url}/updateReports?agent={agent}"))
            .await
            .expect("updateReports");
    while let Some(Ok(_)) = ws.next().await {}
}

#[test]
fn an_autobahn_harness_runs_unchanged_and_is_judged_under_its_agent_name() {
    let dir = common::temp_dir();
    let report = dir.path().join("autobahn");
    let report_arg = format!("autobahn={}", report.display());
    let (out, code) = run_with_harness(
        &[
            "--case",
            "1.1.*",
            "--case",
            "2.*",
            "--case",
            "5.6",
            "--format",
            "json",
            "--report",
            &report_arg,
        ],
        |url| autobahn_harness(url, "tungstenite-test"),
    );
    assert_eq!(code, 0, "{out}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    let ids: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.get("autobahn").and_then(|a| a.as_str()))
        .collect();
    for id in ["1.1.1", "1.1.8", "2.1", "2.11", "5.6"] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    assert!(
        lines.iter().any(|l| l.get("id").and_then(|i| i.as_str())
            == Some("client.masking.unpredictable")
            && l.get("verdict").and_then(|v| v.as_str()) == Some("PASS")),
        "{out}"
    );
    let index = std::fs::read_to_string(report.join("index.json")).expect("index.json");
    let index: serde_json::Value = serde_json::from_str(&index).expect("json");
    assert_eq!(
        index["tungstenite-test"]["1.1.1"]["behavior"], "OK",
        "{index}"
    );
    assert_eq!(
        index["tungstenite-test"]["2.10"]["behavior"], "OK",
        "{index}"
    );
}

/// A client that never masks fails the cases it takes part in (RFC 6455 §5.3): the harness
/// echoes with hand-built unmasked frames on a raw socket.
#[test]
fn a_client_that_does_not_mask_fails() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (out, code) = run_with_harness(
        &["--case", "1.1.1", "--case", "1.1.2", "--format", "json"],
        |url| async move {
            let addr = url.trim_start_matches("ws://").to_string();
            for case in 1..=2 {
                let mut s = tokio::net::TcpStream::connect(&addr)
                    .await
                    .expect("connect");
                let req = format!(
                    "GET /runCase?case={case}&agent=nomask HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
                );
                s.write_all(req.as_bytes()).await.expect("request");
                let mut buf = vec![0u8; 1 << 17];
                let mut got = Vec::new();
                // Read the 101 and the first frame, then echo it unmasked.
                let _ = tokio::time::timeout(Duration::from_secs(5), async {
                    loop {
                        let n = s.read(&mut buf).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        got.extend_from_slice(&buf[..n]);
                        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                            let frame = &got[end + 4..];
                            if frame.len() >= 2 && frame.len() >= 2 + (frame[1] & 0x7f) as usize {
                                let _ = s.write_all(frame).await;
                                return;
                            }
                        }
                    }
                })
                .await;
                let _ = tokio::time::timeout(Duration::from_secs(5), async {
                    while s.read(&mut buf).await.unwrap_or(0) > 0 {}
                })
                .await;
            }
            let (mut ws, _) =
                tokio_tungstenite::connect_async(format!("{url}/updateReports?agent=nomask"))
                    .await
                    .expect("updateReports");
            while let Some(Ok(_)) = ws.next().await {}
        },
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("unmasked-client-frame"), "{out}");
    // The same key on every connection is a repeated nonce (§4.1).
    assert!(out.contains("repeated-nonce"), "{out}");
}
