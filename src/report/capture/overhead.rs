//! `wsprobe overhead` output: the per-layer byte table of one capture, two captures side by
//! side (`--vs`), and their JSON forms.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::pcap::{CaptureSummary, Ledger};

/// Rows of the overhead table: label, packets (for rows made of whole packets), bytes, and a
/// note on what was counted.
pub(super) fn rows(l: &Ledger) -> Vec<(&'static str, Option<u64>, u64, String)> {
    let c = &l.control;
    let data = format!("of the {} segments with new data", l.data_packets);
    let mut rows = vec![
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
    ];
    // Only captures with TLS have the row, so the tables of plain captures stay as they were.
    if l.tls > 0 {
        rows.insert(
            8,
            (
                "TLS records",
                None,
                l.tls,
                "headers, handshake, AEAD nonces + tags".into(),
            ),
        );
    }
    // Likewise for HTTP/2 (h2c): its framing sits between TCP and the HTTP/WebSocket rows.
    if l.http2 > 0 {
        let at = rows
            .iter()
            .position(|r| r.0 == "HTTP start lines + headers")
            .unwrap_or(rows.len());
        rows.insert(
            at,
            (
                "HTTP/2 framing",
                None,
                l.http2,
                "preface, frame headers, padding, non-DATA frames".into(),
            ),
        );
    }
    rows
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

/// Whether two captures carry the same workload: as many application messages and as many
/// application payload bytes.
pub fn same_workload(a: &Ledger, b: &Ledger) -> bool {
    a.messages == b.messages && a.app_payload == b.app_payload
}

/// Bytes paid once per connection rather than per message: TCP SYN, FIN and RST segments, and
/// the HTTP heads of WebSocket connections (the opening handshake). Heads of plain HTTP
/// connections are not counted here: polling pays them for every message.
pub fn setup_bytes(s: &CaptureSummary) -> u64 {
    let c = &s.total.control;
    let handshakes: u64 = s
        .connections
        .iter()
        .filter(|c| {
            matches!(
                c.kind,
                crate::pcap::ConnKind::WebSocket | crate::pcap::ConnKind::WebSocketNoHandshake
            )
        })
        .map(|c| c.ledger.http_head)
        .sum();
    c.syn_bytes + c.fin_bytes + c.rst_bytes + handshakes
}

/// Wire bytes per application payload byte, if there was any payload.
fn bytes_per_payload_byte(l: &Ledger) -> Option<f64> {
    (l.app_payload > 0).then(|| l.wire_bytes as f64 / l.app_payload as f64)
}

/// `10 messages (11 payload bytes)`.
fn workload(l: &Ledger) -> String {
    format!(
        "{} message{} ({} payload byte{})",
        l.messages,
        if l.messages == 1 { "" } else { "s" },
        l.app_payload,
        if l.app_payload == 1 { "" } else { "s" }
    )
}

/// `B used 4.4× the bytes of A per message`, said of whichever side used more, so the factor
/// is never a confusing fraction.
fn used_more(a: f64, b: f64, per: &str) -> String {
    if b >= a {
        format!("B used {:.1}\u{d7} the bytes of A {per}", b / a)
    } else {
        format!("A used {:.1}\u{d7} the bytes of B {per}", a / b)
    }
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
    let same = same_workload(ta, tb);
    if same {
        let _ = writeln!(out, "Same workload: {} in each.", workload(ta));
    } else {
        let _ = writeln!(
            out,
            "!! DIFFERENT WORKLOADS: A carries {}, B carries {}.",
            workload(ta),
            workload(tb)
        );
        let _ = writeln!(
            out,
            "!! The totals below are not comparable: compare the per-message and per-payload-byte rows."
        );
    }
    let _ = writeln!(
        out,
        "The B / A column reads \"B used that many times A's amount\" (\"inf\": A had none, \"0.00x\": B had none)."
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
        "bytes per payload byte",
        per_msg(bytes_per_payload_byte(ta)),
        per_msg(bytes_per_payload_byte(tb)),
        ratio_f(bytes_per_payload_byte(ta), bytes_per_payload_byte(tb)),
    );
    line(
        &mut out,
        "packets per message",
        per_msg(ta.packets_per_message()),
        per_msg(tb.packets_per_message()),
        ratio_f(ta.packets_per_message(), tb.packets_per_message()),
    );
    let (sa, sb) = (setup_bytes(a), setup_bytes(b));
    line(
        &mut out,
        "setup + handshake bytes",
        sa.to_string(),
        sb.to_string(),
        ratio(sa, sb),
    );
    line(
        &mut out,
        "  spread over (messages)",
        ta.messages.to_string(),
        tb.messages.to_string(),
        "".into(),
    );
    let spread = |s: u64, l: &Ledger| (l.messages > 0).then(|| s as f64 / l.messages as f64);
    line(
        &mut out,
        "  setup bytes per message",
        per_msg(spread(sa, ta)),
        per_msg(spread(sb, tb)),
        ratio_f(spread(sa, ta), spread(sb, tb)),
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
    let _ = writeln!(
        out,
        "Setup + handshake: TCP SYN/FIN/RST segments and WebSocket opening handshakes, paid once per connection; the more messages a connection carries, the less each one pays."
    );
    if let (Some(x), Some(y)) = (ta.bytes_per_message(), tb.bytes_per_message()) {
        let _ = writeln!(
            out,
            "In plain words: {} (A {}, B {} bytes per message).",
            used_more(x, y, "per message"),
            per_msg(Some(x)),
            per_msg(Some(y))
        );
    }
    if !same && let (Some(x), Some(y)) = (bytes_per_payload_byte(ta), bytes_per_payload_byte(tb)) {
        let _ = writeln!(
            out,
            "Per payload byte: {} (A {}, B {} wire bytes per payload byte).",
            used_more(x, y, "per payload byte"),
            per_msg(Some(x)),
            per_msg(Some(y))
        );
    }
    let _ = writeln!(
        out,
        "Both run over TCP; the raw TCP line is what the same messages would cost with no HTTP or WebSocket at all."
    );
    out
}

/// The JSON object of a ledger.
pub fn ledger_json(l: &Ledger) -> Value {
    let mut v = json!({
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
        "ws_frames": l.ws_frames, "tls": l.tls, "other_payload": l.other_payload,
        "non_tcp_packets": l.non_tcp_packets, "non_tcp": l.non_tcp,
        "messages": l.messages, "app_payload": l.app_payload,
        "bytes_per_message": l.bytes_per_message(), "packets_per_message": l.packets_per_message(),
        "efficiency": l.efficiency(), "raw_tcp_lower_bound": raw_tcp_lower_bound(l),
        "lost_bytes": l.lost_bytes, "truncated_bytes": l.truncated_bytes,
        "connections": l.connections,
    });
    if l.http2 > 0 {
        v["http2"] = Value::from(l.http2);
    }
    v
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
    let rf = |x: Option<f64>, y: Option<f64>| match (x, y) {
        (Some(x), Some(y)) if x > 0.0 => Some(y / x),
        _ => None,
    };
    let (sa, sb) = (setup_bytes(a), setup_bytes(b));
    json!({
        "a": overhead_json(a_name, a),
        "b": overhead_json(b_name, b),
        "same_workload": same_workload(ta, tb),
        "setup_bytes": { "a": sa, "b": sb },
        "ratios_b_over_a": {
            "bytes_per_payload_byte": rf(bytes_per_payload_byte(ta), bytes_per_payload_byte(tb)),
            "setup_bytes": r(sa, sb),
            "wire_bytes": r(ta.wire_bytes, tb.wire_bytes),
            "packets": r(ta.packets, tb.packets),
            "bytes_per_message": match (ta.bytes_per_message(), tb.bytes_per_message()) {
                (Some(x), Some(y)) if x > 0.0 => Some(y / x), _ => None },
            "packets_per_message": match (ta.packets_per_message(), tb.packets_per_message()) {
                (Some(x), Some(y)) if x > 0.0 => Some(y / x), _ => None },
        },
    })
}
