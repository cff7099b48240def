//! Helpers shared by the integration tests: running the real binary with a time bound, fresh
//! temporary directories, and reference servers on 127.0.0.1:0.

#![allow(dead_code)]

pub mod chromium;
pub mod proxy;
pub mod tshark;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a finished `wsprobe` process produced.
#[derive(Debug)]
pub struct Output {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs the built binary with `args`, killing it after `limit`.
pub fn wsprobe(args: &[&str], limit: Duration) -> Output {
    wsprobe_in(args, limit, None)
}

/// Same, in directory `dir`.
pub fn wsprobe_in(args: &[&str], limit: Duration, dir: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wsprobe"));
    cmd.args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(d) = dir {
        cmd.current_dir(d);
    }
    let mut child = cmd.spawn().expect("the wsprobe binary starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");
    let out_thread = std::thread::spawn(move || read_all(stdout));
    let err_thread = std::thread::spawn(move || read_all(stderr));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait on wsprobe") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("wsprobe {args:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        code: status.code().unwrap_or(-1),
        stdout: out_thread.join().expect("stdout reader"),
        stderr: err_thread.join().expect("stderr reader"),
    }
}

/// Resources a finished `wsprobe` process used.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    /// Wall time from spawn to exit.
    pub elapsed: Duration,
    /// Peak resident set size in KiB (`VmHWM`, sampled while it ran; 0 where /proc is absent).
    pub peak_rss_kib: u64,
}

/// Runs the built binary like [`wsprobe`] and samples its peak RSS from `/proc/<pid>/status`
/// while it runs. `VmHWM` is a high-water mark, so the last sample before exit holds the peak
/// of nearly the whole run.
pub fn wsprobe_measured(args: &[&str], limit: Duration) -> (Output, Usage) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wsprobe"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the wsprobe binary starts");
    let status_file = format!("/proc/{}/status", child.id());
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");
    let out_thread = std::thread::spawn(move || read_all(stdout));
    let err_thread = std::thread::spawn(move || read_all(stderr));
    let deadline = started + limit;
    let mut peak = 0;
    let status = loop {
        if let Some(kib) = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|s| vm_hwm_kib(&s))
        {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().expect("wait on wsprobe") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("wsprobe {args:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let usage = Usage {
        elapsed: started.elapsed(),
        peak_rss_kib: peak,
    };
    let output = Output {
        code: status.code().unwrap_or(-1),
        stdout: out_thread.join().expect("stdout reader"),
        stderr: err_thread.join().expect("stderr reader"),
    };
    (output, usage)
}

fn vm_hwm_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn read_all(mut r: impl std::io::Read) -> String {
    let mut s = String::new();
    let _ = r.read_to_string(&mut s);
    s
}

/// A fresh, empty temporary directory removed when dropped.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Replaces durations (`12ms`, `1.25s`, `350µs`) and ephemeral ports so output can be compared.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let starts_number = c.is_ascii_digit() && (i == 0 || !chars[i - 1].is_alphanumeric());
        if starts_number {
            let mut j = i;
            while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '.') {
                j += 1;
            }
            let rest: String = chars[j..chars.len().min(j + 2)].iter().collect();
            let unit_len = if rest.starts_with("ms") || rest.starts_with("µs") {
                2
            } else if rest.starts_with('s') && chars.get(j + 1).is_none_or(|n| !n.is_alphanumeric())
            {
                1
            } else {
                0
            };
            if unit_len > 0 {
                out.push_str("[dur]");
                i = j + unit_len;
                continue;
            }
        }
        if c == ':' && i >= 9 && chars[..i].iter().rev().take(9).collect::<String>() == "1.0.0.721"
        {
            let mut j = i + 1;
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
            out.push_str(":[port]");
            i = j;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Serialises the tests of one binary that run the whole built-in suite set: on a 2-core
/// machine several of them at once (each with many concurrent cases) starve each other and the
/// 1 s kill timers of Autobahn-style cases stop measuring the server.
pub fn heavy() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A raw TCP server on 127.0.0.1:0 for tests that need a peer wsprobe's own servers would never
/// be: every connection runs `behave` on the server's own runtime, until the value is dropped.
pub struct RawServer {
    rt: Option<tokio::runtime::Runtime>,
    /// `ws://127.0.0.1:PORT/`.
    pub url: String,
}

impl Drop for RawServer {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// Starts a [`RawServer`] whose connections each run `behave(stream)`.
pub fn raw_server<F, Fut>(behave: F) -> RawServer
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local address").port();
    let behave = std::sync::Arc::new(behave);
    rt.spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let behave = std::sync::Arc::clone(&behave);
            tokio::spawn(async move { behave(stream).await });
        }
    });
    RawServer {
        rt: Some(rt),
        url: format!("ws://127.0.0.1:{port}/"),
    }
}

/// The runner's context for cases against a [`RawServer`] (16 MiB messages; `jobs` cases share
/// one memory budget).
pub fn case_context(
    server: &RawServer,
    idle: Duration,
    jobs: usize,
) -> wsprobe::runner::CaseContext {
    let addr: std::net::SocketAddr = server
        .url
        .trim_start_matches("ws://")
        .trim_end_matches('/')
        .parse()
        .expect("address");
    wsprobe::runner::CaseContext {
        endpoint: wsprobe::net::Endpoint::tcp(addr),
        host: addr.to_string(),
        path: "/".into(),
        timeout_scale: 1.0,
        max_message: 1 << 24,
        headers: vec![],
        seed: None,
        idle_timeout: idle,
        extensions: vec![],
        memory: wsprobe::runner::budget::Budget::new(
            wsprobe::runner::budget::DEFAULT_MAX_MEMORY,
            jobs,
        ),
    }
}

/// Case id → verdict from `run --format json` output (lines that are not case results are
/// skipped).
pub fn verdicts(stdout: &str) -> std::collections::BTreeMap<String, String> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            Some((
                v.get("id")?.as_str()?.to_string(),
                v.get("verdict")?.as_str()?.to_string(),
            ))
        })
        .collect()
}
