//! A tokio-tungstenite client harness for Autobahn's fuzzing-server URL protocol. It is written
//! to that protocol only, so it runs unchanged against Autobahn's `fuzzingserver` and against
//! `wsprobe run --client`:
//!
//! ```text
//! cargo build --release --example autobahn_client
//! wsprobe run --client --listen 127.0.0.1:0 --exec 'target/release/examples/autobahn_client'
//! WSPROBE_URL=ws://127.0.0.1:9001 target/release/examples/autobahn_client [AGENT]
//! ```
//!
//! The base URL comes from `$WSPROBE_URL` (default `ws://127.0.0.1:9001`; an argument starting
//! with `ws://` or `wss://` overrides it), the agent name from the other argument (default
//! `tokio-tungstenite`). It asks `/getCaseCount`, runs
//! `/runCase?case=N&agent=AGENT` for every case, echoing each text and binary message and leaving
//! pings and the close handshake to tungstenite, and ends with `/updateReports?agent=AGENT`. A case
//! that fails (handshake refused, protocol error, timeout) is reported on stderr and the next case
//! runs: judging that is the server's job. Exit 1 when the case count or the report update cannot
//! be had.

use std::process::ExitCode;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Upper bound for one case; Autobahn's longest cases (9.x, 16 MiB messages) take seconds.
const CASE_TIMEOUT: Duration = Duration::from_secs(60);
/// Upper bound for the short control connections (`getCaseCount`, `updateReports`).
const CONTROL_TIMEOUT: Duration = Duration::from_secs(30);

/// Room for Autobahn 9.x (16 MiB messages) with a margin; tungstenite's default is 64 MiB for
/// messages but 16 MiB for frames, and 9.1.6 sends one 16 MiB frame.
fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(64 << 20))
}

/// Opens `url` and returns every text message the server sends until the connection ends (how
/// it ends does not matter here; only a failed connect is an error).
async fn control(url: &str) -> Result<Vec<String>, String> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .map_err(|e| e.to_string())?;
    let mut texts = Vec::new();
    while let Some(Ok(msg)) = ws.next().await {
        if let Message::Text(t) = msg {
            texts.push(t.as_str().to_owned());
        }
    }
    Ok(texts)
}

/// Runs one case: echoes text and binary messages until the connection ends.
async fn run_case(url: &str) -> Result<(), String> {
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config()), true)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    while let Some(msg) = ws.next().await {
        let msg = msg.map_err(|e| e.to_string())?;
        if msg.is_text() || msg.is_binary() {
            ws.send(msg).await.map_err(|e| format!("echo: {e}"))?;
        }
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut base =
        std::env::var("WSPROBE_URL").unwrap_or_else(|_| "ws://127.0.0.1:9001".to_owned());
    let mut agent = "tokio-tungstenite".to_owned();
    for arg in std::env::args().skip(1) {
        if arg.starts_with("ws://") || arg.starts_with("wss://") {
            base = arg;
        } else {
            agent = arg;
        }
    }
    let base = base.trim_end_matches('/');

    let count = match timeout(CONTROL_TIMEOUT, control(&format!("{base}/getCaseCount"))).await {
        Ok(Ok(texts)) => texts.first().and_then(|t| t.trim().parse::<u32>().ok()),
        Ok(Err(e)) => {
            eprintln!("getCaseCount: {e}");
            None
        }
        Err(_) => {
            eprintln!("getCaseCount: timed out");
            None
        }
    };
    let Some(count) = count else {
        eprintln!("autobahn_client: no case count from {base}/getCaseCount");
        return ExitCode::FAILURE;
    };

    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={agent}");
        match timeout(CASE_TIMEOUT, run_case(&url)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("case {case}/{count}: {e}"),
            Err(_) => eprintln!("case {case}/{count}: timed out after {CASE_TIMEOUT:?}"),
        }
    }

    let url = format!("{base}/updateReports?agent={agent}");
    match timeout(CONTROL_TIMEOUT, control(&url)).await {
        Ok(Ok(_)) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("updateReports: {e}");
            ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("updateReports: timed out");
            ExitCode::FAILURE
        }
    }
}
