//! The loaded, validated and expanded form of a suite: what the runner executes.
//!
//! Every case and step keeps the [`Location`] it came from, so a failure can point at the
//! YAML that asked for it. Payloads stay lazy ([`Payload::Repeat`]) so a 16 MiB generated
//! message costs nothing until the step runs.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use crate::trace::ReadyState;
use crate::wire::{LengthSpec, Level, Opcode};

/// A position in a suite file (1-based line and column).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    /// The file as given on the command line, or `suites/NAME.yaml` for embedded suites.
    pub file: Arc<PathBuf>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// One loaded suite file.
#[derive(Clone, Debug)]
pub struct Suite {
    /// Suite id (`suite:` key), e.g. `rfc6455-handshake`.
    pub id: String,
    /// Human title.
    pub title: String,
    /// The specification the suite checks, e.g. `RFC 6455 §4`.
    pub spec: Option<String>,
    /// Where the suite came from.
    pub file: Arc<PathBuf>,
    /// The cases in file order, templates expanded.
    pub cases: Vec<Case>,
}

/// One conformance case: a title, the requirement it checks, and steps.
#[derive(Clone, Debug)]
pub struct Case {
    /// Unique id across all loaded suites, e.g. `framing.text-125`.
    pub id: String,
    /// The suite the case belongs to.
    pub suite: String,
    /// What the case checks, in one line.
    pub title: String,
    /// Longer description (optional).
    pub description: Option<String>,
    /// RFC section, e.g. `RFC 6455 §5.5.2`.
    pub spec: String,
    /// How strongly the RFC requires the behaviour.
    pub level: Level,
    /// The equivalent Autobahn|Testsuite case id, e.g. `2.5`.
    pub autobahn: Option<String>,
    /// Free-form tags for `--tag`.
    pub tags: Vec<String>,
    /// Default bound of each expect step.
    pub timeout: Duration,
    /// Bound of the whole case.
    pub deadline: Duration,
    /// Kinds of unsolicited server frames expect steps pass over.
    pub ignore: Vec<Ignore>,
    /// How the connection must end (judged separately, like Autobahn's `behaviorClose`).
    pub closing: ClosingRule,
    /// Response header names whose values traces replace with `[redacted]` (values the server
    /// legitimately varies, e.g. `Server`), in addition to `Date`.
    pub redact_headers: Vec<String>,
    /// If set, the case is not run and reports SKIP with this reason.
    pub skip: Option<String>,
    /// The kinds of peer the case can judge (`peer:`): wsprobe plays the other role. Echo-based
    /// cases judge both; cases that build requests judge servers only, cases that answer the
    /// handshake (`connect.respond`) judge clients only.
    pub peers: Vec<PeerKind>,
    /// The steps in order.
    pub steps: Vec<Step>,
    /// Where the case starts in its file.
    pub location: Location,
}

/// What a case judges. wsprobe plays the other role: the client when it judges a server
/// (`wsprobe run`), the server when it judges a client (`wsprobe run --client`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeerKind {
    /// A WebSocket server (wsprobe connects).
    Server,
    /// A WebSocket client, a browser included (wsprobe accepts).
    Client,
}

impl PeerKind {
    /// The suite-format name.
    pub fn name(self) -> &'static str {
        match self {
            PeerKind::Server => "server",
            PeerKind::Client => "client",
        }
    }
}

/// Unsolicited frames an expect step may skip over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ignore {
    /// Pings from the server (still answered automatically).
    Ping,
    /// Pongs from the server.
    Pong,
}

/// Who must start the closing handshake or drop the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Initiator {
    /// The case does not care.
    #[default]
    Any,
    /// The client (wsprobe) closes first: the server must not close on its own.
    Client,
    /// The server must close or drop first (it has to fail the connection).
    Server,
}

/// How the connection must end.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ClosingRule {
    /// Who must close first.
    pub initiator: Initiator,
    /// Whether both close frames must be exchanged and the server must close TCP.
    pub clean: bool,
    /// Close codes the server may send (empty: any; an absent code is always accepted).
    pub codes: Vec<u16>,
    /// When true the closing behaviour is recorded but never fails the case.
    pub informational: bool,
}

/// A step with its source position.
#[derive(Clone, Debug)]
pub struct Step {
    /// What to do.
    pub kind: StepKind,
    /// Which connection it acts on (`main` unless named).
    pub conn: String,
    /// Where the step is written.
    pub location: Location,
}

/// The step vocabulary.
#[derive(Clone, Debug)]
pub enum StepKind {
    /// Open a connection and perform the opening handshake.
    Connect(Box<Connect>),
    /// Write bytes: a message, control frame, hand-built frame(s) or raw bytes.
    Send(Box<Send>),
    /// Wait until what the server sends matches, within a bound.
    Expect(Box<Expect>),
    /// The browser API's `close(code, reason)`.
    Close(CloseCall),
    /// Sleep.
    Wait(Duration),
    /// Record a marker observation if the connection is still OPEN (Autobahn's timeout markers).
    Mark(String),
    /// Send consecutive windows of a generated corpus, each after the previous echo, and
    /// compare every echo (Autobahn 12.x/13.x).
    Echo(Echo),
    /// Repeat nested steps.
    Repeat {
        /// How many times.
        times: u32,
        /// The steps of one iteration.
        steps: Vec<Step>,
    },
}

/// Opening handshake parameters and expectations.
#[derive(Clone, Debug, Default)]
pub struct Connect {
    /// Request target; `None` uses the target URL's path.
    pub path: Option<String>,
    /// Method (default GET).
    pub method: Option<String>,
    /// HTTP version string (default `HTTP/1.1`).
    pub http_version: Option<String>,
    /// `Host` value; `None` derives it from the target.
    pub host: Option<String>,
    /// A fixed `Sec-WebSocket-Key`; `None` generates a random one.
    pub key: Option<String>,
    /// `Sec-WebSocket-Version` value (default `13`).
    pub version: Option<String>,
    /// `Origin` header.
    pub origin: Option<String>,
    /// Subprotocols offered.
    pub protocols: Vec<String>,
    /// Extension offers, each a full item (`permessage-deflate; client_max_window_bits`);
    /// `None` when the step gives none (the suite's `defaults.extensions` is already filled in
    /// at load time; the run-wide `--extension` applies at run time).
    pub extensions: Option<Vec<String>>,
    /// Standard headers to leave out: any of `host`, `upgrade`, `connection`, `key`, `version`.
    pub omit: Vec<String>,
    /// Extra headers in order (duplicates allowed).
    pub headers: Vec<(String, String)>,
    /// Request body bytes.
    pub body: Option<Payload>,
    /// A hand-written request sent verbatim instead (`{host}`, `{path}`, `{key}` substituted).
    pub raw: Option<String>,
    /// Expectations on the response.
    pub expect: HandshakeExpect,
    /// Bound of the handshake.
    pub timeout: Option<Duration>,
    /// Write the request in TCP chunks of this size.
    pub chop: Option<Chop>,
    /// Call the browser API's `close()` while CONNECTING, right after the request is written.
    pub abort: bool,
    /// How wsprobe, as the server, answers the client's opening handshake (client cases only);
    /// `None` answers correctly.
    pub respond: Option<Respond>,
    /// HTTP/2 options of the extended CONNECT (`run --http2`, RFC 8441).
    pub http2: Http2Connect,
}

/// `connect: { http2: ... }`: how the extended CONNECT differs from the default one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Http2Connect {
    /// `:protocol` (default `websocket`).
    pub protocol: Option<String>,
    /// Open the stream on the HTTP/2 connection of this earlier connection instead of a new
    /// one (RFC 8441 §1: several WebSockets on one connection).
    pub share: Option<String>,
    /// A hand-written request instead: these fields verbatim, pseudo-headers included, in
    /// this order (`{authority}`, `{path}`, `{scheme}` substituted), encoded as HPACK literals
    /// on a connection of wsprobe's own; the answer is judged, no WebSocket opens.
    pub fields: Option<Vec<(String, String)>>,
    /// With `fields`: the field block is cut into this many frames (HEADERS, then
    /// CONTINUATION frames).
    pub split: Option<usize>,
    /// With `fields`: extra SETTINGS parameters wsprobe sends, e.g. an unknown identifier.
    pub settings: Vec<(u16, u32)>,
    /// With `fields`: the case is about a server that did not send
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 §3). The request is sent all the same;
    /// a server that did send it makes the case INFORMATIONAL (it does not apply).
    pub unadvertised: bool,
}

/// wsprobe's answer to a client's opening handshake (RFC 6455 §4.2.2), correct unless a field
/// says otherwise. Used to check that clients fail the connection on a bad response (§4.1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Respond {
    /// Status code (default 101).
    pub status: Option<u16>,
    /// Reason phrase (default `Switching Protocols`).
    pub reason: Option<String>,
    /// Status-line version (default `HTTP/1.1`).
    pub http_version: Option<String>,
    /// `Sec-WebSocket-Accept`: the correct value (`None`), or this value verbatim.
    pub accept: Option<String>,
    /// Standard headers to leave out: any of `upgrade`, `connection`, `accept`.
    pub omit: Vec<String>,
    /// Extra headers in order (duplicates allowed), after the standard ones.
    pub headers: Vec<(String, String)>,
    /// `Sec-WebSocket-Protocol` to send whether or not the client offered it.
    pub protocol: Option<String>,
    /// `Sec-WebSocket-Extensions` items to send verbatim whether or not the client offered
    /// them; `None` lets wsprobe negotiate (permessage-deflate when the case agrees to it).
    pub extensions: Option<Vec<String>>,
    /// Bytes written right after the response head, in the same write.
    pub after: Option<Payload>,
    /// A hand-written response sent verbatim instead (`{accept}` is replaced by the correct
    /// Accept value).
    pub raw: Option<String>,
}

impl Respond {
    /// The placeholders `accept`, `raw` and `headers` values may hold, each filled in for the
    /// client's `Sec-WebSocket-Key` by [`Respond::fill`]: the correct Accept value and the
    /// near misses a client must reject (§4.1), so a case can answer with a value that is wrong
    /// in one precise way although the key is only known at run time.
    pub const PLACEHOLDERS: [(&'static str, &'static str); 10] = [
        ("accept", "the correct Sec-WebSocket-Accept value"),
        ("accept_lower", "the correct value in lower case"),
        ("accept_upper", "the correct value in upper case"),
        (
            "accept_flipped",
            "the correct value with its first character changed",
        ),
        (
            "accept_unpadded",
            "the correct value without its trailing `=`",
        ),
        ("accept_hex", "the SHA-1 in hex instead of base64"),
        (
            "accept_wrong_guid",
            "computed with a GUID that differs in its last digit",
        ),
        ("accept_no_guid", "the SHA-1 of the key alone"),
        (
            "accept_decoded_key",
            "computed from the base64-decoded key bytes",
        ),
        ("key", "the client's Sec-WebSocket-Key itself"),
    ];

    /// `text` with every `{placeholder}` of [`Respond::PLACEHOLDERS`] replaced for a request
    /// whose `Sec-WebSocket-Key` is `key`; other text is kept as written.
    pub fn fill(text: &str, key: &str) -> String {
        if !text.contains('{') {
            return text.to_string();
        }
        let mut out = text.to_string();
        for (name, _) in Self::PLACEHOLDERS {
            let placeholder = format!("{{{name}}}");
            if out.contains(&placeholder) {
                out = out.replace(&placeholder, &accept_variant(name, key));
            }
        }
        out
    }
}

/// One value of [`Respond::PLACEHOLDERS`] for `key`.
fn accept_variant(name: &str, key: &str) -> String {
    use base64::Engine as _;
    use sha1::{Digest as _, Sha1};
    const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B12";
    let key = key.trim_matches([' ', '\t']);
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let sha = |parts: &[&[u8]]| {
        let mut h = Sha1::new();
        for p in parts {
            h.update(p);
        }
        h.finalize()
    };
    let correct = crate::wire::handshake::accept_for_key(key);
    match name {
        "accept_lower" => correct.to_ascii_lowercase(),
        "accept_upper" => correct.to_ascii_uppercase(),
        "accept_flipped" => {
            let first = if correct.starts_with('A') { "B" } else { "A" };
            format!("{first}{}", correct.get(1..).unwrap_or_default())
        }
        "accept_unpadded" => correct.trim_end_matches('=').to_string(),
        "accept_hex" => sha(&[key.as_bytes(), crate::wire::handshake::WS_GUID.as_bytes()])
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        "accept_wrong_guid" => b64(&sha(&[key.as_bytes(), GUID.as_bytes()])),
        "accept_no_guid" => b64(&sha(&[key.as_bytes()])),
        "accept_decoded_key" => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(key)
                .unwrap_or_else(|_| key.as_bytes().to_vec());
            b64(&sha(&[
                &decoded,
                crate::wire::handshake::WS_GUID.as_bytes(),
            ]))
        }
        "key" => key.to_string(),
        _ => correct,
    }
}

/// What the handshake response must look like.
#[derive(Clone, Debug, Default)]
pub struct HandshakeExpect {
    /// Acceptable status codes or classes; empty means 101 with a valid §4.1 response.
    pub status: Vec<StatusPattern>,
    /// Headers that must be present with a matching value (`None`: present with any value).
    pub headers: Vec<(String, Option<String>)>,
    /// Headers that must be absent.
    pub absent: Vec<String>,
    /// Selected subprotocol: `Some(None)` requires none, `Some(Some(p))` requires `p`.
    pub protocol: Option<Option<String>>,
    /// Accepted extensions, by name; `Some(vec![])` requires none.
    pub extensions: Option<Vec<String>>,
    /// When the server does not accept this extension, the case is UNIMPLEMENTED, not failed.
    pub requires_extension: Option<String>,
    /// The accepted permessage-deflate response parameters.
    pub deflate: Option<DeflateExpect>,
    /// The handshake must not open: any status but 101 (HTTP/1.1) or 2xx (HTTP/2), or over
    /// HTTP/2 the stream reset (RFC 9113 §8.1.1 lets a server refuse a malformed request
    /// either way).
    pub refused: bool,
}

/// Expected parameters of an accepted permessage-deflate response; `None` fields are not
/// checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeflateExpect {
    /// `server_no_context_takeover` present (true) or absent (false).
    pub server_no_context_takeover: Option<bool>,
    /// `client_no_context_takeover` present (true) or absent (false).
    pub client_no_context_takeover: Option<bool>,
    /// `server_max_window_bits`: `Some(None)` absent, `Some(Some(n))` equal to n.
    pub server_max_window_bits: Option<Option<u8>>,
    /// `client_max_window_bits`: `Some(None)` absent, `Some(Some(n))` equal to n.
    pub client_max_window_bits: Option<Option<u8>>,
}

/// The `echo` step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Echo {
    /// Where the messages come from.
    pub corpus: super::corpus::Corpus,
    /// Bytes per message.
    pub len: usize,
    /// Messages, each sent after the previous echo.
    pub count: u32,
    /// Split each (compressed) message into frames of at most this many bytes.
    pub fragment_size: Option<usize>,
    /// Bound of the whole loop; `None` uses the case timeout.
    pub timeout: Option<Duration>,
}

/// A status code or a class like `4xx`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusPattern {
    /// Exactly this status.
    Exact(u16),
    /// Any status of this hundred (4 for `4xx`).
    Class(u16),
}

impl StatusPattern {
    /// Whether `status` matches.
    pub fn matches(self, status: u16) -> bool {
        match self {
            StatusPattern::Exact(s) => s == status,
            StatusPattern::Class(c) => status / 100 == c,
        }
    }
}

impl std::fmt::Display for StatusPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StatusPattern::Exact(s) => write!(f, "{s}"),
            StatusPattern::Class(c) => write!(f, "{c}xx"),
        }
    }
}

/// Bytes, given literally or generated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    /// Literal bytes (from text, hex or base64).
    Bytes(Vec<u8>),
    /// `unit` repeated to exactly `len` bytes (the last copy may be cut).
    Repeat {
        /// The repeated bytes (non-empty).
        unit: Vec<u8>,
        /// Total length.
        len: usize,
    },
}

impl Default for Payload {
    fn default() -> Self {
        Payload::Bytes(Vec::new())
    }
}

impl Payload {
    /// Total length in bytes.
    pub fn len(&self) -> usize {
        match self {
            Payload::Bytes(b) => b.len(),
            Payload::Repeat { len, .. } => *len,
        }
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes themselves.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Payload::Bytes(b) => b.clone(),
            Payload::Repeat { unit, len } => unit.iter().copied().cycle().take(*len).collect(),
        }
    }

    /// Compares with `data` without materialising a generated payload.
    pub fn matches(&self, data: &[u8]) -> bool {
        match self {
            Payload::Bytes(b) => b == data,
            Payload::Repeat { unit, len } => {
                data.len() == *len
                    && !unit.is_empty()
                    && data.iter().zip(unit.iter().cycle()).all(|(a, b)| a == b)
            }
        }
    }
}

/// How written bytes are cut into TCP writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Chop {
    /// Every write at most this many bytes.
    Size(usize),
    /// Writes of these sizes in turn; the rest in one write.
    Sizes(Vec<usize>),
    /// One write per frame (Autobahn's `sync`).
    PerFrame,
}

/// A send step.
#[derive(Clone, Debug)]
pub struct Send {
    /// What to write.
    pub what: SendWhat,
    /// Split a text or binary message into frames of at most this many payload bytes.
    pub fragment_size: Option<usize>,
    /// Transport shaping.
    pub chop: Option<Chop>,
    /// Pause between TCP writes.
    pub delay: Option<Duration>,
    /// Compress a text or binary message: `None` compresses when permessage-deflate was
    /// negotiated.
    pub compress: Option<bool>,
    /// Send the message compressed in this form (RSV1 set), negotiated or not.
    pub deflate: Option<DeflateForm>,
}

/// The §7.2.3 shapes of compressed data a `send` can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeflateForm {
    /// Blocks with no compression (§7.2.3.3).
    Stored,
    /// Two DEFLATE blocks in one message (§7.2.3.5).
    TwoBlocks,
    /// A block with BFINAL set (§7.2.3.4).
    Bfinal,
    /// Two frames, the last an empty-block fragment (§7.2.3.6).
    EmptyFinalFragment,
}

impl DeflateForm {
    /// Every form with its suite name.
    pub const NAMES: [(&'static str, DeflateForm); 4] = [
        ("stored", DeflateForm::Stored),
        ("two-blocks", DeflateForm::TwoBlocks),
        ("bfinal", DeflateForm::Bfinal),
        ("empty-final-fragment", DeflateForm::EmptyFinalFragment),
    ];
}

/// The forms a send step can take.
#[derive(Clone, Debug)]
pub enum SendWhat {
    /// A text message (bytes need not be valid UTF-8).
    Text(Payload),
    /// A binary message.
    Binary(Payload),
    /// A ping.
    Ping(Payload),
    /// A pong.
    Pong(Payload),
    /// A close frame.
    Close(CloseSpec),
    /// Hand-built frames, in order.
    Frames(Vec<FrameDef>),
    /// Bytes written verbatim.
    Raw(Payload),
    /// A frame on the WebSocket's HTTP/2 connection, outside its stream (`run --http2`).
    Http2(Http2Frame),
}

/// `send: { http2: ... }`: a connection-level HTTP/2 frame wsprobe sends while the WebSocket
/// is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Http2Frame {
    /// A PING; the step waits for its ACK (RFC 9113 §6.7).
    Ping,
    /// GOAWAY with last stream id 0 and NO_ERROR: wsprobe will open no more streams, the
    /// open ones may finish (RFC 9113 §6.8).
    GoAway,
}

impl Http2Frame {
    /// Every frame with its suite name.
    pub const NAMES: [(&'static str, Http2Frame); 2] =
        [("ping", Http2Frame::Ping), ("goaway", Http2Frame::GoAway)];
}

/// The payload of a close frame to send.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CloseSpec {
    /// Status code; `None` sends no code (and no reason).
    pub code: Option<u16>,
    /// Reason bytes after the code.
    pub reason: Payload,
    /// A raw payload instead (e.g. a single byte).
    pub payload: Option<Payload>,
}

/// The browser API's `close()` call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CloseCall {
    /// Code argument.
    pub code: Option<u16>,
    /// Reason argument.
    pub reason: String,
}

/// Mask key choice for a hand-built frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MaskSpec {
    /// A fresh random key (what a correct client does).
    #[default]
    Auto,
    /// No mask: MASK bit clear.
    None,
    /// This key.
    Key([u8; 4]),
}

/// A hand-built frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameDef {
    /// FIN bit (default true).
    pub fin: bool,
    /// RSV bits as a number 0–7.
    pub rsv: u8,
    /// Opcode.
    pub opcode: Opcode,
    /// Mask key.
    pub mask: MaskSpec,
    /// Length field encoding.
    pub length: LengthSpec,
    /// Payload.
    pub payload: Payload,
}

/// An expect step: one or more alternatives, each a sequence of matchers.
#[derive(Clone, Debug)]
pub struct Expect {
    /// Acceptable alternatives in order of preference. A plain expect has one, with verdict OK.
    pub alternatives: Vec<Alternative>,
    /// Bound of the step (default: the case timeout).
    pub timeout: Option<Duration>,
}

/// What matching an alternative means for the case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AltVerdict {
    /// Preferred behaviour.
    Ok,
    /// Allowed but not what the RFC recommends.
    NonStrict,
    /// Behaviour the RFC leaves open.
    Informational,
}

/// One acceptable way for the server to behave.
#[derive(Clone, Debug)]
pub struct Alternative {
    /// The verdict when this alternative matches.
    pub verdict: AltVerdict,
    /// Matchers that must match consecutive observations.
    pub sequence: Vec<Matcher>,
}

/// A single expectation about what happens next.
#[derive(Clone, Debug, PartialEq)]
pub enum Matcher {
    /// A complete message.
    Message(MessageMatch),
    /// The next frame's fields.
    Frame(FrameMatch),
    /// A ping (payload optional).
    Ping(Option<Payload>),
    /// A pong (payload optional).
    Pong(Option<Payload>),
    /// A close frame from the server.
    Close(CloseMatch),
    /// The server fails the connection: a close frame with one of `codes` (any when empty), or
    /// the TCP connection dropped without one.
    Fail {
        /// Acceptable close codes.
        codes: Vec<u16>,
    },
    /// TCP closed without a close frame.
    Dropped,
    /// No observation for this long.
    Nothing(Duration),
    /// The client's readyState reaches this value.
    State(ReadyState),
    /// These browser-API events, in order, next.
    Events(Vec<EventMatch>),
    /// A marker recorded by a `mark` step.
    Marker(String),
}

/// Matching of a received message.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MessageMatch {
    /// Text or binary (`None`: either).
    pub opcode: Option<Opcode>,
    /// Exact content.
    pub data: Option<Payload>,
    /// Length only (used by the 9.x performance cases, as in Autobahn).
    pub len: Option<usize>,
    /// Whether the message arrived compressed (RSV1 on its first frame).
    pub compressed: Option<bool>,
}

/// Matching of a received frame, field by field.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FrameMatch {
    /// Opcode.
    pub opcode: Option<Opcode>,
    /// FIN.
    pub fin: Option<bool>,
    /// RSV bits.
    pub rsv: Option<u8>,
    /// MASK bit.
    pub masked: Option<bool>,
    /// Payload length.
    pub len: Option<u64>,
    /// Payload bytes.
    pub payload: Option<Payload>,
}

/// Matching of a close frame and of how the connection then ends.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CloseMatch {
    /// Acceptable codes (empty: any; `no_code` allows an empty close payload).
    pub codes: Vec<u16>,
    /// Whether a close frame without a code is acceptable (and required when `codes` is empty
    /// and `require_no_code` is set).
    pub no_code: bool,
    /// Reason text, exact.
    pub reason: Option<String>,
    /// Require a clean close: both close frames and TCP closed by the server.
    pub clean: Option<bool>,
}

impl CloseMatch {
    /// Whether a close frame with `code` (`None`: no code) is acceptable: no `code` key in the
    /// suite accepts anything; `code: ~` requires no code; a list accepts its codes, and no
    /// code too when it contains `~`.
    pub fn accepts(&self, code: Option<u16>) -> bool {
        match code {
            None => self.no_code || self.codes.is_empty(),
            Some(c) => self.codes.contains(&c) || (self.codes.is_empty() && !self.no_code),
        }
    }
}

/// One expected browser-API event.
#[derive(Clone, Debug, PartialEq)]
pub enum EventMatch {
    /// `open`.
    Open,
    /// `message`, optionally with content.
    Message(MessageMatch),
    /// `error`.
    Error,
    /// `close`, with optional code, reason and wasClean.
    Close {
        /// Expected code.
        code: Option<u16>,
        /// Expected reason.
        reason: Option<String>,
        /// Expected wasClean.
        was_clean: Option<bool>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6455 §1.3's sample key and its Accept value.
    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
    const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    #[test]
    fn fill_replaces_every_placeholder_for_the_key() {
        let fill = |t: &str| Respond::fill(t, KEY);
        assert_eq!(fill("{accept}"), ACCEPT);
        assert_eq!(fill(" x {accept} y "), format!(" x {ACCEPT} y "));
        assert_eq!(fill("{accept_lower}"), ACCEPT.to_ascii_lowercase());
        assert_eq!(fill("{accept_upper}"), ACCEPT.to_ascii_uppercase());
        assert_eq!(fill("{accept_flipped}"), "A3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert_eq!(fill("{accept_unpadded}"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo");
        assert_eq!(
            fill("{accept_hex}"),
            "b37a4f2cc0624f1690f64606cf385945b2bec4ea"
        );
        assert_eq!(fill("{key}"), KEY);
        // Each near miss differs from the correct value and from the others.
        let misses: Vec<String> = Respond::PLACEHOLDERS
            .iter()
            .filter(|(n, _)| *n != "accept")
            .map(|(n, _)| fill(&format!("{{{n}}}")))
            .collect();
        for (i, m) in misses.iter().enumerate() {
            assert_ne!(m, ACCEPT, "{}", Respond::PLACEHOLDERS[i + 1].0);
            assert_eq!(misses.iter().filter(|o| *o == m).count(), 1, "{m}");
            assert!(!m.contains('{'), "{m}");
        }
        // Text without placeholders, and unknown names, stay as written.
        assert_eq!(fill("{nope} {accept"), "{nope} {accept");
        // A flipped value starting with `A` becomes `B`.
        let key_a = "AQIDBAUGBwgJCgsMDQ4PEA==";
        let correct = crate::wire::handshake::accept_for_key(key_a);
        let flipped = Respond::fill("{accept_flipped}", key_a);
        assert_ne!(flipped, correct);
        assert_eq!(flipped[1..], correct[1..]);
    }
}
