//! `wsprobe run` and `wsprobe list`: arguments, validation before anything runs, the embedded
//! reference server, and the exit code.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::ValueEnum;

use super::exit;
use super::snapshot;
use crate::report::{self, RunReport};
use crate::runner::select::{Selection, parse_partition, select};
use crate::runner::{self, CaseContext, RunConfig, Target};
use crate::serve::{ServeConfig, ServeMode, Server};
use crate::suite::{self, Source};
use crate::trace::canonical::Redaction;

/// Largest `--max-message-size`: wsprobe holds a message in memory to match it, so the limit
/// must stay one a machine can hold.
const MAX_MESSAGE_SIZE_LIMIT: u64 = 4 << 30;

/// Output format on stdout.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// Human-readable, colored when the terminal supports it.
    Text,
    /// One JSON object per line.
    Json,
}

/// Arguments of `wsprobe run`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  wsprobe run                                          # built-in suites, embedded server
  wsprobe run --target ws://127.0.0.1:9001/            # built-in suites, your server
  wsprobe run suites/examples/counter.yaml --target ws://127.0.0.1:8082/
  wsprobe run --case 'ping.*' --report junit=report.xml --report autobahn=reports/")]
pub struct RunArgs {
    /// Suite files or directories (default: the built-in conformance suites).
    paths: Vec<PathBuf>,
    /// The server to test (ws://host:port/path). Without it, an embedded echo server is started
    /// on 127.0.0.1 and tested.
    #[arg(long)]
    target: Option<String>,
    /// Run only cases whose id or Autobahn id matches this glob (repeatable).
    #[arg(long = "case", value_name = "GLOB")]
    cases: Vec<String>,
    /// Run only cases with this tag (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    /// Leave out cases whose id or Autobahn id matches this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Cases run at once.
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,
    /// Run only the K-th of N slices of the sorted case list (CI sharding), e.g. 2/4.
    #[arg(long, value_name = "K/N")]
    partition: Option<String>,
    /// Count NON-STRICT verdicts as failures.
    #[arg(long)]
    strict: bool,
    /// Stop starting cases after the first failure.
    #[arg(long)]
    fail_fast: bool,
    /// Multiply every timeout and deadline (slow CI machines).
    #[arg(long, value_name = "X", default_value_t = 1.0)]
    timeout_scale: f64,
    /// Largest message accepted from the server, in bytes (1 to 4 GiB); larger is a finding.
    /// It also bounds memory: a connection keeps at most twice this much received data (at
    /// least 16 MiB) and 100 000 frames; a server sending more is an excessive-traffic finding.
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024 * 1024)]
    max_message_size: u64,
    /// Memory for everything kept of what servers send, shared by all cases in flight (bytes,
    /// or with KiB/MiB/GiB; at least 1 MiB). A case may keep 1/(2 x jobs) of it at once, one
    /// case at a time more (over half); beyond that its server gets an excessive-traffic
    /// finding. Cases waiting for memory stop reading; they are never failed for it.
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = runner::budget::parse_size)]
    max_memory: u64,
    /// Extra request header for every handshake, e.g. 'Authorization: Bearer x' (repeatable;
    /// values are redacted in traces and reports).
    #[arg(long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Also write a report: junit=FILE, tap=FILE, json=FILE, autobahn=DIR (repeatable).
    #[arg(long = "report", value_name = "KIND=PATH")]
    reports: Vec<String>,
    /// Write one canonical trace file per case into DIR (`<case-id>.trace`).
    #[arg(long, value_name = "DIR")]
    traces: Option<PathBuf>,
    /// Compare each case's trace with the snapshot stored in DIR; a difference, or a case
    /// without a snapshot, fails the run (exit 1) with a unified diff.
    #[arg(long, value_name = "DIR")]
    snapshots: Option<PathBuf>,
    /// With --snapshots: compare only (the default).
    #[arg(long, requires = "snapshots", conflicts_with = "update")]
    check: bool,
    /// With --snapshots: write the new traces as the snapshots instead of comparing.
    #[arg(long, requires = "snapshots")]
    update: bool,
    /// Redact the value of this response header in traces (repeatable; Date always is).
    #[arg(long = "redact-header", value_name = "NAME")]
    redact_headers: Vec<String>,
    /// Colored output (NO_COLOR in the environment also turns it off).
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    color: ColorArg,
}

/// `--color` values.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ColorArg {
    /// Color when writing to a terminal and NO_COLOR is not set.
    Auto,
    /// Always color.
    Always,
    /// Never color.
    Never,
}

/// Whether to color a stream: `--color`, then NO_COLOR, then whether it is a terminal.
pub fn use_color(arg: ColorArg, is_terminal: bool) -> bool {
    match arg {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

fn stdout_color(arg: ColorArg) -> bool {
    use std::io::IsTerminal;
    use_color(arg, std::io::stdout().is_terminal())
}

fn stderr_color(arg: ColorArg) -> bool {
    use std::io::IsTerminal;
    use_color(arg, std::io::stderr().is_terminal())
}

/// Arguments of `wsprobe list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Suite files or directories (default: the built-in conformance suites).
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// A report requested with `--report`.
#[derive(Debug, Clone)]
struct ReportTarget {
    kind: report::ReportKind,
    path: PathBuf,
}

fn parse_report(text: &str) -> Result<ReportTarget, String> {
    let (kind, path) = text.split_once('=').ok_or_else(|| {
        format!("--report '{text}' must be KIND=PATH (junit, tap, json, autobahn)")
    })?;
    let kind = match kind {
        "junit" => report::ReportKind::Junit,
        "tap" => report::ReportKind::Tap,
        "json" => report::ReportKind::Json,
        "autobahn" => report::ReportKind::Autobahn,
        other => {
            return Err(format!(
                "unknown report kind '{other}': expected junit, tap, json or autobahn"
            ));
        }
    };
    if path.is_empty() {
        return Err(format!("--report '{text}' has an empty path"));
    }
    Ok(ReportTarget {
        kind,
        path: PathBuf::from(path),
    })
}

/// Checks that a report can be written there, before anything runs.
fn check_writable(r: &ReportTarget) -> Result<(), String> {
    let parent = match r.kind {
        report::ReportKind::Autobahn => {
            if r.path.exists() && !r.path.is_dir() {
                return Err(format!(
                    "report directory {} exists and is not a directory",
                    r.path.display()
                ));
            }
            r.path.parent().map(PathBuf::from)
        }
        _ => {
            if r.path.is_dir() {
                return Err(format!("report path {} is a directory", r.path.display()));
            }
            r.path.parent().map(PathBuf::from)
        }
    };
    let parent = parent
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    if parent.exists() && !parent.is_dir() {
        return Err(format!(
            "cannot write report {}: {} is not a directory",
            r.path.display(),
            parent.display()
        ));
    }
    if !parent.is_dir() {
        return Err(format!(
            "cannot write report {}: directory {} does not exist",
            r.path.display(),
            parent.display()
        ));
    }
    let meta = std::fs::metadata(&parent)
        .map_err(|e| format!("cannot write report {}: {e}", r.path.display()))?;
    if meta.permissions().readonly() {
        return Err(format!(
            "cannot write report {}: directory {} is read-only",
            r.path.display(),
            parent.display()
        ));
    }
    Ok(())
}

fn parse_header(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("--header '{text}' must be 'Name: value'"))?;
    let name = name.trim();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
        return Err(format!("--header '{text}' has an invalid header name"));
    }
    Ok((name.to_string(), value.trim().to_string()))
}

/// Loads suites from paths (or the embedded ones), printing diagnostics on failure.
fn load_suites(paths: &[PathBuf], color: bool) -> Result<Vec<suite::model::Suite>, u8> {
    let sources: Vec<Source> = if paths.is_empty() {
        suite::embedded()
    } else {
        match suite::read_paths(paths) {
            Ok(s) => s,
            Err(diags) => {
                for d in diags {
                    eprintln!("{}", report::render_diagnostic(&d, color));
                }
                return Err(exit::USAGE);
            }
        }
    };
    match suite::load(&sources) {
        Ok(suites) => Ok(suites),
        Err(diags) => {
            let n = diags.len();
            for d in diags {
                eprintln!("{}", report::render_diagnostic(&d, color));
            }
            eprintln!(
                "wsprobe: {n} error{} in the suites; nothing was run",
                if n == 1 { "" } else { "s" }
            );
            Err(exit::USAGE)
        }
    }
}

/// `wsprobe list`.
pub fn list(args: ListArgs) -> u8 {
    let suites = match load_suites(&args.paths, stderr_color(ColorArg::Auto)) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let cases: Vec<_> = suites.into_iter().flat_map(|s| s.cases).collect();
    let out = match args.format {
        Format::Text => report::list_text(&cases),
        Format::Json => report::list_json(&cases),
    };
    print!("{out}");
    if cases.is_empty() {
        exit::NO_CASES
    } else {
        exit::OK
    }
}

/// `wsprobe run`.
pub fn run(args: RunArgs) -> u8 {
    let color = stdout_color(args.color);
    let ecolor = stderr_color(args.color);
    // Everything is validated before any connection opens.
    let usage = |msg: String| {
        eprintln!("wsprobe: {msg}");
        exit::USAGE
    };
    let mut reports = Vec::new();
    for r in &args.reports {
        match parse_report(r).and_then(|r| check_writable(&r).map(|_| r)) {
            Ok(r) => reports.push(r),
            Err(e) => return usage(e),
        }
    }
    let partition = match args.partition.as_deref().map(parse_partition).transpose() {
        Ok(p) => p,
        Err(e) => return usage(e),
    };
    if !(args.timeout_scale.is_finite() && args.timeout_scale > 0.0 && args.timeout_scale <= 100.0)
    {
        return usage(format!(
            "--timeout-scale {} must be a number above 0 and at most 100",
            args.timeout_scale
        ));
    }
    if !(1..=MAX_MESSAGE_SIZE_LIMIT).contains(&args.max_message_size) {
        return usage(format!(
            "--max-message-size {} must be between 1 and {MAX_MESSAGE_SIZE_LIMIT} bytes (4 GiB)",
            args.max_message_size
        ));
    }
    if args.jobs == Some(0) {
        return usage("--jobs must be at least 1".into());
    }
    if args.max_memory < runner::budget::MIN_MAX_MEMORY {
        return usage(format!(
            "--max-memory {} must be at least 1 MiB",
            args.max_memory
        ));
    }
    let mut headers = Vec::new();
    for h in &args.headers {
        match parse_header(h) {
            Ok(h) => headers.push(h),
            Err(e) => return usage(e),
        }
    }
    let target = match args.target.as_deref().map(Target::parse).transpose() {
        Ok(t) => t,
        Err(e) => return usage(e.to_string()),
    };
    let suites = match load_suites(&args.paths, ecolor) {
        Ok(s) => s,
        Err(code) => return code,
    };
    for dir in [&args.traces, &args.snapshots].into_iter().flatten() {
        if dir.exists() && !dir.is_dir() {
            return usage(format!("{} exists and is not a directory", dir.display()));
        }
        let parent = dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        if !dir.exists() && !parent.is_dir() {
            return usage(format!(
                "cannot create {}: {} does not exist",
                dir.display(),
                parent.display()
            ));
        }
        // Where the files will go must be writable now, not only after every case has run.
        let home = if dir.exists() { dir.as_path() } else { parent };
        if std::fs::metadata(home).is_ok_and(|m| m.permissions().readonly()) {
            return usage(format!(
                "cannot write to {}: {} is read-only",
                dir.display(),
                home.display()
            ));
        }
    }
    // Moved, not cloned: a suite of 10 000 cases would otherwise be held twice.
    let all: Vec<_> = suites.into_iter().flat_map(|s| s.cases).collect();
    let known: std::collections::BTreeSet<String> = all.iter().map(|c| c.id.clone()).collect();
    let selection = Selection {
        cases: args.cases.clone(),
        tags: args.tags.clone(),
        exclude: args.exclude.clone(),
        partition,
    };
    let total_before = all.len();
    let cases = select(all, &selection);
    let redactions: std::collections::HashMap<String, Vec<String>> = cases
        .iter()
        .map(|c| {
            let mut names = c.redact_headers.clone();
            names.extend(args.redact_headers.iter().cloned());
            (c.id.clone(), names)
        })
        .collect();
    if cases.is_empty() {
        eprintln!("wsprobe: no case selected (of {total_before})");
        return exit::NO_CASES;
    }
    let rt = match super::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    rt.block_on(async move {
        let (server, target) = match target {
            Some(t) => (None, t),
            None => {
                let config = ServeConfig {
                    host: "127.0.0.1".into(),
                    port: 0,
                    mode: ServeMode::Echo,
                    max_message_size: 64 * 1024 * 1024,
                };
                match Server::start(config).await {
                    Ok(server) => {
                        let url = server.url();
                        match Target::parse(&url) {
                            Ok(t) => (Some(server), t),
                            Err(e) => {
                                eprintln!("wsprobe: embedded server: {e}");
                                return exit::ENVIRONMENT;
                            }
                        }
                    }
                    Err(e) => {
                        eprintln!("wsprobe: cannot start the embedded server: {e}");
                        return exit::ENVIRONMENT;
                    }
                }
            }
        };
        let addr = match target
            .preflight(Duration::from_secs_f64(5.0 * args.timeout_scale))
            .await
        {
            Ok(a) => a,
            Err(e) => {
                eprintln!("wsprobe: {e}");
                return exit::ENVIRONMENT;
            }
        };
        let jobs = args.jobs.unwrap_or_else(runner::default_jobs);
        let config = RunConfig {
            context: CaseContext {
                addr,
                host: target.host_header(),
                path: target.path.clone(),
                timeout_scale: args.timeout_scale,
                max_message: args.max_message_size,
                headers: headers.clone(),
                seed: None,
                idle_timeout: crate::runner::exec::DEFAULT_IDLE_TIMEOUT,
                memory: runner::budget::Budget::new(args.max_memory, jobs),
            },
            jobs,
            fail_fast: args.fail_fast,
            strict: args.strict,
        };
        let started = Instant::now();
        let mut progress = report::progress(
            args.format == Format::Text && std::io::IsTerminal::is_terminal(&std::io::stderr()),
            ecolor,
        );
        let results = runner::run(cases, &config, progress.as_mut()).await;
        drop(progress);
        if let Some(server) = server {
            server.shutdown().await;
        }
        let run_report = RunReport {
            results: &results,
            target: if args.target.is_some() {
                target.url.clone()
            } else {
                format!("{} (embedded reference server)", target.url)
            },
            duration: started.elapsed(),
            strict: args.strict,
            secrets: headers.iter().map(|(_, v)| v.clone()).collect(),
        };
        match args.format {
            Format::Text => print!("{}", report::terminal::render(&run_report, color)),
            Format::Json => print!("{}", report::json::render(&run_report)),
        }
        let redaction = |r: &runner::CaseResult| {
            Redaction::default().with_headers(redactions.get(&r.id).into_iter().flatten())
        };
        if let Some(dir) = &args.traces {
            let written = std::fs::create_dir_all(dir).and_then(|_| {
                results.iter().try_for_each(|r| {
                    snapshot::write_atomic(
                        &snapshot::path_for(dir, &r.id),
                        &snapshot::trace_file(r, &redaction(r), &run_report.secrets),
                    )
                })
            });
            if let Err(e) = written {
                eprintln!("wsprobe: cannot write traces to {}: {e}", dir.display());
                return exit::ENVIRONMENT;
            }
        }
        let mut snapshot_failed = false;
        if let Some(dir) = &args.snapshots {
            match snapshot::run(
                dir,
                &results,
                &redaction,
                &run_report.secrets,
                args.update,
                &known,
            ) {
                Ok(outcome) => {
                    // Diffs show what the server sent: escaped like every other output.
                    let text = render_snapshots(&outcome, dir, args.update);
                    print!("{}", report::escape_for_terminal(&text));
                    snapshot_failed = !args.update && outcome.failed();
                }
                Err(e) => {
                    eprintln!("wsprobe: snapshots in {}: {e}", dir.display());
                    return exit::ENVIRONMENT;
                }
            }
        }
        for r in &reports {
            if let Err(e) = report::write(r.kind, &r.path, &run_report) {
                eprintln!("wsprobe: cannot write report {}: {e}", r.path.display());
                return exit::ENVIRONMENT;
            }
        }
        if snapshot_failed || results.iter().any(|r| r.verdict.is_failure(args.strict)) {
            exit::FAILURE
        } else {
            exit::OK
        }
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_arguments() {
        assert!(matches!(
            parse_report("junit=out.xml").map(|r| r.kind),
            Ok(report::ReportKind::Junit)
        ));
        assert!(parse_report("html=x").is_err());
        assert!(parse_report("junit").is_err());
        assert!(parse_report("junit=").is_err());
    }

    #[test]
    fn header_arguments() {
        assert_eq!(
            parse_header("Authorization: Bearer x"),
            Ok(("Authorization".into(), "Bearer x".into()))
        );
        assert!(parse_header("no colon").is_err());
        assert!(parse_header(": v").is_err());
    }
}
