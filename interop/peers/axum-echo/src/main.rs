//! axum WebSocket echo server for wsprobe's interop run, over HTTP/1.1 (Upgrade) and HTTP/2
//! (RFC 8441 extended CONNECT, h2c with prior knowledge) on one port.
//!
//! Usage: axum-echo PORT_FILE — binds 127.0.0.1:0 and writes the port to PORT_FILE.
//!
//! Text is echoed as text and binary as binary; pings are answered and the closing handshake is
//! completed by tungstenite underneath axum. The message and frame limits are raised to 64 MiB,
//! as the other peers do, so the 16 MiB cases of Autobahn 9.x fit.
//!
//! `axum::serve` runs hyper-util's auto builder (HTTP/1.1, or HTTP/2 when the connection starts
//! with the HTTP/2 preface) and, with axum's `http2` feature, enables extended CONNECT
//! (SETTINGS_ENABLE_CONNECT_PROTOCOL = 1). The route accepts any method: an HTTP/2 WebSocket
//! arrives as CONNECT, an HTTP/1.1 one as GET.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::any;
use axum::serve::ListenerExt;
use axum::Router;

const LIMIT: usize = 64 << 20;

async fn upgrade(ws: WebSocketUpgrade) -> Response {
    ws.max_message_size(LIMIT)
        .max_frame_size(LIMIT)
        .on_upgrade(echo)
}

async fn echo(mut socket: WebSocket) {
    while let Some(Ok(message)) = socket.recv().await {
        let reply = match message {
            Message::Text(_) | Message::Binary(_) => message,
            // Ping is answered and Close is answered by tungstenite itself.
            Message::Ping(_) | Message::Pong(_) | Message::Close(_) => continue,
        };
        if socket.send(reply).await.is_err() {
            break;
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port_file = std::env::args_os()
        .nth(1)
        .ok_or("usage: axum-echo PORT_FILE")?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    // Written beside and renamed, so a reader never sees a partial port number.
    let mut tmp = std::path::PathBuf::from(&port_file);
    tmp.as_mut_os_string().push(".tmp");
    std::fs::write(&tmp, port.to_string())?;
    std::fs::rename(&tmp, &port_file)?;
    // Every path and every method: CONNECT (HTTP/2) as well as GET (HTTP/1.1).
    let app = Router::new().route("/", any(upgrade)).fallback(upgrade);
    // TCP_NODELAY, as hyper's and axum's own examples set it: without it Nagle holds the tail of
    // each HTTP/2 flow-control window until the client's delayed ACK (about 40 ms), which makes
    // a 16 MiB echo over a 64 KiB stream window take seconds. Over HTTP/1.1 it changes nothing
    // the suites can see.
    let listener = listener.tap_io(|tcp| {
        // A socket that refuses the option still echoes, only slower.
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).await?;
    Ok(())
}
