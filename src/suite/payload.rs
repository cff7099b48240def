//! Payload forms (`"text"`, `{text}`, `{hex}`, `{base64}`, `{repeat, len}`,
//! `{repeat_hex, len}`) and hand-built frames, shared by `send` and `expect`.

use super::context::Context;
use super::model::{FrameDef, MaskSpec, Payload};
use super::position::{Anchor, YamlPath};
use super::raw::{RawFrame, RawPayload, RawPayloadMap};
use super::validate::{
    MAX_GENERATED_LEN, Problem, parse_base64, parse_hex, parse_length, parse_mask, parse_opcode,
    parse_rsv,
};
use crate::wire::LengthSpec;

/// What a payload is for: bytes to send, or bytes to compare with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PayloadUse {
    /// `~` is an empty payload; a mapping needs a form.
    Send,
    /// `~` and `{}` match any payload.
    Match,
}

const FORMS: [&str; 7] = [
    "text",
    "hex",
    "base64",
    "repeat",
    "repeat_hex",
    "deflate",
    "deflate_flush",
];

/// Converts a payload written at `path`. `None`: an error was reported. `Some(None)`: any
/// payload (matching only).
pub(crate) fn convert_payload(
    cx: &mut Context<'_>,
    path: &YamlPath,
    raw: &RawPayload,
    usage: PayloadUse,
) -> Option<Option<Payload>> {
    match raw {
        RawPayload::Null => Some(match usage {
            PayloadUse::Send => Some(Payload::default()),
            PayloadUse::Match => None,
        }),
        RawPayload::Text(text) => Some(Some(Payload::Bytes(text.as_bytes().to_vec()))),
        RawPayload::Map(map) => convert_payload_map(cx, path, map, usage),
    }
}

/// A payload where only sending makes sense (`~` is empty).
pub(crate) fn send_payload(
    cx: &mut Context<'_>,
    path: &YamlPath,
    raw: &RawPayload,
) -> Option<Payload> {
    convert_payload(cx, path, raw, PayloadUse::Send).map(Option::unwrap_or_default)
}

fn convert_payload_map(
    cx: &mut Context<'_>,
    path: &YamlPath,
    map: &RawPayloadMap,
    usage: PayloadUse,
) -> Option<Option<Payload>> {
    if let Some(compressed) = deflate_form(cx, path, map)? {
        return Some(Some(compressed));
    }
    let given: Vec<(&str, &String)> = [
        ("text", &map.text),
        ("hex", &map.hex),
        ("base64", &map.base64),
        ("repeat", &map.repeat),
        ("repeat_hex", &map.repeat_hex),
    ]
    .into_iter()
    .filter_map(|(name, v)| v.as_ref().map(|v| (name, v)))
    .collect();
    let (form, text) = match given.as_slice() {
        [] if usage == PayloadUse::Match && map.len.is_none() => return Some(None),
        [] => {
            cx.error(
                path,
                Anchor::Value,
                format!(
                    "payload mapping needs one of {}",
                    super::context::backticked(&FORMS)
                ),
            );
            return None;
        }
        [one] => *one,
        [first, second, ..] => {
            cx.error(
                &path.key(second.0),
                Anchor::Key,
                format!(
                    "payload has both `{}` and `{}`; give exactly one form",
                    first.0, second.0
                ),
            );
            return None;
        }
    };
    let form_path = path.key(form);
    let repeated = matches!(form, "repeat" | "repeat_hex");
    if !repeated {
        if map.len.is_some() {
            cx.error(
                &path.key("len"),
                Anchor::Key,
                format!("`len` goes with `repeat` or `repeat_hex`, not `{form}`"),
            );
            return None;
        }
    } else if map.len.is_none() {
        cx.error_help(
            &form_path,
            Anchor::Key,
            format!("`{form}` needs `len`, the total length in bytes"),
            Some(format!("e.g. {{ {form}: ..., len: 65536 }}")),
        );
        return None;
    }
    let bytes = match form {
        "text" | "repeat" => text.as_bytes().to_vec(),
        "hex" | "repeat_hex" => cx.check(&form_path, parse_hex(text))?,
        _ => cx.check(&form_path, parse_base64(text))?,
    };
    if !repeated {
        return Some(Some(Payload::Bytes(bytes)));
    }
    let len = map.len.unwrap_or_default();
    if bytes.is_empty() {
        cx.error(
            &form_path,
            Anchor::Value,
            format!("`{form}` needs at least one byte to repeat"),
        );
        return None;
    }
    if len > MAX_GENERATED_LEN {
        cx.error(
            &path.key("len"),
            Anchor::Value,
            format!("payload length {len} is over the {MAX_GENERATED_LEN}-byte limit"),
        );
        return None;
    }
    Some(Some(Payload::Repeat {
        unit: bytes,
        len: len as usize,
    }))
}

/// `{ deflate: P }` and `{ deflate_flush: P }`: P compressed on its own (RFC 7692 §7.2.1), as
/// a whole message's payload or as a flushed non-final piece. `Some(None)`: neither form.
fn deflate_form(
    cx: &mut Context<'_>,
    path: &YamlPath,
    map: &RawPayloadMap,
) -> Option<Option<Payload>> {
    let (form, inner, keep_tail) = match (&map.deflate, &map.deflate_flush) {
        (None, None) => return Some(None),
        (Some(inner), None) => ("deflate", inner, false),
        (None, Some(inner)) => ("deflate_flush", inner, true),
        (Some(_), Some(_)) => {
            cx.error(
                &path.key("deflate_flush"),
                Anchor::Key,
                "payload has both `deflate` and `deflate_flush`; give exactly one form",
            );
            return None;
        }
    };
    let others = [
        ("text", map.text.is_some()),
        ("hex", map.hex.is_some()),
        ("base64", map.base64.is_some()),
        ("repeat", map.repeat.is_some()),
        ("repeat_hex", map.repeat_hex.is_some()),
        ("len", map.len.is_some()),
    ];
    if let Some((other, _)) = others.iter().find(|(_, given)| *given) {
        cx.error_help(
            &path.key(other),
            Anchor::Key,
            format!("`{form}` compresses the payload inside it; `{other}` goes inside"),
            Some(format!("e.g. {{ {form}: {{ repeat: \"a\", len: 1000 }} }}")),
        );
        return None;
    }
    let message = send_payload(cx, &path.key(form), inner)?;
    let bytes = cx.check(
        &path.key(form),
        crate::wire::deflate::forms::compressed(&message.to_bytes(), keep_tail).map_err(|e| {
            Problem {
                message: e.to_string(),
                help: None,
            }
        }),
    )?;
    Some(Some(Payload::Bytes(bytes)))
}

/// Converts a hand-built frame written at `path`.
pub(crate) fn convert_frame(
    cx: &mut Context<'_>,
    path: &YamlPath,
    raw: &RawFrame,
) -> Option<FrameDef> {
    let errors = cx.error_count();
    let opcode = match &raw.opcode {
        Some(op) => cx.check(&path.key("opcode"), parse_opcode(op)),
        None => {
            cx.error_help(
                path,
                Anchor::Value,
                "frame has no `opcode`",
                Some("e.g. opcode: text".into()),
            );
            None
        }
    };
    let rsv = match &raw.rsv {
        Some(v) => cx.check(&path.key("rsv"), parse_rsv(v)).unwrap_or(0),
        None => 0,
    };
    let mask = match &raw.mask {
        Some(m) => cx
            .check(&path.key("mask"), parse_mask(m))
            .unwrap_or_default(),
        None => MaskSpec::Auto,
    };
    let length = match &raw.length {
        Some(v) => cx
            .check(&path.key("length"), parse_length(v))
            .unwrap_or(LengthSpec::Minimal),
        None => LengthSpec::Minimal,
    };
    let payload = match &raw.payload {
        Some(p) => send_payload(cx, &path.key("payload"), p),
        None => Some(Payload::default()),
    };
    if cx.error_count() > errors {
        return None;
    }
    Some(FrameDef {
        fin: raw.fin.unwrap_or(true),
        rsv,
        opcode: opcode?,
        mask,
        length,
        payload: payload?,
    })
}
