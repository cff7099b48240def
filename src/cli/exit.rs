//! Exit codes of the `wsprobe` binary, the single place they are defined.

/// Every selected case passed (NON-STRICT and INFORMATIONAL allowed unless `--strict`); a
/// command that does not judge anything finished normally.
pub const OK: u8 = 0;
/// At least one case failed (a verdict of `--fail-on`), the run differs from `--expect FILE`, a
/// snapshot did not match, or `inspect --check` found violations.
pub const FAILURE: u8 = 1;
/// Usage error or invalid input (bad suite, unreadable capture, unknown flag): nothing was run.
pub const USAGE: u8 = 2;
/// The target or the environment failed (connection refused, DNS, address in use, the
/// preflight handshake was not answered with a valid 101).
pub const ENVIRONMENT: u8 = 3;
/// The filters selected no case, or `show` found no case of that id.
pub const NO_CASES: u8 = 4;
/// Stdout was closed by its reader (`wsprobe list | head -1`): the command stopped quietly,
/// as if ended by SIGPIPE (128 + 13, what a shell reports for such a process).
pub const CLOSED_OUTPUT: u8 = 141;

/// The exit-code table as printed at the end of `wsprobe --help`.
pub const HELP_TABLE: &str = "\
Exit codes:
    0  all selected cases passed (NON-STRICT and INFORMATIONAL allowed unless --strict)
    1  a case failed (--fail-on), the run differs from --expect FILE, a snapshot
       mismatched, or inspect --check found violations
    2  usage error or invalid input (bad suite, unreadable capture): nothing was run
    3  target or environment error (connection refused, DNS, no WebSocket handshake)
    4  no case selected (or `show` found no such case)
  141  stdout was closed by its reader (e.g. `| head`): stopped quietly";
