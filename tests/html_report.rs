//! The HTML report in a real browser: headless Chromium loads the page of a run against the
//! embedded server and of one against a faulty server, its script must finish without an error,
//! and the counts it shows must be those of the JSON report of the same run. A page with a
//! deliberate script error proves the error check can fail. Screenshots go to
//! `target/html-report/` for people to look at.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{chromium, root, temp_dir, wsprobe};
use wsprobe::serve::{Fault, ServeConfig, ServeMode, Server};

const LIMIT: Duration = Duration::from_secs(180);

/// The attribute value `name="…"` of the first element whose `id` is `id`.
fn attribute_of(dom: &str, id: &str, name: &str) -> Option<String> {
    let at = dom.find(&format!("id=\"{id}\""))?;
    let start = dom[..at].rfind('<')?;
    let end = at + dom[at..].find('>')?;
    let tag = &dom[start..end];
    let key = format!("{name}=\"");
    let v = tag.find(&key)? + key.len();
    Some(tag[v..v + tag[v..].find('"')?].to_string())
}

/// The `<html>` start tag of the dumped DOM.
fn html_tag(dom: &str) -> &str {
    let start = dom.find("<html").unwrap_or(0);
    let end = dom[start..].find('>').map_or(dom.len(), |e| start + e + 1);
    &dom[start..end]
}

/// Loads `page` and checks the script ran cleanly and the counts match `json`'s summary.
fn check_page(browser: &str, profile: &Path, page: &Path, json: &str, name: &str) {
    let dom = chromium::dump_dom(browser, profile, page);
    let html = html_tag(&dom);
    assert!(
        !html.contains("data-js-error"),
        "{name}: script error: {html}"
    );
    assert!(
        html.contains("data-js-ready=\"1\""),
        "{name}: script did not finish: {html}"
    );
    let summary: serde_json::Value = json
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|v| v.get("summary").cloned())
        .expect("a summary record");
    for (id, key) in [
        ("count-total", "total"),
        ("count-pass", "passed"),
        ("count-non-strict", "non_strict"),
        ("count-informational", "informational"),
        ("count-unimplemented", "unimplemented"),
        ("count-fail", "failed"),
        ("count-error", "errors"),
        ("count-skip", "skipped"),
    ] {
        let shown = attribute_of(&dom, id, "data-count")
            .unwrap_or_else(|| panic!("{name}: no #{id} in the page"));
        assert_eq!(
            shown,
            summary[key].to_string(),
            "{name}: #{id} shows {shown}, the JSON report says {}",
            summary[key]
        );
    }
    assert_eq!(
        dom.matches("class=\"yaml\"").count().to_string(),
        summary["total"].to_string(),
        "{name}: every case shows its YAML source"
    );
    let rows = dom.matches("<tr class=\"case").count();
    assert_eq!(
        rows.to_string(),
        summary["total"].to_string(),
        "{name}: one table row per case"
    );
    let shots = root().join("target/html-report");
    std::fs::create_dir_all(&shots).expect("screenshot directory");
    chromium::screenshot(browser, profile, page, &shots.join(format!("{name}.png")));
}

fn run_with_reports(dir: &Path, name: &str, args: &[&str]) -> (PathBuf, String, i32) {
    let html = dir.join(format!("{name}.html"));
    let json = dir.join(format!("{name}.jsonl"));
    let mut all = vec!["run", "-q"];
    all.extend_from_slice(args);
    let html_arg = format!("html={}", html.display());
    let json_arg = format!("json={}", json.display());
    all.extend_from_slice(&["--report", &html_arg, "--report", &json_arg]);
    let out = wsprobe(&all, LIMIT);
    assert!(out.code <= 1, "{name}: {}\n{}", out.stdout, out.stderr);
    let text = std::fs::read_to_string(&json).expect("json report");
    (html, text, out.code)
}

#[test]
fn html_reports_render_in_chromium_with_the_counts_of_the_json_report() {
    let Some(browser) = chromium::find() else {
        return;
    };
    let dir = temp_dir();
    let profile = dir.path().join("profile");

    let (page, json, code) = run_with_reports(
        dir.path(),
        "run-embedded",
        &["--case", "close.*", "--case", "ping.*", "--case", "1.1.*"],
    );
    assert_eq!(code, 0);
    check_page(browser, &profile, &page, &json, "run-embedded");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let server = rt
        .block_on(Server::start(ServeConfig {
            host: "127.0.0.1".into(),
            port: 0,
            mode: ServeMode::Fault(Fault::from_name("no-pong").expect("a fault")),
            max_message_size: 64 << 20,
        }))
        .expect("fault server");
    let url = server.url();
    let (page, json, code) = run_with_reports(
        dir.path(),
        "run-faulty",
        &[
            "--target",
            &url,
            "--case",
            "ping.*",
            "--timeout-scale",
            "0.5",
        ],
    );
    rt.block_on(server.shutdown());
    assert_eq!(code, 1, "the faulty server fails cases");
    assert!(json.contains("\"verdict\":\"FAIL\""));
    check_page(browser, &profile, &page, &json, "run-faulty");

    // Both runs side by side, read back from their JSON reports.
    let side = dir.path().join("side.html");
    let embedded = format!(
        "embedded={}",
        dir.path().join("run-embedded.jsonl").display()
    );
    let faulty = format!("faulty={}", dir.path().join("run-faulty.jsonl").display());
    let out = wsprobe(
        &[
            "report",
            "--html",
            side.to_str().expect("utf-8"),
            &embedded,
            &faulty,
        ],
        LIMIT,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let dom = chromium::dump_dom(browser, &profile, &side);
    let html = html_tag(&dom);
    assert!(!html.contains("data-js-error"), "script error: {html}");
    assert!(html.contains("data-js-ready=\"1\""), "{html}");
    let totals: Vec<usize> = ["run-embedded", "run-faulty"]
        .iter()
        .map(|name| {
            let text = std::fs::read_to_string(dir.path().join(format!("{name}.jsonl")))
                .expect("json report");
            text.lines().filter(|l| l.contains("\"verdict\"")).count()
        })
        .collect();
    for (i, total) in totals.iter().enumerate() {
        let shown = attribute_of(&dom, &format!("run-{i}"), "data-cases").expect("run row");
        assert_eq!(shown, total.to_string(), "run {i}");
    }
    // Every case of the faulty run is also in the embedded one: one row per embedded case,
    // one verdict cell per run in each.
    let rows = dom.matches("<tr class=\"case\"").count();
    assert_eq!(rows, totals[0]);
    assert_eq!(dom.matches("<td class=\"cell").count(), rows * 2);
    assert_eq!(
        dom.matches("data-verdict=\"missing\"").count(),
        totals[0] - totals[1]
    );
    let shots = root().join("target/html-report");
    chromium::screenshot(browser, &profile, &side, &shots.join("side-by-side.png"));
}

#[test]
fn the_error_check_catches_a_broken_script() {
    let Some(browser) = chromium::find() else {
        return;
    };
    let dir = temp_dir();
    let page = dir.path().join("broken.html");
    // The report's own error hook, then a script that throws.
    std::fs::write(
        &page,
        "<!doctype html><html><head><script>window.onerror=function(m){\
         document.documentElement.setAttribute('data-js-error',String(m));};</script>\
         <script>undefinedFunction();</script></head><body></body></html>",
    )
    .expect("write page");
    let dom = chromium::dump_dom(browser, &dir.path().join("profile"), &page);
    assert!(
        html_tag(&dom).contains("data-js-error"),
        "{}",
        html_tag(&dom)
    );
}

#[test]
fn the_overhead_page_renders_with_the_numbers_of_the_json_output() {
    let Some(browser) = chromium::find() else {
        return;
    };
    let dir = temp_dir();
    let page = dir.path().join("overhead.html");
    let a = root().join("fixtures/counter-ws.pcap");
    let b = root().join("fixtures/counter-poll-keepalive.pcap");
    let (a, b) = (a.to_str().expect("utf-8"), b.to_str().expect("utf-8"));
    let report = format!("html={}", page.display());
    let out = wsprobe(
        &[
            "overhead", a, "--vs", b, "--format", "json", "--report", &report,
        ],
        LIMIT,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("json output");
    let dom = chromium::dump_dom(browser, &dir.path().join("profile"), &page);
    let html = html_tag(&dom);
    assert!(!html.contains("data-js-error"), "script error: {html}");
    assert!(html.contains("data-js-ready=\"1\""), "{html}");
    for (i, side) in ["a", "b"].into_iter().enumerate() {
        for (attr, key) in [
            ("data-wire-bytes", "wire_bytes"),
            ("data-messages", "messages"),
        ] {
            let shown = attribute_of(&dom, &format!("capture-{i}"), attr).expect("capture row");
            assert_eq!(shown, json[side]["total"][key].to_string(), "{side} {key}");
        }
    }
    // One stacked bar per capture, each with its layers.
    assert_eq!(
        dom.matches("bytes per application message by layer")
            .count(),
        1
    );
    assert!(dom.contains("WebSocket headers + masks"));
    let shots = root().join("target/html-report");
    std::fs::create_dir_all(&shots).expect("screenshot directory");
    chromium::screenshot(
        browser,
        &dir.path().join("profile"),
        &page,
        &shots.join("overhead-vs.png"),
    );
}
