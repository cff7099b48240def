//! Captured conversations as traces: the same [`crate::trace`] model a live run produces, so a
//! capture of a session and the session itself can be compared. A [`TraceCollector`] is a
//! [`Sink`] that keeps one [`ConnectionTrace`] per connection; it holds every frame's preview,
//! so it is for captures of test sessions, not for multi-gigabyte files.
//!
//! It records what a live run records: handshake headers in order with the names as sent and the
//! nonces and `Date` redacted the same way ([`handshake_header_value`]), and one TCP end per
//! connection (the first FIN or RST, as the client saw it end), so a live trace and the capture
//! of it render to the same canonical text after [`crate::trace::canonical::wire_only`].

use std::collections::{BTreeMap, BTreeSet};

use crate::trace::{ConnectionTrace, TcpEnd, TraceEvent, frame_preview, handshake_header_value};
use crate::wire::Direction;

use super::Sink;
use super::events::{Event, GapEffect, TcpEndKind};

/// Builds one trace per connection from dissector events.
#[derive(Debug, Default)]
pub struct TraceCollector {
    traces: BTreeMap<u32, ConnectionTrace>,
    /// Connections whose TCP end has been recorded.
    ended: BTreeSet<u32>,
}

impl TraceCollector {
    /// An empty collector.
    pub fn new() -> TraceCollector {
        TraceCollector::default()
    }

    /// The traces, by connection index; each is named `conn N`.
    pub fn into_traces(self) -> Vec<ConnectionTrace> {
        self.traces.into_values().collect()
    }

    fn push(&mut self, conn: u32, event: TraceEvent) {
        self.traces
            .entry(conn)
            .or_insert_with(|| ConnectionTrace {
                name: format!("conn {conn}"),
                events: Vec::new(),
            })
            .events
            .push(event);
    }
}

impl Sink for TraceCollector {
    fn event(&mut self, event: &Event<'_>) {
        match event {
            Event::Connection(c) => self.push(c.at.conn, TraceEvent::TcpOpen),
            Event::Http(h) if h.upgrade => {
                let line = h.start_line.to_string();
                let headers = h
                    .headers
                    .iter()
                    .map(|(n, v)| (n.clone(), handshake_header_value(n, v)))
                    .collect();
                let ev = match h.dir {
                    Direction::ClientToServer => TraceEvent::Request { line, headers },
                    Direction::ServerToClient => TraceEvent::Response { line, headers },
                };
                self.push(h.at.conn, ev);
            }
            Event::Frame(f) => self.push(
                f.at.conn,
                TraceEvent::Frame {
                    dir: f.dir,
                    header: f.header,
                    preview: if f.missing_ranges.is_empty() {
                        frame_preview(f.header.opcode, f.payload)
                    } else {
                        super::events::preview_with_missing(f.payload, f.missing_ranges)
                    },
                },
            ),
            Event::Violation(v) => self.push(v.at.conn, TraceEvent::Violation(v.violation.clone())),
            Event::Gap(g) => {
                let effect = match g.effect {
                    GapEffect::SkippedInPayload => "skipped inside a payload",
                    GapEffect::AtFrameBoundary => "at a frame boundary",
                    GapEffect::StreamLost => "not decoded from there",
                    GapEffect::Harmless => "no effect",
                };
                self.push(
                    g.at.conn,
                    TraceEvent::Note(format!(
                        "{} {} bytes not captured at packet {} ({effect})",
                        g.dir.arrow(),
                        g.len,
                        g.at.packet
                    )),
                );
            }
            Event::TcpEnd(t) => {
                // The connection ends once: the peer's answering FIN is not a second end.
                if !self.ended.insert(t.at.conn) {
                    return;
                }
                let end = match (t.kind, t.dir) {
                    (TcpEndKind::Rst, _) => TcpEnd::Reset,
                    (TcpEndKind::Fin, Direction::ServerToClient) => TcpEnd::ClosedByServer,
                    (TcpEndKind::Fin, Direction::ClientToServer) => TcpEnd::ClosedByClient,
                };
                self.push(t.at.conn, TraceEvent::TcpEnd(end));
            }
            Event::Http(_)
            | Event::Handshake(_)
            | Event::Message(_)
            | Event::Warning(_)
            | Event::Tls(_)
            | Event::H2Frame(_)
            | Event::H2Finding(_) => {}
        }
    }
}
