//! The one error type of the commands: a message for stderr and the exit code it ends with
//! (ripgrep's shape: commands return `Result<u8, CliError>`, `cli::main` prints the message
//! once and exits with the code). Writing to stdout goes through [`print`], which turns a
//! reader that went away into a quiet [`exit::CLOSED_OUTPUT`] instead of a panic.

use std::io::Write;

use super::exit;

/// A command that could not finish: why, and with which exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    /// The exit code (one of [`exit`]'s constants).
    pub code: u8,
    /// What to print on stderr, complete (with its `wsprobe:` prefix or a rendered
    /// diagnostic); empty when nothing is to be printed.
    pub message: String,
}

impl CliError {
    /// A usage error or invalid input: nothing was run (exit 2).
    pub fn usage(why: impl std::fmt::Display) -> CliError {
        CliError::with(exit::USAGE, why)
    }

    /// The target or the environment failed (exit 3).
    pub fn environment(why: impl std::fmt::Display) -> CliError {
        CliError::with(exit::ENVIRONMENT, why)
    }

    /// The filters selected nothing (exit 4).
    pub fn no_cases(why: impl std::fmt::Display) -> CliError {
        CliError::with(exit::NO_CASES, why)
    }

    /// Stdout was closed by its reader: end quietly.
    pub fn closed_output() -> CliError {
        CliError {
            code: exit::CLOSED_OUTPUT,
            message: String::new(),
        }
    }

    /// `wsprobe: {why}` with `code`.
    pub fn with(code: u8, why: impl std::fmt::Display) -> CliError {
        CliError {
            code,
            message: format!("wsprobe: {why}"),
        }
    }

    /// Text printed as it is (rendered diagnostics) with `code`.
    pub fn verbatim(code: u8, text: String) -> CliError {
        CliError {
            code,
            message: text,
        }
    }
}

/// Writes `text` to stdout and flushes it. A closed stdout (`wsprobe list | head -1`) is
/// [`CliError::closed_output`]; any other write error is an environment error.
pub fn print(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| output_error(&e))
}

/// The error for a failed write to stdout.
pub fn output_error(e: &std::io::Error) -> CliError {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        CliError::closed_output()
    } else {
        CliError::environment(format!("cannot write to stdout: {e}"))
    }
}
