//! The `wsprobe` binary: parse the command line, run, map the outcome to an exit code.

fn main() -> std::process::ExitCode {
    map_large_buffers();
    wsprobe::cli::main()
}

/// Makes glibc serve every allocation of 1 MiB or more with its own mapping, returned to the
/// system when freed. By default glibc raises that threshold after freeing a large block, up to
/// 32 MiB, and then keeps freed multi-MiB message buffers in its heap: a run's RSS then grows
/// past the `--max-memory` budget that bounds what wsprobe holds. A fixed threshold keeps RSS
/// close to the budget (peak RSS of the flood run in tests/hostile.rs: 79–101 MB before, 55 MB
/// after).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn map_large_buffers() {
    // SAFETY: mallopt only changes allocator parameters; it is called before any other thread
    // exists and before wsprobe allocates anything that depends on the setting. A failure
    // (return 0) leaves glibc's defaults in place, which is harmless.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn map_large_buffers() {}
