//! Every file in `fixtures/suites-invalid/` holds one kind of mistake; its rendered
//! diagnostics are pinned in `snapshots/suite_diagnostics__NAME.snap` (reviewed by hand: each
//! must point at the right line and column with the right caret).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use wsprobe::suite::{self, Source};

fn fixture_files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixture directory exists")
        .map(|e| e.expect("fixture directory is readable").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// Loads one fixture under a stable relative path and renders its diagnostics.
fn render(path: &Path) -> String {
    let name = path.file_name().expect("fixture has a name");
    let source = Source {
        path: Path::new("fixtures/suites-invalid").join(name),
        text: std::fs::read_to_string(path).expect("fixture is readable"),
    };
    let diagnostics = match suite::load(&[source]) {
        Ok(_) => panic!("{} loaded without diagnostics", path.display()),
        Err(d) => d,
    };
    diagnostics
        .iter()
        .map(|d| d.render())
        .collect::<Vec<_>>()
        .join("\n\n")
}

#[test]
fn invalid_suites_render_pinned_diagnostics() {
    let files = fixture_files("fixtures/suites-invalid");
    assert!(files.len() >= 21, "expected one fixture per error kind");
    for path in files {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("fixture names are UTF-8")
            .to_string();
        let rendered = render(&path);
        insta::with_settings!({
            snapshot_path => "../snapshots",
            prepend_module_to_snapshot => false,
            description => format!("fixtures/suites-invalid/{name}.yaml"),
        }, {
            insta::assert_snapshot!(format!("suite_diagnostics__{name}"), rendered);
        });
    }
}

#[test]
fn every_invalid_fixture_has_a_position_unless_impossible() {
    // Only file-level problems (an empty file) may lack a line.
    for path in fixture_files("fixtures/suites-invalid") {
        let source = Source {
            path: path.clone(),
            text: std::fs::read_to_string(&path).expect("fixture is readable"),
        };
        for d in suite::load(&[source]).expect_err("invalid fixture") {
            assert!(d.line.is_some() && d.column.is_some(), "{}", d.render());
            assert!(d.source_line.is_some(), "{}", d.render());
            assert!(d.caret_len >= 1, "{}", d.render());
            assert_eq!(
                d.message.chars().next().map(|c| c.is_uppercase()),
                Some(false),
                "messages are lower-case: {}",
                d.message
            );
        }
    }
}

#[test]
fn alias_bomb_fails_fast() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/suites-invalid/alias-bomb.yaml");
    let start = Instant::now();
    let rendered = render(&path);
    assert!(rendered.contains("repetition limit"), "{rendered}");
    // Generous for debug builds on a loaded CI machine; an unbounded expansion takes hours.
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "took {:?}",
        start.elapsed()
    );
}
