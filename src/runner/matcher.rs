//! Matching expectations against what a connection observed.
//!
//! An expect step holds alternatives, each a sequence of matchers. Each alternative is
//! evaluated from the current cursor: it has matched (and says how much it consumed), it can no
//! longer match, or it needs more time. Evaluation is pure; the executor feeds it as the
//! connection receives more.

use tokio::time::Instant;

use super::conn::{Connection, Observation};
use crate::suite::model::{
    CloseMatch, EventMatch, FrameMatch, Ignore, Matcher, MessageMatch, Payload,
};
use crate::trace::{BrowserEvent, preview};
use crate::wire::{ClosePayload, Opcode};

/// Positions in a connection's logs that expectations have consumed up to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cursor {
    /// Index into observations.
    pub obs: usize,
    /// Index into browser events.
    pub events: usize,
    /// Index into received frames.
    pub frames: usize,
}

/// Outcome of evaluating a sequence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Eval {
    /// Matched; the cursor after the consumed items.
    Matched(Cursor),
    /// Matched in everything the RFC requires but not in what it recommends (a close code
    /// other than the one expected, §5.5.1 "typically"): NON-STRICT at best. The cursor after
    /// the consumed items and what differed.
    Loosely(Cursor, String),
    /// Can no longer match; what was seen instead.
    Mismatch(String),
    /// Needs more observations or time; what it is waiting for.
    Pending(String),
}

/// What evaluation needs besides the connection.
pub struct Context<'a> {
    /// Ignored unsolicited frames.
    pub ignore: &'a [Ignore],
    /// When the step began (for `nothing`).
    pub started: Instant,
    /// Now.
    pub now: Instant,
}

/// Evaluates a sequence of matchers from `cursor`.
pub fn eval_sequence(seq: &[Matcher], conn: &Connection, cursor: Cursor, cx: &Context) -> Eval {
    let mut cur = cursor;
    let mut loose: Vec<String> = Vec::new();
    for m in seq {
        match eval_one(m, conn, cur, cx) {
            Eval::Matched(next) => cur = next,
            Eval::Loosely(next, why) => {
                cur = next;
                loose.push(why);
            }
            other => return other,
        }
    }
    if loose.is_empty() {
        Eval::Matched(cur)
    } else {
        Eval::Loosely(cur, loose.join("; "))
    }
}

/// Whether a close frame's code is one the RFC allows on the wire, though not the one a
/// matcher asked for: the reply code is only "typically" the one received (§5.5.1) and
/// "an appropriate status code" is a SHOULD (§7.1.7), so such a close is NON-STRICT, not a
/// mismatch. A close without a code is allowed too (§7.1.5, 1005).
fn loose_close_code(payload: &ClosePayload) -> bool {
    match payload {
        ClosePayload::Empty => true,
        ClosePayload::OneByte(_) => false,
        ClosePayload::Code { code, reason } => {
            crate::wire::CloseClass::of(*code).allowed_on_wire()
                && std::str::from_utf8(reason).is_ok()
        }
    }
}

pub(crate) fn skip_ignored(conn: &Connection, mut at: usize, ignore: &[Ignore]) -> usize {
    while let Some(o) = conn.observations.get(at) {
        let skip = match o {
            Observation::Ping(_) => ignore.contains(&Ignore::Ping),
            Observation::Pong(_) => ignore.contains(&Ignore::Pong),
            _ => false,
        };
        if !skip {
            break;
        }
        at += 1;
    }
    at
}

/// The next observation after ignored ones, or why there is none.
fn next_obs<'c>(
    conn: &'c Connection,
    cur: Cursor,
    ignore: &[Ignore],
    waiting: &str,
) -> Result<(usize, &'c Observation), Eval> {
    let at = skip_ignored(conn, cur.obs, ignore);
    match conn.observations.get(at) {
        Some(o) => Ok((at, o)),
        None if conn.is_closed() => Err(Eval::Mismatch(
            "nothing more: the connection had already ended".into(),
        )),
        None => Err(Eval::Pending(waiting.to_string())),
    }
}

fn eval_one(m: &Matcher, conn: &Connection, cur: Cursor, cx: &Context) -> Eval {
    let consumed = |at: usize| Eval::Matched(Cursor { obs: at + 1, ..cur });
    match m {
        Matcher::Message(mm) => match next_obs(conn, cur, cx.ignore, "waiting for a message") {
            Err(e) => e,
            Ok((
                at,
                Observation::Message {
                    opcode,
                    data,
                    compressed,
                },
            )) => {
                let why = message_mismatch(mm, *opcode, data).or_else(|| {
                    mm.compressed
                        .is_some_and(|want| want != *compressed)
                        .then(|| {
                            format!(
                                "{opcode} message of {} bytes sent {}",
                                data.len(),
                                if *compressed {
                                    "compressed"
                                } else {
                                    "uncompressed"
                                }
                            )
                        })
                });
                match why {
                    None => consumed(at),
                    Some(why) => Eval::Mismatch(why),
                }
            }
            Ok((_, other)) => Eval::Mismatch(other.describe()),
        },
        Matcher::Ping(p) | Matcher::Pong(p) => {
            let want_ping = matches!(m, Matcher::Ping(_));
            match next_obs(conn, cur, cx.ignore, "waiting") {
                Err(e) => e,
                Ok((at, o)) => {
                    let payload = match (o, want_ping) {
                        (Observation::Ping(d), true) | (Observation::Pong(d), false) => d,
                        _ => return Eval::Mismatch(o.describe()),
                    };
                    match p {
                        Some(expected) if !expected.matches(payload) => {
                            Eval::Mismatch(o.describe())
                        }
                        _ => consumed(at),
                    }
                }
            }
        }
        Matcher::Close(cm) => eval_close(cm, conn, cur, cx),
        Matcher::Fail { codes } => match next_obs(
            conn,
            cur,
            cx.ignore,
            "waiting for the server to fail the connection",
        ) {
            Err(e) => e,
            Ok((at, o @ Observation::Close(payload))) => match payload {
                ClosePayload::Code { code, .. } if !codes.is_empty() && !codes.contains(code) => {
                    if loose_close_code(payload) {
                        Eval::Loosely(
                            Cursor { obs: at + 1, ..cur },
                            format!("{} instead of {}", o.describe(), describe_codes(codes)),
                        )
                    } else {
                        Eval::Mismatch(o.describe())
                    }
                }
                ClosePayload::OneByte(_) => Eval::Mismatch(o.describe()),
                _ => consumed(at),
            },
            Ok((at, Observation::TcpClosed | Observation::Reset)) => consumed(at),
            Ok((_, other)) => Eval::Mismatch(other.describe()),
        },
        Matcher::Dropped => match next_obs(conn, cur, cx.ignore, "waiting for tcp to close") {
            Err(e) => e,
            Ok((at, Observation::TcpClosed | Observation::Reset)) => consumed(at),
            Ok((_, other)) => Eval::Mismatch(other.describe()),
        },
        Matcher::Nothing(d) => {
            let at = skip_ignored(conn, cur.obs, cx.ignore);
            match conn.observations.get(at) {
                Some(o) => Eval::Mismatch(o.describe()),
                // Nothing more can arrive once TCP has ended: silence is certain.
                None if cx.now >= cx.started + *d || conn.is_closed() => Eval::Matched(cur),
                None => Eval::Pending("watching for silence".into()),
            }
        }
        Matcher::State(want) => {
            let state = conn.browser().state();
            if state == *want {
                Eval::Matched(cur)
            } else if state > *want || conn.is_closed() {
                Eval::Mismatch(format!("readyState {} {}", state.value(), state.name()))
            } else {
                Eval::Pending(format!("readyState is {} {}", state.value(), state.name()))
            }
        }
        Matcher::Events(list) => eval_events(list, conn, cur),
        Matcher::Marker(name) => match next_obs(conn, cur, cx.ignore, "waiting for a marker") {
            Err(e) => e,
            Ok((at, Observation::Marker(n))) if n == name => consumed(at),
            Ok((_, other)) => Eval::Mismatch(other.describe()),
        },
        Matcher::Frame(fm) => match conn.frames.get(cur.frames) {
            Some(f) => match frame_mismatch(fm, f) {
                None => Eval::Matched(Cursor {
                    frames: cur.frames + 1,
                    ..cur
                }),
                Some(why) => Eval::Mismatch(why),
            },
            None if conn.is_closed() => {
                Eval::Mismatch("no more frames: the connection had ended".into())
            }
            None => Eval::Pending("waiting for a frame".into()),
        },
    }
}

fn message_mismatch(mm: &MessageMatch, opcode: Opcode, data: &[u8]) -> Option<String> {
    let got = || {
        format!(
            "{opcode} message of {} bytes \"{}\"",
            data.len(),
            preview(data)
        )
    };
    if let Some(op) = mm.opcode
        && op != opcode
    {
        return Some(got());
    }
    if let Some(len) = mm.len
        && len != data.len()
    {
        return Some(got());
    }
    if let Some(p) = &mm.data
        && !p.matches(data)
    {
        return Some(got());
    }
    None
}

fn frame_mismatch(fm: &FrameMatch, f: &crate::wire::Frame) -> Option<String> {
    let h = &f.header;
    let ok = fm.opcode.is_none_or(|o| o == h.opcode)
        && fm.fin.is_none_or(|v| v == h.fin)
        && fm.rsv.is_none_or(|v| v == h.rsv)
        && fm.masked.is_none_or(|v| v == h.mask.is_some())
        && fm.len.is_none_or(|v| v == h.payload_len)
        && fm.payload.as_ref().is_none_or(|p| p.matches(&f.payload));
    if ok {
        None
    } else {
        Some(format!(
            "{} frame {} len={} \"{}\"",
            h.opcode,
            h.flags(),
            h.payload_len,
            preview(&f.payload)
        ))
    }
}

fn eval_close(cm: &CloseMatch, conn: &Connection, cur: Cursor, cx: &Context) -> Eval {
    let (at, o) = match next_obs(conn, cur, cx.ignore, "waiting for a close frame") {
        Ok(x) => x,
        Err(e) => return e,
    };
    let Observation::Close(payload) = o else {
        return Eval::Mismatch(o.describe());
    };
    let code_ok = match payload {
        ClosePayload::Empty => cm.no_code || cm.codes.is_empty(),
        ClosePayload::OneByte(_) => false,
        ClosePayload::Code { code, .. } => {
            if cm.codes.is_empty() {
                !cm.no_code
            } else {
                cm.codes.contains(code)
            }
        }
    };
    let reason_ok = cm
        .reason
        .as_ref()
        .is_none_or(|r| r.as_bytes() == payload.reason());
    if !reason_ok || (!code_ok && !loose_close_code(payload)) {
        return Eval::Mismatch(o.describe());
    }
    let matched = |next: Cursor| {
        if code_ok {
            Eval::Matched(next)
        } else {
            Eval::Loosely(
                next,
                format!(
                    "{} instead of {}",
                    o.describe(),
                    if cm.codes.is_empty() {
                        "a close frame with a code".to_string()
                    } else {
                        describe_codes(&cm.codes)
                    }
                ),
            )
        }
    };
    let after = Cursor { obs: at + 1, ..cur };
    match cm.clean {
        None => matched(after),
        Some(want_clean) => match conn.observations.get(at + 1) {
            Some(Observation::TcpClosed) | Some(Observation::Reset) => {
                let clean = conn.close_facts().clean;
                if clean == want_clean {
                    matched(Cursor { obs: at + 2, ..cur })
                } else if clean {
                    Eval::Mismatch("a clean close".into())
                } else {
                    Eval::Mismatch(format!(
                        "{}, then an unclean end ({})",
                        o.describe(),
                        conn.observations[at + 1].describe()
                    ))
                }
            }
            Some(other) => Eval::Mismatch(format!("{}, then {}", o.describe(), other.describe())),
            // As the server, wsprobe closes TCP itself once both close frames are through
            // (RFC 6455 §7.1.1): the exchange is what the client owes.
            None if want_clean
                && conn.role() == crate::wire::Role::Server
                && conn.browser().close_sent() =>
            {
                matched(after)
            }
            None if conn.is_closed() => Eval::Mismatch(format!(
                "{}, then the connection was closed by wsprobe",
                o.describe()
            )),
            None => Eval::Pending(format!(
                "{} received; waiting for the server to close tcp",
                o.describe()
            )),
        },
    }
}

fn describe_codes(codes: &[u16]) -> String {
    let codes: Vec<String> = codes.iter().map(|c| c.to_string()).collect();
    format!("code {}", codes.join(" or "))
}

fn eval_events(list: &[EventMatch], conn: &Connection, cur: Cursor) -> Eval {
    let events = conn.browser().events();
    let mut loose = Vec::new();
    for (i, want) in list.iter().enumerate() {
        let Some(got) = events.get(cur.events + i) else {
            if conn.is_closed() {
                return Eval::Mismatch(format!(
                    "events {}",
                    describe_events(&events[cur.events.min(events.len())..])
                ));
            }
            return Eval::Pending(format!(
                "events so far {}",
                describe_events(&events[cur.events.min(events.len())..])
            ));
        };
        match event_matches(want, got) {
            EventFit::Yes => {}
            EventFit::Loose(why) => loose.push(why),
            EventFit::No => {
                return Eval::Mismatch(format!(
                    "events {}",
                    describe_events(&events[cur.events..])
                ));
            }
        }
    }
    let next = Cursor {
        events: cur.events + list.len(),
        ..cur
    };
    if loose.is_empty() {
        Eval::Matched(next)
    } else {
        Eval::Loosely(next, loose.join("; "))
    }
}

/// How one browser event compares with what was wanted.
enum EventFit {
    Yes,
    /// Only the close event's code differs, and both codes are ones a server may send (or
    /// 1005, no code): NON-STRICT, as for close frames (§5.5.1 "typically").
    Loose(String),
    No,
}

fn event_matches(want: &EventMatch, got: &BrowserEvent) -> EventFit {
    let yes = |b: bool| if b { EventFit::Yes } else { EventFit::No };
    match (want, got) {
        (EventMatch::Open, BrowserEvent::Open) | (EventMatch::Error, BrowserEvent::Error) => {
            EventFit::Yes
        }
        (EventMatch::Message(mm), BrowserEvent::Message { opcode, data }) => {
            yes(message_mismatch(mm, *opcode, data).is_none())
        }
        (
            EventMatch::Close {
                code,
                reason,
                was_clean,
            },
            BrowserEvent::Close {
                code: c,
                reason: r,
                was_clean: w,
            },
        ) => {
            let rest_ok =
                reason.as_ref().is_none_or(|x| x == r) && was_clean.is_none_or(|x| x == *w);
            let sendable =
                |code: u16| code == 1005 || crate::wire::CloseClass::of(code).allowed_on_wire();
            match code {
                _ if !rest_ok => EventFit::No,
                None => EventFit::Yes,
                Some(x) if x == c => EventFit::Yes,
                Some(x) if *w && sendable(*x) && sendable(*c) => {
                    EventFit::Loose(format!("close event with code {c} instead of {x}"))
                }
                Some(_) => EventFit::No,
            }
        }
        _ => EventFit::No,
    }
}

/// `[open, message text "1", close 1000 clean]` style rendering.
pub fn describe_events(events: &[BrowserEvent]) -> String {
    let items: Vec<String> = events
        .iter()
        .map(|e| match e {
            BrowserEvent::Open => "open".into(),
            BrowserEvent::Error => "error".into(),
            BrowserEvent::Message { opcode, data } => {
                format!("message {opcode} \"{}\"", preview(data))
            }
            BrowserEvent::Close {
                code,
                reason,
                was_clean,
            } => format!(
                "close code={code}{} wasClean={was_clean}",
                if reason.is_empty() {
                    String::new()
                } else {
                    format!(" reason=\"{}\"", preview(reason.as_bytes()))
                }
            ),
        })
        .collect();
    format!("[{}]", items.join(", "))
}

fn describe_payload(p: &Payload) -> String {
    match p {
        Payload::Bytes(b) => format!("\"{}\"", preview(b)),
        Payload::Repeat { unit, len } => format!("\"{}\" repeated to {len} bytes", preview(unit)),
    }
}

fn describe_message(mm: &MessageMatch) -> String {
    let kind = mm.opcode.map(|o| o.name()).unwrap_or_else(|| "a".into());
    let mut s = format!("{kind} message");
    if let Some(p) = &mm.data {
        s.push_str(&format!(" {}", describe_payload(p)));
        if p.len() > 64 {
            s.push_str(&format!(" ({} bytes)", p.len()));
        }
    }
    if let Some(len) = mm.len {
        s.push_str(&format!(" of {len} bytes"));
    }
    s
}

/// Plain-words description of one matcher.
pub fn describe(m: &Matcher) -> String {
    match m {
        Matcher::Message(mm) => describe_message(mm),
        Matcher::Ping(p) => match p {
            Some(p) => format!("ping {}", describe_payload(p)),
            None => "a ping".into(),
        },
        Matcher::Pong(p) => match p {
            Some(p) => format!("pong {}", describe_payload(p)),
            None => "a pong".into(),
        },
        Matcher::Close(cm) => {
            let mut s = if cm.codes.is_empty() {
                if cm.no_code {
                    "close frame without code".to_string()
                } else {
                    "close frame".to_string()
                }
            } else {
                let codes: Vec<String> = cm.codes.iter().map(|c| c.to_string()).collect();
                format!(
                    "close frame with code {}{}",
                    codes.join(" or "),
                    if cm.no_code { " or none" } else { "" }
                )
            };
            if let Some(r) = &cm.reason {
                s.push_str(&format!(" reason \"{}\"", preview(r.as_bytes())));
            }
            match cm.clean {
                Some(true) => s.push_str(", then a clean tcp close by the server"),
                Some(false) => s.push_str(", then an unclean end"),
                None => {}
            }
            s
        }
        Matcher::Fail { codes } => {
            if codes.is_empty() {
                "the server fails the connection (close frame or tcp drop)".into()
            } else {
                let codes: Vec<String> = codes.iter().map(|c| c.to_string()).collect();
                format!(
                    "the server fails the connection: close {} or tcp drop",
                    codes.join(" or ")
                )
            }
        }
        Matcher::Dropped => "tcp closed without a close frame".into(),
        Matcher::Nothing(d) => format!("nothing for {}", crate::suite::format_duration(*d)),
        Matcher::State(s) => format!("readyState {} {}", s.value(), s.name()),
        Matcher::Events(list) => {
            let items: Vec<String> = list
                .iter()
                .map(|e| match e {
                    EventMatch::Open => "open".into(),
                    EventMatch::Error => "error".into(),
                    EventMatch::Message(mm) => describe_message(mm),
                    EventMatch::Close {
                        code,
                        reason,
                        was_clean,
                    } => {
                        let mut s = "close".to_string();
                        if let Some(c) = code {
                            s.push_str(&format!(" code={c}"));
                        }
                        if let Some(r) = reason {
                            s.push_str(&format!(" reason=\"{r}\""));
                        }
                        if let Some(w) = was_clean {
                            s.push_str(&format!(" wasClean={w}"));
                        }
                        s
                    }
                })
                .collect();
            format!("events [{}]", items.join(", "))
        }
        Matcher::Marker(m) => format!("marker {m} (connection still open)"),
        Matcher::Frame(fm) => {
            let mut parts = Vec::new();
            if let Some(o) = fm.opcode {
                parts.push(format!("opcode={o}"));
            }
            if let Some(v) = fm.fin {
                parts.push(format!("fin={v}"));
            }
            if let Some(v) = fm.rsv {
                parts.push(format!("rsv={v}"));
            }
            if let Some(v) = fm.masked {
                parts.push(format!("masked={v}"));
            }
            if let Some(v) = fm.len {
                parts.push(format!("len={v}"));
            }
            if let Some(p) = &fm.payload {
                parts.push(format!("payload={}", describe_payload(p)));
            }
            format!("frame {}", parts.join(" "))
        }
    }
}

/// A sequence rendered as `A, then B`.
pub fn describe_sequence(seq: &[Matcher]) -> String {
    seq.iter().map(describe).collect::<Vec<_>>().join(", then ")
}
