//! Executing one case: steps in order on real connections, expectations judged, the closing
//! behaviour judged separately, and a verdict.

use std::time::Duration;

use tokio::time::Instant;

use super::conn::{
    AcceptParams, Connection, HandshakeOutcome, Incoming, Observation, OpenParams, WriteShape,
};
use super::deflate::Deflate;
use super::matcher::{self, Context, Cursor, Eval};
use super::result::{CaseResult, CloseBehavior, CloseVerdict, Closer, Failure, Perf, Verdict};
use super::rng::Rng;
use super::verdict::{Facts, StopKind, close_severity, decide};
use crate::suite::model::{
    AltVerdict, Case, Chop, CloseCall, ClosingRule, Connect, DeflateExpect, DeflateForm, Echo,
    Expect, FrameDef, Ignore, Initiator, Location, MaskSpec, Matcher, Send, SendWhat,
    StatusPattern, Step, StepKind,
};
use crate::wire::deflate::receive::RSV1;
use crate::wire::deflate::{DeflateResponse, forms};
use crate::wire::handshake::{ClientRequest, Offer};
use crate::wire::{ClosePayload, FrameSpec, Level, Opcode, Role};

/// Where and how cases connect.
#[derive(Clone, Debug)]
pub struct CaseContext {
    /// Where the target is and how to reach it (TCP or TLS, directly or through a proxy).
    pub endpoint: crate::net::Endpoint,
    /// `Host` header value (host and port as in the URL).
    pub host: String,
    /// Path (and query) of the target URL.
    pub path: String,
    /// Multiplier for every timeout and deadline.
    pub timeout_scale: f64,
    /// Largest message accepted from the server.
    pub max_message: u64,
    /// Extra headers for every handshake (e.g. Authorization).
    pub headers: Vec<(String, String)>,
    /// `--seed`: mask keys and nonces reproducible from this seed; `None` draws them from the
    /// OS entropy source (RFC 6455 §5.3 requires unpredictable masking keys).
    pub seed: Option<u64>,
    /// `--idle-timeout` (unscaled): a wait ends when nothing at all arrives for this long, so
    /// long kill timers only apply while data keeps flowing.
    pub idle_timeout: Duration,
    /// The run's memory budget for what servers send (`--max-memory`), shared by all cases.
    pub memory: super::budget::Budget,
    /// `--extension`: the extension offers of every `connect` that gives none.
    pub extensions: Vec<String>,
}

/// The default `--idle-timeout`.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// A seed for one case derived from the run's seed and the case id, so a case's keys do not
/// depend on which other cases run.
fn case_seed(seed: u64, id: &str) -> u64 {
    id.bytes().fold(seed ^ 0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

struct NamedConn {
    name: String,
    conn: Connection,
    cursor: Cursor,
}

/// Why execution stopped early.
enum Stop {
    Failed(Failure),
    /// The handshake did not open a connection the case needs open.
    HandshakeFailed(Failure),
    Unimplemented(Failure),
    /// The case's precondition does not hold for this server: INFORMATIONAL.
    NotApplicable(Failure),
    Error(Failure),
}

/// A NON-STRICT or INFORMATIONAL alternative an expectation took, with what was observed.
struct Note {
    verdict: AltVerdict,
    location: Location,
    expected: String,
    observed: String,
}

/// What the observations between two cursors were, for a note.
fn describe_consumed(conn: &Connection, from: Cursor, to: Cursor) -> String {
    let end = to.obs.min(conn.observations.len());
    let start = from.obs.min(end);
    let seen: Vec<String> = conn.observations[start..end]
        .iter()
        .map(|o| o.describe())
        .collect();
    if seen.is_empty() {
        let events = conn.browser().events();
        let ev_end = to.events.min(events.len());
        let ev = &events[from.events.min(ev_end)..ev_end];
        if ev.is_empty() {
            format!("readyState {}", conn.browser().state().name())
        } else {
            format!("events {}", matcher::describe_events(ev))
        }
    } else {
        seen.join(", then ")
    }
}

struct Exec<'a> {
    case: &'a Case,
    cx: &'a CaseContext,
    conns: Vec<NamedConn>,
    deadline: Instant,
    worst: AltVerdict,
    rng: Rng,
    last_send: Option<Instant>,
    rtts: Vec<Duration>,
    bytes: u64,
    notes: Vec<Note>,
    memory: super::budget::CaseMemory,
    /// The role wsprobe plays in this case.
    role: Role,
    /// As the server: the client's connection for the case's `connect` step.
    incoming: Option<Incoming>,
}

/// Runs one case to a verdict. Never panics on target behaviour and never outlives the
/// case deadline (closing included).
pub async fn run_case(case: &Case, cx: &CaseContext) -> CaseResult {
    run_case_in_role(case, cx, None).await.0
}

/// Runs one case with wsprobe as the server, on a client's connection whose request head has
/// been read (`wsprobe run --client`).
/// Also returns the mask keys of every frame the client sent, for the run's check that they
/// are unpredictable.
pub async fn run_case_as_server(
    case: &Case,
    cx: &CaseContext,
    incoming: Incoming,
) -> (CaseResult, Vec<[u8; 4]>) {
    run_case_in_role(case, cx, Some(incoming)).await
}

async fn run_case_in_role(
    case: &Case,
    cx: &CaseContext,
    incoming: Option<Incoming>,
) -> (CaseResult, Vec<[u8; 4]>) {
    let started = Instant::now();
    let mut result = CaseResult::of_case(case, Verdict::Pass, None);
    if let Some(reason) = &case.skip {
        result.verdict = Verdict::Skip;
        result.failure = Some(Failure {
            summary: reason.clone(),
            location: case.location.clone(),
            expected: vec![],
            observed: String::new(),
        });
        return (result, Vec::new());
    }
    let mut exec = Exec {
        case,
        cx,
        conns: Vec::new(),
        deadline: started + scale(case.deadline, cx.timeout_scale),
        worst: AltVerdict::Ok,
        rng: Rng::new(cx.seed.map(|s| case_seed(s, &case.id))),
        last_send: None,
        rtts: Vec::new(),
        bytes: 0,
        notes: Vec::new(),
        memory: cx.memory.case(),
        role: if incoming.is_some() {
            Role::Server
        } else {
            Role::Client
        },
        incoming,
    };
    let stop = exec.run_steps(&case.steps).await.err();
    // Close every connection the way a page would: the closing handshake gets one step
    // timeout (at most the idle timeout) but never runs past the case deadline, which bounds
    // the whole case. After wsprobe failed a connection the outcome is already known, so
    // the server gets a short while to close TCP, not a whole step timeout.
    let bound = exec
        .timeout(None)
        .min(scale(cx.idle_timeout, cx.timeout_scale));
    let now = Instant::now();
    // Once an expectation has failed the verdict cannot change with the closing (docs/
    // verdicts.md: a closing finding counts at most at the case's level), so the closing
    // handshake gets the same short wait.
    let decided = matches!(stop, Some(Stop::Failed(_) | Stop::HandshakeFailed(_)));
    for c in &mut exec.conns {
        let bound = if c.conn.failed_by_client() || decided {
            bound.min(scale(FAILED_CLOSE_WAIT, cx.timeout_scale))
        } else {
            bound
        };
        c.conn.finish((now + bound).min(exec.deadline)).await;
    }
    // What the server sent that no step consumed is judged once the conversation is over,
    // so the result does not depend on when reads returned (docs/verdicts.md).
    let stop = match stop {
        None => exec.check_leftovers(),
        some => some,
    };
    let close = exec.judge_close();
    let close_frame_received = exec
        .conns
        .first()
        .is_some_and(|c| c.conn.close_facts().close_received);
    for c in &exec.conns {
        result.violations.extend(c.conn.violations.iter().cloned());
        result.traces.push(c.conn.trace());
    }
    let facts = Facts {
        level: case.level,
        stop: match &stop {
            None => StopKind::Completed,
            Some(Stop::Failed(_)) => StopKind::ExpectationFailed,
            Some(Stop::HandshakeFailed(_)) => StopKind::HandshakeFailed,
            Some(Stop::Unimplemented(_)) => StopKind::Unimplemented,
            Some(Stop::NotApplicable(_)) => StopKind::NotApplicable,
            Some(Stop::Error(_)) => StopKind::Error,
        },
        violation: result
            .violations
            .iter()
            .map(|v| v.kind.level())
            .min_by_key(|l| match l {
                Level::Must => 0,
                Level::Should => 1,
                Level::Info => 2,
            }),
        close: close
            .as_ref()
            .map(|c| (c.verdict, close_severity(c.verdict, close_frame_received))),
        worst_alternative: exec.worst,
    };
    result.verdict = decide(&facts);
    result.failure = match stop {
        Some(
            Stop::Error(f)
            | Stop::Unimplemented(f)
            | Stop::NotApplicable(f)
            | Stop::Failed(f)
            | Stop::HandshakeFailed(f),
        ) => Some(f),
        None if !result.violations.is_empty() => Some(Failure {
            summary: format!("{} broke the protocol", exec.peer()),
            location: case.location.clone(),
            expected: vec!["frames that follow RFC 6455".into()],
            observed: result
                .violations
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        }),
        None => match &close {
            Some(c) if c.verdict.is_failure() => Some(Failure {
                summary: format!("closing behaviour {}", c.verdict.autobahn()),
                location: case.location.clone(),
                expected: vec![describe_closing(&case.closing)],
                observed: c.detail.clone(),
            }),
            _ => exec
                .notes
                .iter()
                .find(|n| n.verdict == exec.worst)
                .map(|n| Failure {
                    summary: exec.worst_name().to_string(),
                    location: n.location.clone(),
                    expected: vec![n.expected.clone()],
                    observed: n.observed.clone(),
                }),
        },
    };
    result.close = close;
    if !exec.rtts.is_empty() && case.tags.iter().any(|t| t == "performance") {
        let mut rtts = exec.rtts.clone();
        rtts.sort();
        let pick = |q: f64| rtts[((rtts.len() - 1) as f64 * q).round() as usize];
        result.perf = Some(Perf {
            bytes: exec.bytes,
            round_trips: rtts.len() as u64,
            median_rtt: Some(pick(0.5)),
            p99_rtt: Some(pick(0.99)),
        });
    }
    result.duration = started.elapsed();
    let keys = exec
        .conns
        .iter_mut()
        .flat_map(|c| std::mem::take(&mut c.conn.mask_keys))
        .collect();
    (result, keys)
}

/// How long a server gets to close TCP once the verdict is decided: after wsprobe failed the
/// connection (RFC 6455 §7.1.7: the client then waits for the server to close) or after an
/// expectation failed.
const FAILED_CLOSE_WAIT: Duration = Duration::from_secs(1);

fn scale(d: Duration, s: f64) -> Duration {
    d.mul_f64(s.max(0.01))
}

fn describe_closing(rule: &ClosingRule) -> String {
    let who = match rule.initiator {
        Initiator::Any => "either side closes first",
        Initiator::Client => "wsprobe closes first",
        Initiator::Server => "the server closes first",
    };
    let mut s = who.to_string();
    if rule.clean {
        s.push_str(", clean close (both close frames, server closes tcp)");
    }
    if !rule.codes.is_empty() {
        let codes: Vec<String> = rule.codes.iter().map(|c| c.to_string()).collect();
        s.push_str(&format!(", server close code {}", codes.join(" or ")));
    }
    s
}

impl Exec<'_> {
    /// The peer under test, as failure summaries name it.
    fn peer(&self) -> &'static str {
        match self.role {
            Role::Client => "the server",
            Role::Server => "the client",
        }
    }

    fn worst_name(&self) -> &'static str {
        match self.worst {
            AltVerdict::Ok => "as preferred",
            AltVerdict::NonStrict => "allowed, not preferred",
            AltVerdict::Informational => "recorded",
        }
    }

    fn timeout(&self, step: Option<Duration>) -> Duration {
        scale(step.unwrap_or(self.case.timeout), self.cx.timeout_scale)
    }

    fn conn_index(&self, name: &str) -> Option<usize> {
        self.conns.iter().position(|c| c.name == name)
    }

    fn step_deadline(&self, step: Option<Duration>) -> Instant {
        (Instant::now() + self.timeout(step)).min(self.deadline)
    }

    fn missing_conn(&self, step: &Step) -> Stop {
        Stop::Error(Failure {
            summary: format!("no open connection named `{}`", step.conn),
            location: step.location.clone(),
            expected: vec![],
            observed: "the case acts on a connection before connecting it".into(),
        })
    }

    async fn run_steps(&mut self, steps: &[Step]) -> Result<(), Stop> {
        for step in steps {
            if Instant::now() >= self.deadline {
                return Err(Stop::Failed(Failure {
                    summary: "case deadline reached".into(),
                    location: step.location.clone(),
                    expected: vec![format!(
                        "the case to finish within {}",
                        crate::suite::format_duration(scale(
                            self.case.deadline,
                            self.cx.timeout_scale
                        ))
                    )],
                    observed: "the deadline passed before this step".into(),
                }));
            }
            match &step.kind {
                StepKind::Connect(c) => self.connect(step, c).await?,
                StepKind::Send(s) => self.send(step, s).await?,
                StepKind::Expect(e) => self.expect(step, e).await?,
                StepKind::Close(call) => self.close(step, call).await?,
                StepKind::Wait(d) => {
                    let until = (Instant::now() + *d).min(self.deadline);
                    if let Some(i) = self.conn_index(&step.conn) {
                        let conn = &mut self.conns[i].conn;
                        // Once the connection has ended, or wsprobe has failed it, nothing can
                        // arrive that would change the outcome: the pause ends there.
                        while Instant::now() < until
                            && !conn.is_closed()
                            && !conn.failed_by_client()
                        {
                            if !conn.pump(until).await {
                                break;
                            }
                        }
                    } else {
                        tokio::time::sleep_until(until).await;
                    }
                }
                StepKind::Mark(name) => {
                    let i = self
                        .conn_index(&step.conn)
                        .ok_or_else(|| self.missing_conn(step))?;
                    self.conns[i].conn.mark(name).await;
                }
                StepKind::Echo(e) => self.echo(step, e).await?,
                StepKind::Repeat { times, steps } => {
                    for _ in 0..*times {
                        Box::pin(self.run_steps(steps)).await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn connect(&mut self, step: &Step, c: &Connect) -> Result<(), Stop> {
        if self.role == Role::Server {
            return self.accept(step, c).await;
        }
        let key = c.key.clone().unwrap_or_else(|| self.rng.handshake_key());
        let offered = c
            .extensions
            .clone()
            .unwrap_or_else(|| self.cx.extensions.clone());
        let path = c.path.clone().unwrap_or_else(|| self.cx.path.clone());
        let host = c.host.clone().unwrap_or_else(|| self.cx.host.clone());
        let request = match &c.raw {
            Some(raw) => raw
                .replace("{host}", &host)
                .replace("{path}", &path)
                .replace("{key}", &key)
                .into_bytes(),
            None => {
                let mut req = ClientRequest::new(&host, &path, &key);
                if let Some(m) = &c.method {
                    req.method = m.clone();
                }
                if let Some(v) = &c.http_version {
                    req.http_version = v.clone();
                }
                if let Some(v) = &c.version {
                    req.version = Some(v.clone());
                }
                req.origin = c.origin.clone();
                req.protocols = c.protocols.clone();
                req.extensions = offered.clone();
                for omit in &c.omit {
                    match omit.as_str() {
                        "host" => req.host = None,
                        "upgrade" => req.upgrade = None,
                        "connection" => req.connection = None,
                        "key" => req.key = None,
                        "version" => req.version = None,
                        _ => {}
                    }
                }
                req.headers = self.cx.headers.clone();
                req.headers.extend(c.headers.iter().cloned());
                if let Some(body) = &c.body {
                    req.body = body.to_bytes();
                }
                req.to_bytes()
            }
        };
        // What was offered, including offers written as extra (possibly repeated) header
        // lines: a server may select from any of them (§4.1).
        let mut protocols = c.protocols.clone();
        let mut extension_items = if c.raw.is_some() {
            raw_extension_items(&request)
        } else {
            offered
        };
        for (name, value) in &c.headers {
            if name.eq_ignore_ascii_case("sec-websocket-protocol") {
                protocols.extend(crate::wire::handshake::split_list(value));
            } else if name.eq_ignore_ascii_case("sec-websocket-extensions") {
                extension_items.extend(value.split(',').map(|e| e.trim().to_string()));
            }
        }
        let offer = Offer {
            key: key.trim().to_string(),
            protocols,
            extensions: extension_items
                .iter()
                .filter_map(|e| e.split(';').next().map(|n| n.trim().to_string()))
                .filter(|n| !n.is_empty())
                .collect(),
        };
        let shape = chop_shape(c.chop.as_ref());
        let writes = shape.sizes(&[request.len()], request.len());
        let deadline = self.step_deadline(c.timeout);
        let name = if step.conn.is_empty() {
            "main".to_string()
        } else {
            step.conn.clone()
        };
        let secret_headers: Vec<String> = self.cx.headers.iter().map(|(n, _)| n.clone()).collect();
        let own_key = c.key.is_none().then_some(key.as_str());
        let seed = self.rng.is_seeded().then(|| self.rng.next_u64());
        let h2_share = c
            .http2
            .share
            .as_ref()
            .and_then(|n| self.conn_index(n))
            .and_then(|i| self.conns[i].conn.h2_client().cloned());
        if let Some(share) = c
            .http2
            .share
            .as_ref()
            .filter(|_| h2_share.is_none() && self.cx.endpoint.transport.http2)
        {
            return Err(Stop::Error(Failure {
                summary: format!("no HTTP/2 connection named {share} to share"),
                location: step.location.clone(),
                expected: vec![format!("an earlier connect opened as {share} over HTTP/2")],
                observed: "none".into(),
            }));
        }
        let opened = Connection::open(OpenParams {
            name: &name,
            endpoint: &self.cx.endpoint,
            request: &request,
            writes: &writes,
            write_delay: None,
            offer: &offer,
            max_message: self.cx.max_message,
            deadline,
            memory: &self.memory,
            abort: c.abort,
            secret_headers: &secret_headers,
            idle_timeout: scale(self.cx.idle_timeout, self.cx.timeout_scale),
            own_key,
            seed,
            extension_items: &extension_items,
            h2_protocol: c.http2.protocol.as_deref(),
            h2_share,
            h2_raw: Some(&c.http2),
        })
        .await;
        let (conn, outcome) = match opened {
            Ok(x) => x,
            Err(e) => {
                return Err(Stop::Error(Failure {
                    summary: "cannot reach the target".into(),
                    location: step.location.clone(),
                    expected: vec!["a tcp connection to the target".into()],
                    observed: e.to_string(),
                }));
            }
        };
        if let Some(i) = self.conn_index(&name) {
            self.conns.remove(i);
        }
        self.conns.push(NamedConn {
            name,
            conn,
            cursor: Cursor::default(),
        });
        if c.abort {
            return Ok(());
        }
        judge_handshake(c, &outcome, &step.location)
    }

    /// As the server: answers the client's handshake as the step's `respond` says.
    async fn accept(&mut self, step: &Step, c: &Connect) -> Result<(), Stop> {
        let Some(incoming) = self.incoming.take() else {
            return Err(Stop::Error(Failure {
                summary: "a client case serves one connection".into(),
                location: step.location.clone(),
                expected: vec![],
                observed: "a second connect step, but the client opened one connection".into(),
            }));
        };
        let name = if step.conn.is_empty() {
            "main".to_string()
        } else {
            step.conn.clone()
        };
        let deadline = self.step_deadline(c.timeout);
        let offer = c
            .extensions
            .clone()
            .unwrap_or_else(|| self.cx.extensions.clone());
        let (mut conn, outcome) = Connection::accept(AcceptParams {
            name: &name,
            incoming,
            respond: c.respond.as_ref(),
            max_message: self.cx.max_message,
            deadline,
            memory: &self.memory,
            idle_timeout: scale(self.cx.idle_timeout, self.cx.timeout_scale),
            deflate_offer: &offer,
        })
        .await;
        let unimplemented = c
            .expect
            .requires_extension
            .as_ref()
            .filter(|_| !outcome.deflate);
        if !outcome.violations.is_empty() {
            conn.record_violations(outcome.violations);
        }
        self.conns.push(NamedConn {
            name,
            conn,
            cursor: Cursor::default(),
        });
        if let Some(ext) = unimplemented {
            return Err(Stop::Unimplemented(Failure {
                summary: format!("the client does not implement {ext}"),
                location: step.location.clone(),
                expected: vec![format!(
                    "Sec-WebSocket-Extensions offering {ext} that wsprobe can accept"
                )],
                observed: "no acceptable offer".into(),
            }));
        }
        match outcome.error {
            Some(e) => Err(Stop::Failed(Failure {
                summary: "the handshake response could not be written".into(),
                location: step.location.clone(),
                expected: vec!["the client to read the response".into()],
                observed: e,
            })),
            None => Ok(()),
        }
    }

    /// A mask key for a frame wsprobe sends with `mask: auto`: a fresh key as the client,
    /// none as the server (RFC 6455 §5.1).
    fn auto_mask(role: Role, rng: &mut Rng) -> Option<[u8; 4]> {
        (role == Role::Client).then(|| rng.mask_key())
    }

    /// The frames of a send step on connection `i`: text and binary compressed when
    /// permessage-deflate is agreed (or a `deflate:` form asks), then split by `fragment_size`.
    fn frame_specs(&mut self, i: usize, s: &Send) -> Result<Vec<FrameSpec>, String> {
        let Exec {
            rng, conns, role, ..
        } = self;
        let role = *role;
        let mut key = || Exec::auto_mask(role, rng);
        let deflate = conns[i].conn.deflate_mut();
        let message = |op: Opcode, p: &crate::suite::model::Payload| {
            message_specs(
                deflate,
                op,
                &p.to_bytes(),
                MessageShape {
                    fragment_size: s.fragment_size,
                    compress: s.compress,
                    form: s.deflate,
                },
                &mut key,
            )
        };
        let specs = match &s.what {
            SendWhat::Text(p) => return message(Opcode::Text, p),
            SendWhat::Binary(p) => return message(Opcode::Binary, p),
            SendWhat::Ping(p) => vec![with_mask(FrameSpec::new(Opcode::Ping, p.to_bytes()), key())],
            SendWhat::Pong(p) => vec![with_mask(FrameSpec::new(Opcode::Pong, p.to_bytes()), key())],
            SendWhat::Close(cs) => {
                let payload = match (&cs.payload, cs.code) {
                    (Some(p), _) => p.to_bytes(),
                    (None, Some(code)) => ClosePayload::Code {
                        code,
                        reason: cs.reason.to_bytes(),
                    }
                    .to_bytes(),
                    (None, None) => Vec::new(),
                };
                vec![with_mask(FrameSpec::new(Opcode::Close, payload), key())]
            }
            SendWhat::Frames(defs) => {
                let specs: Vec<FrameSpec> = defs.iter().map(|d| frame_spec(d, &mut key)).collect();
                // Compressed bytes wsprobe's compressor did not produce: the server's window
                // now differs from the compressor's, so the compressor starts afresh.
                if specs
                    .iter()
                    .any(|f| f.rsv & RSV1 != 0 && !f.opcode.is_control())
                    && let Some(d) = conns[i].conn.deflate_mut()
                {
                    d.reset_tx().map_err(|e| e.to_string())?;
                }
                specs
            }
            SendWhat::Raw(_) | SendWhat::Http2(_) => Vec::new(),
        };
        Ok(specs)
    }

    /// The `echo` step: `count` corpus windows, each sent after the previous echo, every echo
    /// compared with what was sent. Compared messages are let go at once, so a loop of a
    /// thousand 128 KiB messages holds one message at a time.
    async fn echo(&mut self, step: &Step, e: &Echo) -> Result<(), Stop> {
        let i = self
            .conn_index(&step.conn)
            .ok_or_else(|| self.missing_conn(step))?;
        let deadline = self.step_deadline(e.timeout);
        let idle = scale(self.cx.idle_timeout, self.cx.timeout_scale);
        // The loop compares messages, as Autobahn's does: pings (answered by the client like a
        // browser answers them) and pongs are passed over whatever the case ignores, so a
        // server's keepalive cannot fail the loop.
        let ignore = [Ignore::Ping, Ignore::Pong];
        let opcode = if e.corpus.is_text() {
            Opcode::Text
        } else {
            Opcode::Binary
        };
        let fail = |n: u32, expected: String, observed: String| {
            let what = if observed.starts_with("nothing within") {
                "was not echoed in time"
            } else if observed.starts_with("wsprobe failed")
                || observed.contains("connection ended")
            {
                "was not echoed: the connection ended"
            } else {
                "differs"
            };
            Stop::Failed(Failure {
                summary: format!("echo {} of {} {what}", n + 1, e.count),
                location: step.location.clone(),
                expected: vec![expected],
                observed,
            })
        };
        let mut sent = Vec::with_capacity(e.len);
        for n in 0..e.count {
            e.corpus.window(u64::from(n), e.len, &mut sent);
            let specs = {
                let Exec {
                    rng, conns, role, ..
                } = self;
                let role = *role;
                let mut key = || Exec::auto_mask(role, rng);
                let shape = MessageShape {
                    fragment_size: e.fragment_size,
                    compress: None,
                    form: None,
                };
                message_specs(conns[i].conn.deflate_mut(), opcode, &sent, shape, &mut key)
            };
            let specs = specs.map_err(|why| {
                Stop::Error(Failure {
                    summary: "cannot compress the message".into(),
                    location: step.location.clone(),
                    expected: vec![],
                    observed: why,
                })
            })?;
            self.bytes += sent.len() as u64;
            let started = Instant::now();
            self.last_send = Some(started);
            self.conns[i]
                .conn
                .send_frames(&specs, &WriteShape::Whole, None, deadline)
                .await;
            let want = || {
                format!(
                    "{opcode} message of {} bytes equal to message {}",
                    sent.len(),
                    n + 1
                )
            };
            loop {
                let nc = &mut self.conns[i];
                let at = matcher::skip_ignored(&nc.conn, nc.cursor.obs, &ignore);
                match nc.conn.observations.get(at) {
                    Some(Observation::Message {
                        opcode: got, data, ..
                    }) => {
                        if *got != opcode || data[..] != sent[..] {
                            let why = if *got != opcode {
                                format!("a {got} message")
                            } else if data.len() != sent.len() {
                                format!("{} bytes", data.len())
                            } else {
                                let first = data.iter().zip(&sent).position(|(a, b)| a != b);
                                format!(
                                    "{} bytes differing from byte {}",
                                    data.len(),
                                    first.unwrap_or(0)
                                )
                            };
                            return Err(fail(n, want(), why));
                        }
                        nc.cursor.obs = at + 1;
                        nc.conn.release_message(at);
                        self.rtts.push(started.elapsed());
                        break;
                    }
                    Some(other) => return Err(fail(n, want(), other.describe())),
                    None => {}
                }
                let now = Instant::now();
                let conn = &mut self.conns[i].conn;
                if conn.failed_by_client() || conn.is_closed() {
                    return Err(fail(
                        n,
                        want(),
                        if conn.violations.is_empty() {
                            "the connection ended".into()
                        } else {
                            format!(
                                "wsprobe failed the connection: {}",
                                conn.violations
                                    .iter()
                                    .map(|v| v.to_string())
                                    .collect::<Vec<_>>()
                                    .join("; ")
                            )
                        },
                    ));
                }
                let quiet = now.saturating_duration_since(conn.last_activity().max(started));
                if now >= deadline || quiet >= idle {
                    return Err(fail(
                        n,
                        want(),
                        format!(
                            "nothing within {}",
                            crate::suite::format_duration(if now >= deadline {
                                self.timeout(e.timeout)
                            } else {
                                idle
                            })
                        ),
                    ));
                }
                conn.pump(deadline.min(now + Duration::from_millis(50)))
                    .await;
            }
        }
        Ok(())
    }

    async fn send(&mut self, step: &Step, s: &Send) -> Result<(), Stop> {
        let i = self
            .conn_index(&step.conn)
            .ok_or_else(|| self.missing_conn(step))?;
        let shape = chop_shape(s.chop.as_ref());
        let deadline = self.deadline;
        if let SendWhat::Http2(frame) = &s.what {
            if self.conns[i].conn.h2_client().is_none() {
                return Err(Stop::Error(Failure {
                    summary: "`send: { http2 }` needs a WebSocket over HTTP/2".into(),
                    location: step.location.clone(),
                    expected: vec!["`wsprobe run --http2`".into()],
                    observed: "a WebSocket over HTTP/1.1".into(),
                }));
            }
            let wait = self.step_deadline(None);
            return match self.conns[i].conn.send_http2(*frame, wait).await {
                Ok(()) => Ok(()),
                Err(why) => Err(Stop::Failed(Failure {
                    summary: "the HTTP/2 frame went unanswered".into(),
                    location: step.location.clone(),
                    expected: vec!["a PING ACK with the same 8 octets (RFC 9113 §6.7)".into()],
                    observed: why,
                })),
            };
        }
        if let SendWhat::Raw(p) = &s.what {
            let bytes = p.to_bytes();
            self.conns[i]
                .conn
                .send_raw(&bytes, &shape, s.delay, deadline)
                .await;
            return Ok(());
        }
        let specs = match self.frame_specs(i, s) {
            Ok(specs) => specs,
            Err(e) => {
                return Err(Stop::Error(Failure {
                    summary: "cannot compress the message".into(),
                    location: step.location.clone(),
                    expected: vec![],
                    observed: e,
                }));
            }
        };
        self.bytes += specs
            .iter()
            .filter(|f| !f.opcode.is_control())
            .map(|f| f.payload.len() as u64)
            .sum::<u64>();
        self.conns[i]
            .conn
            .send_frames(&specs, &shape, s.delay, deadline)
            .await;
        self.last_send = Some(Instant::now());
        Ok(())
    }

    async fn close(&mut self, step: &Step, call: &CloseCall) -> Result<(), Stop> {
        let i = self
            .conn_index(&step.conn)
            .ok_or_else(|| self.missing_conn(step))?;
        let deadline = self.step_deadline(None);
        self.conns[i]
            .conn
            .close_call(call.code, &call.reason, deadline)
            .await;
        Ok(())
    }

    async fn expect(&mut self, step: &Step, e: &Expect) -> Result<(), Stop> {
        let i = self
            .conn_index(&step.conn)
            .ok_or_else(|| self.missing_conn(step))?;
        let started = Instant::now();
        let deadline = self.step_deadline(e.timeout);
        let idle = scale(self.cx.idle_timeout, self.cx.timeout_scale);
        let ignore = self.case.ignore.clone();
        loop {
            let now = Instant::now();
            let cx = Context {
                ignore: &ignore,
                started,
                now,
            };
            let nc = &self.conns[i];
            let mut pending = false;
            let mut blocked = false;
            let mut mismatches = Vec::new();
            let mut matched = None;
            let mut loose = None;
            for alt in &e.alternatives {
                match matcher::eval_sequence(&alt.sequence, &nc.conn, nc.cursor, &cx) {
                    Eval::Matched(cur) => {
                        if matched.is_none() {
                            matched = Some((alt.verdict, cur, blocked, None));
                        }
                    }
                    Eval::Loosely(cur, why) => {
                        // A loose match (another valid close code) yields to any alternative
                        // that matches exactly, even one listed later.
                        if matched.is_none() && loose.is_none() {
                            let verdict = alt.verdict.max(AltVerdict::NonStrict);
                            loose = Some((verdict, cur, blocked, Some(why)));
                        }
                    }
                    Eval::Pending(why) => {
                        pending = true;
                        // An alternative listed earlier is preferred: while it may still
                        // match, a later one that already matched must wait.
                        if matched.is_none() {
                            blocked = true;
                        }
                        mismatches.push(why);
                    }
                    Eval::Mismatch(why) => mismatches.push(why),
                }
            }
            let matched = matched.or(loose);
            // Once wsprobe has failed the connection (the server broke the protocol) nothing
            // the steps wait for can arrive any more, and the verdict is already decided.
            let failed = nc.conn.failed_by_client();
            if let Some((verdict, cur, blocked, loose)) = matched
                && (!blocked || now >= deadline || failed)
            {
                let expects_message = e
                    .alternatives
                    .iter()
                    .flat_map(|a| &a.sequence)
                    .any(|m| matches!(m, Matcher::Message(_)));
                if expects_message && let Some(sent) = self.last_send {
                    self.rtts.push(now - sent);
                }
                if verdict != AltVerdict::Ok {
                    let observed = describe_consumed(&self.conns[i].conn, nc.cursor, cur);
                    let observed = match loose {
                        Some(why) => why,
                        None => observed,
                    };
                    self.notes.push(Note {
                        verdict,
                        location: step.location.clone(),
                        expected: e
                            .alternatives
                            .first()
                            .map(|a| matcher::describe_sequence(&a.sequence))
                            .unwrap_or_default(),
                        observed,
                    });
                }
                self.worst = self.worst.max(verdict);
                self.conns[i].cursor = cur;
                return Ok(());
            }
            let quiet =
                now.saturating_duration_since(self.conns[i].conn.last_activity().max(started));
            let idle_out = pending && quiet >= idle;
            if !pending || now >= deadline || failed || idle_out {
                let mut failure = self.expect_failure(step, e, i, &mismatches, pending && !failed);
                if idle_out && !failed && now < deadline {
                    failure.observed = format!(
                        "nothing arrived for {} (--idle-timeout); {}",
                        crate::suite::format_duration(idle),
                        failure.observed
                    );
                }
                return Err(Stop::Failed(failure));
            }
            let conn = &mut self.conns[i].conn;
            if !conn
                .pump(deadline.min(now + Duration::from_millis(50)))
                .await
                && conn.is_closed()
            {
                // Nothing more can arrive; let `nothing` and `state` matchers settle.
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }

    fn expect_failure(
        &self,
        step: &Step,
        e: &Expect,
        i: usize,
        seen: &[String],
        timed_out: bool,
    ) -> Failure {
        let expected = e
            .alternatives
            .iter()
            .map(|a| {
                let tag = match a.verdict {
                    AltVerdict::Ok => "",
                    AltVerdict::NonStrict => " (NON-STRICT)",
                    AltVerdict::Informational => " (INFORMATIONAL)",
                };
                format!("{}{tag}", matcher::describe_sequence(&a.sequence))
            })
            .collect();
        let conn = &self.conns[i].conn;
        let mut observed = seen
            .iter()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect::<Vec<_>>();
        observed.dedup();
        let mut observed = observed.join("; ");
        if timed_out {
            observed = format!(
                "nothing matching within {}{}",
                crate::suite::format_duration(self.timeout(e.timeout)),
                if observed.is_empty() {
                    String::new()
                } else {
                    format!(" ({observed})")
                }
            );
        }
        let first = e
            .alternatives
            .first()
            .map(|a| matcher::describe_sequence(&a.sequence))
            .unwrap_or_default();
        if conn.waited_for_memory() {
            observed.push_str(&format!(
                "; reading was paused while other cases of the run held the memory this one needs (--max-memory {})",
                self.cx.memory.limit()
            ));
        }
        let mut summary = format!("expected {first}");
        if !conn.violations.is_empty() {
            // What decided the case comes first: the peer broke the protocol, so wsprobe
            // failed the connection and the expectation could no longer be met.
            let v: Vec<String> = conn.violations.iter().map(|v| v.to_string()).collect();
            summary = format!("{} broke the protocol: {}", self.peer(), v.join("; "));
            observed = format!(
                "wsprobe failed the connection: {}{}",
                v.join("; "),
                if observed.is_empty() {
                    String::new()
                } else {
                    format!(" (the step was {observed})")
                }
            );
        }
        Failure {
            summary,
            location: step.location.clone(),
            expected,
            observed,
        }
    }

    /// Autobahn compares what the server sent exactly: a data message or control frame nobody
    /// expected is a failure even when every expectation was met. Judged after the closing
    /// handshake, over everything the server sent before its close frame (or the end of TCP):
    /// by then it has all arrived, whenever the reads returned, so the verdict is the same in
    /// every run (docs/verdicts.md, "What the server sends after the last step").
    fn check_leftovers(&self) -> Option<Stop> {
        use super::conn::Observation;
        for nc in &self.conns {
            let rest = &nc.conn.observations[nc.cursor.obs.min(nc.conn.observations.len())..];
            let end = rest
                .iter()
                .position(|o| {
                    matches!(
                        o,
                        Observation::Close(_) | Observation::TcpClosed | Observation::Reset
                    )
                })
                .unwrap_or(rest.len());
            let unexpected = rest[..end].iter().find(|o| match o {
                Observation::Message { .. } => true,
                Observation::Ping(_) => !self
                    .case
                    .ignore
                    .contains(&crate::suite::model::Ignore::Ping),
                Observation::Pong(_) => !self
                    .case
                    .ignore
                    .contains(&crate::suite::model::Ignore::Pong),
                _ => false,
            });
            if let Some(o) = unexpected {
                return Some(Stop::Failed(Failure {
                    summary: "the server sent something no step expected".into(),
                    location: self.case.location.clone(),
                    expected: vec!["nothing beyond the expected observations".into()],
                    observed: o.describe(),
                }));
            }
        }
        None
    }

    fn judge_close(&self) -> Option<CloseBehavior> {
        let main = self.conns.first()?;
        let facts = main.conn.close_facts();
        if main.conn.browser().events().first() != Some(&crate::trace::BrowserEvent::Open) {
            return None;
        }
        let rule = &self.case.closing;
        let who = |c: Option<Closer>| match c {
            Some(Closer::Client) => "wsprobe",
            Some(Closer::Server) => self.peer(),
            None => "nobody",
        };
        let detail = format!(
            "{} closed first; {}; server close code {}{}",
            who(facts.initiator),
            if facts.clean { "clean" } else { "not clean" },
            facts
                .remote_code
                .map(|c| c.to_string())
                .unwrap_or_else(|| "none".into()),
            if facts.dropped_by_client {
                "; wsprobe had to close tcp"
            } else {
                ""
            }
        );
        let wrong_initiator = !matches!(
            (rule.initiator, facts.initiator),
            (Initiator::Any, _)
                | (Initiator::Client, Some(Closer::Client))
                | (Initiator::Server, Some(Closer::Server))
        );
        let verdict = if rule.informational {
            CloseVerdict::Informational
        } else if wrong_initiator {
            CloseVerdict::WrongInitiator
        } else if rule.clean && !facts.clean {
            CloseVerdict::Unclean
        } else if let Some(code) = facts.remote_code
            && !rule.codes.is_empty()
            && !rule.codes.contains(&code)
        {
            CloseVerdict::WrongCode
        } else if facts.dropped_by_client && facts.close_received {
            CloseVerdict::FailedByClient
        } else {
            CloseVerdict::Ok
        };
        Some(CloseBehavior {
            verdict,
            initiator: facts.initiator,
            clean: facts.clean,
            remote_code: facts.remote_code,
            local_code: facts.local_code,
            dropped_by_client: facts.dropped_by_client,
            detail,
        })
    }
}

/// `spec` with `mask` as its mask key (`None`: unmasked).
fn with_mask(spec: FrameSpec, mask: Option<[u8; 4]>) -> FrameSpec {
    FrameSpec { mask, ..spec }
}

fn frame_spec(d: &FrameDef, key: &mut dyn FnMut() -> Option<[u8; 4]>) -> FrameSpec {
    FrameSpec {
        fin: d.fin,
        rsv: d.rsv,
        opcode: d.opcode,
        mask: match d.mask {
            MaskSpec::Auto => key(),
            MaskSpec::None => None,
            MaskSpec::Key(k) => Some(k),
        },
        length: d.length,
        payload: d.payload.to_bytes(),
    }
}

fn chop_shape(chop: Option<&Chop>) -> WriteShape {
    match chop {
        None => WriteShape::Whole,
        Some(Chop::PerFrame) => WriteShape::PerFrame,
        Some(Chop::Size(n)) => WriteShape::Size(*n),
        Some(Chop::Sizes(v)) => WriteShape::Sizes(v.clone()),
    }
}

/// Judges the handshake response against the connect step's expectations.
fn judge_handshake(c: &Connect, outcome: &HandshakeOutcome, at: &Location) -> Result<(), Stop> {
    let fail = |summary: String, expected: Vec<String>, observed: String| {
        Err(Stop::Failed(Failure {
            summary,
            location: at.clone(),
            expected,
            observed,
        }))
    };
    let ex = &c.expect;
    // Over HTTP/2 the status that opens a WebSocket is a 2xx (RFC 8441 §5), so a suite's
    // `101` means "accepted" there.
    let http2 = outcome.http2;
    let matches = |p: &StatusPattern, s: u16| {
        p.matches(s) || (http2 && *p == StatusPattern::Exact(101) && (200..300).contains(&s))
    };
    let accepting = if http2 {
        "a 2xx response to the extended CONNECT (RFC 8441 §5)"
    } else {
        "a valid 101 Switching Protocols response (RFC 6455 §4.1)"
    };
    let observed_status = || match (&outcome.response, &outcome.error) {
        (Some(r), _) if http2 => format!("HTTP/2 {}", r.status),
        (Some(r), _) => format!("HTTP {} {}", r.status, r.reason),
        (None, Some(e)) => e.clone(),
        (None, None) => "no response".into(),
    };
    if let Some(why) = &outcome.not_applicable {
        return Err(Stop::NotApplicable(Failure {
            summary: "the case does not apply to this server".into(),
            location: at.clone(),
            expected: vec!["a server without SETTINGS_ENABLE_CONNECT_PROTOCOL = 1".into()],
            observed: why.clone(),
        }));
    }
    if let Some(why) = &outcome.unimplemented {
        return Err(Stop::Unimplemented(Failure {
            summary: "the server does not accept WebSockets over HTTP/2".into(),
            location: at.clone(),
            expected: vec!["SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 §3)".into()],
            observed: why.clone(),
        }));
    }
    if ex.refused {
        let status = outcome.response.as_ref().map(|r| r.status);
        let opened = status.is_some_and(|s| {
            if http2 {
                (200..300).contains(&s)
            } else {
                s == 101
            }
        });
        if opened || (status.is_none() && outcome.reset.is_none()) {
            return fail(
                "the request was not refused".into(),
                vec![if http2 {
                    "a status other than 2xx, or the stream reset (RFC 9113 §8.1.1)".into()
                } else {
                    "a status other than 101".into()
                }],
                observed_status(),
            );
        }
    }
    let wants_101 = ex.status.is_empty() || ex.status.iter().any(|p| p.matches(101));
    if ex.refused {
        // Judged above.
    } else if ex.status.is_empty() {
        if !outcome.opened() {
            let mut observed = observed_status();
            if !outcome.violations.is_empty() {
                let v: Vec<String> = outcome.violations.iter().map(|v| v.to_string()).collect();
                observed = format!("{observed}: {}", v.join("; "));
            }
            // The case needs the connection open: whatever its level, a refused or broken
            // handshake is a failure (docs/verdicts.md).
            return Err(Stop::HandshakeFailed(Failure {
                summary: "the opening handshake failed".into(),
                location: at.clone(),
                expected: vec![accepting.into()],
                observed,
            }));
        }
    } else {
        let status = outcome.response.as_ref().map(|r| r.status);
        let ok = status.is_some_and(|s| ex.status.iter().any(|p| matches(p, s)));
        let expected: Vec<String> = ex
            .status
            .iter()
            .map(|p: &StatusPattern| match p {
                StatusPattern::Exact(101) if http2 => "HTTP/2 2xx".to_string(),
                p => format!("HTTP {p}"),
            })
            .collect();
        if !ok {
            return fail(
                format!(
                    "expected HTTP {}",
                    expected
                        .join(" or ")
                        .replace("HTTP ", "")
                        .replace("HTTP/2 ", "")
                ),
                expected,
                observed_status(),
            );
        }
        let accepted = status.is_some_and(|s| {
            if http2 {
                (200..300).contains(&s)
            } else {
                s == 101
            }
        });
        if accepted && wants_101 && !outcome.opened() {
            let v: Vec<String> = outcome.violations.iter().map(|v| v.to_string()).collect();
            return Err(Stop::HandshakeFailed(Failure {
                summary: if http2 {
                    "the 2xx response does not open a WebSocket".into()
                } else {
                    "the 101 response is not a valid WebSocket handshake".into()
                },
                location: at.clone(),
                expected: vec![accepting.into()],
                observed: v.join("; "),
            }));
        }
    }
    let Some(resp) = &outcome.response else {
        return Ok(());
    };
    for (name, want) in &ex.headers {
        let values = resp.header_values(name);
        let text: Vec<String> = values
            .iter()
            .map(|v| String::from_utf8_lossy(v).trim().to_string())
            .collect();
        let ok = match want {
            None => !values.is_empty(),
            // Equal, or an element of a list value (`Sec-WebSocket-Version: 13, 8`).
            Some(w) => text.iter().any(|t| {
                t.eq_ignore_ascii_case(w.trim())
                    || t.split(',')
                        .any(|e| e.trim().eq_ignore_ascii_case(w.trim()))
            }),
        };
        if !ok {
            return fail(
                format!("response header {name} does not match"),
                vec![match want {
                    Some(w) => format!("{name}: {w}"),
                    None => format!("a {name} header"),
                }],
                if text.is_empty() {
                    format!("no {name} header")
                } else {
                    format!("{name}: {}", text.join(", "))
                },
            );
        }
    }
    for name in &ex.absent {
        let values = resp.header_values(name);
        if !values.is_empty() {
            return fail(
                format!("response has a {name} header"),
                vec![format!("no {name} header")],
                format!(
                    "{name}: {}",
                    values
                        .iter()
                        .map(|v| String::from_utf8_lossy(v).into_owned())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
    }
    if let (Some(want), Some(got)) = (&ex.deflate, &outcome.deflate)
        && let Some(why) = deflate_mismatch(want, got)
    {
        return fail(
            "unexpected permessage-deflate parameters".into(),
            vec![why.0],
            why.1,
        );
    }
    let negotiated = outcome.negotiated.clone().unwrap_or_default();
    if let Some(want) = &ex.protocol
        && &negotiated.protocol != want
    {
        return fail(
            "wrong subprotocol selected".into(),
            vec![match want {
                Some(p) => format!("Sec-WebSocket-Protocol: {p}"),
                None => "no Sec-WebSocket-Protocol header (none selected)".into(),
            }],
            match &negotiated.protocol {
                Some(p) => format!("Sec-WebSocket-Protocol: {p}"),
                None => "no subprotocol selected".into(),
            },
        );
    }
    let accepted: Vec<String> = negotiated
        .extensions
        .iter()
        .filter_map(|e| e.split(';').next().map(|n| n.trim().to_ascii_lowercase()))
        .collect();
    if let Some(name) = &ex.requires_extension
        && !accepted.iter().any(|a| a.eq_ignore_ascii_case(name))
    {
        return Err(Stop::Unimplemented(Failure {
            summary: format!("the server does not implement {name}"),
            location: at.clone(),
            expected: vec![format!("Sec-WebSocket-Extensions accepting {name}")],
            observed: if accepted.is_empty() {
                "no extension accepted".into()
            } else {
                format!("accepted: {}", accepted.join(", "))
            },
        }));
    }
    if ex.deflate.is_some() && outcome.deflate.is_none() {
        return fail(
            "permessage-deflate not accepted".into(),
            vec!["Sec-WebSocket-Extensions accepting permessage-deflate".into()],
            if accepted.is_empty() {
                "no extension accepted".into()
            } else {
                format!("accepted: {}", accepted.join(", "))
            },
        );
    }
    if let Some(want) = &ex.extensions {
        let want: Vec<String> = want.iter().map(|w| w.to_ascii_lowercase()).collect();
        if want != accepted {
            return fail(
                "unexpected extensions accepted".into(),
                vec![if want.is_empty() {
                    "no extension accepted".into()
                } else {
                    format!("extensions {}", want.join(", "))
                }],
                if accepted.is_empty() {
                    "no extension accepted".into()
                } else {
                    format!("extensions {}", accepted.join(", "))
                },
            );
        }
    }
    Ok(())
}

/// The extension elements of a hand-written request's `Sec-WebSocket-Extensions` lines.
fn raw_extension_items(request: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(request);
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    head.lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .filter(|(name, _)| name.trim().eq_ignore_ascii_case("sec-websocket-extensions"))
        .flat_map(|(_, value)| {
            value
                .split(',')
                .map(|e| e.trim().to_string())
                .collect::<Vec<_>>()
        })
        .filter(|e| !e.is_empty())
        .collect()
}

/// What differs between the expected and the accepted permessage-deflate parameters:
/// (expected, observed).
fn deflate_mismatch(want: &DeflateExpect, got: &DeflateResponse) -> Option<(String, String)> {
    let flag = |name: &str, want: Option<bool>, got: bool| {
        want.filter(|w| *w != got).map(|w| {
            let say = |b: bool| {
                if b {
                    name.to_string()
                } else {
                    format!("no {name}")
                }
            };
            (say(w), say(got))
        })
    };
    let bits = |name: &str, want: Option<Option<u8>>, got: Option<u8>| {
        want.filter(|w| *w != got).map(|w| {
            let say = |b: Option<u8>| match b {
                Some(n) => format!("{name}={n}"),
                None => format!("no {name}"),
            };
            (say(w), say(got))
        })
    };
    flag(
        "server_no_context_takeover",
        want.server_no_context_takeover,
        got.server_no_context_takeover,
    )
    .or_else(|| {
        flag(
            "client_no_context_takeover",
            want.client_no_context_takeover,
            got.client_no_context_takeover,
        )
    })
    .or_else(|| {
        bits(
            "server_max_window_bits",
            want.server_max_window_bits,
            got.server_max_window_bits,
        )
    })
    .or_else(|| {
        bits(
            "client_max_window_bits",
            want.client_max_window_bits,
            got.client_max_window_bits,
        )
    })
}

/// How a text or binary message goes on the wire.
#[derive(Clone, Copy, Debug)]
struct MessageShape {
    fragment_size: Option<usize>,
    compress: Option<bool>,
    form: Option<DeflateForm>,
}

/// The frames of one text or binary message: compressed with the connection's compressor when
/// permessage-deflate is agreed (unless `compress: false`), in a §7.2.3 form when asked (RSV1
/// set, agreed or not), then split into `fragment_size` pieces with RSV1 on the first frame
/// only (RFC 7692 §6.1).
fn message_specs(
    mut deflate: Option<&mut Deflate>,
    op: Opcode,
    data: &[u8],
    shape: MessageShape,
    key: &mut dyn FnMut() -> Option<[u8; 4]>,
) -> Result<Vec<FrameSpec>, String> {
    let err = |e: crate::wire::deflate::DeflateError| e.to_string();
    let compressed = shape.form.is_some() || shape.compress.unwrap_or(deflate.is_some());
    let pieces: Vec<Vec<u8>> = match shape.form {
        Some(form) => {
            let pieces = match form {
                DeflateForm::Stored => vec![forms::stored_blocks(data)],
                DeflateForm::TwoBlocks => {
                    vec![forms::two_blocks(data, data.len() / 2).map_err(err)?]
                }
                DeflateForm::Bfinal => vec![forms::bfinal(data).map_err(err)?],
                DeflateForm::EmptyFinalFragment => forms::with_empty_final_fragment(data)
                    .map_err(err)?
                    .to_vec(),
            };
            if let Some(d) = deflate.as_deref_mut() {
                d.reset_tx().map_err(err)?;
            }
            pieces
        }
        None if shape.compress.unwrap_or(deflate.is_some()) => match deflate {
            Some(d) => vec![d.tx.compress(data).map_err(err)?],
            None => vec![forms::compressed(data, false).map_err(err)?],
        },
        None => vec![data.to_vec()],
    };
    let mut specs = Vec::new();
    for piece in pieces {
        match shape.fragment_size {
            Some(size) if size > 0 && piece.len() > size => {
                specs.extend(piece.chunks(size).map(|c| FrameSpec::new(op, c.to_vec())));
            }
            _ => specs.push(FrameSpec::new(op, piece)),
        }
    }
    let n = specs.len();
    Ok(specs
        .into_iter()
        .enumerate()
        .map(|(i, mut f)| {
            if i > 0 {
                f.opcode = Opcode::Continuation;
            } else if compressed {
                f.rsv |= RSV1;
            }
            with_mask(f.fin(i + 1 == n), key())
        })
        .collect())
}
