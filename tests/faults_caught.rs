//! Proof that the checks can fail: the built-in suites run against every deliberately faulty
//! server (`wsprobe serve --fault NAME`). Each fault that breaks the RFC must make at least one
//! case FAIL, the faultless raw server (`none`) must pass, specific faults must fail the
//! matching case at the failing step, and every MUST case must fail against at least one fault.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use wsprobe::runner::{self, CaseContext, CaseResult, NoProgress, RunConfig, Verdict};
use wsprobe::serve::{Fault, ServeConfig, ServeMode, Server, faults};
use wsprobe::suite::{
    self,
    model::{Case, PeerKind},
};
use wsprobe::wire::Level;

/// The cases that judge servers. The performance cases (Autobahn 9.x) move hundreds of MiB
/// per run; one fault truncating large messages is caught by the 64 KiB framing cases already,
/// so they are left out here.
fn cases() -> Vec<Case> {
    let suites = suite::load(&suite::embedded()).expect("built-in suites load");
    suites
        .into_iter()
        .flat_map(|s| s.cases)
        .filter(|c| c.peers.contains(&PeerKind::Server))
        .filter(|c| !c.tags.iter().any(|t| t == "performance"))
        .collect()
}

/// Whether a case runs over HTTP/2 (`run --http2`, tag `http2`) rather than HTTP/1.1.
fn is_http2(case: &Case) -> bool {
    case.tags.iter().any(|t| t == "http2")
}

/// The cases a fault can be seen by: the HTTP/2 suite for the HTTP/2 faults (served and
/// judged over HTTP/2), every other server case for the rest (over HTTP/1.1).
fn cases_for(fault: Fault, cases: &[Case]) -> Vec<Case> {
    cases
        .iter()
        .filter(|c| is_http2(c) == fault.is_http2())
        .cloned()
        .collect()
}

fn run_against(rt: &tokio::runtime::Runtime, fault: Fault, cases: &[Case]) -> Vec<CaseResult> {
    run_over(rt, fault, cases, false)
}

fn run_over(
    rt: &tokio::runtime::Runtime,
    fault: Fault,
    cases: &[Case],
    http2: bool,
) -> Vec<CaseResult> {
    rt.block_on(async {
        let server = Server::start_with(
            ServeConfig {
                host: "127.0.0.1".into(),
                port: 0,
                mode: ServeMode::Fault(fault),
                max_message_size: 64 << 20,
            },
            None,
            http2,
        )
        .await
        .expect("fault server starts");
        let mut endpoint = wsprobe::net::Endpoint::tcp(server.local_addr());
        endpoint.transport.http2 = http2;
        let config = RunConfig {
            context: CaseContext {
                endpoint,
                host: server.local_addr().to_string(),
                path: "/".into(),
                timeout_scale: 1.0,
                max_message: 64 << 20,
                headers: vec![],
                seed: None,
                idle_timeout: wsprobe::runner::exec::DEFAULT_IDLE_TIMEOUT,
                extensions: vec![],
                memory: wsprobe::runner::budget::Budget::new(
                    wsprobe::runner::budget::DEFAULT_MAX_MEMORY,
                    48,
                ),
            },
            jobs: 48,
            fail_fast: false,
            fail_on: wsprobe::runner::result::FailOn::default(),
        };
        let results = tokio::time::timeout(
            Duration::from_secs(300),
            runner::run(cases.to_vec(), &config, &mut NoProgress),
        )
        .await
        .expect("a run against a faulty server finishes");
        server.shutdown().await;
        results
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn every_fault_is_caught_and_every_must_case_can_fail() {
    let rt = runtime();
    let cases = cases();
    let (h2_cases, h1_cases): (Vec<Case>, Vec<Case>) = cases.iter().cloned().partition(is_http2);
    assert!(h2_cases.len() >= 25, "only {} HTTP/2 cases", h2_cases.len());
    let mut baseline = run_over(&rt, Fault::None, &h1_cases, false);
    baseline.extend(run_over(&rt, Fault::None, &h2_cases, true));
    let bad: Vec<String> = baseline
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Error))
        .map(|r| {
            format!(
                "{} {}: {}",
                r.id,
                r.verdict.name(),
                r.failure.as_ref().map(|f| f.summary.as_str()).unwrap_or("")
            )
        })
        .collect();
    assert!(
        bad.is_empty(),
        "the faultless raw server fails:\n{}",
        bad.join("\n")
    );

    let mut failed_somewhere: BTreeSet<String> = BTreeSet::new();
    let mut uncaught = Vec::new();
    let mut table: BTreeMap<&str, usize> = BTreeMap::new();
    for info in faults() {
        let results = run_over(
            &rt,
            info.fault,
            &cases_for(info.fault, &cases),
            info.fault.is_http2(),
        );
        let errors: Vec<&str> = results
            .iter()
            .filter(|r| r.verdict == Verdict::Error)
            .map(|r| r.id.as_str())
            .collect();
        assert!(
            errors.is_empty(),
            "{}: ERROR verdicts {errors:?}",
            info.name
        );
        let failing: Vec<&CaseResult> = results
            .iter()
            .filter(|r| r.verdict == Verdict::Fail)
            .collect();
        table.insert(info.name, failing.len());
        failed_somewhere.extend(failing.iter().map(|r| r.id.clone()));
        // A fault against a SHOULD shows as NON-STRICT; against a MUST it must FAIL.
        let caught = match info.level {
            Level::Must => !failing.is_empty(),
            Level::Should => results
                .iter()
                .any(|r| matches!(r.verdict, Verdict::Fail | Verdict::NonStrict)),
            Level::Info => true,
        };
        if !caught {
            uncaught.push(info.name);
        }
    }
    eprintln!("failing cases per fault: {table:#?}");
    assert!(uncaught.is_empty(), "faults no case catches: {uncaught:?}");

    let never: Vec<&str> = cases
        .iter()
        .filter(|c| c.level == Level::Must && !failed_somewhere.contains(&c.id))
        .map(|c| c.id.as_str())
        .collect();
    assert!(
        never.is_empty(),
        "MUST cases that no fault makes fail ({}): {never:#?}",
        never.len()
    );
}

/// (fault, case that must FAIL, the failing step's `file:line` must point at this suite file)
const MATCHING: &[(&str, &str, &str)] = &[
    (
        "wrong-accept",
        "handshake.valid-upgrade",
        "suites/handshake.yaml",
    ),
    (
        "status-200",
        "handshake.valid-upgrade",
        "suites/handshake.yaml",
    ),
    (
        "accept-missing-key",
        "handshake.missing-key",
        "suites/handshake.yaml",
    ),
    (
        "accept-any-version",
        "handshake.unsupported-version",
        "suites/handshake.yaml",
    ),
    (
        "unoffered-subprotocol",
        "handshake.subprotocol-selected-from-offer",
        "suites/handshake.yaml",
    ),
    ("no-pong", "ping.empty", "suites/ping.yaml"),
    (
        "wrong-pong-payload",
        "ping.text-payload",
        "suites/ping.yaml",
    ),
    (
        "accept-oversized-control",
        "ping.payload-126",
        "suites/ping.yaml",
    ),
    (
        "close-not-answered",
        "ready-state.client-close",
        "suites/ready-state.yaml",
    ),
    (
        "masked-server-frames",
        "framing.text-125",
        "suites/framing.yaml",
    ),
    (
        "binary-as-text",
        "framing.binary-125",
        "suites/framing.yaml",
    ),
    (
        "truncate-large",
        "framing.text-131072",
        "suites/framing.yaml",
    ),
    (
        "accept-unmasked",
        "framing.unmasked-client-frame",
        "suites/framing.yaml",
    ),
];

#[test]
fn specific_faults_fail_the_matching_case_at_the_failing_step() {
    let rt = runtime();
    let all = cases();
    for (fault, case_id, file) in MATCHING {
        let fault = Fault::from_name(fault).expect("known fault");
        let case: Vec<Case> = all.iter().filter(|c| c.id == *case_id).cloned().collect();
        assert_eq!(case.len(), 1, "{case_id} exists");
        let result = &run_against(&rt, fault, &case)[0];
        assert_eq!(
            result.verdict,
            Verdict::Fail,
            "{fault} × {case_id}: {result:#?}"
        );
        let failure = result.failure.as_ref().expect("a failure explains itself");
        let at = failure.location.to_string();
        assert!(
            at.starts_with(file),
            "{fault} × {case_id}: failing step at {at}"
        );
        // The failing step is a step of the case, not the case header, unless the closing
        // behaviour or a violation failed it.
        assert!(
            failure.location.line >= result.location.line,
            "{fault} × {case_id}: {at} before the case at line {}",
            result.location.line
        );
        assert!(
            !failure.expected.is_empty(),
            "{fault} × {case_id}: expectation listed"
        );
        assert!(
            !failure.observed.is_empty(),
            "{fault} × {case_id}: observation listed"
        );
    }
}
