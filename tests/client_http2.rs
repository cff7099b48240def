//! Judging clients over HTTP/2 (`run --client --http2`, RFC 8441): the listener takes extended
//! CONNECTs on the same port, answers them with an HTTP/2 200 instead of a 101, and judges the
//! request's shape (`http2-request`): a client that sends the wrong `sec-websocket-version`
//! is caught, one that sends 13 is not. With Chromium installed, the browser's own WebSockets
//! over HTTP/2 are judged too (the full run is interop/clients.sh's `chromium-http2`).

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;

/// `wsprobe run --client --http2` on a free port, bounded by `run_timeout`, reporting JSON.
fn client_run_args(run_timeout: &str) -> Vec<&str> {
    vec![
        "run",
        "--client",
        "--http2",
        "--listen",
        "127.0.0.1:0",
        "--run-timeout",
        run_timeout,
        "--format",
        "json",
    ]
}

/// Starts `wsprobe run --client --http2` for one case; returns the child and its URL.
fn listen(case: &str) -> (Child, String, BufReader<std::process::ChildStdout>) {
    let mut args = client_run_args("60s");
    args.extend(["--case", case]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_wsprobe"))
        .current_dir(common::root())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("wsprobe starts");
    let mut out = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut url = String::new();
    out.read_line(&mut url).expect("the URL line");
    (child, url.trim().to_string(), out)
}

/// The rest of the run's output, once it ended (bounded).
fn finish(mut child: Child, mut out: BufReader<std::process::ChildStdout>) -> String {
    let deadline = Instant::now() + Duration::from_secs(90);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("wsprobe run --client did not end");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut text = String::new();
    out.read_to_string(&mut text).expect("stdout");
    text
}

/// An extended CONNECT to `/case/<case>` with `version`: the response's status and fields.
fn connect(url: &str, case: &str, version: &str) -> (u16, Vec<String>) {
    let addr = url
        .trim_start_matches("ws://")
        .trim_end_matches('/')
        .to_string();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(20), async {
            let tcp = tokio::net::TcpStream::connect(&addr)
                .await
                .expect("connect");
            let (send, conn) = h2::client::handshake(tcp).await.expect("h2 handshake");
            let driver = tokio::spawn(async move {
                let _ = conn.await;
            });
            let mut send = send.ready().await.expect("ready");
            // The server's SETTINGS arrive with its preface; wait until they enable CONNECT.
            for _ in 0..100 {
                if send.is_extended_connect_protocol_enabled() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
                send = send.ready().await.expect("ready");
            }
            assert!(send.is_extended_connect_protocol_enabled());
            let request = http::Request::builder()
                .method(http::Method::CONNECT)
                .uri(format!("http://{addr}/case/{case}?agent=h2-test"))
                .extension(h2::ext::Protocol::from("websocket"))
                .header("sec-websocket-version", version)
                .body(())
                .expect("request");
            let (response, mut stream) = send.send_request(request, false).expect("sent");
            let response = response.await.expect("a response");
            let status = response.status().as_u16();
            let fields = response
                .headers()
                .keys()
                .map(|k| k.as_str().to_string())
                .collect();
            // Read what the case sends, then end the stream as a WebSocket that goes away.
            let mut body = response.into_body();
            let _ = tokio::time::timeout(Duration::from_secs(2), body.data()).await;
            let _ = stream.send_data(Bytes::new(), true);
            tokio::time::sleep(Duration::from_millis(200)).await;
            drop(body);
            drop(stream);
            driver.abort();
            (status, fields)
        })
        .await
        .expect("the exchange ends in time")
    })
}

#[test]
fn an_extended_connect_is_answered_200_and_its_version_judged() {
    let case = "framing.text-0";
    for (version, flagged) in [("13", false), ("8", true)] {
        let (child, url, out) = listen(case);
        assert!(url.starts_with("ws://"), "{url}");
        let (status, fields) = connect(&url, case, version);
        assert_eq!(status, 200, "RFC 8441 §5: a 2xx, never 101");
        assert!(
            !fields.iter().any(|f| f == "sec-websocket-accept"),
            "no sec-websocket-accept over HTTP/2: {fields:?}"
        );
        let report = finish(child, out);
        assert!(
            report.contains(&format!("\"id\":\"{case}\"")),
            "the case ran: {report}"
        );
        assert_eq!(
            report.contains("http2-request"),
            flagged,
            "version {version}: {report}"
        );
    }
}

#[test]
fn chromium_opens_its_websockets_over_http2_when_the_page_came_over_http2() {
    let Some(browser) = common::chromium::find() else {
        return;
    };
    let dir = common::temp_dir();
    let traces = dir.path().join("traces");
    let profile = dir.path().join("profile");
    let exec = format!(
        "timeout 60 {browser} --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
         --ignore-certificate-errors --no-first-run --user-data-dir={} \
         \"$(printf %s \"$WSPROBE_URL\" | sed 's#^wss://#https://#')/browser?agent=chromium\" \
         2>/dev/null",
        profile.display()
    );
    let out = common::wsprobe(
        &[
            "run",
            "--client",
            "--tls",
            "--http2",
            "--listen",
            "127.0.0.1:0",
            "--case",
            "1.1.1",
            "--case",
            "7.1.1",
            "--traces",
            traces.to_str().expect("utf-8 path"),
            "--exec",
            &exec,
            "--format",
            "json",
        ],
        Duration::from_secs(120),
    );
    let v = common::verdicts(&out.stdout);
    assert_eq!(
        v.get("close.echo-then-close").map(String::as_str),
        Some("PASS"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    assert_eq!(v.get("framing.text-0").map(String::as_str), Some("PASS"));
    let trace = std::fs::read_to_string(traces.join("close.echo-then-close.trace"))
        .expect("the case's trace");
    assert!(
        trace.contains("c>s CONNECT /runCase") && trace.contains(" HTTP/2\n"),
        "{trace}"
    );
    assert!(trace.contains("s>c HTTP/2 200"), "{trace}");
}

/// `run --client --http2` judging wsprobe's reference client over HTTP/2 (`wsprobe client
/// --http2`, one HTTP/2 connection per WebSocket): JSON rows of the cases matching `globs`.
fn judge_reference_client(fault: Option<&str>, globs: &[&str]) -> Vec<serde_json::Value> {
    let bin = env!("CARGO_BIN_EXE_wsprobe");
    let mut exec = format!("'{bin}' client -q --http2 --case-timeout 5s");
    if let Some(f) = fault {
        exec.push_str(&format!(" --fault {f}"));
    }
    let mut args = client_run_args("120s");
    args.extend(["--exec", &exec]);
    for glob in globs {
        args.extend(["--case", glob]);
    }
    let out = common::wsprobe(&args, Duration::from_secs(180));
    let rows: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("{\"id\""))
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert!(rows.len() > 10, "{}\n{}", out.stdout, out.stderr);
    rows
}

fn kinds(row: &serde_json::Value) -> Vec<String> {
    row["violations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["kind"].as_str().map(str::to_string))
        .collect()
}

/// RFC 8441 §3: a client may use `:protocol` only once it has received
/// SETTINGS_ENABLE_CONNECT_PROTOCOL = 1. The listener holds its SETTINGS for
/// `--http2-settings-delay` (100 ms by default): the reference client, which waits for them,
/// passes; with `h2-connect-before-settings` it sends each CONNECT right behind its preface and
/// every case fails with `http2-settings`.
#[test]
fn a_client_must_wait_for_the_setting_before_its_extended_connect() {
    let clean = judge_reference_client(None, &["framing.*", "ping.*", "close.*"]);
    for row in &clean {
        let verdict = row["verdict"].as_str().unwrap_or("");
        assert!(
            !matches!(verdict, "FAIL" | "ERROR"),
            "the conformant client over HTTP/2: {row}"
        );
        assert!(!kinds(row).iter().any(|k| k.starts_with("http2")), "{row}");
    }
    let faulty = judge_reference_client(Some("h2-connect-before-settings"), &["framing.*"]);
    for row in faulty.iter().filter(|r| {
        r["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("framing."))
    }) {
        assert_eq!(row["verdict"], "FAIL", "{row}");
        assert!(kinds(row).contains(&"http2-settings".to_string()), "{row}");
    }
}
