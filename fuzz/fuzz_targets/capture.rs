//! cargo-fuzz target: see `wsprobe_fuzz::capture`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wsprobe_fuzz::capture(data));
