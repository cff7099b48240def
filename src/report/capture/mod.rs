//! Rendering of `wsprobe inspect` (text, JSON Lines, YAML) and `wsprobe overhead` (text table,
//! JSON) from the capture dissector's events and summaries. Pure conversions to text: the
//! caller chooses where the text goes. `inspect` is in `inspect.rs`, `overhead` in
//! `overhead.rs`.
//!
//! JSON field names are stable and documented in `docs/capture-output.md`; every event object
//! has `type`, and where they apply `conn`, `packet`, `time` (seconds since the first packet)
//! and `dir` (`c>s` or `s>c`).

mod html;
mod inspect;
mod overhead;

pub use html::overhead_html;
pub use inspect::{
    HEX_BYTES, InspectFormat, InspectView, InspectWriter, event_json, event_text, violation_line,
    yaml,
};
pub use overhead::{
    ledger_json, overhead_json, overhead_text, overhead_vs_json, overhead_vs_text,
    raw_tcp_lower_bound,
};
