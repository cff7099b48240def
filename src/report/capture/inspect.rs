//! `wsprobe inspect` output: one line (text), object (JSON Lines) or sequence item (YAML) per
//! event, written as events arrive.

use std::fmt::Write as _;
use std::io::Write;

use serde_json::{Value, json};

use crate::pcap::events::{
    BodyKind, Event, GapEffect, Inflation, RoleSource, TcpEndKind, preview_with_missing,
};
use crate::pcap::reassembly::GapKind;
use crate::pcap::{CaptureSummary, Sink};
use crate::trace::preview;
use crate::wire::{Direction, FrameHeader, LengthEncoding, Violation, ViolationKind};

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

/// Hex of `bytes` in which the bytes of the `missing` ranges (zeros standing in for bytes that
/// were not captured) are written `??`.
fn push_hex_missing(s: &mut String, bytes: &[u8], missing: &[(u64, u64)]) {
    let mut at = 0usize;
    for &(start, end) in missing {
        let start = (start as usize).min(bytes.len());
        let end = (end as usize).min(bytes.len());
        if start >= bytes.len() {
            break;
        }
        push_hex(s, &bytes[at.min(start)..start]);
        for _ in start..end {
            s.push_str("??");
        }
        at = end;
    }
    if at < bytes.len() {
        push_hex(s, &bytes[at..]);
    }
}

fn hex_missing(bytes: &[u8], missing: &[(u64, u64)]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    push_hex_missing(&mut s, bytes, missing);
    s
}

/// Appends `"preview":` and the JSON string of [`preview`]`(data)`, written in one pass without
/// building the preview first: the preview escapes every control character, so its JSON form
/// only doubles backslashes and escapes quotes. Frames are most of `inspect --format json`'s
/// output and this was a tenth of its time.
fn push_preview_field(out: &mut String, data: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let cut = &data[..data.len().min(crate::trace::PREVIEW_BYTES)];
    out.push_str("\"preview\":\"");
    for chunk in cut.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' => out.push_str("\\\\n"),
                '\r' => out.push_str("\\\\r"),
                '\t' => out.push_str("\\\\t"),
                '\\' => out.push_str("\\\\\\\\"),
                '"' => out.push_str("\\\\\\\""),
                c if c.is_control() => {
                    out.push_str("\\\\u{");
                    let v = c as u32;
                    let mut started = false;
                    for shift in (0..8).rev() {
                        let d = (v >> (shift * 4)) & 0xf;
                        if d != 0 || started || shift == 0 {
                            started = true;
                            out.push(DIGITS[d as usize] as char);
                        }
                    }
                    out.push('}');
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str("\\\\x");
            out.push(DIGITS[usize::from(b >> 4)] as char);
            out.push(DIGITS[usize::from(b & 0x0f)] as char);
        }
    }
    if data.len() > cut.len() {
        let _ = write!(out, "…({} bytes)", data.len());
    }
    out.push('"');
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
    let _ = write!(out, "\"missing\":{},", f.missing);
    if !f.missing_ranges.is_empty() {
        out.push_str("\"missing_ranges\":[");
        for (i, (a, b)) in f.missing_ranges.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            let _ = write!(out, "{sep}[{a},{b}]");
        }
        out.push_str("],");
    }
    let _ = write!(
        out,
        "\"opcode\":{},\"opcode_name\":\"{}\",\"oversized\":{},\"packet\":{},\"payload_hex\":\"",
        f.header.opcode.as_u8(),
        f.header.opcode.name(),
        f.oversized,
        f.at.packet
    );
    let shown = &f.payload[..f.payload.len().min(HEX_BYTES)];
    if f.missing_ranges.is_empty() {
        push_hex(out, shown);
        out.push_str("\",");
        push_preview_field(out, f.payload);
    } else {
        push_hex_missing(out, shown, f.missing_ranges);
        out.push_str("\",");
        push_str_field(
            out,
            "preview",
            &preview_with_missing(f.payload, f.missing_ranges),
        );
    }
    let _ = write!(out, ",\"rsv\":{}", f.header.rsv);
    if let Some(sid) = f.at.stream {
        let _ = write!(out, ",\"stream\":{sid}");
    }
    let _ = write!(
        out,
        ",\"time\":{},\"type\":\"frame\"}}",
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

/// The JSON object of one event (also the YAML mapping). Events on an HTTP/2 stream carry
/// its id as `stream`.
pub fn event_json(event: &Event<'_>) -> Value {
    let mut v = event_json_inner(event);
    if let Some(sid) = event.at().and_then(|a| a.stream) {
        v["stream"] = Value::from(sid);
    }
    v
}

fn event_json_inner(event: &Event<'_>) -> Value {
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
        Event::Handshake(h) => {
            let mut v = json!({
            "type": "handshake", "conn": h.at.conn, "packet": h.at.packet, "time": secs(h.at.time_ns),
            "request": h.request, "request_packet": h.request_packet, "response": h.response,
            "accept_ok": h.accept_ok, "subprotocol": h.protocol, "extensions": h.extensions,
            "permessage_deflate": h.deflate.map(|d| json!({
                "server_no_context_takeover": d.server_no_context_takeover,
                "client_no_context_takeover": d.client_no_context_takeover,
                "server_max_window_bits": d.server_max_window_bits,
                "client_max_window_bits": d.client_max_window_bits,
            })),
            });
            if h.cut {
                v["accept_ok"] = Value::Null;
                v["cut_by_snaplen"] = Value::Bool(true);
            }
            v
        }
        Event::Frame(f) => {
            let mut v = json!({
                "type": "frame", "conn": f.at.conn, "packet": f.at.packet, "time": secs(f.at.time_ns),
                "dir": f.dir.arrow(), "first_packet": f.first_packet,
                "fin": f.header.fin, "rsv": f.header.rsv, "opcode": f.header.opcode.as_u8(),
                "opcode_name": f.header.opcode.name(), "masked": f.header.mask.is_some(),
                "mask_key": f.header.mask.map(|k| hex(&k)), "len": f.header.payload_len,
                "len_bits": len_bits(&f.header), "header_len": f.header_len,
                "payload_hex": hex_missing(&f.payload[..f.payload.len().min(HEX_BYTES)], f.missing_ranges),
                "preview": preview_with_missing(f.payload, f.missing_ranges),
                "missing": f.missing, "oversized": f.oversized,
            });
            if !f.missing_ranges.is_empty() {
                v["missing_ranges"] = json!(f.missing_ranges);
            }
            v
        }
        Event::Message(m) => {
            let mut v = json!({
            "type": "message", "conn": m.at.conn, "packet": m.at.packet, "time": secs(m.at.time_ns),
            "dir": m.dir.arrow(), "opcode": m.opcode.as_u8(), "opcode_name": m.opcode.name(),
            "frames": m.frames, "wire_len": m.wire_len, "len": m.data.len(),
            "compression": match &m.inflation {
                Inflation::Plain => "none",
                Inflation::Inflated => "inflated",
                Inflation::Failed(_) => "not-inflated",
            },
            "inflate_error": match &m.inflation { Inflation::Failed(e) => Some(e.as_str()), _ => None },
            "preview": preview_with_missing(m.data, m.missing), "incomplete": m.incomplete,
            });
            if !m.missing.is_empty() {
                v["missing_ranges"] = json!(m.missing);
            }
            v
        }
        Event::Violation(v) => {
            let mut o = json!({
                "type": "violation", "conn": v.at.conn, "packet": v.at.packet, "time": secs(v.at.time_ns),
                "dir": v.dir.arrow(), "kind": v.violation.kind.name(), "detail": v.violation.detail,
                "section": v.violation.section(), "level": v.violation.kind.level().as_str(),
            });
            if let Some(anchor) = anchor(v.violation) {
                o["anchor"] = Value::from(anchor);
            }
            o
        }
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
        Event::Tls(t) => json!({
            "type": "tls", "conn": t.at.conn, "packet": t.at.packet, "time": secs(t.at.time_ns),
            "sni": t.sni, "version": t.version.map(crate::pcap::tls::record::version_name),
            "cipher_suite": t.suite.map(crate::pcap::tls::keys::suite_name), "alpn": t.alpn,
            "offered_alpn": t.offered_alpn, "decrypted": t.not_decrypted.is_none(),
            "not_decrypted_because": t.not_decrypted,
        }),
        Event::H2Frame(f) => {
            let mut v = json!({
                "type": "http2_frame", "conn": f.at.conn, "packet": f.at.packet, "time": secs(f.at.time_ns),
                "dir": f.dir.arrow(), "frame_type": f.header.kind.as_u8(),
                "frame_type_name": f.header.kind.to_string(), "stream_id": f.header.stream_id,
                "flags": f.header.flags, "len": f.header.length, "summary": f.summary,
            });
            if !f.fields.is_empty() {
                v["fields"] = f.fields.iter().map(|(n, val)| json!([n, val])).collect();
            }
            v
        }
        Event::H2Finding(f) => json!({
            "type": "violation", "conn": f.at.conn, "packet": f.at.packet, "time": secs(f.at.time_ns),
            "dir": f.dir.arrow(), "kind": f.rule, "detail": f.detail, "section": f.section,
            "level": f.level.as_str(),
        }),
    }
}

/// The text form of a TLS event.
fn tls_text(t: &crate::pcap::events::TlsEvent<'_>) -> String {
    use crate::pcap::tls::{keys::suite_name, record::version_name};
    let mut s = format!(
        "== tls: {}, {}, sni {}, alpn {}",
        t.version.map_or("version unknown".into(), version_name),
        t.suite.map_or("cipher suite unknown".into(), suite_name),
        t.sni.map_or("none".into(), |n| preview(n.as_bytes())),
        match t.alpn {
            Some(a) => preview(a.as_bytes()),
            None if t.offered_alpn.is_empty() => "none".into(),
            None => format!(
                "not known (offered {})",
                preview(t.offered_alpn.join(", ").as_bytes())
            ),
        }
    );
    match t.not_decrypted {
        None => s.push_str("; decrypted with the key log"),
        Some(why) => {
            let _ = write!(s, "; content not decrypted: {why}");
        }
    }
    s
}

/// The one-line text form of an event, or `None` for events the text view leaves out.
pub fn event_text(event: &Event<'_>, messages: bool) -> Option<String> {
    let stream = event
        .at()
        .and_then(|a| a.stream)
        .map_or(String::new(), |s| format!(" s{s}"));
    let prefix = |ns: i128, packet: u64, conn: u32| {
        format!("{:>11.6} #{packet:<6} c{conn}{stream}", secs(ns))
    };
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
                if h.cut {
                    "not captured (cut by the snaplen)"
                } else if h.accept_ok {
                    "ok"
                } else {
                    "WRONG"
                },
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
                preview_with_missing(f.payload, f.missing_ranges)
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
                preview_with_missing(m.data, m.missing)
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
            if !m.missing.is_empty() {
                let n: u64 = m.missing.iter().map(|(a, b)| b - a).sum();
                let _ = write!(s, " [{n} bytes not captured]");
            }
            if m.incomplete {
                s.push_str(" [incomplete]");
            }
            s
        }
        Event::Frame(_) | Event::Message(_) => return None,
        Event::Violation(v) => format!(
            "{} {} !! {}: {} ({})",
            prefix(v.at.time_ns, v.at.packet, v.at.conn),
            v.dir.arrow(),
            v.violation.kind.name(),
            v.violation.detail,
            reference(v.violation)
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
        Event::Tls(t) => format!(
            "{} {}",
            prefix(t.at.time_ns, t.at.packet, t.at.conn),
            tls_text(t)
        ),
        Event::H2Frame(f) if !messages => {
            let mut s = format!(
                "{} {} h2 {:<13} stream {} flags 0x{:02x} len {}",
                prefix(f.at.time_ns, f.at.packet, f.at.conn),
                f.dir.arrow(),
                f.header.kind.to_string(),
                f.header.stream_id,
                f.header.flags,
                f.header.length
            );
            if !f.summary.is_empty() {
                let _ = write!(s, " {}", f.summary);
            }
            for (n, v) in f.fields {
                let _ = write!(
                    s,
                    "\n{:>30}{}: {}",
                    "",
                    preview(n.as_bytes()),
                    preview(v.as_bytes())
                );
            }
            s
        }
        Event::H2Frame(_) => return None,
        Event::H2Finding(f) => format!(
            "{} {} !! {}: {} ({}, {})",
            prefix(f.at.time_ns, f.at.packet, f.at.conn),
            f.dir.arrow(),
            f.rule,
            f.detail,
            f.section,
            f.level.as_str()
        ),
    })
}

/// The one-line `--check` form of a violation.
pub fn violation_line(event: &Event<'_>) -> Option<String> {
    if let Event::H2Finding(f) = event {
        return Some(format!(
            "packet {}: connection {} {}: {}: {} ({})",
            f.at.packet,
            f.at.conn,
            f.dir.arrow(),
            f.rule,
            f.detail,
            f.section
        ));
    }
    let Event::Violation(v) = event else {
        return None;
    };
    Some(format!(
        "packet {}: connection {} {}: {}: {} ({})",
        v.at.packet,
        v.at.conn,
        v.dir.arrow(),
        v.violation.kind.name(),
        v.violation.detail,
        reference(v.violation)
    ))
}

/// The checklist anchor of an RFC 7692 violation (`docs/rfc7692.md`), e.g. `7692-6.1-c`.
fn anchor(v: &Violation) -> Option<&'static str> {
    match v.kind {
        ViolationKind::Deflate(kind) => Some(kind.anchor()),
        _ => None,
    }
}

/// Where a violation's rule is written: `RFC 6455 §5.2 MUST`, and for RFC 7692 the checklist
/// anchor too: `RFC 7692 §6.1 MUST, 7692-6.1-c`.
fn reference(v: &Violation) -> String {
    match anchor(v) {
        Some(a) => format!("{} {}, {a}", v.section(), v.kind.level()),
        None => format!("{} {}", v.section(), v.kind.level()),
    }
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
            return matches!(
                event,
                Event::Violation(_) | Event::Warning(_) | Event::H2Finding(_)
            );
        }
        if self.format != InspectFormat::Text {
            return match event {
                Event::Frame(_) | Event::H2Frame(_) => !self.view.messages,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pcap::events::{At, FrameEvent};
    use crate::wire::{FrameHeader, LengthEncoding, Opcode};

    #[test]
    fn fast_frame_json_equals_the_value_form() {
        let gaps: &[(u64, u64)] = &[(2, 5), (60, 90)];
        for (mask, payload, missing_ranges) in [
            (None, &b"hello \"quoted\" \x01"[..], &[][..]),
            (Some([1, 2, 3, 0xff]), &[0xffu8; 100][..], &[][..]),
            (None, &[0u8; 100][..], gaps),
        ] {
            let f = FrameEvent {
                at: At {
                    conn: 3,
                    packet: 42,
                    time_ns: 1_234_567_891,
                    // An HTTP/2 stream id on some frames: the fast form writes it too.
                    stream: mask.is_some().then_some(5),
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
                missing: missing_ranges.iter().map(|(a, b)| b - a).sum(),
                missing_ranges,
                oversized: false,
            };
            let mut line = String::new();
            frame_json_line(&f, &mut line);
            let fast: Value = serde_json::from_str(&line).expect("valid json");
            assert_eq!(fast, event_json(&Event::Frame(f.clone())));
            assert_eq!(line, event_json(&Event::Frame(f)).to_string());
            let mut p = String::new();
            push_preview_field(&mut p, payload);
            let want = format!("\"preview\":{}", Value::from(preview(payload)));
            assert_eq!(p, want);
            if !missing_ranges.is_empty() {
                assert_eq!(
                    fast["missing_ranges"],
                    serde_json::json!([[2, 5], [60, 90]])
                );
                let hex = fast["payload_hex"].as_str().expect("hex");
                assert_eq!(&hex[..12], "0000??????00", "missing bytes are not zeros");
                assert_eq!(hex.len(), 128);
            }
        }
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// The one-pass JSON preview is exactly the JSON string of `preview`.
            #[test]
            fn one_pass_preview_is_the_json_of_preview(
                data in proptest::collection::vec(
                    prop_oneof![any::<u8>(), Just(b'\\'), Just(b'"'), Just(0x7f), Just(0xc2)],
                    0..100,
                )
            ) {
                let mut p = String::new();
                push_preview_field(&mut p, &data);
                let want = format!("\"preview\":{}", Value::from(preview(&data)));
                prop_assert_eq!(p, want);
            }
        }
    }
}
