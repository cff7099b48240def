//! Replays every checked-in fuzz input (`fuzz/corpus/<target>/*`) through the same functions the
//! cargo-fuzz targets call, on stable Rust: the seeds and every regression input found by
//! fuzzing keep being checked on each `cargo test`, without nightly or cargo-fuzz.

#[path = "../fuzz/src/lib.rs"]
mod targets;

use std::path::PathBuf;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no inputs", dir.display());
    for file in &files {
        let data = std::fs::read(file).expect("a corpus file reads");
        // A panic names the input, so a failure is reproducible with `cargo fuzz run`.
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{} panicked on {}", target, file.display());
    }
}

#[test]
fn wire_decoder_corpus() {
    replay("wire_decoder", targets::wire_decoder);
}

#[test]
fn handshake_corpus() {
    replay("handshake", targets::handshake);
}

#[test]
fn suite_loader_corpus() {
    replay("suite_loader", targets::suite_loader);
}

#[test]
fn capture_corpus() {
    replay("capture", targets::capture);
}
