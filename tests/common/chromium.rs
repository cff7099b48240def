//! Headless Chromium for the tests that load wsprobe's HTML reports in a real browser.
//! Absent Chromium skips those tests with a message, unless `WSPROBE_REQUIRE_CHROMIUM=1`
//! (set by `.ci/run`, which installs it) makes its absence a failure.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one Chromium invocation may take before it is killed.
const LIMIT: Duration = Duration::from_secs(90);

/// The Chromium binary, or `None` (with the reason printed) when the test should be skipped.
pub fn find() -> Option<&'static str> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        let found = Command::new(name)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if found {
            return Some(name);
        }
    }
    assert!(
        std::env::var_os("WSPROBE_REQUIRE_CHROMIUM").is_none_or(|v| v != "1"),
        "WSPROBE_REQUIRE_CHROMIUM=1 but no chromium binary was found"
    );
    eprintln!("skipped: chromium is not installed (apt-get install chromium)");
    None
}

/// Runs headless Chromium on `page` with `args` and returns its stdout; killed after a bound.
fn run(browser: &str, profile: &Path, args: &[&str], page: &Path) -> String {
    let url = format!("file://{}", page.display());
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut text);
        text
    });
    let deadline = Instant::now() + LIMIT;
    loop {
        if child.try_wait().expect("wait on chromium").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish {url} within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    reader.join().expect("stdout reader")
}

/// The page's DOM after its scripts ran (`--dump-dom`).
pub fn dump_dom(browser: &str, profile: &Path, page: &Path) -> String {
    run(browser, profile, &["--dump-dom"], page)
}

/// A screenshot of the page written to `png`.
pub fn screenshot(browser: &str, profile: &Path, page: &Path, png: &Path) {
    let shot = format!("--screenshot={}", png.display());
    run(
        browser,
        profile,
        &[&shot, "--window-size=1280,2400", "--hide-scrollbars"],
        page,
    );
    assert!(
        png.is_file(),
        "chromium wrote no screenshot {}",
        png.display()
    );
}
