//! Rendering of `wsprobe inspect` (text, JSON Lines, YAML) and `wsprobe overhead` (text table,
//! JSON) from the capture dissector's events and summaries. Pure conversions to text: the
//! caller chooses where the text goes.
//!
//! JSON field names are stable and documented in `docs/capture-output.md`; every event object
//! has `type`, and where they apply `conn`, `packet`, `time` (seconds since the first packet)
//! and `dir` (`c>s` or `s>c`).

use std::fmt::Write as _;
use std::io::Write;

use serde_json::{Value, json};

use crate::pcap::events::{BodyKind, Event, GapEffect, Inflation, RoleSource, TcpEndKind};
use crate::pcap::reassembly::GapKind;
use crate::pcap::{CaptureSummary, Ledger, Sink};
use crate::trace::preview;
use crate::wire::{Direction, FrameHeader, LengthEncoding};

/// Output format of `inspect`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InspectFormat {
    /// One line per event, aligned.
    Text,
    /// JSON Lines: one object per event.
    Json,
    /// A YAML sequence: one mapping per event.
    Yaml,
}

/// What `inspect` shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InspectView {
    /// Messages instead of frames.
    pub messages: bool,
    /// Only violations (and warnings), for `--check`.
    pub check: bool,
    /// Only these connections (empty: all).
    pub conns: Vec<u32>,
    /// Only this direction.
    pub dir: Option<Direction>,
}

/// A [`Sink`] that renders `inspect` output to a writer as events arrive.
pub struct InspectWriter<W: Write> {
    out: W,
    format: InspectFormat,
    view: InspectView,
    /// Warnings go here (stderr) as one-liners, whatever the format.
    warnings: Vec<String>,
    failed: bool,
    line: String,
}

fn secs(ns: i128) -> f64 {
    ns as f64 / 1e9
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    push_hex(&mut s, bytes);
    s
}

fn push_hex(s: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
}

/// Appends `"key":` and a JSON string value, escaped.
fn push_str_field(out: &mut String, key: &str, value: &str) {
    out.push('"');
    out.push_str(key);
    out.push_str("\":");
    match serde_json::to_string(value) {
        Ok(v) => out.push_str(&v),
        Err(_) => out.push_str("null"),
    }
}

/// The JSON object of a frame event written directly, without building a `Value`: frames are
/// most of the output, and this keeps `inspect --format json` fast. Same fields and order as
/// [`event_json`] gives them (sorted by name).
fn frame_json_line(f: &crate::pcap::events::FrameEvent<'_>, out: &mut String) {
    let _ = write!(
        out,
        "{{\"conn\":{},\"dir\":\"{}\",\"fin\":{},\"first_packet\":{},\"header_len\":{},\"len\":{},\"len_bits\":{},",
        f.at.conn,
        f.dir.arrow(),
        f.header.fin,
        f.first_packet,
        f.header_len,
        f.header.payload_len,
        len_bits(&f.header)
    );
    match f.header.mask {
        Some(k) => {
            out.push_str("\"mask_key\":\"");
            push_hex(out, &k);
            out.push_str("\",\"masked\":true,");
        }
        None => out.push_str("\"mask_key\":null,\"masked\":false,"),
    }
    let _ = write!(
        out,
        "\"missing\":{},\"opcode\":{},\"opcode_name\":\"{}\",\"oversized\":{},\"packet\":{},\"payload_hex\":\"",
        f.missing,
        f.header.opcode.as_u8(),
        f.header.opcode.name(),
        f.oversized,
        f.at.packet
    );
    push_hex(out, &f.payload[..f.payload.len().min(HEX_BYTES)]);
    out.push_str("\",");
    push_str_field(out, "preview", &preview(f.payload));
    let _ = write!(
        out,
        ",\"rsv\":{},\"time\":{},\"type\":\"frame\"}}",
        f.header.rsv,
        Value::from(secs(f.at.time_ns))
    );
}

/// How many payload bytes JSON and YAML show in `payload_hex`.
pub const HEX_BYTES: usize = 64;

fn len_bits(h: &FrameHeader) -> u8 {
    match h.length_encoding {
        LengthEncoding::Len7 => 7,
        LengthEncoding::Len16 => 16,
        LengthEncoding::Len64 => 64,
    }
}

fn body_text(b: BodyKind) -> String {
    match b {
        BodyKind::None => "none".into(),
        BodyKind::Length(n) => format!("{n}"),
        BodyKind::Chunked => "chunked".into(),
        BodyKind::UntilClose => "until-close".into(),
    }
}

fn gap_kind(k: GapKind) -> &'static str {
    match k {
        GapKind::Truncated => "truncated",
        GapKind::Lost => "lost",
    }
}

fn gap_effect(e: GapEffect) -> &'static str {
    match e {
        GapEffect::SkippedInPayload => "skipped-in-payload",
        GapEffect::AtFrameBoundary => "at-frame-boundary",
        GapEffect::StreamLost => "stream-lost",
        GapEffect::Harmless => "harmless",
    }
}

fn roles(r: RoleSource) -> &'static str {
    match r {
        RoleSource::Syn => "syn",
        RoleSource::PortOption => "port-option",
        RoleSource::LowerPort => "lower-port",
    }
}

/// The JSON object of one event (also the YAML mapping).
pub fn event_json(event: &Event<'_>) -> Value {
    match event {
        Event::Connection(c) => json!({
            "type": "connection", "conn": c.at.conn, "packet": c.at.packet, "time": secs(c.at.time_ns),
            "client": c.client.to_string(), "server": c.server.to_string(), "roles_from": roles(c.roles),
        }),
        Event::Http(h) => json!({
            "type": "http", "conn": h.at.conn, "packet": h.at.packet, "time": secs(h.at.time_ns),
            "dir": h.dir.arrow(), "start_line": h.start_line, "head_len": h.head_len,
            "body": body_text(h.body), "upgrade": h.upgrade,
        }),
        Event::Handshake(h) => json!({
            "type": "handshake", "conn": h.at.conn, "packet": h.at.packet, "time": secs(h.at.time_ns),
            "request": h.request, "request_packet": h.request_packet, "response": h.response,
            "accept_ok": h.accept_ok, "subprotocol": h.protocol, "extensions": h.extensions,
            "permessage_deflate": h.deflate.map(|d| json!({
                "server_no_context_takeover": d.server_no_context_takeover,
                "client_no_context_takeover": d.client_no_context_takeover,
                "server_max_window_bits": d.server_max_window_bits,
                "client_max_window_bits": d.client_max_window_bits,
            })),
        }),
        Event::Frame(f) => json!({
            "type": "frame", "conn": f.at.conn, "packet": f.at.packet, "time": secs(f.at.time_ns),
            "dir": f.dir.arrow(), "first_packet": f.first_packet,
            "fin": f.header.fin, "rsv": f.header.rsv, "opcode": f.header.opcode.as_u8(),
            "opcode_name": f.header.opcode.name(), "masked": f.header.mask.is_some(),
            "mask_key": f.header.mask.map(|k| hex(&k)), "len": f.header.payload_len,
            "len_bits": len_bits(&f.header), "header_len": f.header_len,
            "payload_hex": hex(&f.payload[..f.payload.len().min(HEX_BYTES)]),
            "preview": preview(f.payload), "missing": f.missing, "oversized": f.oversized,
        }),
        Event::Message(m) => json!({
            "type": "message", "conn": m.at.conn, "packet": m.at.packet, "time": secs(m.at.time_ns),
            "dir": m.dir.arrow(), "opcode": m.opcode.as_u8(), "opcode_name": m.opcode.name(),
            "frames": m.frames, "wire_len": m.wire_len, "len": m.data.len(),
            "compression": match &m.inflation {
                Inflation::Plain => "none",
                Inflation::Inflated => "inflated",
                Inflation::Failed(_) => "not-inflated",
            },
            "inflate_error": match &m.inflation { Inflation::Failed(e) => Some(e.as_str()), _ => None },
            "preview": preview(m.data), "incomplete": m.incomplete,
        }),
        Event::Violation(v) => json!({
            "type": "violation", "conn": v.at.conn, "packet": v.at.packet, "time": secs(v.at.time_ns),
            "dir": v.dir.arrow(), "kind": v.violation.kind.name(), "detail": v.violation.detail,
            "section": v.violation.section(), "level": v.violation.kind.level().as_str(),
        }),
        Event::Gap(g) => json!({
            "type": "gap", "conn": g.at.conn, "packet": g.at.packet, "time": secs(g.at.time_ns),
            "dir": g.dir.arrow(), "offset": g.offset, "len": g.len, "kind": gap_kind(g.kind),
            "effect": gap_effect(g.effect),
        }),
        Event::TcpEnd(t) => json!({
            "type": "tcp_end", "conn": t.at.conn, "packet": t.at.packet, "time": secs(t.at.time_ns),
            "dir": t.dir.arrow(), "kind": match t.kind { TcpEndKind::Fin => "fin", TcpEndKind::Rst => "rst" },
        }),
        Event::Warning(w) => json!({
            "type": "warning", "conn": w.conn, "packet": w.packet, "message": w.message,
        }),
    }
}

/// The one-line text form of an event, or `None` for events the text view leaves out.
pub fn event_text(event: &Event<'_>, messages: bool) -> Option<String> {
    let prefix =
        |ns: i128, packet: u64, conn: u32| format!("{:>11.6} #{packet:<6} c{conn}", secs(ns));
    Some(match event {
        Event::Connection(c) => format!(
            "{} == connection {}: client {} -> server {} (roles from {})",
            prefix(c.at.time_ns, c.at.packet, c.at.conn),
            c.at.conn,
            c.client,
            c.server,
            roles(c.roles)
        ),
        Event::Http(h) => format!(
            "{} {} {} [head {} bytes, body {}]",
            prefix(h.at.time_ns, h.at.packet, h.at.conn),
            h.dir.arrow(),
            preview(h.start_line.as_bytes()),
            h.head_len,
            body_text(h.body)
        ),
        Event::Handshake(h) => {
            let mut s = format!(
                "{} == websocket: {} -> {} (request #{}), accept {}, subprotocol {}, extensions {}",
                prefix(h.at.time_ns, h.at.packet, h.at.conn),
                preview(h.request.as_bytes()),
                preview(h.response.as_bytes()),
                h.request_packet,
                if h.accept_ok { "ok" } else { "WRONG" },
                h.protocol.unwrap_or("none"),
                if h.extensions.is_empty() {
                    "none".to_string()
                } else {
                    h.extensions.join(", ")
                }
            );
            if let Some(d) = h.deflate {
                let _ = write!(
                    s,
                    " (deflate: server window {} bits{}, client window {} bits{})",
                    d.server_max_window_bits,
                    if d.server_no_context_takeover {
                        ", no context takeover"
                    } else {
                        ""
                    },
                    d.client_max_window_bits,
                    if d.client_no_context_takeover {
                        ", no context takeover"
                    } else {
                        ""
                    },
                );
            }
            s
        }
        Event::Frame(f) if !messages => {
            let mut s = format!(
                "{} {} {} {:<12} {:>7} \"{}\"",
                prefix(f.at.time_ns, f.at.packet, f.at.conn),
                f.dir.arrow(),
                f.header.flags(),
                f.header.opcode.name(),
                f.header.payload_len,
                preview(f.payload)
            );
            if f.missing > 0 {
                let _ = write!(s, " [{} bytes not captured]", f.missing);
            }
            if f.oversized {
                s.push_str(" [payload above the limit, not kept]");
            }
            s
        }
        Event::Message(m) if messages => {
            let mut s = format!(
                "{} {} {:<12} {:>7} \"{}\"",
                prefix(m.at.time_ns, m.at.packet, m.at.conn),
                m.dir.arrow(),
                m.opcode.name(),
                m.data.len(),
                preview(m.data)
            );
            if m.frames > 1 {
                let _ = write!(s, " [{} frames]", m.frames);
            }
            match &m.inflation {
                Inflation::Plain => {}
                Inflation::Inflated => {
                    let _ = write!(s, " [inflated from {} bytes]", m.wire_len);
                }
                Inflation::Failed(e) => {
                    let _ = write!(s, " [compressed, not inflated: {e}]");
                }
            }
            if m.incomplete {
                s.push_str(" [incomplete]");
            }
            s
        }
        Event::Frame(_) | Event::Message(_) => return None,
        Event::Violation(v) => format!(
            "{} {} !! {}: {} ({} {})",
            prefix(v.at.time_ns, v.at.packet, v.at.conn),
            v.dir.arrow(),
            v.violation.kind.name(),
            v.violation.detail,
            v.violation.section(),
            v.violation.kind.level()
        ),
        Event::Gap(g) => format!(
            "{} {} -- {} bytes at stream offset {} {} ({})",
            prefix(g.at.time_ns, g.at.packet, g.at.conn),
            g.dir.arrow(),
            g.len,
            g.offset,
            match g.kind {
                GapKind::Truncated => "cut by the snaplen",
                GapKind::Lost => "not in the capture",
            },
            match g.effect {
                GapEffect::SkippedInPayload => "inside a payload: skipped, decoding continues",
                GapEffect::AtFrameBoundary => {
                    "at a frame boundary: decoding resumes at a plausible frame header"
                }
                GapEffect::StreamLost => "not decoded from here on",
                GapEffect::Harmless => "no effect on decoding",
            }
        ),
        Event::TcpEnd(t) => format!(
            "{} {} {}",
            prefix(t.at.time_ns, t.at.packet, t.at.conn),
            t.dir.arrow(),
            match t.kind {
                TcpEndKind::Fin => "tcp fin",
                TcpEndKind::Rst => "tcp rst",
            }
        ),
        Event::Warning(_) => return None,
    })
}

/// The one-line `--check` form of a violation.
pub fn violation_line(event: &Event<'_>) -> Option<String> {
    let Event::Violation(v) = event else {
        return None;
    };
    Some(format!(
        "packet {}: connection {} {}: {}: {} ({} {})",
        v.at.packet,
        v.at.conn,
        v.dir.arrow(),
        v.violation.kind.name(),
        v.violation.detail,
        v.violation.section(),
        v.violation.kind.level()
    ))
}

/// Writes a JSON value as a YAML block mapping item (`- key: value`), strings double-quoted
/// (JSON string syntax is valid YAML).
fn yaml_item(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut first = true;
            for (k, val) in map {
                out.push_str(if first { "- " } else { "  " });
                first = false;
                out.push_str(k);
                out.push(':');
                yaml_value(val, 2, out);
            }
            if first {
                out.push_str("- {}\n");
            }
        }
        other => {
            out.push_str("- ");
            out.push_str(&other.to_string());
            out.push('\n');
        }
    }
}

fn yaml_value(v: &Value, indent: usize, out: &mut String) {
    match v {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            for (k, val) in map {
                out.push_str(&" ".repeat(indent + 2));
                out.push_str(k);
                out.push(':');
                yaml_value(val, indent + 2, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            for item in items {
                out.push_str(&" ".repeat(indent + 2));
                out.push_str("- ");
                out.push_str(&item.to_string());
                out.push('\n');
            }
        }
        Value::Null => out.push_str(" null\n"),
        other => {
            out.push(' ');
            out.push_str(&other.to_string());
            out.push('\n');
        }
    }
}

/// Renders one value as a YAML sequence item.
pub fn yaml(v: &Value) -> String {
    let mut s = String::new();
    yaml_item(v, &mut s);
    s
}

impl<W: Write> InspectWriter<W> {
    /// A writer of `format` output with the given view.
    pub fn new(out: W, format: InspectFormat, view: InspectView) -> InspectWriter<W> {
        InspectWriter {
            out,
            format,
            view,
            warnings: Vec::new(),
            failed: false,
            line: String::new(),
        }
    }

    /// Warnings seen, as one-line messages, to print on stderr.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    /// Whether writing failed (e.g. a closed pipe); further output is dropped.
    pub fn failed(&self) -> bool {
        self.failed
    }

    fn keep(&self, event: &Event<'_>) -> bool {
        if !self.view.conns.is_empty()
            && let Some(c) = event.conn()
            && !self.view.conns.contains(&c)
        {
            return false;
        }
        if let (Some(want), Some(dir)) = (self.view.dir, event.dir())
            && want != dir
        {
            return false;
        }
        if self.view.check {
            return matches!(event, Event::Violation(_) | Event::Warning(_));
        }
        if self.format != InspectFormat::Text {
            return match event {
                Event::Frame(_) => !self.view.messages,
                Event::Message(_) => self.view.messages,
                _ => true,
            };
        }
        true
    }

    /// Writes the closing summary.
    pub fn finish(&mut self, summary: &CaptureSummary) {
        let shown_conns = if self.view.conns.is_empty() {
            summary.connections.len()
        } else {
            summary
                .connections
                .iter()
                .filter(|c| self.view.conns.contains(&c.id))
                .count()
        };
        let text = match self.format {
            InspectFormat::Text => format!(
                "{} packets ({}), {} connection(s) ({} shown), {} websocket frames, {} violations, {} warnings\n",
                summary.packets,
                summary.format,
                summary.connection_count(),
                shown_conns,
                summary.frames,
                summary.violations,
                summary.warnings
            ),
            InspectFormat::Json | InspectFormat::Yaml => {
                let v = json!({
                    "type": "summary", "format": summary.format, "packets": summary.packets,
                    "connections": summary.connection_count(), "frames": summary.frames,
                    "violations": summary.violations, "warnings": summary.warnings,
                    "truncated_packets": summary.truncated_packets,
                });
                if self.format == InspectFormat::Json {
                    format!("{v}\n")
                } else {
                    yaml(&v)
                }
            }
        };
        if self.view.check && self.format == InspectFormat::Text {
            let _ = self.out.write_all(
                format!(
                    "{} violations in {} packets\n",
                    summary.violations, summary.packets
                )
                .as_bytes(),
            );
        } else {
            let _ = self.out.write_all(text.as_bytes());
        }
        let _ = self.out.flush();
    }
}

impl<W: Write> Sink for InspectWriter<W> {
    fn event(&mut self, event: &Event<'_>) {
        if let Event::Warning(w) = event {
            self.warnings.push(w.message.to_string());
        }
        if self.failed || !self.keep(event) {
            return;
        }
        self.line.clear();
        match self.format {
            InspectFormat::Text => {
                let text = if self.view.check {
                    violation_line(event)
                } else {
                    event_text(event, self.view.messages)
                };
                match text {
                    Some(t) => {
                        self.line.push_str(&t);
                        self.line.push('\n');
                    }
                    None => return,
                }
            }
            InspectFormat::Json => {
                if let Event::Frame(f) = event {
                    frame_json_line(f, &mut self.line);
                } else {
                    self.line = event_json(event).to_string();
                }
                self.line.push('\n');
            }
            InspectFormat::Yaml => self.line = yaml(&event_json(event)),
        }
        if self.out.write_all(self.line.as_bytes()).is_err() {
            self.failed = true;
        }
    }
}

/// Rows of the overhead table: label, packets (for rows made of whole packets), bytes, and a
/// note on what was counted.
fn rows(l: &Ledger) -> Vec<(&'static str, Option<u64>, u64, String)> {
    let c = &l.control;
    let data = format!("of the {} segments with new data", l.data_packets);
    vec![
        ("link headers", None, l.link, data.clone()),
        ("IP headers", None, l.ip, data.clone()),
        ("TCP headers", None, l.tcp_header, data),
        (
            "TCP control: SYN",
            Some(c.syn_packets),
            c.syn_bytes,
            "whole segments".into(),
        ),
        (
            "TCP control: FIN",
            Some(c.fin_packets),
            c.fin_bytes,
            "whole segments".into(),
        ),
        (
            "TCP control: RST",
            Some(c.rst_packets),
            c.rst_bytes,
            "whole segments".into(),
        ),
        (
            "TCP control: pure ACK",
            Some(c.ack_packets),
            c.ack_bytes,
            "whole segments".into(),
        ),
        (
            "TCP retransmitted",
            Some(l.retransmitted_packets),
            l.retransmitted,
            "whole segments + re-sent bytes".into(),
        ),
        (
            "HTTP start lines + headers",
            None,
            l.http_head,
            format!("{} messages", l.http_messages),
        ),
        ("HTTP bodies", None, l.http_body, String::new()),
        (
            "WebSocket frame headers",
            None,
            l.ws_header,
            format!("{} frames", l.ws_frames),
        ),
        ("WebSocket mask keys", None, l.ws_mask, String::new()),
        ("WebSocket payload", None, l.ws_payload, String::new()),
        ("other TCP payload", None, l.other_payload, String::new()),
        (
            "non-TCP packets",
            Some(l.non_tcp_packets),
            l.non_tcp,
            String::new(),
        ),
    ]
}

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".into()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

fn opt_num(v: Option<u64>) -> String {
    v.map_or(String::new(), |n| n.to_string())
}

fn per_msg(v: Option<f64>) -> String {
    v.map_or("-".into(), |x| format!("{x:.1}"))
}

/// Estimated bytes of the same messages over raw TCP with a 4-byte length prefix: as few
/// data segments as the messages allow (one per message, more when they exceed a 1448-byte
/// MSS), one connection with a three-way handshake and a three-segment close, no separate
/// ACKs, and the headers per segment the capture itself used (66 bytes if it had none).
pub fn raw_tcp_lower_bound(l: &Ledger) -> Option<u64> {
    const MSS: u64 = 1448;
    if l.messages == 0 {
        return None;
    }
    let per_segment = (l.link + l.ip + l.tcp_header)
        .checked_div(l.data_packets)
        .unwrap_or(66);
    let framed = l.app_payload + 4 * l.messages;
    let segments = l.messages.max(framed.div_ceil(MSS));
    Some(segments * per_segment + framed + 6 * per_segment)
}

/// The overhead text report of one capture.
pub fn overhead_text(name: &str, s: &CaptureSummary) -> String {
    let mut out = String::new();
    let t = &s.total;
    let _ = writeln!(
        out,
        "{name}: {} packets, {} bytes on the wire, {}",
        s.packets,
        t.wire_bytes,
        carries(s)
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<5} {:<47} {:<24} {:>7} {:>9} {:>8} {:>9} {:>7}",
        "conn", "client -> server", "carries", "packets", "bytes", "messages", "payload", "eff."
    );
    for c in &s.connections {
        let _ = writeln!(
            out,
            "{:<5} {:<47} {:<24} {:>7} {:>9} {:>8} {:>9} {:>7}",
            c.id,
            format!("{} -> {}", c.client, c.server),
            c.kind.name(),
            c.ledger.packets,
            c.ledger.wire_bytes,
            c.ledger.messages,
            c.ledger.app_payload,
            format!("{:.1}%", c.ledger.efficiency() * 100.0)
        );
    }
    if s.unlisted_connections > 0 {
        let _ = writeln!(
            out,
            "({} more connections are counted in the totals but not listed)",
            s.unlisted_connections
        );
    }
    if s.unlisted_connections > 0 {
        let _ = writeln!(
            out,
            "({} more connections are counted in the totals but not listed)",
            s.unlisted_connections
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<28} {:>9} {:>10} {:>7}",
        "layer (all connections)", "packets", "bytes", "share"
    );
    for (label, packets, bytes, note) in rows(t) {
        let line = format!(
            "{label:<28} {:>9} {bytes:>10} {:>7}  {note}",
            opt_num(packets),
            pct(bytes, t.wire_bytes)
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let _ = writeln!(
        out,
        "{:<28} {:>9} {:>10} {:>7}",
        "total on the wire",
        t.packets,
        t.wire_bytes,
        pct(t.accounted(), t.wire_bytes)
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "application messages: {} carrying {} payload bytes (WebSocket data messages; HTTP messages with a body)",
        t.messages, t.app_payload
    );
    let _ = writeln!(
        out,
        "per message: {} bytes, {} packets on the wire; efficiency (payload / wire bytes): {:.1}%",
        per_msg(t.bytes_per_message()),
        per_msg(t.packets_per_message()),
        t.efficiency() * 100.0
    );
    if let Some(raw) = raw_tcp_lower_bound(t) {
        let _ = writeln!(
            out,
            "raw TCP lower bound for the same messages (estimate: 4-byte length prefix, fewest segments, no ACKs): {raw} bytes"
        );
    }
    if t.lost_bytes > 0 || t.truncated_bytes > 0 {
        let _ = writeln!(
            out,
            "not captured: {} stream bytes never in the capture (in no row), {} bytes cut by the snaplen (counted in their rows)",
            t.lost_bytes, t.truncated_bytes
        );
    }
    out
}

fn ratio(a: u64, b: u64) -> String {
    if a == 0 {
        if b == 0 { "-".into() } else { "inf".into() }
    } else {
        format!("{:.2}x", b as f64 / a as f64)
    }
}

fn ratio_f(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if a > 0.0 => format!("{:.2}x", b / a),
        _ => "-".into(),
    }
}

/// `3 connections: 2 http, 1 websocket`.
fn carries(s: &CaptureSummary) -> String {
    let mut kinds: Vec<(&str, usize)> = Vec::new();
    for c in &s.connections {
        match kinds.iter_mut().find(|(k, _)| *k == c.kind.name()) {
            Some((_, n)) => *n += 1,
            None => kinds.push((c.kind.name(), 1)),
        }
    }
    let mut list: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
    if s.unlisted_connections > 0 {
        list.push(format!("{} not listed", s.unlisted_connections));
    }
    let n = s.connection_count();
    format!(
        "{n} connection{}: {}",
        if n == 1 { "" } else { "s" },
        list.join(", ")
    )
}

/// The side-by-side text report of two captures (`overhead A --vs B`); ratios are B / A.
pub fn overhead_vs_text(
    a_name: &str,
    a: &CaptureSummary,
    b_name: &str,
    b: &CaptureSummary,
) -> String {
    let (ta, tb) = (&a.total, &b.total);
    let w = 10;
    let mut out = String::new();
    let _ = writeln!(out, "A = {a_name} ({})", carries(a));
    let _ = writeln!(out, "B = {b_name} ({})", carries(b));
    let _ = writeln!(
        out,
        "B / A is how many times A's amount B needed (\"inf\": A had none, \"0.00x\": B had none)."
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<28} {:>w$} {:>w$} {:>8}",
        "bytes by layer", "A", "B", "B / A"
    );
    let (ra, rb) = (rows(ta), rows(tb));
    for ((label, _, x, _), (_, _, y, _)) in ra.iter().zip(rb.iter()) {
        if *x == 0 && *y == 0 {
            continue;
        }
        let _ = writeln!(out, "{label:<28} {x:>w$} {y:>w$} {:>8}", ratio(*x, *y));
    }
    let _ = writeln!(
        out,
        "{:<28} {:>w$} {:>w$} {:>8}",
        "total on the wire",
        ta.wire_bytes,
        tb.wire_bytes,
        ratio(ta.wire_bytes, tb.wire_bytes)
    );
    let _ = writeln!(out);
    let line = |out: &mut String, label: &str, x: String, y: String, r: String| {
        let _ = writeln!(out, "{label:<28} {x:>w$} {y:>w$} {r:>8}");
    };
    line(
        &mut out,
        "packets",
        ta.packets.to_string(),
        tb.packets.to_string(),
        ratio(ta.packets, tb.packets),
    );
    line(
        &mut out,
        "TCP connections",
        ta.connections.to_string(),
        tb.connections.to_string(),
        ratio(ta.connections, tb.connections),
    );
    line(
        &mut out,
        "application messages",
        ta.messages.to_string(),
        tb.messages.to_string(),
        ratio(ta.messages, tb.messages),
    );
    line(
        &mut out,
        "application payload bytes",
        ta.app_payload.to_string(),
        tb.app_payload.to_string(),
        ratio(ta.app_payload, tb.app_payload),
    );
    line(
        &mut out,
        "bytes per message",
        per_msg(ta.bytes_per_message()),
        per_msg(tb.bytes_per_message()),
        ratio_f(ta.bytes_per_message(), tb.bytes_per_message()),
    );
    line(
        &mut out,
        "packets per message",
        per_msg(ta.packets_per_message()),
        per_msg(tb.packets_per_message()),
        ratio_f(ta.packets_per_message(), tb.packets_per_message()),
    );
    line(
        &mut out,
        "efficiency (payload/wire)",
        format!("{:.1}%", ta.efficiency() * 100.0),
        format!("{:.1}%", tb.efficiency() * 100.0),
        "".into(),
    );
    let (la, lb) = (raw_tcp_lower_bound(ta), raw_tcp_lower_bound(tb));
    line(
        &mut out,
        "raw TCP lower bound (est.)",
        la.map_or("-".into(), |v| v.to_string()),
        lb.map_or("-".into(), |v| v.to_string()),
        "".into(),
    );
    let _ = writeln!(out);
    if let (Some(x), Some(y)) = (ta.bytes_per_message(), tb.bytes_per_message()) {
        let (more, less, factor) = if y >= x {
            ("B", "A", y / x)
        } else {
            ("A", "B", x / y)
        };
        let _ = writeln!(
            out,
            "In plain words: for each application message, {more} put {factor:.1} times as many bytes on the wire as {less}."
        );
        let _ = writeln!(
            out,
            "Both run over TCP; the raw TCP line is what the same messages would cost with no HTTP or WebSocket at all."
        );
    }
    out
}

/// The JSON object of a ledger.
pub fn ledger_json(l: &Ledger) -> Value {
    json!({
        "packets": l.packets, "wire_bytes": l.wire_bytes,
        "link": l.link, "ip": l.ip, "tcp_header": l.tcp_header, "data_packets": l.data_packets,
        "tcp_control": {
            "syn_packets": l.control.syn_packets, "syn_bytes": l.control.syn_bytes,
            "fin_packets": l.control.fin_packets, "fin_bytes": l.control.fin_bytes,
            "rst_packets": l.control.rst_packets, "rst_bytes": l.control.rst_bytes,
            "ack_packets": l.control.ack_packets, "ack_bytes": l.control.ack_bytes,
        },
        "retransmitted": l.retransmitted, "retransmitted_packets": l.retransmitted_packets,
        "http_head": l.http_head, "http_body": l.http_body, "http_messages": l.http_messages,
        "ws_header": l.ws_header, "ws_mask": l.ws_mask, "ws_payload": l.ws_payload,
        "ws_frames": l.ws_frames, "other_payload": l.other_payload,
        "non_tcp_packets": l.non_tcp_packets, "non_tcp": l.non_tcp,
        "messages": l.messages, "app_payload": l.app_payload,
        "bytes_per_message": l.bytes_per_message(), "packets_per_message": l.packets_per_message(),
        "efficiency": l.efficiency(), "raw_tcp_lower_bound": raw_tcp_lower_bound(l),
        "lost_bytes": l.lost_bytes, "truncated_bytes": l.truncated_bytes,
        "connections": l.connections,
    })
}

/// The JSON report of one capture.
pub fn overhead_json(name: &str, s: &CaptureSummary) -> Value {
    json!({
        "file": name, "format": s.format, "packets": s.packets,
        "unlisted_connections": s.unlisted_connections,
        "total": ledger_json(&s.total),
        "connections": s.connections.iter().map(|c| json!({
            "conn": c.id, "client": c.client.to_string(), "server": c.server.to_string(),
            "carries": c.kind.name(), "partial": c.partial, "first_packet": c.first_packet,
            "ledger": ledger_json(&c.ledger),
        })).collect::<Vec<_>>(),
    })
}

/// The JSON report of two captures side by side; ratios are B / A.
pub fn overhead_vs_json(
    a_name: &str,
    a: &CaptureSummary,
    b_name: &str,
    b: &CaptureSummary,
) -> Value {
    let r = |x: u64, y: u64| (x > 0).then(|| y as f64 / x as f64);
    let (ta, tb) = (&a.total, &b.total);
    json!({
        "a": overhead_json(a_name, a),
        "b": overhead_json(b_name, b),
        "ratios_b_over_a": {
            "wire_bytes": r(ta.wire_bytes, tb.wire_bytes),
            "packets": r(ta.packets, tb.packets),
            "bytes_per_message": match (ta.bytes_per_message(), tb.bytes_per_message()) {
                (Some(x), Some(y)) if x > 0.0 => Some(y / x), _ => None },
            "packets_per_message": match (ta.packets_per_message(), tb.packets_per_message()) {
                (Some(x), Some(y)) if x > 0.0 => Some(y / x), _ => None },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pcap::events::{At, FrameEvent};
    use crate::wire::{FrameHeader, LengthEncoding, Opcode};

    #[test]
    fn fast_frame_json_equals_the_value_form() {
        for (mask, payload) in [
            (None, &b"hello \"quoted\" \x01"[..]),
            (Some([1, 2, 3, 0xff]), &[0xffu8; 100][..]),
        ] {
            let f = FrameEvent {
                at: At {
                    conn: 3,
                    packet: 42,
                    time_ns: 1_234_567_891,
                },
                dir: Direction::ClientToServer,
                first_packet: 40,
                header: FrameHeader {
                    fin: true,
                    rsv: 4,
                    opcode: Opcode::Text,
                    mask,
                    payload_len: payload.len() as u64,
                    length_encoding: LengthEncoding::minimal_for(payload.len() as u64),
                },
                header_len: 6,
                payload,
                missing: 0,
                oversized: false,
            };
            let mut line = String::new();
            frame_json_line(&f, &mut line);
            let fast: Value = serde_json::from_str(&line).expect("valid json");
            assert_eq!(fast, event_json(&Event::Frame(f.clone())));
            assert_eq!(line, event_json(&Event::Frame(f)).to_string());
        }
    }
}
