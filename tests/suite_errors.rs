//! One row per validation error not already pinned by a fixture: the YAML that causes it, the
//! start of the message, and the exact text the caret must underline. Each row must produce
//! exactly one diagnostic: a mistake is reported once, without follow-on noise.

use wsprobe::suite::{self, Diagnostic, Source};

/// A suite whose single case has one extra `case_line` (after `spec`) and one extra step.
fn suite_with(case_line: &str, step: &str) -> String {
    format!(
        "suite: t\ntitle: t\ncases:\n  - id: t.case\n    title: t\n    spec: s\n    {case_line}\n    steps:\n      - connect\n      {step}\n"
    )
}

fn diagnostics(text: &str) -> Vec<Diagnostic> {
    match suite::load(&[Source {
        path: "t.yaml".into(),
        text: text.into(),
    }]) {
        Ok(_) => panic!("loaded without diagnostics:\n{text}"),
        Err(d) => d,
    }
}

fn underlined(d: &Diagnostic) -> String {
    let line = d.source_line.as_deref().unwrap_or_default();
    let start = d.column.unwrap_or(1) as usize - 1;
    line.chars().skip(start).take(d.caret_len).collect()
}

fn check(text: &str, line: u32, message: &str, caret: &str) {
    let ds = diagnostics(text);
    let all: Vec<String> = ds.iter().map(|d| d.render()).collect();
    assert_eq!(
        ds.len(),
        1,
        "expected one diagnostic for\n{text}\ngot:\n{}",
        all.join("\n\n")
    );
    let d = &ds[0];
    assert!(
        d.message.starts_with(message),
        "message {:?} does not start with {message:?}",
        d.message
    );
    assert_eq!(d.line, Some(line), "{}", all[0]);
    assert_eq!(underlined(d), caret, "{}", all[0]);
}

#[test]
fn step_errors() {
    let rows: &[(&str, &str, &str)] = &[
        (
            "- { connect: { as: a }, conn: b }",
            "`conn: b` and `as: a` name different connections",
            "b",
        ),
        (
            "- connect: { raw: \"GET / HTTP/1.1\", method: POST }",
            "`method` has no effect with `raw`",
            "method",
        ),
        (
            "- connect: { omit: [cookie] }",
            "cannot omit `cookie`",
            "cookie",
        ),
        (
            "- connect: { headers: [[a]] }",
            "a header is `[name, value]`",
            "[a]",
        ),
        (
            "- connect: { expect: { headers: [a] } }",
            "expected `headers` is a mapping of name to value, not a list",
            "[a]",
        ),
        (
            "- send: { ping: p, fragment_size: 2 }",
            "`fragment_size` splits text and binary messages, not `ping`",
            "fragment_size",
        ),
        (
            "- send: { text: p, fragment_size: 0 }",
            "`fragment_size` must be at least 1",
            "0",
        ),
        (
            "- send: { close: { reason: x } }",
            "a close reason needs a `code`",
            "reason",
        ),
        (
            "- send: { close: { code: 1000, payload: \"x\" } }",
            "`payload` replaces `code` and `reason`",
            "payload",
        ),
        ("- send: { frames: [] }", "`frames` is empty", "frames"),
        (
            "- send: { frame: { fin: true } }",
            "frame has no `opcode`",
            "{ fin: true }",
        ),
        (
            "- send: { frame: { opcode: text, length: 32 } }",
            "length is `minimal`",
            "32",
        ),
        (
            "- send: { frame: { opcode: text, mask: 1234 } }",
            "mask `1234` is not",
            "1234",
        ),
        (
            "- send: { frames: [ { opcode: text, fin: 3 } ] }",
            "expected a boolean for `fin`, found integer `3`",
            "3",
        ),
        (
            "- send: { text: a, chop: 0 }",
            "chop size 0 must be at least 1",
            "0",
        ),
        (
            "- send: { text: a, delay: soon }",
            "duration 'soon' needs a unit",
            "soon",
        ),
        (
            "- send: { text: { txt: a } }",
            "unknown key `txt` in `text`",
            "txt",
        ),
        (
            "- send: { text: [a] }",
            "expected a string or a payload mapping",
            "[a]",
        ),
        (
            "- expect: { dropped: false }",
            "`dropped: false` expects nothing",
            "false",
        ),
        (
            "- expect: { sequence: [] }",
            "`sequence` is empty",
            "sequence",
        ),
        (
            "- expect: { any_of: [] }",
            "`any_of` has no alternatives",
            "any_of",
        ),
        (
            "- expect: { sequence: [{dropped: true}], any_of: [{dropped: true}] }",
            "`expect` has both `sequence` and `any_of`",
            "any_of",
        ),
        (
            "- expect: { timeout: 1s }",
            "`expect` needs a matcher",
            "{ timeout: 1s }",
        ),
        (
            "- expect: { sequence: [ { dropped: true, verdict: OK } ] }",
            "unknown key `verdict` in `sequence` item",
            "verdict",
        ),
        (
            "- expect: { any_of: [ { verdict: OK } ] }",
            "alternative needs a matcher",
            "{ verdict: OK }",
        ),
        (
            "- expect: { message: { text: a, opcode: text } }",
            "`opcode` is implied by `text`",
            "opcode",
        ),
        (
            "- expect: { message: { opcode: ping } }",
            "a message is text or binary, not `ping`",
            "ping",
        ),
        (
            "- expect: { message: { text: a, binary: b } }",
            "message matcher has both `text` and `binary`",
            "binary",
        ),
        (
            "- expect: { message: { text: a, len: 1 } }",
            "`len` and `text` both given",
            "len",
        ),
        (
            "- expect: { close: { code: abc } }",
            "a close code is a number or `~`",
            "abc",
        ),
        (
            "- expect: { close: { code: [] } }",
            "`code` list is empty",
            "[]",
        ),
        (
            "- expect: { events: [opne] }",
            "unknown event `opne`",
            "opne",
        ),
        (
            "- expect: { events: [{ open: 1 }] }",
            "the `open` event has no fields",
            "1",
        ),
        (
            "- expect: { events: open }",
            "`events` is a list of events, not a string",
            "open",
        ),
        ("- expect: { state: 7 }", "unknown readyState `7`", "7"),
        (
            "- expect: { fail: { codes: [70000] } }",
            "close code 70000 is out of range",
            "70000",
        ),
        (
            "- expect: { nothing: forever }",
            "duration 'forever' needs a unit",
            "forever",
        ),
        (
            "- expect: \"{then}\"",
            "`expect` needs a mapping",
            "\"{then}\"",
        ),
        (
            "- close: { code: 99999 }",
            "close code 99999 is out of range",
            "99999",
        ),
        (
            "- repeat: { times: 0, steps: [ { wait: 1s } ] }",
            "`repeat` needs `times`, a number of at least 1",
            "{ times: 0, steps: [ { wait: 1s } ] }",
        ),
        (
            "- repeat: { times: 2 }",
            "`repeat` needs `steps`",
            "{ times: 2 }",
        ),
        (
            "- repeat: { times: 2, steps: [] }",
            "`steps` is empty",
            "steps",
        ),
        ("- [a]", "a step is a mapping with one action", "[a]"),
        (
            "- { wait: 1s, conn: [x] }",
            "`conn` is a connection name",
            "[x]",
        ),
        (
            "- { mark: A, conn: other }",
            "connection `other` is not opened",
            "other",
        ),
    ];
    for (step, message, caret) in rows {
        check(&suite_with("level: MUST", step), 10, message, caret);
    }
}

#[test]
fn case_errors() {
    let rows: &[(&str, &str, &str)] = &[
        (
            "ignore: [close]",
            "cannot ignore `close`; expected ping or pong",
            "close",
        ),
        (
            "closing: { initiator: clinet }",
            "unknown initiator `clinet`",
            "clinet",
        ),
        (
            "closing: { codes: [1000000] }",
            "close code 1000000 is out of range",
            "1000000",
        ),
        (
            "closing: { clean: maybe }",
            "expected a boolean for `clean`",
            "maybe",
        ),
        (
            "skip: true",
            "expected a string for `skip`, found boolean `true`",
            "true",
        ),
        ("tags: tag", "expected a sequence for `tags`", "tag"),
        ("deadline: 2h", "duration '2h' needs a unit", "2h"),
        (
            "level: should-not",
            "unknown level `should-not`",
            "should-not",
        ),
        ("stesp: []", "unknown key `stesp` in case", "stesp"),
        ("params: 3", "`params` is a number", "3"),
        ("params: []", "`params` has no rows", "params"),
        ("params: [1]", "params row 1 is a number", "1"),
        (
            "params: [{1x: a}]",
            "parameter name `1x` is not a name",
            "1x",
        ),
        (
            "params: [{x: a}]",
            "parameter `x` is not used by the template",
            "x",
        ),
    ];
    for (case_line, message, caret) in rows {
        check(&suite_with(case_line, "- wait: 1s"), 7, message, caret);
    }
}

#[test]
fn suite_errors() {
    let case = "cases: [{ id: a, title: t, spec: s, steps: [connect] }]";
    let rows: &[(&str, u32, &str, &str)] = &[
        (
            "suite: s\ntitle: t\ndefaults: { level: MAYBE }\n",
            3,
            "unknown level `MAYBE`",
            "MAYBE",
        ),
        (
            "suite: s\ntitle: t\ndefaults: { timeout: 3 }\n",
            3,
            "duration '3' needs a unit",
            "3",
        ),
        (
            "suite: s\ntitle: t\ndefaults: { retries: 3 }\n",
            3,
            "unknown key `retries` in `defaults`",
            "retries",
        ),
        (
            "suite: s\ntitle: t\ntags: [a, [2]]\n",
            3,
            "expected a string for `tags[1]`",
            "[2]",
        ),
        (
            "suite: s\ntitle: [t]\n",
            2,
            "expected a string for `title`",
            "[t]",
        ),
        (
            "suite: s\ntitle: t\nversion: one\n",
            3,
            "unsupported suite format version",
            "one",
        ),
        (
            "suite: s\ntitle: t\ncases: {}\n",
            3,
            "`cases` is a list of cases, not a mapping",
            "{}",
        ),
    ];
    for (head, line, message, caret) in rows {
        let text = if head.contains("cases:") {
            head.to_string()
        } else {
            format!("{head}{case}\n")
        };
        check(&text, *line, message, caret);
    }
}

#[test]
fn template_errors_in_row_values_and_in_strings() {
    // a row value spliced into a longer string must be a scalar
    check(
        &suite_with("params: [{ n: [1] }]", "- send: { text: \"x{n}\" }"),
        10,
        "parameter `n` of params row 1 is a list",
        "\"x{n}\"",
    );
    // an error shared by every row is reported once, without a row note
    let text = suite_with("params: [{ n: a }, { n: b }]", "- sned: \"{n}\"");
    let ds = diagnostics(&text);
    assert_eq!(ds.len(), 1, "{ds:#?}");
    assert_eq!(ds[0].help.as_deref(), Some("did you mean `send`?"));
    // an error only one row causes says which row, when the caret is in the template
    let text = suite_with(
        "params: [{ h: \"61\" }, { h: \"6\" }]",
        "- send: { text: { hex: \"{h}x\" } }",
    );
    let ds = diagnostics(&text);
    assert_eq!(ds.len(), 2, "{ds:#?}");
    let text = suite_with(
        "params: [{ h: \"61\" }, { h: \"zz\" }]",
        "- send: { text: { hex: \"{h}00\" } }",
    );
    let ds = diagnostics(&text);
    assert_eq!(ds.len(), 1, "{ds:#?}");
    assert_eq!(
        ds[0].help.as_deref(),
        Some("in the case from `params` row 2")
    );
}

/// `peer`, `connect.respond` and the initiator names of the client role.
#[test]
fn client_role_errors() {
    // (case line, extra step, message, caret, help)
    let rows: &[(&str, &str, &str, &str, Option<&str>)] = &[
        (
            "peer: sever",
            "- wait: 1s",
            "unknown peer `sever`; expected server or client",
            "sever",
            Some("did you mean `server`?"),
        ),
        (
            "peer: []",
            "- wait: 1s",
            "`peer` is empty",
            "[]",
            Some("e.g. peer: [server, client]"),
        ),
        (
            "peer: [client, Client]",
            "- wait: 1s",
            "`client` is listed twice in `peer`",
            "Client",
            None,
        ),
        (
            "peer: { a: 1 }",
            "- wait: 1s",
            "expected a string or a number for `peer`",
            "{ a: 1 }",
            None,
        ),
        (
            "closing: { initiator: wsporbe }",
            "- wait: 1s",
            "unknown initiator `wsporbe`; expected any, wsprobe or peer",
            "wsporbe",
            Some("did you mean `wsprobe`?"),
        ),
        // `respond` without `peer: client`: the case judges servers only by default.
        (
            "level: MUST",
            "- connect: { as: b, respond: { status: 200 } }",
            "`respond` answers a client's handshake, but this case also judges servers",
            "respond",
            Some("cases judge servers unless they say `peer: client`"),
        ),
        (
            "peer: [client, server]",
            "- connect: { as: b, respond: {} }",
            "`respond` answers a client's handshake, but this case also judges servers",
            "respond",
            Some("write `peer: client` for this case"),
        ),
        // A request or a response expectation in a case that judges clients.
        (
            "peer: client",
            "- connect: { as: b, path: /chat }",
            "`path` shapes the request wsprobe sends to a server, but this case also judges clients",
            "path",
            Some("write `peer: server` for this case"),
        ),
        (
            "peer: [server, client]",
            "- connect: { as: b, expect: { status: 101 } }",
            "`expect` judges a server's handshake response, but this case also judges clients",
            "expect",
            Some("write `peer: server` for this case"),
        ),
        (
            "peer: client",
            "- repeat: { times: 2, steps: [ { connect: { as: b, headers: { X-A: \"1\" } } } ] }",
            "`headers` shapes the request",
            "headers",
            None,
        ),
        // `respond` values.
        (
            "peer: client",
            "- connect: { as: b, respond: { status: 99 } }",
            "`status` is a three-digit status code (100–999)",
            "99",
            None,
        ),
        (
            "peer: client",
            "- connect: { as: b, respond: { raw: \"HTTP/1.1 101 x\\r\\n\\r\\n\", reason: OK } }",
            "`reason` has no effect with `raw`, which is sent verbatim",
            "reason",
            Some("`after` still follows a raw response"),
        ),
        (
            "peer: client",
            "- connect: { as: b, respond: { omit: [upgrade, host] } }",
            "cannot omit `host` from a response; expected one of `upgrade`, `connection` or `accept`",
            "host",
            None,
        ),
        (
            "peer: client",
            "- connect: { as: b, respond: { omit: [accept], accept: x } }",
            "`accept` gives a value to a header `omit` leaves out",
            "accept",
            Some("keep one of them"),
        ),
        (
            "peer: client",
            "- connect: { as: b, respond: { accept: \"{accept_lowr}\" } }",
            "unknown placeholder `{accept_lowr}`",
            "\"{accept_lowr}\"",
            Some("did you mean `accept_lower`?"),
        ),
        (
            "peer: client",
            "- connect: { as: b, respond: { headers: [[X-A, \"{nonce}\"]] } }",
            "unknown placeholder `{nonce}`",
            "[[X-A, \"{nonce}\"]]",
            None,
        ),
        (
            "peer: client",
            "- connect: { as: b, respond: { stauts: 200 } }",
            "unknown key `stauts` in `respond`",
            "stauts",
            Some("did you mean `status`?"),
        ),
        (
            "peer: client",
            "- connect: { as: b, respond: { after: { hex: \"8\" } } }",
            "invalid hex `8`: odd number of digits",
            "\"8\"",
            Some("each byte takes two digits"),
        ),
    ];
    for (case_line, step, message, caret, help) in rows {
        let text = suite_with(case_line, step);
        let ds = diagnostics(&text);
        let line = if ds.first().and_then(|d| d.line) == Some(7) {
            7
        } else {
            10
        };
        check(&text, line, message, caret);
        if let Some(help) = help {
            assert_eq!(ds[0].help.as_deref(), Some(*help), "{}", ds[0].render());
        }
    }
}

/// A `peer` from `defaults` applies to every case, and the help says where it came from.
#[test]
fn peer_from_defaults_is_named_in_the_help() {
    let text = "suite: s\ntitle: t\ndefaults:\n  peer: [server, client]\ncases:\n  - id: a\n    title: t\n    spec: s\n    steps:\n      - connect: { origin: \"http://x\" }\n";
    check(
        text,
        10,
        "`origin` shapes the request wsprobe sends to a server, but this case also judges clients",
        "origin",
    );
    let ds = diagnostics(text);
    assert_eq!(
        ds[0].help.as_deref(),
        Some("`peer` comes from `defaults`; add `peer: server` to this case")
    );
    check(
        "suite: s\ntitle: t\ndefaults: { peer: [server, clinet] }\ncases: [{ id: a, title: t, spec: s, steps: [connect] }]\n",
        3,
        "unknown peer `clinet`",
        "clinet",
    );
}
