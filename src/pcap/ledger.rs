//! The byte ledger: every byte of every packet (its original, on-the-wire length) is counted in
//! exactly one layer, so the rows of a ledger add up to its `wire_bytes`.
//!
//! How a packet is split:
//! - a TCP segment without payload (SYN, FIN, RST, pure ACK) counts whole as a control segment;
//! - a segment whose payload was all seen before counts whole as a retransmission;
//! - any other segment counts its link header (plus any link trailer or padding), IP header and
//!   TCP header in those rows, payload bytes seen before as retransmitted, and new payload bytes
//!   in the application row the dissector assigns them to (HTTP head, HTTP body, WebSocket
//!   frame header, mask key, payload), or as other TCP payload when nothing decodes them;
//! - packets that are not usable TCP count whole as non-TCP.
//!
//! Bytes that were never captured (a lost segment) are on no packet and so in no row; they are
//! reported separately as `lost_bytes`.

/// Bytes and packets by layer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    /// Packets.
    pub packets: u64,
    /// Bytes on the wire (sum of original packet lengths).
    pub wire_bytes: u64,
    /// Link-layer headers and trailers of segments carrying new data.
    pub link: u64,
    /// IP headers of segments carrying new data.
    pub ip: u64,
    /// TCP headers of segments carrying new data.
    pub tcp_header: u64,
    /// Segments carrying new data.
    pub data_packets: u64,
    /// Whole control segments without payload, by kind.
    pub control: ControlCounts,
    /// Whole retransmitted segments plus already-seen bytes of partly new ones.
    pub retransmitted: u64,
    /// Segments whose payload was entirely seen before.
    pub retransmitted_packets: u64,
    /// HTTP start lines, headers, blank lines and chunked framing.
    pub http_head: u64,
    /// HTTP bodies.
    pub http_body: u64,
    /// HTTP messages (requests and responses, handshakes included).
    pub http_messages: u64,
    /// WebSocket frame headers without mask keys.
    pub ws_header: u64,
    /// WebSocket mask keys.
    pub ws_mask: u64,
    /// WebSocket payload, control frames included.
    pub ws_payload: u64,
    /// WebSocket frames.
    pub ws_frames: u64,
    /// TLS-layer bytes: record headers, handshake, change cipher spec and alert records, AEAD
    /// explicit nonces and tags, TLS 1.3 inner content types and padding. Decrypted application
    /// data counts in the HTTP and WebSocket rows; application data not decrypted is other
    /// payload.
    pub tls: u64,
    /// HTTP/2 framing of h2c connections (RFC 9113): the client preface, every 9-octet frame
    /// header, padding and pad-length octets, and whole non-DATA frames (SETTINGS, HEADERS,
    /// CONTINUATION, WINDOW_UPDATE, PING, RST_STREAM, GOAWAY, PRIORITY, unknown types).
    /// DATA payloads count in the WebSocket rows (extended CONNECT streams) or as HTTP bodies.
    pub http2: u64,
    /// TCP payload not decoded as HTTP or WebSocket (TLS application data not decrypted
    /// included).
    pub other_payload: u64,
    /// Packets that are not usable TCP segments (other protocols, unparsable, unknown link).
    pub non_tcp_packets: u64,
    /// Their bytes.
    pub non_tcp: u64,
    /// Application messages: WebSocket data messages and HTTP messages with a non-empty body.
    pub messages: u64,
    /// Application payload: WebSocket data-frame payload plus HTTP bodies.
    pub app_payload: u64,
    /// Stream bytes that are in no packet of the capture (lost segments); in no row above.
    pub lost_bytes: u64,
    /// Payload bytes on the wire but cut by the snaplen; counted in their rows above.
    pub truncated_bytes: u64,
    /// Connections.
    pub connections: u64,
}

/// Control segments (no payload) by kind; a segment with several flags counts under the first
/// of RST, FIN, SYN, ACK.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ControlCounts {
    /// SYN and SYN-ACK segments.
    pub syn_packets: u64,
    /// Their bytes.
    pub syn_bytes: u64,
    /// FIN segments.
    pub fin_packets: u64,
    /// Their bytes.
    pub fin_bytes: u64,
    /// RST segments.
    pub rst_packets: u64,
    /// Their bytes.
    pub rst_bytes: u64,
    /// Pure ACKs (and window updates, keep-alives without data).
    pub ack_packets: u64,
    /// Their bytes.
    pub ack_bytes: u64,
}

impl ControlCounts {
    /// All control segments.
    pub fn packets(&self) -> u64 {
        self.syn_packets + self.fin_packets + self.rst_packets + self.ack_packets
    }

    /// All control bytes.
    pub fn bytes(&self) -> u64 {
        self.syn_bytes + self.fin_bytes + self.rst_bytes + self.ack_bytes
    }

    fn add(&mut self, o: &ControlCounts) {
        self.syn_packets += o.syn_packets;
        self.syn_bytes += o.syn_bytes;
        self.fin_packets += o.fin_packets;
        self.fin_bytes += o.fin_bytes;
        self.rst_packets += o.rst_packets;
        self.rst_bytes += o.rst_bytes;
        self.ack_packets += o.ack_packets;
        self.ack_bytes += o.ack_bytes;
    }
}

impl Ledger {
    /// The sum of all rows; equals `wire_bytes` by construction.
    pub fn accounted(&self) -> u64 {
        self.link
            + self.ip
            + self.tcp_header
            + self.control.bytes()
            + self.retransmitted
            + self.http_head
            + self.http_body
            + self.ws_header
            + self.ws_mask
            + self.ws_payload
            + self.tls
            + self.http2
            + self.other_payload
            + self.non_tcp
    }

    /// Application payload divided by wire bytes (0 when there are none).
    pub fn efficiency(&self) -> f64 {
        if self.wire_bytes == 0 {
            0.0
        } else {
            self.app_payload as f64 / self.wire_bytes as f64
        }
    }

    /// Wire bytes per application message, if there was any message.
    pub fn bytes_per_message(&self) -> Option<f64> {
        (self.messages > 0).then(|| self.wire_bytes as f64 / self.messages as f64)
    }

    /// Packets per application message, if there was any message.
    pub fn packets_per_message(&self) -> Option<f64> {
        (self.messages > 0).then(|| self.packets as f64 / self.messages as f64)
    }

    /// Adds another ledger's counts to this one.
    pub fn add(&mut self, o: &Ledger) {
        self.packets += o.packets;
        self.wire_bytes += o.wire_bytes;
        self.link += o.link;
        self.ip += o.ip;
        self.tcp_header += o.tcp_header;
        self.data_packets += o.data_packets;
        self.control.add(&o.control);
        self.retransmitted += o.retransmitted;
        self.retransmitted_packets += o.retransmitted_packets;
        self.http_head += o.http_head;
        self.http_body += o.http_body;
        self.http_messages += o.http_messages;
        self.ws_header += o.ws_header;
        self.ws_mask += o.ws_mask;
        self.ws_payload += o.ws_payload;
        self.ws_frames += o.ws_frames;
        self.tls += o.tls;
        self.http2 += o.http2;
        self.other_payload += o.other_payload;
        self.non_tcp_packets += o.non_tcp_packets;
        self.non_tcp += o.non_tcp;
        self.messages += o.messages;
        self.app_payload += o.app_payload;
        self.lost_bytes += o.lost_bytes;
        self.truncated_bytes += o.truncated_bytes;
        self.connections += o.connections;
    }
}

/// Application-layer counts one direction's dissector keeps; the connection folds them into
/// its ledger when it ends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AppCounts {
    /// HTTP heads and chunk framing.
    pub http_head: u64,
    /// HTTP bodies.
    pub http_body: u64,
    /// HTTP messages.
    pub http_messages: u64,
    /// HTTP messages with a body.
    pub http_messages_with_body: u64,
    /// WebSocket frame headers without mask keys.
    pub ws_header: u64,
    /// Mask keys.
    pub ws_mask: u64,
    /// WebSocket payload on the wire (lost bytes excluded).
    pub ws_payload: u64,
    /// Data-frame payload (lost bytes excluded).
    pub ws_data_payload: u64,
    /// Frames.
    pub ws_frames: u64,
    /// Data messages completed.
    pub ws_messages: u64,
    /// HTTP/2 framing (see [`Ledger::http2`]).
    pub http2: u64,
    /// Lost bytes that fell inside counted payloads (to subtract) — kept for reporting.
    pub lost_in_payload: u64,
}
