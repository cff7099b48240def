//! Echo throughput of the reference server with permessage-deflate: a client built from `wire`
//! pieces sends `count` compressed messages of `len` bytes (consecutive windows of a generated
//! corpus, as the 12.x/13.x `echo` step does), each after the previous echo arrived, inflates
//! each echo and checks it byte for byte. Client and server run in this process on loopback,
//! both compressing at zlib level 1, so the figure is what a run of those cases costs.
//!
//! ```text
//! cargo run --release --example deflate_echo -- 1000 131072 json
//! cargo run --release --example deflate_echo -- sweep json      # Autobahn's 12.x sizes
//! cargo run --release --example deflate_echo -- sweep json \
//!     "permessage-deflate; client_max_window_bits=9; server_max_window_bits=9"   # 13.x-like
//! ```
//!
//! The default offer is `permessage-deflate; client_max_window_bits` (Autobahn 12.x).

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wsprobe::serve::{ServeConfig, ServeMode, Server};
use wsprobe::suite::corpus::Corpus;
use wsprobe::wire::deflate::{Compressor, DeflateOffer, Receiver, check_response, parse_offers};
use wsprobe::wire::handshake::{ClientRequest, Parse, parse_response};
use wsprobe::wire::{Decoded, FrameDecoder, FrameSpec, Opcode, Role};

/// Autobahn's message sizes of the 12.x/13.x cases (`case12_x_x.py`, MSG_SIZES).
const SWEEP: [usize; 10] = [16, 64, 256, 1024, 4096, 8192, 16384, 32768, 65536, 131072];

const MAX_MESSAGE: usize = 64 << 20;

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (runs, corpus, offer) = match args.first().map(String::as_str) {
        Some("sweep") => (
            SWEEP.iter().map(|&len| (1000, len)).collect::<Vec<_>>(),
            args.get(1),
            args.get(2),
        ),
        _ => {
            let count = args
                .first()
                .map_or(Ok(1000), |a| a.parse())
                .map_err(|e| format!("count: {e}"))?;
            let len = args
                .get(1)
                .map_or(Ok(131_072), |a| a.parse())
                .map_err(|e| format!("len: {e}"))?;
            (vec![(count, len)], args.get(2), args.get(3))
        }
    };
    let offer = offer
        .cloned()
        .unwrap_or_else(|| "permessage-deflate; client_max_window_bits".into());
    let corpus = match corpus {
        Some(name) => Corpus::from_name(name).ok_or_else(|| format!("unknown corpus {name}"))?,
        None => Corpus::Json,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let server = Server::start(ServeConfig {
            host: "127.0.0.1".into(),
            port: 0,
            mode: ServeMode::Echo,
            max_message_size: MAX_MESSAGE,
        })
        .await
        .map_err(|e| e.to_string())?;
        let mut total = Duration::ZERO;
        for (count, len) in runs {
            let took = tokio::time::timeout(
                Duration::from_secs(300),
                echo(&server, &offer, corpus, count, len),
            )
            .await
            .map_err(|_| "timed out".to_string())??;
            total += took;
            let mib = (count as f64 * len as f64) / (1 << 20) as f64;
            println!(
                "{count} x {len} B {}: {:.3} s, {:.0} MiB/s each way, {:.1} µs per echo",
                corpus.name(),
                took.as_secs_f64(),
                mib / took.as_secs_f64(),
                took.as_secs_f64() * 1e6 / count as f64
            );
        }
        println!("total {:.3} s", total.as_secs_f64());
        server.shutdown().await;
        Ok(())
    })
}

/// One connection: `count` messages of `len` bytes echoed one after the other.
async fn echo(
    server: &Server,
    offer: &str,
    corpus: Corpus,
    count: u64,
    len: usize,
) -> Result<Duration, String> {
    let mut tcp = TcpStream::connect(server.local_addr())
        .await
        .map_err(|e| e.to_string())?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let host = server.local_addr().to_string();
    let mut request = ClientRequest::new(&host, "/", "dGhlIHNhbXBsZSBub25jZQ==");
    request.extensions = vec![offer.to_string()];
    tcp.write_all(&request.to_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 256 << 10];
    let head = loop {
        if let Ok(Parse::Complete(head)) = parse_response(&buf, 64 << 10) {
            break head;
        }
        let n = tcp.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("closed during the handshake".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let offers: Vec<DeflateOffer> = parse_offers(&request.extensions.join(", "))
        .iter()
        .map(|p| DeflateOffer::from_params(p).0)
        .collect();
    let value = head
        .header("sec-websocket-extensions")
        .unwrap_or_default()
        .to_string();
    let negotiated = check_response(&offers, &value)
        .negotiated
        .ok_or("the server declined permessage-deflate")?;
    let mut compressor =
        Compressor::for_sender(&negotiated, Role::Client, 1).map_err(|e| e.to_string())?;
    let mut receiver =
        Receiver::new(&negotiated, Role::Server, MAX_MESSAGE as u64).map_err(|e| e.to_string())?;
    let mut decoder = FrameDecoder::default();
    decoder.push(&buf[head.head_len..]);
    let opcode = if corpus.is_text() {
        Opcode::Text
    } else {
        Opcode::Binary
    };
    let mut message = Vec::with_capacity(len);
    let mut out = Vec::new();
    let started = Instant::now();
    for i in 0..count {
        corpus.window(i, len, &mut message);
        let payload = compressor.compress(&message).map_err(|e| e.to_string())?;
        out.clear();
        FrameSpec {
            rsv: 0b100,
            ..FrameSpec::new(opcode, payload).masked([1, 2, 3, 4])
        }
        .encode_into(&mut out);
        tcp.write_all(&out).await.map_err(|e| e.to_string())?;
        let frame = loop {
            if let Decoded::Frame(f) = decoder.next_frame() {
                break f.frame;
            }
            let n = tcp.read(&mut chunk).await.map_err(|e| e.to_string())?;
            if n == 0 {
                return Err(format!("closed before echo {i}"));
            }
            decoder.push(&chunk[..n]);
        };
        let received = receiver.on_frame(&frame.header, &frame.payload);
        if !received.findings.is_empty() || !received.compressed {
            return Err(format!("echo {i}: {:?}", received.findings));
        }
        if received.inflated.as_deref() != Some(message.as_slice()) {
            return Err(format!("echo {i} differs"));
        }
    }
    let took = started.elapsed();
    let _ = tcp
        .write_all(
            &FrameSpec::new(Opcode::Close, vec![0x03, 0xe8])
                .masked([1, 2, 3, 4])
                .encode(),
        )
        .await;
    Ok(took)
}
