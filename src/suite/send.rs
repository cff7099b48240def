//! `send:` steps → [`Send`]: messages, control frames, hand-built frames and raw bytes, with
//! transport shaping.

use serde_yaml::Value;

use super::context::{Context, backticked};
use super::convert::duration;
use super::diagnostic::did_you_mean;
use super::model::{CloseSpec, DeflateForm, Http2Frame, Send, SendWhat};
use super::payload::{convert_frame, send_payload};
use super::position::{Anchor, YamlPath};
use super::raw::{RawCloseSpec, RawPayload, RawSend};
use super::validate::{parse_chop, parse_close_code};

/// Reads `send:`.
pub(crate) fn convert_send(cx: &mut Context<'_>, path: &YamlPath, value: &Value) -> Option<Send> {
    const FORMS: [&str; 9] = [
        "text", "binary", "ping", "pong", "close", "frame", "frames", "raw", "http2",
    ];
    if value.is_null() {
        cx.error(
            path,
            Anchor::Key,
            format!("`send` needs one of {}", backticked(&FORMS)),
        );
        return None;
    }
    let raw: RawSend = cx.deserialize(path, value.clone())?;
    let given: Vec<&str> = [
        ("text", raw.text.is_some()),
        ("binary", raw.binary.is_some()),
        ("ping", raw.ping.is_some()),
        ("pong", raw.pong.is_some()),
        ("close", raw.close.is_some()),
        ("frame", raw.frame.is_some()),
        ("frames", raw.frames.is_some()),
        ("raw", raw.raw.is_some()),
        ("http2", raw.http2.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, given)| given.then_some(k))
    .collect();
    let form = match given.as_slice() {
        [] => {
            cx.error(
                path,
                Anchor::Key,
                format!("`send` needs one of {}", backticked(&FORMS)),
            );
            return None;
        }
        [one] => *one,
        [first, second, ..] => {
            cx.error_help(
                &path.key(second),
                Anchor::Key,
                format!("`send` has both `{first}` and `{second}`"),
                Some("one send writes one thing: use two steps".into()),
            );
            return None;
        }
    };
    let errors = cx.error_count();
    let form_path = path.key(form);
    let RawSend {
        text,
        binary,
        ping,
        pong,
        close,
        frame,
        frames,
        raw: raw_bytes,
        http2,
        fragment_size,
        chop,
        delay,
        compress,
        deflate,
    } = raw;
    let message = |payload: Option<RawPayload>, cx: &mut Context<'_>| {
        send_payload(cx, &form_path, &payload.unwrap_or(RawPayload::Null))
    };
    let what = match form {
        "text" => message(text, cx).map(SendWhat::Text),
        "binary" => message(binary, cx).map(SendWhat::Binary),
        "ping" => message(ping, cx).map(SendWhat::Ping),
        "pong" => message(pong, cx).map(SendWhat::Pong),
        "raw" => message(raw_bytes, cx).map(SendWhat::Raw),
        "close" => {
            close_spec(cx, &form_path, &close.flatten().unwrap_or_default()).map(SendWhat::Close)
        }
        "http2" => {
            let name = http2.unwrap_or_default();
            let found = Http2Frame::NAMES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, f)| *f);
            if found.is_none() {
                let names: Vec<&str> = Http2Frame::NAMES.iter().map(|(n, _)| *n).collect();
                cx.error_help(
                    &form_path,
                    Anchor::Value,
                    format!(
                        "unknown HTTP/2 frame `{name}`; expected one of {}",
                        backticked(&names)
                    ),
                    did_you_mean(&name, names.iter().copied()),
                );
            }
            found.map(SendWhat::Http2)
        }
        "frame" => frame
            .and_then(|f| convert_frame(cx, &form_path, &f))
            .map(|f| SendWhat::Frames(vec![f])),
        _ => {
            let frames = frames.unwrap_or_default();
            if frames.is_empty() {
                cx.error(&form_path, Anchor::Key, "`frames` is empty");
            }
            let defs: Vec<_> = frames
                .iter()
                .enumerate()
                .filter_map(|(i, f)| convert_frame(cx, &form_path.index(i), f))
                .collect();
            Some(SendWhat::Frames(defs))
        }
    };
    let fragment_size = match fragment_size {
        None => None,
        Some(_) if !matches!(form, "text" | "binary") => {
            cx.error(
                &path.key("fragment_size"),
                Anchor::Key,
                format!("`fragment_size` splits text and binary messages, not `{form}`"),
            );
            None
        }
        Some(n) => fragment_size_value(cx, path, n),
    };
    let chop = chop
        .as_ref()
        .and_then(|c| cx.check(&path.key("chop"), parse_chop(c)));
    let delay = duration(cx, &path.key("delay"), &delay);
    for (key, given) in [
        ("compress", compress.is_some()),
        ("deflate", deflate.is_some()),
    ] {
        if given && !matches!(form, "text" | "binary") {
            cx.error(
                &path.key(key),
                Anchor::Key,
                format!("`{key}` applies to text and binary messages, not `{form}`"),
            );
        }
    }
    if compress == Some(false) && deflate.is_some() {
        cx.error(
            &path.key("deflate"),
            Anchor::Key,
            "`deflate` sends the message compressed; it cannot go with `compress: false`",
        );
    }
    let deflate = deflate.and_then(|name| {
        let found = DeflateForm::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f);
        if found.is_none() {
            let names: Vec<&str> = DeflateForm::NAMES.iter().map(|(n, _)| *n).collect();
            cx.error_help(
                &path.key("deflate"),
                Anchor::Value,
                format!(
                    "unknown deflate form `{name}`; expected one of {}",
                    backticked(&names)
                ),
                did_you_mean(&name, names.iter().copied()),
            );
        }
        found
    });
    if deflate == Some(DeflateForm::EmptyFinalFragment) && fragment_size.is_some() {
        cx.error(
            &path.key("fragment_size"),
            Anchor::Key,
            "`deflate: empty-final-fragment` makes its own two frames; drop `fragment_size`",
        );
    }
    if cx.error_count() > errors {
        return None;
    }
    Some(Send {
        what: what?,
        fragment_size,
        chop,
        delay,
        compress,
        deflate,
    })
}

/// A `fragment_size` (of `send` or `echo`) at `path`: at least 1.
pub(crate) fn fragment_size_value(cx: &mut Context<'_>, path: &YamlPath, n: u64) -> Option<usize> {
    if n == 0 {
        cx.error(
            &path.key("fragment_size"),
            Anchor::Value,
            "`fragment_size` must be at least 1",
        );
        return None;
    }
    usize::try_from(n).ok()
}

fn close_spec(cx: &mut Context<'_>, path: &YamlPath, raw: &RawCloseSpec) -> Option<CloseSpec> {
    let errors = cx.error_count();
    if raw.payload.is_some() && (raw.code.is_some() || raw.reason.is_some()) {
        cx.error_help(
            &path.key("payload"),
            Anchor::Key,
            "`payload` replaces `code` and `reason`",
            Some("give either `payload` or `code`/`reason`".into()),
        );
    }
    if raw.reason.is_some() && raw.code.is_none() {
        cx.error_help(
            &path.key("reason"),
            Anchor::Key,
            "a close reason needs a `code`",
            Some("for a payload without a code use `payload`".into()),
        );
    }
    let code = raw
        .code
        .and_then(|c| cx.check(&path.key("code"), parse_close_code(c)));
    let reason = match &raw.reason {
        Some(r) => send_payload(cx, &path.key("reason"), r),
        None => Some(Default::default()),
    };
    let payload = match &raw.payload {
        Some(p) => send_payload(cx, &path.key("payload"), p).map(Some),
        None => Some(None),
    };
    if cx.error_count() > errors {
        return None;
    }
    Some(CloseSpec {
        code,
        reason: reason?,
        payload: payload?,
    })
}
