//! WebSocket frames as wsprobe's capture decoder and tshark's JSON export
//! (`-T json -x --no-duplicate-keys`) both describe them, for comparing the two.

use serde_json::Value;
use wsprobe::pcap::events::FrameEvent;

/// The fields tshark and wsprobe are compared on, per WebSocket frame.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Row {
    /// Packet number (1-based) of the frame's last byte.
    pub packet: u64,
    /// Opcode.
    pub opcode: u8,
    /// FIN bit.
    pub fin: bool,
    /// RSV bits.
    pub rsv: u8,
    /// Masked.
    pub mask: bool,
    /// Payload length.
    pub len: u64,
    /// Payload as lower-case hex (as received, masked or not as tshark shows it).
    pub payload: String,
}

impl std::fmt::Debug for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = &self.payload;
        write!(
            f,
            "#{} op={} fin={} rsv={} mask={} len={} payload={}{}",
            self.packet,
            self.opcode,
            u8::from(self.fin),
            self.rsv,
            u8::from(self.mask),
            self.len,
            &p[..p.len().min(24)],
            if p.len() > 24 {
                format!("…({} hex digits)", p.len())
            } else {
                String::new()
            }
        )
    }
}

impl Row {
    /// wsprobe's frame event.
    pub fn of(f: &FrameEvent<'_>) -> Row {
        Row {
            packet: f.at.packet,
            opcode: f.header.opcode.as_u8(),
            fin: f.header.fin,
            rsv: f.header.rsv,
            mask: f.header.mask.is_some(),
            len: f.header.payload_len,
            payload: hex(f.payload),
        }
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn field<'a>(ws: &'a Value, key: &str) -> Option<&'a str> {
    ws.get(key).and_then(Value::as_str)
}

/// tshark's frames from a `-T json -x --no-duplicate-keys` export.
pub fn rows(json: &Value) -> Vec<Row> {
    let mut rows = Vec::new();
    for packet in json.as_array().into_iter().flatten() {
        let layers = &packet["_source"]["layers"];
        let number: u64 = layers["frame"]["frame.number"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("frame.number");
        let list = match &layers["websocket"] {
            Value::Array(a) => a.clone(),
            Value::Null => vec![],
            other => vec![other.clone()],
        };
        for ws in &list {
            let num = |k: &str| field(ws, k).and_then(|s| s.parse::<u64>().ok());
            let len7 = num("websocket.payload_length").expect("payload_length");
            let len = num("websocket.payload_length_ext_16")
                .or_else(|| num("websocket.payload_length_ext_64"))
                .unwrap_or(len7);
            let rsv = field(ws, "websocket.rsv")
                .and_then(|s| u8::from_str_radix(s.trim_start_matches("0x"), 16).ok())
                .expect("rsv");
            let payload = ws
                .get("websocket.payload_raw")
                .and_then(|v| v.get(0))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            rows.push(Row {
                packet: number,
                opcode: num("websocket.opcode").expect("opcode") as u8,
                fin: field(ws, "websocket.fin") == Some("1"),
                rsv,
                mask: field(ws, "websocket.mask") == Some("1"),
                len,
                payload,
            });
        }
    }
    rows
}
