//! `wsprobe client URL`: wsprobe's reference WebSocket client against an Autobahn-style
//! fuzzing server (`wsprobe run --client`, or Autobahn's own), optionally with deliberate
//! defects (`--fault`) so the client-role checks can be seen to fail.

use std::time::Duration;

use super::error::{self, CliError};
use super::exit;
use crate::report::escape_for_terminal;
use crate::serve::client::{
    ClientConfig, ClientError, ClientFault, FaultSet, Outcome, client_faults, run,
};

/// Arguments of `wsprobe client`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  wsprobe client ws://127.0.0.1:9001
  wsprobe client --list-faults
  wsprobe run --client --listen 127.0.0.1:0 --exec 'wsprobe client --fault no-mask'
  wsprobe run --client --http2 --listen 127.0.0.1:0 --exec 'wsprobe client --http2'")]
pub struct ClientArgs {
    /// Base URL of the fuzzing server (ws://host:port or wss://) [default: $WSPROBE_URL].
    url: Option<String>,
    /// Agent name sent with runCase and updateReports [default: wsprobe, or wsprobe-FAULT…].
    #[arg(long, value_name = "NAME")]
    agent: Option<String>,
    /// Run with this deliberate defect (repeatable); --list-faults lists them.
    #[arg(long, value_name = "NAME", value_parser = parse_client_fault)]
    fault: Vec<ClientFault>,
    /// Print the fault names with one-line descriptions and exit.
    #[arg(long)]
    list_faults: bool,
    /// Bound on each connection: handshake, messages and close (e.g. 20s, 500ms).
    #[arg(long, value_name = "DURATION", default_value = "20s", value_parser = super::parse_duration_arg)]
    case_timeout: Duration,
    /// Run only the first N cases.
    #[arg(long = "cases", value_name = "N")]
    cases: Option<u64>,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
    /// wss:// fuzzing servers: trust only the CA certificates of this PEM file [default:
    /// $WSPROBE_CA, else the system's store].
    #[arg(long, value_name = "FILE")]
    ca: Option<std::path::PathBuf>,
    /// wss:// fuzzing servers: accept any certificate.
    #[arg(long, short = 'k')]
    insecure: bool,
    /// Open every WebSocket as an extended CONNECT over HTTP/2 (RFC 8441), on an HTTP/2
    /// connection of its own: h2c with prior knowledge for ws://, ALPN h2 for wss://. The
    /// client waits for the server's SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 before sending it.
    #[arg(long)]
    http2: bool,
}

fn parse_client_fault(text: &str) -> Result<ClientFault, String> {
    if let Some(fault) = ClientFault::from_name(text) {
        return Ok(fault);
    }
    let hint = ClientFault::names()
        .map(|name| (strsim::levenshtein(text, name), name))
        .filter(|(d, name)| *d <= 2.max(name.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, name)| format!(" (did you mean '{name}'?)"))
        .unwrap_or_default();
    let names: Vec<&str> = ClientFault::names().collect();
    Err(format!(
        "unknown client fault '{text}'{hint}; valid names: {}",
        names.join(", ")
    ))
}

/// The client fault catalogue as `--list-faults` prints it: one line per fault with its
/// description, the RFC section it breaks and how strongly the RFC words it.
fn client_fault_list() -> String {
    let width = ClientFault::names().map(str::len).max().unwrap_or(0);
    client_faults()
        .iter()
        .map(|info| {
            format!(
                "{:width$}  {} ({}, {})\n",
                info.name, info.description, info.section, info.level
            )
        })
        .collect()
}

/// `wsprobe client`.
pub fn client(args: ClientArgs) -> Result<u8, CliError> {
    if args.list_faults {
        error::print(&client_fault_list())?;
        return Ok(exit::OK);
    }
    let Some(url) = args
        .url
        .or_else(|| std::env::var("WSPROBE_URL").ok().filter(|u| !u.is_empty()))
    else {
        return Err(CliError::usage("a URL is required (or set WSPROBE_URL)"));
    };
    let faults = FaultSet::new(args.fault);
    let agent = args.agent.unwrap_or_else(|| {
        std::iter::once("wsprobe")
            .chain(faults.iter().map(ClientFault::name))
            .collect::<Vec<_>>()
            .join("-")
    });
    if faults.has(ClientFault::H2ConnectBeforeSettings) && !args.http2 {
        return Err(CliError::usage(
            "the fault h2-connect-before-settings is about HTTP/2: add --http2",
        ));
    }
    if args.case_timeout.is_zero() {
        return Err(CliError::usage("--case-timeout must be above zero"));
    }
    let config = ClientConfig {
        url,
        agent,
        faults,
        case_timeout: args.case_timeout,
        max_cases: args.cases,
        tls: crate::net::tls::ClientOptions {
            // `run --client --tls --exec` names its certificate in WSPROBE_CA.
            ca: args
                .ca
                .clone()
                .or_else(|| std::env::var_os("WSPROBE_CA").map(Into::into)),
            insecure: args.insecure,
            cert: None,
            key: None,
        },
        http2: args.http2,
    };
    let rt = super::runtime().map_err(|code| CliError {
        code,
        message: String::new(),
    })?;
    let quiet = args.quiet;
    let mut write_failed = None;
    let result = rt.block_on(run(&config, |case, outcome: &Outcome| {
        if !quiet
            && write_failed.is_none()
            // What the server sent (a reason phrase, header values) is escaped before it
            // reaches the terminal.
            && let Err(e) = error::print(&format!(
                "case {case}: {}\n",
                escape_for_terminal(&outcome.describe())
            ))
        {
            write_failed = Some(e);
        }
    }));
    if let Some(e) = write_failed {
        return Err(e);
    }
    match result {
        Ok(summary) => {
            if !quiet {
                error::print(&format!(
                    "ran {} of {} cases as agent '{}'\n",
                    summary.ran, summary.count, config.agent
                ))?;
            }
            Ok(exit::OK)
        }
        Err(e @ ClientError::Url { .. }) => Err(CliError::usage(e)),
        Err(e) => Err(CliError::environment(escape_for_terminal(&e.to_string()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_fault_names_parse_or_fail_with_a_hint() {
        assert_eq!(parse_client_fault("no-mask"), Ok(ClientFault::NoMask));
        let err = parse_client_fault("no-msk").expect_err("unknown");
        assert!(
            err.starts_with("unknown client fault 'no-msk' (did you mean 'no-mask'?)"),
            "{err}"
        );
        for name in ClientFault::names() {
            assert!(err.contains(name), "{name} missing from {err}");
        }
    }

    #[test]
    fn client_fault_list_has_one_line_per_fault() {
        let list = client_fault_list();
        let lines: Vec<&str> = list.lines().collect();
        assert_eq!(lines.len(), client_faults().len());
        for (line, info) in lines.iter().zip(client_faults()) {
            assert!(line.starts_with(info.name), "{line}");
            assert!(line.contains(info.description), "{line}");
            assert!(
                line.contains(&format!("({}, {})", info.section, info.level)),
                "{line}"
            );
        }
    }
}
