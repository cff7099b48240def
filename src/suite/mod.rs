//! Conformance suites: the YAML model, loading with source positions, validation and case
//! expansion. It may use `wire`, serde and serde_yaml; serde_yaml never leaves this module.

mod duration;
pub mod model;

pub use duration::{DurationError, format_duration, parse_duration};
