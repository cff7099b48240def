//! `wsprobe run --client`: listen, optionally start the client harness, collect one agent's
//! results and hand them to the usual output and reports.

use std::process::Stdio;
use std::time::{Duration, Instant};

use super::{LiveOutput, Outcome};
use crate::cli::error::{self, CliError};
use crate::cli::plan::{ClientPlan, RunPlan};
use crate::runner::fuzzing::{self, AgentResults, ClientRun, Listener};
use crate::runner::result::{CaseResult, Failure, Verdict};
use crate::runner::{self, CaseContext, Progress};

/// How long a harness gets to exit on its own after `/updateReports` before it is stopped.
const EXEC_GRACE: Duration = Duration::from_secs(2);

/// Runs the listening side and returns the chosen agent's results in case order, the
/// masking check last.
pub(super) async fn run(plan: &RunPlan, client: &ClientPlan) -> Result<Outcome, CliError> {
    // With --http2 the same port serves HTTP/2 too: ALPN h2 over TLS, h2c with prior
    // knowledge on cleartext (RFC 8441 extended CONNECTs, judged like upgrades).
    let http2 = plan.transport.http2;
    let tls = plan
        .server_tls
        .as_ref()
        .map(|t| if http2 { t.with_http2() } else { t.clone() });
    let mut listener = Listener::bind(&client.listen, tls)
        .await
        .map_err(|e| CliError::environment(format!("cannot listen on {}: {e}", client.listen)))?;
    if http2 {
        listener = listener.with_http2(client.http2_settings_delay);
    }
    let url = listener.url();
    error::print(&format!("{url}\n"))?;
    let ca = match &plan.server_tls {
        Some(tls) => Some(crate::cli::certificate_file(tls)?),
        None => None,
    };
    let context = CaseContext {
        endpoint: crate::net::Endpoint::tcp(listener_addr(&url)),
        host: String::new(),
        path: "/".into(),
        timeout_scale: plan.timeout_scale,
        max_message: plan.max_message,
        headers: Vec::new(),
        seed: plan.seed,
        idle_timeout: plan.idle_timeout,
        memory: runner::budget::Budget::new(plan.max_memory, plan.jobs),
        extensions: plan.extensions.clone(),
    };
    let run = ClientRun {
        cases: plan.cases.clone(),
        context,
        bound: client.bound,
        end_when_all_ran: client.exec.is_none(),
    };
    let mut child = match &client.exec {
        Some(cmd) => Some(spawn(cmd, &url, ca.as_ref().map(|c| c.path()))?),
        None => None,
    };
    let started = Instant::now();
    let outcome = {
        let stop = async {
            match child.as_mut() {
                Some(c) => match c.wait().await {
                    Ok(status) => format!("the client command exited ({status})"),
                    Err(e) => format!("waiting for the client command failed: {e}"),
                },
                None => std::future::pending().await,
            }
        };
        listener.serve(run, stop).await
    };
    let duration = started.elapsed();
    if let Some(mut c) = child {
        stop_child(&mut c).await;
    }
    let mut agents = outcome.agents;
    let chosen = agents
        .iter()
        .max_by_key(|(_, a)| (a.updated, a.by_case.len()))
        .map(|(name, _)| name.clone());
    let others: Vec<String> = agents
        .keys()
        .filter(|a| Some(*a) != chosen.as_ref())
        .cloned()
        .collect();
    if !others.is_empty() {
        eprintln!(
            "note: results of other agents are not reported: {}",
            others.join(", ")
        );
    }
    for s in outcome.strays.iter().take(5) {
        eprintln!("note: {s}");
    }
    eprintln!("note: the run ended: {}", outcome.ended);
    let agent_results = chosen
        .as_ref()
        .and_then(|a| agents.remove(a))
        .unwrap_or_default();
    let results = results_in_order(plan, agent_results);
    let mut live = LiveOutput::new(plan);
    for (i, r) in results.iter().enumerate() {
        if let Some(case) = plan.cases.get(i) {
            live.started(i, case);
        }
        live.finished(i, r, i + 1, results.len());
        if !live.ready(i, r) {
            break;
        }
    }
    live.finish()?;
    Ok(Outcome {
        results,
        target: format!(
            "client {} via {url}",
            chosen.as_deref().unwrap_or("(none connected)")
        ),
        duration,
        agent: chosen,
    })
}

/// Every selected case in order (a case the client never ran is an ERROR: nothing was
/// judged), then the run-level masking check.
fn results_in_order(plan: &RunPlan, mut agent: AgentResults) -> Vec<CaseResult> {
    let mut out: Vec<CaseResult> = plan
        .cases
        .iter()
        .enumerate()
        .map(|(i, case)| {
            agent.by_case.remove(&(i + 1)).unwrap_or_else(|| {
                CaseResult::of_case(
                    case,
                    Verdict::Error,
                    Some(Failure {
                        summary: "the client did not run this case".into(),
                        location: case.location.clone(),
                        expected: vec![format!("a connection to /runCase?case={}", i + 1)],
                        observed: "none before the run ended".into(),
                    }),
                )
            })
        })
        .collect();
    if !agent.mask_keys.is_empty() || agent.nonces.len() > 1 {
        out.push(fuzzing::masking_result(&agent));
    }
    out
}

/// The listener's address from its URL (`ws://IP:PORT`).
fn listener_addr(url: &str) -> std::net::SocketAddr {
    url.trim_start_matches("wss://")
        .trim_start_matches("ws://")
        .parse()
        .unwrap_or_else(|_| std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
}

fn spawn(
    cmd: &str,
    url: &str,
    ca: Option<&std::path::Path>,
) -> Result<tokio::process::Child, CliError> {
    let mut command = tokio::process::Command::new("sh");
    if let Some(ca) = ca {
        // The harness trusts wsprobe's certificate from this file (`--tls`).
        command.env("WSPROBE_CA", ca);
    }
    command
        .arg("-c")
        .arg(cmd)
        .env("WSPROBE_URL", url)
        .stdin(Stdio::null())
        // The harness's own output would interleave with the report on stdout.
        .stdout(Stdio::from(std::io::stderr()))
        .kill_on_drop(true)
        .process_group(0);
    command
        .spawn()
        .map_err(|e| CliError::environment(format!("cannot start --exec '{cmd}': {e}")))
}

/// Gives the harness a moment to exit, then stops its whole process group (a browser's
/// helper processes included).
async fn stop_child(child: &mut tokio::process::Child) {
    if tokio::time::timeout(EXEC_GRACE, child.wait()).await.is_ok() {
        return;
    }
    if let Some(pid) = child.id() {
        // `-s SIGNAL -- -PGID`: without `--`, procps' kill reads `-PGID` as a signal number.
        let _ = tokio::process::Command::new("kill")
            .args(["-s", "TERM", "--"])
            .arg(format!("-{pid}"))
            .status()
            .await;
        if tokio::time::timeout(EXEC_GRACE, child.wait()).await.is_ok() {
            return;
        }
        let _ = tokio::process::Command::new("kill")
            .args(["-s", "KILL", "--"])
            .arg(format!("-{pid}"))
            .status()
            .await;
    }
    let _ = child.kill().await;
}
