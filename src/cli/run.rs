//! `wsprobe run` and `wsprobe list`. A run goes in three steps: flags become a validated
//! [`RunPlan`] (`plan.rs`), [`execute`] starts the embedded server if needed, checks the
//! target with one preflight handshake and runs the cases while streaming each case's line
//! (and a progress line on a terminal), then [`emit`] writes the rest of the output, traces,
//! snapshots and reports and decides the exit code. Every step returns [`CliError`] with the
//! exit code it ends with.

mod client;

use std::time::{Duration, Instant};

use super::error::{self, CliError};
use super::exit;
use super::plan::{Format, ListArgs, RunArgs, RunPlan, Terminal, Verbosity, load_suites};
use super::snapshot;
use crate::report::{self, RunReport, terminal};
use crate::runner::{self, CaseContext, CaseResult, Progress, RunConfig, Target, preflight};
use crate::serve::{ServeConfig, ServeMode, Server};
use crate::suite::model::Case;
use crate::trace::canonical::Redaction;

/// `wsprobe list`.
pub fn list(args: ListArgs) -> Result<u8, CliError> {
    let color = super::plan::use_color(super::plan::ColorArg::Auto, Terminal::detect().stderr);
    let suites = load_suites(&args.paths, color)?;
    let cases: Vec<_> = suites.into_iter().flat_map(|s| s.cases).collect();
    let cases = runner::select::select(
        cases,
        &runner::select::Selection {
            cases: args.cases,
            tags: args.tags,
            exclude: args.exclude,
            partition: None,
        },
    );
    let out = match args.format {
        Format::Text => report::list_text(&cases),
        Format::Json => report::list_json(&cases),
    };
    error::print(&out)?;
    Ok(if cases.is_empty() {
        exit::NO_CASES
    } else {
        exit::OK
    })
}

/// `wsprobe run`.
pub fn run(mut args: RunArgs, given: &dyn Fn(&str) -> bool) -> Result<u8, CliError> {
    let term = Terminal::detect();
    let color = super::plan::use_color(super::plan::ColorArg::Auto, term.stderr);
    let cwd = std::env::current_dir().unwrap_or_default();
    if let Some(config) = super::config::load(args.config.as_deref(), args.no_config, &cwd, color)?
    {
        args.apply_config(&config.run, given)?;
        eprintln!("wsprobe: using configuration {}", config.path.display());
    }
    let plan = RunPlan::from_args(&args, term)?;
    let outcome = execute(&plan)?;
    emit(&plan, &outcome)
}

/// What a run produced.
pub struct Outcome {
    /// One result per selected case, in case order.
    pub results: Vec<CaseResult>,
    /// The target as shown in reports.
    pub target: String,
    /// Wall time of the cases.
    pub duration: Duration,
    /// `run --client`: the agent name the judged client gave.
    pub agent: Option<String>,
}

/// Starts the embedded server when there is no `--target`, checks the target, runs the cases
/// and streams their lines; the output's tail is [`emit`]'s.
pub fn execute(plan: &RunPlan) -> Result<Outcome, CliError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::environment(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(async {
        if let Some(client) = &plan.client {
            return client::run(plan, client).await;
        }
        let (server, target) = match &plan.target {
            Some(t) => (None, t.clone()),
            None => {
                let server = Server::start_with(
                    ServeConfig {
                        host: "127.0.0.1".into(),
                        port: 0,
                        mode: ServeMode::Echo,
                        max_message_size: 64 * 1024 * 1024,
                    },
                    plan.server_tls.clone(),
                    plan.transport.http2,
                )
                .await
                .map_err(|e| {
                    CliError::environment(format!("cannot start the embedded server: {e}"))
                })?;
                let target = Target::parse(&server.url())
                    .map_err(|e| CliError::environment(format!("embedded server: {e}")))?;
                (Some(server), target)
            }
        };
        // The embedded server over TLS is trusted by its own certificate, nothing else.
        let transport = match (&server, &plan.server_tls) {
            (Some(_), Some(tls)) => crate::net::Transport {
                http2: plan.transport.http2,
                tls: Some(
                    crate::net::ClientTls::trusting(&tls.cert_pem, &target.host)
                        .map_err(|e| CliError::environment(format!("embedded server: {e}")))?,
                ),
                proxy: None,
            },
            _ => plan.transport.clone(),
        };
        let outcome = run_cases(plan, &target, &transport).await;
        if let Some(server) = server {
            server.shutdown().await;
        }
        let (results, duration, session) = outcome?;
        Ok(Outcome {
            results,
            target: describe_target(plan, &target, &transport, session.as_ref()),
            duration,
            agent: None,
        })
    })
}

/// The target as the report header shows it: the URL (password redacted), what serves it,
/// and loudly, a certificate that is not checked.
fn describe_target(
    plan: &RunPlan,
    target: &Target,
    transport: &crate::net::Transport,
    session: Option<&crate::net::tls::SessionInfo>,
) -> String {
    let mut text = target.url.clone();
    if plan.target.is_none() {
        text.push_str(" (embedded reference server)");
    }
    if let Some(s) = session {
        text.push_str(&format!(" ({} {}", s.version, s.cipher_suite));
        if let Some(alpn) = &s.alpn {
            text.push_str(&format!(", ALPN {alpn}"));
        }
        text.push(')');
    }
    if let Some(proxy) = &transport.proxy {
        text.push_str(&format!(" via proxy {}", proxy.redacted()));
    }
    if transport.tls.as_ref().is_some_and(|t| t.insecure) {
        text.push_str(" [INSECURE: TLS certificate not verified (--insecure)]");
    }
    text
}

async fn run_cases(
    plan: &RunPlan,
    target: &Target,
    transport: &crate::net::Transport,
) -> Result<
    (
        Vec<CaseResult>,
        Duration,
        Option<crate::net::tls::SessionInfo>,
    ),
    CliError,
> {
    let connect_timeout = Duration::from_secs_f64(5.0 * plan.timeout_scale);
    let (endpoint, session) = target
        .preflight(transport, connect_timeout)
        .await
        .map_err(CliError::environment)?;
    if plan.preflight {
        preflight::check(
            &endpoint,
            &target.host_header(),
            &target.path,
            &plan.headers,
            connect_timeout,
        )
        .await
        .map_err(CliError::environment)?;
    }
    let config = RunConfig {
        context: CaseContext {
            endpoint,
            host: target.host_header(),
            path: target.path.clone(),
            timeout_scale: plan.timeout_scale,
            max_message: plan.max_message,
            headers: plan.headers.clone(),
            seed: plan.seed,
            idle_timeout: plan.idle_timeout,
            memory: runner::budget::Budget::new(plan.max_memory, plan.jobs),
            extensions: plan.extensions.clone(),
        },
        jobs: plan.jobs,
        fail_fast: plan.fail_fast,
        fail_on: plan.fail_on,
    };
    let started = Instant::now();
    let mut live = LiveOutput::new(plan);
    let results = runner::run(plan.cases.clone(), &config, &mut live).await;
    live.finish()?;
    Ok((results, started.elapsed(), session))
}

/// Prints each case as soon as it and every case before it are done, and draws the progress
/// line meanwhile.
struct LiveOutput<'p> {
    plan: &'p RunPlan,
    lines: Option<terminal::CaseLines>,
    scrub: report::json::Scrub,
    progress: Option<report::progress::Live>,
    /// The first failed write to stdout: the run stops and the command ends with it.
    failed: Option<CliError>,
}

impl<'p> LiveOutput<'p> {
    fn new(plan: &'p RunPlan) -> LiveOutput<'p> {
        let secrets: Vec<String> = plan.headers.iter().map(|(_, v)| v.clone()).collect();
        let lines =
            (plan.format == Format::Text && plan.verbosity != Verbosity::Quiet).then(|| {
                terminal::CaseLines::new(
                    plan.cases.iter().map(terminal::Head::of_case),
                    &secrets,
                    text_options(plan),
                )
            });
        LiveOutput {
            plan,
            lines,
            scrub: report::json::Scrub::new(&secrets),
            progress: plan
                .progress
                .then(|| report::progress::Live::new(plan.cases.len(), plan.ecolor)),
            failed: None,
        }
    }

    fn finish(self) -> Result<(), CliError> {
        if let Some(p) = self.progress {
            p.finish();
        }
        match self.failed {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// What is printed for one case.
    fn text_for(&mut self, r: &CaseResult) -> String {
        match self.plan.format {
            Format::Json => report::json::line(r, &self.scrub),
            Format::Text => {
                let Some(lines) = &mut self.lines else {
                    return String::new();
                };
                let mut out = lines.line(r);
                if self.plan.verbosity == Verbosity::Verbose {
                    out.push_str(&verbose_trace(self.plan, r));
                }
                out
            }
        }
    }
}

impl Progress for LiveOutput<'_> {
    fn started(&mut self, index: usize, case: &Case) {
        if let Some(p) = &mut self.progress {
            p.started(index, &case.id);
        }
    }

    fn finished(&mut self, index: usize, result: &CaseResult, _done: usize, _total: usize) {
        if let Some(p) = &mut self.progress {
            p.finished(index, result);
        }
    }

    fn ready(&mut self, _index: usize, result: &CaseResult) -> bool {
        let text = self.text_for(result);
        if text.is_empty() {
            return true;
        }
        let written = match &self.progress {
            Some(p) => p.suspend(|| error::print(&text)),
            None => error::print(&text),
        };
        match written {
            Ok(()) => true,
            Err(e) => {
                self.failed = Some(e);
                false
            }
        }
    }
}

/// `-v`: the case's canonical trace, indented under its line and escaped for the terminal.
fn verbose_trace(plan: &RunPlan, r: &CaseResult) -> String {
    let secrets: Vec<String> = plan.headers.iter().map(|(_, v)| v.clone()).collect();
    let trace = snapshot::trace_file(r, &redaction(plan, r), &secrets);
    let mut out = String::new();
    for line in report::escape_for_terminal(&trace).lines() {
        out.push_str("      ");
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn redaction(plan: &RunPlan, r: &CaseResult) -> Redaction {
    Redaction::default().with_headers(plan.redactions.get(&r.id).into_iter().flatten())
}

/// Layout of the text output: the terminal's width when stdout is one.
fn text_options(plan: &RunPlan) -> terminal::Options {
    let width = console::Term::stdout()
        .size_checked()
        .map(|(_, cols)| usize::from(cols))
        .filter(|_| std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .unwrap_or(terminal::DEFAULT_WIDTH);
    terminal::Options {
        color: plan.color,
        width,
        quiet: plan.verbosity == Verbosity::Quiet,
    }
}

/// Prints what follows the case lines, writes traces, snapshots and reports, and decides the
/// exit code.
pub fn emit(plan: &RunPlan, outcome: &Outcome) -> Result<u8, CliError> {
    let results = &outcome.results;
    let run_report = RunReport {
        results,
        target: outcome.target.clone(),
        duration: outcome.duration,
        fail_on: plan.fail_on,
        secrets: plan.headers.iter().map(|(_, v)| v.clone()).collect(),
        agent: outcome.agent.clone(),
        sources: if plan
            .reports
            .iter()
            .any(|r| r.kind == report::ReportKind::Html)
        {
            case_sources(results)
        } else {
            Default::default()
        },
    };
    match plan.format {
        Format::Text => error::print(&terminal::tail(&run_report, text_options(plan)))?,
        Format::Json => error::print(&report::json::summary_line(&run_report))?,
    }
    if let Some(dir) = &plan.traces {
        std::fs::create_dir_all(dir)
            .and_then(|()| {
                results.iter().try_for_each(|r| {
                    snapshot::write_atomic(
                        &snapshot::path_for(dir, &r.id),
                        &snapshot::trace_file(r, &redaction(plan, r), &run_report.secrets),
                    )
                })
            })
            .map_err(|e| {
                CliError::environment(format!("cannot write traces to {}: {e}", dir.display()))
            })?;
    }
    let mut snapshot_failed = false;
    if let Some(dir) = &plan.snapshots {
        let outcome = snapshot::run(
            dir,
            results,
            &|r: &CaseResult| redaction(plan, r),
            &run_report.secrets,
            plan.update,
            &plan.known,
        )
        .map_err(|e| CliError::environment(format!("snapshots in {}: {e}", dir.display())))?;
        // Diffs show what the server sent: escaped like every other output.
        let text = render_snapshots(&outcome, dir, plan.update);
        error::print(&report::escape_for_terminal(&text))?;
        snapshot_failed = !plan.update && outcome.failed();
    }
    for r in &plan.reports {
        report::write(r.kind, &r.path, &run_report).map_err(|e| {
            CliError::environment(format!("cannot write report {}: {e}", r.path.display()))
        })?;
    }
    let verdicts_failed = match &plan.expect {
        Some(expect) => !expectations(plan, expect, results)?,
        None => results.iter().any(|r| r.verdict.is_failure(plan.fail_on)),
    };
    Ok(if snapshot_failed || verdicts_failed {
        exit::FAILURE
    } else {
        exit::OK
    })
}

/// The YAML source of each result's case: the list item at its location, read from the
/// built-in suites or the suite file again. A file that cannot be read again leaves its cases
/// without source (the report says so); the run itself has already used it.
fn case_sources(results: &[CaseResult]) -> std::collections::HashMap<String, String> {
    let embedded = crate::suite::embedded();
    let mut files: std::collections::HashMap<std::path::PathBuf, Option<String>> =
        Default::default();
    let mut out = std::collections::HashMap::new();
    for r in results {
        let path = r.location.file.as_path();
        let text = files.entry(path.to_path_buf()).or_insert_with(|| {
            embedded
                .iter()
                .find(|s| s.path == path)
                .map(|s| s.text.clone())
                .or_else(|| std::fs::read_to_string(path).ok())
        });
        if let Some(text) = text {
            out.insert(
                r.id.clone(),
                super::show::case_source(text, r.location.line as usize),
            );
        }
    }
    out
}

/// `--expect`: compares the run with the file and prints the differences, or with
/// `--expect-update` rewrites the file. Returns whether the run matches (an update always does).
fn expectations(
    plan: &RunPlan,
    expect: &super::plan::ExpectPlan,
    results: &[CaseResult],
) -> Result<bool, CliError> {
    let is_loaded = |key: &str| plan.known.contains(key) || plan.known_autobahn.contains(key);
    if expect.update {
        let update = expect.expectations.updated(results, &is_loaded);
        snapshot::write_atomic(&expect.path, &update.text).map_err(|e| {
            CliError::environment(format!(
                "cannot write expectations {}: {e}",
                expect.path.display()
            ))
        })?;
        let line = format!(
            "expectations: wrote {} ({} unchanged, {} changed, {} added, {} kept from cases not run, {} dropped)\n",
            expect.path.display(),
            update.unchanged,
            update.changed,
            update.added,
            update.kept,
            update.dropped
        );
        match plan.format {
            Format::Text => error::print(&line)?,
            Format::Json => eprint!("wsprobe: {line}"),
        }
        return Ok(true);
    }
    let comparison = expect.expectations.compare(results, &is_loaded);
    match plan.format {
        Format::Text => error::print(&comparison.render_text(plan.color))?,
        Format::Json => error::print(&comparison.render_json())?,
    }
    Ok(comparison.matches())
}

/// The snapshot section of the output.
fn render_snapshots(o: &snapshot::Outcome, dir: &std::path::Path, update: bool) -> String {
    let mut out = String::new();
    for (id, diff) in &o.mismatched {
        out.push_str(&format!("\nsnapshot mismatch: {id}\n{diff}"));
    }
    for id in &o.pending {
        out.push_str(&format!(
            "snapshot pending: {id} has no stored trace in {}\n",
            dir.display()
        ));
    }
    for path in &o.stale {
        out.push_str(&format!(
            "snapshot stale: {} belongs to no loaded case (delete it if the case is gone)\n",
            path.display()
        ));
    }
    if update {
        out.push_str(&format!(
            "snapshots: {} written, {} unchanged in {}\n",
            o.written.len(),
            o.matched,
            dir.display()
        ));
    } else {
        out.push_str(&format!(
            "snapshots: {} matched, {} mismatched, {} pending, {} stale in {}\n",
            o.matched,
            o.mismatched.len(),
            o.pending.len(),
            o.stale.len(),
            dir.display()
        ));
    }
    out
}
