//! `wsprobe overhead --report html=FILE`: the layer table of one capture, or of two side by side
//! (`--vs`), as a self-contained page: stacked bars of the bytes each application message cost
//! on the wire, layer by layer, with the numbers beside them and the full table below.

use std::fmt::Write as _;

use super::overhead::rows;
use crate::pcap::{CaptureSummary, Ledger};
use crate::report::html::escape;
use crate::report::svg::{Stack, stacked_hbars};

/// The chart's layers: a name, a colour and the table rows (by label) it sums.
const LAYERS: [(&str, &str, &[&str]); 8] = [
    (
        "link + IP + TCP headers",
        "#8d99ae",
        &["link headers", "IP headers", "TCP headers"],
    ),
    (
        "TCP control",
        "#adb5bd",
        &[
            "TCP control: SYN",
            "TCP control: FIN",
            "TCP control: RST",
            "TCP control: pure ACK",
        ],
    ),
    ("TCP retransmitted", "#e76f51", &["TCP retransmitted"]),
    ("TLS records", "#9b5de5", &["TLS records"]),
    ("HTTP heads", "#f4a261", &["HTTP start lines + headers"]),
    (
        "WebSocket headers + masks",
        "#2a9d8f",
        &["WebSocket frame headers", "WebSocket mask keys"],
    ),
    (
        "payload (HTTP bodies, WebSocket)",
        "#264653",
        &["HTTP bodies", "WebSocket payload"],
    ),
    (
        "other",
        "#ced4da",
        &["other TCP payload", "non-TCP packets"],
    ),
];

/// Bytes per application message of each chart layer (per capture when it has no message).
fn layer_values(l: &Ledger) -> Vec<f64> {
    let per = l.messages.max(1) as f64;
    let table = rows(l);
    LAYERS
        .iter()
        .map(|(_, _, labels)| {
            table
                .iter()
                .filter(|(label, ..)| labels.contains(label))
                .map(|(_, _, bytes, _)| *bytes as f64)
                .sum::<f64>()
                / per
        })
        .collect()
}

/// The page for one capture or several (`--vs`), each given as (name, summary).
pub fn overhead_html(captures: &[(&str, &CaptureSummary)]) -> String {
    let names: Vec<String> = captures.iter().map(|(n, _)| escape(n)).collect();
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\
         <title>wsprobe overhead: {}</title><style>{STYLE}</style>\
         <script>window.onerror=function(m){{document.documentElement.setAttribute('data-js-error',String(m));}};\
         document.addEventListener('DOMContentLoaded',function(){{document.documentElement.setAttribute('data-js-ready','1');}});</script>\
         </head><body><h1>wsprobe overhead</h1>",
        names.join(" vs ")
    );
    h.push_str("<table id=\"captures\"><tr><th>capture</th><th>packets</th><th>bytes on the wire</th><th>application messages</th><th>application payload</th><th>bytes per message</th><th>efficiency</th></tr>");
    for (i, (name, s)) in captures.iter().enumerate() {
        let t = &s.total;
        let per = if t.messages == 0 {
            "-".to_string()
        } else {
            format!("{:.1}", t.wire_bytes as f64 / t.messages as f64)
        };
        let eff = if t.wire_bytes == 0 {
            "-".to_string()
        } else {
            format!("{:.1}%", t.app_payload as f64 * 100.0 / t.wire_bytes as f64)
        };
        let _ = write!(
            h,
            "<tr id=\"capture-{i}\" data-wire-bytes=\"{}\" data-messages=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{per}</td><td>{eff}</td></tr>",
            t.wire_bytes,
            t.messages,
            escape(name),
            t.packets,
            t.wire_bytes,
            t.messages,
            t.app_payload
        );
    }
    h.push_str("</table>");
    let stacks: Vec<Stack> = captures
        .iter()
        .map(|(name, s)| Stack {
            label: name,
            values: layer_values(&s.total),
        })
        .collect();
    let layers: Vec<(&str, &str)> = LAYERS.iter().map(|(n, c, _)| (*n, *c)).collect();
    h.push_str("<h2>Bytes on the wire per application message, by layer</h2>");
    h.push_str(&stacked_hbars(
        "bytes per application message by layer",
        &layers,
        &stacks,
        " B",
    ));
    h.push_str("<h2>Every layer</h2><table id=\"layers\"><tr><th>layer</th>");
    for name in &names {
        let _ = write!(h, "<th>{name}: bytes</th><th>{name}: per message</th>");
    }
    h.push_str("</tr>");
    let tables: Vec<_> = captures.iter().map(|(_, s)| rows(&s.total)).collect();
    // Every row of any capture (the TLS row exists only where there was TLS), in table order.
    let mut labels: Vec<&str> = Vec::new();
    for (label, ..) in tables.iter().flatten() {
        if !labels.contains(label) {
            labels.push(label);
        }
    }
    for label in labels {
        let _ = write!(h, "<tr><td>{}</td>", escape(label));
        for ((_, s), table) in captures.iter().zip(&tables) {
            let bytes = table
                .iter()
                .find(|(l, ..)| *l == label)
                .map_or(0, |(_, _, b, _)| *b);
            let per = if s.total.messages == 0 {
                "-".to_string()
            } else {
                format!("{:.1}", bytes as f64 / s.total.messages as f64)
            };
            let _ = write!(h, "<td>{bytes}</td><td>{per}</td>");
        }
        h.push_str("</tr>");
    }
    h.push_str(
        "</table><p>Every byte on the wire is counted in exactly one row (docs/capture-output.md). \
         Application messages are WebSocket data messages and HTTP messages with a body.</p></body></html>",
    );
    h
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}\
table{border-collapse:collapse;font-size:13px;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}\
td{font-variant-numeric:tabular-nums}";
