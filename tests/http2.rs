//! WebSockets over HTTP/2 (RFC 8441): `run --http2` against `serve --http2`. The HTTP/2 suite is
//! green against the reference server, over h2c and over TLS with ALPN h2; Autobahn's
//! categories 1–7 and 10 give the same verdicts over HTTP/2 as over HTTP/1.1; each HTTP/2 fault
//! fails the case written for it; the HTTP/1.1 upgrade still works on an HTTP/2 port; a server
//! without SETTINGS_ENABLE_CONNECT_PROTOCOL is reported, not blamed.

mod common;

use std::time::Duration;

use common::{verdicts, wsprobe};
use wsprobe::serve::{Fault, ServeConfig, ServeMode, Server};

const LIMIT: Duration = Duration::from_secs(600);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn server(rt: &tokio::runtime::Runtime, mode: ServeMode) -> Server {
    rt.block_on(Server::start_with(
        ServeConfig {
            host: "127.0.0.1".into(),
            port: 0,
            mode,
            max_message_size: 64 << 20,
        },
        None,
        true,
    ))
    .expect("server starts")
}

#[test]
fn the_http2_suite_is_green_against_serve_http2() {
    let out = wsprobe(
        &["run", "--http2", "suites/http2.yaml", "--format", "json"],
        LIMIT,
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let v = verdicts(&out.stdout);
    assert!(v.len() >= 25, "{} cases", v.len());
    // The one case about servers without the setting does not apply to this one.
    let not_applicable = "h2ws.connect.protocol-without-setting";
    assert_eq!(
        v.get(not_applicable).map(String::as_str),
        Some("INFORMATIONAL")
    );
    assert!(
        v.iter().all(|(id, v)| v == "PASS" || id == not_applicable),
        "{v:#?}"
    );
}

#[test]
fn the_http2_suite_is_green_over_tls_with_alpn_h2() {
    let out = wsprobe(
        &[
            "run",
            "--http2",
            "--tls",
            "suites/http2.yaml",
            "--color",
            "never",
        ],
        LIMIT,
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("ALPN h2"), "{}", out.stdout);
}

/// Autobahn 1–7 and 10 (framing, pings, reserved bits, opcodes, fragmentation, UTF-8, closing,
/// auto-fragmentation) run unchanged over an HTTP/2 stream, with the verdicts they have over
/// HTTP/1.1 on the same server. (Category 9 moves gigabytes; the release main job of `.ci/run`
/// runs it over HTTP/2.)
#[test]
fn autobahn_cases_give_the_same_verdicts_over_http2_as_over_http1() {
    let _serial = common::heavy();
    let suites = [
        "suites/framing.yaml",
        "suites/ping.yaml",
        "suites/reserved-bits.yaml",
        "suites/opcodes.yaml",
        "suites/fragmentation.yaml",
        "suites/utf8.yaml",
        "suites/close.yaml",
        "suites/auto-fragmentation.yaml",
    ];
    let run = |http2: bool| {
        let mut args = vec!["run", "--format", "json"];
        if http2 {
            args.push("--http2");
        }
        args.extend(suites);
        let out = wsprobe(&args, LIMIT);
        assert!(out.code <= 1, "{}\n{}", out.stdout, out.stderr);
        verdicts(&out.stdout)
    };
    let (h1, h2) = (run(false), run(true));
    assert!(h1.len() > 200, "{} cases", h1.len());
    assert_eq!(h2, h1);
}

/// (fault, the case it must make fail, the verdict it gets)
const CAUGHT: &[(&str, &str, &str)] = &[
    ("h2-status-400", "h2ws.handshake.accept", "FAIL"),
    (
        "h2-content-length-0",
        "h2ws.response.no-content-length",
        "FAIL",
    ),
    (
        "h2-end-stream-on-2xx",
        "h2ws.response.not-end-stream",
        "FAIL",
    ),
    ("h2-send-accept", "h2ws.response.no-accept", "NON-STRICT"),
    (
        "h2-accept-any-protocol",
        "h2ws.connect.unknown-protocol",
        "FAIL",
    ),
    (
        "h2-accept-any-version",
        "h2ws.handshake.missing-version",
        "FAIL",
    ),
    (
        "h2-accept-any-version",
        "h2ws.handshake.wrong-version",
        "FAIL",
    ),
    (
        "h2-unoffered-subprotocol",
        "h2ws.handshake.no-subprotocol-offered",
        "FAIL",
    ),
    ("h2-no-end-stream", "h2ws.close.end-stream", "FAIL"),
    ("h2-rst-protocol-error", "h2ws.close.rst-cancel", "FAIL"),
    ("h2-trailers-on-tunnel", "h2ws.close.no-trailers", "FAIL"),
    ("h2-no-window-update", "h2ws.flow.echo-16mib", "FAIL"),
    (
        "h2-accept-missing-path",
        "h2ws.connect.missing-path",
        "FAIL",
    ),
    (
        "h2-accept-missing-scheme",
        "h2ws.connect.missing-scheme",
        "FAIL",
    ),
    (
        "h2-accept-protocol-on-get",
        "h2ws.connect.protocol-on-get",
        "FAIL",
    ),
    ("h2-accept-uppercase", "h2ws.fields.uppercase-name", "FAIL"),
    (
        "h2-accept-connection-header",
        "h2ws.fields.connection-header",
        "FAIL",
    ),
    ("h2-lenient-pseudo", "h2ws.pseudo.after-regular", "FAIL"),
    ("h2-lenient-pseudo", "h2ws.pseudo.duplicate-path", "FAIL"),
    ("h2-reject-continuation", "h2ws.frame.continuation", "FAIL"),
    (
        "h2-reject-unknown-setting",
        "h2ws.settings.unknown-ignored",
        "FAIL",
    ),
    // Seen by the tap on the connection's frames (net/h2tap.rs).
    ("h2-setting-value-2", "h2ws.settings.advertised", "FAIL"),
    ("h2-withdraw-setting", "h2ws.settings.no-withdraw", "FAIL"),
    ("h2-no-settings-ack", "h2ws.settings.ack", "FAIL"),
    (
        "h2-ping-before-settings",
        "h2ws.preface.settings-first",
        "FAIL",
    ),
    ("h2-no-ping-ack", "h2ws.ping.answered", "FAIL"),
    (
        "h2-oversized-data",
        "h2ws.frame.respects-max-frame-size",
        "FAIL",
    ),
    ("h2-ignore-window", "h2ws.flow.respects-window", "FAIL"),
    (
        "h2-goaway-drops-streams",
        "h2ws.goaway.open-websocket-survives",
        "FAIL",
    ),
    // A server without the setting: preflight would stop, so every run here skips it.
    (
        "h2-accept-unadvertised",
        "h2ws.connect.protocol-without-setting",
        "FAIL",
    ),
    (
        "h2-no-connect-setting",
        "h2ws.connect.protocol-without-setting",
        "PASS",
    ),
];

#[test]
fn each_http2_fault_fails_the_case_written_for_it() {
    let rt = runtime();
    let mut wrong = Vec::new();
    for (name, case, verdict) in CAUGHT {
        let fault = Fault::from_name(name).expect("a fault name");
        assert!(fault.is_http2(), "{name}");
        let server = server(&rt, ServeMode::Fault(fault));
        let out = wsprobe(
            &[
                "run",
                "--http2",
                "--no-preflight",
                "--target",
                &server.url(),
                "suites/http2.yaml",
                "--case",
                case,
                "--format",
                "json",
            ],
            LIMIT,
        );
        let got = verdicts(&out.stdout);
        if got.get(*case).map(String::as_str) != Some(*verdict) {
            wrong.push(format!(
                "{name}: {case} is {:?}, not {verdict}",
                got.get(*case)
            ));
        }
        rt.block_on(server.shutdown());
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn a_reset_with_another_code_than_cancel_is_named_in_the_failure() {
    let rt = runtime();
    let server = server(&rt, ServeMode::Fault(Fault::H2RstProtocolError));
    let out = wsprobe(
        &[
            "run",
            "--http2",
            "--target",
            &server.url(),
            "suites/http2.yaml",
            "--case",
            "h2ws.close.rst-cancel",
            "--color",
            "never",
        ],
        LIMIT,
    );
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("RST_STREAM PROTOCOL_ERROR"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("RFC 8441 §5"), "{}", out.stdout);
    rt.block_on(server.shutdown());
}

#[test]
fn serve_http2_still_answers_http1_upgrades_on_the_same_port() {
    let rt = runtime();
    let server = server(&rt, ServeMode::Echo);
    let out = wsprobe(
        &[
            "run",
            "--target",
            &server.url(),
            "suites/handshake.yaml",
            "suites/framing.yaml",
            "--color",
            "never",
        ],
        LIMIT,
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("rfc6455-handshake"), "{}", out.stdout);
    rt.block_on(server.shutdown());
}

#[test]
fn a_server_without_extended_connect_is_unimplemented_not_failed() {
    let rt = runtime();
    let server = server(&rt, ServeMode::Fault(Fault::H2NoConnectSetting));
    let url = server.url();
    let refused = wsprobe(
        &["run", "--http2", "--target", &url, "suites/http2.yaml"],
        LIMIT,
    );
    assert_eq!(refused.code, 3, "{}\n{}", refused.stdout, refused.stderr);
    assert!(
        refused
            .stderr
            .contains("does not accept WebSockets over HTTP/2"),
        "{}",
        refused.stderr
    );
    let out = wsprobe(
        &[
            "run",
            "--http2",
            "--no-preflight",
            "--target",
            &url,
            "suites/http2.yaml",
            "--format",
            "json",
        ],
        LIMIT,
    );
    let v = verdicts(&out.stdout);
    assert_eq!(
        v.get("h2ws.handshake.accept").map(String::as_str),
        Some("UNIMPLEMENTED")
    );
    assert!(
        v.values().all(|v| v != "FAIL" && v != "ERROR"),
        "{v:#?}\n{}",
        out.stderr
    );
    rt.block_on(server.shutdown());
}

#[test]
fn the_case_for_servers_without_the_setting_does_not_apply_to_one_with_it() {
    let rt = runtime();
    let server = server(&rt, ServeMode::Echo);
    let out = wsprobe(
        &[
            "run",
            "--http2",
            "--target",
            &server.url(),
            "suites/http2.yaml",
            "--case",
            "h2ws.connect.protocol-without-setting",
            "--format",
            "json",
        ],
        LIMIT,
    );
    assert_eq!(
        verdicts(&out.stdout)
            .get("h2ws.connect.protocol-without-setting")
            .map(String::as_str),
        Some("INFORMATIONAL"),
        "{}",
        out.stdout
    );
    rt.block_on(server.shutdown());
}
