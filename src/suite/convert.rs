//! Raw case → model: reads a case (already template-expanded) key by key, checks every value
//! and reports each problem at its position. Steps are read one by one so one bad step does
//! not hide the next; expectations are in `expect`.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_yaml::Value;

use super::connect::convert_connect;
use super::context::{Context, backticked};
use super::corpus::Corpus;
use super::diagnostic::did_you_mean;
use super::expand::key_text;
use super::expect::convert_expect;
use super::model::{Case, CloseCall, ClosingRule, Echo, Ignore, PeerKind, Step, StepKind};
use super::position::{Anchor, YamlPath};
use super::raw::{RawCase, RawCloseCall, RawClosing, RawEcho, RawRepeat, Scalar};
use super::send::convert_send;
use super::validate::{
    MAX_GENERATED_LEN, check_id, parse_close_code, parse_duration_value, parse_ignore,
    parse_initiator, parse_level, parse_peer,
};
use crate::wire::Level;

/// The step actions; a step has exactly one.
pub(crate) const STEP_KEYS: [&str; 8] = [
    "connect", "send", "expect", "close", "wait", "mark", "repeat", "echo",
];

/// Case defaults after `defaults:` was read.
#[derive(Clone, Debug, Default)]
pub(crate) struct Defaults {
    pub timeout: Option<Duration>,
    pub deadline: Option<Duration>,
    pub level: Option<Level>,
    pub ignore: Option<Vec<Ignore>>,
    pub closing: Option<ClosingRule>,
    pub redact_headers: Option<Vec<String>>,
    pub extensions: Option<Vec<String>>,
    pub peers: Option<Vec<PeerKind>>,
}

/// What a case inherits from its suite.
#[derive(Clone, Debug, Default)]
pub(crate) struct SuiteContext {
    pub id: String,
    pub tags: Vec<String>,
    pub defaults: Defaults,
}

/// The keys of a case (and `params`, removed by template expansion).
pub(crate) const CASE_KEYS: [&str; 16] = [
    "id",
    "title",
    "spec",
    "level",
    "autobahn",
    "description",
    "tags",
    "timeout",
    "deadline",
    "ignore",
    "closing",
    "redact_headers",
    "skip",
    "peer",
    "steps",
    "params",
];

/// The `connect` keys that shape the request wsprobe sends to a server (and `expect`, which
/// judges the server's response): a case with one of them cannot judge clients.
const REQUEST_KEYS: [&str; 16] = [
    "path",
    "method",
    "http_version",
    "host",
    "key",
    "version",
    "origin",
    "protocols",
    "omit",
    "headers",
    "body",
    "raw",
    "abort",
    "chop",
    "expect",
    "http2",
];

/// Whether `map` has an unknown key that is most likely a misspelling of `key` (then "no
/// `key`" would only repeat the "unknown key, did you mean" diagnostic).
pub(crate) fn has_typo_of(map: &serde_yaml::Mapping, key: &str, known: &[&str]) -> bool {
    map.keys().filter_map(Value::as_str).any(|k| {
        !known.contains(&k) && super::diagnostic::closest(k, known.iter().copied()) == Some(key)
    })
}

/// Default bound of each expect step.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
/// Default bound of a whole case.
pub(crate) const DEFAULT_DEADLINE: Duration = Duration::from_secs(30);

pub(crate) fn value_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Sequence(_) => "list",
        Value::Mapping(_) => "mapping",
        Value::Tagged(_) => "tagged value",
    }
}

pub(crate) fn duration(
    cx: &mut Context<'_>,
    path: &YamlPath,
    value: &Option<Scalar>,
) -> Option<Duration> {
    value
        .as_ref()
        .and_then(|v| cx.check(path, parse_duration_value(v)))
}

fn ignore_list(
    cx: &mut Context<'_>,
    path: &YamlPath,
    list: &Option<Vec<Scalar>>,
) -> Option<Vec<Ignore>> {
    let list = list.as_ref()?;
    Some(
        list.iter()
            .enumerate()
            .filter_map(|(i, v)| cx.check(&path.index(i), parse_ignore(v)))
            .collect(),
    )
}

fn close_codes(cx: &mut Context<'_>, path: &YamlPath, codes: &[i64]) -> Vec<u16> {
    codes
        .iter()
        .enumerate()
        .filter_map(|(i, c)| cx.check(&path.index(i), parse_close_code(*c)))
        .collect()
}

fn closing(cx: &mut Context<'_>, path: &YamlPath, raw: &RawClosing) -> ClosingRule {
    ClosingRule {
        initiator: raw
            .initiator
            .as_ref()
            .and_then(|v| cx.check(&path.key("initiator"), parse_initiator(v)))
            .unwrap_or_default(),
        clean: raw.clean.unwrap_or(false),
        codes: close_codes(
            cx,
            &path.key("codes"),
            raw.codes.as_deref().unwrap_or_default(),
        ),
        informational: raw.informational.unwrap_or(false),
    }
}

/// Reads `defaults:`.
pub(crate) fn convert_defaults(cx: &mut Context<'_>, path: &YamlPath, value: &Value) -> Defaults {
    let Some(raw) = cx.deserialize::<super::raw::RawDefaults>(path, value.clone()) else {
        return Defaults::default();
    };
    Defaults {
        timeout: duration(cx, &path.key("timeout"), &raw.timeout),
        deadline: duration(cx, &path.key("deadline"), &raw.deadline),
        level: raw
            .level
            .as_ref()
            .and_then(|l| cx.check(&path.key("level"), parse_level(&l.text))),
        ignore: ignore_list(cx, &path.key("ignore"), &raw.ignore),
        closing: raw
            .closing
            .as_ref()
            .map(|c| closing(cx, &path.key("closing"), c)),
        redact_headers: raw.redact_headers,
        extensions: raw.extensions,
        peers: raw
            .peer
            .as_ref()
            .and_then(|v| peer_list(cx, &path.key("peer"), v)),
    }
}

/// Reads `peer:`: `server`, `client` or a non-empty list of them without repeats.
fn peer_list(cx: &mut Context<'_>, path: &YamlPath, value: &Value) -> Option<Vec<PeerKind>> {
    let one = |cx: &mut Context<'_>, at: &YamlPath, v: &Value| -> Option<PeerKind> {
        let scalar: Scalar = cx.deserialize(at, v.clone())?;
        cx.check(at, parse_peer(&scalar))
    };
    match value {
        Value::Sequence(items) if items.is_empty() => {
            cx.error_help(
                path,
                Anchor::Value,
                "`peer` is empty; a case judges at least one kind of peer",
                Some("e.g. peer: [server, client]".into()),
            );
            None
        }
        Value::Sequence(items) => {
            let errors = cx.error_count();
            let mut peers = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let Some(peer) = one(cx, &path.index(i), item) else {
                    continue;
                };
                if peers.contains(&peer) {
                    cx.error(
                        &path.index(i),
                        Anchor::Value,
                        format!("`{}` is listed twice in `peer`", peer.name()),
                    );
                } else {
                    peers.push(peer);
                }
            }
            (cx.error_count() == errors).then_some(peers)
        }
        other => one(cx, path, other).map(|p| vec![p]),
    }
}

/// Where a case's peers come from, for the help of a peer mismatch.
#[derive(Clone, Copy)]
enum PeerSource {
    Case,
    Defaults,
    BuiltIn,
}

/// Checks that every `connect` of the case (inside `repeat`s too) fits the peers it judges: an
/// answer to a client's handshake (`respond`) cannot go to a server, a request (`path`,
/// `headers`, …, `expect` on the response) cannot go to a client.
fn check_peers(
    cx: &mut Context<'_>,
    path: &YamlPath,
    steps: &Value,
    peers: &[PeerKind],
    source: PeerSource,
) {
    let Value::Sequence(items) = steps else {
        return;
    };
    let fix = |peer: &str| match source {
        PeerSource::Case => format!("write `peer: {peer}` for this case"),
        PeerSource::Defaults => {
            format!("`peer` comes from `defaults`; add `peer: {peer}` to this case")
        }
        PeerSource::BuiltIn => format!("cases judge servers unless they say `peer: {peer}`"),
    };
    for (i, item) in items.iter().enumerate() {
        let step_path = path.index(i);
        if let Some(repeat) = item.get("repeat")
            && let Some(inner) = repeat.get("steps")
        {
            check_peers(
                cx,
                &step_path.key("repeat").key("steps"),
                inner,
                peers,
                source,
            );
        }
        let Some(Value::Mapping(connect)) = item.get("connect") else {
            continue;
        };
        let connect_path = step_path.key("connect");
        if connect.contains_key("respond") && peers.contains(&PeerKind::Server) {
            cx.error_help(
                &connect_path.key("respond"),
                Anchor::Key,
                "`respond` answers a client's handshake, but this case also judges servers",
                Some(fix("client")),
            );
        }
        if peers.contains(&PeerKind::Client) {
            for key in REQUEST_KEYS {
                // `requires_extension` also reads in a client case: the client must offer the
                // extension (or the case is UNIMPLEMENTED).
                let only_requires = key == "expect"
                    && connect
                        .get(key)
                        .and_then(Value::as_mapping)
                        .is_some_and(|m| {
                            m.keys().all(|k| k.as_str() == Some("requires_extension"))
                        });
                if connect.contains_key(key) && !only_requires {
                    let what = if key == "expect" {
                        "judges a server's handshake response".to_string()
                    } else {
                        "shapes the request wsprobe sends to a server".to_string()
                    };
                    cx.error_help(
                        &connect_path.key(key),
                        Anchor::Key,
                        format!("`{key}` {what}, but this case also judges clients"),
                        Some(fix("server")),
                    );
                }
            }
        }
    }
}

/// Gives every `connect` without `extensions` the suite's `defaults.extensions`.
fn default_extensions(steps: &mut [Step], extensions: &[String]) {
    for step in steps {
        match &mut step.kind {
            StepKind::Connect(c) if c.extensions.is_none() && c.raw.is_none() => {
                c.extensions = Some(extensions.to_vec());
            }
            StepKind::Repeat { steps, .. } => default_extensions(steps, extensions),
            _ => {}
        }
    }
}

/// Reads one (expanded) case. `None` when it has errors (reported in `cx`).
pub(crate) fn convert_case(
    cx: &mut Context<'_>,
    path: &YamlPath,
    value: Value,
    suite: &SuiteContext,
) -> Option<Case> {
    let errors = cx.error_count();
    let Value::Mapping(map) = &value else {
        cx.error(
            path,
            Anchor::Value,
            format!(
                "a case is a mapping with `id`, `title`, `spec` and `steps`, not a {}",
                value_kind(&value)
            ),
        );
        return None;
    };
    let id_text = map.get("id").and_then(Value::as_str).map(str::to_string);
    for key in ["id", "title", "spec", "steps"] {
        if map.get(key).is_none_or(Value::is_null) && !has_typo_of(map, key, &CASE_KEYS) {
            let who = match &id_text {
                Some(id) => format!("case `{id}`"),
                None => "case".to_string(),
            };
            cx.error_help(
                path,
                Anchor::Value,
                format!("{who} has no `{key}`"),
                Some("every case needs `id`, `title`, `spec` and `steps`".into()),
            );
        }
    }
    let steps_value = map.get("steps").cloned();
    let raw = cx.deserialize::<RawCase>(path, value.clone());
    let mut steps = match steps_value {
        Some(v) if !v.is_null() => convert_steps(cx, &path.key("steps"), &v, &mut BTreeSet::new()),
        _ => Vec::new(),
    };
    if let Some(extensions) = &suite.defaults.extensions {
        default_extensions(&mut steps, extensions);
    }
    let raw = raw?;

    if let Some(id) = &raw.id {
        cx.check(&path.key("id"), check_id("case", id));
    }
    let defaults = &suite.defaults;
    let level = match &raw.level {
        Some(l) => cx.check(&path.key("level"), parse_level(&l.text)),
        None => defaults.level,
    };
    let timeout = duration(cx, &path.key("timeout"), &raw.timeout).or(defaults.timeout);
    let deadline = duration(cx, &path.key("deadline"), &raw.deadline).or(defaults.deadline);
    let ignore =
        ignore_list(cx, &path.key("ignore"), &raw.ignore).or_else(|| defaults.ignore.clone());
    let closing = match &raw.closing {
        Some(c) => closing(cx, &path.key("closing"), c),
        None => defaults.closing.clone().unwrap_or_default(),
    };
    let (peers, source) = match &raw.peer {
        Some(v) => (peer_list(cx, &path.key("peer"), v), PeerSource::Case),
        None => match &defaults.peers {
            Some(p) => (Some(p.clone()), PeerSource::Defaults),
            None => (Some(vec![PeerKind::Server]), PeerSource::BuiltIn),
        },
    };
    if let (Some(peers), Some(steps)) = (&peers, map.get("steps")) {
        check_peers(cx, &path.key("steps"), steps, peers, source);
    }
    if cx.error_count() > errors {
        return None;
    }
    let mut tags = suite.tags.clone();
    tags.extend(raw.tags.unwrap_or_default());
    Some(Case {
        id: raw.id?,
        suite: suite.id.clone(),
        title: raw.title?,
        description: raw.description,
        spec: raw.spec?,
        level: level.unwrap_or(Level::Must),
        autobahn: raw.autobahn,
        tags,
        timeout: timeout.unwrap_or(DEFAULT_TIMEOUT),
        deadline: deadline.unwrap_or(DEFAULT_DEADLINE),
        ignore: ignore.unwrap_or_default(),
        closing,
        redact_headers: {
            let mut names = defaults.redact_headers.clone().unwrap_or_default();
            names.extend(raw.redact_headers.unwrap_or_default());
            names
        },
        skip: raw.skip,
        peers: peers?,
        steps,
        location: cx.location(path),
    })
}

/// Reads a step list (a case's or a `repeat`'s). `opened` tracks connections opened so far.
fn convert_steps(
    cx: &mut Context<'_>,
    path: &YamlPath,
    value: &Value,
    opened: &mut BTreeSet<String>,
) -> Vec<Step> {
    match value {
        Value::Sequence(items) if items.is_empty() => {
            cx.error(
                path,
                Anchor::Key,
                "`steps` is empty; a case needs at least one step",
            );
            Vec::new()
        }
        Value::Sequence(items) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| convert_step(cx, &path.index(i), item, opened))
            .collect(),
        other => {
            cx.error(
                path,
                Anchor::Value,
                format!("`steps` is a list of steps, not a {}", value_kind(other)),
            );
            Vec::new()
        }
    }
}

fn convert_step(
    cx: &mut Context<'_>,
    path: &YamlPath,
    value: &Value,
    opened: &mut BTreeSet<String>,
) -> Option<Step> {
    let mut allowed: Vec<&str> = STEP_KEYS.to_vec();
    allowed.push("conn");
    // `- connect` and `- close` are steps with every argument defaulted.
    let (action, body, conn_value) = match value {
        Value::String(s) if s == "connect" || s == "close" => (s.clone(), Value::Null, None),
        Value::String(s) => {
            if STEP_KEYS.contains(&s.as_str()) {
                cx.error(
                    path,
                    Anchor::Value,
                    format!("step `{s}` needs a value, e.g. `- {s}: ...`"),
                );
            } else {
                cx.error_help(
                    path,
                    Anchor::Value,
                    format!("unknown step `{s}`"),
                    did_you_mean(s, STEP_KEYS),
                );
            }
            return None;
        }
        Value::Mapping(map) => {
            let mut actions = Vec::new();
            let mut unknown = false;
            let mut conn_value = None;
            for (k, v) in map {
                let key = key_text(k);
                if key == "conn" {
                    conn_value = Some(v.clone());
                } else if STEP_KEYS.contains(&key.as_str()) {
                    actions.push((key, v.clone()));
                } else {
                    unknown = true;
                    cx.unknown_key(&path.key(&key), &key, &allowed);
                }
            }
            match actions.len() {
                0 if unknown => return None,
                0 => {
                    cx.error(
                        path,
                        Anchor::Value,
                        format!(
                            "step has no action; expected one of {}",
                            backticked(&STEP_KEYS)
                        ),
                    );
                    return None;
                }
                1 => {}
                _ => {
                    cx.error_help(
                        &path.key(&actions[1].0),
                        Anchor::Key,
                        format!(
                            "step has two actions, `{}` and `{}`",
                            actions[0].0, actions[1].0
                        ),
                        Some("write them as two steps".into()),
                    );
                    return None;
                }
            }
            if unknown {
                return None;
            }
            let (action, body) = actions.swap_remove(0);
            (action, body, conn_value)
        }
        other => {
            cx.error(
                path,
                Anchor::Value,
                format!(
                    "a step is a mapping with one action such as `send: ...`, not a {}",
                    value_kind(other)
                ),
            );
            return None;
        }
    };
    let conn = match conn_value {
        None => None,
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        Some(_) => {
            cx.error(
                &path.key("conn"),
                Anchor::Value,
                "`conn` is a connection name",
            );
            return None;
        }
    };
    let action_path = path.key(&action);
    let kind = match action.as_str() {
        "connect" => {
            let (connect, name) = convert_connect(cx, &action_path, &body)?;
            let name = match (name, &conn) {
                (Some(name), Some(conn)) if name != *conn => {
                    cx.error(
                        &path.key("conn"),
                        Anchor::Value,
                        format!("`conn: {conn}` and `as: {name}` name different connections"),
                    );
                    return None;
                }
                (Some(name), _) => name,
                (None, conn) => conn.clone().unwrap_or_else(|| "main".into()),
            };
            opened.insert(name.clone());
            return Some(Step {
                kind: StepKind::Connect(Box::new(connect)),
                conn: name,
                location: cx.location(path),
            });
        }
        "send" => StepKind::Send(Box::new(convert_send(cx, &action_path, &body)?)),
        "expect" => StepKind::Expect(Box::new(convert_expect(cx, &action_path, &body)?)),
        "close" => StepKind::Close(convert_close_call(cx, &action_path, &body)?),
        "wait" => {
            let v: Scalar = cx.deserialize(&action_path, body)?;
            StepKind::Wait(cx.check(&action_path, parse_duration_value(&v))?)
        }
        "mark" => {
            let v: Scalar = cx.deserialize(&action_path, body)?;
            StepKind::Mark(v.text)
        }
        "echo" => StepKind::Echo(convert_echo(cx, &action_path, &body)?),
        _ => {
            let raw: RawRepeat = cx.deserialize(&action_path, body.clone())?;
            let times = match raw.times {
                Some(0) | None => {
                    cx.error(
                        &action_path,
                        Anchor::Value,
                        "`repeat` needs `times`, a number of at least 1",
                    );
                    None
                }
                t => t,
            };
            let steps = match body.get("steps") {
                Some(v) => convert_steps(cx, &action_path.key("steps"), v, opened),
                None => {
                    cx.error(&action_path, Anchor::Value, "`repeat` needs `steps`");
                    Vec::new()
                }
            };
            StepKind::Repeat {
                times: times?,
                steps,
            }
        }
    };
    let conn = conn.unwrap_or_else(|| "main".into());
    if action != "wait" && action != "repeat" && !opened.contains(&conn) {
        if conn == "main" {
            cx.error_help(
                &path.key(&action),
                Anchor::Key,
                format!("`{action}` needs an open connection"),
                Some("add `- connect` before it".into()),
            );
        } else {
            cx.error_help(
                &path.key("conn"),
                Anchor::Value,
                format!("connection `{conn}` is not opened by an earlier `connect`"),
                did_you_mean(&conn, opened.iter().map(String::as_str)),
            );
        }
        return None;
    }
    Some(Step {
        kind,
        conn,
        location: cx.location(path),
    })
}

/// Reads `echo:`.
fn convert_echo(cx: &mut Context<'_>, path: &YamlPath, value: &Value) -> Option<Echo> {
    let raw: RawEcho = cx.deserialize(path, value.clone())?;
    let errors = cx.error_count();
    let corpus = match raw.corpus.as_deref() {
        None => {
            cx.error(path, Anchor::Key, "`echo` needs `corpus`");
            None
        }
        Some(name) => {
            let found = Corpus::from_name(name);
            if found.is_none() {
                let names: Vec<&str> = Corpus::ALL.iter().map(|c| c.name()).collect();
                cx.error_help(
                    &path.key("corpus"),
                    Anchor::Value,
                    format!(
                        "unknown corpus `{name}`; expected one of {}",
                        backticked(&names)
                    ),
                    did_you_mean(name, names.iter().copied()),
                );
            }
            found
        }
    };
    let len = match raw.len {
        None => {
            cx.error(
                path,
                Anchor::Key,
                "`echo` needs `len`, the bytes of each message",
            );
            None
        }
        Some(n) if n > MAX_GENERATED_LEN => {
            cx.error(
                &path.key("len"),
                Anchor::Value,
                format!("`len` is at most {MAX_GENERATED_LEN}"),
            );
            None
        }
        Some(n) => Some(n as usize),
    };
    let count = match raw.count {
        None | Some(0) => {
            cx.error(
                path,
                Anchor::Key,
                "`echo` needs `count`, a number of at least 1",
            );
            None
        }
        c => c,
    };
    let fragment_size = raw
        .fragment_size
        .and_then(|n| super::send::fragment_size_value(cx, path, n));
    let timeout = duration(cx, &path.key("timeout"), &raw.timeout);
    if cx.error_count() > errors {
        return None;
    }
    Some(Echo {
        corpus: corpus?,
        len: len?,
        count: count?,
        fragment_size,
        timeout,
    })
}

fn convert_close_call(cx: &mut Context<'_>, path: &YamlPath, value: &Value) -> Option<CloseCall> {
    if value.is_null() {
        return Some(CloseCall::default());
    }
    let raw: RawCloseCall = cx.deserialize(path, value.clone())?;
    let code = match raw.code {
        Some(c) => Some(cx.check(&path.key("code"), parse_close_code(c))?),
        None => None,
    };
    Some(CloseCall {
        code,
        reason: raw.reason.unwrap_or_default(),
    })
}
