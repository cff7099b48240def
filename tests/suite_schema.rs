//! `schema/suite-v1.json` (for editors) must stay in step with the loader: same keys at every
//! level. The loader's behaviour is tested elsewhere; this guards against the schema drifting.

use std::collections::BTreeSet;

use serde_json::Value;

fn schema() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/suite-v1.json");
    let text = std::fs::read_to_string(path).expect("schema is readable");
    serde_json::from_str(&text).expect("schema is valid JSON")
}

fn keys(object: &Value) -> BTreeSet<String> {
    object["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("no properties in {object}"))
        .keys()
        .cloned()
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// The object alternative of an `anyOf` definition.
fn object_of(def: &Value) -> &Value {
    def["anyOf"]
        .as_array()
        .and_then(|alts| alts.iter().find(|a| a["type"] == "object"))
        .unwrap_or(def)
}

#[test]
fn schema_is_draft_2020_12_and_closed() {
    let s = schema();
    assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert_eq!(s["additionalProperties"], false);
    assert_eq!(
        keys(&s),
        set(&[
            "version",
            "suite",
            "title",
            "spec",
            "description",
            "tags",
            "defaults",
            "cases"
        ])
    );
}

#[test]
fn schema_keys_match_the_loader() {
    let s = schema();
    let d = &s["$defs"];
    assert_eq!(
        keys(&d["case"]),
        set(&[
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
            "params"
        ])
    );
    assert_eq!(
        keys(&d["defaults"]),
        set(&[
            "timeout",
            "deadline",
            "level",
            "ignore",
            "closing",
            "redact_headers",
            "extensions",
            "peer"
        ])
    );
    assert_eq!(
        keys(object_of(&d["step"])),
        set(&[
            "connect", "send", "expect", "close", "wait", "mark", "repeat", "echo", "conn"
        ])
    );
    assert_eq!(
        keys(object_of(&d["send"])),
        set(&[
            "text",
            "binary",
            "ping",
            "pong",
            "close",
            "frame",
            "frames",
            "raw",
            "http2",
            "fragment_size",
            "chop",
            "delay",
            "compress",
            "deflate"
        ])
    );
    assert_eq!(
        keys(&d["frame"]),
        set(&["fin", "rsv", "opcode", "mask", "length", "payload"])
    );
    let matchers = [
        "message", "frame", "ping", "pong", "close", "fail", "dropped", "nothing", "state",
        "events", "marker",
    ];
    let mut expect_keys = matchers.to_vec();
    expect_keys.extend(["timeout", "sequence", "any_of"]);
    assert_eq!(keys(object_of(&d["expect"])), set(&expect_keys));
    assert_eq!(
        d["matcherBodies"]
            .as_object()
            .expect("matcherBodies")
            .keys()
            .cloned()
            .collect::<BTreeSet<_>>(),
        set(&matchers)
    );
    assert_eq!(
        keys(object_of(&d["connect"])),
        set(&[
            "as",
            "path",
            "method",
            "http_version",
            "host",
            "key",
            "version",
            "origin",
            "protocols",
            "extensions",
            "omit",
            "headers",
            "body",
            "raw",
            "abort",
            "chop",
            "timeout",
            "expect",
            "respond",
            "http2"
        ])
    );
    let respond = &object_of(&d["connect"])["properties"]["respond"];
    assert_eq!(
        keys(respond),
        set(&[
            "status",
            "reason",
            "http_version",
            "accept",
            "omit",
            "headers",
            "protocol",
            "extensions",
            "after",
            "raw"
        ])
    );
    assert_eq!(
        d["closing"]["properties"]["initiator"]["enum"],
        serde_json::json!(["any", "wsprobe", "peer", "client", "server"])
    );
}
