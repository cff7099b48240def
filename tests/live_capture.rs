//! Live and captured agree: a run of wsprobe against a reference server on loopback is captured
//! with tcpdump, and every connection's live trace, reduced to what is on the wire
//! ([`canonical::wire_only`]), renders to the same canonical text as the capture's trace of that
//! connection ([`TraceCollector`]). Frame previews, opcodes, flags (M for masked included) and
//! lengths, handshake lines, header names (as sent), order and values, and how TCP ended must all
//! be identical.
//!
//! Both sides record handshake headers the same way (`Sec-WebSocket-Key` → `[key]`,
//! `Sec-WebSocket-Accept` → `[accept]`, `Date` → `[date]`, see
//! `wsprobe::trace::handshake_header_value`), neither shows mask keys (only the `M` flag), and
//! both record one TCP end per connection. The transport-only exceptions left, applied here and
//! nowhere else:
//!
//! 1. **Connection names.** A live connection is named by the case (`main`); a captured one by
//!    its order in the capture (`conn 0`). The live trace is renamed to the captured name.
//! 2. **Which events are compared.** Both sides go through `wire_only`: the live side's
//!    readyState changes, browser events, markers and notes, and both sides' violation events
//!    (the runner reports what it judged, the dissector what it judged) are left out. The
//!    capture must have no gap notes (nothing lost).
//! 3. **The preflight connection** `wsprobe run` makes to check the target is reachable (a TCP
//!    connect with no bytes) is not a case's connection. The cases are run in-process through the
//!    same `runner::run` that `wsprobe run` calls, with one job so connections appear in the
//!    capture in case order, and without the preflight.
//!
//! tcpdump is needed (and the right to capture on `lo`). Without it the tests say so on stderr
//! and pass, unless `WSPROBE_REQUIRE_TCPDUMP=1`, which makes a missing or refused tcpdump fail.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use wsprobe::pcap::{self, Options, traces::TraceCollector};
use wsprobe::runner::select::{Selection, select};
use wsprobe::runner::{self, CaseContext, NoProgress, RunConfig, Verdict};
use wsprobe::serve::{ServeConfig, ServeMode, Server};
use wsprobe::trace::canonical::{self, Redaction};
use wsprobe::trace::{ConnectionTrace, TraceEvent};

const TCPDUMP_START: Duration = Duration::from_secs(15);
const TCPDUMP_STOP: Duration = Duration::from_secs(15);
const RUN_LIMIT: Duration = Duration::from_secs(60);

fn required() -> bool {
    std::env::var("WSPROBE_REQUIRE_TCPDUMP").is_ok_and(|v| v == "1")
}

/// Skips (or, when tcpdump is required, fails) with a reason.
fn unavailable(why: &str) {
    if required() {
        panic!("WSPROBE_REQUIRE_TCPDUMP=1 but tcpdump cannot capture: {why}");
    }
    eprintln!(
        "SKIPPED live_capture: tcpdump cannot capture on lo ({why}); set WSPROBE_REQUIRE_TCPDUMP=1 to make this fail"
    );
}

/// A running tcpdump writing the capture to its stdout (not to a file: tcpdump drops its
/// privileges before opening one, and the test's temporary directory is not its to write).
struct Tcpdump {
    child: Child,
    file: PathBuf,
    stderr: mpsc::Receiver<String>,
    stdout: Option<std::thread::JoinHandle<Vec<u8>>>,
}

impl Tcpdump {
    /// Starts `tcpdump -i lo -U -w - 'tcp port PORT'` and waits until it is listening; the
    /// capture goes to `file` when it stops.
    fn start(file: &Path, port: u16) -> Result<Tcpdump, String> {
        let mut child = Command::new("tcpdump")
            .args(["-i", "lo", "--immediate-mode", "-B", "32768", "-s", "65535"])
            .args(["-U", "-n", "-w", "-"])
            .arg(format!("tcp port {port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start tcpdump: {e}"))?;
        let mut out = child.stdout.take().expect("piped stdout");
        let stdout = Some(std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = std::io::Read::read_to_end(&mut out, &mut bytes);
            bytes
        }));
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().expect("piped stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + TCPDUMP_START;
        let mut seen = Vec::new();
        loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(line) if line.contains("listening on") => {
                    return Ok(Tcpdump {
                        child,
                        file: file.to_path_buf(),
                        stderr: rx,
                        stdout,
                    });
                }
                Ok(line) => seen.push(line),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = child.wait().ok();
                    return Err(format!(
                        "tcpdump exited ({status:?}) before listening: {}",
                        seen.join(" / ")
                    ));
                }
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "tcpdump was not listening within {TCPDUMP_START:?}: {}",
                    seen.join(" / ")
                ));
            }
        }
    }

    /// Stops tcpdump with SIGINT (it flushes and writes its counts) and returns the file.
    fn stop(mut self) -> PathBuf {
        // Let the last segments (the final FIN and ACKs) reach the capture.
        std::thread::sleep(Duration::from_millis(300));
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let deadline = Instant::now() + TCPDUMP_STOP;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait on tcpdump") {
                let lines: Vec<String> = self.stderr.try_iter().collect();
                eprintln!("tcpdump: {}", lines.join(" / "));
                // A dropped packet would show as a difference that is not one.
                let dropped = lines
                    .iter()
                    .find_map(|l| l.strip_suffix(" packets dropped by kernel"))
                    .and_then(|n| n.trim().parse::<u64>().ok());
                assert_eq!(dropped, Some(0), "tcpdump dropped packets: {lines:?}");
                assert!(
                    status.success() || status.code().is_none(),
                    "tcpdump failed ({status}): {}",
                    lines.join(" / ")
                );
                let bytes = self
                    .stdout
                    .take()
                    .expect("stdout reader")
                    .join()
                    .expect("stdout reader");
                std::fs::write(&self.file, bytes).expect("write the capture");
                return self.file.clone();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("tcpdump did not stop within {TCPDUMP_STOP:?} of SIGINT");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Tcpdump {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Loads `paths` (the built-in suites when empty) and keeps the cases matching `globs`.
fn cases(paths: &[PathBuf], globs: &[&str]) -> Vec<wsprobe::suite::model::Case> {
    let sources = if paths.is_empty() {
        wsprobe::suite::embedded()
    } else {
        wsprobe::suite::read_paths(paths).expect("suites read")
    };
    let suites = wsprobe::suite::load(&sources).expect("suites load");
    let all = suites.into_iter().flat_map(|s| s.cases).collect();
    let picked = select(
        all,
        &Selection {
            cases: globs.iter().map(|g| g.to_string()).collect(),
            tags: Vec::new(),
            exclude: Vec::new(),
            partition: None,
        },
    );
    assert_eq!(picked.len(), globs.len(), "every case found");
    picked
}

/// Captures a run of `cases` against a reference server in `mode` and compares live and
/// captured traces connection by connection. Returns false when skipped.
fn live_and_captured_agree(mode: ServeMode, cases: Vec<wsprobe::suite::model::Case>) -> bool {
    let rt = runtime();
    let server = rt
        .block_on(Server::start(ServeConfig {
            host: "127.0.0.1".into(),
            port: 0,
            mode,
            max_message_size: 16 * 1024 * 1024,
        }))
        .expect("reference server");
    let url = server.url();
    let target = runner::Target::parse(&url).expect("url");
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", target.port).parse().expect("addr");
    let dir = tempfile::tempdir().expect("tempdir");
    let tcpdump = match Tcpdump::start(&dir.path().join("live.pcap"), target.port) {
        Ok(t) => t,
        Err(why) => {
            unavailable(&why);
            return false;
        }
    };
    let config = RunConfig {
        context: CaseContext {
            endpoint: wsprobe::net::Endpoint::tcp(addr),
            host: target.host_header(),
            path: target.path.clone(),
            timeout_scale: 1.0,
            max_message: 64 * 1024 * 1024,
            headers: Vec::new(),
            seed: None,
            idle_timeout: wsprobe::runner::exec::DEFAULT_IDLE_TIMEOUT,
            extensions: vec![],
            memory: wsprobe::runner::budget::Budget::new(
                wsprobe::runner::budget::DEFAULT_MAX_MEMORY,
                1,
            ),
        },
        jobs: 1,
        fail_fast: false,
        fail_on: wsprobe::runner::result::FailOn::default(),
    };
    let ids: Vec<String> = cases.iter().map(|c| c.id.clone()).collect();
    let results = rt
        .block_on(async {
            tokio::time::timeout(RUN_LIMIT, runner::run(cases, &config, &mut NoProgress)).await
        })
        .unwrap_or_else(|_| panic!("{ids:?} did not finish within {RUN_LIMIT:?}"));
    let file = tcpdump.stop();
    rt.block_on(server.shutdown());
    for r in &results {
        assert_eq!(r.verdict, Verdict::Pass, "{}: {:?}", r.id, r.verdict);
    }

    let mut collector = TraceCollector::new();
    pcap::analyze_file(&file, &Options::default(), &mut collector).expect("capture reads");
    let captured = collector.into_traces();
    let live: Vec<&ConnectionTrace> = results.iter().flat_map(|r| &r.traces).collect();
    assert_eq!(
        captured.len(),
        live.len(),
        "one captured connection per live one: {captured:#?}"
    );
    let redaction = Redaction::default();
    for (l, c) in live.iter().zip(&captured) {
        assert!(
            !c.events.iter().any(|e| matches!(e, TraceEvent::Note(_))),
            "nothing lost in the capture: {c:#?}"
        );
        // Exception 1: the live connection takes the captured connection's name.
        let mut l = canonical::wire_only(l);
        l.name = c.name.clone();
        let live_text = canonical::render_text(&[l], &redaction);
        let captured_text = canonical::render_text(&[canonical::wire_only(c)], &redaction);
        assert_eq!(
            live_text, captured_text,
            "live (left) and captured (right) differ"
        );
        // The comparison covered the whole conversation.
        assert!(live_text.contains("  c>s GET "), "{live_text}");
        assert!(live_text.contains("[key]"), "{live_text}");
        assert!(live_text.contains("[accept]"), "{live_text}");
        assert!(live_text.contains(" close F---M "), "{live_text}");
        assert!(live_text.contains("  tcp closed by "), "{live_text}");
    }
    true
}

#[test]
fn echo_cases_live_and_captured_agree() {
    let picked = cases(&[], &["framing.text-125", "ping.text-payload"]);
    live_and_captured_agree(ServeMode::Echo, picked);
}

#[test]
fn counter_live_and_captured_agree() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let picked = cases(
        &[root.join("suites/examples/counter.yaml")],
        &["example.counter"],
    );
    live_and_captured_agree(
        ServeMode::Counter {
            count: 10,
            interval: Duration::from_millis(20),
        },
        picked,
    );
}
