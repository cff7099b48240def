//! `expect:` steps → [`Expect`]: a single matcher (with an optional `timeout`), a `sequence`
//! of matchers, or `any_of` alternatives each tagged with the verdict it earns.

use serde_yaml::Value;

use super::context::{Context, backticked};
use super::convert::value_kind;
use super::diagnostic::did_you_mean;
use super::expand::key_text;
use super::model::{
    AltVerdict, Alternative, CloseMatch, EventMatch, Expect, FrameMatch, Matcher, MessageMatch,
};
use super::payload::{PayloadUse, convert_payload};
use super::position::{Anchor, YamlPath};
use super::raw::{
    RawCloseEvent, RawCloseMatch, RawFail, RawFrameMatch, RawMessageMatch, RawPayload, Scalar,
};
use super::validate::{
    parse_close_code, parse_duration_value, parse_hex, parse_opcode, parse_rsv, parse_state,
    parse_verdict,
};
use crate::wire::Opcode;

/// Every matcher key.
pub(crate) const MATCHERS: [&str; 11] = [
    "message", "frame", "ping", "pong", "close", "fail", "dropped", "nothing", "state", "events",
    "marker",
];

/// The keys of a mapping, with their values, in order.
fn entries(map: &serde_yaml::Mapping) -> Vec<(String, &Value)> {
    map.iter().map(|(k, v)| (key_text(k), v)).collect()
}

/// One of several mutually exclusive keys: reports none or two, returns the one.
fn pick_one<'v>(
    cx: &mut Context<'_>,
    path: &YamlPath,
    found: &[(String, &'v Value)],
    what: &str,
    choices: &str,
) -> Option<(String, &'v Value)> {
    match found {
        [] => {
            cx.error(path, Anchor::Value, format!("{what} needs {choices}"));
            None
        }
        [one] => Some((one.0.clone(), one.1)),
        [first, second, ..] => {
            let both_matchers =
                MATCHERS.contains(&first.0.as_str()) && MATCHERS.contains(&second.0.as_str());
            let help = both_matchers
                .then(|| "use `sequence: [...]` to expect one after the other".to_string());
            cx.error_help(
                &path.key(&second.0),
                Anchor::Key,
                format!("{what} has both `{}` and `{}`", first.0, second.0),
                help,
            );
            None
        }
    }
}

/// Reads `expect:` at `path`.
pub(crate) fn convert_expect(
    cx: &mut Context<'_>,
    path: &YamlPath,
    value: &Value,
) -> Option<Expect> {
    let choices = format!(
        "a matcher ({}), `sequence` or `any_of`",
        backticked(&MATCHERS)
    );
    let Value::Mapping(map) = value else {
        cx.error(
            path,
            Anchor::Value,
            format!(
                "`expect` needs a mapping with {choices}, not a {}",
                value_kind(value)
            ),
        );
        return None;
    };
    let mut allowed: Vec<&str> = MATCHERS.to_vec();
    allowed.extend(["sequence", "any_of", "timeout"]);
    let errors = cx.error_count();
    let mut forms = Vec::new();
    let mut timeout = None;
    for (key, v) in entries(map) {
        match key.as_str() {
            "timeout" => {
                let t: Option<Scalar> = cx.deserialize(&path.key("timeout"), v.clone());
                timeout = t.and_then(|t| cx.check(&path.key("timeout"), parse_duration_value(&t)));
            }
            k if allowed.contains(&k) => forms.push((key, v)),
            _ => cx.unknown_key(&path.key(&key), &key, &allowed),
        }
    }
    if cx.error_count() > errors {
        return None;
    }
    let (form, body) = pick_one(cx, path, &forms, "`expect`", &choices)?;
    let form_path = path.key(&form);
    let alternatives = match form.as_str() {
        "sequence" => vec![Alternative {
            verdict: AltVerdict::Ok,
            sequence: convert_sequence(cx, &form_path, body)?,
        }],
        "any_of" => convert_any_of(cx, &form_path, body)?,
        _ => vec![Alternative {
            verdict: AltVerdict::Ok,
            sequence: vec![convert_matcher(cx, &form_path, &form, body)?],
        }],
    };
    Some(Expect {
        alternatives,
        timeout,
    })
}

fn convert_any_of(
    cx: &mut Context<'_>,
    path: &YamlPath,
    value: &Value,
) -> Option<Vec<Alternative>> {
    let Value::Sequence(items) = value else {
        cx.error(
            path,
            Anchor::Value,
            format!(
                "`any_of` is a list of alternatives, not a {}",
                value_kind(value)
            ),
        );
        return None;
    };
    if items.is_empty() {
        cx.error(path, Anchor::Key, "`any_of` has no alternatives");
        return None;
    }
    let mut allowed: Vec<&str> = MATCHERS.to_vec();
    allowed.extend(["sequence", "verdict"]);
    let errors = cx.error_count();
    let mut alternatives = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let item_path = path.index(i);
        let Value::Mapping(map) = item else {
            cx.error(
                &item_path,
                Anchor::Value,
                format!(
                    "an `any_of` alternative is a mapping with a matcher or `sequence`, not a {}",
                    value_kind(item)
                ),
            );
            continue;
        };
        let item_errors = cx.error_count();
        let mut verdict = AltVerdict::Ok;
        let mut forms = Vec::new();
        for (key, v) in entries(map) {
            match key.as_str() {
                "verdict" => {
                    let s: Option<Scalar> = cx.deserialize(&item_path.key("verdict"), v.clone());
                    if let Some(v) =
                        s.and_then(|s| cx.check(&item_path.key("verdict"), parse_verdict(&s)))
                    {
                        verdict = v;
                    }
                }
                k if allowed.contains(&k) => forms.push((key, v)),
                _ => cx.unknown_key(&item_path.key(&key), &key, &allowed),
            }
        }
        if cx.error_count() > item_errors {
            continue;
        }
        let choices = format!("a matcher ({}) or `sequence`", backticked(&MATCHERS));
        let Some((form, body)) = pick_one(cx, &item_path, &forms, "alternative", &choices) else {
            continue;
        };
        let form_path = item_path.key(&form);
        let sequence = if form == "sequence" {
            convert_sequence(cx, &form_path, body)
        } else {
            convert_matcher(cx, &form_path, &form, body).map(|m| vec![m])
        };
        if let Some(sequence) = sequence {
            alternatives.push(Alternative { verdict, sequence });
        }
    }
    (cx.error_count() == errors).then_some(alternatives)
}

fn convert_sequence(cx: &mut Context<'_>, path: &YamlPath, value: &Value) -> Option<Vec<Matcher>> {
    let Value::Sequence(items) = value else {
        cx.error(
            path,
            Anchor::Value,
            format!(
                "`sequence` is a list of matchers, not a {}",
                value_kind(value)
            ),
        );
        return None;
    };
    if items.is_empty() {
        cx.error(path, Anchor::Key, "`sequence` is empty");
        return None;
    }
    let errors = cx.error_count();
    let mut matchers = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let item_path = path.index(i);
        let Value::Mapping(map) = item else {
            cx.error(
                &item_path,
                Anchor::Value,
                format!(
                    "a `sequence` item is a matcher mapping, not a {}",
                    value_kind(item)
                ),
            );
            continue;
        };
        let mut forms = Vec::new();
        let item_errors = cx.error_count();
        for (key, v) in entries(map) {
            if MATCHERS.contains(&key.as_str()) {
                forms.push((key, v));
            } else {
                cx.unknown_key(&item_path.key(&key), &key, &MATCHERS);
            }
        }
        if cx.error_count() > item_errors {
            continue;
        }
        let choices = format!("a matcher ({})", backticked(&MATCHERS));
        if let Some((form, body)) = pick_one(cx, &item_path, &forms, "`sequence` item", &choices)
            && let Some(m) = convert_matcher(cx, &item_path.key(&form), &form, body)
        {
            matchers.push(m);
        }
    }
    (cx.error_count() == errors).then_some(matchers)
}

/// Reads the matcher `name` whose value is `value` at `path`.
fn convert_matcher(
    cx: &mut Context<'_>,
    path: &YamlPath,
    name: &str,
    value: &Value,
) -> Option<Matcher> {
    match name {
        "message" => {
            let raw: RawMessageMatch = deserialize_or_default(cx, path, value)?;
            message_match(cx, path, &raw).map(Matcher::Message)
        }
        "frame" => {
            let raw: RawFrameMatch = deserialize_or_default(cx, path, value)?;
            frame_match(cx, path, &raw).map(Matcher::Frame)
        }
        "ping" | "pong" => {
            let raw: RawPayload = cx.deserialize(path, value.clone())?;
            let payload = convert_payload(cx, path, &raw, PayloadUse::Match)?;
            Some(if name == "ping" {
                Matcher::Ping(payload)
            } else {
                Matcher::Pong(payload)
            })
        }
        "close" => {
            let raw: RawCloseMatch = deserialize_or_default(cx, path, value)?;
            close_match(cx, path, &raw).map(Matcher::Close)
        }
        "fail" => {
            let raw: RawFail = deserialize_or_default(cx, path, value)?;
            let codes_path = path.key("codes");
            let errors = cx.error_count();
            let codes: Vec<u16> = raw
                .codes
                .unwrap_or_default()
                .iter()
                .enumerate()
                .filter_map(|(i, c)| cx.check(&codes_path.index(i), parse_close_code(*c)))
                .collect();
            (cx.error_count() == errors).then_some(Matcher::Fail { codes })
        }
        "dropped" => {
            let dropped: bool = cx.deserialize(path, value.clone())?;
            if !dropped {
                cx.error_help(
                    path,
                    Anchor::Value,
                    "`dropped: false` expects nothing",
                    Some("write `dropped: true`, or `nothing: DURATION` to expect silence".into()),
                );
                return None;
            }
            Some(Matcher::Dropped)
        }
        "nothing" => {
            let d: Scalar = cx.deserialize(path, value.clone())?;
            cx.check(path, parse_duration_value(&d))
                .map(Matcher::Nothing)
        }
        "state" => {
            let s: Scalar = cx.deserialize(path, value.clone())?;
            cx.check(path, parse_state(&s)).map(Matcher::State)
        }
        "events" => events(cx, path, value).map(Matcher::Events),
        _ => {
            let m: Scalar = cx.deserialize(path, value.clone())?;
            Some(Matcher::Marker(m.text))
        }
    }
}

fn message_match(
    cx: &mut Context<'_>,
    path: &YamlPath,
    raw: &RawMessageMatch,
) -> Option<MessageMatch> {
    let forms: Vec<&str> = [
        ("text", raw.text.is_some()),
        ("binary", raw.binary.is_some()),
        ("text_hex", raw.text_hex.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, given)| given.then_some(k))
    .collect();
    if let [first, second, ..] = forms.as_slice() {
        cx.error(
            &path.key(second),
            Anchor::Key,
            format!("message matcher has both `{first}` and `{second}`"),
        );
        return None;
    }
    if let (Some(form), Some(_)) = (forms.first(), &raw.opcode) {
        cx.error(
            &path.key("opcode"),
            Anchor::Key,
            format!("`opcode` is implied by `{form}`"),
        );
        return None;
    }
    if let (Some(form), Some(_)) = (forms.first(), raw.len) {
        cx.error_help(
            &path.key("len"),
            Anchor::Key,
            format!("`len` and `{form}` both given"),
            Some("match the content, or the opcode and length".into()),
        );
        return None;
    }
    let mut out = MessageMatch {
        len: raw.len.and_then(|l| usize::try_from(l).ok()),
        compressed: raw.compressed,
        ..MessageMatch::default()
    };
    match forms.first() {
        Some(&"text") | Some(&"binary") => {
            let (opcode, payload) = match (&raw.text, &raw.binary) {
                (Some(p), _) => (Opcode::Text, p),
                (_, Some(p)) => (Opcode::Binary, p),
                _ => return None,
            };
            let form_path = path.key(forms[0]);
            out.opcode = Some(opcode);
            out.data = convert_payload(cx, &form_path, payload, PayloadUse::Match)?;
        }
        Some(_) => {
            let hex = raw.text_hex.as_deref().unwrap_or_default();
            out.opcode = Some(Opcode::Text);
            out.data = Some(super::model::Payload::Bytes(
                cx.check(&path.key("text_hex"), parse_hex(hex))?,
            ));
        }
        None => {
            if let Some(op) = &raw.opcode {
                let op_path = path.key("opcode");
                let opcode = cx.check(&op_path, parse_opcode(op))?;
                if !matches!(opcode, Opcode::Text | Opcode::Binary) {
                    cx.error(
                        &op_path,
                        Anchor::Value,
                        format!("a message is text or binary, not `{opcode}`"),
                    );
                    return None;
                }
                out.opcode = Some(opcode);
            }
        }
    }
    Some(out)
}

fn frame_match(cx: &mut Context<'_>, path: &YamlPath, raw: &RawFrameMatch) -> Option<FrameMatch> {
    let errors = cx.error_count();
    let opcode = raw
        .opcode
        .as_ref()
        .and_then(|op| cx.check(&path.key("opcode"), parse_opcode(op)));
    let rsv = raw
        .rsv
        .as_ref()
        .and_then(|r| cx.check(&path.key("rsv"), parse_rsv(r)));
    let payload = match &raw.payload {
        Some(p) => convert_payload(cx, &path.key("payload"), p, PayloadUse::Match)?,
        None => None,
    };
    if cx.error_count() > errors {
        return None;
    }
    Some(FrameMatch {
        opcode,
        fin: raw.fin,
        rsv,
        masked: raw.masked,
        len: raw.len,
        payload,
    })
}

fn close_match(cx: &mut Context<'_>, path: &YamlPath, raw: &RawCloseMatch) -> Option<CloseMatch> {
    let code_path = path.key("code");
    let mut out = CloseMatch {
        reason: raw.reason.clone(),
        clean: raw.clean,
        ..CloseMatch::default()
    };
    let errors = cx.error_count();
    let add = |cx: &mut Context<'_>, at: &YamlPath, v: &Value, out: &mut CloseMatch| match v {
        Value::Null => out.no_code = true,
        Value::Number(n) => {
            let code = n.as_i64().unwrap_or(-1);
            if let Some(c) = cx.check(at, parse_close_code(code)) {
                out.codes.push(c);
            }
        }
        other => cx.error(
            at,
            Anchor::Value,
            format!(
                "a close code is a number or `~` (no code), not a {}",
                value_kind(other)
            ),
        ),
    };
    match &raw.code {
        None => {}
        Some(Value::Sequence(items)) if items.is_empty() => {
            cx.error(&code_path, Anchor::Value, "`code` list is empty");
        }
        Some(Value::Sequence(items)) => {
            for (i, v) in items.iter().enumerate() {
                add(cx, &code_path.index(i), v, &mut out);
            }
        }
        Some(v) => add(cx, &code_path, v, &mut out),
    }
    (cx.error_count() == errors).then_some(out)
}

fn events(cx: &mut Context<'_>, path: &YamlPath, value: &Value) -> Option<Vec<EventMatch>> {
    const EVENTS: [&str; 4] = ["open", "message", "error", "close"];
    let Value::Sequence(items) = value else {
        cx.error(
            path,
            Anchor::Value,
            format!("`events` is a list of events, not a {}", value_kind(value)),
        );
        return None;
    };
    let errors = cx.error_count();
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let item_path = path.index(i);
        let (name, body, name_path) = match item {
            Value::String(s) => (s.clone(), Value::Null, item_path.clone()),
            Value::Mapping(map) if map.len() == 1 => {
                let (k, v) = map.iter().next()?;
                let name = key_text(k);
                let name_path = item_path.key(&name);
                (name, v.clone(), name_path)
            }
            _ => {
                cx.error(
                    &item_path,
                    Anchor::Value,
                    "an event is `open`, `error`, `message`, `close`, or a one-key mapping like `{ close: { code: 1000 } }`",
                );
                continue;
            }
        };
        let event = match name.as_str() {
            "open" | "error" if !body.is_null() => {
                cx.error(
                    &name_path,
                    Anchor::Value,
                    format!("the `{name}` event has no fields"),
                );
                continue;
            }
            "open" => EventMatch::Open,
            "error" => EventMatch::Error,
            "message" => {
                let raw = if body.is_null() {
                    RawMessageMatch::default()
                } else {
                    match cx.deserialize(&name_path, body) {
                        Some(raw) => raw,
                        None => continue,
                    }
                };
                match message_match(cx, &name_path, &raw) {
                    Some(m) => EventMatch::Message(m),
                    None => continue,
                }
            }
            "close" => {
                let raw: RawCloseEvent = if body.is_null() {
                    RawCloseEvent::default()
                } else {
                    match cx.deserialize(&name_path, body) {
                        Some(raw) => raw,
                        None => continue,
                    }
                };
                let code = match raw.code {
                    Some(c) => match cx.check(&name_path.key("code"), parse_close_code(c)) {
                        Some(c) => Some(c),
                        None => continue,
                    },
                    None => None,
                };
                EventMatch::Close {
                    code,
                    reason: raw.reason,
                    was_clean: raw.clean,
                }
            }
            _ => {
                let at = if matches!(item, Value::Mapping(_)) {
                    Anchor::Key
                } else {
                    Anchor::Value
                };
                cx.error_help(
                    &name_path,
                    at,
                    format!("unknown event `{name}`; expected open, message, error or close"),
                    did_you_mean(&name, EVENTS),
                );
                continue;
            }
        };
        out.push(event);
    }
    (cx.error_count() == errors).then_some(out)
}

/// A matcher body, or its default when the YAML gives none (`message: ~`).
fn deserialize_or_default<T: serde::de::DeserializeOwned + Default>(
    cx: &mut Context<'_>,
    path: &YamlPath,
    value: &Value,
) -> Option<T> {
    if value.is_null() {
        Some(T::default())
    } else {
        cx.deserialize(path, value.clone())
    }
}
