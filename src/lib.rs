//! wsprobe: a WebSocket (RFC 6455) conformance-test and protocol-inspection toolkit.
//!
//! The crate is one library with a thin binary on top. Modules are layered, lowest first; a
//! module uses only those above it in this list:
//!
//! | module | owns |
//! |---|---|
//! | [`wire`] | sans-IO RFC 6455: frames, masking, UTF-8, close codes, handshake, rules; HTTP/2 frames and HPACK |
//! | [`trace`] | the protocol trace model and its canonical rendering |
//! | [`suite`] | the YAML suite model, loading with source positions, validation, expansion |
//! | [`pcap`] | capture reading, TCP reassembly, dissection, byte accounting |
//! | [`net`] | transports: TCP, TLS (rustls), HTTP CONNECT proxies, HTTP/2 streams (RFC 8441) |
//! | [`runner`] | running cases over real sockets and judging them |
//! | [`serve`] | reference and deliberately faulty servers |
//! | [`report`] | terminal, JSON, JUnit, TAP and Autobahn-style reports |
//! | [`cli`] | command line, configuration, exit codes |

pub mod wire;

pub mod trace;

pub mod suite;

pub mod pcap;

pub mod net;

pub mod runner;

pub mod serve;

pub mod report;

pub mod cli;
