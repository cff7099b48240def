//! `wsprobe run`'s flags and the validated [`RunPlan`] they become. [`RunPlan::from_args`] is
//! the one step that checks everything a run needs before any connection opens: flags, suites,
//! report and trace paths. It opens no connection and writes nothing; every error it returns
//! carries its exit code.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::ValueEnum;

use super::error::CliError;
use super::exit;
use crate::report;
use crate::report::expect::Expectations;
use crate::runner::result::FailOn;
use crate::runner::select::{Selection, parse_partition, select};
use crate::runner::{self, Target};
use crate::suite::model::PeerKind;
use crate::suite::{self, Source, model::Case};

/// Largest `--max-message-size`: wsprobe holds a message in memory to match it, so the limit
/// must stay one a machine can hold.
const MAX_MESSAGE_SIZE_LIMIT: u64 = 4 << 30;

/// Longest `--idle-timeout` (before scaling): longer than any case deadline is pointless.
const MAX_IDLE_TIMEOUT: Duration = Duration::from_secs(3600);

/// Output format on stdout.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// Human-readable, colored when the terminal supports it.
    Text,
    /// One JSON object per line.
    Json,
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

/// Arguments of `wsprobe run`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  wsprobe run                                          # built-in suites, embedded server
  wsprobe run --target ws://127.0.0.1:9001/            # built-in suites, your server
  wsprobe run --target wss://ws.example.com/chat --ca ca.pem  # TLS, trusting only ca.pem
  wsprobe run --tls                                    # built-in suites over TLS, embedded server
  wsprobe run suites/examples/counter.yaml --target ws://127.0.0.1:8082/
  wsprobe run -q --case 'ping.*' --report junit=report.xml --report autobahn=reports/")]
pub struct RunArgs {
    /// Suite files or directories (default: the built-in conformance suites).
    paths: Vec<PathBuf>,
    /// The server to test (ws://host:port/path, or wss:// for TLS; user:password@ in the URL
    /// is sent as Basic authorization and never shown). Without it, an embedded echo server is
    /// started on 127.0.0.1 and tested.
    #[arg(long)]
    target: Option<String>,
    /// Speak TLS without a wss:// target: the embedded server (no --target) or, with --client,
    /// wsprobe's listener serves wss:// (and https:// for /browser) with a certificate
    /// generated at start, or the one of --cert/--key.
    #[arg(long, conflicts_with = "target")]
    tls: bool,
    /// Open every WebSocket over HTTP/2 as an extended CONNECT stream (RFC 8441): h2c with
    /// prior knowledge for ws://, ALPN h2 for wss://. Without --target the embedded server
    /// serves HTTP/2 too; with --client the listener accepts HTTP/2 as well (h2c, or ALPN h2
    /// with --tls) and judges each extended CONNECT like an upgrade. Cases about the HTTP/1.1
    /// upgrade (tag http1) are left out; the HTTP/2 suite (tag http2) runs only with it.
    #[arg(long)]
    http2: bool,
    /// wss:// targets: trust only the CA certificates of this PEM file instead of the system's
    /// store.
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// wss:// targets: accept any certificate (the report says so in its header).
    #[arg(long, short = 'k')]
    insecure: bool,
    /// The certificate chain (PEM) wsprobe presents: as the client of a wss:// target when the
    /// server asks for one; with --tls, as the server.
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<PathBuf>,
    /// The private key (PEM) of --cert.
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
    /// Reach the target through this HTTP proxy (CONNECT): http://[user:password@]host[:port]
    /// (default port 1080). It beats https_proxy/HTTPS_PROXY (wss://), http_proxy (ws://),
    /// all_proxy/ALL_PROXY and NO_PROXY, which are read like curl does; '' means no proxy.
    #[arg(long, value_name = "URL", conflicts_with = "client")]
    proxy: Option<String>,
    /// Judge a WebSocket client instead of a server: wsprobe listens (--listen), prints its
    /// ws:// URL as the first line, and serves Autobahn's fuzzing-server protocol
    /// (/getCaseCount, /runCase?case=N&agent=A, /updateReports?agent=A, ...) plus /browser.
    #[arg(long, conflicts_with_all = ["target", "partition", "snapshots"])]
    client: bool,
    /// With --client: the address to listen on (port 0 picks a free port).
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:9001",
        requires = "client"
    )]
    listen: String,
    /// With --client: start this client harness (`sh -c`, with WSPROBE_URL set) and end the
    /// run when it exits or asks for /updateReports.
    #[arg(long, value_name = "CMD", requires = "client")]
    exec: Option<String>,
    /// With --client --http2: each HTTP/2 connection's SETTINGS (which enable extended
    /// CONNECT) go out this long after it opened; an extended CONNECT that arrives before is
    /// a finding (RFC 8441 §3: a client must wait for the setting). 0ms sends them at once.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "100ms",
        value_parser = super::parse_duration_arg,
        requires = "client"
    )]
    http2_settings_delay: Duration,
    /// With --client: end the run after this long whatever the client does (default: the
    /// sum of the selected cases' deadlines plus one minute).
    #[arg(long, value_name = "DURATION", value_parser = super::parse_duration_arg, requires = "client")]
    run_timeout: Option<Duration>,
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
    /// Count NON-STRICT verdicts as failures (shorthand for adding NON-STRICT to --fail-on).
    #[arg(long)]
    strict: bool,
    /// The verdicts that fail the run when there is no --expect file, comma-separated
    /// (default FAIL,ERROR; also NON-STRICT, INFORMATIONAL, UNIMPLEMENTED, SKIP).
    #[arg(long, value_name = "VERDICTS", value_parser = parse_fail_on)]
    fail_on: Option<FailOn>,
    /// Compare each case's verdict and closing behaviour with this recorded expectations file
    /// (docs/expectations.md): only differences fail the run, whatever the verdicts are.
    #[arg(long, value_name = "FILE")]
    expect: Option<PathBuf>,
    /// With --expect: write the run's verdicts to the file instead of comparing (keeps the
    /// comments of lines that stay the same).
    #[arg(long)]
    expect_update: bool,
    /// Read defaults for this run from FILE (TOML, docs/configuration.md) instead of
    /// ./wsprobe.toml; flags given here override its keys.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub(super) config: Option<PathBuf>,
    /// Do not read ./wsprobe.toml.
    #[arg(long)]
    pub(super) no_config: bool,
    /// After the first failure, cancel the cases still running (reported as SKIP) and start
    /// no other.
    #[arg(long)]
    fail_fast: bool,
    /// Multiply every timeout and deadline (slow CI machines).
    #[arg(long, value_name = "X", default_value_t = 1.0)]
    timeout_scale: f64,
    /// A wait ends when nothing at all arrives from the server for this long (scaled by
    /// --timeout-scale); the case's own deadline still caps waits while data flows.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = super::parse_duration_arg)]
    idle_timeout: Duration,
    /// Make mask keys and handshake nonces reproducible from this number (for debugging);
    /// by default they come from the operating system's entropy source.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Do not check first that the target answers a valid handshake with 101 (for suites
    /// that test handshake refusals on purpose).
    #[arg(long)]
    no_preflight: bool,
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
    /// Offer this extension in every handshake whose case offers none, e.g.
    /// 'permessage-deflate; client_max_window_bits' (repeatable; a suite's
    /// `defaults.extensions` and a case's own `extensions` come first).
    #[arg(long = "extension", value_name = "ELEMENT")]
    extensions: Vec<String>,
    /// Extra request header for every handshake, e.g. 'Authorization: Bearer x' (repeatable;
    /// values are redacted in traces and reports).
    #[arg(long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// Output format on stdout (both stream one case at a time).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Text output: no case lines, only failures, notes and the summary.
    #[arg(long, short = 'q', conflicts_with = "verbose")]
    quiet: bool,
    /// Text output: every case's trace under its line.
    #[arg(long, short = 'v')]
    verbose: bool,
    /// Also write a report: junit=FILE, tap=FILE, json=FILE, autobahn=DIR, html=FILE (repeatable).
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

impl RunArgs {
    /// Fills every setting the command line did not give from the configuration file's
    /// `[run]` table. `given(id)` says whether the flag with that clap id was on the command
    /// line; a list given there replaces the file's list.
    pub(super) fn apply_config(
        &mut self,
        run: &super::config::RunSection,
        given: &dyn Fn(&str) -> bool,
    ) -> Result<(), CliError> {
        fn list<T: Clone>(
            field: &mut Vec<T>,
            id: &str,
            value: &Option<Vec<T>>,
            given: &dyn Fn(&str) -> bool,
        ) {
            if let (false, Some(v)) = (given(id), value) {
                field.clone_from(v);
            }
        }
        fn one<T: Clone>(
            field: &mut Option<T>,
            id: &str,
            value: &Option<T>,
            given: &dyn Fn(&str) -> bool,
        ) {
            if let (false, Some(v)) = (given(id), value) {
                *field = Some(v.clone());
            }
        }
        one(&mut self.target, "target", &run.target, given);
        list(&mut self.paths, "paths", &run.suites, given);
        one(&mut self.jobs, "jobs", &run.jobs, given);
        list(&mut self.cases, "cases", &run.case, given);
        list(&mut self.tags, "tags", &run.tag, given);
        list(&mut self.exclude, "exclude", &run.exclude, given);
        one(&mut self.expect, "expect", &run.expect, given);
        list(&mut self.reports, "reports", &run.report, given);
        list(&mut self.headers, "headers", &run.header, given);
        list(&mut self.extensions, "extensions", &run.extension, given);
        one(&mut self.traces, "traces", &run.traces, given);
        one(&mut self.snapshots, "snapshots", &run.snapshots, given);
        if let (false, Some(strict)) = (given("strict"), run.strict) {
            self.strict = strict;
        }
        if let (false, Some(scale)) = (given("timeout_scale"), run.timeout_scale) {
            self.timeout_scale = scale;
        }
        if let (false, Some(words)) = (given("fail_on"), &run.fail_on) {
            self.fail_on = Some(FailOn::parse(&words.join(",")).map_err(CliError::usage)?);
        }
        if let (false, Some(text)) = (given("idle_timeout"), &run.idle_timeout) {
            self.idle_timeout = super::parse_duration_arg(text)
                .map_err(|e| CliError::usage(format!("idle-timeout in the configuration: {e}")))?;
        }
        Ok(())
    }
}

fn parse_fail_on(text: &str) -> Result<FailOn, String> {
    FailOn::parse(text)
}

/// `--expect FILE` (and `--expect-update`), read and checked before anything runs.
#[derive(Debug)]
pub struct ExpectPlan {
    /// The file.
    pub path: PathBuf,
    /// Its contents (none yet when `--expect-update` creates it).
    pub expectations: Expectations,
    /// `--expect-update`: write the file from the run instead of comparing.
    pub update: bool,
}

impl ExpectPlan {
    fn load(path: &Path, update: bool, color: bool) -> Result<ExpectPlan, CliError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if update && e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                return Err(CliError::usage(format!(
                    "cannot read expectations {}: {e}",
                    path.display()
                )));
            }
        };
        let expectations = Expectations::parse(path, &text).map_err(|diags| {
            let n = diags.len();
            CliError::verbatim(
                exit::USAGE,
                format!(
                    "{}\nwsprobe: {n} error{} in {}; nothing was run",
                    diags
                        .iter()
                        .map(|d| report::render_diagnostic(d, color))
                        .collect::<Vec<_>>()
                        .join("\n"),
                    if n == 1 { "" } else { "s" },
                    path.display()
                ),
            )
        })?;
        if update {
            let probe = ReportTarget {
                kind: report::ReportKind::Json,
                path: path.to_path_buf(),
            };
            check_writable(&probe).map_err(CliError::usage)?;
        }
        Ok(ExpectPlan {
            path: path.to_path_buf(),
            expectations,
            update,
        })
    }
}

/// Arguments of `wsprobe list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Suite files or directories (default: the built-in conformance suites).
    pub paths: Vec<PathBuf>,
    /// List only cases whose id or Autobahn id matches this glob (repeatable).
    #[arg(long = "case", value_name = "GLOB")]
    pub cases: Vec<String>,
    /// List only cases with this tag (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Leave out cases whose id or Autobahn id matches this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// How much the text output says about each case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    /// `-q`: failures, notes and the summary only.
    Quiet,
    /// One line per case.
    Normal,
    /// `-v`: one line and the whole trace per case.
    Verbose,
}

/// What the terminal is, as far as the plan cares: whether stdout and stderr are terminals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terminal {
    /// Stdout is a terminal.
    pub stdout: bool,
    /// Stderr is a terminal.
    pub stderr: bool,
}

impl Terminal {
    /// The process's own stdout and stderr.
    pub fn detect() -> Terminal {
        use std::io::IsTerminal;
        Terminal {
            stdout: std::io::stdout().is_terminal(),
            stderr: std::io::stderr().is_terminal(),
        }
    }
}

/// A report requested with `--report`.
#[derive(Debug, Clone)]
pub struct ReportTarget {
    /// Which format.
    pub kind: report::ReportKind,
    /// Where.
    pub path: PathBuf,
}

/// `run --client`: wsprobe listens and judges a client.
#[derive(Debug, Clone)]
pub struct ClientPlan {
    /// `--listen`.
    pub listen: String,
    /// `--exec`.
    pub exec: Option<String>,
    /// `--run-timeout`, or the default bound.
    pub bound: Duration,
    /// `--http2-settings-delay`.
    pub http2_settings_delay: Duration,
}

/// A validated `wsprobe run`: everything the run, its output and its reports need.
#[derive(Debug)]
pub struct RunPlan {
    /// `--target`, or `None` for the embedded server.
    pub target: Option<Target>,
    /// The selected cases, in run order (never empty).
    pub cases: Vec<Case>,
    /// Every loaded case id (stale snapshots are those of no loaded case).
    pub known: BTreeSet<String>,
    /// Every loaded case's Autobahn id (expectations may name a case by it).
    pub known_autobahn: BTreeSet<String>,
    /// Response headers redacted in each case's trace.
    pub redactions: HashMap<String, Vec<String>>,
    /// `--report` files.
    pub reports: Vec<ReportTarget>,
    /// `--traces DIR`.
    pub traces: Option<PathBuf>,
    /// `--snapshots DIR`.
    pub snapshots: Option<PathBuf>,
    /// `--update`.
    pub update: bool,
    /// `--header` pairs.
    pub headers: Vec<(String, String)>,
    /// Cases at once.
    pub jobs: usize,
    /// `--fail-on` (and `--strict`): the verdicts that fail the run.
    pub fail_on: FailOn,
    /// `--expect FILE`: the recorded expectations (empty when the file is to be created by
    /// `--expect-update`).
    pub expect: Option<ExpectPlan>,
    /// `--fail-fast`.
    pub fail_fast: bool,
    /// `--timeout-scale`.
    pub timeout_scale: f64,
    /// `--max-message-size`.
    pub max_message: u64,
    /// `--max-memory`.
    pub max_memory: u64,
    /// `--idle-timeout`, before scaling.
    pub idle_timeout: Duration,
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--extension`.
    pub extensions: Vec<String>,
    /// Whether the preflight handshake runs (not `--no-preflight`).
    pub preflight: bool,
    /// `--format`.
    pub format: Format,
    /// `-q` / `-v`.
    pub verbosity: Verbosity,
    /// Color on stdout.
    pub color: bool,
    /// Color on stderr.
    pub ecolor: bool,
    /// Draw the live progress line on stderr.
    pub progress: bool,
    /// `--client`: judge a client.
    pub client: Option<ClientPlan>,
    /// How cases reach the target: TLS settings for wss://, the proxy.
    pub transport: crate::net::Transport,
    /// `--tls`: the TLS of the embedded server or of the `--client` listener.
    pub server_tls: Option<crate::net::ServerTls>,
}

impl RunPlan {
    /// Checks every flag, loads and selects the suites, and checks the report and trace paths.
    pub fn from_args(args: &RunArgs, term: Terminal) -> Result<RunPlan, CliError> {
        let color = use_color(args.color, term.stdout);
        let ecolor = use_color(args.color, term.stderr);
        let reports = args
            .reports
            .iter()
            .map(|r| parse_report(r).and_then(|r| check_writable(&r).map(|()| r)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(CliError::usage)?;
        let partition = args
            .partition
            .as_deref()
            .map(parse_partition)
            .transpose()
            .map_err(CliError::usage)?;
        if !(args.timeout_scale.is_finite()
            && args.timeout_scale > 0.0
            && args.timeout_scale <= 100.0)
        {
            return Err(CliError::usage(format!(
                "--timeout-scale {} must be a number above 0 and at most 100",
                args.timeout_scale
            )));
        }
        if args.idle_timeout.is_zero() || args.idle_timeout > MAX_IDLE_TIMEOUT {
            return Err(CliError::usage(format!(
                "--idle-timeout {:?} must be above 0 and at most 1h",
                args.idle_timeout
            )));
        }
        if !(1..=MAX_MESSAGE_SIZE_LIMIT).contains(&args.max_message_size) {
            return Err(CliError::usage(format!(
                "--max-message-size {} must be between 1 and {MAX_MESSAGE_SIZE_LIMIT} bytes (4 GiB)",
                args.max_message_size
            )));
        }
        if args.jobs == Some(0) {
            return Err(CliError::usage("--jobs must be at least 1"));
        }
        if args.max_memory < runner::budget::MIN_MAX_MEMORY {
            return Err(CliError::usage(format!(
                "--max-memory {} must be at least 1 MiB",
                args.max_memory
            )));
        }
        let headers = args
            .headers
            .iter()
            .map(|h| parse_header(h))
            .collect::<Result<Vec<_>, _>>()
            .map_err(CliError::usage)?;
        let target = args
            .target
            .as_deref()
            .map(Target::parse)
            .transpose()
            .map_err(CliError::usage)?;
        let mut headers = headers;
        if let Some((name, value)) = target.as_ref().and_then(Target::authorization) {
            if headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
                return Err(CliError::usage(
                    "the target URL's user:password@ and --header Authorization both set \
                     Authorization; give one of them",
                ));
            }
            headers.push((name, value));
        }
        let (mut transport, server_tls) = tls_settings(args, target.as_ref())?;
        transport.http2 = args.http2;
        if args.expect_update && args.expect.is_none() {
            return Err(CliError::usage("--expect-update needs --expect FILE"));
        }
        let expect = args
            .expect
            .as_ref()
            .map(|path| ExpectPlan::load(path, args.expect_update, ecolor))
            .transpose()?;
        let suites = load_suites(&args.paths, ecolor)?;
        for dir in [&args.traces, &args.snapshots].into_iter().flatten() {
            check_output_dir(dir).map_err(CliError::usage)?;
        }
        // Moved, not cloned: a suite of 10 000 cases would otherwise be held twice.
        let all: Vec<Case> = suites.into_iter().flat_map(|s| s.cases).collect();
        let known: BTreeSet<String> = all.iter().map(|c| c.id.clone()).collect();
        let known_autobahn: BTreeSet<String> =
            all.iter().filter_map(|c| c.autobahn.clone()).collect();
        let selection = Selection {
            cases: args.cases.clone(),
            tags: args.tags.clone(),
            exclude: args.exclude.clone(),
            partition,
        };
        // As the server, only cases that can judge a client; case N of Autobahn's protocol is
        // the N-th in Autobahn's order.
        let all: Vec<Case> = if args.client {
            let mut c: Vec<Case> = all
                .into_iter()
                .filter(|c| c.peers.contains(&PeerKind::Client))
                .collect();
            c.sort_by(|a, b| match (&a.autobahn, &b.autobahn) {
                (Some(x), Some(y)) => report::autobahn::compare_case_ids(x, y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            });
            c
        } else {
            all.into_iter()
                .filter(|c| c.peers.contains(&PeerKind::Server))
                .collect()
        };
        // The transport decides which cases apply: `http1` cases are about the HTTP/1.1
        // upgrade, `http2` cases about the HTTP/2 extended CONNECT (docs/http2.md).
        let skipped_tag = if args.http2 { "http1" } else { "http2" };
        let all: Vec<Case> = all
            .into_iter()
            .filter(|c| !c.tags.iter().any(|t| t == skipped_tag))
            .collect();
        let total_before = all.len();
        let cases = select(all, &selection);
        if cases.is_empty() {
            return Err(CliError::no_cases(format!(
                "no case selected (of {total_before})"
            )));
        }
        let redactions = cases
            .iter()
            .map(|c| {
                let mut names = c.redact_headers.clone();
                names.extend(args.redact_headers.iter().cloned());
                (c.id.clone(), names)
            })
            .collect();
        let cases_bound: Duration = cases
            .iter()
            .map(|c| c.deadline.mul_f64(args.timeout_scale))
            .sum();
        let verbosity = if args.quiet {
            Verbosity::Quiet
        } else if args.verbose {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        };
        Ok(RunPlan {
            target,
            cases,
            known,
            known_autobahn,
            redactions,
            reports,
            traces: args.traces.clone(),
            snapshots: args.snapshots.clone(),
            update: args.update,
            headers,
            jobs: args.jobs.unwrap_or_else(runner::default_jobs),
            fail_on: {
                let base = args.fail_on.unwrap_or_default();
                if args.strict {
                    base.with(crate::runner::result::Verdict::NonStrict)
                } else {
                    base
                }
            },
            expect,
            fail_fast: args.fail_fast,
            timeout_scale: args.timeout_scale,
            max_message: args.max_message_size,
            max_memory: args.max_memory,
            idle_timeout: args.idle_timeout,
            seed: args.seed,
            extensions: args.extensions.clone(),
            preflight: !args.no_preflight,
            format: args.format,
            verbosity,
            color,
            ecolor,
            progress: args.format == Format::Text && term.stderr,
            transport,
            server_tls,
            client: args.client.then(|| ClientPlan {
                listen: args.listen.clone(),
                exec: args.exec.clone(),
                bound: args.run_timeout.unwrap_or_else(|| {
                    let cases: Duration = cases_bound;
                    cases + Duration::from_secs(60)
                }),
                http2_settings_delay: args.http2_settings_delay,
            }),
        })
    }
}

/// The TLS side of the run: client settings for a wss:// target, server settings for `--tls`.
fn tls_settings(
    args: &RunArgs,
    target: Option<&Target>,
) -> Result<(crate::net::Transport, Option<crate::net::ServerTls>), CliError> {
    use crate::net::tls::{ClientOptions, SetupError};
    let setup = |e: SetupError| {
        if e.is_usage() {
            CliError::usage(e.to_string())
        } else {
            CliError::environment(e.to_string())
        }
    };
    let mut transport = crate::net::Transport::default();
    let client_flags = args.ca.is_some() || args.insecure;
    if args.tls {
        if client_flags {
            return Err(CliError::usage(
                "--ca and --insecure are for wss:// targets; with --tls wsprobe is the server",
            ));
        }
        let server = match (&args.cert, &args.key) {
            (Some(cert), Some(key)) => crate::net::ServerTls::from_files(cert, key),
            _ => crate::net::ServerTls::self_signed(&[
                "localhost".to_string(),
                "127.0.0.1".to_string(),
                "::1".to_string(),
            ]),
        }
        .map_err(setup)?;
        return Ok((transport, Some(server)));
    }
    if let Some(t) = target {
        let env = |name: &str| std::env::var(name).ok();
        transport.proxy = crate::net::proxy::resolve(args.proxy.as_deref(), t.tls, &t.host, &env)
            .map_err(|e| CliError::usage(e.to_string()))?;
    } else if args.proxy.as_deref().is_some_and(|p| !p.trim().is_empty()) {
        return Err(CliError::usage(
            "--proxy needs a --target (the embedded server is reached directly)",
        ));
    }
    match target {
        Some(t) if t.tls => {
            let options = ClientOptions {
                ca: args.ca.clone(),
                insecure: args.insecure,
                cert: args.cert.clone(),
                key: args.key.clone(),
            };
            transport.tls = Some(crate::net::ClientTls::new(&options, &t.host).map_err(setup)?);
        }
        _ if client_flags || args.cert.is_some() => {
            return Err(CliError::usage(
                "--ca, --insecure, --cert and --key need a wss:// target (or --tls)",
            ));
        }
        _ => {}
    }
    Ok((transport, None))
}

fn parse_report(text: &str) -> Result<ReportTarget, String> {
    let (kind, path) = text.split_once('=').ok_or_else(|| {
        format!("--report '{text}' must be KIND=PATH (junit, tap, json, autobahn, html)")
    })?;
    let kind = match kind {
        "junit" => report::ReportKind::Junit,
        "tap" => report::ReportKind::Tap,
        "json" => report::ReportKind::Json,
        "autobahn" => report::ReportKind::Autobahn,
        "html" => report::ReportKind::Html,
        other => {
            return Err(format!(
                "unknown report kind '{other}': expected junit, tap, json, autobahn or html"
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
    if r.kind == report::ReportKind::Autobahn {
        if r.path.exists() && !r.path.is_dir() {
            return Err(format!(
                "report directory {} exists and is not a directory",
                r.path.display()
            ));
        }
    } else if r.path.is_dir() {
        return Err(format!("report path {} is a directory", r.path.display()));
    }
    let parent = r
        .path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
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
    let meta = std::fs::metadata(parent)
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

/// Checks that `--traces`/`--snapshots` DIR is (or can be created as) a writable directory.
fn check_output_dir(dir: &Path) -> Result<(), String> {
    if dir.exists() && !dir.is_dir() {
        return Err(format!("{} exists and is not a directory", dir.display()));
    }
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.exists() && !parent.is_dir() {
        return Err(format!(
            "cannot create {}: {} does not exist",
            dir.display(),
            parent.display()
        ));
    }
    // Where the files will go must be writable now, not only after every case has run.
    let home = if dir.exists() { dir } else { parent };
    if std::fs::metadata(home).is_ok_and(|m| m.permissions().readonly()) {
        return Err(format!(
            "cannot write to {}: {} is read-only",
            dir.display(),
            home.display()
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

/// Loads suites from paths (or the embedded ones); on failure the error holds the rendered
/// diagnostics.
pub fn load_suites(paths: &[PathBuf], color: bool) -> Result<Vec<suite::model::Suite>, CliError> {
    let render = |diags: Vec<suite::Diagnostic>| {
        diags
            .iter()
            .map(|d| report::render_diagnostic(d, color))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let sources: Vec<Source> = if paths.is_empty() {
        suite::embedded()
    } else {
        suite::read_paths(paths).map_err(|d| CliError::verbatim(exit::USAGE, render(d)))?
    };
    suite::load(&sources).map_err(|diags| {
        let n = diags.len();
        CliError::verbatim(
            exit::USAGE,
            format!(
                "{}\nwsprobe: {n} error{} in the suites; nothing was run",
                render(diags),
                if n == 1 { "" } else { "s" }
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Args {
        #[command(flatten)]
        run: RunArgs,
    }

    fn plan(args: &[&str]) -> Result<RunPlan, CliError> {
        let mut argv = vec!["wsprobe"];
        argv.extend_from_slice(args);
        let args = Args::try_parse_from(argv).expect("clap accepts the flags");
        RunPlan::from_args(
            &args.run,
            Terminal {
                stdout: false,
                stderr: false,
            },
        )
    }

    #[test]
    fn report_arguments() {
        assert!(matches!(
            parse_report("junit=out.xml").map(|r| r.kind),
            Ok(report::ReportKind::Junit)
        ));
        assert!(parse_report("xml=x").is_err());
        assert!(matches!(
            parse_report("html=r.html").map(|r| r.kind),
            Ok(report::ReportKind::Html)
        ));
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

    #[test]
    fn flags_become_a_plan() {
        let p = plan(&[
            "--case",
            "ping.*",
            "-q",
            "--seed",
            "7",
            "--idle-timeout",
            "2s",
            "--no-preflight",
            "--jobs",
            "3",
        ])
        .expect("valid flags");
        assert!(!p.cases.is_empty());
        assert!(p.cases.iter().all(|c| c.id.starts_with("ping.")));
        assert_eq!(p.verbosity, Verbosity::Quiet);
        assert_eq!(p.seed, Some(7));
        assert_eq!(p.idle_timeout, Duration::from_secs(2));
        assert!(!p.preflight);
        assert_eq!(p.jobs, 3);
        assert!(!p.color && !p.progress);
        let p = plan(&["-v"]).expect("valid flags");
        assert_eq!(p.verbosity, Verbosity::Verbose);
        assert!(p.preflight);
        assert_eq!(p.idle_timeout, Duration::from_secs(10));
    }

    #[test]
    fn each_bad_flag_is_an_error_with_its_exit_code() {
        for (args, code, words) in [
            (&["--jobs", "0"][..], exit::USAGE, "--jobs"),
            (
                &["--timeout-scale", "0"][..],
                exit::USAGE,
                "--timeout-scale",
            ),
            (&["--idle-timeout", "0s"][..], exit::USAGE, "--idle-timeout"),
            (
                &["--max-message-size", "0"][..],
                exit::USAGE,
                "--max-message-size",
            ),
            (
                &["--report", "xml=x"][..],
                exit::USAGE,
                "unknown report kind",
            ),
            (&["--header", "nocolon"][..], exit::USAGE, "--header"),
            (&["--target", "http://x"][..], exit::USAGE, "ws://"),
            (&["--partition", "3/2"][..], exit::USAGE, "partition"),
            (
                &["--case", "no-such-case"][..],
                exit::NO_CASES,
                "no case selected",
            ),
        ] {
            let err = plan(args).expect_err("invalid");
            assert_eq!(err.code, code, "{args:?}: {}", err.message);
            assert!(err.message.contains(words), "{args:?}: {}", err.message);
            assert!(err.message.starts_with("wsprobe: "), "{}", err.message);
        }
    }
}
