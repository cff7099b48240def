//! The canonical forms of a trace: deterministic text (for snapshots and diffs) and JSON.
//!
//! Canonical means: no wall-clock times, no ephemeral ports, nonces and mask keys redacted,
//! payload previews bounded and escaped, and volatile header values (by default `Date`; more by
//! [`Redaction`]) replaced, so two runs of the same conversation render byte for byte the same
//! whatever the concurrency.

use serde_json::{Value, json};

use super::{BrowserEvent, ConnectionTrace, TcpEnd, TraceEvent};
use crate::wire::Direction;

/// First line of every canonical text trace.
pub const HEADER: &str = "# wsprobe trace v1";

/// Header values replaced by `[redacted]` in canonical output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redaction {
    /// Lower-case header names.
    pub headers: Vec<String>,
}

impl Default for Redaction {
    fn default() -> Self {
        Redaction {
            headers: vec!["date".into()],
        }
    }
}

impl Redaction {
    /// Adds header names (any case).
    pub fn with_headers<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, names: I) -> Self {
        for n in names {
            let n = n.as_ref().trim().to_ascii_lowercase();
            if !n.is_empty() && !self.headers.contains(&n) {
                self.headers.push(n);
            }
        }
        self
    }

    fn header_value(&self, name: &str, value: &str) -> String {
        let lower = name.to_ascii_lowercase();
        if self.headers.contains(&lower) {
            "[redacted]".into()
        } else if lower == "host" || lower == ":authority" || lower == "origin" {
            redact_port(value)
        } else {
            value.to_string()
        }
    }
}

/// Replaces the port of a `host:port` (or `scheme://host:port`) value with `[port]`.
pub fn redact_port(value: &str) -> String {
    let (head, tail) = match value.rfind(':') {
        Some(i)
            if !value[i + 1..].is_empty() && value[i + 1..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            (&value[..i], &value[i + 1..])
        }
        _ => return value.to_string(),
    };
    let _ = tail;
    format!("{head}:[port]")
}

/// Keeps only what is visible on the wire (handshake, frames, raw bytes, TCP open and end,
/// violations): the part a capture of the same conversation can show.
pub fn wire_only(trace: &ConnectionTrace) -> ConnectionTrace {
    ConnectionTrace {
        name: trace.name.clone(),
        events: trace
            .events
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    TraceEvent::TcpOpen
                        | TraceEvent::Request { .. }
                        | TraceEvent::Response { .. }
                        | TraceEvent::Frame { .. }
                        | TraceEvent::RawSent { .. }
                        | TraceEvent::TcpEnd(_)
                )
            })
            .cloned()
            .collect(),
    }
}

fn escape(text: &str) -> String {
    super::preview(text.as_bytes())
}

/// Renders one event as canonical lines (the first line is the event, the others indented
/// continuation lines such as headers).
pub fn event_lines(event: &TraceEvent, r: &Redaction) -> Vec<String> {
    match event {
        TraceEvent::Request { line, headers } | TraceEvent::Response { line, headers } => {
            let dir = if matches!(event, TraceEvent::Request { .. }) {
                "c>s"
            } else {
                "s>c"
            };
            let mut lines = vec![format!("{dir} {}", escape(line))];
            for (name, value) in headers {
                lines.push(format!(
                    "    {}: {}",
                    escape(name),
                    escape(&r.header_value(name, value))
                ));
            }
            lines
        }
        TraceEvent::Note(n) => vec![format!("note {}", escape(n))],
        other => vec![super::render_event(other)],
    }
}

/// The events of a connection in canonical order.
///
/// Everything up to the first close frame (in either direction) keeps the order it happened
/// in: before the closing handshake, what each side sends answers what the other sent. From
/// the first close frame on, the protocol leaves the interleaving of the two directions open:
/// when both sides start closing at about the same time, which close frame is first depends on
/// timing only (RFC 6455 §7.1.2, §7.1.3). So the closing phase is rendered direction by
/// direction, each in its own (TCP-given) order: wsprobe's frames, then the server's frames,
/// then the readyState changes, events, violations, notes and the end of TCP in the order
/// they happened.
pub fn canonical_order(events: &[TraceEvent]) -> Vec<&TraceEvent> {
    let is_close = |e: &TraceEvent| matches!(e, TraceEvent::Frame { header, .. } if header.opcode == crate::wire::Opcode::Close);
    let Some(start) = events.iter().position(is_close) else {
        return events.iter().collect();
    };
    let (before, closing) = events.split_at(start);
    let frames_from = |dir: Direction| {
        closing
            .iter()
            .filter(move |e| matches!(e, TraceEvent::Frame { dir: d, .. } if *d == dir))
    };
    before
        .iter()
        .chain(frames_from(Direction::ClientToServer))
        .chain(frames_from(Direction::ServerToClient))
        .chain(
            closing
                .iter()
                .filter(|e| !matches!(e, TraceEvent::Frame { .. })),
        )
        .collect()
}

/// The canonical text of a case's connections.
pub fn render_text(traces: &[ConnectionTrace], r: &Redaction) -> String {
    let mut out = String::new();
    for t in traces {
        out.push_str(&format!("connection {}\n", escape(&t.name)));
        for e in canonical_order(&t.events) {
            for line in event_lines(e, r) {
                out.push_str("  ");
                out.push_str(&line);
                out.push('\n');
            }
        }
    }
    out
}

fn event_json(event: &TraceEvent, r: &Redaction) -> Value {
    match event {
        TraceEvent::TcpOpen => json!({"type": "tcp-open"}),
        TraceEvent::Request { line, headers } | TraceEvent::Response { line, headers } => {
            let kind = if matches!(event, TraceEvent::Request { .. }) {
                "request"
            } else {
                "response"
            };
            let headers: Vec<Value> = headers
                .iter()
                .map(|(n, v)| json!([n, r.header_value(n, v)]))
                .collect();
            json!({"type": kind, "line": line, "headers": headers})
        }
        TraceEvent::Frame {
            dir,
            header,
            preview,
        } => json!({
            "type": "frame",
            "dir": dir.arrow(),
            "fin": header.fin,
            "rsv": header.rsv,
            "opcode": header.opcode.name(),
            "masked": header.mask.is_some(),
            "len": header.payload_len,
            "length_encoding": header.length_encoding.extra_bytes(),
            "preview": preview,
        }),
        TraceEvent::RawSent { len, preview } => {
            json!({"type": "raw", "dir": "c>s", "len": len, "preview": preview})
        }
        TraceEvent::State(s) => {
            json!({"type": "ready-state", "value": s.value(), "name": s.name()})
        }
        TraceEvent::MessageEvent {
            opcode,
            len,
            preview,
        } => json!({
            "type": "event", "event": "message", "opcode": opcode.name(),
            "len": len, "preview": preview,
        }),
        TraceEvent::Event(e) => match e {
            BrowserEvent::Open => json!({"type": "event", "event": "open"}),
            BrowserEvent::Error => json!({"type": "event", "event": "error"}),
            BrowserEvent::Message { opcode, data } => json!({
                "type": "event", "event": "message", "opcode": opcode.name(),
                "len": data.len(), "preview": super::preview(data),
            }),
            BrowserEvent::Close {
                code,
                reason,
                was_clean,
            } => json!({
                "type": "event", "event": "close", "code": code,
                "reason": reason, "wasClean": was_clean,
            }),
        },
        TraceEvent::Violation(v) => json!({
            "type": "violation", "kind": v.kind.name(), "section": v.kind.section(),
            "level": v.kind.level().as_str(), "detail": v.detail,
        }),
        TraceEvent::Marker(m) => json!({"type": "marker", "name": m}),
        TraceEvent::TcpEnd(end) => json!({"type": "tcp-end", "how": match end {
            TcpEnd::ClosedByServer => "closed-by-server",
            TcpEnd::ClosedByClient => "closed-by-client",
            TcpEnd::Reset => "reset",
        }}),
        TraceEvent::Note(n) => json!({"type": "note", "text": n}),
    }
}

/// The JSON form: `[{"name": ..., "events": [...]}, ...]`.
pub fn render_json(traces: &[ConnectionTrace], r: &Redaction) -> Value {
    Value::Array(
        traces
            .iter()
            .map(|t| {
                json!({
                    "name": t.name,
                    "events": canonical_order(&t.events)
                        .into_iter()
                        .map(|e| event_json(e, r))
                        .collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::ReadyState;
    use crate::wire::{Direction, FrameSpec, Opcode};

    fn sample() -> Vec<ConnectionTrace> {
        vec![ConnectionTrace {
            name: "main".into(),
            events: vec![
                TraceEvent::TcpOpen,
                TraceEvent::Request {
                    line: "GET / HTTP/1.1".into(),
                    headers: vec![
                        ("Host".into(), "127.0.0.1:41234".into()),
                        ("Sec-WebSocket-Key".into(), "[key]".into()),
                    ],
                },
                TraceEvent::Response {
                    line: "HTTP/1.1 101 Switching Protocols".into(),
                    headers: vec![
                        ("Date".into(), "Fri, 27 Nov 2026 02:00:00 GMT".into()),
                        ("Server".into(), "x/1.2".into()),
                    ],
                },
                TraceEvent::State(ReadyState::Open),
                TraceEvent::Frame {
                    dir: Direction::ClientToServer,
                    header: FrameSpec::new(Opcode::Text, "hi")
                        .masked([1, 2, 3, 4])
                        .header(),
                    preview: "hi".into(),
                },
                TraceEvent::Frame {
                    dir: Direction::ServerToClient,
                    header: FrameSpec::new(Opcode::Text, "\u{1b}[31m").header(),
                    preview: crate::trace::preview("\u{1b}[31m".as_bytes()),
                },
                TraceEvent::TcpEnd(TcpEnd::ClosedByServer),
            ],
        }]
    }

    #[test]
    fn text_form_is_redacted_and_escaped() {
        let text = render_text(&sample(), &Redaction::default().with_headers(["Server"]));
        assert_eq!(
            text,
            "connection main\n  tcp open\n  c>s GET / HTTP/1.1\n      Host: 127.0.0.1:[port]\n      Sec-WebSocket-Key: [key]\n  s>c HTTP/1.1 101 Switching Protocols\n      Date: [redacted]\n      Server: [redacted]\n  readyState 1 OPEN\n  c>s text F---M len=2 \"hi\"\n  s>c text F---- len=5 \"\\u{1b}[31m\"\n  tcp closed by server\n"
        );
        assert!(!text.contains('\u{1b}'));
        assert!(!text.contains("41234"));
    }

    #[test]
    fn rfc6455_7_1_2_crossing_close_frames_render_the_same_in_either_order() {
        use crate::wire::ClosePayload;
        let close = |dir: Direction| {
            let spec = FrameSpec::new(
                Opcode::Close,
                ClosePayload::Code {
                    code: 1000,
                    reason: vec![],
                }
                .to_bytes(),
            );
            TraceEvent::Frame {
                dir,
                header: spec.header(),
                preview: "1000".into(),
            }
        };
        let trace = |first: Direction, second: Direction| ConnectionTrace {
            name: "main".into(),
            events: vec![
                TraceEvent::TcpOpen,
                close(first),
                TraceEvent::State(ReadyState::Closing),
                close(second),
                TraceEvent::TcpEnd(TcpEnd::ClosedByServer),
                TraceEvent::State(ReadyState::Closed),
            ],
        };
        let a = trace(Direction::ClientToServer, Direction::ServerToClient);
        let b = trace(Direction::ServerToClient, Direction::ClientToServer);
        let r = Redaction::default();
        assert_eq!(
            render_text(std::slice::from_ref(&a), &r),
            render_text(std::slice::from_ref(&b), &r)
        );
        assert_eq!(render_json(&[a], &r), render_json(&[b], &r));
        // Before the first close frame the order is kept.
        let text = |events: Vec<TraceEvent>| {
            render_text(
                &[ConnectionTrace {
                    name: "main".into(),
                    events,
                }],
                &r,
            )
        };
        assert_ne!(
            text(vec![
                TraceEvent::TcpOpen,
                TraceEvent::State(ReadyState::Open),
                close(Direction::ServerToClient)
            ]),
            text(vec![
                TraceEvent::TcpOpen,
                close(Direction::ServerToClient),
                TraceEvent::State(ReadyState::Open)
            ]),
        );
    }

    #[test]
    fn wire_only_drops_client_side_events() {
        let w = wire_only(&sample()[0]);
        assert!(w.events.iter().all(|e| !matches!(e, TraceEvent::State(_))));
        assert_eq!(w.events.len(), 6);
    }

    #[test]
    fn json_form_names_every_field() {
        let v = render_json(&sample(), &Redaction::default());
        let frame = &v[0]["events"][4];
        assert_eq!(frame["type"], "frame");
        assert_eq!(frame["masked"], true);
        assert_eq!(frame["opcode"], "text");
        assert_eq!(v[0]["events"][2]["headers"][0][1], "[redacted]");
    }

    #[test]
    fn ports_are_redacted_only_when_numeric() {
        assert_eq!(redact_port("127.0.0.1:8080"), "127.0.0.1:[port]");
        assert_eq!(redact_port("[::1]:9"), "[::1]:[port]");
        assert_eq!(redact_port("example.org"), "example.org");
        assert_eq!(redact_port("http://h:80"), "http://h:[port]");
    }
}
