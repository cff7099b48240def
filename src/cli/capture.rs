//! `wsprobe inspect` and `wsprobe overhead`: arguments, running the capture dissector, and the
//! exit code (0 ok, 1 `--check` found violations, 2 nothing could be read).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::ValueEnum;

use crate::pcap::traces::TraceCollector;
use crate::pcap::{self, CaptureSummary, Discard, Options};
use crate::report::capture::{self as render, InspectFormat, InspectView, InspectWriter};
use crate::trace::canonical::Redaction;
use crate::wire::Direction;

use super::exit;
use super::snapshot::{self, FileOutcome};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    /// One line per frame or event.
    Text,
    /// JSON Lines: one object per frame or event.
    Json,
    /// A YAML sequence of events.
    Yaml,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DirArg {
    /// Client to server.
    #[value(name = "c2s", alias = "client")]
    C2s,
    /// Server to client.
    #[value(name = "s2c", alias = "server")]
    S2c,
}

/// Arguments of `wsprobe inspect`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  wsprobe inspect fixtures/counter-websocketd.pcap
  wsprobe inspect capture.pcapng --messages --conn 0 --dir s2c
  wsprobe inspect capture.pcap --format json | jq 'select(.type == \"frame\")'
  wsprobe inspect capture.pcap --check          # exit 1 if any RFC 6455 violation
  wsprobe inspect cut.pcap --port 8080          # handshake not captured
  wsprobe inspect wss.pcap --keylog keys.log    # decrypt TLS (SSLKEYLOGFILE format)
  wsprobe inspect session.pcap --snapshot session.trace --update   # record the canonical trace
  wsprobe inspect session.pcap --snapshot session.trace            # exit 1 with a diff if changed

Times are seconds since the first packet; packet numbers count from 1 as in tshark; connections
count from 0 in order of appearance, as tshark's tcp.stream. Warnings go to stderr.")]
pub struct InspectArgs {
    /// The capture file (pcap or pcapng).
    capture: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    format: FormatArg,
    /// Show whole messages (fragments reassembled, permessage-deflate inflated) instead of frames.
    #[arg(long)]
    messages: bool,
    /// Print only violations (packet, connection, RFC section); exit 1 if there is any. With
    /// --snapshot: compare with the stored trace instead (the default there).
    #[arg(long, conflicts_with = "update")]
    check: bool,
    /// Render the capture's connections as a canonical trace and compare it with FILE: exit 1
    /// with a unified diff when they differ, or when FILE does not exist (pending).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["messages", "conns", "dir"])]
    snapshot: Option<PathBuf>,
    /// With --snapshot: write the canonical trace to FILE instead of comparing.
    #[arg(long, requires = "snapshot")]
    update: bool,
    /// With --snapshot: redact the value of this header in the trace (repeatable; Date always is).
    #[arg(long = "redact-header", value_name = "NAME", requires = "snapshot")]
    redact_headers: Vec<String>,
    /// Only this connection (repeatable).
    #[arg(long = "conn", value_name = "N")]
    conns: Vec<u32>,
    /// Only this direction.
    #[arg(long, value_enum)]
    dir: Option<DirArg>,
    /// Decode connections to this server port as WebSocket even when no handshake was captured.
    #[arg(long, value_name = "N")]
    port: Option<u16>,
    /// Largest message or frame payload kept in memory, in bytes.
    #[arg(long, default_value_t = pcap::DEFAULT_MAX_MESSAGE)]
    max_message: usize,
    /// Out-of-order bytes held per connection direction while waiting for a missing segment;
    /// beyond this the segment is reported as not captured. Packets reordered by the capture
    /// (an ACK or FIN recorded before the data it follows) decode normally within the window.
    #[arg(long, value_name = "BYTES", default_value_t = pcap::reassembly::DEFAULT_REORDER_WINDOW)]
    reorder_window: usize,
    /// Decrypt TLS connections with the secrets of this key log (the SSLKEYLOGFILE format that
    /// browsers, curl, OpenSSL and rustls write): TLS 1.3 and TLS 1.2 AEAD suites. Key logs
    /// embedded in a pcapng (editcap --inject-secrets) are used without it.
    #[arg(long, value_name = "FILE")]
    keylog: Option<PathBuf>,
}

/// Arguments of `wsprobe overhead`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  wsprobe overhead fixtures/counter-ws.pcap
  wsprobe overhead fixtures/counter-ws.pcap --vs fixtures/counter-poll-keepalive.pcap
  wsprobe overhead capture.pcap --format json
  wsprobe overhead a.pcap --vs b.pcap --report html=overhead.html

Every byte on the wire (each packet's original length) is counted in exactly one row. A segment
without payload counts whole as TCP control; a segment whose payload was all seen before counts
whole as retransmitted. Application messages are WebSocket data messages and HTTP messages with
a body; efficiency is their payload divided by all bytes on the wire.")]
pub struct OverheadArgs {
    /// The capture file (pcap or pcapng).
    capture: PathBuf,
    /// A second capture of the same workload to put side by side (ratios are OTHER / CAPTURE).
    #[arg(long, value_name = "OTHER")]
    vs: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OverheadFormat::Text)]
    format: OverheadFormat,
    /// Decode connections to this server port as WebSocket even when no handshake was captured.
    #[arg(long, value_name = "N")]
    port: Option<u16>,
    /// Out-of-order bytes held per connection direction while waiting for a missing segment;
    /// beyond this the segment is reported as not captured. Packets reordered by the capture
    /// (an ACK or FIN recorded before the data it follows) decode normally within the window.
    #[arg(long, value_name = "BYTES", default_value_t = pcap::reassembly::DEFAULT_REORDER_WINDOW)]
    reorder_window: usize,
    /// Decrypt TLS connections with the secrets of this key log (SSLKEYLOGFILE format), so
    /// their HTTP and WebSocket bytes are counted in their rows; TLS record overhead is a row
    /// of its own either way.
    #[arg(long, value_name = "FILE")]
    keylog: Option<PathBuf>,
    /// Also write the tables and a stacked-bar chart of bytes per message by layer as a
    /// self-contained HTML page: html=FILE.
    #[arg(long = "report", value_name = "html=FILE", value_parser = parse_html_report)]
    report: Option<PathBuf>,
}

fn parse_html_report(text: &str) -> Result<PathBuf, String> {
    match text.split_once('=') {
        Some(("html", path)) if !path.is_empty() => Ok(PathBuf::from(path)),
        _ => Err(format!(
            "--report '{text}' must be html=FILE (overhead writes HTML reports)"
        )),
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OverheadFormat {
    /// Tables.
    Text,
    /// One JSON object.
    Json,
}

/// Reads a key log given with `--keylog`: a missing file or a malformed line is a usage error
/// naming the file (and line).
fn read_keylog(path: Option<&Path>) -> Result<pcap::KeyLog, u8> {
    let Some(path) = path else {
        return Ok(pcap::KeyLog::default());
    };
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| {
        eprintln!("wsprobe: cannot read key log {shown}: {e}");
        exit::USAGE
    })?;
    if !meta.is_file() {
        eprintln!("wsprobe: key log {shown}: not a regular file");
        return Err(exit::USAGE);
    }
    if meta.len() > pcap::tls::keylog::MAX_KEYLOG {
        eprintln!(
            "wsprobe: key log {shown}: {} bytes, larger than the {} a key log may have",
            meta.len(),
            pcap::tls::keylog::MAX_KEYLOG
        );
        return Err(exit::USAGE);
    }
    let bytes = std::fs::read(path).map_err(|e| {
        eprintln!("wsprobe: cannot read key log {shown}: {e}");
        exit::USAGE
    })?;
    let Ok(text) = String::from_utf8(bytes) else {
        eprintln!("wsprobe: key log {shown}: not text (a key log is lines of ASCII hex)");
        return Err(exit::USAGE);
    };
    pcap::KeyLog::parse(&text).map_err(|e| {
        eprintln!(
            "wsprobe: {shown}:{}: {} (expected `LABEL <client random hex> <secret hex>` lines, as SSLKEYLOGFILE writes)",
            e.line, e.why
        );
        exit::USAGE
    })
}

fn print_warnings(path: &Path, warnings: &[String]) {
    let mut err = std::io::stderr().lock();
    for w in warnings {
        let _ = writeln!(err, "wsprobe: warning: {}: {w}", path.display());
    }
}

/// A [`TraceCollector`] that also keeps the warnings.
#[derive(Default)]
struct SnapshotSink {
    traces: TraceCollector,
    warnings: Vec<String>,
}

impl pcap::Sink for SnapshotSink {
    fn event(&mut self, event: &pcap::Event<'_>) {
        if let pcap::Event::Warning(w) = event {
            self.warnings.push(w.message.to_string());
        }
        self.traces.event(event);
    }
}

/// `wsprobe inspect CAPTURE --snapshot FILE [--update]`.
fn inspect_snapshot(args: &InspectArgs, file: &Path) -> u8 {
    let options = Options {
        port: args.port,
        decode: true,
        max_message: args.max_message,
        reorder_window: args.reorder_window,
    };
    let keys = match read_keylog(args.keylog.as_deref()) {
        Ok(k) => k,
        Err(code) => return code,
    };
    let mut sink = SnapshotSink::default();
    let result = pcap::analyze_file_with_keys(&args.capture, &options, &keys, &mut sink);
    print_warnings(&args.capture, &sink.warnings);
    if let Err(e) = result {
        eprintln!("wsprobe: {e}");
        return exit::USAGE;
    }
    let name = args
        .capture
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let redaction = Redaction::default().with_headers(&args.redact_headers);
    let text = snapshot::capture_trace_file(&name, &sink.traces.into_traces(), &redaction);
    let shown = file.display();
    let (report, code) = match snapshot::compare_file(file, &text, args.update) {
        Ok(FileOutcome::Matched) if args.update => {
            (format!("snapshot unchanged: {shown}\n"), exit::OK)
        }
        Ok(FileOutcome::Matched) => (format!("snapshot matched: {shown}\n"), exit::OK),
        Ok(FileOutcome::Written) => (format!("snapshot written: {shown}\n"), exit::OK),
        Ok(FileOutcome::Mismatched(stored)) => {
            let diff = snapshot::diff_labeled(
                &format!("stored {shown}"),
                &format!("capture {name}"),
                &stored,
                &text,
            );
            (format!("snapshot mismatch: {shown}\n{diff}"), exit::FAILURE)
        }
        Ok(FileOutcome::Pending) => (
            format!("snapshot pending: {shown} does not exist (record it with --update)\n"),
            exit::FAILURE,
        ),
        Err(e) => {
            eprintln!("wsprobe: snapshot {shown}: {e}");
            return exit::ENVIRONMENT;
        }
    };
    // Diffs show what the capture holds: escaped like every other output.
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(crate::report::escape_for_terminal(&report).as_bytes());
    let _ = out.flush();
    code
}

/// Runs `wsprobe inspect`.
pub fn inspect(args: InspectArgs) -> u8 {
    if let Some(file) = &args.snapshot {
        return inspect_snapshot(&args, file);
    }
    let keys = match read_keylog(args.keylog.as_deref()) {
        Ok(k) => k,
        Err(code) => return code,
    };
    let format = match args.format {
        FormatArg::Text => InspectFormat::Text,
        FormatArg::Json => InspectFormat::Json,
        FormatArg::Yaml => InspectFormat::Yaml,
    };
    let view = InspectView {
        messages: args.messages,
        check: args.check,
        conns: args.conns,
        dir: args.dir.map(|d| match d {
            DirArg::C2s => Direction::ClientToServer,
            DirArg::S2c => Direction::ServerToClient,
        }),
    };
    let options = Options {
        port: args.port,
        decode: true,
        max_message: args.max_message,
        reorder_window: args.reorder_window,
    };
    let stdout = std::io::stdout().lock();
    let mut writer = InspectWriter::new(
        std::io::BufWriter::with_capacity(1 << 16, stdout),
        format,
        view,
    );
    let result = pcap::analyze_file_with_keys(&args.capture, &options, &keys, &mut writer);
    print_warnings(&args.capture, &writer.take_warnings());
    match result {
        Ok(summary) => {
            writer.finish(&summary);
            if args.check && summary.violations > 0 {
                exit::FAILURE
            } else {
                exit::OK
            }
        }
        Err(e) => {
            eprintln!("wsprobe: {e}");
            exit::USAGE
        }
    }
}

fn overhead_of(path: &Path, args: &OverheadArgs) -> Result<CaptureSummary, u8> {
    let options = Options {
        port: args.port,
        decode: false,
        reorder_window: args.reorder_window,
        ..Options::default()
    };
    let keys = read_keylog(args.keylog.as_deref())?;
    let mut warnings = WarningSink::default();
    let result = pcap::analyze_file_with_keys(path, &options, &keys, &mut warnings);
    print_warnings(path, &warnings.0);
    result.map_err(|e| {
        eprintln!("wsprobe: {e}");
        exit::USAGE
    })
}

/// Keeps only warnings.
#[derive(Default)]
struct WarningSink(Vec<String>);

impl pcap::Sink for WarningSink {
    fn event(&mut self, event: &pcap::Event<'_>) {
        if let pcap::Event::Warning(w) = event {
            self.0.push(w.message.to_string());
        } else {
            Discard.event(event);
        }
    }
}

/// Runs `wsprobe overhead`.
pub fn overhead(args: OverheadArgs) -> u8 {
    let a = match overhead_of(&args.capture, &args) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let a_name = args.capture.display().to_string();
    let mut b_summary = None;
    let text = match &args.vs {
        None => match args.format {
            OverheadFormat::Text => render::overhead_text(&a_name, &a),
            OverheadFormat::Json => format!("{}\n", render::overhead_json(&a_name, &a)),
        },
        Some(other) => {
            let b = match overhead_of(other, &args) {
                Ok(s) => s,
                Err(code) => return code,
            };
            let b_name = other.display().to_string();
            let text = match args.format {
                OverheadFormat::Text => render::overhead_vs_text(&a_name, &a, &b_name, &b),
                OverheadFormat::Json => {
                    format!("{}\n", render::overhead_vs_json(&a_name, &a, &b_name, &b))
                }
            };
            b_summary = Some((b_name, b));
            text
        }
    };
    if let Some(path) = &args.report {
        let mut captures = vec![(a_name.as_str(), &a)];
        if let Some((name, b)) = &b_summary {
            captures.push((name.as_str(), b));
        }
        if let Err(e) = crate::report::write_file(path, &render::overhead_html(&captures)) {
            eprintln!("wsprobe: cannot write report {}: {e}", path.display());
            return exit::ENVIRONMENT;
        }
    }
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    exit::OK
}
