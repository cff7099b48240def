//! The command line: clap definitions, turning raw arguments into validated configuration,
//! running the chosen command and mapping its outcome to an exit code. Only this module (and
//! `report`) print, and only this module ends the process. It may use every other module.

mod capture;
mod client;
mod combine;
mod config;
mod conventions;
mod error;
pub mod exit;
mod plan;
mod run;
mod show;
mod snapshot;

pub use error::CliError;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use crate::serve::{Fault, ServeConfig, ServeMode, Server, faults};

const EXAMPLES: &str = "\
Examples:
  wsprobe serve --port 0                      # echo server, prints its ws:// URL first
  wsprobe serve --mode counter --port 8082    # sends \"1\"..\"10\", one every 500ms, then closes
  wsprobe serve --fault no-pong --port 0      # an echo server that never answers pings
  wsprobe run                                 # built-in suites against the embedded server
  wsprobe run --target ws://127.0.0.1:8080/   # built-in suites against your server";

/// WebSocket (RFC 6455) conformance testing and protocol inspection.
#[derive(Debug, Parser)]
#[command(name = "wsprobe", version, about, after_help = format!("{EXAMPLES}\n\n{}", exit::HELP_TABLE))]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run conformance suites against a server (the embedded reference server by default).
    Run(Box<plan::RunArgs>),
    /// List the cases of suites with id, Autobahn id, RFC section, level and title.
    List(plan::ListArgs),
    /// Print the YAML source of built-in cases (by id, Autobahn id or glob).
    Show(show::ShowArgs),
    /// Run a reference WebSocket server.
    Serve(ServeArgs),
    /// Decode a pcap/pcapng capture into WebSocket frames and messages.
    Inspect(capture::InspectArgs),
    /// Count the bytes of a capture by protocol layer.
    Overhead(capture::OverheadArgs),
    /// Run wsprobe's reference WebSocket client against an Autobahn-style fuzzing server
    /// (wsprobe run --client, or Autobahn's).
    Client(client::ClientArgs),
    /// Put several runs side by side in one HTML page, from their JSON Lines reports.
    Report(combine::ReportArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell).
    Completions(conventions::CompletionsArgs),
    /// Print wsprobe's manual page (roff), or write every page with --out DIR.
    Man(conventions::ManArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ModeArg {
    /// Echo every text and binary message back with the same opcode (permessage-deflate when
    /// offered).
    Echo,
    /// Echo on tokio-tungstenite, without extensions (a library peer for interop runs).
    TungsteniteEcho,
    /// Send the numbers 1..=COUNT as text messages, one per INTERVAL, then close with 1000.
    Counter,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  wsprobe serve --port 0
  wsprobe serve --mode counter --count 10 --interval 500ms --port 8082
  wsprobe serve --tls --port 8443      # wss:// with a self-signed certificate
  wsprobe serve --list-faults
  wsprobe serve --fault wrong-accept --port 0")]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on; 0 picks a free port. The bound ws:// URL is the first line printed.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// What the server does with a connection.
    #[arg(long, value_enum, default_value_t = ModeArg::Echo)]
    mode: ModeArg,
    /// Serve the raw echo server with one deliberate defect instead (`none`: no defect), so
    /// checks can be seen to fail. `--fault list` lists the names.
    #[arg(long, value_name = "NAME", value_parser = parse_fault_arg, conflicts_with = "mode")]
    fault: Option<FaultArg>,
    /// Print the fault names with one-line descriptions and exit.
    #[arg(long, conflicts_with_all = ["mode", "fault"])]
    list_faults: bool,
    /// Counter mode: how many numbers to send.
    #[arg(long, default_value_t = 10)]
    count: u64,
    /// Counter mode: pause before each number (e.g. 500ms, 1s).
    #[arg(long, default_value = "500ms", value_parser = parse_duration_arg)]
    interval: Duration,
    /// Largest message the server accepts, in bytes [default: 16 MiB, 64 MiB with --fault].
    #[arg(long)]
    max_message_size: Option<usize>,
    /// Serve wss:// (TLS): with a self-signed certificate generated at start for localhost,
    /// 127.0.0.1 and ::1 (its SHA-256 fingerprint and a PEM file to trust are printed on
    /// stderr), or with --cert/--key.
    #[arg(long)]
    tls: bool,
    /// Serve WebSockets over HTTP/2 too (RFC 8441), on the same port: h2c with prior
    /// knowledge on ws://, ALPN h2 with --tls; HTTP/1.1 upgrades are served as before.
    #[arg(long)]
    http2: bool,
    /// With --tls: the certificate chain to serve (PEM).
    #[arg(long, value_name = "FILE", requires_all = ["tls", "key"])]
    cert: Option<std::path::PathBuf>,
    /// With --tls: the private key of --cert (PEM).
    #[arg(long, value_name = "FILE", requires_all = ["tls", "cert"])]
    key: Option<std::path::PathBuf>,
}

/// The certificate of a TLS listener written to a PEM file a client can trust (`--ca FILE`,
/// `WSPROBE_CA`), removed again when dropped.
pub(crate) struct CertFile {
    path: std::path::PathBuf,
}

impl CertFile {
    /// Where the PEM is.
    pub(crate) fn path(&self) -> &std::path::Path {
        &self.path
    }
}

impl Drop for CertFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Writes `tls`'s certificate to a file in the temporary directory and says on stderr what it
/// is: its SHA-256 fingerprint and the file.
pub(crate) fn certificate_file(tls: &crate::net::ServerTls) -> Result<CertFile, CliError> {
    let path = std::env::temp_dir().join(format!("wsprobe-{}-cert.pem", std::process::id()));
    std::fs::write(&path, &tls.cert_pem)
        .map_err(|e| CliError::environment(format!("cannot write {}: {e}", path.display())))?;
    eprintln!(
        "wsprobe: TLS certificate{} SHA-256 {}\nwsprobe: trust it with --ca {}",
        if tls.self_signed {
            " (self-signed)"
        } else {
            ""
        },
        tls.fingerprint,
        path.display()
    );
    Ok(CertFile { path })
}

/// `serve --tls`: the certificate and key given, or a self-signed one.
fn server_tls(args: &ServeArgs) -> Result<Option<crate::net::ServerTls>, u8> {
    if !args.tls {
        return Ok(None);
    }
    let tls = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => crate::net::ServerTls::from_files(cert, key),
        _ => {
            let mut names = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
            let host = unbracket_host(&args.host);
            if !names.iter().any(|n| n == host)
                && !host.is_empty()
                && host != "0.0.0.0"
                && host != "::"
            {
                names.push(host.to_string());
            }
            crate::net::ServerTls::self_signed(&names)
        }
    };
    tls.map(Some).map_err(|e| {
        eprintln!("wsprobe: {e}");
        if e.is_usage() {
            exit::USAGE
        } else {
            exit::ENVIRONMENT
        }
    })
}

fn unbracket_host(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

/// Largest message the echo and counter servers accept unless told otherwise.
const ECHO_MAX_MESSAGE: usize = 16 * 1024 * 1024;

/// Largest message the raw fault servers accept unless told otherwise: the decoder's default,
/// as for the embedded server of `wsprobe run`.
const FAULT_MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// `--fault`: a fault, or `list` to print them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FaultArg {
    List,
    Serve(Fault),
}

fn parse_fault_arg(text: &str) -> Result<FaultArg, String> {
    if text == "list" {
        return Ok(FaultArg::List);
    }
    if let Some(fault) = Fault::from_name(text) {
        return Ok(FaultArg::Serve(fault));
    }
    let hint = closest_fault(text)
        .map(|name| format!(" (did you mean '{name}'?)"))
        .unwrap_or_default();
    let names: Vec<&str> = Fault::names().collect();
    Err(format!(
        "unknown fault '{text}'{hint}; valid names: {}, or 'list' for descriptions",
        names.join(", ")
    ))
}

/// The fault name nearest to `text` by edit distance, if it is near enough to be a typo.
fn closest_fault(text: &str) -> Option<&'static str> {
    Fault::names()
        .map(|name| (strsim::levenshtein(text, name), name))
        .filter(|(d, name)| *d <= 2.max(name.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, name)| name)
}

/// The fault catalogue as `--list-faults` prints it: `none` first, then one line per fault
/// with its description, the RFC section it breaks and how strongly the RFC words it.
fn fault_list() -> String {
    let width = Fault::names().map(str::len).max().unwrap_or(0);
    let mut out = String::new();
    let none = Fault::None.info();
    out.push_str(&format!("{:width$}  {}\n", none.name, none.description));
    for info in faults() {
        let level = if info.tolerated() {
            "tolerated".to_string()
        } else {
            info.level.to_string()
        };
        out.push_str(&format!(
            "{:width$}  {} ({}, {level})\n",
            info.name, info.description, info.section
        ));
    }
    out
}

/// Parses durations written as `250ms`, `1s`, `1.5s`, `2m`.
pub fn parse_duration_arg(text: &str) -> Result<Duration, String> {
    crate::suite::parse_duration(text).map_err(|e| e.to_string())
}

/// Parses the process arguments, runs the command and returns the exit code.
pub fn main() -> ExitCode {
    use clap::{CommandFactory, FromArgMatches};
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches).map(|cli| (cli, matches)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(err) => {
            let code = if err.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    // `colored` would otherwise decide from its own reading of the environment, which looks
    // at stdout only. Every renderer is told per stream whether to color (`--color`, NO_COLOR,
    // whether that stream is a terminal) and leaves text plain otherwise, so the switch is
    // turned on once, before anything renders, and never changed.
    colored::control::set_override(true);
    ExitCode::from(run(cli, &matches))
}

fn run(cli: Cli, matches: &clap::ArgMatches) -> u8 {
    let result = match cli.command {
        Command::Serve(args) => Ok(serve(args)),
        Command::Run(args) => {
            let sub = matches.subcommand_matches("run");
            let given = |id: &str| {
                sub.and_then(|m| m.value_source(id))
                    .is_some_and(|s| s == clap::parser::ValueSource::CommandLine)
            };
            run::run(*args, &given)
        }
        Command::List(args) => run::list(args),
        Command::Show(args) => show::show(args),
        Command::Inspect(args) => Ok(capture::inspect(args)),
        Command::Overhead(args) => Ok(capture::overhead(args)),
        Command::Client(args) => client::client(args),
        Command::Report(args) => combine::report(args),
        Command::Completions(args) => conventions::completions(args),
        Command::Man(args) => conventions::man(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            if !e.message.is_empty() {
                use std::io::Write;
                // Nothing is left to report a failed write to stderr to.
                let _ = writeln!(std::io::stderr(), "{}", e.message);
            }
            e.code
        }
    }
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, u8> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("wsprobe: cannot start the async runtime: {e}");
            exit::ENVIRONMENT
        })
}

fn serve(args: ServeArgs) -> u8 {
    let mode = match (args.fault, args.list_faults) {
        (Some(FaultArg::List), _) | (_, true) => {
            print!("{}", fault_list());
            return exit::OK;
        }
        (Some(FaultArg::Serve(fault)), false) => ServeMode::Fault(fault),
        (None, false) => match args.mode {
            ModeArg::Echo => ServeMode::Echo,
            ModeArg::TungsteniteEcho => ServeMode::TungsteniteEcho,
            ModeArg::Counter => ServeMode::Counter {
                count: args.count,
                interval: args.interval,
            },
        },
    };
    let default_max = match mode {
        ServeMode::Fault(_) => FAULT_MAX_MESSAGE,
        ServeMode::Echo | ServeMode::TungsteniteEcho | ServeMode::Counter { .. } => {
            ECHO_MAX_MESSAGE
        }
    };
    let tls = match server_tls(&args) {
        Ok(tls) => tls,
        Err(code) => return code,
    };
    let config = ServeConfig {
        host: args.host,
        port: args.port,
        mode,
        max_message_size: args.max_message_size.unwrap_or(default_max),
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let announce = match &config.mode {
        ServeMode::Fault(fault) => Some(fault.info()),
        ServeMode::Echo | ServeMode::TungsteniteEcho | ServeMode::Counter { .. } => None,
    };
    rt.block_on(async move {
        let server = match Server::start_with(config, tls.clone(), args.http2).await {
            Ok(server) => server,
            Err(e) => {
                eprintln!("wsprobe: {e}");
                return exit::ENVIRONMENT;
            }
        };
        let signals = ShutdownSignals::install();
        println!("{}", server.url());
        use std::io::Write;
        let _ = std::io::stdout().flush();
        let _cert_file = match tls.as_ref().map(certificate_file).transpose() {
            Ok(file) => file,
            Err(e) => {
                eprintln!("{}", e.message);
                server.shutdown().await;
                return e.code;
            }
        };
        if let Some(info) = announce {
            eprintln!("wsprobe: fault '{}': {}", info.name, info.description);
        }
        signals.recv().await;
        server.shutdown().await;
        exit::OK
    })
}

/// SIGINT and SIGTERM (Ctrl-C elsewhere), installed before the URL is printed: a signal sent as
/// soon as the URL has been read must stop the server cleanly, not kill it with the default
/// action.
struct ShutdownSignals {
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

impl ShutdownSignals {
    /// Installs the handlers; must run inside the runtime.
    fn install() -> ShutdownSignals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            ShutdownSignals {
                interrupt: signal(SignalKind::interrupt()).ok(),
                terminate: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(not(unix))]
        {
            ShutdownSignals {}
        }
    }

    /// Resolves when one of the signals arrives.
    async fn recv(self) {
        #[cfg(unix)]
        {
            async fn next(signal: Option<tokio::signal::unix::Signal>) {
                match signal {
                    Some(mut signal) => {
                        signal.recv().await;
                    }
                    // Not installed: this signal never stops the server.
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                () = next(self.interrupt) => {}
                () = next(self.terminate) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_argument_names_list_or_fails_with_every_name() {
        assert_eq!(parse_fault_arg("list"), Ok(FaultArg::List));
        assert_eq!(
            parse_fault_arg("no-pong"),
            Ok(FaultArg::Serve(Fault::NoPong))
        );
        assert_eq!(parse_fault_arg("none"), Ok(FaultArg::Serve(Fault::None)));
        let err = parse_fault_arg("no-png").expect_err("unknown");
        assert!(err.starts_with("unknown fault 'no-png' (did you mean 'no-pong'?)"));
        for name in Fault::names() {
            assert!(err.contains(name), "{name} missing from {err}");
        }
        let err = parse_fault_arg("zzzzzzzz").expect_err("unknown");
        assert!(!err.contains("did you mean"), "{err}");
    }

    #[test]
    fn fault_list_has_one_line_per_fault_after_none() {
        let list = fault_list();
        let lines: Vec<&str> = list.lines().collect();
        assert_eq!(lines.len(), faults().len() + 1);
        assert!(lines[0].starts_with("none  "), "{}", lines[0]);
        for (line, info) in lines[1..].iter().zip(faults()) {
            assert!(line.starts_with(info.name), "{line}");
            assert!(line.contains(info.description), "{line}");
            assert!(line.contains(info.section), "{line}");
        }
        assert!(list.contains("(RFC 6455 §7.1.7, tolerated)"), "{list}");
        assert!(list.contains("(RFC 6455 §5.5.2, MUST)"), "{list}");
    }
}
