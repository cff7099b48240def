//! Captured conversations as traces: the same [`crate::trace`] model a live run produces, so a
//! capture of a session and the session itself can be compared. A [`TraceCollector`] is a
//! [`Sink`] that keeps one [`ConnectionTrace`] per connection; it holds every frame's preview,
//! so it is for captures of test sessions, not for multi-gigabyte files.

use std::collections::BTreeMap;

use crate::trace::{ConnectionTrace, TcpEnd, TraceEvent, frame_preview};
use crate::wire::Direction;

use super::Sink;
use super::events::{Event, GapEffect, TcpEndKind};

/// Builds one trace per connection from dissector events.
#[derive(Debug, Default)]
pub struct TraceCollector {
    traces: BTreeMap<u32, ConnectionTrace>,
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
                let ev = match h.dir {
                    Direction::ClientToServer => TraceEvent::Request {
                        line,
                        headers: Vec::new(),
                    },
                    Direction::ServerToClient => TraceEvent::Response {
                        line,
                        headers: Vec::new(),
                    },
                };
                self.push(h.at.conn, ev);
            }
            Event::Frame(f) => self.push(
                f.at.conn,
                TraceEvent::Frame {
                    dir: f.dir,
                    header: f.header,
                    preview: frame_preview(f.header.opcode, f.payload),
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
                let end = match (t.kind, t.dir) {
                    (TcpEndKind::Rst, _) => TcpEnd::Reset,
                    (TcpEndKind::Fin, Direction::ServerToClient) => TcpEnd::ClosedByServer,
                    (TcpEndKind::Fin, Direction::ClientToServer) => TcpEnd::ClosedByClient,
                };
                self.push(t.at.conn, TraceEvent::TcpEnd(end));
            }
            Event::Http(_) | Event::Handshake(_) | Event::Message(_) | Event::Warning(_) => {}
        }
    }
}
