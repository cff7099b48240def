//! The live progress line drawn on stderr while a run is under way (only on a terminal):
//! elapsed time, cases done of the total, failures so far and the ids of the cases running now,
//! e.g. `00:00:12 [ 42/301] 3 failed · running close.1000-echo, ping.125-bytes (+4)`. It is
//! drawn with `indicatif`, which redraws it in place, cuts it to the terminal width and wipes
//! it when the run ends; case lines printed meanwhile go through [`Live::suspend`] so the two
//! never mix on the screen.

use std::collections::BTreeMap;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::text::{Scrub, Style, paint};
use crate::runner::result::{CaseResult, Verdict};

/// How many running case ids the line names before `(+N)`.
const SHOWN_RUNNING: usize = 3;

/// The progress line of one run.
pub struct Live {
    bar: ProgressBar,
    /// Running cases by index, so they are named in case order.
    running: BTreeMap<usize, String>,
    failed: usize,
    color: bool,
    scrub: Scrub,
}

impl Live {
    /// A progress line for `total` cases on stderr, redrawn at least every 200 ms so the
    /// elapsed time moves while a slow case runs.
    pub fn new(total: usize, color: bool) -> Live {
        Live::with_target(total, color, ProgressDrawTarget::stderr())
    }

    /// A progress line drawn nowhere: its text can still be read with [`Live::message`].
    pub fn hidden(total: usize) -> Live {
        Live::with_target(total, false, ProgressDrawTarget::hidden())
    }

    fn with_target(total: usize, color: bool, target: ProgressDrawTarget) -> Live {
        let bar = ProgressBar::with_draw_target(Some(total as u64), target);
        let digits = total.to_string().len();
        // The template is a constant that indicatif accepts; fall back to its default style
        // rather than fail a run over a cosmetic line.
        if let Ok(style) = ProgressStyle::with_template(&format!(
            "{{elapsed_precise}} [{{pos:>{digits}}}/{{len}}] {{wide_msg}}"
        )) {
            bar.set_style(style);
        }
        if !bar.is_hidden() {
            bar.enable_steady_tick(Duration::from_millis(200));
        }
        Live {
            bar,
            running: BTreeMap::new(),
            failed: 0,
            color,
            scrub: Scrub::default(),
        }
    }

    /// Case `index` started.
    pub fn started(&mut self, index: usize, id: &str) {
        self.running.insert(index, self.scrub.clean(id));
        self.redraw();
    }

    /// Case `index` finished.
    pub fn finished(&mut self, index: usize, result: &CaseResult) {
        self.running.remove(&index);
        if matches!(result.verdict, Verdict::Fail | Verdict::Error) {
            self.failed += 1;
        }
        self.bar.inc(1);
        self.redraw();
    }

    /// Runs `f` (which prints) with the line wiped, then draws the line again.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.bar.suspend(f)
    }

    /// The text after the counter: failures so far and the running cases.
    pub fn message(&self) -> String {
        message(
            self.failed,
            &self
                .running
                .values()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            self.color,
        )
    }

    fn redraw(&self) {
        self.bar.set_message(self.message());
    }

    /// Wipes the line: the report that follows starts on a clean line.
    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}

/// `3 failed · running a, b, c (+4)`: the failure count only when there are failures, at most
/// [`SHOWN_RUNNING`] ids.
pub fn message(failed: usize, running: &[&str], color: bool) -> String {
    let mut parts = Vec::new();
    if failed > 0 {
        parts.push(paint(&format!("{failed} failed"), Style::RedBold, color));
    }
    if !running.is_empty() {
        let mut names = running[..running.len().min(SHOWN_RUNNING)].join(", ");
        if running.len() > SHOWN_RUNNING {
            names.push_str(&format!(" (+{})", running.len() - SHOWN_RUNNING));
        }
        parts.push(format!("running {names}"));
    }
    parts.join(" · ")
}
