//! Snapshot testing of server behaviour: `--traces` output is deterministic, `--snapshots
//! --check` catches a one-byte change in what a server sends with a diff at that frame, pending
//! and stale snapshots are reported, `--update` rewrites.

mod common;

use std::time::Duration;

use common::{temp_dir, wsprobe};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

const LIMIT: Duration = Duration::from_secs(120);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// An echo server that changes the last byte of every text message it echoes.
async fn off_by_one_echo() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                while let Some(Ok(msg)) = ws.next().await {
                    let reply = match msg {
                        Message::Text(t) => {
                            let mut s = t.to_string();
                            if let Some(last) = s.pop() {
                                s.push(if last == 'e' { 'f' } else { 'e' });
                            }
                            Message::text(s)
                        }
                        Message::Binary(b) => Message::Binary(b),
                        Message::Close(_) => break,
                        _ => continue,
                    };
                    if ws.send(reply).await.is_err() {
                        break;
                    }
                }
                let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(None)).await;
            });
        }
    });
    format!("ws://{addr}/")
}

fn read_dir_sorted(dir: &std::path::Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("trace dir")
        .map(|e| {
            let p = e.expect("entry").path();
            (
                p.file_name().expect("name").to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).expect("trace file"),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn two_runs_write_byte_identical_traces_whatever_the_jobs() {
    let _serial = common::heavy();
    let dir = temp_dir();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    let out = wsprobe(
        &[
            "run",
            "--jobs",
            "1",
            "--exclude",
            "limits.*",
            "--traces",
            a.to_str().expect("utf-8"),
        ],
        LIMIT,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = wsprobe(
        &[
            "run",
            "--jobs",
            "16",
            "--exclude",
            "limits.*",
            "--traces",
            b.to_str().expect("utf-8"),
        ],
        LIMIT,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (ta, tb) = (read_dir_sorted(&a), read_dir_sorted(&b));
    assert!(ta.len() > 50, "one trace per case");
    for ((na, ca), (nb, cb)) in ta.iter().zip(&tb) {
        assert_eq!(na, nb);
        assert_eq!(ca, cb, "{na} differs between runs");
    }
    assert_eq!(ta.len(), tb.len());
    // Nothing volatile leaks into a trace.
    for (name, text) in &ta {
        assert!(text.starts_with("# wsprobe trace v1\n"), "{name}");
        assert!(
            !text.contains("127.0.0.1:") || text.contains("127.0.0.1:[port]"),
            "{name}"
        );
        assert!(!text.contains('\u{1b}'), "{name}");
    }
}

#[test]
fn check_fails_with_a_diff_at_the_changed_frame() {
    let dir = temp_dir();
    let snaps = dir.path().join("snaps");
    let snaps_s = snaps.to_str().expect("utf-8");
    let case = "framing.text-octet-wise";
    // Record against the reference server.
    let out = wsprobe(
        &["run", "--case", case, "--snapshots", snaps_s, "--update"],
        LIMIT,
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    // The same server again: matches.
    let out = wsprobe(
        &["run", "--case", case, "--snapshots", snaps_s, "--check"],
        LIMIT,
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(
        out.stdout.contains("1 matched, 0 mismatched"),
        "{}",
        out.stdout
    );
    // A server that changes one echoed byte.
    let rt = runtime();
    let url = rt.block_on(off_by_one_echo());
    let out = wsprobe(
        &[
            "run",
            "--case",
            case,
            "--snapshots",
            snaps_s,
            "--check",
            "--target",
            &url,
        ],
        LIMIT,
    );
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("snapshot mismatch: framing.text-octet-wise"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("-  s>c text F---- len=14 \"Hello, wsprobe\""),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("+  s>c text F---- len=14 \"Hello, wsprobf\""),
        "{}",
        out.stdout
    );
}

#[test]
fn pending_and_stale_snapshots_are_reported() {
    let dir = temp_dir();
    let snaps = dir.path().join("snaps");
    std::fs::create_dir(&snaps).expect("mkdir");
    std::fs::write(snaps.join("no-such-case.trace"), "# wsprobe trace v1\n").expect("write");
    let snaps_s = snaps.to_str().expect("utf-8");
    let out = wsprobe(
        &["run", "--case", "ping.empty", "--snapshots", snaps_s],
        LIMIT,
    );
    assert_eq!(out.code, 1, "pending fails a check: {}", out.stdout);
    assert!(
        out.stdout.contains("snapshot pending: ping.empty"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("snapshot stale:"), "{}", out.stdout);
    assert!(out.stdout.contains("no-such-case.trace"), "{}", out.stdout);
    let out = wsprobe(
        &[
            "run",
            "--case",
            "ping.empty",
            "--snapshots",
            snaps_s,
            "--update",
        ],
        LIMIT,
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(snaps.join("ping.empty.trace").is_file());
}

#[test]
fn snapshot_flags_are_validated_before_running() {
    let dir = temp_dir();
    let file = dir.path().join("file");
    std::fs::write(&file, "x").expect("write");
    let out = wsprobe(&["run", "--traces", file.to_str().expect("utf-8")], LIMIT);
    assert_eq!(out.code, 2, "{}", out.stderr);
    let out = wsprobe(&["run", "--update"], LIMIT);
    assert_eq!(out.code, 2, "--update needs --snapshots: {}", out.stderr);
}
