//! The rules of RFC 6455 that a single direction of frames can break, turned into
//! [`Violation`]s. Decoding never judges; this module does, frame by frame, keeping just the
//! state the rules need (open fragmented message, UTF-8 progress, close seen).
//!
//! Sections: §5.1 and §5.3 (masking), §5.2 (RSV bits, opcodes, length encoding), §5.4
//! (fragmentation), §5.5 (control frames), §5.5.1 (close payload), §7.4 (close codes), §8.1
//! (UTF-8).

use super::Role;
use super::close::{CloseClass, ClosePayload};
use super::frame::{FrameHeader, Opcode};
use super::utf8::{Utf8Status, Utf8Validator};
use super::violation::{Violation, ViolationKind};

/// What the rules may take as given about a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleConfig {
    /// RSV bits a negotiated extension gave a meaning (RSV1 = 0b100 for permessage-deflate).
    pub allowed_rsv: u8,
    /// Messages longer than this are reported as [`ViolationKind::PayloadTooLarge`].
    pub max_message: u64,
}

impl Default for RuleConfig {
    fn default() -> Self {
        RuleConfig {
            allowed_rsv: 0,
            max_message: super::decode::DEFAULT_MAX_PAYLOAD,
        }
    }
}

/// When the first bytes after an opening handshake are text (an HTTP response or an HTML page
/// sent after the `101`, say), names what went wrong with the first frame header: the bytes,
/// what they decode to as a header, and the text they are. None when the bytes are not text:
/// the violations then say enough.
pub fn explain_text_as_frame(bytes: &[u8], header: &FrameHeader) -> Option<String> {
    let texty = |b: &u8| b.is_ascii_graphic() || matches!(b, b' ' | b'\r' | b'\n' | b'\t');
    let head = &bytes[..bytes.len().min(8)];
    if head.len() < 4 || !head.iter().all(texty) {
        return None;
    }
    let line: String = bytes
        .iter()
        .take_while(|&&b| b != b'\r' && b != b'\n')
        .take(40)
        .map(|&b| if texty(&b) { b as char } else { '.' })
        .collect();
    let what = if bytes.starts_with(b"HTTP/") {
        "an http response"
    } else if bytes.starts_with(b"<") {
        "html"
    } else {
        "text"
    };
    Some(format!(
        "the first frame header after the handshake is {what}, not a websocket frame: \
         \"{line}\" starts with bytes {:02x} {:02x}, read as fin {}, rsv {:03b}, opcode 0x{:x} ({}), \
         payload length {}",
        bytes[0],
        bytes[1],
        u8::from(header.fin),
        header.rsv,
        header.opcode.as_u8(),
        header.opcode,
        header.payload_len
    ))
}

/// Judges the frames one endpoint sends, in order.
#[derive(Clone, Debug)]
pub struct RuleEngine {
    sender: Role,
    config: RuleConfig,
    /// Opcode of the fragmented message in progress, if any.
    open_message: Option<Opcode>,
    utf8: Utf8Validator,
    utf8_reported: bool,
    message_len: u64,
    size_reported: bool,
    close_seen: bool,
}

impl RuleEngine {
    /// Rules for frames sent by an endpoint in role `sender`.
    pub fn new(sender: Role, config: RuleConfig) -> RuleEngine {
        RuleEngine {
            sender,
            config,
            open_message: None,
            utf8: Utf8Validator::new(),
            utf8_reported: false,
            message_len: 0,
            size_reported: false,
            close_seen: false,
        }
    }

    /// Whether a close frame has been seen from this sender.
    pub fn close_seen(&self) -> bool {
        self.close_seen
    }

    /// Whether a fragmented data message is in progress.
    pub fn in_message(&self) -> bool {
        self.open_message.is_some()
    }

    /// Judges one whole frame (payload unmasked).
    pub fn observe(&mut self, header: &FrameHeader, payload: &[u8]) -> Vec<Violation> {
        let mut found = self.check_header(header);
        match header.opcode {
            Opcode::Text | Opcode::Binary | Opcode::Continuation => {
                self.check_data(header, payload, &mut found);
            }
            Opcode::Close => {
                self.check_close(payload, &mut found);
                self.close_seen = true;
            }
            _ => {}
        }
        found
    }

    /// Judges a frame whose payload was not buffered because it exceeds the decoder's limit.
    pub fn observe_oversized(&mut self, header: &FrameHeader) -> Vec<Violation> {
        let mut found = self.check_header(header);
        found.push(Violation::new(
            ViolationKind::PayloadTooLarge,
            format!(
                "frame declares {} payload bytes, above the {}-byte limit",
                header.payload_len, self.config.max_message
            ),
        ));
        if header.opcode == Opcode::Close {
            self.close_seen = true;
        }
        found
    }

    /// The rules that need only the header: masking, RSV, opcode, length encoding, control
    /// frame limits, data after close.
    pub fn check_header(&mut self, h: &FrameHeader) -> Vec<Violation> {
        let mut found = Vec::new();
        let op = h.opcode;
        if self.close_seen {
            found.push(Violation::new(
                ViolationKind::DataAfterClose,
                format!("{op} frame sent after a close frame"),
            ));
        }
        match (self.sender, h.mask) {
            (Role::Client, None) => found.push(Violation::new(
                ViolationKind::UnmaskedClientFrame,
                format!("client {op} frame is not masked"),
            )),
            (Role::Server, Some(_)) => found.push(Violation::new(
                ViolationKind::MaskedServerFrame,
                format!("server {op} frame is masked"),
            )),
            _ => {}
        }
        let stray_rsv = h.rsv & !self.config.allowed_rsv & 0x07;
        if stray_rsv != 0 {
            found.push(Violation::new(
                ViolationKind::ReservedBitsSet,
                format!(
                    "rsv bits {:03b} set on a {op} frame without a negotiated extension",
                    h.rsv
                ),
            ));
        }
        if op.is_reserved() {
            found.push(Violation::new(
                ViolationKind::ReservedOpcode,
                format!("opcode 0x{:x} is reserved", op.as_u8()),
            ));
        }
        if h.length_msb_set() {
            found.push(Violation::new(
                ViolationKind::LengthMsbSet,
                "64-bit payload length has its most significant bit set",
            ));
        } else if !h.is_minimal_length() {
            found.push(Violation::new(
                ViolationKind::NonMinimalLength,
                format!(
                    "length {} written in the {}-byte form",
                    h.payload_len,
                    h.length_encoding.extra_bytes()
                ),
            ));
        }
        if op.is_control() {
            if h.payload_len > 125 {
                found.push(Violation::new(
                    ViolationKind::ControlFrameTooLong,
                    format!("{op} frame carries {} bytes (at most 125)", h.payload_len),
                ));
            }
            if !h.fin {
                found.push(Violation::new(
                    ViolationKind::FragmentedControlFrame,
                    format!("{op} frame has fin clear"),
                ));
            }
        }
        found
    }

    fn check_data(&mut self, h: &FrameHeader, payload: &[u8], found: &mut Vec<Violation>) {
        let message_op = match (h.opcode, self.open_message) {
            (Opcode::Continuation, Some(op)) => op,
            (Opcode::Continuation, None) => {
                found.push(Violation::new(
                    ViolationKind::UnexpectedContinuation,
                    "continuation frame without a fragmented message in progress",
                ));
                return;
            }
            (op, Some(open)) => {
                found.push(Violation::new(
                    ViolationKind::InterleavedDataFrame,
                    format!("new {op} frame while a fragmented {open} message is in progress"),
                ));
                self.start_message();
                op
            }
            (op, None) => {
                self.start_message();
                op
            }
        };
        self.message_len += payload.len() as u64;
        if self.message_len > self.config.max_message && !self.size_reported {
            self.size_reported = true;
            found.push(Violation::new(
                ViolationKind::PayloadTooLarge,
                format!("message exceeds the {}-byte limit", self.config.max_message),
            ));
        }
        if message_op == Opcode::Text && !self.utf8_reported {
            let mut status = self.utf8.feed(payload);
            if h.fin {
                status = self.utf8.finish();
            }
            if let Utf8Status::Invalid { offset } = status {
                self.utf8_reported = true;
                found.push(Violation::new(
                    ViolationKind::InvalidUtf8Text,
                    format!("text message is not valid utf-8 at byte {offset}"),
                ));
            }
        }
        self.open_message = if h.fin { None } else { Some(message_op) };
    }

    fn start_message(&mut self) {
        self.utf8.reset();
        self.utf8_reported = false;
        self.message_len = 0;
        self.size_reported = false;
    }

    fn check_close(&mut self, payload: &[u8], found: &mut Vec<Violation>) {
        match ClosePayload::parse(payload) {
            ClosePayload::Empty => {}
            ClosePayload::OneByte(b) => found.push(Violation::new(
                ViolationKind::MalformedClosePayload,
                format!("close payload is a single byte (0x{b:02x}); a code needs two"),
            )),
            ClosePayload::Code { code, reason } => {
                let class = CloseClass::of(code);
                if !class.allowed_on_wire() {
                    found.push(Violation::new(
                        ViolationKind::InvalidCloseCode,
                        format!("close code {code} ({}) must not be sent", class.name()),
                    ));
                }
                if let Utf8Status::Invalid { offset } = super::utf8::validate(&reason) {
                    found.push(Violation::new(
                        ViolationKind::InvalidUtf8CloseReason,
                        format!("close reason is not valid utf-8 at byte {offset}"),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server that answers the upgrade with a 101 and then keeps talking HTTP: the first
    /// "frame header" is `HT`, and the explanation says so.
    #[test]
    fn rfc6455_5_2_http_text_after_the_101_is_named() {
        let text = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html>";
        let header = match crate::wire::frame::parse_header(text) {
            crate::wire::frame::HeaderStatus::Complete(h, _) => h,
            crate::wire::frame::HeaderStatus::Incomplete(_) => panic!("two bytes are a header"),
        };
        let why = explain_text_as_frame(text, &header).expect("text is explained");
        assert!(
            why.contains("is an http response, not a websocket frame"),
            "{why}"
        );
        assert!(why.contains("\"HTTP/1.1 200 OK\""), "{why}");
        assert!(
            why.contains(
                "bytes 48 54, read as fin 0, rsv 100, opcode 0x8 (close), payload length 84"
            ),
            "{why}"
        );
        let page = b"<html><body>hello</body></html>";
        let header = match crate::wire::frame::parse_header(page) {
            crate::wire::frame::HeaderStatus::Complete(h, _) => h,
            crate::wire::frame::HeaderStatus::Incomplete(_) => panic!("two bytes are a header"),
        };
        let why = explain_text_as_frame(page, &header).expect("html is explained");
        assert!(why.contains("is html"), "{why}");
        // Binary frames, even broken ones, are left to the violations.
        let frame = [0xc1, 0x05, b'h', b'e', b'l', b'l', b'o'];
        let header = match crate::wire::frame::parse_header(&frame) {
            crate::wire::frame::HeaderStatus::Complete(h, _) => h,
            crate::wire::frame::HeaderStatus::Incomplete(_) => panic!("two bytes are a header"),
        };
        assert_eq!(explain_text_as_frame(&frame, &header), None);
    }
    use crate::wire::encode::{FrameSpec, LengthSpec};
    use crate::wire::frame::Frame;
    use crate::wire::{Decoded, FrameDecoder};

    const KEY: [u8; 4] = [1, 2, 3, 4];

    fn frames(specs: &[FrameSpec]) -> Vec<Frame> {
        let mut d = FrameDecoder::default();
        for s in specs {
            d.push(&s.encode());
        }
        let mut out = Vec::new();
        while let Decoded::Frame(f) = d.next_frame() {
            out.push(f.frame);
        }
        out
    }

    /// The violation kinds the rules report for frames sent by `sender`.
    fn judge(sender: Role, specs: &[FrameSpec]) -> Vec<ViolationKind> {
        let mut rules = RuleEngine::new(sender, RuleConfig::default());
        frames(specs)
            .iter()
            .flat_map(|f| rules.observe(&f.header, &f.payload))
            .map(|v| v.kind)
            .collect()
    }

    fn client(op: Opcode, payload: impl Into<Vec<u8>>) -> FrameSpec {
        FrameSpec::new(op, payload).masked(KEY)
    }

    fn server(op: Opcode, payload: impl Into<Vec<u8>>) -> FrameSpec {
        FrameSpec::new(op, payload)
    }

    use ViolationKind::*;

    #[test]
    fn well_formed_traffic_has_no_violations() {
        let c = [
            client(Opcode::Text, "frag").fin(false),
            client(Opcode::Ping, "p"),
            client(Opcode::Continuation, "ment"),
            client(Opcode::Binary, vec![0xff; 300]),
            client(Opcode::Close, [0x03, 0xe8, b'o', b'k']),
        ];
        assert_eq!(judge(Role::Client, &c), vec![]);
        let s = [server(Opcode::Text, "κόσμε"), server(Opcode::Close, vec![])];
        assert_eq!(judge(Role::Server, &s), vec![]);
    }

    #[test]
    fn rfc6455_5_3_unmasked_client_frame() {
        assert_eq!(
            judge(Role::Client, &[server(Opcode::Text, "x")]),
            vec![UnmaskedClientFrame]
        );
    }

    #[test]
    fn rfc6455_5_1_masked_server_frame() {
        assert_eq!(
            judge(Role::Server, &[client(Opcode::Text, "x")]),
            vec![MaskedServerFrame]
        );
    }

    #[test]
    fn rfc6455_5_2_reserved_bits() {
        for rsv in 1..8 {
            let f = FrameSpec {
                rsv,
                ..server(Opcode::Text, "x")
            };
            assert_eq!(
                judge(Role::Server, &[f]),
                vec![ReservedBitsSet],
                "rsv {rsv}"
            );
        }
        // RSV1 is fine once an extension (permessage-deflate) gave it a meaning.
        let mut rules = RuleEngine::new(
            Role::Server,
            RuleConfig {
                allowed_rsv: 0b100,
                ..RuleConfig::default()
            },
        );
        let f = &frames(&[FrameSpec {
            rsv: 0b100,
            ..server(Opcode::Binary, "x")
        }])[0];
        assert!(rules.observe(&f.header, &f.payload).is_empty());
    }

    #[test]
    fn rfc6455_5_2_reserved_opcodes() {
        for op in (3..8).chain(11..16) {
            let f = server(Opcode::from_u4(op), "");
            assert_eq!(
                judge(Role::Server, &[f]),
                vec![ReservedOpcode],
                "opcode {op}"
            );
        }
    }

    #[test]
    fn rfc6455_5_2_non_minimal_length() {
        let f = FrameSpec {
            length: LengthSpec::Force16,
            ..server(Opcode::Text, "x")
        };
        assert_eq!(judge(Role::Server, &[f]), vec![NonMinimalLength]);
    }

    #[test]
    fn rfc6455_5_2_length_msb() {
        let mut rules = RuleEngine::new(Role::Server, RuleConfig::default());
        let mut d = FrameDecoder::default();
        d.push(&[0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1]);
        let Decoded::Oversized { header, .. } = d.next_frame() else {
            panic!("oversized expected")
        };
        let kinds: Vec<_> = rules
            .observe_oversized(&header)
            .iter()
            .map(|v| v.kind)
            .collect();
        assert_eq!(kinds, vec![LengthMsbSet, PayloadTooLarge]);
    }

    #[test]
    fn rfc6455_5_5_control_frame_over_125() {
        assert_eq!(
            judge(Role::Server, &[server(Opcode::Ping, vec![0; 126])]),
            vec![ControlFrameTooLong]
        );
        assert_eq!(
            judge(Role::Server, &[server(Opcode::Ping, vec![0; 125])]),
            vec![]
        );
    }

    #[test]
    fn rfc6455_5_5_fragmented_control_frame() {
        assert_eq!(
            judge(Role::Server, &[server(Opcode::Pong, "").fin(false)]),
            vec![FragmentedControlFrame]
        );
    }

    #[test]
    fn rfc6455_5_4_continuation_without_message() {
        assert_eq!(
            judge(Role::Server, &[server(Opcode::Continuation, "x")]),
            vec![UnexpectedContinuation]
        );
    }

    #[test]
    fn rfc6455_5_4_new_data_frame_inside_fragmented_message() {
        let s = [
            server(Opcode::Text, "a").fin(false),
            server(Opcode::Text, "b"),
        ];
        assert_eq!(judge(Role::Server, &s), vec![InterleavedDataFrame]);
    }

    #[test]
    fn rfc6455_8_1_invalid_utf8_text_across_fragments() {
        // ED A0 80 is a surrogate: invalid at the second byte, which is in the second frame.
        let s = [
            server(Opcode::Text, vec![b'a', 0xed]).fin(false),
            server(Opcode::Continuation, vec![0xa0, 0x80]).fin(false),
            server(Opcode::Continuation, "z"),
        ];
        let mut rules = RuleEngine::new(Role::Server, RuleConfig::default());
        let fs = frames(&s);
        assert!(rules.observe(&fs[0].header, &fs[0].payload).is_empty());
        let v = rules.observe(&fs[1].header, &fs[1].payload);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].kind, InvalidUtf8Text);
        assert!(v[0].detail.contains("byte 2"), "{}", v[0].detail);
        assert!(rules.observe(&fs[2].header, &fs[2].payload).is_empty());
        // A message ending inside a code point is invalid at its end.
        assert_eq!(
            judge(Role::Server, &[server(Opcode::Text, vec![0xce])]),
            vec![InvalidUtf8Text]
        );
        // Binary messages are not UTF-8 checked.
        assert_eq!(
            judge(Role::Server, &[server(Opcode::Binary, vec![0xff])]),
            vec![]
        );
    }

    #[test]
    fn rfc6455_5_5_1_close_payload_rules() {
        assert_eq!(
            judge(Role::Server, &[server(Opcode::Close, vec![0x03])]),
            vec![MalformedClosePayload]
        );
        for code in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
            let f = server(Opcode::Close, code.to_be_bytes().to_vec());
            assert_eq!(
                judge(Role::Server, &[f]),
                vec![InvalidCloseCode],
                "code {code}"
            );
        }
        for code in [
            1000u16, 1001, 1003, 1007, 1011, 1012, 3000, 3999, 4000, 4999,
        ] {
            let f = server(Opcode::Close, code.to_be_bytes().to_vec());
            assert_eq!(judge(Role::Server, &[f]), vec![], "code {code}");
        }
        let mut bad_reason = 1000u16.to_be_bytes().to_vec();
        bad_reason.extend_from_slice(&[0xce, 0xba, 0xff]);
        assert_eq!(
            judge(Role::Server, &[server(Opcode::Close, bad_reason)]),
            vec![InvalidUtf8CloseReason]
        );
    }

    #[test]
    fn rfc6455_5_5_1_data_after_close() {
        let s = [server(Opcode::Close, vec![]), server(Opcode::Text, "late")];
        assert_eq!(judge(Role::Server, &s), vec![DataAfterClose]);
    }

    #[test]
    fn rfc6455_10_4_message_over_limit() {
        let mut rules = RuleEngine::new(
            Role::Server,
            RuleConfig {
                max_message: 4,
                ..RuleConfig::default()
            },
        );
        let fs = frames(&[
            server(Opcode::Binary, "abc").fin(false),
            server(Opcode::Continuation, "def"),
        ]);
        assert!(rules.observe(&fs[0].header, &fs[0].payload).is_empty());
        let kinds: Vec<_> = rules
            .observe(&fs[1].header, &fs[1].payload)
            .iter()
            .map(|v| v.kind)
            .collect();
        assert_eq!(kinds, vec![PayloadTooLarge]);
    }

    #[test]
    fn every_violation_names_an_rfc_section() {
        for kind in [
            UnmaskedClientFrame,
            MaskedServerFrame,
            ReservedBitsSet,
            ReservedOpcode,
            NonMinimalLength,
            LengthMsbSet,
            PayloadTooLarge,
            ControlFrameTooLong,
            FragmentedControlFrame,
            UnexpectedContinuation,
            InterleavedDataFrame,
            InvalidUtf8Text,
            InvalidUtf8CloseReason,
            MalformedClosePayload,
            InvalidCloseCode,
            DataAfterClose,
        ] {
            assert!(kind.section().starts_with("RFC 6455 §"), "{kind:?}");
        }
    }
}
