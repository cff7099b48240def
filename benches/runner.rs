//! Harness cost of the runner: N trivial echo cases (connect, send "hello", expect the echo,
//! close) against the reference server, next to a bare tokio-tungstenite client doing the same
//! connect / echo / close N times with the same concurrency, in the same process and run.
//!
//! Run: `cargo bench --bench runner -- [N] [JOBS]` (default N = 2000, JOBS = 8). Prints cases
//! per second for both, their ratio, and the peak RSS of the process (VmHWM). Nothing here is
//! asserted: figures go to the README.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use wsprobe::runner::{self, CaseContext, NoProgress, RunConfig};
use wsprobe::serve::{ServeConfig, ServeMode, Server};
use wsprobe::suite::model::{
    AltVerdict, Alternative, Case, ClosingRule, Expect, Location, Matcher, MessageMatch, Payload,
    Send, SendWhat, Step, StepKind,
};
use wsprobe::wire::{Level, Opcode};

fn echo_case(i: usize) -> Case {
    let location = Location {
        file: Arc::new(PathBuf::from("bench")),
        line: 1,
        column: 1,
    };
    let step = |kind| Step {
        kind,
        conn: "main".into(),
        location: location.clone(),
    };
    Case {
        id: format!("bench.echo-{i:05}"),
        suite: "bench".into(),
        title: "echo".into(),
        description: None,
        spec: "RFC 6455 §5.6".into(),
        level: Level::Must,
        autobahn: None,
        tags: vec![],
        timeout: Duration::from_secs(5),
        deadline: Duration::from_secs(30),
        ignore: vec![],
        closing: ClosingRule::default(),
        redact_headers: vec![],
        skip: None,
        peers: vec![wsprobe::suite::model::PeerKind::Server],
        steps: vec![
            step(StepKind::Connect(Box::default())),
            step(StepKind::Send(Box::new(Send {
                what: SendWhat::Text(Payload::Bytes(b"hello".to_vec())),
                fragment_size: None,
                chop: None,
                delay: None,
                compress: None,
                deflate: None,
            }))),
            step(StepKind::Expect(Box::new(Expect {
                alternatives: vec![Alternative {
                    verdict: AltVerdict::Ok,
                    sequence: vec![Matcher::Message(MessageMatch {
                        opcode: Some(Opcode::Text),
                        data: Some(Payload::Bytes(b"hello".to_vec())),
                        len: None,
                        compressed: None,
                    })],
                }],
                timeout: None,
            }))),
        ],
        location,
    }
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

async fn bare(url: &str, n: usize, jobs: usize) -> Duration {
    let started = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(jobs));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        let permit = Arc::clone(&sem)
            .acquire_owned()
            .await
            .expect("semaphore open");
        let url = url.to_string();
        set.spawn(async move {
            let (mut ws, _) = tokio_tungstenite::connect_async(url)
                .await
                .expect("connect");
            ws.send(Message::text("hello")).await.expect("send");
            let echo = ws.next().await.expect("echo").expect("echo ok");
            assert_eq!(echo.into_text().expect("text"), "hello");
            ws.close(None).await.expect("close");
            while let Some(Ok(_)) = ws.next().await {}
            drop(permit);
        });
    }
    while set.join_next().await.is_some() {}
    started.elapsed()
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(2000);
    let jobs: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(8);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let server = Server::start(ServeConfig {
            host: "127.0.0.1".into(),
            port: 0,
            mode: ServeMode::Echo,
            max_message_size: 1 << 20,
        })
        .await
        .expect("server");
        let url = server.url();
        let cases: Vec<Case> = (0..n).map(echo_case).collect();
        let config = RunConfig {
            context: CaseContext {
                endpoint: wsprobe::net::Endpoint::tcp(server.local_addr()),
                host: server.local_addr().to_string(),
                path: "/".into(),
                timeout_scale: 1.0,
                max_message: 1 << 20,
                headers: vec![],
                seed: None,
                idle_timeout: wsprobe::runner::exec::DEFAULT_IDLE_TIMEOUT,
                extensions: vec![],
                memory: wsprobe::runner::budget::Budget::new(
                    wsprobe::runner::budget::DEFAULT_MAX_MEMORY,
                    jobs,
                ),
            },
            jobs,
            fail_fast: false,
            fail_on: wsprobe::runner::result::FailOn::default(),
        };
        // A cold wsprobe run first, so the peak RSS read after it is the runner's (plus the
        // server's). Then both clients again, alternating, and the faster of each is kept:
        // the first run in a process pays for warm-up and TIME_WAIT build-up.
        let started = Instant::now();
        let results = runner::run(cases.clone(), &config, &mut NoProgress).await;
        let mut t_wsprobe = started.elapsed();
        let rss_wsprobe = peak_rss_kib();
        let mut t_bare = bare(&url, n, jobs).await;
        let started = Instant::now();
        let _ = runner::run(cases, &config, &mut NoProgress).await;
        t_wsprobe = t_wsprobe.min(started.elapsed());
        t_bare = t_bare.min(bare(&url, n, jobs).await);
        let passed = results
            .iter()
            .filter(|r| r.verdict == runner::Verdict::Pass)
            .count();
        server.shutdown().await;
        let per_s = |d: Duration| n as f64 / d.as_secs_f64();
        println!("cases: {n}, jobs: {jobs}, wsprobe passed: {passed}");
        println!(
            "bare tokio-tungstenite: {:.0} cases/s ({:.2}s)",
            per_s(t_bare),
            t_bare.as_secs_f64()
        );
        println!(
            "wsprobe runner:         {:.0} cases/s ({:.2}s)",
            per_s(t_wsprobe),
            t_wsprobe.as_secs_f64()
        );
        println!(
            "harness cost: {:.2}x the bare client per case",
            t_wsprobe.as_secs_f64() / t_bare.as_secs_f64()
        );
        println!(
            "peak RSS after the wsprobe run (runner + server + all {n} results): {:.1} MiB",
            rss_wsprobe as f64 / 1024.0
        );
        println!(
            "peak RSS of the whole process: {:.1} MiB",
            peak_rss_kib() as f64 / 1024.0
        );
    });
}
