//! Reports as pure conversions of run results: colored terminal, JSON, JUnit, TAP and an
//! Autobahn-compatible `index.json`. It may use `suite`, `trace` and the runner's result types.
