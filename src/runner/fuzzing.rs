//! `wsprobe run --client`: wsprobe as the server, judging WebSocket clients through Autobahn's
//! fuzzing-server URL protocol, so client harnesses written for Autobahn run unchanged.
//!
//! | URL | what it does |
//! |---|---|
//! | `/getCaseCount` | one text message: how many cases are selected |
//! | `/runCase?case=N&agent=A` | runs the N-th selected case (1-based) with wsprobe as the server |
//! | `/case/<id>?agent=A` | runs a case by wsprobe id or Autobahn id |
//! | `/getCaseInfo?case=N` | one text message: `{"id": …, "description": …}` |
//! | `/getCaseStatus?case=N&agent=A` | one text message: `{"behavior": …}` |
//! | `/updateReports?agent=A` | ends the run (reports are written) |
//! | `/browser?agent=A` | plain HTTP: the page that runs the cases in a browser |
//! | `/browserReport?case=N&agent=A` | the page's record of the WebSocket API events of case N |
//!
//! Every wait is bounded: reading a request head, each case (its own deadline), the whole run.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use bytes::Bytes;

use crate::net::h2::H2Stream;
use crate::net::h2tap::{Meddle, Side, Tap};
use crate::net::{ServerTls, Stream};
use tokio::sync::Notify;
use tokio::time::{Instant, timeout, timeout_at};

use super::conn::{AcceptParams, Connection, Incoming, MAX_HEAD, Observation, WriteShape};
use super::exec::{self, CaseContext};
use super::masks;
use super::result::CaseResult;
use super::whatwg::{self, ApiEvent};
use crate::suite::model::Case;
use crate::wire::handshake::{self, Parse};
use crate::wire::{FrameSpec, Opcode, Violation};

/// How long a connection may take to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a browser case waits for the page's event report after the connection ended.
const BROWSER_REPORT_WAIT: Duration = Duration::from_secs(5);
/// Bound of a protocol exchange (`getCaseCount` and the like).
const CONTROL_TIMEOUT: Duration = Duration::from_secs(5);

/// The page `/browser` serves.
const BROWSER_PAGE: &str = include_str!("../../assets/browser.html");

/// What `run --client` needs besides the cases.
#[derive(Debug, Clone)]
pub struct ClientRun {
    /// The selected cases, in Autobahn order (case N of the protocol is `cases[N - 1]`).
    pub cases: Vec<Case>,
    /// Run settings (the address fields are unused: wsprobe accepts).
    pub context: CaseContext,
    /// Bound of the whole run.
    pub bound: Duration,
    /// End the run once every case has been run once (no `--exec`), not only on
    /// `/updateReports`.
    pub end_when_all_ran: bool,
}

/// What one agent's client did.
#[derive(Debug, Default)]
pub struct AgentResults {
    /// Results by case number (1-based), latest run of each.
    pub by_case: BTreeMap<usize, CaseResult>,
    /// Mask keys of every frame the client sent, in order.
    pub mask_keys: Vec<[u8; 4]>,
    /// Sec-WebSocket-Key nonces of every case connection.
    pub nonces: Vec<String>,
    /// The agent asked for `/updateReports`.
    pub updated: bool,
}

/// Shared state of a listening run.
#[derive(Debug, Default)]
struct State {
    agents: BTreeMap<String, AgentResults>,
    /// Browser event reports by (agent, case number).
    reports: BTreeMap<(String, usize), Vec<ApiEvent>>,
    /// Connections that did not speak the protocol (wrong path, bad request).
    strays: Vec<String>,
}

/// A listening run: bind with [`Listener::bind`], read its URL, then [`Listener::serve`].
pub struct Listener {
    listener: TcpListener,
    addr: SocketAddr,
    tls: Option<ServerTls>,
    /// Serve HTTP/2 too (RFC 8441; [`Listener::with_http2`]), holding each connection's
    /// SETTINGS this long.
    http2: Option<Duration>,
}

/// How a listening run ended.
#[derive(Debug)]
pub struct ClientOutcome {
    /// Results per agent, in agent-name order.
    pub agents: BTreeMap<String, AgentResults>,
    /// Why the run ended.
    pub ended: String,
    /// Requests that did not follow the protocol, for the report.
    pub strays: Vec<String>,
}

impl Listener {
    /// Binds `addr` (port 0 picks a free port); with `tls`, every connection speaks TLS
    /// (`wss://`, and `https://` for the browser page).
    pub async fn bind(addr: &str, tls: Option<ServerTls>) -> std::io::Result<Listener> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        Ok(Listener {
            listener,
            addr,
            tls,
            http2: None,
        })
    }

    /// Serves HTTP/2 on the same port as well (`run --client --http2`): h2c with prior
    /// knowledge, or ALPN `h2` when the TLS settings offer it ([`ServerTls::with_http2`]).
    /// Each extended CONNECT (RFC 8441) is one WebSocket, judged like an HTTP/1.1 upgrade.
    /// Each connection's SETTINGS (with SETTINGS_ENABLE_CONNECT_PROTOCOL = 1) go out
    /// `settings_delay` after it opened, so an extended CONNECT sent before they arrived is
    /// told apart (RFC 8441 §3; `http2-settings`).
    pub fn with_http2(mut self, settings_delay: Duration) -> Listener {
        self.http2 = Some(settings_delay);
        self
    }

    /// The `ws://` (or `wss://`) URL clients connect to.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "wss" } else { "ws" };
        format!("{scheme}://{}", self.addr)
    }

    /// Serves the protocol until `/updateReports`, every case run (when asked), `stop`
    /// completing (the harness exited) or the bound.
    pub async fn serve<F>(self, run: ClientRun, stop: F) -> ClientOutcome
    where
        F: std::future::Future<Output = String>,
    {
        let run = Arc::new(run);
        let state = Arc::new(Mutex::new(State::default()));
        let changed = Arc::new(Notify::new());
        let deadline = Instant::now() + run.bound;
        let mut tasks = tokio::task::JoinSet::new();
        tokio::pin!(stop);
        // Once every case has run (without a harness to wait for), the agent still gets a
        // moment to ask for /updateReports, as every Autobahn harness does last.
        let mut all_ran_at: Option<(Instant, String)> = None;
        let ended = loop {
            match finished(&run, &state) {
                Some(Finished::Updated(why)) => break why,
                Some(Finished::AllRan(why)) => {
                    let (at, why) = all_ran_at.get_or_insert_with(|| (Instant::now(), why));
                    if at.elapsed() >= UPDATE_GRACE {
                        break why.clone();
                    }
                }
                None => {}
            }
            let tick = Instant::now() + Duration::from_millis(100);
            tokio::select! {
                accepted = self.listener.accept() => {
                    if let Ok((tcp, _)) = accepted {
                        let run = Arc::clone(&run);
                        let state = Arc::clone(&state);
                        let changed = Arc::clone(&changed);
                        let tls = self.tls.clone();
                        let http2 = self.http2;
                        tasks.spawn(async move {
                            let stream = match tls {
                                None => Stream::from(tcp),
                                Some(tls) => match tls.accept(tcp).await {
                                    Ok(s) => s,
                                    Err(e) => {
                                        lock(&state)
                                            .strays
                                            .push(format!("TLS handshake failed: {e}"));
                                        changed.notify_one();
                                        return;
                                    }
                                },
                            };
                            let mut stream = stream;
                            if let Some(delay) = http2
                                && crate::serve::is_http2(&mut stream).await
                            {
                                serve_h2(stream, delay, run, state, Arc::clone(&changed)).await;
                            } else {
                                handle(stream, &run, &state).await;
                            }
                            changed.notify_one();
                        });
                    }
                }
                _ = changed.notified() => {}
                _ = tokio::time::sleep_until(tick), if all_ran_at.is_some() => {}
                why = &mut stop => break why,
                _ = tokio::time::sleep_until(deadline) => {
                    break format!(
                        "the run's bound of {} passed",
                        crate::suite::format_duration(run.bound)
                    )
                }
            }
        };
        // Cases still running get their own deadlines to finish.
        let grace = Instant::now() + Duration::from_secs(60).min(run.bound);
        while timeout_at(grace, tasks.join_next())
            .await
            .ok()
            .flatten()
            .is_some()
        {}
        tasks.abort_all();
        let mut state = std::mem::take(&mut *lock(&state));
        attach_reports(&mut state);
        ClientOutcome {
            agents: state.agents,
            ended,
            strays: state.strays,
        }
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    // A task that panicked while holding the lock left consistent data (every update is a
    // single insert); keep going with it.
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// Why the run is over or nearly so.
enum Finished {
    /// An agent asked for `/updateReports`.
    Updated(String),
    /// An agent ran every case (the run ends after [`UPDATE_GRACE`]).
    AllRan(String),
}

/// How long the run waits for `/updateReports` once every case has run.
const UPDATE_GRACE: Duration = Duration::from_secs(3);

/// Why the run is over, if it is.
fn finished(run: &ClientRun, state: &Mutex<State>) -> Option<Finished> {
    let state = lock(state);
    if let Some((agent, _)) = state.agents.iter().find(|(_, a)| a.updated) {
        return Some(Finished::Updated(format!(
            "agent {agent} asked for updateReports"
        )));
    }
    if run.end_when_all_ran
        && let Some((agent, _)) = state
            .agents
            .iter()
            .find(|(_, a)| a.by_case.len() >= run.cases.len())
    {
        return Some(Finished::AllRan(format!("agent {agent} ran every case")));
    }
    None
}

/// The browser's event reports become part of their cases' results.
fn attach_reports(state: &mut State) {
    let reports = std::mem::take(&mut state.reports);
    for ((agent, n), events) in reports {
        if let Some(r) = state
            .agents
            .get_mut(&agent)
            .and_then(|a| a.by_case.get_mut(&n))
        {
            whatwg::judge(r, &events);
        }
    }
}

/// A request's path and query parameters.
struct Route {
    path: String,
    query: Vec<(String, String)>,
}

impl Route {
    fn parse(target: &str) -> Route {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let query = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (percent_decode(k), percent_decode(v))
            })
            .collect();
        Route {
            path: path.to_string(),
            query,
        }
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn agent(&self) -> String {
        self.get("agent")
            .filter(|a| !a.is_empty())
            .unwrap_or("unknown")
            .to_string()
    }

    fn case_number(&self) -> Option<usize> {
        self.get("case").and_then(|c| c.parse().ok())
    }
}

/// `%XX` and `+` decoding of a query component (agent names like `ws@8.18.3`).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads the request head (bounded) and routes it.
async fn handle(mut stream: Stream, run: &ClientRun, state: &Mutex<State>) {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 8192];
    let deadline = Instant::now() + HEAD_TIMEOUT;
    let head = loop {
        match handshake::parse_request(&buf, MAX_HEAD) {
            Ok(Parse::Complete(head)) => break head,
            Ok(Parse::Partial) => {}
            Err(e) => {
                lock(state).strays.push(format!("unparsable request: {e}"));
                let _ = stream
                    .write_all(&handshake::build_error_response(400, &e.to_string()))
                    .await;
                return;
            }
        }
        match timeout_at(deadline, stream.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => return,
        }
    };
    let raw_head = buf[..head.head_len].to_vec();
    let leftover = buf[head.head_len..].to_vec();
    let incoming = Incoming {
        stream,
        head,
        raw_head,
        leftover,
        findings: Vec::new(),
    };
    route(incoming, run, state).await;
}

/// Serves one HTTP/2 connection (`run --client --http2`, RFC 8441): `GET /browser` gets the
/// page, every extended CONNECT with `:protocol websocket` is routed like an HTTP/1.1
/// upgrade, its answer written by the same code and sent as the HTTP/2 response
/// ([`H2Stream::responding`]); other requests get 404.
async fn serve_h2(
    stream: Stream,
    settings_delay: Duration,
    run: Arc<ClientRun>,
    state: Arc<Mutex<State>>,
    changed: Arc<Notify>,
) {
    let peer = stream
        .peer_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
    let tls = stream.tls();
    stream.set_nodelay();
    let (stream, tap) = Tap::new(stream, Side::Server, Meddle::None);
    let stream = stream.hold_preface(settings_delay);
    let mut builder = h2::server::Builder::new();
    builder.enable_connect_protocol();
    let mut conn = match timeout(HEAD_TIMEOUT, builder.handshake::<_, Bytes>(stream)).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            lock(&state)
                .strays
                .push(format!("HTTP/2 connection failed: {e}"));
            return;
        }
        Err(_) => return,
    };
    // Each request runs in a task of its own while this loop keeps driving the connection.
    let mut requests = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = conn.accept() => match accepted {
                Some(Ok((request, respond))) => {
                    let early = tap.opened_before_setting(respond.stream_id().as_u32());
                    if let Some(mut incoming) = h2_request(request, respond, peer, tls.clone()) {
                        if early {
                            incoming.findings.push(connect_before_setting());
                        }
                        let run = Arc::clone(&run);
                        let state = Arc::clone(&state);
                        let changed = Arc::clone(&changed);
                        requests.spawn(async move {
                            route(incoming, &run, &state).await;
                            changed.notify_one();
                        });
                    }
                }
                Some(Err(_)) | None => break,
            },
            Some(_) = requests.join_next(), if !requests.is_empty() => {}
        }
    }
    // The connection is gone; what still runs meets closed streams and ends.
    while requests.join_next().await.is_some() {}
}

/// An extended CONNECT whose HEADERS arrived before the listener's SETTINGS (with
/// SETTINGS_ENABLE_CONNECT_PROTOCOL = 1) had been sent: the client cannot have received the
/// setting (RFC 8441 §3; violation `http2-settings`).
fn connect_before_setting() -> Violation {
    Violation::new(
        crate::wire::ViolationKind::Http2Settings,
        "the extended CONNECT arrived before wsprobe had sent its SETTINGS with \
         SETTINGS_ENABLE_CONNECT_PROTOCOL = 1: RFC 8441 §3 lets a client use :protocol only \
         once it has received that setting",
    )
}

/// One HTTP/2 request: the page is answered here; an extended CONNECT becomes an
/// [`Incoming`] to route.
fn h2_request(
    request: http::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
    peer: SocketAddr,
    tls: Option<crate::net::tls::SessionInfo>,
) -> Option<Incoming> {
    let protocol = request
        .extensions()
        .get::<h2::ext::Protocol>()
        .map(|p| p.as_str().to_string());
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let answer = |respond: &mut h2::server::SendResponse<Bytes>, status: u16, body: &[u8]| {
        let response = http::Response::builder()
            .status(status)
            .header("content-type", "text/html; charset=utf-8")
            .header("cache-control", "no-store")
            .body(());
        if let Ok(response) = response
            && let Ok(mut send) = respond.send_response(response, body.is_empty())
            && !body.is_empty()
        {
            let _ = send.send_data(Bytes::copy_from_slice(body), true);
        }
    };
    if request.method() == http::Method::GET && Route::parse(&path).path == "/browser" {
        answer(&mut respond, 200, BROWSER_PAGE.as_bytes());
        return None;
    }
    if request.method() != http::Method::CONNECT || protocol.is_none() {
        answer(&mut respond, 404, b"");
        return None;
    }
    // The request as the server-role engine reads it: pseudo-header fields first, then the
    // regular ones (docs/client-role.md, "Over HTTP/2").
    let uri = request.uri();
    let mut headers: Vec<(String, Vec<u8>)> = vec![
        (
            ":protocol".into(),
            protocol.unwrap_or_default().into_bytes(),
        ),
        (
            ":scheme".into(),
            uri.scheme_str().unwrap_or_default().as_bytes().to_vec(),
        ),
        (
            ":authority".into(),
            uri.authority()
                .map(|a| a.as_str().as_bytes().to_vec())
                .unwrap_or_default(),
        ),
        (":path".into(), path.clone().into_bytes()),
    ];
    headers.extend(
        request
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec())),
    );
    let head = crate::wire::handshake::RequestHead {
        method: "CONNECT".into(),
        path,
        version: 1,
        headers,
        head_len: 0,
    };
    let stream = H2Stream::responding(respond, request.into_body(), peer, tls);
    Some(Incoming {
        stream: Stream::h2(stream),
        head,
        raw_head: Vec::new(),
        leftover: Vec::new(),
        findings: Vec::new(),
    })
}

/// Routes one request of the protocol (see the module documentation).
async fn route(incoming: Incoming, run: &ClientRun, state: &Mutex<State>) {
    let route = Route::parse(&incoming.head.path);
    match route.path.as_str() {
        "/getCaseCount" => {
            control(incoming, run, Some(run.cases.len().to_string())).await;
        }
        "/getCaseInfo" => {
            let info = route
                .case_number()
                .and_then(|n| run.cases.get(n.wrapping_sub(1)))
                .map(|c| {
                    serde_json::json!({
                        "id": c.autobahn.clone().unwrap_or_else(|| c.id.clone()),
                        "description": c.title,
                    })
                    .to_string()
                });
            control(incoming, run, Some(info.unwrap_or_else(|| "null".into()))).await;
        }
        "/getCaseStatus" => {
            let status = route.case_number().and_then(|n| {
                lock(state)
                    .agents
                    .get(&route.agent())
                    .and_then(|a| a.by_case.get(&n))
                    .map(|r| r.verdict.autobahn().to_string())
            });
            let body =
                serde_json::json!({ "behavior": status.unwrap_or_else(|| "UNKNOWN".into()) });
            control(incoming, run, Some(body.to_string())).await;
        }
        "/updateReports" => {
            control(incoming, run, None).await;
            lock(state).agents.entry(route.agent()).or_default().updated = true;
        }
        "/runCase" => match route.case_number() {
            Some(n) if n >= 1 && n <= run.cases.len() => {
                run_one(incoming, run, state, &route, n).await;
            }
            _ => reject(incoming, state, 404, "no such case number").await,
        },
        "/browserReport" => {
            let events = read_report(incoming, run).await;
            if let (Some(n), Some(events)) = (route.case_number(), events) {
                lock(state).reports.insert((route.agent(), n), events);
            }
        }
        "/browser" => {
            let mut stream = incoming.stream;
            let body = BROWSER_PAGE.as_bytes();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = timeout(CONTROL_TIMEOUT, async {
                stream.write_all(head.as_bytes()).await?;
                stream.write_all(body).await?;
                stream.shutdown().await
            })
            .await;
        }
        path => match path.strip_prefix("/case/") {
            Some(id) => {
                let id = percent_decode(id);
                match run
                    .cases
                    .iter()
                    .position(|c| c.id == id || c.autobahn.as_deref() == Some(id.as_str()))
                {
                    Some(i) => run_one(incoming, run, state, &route, i + 1).await,
                    None => reject(incoming, state, 404, "no such case").await,
                }
            }
            None => reject(incoming, state, 404, "unknown path").await,
        },
    }
}

/// Answers a request that is not part of the protocol.
async fn reject(incoming: Incoming, state: &Mutex<State>, status: u16, why: &str) {
    lock(state).strays.push(format!(
        "{} {}: {why}",
        incoming.head.method, incoming.head.path
    ));
    let mut stream = incoming.stream;
    let _ = timeout(
        CONTROL_TIMEOUT,
        stream.write_all(&handshake::build_error_response(status, why)),
    )
    .await;
}

/// Runs case `n` on the client's connection and files the result under its agent.
async fn run_one(
    incoming: Incoming,
    run: &ClientRun,
    state: &Mutex<State>,
    route: &Route,
    n: usize,
) {
    let case = &run.cases[n - 1];
    let nonce = incoming
        .head
        .header("sec-websocket-key")
        .map(|k| k.trim().to_string());
    let (result, keys) = exec::run_case_as_server(case, &run.context, incoming).await;
    let agent = route.agent();
    let browser = route.get("browser").is_some_and(|b| b == "1");
    {
        let mut s = lock(state);
        let entry = s.agents.entry(agent.clone()).or_default();
        entry.mask_keys.extend(keys);
        entry.nonces.extend(nonce);
        entry.by_case.insert(n, result);
    }
    if browser {
        // The page reports the API's events after its `close` event; the case waits for it
        // (bounded) so the run does not end before it arrives.
        let until = Instant::now() + BROWSER_REPORT_WAIT;
        while Instant::now() < until && !lock(state).reports.contains_key(&(agent.clone(), n)) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A protocol exchange: accept, send `text` if any, close with 1000.
async fn control(incoming: Incoming, run: &ClientRun, text: Option<String>) {
    let deadline = Instant::now() + CONTROL_TIMEOUT;
    let memory = run.context.memory.case();
    let (mut conn, _) = Connection::accept(AcceptParams {
        name: "control",
        incoming,
        respond: None,
        max_message: 1 << 20,
        deadline,
        memory: &memory,
        idle_timeout: CONTROL_TIMEOUT,
        deflate_offer: &[],
    })
    .await;
    if let Some(text) = text {
        let spec = FrameSpec::new(Opcode::Text, text.into_bytes());
        conn.send_frames(&[spec], &WriteShape::Whole, None, deadline)
            .await;
    }
    conn.finish(deadline).await;
}

/// Reads the one text message of a `/browserReport` connection.
async fn read_report(incoming: Incoming, run: &ClientRun) -> Option<Vec<ApiEvent>> {
    let deadline = Instant::now() + CONTROL_TIMEOUT;
    let memory = run.context.memory.case();
    let (mut conn, _) = Connection::accept(AcceptParams {
        name: "report",
        incoming,
        respond: None,
        max_message: 1 << 22,
        deadline,
        memory: &memory,
        idle_timeout: CONTROL_TIMEOUT,
        deflate_offer: &[],
    })
    .await;
    let mut found = None;
    while found.is_none() && conn.pump(deadline).await {
        found = conn.observations.iter().find_map(|o| match o {
            Observation::Message { data, .. } => Some(whatwg::parse_report(data)),
            _ => None,
        });
    }
    conn.finish(deadline).await;
    found.flatten()
}

/// Judges the unpredictability of the mask keys and handshake nonces of one agent's run as
/// one extra result (RFC 6455 §5.3, §10.3, §4.1).
pub fn masking_result(agent: &AgentResults) -> CaseResult {
    masks::judge(&agent.mask_keys, &agent.nonces)
}
