//! Transports below the WebSocket session; here, tunnels through HTTP proxies (CONNECT).

pub mod proxy;
