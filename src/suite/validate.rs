//! The small values of the format, checked one by one: ids, levels, durations, opcodes, hex and
//! base64, mask keys, RSV bits, length encodings, close codes, status patterns, states and
//! verdicts. Each parser is pure and returns a [`Problem`] whose message names the bad value;
//! the converter adds the position.

use std::time::Duration;

use base64::Engine;
use serde_yaml::Value;

use super::diagnostic::did_you_mean;
use super::duration::parse_duration;
use super::model::{
    AltVerdict, Chop, Ignore, Initiator, MaskSpec, PeerKind, ReadyState, StatusPattern,
};
use super::raw::Scalar;
use crate::wire::{LengthEncoding, LengthSpec, Level, Opcode};

/// The largest generated payload (`repeat`, `repeat_hex`): a suite asking for more is surely a
/// typo, and the runner must never allocate from an unbounded number.
pub(crate) const MAX_GENERATED_LEN: u64 = 256 * 1024 * 1024;

/// What is wrong with a value, and maybe how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Problem {
    pub message: String,
    pub help: Option<String>,
}

impl Problem {
    fn new(message: impl Into<String>) -> Problem {
        Problem {
            message: message.into(),
            help: None,
        }
    }

    fn help(mut self, help: impl Into<String>) -> Problem {
        self.help = Some(help.into());
        self
    }

    fn maybe_help(mut self, help: Option<String>) -> Problem {
        self.help = help;
        self
    }
}

type Checked<T> = Result<T, Problem>;

/// Suite and case ids: lower-case letters, digits, `.`, `-`, `_`.
pub(crate) fn check_id(what: &str, id: &str) -> Checked<()> {
    if id.is_empty() {
        return Err(Problem::new(format!("{what} id is empty")));
    }
    if let Some(bad) = id
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_')))
    {
        let problem = Problem::new(format!(
            "{what} id `{id}` contains `{bad}`; ids use a-z, 0-9, '.', '-' and '_'"
        ));
        let lower = id.to_ascii_lowercase();
        return Err(if lower != id && check_id(what, &lower).is_ok() {
            problem.help(format!("write it in lower case: `{lower}`"))
        } else {
            problem
        });
    }
    Ok(())
}

/// `MUST`, `SHOULD` or `INFO`, any case.
pub(crate) fn parse_level(text: &str) -> Checked<Level> {
    match text.to_ascii_uppercase().as_str() {
        "MUST" => Ok(Level::Must),
        "SHOULD" => Ok(Level::Should),
        "INFO" => Ok(Level::Info),
        _ => Err(Problem::new(format!(
            "unknown level `{text}`; expected MUST, SHOULD or INFO"
        ))
        .maybe_help(did_you_mean(
            &text.to_ascii_uppercase(),
            ["MUST", "SHOULD", "INFO"],
        ))),
    }
}

/// A duration with a unit (`500ms`, `1.5s`, `2m`).
pub(crate) fn parse_duration_value(value: &Scalar) -> Checked<Duration> {
    parse_duration(&value.text).map_err(|e| {
        let problem = Problem::new(e.to_string());
        if value.was_number {
            problem.help(format!(
                "add a unit: `{}s` or `{}ms`",
                value.text, value.text
            ))
        } else {
            problem
        }
    })
}

/// An opcode name (`text`, `ping`, …) or number 0–15 (`11`, `0xB`).
pub(crate) fn parse_opcode(value: &Scalar) -> Checked<Opcode> {
    Opcode::from_name(value.text.trim()).ok_or_else(|| {
        let names = ["continuation", "text", "binary", "close", "ping", "pong"];
        let message = if value.was_number {
            format!("opcode {} is out of range 0–15", value.text)
        } else {
            format!(
                "unknown opcode `{}`; expected continuation, text, binary, close, ping, pong or a number 0–15",
                value.text
            )
        };
        Problem::new(message).maybe_help(did_you_mean(&value.text, names))
    })
}

/// Hex digits, whitespace allowed between them (`ce ba e1`).
pub(crate) fn parse_hex(text: &str) -> Checked<Vec<u8>> {
    let digits: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    if let Some(bad) = digits.iter().find(|c| !c.is_ascii_hexdigit()) {
        return Err(Problem::new(format!(
            "invalid hex `{text}`: `{bad}` is not a hex digit"
        )));
    }
    if digits.len() % 2 == 1 {
        return Err(Problem::new(format!(
            "invalid hex `{text}`: odd number of digits ({})",
            digits.len()
        ))
        .help("each byte takes two digits"));
    }
    Ok(digits
        .chunks(2)
        .map(|pair| {
            let hi = pair[0].to_digit(16).unwrap_or(0);
            let lo = pair[1].to_digit(16).unwrap_or(0);
            (hi * 16 + lo) as u8
        })
        .collect())
}

/// Standard base64 with padding; whitespace is ignored.
pub(crate) fn parse_base64(text: &str) -> Checked<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| {
            let reason = match e {
                base64::DecodeError::InvalidByte(offset, byte) => {
                    format!(
                        "`{}` at offset {offset} is not a base64 character",
                        byte as char
                    )
                }
                base64::DecodeError::InvalidLength(_) => "wrong length".into(),
                base64::DecodeError::InvalidLastSymbol(offset, _) => {
                    format!("bad last character at offset {offset}")
                }
                base64::DecodeError::InvalidPadding => "bad padding".into(),
            };
            Problem::new(format!("invalid base64 `{text}`: {reason}"))
        })
}

/// `auto`, `none`, or a key of 8 hex digits.
pub(crate) fn parse_mask(value: &Scalar) -> Checked<MaskSpec> {
    match value.text.to_ascii_lowercase().as_str() {
        "auto" => return Ok(MaskSpec::Auto),
        "none" => return Ok(MaskSpec::None),
        _ => {}
    }
    let bad = || {
        let problem = Problem::new(format!(
            "mask `{}` is not `auto`, `none` or a key of 8 hex digits",
            value.text
        ));
        if value.was_number {
            problem.help("quote the key so YAML keeps it as written: mask: \"0000abcd\"")
        } else {
            problem
        }
    };
    let digits: String = value.text.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() != 8 {
        return Err(bad());
    }
    let bytes = parse_hex(&digits).map_err(|_| bad())?;
    let mut key = [0u8; 4];
    key.copy_from_slice(&bytes);
    Ok(MaskSpec::Key(key))
}

/// RSV bits: a number 0–7 (RSV1 = 4) or a list of three bits `[1, 0, 0]`.
pub(crate) fn parse_rsv(value: &Value) -> Checked<u8> {
    match value {
        Value::Number(n) => match n.as_u64() {
            Some(v @ 0..=7) => Ok(v as u8),
            _ => Err(Problem::new(format!("rsv {n} is out of range 0–7"))
                .help("RSV1 = 4, RSV2 = 2, RSV3 = 1")),
        },
        Value::Sequence(bits) if bits.len() == 3 => {
            let mut rsv = 0u8;
            for bit in bits {
                let set = match bit {
                    Value::Bool(b) => *b,
                    Value::Number(n) if n.as_u64() == Some(0) => false,
                    Value::Number(n) if n.as_u64() == Some(1) => true,
                    _ => return Err(Problem::new("rsv bits are 0 or 1")),
                };
                rsv = (rsv << 1) | u8::from(set);
            }
            Ok(rsv)
        }
        _ => Err(Problem::new(
            "rsv is a number 0–7 or a list of three bits like [1, 0, 0]",
        )),
    }
}

/// The frame length field: `minimal`, `16`, `64`, `{ lie: N }`, `{ lie: N, encoding: 7|16|64 }`.
pub(crate) fn parse_length(value: &Value) -> Checked<LengthSpec> {
    let expected = "length is `minimal`, `16`, `64`, `{ lie: N }` or `{ lie: N, encoding: 16 }`";
    match value {
        Value::String(s) if s == "minimal" => Ok(LengthSpec::Minimal),
        Value::String(s) if s == "16" => Ok(LengthSpec::Force16),
        Value::String(s) if s == "64" => Ok(LengthSpec::Force64),
        Value::Number(n) if n.as_u64() == Some(16) => Ok(LengthSpec::Force16),
        Value::Number(n) if n.as_u64() == Some(64) => Ok(LengthSpec::Force64),
        Value::Mapping(map) => {
            let mut lie = None;
            let mut encoding = None;
            for (k, v) in map {
                match (k.as_str(), v.as_u64()) {
                    (Some("lie"), Some(n)) => lie = Some(n),
                    (Some("encoding"), Some(7)) => encoding = Some(LengthEncoding::Len7),
                    (Some("encoding"), Some(16)) => encoding = Some(LengthEncoding::Len16),
                    (Some("encoding"), Some(64)) => encoding = Some(LengthEncoding::Len64),
                    (Some("lie"), None) => {
                        return Err(Problem::new("`lie` is a non-negative number of bytes"));
                    }
                    (Some("encoding"), _) => {
                        return Err(Problem::new("length `encoding` is 7, 16 or 64"));
                    }
                    (Some(other), _) => {
                        return Err(Problem::new(format!("unknown key `{other}` in `length`"))
                            .maybe_help(did_you_mean(other, ["lie", "encoding"])));
                    }
                    (None, _) => return Err(Problem::new(expected)),
                }
            }
            match (lie, encoding) {
                (Some(n), None) => Ok(LengthSpec::Lie(n)),
                (Some(n), Some(enc)) => {
                    if enc == LengthEncoding::Len7 && n > 125 {
                        return Err(Problem::new(format!(
                            "a 7-bit length field holds at most 125, not {n}"
                        )));
                    }
                    if enc == LengthEncoding::Len16 && n > 0xffff {
                        return Err(Problem::new(format!(
                            "a 16-bit length field holds at most 65535, not {n}"
                        )));
                    }
                    Ok(LengthSpec::LieWith(enc, n))
                }
                (None, _) => Err(Problem::new("`length` mapping needs `lie: N`")),
            }
        }
        _ => Err(Problem::new(expected)),
    }
}

/// A close code as written (any number that fits the 16-bit field).
pub(crate) fn parse_close_code(code: i64) -> Checked<u16> {
    u16::try_from(code)
        .map_err(|_| Problem::new(format!("close code {code} is out of range 0–65535")))
}

/// One status pattern: `101`, `"101"`, `"4xx"`.
pub(crate) fn parse_status(value: &Value) -> Checked<StatusPattern> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_ascii_lowercase(),
        _ => {
            return Err(Problem::new(
                "a status is a code like 101 or a class like \"4xx\"",
            ));
        }
    };
    if let Some(class) = text.strip_suffix("xx") {
        if let Ok(c @ 1..=5) = class.parse::<u16>() {
            return Ok(StatusPattern::Class(c));
        }
    } else if let Ok(code @ 100..=599) = text.parse::<u16>() {
        return Ok(StatusPattern::Exact(code));
    }
    Err(Problem::new(format!(
        "invalid status `{text}`; expected a code 100–599 or a class 1xx–5xx"
    )))
}

/// `ping` or `pong`.
pub(crate) fn parse_ignore(value: &Scalar) -> Checked<Ignore> {
    match value.text.to_ascii_lowercase().as_str() {
        "ping" => Ok(Ignore::Ping),
        "pong" => Ok(Ignore::Pong),
        _ => Err(Problem::new(format!(
            "cannot ignore `{}`; expected ping or pong",
            value.text
        ))),
    }
}

/// `any`, `wsprobe` or `peer` (the side under test); `client` and `server` are the older
/// names, from when wsprobe was always the client.
pub(crate) fn parse_initiator(value: &Scalar) -> Checked<Initiator> {
    const NAMES: [&str; 5] = ["any", "wsprobe", "peer", "client", "server"];
    match value.text.to_ascii_lowercase().as_str() {
        "any" => Ok(Initiator::Any),
        "wsprobe" | "client" => Ok(Initiator::Client),
        "peer" | "server" => Ok(Initiator::Server),
        _ => Err(Problem::new(format!(
            "unknown initiator `{}`; expected any, wsprobe or peer",
            value.text
        ))
        .maybe_help(did_you_mean(&value.text, NAMES))),
    }
}

/// `server` or `client`, any case.
pub(crate) fn parse_peer(value: &Scalar) -> Checked<PeerKind> {
    match value.text.to_ascii_lowercase().as_str() {
        "server" => Ok(PeerKind::Server),
        "client" => Ok(PeerKind::Client),
        _ => Err(Problem::new(format!(
            "unknown peer `{}`; expected server or client",
            value.text
        ))
        .maybe_help(did_you_mean(&value.text, ["server", "client"]))),
    }
}

/// `CONNECTING`, `OPEN`, `CLOSING`, `CLOSED` (any case) or 0–3.
pub(crate) fn parse_state(value: &Scalar) -> Checked<ReadyState> {
    let states = [
        ReadyState::Connecting,
        ReadyState::Open,
        ReadyState::Closing,
        ReadyState::Closed,
    ];
    let upper = value.text.to_ascii_uppercase();
    if let Some(state) = states
        .iter()
        .find(|s| s.name() == upper || s.value().to_string() == upper)
    {
        return Ok(*state);
    }
    Err(Problem::new(format!(
        "unknown readyState `{}`; expected CONNECTING, OPEN, CLOSING, CLOSED or 0–3",
        value.text
    ))
    .maybe_help(did_you_mean(&upper, states.iter().map(|s| s.name()))))
}

/// `OK`, `NON-STRICT` or `INFORMATIONAL`, any case.
pub(crate) fn parse_verdict(value: &Scalar) -> Checked<AltVerdict> {
    let upper = value.text.to_ascii_uppercase();
    match upper.as_str() {
        "OK" => Ok(AltVerdict::Ok),
        "NON-STRICT" => Ok(AltVerdict::NonStrict),
        "INFORMATIONAL" => Ok(AltVerdict::Informational),
        _ => Err(Problem::new(format!(
            "unknown verdict `{}`; expected OK, NON-STRICT or INFORMATIONAL",
            value.text
        ))
        .maybe_help(did_you_mean(&upper, ["OK", "NON-STRICT", "INFORMATIONAL"]))),
    }
}

/// `chop`: a size, a list of sizes, or `frame`.
pub(crate) fn parse_chop(value: &Value) -> Checked<Chop> {
    let size = |v: &Value| match v.as_u64() {
        Some(n) if n >= 1 => usize::try_from(n).ok(),
        _ => None,
    };
    match value {
        Value::String(s) if s == "frame" => Ok(Chop::PerFrame),
        Value::Number(_) => size(value).map(Chop::Size).ok_or_else(|| {
            Problem::new(format!(
                "chop size {} must be at least 1",
                number_text(value)
            ))
        }),
        Value::Sequence(items) if !items.is_empty() => items
            .iter()
            .map(|v| size(v).ok_or_else(|| Problem::new("chop sizes are numbers of at least 1")))
            .collect::<Checked<Vec<usize>>>()
            .map(Chop::Sizes),
        _ => Err(Problem::new(
            "chop is a write size, a list of write sizes, or `frame`",
        )),
    }
}

fn number_text(value: &Value) -> String {
    match value {
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Scalar {
        Scalar {
            text: text.into(),
            was_number: false,
        }
    }

    fn n(text: &str) -> Scalar {
        Scalar {
            text: text.into(),
            was_number: true,
        }
    }

    fn yaml(text: &str) -> Value {
        serde_yaml::from_str(text).expect("test yaml parses")
    }

    #[test]
    fn ids() {
        assert!(check_id("case", "ping.empty-payload_1").is_ok());
        assert_eq!(
            check_id("case", "").unwrap_err().message,
            "case id is empty"
        );
        let e = check_id("case", "Ping.x").unwrap_err();
        assert!(e.message.contains("contains `P`"), "{}", e.message);
        assert_eq!(e.help.as_deref(), Some("write it in lower case: `ping.x`"));
        assert!(check_id("suite", "a b").unwrap_err().help.is_none());
    }

    #[test]
    fn levels() {
        assert_eq!(parse_level("MUST"), Ok(Level::Must));
        assert_eq!(parse_level("should"), Ok(Level::Should));
        assert_eq!(parse_level("Info"), Ok(Level::Info));
        let e = parse_level("MUTS").unwrap_err();
        assert_eq!(
            e.message,
            "unknown level `MUTS`; expected MUST, SHOULD or INFO"
        );
        assert_eq!(e.help.as_deref(), Some("did you mean `MUST`?"));
    }

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration_value(&s("250ms")),
            Ok(Duration::from_millis(250))
        );
        let e = parse_duration_value(&n("5")).unwrap_err();
        assert!(e.message.contains("needs a unit"), "{}", e.message);
        assert_eq!(e.help.as_deref(), Some("add a unit: `5s` or `5ms`"));
        assert!(parse_duration_value(&s("fast")).is_err());
    }

    #[test]
    fn opcodes() {
        assert_eq!(parse_opcode(&s("text")), Ok(Opcode::Text));
        assert_eq!(parse_opcode(&n("11")), Ok(Opcode::ReservedControl(11)));
        assert_eq!(parse_opcode(&s("0xB")), Ok(Opcode::ReservedControl(11)));
        let e = parse_opcode(&s("txet")).unwrap_err();
        assert!(e.message.starts_with("unknown opcode `txet`"));
        assert_eq!(e.help.as_deref(), Some("did you mean `text`?"));
        assert_eq!(
            parse_opcode(&n("16")).unwrap_err().message,
            "opcode 16 is out of range 0–15"
        );
    }

    #[test]
    fn hex_and_base64() {
        assert_eq!(parse_hex("ce ba\ne1"), Ok(vec![0xce, 0xba, 0xe1]));
        assert_eq!(parse_hex(""), Ok(vec![]));
        assert_eq!(
            parse_hex("cg").unwrap_err().message,
            "invalid hex `cg`: `g` is not a hex digit"
        );
        assert_eq!(
            parse_hex("abc").unwrap_err().message,
            "invalid hex `abc`: odd number of digits (3)"
        );
        assert_eq!(parse_base64("AQI="), Ok(vec![1, 2]));
        assert_eq!(
            parse_base64("AQ!=").unwrap_err().message,
            "invalid base64 `AQ!=`: `!` at offset 2 is not a base64 character"
        );
        assert!(parse_base64("AQI").is_err());
    }

    #[test]
    fn masks() {
        assert_eq!(parse_mask(&s("auto")), Ok(MaskSpec::Auto));
        assert_eq!(parse_mask(&s("none")), Ok(MaskSpec::None));
        assert_eq!(
            parse_mask(&s("AABBccdd")),
            Ok(MaskSpec::Key([0xaa, 0xbb, 0xcc, 0xdd]))
        );
        assert!(parse_mask(&s("aabbcc")).is_err());
        assert!(parse_mask(&s("aabbccgg")).is_err());
        assert!(parse_mask(&n("1234")).unwrap_err().help.is_some());
    }

    #[test]
    fn rsv_bits() {
        assert_eq!(parse_rsv(&yaml("4")), Ok(4));
        assert_eq!(parse_rsv(&yaml("[1, 0, 1]")), Ok(5));
        assert_eq!(parse_rsv(&yaml("[false, true, false]")), Ok(2));
        assert_eq!(
            parse_rsv(&yaml("8")).unwrap_err().message,
            "rsv 8 is out of range 0–7"
        );
        assert!(parse_rsv(&yaml("-1")).is_err());
        assert!(parse_rsv(&yaml("[1, 2, 0]")).is_err());
        assert!(parse_rsv(&yaml("[1, 0]")).is_err());
    }

    #[test]
    fn lengths() {
        assert_eq!(parse_length(&yaml("minimal")), Ok(LengthSpec::Minimal));
        assert_eq!(parse_length(&yaml("16")), Ok(LengthSpec::Force16));
        assert_eq!(parse_length(&yaml("\"64\"")), Ok(LengthSpec::Force64));
        assert_eq!(parse_length(&yaml("{lie: 10}")), Ok(LengthSpec::Lie(10)));
        assert_eq!(
            parse_length(&yaml("{lie: 10, encoding: 64}")),
            Ok(LengthSpec::LieWith(LengthEncoding::Len64, 10))
        );
        assert!(parse_length(&yaml("{lie: 200, encoding: 7}")).is_err());
        assert!(parse_length(&yaml("{lie: 70000, encoding: 16}")).is_err());
        assert!(parse_length(&yaml("{encoding: 16}")).is_err());
        assert_eq!(
            parse_length(&yaml("{lei: 1}")).unwrap_err().help.as_deref(),
            Some("did you mean `lie`?")
        );
        assert!(parse_length(&yaml("32")).is_err());
    }

    #[test]
    fn close_codes_and_statuses() {
        assert_eq!(parse_close_code(1000), Ok(1000));
        assert_eq!(parse_close_code(0), Ok(0));
        assert_eq!(
            parse_close_code(70000).unwrap_err().message,
            "close code 70000 is out of range 0–65535"
        );
        assert!(parse_close_code(-1).is_err());
        assert_eq!(parse_status(&yaml("101")), Ok(StatusPattern::Exact(101)));
        assert_eq!(
            parse_status(&yaml("\"101\"")),
            Ok(StatusPattern::Exact(101))
        );
        assert_eq!(parse_status(&yaml("4xx")), Ok(StatusPattern::Class(4)));
        assert_eq!(parse_status(&yaml("5XX")), Ok(StatusPattern::Class(5)));
        assert!(parse_status(&yaml("6xx")).is_err());
        assert!(parse_status(&yaml("99")).is_err());
        assert!(parse_status(&yaml("ok")).is_err());
    }

    #[test]
    fn names() {
        assert_eq!(parse_ignore(&s("PING")), Ok(Ignore::Ping));
        assert!(parse_ignore(&s("close")).is_err());
        assert_eq!(parse_initiator(&s("server")), Ok(Initiator::Server));
        assert_eq!(parse_initiator(&s("peer")), Ok(Initiator::Server));
        assert_eq!(parse_initiator(&s("WSProbe")), Ok(Initiator::Client));
        assert_eq!(parse_initiator(&s("client")), Ok(Initiator::Client));
        assert_eq!(
            parse_initiator(&s("clinet")).unwrap_err().help.as_deref(),
            Some("did you mean `client`?")
        );
        assert_eq!(
            parse_initiator(&s("wsporbe")).unwrap_err().help.as_deref(),
            Some("did you mean `wsprobe`?")
        );
        assert_eq!(parse_peer(&s("Client")), Ok(PeerKind::Client));
        assert_eq!(parse_peer(&s("server")), Ok(PeerKind::Server));
        let e = parse_peer(&s("sever")).unwrap_err();
        assert_eq!(e.message, "unknown peer `sever`; expected server or client");
        assert_eq!(e.help.as_deref(), Some("did you mean `server`?"));
        assert_eq!(parse_state(&s("closed")), Ok(ReadyState::Closed));
        assert_eq!(parse_state(&n("1")), Ok(ReadyState::Open));
        let e = parse_state(&s("CLOSD")).unwrap_err();
        assert_eq!(e.help.as_deref(), Some("did you mean `CLOSED`?"));
        assert!(parse_state(&n("4")).is_err());
        assert_eq!(parse_verdict(&s("non-strict")), Ok(AltVerdict::NonStrict));
        assert_eq!(
            parse_verdict(&s("Informational")),
            Ok(AltVerdict::Informational)
        );
        assert!(parse_verdict(&s("FAIL")).is_err());
    }

    #[test]
    fn chops() {
        assert_eq!(parse_chop(&yaml("1")), Ok(Chop::Size(1)));
        assert_eq!(parse_chop(&yaml("[2, 5]")), Ok(Chop::Sizes(vec![2, 5])));
        assert_eq!(parse_chop(&yaml("frame")), Ok(Chop::PerFrame));
        assert!(parse_chop(&yaml("0")).is_err());
        assert!(parse_chop(&yaml("[]")).is_err());
        assert!(parse_chop(&yaml("[1, 0]")).is_err());
        assert!(parse_chop(&yaml("bytes")).is_err());
    }
}
