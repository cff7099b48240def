//! `wsprobe run` through an HTTP CONNECT proxy started in the test: `--proxy` with
//! credentials, the proxy environment variables as curl reads them (and NO_PROXY), wss://
//! inside the tunnel, refusals as one line with exit 3, and no password in any output.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::proxy::{ConnectProxy, basic};
use wsprobe::net::ServerTls;
use wsprobe::serve::{ServeConfig, ServeMode, Server};

const LIMIT: Duration = Duration::from_secs(120);

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs wsprobe with `args` and exactly the proxy variables of `env` (the test's own
/// environment's proxy variables are removed, so the machine's settings cannot leak in).
fn run(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wsprobe"));
    cmd.args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for name in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
        "no_proxy",
        "NO_PROXY",
    ] {
        cmd.env_remove(name);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().expect("wsprobe starts");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = rx
        .recv_timeout(LIMIT)
        .expect("wsprobe finishes in time")
        .expect("output");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

fn echo(rt: &tokio::runtime::Runtime, tls: Option<ServerTls>) -> Server {
    rt.block_on(Server::start_with_tls(
        ServeConfig {
            host: "127.0.0.1".into(),
            port: 0,
            mode: ServeMode::Echo,
            max_message_size: 1 << 24,
        },
        tls,
    ))
    .expect("server starts")
}

#[test]
fn a_run_goes_through_the_proxy_with_its_credentials_and_never_shows_the_password() {
    let rt = runtime();
    let server = echo(&rt, None);
    let proxy = ConnectProxy::requiring("proxyuser", "pr0xy-secret");
    let url = server.url();
    let proxy_url = proxy.url_with("proxyuser:pr0xy-secret");
    let out = run(
        &[
            "run",
            "--target",
            &url,
            "--proxy",
            &proxy_url,
            "--case",
            "framing.*",
            "-v",
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let requests = proxy.requests();
    // The connectivity check, the preflight handshake and one connection per case.
    assert!(requests.len() >= 3, "{requests:?}");
    let target = url.trim_start_matches("ws://").trim_end_matches('/');
    for r in &requests {
        assert_eq!(r.method, "CONNECT");
        assert_eq!(r.target, target);
        assert_eq!(
            r.authorization.as_deref(),
            Some(basic("proxyuser", "pr0xy-secret").as_str())
        );
    }
    assert!(
        out.stdout
            .contains("via proxy http://proxyuser:***@127.0.0.1:"),
        "{}",
        out.stdout
    );
    let token = basic("proxyuser", "pr0xy-secret");
    for text in [&out.stdout, &out.stderr] {
        assert!(!text.contains("pr0xy-secret"), "{text}");
        assert!(!text.contains(token.trim_start_matches("Basic ")), "{text}");
    }
    rt.block_on(server.shutdown());
}

#[test]
fn wss_goes_through_https_proxy_from_the_environment_unless_no_proxy_matches() {
    let rt = runtime();
    let tls = ServerTls::self_signed(&["127.0.0.1".to_string()]).expect("certificate");
    let dir = common::temp_dir();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &tls.cert_pem).expect("write ca");
    let ca = ca.to_str().expect("utf-8 path").to_string();
    let server = echo(&rt, Some(tls));
    let url = server.url();
    let proxy = ConnectProxy::open();
    let args = [
        "run",
        "--target",
        &url,
        "--ca",
        &ca,
        "--case",
        "framing.text-0",
    ];
    let out = run(&args, &[("HTTPS_PROXY", &proxy.url())]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let through = proxy.requests().len();
    assert!(through >= 2, "{:?}", proxy.requests());
    // http_proxy is for ws:// targets only; NO_PROXY exempts the host.
    for env in [
        vec![("http_proxy", proxy.url())],
        vec![
            ("HTTPS_PROXY", proxy.url()),
            ("NO_PROXY", "localhost,127.0.0.1".to_string()),
        ],
    ] {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let out = run(&args, &env);
        assert_eq!(out.code, 0, "{env:?}: {}\n{}", out.stdout, out.stderr);
        assert_eq!(proxy.requests().len(), through, "{env:?} used the proxy");
    }
    // --proxy '' means direct, whatever the environment says.
    let mut direct = args.to_vec();
    direct.extend(["--proxy", ""]);
    let out = run(&direct, &[("HTTPS_PROXY", "http://127.0.0.1:9")]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    rt.block_on(server.shutdown());
}

#[test]
fn proxy_refusals_are_one_line_with_exit_3_and_bad_proxy_urls_exit_2() {
    let rt = runtime();
    let server = echo(&rt, None);
    let url = server.url();
    let wants = ConnectProxy::requiring("u", "right-password");
    let forbidding = ConnectProxy::refusing(403);
    let cases = [
        (wants.url(), "proxy authentication required"),
        (wants.url_with("u:wrong-password"), "407"),
        (forbidding.url(), "403"),
    ];
    for (proxy_url, message) in cases {
        let out = run(
            &[
                "run",
                "--target",
                &url,
                "--proxy",
                &proxy_url,
                "--case",
                "framing.text-0",
            ],
            &[],
        );
        assert_eq!(out.code, 3, "{proxy_url}: {}\n{}", out.stdout, out.stderr);
        assert!(out.stderr.contains(message), "{proxy_url}: {}", out.stderr);
        assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
        assert!(!out.stderr.contains("wrong-password"), "{}", out.stderr);
    }
    for bad in ["socks5://127.0.0.1:1080", "http://u:p@:99999"] {
        let out = run(&["run", "--target", &url, "--proxy", bad], &[]);
        assert_eq!(out.code, 2, "{bad}: {}", out.stderr);
        assert!(!out.stderr.contains(":p@"), "{}", out.stderr);
    }
    rt.block_on(server.shutdown());
}
