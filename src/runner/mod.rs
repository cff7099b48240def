//! Running suite cases over real sockets: the browser-faithful client state machine, every wait
//! bounded, expectations turned into verdicts. It may use `wire`, `suite`, `trace` and tokio.
//!
//! Each case opens its own connection(s) on a raw tokio `TcpStream` and uses `wire` for every
//! byte, so any malformed frame can be sent and everything received is judged. Cases run
//! concurrently (`jobs`), results come back in case order whatever the concurrency.

pub mod browser;
pub mod budget;
pub mod conn;
pub mod deflate;
pub mod exec;
pub mod fuzzing;
pub mod masks;
pub mod matcher;
pub mod preflight;
pub mod result;
mod rng;
pub mod select;
pub mod session;
pub mod verdict;
pub mod whatwg;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::suite::model::Case;
pub use exec::CaseContext;
pub use result::{CaseResult, Verdict};

/// A `ws://` or `wss://` target.
#[derive(Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL as given, with the password of `user:password@` replaced by `***`: this is the
    /// form every output shows.
    pub url: String,
    /// `wss://`: TLS.
    pub tls: bool,
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// Port (80 for ws://, 443 for wss:// when absent).
    pub port: u16,
    /// Path and query, at least `/`.
    pub path: String,
    /// `user:password@` of the URL, percent-decoded.
    credentials: Option<(String, String)>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("url", &self.url)
            .field("tls", &self.tls)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("path", &self.path)
            .field("credentials", &self.credentials.as_ref().map(|_| "***"))
            .finish()
    }
}

/// Problems with the target itself.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// Not a ws:// URL wsprobe can use.
    #[error("invalid target url '{url}': {why}")]
    Url {
        /// The URL (password redacted).
        url: String,
        /// What is wrong.
        why: String,
    },
    /// The host name did not resolve.
    #[error("cannot resolve {host}: {why}")]
    Resolve {
        /// Host.
        host: String,
        /// Resolver message.
        why: String,
    },
    /// Nothing accepts TCP connections there.
    #[error("cannot connect to {url} ({addr}): {why}")]
    Unreachable {
        /// URL.
        url: String,
        /// Address tried.
        addr: SocketAddr,
        /// OS message.
        why: String,
    },
    /// The proxy did not open a tunnel to the target.
    #[error("cannot reach {url} through the proxy: {source}")]
    Proxy {
        /// URL.
        url: String,
        /// What the proxy did.
        source: crate::net::ProxyError,
    },
    /// The TLS handshake failed.
    #[error("{0}")]
    Tls(#[from] crate::net::TlsFailure),
}

impl Target {
    /// Parses `ws[s]://[user:password@]host[:port][/path[?query]]`.
    pub fn parse(url: &str) -> Result<Target, TargetError> {
        let (tls, rest) = if let Some(r) = url.strip_prefix("ws://") {
            (false, r)
        } else if let Some(r) = url.strip_prefix("wss://") {
            (true, r)
        } else {
            return Err(TargetError::Url {
                url: url.to_string(),
                why: "it must start with ws:// or wss://".into(),
            });
        };
        let scheme = if tls { "wss://" } else { "ws://" };
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let path = if tail.starts_with('?') || tail.is_empty() {
            format!("/{tail}")
        } else {
            tail.to_string()
        };
        // The password never reaches an output, not even an error about the URL.
        let (userinfo, authority) = match authority.rsplit_once('@') {
            Some((u, a)) => (Some(u), a),
            None => (None, authority),
        };
        let shown = match userinfo {
            Some(u) => {
                let user = u.split_once(':').map_or(u, |(user, _)| user);
                format!("{scheme}{user}:***@{authority}{tail}")
            }
            None => url.to_string(),
        };
        let bad = |why: &str| TargetError::Url {
            url: shown.clone(),
            why: why.to_string(),
        };
        let credentials = match userinfo {
            None => None,
            Some(u) => {
                let (user, password) = u.split_once(':').unwrap_or((u, ""));
                let decode = |s: &str| {
                    crate::net::proxy::percent_decode(s)
                        .and_then(|b| String::from_utf8(b).ok())
                        .ok_or_else(|| bad("invalid %-escape in the user information"))
                };
                let (user, password) = (decode(user)?, decode(password)?);
                if user.contains(':') {
                    return Err(bad("the user name must not contain ':' (write it as %3A)"));
                }
                Some((user, password))
            }
        };
        if authority.is_empty() {
            return Err(bad("the host is missing"));
        }
        let default_port = if tls { 443 } else { 80 };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let end = v6
                .find(']')
                .ok_or_else(|| bad("unclosed '[' in the host"))?;
            let host = &v6[..end];
            let after = &v6[end + 1..];
            let port = match after.strip_prefix(':') {
                Some(p) => p
                    .parse::<u16>()
                    .map_err(|_| bad("the port is not a number 0-65535"))?,
                None if after.is_empty() => default_port,
                None => return Err(bad("unexpected text after the host")),
            };
            (host.to_string(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (
                    h.to_string(),
                    p.parse::<u16>()
                        .map_err(|_| bad("the port is not a number 0-65535"))?,
                ),
                None => (authority.to_string(), default_port),
            }
        };
        if host.is_empty() {
            return Err(bad("the host is missing"));
        }
        Ok(Target {
            url: shown,
            tls,
            host,
            port,
            path,
            credentials,
        })
    }

    /// The `Authorization: Basic …` header the URL's `user:password@` stands for (RFC 7617).
    pub fn authorization(&self) -> Option<(String, String)> {
        use base64::Engine;
        self.credentials.as_ref().map(|(user, password)| {
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            ("Authorization".to_string(), format!("Basic {token}"))
        })
    }

    /// The `Host` header value (the port only when it is not the scheme's default).
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == if self.tls { 443 } else { 80 } {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// Resolves the host (unless a proxy resolves it) and opens one connection the way every
    /// case will (TCP, proxy, TLS), bounded by `timeout`: an unreachable target, a proxy that
    /// refuses, or a certificate that is not trusted becomes one clear error here.
    pub async fn preflight(
        &self,
        transport: &crate::net::Transport,
        timeout: Duration,
    ) -> Result<(crate::net::Endpoint, Option<crate::net::tls::SessionInfo>), TargetError> {
        let addr = if transport.proxy.is_some() {
            // Never dialled: the proxy resolves the name.
            SocketAddr::from(([0, 0, 0, 0], self.port))
        } else {
            self.resolve(timeout).await?
        };
        let endpoint = crate::net::Endpoint {
            addr,
            host: self.host.clone(),
            port: self.port,
            transport: transport.clone(),
        };
        let deadline = tokio::time::Instant::now() + timeout;
        match endpoint.connect(deadline).await {
            Ok(stream) => Ok((endpoint, stream.tls())),
            Err(crate::net::ConnectError::Tcp { addr, source }) => Err(TargetError::Unreachable {
                url: self.url.clone(),
                addr,
                why: source.to_string(),
            }),
            Err(crate::net::ConnectError::Timeout { addr }) => Err(TargetError::Unreachable {
                url: self.url.clone(),
                addr,
                why: "connect timed out".into(),
            }),
            Err(crate::net::ConnectError::Proxy(source)) => Err(TargetError::Proxy {
                url: self.url.clone(),
                source,
            }),
            Err(crate::net::ConnectError::Tls(f)) => Err(TargetError::Tls(f)),
        }
    }

    async fn resolve(&self, timeout: Duration) -> Result<SocketAddr, TargetError> {
        let resolve = tokio::net::lookup_host((self.host.as_str(), self.port));
        let addrs: Vec<SocketAddr> = match tokio::time::timeout(timeout, resolve).await {
            Ok(Ok(a)) => a.collect(),
            Ok(Err(e)) => {
                return Err(TargetError::Resolve {
                    host: self.host.clone(),
                    why: e.to_string(),
                });
            }
            Err(_) => {
                return Err(TargetError::Resolve {
                    host: self.host.clone(),
                    why: "timed out".into(),
                });
            }
        };
        addrs.first().copied().ok_or_else(|| TargetError::Resolve {
            host: self.host.clone(),
            why: "no address".into(),
        })
    }
}

/// How a run goes.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Where cases connect.
    pub context: CaseContext,
    /// Cases in flight at once.
    pub jobs: usize,
    /// Stop starting cases after the first failing one.
    pub fail_fast: bool,
    /// The verdicts that count as failures (for fail-fast).
    pub fail_on: result::FailOn,
}

/// The default concurrency: cases are I/O-bound, so several per core.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get() * 4)
        .unwrap_or(8)
        .clamp(4, 32)
}

/// Receives a run's events while it is under way: the live progress line and the streamed
/// case lines. Every method has a default that does nothing.
pub trait Progress: Send {
    /// Case `index` (in the order given to [`run`]) started.
    fn started(&mut self, _index: usize, _case: &Case) {}
    /// Case `index` finished, in completion order; `done` of `total` are finished.
    fn finished(&mut self, _index: usize, _result: &CaseResult, _done: usize, _total: usize) {}
    /// Case `index` is done and so is every case before it: called once per case, in case
    /// order, so what is printed here never depends on `jobs`. Returning `false` stops the run
    /// (e.g. nobody reads the output any more): cases still running are cancelled.
    fn ready(&mut self, _index: usize, _result: &CaseResult) -> bool {
        true
    }
}

/// Progress that does nothing.
pub struct NoProgress;

impl Progress for NoProgress {}

/// Why a case that has no result of its own is reported as SKIP.
const NOT_STARTED: &str = "not run: --fail-fast stopped the run";
const CANCELLED: &str = "cancelled: --fail-fast stopped the run";
const STOPPED: &str = "not run: the run was stopped";

/// Runs `cases` and returns their results in the same order.
///
/// With `fail_fast`, the first failure cancels the cases still running (they are reported as
/// SKIP, not FAIL) and no further case starts. A case whose task panics is reported as ERROR
/// under its own id: each task is mapped to its case by tokio's task id.
pub async fn run(
    cases: Vec<Case>,
    config: &RunConfig,
    progress: &mut dyn Progress,
) -> Vec<CaseResult> {
    run_with(cases, config, progress, |case, cx| async move {
        exec::run_case(&case, &cx).await
    })
    .await
}

/// [`run`] with the function that runs one case given (tests give one that panics).
async fn run_with<F, Fut>(
    cases: Vec<Case>,
    config: &RunConfig,
    progress: &mut dyn Progress,
    run_case: F,
) -> Vec<CaseResult>
where
    F: Fn(Arc<Case>, Arc<CaseContext>) -> Fut,
    Fut: std::future::Future<Output = CaseResult> + Send + 'static,
{
    let total = cases.len();
    let cases: Vec<Arc<Case>> = cases.into_iter().map(Arc::new).collect();
    let context = Arc::new(config.context.clone());
    let mut results: Vec<Option<CaseResult>> = (0..total).map(|_| None).collect();
    let mut set = tokio::task::JoinSet::new();
    let mut task_index: HashMap<tokio::task::Id, usize> = HashMap::new();
    let mut next = 0;
    let mut done = 0;
    // Results up to here have been passed to `ready`.
    let mut emitted = 0;
    let mut stop: Option<&'static str> = None;
    let jobs = config.jobs.max(1);
    loop {
        while stop.is_none() && next < total && set.len() < jobs {
            let case = Arc::clone(&cases[next]);
            let cx = Arc::clone(&context);
            progress.started(next, &case);
            let handle = set.spawn(run_case(case, cx));
            task_index.insert(handle.id(), next);
            next += 1;
        }
        let Some(joined) = set.join_next_with_id().await else {
            break;
        };
        let (index, result) = match joined {
            Ok((id, result)) => (task_index.remove(&id), result),
            Err(e) => {
                let index = task_index.remove(&e.id());
                let Some(i) = index else { continue };
                let case = &cases[i];
                let result = if e.is_cancelled() {
                    skipped(case, stop.unwrap_or(CANCELLED))
                } else {
                    // A panicking case is wsprobe's fault: report it as ERROR, keep going.
                    error_result(case, &format!("internal error: {}", panic_message(e)))
                };
                (index, result)
            }
        };
        // Every spawned task was registered under its id before it could finish.
        let Some(index) = index else { continue };
        done += 1;
        if stop.is_none() && config.fail_fast && result.verdict.is_failure(config.fail_on) {
            stop = Some(CANCELLED);
            set.abort_all();
        }
        progress.finished(index, &result, done, total);
        // Kept as a copy made on this thread: a result built on a worker thread lives in that
        // thread's allocator arena, so holding it there makes each worker's arena grow with
        // the number of cases, beside the memory freed after loading the suites. Copied here,
        // it reuses that memory and the worker's arena serves the next cases (10 000 echo
        // cases: 93 MB peak RSS instead of 106 MB).
        results[index] = Some(result.clone());
        while emitted < total && stop != Some(STOPPED) {
            let Some(r) = &results[emitted] else { break };
            if !progress.ready(emitted, r) && stop.is_none() {
                stop = Some(STOPPED);
                set.abort_all();
            }
            emitted += 1;
        }
    }
    let why_not_run = match stop {
        Some(STOPPED) => STOPPED,
        _ => NOT_STARTED,
    };
    let results: Vec<CaseResult> = results
        .into_iter()
        .zip(cases.iter())
        .map(|(r, case)| r.unwrap_or_else(|| skipped(case, why_not_run)))
        .collect();
    if stop != Some(STOPPED) {
        for (i, r) in results.iter().enumerate().skip(emitted) {
            if !progress.ready(i, r) {
                break;
            }
        }
    }
    results
}

/// The message a panicking case left, if it was a string.
fn panic_message(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<&str>()
            .map(|s| format!("the case panicked: {s}"))
            .or_else(|| {
                payload
                    .downcast_ref::<String>()
                    .map(|s| format!("the case panicked: {s}"))
            })
            .unwrap_or_else(|| "the case panicked".into()),
        Err(e) => e.to_string(),
    }
}

fn skipped(case: &Case, why: &str) -> CaseResult {
    let mut r = error_result(case, why);
    r.verdict = Verdict::Skip;
    r
}

fn error_result(case: &Case, why: &str) -> CaseResult {
    CaseResult::of_case(
        case,
        Verdict::Error,
        Some(result::Failure {
            summary: why.to_string(),
            location: case.location.clone(),
            expected: vec![],
            observed: String::new(),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cases(n: usize) -> Vec<Case> {
        let suites = crate::suite::load(&crate::suite::embedded()).expect("embedded suites load");
        suites.into_iter().flat_map(|s| s.cases).take(n).collect()
    }

    fn config(jobs: usize, fail_fast: bool) -> RunConfig {
        RunConfig {
            context: CaseContext {
                endpoint: crate::net::Endpoint::tcp(SocketAddr::from(([127, 0, 0, 1], 9))),
                host: "127.0.0.1:9".into(),
                path: "/".into(),
                timeout_scale: 1.0,
                max_message: 1 << 20,
                headers: vec![],
                seed: None,
                idle_timeout: exec::DEFAULT_IDLE_TIMEOUT,
                memory: budget::Budget::new(64 << 20, jobs),
                extensions: vec![],
            },
            jobs,
            fail_fast,
            fail_on: result::FailOn::default(),
        }
    }

    fn verdict_of(case: &Case, v: Verdict) -> CaseResult {
        let mut r = error_result(case, "test");
        r.verdict = v;
        r
    }

    /// Records what a run reports, in the order it reports it.
    #[derive(Default)]
    struct Recorder {
        ready: Vec<(usize, String, Verdict)>,
        started: usize,
    }

    impl Progress for Recorder {
        fn started(&mut self, _: usize, _: &Case) {
            self.started += 1;
        }
        fn ready(&mut self, index: usize, r: &CaseResult) -> bool {
            self.ready.push((index, r.id.clone(), r.verdict));
            true
        }
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async { tokio::time::timeout(Duration::from_secs(20), f).await })
            .expect("the run ends")
    }

    #[test]
    fn a_panicking_case_is_an_error_under_its_own_id_and_ready_is_in_order() {
        let list = cases(6);
        let ids: Vec<String> = list.iter().map(|c| c.id.clone()).collect();
        let panicking = ids[2].clone();
        let mut rec = Recorder::default();
        let results = block_on(run_with(
            list,
            &config(4, false),
            &mut rec,
            move |case, _| {
                let panicking = panicking.clone();
                async move {
                    // Later cases finish first, so completion order differs from case order.
                    let wait = 60 - 10 * case.id.len().min(5) as u64;
                    tokio::time::sleep(Duration::from_millis(wait)).await;
                    assert_ne!(case.id, panicking, "deliberate panic");
                    verdict_of(&case, Verdict::Pass)
                }
            },
        ));
        let got: Vec<(&str, Verdict)> =
            results.iter().map(|r| (r.id.as_str(), r.verdict)).collect();
        for (i, (id, v)) in got.iter().enumerate() {
            assert_eq!(*id, ids[i]);
            assert_eq!(
                *v,
                if i == 2 {
                    Verdict::Error
                } else {
                    Verdict::Pass
                },
                "{id}"
            );
        }
        let summary = &results[2]
            .failure
            .as_ref()
            .expect("error has a summary")
            .summary;
        assert!(summary.contains("deliberate panic"), "{summary}");
        let order: Vec<usize> = rec.ready.iter().map(|(i, _, _)| *i).collect();
        assert_eq!(order, (0..6).collect::<Vec<_>>());
    }

    #[test]
    fn fail_fast_cancels_running_cases_as_skip() {
        let list = cases(8);
        let first = list[0].id.clone();
        let mut rec = Recorder::default();
        let results = block_on(run_with(
            list,
            &config(4, true),
            &mut rec,
            move |case, _| {
                let first = first.clone();
                async move {
                    if case.id == first {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        verdict_of(&case, Verdict::Fail)
                    } else {
                        // Never ends on its own: only cancellation ends the run.
                        std::future::pending::<()>().await;
                        verdict_of(&case, Verdict::Pass)
                    }
                }
            },
        ));
        assert_eq!(rec.started, 4, "no case starts after the failure");
        assert_eq!(results[0].verdict, Verdict::Fail);
        for r in &results[1..4] {
            assert_eq!(r.verdict, Verdict::Skip, "{}", r.id);
            let why = &r.failure.as_ref().expect("reason").summary;
            assert!(why.starts_with("cancelled"), "{why}");
        }
        for r in &results[4..] {
            assert_eq!(r.verdict, Verdict::Skip);
            let why = &r.failure.as_ref().expect("reason").summary;
            assert!(why.starts_with("not run"), "{why}");
        }
        assert_eq!(rec.ready.len(), 8, "every case is reported once");
    }

    #[test]
    fn a_reader_that_stops_ends_the_run() {
        struct Closed(usize);
        impl Progress for Closed {
            fn ready(&mut self, _: usize, _: &CaseResult) -> bool {
                self.0 += 1;
                false
            }
        }
        let mut closed = Closed(0);
        let results = block_on(run_with(
            cases(6),
            &config(2, false),
            &mut closed,
            |case, _| async move {
                if case.id.is_empty() {
                    verdict_of(&case, Verdict::Pass)
                } else {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    verdict_of(&case, Verdict::Pass)
                }
            },
        ));
        assert_eq!(closed.0, 1, "ready is not called after it said stop");
        assert!(results.iter().any(|r| r.verdict == Verdict::Skip));
    }

    #[test]
    fn parses_targets() {
        let t = Target::parse("ws://127.0.0.1:9001/chat?x=1").expect("valid url");
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str()),
            ("127.0.0.1", 9001, "/chat?x=1")
        );
        assert_eq!(t.host_header(), "127.0.0.1:9001");
        let t = Target::parse("ws://localhost").expect("valid url");
        assert_eq!(
            (t.port, t.path.as_str(), t.host_header().as_str()),
            (80, "/", "localhost")
        );
        let t = Target::parse("ws://[::1]:8080?q").expect("valid url");
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str()),
            ("::1", 8080, "/?q")
        );
        assert_eq!(t.host_header(), "[::1]:8080");
        for bad in [
            "http://x",
            "ws://",
            "ws://h:99999",
            "ws://[::1",
            "ws://u:p@",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
        let t = Target::parse("wss://example.com/x").expect("valid url");
        assert!(t.tls);
        assert_eq!((t.port, t.host_header().as_str()), (443, "example.com"));
        let t = Target::parse("wss://example.com:80").expect("valid url");
        assert_eq!(t.host_header(), "example.com:80");
        assert_eq!(Target::parse("ws://h").expect("url").authorization(), None);
    }

    #[test]
    fn user_information_becomes_basic_authorization_and_is_never_shown() {
        let t = Target::parse("wss://alice:s%40cret:x@h:8443/chat?room=1").expect("valid url");
        assert_eq!(t.url, "wss://alice:***@h:8443/chat?room=1");
        assert_eq!((t.host.as_str(), t.port), ("h", 8443));
        assert_eq!(t.path, "/chat?room=1");
        // base64("alice:s@cret:x")
        assert_eq!(
            t.authorization(),
            Some((
                "Authorization".to_string(),
                "Basic YWxpY2U6c0BjcmV0Ong=".to_string()
            ))
        );
        assert!(!format!("{t:?}").contains("cret"), "{t:?}");
        let e = Target::parse("ws://bob:hunter2@").expect_err("no host");
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert!(e.to_string().contains("bob:***@"), "{e}");
        let e = Target::parse("ws://bob:hunt%zz@h").expect_err("bad escape");
        assert!(!e.to_string().contains("hunt"), "{e}");
    }
}
