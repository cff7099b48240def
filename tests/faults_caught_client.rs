//! Proof that the client-role checks can fail: `wsprobe run --client` judges wsprobe's own
//! reference client (`wsprobe client`, started with `--exec`) once without faults and once per
//! fault. The fault-free client must pass every MUST case; each fault must make at least one
//! case fail (a MUST case for a MUST fault; a SHOULD fault may show as NON-STRICT).
//!
//! The fault-free run leaves out the performance cases (`limits.*`, Autobahn 9.x), the
//! compression cases (the reference client offers no extension) and the `utf8.fail-fast-*`
//! cases, which wait 2 s each. Each faulty run selects the suites where its defect shows (a
//! client without close replies makes every case wait for its timeout, so running all of them
//! per fault would take minutes); the no-mask run takes every case but the compression ones,
//! which the client offering permessage-deflate it cannot do takes, and together the runs must
//! fail every MUST case of the client role.

mod common;

use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;
use wsprobe::serve::client::{ClientFault, client_faults};
use wsprobe::wire::Level;

/// The case globs a fault's run selects.
fn cases_for(fault: ClientFault) -> &'static [&'static str] {
    use ClientFault::*;
    match fault {
        // Every client frame unmasked: every case in which the client sends anything fails,
        // so this run covers all cases (the coverage check below relies on it).
        NoMask => &[],
        ConstantMask | CounterMask => &["framing.*"],
        AcceptBadAccept
        | AcceptAnyStatus
        | AcceptMissingUpgrade
        | AcceptMissingConnection
        | AcceptUnofferedProtocol
        | AcceptUnofferedExtension
        | AcceptHttp10
        | IgnoreGarbage => &["client.handshake.*"],
        AcceptMaskedFrames | EchoAfterClose | NoCloseReply | CloseTcpFirst => {
            &["client.behaviour.*"]
        }
        IgnoreRsv => &["rsv.*"],
        // One compression case per corpus and offer: each fails the same way.
        OfferDeflateUnsupported => &["12.*", "13.*"],
        IgnoreReservedOpcodes => &["opcodes.*"],
        NoUtf8Check => &["utf8.*"],
        AcceptBadControl => &["ping.*", "fragmentation.*"],
        AcceptBadClose => &["close.*"],
        NoPong => &["ping.*"],
        // Judged over HTTP/2 (`--http2` on both sides): every WebSocket's CONNECT is early.
        H2ConnectBeforeSettings => &["framing.*"],
    }
}

/// `wsprobe run --client` with the reference client started by `--exec`, with `fault`; one
/// JSON object per case.
fn judge(fault: Option<ClientFault>) -> Vec<Value> {
    let bin = env!("CARGO_BIN_EXE_wsprobe");
    let http2 = fault == Some(ClientFault::H2ConnectBeforeSettings);
    let mut exec = match fault {
        Some(f) => format!("'{bin}' client -q --case-timeout 5s --fault {}", f.name()),
        None => format!("'{bin}' client -q --case-timeout 5s"),
    };
    if http2 {
        exec.push_str(" --http2");
    }
    let mut args = vec![
        "run",
        "--client",
        "--listen",
        "127.0.0.1:0",
        "--run-timeout",
        "150s",
        "--format",
        "json",
        "--exec",
        &exec,
    ];
    if http2 {
        args.push("--http2");
    }
    if fault != Some(ClientFault::OfferDeflateUnsupported) {
        // Without an offer the compression cases are UNIMPLEMENTED.
        args.extend(["--exclude", "deflate*"]);
    }
    if fault.is_none() {
        args.extend(["--exclude", "limits.*", "--exclude", "utf8.fail-fast-*"]);
    }
    for glob in fault.map(cases_for).unwrap_or_default() {
        args.extend(["--case", glob]);
    }
    let out = common::wsprobe(&args, Duration::from_secs(240));
    let rows: Vec<Value> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("{\"id\""))
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert!(
        rows.len() > if fault.is_some() { 5 } else { 200 },
        "{fault:?}: only {} cases ran; stderr: {}",
        rows.len(),
        out.stderr
    );
    rows
}

fn field<'a>(row: &'a Value, name: &str) -> &'a str {
    row[name].as_str().unwrap_or("")
}

#[test]
fn the_conformant_client_passes_and_every_fault_is_caught() {
    let _heavy = common::heavy();
    let clean = judge(None);
    let failed: Vec<String> = clean
        .iter()
        .filter(|r| field(r, "level") == "MUST")
        .filter(|r| matches!(field(r, "verdict"), "FAIL" | "ERROR"))
        .map(|r| format!("{} {}", field(r, "id"), field(r, "verdict")))
        .collect();
    assert!(failed.is_empty(), "the fault-free client fails: {failed:?}");
    assert!(
        clean
            .iter()
            .any(|r| field(r, "id") == "client.masking.unpredictable"
                && field(r, "verdict") == "PASS"),
        "the run-level mask check passes"
    );

    // Two runs at a time: each is mostly waiting on loopback.
    let queue = Mutex::new(client_faults().to_vec());
    let missed = Mutex::new(Vec::new());
    // Every case a fault failed at MUST level, and every MUST case the no-mask run saw (it
    // runs them all).
    let failed_must = Mutex::new(std::collections::BTreeSet::new());
    let all_must = Mutex::new(std::collections::BTreeSet::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                loop {
                    let Some(info) = queue.lock().unwrap().pop() else {
                        return;
                    };
                    let rows = judge(Some(info.fault));
                    for r in rows.iter().filter(|r| field(r, "level") == "MUST") {
                        if field(r, "verdict") == "FAIL" {
                            failed_must
                                .lock()
                                .unwrap()
                                .insert(field(r, "id").to_string());
                        }
                        if matches!(
                            info.fault,
                            ClientFault::NoMask | ClientFault::OfferDeflateUnsupported
                        ) {
                            all_must.lock().unwrap().insert(field(r, "id").to_string());
                        }
                    }
                    let caught = rows.iter().any(|r| match info.level {
                        Level::Must => field(r, "level") == "MUST" && field(r, "verdict") == "FAIL",
                        _ => {
                            matches!(field(r, "verdict"), "FAIL" | "NON-STRICT")
                                && !clean.iter().any(|c| {
                                    field(c, "id") == field(r, "id")
                                        && field(c, "verdict") == field(r, "verdict")
                                })
                        }
                    });
                    if !caught {
                        missed.lock().unwrap().push(info.name);
                    }
                }
            });
        }
    });
    let missed = missed.into_inner().unwrap();
    assert!(missed.is_empty(), "faults no case caught: {missed:?}");
    // Every MUST case of the client role fails against at least one faulty client (the
    // compression cases against the client that offers permessage-deflate it cannot do).
    let all_must = all_must.into_inner().unwrap();
    let failed_must = failed_must.into_inner().unwrap();
    assert!(all_must.len() > 500, "{} MUST cases", all_must.len());
    let uncaught: Vec<&String> = all_must.difference(&failed_must).collect();
    assert!(
        uncaught.is_empty(),
        "MUST cases no faulty client fails: {uncaught:?}"
    );
}
