//! The command line: clap definitions, turning raw arguments into validated configuration,
//! running the chosen command and mapping its outcome to an exit code. Only this module (and
//! `report`) print, and only this module ends the process. It may use every other module.

mod capture;
pub mod exit;
mod run;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use crate::serve::{ServeConfig, ServeMode, Server};

const EXAMPLES: &str = "\
Examples:
  wsprobe serve --port 0                      # echo server, prints its ws:// URL first
  wsprobe serve --mode counter --port 8082    # sends \"1\"..\"10\", one every 500ms, then closes
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
    Run(run::RunArgs),
    /// List the cases of suites with id, Autobahn id, RFC section, level and title.
    List(run::ListArgs),
    /// Run a reference WebSocket server.
    Serve(ServeArgs),
    /// Decode a pcap/pcapng capture into WebSocket frames and messages.
    Inspect(capture::InspectArgs),
    /// Count the bytes of a capture by protocol layer.
    Overhead(capture::OverheadArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ModeArg {
    /// Echo every text and binary message back with the same opcode.
    Echo,
    /// Send the numbers 1..=COUNT as text messages, one per INTERVAL, then close with 1000.
    Counter,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  wsprobe serve --port 0
  wsprobe serve --mode counter --count 10 --interval 500ms --port 8082")]
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
    /// Counter mode: how many numbers to send.
    #[arg(long, default_value_t = 10)]
    count: u64,
    /// Counter mode: pause before each number (e.g. 500ms, 1s).
    #[arg(long, default_value = "500ms", value_parser = parse_duration_arg)]
    interval: Duration,
    /// Largest message the echo server accepts, in bytes.
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    max_message_size: usize,
}

/// Parses durations written as `250ms`, `1s`, `1.5s`, `2m`.
pub fn parse_duration_arg(text: &str) -> Result<Duration, String> {
    crate::suite::parse_duration(text).map_err(|e| e.to_string())
}

/// Parses the process arguments, runs the command and returns the exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
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
    ExitCode::from(run(cli))
}

fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Run(args) => run::run(args),
        Command::List(args) => run::list(args),
        Command::Inspect(args) => capture::inspect(args),
        Command::Overhead(args) => capture::overhead(args),
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
    let mode = match args.mode {
        ModeArg::Echo => ServeMode::Echo,
        ModeArg::Counter => ServeMode::Counter {
            count: args.count,
            interval: args.interval,
        },
    };
    let config = ServeConfig {
        host: args.host,
        port: args.port,
        mode,
        max_message_size: args.max_message_size,
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    rt.block_on(async move {
        let server = match Server::start(config).await {
            Ok(server) => server,
            Err(e) => {
                eprintln!("wsprobe: {e}");
                return exit::ENVIRONMENT;
            }
        };
        println!("{}", server.url());
        use std::io::Write;
        let _ = std::io::stdout().flush();
        wait_for_signal().await;
        server.shutdown().await;
        exit::OK
    })
}

/// Resolves on SIGINT or SIGTERM (Ctrl-C elsewhere).
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
