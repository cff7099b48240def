//! Running suite cases over real sockets: the browser-faithful client state machine, every wait
//! bounded, expectations turned into verdicts. It may use `wire`, `suite`, `trace` and tokio.
