//! cargo-fuzz target: see `wsprobe_fuzz::wire_decoder`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wsprobe_fuzz::wire_decoder(data));
