//! A WebSocket client harness for Autobahn's fuzzing-server protocol, on tokio-tungstenite,
//! written the way library test suites write theirs: it knows nothing of wsprobe.
//!
//!     WSPROBE_URL=ws://127.0.0.1:9001 cargo run --release --example autobahn_client [AGENT]
//!
//! It asks `/getCaseCount`, runs `/runCase?case=N&agent=AGENT` for every case echoing each text
//! and binary message, and ends with `/updateReports?agent=AGENT`. A case that fails to connect
//! or errors is reported on stderr and the next one runs; each case is bounded in time.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

const CASE_TIMEOUT: Duration = Duration::from_secs(60);

async fn run_case(url: &str, config: WebSocketConfig) -> Result<(), String> {
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), false)
        .await
        .map_err(|e| e.to_string())?;
    while let Some(msg) = ws.next().await {
        let msg = msg.map_err(|e| e.to_string())?;
        if msg.is_text() || msg.is_binary() {
            ws.send(msg).await.map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let base = std::env::var("WSPROBE_URL").unwrap_or_else(|_| "ws://127.0.0.1:9001".into());
    let agent = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "tokio-tungstenite".into());
    let count: u32 = match tokio_tungstenite::connect_async(format!("{base}/getCaseCount")).await {
        Ok((mut ws, _)) => match ws.next().await {
            Some(Ok(Message::Text(t))) => t.parse().unwrap_or(0),
            _ => 0,
        },
        Err(e) => {
            eprintln!("getCaseCount: {e}");
            std::process::exit(3);
        }
    };
    let mut config = WebSocketConfig::default();
    config.max_message_size = Some(64 << 20);
    config.max_frame_size = Some(64 << 20);
    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={agent}");
        match tokio::time::timeout(CASE_TIMEOUT, run_case(&url, config)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("case {case}: {e}"),
            Err(_) => eprintln!("case {case}: timed out"),
        }
    }
    match tokio_tungstenite::connect_async(format!("{base}/updateReports?agent={agent}")).await {
        Ok((mut ws, _)) => while let Some(Ok(_)) = ws.next().await {},
        Err(e) => eprintln!("updateReports: {e}"),
    }
}
