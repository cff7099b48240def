//! The protocol trace model: connections made of ordered events, and its canonical rendering.
//!
//! A trace is what happened on one connection, live or captured: handshake, frames, ready-state
//! changes, browser-API events, TCP close, violations. It may use `wire` and serde only.
