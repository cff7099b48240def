//! cargo-fuzz target: see `wsprobe_fuzz::suite_loader`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wsprobe_fuzz::suite_loader(data));
