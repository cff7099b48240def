//! `connect:` steps → [`Connect`]: the opening-handshake request and what the response must
//! look like.

use serde_yaml::Value;

use super::context::{Context, backticked};
use super::convert::{duration, value_kind};
use super::diagnostic::did_you_mean;
use super::expand::key_text;
use super::model::{Connect, DeflateExpect, HandshakeExpect, Http2Connect, Respond};
use super::payload::send_payload;
use super::position::{Anchor, YamlPath};
use super::raw::{RawConnect, RawDeflateExpect, RawHandshakeExpect, RawRespond};
use super::validate::{parse_chop, parse_status};

fn strings(list: Option<Vec<String>>) -> Vec<String> {
    list.unwrap_or_default()
}

/// Reads `connect:`; returns the handshake and its `as:` name.
pub(crate) fn convert_connect(
    cx: &mut Context<'_>,
    path: &YamlPath,
    value: &Value,
) -> Option<(Connect, Option<String>)> {
    if value.is_null() {
        return Some((Connect::default(), None));
    }
    let raw: RawConnect = cx.deserialize(path, value.clone())?;
    let errors = cx.error_count();
    if raw.raw.is_some() {
        let replaced = [
            ("method", raw.method.is_some()),
            ("http_version", raw.http_version.is_some()),
            ("version", raw.version.is_some()),
            ("origin", raw.origin.is_some()),
            ("omit", raw.omit.is_some()),
            ("headers", raw.headers.is_some()),
            ("body", raw.body.is_some()),
        ];
        for (key, given) in replaced {
            if given {
                cx.error(
                    &path.key(key),
                    Anchor::Key,
                    format!("`{key}` has no effect with `raw`, which is sent verbatim"),
                );
            }
        }
    }
    const OMITTABLE: [&str; 5] = ["host", "upgrade", "connection", "key", "version"];
    let mut omit = Vec::new();
    for (i, name) in raw.omit.iter().flatten().enumerate() {
        let lower = name.text.to_ascii_lowercase();
        if OMITTABLE.contains(&lower.as_str()) {
            omit.push(lower);
        } else {
            cx.error_help(
                &path.key("omit").index(i),
                Anchor::Value,
                format!(
                    "cannot omit `{}`; expected one of {}",
                    name.text,
                    backticked(&OMITTABLE)
                ),
                did_you_mean(&lower, OMITTABLE),
            );
        }
    }
    let headers = match &raw.headers {
        Some(v) => header_list(cx, &path.key("headers"), v),
        None => Vec::new(),
    };
    let body = raw
        .body
        .as_ref()
        .and_then(|b| send_payload(cx, &path.key("body"), b));
    let chop = raw
        .chop
        .as_ref()
        .and_then(|c| cx.check(&path.key("chop"), parse_chop(c)));
    let timeout = duration(cx, &path.key("timeout"), &raw.timeout);
    let expect = match &raw.expect {
        Some(e) => handshake_expect(cx, &path.key("expect"), e),
        None => HandshakeExpect::default(),
    };
    let respond = raw
        .respond
        .as_ref()
        .map(|r| convert_respond(cx, &path.key("respond"), r));
    if let Some(h) = &raw.http2
        && h.unadvertised == Some(true)
        && h.fields.is_none()
    {
        cx.error_help(
            &path.key("http2").key("unadvertised"),
            Anchor::Key,
            "`unadvertised` applies to a hand-written request",
            Some("give the request's `fields` too".into()),
        );
    }
    if cx.error_count() > errors {
        return None;
    }
    let connect = Connect {
        path: raw.path,
        method: raw.method,
        http_version: raw.http_version,
        host: raw.host,
        key: raw.key,
        version: raw.version.map(|v| v.text),
        origin: raw.origin,
        protocols: strings(raw.protocols),
        extensions: raw.extensions,
        omit,
        headers,
        body,
        raw: raw.raw,
        expect,
        timeout,
        chop,
        abort: raw.abort.unwrap_or(false),
        respond,
        http2: raw
            .http2
            .map(|h| Http2Connect {
                protocol: h.protocol,
                share: h.share,
                fields: h.fields,
                split: h.split,
                settings: h.settings.unwrap_or_default(),
                unadvertised: h.unadvertised.unwrap_or(false),
            })
            .unwrap_or_default(),
    };
    Some((connect, raw.name))
}

/// Reads `connect: { respond: ... }`, wsprobe's answer to a client's handshake.
fn convert_respond(cx: &mut Context<'_>, path: &YamlPath, raw: &RawRespond) -> Respond {
    if raw.raw.is_some() {
        let replaced = [
            ("status", raw.status.is_some()),
            ("reason", raw.reason.is_some()),
            ("http_version", raw.http_version.is_some()),
            ("accept", raw.accept.is_some()),
            ("omit", raw.omit.is_some()),
            ("headers", raw.headers.is_some()),
            ("protocol", raw.protocol.is_some()),
            ("extensions", raw.extensions.is_some()),
        ];
        for (key, given) in replaced {
            if given {
                cx.error_help(
                    &path.key(key),
                    Anchor::Key,
                    format!("`{key}` has no effect with `raw`, which is sent verbatim"),
                    Some("`after` still follows a raw response".into()),
                );
            }
        }
    }
    let status = raw.status.as_ref().and_then(|v| {
        let code = match v {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        match code {
            Some(c @ 100..=999) => Some(c as u16),
            _ => {
                cx.error(
                    &path.key("status"),
                    Anchor::Value,
                    "`status` is a three-digit status code (100–999)",
                );
                None
            }
        }
    });
    const OMITTABLE: [&str; 3] = ["upgrade", "connection", "accept"];
    let mut omit = Vec::new();
    for (i, name) in raw.omit.iter().flatten().enumerate() {
        let lower = name.text.to_ascii_lowercase();
        if OMITTABLE.contains(&lower.as_str()) {
            omit.push(lower);
        } else {
            cx.error_help(
                &path.key("omit").index(i),
                Anchor::Value,
                format!(
                    "cannot omit `{}` from a response; expected one of {}",
                    name.text,
                    backticked(&OMITTABLE)
                ),
                did_you_mean(&lower, OMITTABLE),
            );
        }
    }
    if raw.accept.is_some() && omit.iter().any(|o| o == "accept") {
        cx.error_help(
            &path.key("accept"),
            Anchor::Key,
            "`accept` gives a value to a header `omit` leaves out",
            Some("keep one of them".into()),
        );
    }
    let headers = match &raw.headers {
        Some(v) => header_list(cx, &path.key("headers"), v),
        None => Vec::new(),
    };
    let mut placeholder_texts: Vec<(YamlPath, &str)> = Vec::new();
    if let Some(a) = &raw.accept {
        placeholder_texts.push((path.key("accept"), a));
    }
    if let Some(r) = &raw.raw {
        placeholder_texts.push((path.key("raw"), r));
    }
    for (_, value) in &headers {
        placeholder_texts.push((path.key("headers"), value));
    }
    for (at, text) in placeholder_texts {
        check_placeholders(cx, &at, text);
    }
    let after = raw
        .after
        .as_ref()
        .and_then(|b| send_payload(cx, &path.key("after"), b));
    Respond {
        status,
        reason: raw.reason.clone(),
        http_version: raw.http_version.clone(),
        accept: raw.accept.clone(),
        omit,
        headers,
        protocol: raw.protocol.clone(),
        extensions: raw.extensions.clone(),
        after,
        raw: raw.raw.clone(),
    }
}

/// Reports a `{name}` in `text` that is no [`Respond::PLACEHOLDERS`] name (a typo would
/// otherwise be sent verbatim and the case would test something else).
fn check_placeholders(cx: &mut Context<'_>, path: &YamlPath, text: &str) {
    let names: Vec<&str> = Respond::PLACEHOLDERS.iter().map(|(n, _)| *n).collect();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        let name = &after[..close];
        let looks_like_one = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if looks_like_one && !names.contains(&name) {
            cx.error_help(
                path,
                Anchor::Value,
                format!("unknown placeholder `{{{name}}}`"),
                did_you_mean(name, names.iter().copied())
                    .or_else(|| Some(format!("expected one of {}", backticked(&names)))),
            );
        }
        rest = &after[close + 1..];
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Extra request headers: `[[name, value], {name, value}, ...]` or `{name: value, ...}`.
/// A header value: text, or `{ repeat: TEXT, len: N }` for generated long values (bounded to
/// 1 MiB, enough to test a server's header limits).
fn header_value(value: &Value) -> Option<String> {
    if let Some(text) = scalar_text(value) {
        return Some(text);
    }
    let Value::Mapping(m) = value else {
        return None;
    };
    if m.len() != 2 {
        return None;
    }
    let unit = m.get("repeat").and_then(Value::as_str)?;
    let len = m.get("len").and_then(Value::as_u64)?;
    if unit.is_empty() || len > 1 << 20 || !unit.is_ascii() {
        return None;
    }
    Some(unit.chars().cycle().take(len as usize).collect())
}

fn header_list(cx: &mut Context<'_>, path: &YamlPath, value: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    match value {
        Value::Mapping(map) => {
            for (k, v) in map {
                let name = key_text(k);
                match scalar_text(v) {
                    Some(text) => out.push((name, text)),
                    None => cx.error(
                        &path.key(&name),
                        Anchor::Value,
                        format!("header `{name}` needs a text value"),
                    ),
                }
            }
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                let pair = match item {
                    Value::Sequence(pair) if pair.len() == 2 => {
                        scalar_text(&pair[0]).zip(header_value(&pair[1]))
                    }
                    Value::Mapping(m) if m.len() == 2 => m
                        .get("name")
                        .and_then(scalar_text)
                        .zip(m.get("value").and_then(header_value)),
                    _ => None,
                };
                match pair {
                    Some(pair) => out.push(pair),
                    None => cx.error(
                        &path.index(i),
                        Anchor::Value,
                        "a header is `[name, value]` or `{ name: ..., value: ... }`; a value is text \
                         or `{ repeat: TEXT, len: N }` (N at most 1 MiB)",
                    ),
                }
            }
        }
        other => cx.error(
            path,
            Anchor::Value,
            format!(
                "`headers` is a list or a mapping, not a {}",
                value_kind(other)
            ),
        ),
    }
    out
}

fn handshake_expect(
    cx: &mut Context<'_>,
    path: &YamlPath,
    raw: &RawHandshakeExpect,
) -> HandshakeExpect {
    let status_path = path.key("status");
    let status = match &raw.status {
        None => Vec::new(),
        Some(Value::Sequence(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| cx.check(&status_path.index(i), parse_status(v)))
            .collect(),
        Some(v) => cx
            .check(&status_path, parse_status(v))
            .into_iter()
            .collect(),
    };
    let mut headers = Vec::new();
    match &raw.headers {
        None => {}
        Some(Value::Mapping(map)) => {
            for (k, v) in map {
                let name = key_text(k);
                match v {
                    Value::Null => headers.push((name, None)),
                    v => match scalar_text(v) {
                        Some(text) => headers.push((name, Some(text))),
                        None => cx.error(
                            &path.key("headers").key(&name),
                            Anchor::Value,
                            format!("expected header `{name}` needs a text value or `~`"),
                        ),
                    },
                }
            }
        }
        Some(other) => cx.error(
            &path.key("headers"),
            Anchor::Value,
            format!(
                "expected `headers` is a mapping of name to value, not a {}",
                value_kind(other)
            ),
        ),
    }
    HandshakeExpect {
        status,
        headers,
        absent: raw.absent.clone().unwrap_or_default(),
        protocol: raw.protocol.clone(),
        extensions: raw.extensions.clone(),
        requires_extension: raw.requires_extension.clone(),
        deflate: raw
            .deflate
            .as_ref()
            .and_then(|d| deflate_expect(cx, &path.key("deflate"), d)),
        refused: raw.refused.unwrap_or(false),
    }
}

/// Reads `expect: { deflate: ... }`: window bits must be 8–15.
fn deflate_expect(
    cx: &mut Context<'_>,
    path: &YamlPath,
    raw: &RawDeflateExpect,
) -> Option<DeflateExpect> {
    let mut ok = true;
    for (key, bits) in [
        ("server_max_window_bits", raw.server_max_window_bits),
        ("client_max_window_bits", raw.client_max_window_bits),
    ] {
        if let Some(Some(b)) = bits
            && !(8..=15).contains(&b)
        {
            cx.error(
                &path.key(key),
                Anchor::Value,
                format!("`{key}` is 8–15 or `~` (absent), not {b}"),
            );
            ok = false;
        }
    }
    ok.then_some(DeflateExpect {
        server_no_context_takeover: raw.server_no_context_takeover,
        client_no_context_takeover: raw.client_no_context_takeover,
        server_max_window_bits: raw.server_max_window_bits,
        client_max_window_bits: raw.client_max_window_bits,
    })
}
