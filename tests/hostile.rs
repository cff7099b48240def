//! Hostile servers: in-test servers on 127.0.0.1:0 that write raw bytes the way a broken or
//! malicious WebSocket server would, each run through the real `wsprobe run` binary with a
//! small suite. For every one the test proves that wsprobe reaches a verdict (the process ends
//! by itself, well before the test's own limit), says what the server did, and stays under a
//! memory cap while doing it. Peak RSS and wall time are printed (`cargo test --test hostile --
//! --nocapture`); time is not asserted beyond the test's limit.

mod common;

use std::future::Future;
use std::time::Duration;

use common::{Output, Usage, temp_dir, wsprobe_measured};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wsprobe::wire::handshake::{Parse, accept_for_key, parse_request};
use wsprobe::wire::{Decoded, FrameDecoder, FrameSpec, Opcode};

/// The test's own bound on a wsprobe run: far above the case deadline (5 s), so a run that
/// needs it has hung.
const LIMIT: Duration = Duration::from_secs(60);
/// Generous memory cap for one hostile case: the default 64 MiB message limit lets a
/// connection keep 128 MiB of data.
const RSS_CAP_MIB: u64 = 200;

/// A server whose every connection runs `behave`, on its own runtime, until the test ends.
type Hostile = common::RawServer;

fn serve<F, Fut>(behave: F) -> Hostile
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    common::raw_server(behave)
}

/// Reads the upgrade request; None for wsprobe's reachability probe, which sends nothing.
async fn read_key(s: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Ok(Parse::Complete(head)) = parse_request(&buf, 64 * 1024) {
            return Some(head.header("sec-websocket-key").unwrap_or("").to_string());
        }
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn response_101(key: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        accept_for_key(key)
    )
    .into_bytes()
}

/// Reads the request and answers with a valid 101; None if the peer went away.
async fn open(s: &mut TcpStream) -> Option<()> {
    let key = read_key(s).await?;
    s.write_all(&response_101(&key)).await.ok()
}

/// Writes `chunk` again and again until the client goes away.
async fn forever(s: &mut TcpStream, chunk: &[u8]) {
    while s.write_all(chunk).await.is_ok() {}
}

async fn idle() {
    tokio::time::sleep(Duration::from_secs(3600)).await;
}

/// What one run of a hostile case gave.
struct Run {
    out: Output,
    usage: Usage,
    case: Value,
}

impl Run {
    fn verdict(&self) -> &str {
        self.case["verdict"].as_str().unwrap_or("")
    }

    fn observed(&self) -> String {
        self.case["failure"]["observed"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    fn has_violation(&self, kind: &str) -> bool {
        self.case["violations"]
            .as_array()
            .is_some_and(|v| v.iter().any(|v| v["kind"] == kind))
    }
}

/// Runs one case (`steps` indented as list items of `steps:`) against `server`.
fn run(name: &str, server: &Hostile, case_keys: &str, steps: &str, extra: &[&str]) -> Run {
    let dir = temp_dir();
    let suite = dir.path().join("hostile.yaml");
    let yaml = format!(
        "suite: hostile\ntitle: hostile servers\ndefaults: {{ timeout: 2s, deadline: 5s }}\n\
         cases:\n  - id: hostile.{name}\n    title: {name}\n    spec: RFC 6455 §10.4\n\
         {case_keys}    steps:\n{steps}"
    );
    std::fs::write(&suite, yaml).expect("write the suite");
    let mut args = vec![
        "run",
        suite.to_str().expect("utf-8 path"),
        "--target",
        &server.url,
        "--format",
        "json",
        "--color",
        "never",
        // The servers here break the handshake on purpose: the case must meet them.
        "--no-preflight",
    ];
    args.extend_from_slice(extra);
    let (out, usage) = wsprobe_measured(&args, LIMIT);
    let line = out.stdout.lines().next().unwrap_or("");
    let case: Value = serde_json::from_str(line).unwrap_or_else(|e| {
        panic!(
            "{name}: no JSON result ({e})\nstdout:\n{}\nstderr:\n{}",
            out.stdout, out.stderr
        )
    });
    let run = Run { out, usage, case };
    println!(
        "hostile {name:<28} verdict {:<6} time {:>6.2}s  peak RSS {:>4} MiB  ({})",
        run.verdict(),
        run.usage.elapsed.as_secs_f64(),
        run.usage.peak_rss_kib / 1024,
        run.observed().chars().take(100).collect::<String>()
    );
    assert!(
        run.usage.peak_rss_kib / 1024 < RSS_CAP_MIB,
        "{name}: peak RSS {} KiB",
        run.usage.peak_rss_kib
    );
    assert_eq!(
        run.out.code, 1,
        "{name}: a hostile server fails its case\n{}\n{}",
        run.out.stdout, run.out.stderr
    );
    run
}

const CONNECT: &str = "      - connect: {}\n";
const ECHO: &str = "      - connect: {}\n      - send: { text: hello }\n      - expect: { message: { text: hello } }\n";

#[test]
fn never_answers_the_handshake() {
    let server = serve(|mut s| async move {
        if read_key(&mut s).await.is_some() {
            idle().await;
        }
    });
    let r = run("silent", &server, "", CONNECT, &[]);
    assert_eq!(r.verdict(), "FAIL");
    assert!(
        r.observed()
            .contains("no handshake response before the timeout"),
        "{}",
        r.observed()
    );
}

#[test]
fn answers_one_byte_per_second() {
    let server = serve(|mut s| async move {
        let Some(key) = read_key(&mut s).await else {
            return;
        };
        for b in response_101(&key) {
            if s.write_all(&[b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        idle().await;
    });
    let r = run("one-byte-per-second", &server, "", CONNECT, &[]);
    assert_eq!(r.verdict(), "FAIL");
    assert!(
        r.observed()
            .contains("no handshake response before the timeout"),
        "{}",
        r.observed()
    );
}

#[test]
fn sends_endless_headers() {
    let server = serve(|mut s| async move {
        if read_key(&mut s).await.is_none()
            || s.write_all(b"HTTP/1.1 101 Switching Protocols\r\n")
                .await
                .is_err()
        {
            return;
        }
        let line = format!("X-Pad: {}\r\n", "a".repeat(1000));
        forever(&mut s, line.as_bytes()).await;
    });
    let r = run("endless-headers", &server, "", CONNECT, &[]);
    assert_eq!(r.verdict(), "FAIL");
    // MAX_HEAD (64 KiB) ends the head long before anything else could.
    assert!(
        r.observed().contains("http head larger than 65536 bytes"),
        "{}",
        r.observed()
    );
}

#[test]
fn announces_a_2_pow_63_byte_frame() {
    let server = serve(|mut s| async move {
        if open(&mut s).await.is_none()
            || s.write_all(&[0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0])
                .await
                .is_err()
        {
            return;
        }
        forever(&mut s, &[0u8; 64 * 1024]).await;
    });
    let r = run("frame-of-2-pow-63-bytes", &server, "", ECHO, &[]);
    assert_eq!(r.verdict(), "FAIL");
    assert!(r.has_violation("length-msb-set"), "{}", r.out.stdout);
    assert!(r.has_violation("payload-too-large"), "{}", r.out.stdout);
}

#[test]
fn sends_an_endless_ping_stream() {
    let server = serve(|mut s| async move {
        if open(&mut s).await.is_none() {
            return;
        }
        let ping = FrameSpec::new(Opcode::Ping, "are you there").encode();
        forever(&mut s, &ping.repeat(256)).await;
    });
    // Pings are ignored by the expectations: only the frame limit can end this.
    let r = run("endless-pings", &server, "    ignore: [ping]\n", ECHO, &[]);
    assert_eq!(r.verdict(), "FAIL");
    assert!(r.has_violation("excessive-traffic"), "{}", r.out.stdout);
}

#[test]
fn never_closes_tcp_after_the_close_handshake() {
    let server = serve(|mut s| async move {
        if open(&mut s).await.is_none() {
            return;
        }
        let mut decoder = FrameDecoder::default();
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => decoder.push(&buf[..n]),
            }
            while let Decoded::Frame(f) = decoder.next_frame() {
                if f.frame.header.opcode == Opcode::Close {
                    let close = FrameSpec::new(Opcode::Close, vec![0x03, 0xe8]).encode();
                    let _ = s.write_all(&close).await;
                    idle().await;
                }
            }
        }
    });
    let r = run(
        "never-closes-tcp",
        &server,
        "    closing: { clean: true }\n",
        CONNECT,
        &[],
    );
    assert_eq!(r.verdict(), "FAIL");
    let detail = r.case["close"]["detail"].as_str().unwrap_or("");
    assert!(detail.contains("wsprobe had to close tcp"), "{detail}");
}

/// 1 GiB as 1024 binary messages of 1 MiB, each under the 64 MiB message limit.
async fn flood_gigabyte(mut s: TcpStream, message: usize) {
    if open(&mut s).await.is_none() {
        return;
    }
    let frame = FrameSpec::new(Opcode::Binary, vec![0x5a; message]).encode();
    for _ in 0..(1usize << 30) / message {
        if s.write_all(&frame).await.is_err() {
            return;
        }
    }
    idle().await;
}

#[test]
fn floods_a_gigabyte() {
    let server = serve(|s| flood_gigabyte(s, 1 << 20));
    let steps = "      - connect: {}\n      - wait: 3s\n";
    let r = run("gigabyte-flood", &server, "", steps, &[]);
    assert_eq!(r.verdict(), "FAIL");
    assert!(r.has_violation("excessive-traffic"), "{}", r.out.stdout);
}

#[test]
fn a_small_message_limit_bounds_memory_and_is_a_finding() {
    // Each 1 MiB message is over a 64 KiB limit: a finding, and nothing of it is buffered.
    let server = serve(|s| flood_gigabyte(s, 1 << 20));
    let r = run(
        "message-over-small-limit",
        &server,
        "",
        "      - connect: {}\n      - expect: { message: { binary: { repeat_hex: 5a, len: 1048576 } } }\n",
        &["--max-message-size", "65536"],
    );
    assert_eq!(r.verdict(), "FAIL");
    assert!(r.has_violation("payload-too-large"), "{}", r.out.stdout);
    assert!(!r.has_violation("excessive-traffic"), "{}", r.out.stdout);

    // Messages under the limit: what one connection keeps is bounded by the (small) limit's
    // budget (16 MiB), far below the default's 128 MiB.
    let server = serve(|s| flood_gigabyte(s, 32 * 1024));
    let r = run(
        "flood-under-small-limit",
        &server,
        "",
        "      - connect: {}\n      - wait: 3s\n",
        &["--max-message-size", "65536"],
    );
    assert!(r.has_violation("excessive-traffic"), "{}", r.out.stdout);
    assert!(
        r.usage.peak_rss_kib / 1024 < 100,
        "peak RSS {} KiB",
        r.usage.peak_rss_kib
    );
}

#[test]
fn an_endless_fragmented_message_stops_at_the_message_limit() {
    let server = serve(|mut s| async move {
        if open(&mut s).await.is_none() {
            return;
        }
        let first = FrameSpec::new(Opcode::Binary, vec![1u8; 64 * 1024])
            .fin(false)
            .encode();
        if s.write_all(&first).await.is_err() {
            return;
        }
        let more = FrameSpec::new(Opcode::Continuation, vec![2u8; 64 * 1024])
            .fin(false)
            .encode();
        forever(&mut s, &more).await;
    });
    let r = run(
        "endless-fragments",
        &server,
        "",
        "      - connect: {}\n      - expect: { message: { binary: { repeat_hex: '01', len: 1 } } }\n",
        &["--max-message-size", "1048576"],
    );
    assert_eq!(r.verdict(), "FAIL");
    assert!(r.has_violation("payload-too-large"), "{}", r.out.stdout);
}

#[test]
fn sends_a_control_frame_with_a_huge_payload() {
    let server = serve(|mut s| async move {
        if open(&mut s).await.is_none() {
            return;
        }
        let ping = FrameSpec::new(Opcode::Ping, vec![7u8; 16 << 20]).encode();
        if s.write_all(&ping).await.is_ok() {
            idle().await;
        }
    });
    let r = run("huge-control-frame", &server, "", ECHO, &[]);
    assert_eq!(r.verdict(), "FAIL");
    assert!(
        r.has_violation("control-frame-too-long"),
        "{}",
        r.out.stdout
    );
}

#[test]
fn resets_mid_frame() {
    let server = serve(|mut s| async move {
        if open(&mut s).await.is_none() {
            return;
        }
        let frame = FrameSpec::new(Opcode::Binary, vec![3u8; 4096]).encode();
        let _ = s.write_all(&frame[..100]).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        // SO_LINGER 0: closing sends RST instead of FIN.
        let _ = s.set_zero_linger();
        drop(s);
    });
    let r = run("reset-mid-frame", &server, "", ECHO, &[]);
    assert_eq!(r.verdict(), "FAIL");
    assert!(
        r.case["failure"].is_object(),
        "a reset is explained: {}",
        r.out.stdout
    );
}

#[test]
fn sends_a_101_then_http_text() {
    let server = serve(|mut s| async move {
        if open(&mut s).await.is_none() {
            return;
        }
        let body = format!("<html><body>{}</body></html>\r\n", "hello ".repeat(100));
        let text = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        if s.write_all(text.as_bytes()).await.is_ok() {
            idle().await;
        }
    });
    let r = run("101-then-http", &server, "", ECHO, &[]);
    assert_eq!(r.verdict(), "FAIL");
    assert!(
        r.case["violations"]
            .as_array()
            .is_some_and(|v| !v.is_empty()),
        "{}",
        r.out.stdout
    );
}

/// A large message to every case: what a finished case keeps (its trace) holds no payload,
/// so a run's memory does not grow with the number of cases.
#[test]
fn a_large_message_per_case_is_not_kept_after_the_case() {
    const CASES: usize = 6;
    const MESSAGE: usize = 48 << 20;
    let server = serve(|mut s| async move {
        if open(&mut s).await.is_none() {
            return;
        }
        let frame = FrameSpec::new(Opcode::Binary, vec![0x5a; MESSAGE]).encode();
        if s.write_all(&frame).await.is_ok() {
            idle().await;
        }
    });
    let dir = temp_dir();
    let suite = dir.path().join("many.yaml");
    let mut yaml = String::from(
        "suite: many\ntitle: many cases\ndefaults: { timeout: 2s, deadline: 10s }\ncases:\n",
    );
    for i in 0..CASES {
        yaml.push_str(&format!(
            "  - id: many.case-{i}\n    title: case {i}\n    spec: RFC 6455 §10.4\n    \
             steps:\n      - connect: {{}}\n      - wait: 1s\n"
        ));
    }
    std::fs::write(&suite, yaml).expect("write the suite");
    let args = [
        "run",
        suite.to_str().expect("utf-8 path"),
        "--target",
        &server.url,
        "--jobs",
        "1",
        "--format",
        "json",
    ];
    let (out, usage) = wsprobe_measured(&args, LIMIT);
    println!(
        "hostile {:<28} verdict {:<6} time {:>6.2}s  peak RSS {:>4} MiB  ({CASES} cases of one {} MiB message)",
        "48-mib-message-per-case",
        if out.code == 1 { "FAIL" } else { "?" },
        usage.elapsed.as_secs_f64(),
        usage.peak_rss_kib / 1024,
        MESSAGE >> 20
    );
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    // One record per case, then the summary record.
    assert_eq!(out.stdout.lines().count(), CASES + 1, "{}", out.stdout);
    assert!(
        out.stdout.contains("binary message of 50331648 bytes"),
        "{}",
        out.stdout
    );
    assert!(
        usage.peak_rss_kib / 1024 < RSS_CAP_MIB,
        "peak RSS {} KiB",
        usage.peak_rss_kib
    );
}

/// A server that opens, then sends a frame one byte per second and never closes: the case
/// deadline bounds the whole case, the closing handshake included (it gets what is left of the
/// deadline, not a step timeout on top of it).
#[test]
fn the_case_deadline_bounds_the_closing_handshake_too() {
    let server = serve(|mut s| async move {
        if open(&mut s).await.is_none() {
            return;
        }
        for b in FrameSpec::new(Opcode::Text, "x".repeat(100)).encode() {
            if s.write_all(&[b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        idle().await;
    });
    let r = run(
        "trickled-frame",
        &server,
        "    timeout: 3s\n    deadline: 4s\n",
        ECHO,
        &[],
    );
    assert_eq!(r.verdict(), "FAIL");
    // The expect step times out at 3 s; closing then has 1 s left, not 3 s more. Only an upper
    // bound, with a margin for a loaded machine.
    let ms = r.case["duration_ms"].as_f64().unwrap_or(f64::MAX);
    assert!(ms < 5500.0, "case took {ms} ms with a 4 s deadline");
}
