//! Exit codes of the `wsprobe` binary, the single place they are defined.

/// Every selected case passed (NON-STRICT and INFORMATIONAL allowed unless `--strict`); a
/// command that does not judge anything finished normally.
pub const OK: u8 = 0;
/// At least one case failed, a snapshot did not match, or `inspect --check` found violations.
pub const FAILURE: u8 = 1;
/// Usage error or invalid input (bad suite, unreadable capture, unknown flag): nothing was run.
pub const USAGE: u8 = 2;
/// The target or the environment failed (connection refused, DNS, address in use).
pub const ENVIRONMENT: u8 = 3;
/// The filters selected no case.
pub const NO_CASES: u8 = 4;

/// The exit-code table as printed at the end of `wsprobe --help`.
pub const HELP_TABLE: &str = "\
Exit codes:
  0  all selected cases passed (NON-STRICT and INFORMATIONAL allowed unless --strict)
  1  at least one case failed, a snapshot mismatched, or inspect --check found violations
  2  usage error or invalid input (bad suite, unreadable capture): nothing was run
  3  target or environment error (connection refused, DNS, address in use)
  4  no case selected";
