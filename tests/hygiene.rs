//! Hygiene: wsprobe never shells out, writes only where it is told, never lets a hostile
//! server's bytes drive the terminal, and never shows a secret given on the command line.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::{root, temp_dir};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wsprobe::wire::handshake::{Parse, accept_for_key, parse_request};
use wsprobe::wire::{FrameSpec, Opcode};

const LIMIT: Duration = Duration::from_secs(60);

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The one place wsprobe starts a program: `run --client --exec CMD` runs the command the user
/// gave (the client harness) and stops its process group at the end.
const EXEC_FILE: &str = "src/cli/run/client.rs";

#[test]
fn wsprobe_never_shells_out() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    assert!(files.len() > 20, "the source tree was found");
    assert!(
        files.iter().any(|f| f.ends_with(EXEC_FILE)),
        "{EXEC_FILE} exists"
    );
    let mut found = Vec::new();
    for file in files.into_iter().filter(|f| !f.ends_with(EXEC_FILE)) {
        let text = std::fs::read_to_string(&file).expect("read source");
        for (i, line) in text.lines().enumerate() {
            if [
                "process::Command",
                "Command::new",
                "process::Stdio",
                "libc::exec",
            ]
            .iter()
            .any(|n| line.contains(n))
            {
                found.push(format!("{}:{}: {}", file.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "wsprobe must not run programs:\n{}",
        found.join("\n")
    );
}

/// A server on 127.0.0.1:0 answering each connection with `respond(request head)`: the bytes
/// of its whole answer (101 included), after which it closes.
type Server = common::RawServer;

fn serve(
    respond: impl Fn(&wsprobe::wire::handshake::RequestHead) -> Vec<u8> + Send + Sync + 'static,
) -> Server {
    let respond = Arc::new(respond);
    common::raw_server(move |s| {
        let respond = Arc::clone(&respond);
        async move { answer(s, respond.as_ref()).await }
    })
}

async fn answer(
    mut s: TcpStream,
    respond: &(dyn Fn(&wsprobe::wire::handshake::RequestHead) -> Vec<u8> + Send + Sync),
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head = loop {
        if let Ok(Parse::Complete(head)) = parse_request(&buf, 64 * 1024) {
            break head;
        }
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let _ = s.write_all(&respond(&head)).await;
    // Let wsprobe read everything and start its closing handshake before TCP ends.
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// A 101 with extra header lines (raw bytes, each ending in CRLF), then frames.
fn upgrade(
    head: &wsprobe::wire::handshake::RequestHead,
    extra: &[u8],
    frames: &[FrameSpec],
) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n",
        accept_for_key(head.header("sec-websocket-key").unwrap_or(""))
    )
    .into_bytes();
    out.extend_from_slice(extra);
    out.extend_from_slice(b"\r\n");
    for f in frames {
        out.extend_from_slice(&f.encode());
    }
    out
}

/// Runs the binary in `cwd` with HOME pointing at an empty directory; returns (code, stdout,
/// stderr) as raw bytes.
fn run_raw(args: &[&str], cwd: &Path, home: &Path) -> (i32, Vec<u8>, Vec<u8>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wsprobe"))
        .args(args)
        .current_dir(cwd)
        .env("HOME", home)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the wsprobe binary starts");
    let started = std::time::Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("wsprobe {args:?} did not finish within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().expect("output");
    (out.status.code().unwrap_or(-1), out.stdout, out.stderr)
}

fn suite(dir: &Path, steps: &str) -> PathBuf {
    let path = dir.join("suite.yaml");
    let text = format!(
        "suite: hygiene\ntitle: hygiene\ndefaults: {{ timeout: 1s, deadline: 5s }}\ncases:\n  \
         - id: hygiene.case\n    title: hostile bytes\n    spec: RFC 6455 §5.6\n    steps:\n{steps}"
    );
    std::fs::write(&path, text).expect("write the suite");
    path
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Escape sequences a hostile server might try to get printed: set the window title, clear
/// the screen, an 8-bit CSI (U+009B), and a bare ESC.
const HOSTILE: &[&[u8]] = &[b"\x1b]0;pwned\x07", b"\x1b[2J", "\u{9b}2J".as_bytes()];

#[test]
fn hostile_escape_sequences_never_reach_the_terminal() {
    let server = serve(|head| {
        // ESC is not allowed in a header value (the head is then malformed); the 8-bit CSI
        // is obs-text and accepted, so it reaches the parsed headers.
        let extra = "X-Evil: \u{9b}2J\u{9b}31m\r\nX-Title: \u{9b}0;pwned\r\n".as_bytes();
        let frames = [
            FrameSpec::new(Opcode::Text, "\x1b]0;pwned\x07\x1b[2J\x1b[31mred"),
            FrameSpec::new(Opcode::Ping, "\x1b[2J"),
            FrameSpec::new(Opcode::Binary, b"\x1b]0;pwned\x07".to_vec()),
            FrameSpec::new(
                Opcode::Close,
                [&[0x03, 0xe8][..], "\x1b[2J\u{9b}2J".as_bytes()].concat(),
            ),
        ];
        upgrade(head, extra, &frames)
    });
    let raw_esc = serve(|head| upgrade(head, b"X-Evil: \x1b]0;pwned\x07\r\n", &[]));
    let dir = temp_dir();
    let home = temp_dir();
    let steps = "      - connect: { expect: { headers: { X-Evil: good } } }\n";
    let headers_suite = suite(dir.path(), steps);
    let headers_suite = headers_suite.to_str().expect("utf-8 path").to_string();
    let msg_dir = temp_dir();
    let msg_suite = suite(
        msg_dir.path(),
        "      - connect: {}\n      - expect: { message: { text: hello } }\n",
    );
    let msg_suite = msg_suite.to_str().expect("utf-8 path").to_string();
    let runs = [
        (&headers_suite, &server.url),
        (&msg_suite, &server.url),
        (&msg_suite, &raw_esc.url),
    ];
    for (suite, url) in runs {
        for color in ["never", "always"] {
            for format in ["text", "json"] {
                // --no-preflight: the case itself must meet the malformed handshake.
                let args = [
                    "run",
                    suite,
                    "--target",
                    url,
                    "--color",
                    color,
                    "--format",
                    format,
                    "--no-preflight",
                ];
                let (code, stdout, stderr) = run_raw(&args, dir.path(), home.path());
                assert_eq!(code, 1, "{args:?}: {}", String::from_utf8_lossy(&stdout));
                for seq in HOSTILE {
                    for (name, out) in [("stdout", &stdout), ("stderr", &stderr)] {
                        assert!(
                            !contains(out, seq),
                            "{args:?}: {seq:?} reached {name}:\n{}",
                            String::from_utf8_lossy(out)
                        );
                    }
                }
                if color == "never" {
                    assert!(
                        !stdout.contains(&0x1b) && !stderr.contains(&0x1b),
                        "{args:?}: an ESC byte was printed"
                    );
                }
            }
        }
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries {
        let path = e.expect("entry").path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[test]
fn secrets_never_show_and_files_go_only_where_told() {
    const SECRET: &str = "SECRET-token-5f3a9c";
    // A server that reflects the Authorization value everywhere it can: a response header, a
    // message, a ping, the close reason.
    let server = serve(|head| {
        let auth = head.header("authorization").unwrap_or("none").to_string();
        let extra = format!("X-Echo: {auth}\r\n");
        let frames = [
            FrameSpec::new(Opcode::Text, format!("you sent {auth}")),
            FrameSpec::new(Opcode::Ping, auth.clone()),
            FrameSpec::new(Opcode::Close, [&[0x03, 0xe8][..], auth.as_bytes()].concat()),
        ];
        upgrade(head, extra.as_bytes(), &frames)
    });
    let cwd = temp_dir();
    let home = temp_dir();
    let out = temp_dir();
    let suite_dir = temp_dir();
    let suite = suite(
        suite_dir.path(),
        "      - connect: { expect: { headers: { X-Echo: nothing } } }\n",
    );
    let second = suite_dir.path().join("second.yaml");
    std::fs::write(
        &second,
        "suite: hygiene2\ntitle: t\ndefaults: { timeout: 1s, deadline: 5s }\ncases:\n  - id: hygiene.message\n    title: reflected message\n    spec: RFC 6455 §5.6\n    steps:\n      - connect: {}\n      - expect: { message: { text: hello } }\n",
    )
    .expect("write the suite");
    let o = |name: &str| out.path().join(name).to_str().expect("utf-8").to_string();
    let header = format!("Authorization: Bearer {SECRET}");
    let (junit, tap, json, autobahn, traces) = (
        o("r.xml"),
        o("r.tap"),
        o("r.json"),
        o("autobahn"),
        o("traces"),
    );
    let reports = [
        format!("junit={junit}"),
        format!("tap={tap}"),
        format!("json={json}"),
        format!("autobahn={autobahn}"),
    ];
    for format in ["text", "json"] {
        let mut args = vec![
            "run",
            suite.to_str().expect("utf-8"),
            second.to_str().expect("utf-8"),
            "--target",
            &server.url,
            "--header",
            &header,
            "--format",
            format,
            "--color",
            "always",
            "--traces",
            &traces,
        ];
        for r in &reports {
            args.push("--report");
            args.push(r);
        }
        let (code, stdout, stderr) = run_raw(&args, cwd.path(), home.path());
        assert_eq!(code, 1, "{}", String::from_utf8_lossy(&stdout));
        for (name, bytes) in [("stdout", &stdout), ("stderr", &stderr)] {
            assert!(
                !contains(bytes, SECRET.as_bytes()),
                "the secret is in {name}:\n{}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
    let written = files_under(out.path());
    assert!(
        written.len() >= 6,
        "reports and traces written: {written:?}"
    );
    for file in &written {
        let bytes = std::fs::read(file).expect("read output");
        assert!(
            !contains(&bytes, SECRET.as_bytes()),
            "the secret is in {}:\n{}",
            file.display(),
            String::from_utf8_lossy(&bytes)
        );
    }
    // Nothing was written anywhere else: not the working directory, not HOME.
    assert!(
        files_under(cwd.path()).is_empty(),
        "{:?}",
        files_under(cwd.path())
    );
    assert!(
        files_under(home.path()).is_empty(),
        "{:?}",
        files_under(home.path())
    );
    assert_eq!(files_under(suite_dir.path()).len(), 2);
}
