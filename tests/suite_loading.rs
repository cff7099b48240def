//! Loading valid suites: the full-feature fixture becomes exactly the expected model, shipped
//! suites load cleanly, and checks that span several sources work.

use std::path::{Path, PathBuf};
use std::time::Duration;

use wsprobe::suite::model::{
    AltVerdict, Chop, CloseCall, CloseMatch, CloseSpec, EventMatch, FrameDef, FrameMatch, Ignore,
    Initiator, MaskSpec, Matcher, MessageMatch, Payload, ReadyState, SendWhat, StatusPattern, Step,
    StepKind, Suite,
};
use wsprobe::suite::{self, Source};
use wsprobe::wire::{LengthEncoding, LengthSpec, Level, Opcode};

fn manifest(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn load_text(name: &str, text: &str) -> Result<Vec<Suite>, Vec<suite::Diagnostic>> {
    suite::load(&[Source {
        path: name.into(),
        text: text.into(),
    }])
}

fn load_example() -> Suite {
    let sources = suite::read_paths(&[manifest("fixtures/suites-valid/example.yaml")])
        .unwrap_or_else(|d| panic!("{}", d[0].render()));
    let mut suites = suite::load(&sources).unwrap_or_else(|ds| {
        panic!(
            "{}",
            ds.iter()
                .map(|d| d.render())
                .collect::<Vec<_>>()
                .join("\n\n")
        )
    });
    assert_eq!(suites.len(), 1);
    suites.remove(0)
}

fn bytes(b: &[u8]) -> Payload {
    Payload::Bytes(b.to_vec())
}

fn send(step: &Step) -> &wsprobe::suite::model::Send {
    match &step.kind {
        StepKind::Send(s) => s,
        other => panic!("expected send, got {other:?}"),
    }
}

/// The single matcher of a plain expect step.
fn matcher(step: &Step) -> &Matcher {
    match &step.kind {
        StepKind::Expect(e) => {
            assert_eq!(e.alternatives.len(), 1);
            assert_eq!(e.alternatives[0].verdict, AltVerdict::Ok);
            assert_eq!(e.alternatives[0].sequence.len(), 1);
            &e.alternatives[0].sequence[0]
        }
        other => panic!("expected expect, got {other:?}"),
    }
}

#[test]
fn example_suite_metadata_and_defaults() {
    let s = load_example();
    assert_eq!(s.id, "example");
    assert_eq!(s.title, "every feature of the suite format");
    assert_eq!(s.spec.as_deref(), Some("RFC 6455"));
    let ids: Vec<&str> = s.cases.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "example.handshake",
            "example.sends",
            "example.expects",
            "utf8.6.5.1",
            "utf8.6.6.1"
        ]
    );
    // example.sends takes every default from `defaults:`.
    let c = &s.cases[1];
    assert_eq!(c.suite, "example");
    assert_eq!(c.level, Level::Should);
    assert_eq!(c.timeout, Duration::from_secs(1));
    assert_eq!(c.deadline, Duration::from_secs(20));
    assert_eq!(c.ignore, vec![Ignore::Ping]);
    assert_eq!(c.closing.initiator, Initiator::Client);
    assert!(c.closing.clean);
    assert_eq!(c.closing.codes, vec![1000]);
    assert_eq!(c.tags, vec!["example"]);
    assert_eq!(c.skip.as_deref(), Some("not a real case"));
    assert_eq!(c.location.line, 57);
    assert_eq!(c.location.column, 5);
    assert!(
        c.location
            .file
            .ends_with("fixtures/suites-valid/example.yaml")
    );
    assert_eq!(s.cases[2].level, Level::Info);
}

#[test]
fn example_handshake_case() {
    let s = load_example();
    let c = &s.cases[0];
    assert_eq!(c.title, "a handshake with every option");
    assert_eq!(c.spec, "RFC 6455 §4.1");
    assert_eq!(c.level, Level::Must);
    assert_eq!(c.autobahn.as_deref(), Some("1.1.1"));
    assert_eq!(c.description.as_deref(), Some("longer text"));
    assert_eq!(c.tags, vec!["example", "handshake"]);
    assert_eq!(c.timeout, Duration::from_millis(500));
    assert_eq!(c.deadline, Duration::from_secs(10));
    assert!(c.ignore.is_empty());
    // a case's closing replaces the default whole
    assert_eq!(c.closing.initiator, Initiator::Server);
    assert!(!c.closing.clean);
    assert_eq!(c.closing.codes, vec![1002, 1007]);
    assert!(c.closing.informational);

    assert_eq!(c.steps.len(), 5);
    let StepKind::Connect(k) = &c.steps[0].kind else {
        panic!("connect expected")
    };
    assert_eq!(c.steps[0].conn, "main");
    assert_eq!(
        (c.steps[0].location.line, c.steps[0].location.column),
        (28, 9)
    );
    assert_eq!(k.path.as_deref(), Some("/chat?room=1"));
    assert_eq!(k.method.as_deref(), Some("GET"));
    assert_eq!(k.http_version.as_deref(), Some("HTTP/1.1"));
    assert_eq!(k.host.as_deref(), Some("example.org"));
    assert_eq!(k.key.as_deref(), Some("dGhlIHNhbXBsZSBub25jZQ=="));
    assert_eq!(k.version.as_deref(), Some("13"));
    assert_eq!(k.origin.as_deref(), Some("http://example.org"));
    assert_eq!(k.protocols, vec!["chat", "superchat"]);
    assert_eq!(
        k.extensions.as_deref(),
        Some(&["permessage-deflate; client_max_window_bits".to_string()][..])
    );
    assert_eq!(k.omit, vec!["connection"]);
    assert_eq!(
        k.headers,
        vec![
            ("X-Custom".to_string(), "1".to_string()),
            ("X-Other".to_string(), "2".to_string())
        ]
    );
    assert_eq!(k.body, Some(bytes(b"unexpected")));
    assert_eq!(k.raw, None);
    assert_eq!(k.chop, Some(Chop::Size(1)));
    assert_eq!(k.timeout, Some(Duration::from_secs(2)));
    let e = &k.expect;
    assert_eq!(
        e.status,
        vec![StatusPattern::Exact(101), StatusPattern::Class(4)]
    );
    assert_eq!(
        e.headers,
        vec![
            ("Sec-WebSocket-Version".to_string(), Some("13".to_string())),
            ("Upgrade".to_string(), None)
        ]
    );
    assert_eq!(e.absent, vec!["Sec-WebSocket-Extensions"]);
    assert_eq!(e.protocol, Some(Some("chat".to_string())));
    assert_eq!(e.extensions, Some(vec![]));
    assert_eq!(e.requires_extension.as_deref(), Some("permessage-deflate"));

    let StepKind::Connect(raw) = &c.steps[1].kind else {
        panic!("connect expected")
    };
    assert_eq!(c.steps[1].conn, "second");
    assert_eq!(
        raw.raw.as_deref(),
        Some("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n")
    );
    assert_eq!(raw.expect.protocol, Some(None));
    assert!(raw.expect.status.is_empty());

    let StepKind::Close(call) = &c.steps[2].kind else {
        panic!("close expected")
    };
    assert_eq!(
        *call,
        CloseCall {
            code: Some(1000),
            reason: "done".into()
        }
    );
    assert!(matches!(&c.steps[3].kind, StepKind::Close(c) if *c == CloseCall::default()));
    assert_eq!(c.steps[3].conn, "second");
    assert!(matches!(&c.steps[4].kind, StepKind::Close(c) if *c == CloseCall::default()));
    assert_eq!(c.steps[4].conn, "main");
}

#[test]
fn example_send_forms() {
    let s = load_example();
    let steps = &s.cases[1].steps;
    assert!(matches!(&steps[0].kind, StepKind::Connect(_)));

    let hello = send(&steps[1]);
    assert!(matches!(&hello.what, SendWhat::Text(p) if *p == bytes(b"Hello")));
    assert_eq!(hello.fragment_size, Some(2));
    assert_eq!(hello.chop, Some(Chop::Sizes(vec![2, 5])));
    assert_eq!(hello.delay, Some(Duration::from_millis(10)));

    let hex = send(&steps[2]);
    assert!(matches!(&hex.what, SendWhat::Binary(p) if *p == bytes(&[1, 2])));
    assert_eq!(hex.chop, Some(Chop::PerFrame));
    assert!(matches!(&send(&steps[3]).what, SendWhat::Binary(p) if *p == bytes(&[1, 2])));
    assert!(matches!(
        &send(&steps[4]).what,
        SendWhat::Text(Payload::Repeat { unit, len: 10 }) if unit == b"*"
    ));
    assert!(matches!(
        &send(&steps[5]).what,
        SendWhat::Binary(Payload::Repeat { unit, len: 3 }) if unit == &[0xfe]
    ));
    assert!(matches!(&send(&steps[6]).what, SendWhat::Ping(p) if *p == bytes(b"p")));
    assert!(matches!(&send(&steps[7]).what, SendWhat::Pong(p) if p.is_empty()));
    let close = |i: usize| match &send(&steps[i]).what {
        SendWhat::Close(c) => c.clone(),
        other => panic!("close expected, got {other:?}"),
    };
    assert_eq!(
        close(8),
        CloseSpec {
            code: Some(1000),
            reason: bytes(b"bye"),
            payload: None
        }
    );
    assert_eq!(close(9), CloseSpec::default());
    assert_eq!(
        close(10),
        CloseSpec {
            code: None,
            reason: Payload::default(),
            payload: Some(bytes(&[3]))
        }
    );

    let frames = |i: usize| match &send(&steps[i]).what {
        SendWhat::Frames(f) => f.clone(),
        other => panic!("frames expected, got {other:?}"),
    };
    assert_eq!(
        frames(11),
        vec![FrameDef {
            fin: false,
            rsv: 4,
            opcode: Opcode::Text,
            mask: MaskSpec::None,
            length: LengthSpec::Force16,
            payload: bytes(b"frag"),
        }]
    );
    assert_eq!(
        frames(12),
        vec![
            FrameDef {
                fin: true,
                rsv: 3,
                opcode: Opcode::Continuation,
                mask: MaskSpec::Key([0x0a, 0x0b, 0x0c, 0x0d]),
                length: LengthSpec::LieWith(LengthEncoding::Len64, 200),
                payload: bytes(b"ment"),
            },
            FrameDef {
                fin: true,
                rsv: 0,
                opcode: Opcode::ReservedControl(0xb),
                mask: MaskSpec::Auto,
                length: LengthSpec::Lie(5),
                payload: Payload::default(),
            },
            FrameDef {
                fin: true,
                rsv: 0,
                opcode: Opcode::ReservedData(3),
                mask: MaskSpec::Auto,
                length: LengthSpec::Force64,
                payload: Payload::default(),
            },
        ]
    );
    assert!(matches!(
        &send(&steps[13]).what,
        SendWhat::Raw(p) if *p == bytes(&[0x88, 0x82, 0xaa, 0xbb, 0xcc, 0xdd])
    ));
    assert!(matches!(&steps[14].kind, StepKind::Wait(d) if *d == Duration::from_millis(100)));
    assert!(matches!(&steps[15].kind, StepKind::Mark(m) if m == "A"));
    let StepKind::Repeat { times, steps: body } = &steps[16].kind else {
        panic!("repeat expected")
    };
    assert_eq!(*times, 3);
    assert_eq!(body.len(), 2);
    assert!(matches!(&send(&body[0]).what, SendWhat::Text(p) if *p == bytes(b"x")));
    assert_eq!(body[1].location.line, steps[16].location.line);
}

#[test]
fn example_matchers() {
    let s = load_example();
    let steps = &s.cases[2].steps;
    let text = |t: &[u8]| MessageMatch {
        opcode: Some(Opcode::Text),
        data: Some(bytes(t)),
        len: None,
        compressed: None,
    };
    assert_eq!(*matcher(&steps[1]), Matcher::Message(text(b"Hello")));
    assert_eq!(
        *matcher(&steps[2]),
        Matcher::Message(MessageMatch {
            opcode: Some(Opcode::Binary),
            data: Some(Payload::Repeat {
                unit: vec![0xfe],
                len: 65536,
            }),
            len: None,
            compressed: None,
        })
    );
    assert_eq!(
        *matcher(&steps[3]),
        Matcher::Message(MessageMatch {
            opcode: Some(Opcode::Text),
            data: None,
            len: Some(4_194_304),
            compressed: None,
        })
    );
    assert_eq!(
        *matcher(&steps[4]),
        Matcher::Message(text(&[0xce, 0xba, 0xe1]))
    );
    assert_eq!(
        *matcher(&steps[5]),
        Matcher::Message(MessageMatch::default())
    );
    assert_eq!(*matcher(&steps[6]), Matcher::Pong(Some(bytes(b"p"))));
    assert_eq!(*matcher(&steps[7]), Matcher::Ping(None));
    assert_eq!(*matcher(&steps[8]), Matcher::Pong(None));
    assert_eq!(
        *matcher(&steps[9]),
        Matcher::Frame(FrameMatch {
            opcode: Some(Opcode::Text),
            fin: Some(true),
            rsv: Some(0),
            masked: Some(false),
            len: Some(5),
            payload: Some(bytes(b"Hello")),
        })
    );
    assert_eq!(
        *matcher(&steps[10]),
        Matcher::Close(CloseMatch {
            codes: vec![1000],
            no_code: false,
            reason: Some("bye".into()),
            clean: Some(true),
        })
    );
    assert_eq!(
        *matcher(&steps[11]),
        Matcher::Close(CloseMatch {
            codes: vec![1000, 1001],
            ..CloseMatch::default()
        })
    );
    let Matcher::Close(no_code) = matcher(&steps[12]) else {
        panic!("close expected")
    };
    assert!(no_code.no_code && no_code.codes.is_empty());
    assert!(no_code.accepts(None) && !no_code.accepts(Some(1000)));
    assert_eq!(*matcher(&steps[13]), Matcher::Fail { codes: vec![1002] });
    assert_eq!(*matcher(&steps[14]), Matcher::Fail { codes: vec![] });
    assert_eq!(*matcher(&steps[15]), Matcher::Dropped);
    assert_eq!(
        *matcher(&steps[16]),
        Matcher::Nothing(Duration::from_millis(500))
    );
    assert_eq!(*matcher(&steps[17]), Matcher::State(ReadyState::Closed));
    assert_eq!(*matcher(&steps[18]), Matcher::State(ReadyState::Open));
    assert_eq!(
        *matcher(&steps[19]),
        Matcher::Events(vec![
            EventMatch::Open,
            EventMatch::Message(text(b"1")),
            EventMatch::Error,
            EventMatch::Close {
                code: Some(1000),
                reason: None,
                was_clean: Some(true)
            },
        ])
    );
    assert_eq!(*matcher(&steps[20]), Matcher::Marker("A".into()));
    let StepKind::Expect(timed) = &steps[21].kind else {
        panic!("expect expected")
    };
    assert_eq!(timed.timeout, Some(Duration::from_secs(2)));
    let StepKind::Expect(seq) = &steps[22].kind else {
        panic!("expect expected")
    };
    assert_eq!(seq.timeout, None);
    assert_eq!(seq.alternatives.len(), 1);
    assert_eq!(
        seq.alternatives[0].sequence,
        vec![
            Matcher::Message(text(b"a")),
            Matcher::Fail { codes: vec![1002] }
        ]
    );
    let StepKind::Expect(any) = &steps[23].kind else {
        panic!("expect expected")
    };
    assert_eq!(any.timeout, Some(Duration::from_secs(1)));
    let verdicts: Vec<AltVerdict> = any.alternatives.iter().map(|a| a.verdict).collect();
    assert_eq!(
        verdicts,
        [
            AltVerdict::Ok,
            AltVerdict::NonStrict,
            AltVerdict::Informational
        ]
    );
    assert_eq!(any.alternatives[0].sequence.len(), 2);
    assert_eq!(
        any.alternatives[1].sequence,
        vec![Matcher::Fail { codes: vec![1002] }]
    );
    assert_eq!(any.alternatives[2].sequence, vec![Matcher::Dropped]);
}

#[test]
fn example_template_expansion() {
    let s = load_example();
    let (a, b) = (&s.cases[3], &s.cases[4]);
    assert_eq!(a.autobahn.as_deref(), Some("6.5.1"));
    assert_eq!(a.title, "text message κόσμε");
    assert_eq!(b.title, "text message a lone 0xCE");
    // expanded cases keep the template's positions
    assert_eq!(a.location, b.location);
    assert_eq!(a.steps[1].location, b.steps[1].location);
    let hello = send(&a.steps[1]);
    let SendWhat::Text(p) = &hello.what else {
        panic!("text expected, got {:?}", hello.what)
    };
    // Kuhn's κόσμε, whose ό is U+1F79 (e1 bd b9)
    let kosme = [
        0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5,
    ];
    assert_eq!(p.to_bytes(), kosme);
    assert_eq!(hello.chop, Some(Chop::Size(1)));
    assert!(matches!(&send(&b.steps[1]).what, SendWhat::Text(p) if *p == bytes(&[0xce])));
    assert_eq!(
        *matcher(&a.steps[2]),
        Matcher::Message(MessageMatch {
            opcode: Some(Opcode::Text),
            data: Some(bytes(&kosme)),
            len: None,
            compressed: None,
        })
    );
    assert_eq!(*matcher(&b.steps[2]), Matcher::Fail { codes: vec![1007] });
    let StepKind::Connect(raw) = &b.steps[3].kind else {
        panic!("connect expected")
    };
    assert_eq!(raw.raw.as_deref(), Some("GET {path} HTTP/1.1\r\n\r\n"));
    assert_eq!(b.steps[3].conn, "raw");
}

#[test]
fn shipped_suites_load_without_diagnostics() {
    let embedded = suite::embedded();
    let mut paths: Vec<&Path> = embedded.iter().map(|s| s.path.as_path()).collect();
    let sorted = {
        let mut p = paths.clone();
        p.sort();
        p
    };
    assert_eq!(paths, sorted, "embedded suites are sorted by path");
    for source in &embedded {
        assert!(source.path.starts_with("suites"));
        assert!(!source.path.starts_with("suites/examples"));
    }
    // The embedded list matches suites/ on disk (top level only).
    let on_disk = match std::fs::read_dir(manifest("suites")) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
            .count(),
        Err(_) => 0,
    };
    assert_eq!(embedded.len(), on_disk);
    if let Err(ds) = suite::load(&embedded) {
        panic!(
            "{}",
            ds.iter()
                .map(|d| d.render())
                .collect::<Vec<_>>()
                .join("\n\n")
        );
    }
    // Every suite on disk, examples included, loads too.
    if manifest("suites").is_dir() {
        let sources = suite::read_paths(&[manifest("suites")]);
        if let Ok(sources) = sources {
            paths = sources.iter().map(|s| s.path.as_path()).collect();
            assert!(!paths.is_empty());
            if let Err(ds) = suite::load(&sources) {
                panic!(
                    "{}",
                    ds.iter()
                        .map(|d| d.render())
                        .collect::<Vec<_>>()
                        .join("\n\n")
                );
            }
        }
    }
}

const MINIMAL: &str = "\
suite: SUITE
title: t
cases:
  - id: shared.id
    title: t
    spec: RFC 6455 §5
    steps: [connect]
";

#[test]
fn duplicate_ids_across_files_point_at_the_second() {
    let sources = [
        Source {
            path: "a.yaml".into(),
            text: MINIMAL.replace("SUITE", "one"),
        },
        Source {
            path: "b.yaml".into(),
            text: MINIMAL.replace("SUITE", "one"),
        },
    ];
    let ds = suite::load(&sources).expect_err("duplicates");
    assert_eq!(ds.len(), 2, "{ds:?}");
    assert!(ds.iter().all(|d| d.file == Path::new("b.yaml")));
    assert_eq!(ds[0].message, "duplicate suite id `one`");
    assert_eq!(ds[0].help.as_deref(), Some("first defined at a.yaml:1:8"));
    assert_eq!(ds[1].message, "duplicate case id `shared.id`");
    assert_eq!(ds[1].help.as_deref(), Some("first defined at a.yaml:4:9"));
    assert_eq!((ds[1].line, ds[1].column), (Some(4), Some(9)));
}

#[test]
fn every_file_is_checked_and_diagnostics_are_ordered() {
    let sources = [
        Source {
            path: "a.yaml".into(),
            text: "suite: a\ntitle: t\ncases:\n  - { id: a.1, title: t, spec: s, steps: [ { sned: 1 } ] }\n  - { id: a.2, title: t, spec: s, stesp: [] }\n".into(),
        },
        Source {
            path: "b.yaml".into(),
            text: "suite: b\ntitle: [\n".into(),
        },
    ];
    let ds = suite::load(&sources).expect_err("errors");
    let summary: Vec<(String, Option<u32>)> = ds
        .iter()
        .map(|d| (d.file.display().to_string(), d.line))
        .collect();
    assert_eq!(
        summary,
        [
            ("a.yaml".to_string(), Some(4)),
            ("a.yaml".to_string(), Some(5)),
            ("b.yaml".to_string(), Some(3)),
        ],
        "{ds:#?}"
    );
}

#[test]
fn empty_and_odd_inputs_give_diagnostics() {
    let ds = load_text("e.yaml", "").expect_err("empty");
    assert_eq!(ds[0].render(), "error: suite file is empty\n  --> e.yaml");
    let ds = load_text("c.yaml", "# only a comment\n").expect_err("empty");
    assert_eq!(ds[0].message, "suite file is empty");
    assert!(load_text("s.yaml", "just a string").is_err());
    assert!(load_text("t.yaml", "!tag {a: 1}").is_err());
    assert!(load_text("k.yaml", "? [a, b]\n: c\n").is_err());
    assert!(load_text("m.yaml", "<<: {a: 1}\nsuite: x\n").is_err());
}

#[test]
fn hostile_inputs_never_panic() {
    let deep_map = "a:\n".to_string()
        + &(1..300)
            .map(|i| format!("{}a:\n", " ".repeat(i)))
            .collect::<String>();
    let inputs = [
        "[".repeat(100_000),
        "{".repeat(100_000),
        deep_map,
        "- ".repeat(10_000) + "x",
        "suite: a\ntitle: t\ncases:\n  - &c { id: a, title: t, spec: s, steps: [connect] }\n  - *c\n".to_string(),
        "suite: a\ntitle: t\ncases: [{id: \"{x}\", params: [{x: 1}, {x: 1}], title: t, spec: s, steps: [connect]}]\n".to_string(),
        "suite: a\ntitle: t\ncases: [{id: a, title: t, spec: s, steps: [{repeat: {times: 1, steps: [{repeat: {times: 1, steps: []}}]}}]}]\n".to_string(),
        "\u{feff}suite: a\r\ntitle: t\r\ncases: []\r\n".to_string(),
        "suite: a\ntitle: t\ncases:\n  - id: a\n    title: \"\\t\\u00e9\"\n    spec: s\n    steps:\n\t- connect\n".to_string(),
    ];
    for text in inputs {
        let _ = load_text("h.yaml", &text);
    }
}

#[test]
fn read_paths_walks_directories_and_reports_unreadable_paths() {
    let dir = tempfile::tempdir().expect("temp dir");
    let nested = dir.path().join("nested");
    std::fs::create_dir(&nested).expect("mkdir");
    std::fs::write(dir.path().join("b.yaml"), "b").expect("write");
    std::fs::write(dir.path().join("a.yml"), "a").expect("write");
    std::fs::write(dir.path().join("notes.txt"), "x").expect("write");
    std::fs::write(nested.join("c.yaml"), "c").expect("write");
    let sources = suite::read_paths(&[dir.path().to_path_buf()]).expect("readable");
    let names: Vec<String> = sources
        .iter()
        .map(|s| {
            s.path
                .strip_prefix(dir.path())
                .expect("under the dir")
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(names, ["a.yml", "b.yaml", "nested/c.yaml"]);
    assert_eq!(sources[0].text, "a");

    let missing = dir.path().join("missing.yaml");
    let ds = suite::read_paths(std::slice::from_ref(&missing)).expect_err("missing");
    assert_eq!(ds.len(), 1);
    assert_eq!(ds[0].file, missing);
    assert_eq!(ds[0].line, None);
    assert_eq!(
        ds[0].message,
        "cannot read suite file: no such file or directory"
    );

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    let ds = suite::read_paths(&[empty]).expect_err("no suites");
    assert!(
        ds[0].message.contains("no suite files"),
        "{}",
        ds[0].message
    );
}

/// `peer` (case and defaults), `connect.respond` and the `wsprobe` / `peer` initiators.
#[test]
fn client_role_keys_load_into_the_model() {
    use wsprobe::suite::model::{PeerKind, Respond};
    let text = r#"
suite: c
title: client role
defaults:
  peer: [server, client]
  closing: { initiator: wsprobe }
cases:
  - id: c.both
    title: t
    spec: s
    steps: [connect, { send: { text: x } }]
  - id: c.client
    title: t
    spec: s
    peer: client
    closing: { initiator: peer, clean: false }
    steps:
      - connect:
          respond:
            status: "200"
            reason: Nope
            http_version: HTTP/1.0
            accept: "{accept_lower}"
            omit: [Upgrade, connection]
            headers: [[Upgrade, h2c], { name: X-A, value: 1 }]
            protocol: x-p
            extensions: ["permessage-deflate; x_unknown", x-e]
            after: { hex: "81 00" }
  - id: c.raw
    title: t
    spec: s
    peer: [client]
    steps:
      - connect: { respond: { raw: "HTTP/1.1 101 OK\r\nSec-WebSocket-Accept: {accept}\r\n\r\n", after: hi } }
  - id: c.server
    title: t
    spec: s
    peer: SERVER
    closing: { initiator: server }
    steps: [{ connect: { path: /x, expect: { status: 101 } } }]
"#;
    let suites = load_text("c.yaml", text).unwrap_or_else(|ds| panic!("{}", ds[0].render()));
    let cases = &suites[0].cases;
    assert_eq!(cases[0].peers, vec![PeerKind::Server, PeerKind::Client]);
    assert_eq!(cases[0].closing.initiator, Initiator::Client);
    assert_eq!(cases[1].peers, vec![PeerKind::Client]);
    assert_eq!(cases[1].closing.initiator, Initiator::Server);
    assert!(!cases[1].closing.clean);
    assert_eq!(cases[2].peers, vec![PeerKind::Client]);
    assert_eq!(cases[3].peers, vec![PeerKind::Server]);
    assert_eq!(cases[3].closing.initiator, Initiator::Server);
    let respond = |c: usize| match &cases[c].steps[0].kind {
        StepKind::Connect(k) => k.respond.clone(),
        other => panic!("connect expected, got {other:?}"),
    };
    assert_eq!(respond(0), None);
    assert_eq!(respond(3), None);
    assert_eq!(
        respond(1),
        Some(Respond {
            status: Some(200),
            reason: Some("Nope".into()),
            http_version: Some("HTTP/1.0".into()),
            accept: Some("{accept_lower}".into()),
            omit: vec!["upgrade".into(), "connection".into()],
            headers: vec![("Upgrade".into(), "h2c".into()), ("X-A".into(), "1".into())],
            protocol: Some("x-p".into()),
            extensions: Some(vec!["permessage-deflate; x_unknown".into(), "x-e".into()]),
            after: Some(bytes(&[0x81, 0x00])),
            raw: None,
        })
    );
    assert_eq!(
        respond(2),
        Some(Respond {
            raw: Some("HTTP/1.1 101 OK\r\nSec-WebSocket-Accept: {accept}\r\n\r\n".into()),
            after: Some(bytes(b"hi")),
            ..Respond::default()
        })
    );
    // Without `peer` anywhere a case judges servers only.
    let plain = load_text(
        "p.yaml",
        "suite: p\ntitle: t\ncases: [{ id: p.a, title: t, spec: s, steps: [connect] }]\n",
    )
    .unwrap_or_else(|ds| panic!("{}", ds[0].render()));
    assert_eq!(plain[0].cases[0].peers, vec![PeerKind::Server]);
}

/// The shipped client suites: every case judges clients only, answers the handshake itself
/// where it needs to, cites its section and is tagged for selection.
#[test]
fn shipped_client_suites_judge_clients_only() {
    use wsprobe::suite::model::PeerKind;
    let suites = suite::load(&suite::embedded()).unwrap_or_else(|ds| panic!("{}", ds[0].render()));
    let mut counts = std::collections::BTreeMap::new();
    for s in &suites {
        for c in &s.cases {
            if !c.id.starts_with("client.") {
                continue;
            }
            assert_eq!(c.peers, vec![PeerKind::Client], "{}", c.id);
            assert!(c.spec.starts_with("RFC "), "{}: {}", c.id, c.spec);
            assert!(c.tags.iter().any(|t| t == "client"), "{}", c.id);
            let group = c.id.split('.').nth(1).unwrap_or_default().to_string();
            assert!(c.tags.contains(&group), "{} lacks tag {group}", c.id);
            *counts.entry(group).or_insert(0) += 1;
        }
    }
    let handshake = suites
        .iter()
        .find(|s| s.id == "rfc6455-client-handshake")
        .expect("client-handshake.yaml is embedded");
    let answers_wrongly = handshake
        .cases
        .iter()
        .filter(|c| {
            c.steps
                .iter()
                .any(|s| matches!(&s.kind, StepKind::Connect(k) if k.respond.is_some()))
                && c.level == Level::Must
                && c.steps.iter().any(|s| match &s.kind {
                    StepKind::Expect(e) => e.alternatives.iter().any(|a| {
                        a.sequence
                            .iter()
                            .any(|m| matches!(m, Matcher::Dropped | Matcher::Fail { .. }))
                    }),
                    _ => false,
                })
        })
        .count();
    assert!(
        answers_wrongly >= 32,
        "{answers_wrongly} failing handshakes"
    );
    assert!(counts["handshake"] >= 38, "{counts:?}");
    assert!(counts["behaviour"] >= 10, "{counts:?}");
}
