//! `wsprobe report --html OUT [NAME=]RUN.jsonl…`: several runs side by side in one HTML page,
//! read back from their JSON Lines reports (`run --report json=FILE` or `--format json`).

use std::path::PathBuf;

use super::error::{self, CliError};
use super::exit;
use crate::report::html::matrix::{Case, Run};
use crate::runner::result::Verdict;

/// Arguments of `wsprobe report`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  wsprobe run --target ws://127.0.0.1:9001/ --report json=server-a.jsonl
  wsprobe run --target ws://127.0.0.1:9002/ --report json=server-b.jsonl
  wsprobe report --html side-by-side.html a=server-a.jsonl b=server-b.jsonl")]
pub struct ReportArgs {
    /// Write the side-by-side page here.
    #[arg(long, value_name = "FILE")]
    html: PathBuf,
    /// JSON Lines reports of earlier runs, each optionally named NAME=FILE (the column heading;
    /// default: the file name).
    #[arg(value_name = "[NAME=]RUN.jsonl", required = true)]
    runs: Vec<String>,
}

/// `wsprobe report`.
pub fn report(args: ReportArgs) -> Result<u8, CliError> {
    let runs = args
        .runs
        .iter()
        .map(|spec| read_run(spec))
        .collect::<Result<Vec<_>, _>>()?;
    let page = crate::report::html::matrix::render(&runs);
    crate::report::write_file(&args.html, &page).map_err(|e| {
        CliError::environment(format!("cannot write report {}: {e}", args.html.display()))
    })?;
    error::print(&format!(
        "wrote {} ({} runs, {} cases)\n",
        args.html.display(),
        runs.len(),
        runs.iter().map(|r| r.cases.len()).max().unwrap_or(0)
    ))?;
    Ok(exit::OK)
}

/// One run: `NAME=FILE` or `FILE`. A line that is not a case or summary record is an error
/// naming the file and line.
fn read_run(spec: &str) -> Result<Run, CliError> {
    let (label, path) = match spec.split_once('=') {
        Some((name, path)) if !name.is_empty() && !std::path::Path::new(spec).exists() => {
            (name.to_string(), PathBuf::from(path))
        }
        _ => {
            let path = PathBuf::from(spec);
            let name = path
                .file_stem()
                .map_or_else(|| spec.to_string(), |s| s.to_string_lossy().into_owned());
            (name, path)
        }
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
    let mut run = Run {
        label,
        target: String::new(),
        cases: Vec::new(),
    };
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = || format!("{}:{}", path.display(), n + 1);
        let value: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| CliError::usage(format!("{}: not JSON: {e}", at())))?;
        if let Some(summary) = value.get("summary") {
            run.target = summary["target"].as_str().unwrap_or_default().to_string();
            continue;
        }
        if value.get("expectations").is_some() {
            continue;
        }
        let field = |name: &str| value.get(name).and_then(|v| v.as_str());
        let (Some(id), Some(verdict)) = (field("id"), field("verdict")) else {
            return Err(CliError::usage(format!(
                "{}: not a wsprobe case record (no id and verdict)",
                at()
            )));
        };
        let verdict = Verdict::from_name(verdict)
            .ok_or_else(|| CliError::usage(format!("{}: unknown verdict '{verdict}'", at())))?;
        run.cases.push(Case {
            id: id.to_string(),
            autobahn: field("autobahn").map(str::to_string),
            suite: field("suite").unwrap_or_default().to_string(),
            title: field("title").unwrap_or_default().to_string(),
            verdict,
            summary: value
                .get("failure")
                .and_then(|f| f.get("summary"))
                .and_then(|s| s.as_str())
                .map(str::to_string),
        });
    }
    if run.cases.is_empty() {
        return Err(CliError::usage(format!(
            "{}: no case records (a JSON Lines report of wsprobe run?)",
            path.display()
        )));
    }
    Ok(run)
}
