//! The suite format as serde sees it: one struct per mapping of `docs/suite-format.md`, every
//! one `deny_unknown_fields`, every key optional so that a missing key is reported by the
//! converter with a clear message instead of stopping serde at the first one.
//!
//! Mappings whose shape depends on which key is present (a step, an expectation, headers,
//! `rsv`, `length`, `chop`) are kept as [`Value`] and read by hand in `convert` and `expect`.

use std::fmt;

use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_yaml::Value;

/// `Some(value)` when the key is present, even with `~`: tells `protocol: ~` from no
/// `protocol` key. Use with `#[serde(default, deserialize_with = "present")]`.
pub(crate) fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// Any scalar (string, number, boolean) as text: durations, names and header values are read
/// as text and checked by the converter, which can then say what is wrong with `timeout: 5`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Scalar {
    /// The scalar as text (`5`, `1.5`, `true`, `abc`).
    pub text: String,
    /// Whether YAML read it as a number (a mask key `12345678` must be quoted to keep zeros).
    pub was_number: bool,
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar {
                    text: v.to_string(),
                    was_number: false,
                })
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar {
                    text: v.to_string(),
                    was_number: false,
                })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(number(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(number(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(number(v))
            }
        }
        fn number(v: impl fmt::Display) -> Scalar {
            Scalar {
                text: v.to_string(),
                was_number: true,
            }
        }
        d.deserialize_any(V)
    }
}

/// A payload as written: a string, a payload mapping, or `~`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RawPayload {
    /// `~`: empty when sending, "any" when matching.
    Null,
    /// A plain string (or an integer, read as its digits).
    Text(String),
    /// `{ text | hex | base64 | repeat | repeat_hex, len }`.
    Map(RawPayloadMap),
}

impl<'de> Deserialize<'de> for RawPayload {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawPayload;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a payload mapping (text, hex, base64, repeat, repeat_hex)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawPayload, E> {
                Ok(RawPayload::Text(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawPayload, E> {
                Ok(RawPayload::Text(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawPayload, E> {
                Ok(RawPayload::Text(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<RawPayload, E> {
                Ok(RawPayload::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<RawPayload, E> {
                Ok(RawPayload::Null)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawPayload, A::Error> {
                RawPayloadMap::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawPayload::Map)
            }
        }
        d.deserialize_any(V)
    }
}

/// The mapping forms of a payload; exactly one form key is allowed (checked by the converter).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a payload mapping")]
pub(crate) struct RawPayloadMap {
    pub text: Option<String>,
    pub hex: Option<String>,
    pub base64: Option<String>,
    pub repeat: Option<String>,
    pub repeat_hex: Option<String>,
    pub len: Option<u64>,
    pub deflate: Option<Box<RawPayload>>,
    pub deflate_flush: Option<Box<RawPayload>>,
}

/// The top-level keys. `defaults` and `cases` are read separately so that an error in one
/// does not hide errors in the others; they are listed here so typos get suggestions.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a suite mapping")]
pub(crate) struct RawSuite {
    pub version: Option<Value>,
    pub suite: Option<String>,
    pub title: Option<String>,
    pub spec: Option<String>,
    // Accepted for readers of the file; the model has no suite description.
    #[allow(dead_code)]
    pub description: Option<String>,
    pub tags: Option<Vec<String>>,
    #[allow(dead_code)]
    pub defaults: Option<IgnoredAny>,
    #[allow(dead_code)]
    pub cases: Option<IgnoredAny>,
}

/// `defaults:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a defaults mapping")]
pub(crate) struct RawDefaults {
    pub timeout: Option<Scalar>,
    pub deadline: Option<Scalar>,
    pub level: Option<Scalar>,
    pub ignore: Option<Vec<Scalar>>,
    pub closing: Option<RawClosing>,
    pub redact_headers: Option<Vec<String>>,
    pub extensions: Option<Vec<String>>,
    pub peer: Option<Value>,
}

/// `closing:` in defaults or a case.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a closing mapping")]
pub(crate) struct RawClosing {
    pub initiator: Option<Scalar>,
    pub clean: Option<bool>,
    pub codes: Option<Vec<i64>>,
    pub informational: Option<bool>,
}

/// A case after template expansion (`params` has been removed; it is listed for suggestions).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a case mapping")]
pub(crate) struct RawCase {
    pub id: Option<String>,
    pub title: Option<String>,
    pub spec: Option<String>,
    pub level: Option<Scalar>,
    pub autobahn: Option<String>,
    pub description: Option<String>,
    pub tags: Option<Vec<String>>,
    pub timeout: Option<Scalar>,
    pub deadline: Option<Scalar>,
    pub ignore: Option<Vec<Scalar>>,
    pub closing: Option<RawClosing>,
    pub redact_headers: Option<Vec<String>>,
    pub skip: Option<String>,
    pub peer: Option<Value>,
    #[allow(dead_code)]
    pub steps: Option<IgnoredAny>,
    #[allow(dead_code)]
    pub params: Option<IgnoredAny>,
}

/// `connect:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a connect mapping")]
pub(crate) struct RawConnect {
    #[serde(rename = "as")]
    pub name: Option<String>,
    pub path: Option<String>,
    pub method: Option<String>,
    pub http_version: Option<String>,
    pub host: Option<String>,
    pub key: Option<String>,
    pub version: Option<Scalar>,
    pub origin: Option<String>,
    pub protocols: Option<Vec<String>>,
    pub extensions: Option<Vec<String>>,
    pub omit: Option<Vec<Scalar>>,
    pub headers: Option<Value>,
    pub body: Option<RawPayload>,
    pub raw: Option<String>,
    pub chop: Option<Value>,
    pub timeout: Option<Scalar>,
    pub abort: Option<bool>,
    pub expect: Option<RawHandshakeExpect>,
    pub respond: Option<RawRespond>,
    pub http2: Option<RawHttp2Connect>,
}

/// `connect: { http2: ... }`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an http2 options mapping")]
pub(crate) struct RawHttp2Connect {
    pub protocol: Option<String>,
    pub share: Option<String>,
    pub fields: Option<Vec<(String, String)>>,
    pub split: Option<usize>,
    pub settings: Option<Vec<(u16, u32)>>,
    pub unadvertised: Option<bool>,
}

/// `connect: { respond: ... }`: wsprobe's answer to a client's handshake.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a respond mapping")]
pub(crate) struct RawRespond {
    pub status: Option<Value>,
    pub reason: Option<String>,
    pub http_version: Option<String>,
    pub accept: Option<String>,
    pub omit: Option<Vec<Scalar>>,
    pub headers: Option<Value>,
    pub protocol: Option<String>,
    pub extensions: Option<Vec<String>>,
    pub after: Option<RawPayload>,
    pub raw: Option<String>,
}

/// `connect: { expect: ... }`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a handshake expectation mapping")]
pub(crate) struct RawHandshakeExpect {
    pub status: Option<Value>,
    pub headers: Option<Value>,
    pub absent: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    pub protocol: Option<Option<String>>,
    pub extensions: Option<Vec<String>>,
    pub requires_extension: Option<String>,
    pub deflate: Option<RawDeflateExpect>,
    pub refused: Option<bool>,
}

/// `connect: { expect: { deflate: ... } }`.
#[derive(Debug, Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a permessage-deflate parameters mapping"
)]
pub(crate) struct RawDeflateExpect {
    pub server_no_context_takeover: Option<bool>,
    pub client_no_context_takeover: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    pub server_max_window_bits: Option<Option<u8>>,
    #[serde(default, deserialize_with = "present")]
    pub client_max_window_bits: Option<Option<u8>>,
}

/// The `echo` step.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an echo mapping")]
pub(crate) struct RawEcho {
    pub corpus: Option<String>,
    pub len: Option<u64>,
    pub count: Option<u32>,
    pub fragment_size: Option<u64>,
    pub timeout: Option<Scalar>,
}

/// `send:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a send mapping")]
pub(crate) struct RawSend {
    #[serde(default, deserialize_with = "present")]
    pub text: Option<RawPayload>,
    #[serde(default, deserialize_with = "present")]
    pub binary: Option<RawPayload>,
    #[serde(default, deserialize_with = "present")]
    pub ping: Option<RawPayload>,
    #[serde(default, deserialize_with = "present")]
    pub pong: Option<RawPayload>,
    #[serde(default, deserialize_with = "present")]
    pub close: Option<Option<RawCloseSpec>>,
    pub frame: Option<RawFrame>,
    pub frames: Option<Vec<RawFrame>>,
    pub raw: Option<RawPayload>,
    pub http2: Option<String>,
    pub fragment_size: Option<u64>,
    pub chop: Option<Value>,
    pub delay: Option<Scalar>,
    pub compress: Option<bool>,
    pub deflate: Option<String>,
}

/// `send: { close: ... }`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a close frame mapping")]
pub(crate) struct RawCloseSpec {
    pub code: Option<i64>,
    pub reason: Option<RawPayload>,
    pub payload: Option<RawPayload>,
}

/// A hand-built frame.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a frame mapping")]
pub(crate) struct RawFrame {
    pub fin: Option<bool>,
    pub rsv: Option<Value>,
    pub opcode: Option<Scalar>,
    pub mask: Option<Scalar>,
    pub length: Option<Value>,
    pub payload: Option<RawPayload>,
}

/// The `close` step (the browser API's `close(code, reason)`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a close mapping")]
pub(crate) struct RawCloseCall {
    pub code: Option<i64>,
    pub reason: Option<String>,
}

/// The `repeat` step.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a repeat mapping")]
pub(crate) struct RawRepeat {
    pub times: Option<u32>,
    #[allow(dead_code)]
    pub steps: Option<IgnoredAny>,
}

/// `message:` in an expectation or an event.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a message matcher mapping")]
pub(crate) struct RawMessageMatch {
    pub text: Option<RawPayload>,
    pub binary: Option<RawPayload>,
    pub text_hex: Option<String>,
    pub opcode: Option<Scalar>,
    pub len: Option<u64>,
    pub compressed: Option<bool>,
}

/// `frame:` in an expectation.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a frame matcher mapping")]
pub(crate) struct RawFrameMatch {
    pub opcode: Option<Scalar>,
    pub fin: Option<bool>,
    pub rsv: Option<Value>,
    pub masked: Option<bool>,
    pub len: Option<u64>,
    pub payload: Option<RawPayload>,
}

/// `close:` in an expectation.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a close matcher mapping")]
pub(crate) struct RawCloseMatch {
    #[serde(default, deserialize_with = "present")]
    pub code: Option<Value>,
    pub reason: Option<String>,
    pub clean: Option<bool>,
}

/// `fail:` in an expectation.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a fail matcher mapping")]
pub(crate) struct RawFail {
    pub codes: Option<Vec<i64>>,
}

/// `close:` in an `events` list.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a close event mapping")]
pub(crate) struct RawCloseEvent {
    pub code: Option<i64>,
    pub reason: Option<String>,
    pub clean: Option<bool>,
}
